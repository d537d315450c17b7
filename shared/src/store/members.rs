//! Memberships: a person in an organization with role grants and the admin flag, kept in
//! the same transactions as the class rosters that mirror their class places and the
//! organization's counters.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{
    container_key, course_key, from_item, member_key, one_of, place_count_attr, place_key, role_name, role_names,
    search_keys, to_value, SearchItem,
};
use super::keys::*;
use super::pieces::{
    add_audit, add_event, as_actor_of, count_active, delete_search_items, end_or_check_pending, link_roster_record,
    move_counts, move_search_items, put_new_member, roster_changes, roster_update, uncount_active, Counts,
    NewMemberFailure,
};
use super::read::KeyQuery;
use super::tx::{b, key_of, n, s, Expr, Tx, MAX_ACTIONS};
use super::{Store, StoreError};
use crate::domain::search::NameQuery;
use crate::domain::{
    AuditEntry, ClassId, CourseId, GroupId, JoinRequest, Membership, OrgId, OutboxEvent, PlaceKind, Role, RoleGrant,
    Timestamp, UserId,
};
use crate::page::{Cursor, PageQuery};

/// The member's groups and courses that still exist (one deleted meanwhile has no place
/// to leave; its leftovers are cleared by its deletion).
#[derive(Debug, Default)]
pub struct Existing {
    pub groups: BTreeSet<GroupId>,
    pub courses: BTreeSet<CourseId>,
}

impl Existing {
    fn places_of(&self, m: &Membership) -> Vec<LeftPlace> {
        let mut out: Vec<LeftPlace> = Vec::new();
        out.extend(
            m.teaching_course_ids.iter().filter(|c| self.courses.contains(*c)).cloned().map(LeftPlace::Teaching),
        );
        out.extend(m.course_ids.iter().filter(|c| self.courses.contains(*c)).cloned().map(LeftPlace::Course));
        out.extend(m.group_ids.iter().filter(|g| self.groups.contains(*g)).cloned().map(LeftPlace::Group));
        out
    }
}

/// A place a leaving member gives up.
#[derive(Debug, Clone)]
enum LeftPlace {
    Group(GroupId),
    Course(CourseId),
    Teaching(CourseId),
}

impl LeftPlace {
    fn actions(&self) -> usize {
        match self {
            LeftPlace::Group(_) | LeftPlace::Course(_) => 2,
            LeftPlace::Teaching(_) => 1,
        }
    }

    /// The membership's set that lists it, and its ID.
    fn mirror(&self) -> (&'static str, &str) {
        match self {
            LeftPlace::Group(g) => ("group_ids", g.as_str()),
            LeftPlace::Course(c) => ("course_ids", c.as_str()),
            LeftPlace::Teaching(c) => ("teaching_course_ids", c.as_str()),
        }
    }

    /// Adds the actions that give it up (but the membership's own update).
    fn add_to(&self, tx: &mut Tx, org: &OrgId, user: &UserId) -> Result<Vec<usize>, StoreError> {
        let (kind, of) = match self {
            LeftPlace::Group(g) => (PlaceKind::Group, g.as_str()),
            LeftPlace::Course(c) => (PlaceKind::Course, c.as_str()),
            LeftPlace::Teaching(c) => {
                let expr = Expr::update("DELETE teacher_ids :u")
                    .when("attribute_exists(pk)")
                    .value(":u", one_of(user.as_str()));
                return Ok(vec![tx.update(course_key(org, c), expr)?]);
            }
        };
        let place = tx.delete(place_key(kind, org, of, user), Some(Expr::condition("attribute_exists(pk)")))?;
        let counter = Expr::update("SET #count = #count - :one")
            .when("attribute_exists(pk)")
            .name("#count", place_count_attr(kind))
            .value(":one", n(1));
        Ok(vec![place, tx.update(container_key(kind, org, of), counter)?])
    }
}

