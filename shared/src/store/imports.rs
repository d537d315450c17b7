//! Roster imports: an import is an item of the organization's partition (`IMPORT#<id>`).
//! Starting one takes the organization's one place for a running import
//! (`IMPORTSLOT`: free, or held past its deadline) and inserts its run (`IMPORTRUN#<id>`),
//! whose insert, read from the table's stream, starts the importer. Finishing it gives
//! the place back.

use super::items::{to_item, to_value};
use super::keys::*;
use super::pieces::{add_audit, count_attempt};
use super::read::KeyQuery;
use super::tx::{key, n, s, Expr, Item, Tx};
use super::{classify, Store, StoreError};
use crate::domain::imports::{ImportCounts, ImportProgress, RowProblem, AWAITING_KEPT, RUN_DEADLINE};
use crate::domain::{AuditEntry, Import, ImportId, ImportStatus, OrgId, Timestamp};
use crate::page::{Cursor, PageQuery};

/// Why an import did not start.
#[derive(Debug)]
pub enum StartError {
    /// It is not awaiting its upload any more (started already).
    NotAwaiting,
    /// Another import of the organization is running.
    Busy,
    Store(StoreError),
}

impl From<StoreError> for StartError {
    fn from(e: StoreError) -> Self {
        StartError::Store(e)
    }
}

fn import_key(org: &OrgId, id: &ImportId) -> Item {
    key(org_pk(org), import_sk(id))
}

fn slot_key(org: &OrgId) -> Item {
    key(org_pk(org), IMPORTSLOT)
}

/// How an import ended.
#[derive(Debug, Clone)]
pub struct Finished {
    pub status: ImportStatus,
    pub counts: ImportCounts,
    pub errors: Vec<RowProblem>,
    pub failure: Option<String>,
}

impl Store {
    /// Records a new import awaiting its upload (it goes after two days unless started).
    pub async fn create_import(&self, i: &Import, audit: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = Tx::new(&self.table);
        let mut item = to_item(i)?;
        item.extend(import_key(&i.org_id, &i.id));
        item.insert(TTL.into(), n(i.created_at.plus(AWAITING_KEPT).unix()));
        tx.put(item, Some(Expr::condition("attribute_not_exists(pk)")))?;
        add_audit(&mut tx, audit)?;
        tx.require_admin(&i.org_id, &i.requested_by);
        tx.run(self).await
    }

    pub async fn import(&self, org: &OrgId, id: &ImportId) -> Result<Option<Import>, StoreError> {
        self.get(import_key(org, id)).await
    }

    /// A page of the organization's imports, newest first.
    pub async fn imports_page(
        &self,
        org: &OrgId,
        page: &PageQuery,
    ) -> Result<(Vec<Import>, Option<Cursor>), StoreError> {
        let q = KeyQuery::table(org_pk(org)).prefix(IMPORT_PREFIX).newest_first();
        self.query_page(&q, page).await
    }

    /// Starts an import whose upload is there: processing from now, holding the
    /// organization's place for a running import, its run inserted for the importer.
    pub async fn start_import(
        &self,
        i: &Import,
        invite: bool,
        by: &crate::domain::UserId,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<(), StartError> {
        let mut tx = Tx::new(&self.table);
        let expr = Expr::update("SET #status = :processing, started_at = :now, invite = :invite REMOVE #ttl")
            .when("#status = :awaiting")
            .name("#status", "status")
            .name("#ttl", TTL)
            .value(":processing", to_value(&ImportStatus::Processing)?)
            .value(":awaiting", to_value(&ImportStatus::AwaitingUpload)?)
            .value(":now", s(now.to_string()))
            .value(":invite", super::tx::b(invite));
        let started = tx.update(import_key(&i.org_id, &i.id), expr)?;
        let mut slot = slot_key(&i.org_id);
        let held_until = now.plus(RUN_DEADLINE);
        slot.insert("import_id".into(), s(i.id.as_str()));
        slot.insert("held_until".into(), s(held_until.to_string()));
        let place = tx.put(
            slot,
            Some(Expr::condition("attribute_not_exists(pk) OR held_until < :now").value(":now", s(now.to_string()))),
        )?;
        let mut run = key(org_pk(&i.org_id), import_run_sk(&i.id));
        run.insert("org_id".into(), s(i.org_id.as_str()));
        run.insert("import_id".into(), s(i.id.as_str()));
        run.insert(TTL.into(), n(now.plus(time::Duration::days(1)).unix()));
        tx.put(run, None)?;
        add_audit(&mut tx, audit)?;
        tx.require_admin(&i.org_id, by);
        tx.run_expecting(self, vec![(started, StartError::NotAwaiting), (place, StartError::Busy)]).await
    }

    /// Counts a run of a processing import starting; the import as it is now, `None`
    /// when it is not processing any more (finished: a stream record delivered again).
    pub async fn begin_import_run(&self, org: &OrgId, id: &ImportId) -> Result<Option<Import>, StoreError> {
        count_attempt(self, import_key(org, id), to_value(&ImportStatus::Processing)?).await
    }

    /// Shows where a running import is.
    pub async fn import_progress(
        &self,
        org: &OrgId,
        id: &ImportId,
        progress: &ImportProgress,
        counts: &ImportCounts,
    ) -> Result<(), StoreError> {
        let out = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(import_key(org, id)))
            .update_expression("SET progress = :progress, counts = :counts")
            .condition_expression("#status = :processing")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":progress", to_value(progress)?)
            .expression_attribute_values(":counts", to_value(counts)?)
            .expression_attribute_values(":processing", to_value(&ImportStatus::Processing)?)
            .send()
            .await
            .map_err(classify);
        match out {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Ends a processing import (done or failed) with its audit entry, then gives the
    /// organization's place back. False when it was not processing any more.
    pub async fn finish_import(
        &self,
        i: &Import,
        f: &Finished,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = Tx::new(&self.table);
        let mut expr = Expr::update(
            "SET #status = :status, counts = :counts, #errors = :errors, finished_at = :now REMOVE progress",
        );
        if let Some(why) = &f.failure {
            expr = Expr::update(
                "SET #status = :status, counts = :counts, #errors = :errors, finished_at = :now, failure = :why REMOVE progress",
            )
            .value(":why", s(why));
        }
        let expr = expr
            .when("#status = :processing")
            .name("#status", "status")
            .name("#errors", "errors")
            .value(":status", to_value(&f.status)?)
            .value(":counts", to_value(&f.counts)?)
            .value(":errors", to_value(&f.errors)?)
            .value(":now", s(now.to_string()))
            .value(":processing", to_value(&ImportStatus::Processing)?);
        tx.update(import_key(&i.org_id, &i.id), expr)?;
        add_audit(&mut tx, audit)?;
        match tx.run(self).await {
            Ok(()) => {}
            Err(e) if e.condition_failed_at(0) => return Ok(false),
            Err(e) => return Err(e),
        }
        self.release_import_slot(&i.org_id, &i.id).await?;
        Ok(true)
    }

    /// Gives the organization's place for a running import back, if this import holds it.
    pub async fn release_import_slot(&self, org: &OrgId, id: &ImportId) -> Result<(), StoreError> {
        let released = self
            .db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(slot_key(org)))
            .condition_expression("import_id = :id")
            .expression_attribute_values(":id", s(id.as_str()))
            .send()
            .await
            .map_err(classify);
        match released {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
