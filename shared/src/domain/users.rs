//! People: the signed-in person as the identity provider asserts them, and their profile.

use serde::{Deserialize, Serialize};

use super::{Language, Timestamp, UserId};

/// A person's display name, in characters.
pub const MAX_NAME: usize = 200;

/// The signed-in person as the identity provider asserts them (the ID token's claims).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: UserId,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

impl Identity {
    /// The name a new profile starts with: the token's, else the email's local part.
    pub fn initial_name(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.email.as_deref().and_then(|e| e.split('@').next()).map(str::to_string))
            .unwrap_or_default()
    }

    /// The verified address, lower-cased, or none (an unverified address proves nothing).
    pub fn verified_email(&self) -> Option<String> {
        if self.email_verified {
            self.email.as_deref().map(crate::domain::Email::normalized)
        } else {
            None
        }
    }
}

/// A person's profile, made on first use.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    pub name: String,
    #[serde(default)]
    pub language: Language,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Which mail they get (attributes of the profile item).
    #[serde(flatten, default)]
    pub mail: super::MailSettings,
}

/// What `PATCH /me` may change.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    pub name: Option<String>,
    pub language: Option<Language>,
}

impl ProfileChanges {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.language.is_none()
    }
}
