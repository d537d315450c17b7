//! Files of a group: an announced upload is an item of its own (`UPLOAD#`, expiring after
//! a day), a completed file another (`FILE#`), so the list of ready files is one query. The
//! organization's item keeps the bytes its quota counts: those of its ready files and
//! those each upload reserves from its announcement until it is completed (they become
//! the file's), deleted or expired (released). A member's uploads under way are counted
//! on an item of their own, bounded as the bytes are, in the same transactions.

use super::items::{file_item, file_key, group_key, org_key};
use super::keys::*;
use super::pieces::{add_audit, in_group, InGroup};
use super::read::KeyQuery;
use super::tx::{key, n, Expr, Tx};
use super::{Store, StoreError};
use crate::domain::files::{MAX_OPEN_UPLOADS, ORG_QUOTA, UPLOAD_LIFETIME};
use crate::domain::{AuditEntry, FileStatus, GroupFile, GroupId, OrgId, Timestamp, UserId};
use crate::page::{Cursor, PageQuery};

/// Why a change to a file was refused.
#[derive(Debug)]
pub enum FileError {
    /// The person may no longer write in the group.
    NoAccess,
    /// The group is gone.
    GroupGone,
    /// The organization's files would take more than its quota.
    QuotaExceeded,
    /// The person has [`MAX_OPEN_UPLOADS`] uploads under way already.
    TooManyUploads,
    /// The upload or file is gone (completed or deleted meanwhile).
    Gone,
    Store(StoreError),
}

impl From<StoreError> for FileError {
    fn from(e: StoreError) -> Self {
        FileError::Store(e)
    }
}

/// The condition that `size` more bytes fit in the organization's quota.
fn fits(size: u64) -> Expr {
    Expr::condition("attribute_exists(pk) AND (attribute_not_exists(storage_bytes) OR storage_bytes <= :room)")
        .value(":room", n(ORG_QUOTA.saturating_sub(size)))
}

/// The item counting `user`'s uploads under way in `org`.
fn open_uploads_key(org: &OrgId, user: &UserId) -> super::tx::Item {
    key(org_pk(org), open_uploads_sk(user))
}

/// How long the mark of a released expiry is kept: longer than the stream keeps records.
const RELEASED_MARK: time::Duration = time::Duration::days(2);

/// Adds to `tx` the release of `upload`'s reservation: its bytes and its place among its
/// uploader's open uploads. `to_file`: the bytes stay, as the ready file's.
fn release(tx: &mut Tx, upload: &GroupFile, to_file: bool) -> Result<(), StoreError> {
    let org = if to_file {
        Expr::update(
            "SET reserved_bytes = reserved_bytes - :size, file_count = if_not_exists(file_count, :zero) + :one",
        )
        .value(":zero", n(0))
        .value(":one", n(1))
    } else {
        Expr::update("SET storage_bytes = storage_bytes - :size, reserved_bytes = reserved_bytes - :size")
    };
    tx.update(org_key(&upload.org_id), org.when("attribute_exists(pk)").value(":size", n(upload.size)))?;
    let open = Expr::update("SET open_uploads = open_uploads - :one")
        .when("attribute_exists(open_uploads)")
        .value(":one", n(1));
    tx.update(open_uploads_key(&upload.org_id, &upload.uploaded_by), open)?;
    Ok(())
}

/// The upload an item removed from the table was (its `UPLOAD#` item), if it was one.
pub fn upload_of(image: &super::tx::Item) -> Option<Result<GroupFile, String>> {
    let sk = image.get(SK).and_then(|v| v.as_s().ok())?;
    sk.starts_with(UPLOAD_PREFIX)
        .then(|| super::items::from_item(image.clone()).map_err(|e| format!("an upload's item: {e}")))
}

impl Store {
    /// Records an announced upload (expiring after [`UPLOAD_LIFETIME`] unless completed)
    /// and reserves its bytes, if they fit in the organization's quota with its ready
    /// files and the other uploads under way, and a place among its uploader's open
    /// uploads.
    pub async fn announce_file(&self, f: &GroupFile) -> Result<(), FileError> {
        let f = GroupFile { reserved: true, ..f.clone() };
        let mut tx = Tx::new(&self.table);
        let expires = f.created_at.plus(UPLOAD_LIFETIME);
        tx.put(file_item(&f, Some(expires))?, Some(Expr::condition("attribute_not_exists(pk)")))?;
        let mut reserve = fits(f.size);
        reserve.update = Some(
            "SET storage_bytes = if_not_exists(storage_bytes, :zero) + :size, \
             reserved_bytes = if_not_exists(reserved_bytes, :zero) + :size"
                .into(),
        );
        let room = tx.update(org_key(&f.org_id), reserve.value(":zero", n(0)).value(":size", n(f.size)))?;
        let open = Expr::update("SET open_uploads = if_not_exists(open_uploads, :zero) + :one")
            .when("attribute_not_exists(open_uploads) OR open_uploads < :max")
            .value(":zero", n(0))
            .value(":one", n(1))
            .value(":max", n(MAX_OPEN_UPLOADS));
        let open = tx.update(open_uploads_key(&f.org_id, &f.uploaded_by), open)?;
        let access = in_group(&mut tx, &f.org_id, &f.uploaded_by, f.group_id.as_str(), InGroup::Member, None)?;
        let group = tx.check(group_key(&f.org_id, &f.group_id), Expr::condition("attribute_exists(pk)"))?;
        tx.run_expecting(
            self,
            vec![
                (access, FileError::NoAccess),
                (group, FileError::GroupGone),
                (room, FileError::QuotaExceeded),
                (open, FileError::TooManyUploads),
            ],
        )
        .await
    }

