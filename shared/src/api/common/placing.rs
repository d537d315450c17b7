//! Putting people into groups and courses, shared by the group and course routes and by
//! group invitations: who is added, in bounded transactions, with the audit entry and the
//! "added to group" email of each.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::access::Caller;
use super::grants::field_errors;
use super::views::GroupView;
use crate::domain::groups::user_list;
use crate::domain::AuditAction;
use crate::domain::{
    AuditEntry, Course, Group, Membership, Org, OrgId, OutboxEvent, PlaceKind, Role, RoleGrant, Timestamp, UserId,
};
use crate::domain::{GroupRole, InvitationId, Naming, Place, PlaceIn};
use crate::http::Code;
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::page::{Cursor, PageQuery};
use crate::store::groups::{AddRecord, Added, Entry, GroupError};
use crate::Ctx;

/// Where people are put, and by what right (checked again in each transaction of the add:
/// [`Entry`]).
#[derive(Clone, Copy)]
pub enum Container<'a> {
    /// A group, by the actor's right over it: an admin, or a teacher of the group; in the
    /// role given (or each as [`GroupRole::of`] their roles).
    Group(&'a Group, Option<GroupRole>),
    /// A group just made from a course, by an admin or the course's teacher: the course's
    /// students only.
    NewGroupOf(&'a Group, &'a Course),
    /// A group linked to a course: the course's teachers, as the group's teachers.
    TeachersOf(&'a Group, &'a Course),
    /// A group an email invitation names, by the invitee's acceptance of it, in the role it
    /// offers.
    Invited { group: &'a Group, invitation: &'a InvitationId, role: GroupRole },
    /// A course: members holding the student role.
    Course(&'a Course),
}

impl Container<'_> {
    pub fn kind(&self) -> PlaceKind {
        self.entry().kind()
    }

    /// The group or course people are put in.
    pub fn place_in(&self) -> PlaceIn<'_> {
        match self {
            Container::Group(g, _)
            | Container::NewGroupOf(g, _)
            | Container::TeachersOf(g, _)
            | Container::Invited { group: g, .. } => PlaceIn::Group(&g.id),
            Container::Course(c) => PlaceIn::Course(&c.id),
        }
    }

    /// The group's or course's ID.
    pub fn id(&self) -> &str {
        match self {
            Container::Group(g, _)
            | Container::NewGroupOf(g, _)
            | Container::TeachersOf(g, _)
            | Container::Invited { group: g, .. } => g.id.as_str(),
            Container::Course(c) => c.id.as_str(),
        }
    }

    fn group(&self) -> Option<&Group> {
        match self {
            Container::Group(g, _)
            | Container::NewGroupOf(g, _)
            | Container::TeachersOf(g, _)
            | Container::Invited { group: g, .. } => Some(g),
            Container::Course(_) => None,
        }
    }

    fn entry(&self) -> Entry<'_> {
        match self {
            Container::Group(_, role) => Entry::ByMember(*role),
            Container::NewGroupOf(_, c) => Entry::FromCourse(&c.id),
            Container::TeachersOf(_, c) => Entry::Teaching(&c.id),
            Container::Invited { invitation, role, .. } => Entry::Invited { invitation, role: *role },
            Container::Course(_) => Entry::Enrol,
        }
    }
}

/// Whether the caller sees who is in a group: admins, its members, its course's teachers
/// (while they hold the teacher role).
pub fn sees_members(caller: &Caller, g: &Group) -> bool {
    let me = &caller.member;
    caller.is_admin()
        || me.group_ids.contains(&g.id)
        || g.course_id.as_ref().is_some_and(|c| me.teaching_course_ids.contains(c) && me.has_role(Role::Teacher))
}

/// Who runs a course (sees and enrolls its students, makes and links its groups): admins,
/// and its teachers while they hold the teacher role.
pub fn runs(caller: &Caller, c: &Course) -> bool {
    caller.is_admin() || (caller.has_role(Role::Teacher) && c.has_teacher(&caller.member.user_id))
}

/// Whether the caller may put people into a group, take its students out, set their
/// roles in it and moderate its posts and files (the rule every path into a group follows,
/// checked again in the transaction): an admin, or a teacher of the group.
pub fn may_enter(caller: &Caller, g: &Group) -> bool {
    caller.is_admin() || caller.member.teaches_group(&g.id)
}

