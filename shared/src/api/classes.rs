//! Classes per academic year (R3): create, list, view, edit, delete, graduate, promote,
//! roll a whole year over, and take one person off one class.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::openapi::schema::{AnyOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::ToSchema;

use super::common::access::{admin, member, member_and, member_and_class, user_param, Caller};
use super::common::errors::class_error;
use super::common::grants::user_ids;
use super::common::retry::{self, Attempt};
use super::common::views::extended;
use super::common::views::GroupView;
use crate::domain::school::MAX_GRADE;
use crate::domain::AuditAction;
use crate::domain::{AcademicYear, AuditEntry, Class, ClassId, ClassName, ClassSource, Membership, Role, Timestamp};
use crate::http::Code;
use crate::http::{ApiError, ApiRequest, ApiResponse, FieldError, Page, Patch};
use crate::page::{Cursor, PageQuery};
use crate::store::classes::{ClassError, Promotion};
use crate::store::keys::{GROUP_PREFIX, PK, SK};
use crate::store::orgs::Also;
use crate::Ctx;

/// A class in lists.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = ClassView::example)]
pub struct ClassView {
    pub id: String,
    pub grade: Option<u8>,
    pub letter: Option<String>,
    /// Display name: `5А`, or the free name of an extra class.
    pub name: String,
    /// `2026/2027`.
    #[schema(value_type = String, example = "2026/2027")]
    pub year: AcademicYear,
    /// `journal` for classes imported from the school's e-journal.
    pub source: ClassSource,
    pub graduated: bool,
    pub class_teacher_ids: Vec<String>,
    pub student_count: usize,
    pub promoted_from: Option<String>,
    pub promoted_to: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ClassView {
    fn example() -> serde_json::Value {
        json!({
            "id": "01m115ebsrwdyfqatyynem1n18",
            "grade": 5,
            "letter": "А",
            "name": "5А",
            "year": "2026/2027",
            "source": "manual",
            "graduated": false,
            "class_teacher_ids": ["8d2e4b61-5c3a-4f9e-b7d0-1e6a9c3f2b84"],
            "student_count": 27,
            "promoted_from": "01k3qykq18cqq85qqed4zgh9a5",
            "promoted_to": null,
            "created_at": "2026-08-27T08:30:05.112Z",
            "updated_at": "2026-09-03T09:12:40.771Z"
        })
    }
}

impl From<&Class> for ClassView {
    fn from(c: &Class) -> Self {
        ClassView {
            id: c.id.to_string(),
            grade: c.grade,
            letter: c.letter.clone(),
            name: c.name.clone(),
            year: c.year,
            source: c.source,
            graduated: c.graduated,
            class_teacher_ids: c.class_teacher_ids.clone(),
            student_count: c.students.len(),
            promoted_from: c.promoted_from.as_ref().map(ToString::to_string),
            promoted_to: c.promoted_to.as_ref().map(ToString::to_string),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Person {
    pub user_id: String,
    pub name: String,
}

/// A class with its people.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = ClassDetail::example)]
pub struct ClassDetail {
    #[serde(flatten)]
    pub class: ClassView,
    /// Class teachers and subject teachers.
    pub teachers: Vec<Person>,
    pub class_teachers: Vec<Person>,
    pub students: Vec<Person>,
    pub parents: Vec<Person>,
}

impl ClassDetail {
    /// The class of the list's example, with its two students.
    fn example() -> serde_json::Value {
        extended(
            ClassView::example(),
            json!({
                "student_count": 2,
                "teachers": [
                    {"user_id": "5b9d1f3a-6c8e-4a2b-9d4f-7e1c3a5b8d06", "name": "Дмитрий Соколов"},
                    {"user_id": "8d2e4b61-5c3a-4f9e-b7d0-1e6a9c3f2b84", "name": "Ирина Смирнова"}
                ],
                "class_teachers": [{"user_id": "8d2e4b61-5c3a-4f9e-b7d0-1e6a9c3f2b84", "name": "Ирина Смирнова"}],
                "students": [
                    {"user_id": "c5a7e930-2d4b-4e1f-8a6c-9b3d7f0e1a25", "name": "Михаил Иванов"},
                    {"user_id": "9af49740-96f5-40ee-9e25-02420ae59635", "name": "Софья Морозова"}
                ],
                "parents": [{"user_id": "e1b3d5f7-9a2c-4e6b-8d0f-3c5a7e9b1d42", "name": "Ольга Иванова"}]
            }),
        )
    }
}

fn class_answer(status: http::StatusCode, c: &Class) -> Result<ApiResponse, ApiError> {
    Ok(ApiResponse::json(status, &ClassView::from(c))?.with_etag(c.version))
}

fn class_id(req: &ApiRequest) -> Result<ClassId, ApiError> {
    req.path::<ClassId>("id")
}

/// Whether the caller may see a class and its people: admins and staff any; teachers the
/// classes they teach; students and parents their own.
fn may_view(caller: &Caller, c: &Class) -> bool {
    let me = &caller.member.user_id;
    caller.is_admin()
        || caller.has_role(Role::Staff)
        || caller.teaches(c)
        || c.students.contains_key(me.as_str())
        || c.parents.contains_key(me.as_str())
        || caller.member.roles.iter().any(|g| g.class_ids.iter().any(|id| id == c.id.as_str()))
}

fn parse_teachers(raw: Vec<String>) -> Result<Vec<String>, ApiError> {
    user_ids(&raw, "class_teacher_ids", crate::domain::classes::MAX_CLASS_TEACHERS, "class teachers")
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "grade": 5,
    "letter": "А",
    "name": null,
    "year": "2026/2027",
    "class_teacher_ids": ["8d2e4b61-5c3a-4f9e-b7d0-1e6a9c3f2b84"]
}))]
pub struct CreateClass {
    /// 1-11, with a `letter`; or leave both out and give a `name` (extra classes).
    pub grade: Option<i64>,
    pub letter: Option<String>,
    pub name: Option<String>,
    /// Defaults to the current academic year.
    pub year: Option<String>,
    /// Members holding the teacher role.
    #[serde(default)]
    pub class_teacher_ids: Vec<String>,
}

/// A create request parsed.
struct NewClass {
    name: ClassName,
    year: AcademicYear,
    class_teacher_ids: Vec<String>,
}

impl TryFrom<CreateClass> for NewClass {
    type Error = ApiError;

