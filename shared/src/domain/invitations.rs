//! Email invitations (R4.5): an admin or teacher invites an address; the person, once
//! signed in with that verified address, accepts and becomes a member.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{OrgId, RoleGrant, Timestamp, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Declined,
    Revoked,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invitation {
    pub id: String,
    pub org_id: OrgId,
    /// Lower-cased.
    pub email: String,
    pub role: RoleGrant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    pub status: InvitationStatus,
    pub invited_by: UserId,
    pub invited_by_name: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_sent_at: Timestamp,
    pub send_count: u32,
    pub version: u64,
}

impl Invitation {
    /// Pending and not yet expired.
    pub fn is_open(&self, now: Timestamp) -> bool {
        self.status == InvitationStatus::Pending && self.expires_at > now
    }
}
