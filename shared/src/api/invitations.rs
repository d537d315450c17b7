//! Email invitations (R4.5): admins and teachers invite up to 100 addresses at once; the
//! invitee, signed in with that verified address, accepts or declines.

use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::common::access::{caller_id, identity, member, Caller};
use super::common::errors::invitation_error;
use super::common::grants::{check_grants, journal_roles, named_classes};
use super::common::inviting::{invite_one, renew, InvitationResult, InviteStatus};
use super::common::placing::{add_people, may_enter, Acting, Container};
use super::common::retry;
use super::common::views::extended;
use super::common::views::{ClassRef, MemberView};
use crate::domain::invitations::resend_wait;
use crate::domain::{Actor, AuditEntry, Delivery, GroupRole, ProfileChanges, Role, RoleGrant, Timestamp, UserId};
use crate::domain::{
    Group, GroupId, Invitation, InvitationId, InvitationStatus, JoinRequest, Membership, MembershipSource, OrgId,
    RosterPerson,
};
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::roster::link::{Accepted, OfferError};
use crate::store::invitations::{InvitationError, Offer};
use crate::Ctx;

use crate::domain::invitations::MAX_EMAILS;
use crate::domain::AuditAction;
use crate::http::Code;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = InvitationView::example)]
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
    /// What SES told of its email: `sent` (no failure known), `bounced` (for good) or
    /// `complained` (marked as spam); a failed one is not sent again.
    pub delivery: Delivery,
}

impl InvitationView {
    fn example() -> serde_json::Value {
        json!({
            "id": "01m8rgy3d59e66mtqs95dp9fpq",
            "org_id": "k7m3xq9pza",
            "email": "n.volkova@mail.ru",
            "role": {"role": "parent", "class_ids": ["01m115ebsrwdyfqatyynem1n18"]},
            "group_id": null,
            "status": "pending",
            "invited_by": "8d2e4b61-5c3a-4f9e-b7d0-1e6a9c3f2b84",
            "invited_by_name": "Ирина Смирнова",
            "created_at": "2026-12-01T10:03:19.845Z",
            "expires_at": "2026-12-15T10:03:19.845Z",
            "last_sent_at": "2026-12-01T10:03:19.845Z",
            "send_count": 1,
            "delivery": "sent"
        })
    }
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
            id: i.id.to_string(),
            org_id: i.org_id.to_string(),
            email: i.email.clone(),
            role: i.role.clone(),
            group_id: i.group_id.as_ref().map(ToString::to_string),
            status: status(i, now),
            invited_by: i.invited_by.to_string(),
            invited_by_name: i.invited_by_name.clone(),
            created_at: i.created_at,
            expires_at: i.expires_at,
            last_sent_at: i.last_sent_at,
            send_count: i.send_count,
            delivery: i.delivery,
        }
    }
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
#[schema(example = json!({
    "emails": ["n.volkova@mail.ru", "olga.ivanova@mail.ru", "p.orlov@mail,ru"],
    "role": {"role": "parent", "class_ids": ["01m115ebsrwdyfqatyynem1n18"]},
    "group_id": null
}))]
pub struct CreateInvitations {
    /// Up to 100 addresses.
    pub emails: Vec<String>,
    pub role: RoleGrant,
    pub group_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "results": [
        {"email": "n.volkova@mail.ru", "status": "invited", "invitation_id": "01m8rgy3d59e66mtqs95dp9fpq"},
        {"email": "olga.ivanova@mail.ru", "status": "already_member", "invitation_id": null},
        {"email": "p.orlov@mail,ru", "status": "invalid", "invitation_id": null}
    ]
}))]
pub struct InvitationResults {
    pub results: Vec<InvitationResult>,
}

