//! Test harness: one emulator and one local gateway per test process, shared by the tests
//! in it (each test makes its own users and organizations, so they run in parallel).
//! Tests speak HTTP to the gateway with dev ID tokens, as a front end would.

use std::sync::OnceLock;

use kabinet::config::Config;
use kabinet_local::{emulator, setup, tokens, Emulator, Gateway};
use reqwest::Method;
use serde_json::Value;

pub struct TestEnv {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// The emulator's endpoint.
    pub endpoint: String,
    pub config: Config,
    pub secret: String,
}

static ENV: OnceLock<TestEnv> = OnceLock::new();

/// Starts (once per process) the emulator, the resources and the gateway, each on its own
/// runtime thread so they outlive any one test's runtime.
pub fn env() -> &'static TestEnv {
    ENV.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let (endpoint, _emulator) = match std::env::var("KABINET_TEST_AWS_ENDPOINT") {
                    Ok(e) => (e, None),
                    Err(_) => {
                        let em = Emulator::start()
                            .await
                            .expect("start the emulator (run `make venv`)");
                        (em.endpoint.clone(), Some(em))
                    }
                };
                let run = ulid::Ulid::new().to_string().to_lowercase();
                let config = Config {
                    table: format!("kabinet-test-{run}"),
                    app_url: "http://localhost:5173".into(),
                    exports_bucket: format!("exports-{run}"),
                    files_bucket: format!("files-{run}"),
                    mail_from: "no-reply@kabinet.test".into(),
                    s3_path_style: true,
                };
                let aws = emulator::sdk_config(&endpoint).await;
                setup::ensure_resources(&aws, &config)
                    .await
                    .expect("resources");
                let ctx = kabinet::Ctx::new(config.clone(), &aws);
                let secret = "test-secret".to_string();
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let base = format!("http://{}", listener.local_addr().expect("addr"));
                let gateway =
                    Gateway::new(ctx, secret.clone(), vec!["http://localhost:5173".into()]);
                tx.send(TestEnv {
                    base,
                    endpoint,
                    config,
                    secret,
                })
                .expect("send env");
                kabinet_local::serve(listener, gateway).await;
            });
        });
        rx.recv().expect("test environment")
    })
}

/// The emulator's DynamoDB, for tests that look under the API.
pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&emulator::sdk_config(&env().endpoint).await)
}

pub async fn store() -> kabinet::store::Store {
    kabinet::store::Store::new(dynamodb().await, env().config.table.clone())
}

/// A client per request: pooled connections belong to the runtime that opened them, and
/// each test has its own runtime.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client")
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
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(self.body["code"], code, "{}", self.text);
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["title"].is_string()
                && self.body["detail"].is_string()
                && self.body["type"].is_string()
        );
        self
    }

    /// The fields named in a validation problem.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{}", self.text);
        &self.body
    }
}

/// Sends one request.
pub async fn send(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Resp {
    let mut rb = client().request(method, format!("{}{}", env().base, path));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if let Some(b) = body {
        rb = rb
            .header("content-type", "application/json")
            .body(serde_json::to_vec(b).expect("json"));
    }
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let resp = rb.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        text,
    }
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
        let sub = format!("test-{id}");
        let email = format!("{id}@school.test");
        let claims = tokens::DevClaims::new(&sub, Some(&email), Some(name), email_verified, 3600);
        let token = tokens::mint(&env().secret, &claims);
        User {
            sub,
            email,
            name: name.into(),
            token,
        }
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

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        send(method, path, Some(&self.token), body.as_ref(), headers).await
    }

    /// Creates an organization (the user becomes its admin) and returns its ID.
    pub async fn create_org(&self, name: &str) -> String {
        let r = self
            .post("/v1/orgs", serde_json::json!({ "name": name }))
            .await;
        r.ok(201)["id"].as_str().expect("org id").to_string()
    }
}
