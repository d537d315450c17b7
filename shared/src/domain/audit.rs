//! The audit log: one entry per admin action, with the values before and after.

use serde::{Deserialize, Serialize};

use super::{AuditId, OrgId, Timestamp, UserId};

/// Who did it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: UserId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: AuditId,
    pub org_id: OrgId,
    pub at: Timestamp,
    pub actor_id: String,
    pub actor_name: String,
    /// e.g. `org.update`, `member.add`, `admin.appoint`, `class.promote`.
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    /// JSON of the values before and after (absent for creations and deletions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// An admin's action: the transaction that writes the entry also checks that the
    /// actor is still an admin (not stored).
    #[serde(skip)]
    pub by_admin: bool,
}

impl AuditEntry {
    /// An entry without values; add them with [`AuditEntry::before`] and
    /// [`AuditEntry::after`].
    /// `target` is the ID of what was acted on, of whichever entity `target_type` names,
    /// recorded as its text.
    pub fn new<T: AsRef<str> + ?Sized>(
        org: &OrgId,
        actor: &Actor,
        action: &str,
        target_type: &str,
        target: &T,
    ) -> Self {
        let at = Timestamp::now();
        let id = AuditId::at(at.inner().unix_timestamp_nanos() as u64 / 1_000_000);
        AuditEntry {
            id,
            org_id: org.clone(),
            at,
            actor_id: actor.id.to_string(),
            actor_name: actor.name.clone(),
            action: action.into(),
            target_type: target_type.into(),
            target_id: target.as_ref().into(),
            before: None,
            after: None,
            by_admin: false,
        }
    }

    /// Marks the entry as an admin's action (see [`AuditEntry::by_admin`]).
    pub fn as_admin(mut self, by_admin: bool) -> Self {
        self.by_admin = by_admin;
        self
    }

    /// The values before the change.
    pub fn before(mut self, v: serde_json::Value) -> Self {
        self.before = Some(v.to_string());
        self
    }

    /// The values after the change.
    pub fn after(mut self, v: serde_json::Value) -> Self {
        self.after = Some(v.to_string());
        self
    }
}
