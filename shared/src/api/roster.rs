//! The people of a school's journal (R4.7): admins list who joined (`linked`) and who is
//! still waiting, and resend a waiting person's roster invitation; a person whose
//! sign-in email differs from their record's asks to link it by their journal login,
//! which an admin confirms as a join request.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::common::access::{caller_id, identity, member_and};
use super::common::errors::{invitation_error, request_error, roster_record_linked};
use crate::domain::{
    JoinRequest, JoinRequestId, JoinRequestStatus, OrgId, OutboxEvent, ProfileChanges, Role, RosterPerson, SourcedId,
    Timestamp,
};
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::store::invitations::InvitationError;
use crate::store::orgs::Also;
use crate::store::roster::RosterInvite;
use crate::Ctx;

use super::common::views::JoinRequestView;
use crate::http::Code;

/// The longest journal login taken.
pub const MAX_ID: usize = 255;
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
    "course_ids": ["01m1dvv999dyd4str94fezzgfg"],
    "child_ids": []
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
    /// The classes their enrollments place them in; for a parent, their children's
    /// current classes.
    pub class_ids: Vec<String>,
    /// The courses (the journal's scheduled classes) their enrollments place them in.
    pub course_ids: Vec<String>,
    /// A parent's children: the records (sourcedIds) the journal names as theirs
    /// (`agentSourcedIds`) that it has; empty for the others.
    pub child_ids: Vec<String>,
}

/// The current class of each child the parents among `people` name, by sourcedId (a
/// child without a class maps to none): one batch read a hundred children, none without
/// parents.
async fn children(
    ctx: &Ctx,
    org: &OrgId,
    people: &[RosterPerson],
) -> Result<HashMap<SourcedId, Option<String>>, ApiError> {
    let named: BTreeSet<SourcedId> =
        people.iter().filter(|p| p.role == Role::Parent).flat_map(|p| p.agent_ids.iter().cloned()).collect();
    if named.is_empty() {
        return Ok(HashMap::new());
    }
    let found = ctx.store().roster_people(org, &named.into_iter().collect::<Vec<_>>()).await?;
    Ok(found.into_iter().map(|(id, c)| (id, c.record.student_class().map(str::to_owned))).collect())
}

impl RosterPersonView {
    /// The record as admins see it; `children` gives the classes of the children a parent
    /// names ([`children`]).
    fn of(p: &RosterPerson, children: &HashMap<SourcedId, Option<String>>) -> Self {
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
        let mut child_ids: Vec<String> = Vec::new();
        if p.role == Role::Parent {
            for id in p.agent_ids.iter().filter(|id| children.contains_key(*id)) {
                if let Some(Some(class)) = children.get(id) {
                    if !class_ids.contains(class) {
                        class_ids.push(class.clone());
                    }
                }
                if !child_ids.iter().any(|c| c == id.as_str()) {
                    child_ids.push(id.to_string());
                }
            }
        }
        RosterPersonView {
            id: p.sourced_id.to_string(),
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
            child_ids,
        }
    }
}

/// The organization's people from its journal (admins): all, or with `linked=false`
/// those still waiting to join (with `linked=true` those who joined). A page may hold
/// fewer than `limit` with a cursor to go on. A parent's record lists their children
/// (`child_ids`) and the children's classes (`class_ids`): one more batch read a page
/// with parents (a hundred children a read).
#[utoipa::path(get, path = "/v1/orgs/{org}/roster", tag = "imports",
    params(("org" = String, Path, description = "organization ID"),
           ("linked" = Option<bool>, Query, description = "`false`: those still waiting; `true`: those who joined"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of roster records", body = Page<RosterPersonView>,
               example = json!({
                   "items": [
                       {
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
                           "course_ids": ["01m1dvv999dyd4str94fezzgfg"],
                           "child_ids": []
                       },
                       {
                           "id": "g-20411",
                           "name": "Елена Волкова",
                           "role": "parent",
                           "roster_role": "guardian",
                           "email": "e.volkova@mail.ru",
                           "identifier": null,
                           "linked": false,
                           "user_id": null,
                           "linked_at": null,
                           "invited_at": null,
                           "class_ids": ["01m115ebsrwdyfqatyynem1n18"],
                           "course_ids": [],
                           "child_ids": ["u-10288"]
                       }
                   ],
                   "next_cursor": null
               })),
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
    let children = children(&ctx, &caller.org.id, &people).await?;
    ApiResponse::ok(&Page::new(people.iter().map(|p| RosterPersonView::of(p, &children)).collect(), next))
}

