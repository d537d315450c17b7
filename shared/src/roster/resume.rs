//! Where a new run of an import continues (issue 31): the pure rules of its checkpoint.
//!
//! An import goes through its roster files in order ([`APPLIED`]), then settles the
//! memberships of the people it changed, then sends its invitations. After each chunk
//! has applied whole (and each page settled or invited) the importer writes a
//! [`Checkpoint`] with the counts and refused rows so far. A new run reads past what the
//! checkpoint says was done (files before its file, and its file's first rows: reading is
//! cheap, nothing is applied again) and goes on.
//!
//! - A run that stops itself for time stops at a chunk's end, right after its checkpoint:
//!   the next run applies no row twice, and its counts are an uninterrupted run's.
//! - A run cut off mid-chunk (a crash, a timeout, a store failure) leaves that chunk's
//!   rows applied in part, uncounted. The next run applies the chunk again from the
//!   checkpoint: each row applies whole or not at all and the same row again changes
//!   nothing, so the records, memberships and mails are an uninterrupted run's. Its rows
//!   are counted once, as they come out now: a row the cut-off run had created or updated
//!   counts as `unchanged` (and a deletion it made as `unchanged`), the only way its
//!   counts can differ from an uninterrupted run's. That chunk is marked seen with the
//!   new run's own tag (a row the cut-off run marked is no duplicate of itself); every
//!   other chunk with the import's tag, which the checkpoint keeps, so a sourcedId met
//!   again anywhere later in the file is still refused as a duplicate.
//! - Academic sessions are kept in memory (a journal has a few): a run continuing in
//!   `classes.csv` reads them again, counting nothing.

use super::{RosterFile, APPLIED};
use crate::domain::imports::Checkpoint;
use crate::domain::ImportId;

/// The phase after the files: bringing memberships in step.
pub const SETTLING: &str = "settling memberships";
/// The last phase: roster invitations (`"invite": true`).
pub const INVITING: &str = "sending invitations";

/// How long a run may go on: it stops itself at the first chunk's end past it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budget {
    /// When to stop (Lambda's deadline less a margin); `None`: no limit.
    pub until: Option<std::time::Instant>,
}

impl Budget {
    /// No limit.
    pub fn none() -> Self {
        Budget::default()
    }

    /// `margin` before `deadline`.
    pub fn before(deadline: std::time::Instant, margin: std::time::Duration) -> Self {
        Budget { until: Some(deadline.checked_sub(margin).unwrap_or(deadline)) }
    }

    /// For `seconds` from now.
    pub fn seconds(seconds: u64) -> Self {
        Budget { until: Some(std::time::Instant::now() + std::time::Duration::from_secs(seconds)) }
    }

    /// Whether a run that handled `rows` is to stop: its time is up, or it handled the
    /// import's `run_rows` setting.
    pub fn spent(&self, rows: u64, run_rows: Option<u64>) -> bool {
        self.until.is_some_and(|u| std::time::Instant::now() >= u) || run_rows.is_some_and(|n| rows >= n)
    }
}

/// What a run does with a roster file, given where the import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Applies it from its first row.
    All,
    /// Done already: not read.
    Skip,
    /// Done already, but read again for what it keeps in memory (academic sessions),
    /// counting nothing.
    Again,
    /// Reads past its first rows (done already), then applies the rest.
    From(u64),
}

/// A phase's place in the order of work: the files' indexes, then settling, inviting.
fn order(phase: &str) -> usize {
    match phase {
        SETTLING => APPLIED.len(),
        INVITING => APPLIED.len() + 1,
        file => APPLIED.iter().position(|f| f.file_name() == file).unwrap_or(0),
    }
}

/// What to do with `file` when the import is at `at` (`None`: nothing done yet).
pub fn read(at: Option<&Checkpoint>, file: RosterFile) -> Read {
    let Some(at) = at else { return Read::All };
    let (here, this) = (order(&at.file), order(file.file_name()));
    match this.cmp(&here) {
        std::cmp::Ordering::Greater => Read::All,
        std::cmp::Ordering::Equal => Read::From(at.rows),
        // Classes need the years of the sessions; nothing after them does.
        std::cmp::Ordering::Less if file == RosterFile::AcademicSessions && here == order("classes.csv") => Read::Again,
        std::cmp::Ordering::Less => Read::Skip,
    }
}

