//! Statistics for a school's admins (R9): who of the employees uses the platform and how
//! (the seed's "Статистика" per employee), to help those who have not started.

use serde::Serialize;
use utoipa::ToSchema;

use super::common::access::member_and;
use crate::domain::stats::Summary;
use crate::domain::{Membership, OrgId, RoleGrant, RosterPerson, Timestamp, UserId};
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::page::{Cursor, PageQuery};
use crate::store::orgs::{roster_count_reads, SummaryDays};
use crate::store::roster::EmployeesFrom;
use crate::Ctx;

/// The organization in figures (admins): members by role, admins, classes, groups,
/// courses, pending join requests, invitation links and invitations, the school journal's
/// people nobody has joined as yet (`waiting`, by role), files, members active over 7 and
/// 30 days. Two reads whatever the organization's size: the organization, the caller, the
/// counts per day and the waiting counts at once, then its links.
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

/// An employee (a teacher or staff member) and their activity: a member, or a teacher or
/// staff member of the school's journal who has not joined yet.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "linked": true,
    "user_id": "8d2e4b61-5c3a-4f9e-b7d0-1e6a9c3f2b84",
    "roster_id": "t-1042",
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
    /// Whether they joined: true for a member (`user_id` is theirs); false for a teacher or
    /// staff member of the school's journal nobody has joined as yet (`user_id`,
    /// `joined_at` and `last_active_at` null, counts 0; `roster_id` is their record).
    pub linked: bool,
    pub user_id: Option<String>,
    /// Their record in the school's journal (its sourcedId, as in `GET
    /// /v1/orgs/{org}/roster`): the record of one who has not joined; for a member, the
    /// record they joined as, or null when they joined otherwise.
    pub roster_id: Option<String>,
    pub name: String,
    /// Their roles (for one who has not joined, those the journal gives).
    pub roles: Vec<RoleGrant>,
    /// The position of their teacher or staff role.
    pub position: Option<String>,
    /// The classes they teach.
    pub class_ids: Vec<String>,
    /// When they joined; null for one who has not.
    pub joined_at: Option<Timestamp>,
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
    fn member(m: &Membership, now: Timestamp) -> Self {
        EmployeeView {
            linked: true,
            user_id: Some(m.user_id.to_string()),
            roster_id: None,
            name: m.name.clone(),
            roles: m.roles.clone(),
            position: m.position().map(str::to_owned),
            class_ids: m.taught_class_ids(),
            joined_at: Some(m.joined_at),
            last_active_at: m.last_active_at,
            active_days_30: m.active_days_30(now),
            posts: m.post_count,
            announcements: m.announcement_count,
            files: m.file_count,
        }
    }

    /// A teacher or staff member of the journal nobody has joined as, as the journal says.
    fn waiting(p: &RosterPerson) -> Self {
        EmployeeView {
            linked: false,
            user_id: None,
            roster_id: Some(p.sourced_id.to_string()),
            name: p.name.clone(),
            roles: p.grants(&[]).unwrap_or_default(),
            position: crate::domain::imports::position(p.role, &p.roster_role, p.language).map(str::to_owned),
            class_ids: p.taught().0,
            joined_at: None,
            last_active_at: None,
            active_days_30: 0,
            posts: 0,
            announcements: 0,
            files: 0,
        }
    }

    /// Its place in the `last_active` order: those who have not joined (by record), then
    /// members never active (by user ID), then the others, longest inactive first.
    fn inactivity_key(&self) -> String {
        let id = |v: &Option<String>| v.clone().unwrap_or_default();
        match (self.linked, self.last_active_at) {
            (false, _) => format!("0#{}", id(&self.roster_id)),
            (true, None) => format!("1#{}", id(&self.user_id)),
            (true, Some(at)) => format!("2#{at}#{}", id(&self.user_id)),
        }
    }
}

/// The order of the employees' list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// Members by user ID, then those who have not joined by record.
    Id,
    /// Those never active first (who has not joined, then members never active), then
    /// the longest inactive.
    LastActive,
}

fn order(req: &ApiRequest) -> Result<Order, ApiError> {
    match req.query_param("sort") {
        None | Some("") => Ok(Order::Id),
        Some("last_active") => Ok(Order::LastActive),
        Some(_) => Err(ApiError::validation("sort", "is last_active, or absent for the default order")),
    }
}

