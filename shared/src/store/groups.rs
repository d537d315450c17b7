//! Groups and courses: their items, the places of people in them (one item a place,
//! mirrored on the person's membership), and the link of a group to a course. Adding
//! many people goes in transactions of a bounded size, each person all or nothing.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{
    container_key, course_item, course_key, group_item, group_key, invitation_key, member_key, one_of,
    place_count_attr, place_item, place_key, place_set_attr, role_name,
};
use super::keys::*;
use super::pieces::{add_audit, add_event, count_org};
use super::read::KeyQuery;
use super::tx::{b, n, s, Expr, Tx, MAX_ACTIONS};
use super::{Store, StoreError};
use crate::domain::{
    AuditEntry, Course, Group, GroupRole, Membership, OrgId, OutboxEvent, Place, PlaceKind, Role, Timestamp, UserId,
};
use crate::page::{Cursor, PageQuery};

/// People added in one transaction: two actions each, with the container's count, the
/// audit entry, the event and the admin check.
pub const ADD_BATCH: usize = 45;

/// Why a change to a group or course was refused.
#[derive(Debug)]
pub enum GroupError {
    /// The group or course is gone.
    NotFound,
    /// Changed since read: read again.
    Changed,
    /// The group is linked to another course.
    AlreadyLinked,
    /// The course has as many linked groups as it may.
    TooManyLinked,
    /// A teacher named is not a member holding the teacher role.
    NotATeacher(String),
    /// The person has no place there.
    NoPlace,
    /// The actor may not put people into this group, or link it (see [`Entry`]).
    NotAllowed,
    /// A person enrolled in a course does not hold the student role.
    NotAStudent(UserId),
    /// A person put into a group as its teacher does not hold the teacher role.
    NotAGroupTeacher(UserId),
    Store(StoreError),
}

impl From<StoreError> for GroupError {
    fn from(e: StoreError) -> Self {
        GroupError::Store(e)
    }
}

/// What became of one person added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    Added,
    AlreadyIn,
    NotMember,
}

/// By what right people go into a group or a course. Every transaction of an add checks it
/// on the items as they are then, so a right lost between the read and the write refuses
/// the write: nobody is put into a group but by an admin, a teacher of the group, their
/// own acceptance of an offer, or their teaching the course the group is linked to. A
/// group's teacher holds the teacher role in the organization (checked on each of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry<'a> {
    /// Enrolled in a course: each person holds the student role (a course's students are
    /// students).
    Enrol,
    /// Put into a group by the actor: an admin (still one), or a teacher of the group; in
    /// the role given, or each in [`GroupRole::of`] their roles.
    ByMember(Option<GroupRole>),
    /// Put into a group made from course `0` by an admin or a teacher of the course (still
    /// teaching it, holding the teacher role): the group is still linked to the course and
    /// each person is still its student. Only a course's students go into the course's
    /// group this way, so it opens no one else's group.
    FromCourse(&'a str),
    /// A teacher of course `0` into a group linked to it, as its teacher: the group is
    /// still linked to the course and each person still teaches it. Whoever linked the
    /// group or named the teacher had the right; the link and the course are the right.
    Teaching(&'a str),
    /// The person's own acceptance of email invitation `0`, which names the group: the
    /// invitation accepted, and nobody but the actor added; in role `1` (what the
    /// invitation offers).
    Invited(&'a crate::domain::InvitationId, GroupRole),
}

impl Entry<'_> {
    pub fn kind(&self) -> PlaceKind {
        match self {
            Entry::Enrol => PlaceKind::Course,
            Entry::ByMember(_) | Entry::FromCourse(_) | Entry::Teaching(_) | Entry::Invited(..) => PlaceKind::Group,
        }
    }

    /// The role `m` takes in the group (none in a course).
    pub fn role_of(&self, m: &Membership) -> Option<GroupRole> {
        match self {
            Entry::Enrol => None,
            Entry::ByMember(role) => Some(role.unwrap_or_else(|| GroupRole::of(m))),
            Entry::FromCourse(_) => Some(GroupRole::Student),
            Entry::Teaching(_) => Some(GroupRole::Teacher),
            Entry::Invited(_, role) => Some(*role),
        }
    }
}

/// The condition on the actor's membership that lets them act on a group as an admin or
/// as a teacher of group `group` (when given) who teaches course `course` (when given),
/// holding the teacher role. An actor acting as an admin must still be one.
pub fn teacher_or_admin(by_admin: bool, group: Option<&str>, course: Option<&str>) -> Expr {
    let admin = Expr::condition("admin = :true").value(":true", b(true));
    if by_admin {
        return admin;
    }
    let mut parts = vec!["contains(role_names, :teacher)"];
    let mut expr = admin.value(":teacher", s(role_name(Role::Teacher)));
    if let Some(g) = group {
        parts.push("contains(teaching_group_ids, :in_group)");
        expr = expr.value(":in_group", s(g));
    }
    if let Some(c) = course {
        parts.push("contains(teaching_course_ids, :taught)");
        expr = expr.value(":taught", s(c));
    }
    expr.when(format!("admin = :true OR ({})", parts.join(" AND ")))
}

/// The actor's condition of an add by `entry` to `of`, if the actor's membership has one.
fn actor_condition(entry: Entry<'_>, by_admin: bool, of: &str) -> Option<Expr> {
    match entry {
        Entry::ByMember(_) => Some(teacher_or_admin(by_admin, Some(of), None)),
        Entry::FromCourse(course) => Some(teacher_or_admin(by_admin, None, Some(course))),
        // A course's teachers and admins enrol (the route checks; a journal import enrols
        // as the journal says), an invitee's right is the invitation, and a course's
        // teacher's the course.
        Entry::Enrol | Entry::Invited(..) | Entry::Teaching(_) => None,
    }
}

/// `expr` with `extra` (a condition and its values) joined to its condition by `AND`.
fn and(mut expr: Expr, extra: Expr) -> Expr {
    let condition = match (expr.condition.take(), extra.condition) {
        (Some(a), Some(b)) => Some(format!("{a} AND ({b})")),
        (a, b) => a.or(b),
    };
    expr.condition = condition;
    expr.names.extend(extra.names);
    expr.values.extend(extra.values);
    expr
}

/// How an add is recorded: the audit entry and the event of each transaction, given the
/// people it adds.
pub struct AddRecord<'a> {
    pub audit: &'a (dyn Fn(&[UserId]) -> AuditEntry + Sync),
    pub event: &'a (dyn Fn(&[UserId]) -> Option<OutboxEvent> + Sync),
}

