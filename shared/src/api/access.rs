//! Who may see and do what in an organization. A non-member sees nothing (404, so IDs
//! cannot be probed); a member lacking a right gets 403.

use crate::domain::{OrgId, UserId};
use crate::http::{ApiError, ApiRequest};
use crate::store::orgs::{Membership, Org};
use crate::Ctx;

/// The caller's user ID.
pub fn caller_id(req: &ApiRequest) -> Result<UserId, ApiError> {
    let claims = req.caller()?;
    UserId::parse(&claims.sub).ok_or(ApiError::Unauthorized("the token's subject is not usable"))
}

/// The `{org}` of the path; an ID that cannot exist is simply not found.
pub fn org_id(req: &ApiRequest) -> Result<OrgId, ApiError> {
    OrgId::parse(req.path_param("org")?).ok_or(ApiError::NotFound("organization"))
}

/// The organization and the caller's membership, or 404 for non-members. One round trip.
pub async fn member(ctx: &Ctx, req: &ApiRequest) -> Result<(Org, Membership), ApiError> {
    let user = caller_id(req)?;
    let org = org_id(req)?;
    match ctx.store().org_and_membership(&org, &user).await? {
        (Some(org), Some(m)) => Ok((org, m)),
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
