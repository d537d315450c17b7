//! Files shared in a group (R7.6): a member announces a file and gets a presigned PUT that
//! takes exactly that size and type for 15 minutes, uploads it straight to the private
//! bucket, then completes it (the object is checked); members list ready files and get a
//! presigned GET that downloads under the file's own name. The uploader or an admin
//! deletes a file. An organization's ready files stay within its quota.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::common::access::{in_group, Caller};
use super::common::errors::{object_error, quota_exceeded};
use super::common::grants::field_errors;
use super::common::placing::may_enter;
use super::common::views::extended;
use super::common::views::UploadView;
use crate::domain::files::{FileAnnouncement, FileRefusal, MAX_FILE_SIZE, ORG_QUOTA, UPLOAD_LIFETIME, URL_LIFETIME};
use crate::domain::AuditAction;
use crate::domain::{FileId, FileStatus, Group, GroupFile, GroupId, Timestamp};
use crate::http::Code;
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::objects;
use crate::store::files::FileError;
use crate::store::orgs::Also;
use crate::Ctx;

/// A file of a group.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = FileView::example)]
pub struct FileView {
    pub id: String,
    pub group_id: String,
    /// Its name as uploaded (the download keeps it).
    pub name: String,
    /// In bytes.
    pub size: u64,
    pub content_type: String,
    pub uploaded_by: String,
    pub uploaded_by_name: String,
    pub created_at: Timestamp,
    pub status: FileStatus,
}

impl FileView {
    fn example() -> serde_json::Value {
        json!({
            "id": "01m90ctxb2k4r5kfnrvntq3fgh",
            "group_id": "01m1dvdy27k1ccphgvsq8593fy",
            "name": "План урока — дроби.pdf",
            "size": 2483116,
            "content_type": "application/pdf",
            "uploaded_by": "8d2e4b61-5c3a-4f9e-b7d0-1e6a9c3f2b84",
            "uploaded_by_name": "Ирина Смирнова",
            "created_at": "2026-12-04T11:25:36.482Z",
            "status": "ready"
        })
    }
}

impl From<&GroupFile> for FileView {
    fn from(f: &GroupFile) -> Self {
        FileView {
            id: f.id.to_string(),
            group_id: f.group_id.to_string(),
            name: f.name.clone(),
            size: f.size,
            content_type: f.content_type.clone(),
            uploaded_by: f.uploaded_by.to_string(),
            uploaded_by_name: f.uploaded_by_name.clone(),
            created_at: f.created_at,
            status: f.status,
        }
    }
}

/// A file with the URL that downloads it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = DownloadView::example)]
pub struct DownloadView {
    #[serde(flatten)]
    pub file: FileView,
    /// A presigned GET, valid until `url_expires_at` (15 minutes); read the file again for
    /// a new one.
    pub download_url: String,
    pub url_expires_at: Timestamp,
}

/// An announced file and where to upload it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = NewFileView::example)]
pub struct NewFileView {
    pub file: FileView,
    pub upload: UploadView,
}

/// A file about to be uploaded.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "План урока — дроби.pdf", "size": 2483116, "content_type": "application/pdf"}))]
pub struct NewFile {
    /// Its name (up to 255 characters), kept for the download; never part of the storage key.
    pub name: String,
    /// In bytes, 1 to 52,428,800 (50 MiB); the upload must have exactly this size.
    pub size: i64,
    /// Its media type, e.g. `application/pdf`; the upload must carry exactly this type.
    pub content_type: String,
}