fn teacher_condition() -> Expr {
    Expr::condition("attribute_exists(pk) AND contains(role_names, :teacher)").value(":teacher", s("teacher"))
}

/// The update of a membership's set of places: `ADD` or `DELETE` one value, the version
/// bumped so that a removal working from an earlier read sees the change.
fn mirror(set_attr: &str, op: &str, value: &str) -> Expr {
    Expr::update(format!("{op} #set :v SET version = version + :one"))
        .name("#set", set_attr)
        .value(":v", one_of(value))
        .value(":one", n(1))
}

/// The mirror of a place in a group on the membership: in `group_ids`, and for a teacher
/// also in `teaching_group_ids` (`op` `ADD` or `DELETE`; deleting takes both).
fn group_mirror(op: &str, group: &str, role: Option<GroupRole>) -> Expr {
    if op == "DELETE" || role == Some(GroupRole::Teacher) {
        Expr::update(format!("{op} group_ids :v, teaching_group_ids :v SET version = version + :one"))
            .value(":v", one_of(group))
            .value(":one", n(1))
    } else {
        mirror("group_ids", op, group)
    }
}

/// The condition on a person going into a group as a teacher: they hold the teacher role.
fn holds_teacher_role() -> Expr {
    Expr::condition("contains(role_names, :teacher_role)").value(":teacher_role", s(role_name(Role::Teacher)))
}

impl Store {
    pub async fn group(&self, org: &OrgId, id: &str) -> Result<Option<Group>, StoreError> {
        self.get(group_key(org, id)).await
    }

    pub async fn course(&self, org: &OrgId, id: &str) -> Result<Option<Course>, StoreError> {
        self.get(course_key(org, id)).await
    }

    /// Groups by ID (missing ones left out).
    pub async fn groups_by_id(&self, org: &OrgId, ids: &[String]) -> Result<Vec<Group>, StoreError> {
        self.batch_get_as(ids.iter().map(|id| group_key(org, id)).collect()).await
    }

    pub async fn courses_by_id(&self, org: &OrgId, ids: &[String]) -> Result<Vec<Course>, StoreError> {
        self.batch_get_as(ids.iter().map(|id| course_key(org, id)).collect()).await
    }

