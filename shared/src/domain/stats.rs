//! An organization in figures (SPEC R9.1): read from counters kept in the same
//! transactions as the changes they count, never by counting items.

use serde::Serialize;
use utoipa::ToSchema;

use super::files::ORG_QUOTA;
use super::{InviteLink, Org, Role, Timestamp};

/// How many days the activity figures cover.
pub const ACTIVITY_DAYS: usize = 30;

/// The counts a summary reads beside the organization: per day, and the journal's people
/// waiting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayCounts {
    /// The days, today first (`2026-12-06`).
    pub days: Vec<String>,
    /// Members last active on each day.
    pub last_active: Vec<u64>,
    /// Members active on each day (each once a day).
    pub active: Vec<u64>,
    /// Invitations pending now.
    pub pending_invitations: u64,
    /// The journal's people nobody has joined as yet.
    pub waiting: WaitingCounts,
}

/// The roles, in the order of [`RoleCounts`].
pub const WAITING_ROLES: [Role; 4] = [Role::Teacher, Role::Staff, Role::Student, Role::Parent];

/// Members holding each role (a member with two roles counts in both); or people of the
/// journal waiting, by the role their record gives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoleCounts {
    pub teacher: u32,
    pub staff: u32,
    pub student: u32,
    pub parent: u32,
}

/// The people of the school's journal (imported records) nobody has joined as yet, by the
/// role the journal gives. A record counts from its import until someone joins as it
/// (accepts its offer, or an admin accepts their request to link by journal login), or
/// the journal deletes it. One whose offer was declined still counts: nothing tells the
/// school that an address is registered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct WaitingCounts {
    pub total: u32,
    pub by_role: RoleCounts,
}

impl WaitingCounts {
    pub fn of(by_role: RoleCounts) -> Self {
        let total = [by_role.teacher, by_role.staff, by_role.student, by_role.parent]
            .into_iter()
            .fold(0u32, u32::saturating_add);
        WaitingCounts { total, by_role }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberCounts {
    pub total: u32,
    pub admins: u32,
    pub by_role: RoleCounts,
}

/// The organization's ready group files and the room they take.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileCounts {
    pub count: u64,
    pub bytes: u64,
    pub quota_bytes: u64,
}

/// Invitation links that can be used now (not revoked, expired or used up), and how many
/// times they were.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkCounts {
    pub active: u64,
    pub uses: u64,
}

/// Email invitations not answered yet and not expired (an invitation expiring later
/// today counts until the day ends, UTC).
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationCounts {
    pub pending: u64,
}

/// The organization in figures, from counters kept in the same transactions as the
/// changes they count.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "members": {"total": 1874, "admins": 3, "by_role": {"teacher": 52, "staff": 10, "student": 1000, "parent": 815}},
    "classes": 34,
    "groups": 12,
    "courses": 8,
    "pending_join_requests": 3,
    "invite_links": {"active": 4, "uses": 57},
    "invitations": {"pending": 41},
    "waiting": {"total": 214, "by_role": {"teacher": 6, "staff": 1, "student": 112, "parent": 95}},
    "files": {"count": 318, "bytes": 1876543210, "quota_bytes": 10737418240_u64},
    "active_7d": 1210,
    "active_30d": 1652,
    "as_of": "2026-12-06T08:14:09.388Z"
}))]
pub struct Summary {
    pub members: MemberCounts,
    pub classes: u32,
    pub groups: u32,
    pub courses: u32,
    pub pending_join_requests: u32,
    pub invite_links: LinkCounts,
    pub invitations: InvitationCounts,
    /// The people of the school's journal nobody has joined as yet.
    pub waiting: WaitingCounts,
    pub files: FileCounts,
    /// Members who used the organization's pages on one of the last 7 days (UTC, today
    /// included); a member removed since still counts for the days they were active.
    pub active_7d: u64,
    /// The same over the last 30 days.
    pub active_30d: u64,
    /// When the figures were read.
    pub as_of: Timestamp,
}

impl Summary {
    /// The figures from the organization's counters, its day counts and its links.
    pub fn of(o: &Org, days: &DayCounts, links: &[InviteLink], now: Timestamp) -> Self {
        let last_active = &days.last_active;
        let active: Vec<&InviteLink> = links.iter().filter(|l| l.refusal(now).is_none()).collect();
        Summary {
            members: MemberCounts {
                total: o.member_count,
                admins: o.admin_count,
                by_role: RoleCounts {
                    teacher: o.teacher_count,
                    staff: o.staff_count,
                    student: o.student_count,
                    parent: o.parent_count,
                },
            },
            classes: o.class_count,
            groups: o.group_count,
            courses: o.course_count,
            pending_join_requests: o.pending_join_requests,
            invite_links: LinkCounts {
                active: active.len() as u64,
                uses: active.iter().map(|l| u64::from(l.uses)).sum(),
            },
            invitations: InvitationCounts { pending: days.pending_invitations },
            waiting: days.waiting.clone(),
            files: FileCounts {
                count: o.file_count,
                bytes: o.storage_bytes.saturating_sub(o.reserved_bytes),
                quota_bytes: ORG_QUOTA,
            },
            active_7d: last_active.iter().take(7).sum(),
            active_30d: last_active.iter().take(30).sum(),
            as_of: now,
        }
    }
}