    /// Every field's error at once.
    fn try_from(body: CreateClass) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let name = ClassName::parse(body.grade, body.letter.as_deref(), body.name.as_deref())
            .map_err(|(f, m)| errors.push(FieldError::new(f, m)))
            .ok();
        let year = match body.year.as_deref() {
            Some(y) => AcademicYear::parse(y).map_err(|m| errors.push(FieldError::new("year", m))).ok(),
            None => Some(AcademicYear::current()),
        };
        let teachers = parse_teachers(body.class_teacher_ids)
            .map_err(|e| {
                if let ApiError::Validation(v) = e {
                    errors.extend(v)
                }
            })
            .ok();
        match (name, year, teachers, errors.is_empty()) {
            (Some(name), Some(year), Some(class_teacher_ids), true) => Ok(NewClass { name, year, class_teacher_ids }),
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

/// Creates a class (admins). Names are unique within a year (409 `class_exists`).
#[utoipa::path(post, path = "/v1/orgs/{org}/classes", tag = "classes", request_body = CreateClass,
    params(("org" = String, Path, description = "organization ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 201, description = "Created", body = ClassView, headers(("ETag" = String), ("Location" = String))),
              (status = 409, description = "`class_exists`")))]
pub async fn create(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = admin(&ctx, &req, "create classes").await?;
    let body: CreateClass = req.json()?;
    let NewClass { name, year, class_teacher_ids } = body.try_into()?;
    let class = Class::new(&caller.org.id, &name, year, ClassSource::Manual, class_teacher_ids);
    let audit = caller.audit(AuditAction::ClassCreate, "class", &class.id).after(class.summary());
    ctx.store().create_class(&class, &audit).await?;
    Ok(class_answer(http::StatusCode::CREATED, &class)?
        .with_header("location", &format!("/v1/orgs/{}/classes/{}", caller.org.id, class.id)))
}

/// `?year=` (default the current academic year) and `?include_graduated=` of a list.
fn list_params(req: &ApiRequest) -> Result<(AcademicYear, bool), ApiError> {
    let year = match req.query_param("year") {
        Some(y) => AcademicYear::parse(y).map_err(|m| ApiError::validation("year", m))?,
        None => AcademicYear::current(),
    };
    let include_graduated = match req.query_param("include_graduated") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::validation("include_graduated", "must be true or false")),
    };
    Ok((year, include_graduated))
}

