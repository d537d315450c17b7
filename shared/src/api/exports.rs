//! Exports for a school's admins (R9.3): the summary or the employees as CSV or XLSX,
//! built asynchronously by the exporter (the export's insert on the table's stream starts
//! it), then downloaded through a presigned GET that works 15 minutes (a new one on each
//! read). An admin has at most three exports building at once.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::common::access::{caller_id, member_and, Caller};
use super::common::grants::field_errors;
use crate::domain::exports::{Delimiter, MAX_BUILDING, URL_LIFETIME};
use crate::domain::files::content_disposition;
use crate::domain::AuditAction;
use crate::domain::{Export, ExportFormat, ExportId, ExportKind, ExportStatus, Timestamp};
use crate::http::Code;
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::objects;
use crate::store::exports::ExportError;
use crate::store::orgs::Also;
use crate::Ctx;

/// An export and, once ready, where to download it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01m955r8w5kawptytvvnk6e2mr",
    "kind": "employees",
    "format": "csv",
    "delimiter": ";",
    "status": "ready",
    "rows": 62,
    "size": 9817,
    "file_name": "kabinet-57-я-школа-employees-2026-12-06.csv",
    "requested_by": "3f1c9a52-7b0e-4d6a-9c1e-2a8b5d4e6f70",
    "requested_by_name": "Анна Петрова",
    "created_at": "2026-12-06T07:58:02.117Z",
    "ready_at": "2026-12-06T07:58:09.604Z",
    "expires_at": "2026-12-13T07:58:02.117Z",
    "download_url": concat!(
        "https://kabinet-prod-exportsbucket-8t2w5q1z6y0n.s3.eu-central-1.amazonaws.com/exports/k7m3xq",
        "9pza/01m955r8w5kawptytvvnk6e2mr.csv?x-id=GetObject",
        "&response-content-disposition=attachment%3B%20filename%3D%22kabinet-57-_-_____-employees-202",
        "6-12-06.csv%22%3B%20filename%2A%3DUTF-8%27%27kabinet-57-%25D1%258F-%25D1%2588%25D0%25BA%25D0",
        "%25BE%25D0%25BB%25D0%25B0-employees-2026-12-06.csv",
        "&response-content-type=text%2Fcsv%3B%20charset%3Dutf-8&X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "&X-Amz-Credential=ASIAQ3EGUBHZ7KXN4T5W%2F20261206%2Feu-central-1%2Fs3%2Faws4_request",
        "&X-Amz-Date=20261206T081409Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host",
        "&X-Amz-Signature=de10682370de0e82eb49ee7a877acd459369cae5a26dabdad5e16d76c0bd18ae",
        "&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEKj%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEaDGV1LWNlbnRyYWwtMS",
        "JHMEUCIQDx7f1q9Lw3nV8cRkT2mYpZ5bHs0aJ4eUoX1gNtQi6WdAIgV7rK",
    ),
    "url_expires_at": "2026-12-06T08:29:09.388Z"
}))]
pub struct ExportView {
    pub id: String,
    pub kind: ExportKind,
    pub format: ExportFormat,
    /// The CSV file's delimiter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<Delimiter>,
    /// `pending` while it builds, then `ready` or `failed`.
    pub status: ExportStatus,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Data rows in the file (the header not counted).
    pub rows: u64,
    /// The file's size in bytes.
    pub size: u64,
    /// The download's file name, e.g. `kabinet-Гимназия-5-employees-2026-12-06.xlsx`.
    pub file_name: String,
    pub requested_by: String,
    pub requested_by_name: String,
    pub created_at: Timestamp,
    pub ready_at: Option<Timestamp>,
    /// When it and its file are deleted (7 days after it was asked for).
    pub expires_at: Timestamp,
    /// When ready: a presigned GET of the file, valid until `url_expires_at` (15 minutes);
    /// read the export again for a new one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_expires_at: Option<Timestamp>,
}

impl ExportView {
    fn of(e: &Export, now: Timestamp, url: Option<objects::Presigned>) -> Self {
        let (status, failure) = e.status_at(now);
        ExportView {
            id: e.id.to_string(),
            kind: e.kind,
            format: e.format,
            delimiter: (e.format == ExportFormat::Csv).then_some(e.delimiter),
            status,
            failure,
            rows: e.rows,
            size: e.size,
            file_name: e.file_name.clone(),
            requested_by: e.requested_by.to_string(),
            requested_by_name: e.requested_by_name.clone(),
            created_at: e.created_at,
            ready_at: e.ready_at,
            expires_at: e.expires_at(),
            url_expires_at: url.as_ref().map(|u| u.expires_at),
            download_url: url.map(|u| u.url),
        }
    }
}

/// What to export.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "employees", "format": "csv", "delimiter": ";"}))]
pub struct NewExport {
    /// `summary` (the organization in figures, with members active per day over 30 days)
    /// or `employees` (teachers and staff with their activity).
    pub kind: ExportKind,
    /// `csv` (UTF-8 with a BOM, opens in Excel with Cyrillic intact) or `xlsx`.
    pub format: ExportFormat,
    /// CSV only: `;` (the default: Excel's separator in Russian locales) or `,`.
    pub delimiter: Option<Delimiter>,
}

