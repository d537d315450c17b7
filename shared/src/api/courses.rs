//! Courses (R7.2-R7.4): admins make them with their teachers; admins and the course's
//! teachers enroll students and, from the course's students, make a linked group or link
//! an existing one with all, selected or no students.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::common::access::{member, member_and, user_param, Caller};
use super::common::grants::user_ids;
use super::common::placing::{
    add_by_ids, add_people, group_answer, group_error, group_summary, may_enter, mine, naming, people, runs, AddPeople,
    Container, PlaceResults, PlaceView,
};
use super::common::views::GroupView;
use crate::domain::groups::{user_list, MAX_TEACHERS};
use crate::domain::AuditAction;
use crate::domain::{Course, CourseId, Group, GroupId, GroupRole, Membership, Patch, PlaceIn, Timestamp, UserId};
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::store::groups::{Added, GroupError};
use crate::store::orgs::Also;
use crate::Ctx;

/// A course.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01m1dvv999dyd4str94fezzgfg",
    "name": "Олимпиадная математика",
    "description": "Подготовка к школьному и муниципальному этапам олимпиады.",
    "teacher_ids": ["5b9d1f3a-6c8e-4a2b-9d4f-7e1c3a5b8d06", "8d2e4b61-5c3a-4f9e-b7d0-1e6a9c3f2b84"],
    "student_count": 18,
    "linked_group_ids": ["01m1dvdy27k1ccphgvsq8593fy"],
    "created_at": "2026-09-01T06:52:30.377Z",
    "updated_at": "2026-09-01T06:58:14.020Z"
}))]
pub struct CourseView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// Members holding the teacher role.
    pub teacher_ids: Vec<String>,
    pub student_count: u64,
    /// Its groups ("related objects").
    pub linked_group_ids: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Course> for CourseView {
    fn from(c: &Course) -> Self {
        let mut teacher_ids: Vec<String> = c.teacher_ids.iter().map(UserId::to_string).collect();
        teacher_ids.sort();
        let mut linked_group_ids: Vec<String> = c.linked_group_ids.iter().map(GroupId::to_string).collect();
        linked_group_ids.sort();
        CourseView {
            id: c.id.to_string(),
            name: c.name.clone(),
            description: c.description.clone(),
            teacher_ids,
            student_count: c.student_count,
            linked_group_ids,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

fn course_answer(status: http::StatusCode, c: &Course) -> Result<ApiResponse, ApiError> {
    Ok(ApiResponse::json(status, &CourseView::from(c))?.with_etag(c.version))
}

/// The caller, the course of the path (404 when there is none) and any further items, in
/// one round trip.
async fn caller_and_course(ctx: &Ctx, req: &ApiRequest, also: &[Also]) -> Result<(Caller, Course, Read), ApiError> {
    let id: CourseId = req.path("id")?;
    let mut wanted = vec![Also::Course(id.clone())];
    wanted.extend_from_slice(also);
    let (caller, mut read) = member_and(ctx, req, &wanted).await?;
    let course = read.course(&id)?.ok_or(ApiError::NotFound("course"))?;
    Ok((caller, course, read))
}

type Read = crate::store::orgs::Read;

fn require_runs(caller: &Caller, c: &Course, action: &'static str) -> Result<(), ApiError> {
    if runs(caller, c) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(action))
    }
}

fn parse_teachers(raw: &[String]) -> Result<Vec<UserId>, ApiError> {
    let ids = user_ids(raw, "teacher_ids", MAX_TEACHERS, "teachers")?;
    Ok(ids.iter().filter_map(|t| UserId::parse(t)).collect())
}

fn summary(c: &Course) -> serde_json::Value {
    json!({"name": c.name, "description": c.description, "teacher_ids": CourseView::from(c).teacher_ids})
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Олимпиадная математика",
    "description": "Подготовка к школьному и муниципальному этапам олимпиады.",
    "teacher_ids": ["8d2e4b61-5c3a-4f9e-b7d0-1e6a9c3f2b84"]
}))]
pub struct CreateCourse {
    pub name: String,
    pub description: Option<String>,
    /// Members holding the teacher role (up to 10).
    #[serde(default)]
    pub teacher_ids: Vec<String>,
}