/// An item of the classes list with `include=groups`: a class (the fields of a class in
/// the list) or, after the classes, a group (those of a group); `kind` says which.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[schema(example = ClassOrGroup::example)]
pub enum ClassOrGroup {
    Class(ClassView),
    Group(GroupView),
}

impl ClassOrGroup {
    fn example() -> serde_json::Value {
        extended(json!({"kind": "class"}), ClassView::example())
    }
}

/// The classes list's answer, for the document: a page of classes, or with
/// `include=groups` a page of classes then groups (`anyOf`: an empty page is either).
pub struct ClassList;

impl utoipa::PartialSchema for ClassList {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(Ref::from_schema_name("Page_ClassView"))
            .item(Ref::from_schema_name("Page_ClassOrGroup"))
            .description(Some(
                "A page of classes; with `include=groups`, of classes then groups, each item with its `kind`.",
            ))
            .examples([ClassList::example()])
            .into()
    }
}

impl ToSchema for ClassList {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        use utoipa::PartialSchema;
        schemas.push(("Page_ClassView".into(), Page::<ClassView>::schema()));
        schemas.push(("ClassView".into(), ClassView::schema()));
        <ClassView as ToSchema>::schemas(schemas);
        schemas.push(("Page_ClassOrGroup".into(), Page::<ClassOrGroup>::schema()));
        schemas.push(("ClassOrGroup".into(), ClassOrGroup::schema()));
        <ClassOrGroup as ToSchema>::schemas(schemas);
    }
}

impl ClassList {
    /// A page with `include=groups` across the boundary: the last class, the first group.
    fn example() -> serde_json::Value {
        let group = json!({
            "kind": "group",
            "id": "01m1dvdy27k1ccphgvsq8593fy",
            "name": "Математический кружок",
            "description": "Задачи повышенной сложности для 5–6 классов.\nЗанятия по средам в 15:30, кабинет 214.",
            "course_id": "01m1dvv999dyd4str94fezzgfg",
            "member_count": 24,
            "created_at": "2026-09-01T06:45:12.903Z",
            "updated_at": "2026-09-01T06:58:14.020Z"
        });
        let next = Cursor(
            [
                (PK.to_string(), "ORG#k7m3xq9pza".to_string()),
                (SK.to_string(), "GROUP#01m1dvdy27k1ccphgvsq8593fy".to_string()),
            ]
            .into(),
        );
        json!({"items": [ClassOrGroup::example(), group], "next_cursor": next.encode()})
    }
}

/// `?include=`: what else the list holds (`groups`), or 422 for anything else.
fn include_groups(req: &ApiRequest) -> Result<bool, ApiError> {
    let Some(raw) = req.query_param("include") else { return Ok(false) };
    let mut groups = false;
    for part in raw.split(',').map(str::trim) {
        match part {
            "groups" => groups = true,
            _ => {
                return Err(ApiError::validation(
                    "include",
                    "can only be groups (the organization's groups after its classes)",
                ))
            }
        }
    }
    Ok(groups)
}

/// Where a list with `include=groups` goes on: in its classes (with their own cursor) or
/// in its groups (from the first, or after one).
enum Resume {
    Classes(Option<Cursor>),
    Groups(Option<Cursor>),
}

/// The cursor of a list that has given every class and goes on with the groups.
const GROUPS_FROM_START: (&str, &str) = ("then", "groups");

impl Resume {
    fn from(cursor: Option<Cursor>) -> Self {
        match cursor {
            None => Resume::Classes(None),
            Some(c)
                if c.0.len() == 1 && c.0.get(GROUPS_FROM_START.0).map(String::as_str) == Some(GROUPS_FROM_START.1) =>
            {
                Resume::Groups(None)
            }
            Some(c) if c.0.len() == 2 && c.0.get(SK).is_some_and(|sk| sk.starts_with(GROUP_PREFIX)) => {
                Resume::Groups(Some(c))
            }
            Some(c) => Resume::Classes(Some(c)),
        }
    }
}

