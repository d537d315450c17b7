//! Configuration and clients, built once per cold start and shared by every request.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::domain::LinkKeys;
use crate::permissions::Access;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct Config {
    pub table: String,
    /// The front end's base URL, for links in answers and emails.
    pub app_url: String,
    /// The API's own base URL (without `/v1`), for the links emails carry to it (one-click
    /// unsubscribe).
    pub api_url: String,
    pub exports_bucket: String,
    pub files_bucket: String,
    pub mail_from: String,
    /// Path-style S3 URLs, for emulators without virtual-hosted buckets.
    pub s3_path_style: bool,
    /// The Secrets Manager secret (name or ARN) holding the invitation links' keys.
    pub link_keys_secret: String,
    /// The emails a second one notifier sends at most (`KABINET_MAIL_RATE`; SES's default
    /// rate, [`crate::mail::rate::DEFAULT_RATE`], when unset or not a positive number).
    pub mail_rate: f64,
    /// The SES configuration set every email is sent with (`KABINET_MAIL_CONFIGURATION_SET`;
    /// none when unset or empty): its event destination publishes bounces and complaints.
    pub mail_configuration_set: Option<String>,
}

impl Config {
    pub fn from_env() -> Self {
        let var = |k: &str, default: &str| std::env::var(k).unwrap_or_else(|_| default.to_string());
        Config {
            table: var("KABINET_TABLE", "kabinet"),
            app_url: var("KABINET_APP_URL", "http://localhost:5173").trim_end_matches('/').to_string(),
            api_url: var("KABINET_API_URL", "http://127.0.0.1:3000").trim_end_matches('/').to_string(),
            exports_bucket: var("KABINET_EXPORTS_BUCKET", "kabinet-exports"),
            files_bucket: var("KABINET_FILES_BUCKET", "kabinet-files"),
            mail_from: var("KABINET_MAIL_FROM", "no-reply@kabinet.local"),
            s3_path_style: var("KABINET_S3_PATH_STYLE", "false") == "true",
            link_keys_secret: var("KABINET_LINK_KEYS_SECRET", "kabinet-link-keys"),
            mail_rate: mail_rate(std::env::var("KABINET_MAIL_RATE").ok().as_deref()),
            mail_configuration_set: std::env::var("KABINET_MAIL_CONFIGURATION_SET")
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
        }
    }
}

/// The sending rate `KABINET_MAIL_RATE` says (emails a second, fractions allowed: the SES
/// sandbox's is 1); SES's default when unset, and when not a positive number (logged).
fn mail_rate(setting: Option<&str>) -> f64 {
    let default = crate::mail::rate::DEFAULT_RATE;
    match setting.map(str::trim).filter(|s| !s.is_empty()) {
        None => default,
        Some(s) => match s.parse::<f64>() {
            Ok(rate) if rate.is_finite() && rate > 0.0 => rate,
            _ => {
                tracing::error!(setting = %s, default, "KABINET_MAIL_RATE is not a positive number of emails a second; using the default");
                default
            }
        },
    }
}

struct Inner {
    config: Config,
    aws: aws_types::SdkConfig,
    /// The function's kind and budget, with the SDK settings derived from them.
    sdk: SdkSettings,
    /// The pace of the notifier's sends, made on first use.
    mail_pace: OnceLock<crate::mail::rate::Pacer>,
    store: OnceLock<Store>,
    s3: OnceLock<aws_sdk_s3::Client>,
    ses: OnceLock<aws_sdk_sesv2::Client>,
    secrets: OnceLock<aws_sdk_secretsmanager::Client>,
    /// The invitation links' keys, once read.
    link_keys: tokio::sync::Mutex<Option<HeldKeys>>,
}

/// The links' keys a sandbox holds.
struct HeldKeys {
    keys: Arc<LinkKeys>,
    /// The newest version they were read for: a link of a newer one reads the secret again.
    read_for: u32,
}

/// What every handler gets: configuration and clients. Cheap to clone.
///
/// A function builds at init the clients its [`Access`] names, so no request pays for
/// them; any other client is built on first use (none is, when the declarations are
/// right: the local gateway checks them).
#[derive(Clone)]
pub struct Ctx(Arc<Inner>);

