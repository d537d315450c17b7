//! Faults of AWS's, injected by the emulator for one organization: throttling and
//! cancelled transactions that outlast the retries answer 503 `unavailable` with
//! `Retry-After`, never 500, and change nothing; a retry once they pass succeeds once.

use reqwest::Method;
use serde_json::json;

use kabinet_tests::support::{faults_of, injected_faults, registered, Faults, Resp};

/// A 503 `unavailable` that says when to retry.
#[track_caller]
fn unavailable(r: &Resp) {
    r.problem(503, "unavailable");
    let seconds: u64 = r.header("retry-after").and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{r:?}"));
    assert!((1..=2).contains(&seconds), "Retry-After {seconds}");
    assert!(r.body["request_id"].is_string() && !r.text.contains("Throttling"), "{}", r.text);
}

#[tokio::test]
async fn dynamodb_throttling_every_call_answers_503_and_changes_nothing() {
    let admin = registered("Throttled").await;
    let org = admin.create_org("Школа под нагрузкой").await;
    let path = format!("/v1/orgs/{org}");
    let before = admin.get(&path).await.ok(200).clone();
    let counted = faults_of(&injected_faults().await, "dynamodb", "throttle");

    let faults = Faults::set(json!({"dynamodb:*:throttle": {"rate": 1, "match": org}})).await;
    unavailable(&admin.get(&path).await);
    let edit = Some(json!({"address": "Москва"}));
    unavailable(&admin.call(Method::PATCH, &path, edit.clone(), &[("if-match", "\"v1\"")]).await);
    let injected = faults_of(&injected_faults().await, "dynamodb", "throttle") - counted;
    faults.clear().await;

    // Each throttled call was retried by the SDK before it gave up: more faults than calls.
    assert!(injected > 2, "{injected} throttled calls");
    let after = admin.get(&path).await;
    assert_eq!(after.ok(200), &before, "nothing changed");
    assert_eq!(after.header("etag"), Some("\"v1\""));
    // Once the throttling passed, the same edit goes through.
    let r = admin.call(Method::PATCH, &path, edit, &[("if-match", "\"v1\"")]).await;
    assert_eq!(r.ok(200)["address"], "Москва");
}

#[tokio::test]
async fn throttled_writes_after_good_reads_answer_503_and_leave_nothing_half_done() {
    let admin = registered("Half").await;
    let org = admin.create_org("Школа записи").await;
    let path = format!("/v1/orgs/{org}");
    let before = admin.get(&path).await.ok(200).clone();
    let counted = faults_of(&injected_faults().await, "dynamodb", "throughput");

    // Reads answer; every write naming the organization is throttled.
    let scoped = json!({"rate": 1, "match": org});
    let faults = Faults::set(json!({
        "dynamodb:PutItem:throughput": scoped, "dynamodb:UpdateItem:throughput": scoped,
        "dynamodb:DeleteItem:throughput": scoped, "dynamodb:TransactWriteItems:throughput": scoped,
    }))
    .await;
    let edit = Some(json!({"name": "Новое имя", "phone": "+74951234567"}));
    unavailable(&admin.call(Method::PATCH, &path, edit, &[("if-match", "\"v1\"")]).await);
    let injected = faults_of(&injected_faults().await, "dynamodb", "throughput") - counted;
    faults.clear().await;

    assert!(injected >= 1, "{injected}");
    let after = admin.get(&path).await;
    assert_eq!(after.ok(200), &before, "nothing changed");
    assert_eq!(after.header("etag"), Some("\"v1\""));
}

#[tokio::test]
async fn a_transaction_conflict_on_a_write_answers_503_and_a_retry_with_its_key_creates_once() {
    let admin = registered("Conflicted").await;
    let org = admin.create_org("Школа конфликтов").await;
    let classes = format!("/v1/orgs/{org}/classes");
    let counted = faults_of(&injected_faults().await, "dynamodb", "conflict");
    let class = json!({"grade": 5, "letter": "А", "year": "2026/2027"});
    let key = [("idempotency-key", "faults-class-5a")];

    let faults = Faults::set(json!({"dynamodb:TransactWriteItems:conflict": {"rate": 1, "match": org}})).await;
    let r = admin.call(Method::POST, &classes, Some(class.clone()), &key).await;
    unavailable(&r);
    let injected = faults_of(&injected_faults().await, "dynamodb", "conflict") - counted;
    faults.clear().await;

    // The store retried the conflicting transaction before it gave up.
    assert!(injected > 1, "{injected} cancelled transactions");
    assert_eq!(admin.get(&classes).await.ok(200)["items"], json!([]), "no class was made");
    // The failure was not kept as the key's answer: the retry runs, and creates one class.
    let created = admin.call(Method::POST, &classes, Some(class.clone()), &key).await;
    assert_eq!(created.ok(201)["name"], "5А");
    let again = admin.call(Method::POST, &classes, Some(class), &key).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(admin.get(&classes).await.ok(200)["items"].as_array().map(Vec::len), Some(1));
}

/// A single write whose item is in another transaction's way (TransactionConflictException,
/// which the SDK does not retry of itself) is retried like throttling: reading one's
/// profile (one UpdateItem keeping it in step with the token) that meets it on every try
/// answers 503 after the route's three tries, and answers once it passes.
#[tokio::test]
async fn a_single_write_that_meets_a_transaction_is_retried_before_a_503() {
    let person = registered("Встречный").await;
    let counted = faults_of(&injected_faults().await, "dynamodb", "conflict");

    let faults = Faults::set(json!({"dynamodb:UpdateItem:conflict": {"rate": 1, "match": person.sub}})).await;
    unavailable(&person.get("/v1/me").await);
    let injected = faults_of(&injected_faults().await, "dynamodb", "conflict") - counted;
    faults.clear().await;

    assert_eq!(injected, 3, "the route's three tries of the one write");
    assert_eq!(person.get("/v1/me").await.ok(200)["name"], "Встречный");
}