/// Who may invite whom where, how many at once, and the role offered: checked as any
/// grant (errors name `role`, not `role[0]`).
async fn invitation_role(
    ctx: &Ctx,
    caller: &Caller,
    body: &CreateInvitations,
) -> Result<(RoleGrant, Option<Group>), ApiError> {
    may_invite(caller, &body.role)?;
    if !caller.is_admin() && !body.role.class_ids.is_empty() {
        // Teachers invite into the classes they teach.
        let ids = crate::domain::classes::class_ids(&body.role.class_ids);
        let classes = ctx.store().classes_by_id(&caller.org.id, &ids).await?;
        let teaches_all = body
            .role
            .class_ids
            .iter()
            .all(|id| classes.iter().any(|c| c.id.as_str() == id && c.has_teacher(&caller.member.user_id)));
        if !teaches_all {
            return Err(ApiError::Forbidden("invite people into classes you do not teach"));
        }
    }
    if body.emails.is_empty() || body.emails.len() > MAX_EMAILS {
        return Err(ApiError::validation("emails", format!("give 1 to {MAX_EMAILS} addresses")));
    }
    let group = match &body.group_id {
        None => None,
        Some(g) => {
            let group = match GroupId::parse(g) {
                Some(id) => ctx.store().group(&caller.org.id, &id).await?,
                None => None,
            };
            let group = group.ok_or_else(|| ApiError::validation("group_id", "no such group in this organization"))?;
            // Teachers invite into the groups they belong to.
            if !may_enter(caller, &group) {
                return Err(ApiError::Forbidden("invite people into a group you are not in"));
            }
            Some(group)
        }
    };
    let role = check_grants(ctx, &caller.org, vec![body.role.clone()], "role").await.map_err(|e| match e {
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
    Ok((role, group))
}

/// Invites a list of addresses with one role (admins; teachers for students and
/// parents). Each address gets its own result.
#[utoipa::path(post, path = "/v1/orgs/{org}/invitations", tag = "invitations", request_body = CreateInvitations,
    params(("org" = String, Path, description = "organization ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 200, description = "One result per address", body = InvitationResults),
              (status = 409, description = "`classes_required` when the organization has no classes yet, or `already_decided` when an expired invitation being sent again was decided meanwhile"),
              (status = 422, description = "`email_undeliverable`: mail to an address given bounced for good or was marked as spam (the detail names them); nobody was invited"),
              (status = 429, description = "`daily_limit`: the organization's invitation emails for today are used up (`Retry-After`)")))]
pub async fn create(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    let body: CreateInvitations = req.json()?;
    let (role, group) = invitation_role(&ctx, &caller, &body).await?;
    refuse_undeliverable(&ctx, &body.emails).await?;
    let now = Timestamp::now();
    let (ctx, caller, role, group) = (&ctx, &caller, &role, group.as_ref());
    let results: Vec<InvitationResult> = stream::iter(body.emails)
        .map(|raw| async move { invite_one(ctx, caller, raw, role.clone(), group, now).await })
        .buffered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    if results.iter().all(|r| r.status == InviteStatus::DailyLimit) {
        return Err(invitation_error(InvitationError::DailyLimit));
    }
    ApiResponse::ok(&InvitationResults { results })
}

/// 422 `email_undeliverable` when mail to any of these addresses bounced for good or was
/// complained of (one batch read for all), before anyone is invited.
async fn refuse_undeliverable(ctx: &Ctx, emails: &[String]) -> Result<(), ApiError> {
    let parsed: Vec<String> =
        emails.iter().filter_map(|e| crate::domain::Email::parse(e).ok()).map(|e| e.as_str().to_string()).collect();
    let addresses: Vec<&str> = parsed.iter().map(String::as_str).collect();
    let found = ctx.store().undeliverable(&addresses).await?;
    let mut refused: Vec<&str> = addresses.into_iter().filter(|a| found.contains_key(*a)).collect();
    refused.dedup();
    if refused.is_empty() {
        return Ok(());
    }
    Err(ApiError::Unprocessable {
        code: Code::EmailUndeliverable,
        detail: format!(
            "Mail to {} bounced for good or was marked as spam: kabinet sends it no more. Ask for another address.",
            refused.join(", ")
        ),
    })
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
    let by = (!caller.is_admin()).then_some(&caller.member.user_id);
    let (invitations, next) = ctx.store().invitations(&caller.org.id, by, &page).await?;
    ApiResponse::ok(&Page::new(invitations.iter().map(|i| InvitationView::of(i, now)).collect(), next))
}

async fn managed(ctx: &Ctx, req: &ApiRequest) -> Result<(Caller, Invitation), ApiError> {
    let caller = member(ctx, req).await?;
    let id = req.path::<InvitationId>("id")?;
    let invitation = ctx.store().invitation(&caller.org.id, &id).await?.ok_or(ApiError::NotFound("invitation"))?;
    if !caller.is_admin() && invitation.invited_by != caller.member.user_id {
        return Err(ApiError::Forbidden("manage invitations others sent"));
    }
    Ok((caller, invitation))
}

/// Sends the invitation email again, renewing its validity (admins, or who sent it).
#[utoipa::path(post, path = "/v1/orgs/{org}/invitations/{id}/resend", tag = "invitations",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "invitation ID")),
    responses((status = 200, description = "The invitation", body = InvitationView), (status = 409, description = "`already_decided`; `invitation_undeliverable`: its email bounced for good or was marked as spam (nothing sent)"),
              (status = 429, description = "`too_many_requests`: resent less than 10 minutes ago; `daily_limit`: the organization's daily invitation emails are used up (`Retry-After`)")))]
