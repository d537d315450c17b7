//! Invitation links (R4.1, R4.2): admins make, list and revoke them; anyone signed in
//! previews one, and accepts (asking to join) or declines it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::common::access::{admin, caller_id, identity};
use super::common::errors::{link_refused, request_error};
use super::common::grants::{check_grants, group_exists};
use super::common::views::JoinRequestView;
use crate::domain::roles::validate_grants;
use crate::domain::AuditAction;
use crate::domain::{Class, GroupId, JoinRequestId, LinkId, Role, RoleGrant, Timestamp, User, UserId};
use crate::domain::{
    InviteLink, JoinRequest, JoinRequestStatus, LinkKeys, LinkRefusal, Org, OutboxEvent, ProfileChanges,
};
use crate::http::Code;
use crate::http::{ApiError, ApiRequest, ApiResponse, FieldError, Page};
use crate::store::join_requests::RequestError;
use crate::Ctx;

/// The longest a link may live.
const MAX_LIFETIME_DAYS: i64 = 366;
/// A link's `max_uses`, when it has one.
pub const MAX_USES: i64 = 100_000;
/// The longest token looked up (those made are 43 characters).
pub const MAX_TOKEN: usize = 100;

/// An invitation link. Its `token` and `url` are shown while it can be used (admins: the
/// same as at its creation, to copy the link again).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01m8gpz9njkpaygg3we2jakp4t",
    "token": "vCqE6ZpfYGX6G6fhuZWufItB0KWdI5AkI2GO_ifQlu8",
    "url": "https://kabinet.example.com/join/vCqE6ZpfYGX6G6fhuZWufItB0KWdI5AkI2GO_ifQlu8",
    "roles": [{"role": "parent", "class_ids": ["01m115ebsrwdyfqatyynem1n18"]}],
    "group_id": null,
    "expires_at": "2026-12-31T20:59:59.000Z",
    "max_uses": 60,
    "uses": 14,
    "declines": 1,
    "revoked": false,
    "state": "active",
    "created_at": "2026-11-28T09:14:55.026Z"
}))]
pub struct InviteLinkView {
    pub id: String,
    /// The token people open the link with, the same string every time: `null` once the
    /// link is revoked, expired or used up (its token no longer works), and for links made
    /// before tokens could be shown again.
    pub token: Option<String>,
    /// The front-end page that opens the link (`null` when `token` is).
    pub url: Option<String>,
    pub roles: Vec<RoleGrant>,
    pub group_id: Option<String>,
    pub expires_at: Timestamp,
    /// `null`: unlimited.
    pub max_uses: Option<u32>,
    pub uses: u32,
    pub declines: u32,
    pub revoked: bool,
    /// `active`, `expired`, `revoked` or `used_up`.
    pub state: String,
    pub created_at: Timestamp,
}

fn state(link: &InviteLink, now: Timestamp) -> String {
    match link.refusal(now) {
        None => "active",
        Some(LinkRefusal::Expired) => "expired",
        Some(LinkRefusal::Revoked) => "revoked",
        Some(LinkRefusal::UsedUp) => "used_up",
    }
    .into()
}

impl InviteLinkView {
    /// The link as admins see it: its token (derived again with `keys`) while it can be used.
    fn of(link: &InviteLink, now: Timestamp, keys: Option<&LinkKeys>, app_url: &str) -> Self {
        let token = match (link.refusal(now), link.key_version, keys) {
            (None, Some(version), Some(keys)) => keys.token(version, &link.org_id, &link.id),
            _ => None,
        };
        InviteLinkView {
            id: link.id.to_string(),
            url: token.as_ref().map(|t| format!("{app_url}/join/{t}")),
            token,
            roles: link.roles.clone(),
            group_id: link.group_id.as_ref().map(ToString::to_string),
            expires_at: link.expires_at,
            max_uses: link.max_uses,
            uses: link.uses,
            declines: link.declines,
            revoked: link.revoked,
            state: state(link, now),
            created_at: link.created_at,
        }
    }
}

/// The links' keys for tokens of key `version` (a missing or unreadable key is a 500,
/// logged).
async fn link_keys(ctx: &Ctx, version: Option<u32>) -> Result<Arc<LinkKeys>, ApiError> {
    ctx.link_keys(version).await.map_err(ApiError::internal)
}

/// The SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "expires_at": "2026-12-31T23:59:59+03:00",
    "max_uses": 60,
    "roles": [{"role": "parent", "class_ids": ["01m115ebsrwdyfqatyynem1n18"]}],
    "group_id": null
}))]
pub struct CreateInviteLink {
    /// In the future, at most a year ahead.
    pub expires_at: String,
    /// A positive number, or `null` for unlimited.
    pub max_uses: Option<i64>,
    /// The roles offered (each with its class where it needs one).
    pub roles: Vec<RoleGrant>,
    /// A group to join as well.
    pub group_id: Option<String>,
}

