//! The sending reputation (R8.4): addresses that bounced for good or complained, which
//! kabinet mails no more, and what an invitation's failed email changes.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::items::{invitation_key, EventRecord};
use super::keys::*;
use super::pieces::add_event;
use super::tx::{key, n, s, Expr, Tx};
use super::{Store, StoreError};
use crate::domain::ids::EventId;
use crate::domain::{Delivery, Invitation, InvitationId, OrgId, OutboxEvent, Timestamp};

/// An address mail is not sent to any more, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undeliverable {
    pub email: String,
    /// `bounced` or `complained`.
    pub reason: Delivery,
    pub at: Timestamp,
    /// The SES message whose event marked it.
    #[serde(default)]
    pub message_id: String,
}

/// What an invitation's failed email changed.
#[derive(Debug, PartialEq, Eq)]
pub enum Marked {
    /// The invitation shows the failure now, and the admins' event was written.
    Now,
    /// It did already (a redelivered event), or the invitation is gone.
    Already,
}

impl Store {
    /// Marks `u.email` undeliverable: true when this call did, false when it was already
    /// (the first reason stays; a redelivered event changes nothing).
    pub async fn mark_undeliverable(&self, u: &Undeliverable) -> Result<bool, StoreError> {
        let mut item = super::items::to_item(u)?;
        item.extend(key(address_pk(&u.email), UNDELIVERABLE));
        let result = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(super::classify);
        match result {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Which of these addresses (as stored: lower case) are undeliverable: one batch read
    /// (100 keys a call) for all of them.
    pub async fn undeliverable(&self, emails: &[&str]) -> Result<HashMap<String, Undeliverable>, StoreError> {
        let unique: BTreeSet<&str> = emails.iter().copied().collect();
        if unique.is_empty() {
            return Ok(HashMap::new());
        }
        let keys = unique.into_iter().map(|e| key(address_pk(e), UNDELIVERABLE)).collect();
        let found: Vec<Undeliverable> = self.batch_get_as(keys).await?;
        Ok(found.into_iter().map(|u| (u.email.clone(), u)).collect())
    }

    /// The outbox event of this ID, if it is still kept.
    pub async fn outbox_event(&self, id: &EventId) -> Result<Option<EventRecord>, StoreError> {
        self.get(key(event_pk(id), EVENT)).await
    }

    /// Shows on invitation `id` that its email bounced or was complained of, with the
    /// admins' `event` in the same transaction; once: a redelivered event changes nothing.
    pub async fn invitation_undelivered(
        &self,
        org: &OrgId,
        id: &InvitationId,
        delivery: Delivery,
        event: &OutboxEvent,
    ) -> Result<Marked, StoreError> {
        let mut tx = Tx::new(&self.table);
        // The version moves, so a resend that read the invitation before cannot write
        // `sent` back over it.
        let at = tx.update(
            invitation_key(org, id),
            Expr::update("SET delivery = :d, version = version + :one")
                .when("attribute_exists(pk) AND (attribute_not_exists(delivery) OR delivery = :sent)")
                .value(":d", s(delivery.as_str()))
                .value(":sent", s(Delivery::Sent.as_str()))
                .value(":one", n(1)),
        )?;
        add_event(&mut tx, event)?;
        match tx.run(self).await {
            Ok(()) => Ok(Marked::Now),
            Err(e) if e.condition_failed_at(at) => Ok(Marked::Already),
            Err(e) => Err(e),
        }
    }
}

/// Whether mail may go to this invitation's address: not when its email failed.
pub fn delivered(i: &Invitation) -> bool {
    i.delivery == Delivery::Sent
}
