//! Reading a school journal's roster: OneRoster 1.1 CSV files (SPEC R4.6), row by row, as
//! real exports write them: a BOM or none, CRLF or LF, quoted fields with commas and line
//! breaks, extension columns, header-only files, `status`/`dateLastModified` columns (bulk
//! 1.1) and rows marked `tobedeleted`. Columns are found by their header name, whatever
//! their order. Each row is read whole or refused with its line and a reason a school
//! admin understands; a file without a required column is refused as a whole. Reading
//! keeps to fixed bounds whatever the file holds ([`read`]): a field over 1 MiB, a row
//! over 2 MiB or 1,000 columns is that row's error, never held; a file that is not UTF-8
//! or cannot be read to its end stops with a reason.

use std::collections::HashMap;
use std::io::Read;

pub mod apply;
pub mod archive;
#[cfg(test)]
mod fuzz;
pub mod link;
pub mod read;
pub mod resume;

use crate::domain::{AcademicYear, ClassName, Role};
pub use read::Limits;
use read::{Reader, Record};

/// The files a roster import reads; any other (demographics, courses, ...) is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RosterFile {
    Manifest,
    AcademicSessions,
    Orgs,
    Classes,
    Users,
    Enrollments,
}

impl RosterFile {
    /// The file a zip entry or upload is, by its base name (any case); `None` for a file
    /// the import does not read.
    pub fn named(path: &str) -> Option<RosterFile> {
        let base = path.rsplit(['/', '\\']).next().unwrap_or(path).to_ascii_lowercase();
        Some(match base.as_str() {
            "manifest.csv" => RosterFile::Manifest,
            "academicsessions.csv" => RosterFile::AcademicSessions,
            "orgs.csv" => RosterFile::Orgs,
            "classes.csv" => RosterFile::Classes,
            "users.csv" => RosterFile::Users,
            "enrollments.csv" => RosterFile::Enrollments,
            _ => return None,
        })
    }

    pub fn file_name(self) -> &'static str {
        match self {
            RosterFile::Manifest => "manifest.csv",
            RosterFile::AcademicSessions => "academicSessions.csv",
            RosterFile::Orgs => "orgs.csv",
            RosterFile::Classes => "classes.csv",
            RosterFile::Users => "users.csv",
            RosterFile::Enrollments => "enrollments.csv",
        }
    }

    /// The columns a row cannot be read without.
    fn required(self) -> &'static [&'static str] {
        match self {
            RosterFile::Manifest => &["propertyName", "value"],
            RosterFile::AcademicSessions => &["sourcedId", "title", "type", "startDate", "endDate"],
            RosterFile::Orgs => &["sourcedId", "name"],
            RosterFile::Classes => &["sourcedId", "title", "classType"],
            RosterFile::Users => &["sourcedId", "role", "givenName", "familyName"],
            RosterFile::Enrollments => &["sourcedId", "classSourcedId", "userSourcedId", "role"],
        }
    }
}

/// Whether a row is to be kept or removed (bulk files mark removals `tobedeleted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    ToBeDeleted,
}

/// A refused row: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub file: &'static str,
    /// The line the row starts on (the header is line 1).
    pub line: u64,
    pub reason: String,
}

/// A file refused whole: it cannot be read (damaged, not UTF-8, too large), or a required
/// column is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct FileError {
    pub file: &'static str,
    /// Why, said of the file (`is not in UTF-8 ...`, `the column role is missing`).
    pub reason: String,
    /// Whether the file cannot be read at all: the import stops there. A file missing a
    /// column is only left out.
    pub unreadable: bool,
}

impl FileError {
    pub fn unreadable(file: &'static str, reason: impl Into<String>) -> Self {
        FileError { file, reason: reason.into(), unreadable: true }
    }

    pub fn refused(file: &'static str, reason: impl Into<String>) -> Self {
        FileError { file, reason: reason.into(), unreadable: false }
    }

