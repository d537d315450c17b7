//! Join requests: a person asks to join through a link; an admin accepts or rejects.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{JoinRequestId, LinkId, OrgId, RoleGrant, SourcedId, Timestamp, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JoinRequestStatus {
    Pending,
    Accepted,
    Rejected,
    Withdrawn,
}

impl JoinRequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JoinRequestStatus::Pending => "pending",
            JoinRequestStatus::Accepted => "accepted",
            JoinRequestStatus::Rejected => "rejected",
            JoinRequestStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(raw.to_string())).ok()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinRequest {
    pub id: JoinRequestId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub roles: Vec<RoleGrant>,
    pub status: JoinRequestStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_id: Option<LinkId>,
    /// A request to link a roster record by journal login: the login the person gave
    /// (whether or not a record has it: they are told nothing of the record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roster_login: Option<String>,
    /// The roster record an accepted login request joined them as (its sourcedId).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roster_id: Option<SourcedId>,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<UserId>,
    pub version: u64,
}

/// A rejection's reason, in characters.
pub const MAX_REASON: usize = 1000;

/// Requests to link by journal login one person may make in one organization a UTC day.
pub const DAILY_ROSTER_LINKS: u32 = 3;

/// The least time between two emails to an organization's admins about one person's join
/// requests: submitting and withdrawing in a loop mails them once an hour at most.
pub const ADMIN_MAIL_INTERVAL_SECS: i64 = 3600;

impl JoinRequest {
    pub fn is_pending(&self) -> bool {
        self.status == JoinRequestStatus::Pending
    }
}
