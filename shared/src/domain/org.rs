//! Organizations: the profile fields and their rules (SPEC R2.1, R2.2), and the
//! organization with its counters.

use serde::{Deserialize, Serialize};

use super::input::{FieldErrors, Patch};
use super::{text, Email, OrgId, Phone, Timestamp, UserId, Website};

pub const NAME_MAX: usize = 200;
pub const SHORT_NAME_MAX: usize = 60;
pub const ADDRESS_MAX: usize = 500;
pub const DESCRIPTION_MAX: usize = 5000;
/// Organizations one person may create in a UTC day: a school is made once; more is
/// someone making organizations to mail from.
pub const DAILY_ORGS_PER_PERSON: u32 = 5;

/// A valid organization profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrgProfile {
    pub name: String,
    pub short_name: Option<String>,
    pub address: Option<String>,
    pub website: Option<Website>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub description: Option<String>,
}

impl OrgProfile {
    /// What audit entries record of a profile.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name, "short_name": self.short_name, "address": self.address,
            "website": self.website, "phone": self.phone, "email": self.email, "description": self.description,
        })
    }
}

/// An organization: its profile and the counters its transactions keep.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<Website>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Bumped by every profile change; the ETag.
    pub version: u64,
    /// Kept in the same transaction as every admin change; never below 1.
    pub admin_count: u32,
    pub member_count: u32,
    /// Classes that exist (graduated ones included); kept with every class create/delete.
    #[serde(default)]
    pub class_count: u32,
    /// Join requests awaiting an admin's decision.
    #[serde(default)]
    pub pending_join_requests: u32,
    /// Groups and courses that exist; kept with every create and delete.
    #[serde(default)]
    pub group_count: u32,
    #[serde(default)]
    pub course_count: u32,
    /// Members holding each role (a member with two roles counts in both); kept in the
    /// same transaction as every change of members and roles.
    #[serde(default)]
    pub teacher_count: u32,
    #[serde(default)]
    pub staff_count: u32,
    #[serde(default)]
    pub student_count: u32,
    #[serde(default)]
    pub parent_count: u32,
    /// The bytes its quota counts ([`crate::domain::files::ORG_QUOTA`]): its ready group
    /// files and the uploads under way, each reserved when announced (kept with every
    /// announced, completed, deleted and expired upload and every deleted file).
    #[serde(default)]
    pub storage_bytes: u64,
    /// The part of `storage_bytes` reserved by uploads not completed yet.
    #[serde(default)]
    pub reserved_bytes: u64,
    /// Its ready group files.
    #[serde(default)]
    pub file_count: u64,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Org {
    /// A new organization with this profile, made by `creator` as its first (and only)
    /// member and admin.
    pub fn new(profile: OrgProfile, creator: &UserId, now: Timestamp) -> Org {
        Org {
            id: OrgId::generate(),
            name: profile.name,
            short_name: profile.short_name,
            address: profile.address,
            website: profile.website,
            phone: profile.phone,
            email: profile.email,
            description: profile.description,
            version: 1,
            admin_count: 1,
            member_count: 1,
            class_count: 0,
            pending_join_requests: 0,
            group_count: 0,
            course_count: 0,
            teacher_count: 0,
            staff_count: 0,
            student_count: 0,
            parent_count: 0,
            storage_bytes: 0,
            reserved_bytes: 0,
            file_count: 0,
            created_by: creator.clone(),
            created_at: now,
            updated_at: now,
        }
    }

    pub fn profile(&self) -> OrgProfile {
        OrgProfile {
            name: self.name.clone(),
            short_name: self.short_name.clone(),
            address: self.address.clone(),
            website: self.website.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            description: self.description.clone(),
        }
    }

    pub fn with_profile(&self, p: &OrgProfile, now: Timestamp) -> Org {
        Org {
            name: p.name.clone(),
            short_name: p.short_name.clone(),
            address: p.address.clone(),
            website: p.website.clone(),
            phone: p.phone.clone(),
            email: p.email.clone(),
            description: p.description.clone(),
            version: self.version + 1,
            updated_at: now,
            ..self.clone()
        }
    }
}

