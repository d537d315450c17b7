//! Paging: an opaque position in a list and the `limit` rule (default 50, max 200).
//! A leaf: the store turns cursors into start keys, `http` parses them from requests.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

pub const DEFAULT_LIMIT: i32 = 50;
pub const MAX_LIMIT: i32 = 200;
/// The longest cursor taken (the cursors given out are far shorter).
pub const MAX_CURSOR: usize = 4096;

/// A cursor that is not one a list gave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid cursor")]
pub struct InvalidCursor;

/// Why a list request's paging is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("limit must be a whole number from 1 to {MAX_LIMIT}")]
    Limit,
    #[error("invalid cursor")]
    Cursor,
}

impl From<InvalidCursor> for PageError {
    fn from(_: InvalidCursor) -> Self {
        PageError::Cursor
    }
}

/// A position in a list: the string keys of the last item read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub HashMap<String, String>);

impl Cursor {
    pub fn encode(&self) -> String {
        let mut keys: Vec<_> = self.0.iter().collect();
        keys.sort();
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&keys).unwrap_or_default())
    }

    pub fn decode(text: &str) -> Result<Self, InvalidCursor> {
        if text.len() > MAX_CURSOR {
            return Err(InvalidCursor);
        }
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| InvalidCursor)?;
        let pairs: Vec<(String, String)> = serde_json::from_slice(&bytes).map_err(|_| InvalidCursor)?;
        if pairs.is_empty() || pairs.len() > 4 {
            return Err(InvalidCursor);
        }
        Ok(Cursor(pairs.into_iter().collect()))
    }

    /// A position in a list sorted in memory (short, bounded lists such as classes).
    pub fn offset(n: usize) -> Self {
        Cursor([("offset".to_string(), n.to_string())].into())
    }

    pub fn as_offset(&self) -> Result<usize, InvalidCursor> {
        self.0.get("offset").and_then(|o| o.parse().ok()).ok_or(InvalidCursor)
    }
}

/// `limit` and `cursor` of a list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageQuery {
    pub limit: i32,
    pub cursor: Option<Cursor>,
}

impl PageQuery {
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, PageError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(text) => match text.trim().parse::<i32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(PageError::Limit),
            },
        };
        let cursor = match cursor {
            None | Some("") => None,
            Some(text) => Some(Cursor::decode(text)?),
        };
        Ok(PageQuery { limit, cursor })
    }

    /// Pages a list held in memory.
    pub fn slice<T>(&self, all: Vec<T>) -> Result<(Vec<T>, Option<Cursor>), InvalidCursor> {
        let from = match &self.cursor {
            Some(c) => c.as_offset()?,
            None => 0,
        };
        let to = from.saturating_add(self.limit as usize).min(all.len());
        let next = (to < all.len()).then(|| Cursor::offset(to));
        Ok((all.into_iter().skip(from).take(to.saturating_sub(from)).collect(), next))
    }
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
}
