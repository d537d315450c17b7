//! Join requests: a person asks to join through a link; an admin accepts or rejects.
//! One pending request per person and organization (a guard item), and the
//! organization's count of pending requests, move in the same transactions.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::AuditEntry;
use super::keys::*;
use super::links::{use_link, InviteLink};
use super::members::{member_key, put_new_member, Membership};
use super::orgs::org_key;
use super::outbox::Event;
use super::read::KeyQuery;
use super::tx::{key, n, s, Expr, Item, Tx};
use super::{serde_err, Store, StoreError};
use crate::domain::{OrgId, RoleGrant, Timestamp, UserId};
use crate::page::{Cursor, PageQuery};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JoinRequestStatus {
    Pending,
    Accepted,
    Rejected,
    Withdrawn,
}

impl JoinRequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JoinRequestStatus::Pending => "pending",
            JoinRequestStatus::Accepted => "accepted",
            JoinRequestStatus::Rejected => "rejected",
            JoinRequestStatus::Withdrawn => "withdrawn",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinRequest {
    pub id: String,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub roles: Vec<RoleGrant>,
    pub status: JoinRequestStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_id: Option<String>,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    pub version: u64,
}

/// The admins' list order: pending first (oldest first: a queue), then decided ones,
/// most recently decided first.
fn list_sort_key(r: &JoinRequest) -> String {
    match (r.status, r.decided_at) {
        (JoinRequestStatus::Pending, _) => format!("0#pending#{}", r.id),
        (_, decided) => {
            let millis = decided.map(|t| (t.inner().unix_timestamp_nanos() / 1_000_000) as i64).unwrap_or(0);
            format!("1#{:013}#{}", 9_999_999_999_999 - millis, r.id)
        }
    }
}

pub fn request_key(org: &OrgId, id: &str) -> Item {
    key(org_pk(org), join_request_sk(id))
}

/// The condition of every change to a request: still pending, and as read.
fn still_pending(r: &JoinRequest) -> Expr {
    Expr::condition("#status = :pending AND version = :read")
        .name("#status", "status")
        .value(":pending", s("pending"))
        .value(":read", n(r.version))
}

pub(crate) fn pending_key(org: &OrgId, user: &UserId) -> Item {
    key(org_pk(org), join_pending_sk(user))
}

fn request_item(r: &JoinRequest) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(r).map_err(serde_err)?;
    item.extend(request_key(&r.org_id, &r.id));
    item.insert(GSI1PK.into(), s(user_pk(&r.user_id)));
    item.insert(GSI1SK.into(), s(join_request_sk(&r.id)));
    item.insert(GSI2PK.into(), s(join_requests_pk(&r.org_id)));
    item.insert(GSI2SK.into(), s(list_sort_key(r)));
    Ok(item)
}

/// Adds to a transaction that makes the person a member another way (added by an admin,
/// an invitation accepted): their pending request ends as accepted, its guard goes. The
/// caller moves the organization's pending count in its own update of the organization.
pub fn close_as_joined(tx: &mut Tx, r: &JoinRequest, by: &UserId) -> Result<usize, StoreError> {
    let closed = JoinRequest {
        status: JoinRequestStatus::Accepted,
        decided_at: Some(Timestamp::now()),
        decided_by: Some(by.to_string()),
        version: r.version + 1,
        ..r.clone()
    };
    let at = tx.put(request_item(&closed)?, Some(still_pending(r)))?;
    tx.delete(pending_key(&r.org_id, &r.user_id), None)?;
    Ok(at)
}

/// In a transaction that makes the person a member: closes their pending request if the
/// caller knows of one, or else checks there is none (`HasPendingRequest` tells the caller
/// to read it and try again with it). Returns the action's index.
pub fn end_or_check_pending(
    tx: &mut Tx,
    org: &OrgId,
    user: &UserId,
    pending: Option<&JoinRequest>,
    by: &UserId,
) -> Result<usize, StoreError> {
    match pending {
        Some(r) => close_as_joined(tx, r, by),
        None => tx.check(pending_key(org, user), Expr::condition("attribute_not_exists(pk)")),
    }
}

/// How a pending request ends.
pub struct Decision<'a> {
    pub status: JoinRequestStatus,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub by: &'a UserId,
    /// For an acceptance: the membership it creates.
    pub new_member: Option<&'a Membership>,
}

/// Why a join request could not be written.
#[derive(Debug)]
pub enum RequestError {
    /// The link cannot be used (read it again for the reason).
    LinkUnusable,
    /// The person already has a pending request in this organization.
    AlreadyPending,
    AlreadyMember,
    /// The request is no longer pending (or changed meanwhile).
    NotPending,
    ClassUnavailable(String),
    Store(StoreError),
}

impl From<crate::store::members::NewMemberFailure> for RequestError {
    fn from(f: crate::store::members::NewMemberFailure) -> Self {
        match f {
            crate::store::members::NewMemberFailure::AlreadyMember => RequestError::AlreadyMember,
            crate::store::members::NewMemberFailure::ClassUnavailable(c) => RequestError::ClassUnavailable(c),
        }
    }
}

impl From<StoreError> for RequestError {
    fn from(e: StoreError) -> Self {
        RequestError::Store(e)
    }
}

fn pending_count(delta: i64) -> Expr {
    Expr::update("SET pending_join_requests = if_not_exists(pending_join_requests, :zero) + :d")
        .when("attribute_exists(pk)")
        .value(":zero", n(0))
        .value(":d", n(delta))
}