/// Creates a course with its teachers (admins). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/orgs/{org}/courses", tag = "courses", request_body = CreateCourse,
    params(("org" = String, Path, description = "organization ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 201, description = "Created", body = CourseView, headers(("ETag" = String), ("Location" = String)))))]
pub async fn create(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    caller.require_admin("create courses")?;
    let body: CreateCourse = req.json()?;
    let named = naming(&body.name, body.description.as_deref())?;
    let teacher_ids = parse_teachers(&body.teacher_ids)?;
    let course = Course::new(&caller.org.id, named, teacher_ids, Timestamp::now());
    let audit = caller.audit(AuditAction::CourseCreate, "course", &course.id).after(summary(&course));
    ctx.store().create_course(&course, &audit).await?;
    let answer = course_answer(http::StatusCode::CREATED, &course)?;
    Ok(answer.with_header("location", &format!("/v1/orgs/{}/courses/{}", caller.org.id, course.id)))
}

/// The organization's courses, oldest first (members); `?mine=true`: those the caller
/// studies or teaches.
#[utoipa::path(get, path = "/v1/orgs/{org}/courses", tag = "courses",
    params(("org" = String, Path, description = "organization ID"),
           ("mine" = Option<bool>, Query, description = "only the courses the caller studies or teaches"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of courses", body = Page<CourseView>)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    let page = req.page_query()?;
    if mine(&req)? {
        let me = &caller.member;
        let mut ids: Vec<CourseId> = me.course_ids.iter().chain(&me.teaching_course_ids).cloned().collect();
        ids.sort();
        ids.dedup();
        let (ids, next) = page.slice(ids)?;
        let mut courses = ctx.store().courses_by_id(&caller.org.id, &ids).await?;
        courses.sort_by(|a, b| a.id.cmp(&b.id));
        return ApiResponse::ok(&Page::new(courses.iter().map(CourseView::from).collect(), next));
    }
    let (courses, next) = ctx.store().courses_page(&caller.org.id, &page).await?;
    ApiResponse::ok(&Page::new(courses.iter().map(CourseView::from).collect(), next))
}

/// Reads a course (members).
#[utoipa::path(get, path = "/v1/orgs/{org}/courses/{id}", tag = "courses",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "course ID")),
    responses((status = 200, description = "The course", body = CourseView, headers(("ETag" = String)))))]
pub async fn get(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (_, course, _) = caller_and_course(&ctx, &req, &[]).await?;
    course_answer(http::StatusCode::OK, &course)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Олимпиадная математика",
    "description": "Подготовка к школьному и муниципальному этапам олимпиады.",
    "teacher_ids": ["5b9d1f3a-6c8e-4a2b-9d4f-7e1c3a5b8d06", "8d2e4b61-5c3a-4f9e-b7d0-1e6a9c3f2b84"]
}))]
pub struct PatchCourse {
    pub name: Option<String>,
    /// `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    /// All the course's teachers (replaces them).
    pub teacher_ids: Option<Vec<String>>,
}

/// Edits a course: name, description, teachers (admins). With `If-Match`, a stale ETag
/// gets 412.
#[utoipa::path(patch, path = "/v1/orgs/{org}/courses/{id}", tag = "courses", request_body = PatchCourse,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "course ID"),
           ("If-Match" = Option<String>, Header, description = "the ETag the course was read with")),
    responses((status = 200, description = "The changed course", body = CourseView, headers(("ETag" = String))),
              (status = 409, description = "`concurrent_update` (without `If-Match`)")))]
pub async fn patch(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, old, _) = caller_and_course(&ctx, &req, &[]).await?;
    caller.require_admin("edit courses")?;
    let expected = req.if_match()?;
    let body: PatchCourse = req.json()?;
    if expected.is_some_and(|v| v != old.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let description = body.description.applied_to(old.description.clone());
    let named = naming(body.name.as_deref().unwrap_or(&old.name), description.as_deref())?;
    let teacher_ids = match &body.teacher_ids {
        Some(t) => parse_teachers(t)?,
        None => old.teacher_ids.clone(),
    };
    let same_teachers = {
        let (mut a, mut b) = (teacher_ids.clone(), old.teacher_ids.clone());
        a.sort();
        b.sort();
        a == b
    };
    if named.name == old.name && named.description == old.description && same_teachers {
        return course_answer(http::StatusCode::OK, &old);
    }
    let new = Course {
        name: named.name,
        description: named.description,
        teacher_ids,
        version: old.version + 1,
        updated_at: Timestamp::now(),
        ..old.clone()
    };
    let audit = caller.audit(AuditAction::CourseUpdate, "course", &old.id).before(summary(&old)).after(summary(&new));
    match ctx.store().update_course(&old, &new, &audit).await {
        Ok(()) => {}
        Err(GroupError::Changed) if expected.is_some() => return Err(ApiError::PreconditionFailed),
        Err(e) => return Err(group_error(e)),
    }
    // Teachers who joined the course join its linked groups as their teachers.
    let joined: Vec<UserId> = new.teacher_ids.iter().filter(|t| !old.teacher_ids.contains(t)).cloned().collect();
    if !joined.is_empty() && !new.linked_group_ids.is_empty() {
        for group in ctx.store().groups_by_id(&caller.org.id, &new.linked_group_ids).await? {
            seat_teachers(&ctx, &caller, &new, &group, &joined).await?;
        }
    }
    course_answer(http::StatusCode::OK, &new)
}

