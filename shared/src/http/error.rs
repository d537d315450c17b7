//! The one error type of the API. Every failure becomes an RFC 9457 problem with a
//! stable `code`; internal errors are logged and answered generically.

use http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::page::{InvalidCursor, PageError, MAX_LIMIT};

/// One offending field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's path in the request, e.g. `phone` or `roles[0].position`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthorized(&'static str),
    #[error("forbidden")]
    Forbidden(&'static str),
    /// A resource that does not exist or that the caller may not know of.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Not found, with a code of its own (e.g. `user_not_found`).
    #[error("{detail}")]
    Missing { code: &'static str, detail: String },
    #[error("no such route")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<http::Method> },
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// A well-formed request that the current state refuses (409).
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// A request that cannot be processed as sent (422), other than field validation.
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    /// Something that existed and is no longer usable (410), e.g. an expired link.
    #[error("{detail}")]
    Gone { code: &'static str, detail: String },
    /// A limit on how often something may be done (429), with the seconds until it may
    /// be done again (`Retry-After`).
    #[error("{detail}")]
    TooManyRequests { code: &'static str, detail: String, retry_after: u64 },
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("precondition required")]
    PreconditionRequired,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("payload too large")]
    PayloadTooLarge,
    /// Anything else; the text is logged, never answered.
    #[error("internal error: {0}")]
    Internal(String),
}

/// RFC 9457 problem details, as answered.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:kabinet:problem:validation_failed",
    "title": "Validation failed",
    "status": 422,
    "detail": "Some fields are not valid: phone, roles[0].position.",
    "code": "validation_failed",
    "errors": [
        {
            "field": "phone",
            "message": "must be a phone number in international format (E.164), like +79161234567"
        },
        {"field": "roles[0].position", "message": "is required for the teacher role"}
    ],
    "request_id": "Jx1bNiWUoAMEVZg="
}))]
pub struct Problem {
    /// A URI naming the problem type: `urn:kabinet:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `validation_failed`, `last_admin`.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// The request's ID, to quote when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl From<InvalidCursor> for ApiError {
    fn from(_: InvalidCursor) -> Self {
        ApiError::invalid_cursor()
    }
}

impl From<PageError> for ApiError {
    fn from(e: PageError) -> Self {
        match e {
            PageError::Limit => ApiError::validation("limit", format!("must be a whole number from 1 to {MAX_LIMIT}")),
            PageError::Cursor => ApiError::invalid_cursor(),
        }
    }
}

impl ApiError {
    /// 400 `invalid_cursor`: a cursor that is not one the list gave out.
    pub fn invalid_cursor() -> Self {
        ApiError::BadRequest {
            code: "invalid_cursor",
            detail: "The cursor is not one this list gave out; start again without it.".into(),
        }
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        ApiError::Internal(err.to_string())
    }

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict { code, detail: detail.into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::RouteNotFound | ApiError::Missing { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) | ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Gone { .. } => StatusCode::GONE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::RouteNotFound => "route_not_found",
            ApiError::Missing { code, .. } => code,
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::BadRequest { code, .. } => code,
            ApiError::Validation(_) => "validation_failed",
            ApiError::Conflict { code, .. } => code,
            ApiError::Gone { code, .. } => code,
            ApiError::Unprocessable { code, .. } => code,
            ApiError::TooManyRequests { code, .. } => code,
            ApiError::PreconditionFailed => "precondition_failed",
            ApiError::PreconditionRequired => "precondition_required",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "Authentication required",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::NotFound(_) => "Not found",
            ApiError::RouteNotFound => "No such route",
            ApiError::Missing { .. } => "Not found",
            ApiError::MethodNotAllowed { .. } => "Method not allowed",
            ApiError::BadRequest { .. } => "Bad request",
            ApiError::Validation(_) => "Validation failed",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::Gone { .. } => "Gone",
            ApiError::Unprocessable { .. } => "Unprocessable request",
            ApiError::TooManyRequests { .. } => "Too many requests",
            ApiError::PreconditionFailed => "Precondition failed",
            ApiError::PreconditionRequired => "Precondition required",
            ApiError::UnsupportedMediaType => "Unsupported media type",
            ApiError::PayloadTooLarge => "Payload too large",
            ApiError::Internal(_) => "Internal error",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Unauthorized(why) => format!("Sign in first: {why}."),
            ApiError::Forbidden(what) => format!("You are not allowed to {what}."),
            ApiError::NotFound(what) => format!("No {what} with this ID is visible to you."),
            ApiError::RouteNotFound => "There is no route at this path.".into(),
            ApiError::MethodNotAllowed { allow } => format!(
                "This route does not accept this method; it accepts {}.",
                allow.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
            ),
            ApiError::BadRequest { detail, .. }
            | ApiError::Missing { detail, .. }
            | ApiError::Gone { detail, .. }
            | ApiError::Conflict { detail, .. }
            | ApiError::Unprocessable { detail, .. }
            | ApiError::TooManyRequests { detail, .. } => detail.clone(),
            ApiError::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("Some fields are not valid: {}.", fields.join(", "))
            }
            ApiError::PreconditionFailed => {
                "The resource changed since you read it (If-Match does not match its ETag); read it again and retry."
                    .into()
            }
            ApiError::PreconditionRequired => {
                "This request needs an If-Match header with the ETag of what you read (the `ETag` header, or the `etag` field in lists).".into()
            }
            ApiError::UnsupportedMediaType => "Send the body as application/json.".into(),
            ApiError::PayloadTooLarge => "The request body is too large.".into(),
            ApiError::Internal(_) => "Something went wrong on our side. It has been logged; please retry later.".into(),
        }
    }

    /// The problem document answered for this error.
    pub fn problem(&self, request_id: Option<&str>) -> Problem {
        Problem {
            type_: format!("urn:kabinet:problem:{}", self.code()),
            title: self.title().into(),
            status: self.status().as_u16(),
            detail: self.detail(),
            code: self.code().into(),
            errors: match self {
                ApiError::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
            request_id: request_id.filter(|id| !id.is_empty()).map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_leak_their_text() {
        let e = ApiError::internal("ResourceNotFoundException: table kabinet at aws-sdk");
        let p = e.problem(Some("r1"));
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("ResourceNotFound"));
        assert_eq!(p.status, 500);
        assert_eq!(p.code, "internal");
    }

    #[test]
    fn validation_problem_lists_fields() {
        let e = ApiError::Validation(vec![FieldError::new("phone", "not E.164")]);
        let p = e.problem(None);
        assert_eq!(p.status, 422);
        assert_eq!(p.errors.unwrap()[0].field, "phone");
        assert!(p.detail.contains("phone"));
    }
}
