//! The generated journal the import benchmark imports: a OneRoster 1.1 bulk zip of `n`
//! users (students, guardians and teachers, their homerooms and scheduled classes and
//! their enrollments), streamed to a temporary file as it is generated, and what the
//! importer must make of it.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kabinet::domain::imports::ImportCounts;
use kabinet_local::seed::{self, Rng};

use crate::export::SUBJECTS;

/// Homeroom letters, in a journal's order.
const LETTERS: &[&str] = &["А", "Б", "В", "Г", "Д", "Е", "Ж", "И", "К", "Л", "М", "Н", "О", "П"];

/// The school year of the generated journal (OneRoster's `schoolYear`: 2026/2027).
pub(super) const SCHOOL_YEAR: u32 = 2027;
pub(super) const MODIFIED: &str = "2026-08-25T09:30:00.000Z";

/// A file removed when dropped.
pub(super) struct TempPath(pub(super) PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A generated journal: its file and what the importer should make of it.
pub(super) struct Generated {
    pub(super) path: TempPath,
    pub(super) zip_bytes: u64,
    /// Data rows of every file of the zip (the manifest and orgs.csv too), and of the
    /// files the importer reads (academicSessions, classes, users, enrollments).
    pub(super) all_rows: u64,
    pub(super) read_rows: u64,
    pub(super) homerooms: u64,
    pub(super) scheduled: u64,
    pub(super) users: u64,
    /// Enrollments in homerooms (teachers' and students'), and in scheduled classes.
    pub(super) homeroom_enrollments: u64,
    pub(super) scheduled_enrollments: u64,
    pub(super) took: Duration,
}

impl Generated {
    /// Whether an import's counts are what the file makes: every row applied or skipped
    /// (scheduled classes and their enrollments are skipped, or become courses where the
    /// importer makes them), none refused, every user applied; the first time everything
    /// is created, the second time (given the first's counts) nothing changes.
    pub(super) fn check(&self, counts: &ImportCounts, first: Option<&ImportCounts>) -> Result<(), String> {
        let c = counts;
        let mut wrong = Vec::new();
        let applied = c.classes + c.users + c.enrollments;
        // Every row but the academic session is a class, a user or an enrollment.
        if applied + c.skipped != self.read_rows - 1 {
            wrong.push(format!("{applied} rows applied and {} skipped of {}", c.skipped, self.read_rows - 1));
        }
        if c.users != self.users {
            wrong.push(format!("{} users applied of {}", c.users, self.users));
        }
        if c.classes < self.homerooms || c.enrollments < self.homeroom_enrollments {
            wrong.push(format!(
                "{} classes and {} enrollments applied, fewer than the {} homerooms and their {} enrollments",
                c.classes, c.enrollments, self.homerooms, self.homeroom_enrollments
            ));
        }
        if c.errors != 0 || c.deleted != 0 || c.updated != 0 || c.invited != 0 {
            wrong.push("refused, deleted, updated, linked or invited rows".into());
        }
        match first {
            None if c.created != applied || c.unchanged != 0 => wrong.push("not everything created".into()),
            Some(f) if c.created != 0 || c.unchanged != f.created || c.skipped != f.skipped => {
                wrong.push("not everything unchanged".into())
            }
            _ => {}
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(format!("{}: {c:?}", wrong.join("; ")))
        }
    }
}

/// A CSV writer of rows, quoting fields that need it; counts its rows.
struct Csv<'a, W: Write> {
    out: &'a mut W,
    line: String,
    rows: u64,
}

impl<'a, W: Write> Csv<'a, W> {
    fn new(out: &'a mut W, header: &str) -> std::io::Result<Self> {
        out.write_all(header.as_bytes())?;
        out.write_all(b"\r\n")?;
        Ok(Csv { out, line: String::with_capacity(512), rows: 0 })
    }

    fn row(&mut self, fields: &[&str]) -> std::io::Result<()> {
        self.line.clear();
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.line.push(',');
            }
            if f.contains([',', '"', '\n', '\r']) {
                self.line.push('"');
                self.line.push_str(&f.replace('"', "\"\""));
                self.line.push('"');
            } else {
                self.line.push_str(f);
            }
        }
        self.line.push_str("\r\n");
        self.rows += 1;
        self.out.write_all(self.line.as_bytes())
    }
}

/// Homeroom `h`'s title: grades 1-11 with a letter (`5А`, `10Б`), and past the letters
/// a journal has, free names (unique in the year).
fn homeroom_title(h: usize) -> String {
    let (grade, letter) = (h % 11 + 1, h / 11);
    match LETTERS.get(letter) {
        Some(l) => format!("{grade}{l}"),
        None => format!("Параллель {grade}, группа {}", letter + 1),
    }
}

