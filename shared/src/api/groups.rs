//! Groups (R7.1, R7.4, R7.5): admins make and edit them and add members from the
//! organization's members, several at once; members see the list; a group's members,
//! its course's teachers and admins see who is in it.

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::common::access::{member, member_and, user_param, Caller};
use super::common::placing::{
    add_by_ids, group_answer, group_error, group_people, group_summary, may_enter, mine, naming, sees_members,
    AddGroupMembers, Container, PlaceResults, PlaceView,
};
use super::common::views::GroupView;
use crate::domain::AuditAction;
use crate::domain::{Group, GroupId, GroupRole, Patch, PlaceIn, PlaceKind, Timestamp, UserId};
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::objects;
use crate::store::files::FileError;
use crate::store::groups::GroupError;
use crate::store::orgs::Also;
use crate::Ctx;

/// The caller and the group of the path (404 when there is none), in one round trip.
async fn caller_and_group(ctx: &Ctx, req: &ApiRequest) -> Result<(Caller, Group), ApiError> {
    let id: GroupId = req.path("id")?;
    let (caller, mut read) = member_and(ctx, req, &[Also::Group(id.clone())]).await?;
    let group = read.group(&id)?.ok_or(ApiError::NotFound("group"))?;
    Ok((caller, group))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Математический кружок",
    "description": "Задачи повышенной сложности для 5–6 классов.\nЗанятия по средам в 15:30, кабинет 214."
}))]
pub struct CreateGroup {
    /// One line, up to 200 characters.
    pub name: String,
    /// A short description; line breaks are kept.
    pub description: Option<String>,
}

/// Creates a group (admins). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/orgs/{org}/groups", tag = "groups", request_body = CreateGroup,
    params(("org" = String, Path, description = "organization ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 201, description = "Created", body = GroupView, headers(("ETag" = String), ("Location" = String)))))]
pub async fn create(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    caller.require_admin("create groups")?;
    let body: CreateGroup = req.json()?;
    let naming = naming(&body.name, body.description.as_deref())?;
    let group = Group::new(&caller.org.id, naming, None, Timestamp::now());
    let audit = caller.audit(AuditAction::GroupCreate, "group", &group.id).after(group_summary(&group));
    ctx.store().create_group(&group, &audit).await?;
    let answer = group_answer(http::StatusCode::CREATED, &group)?;
    Ok(answer.with_header("location", &format!("/v1/orgs/{}/groups/{}", caller.org.id, group.id)))
}

/// The organization's groups, oldest first (members); `?mine=true`: the caller's own.
#[utoipa::path(get, path = "/v1/orgs/{org}/groups", tag = "groups",
    params(("org" = String, Path, description = "organization ID"),
           ("mine" = Option<bool>, Query, description = "only the groups the caller belongs to"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of groups", body = Page<GroupView>)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    let page = req.page_query()?;
    if mine(&req)? {
        let (ids, next) = page.slice(caller.member.group_ids.clone())?;
        let mut groups = ctx.store().groups_by_id(&caller.org.id, &ids).await?;
        groups.sort_by(|a, b| a.id.cmp(&b.id));
        return ApiResponse::ok(&Page::new(groups.iter().map(GroupView::from).collect(), next));
    }
    let (groups, next) = ctx.store().groups_page(&caller.org.id, &page).await?;
    ApiResponse::ok(&Page::new(groups.iter().map(GroupView::from).collect(), next))
}

/// Reads a group (members).
#[utoipa::path(get, path = "/v1/orgs/{org}/groups/{id}", tag = "groups",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID")),
    responses((status = 200, description = "The group", body = GroupView, headers(("ETag" = String)))))]
pub async fn get(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (_, group) = caller_and_group(&ctx, &req).await?;
    group_answer(http::StatusCode::OK, &group)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Математический кружок",
    "description": "Задачи повышенной сложности для 5–6 классов.\nЗанятия по четвергам в 15:30, кабинет 214."
}))]
pub struct PatchGroup {
    pub name: Option<String>,
    /// `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
}

/// Renames a group or changes its description (admins). With `If-Match`, a stale ETag
/// gets 412.
#[utoipa::path(patch, path = "/v1/orgs/{org}/groups/{id}", tag = "groups", request_body = PatchGroup,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("If-Match" = Option<String>, Header, description = "the ETag the group was read with")),
    responses((status = 200, description = "The changed group", body = GroupView, headers(("ETag" = String))),
              (status = 409, description = "`concurrent_update` (without `If-Match`)")))]
