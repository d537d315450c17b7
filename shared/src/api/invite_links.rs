//! Invitation links (R4.1, R4.2): admins make, list and revoke them; anyone signed in
//! previews one, and accepts (asking to join) or declines it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::access::{caller_id, identity, member};
use super::join_requests::{request_error, JoinRequestView};
use super::members::check_grants;
use crate::domain::roles::validate_grants;
use crate::domain::ProfileChanges;
use crate::domain::{RoleGrant, Timestamp};
use crate::http::{ApiError, ApiRequest, ApiResponse, FieldError, Page};
use crate::store::audit::AuditEntry;
use crate::store::join_requests::{JoinRequest, JoinRequestStatus};
use crate::store::links::{InviteLink, LinkRefusal};
use crate::store::outbox::Event;
use crate::Ctx;

/// The longest a link may live.
const MAX_LIFETIME_DAYS: i64 = 366;

#[derive(Debug, Serialize, ToSchema)]
pub struct InviteLinkView {
    pub id: String,
    /// Only in the answer to the create: keep it, it cannot be shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The front-end page that opens the link (only at creation, like the token).
    #[serde(skip_serializing_if = "Option::is_none")]
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
    fn of(link: &InviteLink, now: Timestamp) -> Self {
        InviteLinkView {
            id: link.id.clone(),
            token: None,
            url: None,
            roles: link.roles.clone(),
            group_id: link.group_id.clone(),
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

/// The SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
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

/// Makes an invitation link (admins). The answer carries the token and the URL once.
#[utoipa::path(post, path = "/v1/orgs/{org}/invite-links", tag = "invite links", request_body = CreateInviteLink,
    params(("org" = String, Path, description = "organization ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 201, description = "Created; `token` and `url` appear only here", body = InviteLinkView)))]
pub async fn create(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    caller.require_admin("make invitation links")?;
    let body: CreateInviteLink = req.json()?;
    let now = Timestamp::now();
    let mut errors = Vec::new();
    match Timestamp::parse(&body.expires_at) {
        Ok(t) if t <= now => errors.push(FieldError::new("expires_at", "must be in the future")),
        Ok(t) if t > now.plus(time::Duration::days(MAX_LIFETIME_DAYS)) => {
            errors.push(FieldError::new("expires_at", "must be at most a year ahead"))
        }
        Ok(_) => {}
        Err(m) => errors.push(FieldError::new("expires_at", m)),
    }
    let max_uses = match body.max_uses {
        None => None,
        Some(n) if (1..=100_000).contains(&n) => Some(n as u32),
        Some(_) => {
            errors
                .push(FieldError::new("max_uses", "must be a positive number (at most 100000) or null for unlimited"));
            None
        }
    };
    if let Some(g) = &body.group_id {
        let exists = match super::access::resource_id(g) {
            Some(id) => ctx.store().group_exists(&caller.org.id, &id).await?,
            None => false,
        };
        if !exists {
            errors.push(FieldError::new("group_id", "no such group in this organization"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let roles = check_grants(&ctx, &caller.org, body.roles, "roles").await?;
    let token = {
        let bytes: [u8; 32] = rand::random();
        URL_SAFE_NO_PAD.encode(bytes)
    };
    let link = InviteLink {
        id: ulid::Ulid::new().to_string().to_lowercase(),
        org_id: caller.org.id.clone(),
        token_hash: token_hash(&token),
        roles,
        group_id: body.group_id,
        expires_at: Timestamp::parse(&body.expires_at).map_err(ApiError::internal)?,
        max_uses,
        uses: 0,
        declines: 0,
        revoked: false,
        created_by: caller.member.user_id.clone(),
        created_at: now,
    };
    let audit = AuditEntry::new(
        &caller.org.id,
        &caller.actor(),
        "link.create",
        "invite_link",
        &link.id,
        None,
        Some(
            json!({"roles": link.roles, "expires_at": link.expires_at, "max_uses": link.max_uses, "group_id": link.group_id}),
        ),
    );
    ctx.store().create_link(&link, &audit).await?;
    let mut view = InviteLinkView::of(&link, now);
    view.url = Some(format!("{}/join/{token}", ctx.config().app_url));
    view.token = Some(token);
    ApiResponse::created(&view, &format!("/v1/orgs/{}/invite-links/{}", caller.org.id, link.id))
}

/// Lists the organization's links with their use counts, newest first (admins). Tokens
/// are never shown again.
#[utoipa::path(get, path = "/v1/orgs/{org}/invite-links", tag = "invite links",
    params(("org" = String, Path, description = "organization ID"), ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of links", body = Page<InviteLinkView>)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    caller.require_admin("see invitation links")?;
    let page = req.page_query()?;
    let now = Timestamp::now();
    let links: Vec<InviteLinkView> =
        ctx.store().links(&caller.org.id).await?.iter().map(|l| InviteLinkView::of(l, now)).collect();
    let (items, next) = page.slice(links)?;
    ApiResponse::ok(&Page { items, next_cursor: next.map(|c| c.encode()) })
}

/// Revokes a link (admins): it can no longer be used; requests made with it stay.
#[utoipa::path(delete, path = "/v1/orgs/{org}/invite-links/{id}", tag = "invite links",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "link ID")),
    responses((status = 204, description = "Revoked")))]
pub async fn revoke(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    caller.require_admin("revoke invitation links")?;
    let id = super::access::id_param(&req, "invitation link")?;
    let link = ctx.store().link(&caller.org.id, &id).await?.ok_or(ApiError::NotFound("invitation link"))?;
    if !link.revoked {
        let audit = AuditEntry::new(
            &caller.org.id,
            &caller.actor(),
            "link.revoke",
            "invite_link",
            &link.id,
            Some(json!({"revoked": false})),
            Some(json!({"revoked": true})),
        );
        ctx.store().revoke_link(&link, &audit).await?;
    }
    Ok(ApiResponse::no_content())
}

/// The link a token opens: 404 for an unknown token.
async fn open(ctx: &Ctx, req: &ApiRequest) -> Result<InviteLink, ApiError> {
    let token = req.path_param("token")?;
    if token.len() > 100 || token.is_empty() {
        return Err(ApiError::NotFound("invitation link"));
    }
    ctx.store().link_by_token_hash(&token_hash(token)).await?.ok_or(ApiError::NotFound("invitation link"))
}

pub fn refused(r: LinkRefusal) -> ApiError {
    let (code, detail) = match r {
        LinkRefusal::Expired => ("link_expired", "This invitation link has expired: ask the school for a new one."),
        LinkRefusal::Revoked => ("link_revoked", "This invitation link was withdrawn by the school."),
        LinkRefusal::UsedUp => ("link_used_up", "This invitation link has been used as many times as it allows."),
    };
    ApiError::Gone { code, detail: detail.into() }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewOrg {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferedRole {
    #[serde(flatten)]
    pub grant: RoleGrant,
    /// The names of the classes, e.g. `["5А"]`.
    pub class_names: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
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
              (status = 404, description = "Unknown token"),
              (status = 410, description = "`link_expired`, `link_revoked` or `link_used_up`")))]
pub async fn preview(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let link = open(&ctx, &req).await?;
    if let Some(r) = link.refusal(Timestamp::now()) {
        return Err(refused(r));
    }
    let org = ctx.store().org(&link.org_id).await?.ok_or(ApiError::NotFound("invitation link"))?;
    let ids = link.roles.iter().flat_map(|g| g.class_ids.iter().cloned()).collect();
    let classes = ctx.store().classes_by_id(&org.id, &ids).await?;
    let roles = link
        .roles
        .iter()
        .map(|g| OfferedRole {
            grant: g.clone(),
            class_names: g
                .class_ids
                .iter()
                .filter_map(|id| classes.iter().find(|c| &c.id == id))
                .map(|c| c.name.clone())
                .collect(),
        })
        .collect();
    ApiResponse::ok(&LinkPreview {
        org: PreviewOrg { id: org.id.to_string(), name: org.name },
        roles,
        group_id: link.group_id,
        expires_at: link.expires_at,
    })
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInviteLink {
    /// The roles asked for, if not exactly those offered (edited, or another added).
    pub roles: Option<Vec<RoleGrant>>,
}

/// Asks to join through a link (anyone signed in): a pending join request for an admin
/// to decide. One use of the link, counted exactly under concurrent use.
#[utoipa::path(post, path = "/v1/invite-links/{token}/accept", tag = "invite links", request_body = AcceptInviteLink,
    params(("token" = String, Path, description = "the link's token")),
    responses((status = 201, description = "The join request", body = JoinRequestView),
              (status = 409, description = "`already_member` or `join_request_pending`"),
              (status = 410, description = "`link_expired`, `link_revoked` or `link_used_up`")))]
pub async fn accept(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = caller_id(&req)?;
    let link = open(&ctx, &req).await?;
    let now = Timestamp::now();
    if let Some(r) = link.refusal(now) {
        return Err(refused(r));
    }
    let body: AcceptInviteLink =
        if req.body.iter().all(u8::is_ascii_whitespace) { AcceptInviteLink::default() } else { req.json()? };
    let org = ctx.store().org(&link.org_id).await?.ok_or(ApiError::NotFound("invitation link"))?;
    let roles = match body.roles {
        Some(roles) => check_grants(&ctx, &org, roles, "roles").await?,
        None => validate_grants(link.roles.clone(), "roles").map_err(|_| {
            ApiError::conflict("link_outdated", "This link's roles are no longer valid: ask the school for a new link.")
        })?,
    };
    let profile = ctx.store().upsert_user(&identity(&req)?, &ProfileChanges::default()).await?;
    let request = JoinRequest {
        id: ulid::Ulid::new().to_string().to_lowercase(),
        org_id: org.id.clone(),
        user_id: user.clone(),
        name: profile.name.clone(),
        email: profile.email.clone(),
        roles,
        status: JoinRequestStatus::Pending,
        reason: None,
        link_id: Some(link.id.clone()),
        created_at: now,
        decided_at: None,
        decided_by: None,
        version: 1,
    };
    let event = Event::new(
        "join_request_submitted",
        Some(&org.id),
        json!({"org_id": org.id, "org_name": org.name, "request_id": request.id, "user_id": user, "name": request.name, "roles": request.roles}),
    );
    match ctx.store().submit_join_request(&request, &link, now, &event).await {
        Ok(()) => {
            ApiResponse::created(&JoinRequestView::from(&request), &format!("/v1/me/join-requests/{}", request.id))
        }
        Err(crate::store::join_requests::RequestError::LinkUnusable) => {
            let current =
                ctx.store().link(&link.org_id, &link.id).await?.ok_or(ApiError::NotFound("invitation link"))?;
            Err(refused(current.refusal(Timestamp::now()).unwrap_or(LinkRefusal::UsedUp)))
        }
        Err(e) => Err(request_error(e)),
    }
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