/// Deletes a course (admins): its groups stay (unlinked), its people stay members.
#[utoipa::path(delete, path = "/v1/orgs/{org}/courses/{id}", tag = "courses",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "course ID")),
    responses((status = 204, description = "Deleted"), (status = 409, description = "`concurrent_update`")))]
pub async fn delete(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, course, _) = caller_and_course(&ctx, &req, &[]).await?;
    caller.require_admin("delete courses")?;
    let audit = caller.audit(AuditAction::CourseDelete, "course", &course.id).before(summary(&course));
    ctx.store().delete_course(&course, &audit).await?;
    Ok(ApiResponse::no_content())
}

/// The course's students, by user ID (admins and the course's teachers).
#[utoipa::path(get, path = "/v1/orgs/{org}/courses/{id}/students", tag = "courses",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "course ID"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of the course's students", body = Page<PlaceView>)))]
pub async fn students(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, course, _) = caller_and_course(&ctx, &req, &[]).await?;
    require_runs(&caller, &course, "see the students of a course you do not teach")?;
    let page = req.page_query()?;
    ApiResponse::ok(&PlaceView::page(&ctx, &caller.org.id, PlaceIn::Course(&course.id), &page).await?)
}

/// Enrolls members of the organization holding the student role in a course, up to 100 at
/// once (admins and the course's teachers). The answer says per person what happened.
#[utoipa::path(post, path = "/v1/orgs/{org}/courses/{id}/students", tag = "courses", request_body = AddPeople,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "course ID")),
    responses((status = 200, description = "One result per person, in the order given", body = PlaceResults),
              (status = 422, description = "`not_a_student`: a member named does not hold the student role (nothing enrolled)")))]
pub async fn add_students(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, course, _) = caller_and_course(&ctx, &req, &[]).await?;
    require_runs(&caller, &course, "enroll students in a course you do not teach")?;
    let body: AddPeople = req.json()?;
    let ids = people(&body)?;
    ApiResponse::ok(&add_by_ids(&ctx, (&caller).into(), Container::Course(&course), &ids).await?)
}

/// Takes a student out of a course (admins and the course's teachers).
#[utoipa::path(delete, path = "/v1/orgs/{org}/courses/{id}/students/{user}", tag = "courses",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "course ID"),
           ("user" = String, Path, description = "the student's user ID")),
    responses((status = 204, description = "Removed from the course")))]
pub async fn remove_student(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = user_param(&req, "student")?;
    let (caller, course, _) = caller_and_course(&ctx, &req, &[]).await?;
    require_runs(&caller, &course, "remove students from a course you do not teach")?;
    let audit = caller.audit(AuditAction::CourseStudentRemove, "course", &course.id).before(json!({"user_id": user}));
    ctx.store().remove_place(&caller.org.id, PlaceIn::Course(&course.id), &user, &audit).await?;
    Ok(ApiResponse::no_content())
}

/// Which of the course's students go into a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Students {
    /// Every student enrolled at this moment.
    All,
    /// Those in `user_ids` (each a student of the course).
    Selected,
    /// Nobody (linking an existing group only).
    None,
}

