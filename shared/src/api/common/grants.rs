//! Role grants as requests offer them: checked against their own rules and against the
//! organization's classes and groups.

use std::collections::BTreeSet;

use crate::domain::roles::{validate_grants, MAX_CLASSES};
use crate::domain::{Class, ClassId, GroupId, Org, OrgId, Role, RoleGrant, UserId};
use crate::http::Code;
use crate::http::{ApiError, FieldError};
use crate::Ctx;

/// Validates role grants against the organization: their own rules, then that the classes
/// they name exist and have not graduated. 409 `classes_required` when a role needs a
/// class and the organization has none yet.
pub async fn check_grants(
    ctx: &Ctx,
    org: &Org,
    grants: Vec<RoleGrant>,
    field: &str,
) -> Result<Vec<RoleGrant>, ApiError> {
    let ids = named_classes(&grants);
    let classes = if ids.is_empty() { Vec::new() } else { ctx.store().classes_by_id(&org.id, &ids).await? };
    check_grants_with(org, grants, field, &classes)
}

/// The IDs of the classes grants name (those that can be IDs): what [`check_grants_with`]
/// needs read, for a caller that reads them along with something else. At most one
/// batch's worth: valid grants name far fewer (4 roles, [`MAX_CLASSES`] each), and
/// [`check_grants_with`] refuses the others.
pub fn named_classes(grants: &[RoleGrant]) -> BTreeSet<ClassId> {
    grants.iter().flat_map(|g| g.class_ids.iter().filter_map(|id| ClassId::parse(id))).take(4 * MAX_CLASSES).collect()
}

/// As [`check_grants`], with the organization's classes that the grants name already read.
pub fn check_grants_with(
    org: &Org,
    grants: Vec<RoleGrant>,
    field: &str,
    classes: &[Class],
) -> Result<Vec<RoleGrant>, ApiError> {
    let needs_class = grants.iter().any(|g| matches!(g.role, Role::Student | Role::Parent));
    if needs_class && org.class_count == 0 {
        return Err(ApiError::conflict(
            Code::ClassesRequired,
            "Students and parents belong to classes, and this organization has none yet: create its classes first.",
        ));
    }
    let grants = validate_grants(grants, field).map_err(field_errors)?;
    let mut errors = Vec::new();
    for (i, g) in grants.iter().enumerate() {
        for id in &g.class_ids {
            match classes.iter().find(|c| c.id.as_str() == id) {
                None => errors.push(FieldError::new(
                    format!("{field}[{i}].class_ids"),
                    format!("no class {id} in this organization"),
                )),
                Some(c) if c.graduated => errors.push(FieldError::new(
                    format!("{field}[{i}].class_ids"),
                    format!("class {} has graduated", c.name),
                )),
                Some(_) => {}
            }
        }
    }
    if errors.is_empty() {
        Ok(grants)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The domain's `(field, message)` errors as a 422.
pub fn field_errors(errors: Vec<(String, String)>) -> ApiError {
    ApiError::Validation(errors.into_iter().map(|(f, m)| FieldError::new(f, m)).collect())
}

/// Whether `raw` names a group of the organization.
pub async fn group_exists(ctx: &Ctx, org: &OrgId, raw: &str) -> Result<bool, ApiError> {
    match GroupId::parse(raw) {
        Some(id) => Ok(ctx.store().group(org, &id).await?.is_some()),
        None => Ok(false),
    }
}

/// A list of people named by user ID in `field` (teachers of a class or course): at most
/// `max` of `what`, each a user ID, duplicates dropped in the order given.
pub fn user_ids(raw: &[String], field: &str, max: usize, what: &str) -> Result<Vec<String>, ApiError> {
    if raw.len() > max {
        return Err(ApiError::validation(field, format!("at most {max} {what}")));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        if UserId::parse(t).is_none() {
            return Err(ApiError::validation(format!("{field}[{i}]"), "is not a user ID"));
        }
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    Ok(out)
}

/// The roles a journal record gives now (its classes still open) with the names of their
/// classes, or none yet.
pub async fn journal_roles(
    ctx: &Ctx,
    p: &crate::domain::RosterPerson,
) -> Result<(Vec<RoleGrant>, Vec<super::views::ClassRef>), ApiError> {
    let Some(roles) = crate::roster::link::grants(ctx, p).await? else { return Ok((Vec::new(), Vec::new())) };
    let ids = named_classes(&roles);
    let classes = if ids.is_empty() { Vec::new() } else { ctx.store().classes_by_id(&p.org_id, &ids).await? };
    let refs = ids
        .iter()
        .filter_map(|id| classes.iter().find(|c| &c.id == id))
        .map(|c| super::views::ClassRef { id: c.id.to_string(), name: c.name.clone() })
        .collect();
    Ok((roles, refs))
}

/// What admins see of the journal record a login request names.
pub async fn roster_match(ctx: &Ctx, org: &OrgId, login: &str) -> Result<super::views::RosterMatch, ApiError> {
    let Some(p) = ctx.store().roster_person_by_identifier(org, login).await? else {
        return Ok(super::views::RosterMatch::none());
    };
    let (roles, classes) = journal_roles(ctx, &p).await?;
    Ok(super::views::RosterMatch {
        found: true,
        linked: p.user_id.is_some(),
        id: Some(p.sourced_id.to_string()),
        name: Some(p.name.clone()),
        email: p.email.clone(),
        roles,
        classes,
    })
}
