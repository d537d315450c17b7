//! Creates what `infra/template.yaml` declares, idempotently: the table (stream, indexes,
//! TTL), the buckets and the SES identity.

use kabinet::config::Config;

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
    Ok(())
}
