//! Join requests: a person asks to join through a link, or to link a journal's record by
//! its login; an admin accepts or rejects.
//! One pending request per person and organization (a guard item), and the
//! organization's count of pending requests, move in the same transactions.

use super::items::{member_key, pending_item, pending_key, request_item, request_key, PendingGuard};
use super::keys::*;
use super::pieces::{
    add_audit, add_event, count_within, link_record, move_counts, put_new_member, still_pending, use_link, Counts,
    NewMemberFailure,
};
use super::read::KeyQuery;
use super::tx::{key, n, s, Expr, Tx};
use super::{Store, StoreError};
use crate::domain::join_requests::{ADMIN_MAIL_INTERVAL_SECS, DAILY_ROSTER_LINKS};
use crate::domain::{AuditEntry, InviteLink, JoinRequest, JoinRequestStatus, Membership, OrgId, OutboxEvent};
use crate::domain::{JoinRequestId, Role, RoleGrant, SourcedId, Timestamp, UserId};
use crate::page::{Cursor, PageQuery};

/// How a pending request ends.
pub struct Decision<'a> {
    pub status: JoinRequestStatus,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub by: &'a UserId,
    /// For an acceptance: the membership it creates.
    pub new_member: Option<&'a Membership>,
    /// For an acceptance of a login request: the roster record (sourcedId) they join as
    /// and the role it gives, linked to them in the same transaction while nobody has
    /// joined as it and it gives that role (out of the waiting counts).
    pub record: Option<(&'a SourcedId, Role)>,
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
    /// The roster record an acceptance links was linked meanwhile.
    RecordTaken,
    /// The person made their requests to link by journal login for today.
    DailyLimit,
    Store(StoreError),
}

impl From<NewMemberFailure> for RequestError {
    fn from(f: NewMemberFailure) -> Self {
        match f {
            NewMemberFailure::AlreadyMember => RequestError::AlreadyMember,
            NewMemberFailure::ClassUnavailable(c) => RequestError::ClassUnavailable(c),
        }
    }
}

impl From<StoreError> for RequestError {
    fn from(e: StoreError) -> Self {
        RequestError::Store(e)
    }
}

/// Counts a request to link by journal login against the person's day in the
/// organization (at most [`DAILY_ROSTER_LINKS`]); the counter leaves by TTL.
fn count_roster_link(tx: &mut Tx, r: &JoinRequest, now: Timestamp) -> Result<usize, StoreError> {
    let key = key(user_pk(&r.user_id), roster_links_sk(&r.org_id, &now.day()));
    count_within(tx, key, "count", DAILY_ROSTER_LINKS, now.unix() + 2 * 86_400)
}

/// Records that the organization's admins are mailed about this person now, on the
/// condition that they were not within [`ADMIN_MAIL_INTERVAL_SECS`].
fn admins_mailed(tx: &mut Tx, r: &JoinRequest, now: Timestamp) -> Result<usize, StoreError> {
    let expr = Expr::update("SET mailed_at = :now, #ttl = :ttl")
        .when("attribute_not_exists(mailed_at) OR mailed_at <= :since")
        .name("#ttl", TTL)
        .value(":now", n(now.unix()))
        .value(":since", n(now.unix() - ADMIN_MAIL_INTERVAL_SECS))
        .value(":ttl", n(now.unix() + 2 * ADMIN_MAIL_INTERVAL_SECS));
    tx.update(key(org_pk(&r.org_id), join_mail_sk(&r.user_id)), expr)
}

impl Store {
    /// Submits a request (through a link, or to link a roster record by journal login):
    /// one use of the link, the request, the pending guard, the organization's pending
    /// count and the admins' email, all or nothing. A login request counts against the
    /// person's [`DAILY_ROSTER_LINKS`] in the organization. The admins' email goes at most
    /// once an hour per requester: within the hour, the request is made without it.
    pub async fn submit_join_request(
        &self,
        r: &JoinRequest,
        link: Option<&InviteLink>,
        now: Timestamp,
        event: &OutboxEvent,
    ) -> Result<(), RequestError> {
        let mut mail = true;
        loop {
            let mut tx = Tx::new(&self.table);
            let mut meanings = Vec::new();
            if let Some(link) = link {
                meanings.push((use_link(&mut tx, link, now)?, RequestError::LinkUnusable));
            }
            tx.put(request_item(r)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
            meanings.push((
                tx.put(pending_item(r), Some(Expr::condition("attribute_not_exists(pk)")))?,
                RequestError::AlreadyPending,
            ));
            meanings.push((
                tx.check(member_key(&r.org_id, &r.user_id), Expr::condition("attribute_not_exists(pk)"))?,
                RequestError::AlreadyMember,
            ));
            move_counts(&mut tx, &r.org_id, Counts::default().pending(1))?;
            if r.roster_login.is_some() {
                meanings.push((count_roster_link(&mut tx, r, now)?, RequestError::DailyLimit));
            }
            let throttle = if mail {
                add_event(&mut tx, event)?;
                Some(admins_mailed(&mut tx, r, now)?)
            } else {
                None
            };
            match tx.run(self).await {
                Ok(()) => return Ok(()),
                // The admins heard of this person within the hour: the request goes
                // without an email (their list shows it).
                Err(e)
                    if throttle.is_some_and(|at| e.condition_failed_at(at))
                        && !meanings.iter().any(|(i, _)| e.condition_failed_at(*i)) =>
                {
                    mail = false;
                }
                Err(e) => return Err(super::tx::meaning_of(e, meanings)),
            }
        }
    }

    /// The person's pending request in the organization, if any (through its guard item).
    pub async fn pending_join_request(&self, org: &OrgId, user: &UserId) -> Result<Option<JoinRequest>, StoreError> {
        match self.get::<PendingGuard>(pending_key(org, user)).await? {
            Some(g) => {
                Ok(self.join_request(org, &g.request_id).await?.filter(|r| r.status == JoinRequestStatus::Pending))
            }
            None => Ok(None),
        }
    }

    pub async fn join_request(&self, org: &OrgId, id: &JoinRequestId) -> Result<Option<JoinRequest>, StoreError> {
        self.get(request_key(org, id)).await
    }

    /// One of the user's own requests, by ID (through the user's index: nobody else's).
    pub async fn own_join_request(&self, user: &UserId, id: &JoinRequestId) -> Result<Option<JoinRequest>, StoreError> {
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
            Some(JoinRequestStatus::Pending) => q.prefix(JOINREQS_PENDING),
            Some(other) => q.prefix(JOINREQS_DECIDED).filter(
                Expr::condition("#status = :status").name("#status", "status").value(":status", s(other.as_str())),
            ),
        };
        self.query_page(&q, page).await
    }

