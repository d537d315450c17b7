//! The concurrent load (`make bench-load CLIENTS=50 SECONDS=120`): schools seeded through
//! the API, then `--clients` people at once, each doing a school day's mix of reads and
//! writes with no pause between requests, for `--seconds`; with `--faults`, a second
//! round as long with the emulator's faults on. Per route family (the route table's
//! `area`, the request matched by method and path): requests, p50, p99, max, 4xx and 5xx;
//! the routes that answered 5xx; and throughput.
//!
//!   kabinet-bench load --clients 50 [--seconds 120] [--schools 1] [--faults SPEC]
//!                      [--url http://127.0.0.1:3000 [--emulator http://127.0.0.1:PORT]]
//!
//! Without `--url` it starts a stack of its own as `make dev` runs it (emulator, gateway,
//! notifier, exporter and importer; the debug build); with it, it loads that API (a
//! running `make dev`, its tokens signed with `KABINET_DEV_JWT_SECRET`), and `--emulator`
//! (default `AWS_ENDPOINT_URL`) names its emulator for the faults and the stats.
//!
//! The percentiles come from the sorted samples of each family: a two-minute run makes
//! some tens of thousands of requests, whose durations take a few hundred kilobytes, so an
//! exact order statistic costs nothing and needs no HDR histogram's buckets (nor another
//! dependency).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kabinet_local::seed::{self, Api, Person, Rng, Size};
use kabinet_local::Gateway;
use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::{fail, percentile, table, verdict, Stack};

/// The secret of the dev tokens of the stack this starts.
const SECRET: &str = "bench-secret";

/// Groups made in each school for the load, each a teacher and a class's students.
const GROUPS: usize = 4;

/// What `kabinet-bench load --clients` runs.
pub struct Options {
    pub clients: usize,
    pub seconds: u64,
    pub schools: usize,
    /// The API to load; `None`: a stack of its own.
    pub url: Option<String>,
    /// The emulator behind `url` (faults and stats).
    pub emulator: Option<String>,
    /// The emulator's fault settings for the second round (`KABINET_EMULATOR_FAULTS`'s
    /// form), set through `PUT /_kabinet/faults`.
    pub faults: Option<String>,
}

/// One request's outcome.
struct Sample {
    /// The route's area, or what else was called.
    family: &'static str,
    route: &'static str,
    /// 0: no answer (a transport error or the client's timeout).
    status: u16,
    /// A problem answer's `code`.
    code: Option<String>,
    took: Duration,
}

/// An answer: its status, ETag and JSON body.
struct Answer {
    status: u16,
    etag: Option<String>,
    body: Value,
}

impl Answer {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn id(&self) -> Option<String> {
        self.body["id"].as_str().map(str::to_owned)
    }
}

/// A group made for the load: its teacher, its students, the threads known in it.
struct Group {
    id: String,
    teacher: Person,
    students: Vec<Person>,
    threads: Mutex<Vec<String>>,
}

/// A seeded school as the clients see it.
struct School {
    org: String,
    admin: Person,
    people: Vec<Person>,
    groups: Vec<Group>,
    link: String,
}

/// What every client shares.
struct World {
    base: String,
    run: String,
    schools: Vec<School>,
    api: Api,
    /// Numbers newcomers and invited addresses.
    fresh: AtomicUsize,
}

/// The mix: what a client does next, and how often (weights).
#[derive(Debug, Clone, Copy)]
enum Action {
    Me,
    MyOrgs,
    Members,
    Search,
    Groups,
    Threads,
    Replies,
    Announcements,
    Files,
    Stats,
    JoinRequests,
    Thread,
    Reply,
    Announce,
    Upload,
    Join,
    Invite,
}

const MIX: &[(Action, usize)] = &[
    (Action::Me, 8),
    (Action::MyOrgs, 4),
    (Action::Members, 6),
    (Action::Search, 6),
    (Action::Groups, 5),
    (Action::Threads, 8),
    (Action::Replies, 6),
    (Action::Announcements, 5),
    (Action::Files, 5),
    (Action::Stats, 3),
    (Action::JoinRequests, 2),
    (Action::Thread, 4),
    (Action::Reply, 8),
    (Action::Announce, 2),
    (Action::Upload, 3),
    (Action::Join, 3),
    (Action::Invite, 2),
];