impl Ctx {
    /// Reads the AWS settings from the environment (`AWS_ENDPOINT_URL` points every client
    /// at an emulator; `KABINET_S3_PATH_STYLE=true` for emulators without virtual hosts),
    /// with the retries and timeouts of the function's kind and budget ([`SdkSettings`]).
    pub async fn from_env(access: Access, sdk: SdkSettings) -> Self {
        let aws = if access == Access::NONE { aws_types::SdkConfig::builder().build() } else { aws_from_env(&sdk) };
        Self::built(Config::from_env(), &aws, access, sdk)
    }

    /// Every client built at once (the local gateway serves every route).
    pub fn new(config: Config, aws: &aws_types::SdkConfig) -> Self {
        Self::with_access(config, aws, Access::ALL)
    }

    /// The clients `access` names built at once; the notifier's budget (the local gateway
    /// runs the consumers on its own [`Ctx`]).
    pub fn with_access(config: Config, aws: &aws_types::SdkConfig, access: Access) -> Self {
        Self::built(config, aws, access, local_sdk())
    }

    fn built(config: Config, aws: &aws_types::SdkConfig, access: Access, sdk: SdkSettings) -> Self {
        let ctx = Self::unbuilt(config, aws, sdk);
        if access.touches_table() {
            ctx.store();
        }
        if access.touches_s3() {
            ctx.s3();
        }
        if access.mail {
            ctx.ses();
        }
        if access.link_keys {
            ctx.secrets();
        }
        ctx
    }

    /// No client built yet: each is built on first use, or set by the caller.
    fn unbuilt(config: Config, aws: &aws_types::SdkConfig, sdk: SdkSettings) -> Self {
        Ctx(Arc::new(Inner {
            config,
            aws: aws.clone(),
            sdk,
            mail_pace: OnceLock::new(),
            store: OnceLock::new(),
            s3: OnceLock::new(),
            ses: OnceLock::new(),
            secrets: OnceLock::new(),
            link_keys: tokio::sync::Mutex::new(None),
        }))
    }

    /// With clients of the caller's (tests count round trips through one, the local
    /// gateway checks each call against the route's declared access).
    pub fn with_clients(
        config: Config,
        aws: &aws_types::SdkConfig,
        db: aws_sdk_dynamodb::Client,
        s3: Option<aws_sdk_s3::Client>,
        ses: Option<aws_sdk_sesv2::Client>,
        secrets: Option<aws_sdk_secretsmanager::Client>,
    ) -> Self {
        let store = Store::new(db, config.table.clone());
        let ctx = Self::unbuilt(config, aws, local_sdk());
        let _ = ctx.0.store.set(store);
        if let Some(s3) = s3 {
            let _ = ctx.0.s3.set(s3);
        }
        if let Some(ses) = ses {
            let _ = ctx.0.ses.set(ses);
        }
        if let Some(secrets) = secrets {
            let _ = ctx.0.secrets.set(secrets);
        }
        ctx
    }

    /// With a DynamoDB client of the caller's.
    pub fn with_dynamodb(config: Config, aws: &aws_types::SdkConfig, db: aws_sdk_dynamodb::Client) -> Self {
        Self::with_clients(config, aws, db, None, None, None)
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The function's kind, budget and SDK settings.
    pub fn sdk(&self) -> &SdkSettings {
        &self.0.sdk
    }

    /// The pace of mail sends, shared by every send of the notifier: its configured rate
    /// ([`Config::mail_rate`]).
    pub fn mail_pace(&self) -> &crate::mail::rate::Pacer {
        self.0.mail_pace.get_or_init(|| crate::mail::rate::Pacer::new(self.0.config.mail_rate))
    }

    pub fn store(&self) -> &Store {
        self.0.store.get_or_init(|| Store::new(crate::aws::dynamodb_client(&self.0.aws), self.0.config.table.clone()))
    }

    pub fn s3(&self) -> &aws_sdk_s3::Client {
        self.0.s3.get_or_init(|| s3_client(&self.0.aws, self.0.config.s3_path_style))
    }

    /// SES v2, with the function's retries: in the notifier (a [`FunctionKind::Consumer`])
    /// throttling, server errors and network failures are tried up to 5 times in all with
    /// exponential backoff (from 200 ms, jittered); the notifier then retries a throttled
    /// send itself, within its batch.
    pub fn ses(&self) -> &aws_sdk_sesv2::Client {
        self.0.ses.get_or_init(|| aws_sdk_sesv2::Client::new(&self.0.aws))
    }
}

impl Ctx {
    pub fn secrets(&self) -> &aws_sdk_secretsmanager::Client {
        self.0.secrets.get_or_init(|| aws_sdk_secretsmanager::Client::new(&self.0.aws))
    }

