//! Groups: their items, and the roles and mail settings of the people in them (their
//! places are `places`'s).

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{course_key, group_item, group_key, member_key, one_of, place_key};
use super::keys::*;
use super::pieces::{add_audit, count_org};
use super::places::{and, holds_teacher_role, link_on_course, mirror, naming_update};
/// How people go into groups, and why a change to a group or course was refused.
pub use super::places::{teacher_or_admin, AddRecord, Added, Entry, GroupError, ADD_BATCH};
use super::read::KeyQuery;
use super::tx::{n, s, Expr, Tx};
use super::{Store, StoreError};
use crate::domain::{AuditEntry, CourseId, Group, GroupId, GroupRole, OrgId, Place, PlaceIn, PlaceKind, UserId};
use crate::page::{Cursor, PageQuery};

impl Store {
    pub async fn group(&self, org: &OrgId, id: &GroupId) -> Result<Option<Group>, StoreError> {
        self.get(group_key(org, id)).await
    }

    /// Groups by ID (missing ones left out).
    pub async fn groups_by_id(&self, org: &OrgId, ids: &[GroupId]) -> Result<Vec<Group>, StoreError> {
        self.batch_get_as(ids.iter().map(|id| group_key(org, id)).collect()).await
    }

    /// Which of these groups and courses exist (one round trip, none for no IDs).
    pub async fn existing(
        &self,
        org: &OrgId,
        groups: &[GroupId],
        courses: &[CourseId],
    ) -> Result<(BTreeSet<GroupId>, BTreeSet<CourseId>), StoreError> {
        let mut keys: Vec<_> = groups.iter().map(|g| group_key(org, g)).collect();
        keys.extend(courses.iter().map(|c| course_key(org, c)));
        let (mut found_groups, mut found_courses) = (BTreeSet::new(), BTreeSet::new());
        if keys.is_empty() {
            return Ok((found_groups, found_courses));
        }
        for item in self.batch_get(keys).await? {
            let sk = item.get(SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            if let Some(id) = sk.strip_prefix(GROUP_PREFIX).and_then(GroupId::parse) {
                found_groups.insert(id);
            } else if let Some(id) = sk.strip_prefix(COURSE_PREFIX).and_then(CourseId::parse) {
                found_courses.insert(id);
            }
        }
        Ok((found_groups, found_courses))
    }

    /// A page of the organization's groups, oldest first.
    pub async fn groups_page(&self, org: &OrgId, page: &PageQuery) -> Result<(Vec<Group>, Option<Cursor>), StoreError> {
        self.query_page(&KeyQuery::table(org_pk(org)).prefix(GROUP_PREFIX), page).await
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
        self.clear_places(&g.org_id, PlaceIn::Group(&g.id)).await?;
        Ok(())
    }

    /// Makes a person of a group its teacher or a student (`NoPlace` when they are not in
    /// it), by an admin (the audit entry's check) or a teacher of the group (not about
    /// themself); a teacher holds the teacher role (`NotAGroupTeacher`). The place as it
    /// now is.
    pub async fn set_group_role(
        &self,
        org: &OrgId,
        group: &GroupId,
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
        let placed = tx.update(place_key(PlaceKind::Group, org, group.as_str(), user), expr)?;
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

    /// Turns a group member's announcement emails off (`muted`) or on again; the place as
    /// it now is, or `None` when they have no place in the group.
    pub async fn set_muted(
        &self,
        org: &OrgId,
        group: &GroupId,
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
            .set_key(Some(place_key(PlaceKind::Group, org, group.as_str(), user)))
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
}