pub async fn patch(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, old) = caller_and_group(&ctx, &req).await?;
    caller.require_admin("edit groups")?;
    let expected = req.if_match()?;
    let body: PatchGroup = req.json()?;
    if expected.is_some_and(|v| v != old.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let description = body.description.applied_to(old.description.clone());
    let named = naming(body.name.as_deref().unwrap_or(&old.name), description.as_deref())?;
    if named.name == old.name && named.description == old.description {
        return group_answer(http::StatusCode::OK, &old);
    }
    let new = Group {
        name: named.name,
        description: named.description,
        version: old.version + 1,
        updated_at: Timestamp::now(),
        ..old.clone()
    };
    let audit =
        caller.audit(AuditAction::GroupUpdate, "group", &old.id).before(group_summary(&old)).after(group_summary(&new));
    match ctx.store().update_group(&old, &new, &audit).await {
        Ok(()) => group_answer(http::StatusCode::OK, &new),
        Err(GroupError::Changed) if expected.is_some() => Err(ApiError::PreconditionFailed),
        Err(e) => Err(group_error(e)),
    }
}

/// Deletes a group (admins): its people stay members of the organization; a linked
/// course no longer lists it; its files go (their bytes no longer count for the
/// organization); its discussions and announcements can no longer be reached.
#[utoipa::path(delete, path = "/v1/orgs/{org}/groups/{id}", tag = "groups",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID")),
    responses((status = 204, description = "Deleted"), (status = 409, description = "`concurrent_update`")))]
pub async fn delete(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, group) = caller_and_group(&ctx, &req).await?;
    caller.require_admin("delete groups")?;
    // Files first: a deletion cut off half-way is finished by the same request again.
    for file in ctx.store().group_files(&caller.org.id, &group.id).await? {
        match ctx.store().delete_file(&file, &caller.member.user_id, None).await {
            Ok(()) | Err(FileError::Gone) => {}
            Err(e) => return Err(e.into()),
        }
        let key = file.object_key();
        if let Err(e) = objects::delete(ctx.s3(), &ctx.config().files_bucket, &key).await {
            tracing::error!(error = %e, key = %key, "a deleted group's file object could not be removed");
        }
    }
    let audit = caller.audit(AuditAction::GroupDelete, "group", &group.id).before(group_summary(&group));
    ctx.store().delete_group(&group, &audit).await?;
    Ok(ApiResponse::no_content())
}

/// The people of a group, by user ID (admins, its members, its course's teachers).
#[utoipa::path(get, path = "/v1/orgs/{org}/groups/{id}/members", tag = "groups",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of the group's members", body = Page<PlaceView>)))]
pub async fn members(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, group) = caller_and_group(&ctx, &req).await?;
    if !sees_members(&caller, &group) {
        return Err(ApiError::Forbidden("see the members of a group you are not in"));
    }
    let page = req.page_query()?;
    ApiResponse::ok(&PlaceView::page(&ctx, &caller.org.id, PlaceIn::Group(&group.id), &page).await?)
}

/// Adds members of the organization to a group, up to 100 at once (admins and the group's
/// teachers), as its teachers or students; each gets an email. The answer says per person
/// what happened.
#[utoipa::path(post, path = "/v1/orgs/{org}/groups/{id}/members", tag = "groups", request_body = AddGroupMembers,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID")),
    responses((status = 200, description = "One result per person, in the order given", body = PlaceResults),
              (status = 403, description = "`forbidden`: not an admin nor a teacher of the group"),
              (status = 422, description = "`not_a_teacher`: a group teacher named who does not hold the teacher role")))]
pub async fn add_members(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, group) = caller_and_group(&ctx, &req).await?;
    if !may_enter(&caller, &group) {
        return Err(ApiError::Forbidden("add members to a group you do not teach"));
    }
    let body: AddGroupMembers = req.json()?;
    let ids = group_people(&body)?;
    ApiResponse::ok(&add_by_ids(&ctx, (&caller).into(), Container::Group(&group, body.group_role), &ids).await?)
}

