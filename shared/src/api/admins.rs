//! Admins (R6.1, R1.3): list, appoint, demote; never fewer than one.

use serde_json::json;

use super::common::access::{member, member_and_target, membership, user_param, Caller};
use super::common::errors::{admin_role_required, member_error};
use super::common::retry::{self, Attempt};
use super::common::views::MemberView;
use crate::domain::AuditAction;
use crate::domain::{Membership, OutboxEvent, UserId};
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::store::members::MemberError;
use crate::Ctx;

/// Lists the organization's admins (any member: people need to know whom to ask).
#[utoipa::path(get, path = "/v1/orgs/{org}/admins", tag = "admins",
    params(("org" = String, Path, description = "organization ID")),
    responses((status = 200, description = "The admins", body = Page<MemberView>)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    let mut admins = ctx.store().admins(&caller.org.id).await?;
    admins.sort_by_key(|a| a.name.to_lowercase());
    ApiResponse::ok(&Page::all(admins.iter().map(|a| MemberView::seen_by(a, &caller.member)).collect()))
}

/// The caller (an admin) and the member named by the path (404 when there is none).
async fn admin_and_target(
    ctx: &Ctx,
    req: &ApiRequest,
    action: &'static str,
) -> Result<(Caller, Membership, UserId), ApiError> {
    let user = user_param(req, "member")?;
    let (caller, read) = member_and_target(ctx, req, &user).await?;
    caller.require_admin(action)?;
    let target = read.ok_or(ApiError::NotFound("member"))?;
    Ok((caller, target, user))
}

/// Sets a member's admin flag, reading them again while they change meanwhile.
async fn set_admin(
    ctx: &Ctx,
    caller: &Caller,
    target: Membership,
    user: &UserId,
    admin: bool,
) -> Result<Membership, ApiError> {
    retry::on_change(
        target,
        move |target| async move { set_admin_once(ctx, caller, target, admin).await },
        move || async move { membership(ctx, &caller.org.id, user).await },
        member_error(MemberError::Changed),
    )
    .await
}

/// One try at appointing or demoting: nothing to do when the flag is already so.
async fn set_admin_once(
    ctx: &Ctx,
    caller: &Caller,
    target: Membership,
    admin: bool,
) -> Result<Attempt<Membership>, ApiError> {
    if target.admin == admin {
        return Ok(Attempt::Done(target));
    }
    if admin && !target.can_be_admin() {
        return Err(admin_role_required());
    }
    let action = if admin { AuditAction::AdminAppoint } else { AuditAction::AdminDemote };
    let audit = caller
        .audit(action, "member", target.user_id.as_str())
        .before(json!({"admin": !admin}))
        .after(json!({"admin": admin}));
    let event = admin.then(|| OutboxEvent::AdminAppointed {
        org_id: caller.org.id.clone(),
        org_name: caller.org.name.clone(),
        user_id: target.user_id.clone(),
        by: caller.member.name.clone(),
    });
    let set = ctx.store().set_admin(&target, admin, &caller.member.user_id, &audit, event.as_ref()).await;
    retry::outcome(set, |e| matches!(e, MemberError::Changed))
}

/// Appoints a member admin (admins). Only a member holding `teacher` or `staff` can be
/// one (422 `admin_role_required`). Appointing an admin again changes nothing.
#[utoipa::path(put, path = "/v1/orgs/{org}/admins/{user}", tag = "admins",
    params(("org" = String, Path, description = "organization ID"), ("user" = String, Path, description = "the member's user ID")),
    responses((status = 200, description = "The member, now an admin", body = MemberView),
              (status = 409, description = "`concurrent_update`"),
              (status = 422, description = "`admin_role_required`: the member holds no teacher or staff role")))]
pub async fn appoint(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, target, user) = admin_and_target(&ctx, &req, "appoint admins").await?;
    let appointed = set_admin(&ctx, &caller, target, &user, true).await?;
    ApiResponse::ok(&MemberView::seen_by(&appointed, &caller.member))
}

/// Demotes an admin (admins; also oneself). The last admin cannot be demoted (409
/// `last_admin`), also when two admins demote each other at once.
#[utoipa::path(delete, path = "/v1/orgs/{org}/admins/{user}", tag = "admins",
    params(("org" = String, Path, description = "organization ID"), ("user" = String, Path, description = "the admin's user ID")),
    responses((status = 204, description = "No longer an admin"), (status = 409, description = "`last_admin` or `concurrent_update`")))]
pub async fn demote(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, target, user) = admin_and_target(&ctx, &req, "demote admins").await?;
    set_admin(&ctx, &caller, target, &user, false).await?;
    Ok(ApiResponse::no_content())
}
