//! Outbox events: what happened that has a side effect (an email), written in the same
//! transaction as the change and read back by the notifier. One typed enum for both.

use serde::{Deserialize, Serialize};

use super::{AnnouncementId, ExportFormat, ExportKind, GroupId, OrgId, Role, RoleGrant, Timestamp, UserId};
use super::{ExportId, InvitationId, JoinRequestId, SourcedId};
use super::{ReplyId, ThreadId};

/// An event with its data. Stored as a `kind` and a JSON payload of the other fields
/// (the field names are what the notifier reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutboxEvent {
    /// An admin added a member.
    MemberAdded {
        org_id: OrgId,
        org_name: String,
        user_id: UserId,
        roles: Vec<RoleGrant>,
        by: String,
    },
    /// A member was made an admin.
    AdminAppointed {
        org_id: OrgId,
        org_name: String,
        user_id: UserId,
        by: String,
    },
    /// Someone asked to join through a link: the admins are told.
    JoinRequestSubmitted {
        org_id: OrgId,
        org_name: String,
        request_id: JoinRequestId,
        user_id: UserId,
        /// The requester's name.
        name: String,
        roles: Vec<RoleGrant>,
    },
    JoinRequestAccepted {
        org_id: OrgId,
        org_name: String,
        request_id: JoinRequestId,
        user_id: UserId,
        roles: Vec<RoleGrant>,
    },
    JoinRequestRejected {
        org_id: OrgId,
        org_name: String,
        request_id: JoinRequestId,
        user_id: UserId,
        reason: String,
    },
    /// An email invitation (also each resend).
    Invitation {
        org_id: OrgId,
        org_name: String,
        invitation_id: InvitationId,
        email: String,
        roles: Vec<RoleGrant>,
        by: String,
        expires_at: Timestamp,
        /// The group the invitation also joins.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group_name: Option<String>,
    },
    /// People were added to a group: each gets their own email.
    AddedToGroup {
        org_id: OrgId,
        org_name: String,
        group_id: String,
        group_name: String,
        user_ids: Vec<UserId>,
        by: String,
    },
    /// An announcement in a group: each member who has not muted the group gets it.
    #[serde(rename = "announcement")]
    AnnouncementPosted {
        org_id: OrgId,
        org_name: String,
        group_id: GroupId,
        group_name: String,
        announcement_id: AnnouncementId,
        title: String,
        body: String,
        author_id: UserId,
        author_name: String,
        /// Whether it is mailed: past the group's announcements mailed in a clock hour it
        /// goes to the inbox only.
        #[serde(default = "yes", skip_serializing_if = "is_true")]
        mailed: bool,
    },
    /// A reply in a thread: the thread's author is told (unless they wrote it).
    #[serde(rename = "reply")]
    ReplyPosted {
        org_id: OrgId,
        org_name: String,
        group_id: GroupId,
        group_name: String,
        thread_id: ThreadId,
        thread_title: String,
        reply_id: ReplyId,
        /// Who is told: the thread's author.
        thread_author_id: UserId,
        body: String,
        author_id: UserId,
        author_name: String,
        /// Whether it is mailed: past the thread's reply mail of a clock hour it goes to
        /// the inbox only.
        #[serde(default = "yes", skip_serializing_if = "is_true")]
        mailed: bool,
    },
    /// An export was built: the admin who asked for it is told.
    ExportReady {
        org_id: OrgId,
        org_name: String,
        export_id: ExportId,
        user_id: UserId,
        export_kind: ExportKind,
        format: ExportFormat,
        /// When it and its file go.
        expires_at: Timestamp,
    },
    /// The email of a roster record's offer: its email's owner is invited to sign in (or
    /// sign up) with it and accept (an import with `"invite": true`, or an admin's resend),
    /// whether or not they are registered.
    RosterInvitation {
        org_id: OrgId,
        org_name: String,
        /// The roster record's sourcedId.
        roster_id: SourcedId,
        /// The record's offer (the journal invitation its email's owner accepts).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offer_id: Option<InvitationId>,
        email: String,
        /// Their name as the journal writes it.
        name: String,
        role: Role,
        /// The admin who started the import or resent it.
        by: String,
    },
    /// The email of an invitation bounced for good or was marked as spam: the
    /// organization's admins are told (in their inbox; no mail).
    InvitationBounced {
        org_id: OrgId,
        org_name: String,
        invitation_id: InvitationId,
        email: String,
        /// `bounced` or `complained`.
        reason: String,
    },
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// Every kind that mails someone (each has its templates).
pub const MAIL_KINDS: [&str; 11] = [
    "member_added",
    "admin_appointed",
    "join_request_submitted",
    "join_request_accepted",
    "join_request_rejected",
    "invitation",
    "added_to_group",
    "announcement",
    "reply",
    "export_ready",
    "roster_invitation",
];

/// Every kind, as stored: those that mail, and `invitation_bounced` (the admins' inbox).
pub const KINDS: [&str; MAIL_KINDS.len() + INBOX_ONLY_KINDS.len()] = {
    let mut all = [""; MAIL_KINDS.len() + INBOX_ONLY_KINDS.len()];
    let mut i = 0;
    while i < all.len() {
        all[i] = if i < MAIL_KINDS.len() { MAIL_KINDS[i] } else { INBOX_ONLY_KINDS[i - MAIL_KINDS.len()] };
        i += 1;
    }
    all
};

