//! Organizations: create, read, edit the profile. (Leaving is with the members.)

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::common::access::{admin, identity, member, Caller};
use super::common::retry::{self, Attempt};
use crate::domain::invitations::until_next_day;
use crate::domain::org::{ProfileInput, DAILY_ORGS_PER_PERSON};
use crate::domain::AuditAction;
use crate::domain::{text, Language, Membership, MembershipSource, Org, OrgProfile, ProfileChanges, RoleGrant};
use crate::domain::{Timestamp, User};
use crate::http::Code;
use crate::http::{ApiError, ApiRequest, ApiResponse, Patch, Validator};
use crate::store::orgs::CreateOrgError;
use crate::store::StoreError;
use crate::Ctx;

/// An organization's profile.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "k7m3xq9pza",
    "name": "Школа № 57",
    "short_name": "57-я школа",
    "address": "125009, Москва, ул. Школьная, д. 57",
    "website": "https://school57.ru/",
    "phone": "+74951234557",
    "email": "info@school57.ru",
    "description": "Школа с углублённым изучением математики и физики.\nПриём в 5 и 8 классы по итогам собеседования.",
    "member_count": 1874,
    "created_at": "2026-08-24T07:15:42.318Z",
    "updated_at": "2026-09-02T10:04:11.527Z"
}))]
pub struct OrgView {
    /// Short and unambiguous (no 0/o, 1/l/i): easy to read aloud and to quote.
    #[schema(example = "k7m3xq9pza")]
    pub id: String,
    pub name: String,
    pub short_name: Option<String>,
    pub address: Option<String>,
    pub website: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub description: Option<String>,
    pub member_count: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Org> for OrgView {
    fn from(o: &Org) -> Self {
        OrgView {
            id: o.id.to_string(),
            name: o.name.clone(),
            short_name: o.short_name.clone(),
            address: o.address.clone(),
            website: o.website.as_ref().map(|w| w.as_str().to_string()),
            phone: o.phone.as_ref().map(|p| p.as_str().to_string()),
            email: o.email.as_ref().map(|e| e.as_str().to_string()),
            description: o.description.clone(),
            member_count: o.member_count,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

fn answer(org: &Org) -> Result<ApiResponse, ApiError> {
    Ok(ApiResponse::ok(&OrgView::from(org))?.with_etag(org.version))
}

/// Profile fields of a create or an update. In an update an absent field stays as it is,
/// `null` or `""` clears it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Школа № 57",
    "short_name": "57-я школа",
    "address": "125009, Москва, ул. Школьная, д. 57",
    "website": "https://school57.ru",
    "phone": "+7 (495) 123-45-57",
    "email": "info@school57.ru",
    "description": null
}))]
pub struct OrgFields {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub short_name: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub address: Patch<String>,
    /// An http(s) URL.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub website: Patch<String>,
    /// E.164, e.g. `+79161234567` (spaces, dashes and parentheses are dropped).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub phone: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub email: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
}

impl From<OrgFields> for ProfileInput {
    fn from(f: OrgFields) -> Self {
        ProfileInput {
            name: f.name,
            short_name: f.short_name,
            address: f.address,
            website: f.website,
            phone: f.phone,
            email: f.email,
            description: f.description,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Школа № 57",
    "short_name": "57-я школа",
    "address": "125009, Москва, ул. Школьная, д. 57",
    "website": "https://school57.ru",
    "phone": "+7 (495) 123-45-57",
    "email": "info@school57.ru",
    "description": "Школа с углублённым изучением математики и физики.\nПриём в 5 и 8 классы по итогам собеседования.",
    "position": "Директор"
}))]
pub struct CreateOrg {
    #[schema(value_type = String)]
    pub name: Option<String>,
    pub short_name: Option<String>,
    pub address: Option<String>,
    /// An http(s) URL.
    pub website: Option<String>,
    /// E.164, e.g. `+79161234567` (spaces, dashes and parentheses are dropped).
    pub phone: Option<String>,
    pub email: Option<String>,
    pub description: Option<String>,
    /// The creator's position (they join as `staff` and first admin); defaults to
    /// "Администратор" (or "Administrator" for an English-speaking creator).
    pub position: Option<String>,
}

impl From<CreateOrg> for ProfileInput {
    fn from(c: CreateOrg) -> Self {
        let set = |v: Option<String>| v.map_or(Patch::Keep, Patch::Set);
        ProfileInput {
            name: set(c.name),
            short_name: set(c.short_name),
            address: set(c.address),
            website: set(c.website),
            phone: set(c.phone),
            email: set(c.email),
            description: set(c.description),
        }
    }
}

/// A create request parsed: the profile and the creator's position.
struct NewOrg {
    profile: OrgProfile,
    position: Option<String>,
}

impl TryFrom<CreateOrg> for NewOrg {
    type Error = ApiError;

