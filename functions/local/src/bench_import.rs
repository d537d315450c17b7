//! The importer's benchmark (`make bench-import`, issue 15): an emulator of its own, and at
//! each size a generated OneRoster 1.1 zip of that many users (students, guardians and
//! teachers, their homerooms and scheduled classes and their enrollments), written to a
//! temporary file as it is generated. An organization with an admin is written straight
//! into the table, the zip is uploaded to the import's object key and the import started
//! as the store starts it; then the importer's own code runs it in a fresh process, so
//! that the process's peak resident memory (VmHWM) is the import's. Reported: rows per
//! second, rows per CPU second of the importer's process, and the peak memory; then the
//! same file imported again (every row `unchanged`). Then the adversarial uploads, each
//! generated as a stream to a file and imported in a fresh process like the clean file:
//! 20 M blank lines, a 300 MB quoted field, 5 M rows of `,,,` (each zipped), and a zip of
//! 2 M empty entries; each one's outcome is checked (rows refused with their lines, or the
//! upload refused) and its peak memory shown beside the clean file's.
//!
//!   kabinet-local bench-import [--users 1000,10000,100000]
//!   kabinet-local bench-import-one --endpoint URL --table T --bucket B --org ID --import ID
//!                                  (one import in this process; one JSON line on stdout)
//!
//! `KABINET_BENCH_WRAP=heaptrack` runs each import under that command (a heap profile of
//! the importer); its peak memory is then the profiler's too.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kabinet::config::Config;
use kabinet::domain::imports::{ImportCounts, RowProblem};
use kabinet::domain::text::thousands;
use kabinet::domain::{
    Actor, AuditEntry, Import, ImportStatus, Language, Membership, MembershipSource, Org, OrgId, OrgProfile, RoleGrant,
    Timestamp, UserId,
};
use kabinet::store::items;
use kabinet::Ctx;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::measure::{arg, cpu_seconds, emulator_time_and_rss, mb, status_kb};
use crate::seed::{self, Rng, STAFF};
use crate::{emulator, setup, Emulator};

/// The benchmark's table (in its own emulator).
const TABLE: &str = "kabinet-bench-import";

/// The goal of issue 15: memory flat as the file grows.
const MEMORY_GOAL: f64 = 1.2;

/// Homeroom letters, in a journal's order.
const LETTERS: &[&str] = &["А", "Б", "В", "Г", "Д", "Е", "Ж", "И", "К", "Л", "М", "Н", "О", "П"];

const SUBJECTS: &[&str] = &[
    "Математика",
    "Русский язык",
    "Литература",
    "Английский язык",
    "История",
    "Физика",
    "Химия",
    "Биология",
    "География",
    "Информатика",
    "Физическая культура",
    "Музыка",
];

/// The school year of the generated journal (OneRoster's `schoolYear`: 2026/2027).
const SCHOOL_YEAR: u32 = 2027;
const MODIFIED: &str = "2026-08-25T09:30:00.000Z";

fn fail(what: impl std::fmt::Display) -> ! {
    eprintln!("kabinet-local bench-import: {what}");
    std::process::exit(1);
}

/// What one import reports, as the child prints it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    /// Rows the importer read (all files).
    pub rows: u64,
    pub counts: ImportCounts,
    /// Refused rows listed.
    pub listed_errors: usize,
    /// The import's time (the importer's `import`, from its first read to its finish).
    pub total_s: f64,
    /// The process's peak resident memory at the end (VmHWM), and its resident memory
    /// just before the import started (clients built, nothing imported).
    pub peak_rss_kb: u64,
    pub start_rss_kb: u64,
    /// CPU seconds the process spent on the import (user and system, all its threads).
    pub cpu_s: f64,
    /// How the import ended (`done`, `failed`), why it failed, and its first refused rows.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub failure: Option<String>,
    #[serde(default)]
    pub errors: Vec<RowProblem>,
}

