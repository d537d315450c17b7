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
pub const MEMBER_PREFIX: &str = "MEMBER#";
pub const ORG_PREFIX: &str = "ORG#";

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
