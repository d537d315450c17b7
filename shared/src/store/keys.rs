//! The one place that spells the table's keys: key attributes, index names, every key
//! format and prefix, and the attributes that exist only for keys, indexes and guards.

use crate::domain::ids::EventId;
use crate::domain::{
    AuditId, ClassId, CourseId, FileId, FileStatus, GroupId, OrgId, PlaceKind, PostId, PostKind, PostRef, Roster,
    ThreadId, UserId,
};
use crate::domain::{ExportId, ImportId, InvitationId, JoinRequestId, LinkId, SourcedId};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1PK: &str = "gsi1pk";
pub const GSI1SK: &str = "gsi1sk";
pub const GSI2: &str = "gsi2";
pub const GSI2PK: &str = "gsi2pk";
pub const GSI2SK: &str = "gsi2sk";
pub const TTL: &str = "ttl";

/// Sort keys of single items.
pub const PROFILE: &str = "PROFILE";
pub const IDEM: &str = "IDEM";
pub const EVENT: &str = "EVENT";
pub const SENT: &str = "SENT";
/// The sort key of a link token's lookup item.
pub const LINK: &str = "LINK";

pub const MEMBER_PREFIX: &str = "MEMBER#";
pub const ORG_PREFIX: &str = "ORG#";
pub const USER_PREFIX: &str = "USER#";
pub const EMAIL_PREFIX: &str = "EMAIL#";
pub const ADMINS_PREFIX: &str = "ADMINS#";
pub const CLASS_PREFIX: &str = "CLASS#";
pub const CLASSNAME_PREFIX: &str = "CLASSNAME#";
pub const AUDIT_PREFIX: &str = "AUDIT#";
pub const EVENT_PREFIX: &str = "EVENT#";
pub const SENT_PREFIX: &str = "SENT#";
pub const IDEM_PREFIX: &str = "IDEM#";
pub const LINK_PREFIX: &str = "LINK#";
pub const LINKTOKEN_PREFIX: &str = "LINKTOKEN#";
pub const DECLINE_PREFIX: &str = "DECLINE#";
pub const JOINREQ_PREFIX: &str = "JOINREQ#";
pub const JOINREQS_PREFIX: &str = "JOINREQS#";
pub const JOINPENDING_PREFIX: &str = "JOINPENDING#";
pub const GROUP_PREFIX: &str = "GROUP#";
/// A person's place in a group (`GMEMBER#<group>#<user>`).
pub const GMEMBER_PREFIX: &str = "GMEMBER#";
pub const COURSE_PREFIX: &str = "COURSE#";
/// A student's place in a course (`CSTUDENT#<course>#<user>`).
pub const CSTUDENT_PREFIX: &str = "CSTUDENT#";
/// A group's threads (`THREAD#<group>#<thread>`), newest last by ID.
pub const THREAD_PREFIX: &str = "THREAD#";
/// A thread's replies (`REPLY#<group>#<thread>#<reply>`).
pub const REPLY_PREFIX: &str = "REPLY#";
/// A group's announcements (`ANNOUNCE#<group>#<announcement>`).
pub const ANNOUNCE_PREFIX: &str = "ANNOUNCE#";
/// A group's ready files (`FILE#<group>#<file>`).
pub const FILE_PREFIX: &str = "FILE#";
/// A group's announced uploads, not completed yet (`UPLOAD#<group>#<file>`; expire).
pub const UPLOAD_PREFIX: &str = "UPLOAD#";
/// How many uploads a member has under way (`UPLOADS#<user>`, `open_uploads`).
pub const UPLOADS_PREFIX: &str = "UPLOADS#";
/// An expired upload whose reservation was released (`UPLOADGONE#<file>`; expires): a
/// redelivered expiry releases nothing again.
pub const UPLOADGONE_PREFIX: &str = "UPLOADGONE#";
/// How many members were last active on a day, and active that day
/// (`ACTIVEDAY#2026-12-06`; expires).
pub const ACTIVEDAY_PREFIX: &str = "ACTIVEDAY#";
/// How many pending invitations expire on a day (`INVITEEXP#2026-12-20`; expires).
pub const INVITEEXP_PREFIX: &str = "INVITEEXP#";
pub const INVITE_PREFIX: &str = "INVITE#";
/// An export (`EXPORT#<id>`; expires with its file).
pub const EXPORT_PREFIX: &str = "EXPORT#";
/// One of an admin's places for an export building (`EXPORTSLOT#<user>#<n>`).
pub const EXPORTSLOT_PREFIX: &str = "EXPORTSLOT#";
/// An organization's count of invitation emails on one day (`MAILDAY#2026-11-23`).
pub const MAILDAY_PREFIX: &str = "MAILDAY#";
pub const INVITEMAIL_PREFIX: &str = "INVITEMAIL#";
pub const INVITEPENDING_PREFIX: &str = "INVITEPENDING#";
/// An item of a person's inbox (`NOTE#<id>`, in their `USER#` partition; expires).
pub const NOTE_PREFIX: &str = "NOTE#";
/// The mark of an unread inbox item (`UNREAD#<id>`, beside it; expires with it): counting
/// a person's unread items reads these small items only.
pub const UNREAD_PREFIX: &str = "UNREAD#";
pub const CLASSES_PREFIX: &str = "CLASSES#";
/// The record that an academic year was rolled over (`ROLLOVER#2025/2026`).
pub const ROLLOVER_PREFIX: &str = "ROLLOVER#";
pub const INVITEDBY_PREFIX: &str = "INVITEDBY#";
/// A roster import (`IMPORT#<id>`).
pub const IMPORT_PREFIX: &str = "IMPORT#";
/// A started import's run: its insert, read from the stream, starts the importer
/// (`IMPORTRUN#<id>`, and `IMPORTRUN#<id>#<n>` for its continuations; expire).
pub const IMPORTRUN_PREFIX: &str = "IMPORTRUN#";
/// The organization's one place for an import running.
pub const IMPORTSLOT: &str = "IMPORTSLOT";
/// A person of the school's journal (`ROSTER#<sourcedId>`).
pub const ROSTER_PREFIX: &str = "ROSTER#";
/// Which class a journal class became (`ROSTERCLASS#<sourcedId>`).
pub const ROSTERCLASS_PREFIX: &str = "ROSTERCLASS#";
/// A journal enrollment (`ROSTERENROL#<sourcedId>`).
pub const ROSTERENROL_PREFIX: &str = "ROSTERENROL#";
/// An organization's roster people by journal login (on gsi1).
pub const ROSTERIDENT_PREFIX: &str = "ROSTERIDENT#";
/// A person an import changed and has yet to settle (`ROSTERDIRTY#<import>#<sourcedId>`).
pub const ROSTERDIRTY_PREFIX: &str = "ROSTERDIRTY#";
/// A member found by a word of their name (`MSEARCH#<word>#<sub>`) or by their address
/// (`MSEARCH#<email>#<sub>#EMAIL`): a prefix search is one query on the sort key.
pub const MSEARCH_PREFIX: &str = "MSEARCH#";
/// A teacher or staff member of the journal nobody has joined as yet
/// (`ROSTERWAIT#<sourcedId>`): the waiting employees, listed without reading the other
/// records. Written and removed in the transactions that make and end the waiting.
pub const ROSTERWAIT_PREFIX: &str = "ROSTERWAIT#";
/// The records a member joined as (`ROSTERUSER#<sub>`, `sourced_ids`: a string set).
pub const ROSTERUSER_PREFIX: &str = "ROSTERUSER#";
/// The journal's people nobody has joined as yet, counted by role (`ROSTERCOUNT#<shard>`,
/// `waiting_<role>`), and the records joined as (`linked`): a record counts on the shard
/// of its sourcedId, so that an import's parallel rows seldom write one counter item at
/// once.
pub const ROSTERCOUNT_PREFIX: &str = "ROSTERCOUNT#";
/// How many shards the waiting counts are kept in.
pub const ROSTERCOUNT_SHARDS: u32 = 16;
/// The attribute of those counts that counts the records joined as (`linked`).
pub const LINKED_COUNT: &str = "linked";
/// What a roster record's last write from an import was (a digest of its row), and
/// which run of an import last read its row.
pub const FINGERPRINT: &str = "fp";
pub const SEEN: &str = "seen";

