//! Counts the DynamoDB round trips of each route on its usual path. The counts are part
//! of the design: a read is the membership check (one BatchGetItem with what it reads)
//! plus what it lists; a write is one transaction after its reads; none reads-then-writes
//! an invariant (the conditions in the transaction hold it).

use std::collections::BTreeMap;

use kabinet::domain::{ImportId, OrgId};
use kabinet_tests::support;
use kabinet_tests::support::{registered, school, student, teacher, urlencode, CountingGateway, User};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn round_trips_per_route() {
    let gw = CountingGateway::start().await;
    let admin = User::new("Counter");
    let (org, ids) = school(&admin, "2026/2027", &[(5, "А"), (6, "А")]).await;
    let (a, b) = (ids[0].clone(), ids[1].clone());
    let t = registered("Teacher").await;
    let s = registered("Student").await;
    // The admin's first request today is behind us (school() made it): no activity write.
    let mut table = Vec::new();
    let mut run = |name: &'static str, expected: usize, got: (support::Resp, usize)| {
        assert!(got.0.status < 300, "{name}: {}", got.0.text);
        table.push((name, got.1));
        assert_eq!(got.1, expected, "{name} made {} DynamoDB calls", got.1);
    };
    let o = format!("/v1/orgs/{org}");
    // GET /me is one call, the first time too: what waits for the person (journals'
    // offers among it) is read from GET /me/invitations.
    run("GET /me", 1, gw.count(&admin, Method::GET, "/v1/me", None).await);
    run("PATCH /me", 1, gw.count(&admin, Method::PATCH, "/v1/me", Some(json!({"language": "en"}))).await);
    run("GET /me/orgs", 2, gw.count(&admin, Method::GET, "/v1/me/orgs", None).await);
    run("GET /orgs/{org}", 1, gw.count(&admin, Method::GET, &o, None).await);
    run("PATCH /orgs/{org}", 2, gw.count(&admin, Method::PATCH, &o, Some(json!({"address": "Омск"}))).await);
    run(
        "POST /orgs/{org}/members",
        2,
        gw.count(
            &admin,
            Method::POST,
            &format!("{o}/members"),
            Some(json!({"user_id": t.sub, "roles": [teacher("Учитель", &[&a])]})),
        )
        .await,
    );
    run(
        "POST /orgs/{org}/members (student)",
        2,
        gw.count(
            &admin,
            Method::POST,
            &format!("{o}/members"),
            Some(json!({"user_id": s.sub, "roles": [student(&a)]})),
        )
        .await,
    );
    run("GET /orgs/{org}/members", 2, gw.count(&admin, Method::GET, &format!("{o}/members"), None).await);
    // The class is read with the membership check.
    run(
        "GET /orgs/{org}/members?class=",
        2,
        gw.count(&admin, Method::GET, &format!("{o}/members?class={a}"), None).await,
    );
    // A search: the membership check, one query of search items, one batch read of the
    // memberships they name (none when nothing matches).
    run("GET /orgs/{org}/members?q=", 3, gw.count(&admin, Method::GET, &format!("{o}/members?q=stu"), None).await);
    run(
        "GET /orgs/{org}/members?q= (nobody)",
        2,
        gw.count(&admin, Method::GET, &format!("{o}/members?q=nobody"), None).await,
    );
    // A new name: the profile, the person's memberships (gsi1), one transaction each.
    run(
        "PATCH /me (name, one school)",
        3,
        gw.count(&s, Method::PATCH, "/v1/me", Some(json!({"name": "Student Two"}))).await,
    );
    run(
        "GET /orgs/{org}/members/{user}",
        1,
        gw.count(&admin, Method::GET, &format!("{o}/members/{}", s.sub), None).await,
    );
    run(
        "PATCH /orgs/{org}/members/{user}",
        3,
        gw.count(&admin, Method::PATCH, &format!("{o}/members/{}", s.sub), Some(json!({"roles": [student(&b)]}))).await,
    );
    run(
        "PUT /orgs/{org}/admins/{user}",
        2,
        gw.count(&admin, Method::PUT, &format!("{o}/admins/{}", t.sub), None).await,
    );
    run("GET /orgs/{org}/admins", 2, gw.count(&admin, Method::GET, &format!("{o}/admins"), None).await);
    run(
        "DELETE /orgs/{org}/admins/{user}",
        2,
        gw.count(&admin, Method::DELETE, &format!("{o}/admins/{}", t.sub), None).await,
    );
    run(
        "POST /orgs/{org}/classes",
        2,
        gw.count(
            &admin,
            Method::POST,
            &format!("{o}/classes"),
            Some(json!({"grade": 7, "letter": "А", "year": "2026/2027"})),
        )
        .await,
    );
    run(
        "GET /orgs/{org}/classes",
        2,
        gw.count(&admin, Method::GET, &format!("{o}/classes?year=2026/2027"), None).await,
    );
    // Classes and groups: the membership check, the classes' query, the groups' query.
    run(
        "GET /orgs/{org}/classes?include=groups",
        3,
        gw.count(&admin, Method::GET, &format!("{o}/classes?year=2026/2027&include=groups"), None).await,
    );
    run("GET /orgs/{org}/classes/{id}", 2, gw.count(&admin, Method::GET, &format!("{o}/classes/{b}"), None).await);
    run(
        "PATCH /orgs/{org}/classes/{id}",
        2,
        gw.count(&admin, Method::PATCH, &format!("{o}/classes/{b}"), Some(json!({"letter": "Б"}))).await,
    );
    run(
        "POST /orgs/{org}/classes/{id}/graduate",
        2,
        gw.count(&admin, Method::POST, &format!("{o}/classes/{a}/graduate"), Some(json!({}))).await,
    );
    run(
        "DELETE /orgs/{org}/classes/{id}/members/{user}",
        2,
        gw.count(&admin, Method::DELETE, &format!("{o}/classes/{b}/members/{}", s.sub), None).await,
    );
    run("GET /orgs/{org}/audit", 2, gw.count(&admin, Method::GET, &format!("{o}/audit"), None).await);
    run(
        "DELETE /orgs/{org}/members/{user}",
        3,
        gw.count(&admin, Method::DELETE, &format!("{o}/members/{}", t.sub), None).await,
    );
    run("POST /orgs", 2, gw.count(&admin, Method::POST, "/v1/orgs", Some(json!({"name": "Ещё"}))).await);
    run(
        "POST /orgs with Idempotency-Key",
        4,
        gw.count_with(&admin, Method::POST, "/v1/orgs", Some(json!({"name": "Ещё"})), &[("idempotency-key", "rt-1")])
            .await,
    );
    run(
        "POST /orgs, replayed",
        1,
        gw.count_with(&admin, Method::POST, "/v1/orgs", Some(json!({"name": "Ещё"})), &[("idempotency-key", "rt-1")])
            .await,
    );
    for (name, n) in &table {
        println!("{n:>2}  {name}");
    }
}

