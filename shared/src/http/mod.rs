//! HTTP plumbing shared by every route: the request and response the handlers see,
//! auth claims, JSON bodies with field errors, paging parameters, ETags. Knows neither
//! the store nor the handlers.

pub mod error;
pub mod json;
pub mod paging;

use std::collections::HashMap;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde::Serialize;

pub use error::{ApiError, Code, FieldError, Problem};
pub use json::{Patch, Validator};
pub use paging::Page;

use crate::domain::{Identity, UserId};
use crate::page::PageQuery;

/// The signed-in caller, from the ID token's claims (checked by the API Gateway JWT
/// authorizer in AWS, by the local gateway locally).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

impl Claims {
    /// Reads the claims from a JSON object of claims. API Gateway hands every claim over
    /// as a string (`"email_verified": "true"`), the local gateway as JSON values.
    ///
    /// Only ID tokens are accepted: a token whose `token_use` claim is there and is not
    /// `id` (a Cognito access token, which API Gateway's JWT authorizer lets through too,
    /// and which carries no email or name) is refused. Tokens without the claim (the
    /// local gateway's older dev tokens, other identity providers) are taken.
    pub fn from_json(claims: &serde_json::Map<String, serde_json::Value>) -> Result<Claims, &'static str> {
        let text = |key: &str| match claims.get(key) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        match claims.get("token_use") {
            None => {}
            Some(serde_json::Value::String(s)) if s == "id" => {}
            Some(_) => return Err("only ID tokens are accepted (this token's token_use is not id)"),
        }
        let sub = text("sub").ok_or("the token has no subject")?;
        let email_verified = match claims.get("email_verified") {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s == "true",
            _ => false,
        };
        Ok(Claims { sub, email: text("email"), email_verified, name: text("name") })
    }

    /// The person as the identity provider asserts them; `None` when the subject cannot
    /// be a user ID.
    pub fn identity(&self) -> Option<Identity> {
        Some(Identity {
            id: UserId::parse(&self.sub)?,
            email: self.email.clone(),
            email_verified: self.email_verified,
            name: self.name.clone(),
        })
    }
}

/// A request as the handlers see it, whether it came from API Gateway or the local gateway.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    pub path_params: HashMap<String, String>,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub claims: Option<Claims>,
    /// Why the token's claims were refused, when they were (for the 401).
    pub claims_refused: Option<&'static str>,
    pub request_id: String,
}

impl ApiRequest {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        ApiRequest {
            method,
            path: path.into(),
            path_params: HashMap::new(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            claims: None,
            claims_refused: None,
            request_id: ulid::Ulid::new().to_string(),
        }
    }

    /// The caller's claims; 401 when the request carries none.
    pub fn caller(&self) -> Result<&Claims, ApiError> {
        self.claims.as_ref().ok_or(ApiError::Unauthorized(self.claims_refused.unwrap_or("no valid bearer token")))
    }

    pub fn path_param(&self, name: &str) -> Result<&str, ApiError> {
        self.path_params
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| ApiError::internal(format!("route has no path parameter {name}")))
    }

    /// The path parameter `name` as an entity's ID, or 404 naming the entity when the text
    /// cannot be one (such an ID is simply not found, and never reaches a key).
    pub fn path<T: crate::domain::EntityId>(&self, name: &str) -> Result<T, ApiError> {
        T::parse(self.path_param(name)?).ok_or(ApiError::NotFound(T::WHAT))
    }

    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Parses the JSON body; see [`json::parse_body`].
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        json::parse_body(self.header("content-type"), &self.body)
    }

    /// The version named by `If-Match`, if any: `None` when absent or `*`.
    pub fn if_match(&self) -> Result<Option<u64>, ApiError> {
        match self.header("if-match") {
            None => Ok(None),
            Some(v) if v.trim() == "*" => Ok(None),
            Some(v) => parse_etag(v).map(Some).ok_or(ApiError::PreconditionFailed),
        }
    }

    /// The version an `If-Match` names, required: 428 without one (or with `*`), for
    /// decisions that must be made on what the caller saw.
    pub fn required_if_match(&self) -> Result<u64, ApiError> {
        match self.header("if-match") {
            None => Err(ApiError::PreconditionRequired),
            Some(v) if v.trim() == "*" => Err(ApiError::PreconditionRequired),
            Some(v) => parse_etag(v).ok_or(ApiError::PreconditionFailed),
        }
    }

    /// `limit` (422 when out of range) and `cursor` (400 `invalid_cursor`) of a list.
    pub fn page_query(&self) -> Result<PageQuery, ApiError> {
        Ok(PageQuery::parse(self.query_param("limit"), self.query_param("cursor"))?)
    }
}

