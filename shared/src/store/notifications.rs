//! The inbox: a person's notifications (`NOTE#<id>` in their `USER#` partition) with a
//! small mark beside each unread one (`UNREAD#<id>`), both expiring after 90 days; and the
//! mail settings, attributes of their profile item.
//!
//! An item never changes once written; reading it deletes its mark. So the unread count
//! is the number of marks (one query of small items, no counter to drift), a page's read
//! state is whether its items' marks are among them, and marking read is deleting marks,
//! which a retry does again harmlessly.

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{from_item, to_item, user_key};
use super::keys::{note_sk, unread_sk, user_pk, NOTE_PREFIX, PK, SK, TTL, UNREAD_PREFIX};
use super::read::KeyQuery;
use super::tx::{key, n, s, Expr, Item, Tx};
use super::{classify, Store, StoreError};
use crate::domain::notifications::{mail_off_attr, INBOX_DAYS};
use crate::domain::{MailKind, Notification, NotificationId, OrgId, User, UserId};
use crate::page::{Cursor, PageQuery};

/// People whose items go in one transaction (two actions each, of DynamoDB's 100).
pub const NOTIFY_PER_TX: usize = 50;

/// The unread marks a person's count reads at most (a count past it shows as this many).
pub const MAX_UNREAD_COUNTED: usize = 10_000;

fn expires(n: &Notification) -> i64 {
    n.created_at.unix() + INBOX_DAYS * 24 * 3600
}

fn note_item(note: &Notification) -> Result<Item, StoreError> {
    let mut item = to_item(note)?;
    item.remove("read");
    item.extend(key(user_pk(&note.user_id), note_sk(&note.id)));
    item.insert(TTL.into(), n(expires(note)));
    Ok(item)
}

fn unread_item(note: &Notification) -> Item {
    let mut item = key(user_pk(&note.user_id), unread_sk(&note.id));
    item.insert(TTL.into(), n(expires(note)));
    item
}

