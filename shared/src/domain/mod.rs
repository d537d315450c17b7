//! Plain types and rules: the entities and what holds for them, parsed at the boundary
//! and trusted everywhere after. No I/O, and nothing of the store, HTTP or handlers.

pub mod audit;
pub mod classes;
pub mod contact;
pub mod discussions;
pub mod events;
pub mod exports;
pub mod files;
pub mod groups;
pub mod ids;
pub mod imports;
pub mod input;
pub mod invitations;
pub mod join_requests;
pub mod links;
pub mod members;
pub mod notifications;
pub mod org;
pub mod roles;
pub mod school;
pub mod search;
pub mod stats;
pub mod text;
pub mod time;
pub mod users;

pub use audit::{Actor, AuditAction, AuditEntry};
pub use classes::{Class, ClassSource, Roster};
pub use contact::{Email, Phone, Website};
pub use discussions::{Post, PostKind, PostRef, PostRefusal, PostText};
pub use events::OutboxEvent;
pub use exports::{Export, ExportFormat, ExportKind, ExportStatus};
pub use files::{FileStatus, GroupFile};
pub use groups::{Course, Group, GroupRole, Naming, Place, PlaceIn, PlaceKind, PlaceOf};
pub use ids::SourcedId;
pub use ids::{
    AnnouncementId, ClassId, CourseId, EntityId, ExportId, FileId, GroupId, ImportId, InvitationId, JoinRequestId,
    LinkId, NotificationId, OrgId, ReplyId, ThreadId, UserId,
};
pub use ids::{AuditId, PostId};
pub use imports::{Import, ImportStatus, RosterPerson};
pub use input::{FieldErrors, Patch};
pub use invitations::{Delivery, Invitation, InvitationStatus};
pub use join_requests::{JoinRequest, JoinRequestStatus};
pub use links::{InviteLink, LinkKeys, LinkRefusal};
pub use members::{places, Membership, MembershipSource};
pub use notifications::{MailKind, MailSettings, Notification};
pub use org::{Org, OrgProfile};
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
