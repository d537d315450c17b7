//! Courses: their items, their teachers (mirrored on the teachers' memberships), and the
//! groups linked to them, which a course's teachers teach.

use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{course_item, course_key, group_key, member_key, one_of, place_key};
use super::keys::*;
use super::pieces::{add_audit, count_org};
use super::places::{
    and, holds_teacher_role, link_on_course, mirror, naming_update, teacher_condition, teacher_or_admin, AddRecord,
    Added, Entry, GroupError,
};
use super::read::KeyQuery;
use super::tx::{n, s, Expr, Tx};
use super::{Store, StoreError};
use crate::domain::{
    AuditEntry, Course, CourseId, Group, GroupId, GroupRole, Membership, OrgId, PlaceIn, PlaceKind, Timestamp, UserId,
};
use crate::page::{Cursor, PageQuery};

/// A teacher starts (`true`, needing the teacher role) or stops teaching a course, on
/// their membership.
fn teach(tx: &mut Tx, org: &OrgId, course: &CourseId, teacher: &UserId, starts: bool) -> Result<usize, StoreError> {
    let expr = if starts {
        let cond = teacher_condition();
        let mut e = mirror("teaching_course_ids", "ADD", course);
        e.condition = cond.condition;
        e.values.extend(cond.values);
        e
    } else {
        mirror("teaching_course_ids", "DELETE", course).when("attribute_exists(pk)")
    };
    tx.update(member_key(org, teacher), expr)
}

impl Store {
    pub async fn course(&self, org: &OrgId, id: &CourseId) -> Result<Option<Course>, StoreError> {
        self.get(course_key(org, id)).await
    }

    pub async fn courses_by_id(&self, org: &OrgId, ids: &[CourseId]) -> Result<Vec<Course>, StoreError> {
        self.batch_get_as(ids.iter().map(|id| course_key(org, id)).collect()).await
    }

    /// A page of the organization's courses, oldest first.
    pub async fn courses_page(
        &self,
        org: &OrgId,
        page: &PageQuery,
    ) -> Result<(Vec<Course>, Option<Cursor>), StoreError> {
        self.query_page(&KeyQuery::table(org_pk(org)).prefix(COURSE_PREFIX), page).await
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
        let added: Vec<&UserId> = new.teacher_ids.iter().filter(|t| !old.teacher_ids.contains(t)).collect();
        let removed: Vec<&UserId> = old.teacher_ids.iter().filter(|t| !new.teacher_ids.contains(t)).collect();
        let (sets, removes): (&[&str], &[&str]) =
            if new.teacher_ids.is_empty() { (&[], &["teacher_ids"]) } else { (&["teacher_ids = :teachers"], &[]) };
        let mut expr = naming_update(&new.name, new.description.as_deref(), new.version, new.updated_at, sets, removes)
            .when("attribute_exists(pk) AND version = :read")
            .value(":read", n(old.version));
        if !new.teacher_ids.is_empty() {
            expr = expr.value(":teachers", AttributeValue::Ss(new.teacher_ids.iter().map(|t| t.to_string()).collect()));
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
        self.clear_places(&c.org_id, PlaceIn::Course(&c.id)).await?;
        Ok(())
    }

    /// Course `course`'s teachers (memberships read) into group `group` linked to it, as
    /// its teachers: those not in it are added ([`Entry::Teaching`]), those in it as
    /// students become its teachers. Each still teaching the course and holding the
    /// teacher role, the group still linked (others are left as they are).
    pub async fn seat_teachers(
        &self,
        org: &OrgId,
        course: &CourseId,
        group: &GroupId,
        teachers: &[Membership],
        by: &UserId,
        record: &AddRecord<'_>,
    ) -> Result<Vec<(UserId, Added)>, GroupError> {
        let added = self.add_places(Entry::Teaching(course), org, PlaceIn::Group(group), teachers, by, record).await?;
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
    async fn promote(&self, org: &OrgId, course: &CourseId, group: &GroupId, user: &UserId) -> Result<(), StoreError> {
        let mut tx = Tx::new(&self.table);
        let expr = Expr::update("SET #role = :role")
            .when("attribute_exists(pk)")
            .name("#role", "role")
            .value(":role", s(GroupRole::Teacher.name()));
        tx.update(place_key(PlaceKind::Group, org, group.as_str(), user), expr)?;
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
    pub async fn unlink_group(&self, course: &Course, group: &GroupId, audit: &AuditEntry) -> Result<(), GroupError> {
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
