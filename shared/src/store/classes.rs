//! Classes per academic year, with rosters of their students, parents and subject
//! teachers (maps of user IDs), kept in the same transactions as the memberships.

use std::collections::BTreeSet;

use super::items::{class_item, class_key, class_name_item, class_name_key, member_item, member_key, to_value};
use super::keys::*;
use super::pieces::{add_audit, as_actor_of, class_changes, count_class, roster_update, unchanged_member};
use super::read::KeyQuery;
use aws_sdk_dynamodb::types::AttributeValue;

use super::tx::{b, key, n, s, Expr, Tx};
use super::{Store, StoreError};
use crate::domain::{AcademicYear, AuditEntry, Class, ClassId, Membership, OrgId, Role, Roster, Timestamp, UserId};
use crate::page::{Cursor, PageQuery};

/// Checks that each newly listed class teacher is a member holding the teacher role
/// (those listed before stay listed even if they since left: editing the class must not
/// fail for them).
fn check_teachers(
    tx: &mut Tx,
    c: &Class,
    before: &[String],
    meanings: &mut Vec<(usize, ClassError)>,
) -> Result<(), StoreError> {
    for t in c.class_teacher_ids.iter().filter(|t| !before.contains(t)) {
        let Some(user) = UserId::parse(t) else {
            continue;
        };
        let cond = Expr::condition("contains(role_names, :teacher)").value(":teacher", s("teacher"));
        meanings.push((tx.check(member_key(&c.org_id, &user), cond)?, ClassError::NotATeacher(t.clone())));
    }
    Ok(())
}

#[derive(Debug)]
pub enum ClassError {
    /// A class of that name already exists in that year.
    NameTaken,
    NotATeacher(String),
    /// Changed since read.
    Changed,
    Store(StoreError),
}

impl From<StoreError> for ClassError {
    fn from(e: StoreError) -> Self {
        ClassError::Store(e)
    }
}

/// The record of a year's rollovers: the classes they set out to move.
#[derive(Debug, Default, serde::Deserialize)]
struct RolloverRecord {
    #[serde(default)]
    version: i64,
    #[serde(default)]
    classes: BTreeSet<String>,
}

/// What promoting did.
#[derive(Debug)]
pub enum Promotion {
    /// A new class was made now.
    Created(Class),
    /// It had been promoted before (possibly left half-way, now finished).
    Existing(Class),
}

impl Store {
    pub async fn class(&self, org: &OrgId, id: &ClassId) -> Result<Option<Class>, StoreError> {
        self.get(class_key(org, id)).await
    }

    /// The class of an ID kept as text (a journal class's link): `None` when the text
    /// cannot be a class's ID.
    pub async fn class_by_text(&self, org: &OrgId, raw: &str) -> Result<Option<Class>, StoreError> {
        match ClassId::parse(raw) {
            Some(id) => self.class(org, &id).await,
            None => Ok(None),
        }
    }

    /// A page of a year's classes in list order (by grade and letter, then by name);
    /// graduated ones only with `include_graduated`.
    pub async fn classes_of_year(
        &self,
        org: &OrgId,
        year: &AcademicYear,
        include_graduated: bool,
        page: &PageQuery,
    ) -> Result<(Vec<Class>, Option<Cursor>), StoreError> {
        let mut q = KeyQuery::index(GSI1, classes_of_year_pk(org, &year.to_string()));
        if !include_graduated {
            q = q.filter(Expr::condition("graduated = :false").value(":false", b(false)));
        }
        self.query_page(&q, page).await
    }

    /// Every class of a year, in list order (a year has a few hundred at most).
    pub async fn all_classes_of_year(&self, org: &OrgId, year: &AcademicYear) -> Result<Vec<Class>, StoreError> {
        self.query_all(&KeyQuery::index(GSI1, classes_of_year_pk(org, &year.to_string()))).await
    }

    pub async fn classes_by_id(&self, org: &OrgId, ids: &BTreeSet<ClassId>) -> Result<Vec<Class>, StoreError> {
        self.batch_get_as(ids.iter().map(|id| class_key(org, id)).collect()).await
    }

