//! HTTP plumbing every route shares: auth, routing errors, bodies, CORS.

use kabinet_local::tokens::{mint, DevClaims};
use kabinet_tests::support;
use kabinet_tests::support::{env, send, User};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn missing_or_invalid_tokens_are_401_problems() {
    send(Method::GET, "/v1/me", None, None, &[]).await.problem(401, "unauthorized");
    send(Method::GET, "/v1/me", Some("not.a.jwt"), None, &[]).await.problem(401, "unauthorized");
    let claims = DevClaims::new("u-x", Some("x@school.test"), None, true, 3600);
    let forged = mint("another-secret", &claims);
    let r = send(Method::GET, "/v1/me", Some(&forged), None, &[]).await;
    r.problem(401, "unauthorized");
    assert!(r.body["detail"].as_str().unwrap().contains("signature"));
    let expired = mint(support::SECRET, &DevClaims::new("u-x", None, None, true, -5));
    let r = send(Method::GET, "/v1/me", Some(&expired), None, &[]).await;
    assert!(r.problem(401, "unauthorized").body["detail"].as_str().unwrap().contains("expired"));
    let mut other_aud = DevClaims::new("u-x", None, None, true, 3600);
    other_aud.aud = "someone-else".into();
    send(Method::GET, "/v1/me", Some(&mint(support::SECRET, &other_aud)), None, &[]).await.problem(401, "unauthorized");
    let mut other_iss = DevClaims::new("u-x", None, None, true, 3600);
    other_iss.iss = "https://elsewhere".into();
    send(Method::GET, "/v1/me", Some(&mint(support::SECRET, &other_iss)), None, &[]).await.problem(401, "unauthorized");
    assert_eq!(send(Method::GET, "/v1/me", None, None, &[]).await.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let u = User::new("Nobody");
    u.get("/v1/nothing-here").await.problem(404, "route_not_found");
    u.get("/elsewhere").await.problem(404, "route_not_found");
    let r = u.delete("/v1/me").await;
    r.problem(405, "method_not_allowed");
    assert_eq!(r.header("allow"), Some("GET, PATCH"));
    // Even without a token: the route does not exist either way.
    send(Method::PUT, "/v1/orgs", None, None, &[]).await.problem(405, "method_not_allowed");
}

#[tokio::test]
async fn bodies_malformed_json_wrong_type_and_media_type() {
    let u = User::new("Body Tester");
    let r = u.call(Method::POST, "/v1/orgs", None, &[("content-type", "application/json")]).await;
    r.problem(400, "malformed_json");
    let raw = reqwest::Client::new()
        .post(format!("{}/v1/orgs", env().await.base))
        .bearer_auth(&u.token)
        .header("content-type", "application/json")
        .body("{\"name\": \"School\",")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    let p: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(p["code"], "malformed_json");
    let r = u.post("/v1/orgs", json!({"name": 42})).await;
    r.problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["name"]);
    let r = u.post("/v1/orgs", json!({"name": "School", "colour": "red"})).await;
    r.problem(422, "validation_failed");
    let raw = reqwest::Client::new()
        .post(format!("{}/v1/orgs", env().await.base))
        .bearer_auth(&u.token)
        .header("content-type", "text/plain")
        .body("{\"name\": \"School\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 415);
    // None of it created anything.
    assert_eq!(u.get("/v1/me/orgs").await.ok(200)["items"], json!([]));
}

#[tokio::test]
async fn answers_carry_a_request_id_and_never_internal_text() {
    let u = User::new("Ids");
    let r = u.get("/v1/me").await;
    assert!(r.header("x-request-id").is_some());
    let r = u.get("/v1/nothing").await;
    assert_eq!(r.body["request_id"].as_str(), r.header("x-request-id"));
}

#[tokio::test]
async fn cors_lets_a_local_front_end_call_the_api() {
    let pre = reqwest::Client::new()
        .request(Method::OPTIONS, format!("{}/v1/orgs", env().await.base))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type, idempotency-key")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status().as_u16(), 204);
    let h = pre.headers();
    assert_eq!(h["access-control-allow-origin"], "http://localhost:5173");
    let allowed = h["access-control-allow-headers"].to_str().unwrap().to_lowercase();
    for needed in ["authorization", "content-type", "if-match", "idempotency-key"] {
        assert!(allowed.contains(needed), "{needed}");
    }
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("PATCH"));
    let u = User::new("Cors");
    let r = send(Method::GET, "/v1/me", Some(&u.token), None, &[("origin", "http://localhost:5173")]).await;
    assert_eq!(r.header("access-control-allow-origin"), Some("http://localhost:5173"));
    assert!(r.header("access-control-expose-headers").unwrap().contains("ETag"));
    let r = send(Method::GET, "/v1/me", Some(&u.token), None, &[("origin", "https://evil.example")]).await;
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn internal_failures_are_a_generic_500_without_aws_text() {
    // A gateway whose table does not exist: every store call fails inside the SDK.
    let aws = kabinet_local::emulator::sdk_config(&env().await.endpoint).await;
    let mut config = env().await.config.clone();
    config.table = "no-such-table".into();
    let ctx = kabinet::Ctx::new(config, &aws);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let gateway = kabinet_local::Gateway::new(ctx, support::SECRET.to_string(), vec![]);
    tokio::spawn(kabinet_local::serve(listener, gateway));
    let u = User::new("Unlucky");
    let r = reqwest::Client::new().get(format!("{base}/v1/me")).bearer_auth(&u.token).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 500);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let text = r.text().await.unwrap();
    let p: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(p["code"], "internal");
    assert!(p["request_id"].is_string());
    for leak in ["ResourceNotFound", "no-such-table", "dynamodb", "Exception", "panicked"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
}
