//! The importer: runs each roster import whose start the table's stream delivers (the
//! insert of its run, `IMPORTRUN#<id>`). The upload is copied from the exports bucket to
//! a temporary file as it arrives, opened (a zip read entry by entry, or one CSV) and
//! applied chunk by chunk (`roster::apply`): memory holds a chunk of rows, never the
//! file. Then the import is done (with its counts and refused rows) or failed (with a
//! reason for the admin), and the organization may start another.
//!
//! An upload that cannot be imported (missing, too large, not a roster, a file damaged,
//! not UTF-8 or past a bound) fails the import at once, with its reason, and gives the
//! organization's place back: reading it again would fail the same. A run that fails for
//! a reason that may pass (the store, S3), or is cut off (a crash, a timeout), is
//! reported as a failed record (or fails as a whole) and delivered again, up to
//! [`MAX_ATTEMPTS`] runs. A record delivered after its import finished only makes sure
//! the place was given back.
//!
//! Long imports outlast one invocation (Lambda's 15 minutes): a run is given a time
//! budget (Lambda's deadline less [`STOP_MARGIN`]) and, once it is spent, stops at the
//! next chunk's end, records where it is and inserts the next run's record
//! (`IMPORTRUN#<id>#<n>`), which the stream delivers to a new invocation; its own record
//! is done. Such a stop is no failed attempt (it gives its attempt back), and is
//! bounded apart ([`MAX_RESUMES`]). Every run, the first or a continuation, a retry or
//! not, starts from the checkpoint: the rules are `roster::resume`'s.

use std::io::Write;

use super::ChangeRecord;
use crate::domain::audit::Actor;
use crate::domain::imports::{ImportCounts, RowProblem, MAX_ATTEMPTS, MAX_RESUMES, MAX_UPLOAD_BYTES, NOT_RUN};
use crate::domain::AuditAction;
use crate::domain::{AuditEntry, Import, ImportId, ImportStatus, OrgId, Timestamp};
use crate::roster::apply::{Applied, Applier, Paused, Stopped};
/// A run's time budget (the function's deadline less [`STOP_MARGIN`]).
pub use crate::roster::resume::Budget;
use crate::roster::{archive, FileError, RosterFile};
use crate::store::imports::{Begun, Finished, Progress};
use crate::store::keys::IMPORTRUN_PREFIX;
use crate::store::orgs::Also;
use crate::Ctx;

/// How long before its invocation's deadline a run stops itself: a chunk's end comes
/// within seconds, and the continuation's transaction within one more.
pub const STOP_MARGIN: std::time::Duration = std::time::Duration::from_secs(60);

/// The run a stream record starts, if it is one: its organization, import and run (0
/// for `IMPORTRUN#<id>`, n for the n-th continuation `IMPORTRUN#<id>#<n>`).
pub fn started_import(record: &ChangeRecord) -> Option<(OrgId, ImportId, u32)> {
    if record.event_name != "INSERT" {
        return None;
    }
    let text = |name: &str| record.new_image.get(name).and_then(|v| v.as_s().ok());
    let rest = text(crate::store::keys::SK)?.strip_prefix(IMPORTRUN_PREFIX)?;
    let (id, run) = match rest.split_once('#') {
        Some((id, n)) => (id, n.parse().ok()?),
        None => (rest, 0),
    };
    Some((OrgId::parse(text("org_id")?)?, ImportId::parse(id)?, run))
}

/// What a run came to.
#[derive(Debug)]
pub enum Ran {
    /// The import finished (what it did; `None` when it failed or was done already).
    Finished(Option<Applied>),
    /// It stopped for time; run `n` continues it.
    Continues(u32),
    /// Nothing to do: an earlier run's record, delivered again.
    Stale,
}

/// Runs the imports a batch starts, one after another, each within `budget`; answers
/// the IDs of the records to deliver again.
pub async fn process(ctx: &Ctx, records: Vec<ChangeRecord>, budget: Budget) -> Vec<String> {
    let mut failed = Vec::new();
    for record in records {
        let Some((org, id, run)) = started_import(&record) else { continue };
        if let Err(e) = import(ctx, &org, &id, run, budget).await {
            tracing::warn!(import = %id, error = %e, "an import did not finish; it will be run again");
            failed.push(record.id);
        }
    }
    failed
}

/// Why a run stopped.
enum Run {
    /// The upload cannot be imported (not there, too large, not a roster): failed, with
    /// this problem shown.
    Refused(RowProblem),
    /// Something failed that may work next time.
    Failed(String),
    /// The run's time is spent.
    Paused(Box<Paused>),
}

