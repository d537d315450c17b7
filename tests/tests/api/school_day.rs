//! A school day under faults (`make test-faults`, ignored by `make test`): with about 10%
//! of AWS calls failing (DynamoDB throttling, 500s and transaction conflicts, SES
//! throttling, S3 SlowDown and 500s, added latency), people join by link and by
//! invitation, an admin decides, a teacher creates groups and posts, files are uploaded,
//! an export and a roster import run, and mail goes out. Then, with the faults off, it
//! checks the promises: no answer was a 500 (a fault answers 503 `unavailable` with
//! `Retry-After`); every request answered 2xx took effect exactly once; every POST that
//! failed, retried with its `Idempotency-Key`, takes effect once; every mail due was sent
//! exactly once (the emulator's mail log), none given up on; the export and the import
//! finished. It prints what was injected and what was checked.
//!
//! Its faults are the emulator's, for every request: it runs alone in its process
//! (`cargo test -p kabinet-tests --test api school_day -- --ignored`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use kabinet_tests::support::{
    add_to_group, class_row, client, dynamodb, enrol, enrollment_row, env, in_days, injected_faults, journal_zip, link,
    new_group, school, send, start_exporter, start_importer, student, teacher, user_row, Faults, Resp, User,
};

/// About one AWS call in ten fails, by kind; a tenth of calls are slowed down.
fn faults() -> Value {
    json!({
        "dynamodb:*:throttle": 0.04,
        "dynamodb:*:throughput": 0.02,
        "dynamodb:*:internal": 0.02,
        "dynamodb:*:conflict": 0.02,
        "sesv2:*:too_many": 0.1,
        "s3:*:slowdown": 0.07,
        "s3:*:internal": 0.03,
        "*:*:latency_ms": {"rate": 0.1, "ms": 150},
        "seed": 31,
    })
}

/// A third of DynamoDB's calls throttled: a request of a few calls often outlasts the
/// route's three tries.
fn storm() -> Value {
    json!({"dynamodb:*:throttle": 0.35, "seed": 32})
}

/// One request of the day: its answers, first to last (a 503 is retried with the same
/// `Idempotency-Key` after its `Retry-After`, as a client does).
struct Call {
    what: &'static str,
    answers: Vec<(u16, Option<String>)>,
}

/// The day's requests; POSTs carry an `Idempotency-Key`.
struct Day {
    run: String,
    keys: AtomicUsize,
    calls: Mutex<Vec<Call>>,
}

impl Day {
    fn new() -> Day {
        Day { run: ulid::Ulid::new().to_string().to_lowercase(), keys: AtomicUsize::new(0), calls: Mutex::new(vec![]) }
    }

    /// A request of the day, sent until it is answered other than 503 (each answer
    /// checked never to be a 500); the last answer. `headers` are made for each try (an
    /// `If-Match` read again).
    async fn call<H, F>(
        &self,
        what: &'static str,
        who: &User,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: H,
    ) -> Resp
    where
        H: Fn() -> F,
        F: std::future::Future<Output = Vec<(String, String)>>,
    {
        let n = self.keys.fetch_add(1, Ordering::SeqCst);
        let key = (method == Method::POST).then(|| format!("day-{}-{n}", self.run));
        let mut answers = Vec::new();
        for _ in 0..MAX_TRIES {
            let mut all = headers().await;
            if let Some(k) = &key {
                all.push(("idempotency-key".into(), k.clone()));
            }
            let refs: Vec<(&str, &str)> = all.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            let r = who.call(method.clone(), path, body.clone(), &refs).await;
            answered_well(what, &r);
            answers.push((r.status, r.body["code"].as_str().map(str::to_owned)));
            if r.status != 503 {
                self.calls.lock().unwrap().push(Call { what, answers });
                return r;
            }
            let wait: u64 = r.header("retry-after").and_then(|s| s.parse().ok()).unwrap_or(1);
            tokio::time::sleep(Duration::from_secs(wait)).await;
        }
        panic!("{what} {path}: 503 {MAX_TRIES} times");
    }

