//! Reads: one item by key, items by keys, and queries on the table or an index, a page
//! at a time or every page; and the conversion between list cursors and DynamoDB's
//! start keys.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use serde::de::DeserializeOwned;

use super::keys::*;
use super::tx::{s, Expr, Item};
use super::{classify, serde_err, Store, StoreError};
use crate::page::{Cursor, InvalidCursor, PageQuery};

/// A cursor as a DynamoDB start key (and back): the conversion between the opaque list
/// position and LastEvaluatedKey, with the check that a cursor belongs to the list read.
pub trait StartKey: Sized {
    /// From DynamoDB's LastEvaluatedKey (all our keys are strings).
    fn from_key(key: &HashMap<String, AttributeValue>) -> Option<Self>;

    /// As an ExclusiveStartKey, after checking that it belongs to the partition being read
    /// (a cursor from another list is refused rather than passed to DynamoDB).
    fn to_start_key(&self, key_attr: &str, expected: &str) -> Result<HashMap<String, AttributeValue>, InvalidCursor> {
        self.checked_start_key(&[key_attr], key_attr, expected, None, |_| true)
    }

    /// As [`StartKey::to_start_key`], checking the whole key: exactly the attributes
    /// `attrs`, the partition `pk_attr = expected`, and the sort key `sk_attr` accepted by
    /// `sk_ok` (inside the range the query reads).
    fn checked_start_key(
        &self,
        attrs: &[&str],
        pk_attr: &str,
        expected: &str,
        sk_attr: Option<&str>,
        sk_ok: impl Fn(&str) -> bool,
    ) -> Result<HashMap<String, AttributeValue>, InvalidCursor>;
}

impl StartKey for Cursor {
    fn from_key(key: &HashMap<String, AttributeValue>) -> Option<Self> {
        let mut map = HashMap::new();
        for (k, v) in key {
            map.insert(k.clone(), v.as_s().ok()?.clone());
        }
        Some(Cursor(map))
    }

    fn checked_start_key(
        &self,
        attrs: &[&str],
        pk_attr: &str,
        expected: &str,
        sk_attr: Option<&str>,
        sk_ok: impl Fn(&str) -> bool,
    ) -> Result<HashMap<String, AttributeValue>, InvalidCursor> {
        // DynamoDB refuses empty key values (a 500, not the 400 a bad cursor is).
        if self.0.values().any(|v| v.is_empty()) {
            return Err(InvalidCursor);
        }
        let same_attrs = attrs.len() == self.0.len() || attrs.len() == 1;
        if !same_attrs || !attrs.iter().all(|a| self.0.contains_key(*a)) {
            return Err(InvalidCursor);
        }
        if self.0.get(pk_attr).map(String::as_str) != Some(expected) {
            return Err(InvalidCursor);
        }
        if let Some(sk) = sk_attr {
            if !self.0.get(sk).is_some_and(|v| sk_ok(v)) {
                return Err(InvalidCursor);
            }
        }
        Ok(self.0.iter().map(|(k, v)| (k.clone(), AttributeValue::S(v.clone()))).collect())
    }
}

/// A query: a partition of the table or of an index, optionally narrowed by its sort key,
/// optionally filtered.
#[derive(Debug, Clone)]
pub struct KeyQuery {
    index: Option<&'static str>,
    pk: String,
    sk: Option<(&'static str, String)>,
    forward: bool,
    filter: Option<Expr>,
}

impl KeyQuery {
    /// The items of a partition of the table.
    pub fn table(pk: impl Into<String>) -> Self {
        KeyQuery { index: None, pk: pk.into(), sk: None, forward: true, filter: None }
    }

    /// The items of a partition of an index (`GSI1`, `GSI2`).
    pub fn index(index: &'static str, pk: impl Into<String>) -> Self {
        KeyQuery { index: Some(index), ..Self::table(pk) }
    }

    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.sk = Some(("begins_with(#sk, :sk)", prefix.into()));
        self
    }

    pub fn equals(mut self, sk: impl Into<String>) -> Self {
        self.sk = Some(("#sk = :sk", sk.into()));
        self
    }

    pub fn newest_first(mut self) -> Self {
        self.forward = false;
        self
    }

    /// A filter expression (with its names and values) applied after the key condition.
    pub fn filter(mut self, filter: Expr) -> Self {
        self.filter = Some(filter);
        self
    }

    /// The cursor as a start key, if it is one this query gave out: the key attributes of
    /// the table (and of the index), this partition, a sort key within the query's range.
    fn check_cursor(&self, c: &Cursor) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let (pk_attr, sk_attr) = self.key_attrs();
        let mut attrs = vec![PK, SK];
        if self.index.is_some() {
            attrs.extend([pk_attr, sk_attr]);
        }
        let range = self.sk.clone();
        c.checked_start_key(&attrs, pk_attr, &self.pk, Some(sk_attr), |sk| match &range {
            Some((cond, v)) if cond.starts_with("begins_with") => sk.starts_with(v.as_str()),
            Some((_, v)) => sk == v,
            None => true,
        })
        .map_err(|_| StoreError::InvalidCursor)
    }

    fn key_attrs(&self) -> (&'static str, &'static str) {
        match self.index {
            Some(GSI1) => (GSI1PK, GSI1SK),
            Some(GSI2) => (GSI2PK, GSI2SK),
            _ => (PK, SK),
        }
    }
}

