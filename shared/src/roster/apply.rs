//! Applies an opened upload to an organization: its academic sessions (kept in memory:
//! a journal has a few), then its classes, people and enrollments read in chunks of
//! [`CHUNK`] rows (one batch read of what they change, then each row's own write, a few
//! at once), then the people whose records changed meet their memberships. Memory holds
//! a chunk, never the file.
//!
//! Each row applies whole or not at all (one write or one transaction); a refused row is
//! listed with its file, line and reason, and the others go on. A row equal to what its
//! record holds changes nothing (`unchanged`); classes and people made in kabinet by
//! hand are never changed or deleted.
//!
//! After each chunk (and each page settled or invited) the import's checkpoint is
//! written; a run past its time budget stops there, and a new run continues from it
//! (`super::resume`).

use std::collections::{BTreeSet, HashMap};

use futures::stream::{self, StreamExt};
use sha2::{Digest, Sha256};

use super::archive::Upload;
use super::resume::{self, Budget, Read, INVITING, SETTLING};
use super::{Enrollment, FileError, RosterClass, RosterFile, RosterUser, Row, Status, APPLIED};
use crate::domain::audit::Actor;
use crate::domain::imports::{Checkpoint, ImportCounts, ImportProgress, RosterPlace, RowProblem, MAX_LISTED_ERRORS};
use crate::domain::AuditAction;
use crate::domain::{AcademicYear, AuditEntry, Class, ClassSource, Course, Email, Import, Language, Membership};
use crate::domain::{CourseId, ImportId, Org, OutboxEvent, RosterPerson, SourcedId, Timestamp, UserId};
use crate::page::{Cursor, PageQuery};
use crate::store::keys::{roster_class_sk, roster_enrollment_sk, roster_sk};
use crate::store::roster::{ClassLink, EnrollmentRecord, RosterInvite, RowWriteError, Stored};
use crate::store::StoreError;
use crate::Ctx;

/// Rows read and written together.
pub const CHUNK: usize = 100;
/// The most a chunk's rows hold together: a chunk ends early at 4 MiB (rows are a few
/// hundred bytes; each may hold up to 2 MiB).
pub const CHUNK_BYTES: usize = 4 << 20;
/// Rows of a chunk written at once.
const PARALLEL: usize = 8;
/// Academic sessions kept (a journal has a handful a year).
const MAX_SESSIONS: usize = 10_000;
/// The longest sourcedId taken, in bytes (it is part of keys, which hold 1,024).
const MAX_ID: usize = 200;
/// The longest text of a row a refusal repeats, in characters.
const QUOTED: usize = 120;
/// The children (or parents) one person's row may name.
const MAX_AGENTS: usize = 50;
/// How many times a row's write is tried when its record changes meanwhile.
const MAX_TRIES: usize = 3;

/// What a row did.
#[derive(Debug)]
enum Outcome {
    Created,
    Updated,
    Unchanged,
    Deleted,
    Skipped,
    /// Left out: the row's line, and why.
    Refused {
        line: u64,
        why: String,
    },
    /// Unchanged once its record (`sk`) is marked seen by this run: the chunk's marks go
    /// together ([`Applier::resolve`]).
    Seen {
        line: u64,
        id: SourcedId,
        sk: String,
    },
    /// To be written: the chunk's writes go a group of rows a transaction
    /// ([`Applier::resolve`]).
    Write(Box<Pending>),
}

/// A row's write, as read and checked (held boxed, a chunk's worth).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
enum Pending {
    Person {
        line: u64,
        id: SourcedId,
        person: RosterPerson,
        /// The record as read.
        before: Option<RosterPerson>,
        fp: String,
    },
    Enrollment {
        line: u64,
        id: SourcedId,
        record: EnrollmentRecord,
        place: RosterPlace,
        /// The person it had as read.
        from: Option<SourcedId>,
        fp: String,
        update: bool,
        /// The row's userSourcedId, for its refusal.
        user: String,
    },
}

impl Pending {
    /// What the row did once written.
    fn written(&self) -> Outcome {
        match self {
            Pending::Person { before: Some(_), .. } | Pending::Enrollment { update: true, .. } => Outcome::Updated,
            _ => Outcome::Created,
        }
    }
}

/// What inviting one person did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Settled {
    #[default]
    Nothing,
    Invited,
    /// Held back by the organization's daily mail budget.
    Deferred,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    pub counts: ImportCounts,
    pub errors: Vec<RowProblem>,
    /// Rows read, all files together.
    pub rows: u64,
}

fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(&h.finalize()[..12])
}

fn duplicate(line: u64, sourced_id: &SourcedId) -> Outcome {
    let why = format!("sourcedId {sourced_id} appears more than once in this file; this row is left out");
    Outcome::Refused { line, why }
}

/// Why applying stopped before the end.
#[derive(Debug, thiserror::Error)]
pub enum Stopped {
    /// The store failed: a run again may work.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file cannot be read: a run again would fail the same.
    #[error(transparent)]
    Unreadable(FileError),
    /// The run's time is spent: a new run continues from the checkpoint, which the
    /// caller records with the continuation.
    #[error("the run's time is spent")]
    Paused(Box<Paused>),
}

/// Where a run stopped for time: what it did so far and where the next continues.
#[derive(Debug)]
pub struct Paused {
    pub applied: Applied,
    pub progress: ImportProgress,
    pub at: Checkpoint,
}

