//! Who may see and do what in an organization. A non-member sees nothing (404, so IDs
//! cannot be probed); a member lacking a right gets 403.

use std::collections::HashMap;

use crate::domain::{Identity, OrgId, Role, Timestamp, UserId};
use crate::http::{ApiError, ApiRequest};
use crate::store::audit::Actor;
use crate::store::members::Membership;
use crate::store::orgs::Org;
use crate::store::tx::Item;
use crate::Ctx;

/// The caller's user ID.
pub fn caller_id(req: &ApiRequest) -> Result<UserId, ApiError> {
    let claims = req.caller()?;
    UserId::parse(&claims.sub).ok_or(ApiError::Unauthorized("the token's subject is not usable"))
}

/// The caller as the identity provider asserts them.
pub fn identity(req: &ApiRequest) -> Result<Identity, ApiError> {
    req.caller()?.identity().ok_or(ApiError::Unauthorized("the token's subject is not usable"))
}

/// The `{org}` of the path; an ID that cannot exist is simply not found.
pub fn org_id(req: &ApiRequest) -> Result<OrgId, ApiError> {
    OrgId::parse(req.path_param("org")?).ok_or(ApiError::NotFound("organization"))
}

/// A user ID from the path (`{user}`): one that cannot exist is not found.
pub fn user_param(req: &ApiRequest, what: &'static str) -> Result<UserId, ApiError> {
    UserId::parse(req.path_param("user")?).ok_or(ApiError::NotFound(what))
}

/// An ID the API hands out (a ULID, lower-cased), or `None` for text that cannot be one:
/// such an ID is simply not found, and never reaches a key.
pub fn resource_id(raw: &str) -> Option<String> {
    (raw.len() == 26 && raw.chars().all(|c| c.is_ascii_alphanumeric())).then(|| raw.to_ascii_lowercase())
}

/// A ULID path parameter (`{id}`), or 404 naming `what`.
pub fn id_param(req: &ApiRequest, what: &'static str) -> Result<String, ApiError> {
    resource_id(req.path_param("id")?).ok_or(ApiError::NotFound(what))
}

/// A signed-in member acting in their organization.
pub struct Caller {
    pub org: Org,
    pub member: Membership,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor { id: self.member.user_id.clone(), name: self.member.name.clone() }
    }

    pub fn is_admin(&self) -> bool {
        self.member.admin
    }

    pub fn require_admin(&self, action: &'static str) -> Result<(), ApiError> {
        require_admin(&self.member, action)
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.member.has_role(role)
    }
}

/// The organization and the caller's membership, or 404 for non-members. One round trip,
/// plus one write on the member's first request of the day (last activity).
pub async fn member(ctx: &Ctx, req: &ApiRequest) -> Result<Caller, ApiError> {
    Ok(member_and(ctx, req, &[]).await?.0)
}

/// As [`member`], reading further items of the organization's partition in the same
/// round trip (by sort key).
pub async fn member_and(
    ctx: &Ctx,
    req: &ApiRequest,
    extra_sks: &[String],
) -> Result<(Caller, HashMap<String, Item>), ApiError> {
    let user = caller_id(req)?;
    let org = org_id(req)?;
    match ctx.store().org_member_and(&org, &user, extra_sks).await? {
        (Some(org), Some(member), extra) => {
            let now = Timestamp::now();
            if member.last_active_day().as_deref() != Some(now.day().as_str()) {
                if let Err(e) = ctx.store().touch_member(&member, now).await {
                    tracing::warn!(error = %e, "could not record the member's activity");
                }
            }
            Ok((Caller { org, member }, extra))
        }
        _ => Err(ApiError::NotFound("organization")),
    }
}

pub fn require_admin(m: &Membership, action: &'static str) -> Result<(), ApiError> {
    if m.admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(action))
    }
}

/// The caller and one member of the organization (404 when not a member), in one round
/// trip.
pub async fn member_and_target(
    ctx: &Ctx,
    req: &ApiRequest,
    user: &UserId,
) -> Result<(Caller, Option<Membership>), ApiError> {
    let sk = crate::store::keys::member_sk(user);
    let (caller, mut items) = member_and(ctx, req, std::slice::from_ref(&sk)).await?;
    if user == &caller.member.user_id {
        let me = caller.member.clone();
        return Ok((caller, Some(me)));
    }
    let target = items.remove(&sk).map(crate::store::members::parse).transpose()?;
    Ok((caller, target))
}

/// The caller and a class of the organization (404 when there is none), in one round trip.
pub async fn member_and_class(
    ctx: &Ctx,
    req: &ApiRequest,
    class: &str,
) -> Result<(Caller, crate::store::classes::Class), ApiError> {
    let sk = crate::store::keys::class_sk(class);
    let (caller, mut items) = member_and(ctx, req, std::slice::from_ref(&sk)).await?;
    let class = items.remove(&sk).map(crate::store::classes::parse).transpose()?.ok_or(ApiError::NotFound("class"))?;
    Ok((caller, class))
}