/// `bench-import-one`: runs one import in this process and prints its [`Run`].
pub async fn one(args: &[String]) {
    let need = |name: &str| arg(args, name).unwrap_or_else(|| fail(format!("bench-import-one needs {name}")));
    let endpoint = need("--endpoint");
    let org = OrgId::parse(&need("--org")).unwrap_or_else(|| fail("--org is not an organization ID"));
    let import =
        kabinet::domain::ImportId::parse(&need("--import")).unwrap_or_else(|| fail("--import is not an import ID"));
    let aws = emulator::sdk_config(&endpoint).await;
    let mut config = Config::from_env();
    config.table = need("--table");
    config.exports_bucket = need("--bucket");
    config.s3_path_style = true;
    let ctx = Ctx::new(config, &aws);
    let start_rss_kb = status_kb("VmRSS");
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    // `None`: the upload was refused (the import is failed, with its reason).
    let applied = match kabinet::events::importer::import(&ctx, &org, &import).await {
        Ok(applied) => applied,
        Err(e) => fail(format!("import {import} failed: {e}")),
    };
    let total_s = started.elapsed().as_secs_f64();
    let (peak_rss_kb, cpu_s) = (status_kb("VmHWM"), cpu_seconds() - cpu_before);
    let stored = match ctx.store().import(&org, &import).await {
        Ok(Some(i)) => i,
        Ok(None) => fail(format!("import {import} is gone")),
        Err(e) => fail(format!("reading import {import}: {e}")),
    };
    if applied.is_none() && stored.status != ImportStatus::Failed {
        fail(format!("import {import} was not run: it is {:?}", stored.status));
    }
    let status = serde_json::to_value(stored.status).ok().and_then(|v| v.as_str().map(str::to_owned));
    let run = Run {
        rows: applied.as_ref().map_or(0, |a| a.rows),
        counts: applied.as_ref().map_or_else(|| stored.counts.clone(), |a| a.counts.clone()),
        listed_errors: stored.errors.len(),
        total_s,
        peak_rss_kb,
        start_rss_kb,
        cpu_s,
        status: status.unwrap_or_default(),
        failure: stored.failure.clone(),
        errors: stored.errors.iter().take(5).cloned().collect(),
    };
    println!("{}", serde_json::to_string(&run).unwrap_or_else(|e| fail(e)));
}

