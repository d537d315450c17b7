//! The harness: one emulator per test process, and per test its own table, gateway and
//! notifier (made on first use), so tests run in parallel without seeing each other's data.

use std::sync::OnceLock;

use kabinet::config::Config;
use kabinet_local::Emulator;
use kabinet_local::{emulator, setup, Gateway};

/// A test's environment: see [`env`].
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
    mail_events: tokio::sync::OnceCell<()>,
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

/// Starts the mail events' consumer on the bounces and complaints the emulator's SES
/// simulator publishes from now on, applied to the calling test's table, as in `make dev`
/// (only the tests of bounces run it), and waits until it has its starting point.
pub async fn start_mail_events() {
    let env = env().await;
    env.mail_events
        .get_or_init(|| async {
            let (reading, read) = tokio::sync::oneshot::channel();
            let (ctx, endpoint) = (env.ctx.clone(), env.endpoint.clone());
            tokio::spawn(kabinet_local::streams::run_mail_events(ctx, endpoint, Some(reading)));
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
        // The test's own gateway once it listens (`env`).
        api_url: String::new(),
        exports_bucket: format!("exports-{run}"),
        files_bucket: format!("files-{run}"),
        mail_from: "no-reply@kabinet.test".into(),
        s3_path_style: true,
        link_keys_secret: format!("link-keys-{run}"),
        mail_rate: kabinet::mail::rate::DEFAULT_RATE,
        mail_configuration_set: Some("kabinet-test-mail".into()),
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        // The links emails carry to the API (one-click unsubscribe) reach this gateway.
        config.api_url = base.clone();
        let ctx = kabinet_local::access::checked_ctx(config.clone(), &aws);
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
            mail_events: tokio::sync::OnceCell::new(),
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

/// Waits (bounded: 15 s) until `check` answers something, and answers it: for what the
/// stream consumers do after a request's answer.
pub async fn eventually<T, F: std::future::Future<Output = Option<T>>>(what: &str, check: impl Fn() -> F) -> T {
    for _ in 0..150 {
        if let Some(found) = check().await {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what}: not within 15 s")
}

/// The emulator's DynamoDB, for tests that look under the API.
pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&emulator::sdk_config(&env().await.endpoint).await)
}

/// The store (the API's own data layer) on the test's table, for tests that look under
/// the API.
pub async fn store() -> kabinet::store::Store {
    kabinet::store::Store::new(dynamodb().await, env().await.config.table.clone())
}