/// The profile fields as a request sends them.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub name: Patch<String>,
    pub short_name: Patch<String>,
    pub address: Patch<String>,
    pub website: Patch<String>,
    pub phone: Patch<String>,
    pub email: Patch<String>,
    pub description: Patch<String>,
}

impl OrgProfile {
    /// Applies the input to this profile (for a create, to an empty one), collecting every
    /// field error. Empty text clears an optional field.
    pub fn apply(&self, input: ProfileInput, v: &mut impl FieldErrors) -> Option<OrgProfile> {
        let mut out = self.clone();
        match input.name {
            Patch::Keep => {}
            Patch::Clear => v.error("name", "must not be empty".into()),
            Patch::Set(raw) => {
                if let Some(n) = v.check("name", text::required(&raw, NAME_MAX)) {
                    out.name = n;
                }
            }
        }
        if out.name.is_empty() && !v.has_error("name") {
            v.error("name", "is required".into());
        }
        apply_opt(&mut out.short_name, input.short_name, "short_name", v, |s| text::optional(s, SHORT_NAME_MAX));
        apply_opt(&mut out.address, input.address, "address", v, |s| text::optional(s, ADDRESS_MAX));
        apply_opt(&mut out.description, input.description, "description", v, |s| {
            text::multiline_optional(s, DESCRIPTION_MAX)
        });
        apply_opt(&mut out.website, input.website, "website", v, |s| opt_parse(s, Website::parse));
        apply_opt(&mut out.phone, input.phone, "phone", v, |s| opt_parse(s, Phone::parse));
        apply_opt(&mut out.email, input.email, "email", v, |s| opt_parse(s, Email::parse));
        Some(out)
    }
}

fn opt_parse<T>(raw: &str, parse: fn(&str) -> Result<T, String>) -> Result<Option<T>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        parse(raw).map(Some)
    }
}

fn apply_opt<T>(
    slot: &mut Option<T>,
    input: Patch<String>,
    field: &str,
    v: &mut impl FieldErrors,
    parse: impl Fn(&str) -> Result<Option<T>, String>,
) {
    match input {
        Patch::Keep => {}
        Patch::Clear => *slot = None,
        Patch::Set(raw) => {
            if let Some(value) = v.check(field, parse(&raw)) {
                *slot = value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Validator;

    #[test]
    fn create_needs_a_name_and_valid_contacts() {
        let mut v = Validator::new();
        let input = ProfileInput {
            phone: Patch::Set("12345".into()),
            website: Patch::Set("school.ru".into()),
            email: Patch::Set("nope".into()),
            ..Default::default()
        };
        OrgProfile::default().apply(input, &mut v);
        let err = v.finish().unwrap_err();
        let fields: Vec<String> = match err {
            crate::http::ApiError::Validation(e) => e.into_iter().map(|e| e.field).collect(),
            _ => unreachable!(),
        };
        assert_eq!(fields, ["name", "website", "phone", "email"]);
    }

    #[test]
    fn patch_keeps_clears_and_sets() {
        let base =
            OrgProfile { name: "Школа №1".into(), address: Some("Москва".into()), ..Default::default() };
        let mut v = Validator::new();
        let input = ProfileInput {
            address: Patch::Clear,
            phone: Patch::Set("+7 916 123 45 67".into()),
            short_name: Patch::Set("".into()),
            ..Default::default()
        };
        let out = base.apply(input, &mut v).unwrap();
        v.finish().unwrap();
        assert_eq!(out.name, "Школа №1");
        assert_eq!(out.address, None);
        assert_eq!(out.phone.unwrap().as_str(), "+79161234567");
        assert_eq!(out.short_name, None);
    }
}