pub async fn resend(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, invitation) = managed(&ctx, &req).await?;
    let now = Timestamp::now();
    if invitation.status != InvitationStatus::Pending {
        return Err(invitation_error(InvitationError::NotPending));
    }
    undelivered(&invitation)?;
    too_soon(&invitation, now)?;
    let updated = match renew(&ctx, &caller, &invitation, now).await {
        // Changed since read: resent meanwhile (too soon now), or decided (409).
        Err(InvitationError::NotPending) => {
            if let Some(current) = ctx.store().invitation(&caller.org.id, &invitation.id).await? {
                if current.status == InvitationStatus::Pending {
                    undelivered(&current)?;
                    too_soon(&current, now)?;
                }
            }
            return Err(invitation_error(InvitationError::NotPending));
        }
        other => other.map_err(invitation_error)?,
    };
    ApiResponse::ok(&InvitationView::of(&updated, now))
}

/// 409 `invitation_undeliverable` when the invitation's email bounced for good or was
/// complained of: it is not sent again.
fn undelivered(invitation: &Invitation) -> Result<(), ApiError> {
    let what = match invitation.delivery {
        Delivery::Sent => return Ok(()),
        Delivery::Bounced => "bounced",
        Delivery::Complained => "was marked as spam",
    };
    Err(ApiError::conflict(
        Code::InvitationUndeliverable,
        format!(
            "The invitation's email to {} {what}: it is not sent again. Revoke it and invite another address.",
            invitation.email
        ),
    ))
}

/// 429 when the invitation's previous resend was less than ten minutes ago (its first
/// resend is always allowed).
fn too_soon(invitation: &Invitation, now: Timestamp) -> Result<(), ApiError> {
    match resend_wait(invitation, now) {
        0 => Ok(()),
        wait => Err(ApiError::TooManyRequests {
            code: Code::TooManyRequests,
            detail: format!(
                "This invitation was sent again a moment ago; it can be sent again in {} minutes.",
                wait.div_ceil(60)
            ),
            retry_after: wait,
        }),
    }
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
    let audit = caller
        .audit(AuditAction::InvitationRevoke, "invitation", invitation.id.as_str())
        .before(json!({"status": "pending"}))
        .after(json!({"status": "revoked"}));
    ctx.store().close_invitation(&invitation, InvitationStatus::Revoked, None, Some(&audit)).await?;
    Ok(ApiResponse::no_content())
}

/// Where an invitation in `GET /v1/me/invitations` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvitationKind {
    /// An admin or a teacher invited this address.
    Email,
    /// The school's journal (a roster import) lists a person with this address: accepting
    /// joins as them, with the journal's roles and classes.
    Journal,
}

/// What waits for the caller: an email invitation, or an offer from a school's journal.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = MyInvitation::example)]
pub struct MyInvitation {
    pub id: String,
    pub kind: InvitationKind,
    pub org_id: String,
    pub org_name: String,
    /// The caller's address it is for.
    pub email: String,
    /// The role it gives (the first of `roles`).
    pub role: RoleGrant,
    /// Every role it gives (a journal's record may give a parent of children in two
    /// classes one role with both).
    pub roles: Vec<RoleGrant>,
    /// The classes those roles name, with their names (the caller cannot read them yet).
    pub classes: Vec<ClassRef>,
    /// The group it also joins.
    pub group_id: Option<String>,
    /// Always `pending`: only open invitations are listed.
    pub status: String,
    /// Who invited (for a journal offer, the admin whose import lists the caller).
    pub invited_by: String,
    pub invited_by_name: String,
    pub created_at: Timestamp,
    /// When it expires; `null` for a journal offer, open while the journal lists them.
    pub expires_at: Option<Timestamp>,
    /// When its email was last sent (`null`: a journal offer never mailed).
    pub last_sent_at: Option<Timestamp>,
    pub send_count: u32,
}