/// Applies an upload for an import (its run `attempt`), on behalf of the admin who
/// started it, writing its language into the positions the roles give.
pub struct Applier<'a> {
    ctx: &'a Ctx,
    org: Org,
    import: &'a Import,
    actor: Actor,
    language: Language,
    /// This import's pass (`<import>#<attempt>`): a record seen by it twice is a
    /// duplicate row.
    seen: String,
    /// After a cut-off run: the tag of the chunk applied again (`resume::tags`).
    first_tag: Option<String>,
    /// Where the import is, from an earlier run.
    at: Option<Checkpoint>,
    budget: Budget,
    /// Rows (and people settled or invited) this run handled.
    run_rows: u64,
    /// Reading a file again for what it keeps in memory: nothing counted.
    replaying: bool,
    /// While inviting: the next page.
    cursor: Option<String>,
    applied: Applied,
    sessions: HashMap<String, AcademicYear>,
    has_sessions: bool,
    file: &'static str,
    file_rows: u64,
    /// Whether the day's mail budget ran out during this run.
    budget_spent: std::sync::atomic::AtomicBool,
}

impl<'a> Applier<'a> {
    pub fn new(ctx: &'a Ctx, org: Org, import: &'a Import, actor: Actor, language: Language, budget: Budget) -> Self {
        let at = import.checkpoint.clone();
        let (seen, first_tag) = resume::tags(at.as_ref(), &resume::own_tag(&import.id, import.attempts));
        // Continuing: what the runs before did.
        let applied = match &at {
            Some(at) => Applied { counts: import.counts.clone(), errors: import.errors.clone(), rows: at.read },
            None => Applied::default(),
        };
        Applier {
            ctx,
            org,
            import,
            actor,
            language,
            seen,
            first_tag,
            cursor: at.as_ref().and_then(|a| a.cursor.clone()),
            at,
            budget,
            run_rows: 0,
            replaying: false,
            applied,
            sessions: HashMap::new(),
            has_sessions: false,
            file: "",
            file_rows: 0,
            budget_spent: Default::default(),
        }
    }

    /// The import that settles the records it changed.
    fn dirty(&self) -> &ImportId {
        &self.import.id
    }

    fn refuse(&mut self, file: &str, line: u64, message: impl Into<String>) {
        if self.replaying {
            return;
        }
        self.applied.counts.errors += 1;
        if self.applied.errors.len() < MAX_LISTED_ERRORS {
            // A message repeats what the row holds: kept short, so that 500 of them stay
            // well within an item.
            let mut message: String = message.into();
            if message.chars().count() > 3 * QUOTED {
                message = message.chars().take(3 * QUOTED).chain("…".chars()).collect();
            }
            self.applied.errors.push(RowProblem { file: file.to_string(), line, message });
        }
    }

    fn tally(&mut self, file: RosterFile, outcome: Outcome) {
        let c = &mut self.applied.counts;
        let applied = match outcome {
            Outcome::Created => {
                c.created += 1;
                true
            }
            Outcome::Updated => {
                c.updated += 1;
                true
            }
            Outcome::Unchanged => {
                c.unchanged += 1;
                true
            }
            Outcome::Deleted => {
                c.deleted += 1;
                true
            }
            Outcome::Skipped => {
                c.skipped += 1;
                false
            }
            Outcome::Refused { line, why } => {
                self.refuse(file.file_name(), line, why);
                false
            }
            // Resolved before they are tallied.
            Outcome::Seen { .. } | Outcome::Write(_) => false,
        };
        if applied {
            match file {
                RosterFile::Classes => self.applied.counts.classes += 1,
                RosterFile::Users => self.applied.counts.users += 1,
                RosterFile::Enrollments => self.applied.counts.enrollments += 1,
                _ => {}
            }
        }
    }

    /// Where the import is now.
    fn here(&self) -> (ImportProgress, Checkpoint) {
        let progress = ImportProgress { file: self.file.to_string(), rows: self.file_rows };
        let at = Checkpoint {
            file: self.file.to_string(),
            rows: self.file_rows,
            read: self.applied.rows,
            seen: self.seen.clone(),
            cursor: self.cursor.clone(),
        };
        (progress, at)
    }

    /// At a chunk's end: stops when the run's time is spent (and it did something), else
    /// writes the checkpoint (a failure to write it fails the run: a new run must not
    /// start further back than this one got).
    async fn step(&mut self) -> Result<(), Stopped> {
        let (progress, at) = self.here();
        if self.run_rows > 0 && self.budget.spent(self.run_rows, self.import.run_rows) {
            let applied = self.applied.clone();
            return Err(Stopped::Paused(Box::new(Paused { applied, progress, at })));
        }
        let at = crate::store::imports::Progress {
            progress: &progress,
            counts: &self.applied.counts,
            errors: &self.applied.errors,
            checkpoint: &at,
        };
        self.ctx.store().import_checkpoint(&self.org.id, &self.import.id, &at).await?;
        Ok(())
    }

