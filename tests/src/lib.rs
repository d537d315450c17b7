//! Test harness: one emulator and one local gateway per test process, shared by the tests
//! in it (each test makes its own users and organizations, so they run in parallel).
//! Tests speak HTTP to the gateway with dev ID tokens, as a front end would.

use std::sync::OnceLock;

use kabinet::config::Config;
use kabinet_local::{emulator, setup, tokens, Emulator, Gateway};
use reqwest::Method;
use serde_json::Value;

pub struct TestEnv {
    /// The test's own gateway, `http://127.0.0.1:<port>`.
    pub base: String,
    /// The emulator's endpoint.
    pub endpoint: String,
    /// The test's own table; buckets and mail identity are shared by the process.
    pub config: Config,
    ctx: kabinet::Ctx,
    aws: aws_config::SdkConfig,
    exporter: tokio::sync::OnceCell<()>,
    importer: tokio::sync::OnceCell<()>,
}

/// Starts the exporter on the calling test's table's stream, as in `make dev` (only the
/// tests of exports run it: every poller of the stream is a load on the emulator), and
/// waits until it reads the stream (an export asked for earlier might never reach it).
pub async fn start_exporter() {
    let env = env().await;
    env.exporter
        .get_or_init(|| async {
            let (reading, read) = tokio::sync::oneshot::channel();
            let exporter = kabinet::lambda::Function::Exporter;
            tokio::spawn(kabinet_local::streams::run(env.ctx.clone(), env.aws.clone(), exporter, Some(reading)));
            let _ = tokio::time::timeout(std::time::Duration::from_secs(30), read).await;
        })
        .await;
}

/// Starts the importer on the calling test's table's stream, as [`start_exporter`] does
/// the exporter.
pub async fn start_importer() {
    let env = env().await;
    env.importer
        .get_or_init(|| async {
            let (reading, read) = tokio::sync::oneshot::channel();
            let importer = kabinet::lambda::Function::Importer;
            tokio::spawn(kabinet_local::streams::run(env.ctx.clone(), env.aws.clone(), importer, Some(reading)));
            let _ = tokio::time::timeout(std::time::Duration::from_secs(30), read).await;
        })
        .await;
}

/// The secret the test gateways check dev tokens with.
pub const SECRET: &str = "test-secret";

struct Shared {
    endpoint: String,
    run: String,
}

static SHARED: OnceLock<Shared> = OnceLock::new();

/// One emulator per test process (on a thread of its own, so it outlives every test's
/// runtime), with the process's buckets and mail identity.
fn shared() -> &'static Shared {
    SHARED.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                let (endpoint, _emulator) = match std::env::var("KABINET_TEST_AWS_ENDPOINT") {
                    Ok(e) => (e, None),
                    Err(_) => {
                        // The emulator's shortcuts are checked against moto's own way on every
                        // request the suite makes.
                        let options = emulator::Options { verify: true, ..Default::default() };
                        let em = Emulator::start_with(options).await.expect("start the emulator (run `make venv`)");
                        (em.endpoint.clone(), Some(em))
                    }
                };
                let run = ulid::Ulid::new().to_string().to_lowercase();
                let aws = emulator::sdk_config(&endpoint).await;
                let mut config = base_config(&run);
                // Resources are created here once; each test then adds its own table.
                config.table = format!("kabinet-test-{run}-setup");
                setup::ensure_resources(&aws, &config).await.expect("resources");
                tx.send(Shared { endpoint, run }).expect("send");
                std::future::pending::<()>().await;
            });
        });
        rx.recv().expect("emulator")
    })
}

fn base_config(run: &str) -> Config {
    Config {
        table: String::new(),
        app_url: "http://localhost:5173".into(),
        exports_bucket: format!("exports-{run}"),
        files_bucket: format!("files-{run}"),
        mail_from: "no-reply@kabinet.test".into(),
        s3_path_style: true,
        link_keys_secret: format!("link-keys-{run}"),
    }
}

thread_local! {
    // libtest runs each test on a thread of its own: a test's environment is its thread's.
    static ENV: &'static tokio::sync::OnceCell<TestEnv> = Box::leak(Box::new(tokio::sync::OnceCell::new()));
}

