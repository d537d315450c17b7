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

/// Every problem `code` the API answers, with its HTTP status and what it means: the one
/// list, which the reference's table is made from. An [`ApiError`] carries one, so no
/// handler can answer a code the reference does not list.
macro_rules! problem_codes {
    ($($variant:ident => ($name:literal, $status:literal, $meaning:literal),)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in the order the reference lists them.
            pub const ALL: &[Code] = &[$(Code::$variant,)*];

            /// The code as answered (`class_exists`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }

            /// The HTTP status it is answered with.
            pub fn status(self) -> u16 {
                match self {
                    $(Code::$variant => $status,)*
                }
            }

            /// What it means, for the reference's table.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Code::$variant => $meaning,)*
                }
            }
        }
    };
}

problem_codes! {
    MalformedJson => ("malformed_json", 400, "The body is not JSON, or not of the expected shape."),
    InvalidCursor => ("invalid_cursor", 400, "The list cursor is not one this list gave: start again without it."),
    Unauthorized => ("unauthorized", 401, "No valid bearer ID token: sign in again."),
    Forbidden => ("forbidden", 403, "A member without the right to do this (an admin's, a teacher's of that class)."),
    NotFound => ("not_found", 404, "Nothing of this kind here; also everything of an organization for a non-member."),
    RouteNotFound => ("route_not_found", 404, "No route at this path."),
    UnsubscribeLinkInvalid => ("unsubscribe_link_invalid", 404, "The unsubscribe link is not one kabinet sent (or was cut short)."),
    UserNotFound => ("user_not_found", 404, "No registered person has this user ID."),
    MethodNotAllowed => ("method_not_allowed", 405, "The path exists, not with this method."),
    ConcurrentUpdate => ("concurrent_update", 409, "Changed by someone else meanwhile: read it again and retry."),
    AlreadyMember => ("already_member", 409, "The person is a member already."),
    AlreadyInvited => ("already_invited", 409, "The address has a pending invitation here already."),
    AlreadyDecided => ("already_decided", 409, "The join request was accepted, rejected or withdrawn already."),
    JoinRequestPending => ("join_request_pending", 409, "The person has a pending join request here already."),
    LastAdmin => ("last_admin", 409, "The organization's last admin cannot go: appoint another first."),
    ClassesRequired => ("classes_required", 409, "Students and parents need classes, and the organization has none yet."),
    ClassExists => ("class_exists", 409, "A class of that name exists in that year."),
    ClassGraduated => ("class_graduated", 409, "The class has graduated: it changes no more."),
    ClassUnavailable => ("class_unavailable", 409, "A class the request names was deleted or graduated."),
    CannotPromote => ("cannot_promote", 422, "An 11th grade graduates rather than moving up."),
    LinkOutdated => ("link_outdated", 409, "The invitation link's roles name classes that are gone."),
    GroupAlreadyLinked => ("group_already_linked", 409, "The group is linked to another course already."),
    TooManyLinkedGroups => ("too_many_linked_groups", 409, "The course has as many linked groups as it may."),
    PostDeleted => ("post_deleted", 409, "The thread or reply was deleted."),
    EditWindowClosed => ("edit_window_closed", 409, "A post can be edited only for a while after it was written."),
    ExportInProgress => ("export_in_progress", 409, "Three of the caller's exports are building: wait for one."),
    ImportInProgress => ("import_in_progress", 409, "Another roster import of the organization is running."),
    ImportStarted => ("import_started", 409, "The import was started already: create a new one for another file."),
    UploadMissing => ("upload_missing", 409, "Nothing was uploaded to the presigned URL yet."),
    TooManyUploads => ("too_many_uploads", 409, "The caller has 20 uploads under way: complete or delete one first."),
    RosterRecordLinked => ("roster_record_linked", 409, "The journal's person has joined already."),
    RosterLinkRolesFixed => ("roster_link_roles_fixed", 409, "A request to link by journal login asks for the journal's roles: they cannot be edited."),
    RosterLoginUnmatched => ("roster_login_unmatched", 409, "No journal record waits with the request's login: give it roles or reject it."),
    InvitationRecentlySent => ("invitation_recently_sent", 409, "A roster invitation went to this person within the hour."),
    InvitationUndeliverable => ("invitation_undeliverable", 409, "The invitation's email bounced for good or was marked as spam: it is not sent again."),
    IdempotencyInProgress => ("idempotency_in_progress", 409, "A request with this Idempotency-Key is still running: retry in a moment."),
    LinkExpired => ("link_expired", 410, "The invitation link has expired."),
    LinkRevoked => ("link_revoked", 410, "The invitation link was revoked."),
    LinkUsedUp => ("link_used_up", 410, "The invitation link has no uses left."),
    InvitationExpired => ("invitation_expired", 410, "The email invitation has expired."),
    PreconditionFailed => ("precondition_failed", 412, "If-Match names an ETag that is no longer current: read it again."),
    PayloadTooLarge => ("payload_too_large", 413, "The body is larger than 1 MiB."),
    FileTooLarge => ("file_too_large", 422, "A group's file may be at most 50 MiB."),
    UnsupportedMediaType => ("unsupported_media_type", 415, "Send application/json."),
    ValidationFailed => ("validation_failed", 422, "Fields are wrong: `errors` lists each field with why."),
    AdminRoleRequired => ("admin_role_required", 422, "Only a member holding the teacher or staff role can be an admin."),
    NotAStudent => ("not_a_student", 422, "A course's students hold the student role: the member named does not."),
    NotATeacher => ("not_a_teacher", 422, "A group's teachers hold the teacher role: the member named does not."),
    IdempotencyKeyReused => ("idempotency_key_reused", 422, "The Idempotency-Key was used with another request."),
    UploadTooLarge => ("upload_too_large", 422, "The roster file (declared or uploaded) is larger than 256 MiB."),
    UploadEmpty => ("upload_empty", 422, "The uploaded roster file is empty."),
    NoEmail => ("no_email", 422, "The journal gives this person no email to invite."),
    EmailUndeliverable => ("email_undeliverable", 422, "Mail to the address bounced for good or was marked as spam: kabinet sends it no more."),
    QuotaExceeded => ("quota_exceeded", 422, "The organization's file storage (ready files and uploads under way) is full."),
    PreconditionRequired => ("precondition_required", 428, "This change needs If-Match with the ETag read."),
    TooManyRequests => ("too_many_requests", 429, "A limit: try again after Retry-After seconds."),
    DailyLimit => ("daily_limit", 429, "The organization's invitation emails for today (1,000) are spent: after Retry-After."),
    Internal => ("internal", 500, "Something failed on our side: quote the request_id."),
    Unavailable => ("unavailable", 503, "AWS throttled or failed us: nothing was changed; retry after Retry-After seconds."),
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
    Missing { code: Code, detail: String },
    #[error("no such route")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<http::Method> },
    #[error("{detail}")]
    BadRequest { code: Code, detail: String },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// A well-formed request that the current state refuses (409).
    #[error("{detail}")]
    Conflict { code: Code, detail: String },
    /// A request that cannot be processed as sent (422), other than field validation.
    #[error("{detail}")]
    Unprocessable { code: Code, detail: String },
    /// Something that existed and is no longer usable (410), e.g. an expired link.
    #[error("{detail}")]
    Gone { code: Code, detail: String },
    /// A limit on how often something may be done (429), with the seconds until it may
    /// be done again (`Retry-After`).
    #[error("{detail}")]
    TooManyRequests { code: Code, detail: String, retry_after: u64 },
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("precondition required")]
    PreconditionRequired,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("payload too large")]
    PayloadTooLarge,
    /// AWS throttled, failed or timed out (past the SDK's retries; see [`crate::aws`]):
    /// nothing was changed, and a retry after [`UNAVAILABLE_RETRY_AFTER`] seconds may
    /// well succeed. The text is logged, never answered.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the text is logged, never answered.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The `Retry-After` of an `unavailable` answer, in seconds: the SDK has retried for
