//! Counts the DynamoDB round trips of each route on its usual path. The counts are part
//! of the design: a read is the membership check (one BatchGetItem with what it reads)
//! plus what it lists; a write is one transaction after its reads; none reads-then-writes
//! an invariant (the conditions in the transaction hold it).

use kabinet_tests::{CountingGateway, User};
use reqwest::Method;
use serde_json::json;

use crate::{registered, school, student, teacher};

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
    let mut run = |name: &'static str, expected: usize, got: (kabinet_tests::Resp, usize)| {
        assert!(got.0.status < 300, "{name}: {}", got.0.text);
        table.push((name, got.1));
        assert_eq!(got.1, expected, "{name} made {} DynamoDB calls", got.1);
    };
    let o = format!("/v1/orgs/{org}");
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
    run(
        "GET /orgs/{org}/members?class=",
        3,
        gw.count(&admin, Method::GET, &format!("{o}/members?class={a}"), None).await,
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
