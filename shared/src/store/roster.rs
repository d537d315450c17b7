//! Roster records of a school's journal: its people (`ROSTER#<sourcedId>`, waiting for
//! their kabinet user or linked to them), which class each journal class became
//! (`ROSTERCLASS#<sourcedId>`) and its enrollments (`ROSTERENROL#<sourcedId>`).
//!
//! An import writes each row as one write or one transaction, so a row applies whole or
//! not at all. Each record keeps a digest of the row it came from (`fp`: the same row
//! again changes nothing), the run of an import that last read its row (`seen`: a second
//! row with the same sourcedId in one run is refused). A person whose record an import
//! changed is marked (`ROSTERDIRTY#<import>#<sourcedId>`, in the same transaction) until
//! the import has brought their membership in step: settling reads only the marks.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{class_item, class_name_item, course_item, course_key, from_item, to_value};
use super::keys::*;
use super::pieces::{
    add_audit, add_event, class_changes, count_class, count_invitation_email, count_org, count_waiting,
    end_or_check_pending, link_record, mark_waiting_employee, move_counts, name_record, put_new_member, waiting_counts,
    waits_as_employee, Counts, NewMemberFailure,
};
use super::read::KeyQuery;
use super::tx::{key, s, Expr, Item, RowTx, Tx};
use super::{classify, Store, StoreError};
use crate::domain::imports::RosterPlace;
use crate::domain::{
    AuditEntry, Class, Course, JoinRequest, Membership, OrgId, OutboxEvent, RosterPerson, Timestamp, UserId,
};
use crate::domain::{ImportId, InvitationId, SourcedId};
use crate::page::{Cursor, PageQuery};

/// What sending a roster invitation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterInvite {
    Sent,
    /// Nothing to send: the person joined, was invited lately, or the record has no
    /// email (or is gone).
    NotSent,
    /// The organization's daily mail budget is spent.
    DailyLimit,
}

/// Why a row's write did not go through.
#[derive(Debug)]
pub enum RowWriteError {
    /// Another row of this run has the same sourcedId.
    Duplicate,
    /// A class of that name already exists in that year.
    NameTaken,
    /// The enrollment's person is not in the roster.
    UnknownPerson,
    /// The class changed meanwhile (an admin edited it): the row is tried again.
    Changed,
    Store(StoreError),
}

impl From<StoreError> for RowWriteError {
    fn from(e: StoreError) -> Self {
        RowWriteError::Store(e)
    }
}

/// Why joining as a record was refused.
#[derive(Debug)]
pub enum RecordJoinError {
    AlreadyMember,
    /// A class of the grants does not exist or has graduated.
    ClassUnavailable(String),
    /// Someone joined as the record meanwhile, or it no longer offers to the email or
    /// gives the role read.
    RecordTaken,
    /// The person has a pending join request (or it changed): read it and pass it along.
    HasPendingRequest,
    Store(StoreError),
}

impl From<StoreError> for RecordJoinError {
    fn from(e: StoreError) -> Self {
        RecordJoinError::Store(e)
    }
}

impl From<NewMemberFailure> for RecordJoinError {
    fn from(f: NewMemberFailure) -> Self {
        match f {
            NewMemberFailure::AlreadyMember => RecordJoinError::AlreadyMember,
            NewMemberFailure::ClassUnavailable(c) => RecordJoinError::ClassUnavailable(c),
        }
    }
}

/// Where a page of the employees' statistics starts: among the members (after their
/// cursor), or among the waiting employees (after theirs, or at the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmployeesFrom {
    Members(Option<Cursor>),
    Waiting(Option<Cursor>),
}

impl EmployeesFrom {
    /// Where a cursor of the employees' list of `org` points.
    pub fn of(org: &OrgId, cursor: Option<Cursor>) -> Result<Self, StoreError> {
        let Some(c) = cursor else { return Ok(EmployeesFrom::Members(None)) };
        match c.0.get(SK).map(String::as_str) {
            Some(ROSTERWAIT_PREFIX) if c.0.get(PK) == Some(&org_pk(org)) && c.0.len() == 2 => {
                Ok(EmployeesFrom::Waiting(None))
            }
            Some(ROSTERWAIT_PREFIX) => Err(StoreError::InvalidCursor),
            Some(sk) if sk.starts_with(ROSTERWAIT_PREFIX) => Ok(EmployeesFrom::Waiting(Some(c))),
            _ => Ok(EmployeesFrom::Members(Some(c))),
        }
    }