/// about a second already, and throttling passes in seconds.
pub const UNAVAILABLE_RETRY_AFTER: u64 = 1;

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
            code: Code::InvalidCursor,
            detail: "The cursor is not one this list gave out; start again without it.".into(),
        }
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        ApiError::Internal(err.to_string())
    }

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn conflict(code: Code, detail: impl Into<String>) -> Self {
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
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The seconds to wait before retrying (`Retry-After`), for the answers that say.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::TooManyRequests { retry_after, .. } => Some(*retry_after),
            ApiError::Unavailable(_) => Some(UNAVAILABLE_RETRY_AFTER),
            _ => None,
        }
    }

    /// The problem's `code` as answered.
    pub fn code(&self) -> &'static str {
        self.problem_code().name()
    }

    pub fn problem_code(&self) -> Code {
        match self {
            ApiError::Unauthorized(_) => Code::Unauthorized,
            ApiError::Forbidden(_) => Code::Forbidden,
            ApiError::NotFound(_) => Code::NotFound,
            ApiError::RouteNotFound => Code::RouteNotFound,
            ApiError::MethodNotAllowed { .. } => Code::MethodNotAllowed,
            ApiError::Validation(_) => Code::ValidationFailed,
            ApiError::Missing { code, .. }
            | ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Gone { code, .. }
            | ApiError::Unprocessable { code, .. }
            | ApiError::TooManyRequests { code, .. } => *code,
            ApiError::PreconditionFailed => Code::PreconditionFailed,
            ApiError::PreconditionRequired => Code::PreconditionRequired,
            ApiError::UnsupportedMediaType => Code::UnsupportedMediaType,
            ApiError::PayloadTooLarge => Code::PayloadTooLarge,
            ApiError::Internal(_) => Code::Internal,
            ApiError::Unavailable(_) => Code::Unavailable,
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
            ApiError::Unavailable(_) => "Service unavailable",
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
            ApiError::Unavailable(_) => format!(
                "AWS throttled or failed us: nothing was changed. Retry after {UNAVAILABLE_RETRY_AFTER} second(s) (Retry-After)."
            ),
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
    fn unavailable_is_a_503_that_says_when_to_retry_and_never_leaks_its_text() {
        let e = ApiError::Unavailable("ProvisionedThroughputExceededException: table kabinet".into());
        let p = e.problem(Some("r1"));
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("ProvisionedThroughput"));
        assert_eq!((p.status, p.code.as_str()), (503, "unavailable"));
        assert_eq!(e.retry_after(), Some(UNAVAILABLE_RETRY_AFTER));
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