fn pick_action(rng: &mut Rng) -> Action {
    let total: usize = MIX.iter().map(|(_, w)| w).sum();
    let mut at = rng.below(total);
    for (action, weight) in MIX {
        if at < *weight {
            return *action;
        }
        at -= weight;
    }
    Action::Me
}

/// One client: its HTTP client, its samples, its dice.
struct Client {
    http: reqwest::Client,
    world: Arc<World>,
    number: usize,
    /// The round it runs in: with `number` and `keys`, what makes its
    /// `Idempotency-Key`s unique across rounds.
    round: usize,
    rng: Rng,
    keys: usize,
    samples: Vec<Sample>,
}

impl Client {
    /// One API request (`path` under `/v1`, query included), recorded; `None` when nothing
    /// answered. POSTs carry an `Idempotency-Key`.
    async fn call(
        &mut self,
        who: &Person,
        method: Method,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Option<Answer> {
        let full = format!("/v1{path}");
        let bare = full.split('?').next().unwrap_or_default();
        let (family, route) =
            kabinet::api::find(&method, bare).map_or(("unmatched", "unmatched"), |(r, _)| (r.area, r.name));
        let mut rb = self.http.request(method.clone(), format!("{}{full}", self.world.base)).bearer_auth(&who.token);
        if method == Method::POST {
            self.keys += 1;
            rb = rb
                .header("idempotency-key", format!("{}-{}-{}-{}", self.world.run, self.round, self.number, self.keys));
        }
        if let Some(tag) = if_match {
            rb = rb.header("if-match", tag);
        }
        if let Some(b) = &body {
            rb = rb.json(b);
        }
        let started = Instant::now();
        let answer = async {
            let resp = rb.send().await.ok()?;
            let status = resp.status().as_u16();
            let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let text = resp.text().await.ok()?;
            Some(Answer { status, etag, body: serde_json::from_str(&text).unwrap_or(Value::Null) })
        }
        .await;
        let took = started.elapsed();
        let (status, code) = match &answer {
            Some(a) => (a.status, a.body["code"].as_str().filter(|_| !a.ok()).map(str::to_owned)),
            None => (0, None),
        };
        self.samples.push(Sample { family, route, status, code, took });
        answer
    }

    /// A presigned PUT of `bytes` to the emulator's S3, as a browser uploads.
    async fn upload(&mut self, upload: &Value, bytes: Vec<u8>) -> bool {
        let Some(url) = upload["url"].as_str() else { return false };
        let mut rb = self.http.put(url).body(bytes);
        for (name, value) in upload["headers"].as_object().into_iter().flatten() {
            if let (false, Some(v)) = (name.eq_ignore_ascii_case("content-length"), value.as_str()) {
                rb = rb.header(name.as_str(), v);
            }
        }
        let started = Instant::now();
        let status = rb.send().await.map_or(0, |r| r.status().as_u16());
        self.samples.push(Sample {
            family: "S3 (presigned PUT)",
            route: "s3-put-object",
            status,
            code: None,
            took: started.elapsed(),
        });
        (200..300).contains(&status)
    }

    fn pick<'a, T>(&mut self, from: &'a [T]) -> Option<&'a T> {
        if from.is_empty() {
            None
        } else {
            from.get(self.rng.below(from.len()))
        }
    }

    /// Runs actions until `until`.
    async fn run(mut self, until: Instant) -> Vec<Sample> {
        let world = self.world.clone();
        while Instant::now() < until {
            let Some(school) = self.pick(&world.schools) else { break };
            let action = pick_action(&mut self.rng);
            self.act(school, action).await;
        }
        self.samples
    }

    async fn act(&mut self, s: &School, action: Action) {
        let org = &s.org;
        let Some(g) = self.pick(&s.groups) else { return };
        let member = if self.rng.below(5) == 0 { &g.teacher } else { self.pick(&g.students).unwrap_or(&g.teacher) };
        let gp = format!("/orgs/{org}/groups/{}", g.id);
        let thread = {
            let threads = g.threads.lock().map(|t| t.clone()).unwrap_or_default();
            self.pick(&threads).cloned()
        };
        let n = self.rng.below(1_000_000);
        match action {
            Action::Me => {
                let who = self.pick(&s.people).unwrap_or(&s.admin);
                self.call(who, Method::GET, "/me", None, None).await;
            }
            Action::MyOrgs => {
                let who = self.pick(&s.people).unwrap_or(&s.admin);
                self.call(who, Method::GET, "/me/orgs", None, None).await;
            }
            Action::Members => {
                self.call(&s.admin, Method::GET, &format!("/orgs/{org}/members?limit=50"), None, None).await;
            }
            Action::Search => {
                let who = self.pick(&s.people).unwrap_or(&s.admin);
                let q: String = who.name.chars().take(2 + self.rng.below(4)).collect::<String>().to_lowercase();
                let path = format!("/orgs/{org}/members?limit=20&q={q}");
                self.call(&s.admin, Method::GET, &path, None, None).await;
            }
            Action::Groups => {
                self.call(member, Method::GET, &format!("/orgs/{org}/groups"), None, None).await;
            }
            Action::Threads => {
                self.call(member, Method::GET, &format!("{gp}/threads?limit=20"), None, None).await;
            }
            Action::Replies => {
                if let Some(t) = thread {
                    self.call(member, Method::GET, &format!("{gp}/threads/{t}/replies"), None, None).await;
                }
            }
            Action::Announcements => {
                self.call(member, Method::GET, &format!("{gp}/announcements?limit=10"), None, None).await;
            }
            Action::Files => {
                self.call(member, Method::GET, &format!("{gp}/files"), None, None).await;
            }
            Action::Stats => {
                self.call(&s.admin, Method::GET, &format!("/orgs/{org}/stats/summary"), None, None).await;
            }
            Action::JoinRequests => {
                let path = format!("/orgs/{org}/join-requests?status=pending");
                self.call(&s.admin, Method::GET, &path, None, None).await;
            }
            Action::Thread => {
                let who = self.pick(&g.students).unwrap_or(&g.teacher);
                let body = json!({"title": format!("Вопрос №{n}"), "body": "Как решать задачу со звёздочкой?\nУ меня не сходится ответ."});
                let made = self.call(who, Method::POST, &format!("{gp}/threads"), Some(body), None).await;
                if let Some(id) = made.filter(Answer::ok).and_then(|a| a.id()) {
                    if let Ok(mut threads) = g.threads.lock() {
                        threads.push(id);
                    }
                }
            }
            Action::Reply => {
                if let Some(t) = thread {
                    let body = json!({"body": "Попробуй начать с конца: что должно получиться в последнем шаге?"});
                    self.call(member, Method::POST, &format!("{gp}/threads/{t}/replies"), Some(body), None).await;
                }
            }
            Action::Announce => {
                let body = json!({"title": format!("Контрольная №{n}"), "body": "В четверг на третьем уроке.\nПовторите дроби."});
                self.call(&g.teacher, Method::POST, &format!("{gp}/announcements"), Some(body), None).await;
            }
            Action::Upload => {
                let size = 4096 + self.rng.below(28 * 1024);
                let body =
                    json!({"name": format!("План урока {n}.pdf"), "size": size, "content_type": "application/pdf"});
                let Some(made) = self.call(&g.teacher, Method::POST, &format!("{gp}/files"), Some(body), None).await
                else {
                    return;
                };
                let (Some(file), true) = (made.body["file"]["id"].as_str().map(str::to_owned), made.ok()) else {
                    return;
                };
                if self.upload(&made.body["upload"], vec![b'%'; size]).await {
                    self.call(&g.teacher, Method::POST, &format!("{gp}/files/{file}/complete"), None, None).await;
                }
            }
            Action::Join => {
                let k = self.world.fresh.fetch_add(1, Ordering::Relaxed);
                let run = &self.world.run;
                let newcomer = self.world.api.person(
                    &format!("load-{run}-new{k}"),
                    &format!("new{k}.{run}@school.test"),
                    "Новикова Ольга Сергеевна",
                    12,
                );
                if !self.call(&newcomer, Method::GET, "/me", None, None).await.is_some_and(|a| a.ok()) {
                    return;
                }
                let path = format!("/invite-links/{}/accept", s.link);
                let Some(id) = self.call(&newcomer, Method::POST, &path, Some(json!({})), None).await.and_then(|a| {
                    if a.ok() {
                        a.id()
                    } else {
                        None
                    }
                }) else {
                    return;
                };
                let request = format!("/orgs/{org}/join-requests/{id}");
                let Some(tag) = self.call(&s.admin, Method::GET, &request, None, None).await.and_then(|a| a.etag)
                else {
                    return;
                };
                self.call(&s.admin, Method::POST, &format!("{request}/accept"), None, Some(&tag)).await;
            }
            Action::Invite => {
                let k = self.world.fresh.fetch_add(1, Ordering::Relaxed);
                let body = json!({
                    "emails": [format!("invited{k}.{}@school.test", self.world.run)],
                    "role": {"role": "teacher", "position": "Учитель информатики"}
                });
                self.call(&s.admin, Method::POST, &format!("/orgs/{org}/invitations"), Some(body), None).await;
            }
        }
    }
}

