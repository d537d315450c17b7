//! Invite links: one made by an admin.

use serde_json::Value;

use super::http::User;

/// Makes a link and returns (token, link id).
pub async fn link(admin: &User, org: &str, body: Value) -> (String, String) {
    let r = admin.post(&format!("/v1/orgs/{org}/invite-links"), body).await;
    let v = r.ok(201).clone();
    (v["token"].as_str().unwrap().to_string(), v["id"].as_str().unwrap().to_string())
}
