//! Roles in an organization and the rules of a role grant (SPEC R1.2).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Teacher,
    Staff,
    Student,
    Parent,
}

impl Role {
    /// Only members holding one of these roles can be appointed admin (R1.3).
    pub fn can_be_admin(self) -> bool {
        matches!(self, Role::Teacher | Role::Staff)
    }
}

/// The most classes one grant may name (a parent of many children, a teacher of many
/// classes), which also bounds the transactions that move class places.
pub const MAX_CLASSES: usize = 20;

/// A grant's `position` and `specialization`, in characters.
pub const MAX_ROLE_TEXT: usize = 200;

/// The grants of one person: each role at most once.
pub const MAX_GRANTS: usize = 4;

/// One role held or offered, with what the role needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleGrant {
    pub role: Role,
    /// Required for `teacher` and `staff`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// A teacher's subject, e.g. "Mathematics".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specialization: Option<String>,
    /// `student`: exactly one current class; `parent`: one or more children's classes;
    /// `teacher`: the classes taught (optional).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub class_ids: Vec<String>,
}

impl RoleGrant {
    pub fn staff(position: &str) -> Self {
        RoleGrant { role: Role::Staff, position: Some(position.into()), specialization: None, class_ids: vec![] }
    }

    /// Checks the grant's own rules and normalizes its texts; `field` prefixes the paths
    /// of the errors (`roles[0]`).
    pub fn validate(mut self, field: &str, errors: &mut Vec<(String, String)>) -> Option<Self> {
        let before = errors.len();
        let mut check_text = |name: &str, value: &mut Option<String>, required: bool| {
            match value.as_deref().map(|v| text::optional(v, MAX_ROLE_TEXT)) {
                Some(Ok(v)) => *value = v,
                Some(Err(e)) => errors.push((format!("{field}.{name}"), e)),
                None => {}
            }
            if required && value.is_none() && !errors.iter().any(|(f, _)| f == &format!("{field}.{name}")) {
                errors.push((format!("{field}.{name}"), format!("is required for the {} role", role_name(self.role))));
            }
        };
        let needs_position = matches!(self.role, Role::Teacher | Role::Staff);
        check_text("position", &mut self.position, needs_position);
        check_text("specialization", &mut self.specialization, false);
        if self.specialization.is_some() && self.role != Role::Teacher {
            errors.push((format!("{field}.specialization"), "only a teacher has a specialization".into()));
        }
        let mut seen = std::collections::HashSet::new();
        if self.class_ids.iter().any(|c| c.len() != 26 || !c.chars().all(|ch| ch.is_ascii_alphanumeric())) {
            errors.push((format!("{field}.class_ids"), "lists something that is not a class ID".into()));
        } else if self.class_ids.len() > MAX_CLASSES {
            errors.push((format!("{field}.class_ids"), format!("at most {MAX_CLASSES} classes")));
        } else if self.class_ids.iter().any(|c| !seen.insert(c.clone())) {
            errors.push((format!("{field}.class_ids"), "lists a class twice".into()));
        }
        match self.role {
            Role::Student if self.class_ids.len() != 1 => {
                errors.push((format!("{field}.class_ids"), "a student needs exactly one current class".into()))
            }
            Role::Parent if self.class_ids.is_empty() => errors.push((
                format!("{field}.class_ids"),
                "a parent needs the class of at least one of their children".into(),
            )),
            Role::Staff if !self.class_ids.is_empty() => {
                errors.push((format!("{field}.class_ids"), "staff have no classes".into()))
            }
            _ => {}
        }
        (errors.len() == before).then_some(self)
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Teacher => "teacher",
        Role::Staff => "staff",
        Role::Student => "student",
        Role::Parent => "parent",
    }
}

/// Validates a list of grants: at least one, each role once.
pub fn validate_grants(grants: Vec<RoleGrant>, field: &str) -> Result<Vec<RoleGrant>, Vec<(String, String)>> {
    let mut errors = Vec::new();
    if grants.is_empty() {
        errors.push((field.to_string(), "needs at least one role".into()));
    }
    let mut roles = std::collections::HashSet::new();
    let mut valid = Vec::new();
    for (i, grant) in grants.into_iter().enumerate() {
        if !roles.insert(grant.role) {
            errors.push((format!("{field}[{i}].role"), "this role is listed twice".into()));
        }
        if let Some(g) = grant.validate(&format!("{field}[{i}]"), &mut errors) {
            valid.push(g);
        }
    }
    if errors.is_empty() {
        Ok(valid)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(role: Role, position: Option<&str>, classes: &[&str]) -> RoleGrant {
        RoleGrant {
            role,
            position: position.map(Into::into),
            specialization: None,
            class_ids: classes.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn teacher_and_staff_need_a_position() {
        assert!(validate_grants(vec![grant(Role::Teacher, None, &[])], "roles").is_err());
        assert!(validate_grants(vec![grant(Role::Staff, Some("  "), &[])], "roles").is_err());
        assert!(validate_grants(vec![grant(Role::Teacher, Some("Учитель"), &[])], "roles").is_ok());
    }

    #[test]
    fn students_need_one_class_parents_at_least_one() {
        assert!(validate_grants(vec![grant(Role::Student, None, &[])], "roles").is_err());
        assert!(validate_grants(
            vec![grant(Role::Student, None, &["01jaaaaaaaaaaaaaaaaaaaaaaa", "01jbbbbbbbbbbbbbbbbbbbbbbb"])],
            "roles"
        )
        .is_err());
        assert!(validate_grants(vec![grant(Role::Student, None, &["01jaaaaaaaaaaaaaaaaaaaaaaa"])], "roles").is_ok());
        assert!(validate_grants(vec![grant(Role::Parent, None, &[])], "roles").is_err());
        assert!(validate_grants(
            vec![grant(Role::Parent, None, &["01jaaaaaaaaaaaaaaaaaaaaaaa", "01jbbbbbbbbbbbbbbbbbbbbbbb"])],
            "roles"
        )
        .is_ok());
    }

    #[test]
    fn several_roles_at_once_but_each_once() {
        let teacher_parent = vec![
            grant(Role::Teacher, Some("Учитель"), &[]),
            grant(Role::Parent, None, &["01jccccccccccccccccccccccc"]),
        ];
        assert_eq!(validate_grants(teacher_parent, "roles").unwrap().len(), 2);
        let twice = vec![grant(Role::Staff, Some("a"), &[]), grant(Role::Staff, Some("b"), &[])];
        let errs = validate_grants(twice, "roles").unwrap_err();
        assert_eq!(errs[0].0, "roles[1].role");
        assert!(validate_grants(vec![], "roles").is_err());
    }

    #[test]
    fn class_ids_must_look_like_ids_and_stay_few() {
        assert!(validate_grants(vec![grant(Role::Student, None, &["x"])], "roles").is_err());
        let many: Vec<String> = (0..21).map(|i| format!("01j{i:0>23}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(validate_grants(vec![grant(Role::Parent, None, &many)], "roles").is_err());
        assert!(validate_grants(vec![grant(Role::Parent, None, &many[..20])], "roles").is_ok());
    }

    #[test]
    fn only_teachers_and_staff_can_be_admins() {
        assert!(Role::Teacher.can_be_admin() && Role::Staff.can_be_admin());
        assert!(!Role::Student.can_be_admin() && !Role::Parent.can_be_admin());
    }
}