/// Takes one person out of a group (admins; the group's teachers take out its students);
/// they stay a member of the organization.
#[utoipa::path(delete, path = "/v1/orgs/{org}/groups/{id}/members/{user}", tag = "groups",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("user" = String, Path, description = "the member's user ID")),
    responses((status = 204, description = "Removed from the group"),
              (status = 403, description = "`forbidden`: not an admin nor a teacher of the group, or a teacher taking out a teacher")))]
pub async fn remove_member(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = user_param(&req, "member")?;
    let (caller, group) = caller_and_group(&ctx, &req).await?;
    if !may_enter(&caller, &group) {
        return Err(ApiError::Forbidden("remove members from a group you do not teach"));
    }
    let audit = caller.audit(AuditAction::GroupMemberRemove, "group", &group.id).before(json!({"user_id": user}));
    ctx.store().remove_place(&caller.org.id, PlaceIn::Group(&group.id), &user, &audit).await?;
    Ok(ApiResponse::no_content())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"notify": false, "group_role": "teacher"}))]
pub struct PatchGroupMember {
    /// Your own choice: `false`, no emails of the group's announcements (they stay
    /// readable in the group).
    pub notify: Option<bool>,
    /// Someone else's role in the group (admins and the group's teachers); `teacher` needs
    /// the organization's teacher role.
    pub group_role: Option<GroupRole>,
}

/// Changes a person's place in a group: the caller turns their own emails of the group's
/// announcements off or on again (`notify`; `{user}` is `me` or their own user ID: each
/// person decides for themself); admins and the group's teachers make someone else its
/// teacher or a student (`group_role`).
#[utoipa::path(patch, path = "/v1/orgs/{org}/groups/{id}/members/{user}", tag = "groups", request_body = PatchGroupMember,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("user" = String, Path, description = "`me`, or a user ID")),
    responses((status = 200, description = "The person's place in the group", body = PlaceView),
              (status = 403, description = "`forbidden`: another person's notifications, or a role set by someone who does not teach the group (or about themself)"),
              (status = 422, description = "`not_a_teacher`: a group teacher named who does not hold the teacher role")))]
pub async fn patch_member(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, group) = caller_and_group(&ctx, &req).await?;
    let raw = req.path_param("user")?;
    let me = &caller.member.user_id;
    let user = if raw == "me" { me.clone() } else { UserId::parse(raw).ok_or(ApiError::NotFound("group member"))? };
    let body: PatchGroupMember = req.json()?;
    if &user != me && !may_enter(&caller, &group) {
        return Err(ApiError::Forbidden("change another person's place in a group you do not teach"));
    }
    if body.notify.is_none() && body.group_role.is_none() {
        return Err(ApiError::validation("notify", "give notify, group_role or both"));
    }
    if body.notify.is_some() && &user != me {
        return Err(ApiError::Forbidden("change another person's notifications"));
    }
    if let Some(role) = body.group_role {
        if !may_enter(&caller, &group) {
            return Err(ApiError::Forbidden("set roles in a group you do not teach"));
        }
        if &user == me && !caller.is_admin() {
            return Err(ApiError::Forbidden("change your own role in a group"));
        }
        let audit = caller
            .audit(AuditAction::GroupMemberRole, "group", &group.id)
            .after(json!({"user_id": user, "group_role": role.name()}));
        ctx.store().set_group_role(&caller.org.id, &group.id, &user, role, &audit).await?;
    }
    if let Some(notify) = body.notify {
        let place = ctx.store().set_muted(&caller.org.id, &group.id, me, !notify).await?;
        let place = place.ok_or(ApiError::NotFound("group member"))?;
        if body.group_role.is_none() {
            // Their own place, as written: nothing more to read.
            return ApiResponse::ok(&PlaceView::of(PlaceKind::Group, &place, &caller.member));
        }
    }
    let (places, members) = tokio::try_join!(
        ctx.store().places_of(&caller.org.id, PlaceIn::Group(&group.id), std::slice::from_ref(&user)),
        ctx.store().memberships(&caller.org.id, std::slice::from_ref(&user)),
    )?;
    match (places.first(), members.first()) {
        (Some(place), Some(m)) => ApiResponse::ok(&PlaceView::of(PlaceKind::Group, place, m)),
        _ => Err(ApiError::NotFound("group member")),
    }
}