/// The calling test's environment: its own table in the shared emulator and its own
/// gateway on the test's runtime (tests stay independent of each other's data), made on
/// first use.
pub async fn env() -> &'static TestEnv {
    let cell = ENV.with(|c| *c);
    cell.get_or_init(|| async {
        // Internal errors are logged: a failing test shows why.
        if std::env::var("RUST_LOG").is_err() {
            std::env::set_var("RUST_LOG", "warn");
        }
        kabinet::telemetry::init();
        let shared = shared();
        let aws = emulator::sdk_config(&shared.endpoint).await;
        let mut config = base_config(&shared.run);
        config.table = format!("kabinet-test-{}", ulid::Ulid::new().to_string().to_lowercase());
        let db = aws_sdk_dynamodb::Client::new(&aws);
        kabinet::store::schema::create_table_if_missing(&db, &config.table).await.expect("table");
        let ctx = kabinet_local::access::checked_ctx(config.clone(), &aws);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let gateway = Gateway::new(ctx.clone(), SECRET.to_string(), vec!["http://localhost:5173".into()])
            .with_local_mail(&shared.endpoint)
            .with_docs(kabinet_local::docs_script());
        tokio::spawn(kabinet_local::serve(listener, gateway));
        // The notifier, fed from this test's table's stream as in `make dev`.
        tokio::spawn(kabinet_local::streams::run_notifier(ctx.clone(), aws.clone()));
        TestEnv {
            base,
            endpoint: shared.endpoint.clone(),
            config,
            ctx,
            aws,
            exporter: tokio::sync::OnceCell::new(),
            importer: tokio::sync::OnceCell::new(),
        }
    })
    .await
}

/// A gateway of its own on the calling test's table, with `config` (another links' secret,
/// say), its calls checked as the test's own gateway's; returns its base URL.
pub async fn gateway_with(config: Config) -> String {
    let env = env().await;
    let ctx = kabinet_local::access::checked_ctx(config, &env.aws);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(kabinet_local::serve(listener, Gateway::new(ctx, SECRET.to_string(), vec![])));
    base
}

/// The emulator's DynamoDB, for tests that look under the API.
pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&emulator::sdk_config(&env().await.endpoint).await)
}

pub async fn store() -> kabinet::store::Store {
    kabinet::store::Store::new(dynamodb().await, env().await.config.table.clone())
}