#[tokio::test]
async fn a_members_first_request_of_the_day_adds_one_write() {
    let gw = CountingGateway::start().await;
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    let t = registered("Teacher").await;
    admin
        .post(&format!("/v1/orgs/{org}/members"), json!({"user_id": t.sub, "roles": [teacher("Учитель", &[])]}))
        .await
        .ok(201);
    let o = format!("/v1/orgs/{org}");
    assert_eq!(gw.count(&t, Method::GET, &o, None).await.1, 2, "membership check + the day's activity");
    assert_eq!(gw.count(&t, Method::GET, &o, None).await.1, 1, "then the membership check alone");
    assert_eq!(gw.count(&t, Method::GET, &o, None).await.1, 1);
}

#[tokio::test]
async fn round_trips_of_groups_and_courses() {
    let gw = CountingGateway::start().await;
    let admin = User::new("Counter");
    let (org, ids) = school(&admin, "2026/2027", &[(5, "А")]).await;
    let a = ids[0].clone();
    let o = format!("/v1/orgs/{org}");
    let t = support::enrol(&admin, &org, "Учитель", json!([teacher("Учитель", &[&a])])).await;
    let s1 = support::enrol(&admin, &org, "Ученик", json!([student(&a)])).await;
    let s2 = support::enrol(&admin, &org, "Ученица", json!([student(&a)])).await;
    let mut table = Vec::new();
    let mut run = |name: &'static str, expected: usize, got: (support::Resp, usize)| {
        assert!(got.0.status < 300, "{name}: {}", got.0.text);
        table.push((name, got.1));
        assert_eq!(got.1, expected, "{name} made {} DynamoDB calls", got.1);
        got.0
    };
    let post = |path: String, body: serde_json::Value| {
        let (gw, admin) = (&gw, &admin);
        async move { gw.count(admin, Method::POST, &path, Some(body)).await }
    };
    let get = |path: String| {
        let (gw, admin) = (&gw, &admin);
        async move { gw.count(admin, Method::GET, &path, None).await }
    };
    let two = json!({"user_ids": [s1.sub, s2.sub]});

    let g = run("POST /orgs/{org}/groups", 2, post(format!("{o}/groups"), json!({"name": "Кружок"})).await);
    let g = g.body["id"].as_str().unwrap().to_string();
    run("GET /orgs/{org}/groups", 2, get(format!("{o}/groups")).await);
    run("GET /orgs/{org}/groups/{id}", 1, get(format!("{o}/groups/{g}")).await);
    run(
        "PATCH /orgs/{org}/groups/{id}",
        2,
        gw.count(&admin, Method::PATCH, &format!("{o}/groups/{g}"), Some(json!({"name": "Кружок 2"}))).await,
    );
    run(
        "POST /orgs/{org}/groups/{id}/members (2 people)",
        4,
        post(format!("{o}/groups/{g}/members"), two.clone()).await,
    );
    run("GET /orgs/{org}/groups/{id}/members", 3, get(format!("{o}/groups/{g}/members")).await);
    run("GET /orgs/{org}/members?group=", 3, get(format!("{o}/members?group={g}")).await);
    run(
        "DELETE /orgs/{org}/groups/{id}/members/{user}",
        2,
        gw.count(&admin, Method::DELETE, &format!("{o}/groups/{g}/members/{}", s2.sub), None).await,
    );
    let c = run(
        "POST /orgs/{org}/courses",
        2,
        post(format!("{o}/courses"), json!({"name": "Алгебра", "teacher_ids": [t.sub]})).await,
    );
    let c = c.body["id"].as_str().unwrap().to_string();
    run("GET /orgs/{org}/courses", 2, get(format!("{o}/courses")).await);
    run("GET /orgs/{org}/courses/{id}", 1, get(format!("{o}/courses/{c}")).await);
    run(
        "PATCH /orgs/{org}/courses/{id}",
        2,
        gw.count(&admin, Method::PATCH, &format!("{o}/courses/{c}"), Some(json!({"description": "7 класс"}))).await,
    );
    run("POST /orgs/{org}/courses/{id}/students (2 people)", 4, post(format!("{o}/courses/{c}/students"), two).await);
    run("GET /orgs/{org}/courses/{id}/students", 3, get(format!("{o}/courses/{c}/students")).await);
    run("GET /orgs/{org}/members?course=", 3, get(format!("{o}/members?course={c}")).await);
    // The students and the course's teachers read at once; the group, its students,
    // its teachers: a transaction each.
    let lg = run(
        "POST /orgs/{org}/courses/{id}/groups (all)",
        6,
        post(format!("{o}/courses/{c}/groups"), json!({"name": "Алгебра 1", "students": "all"})).await,
    );
    let lg = lg.body["id"].as_str().unwrap().to_string();
    // One of the two students is in the group already: the add's transaction is refused
    // for them and runs again without them (one more round trip, no read beforehand);
    // the course's teacher comes in by a transaction of their own.
    run(
        "POST /orgs/{org}/courses/{id}/linked-groups (all, one there)",
        7,
        post(format!("{o}/courses/{c}/linked-groups"), json!({"group_id": g, "students": "all"})).await,
    );
    run("GET /orgs/{org}/courses/{id}/linked-groups", 2, get(format!("{o}/courses/{c}/linked-groups")).await);
    run(
        "DELETE /orgs/{org}/courses/{id}/linked-groups/{group}",
        2,
        gw.count(&admin, Method::DELETE, &format!("{o}/courses/{c}/linked-groups/{lg}"), None).await,
    );
    run(
        "DELETE /orgs/{org}/courses/{id}/students/{user}",
        2,
        gw.count(&admin, Method::DELETE, &format!("{o}/courses/{c}/students/{}", s2.sub), None).await,
    );
    // In a group, a course and teaching one: one read of what exists, one transaction.
    run(
        "DELETE /orgs/{org}/members/{user} (in groups and courses)",
        4,
        gw.count(&admin, Method::DELETE, &format!("{o}/members/{}", s1.sub), None).await,
    );
    // Its files (a query of ready ones, one of uploads; none here), the transaction, then
    // the places: a query and one write a member, one a hundred.
    run(
        "DELETE /orgs/{org}/groups/{id} (a student and its teacher left)",
        8,
        gw.count(&admin, Method::DELETE, &format!("{o}/groups/{lg}"), None).await,
    );
    run(
        "DELETE /orgs/{org}/courses/{id}",
        3,
        gw.count(&admin, Method::DELETE, &format!("{o}/courses/{c}"), None).await,
    );
    for (name, n) in &table {
        println!("{n:>2}  {name}");
    }
}

