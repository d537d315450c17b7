//! Transaction pieces that more than one entity's writes use: the organization's
//! counters, class rosters, a new member's actions (with their search items), the end of
//! a pending join request,
//! one use of a link, and the audit entry or outbox event that goes with a change.

use std::collections::{BTreeMap, BTreeSet};

use super::items::{
    audit_item, class_key, class_name_item, class_name_key, class_order, event_item, link_key, member_item, member_key,
    org_key, pending_key, request_item, role_name, search_items, search_keys, to_value, EventRecord,
};
use super::keys::{
    active_day_sk, classes_of_year_pk, invitations_expiring_sk, org_pk, roster_attr, roster_count_shard,
    roster_count_sk, roster_user_sk, roster_wait_sk, waiting_attr, GSI1PK, GSI1SK, LINKED_COUNT, MAILDAY_PREFIX, TTL,
};
use super::tx::{b, key, key_of, n, s, Expr, Tx};
use super::StoreError;
use crate::domain::invitations::DAILY_INVITATION_EMAILS;
use crate::domain::SourcedId;
use crate::domain::{AuditEntry, InviteLink, JoinRequest, JoinRequestStatus, Membership, OrgId, OutboxEvent, Roster};
use crate::domain::{Class, ClassId, Role, RoleGrant, Timestamp, UserId};

/// Adds an audit entry to a transaction.
///
/// An admin's entry also makes the transaction check that the actor is still an admin.
pub fn add_audit(tx: &mut Tx, entry: &AuditEntry) -> Result<usize, StoreError> {
    as_actor_of(tx, entry);
    tx.put(audit_item(entry)?, None)
}

/// The condition of a step of `entry`'s action that rewrites membership `m` as read: its
/// version unchanged and, when it is the acting admin's own (which the step's admin check
/// leaves out, one action an item), them still an admin.
pub fn unchanged_member(m: &Membership, entry: &AuditEntry) -> Expr {
    if entry.by_admin && entry.actor_id == m.user_id.as_str() {
        Expr::condition("version = :read AND admin = :true").value(":read", n(m.version)).value(":true", b(true))
    } else {
        Expr::condition("version = :read").value(":read", n(m.version))
    }
}

/// Makes a transaction that is one step of `entry`'s action (whose entry is written by
/// another step) go through only while its actor, if they act as an admin, still is one.
pub fn as_actor_of(tx: &mut Tx, entry: &AuditEntry) {
    if entry.by_admin {
        if let Some(actor) = UserId::parse(&entry.actor_id) {
            tx.require_admin(&entry.org_id, &actor);
        }
    }
}

/// What a person must be to write inside a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InGroup {
    /// An admin of the organization, or in the group.
    Member,
    /// An admin, or a teacher of the group (holding the teacher role).
    Teacher,
}

/// Makes a transaction go through only while `user` may write in `group` as `need` says
/// (a removal from the group or the organization between the read and the write refuses
/// it), counting the write on their membership (`counter`, e.g. `post_count`) when given.
pub fn in_group(
    tx: &mut Tx,
    org: &OrgId,
    user: &UserId,
    group: &str,
    need: InGroup,
    counter: Option<&str>,
) -> Result<usize, StoreError> {
    let condition = match need {
        InGroup::Member => "admin = :true OR contains(group_ids, :group)",
        InGroup::Teacher => {
            "admin = :true OR (contains(teaching_group_ids, :group) AND contains(role_names, :teacher))"
        }
    };
    let mut expr = Expr::condition(condition).value(":true", b(true)).value(":group", s(group));
    if need == InGroup::Teacher {
        expr = expr.value(":teacher", s(role_name(crate::domain::Role::Teacher)));
    }
    match counter {
        // The version moves too: a write of the whole membership read before (a class
        // promotion, say) then fails its version check and reads again, rather than
        // putting back the count it read.
        Some(counter) => {
            expr.update = Some("ADD #counter :one, version :one".into());
            tx.update(member_key(org, user), expr.name("#counter", counter).value(":one", n(1)))
        }
        None => tx.check(member_key(org, user), expr),
    }
}