/// A page of the classes of `year` the caller sees.
async fn classes_page(
    ctx: &Ctx,
    caller: &Caller,
    year: &AcademicYear,
    include_graduated: bool,
    page: &PageQuery,
) -> Result<(Vec<Class>, Option<Cursor>), ApiError> {
    let sees_all = caller.is_admin() || caller.has_role(Role::Staff) || caller.has_role(Role::Teacher);
    if sees_all {
        return Ok(ctx.store().classes_of_year(&caller.org.id, year, include_graduated, page).await?);
    }
    // Students and parents see their own classes: the few their roles name.
    let mut own: Vec<Class> = ctx
        .store()
        .classes_by_id(&caller.org.id, &caller.member.class_ids())
        .await?
        .into_iter()
        .filter(|c| c.year == *year && (include_graduated || !c.graduated) && may_view(caller, c))
        .collect();
    own.sort_by(|a, b| a.class_name().sort_key().cmp(&b.class_name().sort_key()).then(a.id.cmp(&b.id)));
    Ok(page.slice(own)?)
}

/// Lists classes of a year (default: the current one), by grade and letter. Students and
/// parents see their own classes; graduated classes only with `include_graduated=true`.
/// With `include=groups` the organization's groups follow the classes (every member sees
/// them), each item saying its `kind`; one cursor goes on across the two.
#[utoipa::path(get, path = "/v1/orgs/{org}/classes", tag = "classes",
    params(("org" = String, Path, description = "organization ID"),
           ("year" = Option<String>, Query, description = "`2026/2027`; default the current academic year"),
           ("include_graduated" = Option<bool>, Query),
           ("include" = Option<String>, Query, description = "`groups`: the organization's groups after its classes, each item with `kind` (`class` or `group`)", example = "groups"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of classes (`Page_ClassView`); with `include=groups` of classes then groups (`Page_ClassOrGroup`)", body = ClassList)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = member(&ctx, &req).await?;
    let page = req.page_query()?;
    let (year, include_graduated) = list_params(&req)?;
    if !include_groups(&req)? {
        let (classes, next) = classes_page(&ctx, &caller, &year, include_graduated, &page).await?;
        return ApiResponse::ok(&Page::new(classes.iter().map(ClassView::from).collect(), next));
    }
    let mut items: Vec<ClassOrGroup> = Vec::new();
    let groups_from = match Resume::from(page.cursor.clone()) {
        Resume::Classes(cursor) => {
            let classes = PageQuery { limit: page.limit, cursor };
            let (classes, next) = classes_page(&ctx, &caller, &year, include_graduated, &classes).await?;
            items.extend(classes.iter().map(|c| ClassOrGroup::Class(c.into())));
            if next.is_some() || items.len() >= page.limit as usize {
                let next =
                    next.unwrap_or_else(|| Cursor([(GROUPS_FROM_START.0.into(), GROUPS_FROM_START.1.into())].into()));
                return ApiResponse::ok(&Page::new(items, Some(next)));
            }
            None
        }
        Resume::Groups(cursor) => cursor,
    };
    let groups = PageQuery { limit: page.limit - items.len() as i32, cursor: groups_from };
    let (groups, next) = ctx.store().groups_page(&caller.org.id, &groups).await?;
    items.extend(groups.iter().map(|g| ClassOrGroup::Group(g.into())));
    ApiResponse::ok(&Page::new(items, next))
}

impl ClassDetail {
    /// The class with the people of `members` on it, by name.
    fn of(class: &Class, members: &[Membership]) -> Self {
        let people = |pred: &dyn Fn(&Membership) -> bool| {
            let mut v: Vec<Person> = members
                .iter()
                .filter(|m| pred(m))
                .map(|m| Person { user_id: m.user_id.to_string(), name: m.name.clone() })
                .collect();
            v.sort_by_key(|a| a.name.to_lowercase());
            v
        };
        let on = |roster: &BTreeMap<String, bool>, m: &Membership| roster.contains_key(m.user_id.as_str());
        let class_teacher = |m: &Membership| class.class_teacher_ids.contains(&m.user_id.to_string());
        ClassDetail {
            class: ClassView::from(class),
            teachers: people(&|m| on(&class.teachers, m) || class_teacher(m)),
            class_teachers: people(&class_teacher),
            students: people(&|m| on(&class.students, m)),
            parents: people(&|m| on(&class.parents, m)),
        }
    }
}

/// A class with its teachers, class teachers, students and parents.
#[utoipa::path(get, path = "/v1/orgs/{org}/classes/{id}", tag = "classes",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "class ID")),
    responses((status = 200, description = "The class", body = ClassDetail, headers(("ETag" = String)))))]