    async fn post(&self, what: &'static str, who: &User, path: &str, body: Value) -> Resp {
        self.call(what, who, Method::POST, path, Some(body), || async { vec![] }).await
    }

    async fn get(&self, who: &User, path: &str) -> Resp {
        self.call("read", who, Method::GET, path, None, || async { vec![] }).await
    }
}

/// Tries of one request before the day gives up on it.
const MAX_TRIES: usize = 15;

/// A failure a client sees is a clear one: never a 500, and a fault is a retryable 503.
#[track_caller]
fn answered_well(what: &str, r: &Resp) {
    assert!(r.status != 500, "{what}: a 500: {}", r.text);
    if r.status >= 500 {
        assert_eq!((r.status, r.body["code"].as_str()), (503, Some("unavailable")), "{what}: {}", r.text);
        assert!(r.header("retry-after").is_some(), "{what}: a 503 without Retry-After");
        assert!(!r.text.contains("Exception") && !r.text.contains("SlowDown"), "{what}: AWS's words: {}", r.text);
    }
}

/// Every item of a list, all pages (faults off).
async fn all_items(who: &User, path: &str) -> Vec<Value> {
    let (mut items, mut cursor) = (Vec::new(), None::<String>);
    let sep = if path.contains('?') { '&' } else { '?' };
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit=200&cursor={c}"),
            None => format!("{path}{sep}limit=200"),
        };
        let page = who.get(&url).await.ok(200).clone();
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return items,
        }
    }
}

/// How many items of `items` have `field` equal to each value.
fn tally(items: &[Value], field: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for i in items {
        *out.entry(i[field].as_str().unwrap_or_default().to_string()).or_default() += 1;
    }
    out
}

