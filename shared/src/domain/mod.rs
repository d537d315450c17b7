//! Plain types and rules: parsed at the boundary, trusted everywhere after. No I/O.

pub mod contact;
pub mod ids;
pub mod input;
pub mod org;
pub mod roles;
pub mod school;
pub mod text;
pub mod time;
pub mod users;

pub use contact::{Email, Phone, Website};
pub use ids::{OrgId, UserId};
pub use input::{FieldErrors, Patch};
pub use roles::{Role, RoleGrant};
pub use school::{AcademicYear, ClassName};
pub use time::Timestamp;
pub use users::{Identity, ProfileChanges, User};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The language a person reads the product and its emails in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Ru,
    En,
}

impl Language {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "ru" => Ok(Language::Ru),
            "en" => Ok(Language::En),
            _ => Err("must be `ru` or `en`".into()),
        }
    }
}
