//! The audit log: one entry per admin action, with the values before and after.

use serde::{Deserialize, Serialize};

use super::{AuditId, OrgId, Timestamp, UserId};

/// What an audit entry records: the action, stored and answered as its name
/// (`member.add`). The reference's list of actions is made from [`AuditAction::ALL`].
macro_rules! audit_actions {
    ($($variant:ident => $name:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AuditAction {
            $($variant,)*
        }

        impl AuditAction {
            /// Every action, in the order the reference lists them (by family).
            pub const ALL: &[AuditAction] = &[$(AuditAction::$variant,)*];

            /// The action as stored and answered: `<family>.<verb>`.
            pub fn name(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $name,)*
                }
            }
        }
    };
}

audit_actions! {
    OrgUpdate => "org.update",
    OrgRollover => "org.rollover",
    MemberAdd => "member.add",
    MemberUpdate => "member.update",
    MemberRemove => "member.remove",
    MemberLeave => "member.leave",
    AdminAppoint => "admin.appoint",
    AdminDemote => "admin.demote",
    ClassCreate => "class.create",
    ClassUpdate => "class.update",
    ClassDelete => "class.delete",
    ClassGraduate => "class.graduate",
    ClassPromote => "class.promote",
    ClassMemberRemove => "class.member_remove",
    LinkCreate => "link.create",
    LinkRevoke => "link.revoke",
    JoinRequestUpdate => "join_request.update",
    JoinRequestAccept => "join_request.accept",
    JoinRequestReject => "join_request.reject",
    InvitationCreate => "invitation.create",
    InvitationResend => "invitation.resend",
    InvitationRevoke => "invitation.revoke",
    InvitationAccept => "invitation.accept",
    GroupCreate => "group.create",
    GroupUpdate => "group.update",
    GroupDelete => "group.delete",
    GroupMembersAdd => "group.members_add",
    GroupMemberRemove => "group.member_remove",
    GroupMemberRole => "group.member_role",
    CourseCreate => "course.create",
    CourseUpdate => "course.update",
    CourseDelete => "course.delete",
    CourseStudentsAdd => "course.students_add",
    CourseStudentRemove => "course.student_remove",
    CourseGroupLink => "course.group_link",
    CourseGroupUnlink => "course.group_unlink",
    ThreadDelete => "thread.delete",
    ReplyDelete => "reply.delete",
    AnnouncementDelete => "announcement.delete",
    FileDelete => "file.delete",
    ExportRequest => "export.request",
    ImportCreate => "import.create",
    ImportStart => "import.start",
    ImportFinish => "import.finish",
}

impl AuditAction {
    /// The deletion of a post of this kind (`thread.delete`, `reply.delete`,
    /// `announcement.delete`).
    pub fn post_deleted(kind: super::PostKind) -> Self {
        match kind {
            super::PostKind::Thread => AuditAction::ThreadDelete,
            super::PostKind::Reply => AuditAction::ReplyDelete,
            super::PostKind::Announcement => AuditAction::AnnouncementDelete,
        }
    }

    /// The family an action belongs to (`member` of `member.add`).
    pub fn family(self) -> &'static str {
        self.name().split('.').next().unwrap_or_default()
    }
}

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
    /// An [`AuditAction`]'s name: `org.update`, `member.add`...
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
        action: AuditAction,
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
            action: action.name().into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_audit_action_is_a_family_and_a_verb() {
        let mut seen = std::collections::HashSet::new();
        for a in AuditAction::ALL {
            let name = a.name();
            assert!(seen.insert(name), "{name} twice");
            let (family, verb) = name.split_once('.').unwrap();
            assert_eq!(a.family(), family);
            assert!(!family.is_empty() && !verb.is_empty() && !verb.contains('.'), "{name}");
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'), "{name}");
        }
    }
}
