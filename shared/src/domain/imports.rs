//! Roster imports (SPEC R4.6, R4.7): an admin uploads a school journal's OneRoster 1.1
//! files; the importer takes in its classes and people, marked `journal`. People who are
//! registered become members at once; the others wait as roster records until they sign
//! in with their record's verified email, or link from their side by their journal
//! identifier and an admin confirms.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AcademicYear, ImportId, InvitationId, Language, OrgId, Role, RoleGrant, SourcedId, Timestamp, UserId};

/// How long an upload URL works.
pub const UPLOAD_LIFETIME: time::Duration = time::Duration::minutes(15);
/// The largest upload the importer reads (a district's zip of 100,000 people is ~10 MiB).
pub const MAX_UPLOAD_BYTES: u64 = 256 * 1024 * 1024;
/// How long an import waits for its upload and start before it goes.
pub const AWAITING_KEPT: time::Duration = time::Duration::days(2);
/// Where uploads are kept in the exports bucket (the bucket's lifecycle removes them
/// after 7 days).
pub const IMPORTS_PREFIX: &str = "imports/";
/// An import's `file_name`, in characters.
pub const MAX_FILE_NAME: usize = 200;
/// How many refused rows an import lists (all are counted).
pub const MAX_LISTED_ERRORS: usize = 500;
/// How many times the importer runs one import before it gives up: runs that failed or
/// were cut off (a crash, a timeout), not those that stopped themselves for time.
pub const MAX_ATTEMPTS: u32 = 3;
/// How many times one import continues in a new run after a run stopped itself for time
/// (each run has Lambda's 15 minutes): generous, so that only an import that never ends
/// reaches it.
pub const MAX_RESUMES: u32 = 100;
/// How long an import may run (from its start, or its last continuation in a new run):
/// one still processing after this shows failed, and the organization may start another.
pub const RUN_DEADLINE: time::Duration = time::Duration::minutes(60);
/// What the admin reads when an import could not be run.
pub const NOT_RUN: &str = "The import could not be run; please start it again with a new upload.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    AwaitingUpload,
    Processing,
    Done,
    Failed,
}

/// What an import did, row by row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportCounts {
    /// Rows of `classes.csv` applied (created, updated, unchanged or deleted).
    pub classes: u64,
    /// Rows of `users.csv` applied.
    pub users: u64,
    /// Rows of `enrollments.csv` applied.
    pub enrollments: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Rows marked `tobedeleted` that removed something.
    #[serde(default)]
    pub deleted: u64,
    /// Rows read and left out on purpose (scheduled classes, roles kabinet has no place
    /// for), listed among `errors` no more.
    #[serde(default)]
    pub skipped: u64,
    /// Rows refused (each listed in `errors`, the first 500).
    pub errors: u64,
    /// Roster invitation emails sent (`"invite": true`), within the organization's daily
    /// mail budget.
    #[serde(default)]
    pub invited: u64,
    /// Roster invitation emails not sent because the organization's daily mail budget was
    /// spent: an import started with `"invite": true` on a later day (the same file will
    /// do) sends them.
    #[serde(default)]
    pub invite_deferred: u64,
}

/// A refused row (or file): where and why, for a school admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RowProblem {
    /// `users.csv`, or `the upload` for the upload as a whole.
    pub file: String,
    /// The row's line in its file (the header is line 1); 0 for a whole file.
    pub line: u64,
    pub message: String,
}

/// Where a running import is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportProgress {
    /// The file being read.
    pub file: String,
    /// Its rows read so far.
    pub rows: u64,
}

/// Where a running import is, written after each chunk has applied whole (with the
/// counts and refused rows so far): a new run continues from it (`roster::resume`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// What it was doing: a roster file's name, `settling memberships` or `sending
    /// invitations`.
    pub file: String,
    /// Rows of that file read (refused ones too), or people settled or invited.
    pub rows: u64,
    /// Rows read so far, all files together.
    pub read: u64,
    /// The tag rows are marked seen with, the same for the whole import but after a
    /// crash: a sourcedId met again later in the file is still a duplicate.
    pub seen: String,
    /// While sending invitations: the next page's cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Import {
    pub id: ImportId,
    pub org_id: OrgId,
    pub status: ImportStatus,
    /// The name the admin gave the upload (`journal-2026.zip`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Send roster invitation emails to the people who are not registered.
    #[serde(default)]
    pub invite: bool,
    pub requested_by: UserId,
    pub requested_by_name: String,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    #[serde(default)]
    pub counts: ImportCounts,
    #[serde(default)]
    pub errors: Vec<RowProblem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<ImportProgress>,
    /// Why it failed as a whole, for the admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Runs started so far, less those that stopped themselves for time.
    #[serde(default)]
    pub attempts: u32,
    /// Runs that stopped themselves for time, each continued by the next
    /// (`IMPORTRUN#<id>#<n>`).
    #[serde(default)]
    pub resumes: u32,
    /// When the last continuation was asked for (the run deadline counts from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_at: Option<Timestamp>,
    /// Where it is, for a new run to continue from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
    /// Rows (files' rows, people settled or invited) one run handles at most before it
    /// stops as at its deadline and continues in a new run: a setting for tests and
    /// trials, written into the item by hand; the API never sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_rows: Option<u64>,
}

