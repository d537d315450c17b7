//! The outbox: a change that must have a side effect (an email, a file) writes an event
//! item in its own transaction; the table's stream hands it to a consumer.

use serde::{Deserialize, Serialize};

use super::keys::*;
use super::tx::{key, Item, Tx};
use super::{serde_err, StoreError};
use crate::domain::{OrgId, Timestamp};

/// Events live a week (the stream holds them for a day; the item is the record).
pub const EVENT_TTL_SECS: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Event {
    pub id: String,
    /// e.g. `member_added`, `admin_appointed`, `join_request_submitted`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<OrgId>,
    /// The event's data as JSON.
    pub payload: String,
    pub created_at: Timestamp,
    pub ttl: i64,
}

impl Event {
    pub fn new(kind: &str, org: Option<&OrgId>, payload: serde_json::Value) -> Self {
        let created_at = Timestamp::now();
        Event {
            id: ulid::Ulid::new().to_string(),
            kind: kind.into(),
            org_id: org.cloned(),
            payload: payload.to_string(),
            created_at,
            ttl: created_at.unix() + EVENT_TTL_SECS,
        }
    }

    fn item(&self) -> Result<Item, StoreError> {
        let mut item: Item = serde_dynamo::to_item(self).map_err(serde_err)?;
        item.extend(key(format!("{EVENT_PREFIX}{}", self.id), "EVENT"));
        Ok(item)
    }

    pub fn add_to(&self, tx: &mut Tx) -> Result<usize, StoreError> {
        tx.put(self.item()?, None)
    }
}
