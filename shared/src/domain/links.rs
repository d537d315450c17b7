//! Invitation links: an admin's link that people use to ask to join, and the keys their
//! tokens are derived with.

use std::collections::BTreeMap;

use aws_lc_rs::{constant_time, hmac};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{GroupId, LinkId, OrgId, RoleGrant, Timestamp, UserId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InviteLink {
    pub id: LinkId,
    pub org_id: OrgId,
    /// Hex SHA-256 of the token (the token itself is never stored).
    pub token_hash: String,
    /// The version of the links' key its token was derived with ([`LinkKeys`]). `None`:
    /// a link made before tokens were derived, whose random token cannot be shown again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_version: Option<u32>,
    pub roles: Vec<RoleGrant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<GroupId>,
    pub expires_at: Timestamp,
    /// `None`: unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
    #[serde(default)]
    pub uses: u32,
    #[serde(default)]
    pub declines: u32,
    #[serde(default)]
    pub revoked: bool,
    pub created_by: UserId,
    pub created_at: Timestamp,
}

/// Why a link cannot be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    Expired,
    Revoked,
    UsedUp,
}

impl InviteLink {
    pub fn refusal(&self, now: Timestamp) -> Option<LinkRefusal> {
        if self.revoked {
            Some(LinkRefusal::Revoked)
        } else if self.expires_at <= now {
            Some(LinkRefusal::Expired)
        } else if self.max_uses.is_some_and(|max| self.uses >= max) {
            Some(LinkRefusal::UsedUp)
        } else {
            None
        }
    }

    /// Whether `token_hash` (the SHA-256 of a presented token) is this link's, compared in
    /// constant time.
    pub fn opened_by(&self, token_hash: &str) -> bool {
        constant_time::verify_slices_are_equal(self.token_hash.as_bytes(), token_hash.as_bytes()).is_ok()
    }

    /// What audit entries record of a new link.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({"roles": self.roles, "expires_at": self.expires_at, "max_uses": self.max_uses, "group_id": self.group_id})
    }
}

/// The keys that derive links' tokens: the token is
/// `base64url(HMAC-SHA256(key, "kabinet-link-v1:<org>:<link ID>"))`, 256 bits. It is thus
/// shown again from the link's ID alone, and the table keeps only its SHA-256. Read from the secret, a JSON object of
/// versions and keys (`{"1": "<key>", "2": "<key>"}`): new links take the highest version,
/// and each link keeps the version it was made with.
pub struct LinkKeys {
    keys: BTreeMap<u32, hmac::Key>,
}

/// What a key must have at least (a 64-character generated key has about 380 bits).
pub const MIN_LINK_KEY_BYTES: usize = 32;

impl LinkKeys {
    /// The keys in a secret's text. The error never quotes the secret.
    pub fn parse(secret: &str) -> Result<LinkKeys, String> {
        let raw: BTreeMap<String, String> =
            serde_json::from_str(secret).map_err(|_| "not a JSON object of versions and keys".to_string())?;
        let mut keys = BTreeMap::new();
        for (version, key) in raw {
            let v: u32 = version.parse().map_err(|_| format!("version {version:?} is not a whole number"))?;
            if key.len() < MIN_LINK_KEY_BYTES {
                return Err(format!("the key of version {v} has fewer than {MIN_LINK_KEY_BYTES} bytes"));
            }
            keys.insert(v, hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes()));
        }
        if keys.is_empty() {
            return Err("no key".into());
        }
        Ok(LinkKeys { keys })
    }

    /// The version new links' tokens are derived with: the highest.
    pub fn current(&self) -> u32 {
        self.keys.keys().next_back().copied().unwrap_or_default()
    }

    /// The token of link `id` of `org` under key `version`, if the secret still holds it.
    pub fn token(&self, version: u32, org: &OrgId, id: &LinkId) -> Option<String> {
        self.sign(version, &format!("kabinet-link-v1:{org}:{id}"))
    }

    /// The tag (HMAC-SHA256, base64url) of `message` under key `version`, if the secret
    /// still holds it. Each use signs messages that name their purpose first
    /// (`kabinet-link-v1:`, `kabinet-unsubscribe-v1:`), so a tag of one is never another's.
    pub fn sign(&self, version: u32, message: &str) -> Option<String> {
        let key = self.keys.get(&version)?;
        Some(URL_SAFE_NO_PAD.encode(hmac::sign(key, message.as_bytes()).as_ref()))
    }

    /// Whether `tag` is the tag of `message` under key `version` (compared in constant
    /// time); false for a version the secret no longer holds.
    pub fn verify(&self, version: u32, message: &str, tag: &str) -> bool {
        let (Some(key), Ok(tag)) = (self.keys.get(&version), URL_SAFE_NO_PAD.decode(tag)) else { return false };
        hmac::verify(key, message.as_bytes(), &tag).is_ok()
    }
}

