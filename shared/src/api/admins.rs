//! Admins (R6.1, R1.3): list, appoint, demote; never fewer than one.

use serde_json::json;

use super::access::{member, member_and_target, user_param};
use super::members::{admin_role_required, member_error, MemberView};
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::store::audit::AuditEntry;
use crate::store::members::MemberError;
use crate::store::outbox::Event;
use crate::Ctx;

/// Lists the organization's admins (any member: people need to know whom to ask).
#[utoipa::path(get, path = "/v1/orgs/{org}/admins", tag = "admins",
    params(("org" = String, Path, description = "organization ID")),
    responses((status = 200, description = "The admins", body = Page<MemberView>)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    let mut admins = ctx.store().admins(&caller.org.id).await?;
    admins.sort_by_key(|a| a.name.to_lowercase());
    let items = admins.iter().map(MemberView::from).collect();
    ApiResponse::ok(&Page { items, next_cursor: None })
}

/// Appoints a member admin (admins). Only a member holding `teacher` or `staff` can be
/// one (422 `admin_role_required`). Appointing an admin again changes nothing.
#[utoipa::path(put, path = "/v1/orgs/{org}/admins/{user}", tag = "admins",
    params(("org" = String, Path, description = "organization ID"), ("user" = String, Path, description = "the member's user ID")),
    responses((status = 200, description = "The member, now an admin", body = MemberView)))]
pub async fn appoint(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = user_param(&req, "member")?;
    let (caller, mut read) = member_and_target(&ctx, &req, &user).await?;
    caller.require_admin("appoint admins")?;
    read.as_ref().ok_or(ApiError::NotFound("member"))?;
    for _ in 0..3 {
        let target = match read.take() {
            Some(t) => t,
            None => ctx.store().membership(&caller.org.id, &user).await?.ok_or(ApiError::NotFound("member"))?,
        };
        if target.admin {
            return ApiResponse::ok(&MemberView::from(&target));
        }
        if !target.can_be_admin() {
            return Err(admin_role_required());
        }
        let audit = AuditEntry::new(
            &caller.org.id,
            &caller.actor(),
            "admin.appoint",
            "member",
            user.as_str(),
            Some(json!({"admin": false})),
            Some(json!({"admin": true})),
        );
        let event = Event::new(
            "admin_appointed",
            Some(&caller.org.id),
            json!({"org_id": caller.org.id, "org_name": caller.org.name, "user_id": user, "by": caller.member.name}),
        );
        match ctx.store().set_admin(&target, true, &caller.member.user_id, &audit, Some(&event)).await {
            Ok(updated) => return ApiResponse::ok(&MemberView::from(&updated)),
            Err(MemberError::Changed) => continue,
            Err(e) => return Err(member_error(e)),
        }
    }
    Err(member_error(MemberError::Changed))
}

/// Demotes an admin (admins; also oneself). The last admin cannot be demoted (409
/// `last_admin`), also when two admins demote each other at once.
#[utoipa::path(delete, path = "/v1/orgs/{org}/admins/{user}", tag = "admins",
    params(("org" = String, Path, description = "organization ID"), ("user" = String, Path, description = "the admin's user ID")),
    responses((status = 204, description = "No longer an admin"), (status = 409, description = "`last_admin`")))]
pub async fn demote(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = user_param(&req, "member")?;
    let (caller, mut read) = member_and_target(&ctx, &req, &user).await?;
    caller.require_admin("demote admins")?;
    read.as_ref().ok_or(ApiError::NotFound("member"))?;
    for _ in 0..3 {
        let target = match read.take() {
            Some(t) => t,
            None => ctx.store().membership(&caller.org.id, &user).await?.ok_or(ApiError::NotFound("member"))?,
        };
        if !target.admin {
            return Ok(ApiResponse::no_content());
        }
        let audit = AuditEntry::new(
            &caller.org.id,
            &caller.actor(),
            "admin.demote",
            "member",
            user.as_str(),
            Some(json!({"admin": true})),
            Some(json!({"admin": false})),
        );
        match ctx.store().set_admin(&target, false, &caller.member.user_id, &audit, None).await {
            Ok(_) => return Ok(ApiResponse::no_content()),
            Err(MemberError::Changed) => continue,
            Err(e) => return Err(member_error(e)),
        }
    }
    Err(member_error(MemberError::Changed))
}
