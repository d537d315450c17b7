//! Files of a group: an announced upload is an item of its own (`UPLOAD#`, expiring after
//! a day), a completed file another (`FILE#`), so the list of ready files is one query. The
//! organization's item keeps the bytes and count of its ready files, which the quota bounds.

use super::items::{file_item, file_key, group_key, org_key};
use super::keys::*;
use super::pieces::{add_audit, in_group, InGroup};
use super::read::KeyQuery;
use super::tx::{n, Expr, Tx};
use super::{Store, StoreError};
use crate::domain::files::{ORG_QUOTA, UPLOAD_LIFETIME};
use crate::domain::{AuditEntry, FileStatus, GroupFile, OrgId, UserId};
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

impl Store {
    /// Records an announced upload (expiring after [`UPLOAD_LIFETIME`] unless completed),
    /// if the file would fit in the organization's quota.
    pub async fn announce_file(&self, f: &GroupFile) -> Result<(), FileError> {
        let mut tx = Tx::new(&self.table);
        let expires = f.created_at.plus(UPLOAD_LIFETIME);
        tx.put(file_item(f, Some(expires))?, Some(Expr::condition("attribute_not_exists(pk)")))?;
        let room = tx.check(org_key(&f.org_id), fits(f.size))?;
        let access = in_group(&mut tx, &f.org_id, &f.uploaded_by, &f.group_id, InGroup::Member, None)?;
        let group = tx.check(group_key(&f.org_id, &f.group_id), Expr::condition("attribute_exists(pk)"))?;
        tx.run_expecting(
            self,
            vec![(access, FileError::NoAccess), (group, FileError::GroupGone), (room, FileError::QuotaExceeded)],
        )
        .await
    }

    /// Makes an upload a ready file: counted on the organization (within its quota) and
    /// on the uploader's membership. `Gone` when it was completed or dropped meanwhile.
    pub async fn complete_file(&self, upload: &GroupFile) -> Result<GroupFile, FileError> {
        let ready = GroupFile { status: FileStatus::Ready, ..upload.clone() };
        let mut tx = Tx::new(&self.table);
        let gone = tx.delete(file_key(upload), Some(Expr::condition("attribute_exists(pk)")))?;
        tx.put(file_item(&ready, None)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
        let mut count = fits(upload.size);
        count.update = Some(
            "SET storage_bytes = if_not_exists(storage_bytes, :zero) + :size, file_count = if_not_exists(file_count, :zero) + :one"
                .into(),
        );
        let count = count.value(":zero", n(0)).value(":size", n(upload.size)).value(":one", n(1));
        let room = tx.update(org_key(&upload.org_id), count)?;
        let access = in_group(
            &mut tx,
            &upload.org_id,
            &upload.uploaded_by,
            &upload.group_id,
            InGroup::Member,
            Some("file_count"),
        )?;
        let group = tx.check(group_key(&upload.org_id, &upload.group_id), Expr::condition("attribute_exists(pk)"))?;
        tx.run_expecting(
            self,
            vec![
                (gone, FileError::Gone),
                (access, FileError::NoAccess),
                (group, FileError::GroupGone),
                (room, FileError::QuotaExceeded),
            ],
        )
        .await?;
        Ok(ready)
    }

    /// Deletes a file or an upload, by its uploader (still in the group) or by an admin
    /// (`audit`, which checks that they still are one); a ready file leaves the
    /// organization's count. `Gone` when it was deleted meanwhile.
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
        }
        match audit {
            Some(entry) => {
                add_audit(&mut tx, entry)?;
            }
            None => {
                let access = in_group(&mut tx, &f.org_id, by, &f.group_id, InGroup::Member, None)?;
                meanings.push((access, FileError::NoAccess));
            }
        }
        tx.run_expecting(self, meanings).await
    }

    /// Every file of a group, ready or not (to delete with the group).
    pub async fn group_files(&self, org: &OrgId, group: &str) -> Result<Vec<GroupFile>, StoreError> {
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
        group: &str,
        page: &PageQuery,
    ) -> Result<(Vec<GroupFile>, Option<Cursor>), StoreError> {
        let q = KeyQuery::table(org_pk(org)).prefix(files_prefix(FileStatus::Ready, group)).newest_first();
        self.query_page(&q, page).await
    }
}
