//! Members: direct add by an admin (R4.4), list, read, role change, removal (R5.2), and
//! leaving.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::common::access::{member, member_and, member_and_target, membership, user_param, Caller};
use super::common::errors::{admin_role_required, invitation_error, member_error};
use super::common::grants::{check_grants, check_grants_with, named_classes};
use super::common::inviting::{invite_one, InvitationResult, InviteStatus};
use super::common::placing::{runs, sees_members, PlaceView};
use super::common::retry::{self, Attempt};
use super::common::views::MemberView;
use crate::domain::search::NameQuery;
use crate::domain::AuditAction;
use crate::domain::{Class, Email, JoinRequest, Membership, MembershipSource, OutboxEvent, Role, RoleGrant, Timestamp};
use crate::domain::{ClassId, CourseId, GroupId, PlaceKind, PlaceOf, UserId};
use crate::http::Code;
use crate::http::{ApiError, ApiRequest, ApiResponse, Page, Problem};
use crate::page::PageQuery;
use crate::store::invitations::InvitationError;
use crate::store::members::{Existing, Joined, MemberError};
use crate::store::orgs::{Also, Read};
use crate::Ctx;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "user_id": "5b9d1f3a-6c8e-4a2b-9d4f-7e1c3a5b8d06",
    "roles": [{
        "role": "teacher",
        "position": "Учитель физики",
        "specialization": "Физика",
        "class_ids": ["01m115ebsrwdyfqatyynem1n18", "01m115ecvwas7wzwvqnhd05es9"]
    }]
}))]
pub struct AddMember {
    /// The person's ID (their `sub`), or
    pub user_id: Option<String>,
    /// the verified email of a registered person.
    pub email: Option<String>,
    /// One or more roles at once.
    pub roles: Vec<RoleGrant>,
}

/// Adds a registered person by their user ID with one or more roles (admins), in one
/// read (the caller, the organization, the person, the classes named) and one
/// transaction; or invites an address (`email`: 202 with the invitation, whether or not
/// the address is registered). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/orgs/{org}/members", tag = "members", request_body = AddMember,
    params(("org" = String, Path, description = "organization ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 201, description = "Added (by user ID)", body = MemberView),
              (status = 202, description = "Invited (by email)", body = InvitationResult),
              (status = 404, description = "`user_not_found`: no registered person has this user ID"),
              (status = 409, description = "`already_member`, or `classes_required` when the organization has no classes yet, or `concurrent_update`"),
              (status = 429, description = "`daily_limit`: the organization's invitation emails for today are used up (by email; `Retry-After`)")))]
pub async fn add(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: Result<AddMember, ApiError> = req.json();
    let mut also = Vec::new();
    if let Ok(body) = &body {
        if let (Some(id), None) = (body.user_id.as_deref().and_then(UserId::parse), &body.email) {
            also.push(Also::User(id));
        }
        also.extend(named_classes(&body.roles).into_iter().map(Also::Class));
    }
    let (caller, mut read) = member_and(&ctx, &req, &also).await?;
    caller.require_admin("add members")?;
    let body = body?;
    let classes: Vec<Class> =
        named_classes(&body.roles).iter().filter_map(|id| read.class(id).transpose()).collect::<Result<_, _>>()?;
    let id = match (body.user_id.as_deref(), body.email.as_deref()) {
        (Some(id), None) => id,
        (None, Some(email)) => return add_by_email(&ctx, &caller, email, body.roles, &classes).await,
        _ => return Err(ApiError::validation("user_id", "give either user_id or email")),
    };
    let user = UserId::parse(id).map(|id| read.user(&id)).transpose()?.flatten();
    let roles = check_grants_with(&caller.org, body.roles, "roles", &classes)?;
    let user = user.ok_or_else(|| ApiError::Missing {
        code: Code::UserNotFound,
        detail: "No registered person has this ID; add people you do not know the ID of by email.".into(),
    })?;
    // Added by their ID, the person gave the organization no address: it shows none.
    let (org, source) = (&caller.org, MembershipSource::Manual);
    let m = Membership::new(&org.id, &user.id, &user.name, None, roles, false, source);
    add_member(&ctx, &caller, &m).await?;
    ApiResponse::created(
        &MemberView::seen_by(&m, &caller.member),
        &format!("/v1/orgs/{}/members/{}", caller.org.id, user.id),
    )
}