/// The people of a journal of `n` users: teachers first, then students, then guardians.
struct People {
    teachers: usize,
    students: usize,
    guardians: usize,
    homerooms: usize,
    scheduled: usize,
}

impl People {
    fn of(n: usize) -> People {
        let students = n * 85 / 100;
        let guardians = n * 10 / 100;
        People {
            teachers: n - students - guardians,
            students,
            guardians,
            homerooms: (n / 25).max(1),
            scheduled: (n / 50).max(1),
        }
    }

    fn user_id(i: usize) -> String {
        format!("u{i:06}")
    }

    fn student(&self, j: usize) -> usize {
        self.teachers + j
    }
}

/// Writes a OneRoster 1.1 bulk zip of `n` users to a temporary file, each file streamed
/// into the zip as it is generated.
pub(super) fn generate(n: usize) -> Result<Generated, String> {
    let started = Instant::now();
    let path = TempPath::new(&n.to_string());
    let file = File::create(&path.0).map_err(|e| format!("{}: {e}", path.0.display()))?;
    let p = People::of(n);
    let io = |e: std::io::Error| e.to_string();
    let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 16, file));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let start = |zip: &mut zip::ZipWriter<BufWriter<File>>, name: &str| {
        zip.start_file(name, opts).map_err(|e| format!("zip {name}: {e}"))
    };
    let mut all_rows = 0u64;
    let year = format!("y{SCHOOL_YEAR}");
    let school = "org-school-1";

    start(&mut zip, "manifest.csv")?;
    {
        let mut csv = Csv::new(&mut zip, "propertyName,value").map_err(io)?;
        for (k, v) in [
            ("manifest.version", "1.0"),
            ("oneroster.version", "1.1"),
            ("file.academicSessions", "bulk"),
            ("file.categories", "absent"),
            ("file.classes", "bulk"),
            ("file.classResources", "absent"),
            ("file.courses", "absent"),
            ("file.courseResources", "absent"),
            ("file.demographics", "absent"),
            ("file.enrollments", "bulk"),
            ("file.lineItems", "absent"),
            ("file.orgs", "bulk"),
            ("file.resources", "absent"),
            ("file.results", "absent"),
            ("file.users", "bulk"),
            ("source.systemName", "kabinet bench"),
            ("source.systemCode", "bench"),
        ] {
            csv.row(&[k, v]).map_err(io)?;
        }
        all_rows += csv.rows;
    }

    start(&mut zip, "academicSessions.csv")?;
    {
        let mut csv = Csv::new(
            &mut zip,
            "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
        )
        .map_err(io)?;
        let title = format!("{}-{SCHOOL_YEAR}", SCHOOL_YEAR - 1);
        let (begin, end) = (format!("{}-09-01", SCHOOL_YEAR - 1), format!("{SCHOOL_YEAR}-05-31"));
        csv.row(&[&year, "active", MODIFIED, &title, "schoolYear", &begin, &end, "", &SCHOOL_YEAR.to_string()])
            .map_err(io)?;
        all_rows += csv.rows;
    }

    start(&mut zip, "orgs.csv")?;
    {
        let mut csv =
            Csv::new(&mut zip, "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId").map_err(io)?;
        csv.row(&[school, "active", MODIFIED, "Школа №1 (замер импорта)", "school", "SCH-0001", ""]).map_err(io)?;
        all_rows += csv.rows;
    }

    start(&mut zip, "classes.csv")?;
    {
        let mut csv = Csv::new(
            &mut zip,
            "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,\
             schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
        )
        .map_err(io)?;
        for h in 0..p.homerooms {
            let (title, grade) = (homeroom_title(h), format!("{:02}", h % 11 + 1));
            let id = format!("hr{h:05}");
            let room = format!("Каб. {}", 100 + h % 300);
            csv.row(&[&id, "active", MODIFIED, &title, &grade, "", &id, "homeroom", &room, school, &year, "", "", ""])
                .map_err(io)?;
        }
        for c in 0..p.scheduled {
            let subject = SUBJECTS[c % SUBJECTS.len()];
            let homeroom = c % p.homerooms;
            let title = format!("{subject} {}", homeroom_title(homeroom));
            let (id, grade) = (format!("sc{c:05}"), format!("{:02}", homeroom % 11 + 1));
            let periods = format!("{},{}", c % 7 + 1, (c + 3) % 7 + 1);
            csv.row(&[
                &id,
                "active",
                MODIFIED,
                &title,
                &grade,
                "",
                &id,
                "scheduled",
                "",
                school,
                &year,
                subject,
                "",
                &periods,
            ])
            .map_err(io)?;
        }
        all_rows += csv.rows;
    }

    start(&mut zip, "users.csv")?;
    {
        let mut csv = Csv::new(
            &mut zip,
            "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,\
             familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password",
        )
        .map_err(io)?;
        for i in 0..n {
            let mut rng = Rng::new(i as u64 + 1);
            let female = rng.below(2) == 0;
            let name = seed::full_name(&mut rng, female);
            let mut parts = name.splitn(3, ' ');
            let (family, given, middle) =
                (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let id = People::user_id(i);
            let (role, agents, grade) = if i < p.teachers {
                ("teacher", String::new(), String::new())
            } else if i < p.teachers + p.students {
                let j = i - p.teachers;
                ("student", String::new(), format!("{:02}", (j * p.homerooms / p.students.max(1)) % 11 + 1))
            } else {
                // A guardian of one student (every fifth of two).
                let g = i - p.teachers - p.students;
                let j = g * p.students / p.guardians.max(1);
                let mut agents = People::user_id(p.student(j));
                if g.is_multiple_of(5) && j + 1 < p.students {
                    agents = format!("{agents},{}", People::user_id(p.student(j + 1)));
                }
                (if g.is_multiple_of(3) { "guardian" } else { "parent" }, agents, String::new())
            };
            let (email, identifier, phone) =
                (format!("u{i}@bench.example"), format!("U-{i:06}"), format!("+7900{:07}", i % 10_000_000));
            let phone = if role == "student" { "" } else { phone.as_str() };
            csv.row(&[
                &id,
                "active",
                MODIFIED,
                "true",
                school,
                role,
                &format!("u{i}"),
                &format!("{{ЭЖ:{i}}}"),
                given,
                family,
                middle,
                &identifier,
                &email,
                "",
                phone,
                &agents,
                &grade,
                "",
            ])
            .map_err(io)?;
        }
        all_rows += csv.rows;
    }

    start(&mut zip, "enrollments.csv")?;
    let (mut homeroom_enrollments, mut scheduled_enrollments) = (0u64, 0u64);
    {
        let mut csv = Csv::new(
            &mut zip,
            "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate",
        )
        .map_err(io)?;
        let begin = format!("{}-09-01", SCHOOL_YEAR - 1);
        let end = format!("{SCHOOL_YEAR}-05-31");
        let mut e = 0usize;
        let mut next = || {
            e += 1;
            format!("en{e:07}")
        };
        // Each teacher: the class teacher of one homeroom, and teaches in up to two more.
        for t in 0..p.teachers {
            let mut rng = Rng::new(0x7EAC_0000 + t as u64);
            let primary = t % p.homerooms;
            let mut classes = vec![primary];
            for k in 0..rng.below(3) {
                let h = (primary + 1 + k * 7 + rng.below(p.homerooms)) % p.homerooms;
                if !classes.contains(&h) {
                    classes.push(h);
                }
            }
            for (k, h) in classes.into_iter().enumerate() {
                let (class, user) = (format!("hr{h:05}"), People::user_id(t));
                let primary = if k == 0 { "true" } else { "false" };
                csv.row(&[&next(), "active", MODIFIED, &class, school, &user, "teacher", primary, &begin, &end])
                    .map_err(io)?;
                homeroom_enrollments += 1;
            }
        }
        // Each student: a place in a homeroom (about 21 a class) and in one scheduled class.
        for j in 0..p.students {
            let user = People::user_id(p.student(j));
            let homeroom = format!("hr{:05}", j * p.homerooms / p.students);
            csv.row(&[&next(), "active", MODIFIED, &homeroom, school, &user, "student", "false", &begin, &end])
                .map_err(io)?;
            let scheduled = format!("sc{:05}", j % p.scheduled);
            csv.row(&[&next(), "active", MODIFIED, &scheduled, school, &user, "student", "false", &begin, &end])
                .map_err(io)?;
            homeroom_enrollments += 1;
            scheduled_enrollments += 1;
        }
        all_rows += csv.rows;
    }
    let mut out = zip.finish().map_err(|e| format!("zip: {e}"))?;
    out.flush().map_err(io)?;
    drop(out);
    let zip_bytes = std::fs::metadata(&path.0).map_err(io)?.len();
    let read_rows = 1 + (p.homerooms + p.scheduled + n) as u64 + homeroom_enrollments + scheduled_enrollments;
    Ok(Generated {
        path,
        zip_bytes,
        all_rows,
        read_rows,
        homerooms: p.homerooms as u64,
        scheduled: p.scheduled as u64,
        users: n as u64,
        homeroom_enrollments,
        scheduled_enrollments,
        took: started.elapsed(),
    })
}

impl TempPath {
    /// A new file's path in the temporary directory, tagged.
    pub(super) fn new(tag: &str) -> TempPath {
        TempPath(std::env::temp_dir().join(format!("kabinet-bench-import-{tag}-{}.zip", ulid::Ulid::new())))
    }
}