#[tokio::test]
async fn round_trips_inside_a_group() {
    let gw = CountingGateway::start().await;
    let admin = User::new("Counter");
    let (org, ids) = school(&admin, "2026/2027", &[(5, "А")]).await;
    let a = ids[0].clone();
    let s = support::enrol(&admin, &org, "Ученик", json!([student(&a)])).await;
    let g = support::new_group(&admin, &org, "Кружок").await["id"].as_str().unwrap().to_string();
    support::add_to_group(&admin, &org, &g, &[&admin, &s]).await;
    let base = format!("/v1/orgs/{org}/groups/{g}");
    let mut table: Vec<(&'static str, usize, usize)> = Vec::new();
    let mut run = |name: &'static str, expected: usize, got: (support::Resp, usize)| {
        assert!(got.0.status < 300, "{name}: {}", got.0.text);
        table.push((name, expected, got.1));
        got.0
    };
    let call = |method: Method, path: String, body: Option<serde_json::Value>| {
        let (gw, admin) = (&gw, &admin);
        async move { gw.count(admin, method, &path, body).await }
    };

    // Discussions: one read of the membership, the group and the post in one batch; a
    // list adds its query; a write adds its transaction.
    let t = run(
        "POST /groups/{id}/threads",
        2,
        call(Method::POST, format!("{base}/threads"), Some(json!({"title": "Тема", "body": "Текст"}))).await,
    );
    let t = t.body["id"].as_str().unwrap().to_string();
    run("GET /groups/{id}/threads", 2, call(Method::GET, format!("{base}/threads"), None).await);
    run("GET /groups/{id}/threads/{thread}", 1, call(Method::GET, format!("{base}/threads/{t}"), None).await);
    run(
        "PATCH /groups/{id}/threads/{thread}",
        2,
        call(Method::PATCH, format!("{base}/threads/{t}"), Some(json!({"body": "Правка"}))).await,
    );
    let r = run(
        "POST /groups/{id}/threads/{thread}/replies",
        2,
        call(Method::POST, format!("{base}/threads/{t}/replies"), Some(json!({"body": "Ответ"}))).await,
    );
    let r = r.body["id"].as_str().unwrap().to_string();
    run(
        "GET /groups/{id}/threads/{thread}/replies",
        2,
        call(Method::GET, format!("{base}/threads/{t}/replies"), None).await,
    );
    run(
        "PATCH /groups/{id}/threads/{thread}/replies/{reply}",
        2,
        call(Method::PATCH, format!("{base}/threads/{t}/replies/{r}"), Some(json!({"body": "Правка"}))).await,
    );
    run(
        "DELETE /groups/{id}/threads/{thread}/replies/{reply}",
        2,
        call(Method::DELETE, format!("{base}/threads/{t}/replies/{r}"), None).await,
    );
    run("DELETE /groups/{id}/threads/{thread}", 2, call(Method::DELETE, format!("{base}/threads/{t}"), None).await);
    // The announcement's email goes from the outbox, written in the same transaction.
    let an = run(
        "POST /groups/{id}/announcements",
        2,
        call(Method::POST, format!("{base}/announcements"), Some(json!({"title": "Важно", "body": "Текст"}))).await,
    );
    let an = an.body["id"].as_str().unwrap().to_string();
    run("GET /groups/{id}/announcements", 2, call(Method::GET, format!("{base}/announcements"), None).await);
    run(
        "GET /groups/{id}/announcements/{announcement}",
        1,
        call(Method::GET, format!("{base}/announcements/{an}"), None).await,
    );
    run(
        "PATCH /groups/{id}/announcements/{announcement}",
        2,
        call(Method::PATCH, format!("{base}/announcements/{an}"), Some(json!({"title": "Очень важно"}))).await,
    );
    run(
        "DELETE /groups/{id}/announcements/{announcement}",
        2,
        call(Method::DELETE, format!("{base}/announcements/{an}"), None).await,
    );
    run(
        "PATCH /groups/{id}/members/me",
        2,
        call(Method::PATCH, format!("{base}/members/me"), Some(json!({"notify": false}))).await,
    );

    // Files: the quota is read with the membership; complete reads the upload, then
    // writes the file and the organization's total in one transaction.
    let f = run(
        "POST /groups/{id}/files",
        2,
        call(
            Method::POST,
            format!("{base}/files"),
            Some(json!({"name": "План.pdf", "size": 4, "content_type": "application/pdf"})),
        )
        .await,
    );
    let file = f.body["file"]["id"].as_str().unwrap().to_string();
    assert_eq!(support::put(&f.body["upload"], b"%PDF".to_vec(), &[]).await, 200);
    run(
        "POST /groups/{id}/files/{file}/complete",
        2,
        call(Method::POST, format!("{base}/files/{file}/complete"), Some(json!({}))).await,
    );
    run("GET /groups/{id}/files", 2, call(Method::GET, format!("{base}/files"), None).await);
    run("GET /groups/{id}/files/{file}", 1, call(Method::GET, format!("{base}/files/{file}"), None).await);
    run("DELETE /groups/{id}/files/{file}", 2, call(Method::DELETE, format!("{base}/files/{file}"), None).await);
    // The summary: the organization's counters and the counts per day, read with the
    // membership; then its links.
    run("GET /orgs/{org}/stats/summary", 2, call(Method::GET, format!("/v1/orgs/{org}/stats/summary"), None).await);
    // The employees' statistics: the admin's membership, then one page of a query.
    run("GET /orgs/{org}/stats/employees", 2, call(Method::GET, format!("/v1/orgs/{org}/stats/employees"), None).await);

    for (name, expected, got) in &table {
        println!("{got:>2}  (expected {expected:>2})  {name}");
    }
    let off: Vec<_> = table.iter().filter(|(_, expected, got)| expected != got).collect();
    assert!(off.is_empty(), "DynamoDB calls other than expected: {off:?}");
}

