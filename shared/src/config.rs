//! Configuration and clients, built once per cold start and shared by every request.

use std::sync::{Arc, OnceLock};

use crate::domain::LinkKeys;
use crate::permissions::Access;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct Config {
    pub table: String,
    /// The front end's base URL, for links in answers and emails.
    pub app_url: String,
    pub exports_bucket: String,
    pub files_bucket: String,
    pub mail_from: String,
    /// Path-style S3 URLs, for emulators without virtual-hosted buckets.
    pub s3_path_style: bool,
    /// The Secrets Manager secret (name or ARN) holding the invitation links' keys.
    pub link_keys_secret: String,
}

impl Config {
    pub fn from_env() -> Self {
        let var = |k: &str, default: &str| std::env::var(k).unwrap_or_else(|_| default.to_string());
        Config {
            table: var("KABINET_TABLE", "kabinet"),
            app_url: var("KABINET_APP_URL", "http://localhost:5173").trim_end_matches('/').to_string(),
            exports_bucket: var("KABINET_EXPORTS_BUCKET", "kabinet-exports"),
            files_bucket: var("KABINET_FILES_BUCKET", "kabinet-files"),
            mail_from: var("KABINET_MAIL_FROM", "no-reply@kabinet.local"),
            s3_path_style: var("KABINET_S3_PATH_STYLE", "false") == "true",
            link_keys_secret: var("KABINET_LINK_KEYS_SECRET", "kabinet-link-keys"),
        }
    }
}

struct Inner {
    config: Config,
    aws: aws_types::SdkConfig,
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
    /// at an emulator; `KABINET_S3_PATH_STYLE=true` for emulators without virtual hosts).
    pub async fn from_env(access: Access) -> Self {
        let aws = if access == Access::NONE { aws_types::SdkConfig::builder().build() } else { aws_from_env() };
        Self::with_access(Config::from_env(), &aws, access)
    }

    /// Every client built at once (the local gateway serves every route).
    pub fn new(config: Config, aws: &aws_types::SdkConfig) -> Self {
        Self::with_access(config, aws, Access::ALL)
    }

    pub fn with_access(config: Config, aws: &aws_types::SdkConfig, access: Access) -> Self {
        let ctx = Self::unbuilt(config, aws);
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
    fn unbuilt(config: Config, aws: &aws_types::SdkConfig) -> Self {
        Ctx(Arc::new(Inner {
            config,
            aws: aws.clone(),
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
        let ctx = Self::unbuilt(config, aws);
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

    pub fn store(&self) -> &Store {
        self.0.store.get_or_init(|| Store::new(aws_sdk_dynamodb::Client::new(&self.0.aws), self.0.config.table.clone()))
    }

    pub fn s3(&self) -> &aws_sdk_s3::Client {
        self.0.s3.get_or_init(|| s3_client(&self.0.aws, self.0.config.s3_path_style))
    }

    /// SES v2, trying throttling, server errors and network failures up to 5 times in all
    /// with exponential backoff (from 200 ms, jittered) before the notifier gives the
    /// record back to the stream for a later retry.
    pub fn ses(&self) -> &aws_sdk_sesv2::Client {
        self.0.ses.get_or_init(|| {
            use aws_sdk_sesv2::config::retry::RetryConfig;
            let retry = RetryConfig::standard()
                .with_max_attempts(5)
                .with_initial_backoff(std::time::Duration::from_millis(200));
            aws_sdk_sesv2::Client::from_conf(
                aws_sdk_sesv2::config::Builder::from(&self.0.aws).retry_config(retry).build(),
            )
        })
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

/// The AWS settings from the environment, as Lambda gives them: the region, the function
/// role's credentials, and `AWS_ENDPOINT_URL` for an emulator. Built directly rather than
/// through aws-config's loader, whose provider chains (profile files, STS, ECS, IMDS) a
/// function never needs: they stay out of the artifacts and their cold starts. Retries
/// (standard) and the connect timeout (3.1 s) are the loader's; the rest the clients'
/// defaults for this behaviour version.
fn aws_from_env() -> aws_types::SdkConfig {
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_smithy_types::{retry::RetryConfig, timeout::TimeoutConfig};
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut aws = aws_types::SdkConfig::builder()
        .behavior_version(aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest())
        .retry_config(RetryConfig::standard())
        .timeout_config(TimeoutConfig::builder().connect_timeout(std::time::Duration::from_millis(3100)).build());
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