impl MyInvitation {
    fn example() -> serde_json::Value {
        let mut e = InvitationView::example();
        e["kind"] = json!("email");
        e["roles"] = json!([e["role"].clone()]);
        e["classes"] = json!([{"id": "01m115ebsrwdyfqatyynem1n18", "name": "5А"}]);
        extended(e, json!({"org_name": "Школа № 57"}))
    }

    fn email(i: &Invitation, org_name: &str, classes: Vec<ClassRef>, now: Timestamp) -> Self {
        MyInvitation {
            id: i.id.to_string(),
            kind: InvitationKind::Email,
            org_id: i.org_id.to_string(),
            org_name: org_name.to_string(),
            email: i.email.clone(),
            role: i.role.clone(),
            roles: vec![i.role.clone()],
            classes,
            group_id: i.group_id.as_ref().map(ToString::to_string),
            status: status(i, now),
            invited_by: i.invited_by.to_string(),
            invited_by_name: i.invited_by_name.clone(),
            created_at: i.created_at,
            expires_at: Some(i.expires_at),
            last_sent_at: Some(i.last_sent_at),
            send_count: i.send_count,
        }
    }

    /// A journal record's offer, or none while it gives no role (a student the journal
    /// has no class for yet: nothing to accept).
    fn journal(p: &RosterPerson, org_name: &str, roles: Vec<RoleGrant>, classes: Vec<ClassRef>) -> Option<Self> {
        Some(MyInvitation {
            id: p.offer_id.as_ref()?.to_string(),
            kind: InvitationKind::Journal,
            org_id: p.org_id.to_string(),
            org_name: org_name.to_string(),
            email: p.email.clone()?,
            role: roles.first()?.clone(),
            roles,
            classes,
            group_id: None,
            status: "pending".into(),
            invited_by: p.offered_by.as_ref().map(|u| u.to_string()).unwrap_or_default(),
            invited_by_name: p.offered_by_name.clone().unwrap_or_default(),
            created_at: p.created_at,
            expires_at: None,
            last_sent_at: p.invited_at,
            send_count: p.invite_count,
        })
    }
}

/// The caller's verified address, or none (unverified addresses match no invitation).
fn verified_email(req: &ApiRequest) -> Result<Option<String>, ApiError> {
    let claims = req.caller()?;
    Ok(if claims.email_verified { claims.email.as_deref().map(crate::domain::Email::normalized) } else { None })
}

/// The names of the classes a role grant names, in its organization.
async fn class_refs(ctx: &Ctx, org: &OrgId, role: &RoleGrant) -> Result<Vec<ClassRef>, ApiError> {
    let ids = named_classes(std::slice::from_ref(role));
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let classes = ctx.store().classes_by_id(org, &ids).await?;
    Ok(classes.into_iter().map(|c| ClassRef { id: c.id.to_string(), name: c.name }).collect())
}

/// What waits for the caller's verified email (nothing when it is not verified), newest
/// first: email invitations (pending, not expired) and offers of schools' journals that
/// list a person with this address (a roster import): each accepted or declined by the
/// caller. A journal offer is listed once the journal gives the person a role. A page may
/// hold fewer than `limit` (even none) and still carry a `next_cursor`.
#[utoipa::path(get, path = "/v1/me/invitations", tag = "me",
    params(("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of open invitations", body = Page<MyInvitation>)))]
