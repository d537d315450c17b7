//! Roster imports for a school's admins (R4.6): a school journal's OneRoster 1.1 files
//! (a zip, or one CSV) uploaded through a presigned PUT, then started; the importer runs
//! it asynchronously (the run's insert on the table's stream starts it) and the import
//! shows its progress, then its counts and every refused row with its file and line.
//! An organization runs one import at a time.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::common::access::{member_and, Caller};
use super::common::errors::object_error;
use super::common::views::UploadView;
use crate::domain::imports::{ImportCounts, ImportProgress, RowProblem, MAX_UPLOAD_BYTES, UPLOAD_LIFETIME};
use crate::domain::AuditAction;
use crate::domain::{text, Import, ImportId, ImportStatus, Timestamp};
use crate::http::Code;
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::objects;
use crate::store::imports::StartError;
use crate::store::orgs::Also;
use crate::Ctx;

/// An import: where it is and what it did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01m2504zsyejq6j73vacc5c427",
    "status": "done",
    "file_name": "journal-2026.zip",
    "invite": true,
    "requested_by": "3f1c9a52-7b0e-4d6a-9c1e-2a8b5d4e6f70",
    "requested_by_name": "Анна Петрова",
    "created_at": "2026-09-10T06:30:14.590Z",
    "started_at": "2026-09-10T06:31:02.118Z",
    "finished_at": "2026-09-10T06:33:47.905Z",
    "counts": {
        "classes": 34,
        "users": 1911,
        "enrollments": 2239,
        "created": 4184,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
        "skipped": 128,
        "errors": 2,
        "invited": 1000,
        "invite_deferred": 385
    },
    "errors": [
        {
            "file": "users.csv",
            "line": 318,
            "message": "email \"p.orlov@mail,ru\": must be an email address like name@school.ru"
        },
        {"file": "enrollments.csv", "line": 1204, "message": "user u-10317 is not in users.csv (or its row was refused)"}
    ]
}))]
pub struct ImportView {
    pub id: String,
    /// `awaiting_upload` until started, `processing`, then `done` (even with refused
    /// rows: see `errors`) or `failed` (the upload as a whole could not be imported: see
    /// `failure`).
    pub status: ImportStatus,
    /// The name given when it was created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Whether people who are not registered get a roster invitation email.
    pub invite: bool,
    pub requested_by: String,
    pub requested_by_name: String,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// Rows applied per file, and what they did (so far, while processing).
    pub counts: ImportCounts,
    /// Refused rows (the first 500; `counts.errors` counts them all): file, line (the
    /// header is line 1; 0 for a whole file) and why.
    pub errors: Vec<RowProblem>,
    /// While processing: the file being read and its rows read so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<ImportProgress>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

impl ImportView {
    fn of(i: &Import, now: Timestamp) -> Self {
        let status = i.shown_status(now);
        let timed_out = status == ImportStatus::Failed && i.status == ImportStatus::Processing;
        ImportView {
            id: i.id.to_string(),
            status,
            file_name: i.file_name.clone(),
            invite: i.invite,
            requested_by: i.requested_by.to_string(),
            requested_by_name: i.requested_by_name.clone(),
            created_at: i.created_at,
            started_at: i.started_at,
            finished_at: i.finished_at,
            counts: i.counts.clone(),
            errors: i.errors.clone(),
            progress: if status == ImportStatus::Processing { i.progress.clone() } else { None },
            failure: if timed_out {
                Some("The import took too long and was stopped; start a new one.".into())
            } else {
                i.failure.clone()
            },
        }
    }
}

/// A new import.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"file_name": "journal-2026.zip", "size": 1843207}))]
pub struct NewImport {
    /// The upload's file name (`journal-2026.zip`, `users.csv`): a single CSV is known by
    /// it (or by its columns). At most 200 characters.
    pub file_name: Option<String>,
    /// The file's size in bytes, 1 to 268,435,456 (256 MiB): the upload URL takes exactly
    /// this many bytes.
    pub size: i64,
}

/// A new import and where to upload its file.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "import": {
        "id": "01m2504zsyejq6j73vacc5c427",
        "status": "awaiting_upload",
        "file_name": "journal-2026.zip",
        "invite": false,
        "requested_by": "3f1c9a52-7b0e-4d6a-9c1e-2a8b5d4e6f70",
        "requested_by_name": "Анна Петрова",
        "created_at": "2026-09-10T06:30:14.590Z",
        "started_at": null,
        "finished_at": null,
        "counts": {
            "classes": 0,
            "users": 0,
            "enrollments": 0,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "deleted": 0,
            "skipped": 0,
            "errors": 0,
            "invited": 0,
            "invite_deferred": 0
        },
        "errors": []
    },
    "upload": {
        "url": concat!(
            "https://kabinet-prod-exportsbucket-8t2w5q1z6y0n.s3.eu-central-1.amazonaws.com/imports/k7m3xq",
            "9pza/01m2504zsyejq6j73vacc5c427?x-id=PutObject&X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "&X-Amz-Credential=ASIAQ3EGUBHZ7KXN4T5W%2F20260910%2Feu-central-1%2Fs3%2Faws4_request",
            "&X-Amz-Date=20260910T063014Z&X-Amz-Expires=900&X-Amz-SignedHeaders=content-length%3Bhost",
            "&X-Amz-Signature=4a611cd92bcc789449824d16b74bcf804c973ef6d690b30e8a1399384c0b63fe",
            "&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEKj%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEaDGV1LWNlbnRyYWwtMS",
            "JHMEUCIQDx7f1q9Lw3nV8cRkT2mYpZ5bHs0aJ4eUoX1gNtQi6WdAIgV7rK",
        ),
        "method": "PUT",
        "headers": {"content-length": "1843207"},
        "expires_at": "2026-09-10T06:45:14.590Z"
    }
}))]
pub struct NewImportView {
    pub import: ImportView,
    /// Send the file here (a zip of the OneRoster CSV files, or one of them), then start
    /// the import.
    pub upload: UploadView,
}