/// An add by email is an invitation, whoever the address belongs to: the answer (202,
/// the invitation) is the same for a registered person and a stranger, so it tells
/// nobody whether an address is registered. A registered person sees the invitation in
/// `/me/invitations` and joins by accepting it.
async fn add_by_email(
    ctx: &Ctx,
    caller: &Caller,
    email: &str,
    roles: Vec<RoleGrant>,
    classes: &[Class],
) -> Result<ApiResponse, ApiError> {
    let email = Email::parse(email).map_err(|m| ApiError::validation("email", m))?;
    let mut roles = check_grants_with(&caller.org, roles, "roles", classes)?;
    if roles.len() != 1 {
        return Err(ApiError::validation(
            "roles",
            "adding by email sends an invitation, which offers one role: give one (add more once they have joined)",
        ));
    }
    let role = roles.remove(0);
    let result = invite_one(ctx, caller, email.as_str().to_string(), role, None, Timestamp::now()).await?;
    match result.status {
        InviteStatus::AlreadyMember => return Err(member_error(MemberError::AlreadyMember)),
        InviteStatus::DailyLimit => return Err(invitation_error(InvitationError::DailyLimit)),
        InviteStatus::Invited | InviteStatus::Invalid | InviteStatus::Added => {}
    }
    ApiResponse::json(http::StatusCode::ACCEPTED, &result)
}

/// Writes the new member with its audit entry and event; a pending join request of
/// theirs ends with it (read only when there is one).
async fn add_member(ctx: &Ctx, caller: &Caller, m: &Membership) -> Result<(), ApiError> {
    let audit = caller.audit(AuditAction::MemberAdd, "member", m.user_id.as_str()).after(m.summary());
    let event = OutboxEvent::MemberAdded {
        org_id: caller.org.id.clone(),
        org_name: caller.org.name.clone(),
        user_id: m.user_id.clone(),
        roles: m.roles.clone(),
        by: caller.member.name.clone(),
    };
    let (audit, event) = (&audit, &event);
    retry::on_change(
        None,
        move |pending: Option<JoinRequest>| async move {
            let joined = Joined { pending: pending.as_ref(), by: &caller.member.user_id, record: None };
            let added = ctx.store().add_member(m, joined, Some(audit), Some(event)).await;
            retry::outcome(added, |e| matches!(e, MemberError::HasPendingRequest))
        },
        move || async move { Ok(ctx.store().pending_join_request(&m.org_id, &m.user_id).await?) },
        member_error(MemberError::HasPendingRequest),
    )
    .await
}

/// Whether the caller may add members to the group (and so look for the people it
/// lacks): admins and the group's teachers (the rule of `placing::may_enter`).
fn may_add_to_group(caller: &Caller, group_id: &GroupId) -> bool {
    caller.is_admin() || caller.member.teaches_group(group_id)
}

/// `?group=` or `?course=` (one of them): the places to list.
fn place_filter(req: &ApiRequest) -> Result<Option<PlaceOf>, ApiError> {
    let given = [("group", PlaceKind::Group), ("course", PlaceKind::Course), ("class", PlaceKind::Group)]
        .iter()
        .filter(|(name, _)| req.query_param(name).is_some())
        .count();
    if given > 1 {
        return Err(ApiError::validation("group", "filter by one of class, group and course"));
    }
    for name in ["q", "not_in_group"] {
        if given > 0 && req.query_param("class").is_none() && req.query_param(name).is_some() {
            return Err(ApiError::validation(name, "combines with role and class, not with group or course"));
        }
    }
    if let Some(g) = req.query_param("group") {
        return Ok(Some(PlaceOf::Group(GroupId::parse(g).ok_or(ApiError::NotFound("group"))?)));
    }
    if let Some(c) = req.query_param("course") {
        return Ok(Some(PlaceOf::Course(CourseId::parse(c).ok_or(ApiError::NotFound("course"))?)));
    }
    Ok(None)
}

fn role_param(req: &ApiRequest) -> Result<Option<Role>, ApiError> {
    match req.query_param("role") {
        Some(r) => Ok(Some(
            serde_json::from_value::<Role>(json!(r))
                .map_err(|_| ApiError::validation("role", "must be teacher, staff, student or parent"))?,
        )),
        None => Ok(None),
    }
}

/// The filters of a members list besides the places: what the caller may ask for.
struct Filters {
    role: Option<Role>,
    class: Option<Class>,
    not_in_group: Option<GroupId>,
    query: Option<NameQuery>,
}