/// A file removed when dropped.
struct TempPath(PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A generated journal: its file and what the importer should make of it.
struct Generated {
    path: TempPath,
    zip_bytes: u64,
    /// Data rows of every file of the zip (the manifest and orgs.csv too), and of the
    /// files the importer reads (academicSessions, classes, users, enrollments).
    all_rows: u64,
    read_rows: u64,
    homerooms: u64,
    scheduled: u64,
    users: u64,
    /// Enrollments in homerooms (teachers' and students'), and in scheduled classes.
    homeroom_enrollments: u64,
    scheduled_enrollments: u64,
    took: Duration,
}

impl Generated {
    /// Whether an import's counts are what the file makes: every row applied or skipped
    /// (scheduled classes and their enrollments are skipped, or become courses where the
    /// importer makes them), none refused, every user applied; the first time everything
    /// is created, the second time (given the first's counts) nothing changes.
    fn check(&self, counts: &ImportCounts, first: Option<&ImportCounts>) -> Result<(), String> {
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
fn generate(n: usize) -> Result<Generated, String> {
    let started = Instant::now();
    let path =
        TempPath(std::env::temp_dir().join(format!("kabinet-bench-import-{}-{n}.zip", ulid::Ulid::new().to_string())));
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

/// An organization written for the benchmark: its admin (with a profile) and nothing else.
struct Seeded {
    org: Org,
    admin: Membership,
}

async fn put(
    db: &aws_sdk_dynamodb::Client,
    item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> Result<(), String> {
    db.put_item()
        .table_name(TABLE)
        .set_item(Some(item))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("PutItem: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))
}

/// Writes an organization with its admin (a deputy head, with a profile) as the store
/// writes them.
async fn seed_org(db: &aws_sdk_dynamodb::Client, users: usize, number: usize) -> Result<Seeded, String> {
    let now = Timestamp::now();
    let org_id = OrgId::generate();
    let user = UserId::parse(&format!("bench-import-admin-{org_id}")).unwrap_or_else(|| fail("an admin ID"));
    let mut rng = Rng::new(number as u64);
    let name = seed::full_name(&mut rng, true);
    let email = format!("admin-{number}@school.test");
    let admin = Membership::new(
        &org_id,
        &user,
        &name,
        Some(&email),
        vec![RoleGrant::staff(STAFF[0])],
        true,
        MembershipSource::Manual,
    );
    // The profile as a document, whatever fields the profile type has grown since.
    let mut profile = items::to_item(&json!({
        "id": user,
        "email": email,
        "email_verified": true,
        "name": name,
        "language": Language::Ru,
        "created_at": now,
        "updated_at": now,
    }))
    .map_err(|e| e.to_string())?;
    profile.extend(items::user_key(&user));
    put(db, profile).await?;
    put(db, items::member_item(&admin).map_err(|e| e.to_string())?).await?;
    let profile = OrgProfile {
        name: format!("Школа №{number} (замер импорта, {users} человек в журнале)"),
        short_name: Some(format!("Школа №{number}")),
        ..Default::default()
    };
    let mut org = Org::new(profile, &user, now);
    org.id = org_id;
    org.member_count = 1;
    org.staff_count = 1;
    put(db, items::org_item(&org).map_err(|e| e.to_string())?).await?;
    Ok(Seeded { org, admin })
}

/// Creates an import of the file, uploads it to the import's object key and starts it, as
/// the API does (the importer then runs it).
async fn start_import(ctx: &Ctx, s: &Seeded, path: &Path, bytes: u64, file_name: String) -> Result<Import, String> {
    let (org, admin) = (&s.org, &s.admin);
    let now = Timestamp::now();
    let import = Import::new(&org.id, Some(file_name), &admin.user_id, &admin.name, now);
    let actor = Actor { id: admin.user_id.clone(), name: admin.name.clone() };
    let audit = AuditEntry::new(&org.id, &actor, "import.create", "import", import.id.as_str())
        .as_admin(true)
        .after(json!({ "file_name": import.file_name }));
    ctx.store().create_import(&import, &audit).await.map_err(|e| format!("creating the import: {e:?}"))?;
    let body = aws_sdk_s3::primitives::ByteStream::from_path(path)
        .await
        .map_err(|e| format!("reading {}: {e}", path.display()))?;
    ctx.s3()
        .put_object()
        .bucket(&ctx.config().exports_bucket)
        .key(import.object_key())
        .body(body)
        .send()
        .await
        .map_err(|e| format!("PutObject {}: {}", import.object_key(), aws_sdk_s3::error::DisplayErrorContext(&e)))?;
    let audit = AuditEntry::new(&org.id, &actor, "import.start", "import", import.id.as_str())
        .as_admin(true)
        .after(json!({ "file_name": import.file_name, "size": bytes, "invite": false }));
    ctx.store()
        .start_import(&import, false, &admin.user_id, Timestamp::now(), &audit)
        .await
        .map_err(|e| format!("starting the import: {e:?}"))?;
    Ok(import)
}

/// One measured import, with what the parent saw of it.
struct Measured {
    users: usize,
    again: bool,
    zip_bytes: u64,
    all_rows: u64,
    run: Run,
    /// The child's life, from spawn to exit.
    wall_s: f64,
    /// The emulator's own serving time during the child's life.
    emulator_s: f64,
}

impl Measured {
    fn rows_per_s(&self) -> f64 {
        self.run.rows as f64 / self.run.total_s.max(1e-9)
    }

    fn rows_per_cpu_s(&self) -> f64 {
        self.run.rows as f64 / self.run.cpu_s.max(0.01)
    }
}

/// Runs `import` in a child process (showing its progress every 30 seconds) and checks
/// what it did.
async fn measure(ctx: &Ctx, endpoint: &str, import: &Import) -> Result<(Run, f64, f64), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let wrap: Vec<String> =
        std::env::var("KABINET_BENCH_WRAP").unwrap_or_default().split_whitespace().map(str::to_owned).collect();
    let mut command = match wrap.split_first() {
        Some((program, args)) => {
            let mut c = tokio::process::Command::new(program);
            c.args(args).arg(exe);
            c
        }
        None => tokio::process::Command::new(exe),
    };
    let (before, _) = emulator_time_and_rss(endpoint).await.unwrap_or_else(|e| fail(e));
    let started = Instant::now();
    // One malloc arena, as the importer's function runs (infra/template.yaml).
    let child = command
        .env("MALLOC_ARENA_MAX", "1")
        .args(["bench-import-one", "--endpoint", endpoint, "--table", TABLE])
        .args([
            "--bucket",
            &ctx.config().exports_bucket,
            "--org",
            import.org_id.as_str(),
            "--import",
            import.id.as_str(),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("starting the import: {e}"))?;
    let pid = child.id();
    let output = child.wait_with_output();
    tokio::pin!(output);
    let out = loop {
        tokio::select! {
            out = &mut output => break out.map_err(|e| format!("waiting for the import: {e}"))?,
            _ = tokio::time::sleep(Duration::from_secs(30)) => {
                if let Ok(Some(i)) = ctx.store().import(&import.org_id, &import.id).await {
                    let p = i.progress.map(|p| format!("{} row {}", p.file, p.rows)).unwrap_or_default();
                    let c = &i.counts;
                    let done = c.created + c.updated + c.unchanged + c.deleted + c.skipped + c.errors;
                    // The child's peak and current resident memory so far.
                    let status = pid.and_then(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok());
                    let kb = |field: &str| {
                        status.as_deref().and_then(|s| s.lines().find(|l| l.starts_with(field))).and_then(|l| {
                            l[field.len()..].split_whitespace().next().and_then(|n| n.parse::<u64>().ok())
                        })
                    };
                    let elapsed = started.elapsed().as_secs_f64();
                    eprintln!(
                        "    … {elapsed:.0} s: {p}; {done} rows applied ({:.0} rows/s); VmHWM {:.1} MB, VmRSS {:.1} MB",
                        done as f64 / elapsed,
                        mb(kb("VmHWM:").unwrap_or(0)),
                        mb(kb("VmRSS:").unwrap_or(0))
                    );
                }
            }
        }
    };
    let wall_s = started.elapsed().as_secs_f64();
    let (after, _) = emulator_time_and_rss(endpoint).await.unwrap_or_else(|e| fail(e));
    if !out.status.success() {
        return Err(format!("the import exited with {}", out.status));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The last line that is a JSON object (a profiler may write lines of its own).
    let line = stdout.lines().rev().find(|l| l.trim_start().starts_with('{')).unwrap_or_default();
    let run: Run = serde_json::from_str(line).map_err(|e| format!("the import's report {line:?}: {e}"))?;
    Ok((run, wall_s, after - before))
}

/// Whether a clean file's import is done as reported, with nothing refused.
async fn check_clean(ctx: &Ctx, import: &Import, run: &Run) -> Result<(), String> {
    let stored = ctx.store().import(&import.org_id, &import.id).await.map_err(|e| e.to_string())?;
    match stored {
        Some(i) if i.status == ImportStatus::Done && i.counts == run.counts && i.errors.is_empty() => Ok(()),
        Some(i) => Err(format!(
            "the import is {:?} with counts {:?} and {} refused rows listed (first: {:?})",
            i.status,
            i.counts,
            i.errors.len(),
            i.errors.first()
        )),
        None => Err("the import is gone".into()),
    }
}

/// Generates each size's journal in turn, imports it into an organization of its own,
/// then imports it again.
pub async fn run(sizes: Vec<usize>) {
    if sizes.is_empty() || sizes.iter().any(|&n| n < 25) {
        fail("--users: sizes of at least 25");
    }
    let build = if cfg!(debug_assertions) {
        "a debug build: the importer's own time is several times the release artifact's \
         (`make bench-import` runs the release build)"
    } else {
        "the release build (the profile of the Lambda artifact)"
    };
    let em = Emulator::start().await.unwrap_or_else(|e| fail(e));
    let aws = emulator::sdk_config(&em.endpoint).await;
    let mut config = Config::from_env();
    config.table = TABLE.into();
    config.s3_path_style = true;
    setup::ensure_resources(&aws, &config).await.unwrap_or_else(|e| fail(e));
    let ctx = Ctx::new(config, &aws);
    let db = aws_sdk_dynamodb::Client::new(&aws);
    eprintln!(
        "Import benchmark: OneRoster 1.1 zips of {sizes:?} users, each imported into an organization of its own \
         and then again, each import in a process of its own; {build}."
    );
    let mut results: Vec<Measured> = Vec::new();
    for (k, &users) in sizes.iter().enumerate() {
        let generated = generate(users).unwrap_or_else(|e| fail(e));
        eprintln!(
            "{users:>7} users: a zip of {:.2} MB, {} rows ({} the importer reads: {} homerooms, {} scheduled \
             classes, {} users, {} enrollments), generated in {:.1} s",
            generated.zip_bytes as f64 / 1e6,
            generated.all_rows,
            generated.read_rows,
            generated.homerooms,
            generated.scheduled,
            generated.users,
            generated.homeroom_enrollments + generated.scheduled_enrollments,
            generated.took.as_secs_f64()
        );
        let seeded = seed_org(&db, users, k + 1).await.unwrap_or_else(|e| fail(e));
        let mut first: Option<ImportCounts> = None;
        for again in [false, true] {
            let name = format!("journal-{users}.zip");
            let import = start_import(&ctx, &seeded, &generated.path.0, generated.zip_bytes, name)
                .await
                .unwrap_or_else(|e| fail(e));
            let pass = if again { "again" } else { "first" };
            let (run, wall_s, emulator_s) = measure(&ctx, &em.endpoint, &import)
                .await
                .unwrap_or_else(|e| fail(format!("{users} users, {pass}: {e}")));
            if let Err(e) = check_clean(&ctx, &import, &run).await {
                fail(format!("{users} users, {pass}: {e}"));
            }
            let (_, emulator_rss) = emulator_time_and_rss(&em.endpoint).await.unwrap_or_else(|e| fail(e));
            let m = Measured {
                users,
                again,
                zip_bytes: generated.zip_bytes,
                all_rows: generated.all_rows,
                run,
                wall_s,
                emulator_s,
            };
            eprintln!(
                "{users:>7} users, {pass:<5}: {} rows in {:.1} s ({:.0} rows/s; the emulator's own count {:.1} s); \
                 {:.1} CPU s ({:.0} rows per CPU s); peak RSS {:.1} MB (at the start {:.1} MB); the emulator holds \
                 {:.0} MB",
                m.run.rows,
                m.run.total_s,
                m.rows_per_s(),
                m.emulator_s,
                m.run.cpu_s,
                m.rows_per_cpu_s(),
                mb(m.run.peak_rss_kb),
                mb(m.run.start_rss_kb),
                emulator_rss as f64 / 1e6
            );
            // The figures are shown before the counts are checked.
            if m.run.rows != generated.read_rows {
                fail(format!("{users} users, {pass}: {} rows read of {}", m.run.rows, generated.read_rows));
            }
            if let Err(e) = generated.check(&m.run.counts, first.as_ref()) {
                fail(format!("{users} users, {pass}: {e}"));
            }
            first = Some(m.run.counts.clone());
            results.push(m);
        }
    }
    let mut adversarial = Vec::new();
    for (k, make) in ADVERSARIAL.iter().enumerate() {
        let input = make().unwrap_or_else(|e| fail(e));
        eprintln!(
            "{}: an upload of {:.2} MB ({:.1} MB unpacked), generated in {:.1} s",
            input.name,
            input.upload_bytes as f64 / 1e6,
            input.unpacked_bytes as f64 / 1e6,
            input.took.as_secs_f64()
        );
        let seeded = seed_org(&db, 0, sizes.len() + k + 1).await.unwrap_or_else(|e| fail(e));
        let import = start_import(&ctx, &seeded, &input.path.0, input.upload_bytes, input.file_name.into())
            .await
            .unwrap_or_else(|e| fail(e));
        let (run, _, _) =
            measure(&ctx, &em.endpoint, &import).await.unwrap_or_else(|e| fail(format!("{}: {e}", input.name)));
        eprintln!(
            "{}: {} in {:.1} s ({:.1} CPU s); peak RSS {:.1} MB",
            input.name,
            outcome(&run),
            run.total_s,
            run.cpu_s,
            mb(run.peak_rss_kb)
        );
        // The figures are shown before the outcome is checked.
        if let Err(e) = input.expect.check(&run) {
            fail(format!("{}: {e}", input.name));
        }
        adversarial.push((input, run));
    }
    drop(em);
    report(&results, build);
    report_adversarial(&adversarial, &results);
}

/// What an adversarial upload is, and what its import must come to.
struct Adversarial {
    name: &'static str,
    file_name: &'static str,
    path: TempPath,
    upload_bytes: u64,
    unpacked_bytes: u64,
    took: Duration,
    expect: Expect,
}

enum Expect {
    /// Done, with these users applied and one row refused: on this line, for this reason.
    Done { users: u64, refused_line: u64, reason: &'static str },
    /// Failed, the upload refused for this reason.
    Failed { reason: &'static str },
}

impl Expect {
    fn check(&self, run: &Run) -> Result<(), String> {
        match self {
            Expect::Done { users, refused_line, reason } => {
                let refused = run
                    .errors
                    .iter()
                    .any(|e| e.file == "users.csv" && e.line == *refused_line && e.message.contains(reason));
                if run.status != "done" || run.counts.users != *users || run.counts.errors != 1 || !refused {
                    return Err(format!(
                        "expected done with {users} users and line {refused_line} refused ({reason}): {} with {} \
                         users, {} refused: {:?}",
                        run.status, run.counts.users, run.counts.errors, run.errors
                    ));
                }
                Ok(())
            }
            Expect::Failed { reason } => match &run.failure {
                Some(why) if run.status == "failed" && why.contains(reason) => Ok(()),
                _ => Err(format!("expected failed ({reason}): {} ({:?})", run.status, run.failure)),
            },
        }
    }
}

fn outcome(run: &Run) -> String {
    match (run.status.as_str(), &run.failure) {
        ("failed", Some(why)) => format!("failed: {}", why.split(':').next().unwrap_or(why)),
        _ => {
            let mut out = format!("{}, users applied: {}", run.status, run.counts.users);
            for e in &run.errors {
                out.push_str(&format!("; {} line {} refused", e.file, thousands(e.line)));
            }
            out
        }
    }
}

/// Blank lines in users.csv (about 20 KB zipped).
const BLANK_LINES: u64 = 20_000_000;
/// The quoted field's length.
const LONG_FIELD: u64 = 300_000_000;
/// Rows of `,,,` (a spreadsheet's empty rows).
const EMPTY_ROWS: u64 = 5_000_000;
/// Entries of the zip of empty files.
const ZIP_ENTRIES: u64 = 2_000_000;

const USERS_HEADER: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,\
givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\r\n";

type Make = fn() -> Result<Adversarial, String>;

const ADVERSARIAL: [Make; 4] = [blank_lines, long_field, empty_rows, many_entries];

/// A row of users.csv.
fn person(id: &str, role: &str, given: &str) -> String {
    format!("{id},active,{MODIFIED},true,org-school-1,{role},{id},,{given},Иванов,,{id},,,,,,\r\n")
}

/// Writes `piece` `times` times, a buffer at a time; answers the bytes written.
fn repeat(out: &mut dyn Write, piece: &[u8], times: u64) -> io::Result<u64> {
    let per = (64 * 1024 / piece.len().max(1)).max(1);
    let buf = piece.repeat(per);
    let mut left = times;
    while left > 0 {
        let n = left.min(per as u64);
        out.write_all(&buf[..n as usize * piece.len()])?;
        left -= n;
    }
    Ok(times * piece.len() as u64)
}

fn temp_path(tag: &str) -> TempPath {
    TempPath(std::env::temp_dir().join(format!("kabinet-bench-import-{tag}-{}.zip", ulid::Ulid::new())))
}

/// A zip of one users.csv that `body` writes as it generates it (deflated as it goes);
/// answers the file, its size and the bytes unpacked.
fn zipped_users(
    tag: &str,
    body: impl FnOnce(&mut dyn Write) -> io::Result<u64>,
) -> Result<(TempPath, u64, u64), String> {
    let path = temp_path(tag);
    let file = File::create(&path.0).map_err(|e| format!("{}: {e}", path.0.display()))?;
    let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 16, file));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("users.csv", opts).map_err(|e| format!("zip: {e}"))?;
    let unpacked = body(&mut zip).map_err(|e| e.to_string())?;
    let mut out = zip.finish().map_err(|e| format!("zip: {e}"))?;
    out.flush().map_err(|e| e.to_string())?;
    drop(out);
    let bytes = std::fs::metadata(&path.0).map_err(|e| e.to_string())?.len();
    Ok((path, bytes, unpacked))
}

fn write(out: &mut dyn Write, text: &str) -> io::Result<u64> {
    out.write_all(text.as_bytes()).map(|()| text.len() as u64)
}

/// A teacher (line 2), 20 M blank lines, a row refused, a student.
fn blank_lines() -> Result<Adversarial, String> {
    let started = Instant::now();
    let (path, upload_bytes, unpacked_bytes) = zipped_users("blank", |out| {
        let mut n = write(out, USERS_HEADER)?;
        n += write(out, &person("u1", "teacher", "Анна"))?;
        n += repeat(out, b"\n", BLANK_LINES)?;
        n += write(out, &person("x1", "janitor", "Иван"))?;
        n += write(out, &person("u2", "student", "Пётр"))?;
        Ok(n)
    })?;
    Ok(Adversarial {
        name: "20 M blank lines",
        file_name: "blank-lines.zip",
        path,
        upload_bytes,
        unpacked_bytes,
        took: started.elapsed(),
        expect: Expect::Done { users: 2, refused_line: BLANK_LINES + 3, reason: "janitor" },
    })
}

/// A row whose given name is a quoted field of 300 MB (line 2), then a student.
fn long_field() -> Result<Adversarial, String> {
    let started = Instant::now();
    let (path, upload_bytes, unpacked_bytes) = zipped_users("field", |out| {
        let mut n = write(out, USERS_HEADER)?;
        n += write(out, &format!("x1,active,{MODIFIED},true,org-school-1,student,x1,,\""))?;
        n += repeat(out, b"a", LONG_FIELD)?;
        n += write(out, "\",Иванов,,x1,,,,,,\r\n")?;
        n += write(out, &person("u1", "student", "Пётр"))?;
        Ok(n)
    })?;
    Ok(Adversarial {
        name: "a 300 MB quoted field",
        file_name: "long-field.zip",
        path,
        upload_bytes,
        unpacked_bytes,
        took: started.elapsed(),
        expect: Expect::Done { users: 1, refused_line: 2, reason: "longer than 1 MiB" },
    })
}

/// 5 M rows of `,,,`, a row refused, a student.
fn empty_rows() -> Result<Adversarial, String> {
    let started = Instant::now();
    let (path, upload_bytes, unpacked_bytes) = zipped_users("commas", |out| {
        let mut n = write(out, USERS_HEADER)?;
        n += repeat(out, b",,,\r\n", EMPTY_ROWS)?;
        n += write(out, &person("x1", "janitor", "Иван"))?;
        n += write(out, &person("u1", "student", "Пётр"))?;
        Ok(n)
    })?;
    Ok(Adversarial {
        name: "5 M rows of ,,,",
        file_name: "empty-rows.zip",
        path,
        upload_bytes,
        unpacked_bytes,
        took: started.elapsed(),
        expect: Expect::Done { users: 1, refused_line: EMPTY_ROWS + 2, reason: "janitor" },
    })
}

/// Entry `i`'s name: users.csv, then hex numbers.
fn entry_name(i: u64) -> String {
    if i == 0 {
        "users.csv".into()
    } else {
        format!("{i:x}")
    }
}

/// A zip of 2 M empty entries (users.csv first), written by hand a header at a time: its
/// local headers, then its central directory (the names made again), then zip64 end
/// records (more than 65,535 entries).
fn many_entries() -> Result<Adversarial, String> {
    let started = Instant::now();
    let path = temp_path("entries");
    entries_zip(&path.0, ZIP_ENTRIES)?;
    let upload_bytes = std::fs::metadata(&path.0).map_err(|e| e.to_string())?.len();
    Ok(Adversarial {
        name: "a zip of 2 M empty entries",
        file_name: "entries.zip",
        path,
        upload_bytes,
        unpacked_bytes: 0,
        took: started.elapsed(),
        expect: Expect::Failed { reason: "2,000,000 files" },
    })
}

/// Writes a zip of `entries` empty entries to `path`.
fn entries_zip(path: &Path, entries: u64) -> Result<(), String> {
    let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    let io = |e: io::Error| e.to_string();
    // Version 1.0, no flags, stored, 1980-01-01, CRC and sizes 0.
    let fixed: [u8; 22] = [10, 0, 0, 0, 0, 0, 0, 0, 0x21, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut offset = 0u64;
    for i in 0..entries {
        let name = entry_name(i);
        out.write_all(b"PK\x03\x04").map_err(io)?;
        out.write_all(&fixed).map_err(io)?;
        out.write_all(&(name.len() as u16).to_le_bytes()).map_err(io)?;
        out.write_all(&0u16.to_le_bytes()).map_err(io)?;
        out.write_all(name.as_bytes()).map_err(io)?;
        offset += 30 + name.len() as u64;
    }
    let directory = offset;
    let mut local = 0u64;
    for i in 0..entries {
        let name = entry_name(i);
        out.write_all(b"PK\x01\x02").map_err(io)?;
        out.write_all(&20u16.to_le_bytes()).map_err(io)?;
        out.write_all(&fixed).map_err(io)?;
        out.write_all(&(name.len() as u16).to_le_bytes()).map_err(io)?;
        // Extra field, comment, disk, internal and external attributes: none.
        out.write_all(&[0u8; 12]).map_err(io)?;
        out.write_all(&(local as u32).to_le_bytes()).map_err(io)?;
        out.write_all(name.as_bytes()).map_err(io)?;
        local += 30 + name.len() as u64;
        offset += 46 + name.len() as u64;
    }
    let (end64, size) = (offset, offset - directory);
    out.write_all(b"PK\x06\x06").map_err(io)?;
    out.write_all(&44u64.to_le_bytes()).map_err(io)?;
    out.write_all(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]).map_err(io)?;
    for v in [entries, entries, size, directory] {
        out.write_all(&v.to_le_bytes()).map_err(io)?;
    }
    out.write_all(b"PK\x06\x07").map_err(io)?;
    out.write_all(&0u32.to_le_bytes()).map_err(io)?;
    out.write_all(&end64.to_le_bytes()).map_err(io)?;
    out.write_all(&1u32.to_le_bytes()).map_err(io)?;
    out.write_all(b"PK\x05\x06").map_err(io)?;
    out.write_all(&[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]).map_err(io)?;
    out.write_all(&(size.min(u64::from(u32::MAX)) as u32).to_le_bytes()).map_err(io)?;
    out.write_all(&(directory.min(u64::from(u32::MAX)) as u32).to_le_bytes()).map_err(io)?;
    out.write_all(&0u16.to_le_bytes()).map_err(io)?;
    out.flush().map_err(io)
}

fn report_adversarial(inputs: &[(Adversarial, Run)], clean: &[Measured]) {
    let Some(clean) = clean.iter().filter(|m| !m.again).min_by_key(|m| m.users) else { return };
    let clean_peak = mb(clean.run.peak_rss_kb);
    println!(
        "\n| input | upload (MB) | unpacked (MB) | outcome | import s | peak RSS (MB) | the clean file's ({} users) \
         peak RSS (MB) |",
        clean.users
    );
    println!("| :--- | ---: | ---: | :--- | ---: | ---: | ---: |");
    println!(
        "| a clean journal of {} users | {:.2} | – | {} | {:.1} | {:.1} | {clean_peak:.1} |",
        clean.users,
        clean.zip_bytes as f64 / 1e6,
        outcome(&clean.run),
        clean.run.total_s,
        clean_peak
    );
    for (input, run) in inputs {
        println!(
            "| {} | {:.2} | {:.1} | {} | {:.1} | {:.1} | {clean_peak:.1} |",
            input.name,
            input.upload_bytes as f64 / 1e6,
            input.unpacked_bytes as f64 / 1e6,
            outcome(run),
            run.total_s,
            mb(run.peak_rss_kb)
        );
    }
    println!(
        "\nEach adversarial upload was imported in a process of its own, as the clean file was, and checked: \
         the rows around the blank lines and empty rows applied with the refused row's line right, the long \
         field's row refused as that row's error and the next row applied, the zip of many entries refused from \
         its end record before its directory was read."
    );
}

fn report(results: &[Measured], build: &str) {
    println!(
        "\n| users | zip (bytes) | rows in the zip | rows read | wall s | rows/s | rows per CPU s | peak RSS (MB) | \
         re-run wall s | re-run rows/s | re-run rows per CPU s | re-run peak RSS (MB) |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for m in results.iter().filter(|m| !m.again) {
        let again = results.iter().find(|r| r.again && r.users == m.users);
        let cell = |f: &dyn Fn(&Measured) -> String| again.map(f).unwrap_or_else(|| "–".into());
        println!(
            "| {} | {} | {} | {} | {:.1} | {:.0} | {:.0} | {:.1} | {} | {} | {} | {} |",
            m.users,
            m.zip_bytes,
            m.all_rows,
            m.run.rows,
            m.run.total_s,
            m.rows_per_s(),
            m.rows_per_cpu_s(),
            mb(m.run.peak_rss_kb),
            cell(&|a| format!("{:.1}", a.run.total_s)),
            cell(&|a| format!("{:.0}", a.rows_per_s())),
            cell(&|a| format!("{:.0}", a.rows_per_cpu_s())),
            cell(&|a| format!("{:.1}", mb(a.run.peak_rss_kb))),
        );
    }
    println!(
        "\n| users | pass | emulator's own count (s) | emulator's share | importer CPU s | process life (s) | \
         ms per row | RSS before the import (MB) | peak RSS above it (MB) |"
    );
    println!("| ---: | :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for m in results {
        println!(
            "| {} | {} | {:.1} | {:.0}% | {:.1} | {:.1} | {:.2} | {:.1} | {:.1} |",
            m.users,
            if m.again { "re-run" } else { "first" },
            m.emulator_s,
            100.0 * m.emulator_s / m.run.total_s.max(1e-9),
            m.run.cpu_s,
            m.wall_s,
            1000.0 * m.run.total_s / m.run.rows.max(1) as f64,
            mb(m.run.start_rss_kb),
            mb(m.run.peak_rss_kb.saturating_sub(m.run.start_rss_kb))
        );
    }
    println!("\nGoals ({build}):");
    for again in [false, true] {
        let of: Vec<&Measured> = results.iter().filter(|m| m.again == again).collect();
        let (Some(small), Some(large)) = (of.iter().min_by_key(|m| m.users), of.iter().max_by_key(|m| m.users)) else {
            continue;
        };
        let pass = if again { "re-run" } else { "first import" };
        if small.users == large.users {
            println!("- {pass}: one size only, no memory ratio");
            continue;
        }
        let ratio = large.run.peak_rss_kb as f64 / small.run.peak_rss_kb.max(1) as f64;
        println!(
            "- {pass}: peak RSS at {} users ÷ at {}: {:.1} MB ÷ {:.1} MB = {:.2} (goal ≤ {MEMORY_GOAL}, flat): {}",
            large.users,
            small.users,
            mb(large.run.peak_rss_kb),
            mb(small.run.peak_rss_kb),
            ratio,
            if ratio <= MEMORY_GOAL { "met" } else { "NOT met" }
        );
    }
    println!(
        "\nRows/s is rows read (academicSessions, classes, users and enrollments; manifest.csv and orgs.csv are not \
         read) ÷ the import's time in the child, waits on the emulator included: the importer writes each row as one \
         write or one transaction, and the emulator serves one request at a time. Rows per CPU second counts the \
         importer's process only (/proc/self/stat): what one core does when the table answers at once. Each import \
         was checked done, with no refused row and the counts of the file (every row applied or skipped: scheduled \
         classes become courses where the importer makes them; the re-run: every applied row unchanged)."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zip_of_many_entries_is_a_zip64_archive_the_zip_crate_reads() {
        let path = temp_path("entries-test");
        entries_zip(&path.0, 70_000).unwrap();
        let zip = zip::ZipArchive::new(File::open(&path.0).unwrap()).unwrap();
        assert_eq!(zip.len(), 70_000);
        assert_eq!(zip.name_for_index(0).unwrap().unwrap(), "users.csv");
        assert_eq!(zip.name_for_index(69_999).unwrap().unwrap(), format!("{:x}", 69_999));
    }
}