/// Whether a phase after the files (`SETTLING`, `INVITING`) still has work, given `at`.
pub fn after_files(at: Option<&Checkpoint>, phase: &str) -> bool {
    at.is_none_or(|at| order(&at.file) <= order(phase))
}

/// The run's own tag: the import and its attempt (runs that stopped for time give theirs
/// back, so the runs of one pass share it).
pub fn own_tag(import: &ImportId, attempts: u32) -> String {
    format!("{import}#{attempts}")
}

/// The tags a run marks rows seen with: the import's (the checkpoint's, else its own) for
/// every chunk, and its own for the first chunk when the run before it was cut off
/// (its tag differs from the checkpoint's).
pub fn tags(at: Option<&Checkpoint>, own: &str) -> (String, Option<String>) {
    match at {
        Some(at) if at.seen != own => (at.seen.clone(), Some(own.to_string())),
        Some(at) => (at.seen.clone(), None),
        None => (own.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: &str, rows: u64, seen: &str) -> Checkpoint {
        Checkpoint { file: file.into(), rows, read: 0, seen: seen.into(), cursor: None }
    }

    #[test]
    fn a_run_stops_when_its_time_or_its_rows_are_spent() {
        assert!(!Budget::none().spent(1_000_000, None));
        assert!(Budget::none().spent(100, Some(100)) && !Budget::none().spent(99, Some(100)));
        let past = std::time::Instant::now();
        assert!(Budget::before(past, std::time::Duration::from_secs(60)).spent(1, None));
        assert!(!Budget::seconds(3600).spent(1, None));
    }

    #[test]
    fn a_first_run_reads_every_file() {
        for f in APPLIED {
            assert_eq!(read(None, f), Read::All);
        }
        assert!(after_files(None, SETTLING) && after_files(None, INVITING));
    }

    #[test]
    fn a_new_run_reads_past_what_was_done() {
        let c = at("users.csv", 300, "i#1");
        assert_eq!(read(Some(&c), RosterFile::AcademicSessions), Read::Skip);
        assert_eq!(read(Some(&c), RosterFile::Classes), Read::Skip);
        assert_eq!(read(Some(&c), RosterFile::Users), Read::From(300));
        assert_eq!(read(Some(&c), RosterFile::Enrollments), Read::All);
        assert!(after_files(Some(&c), SETTLING) && after_files(Some(&c), INVITING));
    }

    #[test]
    fn classes_read_the_sessions_again() {
        let c = at("classes.csv", 100, "i#1");
        assert_eq!(read(Some(&c), RosterFile::AcademicSessions), Read::Again);
        assert_eq!(read(Some(&c), RosterFile::Classes), Read::From(100));
    }

    #[test]
    fn settling_and_inviting_skip_every_file() {
        let settling = at(SETTLING, 200, "i#1");
        let inviting = at(INVITING, 100, "i#1");
        for f in APPLIED {
            assert_eq!(read(Some(&settling), f), Read::Skip);
            assert_eq!(read(Some(&inviting), f), Read::Skip);
        }
        assert!(after_files(Some(&settling), SETTLING) && after_files(Some(&settling), INVITING));
        assert!(!after_files(Some(&inviting), SETTLING) && after_files(Some(&inviting), INVITING));
    }

    #[test]
    fn only_the_chunk_after_a_cut_off_run_gets_the_runs_own_tag() {
        let id = ImportId::new();
        let own = own_tag(&id, 1);
        assert_eq!(tags(None, &own), (own.clone(), None), "a first run: its own");
        let stopped = at("users.csv", 100, &own);
        assert_eq!(tags(Some(&stopped), &own), (own.clone(), None), "after a stop for time: the same");
        let again = own_tag(&id, 2);
        assert_eq!(tags(Some(&stopped), &again), (own.clone(), Some(again.clone())), "after a cut-off run");
    }
}