    /// Applies every roster file of the upload, then settles the people it changed; from
    /// where an earlier run got to, if one did.
    pub async fn apply(mut self, upload: &mut Upload) -> Result<Applied, Stopped> {
        for file in APPLIED {
            let how = resume::read(self.at.as_ref(), file);
            if how == Read::Skip {
                continue;
            }
            let Some(rows) = upload.rows(file) else { continue };
            self.replaying = how == Read::Again;
            let mut rows = match rows {
                Ok(rows) => rows,
                Err(e) if e.unreadable => return Err(Stopped::Unreadable(e)),
                Err(e) => {
                    self.refuse(e.file, 0, e.reason);
                    continue;
                }
            };
            self.file = file.file_name();
            self.file_rows = 0;
            if let Read::From(done) = how {
                // Applied by an earlier run: read past.
                while self.file_rows < done && rows.next().is_some() {
                    self.file_rows += 1;
                }
            }
            // Academic sessions live in memory: a run never stops inside them.
            let steps = file != RosterFile::AcademicSessions;
            if steps {
                self.step().await?;
            }
            loop {
                let mut chunk = Vec::with_capacity(CHUNK);
                let mut more = true;
                // A chunk is at most CHUNK rows read (refused ones too) and CHUNK_BYTES.
                let (mut read, mut bytes) = (0, 0);
                while read < CHUNK && bytes < CHUNK_BYTES {
                    match rows.next() {
                        None => {
                            more = false;
                            break;
                        }
                        Some(Ok(row)) => {
                            bytes += rows.row_bytes();
                            chunk.push((rows.line(), row));
                        }
                        Some(Err(e)) => self.refuse(e.file, e.line, e.reason),
                    }
                    read += 1;
                    self.file_rows += 1;
                }
                if let Some(e) = rows.failure() {
                    return Err(Stopped::Unreadable(e.clone()));
                }
                if !self.replaying {
                    self.applied.rows += chunk.len() as u64;
                    self.run_rows += read as u64;
                }
                // The chunk a cut-off run was applying: marked with this run's own tag.
                let pass = match (steps, self.first_tag.take()) {
                    (true, Some(own)) => Some(std::mem::replace(&mut self.seen, own)),
                    (_, first) => {
                        self.first_tag = first;
                        None
                    }
                };
                match file {
                    RosterFile::AcademicSessions => self.sessions(chunk),
                    RosterFile::Classes => self.classes(chunk).await?,
                    RosterFile::Users => self.users(chunk).await?,
                    RosterFile::Enrollments => self.enrollments(chunk).await?,
                    _ => {}
                }
                if let Some(pass) = pass {
                    self.seen = pass;
                }
                if steps {
                    self.step().await?;
                }
                if !more {
                    break;
                }
            }
            self.replaying = false;
        }
        self.file = "";
        self.settle_all().await?;
        Ok(self.applied)
    }

    fn sessions(&mut self, chunk: Vec<(u64, Row)>) {
        for (line, row) in chunk {
            let Row::Session(s) = row else { continue };
            self.has_sessions = true;
            if s.status == Status::ToBeDeleted {
                continue;
            }
            if self.sessions.len() >= MAX_SESSIONS {
                self.refuse(
                    RosterFile::AcademicSessions.file_name(),
                    line,
                    "more academic sessions than a journal has",
                );
                continue;
            }
            self.sessions.insert(s.sourced_id, s.year);
        }
    }

    /// The chunk's rows of one kind with their sourcedIds, a sourcedId seen twice in it
    /// refused.
    fn unique<T>(
        &mut self,
        file: RosterFile,
        rows: Vec<(u64, T)>,
        id: impl Fn(&T) -> &str,
    ) -> Vec<(u64, SourcedId, T)> {
        let mut first: HashMap<SourcedId, u64> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for (line, row) in rows {
            if id(&row).len() > MAX_ID {
                self.refuse(file.file_name(), line, format!("sourcedId is longer than {MAX_ID} bytes"));
                continue;
            }
            let Some(sourced_id) = SourcedId::parse(id(&row)) else {
                self.refuse(file.file_name(), line, "sourcedId is empty");
                continue;
            };
            match first.get(&sourced_id) {
                Some(at) => {
                    let why = format!(
                        "sourcedId {sourced_id} appears more than once in this file (first on line {at}); this row is left out"
                    );
                    self.refuse(file.file_name(), line, why);
                }
                None => {
                    first.insert(sourced_id.clone(), line);
                    out.push((line, sourced_id, row));
                }
            }
        }
        out
    }

    async fn classes(&mut self, chunk: Vec<(u64, Row)>) -> Result<(), StoreError> {
        let rows: Vec<(u64, RosterClass)> =
            chunk.into_iter().filter_map(|(l, r)| if let Row::Class(c) = r { Some((l, c)) } else { None }).collect();
        let rows = self.unique(RosterFile::Classes, rows, |c| &c.sourced_id);
        let ids: Vec<SourcedId> = rows.iter().map(|(_, id, _)| id.clone()).collect();
        let links = self.ctx.store().class_links(&self.org.id, &ids).await?;
        let this = &*self;
        // One at a time: each new class or course moves the organization's counter, and
        // transactions on one item at once conflict (a school has a few hundred classes).
        let outcomes: Vec<Result<Outcome, StoreError>> = stream::iter(rows)
            .then(|(line, id, c)| {
                let link = links.get(&id);
                async move { this.class_row(line, id, c, link).await }
            })
            .collect()
            .await;
        let outcomes = outcomes.into_iter().collect::<Result<Vec<_>, _>>()?;
        for o in self.resolve(outcomes).await? {
            self.tally(RosterFile::Classes, o);
        }
        Ok(())
    }