/// Adds one person's item and its mark to a transaction: the item only if it is not there
/// (a redelivered event, perhaps read since, changes nothing).
fn add_note(tx: &mut Tx, note: &Notification) -> Result<(), StoreError> {
    tx.put(note_item(note)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
    tx.put(unread_item(note), None)?;
    Ok(())
}

impl Store {
    /// Puts each person's inbox item, unread: [`NOTIFY_PER_TX`] people a transaction. An
    /// item already there (the event delivered again) is left as it is, read or not.
    pub async fn add_notifications(&self, notes: &[Notification]) -> Result<(), StoreError> {
        for chunk in notes.chunks(NOTIFY_PER_TX) {
            let mut tx = Tx::new(&self.table);
            for note in chunk {
                add_note(&mut tx, note)?;
            }
            match tx.run(self).await {
                Ok(()) => {}
                // Some were there already: each of the chunk on its own.
                Err(e) if e.is_condition() => {
                    for note in chunk {
                        let mut tx = Tx::new(&self.table);
                        add_note(&mut tx, note)?;
                        match tx.run(self).await {
                            Err(e) if e.is_condition() => {}
                            other => other?,
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// A page of a person's inbox, newest first, each item's `read` set.
    pub async fn notifications_page(
        &self,
        user: &UserId,
        page: &PageQuery,
        unread: &HashSet<NotificationId>,
    ) -> Result<(Vec<Notification>, Option<Cursor>), StoreError> {
        let q = KeyQuery::table(user_pk(user)).prefix(NOTE_PREFIX).newest_first();
        let (mut notes, next): (Vec<Notification>, _) = self.query_page(&q, page).await?;
        for n in &mut notes {
            n.read = !unread.contains(&n.id);
        }
        Ok((notes, next))
    }

    /// A page of a person's unread items, newest first: a page of their marks, then the
    /// items they mark.
    pub async fn unread_notifications_page(
        &self,
        user: &UserId,
        page: &PageQuery,
    ) -> Result<(Vec<Notification>, Option<Cursor>), StoreError> {
        let q = KeyQuery::table(user_pk(user)).prefix(UNREAD_PREFIX).newest_first();
        let (marks, next) = self.query_page_items(&q, page).await?;
        let keys: Vec<Item> = marks
            .iter()
            .filter_map(|m| m.get(SK).and_then(|v| v.as_s().ok()))
            .filter_map(|sk| sk.strip_prefix(UNREAD_PREFIX).and_then(NotificationId::parse))
            .map(|id| key(user_pk(user), note_sk(&id)))
            .collect();
        let mut notes: Vec<Notification> = self.batch_get_as(keys).await?;
        notes.sort_by(|a, b| b.id.cmp(&a.id));
        Ok((notes, next))
    }

    /// The IDs of a person's unread items, newest first (at most [`MAX_UNREAD_COUNTED`]):
    /// one query of their marks' keys.
    pub async fn unread_ids(&self, user: &UserId) -> Result<Vec<NotificationId>, StoreError> {
        let mut ids = Vec::new();
        let mut start: Option<std::collections::HashMap<String, AttributeValue>> = None;
        loop {
            let out = self
                .db
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :unread)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", s(user_pk(user)))
                .expression_attribute_values(":unread", s(UNREAD_PREFIX))
                .projection_expression("#sk")
                .scan_index_forward(false)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            ids.extend(
                out.items
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|m| m.get(SK).and_then(|v| v.as_s().ok()))
                    .filter_map(|sk| sk.strip_prefix(UNREAD_PREFIX).and_then(NotificationId::parse)),
            );
            match out.last_evaluated_key {
                Some(last) if ids.len() < MAX_UNREAD_COUNTED => start = Some(last),
                _ => {
                    ids.truncate(MAX_UNREAD_COUNTED);
                    return Ok(ids);
                }
            }
        }
    }

    /// Marks these items of a person read (deletes their marks, 100 a transaction); an ID
    /// already read or not theirs changes nothing.
    pub async fn mark_read(&self, user: &UserId, ids: &[NotificationId]) -> Result<(), StoreError> {
        let ids: Vec<&NotificationId> = ids.iter().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        for chunk in ids.chunks(super::tx::MAX_ACTIONS) {
            let mut tx = Tx::new(&self.table);
            for id in chunk {
                tx.delete(key(user_pk(user), unread_sk(id)), None)?;
            }
            tx.run(self).await?;
        }
        Ok(())
    }

    /// Changes a person's mail settings: each kind named on or off, and the organizations
    /// muted when given (replacing the list). One update of their profile, which must
    /// exist (`ConditionFailed` otherwise); the profile as changed.
    pub async fn set_mail_settings(
        &self,
        user: &UserId,
        kinds: &[(MailKind, bool)],
        muted_orgs: Option<&[OrgId]>,
    ) -> Result<User, StoreError> {
        let mut set = Vec::new();
        let mut remove = Vec::new();
        let mut expr = Expr::condition("attribute_exists(pk)");
        for (i, (kind, on)) in kinds.iter().enumerate() {
            let name = format!("#k{i}");
            expr = expr.name(&name, mail_off_attr(*kind));
            if *on {
                remove.push(name);
            } else {
                set.push(format!("{name} = :off"));
            }
        }
        if kinds.iter().any(|(_, on)| !on) {
            expr = expr.value(":off", AttributeValue::Bool(true));
        }
        if let Some(orgs) = muted_orgs {
            expr = expr.name("#muted", "muted_orgs");
            if orgs.is_empty() {
                remove.push("#muted".into());
            } else {
                set.push("#muted = :muted".into());
                let list = orgs.iter().map(|o| s(o.to_string())).collect();
                expr = expr.value(":muted", AttributeValue::L(list));
            }
        }
        set.push("updated_at = :now".into());
        expr = expr.value(":now", s(crate::domain::Timestamp::now().to_string()));
        let mut update = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let out = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(user_key(user)))
            .update_expression(update)
            .set_condition_expression(expr.condition)
            .set_expression_attribute_names((!expr.names.is_empty()).then_some(expr.names))
            .set_expression_attribute_values(Some(expr.values))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await
            .map_err(classify)?;
        from_item(out.attributes.ok_or_else(|| StoreError::Other("update returned no item".into()))?)
    }
}
