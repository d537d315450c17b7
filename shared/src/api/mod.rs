//! The API: one module per resource, one handler per endpoint, and the route table, the
//! single source of truth that the local gateway mounts, the OpenAPI document describes,
//! `functions/` builds one binary for and `infra/template.yaml` deploys.

// What the resource modules share: access checks, errors, views, idempotency...
pub mod common;

// One module per resource; none imports another.
pub mod admins;
pub mod audit;
pub mod classes;
pub mod courses;
pub mod discussions;
pub mod exports;
pub mod files;
pub mod groups;
pub mod imports;
pub mod invitations;
pub mod invite_links;
pub mod join_requests;
pub mod me;
pub mod members;
pub mod meta;
pub mod notifications;
pub mod orgs;
pub mod roster;
pub mod stats;

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use http::Method;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::{RefOr, Schema};

use crate::domain::exports::EXPORTS_PREFIX;
use crate::domain::files::{FILES_PREFIX, UPLOADS_PREFIX};
use crate::domain::imports::IMPORTS_PREFIX;
use crate::http::{ApiError, ApiRequest, ApiResponse};
use crate::permissions::{Access, Bucket, ObjectAction::*, Objects};
use crate::Ctx;

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<ApiResponse, ApiError>> + Send>>;
pub type Handler = fn(Ctx, ApiRequest) -> HandlerFuture;
/// A path's parameters, by name.
pub type PathParams = Vec<(String, String)>;
type SchemaCollector = fn(&mut Vec<(String, RefOr<Schema>)>);

/// One endpoint.
pub struct Route {
    /// The function's and binary's name, e.g. `orgs-create`.
    pub name: &'static str,
    pub method: Method,
    /// With `/v1` and `{param}` placeholders, as API Gateway writes routes.
    pub path: String,
    /// Needs a signed-in caller.
    pub auth: bool,
    /// Creates something: honours `Idempotency-Key`.
    pub idempotent: bool,
    /// Scoped to one organization (`{org}` in the path).
    pub org_scoped: bool,
    /// What its function touches: its IAM policy and the clients it builds at init.
    pub access: Access,
    pub handler: Handler,
    /// Its area in the reference (its `#[utoipa::path]`'s `tag`): `me`, `classes`, ...
    pub area: &'static str,
    /// The nested stack its function deploys in (`infra/stacks/<stack>.yaml`): its area's,
    /// per [`STACKS`].
    pub stack: &'static str,
}

/// A route's description in the OpenAPI document, from its handler's `#[utoipa::path]`:
/// its operation and the schemas it names. Kept out of [`Route`]: only what builds the
/// document (the local tooling, the tests) reaches it, so the Lambda artifacts, which serve
/// the document generated ahead of time, link none of it.
pub struct Described {
    pub name: &'static str,
    pub operation: fn() -> Operation,
    pub schemas: SchemaCollector,
}

/// The deployment's nested stacks, by area: each holds the functions of the routes of its
/// areas (their reference tags) with their API routes, in `infra/stacks/<stack>.yaml`
/// (`make template`); the root stack holds the API itself and what is not a route's. Each
/// route costs its stack 6 resources (function, role, log group, API route, integration,
/// invoke permission): a stack stays under 300 resources up to 50 routes, and these hold at
/// most 23 (a test counts them after SAM's translation). A new area joins a stack here.
pub const STACKS: &[(&str, &[&str])] = &[
    ("me", &["me", "notifications"]),
    ("orgs", &["orgs", "members", "admins", "audit"]),
    ("classes", &["classes"]),
    ("joining", &["invite links", "join requests", "invitations"]),
    ("groups", &["groups", "discussions"]),
    ("files", &["files"]),
    ("courses", &["courses"]),
    ("reports", &["stats", "exports"]),
    ("imports", &["imports"]),
    ("meta", &["meta"]),
];

/// Flags of a route entry.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// No sign-in needed.
    Public,
    /// A creating POST that honours `Idempotency-Key`.
    Idempotent,
}

impl Route {
    pub fn new<P: utoipa::Path + utoipa::__dev::SchemaReferences + utoipa::__dev::Tags<'static>>(
        name: &'static str,
        handler: Handler,
        access: Access,
        flags: &[Flag],
    ) -> Route {
        let method = match P::methods().first() {
            Some(HttpMethod::Get) => Method::GET,
            Some(HttpMethod::Post) => Method::POST,
            Some(HttpMethod::Put) => Method::PUT,
            Some(HttpMethod::Patch) => Method::PATCH,
            Some(HttpMethod::Delete) => Method::DELETE,
            _ => panic!("route {name}: unsupported method"),
        };
        let path = P::path();
        let area = P::tags().first().copied().unwrap_or("other");
        let Some(stack) = STACKS.iter().find(|(_, areas)| areas.contains(&area)).map(|(stack, _)| *stack) else {
            panic!("route {name}: its area {area:?} is in no stack of STACKS")
        };
        Route {
            name,
            method,
            org_scoped: path.contains("{org}"),
            path,
            auth: !flags.contains(&Flag::Public),
            idempotent: flags.contains(&Flag::Idempotent),
            access,
            handler,
            area,
            stack,
        }
    }
}