    /// Which of these groups and courses exist (one round trip, none for no IDs).
    pub async fn existing(
        &self,
        org: &OrgId,
        groups: &[String],
        courses: &[String],
    ) -> Result<(BTreeSet<String>, BTreeSet<String>), StoreError> {
        let mut keys: Vec<_> = groups.iter().map(|g| group_key(org, g)).collect();
        keys.extend(courses.iter().map(|c| course_key(org, c)));
        let (mut found_groups, mut found_courses) = (BTreeSet::new(), BTreeSet::new());
        if keys.is_empty() {
            return Ok((found_groups, found_courses));
        }
        for item in self.batch_get(keys).await? {
            let sk = item.get(SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            if let Some(id) = sk.strip_prefix(GROUP_PREFIX) {
                found_groups.insert(id.to_string());
            } else if let Some(id) = sk.strip_prefix(COURSE_PREFIX) {
                found_courses.insert(id.to_string());
            }
        }
        Ok((found_groups, found_courses))
    }

    /// A page of the organization's groups, oldest first.
    pub async fn groups_page(&self, org: &OrgId, page: &PageQuery) -> Result<(Vec<Group>, Option<Cursor>), StoreError> {
        self.query_page(&KeyQuery::table(org_pk(org)).prefix(GROUP_PREFIX), page).await
    }

    /// A page of the organization's courses, oldest first.
    pub async fn courses_page(
        &self,
        org: &OrgId,
        page: &PageQuery,
    ) -> Result<(Vec<Course>, Option<Cursor>), StoreError> {
        self.query_page(&KeyQuery::table(org_pk(org)).prefix(COURSE_PREFIX), page).await
    }

    /// A page of the places in a group or course, by user ID.
    pub async fn places_page(
        &self,
        org: &OrgId,
        kind: PlaceKind,
        of: &str,
        page: &PageQuery,
    ) -> Result<(Vec<Place>, Option<Cursor>), StoreError> {
        self.query_page(&KeyQuery::table(org_pk(org)).prefix(places_prefix(kind, of)), page).await
    }

    /// Every place in a group or course (the students of a course at this moment).
    pub async fn all_places(&self, org: &OrgId, kind: PlaceKind, of: &str) -> Result<Vec<Place>, StoreError> {
        self.query_all(&KeyQuery::table(org_pk(org)).prefix(places_prefix(kind, of))).await
    }

    /// The places these people have in a group or course.
    pub async fn places_of(
        &self,
        org: &OrgId,
        kind: PlaceKind,
        of: &str,
        users: &[UserId],
    ) -> Result<Vec<Place>, StoreError> {
        self.batch_get_as(users.iter().map(|u| place_key(kind, org, of, u)).collect()).await
    }

    /// Creates a group (counted on the organization); linked to `course` when given.
    pub async fn create_group(&self, g: &Group, audit: &AuditEntry) -> Result<(), GroupError> {
        let mut tx = Tx::new(&self.table);
        tx.put(group_item(g)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
        count_org(&mut tx, &g.org_id, "group_count", 1)?;
        let mut meanings = Vec::new();
        if let Some(course) = &g.course_id {
            meanings.push((link_on_course(&mut tx, &g.org_id, course, &g.id)?, GroupError::TooManyLinked));
            // A group made from a course: by an admin (the audit entry's check) or a
            // teacher of the course.
            if let Some(actor) = UserId::parse(&audit.actor_id).filter(|_| !audit.by_admin) {
                let may = teacher_or_admin(false, None, Some(course));
                meanings.push((tx.check(member_key(&g.org_id, &actor), may)?, GroupError::NotAllowed));
            }
        }
        add_audit(&mut tx, audit)?;
        tx.run_expecting(self, meanings).await
    }

    /// Writes a group's edited name and description, on the version read.
    pub async fn update_group(&self, old: &Group, new: &Group, audit: &AuditEntry) -> Result<(), GroupError> {
        let mut tx = Tx::new(&self.table);
        let expr = naming_update(&new.name, new.description.as_deref(), new.version, new.updated_at, &[], &[])
            .when("attribute_exists(pk) AND version = :read")
            .value(":read", n(old.version));
        let meanings = vec![(tx.update(group_key(&old.org_id, &old.id), expr)?, GroupError::Changed)];
        add_audit(&mut tx, audit)?;
        tx.run_expecting(self, meanings).await
    }

    /// Deletes a group, its link and count; its people's places are cleared after.
    pub async fn delete_group(&self, g: &Group, audit: &AuditEntry) -> Result<(), GroupError> {
        let mut tx = Tx::new(&self.table);
        let cond = Expr::condition("attribute_exists(pk) AND version = :read").value(":read", n(g.version));
        let mut meanings = vec![(tx.delete(group_key(&g.org_id, &g.id), Some(cond))?, GroupError::Changed)];
        count_org(&mut tx, &g.org_id, "group_count", -1)?;
        if let Some(course) = &g.course_id {
            let expr =
                Expr::update("DELETE linked_group_ids :g").when("attribute_exists(pk)").value(":g", one_of(&g.id));
            meanings.push((tx.update(course_key(&g.org_id, course), expr)?, GroupError::Changed));
        }
        add_audit(&mut tx, audit)?;
        tx.run_expecting(self, meanings).await?;
        self.clear_places(&g.org_id, PlaceKind::Group, &g.id).await?;
        Ok(())
    }

    /// Creates a course with its teachers (each a member holding the teacher role).
    pub async fn create_course(&self, c: &Course, audit: &AuditEntry) -> Result<(), GroupError> {
        let mut tx = Tx::new(&self.table);
        tx.put(course_item(c)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
        count_org(&mut tx, &c.org_id, "course_count", 1)?;
        let mut meanings = Vec::new();
        for t in &c.teacher_ids {
            meanings.push((teach(&mut tx, &c.org_id, &c.id, t, true)?, GroupError::NotATeacher(t.clone())));
        }
        add_audit(&mut tx, audit)?;
        tx.run_expecting(self, meanings).await
    }

    /// Writes a course's edits, on the version read; teachers added and removed follow on
    /// their memberships.
    pub async fn update_course(&self, old: &Course, new: &Course, audit: &AuditEntry) -> Result<(), GroupError> {
        let mut tx = Tx::new(&self.table);
        let added: Vec<&String> = new.teacher_ids.iter().filter(|t| !old.teacher_ids.contains(t)).collect();
        let removed: Vec<&String> = old.teacher_ids.iter().filter(|t| !new.teacher_ids.contains(t)).collect();
        let (sets, removes): (&[&str], &[&str]) =
            if new.teacher_ids.is_empty() { (&[], &["teacher_ids"]) } else { (&["teacher_ids = :teachers"], &[]) };
        let mut expr = naming_update(&new.name, new.description.as_deref(), new.version, new.updated_at, sets, removes)
            .when("attribute_exists(pk) AND version = :read")
            .value(":read", n(old.version));
        if !new.teacher_ids.is_empty() {
            expr = expr.value(":teachers", AttributeValue::Ss(new.teacher_ids.clone()));
        }
        let mut meanings = vec![(tx.update(course_key(&old.org_id, &old.id), expr)?, GroupError::Changed)];
        for t in added {
            meanings.push((teach(&mut tx, &old.org_id, &old.id, t, true)?, GroupError::NotATeacher(t.clone())));
        }
        for t in removed {
            meanings.push((teach(&mut tx, &old.org_id, &old.id, t, false)?, GroupError::Changed));
        }
        add_audit(&mut tx, audit)?;
        tx.run_expecting(self, meanings).await
    }

    /// Deletes a course: its linked groups stay (unlinked), its teachers stop teaching it;
    /// its students' places are cleared after.
    pub async fn delete_course(&self, c: &Course, audit: &AuditEntry) -> Result<(), GroupError> {
        let mut tx = Tx::new(&self.table);
        let cond = Expr::condition("attribute_exists(pk) AND version = :read").value(":read", n(c.version));
        let mut meanings = vec![(tx.delete(course_key(&c.org_id, &c.id), Some(cond))?, GroupError::Changed)];
        count_org(&mut tx, &c.org_id, "course_count", -1)?;
        for g in &c.linked_group_ids {
            let expr =
                Expr::update("REMOVE course_id").when("attribute_exists(pk) AND course_id = :c").value(":c", s(&c.id));
            meanings.push((tx.update(group_key(&c.org_id, g), expr)?, GroupError::Changed));
        }
        for t in &c.teacher_ids {
            meanings.push((teach(&mut tx, &c.org_id, &c.id, t, false)?, GroupError::Changed));
        }
        add_audit(&mut tx, audit)?;
        tx.run_expecting(self, meanings).await?;
        self.clear_places(&c.org_id, PlaceKind::Course, &c.id).await?;
        Ok(())
    }

    /// Takes the places of a deleted group or course off its people's memberships and
    /// deletes them. Each step stands alone: one interrupted leaves only places of
    /// something that no longer exists, which nothing reads.
    async fn clear_places(&self, org: &OrgId, kind: PlaceKind, of: &str) -> Result<(), StoreError> {
        use futures::stream::{self, StreamExt, TryStreamExt};
        let places = self.all_places(org, kind, of).await?;
        let updates: Vec<_> = places
            .iter()
            .map(|p| {
                // A group's teachers are in its teaching set too.
                let expression = match kind {
                    PlaceKind::Group => "DELETE #set :v, teaching_group_ids :v",
                    PlaceKind::Course => "DELETE #set :v",
                };
                let update = self
                    .db
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(member_key(org, &p.user_id)))
                    .update_expression(expression)
                    .condition_expression("attribute_exists(pk)")
                    .expression_attribute_names("#set", place_set_attr(kind))
                    .expression_attribute_values(":v", one_of(of));
                async move { super::done_unless_condition(update.send().await) }
            })
            .collect();
        stream::iter(updates).buffer_unordered(8).try_collect::<Vec<()>>().await?;
        for chunk in places.chunks(MAX_ACTIONS) {
            let mut tx = Tx::new(&self.table);
            for p in chunk {
                tx.delete(place_key(kind, org, of, &p.user_id), None)?;
            }
            tx.run(self).await?;
        }
        Ok(())
    }

    /// Adds people (memberships read) to a group or course by the right `entry` names,
    /// [`ADD_BATCH`] a transaction: each person's place and the mirror on their membership
    /// go together or not at all, and the answer says per person what happened (someone
    /// who left the organization meanwhile is `NotMember`, someone added meanwhile
    /// `AlreadyIn`). A transaction the right refuses stops the add (`NotAllowed`, or
    /// `NoLongerAdmin` for an actor no longer an admin), as does a person enrolled in a
    /// course who does not hold the student role (`NotAStudent`); transactions before it
    /// stand.
    pub async fn add_places(
        &self,
        entry: Entry<'_>,
        org: &OrgId,
        of: &str,
        people: &[Membership],
        by: &UserId,
        record: &AddRecord<'_>,
    ) -> Result<Vec<(UserId, Added)>, GroupError> {
        if let Entry::Invited(..) = entry {
            // An acceptance puts in the one who accepted, nobody else.
            if people.iter().any(|m| &m.user_id != by) {
                return Err(GroupError::NotAllowed);
            }
        }
        let mut out = Vec::new();
        for batch in people.chunks(ADD_BATCH) {
            let mut todo: Vec<&Membership> = batch.iter().collect();
            for _ in 0..=ADD_BATCH {
                if todo.is_empty() {
                    break;
                }
                match self.add_batch(entry, org, of, &todo, by, record).await? {
                    None => {
                        out.extend(todo.iter().map(|m| (m.user_id.clone(), Added::Added)));
                        todo.clear();
                    }
                    Some(refused) => {
                        todo.retain(|m| match refused.get(&m.user_id) {
                            Some(outcome) => {
                                out.push((m.user_id.clone(), *outcome));
                                false
                            }
                            None => true,
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    /// One transaction of an add: `None` when it went through, or the people whose
    /// conditions failed (the others are to be tried again).
    async fn add_batch(
        &self,
        entry: Entry<'_>,
        org: &OrgId,
        of: &str,
        people: &[&Membership],
        by: &UserId,
        record: &AddRecord<'_>,
    ) -> Result<Option<HashMap<UserId, Added>>, GroupError> {
        let kind = entry.kind();
        let now = Timestamp::now();
        let users: Vec<UserId> = people.iter().map(|m| m.user_id.clone()).collect();
        let audit = (record.audit)(&users);
        let mut actor = actor_condition(entry, audit.by_admin, of);
        let mut tx = Tx::new(&self.table);
        let mut at: Vec<(usize, UserId, Added)> = Vec::new();
        // The action that checks the actor's right (their own mirror when they are among
        // the people: a transaction touches an item once).
        let mut right = None;
        for m in people {
            let role = entry.role_of(m);
            let place = Place {
                org_id: org.clone(),
                of: of.to_string(),
                user_id: m.user_id.clone(),
                added_at: now,
                added_by: Some(by.clone()),
                muted: false,
                role,
            };
            let i = tx.put(place_item(kind, &place)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
            at.push((i, m.user_id.clone(), Added::AlreadyIn));
            let mut update = match kind {
                PlaceKind::Group => group_mirror("ADD", of, role),
                PlaceKind::Course => mirror(place_set_attr(kind), "ADD", of),
            }
            .when("attribute_exists(pk)");
            if role == Some(GroupRole::Teacher) {
                update = and(update, holds_teacher_role());
            }
            match entry {
                Entry::Enrol => {
                    let student = Expr::condition("contains(role_names, :student)")
                        .value(":student", s(role_name(Role::Student)));
                    update = and(update, student);
                }
                Entry::FromCourse(course) => {
                    let enrolled = Expr::condition("contains(course_ids, :course)").value(":course", s(course));
                    update = and(update, enrolled);
                }
                Entry::Teaching(course) => {
                    let teaches = Expr::condition("contains(teaching_course_ids, :course)").value(":course", s(course));
                    update = and(update, teaches);
                }
                Entry::ByMember(_) | Entry::Invited(..) => {}
            }
            let may = if &m.user_id == by { actor.take() } else { None };
            let checks_right = may.is_some();
            if let Some(may) = may {
                update = and(update, may);
            }
            let i = tx.update(member_key(org, &m.user_id), update)?;
            if checks_right {
                right = Some(i);
            } else {
                at.push((i, m.user_id.clone(), Added::NotMember));
            }
        }
        if let Some(may) = actor {
            right = Some(tx.check(member_key(org, by), may)?);
        }
        if let Entry::Invited(invitation, _) = entry {
            let offer = Expr::condition("#status = :accepted AND group_id = :group")
                .name("#status", "status")
                .value(":accepted", s("accepted"))
                .value(":group", s(of));
            right = Some(tx.check(invitation_key(org, invitation), offer)?);
        }
        let mut counter = Expr::update("SET #count = #count + :k")
            .when("attribute_exists(pk)")
            .name("#count", place_count_attr(kind))
            .value(":k", n(people.len()));
        if let Entry::FromCourse(course) | Entry::Teaching(course) = entry {
            counter = and(counter, Expr::condition("course_id = :linked").value(":linked", s(course)));
        }
        let container = tx.update(container_key(kind, org, of), counter)?;
        add_audit(&mut tx, &audit)?;
        if let Some(e) = (record.event)(&users) {
            add_event(&mut tx, &e)?;
        }
        match tx.run(self).await {
            Ok(()) => Ok(None),
            Err(e) if e.condition_failed_at(container) => Err(GroupError::NotFound),
            Err(e) if right.is_some_and(|i| e.condition_failed_at(i)) => {
                Err(if audit.by_admin { GroupError::Store(StoreError::NoLongerAdmin) } else { GroupError::NotAllowed })
            }
            Err(e) if e.is_condition() => {
                let mut refused: HashMap<UserId, Added> = HashMap::new();
                for (i, user, outcome) in at {
                    if e.condition_failed_at(i) {
                        // Already there wins: whatever else changed, nothing is to do.
                        let known = refused.entry(user).or_insert(outcome);
                        if outcome == Added::AlreadyIn {
                            *known = outcome;
                        }
                    }
                }
                if refused.is_empty() {
                    return Err(GroupError::Store(e));
                }
                match entry {
                    Entry::Enrol => self.no_one_but(org, &refused, Role::Student).await?,
                    // Named teachers of the group: each holds the teacher role.
                    Entry::ByMember(_) | Entry::Invited(..) => {
                        let teachers: HashMap<UserId, Added> = refused
                            .iter()
                            .filter(|(u, _)| {
                                people.iter().any(|m| &m.user_id == *u && entry.role_of(m) == Some(GroupRole::Teacher))
                            })
                            .map(|(u, a)| (u.clone(), *a))
                            .collect();
                        self.no_one_but(org, &teachers, Role::Teacher).await?;
                    }
                    Entry::FromCourse(_) | Entry::Teaching(_) => {}
                }
                Ok(Some(refused))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Of the people an add refused as no longer members, the first who is a member is
    /// `NotAStudent` (for `role` student: an enrolment) or `NotAGroupTeacher` (a group's
    /// teacher): their condition failed on the role.
    async fn no_one_but(&self, org: &OrgId, refused: &HashMap<UserId, Added>, role: Role) -> Result<(), GroupError> {
        let gone: Vec<UserId> =
            refused.iter().filter(|(_, a)| **a == Added::NotMember).map(|(u, _)| u.clone()).collect();
        if gone.is_empty() {
            return Ok(());
        }
        let mut members = self.memberships(org, &gone).await?;
        members.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        match members.into_iter().next() {
            Some(m) if role == Role::Student => Err(GroupError::NotAStudent(m.user_id)),
            Some(m) => Err(GroupError::NotAGroupTeacher(m.user_id)),
            None => Ok(()),
        }
    }

    /// Takes one person out of a group or course. An actor who is not an admin (the audit
    /// entry says) takes a student out of a group they teach (`NotAllowed` otherwise,
    /// checked in the transaction); a course's teachers are checked by the route.
    pub async fn remove_place(
        &self,
        kind: PlaceKind,
        org: &OrgId,
        of: &str,
        user: &UserId,
        audit: &AuditEntry,
    ) -> Result<(), GroupError> {
        let teacher = UserId::parse(&audit.actor_id).filter(|_| !audit.by_admin && kind == PlaceKind::Group);
        if teacher.as_ref() == Some(user) {
            return Err(GroupError::NotAllowed);
        }
        let mut tx = Tx::new(&self.table);
        let mut there = Expr::condition("attribute_exists(pk)");
        if teacher.is_some() {
            there = Expr::condition("attribute_exists(pk) AND (attribute_not_exists(#role) OR #role = :student)")
                .name("#role", "role")
                .value(":student", s(GroupRole::Student.name()));
        }
        let gone = tx.delete(place_key(kind, org, of, user), Some(there))?;
        let unmirror = match kind {
            PlaceKind::Group => group_mirror("DELETE", of, None),
            PlaceKind::Course => mirror(place_set_attr(kind), "DELETE", of),
        };
        let unmirrored = tx.update(member_key(org, user), unmirror.when("attribute_exists(pk)"))?;
        let counter = Expr::update("SET #count = #count - :one")
            .when("attribute_exists(pk)")
            .name("#count", place_count_attr(kind))
            .value(":one", n(1));
        let container = tx.update(container_key(kind, org, of), counter)?;
        let mut right = None;
        if let Some(actor) = &teacher {
            right = Some(tx.check(member_key(org, actor), teacher_or_admin(false, Some(of), None))?);
        }
        add_audit(&mut tx, audit)?;
        match tx.run(self).await {
            Ok(()) => Ok(()),
            Err(e) if right.is_some_and(|i| e.condition_failed_at(i)) => Err(GroupError::NotAllowed),
            Err(e) if e.condition_failed_at(container) => Err(GroupError::NotFound),
            Err(e) if e.condition_failed_at(gone) => {
                let still: Option<Place> = self.get(place_key(kind, org, of, user)).await?;
                Err(if still.is_some() { GroupError::NotAllowed } else { GroupError::NoPlace })
            }
            Err(e) if e.condition_failed_at(unmirrored) => Err(GroupError::NoPlace),
            Err(e) => Err(e.into()),
        }
    }

    /// Makes a person of a group its teacher or a student (`NoPlace` when they are not in
    /// it), by an admin (the audit entry's check) or a teacher of the group (not about
    /// themself); a teacher holds the teacher role (`NotAGroupTeacher`). The place as it
    /// now is.
    pub async fn set_group_role(
        &self,
        org: &OrgId,
        group: &str,
        user: &UserId,
        role: GroupRole,
        audit: &AuditEntry,
    ) -> Result<(), GroupError> {
        let teacher = UserId::parse(&audit.actor_id).filter(|_| !audit.by_admin);
        if teacher.as_ref() == Some(user) {
            return Err(GroupError::NotAllowed);
        }
        let mut tx = Tx::new(&self.table);
        let expr = Expr::update("SET #role = :role")
            .when("attribute_exists(pk)")
            .name("#role", "role")
            .value(":role", s(role.name()));
        let placed = tx.update(place_key(PlaceKind::Group, org, group, user), expr)?;
        let op = if role == GroupRole::Teacher { "ADD" } else { "DELETE" };
        let mut update = mirror("teaching_group_ids", op, group).when("attribute_exists(pk)");
        if role == GroupRole::Teacher {
            update = and(update, holds_teacher_role());
        }
        let member = tx.update(member_key(org, user), update)?;
        let mut right = None;
        if let Some(actor) = &teacher {
            right = Some(tx.check(member_key(org, actor), teacher_or_admin(false, Some(group), None))?);
        }
        add_audit(&mut tx, audit)?;
        match tx.run(self).await {
            Ok(()) => Ok(()),
            Err(e) if right.is_some_and(|i| e.condition_failed_at(i)) => Err(GroupError::NotAllowed),
            Err(e) if e.condition_failed_at(placed) => Err(GroupError::NoPlace),
            Err(e) if e.condition_failed_at(member) => match self.membership(org, user).await? {
                Some(_) => Err(GroupError::NotAGroupTeacher(user.clone())),
                None => Err(GroupError::NoPlace),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Course `course`'s teachers (memberships read) into group `group` linked to it, as
    /// its teachers: those not in it are added ([`Entry::Teaching`]), those in it as
    /// students become its teachers. Each still teaching the course and holding the
    /// teacher role, the group still linked (others are left as they are).
    pub async fn seat_teachers(
        &self,
        org: &OrgId,
        course: &str,
        group: &str,
        teachers: &[Membership],
        by: &UserId,
        record: &AddRecord<'_>,
    ) -> Result<Vec<(UserId, Added)>, GroupError> {
        let added = self.add_places(Entry::Teaching(course), org, group, teachers, by, record).await?;
        for (user, outcome) in &added {
            if *outcome == Added::AlreadyIn {
                self.promote(org, course, group, user).await?;
            }
        }
        Ok(added)
    }

    /// A course's teacher who is in a linked group as a student becomes its teacher: they
    /// still teach the course (holding the teacher role) and the group is still linked.
    /// Nothing happens otherwise.
    async fn promote(&self, org: &OrgId, course: &str, group: &str, user: &UserId) -> Result<(), StoreError> {
        let mut tx = Tx::new(&self.table);
        let expr = Expr::update("SET #role = :role")
            .when("attribute_exists(pk)")
            .name("#role", "role")
            .value(":role", s(GroupRole::Teacher.name()));
        tx.update(place_key(PlaceKind::Group, org, group, user), expr)?;
        let teaches = Expr::condition("attribute_exists(pk) AND contains(teaching_course_ids, :course)")
            .value(":course", s(course));
        let update = and(and(mirror("teaching_group_ids", "ADD", group), teaches), holds_teacher_role());
        tx.update(member_key(org, user), update)?;
        tx.check(group_key(org, group), Expr::condition("course_id = :c").value(":c", s(course)))?;
        match tx.run(self).await {
            Err(e) if e.is_condition() => Ok(()),
            other => other,
        }
    }

    /// Turns a group member's announcement emails off (`muted`) or on again; the place as
    /// it now is, or `None` when they have no place in the group.
    pub async fn set_muted(
        &self,
        org: &OrgId,
        group: &str,
        user: &UserId,
        muted: bool,
    ) -> Result<Option<Place>, StoreError> {
        let expr = if muted {
            Expr::update("SET muted = :true").value(":true", AttributeValue::Bool(true))
        } else {
            Expr::update("REMOVE muted")
        };
        let result = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(place_key(PlaceKind::Group, org, group, user)))
            .set_update_expression(expr.update)
            .condition_expression("attribute_exists(pk)")
            .set_expression_attribute_values((!expr.values.is_empty()).then_some(expr.values))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => out.attributes.map(super::items::from_item).transpose(),
            Err(e) => match super::classify(e) {
                StoreError::ConditionFailed => Ok(None),
                e => Err(e),
            },
        }
    }

    /// Links a group to a course (a group has at most one course: `AlreadyLinked` when it
    /// has another), by an admin (the audit entry's check) or a teacher who teaches the
    /// course and is in the group (`NotAllowed` otherwise): rights over both.
    pub async fn link_group(&self, course: &Course, group: &Group, audit: &AuditEntry) -> Result<(), GroupError> {
        let now = Timestamp::now();
        let mut tx = Tx::new(&self.table);
        let expr = Expr::update("SET course_id = :c, updated_at = :now")
            .when("attribute_exists(pk) AND (attribute_not_exists(course_id) OR course_id = :c)")
            .value(":c", s(&course.id))
            .value(":now", s(now.to_string()));
        let linked = tx.update(group_key(&group.org_id, &group.id), expr)?;
        let on_course = link_on_course(&mut tx, &course.org_id, &course.id, &group.id)?;
        let mut right = None;
        if let Some(actor) = UserId::parse(&audit.actor_id).filter(|_| !audit.by_admin) {
            let may = teacher_or_admin(false, Some(&group.id), Some(&course.id));
            right = Some(tx.check(member_key(&group.org_id, &actor), may)?);
        }
        add_audit(&mut tx, audit)?;
        match tx.run(self).await {
            Ok(()) => Ok(()),
            Err(e) if right.is_some_and(|i| e.condition_failed_at(i)) => Err(GroupError::NotAllowed),
            Err(e) if e.condition_failed_at(linked) => match self.group(&group.org_id, &group.id).await? {
                None => Err(GroupError::NotFound),
                Some(_) => Err(GroupError::AlreadyLinked),
            },
            Err(e) if e.condition_failed_at(on_course) => match self.course(&course.org_id, &course.id).await? {
                None => Err(GroupError::NotFound),
                Some(_) => Err(GroupError::TooManyLinked),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Unlinks a group from its course: the group and its people stay.
    pub async fn unlink_group(&self, course: &Course, group: &str, audit: &AuditEntry) -> Result<(), GroupError> {
        let mut tx = Tx::new(&self.table);
        let expr = Expr::update("REMOVE course_id SET updated_at = :now")
            .when("attribute_exists(pk) AND course_id = :c")
            .value(":c", s(&course.id))
            .value(":now", s(Timestamp::now().to_string()));
        let unlinked = tx.update(group_key(&course.org_id, group), expr)?;
        let expr = Expr::update("DELETE linked_group_ids :g").when("attribute_exists(pk)").value(":g", one_of(group));
        let on_course = tx.update(course_key(&course.org_id, &course.id), expr)?;
        add_audit(&mut tx, audit)?;
        tx.run_expecting(self, vec![(unlinked, GroupError::NoPlace), (on_course, GroupError::NotFound)]).await
    }
}

/// Adds a group to a course's linked groups, within the limit.
fn link_on_course(tx: &mut Tx, org: &OrgId, course: &str, group: &str) -> Result<usize, StoreError> {
    let expr = Expr::update("ADD linked_group_ids :g")
        .when("attribute_exists(pk) AND (attribute_not_exists(linked_group_ids) OR size(linked_group_ids) < :max)")
        .value(":g", one_of(group))
        .value(":max", n(crate::domain::groups::MAX_LINKED_GROUPS));
    tx.update(course_key(org, course), expr)
}

/// A teacher starts (`true`, needing the teacher role) or stops teaching a course, on
/// their membership.
fn teach(tx: &mut Tx, org: &OrgId, course: &str, teacher: &str, starts: bool) -> Result<usize, StoreError> {
    let user = UserId::parse(teacher).ok_or_else(|| StoreError::Other(format!("not a user ID: {teacher}")))?;
    let expr = if starts {
        let cond = teacher_condition();
        let mut e = mirror("teaching_course_ids", "ADD", course);
        e.condition = cond.condition;
        e.values.extend(cond.values);
        e
    } else {
        mirror("teaching_course_ids", "DELETE", course).when("attribute_exists(pk)")
    };
    tx.update(member_key(org, &user), expr)
}

/// The update of a name, a description (absent: removed), the version and the time,
/// with further assignments (`sets`) and attributes to remove (`removes`).
fn naming_update(
    name: &str,
    description: Option<&str>,
    version: u64,
    now: Timestamp,
    sets: &[&str],
    removes: &[&str],
) -> Expr {
    let mut expr = Expr::default()
        .name("#name", "name")
        .value(":name", s(name))
        .value(":version", n(version))
        .value(":now", s(now.to_string()));
    let mut set = vec!["#name = :name", "version = :version", "updated_at = :now"];
    let mut remove = removes.to_vec();
    match description {
        Some(d) => {
            expr = expr.value(":description", s(d));
            set.push("description = :description");
        }
        None => remove.push("description"),
    }
    set.extend_from_slice(sets);
    let mut update = format!("SET {}", set.join(", "));
    if !remove.is_empty() {
        update.push_str(&format!(" REMOVE {}", remove.join(", ")));
    }
    expr.update = Some(update);
    expr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_to_enter_a_group_is_an_admin_or_a_teacher_in_it() {
        // Acting as an admin: still one.
        let admin = teacher_or_admin(true, Some("g1"), Some("c1"));
        assert_eq!(admin.condition.as_deref(), Some("admin = :true"));
        assert_eq!(admin.values.len(), 1);
        let teacher = teacher_or_admin(false, Some("g1"), None);
        assert_eq!(
            teacher.condition.as_deref(),
            Some("admin = :true OR (contains(role_names, :teacher) AND contains(teaching_group_ids, :in_group))")
        );
        assert_eq!(teacher.values[":in_group"], s("g1"));
        assert_eq!(teacher.values[":teacher"], s("teacher"));
        let both = teacher_or_admin(false, Some("g1"), Some("c1"));
        assert!(both.condition.as_deref().unwrap().ends_with("AND contains(teaching_course_ids, :taught))"));
        assert_eq!(both.values[":taught"], s("c1"));
        // Joined to an update's own condition, with the values of both.
        let update = mirror("group_ids", "ADD", "g1").when("attribute_exists(pk)");
        let joined = and(update, teacher);
        assert_eq!(
            joined.condition.as_deref(),
            Some("attribute_exists(pk) AND (admin = :true OR (contains(role_names, :teacher) AND contains(teaching_group_ids, :in_group)))")
        );
        assert!(joined.update.is_some());
        for v in [":v", ":one", ":true", ":teacher", ":in_group"] {
            assert!(joined.values.contains_key(v), "{v}");
        }
    }

    #[test]
    fn each_entry_puts_people_in_its_own_kind_of_place() {
        assert_eq!(Entry::Enrol.kind(), PlaceKind::Course);
        let invitation = crate::domain::InvitationId::new();
        let groups = [
            Entry::ByMember(None),
            Entry::FromCourse("c1"),
            Entry::Teaching("c1"),
            Entry::Invited(&invitation, GroupRole::Student),
        ];
        for e in groups {
            assert_eq!(e.kind(), PlaceKind::Group);
        }
        assert!(actor_condition(Entry::Enrol, false, "c1").is_none());
        assert!(actor_condition(Entry::Invited(&invitation, GroupRole::Student), false, "g1").is_none());
        // A course's teachers go in by the link and the course, nobody's say-so.
        assert!(actor_condition(Entry::Teaching("c1"), false, "g1").is_none());
        let from_course = actor_condition(Entry::FromCourse("c1"), false, "g1").unwrap();
        assert!(!from_course.values.contains_key(":in_group"), "a new group has no one in it yet");
        assert_eq!(from_course.values[":taught"], s("c1"));
    }

    #[test]
    fn each_entry_gives_its_people_a_role_in_the_group() {
        use crate::domain::{MembershipSource, RoleGrant};
        let org = OrgId::generate();
        let user = UserId::parse("c5a7e930-2d4b-4e1f-8a6c-9b3d7f0e1a25").unwrap();
        let grant = |role| RoleGrant { role, position: None, specialization: None, class_ids: Vec::new() };
        let teacher =
            Membership::new(&org, &user, "T", None, vec![grant(Role::Teacher)], false, MembershipSource::Manual);
        let student =
            Membership::new(&org, &user, "S", None, vec![grant(Role::Student)], false, MembershipSource::Manual);
        assert_eq!(Entry::Enrol.role_of(&teacher), None);
        assert_eq!(Entry::ByMember(None).role_of(&teacher), Some(GroupRole::Teacher));
        assert_eq!(Entry::ByMember(None).role_of(&student), Some(GroupRole::Student));
        assert_eq!(Entry::ByMember(Some(GroupRole::Student)).role_of(&teacher), Some(GroupRole::Student));
        assert_eq!(Entry::FromCourse("c1").role_of(&teacher), Some(GroupRole::Student));
        assert_eq!(Entry::Teaching("c1").role_of(&teacher), Some(GroupRole::Teacher));
        // A teacher's mirror is in both sets; leaving takes both.
        let add = group_mirror("ADD", "g1", Some(GroupRole::Teacher));
        assert!(add.update.as_deref().unwrap().contains("teaching_group_ids :v"));
        assert!(!group_mirror("ADD", "g1", Some(GroupRole::Student)).update.unwrap().contains("teaching"));
        assert!(group_mirror("DELETE", "g1", None).update.unwrap().contains("teaching_group_ids :v"));
    }
}
