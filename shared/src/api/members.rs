//! Members: direct add by an admin (R4.4), list, read, role change, removal (R5.2).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::access::{member, member_and_target, user_param, Caller};
use crate::domain::roles::validate_grants;
use crate::domain::{Email, Role, RoleGrant, Timestamp, UserId};
use crate::http::{ApiError, ApiRequest, ApiResponse, FieldError, Page};
use crate::store::audit::AuditEntry;
use crate::store::classes::Class;
use crate::store::members::{Joined, MemberError, Membership, MembershipSource};
use crate::store::orgs::Org;
use crate::store::outbox::Event;
use crate::Ctx;

/// A member of an organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub user_id: String,
    pub name: String,
    pub email: Option<String>,
    pub roles: Vec<RoleGrant>,
    pub admin: bool,
    pub source: MembershipSource,
    pub joined_at: Timestamp,
    pub last_active_at: Option<Timestamp>,
    /// A student or parent whose class was deleted: give them a new class.
    pub needs_class: bool,
    /// Classes a student was promoted out of, oldest first.
    pub class_history: Vec<String>,
}

impl From<&Membership> for MemberView {
    fn from(m: &Membership) -> Self {
        MemberView {
            user_id: m.user_id.to_string(),
            name: m.name.clone(),
            email: m.email.clone(),
            roles: m.roles.clone(),
            admin: m.admin,
            source: m.source,
            joined_at: m.joined_at,
            last_active_at: m.last_active_at,
            needs_class: m.needs_class(),
            class_history: m.class_history.clone(),
        }
    }
}

/// What audit entries record of a membership.
pub fn summary(m: &Membership) -> serde_json::Value {
    json!({"name": m.name, "roles": m.roles, "admin": m.admin})
}

pub(crate) fn member_error(e: MemberError) -> ApiError {
    match e {
        MemberError::AlreadyMember => {
            ApiError::conflict("already_member", "This person is already a member of the organization.")
        }
        MemberError::NotMember => ApiError::NotFound("member"),
        MemberError::Changed => ApiError::conflict(
            "concurrent_update",
            "The member was changed by someone else meanwhile; read again and retry.",
        ),
        MemberError::LastAdmin => super::orgs::last_admin(),
        MemberError::ClassUnavailable(c) => {
            ApiError::validation("roles", format!("class {c} does not exist or has graduated"))
        }
        MemberError::AdminRoleRequired => admin_role_required(),
        MemberError::ActorNotAdmin => ApiError::Forbidden("act as an admin of this organization"),
        MemberError::HasPendingRequest => {
            ApiError::conflict("concurrent_update", "Their join request is being changed meanwhile; retry.")
        }
        MemberError::Store(e) => e.into(),
    }
}

pub fn admin_role_required() -> ApiError {
    ApiError::Unprocessable {
        code: "admin_role_required",
        detail: "Only a member holding the teacher or staff role can be an admin.".into(),
    }
}

/// Validates role grants against the organization: their own rules, then that the classes
/// they name exist and have not graduated. 409 `classes_required` when a role needs a
/// class and the organization has none yet.
pub async fn check_grants(
    ctx: &Ctx,
    org: &Org,
    grants: Vec<RoleGrant>,
    field: &str,
) -> Result<Vec<RoleGrant>, ApiError> {
    let needs_class = grants.iter().any(|g| matches!(g.role, Role::Student | Role::Parent));
    if needs_class && org.class_count == 0 {
        return Err(ApiError::conflict(
            "classes_required",
            "Students and parents belong to classes, and this organization has none yet: create its classes first.",
        ));
    }
    let grants = validate_grants(grants, field)
        .map_err(|errs| ApiError::Validation(errs.into_iter().map(|(f, m)| FieldError::new(f, m)).collect()))?;
    let ids: BTreeSet<String> = grants.iter().flat_map(|g| g.class_ids.iter().cloned()).collect();
    if ids.is_empty() {
        return Ok(grants);
    }
    let classes = ctx.store().classes_by_id(&org.id, &ids).await?;
    let mut errors = Vec::new();
    for (i, g) in grants.iter().enumerate() {
        for id in &g.class_ids {
            match classes.iter().find(|c| &c.id == id) {
                None => errors.push(FieldError::new(
                    format!("{field}[{i}].class_ids"),
                    format!("no class {id} in this organization"),
                )),
                Some(c) if c.graduated => errors.push(FieldError::new(
                    format!("{field}[{i}].class_ids"),
                    format!("class {} has graduated", c.name),
                )),
                Some(_) => {}
            }
        }
    }
    if errors.is_empty() {
        Ok(grants)
    } else {
        Err(ApiError::Validation(errors))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    /// The person's ID (their `sub`), or
    pub user_id: Option<String>,
    /// the verified email of a registered person.
    pub email: Option<String>,
    /// One or more roles at once.
    pub roles: Vec<RoleGrant>,
}

/// Adds a registered person with one or more roles (admins). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/orgs/{org}/members", tag = "members", request_body = AddMember,
    params(("org" = String, Path, description = "organization ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 201, description = "Added", body = MemberView),
              (status = 409, description = "`already_member`, or `classes_required` when the organization has no classes yet")))]