    async fn class_row(
        &self,
        line: u64,
        id: SourcedId,
        c: RosterClass,
        link: Option<&Stored<ClassLink>>,
    ) -> Result<Outcome, StoreError> {
        let store = self.ctx.store();
        let org = &self.org.id;
        if c.status == Status::ToBeDeleted {
            let Some(link) = link else { return Ok(Outcome::Unchanged) };
            if let Some(course) = link.record.course_id.as_deref().and_then(CourseId::parse) {
                if let Some(course) = store.course(org, &course).await? {
                    let audit = AuditEntry::new(org, &self.actor, AuditAction::CourseDelete, "course", &course.id);
                    match store.delete_course(&course, &audit).await {
                        Ok(()) | Err(crate::store::groups::GroupError::NotFound) => {}
                        Err(crate::store::groups::GroupError::Store(e)) => return Err(e),
                        Err(_) => {
                            let why = "the course changed while importing; run the import again";
                            return Ok(Outcome::Refused { line, why: why.into() });
                        }
                    }
                }
            } else if !link.record.scheduled {
                if let Some(class) = store.class_by_text(org, &link.record.class_id).await? {
                    if class.source == ClassSource::Journal {
                        let audit = AuditEntry::new(org, &self.actor, AuditAction::ClassDelete, "class", &class.id)
                            .before(class.summary());
                        if let Err(e) = store.delete_class(&class, &audit).await {
                            return match e {
                                crate::store::classes::ClassError::Store(e) => Err(e),
                                _ => Ok(Outcome::Refused {
                                    line,
                                    why: "the class changed while importing; run the import again".into(),
                                }),
                            };
                        }
                    }
                }
            }
            store.delete_class_link(org, &id).await?;
            return Ok(Outcome::Deleted);
        }
        let homeroom = c.class_type == super::ClassType::Homeroom;
        let year = match c.term_ids.iter().find_map(|t| self.sessions.get(t)).copied() {
            Some(y) => y,
            None if !c.term_ids.is_empty() && self.has_sessions => {
                let why = format!("its terms ({}) are not in academicSessions.csv", c.term_ids.join(", "));
                return Ok(Outcome::Refused { line, why });
            }
            None => AcademicYear::current(),
        };
        let fp = digest(&[&c.title, &year.to_string(), if homeroom { "homeroom" } else { "scheduled" }]);
        if link.is_some_and(|l| l.fp.as_deref() == Some(fp.as_str())) {
            return Ok(self.unchanged(line, &id, roster_class_sk(&id), link.and_then(|l| l.seen.as_deref())));
        }
        if !homeroom {
            return self.course_row(line, &id, &c, link, year, &fp).await;
        }
        let existing = match link.filter(|l| !l.record.scheduled) {
            Some(l) => store.class_by_text(org, &l.record.class_id).await?.filter(|k| k.source == ClassSource::Journal),
            None => None,
        };
        let name_taken = || {
            Outcome::Refused {
                line,
                why: format!(
                    "a class {} already exists in {year} (made in kabinet or by another row); the import leaves it as it is",
                    c.name.display()
                ),
            }
        };
        let written = match &existing {
            Some(old) => {
                let mut new = old.renamed(&c.name, old.class_teacher_ids.clone(), Timestamp::now());
                new.year = year;
                store.update_journal_class(old, &new, &id, &fp, &self.seen).await.map(|_| Outcome::Updated)
            }
            None => {
                let class = Class::new(org, &c.name, year, ClassSource::Journal, vec![]);
                store.create_journal_class(&class, &id, &fp, &self.seen).await.map(|_| Outcome::Created)
            }
        };
        match written {
            Ok(o) => Ok(o),
            Err(RowWriteError::NameTaken) => Ok(name_taken()),
            Err(RowWriteError::Duplicate) => Ok(duplicate(line, &id)),
            Err(RowWriteError::Changed) => {
                Ok(Outcome::Refused { line, why: "the class changed while importing; run the import again".into() })
            }
            Err(e) => Err(row_error(e)),
        }
    }

    /// A scheduled class (a subject's lessons) becomes a course of the same name; its
    /// enrollments place students in it and make teachers its teachers.
    async fn course_row(
        &self,
        line: u64,
        id: &SourcedId,
        c: &RosterClass,
        link: Option<&Stored<ClassLink>>,
        year: AcademicYear,
        fp: &str,
    ) -> Result<Outcome, StoreError> {
        let store = self.ctx.store();
        let org = &self.org.id;
        let name: String = c.title.trim().chars().take(200).collect();
        let existing = match link.and_then(|l| l.record.course_id.as_deref()).and_then(CourseId::parse) {
            Some(id) => store.course(org, &id).await?,
            None => None,
        };
        let now = Timestamp::now();
        let written = match existing {
            Some(old) => {
                let link = ClassLink {
                    sourced_id: id.clone(),
                    class_id: String::new(),
                    year,
                    scheduled: true,
                    course_id: Some(old.id.to_string()),
                };
                store.rename_journal_course(&old, &name, &link, fp, &self.seen).await.map(|_| Outcome::Updated)
            }
            None => {
                let course = Course {
                    id: CourseId::new(),
                    org_id: org.clone(),
                    name,
                    description: None,
                    teacher_ids: Vec::new(),
                    linked_group_ids: Vec::new(),
                    student_count: 0,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                };
                let link = ClassLink {
                    sourced_id: id.clone(),
                    class_id: String::new(),
                    year,
                    scheduled: true,
                    course_id: Some(course.id.to_string()),
                };
                store.create_journal_course(&course, &link, fp, &self.seen).await.map(|_| Outcome::Created)
            }
        };
        match written {
            Ok(o) => Ok(o),
            Err(RowWriteError::Duplicate) => Ok(duplicate(line, id)),
            Err(RowWriteError::Changed) => {
                Ok(Outcome::Refused { line, why: "the course changed while importing; run the import again".into() })
            }
            Err(e) => Err(row_error(e)),
        }
    }