fn parse_all<T: DeserializeOwned>(items: Option<Vec<Item>>) -> Result<Vec<T>, StoreError> {
    items.unwrap_or_default().into_iter().map(|i| serde_dynamo::from_item(i).map_err(serde_err)).collect()
}

impl Store {
    /// One item by key, read consistently.
    pub async fn get<T: DeserializeOwned>(&self, key: Item) -> Result<Option<T>, StoreError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(|i| serde_dynamo::from_item(i).map_err(serde_err)).transpose()
    }

    /// Reads items by key, 100 a call, retrying what DynamoDB leaves unprocessed.
    pub async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending = chunk.to_vec();
            for attempt in 0..6 {
                if pending.is_empty() {
                    break;
                }
                // Consistent: these reads decide who may do what.
                let ka = KeysAndAttributes::builder()
                    .set_keys(Some(pending.clone()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Other(e.to_string()))?;
                let out = self.db.batch_get_item().request_items(&self.table, ka).send().await.map_err(classify)?;
                if let Some(mut responses) = out.responses {
                    found.extend(responses.remove(&self.table).unwrap_or_default());
                }
                pending =
                    out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).map(|ka| ka.keys).unwrap_or_default();
                if !pending.is_empty() {
                    tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
                }
            }
            if !pending.is_empty() {
                return Err(StoreError::Other("batch get left keys unprocessed".into()));
            }
        }
        Ok(found)
    }

    /// Items by key as entities (missing ones are left out).
    pub async fn batch_get_as<T: DeserializeOwned>(&self, keys: Vec<Item>) -> Result<Vec<T>, StoreError> {
        parse_all(Some(self.batch_get(keys).await?))
    }

    async fn query_once(
        &self,
        q: &KeyQuery,
        limit: Option<i32>,
        start: Option<HashMap<String, AttributeValue>>,
    ) -> Result<(Option<Vec<Item>>, Option<HashMap<String, AttributeValue>>), StoreError> {
        let (pk_attr, sk_attr) = q.key_attrs();
        let mut condition = "#pk = :pk".to_string();
        let mut names = HashMap::from([("#pk".to_string(), pk_attr.to_string())]);
        let mut values = HashMap::from([(":pk".to_string(), s(&q.pk))]);
        if let Some((cond, sk)) = &q.sk {
            condition.push_str(&format!(" AND {cond}"));
            names.insert("#sk".into(), sk_attr.into());
            values.insert(":sk".into(), s(sk));
        }
        let mut req = self
            .db
            .query()
            .table_name(&self.table)
            .set_index_name(q.index.map(str::to_owned))
            .key_condition_expression(condition)
            .scan_index_forward(q.forward)
            .set_limit(limit)
            .set_exclusive_start_key(start);
        if let Some(f) = &q.filter {
            names.extend(f.names.clone());
            values.extend(f.values.clone());
            req = req.set_filter_expression(f.condition.clone());
        }
        let out = req
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await
            .map_err(classify)?;
        Ok((out.items, out.last_evaluated_key))
    }

    /// One page; the cursor must come from the same partition.
    pub async fn query_page<T: DeserializeOwned>(
        &self,
        q: &KeyQuery,
        page: &PageQuery,
    ) -> Result<(Vec<T>, Option<Cursor>), StoreError> {
        let (items, next) = self.query_page_items(q, page).await?;
        Ok((parse_all(Some(items))?, next))
    }

    /// One page of raw items (for a partition holding entities of more than one kind).
    pub async fn query_page_items(
        &self,
        q: &KeyQuery,
        page: &PageQuery,
    ) -> Result<(Vec<Item>, Option<Cursor>), StoreError> {
        let start = match &page.cursor {
            Some(c) => Some(q.check_cursor(c)?),
            None => None,
        };
        let (items, last) = self.query_once(q, Some(page.limit), start).await?;
        Ok((items.unwrap_or_default(), last.as_ref().and_then(Cursor::from_key)))
    }

    /// Every page (for partitions known to stay small: a school's classes, links, admins).
    pub async fn query_all<T: DeserializeOwned>(&self, q: &KeyQuery) -> Result<Vec<T>, StoreError> {
        let mut all = Vec::new();
        let mut start = None;
        loop {
            let (items, last) = self.query_once(q, None, start).await?;
            all.extend(parse_all(items)?);
            match last {
                Some(key) => start = Some(key),
                None => return Ok(all),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Cursor([("pk".to_string(), "USER#1".to_string()), ("sk".into(), "ORG#a".into())].into());
        let text = c.encode();
        assert_eq!(Cursor::decode(&text).unwrap(), c);
        assert!(Cursor::decode("not-a-cursor!").is_err());
        assert!(c.to_start_key("pk", "USER#2").is_err());
        assert!(c.to_start_key("pk", "USER#1").is_ok());
    }
}
