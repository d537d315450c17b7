//! Configuration and clients, built once per cold start and shared by every request.

use std::sync::Arc;

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
        }
    }
}

struct Inner {
    config: Config,
    store: Store,
    s3: aws_sdk_s3::Client,
    ses: aws_sdk_sesv2::Client,
}

/// What every handler gets: configuration and clients. Cheap to clone.
#[derive(Clone)]
pub struct Ctx(Arc<Inner>);

impl Ctx {
    /// Reads the AWS settings from the environment (`AWS_ENDPOINT_URL` points every client
    /// at an emulator; `KABINET_S3_PATH_STYLE=true` for emulators without virtual hosts).
    pub async fn from_env() -> Self {
        let aws = aws_config::load_from_env().await;
        Self::new(Config::from_env(), &aws)
    }

    pub fn new(config: Config, aws: &aws_config::SdkConfig) -> Self {
        Self::with_dynamodb(config, aws, aws_sdk_dynamodb::Client::new(aws))
    }

    /// With a DynamoDB client of the caller's (tests count round trips through one).
    pub fn with_dynamodb(config: Config, aws: &aws_config::SdkConfig, db: aws_sdk_dynamodb::Client) -> Self {
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(aws).force_path_style(config.s3_path_style).build(),
        );
        let store = Store::new(db, config.table.clone());
        let ses = aws_sdk_sesv2::Client::new(aws);
        Ctx(Arc::new(Inner { config, store, s3, ses }))
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    pub fn s3(&self) -> &aws_sdk_s3::Client {
        &self.0.s3
    }

    pub fn ses(&self) -> &aws_sdk_sesv2::Client {
        &self.0.ses
    }
}