impl Store {
    /// Submits a request through a link: one use of the link, the request, the pending
    /// guard, the organization's pending count and the event, all or nothing.
    pub async fn submit_join_request(
        &self,
        r: &JoinRequest,
        link: &InviteLink,
        now: Timestamp,
        event: &Event,
    ) -> Result<(), RequestError> {
        let mut tx = Tx::new(&self.table);
        let mut meanings = vec![(use_link(&mut tx, link, now)?, RequestError::LinkUnusable)];
        tx.put(request_item(r)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
        let mut guard = pending_key(&r.org_id, &r.user_id);
        guard.insert("request_id".into(), s(&r.id));
        meanings
            .push((tx.put(guard, Some(Expr::condition("attribute_not_exists(pk)")))?, RequestError::AlreadyPending));
        meanings.push((
            tx.check(member_key(&r.org_id, &r.user_id), Expr::condition("attribute_not_exists(pk)"))?,
            RequestError::AlreadyMember,
        ));
        tx.update(org_key(&r.org_id), pending_count(1))?;
        event.add_to(&mut tx)?;
        tx.run_expecting(self, meanings).await
    }

    /// The person's pending request in the organization, if any (through its guard item).
    pub async fn pending_join_request(&self, org: &OrgId, user: &UserId) -> Result<Option<JoinRequest>, StoreError> {
        #[derive(Deserialize)]
        struct Guard {
            request_id: String,
        }
        match self.get::<Guard>(pending_key(org, user)).await? {
            Some(g) => {
                Ok(self.join_request(org, &g.request_id).await?.filter(|r| r.status == JoinRequestStatus::Pending))
            }
            None => Ok(None),
        }
    }

    pub async fn join_request(&self, org: &OrgId, id: &str) -> Result<Option<JoinRequest>, StoreError> {
        self.get(request_key(org, id)).await
    }

    /// One of the user's own requests, by ID (through the user's index: nobody else's).
    pub async fn own_join_request(&self, user: &UserId, id: &str) -> Result<Option<JoinRequest>, StoreError> {
        let found: Vec<JoinRequest> =
            self.query_all(&KeyQuery::index(GSI1, user_pk(user)).equals(join_request_sk(id))).await?;
        match found.into_iter().next() {
            // The index may lag a write: read the item itself.
            Some(r) => self.join_request(&r.org_id, &r.id).await,
            None => Ok(None),
        }
    }

    /// The user's requests, newest first.
    pub async fn user_join_requests(
        &self,
        user: &UserId,
        page: &PageQuery,
    ) -> Result<(Vec<JoinRequest>, Option<Cursor>), StoreError> {
        self.query_page(&KeyQuery::index(GSI1, user_pk(user)).prefix(JOINREQ_PREFIX).newest_first(), page).await
    }

    /// The organization's requests, pending first, or those of one status.
    pub async fn org_join_requests(
        &self,
        org: &OrgId,
        status: Option<JoinRequestStatus>,
        page: &PageQuery,
    ) -> Result<(Vec<JoinRequest>, Option<Cursor>), StoreError> {
        let q = KeyQuery::index(GSI2, join_requests_pk(org));
        // Decided requests are in decision order; one status of them is a filter.
        let q = match status {
            None => q,
            Some(JoinRequestStatus::Pending) => q.prefix("0#pending#"),
            Some(other) => q.prefix("1#").filter(
                Expr::condition("#status = :status").name("#status", "status").value(":status", s(other.as_str())),
            ),
        };
        self.query_page(&q, page).await
    }

    /// Replaces a pending request's roles (by its requester or an admin).
    pub async fn update_join_request_roles(
        &self,
        r: &JoinRequest,
        roles: Vec<RoleGrant>,
        audit: Option<&AuditEntry>,
    ) -> Result<JoinRequest, RequestError> {
        let updated = JoinRequest { roles, version: r.version + 1, ..r.clone() };
        let mut tx = Tx::new(&self.table);
        let meanings = vec![(tx.put(request_item(&updated)?, Some(still_pending(r)))?, RequestError::NotPending)];
        if let Some(a) = audit {
            a.add_to(&mut tx)?;
        }
        tx.run_expecting(self, meanings).await?;
        Ok(updated)
    }

    /// Decides a pending request: accepted (the person becomes a member with its roles,
    /// in the same transaction), rejected with a reason, or withdrawn by the requester.
    pub async fn decide_join_request(
        &self,
        r: &JoinRequest,
        decision: Decision<'_>,
        audit: Option<&AuditEntry>,
        event: Option<&Event>,
    ) -> Result<JoinRequest, RequestError> {
        let Decision { status, reason, by: decided_by, new_member } = decision;
        let now = Timestamp::now();
        let decided = JoinRequest {
            status,
            reason,
            decided_at: Some(now),
            decided_by: Some(decided_by.to_string()),
            version: r.version + 1,
            ..r.clone()
        };
        let mut tx = Tx::new(&self.table);
        let mut meanings = vec![(tx.put(request_item(&decided)?, Some(still_pending(r)))?, RequestError::NotPending)];
        tx.delete(pending_key(&r.org_id, &r.user_id), None)?;
        let org_update = match new_member {
            Some(_) => Expr::update("SET pending_join_requests = if_not_exists(pending_join_requests, :one) - :one, member_count = member_count + :one").when("attribute_exists(pk)").value(":one", n(1)),
            None => pending_count(-1),
        };
        tx.update(org_key(&r.org_id), org_update)?;
        if let Some(m) = new_member {
            meanings.extend(put_new_member(&mut tx, m)?.into_iter().map(|(i, f)| (i, f.into())));
        }
        if let Some(a) = audit {
            a.add_to(&mut tx)?;
        }
        if let Some(e) = event {
            e.add_to(&mut tx)?;
        }
        tx.run_expecting(self, meanings).await?;
        Ok(decided)
    }
}