#[tokio::test]
async fn round_trips_of_exports() {
    let gw = CountingGateway::start().await;
    let admin = User::new("Counter");
    let (org, _) = school(&admin, "2026/2027", &[]).await;
    let list = format!("/v1/orgs/{org}/exports");
    let mut table: Vec<(&'static str, usize, usize)> = Vec::new();
    let mut run = |name: &'static str, expected: usize, got: (support::Resp, usize)| {
        assert!(got.0.status < 300, "{name}: {}", got.0.text);
        table.push((name, expected, got.1));
        got.0
    };
    // The membership with the admin's building places in one batch read, then one
    // transaction: the export, its place and the audit entry.
    let made = run(
        "POST /orgs/{org}/exports",
        2,
        gw.count(&admin, Method::POST, &list, Some(json!({"kind": "summary", "format": "csv"}))).await,
    );
    let id = made.body["id"].as_str().unwrap().to_string();
    // The membership and the export in one batch read.
    run("GET /orgs/{org}/exports/{id}", 1, gw.count(&admin, Method::GET, &format!("{list}/{id}"), None).await);
    // The membership, then one page of a query.
    run("GET /orgs/{org}/exports", 2, gw.count(&admin, Method::GET, &list, None).await);

    for (name, expected, got) in &table {
        println!("{got:>2}  (expected {expected:>2})  {name}");
    }
    let off: Vec<_> = table.iter().filter(|(_, expected, got)| expected != got).collect();
    assert!(off.is_empty(), "DynamoDB calls other than expected: {off:?}");
}

#[tokio::test]
async fn round_trips_of_imports() {
    let gw = CountingGateway::start().await;
    let admin = User::new("Counter");
    let (org, _) = school(&admin, "2026/2027", &[]).await;
    let list = format!("/v1/orgs/{org}/imports");
    let mut table: Vec<(&'static str, usize, usize)> = Vec::new();
    let mut run = |name: &'static str, expected: usize, got: (support::Resp, usize)| {
        assert!(got.0.status < 300, "{name}: {}", got.0.text);
        table.push((name, expected, got.1));
        got.0
    };
    // The membership, then one transaction: the import and the audit entry (presigning
    // the upload reads nothing).
    let made = run(
        "POST /orgs/{org}/imports",
        2,
        gw.count(&admin, Method::POST, &list, Some(json!({"file_name": "journal.zip", "size": 1000}))).await,
    );
    let id = made.body["import"]["id"].as_str().unwrap().to_string();
    // The membership and the import in one batch read.
    run("GET /orgs/{org}/imports/{id}", 1, gw.count(&admin, Method::GET, &format!("{list}/{id}"), None).await);
    // The membership, then one page of a query.
    run("GET /orgs/{org}/imports", 2, gw.count(&admin, Method::GET, &list, None).await);
    run("GET /orgs/{org}/roster", 2, gw.count(&admin, Method::GET, &format!("/v1/orgs/{org}/roster"), None).await);

    for (name, expected, got) in &table {
        println!("{got:>2}  (expected {expected:>2})  {name}");
    }
    let off: Vec<_> = table.iter().filter(|(_, expected, got)| expected != got).collect();
    assert!(off.is_empty(), "DynamoDB calls other than expected: {off:?}");
}

