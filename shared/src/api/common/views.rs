//! Answer shapes that more than one resource uses. Views are the API's JSON, kept apart
//! from what the store persists.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{JoinRequest, JoinRequestStatus, Membership, MembershipSource, RoleGrant, Timestamp};

/// A member of an organization.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "user_id": "8d2e4b61-5c3a-4f9e-b7d0-1e6a9c3f2b84",
    "name": "Ирина Смирнова",
    "email": "i.smirnova@school57.ru",
    "roles": [{
        "role": "teacher",
        "position": "Учитель",
        "specialization": "Математика",
        "class_ids": ["01m115ebsrwdyfqatyynem1n18", "01m115ecvwas7wzwvqnhd05es9"]
    }],
    "admin": false,
    "source": "journal",
    "linked": true,
    "joined_at": "2026-09-10T06:32:18.406Z",
    "last_active_at": "2026-12-05T19:12:44.081Z",
    "needs_class": false,
    "class_history": []
}))]
pub struct MemberView {
    pub user_id: String,
    pub name: String,
    /// Shown to the member themself and to the organization's admins, and only when the
    /// person gave this address by their own action here: created the organization,
    /// accepted an invitation link or an email invitation. A person an admin added by
    /// their user ID shows no email.
    pub email: Option<String>,
    pub roles: Vec<RoleGrant>,
    pub admin: bool,
    /// How they joined: `manual` (added by an admin), `link`, `invitation`, or `journal`
    /// (from the school's journal by a roster import).
    pub source: MembershipSource,
    /// `true` for a person of the school's journal who joined (their roster record is
    /// linked to them); absent for the others. Those still waiting are listed by
    /// `GET /v1/orgs/{org}/roster?linked=false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked: Option<bool>,
    pub joined_at: Timestamp,
    pub last_active_at: Option<Timestamp>,
    /// A student or parent whose class was deleted: give them a new class.
    pub needs_class: bool,
    /// Classes a student was promoted out of, oldest first.
    pub class_history: Vec<String>,
}

impl MemberView {
    /// The member `m` as `viewer` (a member of the same organization) may see them.
    pub fn seen_by(m: &Membership, viewer: &Membership) -> Self {
        let sees_email = viewer.admin || viewer.user_id == m.user_id;
        MemberView {
            user_id: m.user_id.to_string(),
            name: m.name.clone(),
            email: m.email.clone().filter(|_| sees_email),
            roles: m.roles.clone(),
            admin: m.admin,
            source: m.source,
            linked: (m.source == MembershipSource::Journal).then_some(true),
            joined_at: m.joined_at,
            last_active_at: m.last_active_at,
            needs_class: m.needs_class(),
            class_history: m.class_history.iter().map(ToString::to_string).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01m93kne1yd26kwdzfzdvwdb75",
    "org_id": "k7m3xq9pza",
    "user_id": "a4c6e8f0-1b3d-4f5a-8c7e-9d2b4f6a8c13",
    "name": "Елена Кузнецова",
    "email": "e.kuznetsova@yandex.ru",
    "roles": [{"role": "parent", "class_ids": ["01m115ebsrwdyfqatyynem1n18"]}],
    "status": "rejected",
    "reason": "В 5А нет ученика с фамилией Кузнецов: проверьте класс и отправьте заявку снова.",
    "link_id": "01m8gpz9njkpaygg3we2jakp4t",
    "created_at": "2026-12-05T17:22:40.318Z",
    "decided_at": "2026-12-05T18:01:33.472Z",
    "decided_by": "3f1c9a52-7b0e-4d6a-9c1e-2a8b5d4e6f70",
    "etag": "\"v2\""
}))]
pub struct JoinRequestView {
    pub id: String,
    pub org_id: String,
    pub user_id: String,
    pub name: String,
    pub email: Option<String>,
    pub roles: Vec<RoleGrant>,
    pub status: JoinRequestStatus,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The invitation link it came through.
    pub link_id: Option<String>,
    /// A request to link by journal login (`POST /v1/me/roster-links`): the login given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roster_login: Option<String>,
    /// Admins' view of a login request: the journal's record with that login, whose roles
    /// and classes accepting gives (or `found: false`). Never shown to the requester.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roster_match: Option<RosterMatch>,
    /// An accepted login request: the journal record (sourcedId) the person joined as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roster_id: Option<String>,
    pub created_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    /// Its ETag (also the `ETag` header of a single request): send it as `If-Match` to
    /// accept or reject, so that the decision is on the request as shown.
    pub etag: String,
}