/// The organization's teachers and staff with their activity (admins): the members, and
/// the teachers and staff of the school's journal who have not joined yet (`linked:
/// false`). By default the members by user ID, then those who have not joined by record;
/// `sort=last_active` puts those never active first (who has not joined, then members
/// never active), then the longest inactive. A page may hold fewer than `limit` with a
/// cursor to go on. DynamoDB calls a page, by default: the caller's check (with the
/// journal's counts), a query of members (filtered to employees) and, when members joined
/// as records of the journal, a batch read of the records the page's members joined as;
/// where the members end, when teachers or staff wait, a query of their marks and a batch
/// read of their records: 2 calls without a journal, at most 5. With `sort=last_active`
/// every page reads all the employees (a school has a few hundred): the members' query
/// pages (1,000 members or 1 MB each), the marks' query and a batch read a hundred
/// waiting.
#[utoipa::path(get, path = "/v1/orgs/{org}/stats/employees", tag = "stats",
    params(("org" = String, Path, description = "organization ID"),
           ("sort" = Option<String>, Query, description = "`last_active`: never active first, then the longest inactive; absent: members by user ID, then those who have not joined", example = "last_active"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of employees", body = Page<EmployeeView>,
               example = json!({
                   "items": [
                       {
                           "linked": false,
                           "user_id": null,
                           "roster_id": "t-1077",
                           "name": "Олег Кузнецов",
                           "roles": [{"role": "teacher", "position": "Учитель", "class_ids": ["01m115ecvwas7wzwvqnhd05es9"]}],
                           "position": "Учитель",
                           "class_ids": ["01m115ecvwas7wzwvqnhd05es9"],
                           "joined_at": null,
                           "last_active_at": null,
                           "active_days_30": 0,
                           "posts": 0,
                           "announcements": 0,
                           "files": 0
                       },
                       {
                           "linked": true,
                           "user_id": "3f1a9c27-6b4e-4d8a-a2c5-7e9b0d1f6a35",
                           "roster_id": null,
                           "name": "Наталья Орлова",
                           "roles": [{"role": "staff", "position": "Завуч", "class_ids": []}],
                           "position": "Завуч",
                           "class_ids": [],
                           "joined_at": "2026-09-01T07:05:41.112Z",
                           "last_active_at": "2026-10-14T11:20:03.517Z",
                           "active_days_30": 0,
                           "posts": 2,
                           "announcements": 0,
                           "files": 0
                       }
                   ],
                   "next_cursor": null
               })),
              (status = 422, description = "`validation_failed`: sort is not last_active")))]
pub async fn employees(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (order, page) = (order(&req), req.page_query());
    let (caller, mut read) = member_and(&ctx, &req, &roster_count_reads()).await?;
    caller.require_admin("see the organization's statistics")?;
    let (order, page) = (order?, page?);
    let waiting = read.waiting()?;
    let journal = Journal { waiting: waiting.by_role.teacher + waiting.by_role.staff, linked: read.linked_records()? };
    let now = Timestamp::now();
    let (mut rows, next) = match order {
        Order::Id => by_id(&ctx, &caller.org.id, &page, journal, now).await?,
        Order::LastActive => by_inactivity(&ctx, &caller.org.id, &page, journal, now).await?,
    };
    if journal.linked > 0 {
        name_records(&ctx, &caller.org.id, &mut rows).await?;
    }
    ApiResponse::ok(&Page::new(rows, next))
}

/// What the organization's journal holds, from its counts read with the caller's check:
/// what needs no reading when there is none.
#[derive(Debug, Clone, Copy)]
struct Journal {
    /// Teachers and staff nobody has joined as.
    waiting: u32,
    /// Records members joined as.
    linked: u32,
}

/// A page in the default order: the members, then (where they end) the waiting.
async fn by_id(
    ctx: &Ctx,
    org: &OrgId,
    page: &PageQuery,
    journal: Journal,
    now: Timestamp,
) -> Result<(Vec<EmployeeView>, Option<Cursor>), ApiError> {
    let store = ctx.store();
    let (mut rows, waiting_from) = match EmployeesFrom::of(org, page.cursor.clone())? {
        EmployeesFrom::Members(cursor) => {
            let (members, next) = store.employees(org, &PageQuery { limit: page.limit, cursor }).await?;
            let rows: Vec<EmployeeView> = members.iter().map(|m| EmployeeView::member(m, now)).collect();
            if next.is_some() {
                return Ok((rows, next));
            }
            (rows, None)
        }
        EmployeesFrom::Waiting(cursor) => (Vec::new(), cursor),
    };
    let room = page.limit - rows.len() as i32;
    if journal.waiting == 0 {
        return Ok((rows, None));
    }
    if room <= 0 {
        return Ok((rows, Some(EmployeesFrom::first_waiting(org))));
    }
    let (people, next) = store.waiting_employees(org, &PageQuery { limit: room, cursor: waiting_from }).await?;
    rows.extend(people.iter().map(EmployeeView::waiting));
    Ok((rows, next))
}

