//! Idempotency records: the first request with a key claims it, runs, and stores its
//! answer; retries with the same key get that answer back.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};

use super::items::{from_item, idempotency_key};
use super::keys::{idempotency_pk, TTL};
use super::{classify, serde_err, Store, StoreError};

/// How long a record (and so a replay) lives.
pub const RECORD_TTL_SECS: i64 = 24 * 3600;
/// How long a claim holds before another request may take over (a crashed first try).
pub const LOCK_SECS: i64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub fingerprint: String,
    pub locked_until: i64,
    /// The answer, sealed (encrypted and authenticated) under the request's
    /// `Idempotency-Key`, which the table holds only as a hash: an answer can carry a
    /// secret (a link's token), and only the client that holds the key can open it.
    #[serde(default)]
    pub response: Option<String>,
    pub ttl: i64,
}

pub enum Claim {
    /// This request holds the key: run it, then `complete` or `release`.
    Acquired,
    /// Another request holds or held the key.
    Taken(IdempotencyRecord),
}

/// Whose request with which `Idempotency-Key`: the record's partition, made of a hash of
/// both (the key itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordKey(String);

impl RecordKey {
    pub fn new(user: &str, key: &str) -> Self {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in ["kabinet idempotency record", user, key] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        RecordKey(idempotency_pk(&hex::encode(h.finalize())))
    }
}

fn key(pk: &RecordKey) -> HashMap<String, AttributeValue> {
    idempotency_key(&pk.0)
}

impl Store {
    pub async fn claim_idempotency(&self, pk: &RecordKey, fingerprint: &str, now: i64) -> Result<Claim, StoreError> {
        let record = IdempotencyRecord {
            fingerprint: fingerprint.into(),
            locked_until: now + LOCK_SECS,
            response: None,
            ttl: now + RECORD_TTL_SECS,
        };
        let mut item: HashMap<String, AttributeValue> = serde_dynamo::to_item(&record).map_err(serde_err)?;
        item.extend(key(pk));
        // Free: no record, an expired one, or an abandoned claim with the same request.
        let result = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR #ttl < :now OR (attribute_type(#response, :null) AND locked_until < :now AND fingerprint = :fp)",
            )
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_names("#response", "response")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(":null", AttributeValue::S("NULL".into()))
            .expression_attribute_values(":fp", AttributeValue::S(fingerprint.into()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(Claim::Acquired),
            Err(e) => e,
        };
        // The holder's record comes back with the refusal: no second read.
        if let Some(PutItemError::ConditionalCheckFailedException(e)) = err.as_service_error() {
            if let Some(item) = e.item() {
                return Ok(Claim::Taken(from_item(item.clone())?));
            }
        }
        match classify(err) {
            StoreError::ConditionFailed => match self.idempotency_record(pk).await? {
                Some(r) => Ok(Claim::Taken(r)),
                // Deleted meanwhile (the holder failed): the caller may try again.
                None => Box::pin(self.claim_idempotency(pk, fingerprint, now)).await,
            },
            e => Err(e),
        }
    }

    pub async fn idempotency_record(&self, pk: &RecordKey) -> Result<Option<IdempotencyRecord>, StoreError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(from_item).transpose()
    }

    /// Stores the sealed answer of the request that holds the key, insisting briefly
    /// (0.3 s) while the table is unavailable: a claim left without its answer is taken
    /// over once it expires, and a retry then would run the request again.
    pub async fn complete_idempotency(&self, pk: &RecordKey, sealed: &str) -> Result<(), StoreError> {
        super::insist(3, std::time::Duration::from_millis(100), || async {
            self.db
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(pk)))
                .update_expression("SET #response = :r")
                .expression_attribute_names("#response", "response")
                .expression_attribute_values(":r", AttributeValue::S(sealed.to_string()))
                .send()
                .await
                .map_err(classify)?;
            Ok(())
        })
        .await
    }

    /// Drops a claim whose request failed on our side, so a retry runs again.
    pub async fn release_idempotency(&self, pk: &RecordKey) -> Result<(), StoreError> {
        self.db.delete_item().table_name(&self.table).set_key(Some(key(pk))).send().await.map_err(classify)?;
        Ok(())
    }
}