/// The name of bench member `i`: surname, first name, patronymic of a Russian school.
fn bench_name(i: usize) -> String {
    const FIRST: [&str; 30] = [
        "Александр",
        "Алексей",
        "Анна",
        "Анастасия",
        "Андрей",
        "Артём",
        "Борис",
        "Валерия",
        "Виктор",
        "Галина",
        "Дмитрий",
        "Евгения",
        "Егор",
        "Ирина",
        "Иван",
        "Кирилл",
        "Ксения",
        "Мария",
        "Михаил",
        "Наталья",
        "Никита",
        "Ольга",
        "Павел",
        "Полина",
        "Роман",
        "Светлана",
        "Сергей",
        "Татьяна",
        "Юлия",
        "Ярослав",
    ];
    const SURNAME: [&str; 25] = [
        "Иванов",
        "Смирнов",
        "Кузнецов",
        "Попов",
        "Васильев",
        "Петров",
        "Соколов",
        "Михайлов",
        "Новиков",
        "Фёдоров",
        "Морозов",
        "Волков",
        "Алексеев",
        "Лебедев",
        "Семёнов",
        "Егоров",
        "Павлов",
        "Козлов",
        "Степанов",
        "Николаев",
        "Орлов",
        "Андреев",
        "Макаров",
        "Никитин",
        "Захаров",
    ];
    const PATRONYMIC: [&str; 10] = [
        "Александрович",
        "Алексеевич",
        "Андреевич",
        "Борисович",
        "Викторович",
        "Дмитриевич",
        "Иванович",
        "Михайлович",
        "Сергеевич",
        "Павлович",
    ];
    format!("{} {} {}", SURNAME[i % 25], FIRST[(i / 25) % 30], PATRONYMIC[(i * 7) % 10])
}