    /// A row that changes nothing: its record is to be marked seen by this run, unless a
    /// row before it in this run had its sourcedId (the record as read says so).
    fn unchanged(&self, line: u64, id: &SourcedId, sk: String, seen: Option<&str>) -> Outcome {
        if seen == Some(self.seen.as_str()) {
            return duplicate(line, id);
        }
        Outcome::Seen { line, id: id.clone(), sk }
    }

    /// Whether a row before this one in this run had its sourcedId (the record as read
    /// says so): the row is refused as a duplicate, as its write would be.
    fn seen_before(&self, seen: Option<&str>) -> bool {
        seen == Some(self.seen.as_str())
    }

    /// A chunk's rows to be marked seen and to be written, in as few calls as they go:
    /// the marks in one transaction, the writes a group of rows a transaction, each with
    /// the conditions it has alone; a row whose group or marks do not go through is then
    /// written (or marked) alone, which tells what its failure means.
    async fn resolve(&self, outcomes: Vec<Outcome>) -> Result<Vec<Outcome>, StoreError> {
        let store = self.ctx.store();
        let org = &self.org.id;
        let mut out = Vec::with_capacity(outcomes.len());
        let (mut seen, mut writes) = (Vec::new(), Vec::new());
        for o in outcomes {
            match o {
                Outcome::Seen { line, id, sk } => seen.push((line, id, sk)),
                Outcome::Write(w) => writes.push(*w),
                other => out.push(other),
            }
        }
        if !seen.is_empty() {
            let sks: Vec<String> = seen.iter().map(|(_, _, sk)| sk.clone()).collect();
            if store.mark_all_seen(org, &sks, &self.seen).await? {
                out.extend(seen.iter().map(|_| Outcome::Unchanged));
            } else {
                let this = self;
                let alone: Vec<Result<Outcome, StoreError>> = stream::iter(seen)
                    .map(|(line, id, sk)| async move { this.seen_again(line, &id, &sk, Outcome::Unchanged).await })
                    .buffer_unordered(PARALLEL)
                    .collect()
                    .await;
                out.extend(alone.into_iter().collect::<Result<Vec<_>, _>>()?);
            }
        }
        if writes.is_empty() {
            return Ok(out);
        }
        let rows = writes.iter().map(|w| self.row_tx(w)).collect::<Result<Vec<_>, _>>()?;
        let written = store.write_rows(rows).await?;
        let mut alone = Vec::new();
        for (w, done) in writes.into_iter().zip(written) {
            if done {
                out.push(w.written());
            } else {
                alone.push(w);
            }
        }
        let this = self;
        let alone: Vec<Result<Outcome, StoreError>> = stream::iter(alone)
            .map(|w| async move { this.write_alone(w).await })
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        out.extend(alone.into_iter().collect::<Result<Vec<_>, _>>()?);
        Ok(out)
    }

    /// A row's write as its own transaction would make it.
    fn row_tx(&self, w: &Pending) -> Result<crate::store::tx::RowTx, StoreError> {
        let store = self.ctx.store();
        match w {
            Pending::Person { person, before, fp, .. } => {
                let email_changed = before.as_ref().is_some_and(|b| b.email != person.email);
                store.roster_person_row(person, before.as_ref(), fp, &self.seen, self.dirty(), email_changed)
            }
            Pending::Enrollment { record, place, from, fp, .. } => {
                let org = &self.org.id;
                let (row, _) = store.enrollment_row(org, record, place, from.as_ref(), fp, &self.seen, self.dirty())?;
                Ok(row)
            }
        }
    }

    async fn write_alone(&self, w: Pending) -> Result<Outcome, StoreError> {
        match w {
            Pending::Person { line, id, person, before, fp } => self.person_alone(line, id, person, before, fp).await,
            Pending::Enrollment { line, id, record, place, from, fp, update, user } => {
                self.enrollment_alone(line, id, record, place, from, fp, update, user).await
            }
        }
    }

    /// A row that changes nothing, marked seen by this run alone.
    async fn seen_again(
        &self,
        line: u64,
        sourced_id: &SourcedId,
        sk: &str,
        outcome: Outcome,
    ) -> Result<Outcome, StoreError> {
        match self.ctx.store().mark_seen(&self.org.id, sk, &self.seen).await {
            Ok(()) => Ok(outcome),
            Err(RowWriteError::Duplicate) => Ok(duplicate(line, sourced_id)),
            Err(e) => Err(row_error(e)),
        }
    }

    async fn users(&mut self, chunk: Vec<(u64, Row)>) -> Result<(), StoreError> {
        let rows: Vec<(u64, RosterUser)> =
            chunk.into_iter().filter_map(|(l, r)| if let Row::User(u) = r { Some((l, u)) } else { None }).collect();
        let rows = self.unique(RosterFile::Users, rows, |u| &u.sourced_id);
        let ids: Vec<SourcedId> = rows.iter().map(|(_, id, _)| id.clone()).collect();
        let people = self.ctx.store().roster_people(&self.org.id, &ids).await?;
        let this = &*self;
        let outcomes: Vec<Result<Outcome, StoreError>> = stream::iter(rows)
            .map(|(line, id, u)| {
                let person = people.get(&id);
                async move { this.user_row(line, id, u, person).await }
            })
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        let outcomes = outcomes.into_iter().collect::<Result<Vec<_>, _>>()?;
        for o in self.resolve(outcomes).await? {
            self.tally(RosterFile::Users, o);
        }
        Ok(())
    }

