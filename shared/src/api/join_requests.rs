//! Join requests (R4.3): admins list, edit, accept or reject them (with a reason the
//! requester is told); the requester sees, edits or withdraws their own.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::access::{caller_id, member_and};
use super::members::check_grants;
use crate::domain::{text, RoleGrant, Timestamp, UserId};
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::page::PageQuery;
use crate::store::audit::AuditEntry;
use crate::store::join_requests::{Decision, JoinRequest, JoinRequestStatus, RequestError};
use crate::store::keys::join_request_sk;
use crate::store::members::{Membership, MembershipSource};
use crate::store::outbox::Event;
use crate::Ctx;

#[derive(Debug, Serialize, ToSchema)]
pub struct JoinRequestView {
    pub id: String,
    pub org_id: String,
    pub user_id: String,
    pub name: String,
    pub email: Option<String>,
    pub roles: Vec<RoleGrant>,
    pub status: JoinRequestStatus,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The invitation link it came through.
    pub link_id: Option<String>,
    pub created_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<String>,
}

impl From<&JoinRequest> for JoinRequestView {
    fn from(r: &JoinRequest) -> Self {
        JoinRequestView {
            id: r.id.clone(),
            org_id: r.org_id.to_string(),
            user_id: r.user_id.to_string(),
            name: r.name.clone(),
            email: r.email.clone(),
            roles: r.roles.clone(),
            status: r.status,
            reason: r.reason.clone(),
            link_id: r.link_id.clone(),
            created_at: r.created_at,
            decided_at: r.decided_at,
            decided_by: r.decided_by.clone(),
        }
    }
}

pub fn request_error(e: RequestError) -> ApiError {
    match e {
        RequestError::LinkUnusable => super::invite_links::refused(crate::store::links::LinkRefusal::UsedUp),
        RequestError::AlreadyPending => ApiError::conflict(
            "join_request_pending",
            "You already asked to join this organization; wait for an admin's decision or withdraw that request.",
        ),
        RequestError::AlreadyMember => {
            ApiError::conflict("already_member", "This person is already a member of the organization.")
        }
        RequestError::NotPending => {
            ApiError::conflict("already_decided", "This join request has already been decided or withdrawn.")
        }
        RequestError::ClassUnavailable(c) => ApiError::validation(
            "roles",
            format!("class {c} does not exist any more or has graduated: edit the request's classes"),
        ),
        RequestError::Store(e) => e.into(),
    }
}

fn request_id(req: &ApiRequest) -> Result<String, ApiError> {
    super::access::id_param(req, "join request")
}

fn status_param(req: &ApiRequest) -> Result<Option<JoinRequestStatus>, ApiError> {
    match req.query_param("status") {
        None => Ok(None),
        Some(s) => serde_json::from_value(json!(s))
            .map(Some)
            .map_err(|_| ApiError::validation("status", "must be pending, accepted, rejected or withdrawn")),
    }
}

fn page(items: Vec<JoinRequest>, next: Option<crate::page::Cursor>) -> Result<ApiResponse, ApiError> {
    ApiResponse::ok(&Page {
        items: items.iter().map(JoinRequestView::from).collect(),
        next_cursor: next.map(|c| c.encode()),
    })
}

/// The caller (an admin) and a request of the organization, in one round trip.
async fn admin_and_request(
    ctx: &Ctx,
    req: &ApiRequest,
    action: &'static str,
) -> Result<(super::access::Caller, JoinRequest), ApiError> {
    let sk = join_request_sk(&request_id(req)?);
    let (caller, mut items) = member_and(ctx, req, std::slice::from_ref(&sk)).await?;
    caller.require_admin(action)?;
    let item = items.remove(&sk).ok_or(ApiError::NotFound("join request"))?;
    let request: JoinRequest = serde_dynamo::from_item(item).map_err(ApiError::internal)?;
    Ok((caller, request))
}

/// The organization's join requests, pending first (admins); `?status=` for one status.
#[utoipa::path(get, path = "/v1/orgs/{org}/join-requests", tag = "join requests",
    params(("org" = String, Path, description = "organization ID"),
           ("status" = Option<String>, Query, description = "pending, accepted, rejected or withdrawn"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of requests", body = Page<JoinRequestView>)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, _) = member_and(&ctx, &req, &[]).await?;
    caller.require_admin("see join requests")?;
    let status = status_param(&req)?;
    let (items, next) = ctx.store().org_join_requests(&caller.org.id, status, &req.page_query()?).await?;
    page(items, next)
}

/// One join request (admins).
#[utoipa::path(get, path = "/v1/orgs/{org}/join-requests/{id}", tag = "join requests",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "request ID")),
    responses((status = 200, description = "The request", body = JoinRequestView)))]
