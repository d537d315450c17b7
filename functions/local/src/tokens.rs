//! Dev ID tokens: HS256, issuer `kabinet-local`, audience `kabinet`, signed with
//! `KABINET_DEV_JWT_SECRET` (default `kabinet-dev-secret`).

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use kabinet::http::Claims;
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "kabinet-local";
pub const AUDIENCE: &str = "kabinet";
pub const DEFAULT_SECRET: &str = "kabinet-dev-secret";

pub fn secret_from_env() -> String {
    std::env::var("KABINET_DEV_JWT_SECRET").unwrap_or_else(|_| DEFAULT_SECRET.to_string())
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DevClaims {
    pub sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `id`, as Cognito's ID tokens say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_use: Option<String>,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
}

impl DevClaims {
    pub fn new(sub: &str, email: Option<&str>, name: Option<&str>, verified: bool, ttl_secs: i64) -> Self {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        DevClaims {
            sub: sub.into(),
            email: email.map(Into::into),
            email_verified: verified,
            name: name.map(Into::into),
            token_use: Some("id".into()),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            exp: now + ttl_secs,
            iat: now,
        }
    }
}

pub fn mint(secret: &str, claims: &DevClaims) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap_or_default()
}

/// Checks signature, `exp`, `iss` and `aud`, as API Gateway's JWT authorizer does.
pub fn verify(secret: &str, token: &str) -> Result<Claims, String> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 0;
    let data = decode::<serde_json::Map<String, serde_json::Value>>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the token has expired".to_string(),
        jsonwebtoken::errors::ErrorKind::InvalidIssuer => "the token's issuer is not kabinet-local".to_string(),
        jsonwebtoken::errors::ErrorKind::InvalidAudience => "the token's audience is not kabinet".to_string(),
        jsonwebtoken::errors::ErrorKind::InvalidSignature => "the token's signature does not match".to_string(),
        _ => "the token is not a valid ID token".to_string(),
    })?;
    Claims::from_json(&data.claims).map_err(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let c = DevClaims::new("u1", Some("a@b.ru"), Some("Anna"), true, 60);
        let t = mint("s", &c);
        let claims = verify("s", &t).unwrap();
        assert_eq!(claims.sub, "u1");
        assert!(claims.email_verified);
        assert!(verify("other", &t).unwrap_err().contains("signature"));
        let expired = mint("s", &DevClaims::new("u1", None, None, false, -10));
        assert!(verify("s", &expired).unwrap_err().contains("expired"));
        let mut wrong_aud = DevClaims::new("u1", None, None, false, 60);
        wrong_aud.aud = "other".into();
        assert!(verify("s", &mint("s", &wrong_aud)).unwrap_err().contains("audience"));
        let mut wrong_iss = DevClaims::new("u1", None, None, false, 60);
        wrong_iss.iss = "other".into();
        assert!(verify("s", &mint("s", &wrong_iss)).unwrap_err().contains("issuer"));
    }
}
