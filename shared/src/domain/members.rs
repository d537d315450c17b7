//! Memberships: a person in an organization with role grants and the admin flag, and the
//! class places their grants give them.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::classes::Roster;
use super::{ClassId, CourseId, GroupId, OrgId, Role, RoleGrant, Timestamp, UserId};

/// How a person became a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MembershipSource {
    Manual,
    Link,
    Invitation,
    Journal,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Membership {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub roles: Vec<RoleGrant>,
    pub admin: bool,
    pub source: MembershipSource,
    pub joined_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active_at: Option<Timestamp>,
    /// The UTC days (`2026-11-23`) of the last 30 on which the member was active.
    #[serde(default)]
    pub active_days: Vec<String>,
    /// Classes the member was promoted out of, oldest first.
    #[serde(default)]
    pub class_history: Vec<ClassId>,
    /// The groups they belong to (each also a place item of the group).
    #[serde(default, with = "serde_dynamo::string_set", skip_serializing_if = "Vec::is_empty")]
    pub group_ids: Vec<GroupId>,
    /// The groups they teach (of `group_ids`: their place there has the teacher role).
    #[serde(default, with = "serde_dynamo::string_set", skip_serializing_if = "Vec::is_empty")]
    pub teaching_group_ids: Vec<GroupId>,
    /// The courses they study (each also a place item of the course).
    #[serde(default, with = "serde_dynamo::string_set", skip_serializing_if = "Vec::is_empty")]
    pub course_ids: Vec<CourseId>,
    /// The courses they teach (each course lists them in `teacher_ids`).
    #[serde(default, with = "serde_dynamo::string_set", skip_serializing_if = "Vec::is_empty")]
    pub teaching_course_ids: Vec<CourseId>,
    /// Threads and replies they wrote in groups (kept as they post, for the statistics).
    #[serde(default)]
    pub post_count: u64,
    /// Announcements they posted.
    #[serde(default)]
    pub announcement_count: u64,
    /// Files they shared (completed uploads).
    #[serde(default)]
    pub file_count: u64,
    /// Bumped by every change; writes are conditional on the version read.
    #[serde(default)]
    pub version: u64,
}

impl Membership {
    pub fn new(
        org: &OrgId,
        user: &UserId,
        name: &str,
        email: Option<&str>,
        roles: Vec<RoleGrant>,
        admin: bool,
        source: MembershipSource,
    ) -> Self {
        Membership {
            org_id: org.clone(),
            user_id: user.clone(),
            name: name.into(),
            email: email.map(Into::into),
            roles,
            admin,
            source,
            joined_at: Timestamp::now(),
            last_active_at: None,
            active_days: Vec::new(),
            class_history: Vec::new(),
            group_ids: Vec::new(),
            teaching_group_ids: Vec::new(),
            course_ids: Vec::new(),
            teaching_course_ids: Vec::new(),
            post_count: 0,
            announcement_count: 0,
            file_count: 0,
            // Unique across a person's memberships over time (a membership ended and made
            // again must not match conditions on the old one's version).
            version: time::OffsetDateTime::now_utc().unix_timestamp_nanos() as u64 / 1_000,
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|g| g.role == role)
    }

    /// Whether they are a teacher of group `group`: in it as a teacher, while they hold
    /// the teacher role in the organization.
    pub fn teaches_group(&self, group: &GroupId) -> bool {
        self.has_role(Role::Teacher) && self.teaching_group_ids.contains(group)
    }

    /// Teachers and staff can be admins (R1.3).
    pub fn can_be_admin(&self) -> bool {
        self.roles.iter().any(|g| g.role.can_be_admin())
    }

    /// A student or parent grant left without a class (its class was deleted).
    pub fn needs_class(&self) -> bool {
        self.roles.iter().any(|g| matches!(g.role, Role::Student | Role::Parent) && g.class_ids.is_empty())
    }

    /// The roles left without a class (see [`Membership::needs_class`]).
    pub fn roles_needing_class(&self) -> Vec<Role> {
        self.roles
            .iter()
            .filter(|g| matches!(g.role, Role::Student | Role::Parent) && g.class_ids.is_empty())
            .map(|g| g.role)
            .collect()
    }

    /// The class rosters this member is on.
    pub fn places(&self) -> BTreeSet<(Roster, ClassId)> {
        places(&self.roles)
    }

    /// The classes this member has a place in (grants name them by ID).
    pub fn class_ids(&self) -> BTreeSet<ClassId> {
        self.places().into_iter().map(|(_, c)| c).collect()
    }

    pub fn teaches(&self, class: &ClassId) -> bool {
        self.roles.iter().any(|g| g.role == Role::Teacher && g.class_ids.iter().any(|c| c == class.as_str()))
    }

    /// This member with the class taken out of their grants: the next version.
    pub fn without_class(&self, class: &ClassId) -> Membership {
        let mut changed = self.clone();
        for g in changed.roles.iter_mut() {
            g.class_ids.retain(|id| id != class.as_str());
        }
        changed.version = self.version + 1;
        changed
    }

    pub fn last_active_day(&self) -> Option<String> {
        self.last_active_at.map(|t| t.day())
    }

    /// The days of the last 30 (today included) on which they were active.
    pub fn active_days_30(&self, now: Timestamp) -> usize {
        let oldest = now.plus(time::Duration::days(-29)).day();
        self.active_days.iter().filter(|d| **d >= oldest).count()
    }

    /// The position of their teacher or staff role.
    pub fn position(&self) -> Option<&str> {
        self.roles.iter().find(|g| matches!(g.role, Role::Teacher | Role::Staff)).and_then(|g| g.position.as_deref())
    }

    /// The classes they teach.
    pub fn taught_class_ids(&self) -> Vec<String> {
        self.roles.iter().filter(|g| g.role == Role::Teacher).flat_map(|g| g.class_ids.iter().cloned()).collect()
    }

    /// What audit entries record of a membership.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({"name": self.name, "roles": self.roles, "admin": self.admin})
    }
}

/// The rosters a set of grants puts a person on (by the grants' class IDs; what cannot be
/// one names no class).
pub fn places(roles: &[RoleGrant]) -> BTreeSet<(Roster, ClassId)> {
    let mut out = BTreeSet::new();
    for g in roles {
        let roster = match g.role {
            Role::Student => Roster::Students,
            Role::Parent => Roster::Parents,
            Role::Teacher => Roster::Teachers,
            Role::Staff => continue,
        };
        for c in g.class_ids.iter().filter_map(|c| ClassId::parse(c)) {
            out.insert((roster, c));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_days_count_the_last_30_only() {
        let now = Timestamp::parse("2026-12-06T10:00:00Z").unwrap();
        let org = OrgId::parse("k7m3xq9pza").unwrap();
        let mut m =
            Membership::new(&org, &UserId::parse("u1").unwrap(), "Анна", None, vec![], false, MembershipSource::Manual);
        m.active_days = ["2026-11-06", "2026-11-07", "2026-12-01", "2026-12-06"].map(String::from).to_vec();
        assert_eq!(m.active_days_30(now), 3, "2026-11-06 is 30 days back: out");
    }
}