pub async fn get(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, class) = member_and_class(&ctx, &req, &class_id(&req)?).await?;
    if !may_view(&caller, &class) {
        return Err(ApiError::Forbidden("see this class"));
    }
    let members = ctx.store().memberships(&caller.org.id, &class.people_ids()).await?;
    Ok(ApiResponse::ok(&ClassDetail::of(&class, &members))?.with_etag(class.version))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "grade": 5,
    "letter": "Б",
    "name": null,
    "class_teacher_ids": ["8d2e4b61-5c3a-4f9e-b7d0-1e6a9c3f2b84"]
}))]
pub struct PatchClass {
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub grade: Patch<i64>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub letter: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    pub class_teacher_ids: Option<Vec<String>>,
}

impl PatchClass {
    /// The class as this patch leaves it: `None` when nothing changes.
    fn apply_to(self, old: &Class) -> Result<Option<Class>, ApiError> {
        let free_name = if old.grade.is_none() { Some(old.name.clone()) } else { None };
        let grade = self.grade.applied_to(old.grade.map(i64::from));
        let (letter, name) = if grade.is_some() {
            (self.letter.applied_to(old.letter.clone()), self.name.applied_to(None))
        } else {
            (self.letter.applied_to(None), self.name.applied_to(free_name))
        };
        let name =
            ClassName::parse(grade, letter.as_deref(), name.as_deref()).map_err(|(f, m)| ApiError::validation(f, m))?;
        let teachers = match self.class_teacher_ids {
            Some(t) => parse_teachers(t)?,
            None => old.class_teacher_ids.clone(),
        };
        let new = old.renamed(&name, teachers, Timestamp::now());
        let unchanged =
            new.name == old.name && new.grade == old.grade && new.class_teacher_ids == old.class_teacher_ids;
        Ok((!unchanged).then_some(new))
    }
}

/// Renames a class or changes its class teachers (admins). With `If-Match`, a stale ETag
/// gets 412.
#[utoipa::path(patch, path = "/v1/orgs/{org}/classes/{id}", tag = "classes", request_body = PatchClass,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "class ID"),
           ("If-Match" = Option<String>, Header, description = "the ETag the class was read with")),
    responses((status = 200, description = "The changed class", body = ClassView, headers(("ETag" = String))),
              (status = 409, description = "`class_exists`, or `concurrent_update` (without `If-Match`)")))]
pub async fn patch(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = class_id(&req)?;
    let (caller, old) = member_and_class(&ctx, &req, &id).await?;
    caller.require_admin("edit classes")?;
    let expected = req.if_match()?;
    let body: PatchClass = req.json()?;
    if expected.is_some_and(|v| v != old.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let Some(new) = body.apply_to(&old)? else {
        return class_answer(http::StatusCode::OK, &old);
    };
    let audit = caller.audit(AuditAction::ClassUpdate, "class", &id).before(old.summary()).after(new.summary());
    match ctx.store().update_class(&old, &new, &audit).await {
        Ok(()) => class_answer(http::StatusCode::OK, &new),
        Err(ClassError::Changed) if expected.is_some() => Err(ApiError::PreconditionFailed),
        Err(e) => Err(class_error(e)),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StrandedMember {
    pub user_id: String,
    pub name: String,
    pub roles: Vec<Role>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01m115ecvwas7wzwvqnhd05es9",
    "needs_class": [
        {"user_id": "523b7841-839d-454e-b990-29b404f18db9", "name": "Кирилл Лебедев", "roles": ["student"]},
        {"user_id": "fbf04763-4a4d-4d41-ba34-3f8dfa057b26", "name": "Марина Лебедева", "roles": ["parent"]}
    ]
}))]
pub struct DeletedClass {
    pub id: String,
    /// Students and parents left without a class: give them a new one.
    pub needs_class: Vec<StrandedMember>,
}