/// The order of an organization's join requests (on gsi2): pending ones first, under
/// this prefix, then the decided ones under [`JOINREQS_DECIDED`].
pub const JOINREQS_PENDING: &str = "0#pending#";
pub const JOINREQS_DECIDED: &str = "1#";

/// Attributes kept for conditions and lookups rather than for the entity itself.
/// A membership's role names, as a list conditions test with `contains`.
pub const ROLE_NAMES: &str = "role_names";
/// The class a class name guard stands for.
pub const CLASS_ID: &str = "class_id";
/// The request a pending guard stands for.
pub const REQUEST_ID: &str = "request_id";
/// The invitation an invitation guard stands for.
pub const INVITATION_ID: &str = "invitation_id";
/// Where a link token's lookup item leads.
pub const LOOKUP_ORG_ID: &str = "org_id";
pub const LOOKUP_LINK_ID: &str = "link_id";

/// The attribute of a class roster.
pub fn roster_attr(r: Roster) -> &'static str {
    match r {
        Roster::Students => "students",
        Roster::Parents => "parents",
        Roster::Teachers => "teachers",
    }
}

pub fn import_sk(id: &ImportId) -> String {
    format!("{IMPORT_PREFIX}{id}")
}

pub fn import_run_sk(id: &ImportId) -> String {
    format!("{IMPORTRUN_PREFIX}{id}")
}