    /// A page of the pending requests of several organizations (those an admin
    /// administers): organization by organization in the order of `orgs` (sorted by ID
    /// here), oldest first within each. A page reads at most `limit` requests whatever
    /// the organizations hold. The cursor is the position in one organization's requests
    /// (or its start); an organization the caller no longer administers is skipped.
    pub async fn pending_join_requests_of(
        &self,
        orgs: &[OrgId],
        page: &PageQuery,
    ) -> Result<(Vec<JoinRequest>, Option<Cursor>), StoreError> {
        let mut orgs: Vec<&OrgId> = orgs.iter().collect();
        orgs.sort();
        let (mut at, mut cursor) = (0, None);
        if let Some(c) = &page.cursor {
            let pk = c.0.get(GSI2PK).filter(|pk| pk.starts_with(JOINREQS_PREFIX)).ok_or(StoreError::InvalidCursor)?;
            at = orgs.iter().position(|o| join_requests_pk(o) >= *pk).unwrap_or(orgs.len());
            let within = orgs.get(at).is_some_and(|o| join_requests_pk(o) == *pk) && c.0.len() > 1;
            cursor = within.then(|| c.clone());
        }
        let mut items = Vec::new();
        while let Some(org) = orgs.get(at) {
            let limit = page.limit - items.len() as i32;
            let (got, next) =
                self.org_join_requests(org, Some(JoinRequestStatus::Pending), &PageQuery { limit, cursor }).await?;
            items.extend(got);
            cursor = next;
            if cursor.is_none() {
                at += 1;
            }
            if items.len() as i32 >= page.limit {
                let next =
                    cursor.or_else(|| orgs.get(at).map(|o| Cursor([(GSI2PK.to_string(), join_requests_pk(o))].into())));
                return Ok((items, next));
            }
        }
        Ok((items, None))
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
            add_audit(&mut tx, a)?;
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
        event: Option<&OutboxEvent>,
    ) -> Result<JoinRequest, RequestError> {
        let Decision { status, reason, by: decided_by, new_member, record } = decision;
        let now = Timestamp::now();
        let decided = JoinRequest {
            status,
            reason,
            // An acceptance records the roles it gave and the record it linked.
            roles: new_member.map_or_else(|| r.roles.clone(), |m| m.roles.clone()),
            roster_id: record.map(|(id, _)| id.clone()).or_else(|| r.roster_id.clone()),
            decided_at: Some(now),
            decided_by: Some(decided_by.clone()),
            version: r.version + 1,
            ..r.clone()
        };
        let mut tx = Tx::new(&self.table);
        let mut meanings = vec![(tx.put(request_item(&decided)?, Some(still_pending(r)))?, RequestError::NotPending)];
        tx.delete(pending_key(&r.org_id, &r.user_id), None)?;
        let counts = new_member.map_or(Counts::default(), |m| Counts::member(m, 1)).pending(-1);
        move_counts(&mut tx, &r.org_id, counts)?;
        if let Some(m) = new_member {
            meanings.extend(put_new_member(&mut tx, m)?.into_iter().map(|(i, f)| (i, f.into())));
            if let Some((record, role)) = record {
                let at = link_record(&mut tx, &r.org_id, record, role, &m.user_id, None, now)?;
                meanings.push((at, RequestError::RecordTaken));
            }
        }
        if let Some(a) = audit {
            add_audit(&mut tx, a)?;
        }
        if let Some(e) = event {
            add_event(&mut tx, e)?;
        }
        tx.run_expecting(self, meanings).await?;
        Ok(decided)
    }
}