    fn try_from(body: CreateOrg) -> Result<Self, ApiError> {
        let mut v = Validator::new();
        let position = match body.position.as_deref() {
            Some(p) => v.check("position", text::required(p, crate::domain::roles::MAX_ROLE_TEXT)),
            None => None,
        };
        let profile = OrgProfile::default().apply(body.into(), &mut v);
        v.finish()?;
        let profile = profile.ok_or_else(|| ApiError::internal("profile without errors"))?;
        Ok(NewOrg { profile, position })
    }
}

/// The creator as the organization's first member: staff, admin, active today.
fn first_admin(org: &Org, creator: &User, position: Option<String>, now: Timestamp) -> Membership {
    let position = position.unwrap_or_else(|| match creator.language {
        Language::Ru => "Администратор".into(),
        Language::En => "Administrator".into(),
    });
    let mut m = Membership::new(
        &org.id,
        &creator.id,
        &creator.name,
        creator.email.as_deref(),
        vec![RoleGrant::staff(&position)],
        true,
        MembershipSource::Manual,
    );
    m.last_active_at = Some(now);
    m.active_days = vec![now.day()];
    m
}

/// Creates an organization; the caller becomes its first admin. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/orgs", tag = "orgs", request_body = CreateOrg,
    params(("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 201, description = "Created; the caller is its first admin", body = OrgView, headers(("ETag" = String), ("Location" = String))),
              (status = 429, description = "`too_many_requests`: the caller created 5 organizations today (`Retry-After`)")))]
pub async fn create(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let who = identity(&req)?;
    let body: CreateOrg = req.json()?;
    let NewOrg { profile, position } = body.try_into()?;
    let creator = ctx.store().upsert_user(&who, &ProfileChanges::default()).await?;
    let now = Timestamp::now();
    let org = Org::new(profile, &creator.id, now);
    let first_admin = first_admin(&org, &creator, position, now);
    let (org, _) = match ctx.store().create_org(org, first_admin).await {
        Ok(created) => created,
        Err(CreateOrgError::DailyLimit) => {
            return Err(ApiError::TooManyRequests {
                code: Code::TooManyRequests,
                detail: format!(
                    "You created {DAILY_ORGS_PER_PERSON} organizations today; you can create more after midnight UTC."
                ),
                retry_after: until_next_day(now),
            })
        }
        Err(CreateOrgError::Store(e)) => return Err(e.into()),
    };
    let location = format!("/v1/orgs/{}", org.id);
    Ok(ApiResponse::created(&OrgView::from(&org), &location)?.with_etag(org.version))
}

/// Reads an organization's profile (members only).
#[utoipa::path(get, path = "/v1/orgs/{org}", tag = "orgs",
    params(("org" = String, Path, description = "organization ID")),
    responses((status = 200, description = "The profile", body = OrgView, headers(("ETag" = String)))))]
pub async fn get(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    answer(&caller.org)
}

const EDIT_PROFILE: &str = "edit the organization's profile";

/// Edits the profile (admins). With `If-Match`, a stale ETag gets 412.
#[utoipa::path(patch, path = "/v1/orgs/{org}", tag = "orgs", request_body = OrgFields,
    params(
        ("org" = String, Path, description = "organization ID"),
        ("If-Match" = Option<String>, Header, description = "the ETag the profile was read with"),
    ),
    responses((status = 200, description = "The changed profile", body = OrgView, headers(("ETag" = String))),
              (status = 409, description = "`concurrent_update`: changed by others meanwhile (without `If-Match`)")))]
pub async fn patch(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = admin(&ctx, &req, EDIT_PROFILE).await?;
    let expected = req.if_match()?;
    let fields: OrgFields = req.json()?;
    let input: ProfileInput = fields.into();
    let (ctx, req, input) = (&ctx, &req, &input);
    // Changed since read: with If-Match that is the client's stale copy; without, the
    // same change applies to the current profile.
    let updated = retry::on_change(
        caller,
        move |caller| async move { update_profile(ctx, &caller, input, expected).await },
        move || async move { admin(ctx, req, EDIT_PROFILE).await },
        ApiError::conflict(Code::ConcurrentUpdate, "The profile is being changed by others; retry."),
    )
    .await?;
    answer(&updated)
}

/// One try at a profile change, on the organization as the caller read it.
async fn update_profile(
    ctx: &Ctx,
    caller: &Caller,
    input: &ProfileInput,
    expected: Option<u64>,
) -> Result<Attempt<Org>, ApiError> {
    let org = &caller.org;
    if expected.is_some_and(|v| v != org.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let mut v = Validator::new();
    let profile = org.profile().apply(input.clone(), &mut v);
    v.finish()?;
    let profile = profile.ok_or_else(|| ApiError::internal("profile without errors"))?;
    if profile == org.profile() {
        return Ok(Attempt::Done(org.clone()));
    }
    let audit = caller
        .audit(AuditAction::OrgUpdate, "org", org.id.as_str())
        .before(org.profile().summary())
        .after(profile.summary());
    let result = ctx.store().update_org_profile(org, &profile, &audit).await;
    retry::outcome(result, |e| matches!(e, StoreError::ConditionFailed))
}
