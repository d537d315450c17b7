//! The audit log: one entry per admin action, written in the same transaction as the
//! change it records, read newest first.

use aws_sdk_dynamodb::types::AttributeValue;

use super::items::from_item;
use super::keys::*;
use super::pieces::add_audit;
use super::read::StartKey;
use super::tx::{s, Tx};
use super::{classify, Store, StoreError};
use crate::domain::{AuditEntry, OrgId, Timestamp};
use crate::page::{Cursor, PageQuery};

/// Filters of the audit list.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<Timestamp>,
}

impl Store {
    /// Records an entry on its own (for actions whose changes were written already).
    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = Tx::new(&self.table);
        add_audit(&mut tx, entry)?;
        tx.run(self).await
    }

    /// Newest first.
    pub async fn audit_entries(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        page: &PageQuery,
    ) -> Result<(Vec<AuditEntry>, Option<Cursor>), StoreError> {
        let pk = org_pk(org);
        let lower = match filter.since {
            Some(t) => format!(
                "{AUDIT_PREFIX}{}",
                ulid::Ulid::from_parts(t.inner().unix_timestamp_nanos() as u64 / 1_000_000, 0)
            ),
            None => AUDIT_PREFIX.to_string(),
        };
        let upper = format!("{AUDIT_PREFIX}~");
        let start = match &page.cursor {
            Some(c) => Some(
                c.checked_start_key(&[PK, SK], PK, &pk, Some(SK), |sk| sk >= lower.as_str() && sk <= upper.as_str())
                    .map_err(|_| StoreError::InvalidCursor)?,
            ),
            None => None,
        };
        let mut q = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :lower AND :upper")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":lower", s(lower))
            .expression_attribute_values(":upper", s(upper))
            .scan_index_forward(false)
            .limit(page.limit)
            .set_exclusive_start_key(start);
        let mut filters = Vec::new();
        if let Some(actor) = &filter.actor {
            filters.push("actor_id = :actor");
            q = q.expression_attribute_values(":actor", AttributeValue::S(actor.clone()));
        }
        if let Some(action) = &filter.action {
            // `member` matches every `member.*` action.
            if action.contains('.') {
                filters.push("#action = :action");
            } else {
                filters.push("begins_with(#action, :action)");
            }
            q = q.expression_attribute_names("#action", "action").expression_attribute_values(
                ":action",
                AttributeValue::S(if action.contains('.') { action.clone() } else { format!("{action}.") }),
            );
        }
        if !filters.is_empty() {
            q = q.filter_expression(filters.join(" AND "));
        }
        let out = q.send().await.map_err(classify)?;
        let items = out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<Vec<AuditEntry>, _>>()?;
        Ok((items, out.last_evaluated_key.as_ref().and_then(Cursor::from_key)))
    }
}
