//! Groups and courses (SPEC R7): learning groups with members, courses with teachers and
//! enrolled students, a group linked to at most one course. A person's place in a group
//! or course is an item of its own (so a group of 1,000 pages in the database), mirrored
//! on their membership (so removing them from the organization finds every place).

use serde::{Deserialize, Serialize};

use super::{text, CourseId, GroupId, OrgId, Timestamp, UserId};

/// The longest group or course name.
pub const MAX_NAME: usize = 200;
/// The longest short description.
pub const MAX_DESCRIPTION: usize = 2_000;
/// The most people one request adds to a group or course.
pub const MAX_ADD: usize = 100;
/// The most teachers a course has.
pub const MAX_TEACHERS: usize = 10;
/// The most groups linked to one course (each course's list is one item).
pub const MAX_LINKED_GROUPS: usize = 50;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub id: GroupId,
    pub org_id: OrgId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The course it is linked to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_id: Option<CourseId>,
    #[serde(default)]
    pub member_count: u64,
    /// Bumped by edits of its own fields (the ETag); adding people leaves it.
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Course {
    pub id: CourseId,
    pub org_id: OrgId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, with = "serde_dynamo::string_set", skip_serializing_if = "Vec::is_empty")]
    pub teacher_ids: Vec<UserId>,
    #[serde(default, with = "serde_dynamo::string_set", skip_serializing_if = "Vec::is_empty")]
    pub linked_group_ids: Vec<GroupId>,
    #[serde(default)]
    pub student_count: u64,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Group {
    /// A new group with no one in it yet, made from (and linked to) `course` when given.
    pub fn new(org: &OrgId, naming: Naming, course: Option<CourseId>, now: Timestamp) -> Self {
        Group {
            id: GroupId::new(),
            org_id: org.clone(),
            name: naming.name,
            description: naming.description,
            course_id: course,
            member_count: 0,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

impl Course {
    /// A new course with its teachers, no students and no groups yet.
    pub fn new(org: &OrgId, naming: Naming, teacher_ids: Vec<UserId>, now: Timestamp) -> Self {
        Course {
            id: CourseId::new(),
            org_id: org.clone(),
            name: naming.name,
            description: naming.description,
            teacher_ids,
            linked_group_ids: Vec::new(),
            student_count: 0,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn has_teacher(&self, user: &UserId) -> bool {
        self.teacher_ids.contains(user)
    }
}

/// What a place is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    /// A member of a group.
    Group,
    /// A student of a course.
    Course,
}

/// What a person is in a group: its teachers add and remove its students, post
/// announcements and moderate its posts and files; its students take part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupRole {
    Teacher,
    Student,
}

impl GroupRole {
    /// The role a member takes in a group when none is given: a teacher of the
    /// organization teaches, anyone else studies.
    pub fn of(m: &super::Membership) -> GroupRole {
        if m.has_role(super::Role::Teacher) {
            GroupRole::Teacher
        } else {
            GroupRole::Student
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            GroupRole::Teacher => "teacher",
            GroupRole::Student => "student",
        }
    }
}

/// A group or a course, as what people have places in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceIn<'a> {
    Group(&'a GroupId),
    Course(&'a CourseId),
}

impl PlaceIn<'_> {
    pub fn kind(&self) -> PlaceKind {
        match self {
            PlaceIn::Group(_) => PlaceKind::Group,
            PlaceIn::Course(_) => PlaceKind::Course,
        }
    }

    /// The group's or course's ID as its items hold it.
    pub fn id(&self) -> &str {
        match self {
            PlaceIn::Group(g) => g.as_str(),
            PlaceIn::Course(c) => c.as_str(),
        }
    }
}

/// A group's or a course's ID, owned (a filter naming one, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceOf {
    Group(GroupId),
    Course(CourseId),
}

impl PlaceOf {
    pub fn place_in(&self) -> PlaceIn<'_> {
        match self {
            PlaceOf::Group(g) => PlaceIn::Group(g),
            PlaceOf::Course(c) => PlaceIn::Course(c),
        }
    }
}

/// A person's place in a group or course.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Place {
    pub org_id: OrgId,
    /// The group's or course's ID.
    pub of: String,
    pub user_id: UserId,
    pub added_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_by: Option<UserId>,
    /// A group member who turned off the group's announcement emails.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub muted: bool,
    /// Their role in a group (a course's places have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<GroupRole>,
}

/// A group's or course's name and description as given, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    pub name: String,
    pub description: Option<String>,
}

impl Naming {
    /// Checks a name (required, one line) and an optional description (lines kept),
    /// collecting both fields' errors.
    pub fn parse(name: &str, description: Option<&str>) -> Result<Self, Vec<(String, String)>> {
        let mut errors = Vec::new();
        let name = text::required(name, MAX_NAME).map_err(|e| errors.push(("name".to_string(), e))).ok();
        let description = match description.map(|d| text::multiline_optional(d, MAX_DESCRIPTION)) {
            None => None,
            Some(Ok(d)) => d,
            Some(Err(e)) => {
                errors.push(("description".into(), e));
                None
            }
        };
        match name {
            Some(name) if errors.is_empty() => Ok(Naming { name, description }),
            _ => Err(errors),
        }
    }
}

/// A list of user IDs to add: 1 to [`MAX_ADD`], duplicates dropped, in the order given.
/// Text that cannot be a user ID is kept as given (it is answered `not_member`).
pub fn user_list(raw: &[String]) -> Result<Vec<String>, String> {
    if raw.is_empty() || raw.len() > MAX_ADD {
        return Err(format!("give 1 to {MAX_ADD} user IDs"));
    }
    let mut seen = std::collections::HashSet::new();
    Ok(raw.iter().filter(|u| seen.insert(u.as_str())).cloned().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naming_checks_both_fields() {
        let n = Naming::parse("  7 класс: алгебра ", Some("Группа\nпо алгебре")).unwrap();
        assert_eq!(n.name, "7 класс: алгебра");
        assert_eq!(n.description.as_deref(), Some("Группа\nпо алгебре"));
        let errs = Naming::parse("", Some(&"я".repeat(MAX_DESCRIPTION + 1))).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["name", "description"]);
        assert!(Naming::parse("a\nb", None).is_err());
    }

    #[test]
    fn user_lists_are_bounded_and_deduplicated() {
        assert!(user_list(&[]).is_err());
        assert!(user_list(&vec!["u".to_string(); MAX_ADD + 1]).is_err());
        let l = user_list(&["b".into(), "a".into(), "b".into()]).unwrap();
        assert_eq!(l, ["b", "a"]);
    }
}
