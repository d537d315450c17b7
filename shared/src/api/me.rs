//! The caller: profile and organizations.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::common::access::{caller_id, identity};
use super::common::errors::member_error;
use super::common::retry::{self, Attempt};
use crate::domain::{text, Language, Membership, OrgId, ProfileChanges, RoleGrant, Timestamp, User};
use crate::http::{ApiError, ApiRequest, ApiResponse, Page, Validator};
use crate::page::{PageQuery, MAX_LIMIT};
use crate::store::members::MemberError;
use crate::Ctx;

/// The signed-in person.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "3f1c9a52-7b0e-4d6a-9c1e-2a8b5d4e6f70",
    "email": "a.petrova@school57.ru",
    "email_verified": true,
    "name": "Анна Петрова",
    "language": "ru",
    "created_at": "2026-08-24T07:14:58.902Z",
    "updated_at": "2026-08-24T07:14:58.902Z"
}))]
pub struct Me {
    /// The ID token's `sub`.
    pub id: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: String,
    pub language: Language,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<User> for Me {
    fn from(u: User) -> Self {
        Me {
            id: u.id.to_string(),
            email: u.email,
            email_verified: u.email_verified,
            name: u.name,
            language: u.language,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// Reads the caller's profile, creating it on first use (and keeping its email in step
/// with the token). What waits for them (email invitations, offers from schools'
/// journals) is in `GET /v1/me/invitations`.
#[utoipa::path(get, path = "/v1/me", tag = "me", responses((status = 200, description = "The caller's profile", body = Me)))]
pub async fn get(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = ctx.store().upsert_user(&identity(&req)?, &ProfileChanges::default()).await?;
    ApiResponse::ok(&Me::from(user))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Анна Сергеевна Петрова", "language": "ru"}))]
pub struct PatchMe {
    /// Display name, 1-200 characters.
    pub name: Option<String>,
    /// `ru` or `en`.
    pub language: Option<String>,
}

/// Changes the caller's name or language. A new name becomes the one each of their
/// organizations shows and finds them by.
#[utoipa::path(patch, path = "/v1/me", tag = "me", request_body = PatchMe, responses((status = 200, description = "The changed profile", body = Me)))]
pub async fn patch(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let who = identity(&req)?;
    let body: PatchMe = req.json()?;
    let mut v = Validator::new();
    let changes = ProfileChanges {
        name: body.name.as_deref().and_then(|n| v.check("name", text::required(n, crate::domain::users::MAX_NAME))),
        language: body.language.as_deref().and_then(|l| v.check("language", Language::parse(l))),
    };
    v.finish()?;
    let user = ctx.store().upsert_user(&who, &changes).await?;
    if changes.name.is_some() {
        // Their memberships, read on gsi1, each renamed with its search items.
        rename_memberships(&ctx, &user).await?;
    }
    ApiResponse::ok(&Me::from(user))
}

/// Gives the person's memberships their new name, with the search items that find them by
/// it: an organization at a time, each membership re-read when it changed meanwhile. A
/// request cut off half-way leaves some with the old name; the same request again
/// finishes.
async fn rename_memberships(ctx: &Ctx, user: &User) -> Result<(), ApiError> {
    let mut page = PageQuery { limit: MAX_LIMIT, cursor: None };
    loop {
        let (memberships, next) = ctx.store().user_memberships(&user.id, &page).await?;
        for m in memberships.into_iter().filter(|m| m.name != user.name) {
            let (org, name) = (m.org_id.clone(), user.name.as_str());
            let (org, id) = (&org, &user.id);
            retry::on_change(
                Some(m),
                move |m: Option<Membership>| async move {
                    let Some(m) = m.filter(|m| m.name != name) else { return Ok(Attempt::Done(())) };
                    let renamed = ctx.store().rename_member(&m, name).await.map(|_| ());
                    retry::outcome(renamed, |e| matches!(e, MemberError::Changed))
                },
                move || async move { Ok(ctx.store().membership(org, id).await?) },
                member_error(MemberError::Changed),
            )
            .await?;
        }
        match next {
            Some(c) => page.cursor = Some(c),
            None => return Ok(()),
        }
    }
}

/// An organization in the caller's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgRef {
    pub id: String,
    pub name: String,
    pub short_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "org": {"id": "k7m3xq9pza", "name": "Школа № 57", "short_name": "57-я школа"},
    "roles": [{"role": "staff", "position": "Директор"}],
    "admin": true,
    "pending_join_requests": 3,
    "joined_at": "2026-08-24T07:15:42.318Z"
}))]
pub struct MyOrg {
    pub org: OrgRef,
    pub roles: Vec<RoleGrant>,
    pub admin: bool,
    /// Only where the caller is an admin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_join_requests: Option<u32>,
    pub joined_at: Timestamp,
}

/// The caller's organizations with their roles. Two round trips: the memberships, then
/// the organizations' names.
#[utoipa::path(get, path = "/v1/me/orgs", tag = "me",
    params(
        ("limit" = Option<i32>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, description = "A page of the caller's organizations", body = Page<MyOrg>)))]
pub async fn list_orgs(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = caller_id(&req)?;
    let page = req.page_query()?;
    let (memberships, next) = ctx.store().user_memberships(&user, &page).await?;
    let ids: Vec<OrgId> = memberships.iter().map(|m| m.org_id.clone()).collect();
    let orgs: HashMap<OrgId, _> = ctx.store().orgs(&ids).await?.into_iter().map(|o| (o.id.clone(), o)).collect();
    let items = memberships
        .into_iter()
        .filter_map(|m| {
            let org = orgs.get(&m.org_id)?;
            Some(MyOrg {
                org: OrgRef { id: org.id.to_string(), name: org.name.clone(), short_name: org.short_name.clone() },
                pending_join_requests: m.admin.then_some(org.pending_join_requests),
                roles: m.roles,
                admin: m.admin,
                joined_at: m.joined_at,
            })
        })
        .collect();
    ApiResponse::ok(&Page::new(items, next))
}