impl DownloadView {
    fn example() -> serde_json::Value {
        extended(
            FileView::example(),
            json!({
                "download_url": concat!(
                    "https://kabinet-prod-filesbucket-1r4m7k2x9c3v.s3.eu-central-1.amazonaws.com/files/k7m3xq9pza",
                    "/01m1dvdy27k1ccphgvsq8593fy/01m90ctxb2k4r5kfnrvntq3fgh?x-id=GetObject",
                    "&response-content-disposition=attachment%3B%20filename%3D%22____%20_____%20_%20_____.pdf%22%",
                    "3B%20filename%2A%3DUTF-8%27%27%25D0%259F%25D0%25BB%25D0%25B0%25D0%25BD%2520%25D1%2583%25D1%2",
                    "580%25D0%25BE%25D0%25BA%25D0%25B0%2520%25E2%2580%2594%2520%25D0%25B4%25D1%2580%25D0%25BE%25D",
                    "0%25B1%25D0%25B8.pdf&response-content-type=application%2Fpdf",
                    "&X-Amz-Algorithm=AWS4-HMAC-SHA256",
                    "&X-Amz-Credential=ASIAQ3EGUBHZ7KXN4T5W%2F20261206%2Feu-central-1%2Fs3%2Faws4_request",
                    "&X-Amz-Date=20261206T081409Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host",
                    "&X-Amz-Signature=e15b5a12036680d3cb4d79fa873bedd5ce0c1723f87d68dce379819cf1542b81",
                    "&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEKj%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEaDGV1LWNlbnRyYWwtMS",
                    "JHMEUCIQDx7f1q9Lw3nV8cRkT2mYpZ5bHs0aJ4eUoX1gNtQi6WdAIgV7rK",
                ),
                "url_expires_at": "2026-12-06T08:29:09.388Z"
            }),
        )
    }
}

impl NewFileView {
    fn example() -> serde_json::Value {
        let upload = json!({
            "url": concat!(
                "https://kabinet-prod-filesbucket-1r4m7k2x9c3v.s3.eu-central-1.amazonaws.com/uploads/k7m3xq9p",
                "za/01m1dvdy27k1ccphgvsq8593fy/01m90ctxb2k4r5kfnrvntq3fgh?x-id=PutObject",
                "&X-Amz-Algorithm=AWS4-HMAC-SHA256",
                "&X-Amz-Credential=ASIAQ3EGUBHZ7KXN4T5W%2F20261204%2Feu-central-1%2Fs3%2Faws4_request",
                "&X-Amz-Date=20261204T112536Z&X-Amz-Expires=900",
                "&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost",
                "&X-Amz-Signature=36fd92a0e1e989ab39f238551d1e822d0041ca3ca32ce899e5d284167e915ea2",
                "&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEKj%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEaDGV1LWNlbnRyYWwtMS",
                "JHMEUCIQDx7f1q9Lw3nV8cRkT2mYpZ5bHs0aJ4eUoX1gNtQi6WdAIgV7rK",
            ),
            "method": "PUT",
            "headers": {"content-length": "2483116", "content-type": "application/pdf"},
            "expires_at": "2026-12-04T11:40:36.482Z"
        });
        json!({"file": extended(FileView::example(), json!({"status": "uploading"})), "upload": upload})
    }
}

fn upload_missing(detail: &str) -> ApiError {
    ApiError::conflict(Code::UploadMissing, detail.to_string())
}

/// A presigning failure: logged in full, answered generically.
fn storage_failed(what: &str, e: String) -> ApiError {
    ApiError::Internal(format!("{what}: {e}"))
}

/// The caller in the group of the path with its file `{file}` (ready, or the caller's own
/// upload with `uploads`), in one round trip; 404 when there is none.
async fn caller_and_file(ctx: &Ctx, req: &ApiRequest, uploads: bool) -> Result<(Caller, Group, GroupFile), ApiError> {
    let group_id = req.path::<GroupId>("id")?;
    let id = req.path::<FileId>("file")?;
    let mut also = vec![Also::File { status: FileStatus::Ready, group: group_id.clone(), file: id.clone() }];
    if uploads {
        also.push(Also::File { status: FileStatus::Uploading, group: group_id.clone(), file: id.clone() });
    }
    let (caller, group, mut read) = in_group(ctx, req, &group_id, &also).await?;
    let ready = read.file(FileStatus::Ready, &group_id, &id)?;
    let upload = if uploads { read.file(FileStatus::Uploading, &group_id, &id)? } else { None };
    // An upload is its uploader's alone until completed. One past its lifetime that TTL
    // has not removed yet (DynamoDB takes its time) can no longer be completed, but its
    // uploader may still delete it, which releases what it reserved at once.
    let upload = upload.filter(|u| u.uploaded_by == caller.member.user_id);
    let file = ready.or(upload).ok_or(ApiError::NotFound("file"))?;
    Ok((caller, group, file))
}

/// The group's ready files, newest first (the group's members and admins).
#[utoipa::path(get, path = "/v1/orgs/{org}/groups/{id}/files", tag = "files",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of files", body = Page<FileView>)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let group_id = req.path::<GroupId>("id")?;
    let (caller, _, _) = in_group(&ctx, &req, &group_id, &[]).await?;
    let page = req.page_query()?;
    let (files, next) = ctx.store().files_page(&caller.org.id, &group_id, &page).await?;
    ApiResponse::ok(&Page::new(files.iter().map(FileView::from).collect(), next))
}