/// The record of an import's `n`-th continuation in a new run (`IMPORTRUN#<id>#<n>`).
pub fn import_next_run_sk(id: &ImportId, n: u32) -> String {
    format!("{IMPORTRUN_PREFIX}{id}#{n}")
}

pub fn roster_sk(sourced_id: &SourcedId) -> String {
    format!("{ROSTER_PREFIX}{sourced_id}")
}

pub fn roster_class_sk(sourced_id: &SourcedId) -> String {
    format!("{ROSTERCLASS_PREFIX}{sourced_id}")
}

pub fn roster_enrollment_sk(sourced_id: &SourcedId) -> String {
    format!("{ROSTERENROL_PREFIX}{sourced_id}")
}

pub fn roster_wait_sk(sourced_id: &SourcedId) -> String {
    format!("{ROSTERWAIT_PREFIX}{sourced_id}")
}

pub fn roster_user_sk(user: &UserId) -> String {
    format!("{ROSTERUSER_PREFIX}{user}")
}

/// The shard of the waiting counts a record counts on (FNV-1a of its sourcedId: stable
/// across builds).
pub fn roster_count_shard(sourced_id: &SourcedId) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in sourced_id.as_str().bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h % ROSTERCOUNT_SHARDS
}

pub fn roster_count_sk(shard: u32) -> String {
    format!("{ROSTERCOUNT_PREFIX}{shard}")
}

/// The attribute of the waiting counts for a role (`waiting_teacher`).
pub fn waiting_attr(role: crate::domain::Role) -> &'static str {
    use crate::domain::Role;
    match role {
        Role::Teacher => "waiting_teacher",
        Role::Staff => "waiting_staff",
        Role::Student => "waiting_student",
        Role::Parent => "waiting_parent",
    }
}

/// The prefix of an import's marks.
pub fn roster_dirty_prefix(import: &ImportId) -> String {
    format!("{ROSTERDIRTY_PREFIX}{import}#")
}

pub fn roster_dirty_sk(import: &ImportId, sourced_id: &SourcedId) -> String {
    format!("{}{sourced_id}", roster_dirty_prefix(import))
}

/// A person's requests to link by journal login in an organization on a day
/// (`ROSTERLINKS#<org>#<day>`, in the person's partition; expires).
pub fn roster_links_sk(org: &OrgId, day: &str) -> String {
    format!("ROSTERLINKS#{org}#{day}")
}

/// When an organization's admins were last mailed about a person's join request
/// (`JOINMAIL#<sub>`; expires).
pub fn join_mail_sk(user: &UserId) -> String {
    format!("JOINMAIL#{user}")
}

/// The organizations a person created on a day (`ORGSCREATED#<day>`, in the person's
/// partition; expires).
pub fn orgs_created_sk(day: &str) -> String {
    format!("ORGSCREATED#{day}")
}