impl Filters {
    /// Reads and checks them: admins list anyone; other members only a class they teach
    /// or the people a group they may add members to lacks (and every filter they give
    /// must be one of those).
    fn check(req: &ApiRequest, caller: &Caller, read: &mut Read) -> Result<Filters, ApiError> {
        let role = role_param(req)?;
        let query = match req.query_param("q") {
            Some(q) => Some(NameQuery::parse(q).map_err(|m| ApiError::validation("q", m))?),
            None => None,
        };
        let class = match req.query_param("class") {
            Some(id) => {
                let id = ClassId::parse(id).ok_or(ApiError::NotFound("class"))?;
                Some(read.class(&id)?.ok_or(ApiError::NotFound("class"))?)
            }
            None => None,
        };
        let not_in_group = match req.query_param("not_in_group") {
            Some(id) => {
                let id = GroupId::parse(id).ok_or(ApiError::NotFound("group"))?;
                read.group(&id)?.ok_or(ApiError::NotFound("group"))?;
                Some(id)
            }
            None => None,
        };
        if !caller.is_admin() {
            if class.as_ref().is_some_and(|c| !caller.teaches(c)) {
                return Err(ApiError::Forbidden("list the members of a class you do not teach"));
            }
            if not_in_group.as_ref().is_some_and(|g| !may_add_to_group(caller, g)) {
                return Err(ApiError::Forbidden("look for people to add to a group you may not add members to"));
            }
            if class.is_none() && not_in_group.is_none() {
                return Err(ApiError::Forbidden(
                    "list or search every member (teachers list a class they teach with ?class=, or the people a group of theirs lacks with ?not_in_group=)",
                ));
            }
        }
        Ok(Filters { role, class, not_in_group, query })
    }

    /// Whether a member passes the role, class and group filters.
    fn keeps(&self, people: &BTreeSet<UserId>, m: &Membership) -> bool {
        self.role.is_none_or(|r| m.has_role(r))
            && (self.class.is_none() || people.contains(&m.user_id))
            && self.not_in_group.as_ref().is_none_or(|g| !m.group_ids.contains(g))
    }
}

/// The people of a class who pass the filters, by name.
async fn class_members(
    ctx: &Ctx,
    caller: &Caller,
    class: &Class,
    filters: &Filters,
    page: &PageQuery,
) -> Result<Page<MemberView>, ApiError> {
    let people = class.people_ids();
    let mut members = ctx.store().memberships(&caller.org.id, &people).await?;
    let people: BTreeSet<UserId> = people.into_iter().collect();
    members.retain(|m| filters.keeps(&people, m));
    members.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.user_id.cmp(&b.user_id)));
    let (members, next) = page.slice(members)?;
    Ok(Page::new(members.iter().map(|m| MemberView::seen_by(m, &caller.member)).collect(), next))
}