/// The emulator's admin endpoints (`/_kabinet/...`), when the emulator is known.
struct Emulator {
    endpoint: String,
    http: reqwest::Client,
}

impl Emulator {
    async fn stats(&self) -> Value {
        match self.http.get(format!("{}/_kabinet/stats", self.endpoint)).send().await {
            Ok(r) => r.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        }
    }

    /// The emulator's serving seconds and requests so far (all operations).
    fn busy(stats: &Value) -> (f64, u64) {
        let ops = stats["operations"].as_object();
        let seconds = ops.map(|o| o.values().filter_map(|v| v["seconds"].as_f64()).sum()).unwrap_or(0.0);
        let count = ops.map(|o| o.values().filter_map(|v| v["count"].as_u64()).sum()).unwrap_or(0);
        (seconds, count)
    }

    /// Waits (up to five minutes) until the notifier has read what the seeding left in the
    /// stream; answers the seconds waited.
    async fn drain(&self, table: &str) -> f64 {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(300) {
            if self.stats().await["tables"][table]["stream_records"].as_u64().unwrap_or(0) < 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        started.elapsed().as_secs_f64()
    }

    /// The fault settings now (`GET /_kabinet/faults`), if the emulator has faults.
    async fn faults(&self) -> Option<String> {
        let r = self.http.get(format!("{}/_kabinet/faults", self.endpoint)).send().await.ok()?;
        if r.status().is_success() {
            r.text().await.ok()
        } else {
            None
        }
    }

    /// Sets the faults (`PUT /_kabinet/faults`, the spec as JSON when it is JSON, else as
    /// text); what went wrong otherwise.
    async fn set_faults(&self, spec: &str) -> Result<(), String> {
        let content_type =
            if serde_json::from_str::<Value>(spec).is_ok() { "application/json" } else { "text/plain; charset=utf-8" };
        let answer = self
            .http
            .put(format!("{}/_kabinet/faults", self.endpoint))
            .header("content-type", content_type)
            .body(spec.to_string())
            .send()
            .await
            .map_err(|e| format!("PUT /_kabinet/faults: {e}"))?;
        match answer.status().as_u16() {
            200..=299 => Ok(()),
            404 => Err("the emulator has no faults yet (PUT /_kabinet/faults answered 404)".into()),
            s => Err(format!("PUT /_kabinet/faults answered {s}: {}", answer.text().await.unwrap_or_default())),
        }
    }
}

/// A seeded person's address, as the seed makes it from their subject
/// (`seed-<run>-<number>-<role><i>` → `<role><i>.<run>.<number>@school.test`).
fn seeded_email(sub: &str, run: &str, number: usize) -> String {
    let prefix = format!("seed-{run}-{number}-");
    match sub.strip_prefix(&prefix) {
        Some(who) => format!("{who}.{run}.{number}@school.test"),
        None => format!("{sub}@school.test"),
    }
}

/// Seeds school `number` and makes what the load needs in it: its people with tokens,
/// [`GROUPS`] groups (a teacher and a class's students, a first thread each) and an
/// invite link for newcomers.
async fn school(api: &Api, run: &str, number: usize) -> Result<School, String> {
    let seeded = seed::school(api, run, number, Size::SCHOOL, 8).await?;
    let org = seeded.org.clone();
    let admin = seeded.admin.clone();
    let mut members = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_path = match &cursor {
            Some(c) => format!("/orgs/{org}/members?limit=200&cursor={c}"),
            None => format!("/orgs/{org}/members?limit=200"),
        };
        let page = api.call(&admin, "GET", &page_path, None).await?;
        members.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let mut people = Vec::new();
    let mut teachers = Vec::new();
    let mut classes: BTreeMap<String, Vec<Person>> = BTreeMap::new();
    for m in &members {
        let sub = m["user_id"].as_str().unwrap_or_default();
        if sub == admin.sub {
            continue;
        }
        let p = api.person(sub, &seeded_email(sub, run, number), m["name"].as_str().unwrap_or_default(), 12);
        for role in m["roles"].as_array().into_iter().flatten() {
            match role["role"].as_str() {
                Some("teacher") => teachers.push(p.clone()),
                Some("student") => {
                    if let Some(class) = role["class_ids"][0].as_str() {
                        classes.entry(class.to_string()).or_default().push(p.clone());
                    }
                }
                _ => {}
            }
        }
        people.push(p);
    }
    let mut groups = Vec::new();
    for (k, students) in classes.values().take(GROUPS).enumerate() {
        let teacher = teachers.get(k + 1).or(teachers.first()).ok_or("no teachers seeded")?.clone();
        let body = json!({"name": format!("Нагрузка {}", k + 1), "description": "Группа для замеров."});
        let made = api.call(&admin, "POST", &format!("/orgs/{org}/groups"), Some(body)).await?;
        let id = made["id"].as_str().ok_or("no group id")?.to_string();
        let mut ids = vec![teacher.sub.clone()];
        ids.extend(students.iter().map(|p| p.sub.clone()));
        api.call(&admin, "POST", &format!("/orgs/{org}/groups/{id}/members"), Some(json!({"user_ids": ids}))).await?;
        let asker = students.first().unwrap_or(&teacher);
        let first = json!({"title": "С чего начать?", "body": "Подскажите, что повторить к четвергу."});
        let thread = api.call(asker, "POST", &format!("/orgs/{org}/groups/{id}/threads"), Some(first)).await?;
        let thread = thread["id"].as_str().ok_or("no thread id")?.to_string();
        groups.push(Group { id, teacher, students: students.clone(), threads: Mutex::new(vec![thread]) });
    }
    if groups.is_empty() {
        return Err("the seeded school has no classes with students".into());
    }
    let expires = time::OffsetDateTime::now_utc() + time::Duration::days(14);
    let expires = expires.format(&time::format_description::well_known::Rfc3339).map_err(|e| e.to_string())?;
    let link = json!({"expires_at": expires, "max_uses": null, "roles": [{"role": "teacher", "position": "Учитель"}]});
    let link = api.call(&admin, "POST", &format!("/orgs/{org}/invite-links"), Some(link)).await?;
    let link = link["token"].as_str().ok_or("no link token")?.to_string();
    Ok(School { org, admin, people, groups, link })
}

/// One round's figures.
struct Round {
    title: String,
    clients: usize,
    wall_s: f64,
    samples: Vec<Sample>,
    /// The emulator's serving seconds and requests during the round.
    emulator: Option<(f64, u64)>,
    /// What `/_kabinet/stats` says of faults after the round.
    faults: Option<Value>,
}

/// A family's row.
struct Family {
    name: &'static str,
    count: usize,
    p50: f64,
    p99: f64,
    max: f64,
    c4xx: usize,
    c5xx: usize,
    none: usize,
}

fn family(name: &'static str, ss: &[&Sample]) -> Family {
    let mut took: Vec<Duration> = ss.iter().map(|s| s.took).collect();
    took.sort();
    Family {
        name,
        count: ss.len(),
        p50: percentile(&took, 0.5),
        p99: percentile(&took, 0.99),
        max: took.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        c4xx: ss.iter().filter(|s| (400..500).contains(&s.status)).count(),
        c5xx: ss.iter().filter(|s| s.status >= 500).count(),
        none: ss.iter().filter(|s| s.status == 0).count(),
    }
}

/// The row of all requests, then one a family, most requests first.
fn families(samples: &[Sample]) -> Vec<Family> {
    let mut by: BTreeMap<&'static str, Vec<&Sample>> = BTreeMap::new();
    for s in samples {
        by.entry(s.family).or_default().push(s);
    }
    let mut rows: Vec<Family> = by.into_iter().map(|(name, ss)| family(name, &ss)).collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(b.name)));
    let mut all = family("all", &samples.iter().collect::<Vec<_>>());
    all.name = "**all**";
    rows.insert(0, all);
    rows
}

