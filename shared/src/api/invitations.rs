//! Email invitations (R4.5): admins and teachers invite up to 100 addresses at once; the
//! invitee, signed in with that verified address, accepts or declines.

use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::access::{caller_id, identity, member, Caller};
use super::members::{check_grants, MemberView};
use crate::domain::ProfileChanges;
use crate::domain::{Email, OrgId, Role, RoleGrant, Timestamp};
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::store::audit::AuditEntry;
use crate::store::invitations::{Invitation, InvitationError, InvitationStatus};
use crate::store::members::{Membership, MembershipSource};
use crate::store::outbox::Event;
use crate::Ctx;

pub const MAX_EMAILS: usize = 100;
/// How long an invitation (and each resend) is valid.
pub const VALID_DAYS: i64 = 14;

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub role: RoleGrant,
    pub group_id: Option<String>,
    /// `pending`, `accepted`, `declined`, `revoked`; a pending one past `expires_at`
    /// shows `expired`.
    pub status: String,
    pub invited_by: String,
    pub invited_by_name: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_sent_at: Timestamp,
    pub send_count: u32,
}

fn status(i: &Invitation, now: Timestamp) -> String {
    match i.status {
        InvitationStatus::Pending if i.expires_at <= now => "expired",
        InvitationStatus::Pending => "pending",
        InvitationStatus::Accepted => "accepted",
        InvitationStatus::Declined => "declined",
        InvitationStatus::Revoked => "revoked",
    }
    .into()
}

impl InvitationView {
    fn of(i: &Invitation, now: Timestamp) -> Self {
        InvitationView {
            id: i.id.clone(),
            org_id: i.org_id.to_string(),
            email: i.email.clone(),
            role: i.role.clone(),
            group_id: i.group_id.clone(),
            status: status(i, now),
            invited_by: i.invited_by.to_string(),
            invited_by_name: i.invited_by_name.clone(),
            created_at: i.created_at,
            expires_at: i.expires_at,
            last_sent_at: i.last_sent_at,
            send_count: i.send_count,
        }
    }
}

fn invitation_error(e: InvitationError) -> ApiError {
    match e {
        InvitationError::AlreadyInvited(_) => {
            ApiError::conflict("already_invited", "This address already has a pending invitation.")
        }
        InvitationError::NotPending => ApiError::conflict("already_decided", "This invitation is no longer pending."),
        InvitationError::AlreadyMember => {
            ApiError::conflict("already_member", "You are already a member of this organization.")
        }
        InvitationError::HasPendingRequest => {
            ApiError::conflict("concurrent_update", "Your join request is being changed meanwhile; retry.")
        }
        InvitationError::ClassUnavailable(c) => ApiError::conflict(
            "class_unavailable",
            format!("The invitation's class {c} no longer exists or has graduated: ask for a new invitation."),
        ),
        InvitationError::Store(e) => e.into(),
    }
}

fn invitation_event(org_name: &str, i: &Invitation) -> Event {
    Event::new(
        "invitation",
        Some(&i.org_id),
        json!({"org_id": i.org_id, "org_name": org_name, "invitation_id": i.id, "email": i.email,
               "roles": [i.role], "by": i.invited_by_name, "expires_at": i.expires_at}),
    )
}

