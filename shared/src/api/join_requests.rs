//! Join requests (R4.3): admins list, edit, accept or reject them (with a reason the
//! requester is told); the requester sees, edits or withdraws their own.

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::common::access::{caller_id, member, member_and, Caller};
use super::common::errors::request_error;
use super::common::grants::{check_grants, roster_match};
use super::common::placing::{add_people, Container};
use super::common::views::JoinRequestView;
use crate::domain::AuditAction;
use crate::domain::{text, AuditEntry, JoinRequest, JoinRequestStatus, Membership, MembershipSource, OrgId};
use crate::domain::{JoinRequestId, LinkId, OutboxEvent, RoleGrant, UserId};
use crate::http::Code;
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::page::{Cursor, PageQuery};
use crate::store::join_requests::{Decision, RequestError};
use crate::store::orgs::Also;
use crate::Ctx;

fn request_id(req: &ApiRequest) -> Result<JoinRequestId, ApiError> {
    req.path("id")
}

fn status_param(req: &ApiRequest) -> Result<Option<JoinRequestStatus>, ApiError> {
    match req.query_param("status") {
        None => Ok(None),
        Some(s) => JoinRequestStatus::parse(s)
            .map(Some)
            .ok_or_else(|| ApiError::validation("status", "must be pending, accepted, rejected or withdrawn")),
    }
}

/// One request, with its `ETag` (the requester's view).
fn one(r: &JoinRequest) -> Result<ApiResponse, ApiError> {
    Ok(ApiResponse::ok(&JoinRequestView::from(r))?.with_etag(r.version))
}

/// A request as admins see it: a pending login request with the journal's record its
/// login matches (or none).
async fn admin_view(ctx: &Ctx, r: &JoinRequest) -> Result<JoinRequestView, ApiError> {
    let mut view = JoinRequestView::from(r);
    if let (Some(login), true) = (&r.roster_login, r.is_pending()) {
        view.roster_match = Some(roster_match(ctx, &r.org_id, login).await?);
    }
    Ok(view)
}

/// One request as admins see it, with its `ETag`.
async fn admin_one(ctx: &Ctx, r: &JoinRequest) -> Result<ApiResponse, ApiError> {
    Ok(ApiResponse::ok(&admin_view(ctx, r).await?)?.with_etag(r.version))
}

/// A page of requests as admins see them.
async fn admin_page(ctx: &Ctx, items: Vec<JoinRequest>, next: Option<Cursor>) -> Result<ApiResponse, ApiError> {
    let mut views = Vec::with_capacity(items.len());
    for r in &items {
        views.push(admin_view(ctx, r).await?);
    }
    ApiResponse::ok(&Page::new(views, next))
}

/// 412 when the caller's `If-Match` names another version than the request's.
fn require_version(r: &JoinRequest, expected: Option<u64>) -> Result<(), ApiError> {
    match expected {
        Some(v) if v != r.version => Err(ApiError::PreconditionFailed),
        _ => Ok(()),
    }
}

fn page(items: Vec<JoinRequest>, next: Option<Cursor>) -> Result<ApiResponse, ApiError> {
    ApiResponse::ok(&Page::new(items.iter().map(JoinRequestView::from).collect(), next))
}

/// 409 `already_decided` unless the request is pending.
fn require_pending(r: &JoinRequest) -> Result<(), ApiError> {
    if r.is_pending() {
        Ok(())
    } else {
        Err(request_error(RequestError::NotPending))
    }
}

/// The caller (an admin) and a request of the organization, in one round trip.
async fn admin_and_request(
    ctx: &Ctx,
    req: &ApiRequest,
    action: &'static str,
) -> Result<(Caller, JoinRequest), ApiError> {
    let id = req.path::<crate::domain::JoinRequestId>("id")?;
    let (caller, mut read) = member_and(ctx, req, &[Also::JoinRequest(id.clone())]).await?;
    caller.require_admin(action)?;
    let request = read.join_request(&id)?.ok_or(ApiError::NotFound("join request"))?;
    Ok((caller, request))
}

/// The organization's join requests, pending first (admins); `?status=` for one status.
#[utoipa::path(get, path = "/v1/orgs/{org}/join-requests", tag = "join requests",
    params(("org" = String, Path, description = "organization ID"),
           ("status" = Option<String>, Query, description = "pending, accepted, rejected or withdrawn"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of requests", body = Page<JoinRequestView>)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    caller.require_admin("see join requests")?;
    let status = status_param(&req)?;
    let (items, next) = ctx.store().org_join_requests(&caller.org.id, status, &req.page_query()?).await?;
    admin_page(&ctx, items, next).await
}

/// One join request (admins).
#[utoipa::path(get, path = "/v1/orgs/{org}/join-requests/{id}", tag = "join requests",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "request ID")),
    responses((status = 200, description = "The request", body = JoinRequestView, headers(("ETag" = String)))))]