/// A client per request: pooled connections belong to the runtime that opened them, and
/// each test has its own runtime.
fn client() -> reqwest::Client {
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

/// Sends one request to the gateway at `base`.
pub async fn send_to(base: &str, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Resp {
    let mut rb = client().request(method, format!("{base}{path}"));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if let Some(b) = body {
        rb = rb.header("content-type", "application/json").body(serde_json::to_vec(b).expect("json"));
    }
    let resp = rb.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp { status, headers, body, text }
}

/// Sends one request.
pub async fn send(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Resp {
    let mut rb = client().request(method, format!("{}{}", env().await.base, path));
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

/// A gateway of its own, on the shared emulator and table, whose DynamoDB calls are
/// counted: for tests that count round trips per route.
pub struct CountingGateway {
    pub base: String,
    calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    read: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ops: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// Records the name of each DynamoDB operation the gateway sends (`Query`, `Scan`, ...).
#[derive(Debug)]
struct RecordOps(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl aws_sdk_dynamodb::config::Intercept for RecordOps {
    fn name(&self) -> &'static str {
        "RecordOps"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let target = context.request().headers().get("x-amz-target").unwrap_or_default();
        let op = target.rsplit('.').next().unwrap_or_default().to_string();
        if let Ok(mut ops) = self.0.lock() {
            ops.push(op);
        }
        Ok(())
    }
}

#[derive(Debug)]
struct CountCalls(std::sync::Arc<std::sync::atomic::AtomicUsize>);

/// Counts the items DynamoDB reads for the gateway's queries (their `ScannedCount`: what a
/// query costs, filtered out or not).
#[derive(Debug)]
struct CountRead(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl aws_sdk_dynamodb::config::Intercept for CountRead {
    fn name(&self) -> &'static str {
        "CountRead"
    }

    fn read_after_deserialization(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::AfterDeserializationInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        if let Ok(output) = context.output_or_error() {
            if let Some(q) = output.downcast_ref::<aws_sdk_dynamodb::operation::query::QueryOutput>() {
                self.0.fetch_add(q.scanned_count().max(0) as usize, std::sync::atomic::Ordering::SeqCst);
            }
        }
        Ok(())
    }
}

impl aws_sdk_dynamodb::config::Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn read_before_execution(
        &self,
        _: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<'_>,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

/// Fails the `nth` TransactWriteItems (from 1) of its gateway, as a crash or a lost
/// connection cuts an operation off half-way.
#[derive(Debug)]
struct FailTransaction {
    nth: usize,
    seen: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl aws_sdk_dynamodb::config::Intercept for FailTransaction {
    fn name(&self) -> &'static str {
        "FailTransaction"
    }

    fn read_before_execution(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<'_>,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let input = context.input();
        if input.downcast_ref::<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput>().is_some()
        {
            let seen = self.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            if seen == self.nth {
                return Err("cut off half-way (a test's failure)".into());
            }
        }
        Ok(())
    }
}

impl CountingGateway {
    /// Serves on the calling test's runtime.
    pub async fn start() -> CountingGateway {
        Self::start_with(None).await
    }

    /// A gateway whose `nth` transaction (from 1) fails: to cut an operation off in the
    /// middle.
    pub async fn failing_transaction(nth: usize) -> CountingGateway {
        Self::start_with(Some(nth)).await
    }

    async fn start_with(fail: Option<usize>) -> CountingGateway {
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let read = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let ops = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let env = env().await;
        let aws = emulator::sdk_config(&env.endpoint).await;
        let mut config = aws_sdk_dynamodb::config::Builder::from(&aws)
            .interceptor(CountCalls(calls.clone()))
            .interceptor(CountRead(read.clone()))
            .interceptor(RecordOps(ops.clone()));
        if let Some(nth) = fail {
            config = config.interceptor(FailTransaction { nth, seen: Default::default() });
        }
        let db = aws_sdk_dynamodb::Client::from_conf(config.build());
        let ctx = kabinet::Ctx::with_dynamodb(env.config.clone(), &aws, db);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(kabinet_local::serve(listener, Gateway::new(ctx, SECRET.to_string(), vec![])));
        CountingGateway { base, calls, read, ops }
    }

    /// Sends one GET and returns its answer with the items its queries read.
    pub async fn items_read(&self, user: &User, path: &str) -> (Resp, usize) {
        let before = self.read.load(std::sync::atomic::Ordering::SeqCst);
        let (resp, _) = self.count(user, Method::GET, path, None).await;
        (resp, self.read.load(std::sync::atomic::Ordering::SeqCst) - before)
    }

    /// Sends one GET and returns its answer with the DynamoDB operations it made, in
    /// order (retries of a call included), and the items its queries read.
    pub async fn ops_of(&self, user: &User, path: &str) -> (Resp, Vec<String>, usize) {
        let from = self.ops.lock().map(|o| o.len()).unwrap_or_default();
        let (resp, read) = self.items_read(user, path).await;
        let ops = self.ops.lock().map(|o| o[from..].to_vec()).unwrap_or_default();
        (resp, ops, read)
    }

    /// Sends one request and returns its answer with the DynamoDB calls it made.
    pub async fn count(&self, user: &User, method: Method, path: &str, body: Option<Value>) -> (Resp, usize) {
        self.count_with(user, method, path, body, &[]).await
    }

    pub async fn count_with(
        &self,
        user: &User,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (Resp, usize) {
        let before = self.calls.load(std::sync::atomic::Ordering::SeqCst);
        let mut rb = client().request(method, format!("{}{}", self.base, path)).bearer_auth(&user.token);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.header("content-type", "application/json").body(serde_json::to_vec(&b).expect("json"));
        }
        let resp = rb.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        let calls = self.calls.load(std::sync::atomic::Ordering::SeqCst) - before;
        (Resp { status, headers, body, text }, calls)
    }
}

/// The mail sent to `to` so far (every test's mail goes through one emulator; addresses
/// are unique per test).
pub async fn mail_to(to: &str) -> Vec<Value> {
    let all = send(Method::GET, "/_local/mail", None, None, &[]).await;
    all.body["items"]
        .as_array()
        .map(|a| a.iter().filter(|m| m["to"].as_array().is_some_and(|t| t.iter().any(|x| x == to))).cloned().collect())
        .unwrap_or_default()
}

/// Waits (bounded) until `to` has received `count` emails, and returns them.
pub async fn await_mail(to: &str, count: usize) -> Vec<Value> {
    for _ in 0..150 {
        let mail = mail_to(to).await;
        if mail.len() >= count {
            return mail;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    mail_to(to).await
}