/// What became of one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlaceStatus {
    Added,
    /// Already there: nothing changed (and no email).
    AlreadyMember,
    /// Not a member of the organization (or not a user ID at all).
    NotMember,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceResult {
    pub user_id: String,
    pub status: PlaceStatus,
}

/// One result per person, in the order given.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "results": [
        {"user_id": "c5a7e930-2d4b-4e1f-8a6c-9b3d7f0e1a25", "status": "added"},
        {"user_id": "9af49740-96f5-40ee-9e25-02420ae59635", "status": "already_member"},
        {"user_id": "d55abb44-a2d2-4041-afe1-ba56f96678d0", "status": "not_member"}
    ]
}))]
pub struct PlaceResults {
    pub results: Vec<PlaceResult>,
}

/// A person in a group or course.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "user_id": "c5a7e930-2d4b-4e1f-8a6c-9b3d7f0e1a25",
    "name": "Михаил Иванов",
    "roles": [{"role": "student", "class_ids": ["01m115ebsrwdyfqatyynem1n18"]}],
    "added_at": "2026-09-01T07:02:48.155Z",
    "notify": true,
    "group_role": "student"
}))]
pub struct PlaceView {
    pub user_id: String,
    pub name: String,
    /// Their roles in the organization.
    pub roles: Vec<RoleGrant>,
    pub added_at: Timestamp,
    /// A group member's choice to get the group's announcement emails (courses: absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<bool>,
    /// Their role in a group: its `teacher`s add and remove its students, post
    /// announcements and moderate; its `student`s take part (courses: absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_role: Option<GroupRole>,
}

impl PlaceView {
    pub fn of(kind: PlaceKind, p: &Place, m: &Membership) -> Self {
        PlaceView {
            user_id: p.user_id.to_string(),
            name: m.name.clone(),
            roles: m.roles.clone(),
            added_at: p.added_at,
            notify: (kind == PlaceKind::Group).then_some(!p.muted),
            group_role: (kind == PlaceKind::Group).then_some(p.role.unwrap_or(GroupRole::Student)),
        }
    }

    /// A page of the people in a group or course: their places, paged in the database,
    /// with their memberships (one batch read).
    pub async fn page(ctx: &Ctx, org: &OrgId, of: PlaceIn<'_>, page: &PageQuery) -> Result<Page<PlaceView>, ApiError> {
        let kind = of.kind();
        let (places, members, next) = placed(ctx, org, of, page).await?;
        let items = places
            .iter()
            .filter_map(|p| {
                let m = members.iter().find(|m| m.user_id == p.user_id)?;
                Some(PlaceView::of(kind, p, m))
            })
            .collect();
        Ok(Page::new(items, next))
    }

    /// The members of a page of places, as the members list shows them.
    pub async fn members(
        ctx: &Ctx,
        org: &OrgId,
        of: PlaceIn<'_>,
        page: &PageQuery,
    ) -> Result<(Vec<Membership>, Option<Cursor>), ApiError> {
        let (_, mut members, next) = placed(ctx, org, of, page).await?;
        members.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        Ok((members, next))
    }
}

/// A page of places in a group or course and the memberships of their people.
async fn placed(
    ctx: &Ctx,
    org: &OrgId,
    of: PlaceIn<'_>,
    page: &PageQuery,
) -> Result<(Vec<Place>, Vec<Membership>, Option<Cursor>), ApiError> {
    let (places, next) = ctx.store().places_page(org, of, page).await?;
    let ids: Vec<UserId> = places.iter().map(|p| p.user_id.clone()).collect();
    let members = ctx.store().memberships(org, &ids).await?;
    Ok((places, members, next))
}

/// Who acts, where.
pub struct Acting<'a> {
    pub org: &'a Org,
    pub actor: &'a Membership,
}

impl<'a> From<&'a Caller> for Acting<'a> {
    fn from(c: &'a Caller) -> Self {
        Acting { org: &c.org, actor: &c.member }
    }
}

impl Acting<'_> {
    fn audit<T: AsRef<str> + ?Sized>(&self, action: AuditAction, target_type: &str, target_id: &T) -> AuditEntry {
        let actor = crate::domain::Actor { id: self.actor.user_id.clone(), name: self.actor.name.clone() };
        AuditEntry::new(&self.org.id, &actor, action, target_type, target_id).as_admin(self.actor.admin)
    }
}