impl From<NewMemberFailure> for MemberError {
    fn from(f: NewMemberFailure) -> Self {
        match f {
            NewMemberFailure::AlreadyMember => MemberError::AlreadyMember,
            NewMemberFailure::ClassUnavailable(c) => match ClassId::parse(&c) {
                Some(class) => MemberError::ClassUnavailable { class },
                None => MemberError::Changed,
            },
        }
    }
}

/// How a person joins besides their membership item: who made it happen, and the pending
/// join request it ends.
pub struct Joined<'a> {
    pub pending: Option<&'a JoinRequest>,
    pub by: &'a UserId,
    /// The roster record they join as (its sourcedId), linked to them in the same
    /// transaction; with the email its offer was accepted at, which it must still name.
    pub record: Option<(&'a crate::domain::SourcedId, Option<&'a str>)>,
}

/// Why a membership change was refused.
#[derive(Debug)]
pub enum MemberError {
    AlreadyMember,
    NotMember,
    /// Changed since read: read again and retry.
    Changed,
    LastAdmin,
    /// A class of the grants does not exist or has graduated.
    ClassUnavailable {
        class: ClassId,
    },
    /// The admin flag needs a teacher or staff role.
    AdminRoleRequired,
    /// The acting admin is no longer an admin.
    ActorNotAdmin,
    /// The person has a pending join request (or it changed): read it and pass it along.
    HasPendingRequest,
    /// The roster record they join as was linked meanwhile (or no longer names the email).
    RecordTaken,
    Store(StoreError),
}

impl From<StoreError> for MemberError {
    fn from(e: StoreError) -> Self {
        MemberError::Store(e)
    }
}

impl Store {
    pub async fn membership(&self, org: &OrgId, user: &UserId) -> Result<Option<Membership>, StoreError> {
        self.get(member_key(org, user)).await
    }

    pub async fn memberships(&self, org: &OrgId, users: &[UserId]) -> Result<Vec<Membership>, StoreError> {
        self.batch_get_as(users.iter().map(|u| member_key(org, u)).collect()).await
    }

    /// Adds a member with their class places, counters, audit entry and event in one
    /// transaction; a pending join request of theirs ends with it.
    pub async fn add_member(
        &self,
        m: &Membership,
        joined: Joined<'_>,
        audit: Option<&AuditEntry>,
        event: Option<&OutboxEvent>,
    ) -> Result<(), MemberError> {
        let Joined { pending, by, record } = joined;
        let mut tx = Tx::new(&self.table);
        let mut meanings: Vec<(usize, MemberError)> =
            put_new_member(&mut tx, m)?.into_iter().map(|(i, f)| (i, f.into())).collect();
        if let Some((sourced_id, email)) = record {
            let at = link_roster_record(&mut tx, &m.org_id, sourced_id, &m.user_id, email, Timestamp::now())?;
            meanings.push((at, MemberError::RecordTaken));
        }
        move_counts(&mut tx, &m.org_id, Counts::member(m, 1).pending(-i64::from(pending.is_some())))?;
        meanings
            .push((end_or_check_pending(&mut tx, &m.org_id, &m.user_id, pending, by)?, MemberError::HasPendingRequest));
        if let Some(a) = audit {
            add_audit(&mut tx, a)?;
        }
        if let Some(e) = event {
            add_event(&mut tx, e)?;
        }
        tx.run_expecting(self, meanings).await?;
        Ok(())
    }