/// Deletes a class (admins). People stay: its students and parents lose the class and are
/// listed as needing a new one.
#[utoipa::path(delete, path = "/v1/orgs/{org}/classes/{id}", tag = "classes",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "class ID")),
    responses((status = 200, description = "Deleted", body = DeletedClass), (status = 409, description = "`concurrent_update`")))]
pub async fn delete(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, class) = member_and_class(&ctx, &req, &class_id(&req)?).await?;
    caller.require_admin("delete classes")?;
    let audit = caller.audit(AuditAction::ClassDelete, "class", &class.id).before(class.summary());
    let stranded = ctx.store().delete_class(&class, &audit).await?;
    let needs_class = stranded
        .iter()
        .map(|m| StrandedMember {
            user_id: m.user_id.to_string(),
            name: m.name.clone(),
            roles: m.roles_needing_class(),
        })
        .collect();
    ApiResponse::ok(&DeletedClass { id: class.id.to_string(), needs_class })
}

fn graduation_audit(caller: &Caller, class: &Class) -> AuditEntry {
    caller
        .audit(AuditAction::ClassGraduate, "class", &class.id)
        .before(json!({"graduated": false}))
        .after(json!({"graduated": true}))
}

/// Marks a class graduated (admins): it leaves the current lists; its students keep it.
#[utoipa::path(post, path = "/v1/orgs/{org}/classes/{id}/graduate", tag = "classes",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "class ID")),
    responses((status = 200, description = "The graduated class", body = ClassView)))]
pub async fn graduate(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, class) = member_and_class(&ctx, &req, &class_id(&req)?).await?;
    caller.require_admin("graduate classes")?;
    if class.graduated {
        return class_answer(http::StatusCode::OK, &class);
    }
    let audit = graduation_audit(&caller, &class);
    let now = Timestamp::now();
    if ctx.store().graduate_class(&class, now, &audit).await? {
        let graduated =
            Class { graduated: true, graduated_at: Some(now), version: class.version + 1, updated_at: now, ..class };
        return class_answer(http::StatusCode::OK, &graduated);
    }
    // Graduated meanwhile by someone else.
    let (_, current) = member_and_class(&ctx, &req, &class.id).await?;
    class_answer(http::StatusCode::OK, &current)
}

/// Promotes a class to the next academic year (admins): `5А` 2025/2026 becomes `6А`
/// 2026/2027 with its students, parents and class teachers. Promoting again returns the
/// same class. An 11th grade graduates instead (422 `cannot_promote`).
#[utoipa::path(post, path = "/v1/orgs/{org}/classes/{id}/promote", tag = "classes",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "class ID")),
    responses((status = 201, description = "The new class", body = ClassView),
              (status = 200, description = "Promoted before: the class it became", body = ClassView),
              (status = 409, description = "`class_graduated`, `class_exists` (the next year has a class of that name) or `concurrent_update`"),
              (status = 422, description = "`cannot_promote`: an 11th grade graduates instead")))]
pub async fn promote(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, class) = member_and_class(&ctx, &req, &class_id(&req)?).await?;
    caller.require_admin("promote classes")?;
    match promote_one(&ctx, &caller, &class).await? {
        Promotion::Created(c) => class_answer(http::StatusCode::CREATED, &c),
        Promotion::Existing(c) => class_answer(http::StatusCode::OK, &c),
    }
}

async fn promote_one(ctx: &Ctx, caller: &Caller, class: &Class) -> Result<Promotion, ApiError> {
    if class.graduated {
        return Err(ApiError::conflict(Code::ClassGraduated, "This class has graduated."));
    }
    if class.promoted_to.is_none() && class.grade == Some(MAX_GRADE) {
        return Err(ApiError::Unprocessable {
            code: Code::CannotPromote,
            detail: "An 11th grade graduates rather than moving up.".into(),
        });
    }
    let next = class.class_name().promoted().unwrap_or_else(|| class.class_name());
    let audit = caller
        .audit(AuditAction::ClassPromote, "class", &class.id)
        .before(class.summary())
        .after(json!({"name": next.display(), "year": class.year.next()}));
    Ok(ctx.store().promote_class(class, &audit).await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"from_year": "2025/2026"}))]