/// The announcement emails of a group in a clock hour (`ANNOUNCEMAIL#<group>#<hour>`, the
/// hour since the epoch; expires).
pub fn announcement_mail_sk(group: &GroupId, hour: i64) -> String {
    format!("ANNOUNCEMAIL#{group}#{hour}")
}

/// The reply emails of a thread to its author in a clock hour (`REPLYMAIL#<thread>#<hour>`;
/// expires).
pub fn reply_mail_sk(thread: &ThreadId, hour: i64) -> String {
    format!("REPLYMAIL#{thread}#{hour}")
}

/// A journal login, compared without case.
pub fn roster_identifier_pk(org: &OrgId, identifier: &str) -> String {
    format!("{ROSTERIDENT_PREFIX}{org}#{}", identifier.trim().to_lowercase())
}

pub fn org_pk(org: &OrgId) -> String {
    format!("{ORG_PREFIX}{org}")
}

pub fn user_pk(user: &UserId) -> String {
    format!("{USER_PREFIX}{user}")
}

pub fn member_sk(user: &UserId) -> String {
    format!("{MEMBER_PREFIX}{user}")
}

/// A member's search item for a normalized word of their name.
pub fn member_word_sk(word: &str, user: &UserId) -> String {
    format!("{MSEARCH_PREFIX}{word}#{user}")
}

/// A member's search item for their normalized address (which admins search).
pub fn member_email_sk(email: &str, user: &UserId) -> String {
    format!("{MSEARCH_PREFIX}{email}#{user}#EMAIL")
}

/// An address mail is not sent to any more (`ADDRESS#<email>`, sort key [`UNDELIVERABLE`]).
pub const ADDRESS_PREFIX: &str = "ADDRESS#";
pub const UNDELIVERABLE: &str = "UNDELIVERABLE";

pub fn address_pk(email: &str) -> String {
    format!("{ADDRESS_PREFIX}{email}")
}

/// The users with an email (on gsi2).
pub fn email_pk(email: &str) -> String {
    format!("{EMAIL_PREFIX}{email}")
}

/// An idempotency record's partition: `digest` is a hash of the caller and their key.
pub fn idempotency_pk(digest: &str) -> String {
    format!("{IDEM_PREFIX}{digest}")
}

pub fn class_sk(class: &ClassId) -> String {
    format!("{CLASS_PREFIX}{class}")
}

/// The item that keeps a class name unique within a year.
pub fn class_name_sk(year: &str, unique_name: &str) -> String {
    format!("{CLASSNAME_PREFIX}{year}#{unique_name}")
}

/// The sparse index of an organization's admins (on gsi2).
pub fn admins_pk(org: &OrgId) -> String {
    format!("{ADMINS_PREFIX}{org}")
}

pub fn audit_sk(id: &AuditId) -> String {
    format!("{AUDIT_PREFIX}{id}")
}

pub fn link_sk(id: &LinkId) -> String {
    format!("{LINK_PREFIX}{id}")
}

/// The lookup item that leads from a token's hash to its link.
pub fn link_token_pk(token_hash: &str) -> String {
    format!("{LINKTOKEN_PREFIX}{token_hash}")
}

/// The record that a person declined a link.
pub fn decline_sk(link: &LinkId, user: &UserId) -> String {
    format!("{DECLINE_PREFIX}{link}#{user}")
}

pub fn join_request_sk(id: &JoinRequestId) -> String {
    format!("{JOINREQ_PREFIX}{id}")
}

/// The item that allows one pending join request per person and organization.
pub fn join_pending_sk(user: &UserId) -> String {
    format!("{JOINPENDING_PREFIX}{user}")
}

/// The join requests of an organization, on gsi2, pending first.
pub fn join_requests_pk(org: &OrgId) -> String {
    format!("{JOINREQS_PREFIX}{org}")
}

pub fn group_sk(id: &GroupId) -> String {
    format!("{GROUP_PREFIX}{id}")
}

/// The places of a group's members, or of a course's students (`of` a group or course).
pub fn places_prefix(kind: PlaceKind, of: &str) -> String {
    match kind {
        PlaceKind::Group => format!("{GMEMBER_PREFIX}{of}#"),
        PlaceKind::Course => format!("{CSTUDENT_PREFIX}{of}#"),
    }
}