    /// The invitation links' keys: read from their secret on first use and held for the
    /// sandbox's life (once per cold start, not per request). A link whose `version` is
    /// newer than those held (the key was rotated since) reads the secret once more. A
    /// secret that cannot be read or is malformed is logged, and the error (which never
    /// quotes the secret nor AWS's answer) is an internal one; the next request tries again.
    pub async fn link_keys(&self, version: Option<u32>) -> Result<Arc<LinkKeys>, String> {
        let mut held = self.0.link_keys.lock().await;
        if let Some(h) = held.as_ref() {
            if version.is_none_or(|v| v <= h.read_for) {
                return Ok(h.keys.clone());
            }
        }
        let keys = match (self.read_link_keys().await, held.as_ref()) {
            (Ok(keys), _) => Arc::new(keys),
            // Read again for a newer version and failed: the keys held still serve.
            (Err(_), Some(h)) => return Ok(h.keys.clone()),
            (Err(e), None) => return Err(e),
        };
        let read_for = keys.current().max(version.unwrap_or_default());
        *held = Some(HeldKeys { keys: keys.clone(), read_for });
        Ok(keys)
    }

    async fn read_link_keys(&self) -> Result<LinkKeys, String> {
        let secret = &self.0.config.link_keys_secret;
        let unavailable = "the invitation links' key is unavailable".to_string();
        let out = self.secrets().get_secret_value().secret_id(secret).send().await.map_err(|e| {
            let e = aws_sdk_secretsmanager::error::DisplayErrorContext(&e);
            tracing::error!(secret = %secret, error = %e, "reading the invitation links' key failed");
            unavailable.clone()
        })?;
        let Some(text) = out.secret_string() else {
            tracing::error!(secret = %secret, "the invitation links' secret holds no text");
            return Err(unavailable);
        };
        LinkKeys::parse(text).map_err(|why| {
            tracing::error!(secret = %secret, why = %why, "the invitation links' secret is malformed");
            unavailable
        })
    }
}

/// The notifier's Lambda timeout, in seconds (`crate::lambda::Function::timeout_s`).
pub const NOTIFIER_TIMEOUT_S: u32 = 60;

/// The settings of a [`Ctx`] made outside Lambda (the local gateway, tests): the
/// notifier's, whose budget bounds the consumers' sending there too.
fn local_sdk() -> SdkSettings {
    SdkSettings::derive(FunctionKind::Consumer, std::time::Duration::from_secs(NOTIFIER_TIMEOUT_S.into()))
}

/// What a function is, for how long its AWS calls may take and how they are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionKind {
    /// Answers an API request: a person waits, and API Gateway gives up after 30 s.
    Route,
    /// A stream consumer of seconds per batch (the notifier): what fails goes back to the
    /// stream, which delivers it again.
    Consumer,
    /// A stream consumer of minutes per record (the exporter, the importer): many calls in
    /// a row, throughput rather than one call's latency.
    Worker,
}

/// API Gateway's integration timeout (30 s), less a second for its own part: a route's
/// function has this long at most, whatever its Lambda timeout.
pub const API_GATEWAY_BUDGET: Duration = Duration::from_secs(29);

/// The SDK's retries and timeouts for one function, derived from its kind and its budget
/// (its Lambda timeout; a route's no more than [`API_GATEWAY_BUDGET`]) by
/// [`SdkSettings::derive`]; docs/architecture.md says why these numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdkSettings {
    pub kind: FunctionKind,
    /// How long the function has in all.
    pub budget: Duration,
    /// Adaptive retry mode (a client-side rate limiter that slows the calls after
    /// throttling, before first attempts too) rather than standard.
    pub adaptive: bool,
    /// Attempts of one call, the first included.
    pub max_attempts: u32,
    /// The first backoff of a throttled call (doubled each attempt, jittered).
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Establishing a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// From sending a request to the first byte of its answer.
    pub read_timeout: Duration,
    /// One attempt of a call, from its start to its answer read.
    pub attempt_timeout: Duration,
    /// One call with all its attempts and backoffs.
    pub operation_timeout: Duration,
}

