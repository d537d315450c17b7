//! Objects in the private buckets: presigned uploads and downloads, and the few calls the
//! functions make themselves (HEAD, copy, delete). Browsers move the bytes; the functions
//! sign, check and copy. S3's error texts never reach an answer: they are logged.

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::Client;

use crate::domain::Timestamp;

/// A failed call to S3: its full text (for the log), and whether it is throttling or
/// unavailability ([`crate::aws::unavailable`]), worth a retry later.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{text}")]
pub struct ObjectError {
    pub text: String,
    pub unavailable: bool,
}

impl ObjectError {
    fn of<E>(e: aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Self
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let unavailable = crate::aws::unavailable(&e);
        ObjectError { text: aws_sdk_s3::error::DisplayErrorContext(e).to_string(), unavailable }
    }
}

/// A presigned request: where to send it, which headers it must carry (they are signed)
/// and until when it works.
#[derive(Debug, Clone)]
pub struct Presigned {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub expires_at: Timestamp,
}

/// An object as HEAD sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub size: u64,
    pub content_type: Option<String>,
}

fn presigning(lifetime: time::Duration) -> Result<PresigningConfig, String> {
    let std = std::time::Duration::from_secs(lifetime.whole_seconds().max(1) as u64);
    PresigningConfig::expires_in(std).map_err(|e| e.to_string())
}

/// The headers a presigned request must carry as given (the host is the URL's).
fn signed_headers(request: &aws_sdk_s3::presigning::PresignedRequest) -> Vec<(String, String)> {
    request
        .headers()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("host"))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()))
        .collect()
}

/// A PUT that S3 accepts only with exactly `size` bytes of `content_type` (both signed).
pub async fn presign_upload(
    s3: &Client,
    bucket: &str,
    key: &str,
    size: u64,
    content_type: &str,
    lifetime: time::Duration,
) -> Result<Presigned, String> {
    presign_put(s3, bucket, key, size, Some(content_type), lifetime).await
}

/// A PUT of exactly `size` bytes (signed), of any type (the reader checks what arrives).
pub async fn presign_sized_put(
    s3: &Client,
    bucket: &str,
    key: &str,
    size: u64,
    lifetime: time::Duration,
) -> Result<Presigned, String> {
    presign_put(s3, bucket, key, size, None, lifetime).await
}

/// A PUT of exactly `size` bytes, and of `content_type` when given (signed).
async fn presign_put(
    s3: &Client,
    bucket: &str,
    key: &str,
    size: u64,
    content_type: Option<&str>,
    lifetime: time::Duration,
) -> Result<Presigned, String> {
    let expires_at = Timestamp::now().plus(lifetime);
    let request = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_length(size as i64)
        .set_content_type(content_type.map(str::to_string))
        .presigned(presigning(lifetime)?)
        .await
        .map_err(|e| aws_sdk_s3::error::DisplayErrorContext(e).to_string())?;
    Ok(Presigned { url: request.uri().to_string(), headers: signed_headers(&request), expires_at })
}

/// A GET whose answer carries `content_type` and `content_disposition` (S3's response
/// overrides, signed into the URL).
pub async fn presign_download(
    s3: &Client,
    bucket: &str,
    key: &str,
    content_type: &str,
    content_disposition: &str,
    lifetime: time::Duration,
) -> Result<Presigned, String> {
    let expires_at = Timestamp::now().plus(lifetime);
    let request = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .response_content_type(content_type)
        .response_content_disposition(content_disposition)
        .presigned(presigning(lifetime)?)
        .await
        .map_err(|e| aws_sdk_s3::error::DisplayErrorContext(e).to_string())?;
    Ok(Presigned { url: request.uri().to_string(), headers: Vec::new(), expires_at })
}

/// The object's size and type, or `None` when there is none.
pub async fn head(s3: &Client, bucket: &str, key: &str) -> Result<Option<Head>, ObjectError> {
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(o) => Ok(Some(Head {
            size: o.content_length().unwrap_or_default().max(0) as u64,
            content_type: o.content_type().map(str::to_owned),
        })),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
        Err(e) => Err(ObjectError::of(e)),
    }
}

/// Copies an object within the bucket (its type and other metadata with it).
pub async fn copy(s3: &Client, bucket: &str, from: &str, to: &str) -> Result<(), ObjectError> {
    s3.copy_object()
        .bucket(bucket)
        .copy_source(format!("{bucket}/{from}"))
        .key(to)
        .send()
        .await
        .map(|_| ())
        .map_err(ObjectError::of)
}

/// Deletes an object (deleting one that is not there succeeds).
pub async fn delete(s3: &Client, bucket: &str, key: &str) -> Result<(), ObjectError> {
    s3.delete_object().bucket(bucket).key(key).send().await.map(|_| ()).map_err(ObjectError::of)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("eu-central-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new("AKID", "SECRET", None, None, "test"))
            .build();
        Client::from_conf(conf)
    }

    fn query(url: &str, name: &str) -> String {
        let url = url::Url::parse(url).unwrap();
        url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.to_string()).unwrap_or_default()
    }

    #[tokio::test]
    async fn an_upload_url_binds_the_size_and_type_for_fifteen_minutes() {
        let p = presign_upload(&client(), "files", "files/o/g/f", 1234, "application/pdf", time::Duration::minutes(15))
            .await
            .unwrap();
        assert_eq!(query(&p.url, "X-Amz-Expires"), "900");
        let signed = query(&p.url, "X-Amz-SignedHeaders");
        for h in ["content-length", "content-type"] {
            assert!(signed.split(';').any(|s| s == h), "{h} not signed: {signed}");
        }
        assert!(!p.url.contains("x-amz-checksum") && !p.url.contains("x-amz-sdk-checksum"), "{}", p.url);
        let headers: std::collections::HashMap<_, _> = p.headers.iter().cloned().collect();
        assert_eq!(headers.get("content-type").map(String::as_str), Some("application/pdf"));
        assert_eq!(headers.get("content-length").map(String::as_str), Some("1234"));
    }

    #[tokio::test]
    async fn a_sized_put_binds_the_length_only() {
        let p =
            presign_sized_put(&client(), "exports", "imports/o/i", 5678, time::Duration::minutes(15)).await.unwrap();
        let signed = query(&p.url, "X-Amz-SignedHeaders");
        assert_eq!(signed, "content-length;host");
        assert_eq!(p.headers, [("content-length".to_string(), "5678".to_string())]);
    }

    #[tokio::test]
    async fn a_download_url_names_the_file() {
        let d = crate::domain::files::content_disposition("План.pdf");
        let p = presign_download(&client(), "files", "files/o/g/f", "application/pdf", &d, time::Duration::minutes(15))
            .await
            .unwrap();
        assert_eq!(query(&p.url, "X-Amz-Expires"), "900");
        assert_eq!(query(&p.url, "response-content-disposition"), d);
        assert_eq!(query(&p.url, "response-content-type"), "application/pdf");
    }
}