    /// Replaces a member's roles, moving their class places to match.
    pub async fn update_member_roles(
        &self,
        old: &Membership,
        roles: Vec<RoleGrant>,
        audit: Option<&AuditEntry>,
    ) -> Result<Membership, MemberError> {
        let mut new = old.clone();
        new.roles = roles;
        new.version = old.version + 1;
        // A teacher no more stops teaching their courses.
        let stops_teaching = !new.has_role(Role::Teacher) && !old.teaching_course_ids.is_empty();
        if stops_teaching {
            new.teaching_course_ids.clear();
        }
        let mut tx = Tx::new(&self.table);
        let update = if stops_teaching {
            "SET #roles = :roles, role_names = :names, version = :version REMOVE teaching_course_ids"
        } else {
            "SET #roles = :roles, role_names = :names, version = :version"
        };
        let expr = Expr::update(update)
            .when("attribute_exists(pk) AND version = :read AND admin = :admin")
            .name("#roles", "roles")
            .value(":roles", to_value(&new.roles)?)
            .value(":names", role_names(&new.roles))
            .value(":version", n(new.version))
            .value(":read", n(old.version))
            .value(":admin", b(old.admin));
        let mut meanings = vec![(tx.update(member_key(&old.org_id, &old.user_id), expr)?, MemberError::Changed)];
        let counts = Counts::roles(&old.roles, &new.roles);
        if !counts.is_empty() {
            move_counts(&mut tx, &old.org_id, counts)?;
        }
        for (class, add, remove) in roster_changes(&old.places(), &new.places()) {
            let meaning = if add.is_empty() {
                MemberError::Changed
            } else {
                MemberError::ClassUnavailable { class: class.clone() }
            };
            meanings.push((roster_update(&mut tx, &old.org_id, &class, &old.user_id, &add, &remove)?, meaning));
        }
        if stops_teaching {
            for course in &old.teaching_course_ids {
                let place = LeftPlace::Teaching(course.clone());
                for i in place.add_to(&mut tx, &old.org_id, &old.user_id)? {
                    meanings.push((i, MemberError::Changed));
                }
            }
        }
        if let Some(a) = audit {
            add_audit(&mut tx, a)?;
        }
        tx.run_expecting(self, meanings).await?;
        Ok(new)
    }

    /// Ends a membership: the membership, its class, group and course places and its
    /// admin flag go together (never the last admin), with the audit entry.
    /// `existing_classes` are the member's classes that still exist (a deleted class has
    /// no roster to leave); `existing` their groups and courses that still exist. A
    /// member with more places than one transaction holds leaves some groups and courses
    /// in steps first (each a change of its own, conditional on the membership as read).
    pub async fn remove_member(
        &self,
        m: &Membership,
        existing_classes: &BTreeSet<ClassId>,
        existing: &Existing,
        audit: Option<&AuditEntry>,
    ) -> Result<(), MemberError> {
        let rosters: Vec<_> = roster_changes(&m.places(), &BTreeSet::new())
            .into_iter()
            .filter(|(class, _, _)| existing_classes.contains(class))
            .collect();
        let mut places = existing.places_of(m);
        // The membership, the counters, the audit entry, the admin check and the search
        // items.
        let budget = MAX_ACTIONS - 4 - rosters.len() - search_keys(m).len();
        let mut version = m.version;
        while places.iter().map(|p| p.actions()).sum::<usize>() > budget {
            // Steps of their own: the membership's update and the admin check besides.
            let mut step: Vec<LeftPlace> = Vec::new();
            while let Some(p) = places.last() {
                if step.iter().map(LeftPlace::actions).sum::<usize>() + p.actions() > MAX_ACTIONS - 2 {
                    break;
                }
                step.extend(places.pop());
            }
            self.leave_places(m, version, &step, audit).await?;
            version += 1;
        }
        let mut tx = Tx::new(&self.table);
        let mut meanings = vec![(
            tx.delete(
                member_key(&m.org_id, &m.user_id),
                Some(Expr::condition("attribute_exists(pk) AND version = :read").value(":read", n(version))),
            )?,
            MemberError::Changed,
        )];
        meanings.push((move_counts(&mut tx, &m.org_id, Counts::member(m, -1))?, MemberError::LastAdmin));
        delete_search_items(&mut tx, m)?;
        for (class, _, remove) in rosters {
            meanings.push((roster_update(&mut tx, &m.org_id, &class, &m.user_id, &[], &remove)?, MemberError::Changed));
        }
        for p in &places {
            for i in p.add_to(&mut tx, &m.org_id, &m.user_id)? {
                meanings.push((i, MemberError::Changed));
            }
        }
        if let Some(a) = audit {
            add_audit(&mut tx, a)?;
        }
        tx.run_expecting(self, meanings).await?;
        Ok(())
    }

