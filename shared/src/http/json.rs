//! JSON request bodies: malformed JSON is a 400, a body of the wrong shape a 422 naming
//! the field; validation collects every field error before answering.

use serde::de::DeserializeOwned;

use super::error::{ApiError, FieldError};
use crate::domain::input::FieldErrors;
pub use crate::domain::input::Patch;
use crate::http::Code;

/// Largest accepted JSON body.
pub const MAX_BODY: usize = 256 * 1024;

pub fn parse_body<T: DeserializeOwned>(content_type: Option<&str>, body: &[u8]) -> Result<T, ApiError> {
    if body.len() > MAX_BODY {
        return Err(ApiError::PayloadTooLarge);
    }
    if let Some(ct) = content_type {
        let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if mime != "application/json" && !mime.ends_with("+json") {
            return Err(ApiError::UnsupportedMediaType);
        }
    }
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"" } else { body };
    if body.is_empty() {
        return Err(ApiError::BadRequest {
            code: Code::MalformedJson,
            detail: "The request needs a JSON body.".into(),
        });
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = clean_message(&inner);
                ApiError::Validation(vec![FieldError::new(field_of(&path, &message), message)])
            }
            _ => ApiError::BadRequest {
                code: Code::MalformedJson,
                detail: format!("The body is not valid JSON: {}.", clean_message(&inner)),
            },
        }
    })
}

/// The field a shape error is about: where it happened (an unknown field's path is the
/// field), or the field a "missing field `x`" message names there (`body`: the whole
/// body).
fn field_of(path: &str, message: &str) -> String {
    let named =
        message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()).filter(|f| !f.is_empty());
    match (path, named) {
        (".", Some(f)) => f.to_string(),
        (".", None) => "body".to_string(),
        (path, Some(f)) => format!("{path}.{f}"),
        (path, None) => path.to_string(),
    }
}

/// serde's message without the " at line L column C" suffix.
fn clean_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Collects field errors while request fields are parsed into domain types.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value, or records the field's error.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(message) => {
                self.errors.push(FieldError::new(field, message));
                None
            }
        }
    }

    /// Parses an optional field (absent stays absent).
    pub fn optional<T>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match raw {
            None => Some(None),
            Some(raw) => self.check(field, parse(raw)).map(Some),
        }
    }

    pub fn has_error(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

impl FieldErrors for Validator {
    fn error(&mut self, field: &str, message: String) {
        Validator::error(self, field, message)
    }

    fn has_error(&self, field: &str) -> bool {
        Validator::has_error(self, field)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        #[serde(default)]
        phone: Patch<String>,
    }

    #[test]
    fn malformed_json_is_400() {
        let e = parse_body::<Body>(Some("application/json"), b"{\"name\": ").unwrap_err();
        assert_eq!(e.code(), "malformed_json");
        assert_eq!(e.status().as_u16(), 400);
    }

    #[test]
    fn wrong_type_names_the_field() {
        let e = parse_body::<Body>(None, br#"{"name": 5}"#).unwrap_err();
        match e {
            ApiError::Validation(errs) => assert_eq!(errs[0].field, "name"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let e = parse_body::<Body>(None, br#"{"name": "a", "nmae": 1}"#).unwrap_err();
        assert_eq!(e.code(), "validation_failed");
    }

    #[test]
    fn a_missing_or_unknown_field_is_named() {
        let field = |body: &[u8]| match parse_body::<Body>(None, body).unwrap_err() {
            ApiError::Validation(errs) => errs[0].field.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(field(br#"{}"#), "name");
        assert_eq!(field(br#"{"name": "a", "nmae": 1}"#), "nmae");
        assert_eq!(field(br#""a""#), "body");
    }

    #[test]
    fn patch_distinguishes_absent_null_and_value() {
        let b: Body = parse_body(None, br#"{"name": "a"}"#).unwrap();
        assert_eq!(b.phone, Patch::Keep);
        let b: Body = parse_body(None, br#"{"name": "a", "phone": null}"#).unwrap();
        assert_eq!(b.phone, Patch::Clear);
        let b: Body = parse_body(None, br#"{"name": "a", "phone": "+7"}"#).unwrap();
        assert_eq!(b.phone, Patch::Set("+7".into()));
    }

    #[test]
    fn other_media_types_are_refused() {
        let e = parse_body::<Body>(Some("text/plain"), b"{}").unwrap_err();
        assert_eq!(e.status().as_u16(), 415);
    }
}