impl Described {
    fn new<P: utoipa::Path + utoipa::__dev::SchemaReferences>(name: &'static str) -> Described {
        Described { name, operation: P::operation, schemas: P::schemas }
    }
}

/// `route!("name", module::handler, ACCESS, Flag...)`: a route-table entry whose method
/// and path come from the handler's `#[utoipa::path]`, and which touches what `ACCESS`
/// declares (see [`Access`]).
macro_rules! route {
    ($name:literal, $module:ident :: $handler:ident, $access:expr $(, $flag:ident)*) => {
        paste::paste! {
            Route::new::<$module::[<__path_ $handler>]>(
                $name,
                |ctx, req| Box::pin($module::$handler(ctx, req)),
                $access,
                &[$(Flag::$flag),*],
            )
        }
    };
}

/// The route table, `route!(...)` entries: [`routes`] and, from the same entries and in
/// the same order, [`described`].
macro_rules! route_table {
    ($(route!($name:literal, $module:ident :: $handler:ident, $access:expr $(, $flag:ident)*)),* $(,)?) => {
        static ROUTES: LazyLock<Vec<Route>> =
            LazyLock::new(|| vec![$(route!($name, $module::$handler, $access $(, $flag)*)),*]);

        /// Each route's description in the OpenAPI document, in the order of [`routes`].
        pub fn described() -> Vec<Described> {
            vec![$(paste::paste! { Described::new::<$module::[<__path_ $handler>]>($name) }),*]
        }
    };
}

// What routes touch. Every organization-scoped route writes (a member's first request of
// a day records their activity); gsi1 holds a person's memberships and join requests,
// a year's classes, the invitations each member sent and journal records by login; gsi2
// admins, people by email, an organization's join requests, and what waits for an
// address (email invitations, journal records' offers).
const READ: Access = Access::READ;
const RW: Access = Access::READ_WRITE;
const GSI1: &[&str] = &["gsi1"];
const GSI2: &[&str] = &["gsi2"];
const GSI1_2: &[&str] = &["gsi1", "gsi2"];
// The objects routes touch, each under its own prefix: an upload is PUT (presigned) to
// `uploads/`, checked, copied to `files/` and dropped; a ready file is read (presigned)
// and deleted; an import's file is PUT (presigned) to and read from `imports/`; exports
// are read (presigned) from `exports/`.
const FILE_UPLOAD: &[Objects] = &[Objects::new(Bucket::Files, UPLOADS_PREFIX, &[Write])];
const FILE_COMPLETE: &[Objects] = &[
    Objects::new(Bucket::Files, UPLOADS_PREFIX, &[Read, Delete]),
    Objects::new(Bucket::Files, FILES_PREFIX, &[Write, Delete]),
];
const FILE_READ: &[Objects] = &[Objects::new(Bucket::Files, FILES_PREFIX, &[Read])];
const FILE_DELETE: &[Objects] =
    &[Objects::new(Bucket::Files, UPLOADS_PREFIX, &[Delete]), Objects::new(Bucket::Files, FILES_PREFIX, &[Delete])];
const EXPORT_READ: &[Objects] = &[Objects::new(Bucket::Exports, EXPORTS_PREFIX, &[Read])];
const IMPORT_UPLOAD: &[Objects] = &[Objects::new(Bucket::Exports, IMPORTS_PREFIX, &[Write])];
/// What the importer reads too.
pub const IMPORT_READ: &[Objects] = &[Objects::new(Bucket::Exports, IMPORTS_PREFIX, &[Read])];
/// What the exporter writes: its files, in parts (an upload given up is aborted).
pub const EXPORT_WRITE: &[Objects] = &[Objects::new(Bucket::Exports, EXPORTS_PREFIX, &[Write, Abort])];

