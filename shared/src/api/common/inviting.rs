//! Sending email invitations, shared by the invitation routes and by adding a member by
//! email (which is an invitation): one address invited, or renewed and sent again.

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::access::Caller;
use super::errors::invitation_error;
use super::placing::{add_people, Container};
use crate::domain::AuditAction;
use crate::domain::{Email, Group, Invitation, InvitationId, InvitationStatus, OutboxEvent, RoleGrant, Timestamp};
use crate::http::ApiError;
use crate::store::groups::Added;
use crate::store::invitations::InvitationError;
use crate::Ctx;

pub use crate::domain::invitations::VALID_DAYS;

/// The email event of a new or renewed invitation.
pub fn invitation_event(org_name: &str, i: &Invitation) -> OutboxEvent {
    OutboxEvent::Invitation {
        org_id: i.org_id.clone(),
        org_name: org_name.into(),
        invitation_id: i.id.clone(),
        email: i.email.clone(),
        roles: vec![i.role.clone()],
        by: i.invited_by_name.clone(),
        expires_at: i.expires_at,
        group_name: i.group_name.clone(),
    }
}

/// What became of one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InviteStatus {
    /// Invited to a group: a member who joined with this address, added to the group at
    /// once (they get the group's email).
    Added,
    /// A member who joined with this address (nothing sent); with a group, one already in
    /// it.
    AlreadyMember,
    /// An invitation email went out, or one is already pending.
    Invited,
    /// Not an address mail can be sent to.
    Invalid,
    /// The organization's invitation emails for today are used up: not sent (the whole
    /// request is a 429 when none could be).
    DailyLimit,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "email": "e.kuznetsova@yandex.ru",
    "status": "invited",
    "invitation_id": "01m956hep0qvck56tq6915ftey"
}))]
pub struct InvitationResult {
    pub email: String,
    pub status: InviteStatus,
    pub invitation_id: Option<String>,
}

/// Invites one address, or answers why not: `invalid`, `already_member` (only where the
/// caller can see that this address is a member's: the member joined with it), `invited`.
pub async fn invite_one(
    ctx: &Ctx,
    caller: &Caller,
    raw: String,
    role: RoleGrant,
    group: Option<&Group>,
    now: Timestamp,
) -> Result<InvitationResult, ApiError> {
    let Ok(email) = Email::parse(&raw) else {
        return Ok(InvitationResult { email: raw, status: InviteStatus::Invalid, invitation_id: None });
    };
    let email = email.as_str().to_string();
    if let Some(user) = ctx.store().user_by_verified_email(&email).await? {
        // A member who joined with this address: the admins see it on the member anyway.
        // Anyone else is invited (a member who gave no address here included), so the
        // answer tells nothing about who is registered.
        let member = ctx.store().membership(&caller.org.id, &user.id).await?;
        if let Some(m) = member.filter(|m| m.email.as_deref() == Some(email.as_str())) {
            let status = match group {
                None => InviteStatus::AlreadyMember,
                Some(g) => match add_people(ctx, caller.into(), Container::Group(g, None), vec![m]).await?.first() {
                    Some((_, Added::Added)) => InviteStatus::Added,
                    _ => InviteStatus::AlreadyMember,
                },
            };
            return Ok(InvitationResult { email, status, invitation_id: None });
        }
    }
    let invitation = Invitation {
        id: InvitationId::new(),
        org_id: caller.org.id.clone(),
        email: email.clone(),
        role,
        group_id: group.map(|g| g.id.clone()),
        group_name: group.map(|g| g.name.clone()),
        status: InvitationStatus::Pending,
        invited_by: caller.member.user_id.clone(),
        invited_by_name: caller.member.name.clone(),
        created_at: now,
        expires_at: now.plus(time::Duration::days(VALID_DAYS)),
        last_sent_at: now,
        send_count: 1,
        version: 1,
        delivery: Default::default(),
    };
    let audit = caller
        .audit(AuditAction::InvitationCreate, "invitation", invitation.id.as_str())
        .after(json!({"email": email, "role": invitation.role, "group_id": invitation.group_id}));
    let event = invitation_event(&caller.org.name, &invitation);
    let mut created = ctx.store().create_invitation(&invitation, &audit, &event).await;
    if let Err(InvitationError::AlreadyInvited(id)) = &created {
        // A guard whose invitation is gone (TTL removes the two independently) or closed
        // stands for nothing: it is cleared, and the address invited anew.
        let existing = match id {
            Some(id) => ctx.store().invitation(&caller.org.id, id).await?,
            None => None,
        };
        if existing.is_none_or(|i| i.status != InvitationStatus::Pending) {
            if let Some(id) = id {
                ctx.store().clear_invitation_guard(&caller.org.id, &email, id).await?;
            }
            created = ctx.store().create_invitation(&invitation, &audit, &event).await;
        }
    }
    match created {
        Ok(()) => Ok(InvitationResult {
            email,
            status: InviteStatus::Invited,
            invitation_id: Some(invitation.id.to_string()),
        }),
        Err(InvitationError::AlreadyInvited(id)) => {
            // Still pending but expired: invite again means send it again, renewed.
            let existing = match &id {
                Some(id) => ctx.store().invitation(&caller.org.id, id).await?,
                None => None,
            };
            let id = id.map(|i| i.to_string());
            if let Some(existing) = existing {
                if existing.status == InvitationStatus::Pending && existing.expires_at <= now {
                    match renew(ctx, caller, &existing, now).await {
                        Err(InvitationError::DailyLimit) => {
                            return Ok(InvitationResult { email, status: InviteStatus::DailyLimit, invitation_id: id });
                        }
                        other => other.map_err(invitation_error)?,
                    };
                }
            }
            Ok(InvitationResult { email, status: InviteStatus::Invited, invitation_id: id })
        }
        Err(InvitationError::DailyLimit) => {
            Ok(InvitationResult { email, status: InviteStatus::DailyLimit, invitation_id: None })
        }
        Err(e) => Err(invitation_error(e)),
    }
}

/// Sends a pending invitation again with a new email, valid for another `VALID_DAYS`.
pub async fn renew(
    ctx: &Ctx,
    caller: &Caller,
    invitation: &Invitation,
    now: Timestamp,
) -> Result<Invitation, InvitationError> {
    let expires = now.plus(time::Duration::days(VALID_DAYS));
    let audit = caller
        .audit(AuditAction::InvitationResend, "invitation", invitation.id.as_str())
        .before(json!({"expires_at": invitation.expires_at}))
        .after(json!({"expires_at": expires}));
    let renewed = Invitation { expires_at: expires, ..invitation.clone() };
    let event = invitation_event(&caller.org.name, &renewed);
    ctx.store().resend_invitation(invitation, expires, &audit, &event).await
}