/// Searching a school of 2,000 members (written straight into the table as the store
/// writes them: 2,000 memberships and their search items): the DynamoDB calls and the
/// items read per page, paging each search to its end, and never a Scan. Each search
/// finds exactly whom the rule says, each person once. A benchmark (about 80 seconds,
/// nearly all the emulator's): `make bench-search`.
#[tokio::test]
#[ignore = "a benchmark: make bench-search"]
async fn searching_a_school_of_two_thousand_members() {
    use futures::StreamExt;
    use kabinet::domain::search::{name_tokens, NameQuery};
    use kabinet::domain::{Membership, MembershipSource, OrgId, Role, RoleGrant, UserId};
    use kabinet::store::items::{member_item, search_items};
    use kabinet::store::members::SEARCH_ROUNDS;

    const MEMBERS: usize = 2_000;
    let gw = CountingGateway::start().await;
    let admin = User::new("Администратор");
    let org = admin.create_org("Школа на две тысячи").await;
    let org_id = OrgId::parse(&org).unwrap();
    let group = support::new_group(&admin, &org, "Кружок").await["id"].as_str().unwrap().to_string();
    let t = support::enrol(&admin, &org, "Учитель Кружка", json!([teacher("Учитель", &[])])).await;
    support::add_to_group(&admin, &org, &group, &[&t]).await;
    t.get(&format!("/v1/orgs/{org}")).await.ok(200); // the day's activity recorded

    let started = std::time::Instant::now();
    let mut people = Vec::new();
    let mut items = Vec::new();
    for i in 0..MEMBERS {
        let role = match i % 20 {
            0 => RoleGrant {
                role: Role::Teacher,
                position: Some("Учитель".into()),
                specialization: None,
                class_ids: vec![],
            },
            1 | 2 => RoleGrant { role: Role::Parent, position: None, specialization: None, class_ids: vec![] },
            _ => RoleGrant { role: Role::Student, position: None, specialization: None, class_ids: vec![] },
        };
        let user = UserId::parse(&format!("bench-{i:04}")).unwrap();
        let email = (i % 5 == 0).then(|| format!("bench.{i}@school.test"));
        let mut m = Membership::new(
            &org_id,
            &user,
            &bench_name(i),
            email.as_deref(),
            vec![role],
            false,
            MembershipSource::Manual,
        );
        if i % 10 == 3 {
            m.group_ids.push(kabinet::domain::GroupId::parse(&group).unwrap());
        }
        items.push(member_item(&m).unwrap());
        items.extend(search_items(&m).unwrap());
        people.push(m);
    }
    let (db, table) = (support::dynamodb().await, support::env().await.config.table.clone());
    let written = items.len();
    let writes = items.chunks(25).map(|chunk| {
        let (db, table) = (db.clone(), table.clone());
        let puts: Vec<_> = chunk
            .iter()
            .map(|i| {
                let put = aws_sdk_dynamodb::types::PutRequest::builder().set_item(Some(i.clone())).build().unwrap();
                aws_sdk_dynamodb::types::WriteRequest::builder().put_request(put).build()
            })
            .collect();
        async move {
            let out = db.batch_write_item().request_items(&table, puts).send().await.unwrap();
            assert!(out.unprocessed_items.unwrap_or_default().is_empty());
        }
    });
    futures::stream::iter(writes).buffer_unordered(4).collect::<Vec<_>>().await;
    println!("{written} items for {MEMBERS} members written in {:.1} s", started.elapsed().as_secs_f64());

    let page_cap = 1 + 2 * SEARCH_ROUNDS;
    let searches: [(&User, &str, &str, &str); 7] = [
        (&admin, "а", "", "a common letter (about half the school)"),
        (&admin, "иван", "", "a first name, surname and patronymic"),
        (&admin, "алексеев", "", "a surname and a patronymic at once"),
        (&admin, "а", "&role=teacher", "a common letter, teachers (1 in 20)"),
        (&admin, "bench.1", "", "the start of an address"),
        (&t, "а", &format!("&not_in_group={group}"), "a teacher adding to a group"),
        (&admin, "щ", "", "nobody"),
    ];
    println!("| search | found | pages | calls per page (mean / max) | items read per page (mean / max) |");
    for (who, q, extra, what) in searches {
        let admin_search = who.sub == admin.sub;
        let query = NameQuery::parse(q).unwrap();
        let expected: std::collections::HashSet<String> = people
            .iter()
            .filter(|m| {
                let email = m.email.as_deref().filter(|_| admin_search);
                query.counted_at(&name_tokens(&m.name), email).is_some()
                    && (!extra.contains("role=teacher") || m.has_role(Role::Teacher))
                    && (!extra.contains("not_in_group") || !m.group_ids.iter().any(|g| g.as_str() == group))
            })
            .map(|m| m.user_id.to_string())
            .collect();
        let (mut found, mut calls, mut reads) = (Vec::new(), Vec::new(), Vec::new());
        let mut cursor: Option<String> = None;
        loop {
            let c = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
            let (r, ops, read) = gw.ops_of(who, &format!("/v1/orgs/{org}/members?q={}{extra}{c}", urlencode(q))).await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert!(ops.iter().all(|o| o != "Scan"), "no Scan: {ops:?}");
            assert!(ops.len() <= page_cap, "{what}: {} calls on one page: {ops:?}", ops.len());
            calls.push(ops.len());
            reads.push(read);
            found
                .extend(r.body["items"].as_array().unwrap().iter().map(|m| m["user_id"].as_str().unwrap().to_string()));
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        let found_set: std::collections::HashSet<String> =
            found.iter().filter(|u| u.starts_with("bench-")).cloned().collect();
        assert_eq!(found.iter().filter(|u| u.starts_with("bench-")).count(), found_set.len(), "{what}: each once");
        assert_eq!(found_set, expected, "{what}: whom the rule finds");
        let mean = |v: &[usize]| v.iter().sum::<usize>() as f64 / v.len() as f64;
        println!(
            "| {what} (`{q}`) | {} | {} | {:.1} / {} | {:.0} / {} |",
            found.len(),
            calls.len(),
            mean(&calls),
            calls.iter().max().unwrap(),
            mean(&reads),
            reads.iter().max().unwrap()
        );
    }
}

/// The employees' statistics with people of the journal who have not joined: a page of
/// members is the caller's check, the members' query and one batch read of the records
/// they joined as; the page where the members end adds the waiting employees' marks
/// (one query) and their records (one batch read); `sort=last_active` reads them all.
#[tokio::test]
async fn round_trips_of_the_employees_with_people_who_have_not_joined() {
    use kabinet_tests::support::{
        accept_offer, class_row, enrollment_row, run as import, signed_in, unique_email, user_row,
    };
    let gw = CountingGateway::start().await;
    let admin = User::new("Counter");
    let org = admin.create_org("Школа").await;
    let anna = signed_in("Анна Иванова", &unique_email("rt-t1")).await;
    let users = [
        user_row("t1", "teacher", "Анна", "Иванова", "t.ivanova", &anna.email, ""),
        user_row("t2", "teacher", "Вера", "Орлова", "v.orlova", "", ""),
        user_row("a1", "administrator", "Борис", "Петров", "b.petrov", "", ""),
        user_row("s1", "student", "Пётр", "Смирнов", "p.smirnov", "", ""),
        user_row("g1", "guardian", "Ольга", "Смирнова", "o.smirnova", "", "s1"),
    ];
    let enrollments =
        [enrollment_row("e1", "c5a", "t1", "teacher", true), enrollment_row("e2", "c5a", "s1", "student", false)];
    import(&admin, &org, &[class_row("c5a", "5А")], &users, &enrollments, false).await;
    support::enrol(&admin, &org, "Учитель", json!([teacher("Учитель", &[])])).await;
    // One joins as her record: the records members joined as are read with their page.
    accept_offer(&anna, &org).await;
    let o = format!("/v1/orgs/{org}");
    let mut table = Vec::new();
    let mut run = |name: &'static str, expected: usize, got: (support::Resp, usize)| {
        assert!(got.0.status < 300, "{name}: {}", got.0.text);
        table.push((name, got.1));
        assert_eq!(got.1, expected, "{name} made {} DynamoDB calls", got.1);
        got.0
    };
    let get = |path: String| {
        let (gw, admin) = (&gw, &admin);
        async move { gw.count(admin, Method::GET, &path, None).await }
    };
    let page = run("GET stats/employees (3 members, then 2 waiting)", 5, get(format!("{o}/stats/employees")).await);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 5, "{}", page.text);
    // Page by page: the members (one read of the records they joined as a page), then
    // the members' query finds no more and the first waiting employee fills the page,
    // then the waiting alone.
    let mut cursor = String::new();
    for (name, expected) in [
        ("GET stats/employees?limit=1 (a member)", 3),
        ("GET stats/employees?limit=1 (a member)", 3),
        ("GET stats/employees?limit=1 (a member)", 3),
        ("GET stats/employees?limit=1 (the members end, the waiting start)", 4),
        ("GET stats/employees?limit=1 (the other waiting one)", 3),
    ] {
        let page = run(name, expected, get(format!("{o}/stats/employees?limit=1&cursor={cursor}")).await);
        assert_eq!(page.body["items"].as_array().unwrap().len(), 1, "{name}: {}", page.text);
        cursor = page.body["next_cursor"].as_str().unwrap_or_default().to_string();
    }
    assert!(cursor.is_empty(), "the last page has no cursor");
    run("GET stats/employees?sort=last_active", 5, get(format!("{o}/stats/employees?sort=last_active")).await);
    run("GET stats/summary", 2, get(format!("{o}/stats/summary")).await);
    run("GET roster (a parent among them)", 3, get(format!("{o}/roster")).await);
    for (name, n) in &table {
        println!("{n:>2}  {name}");
    }
}