fn failed(e: impl std::fmt::Display) -> Run {
    Run::Failed(e.to_string())
}

fn refused(message: impl Into<String>) -> Run {
    Run::Refused(RowProblem { file: archive::UPLOAD.into(), line: 0, message: message.into() })
}

/// Runs one import (its run `run`) within `budget`, unless it finished already; what it
/// came to, or an error when it is to be run again.
pub async fn import(ctx: &Ctx, org: &OrgId, id: &ImportId, run: u32, budget: Budget) -> Result<Ran, String> {
    let import = match ctx.store().begin_import_run(org, id, run).await.map_err(|e| e.to_string())? {
        Begun::Run(import) => *import,
        Begun::Stale => return Ok(Ran::Stale),
        Begun::Finished => {
            // Finished already: a finish whose giving back of the organization's place
            // failed gives it back now.
            ctx.store().release_import_slot(org, id).await.map_err(|e| e.to_string())?;
            return Ok(Ran::Finished(None));
        }
    };
    if import.attempts > MAX_ATTEMPTS {
        finish(ctx, &import, None, Err(NOT_RUN.into())).await?;
        return Ok(Ran::Finished(None));
    }
    let started = std::time::Instant::now();
    match self::run(ctx, &import, budget).await {
        Ok(applied) => {
            finish(ctx, &import, Some(&applied), Ok(())).await?;
            let c = &applied.counts;
            tracing::info!(
                import = %import.id, rows = applied.rows, created = c.created, updated = c.updated,
                unchanged = c.unchanged, deleted = c.deleted, errors = c.errors, invite_deferred = c.invite_deferred,
                resumes = import.resumes, ms = started.elapsed().as_millis() as u64, "import done"
            );
            Ok(Ran::Finished(Some(applied)))
        }
        Err(Run::Paused(paused)) if import.resumes >= MAX_RESUMES => {
            tracing::error!(import = %import.id, resumes = import.resumes, "an import ran out of continuations");
            finish(ctx, &import, Some(&paused.applied), Err(NOT_RUN.into())).await?;
            Ok(Ran::Finished(None))
        }
        Err(Run::Paused(paused)) => {
            let Paused { applied, progress, at } = *paused;
            let at =
                Progress { progress: &progress, counts: &applied.counts, errors: &applied.errors, checkpoint: &at };
            let asked = ctx.store().continue_import(&import, &at, Timestamp::now()).await.map_err(|e| e.to_string())?;
            tracing::info!(
                import = %import.id, file = %progress.file, rows = progress.rows, run = import.resumes + 1, asked,
                ms = started.elapsed().as_millis() as u64, "an import stopped for time; a new run continues it"
            );
            Ok(if asked { Ran::Continues(import.resumes + 1) } else { Ran::Stale })
        }
        Err(Run::Refused(problem)) => {
            let applied = Applied { errors: vec![problem.clone()], ..Default::default() };
            finish(ctx, &import, Some(&applied), Err(problem.message)).await?;
            Ok(Ran::Finished(None))
        }
        Err(Run::Failed(e)) if import.attempts >= MAX_ATTEMPTS => {
            tracing::error!(import = %import.id, error = %e, "an import failed for the last time");
            finish(ctx, &import, None, Err(NOT_RUN.into())).await?;
            Ok(Ran::Finished(None))
        }
        Err(Run::Failed(e)) => Err(e),
    }
}

async fn finish(
    ctx: &Ctx,
    import: &Import,
    applied: Option<&Applied>,
    outcome: Result<(), String>,
) -> Result<(), String> {
    let (counts, errors) = applied.map(|a| (a.counts.clone(), a.errors.clone())).unwrap_or_default();
    let counts: ImportCounts = counts;
    let (status, failure) = match outcome {
        Ok(()) => (ImportStatus::Done, None),
        Err(why) => (ImportStatus::Failed, Some(why)),
    };
    let actor = Actor { id: import.requested_by.clone(), name: import.requested_by_name.clone() };
    let audit = AuditEntry::new(&import.org_id, &actor, AuditAction::ImportFinish, "import", import.id.as_str()).after(
        serde_json::json!({
            "status": status,
            "counts": counts,
            "failure": failure,
        }),
    );
    let f = Finished { status, counts, errors, failure };
    ctx.store().finish_import(import, &f, Timestamp::now(), &audit).await.map(|_| ()).map_err(|e| e.to_string())
}

