//! Statistics for a school's admins (R9): who of the employees uses the platform and how
//! (the seed's "Статистика" per employee), to help those who have not started.

use serde::Serialize;
use utoipa::ToSchema;

use super::access::{admin, member_and};
use super::inviting::VALID_DAYS;
use crate::domain::files::ORG_QUOTA;
use crate::domain::{InviteLink, Membership, Org, Role, RoleGrant, Timestamp};
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::store::orgs::Also;
use crate::Ctx;

/// Members holding each role (a member with two roles counts in both).
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleCounts {
    pub teacher: u32,
    pub staff: u32,
    pub student: u32,
    pub parent: u32,
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
pub struct SummaryView {
    pub members: MemberCounts,
    pub classes: u32,
    pub groups: u32,
    pub courses: u32,
    pub pending_join_requests: u32,
    pub invite_links: LinkCounts,
    pub invitations: InvitationCounts,
    pub files: FileCounts,
    /// Members who used the organization's pages on one of the last 7 days (UTC, today
    /// included); a member removed since still counts for the days they were active.
    pub active_7d: u64,
    /// The same over the last 30 days.
    pub active_30d: u64,
    /// When the figures were read.
    pub as_of: Timestamp,
}

impl SummaryView {
    /// `last_active`: how many members were last active on each of the last 30 days,
    /// today first; `links`: the organization's links; `invitations`: the pending ones.
    fn of(o: &Org, last_active: &[u64], links: &[InviteLink], invitations: u64, now: Timestamp) -> Self {
        let active: Vec<&InviteLink> = links.iter().filter(|l| l.refusal(now).is_none()).collect();
        SummaryView {
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
            invitations: InvitationCounts { pending: invitations },
            files: FileCounts { count: o.file_count, bytes: o.storage_bytes, quota_bytes: ORG_QUOTA },
            active_7d: last_active.iter().take(7).sum(),
            active_30d: last_active.iter().take(30).sum(),
            as_of: now,
        }
    }
}

/// The organization in figures (admins): members by role, admins, classes, groups,
/// courses, pending join requests, invitation links and invitations, files, members
/// active over 7 and 30 days. Two reads whatever the organization's size: the
/// organization, the caller and the counts per day at once, then its links.
#[utoipa::path(get, path = "/v1/orgs/{org}/stats/summary", tag = "stats",
    params(("org" = String, Path, description = "organization ID")),
    responses((status = 200, description = "The figures", body = SummaryView)))]
pub async fn summary(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let now = Timestamp::now();
    let day = |offset: i64| now.plus(time::Duration::days(offset)).day();
    let (past, coming): (Vec<String>, Vec<String>) =
        ((0..30).map(|d| day(-d)).collect(), (0..=VALID_DAYS).map(day).collect());
    let also: Vec<Also> = past
        .iter()
        .cloned()
        .map(Also::ActiveDay)
        .chain(coming.iter().cloned().map(Also::InvitationsExpiring))
        .collect();
    let (caller, mut read) = member_and(&ctx, &req, &also).await?;
    caller.require_admin("see the organization's statistics")?;
    let last_active = past.iter().map(|d| read.active_on(d)).collect::<Result<Vec<u64>, _>>()?;
    let mut invitations = 0;
    for d in &coming {
        invitations += read.invitations_expiring_on(d)?;
    }
    let links = ctx.store().all_links(&caller.org.id).await?;
    ApiResponse::ok(&SummaryView::of(&caller.org, &last_active, &links, invitations, now))
}

/// An employee (a teacher or staff member) and their activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmployeeView {
    pub user_id: String,
    pub name: String,
    pub roles: Vec<RoleGrant>,
    /// The position of their teacher or staff role.
    pub position: Option<String>,
    /// The classes they teach.
    pub class_ids: Vec<String>,
    pub joined_at: Timestamp,
    pub last_active_at: Option<Timestamp>,
    /// On how many of the last 30 days (UTC, today included) they used kabinet.
    pub active_days_30: usize,
    /// Threads and replies they wrote in groups.
    pub posts: u64,
    pub announcements: u64,
    /// Files they shared in groups.
    pub files: u64,
}

impl EmployeeView {
    fn of(m: &Membership, now: Timestamp) -> Self {
        let employee = m.roles.iter().find(|g| matches!(g.role, Role::Teacher | Role::Staff));
        let class_ids =
            m.roles.iter().filter(|g| g.role == Role::Teacher).flat_map(|g| g.class_ids.iter().cloned()).collect();
        EmployeeView {
            user_id: m.user_id.to_string(),
            name: m.name.clone(),
            roles: m.roles.clone(),
            position: employee.and_then(|g| g.position.clone()),
            class_ids,
            joined_at: m.joined_at,
            last_active_at: m.last_active_at,
            active_days_30: m.active_days_30(now),
            posts: m.post_count,
            announcements: m.announcement_count,
            files: m.file_count,
        }
    }
}

/// The organization's teachers and staff with their activity, by user ID (admins).
#[utoipa::path(get, path = "/v1/orgs/{org}/stats/employees", tag = "stats",
    params(("org" = String, Path, description = "organization ID"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of employees", body = Page<EmployeeView>)))]
pub async fn employees(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = admin(&ctx, &req, "see the organization's statistics").await?;
    let page = req.page_query()?;
    let (members, next) = ctx.store().employees(&caller.org.id, &page).await?;
    let now = Timestamp::now();
    ApiResponse::ok(&Page::new(members.iter().map(|m| EmployeeView::of(m, now)).collect(), next))
}