/// The strong ETag of a versioned resource.
pub fn etag(version: u64) -> String {
    format!("\"v{version}\"")
}

fn parse_etag(value: &str) -> Option<u64> {
    let v = value.trim().trim_start_matches("W/");
    v.strip_prefix("\"v")?.strip_suffix('"')?.parse().ok()
}

/// A response as the handlers produce it.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl ApiResponse {
    pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Self, ApiError> {
        let body = serde_json::to_vec(value).map_err(ApiError::internal)?;
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(ApiResponse { status, headers, body: body.into() })
    }

    pub fn ok<T: Serialize>(value: &T) -> Result<Self, ApiError> {
        Self::json(StatusCode::OK, value)
    }

    pub fn created<T: Serialize>(value: &T, location: &str) -> Result<Self, ApiError> {
        Ok(Self::json(StatusCode::CREATED, value)?.with_header("location", location))
    }

    /// A page for a browser (UTF-8 HTML).
    pub fn html(status: StatusCode, html: String) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        ApiResponse { status, headers, body: html.into() }
    }

    pub fn no_content() -> Self {
        ApiResponse { status: StatusCode::NO_CONTENT, headers: HeaderMap::new(), body: Bytes::new() }
    }

    pub fn with_etag(self, version: u64) -> Self {
        self.with_header("etag", &etag(version))
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }

    /// The problem+json answer for an error.
    pub fn problem(err: &ApiError, request_id: &str) -> Self {
        let problem = err.problem(Some(request_id));
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(seconds) = err.retry_after() {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let ApiError::MethodNotAllowed { allow } = err {
            let allow = allow.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
            if let Ok(v) = HeaderValue::from_str(&allow) {
                headers.insert(http::header::ALLOW, v);
            }
        }
        ApiResponse { status: err.status(), headers, body: body.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_round_trip() {
        assert_eq!(parse_etag(&etag(7)), Some(7));
        assert_eq!(parse_etag("W/\"v3\""), Some(3));
        assert_eq!(parse_etag("\"abc\""), None);
    }

    #[test]
    fn api_gateway_string_claims() {
        let claims = serde_json::json!({"sub": "u1", "email": "a@b.ru", "email_verified": "true", "name": "A"});
        let c = Claims::from_json(claims.as_object().unwrap()).unwrap();
        assert!(c.email_verified);
        assert_eq!(c.sub, "u1");
        let none = serde_json::json!({"email": "a@b.ru"});
        assert!(Claims::from_json(none.as_object().unwrap()).is_err());
    }

    #[test]
    fn only_id_tokens_are_accepted() {
        let claims = |token_use: serde_json::Value| {
            let mut c = serde_json::json!({"sub": "u1", "email": "a@b.ru"});
            if !token_use.is_null() {
                c["token_use"] = token_use;
            }
            Claims::from_json(c.as_object().unwrap())
        };
        assert!(claims(serde_json::json!("id")).is_ok());
        assert!(claims(serde_json::Value::Null).is_ok(), "no claim: taken");
        for refused in [serde_json::json!("access"), serde_json::json!(""), serde_json::json!(1)] {
            assert!(claims(refused.clone()).is_err(), "{refused}");
        }
    }
}
