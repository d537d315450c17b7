//! Roster imports: an import is an item of the organization's partition (`IMPORT#<id>`).
//! Starting one takes the organization's one place for a running import
//! (`IMPORTSLOT`: free, or held past its deadline) and inserts its run (`IMPORTRUN#<id>`),
//! whose insert, read from the table's stream, starts the importer. A run that stops
//! itself for time inserts the next (`IMPORTRUN#<id>#<n>`), which the stream delivers
//! to a new run. Finishing it gives the place back.

use super::items::{to_item, to_value};
use super::keys::*;
use super::pieces::add_audit;
use super::read::KeyQuery;
use super::tx::{key, n, s, Expr, Item, Tx};
use super::{classify, Store, StoreError};
use crate::domain::imports::{Checkpoint, ImportCounts, ImportProgress, RowProblem, AWAITING_KEPT, RUN_DEADLINE};
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

/// What beginning a run found.
#[derive(Debug)]
pub enum Begun {
    /// The import as it is now, this run counted among its attempts.
    Run(Box<Import>),
    /// It is not processing any more (finished: a stream record delivered again).
    Finished,
    /// It is processing, but this run record is an earlier one's (delivered again after
    /// its run stopped for time and asked for the next): nothing to do.
    Stale,
}

/// Where a run stops: what the import shows and where the next run continues.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    pub progress: &'a ImportProgress,
    pub counts: &'a ImportCounts,
    pub errors: &'a [RowProblem],
    pub checkpoint: &'a Checkpoint,
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

    /// Counts a run of a processing import starting: the run of its record
    /// `IMPORTRUN#<id>` (0) or `IMPORTRUN#<id>#<n>` (the n-th continuation), which must be
    /// the latest asked for.
    pub async fn begin_import_run(&self, org: &OrgId, id: &ImportId, run: u32) -> Result<Begun, StoreError> {
        let latest = if run == 0 { "(resumes = :run OR attribute_not_exists(resumes))" } else { "resumes = :run" };
        let out = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(import_key(org, id)))
            .update_expression("ADD attempts :one")
            .condition_expression(format!("attribute_exists(pk) AND #status = :processing AND {latest}"))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":run", n(run))
            .expression_attribute_values(":processing", to_value(&ImportStatus::Processing)?)
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await
            .map_err(classify);
        match out {
            Ok(o) => match o.attributes.map(super::items::from_item).transpose()? {
                Some(i) => Ok(Begun::Run(Box::new(i))),
                None => Ok(Begun::Finished),
            },
            Err(StoreError::ConditionFailed) => match self.import(org, id).await? {
                Some(i) if i.status == ImportStatus::Processing => Ok(Begun::Stale),
                _ => Ok(Begun::Finished),
            },
            Err(e) => Err(e),
        }
    }

    /// Shows where a running import is and records it for a new run to continue from.
    /// False when it is not processing any more.
    pub async fn import_checkpoint(&self, org: &OrgId, id: &ImportId, at: &Progress<'_>) -> Result<bool, StoreError> {
        let out = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(import_key(org, id)))
            .update_expression("SET progress = :progress, counts = :counts, #errors = :errors, checkpoint = :at")
            .condition_expression("#status = :processing")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#errors", "errors")
            .expression_attribute_values(":progress", to_value(at.progress)?)
            .expression_attribute_values(":counts", to_value(at.counts)?)
            .expression_attribute_values(":errors", to_value(&at.errors)?)
            .expression_attribute_values(":at", to_value(at.checkpoint)?)
            .expression_attribute_values(":processing", to_value(&ImportStatus::Processing)?)
            .send()
            .await
            .map_err(classify);
        match out {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A run stops itself for time: in one transaction the import records where it is
    /// (the run's attempt given back, a continuation counted), the organization's place is
    /// held for another [`RUN_DEADLINE`], and the next run's record is inserted for the
    /// stream to deliver. False when the import is not processing any more, or another run
    /// asked for the continuation first.
    pub async fn continue_import(&self, i: &Import, at: &Progress<'_>, now: Timestamp) -> Result<bool, StoreError> {
        let mut tx = Tx::new(&self.table);
        let next = i.resumes + 1;
        let expr = Expr::update(
            "SET progress = :progress, counts = :counts, #errors = :errors, checkpoint = :at, resumes = :next, \
             resumed_at = :now ADD attempts :back",
        )
        .when("#status = :processing AND (resumes = :run OR attribute_not_exists(resumes))")
        .name("#status", "status")
        .name("#errors", "errors")
        .value(":progress", to_value(at.progress)?)
        .value(":counts", to_value(at.counts)?)
        .value(":errors", to_value(&at.errors)?)
        .value(":at", to_value(at.checkpoint)?)
        .value(":next", n(next))
        .value(":run", n(i.resumes))
        .value(":now", s(now.to_string()))
        .value(":back", n(-1))
        .value(":processing", to_value(&ImportStatus::Processing)?);
        tx.update(import_key(&i.org_id, &i.id), expr)?;
        let mut slot = slot_key(&i.org_id);
        slot.insert("import_id".into(), s(i.id.as_str()));
        slot.insert("held_until".into(), s(now.plus(RUN_DEADLINE).to_string()));
        tx.put(slot, Some(Expr::condition("import_id = :id").value(":id", s(i.id.as_str()))))?;
        let mut run = key(org_pk(&i.org_id), import_next_run_sk(&i.id, next));
        run.insert("org_id".into(), s(i.org_id.as_str()));
        run.insert("import_id".into(), s(i.id.as_str()));
        run.insert(TTL.into(), n(now.plus(time::Duration::days(1)).unix()));
        tx.put(run, Some(Expr::condition("attribute_not_exists(pk)")))?;
        match tx.run(self).await {
            Ok(()) => Ok(true),
            Err(e) if (0..3).any(|k| e.condition_failed_at(k)) => Ok(false),
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
            "SET #status = :status, counts = :counts, #errors = :errors, finished_at = :now REMOVE progress, checkpoint",
        );
        if let Some(why) = &f.failure {
            expr = Expr::update(
                "SET #status = :status, counts = :counts, #errors = :errors, finished_at = :now, failure = :why REMOVE progress, checkpoint",
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