pub fn place_sk(kind: PlaceKind, of: &str, user: &UserId) -> String {
    format!("{}{user}", places_prefix(kind, of))
}

/// The posts of one kind in a group (a reply's: of one thread).
pub fn posts_prefix(kind: PostKind, group: &GroupId, thread: Option<&ThreadId>) -> String {
    match kind {
        PostKind::Thread => format!("{THREAD_PREFIX}{group}#"),
        PostKind::Reply => format!("{REPLY_PREFIX}{group}#{}#", thread.map(ThreadId::as_str).unwrap_or_default()),
        PostKind::Announcement => format!("{ANNOUNCE_PREFIX}{group}#"),
    }
}

/// A post's item, by its kind, group, thread (a reply's) and ID.
pub fn post_sk(kind: PostKind, group: &GroupId, thread: Option<&ThreadId>, id: &PostId) -> String {
    format!("{}{id}", posts_prefix(kind, group, thread))
}

/// The item of the post `at` in `group`.
pub fn post_sk_at(group: &GroupId, at: &PostRef) -> String {
    post_sk(at.kind(), group, at.thread(), &at.id())
}

/// A group's files: ready ones, or uploads not completed yet.
pub fn files_prefix(status: FileStatus, group: &GroupId) -> String {
    match status {
        FileStatus::Ready => format!("{FILE_PREFIX}{group}#"),
        FileStatus::Uploading => format!("{UPLOAD_PREFIX}{group}#"),
    }
}

pub fn open_uploads_sk(user: &UserId) -> String {
    format!("{UPLOADS_PREFIX}{user}")
}

pub fn upload_gone_sk(file: &FileId) -> String {
    format!("{UPLOADGONE_PREFIX}{file}")
}

pub fn file_sk(status: FileStatus, group: &GroupId, id: &FileId) -> String {
    format!("{}{id}", files_prefix(status, group))
}

pub fn invitations_expiring_sk(day: &str) -> String {
    format!("{INVITEEXP_PREFIX}{day}")
}

pub fn active_day_sk(day: &str) -> String {
    format!("{ACTIVEDAY_PREFIX}{day}")
}

pub fn export_sk(id: &ExportId) -> String {
    format!("{EXPORT_PREFIX}{id}")
}

pub fn export_slot_sk(user: &UserId, slot: u32) -> String {
    format!("{EXPORTSLOT_PREFIX}{user}#{slot}")
}

pub fn course_sk(id: &CourseId) -> String {
    format!("{COURSE_PREFIX}{id}")
}

pub fn invitation_sk(id: &InvitationId) -> String {
    format!("{INVITE_PREFIX}{id}")
}

/// The invitations to an address (on gsi2).
pub fn invitation_email_pk(email: &str) -> String {
    format!("{INVITEMAIL_PREFIX}{email}")
}

/// The item that allows one pending invitation per address and organization.
pub fn invitation_pending_sk(email: &str) -> String {
    format!("{INVITEPENDING_PREFIX}{email}")
}

pub fn note_sk(id: &crate::domain::NotificationId) -> String {
    format!("{NOTE_PREFIX}{}", id.as_str())
}

pub fn unread_sk(id: &crate::domain::NotificationId) -> String {
    format!("{UNREAD_PREFIX}{}", id.as_str())
}

pub fn event_pk(id: &EventId) -> String {
    format!("{EVENT_PREFIX}{id}")
}

/// The claim to send one event's email to one recipient.
pub fn sent_pk(event: &EventId, to: &str) -> String {
    format!("{SENT_PREFIX}{event}#{}", to.to_lowercase())
}

/// The classes of an organization's year (on gsi1), in list order.
pub fn classes_of_year_pk(org: &OrgId, year: &str) -> String {
    format!("{CLASSES_PREFIX}{org}#{year}")
}

/// The invitations one member sent in an organization (on gsi1), newest first.
pub fn invited_by_pk(org: &OrgId, user: &UserId) -> String {
    format!("{INVITEDBY_PREFIX}{org}#{user}")
}
