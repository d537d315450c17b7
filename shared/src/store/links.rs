//! Invitation links: an admin's link that people use to ask to join. Only the token's
//! SHA-256 is kept, in a lookup item that leads from the token to the link.

use serde::{Deserialize, Serialize};

use super::audit::AuditEntry;
use super::keys::*;
use super::read::KeyQuery;
use super::tx::{b, key, n, s, Expr, Item, Tx};
use super::{classify, serde_err, Store, StoreError};
use crate::domain::{OrgId, RoleGrant, Timestamp, UserId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InviteLink {
    pub id: String,
    pub org_id: OrgId,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    pub roles: Vec<RoleGrant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
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
}

pub fn link_key(org: &OrgId, id: &str) -> Item {
    key(org_pk(org), link_sk(id))
}

fn token_key(token_hash: &str) -> Item {
    key(format!("{LINKTOKEN_PREFIX}{token_hash}"), "LINK")
}

/// One use of a link, inside the transaction that uses it: conditional on the link being
/// usable now, so the use limit holds exactly under concurrent use.
pub fn use_link(tx: &mut Tx, link: &InviteLink, now: Timestamp) -> Result<usize, StoreError> {
    tx.update(
        link_key(&link.org_id, &link.id),
        Expr::update("SET uses = uses + :one")
            .when("attribute_exists(pk) AND revoked = :false AND expires_at > :now AND (attribute_not_exists(max_uses) OR uses < max_uses)")
            .value(":one", n(1))
            .value(":false", b(false))
            .value(":now", s(now.to_string())),
    )
}

impl Store {
    pub async fn create_link(&self, link: &InviteLink, audit: &AuditEntry) -> Result<(), StoreError> {
        let mut item: Item = serde_dynamo::to_item(link).map_err(serde_err)?;
        item.extend(link_key(&link.org_id, &link.id));
        let mut lookup = token_key(&link.token_hash);
        lookup.insert("org_id".into(), s(link.org_id.as_str()));
        lookup.insert("link_id".into(), s(&link.id));
        let mut tx = Tx::new(&self.table);
        tx.put(item, Some(Expr::condition("attribute_not_exists(pk)")))?;
        tx.put(lookup, Some(Expr::condition("attribute_not_exists(pk)")))?;
        audit.add_to(&mut tx)?;
        tx.run(self).await
    }

    pub async fn link(&self, org: &OrgId, id: &str) -> Result<Option<InviteLink>, StoreError> {
        self.get(link_key(org, id)).await
    }

    /// The link a token opens (two reads: the lookup, then the link).
    pub async fn link_by_token_hash(&self, token_hash: &str) -> Result<Option<InviteLink>, StoreError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(token_key(token_hash)))
            .send()
            .await
            .map_err(classify)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let (Some(org), Some(id)) = (
            item.get("org_id").and_then(|v| v.as_s().ok()).and_then(|o| OrgId::parse(o)),
            item.get("link_id").and_then(|v| v.as_s().ok()).cloned(),
        ) else {
            return Ok(None);
        };
        let link = self.link(&org, &id).await?;
        Ok(link.filter(|l| l.token_hash == token_hash))
    }

    /// Every link of the organization, newest first.
    pub async fn links(&self, org: &OrgId) -> Result<Vec<InviteLink>, StoreError> {
        self.query_all(&KeyQuery::table(org_pk(org)).prefix(LINK_PREFIX).newest_first()).await
    }

    /// Revokes a link; false when it already was.
    pub async fn revoke_link(&self, link: &InviteLink, audit: &AuditEntry) -> Result<bool, StoreError> {
        let mut tx = Tx::new(&self.table);
        tx.update(
            link_key(&link.org_id, &link.id),
            Expr::update("SET revoked = :true")
                .when("attribute_exists(pk) AND revoked = :false")
                .value(":true", b(true))
                .value(":false", b(false)),
        )?;
        audit.add_to(&mut tx)?;
        match tx.run(self).await {
            Ok(()) => Ok(true),
            Err(e) if e.condition_failed_at(0) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn group_exists(&self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(org), group_sk(id))))
            .send()
            .await
            .map_err(classify)?;
        Ok(out.item.is_some())
    }

    /// Records that a person declined a link (once); uses nothing.
    pub async fn decline_link(&self, link: &InviteLink, user: &UserId) -> Result<(), StoreError> {
        let mut tx = Tx::new(&self.table);
        let mut record = key(org_pk(&link.org_id), format!("{DECLINE_PREFIX}{}#{user}", link.id));
        record.insert("declined_at".into(), s(Timestamp::now().to_string()));
        tx.put(record, Some(Expr::condition("attribute_not_exists(pk)")))?;
        tx.update(
            link_key(&link.org_id, &link.id),
            Expr::update("SET declines = if_not_exists(declines, :zero) + :one")
                .when("attribute_exists(pk)")
                .value(":zero", n(0))
                .value(":one", n(1)),
        )?;
        match tx.run(self).await {
            Ok(()) => Ok(()),
            Err(e) if e.condition_failed_at(0) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
