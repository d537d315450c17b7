//! Identifiers.

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// A new resource ID (an invitation, an offer, a request...): a ULID, lower-cased, as
/// the API hands them out.
pub fn new_id() -> String {
    ulid::Ulid::new().to_string().to_lowercase()
}

/// The alphabet of organization IDs: lowercase letters and digits without the look-alikes
/// 0/o, 1/l/i (and u, so IDs read aloud are not mistaken for v). 30 symbols.
const ORG_ID_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstvwxyz";
/// 10 symbols: 30^10 ~ 5.9e14 IDs (49 bits), so a collision among a region's schools is
/// vanishingly rare, and the create is conditional anyway.
pub const ORG_ID_LEN: usize = 10;

/// An organization's ID: short, unambiguous to read aloud, easy to copy (no separators,
/// selected by a double click). Parsing accepts upper case and folds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrgId(String);

impl OrgId {
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let id = (0..ORG_ID_LEN).map(|_| ORG_ID_ALPHABET[rng.random_range(0..ORG_ID_ALPHABET.len())] as char).collect();
        OrgId(id)
    }

    /// `None` for anything that cannot be an organization ID (answered as not found).
    pub fn parse(raw: &str) -> Option<Self> {
        let id = raw.trim().to_ascii_lowercase();
        (id.len() == ORG_ID_LEN && id.bytes().all(|b| ORG_ID_ALPHABET.contains(&b))).then_some(OrgId(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's ID: the identity provider's `sub`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

/// The longest user ID taken (the identity provider's `sub`).
pub const MAX_USER_ID: usize = 128;

impl UserId {
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_USER_ID
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:|@".contains(c));
        ok.then(|| UserId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_org_ids_are_short_and_unambiguous() {
        for _ in 0..1000 {
            let id = OrgId::generate();
            assert_eq!(id.as_str().len(), ORG_ID_LEN);
            assert!(id.as_str().len() <= 12);
            assert!(!id.as_str().contains(['0', 'o', '1', 'l', 'i', 'I', 'O']));
            assert_eq!(OrgId::parse(id.as_str()), Some(id.clone()));
            assert_eq!(OrgId::parse(&id.as_str().to_uppercase()), Some(id));
        }
    }

    #[test]
    fn org_id_parse_refuses_other_text() {
        assert!(OrgId::parse("short").is_none());
        assert!(OrgId::parse("abcdefghj0").is_none());
        assert!(OrgId::parse("../../etc1").is_none());
    }

    #[test]
    fn user_ids() {
        assert!(UserId::parse("0b1c2d3e-aaaa-bbbb-cccc-123456789012").is_some());
        assert!(UserId::parse("").is_none());
        assert!(UserId::parse("a#b").is_none());
    }
}