/// Announces a file (the group's members and admins) and answers where to upload it: a
/// presigned PUT that takes exactly the announced size and type for 15 minutes. Then
/// `POST .../files/{file}/complete`. Its bytes count against the organization's quota
/// from now on (until it is completed, deleted, or dropped a day later), and a person has
/// at most 20 uploads under way. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/orgs/{org}/groups/{id}/files", tag = "files", request_body = NewFile,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 201, description = "Announced: upload it now", body = NewFileView, headers(("Location" = String))),
              (status = 409, description = "`too_many_uploads` (20 under way: complete or delete one)"),
              (status = 422, description = "`validation_failed`, `file_too_large` (over 50 MiB), `quota_exceeded` (with the ready files and the uploads under way)")))]
pub async fn create(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let group_id = req.path::<GroupId>("id")?;
    let (caller, _, _) = in_group(&ctx, &req, &group_id, &[]).await?;
    let body: NewFile = req.json()?;
    let announced = FileAnnouncement::parse(&body.name, body.size, &body.content_type).map_err(|r| match r {
        FileRefusal::Fields(errors) => field_errors(errors),
        FileRefusal::TooLarge => ApiError::Unprocessable {
            code: Code::FileTooLarge,
            detail: format!("A file can have at most {} MiB.", MAX_FILE_SIZE >> 20),
        },
    })?;
    if caller.org.storage_bytes.saturating_add(announced.size) > ORG_QUOTA {
        return Err(quota_exceeded());
    }
    let file = GroupFile {
        id: FileId::new(),
        org_id: caller.org.id.clone(),
        group_id: group_id.clone(),
        name: announced.name,
        size: announced.size,
        content_type: announced.content_type,
        uploaded_by: caller.member.user_id.clone(),
        uploaded_by_name: caller.member.name.clone(),
        created_at: Timestamp::now(),
        status: FileStatus::Uploading,
        reserved: true,
    };
    let (s3, bucket) = (ctx.s3(), &ctx.config().files_bucket);
    let put = objects::presign_upload(s3, bucket, &file.object_key(), file.size, &file.content_type, URL_LIFETIME)
        .await
        .map_err(|e| storage_failed("presigning an upload", e))?;
    ctx.store().announce_file(&file).await.map_err(ApiError::from)?;
    let answer = NewFileView {
        file: FileView::from(&file),
        upload: UploadView {
            url: put.url,
            method: "PUT".into(),
            headers: put.headers.into_iter().collect(),
            expires_at: put.expires_at,
        },
    };
    let location = format!("/v1/orgs/{}/groups/{}/files/{}", caller.org.id, group_id, file.id);
    ApiResponse::created(&answer, &location)
}

/// Completes an upload (its uploader): the object must be there with the announced size
/// and type (409 `upload_missing` otherwise: upload again, then complete again). Answers
/// the ready file; completing it again answers it again.
#[utoipa::path(post, path = "/v1/orgs/{org}/groups/{id}/files/{file}/complete", tag = "files",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("file" = String, Path, description = "file ID")),
    responses((status = 200, description = "The ready file", body = FileView),
              (status = 409, description = "`upload_missing`"),
              (status = 422, description = "`quota_exceeded`")))]