route_table! {
        route!("me-get", me::get, RW),
        route!("me-patch", me::patch, RW.indexes(GSI1)),
        route!("me-orgs-list", me::list_orgs, READ.indexes(GSI1)),
        // The caller's own partition: inbox items, their unread marks, the profile.
        route!("me-notifications-list", notifications::list, READ),
        route!("me-notifications-read", notifications::mark_read, RW),
        route!("me-notification-settings-get", notifications::get_settings, READ),
        route!("me-notification-settings-patch", notifications::patch_settings, RW),
        // Public: the signed link is the credential (verified with the links' key).
        route!("unsubscribe-page", notifications::unsubscribe_page, READ.link_keys(), Public),
        route!("unsubscribe", notifications::unsubscribe, RW.link_keys(), Public),
        route!("orgs-create", orgs::create, RW, Idempotent),
        route!("orgs-get", orgs::get, RW),
        route!("orgs-patch", orgs::patch, RW),
        route!("orgs-leave", members::leave, RW),
        route!("classes-list", classes::list, RW.indexes(GSI1)),
        route!("classes-create", classes::create, RW, Idempotent),
        route!("classes-get", classes::get, RW),
        route!("classes-patch", classes::patch, RW),
        route!("classes-delete", classes::delete, RW),
        route!("classes-graduate", classes::graduate, RW),
        route!("classes-promote", classes::promote, RW),
        route!("classes-member-remove", classes::remove_member, RW),
        route!("orgs-rollover", classes::rollover, RW.indexes(GSI1)),
        // Reads memberships, a class or group named, and the search items (`MSEARCH#`) of
        // the organization's partition: the table alone, no index.
        route!("members-list", members::list, RW),
        route!("members-add", members::add, RW.indexes(GSI2), Idempotent),
        route!("members-get", members::get, RW),
        route!("members-patch", members::patch, RW),
        route!("members-remove", members::remove, RW),
        route!("admins-list", admins::list, RW.indexes(GSI2)),
        route!("admins-appoint", admins::appoint, RW),
        route!("admins-demote", admins::demote, RW),
        route!("audit-list", audit::list, RW),
        // The links' key derives their tokens: read by the routes that show them, never by
        // those that open a link (found by its token's hash).
        route!("invite-links-list", invite_links::list, RW.link_keys()),
        route!("invite-links-create", invite_links::create, RW.link_keys(), Idempotent),
        route!("invite-links-revoke", invite_links::revoke, RW),
        route!("invite-links-preview", invite_links::preview, READ),
        route!("invite-links-accept", invite_links::accept, RW, Idempotent),
        route!("invite-links-decline", invite_links::decline, RW),
        route!("join-requests-list", join_requests::list, RW.indexes(GSI1_2)),
        route!("join-requests-get", join_requests::get, RW.indexes(GSI1)),
        route!("join-requests-patch", join_requests::patch, RW.indexes(GSI1)),
        route!("join-requests-accept", join_requests::accept, RW.indexes(GSI1)),
        route!("join-requests-reject", join_requests::reject, RW),
        route!("me-join-requests-list", join_requests::mine, READ.indexes(GSI1)),
        route!("me-join-requests-get", join_requests::mine_get, READ.indexes(GSI1)),
        route!("me-join-requests-patch", join_requests::mine_patch, RW.indexes(GSI1)),
        route!("me-join-requests-withdraw", join_requests::mine_withdraw, RW.indexes(GSI1)),
        route!("me-admin-join-requests", join_requests::admin_pending, READ.indexes(GSI1_2)),
        route!("invitations-list", invitations::list, RW.indexes(GSI1)),
        route!("invitations-create", invitations::create, RW.indexes(GSI2), Idempotent),
        route!("invitations-resend", invitations::resend, RW),
        route!("invitations-revoke", invitations::revoke, RW),
        route!("me-invitations-list", invitations::mine, READ.indexes(GSI2)),
        route!("me-invitations-accept", invitations::accept, RW.indexes(GSI2)),
        route!("me-invitations-decline", invitations::decline, RW.indexes(GSI2)),
        route!("groups-list", groups::list, RW),
        route!("groups-create", groups::create, RW, Idempotent),
        route!("groups-get", groups::get, RW),
        route!("groups-patch", groups::patch, RW),
        route!("groups-delete", groups::delete, RW.objects(FILE_DELETE)),
        route!("groups-members-list", groups::members, RW),
        route!("groups-members-add", groups::add_members, RW),
        route!("groups-member-remove", groups::remove_member, RW),
        route!("groups-member-patch", groups::patch_member, RW),
        route!("groups-threads-list", discussions::list_threads, RW),
        route!("groups-threads-create", discussions::create_thread, RW, Idempotent),
        route!("groups-thread-get", discussions::get_thread, RW),
        route!("groups-thread-patch", discussions::patch_thread, RW),
        route!("groups-thread-delete", discussions::delete_thread, RW),
        route!("groups-replies-list", discussions::list_replies, RW),
        route!("groups-replies-create", discussions::create_reply, RW, Idempotent),
        route!("groups-reply-patch", discussions::patch_reply, RW),
        route!("groups-reply-delete", discussions::delete_reply, RW),
        route!("groups-announcements-list", discussions::list_announcements, RW),
        route!("groups-announcements-create", discussions::create_announcement, RW, Idempotent),
        route!("groups-announcement-get", discussions::get_announcement, RW),
        route!("groups-announcement-patch", discussions::patch_announcement, RW),
        route!("groups-announcement-delete", discussions::delete_announcement, RW),
        route!("groups-files-list", files::list, RW),
        route!("groups-files-create", files::create, RW.objects(FILE_UPLOAD), Idempotent),
        route!("groups-file-get", files::get, RW.objects(FILE_READ)),
        route!("groups-file-delete", files::delete, RW.objects(FILE_DELETE)),
        route!("groups-file-complete", files::complete, RW.objects(FILE_COMPLETE)),
        route!("courses-list", courses::list, RW),
        route!("courses-create", courses::create, RW, Idempotent),
        route!("courses-get", courses::get, RW),
        route!("courses-patch", courses::patch, RW),
        route!("courses-delete", courses::delete, RW),
        route!("courses-students-list", courses::students, RW),
        route!("courses-students-add", courses::add_students, RW),
        route!("courses-student-remove", courses::remove_student, RW),
        route!("courses-group-create", courses::create_group, RW, Idempotent),
        route!("courses-linked-groups-list", courses::linked_groups, RW),
        route!("courses-group-link", courses::link_group, RW),
        route!("courses-group-unlink", courses::unlink_group, RW),
        route!("stats-summary", stats::summary, RW),
        route!("stats-employees", stats::employees, RW),
        route!("exports-list", exports::list, RW.objects(EXPORT_READ)),
        route!("exports-create", exports::create, RW, Idempotent),
        route!("exports-get", exports::get, RW.objects(EXPORT_READ)),
        route!("imports-list", imports::list, RW),
        route!("imports-create", imports::create, RW.objects(IMPORT_UPLOAD), Idempotent),
        route!("imports-get", imports::get, RW),
        route!("imports-start", imports::start, RW.objects(IMPORT_READ)),
        route!("roster-list", roster::list, RW),
        route!("roster-invite", roster::invite, RW),
        route!("me-roster-links-create", roster::link, RW, Idempotent),
        route!("openapi-get", meta::openapi, Access::NONE, Public),
}