    /// The cursor of the first waiting employee of `org` (for a page the members filled
    /// to the end).
    pub fn first_waiting(org: &OrgId) -> Cursor {
        Cursor([(PK.to_string(), org_pk(org)), (SK.to_string(), ROSTERWAIT_PREFIX.to_string())].into())
    }
}

/// A record as stored, with what the import keeps on it.
#[derive(Debug, Clone)]
pub struct Stored<T> {
    pub record: T,
    pub fp: Option<String>,
    pub seen: Option<String>,
}

/// Which class a journal class became.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ClassLink {
    pub sourced_id: SourcedId,
    /// Empty for a scheduled class (a subject's lessons), which becomes a course.
    pub class_id: String,
    pub year: crate::domain::AcademicYear,
    #[serde(default)]
    pub scheduled: bool,
    /// The course a scheduled class became.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_id: Option<String>,
}

/// A journal enrollment: whose place in which class.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct EnrollmentRecord {
    pub sourced_id: SourcedId,
    pub user_sourced_id: SourcedId,
    pub class_sourced_id: SourcedId,
}

fn attr(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn stored<T: serde::de::DeserializeOwned>(item: Item) -> Result<(String, Stored<T>), StoreError> {
    let sk = attr(&item, SK).unwrap_or_default();
    let (fp, seen) = (attr(&item, FINGERPRINT), attr(&item, SEEN));
    Ok((sk, Stored { record: from_item(item)?, fp, seen }))
}

fn person_key(org: &OrgId, sourced_id: &SourcedId) -> Item {
    key(org_pk(org), roster_sk(sourced_id))
}

fn class_link_key(org: &OrgId, sourced_id: &SourcedId) -> Item {
    key(org_pk(org), roster_class_sk(sourced_id))
}

fn enrollment_key(org: &OrgId, sourced_id: &SourcedId) -> Item {
    key(org_pk(org), roster_enrollment_sk(sourced_id))
}

/// The condition of a row's write: no other row of this run wrote the record.
fn first_in_run(seen: &str) -> Expr {
    Expr::condition("attribute_not_exists(#seen) OR #seen <> :seen").name("#seen", SEEN).value(":seen", s(seen))
}

/// An item of the import's own (class link, enrollment) with its digest and run.
fn tracked<T: serde::Serialize>(record: &T, key: Item, fp: &str, seen: &str) -> Result<Item, StoreError> {
    let mut item = super::items::to_item(record)?;
    item.extend(key);
    item.insert(FINGERPRINT.into(), s(fp));
    item.insert(SEEN.into(), s(seen));
    Ok(item)
}

/// An item that names a person by sourcedId: whom an import has yet to settle
/// (`ROSTERDIRTY#<import>#<sourcedId>`), a waiting employee (`ROSTERWAIT#<sourcedId>`).
#[derive(Debug, serde::Deserialize)]
struct Mark {
    sourced_id: SourcedId,
}

/// Marks a person for the import's settling (their membership meets their record once
/// the files are read); the mark goes when settled, or expires.
fn mark_dirty(tx: &mut Tx, org: &OrgId, dirty: &ImportId, sourced_id: &SourcedId) -> Result<usize, StoreError> {
    let mut item = key(org_pk(org), roster_dirty_sk(dirty, sourced_id));
    item.insert("sourced_id".into(), s(sourced_id.as_str()));
    item.insert(TTL.into(), super::tx::n(Timestamp::now().plus(time::Duration::days(7)).unix()));
    tx.put(item, None)
}

/// The stored records of `keys`, by sort key.
async fn by_sk<T: serde::de::DeserializeOwned>(
    store: &Store,
    keys: Vec<Item>,
) -> Result<HashMap<String, Stored<T>>, StoreError> {
    store.batch_get(keys).await?.into_iter().map(stored).collect()
}

impl Store {
    /// The roster people of these sourcedIds that exist, by sourcedId.
    pub async fn roster_people(
        &self,
        org: &OrgId,
        ids: &[SourcedId],
    ) -> Result<HashMap<SourcedId, Stored<RosterPerson>>, StoreError> {
        let found = by_sk(self, ids.iter().map(|id| person_key(org, id)).collect()).await?;
        Ok(found
            .into_iter()
            .filter_map(|(sk, p)| Some((SourcedId::parse(sk.strip_prefix(ROSTER_PREFIX)?)?, p)))
            .collect())
    }

    pub async fn roster_person(&self, org: &OrgId, sourced_id: &SourcedId) -> Result<Option<RosterPerson>, StoreError> {
        self.get(person_key(org, sourced_id)).await
    }

    /// Which classes these journal classes became, by sourcedId.
    pub async fn class_links(
        &self,
        org: &OrgId,
        ids: &[SourcedId],
    ) -> Result<HashMap<SourcedId, Stored<ClassLink>>, StoreError> {
        let found = by_sk(self, ids.iter().map(|id| class_link_key(org, id)).collect()).await?;
        Ok(found
            .into_iter()
            .filter_map(|(sk, c)| Some((SourcedId::parse(sk.strip_prefix(ROSTERCLASS_PREFIX)?)?, c)))
            .collect())
    }

    pub async fn roster_enrollments(
        &self,
        org: &OrgId,
        ids: &[SourcedId],
    ) -> Result<HashMap<SourcedId, Stored<EnrollmentRecord>>, StoreError> {
        let found = by_sk(self, ids.iter().map(|id| enrollment_key(org, id)).collect()).await?;
        Ok(found
            .into_iter()
            .filter_map(|(sk, e)| Some((SourcedId::parse(sk.strip_prefix(ROSTERENROL_PREFIX)?)?, e)))
            .collect())
    }

    /// Writes a person's row (what the journal says of them; their places and link stay
    /// as they are, and their invitation unless `email_changed`) and marks them for the
    /// import `dirty`'s settling. `before` is the record as read: a new record counts among
    /// the waiting (a teacher or staff member is listed among the waiting employees), a
    /// waiting one whose role changes moves, in the same transaction, on the condition that
    /// it is as read (`Changed` when not: read it again and retry).
    pub async fn put_roster_person(
        &self,
        p: &RosterPerson,
        before: Option<&RosterPerson>,
        fp: &str,
        seen: &str,
        dirty: &ImportId,
        email_changed: bool,
    ) -> Result<(), RowWriteError> {
        let tx = self.roster_person_row(p, before, fp, seen, dirty, email_changed)?.alone()?;
        match tx.run(self).await {
            Ok(()) => Ok(()),
            Err(e) if e.condition_failed_at(0) => Err(self.why_not_written(&p.org_id, &p.sourced_id, seen).await?),
            Err(e) => Err(e.into()),
        }
    }

    /// The write of [`Store::put_roster_person`], to run alone or with other rows
    /// ([`Store::write_rows`]); its first action is the record's.
    pub fn roster_person_row(
        &self,
        p: &RosterPerson,
        before: Option<&RosterPerson>,
        fp: &str,
        seen: &str,
        dirty: &ImportId,
        email_changed: bool,
    ) -> Result<RowTx, StoreError> {
        let mut set = vec![
            "org_id = :org",
            "sourced_id = :sid",
            "#role = :role",
            "roster_role = :rr",
            "#name = :name",
            "agent_ids = :agents",
            "#language = :language",
            "places = if_not_exists(places, :empty)",
            "created_at = if_not_exists(created_at, :now)",
            "updated_at = :now",
            "#fp = :fp",
            "#seen = :seen",
        ];
        let mut remove = vec![];
        let mut expr = first_in_run(seen)
            .name("#role", "role")
            .name("#name", "name")
            .name("#fp", FINGERPRINT)
            .value(":org", s(p.org_id.as_str()))
            .value(":sid", s(p.sourced_id.as_str()))
            .value(":role", to_value(&p.role)?)
            .value(":rr", s(&p.roster_role))
            .value(":name", s(&p.name))
            .value(":agents", to_value(&p.agent_ids)?)
            .name("#language", "language")
            .value(":language", to_value(&p.language)?)
            .value(":empty", AttributeValue::M(HashMap::new()))
            .value(":now", s(p.updated_at.to_string()))
            .value(":fp", s(fp));
        // The record is an offer of membership to its email's owner: it sits on gsi2 among
        // the email invitations to that address (`INVITEMAIL#<email>`, `INVITE#<offer>`),
        // so that person's invitations list it. The offer keeps its ID (the caller passes
        // the stored one); a record without an email leaves the index.
        let offer = p.offer_id.clone().unwrap_or_else(InvitationId::new);
        set.extend(["offer_id = :offer", "#g2sk = :g2sk"]);
        expr = expr.value(":offer", s(offer.as_str())).value(":g2sk", s(invitation_sk(&offer)));
        if email_changed {
            // Another address: its owner has been sent nothing yet.
            remove.extend(["invited_at", "invite_count"]);
        }
        match &p.email {
            Some(email) => {
                set.extend(["email = :email", "#g2pk = :g2pk"]);
                expr = expr.value(":email", s(email)).value(":g2pk", s(invitation_email_pk(email)));
            }
            None => remove.extend(["email", "#g2pk"]),
        }
        if let (Some(by), Some(name)) = (&p.offered_by, &p.offered_by_name) {
            set.extend(["offered_by = :by", "offered_by_name = :byname"]);
            expr = expr.value(":by", s(by.as_str())).value(":byname", s(name));
        }
        match &p.identifier {
            Some(ident) => {
                set.extend(["identifier = :ident", "#g1pk = :g1pk", "#g1sk = :g1sk"]);
                expr = expr
                    .value(":ident", s(ident))
                    .value(":g1pk", s(roster_identifier_pk(&p.org_id, ident)))
                    .value(":g1sk", s(roster_sk(&p.sourced_id)));
            }
            None => remove.extend(["identifier", "#g1pk", "#g1sk"]),
        }
        expr = expr.name("#g1pk", GSI1PK).name("#g1sk", GSI1SK).name("#g2pk", GSI2PK).name("#g2sk", GSI2SK);
        let mut update = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        expr.update = Some(update);
        let mut moves = Vec::new();
        match before {
            // New: nobody has joined as it.
            None => {
                expr.condition = Some("attribute_not_exists(pk)".into());
                moves.push((p.role, 1));
            }
            Some(b) if b.user_id.is_none() && b.role != p.role => {
                let first = expr.condition.take().unwrap_or_default();
                expr.condition = Some(format!("({first}) AND attribute_not_exists(user_id) AND #role = :before"));
                expr = expr.value(":before", to_value(&b.role)?);
                moves.extend([(b.role, -1), (p.role, 1)]);
            }
            Some(_) => {}
        }
        let waited = before.is_some_and(|b| b.user_id.is_none() && waits_as_employee(b.role));
        let waits = before.is_none_or(|b| b.user_id.is_none()) && waits_as_employee(p.role);
        let mut tx = Tx::new(&self.table);
        tx.update(person_key(&p.org_id, &p.sourced_id), expr)?;
        mark_dirty(&mut tx, &p.org_id, dirty, &p.sourced_id)?;
        if waited != waits {
            mark_waiting_employee(&mut tx, &p.org_id, &p.sourced_id, waits)?;
        }
        let adds = waiting_counts(&p.org_id, &p.sourced_id, &moves, 0).into_iter().collect();
        Ok(RowTx { tx, adds })
    }

    /// Why a person's row was not written: another row of this run wrote the record
    /// (`Duplicate`), or it is not as read (`Changed`).
    async fn why_not_written(
        &self,
        org: &OrgId,
        sourced_id: &SourcedId,
        seen: &str,
    ) -> Result<RowWriteError, StoreError> {
        let now = self.roster_people(org, std::slice::from_ref(sourced_id)).await?;
        Ok(match now.get(sourced_id) {
            Some(s) if s.seen.as_deref() == Some(seen) => RowWriteError::Duplicate,
            _ => RowWriteError::Changed,
        })
    }

    /// Records that this run read a row that changes nothing; `Duplicate` when another
    /// row of the run had its sourcedId.
    pub async fn mark_seen(&self, org: &OrgId, sk: &str, seen: &str) -> Result<(), RowWriteError> {
        let out = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(org), sk)))
            .update_expression("SET #seen = :seen")
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(#seen) OR #seen <> :seen)")
            .expression_attribute_names("#seen", SEEN)
            .expression_attribute_values(":seen", s(seen))
            .send()
            .await
            .map_err(classify);
        match out {
            Ok(_) => Ok(()),
            Err(StoreError::ConditionFailed) => Err(RowWriteError::Duplicate),
            Err(e) => Err(e.into()),
        }
    }

    /// Records that this run read rows that change nothing (the sort keys of their
    /// records), all in one transaction on [`Store::mark_seen`]'s conditions: false when
    /// one did not hold (nothing is marked then: mark each alone to tell which).
    pub async fn mark_all_seen(&self, org: &OrgId, sks: &[String], seen: &str) -> Result<bool, StoreError> {
        if sks.len() > super::tx::MAX_ACTIONS {
            return Ok(false);
        }
        let mut tx = Tx::new(&self.table);
        for sk in sks {
            let expr = Expr::update("SET #seen = :seen")
                .when("attribute_exists(pk) AND (attribute_not_exists(#seen) OR #seen <> :seen)")
                .name("#seen", SEEN)
                .value(":seen", s(seen));
            tx.update(key(org_pk(org), sk.as_str()), expr)?;
        }
        match tx.run(self).await {
            Ok(()) => Ok(true),
            Err(StoreError::Cancelled(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates a journal class with its name guard and link.
    pub async fn create_journal_class(
        &self,
        c: &Class,
        sourced_id: &SourcedId,
        fp: &str,
        seen: &str,
    ) -> Result<(), RowWriteError> {
        let mut tx = Tx::new(&self.table);
        tx.put(class_item(c)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
        let guard = tx.put(class_name_item(c), Some(Expr::condition("attribute_not_exists(pk)")))?;
        let link = ClassLink {
            sourced_id: sourced_id.clone(),
            class_id: c.id.to_string(),
            year: c.year,
            scheduled: false,
            course_id: None,
        };
        let at = tx.put(tracked(&link, class_link_key(&c.org_id, sourced_id), fp, seen)?, Some(first_in_run(seen)))?;
        count_class(&mut tx, &c.org_id, 1)?;
        tx.run_expecting(self, vec![(guard, RowWriteError::NameTaken), (at, RowWriteError::Duplicate)]).await
    }

    /// Renames a journal class (or moves its year) as its row now says.
    pub async fn update_journal_class(
        &self,
        old: &Class,
        new: &Class,
        sourced_id: &SourcedId,
        fp: &str,
        seen: &str,
    ) -> Result<(), RowWriteError> {
        let mut tx = Tx::new(&self.table);
        let (changed, guard) = class_changes(&mut tx, old, new)?;
        let link = ClassLink {
            sourced_id: sourced_id.clone(),
            class_id: new.id.to_string(),
            year: new.year,
            scheduled: false,
            course_id: None,
        };
        let at =
            tx.put(tracked(&link, class_link_key(&new.org_id, sourced_id), fp, seen)?, Some(first_in_run(seen)))?;
        let mut meanings = vec![(changed, RowWriteError::Changed), (at, RowWriteError::Duplicate)];
        if let Some(g) = guard {
            meanings.push((g, RowWriteError::NameTaken));
        }
        tx.run_expecting(self, meanings).await
    }

    /// Forgets a journal class's link (its class is deleted on its own).
    pub async fn delete_class_link(&self, org: &OrgId, sourced_id: &SourcedId) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(class_link_key(org, sourced_id)))
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    }

    /// Writes an enrollment and the person's place it gives (off the person who had it
    /// before, when it moved), marking the people for `dirty`'s settling.
    #[allow(clippy::too_many_arguments)]
    pub async fn put_enrollment(
        &self,
        org: &OrgId,
        e: &EnrollmentRecord,
        place: &RosterPlace,
        before: Option<&SourcedId>,
        fp: &str,
        seen: &str,
        dirty: &ImportId,
    ) -> Result<(), RowWriteError> {
        let (row, meanings) = self.enrollment_row(org, e, place, before, fp, seen, dirty)?;
        row.alone()?.run_expecting(self, meanings).await
    }

    /// The write of [`Store::put_enrollment`], to run alone or with other rows
    /// ([`Store::write_rows`]), with what each of its conditions means.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    pub fn enrollment_row(
        &self,
        org: &OrgId,
        e: &EnrollmentRecord,
        place: &RosterPlace,
        before: Option<&SourcedId>,
        fp: &str,
        seen: &str,
        dirty: &ImportId,
    ) -> Result<(RowTx, Vec<(usize, RowWriteError)>), StoreError> {
        let mut tx = Tx::new(&self.table);
        let at = tx.put(tracked(e, enrollment_key(org, &e.sourced_id), fp, seen)?, Some(first_in_run(seen)))?;
        let set = Expr::update("SET places.#e = :place")
            .when("attribute_exists(pk)")
            .name("#e", e.sourced_id.as_str())
            .value(":place", to_value(place)?);
        let person = tx.update(person_key(org, &e.user_sourced_id), set)?;
        mark_dirty(&mut tx, org, dirty, &e.user_sourced_id)?;
        let mut meanings = vec![(at, RowWriteError::Duplicate), (person, RowWriteError::UnknownPerson)];
        if let Some(before) = before.filter(|b| **b != e.user_sourced_id) {
            let off = Expr::update("REMOVE places.#e").when("attribute_exists(pk)").name("#e", e.sourced_id.as_str());
            // The person it was moved from may be gone: then there is nothing to take off.
            let i = tx.update(person_key(org, before), off)?;
            mark_dirty(&mut tx, org, dirty, before)?;
            meanings.push((i, RowWriteError::Changed));
        }
        Ok((RowTx { tx, adds: Vec::new() }, meanings))
    }

    /// Deletes an enrollment and the place it gave.
    pub async fn delete_enrollment(
        &self,
        org: &OrgId,
        e: &EnrollmentRecord,
        dirty: &ImportId,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::new(&self.table);
        tx.delete(enrollment_key(org, &e.sourced_id), None)?;
        let off = Expr::update("REMOVE places.#e").when("attribute_exists(pk)").name("#e", e.sourced_id.as_str());
        tx.update(person_key(org, &e.user_sourced_id), off)?;
        mark_dirty(&mut tx, org, dirty, &e.user_sourced_id)?;
        match tx.run(self).await {
            Err(err) if err.condition_failed_at(1) => {
                let mut tx = Tx::new(&self.table);
                tx.delete(enrollment_key(org, &e.sourced_id), None)?;
                tx.run(self).await
            }
            other => other,
        }
    }

    /// Deletes a person's record as read: a waiting one leaves the waiting counts (and the
    /// waiting employees), a linked one its member's records, in the same transaction, on
    /// the condition that it is still waiting with that role, or linked (`Changed` when
    /// not: read it again; a record gone is `Changed` too).
    pub async fn delete_roster_person(&self, org: &OrgId, p: &RosterPerson) -> Result<(), RowWriteError> {
        let mut tx = Tx::new(&self.table);
        match &p.user_id {
            None => {
                let waiting = Expr::condition("attribute_not_exists(user_id) AND #role = :role")
                    .name("#role", "role")
                    .value(":role", to_value(&p.role)?);
                tx.delete(person_key(org, &p.sourced_id), Some(waiting))?;
                count_waiting(&mut tx, org, &p.sourced_id, &[(p.role, -1)], 0)?;
                if waits_as_employee(p.role) {
                    mark_waiting_employee(&mut tx, org, &p.sourced_id, false)?;
                }
            }
            Some(user) => {
                tx.delete(person_key(org, &p.sourced_id), Some(Expr::condition("attribute_exists(user_id)")))?;
                name_record(&mut tx, org, user, &p.sourced_id, false)?;
                count_waiting(&mut tx, org, &p.sourced_id, &[], -1)?;
            }
        }
        tx.run_expecting(self, vec![(0, RowWriteError::Changed)]).await
    }

    /// A page of the people whose changes `dirty` (an import) has yet to settle, by
    /// sourcedId.
    pub async fn dirty_page(
        &self,
        org: &OrgId,
        dirty: &ImportId,
        page: &PageQuery,
    ) -> Result<(Vec<SourcedId>, Option<Cursor>), StoreError> {
        let q = KeyQuery::table(org_pk(org)).prefix(roster_dirty_prefix(dirty));
        let (marks, next): (Vec<Mark>, _) = self.query_page(&q, page).await?;
        Ok((marks.into_iter().map(|m| m.sourced_id).collect(), next))
    }

    /// A page of the organization's roster people: all, those who joined (`Some(true)`)
    /// or those still waiting (`Some(false)`). The page may hold fewer than asked.
    pub async fn roster_page(
        &self,
        org: &OrgId,
        linked: Option<bool>,
        page: &PageQuery,
    ) -> Result<(Vec<RosterPerson>, Option<Cursor>), StoreError> {
        let mut q = KeyQuery::table(org_pk(org)).prefix(ROSTER_PREFIX);
        match linked {
            Some(true) => q = q.filter(Expr::condition("attribute_exists(user_id)")),
            Some(false) => q = q.filter(Expr::condition("attribute_not_exists(user_id)")),
            None => {}
        }
        self.query_page(&q, page).await
    }

    /// The organization's roster record with this journal login.
    pub async fn roster_person_by_identifier(
        &self,
        org: &OrgId,
        identifier: &str,
    ) -> Result<Option<RosterPerson>, StoreError> {
        let found: Vec<RosterPerson> =
            self.query_all(&KeyQuery::index(GSI1, roster_identifier_pk(org, identifier))).await?;
        Ok(found.into_iter().next())
    }

    /// Settles people's changes: `dirty` is done with them (their marks go, a hundred in
    /// one transaction: the importer's role may delete items, and one call does).
    pub async fn settled(&self, org: &OrgId, dirty: &ImportId, sourced_ids: &[SourcedId]) -> Result<(), StoreError> {
        for chunk in sourced_ids.chunks(super::tx::MAX_ACTIONS) {
            let mut tx = Tx::new(&self.table);
            for id in chunk {
                tx.delete(key(org_pk(org), roster_dirty_sk(dirty, id)), None)?;
            }
            tx.run(self).await?;
        }
        Ok(())
    }

    /// Links a roster record that offers to `email` to its owner, a member already (an
    /// admin added them), out of the waiting: false when someone joined as it, it names
    /// another email or gives another role now, or it is gone.
    pub async fn link_roster_person(
        &self,
        org: &OrgId,
        p: &RosterPerson,
        user: &UserId,
        email: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = Tx::new(&self.table);
        link_record(&mut tx, org, &p.sourced_id, p.role, user, Some(email), now)?;
        match tx.run(self).await {
            Ok(()) => Ok(true),
            Err(e) if e.is_condition() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Sends a roster invitation now (its event, counted against the organization's daily
    /// mail budget), unless the person joined, was invited at all (`not_since` none: an
    /// import's) or after `not_since` (a resend), or the record has no email or is gone
    /// (`NotSent`). An address whose owner declined the offer is treated alike, to the
    /// last write: the notifier skips its email, so neither answers, records, counts nor
    /// timing tell the school that the address is registered.
    pub async fn invite_roster_person(
        &self,
        org: &OrgId,
        sourced_id: &SourcedId,
        now: Timestamp,
        not_since: Option<Timestamp>,
        event: &OutboxEvent,
    ) -> Result<RosterInvite, StoreError> {
        let mut tx = Tx::new(&self.table);
        let when = match not_since {
            Some(_) => "(attribute_not_exists(invited_at) OR invited_at < :since)",
            None => "attribute_not_exists(invited_at)",
        };
        let mut expr = Expr::update("SET invited_at = :now, invite_count = if_not_exists(invite_count, :zero) + :one")
            .when(format!(
                "attribute_exists(pk) AND attribute_not_exists(user_id) AND attribute_exists(email) AND {when}"
            ))
            .value(":now", s(now.to_string()))
            .value(":zero", super::tx::n(0))
            .value(":one", super::tx::n(1));
        if let Some(since) = not_since {
            expr = expr.value(":since", s(since.to_string()));
        }
        let record = tx.update(person_key(org, sourced_id), expr)?;
        let budget = count_invitation_email(&mut tx, org, now)?;
        add_event(&mut tx, event)?;
        match tx.run(self).await {
            Ok(()) => Ok(RosterInvite::Sent),
            Err(e) if e.condition_failed_at(record) => Ok(RosterInvite::NotSent),
            Err(e) if e.condition_failed_at(budget) => Ok(RosterInvite::DailyLimit),
            Err(e) => Err(e),
        }
    }

    /// A page of the waiting people with an email who have had no roster invitation (the
    /// page may hold fewer than asked, even none, and still go on).
    pub async fn uninvited_page(
        &self,
        org: &OrgId,
        page: &PageQuery,
    ) -> Result<(Vec<RosterPerson>, Option<Cursor>), StoreError> {
        let waiting = Expr::condition(
            "attribute_not_exists(user_id) AND attribute_exists(email) AND attribute_not_exists(invited_at)",
        );
        self.query_page(&KeyQuery::table(org_pk(org)).prefix(ROSTER_PREFIX).filter(waiting), page).await
    }

    /// Declines a record's offer for its email's owner: nothing joins, and the offer is
    /// no longer made to that email (nor mailed to it). False when the record no longer
    /// offers to it (joined, another email, gone).
    pub async fn decline_roster_offer(
        &self,
        org: &OrgId,
        sourced_id: &SourcedId,
        email: &str,
    ) -> Result<bool, StoreError> {
        let out = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(person_key(org, sourced_id)))
            .update_expression("SET declined = :email")
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(user_id) AND email = :email \
                 AND (attribute_not_exists(declined) OR declined <> :email)",
            )
            .expression_attribute_values(":email", s(email))
            .send()
            .await
            .map_err(classify);
        match out {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates the course a scheduled class of the journal becomes, with its link.
    pub async fn create_journal_course(
        &self,
        c: &Course,
        link: &ClassLink,
        fp: &str,
        seen: &str,
    ) -> Result<(), RowWriteError> {
        let mut tx = Tx::new(&self.table);
        tx.put(course_item(c)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
        count_org(&mut tx, &c.org_id, "course_count", 1)?;
        let at =
            tx.put(tracked(link, class_link_key(&c.org_id, &link.sourced_id), fp, seen)?, Some(first_in_run(seen)))?;
        tx.run_expecting(self, vec![(at, RowWriteError::Duplicate)]).await
    }

    /// Renames a journal course as its scheduled class's title now says.
    pub async fn rename_journal_course(
        &self,
        old: &Course,
        name: &str,
        link: &ClassLink,
        fp: &str,
        seen: &str,
    ) -> Result<(), RowWriteError> {
        let mut tx = Tx::new(&self.table);
        let expr = Expr::update("SET #name = :name, version = :version, updated_at = :now")
            .when("attribute_exists(pk) AND version = :read")
            .name("#name", "name")
            .value(":name", s(name))
            .value(":version", super::tx::n(old.version + 1))
            .value(":read", super::tx::n(old.version))
            .value(":now", s(Timestamp::now().to_string()));
        let changed = tx.update(course_key(&old.org_id, &old.id), expr)?;
        let at =
            tx.put(tracked(link, class_link_key(&old.org_id, &link.sourced_id), fp, seen)?, Some(first_in_run(seen)))?;
        tx.run_expecting(self, vec![(changed, RowWriteError::Changed), (at, RowWriteError::Duplicate)]).await
    }
    /// Makes the owner of a record's email a member as the record (they accepted its
    /// offer), in one transaction: the membership and its class places, the record linked
    /// to them while it still offers to `email` and gives its role (out of the waiting
    /// counts and employees, named among their records), the organization's counts, their
    /// pending join request ended (or none checked) and the audit entry.
    pub async fn join_as_record(
        &self,
        m: &Membership,
        p: &RosterPerson,
        email: &str,
        pending: Option<&JoinRequest>,
        audit: &AuditEntry,
    ) -> Result<(), RecordJoinError> {
        let mut tx = Tx::new(&self.table);
        let mut meanings: Vec<(usize, RecordJoinError)> =
            put_new_member(&mut tx, m)?.into_iter().map(|(i, f)| (i, f.into())).collect();
        let at = link_record(&mut tx, &m.org_id, &p.sourced_id, p.role, &m.user_id, Some(email), Timestamp::now())?;
        meanings.push((at, RecordJoinError::RecordTaken));
        move_counts(&mut tx, &m.org_id, Counts::member(m, 1).pending(-i64::from(pending.is_some())))?;
        let pending_at = end_or_check_pending(&mut tx, &m.org_id, &m.user_id, pending, &m.user_id)?;
        meanings.push((pending_at, RecordJoinError::HasPendingRequest));
        add_audit(&mut tx, audit)?;
        tx.run_expecting(self, meanings).await
    }

    /// A page of the waiting employees (the journal's teachers and staff nobody has joined
    /// as), by sourcedId: a query of their marks, then one batch read of their records (one
    /// joined as meanwhile is left out: the page may hold fewer than asked).
    pub async fn waiting_employees(
        &self,
        org: &OrgId,
        page: &PageQuery,
    ) -> Result<(Vec<RosterPerson>, Option<Cursor>), StoreError> {
        let q = KeyQuery::table(org_pk(org)).prefix(ROSTERWAIT_PREFIX);
        let (marks, next): (Vec<Mark>, _) = self.query_page(&q, page).await?;
        Ok((self.waiting_records(org, marks).await?, next))
    }

    /// Every waiting employee, by sourcedId: the marks' query pages (a mark is ~100 bytes:
    /// one page of 1 MB for thousands), then a batch read a hundred.
    pub async fn all_waiting_employees(&self, org: &OrgId) -> Result<Vec<RosterPerson>, StoreError> {
        let marks: Vec<Mark> = self.query_all(&KeyQuery::table(org_pk(org)).prefix(ROSTERWAIT_PREFIX)).await?;
        self.waiting_records(org, marks).await
    }

    async fn waiting_records(&self, org: &OrgId, marks: Vec<Mark>) -> Result<Vec<RosterPerson>, StoreError> {
        if marks.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<SourcedId> = marks.into_iter().map(|m| m.sourced_id).collect();
        let mut people: Vec<RosterPerson> = self
            .roster_people(org, &ids)
            .await?
            .into_values()
            .map(|s| s.record)
            .filter(|p| p.user_id.is_none() && waits_as_employee(p.role))
            .collect();
        people.sort_by(|a, b| a.sourced_id.cmp(&b.sourced_id));
        Ok(people)
    }

    /// The record each of these members joined as (the first by sourcedId, when more than
    /// one), by member: a batch read a hundred.
    pub async fn records_of(&self, org: &OrgId, users: &[UserId]) -> Result<HashMap<UserId, SourcedId>, StoreError> {
        let unique: std::collections::BTreeSet<&UserId> = users.iter().collect();
        if unique.is_empty() {
            return Ok(HashMap::new());
        }
        let keys = unique.into_iter().map(|u| key(org_pk(org), roster_user_sk(u))).collect();
        let mut found = HashMap::new();
        for item in self.batch_get(keys).await? {
            let user = attr(&item, SK).and_then(|sk| sk.strip_prefix(ROSTERUSER_PREFIX).and_then(UserId::parse));
            let first = item
                .get("sourced_ids")
                .and_then(|v| v.as_ss().ok())
                .and_then(|ids| ids.iter().min().and_then(|id| SourcedId::parse(id)));
            if let (Some(user), Some(first)) = (user, first) {
                found.insert(user, first);
            }
        }
        Ok(found)
    }
}
