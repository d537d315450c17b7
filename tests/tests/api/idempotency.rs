//! Idempotency-Key on creating POSTs.

use kabinet_tests::support::User;
use reqwest::Method;
use serde_json::json;

async fn org_count(u: &User) -> usize {
    u.get("/v1/me/orgs?limit=200").await.ok(200)["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_retry_returns_the_first_result() {
    let u = User::new("Retrier");
    let body = json!({"name": "Школа с ключом"});
    let first = u.call(Method::POST, "/v1/orgs", Some(body.clone()), &[("idempotency-key", "k-1")]).await;
    let second = u.call(Method::POST, "/v1/orgs", Some(body.clone()), &[("idempotency-key", "k-1")]).await;
    assert_eq!(first.ok(201), second.ok(201));
    assert_eq!(first.header("location"), second.header("location"));
    assert_eq!(first.header("etag"), second.header("etag"));
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(org_count(&u).await, 1);
    // Another key is another request.
    u.call(Method::POST, "/v1/orgs", Some(body), &[("idempotency-key", "k-2")]).await.ok(201);
    assert_eq!(org_count(&u).await, 2);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused() {
    let u = User::new("Reuser");
    u.call(Method::POST, "/v1/orgs", Some(json!({"name": "A"})), &[("idempotency-key", "same")]).await.ok(201);
    let r = u.call(Method::POST, "/v1/orgs", Some(json!({"name": "B"})), &[("idempotency-key", "same")]).await;
    r.problem(422, "idempotency_key_reused");
    assert_eq!(org_count(&u).await, 1);
}

#[tokio::test]
async fn keys_are_per_person_and_refusals_are_replayed() {
    let a = User::new("A");
    let b = User::new("B");
    let body = json!({"name": "Своя школа"});
    let ra = a.call(Method::POST, "/v1/orgs", Some(body.clone()), &[("idempotency-key", "shared-key")]).await;
    let rb = b.call(Method::POST, "/v1/orgs", Some(body), &[("idempotency-key", "shared-key")]).await;
    assert_ne!(ra.ok(201)["id"], rb.ok(201)["id"]);
    let bad = json!({"name": ""});
    a.call(Method::POST, "/v1/orgs", Some(bad.clone()), &[("idempotency-key", "bad")])
        .await
        .problem(422, "validation_failed");
    a.call(Method::POST, "/v1/orgs", Some(bad), &[("idempotency-key", "bad")]).await.problem(422, "validation_failed");
    a.call(Method::POST, "/v1/orgs", Some(json!({"name": "x"})), &[("idempotency-key", "")])
        .await
        .problem(422, "validation_failed");
}

#[tokio::test]
async fn concurrent_retries_create_once() {
    let u = User::new("Impatient");
    let body = json!({"name": "Одна школа"});
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let (u, body) = (u.clone(), body.clone());
            tokio::spawn(
                async move { u.call(Method::POST, "/v1/orgs", Some(body), &[("idempotency-key", "burst")]).await },
            )
        })
        .collect();
    let mut ids = Vec::new();
    for c in calls {
        let r = c.await.unwrap();
        ids.push(r.ok(201)["id"].as_str().unwrap().to_string());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(org_count(&u).await, 1);
}