/// `(route, code) → count` of the samples `keep` keeps, most first.
fn tally(samples: &[Sample], keep: impl Fn(&Sample) -> bool) -> Vec<(String, usize)> {
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for s in samples.iter().filter(|s| keep(s)) {
        let code = s.code.as_deref().unwrap_or(if s.status == 0 { "no answer" } else { "-" });
        *by.entry(format!("{} {} `{code}`", s.route, s.status)).or_default() += 1;
    }
    let mut out: Vec<(String, usize)> = by.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// Numbers at the leaves of a JSON value, as `path: n` (what the stats say of faults).
fn leaves(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                leaves(v, &p, out);
            }
        }
        Value::Null => {}
        other => out.push(format!("{path}: {other}")),
    }
}

fn report(round: &Round) {
    let total = round.samples.len();
    let api: Vec<&Sample> = round.samples.iter().filter(|s| s.route != "s3-put-object").collect();
    let c5xx = round.samples.iter().filter(|s| s.status >= 500).count();
    let c4xx = round.samples.iter().filter(|s| (400..500).contains(&s.status)).count();
    let none = round.samples.iter().filter(|s| s.status == 0).count();
    println!("\n### {}\n", round.title);
    println!(
        "{} clients, {:.1} s: {total} requests ({} to the API, {} presigned uploads), {:.1} requests/s; \
         2xx {}, 4xx {c4xx}, 5xx {c5xx}, no answer {none}.",
        round.clients,
        round.wall_s,
        api.len(),
        total - api.len(),
        total as f64 / round.wall_s.max(0.001),
        total - c4xx - c5xx - none
    );
    if let Some((seconds, count)) = round.emulator {
        println!(
            "The emulator served {count} AWS requests in {seconds:.1} s of its own time ({:.0}% of the round; it \
             serves one at a time).",
            100.0 * seconds / round.wall_s.max(0.001)
        );
    }
    table("<family | requests | p50 | p99 | max | 4xx | 5xx | no answer", &families(&round.samples), |f| {
        vec![
            f.name.to_string(),
            f.count.to_string(),
            format!("{:.0} ms", f.p50),
            format!("{:.0} ms", f.p99),
            format!("{:.0} ms", f.max),
            f.c4xx.to_string(),
            f.c5xx.to_string(),
            f.none.to_string(),
        ]
    });
    let failed = tally(&round.samples, |s| s.status >= 500 || s.status == 0);
    println!(
        "\n5xx (goal 0): {c5xx}: {}{}",
        verdict(c5xx == 0),
        if failed.is_empty() { "" } else { ", by route, status and code:" }
    );
    for (what, n) in &failed {
        println!("- {what}: {n}");
    }
    let refused = tally(&round.samples, |s| (400..500).contains(&s.status));
    if !refused.is_empty() {
        println!("\n4xx by route, status and code:");
        for (what, n) in &refused {
            println!("- {what}: {n}");
        }
    }
    if let Some(faults) = &round.faults {
        let mut lines = Vec::new();
        leaves(faults, "", &mut lines);
        println!("\nFaults the emulator injected (`/_kabinet/stats`, since it started):");
        for line in lines {
            println!("- {line}");
        }
    }
}

