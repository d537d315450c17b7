//! Invitation links: an admin's link that people use to ask to join.

use serde::{Deserialize, Serialize};

use super::{OrgId, RoleGrant, Timestamp, UserId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InviteLink {
    pub id: String,
    pub org_id: OrgId,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    pub roles: Vec<RoleGrant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    pub expires_at: Timestamp,
    /// `None`: unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
    #[serde(default)]
    pub uses: u32,
    #[serde(default)]
    pub declines: u32,
    #[serde(default)]
    pub revoked: bool,
    pub created_by: UserId,
    pub created_at: Timestamp,
}

/// Why a link cannot be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    Expired,
    Revoked,
    UsedUp,
}

impl InviteLink {
    pub fn refusal(&self, now: Timestamp) -> Option<LinkRefusal> {
        if self.revoked {
            Some(LinkRefusal::Revoked)
        } else if self.expires_at <= now {
            Some(LinkRefusal::Expired)
        } else if self.max_uses.is_some_and(|max| self.uses >= max) {
            Some(LinkRefusal::UsedUp)
        } else {
            None
        }
    }

    /// What audit entries record of a new link.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({"roles": self.roles, "expires_at": self.expires_at, "max_uses": self.max_uses, "group_id": self.group_id})
    }
}
