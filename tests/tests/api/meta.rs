//! The API's own description: `GET /v1/openapi.json` (the route table's `meta` area),
//! served without a token. What the document holds is checked against the route table in
//! infra.rs and against the running API by schemathesis.rs.

use kabinet_tests::support::send;
use reqwest::Method;

#[tokio::test]
async fn openapi_is_served_without_a_token() {
    let r = send(Method::GET, "/v1/openapi.json", None, None, &[]).await;
    let doc = r.ok(200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/v1/orgs/{org}"]["patch"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}