impl From<&JoinRequest> for JoinRequestView {
    fn from(r: &JoinRequest) -> Self {
        JoinRequestView {
            id: r.id.to_string(),
            org_id: r.org_id.to_string(),
            user_id: r.user_id.to_string(),
            name: r.name.clone(),
            email: r.email.clone(),
            roles: r.roles.clone(),
            status: r.status,
            reason: r.reason.clone(),
            link_id: r.link_id.as_ref().map(ToString::to_string),
            roster_login: r.roster_login.clone(),
            roster_match: None,
            roster_id: r.roster_id.as_ref().map(ToString::to_string),
            created_at: r.created_at,
            decided_at: r.decided_at,
            decided_by: r.decided_by.as_ref().map(ToString::to_string),
            etag: crate::http::etag(r.version),
        }
    }
}

/// A class by ID and name, for someone who cannot read the class itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ClassRef {
    pub id: String,
    /// `5А`, or an extra class's name.
    pub name: String,
}

/// The journal's record a request to link by journal login matches, as admins see it
/// beside the requester's own (editable) name and email.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "found": true,
    "linked": false,
    "id": "u-10288",
    "name": "Волков Артём Игоревич",
    "email": "artem.volkov@mail.ru",
    "roles": [{"role": "student", "class_ids": ["01m115ebsrwdyfqatyynem1n18"]}],
    "classes": [{"id": "01m115ebsrwdyfqatyynem1n18", "name": "5А"}]
}))]
pub struct RosterMatch {
    /// Whether the journal has a person with this login (the fields below are theirs).
    pub found: bool,
    /// Someone joined as this person already: the request cannot be accepted as them.
    pub linked: bool,
    /// The record's sourcedId.
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The roles and classes accepting gives (empty while the journal gives none yet).
    pub roles: Vec<RoleGrant>,
    /// The classes those roles name.
    pub classes: Vec<ClassRef>,
}

impl RosterMatch {
    pub fn none() -> Self {
        RosterMatch { found: false, linked: false, id: None, name: None, email: None, roles: vec![], classes: vec![] }
    }
}

/// A group.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01m1dvdy27k1ccphgvsq8593fy",
    "name": "Математический кружок",
    "description": "Задачи повышенной сложности для 5–6 классов.\nЗанятия по средам в 15:30, кабинет 214.",
    "course_id": "01m1dvv999dyd4str94fezzgfg",
    "member_count": 24,
    "created_at": "2026-09-01T06:45:12.903Z",
    "updated_at": "2026-09-01T06:58:14.020Z"
}))]
pub struct GroupView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// The course it is linked to.
    pub course_id: Option<String>,
    pub member_count: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&crate::domain::Group> for GroupView {
    fn from(g: &crate::domain::Group) -> Self {
        GroupView {
            id: g.id.to_string(),
            name: g.name.clone(),
            description: g.description.clone(),
            course_id: g.course_id.as_ref().map(|c| c.to_string()),
            member_count: g.member_count,
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

/// Where and how to upload an announced file.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadView {
    /// A presigned PUT, valid until `expires_at` (15 minutes).
    pub url: String,
    /// Always `PUT`.
    pub method: String,
    /// Headers the PUT must carry as given (they are signed): for a group's file its
    /// content type and length (browsers set the length themselves); none for an import.
    pub headers: std::collections::BTreeMap<String, String>,
    pub expires_at: Timestamp,
}

/// An example that adds `more`'s fields to `base`'s: a view that flattens another, or the
/// same thing in another state.
pub fn extended(mut base: serde_json::Value, more: serde_json::Value) -> serde_json::Value {
    if let (Some(fields), serde_json::Value::Object(more)) = (base.as_object_mut(), more) {
        fields.extend(more);
    }
    base
}