/// An import's DynamoDB calls by operation, on the counting gateway's context (the test
/// runs the importer itself: nothing else reads this test's stream).
async fn counted_import(
    gw: &CountingGateway,
    admin: &User,
    org: &str,
    zip: Vec<u8>,
) -> (Value, BTreeMap<String, usize>) {
    let created =
        admin.post(&format!("/v1/orgs/{org}/imports"), json!({"file_name": "journal.zip", "size": zip.len()})).await;
    let created = created.ok(201).clone();
    assert_eq!(support::put(&created["upload"], zip, &[]).await, 200);
    let id = created["import"]["id"].as_str().unwrap().to_string();
    let path = format!("/v1/orgs/{org}/imports/{id}");
    assert_eq!(admin.post(&format!("{path}/start"), json!({"invite": false})).await.ok(202)["status"], "processing");
    let from = gw.ops().len();
    let (org_id, import_id) = (OrgId::parse(org).unwrap(), ImportId::parse(&id).unwrap());
    let ran = kabinet::events::importer::import(&gw.ctx, &org_id, &import_id, 0, Default::default()).await.unwrap();
    assert!(matches!(ran, kabinet::events::importer::Ran::Finished(Some(_))), "the import ran: {ran:?}");
    let mut by_op = BTreeMap::new();
    for op in &gw.ops()[from..] {
        *by_op.entry(op.clone()).or_default() += 1;
    }
    (admin.get(&path).await.ok(200).clone(), by_op)
}

/// The importer's calls per row: a chunk of rows is one batch read of its records, then
/// its writes a group of rows a transaction (conditions kept), and a chunk of unchanged
/// rows one transaction marking them seen; settling a page of people's marks is one
/// transaction of deletes. Besides, the importer's own reads and progress writes.
#[tokio::test]
async fn round_trips_of_an_import_per_row() {
    use kabinet_tests::support::{class_row, enrollment_row, journal_zip, user_row};
    let gw = CountingGateway::start().await;
    let admin = User::new("Counter");
    let org = admin.create_org("Школа").await;
    let classes = [class_row("c5a", "5А"), class_row("c5b", "5Б")];
    let mut users = Vec::new();
    let mut enrollments = Vec::new();
    for t in 0..4 {
        users.push(user_row(&format!("t{t}"), "teacher", "Анна", &format!("Учитель{t}"), &format!("t{t}"), "", ""));
        let class = if t % 2 == 0 { "c5a" } else { "c5b" };
        enrollments.push(enrollment_row(&format!("et{t}"), class, &format!("t{t}"), "teacher", t < 2));
    }
    for s in 0..150 {
        users.push(user_row(&format!("s{s}"), "student", "Пётр", &format!("Ученик{s}"), &format!("s{s}"), "", ""));
        let class = if s % 2 == 0 { "c5a" } else { "c5b" };
        enrollments.push(enrollment_row(&format!("es{s}"), class, &format!("s{s}"), "student", false));
    }
    let zip = journal_zip(&classes, &users, &enrollments);
    // 1 session, 2 classes, 154 people, 154 enrollments.
    let rows = 311.0;
    let mut table = Vec::new();
    for pass in ["first", "unchanged"] {
        let (done, ops) = counted_import(&gw, &admin, &org, zip.clone()).await;
        assert_eq!(done["status"], "done", "{done:#}");
        let c = &done["counts"];
        let expected = if pass == "first" { (310, 0) } else { (0, 310) };
        assert_eq!((c["created"].as_u64().unwrap(), c["unchanged"].as_u64().unwrap()), expected, "{done:#}");
        let all: usize = ops.values().sum();
        println!("{pass}: {all} calls, {:.3} a row: {ops:?}", all as f64 / rows);
        table.push((pass, all, ops));
    }
    let count = |pass: usize, op: &str| table[pass].2.get(op).copied().unwrap_or(0);
    // The first import: two classes alone (each moves the organization's counts), the
    // people and the enrollments a few transactions a chunk of 100 (11 for the four
    // chunks), the marks of 154 people settled in two, the import finished in one (was
    // 311 transactions and 154 deletes, 1.4 calls a row).
    assert!(count(0, "TransactWriteItems") <= 16, "{:?}", table[0]);
    assert!((table[0].1 as f64) / rows < 0.15, "first import: {:?}", table[0]);
    // Unchanged: per chunk one batch read and one transaction of marks (five), and the
    // finish; nothing to settle (was an UpdateItem a row).
    assert!(count(1, "TransactWriteItems") <= 6, "{:?}", table[1]);
    assert!((table[1].1 as f64) / rows < 0.1, "unchanged import: {:?}", table[1]);
    for (_, _, ops) in &table {
        // No row written or marked alone: the one delete gives back the organization's
        // import place.
        let count = |op: &str| ops.get(op).copied().unwrap_or(0);
        assert_eq!(count("PutItem"), 0, "{ops:?}");
        assert!(count("DeleteItem") <= 1, "{ops:?}");
        assert!(count("UpdateItem") <= 12, "progress alone: {ops:?}");
    }
}

