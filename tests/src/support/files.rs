//! Files of a group: an upload asked for, PUT to its presigned URL and completed.

use serde_json::{json, Value};

use super::discussions::Circle;
use super::http::{client, User};
use super::values::id_of;

/// `n` bytes, not all of them text.
pub fn content(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 256) as u8).collect()
}

/// Asks for an upload as `who`; answers the file and the upload.
pub async fn start_upload(c: &Circle, who: &User, name: &str, size: usize, content_type: &str) -> (Value, Value) {
    let r = who.post(&c.path("/files"), json!({"name": name, "size": size, "content_type": content_type})).await;
    let answer = r.ok(201).clone();
    (answer["file"].clone(), answer["upload"].clone())
}

/// PUTs `body` to the upload's URL with exactly its headers (leaving out those named in
/// `without`); answers the status.
pub async fn put(upload: &Value, body: Vec<u8>, without: &[&str]) -> u16 {
    assert_eq!(upload["method"], "PUT", "{upload}");
    let mut rb = client().put(upload["url"].as_str().unwrap());
    for (k, v) in upload["headers"].as_object().expect("upload headers") {
        if !without.iter().any(|w| w.eq_ignore_ascii_case(k)) {
            rb = rb.header(k.as_str(), v.as_str().expect("a header value"));
        }
    }
    let resp = rb.body(body).send().await.expect("PUT to the emulator");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    assert!(status < 500, "{status}: {text}");
    status
}

/// Uploads `bytes` as `who` through the presigned URL and completes it; answers the
/// ready file.
pub async fn upload(c: &Circle, who: &User, name: &str, bytes: Vec<u8>, content_type: &str) -> Value {
    let (file, upload) = start_upload(c, who, name, bytes.len(), content_type).await;
    assert_eq!(put(&upload, bytes, &[]).await, 200);
    let id = id_of(&file);
    let done = who.post(&c.path(&format!("/files/{id}/complete")), json!({})).await;
    let ready = done.ok(200).clone();
    assert_eq!(ready["status"], "ready", "{ready}");
    ready
}