/// What a create request sets besides the roles: checked field by field.
struct LinkTerms {
    expires_at: Timestamp,
    max_uses: Option<u32>,
}

/// Checks the expiry, the use limit and the group, collecting every field's error.
async fn link_terms(ctx: &Ctx, org: &Org, body: &CreateInviteLink, now: Timestamp) -> Result<LinkTerms, ApiError> {
    let mut errors = Vec::new();
    let expires_at = match Timestamp::parse(&body.expires_at) {
        Ok(t) if t <= now => Err(FieldError::new("expires_at", "must be in the future")),
        Ok(t) if t > now.plus(time::Duration::days(MAX_LIFETIME_DAYS)) => {
            Err(FieldError::new("expires_at", "must be at most a year ahead"))
        }
        Ok(t) => Ok(t),
        Err(m) => Err(FieldError::new("expires_at", m)),
    }
    .map_err(|e| errors.push(e))
    .ok();
    let max_uses = match body.max_uses {
        None => None,
        Some(n) if (1..=MAX_USES).contains(&n) => Some(n as u32),
        Some(_) => {
            errors
                .push(FieldError::new("max_uses", "must be a positive number (at most 100000) or null for unlimited"));
            None
        }
    };
    if let Some(g) = &body.group_id {
        if !group_exists(ctx, &org.id, g).await? {
            errors.push(FieldError::new("group_id", "no such group in this organization"));
        }
    }
    match expires_at {
        Some(expires_at) if errors.is_empty() => Ok(LinkTerms { expires_at, max_uses }),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// Makes an invitation link (admins). Its token is derived from its ID with the links' key
/// (the table keeps only the token's SHA-256), so the list shows it again.
#[utoipa::path(post, path = "/v1/orgs/{org}/invite-links", tag = "invite links", request_body = CreateInviteLink,
    params(("org" = String, Path, description = "organization ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 201, description = "Created, with its `token` and `url`", body = InviteLinkView,
               example = json!({
                   "id": "01m8gpz9njkpaygg3we2jakp4t",
                   "token": "vCqE6ZpfYGX6G6fhuZWufItB0KWdI5AkI2GO_ifQlu8",
                   "url": "https://kabinet.example.com/join/vCqE6ZpfYGX6G6fhuZWufItB0KWdI5AkI2GO_ifQlu8",
                   "roles": [{"role": "parent", "class_ids": ["01m115ebsrwdyfqatyynem1n18"]}],
                   "group_id": null,
                   "expires_at": "2026-12-31T20:59:59.000Z",
                   "max_uses": 60,
                   "uses": 0,
                   "declines": 0,
                   "revoked": false,
                   "state": "active",
                   "created_at": "2026-11-28T09:14:55.026Z"
               })),
              (status = 409, description = "`classes_required` when the organization has no classes yet")))]
pub async fn create(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = admin(&ctx, &req, "make invitation links").await?;
    let body: CreateInviteLink = req.json()?;
    let now = Timestamp::now();
    let terms = link_terms(&ctx, &caller.org, &body, now).await?;
    let roles = check_grants(&ctx, &caller.org, body.roles, "roles").await?;
    let keys = link_keys(&ctx, None).await?;
    let id = LinkId::new();
    let version = keys.current();
    let token = keys.token(version, &caller.org.id, &id).ok_or_else(|| ApiError::internal("no current link key"))?;
    let link = InviteLink {
        id,
        org_id: caller.org.id.clone(),
        token_hash: token_hash(&token),
        key_version: Some(version),
        roles,
        // Checked above: an ID of a group of the organization.
        group_id: body.group_id.as_deref().and_then(GroupId::parse),
        expires_at: terms.expires_at,
        max_uses: terms.max_uses,
        uses: 0,
        declines: 0,
        revoked: false,
        created_by: caller.member.user_id.clone(),
        created_at: now,
    };
    let audit = caller.audit(AuditAction::LinkCreate, "invite_link", link.id.as_str()).after(link.summary());
    ctx.store().create_link(&link, &audit).await?;
    let view = InviteLinkView::of(&link, now, Some(&keys), &ctx.config().app_url);
    ApiResponse::created(&view, &format!("/v1/orgs/{}/invite-links/{}", caller.org.id, link.id))
}