async fn run(ctx: &Ctx, import: &Import, budget: Budget) -> Result<Applied, Run> {
    let store = ctx.store();
    let reads = [Also::User(import.requested_by.clone())];
    let (org, admin, mut read) =
        store.org_member_and(&import.org_id, &import.requested_by, &reads).await.map_err(failed)?;
    let Some(org) = org else { return Err(refused("The organization no longer exists.")) };
    let Some(admin) = admin.filter(|m| m.admin) else {
        return Err(refused("The import was started by someone who is no longer an admin."));
    };
    let language = read.user(&import.requested_by).map_err(failed)?.map(|u| u.language).unwrap_or_default();
    // The upload, copied to a temporary file (deleted when dropped) as it arrives.
    let file = tempfile::NamedTempFile::new().map_err(failed)?;
    let (s3, bucket, key) = (ctx.s3(), &ctx.config().exports_bucket, import.object_key());
    let object = match s3.get_object().bucket(bucket).key(&key).send().await {
        Ok(o) => o,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
            return Err(refused("Nothing was uploaded: upload the file to the import's upload URL, then start it."))
        }
        Err(e) => return Err(failed(aws_sdk_s3::error::DisplayErrorContext(e))),
    };
    if object.content_length().unwrap_or_default() as u64 > MAX_UPLOAD_BYTES {
        return Err(refused(format!("The file is larger than {} MiB.", MAX_UPLOAD_BYTES >> 20)));
    }
    let mut body = object.body;
    let mut out = std::io::BufWriter::new(file.reopen().map_err(failed)?);
    let mut size = 0u64;
    while let Some(bytes) = body.try_next().await.map_err(failed)? {
        size += bytes.len() as u64;
        if size > MAX_UPLOAD_BYTES {
            return Err(refused(format!("The file is larger than {} MiB.", MAX_UPLOAD_BYTES >> 20)));
        }
        out.write_all(&bytes).map_err(failed)?;
    }
    out.flush().map_err(failed)?;
    drop(out);
    // Opening reads each file through once (checks before anything applies): off the
    // runtime's threads.
    let (reopened, name) = (file.reopen().map_err(failed)?, import.file_name.clone());
    let opened = tokio::task::spawn_blocking(move || archive::open(reopened, name.as_deref())).await;
    let mut upload = opened.map_err(failed)?.map_err(unreadable)?;
    let applied = [RosterFile::Classes, RosterFile::Users, RosterFile::Enrollments];
    if !upload.files().iter().any(|f| applied.contains(f)) {
        return Err(refused("The upload holds none of classes.csv, users.csv, enrollments.csv: nothing to import."));
    }
    let actor = Actor { id: admin.user_id.clone(), name: admin.name.clone() };
    match Applier::new(ctx, org, import, actor, language, budget).apply(&mut upload).await {
        Ok(applied) => Ok(applied),
        Err(Stopped::Unreadable(e)) => Err(unreadable(e)),
        Err(Stopped::Store(e)) => Err(failed(e)),
        Err(Stopped::Paused(p)) => Err(Run::Paused(p)),
    }
}

/// A file that cannot be read: the import fails with the file's reason, once (reading it
/// again would fail the same).
fn unreadable(e: FileError) -> Run {
    Run::Refused(RowProblem { file: e.file.into(), line: 0, message: e.sentence() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(event: &str, sk: &str) -> ChangeRecord {
        use aws_sdk_dynamodb::types::AttributeValue;
        let mut image = crate::store::tx::Item::new();
        image.insert("sk".into(), AttributeValue::S(sk.into()));
        image.insert("org_id".into(), AttributeValue::S("k7m3xq9pza".into()));
        ChangeRecord { id: "1".into(), event_name: event.into(), new_image: image, ..Default::default() }
    }

    #[test]
    fn a_run_record_names_its_import_and_continuation() {
        let id = ImportId::new();
        let (_, found, run) = started_import(&record("INSERT", &format!("IMPORTRUN#{id}"))).unwrap();
        assert_eq!((found, run), (id.clone(), 0));
        let (_, found, run) = started_import(&record("INSERT", &format!("IMPORTRUN#{id}#7"))).unwrap();
        assert_eq!((found, run), (id.clone(), 7));
        assert!(started_import(&record("MODIFY", &format!("IMPORTRUN#{id}#7"))).is_none());
        assert!(started_import(&record("INSERT", &format!("IMPORTRUN#{id}#x"))).is_none());
        assert!(started_import(&record("INSERT", &format!("IMPORT#{id}"))).is_none());
    }
}
