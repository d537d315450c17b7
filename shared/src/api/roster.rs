//! The people of a school's journal (R4.7): admins list who joined (`linked`) and who is
//! still waiting, and resend a waiting person's roster invitation; a person whose
//! sign-in email differs from their record's asks to link it by their journal login,
//! which an admin confirms as a join request.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::{caller_id, identity, member_and};
use super::errors::request_error;
use crate::domain::{
    JoinRequest, JoinRequestStatus, OrgId, OutboxEvent, ProfileChanges, Role, RosterPerson, Timestamp,
};
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::store::orgs::Also;
use crate::Ctx;

use super::views::JoinRequestView;

/// The longest sourcedId or journal login taken.
const MAX_ID: usize = 255;
/// How soon a roster invitation may be sent again.
const RESEND_AFTER: time::Duration = time::Duration::hours(1);

/// A person of the school's journal.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "u-10288",
    "name": "Артём Волков",
    "role": "student",
    "roster_role": "student",
    "email": "artem.volkov@mail.ru",
    "identifier": "volkov.a",
    "linked": false,
    "user_id": null,
    "linked_at": null,
    "invited_at": "2026-12-06T08:14:09.388Z",
    "class_ids": ["01m115ebsrwdyfqatyynem1n18"],
    "course_ids": ["01m1dvv999dyd4str94fezzgfg"]
}))]
pub struct RosterPersonView {
    /// Their sourcedId in the journal.
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The journal's own word for the role (`guardian`, `administrator`).
    pub roster_role: String,
    pub email: Option<String>,
    /// Their journal login, by which they can link from their side.
    pub identifier: Option<String>,
    /// Whether they joined: then `user_id` is their member ID.
    pub linked: bool,
    pub user_id: Option<String>,
    pub linked_at: Option<Timestamp>,
    /// When a roster invitation was last sent to them.
    pub invited_at: Option<Timestamp>,
    /// The classes their enrollments place them in.
    pub class_ids: Vec<String>,
    /// The courses (the journal's scheduled classes) their enrollments place them in.
    pub course_ids: Vec<String>,
}

impl From<&RosterPerson> for RosterPersonView {
    fn from(p: &RosterPerson) -> Self {
        let (mut class_ids, mut course_ids): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
        for place in p.places.values() {
            let (list, id) = match &place.course_id {
                Some(course) => (&mut course_ids, course),
                None => (&mut class_ids, &place.class_id),
            };
            if !list.contains(id) {
                list.push(id.clone());
            }
        }
        RosterPersonView {
            id: p.sourced_id.clone(),
            name: p.name.clone(),
            role: p.role,
            roster_role: p.roster_role.clone(),
            email: p.email.clone(),
            identifier: p.identifier.clone(),
            linked: p.user_id.is_some(),
            user_id: p.user_id.as_ref().map(|u| u.to_string()),
            linked_at: p.linked_at,
            invited_at: p.invited_at,
            class_ids,
            course_ids,
        }
    }
}

fn record_id(req: &ApiRequest) -> Result<String, ApiError> {
    let id = req.path_param("id")?;
    if id.is_empty() || id.chars().count() > MAX_ID {
        return Err(ApiError::NotFound("roster record"));
    }
    Ok(id.to_string())
}

/// The organization's people from its journal (admins): all, or with `linked=false`
/// those still waiting to join (with `linked=true` those who joined). A page may hold
/// fewer than `limit` with a cursor to go on.
#[utoipa::path(get, path = "/v1/orgs/{org}/roster", tag = "imports",
    params(("org" = String, Path, description = "organization ID"),
           ("linked" = Option<bool>, Query, description = "`false`: those still waiting; `true`: those who joined"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of roster records", body = Page<RosterPersonView>),
              (status = 422, description = "`validation_failed`: `linked` is not true or false")))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let linked = match req.query_param("linked") {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::validation("linked", "is true or false")),
    };
    let page = req.page_query();
    let (caller, _) = member_and(&ctx, &req, &[]).await?;
    caller.require_admin("see the school's journal")?;
    let (people, next) = ctx.store().roster_page(&caller.org.id, linked?, &page?).await?;
    ApiResponse::ok(&Page::new(people.iter().map(RosterPersonView::from).collect(), next))
}

/// Sends a waiting person their roster invitation email again (admins): signing in with
/// their record's email makes them a member. At most once an hour per person.
#[utoipa::path(post, path = "/v1/orgs/{org}/roster/{id}/invite", tag = "imports",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "the record's sourcedId")),
    responses((status = 202, description = "Sent", body = RosterPersonView),
              (status = 409, description = "`roster_record_linked` (they joined already) or `invitation_recently_sent` (within the hour)"),
              (status = 422, description = "`no_email`: the journal gives this person no email")))]