pub async fn get(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (_, request) = admin_and_request(&ctx, &req, "see join requests").await?;
    admin_one(&ctx, &request).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "roles": [{"role": "parent", "class_ids": ["01m115ebsrwdyfqatyynem1n18", "01m115eb1b5m8hyax78k7bw82v"]}]
}))]
pub struct PatchJoinRequest {
    /// The roles to grant, all of them (replaces the requested ones).
    pub roles: Vec<RoleGrant>,
}

/// Edits a pending request's roles and classes (admins). With `If-Match`, a stale ETag
/// gets 412.
#[utoipa::path(patch, path = "/v1/orgs/{org}/join-requests/{id}", tag = "join requests", request_body = PatchJoinRequest,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "request ID"),
           ("If-Match" = Option<String>, Header, description = "the ETag the request was read with")),
    responses((status = 200, description = "The edited request", body = JoinRequestView, headers(("ETag" = String))),
              (status = 409, description = "`already_decided`, or `classes_required` when the organization has no classes yet"),
              (status = 412, description = "`precondition_failed`: the request changed since it was read")))]
pub async fn patch(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, request) = admin_and_request(&ctx, &req, "edit join requests").await?;
    let expected = req.if_match()?;
    let body: PatchJoinRequest = req.json()?;
    require_pending(&request)?;
    require_version(&request, expected)?;
    let roles = check_grants(&ctx, &caller.org, body.roles, "roles").await?;
    let audit = caller
        .audit(AuditAction::JoinRequestUpdate, "join_request", request.id.as_str())
        .before(json!({"roles": request.roles}))
        .after(json!({"roles": roles}));
    let updated = ctx.store().update_join_request_roles(&request, roles, Some(&audit)).await;
    let updated = changed_meanwhile(&ctx, &request, updated).await?;
    admin_one(&ctx, &updated).await
}

/// A write conditional on the request's version that failed: 412 when the request is
/// still pending (it changed between the read and the write), 409 when it was decided.
async fn changed_meanwhile(
    ctx: &Ctx,
    request: &JoinRequest,
    outcome: Result<JoinRequest, RequestError>,
) -> Result<JoinRequest, ApiError> {
    match outcome {
        Err(RequestError::NotPending) => {
            let now = ctx.store().join_request(&request.org_id, &request.id).await?;
            match now {
                Some(r) if r.is_pending() => Err(ApiError::PreconditionFailed),
                _ => Err(request_error(RequestError::NotPending)),
            }
        }
        other => Ok(other?),
    }
}

/// Decides a pending request as an admin, with its audit entry and the requester's email.
async fn decide(
    ctx: &Ctx,
    request: &JoinRequest,
    decision: Decision<'_>,
    audit: AuditEntry,
    event: OutboxEvent,
) -> Result<ApiResponse, ApiError> {
    let decided = ctx.store().decide_join_request(request, decision, Some(&audit), Some(&event)).await;
    admin_one(ctx, &changed_meanwhile(ctx, request, decided).await?).await
}

/// Accepts a pending request (admins): the person becomes a member with its roles, in
/// the same transaction as the request's new status. A request to link by journal login
/// makes them a member as the journal's record with that login (its roles and classes,
/// `source: journal`, the record linked to them); when no record waits with the login, the
/// roles an admin gave the request (editing it) apply, or it is refused. `If-Match` with the request's ETag
/// is required: the roles accepted are those the admin saw (the requester can edit them
/// until the decision).
#[utoipa::path(post, path = "/v1/orgs/{org}/join-requests/{id}/accept", tag = "join requests",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "request ID"),
           ("If-Match" = String, Header, description = "the request's ETag as read")),
    responses((status = 200, description = "The accepted request", body = JoinRequestView, headers(("ETag" = String))),
              (status = 409, description = "`already_decided`, `already_member`, `roster_record_linked` (the journal's record was joined as meanwhile) or `roster_login_unmatched` (a login request no record matches, without roles given)"),
              (status = 412, description = "`precondition_failed`: the request changed since it was read: read it again"),
              (status = 422, description = "`validation_failed`: a class the request names no longer exists or has graduated (edit the request)"),
              (status = 428, description = "`precondition_required`: no If-Match")))]