impl Import {
    pub fn new(org: &OrgId, file_name: Option<String>, by: &UserId, by_name: &str, now: Timestamp) -> Import {
        Import {
            id: ImportId::new(),
            org_id: org.clone(),
            status: ImportStatus::AwaitingUpload,
            file_name,
            invite: false,
            requested_by: by.clone(),
            requested_by_name: by_name.to_string(),
            created_at: now,
            started_at: None,
            finished_at: None,
            counts: ImportCounts::default(),
            errors: Vec::new(),
            progress: None,
            failure: None,
            attempts: 0,
            resumes: 0,
            resumed_at: None,
            checkpoint: None,
            run_rows: None,
        }
    }

    /// The uploaded file's key in the exports bucket.
    pub fn object_key(&self) -> String {
        format!("{IMPORTS_PREFIX}{}/{}", self.org_id, self.id)
    }

    /// The status an admin sees: one processing past its deadline has failed.
    pub fn shown_status(&self, now: Timestamp) -> ImportStatus {
        match (self.status, self.resumed_at.or(self.started_at)) {
            (ImportStatus::Processing, Some(at)) if at.plus(RUN_DEADLINE) < now => ImportStatus::Failed,
            (s, _) => s,
        }
    }
}

/// A person's place in a class, or in a course (a scheduled class of the journal), from
/// an enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterPlace {
    /// Empty for a place in a course.
    pub class_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_id: Option<String>,
    pub year: AcademicYear,
    pub role: Role,
    /// A teacher's `primary`: the class teacher.
    #[serde(default)]
    pub primary: bool,
}

/// A person of the journal, keyed by their `sourcedId` in the organization: linked to a
/// kabinet user once they joined, waiting for them until then.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RosterPerson {
    pub org_id: OrgId,
    pub sourced_id: SourcedId,
    pub role: Role,
    /// The journal's own word for the role (`administrator`, `guardian`).
    pub roster_role: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The journal's login (`identifier`, else `username`), by which a person links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    /// The language of the positions it gives (the importing admin's).
    #[serde(default)]
    pub language: Language,
    /// A parent's children (their sourcedIds).
    #[serde(default)]
    pub agent_ids: Vec<SourcedId>,
    /// Places by enrollment sourcedId.
    #[serde(default)]
    pub places: BTreeMap<String, RosterPlace>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_at: Option<Timestamp>,
    /// Roster invitation emails sent to the record's email.
    #[serde(default)]
    pub invite_count: u32,
    /// The offer of membership the record makes to whoever signs in with its email (an
    /// invitation of kind `journal` in their `GET /v1/me/invitations`): its ID, given
    /// when the record is first written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<InvitationId>,
    /// The admin whose import last wrote the record: the offer comes from them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_by: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_by_name: Option<String>,
    /// The email whose owner declined the offer: no longer offered to it (a new email in
    /// the journal is offered again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declined: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The position a journal role gives, in the organization's language.
pub fn position(role: Role, roster_role: &str, language: Language) -> Option<&'static str> {
    let ru = language == Language::Ru;
    match role {
        Role::Teacher => Some(if ru { "Учитель" } else { "Teacher" }),
        Role::Staff => Some(match (roster_role.to_ascii_lowercase().as_str(), ru) {
            ("aide", true) => "Ассистент",
            ("aide", false) => "Aide",
            ("proctor", true) => "Наблюдатель",
            ("proctor", false) => "Proctor",
            (_, true) => "Администрация",
            (_, false) => "Administration",
        }),
        Role::Student | Role::Parent => None,
    }
}

impl RosterPerson {
    /// Whether the record offers membership to the owner of `email` now: it names that
    /// email, nobody has joined as it, and that email's owner has not declined.
    pub fn offers_to(&self, email: &str) -> bool {
        self.user_id.is_none() && self.email.as_deref() == Some(email) && self.declined.as_deref() != Some(email)
    }

    /// The current class of a student's places: the latest year's.
    pub fn student_class(&self) -> Option<&str> {
        self.class_places().filter(|p| p.role == Role::Student).max_by_key(|p| p.year).map(|p| p.class_id.as_str())
    }

    fn class_places(&self) -> impl Iterator<Item = &RosterPlace> {
        self.places.values().filter(|p| p.course_id.is_none())
    }

    /// The courses the record studies (as a student) and teaches (as a teacher).
    pub fn courses(&self) -> (Vec<String>, Vec<String>) {
        let (mut studies, mut teaches) = (Vec::new(), Vec::new());
        for p in self.places.values() {
            let Some(c) = &p.course_id else { continue };
            let list = match (self.role, p.role) {
                (Role::Student, Role::Student) => &mut studies,
                (Role::Teacher, Role::Teacher) => &mut teaches,
                _ => continue,
            };
            if !list.contains(c) {
                list.push(c.clone());
            }
        }
        (studies, teaches)
    }