/// Sends a waiting person their roster invitation email again (admins): the email of
/// their record's offer, which whoever signs in with that address accepts or declines. At
/// most once an hour per person, within the organization's daily mail budget (shared with
/// email invitations). The answer is the same whoever owns the address (one who declined
/// the offer is not mailed again, and nothing says so).
#[utoipa::path(post, path = "/v1/orgs/{org}/roster/{id}/invite", tag = "imports",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "the record's sourcedId")),
    responses((status = 202, description = "Sent", body = RosterPersonView),
              (status = 409, description = "`roster_record_linked` (they joined already) or `invitation_recently_sent` (within the hour)"),
              (status = 422, description = "`no_email`: the journal gives this person no email"),
              (status = 429, description = "`daily_limit`: the organization's invitation emails for today are used up (`Retry-After`)")))]
pub async fn invite(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = req.path::<SourcedId>("id")?;
    let (caller, mut read) = member_and(&ctx, &req, &[Also::RosterPerson(id.clone())]).await?;
    caller.require_admin("invite the school's journal")?;
    let mut person = read.roster_person(&id)?.ok_or(ApiError::NotFound("roster record"))?;
    if person.user_id.is_some() {
        return Err(roster_record_linked());
    }
    let Some(email) = person.email.clone() else {
        return Err(ApiError::Unprocessable {
            code: Code::NoEmail,
            detail: "The school's journal gives this person no email: they can link by their journal login.".into(),
        });
    };
    let now = Timestamp::now();
    let event = OutboxEvent::RosterInvitation {
        org_id: caller.org.id.clone(),
        org_name: caller.org.name.clone(),
        roster_id: person.sourced_id.clone(),
        offer_id: person.offer_id.clone(),
        email,
        name: person.name.clone(),
        role: person.role,
        by: caller.member.name.clone(),
    };
    let since = now.plus(-RESEND_AFTER);
    match ctx.store().invite_roster_person(&caller.org.id, &id, now, Some(since), &event).await? {
        RosterInvite::Sent => {}
        RosterInvite::DailyLimit => return Err(invitation_error(InvitationError::DailyLimit)),
        RosterInvite::NotSent => {
            return match ctx.store().roster_person(&caller.org.id, &id).await? {
                Some(p) if p.user_id.is_some() => Err(roster_record_linked()),
                Some(_) => Err(ApiError::conflict(
                    Code::InvitationRecentlySent,
                    "A roster invitation was sent to this person within the hour; wait before sending it again.",
                )),
                None => Err(ApiError::NotFound("roster record")),
            }
        }
    }
    person.invited_at = Some(now);
    let children = children(&ctx, &caller.org.id, std::slice::from_ref(&person)).await?;
    ApiResponse::json(http::StatusCode::ACCEPTED, &RosterPersonView::of(&person, &children))
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

/// Asks to join an organization as a person of its journal, by journal login (anyone
/// signed in, for a sign-in email other than the journal's): a join request carrying the
/// login, made whatever the login, which an admin accepts (the person then joins with the
/// roles and classes of the record that has the login) or rejects. The answer is the same
/// whether or not a record has the login: the requester learns nothing of the journal. At
/// most 3 a day per person and organization.
#[utoipa::path(post, path = "/v1/me/roster-links", tag = "me", request_body = NewRosterLink,
    responses((status = 202, description = "The join request, waiting for an admin", body = JoinRequestView, headers(("Location" = String))),
              (status = 404, description = "`not_found`: no such organization"),
              (status = 409, description = "`already_member` or `join_request_pending`"),
              (status = 422, description = "`validation_failed`"),
              (status = 429, description = "`too_many_requests`: 3 requests to link by journal login in this organization today (`Retry-After`)")))]
pub async fn link(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = caller_id(&req)?;
    let body: NewRosterLink = req.json()?;
    let login = body.identifier.trim();
    if login.is_empty() || login.chars().count() > MAX_ID || login.chars().any(char::is_control) {
        return Err(ApiError::validation("identifier", format!("is your journal login, 1-{MAX_ID} characters")));
    }
    let org = OrgId::parse(&body.org_id).ok_or(ApiError::NotFound("organization"))?;
    let org = ctx.store().org(&org).await?.ok_or(ApiError::NotFound("organization"))?;
    let profile = ctx.store().upsert_user(&identity(&req)?, &ProfileChanges::default()).await?;
    let now = Timestamp::now();
    let request = JoinRequest {
        id: JoinRequestId::new(),
        org_id: org.id.clone(),
        user_id: user.clone(),
        name: profile.name.clone(),
        email: profile.email.clone().filter(|_| profile.email_verified),
        roles: Vec::new(),
        status: JoinRequestStatus::Pending,
        reason: None,
        link_id: None,
        roster_login: Some(login.to_string()),
        roster_id: None,
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
    let location = format!("/v1/me/join-requests/{}", request.id);
    Ok(ApiResponse::json(http::StatusCode::ACCEPTED, &JoinRequestView::from(&request))?
        .with_header("location", &location))
}