/// The kinds that tell people in their inbox only (no template, no mail).
pub const INBOX_ONLY_KINDS: [&str; 1] = ["invitation_bounced"];
impl OutboxEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            OutboxEvent::MemberAdded { .. } => "member_added",
            OutboxEvent::AdminAppointed { .. } => "admin_appointed",
            OutboxEvent::JoinRequestSubmitted { .. } => "join_request_submitted",
            OutboxEvent::JoinRequestAccepted { .. } => "join_request_accepted",
            OutboxEvent::JoinRequestRejected { .. } => "join_request_rejected",
            OutboxEvent::Invitation { .. } => "invitation",
            OutboxEvent::AddedToGroup { .. } => "added_to_group",
            OutboxEvent::AnnouncementPosted { .. } => "announcement",
            OutboxEvent::ReplyPosted { .. } => "reply",
            OutboxEvent::ExportReady { .. } => "export_ready",
            OutboxEvent::RosterInvitation { .. } => "roster_invitation",
            OutboxEvent::InvitationBounced { .. } => "invitation_bounced",
        }
    }

    /// The organization it happened in.
    pub fn org_id(&self) -> &OrgId {
        match self {
            OutboxEvent::MemberAdded { org_id, .. }
            | OutboxEvent::AdminAppointed { org_id, .. }
            | OutboxEvent::JoinRequestSubmitted { org_id, .. }
            | OutboxEvent::JoinRequestAccepted { org_id, .. }
            | OutboxEvent::JoinRequestRejected { org_id, .. }
            | OutboxEvent::Invitation { org_id, .. }
            | OutboxEvent::AddedToGroup { org_id, .. }
            | OutboxEvent::AnnouncementPosted { org_id, .. }
            | OutboxEvent::ReplyPosted { org_id, .. }
            | OutboxEvent::ExportReady { org_id, .. }
            | OutboxEvent::RosterInvitation { org_id, .. }
            | OutboxEvent::InvitationBounced { org_id, .. } => org_id,
        }
    }

    /// The fields other than the kind, as a JSON object.
    pub fn payload(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(fields)) => {
                serde_json::Value::Object(fields.into_iter().filter(|(k, _)| k != "kind").collect())
            }
            _ => serde_json::Value::Null,
        }
    }

    /// The event of a stored kind and payload: `None` for a kind that is not one of
    /// these (no side effect), an error for a payload that does not fit its kind.
    pub fn from_parts(kind: &str, payload: &str) -> Result<Option<Self>, String> {
        if !KINDS.contains(&kind) {
            return Ok(None);
        }
        let mut fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(payload).map_err(|e| format!("payload: {e}"))?;
        fields.insert("kind".into(), serde_json::Value::String(kind.into()));
        serde_json::from_value(serde_json::Value::Object(fields)).map(Some).map_err(|e| format!("{kind} payload: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_and_payload_round_trip() {
        let e = OutboxEvent::AdminAppointed {
            org_id: OrgId::parse("k7m3xq9pza").unwrap(),
            org_name: "Школа".into(),
            user_id: UserId::parse("u1").unwrap(),
            by: "Анна".into(),
        };
        assert_eq!(e.kind(), "admin_appointed");
        let payload = e.payload();
        assert_eq!(payload["org_id"], "k7m3xq9pza");
        assert!(payload.get("kind").is_none());
        assert_eq!(OutboxEvent::from_parts(e.kind(), &payload.to_string()).unwrap(), Some(e));
        assert_eq!(OutboxEvent::from_parts("something_else", "{}").unwrap(), None);
        assert!(OutboxEvent::from_parts("member_added", "{\"user_id\": \"u1\"}").is_err());
        // Every kind reads back as its own variant.
        let e = OutboxEvent::AnnouncementPosted {
            org_id: OrgId::parse("k7m3xq9pza").unwrap(),
            org_name: "Школа".into(),
            group_id: GroupId::new(),
            group_name: "7А".into(),
            announcement_id: AnnouncementId::new(),
            title: "Собрание".into(),
            body: "В пятницу".into(),
            author_id: UserId::parse("u1").unwrap(),
            author_name: "Анна".into(),
            mailed: true,
        };
        assert!(KINDS.contains(&e.kind()));
        assert!(e.payload().get("mailed").is_none(), "mailed, the default, is not stored");
        assert_eq!(OutboxEvent::from_parts(e.kind(), &e.payload().to_string()).unwrap(), Some(e.clone()));
        let mut inbox_only = e;
        if let OutboxEvent::AnnouncementPosted { mailed, .. } = &mut inbox_only {
            *mailed = false;
        }
        assert_eq!(inbox_only.payload()["mailed"], false);
        assert_eq!(
            OutboxEvent::from_parts("announcement", &inbox_only.payload().to_string()).unwrap(),
            Some(inbox_only)
        );
    }
}
