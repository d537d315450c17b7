//! Opaque page cursors over DynamoDB's LastEvaluatedKey, and the `limit` rule
//! (default 50, max 200).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;

pub const DEFAULT_LIMIT: i32 = 50;
pub const MAX_LIMIT: i32 = 200;

/// A position in a list: the string keys of the last item read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub HashMap<String, String>);

impl Cursor {
    pub fn encode(&self) -> String {
        let mut keys: Vec<_> = self.0.iter().collect();
        keys.sort();
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&keys).unwrap_or_default())
    }

    pub fn decode(text: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::BadRequest {
            code: "invalid_cursor",
            detail: "The cursor is not one this list gave out; start again without it.".into(),
        };
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| bad())?;
        let pairs: Vec<(String, String)> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if pairs.is_empty() || pairs.len() > 4 {
            return Err(bad());
        }
        Ok(Cursor(pairs.into_iter().collect()))
    }

    /// A position in a list sorted in memory (short, bounded lists such as classes).
    pub fn offset(n: usize) -> Self {
        Cursor([("offset".to_string(), n.to_string())].into())
    }

    pub fn as_offset(&self) -> Result<usize, ApiError> {
        self.0.get("offset").and_then(|o| o.parse().ok()).ok_or_else(|| ApiError::BadRequest {
            code: "invalid_cursor",
            detail: "The cursor is not one this list gave out; start again without it.".into(),
        })
    }

    /// From DynamoDB's LastEvaluatedKey (all our keys are strings).
    pub fn from_key(key: &HashMap<String, AttributeValue>) -> Option<Self> {
        let mut map = HashMap::new();
        for (k, v) in key {
            map.insert(k.clone(), v.as_s().ok()?.clone());
        }
        Some(Cursor(map))
    }

    /// As an ExclusiveStartKey, after checking that it belongs to the partition being read
    /// (a cursor from another list is refused rather than passed to DynamoDB).
    pub fn to_start_key(&self, key_attr: &str, expected: &str) -> Result<HashMap<String, AttributeValue>, ApiError> {
        self.checked_start_key(&[key_attr], key_attr, expected, None, |_| true)
    }

    /// As [`Cursor::to_start_key`], checking the whole key: exactly the attributes `attrs`,
    /// the partition `pk_attr = expected`, and the sort key `sk_attr` accepted by `sk_ok`
    /// (inside the range the query reads).
    pub fn checked_start_key(
        &self,
        attrs: &[&str],
        pk_attr: &str,
        expected: &str,
        sk_attr: Option<&str>,
        sk_ok: impl Fn(&str) -> bool,
    ) -> Result<HashMap<String, AttributeValue>, ApiError> {
        let bad = || ApiError::BadRequest {
            code: "invalid_cursor",
            detail: "The cursor is not one this list gave out; start again without it.".into(),
        };
        let same_attrs = attrs.len() == self.0.len() || attrs.len() == 1;
        if !same_attrs || !attrs.iter().all(|a| self.0.contains_key(*a)) {
            return Err(bad());
        }
        if self.0.get(pk_attr).map(String::as_str) != Some(expected) {
            return Err(bad());
        }
        if let Some(sk) = sk_attr {
            if !self.0.get(sk).is_some_and(|v| sk_ok(v)) {
                return Err(bad());
            }
        }
        Ok(self.0.iter().map(|(k, v)| (k.clone(), AttributeValue::S(v.clone()))).collect())
    }
}

/// `limit` and `cursor` of a list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageQuery {
    pub limit: i32,
    pub cursor: Option<Cursor>,
}

impl PageQuery {
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(text) => match text.trim().parse::<i32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(ApiError::validation("limit", format!("must be a whole number from 1 to {MAX_LIMIT}")))
                }
            },
        };
        let cursor = match cursor {
            None | Some("") => None,
            Some(text) => Some(Cursor::decode(text)?),
        };
        Ok(PageQuery { limit, cursor })
    }
}

impl PageQuery {
    /// Pages a list held in memory.
    pub fn slice<T>(&self, all: Vec<T>) -> Result<(Vec<T>, Option<Cursor>), ApiError> {
        let from = match &self.cursor {
            Some(c) => c.as_offset()?,
            None => 0,
        };
        let to = from.saturating_add(self.limit as usize).min(all.len());
        let next = (to < all.len()).then(|| Cursor::offset(to));
        Ok((all.into_iter().skip(from).take(to.saturating_sub(from)).collect(), next))
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to read the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_and_bounds() {
        assert_eq!(PageQuery::parse(None, None).unwrap().limit, 50);
        assert_eq!(PageQuery::parse(Some("200"), None).unwrap().limit, 200);
        assert!(PageQuery::parse(Some("201"), None).is_err());
        assert!(PageQuery::parse(Some("0"), None).is_err());
        assert!(PageQuery::parse(Some("ten"), None).is_err());
    }

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