/// Lists members (admins; teachers for a class they teach), by name within a class; or
/// finds them (`q`): people with a word of their name starting with `q` (any case, `ё`
/// as `е`; each word of several must start one of their words), and for admins people
/// whose email starts with it, in the order of the word found, each once.
#[utoipa::path(get, path = "/v1/orgs/{org}/members", tag = "members",
    params(("org" = String, Path, description = "organization ID"),
           ("q" = Option<String>, Query, description = "find people by the start of a word of their name (any case, ё as е; 1-100 characters; several words: each starts one of theirs), and for admins by the start of their email; the order is that of the word found. Non-admins search with `class` (a class they teach) or `not_in_group` (a group they may add members to)", example = "петро"),
           ("role" = Option<String>, Query, description = "teacher, staff, student or parent", example = "student"),
           ("class" = Option<String>, Query, description = "a class ID: its students, parents and teachers", example = "01m115ebsrwdyfqatyynem1n18"),
           ("not_in_group" = Option<String>, Query, description = "a group ID: leaves out its members (to find people to add to it; admins, and teachers in the group)", example = "01m93kq4c1b7t3v2x9z0a5d8fe"),
           ("group" = Option<String>, Query, description = "a group ID: its members (admins, its members, its course's teachers)"),
           ("course" = Option<String>, Query, description = "a course ID: its students (admins and its teachers)"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of members", body = Page<MemberView>)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let place = place_filter(&req)?;
    let mut also: Vec<Also> = match &place {
        Some(PlaceOf::Group(id)) => vec![Also::Group(id.clone())],
        Some(PlaceOf::Course(id)) => vec![Also::Course(id.clone())],
        None => Vec::new(),
    };
    also.extend(req.query_param("class").and_then(ClassId::parse).map(Also::Class));
    also.extend(req.query_param("not_in_group").and_then(GroupId::parse).map(Also::Group));
    let (caller, mut read) = member_and(&ctx, &req, &also).await?;
    let page = req.page_query()?;
    if let Some(place) = place {
        let role = role_param(&req)?;
        match &place {
            PlaceOf::Group(id) => {
                let group = read.group(id)?.ok_or(ApiError::NotFound("group"))?;
                if !sees_members(&caller, &group) {
                    return Err(ApiError::Forbidden("list the members of a group you are not in"));
                }
            }
            PlaceOf::Course(id) => {
                let course = read.course(id)?.ok_or(ApiError::NotFound("course"))?;
                if !runs(&caller, &course) {
                    return Err(ApiError::Forbidden("list the students of a course you do not teach"));
                }
            }
        }
        let (mut members, next) = PlaceView::members(&ctx, &caller.org.id, place.place_in(), &page).await?;
        if let Some(role) = role {
            members.retain(|m| m.has_role(role));
        }
        let items = members.iter().map(|m| MemberView::seen_by(m, &caller.member)).collect();
        return ApiResponse::ok(&Page::new(items, next));
    }
    let filters = Filters::check(&req, &caller, &mut read)?;
    let org = &caller.org.id;
    let (members, next) = match (&filters.query, &filters.class) {
        (Some(query), class) => {
            let people: BTreeSet<UserId> = class.iter().flat_map(|c| c.people_ids()).collect();
            let keep = |m: &Membership| filters.keeps(&people, m);
            ctx.store().search_members(org, query, caller.is_admin(), &page, keep).await?
        }
        (None, Some(class)) => return ApiResponse::ok(&class_members(&ctx, &caller, class, &filters, &page).await?),
        (None, None) => ctx.store().members(org, filters.role, filters.not_in_group.as_ref(), &page).await?,
    };
    ApiResponse::ok(&Page::new(members.iter().map(|m| MemberView::seen_by(m, &caller.member)).collect(), next))
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
        return ApiResponse::ok(&MemberView::seen_by(&target, &caller.member));
    }
    if !caller.is_admin() {
        let allowed = caller.has_role(Role::Teacher) && {
            let ids = target.class_ids();
            ctx.store().classes_by_id(&caller.org.id, &ids).await?.iter().any(|c| c.has_teacher(&caller.member.user_id))
        };
        if !allowed {
            return Err(ApiError::Forbidden("see this member"));
        }
    }
    ApiResponse::ok(&MemberView::seen_by(&target, &caller.member))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "roles": [
        {
            "role": "teacher",
            "position": "Учитель",
            "specialization": "Математика",
            "class_ids": ["01m115ebsrwdyfqatyynem1n18", "01m115ecvwas7wzwvqnhd05es9"]
        },
        {"role": "parent", "class_ids": ["01m115eb1b5m8hyax78k7bw82v"]}
    ]
}))]
pub struct PatchMember {
    /// The member's roles, all of them (replaces the current ones).
    pub roles: Vec<RoleGrant>,
}

/// Changes a member's roles (admins); class places follow.
#[utoipa::path(patch, path = "/v1/orgs/{org}/members/{user}", tag = "members", request_body = PatchMember,
    params(("org" = String, Path, description = "organization ID"), ("user" = String, Path, description = "the member's user ID")),
    responses((status = 200, description = "The changed member", body = MemberView),
              (status = 409, description = "`classes_required` when the organization has no classes yet, or `concurrent_update`"),
              (status = 422, description = "`admin_role_required`: an admin keeps a teacher or staff role")))]
pub async fn patch(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = user_param(&req, "member")?;
    let (caller, read) = member_and_target(&ctx, &req, &user).await?;
    caller.require_admin("change members' roles")?;
    let body: PatchMember = req.json()?;
    let roles = check_grants(&ctx, &caller.org, body.roles, "roles").await?;
    let first = match read {
        Some(t) => t,
        None => membership(&ctx, &caller.org.id, &user).await?,
    };
    let (ctx, caller, user, roles) = (&ctx, &caller, &user, &roles);
    let updated = retry::on_change(
        first,
        move |target| async move { change_roles(ctx, caller, target, roles).await },
        move || async move { membership(ctx, &caller.org.id, user).await },
        member_error(MemberError::Changed),
    )
    .await?;
    ApiResponse::ok(&MemberView::seen_by(&updated, &caller.member))
}

