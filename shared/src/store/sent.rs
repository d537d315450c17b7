//! Send claims: one item per (event, recipient) so an email goes out at most once even
//! when the stream delivers its event twice.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::items::sent_key;
use super::keys::TTL;
use super::tx::{n, s};
use super::{classify, Store, StoreError};

/// How long a claim holds a send before another delivery may take it over.
pub const CLAIM_SECS: i64 = 120;
/// Records of sent mail live a month (far beyond the stream's 24 hours).
pub const SENT_TTL_SECS: i64 = 30 * 24 * 3600;

pub enum SendClaim {
    Acquired,
    AlreadySent,
    /// Another delivery holds a live claim.
    InProgress,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Store {
    pub async fn claim_send(&self, event: &str, to: &str) -> Result<SendClaim, StoreError> {
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
                    let sent =
                        c.item().and_then(|i| i.get("state")).and_then(|v| v.as_s().ok()).is_some_and(|v| v == "sent");
                    return Ok(if sent { SendClaim::AlreadySent } else { SendClaim::InProgress });
                }
                Err(classify(e))
            }
        }
    }

    pub async fn mark_sent(&self, event: &str, to: &str) -> Result<(), StoreError> {
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
    }

    pub async fn release_send(&self, event: &str, to: &str) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(sent_key(event, to)))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
