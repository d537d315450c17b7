//! The places of people in groups and courses (one item a place, mirrored on the
//! person's membership), shared by the group and course modules: adding many people in
//! transactions of a bounded size (each person all or nothing, by a right checked in each
//! transaction), taking one out, clearing a deleted container's places, and the pieces of
//! update both containers' writes use.

use std::collections::HashMap;

use super::items::{
    container_key, course_key, invitation_key, member_key, one_of, place_count_attr, place_item, place_key,
    place_set_attr, role_name,
};
use super::keys::*;
use super::pieces::{add_audit, add_event};
use super::read::KeyQuery;
use super::tx::{b, n, s, Expr, Tx, MAX_ACTIONS};
use super::{Store, StoreError};
use crate::domain::{
    AuditEntry, CourseId, GroupId, GroupRole, InvitationId, Membership, OrgId, OutboxEvent, Place, PlaceIn, PlaceKind,
    Role, Timestamp, UserId,
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
    NotATeacher(UserId),
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
    FromCourse(&'a CourseId),
    /// A teacher of course `0` into a group linked to it, as its teacher: the group is
    /// still linked to the course and each person still teaches it. Whoever linked the
    /// group or named the teacher had the right; the link and the course are the right.
    Teaching(&'a CourseId),
    /// The person's own acceptance of an email invitation, which names the group: the
    /// invitation accepted, and nobody but the actor added; in the role the invitation
    /// offers.
    Invited { invitation: &'a InvitationId, role: GroupRole },
}

impl Entry<'_> {
    pub fn kind(&self) -> PlaceKind {
        match self {
            Entry::Enrol => PlaceKind::Course,
            Entry::ByMember(_) | Entry::FromCourse(_) | Entry::Teaching(_) | Entry::Invited { .. } => PlaceKind::Group,
        }
    }

    /// The role `m` takes in the group (none in a course).
    pub fn role_of(&self, m: &Membership) -> Option<GroupRole> {
        match self {
            Entry::Enrol => None,
            Entry::ByMember(role) => Some(role.unwrap_or_else(|| GroupRole::of(m))),
            Entry::FromCourse(_) => Some(GroupRole::Student),
            Entry::Teaching(_) => Some(GroupRole::Teacher),
            Entry::Invited { role, .. } => Some(*role),
        }
    }
}

/// The condition on the actor's membership that lets them act on a group as an admin or
/// as a teacher of group `group` (when given) who teaches course `course` (when given),
/// holding the teacher role. An actor acting as an admin must still be one.
pub fn teacher_or_admin(by_admin: bool, group: Option<&GroupId>, course: Option<&CourseId>) -> Expr {
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
fn actor_condition(entry: Entry<'_>, by_admin: bool, of: PlaceIn<'_>) -> Option<Expr> {
    match (entry, of) {
        (Entry::ByMember(_), PlaceIn::Group(group)) => Some(teacher_or_admin(by_admin, Some(group), None)),
        (Entry::ByMember(_), PlaceIn::Course(_)) => None,
        (Entry::FromCourse(course), _) => Some(teacher_or_admin(by_admin, None, Some(course))),
        // A course's teachers and admins enrol (the route checks; a journal import enrols
        // as the journal says), an invitee's right is the invitation, and a course's
        // teacher's the course.
        (Entry::Enrol | Entry::Invited { .. } | Entry::Teaching(_), _) => None,
    }
}

/// `expr` with `extra` (a condition and its values) joined to its condition by `AND`.
pub(super) fn and(mut expr: Expr, extra: Expr) -> Expr {
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

pub(super) fn teacher_condition() -> Expr {
    Expr::condition("attribute_exists(pk) AND contains(role_names, :teacher)").value(":teacher", s("teacher"))
}

/// The update of a membership's set of places: `ADD` or `DELETE` one value, the version
/// bumped so that a removal working from an earlier read sees the change.
pub(super) fn mirror(set_attr: &str, op: &str, value: impl AsRef<str>) -> Expr {
    Expr::update(format!("{op} #set :v SET version = version + :one"))
        .name("#set", set_attr)
        .value(":v", one_of(value))
        .value(":one", n(1))
}

/// The mirror of a place in a group on the membership: in `group_ids`, and for a teacher
/// also in `teaching_group_ids` (`op` `ADD` or `DELETE`; deleting takes both).
pub(super) fn group_mirror(op: &str, group: impl AsRef<str>, role: Option<GroupRole>) -> Expr {
    if op == "DELETE" || role == Some(GroupRole::Teacher) {
        Expr::update(format!("{op} group_ids :v, teaching_group_ids :v SET version = version + :one"))
            .value(":v", one_of(group))
            .value(":one", n(1))
    } else {
        mirror("group_ids", op, group)
    }
}

/// The condition on a person going into a group as a teacher: they hold the teacher role.
pub(super) fn holds_teacher_role() -> Expr {
    Expr::condition("contains(role_names, :teacher_role)").value(":teacher_role", s(role_name(Role::Teacher)))
}

/// Adds a group to a course's linked groups, within the limit.
pub(super) fn link_on_course(
    tx: &mut Tx,
    org: &OrgId,
    course: &CourseId,
    group: &GroupId,
) -> Result<usize, StoreError> {
    let expr = Expr::update("ADD linked_group_ids :g")
        .when("attribute_exists(pk) AND (attribute_not_exists(linked_group_ids) OR size(linked_group_ids) < :max)")
        .value(":g", one_of(group))
        .value(":max", n(crate::domain::groups::MAX_LINKED_GROUPS));
    tx.update(course_key(org, course), expr)
}

/// The update of a name, a description (absent: removed), the version and the time,
/// with further assignments (`sets`) and attributes to remove (`removes`).
pub(super) fn naming_update(
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

impl Store {
    /// A page of the places in a group or course, by user ID.
    pub async fn places_page(
        &self,
        org: &OrgId,
        place_in: PlaceIn<'_>,
        page: &PageQuery,
    ) -> Result<(Vec<Place>, Option<Cursor>), StoreError> {
        let (kind, of) = (place_in.kind(), place_in.id());
        self.query_page(&KeyQuery::table(org_pk(org)).prefix(places_prefix(kind, of)), page).await
    }

    /// Every place in a group or course (the students of a course at this moment).
    pub async fn all_places(&self, org: &OrgId, place_in: PlaceIn<'_>) -> Result<Vec<Place>, StoreError> {
        let (kind, of) = (place_in.kind(), place_in.id());
        self.query_all(&KeyQuery::table(org_pk(org)).prefix(places_prefix(kind, of))).await
    }

    /// The places these people have in a group or course.
    pub async fn places_of(
        &self,
        org: &OrgId,
        place_in: PlaceIn<'_>,
        users: &[UserId],
    ) -> Result<Vec<Place>, StoreError> {
        let (kind, of) = (place_in.kind(), place_in.id());
        self.batch_get_as(users.iter().map(|u| place_key(kind, org, of, u)).collect()).await
    }

    /// Takes the places of a deleted group or course off its people's memberships and
    /// deletes them. Each step stands alone: one interrupted leaves only places of
    /// something that no longer exists, which nothing reads.
    pub(super) async fn clear_places(&self, org: &OrgId, place_in: PlaceIn<'_>) -> Result<(), StoreError> {
        let (kind, of) = (place_in.kind(), place_in.id());
        use futures::stream::{self, StreamExt, TryStreamExt};
        let places = self.all_places(org, place_in).await?;
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
        place_in: PlaceIn<'_>,
        people: &[Membership],
        by: &UserId,
        record: &AddRecord<'_>,
    ) -> Result<Vec<(UserId, Added)>, GroupError> {
        if let Entry::Invited { .. } = entry {
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
                match self.add_batch(entry, org, place_in, &todo, by, record).await? {
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
        place_in: PlaceIn<'_>,
        people: &[&Membership],
        by: &UserId,
        record: &AddRecord<'_>,
    ) -> Result<Option<HashMap<UserId, Added>>, GroupError> {
        let of = place_in.id();
        let kind = entry.kind();
        let now = Timestamp::now();
        let users: Vec<UserId> = people.iter().map(|m| m.user_id.clone()).collect();
        let audit = (record.audit)(&users);
        let mut actor = actor_condition(entry, audit.by_admin, place_in);
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
                Entry::ByMember(_) | Entry::Invited { .. } => {}
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
        if let Entry::Invited { invitation, .. } = entry {
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
                    Entry::ByMember(_) | Entry::Invited { .. } => {
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
        org: &OrgId,
        place_in: PlaceIn<'_>,
        user: &UserId,
        audit: &AuditEntry,
    ) -> Result<(), GroupError> {
        let (kind, of) = (place_in.kind(), place_in.id());
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
            let PlaceIn::Group(group) = place_in else {
                return Err(GroupError::NotAllowed);
            };
            right = Some(tx.check(member_key(org, actor), teacher_or_admin(false, Some(group), None))?);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_to_enter_a_group_is_an_admin_or_a_teacher_in_it() {
        let (g1, c1) = (GroupId::new(), CourseId::new());
        // Acting as an admin: still one.
        let admin = teacher_or_admin(true, Some(&g1), Some(&c1));
        assert_eq!(admin.condition.as_deref(), Some("admin = :true"));
        assert_eq!(admin.values.len(), 1);
        let teacher = teacher_or_admin(false, Some(&g1), None);
        assert_eq!(
            teacher.condition.as_deref(),
            Some("admin = :true OR (contains(role_names, :teacher) AND contains(teaching_group_ids, :in_group))")
        );
        assert_eq!(teacher.values[":in_group"], s(&g1));
        assert_eq!(teacher.values[":teacher"], s("teacher"));
        let both = teacher_or_admin(false, Some(&g1), Some(&c1));
        assert!(both.condition.as_deref().unwrap().ends_with("AND contains(teaching_course_ids, :taught))"));
        assert_eq!(both.values[":taught"], s(&c1));
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
        let (g1, c1, i1) = (GroupId::new(), CourseId::new(), InvitationId::new());
        assert_eq!(Entry::Enrol.kind(), PlaceKind::Course);
        let groups = [
            Entry::ByMember(None),
            Entry::FromCourse(&c1),
            Entry::Teaching(&c1),
            Entry::Invited { invitation: &i1, role: GroupRole::Student },
        ];
        for e in groups {
            assert_eq!(e.kind(), PlaceKind::Group);
        }
        assert!(actor_condition(Entry::Enrol, false, PlaceIn::Course(&c1)).is_none());
        assert!(actor_condition(
            Entry::Invited { invitation: &i1, role: GroupRole::Student },
            false,
            PlaceIn::Group(&g1)
        )
        .is_none());
        // A course's teachers go in by the link and the course, nobody's say-so.
        assert!(actor_condition(Entry::Teaching(&c1), false, PlaceIn::Group(&g1)).is_none());
        let from_course = actor_condition(Entry::FromCourse(&c1), false, PlaceIn::Group(&g1)).unwrap();
        assert!(!from_course.values.contains_key(":in_group"), "a new group has no one in it yet");
        assert_eq!(from_course.values[":taught"], s(&c1));
    }

    #[test]
    fn each_entry_gives_its_people_a_role_in_the_group() {
        let c1 = CourseId::new();
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
        assert_eq!(Entry::FromCourse(&c1).role_of(&teacher), Some(GroupRole::Student));
        assert_eq!(Entry::Teaching(&c1).role_of(&teacher), Some(GroupRole::Teacher));
        // A teacher's mirror is in both sets; leaving takes both.
        let add = group_mirror("ADD", "g1", Some(GroupRole::Teacher));
        assert!(add.update.as_deref().unwrap().contains("teaching_group_ids :v"));
        assert!(!group_mirror("ADD", "g1", Some(GroupRole::Student)).update.unwrap().contains("teaching"));
        assert!(group_mirror("DELETE", "g1", None).update.unwrap().contains("teaching_group_ids :v"));
    }
}