/// Adds people by user ID (as given: text that is no member's ID is `not_member`): reads
/// their memberships and places (two batch reads), then adds those who are members and
/// not there yet.
pub async fn add_by_ids(
    ctx: &Ctx,
    acting: Acting<'_>,
    container: Container<'_>,
    raw: &[String],
) -> Result<PlaceResults, ApiError> {
    let ids: Vec<UserId> = raw.iter().filter_map(|u| UserId::parse(u)).collect();
    let org = &acting.org.id;
    let (members, places) =
        tokio::try_join!(ctx.store().memberships(org, &ids), ctx.store().places_of(org, container.place_in(), &ids))?;
    match container {
        Container::Course(_) => students_only(&members)?,
        Container::Group(_, Some(GroupRole::Teacher)) => teachers_only(&members)?,
        _ => {}
    }
    let present: HashSet<&UserId> = places.iter().map(|p| &p.user_id).collect();
    let mut outcome: BTreeMap<String, PlaceStatus> = BTreeMap::new();
    for p in &places {
        outcome.insert(p.user_id.to_string(), PlaceStatus::AlreadyMember);
    }
    let todo: Vec<Membership> = members.into_iter().filter(|m| !present.contains(&m.user_id)).collect();
    for (user, added) in add_people(ctx, acting, container, todo).await? {
        outcome.insert(user.to_string(), status(added));
    }
    let results = raw
        .iter()
        .map(|u| PlaceResult {
            user_id: u.clone(),
            status: outcome.get(u.as_str()).copied().unwrap_or(PlaceStatus::NotMember),
        })
        .collect();
    Ok(PlaceResults { results })
}

/// A course's students hold the student role: 422 `not_a_student` naming those who do
/// not, before anything is written.
fn students_only(members: &[Membership]) -> Result<(), ApiError> {
    without(members, Role::Student).map_or(Ok(()), |who| Err(not_a_student(&who)))
}

/// The user IDs of those of `members` who do not hold `role`, sorted and joined; `None`
/// when all do.
fn without(members: &[Membership], role: Role) -> Option<String> {
    let mut others: Vec<&str> = members.iter().filter(|m| !m.has_role(role)).map(|m| m.user_id.as_str()).collect();
    others.sort_unstable();
    (!others.is_empty()).then(|| others.join(", "))
}

fn not_a_student(who: &str) -> ApiError {
    ApiError::Unprocessable {
        code: Code::NotAStudent,
        detail: format!(
            "A course's students hold the student role in the organization; not a student here: {who}. Nothing was enrolled."
        ),
    }
}

/// A group's teachers hold the teacher role: 422 `not_a_teacher` naming those who do not,
/// before anything is written.
fn teachers_only(members: &[Membership]) -> Result<(), ApiError> {
    without(members, Role::Teacher).map_or(Ok(()), |who| Err(not_a_teacher(&who)))
}

fn not_a_teacher(who: &str) -> ApiError {
    ApiError::Unprocessable {
        code: Code::NotATeacher,
        detail: format!(
            "A group's teachers hold the teacher role in the organization; not a teacher here: {who}. Nothing was changed."
        ),
    }
}

fn status(a: Added) -> PlaceStatus {
    match a {
        Added::Added => PlaceStatus::Added,
        Added::AlreadyIn => PlaceStatus::AlreadyMember,
        Added::NotMember => PlaceStatus::NotMember,
    }
}

/// Adds members (as read) to a group or course: one audit entry per transaction naming
/// the people it added, and for a group one event whose email goes to each of them.
pub async fn add_people(
    ctx: &Ctx,
    acting: Acting<'_>,
    container: Container<'_>,
    people: Vec<Membership>,
) -> Result<Vec<(UserId, Added)>, ApiError> {
    if people.is_empty() {
        return Ok(Vec::new());
    }
    let (action, target) = match container {
        Container::Course(_) => (AuditAction::CourseStudentsAdd, "course"),
        _ => (AuditAction::GroupMembersAdd, "group"),
    };
    let role = |user: &UserId| {
        let m = people.iter().find(|m| &m.user_id == user)?;
        container.entry().role_of(m).map(GroupRole::name)
    };
    let audit = |users: &[UserId]| {
        let after = match container {
            Container::Course(_) => json!({"user_ids": users}),
            _ => json!({
                "user_ids": users,
                "group_roles": users.iter().map(|u| (u.to_string(), role(u))).collect::<BTreeMap<_, _>>(),
            }),
        };
        acting.audit(action, target, container.id()).after(after)
    };
    let event = |users: &[UserId]| {
        container.group().map(|g| OutboxEvent::AddedToGroup {
            org_id: acting.org.id.clone(),
            org_name: acting.org.name.clone(),
            group_id: g.id.to_string(),
            group_name: g.name.clone(),
            user_ids: users.to_vec(),
            by: acting.actor.name.clone(),
        })
    };
    let record = AddRecord { audit: &audit, event: &event };
    let by = &acting.actor.user_id;
    let store = ctx.store();
    match container {
        Container::TeachersOf(g, c) => store.seat_teachers(&acting.org.id, &c.id, &g.id, &people, by, &record).await,
        _ => store.add_places(container.entry(), &acting.org.id, container.place_in(), &people, by, &record).await,
    }
    .map_err(group_error)
}