/// A presigned download of a ready export, under its file name; `None` for any other.
async fn download(ctx: &Ctx, e: &Export, now: Timestamp) -> Result<Option<objects::Presigned>, ApiError> {
    if e.status_at(now).0 != ExportStatus::Ready {
        return Ok(None);
    }
    let url = objects::presign_download(
        ctx.s3(),
        &ctx.config().exports_bucket,
        &e.object_key(),
        e.format.content_type(),
        &content_disposition(&e.file_name),
        URL_LIFETIME,
    )
    .await
    .map_err(|err| ApiError::Internal(format!("presigning an export's download: {err}")))?;
    Ok(Some(url))
}

fn in_progress() -> ApiError {
    ApiError::conflict(
        Code::ExportInProgress,
        format!("You already have {MAX_BUILDING} exports building: wait until one of them is ready."),
    )
}

/// The caller (an admin) and which of their building places are held now.
async fn admin_and_places(ctx: &Ctx, req: &ApiRequest, now: Timestamp) -> Result<(Caller, Option<u32>), ApiError> {
    let user = caller_id(req)?;
    let also: Vec<Also> = (0..MAX_BUILDING as u32).map(|n| Also::ExportSlot { user: user.clone(), slot: n }).collect();
    let (caller, mut read) = member_and(ctx, req, &also).await?;
    caller.require_admin("export the organization's statistics")?;
    let mut free = None;
    for n in 0..MAX_BUILDING as u32 {
        if !read.export_slot_held(&caller.member.user_id, n, now)? {
            free = Some(n);
            break;
        }
    }
    Ok((caller, free))
}

/// Asks for an export (admins): answers 202 with the pending export at once; read it
/// (`Location`) until it is `ready` (with its download URL) or `failed`. The admin gets an
/// email when it is ready. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/orgs/{org}/exports", tag = "exports", request_body = NewExport,
    params(("org" = String, Path, description = "organization ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 202, description = "Asked for: it builds now", body = ExportView, headers(("Location" = String))),
              (status = 409, description = "`export_in_progress`: three of the caller's exports are building"),
              (status = 422, description = "`validation_failed`")))]
pub async fn create(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let mut body: Option<NewExport> = None;
    for _ in 0..3 {
        let now = Timestamp::now();
        let (caller, free) = admin_and_places(&ctx, &req, now).await?;
        let body = match &body {
            Some(b) => b,
            None => body.insert(new_export(&req)?),
        };
        let Some(slot) = free else { return Err(in_progress()) };
        let org = &caller.org;
        let export = Export::new(
            &org.id,
            org.short_name.as_deref().unwrap_or(&org.name),
            body.kind,
            body.format,
            body.delimiter.unwrap_or_default(),
            &caller.member.user_id,
            &caller.member.name,
            slot,
            now,
        );
        let audit = caller.audit(AuditAction::ExportRequest, "export", export.id.as_str()).after(json!({
            "kind": export.kind, "format": export.format, "file_name": export.file_name,
        }));
        match ctx.store().create_export(&export, &audit).await {
            Ok(()) => {
                let location = format!("/v1/orgs/{}/exports/{}", org.id, export.id);
                let view = ExportView::of(&export, now, None);
                return Ok(ApiResponse::json(http::StatusCode::ACCEPTED, &view)?.with_header("location", &location));
            }
            // Another of the caller's requests took that place meanwhile: look again.
            Err(ExportError::Busy) => continue,
            Err(ExportError::Store(e)) => return Err(e.into()),
        }
    }
    Err(in_progress())
}

/// The request's body, checked.
fn new_export(req: &ApiRequest) -> Result<NewExport, ApiError> {
    let body: NewExport = req.json()?;
    if body.format != ExportFormat::Csv && body.delimiter.is_some() {
        return Err(field_errors(vec![("delimiter".into(), "only a CSV export has a delimiter".into())]));
    }
    Ok(body)
}

/// The organization's exports, newest first (admins); ready ones with a download URL.
#[utoipa::path(get, path = "/v1/orgs/{org}/exports", tag = "exports",
    params(("org" = String, Path, description = "organization ID"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of exports", body = Page<ExportView>)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, _) = member_and(&ctx, &req, &[]).await?;
    caller.require_admin("see the organization's exports")?;
    let page = req.page_query()?;
    let (exports, next) = ctx.store().exports_page(&caller.org.id, &page).await?;
    let now = Timestamp::now();
    let mut views = Vec::with_capacity(exports.len());
    for e in exports.iter().filter(|e| e.expires_at() > now) {
        views.push(ExportView::of(e, now, download(&ctx, e, now).await?));
    }
    ApiResponse::ok(&Page::new(views, next))
}

/// An export (admins): `pending`, `ready` with a presigned GET valid 15 minutes (a new one
/// on each read), or `failed` with the reason.
#[utoipa::path(get, path = "/v1/orgs/{org}/exports/{id}", tag = "exports",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "export ID")),
    responses((status = 200, description = "The export", body = ExportView)))]
pub async fn get(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = req.path::<ExportId>("id")?;
    let (caller, mut read) = member_and(&ctx, &req, &[Also::Export(id.clone())]).await?;
    caller.require_admin("see the organization's exports")?;
    let now = Timestamp::now();
    let export = read.export(&id)?.filter(|e| e.expires_at() > now).ok_or(ApiError::NotFound("export"))?;
    let url = download(&ctx, &export, now).await?;
    ApiResponse::ok(&ExportView::of(&export, now, url))
}
