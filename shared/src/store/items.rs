//! Each entity's item: its key, the item with its key and index attributes, and back.
//! The entities' own fields are their serde fields; what only the table needs (keys,
//! index keys, guards, lookups) is added here.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::keys::*;
use super::tx::{key, n, s, Item};
use super::{serde_err, StoreError};
use crate::domain::ids::EventId;
use crate::domain::search::{name_tokens, normalize};
use crate::domain::{
    AuditEntry, Class, ClassId, Course, CourseId, Group, GroupFile, GroupId, Invitation, InviteLink, JoinRequest,
    JoinRequestStatus, Membership, Org, OrgId, OutboxEvent, Place, PlaceKind, Post, PostKind, Role, RoleGrant,
    Timestamp, UserId,
};
use crate::domain::{InvitationId, JoinRequestId, LinkId};

/// An entity from its item.
pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(serde_err)
}

pub fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(serde_err)
}

pub fn to_value<T: Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(value).map_err(serde_err)
}

// Users.

pub fn user_key(user: &UserId) -> Item {
    key(user_pk(user), PROFILE)
}

// Organizations.

pub fn org_key(org: &OrgId) -> Item {
    key(org_pk(org), PROFILE)
}

pub fn org_item(org: &Org) -> Result<Item, StoreError> {
    let mut item = to_item(org)?;
    item.extend(org_key(&org.id));
    Ok(item)
}

// Memberships.

pub fn member_key(org: &OrgId, user: &UserId) -> Item {
    key(org_pk(org), member_sk(user))
}

pub fn member_item(m: &Membership) -> Result<Item, StoreError> {
    let mut item = to_item(m)?;
    item.extend(member_key(&m.org_id, &m.user_id));
    item.insert(GSI1PK.into(), s(user_pk(&m.user_id)));
    item.insert(GSI1SK.into(), s(org_pk(&m.org_id)));
    item.insert(ROLE_NAMES.into(), role_names(&m.roles));
    if m.admin {
        item.insert(GSI2PK.into(), s(admins_pk(&m.org_id)));
        item.insert(GSI2SK.into(), s(member_sk(&m.user_id)));
    }
    Ok(item)
}

// Finding members: a search item per word of a member's name and one for their address.

/// A member's search item as stored: the word it is found by, and what the search needs
/// to count the person once (all their words, their address) without reading more.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchItem {
    pub user_id: UserId,
    /// The normalized word (or address) this item is found by.
    pub word: String,
    /// The item of the address (only admins' searches count it).
    #[serde(default)]
    pub by_email: bool,
    /// Every searchable word of the person's name ([`name_tokens`]).
    pub tokens: Vec<String>,
    /// Their normalized address, when they gave the organization one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The member's search items: one per searchable word of their name, one for their
/// address. Written, changed and deleted in the transactions that write the membership.
pub fn search_items(m: &Membership) -> Result<Vec<Item>, StoreError> {
    let tokens = name_tokens(&m.name);
    let email = m.email.as_deref().map(normalize);
    let mut out = Vec::with_capacity(tokens.len() + 1);
    for (word, by_email) in tokens.iter().map(|t| (t.clone(), false)).chain(email.clone().map(|e| (e, true))) {
        let item =
            SearchItem { user_id: m.user_id.clone(), word, by_email, tokens: tokens.clone(), email: email.clone() };
        let key = search_key(&m.org_id, &item);
        let mut item = to_item(&item)?;
        item.extend(key);
        out.push(item);
    }
    Ok(out)
}

fn search_key(org: &OrgId, item: &SearchItem) -> Item {
    let sk = if item.by_email {
        member_email_sk(&item.word, &item.user_id)
    } else {
        member_word_sk(&item.word, &item.user_id)
    };
    key(org_pk(org), sk)
}

/// The keys of the member's search items.
pub fn search_keys(m: &Membership) -> Vec<Item> {
    let email = m.email.as_deref().map(normalize);
    let mut out: Vec<Item> =
        name_tokens(&m.name).iter().map(|t| key(org_pk(&m.org_id), member_word_sk(t, &m.user_id))).collect();
    out.extend(email.map(|e| key(org_pk(&m.org_id), member_email_sk(&e, &m.user_id))));
    out
}