pub struct Rollover {
    /// The year to roll over from, e.g. `2025/2026`.
    pub from_year: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RolledClass {
    pub from_id: String,
    pub from_name: String,
    pub to_id: String,
    pub to_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedClass {
    pub id: String,
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "from_year": "2025/2026",
    "to_year": "2026/2027",
    "promoted": [
        {"from_id": "01k3qykq18cqq85qqed4zgh9a5", "from_name": "4А", "to_id": "01m115ebsrwdyfqatyynem1n18", "to_name": "5А"},
        {"from_id": "01k3qyswgy7b73hzsszzrsbc7h", "from_name": "10А", "to_id": "01m115eehezr5evt8fqsye8wj9", "to_name": "11А"}
    ],
    "graduated": [{
        "id": "01k3qysxmwce7hypm87sxrqmvq",
        "grade": 11,
        "letter": "А",
        "name": "11А",
        "year": "2025/2026",
        "source": "manual",
        "graduated": true,
        "class_teacher_ids": ["5b9d1f3a-6c8e-4a2b-9d4f-7e1c3a5b8d06"],
        "student_count": 24,
        "promoted_from": null,
        "promoted_to": null,
        "created_at": "2025-08-28T09:05:41.020Z",
        "updated_at": "2025-09-01T07:00:12.345Z"
    }],
    "skipped": [{
        "id": "01k47sezg9e3n18tdwp5s64kfs",
        "name": "Робототехника",
        "reason": "an extra class (no grade): promote it by hand if it continues"
    }],
    "already_done": 0
}))]
pub struct RolloverResult {
    pub from_year: String,
    pub to_year: String,
    /// Classes promoted by this request.
    pub promoted: Vec<RolledClass>,
    /// 11th grades graduated by this request.
    pub graduated: Vec<ClassView>,
    /// Classes left as they are, with the reason.
    pub skipped: Vec<SkippedClass>,
    /// Classes rolled over by an earlier request (nothing changed).
    pub already_done: usize,
}

/// Rolls a whole academic year over (admins): every class moves up a grade into the next
/// year, 11th grades graduate; extra classes (free names) stay. Running it again changes
/// nothing.
#[utoipa::path(post, path = "/v1/orgs/{org}/rollover", tag = "classes", request_body = Rollover,
    params(("org" = String, Path, description = "organization ID")),
    responses((status = 200, description = "What the rollover did", body = RolloverResult)))]
pub async fn rollover(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = admin(&ctx, &req, "roll the academic year over").await?;
    let body: Rollover = req.json()?;
    let from = AcademicYear::parse(&body.from_year).map_err(|m| ApiError::validation("from_year", m))?;
    let classes = ctx.store().all_classes_of_year(&caller.org.id, &from).await?;
    // The rollover's entry goes first, with the record of the classes it sets out to move:
    // a rollover cut off half-way is finished by running it again, which writes no second
    // entry (each class's promotion or graduation has its own, in its own transaction).
    let open = |f: fn(&Class) -> bool| {
        classes.iter().filter(move |c| !c.graduated && c.promoted_to.is_none() && f(c)).map(|c| c.id.clone())
    };
    let to_promote: Vec<ClassId> = open(|c| c.grade.is_some_and(|g| g < MAX_GRADE)).collect();
    let to_graduate: Vec<ClassId> = open(|c| c.grade == Some(MAX_GRADE)).collect();
    let audit = caller.audit(AuditAction::OrgRollover, "org", caller.org.id.as_str()).after(json!({
        "from_year": from.to_string(),
        "to_year": from.next().to_string(),
        "to_promote": to_promote.len(),
        "to_graduate": to_graduate.len(),
    }));
    let planned = to_promote.into_iter().chain(to_graduate).collect();
    ctx.store().begin_rollover(&caller.org.id, &from, &planned, &audit).await?;
    let mut result = RolloverResult {
        from_year: from.to_string(),
        to_year: from.next().to_string(),
        promoted: vec![],
        graduated: vec![],
        skipped: vec![],
        already_done: 0,
    };
    for class in classes {
        roll_over(&ctx, &caller, class, &mut result).await?;
    }
    ApiResponse::ok(&result)
}