    async fn user_row(
        &self,
        line: u64,
        id: SourcedId,
        u: RosterUser,
        stored: Option<&Stored<RosterPerson>>,
    ) -> Result<Outcome, StoreError> {
        let org = &self.org.id;
        if u.status == Status::ToBeDeleted {
            let Some(stored) = stored else { return Ok(Outcome::Unchanged) };
            return self.delete_person(stored.record.clone()).await;
        }
        let name: String = u.full_name().chars().take(200).collect();
        let identifier = u.identifier.as_deref().map(str::trim).filter(|i| !i.is_empty());
        if identifier.is_some_and(|i| i.len() > MAX_ID) {
            return Ok(Outcome::Refused { line, why: format!("identifier is longer than {MAX_ID} bytes") });
        }
        let identifier = identifier.map(str::to_owned);
        let roster_role: String = u.roster_role.chars().take(50).collect();
        let email = u.email.as_deref().map(Email::normalized);
        let role = crate::store::items::role_name(u.role);
        let mut agent_ids: Vec<SourcedId> = Vec::new();
        for a in u.agent_ids.iter().filter(|a| a.len() <= MAX_ID).filter_map(|a| SourcedId::parse(a)).take(MAX_AGENTS) {
            if !agent_ids.contains(&a) {
                agent_ids.push(a);
            }
        }
        let agents = agent_ids.iter().map(SourcedId::as_str).collect::<Vec<_>>().join(",");
        let fp = digest(&[
            &role,
            &roster_role,
            &name,
            email.as_deref().unwrap_or(""),
            identifier.as_deref().unwrap_or(""),
            &agents,
        ]);
        if self.seen_before(stored.and_then(|s| s.seen.as_deref())) {
            return Ok(duplicate(line, &id));
        }
        if stored.is_some_and(|s| s.fp.as_deref() == Some(fp.as_str())) {
            return Ok(self.unchanged(line, &id, roster_sk(&id), stored.and_then(|s| s.seen.as_deref())));
        }
        let now = Timestamp::now();
        let person = RosterPerson {
            org_id: org.clone(),
            sourced_id: id.clone(),
            role: u.role,
            roster_role,
            name,
            email,
            identifier,
            language: self.language,
            agent_ids,
            places: Default::default(),
            user_id: None,
            linked_at: None,
            invited_at: None,
            invite_count: 0,
            offer_id: stored.and_then(|s| s.record.offer_id.clone()),
            offered_by: Some(self.actor.id.clone()),
            offered_by_name: Some(self.actor.name.clone()),
            declined: None,
            created_at: now,
            updated_at: now,
        };
        let before = stored.map(|s| s.record.clone());
        Ok(Outcome::Write(Box::new(Pending::Person { line, id, person, before, fp })))
    }

    /// Writes a person's row alone, read again when the record changed meanwhile (joined
    /// as, say).
    async fn person_alone(
        &self,
        line: u64,
        id: SourcedId,
        mut person: RosterPerson,
        mut before: Option<RosterPerson>,
        fp: String,
    ) -> Result<Outcome, StoreError> {
        let store = self.ctx.store();
        let org = &self.org.id;
        for _ in 0..MAX_TRIES {
            person.offer_id = before.as_ref().and_then(|b| b.offer_id.clone());
            let email_changed = before.as_ref().is_some_and(|b| b.email != person.email);
            let written =
                store.put_roster_person(&person, before.as_ref(), &fp, &self.seen, self.dirty(), email_changed).await;
            return match written {
                Ok(()) if before.is_some() => Ok(Outcome::Updated),
                Ok(()) => Ok(Outcome::Created),
                Err(RowWriteError::Duplicate) => Ok(duplicate(line, &id)),
                Err(RowWriteError::Changed) => {
                    before = store.roster_person(org, &id).await?;
                    continue;
                }
                Err(e) => Err(row_error(e)),
            };
        }
        Err(StoreError::Other(format!("roster record {} kept changing while being written", id)))
    }

    /// Deletes a person's record (a journal member who joined as it leaves first), read
    /// again when it changed meanwhile.
    async fn delete_person(&self, mut record: RosterPerson) -> Result<Outcome, StoreError> {
        let store = self.ctx.store();
        let org = &self.org.id;
        for _ in 0..MAX_TRIES {
            if let Some(user) = &record.user_id {
                if let Some(m) = store.membership(org, user).await? {
                    super::link::leave(self.ctx, &self.org, &m, &self.actor).await?;
                }
            }
            match store.delete_roster_person(org, &record).await {
                Ok(()) => return Ok(Outcome::Deleted),
                Err(RowWriteError::Changed) => match store.roster_person(org, &record.sourced_id).await? {
                    Some(now) => record = now,
                    None => return Ok(Outcome::Deleted),
                },
                Err(e) => return Err(row_error(e)),
            }
        }
        Err(StoreError::Other(format!("roster record {} kept changing while being deleted", record.sourced_id)))
    }