pub async fn accept(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, request) = admin_and_request(&ctx, &req, "accept join requests").await?;
    let expected = req.required_if_match()?;
    require_pending(&request)?;
    require_version(&request, Some(expected))?;
    let (org, r) = (&caller.org, &request);
    let journal = match &r.roster_login {
        Some(login) => as_journal_record(&ctx, org, r, login).await?,
        None => None,
    };
    let (roles, source) = match (&journal, &r.roster_login) {
        (Some((_, roles)), _) => (roles.clone(), MembershipSource::Journal),
        (None, Some(_)) => (r.roles.clone(), MembershipSource::Manual),
        (None, None) => (r.roles.clone(), MembershipSource::Link),
    };
    let m = Membership::new(&org.id, &r.user_id, &r.name, r.email.as_deref(), roles, false, source);
    let audit = caller
        .audit(AuditAction::JoinRequestAccept, "join_request", r.id.as_str())
        .before(json!({"status": "pending"}))
        .after(json!({"status": "accepted", "user_id": r.user_id, "roles": m.roles}));
    let event = OutboxEvent::JoinRequestAccepted {
        org_id: org.id.clone(),
        org_name: org.name.clone(),
        request_id: r.id.clone(),
        user_id: r.user_id.clone(),
        roles: m.roles.clone(),
    };
    let by = &caller.member.user_id;
    let record = journal.as_ref().map(|(p, _)| (&p.sourced_id, p.role));
    let decision = Decision { status: JoinRequestStatus::Accepted, reason: None, by, new_member: Some(&m), record };
    let answer = decide(&ctx, &request, decision, audit, event).await?;
    if let Some(link) = &r.link_id {
        join_link_group(&ctx, &caller, link, &m).await?;
    }
    if let Some((p, _)) = &journal {
        crate::roster::link::confirmed(&ctx, &caller.org, p, &m, &caller.actor()).await?;
    }
    Ok(answer)
}

/// The journal's record a login request joins the person as, with the roles it gives: one
/// that has the login, nobody joined as, and gives a role now. Without one, the request
/// is accepted with the roles an admin gave it (editing it), or refused with 409
/// `roster_login_unmatched` when it has none.
async fn as_journal_record(
    ctx: &Ctx,
    org: &crate::domain::Org,
    r: &JoinRequest,
    login: &str,
) -> Result<Option<(crate::domain::RosterPerson, Vec<RoleGrant>)>, ApiError> {
    if let Some(p) = ctx.store().roster_person_by_identifier(&org.id, login).await? {
        if p.user_id.is_none() {
            if let Some(roles) = crate::roster::link::grants(ctx, &p).await? {
                return Ok(Some((p, roles)));
            }
        }
    }
    if r.roles.is_empty() {
        return Err(ApiError::conflict(Code::RosterLoginUnmatched,
            "No person of the school's journal waits with this login (or the journal gives them no class yet): give the request its roles (edit it) or reject it.",
        ));
    }
    Ok(None)
}

/// A person accepted through a link that names a group goes into it too (unless the link
/// or the group is gone): a step after their membership, as any add to a group.
async fn join_link_group(ctx: &Ctx, caller: &Caller, link: &LinkId, m: &Membership) -> Result<(), ApiError> {
    let Some(group) = ctx.store().link(&caller.org.id, link).await?.and_then(|l| l.group_id) else {
        return Ok(());
    };
    let Some(group) = ctx.store().group(&caller.org.id, &group).await? else {
        return Ok(());
    };
    add_people(ctx, caller.into(), Container::Group(&group, None), vec![m.clone()]).await?;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "reason": "В 5А нет ученика с фамилией Кузнецов: проверьте класс и отправьте заявку снова."
}))]
pub struct RejectJoinRequest {
    /// Why: the requester is told. 1-1000 characters.
    #[schema(value_type = String)]
    pub reason: Option<String>,
}

/// Rejects a pending request with a reason (admins); the requester is told the reason.
/// `If-Match` with the request's ETag is required, as for accepting.
#[utoipa::path(post, path = "/v1/orgs/{org}/join-requests/{id}/reject", tag = "join requests", request_body = RejectJoinRequest,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "request ID"),
           ("If-Match" = String, Header, description = "the request's ETag as read")),
    responses((status = 200, description = "The rejected request", body = JoinRequestView, headers(("ETag" = String))),
              (status = 409, description = "`already_decided`"),
              (status = 412, description = "`precondition_failed`: the request changed since it was read: read it again"),
              (status = 428, description = "`precondition_required`: no If-Match")))]