    /// One step of a removal: the member leaves these groups and courses.
    async fn leave_places(
        &self,
        m: &Membership,
        version: u64,
        places: &[LeftPlace],
        audit: Option<&AuditEntry>,
    ) -> Result<(), MemberError> {
        let mut tx = Tx::new(&self.table);
        let mut deletes: Vec<(&str, Vec<String>)> = Vec::new();
        for p in places {
            let (attr, id) = p.mirror();
            match deletes.iter_mut().find(|(a, _)| *a == attr) {
                Some((_, ids)) => ids.push(id.to_string()),
                None => deletes.push((attr, vec![id.to_string()])),
            }
        }
        let mut expr =
            Expr::condition("attribute_exists(pk) AND version = :read").value(":read", n(version)).value(":one", n(1));
        let mut parts = Vec::new();
        for (i, (attr, ids)) in deletes.into_iter().enumerate() {
            parts.push(format!("#s{i} :s{i}"));
            expr = expr.name(&format!("#s{i}"), attr).value(&format!(":s{i}"), AttributeValue::Ss(ids));
        }
        expr.update = Some(format!("DELETE {} SET version = version + :one", parts.join(", ")));
        let mut meanings = vec![(tx.update(member_key(&m.org_id, &m.user_id), expr)?, MemberError::Changed)];
        for p in places {
            for i in p.add_to(&mut tx, &m.org_id, &m.user_id)? {
                meanings.push((i, MemberError::Changed));
            }
        }
        if let Some(a) = audit {
            as_actor_of(&mut tx, a);
        }
        tx.run_expecting(self, meanings).await
    }

    /// Appoints (`admin = true`) or demotes a member. The admin count moves in the same
    /// transaction, never below one; the acting admin must still be one.
    pub async fn set_admin(
        &self,
        target: &Membership,
        admin: bool,
        actor: &UserId,
        audit: &AuditEntry,
        event: Option<&OutboxEvent>,
    ) -> Result<Membership, MemberError> {
        let org = &target.org_id;
        let mut tx = Tx::new(&self.table);
        let expr = (if admin {
            Expr::update(format!("SET admin = :true, version = version + :one, {GSI2PK} = :apk, {GSI2SK} = :ask"))
                .when("attribute_exists(pk) AND admin = :false AND (contains(role_names, :teacher) OR contains(role_names, :staff))")
                .value(":apk", s(admins_pk(org)))
                .value(":ask", s(member_sk(&target.user_id)))
                .value(":teacher", s("teacher"))
                .value(":staff", s("staff"))
        } else {
            Expr::update(format!("SET admin = :false, version = version + :one REMOVE {GSI2PK}, {GSI2SK}")).when("attribute_exists(pk) AND admin = :true")
        })
        .value(":true", b(true))
        .value(":false", b(false))
        .value(":one", n(1));
        let mut meanings = vec![(tx.update(member_key(org, &target.user_id), expr)?, MemberError::Changed)];
        meanings.push((move_counts(&mut tx, org, Counts::admins(if admin { 1 } else { -1 }))?, MemberError::LastAdmin));
        if actor != &target.user_id {
            let check = Expr::condition("admin = :true").value(":true", b(true));
            meanings.push((tx.check(member_key(org, actor), check)?, MemberError::ActorNotAdmin));
        }
        add_audit(&mut tx, audit)?;
        if let Some(e) = event {
            add_event(&mut tx, e)?;
        }
        tx.run_expecting(self, meanings).await?;
        Ok(Membership { admin, version: target.version + 1, ..target.clone() })
    }