/// A presigned PUT, retried as a browser's upload is while S3 answers 503 or 500.
async fn put_retried(upload: &Value, bytes: &[u8]) {
    for _ in 0..MAX_TRIES {
        let mut rb = client().put(upload["url"].as_str().unwrap());
        for (k, v) in upload["headers"].as_object().expect("upload headers") {
            rb = rb.header(k.as_str(), v.as_str().unwrap());
        }
        let status = rb.body(bytes.to_vec()).send().await.map_or(0, |r| r.status().as_u16());
        if status == 200 {
            return;
        }
        assert!(status == 0 || status >= 500, "the PUT answered {status}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("the PUT never went through");
}

/// The school's journal: a teacher and `n` pupils of one class, each with an address to
/// invite.
fn journal(n: usize, tag: &str) -> Vec<u8> {
    let mut users = vec![user_row("jt", "teacher", "Ольга", "Журнальная", "jt", &journal_email("jt", tag), "")];
    let mut enrollments = vec![enrollment_row("ejt", "c7a", "jt", "teacher", true)];
    for i in 0..n {
        let id = format!("jp{i}");
        users.push(user_row(&id, "student", "Ученик", &format!("Журнальный{i}"), &id, &journal_email(&id, tag), ""));
        enrollments.push(enrollment_row(&format!("e{id}"), "c7a", &id, "student", false));
    }
    journal_zip(&[class_row("c7a", "7А")], &users, &enrollments)
}

fn journal_email(id: &str, tag: &str) -> String {
    format!("{id}.{tag}@school.test")
}

const JOINERS: usize = 20;
const INVITEES: usize = 20;
const NEW_GROUPS: usize = 6;
const ANNOUNCEMENTS: usize = 10;
const THREADS: usize = 10;
const FILES: usize = 6;
const STORM: usize = 8;
const JOURNAL: usize = 60;

/// A person joining by the link: the request, then the admin's decision.
async fn join_by_link(day: &Day, u: &User, admin: &User, org: &str, token: &str) {
    let r = day.post("invite-links-accept", u, &format!("/v1/invite-links/{token}/accept"), json!({})).await;
    let id = r.ok(201)["id"].as_str().unwrap().to_string();
    let path = format!("/v1/orgs/{org}/join-requests/{id}");
    let etag = || async {
        let r = day.get(admin, &path).await;
        vec![("if-match".to_string(), r.header("etag").unwrap_or("\"v1\"").to_string())]
    };
    let d =
        day.call("join-requests-accept", admin, Method::POST, &format!("{path}/accept"), Some(json!({})), etag).await;
    // A try that was answered 503 may have decided it: then the next one is told so.
    if d.status != 200 {
        d.problem(409, "already_decided");
    }
}

/// An invited person accepting.
async fn accept_invitation(day: &Day, u: &User, id: &str) {
    let a = day.post("invitations-accept", u, &format!("/v1/me/invitations/{id}/accept"), json!({})).await;
    if a.status != 200 {
        assert!(matches!(a.body["code"].as_str(), Some("already_decided" | "already_member")), "{}", a.text);
    }
}

/// A file shared in the group: started, put, completed.
async fn share_file(day: &Day, teacher: &User, group: &str, i: usize) {
    let bytes: Vec<u8> = (0..2048 + i).map(|b| (b % 251) as u8).collect();
    let body = json!({"name": file_name(i), "size": bytes.len(), "content_type": "application/pdf"});
    let started = day.post("files-create", teacher, &format!("{group}/files"), body).await.ok(201).clone();
    put_retried(&started["upload"], &bytes).await;
    let id = started["file"]["id"].as_str().unwrap();
    let done = day.post("files-complete", teacher, &format!("{group}/files/{id}/complete"), json!({})).await;
    assert_eq!(done.ok(200)["status"], "ready");
}

fn file_name(i: usize) -> String {
    format!("Конспект {i}.pdf")
}

/// An export asked for and waited for; its view once ready.
async fn export(day: &Day, admin: &User, org: &str) -> Value {
    let body = json!({"kind": "employees", "format": "csv"});
    let asked = day.post("exports-create", admin, &format!("/v1/orgs/{org}/exports"), body).await.ok(202).clone();
    let path = format!("/v1/orgs/{org}/exports/{}", asked["id"].as_str().unwrap());
    for _ in 0..600 {
        let view = day.get(admin, &path).await.ok(200).clone();
        if view["status"] != "pending" {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the export never finished");
}

/// The journal imported: created, uploaded, started, waited for; the import once finished.
async fn import(day: &Day, admin: &User, org: &str, bytes: Vec<u8>) -> Value {
    let body = json!({"file_name": "journal.zip", "size": bytes.len()});
    let created = day.post("imports-create", admin, &format!("/v1/orgs/{org}/imports"), body).await.ok(201).clone();
    put_retried(&created["upload"], &bytes).await;
    let path = format!("/v1/orgs/{org}/imports/{}", created["import"]["id"].as_str().unwrap());
    let started = day.post("imports-start", admin, &format!("{path}/start"), json!({"invite": true})).await;
    if started.status != 202 {
        // A try answered 503 had started it.
        started.problem(409, "already_started");
    }
    for _ in 0..900 {
        let view = day.get(admin, &path).await.ok(200).clone();
        if view["status"] == "done" || view["status"] == "failed" {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the import never finished");
}

/// The mail that is due, by address: what its subject or text must contain, once each.
type Due = BTreeMap<String, Vec<String>>;

/// All mail sent so far, by address.
async fn all_mail() -> BTreeMap<String, Vec<Value>> {
    let all = send(Method::GET, "/_local/mail", None, None, &[]).await;
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for m in all.body["items"].as_array().into_iter().flatten() {
        for to in m["to"].as_array().into_iter().flatten() {
            out.entry(to.as_str().unwrap_or_default().to_string()).or_default().push(m.clone());
        }
    }
    out
}

/// Waits (bounded) until every mail due has come; answers all mail to those addresses.
async fn mail_due(due: &Due) -> BTreeMap<String, Vec<Value>> {
    let mut got = BTreeMap::new();
    for _ in 0..200 {
        let mut all = all_mail().await;
        got = due.keys().map(|to| (to.clone(), all.remove(to).unwrap_or_default())).collect();
        let complete = due.iter().all(|(to, wants)| wants.iter().all(|w| !matching(&got[to], w).is_empty()));
        if complete {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    got
}

fn matching<'a>(mail: &'a [Value], what: &str) -> Vec<&'a Value> {
    mail.iter()
        .filter(|m| {
            m["subject"].as_str().unwrap_or_default().contains(what)
                || m["text"].as_str().unwrap_or_default().contains(what)
        })
        .collect()
}

/// The mail sends the table records, by state: a send claimed and never marked sent
/// (`sending` after the day) is a mail that may have gone and would go again when its
/// event came back.
async fn sends_by_state() -> BTreeMap<String, usize> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (db, table) = (dynamodb().await, env().await.config.table.clone());
    let (mut out, mut start) = (BTreeMap::new(), None);
    loop {
        let page = db
            .scan()
            .table_name(&table)
            .filter_expression("sk = :sent")
            .expression_attribute_values(":sent", AttributeValue::S("SENT".into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan the sends");
        for item in page.items() {
            let state = item["state"].as_s().map(String::as_str).unwrap_or("?");
            *out.entry(state.to_string()).or_default() += 1;
        }
        match page.last_evaluated_key() {
            Some(k) => start = Some(k.clone()),
            None => return out,
        }
    }
}

/// What the emulator injected between two of its counts, by service and kind.
fn injected_between(before: &Value, after: &Value) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (service, ops) in after.as_object().into_iter().flatten() {
        for (op, kinds) in ops.as_object().into_iter().flatten() {
            for (kind, n) in kinds.as_object().into_iter().flatten() {
                let was = before[service][op][kind].as_u64().unwrap_or(0);
                let n = n.as_u64().unwrap_or(0) - was;
                if n > 0 {
                    *out.entry(format!("{service} {kind}")).or_default() += n;
                }
            }
        }
    }
    out
}

#[tokio::test]
#[ignore = "a few minutes under faults, alone in its process: make test-faults"]
async fn school_day_under_faults() {
    // The morning, before the faults: a school, a class, a teacher and a group of pupils.
    let admin = User::new("Директор Дня");
    let (org, classes) = school(&admin, "2026/2027", &[(7, "Б")]).await;
    let class = classes[0].clone();
    let role = teacher("Учитель истории", &[&class]);
    let teacher = enrol(&admin, &org, "Учитель Дня", json!([role])).await;
    let mut pupils = Vec::new();
    for i in 0..4 {
        pupils.push(enrol(&admin, &org, &format!("Ученик {i}"), json!([student(&class)])).await);
    }
    let group = new_group(&admin, &org, "7Б история").await["id"].as_str().unwrap().to_string();
    let mut members: Vec<&User> = vec![&teacher];
    members.extend(pupils.iter());
    assert!(add_to_group(&admin, &org, &group, &members).await.iter().all(|s| s == "added"));
    let link_body = json!({"expires_at": in_days(5), "max_uses": null, "roles": [student(&class)]});
    let (token, _) = link(&admin, &org, link_body).await;
    start_importer().await;
    start_exporter().await;
    let joiners: Vec<User> = (0..JOINERS).map(|i| User::new(&format!("Пришедший {i}-й"))).collect();
    let invitees: Vec<User> = (0..INVITEES).map(|i| User::new(&format!("Приглашённый {i}"))).collect();
    let o = format!("/v1/orgs/{org}");
    let g = format!("{o}/groups/{group}");
    let day = Day::new();
    // The pupils' mail of the morning (added to the group) came before the day.
    for p in &pupils {
        assert_eq!(kabinet_tests::support::await_mail(&p.email, 1).await.len(), 1);
    }
    let given_up = kabinet_local::streams::GIVEN_UP.load(Ordering::SeqCst);

    // The day, under faults: everything at once, as a school's morning is.
    let before = injected_faults().await;
    let faults = Faults::set(faults()).await;
    let started = std::time::Instant::now();
    let emails: Vec<String> = invitees.iter().map(|u| u.email.clone()).collect();
    let invite = async {
        let body = json!({"emails": emails, "role": student(&class)});
        let r = day.post("invitations-create", &admin, &format!("{o}/invitations"), body).await.ok(200).clone();
        let results = r["results"].as_array().unwrap().clone();
        assert!(results.iter().all(|x| x["status"] == "invited"), "{results:#?}");
        let accepting = invitees
            .iter()
            .zip(&results)
            .map(|(u, x)| accept_invitation(&day, u, x["invitation_id"].as_str().unwrap()));
        join_all(accepting).await;
    };
    let create_groups = join_all((0..NEW_GROUPS).map(|i| {
        let (day, admin, o) = (&day, &admin, &o);
        async move {
            day.post("groups-create", admin, &format!("{o}/groups"), json!({"name": format!("Кружок {i}")}))
                .await
                .ok(201);
        }
    }));
    let announce = join_all((0..ANNOUNCEMENTS).map(|i| {
        let body = json!({"title": format!("Объявление {i}"), "body": format!("Текст объявления номер {i}.")});
        let (day, teacher, g) = (&day, &teacher, &g);
        async move {
            let r = day.post("announcements-create", teacher, &format!("{g}/announcements"), body).await;
            // Mailed unless the group had its 3 announcement emails of the hour.
            (i, r.ok(201)["mailed"].as_bool().unwrap())
        }
    }));
    let discuss = join_all((0..THREADS).map(|i| {
        let (day, teacher, g, pupil) = (&day, &teacher, &g, &pupils[i % pupils.len()]);
        async move {
            let body = json!({"title": format!("Вопрос {i}"), "body": "Как решать?"});
            let t = day.post("threads-create", pupil, &format!("{g}/threads"), body).await.ok(201).clone();
            let id = t["id"].as_str().unwrap();
            let reply = json!({"body": format!("Ответ на вопрос {i}")});
            day.post("replies-create", teacher, &format!("{g}/threads/{id}/replies"), reply).await.ok(201);
        }
    }));
    let share = join_all((0..FILES).map(|i| share_file(&day, &teacher, &g, i)));
    let joining = join_all(joiners.iter().map(|u| join_by_link(&day, u, &admin, &org, &token)));
    let ((), _, announced, _, _, _, exported, imported) = tokio::join!(
        invite,
        create_groups,
        announce,
        discuss,
        share,
        joining,
        export(&day, &admin, &org),
        import(&day, &admin, &org, journal(JOURNAL, &day.run)),
    );
    let day_took = started.elapsed();
    let (mailed, unmailed): (Vec<_>, Vec<_>) = announced.into_iter().partition(|(_, mailed)| *mailed);
    let mailed: Vec<usize> = mailed.into_iter().map(|(i, _)| i).collect();
    let unmailed: Vec<usize> = unmailed.into_iter().map(|(i, _)| i).collect();
    assert_eq!(mailed.len(), 3.min(ANNOUNCEMENTS), "a group's first 3 announcements of the hour are mailed");
    let record_ids: Vec<String> =
        std::iter::once("jt".to_string()).chain((0..JOURNAL).map(|i| format!("jp{i}"))).collect();
    // Every mail due, once: the admin's (a join request each, the export), the joiners'
    // (accepted), the invitees' (the invitation), the pupils' (each announcement), the
    // journal's people (the school's invitation).
    let mut due = Due::new();
    due.insert(
        admin.email.clone(),
        joiners.iter().map(|u| u.name.clone()).chain(["статистика по сотрудникам".to_string()]).collect(),
    );
    for u in &joiners {
        due.insert(u.email.clone(), vec![org_name()]);
    }
    for u in &invitees {
        due.insert(u.email.clone(), vec!["Приглашение".into()]);
    }
    for p in &pupils {
        due.insert(p.email.clone(), mailed.iter().map(|i| format!("Текст объявления номер {i}.")).collect());
    }
    for id in &record_ids {
        due.insert(journal_email(id, &day.run), vec![org_name()]);
    }
    // The mail goes out under the faults too.
    mail_due(&due).await;
    let mailed_took = started.elapsed();
    faults.clear().await;

    // A storm: a third of DynamoDB's calls throttled, so that requests outlast the SDK's
    // retries and answer 503; each is retried with its Idempotency-Key.
    let storm = Faults::set(storm()).await;
    join_all((0..STORM).map(|i| {
        let (day, admin, teacher, o, g, pupil) = (&day, &admin, &teacher, &o, &g, &pupils[i % pupils.len()]);
        async move {
            day.post("groups-create", admin, &format!("{o}/groups"), json!({"name": format!("Буря {i}")}))
                .await
                .ok(201);
            let body = json!({"title": format!("Вопрос в бурю {i}"), "body": "Что задано?"});
            let t = day.post("threads-create", pupil, &format!("{g}/threads"), body).await.ok(201).clone();
            let id = t["id"].as_str().unwrap();
            let reply = json!({"body": format!("Ответ в бурю {i}")});
            day.post("replies-create", teacher, &format!("{g}/threads/{id}/replies"), reply).await.ok(201);
        }
    }))
    .await;
    storm.clear().await;
    let injected = injected_between(&before, &injected_faults().await);

    // With the faults off: each effect once.
    let mut writes = 0;
    let once = |tallied: &BTreeMap<String, usize>, wanted: &[String], what: &str| {
        for w in wanted {
            assert_eq!(tallied.get(w), Some(&1), "{what} {w}: {tallied:?}");
        }
        wanted.len()
    };
    let groups = tally(&all_items(&admin, &format!("{o}/groups")).await, "name");
    let new_groups = (0..NEW_GROUPS).map(|i| format!("Кружок {i}")).chain((0..STORM).map(|i| format!("Буря {i}")));
    writes += once(&groups, &new_groups.collect::<Vec<_>>(), "group");
    let posts = tally(&all_items(&teacher, &format!("{g}/announcements")).await, "title");
    writes += once(&posts, &(0..ANNOUNCEMENTS).map(|i| format!("Объявление {i}")).collect::<Vec<_>>(), "announcement");
    let threads = all_items(&teacher, &format!("{g}/threads")).await;
    let titles = (0..THREADS).map(|i| format!("Вопрос {i}")).chain((0..STORM).map(|i| format!("Вопрос в бурю {i}")));
    writes += once(&tally(&threads, "title"), &titles.collect::<Vec<_>>(), "thread");
    for t in &threads {
        let replies = all_items(&teacher, &format!("{g}/threads/{}/replies", t["id"].as_str().unwrap())).await;
        assert_eq!(replies.len(), 1, "one reply to {}: {replies:#?}", t["title"]);
        writes += 1;
    }
    let files = all_items(&teacher, &format!("{g}/files")).await;
    writes += once(&tally(&files, "name"), &(0..FILES).map(file_name).collect::<Vec<_>>(), "file");
    assert!(files.iter().all(|f| f["status"] == "ready"), "{files:#?}");
    let requests = all_items(&admin, &format!("{o}/join-requests")).await;
    let joiner_ids: Vec<String> = joiners.iter().map(|u| u.sub.clone()).collect();
    writes += once(&tally(&requests, "user_id"), &joiner_ids, "join request of");
    assert!(requests.iter().all(|r| r["status"] == "accepted"), "{requests:#?}");
    let invitations = all_items(&admin, &format!("{o}/invitations")).await;
    writes += once(&tally(&invitations, "email"), &emails, "invitation of");
    assert!(invitations.iter().all(|i| i["status"] == "accepted"), "{invitations:#?}");
    let people = tally(&all_items(&admin, &format!("{o}/members")).await, "user_id");
    let newcomers: Vec<String> = joiner_ids.iter().cloned().chain(invitees.iter().map(|u| u.sub.clone())).collect();
    writes += once(&people, &newcomers, "member");
    assert_eq!(exported["status"], "ready", "{exported:#}");
    writes += 1;
    assert_eq!(imported["status"], "done", "{imported:#}");
    let c = &imported["counts"];
    assert_eq!(
        (c["users"].as_u64(), c["classes"].as_u64(), c["enrollments"].as_u64()),
        (Some(JOURNAL as u64 + 1), Some(1), Some(JOURNAL as u64 + 1)),
        "{imported:#}"
    );
    assert_eq!((c["errors"].as_u64(), c["created"].as_u64()), (Some(0), Some(2 * JOURNAL as u64 + 3)), "{imported:#}");
    let records = all_items(&admin, &format!("{o}/roster")).await;
    writes += once(&tally(&records, "id"), &record_ids, "roster record");

    // Whatever came late (a redelivery's second send) has come too.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = mail_due(&due).await;
    let (mut sent_once, mut duplicates, mut lost) = (0, 0, 0);
    for (to, wants) in &due {
        for w in wants {
            match matching(&got[to], w).len() {
                0 => {
                    println!("lost: {w:?} to {to}");
                    lost += 1
                }
                1 => sent_once += 1,
                _ => duplicates += 1,
            }
        }
        // No two emails alike at all.
        let mut seen = BTreeMap::new();
        for m in &got[to] {
            *seen.entry((m["subject"].to_string(), m["text"].to_string())).or_insert(0) += 1;
        }
        duplicates += seen.values().filter(|n| **n > 1).count();
    }
    // The announcements posted without email went to nobody.
    for p in &pupils {
        for i in &unmailed {
            duplicates += matching(&got[&p.email], &format!("Текст объявления номер {i}.")).len();
        }
    }
    let gave_up = kabinet_local::streams::GIVEN_UP.load(Ordering::SeqCst) - given_up;
    // Every mail that went is recorded as gone: none would go again on a redelivery.
    let sends = sends_by_state().await;

    // What happened, for the record.
    let calls = day.calls.lock().unwrap();
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    for c in calls.iter() {
        for (status, code) in &c.answers {
            *answers.entry(format!("{status} {}", code.as_deref().unwrap_or(""))).or_default() += 1;
        }
    }
    let mut by_route: BTreeMap<&str, usize> = BTreeMap::new();
    for c in calls.iter().filter(|c| c.answers.len() > 1) {
        *by_route.entry(c.what).or_default() += 1;
    }
    println!(
        "\nA school day under faults: {} requests ({} tries) in {:.0} s",
        calls.len(),
        calls.iter().map(|c| c.answers.len()).sum::<usize>(),
        day_took.as_secs_f64()
    );
    println!("mail due sent within {:.0} s of the day's start", mailed_took.as_secs_f64());
    println!("faults injected: {injected:?}");
    println!("answers: {answers:?}");
    println!(
        "requests answered 503 and then retried with their key: {} ({by_route:?})",
        by_route.values().sum::<usize>()
    );
    println!("writes checked exactly once: {writes}");
    println!("mails: {sent_once} sent once, {duplicates} duplicates, {lost} lost; records given up on: {gave_up}");
    println!("sends in the table by state: {sends:?}");
    assert!(injected.values().sum::<u64>() > 0, "no fault was injected");
    assert_eq!((duplicates, lost, gave_up), (0, 0, 0), "{got:#?}");
    assert!(!sends.contains_key("sending") && sends.get("sent") >= Some(&sent_once), "unrecorded sends: {sends:?}");
}

fn org_name() -> String {
    "Школа".into()
}