/// `kabinet-bench load --clients`: seeds, runs the clients for the rounds, reports.
pub async fn run(opts: Options) {
    let started = Instant::now();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap_or_else(|e| fail(e));
    // A stack of its own unless an API is named (kept alive until the end).
    let (base, secret, emulator, table, _stack) = match &opts.url {
        Some(url) => {
            let emulator = opts.emulator.clone().or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
            let table = kabinet::config::Config::from_env().table;
            (url.trim_end_matches('/').to_string(), kabinet_local::tokens::secret_from_env(), emulator, table, None)
        }
        None => {
            let stack = Stack::start("kabinet-bench").await;
            let ctx = kabinet_local::access::checked_ctx(stack.config.clone(), &stack.aws);
            tokio::spawn(kabinet_local::streams::run_notifier(ctx.clone(), stack.aws.clone()));
            tokio::spawn(kabinet_local::streams::run_exporter(ctx.clone(), stack.aws.clone()));
            tokio::spawn(kabinet_local::streams::run_importer(ctx.clone(), stack.aws.clone()));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| fail(e));
            let base = format!("http://{}", listener.local_addr().unwrap_or_else(|e| fail(e)));
            tokio::spawn(kabinet_local::serve(
                listener,
                Gateway::new(ctx, SECRET.into(), vec![]).with_local_mail(stack.endpoint()),
            ));
            let endpoint = stack.endpoint().to_string();
            let table = stack.config.table.clone();
            (base, SECRET.to_string(), Some(endpoint), table, Some(stack))
        }
    };
    let emulator = emulator.map(|endpoint| Emulator { endpoint, http: http.clone() });
    if reqwest::get(format!("{base}/v1/openapi.json")).await.is_err() {
        fail(format!("no API at {base}: start it with `make dev`"));
    }
    let api = Api::new(&base, &secret);
    let run = ulid::Ulid::new().to_string().to_lowercase()[20..].to_string();
    eprintln!(
        "Concurrent load against {base}: {} school(s) seeded, then {} clients for {} s{}",
        opts.schools,
        opts.clients,
        opts.seconds,
        if opts.faults.is_some() { ", twice: without faults, then with them" } else { "" }
    );
    let mut schools = Vec::new();
    for number in 1..=opts.schools {
        let seeding = Instant::now();
        schools.push(school(&api, &run, number).await.unwrap_or_else(|e| fail(format!("seeding: {e}"))));
        eprintln!("  school {number} seeded in {:.0} s", seeding.elapsed().as_secs_f64());
    }
    if let Some(em) = &emulator {
        eprintln!("  the notifier caught up {:.0} s later", em.drain(&table).await);
    }
    let world = Arc::new(World { base, run, schools, api, fresh: AtomicUsize::new(0) });

    let mut rounds = vec![(None, "Without faults".to_string())];
    if let Some(spec) = &opts.faults {
        rounds.push((Some(spec.clone()), format!("With faults `{spec}`")));
    }
    let (mut before_faults, mut faults_set, mut skipped) = (None, false, None::<String>);
    let mut done = Vec::new();
    for (spec, title) in rounds {
        if let Some(spec) = &spec {
            let Some(em) = &emulator else {
                skipped = Some("the emulator is not known (--emulator or AWS_ENDPOINT_URL)".into());
                break;
            };
            before_faults = em.faults().await;
            if let Err(e) = em.set_faults(spec).await {
                eprintln!("  no round with faults: {e}");
                skipped = Some(e);
                break;
            }
            faults_set = true;
        }
        let stats_before = match &emulator {
            Some(em) => Some(em.stats().await),
            None => None,
        };
        eprintln!("  {title}: {} clients for {} s …", opts.clients, opts.seconds);
        let round_started = Instant::now();
        let until = round_started + Duration::from_secs(opts.seconds);
        let tasks: Vec<_> = (0..opts.clients)
            .map(|number| {
                let client = Client {
                    http: http.clone(),
                    world: world.clone(),
                    number,
                    round: done.len(),
                    rng: Rng::new(0x10ad + number as u64 * 7919 + done.len() as u64),
                    keys: 0,
                    samples: Vec::new(),
                };
                tokio::spawn(client.run(until))
            })
            .collect();
        let mut samples = Vec::new();
        for task in tasks {
            samples.extend(task.await.unwrap_or_default());
        }
        let wall_s = round_started.elapsed().as_secs_f64();
        let (emulator_busy, faults) = match (&emulator, &stats_before) {
            (Some(em), Some(before)) => {
                let after = em.stats().await;
                let (s0, c0) = Emulator::busy(before);
                let (s1, c1) = Emulator::busy(&after);
                let faults = after.get("faults").cloned().filter(|f| !f.is_null());
                (Some((s1 - s0, c1.saturating_sub(c0))), faults)
            }
            _ => (None, None),
        };
        let round = Round { title, clients: opts.clients, wall_s, samples, emulator: emulator_busy, faults };
        eprintln!("  … {} requests in {:.1} s", round.samples.len(), round.wall_s);
        done.push(round);
    }
    if let (true, Some(em), Some(_)) = (faults_set, &emulator, &opts.url) {
        // The API named is someone's `make dev`: its faults go back as they were.
        let restored = match &before_faults {
            Some(previous) => em.set_faults(previous).await,
            None => Err("the faults before the round are not known".into()),
        };
        if let Err(e) = restored {
            eprintln!("  the emulator's faults may still be on ({e}): set them with PUT /_kabinet/faults");
        }
    }

    println!(
        "\n## Concurrent load: {} clients, {} s a round, {} school(s) of {} members ({})",
        opts.clients,
        opts.seconds,
        world.schools.len(),
        world.schools.first().map_or(0, |s| s.people.len() + 1),
        if cfg!(debug_assertions) { "the debug build, as `make dev` runs" } else { "the release build" }
    );
    for round in &done {
        report(round);
    }
    if let Some(why) = &skipped {
        println!("\n### With faults\n\nNo round with faults: {why}.");
    }
    if let [clean, faulty] = &done[..] {
        let all = |r: &Round| {
            let all = family("all", &r.samples.iter().collect::<Vec<_>>());
            (r.samples.len() as f64 / r.wall_s.max(0.001), all.p50, all.p99)
        };
        let (a, b) = (all(clean), all(faulty));
        println!(
            "\nWithout and with faults: {:.1} → {:.1} requests/s, p50 {:.0} → {:.0} ms, p99 {:.0} → {:.0} ms.",
            a.0, b.0, a.1, b.1, a.2, b.2
        );
    }
    eprintln!("Done in {:.0} s.", started.elapsed().as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(family: &'static str, status: u16, ms: u64) -> Sample {
        Sample { family, route: "r", status, code: None, took: Duration::from_millis(ms) }
    }

    #[test]
    fn a_seeded_persons_address_follows_their_subject() {
        assert_eq!(seeded_email("seed-ab12-3-student17", "ab12", 3), "student17.ab12.3@school.test");
        assert_eq!(seeded_email("someone", "ab12", 3), "someone@school.test");
    }

    #[test]
    fn families_count_percentiles_and_failures() {
        let mut samples: Vec<Sample> = (1..=100).map(|ms| sample("members", 200, ms)).collect();
        samples.push(sample("members", 503, 1000));
        samples.push(sample("members", 404, 5));
        samples.push(sample("me", 0, 60_000));
        let rows = families(&samples);
        assert_eq!((rows[0].name, rows[0].count, rows[0].max), ("**all**", 103, 60_000.0));
        assert_eq!(rows[1].name, "members");
        assert_eq!((rows[1].count, rows[1].c4xx, rows[1].c5xx, rows[1].none), (102, 1, 1, 0));
        assert_eq!(rows[1].p50, 50.0);
        assert_eq!(rows[1].max, 1000.0);
        assert_eq!((rows[2].name, rows[2].none), ("me", 1));
    }

    #[test]
    fn the_mix_picks_every_action() {
        let mut rng = Rng::new(1);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..5000 {
            seen.insert(format!("{:?}", pick_action(&mut rng)));
        }
        assert_eq!(seen.len(), MIX.len());
    }
}
