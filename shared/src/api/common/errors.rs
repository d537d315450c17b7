//! Store failures and refusals as problems: the one place that says which refusal
//! answers with which status and code.

use crate::domain::files::{MAX_OPEN_UPLOADS, ORG_QUOTA};
use crate::domain::invitations::{until_next_day, DAILY_INVITATION_EMAILS};
use crate::domain::join_requests::DAILY_ROSTER_LINKS;
use crate::domain::LinkRefusal;
use crate::domain::Timestamp;
use crate::http::ApiError;
use crate::http::Code;
use crate::store::classes::ClassError;
use crate::store::files::FileError;
use crate::store::invitations::InvitationError;
use crate::store::join_requests::RequestError;
use crate::store::members::MemberError;
use crate::store::StoreError;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor => ApiError::invalid_cursor(),
            StoreError::NoLongerAdmin => {
                ApiError::Forbidden("do this: you are no longer an admin of this organization")
            }
            StoreError::Unavailable(text) => ApiError::Unavailable(text),
            e => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<MemberError> for ApiError {
    fn from(e: MemberError) -> Self {
        member_error(e)
    }
}

impl From<ClassError> for ApiError {
    fn from(e: ClassError) -> Self {
        class_error(e)
    }
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        request_error(e)
    }
}

impl From<InvitationError> for ApiError {
    fn from(e: InvitationError) -> Self {
        invitation_error(e)
    }
}

impl From<FileError> for ApiError {
    fn from(e: FileError) -> Self {
        match e {
            FileError::NoAccess | FileError::GroupGone => ApiError::NotFound("group"),
            FileError::QuotaExceeded => quota_exceeded(),
            FileError::TooManyUploads => ApiError::conflict(
                Code::TooManyUploads,
                format!(
                    "You have {MAX_OPEN_UPLOADS} uploads under way: complete or delete one of them first \
                     (an upload not completed is dropped a day after it was started)."
                ),
            ),
            FileError::Gone => ApiError::NotFound("file"),
            FileError::Store(e) => e.into(),
        }
    }
}

pub fn quota_exceeded() -> ApiError {
    ApiError::Unprocessable {
        code: Code::QuotaExceeded,
        detail: format!(
            "The organization's files and uploads under way would take more than its {} GiB: delete files it no longer needs.",
            ORG_QUOTA >> 30
        ),
    }
}

/// A journal record that someone has joined as (or that no longer offers to this email).
pub fn roster_record_linked() -> ApiError {
    ApiError::conflict(Code::RosterRecordLinked, "This person of the school's journal has joined already.")
}

pub fn last_admin() -> ApiError {
    ApiError::conflict(Code::LastAdmin, "An organization needs at least one admin: appoint another admin first.")
}

pub fn admin_role_required() -> ApiError {
    ApiError::Unprocessable {
        code: Code::AdminRoleRequired,
        detail: "Only a member holding the teacher or staff role can be an admin.".into(),
    }
}

pub fn member_error(e: MemberError) -> ApiError {
    match e {
        MemberError::AlreadyMember => {
            ApiError::conflict(Code::AlreadyMember, "This person is already a member of the organization.")
        }
        MemberError::NotMember => ApiError::NotFound("member"),
        MemberError::Changed => ApiError::conflict(
            Code::ConcurrentUpdate,
            "The member was changed by someone else meanwhile; read again and retry.",
        ),
        MemberError::LastAdmin => last_admin(),
        MemberError::ClassUnavailable { class } => {
            ApiError::validation("roles", format!("class {class} does not exist or has graduated"))
        }
        MemberError::AdminRoleRequired => admin_role_required(),
        MemberError::ActorNotAdmin => ApiError::Forbidden("act as an admin of this organization"),
        MemberError::HasPendingRequest => {
            ApiError::conflict(Code::ConcurrentUpdate, "Their join request is being changed meanwhile; retry.")
        }
        MemberError::RecordTaken => roster_record_linked(),
        MemberError::Store(e) => e.into(),
    }
}