/// A refused change to a group or course as its problem.
pub fn group_error(e: GroupError) -> ApiError {
    match e {
        GroupError::NotFound => ApiError::NotFound("group or course"),
        GroupError::Changed => ApiError::conflict(
            Code::ConcurrentUpdate,
            "It was changed by someone else meanwhile; read it again and retry.",
        ),
        GroupError::AlreadyLinked => ApiError::conflict(
            Code::GroupAlreadyLinked,
            "This group is linked to another course: unlink it there first (a group has at most one course).",
        ),
        GroupError::TooManyLinked => ApiError::conflict(
            Code::TooManyLinkedGroups,
            format!("A course has at most {} linked groups.", crate::domain::groups::MAX_LINKED_GROUPS),
        ),
        GroupError::NotATeacher(t) => {
            ApiError::validation("teacher_ids", format!("{t} is not a member holding the teacher role"))
        }
        GroupError::NoPlace => ApiError::NotFound("member"),
        GroupError::NotAllowed => ApiError::Forbidden("put people into a group you are not a teacher in"),
        GroupError::NotAStudent(u) => not_a_student(u.as_str()),
        GroupError::NotAGroupTeacher(u) => not_a_teacher(u.as_str()),
        GroupError::Store(e) => e.into(),
    }
}

impl From<GroupError> for ApiError {
    fn from(e: GroupError) -> Self {
        group_error(e)
    }
}

pub fn group_answer(status: http::StatusCode, g: &Group) -> Result<ApiResponse, ApiError> {
    Ok(ApiResponse::json(status, &GroupView::from(g))?.with_etag(g.version))
}

pub fn naming(name: &str, description: Option<&str>) -> Result<Naming, ApiError> {
    Naming::parse(name, description).map_err(field_errors)
}

/// What audit entries record of a group.
pub fn group_summary(g: &Group) -> serde_json::Value {
    json!({"name": g.name, "description": g.description, "course_id": g.course_id})
}

/// `?mine=`: true or false.
pub fn mine(req: &ApiRequest) -> Result<bool, ApiError> {
    match req.query_param("mine") {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::validation("mine", "must be true or false")),
    }
}

/// People to put into a group, and in which role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "user_ids": ["c5a7e930-2d4b-4e1f-8a6c-9b3d7f0e1a25", "9af49740-96f5-40ee-9e25-02420ae59635"],
    "group_role": "student"
}))]
pub struct AddGroupMembers {
    /// 1-100 user IDs of the organization's members (one given twice is answered once).
    pub user_ids: Vec<String>,
    /// Their role in the group. Absent: each a `teacher` when they hold the organization's
    /// teacher role, a `student` otherwise. `teacher` needs the teacher role (422
    /// `not_a_teacher`, nothing added).
    pub group_role: Option<GroupRole>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user_ids": ["c5a7e930-2d4b-4e1f-8a6c-9b3d7f0e1a25", "9af49740-96f5-40ee-9e25-02420ae59635", "d55abb44-a2d2-4041-afe1-ba56f96678d0"]}))]
pub struct AddPeople {
    /// 1-100 user IDs of the organization's members (one given twice is answered once).
    pub user_ids: Vec<String>,
}

pub fn people(body: &AddPeople) -> Result<Vec<String>, ApiError> {
    user_list(&body.user_ids).map_err(|m| ApiError::validation("user_ids", m))
}

pub fn group_people(body: &AddGroupMembers) -> Result<Vec<String>, ApiError> {
    user_list(&body.user_ids).map_err(|m| ApiError::validation("user_ids", m))
}
