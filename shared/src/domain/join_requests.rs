//! Join requests: a person asks to join through a link; an admin accepts or rejects.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{OrgId, RoleGrant, Timestamp, UserId};

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
    pub id: String,
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
    pub link_id: Option<String>,
    /// A link to a roster record asked for by journal login: the record's sourcedId.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roster_id: Option<String>,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    pub version: u64,
}

impl JoinRequest {
    pub fn is_pending(&self) -> bool {
        self.status == JoinRequestStatus::Pending
    }
}