/// A role as conditions name it (`teacher`).
pub fn role_name(role: Role) -> String {
    serde_json::to_value(role).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The roles held, as a list the conditions can test with `contains`.
pub fn role_names(roles: &[RoleGrant]) -> AttributeValue {
    let mut names: Vec<String> = roles.iter().map(|g| role_name(g.role)).collect();
    names.sort();
    AttributeValue::L(names.into_iter().map(AttributeValue::S).collect())
}

// Classes.

pub fn class_key(org: &OrgId, class: &ClassId) -> Item {
    key(org_pk(org), class_sk(class))
}

pub fn class_item(c: &Class) -> Result<Item, StoreError> {
    let mut item = to_item(c)?;
    item.extend(class_key(&c.org_id, &c.id));
    item.insert(GSI1PK.into(), s(classes_of_year_pk(&c.org_id, &c.year.to_string())));
    item.insert(GSI1SK.into(), s(class_order(c)));
    Ok(item)
}

/// A class's place in its year's list (gsi1's sort key): graded classes by grade and
/// letter, then the others by name; the ID breaks ties. Kept in step by every write
/// that changes a name.
pub fn class_order(c: &Class) -> String {
    let (grade, name) = c.class_name().sort_key();
    format!("{grade:03}#{name}#{}", c.id)
}

/// The guard that keeps a class's name unique within its year.
pub fn class_name_key(c: &Class) -> Item {
    key(org_pk(&c.org_id), class_name_sk(&c.year.to_string(), &c.class_name().unique_key()))
}

pub fn class_name_item(c: &Class) -> Item {
    let mut item = class_name_key(c);
    item.insert(CLASS_ID.into(), s(c.id.as_str()));
    item
}

// Invitation links.

pub fn link_key(org: &OrgId, id: &LinkId) -> Item {
    key(org_pk(org), link_sk(id))
}

/// How long expired invitation links and email invitations stay in the table (listed, with
/// their state) before TTL removes them with what belongs to them.
pub const EXPIRED_RETENTION_SECS: i64 = 90 * 86_400;

/// When an item that belongs to something expiring at `expires_at` leaves the table.
pub fn retention_ttl(expires_at: Timestamp) -> AttributeValue {
    n(expires_at.unix() + EXPIRED_RETENTION_SECS)
}

pub fn link_item(link: &InviteLink) -> Result<Item, StoreError> {
    let mut item = to_item(link)?;
    item.extend(link_key(&link.org_id, &link.id));
    item.insert(TTL.into(), retention_ttl(link.expires_at));
    Ok(item)
}

pub fn token_key(token_hash: &str) -> Item {
    key(link_token_pk(token_hash), LINK)
}

/// The lookup item that leads from the link's token to the link.
pub fn token_item(link: &InviteLink) -> Item {
    let mut lookup = token_key(&link.token_hash);
    lookup.insert(LOOKUP_ORG_ID.into(), s(link.org_id.as_str()));
    lookup.insert(LOOKUP_LINK_ID.into(), s(link.id.as_str()));
    lookup.insert(TTL.into(), retention_ttl(link.expires_at));
    lookup
}

/// Where a token's lookup item leads: the organization and the link.
pub fn token_target(item: &Item) -> Option<(OrgId, LinkId)> {
    let org = item.get(LOOKUP_ORG_ID).and_then(|v| v.as_s().ok()).and_then(|o| OrgId::parse(o))?;
    let id = item.get(LOOKUP_LINK_ID).and_then(|v| v.as_s().ok()).and_then(|l| LinkId::parse(l))?;
    Some((org, id))
}

pub fn decline_item(link: &InviteLink, user: &UserId, at: Timestamp) -> Item {
    let mut record = key(org_pk(&link.org_id), decline_sk(&link.id, user));
    record.insert("declined_at".into(), s(at.to_string()));
    record.insert(TTL.into(), retention_ttl(link.expires_at));
    record
}

// Join requests.

pub fn request_key(org: &OrgId, id: &JoinRequestId) -> Item {
    key(org_pk(org), join_request_sk(id))
}

/// The guard of a person's one pending request in an organization.
pub fn pending_key(org: &OrgId, user: &UserId) -> Item {
    key(org_pk(org), join_pending_sk(user))
}

pub fn pending_item(r: &JoinRequest) -> Item {
    let mut guard = pending_key(&r.org_id, &r.user_id);
    guard.insert(REQUEST_ID.into(), s(r.id.as_str()));
    guard
}

/// The request a pending guard stands for.
#[derive(Deserialize)]
pub struct PendingGuard {
    pub request_id: JoinRequestId,
}

/// The admins' list order: pending first (oldest first: a queue), then decided ones,
/// most recently decided first.
fn list_sort_key(r: &JoinRequest) -> String {
    match (r.status, r.decided_at) {
        (JoinRequestStatus::Pending, _) => format!("{JOINREQS_PENDING}{}", r.id),
        (_, decided) => {
            let millis = decided.map(|t| (t.inner().unix_timestamp_nanos() / 1_000_000) as i64).unwrap_or(0);
            format!("{JOINREQS_DECIDED}{:013}#{}", 9_999_999_999_999 - millis, r.id)
        }
    }
}

pub fn request_item(r: &JoinRequest) -> Result<Item, StoreError> {
    let mut item = to_item(r)?;
    item.extend(request_key(&r.org_id, &r.id));
    item.insert(GSI1PK.into(), s(user_pk(&r.user_id)));
    item.insert(GSI1SK.into(), s(join_request_sk(&r.id)));
    item.insert(GSI2PK.into(), s(join_requests_pk(&r.org_id)));
    item.insert(GSI2SK.into(), s(list_sort_key(r)));
    Ok(item)
}

// Email invitations.

pub fn invitation_key(org: &OrgId, id: &InvitationId) -> Item {
    key(org_pk(org), invitation_sk(id))
}

/// The guard of an address's one pending invitation in an organization.
pub fn invitation_guard_key(org: &OrgId, email: &str) -> Item {
    key(org_pk(org), invitation_pending_sk(email))
}

pub fn invitation_guard_item(i: &Invitation) -> Item {
    let mut guard = invitation_guard_key(&i.org_id, &i.email);
    guard.insert(INVITATION_ID.into(), s(i.id.as_str()));
    // A day after its invitation: a guard that goes first would let a second invitation
    // to the address be made while the first could still be resent.
    guard.insert(TTL.into(), retention_ttl(i.expires_at.plus(time::Duration::days(1))));
    guard
}

/// The invitation a guard stands for.
pub fn invitation_guard_target(item: &Item) -> Option<InvitationId> {
    item.get(INVITATION_ID).and_then(|v| v.as_s().ok()).and_then(|i| InvitationId::parse(i))
}

pub fn invitation_item(i: &Invitation) -> Result<Item, StoreError> {
    let mut item = to_item(i)?;
    item.extend(invitation_key(&i.org_id, &i.id));
    item.insert(GSI2PK.into(), s(invitation_email_pk(&i.email)));
    item.insert(GSI2SK.into(), s(invitation_sk(&i.id)));
    item.insert(GSI1PK.into(), s(invited_by_pk(&i.org_id, &i.invited_by)));
    item.insert(GSI1SK.into(), s(invitation_sk(&i.id)));
    item.insert(TTL.into(), retention_ttl(i.expires_at));
    Ok(item)
}

// The audit log.

pub fn audit_item(e: &AuditEntry) -> Result<Item, StoreError> {
    let mut item = to_item(e)?;
    item.extend(key(org_pk(&e.org_id), audit_sk(&e.id)));
    Ok(item)
}

// The outbox.

/// Events live a week (the stream holds them for a day; the item is the record).
pub const EVENT_TTL_SECS: i64 = 7 * 24 * 3600;

/// An outbox event as stored: its kind and its data as a JSON string.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EventRecord {
    pub id: EventId,
    /// e.g. `member_added`, `admin_appointed`, `join_request_submitted`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<OrgId>,
    /// The event's data as JSON.
    pub payload: String,
    pub created_at: Timestamp,
    pub ttl: i64,
}

