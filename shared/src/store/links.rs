//! Invitation links: an admin's link that people use to ask to join. Only the token's
//! SHA-256 is kept, in a lookup item that leads from the token to the link.

use super::items::{decline_item, link_item, link_key, token_item, token_key, token_target};
use super::keys::*;
use super::pieces::add_audit;
use super::read::KeyQuery;
use super::tx::{b, n, Expr, Tx};
use super::{classify, Store, StoreError};
use crate::domain::{AuditEntry, InviteLink, LinkId, OrgId, Timestamp, UserId};
use crate::page::{Cursor, PageQuery};

impl Store {
    pub async fn create_link(&self, link: &InviteLink, audit: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = Tx::new(&self.table);
        tx.put(link_item(link)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
        tx.put(token_item(link), Some(Expr::condition("attribute_not_exists(pk)")))?;
        add_audit(&mut tx, audit)?;
        tx.run(self).await
    }

    pub async fn link(&self, org: &OrgId, id: &LinkId) -> Result<Option<InviteLink>, StoreError> {
        self.get(link_key(org, id)).await
    }

    /// The link a token opens (two reads: the lookup, then the link), its hash compared in
    /// constant time.
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
        let Some((org, id)) = token_target(&item) else {
            return Ok(None);
        };
        let link = self.link(&org, &id).await?;
        Ok(link.filter(|l| l.opened_by(token_hash)))
    }

    /// Every link of the organization (links leave the table 90 days after they expire).
    pub async fn all_links(&self, org: &OrgId) -> Result<Vec<InviteLink>, StoreError> {
        self.query_all(&KeyQuery::table(org_pk(org)).prefix(LINK_PREFIX)).await
    }

    /// A page of the organization's links, newest first.
    pub async fn links(&self, org: &OrgId, page: &PageQuery) -> Result<(Vec<InviteLink>, Option<Cursor>), StoreError> {
        self.query_page(&KeyQuery::table(org_pk(org)).prefix(LINK_PREFIX).newest_first(), page).await
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
        add_audit(&mut tx, audit)?;
        match tx.run(self).await {
            Ok(()) => Ok(true),
            Err(e) if e.condition_failed_at(0) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Records that a person declined a link (once); uses nothing.
    pub async fn decline_link(&self, link: &InviteLink, user: &UserId) -> Result<(), StoreError> {
        let mut tx = Tx::new(&self.table);
        tx.put(decline_item(link, user, Timestamp::now()), Some(Expr::condition("attribute_not_exists(pk)")))?;
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
