//! `Idempotency-Key` on creating POSTs: the first request with a key runs; a retry with
//! the same key and body gets the first answer (waiting for it if the first is still
//! running); the same key with another body is refused.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use sha2::{Digest, Sha256};

use crate::http::{ApiError, ApiRequest, ApiResponse};
use crate::store::idempotency::{Claim, RecordKey, StoredResponse};
use crate::Ctx;

/// Headers worth replaying.
const REPLAYED_HEADERS: [&str; 3] = ["content-type", "location", "etag"];
/// How long a retry waits for the first request's answer.
const WAIT: Duration = Duration::from_secs(10);

pub fn parse_key(raw: &str) -> Result<String, ApiError> {
    let key = raw.trim();
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::validation("Idempotency-Key", "must be 1 to 200 visible ASCII characters, e.g. a UUID"));
    }
    Ok(key.to_string())
}

fn fingerprint(req: &ApiRequest) -> String {
    let mut h = Sha256::new();
    h.update(req.method.as_str());
    h.update([0]);
    h.update(&req.path);
    h.update([0]);
    h.update(&req.body);
    hex::encode(h.finalize())
}

fn stored(resp: &ApiResponse) -> StoredResponse {
    StoredResponse {
        status: resp.status.as_u16(),
        headers: REPLAYED_HEADERS
            .iter()
            .filter_map(|name| {
                resp.headers.get(*name).and_then(|v| v.to_str().ok()).map(|v| (name.to_string(), v.to_string()))
            })
            .collect(),
        body: String::from_utf8_lossy(&resp.body).into_owned(),
    }
}

fn replay(s: StoredResponse) -> ApiResponse {
    let mut headers = HeaderMap::new();
    for (k, v) in s.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::from_str(&v)) {
            headers.insert(k, v);
        }
    }
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    ApiResponse { status: StatusCode::from_u16(s.status).unwrap_or(StatusCode::OK), headers, body: s.body.into() }
}

/// Runs `run` at most once per (caller, key).
pub async fn once<F, Fut>(ctx: &Ctx, req: ApiRequest, raw_key: &str, run: F) -> Result<ApiResponse, ApiError>
where
    F: FnOnce(ApiRequest) -> Fut,
    Fut: std::future::Future<Output = Result<ApiResponse, ApiError>>,
{
    let key = parse_key(raw_key)?;
    let caller = req.caller()?.sub.clone();
    let pk = RecordKey::new(&caller, &key);
    let fp = fingerprint(&req);
    let store = ctx.store();
    let started = tokio::time::Instant::now();
    loop {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match store.claim_idempotency(&pk, &fp, now).await? {
            Claim::Acquired => break,
            Claim::Taken(record) => {
                if record.fingerprint != fp {
                    return Err(ApiError::Unprocessable {
                        code: "idempotency_key_reused",
                        detail: "This Idempotency-Key was used with another request; use a new key for a new request."
                            .into(),
                    });
                }
                if let Some(response) = record.response {
                    return Ok(replay(response));
                }
                if started.elapsed() > WAIT {
                    return Err(ApiError::conflict(
                        "idempotency_in_progress",
                        "A request with this Idempotency-Key is still being processed; retry shortly.",
                    ));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    let result = run(req).await;
    let keep = match &result {
        Ok(resp) => Some(stored(resp)),
        // A refusal is an answer too; a failure on our side is not, so a retry runs again.
        Err(e) if e.status().is_client_error() => Some(stored(&ApiResponse::problem(e, ""))),
        Err(_) => None,
    };
    match keep {
        Some(s) => {
            if let Err(e) = store.complete_idempotency(&pk, &s).await {
                tracing::error!(error = %e, "could not store an idempotent answer");
            }
        }
        None => {
            if let Err(e) = store.release_idempotency(&pk).await {
                tracing::error!(error = %e, "could not release an idempotency claim");
            }
        }
    }
    result
}