/// Admins invite with any role; teachers invite students and parents.
fn may_invite(caller: &Caller, role: &RoleGrant) -> Result<(), ApiError> {
    if caller.is_admin() {
        return Ok(());
    }
    if caller.has_role(Role::Teacher) {
        return match role.role {
            Role::Student | Role::Parent => Ok(()),
            _ => Err(ApiError::Forbidden("invite teachers or staff (admins do)")),
        };
    }
    Err(ApiError::Forbidden("invite people"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitations {
    /// Up to 100 addresses.
    pub emails: Vec<String>,
    pub role: RoleGrant,
    pub group_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationResult {
    pub email: String,
    /// `added` (a member, added to the group at once), `already_member`, `invited` (an
    /// invitation email went out, or one is already pending) or `invalid`.
    pub status: String,
    pub invitation_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationResults {
    pub results: Vec<InvitationResult>,
}

/// Invites a list of addresses with one role (admins; teachers for students and
/// parents). Each address gets its own result.
#[utoipa::path(post, path = "/v1/orgs/{org}/invitations", tag = "invitations", request_body = CreateInvitations,
    params(("org" = String, Path, description = "organization ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 200, description = "One result per address", body = InvitationResults)))]
pub async fn create(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    let body: CreateInvitations = req.json()?;
    may_invite(&caller, &body.role)?;
    if !caller.is_admin() && !body.role.class_ids.is_empty() {
        // Teachers invite into the classes they teach.
        let ids = body.role.class_ids.iter().cloned().collect();
        let classes = ctx.store().classes_by_id(&caller.org.id, &ids).await?;
        let teaches_all = body
            .role
            .class_ids
            .iter()
            .all(|id| classes.iter().any(|c| &c.id == id && c.has_teacher(&caller.member.user_id)));
        if !teaches_all {
            return Err(ApiError::Forbidden("invite people into classes you do not teach"));
        }
    }
    if body.emails.is_empty() || body.emails.len() > MAX_EMAILS {
        return Err(ApiError::validation("emails", format!("give 1 to {MAX_EMAILS} addresses")));
    }
    if let Some(g) = &body.group_id {
        let exists = match super::access::resource_id(g) {
            Some(id) => ctx.store().group_exists(&caller.org.id, &id).await?,
            None => false,
        };
        if !exists {
            return Err(ApiError::validation("group_id", "no such group in this organization"));
        }
    }
    let role = check_grants(&ctx, &caller.org, vec![body.role], "role").await.map_err(|e| match e {
        ApiError::Validation(errs) => ApiError::Validation(
            errs.into_iter()
                .map(|mut f| {
                    f.field = f.field.replacen("role[0]", "role", 1);
                    f
                })
                .collect(),
        ),
        other => other,
    })?;
    let role = role.into_iter().next().ok_or_else(|| ApiError::validation("role", "is required"))?;
    let now = Timestamp::now();
    let group_id = body.group_id.clone();
    let caller = &caller;
    let ctx_ref = &ctx;
    let results: Vec<InvitationResult> = stream::iter(body.emails)
        .map(|raw| {
            let role = role.clone();
            let group_id = group_id.clone();
            async move { invite_one(ctx_ref, caller, raw, role, group_id, now).await }
        })
        .buffered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    ApiResponse::ok(&InvitationResults { results })
}

async fn invite_one(
    ctx: &Ctx,
    caller: &Caller,
    raw: String,
    role: RoleGrant,
    group_id: Option<String>,
    now: Timestamp,
) -> Result<InvitationResult, ApiError> {
    let Ok(email) = Email::parse(&raw) else {
        return Ok(InvitationResult { email: raw, status: "invalid".into(), invitation_id: None });
    };
    let email = email.as_str().to_string();
    if let Some(user) = ctx.store().user_by_verified_email(&email).await? {
        if ctx.store().membership(&caller.org.id, &user.id).await?.is_some() {
            // Adding a member to a group at once comes with groups; the organization
            // itself they already belong to.
            return Ok(InvitationResult { email, status: "already_member".into(), invitation_id: None });
        }
    }
    let invitation = Invitation {
        id: ulid::Ulid::new().to_string().to_lowercase(),
        org_id: caller.org.id.clone(),
        email: email.clone(),
        role,
        group_id,
        status: InvitationStatus::Pending,
        invited_by: caller.member.user_id.clone(),
        invited_by_name: caller.member.name.clone(),
        created_at: now,
        expires_at: now.plus(time::Duration::days(VALID_DAYS)),
        last_sent_at: now,
        send_count: 1,
        version: 1,
    };
    let audit = AuditEntry::new(
        &caller.org.id,
        &caller.actor(),
        "invitation.create",
        "invitation",
        &invitation.id,
        None,
        Some(json!({"email": email, "role": invitation.role})),
    );
    match ctx.store().create_invitation(&invitation, &audit, &invitation_event(&caller.org.name, &invitation)).await {
        Ok(()) => Ok(InvitationResult { email, status: "invited".into(), invitation_id: Some(invitation.id) }),
        Err(InvitationError::AlreadyInvited(id)) => {
            // Still pending but expired: invite again means send it again, renewed.
            if let Some(existing) = ctx.store().invitation(&caller.org.id, &id).await? {
                if existing.status == InvitationStatus::Pending && existing.expires_at <= now {
                    renew(ctx, caller, &existing, now).await?;
                }
            }
            Ok(InvitationResult { email, status: "invited".into(), invitation_id: Some(id) })
        }
        Err(e) => Err(invitation_error(e)),
    }
}

/// The organization's invitations, newest first (admins; teachers see theirs).
#[utoipa::path(get, path = "/v1/orgs/{org}/invitations", tag = "invitations",
    params(("org" = String, Path, description = "organization ID"), ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of invitations", body = Page<InvitationView>)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    if !caller.is_admin() && !caller.has_role(Role::Teacher) {
        return Err(ApiError::Forbidden("see invitations"));
    }
    let page = req.page_query()?;
    let now = Timestamp::now();
    let mine_only = !caller.is_admin();
    let all: Vec<InvitationView> = ctx
        .store()
        .invitations(&caller.org.id)
        .await?
        .iter()
        .filter(|i| !mine_only || i.invited_by == caller.member.user_id)
        .map(|i| InvitationView::of(i, now))
        .collect();
    let (items, next) = page.slice(all)?;
    ApiResponse::ok(&Page { items, next_cursor: next.map(|c| c.encode()) })
}

async fn managed(ctx: &Ctx, req: &ApiRequest) -> Result<(Caller, Invitation), ApiError> {
    let caller = member(ctx, req).await?;
    let id = super::access::id_param(req, "invitation")?;
    let invitation = ctx.store().invitation(&caller.org.id, &id).await?.ok_or(ApiError::NotFound("invitation"))?;
    if !caller.is_admin() && invitation.invited_by != caller.member.user_id {
        return Err(ApiError::Forbidden("manage invitations others sent"));
    }
    Ok((caller, invitation))
}

/// Sends a pending invitation again with a new email, valid for another `VALID_DAYS`.
async fn renew(ctx: &Ctx, caller: &Caller, invitation: &Invitation, now: Timestamp) -> Result<Invitation, ApiError> {
    let expires = now.plus(time::Duration::days(VALID_DAYS));
    let audit = AuditEntry::new(
        &caller.org.id,
        &caller.actor(),
        "invitation.resend",
        "invitation",
        &invitation.id,
        Some(json!({"expires_at": invitation.expires_at})),
        Some(json!({"expires_at": expires})),
    );
    let renewed = Invitation { expires_at: expires, ..invitation.clone() };
    ctx.store()
        .resend_invitation(invitation, expires, &audit, &invitation_event(&caller.org.name, &renewed))
        .await
        .map_err(invitation_error)
}

/// Sends the invitation email again, renewing its validity (admins, or who sent it).
#[utoipa::path(post, path = "/v1/orgs/{org}/invitations/{id}/resend", tag = "invitations",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "invitation ID")),
    responses((status = 200, description = "The invitation", body = InvitationView), (status = 409, description = "`already_decided`")))]
pub async fn resend(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, invitation) = managed(&ctx, &req).await?;
    let now = Timestamp::now();
    let updated = renew(&ctx, &caller, &invitation, now).await?;
    ApiResponse::ok(&InvitationView::of(&updated, now))
}

/// Revokes a pending invitation (admins, or who sent it).
#[utoipa::path(delete, path = "/v1/orgs/{org}/invitations/{id}", tag = "invitations",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "invitation ID")),
    responses((status = 204, description = "Revoked"), (status = 409, description = "`already_decided`")))]
pub async fn revoke(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, invitation) = managed(&ctx, &req).await?;
    if invitation.status == InvitationStatus::Revoked {
        return Ok(ApiResponse::no_content());
    }
    let audit = AuditEntry::new(
        &caller.org.id,
        &caller.actor(),
        "invitation.revoke",
        "invitation",
        &invitation.id,
        Some(json!({"status": "pending"})),
        Some(json!({"status": "revoked"})),
    );
    ctx.store()
        .close_invitation(&invitation, InvitationStatus::Revoked, None, Some(&audit))
        .await
        .map_err(invitation_error)?;
    Ok(ApiResponse::no_content())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyInvitation {
    #[serde(flatten)]
    pub invitation: InvitationView,
    pub org_name: String,
}

/// The caller's verified address, or none (unverified addresses match no invitation).
fn verified_email(req: &ApiRequest) -> Result<Option<String>, ApiError> {
    let claims = req.caller()?;
    Ok(if claims.email_verified { claims.email.as_ref().map(|e| e.to_lowercase()) } else { None })
}

/// Pending invitations addressed to the caller's email (only when it is verified).
#[utoipa::path(get, path = "/v1/me/invitations", tag = "me",
    responses((status = 200, description = "Pending invitations", body = Page<MyInvitation>)))]