pub async fn get(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (_, request) = admin_and_request(&ctx, &req, "see join requests").await?;
    ApiResponse::ok(&JoinRequestView::from(&request))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchJoinRequest {
    /// The roles to grant, all of them (replaces the requested ones).
    pub roles: Vec<RoleGrant>,
}

/// Edits a pending request's roles and classes (admins).
#[utoipa::path(patch, path = "/v1/orgs/{org}/join-requests/{id}", tag = "join requests", request_body = PatchJoinRequest,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "request ID")),
    responses((status = 200, description = "The edited request", body = JoinRequestView), (status = 409, description = "`already_decided`")))]
pub async fn patch(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, request) = admin_and_request(&ctx, &req, "edit join requests").await?;
    let body: PatchJoinRequest = req.json()?;
    if request.status != JoinRequestStatus::Pending {
        return Err(request_error(RequestError::NotPending));
    }
    let roles = check_grants(&ctx, &caller.org, body.roles, "roles").await?;
    let audit = AuditEntry::new(
        &caller.org.id,
        &caller.actor(),
        "join_request.update",
        "join_request",
        &request.id,
        Some(json!({"roles": request.roles})),
        Some(json!({"roles": roles})),
    );
    let updated = ctx.store().update_join_request_roles(&request, roles, Some(&audit)).await.map_err(request_error)?;
    ApiResponse::ok(&JoinRequestView::from(&updated))
}

/// Accepts a pending request (admins): the person becomes a member with its roles, in
/// the same transaction as the request's new status.
#[utoipa::path(post, path = "/v1/orgs/{org}/join-requests/{id}/accept", tag = "join requests",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "request ID")),
    responses((status = 200, description = "The accepted request", body = JoinRequestView), (status = 409, description = "`already_decided` or `already_member`")))]
pub async fn accept(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, request) = admin_and_request(&ctx, &req, "accept join requests").await?;
    if request.status != JoinRequestStatus::Pending {
        return Err(request_error(RequestError::NotPending));
    }
    let m = Membership::new(
        &caller.org.id,
        &request.user_id,
        &request.name,
        request.email.as_deref(),
        request.roles.clone(),
        false,
        MembershipSource::Link,
    );
    let audit = AuditEntry::new(
        &caller.org.id,
        &caller.actor(),
        "join_request.accept",
        "join_request",
        &request.id,
        Some(json!({"status": "pending"})),
        Some(json!({"status": "accepted", "user_id": request.user_id, "roles": request.roles})),
    );
    let event = Event::new(
        "join_request_accepted",
        Some(&caller.org.id),
        json!({"org_id": caller.org.id, "org_name": caller.org.name, "request_id": request.id, "user_id": request.user_id, "roles": request.roles}),
    );
    let decided = ctx
        .store()
        .decide_join_request(
            &request,
            Decision {
                status: JoinRequestStatus::Accepted,
                reason: None,
                by: &caller.member.user_id,
                new_member: Some(&m),
            },
            Some(&audit),
            Some(&event),
        )
        .await
        .map_err(request_error)?;
    ApiResponse::ok(&JoinRequestView::from(&decided))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectJoinRequest {
    /// Why: the requester is told. 1-1000 characters.
    pub reason: Option<String>,
}

/// Rejects a pending request with a reason (admins); the requester is told the reason.
#[utoipa::path(post, path = "/v1/orgs/{org}/join-requests/{id}/reject", tag = "join requests", request_body = RejectJoinRequest,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "request ID")),
    responses((status = 200, description = "The rejected request", body = JoinRequestView), (status = 409, description = "`already_decided`")))]
pub async fn reject(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, request) = admin_and_request(&ctx, &req, "reject join requests").await?;
    let body: RejectJoinRequest = req.json()?;
    let reason = match body.reason.as_deref() {
        Some(r) => text::required(r, 1000).map_err(|m| ApiError::validation("reason", m))?,
        None => return Err(ApiError::validation("reason", "is required: the requester is told why")),
    };
    if request.status != JoinRequestStatus::Pending {
        return Err(request_error(RequestError::NotPending));
    }
    let audit = AuditEntry::new(
        &caller.org.id,
        &caller.actor(),
        "join_request.reject",
        "join_request",
        &request.id,
        Some(json!({"status": "pending"})),
        Some(json!({"status": "rejected", "reason": reason})),
    );
    let event = Event::new(
        "join_request_rejected",
        Some(&caller.org.id),
        json!({"org_id": caller.org.id, "org_name": caller.org.name, "request_id": request.id, "user_id": request.user_id, "reason": reason}),
    );
    let decided = ctx
        .store()
        .decide_join_request(
            &request,
            Decision {
                status: JoinRequestStatus::Rejected,
                reason: Some(reason),
                by: &caller.member.user_id,
                new_member: None,
            },
            Some(&audit),
            Some(&event),
        )
        .await
        .map_err(request_error)?;
    ApiResponse::ok(&JoinRequestView::from(&decided))
}