    /// The reason as a sentence for the admin: `users.csv is not in UTF-8 ...`.
    pub fn sentence(&self) -> String {
        let subject = if self.file == archive::UPLOAD { "The upload" } else { self.file };
        format!("{subject} {}.", self.reason.trim_end_matches('.'))
    }
}

/// An academic session: school years become academic years (`2026/2027`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub sourced_id: String,
    pub status: Status,
    /// The academic year it falls in (from its `schoolYear`, else its start date).
    pub year: AcademicYear,
    pub school_year: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassType {
    /// A class of pupils (`5А`).
    Homeroom,
    /// A subject's class: a course.
    Scheduled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterClass {
    pub sourced_id: String,
    pub status: Status,
    pub title: String,
    /// The title read as a grade and a letter, or a free name.
    pub name: ClassName,
    pub class_type: ClassType,
    /// Its sessions' sourced IDs (`termSourcedIds`, comma-separated).
    pub term_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterUser {
    pub sourced_id: String,
    pub status: Status,
    pub role: Role,
    /// The journal's own role word, for what kabinet keeps of it (`aide`, `guardian`).
    pub roster_role: String,
    pub given_name: String,
    pub family_name: String,
    pub middle_name: Option<String>,
    pub email: Option<String>,
    /// The journal's `identifier`, else its `username`: what a person links by.
    pub identifier: Option<String>,
    /// The students a parent or guardian is for (`agentSourcedIds`).
    pub agent_ids: Vec<String>,
}

impl RosterUser {
    /// `Фамилия Имя Отчество`, as Russian journals and lists write names.
    pub fn full_name(&self) -> String {
        let mut parts = vec![self.family_name.as_str(), self.given_name.as_str()];
        if let Some(m) = &self.middle_name {
            parts.push(m);
        }
        parts.iter().filter(|p| !p.is_empty()).cloned().collect::<Vec<_>>().join(" ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    pub sourced_id: String,
    pub status: Status,
    pub class_id: String,
    pub user_id: String,
    pub role: Role,
    /// A teacher's `primary`: the class teacher of a homeroom.
    pub primary: bool,
}

/// One row of one of the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Manifest { property: String, value: String },
    Session(Session),
    Org { sourced_id: String, name: String },
    Class(RosterClass),
    User(RosterUser),
    Enrollment(Enrollment),
}

/// The kabinet role of a OneRoster role word; `None` for one it has no place for.
pub fn role(word: &str) -> Option<Role> {
    Some(match word.trim().to_ascii_lowercase().as_str() {
        "teacher" => Role::Teacher,
        "student" => Role::Student,
        "parent" | "guardian" | "relative" => Role::Parent,
        "administrator" | "aide" | "proctor" => Role::Staff,
        _ => return None,
    })
}

/// The files an import applies, in the order it applies them (`manifest.csv` and
/// `orgs.csv` are accepted and not read).
pub const APPLIED: [RosterFile; 4] =
    [RosterFile::AcademicSessions, RosterFile::Classes, RosterFile::Users, RosterFile::Enrollments];

/// Reads a file's rows as they come: each row read whole, or its error. A file that
/// stops being readable (damaged, not UTF-8) ends the rows; [`Rows::failure`] says why.
pub struct Rows<R: Read> {
    file: RosterFile,
    reader: Reader<R>,
    columns: HashMap<String, usize>,
    line: u64,
    failure: Option<FileError>,
    done: bool,
}

/// Opens a roster file: its header is read and its required columns checked.
pub fn rows<R: Read>(file: RosterFile, input: R) -> Result<Rows<R>, FileError> {
    rows_within(file, input, Limits::DEFAULT)
}

pub(crate) fn rows_within<R: Read>(file: RosterFile, input: R, limits: Limits) -> Result<Rows<R>, FileError> {
    let mut reader = Reader::new(input, limits);
    let columns: HashMap<String, usize> = match reader.next_record() {
        Ok(Some(Record::Read(_))) => reader
            .fields()
            .enumerate()
            .map(|(i, h)| (h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase(), i))
            .collect(),
        Ok(Some(Record::TooLong { bound, .. })) => {
            let reason = format!("has a header row that cannot be read: {}", bound.reason(&limits));
            return Err(FileError::unreadable(file.file_name(), reason));
        }
        Ok(None) => HashMap::new(),
        Err(e) => return Err(unreadable(file, e)),
    };
    let missing: Vec<&str> =
        file.required().iter().copied().filter(|c| !columns.contains_key(&c.to_ascii_lowercase())).collect();
    if !missing.is_empty() {
        return Err(FileError::refused(file.file_name(), format!("the column {} is missing", missing.join(", "))));
    }
    Ok(Rows { file, reader, columns, line: 0, failure: None, done: false })
}

fn unreadable(file: RosterFile, e: read::Unreadable) -> FileError {
    let reason = match e {
        read::Unreadable::NotUtf8(line) => read::not_utf8(line),
        // Past its size (a zip bomb, or sizes that lie).
        read::Unreadable::Io(e) if e.kind() == std::io::ErrorKind::FileTooLarge => e.to_string(),
        read::Unreadable::Io(e) => {
            format!("cannot be read to its end ({e}): it may be damaged; export it from the journal again")
        }
    };
    FileError::unreadable(file.file_name(), reason)
}

impl<R: Read> Rows<R> {
    /// The line the last row read starts on (the header is line 1).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The bytes the last row read holds (its fields together).
    pub fn row_bytes(&self) -> usize {
        self.reader.record_bytes()
    }

    /// Why the rows ended before the file did, if they did: the file cannot be read.
    pub fn failure(&self) -> Option<&FileError> {
        self.failure.as_ref()
    }

    /// What the reader holds: its buffers (bounded by [`Limits::held`]).
    pub fn held(&self) -> usize {
        self.reader.held()
    }

    /// Reads every record to the end without making rows of them: whether the file can be
    /// read at all (a row too long is that row's error, read later).
    pub fn read_through(mut self) -> Result<(), FileError> {
        loop {
            match self.reader.next_record() {
                Ok(Some(_)) => {}
                Ok(None) => return Ok(()),
                Err(e) => return Err(unreadable(self.file, e)),
            }
        }
    }

    fn get(&self, column: &str) -> Option<&str> {
        let i = *self.columns.get(&column.to_ascii_lowercase())?;
        self.reader.field(i).map(str::trim).filter(|v| !v.is_empty())
    }

    fn required(&self, column: &str) -> Result<String, String> {
        self.get(column).map(str::to_owned).ok_or_else(|| format!("{column} is empty"))
    }

    fn status(&self) -> Result<Status, String> {
        match self.get("status").map(str::to_ascii_lowercase).as_deref() {
            None | Some("active") => Ok(Status::Active),
            Some("tobedeleted") => Ok(Status::ToBeDeleted),
            Some(other) => Err(format!("status {other:?} is not active or tobedeleted")),
        }
    }

    fn list(&self, column: &str) -> Vec<String> {
        self.get(column)
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    }

    fn row(&self) -> Result<Row, String> {
        Ok(match self.file {
            RosterFile::Manifest => Row::Manifest {
                property: self.required("propertyName")?,
                value: self.get("value").unwrap_or("").into(),
            },
            RosterFile::Orgs => Row::Org { sourced_id: self.required("sourcedId")?, name: self.required("name")? },
            RosterFile::AcademicSessions => {
                let start = date(&self.required("startDate")?)?;
                date(&self.required("endDate")?)?;
                let year = match self.get("schoolYear") {
                    // OneRoster's school year is the calendar year it ends in: 2027 is 2026/2027.
                    Some(y) => {
                        let end: i32 = y.parse().map_err(|_| format!("schoolYear {y:?} is not a year"))?;
                        AcademicYear::parse(&format!("{}/{end}", end - 1))
                            .map_err(|_| format!("schoolYear {y:?} is not a year"))?
                    }
                    None => AcademicYear::containing(start),
                };
                let kind = self.required("type")?.to_ascii_lowercase();
                Row::Session(Session {
                    sourced_id: self.required("sourcedId")?,
                    status: self.status()?,
                    year,
                    school_year: kind == "schoolyear",
                })
            }
            RosterFile::Classes => {
                let title = self.required("title")?;
                let class_type = match self.required("classType")?.to_ascii_lowercase().as_str() {
                    "homeroom" => ClassType::Homeroom,
                    "scheduled" => ClassType::Scheduled,
                    other => return Err(format!("classType {other:?} is not homeroom or scheduled")),
                };
                let name = ClassName::from_title(&title).ok_or("title is empty")?;
                Row::Class(RosterClass {
                    sourced_id: self.required("sourcedId")?,
                    status: self.status()?,
                    title,
                    name,
                    class_type,
                    term_ids: self.list("termSourcedIds"),
                })
            }
            RosterFile::Users => {
                let word = self.required("role")?;
                let role = role(&word).ok_or_else(|| format!("role {word:?} is not one kabinet knows"))?;
                let email = self.get("email").map(str::to_owned);
                if let Some(e) = &email {
                    crate::domain::Email::parse(e).map_err(|why| format!("email {e:?}: {why}"))?;
                }
                if self.get("enabledUser").is_some_and(|v| v.eq_ignore_ascii_case("false")) {
                    return Err("the journal has this user disabled".into());
                }
                Row::User(RosterUser {
                    sourced_id: self.required("sourcedId")?,
                    status: self.status()?,
                    role,
                    roster_role: word.to_ascii_lowercase(),
                    given_name: self.required("givenName")?,
                    family_name: self.required("familyName")?,
                    middle_name: self.get("middleName").map(str::to_owned),
                    email,
                    identifier: self.get("identifier").or_else(|| self.get("username")).map(str::to_owned),
                    agent_ids: self.list("agentSourcedIds"),
                })
            }
            RosterFile::Enrollments => {
                let word = self.required("role")?;
                let role = role(&word).ok_or_else(|| format!("role {word:?} is not one kabinet knows"))?;
                Row::Enrollment(Enrollment {
                    sourced_id: self.required("sourcedId")?,
                    status: self.status()?,
                    class_id: self.required("classSourcedId")?,
                    user_id: self.required("userSourcedId")?,
                    role,
                    primary: self.get("primary").is_some_and(|v| v.eq_ignore_ascii_case("true")),
                })
            }
        })
    }
}

fn date(raw: &str) -> Result<time::Date, String> {
    time::Date::parse(raw, &time::format_description::well_known::Iso8601::DATE)
        .map_err(|_| format!("{raw:?} is not a date like 2026-09-01"))
}

impl<R: Read> Iterator for Rows<R> {
    type Item = Result<Row, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // Blank rows (a trailing one, `,,,` from a spreadsheet) are no rows: skipped in a
        // loop, however many.
        loop {
            match self.reader.next_record() {
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    self.failure = Some(unreadable(self.file, e));
                    return None;
                }
                Ok(Some(Record::TooLong { line, bound })) => {
                    self.line = line;
                    let reason = bound.reason(self.reader.limits());
                    return Some(Err(RowError { file: self.file.file_name(), line, reason }));
                }
                Ok(Some(Record::Read(line))) => {
                    if self.reader.fields().all(|f| f.trim().is_empty()) {
                        continue;
                    }
                    self.line = line;
                    let file = self.file.file_name();
                    return Some(self.row().map_err(|reason| RowError { file, line, reason }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(file: RosterFile, text: &str) -> Vec<Result<Row, RowError>> {
        rows(file, text.as_bytes()).unwrap().collect()
    }

    #[test]
    fn files_are_known_by_their_base_name() {
        assert_eq!(RosterFile::named("export/Users.csv"), Some(RosterFile::Users));
        assert_eq!(RosterFile::named("academicSessions.csv"), Some(RosterFile::AcademicSessions));
        assert_eq!(RosterFile::named("demographics.csv"), None);
        assert_eq!(RosterFile::named("__MACOSX\\x.txt"), None);
    }

    #[test]
    fn users_are_read_as_journals_write_them() {
        // A BOM, CRLF, columns in another order, an extension column, a quoted field with
        // a comma and a line break, a parent tied to two students, a row to delete.
        let text = "\u{feff}sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,metadata.ext\r\n\
            u1,active,2026-09-01T00:00:00Z,true,o1,teacher,ivanova,,Анна,Иванова,Петровна,T-001,anna@school.test,,,,,,x\r\n\
            u2,,,,o1,guardian,,,\"Ольга, мама\",\"Смирнова\nПетрова\",,,,,,\"s1,s2\",,,\r\n\
            u3,tobedeleted,,,o1,student,petya,,Пётр,Петров,,,,,,,05,,\r\n";
        let rows = read(RosterFile::Users, text);
        assert_eq!(rows.len(), 3);
        let Ok(Row::User(anna)) = &rows[0] else { panic!("{:?}", rows[0]) };
        assert_eq!(anna.role, Role::Teacher);
        assert_eq!(anna.full_name(), "Иванова Анна Петровна");
        assert_eq!((anna.identifier.as_deref(), anna.email.as_deref()), (Some("T-001"), Some("anna@school.test")));
        let Ok(Row::User(mum)) = &rows[1] else { panic!("{:?}", rows[1]) };
        assert_eq!((mum.role, mum.roster_role.as_str()), (Role::Parent, "guardian"));
        assert_eq!(mum.given_name, "Ольга, мама");
        assert_eq!(mum.family_name, "Смирнова\nПетрова");
        assert_eq!(mum.agent_ids, ["s1", "s2"]);
        let Ok(Row::User(petya)) = &rows[2] else { panic!("{:?}", rows[2]) };
        assert_eq!((petya.status, petya.identifier.as_deref()), (Status::ToBeDeleted, Some("petya")));
    }

    #[test]
    fn a_bad_row_is_refused_with_its_line_and_the_others_are_read() {
        let text = "sourcedId,role,givenName,familyName,email\n\
            u1,teacher,Анна,Иванова,\n\
            u2,janitor,Иван,Иванов,\n\
            \n\
            u3,student,,Петров,\n\
            u4,student,Пётр,Петров,not-an-address\n\
            u5,\"student\",Олег,\"Сидоров\nмл.\",\n\
            u6,parent,Ирина,Сидорова,\n";
        let all = read(RosterFile::Users, text);
        let errors: Vec<(u64, String)> =
            all.iter().filter_map(|r| r.as_ref().err()).map(|e| (e.line, e.reason.clone())).collect();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert_eq!(errors[0].0, 3);
        assert!(errors[0].1.contains("janitor"), "{}", errors[0].1);
        assert_eq!((errors[1].0, errors[1].1.as_str()), (5, "givenName is empty"));
        assert_eq!(errors[2].0, 6);
        assert!(errors[2].1.starts_with("email"), "{}", errors[2].1);
        assert_eq!(all.iter().filter(|r| r.is_ok()).count(), 3);
        // A row after one with a line break inside a field keeps its own line number.
        let mut lines = Vec::new();
        for r in rows(
            RosterFile::Users,
            "sourcedId,role,givenName,familyName\na,teacher,\"x\ny\",z\nb,oops,q,w\n".as_bytes(),
        )
        .unwrap()
        {
            lines.push(r.map(|_| 0).unwrap_or_else(|e| e.line));
        }
        assert_eq!(lines, [0, 4]);
    }

    #[test]
    fn a_file_without_a_required_column_is_refused_whole_and_a_header_alone_is_empty() {
        let err = rows(RosterFile::Enrollments, "sourcedId,classSourcedId,role\n".as_bytes()).err().unwrap();
        assert_eq!(err.file, "enrollments.csv");
        assert!(err.reason.contains("userSourcedId"), "{}", err.reason);
        assert!(read(RosterFile::Enrollments, "sourcedId,classSourcedId,userSourcedId,role\r\n").is_empty());
    }

    const USERS_HEADER: &str = "sourcedId,role,givenName,familyName\n";

    /// A row's line, or its refusal's line and reason.
    type Seen = Result<u64, (u64, String)>;

    /// Lines and errors of every row read, each dropped as it is read; the most heap held.
    fn skim(text: &[u8]) -> (Vec<Seen>, Option<FileError>, usize) {
        let ((out, failure), most) = fuzz::peak(|| {
            let mut rows = rows(RosterFile::Users, text).unwrap();
            let mut out = Vec::new();
            while let Some(r) = rows.next() {
                out.push(r.map(|_| rows.line()).map_err(|e| (e.line, e.reason)));
            }
            (out, rows.failure().cloned())
        });
        (out, failure, most)
    }

    #[test]
    fn blank_lines_and_empty_rows_are_skipped_holding_nothing() {
        // A million blank lines and 200,000 rows of commas and spaces: no rows, nothing
        // kept for them, no recursion, and the lines after them stay right.
        let mut text = format!("{USERS_HEADER}u1,teacher,Анна,Иванова\n");
        text.push_str(&"\n".repeat(1_000_000));
        text.push_str(&",,,\r\n".repeat(100_000));
        text.push_str(&" , ,\n".repeat(100_000));
        text.push_str("u2,janitor,Иван,Иванов\nu3,student,Пётр,Петров\n");
        let (rows, failure, most) = skim(text.as_bytes());
        assert_eq!(failure, None);
        let bad = 2 + 1_000_000 + 200_000 + 1;
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert_eq!(rows[0], Ok(2));
        assert!(matches!(&rows[1], Err((line, why)) if *line == bad && why.contains("janitor")), "{rows:?}");
        assert_eq!(rows[2], Ok(bad + 1));
        // The input buffer and a small row: not a byte per line.
        assert!(most < 256 * 1024, "{most} bytes held");
    }

    #[test]
    fn a_field_over_1_mib_is_that_rows_error_and_reading_goes_on() {
        let exact = "ж".repeat(read::MAX_FIELD_BYTES / 2);
        let over = "x".repeat(read::MAX_FIELD_BYTES + 1);
        let text = format!(
            "{USERS_HEADER}u1,teacher,{exact},Иванова\nu2,teacher,\"{over}\",Петров\nu3,student,{exact},{exact},{exact}\nu4,student,Пётр,Петров\n"
        );
        let (rows, failure, most) = skim(text.as_bytes());
        assert_eq!(failure, None);
        assert_eq!(rows.len(), 4, "{:?}", rows.iter().map(|r| r.as_ref().map_err(|e| e.0)).collect::<Vec<_>>());
        assert_eq!(rows[0], Ok(2), "a field of exactly 1 MiB is read");
        assert!(matches!(&rows[1], Err((3, why)) if why.contains("longer than 1 MiB")), "{:?}", rows[1]);
        assert!(matches!(&rows[2], Err((4, why)) if why.contains("longer than 2 MiB in all")), "{:?}", rows[2]);
        assert_eq!(rows[3], Ok(5));
        // A row at most, never the long field.
        assert!(most <= Limits::DEFAULT.held() + 2 * read::MAX_FIELD_BYTES, "{most} bytes held");
        let (_, _, most) = skim(format!("{USERS_HEADER}u2,teacher,\"{}", "x".repeat(8 << 20)).as_bytes());
        assert!(most <= Limits::DEFAULT.held() + 64 * 1024, "{most} bytes held for an 8 MiB field");
    }

    #[test]
    fn a_row_over_1000_columns_is_refused() {
        let wide = |n: usize| format!("u1,teacher,Анна,Иванова{}\n", ",x".repeat(n - 4));
        let text = format!("{USERS_HEADER}{}{}{}", wide(1000), wide(1001), wide(100_000));
        let (rows, _, _) = skim(text.as_bytes());
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0], Ok(2));
        assert!(matches!(&rows[1], Err((3, why)) if why.contains("more than 1000 columns")), "{:?}", rows[1]);
        assert!(matches!(&rows[2], Err((4, _))), "{:?}", rows[2]);
        // A header that wide cannot be read: the file is.
        let err = rows_within(RosterFile::Users, wide(1001).as_bytes(), Limits::DEFAULT).err().unwrap();
        assert!(err.unreadable && err.reason.contains("header"), "{err:?}");
    }

    #[test]
    fn a_file_not_in_utf8_ends_its_rows_with_a_reason() {
        let mut text = format!("{USERS_HEADER}u1,teacher,Anna,Ivanova\n").into_bytes();
        // Windows-1251 "Иван,Иванов".
        text.extend_from_slice(b"u2,teacher,\xC8\xE2\xE0\xED,\xC8\xE2\xE0\xED\xEE\xE2\nu3,student,P,P\n");
        let (rows, failure, _) = skim(&text);
        assert_eq!(rows, [Ok(2)]);
        let failure = failure.unwrap();
        assert!(failure.unreadable && failure.file == "users.csv", "{failure:?}");
        assert!(failure.reason.contains("line 3") && failure.reason.contains("Windows-1251"), "{failure:?}");
        assert!(failure.sentence().starts_with("users.csv is not in UTF-8"), "{}", failure.sentence());
        let header = rows_within(RosterFile::Users, &b"\xC8\xEC\xFF\n"[..], Limits::DEFAULT).err().unwrap();
        assert!(header.unreadable && header.reason.contains("line 1"), "{header:?}");
    }

    #[test]
    fn classes_sessions_and_enrollments() {
        let classes = read(
            RosterFile::Classes,
            "sourcedId,status,title,classType,termSourcedIds,schoolSourcedId\nc1,,5-А,homeroom,\"y1\",o1\nc2,,Алгебра 7Б,scheduled,y1,o1\nc3,,7В,lecture,y1,o1\n",
        );
        let Ok(Row::Class(c1)) = &classes[0] else { panic!() };
        assert_eq!(c1.name, ClassName::Graded { grade: 5, letter: "А".into() });
        assert_eq!((c1.class_type, c1.term_ids.as_slice()), (ClassType::Homeroom, &["y1".to_string()][..]));
        let Ok(Row::Class(c2)) = &classes[1] else { panic!() };
        assert_eq!(c2.class_type, ClassType::Scheduled);
        assert!(classes[2].as_ref().is_err_and(|e| e.line == 4 && e.reason.contains("lecture")));
        let sessions = read(
            RosterFile::AcademicSessions,
            "sourcedId,title,type,startDate,endDate,parentSourcedId,schoolYear\ny1,2026-2027,schoolYear,2026-09-01,2027-05-31,,2027\nt1,1 четверть,term,2026-09-01,2026-10-25,y1,\nbad,x,term,01.09.2026,2026-10-25,,\n",
        );
        let Ok(Row::Session(y1)) = &sessions[0] else { panic!() };
        assert_eq!((y1.year.to_string().as_str(), y1.school_year), ("2026/2027", true));
        let Ok(Row::Session(t1)) = &sessions[1] else { panic!() };
        assert_eq!((t1.year.to_string().as_str(), t1.school_year), ("2026/2027", false));
        assert!(sessions[2].as_ref().is_err_and(|e| e.reason.contains("01.09.2026")));
        let enrollments = read(
            RosterFile::Enrollments,
            "sourcedId,classSourcedId,schoolSourcedId,userSourcedId,role,primary\ne1,c1,o1,u1,teacher,true\ne2,c1,o1,u3,student,false\n",
        );
        let Ok(Row::Enrollment(e1)) = &enrollments[0] else { panic!() };
        assert!(e1.primary && e1.role == Role::Teacher && e1.class_id == "c1" && e1.user_id == "u1");
    }
}
