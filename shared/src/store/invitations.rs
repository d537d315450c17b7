//! Email invitations (R4.5): an admin or teacher invites an address; the person, once
//! signed in with that verified address, accepts and becomes a member. What waits for an
//! address is read here too: its email invitations and the offers of schools' journals
//! (roster records that name it, on the same gsi2 partition).

use super::items::from_item;
use super::items::invitation_key;
use super::items::{invitation_guard_item, invitation_guard_key, invitation_guard_target, invitation_item};
use super::keys::*;
use super::pieces::NewMemberFailure;
use super::pieces::{
    add_audit, add_event, count_invitation_email, count_pending_invitation, end_or_check_pending, move_counts,
    put_new_member, Counts,
};
use super::read::KeyQuery;
use super::tx::{n, s, Expr, Item, Tx};
use super::{classify, Store, StoreError};
use crate::domain::{
    AuditEntry, Invitation, InvitationId, InvitationStatus, JoinRequest, Membership, OrgId, OutboxEvent, RosterPerson,
    Timestamp, UserId,
};
use crate::page::{Cursor, PageQuery};

/// What waits for an address: an email invitation, or the offer of a school journal's
/// record that names it (both sit under the address on gsi2).
#[derive(Debug, Clone)]
pub enum Offer {
    Email(Invitation),
    Journal(RosterPerson),
}

impl Offer {
    fn of(item: Item) -> Result<Offer, StoreError> {
        let journal = item.get(SK).and_then(|v| v.as_s().ok()).is_some_and(|sk| sk.starts_with(ROSTER_PREFIX));
        Ok(if journal { Offer::Journal(from_item(item)?) } else { Offer::Email(from_item(item)?) })
    }
}

#[derive(Debug)]
pub enum InvitationError {
    /// A pending invitation for this address exists: its ID (none when its guard went
    /// meanwhile).
    AlreadyInvited(Option<InvitationId>),
    NotPending,
    AlreadyMember,
    ClassUnavailable(String),
    /// The invitee has a pending join request (or it changed): read it and pass it along.
    HasPendingRequest,
    /// The organization has sent its invitation emails for today.
    DailyLimit,
    Store(StoreError),
}

