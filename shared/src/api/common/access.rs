//! Who may see and do what in an organization. A non-member sees nothing (404, so IDs
//! cannot be probed); a member lacking a right gets 403.

use crate::domain::{Actor, Class, ClassId, Group, GroupId, Identity, Membership, Org, OrgId, Role, Timestamp, UserId};
use crate::http::{ApiError, ApiRequest};
use crate::store::orgs::{Also, Read};
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

    /// A teacher of this class (on its teachers' roster, or a class teacher).
    pub fn teaches(&self, class: &Class) -> bool {
        self.has_role(Role::Teacher) && class.has_teacher(&self.member.user_id)
    }
}

/// The organization and the caller's membership, or 404 for non-members. One round trip,
/// plus one write on the member's first request of the day (last activity).
pub async fn member(ctx: &Ctx, req: &ApiRequest) -> Result<Caller, ApiError> {
    Ok(member_and(ctx, req, &[]).await?.0)
}

/// As [`member`], reading further items of the organization in the same round trip.
pub async fn member_and(ctx: &Ctx, req: &ApiRequest, also: &[Also]) -> Result<(Caller, Read), ApiError> {
    let user = caller_id(req)?;
    let org = org_id(req)?;
    match ctx.store().org_member_and(&org, &user, also).await? {
        (Some(org), Some(member), read) => {
            let now = Timestamp::now();
            if member.last_active_day().as_deref() != Some(now.day().as_str()) {
                if let Err(e) = ctx.store().touch_member(&member, now).await {
                    tracing::warn!(error = %e, "could not record the member's activity");
                }
            }
            Ok((Caller { org, member }, read))
        }
        _ => Err(ApiError::NotFound("organization")),
    }
}

/// As [`member`], for admins only (403 naming `action` for other members).
pub async fn admin(ctx: &Ctx, req: &ApiRequest, action: &'static str) -> Result<Caller, ApiError> {
    let caller = member(ctx, req).await?;
    caller.require_admin(action)?;
    Ok(caller)
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
    let (caller, mut read) = member_and(ctx, req, &[Also::Member(user.clone())]).await?;
    if user == &caller.member.user_id {
        let me = caller.member.clone();
        return Ok((caller, Some(me)));
    }
    let target = read.member(user)?;
    Ok((caller, target))
}

/// The caller and a class of the organization (404 when there is none), in one round trip.
pub async fn member_and_class(ctx: &Ctx, req: &ApiRequest, class: &ClassId) -> Result<(Caller, Class), ApiError> {
    let (caller, mut read) = member_and(ctx, req, &[Also::Class(class.clone())]).await?;
    let class = read.class(class)?.ok_or(ApiError::NotFound("class"))?;
    Ok((caller, class))
}

/// The caller inside group `group` (the `{id}` of the path), which only its members and
/// the organization's admins may enter: anyone else gets 404, as for a group that does not
/// exist (R7.6: closed discussions). `also` is read in the same round trip.
pub async fn in_group(
    ctx: &Ctx,
    req: &ApiRequest,
    group: &GroupId,
    also: &[Also],
) -> Result<(Caller, Group, Read), ApiError> {
    let mut wanted = vec![Also::Group(group.clone())];
    wanted.extend_from_slice(also);
    let (caller, mut read) = member_and(ctx, req, &wanted).await?;
    let group = read.group(group)?.ok_or(ApiError::NotFound("group"))?;
    if !caller.is_admin() && !caller.member.group_ids.contains(&group.id) {
        return Err(ApiError::NotFound("group"));
    }
    Ok((caller, group, read))
}

/// A member of the organization, read again (404 when they are no longer one).
pub async fn membership(ctx: &Ctx, org: &OrgId, user: &UserId) -> Result<Membership, ApiError> {
    ctx.store().membership(org, user).await?.ok_or(ApiError::NotFound("member"))
}