impl SdkSettings {
    /// The settings of a function of `kind` whose Lambda timeout is `timeout`. A pure
    /// function of the two (unit-tested): the template's timeouts change the settings with
    /// them.
    pub fn derive(kind: FunctionKind, timeout: Duration) -> SdkSettings {
        let clamp = |d: Duration, lo: u64, hi: u64| d.clamp(Duration::from_millis(lo), Duration::from_millis(hi));
        let derived = match kind {
            FunctionKind::Route => {
                let budget = timeout.min(API_GATEWAY_BUDGET);
                // A third of the budget per call: a route makes a few in a row (read,
                // transaction, the links' key) and still answers, within 8 s at most.
                let operation = clamp(budget / 3, 2_000, 8_000);
                // DynamoDB answers in milliseconds: an attempt silent for 2 s is a dead
                // connection, and a new one answers sooner; two fit in a call.
                let attempt = operation * 2 / 5;
                SdkSettings {
                    kind,
                    budget,
                    adaptive: false,
                    max_attempts: 3,
                    initial_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(1),
                    // Room for one lost SYN (Linux retransmits it after 1 s), no more.
                    connect_timeout: clamp(budget / 10, 1_100, 3_100),
                    read_timeout: attempt,
                    attempt_timeout: attempt,
                    operation_timeout: operation,
                }
            }
            FunctionKind::Consumer => {
                let budget = timeout;
                // A quarter of the budget per call: the batch's other events go on.
                let operation = clamp(budget / 4, 5_000, 20_000);
                let attempt = clamp(operation / 3, 2_000, 10_000);
                SdkSettings {
                    kind,
                    budget,
                    adaptive: false,
                    max_attempts: 5,
                    initial_backoff: Duration::from_millis(200),
                    max_backoff: Duration::from_secs(5),
                    connect_timeout: clamp(budget / 10, 1_100, 3_100),
                    read_timeout: attempt,
                    attempt_timeout: attempt,
                    operation_timeout: operation,
                }
            }
            FunctionKind::Worker => {
                let budget = timeout;
                // A tenth of the budget per call, at most a minute: one stuck call must
                // not eat the run (the record is tried again, resuming).
                let operation = clamp(budget / 10, 10_000, 60_000);
                // An S3 part (5 MiB) goes in well under a second; a transaction of 100
                // items in a fraction of one.
                let attempt = clamp(operation / 2, 5_000, 30_000);
                SdkSettings {
                    kind,
                    budget,
                    adaptive: true,
                    max_attempts: 8,
                    initial_backoff: Duration::from_millis(500),
                    max_backoff: Duration::from_secs(20),
                    connect_timeout: clamp(budget / 10, 1_100, 3_100),
                    read_timeout: attempt,
                    attempt_timeout: attempt,
                    operation_timeout: operation,
                }
            }
        };
        // Whatever the budget: a call within it, an attempt within a call, a connection
        // within an attempt.
        let operation_timeout = derived.operation_timeout.min(derived.budget);
        let attempt_timeout = derived.attempt_timeout.min(operation_timeout);
        SdkSettings {
            operation_timeout,
            attempt_timeout,
            read_timeout: derived.read_timeout.min(attempt_timeout),
            connect_timeout: derived.connect_timeout.min(attempt_timeout),
            ..derived
        }
    }

    pub fn retry_config(&self) -> aws_smithy_types::retry::RetryConfig {
        use aws_smithy_types::retry::{RetryConfig, RetryMode};
        let mode = if self.adaptive { RetryMode::Adaptive } else { RetryMode::Standard };
        RetryConfig::standard()
            .with_retry_mode(mode)
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(self.initial_backoff)
            .with_max_backoff(self.max_backoff)
    }

    pub fn timeout_config(&self) -> aws_smithy_types::timeout::TimeoutConfig {
        aws_smithy_types::timeout::TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            .operation_attempt_timeout(self.attempt_timeout)
            .operation_timeout(self.operation_timeout)
            .build()
    }
}