/// One try at replacing a member's roles.
async fn change_roles(
    ctx: &Ctx,
    caller: &Caller,
    target: Membership,
    roles: &[RoleGrant],
) -> Result<Attempt<Membership>, ApiError> {
    if target.admin && !roles.iter().any(|g| g.role.can_be_admin()) {
        return Err(admin_role_required());
    }
    if target.roles == roles {
        return Ok(Attempt::Done(target));
    }
    let after = Membership { roles: roles.to_vec(), ..target.clone() };
    let audit = caller
        .audit(AuditAction::MemberUpdate, "member", target.user_id.as_str())
        .before(target.summary())
        .after(after.summary());
    let updated = ctx.store().update_member_roles(&target, roles.to_vec(), Some(&audit)).await;
    retry::outcome(updated, |e| matches!(e, MemberError::Changed))
}

/// Removes a member (admins): the membership, its class places and its admin flag go
/// together; never the last admin.
#[utoipa::path(delete, path = "/v1/orgs/{org}/members/{user}", tag = "members",
    params(("org" = String, Path, description = "organization ID"), ("user" = String, Path, description = "the member's user ID")),
    responses((status = 204, description = "Removed"), (status = 409, description = "`last_admin` or `concurrent_update`")))]
pub async fn remove(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = user_param(&req, "member")?;
    let (caller, target) = member_and_target(&ctx, &req, &user).await?;
    caller.require_admin("remove members")?;
    let target = target.ok_or(ApiError::NotFound("member"))?;
    let action = if user == caller.member.user_id { AuditAction::MemberLeave } else { AuditAction::MemberRemove };
    end_membership(&ctx, &caller, target, action).await?;
    Ok(ApiResponse::no_content())
}

/// Leaves the organization: the membership, its class places and admin flag go. The last
/// admin cannot leave (409 `last_admin`): appoint another admin first.
#[utoipa::path(post, path = "/v1/orgs/{org}/leave", tag = "orgs",
    params(("org" = String, Path, description = "organization ID")),
    responses((status = 204, description = "Left the organization"), (status = 409, description = "The caller is the last admin (`last_admin`), or `concurrent_update`", body = Problem, content_type = "application/problem+json")))]
pub async fn leave(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    let me = caller.member.clone();
    end_membership(&ctx, &caller, me, AuditAction::MemberLeave).await?;
    Ok(ApiResponse::no_content())
}

/// Ends a membership (removal by an admin, or leaving), reading it again when it changed
/// meanwhile.
async fn end_membership(ctx: &Ctx, caller: &Caller, read: Membership, action: AuditAction) -> Result<(), ApiError> {
    let user = &read.user_id.clone();
    retry::on_change(
        read,
        move |target| async move { end_one(ctx, caller, target, action).await },
        move || async move { membership(ctx, &caller.org.id, user).await },
        member_error(MemberError::Changed),
    )
    .await
}

/// One try at ending a membership: its class places go with it where the class still
/// exists.
async fn end_one(ctx: &Ctx, caller: &Caller, target: Membership, action: AuditAction) -> Result<Attempt<()>, ApiError> {
    let ids = target.class_ids();
    let existing: BTreeSet<ClassId> = if ids.is_empty() {
        BTreeSet::new()
    } else {
        ctx.store().classes_by_id(&caller.org.id, &ids).await?.into_iter().map(|c| c.id).collect()
    };
    let existing_places = existing_places(ctx, &target).await?;
    let audit = caller.audit(action, "member", target.user_id.as_str()).before(target.summary());
    let removed = ctx.store().remove_member(&target, &existing, &existing_places, Some(&audit)).await;
    retry::outcome(removed, |e| matches!(e, MemberError::Changed))
}

/// The member's groups and courses that still exist (read in one round trip, none when
/// they have no places).
async fn existing_places(ctx: &Ctx, m: &Membership) -> Result<Existing, ApiError> {
    let courses: Vec<CourseId> =
        m.course_ids.iter().chain(&m.teaching_course_ids).cloned().collect::<BTreeSet<_>>().into_iter().collect();
    let (groups, courses) = ctx.store().existing(&m.org_id, &m.group_ids, &courses).await?;
    Ok(Existing { groups, courses })
}