/// The inbox's round trips, and a fan-out's per recipient: an announcement to a group of
/// 11 readers delivered on the counting context (a new event of the same announcement,
/// which only this delivery sees).
#[tokio::test]
async fn round_trips_of_the_inbox_and_of_a_fan_out() {
    use kabinet::domain::{AnnouncementId, GroupId, OutboxEvent, UserId};

    let gw = CountingGateway::start().await;
    let c = support::circle("Счётный кружок").await;
    let mut readers = Vec::new();
    for i in 0..10 {
        readers.push(support::enrol(&c.admin, &c.org, &format!("Ученик {i}"), json!([student(&c.class)])).await);
    }
    let readers: Vec<&User> = readers.iter().collect();
    support::add_to_group(&c.admin, &c.org, &c.group, &readers).await;
    let posted = support::announce(&c, &c.teacher, "Счёт", "Раз, два, три").await;
    // Its own delivery (the test's notifier) has put it in the pupil's inbox.
    for _ in 0..150 {
        let page = c.pupil.get("/v1/me/notifications").await;
        if page.ok(200)["items"].as_array().unwrap().iter().any(|n| n["kind"] == "announcement") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let newest = c.pupil.get("/v1/me/notifications").await.ok(200)["items"][0]["id"].as_str().unwrap().to_string();

    let mut table: Vec<(&'static str, usize, usize)> = Vec::new();
    let mut run = |name: &'static str, expected: usize, got: (support::Resp, usize)| {
        assert!(got.0.status < 300, "{name}: {}", got.0.text);
        table.push((name, expected, got.1));
        got.0
    };
    // The unread marks' keys (the count and each item's read state), then a page.
    let page = run("GET /me/notifications", 2, gw.count(&c.pupil, Method::GET, "/v1/me/notifications", None).await);
    assert_eq!(page.body["unread"], 3);
    // A page of the marks, their items in one batch read, and the count.
    let unread = "/v1/me/notifications?unread=true";
    run("GET /me/notifications?unread=true", 3, gw.count(&c.pupil, Method::GET, unread, None).await);
    // The unread marks' keys (the named ones; the rest are the count after), then one
    // transaction deleting the named ones.
    let body = Some(json!({"ids": [newest]}));
    run(
        "POST /me/notifications/read {ids}",
        2,
        gw.count(&c.pupil, Method::POST, "/v1/me/notifications/read", body).await,
    );
    // The same, for the marks up to it.
    let body = Some(json!({"up_to": newest}));
    run(
        "POST /me/notifications/read {up_to}",
        2,
        gw.count(&c.pupil, Method::POST, "/v1/me/notifications/read", body).await,
    );
    // The profile.
    let settings = "/v1/me/notification-settings";
    run("GET /me/notification-settings", 1, gw.count(&c.pupil, Method::GET, settings, None).await);
    // One update of the profile.
    let body = Some(json!({"mail": {"reply": false}}));
    run("PATCH /me/notification-settings", 1, gw.count(&c.pupil, Method::PATCH, settings, body).await);

    // The fan-out: the announcement (is it still there), the group's places, the readers'
    // profiles (their settings with them) in one batch read, their inbox items in one
    // transaction (50 a transaction), the addresses' marks in one batch read; then per
    // email its claim and its record.
    let typed = OutboxEvent::AnnouncementPosted {
        org_id: kabinet::domain::OrgId::parse(&c.org).unwrap(),
        org_name: "Школа".into(),
        group_id: GroupId::parse(&c.group).unwrap(),
        group_name: c.name.clone(),
        announcement_id: AnnouncementId::parse(posted["id"].as_str().unwrap()).unwrap(),
        title: "Счёт".into(),
        body: "Раз, два, три".into(),
        author_id: UserId::parse(&c.teacher.sub).unwrap(),
        author_name: c.teacher.name.clone(),
        mailed: true,
    };
    let event = kabinet::store::outbox::Event::new(typed.kind(), Some(typed.org_id()), typed.payload());
    let from = gw.ops().len();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(40);
    kabinet::events::notifier::deliver(&gw.ctx, &event, &typed, deadline).await.unwrap();
    let ops = gw.ops()[from..].to_vec();
    let mut by_op: BTreeMap<&str, usize> = BTreeMap::new();
    for op in &ops {
        *by_op.entry(op.as_str()).or_default() += 1;
    }
    let recipients = 11;
    println!(
        "a fan-out to {recipients}: {} calls ({by_op:?}), {:.2} a recipient",
        ops.len(),
        ops.len() as f64 / recipients as f64
    );
    let expected = BTreeMap::from([
        ("BatchGetItem", 2),
        ("GetItem", 1),
        ("PutItem", recipients),
        ("Query", 1),
        ("TransactWriteItems", 1),
        ("UpdateItem", recipients),
    ]);
    assert_eq!(by_op, expected, "{ops:?}");

    for (name, expected, got) in &table {
        println!("{got:>2}  (expected {expected:>2})  {name}");
    }
    let off: Vec<_> = table.iter().filter(|(_, expected, got)| expected != got).collect();
    assert!(off.is_empty(), "DynamoDB calls other than expected: {off:?}");
}