/// Lists the organization's links with their use counts, newest first (admins), each
/// usable one with its token and URL to copy again.
#[utoipa::path(get, path = "/v1/orgs/{org}/invite-links", tag = "invite links",
    params(("org" = String, Path, description = "organization ID"), ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of links", body = Page<InviteLinkView>)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = admin(&ctx, &req, "see invitation links").await?;
    let page = req.page_query()?;
    let now = Timestamp::now();
    let (links, next) = ctx.store().links(&caller.org.id, &page).await?;
    // The key is read only for a page with a token to show.
    let newest = links.iter().filter(|l| l.refusal(now).is_none()).filter_map(|l| l.key_version).max();
    let keys = match newest {
        Some(version) => Some(link_keys(&ctx, Some(version)).await?),
        None => None,
    };
    let app_url = &ctx.config().app_url;
    ApiResponse::ok(&Page::new(
        links.iter().map(|l| InviteLinkView::of(l, now, keys.as_deref(), app_url)).collect(),
        next,
    ))
}

/// Revokes a link (admins): it can no longer be used; requests made with it stay.
#[utoipa::path(delete, path = "/v1/orgs/{org}/invite-links/{id}", tag = "invite links",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "link ID")),
    responses((status = 204, description = "Revoked")))]
pub async fn revoke(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = admin(&ctx, &req, "revoke invitation links").await?;
    let id = req.path::<LinkId>("id")?;
    let link = ctx.store().link(&caller.org.id, &id).await?.ok_or(ApiError::NotFound("invitation link"))?;
    if !link.revoked {
        let audit = caller
            .audit(AuditAction::LinkRevoke, "invite_link", link.id.as_str())
            .before(json!({"revoked": false}))
            .after(json!({"revoked": true}));
        ctx.store().revoke_link(&link, &audit).await?;
    }
    Ok(ApiResponse::no_content())
}

/// The link a token opens: 404 for an unknown token.
async fn open(ctx: &Ctx, req: &ApiRequest) -> Result<InviteLink, ApiError> {
    let token = req.path_param("token")?;
    if token.len() > MAX_TOKEN || token.is_empty() {
        return Err(ApiError::NotFound("invitation link"));
    }
    ctx.store().link_by_token_hash(&token_hash(token)).await?.ok_or(ApiError::NotFound("invitation link"))
}

/// The link a token opens, if it can be used now (410 with the reason if not).
async fn open_usable(ctx: &Ctx, req: &ApiRequest, now: Timestamp) -> Result<InviteLink, ApiError> {
    let link = open(ctx, req).await?;
    match link.refusal(now) {
        Some(r) => Err(link_refused(r)),
        None => Ok(link),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewOrg {
    pub id: String,
    pub name: String,
}

/// A role a link offers: the grant's fields with the names of its classes. Not a
/// flattened `RoleGrant`, whose schema admits no other field.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferedRole {
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specialization: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub class_ids: Vec<String>,
    /// The names of the classes, e.g. `["5А"]`.
    pub class_names: Vec<String>,
}

impl OfferedRole {
    fn of(g: &RoleGrant, classes: &[Class]) -> Self {
        let class_names = g
            .class_ids
            .iter()
            .filter_map(|id| classes.iter().find(|c| c.id.as_str() == id))
            .map(|c| c.name.clone())
            .collect();
        OfferedRole {
            role: g.role,
            position: g.position.clone(),
            specialization: g.specialization.clone(),
            class_ids: g.class_ids.clone(),
            class_names,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "org": {"id": "k7m3xq9pza", "name": "Школа № 57"},
    "roles": [{"role": "parent", "class_ids": ["01m115ebsrwdyfqatyynem1n18"], "class_names": ["5А"]}],
    "group_id": null,
    "expires_at": "2026-12-31T20:59:59.000Z"
}))]
pub struct LinkPreview {
    pub org: PreviewOrg,
    pub roles: Vec<OfferedRole>,
    pub group_id: Option<String>,
    pub expires_at: Timestamp,
}

/// What a link offers (anyone signed in): the organization, the roles with their class
/// names, the expiry. Expired, revoked and used-up links answer 410 with the reason.
#[utoipa::path(get, path = "/v1/invite-links/{token}", tag = "invite links",
    params(("token" = String, Path, description = "the link's token")),
    responses((status = 200, description = "What the link offers", body = LinkPreview),
              (status = 404, description = "Unknown token (`not_found`)"),
              (status = 410, description = "`link_expired`, `link_revoked` or `link_used_up`")))]
pub async fn preview(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let link = open_usable(&ctx, &req, Timestamp::now()).await?;
    let org = ctx.store().org(&link.org_id).await?.ok_or(ApiError::NotFound("invitation link"))?;
    let ids = crate::domain::classes::class_ids(link.roles.iter().flat_map(|g| g.class_ids.iter()));
    let classes = ctx.store().classes_by_id(&org.id, &ids).await?;
    let roles = link.roles.iter().map(|g| OfferedRole::of(g, &classes)).collect();
    ApiResponse::ok(&LinkPreview {
        org: PreviewOrg { id: org.id.to_string(), name: org.name },
        roles,
        group_id: link.group_id.map(|g| g.to_string()),
        expires_at: link.expires_at,
    })
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"roles": [{"role": "parent", "class_ids": ["01m115ebsrwdyfqatyynem1n18"]}]}))]
pub struct AcceptInviteLink {
    /// The roles asked for, if not exactly those offered (edited, or another added).
    pub roles: Option<Vec<RoleGrant>>,
}