impl EventRecord {
    pub fn new(kind: &str, org: Option<&OrgId>, payload: serde_json::Value) -> Self {
        let created_at = Timestamp::now();
        EventRecord {
            id: EventId::new(),
            kind: kind.into(),
            org_id: org.cloned(),
            payload: payload.to_string(),
            created_at,
            ttl: created_at.unix() + EVENT_TTL_SECS,
        }
    }

    /// The record of a typed event.
    pub fn of(event: &OutboxEvent) -> Self {
        Self::new(event.kind(), Some(event.org_id()), event.payload())
    }

    /// The typed event; `None` for a kind without a side effect.
    pub fn event(&self) -> Result<Option<OutboxEvent>, String> {
        OutboxEvent::from_parts(&self.kind, &self.payload)
    }
}

pub fn event_item(r: &EventRecord) -> Result<Item, StoreError> {
    let mut item = to_item(r)?;
    item.extend(key(event_pk(&r.id), EVENT));
    Ok(item)
}

// Send claims and idempotency records.

pub fn sent_key(event: &EventId, to: &str) -> Item {
    key(sent_pk(event, to), SENT)
}

pub fn idempotency_key(pk: &str) -> Item {
    key(pk, IDEM)
}

// Groups, courses and the places of people in them.

pub fn group_key(org: &OrgId, id: &GroupId) -> Item {
    key(org_pk(org), group_sk(id))
}

