//! Key builders: the one place that spells keys.

use crate::domain::{OrgId, UserId};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1PK: &str = "gsi1pk";
pub const GSI1SK: &str = "gsi1sk";
pub const GSI2: &str = "gsi2";
pub const GSI2PK: &str = "gsi2pk";
pub const GSI2SK: &str = "gsi2sk";
pub const TTL: &str = "ttl";

pub const PROFILE: &str = "PROFILE";
pub const IDEM: &str = "IDEM";
pub const MEMBER_PREFIX: &str = "MEMBER#";
pub const ORG_PREFIX: &str = "ORG#";
pub const CLASS_PREFIX: &str = "CLASS#";
pub const CLASSNAME_PREFIX: &str = "CLASSNAME#";
pub const AUDIT_PREFIX: &str = "AUDIT#";
pub const EVENT_PREFIX: &str = "EVENT#";
pub const LINK_PREFIX: &str = "LINK#";
pub const LINKTOKEN_PREFIX: &str = "LINKTOKEN#";
pub const DECLINE_PREFIX: &str = "DECLINE#";
pub const JOINREQ_PREFIX: &str = "JOINREQ#";
pub const JOINPENDING_PREFIX: &str = "JOINPENDING#";
pub const GROUP_PREFIX: &str = "GROUP#";
pub const INVITE_PREFIX: &str = "INVITE#";
pub const INVITEPENDING_PREFIX: &str = "INVITEPENDING#";

pub fn org_pk(org: &OrgId) -> String {
    format!("ORG#{org}")
}

pub fn user_pk(user: &UserId) -> String {
    format!("USER#{user}")
}

pub fn member_sk(user: &UserId) -> String {
    format!("MEMBER#{user}")
}

pub fn email_pk(email: &str) -> String {
    format!("EMAIL#{email}")
}

pub fn idempotency_pk(user: &str, key: &str) -> String {
    format!("IDEM#{user}#{key}")
}

pub fn class_sk(class: &str) -> String {
    format!("{CLASS_PREFIX}{class}")
}

/// The item that keeps a class name unique within a year.
pub fn class_name_sk(year: &str, unique_name: &str) -> String {
    format!("{CLASSNAME_PREFIX}{year}#{unique_name}")
}

/// The sparse index of an organization's admins (on gsi2).
pub fn admins_pk(org: &OrgId) -> String {
    format!("ADMINS#{org}")
}

pub fn link_sk(id: &str) -> String {
    format!("{LINK_PREFIX}{id}")
}

pub fn join_request_sk(id: &str) -> String {
    format!("{JOINREQ_PREFIX}{id}")
}

/// The item that allows one pending join request per person and organization.
pub fn join_pending_sk(user: &UserId) -> String {
    format!("{JOINPENDING_PREFIX}{user}")
}

/// The join requests of an organization, on gsi2, pending first.
pub fn join_requests_pk(org: &OrgId) -> String {
    format!("JOINREQS#{org}")
}

pub fn group_sk(id: &str) -> String {
    format!("{GROUP_PREFIX}{id}")
}