pub async fn mine(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let Some(email) = verified_email(&req)? else {
        return ApiResponse::ok(&Page::<MyInvitation> { items: vec![], next_cursor: None });
    };
    let now = Timestamp::now();
    let pending: Vec<Invitation> = ctx
        .store()
        .invitations_to(&email, None)
        .await?
        .into_iter()
        .filter(|i| i.status == InvitationStatus::Pending && i.expires_at > now)
        .collect();
    let org_ids: Vec<OrgId> =
        pending.iter().map(|i| i.org_id.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let orgs = ctx.store().orgs(&org_ids).await?;
    let items = pending
        .iter()
        .map(|i| MyInvitation {
            invitation: InvitationView::of(i, now),
            org_name: orgs.iter().find(|o| o.id == i.org_id).map(|o| o.name.clone()).unwrap_or_default(),
        })
        .collect();
    ApiResponse::ok(&Page { items, next_cursor: None })
}

async fn addressed(ctx: &Ctx, req: &ApiRequest) -> Result<Invitation, ApiError> {
    let id = super::access::id_param(req, "invitation")?;
    let email = verified_email(req)?.ok_or(ApiError::NotFound("invitation"))?;
    ctx.store().invitations_to(&email, Some(&id)).await?.into_iter().next().ok_or(ApiError::NotFound("invitation"))
}

/// Accepts an invitation addressed to the caller's verified email: they become a member
/// with its role.
#[utoipa::path(post, path = "/v1/me/invitations/{id}/accept", tag = "me",
    params(("id" = String, Path, description = "invitation ID")),
    responses((status = 200, description = "The new membership", body = MemberView),
              (status = 409, description = "`already_decided` or `already_member`"),
              (status = 410, description = "`invitation_expired`")))]