    /// Records the member's first request of the day: at most one write a member a day,
    /// and none when another request already recorded the day. The same transaction moves
    /// the member from the count of their previous last active day to today's, so the
    /// members active over the last days are a sum of at most 30 counters, each member
    /// counted once (at their latest day).
    pub async fn touch_member(&self, m: &Membership, now: Timestamp) -> Result<(), StoreError> {
        let today = now.day();
        let oldest = now.plus(time::Duration::days(-29)).day();
        let mut days: Vec<String> = m.active_days.iter().filter(|d| **d >= oldest && **d != today).cloned().collect();
        days.push(today.clone());
        let previous = m.last_active_day().filter(|d| *d != today);
        let run = |previous: Option<&String>| {
            let mut tx = Tx::new(&self.table);
            let touch = Expr::update("SET last_active_at = :now, active_days = :days")
                .when("attribute_exists(pk) AND (attribute_not_exists(last_active_at) OR last_active_at < :today)")
                .value(":now", s(now.to_string()))
                .value(":today", s(&today))
                .value(":days", AttributeValue::L(days.iter().cloned().map(AttributeValue::S).collect()));
            tx.update(member_key(&m.org_id, &m.user_id), touch)?;
            count_active(&mut tx, &m.org_id, now)?;
            if let Some(day) = previous {
                uncount_active(&mut tx, &m.org_id, day)?;
            }
            Ok::<_, StoreError>(tx)
        };
        match run(previous.as_ref())?.run(self).await {
            Err(e) if e.condition_failed_at(0) => Ok(()),
            // Their previous day's count is gone (kept 40 days): only today's moves.
            Err(e) if previous.is_some() && e.condition_failed_at(2) => match run(None)?.run(self).await {
                Err(e) if e.condition_failed_at(0) => Ok(()),
                other => other,
            },
            other => other,
        }
    }

    /// A page of the organization's members, optionally only those holding `role` and
    /// those not in group `not_in_group`.
    pub async fn members(
        &self,
        org: &OrgId,
        role: Option<Role>,
        not_in_group: Option<&GroupId>,
        page: &PageQuery,
    ) -> Result<(Vec<Membership>, Option<Cursor>), StoreError> {
        let mut q = KeyQuery::table(org_pk(org)).prefix(MEMBER_PREFIX);
        let mut filter: Option<Expr> = None;
        if let Some(role) = role {
            filter = Some(Expr::condition("contains(role_names, :role)").value(":role", s(role_name(role))));
        }
        if let Some(group) = not_in_group {
            let f = filter.take().unwrap_or_default();
            let condition = match &f.condition {
                Some(c) => format!("({c}) AND NOT contains(group_ids, :group)"),
                None => "NOT contains(group_ids, :group)".to_string(),
            };
            filter = Some(f.value(":group", s(group.as_str())).when(condition));
        }
        if let Some(f) = filter {
            q = q.filter(f);
        }
        self.query_page(&q, page).await
    }

    /// A page of the organization's employees: members holding the teacher or staff role.
    pub async fn employees(
        &self,
        org: &OrgId,
        page: &PageQuery,
    ) -> Result<(Vec<Membership>, Option<Cursor>), StoreError> {
        let filter = Expr::condition("contains(role_names, :teacher) OR contains(role_names, :staff)")
            .value(":teacher", s(role_name(Role::Teacher)))
            .value(":staff", s(role_name(Role::Staff)));
        self.query_page(&KeyQuery::table(org_pk(org)).prefix(MEMBER_PREFIX).filter(filter), page).await
    }

    /// The organization's admins (a sparse index: one query, however many members).
    pub async fn admins(&self, org: &OrgId) -> Result<Vec<Membership>, StoreError> {
        self.query_all(&KeyQuery::index(GSI2, admins_pk(org))).await
    }

    /// A page of the user's memberships across organizations.
    pub async fn user_memberships(
        &self,
        user: &UserId,
        page: &PageQuery,
    ) -> Result<(Vec<Membership>, Option<Cursor>), StoreError> {
        self.query_page(&KeyQuery::index(GSI1, user_pk(user)).prefix(ORG_PREFIX), page).await
    }
}