/// The versions only: never a key.
impl std::fmt::Debug for LinkKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkKeys").field("versions", &self.keys.keys().collect::<Vec<_>>()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0123456789abcdef0123456789abcdef-key-a";
    const B: &str = "0123456789abcdef0123456789abcdef-key-b";

    fn keys(json: &str) -> LinkKeys {
        LinkKeys::parse(json).unwrap()
    }

    #[test]
    fn the_same_id_and_key_give_the_same_token_and_another_key_another() {
        let org = OrgId::parse("k7m3xq9pza").unwrap();
        let id = &LinkId::parse("01m8gpz9njkpaygg3we2jakp4t").unwrap();
        let one = keys(&format!(r#"{{"1": "{A}"}}"#));
        let token = one.token(1, &org, id).unwrap();
        assert_eq!(token.len(), 43, "256 bits, base64url: {token}");
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(keys(&format!(r#"{{"1": "{A}"}}"#)).token(1, &org, id), Some(token.clone()), "same key, same token");
        assert_ne!(keys(&format!(r#"{{"1": "{B}"}}"#)).token(1, &org, id).unwrap(), token, "another key");
        assert_ne!(
            one.token(1, &org, &LinkId::parse("01m8gpz9njkpaygg3we2jakp4v").unwrap()).unwrap(),
            token,
            "another link"
        );
        let other_org = OrgId::parse("k7m3xq9pzb").unwrap();
        assert_ne!(one.token(1, &other_org, id).unwrap(), token, "another organization");
        // HMAC-SHA256 of the documented message, by an independent computation.
        let expected = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, A.as_bytes()),
            b"kabinet-link-v1:k7m3xq9pza:01m8gpz9njkpaygg3we2jakp4t",
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(&token).unwrap(), expected.as_ref());
    }

    #[test]
    fn each_link_keeps_its_key_version() {
        let org = OrgId::parse("k7m3xq9pza").unwrap();
        let id = &LinkId::parse("01m8gpz9njkpaygg3we2jakp4t").unwrap();
        let before = keys(&format!(r#"{{"1": "{A}"}}"#));
        let rotated = keys(&format!(r#"{{"1": "{A}", "2": "{B}"}}"#));
        assert_eq!((before.current(), rotated.current()), (1, 2));
        assert_eq!(rotated.token(1, &org, id), before.token(1, &org, id), "old links show the same token");
        assert_ne!(rotated.token(2, &org, id), rotated.token(1, &org, id));
        // A version the secret no longer holds: no token.
        assert_eq!(keys(&format!(r#"{{"2": "{B}"}}"#)).token(1, &org, id), None);
        assert_eq!(keys(&format!(r#"{{"10": "{B}", "9": "{A}"}}"#)).current(), 10, "by number, not by text");
    }

    #[test]
    fn a_malformed_secret_is_refused_without_quoting_it() {
        let short = "a-short-key-of-31-bytes-0123456";
        for secret in [
            String::new(),
            "not json".into(),
            "{}".into(),
            format!(r#"{{"1": "{short}"}}"#),
            format!(r#"{{"one": "{A}"}}"#),
            format!(r#"["{A}"]"#),
        ] {
            let why = LinkKeys::parse(&secret).unwrap_err();
            assert!(!why.contains(A) && !why.contains(short), "{why}");
        }
        let debug = format!("{:?}", keys(&format!(r#"{{"1": "{A}"}}"#)));
        assert!(!debug.contains(A) && debug.contains("[1]"), "{debug}");
    }

    #[test]
    fn a_token_opens_its_link_only() {
        let link = InviteLink {
            id: LinkId::parse("01m8gpz9njkpaygg3we2jakp4t").unwrap(),
            org_id: OrgId::parse("k7m3xq9pza").unwrap(),
            token_hash: "ab".repeat(32),
            key_version: Some(1),
            roles: vec![],
            group_id: None,
            expires_at: Timestamp::now(),
            max_uses: None,
            uses: 0,
            declines: 0,
            revoked: false,
            created_by: UserId::parse("u").unwrap(),
            created_at: Timestamp::now(),
        };
        assert!(link.opened_by(&"ab".repeat(32)));
        assert!(!link.opened_by(&"ab".repeat(31)) && !link.opened_by(&"ac".repeat(32)));
    }
}