pub async fn accept(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = caller_id(&req)?;
    let invitation = addressed(&ctx, &req).await?;
    let invitation =
        ctx.store().invitation(&invitation.org_id, &invitation.id).await?.ok_or(ApiError::NotFound("invitation"))?;
    if invitation.status != InvitationStatus::Pending {
        return Err(invitation_error(InvitationError::NotPending));
    }
    if invitation.expires_at <= Timestamp::now() {
        return Err(ApiError::Gone {
            code: "invitation_expired",
            detail: "This invitation has expired: ask for it to be sent again.".into(),
        });
    }
    let profile = ctx.store().upsert_user(&identity(&req)?, &ProfileChanges::default()).await?;
    let m = Membership::new(
        &invitation.org_id,
        &user,
        &profile.name,
        profile.email.as_deref(),
        vec![invitation.role.clone()],
        false,
        MembershipSource::Invitation,
    );
    // A pending join request of theirs ends with this (read only when there is one).
    let mut pending = None;
    let mut accepted = false;
    for _ in 0..3 {
        match ctx
            .store()
            .close_invitation(&invitation, InvitationStatus::Accepted, Some((&m, pending.as_ref())), None)
            .await
        {
            Ok(_) => {
                accepted = true;
                break;
            }
            Err(InvitationError::HasPendingRequest) => {
                pending = ctx.store().pending_join_request(&invitation.org_id, &user).await?
            }
            Err(e) => return Err(invitation_error(e)),
        }
    }
    if !accepted {
        return Err(invitation_error(InvitationError::HasPendingRequest));
    }
    ApiResponse::ok(&MemberView::from(&m))
}

/// Declines an invitation addressed to the caller's verified email.
#[utoipa::path(post, path = "/v1/me/invitations/{id}/decline", tag = "me",
    params(("id" = String, Path, description = "invitation ID")),
    responses((status = 204, description = "Declined"), (status = 409, description = "`already_decided`")))]
pub async fn decline(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let invitation = addressed(&ctx, &req).await?;
    let invitation =
        ctx.store().invitation(&invitation.org_id, &invitation.id).await?.ok_or(ApiError::NotFound("invitation"))?;
    ctx.store()
        .close_invitation(&invitation, InvitationStatus::Declined, None, None)
        .await
        .map_err(invitation_error)?;
    Ok(ApiResponse::no_content())
}