/// How to run an import.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"invite": true}))]
pub struct StartImport {
    /// Email a roster invitation to each person of the file who is not registered yet
    /// (and has an email): signing in with that address makes them a member. Default
    /// false.
    #[serde(default)]
    pub invite: bool,
}

async fn admin(ctx: &Ctx, req: &ApiRequest, also: &[Also]) -> Result<(Caller, crate::store::orgs::Read), ApiError> {
    let (caller, read) = member_and(ctx, req, also).await?;
    caller.require_admin("import the school's journal")?;
    Ok((caller, read))
}

/// Creates an import (admins) and answers a presigned PUT for its file, valid 15
/// minutes, that takes exactly the declared `size` (signed: S3 refuses another length).
/// Upload the zip of OneRoster 1.1 CSV files (or one CSV) there, then `POST .../start`.
/// Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/orgs/{org}/imports", tag = "imports", request_body = NewImport,
    params(("org" = String, Path, description = "organization ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 201, description = "Created: upload the file now", body = NewImportView, headers(("Location" = String))),
              (status = 422, description = "`validation_failed`, or `upload_too_large` (a declared size over 256 MiB)")))]
pub async fn create(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: Result<NewImport, ApiError> = req.json();
    let (caller, _) = admin(&ctx, &req, &[]).await?;
    let body = body?;
    let file_name = match body.file_name.as_deref().map(|n| text::optional(n, crate::domain::imports::MAX_FILE_NAME)) {
        Some(Ok(n)) => n,
        Some(Err(e)) => return Err(ApiError::validation("file_name", e)),
        None => None,
    };
    if body.size < 1 {
        return Err(ApiError::validation("size", "must be at least 1 byte".to_string()));
    }
    let size = body.size as u64;
    if size > MAX_UPLOAD_BYTES {
        return Err(too_large());
    }
    let now = Timestamp::now();
    let import = Import::new(&caller.org.id, file_name, &caller.member.user_id, &caller.member.name, now);
    let (s3, bucket) = (ctx.s3(), &ctx.config().exports_bucket);
    let upload = objects::presign_sized_put(s3, bucket, &import.object_key(), size, UPLOAD_LIFETIME)
        .await
        .map_err(|e| ApiError::Internal(format!("presigning an import's upload: {e}")))?;
    let audit = caller
        .audit(AuditAction::ImportCreate, "import", import.id.as_str())
        .after(json!({ "file_name": import.file_name }));
    ctx.store().create_import(&import, &audit).await?;
    let view = NewImportView {
        import: ImportView::of(&import, now),
        upload: UploadView {
            url: upload.url,
            method: "PUT".into(),
            headers: upload.headers.into_iter().collect(),
            expires_at: upload.expires_at,
        },
    };
    ApiResponse::created(&view, &format!("/v1/orgs/{}/imports/{}", caller.org.id, import.id))
}