pub fn class_error(e: ClassError) -> ApiError {
    match e {
        ClassError::NameTaken => {
            ApiError::conflict(Code::ClassExists, "A class with this name already exists in this academic year.")
        }
        ClassError::NotATeacher(t) => {
            ApiError::validation("class_teacher_ids", format!("{t} is not a teacher of this organization"))
        }
        ClassError::Changed => ApiError::conflict(
            Code::ConcurrentUpdate,
            "The class was changed by someone else meanwhile; read it again and retry.",
        ),
        ClassError::Store(e) => e.into(),
    }
}

/// Why a link cannot be used, as the 410 answered.
pub fn link_refused(r: LinkRefusal) -> ApiError {
    let (code, detail) = match r {
        LinkRefusal::Expired => (Code::LinkExpired, "This invitation link has expired: ask the school for a new one."),
        LinkRefusal::Revoked => (Code::LinkRevoked, "This invitation link was withdrawn by the school."),
        LinkRefusal::UsedUp => (Code::LinkUsedUp, "This invitation link has been used as many times as it allows."),
    };
    ApiError::Gone { code, detail: detail.into() }
}

pub fn request_error(e: RequestError) -> ApiError {
    match e {
        RequestError::LinkUnusable => link_refused(LinkRefusal::UsedUp),
        RequestError::AlreadyPending => ApiError::conflict(Code::JoinRequestPending,
            "You already asked to join this organization; wait for an admin's decision or withdraw that request.",
        ),
        RequestError::AlreadyMember => {
            ApiError::conflict(Code::AlreadyMember, "This person is already a member of the organization.")
        }
        RequestError::NotPending => {
            ApiError::conflict(Code::AlreadyDecided, "This join request has already been decided or withdrawn.")
        }
        RequestError::ClassUnavailable(c) => ApiError::validation(
            "roles",
            format!("class {c} does not exist any more or has graduated: edit the request's classes"),
        ),
        RequestError::RecordTaken => roster_record_linked(),
        RequestError::DailyLimit => ApiError::TooManyRequests {
            code: Code::TooManyRequests,
            detail: format!(
                "You asked to link by journal login {DAILY_ROSTER_LINKS} times in this organization today; try again tomorrow, or ask the school."
            ),
            retry_after: until_next_day(Timestamp::now()),
        },
        RequestError::Store(e) => e.into(),
    }
}

pub fn invitation_error(e: InvitationError) -> ApiError {
    match e {
        InvitationError::AlreadyInvited(_) => {
            ApiError::conflict(Code::AlreadyInvited, "This address already has a pending invitation.")
        }
        InvitationError::NotPending => ApiError::conflict(Code::AlreadyDecided, "This invitation is no longer pending."),
        InvitationError::AlreadyMember => {
            ApiError::conflict(Code::AlreadyMember, "You are already a member of this organization.")
        }
        InvitationError::HasPendingRequest => {
            ApiError::conflict(Code::ConcurrentUpdate, "Your join request is being changed meanwhile; retry.")
        }
        InvitationError::ClassUnavailable(c) => ApiError::conflict(Code::ClassUnavailable,
            format!("The invitation's class {c} no longer exists or has graduated: ask for a new invitation."),
        ),
        InvitationError::DailyLimit => ApiError::TooManyRequests {
            code: Code::DailyLimit,
            detail: format!(
                "This organization has sent its {DAILY_INVITATION_EMAILS} invitation emails for today; more can go out after midnight UTC."
            ),
            retry_after: until_next_day(Timestamp::now()),
        },
        InvitationError::Store(e) => e.into(),
    }
}

/// A failed call to S3 as answered: 503 `unavailable` when S3 throttled or failed, else
/// internal; `what` (the step) and the text are logged, never answered.
pub fn object_error(e: crate::objects::ObjectError, what: &str) -> ApiError {
    let text = format!("{what}: {}", e.text);
    if e.unavailable {
        ApiError::Unavailable(text)
    } else {
        ApiError::Internal(text)
    }
}