    /// The classes a teacher teaches, and those they are the class teacher of.
    pub fn taught(&self) -> (Vec<String>, Vec<String>) {
        let mut taught = Vec::new();
        let mut led = Vec::new();
        for p in self.class_places().filter(|p| p.role == Role::Teacher) {
            if !taught.contains(&p.class_id) {
                taught.push(p.class_id.clone());
            }
            if p.primary && !led.contains(&p.class_id) {
                led.push(p.class_id.clone());
            }
        }
        (taught, led)
    }

    /// The roles the record gives, given the current classes of a parent's children;
    /// `None` while it cannot give any yet (a student without a class, a parent whose
    /// children have none).
    pub fn grants(&self, children_classes: &[String]) -> Option<Vec<RoleGrant>> {
        let position = position(self.role, &self.roster_role, self.language).map(str::to_owned);
        let class_ids: Vec<String> = match self.role {
            Role::Student => vec![self.student_class()?.to_string()],
            Role::Parent => {
                let mut ids: Vec<String> = Vec::new();
                for c in children_classes {
                    if !ids.contains(c) {
                        ids.push(c.clone());
                    }
                }
                if ids.is_empty() {
                    return None;
                }
                ids
            }
            Role::Teacher => self.taught().0,
            Role::Staff => vec![],
        };
        let class_ids = class_ids.into_iter().take(super::roles::MAX_CLASSES).collect();
        Some(vec![RoleGrant { role: self.role, position, specialization: None, class_ids }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(role: Role, places: &[(&str, &str, Role, bool)]) -> RosterPerson {
        let now = Timestamp::now();
        RosterPerson {
            org_id: OrgId::parse("k7m3xq9pza").unwrap(),
            sourced_id: SourcedId::parse("u1").unwrap(),
            role,
            roster_role: "administrator".into(),
            name: "Ирина Петрова".into(),
            email: None,
            identifier: None,
            language: Language::Ru,
            agent_ids: vec![],
            places: places
                .iter()
                .map(|(e, c, r, p)| {
                    let year = AcademicYear::parse(if c.ends_with('6') { "2025/2026" } else { "2026/2027" }).unwrap();
                    (
                        e.to_string(),
                        RosterPlace { class_id: c.to_string(), course_id: None, year, role: *r, primary: *p },
                    )
                })
                .collect(),
            user_id: None,
            linked_at: None,
            invited_at: None,
            invite_count: 0,
            offer_id: None,
            offered_by: None,
            offered_by_name: None,
            declined: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_record_offers_to_its_email_until_joined_or_declined_there() {
        let mut p = person(Role::Student, &[]);
        assert!(!p.offers_to("a@b.ru"), "no email, no offer");
        p.email = Some("a@b.ru".into());
        assert!(p.offers_to("a@b.ru") && !p.offers_to("c@d.ru"));
        p.declined = Some("a@b.ru".into());
        assert!(!p.offers_to("a@b.ru"), "declined at this email");
        p.email = Some("new@b.ru".into());
        assert!(p.offers_to("new@b.ru"), "a new email in the journal is offered again");
        p.user_id = Some(UserId::parse("u1").unwrap());
        assert!(!p.offers_to("new@b.ru"), "joined: no longer offered");
    }

    #[test]
    fn a_student_belongs_to_the_latest_years_class() {
        let p = person(Role::Student, &[("e1", "c2026", Role::Student, false), ("e2", "c2027", Role::Student, false)]);
        assert_eq!(p.student_class(), Some("c2027"));
        let g = p.grants(&[]).unwrap();
        assert_eq!(g[0].class_ids, ["c2027"]);
        assert!(person(Role::Student, &[]).grants(&[]).is_none());
    }

    #[test]
    fn teachers_staff_and_parents_get_their_positions_and_classes() {
        let t = person(Role::Teacher, &[("e1", "a", Role::Teacher, true), ("e2", "b", Role::Teacher, false)]);
        assert_eq!(t.taught(), (vec!["a".to_string(), "b".to_string()], vec!["a".to_string()]));
        let mut t = t;
        t.language = Language::En;
        let g = t.grants(&[]).unwrap();
        assert_eq!(g[0].position.as_deref(), Some("Teacher"));
        let s = person(Role::Staff, &[]).grants(&[]).unwrap();
        assert_eq!(s[0].position.as_deref(), Some("Администрация"));
        assert!(s[0].class_ids.is_empty());
        let p = person(Role::Parent, &[]);
        assert!(p.grants(&[]).is_none());
        let g = p.grants(&["x".into(), "x".into(), "y".into()]).unwrap();
        assert_eq!(g[0].class_ids, ["x", "y"]);
    }
}