    pub async fn create_class(&self, c: &Class, audit: &AuditEntry) -> Result<(), ClassError> {
        let mut tx = Tx::new(&self.table);
        tx.put(class_item(c)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
        let mut meanings = vec![(
            tx.put(class_name_item(c), Some(Expr::condition("attribute_not_exists(pk)")))?,
            ClassError::NameTaken,
        )];
        count_class(&mut tx, &c.org_id, 1)?;
        check_teachers(&mut tx, c, &[], &mut meanings)?;
        add_audit(&mut tx, audit)?;
        tx.run_expecting(self, meanings).await
    }

    /// Renames a class or changes its class teachers, conditional on the version read.
    pub async fn update_class(&self, old: &Class, new: &Class, audit: &AuditEntry) -> Result<(), ClassError> {
        let mut tx = Tx::new(&self.table);
        let (changed, guard) = class_changes(&mut tx, old, new)?;
        let mut meanings = vec![(changed, ClassError::Changed)];
        if let Some(guard) = guard {
            meanings.push((guard, ClassError::NameTaken));
        }
        check_teachers(&mut tx, new, &old.class_teacher_ids, &mut meanings)?;
        add_audit(&mut tx, audit)?;
        tx.run_expecting(self, meanings).await
    }

    /// Records that a rollover of `year` began for the `planned` classes, with its audit
    /// entry, unless every one of them was planned by an earlier rollover of that year (a
    /// retry finishing one that was cut off): false then, and no second entry. Classes
    /// added to the year since make a new entry.
    pub async fn begin_rollover(
        &self,
        org: &OrgId,
        year: &AcademicYear,
        planned: &BTreeSet<ClassId>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let record = key(org_pk(org), format!("{ROLLOVER_PREFIX}{year}"));
        for _ in 0..3 {
            let before: Option<RolloverRecord> = self.get(record.clone()).await?;
            let (version, known) = before.map(|r| (r.version, r.classes)).unwrap_or_default();
            let new: Vec<String> = planned.iter().map(ClassId::to_string).filter(|id| !known.contains(id)).collect();
            if new.is_empty() {
                return Ok(false);
            }
            let mut tx = Tx::new(&self.table);
            tx.update(
                record.clone(),
                Expr::update("ADD classes :new SET version = :next, #by = :by, #at = :at")
                    .when("attribute_not_exists(pk) OR version = :read")
                    .name("#by", "by")
                    .name("#at", "at")
                    .value(":new", AttributeValue::Ss(new))
                    .value(":next", n(version + 1))
                    .value(":read", n(version))
                    .value(":by", s(&audit.actor_id))
                    .value(":at", s(audit.at.to_string())),
            )?;
            add_audit(&mut tx, audit)?;
            match tx.run(self).await {
                Ok(()) => return Ok(true),
                Err(e) if e.condition_failed_at(0) => continue, // another rollover at once: read again
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Other("the rollover record kept changing".into()))
    }

    /// Marks a class graduated; false when it already was.
    pub async fn graduate_class(&self, c: &Class, now: Timestamp, audit: &AuditEntry) -> Result<bool, StoreError> {
        let mut tx = Tx::new(&self.table);
        tx.update(
            class_key(&c.org_id, &c.id),
            Expr::update("SET graduated = :true, graduated_at = :now, version = version + :one, updated_at = :now")
                .when("attribute_exists(pk) AND graduated = :false")
                .value(":true", b(true))
                .value(":false", b(false))
                .value(":one", n(1))
                .value(":now", s(now.to_string())),
        )?;
        add_audit(&mut tx, audit)?;
        match tx.run(self).await {
            Ok(()) => Ok(true),
            Err(e) if e.condition_failed_at(0) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes a class. People stay: each member on its rosters first loses the class from
    /// their grants (a transaction per batch of members, each conditional on the member's
    /// version), then the class goes, conditional on its rosters being empty. Returns the
    /// members left without a class.
    pub async fn delete_class(&self, c: &Class, audit: &AuditEntry) -> Result<Vec<Membership>, ClassError> {
        let mut stranded = Vec::new();
        let mut class = c.clone();
        for _ in 0..5 {
            let people: Vec<UserId> = class
                .students
                .keys()
                .chain(class.parents.keys())
                .chain(class.teachers.keys())
                .filter_map(|u| UserId::parse(u))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            for chunk in people.chunks(40) {
                let keys = chunk.iter().map(|u| member_key(&class.org_id, u)).collect();
                for m in self.batch_get_as::<Membership>(keys).await? {
                    let changed = m.without_class(&class.id);
                    let mut tx = Tx::new(&self.table);
                    as_actor_of(&mut tx, audit);
                    tx.put(member_item(&changed)?, Some(unchanged_member(&m, audit)))?;
                    let rosters: Vec<Roster> =
                        Roster::ALL.into_iter().filter(|r| class.roster(*r).contains_key(m.user_id.as_str())).collect();
                    if !rosters.is_empty() {
                        roster_update(&mut tx, &class.org_id, &class.id, &m.user_id, &[], &rosters)?;
                    }
                    match tx.run(self).await {
                        Ok(()) => {
                            if changed.needs_class() && !m.needs_class() {
                                stranded.push(changed);
                            }
                        }
                        Err(e) if e.is_condition() => {} // changed meanwhile: the next round sees it
                        Err(e) => return Err(e.into()),
                    }
                }
                // Someone on the roster who is no longer a member: drop the stale entry.
            }
            let mut tx = Tx::new(&self.table);
            tx.delete(
                class_key(&class.org_id, &class.id),
                Some(Expr::condition("attribute_exists(pk) AND size(students) = :zero AND size(parents) = :zero AND size(teachers) = :zero").value(":zero", n(0))),
            )?;
            tx.delete(class_name_key(&class), None)?;
            count_class(&mut tx, &class.org_id, -1)?;
            add_audit(&mut tx, audit)?;
            match tx.run(self).await {
                Ok(()) => return Ok(stranded),
                Err(e) if e.condition_failed_at(0) => {
                    match self.class(&class.org_id, &class.id).await? {
                        Some(current) => {
                            // Rosters still list people: members that left keep no grant to
                            // clean, so clear those entries directly.
                            let keys = current.people_ids().iter().map(|u| member_key(&class.org_id, u)).collect();
                            let members: BTreeSet<String> = self
                                .batch_get_as::<Membership>(keys)
                                .await?
                                .into_iter()
                                .map(|m| m.user_id.to_string())
                                .collect();
                            for roster in Roster::ALL {
                                for u in current.roster(roster).keys().filter(|u| !members.contains(*u)) {
                                    let mut tx = Tx::new(&self.table);
                                    as_actor_of(&mut tx, audit);
                                    tx.update(
                                        class_key(&class.org_id, &class.id),
                                        Expr::update("REMOVE #r.#u")
                                            .when("attribute_exists(pk)")
                                            .name("#r", roster_attr(roster))
                                            .name("#u", u),
                                    )?;
                                    tx.run(self).await?;
                                }
                            }
                            class = current;
                        }
                        None => return Ok(stranded),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ClassError::Changed)
    }

    /// Promotes a class to the next academic year: a new class (`5А` -> `6А`) with the
    /// same students, parents and class teachers; the old one stays as history, marked
    /// `promoted_to`. Idempotent and resumable: a second call finishes moving whoever was
    /// not moved and returns the same class.
    pub async fn promote_class(&self, old: &Class, audit: &AuditEntry) -> Result<Promotion, ClassError> {
        let promotion = match &old.promoted_to {
            Some(id) => match self.class(&old.org_id, id).await? {
                Some(c) => Promotion::Existing(c),
                None => return Err(ClassError::Changed),
            },
            None => {
                let name = old.class_name().promoted().unwrap_or_else(|| old.class_name());
                let mut new =
                    Class::new(&old.org_id, &name, old.year.next(), old.source, old.class_teacher_ids.clone());
                new.promoted_from = Some(old.id.clone());
                new.students = old.students.clone();
                new.parents = old.parents.clone();
                let mut tx = Tx::new(&self.table);
                tx.put(class_item(&new)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
                let mut meanings = vec![(
                    tx.put(class_name_item(&new), Some(Expr::condition("attribute_not_exists(pk)")))?,
                    ClassError::NameTaken,
                )];
                meanings.push((
                    tx.update(
                        class_key(&old.org_id, &old.id),
                        Expr::update("SET promoted_to = :to, updated_at = :now")
                            .when("attribute_exists(pk) AND attribute_not_exists(promoted_to) AND graduated = :false")
                            .value(":to", s(new.id.as_str()))
                            .value(":now", s(new.created_at.to_string()))
                            .value(":false", b(false)),
                    )?,
                    ClassError::Changed,
                ));
                count_class(&mut tx, &old.org_id, 1)?;
                add_audit(&mut tx, audit)?;
                match tx.run_expecting(self, meanings).await {
                    Ok(()) => Promotion::Created(new),
                    // A promotion running at the same moment (a double click, a retry)
                    // won: answer with its class rather than a conflict.
                    Err(e) => match self.class(&old.org_id, &old.id).await? {
                        Some(current) if current.promoted_to.is_some() => {
                            return Box::pin(self.promote_class(&current, audit)).await
                        }
                        _ => return Err(e),
                    },
                }
            }
        };
        let new = match &promotion {
            Promotion::Created(c) | Promotion::Existing(c) => c.clone(),
        };
        self.move_class_places(old, &new, audit).await?;
        Ok(promotion)
    }

    /// Moves the students' and parents' grants from `old` to `new` (students keep `old` in
    /// their class history). Members already moved are left alone.
    async fn move_class_places(&self, old: &Class, new: &Class, audit: &AuditEntry) -> Result<(), ClassError> {
        let people: Vec<UserId> = old
            .students
            .keys()
            .chain(old.parents.keys())
            .filter_map(|u| UserId::parse(u))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for chunk in people.chunks(50) {
            let mut moved_all = false;
            for _ in 0..3 {
                let members: Vec<Membership> =
                    self.batch_get_as(chunk.iter().map(|u| member_key(&old.org_id, u)).collect()).await?;
                let mut tx = Tx::new(&self.table);
                as_actor_of(&mut tx, audit);
                for m in &members {
                    let mut moved = m.clone();
                    let mut touched = false;
                    for g in moved.roles.iter_mut().filter(|g| matches!(g.role, Role::Student | Role::Parent)) {
                        for id in g.class_ids.iter_mut().filter(|id| **id == old.id.as_str()) {
                            *id = new.id.to_string();
                            touched = true;
                        }
                    }
                    if !touched {
                        continue;
                    }
                    if m.has_role(Role::Student) && !moved.class_history.contains(&old.id) {
                        moved.class_history.push(old.id.clone());
                    }
                    moved.version = m.version + 1;
                    tx.put(member_item(&moved)?, Some(unchanged_member(m, audit)))?;
                }
                match tx.run(self).await {
                    Ok(()) => {
                        moved_all = true;
                        break;
                    }
                    Err(e) if e.is_condition() => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            // Members kept changing: say so (promoting again finishes the move).
            if !moved_all {
                return Err(ClassError::Changed);
            }
        }
        Ok(())
    }

    /// Takes one person off one class: their grants lose the class, the class's rosters
    /// and class teachers lose them.
    pub async fn remove_from_class(
        &self,
        c: &Class,
        m: &Membership,
        audit: &AuditEntry,
    ) -> Result<Membership, ClassError> {
        let changed = m.without_class(&c.id);
        let mut tx = Tx::new(&self.table);
        let mut meanings = vec![(
            tx.put(
                member_item(&changed)?,
                Some(Expr::condition("attribute_exists(pk) AND version = :read").value(":read", n(m.version))),
            )?,
            ClassError::Changed,
        )];
        let teachers: Vec<String> = c.class_teacher_ids.iter().filter(|t| *t != m.user_id.as_str()).cloned().collect();
        let expr = Expr::update(
            "REMOVE students.#u, parents.#u, teachers.#u SET class_teacher_ids = :teachers, version = version + :one",
        )
        .when("attribute_exists(pk) AND version = :cread")
        .name("#u", m.user_id.as_str())
        .value(":teachers", to_value(&teachers)?)
        .value(":one", n(1))
        .value(":cread", n(c.version));
        meanings.push((tx.update(class_key(&c.org_id, &c.id), expr)?, ClassError::Changed));
        add_audit(&mut tx, audit)?;
        tx.run_expecting(self, meanings).await?;
        Ok(changed)
    }
}