/// A page in the `last_active` order: every employee read and sorted, the page after the
/// cursor's row (the key of the last row given).
async fn by_inactivity(
    ctx: &Ctx,
    org: &OrgId,
    page: &PageQuery,
    journal: Journal,
    now: Timestamp,
) -> Result<(Vec<EmployeeView>, Option<Cursor>), ApiError> {
    let after = match &page.cursor {
        None => None,
        Some(c) => match (c.0.len(), c.0.get(AFTER)) {
            (1, Some(key)) if ["0#", "1#", "2#"].iter().any(|p| key.starts_with(p)) => Some(key.clone()),
            _ => return Err(ApiError::invalid_cursor()),
        },
    };
    let store = ctx.store();
    let mut rows: Vec<EmployeeView> = Vec::new();
    let mut members = PageQuery { limit: ALL_PAGE, cursor: None };
    loop {
        let (found, next) = store.employees(org, &members).await?;
        rows.extend(found.iter().map(|m| EmployeeView::member(m, now)));
        match next {
            Some(c) => members.cursor = Some(c),
            None => break,
        }
    }
    if journal.waiting > 0 {
        rows.extend(store.all_waiting_employees(org).await?.iter().map(EmployeeView::waiting));
    }
    Ok(page_after(rows, after.as_deref(), page.limit as usize))
}

/// A `last_active` page: the rows sorted, those after `after`, `limit` of them.
fn page_after(rows: Vec<EmployeeView>, after: Option<&str>, limit: usize) -> (Vec<EmployeeView>, Option<Cursor>) {
    let mut keyed: Vec<(String, EmployeeView)> = rows.into_iter().map(|r| (r.inactivity_key(), r)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rest = keyed.into_iter().filter(|(k, _)| after.is_none_or(|a| k.as_str() > a)).peekable();
    let page: Vec<(String, EmployeeView)> = rest.by_ref().take(limit).collect();
    let next = match (rest.peek(), page.last()) {
        (Some(_), Some((last, _))) => Some(Cursor([(AFTER.to_string(), last.clone())].into())),
        _ => None,
    };
    (page.into_iter().map(|(_, r)| r).collect(), next)
}

/// The cursor's key in the `last_active` order.
const AFTER: &str = "after";
/// Members a query reads when the whole list is read.
const ALL_PAGE: i32 = 1000;

/// The records the page's members joined as (one batch read).
async fn name_records(ctx: &Ctx, org: &OrgId, rows: &mut [EmployeeView]) -> Result<(), ApiError> {
    let users: Vec<UserId> = rows.iter().filter_map(|r| r.user_id.as_deref().and_then(UserId::parse)).collect();
    let records = ctx.store().records_of(org, &users).await?;
    for r in rows.iter_mut() {
        if let Some(id) = r.user_id.as_deref().and_then(UserId::parse).and_then(|u| records.get(&u)) {
            r.roster_id = Some(id.to_string());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(linked: bool, id: &str, last: Option<&str>) -> EmployeeView {
        EmployeeView {
            linked,
            user_id: linked.then(|| id.to_string()),
            roster_id: (!linked).then(|| id.to_string()),
            name: id.into(),
            roles: vec![],
            position: None,
            class_ids: vec![],
            joined_at: None,
            last_active_at: last.map(|t| Timestamp::parse(t).unwrap()),
            active_days_30: 0,
            posts: 0,
            announcements: 0,
            files: 0,
        }
    }

    #[test]
    fn never_active_first_then_the_longest_inactive_page_by_page() {
        let rows = || {
            vec![
                row(true, "u-recent", Some("2026-12-05T10:00:00.000Z")),
                row(true, "u-never", None),
                row(false, "t2", None),
                row(true, "u-old", Some("2026-10-01T10:00:00.000Z")),
                row(false, "t1", None),
            ]
        };
        let names = |p: &[EmployeeView]| p.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
        let (all, next) = page_after(rows(), None, 10);
        assert_eq!(names(&all), ["t1", "t2", "u-never", "u-old", "u-recent"]);
        assert!(next.is_none());
        let (first, next) = page_after(rows(), None, 2);
        assert_eq!(names(&first), ["t1", "t2"]);
        let after = next.unwrap().0[AFTER].clone();
        let (second, next) = page_after(rows(), Some(&after), 2);
        assert_eq!(names(&second), ["u-never", "u-old"]);
        let (third, next) = page_after(rows(), Some(&next.unwrap().0[AFTER]), 2);
        assert_eq!(names(&third), ["u-recent"]);
        assert!(next.is_none());
    }
}