    async fn enrollments(&mut self, chunk: Vec<(u64, Row)>) -> Result<(), StoreError> {
        let rows: Vec<(u64, Enrollment)> = chunk
            .into_iter()
            .filter_map(|(l, r)| if let Row::Enrollment(e) = r { Some((l, e)) } else { None })
            .collect();
        let rows = self.unique(RosterFile::Enrollments, rows, |e| &e.sourced_id);
        let ids: Vec<SourcedId> = rows.iter().map(|(_, id, _)| id.clone()).collect();
        let classes: Vec<SourcedId> = rows
            .iter()
            .filter(|(_, _, e)| e.class_id.len() <= MAX_ID)
            .filter_map(|(_, _, e)| SourcedId::parse(&e.class_id))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let store = self.ctx.store();
        let existing = store.roster_enrollments(&self.org.id, &ids).await?;
        let links = store.class_links(&self.org.id, &classes).await?;
        let this = &*self;
        let outcomes: Vec<Result<Outcome, StoreError>> = stream::iter(rows)
            .map(|(line, id, e)| {
                let class = SourcedId::parse(&e.class_id);
                let (before, link) = (existing.get(&id), class.and_then(|c| links.get(&c)));
                async move { this.enrollment_row(line, id, e, before, link).await }
            })
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        let outcomes = outcomes.into_iter().collect::<Result<Vec<_>, _>>()?;
        for o in self.resolve(outcomes).await? {
            self.tally(RosterFile::Enrollments, o);
        }
        Ok(())
    }

    async fn enrollment_row(
        &self,
        line: u64,
        id: SourcedId,
        e: Enrollment,
        before: Option<&Stored<EnrollmentRecord>>,
        link: Option<&Stored<ClassLink>>,
    ) -> Result<Outcome, StoreError> {
        let store = self.ctx.store();
        let org = &self.org.id;
        if e.status == Status::ToBeDeleted {
            let Some(before) = before else { return Ok(Outcome::Unchanged) };
            store.delete_enrollment(org, &before.record, self.dirty()).await?;
            return Ok(Outcome::Deleted);
        }
        let too_long = || Outcome::Refused { line, why: format!("a sourcedId is longer than {MAX_ID} bytes") };
        if e.user_id.len() > MAX_ID || e.class_id.len() > MAX_ID {
            return Ok(too_long());
        }
        // Not empty (a row without them is refused as read), and within the length.
        let (Some(user), Some(class)) = (SourcedId::parse(&e.user_id), SourcedId::parse(&e.class_id)) else {
            return Ok(too_long());
        };
        let Some(link) = link else {
            let why = format!("class {} is not in classes.csv (or its row was refused)", e.class_id);
            return Ok(Outcome::Refused { line, why });
        };
        if link.record.scheduled && link.record.course_id.is_none() {
            return Ok(Outcome::Skipped);
        }
        let place = RosterPlace {
            course_id: link.record.course_id.clone(),
            class_id: link.record.class_id.clone(),
            year: link.record.year,
            role: e.role,
            primary: e.primary,
        };
        let role = crate::store::items::role_name(e.role);
        let fp = digest(&[
            &e.user_id,
            &e.class_id,
            &place.class_id,
            place.course_id.as_deref().unwrap_or(""),
            &role,
            if e.primary { "primary" } else { "" },
        ]);
        if self.seen_before(before.and_then(|b| b.seen.as_deref())) {
            return Ok(duplicate(line, &id));
        }
        if before.is_some_and(|b| b.fp.as_deref() == Some(fp.as_str())) {
            return Ok(self.unchanged(line, &id, roster_enrollment_sk(&id), before.and_then(|b| b.seen.as_deref())));
        }
        let record = EnrollmentRecord { sourced_id: id.clone(), user_sourced_id: user, class_sourced_id: class };
        let from = before.map(|b| b.record.user_sourced_id.clone());
        let update = before.is_some();
        Ok(Outcome::Write(Box::new(Pending::Enrollment { line, id, record, place, from, fp, update, user: e.user_id })))
    }

    /// Writes an enrollment's row alone.
    #[allow(clippy::too_many_arguments)]
    async fn enrollment_alone(
        &self,
        line: u64,
        id: SourcedId,
        record: EnrollmentRecord,
        place: RosterPlace,
        mut from: Option<SourcedId>,
        fp: String,
        update: bool,
        user: String,
    ) -> Result<Outcome, StoreError> {
        let store = self.ctx.store();
        let org = &self.org.id;
        loop {
            let written =
                store.put_enrollment(org, &record, &place, from.as_ref(), &fp, &self.seen, self.dirty()).await;
            return match written {
                Ok(()) if update => Ok(Outcome::Updated),
                Ok(()) => Ok(Outcome::Created),
                Err(RowWriteError::Duplicate) => Ok(duplicate(line, &id)),
                Err(RowWriteError::UnknownPerson) => {
                    let why = format!("user {user} is not in users.csv (or its row was refused)");
                    Ok(Outcome::Refused { line, why })
                }
                // The person it moved from is gone: there is no place to take off.
                Err(RowWriteError::Changed) if from.is_some() => {
                    from = None;
                    continue;
                }
                Err(e) => Err(row_error(e)),
            };
        }
    }