/// Every route of the API.
pub fn routes() -> &'static [Route] {
    &ROUTES
}

static ROUTER: LazyLock<matchit::Router<Vec<&'static Route>>> = LazyLock::new(|| {
    let mut by_path: Vec<(&str, Vec<&'static Route>)> = Vec::new();
    for route in routes() {
        match by_path.iter_mut().find(|(p, _)| *p == route.path) {
            Some((_, rs)) => rs.push(route),
            None => by_path.push((&route.path, vec![route])),
        }
    }
    let mut router = matchit::Router::new();
    for (path, rs) in by_path {
        if let Err(e) = router.insert(path, rs) {
            panic!("route {path} conflicts: {e}");
        }
    }
    router
});

/// The route serving `method` at `path`, with the path's parameters; 404 when no route
/// has the path, 405 (naming the allowed methods) when none has the method.
pub fn find(method: &Method, path: &str) -> Result<(&'static Route, PathParams), ApiError> {
    let matched = ROUTER.at(path).map_err(|_| ApiError::RouteNotFound)?;
    let params = matched.params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    match matched.value.iter().find(|r| r.method == *method) {
        Some(route) => Ok((route, params)),
        None => Err(ApiError::MethodNotAllowed { allow: matched.value.iter().map(|r| r.method.clone()).collect() }),
    }
}

pub fn route(name: &str) -> Option<&'static Route> {
    routes().iter().find(|r| r.name == name)
}

/// Runs one request through its route: authentication, idempotency, the handler, and
/// errors as problem+json (internal ones logged with the request ID, answered generically).
pub async fn dispatch(ctx: &Ctx, route: &Route, req: ApiRequest) -> ApiResponse {
    let request_id = req.request_id.clone();
    let started = std::time::Instant::now();
    let result = async {
        if route.auth {
            req.caller()?;
        }
        match req.header("idempotency-key").map(str::to_owned) {
            Some(key) if route.idempotent => {
                common::idempotency::once(ctx, req, &key, |req| (route.handler)(ctx.clone(), req)).await
            }
            _ => (route.handler)(ctx.clone(), req).await,
        }
    }
    .await;
    let response = match result {
        Ok(resp) => resp,
        Err(err) => {
            if let ApiError::Internal(detail) = &err {
                tracing::error!(request_id = %request_id, route = route.name, error = %detail, "internal error");
            } else if let ApiError::Unavailable(detail) = &err {
                tracing::warn!(request_id = %request_id, route = route.name, error = %detail, "unavailable");
            } else {
                tracing::info!(request_id = %request_id, route = route.name, code = err.code(), "refused");
            }
            ApiResponse::problem(&err, &request_id)
        }
    };
    tracing::info!(
        request_id = %request_id,
        route = route.name,
        status = response.status.as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response.with_header("x-request-id", &request_id)
}