pub async fn mine(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let page = req.page_query()?;
    let Some(email) = verified_email(&req)? else {
        return ApiResponse::ok(&Page::<MyInvitation>::all(vec![]));
    };
    let now = Timestamp::now();
    let (offers, next) = ctx.store().open_offers_to(&email, now, &page).await?;
    let org_ids: Vec<OrgId> = offers
        .iter()
        .map(|o| match o {
            Offer::Email(i) => i.org_id.clone(),
            Offer::Journal(p) => p.org_id.clone(),
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let orgs = ctx.store().orgs(&org_ids).await?;
    let name_of = |org: &OrgId| orgs.iter().find(|o| &o.id == org).map(|o| o.name.clone()).unwrap_or_default();
    let mut items = Vec::with_capacity(offers.len());
    for offer in &offers {
        match offer {
            Offer::Email(i) => {
                let classes = class_refs(&ctx, &i.org_id, &i.role).await?;
                items.push(MyInvitation::email(i, &name_of(&i.org_id), classes, now));
            }
            Offer::Journal(p) if p.offers_to(&email) => {
                let (roles, classes) = journal_roles(&ctx, p).await?;
                items.extend(MyInvitation::journal(p, &name_of(&p.org_id), roles, classes));
            }
            Offer::Journal(_) => {}
        }
    }
    ApiResponse::ok(&Page::new(items, next))
}

/// What the path names among what waits for the caller's verified email, as it is now,
/// with that email.
async fn addressed(ctx: &Ctx, req: &ApiRequest) -> Result<(Offer, String), ApiError> {
    let id = req.path::<InvitationId>("id")?;
    let email = verified_email(req)?.ok_or(ApiError::NotFound("invitation"))?;
    let found = ctx.store().offer_to(&email, &id).await?.ok_or(ApiError::NotFound("invitation"))?;
    // The index may lag a write: read the item itself.
    let now = match found {
        Offer::Email(i) => ctx.store().invitation(&i.org_id, &i.id).await?.map(Offer::Email),
        Offer::Journal(p) => ctx.store().roster_person(&p.org_id, &p.sourced_id).await?.map(Offer::Journal),
    };
    Ok((now.ok_or(ApiError::NotFound("invitation"))?, email))
}

/// Closes the invitation as accepted with the membership it makes; a pending join request
/// of the invitee ends with it (read only when there is one).
async fn join(ctx: &Ctx, invitation: &Invitation, m: &Membership) -> Result<(), ApiError> {
    let audit = &acceptance_audit(invitation, &m.user_id, &m.name)
        .after(json!({"status": "accepted", "user_id": m.user_id, "role": invitation.role}));
    retry::on_change(
        None,
        move |pending: Option<JoinRequest>| async move {
            let accepted = ctx
                .store()
                .close_invitation(invitation, InvitationStatus::Accepted, Some((m, pending.as_ref())), Some(audit))
                .await;
            retry::outcome(accepted, |e| matches!(e, InvitationError::HasPendingRequest))
        },
        move || async move { Ok(ctx.store().pending_join_request(&invitation.org_id, &m.user_id).await?) },
        invitation_error(InvitationError::HasPendingRequest),
    )
    .await
    .map(|_| ())
}

/// Accepts an invitation addressed to the caller's verified email: they become a member
/// with its role. A journal offer (`kind: journal`) makes them a member as the journal's
/// record (its roles and classes, `source: journal`, `linked: true`); someone who is a
/// member already keeps their roles and is linked to the record.
#[utoipa::path(post, path = "/v1/me/invitations/{id}/accept", tag = "me",
    params(("id" = String, Path, description = "invitation ID")),
    responses((status = 200, description = "The membership", body = MemberView),
              (status = 409, description = "`already_decided` (no longer open: for a journal offer, someone joined as the record or its email changed), `already_member`, `class_unavailable` (the invitation's class is gone, or the journal gives no class yet) or `concurrent_update`"),
              (status = 410, description = "`invitation_expired`")))]