pub async fn add(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    caller.require_admin("add members")?;
    let body: AddMember = req.json()?;
    let user = match (body.user_id.as_deref(), body.email.as_deref()) {
        (Some(id), None) => match UserId::parse(id) {
            Some(id) => ctx.store().user(&id).await?,
            None => None,
        },
        (None, Some(email)) => {
            let email = Email::parse(email).map_err(|m| ApiError::validation("email", m))?;
            ctx.store().user_by_verified_email(email.as_str()).await?
        }
        _ => return Err(ApiError::validation("user_id", "give either user_id or email")),
    };
    let roles = check_grants(&ctx, &caller.org, body.roles, "roles").await?;
    let user = user.ok_or_else(|| ApiError::Missing {
        code: "user_not_found",
        detail: "No registered person has this ID or verified email; invite them by email instead.".into(),
    })?;
    let m = Membership::new(
        &caller.org.id,
        &user.id,
        &user.name,
        user.email.as_deref(),
        roles,
        false,
        MembershipSource::Manual,
    );
    let audit = AuditEntry::new(
        &caller.org.id,
        &caller.actor(),
        "member.add",
        "member",
        user.id.as_str(),
        None,
        Some(summary(&m)),
    );
    let event = Event::new(
        "member_added",
        Some(&caller.org.id),
        json!({"org_id": caller.org.id, "org_name": caller.org.name, "user_id": user.id, "roles": m.roles, "by": caller.member.name}),
    );
    // A pending join request of theirs ends with this (read only when there is one).
    let mut pending = None;
    let mut added = false;
    for _ in 0..3 {
        let joined = Joined { pending: pending.as_ref(), by: &caller.member.user_id };
        match ctx.store().add_member(&m, joined, Some(&audit), Some(&event)).await {
            Ok(()) => {
                added = true;
                break;
            }
            Err(MemberError::HasPendingRequest) => {
                pending = ctx.store().pending_join_request(&caller.org.id, &user.id).await?
            }
            Err(e) => return Err(member_error(e)),
        }
    }
    if !added {
        return Err(member_error(MemberError::HasPendingRequest));
    }
    ApiResponse::created(&MemberView::from(&m), &format!("/v1/orgs/{}/members/{}", caller.org.id, user.id))
}

/// Which members a caller may list: admins all; a teacher those of a class they teach.
async fn class_filter(ctx: &Ctx, caller: &Caller, class: Option<&str>) -> Result<Option<Class>, ApiError> {
    let Some(class_id) = class else {
        caller.require_admin("list every member (teachers list a class they teach with ?class=)")?;
        return Ok(None);
    };
    let class_id = super::access::resource_id(class_id).ok_or(ApiError::NotFound("class"))?;
    let class = ctx.store().class(&caller.org.id, &class_id).await?.ok_or(ApiError::NotFound("class"))?;
    let teaches = caller.has_role(Role::Teacher) && class.has_teacher(&caller.member.user_id);
    if !caller.is_admin() && !teaches {
        return Err(ApiError::Forbidden("list the members of a class you do not teach"));
    }
    Ok(Some(class))
}

/// Lists members (admins; teachers for a class they teach), by name within a class.
#[utoipa::path(get, path = "/v1/orgs/{org}/members", tag = "members",
    params(("org" = String, Path, description = "organization ID"),
           ("role" = Option<String>, Query, description = "teacher, staff, student or parent"),
           ("class" = Option<String>, Query, description = "a class ID: its students, parents and teachers"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of members", body = Page<MemberView>)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    let page = req.page_query()?;
    let role = match req.query_param("role") {
        Some(r) => Some(
            serde_json::from_value::<Role>(json!(r))
                .map_err(|_| ApiError::validation("role", "must be teacher, staff, student or parent"))?,
        ),
        None => None,
    };
    match class_filter(&ctx, &caller, req.query_param("class")).await? {
        None => {
            let (members, next) = ctx.store().members(&caller.org.id, role, &page).await?;
            let items = members.iter().map(MemberView::from).collect();
            ApiResponse::ok(&Page { items, next_cursor: next.map(|c| c.encode()) })
        }
        Some(class) => {
            let ids: Vec<UserId> = class.people().iter().filter_map(|u| UserId::parse(u)).collect();
            let mut members = ctx.store().memberships(&caller.org.id, &ids).await?;
            if let Some(role) = role {
                members.retain(|m| m.has_role(role));
            }
            members.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.user_id.cmp(&b.user_id)));
            let (members, next) = page.slice(members)?;
            let items = members.iter().map(MemberView::from).collect();
            ApiResponse::ok(&Page { items, next_cursor: next.map(|c| c.encode()) })
        }
    }
}

