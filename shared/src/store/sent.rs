//! Send claims: one item per (event, recipient) so an email goes out at most once even
//! when the stream delivers its event twice.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::items::sent_key;
use super::keys::{event_pk, EVENT, TTL};
use super::tx::{key, n, s, Expr, Tx};
use super::{classify, Store, StoreError};
use crate::domain::ids::EventId;

/// How long a claim holds a send before another delivery may take it over: longer than
/// the notifier function may run (60 s), so that a claim outlives only a delivery that
/// crashed or timed out.
pub const CLAIM_SECS: i64 = 75;
/// Records of sent mail live a month (far beyond the stream's 24 hours).
pub const SENT_TTL_SECS: i64 = 30 * 24 * 3600;

/// The recipient a failure of a whole event (one whose data cannot be read) is claimed
/// under.
const WHOLE_EVENT: &str = "*";

/// What a skipped recipient's claim is keyed by: their user ID, never an address.
const SKIPPED_PREFIX: &str = "skipped:";

pub enum SendClaim {
    Acquired,
    AlreadySent,
    /// An earlier delivery found that it cannot be sent; that is recorded on the event.
    Failed,
    /// Another delivery holds a live claim.
    InProgress,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Store {
    pub async fn claim_send(&self, event: &EventId, to: &str) -> Result<SendClaim, StoreError> {
        let now = now();
        let mut item = sent_key(event, to);
        item.insert("state".into(), s("sending"));
        item.insert("locked_until".into(), n(now + CLAIM_SECS));
        item.insert(TTL.into(), n(now + SENT_TTL_SECS));
        let result = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR (#state = :sending AND locked_until < :now)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":now", n(now))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(SendClaim::Acquired),
            Err(e) => {
                if let Some(PutItemError::ConditionalCheckFailedException(c)) = e.as_service_error() {
                    let state = c.item().and_then(|i| i.get("state")).and_then(|v| v.as_s().ok());
                    return Ok(match state.map(String::as_str) {
                        Some("sent") => SendClaim::AlreadySent,
                        Some("failed") => SendClaim::Failed,
                        _ => SendClaim::InProgress,
                    });
                }
                Err(classify(e))
            }
        }
    }

    /// Records a mail as sent, insisting for about 3 s while the table is unavailable: a
    /// send left claimed would go again once its claim expired and its event came back.
    pub async fn mark_sent(&self, event: &EventId, to: &str) -> Result<(), StoreError> {
        super::insist(5, std::time::Duration::from_millis(200), || async {
            self.db
                .update_item()
                .table_name(&self.table)
                .set_key(Some(sent_key(event, to)))
                .update_expression("SET #state = :sent, sent_at = :at")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":sent", AttributeValue::S("sent".into()))
                .expression_attribute_values(":at", n(now()))
                .send()
                .await
                .map_err(classify)?;
            Ok(())
        })
        .await
    }

    pub async fn release_send(&self, event: &EventId, to: &str) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(sent_key(event, to)))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Records for good that `event`'s email to `to` cannot be sent (the whole event's,
    /// when `to` is none): on the send claim, so that no redelivery tries again, and on
    /// the event item, whose `failures` lists each `{to, reason, at}`; both or neither.
    /// Recording it again, or over a claim already sent, changes nothing (and answers
    /// `false`); an event item that is
    /// gone is not made again.
    pub async fn record_send_failure(
        &self,
        event: &EventId,
        to: Option<&str>,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let now = now();
        let mut claim = sent_key(event, to.unwrap_or(WHOLE_EVENT));
        claim.insert("state".into(), s("failed"));
        claim.insert("reason".into(), s(reason));
        claim.insert("failed_at".into(), n(now));
        claim.insert(TTL.into(), n(now + SENT_TTL_SECS));
        // Over no claim or a claim being sent; one already sent or failed stays as it is.
        let not_recorded = Expr::condition("attribute_not_exists(pk) OR #state = :sending")
            .name("#state", "state")
            .value(":sending", s("sending"));
        let failure = AttributeValue::M(
            [
                ("to".to_string(), to.map_or(AttributeValue::Null(true), s)),
                ("reason".into(), s(reason)),
                ("at".into(), n(now)),
            ]
            .into(),
        );
        let update = Expr::update("SET failures = list_append(if_not_exists(failures, :none), :this)")
            .when("attribute_exists(pk)")
            .value(":none", AttributeValue::L(vec![]))
            .value(":this", AttributeValue::L(vec![failure]));
        let mut tx = Tx::new(&self.table);
        tx.put(claim.clone(), Some(not_recorded))?;
        tx.update(key(event_pk(event), EVENT), update)?;
        match tx.run(self).await {
            Ok(()) => Ok(true),
            Err(e) if e.condition_failed_at(0) => Ok(false),
            // The event item is gone (it lives a week, the stream's records a day): the
            // claim still stops the retries.
            Err(e) if e.condition_failed_at(1) => {
                self.db.put_item().table_name(&self.table).set_item(Some(claim)).send().await.map_err(classify)?;
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }

    /// Records on the event item that its email to a person was not sent because their
    /// address is not verified (`skipped` lists each `{user_id, reason, at}`): not a
    /// failure, and not retried. Recorded once per person: a redelivery that finds the
    /// claim changes nothing.
    pub async fn record_send_skipped(&self, event: &EventId, user: &str, reason: &str) -> Result<(), StoreError> {
        let now = now();
        let mut claim = sent_key(event, &format!("{SKIPPED_PREFIX}{user}"));
        claim.insert("state".into(), s("skipped"));
        claim.insert("reason".into(), s(reason));
        claim.insert(TTL.into(), n(now + SENT_TTL_SECS));
        let skip = AttributeValue::M(
            [("user_id".to_string(), s(user)), ("reason".into(), s(reason)), ("at".into(), n(now))].into(),
        );
        let update = Expr::update("SET skipped = list_append(if_not_exists(skipped, :none), :this)")
            .when("attribute_exists(pk)")
            .value(":none", AttributeValue::L(vec![]))
            .value(":this", AttributeValue::L(vec![skip]));
        let mut tx = Tx::new(&self.table);
        tx.put(claim, Some(Expr::condition("attribute_not_exists(pk)")))?;
        tx.update(key(event_pk(event), EVENT), update)?;
        match tx.run(self).await {
            Ok(()) => Ok(()),
            // Recorded already, or the event item is gone: nothing to add.
            Err(e) if e.is_condition() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Notes on the event item a failed attempt that will be retried: how many so far
    /// and the last error, for whoever looks into a delivery the failure queue names.
    pub async fn note_send_attempt_failed(&self, event: &EventId, error: &str) -> Result<(), StoreError> {
        let result = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(event_pk(event), EVENT)))
            .update_expression("SET failed_attempts = if_not_exists(failed_attempts, :zero) + :one, last_error = :e")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":e", s(error))
            .send()
            .await;
        super::done_unless_condition(result)
    }
}
