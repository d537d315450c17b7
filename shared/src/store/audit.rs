//! The audit log: one entry per admin action, written in the same transaction as the
//! change it records.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::keys::*;
use super::read::StartKey;
use super::tx::{key, s, Item, Tx};
use super::{classify, serde_err, Store, StoreError};
use crate::domain::{OrgId, Timestamp, UserId};
use crate::page::{Cursor, PageQuery};

/// Who did it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: UserId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub org_id: OrgId,
    pub at: Timestamp,
    pub actor_id: String,
    pub actor_name: String,
    /// e.g. `org.update`, `member.add`, `admin.appoint`, `class.promote`.
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    /// JSON of the values before and after (absent for creations and deletions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl AuditEntry {
    pub fn new(
        org: &OrgId,
        actor: &Actor,
        action: &str,
        target_type: &str,
        target_id: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Self {
        let at = Timestamp::now();
        let id =
            ulid::Ulid::from_parts(at.inner().unix_timestamp_nanos() as u64 / 1_000_000, rand::random()).to_string();
        AuditEntry {
            id,
            org_id: org.clone(),
            at,
            actor_id: actor.id.to_string(),
            actor_name: actor.name.clone(),
            action: action.into(),
            target_type: target_type.into(),
            target_id: target_id.into(),
            before: before.map(|v| v.to_string()),
            after: after.map(|v| v.to_string()),
        }
    }

    fn item(&self) -> Result<Item, StoreError> {
        let mut item: Item = serde_dynamo::to_item(self).map_err(serde_err)?;
        item.extend(key(org_pk(&self.org_id), format!("{AUDIT_PREFIX}{}", self.id)));
        Ok(item)
    }

    /// Adds this entry to a transaction.
    pub fn add_to(&self, tx: &mut Tx) -> Result<usize, StoreError> {
        tx.put(self.item()?, None)
    }
}

/// Filters of the audit list.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<Timestamp>,
}

impl Store {
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
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|i| serde_dynamo::from_item(i).map_err(serde_err))
            .collect::<Result<Vec<AuditEntry>, _>>()?;
        Ok((items, out.last_evaluated_key.as_ref().and_then(Cursor::from_key)))
    }
}