    /// Brings the memberships of the people this import changed in step with their
    /// records, a page of them at a time: the import's marks name them, and each page's
    /// marks go once it is settled (the next page is the first marks left). Then, with
    /// `"invite": true`, the roster invitations.
    async fn settle_all(&mut self) -> Result<(), Stopped> {
        if !resume::after_files(self.at.as_ref(), SETTLING) {
            return self.invite_all().await;
        }
        self.file = SETTLING;
        // Continuing: the people settled before (their marks are gone).
        self.file_rows = self.at.as_ref().filter(|a| a.file == SETTLING).map_or(0, |a| a.rows);
        let store = self.ctx.store();
        loop {
            let page = PageQuery { limit: CHUNK as i32, cursor: None };
            let (ids, _) = store.dirty_page(&self.org.id, self.dirty(), &page).await?;
            if ids.is_empty() {
                break;
            }
            // A person deleted since they were marked is simply not there.
            let people: Vec<RosterPerson> =
                store.roster_people(&self.org.id, &ids).await?.into_values().map(|s| s.record).collect();
            // Each person once (two records may be linked to one person).
            let linked: Vec<UserId> =
                people.iter().filter_map(|p| p.user_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
            let members: HashMap<UserId, Membership> = if linked.is_empty() {
                HashMap::new()
            } else {
                store.memberships(&self.org.id, &linked).await?.into_iter().map(|m| (m.user_id.clone(), m)).collect()
            };
            self.file_rows += ids.len() as u64;
            self.run_rows += ids.len() as u64;
            let this = &*self;
            let settled: Vec<Result<(), StoreError>> = stream::iter(people)
                .map(|p| {
                    let m = p.user_id.as_ref().and_then(|u| members.get(u));
                    async move { this.settle(p, m).await }
                })
                .buffer_unordered(PARALLEL)
                .collect()
                .await;
            settled.into_iter().collect::<Result<Vec<()>, _>>()?;
            store.settled(&self.org.id, self.dirty(), &ids).await?;
            self.step().await?;
        }
        self.invite_all().await
    }

    /// A linked member follows their record. Nobody is made a member here: people join by
    /// accepting their record's offer, whether they are registered or not (nothing here
    /// tells which).
    async fn settle(&self, p: RosterPerson, m: Option<&Membership>) -> Result<(), StoreError> {
        if let (Some(_), Some(m)) = (&p.user_id, m) {
            super::link::follow(self.ctx, &self.org, &p, m, &self.actor).await?;
        }
        // Linked, then they left or were removed: they stay out.
        Ok(())
    }

    /// Sends the roster invitation of every waiting person with an email who has not had
    /// one (this import's people, those an earlier import held back, those whose email
    /// the journal changed), a page at a time, as far as the organization's daily mail
    /// budget goes; the others are counted as deferred: an import with `"invite": true`
    /// on a later day sends them.
    async fn invite_all(&mut self) -> Result<(), Stopped> {
        if !self.import.invite {
            return Ok(());
        }
        self.file = INVITING;
        // Continuing: from the page an earlier run got to.
        let at = self.at.as_ref().filter(|a| a.file == INVITING);
        self.file_rows = at.map_or(0, |a| a.rows);
        self.cursor = at.and_then(|a| a.cursor.clone());
        let store = self.ctx.store();
        loop {
            let cursor = match self.cursor.as_deref().map(Cursor::decode) {
                Some(Ok(c)) => Some(c),
                Some(Err(_)) => return Err(Stopped::Store(StoreError::InvalidCursor)),
                None => None,
            };
            let page = PageQuery { limit: CHUNK as i32, cursor };
            let (people, next) = store.uninvited_page(&self.org.id, &page).await?;
            self.file_rows += people.len() as u64;
            self.run_rows += people.len() as u64;
            let this = &*self;
            let sent: Vec<Result<Settled, StoreError>> = stream::iter(people)
                .map(|p| async move { this.invite(&p).await })
                .buffer_unordered(PARALLEL)
                .collect()
                .await;
            for s in sent {
                match s? {
                    Settled::Invited => self.applied.counts.invited += 1,
                    Settled::Deferred => self.applied.counts.invite_deferred += 1,
                    Settled::Nothing => {}
                }
            }
            let Some(next) = next else { return Ok(()) };
            self.cursor = Some(next.encode());
            self.step().await?;
        }
    }

    /// A waiting person's roster invitation (the email of their record's offer), within
    /// the organization's daily mail budget; past it, held back for a later import.
    async fn invite(&self, p: &RosterPerson) -> Result<Settled, StoreError> {
        let Some(email) = &p.email else { return Ok(Settled::Nothing) };
        // Nothing to accept yet (no class for them): mailed once the journal gives one.
        if super::link::grants(self.ctx, p).await?.is_none() {
            return Ok(Settled::Nothing);
        }
        // Spent for today: held back without trying (each try would fail alike).
        if self.budget_spent.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(Settled::Deferred);
        }
        let event = OutboxEvent::RosterInvitation {
            org_id: self.org.id.clone(),
            org_name: self.org.name.clone(),
            roster_id: p.sourced_id.clone(),
            offer_id: p.offer_id.clone(),
            email: email.clone(),
            name: p.name.clone(),
            role: p.role,
            by: self.actor.name.clone(),
        };
        let sent = self.ctx.store().invite_roster_person(&self.org.id, &p.sourced_id, Timestamp::now(), None, &event);
        Ok(match sent.await? {
            RosterInvite::Sent => Settled::Invited,
            RosterInvite::NotSent => Settled::Nothing,
            RosterInvite::DailyLimit => {
                self.budget_spent.store(true, std::sync::atomic::Ordering::Relaxed);
                Settled::Deferred
            }
        })
    }
}

fn row_error(e: RowWriteError) -> StoreError {
    match e {
        RowWriteError::Store(e) => e,
        other => StoreError::Other(format!("{other:?}")),
    }
}
