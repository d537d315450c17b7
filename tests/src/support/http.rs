//! Speaking HTTP to a gateway: the client, the answer ([`Resp`]) and a signed-in person
//! ([`User`]) with a dev ID token.

use kabinet_local::tokens;
use reqwest::Method;
use serde_json::Value;

use super::env::{env, SECRET};

/// A client per request: pooled connections belong to the runtime that opened them, and
/// each test has its own runtime.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client")
}

/// An answer, with its JSON body (`Null` when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Self {
        assert_eq!(self.status, status, "status of {}", self.text);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{}", self.text);
        assert_eq!(self.body["code"], code, "{}", self.text);
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string() && self.body["type"].is_string());
        self
    }

    /// The fields named in a validation problem.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or("").to_string()).collect())
            .unwrap_or_default()
    }

    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{}", self.text);
        &self.body
    }
}

/// Sends one request to the gateway at `base`, with these headers besides.
pub async fn send_with(
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Resp {
    let mut rb = client().request(method, format!("{base}{path}"));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if let Some(b) = body {
        rb = rb.header("content-type", "application/json").body(serde_json::to_vec(b).expect("json"));
    }
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let resp = rb.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp { status, headers, body, text }
}

/// Sends one request to the gateway at `base`.
pub async fn send_to(base: &str, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Resp {
    send_with(base, method, path, token, body, &[]).await
}

/// Sends one request to the test's own gateway.
pub async fn send(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Resp {
    send_with(&env().await.base, method, path, token, body, headers).await
}

/// A signed-in person with a fresh identity.
#[derive(Debug, Clone)]
pub struct User {
    pub sub: String,
    pub email: String,
    pub name: String,
    pub token: String,
}

impl User {
    pub fn new(name: &str) -> User {
        Self::with(name, true)
    }

    pub fn with(name: &str, email_verified: bool) -> User {
        let id = ulid::Ulid::new().to_string().to_lowercase();
        Self::with_email(name, &format!("{id}@school.test"), email_verified)
    }

    /// A person whose identity provider gives `email` (which need not be a valid address).
    pub fn with_email(name: &str, email: &str, email_verified: bool) -> User {
        let id = ulid::Ulid::new().to_string().to_lowercase();
        let sub = format!("test-{id}");
        let email = email.to_string();
        let claims = tokens::DevClaims::new(&sub, Some(&email), Some(name), email_verified, 3600);
        let token = tokens::mint(SECRET, &claims);
        User { sub, email, name: name.into(), token }
    }

    /// The same person (same subject) signing in with another email, verified or not (an
    /// address changed at the identity provider).
    pub fn with_new_email(&self, email: &str, email_verified: bool) -> User {
        let claims = tokens::DevClaims::new(&self.sub, Some(email), Some(&self.name), email_verified, 3600);
        let token = tokens::mint(SECRET, &claims);
        User { sub: self.sub.clone(), email: email.to_string(), name: self.name.clone(), token }
    }

    pub async fn get(&self, path: &str) -> Resp {
        send(Method::GET, path, Some(&self.token), None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        send(Method::POST, path, Some(&self.token), Some(&body), &[]).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        send(Method::PATCH, path, Some(&self.token), Some(&body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        send(Method::DELETE, path, Some(&self.token), None, &[]).await
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Resp {
        send(method, path, Some(&self.token), body.as_ref(), headers).await
    }

    /// Creates an organization (the user becomes its admin) and returns its ID.
    pub async fn create_org(&self, name: &str) -> String {
        let r = self.post("/v1/orgs", serde_json::json!({ "name": name })).await;
        r.ok(201)["id"].as_str().expect("org id").to_string()
    }
}

#[track_caller]
pub fn assert_status(r: &Resp, status: u16) {
    assert_eq!(r.status, status, "{}", r.text);
}