/// Rolls one class over: graduated, skipped, promoted, or found done before.
async fn roll_over(ctx: &Ctx, caller: &Caller, class: Class, result: &mut RolloverResult) -> Result<(), ApiError> {
    if class.graduated {
        result.already_done += 1;
        return Ok(());
    }
    if class.grade.is_none() {
        result.skipped.push(SkippedClass {
            id: class.id.to_string(),
            name: class.name,
            reason: "an extra class (no grade): promote it by hand if it continues".into(),
        });
        return Ok(());
    }
    if class.grade == Some(MAX_GRADE) {
        let audit = graduation_audit(caller, &class);
        if ctx.store().graduate_class(&class, Timestamp::now(), &audit).await? {
            result.graduated.push(ClassView::from(&Class { graduated: true, ..class }));
        } else {
            result.already_done += 1;
        }
        return Ok(());
    }
    match promote_one(ctx, caller, &class).await {
        Ok(Promotion::Created(new)) => result.promoted.push(RolledClass {
            from_id: class.id.to_string(),
            from_name: class.name,
            to_id: new.id.to_string(),
            to_name: new.name,
        }),
        Ok(Promotion::Existing(_)) => result.already_done += 1,
        // A failure on our side, or the caller's admin rights gone, cuts the rollover off
        // (running it again finishes it); only a class that cannot move up (its name
        // taken in the next year, say) is skipped.
        Err(e) if matches!(e.problem(None).status, 403 | 500..) => return Err(e),
        Err(e) => result.skipped.push(SkippedClass {
            id: class.id.to_string(),
            name: class.name,
            reason: e.problem(None).detail,
        }),
    }
    Ok(())
}

/// Takes one person off one class (admins): their roles lose the class; nothing else
/// changes.
#[utoipa::path(delete, path = "/v1/orgs/{org}/classes/{id}/members/{user}", tag = "classes",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "class ID"),
           ("user" = String, Path, description = "the member's user ID")),
    responses((status = 204, description = "Removed from the class"), (status = 409, description = "`concurrent_update`")))]
pub async fn remove_member(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = class_id(&req)?;
    let user = user_param(&req, "member")?;
    let (caller, mut read) = member_and(&ctx, &req, &[Also::Class(id.clone()), Also::Member(user.clone())]).await?;
    caller.require_admin("remove people from classes")?;
    let m = if user == caller.member.user_id { Some(caller.member.clone()) } else { read.member(&user)? };
    let first = (read.class(&id)?, m);
    let (ctx, caller, id, user) = (&ctx, &caller, &id, &user);
    retry::on_change(
        first,
        move |(class, m)| async move { take_off_class(ctx, caller, id, class, m).await },
        move || async move {
            let org = &caller.org.id;
            Ok((ctx.store().class(org, id).await?, ctx.store().membership(org, user).await?))
        },
        class_error(ClassError::Changed),
    )
    .await?;
    Ok(ApiResponse::no_content())
}

/// One try at taking a member off a class.
async fn take_off_class(
    ctx: &Ctx,
    caller: &Caller,
    id: &ClassId,
    class: Option<Class>,
    m: Option<Membership>,
) -> Result<Attempt<()>, ApiError> {
    let class = class.ok_or(ApiError::NotFound("class"))?;
    let m = m.ok_or(ApiError::NotFound("member"))?;
    let user = &m.user_id;
    let on_class =
        m.roles.iter().any(|g| g.class_ids.iter().any(|c| c == id.as_str())) || class.people().contains(user.as_str());
    if !on_class {
        return Err(ApiError::NotFound("member of this class"));
    }
    let audit = caller.audit(AuditAction::ClassMemberRemove, "class", id).before(json!({"user_id": user}));
    let removed = ctx.store().remove_from_class(&class, &m, &audit).await;
    retry::outcome(removed.map(|_| ()), |e| matches!(e, ClassError::Changed))
}
