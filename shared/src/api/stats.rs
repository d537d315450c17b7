//! Statistics for a school's admins (R9): who of the employees uses the platform and how
//! (the seed's "Статистика" per employee), to help those who have not started.

use serde::Serialize;
use utoipa::ToSchema;

use super::access::{admin, member_and};
use crate::domain::stats::Summary;
use crate::domain::{Membership, RoleGrant, Timestamp};
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::store::orgs::SummaryDays;
use crate::Ctx;

/// The organization in figures (admins): members by role, admins, classes, groups,
/// courses, pending join requests, invitation links and invitations, files, members
/// active over 7 and 30 days. Two reads whatever the organization's size: the
/// organization, the caller and the counts per day at once, then its links.
#[utoipa::path(get, path = "/v1/orgs/{org}/stats/summary", tag = "stats",
    params(("org" = String, Path, description = "organization ID")),
    responses((status = 200, description = "The figures", body = Summary)))]
pub async fn summary(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let now = Timestamp::now();
    let days = SummaryDays::at(now);
    let (caller, mut read) = member_and(&ctx, &req, &days.reads()).await?;
    caller.require_admin("see the organization's statistics")?;
    let counts = days.counts(&mut read)?;
    let links = ctx.store().all_links(&caller.org.id).await?;
    ApiResponse::ok(&Summary::of(&caller.org, &counts, &links, now))
}

/// An employee (a teacher or staff member) and their activity.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "user_id": "8d2e4b61-5c3a-4f9e-b7d0-1e6a9c3f2b84",
    "name": "Ирина Смирнова",
    "roles": [{"role": "teacher", "position": "Учитель", "specialization": "Математика", "class_ids": ["01m115ebsrwdyfqatyynem1n18", "01m115ecvwas7wzwvqnhd05es9"]}],
    "position": "Учитель",
    "class_ids": ["01m115ebsrwdyfqatyynem1n18", "01m115ecvwas7wzwvqnhd05es9"],
    "joined_at": "2026-09-10T06:32:18.406Z",
    "last_active_at": "2026-12-05T19:12:44.081Z",
    "active_days_30": 21,
    "posts": 37,
    "announcements": 6,
    "files": 12
}))]
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
        EmployeeView {
            user_id: m.user_id.to_string(),
            name: m.name.clone(),
            roles: m.roles.clone(),
            position: m.position().map(str::to_owned),
            class_ids: m.taught_class_ids(),
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