pub async fn invite(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = record_id(&req)?;
    let (caller, mut read) = member_and(&ctx, &req, &[Also::RosterPerson(id.clone())]).await?;
    caller.require_admin("invite the school's journal")?;
    let mut person = read.roster_person(&id)?.ok_or(ApiError::NotFound("roster record"))?;
    if person.user_id.is_some() {
        return Err(linked_already());
    }
    let Some(email) = person.email.clone() else {
        return Err(ApiError::Unprocessable {
            code: "no_email",
            detail: "The school's journal gives this person no email: they can link by their journal login.".into(),
        });
    };
    let now = Timestamp::now();
    let event = OutboxEvent::RosterInvitation {
        org_id: caller.org.id.clone(),
        org_name: caller.org.name.clone(),
        roster_id: person.sourced_id.clone(),
        email,
        name: person.name.clone(),
        role: person.role,
        by: caller.member.name.clone(),
    };
    let since = now.plus(-RESEND_AFTER);
    if !ctx.store().invite_roster_person(&caller.org.id, &id, now, Some(since), &event).await? {
        return match ctx.store().roster_person(&caller.org.id, &id).await? {
            Some(p) if p.user_id.is_some() => Err(linked_already()),
            Some(_) => Err(ApiError::conflict(
                "invitation_recently_sent",
                "A roster invitation was sent to this person within the hour; wait before sending it again.",
            )),
            None => Err(ApiError::NotFound("roster record")),
        };
    }
    person.invited_at = Some(now);
    ApiResponse::json(http::StatusCode::ACCEPTED, &RosterPersonView::from(&person))
}

fn linked_already() -> ApiError {
    ApiError::conflict("roster_record_linked", "This person of the journal has joined already.")
}

/// A request to link a roster record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"org_id": "k7m3xq9pza", "identifier": "volkov.a"}))]
pub struct NewRosterLink {
    /// The organization's ID (the school gives it).
    pub org_id: String,
    /// Your login in the school's journal.
    pub identifier: String,
}

/// Asks to join an organization as a person of its journal, found by journal login
/// (anyone signed in, for a sign-in email other than the journal's): a join request with
/// the roles and classes of the record, which an admin accepts or rejects.
#[utoipa::path(post, path = "/v1/me/roster-links", tag = "me", request_body = NewRosterLink,
    responses((status = 201, description = "The join request", body = JoinRequestView, headers(("Location" = String))),
              (status = 404, description = "`not_found`: no person waits with this login in this organization's journal (the same answer whatever the reason: unknown organization or login, joined already, no class yet)"),
              (status = 409, description = "`already_member` or `join_request_pending`"),
              (status = 422, description = "`validation_failed`")))]
pub async fn link(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = caller_id(&req)?;
    let body: NewRosterLink = req.json()?;
    let identifier = body.identifier.trim();
    if identifier.is_empty() || identifier.chars().count() > MAX_ID {
        return Err(ApiError::validation("identifier", format!("is your journal login, 1-{MAX_ID} characters")));
    }
    // One answer for an unknown organization, an unknown login, a person who joined
    // already and a record that gives no role yet: the journal is not to be probed.
    let not_waiting = || ApiError::NotFound("person waiting with this login in the school's journal");
    let org = OrgId::parse(&body.org_id).ok_or_else(not_waiting)?;
    let org = ctx.store().org(&org).await?.ok_or_else(not_waiting)?;
    let person = ctx.store().roster_person_by_identifier(&org.id, identifier).await?.ok_or_else(not_waiting)?;
    match &person.user_id {
        Some(u) if *u == user => {
            return Err(ApiError::conflict("already_member", "You are a member of this organization already."))
        }
        Some(_) => return Err(not_waiting()),
        None => {}
    }
    let roles = crate::roster::link::grants(&ctx, &person).await?.ok_or_else(not_waiting)?;
    let profile = ctx.store().upsert_user(&identity(&req)?, &ProfileChanges::default()).await?;
    let now = Timestamp::now();
    let request = JoinRequest {
        id: ulid::Ulid::new().to_string().to_lowercase(),
        org_id: org.id.clone(),
        user_id: user.clone(),
        name: profile.name.clone(),
        email: profile.email.clone().filter(|_| profile.email_verified),
        roles,
        status: JoinRequestStatus::Pending,
        reason: None,
        link_id: None,
        roster_id: Some(person.sourced_id.clone()),
        created_at: now,
        decided_at: None,
        decided_by: None,
        version: 1,
    };
    let event = OutboxEvent::JoinRequestSubmitted {
        org_id: org.id.clone(),
        org_name: org.name.clone(),
        request_id: request.id.clone(),
        user_id: user,
        name: request.name.clone(),
        roles: request.roles.clone(),
    };
    ctx.store().submit_join_request(&request, None, now, &event).await.map_err(request_error)?;
    ApiResponse::created(&JoinRequestView::from(&request), &format!("/v1/me/join-requests/{}", request.id))
}
