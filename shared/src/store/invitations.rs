//! Email invitations (R4.5): an admin or teacher invites an address; the person, once
//! signed in with that verified address, accepts and becomes a member.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::AuditEntry;
use super::join_requests::{end_or_check_pending, JoinRequest};
use super::keys::*;
use super::members::{put_new_member, Membership};
use super::orgs::count_members_and_requests;
use super::outbox::Event;
use super::read::KeyQuery;
use super::tx::{key, n, s, Expr, Item, Tx};
use super::{classify, serde_err, Store, StoreError};
use crate::domain::{OrgId, RoleGrant, Timestamp, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Declined,
    Revoked,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invitation {
    pub id: String,
    pub org_id: OrgId,
    /// Lower-cased.
    pub email: String,
    pub role: RoleGrant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    pub status: InvitationStatus,
    pub invited_by: UserId,
    pub invited_by_name: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_sent_at: Timestamp,
    pub send_count: u32,
    pub version: u64,
}

pub fn invitation_key(org: &OrgId, id: &str) -> Item {
    key(org_pk(org), format!("{INVITE_PREFIX}{id}"))
}

fn guard_key(org: &OrgId, email: &str) -> Item {
    key(org_pk(org), format!("{INVITEPENDING_PREFIX}{email}"))
}

fn item(i: &Invitation) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(i).map_err(serde_err)?;
    item.extend(invitation_key(&i.org_id, &i.id));
    item.insert(GSI2PK.into(), s(format!("INVITEMAIL#{}", i.email)));
    item.insert(GSI2SK.into(), s(format!("{INVITE_PREFIX}{}", i.id)));
    Ok(item)
}

#[derive(Debug)]
pub enum InvitationError {
    /// A pending invitation for this address exists: its ID.
    AlreadyInvited(String),
    NotPending,
    AlreadyMember,
    ClassUnavailable(String),
    /// The invitee has a pending join request (or it changed): read it and pass it along.
    HasPendingRequest,
    Store(StoreError),
}

impl From<crate::store::members::NewMemberFailure> for InvitationError {
    fn from(f: crate::store::members::NewMemberFailure) -> Self {
        match f {
            crate::store::members::NewMemberFailure::AlreadyMember => InvitationError::AlreadyMember,
            crate::store::members::NewMemberFailure::ClassUnavailable(c) => InvitationError::ClassUnavailable(c),
        }
    }
}

impl From<StoreError> for InvitationError {
    fn from(e: StoreError) -> Self {
        InvitationError::Store(e)
    }
}

fn pending_version(i: &Invitation) -> Expr {
    Expr::condition("#status = :pending AND version = :read")
        .name("#status", "status")
        .value(":pending", s("pending"))
        .value(":read", n(i.version))
}

impl Store {
    /// Creates an invitation (one pending invitation per address and organization) with
    /// its email event and audit entry.
    pub async fn create_invitation(
        &self,
        i: &Invitation,
        audit: &AuditEntry,
        event: &Event,
    ) -> Result<(), InvitationError> {
        let mut tx = Tx::new(&self.table);
        tx.put(item(i)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
        let mut guard = guard_key(&i.org_id, &i.email);
        guard.insert("invitation_id".into(), s(&i.id));
        let guard_at = tx.put(guard, Some(Expr::condition("attribute_not_exists(pk)")))?;
        audit.add_to(&mut tx)?;
        event.add_to(&mut tx)?;
        match tx.run(self).await {
            Ok(()) => Ok(()),
            Err(e) if e.condition_failed_at(guard_at) => {
                let out = self
                    .db
                    .get_item()
                    .table_name(&self.table)
                    .set_key(Some(guard_key(&i.org_id, &i.email)))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(classify)?;
                let id = out
                    .item
                    .and_then(|g| g.get("invitation_id").and_then(|v| v.as_s().ok()).cloned())
                    .unwrap_or_default();
                Err(InvitationError::AlreadyInvited(id))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn invitation(&self, org: &OrgId, id: &str) -> Result<Option<Invitation>, StoreError> {
        self.get(invitation_key(org, id)).await
    }

    /// Every invitation of the organization, newest first.
    pub async fn invitations(&self, org: &OrgId) -> Result<Vec<Invitation>, StoreError> {
        self.query_all(&KeyQuery::table(org_pk(org)).prefix(INVITE_PREFIX).newest_first()).await
    }

    /// Invitations addressed to an email, across organizations (optionally one by ID).
    pub async fn invitations_to(&self, email: &str, id: Option<&str>) -> Result<Vec<Invitation>, StoreError> {
        let q = KeyQuery::index(GSI2, format!("INVITEMAIL#{}", email.to_lowercase()));
        let q = match id {
            Some(id) => q.equals(format!("{INVITE_PREFIX}{id}")),
            None => q,
        };
        self.query_all(&q).await
    }

    /// Sends again: a new email event, the expiry renewed.
    pub async fn resend_invitation(
        &self,
        i: &Invitation,
        expires_at: Timestamp,
        audit: &AuditEntry,
        event: &Event,
    ) -> Result<Invitation, InvitationError> {
        let now = Timestamp::now();
        let updated = Invitation {
            expires_at,
            last_sent_at: now,
            send_count: i.send_count + 1,
            version: i.version + 1,
            ..i.clone()
        };
        let mut tx = Tx::new(&self.table);
        let at = tx.put(item(&updated)?, Some(pending_version(i)))?;
        audit.add_to(&mut tx)?;
        event.add_to(&mut tx)?;
        match tx.run(self).await {
            Ok(()) => Ok(updated),
            Err(e) if e.condition_failed_at(at) => Err(InvitationError::NotPending),
            Err(e) => Err(e.into()),
        }
    }

    /// Ends a pending invitation: revoked, declined, or accepted with the membership it
    /// makes (in the same transaction).
    pub async fn close_invitation(
        &self,
        i: &Invitation,
        status: InvitationStatus,
        new_member: Option<(&Membership, Option<&JoinRequest>)>,
        audit: Option<&AuditEntry>,
    ) -> Result<Invitation, InvitationError> {
        let closed = Invitation { status, version: i.version + 1, ..i.clone() };
        let mut tx = Tx::new(&self.table);
        let mut meanings = vec![(tx.put(item(&closed)?, Some(pending_version(i)))?, InvitationError::NotPending)];
        tx.delete(guard_key(&i.org_id, &i.email), None)?;
        if let Some((m, pending)) = new_member {
            meanings.extend(put_new_member(&mut tx, m)?.into_iter().map(|(i, f)| (i, f.into())));
            count_members_and_requests(&mut tx, &m.org_id, 1, 0, -i64::from(pending.is_some()))?;
            meanings.push((
                end_or_check_pending(&mut tx, &m.org_id, &m.user_id, pending, &m.user_id)?,
                InvitationError::HasPendingRequest,
            ));
        }
        if let Some(a) = audit {
            a.add_to(&mut tx)?;
        }
        tx.run_expecting(self, meanings).await?;
        Ok(closed)
    }
}