/// Counts one invitation email (an email invitation or a roster invitation) against the
/// organization's daily budget, on the condition that the day's budget is not spent (in
/// the transaction that sends it). The counter leaves the table by TTL two days later.
pub fn count_invitation_email(tx: &mut Tx, org: &OrgId, now: Timestamp) -> Result<usize, StoreError> {
    let key = super::tx::key(org_pk(org), format!("{MAILDAY_PREFIX}{}", now.day()));
    count_within(tx, key, "sent", DAILY_INVITATION_EMAILS, now.unix() + 2 * 86_400)
}

/// Counts one more on a counter item of its own (`attr` of the item at `key`), on the
/// condition that it is below `limit`: a daily or hourly budget held by the transaction
/// that spends it. The item leaves by TTL at `expires` (Unix seconds).
pub fn count_within(
    tx: &mut Tx,
    key: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
    attr: &str,
    limit: u32,
    expires: i64,
) -> Result<usize, StoreError> {
    let expr = Expr::update("SET #count = if_not_exists(#count, :zero) + :one, #ttl = :ttl")
        .when("attribute_not_exists(#count) OR #count < :limit")
        .name("#count", attr)
        .name("#ttl", TTL)
        .value(":zero", n(0))
        .value(":one", n(1))
        .value(":limit", n(limit))
        .value(":ttl", n(expires));
    tx.update(key, expr)
}

/// Links a roster record to the person joining as it, in the transaction that makes them
/// a member: only while nobody has (and, for an offer accepted by its email's owner, while
/// the record still names `email`). Returns the action's index.
///
/// It does not know the record's role, so it leaves the waiting counts, the waiting
/// employees and the member's records as they were: the roster's own joins use
/// [`link_record`], which keeps them.
pub fn link_roster_record(
    tx: &mut Tx,
    org: &OrgId,
    sourced_id: &SourcedId,
    user: &UserId,
    email: Option<&str>,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let mut expr = Expr::update("SET user_id = :user, linked_at = :now")
        .when("attribute_exists(pk) AND attribute_not_exists(user_id)")
        .value(":user", s(user.as_str()))
        .value(":now", s(now.to_string()));
    if let Some(email) = email {
        expr.condition = Some(
            "attribute_exists(pk) AND attribute_not_exists(user_id) AND email = :email \
             AND (attribute_not_exists(declined) OR declined <> :email)"
                .into(),
        );
        expr = expr.value(":email", s(email));
    }
    tx.update(super::tx::key(org_pk(org), super::keys::roster_sk(sourced_id)), expr)
}

/// Links a waiting roster record that gives `role` to the person joining as it, in the
/// transaction that makes them a member (or links a member): only while nobody has joined
/// as it and it still gives that role (and, for an offer accepted by its email's owner,
/// still names `email` and was not declined there). The record leaves the waiting counts
/// (and the waiting employees) and is named among the member's records, in the same
/// transaction. Returns the record's action's index.
pub fn link_record(
    tx: &mut Tx,
    org: &OrgId,
    sourced_id: &SourcedId,
    role: Role,
    user: &UserId,
    email: Option<&str>,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let mut condition = String::from("attribute_exists(pk) AND attribute_not_exists(user_id) AND #role = :role");
    let mut expr = Expr::update("SET user_id = :user, linked_at = :now")
        .name("#role", "role")
        .value(":role", s(role_name(role)))
        .value(":user", s(user.as_str()))
        .value(":now", s(now.to_string()));
    if let Some(email) = email {
        condition.push_str(" AND email = :email AND (attribute_not_exists(declined) OR declined <> :email)");
        expr = expr.value(":email", s(email));
    }
    expr.condition = Some(condition);
    let at = tx.update(super::tx::key(org_pk(org), super::keys::roster_sk(sourced_id)), expr)?;
    count_waiting(tx, org, sourced_id, &[(role, -1)], 1)?;
    if waits_as_employee(role) {
        mark_waiting_employee(tx, org, sourced_id, false)?;
    }
    name_record(tx, org, user, sourced_id, true)?;
    Ok(at)
}