/// The course's students chosen, as memberships: all of them, or those selected (each a
/// student of the course, or 422 naming `user_ids`).
async fn chosen(
    ctx: &Ctx,
    caller: &Caller,
    course: &Course,
    students: Students,
    user_ids: Option<&[String]>,
) -> Result<Chosen, ApiError> {
    let org = &caller.org.id;
    let ids: Vec<UserId> = match (students, user_ids) {
        (Students::None, None) => Vec::new(),
        (Students::All, None) => {
            ctx.store().all_places(org, PlaceIn::Course(&course.id)).await?.into_iter().map(|p| p.user_id).collect()
        }
        (Students::Selected, Some(raw)) => {
            let raw = user_list(raw).map_err(|m| ApiError::validation("user_ids", m))?;
            let ids: Vec<UserId> = raw.iter().filter_map(|u| UserId::parse(u)).collect();
            let places = ctx.store().places_of(org, PlaceIn::Course(&course.id), &ids).await?;
            if let Some(stranger) = raw.iter().find(|u| !places.iter().any(|p| p.user_id.as_str() == u.as_str())) {
                return Err(ApiError::validation("user_ids", format!("{stranger} is not a student of this course")));
            }
            ids
        }
        (Students::Selected, None) => {
            return Err(ApiError::validation("user_ids", "give the students selected"));
        }
        (_, Some(_)) => return Err(ApiError::validation("user_ids", "only with \"students\": \"selected\"")),
    };
    // The course's teachers come too (as the group's teachers): one read for all.
    let teacher_ids: Vec<UserId> = course.teacher_ids.clone();
    let mut all: Vec<UserId> = ids.iter().chain(&teacher_ids).cloned().collect();
    all.sort();
    all.dedup();
    let members = ctx.store().memberships(org, &all).await?;
    let pick = |of: &[UserId]| members.iter().filter(|m| of.contains(&m.user_id)).cloned().collect();
    Ok(Chosen { students: pick(&ids), teachers: pick(&teacher_ids) })
}

/// The students chosen for a course's group, and the course's teachers (memberships).
struct Chosen {
    students: Vec<Membership>,
    teachers: Vec<Membership>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Олимпиадная математика: 5А",
    "description": "Разбор олимпиадных задач для 5А.",
    "students": "selected",
    "user_ids": ["c5a7e930-2d4b-4e1f-8a6c-9b3d7f0e1a25", "9af49740-96f5-40ee-9e25-02420ae59635"]
}))]
pub struct CreateLinkedGroup {
    pub name: String,
    pub description: Option<String>,
    /// `all` or `selected`.
    pub students: Students,
    /// With `selected`: students of the course (1-100).
    pub user_ids: Option<Vec<String>>,
}

/// Makes a group linked to the course with all its students or selected ones (admins and
/// the course's teachers). Each student added gets an email. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/orgs/{org}/courses/{id}/groups", tag = "courses", request_body = CreateLinkedGroup,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "course ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 201, description = "The new group, linked", body = GroupView, headers(("ETag" = String), ("Location" = String))),
              (status = 409, description = "`too_many_linked_groups`")))]
pub async fn create_group(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, course, _) = caller_and_course(&ctx, &req, &[]).await?;
    require_runs(&caller, &course, "make groups of a course you do not teach")?;
    let body: CreateLinkedGroup = req.json()?;
    let named = naming(&body.name, body.description.as_deref())?;
    if body.students == Students::None {
        return Err(ApiError::validation("students", "a new group takes all the course's students or selected ones"));
    }
    let chosen = chosen(&ctx, &caller, &course, body.students, body.user_ids.as_deref()).await?;
    let now = Timestamp::now();
    let mut group = Group::new(&caller.org.id, named, Some(course.id.clone()), now);
    let audit = caller.audit(AuditAction::GroupCreate, "group", &group.id).after(group_summary(&group));
    ctx.store().create_group(&group, &audit).await?;
    let added = add_people(&ctx, (&caller).into(), Container::NewGroupOf(&group, &course), chosen.students).await?;
    let seated = add_people(&ctx, (&caller).into(), Container::TeachersOf(&group, &course), chosen.teachers).await?;
    group.member_count = added.iter().chain(&seated).filter(|(_, a)| *a == Added::Added).count() as u64;
    let answer = group_answer(http::StatusCode::CREATED, &group)?;
    Ok(answer.with_header("location", &format!("/v1/orgs/{}/groups/{}", caller.org.id, group.id)))
}

/// The groups linked to the course ("related objects"; members).
#[utoipa::path(get, path = "/v1/orgs/{org}/courses/{id}/linked-groups", tag = "courses",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "course ID")),
    responses((status = 200, description = "The linked groups (at most 50, one page)", body = Page<GroupView>)))]
pub async fn linked_groups(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, course, _) = caller_and_course(&ctx, &req, &[]).await?;
    let mut groups = ctx.store().groups_by_id(&caller.org.id, &course.linked_group_ids).await?;
    groups.sort_by(|a, b| a.id.cmp(&b.id));
    ApiResponse::ok(&Page::all(groups.iter().map(GroupView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "group_id": "01m1dvdy27k1ccphgvsq8593fy",
    "students": "selected",
    "user_ids": ["c5a7e930-2d4b-4e1f-8a6c-9b3d7f0e1a25", "9af49740-96f5-40ee-9e25-02420ae59635"]
}))]
pub struct LinkGroup {
    pub group_id: String,
    /// `all`, `selected` or `none`.
    pub students: Students,
    /// With `selected`: students of the course (1-100).
    pub user_ids: Option<Vec<String>>,
}

