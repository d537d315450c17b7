//! Identifiers.

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// The length of an ID the API hands out: a ULID (26 characters), lower-cased.
pub const ID_LEN: usize = 26;

/// An entity's ID as the API hands it out: one type per entity, so a group's ID cannot be
/// passed where a course's is wanted. Path parameters are parsed into one at the boundary
/// (`req.path::<GroupId>("id")`), and what cannot be one is answered as its entity not found.
pub trait EntityId: Sized {
    /// The entity, as a 404 names it: `group`, `join request`...
    const WHAT: &'static str;
    /// `None` for text that cannot be such an ID.
    fn parse(raw: &str) -> Option<Self>;
}

/// Whether `raw` can be a ULID as IDs print: 26 letters and digits, either case.
fn is_ulid(raw: &str) -> bool {
    raw.len() == ID_LEN && raw.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A ULID as the API writes it: lower case. Text that is not 26 letters and digits is not one.
fn ulid_text(raw: &str) -> Option<String> {
    is_ulid(raw).then(|| raw.to_ascii_lowercase())
}

macro_rules! entity_ids {
    ($($(#[$doc:meta])* $name:ident => $what:literal,)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new ID: a ULID, lower-cased (the one place IDs are minted).
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                $name(ulid::Ulid::new().to_string().to_lowercase())
            }

            /// `None` for text that cannot be one (answered as not found).
            pub fn parse(raw: &str) -> Option<Self> {
                ulid_text(raw).map($name)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl EntityId for $name {
            const WHAT: &'static str = $what;
            fn parse(raw: &str) -> Option<Self> {
                $name::parse(raw)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl From<&$name> for String {
            fn from(id: &$name) -> String {
                id.0.clone()
            }
        }
    )*};
}

entity_ids! {
    /// A class (of an academic year).
    ClassId => "class",
    /// A course.
    CourseId => "course",
    /// A group.
    GroupId => "group",
    /// A group's announcement.
    AnnouncementId => "announcement",
    /// A group's discussion thread.
    ThreadId => "thread",
    /// A reply in a thread.
    ReplyId => "reply",
    /// A file in a group.
    FileId => "file",
    /// A statistics export.
    ExportId => "export",
    /// A roster import.
    ImportId => "import",
    /// An email invitation.
    InvitationId => "invitation",
    /// An invitation link.
    LinkId => "invitation link",
    /// A request to join.
    JoinRequestId => "join request",
    /// An item of a person's inbox: its event's ID, lower-cased (one event tells a person
    /// once).
    NotificationId => "notification",
}

impl NotificationId {
    /// The inbox item of an event.
    pub fn of_event(event: &EventId) -> Self {
        NotificationId(event.as_str().to_ascii_lowercase())
    }
}

// A group's posts (threads, replies, announcements) are one kind of item: its `id` is the
// thread's, reply's or announcement's ID, whichever kind it is.
entity_ids! {
    /// A post of a group, whatever its kind.
    PostId => "post",
}

impl From<ThreadId> for PostId {
    fn from(id: ThreadId) -> Self {
        PostId(id.0)
    }
}

impl From<ReplyId> for PostId {
    fn from(id: ReplyId) -> Self {
        PostId(id.0)
    }
}

impl From<AnnouncementId> for PostId {
    fn from(id: AnnouncementId) -> Self {
        PostId(id.0)
    }
}

/// An audit entry: a ULID of the moment it was made, as ULIDs print (upper case), so an
/// organization's entries sort by time. Never read from a request (lists page by cursor).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AuditId(String);

impl AuditId {
    /// A new ID at `unix_ms` (milliseconds since the epoch).
    pub fn at(unix_ms: u64) -> Self {
        AuditId(ulid::Ulid::from_parts(unix_ms, rand::random()).to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AuditId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An outbox event: a ULID as ULIDs print (upper case), minted when the event is written
/// and read back from its stream record's key. Never read from a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(String);

impl EventId {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        EventId(ulid::Ulid::new().to_string())
    }

    /// The ID an event's key names (`EVENT#<id>`), if it is one.
    pub fn parse(raw: &str) -> Option<Self> {
        is_ulid(raw).then(|| EventId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The alphabet of organization IDs: lowercase letters and digits without the look-alikes
/// 0/o, 1/l/i (and u, so IDs read aloud are not mistaken for v). 30 symbols.
const ORG_ID_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstvwxyz";
/// 10 symbols: 30^10 ~ 5.9e14 IDs (49 bits), so a collision among a region's schools is
/// vanishingly rare, and the create is conditional anyway.
pub const ORG_ID_LEN: usize = 10;

/// An organization's ID: short, unambiguous to read aloud, easy to copy (no separators,
/// selected by a double click). Parsing accepts upper case and folds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrgId(String);

impl OrgId {
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let id = (0..ORG_ID_LEN).map(|_| ORG_ID_ALPHABET[rng.random_range(0..ORG_ID_ALPHABET.len())] as char).collect();
        OrgId(id)
    }

    /// `None` for anything that cannot be an organization ID (answered as not found).
    pub fn parse(raw: &str) -> Option<Self> {
        let id = raw.trim().to_ascii_lowercase();
        (id.len() == ORG_ID_LEN && id.bytes().all(|b| ORG_ID_ALPHABET.contains(&b))).then_some(OrgId(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's ID: the identity provider's `sub`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

/// The longest user ID taken (the identity provider's `sub`).
pub const MAX_USER_ID: usize = 128;

impl UserId {
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_USER_ID
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:|@".contains(c));
        ok.then(|| UserId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest sourcedId taken, in characters (it is part of keys, which hold 1,024 bytes).
pub const MAX_SOURCED_ID: usize = 255;

/// A roster record's OneRoster `sourcedId`: the school journal's own text, not a ULID (a
/// person's, a class's or an enrollment's). Any text of 1 to [`MAX_SOURCED_ID`]
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SourcedId(String);

impl SourcedId {
    /// `None` for text that cannot be one (answered as the record not found).
    pub fn parse(raw: &str) -> Option<Self> {
        (!raw.is_empty() && raw.chars().count() <= MAX_SOURCED_ID).then(|| SourcedId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl EntityId for SourcedId {
    const WHAT: &'static str = "roster record";
    fn parse(raw: &str) -> Option<Self> {
        SourcedId::parse(raw)
    }
}

impl fmt::Display for SourcedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SourcedId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_org_ids_are_short_and_unambiguous() {
        for _ in 0..1000 {
            let id = OrgId::generate();
            assert_eq!(id.as_str().len(), ORG_ID_LEN);
            assert!(id.as_str().len() <= 12);
            assert!(!id.as_str().contains(['0', 'o', '1', 'l', 'i', 'I', 'O']));
            assert_eq!(OrgId::parse(id.as_str()), Some(id.clone()));
            assert_eq!(OrgId::parse(&id.as_str().to_uppercase()), Some(id));
        }
    }

    #[test]
    fn org_id_parse_refuses_other_text() {
        assert!(OrgId::parse("short").is_none());
        assert!(OrgId::parse("abcdefghj0").is_none());
        assert!(OrgId::parse("../../etc1").is_none());
    }

    #[test]
    fn entity_ids_are_lower_case_ulids_of_their_own_type() {
        let id = GroupId::new();
        assert_eq!(id.as_str().len(), ID_LEN);
        assert_eq!(id.as_str(), id.as_str().to_lowercase());
        assert_eq!(GroupId::parse(&id.as_str().to_uppercase()), Some(id.clone()));
        assert_eq!(GroupId::parse(id.as_str()), Some(id));
        assert!(GroupId::parse("01m115ebsrwdyfqatyynem1n1").is_none());
        assert!(GroupId::parse("01m115ebsrwdyfqatyynem1n1#").is_none());
        assert_eq!(<JoinRequestId as EntityId>::WHAT, "join request");
        assert_ne!(ClassId::new().as_str(), ClassId::new().as_str());
    }

    #[test]
    fn user_ids() {
        assert!(UserId::parse("0b1c2d3e-aaaa-bbbb-cccc-123456789012").is_some());
        assert!(UserId::parse("").is_none());
        assert!(UserId::parse("a#b").is_none());
    }
}
