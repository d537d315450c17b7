//! Creates what `infra/template.yaml` declares, idempotently: the table (stream, indexes,
//! TTL), the buckets, the SES identity and the invitation links' key.

use kabinet::config::Config;

/// The invitation links' key locally (`KABINET_DEV_LINK_KEY`, or this): fixed, so links
/// keep their tokens across restarts of `make dev`. In AWS Secrets Manager generates it.
pub const DEV_LINK_KEY: &str = "kabinet-dev-link-key-not-a-secret-0123456789";

/// The local links' key: `KABINET_DEV_LINK_KEY`, else [`DEV_LINK_KEY`].
pub fn dev_link_key() -> String {
    std::env::var("KABINET_DEV_LINK_KEY").ok().filter(|k| !k.is_empty()).unwrap_or_else(|| DEV_LINK_KEY.into())
}

pub async fn ensure_resources(aws: &aws_config::SdkConfig, config: &Config) -> Result<(), String> {
    let db = aws_sdk_dynamodb::Client::new(aws);
    kabinet::store::schema::create_table_if_missing(&db, &config.table).await?;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(aws).force_path_style(true).build());
    for bucket in [&config.exports_bucket, &config.files_bucket] {
        if s3.head_bucket().bucket(bucket).send().await.is_err() {
            s3.create_bucket()
                .bucket(bucket)
                .send()
                .await
                .map_err(|e| format!("creating bucket {bucket}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)))?;
        }
    }
    let ses = aws_sdk_sesv2::Client::new(aws);
    let identity = config.mail_from.rsplit('@').next().unwrap_or(&config.mail_from).to_string();
    if ses.get_email_identity().email_identity(&identity).send().await.is_err() {
        ses.create_email_identity().email_identity(&identity).send().await.map_err(|e| {
            format!("creating SES identity {identity}: {}", aws_sdk_sesv2::error::DisplayErrorContext(&e))
        })?;
    }
    // As the template's secret holds it: version 1 of the key (the functions read it
    // through the same call as in AWS).
    let secrets = aws_sdk_secretsmanager::Client::new(aws);
    let secret = &config.link_keys_secret;
    if secrets.describe_secret().secret_id(secret).send().await.is_err() {
        let value = serde_json::json!({"1": dev_link_key()}).to_string();
        let created = secrets.create_secret().name(secret).secret_string(value).send().await;
        // Another process sharing the emulator may have made it meanwhile.
        if let Err(e) = created {
            if secrets.describe_secret().secret_id(secret).send().await.is_err() {
                let e = aws_sdk_secretsmanager::error::DisplayErrorContext(&e);
                return Err(format!("creating secret {secret}: {e}"));
            }
        }
    }
    Ok(())
}