    /// Makes an upload a ready file: its reserved bytes become the file's, counted on the
    /// organization and on the uploader's membership. `Gone` when it was completed or
    /// dropped meanwhile.
    pub async fn complete_file(&self, upload: &GroupFile) -> Result<GroupFile, FileError> {
        let ready = GroupFile { status: FileStatus::Ready, reserved: false, ..upload.clone() };
        let mut tx = Tx::new(&self.table);
        let gone = tx.delete(file_key(upload), Some(Expr::condition("attribute_exists(pk)")))?;
        tx.put(file_item(&ready, None)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
        let room = if upload.reserved {
            release(&mut tx, upload, true)?;
            None
        } else {
            // Announced before reservations: counted now, within the quota.
            let mut count = fits(upload.size);
            count.update = Some(
                "SET storage_bytes = if_not_exists(storage_bytes, :zero) + :size, file_count = if_not_exists(file_count, :zero) + :one"
                    .into(),
            );
            let count = count.value(":zero", n(0)).value(":size", n(upload.size)).value(":one", n(1));
            Some(tx.update(org_key(&upload.org_id), count)?)
        };
        let access = in_group(
            &mut tx,
            &upload.org_id,
            &upload.uploaded_by,
            upload.group_id.as_str(),
            InGroup::Member,
            Some("file_count"),
        )?;
        let group = tx.check(group_key(&upload.org_id, &upload.group_id), Expr::condition("attribute_exists(pk)"))?;
        let mut meanings = vec![(gone, FileError::Gone), (access, FileError::NoAccess), (group, FileError::GroupGone)];
        if let Some(room) = room {
            meanings.push((room, FileError::QuotaExceeded));
        }
        tx.run_expecting(self, meanings).await?;
        Ok(ready)
    }

    /// Deletes a file or an upload, by its uploader (still in the group) or by a moderator
    /// (`audit`): an admin (the entry checks that they still are one) or a teacher of the
    /// group (still one); a ready file leaves the
    /// organization's count, an upload releases its reservation. `Gone` when it was
    /// deleted meanwhile.
    pub async fn delete_file(&self, f: &GroupFile, by: &UserId, audit: Option<&AuditEntry>) -> Result<(), FileError> {
        let mut tx = Tx::new(&self.table);
        let gone = tx.delete(file_key(f), Some(Expr::condition("attribute_exists(pk)")))?;
        let mut meanings = vec![(gone, FileError::Gone)];
        if f.status == FileStatus::Ready {
            let uncount = Expr::update("SET storage_bytes = storage_bytes - :size, file_count = file_count - :one")
                .when("attribute_exists(pk)")
                .value(":size", n(f.size))
                .value(":one", n(1));
            tx.update(org_key(&f.org_id), uncount)?;
        } else if f.reserved {
            release(&mut tx, f, false)?;
        }
        match audit {
            Some(entry) => {
                // A teacher of the group moderating: still one (an admin's entry checks).
                if !entry.by_admin {
                    let access = in_group(&mut tx, &f.org_id, by, f.group_id.as_str(), InGroup::Teacher, None)?;
                    meanings.push((access, FileError::NoAccess));
                }
                add_audit(&mut tx, entry)?;
            }
            None => {
                let access = in_group(&mut tx, &f.org_id, by, f.group_id.as_str(), InGroup::Member, None)?;
                meanings.push((access, FileError::NoAccess));
            }
        }
        tx.run_expecting(self, meanings).await
    }

    /// Releases the reservation of an upload that expired (DynamoDB's TTL removed its
    /// item), once: a mark kept for a while makes a redelivered expiry release nothing.
    /// Answers whether it released it now.
    pub async fn release_expired_upload(&self, upload: &GroupFile, now: Timestamp) -> Result<bool, StoreError> {
        if !upload.reserved || upload.status != FileStatus::Uploading {
            return Ok(false);
        }
        let mut tx = Tx::new(&self.table);
        let mut mark = key(org_pk(&upload.org_id), upload_gone_sk(&upload.id));
        mark.insert(TTL.into(), n(now.plus(RELEASED_MARK).unix()));
        let once = tx.put(mark, Some(Expr::condition("attribute_not_exists(pk)")))?;
        release(&mut tx, upload, false)?;
        match tx.run(self).await {
            Ok(()) => Ok(true),
            Err(e) if e.condition_failed_at(once) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every file of a group, ready or not (to delete with the group).
    pub async fn group_files(&self, org: &OrgId, group: &GroupId) -> Result<Vec<GroupFile>, StoreError> {
        let mut files: Vec<GroupFile> =
            self.query_all(&KeyQuery::table(org_pk(org)).prefix(files_prefix(FileStatus::Ready, group))).await?;
        files.extend(
            self.query_all::<GroupFile>(
                &KeyQuery::table(org_pk(org)).prefix(files_prefix(FileStatus::Uploading, group)),
            )
            .await?,
        );
        Ok(files)
    }

    /// A page of a group's ready files, newest first.
    pub async fn files_page(
        &self,
        org: &OrgId,
        group: &GroupId,
        page: &PageQuery,
    ) -> Result<(Vec<GroupFile>, Option<Cursor>), StoreError> {
        let q = KeyQuery::table(org_pk(org)).prefix(files_prefix(FileStatus::Ready, group)).newest_first();
        self.query_page(&q, page).await
    }
}