/// The caller's own join requests, newest first.
#[utoipa::path(get, path = "/v1/me/join-requests", tag = "me",
    params(("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of the caller's requests", body = Page<JoinRequestView>)))]
pub async fn mine(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = caller_id(&req)?;
    let (items, next) = ctx.store().user_join_requests(&user, &req.page_query()?).await?;
    page(items, next)
}

async fn own(ctx: &Ctx, req: &ApiRequest) -> Result<(UserId, JoinRequest), ApiError> {
    let user = caller_id(req)?;
    let request =
        ctx.store().own_join_request(&user, &request_id(req)?).await?.ok_or(ApiError::NotFound("join request"))?;
    Ok((user, request))
}

/// One of the caller's own join requests (nobody else's: 404).
#[utoipa::path(get, path = "/v1/me/join-requests/{id}", tag = "me",
    params(("id" = String, Path, description = "request ID")),
    responses((status = 200, description = "The request", body = JoinRequestView)))]
pub async fn mine_get(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (_, request) = own(&ctx, &req).await?;
    ApiResponse::ok(&JoinRequestView::from(&request))
}

/// Edits the caller's pending request (its roles and classes).
#[utoipa::path(patch, path = "/v1/me/join-requests/{id}", tag = "me", request_body = PatchJoinRequest,
    params(("id" = String, Path, description = "request ID")),
    responses((status = 200, description = "The edited request", body = JoinRequestView), (status = 409, description = "`already_decided`")))]
pub async fn mine_patch(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (_, request) = own(&ctx, &req).await?;
    let body: PatchJoinRequest = req.json()?;
    if request.status != JoinRequestStatus::Pending {
        return Err(request_error(RequestError::NotPending));
    }
    let org = ctx.store().org(&request.org_id).await?.ok_or(ApiError::NotFound("join request"))?;
    let roles = check_grants(&ctx, &org, body.roles, "roles").await?;
    let updated = ctx.store().update_join_request_roles(&request, roles, None).await.map_err(request_error)?;
    ApiResponse::ok(&JoinRequestView::from(&updated))
}

/// Withdraws the caller's pending request.
#[utoipa::path(delete, path = "/v1/me/join-requests/{id}", tag = "me",
    params(("id" = String, Path, description = "request ID")),
    responses((status = 204, description = "Withdrawn"), (status = 409, description = "`already_decided`")))]
pub async fn mine_withdraw(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (user, request) = own(&ctx, &req).await?;
    if request.status != JoinRequestStatus::Pending {
        return Err(request_error(RequestError::NotPending));
    }
    ctx.store()
        .decide_join_request(
            &request,
            Decision { status: JoinRequestStatus::Withdrawn, reason: None, by: &user, new_member: None },
            None,
            None,
        )
        .await
        .map_err(request_error)?;
    Ok(ApiResponse::no_content())
}

/// Pending join requests across every organization the caller administers, oldest first.
#[utoipa::path(get, path = "/v1/me/admin/join-requests", tag = "me",
    params(("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of pending requests", body = Page<JoinRequestView>)))]
pub async fn admin_pending(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = caller_id(&req)?;
    let page_query = req.page_query()?;
    let mut administered = Vec::new();
    let mut cursor = None;
    loop {
        let q = PageQuery { limit: 200, cursor };
        let (memberships, next) = ctx.store().user_memberships(&user, &q).await?;
        administered.extend(memberships.into_iter().filter(|m| m.admin).map(|m| m.org_id));
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut pending = Vec::new();
    for org in administered {
        let mut cursor = None;
        loop {
            let q = PageQuery { limit: 200, cursor };
            let (items, next) = ctx.store().org_join_requests(&org, Some(JoinRequestStatus::Pending), &q).await?;
            pending.extend(items);
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    pending.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    let (items, next) = page_query.slice(pending)?;
    page(items, next)
}