/// How many rounds a page of a search makes at most: each a query of at most
/// [`SEARCH_CHUNK`] search items and one batch read of the memberships they name. A page
/// not full by then answers what it found with a cursor to go on from.
pub const SEARCH_ROUNDS: usize = 4;
/// The most search items one round reads (a batch read takes 100 keys).
pub const SEARCH_CHUNK: i32 = 100;

impl Store {
    /// Renames a member (their profile's new name) with their search items, on the
    /// condition that the membership is as read (its version moves).
    pub async fn rename_member(&self, old: &Membership, name: &str) -> Result<Membership, MemberError> {
        let new = Membership { name: name.to_string(), version: old.version + 1, ..old.clone() };
        let mut tx = Tx::new(&self.table);
        let expr = Expr::update("SET #name = :name, version = :version")
            .when("attribute_exists(pk) AND version = :read")
            .name("#name", "name")
            .value(":name", s(name))
            .value(":version", n(new.version))
            .value(":read", n(old.version));
        let at = tx.update(member_key(&old.org_id, &old.user_id), expr)?;
        move_search_items(&mut tx, old, &new)?;
        tx.run_expecting(self, vec![(at, MemberError::Changed)]).await?;
        Ok(new)
    }

    /// A page of the members `query` finds, those `keep` accepts, in the order of the word
    /// they were found by. `emails`: the caller may find people by their address. Reads
    /// the search items under the query's longest word a chunk at a time (never the
    /// organization's members): a person counts at the smallest of their words that
    /// matches, so one found by two words is listed once, on whatever page, with no state
    /// kept between pages; then the memberships of those counted, in one batch read.
    pub async fn search_members(
        &self,
        org: &OrgId,
        query: &NameQuery,
        emails: bool,
        page: &PageQuery,
        keep: impl Fn(&Membership) -> bool,
    ) -> Result<(Vec<Membership>, Option<Cursor>), StoreError> {
        let q = KeyQuery::table(org_pk(org)).prefix(format!("{MSEARCH_PREFIX}{}", query.leading()));
        let chunk = SEARCH_CHUNK.min((page.limit * 2).max(25));
        let limit = page.limit.max(1) as usize;
        let mut found: Vec<Membership> = Vec::new();
        let mut cursor = page.cursor.clone();
        for _ in 0..SEARCH_ROUNDS {
            let read = PageQuery { limit: chunk, cursor: cursor.clone() };
            let (items, last) = self.query_page_items(&q, &read).await?;
            let mut hits: Vec<(Cursor, UserId)> = Vec::new();
            for item in items {
                let (pk, sk) = key_of(&item);
                let hit: SearchItem = from_item(item)?;
                if hit.by_email && !emails {
                    continue;
                }
                let email = hit.email.as_deref().filter(|_| emails);
                let counted = query.counted_at(&hit.tokens, email) == Some((hit.word.as_str(), hit.by_email));
                if counted && !hits.iter().any(|(_, u)| *u == hit.user_id) {
                    hits.push((Cursor([(PK.to_string(), pk), (SK.to_string(), sk)].into()), hit.user_id));
                }
            }
            let ids: Vec<UserId> = hits.iter().map(|(_, u)| u.clone()).collect();
            let members: HashMap<UserId, Membership> = if ids.is_empty() {
                HashMap::new()
            } else {
                self.memberships(org, &ids).await?.into_iter().map(|m| (m.user_id.clone(), m)).collect()
            };
            let kept: Vec<(Cursor, Membership)> = hits
                .into_iter()
                .filter_map(|(at, user)| {
                    let m = members.get(&user).filter(|m| keep(m) && !found.iter().any(|f| f.user_id == user))?;
                    Some((at, m.clone()))
                })
                .collect();
            for (i, (at, m)) in kept.iter().enumerate() {
                found.push(m.clone());
                if found.len() == limit {
                    let more = i + 1 < kept.len() || last.is_some();
                    return Ok((found, more.then(|| at.clone())));
                }
            }
            match last {
                Some(c) => cursor = Some(c),
                None => return Ok((found, None)),
            }
        }
        Ok((found, cursor))
    }
}