/// The roles a person asks for through a link: those they name (checked as any grant), or
/// exactly those offered (409 `link_outdated` when they are no longer valid).
async fn asked_roles(
    ctx: &Ctx,
    org: &Org,
    link: &InviteLink,
    asked: Option<Vec<RoleGrant>>,
) -> Result<Vec<RoleGrant>, ApiError> {
    match asked {
        Some(roles) => check_grants(ctx, org, roles, "roles").await,
        None => validate_grants(link.roles.clone(), "roles").map_err(|_| {
            ApiError::conflict(
                Code::LinkOutdated,
                "This link's roles are no longer valid: ask the school for a new link.",
            )
        }),
    }
}

/// A new pending request of `profile` through `link`.
fn new_request(link: &InviteLink, user: &UserId, profile: &User, roles: Vec<RoleGrant>, now: Timestamp) -> JoinRequest {
    JoinRequest {
        id: JoinRequestId::new(),
        org_id: link.org_id.clone(),
        user_id: user.clone(),
        name: profile.name.clone(),
        email: profile.email.clone(),
        roles,
        status: JoinRequestStatus::Pending,
        reason: None,
        link_id: Some(link.id.clone()),
        roster_login: None,
        roster_id: None,
        created_at: now,
        decided_at: None,
        decided_by: None,
        version: 1,
    }
}

/// Writes the request with one use of the link; a link used up meanwhile answers with the
/// reason it can no longer be used.
async fn submit(
    ctx: &Ctx,
    org: &Org,
    link: &InviteLink,
    request: &JoinRequest,
    now: Timestamp,
) -> Result<(), ApiError> {
    let event = OutboxEvent::JoinRequestSubmitted {
        org_id: org.id.clone(),
        org_name: org.name.clone(),
        request_id: request.id.clone(),
        user_id: request.user_id.clone(),
        name: request.name.clone(),
        roles: request.roles.clone(),
    };
    match ctx.store().submit_join_request(request, Some(link), now, &event).await {
        Ok(()) => Ok(()),
        Err(RequestError::LinkUnusable) => {
            let current =
                ctx.store().link(&link.org_id, &link.id).await?.ok_or(ApiError::NotFound("invitation link"))?;
            Err(link_refused(current.refusal(Timestamp::now()).unwrap_or(LinkRefusal::UsedUp)))
        }
        Err(e) => Err(request_error(e)),
    }
}

/// Asks to join through a link (anyone signed in): a pending join request for an admin
/// to decide. One use of the link, counted exactly under concurrent use.
#[utoipa::path(post, path = "/v1/invite-links/{token}/accept", tag = "invite links", request_body = AcceptInviteLink,
    params(("token" = String, Path, description = "the link's token")),
    responses((status = 201, description = "The join request", body = JoinRequestView),
              (status = 409, description = "`already_member`, `join_request_pending`, `link_outdated` (the link's roles are no longer valid) or `classes_required`"),
              (status = 410, description = "`link_expired`, `link_revoked` or `link_used_up`")))]
pub async fn accept(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = caller_id(&req)?;
    let now = Timestamp::now();
    let link = open_usable(&ctx, &req, now).await?;
    let body: AcceptInviteLink =
        if req.body.iter().all(u8::is_ascii_whitespace) { AcceptInviteLink::default() } else { req.json()? };
    let org = ctx.store().org(&link.org_id).await?.ok_or(ApiError::NotFound("invitation link"))?;
    let roles = asked_roles(&ctx, &org, &link, body.roles).await?;
    let profile = ctx.store().upsert_user(&identity(&req)?, &ProfileChanges::default()).await?;
    let request = new_request(&link, &user, &profile, roles, now);
    submit(&ctx, &org, &link, &request, now).await?;
    ApiResponse::created(&JoinRequestView::from(&request), &format!("/v1/me/join-requests/{}", request.id))
}

/// Declines a link (anyone signed in): recorded once, uses nothing.
#[utoipa::path(post, path = "/v1/invite-links/{token}/decline", tag = "invite links",
    params(("token" = String, Path, description = "the link's token")),
    responses((status = 204, description = "Declined")))]
pub async fn decline(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = caller_id(&req)?;
    let link = open(&ctx, &req).await?;
    ctx.store().decline_link(&link, &user).await?;
    Ok(ApiResponse::no_content())
}