pub async fn accept(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = caller_id(&req)?;
    let invitation = match addressed(&ctx, &req).await? {
        (Offer::Email(i), _) => i,
        (Offer::Journal(p), email) => return accept_journal(&ctx, &req, &p, &email).await,
    };
    if invitation.status != InvitationStatus::Pending {
        return Err(invitation_error(InvitationError::NotPending));
    }
    if invitation.expires_at <= Timestamp::now() {
        return Err(ApiError::Gone {
            code: Code::InvitationExpired,
            detail: "This invitation has expired: ask for it to be sent again.".into(),
        });
    }
    let profile = ctx.store().upsert_user(&identity(&req)?, &ProfileChanges::default()).await?;
    let (org, role, source) = (&invitation.org_id, vec![invitation.role.clone()], MembershipSource::Invitation);
    let m = Membership::new(org, &user, &profile.name, profile.email.as_deref(), role, false, source);
    join(&ctx, &invitation, &m).await?;
    if let Some(group) = &invitation.group_id {
        join_group(&ctx, &m, group, &invitation.id).await?;
    }
    ApiResponse::ok(&MemberView::seen_by(&m, &m))
}

/// Accepts a school journal's offer: the caller joins as its record (its roles and
/// classes, `source: journal`, linked); a member already is linked to it, keeping the
/// roles an admin gave them.
async fn accept_journal(ctx: &Ctx, req: &ApiRequest, p: &RosterPerson, email: &str) -> Result<ApiResponse, ApiError> {
    let org = ctx.store().org(&p.org_id).await?.ok_or(ApiError::NotFound("invitation"))?;
    let profile = ctx.store().upsert_user(&identity(req)?, &ProfileChanges::default()).await?;
    let m = match crate::roster::link::accept_offer(ctx, &org, p, &profile, email).await {
        Ok(Accepted::Joined(m)) | Ok(Accepted::AlreadyMember(m)) => m,
        Err(OfferError::NotOpen) => return Err(invitation_error(InvitationError::NotPending)),
        Err(OfferError::NoRoleYet) => {
            return Err(ApiError::conflict(
                Code::ClassUnavailable,
                "The school's journal gives you no class yet (or it was deleted): ask the school to add it.",
            ))
        }
        Err(OfferError::Busy) => return Err(invitation_error(InvitationError::HasPendingRequest)),
        Err(OfferError::Store(e)) => return Err(e.into()),
    };
    ApiResponse::ok(&MemberView::seen_by(&m, &m))
}

/// Puts a person who accepted an invitation to a group into it (unless the group was
/// deleted meanwhile): a step after their membership, as any add to a group, on the
/// condition that the invitation is accepted and names the group.
async fn join_group(ctx: &Ctx, m: &Membership, group: &GroupId, invitation: &InvitationId) -> Result<(), ApiError> {
    let (org, group) = tokio::try_join!(ctx.store().org(&m.org_id), ctx.store().group(&m.org_id, group))?;
    let (Some(org), Some(group)) = (org, group) else {
        return Ok(());
    };
    let acting = Acting { org: &org, actor: m };
    let role = GroupRole::of(m);
    add_people(ctx, acting, Container::Invited { group: &group, invitation, role }, vec![m.clone()]).await?;
    Ok(())
}

/// Declines an invitation addressed to the caller's verified email. A declined journal
/// offer is not made (nor mailed) to this address again; nothing tells the school.
#[utoipa::path(post, path = "/v1/me/invitations/{id}/decline", tag = "me",
    params(("id" = String, Path, description = "invitation ID")),
    responses((status = 204, description = "Declined"), (status = 409, description = "`already_decided`")))]
pub async fn decline(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    // No audit entry: it would hand the admins the account of someone who gave the
    // organization nothing (and, for a journal offer, tell them the address is registered).
    match addressed(&ctx, &req).await? {
        (Offer::Email(invitation), _) => {
            ctx.store().close_invitation(&invitation, InvitationStatus::Declined, None, None).await?;
        }
        (Offer::Journal(p), email) => {
            if !ctx.store().decline_roster_offer(&p.org_id, &p.sourced_id, &email).await? {
                return Err(invitation_error(InvitationError::NotPending));
            }
        }
    }
    Ok(ApiResponse::no_content())
}

/// The audit entry of the invitee's acceptance, written in the transaction that makes
/// them a member.
fn acceptance_audit(invitation: &Invitation, user: &UserId, name: &str) -> AuditEntry {
    let actor = Actor { id: user.clone(), name: name.to_string() };
    AuditEntry::new(&invitation.org_id, &actor, AuditAction::InvitationAccept, "invitation", invitation.id.as_str())
        .before(json!({"status": "pending", "email": invitation.email}))
}