/// The AWS settings from the environment, as Lambda gives them: the region, the function
/// role's credentials, and `AWS_ENDPOINT_URL` for an emulator. Built directly rather than
/// through aws-config's loader, whose provider chains (profile files, STS, ECS, IMDS) a
/// function never needs: they stay out of the artifacts and their cold starts. Retries
/// and timeouts are the function's ([`SdkSettings`]).
fn aws_from_env(sdk: &SdkSettings) -> aws_types::SdkConfig {
    use aws_credential_types::provider::SharedCredentialsProvider;
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut aws = aws_types::SdkConfig::builder()
        .behavior_version(aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest())
        .retry_config(sdk.retry_config())
        .timeout_config(sdk.timeout_config());
    if let Some(region) = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")) {
        aws = aws.region(aws_types::region::Region::new(region));
    }
    match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => {
            let credentials =
                aws_credential_types::Credentials::new(id, secret, var("AWS_SESSION_TOKEN"), None, "environment");
            aws = aws.credentials_provider(SharedCredentialsProvider::new(credentials));
        }
        _ => tracing::error!("no AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Lambda sets them): AWS calls will fail"),
    }
    if let Some(url) = var("AWS_ENDPOINT_URL") {
        aws = aws.endpoint_url(url);
    }
    if var("KABINET_TLS_NATIVE_ROOTS").as_deref() != Some("true") {
        match aws_https_client() {
            Ok(client) => aws = aws.http_client(client),
            Err(e) => tracing::error!(error = %e, "AWS roots unusable; using the system's trust store"),
        }
    }
    aws.build()
}

/// The roots AWS endpoints' certificates chain to (Amazon Trust Services).
pub const AWS_ROOTS: &[u8] = include_bytes!("../certs/aws-roots.pem");

/// An HTTPS client for the AWS endpoints that trusts only the Amazon Trust Services roots:
/// the functions speak TLS to nothing else, and reading and parsing the system's whole
/// store (~150 roots) was the largest part of a cold start's init.
pub fn aws_https_client() -> Result<aws_smithy_runtime_api::client::http::SharedHttpClient, String> {
    use aws_smithy_http_client::tls;
    let trust = tls::TrustStore::empty().with_native_roots(false).with_pem_certificate(AWS_ROOTS);
    let context = tls::TlsContext::builder().with_trust_store(trust).build().map_err(|e| e.to_string())?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
        .tls_context(context)
        .build_https())
}

/// An S3 client for these settings (path-style URLs for emulators).
pub fn s3_client(aws: &aws_types::SdkConfig, path_style: bool) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(aws).force_path_style(path_style).build())
}

#[cfg(test)]
mod tests {
    use super::{FunctionKind, SdkSettings, API_GATEWAY_BUDGET};
    use std::time::Duration;

    const S: fn(u64) -> Duration = Duration::from_secs;
    const MS: fn(u64) -> Duration = Duration::from_millis;

    /// A call's worst case: every attempt to its timeout, every backoff its longest.
    fn worst_case(s: &SdkSettings) -> Duration {
        let backoffs: Duration =
            (0..s.max_attempts - 1).map(|i| (s.initial_backoff * 2u32.pow(i)).min(s.max_backoff)).sum();
        (s.attempt_timeout * s.max_attempts + backoffs).min(s.operation_timeout)
    }

    #[test]
    fn a_route_answers_well_inside_api_gateways_limit() {
        // The routes' Lambda timeout (15 s): 5 s a call, 2 s an attempt, 3 attempts.
        let s = SdkSettings::derive(FunctionKind::Route, S(15));
        assert_eq!(s.budget, S(15));
        assert!(!s.adaptive);
        assert_eq!((s.max_attempts, s.initial_backoff, s.max_backoff), (3, MS(100), S(1)));
        assert_eq!(
            (s.connect_timeout, s.read_timeout, s.attempt_timeout, s.operation_timeout),
            (MS(1500), S(2), S(2), S(5))
        );
        // Three calls stuck to their limit still answer within the Lambda's timeout.
        assert!(worst_case(&s) * 3 <= s.budget);
        // A longer Lambda timeout does not outlast API Gateway: 8 s a call at most.
        let long = SdkSettings::derive(FunctionKind::Route, S(900));
        assert_eq!(long.budget, API_GATEWAY_BUDGET);
        assert_eq!((long.operation_timeout, long.connect_timeout), (S(8), MS(2900)));
        assert!(long.operation_timeout * 3 < S(30));
        // A short one still leaves a call room for an attempt and a retry.
        let short = SdkSettings::derive(FunctionKind::Route, S(3));
        assert_eq!((short.operation_timeout, short.attempt_timeout, short.connect_timeout), (S(2), MS(800), MS(800)));
    }

