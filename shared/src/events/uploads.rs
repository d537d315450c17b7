//! Uploads that expire: DynamoDB's TTL removes an upload not completed within a day (its
//! `UPLOAD#` item), and the table's stream hands the removal to the notifier (a second
//! filter on its event source mapping: TTL's `REMOVE`s of `UPLOAD#` items), which
//! releases what the upload reserved: its bytes against the organization's quota and its
//! place among its uploader's open uploads. Once per upload, however often the record is
//! delivered.

use super::ChangeRecord;
use crate::domain::Timestamp;
use crate::store::files::upload_of;
use crate::Ctx;

/// Whether the record is TTL's removal of an upload.
pub fn is_expired_upload(record: &ChangeRecord) -> bool {
    record.event_name == "REMOVE" && record.by_ttl && upload_of(&record.old_image).is_some()
}

/// Releases an expired upload's reservation: `Some(the record's ID)` when it must be
/// delivered again.
pub async fn release(ctx: &Ctx, record: &ChangeRecord) -> Option<String> {
    let upload = match upload_of(&record.old_image)? {
        Ok(upload) => upload,
        Err(why) => {
            // It cannot be read later either.
            tracing::error!(record = %record.id, error = %why, "an expired upload that cannot be read: its reservation stays");
            return None;
        }
    };
    match ctx.store().release_expired_upload(&upload, Timestamp::now()).await {
        Ok(released) => {
            tracing::info!(file = %upload.id, org = %upload.org_id, bytes = upload.size, released, "an upload expired");
            None
        }
        Err(e) => {
            tracing::warn!(file = %upload.id, error = %e, "an expired upload's reservation was not released; it will be retried");
            Some(record.id.clone())
        }
    }
}