/// Whether a waiting record of `role` is listed among the waiting employees (teachers and
/// staff, as the employees' statistics are).
pub fn waits_as_employee(role: Role) -> bool {
    matches!(role, Role::Teacher | Role::Staff)
}

/// Moves the counts of the journal's people nobody has joined as (`moves`: a role and by
/// how much) and of the records joined as (`linked`), on the shard of the record's
/// sourcedId; moves that cancel out write nothing. Returns the action's index, if any.
pub fn count_waiting(
    tx: &mut Tx,
    org: &OrgId,
    sourced_id: &SourcedId,
    moves: &[(Role, i64)],
    linked: i64,
) -> Result<Option<usize>, StoreError> {
    let Some((key, counts)) = waiting_counts(org, sourced_id, moves, linked) else { return Ok(None) };
    let mut expr = Expr::default();
    let mut adds = Vec::new();
    for (i, (attr, delta)) in counts.into_iter().enumerate() {
        adds.push(format!("#w{i} :w{i}"));
        expr = expr.name(&format!("#w{i}"), attr).value(&format!(":w{i}"), n(delta));
    }
    expr.update = Some(format!("ADD {}", adds.join(", ")));
    Ok(Some(tx.update(key, expr)?))
}

/// What [`count_waiting`] adds: the shard's key and each count's delta (none when the
/// moves cancel out).
pub fn waiting_counts(
    org: &OrgId,
    sourced_id: &SourcedId,
    moves: &[(Role, i64)],
    linked: i64,
) -> Option<(super::tx::Item, Vec<(&'static str, i64)>)> {
    let mut by_role: BTreeMap<Role, i64> = BTreeMap::new();
    for (role, delta) in moves {
        *by_role.entry(*role).or_default() += delta;
    }
    by_role.retain(|_, delta| *delta != 0);
    let mut counts: Vec<(&'static str, i64)> = by_role.into_iter().map(|(role, d)| (waiting_attr(role), d)).collect();
    if linked != 0 {
        counts.push((LINKED_COUNT, linked));
    }
    if counts.is_empty() {
        return None;
    }
    let shard = roster_count_sk(roster_count_shard(sourced_id));
    Some((super::tx::key(org_pk(org), shard), counts))
}

/// Lists a record among the waiting employees (`waiting`), or takes it off.
pub fn mark_waiting_employee(
    tx: &mut Tx,
    org: &OrgId,
    sourced_id: &SourcedId,
    waiting: bool,
) -> Result<usize, StoreError> {
    let key = super::tx::key(org_pk(org), roster_wait_sk(sourced_id));
    if waiting {
        let mut item = key;
        item.insert("sourced_id".into(), s(sourced_id.as_str()));
        tx.put(item, None)
    } else {
        tx.delete(key, None)
    }
}

/// Names a record among the records a member joined as (`add`), or no longer.
pub fn name_record(
    tx: &mut Tx,
    org: &OrgId,
    user: &UserId,
    sourced_id: &SourcedId,
    add: bool,
) -> Result<usize, StoreError> {
    let ids = aws_sdk_dynamodb::types::AttributeValue::Ss(vec![sourced_id.to_string()]);
    let update = if add { "ADD sourced_ids :ids" } else { "DELETE sourced_ids :ids" };
    tx.update(super::tx::key(org_pk(org), roster_user_sk(user)), Expr::update(update).value(":ids", ids))
}

/// Adds an outbox event to a transaction.
pub fn add_event(tx: &mut Tx, event: &OutboxEvent) -> Result<usize, StoreError> {
    tx.put(event_item(&EventRecord::of(event))?, None)
}

/// How a change moves the organization's counters of people. A transaction touches the
/// organization's item once, so one change's moves go in one update ([`move_counts`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub members: i64,
    pub admins: i64,
    pub pending_join_requests: i64,
    /// Members holding each role, in the order of [`ROLE_COUNTS`].
    pub roles: [i64; 4],
}

/// The organization's attribute counting the members who hold each role.
pub const ROLE_COUNTS: [(Role, &str); 4] = [
    (Role::Teacher, "teacher_count"),
    (Role::Staff, "staff_count"),
    (Role::Student, "student_count"),
    (Role::Parent, "parent_count"),
];

fn holds(roles: &[RoleGrant], role: Role) -> i64 {
    i64::from(roles.iter().any(|g| g.role == role))
}

impl Counts {
    /// A member joining (`sign` 1) or leaving (-1), with their roles and admin flag.
    pub fn member(m: &Membership, sign: i64) -> Self {
        Counts {
            members: sign,
            admins: sign * i64::from(m.admin),
            pending_join_requests: 0,
            roles: ROLE_COUNTS.map(|(role, _)| sign * holds(&m.roles, role)),
        }
    }

    /// A member's roles replaced.
    pub fn roles(old: &[RoleGrant], new: &[RoleGrant]) -> Self {
        Counts { roles: ROLE_COUNTS.map(|(role, _)| holds(new, role) - holds(old, role)), ..Counts::default() }
    }

    pub fn admins(delta: i64) -> Self {
        Counts { admins: delta, ..Counts::default() }
    }

    pub fn pending(self, delta: i64) -> Self {
        Counts { pending_join_requests: self.pending_join_requests + delta, ..self }
    }

    pub fn is_empty(&self) -> bool {
        *self == Counts::default()
    }
}

/// Moves the organization's counters inside a transaction; when admins go down, on the
/// condition that an admin remains.
pub fn move_counts(tx: &mut Tx, org: &OrgId, c: Counts) -> Result<usize, StoreError> {
    let mut moves: Vec<(&str, i64)> = vec![
        ("member_count", c.members),
        ("admin_count", c.admins),
        ("pending_join_requests", c.pending_join_requests),
    ];
    moves.extend(ROLE_COUNTS.iter().zip(c.roles).map(|((_, attr), d)| (*attr, d)));
    let mut sets = Vec::new();
    let mut expr = Expr::default().value(":zero", n(0));
    for (attr, delta) in moves.into_iter().filter(|(_, d)| *d != 0) {
        sets.push(format!("{attr} = if_not_exists({attr}, :zero) + :{attr}"));
        expr = expr.value(&format!(":{attr}"), n(delta));
    }
    if sets.is_empty() {
        return tx.check(org_key(org), Expr::condition("attribute_exists(pk)"));
    }
    expr.update = Some(format!("SET {}", sets.join(", ")));
    let expr = if c.admins < 0 {
        expr.when("attribute_exists(pk) AND admin_count > :one").value(":one", n(1))
    } else {
        expr.when("attribute_exists(pk)")
    };
    tx.update(org_key(org), expr)
}

/// How long a day's count of last active members is kept (the statistics read 30 days).
pub const ACTIVE_DAY_KEPT: time::Duration = time::Duration::days(40);

/// Counts a member's first request of `at`'s day: as last active that day (`members`,
/// which moves on to their next day) and as active that day (`seen`, which stays: the
/// members active per day). The count expires after [`ACTIVE_DAY_KEPT`].
pub fn count_active(tx: &mut Tx, org: &OrgId, at: Timestamp) -> Result<usize, StoreError> {
    let count = Expr::update("SET #ttl = if_not_exists(#ttl, :ttl) ADD members :one, seen :one")
        .name("#ttl", TTL)
        .value(":ttl", n(at.plus(ACTIVE_DAY_KEPT).unix()))
        .value(":one", n(1));
    tx.update(key(org_pk(org), active_day_sk(&at.day())), count)
}

/// No longer counts a member as last active on `day` (on the condition that the day's
/// count is still there).
pub fn uncount_active(tx: &mut Tx, org: &OrgId, day: &str) -> Result<usize, StoreError> {
    let uncount = Expr::update("ADD members :minus").when("attribute_exists(pk)").value(":minus", n(-1));
    tx.update(key(org_pk(org), active_day_sk(day)), uncount)
}

/// How long after its day the count of invitations expiring then is kept: past the
/// invitations' own (90 days after their expiry), so a change to one always finds it.
pub const EXPIRING_KEPT: time::Duration = time::Duration::days(100);

/// Moves the count of pending invitations that expire on `expires`'s day. The pending
/// invitations are the sum of the counts of the days from today on.
pub fn count_pending_invitation(tx: &mut Tx, org: &OrgId, expires: Timestamp, delta: i64) -> Result<usize, StoreError> {
    let count = Expr::update("SET #ttl = if_not_exists(#ttl, :ttl) ADD pending :delta")
        .name("#ttl", TTL)
        .value(":ttl", n(expires.plus(EXPIRING_KEPT).unix()))
        .value(":delta", n(delta));
    tx.update(key(org_pk(org), invitations_expiring_sk(&expires.day())), count)
}

/// Moves one of the organization's counters (`group_count`, `course_count`).
pub fn count_org(tx: &mut Tx, org: &OrgId, attr: &str, delta: i64) -> Result<usize, StoreError> {
    let expr = Expr::update("SET #count = if_not_exists(#count, :zero) + :d")
        .when("attribute_exists(pk)")
        .name("#count", attr)
        .value(":zero", n(0))
        .value(":d", n(delta));
    tx.update(org_key(org), expr)
}

/// Counts a class made (`1`) or deleted (`-1`) on the organization.
pub fn count_class(tx: &mut Tx, org: &OrgId, delta: i64) -> Result<usize, StoreError> {
    let expr = if delta < 0 {
        Expr::update("SET class_count = class_count - :one").when("attribute_exists(pk)").value(":one", n(-delta))
    } else {
        Expr::update("SET class_count = if_not_exists(class_count, :zero) + :one")
            .when("attribute_exists(pk)")
            .value(":zero", n(0))
            .value(":one", n(delta))
    };
    tx.update(org_key(org), expr)
}

/// A class's new name, year or class teachers, conditional on the version read; the name
/// guard moves with a new name. The indexes of the class's update and of the new guard.
pub fn class_changes(tx: &mut Tx, old: &Class, new: &Class) -> Result<(usize, Option<usize>), StoreError> {
    let mut set = vec![
        "#name = :name",
        "class_teacher_ids = :teachers",
        "version = :version",
        "updated_at = :now",
        "#year = :year",
        "#order = :order",
        "#y = :y",
    ];
    let mut remove = vec![];
    let mut expr = Expr::default()
        .name("#name", "name")
        .name("#year", GSI1PK)
        .value(":year", s(classes_of_year_pk(&new.org_id, &new.year.to_string())))
        .name("#order", GSI1SK)
        .value(":order", s(class_order(new)))
        .value(":name", s(&new.name))
        .name("#y", "year")
        .value(":y", to_value(&new.year)?)
        .value(":teachers", to_value(&new.class_teacher_ids)?)
        .value(":version", n(new.version))
        .value(":read", n(old.version))
        .value(":now", s(new.updated_at.to_string()));
    match new.grade {
        Some(g) => {
            set.push("grade = :grade");
            expr = expr.value(":grade", n(g));
        }
        None => remove.push("grade"),
    }
    match &new.letter {
        Some(l) => {
            set.push("letter = :letter");
            expr = expr.value(":letter", s(l));
        }
        None => remove.push("letter"),
    }
    let mut update = format!("SET {}", set.join(", "));
    if !remove.is_empty() {
        update.push_str(&format!(" REMOVE {}", remove.join(", ")));
    }
    expr.update = Some(update);
    let changed = tx.update(class_key(&old.org_id, &old.id), expr.when("attribute_exists(pk) AND version = :read"))?;
    let mut guard = None;
    if class_name_key(old) != class_name_key(new) {
        tx.delete(class_name_key(old), None)?;
        guard = Some(tx.put(class_name_item(new), Some(Expr::condition("attribute_not_exists(pk)")))?);
    }
    Ok((changed, guard))
}

/// Moves a person on one class's rosters: onto `add`, off `remove` (one update per class:
/// a transaction may touch an item once). Adding needs the class to exist and not be
/// graduated; removing only that it exists.
pub fn roster_update(
    tx: &mut Tx,
    org: &OrgId,
    class: &ClassId,
    user: &UserId,
    add: &[Roster],
    remove: &[Roster],
) -> Result<usize, StoreError> {
    let mut expr = Expr::default().name("#user", user.as_str());
    let mut parts = Vec::new();
    let sets: Vec<String> = add.iter().map(|r| format!("{}.#user = :true", roster_attr(*r))).collect();
    if !sets.is_empty() {
        parts.push(format!("SET {}", sets.join(", ")));
        expr = expr.value(":true", b(true));
    }
    let removes: Vec<String> = remove.iter().map(|r| format!("{}.#user", roster_attr(*r))).collect();
    if !removes.is_empty() {
        parts.push(format!("REMOVE {}", removes.join(", ")));
    }
    expr.update = Some(parts.join(" "));
    let expr = if add.is_empty() {
        expr.when("attribute_exists(pk)")
    } else {
        expr.when("attribute_exists(pk) AND graduated = :false").value(":false", b(false))
    };
    tx.update(class_key(org, class), expr)
}

/// The roster changes per class that take a person from places `before` to `after`.
pub fn roster_changes(
    before: &BTreeSet<(Roster, ClassId)>,
    after: &BTreeSet<(Roster, ClassId)>,
) -> Vec<(ClassId, Vec<Roster>, Vec<Roster>)> {
    let mut by_class: BTreeMap<ClassId, (Vec<Roster>, Vec<Roster>)> = Default::default();
    for (r, c) in after.difference(before) {
        by_class.entry(c.clone()).or_default().0.push(*r);
    }
    for (r, c) in before.difference(after) {
        by_class.entry(c.clone()).or_default().1.push(*r);
    }
    by_class.into_iter().map(|(c, (add, remove))| (c, add, remove)).collect()
}

/// Why the actions of a new membership can fail.
#[derive(Debug)]
pub enum NewMemberFailure {
    AlreadyMember,
    ClassUnavailable(String),
}

/// Adds to a transaction the actions that make `m` a member: the membership (only if there
/// is none) and its class places. The caller moves the organization's counts.
pub fn put_new_member(tx: &mut Tx, m: &Membership) -> Result<Vec<(usize, NewMemberFailure)>, StoreError> {
    let mut meanings = vec![(
        tx.put(member_item(m)?, Some(Expr::condition("attribute_not_exists(pk)")))?,
        NewMemberFailure::AlreadyMember,
    )];
    for (class, add, _) in roster_changes(&BTreeSet::new(), &m.places()) {
        meanings.push((
            roster_update(tx, &m.org_id, &class, &m.user_id, &add, &[])?,
            NewMemberFailure::ClassUnavailable(class.to_string()),
        ));
    }
    put_search_items(tx, m)?;
    Ok(meanings)
}

/// Puts a member's search items (a word of their name each, and their address) in the
/// transaction that puts their membership; returns how many.
pub fn put_search_items(tx: &mut Tx, m: &Membership) -> Result<usize, StoreError> {
    let items = search_items(m)?;
    let count = items.len();
    for item in items {
        tx.put(item, None)?;
    }
    Ok(count)
}

/// Deletes a member's search items in the transaction that deletes their membership (as
/// read: the transaction's condition on its version holds their name and address).
pub fn delete_search_items(tx: &mut Tx, m: &Membership) -> Result<usize, StoreError> {
    let keys = search_keys(m);
    let count = keys.len();
    for k in keys {
        tx.delete(k, None)?;
    }
    Ok(count)
}

/// Moves a member's search items from their name as read (`old`) to `new`: the items of
/// words the new name lacks go, the new name's are put (with its words).
pub fn move_search_items(tx: &mut Tx, old: &Membership, new: &Membership) -> Result<(), StoreError> {
    let kept: BTreeSet<(String, String)> = search_keys(new).iter().map(key_of).collect();
    for k in search_keys(old) {
        if !kept.contains(&key_of(&k)) {
            tx.delete(k, None)?;
        }
    }
    put_search_items(tx, new)?;
    Ok(())
}

/// The condition of every change to a join request: still pending, and as read.
pub fn still_pending(r: &JoinRequest) -> Expr {
    Expr::condition("#status = :pending AND version = :read")
        .name("#status", "status")
        .value(":pending", s("pending"))
        .value(":read", n(r.version))
}

/// Adds to a transaction that makes the person a member another way (added by an admin,
/// an invitation accepted): their pending request ends as accepted, its guard goes. The
/// caller moves the organization's pending count in its own update of the organization.
pub fn close_as_joined(tx: &mut Tx, r: &JoinRequest, by: &UserId) -> Result<usize, StoreError> {
    let closed = JoinRequest {
        status: JoinRequestStatus::Accepted,
        decided_at: Some(Timestamp::now()),
        decided_by: Some(by.clone()),
        version: r.version + 1,
        ..r.clone()
    };
    let at = tx.put(request_item(&closed)?, Some(still_pending(r)))?;
    tx.delete(pending_key(&r.org_id, &r.user_id), None)?;
    Ok(at)
}

/// In a transaction that makes the person a member: closes their pending request if the
/// caller knows of one, or else checks there is none (`HasPendingRequest` tells the caller
/// to read it and try again with it). Returns the action's index.
pub fn end_or_check_pending(
    tx: &mut Tx,
    org: &OrgId,
    user: &UserId,
    pending: Option<&JoinRequest>,
    by: &UserId,
) -> Result<usize, StoreError> {
    match pending {
        Some(r) => close_as_joined(tx, r, by),
        None => tx.check(pending_key(org, user), Expr::condition("attribute_not_exists(pk)")),
    }
}

/// One use of a link, inside the transaction that uses it: conditional on the link being
/// usable now, so the use limit holds exactly under concurrent use.
pub fn use_link(tx: &mut Tx, link: &InviteLink, now: Timestamp) -> Result<usize, StoreError> {
    tx.update(
        link_key(&link.org_id, &link.id),
        Expr::update("SET uses = uses + :one")
            .when("attribute_exists(pk) AND revoked = :false AND expires_at > :now AND (attribute_not_exists(max_uses) OR uses < max_uses)")
            .value(":one", n(1))
            .value(":false", b(false))
            .value(":now", s(now.to_string())),
    )
}

/// Counts one more attempt (`attempts`) of a job's item while it is in `status` (an
/// export pending, an import processing), in one conditional update: the item as it is
/// now, or `None` when it is gone or no longer in that status (it finished: a delivery
/// again does nothing). Exports and imports count their runs with it.
pub async fn count_attempt<T: serde::de::DeserializeOwned>(
    store: &super::Store,
    key: super::tx::Item,
    status: aws_sdk_dynamodb::types::AttributeValue,
) -> Result<Option<T>, StoreError> {
    let out = store
        .db
        .update_item()
        .table_name(&store.table)
        .set_key(Some(key))
        .update_expression("ADD attempts :one")
        .condition_expression("attribute_exists(pk) AND #status = :status")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":status", status)
        .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
        .send()
        .await
        .map_err(super::classify);
    match out {
        Ok(o) => o.attributes.map(super::items::from_item).transpose(),
        Err(StoreError::ConditionFailed) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(role: Role) -> RoleGrant {
        RoleGrant { role, position: None, specialization: None, class_ids: vec![] }
    }

    #[test]
    fn counts_move_with_the_roles_held_not_the_grants() {
        use Role::*;
        assert_eq!(Counts::roles(&[grant(Teacher)], &[grant(Teacher), grant(Staff)]).roles, [0, 1, 0, 0]);
        assert_eq!(Counts::roles(&[grant(Student)], &[grant(Parent)]).roles, [0, 0, -1, 1]);
        // Two grants of one role are one person holding it.
        assert_eq!(Counts::roles(&[grant(Parent)], &[grant(Parent), grant(Parent)]).roles, [0; 4]);
        assert!(Counts::roles(&[grant(Staff)], &[grant(Staff)]).is_empty());
        let org = OrgId::parse("k7m3xq9pza").unwrap();
        let user = UserId::parse("u1").unwrap();
        let m = Membership::new(
            &org,
            &user,
            "Анна",
            None,
            vec![grant(Teacher), grant(Parent)],
            true,
            crate::domain::MembershipSource::Manual,
        );
        let leaving = Counts::member(&m, -1);
        assert_eq!((leaving.members, leaving.admins, leaving.roles), (-1, -1, [-1, 0, 0, -1]));
        assert_eq!(Counts::default().pending(1).pending(-1), Counts::default());
    }
}