    #[test]
    fn a_consumer_is_more_patient_within_its_timeout() {
        // The notifier (60 s): 15 s a call, 5 s an attempt, 5 attempts from 200 ms.
        let s = SdkSettings::derive(FunctionKind::Consumer, S(60));
        assert!(!s.adaptive);
        assert_eq!((s.max_attempts, s.initial_backoff, s.max_backoff), (5, MS(200), S(5)));
        assert_eq!((s.connect_timeout, s.attempt_timeout, s.operation_timeout), (MS(3100), S(5), S(15)));
        assert!(worst_case(&s) * 3 <= s.budget);
        let route = SdkSettings::derive(FunctionKind::Route, S(60));
        assert!(s.operation_timeout > route.operation_timeout && s.max_attempts > route.max_attempts);
    }

    #[test]
    fn a_worker_retries_adaptively_for_a_minute_at_most() {
        let exporter = SdkSettings::derive(FunctionKind::Worker, S(300));
        assert!(exporter.adaptive);
        assert_eq!((exporter.max_attempts, exporter.initial_backoff, exporter.max_backoff), (8, MS(500), S(20)));
        assert_eq!((exporter.attempt_timeout, exporter.operation_timeout), (S(15), S(30)));
        let importer = SdkSettings::derive(FunctionKind::Worker, S(900));
        assert_eq!((importer.attempt_timeout, importer.operation_timeout), (S(30), S(60)));
        for s in [exporter, importer] {
            assert!(worst_case(&s) * 5 <= s.budget);
        }
    }

    #[test]
    fn the_mail_rate_is_a_positive_number_or_sess_default() {
        use super::mail_rate;
        assert_eq!(mail_rate(None), 14.0);
        assert_eq!(mail_rate(Some("")), 14.0);
        assert_eq!(mail_rate(Some("50")), 50.0);
        assert_eq!(mail_rate(Some(" 0.5 ")), 0.5);
        for bad in ["0", "-3", "fast", "NaN", "inf"] {
            assert_eq!(mail_rate(Some(bad)), 14.0, "{bad}");
        }
    }

    #[test]
    fn every_setting_reaches_the_sdk() {
        use aws_smithy_types::retry::RetryMode;
        for kind in [FunctionKind::Route, FunctionKind::Consumer, FunctionKind::Worker] {
            for timeout in [S(3), S(15), S(60), S(900)] {
                let s = SdkSettings::derive(kind, timeout);
                // Sane whatever the budget: an attempt within a call, a call within the budget.
                assert!(s.connect_timeout <= s.attempt_timeout && s.read_timeout <= s.attempt_timeout, "{s:?}");
                assert!(s.attempt_timeout <= s.operation_timeout && s.operation_timeout <= s.budget, "{s:?}");
                let retry = s.retry_config();
                assert_eq!(retry.mode(), if s.adaptive { RetryMode::Adaptive } else { RetryMode::Standard });
                assert_eq!(
                    (retry.max_attempts(), retry.initial_backoff(), retry.max_backoff()),
                    (s.max_attempts, s.initial_backoff, s.max_backoff)
                );
                let t = s.timeout_config();
                assert_eq!(t.connect_timeout(), Some(s.connect_timeout));
                assert_eq!(t.read_timeout(), Some(s.read_timeout));
                assert_eq!(t.operation_attempt_timeout(), Some(s.attempt_timeout));
                assert_eq!(t.operation_timeout(), Some(s.operation_timeout));
            }
        }
    }

    #[test]
    fn the_aws_roots_are_the_five_amazon_trust_services_roots() {
        let pem = String::from_utf8(super::AWS_ROOTS.to_vec()).unwrap();
        assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 5);
        for name in ["Amazon_Root_CA_1", "Amazon_Root_CA_4", "Starfield_Services_Root_Certificate_Authority_-_G2"] {
            assert!(pem.contains(name), "{name}");
        }
        // A client's construction parses the roots (a bad one would abort the init).
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_types::region::Region::new("eu-central-1"))
            .http_client(super::aws_https_client().unwrap())
            .build();
        let _ = aws_sdk_dynamodb::Client::from_conf(conf);
    }
}
