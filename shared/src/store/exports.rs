//! Exports: an export is an item of the organization's partition (`EXPORT#<id>`) whose
//! insert, read from the table's stream, starts the exporter; it expires with its file.
//! An admin's exports building at once are bounded by places (`EXPORTSLOT#<user>#<n>`):
//! asking for an export takes a free place in the same transaction (a place whose export
//! passed its deadline is free again), and finishing it gives the place back.

use super::items::{to_item, to_value};
use super::keys::*;
use super::pieces::{add_audit, add_event, count_attempt};
use super::read::KeyQuery;
use super::tx::{key, n, s, Expr, Item, Tx};
use super::{classify, Store, StoreError};
use crate::domain::exports::BUILD_DEADLINE;
use crate::domain::{AuditEntry, Export, ExportId, ExportStatus, OrgId, OutboxEvent, Timestamp};
use crate::page::{Cursor, PageQuery};

/// Why an export was not created.
#[derive(Debug)]
pub enum ExportError {
    /// Its building place was taken meanwhile.
    Busy,
    Store(StoreError),
}

impl From<StoreError> for ExportError {
    fn from(e: StoreError) -> Self {
        ExportError::Store(e)
    }
}

/// How an export ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Written: its data rows and size, and the mail that says so.
    Ready {
        rows: u64,
        size: u64,
        event: Box<OutboxEvent>,
    },
    Failed(String),
}

fn export_key(org: &OrgId, id: &ExportId) -> Item {
    key(org_pk(org), export_sk(id))
}

fn slot_key(e: &Export) -> Item {
    key(org_pk(&e.org_id), export_slot_sk(&e.requested_by, e.slot))
}

impl Store {
    /// Records a new export with its audit entry, taking its building place (free, or
    /// held past its deadline); `Busy` when another request took the place first.
    pub async fn create_export(&self, e: &Export, audit: &AuditEntry) -> Result<(), ExportError> {
        let mut tx = Tx::new(&self.table);
        let mut item = to_item(e)?;
        item.extend(export_key(&e.org_id, &e.id));
        // A day past the file's own 7 days: the bucket's lifecycle has removed it by then.
        item.insert(TTL.into(), n(e.expires_at().plus(time::Duration::days(1)).unix()));
        tx.put(item, Some(Expr::condition("attribute_not_exists(pk)")))?;
        let mut slot = slot_key(e);
        let held_until = e.created_at.plus(BUILD_DEADLINE);
        slot.insert("export_id".into(), s(e.id.as_str()));
        slot.insert("held_until".into(), s(held_until.to_string()));
        slot.insert(TTL.into(), n(held_until.plus(time::Duration::days(1)).unix()));
        let place = tx.put(
            slot,
            Some(
                Expr::condition("attribute_not_exists(pk) OR held_until < :now")
                    .value(":now", s(e.created_at.to_string())),
            ),
        )?;
        add_audit(&mut tx, audit)?;
        tx.run_expecting(self, vec![(place, ExportError::Busy)]).await
    }

    /// Counts a build of a pending export starting; the export as it is now, `None` when
    /// it is no longer pending (built already: a stream record delivered again).
    pub async fn start_export(&self, org: &OrgId, id: &ExportId) -> Result<Option<Export>, StoreError> {
        count_attempt(self, export_key(org, id), to_value(&ExportStatus::Pending)?).await
    }

    /// Makes a pending export ready (with the event of its mail) or failed, then gives its
    /// building place back. False when it was not pending any more.
    pub async fn finish_export(&self, e: &Export, outcome: &Outcome, now: Timestamp) -> Result<bool, StoreError> {
        let mut tx = Tx::new(&self.table);
        let (status, mut expr) = match outcome {
            Outcome::Ready { rows, size, .. } => (
                ExportStatus::Ready,
                Expr::update("SET #status = :status, #rows = :rows, #size = :size, ready_at = :now")
                    .name("#rows", "rows")
                    .name("#size", "size")
                    .value(":rows", n(rows))
                    .value(":size", n(size))
                    .value(":now", s(now.to_string())),
            ),
            Outcome::Failed(why) => {
                (ExportStatus::Failed, Expr::update("SET #status = :status, failure = :why").value(":why", s(why)))
            }
        };
        expr = expr
            .when("attribute_exists(pk) AND #status = :pending")
            .name("#status", "status")
            .value(":status", to_value(&status)?)
            .value(":pending", to_value(&ExportStatus::Pending)?);
        tx.update(export_key(&e.org_id, &e.id), expr)?;
        if let Outcome::Ready { event, .. } = outcome {
            add_event(&mut tx, event)?;
        }
        match tx.run(self).await {
            Ok(()) => {}
            Err(e) if e.condition_failed_at(0) => return Ok(false),
            Err(e) => return Err(e),
        }
        // The place, unless a newer export took it after this one's deadline.
        let released = self
            .db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(slot_key(e)))
            .condition_expression("export_id = :id")
            .expression_attribute_values(":id", s(e.id.as_str()))
            .send()
            .await
            .map_err(classify);
        match released {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// A page of the organization's exports, newest first.
    pub async fn exports_page(
        &self,
        org: &OrgId,
        page: &PageQuery,
    ) -> Result<(Vec<Export>, Option<Cursor>), StoreError> {
        let q = KeyQuery::table(org_pk(org)).prefix(EXPORT_PREFIX).newest_first();
        self.query_page(&q, page).await
    }

    /// An export, read consistently (the exporter's first read).
    pub async fn export(&self, org: &OrgId, id: &ExportId) -> Result<Option<Export>, StoreError> {
        self.get(export_key(org, id)).await
    }
}
