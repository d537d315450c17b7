//! `Idempotency-Key` on creating POSTs: the first request with a key runs; a retry with
//! the same key and body gets the first answer (waiting for it if the first is still
//! running); the same key with another body is refused.
//!
//! The table keeps the answer for 24 hours, and an answer can hold a secret (a new
//! invitation link's token). So the record is found by a hash of the caller and the key,
//! and the answer is sealed (AES-256-GCM) under a key derived from the caller and the
//! `Idempotency-Key`: neither the table, its stream nor its backups can open it; a retry,
//! which brings the key again, can. A client should use a random key (a UUID): a guessable
//! key protects the stored answer less.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use sha2::{Digest, Sha256};

use crate::http::Code;
use crate::http::{ApiError, ApiRequest, ApiResponse};
use crate::store::idempotency::{Claim, RecordKey, StoredResponse};
use crate::Ctx;

/// Headers worth replaying.
const REPLAYED_HEADERS: [&str; 3] = ["content-type", "location", "etag"];
/// How long a retry waits for the first request's answer.
const WAIT: Duration = Duration::from_secs(10);

/// An `Idempotency-Key`, in visible ASCII characters.
pub const MAX_KEY: usize = 200;

pub fn parse_key(raw: &str) -> Result<String, ApiError> {
    let key = raw.trim();
    if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
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

/// The sealing key of one caller's `Idempotency-Key` (domain-separated from the record's
/// hash).
fn sealing_key(caller: &str, key: &str) -> Option<aws_lc_rs::aead::LessSafeKey> {
    let mut h = Sha256::new();
    for part in ["kabinet idempotency answer", caller, key] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    // A SHA-256 digest is an AES-256 key: this does not fail.
    let unbound = aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, &h.finalize()).ok()?;
    Some(aws_lc_rs::aead::LessSafeKey::new(unbound))
}

/// The answer, encrypted and authenticated: base64 of nonce and ciphertext.
fn seal(caller: &str, key: &str, response: &StoredResponse) -> Result<String, ApiError> {
    use aws_lc_rs::rand::SecureRandom;
    use base64::Engine;
    let mut nonce = [0u8; aws_lc_rs::aead::NONCE_LEN];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| ApiError::internal("no randomness for a nonce"))?;
    let mut data = serde_json::to_vec(response).map_err(|e| ApiError::internal(e.to_string()))?;
    sealing_key(caller, key)
        .ok_or_else(|| ApiError::internal("no sealing key"))?
        .seal_in_place_append_tag(
            aws_lc_rs::aead::Nonce::assume_unique_for_key(nonce),
            aws_lc_rs::aead::Aad::empty(),
            &mut data,
        )
        .map_err(|_| ApiError::internal("sealing an idempotent answer failed"))?;
    let mut sealed = nonce.to_vec();
    sealed.extend(data);
    Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
}

/// The answer `seal` sealed, or `None` when it does not open with this key.
fn open(caller: &str, key: &str, sealed: &str) -> Option<StoredResponse> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(sealed).ok()?;
    if raw.len() < aws_lc_rs::aead::NONCE_LEN {
        return None;
    }
    let (nonce, data) = raw.split_at(aws_lc_rs::aead::NONCE_LEN);
    let nonce = aws_lc_rs::aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut data = data.to_vec();
    let plain = sealing_key(caller, key)?.open_in_place(nonce, aws_lc_rs::aead::Aad::empty(), &mut data).ok()?;
    serde_json::from_slice(plain).ok()
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
                        code: Code::IdempotencyKeyReused,
                        detail: "This Idempotency-Key was used with another request; use a new key for a new request."
                            .into(),
                    });
                }
                if let Some(sealed) = record.response {
                    return match open(&caller, &key, &sealed) {
                        Some(response) => Ok(replay(response)),
                        None => Err(ApiError::internal("a stored idempotent answer does not open with its key")),
                    };
                }
                if started.elapsed() > WAIT {
                    return Err(ApiError::conflict(
                        Code::IdempotencyInProgress,
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
    match keep.map(|s| seal(&caller, &key, &s)) {
        Some(Ok(sealed)) => {
            if let Err(e) = store.complete_idempotency(&pk, &sealed).await {
                tracing::error!(error = %e, "could not store an idempotent answer");
            }
        }
        Some(Err(_)) | None => {
            if let Err(e) = store.release_idempotency(&pk).await {
                tracing::error!(error = %e, "could not release an idempotency claim");
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_open_only_with_the_callers_key() {
        let answer = StoredResponse {
            status: 201,
            headers: vec![("location".into(), "/v1/x".into())],
            body: r#"{"token":"secret-token"}"#.into(),
        };
        let sealed = seal("u1", "k-1", &answer).unwrap();
        assert!(!sealed.contains("secret-token"));
        assert_eq!(open("u1", "k-1", &sealed).unwrap().body, answer.body);
        assert!(open("u1", "k-2", &sealed).is_none(), "another key");
        assert!(open("u2", "k-1", &sealed).is_none(), "another caller");
        assert_ne!(seal("u1", "k-1", &answer).unwrap(), sealed, "a fresh nonce each time");
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(open("u1", "k-1", &String::from_utf8(tampered).unwrap()).is_none());
    }

    #[test]
    fn records_are_found_by_a_hash_not_the_key() {
        let pk = format!("{:?}", RecordKey::new("u1", "my-key"));
        assert!(!pk.contains("my-key") && !pk.contains("u1"), "{pk}");
        assert_ne!(RecordKey::new("u1", "my-key"), RecordKey::new("u2", "my-key"));
    }
}