/// Starts an import whose file is uploaded (admins): answers 202 at once; read the
/// import (`Location`) for its progress and result.
#[utoipa::path(post, path = "/v1/orgs/{org}/imports/{id}/start", tag = "imports", request_body = StartImport,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "import ID")),
    responses((status = 202, description = "Started: it runs now", body = ImportView, headers(("Location" = String))),
              (status = 409, description = "`upload_missing` (nothing uploaded yet), `import_started` (started already) or `import_in_progress` (another import of the organization is running)"),
              (status = 422, description = "`validation_failed`, or `upload_too_large` (over 256 MiB) or `upload_empty`")))]
pub async fn start(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = req.path::<ImportId>("id")?;
    let body: Result<StartImport, ApiError> =
        if req.body.iter().all(u8::is_ascii_whitespace) { Ok(StartImport::default()) } else { req.json() };
    let (caller, mut read) = admin(&ctx, &req, &[Also::Import(id.clone())]).await?;
    let body = body?;
    let mut import = read.import(&id)?.ok_or(ApiError::NotFound("import"))?;
    if import.status != ImportStatus::AwaitingUpload {
        return Err(started());
    }
    let head = objects::head(ctx.s3(), &ctx.config().exports_bucket, &import.object_key())
        .await
        .map_err(|e| object_error(e, "checking an import's upload"))?;
    let Some(head) = head else {
        return Err(ApiError::conflict(Code::UploadMissing,
            "Nothing was uploaded for this import yet: PUT the file to its upload URL first (create a new import if the URL expired).",
        ));
    };
    if head.size > MAX_UPLOAD_BYTES {
        return Err(too_large());
    }
    if head.size == 0 {
        return Err(ApiError::Unprocessable { code: Code::UploadEmpty, detail: "The uploaded file is empty.".into() });
    }
    let now = Timestamp::now();
    let audit = caller
        .audit(AuditAction::ImportStart, "import", import.id.as_str())
        .after(json!({ "file_name": import.file_name, "size": head.size, "invite": body.invite }));
    match ctx.store().start_import(&import, body.invite, &caller.member.user_id, now, &audit).await {
        Ok(()) => {}
        Err(StartError::NotAwaiting) => return Err(started()),
        Err(StartError::Busy) => {
            return Err(ApiError::conflict(
                Code::ImportInProgress,
                "Another import of this organization is running: wait until it is done.",
            ))
        }
        Err(StartError::Store(e)) => return Err(e.into()),
    }
    import.status = ImportStatus::Processing;
    import.started_at = Some(now);
    import.invite = body.invite;
    let location = format!("/v1/orgs/{}/imports/{}", caller.org.id, import.id);
    Ok(ApiResponse::json(http::StatusCode::ACCEPTED, &ImportView::of(&import, now))?.with_header("location", &location))
}

fn too_large() -> ApiError {
    ApiError::Unprocessable {
        code: Code::UploadTooLarge,
        detail: format!("The file is larger than {} MiB.", MAX_UPLOAD_BYTES >> 20),
    }
}

fn started() -> ApiError {
    ApiError::conflict(
        Code::ImportStarted,
        "This import has been started already; create a new import for another file.",
    )
}

/// The organization's imports, newest first (admins).
#[utoipa::path(get, path = "/v1/orgs/{org}/imports", tag = "imports",
    params(("org" = String, Path, description = "organization ID"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of imports", body = Page<ImportView>)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let page = req.page_query();
    let (caller, _) = admin(&ctx, &req, &[]).await?;
    let (imports, next) = ctx.store().imports_page(&caller.org.id, &page?).await?;
    let now = Timestamp::now();
    ApiResponse::ok(&Page::new(imports.iter().map(|i| ImportView::of(i, now)).collect(), next))
}

/// An import (admins): its progress while it runs, then its counts and refused rows.
#[utoipa::path(get, path = "/v1/orgs/{org}/imports/{id}", tag = "imports",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "import ID")),
    responses((status = 200, description = "The import", body = ImportView)))]
pub async fn get(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = req.path::<ImportId>("id")?;
    let (_, mut read) = admin(&ctx, &req, &[Also::Import(id.clone())]).await?;
    let import = read.import(&id)?.ok_or(ApiError::NotFound("import"))?;
    ApiResponse::ok(&ImportView::of(&import, Timestamp::now()))
}