pub fn group_item(g: &Group) -> Result<Item, StoreError> {
    let mut item = to_item(g)?;
    item.extend(group_key(&g.org_id, &g.id));
    Ok(item)
}

pub fn course_key(org: &OrgId, id: &CourseId) -> Item {
    key(org_pk(org), course_sk(id))
}

pub fn course_item(c: &Course) -> Result<Item, StoreError> {
    let mut item = to_item(c)?;
    item.extend(course_key(&c.org_id, &c.id));
    Ok(item)
}

/// The group or course a place is in (`of` its ID, as a place and a membership hold it).
pub fn container_key(kind: PlaceKind, org: &OrgId, of: &str) -> Item {
    match kind {
        PlaceKind::Group => key(org_pk(org), format!("{GROUP_PREFIX}{of}")),
        PlaceKind::Course => key(org_pk(org), format!("{COURSE_PREFIX}{of}")),
    }
}

/// The counter of a group's members or a course's students.
pub fn place_count_attr(kind: PlaceKind) -> &'static str {
    match kind {
        PlaceKind::Group => "member_count",
        PlaceKind::Course => "student_count",
    }
}

/// The membership's set that mirrors places of this kind.
pub fn place_set_attr(kind: PlaceKind) -> &'static str {
    match kind {
        PlaceKind::Group => "group_ids",
        PlaceKind::Course => "course_ids",
    }
}

pub fn place_key(kind: PlaceKind, org: &OrgId, of: &str, user: &UserId) -> Item {
    key(org_pk(org), place_sk(kind, of, user))
}

pub fn place_item(kind: PlaceKind, p: &Place) -> Result<Item, StoreError> {
    let mut item = to_item(p)?;
    item.extend(place_key(kind, &p.org_id, &p.of, &p.user_id));
    Ok(item)
}

/// A string set of one value (for `ADD` and `DELETE` on a set).
pub fn one_of(v: impl AsRef<str>) -> AttributeValue {
    AttributeValue::Ss(vec![v.as_ref().to_string()])
}

// What is inside a group: posts and files.

pub fn post_key(kind: PostKind, p: &Post) -> Item {
    key(org_pk(&p.org_id), post_sk(kind, &p.group_id, p.thread_id.as_ref(), &p.id))
}

pub fn post_item(kind: PostKind, p: &Post) -> Result<Item, StoreError> {
    let mut item = to_item(p)?;
    item.extend(post_key(kind, p));
    Ok(item)
}

pub fn file_key(f: &GroupFile) -> Item {
    key(org_pk(&f.org_id), file_sk(f.status, &f.group_id, &f.id))
}

/// A file's item; an upload's expires (`ttl`) when it is not completed in time.
pub fn file_item(f: &GroupFile, expires: Option<Timestamp>) -> Result<Item, StoreError> {
    let mut item = to_item(f)?;
    item.extend(file_key(f));
    if let Some(at) = expires {
        item.insert(TTL.into(), n(at.unix()));
    }
    Ok(item)
}