impl From<NewMemberFailure> for InvitationError {
    fn from(f: NewMemberFailure) -> Self {
        match f {
            NewMemberFailure::AlreadyMember => InvitationError::AlreadyMember,
            NewMemberFailure::ClassUnavailable(c) => InvitationError::ClassUnavailable(c),
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
        event: &OutboxEvent,
    ) -> Result<(), InvitationError> {
        let mut tx = Tx::new(&self.table);
        tx.put(invitation_item(i)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
        let guard_at = tx.put(invitation_guard_item(i), Some(Expr::condition("attribute_not_exists(pk)")))?;
        let day_at = count_invitation_email(&mut tx, &i.org_id, i.created_at)?;
        count_pending_invitation(&mut tx, &i.org_id, i.expires_at, 1)?;
        add_audit(&mut tx, audit)?;
        add_event(&mut tx, event)?;
        match tx.run(self).await {
            Ok(()) => Ok(()),
            Err(e) if e.condition_failed_at(day_at) && !e.condition_failed_at(guard_at) => {
                Err(InvitationError::DailyLimit)
            }
            Err(e) if e.condition_failed_at(guard_at) => {
                let out = self
                    .db
                    .get_item()
                    .table_name(&self.table)
                    .set_key(Some(invitation_guard_key(&i.org_id, &i.email)))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(classify)?;
                let id = out.item.as_ref().and_then(invitation_guard_target);
                Err(InvitationError::AlreadyInvited(id))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes the guard of an address if it still stands for invitation `id`.
    pub async fn clear_invitation_guard(&self, org: &OrgId, email: &str, id: &InvitationId) -> Result<(), StoreError> {
        let result = self
            .db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(invitation_guard_key(org, email)))
            .condition_expression("#id = :id")
            .expression_attribute_names("#id", INVITATION_ID)
            .expression_attribute_values(":id", s(id.as_str()))
            .send()
            .await;
        super::done_unless_condition(result)
    }

    pub async fn invitation(&self, org: &OrgId, id: &InvitationId) -> Result<Option<Invitation>, StoreError> {
        self.get(invitation_key(org, id)).await
    }

    /// A page of the organization's invitations, newest first; with `by`, only those
    /// that member sent.
    pub async fn invitations(
        &self,
        org: &OrgId,
        by: Option<&UserId>,
        page: &PageQuery,
    ) -> Result<(Vec<Invitation>, Option<Cursor>), StoreError> {
        let q = match by {
            None => KeyQuery::table(org_pk(org)).prefix(INVITE_PREFIX),
            Some(user) => KeyQuery::index(GSI1, invited_by_pk(org, user)).prefix(INVITE_PREFIX),
        };
        self.query_page(&q.newest_first(), page).await
    }

    /// What waits for an address by ID: an email invitation or a journal record's offer
    /// (open or not).
    pub async fn offer_to(&self, email: &str, id: &InvitationId) -> Result<Option<Offer>, StoreError> {
        let q = KeyQuery::index(GSI2, invitation_email_pk(&email.to_lowercase())).equals(invitation_sk(id));
        let (items, _) = self.query_page_items(&q, &PageQuery { limit: 1, cursor: None }).await?;
        items.into_iter().next().map(Offer::of).transpose()
    }

    /// A page of what waits for an address, across organizations, newest first: open
    /// email invitations (pending and not expired at `now`) and the offers of journal
    /// records that name it (nobody joined as them, not declined by that address).
    pub async fn open_offers_to(
        &self,
        email: &str,
        now: Timestamp,
        page: &PageQuery,
    ) -> Result<(Vec<Offer>, Option<Cursor>), StoreError> {
        let open = Expr::condition(
            "(begins_with(#sk, :invite) AND #status = :pending AND expires_at > :now) \
             OR (begins_with(#sk, :roster) AND attribute_not_exists(user_id) \
                 AND (attribute_not_exists(declined) OR declined <> email))",
        )
        .name("#sk", SK)
        .name("#status", "status")
        .value(":invite", s(INVITE_PREFIX))
        .value(":roster", s(ROSTER_PREFIX))
        .value(":pending", s("pending"))
        .value(":now", s(now.to_string()));
        let q = KeyQuery::index(GSI2, invitation_email_pk(&email.to_lowercase())).newest_first().filter(open);
        let (items, next) = self.query_page_items(&q, page).await?;
        Ok((items.into_iter().map(Offer::of).collect::<Result<_, _>>()?, next))
    }

    /// Sends again: a new email event, the expiry renewed.
    pub async fn resend_invitation(
        &self,
        i: &Invitation,
        expires_at: Timestamp,
        audit: &AuditEntry,
        event: &OutboxEvent,
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
        let at = tx.put(invitation_item(&updated)?, Some(pending_version(i)))?;
        // The guard leaves the table after the invitation, not before; it must still be
        // this invitation's (not one made after this one's guard was gone).
        let guard_at = tx.put(
            invitation_guard_item(&updated),
            Some(
                Expr::condition("attribute_not_exists(pk) OR #id = :id")
                    .name("#id", INVITATION_ID)
                    .value(":id", s(i.id.as_str())),
            ),
        )?;
        let day_at = count_invitation_email(&mut tx, &i.org_id, now)?;
        // Pending until another day now (a transaction touches a day's count once).
        if i.expires_at.day() != expires_at.day() {
            count_pending_invitation(&mut tx, &i.org_id, i.expires_at, -1)?;
            count_pending_invitation(&mut tx, &i.org_id, expires_at, 1)?;
        }
        add_audit(&mut tx, audit)?;
        add_event(&mut tx, event)?;
        match tx.run(self).await {
            Ok(()) => Ok(updated),
            Err(e) if e.condition_failed_at(at) || e.condition_failed_at(guard_at) => Err(InvitationError::NotPending),
            Err(e) if e.condition_failed_at(day_at) => Err(InvitationError::DailyLimit),
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
        let mut meanings =
            vec![(tx.put(invitation_item(&closed)?, Some(pending_version(i)))?, InvitationError::NotPending)];
        tx.delete(invitation_guard_key(&i.org_id, &i.email), None)?;
        count_pending_invitation(&mut tx, &i.org_id, i.expires_at, -1)?;
        if let Some((m, pending)) = new_member {
            meanings.extend(put_new_member(&mut tx, m)?.into_iter().map(|(i, f)| (i, f.into())));
            move_counts(&mut tx, &m.org_id, Counts::member(m, 1).pending(-i64::from(pending.is_some())))?;
            meanings.push((
                end_or_check_pending(&mut tx, &m.org_id, &m.user_id, pending, &m.user_id)?,
                InvitationError::HasPendingRequest,
            ));
        }
        if let Some(a) = audit {
            add_audit(&mut tx, a)?;
        }
        tx.run_expecting(self, meanings).await?;
        Ok(closed)
    }
}
