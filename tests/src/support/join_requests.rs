//! Join requests: an admin's decision on one.

use reqwest::Method;
use serde_json::Value;

use super::http::{Resp, User};

/// An admin's decision (`accept` or `reject`) on a join request as they read it: with
/// `If-Match` set to the request's ETag.
pub async fn decide(admin: &User, org: &str, id: &str, action: &str, body: Value) -> Resp {
    let base = format!("/v1/orgs/{org}/join-requests/{id}");
    let read = admin.get(&base).await;
    let etag = read.header("etag").unwrap_or("\"v0\"").to_string();
    admin.call(Method::POST, &format!("{base}/{action}"), Some(body), &[("If-Match", &etag)]).await
}