pub async fn complete(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, _, upload) = caller_and_file(&ctx, &req, true).await?;
    let expired = upload.status == FileStatus::Uploading && upload.created_at.plus(UPLOAD_LIFETIME) <= Timestamp::now();
    if upload.uploaded_by != caller.member.user_id || expired {
        return Err(ApiError::NotFound("file"));
    }
    if upload.status == FileStatus::Ready {
        return ApiResponse::ok(&FileView::from(&upload));
    }
    let (s3, bucket, from) = (ctx.s3(), &ctx.config().files_bucket, upload.object_key());
    let head = objects::head(s3, bucket, &from).await.map_err(|e| object_error(e, "checking an upload"))?;
    let Some(head) = head else {
        return Err(upload_missing("Nothing was uploaded yet: PUT the file to the upload URL, then complete it."));
    };
    let same_type = head.content_type.as_deref().is_none_or(|t| t.eq_ignore_ascii_case(&upload.content_type));
    if head.size != upload.size || !same_type {
        objects::delete(s3, bucket, &from).await.map_err(|e| object_error(e, "removing a wrong upload"))?;
        return Err(upload_missing(&format!(
            "The upload has {} bytes where {} were announced: PUT the file again, then complete it.",
            head.size, upload.size
        )));
    }
    // The ready file's object is a copy of the upload's: the upload URL (still valid for a
    // while) cannot reach it, and the uploads' expiry never touches it.
    let to = GroupFile { status: FileStatus::Ready, ..upload.clone() }.object_key();
    objects::copy(s3, bucket, &from, &to).await.map_err(|e| object_error(e, "copying an upload"))?;
    let drop = |key: String| async move {
        if let Err(e) = objects::delete(s3, bucket, &key).await {
            tracing::warn!(error = %e, key = %key, "an object left behind (uploads expire by themselves)");
        }
    };
    match ctx.store().complete_file(&upload).await {
        Ok(ready) => {
            drop(from).await;
            ApiResponse::ok(&FileView::from(&ready))
        }
        Err(FileError::Gone) => match caller_and_file(&ctx, &req, true).await {
            // Completed by a retry meanwhile (with the same copy).
            Ok((_, _, now)) if now.status == FileStatus::Ready => ApiResponse::ok(&FileView::from(&now)),
            // Deleted meanwhile: so goes the copy.
            _ => {
                drop(to).await;
                Err(ApiError::NotFound("file"))
            }
        },
        Err(e @ (FileError::QuotaExceeded | FileError::NoAccess | FileError::GroupGone)) => {
            drop(to).await;
            Err(e.into())
        }
        // It may have been written all the same: the copy stays, and a retry answers the
        // ready file.
        Err(e) => Err(e.into()),
    }
}

/// A ready file with a presigned GET (15 minutes) that downloads it under its own name.
#[utoipa::path(get, path = "/v1/orgs/{org}/groups/{id}/files/{file}", tag = "files",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("file" = String, Path, description = "file ID")),
    responses((status = 200, description = "The file and its download URL", body = DownloadView)))]
pub async fn get(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (_, _, file) = caller_and_file(&ctx, &req, false).await?;
    let (s3, bucket) = (ctx.s3(), &ctx.config().files_bucket);
    let url = objects::presign_download(
        s3,
        bucket,
        &file.object_key(),
        &file.content_type,
        &file.content_disposition(),
        URL_LIFETIME,
    )
    .await
    .map_err(|e| storage_failed("presigning a download", e))?;
    ApiResponse::ok(&DownloadView {
        file: FileView::from(&file),
        download_url: url.url,
        url_expires_at: url.expires_at,
    })
}

/// Deletes a file, or an upload not completed (its uploader, an admin, or a teacher of the
/// group); the object goes too, and an upload's bytes and place among its uploader's uploads are released.
#[utoipa::path(delete, path = "/v1/orgs/{org}/groups/{id}/files/{file}", tag = "files",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("file" = String, Path, description = "file ID")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (caller, group, file) = caller_and_file(&ctx, &req, true).await?;
    let me = &caller.member.user_id;
    // Moderation: admins and the group's teachers delete anyone's files.
    if &file.uploaded_by != me && !may_enter(&caller, &group) {
        return Err(ApiError::Forbidden("delete another person's file"));
    }
    let audit = (&file.uploaded_by != me).then(|| {
        caller.audit(AuditAction::FileDelete, "file", &file.id).before(json!({
            "group_id": file.group_id, "name": file.name, "size": file.size,
            "uploaded_by": file.uploaded_by, "uploaded_by_name": file.uploaded_by_name,
        }))
    });
    match ctx.store().delete_file(&file, me, audit.as_ref()).await {
        Ok(()) | Err(FileError::Gone) => {}
        Err(e) => return Err(e.into()),
    }
    // The item is gone first: a file is never listed without its object. An object left
    // behind by a failure here is logged (its bytes no longer count for the organization).
    let (s3, bucket, key) = (ctx.s3(), &ctx.config().files_bucket, file.object_key());
    if let Err(e) = objects::delete(s3, bucket, &key).await {
        tracing::error!(error = %e, key = %key, "a deleted file's object could not be removed");
    }
    Ok(ApiResponse::no_content())
}