/// Reads one member: admins anyone, members themselves, teachers the people of their
/// classes.
#[utoipa::path(get, path = "/v1/orgs/{org}/members/{user}", tag = "members",
    params(("org" = String, Path, description = "organization ID"), ("user" = String, Path, description = "the member's user ID")),
    responses((status = 200, description = "The member", body = MemberView)))]
pub async fn get(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = user_param(&req, "member")?;
    let (caller, target) = member_and_target(&ctx, &req, &user).await?;
    let target = target.ok_or(ApiError::NotFound("member"))?;
    if user == caller.member.user_id {
        return ApiResponse::ok(&MemberView::from(&target));
    }
    if !caller.is_admin() {
        let allowed = caller.has_role(Role::Teacher) && {
            let ids: BTreeSet<String> = target.places().into_iter().map(|(_, c)| c).collect();
            ctx.store().classes_by_id(&caller.org.id, &ids).await?.iter().any(|c| c.has_teacher(&caller.member.user_id))
        };
        if !allowed {
            return Err(ApiError::Forbidden("see this member"));
        }
    }
    ApiResponse::ok(&MemberView::from(&target))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMember {
    /// The member's roles, all of them (replaces the current ones).
    pub roles: Vec<RoleGrant>,
}

/// Changes a member's roles (admins); class places follow.
#[utoipa::path(patch, path = "/v1/orgs/{org}/members/{user}", tag = "members", request_body = PatchMember,
    params(("org" = String, Path, description = "organization ID"), ("user" = String, Path, description = "the member's user ID")),
    responses((status = 200, description = "The changed member", body = MemberView)))]
pub async fn patch(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = user_param(&req, "member")?;
    let (caller, mut read) = member_and_target(&ctx, &req, &user).await?;
    caller.require_admin("change members' roles")?;
    let body: PatchMember = req.json()?;
    let roles = check_grants(&ctx, &caller.org, body.roles, "roles").await?;
    for _ in 0..3 {
        let target = match read.take() {
            Some(t) => t,
            None => ctx.store().membership(&caller.org.id, &user).await?.ok_or(ApiError::NotFound("member"))?,
        };
        if target.admin && !roles.iter().any(|g| g.role.can_be_admin()) {
            return Err(admin_role_required());
        }
        if target.roles == roles {
            return ApiResponse::ok(&MemberView::from(&target));
        }
        let mut after = target.clone();
        after.roles = roles.clone();
        let audit = AuditEntry::new(
            &caller.org.id,
            &caller.actor(),
            "member.update",
            "member",
            user.as_str(),
            Some(summary(&target)),
            Some(summary(&after)),
        );
        match ctx.store().update_member_roles(&target, roles.clone(), Some(&audit)).await {
            Ok(updated) => return ApiResponse::ok(&MemberView::from(&updated)),
            Err(MemberError::Changed) => continue,
            Err(e) => return Err(member_error(e)),
        }
    }
    Err(member_error(MemberError::Changed))
}

/// Removes a member (admins): the membership, its class places and its admin flag go
/// together; never the last admin.
#[utoipa::path(delete, path = "/v1/orgs/{org}/members/{user}", tag = "members",
    params(("org" = String, Path, description = "organization ID"), ("user" = String, Path, description = "the member's user ID")),
    responses((status = 204, description = "Removed"), (status = 409, description = "`last_admin`")))]
pub async fn remove(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = user_param(&req, "member")?;
    let (caller, target) = member_and_target(&ctx, &req, &user).await?;
    caller.require_admin("remove members")?;
    let target = target.ok_or(ApiError::NotFound("member"))?;
    let action = if user == caller.member.user_id { "member.leave" } else { "member.remove" };
    end_membership(&ctx, &caller, target, action).await?;
    Ok(ApiResponse::no_content())
}

/// Ends a membership (removal by an admin, or leaving), reading it again when it changed
/// meanwhile.
pub async fn end_membership(ctx: &Ctx, caller: &Caller, read: Membership, action: &str) -> Result<(), ApiError> {
    let user = read.user_id.clone();
    let mut read = Some(read);
    for _ in 0..3 {
        let target = match read.take() {
            Some(t) => t,
            None => ctx.store().membership(&caller.org.id, &user).await?.ok_or(ApiError::NotFound("member"))?,
        };
        let ids: BTreeSet<String> = target.places().into_iter().map(|(_, c)| c).collect();
        let existing: BTreeSet<String> = if ids.is_empty() {
            BTreeSet::new()
        } else {
            ctx.store().classes_by_id(&caller.org.id, &ids).await?.into_iter().map(|c| c.id).collect()
        };
        let audit = AuditEntry::new(
            &caller.org.id,
            &caller.actor(),
            action,
            "member",
            user.as_str(),
            Some(summary(&target)),
            None,
        );
        match ctx.store().remove_member(&target, &existing, Some(&audit)).await {
            Ok(()) => return Ok(()),
            Err(MemberError::Changed) => continue,
            Err(e) => return Err(member_error(e)),
        }
    }
    Err(member_error(MemberError::Changed))
}