pub async fn reject(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, request) = admin_and_request(&ctx, &req, "reject join requests").await?;
    let expected = req.required_if_match()?;
    let body: RejectJoinRequest = req.json()?;
    let reason = match body.reason.as_deref() {
        Some(r) => text::multiline_required(r, crate::domain::join_requests::MAX_REASON)
            .map_err(|m| ApiError::validation("reason", m))?,
        None => return Err(ApiError::validation("reason", "is required: the requester is told why")),
    };
    require_pending(&request)?;
    require_version(&request, Some(expected))?;
    let audit = caller
        .audit(AuditAction::JoinRequestReject, "join_request", request.id.as_str())
        .before(json!({"status": "pending"}))
        .after(json!({"status": "rejected", "reason": reason}));
    let event = OutboxEvent::JoinRequestRejected {
        org_id: caller.org.id.clone(),
        org_name: caller.org.name.clone(),
        request_id: request.id.clone(),
        user_id: request.user_id.clone(),
        reason: reason.clone(),
    };
    let by = &caller.member.user_id;
    let decision =
        Decision { status: JoinRequestStatus::Rejected, reason: Some(reason), by, new_member: None, record: None };
    decide(&ctx, &request, decision, audit, event).await
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
    responses((status = 200, description = "The request", body = JoinRequestView, headers(("ETag" = String)))))]
pub async fn mine_get(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (_, request) = own(&ctx, &req).await?;
    one(&request)
}

/// Edits the caller's pending request (its roles and classes). With `If-Match`, a stale
/// ETag gets 412.
#[utoipa::path(patch, path = "/v1/me/join-requests/{id}", tag = "me", request_body = PatchJoinRequest,
    params(("id" = String, Path, description = "request ID"),
           ("If-Match" = Option<String>, Header, description = "the ETag the request was read with")),
    responses((status = 200, description = "The edited request", body = JoinRequestView, headers(("ETag" = String))),
              (status = 409, description = "`already_decided`, `roster_link_roles_fixed` (a link to a journal record), or `classes_required` when the organization has no classes yet"),
              (status = 412, description = "`precondition_failed`: the request changed since it was read")))]
pub async fn mine_patch(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (_, request) = own(&ctx, &req).await?;
    let expected = req.if_match()?;
    let body: PatchJoinRequest = req.json()?;
    require_pending(&request)?;
    require_version(&request, expected)?;
    if request.roster_login.is_some() {
        return Err(ApiError::conflict(
            Code::RosterLinkRolesFixed,
            "A request to link by journal login asks for the roles the journal gives: they cannot be edited.",
        ));
    }
    let org = ctx.store().org(&request.org_id).await?.ok_or(ApiError::NotFound("join request"))?;
    let roles = check_grants(&ctx, &org, body.roles, "roles").await?;
    let updated = ctx.store().update_join_request_roles(&request, roles, None).await;
    one(&changed_meanwhile(&ctx, &request, updated).await?)
}

/// Withdraws the caller's pending request.
#[utoipa::path(delete, path = "/v1/me/join-requests/{id}", tag = "me",
    params(("id" = String, Path, description = "request ID")),
    responses((status = 204, description = "Withdrawn"), (status = 409, description = "`already_decided`")))]
pub async fn mine_withdraw(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (user, request) = own(&ctx, &req).await?;
    require_pending(&request)?;
    let decision =
        Decision { status: JoinRequestStatus::Withdrawn, reason: None, by: &user, new_member: None, record: None };
    ctx.store().decide_join_request(&request, decision, None, None).await?;
    Ok(ApiResponse::no_content())
}

/// Every page of a paged read, 200 at a time.
async fn every_page<T, F, Fut>(mut read: F) -> Result<Vec<T>, ApiError>
where
    F: FnMut(PageQuery) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<Cursor>), crate::store::StoreError>>,
{
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let (items, next) = read(PageQuery { limit: 200, cursor }).await?;
        all.extend(items);
        match next {
            Some(c) => cursor = Some(c),
            None => return Ok(all),
        }
    }
}

/// Pending join requests across every organization the caller administers: organization
/// by organization (by ID), oldest first within each.
#[utoipa::path(get, path = "/v1/me/admin/join-requests", tag = "me",
    params(("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of pending requests", body = Page<JoinRequestView>)))]
pub async fn admin_pending(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = caller_id(&req)?;
    let page_query = req.page_query()?;
    let (store, user) = (ctx.store(), &user);
    let memberships = every_page(|q| async move { store.user_memberships(user, &q).await }).await?;
    let administered: Vec<OrgId> = memberships.into_iter().filter(|m| m.admin).map(|m| m.org_id).collect();
    let (items, next) = store.pending_join_requests_of(&administered, &page_query).await?;
    admin_page(&ctx, items, next).await
}