/// Links an existing group to the course, adding all its students, selected ones or none
/// (admins; the course's teachers who are teachers in the group); people already in the
/// group are not added twice. A group has at most one course.
#[utoipa::path(post, path = "/v1/orgs/{org}/courses/{id}/linked-groups", tag = "courses", request_body = LinkGroup,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "course ID")),
    responses((status = 200, description = "The group, linked", body = GroupView, headers(("ETag" = String))),
              (status = 403, description = "`forbidden`: not an admin, or not a teacher of the course who is in the group"),
              (status = 409, description = "`group_already_linked` (to another course) or `too_many_linked_groups`")))]
pub async fn link_group(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: Result<LinkGroup, ApiError> = req.json();
    let group_id = body.as_ref().ok().and_then(|b| GroupId::parse(&b.group_id));
    let also: Vec<Also> = group_id.iter().map(|g| Also::Group(g.clone())).collect();
    let (caller, course, mut read) = caller_and_course(&ctx, &req, &also).await?;
    require_runs(&caller, &course, "link groups to a course you do not teach")?;
    let body = body?;
    let group_id = group_id.ok_or_else(|| ApiError::validation("group_id", "no such group in this organization"))?;
    let mut group =
        read.group(&group_id)?.ok_or_else(|| ApiError::validation("group_id", "no such group in this organization"))?;
    // Rights over the group too: linking puts people into it.
    if !may_enter(&caller, &group) {
        return Err(ApiError::Forbidden("link a group you are not a teacher in"));
    }
    if group.course_id.as_ref().is_some_and(|c| c != &course.id) {
        return Err(group_error(GroupError::AlreadyLinked));
    }
    let chosen = chosen(&ctx, &caller, &course, body.students, body.user_ids.as_deref()).await?;
    if group.course_id.is_none() {
        let audit = caller
            .audit(AuditAction::CourseGroupLink, "course", &course.id)
            .after(json!({"group_id": group.id, "students": body.students}));
        ctx.store().link_group(&course, &group, &audit).await?;
        group.course_id = Some(course.id.clone());
    }
    let students = Container::Group(&group, Some(GroupRole::Student));
    let added = add_people(&ctx, (&caller).into(), students, chosen.students).await?;
    let seated = add_people(&ctx, (&caller).into(), Container::TeachersOf(&group, &course), chosen.teachers).await?;
    group.member_count += added.iter().chain(&seated).filter(|(_, a)| *a == Added::Added).count() as u64;
    group_answer(http::StatusCode::OK, &group)
}

/// Puts teachers of a course into a group linked to it as its teachers (those in it as
/// students become its teachers); each gets the "added to group" email when added.
async fn seat_teachers(
    ctx: &Ctx,
    caller: &Caller,
    course: &Course,
    group: &Group,
    teachers: &[UserId],
) -> Result<Vec<(UserId, Added)>, ApiError> {
    if teachers.is_empty() {
        return Ok(Vec::new());
    }
    let members = ctx.store().memberships(&caller.org.id, teachers).await?;
    add_people(ctx, caller.into(), Container::TeachersOf(group, course), members).await
}

/// Unlinks a group from the course: the group and its members stay.
#[utoipa::path(delete, path = "/v1/orgs/{org}/courses/{id}/linked-groups/{group}", tag = "courses",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "course ID"),
           ("group" = String, Path, description = "group ID")),
    responses((status = 204, description = "Unlinked")))]
pub async fn unlink_group(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let group = GroupId::parse(req.path_param("group")?).ok_or(ApiError::NotFound("linked group"))?;
    let (caller, course, _) = caller_and_course(&ctx, &req, &[]).await?;
    require_runs(&caller, &course, "unlink groups from a course you do not teach")?;
    let audit = caller.audit(AuditAction::CourseGroupUnlink, "course", &course.id).before(json!({"group_id": group}));
    match ctx.store().unlink_group(&course, &group, &audit).await {
        Err(GroupError::NoPlace) => Err(ApiError::NotFound("linked group")),
        other => Ok(other.map(|()| ApiResponse::no_content())?),
    }
}
