//! The exporter's benchmark (`make bench-export`): at each size asked for, an organization
//! of that many teachers and staff written straight into the table (BatchWriteItem, items
//! as the store writes them: the API would take hours), then its employees export built
//! once as CSV and once as XLSX, each by the exporter's own code in a child process
//! (crate::harness), so that the process's peak resident memory (VmHWM) is the build's.
//! Reported: rows per second, with and without the time the exporter spent waiting on the
//! emulator (its report measures the table and S3 waits apart), rows per CPU second of
//! the exporter's process (which also counts parsing the table's answers, inside those
//! waits), and the peak memory, against the goals of issue 14.

use futures::FutureExt;
use kabinet::domain::exports::Delimiter;
use kabinet::domain::{
    AcademicYear, Actor, AuditEntry, Class, ClassName, ClassSource, Export, ExportFormat, ExportKind, ExportStatus,
    Language, Membership, MembershipSource, Org, OrgId, OrgProfile, Role, RoleGrant, Timestamp, User, UserId,
};
use kabinet::store::items;
use kabinet::Ctx;
use kabinet_local::seed::{self, Rng, STAFF};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::harness::{fail, flat_memory, mb, table, verdict, Job, Measured, Stack};
use kabinet::domain::AuditAction;

/// The benchmark's table (in its own emulator).
const TABLE: &str = "kabinet-bench-export";
/// BatchWriteItem calls in flight at once.
const WRITERS: usize = 4;

/// The goals of issue 14.
const MEMORY_GOAL: f64 = 1.2;
const CSV_ROWS_GOAL: f64 = 50_000.0;

/// Subjects a teacher teaches (the import benchmark's journal schedules them too).
pub const SUBJECTS: &[&str] = &[
    "Математика",
    "Русский язык и литература",
    "Английский язык",
    "История и обществознание",
    "Физика",
    "Химия",
    "Биология",
    "География",
    "Информатика",
    "Физическая культура",
    "Музыка",
    "Изобразительное искусство",
    "Технология",
    "ОБЖ",
    "Начальные классы",
];

/// What one build reports (the exporter's own report).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Built {
    pub rows: u64,
    pub size: u64,
    pub parts: usize,
    /// The build's time, and in it the waits on the table and on S3.
    pub total_s: f64,
    pub store_s: f64,
    pub s3_s: f64,
}

impl Built {
    fn waited(&self) -> f64 {
        self.store_s + self.s3_s
    }

    fn own(&self) -> f64 {
        (self.total_s - self.waited()).max(1e-9)
    }
}

/// The child's job: builds the export.
pub async fn build(ctx: Ctx, org: OrgId, export: String) -> Result<Built, String> {
    let export = kabinet::domain::ExportId::parse(&export).ok_or("not an export ID")?;
    match kabinet::events::exporter::export(&ctx, &org, &export).await {
        Ok(Some(report)) => Ok(Built {
            rows: report.rows,
            size: report.size,
            parts: report.parts,
            total_s: report.total.as_secs_f64(),
            store_s: report.store_wait.as_secs_f64(),
            s3_s: report.s3_wait.as_secs_f64(),
        }),
        Ok(None) => Err(format!("export {export} was not built (not pending, or refused)")),
        Err(e) => Err(format!("export {export} failed: {e}")),
    }
}

/// An organization written for the benchmark.
struct Seeded {
    org: Org,
    admin: Membership,
    /// Items written, and in how long.
    items: usize,
    took: std::time::Duration,
}

/// Member `i` of an organization: the admin (a deputy head) first, then teachers (some also
/// staff) and staff, with realistic names, positions, classes taught, activity and counts.
fn member(org: &OrgId, i: usize, classes: &[String], now: Timestamp) -> Membership {
    let mut rng = Rng::new(i as u64 + 1);
    let user = UserId::parse(&format!("bench-{org}-{i:06}")).unwrap_or_else(|| fail("a member ID"));
    let female = rng.below(10) < 7;
    let name = seed::full_name(&mut rng, female);
    let email = format!("m{i:06}@{org}.school.test");
    let teacher = |rng: &mut Rng| {
        let subject = rng.pick(SUBJECTS);
        let mut taught: Vec<String> = Vec::new();
        for _ in 0..rng.below(4) {
            let class = &classes[rng.below(classes.len())];
            if !taught.contains(class) {
                taught.push(class.clone());
            }
        }
        RoleGrant {
            role: Role::Teacher,
            position: Some(format!("Учитель ({})", subject.to_lowercase())),
            specialization: Some(subject.to_string()),
            class_ids: taught,
        }
    };
    let (roles, admin, source) = if i == 0 {
        (vec![RoleGrant::staff(STAFF[0])], true, MembershipSource::Manual)
    } else {
        let roles = match rng.below(100) {
            0..=79 => vec![teacher(&mut rng)],
            80..=94 => vec![RoleGrant::staff(rng.pick(STAFF))],
            _ => vec![teacher(&mut rng), RoleGrant::staff(rng.pick(STAFF))],
        };
        let source = if rng.below(3) == 0 { MembershipSource::Link } else { MembershipSource::Invitation };
        (roles, false, source)
    };
    let mut m = Membership::new(org, &user, &name, Some(&email), roles, admin, source);
    m.joined_at = now.plus(time::Duration::minutes(-(rng.below(4 * 365 * 24 * 60) as i64)));
    if rng.below(10) > 0 {
        m.last_active_at = Some(now.plus(time::Duration::minutes(-(rng.below(40 * 24 * 60) as i64))));
        let often = rng.below(31);
        m.active_days = (0..30)
            .filter(|_| rng.below(30) < often)
            .map(|d| now.plus(time::Duration::days(-(d as i64))).day())
            .collect();
    }
    m.post_count = rng.below(200) as u64;
    m.announcement_count = rng.below(30) as u64;
    m.file_count = rng.below(50) as u64;
    m
}

/// Writes an organization of `members` teachers and staff (the first its admin, with a
/// profile), its 40 classes and their name guards.
async fn seed_org(stack: &Stack, members: usize, number: usize) -> Result<Seeded, String> {
    let started = std::time::Instant::now();
    let now = Timestamp::now();
    let org_id = OrgId::generate();
    let year = AcademicYear::current();
    let mut fixed: Vec<crate::harness::Item> = Vec::new();
    let mut class_ids = Vec::new();
    for (grade, letter) in seed::classes() {
        let name = ClassName::Graded { grade, letter: letter.to_string() };
        let class = Class::new(&org_id, &name, year, ClassSource::Manual, vec![]);
        fixed.push(items::class_item(&class).map_err(|e| e.to_string())?);
        fixed.push(items::class_name_item(&class));
        class_ids.push(class.id.to_string());
    }
    let admin = member(&org_id, 0, &class_ids, now);
    let mut user = items::to_item(&User {
        id: admin.user_id.clone(),
        email: admin.email.clone(),
        email_verified: true,
        name: admin.name.clone(),
        language: Language::Ru,
        created_at: now,
        updated_at: now,
        mail: Default::default(),
    })
    .map_err(|e| e.to_string())?;
    user.extend(items::user_key(&admin.user_id));
    fixed.push(user);
    let written = fixed.len() + members + 1;
    stack.write(fixed, WRITERS).await?;

    // The members, made as they are written.
    let (mut teachers, mut staff) = (0, 0);
    let all = (0..members).map(|i| {
        let m = member(&org_id, i, &class_ids, now);
        teachers += u32::from(m.has_role(Role::Teacher));
        staff += u32::from(m.has_role(Role::Staff));
        items::member_item(&m).unwrap_or_else(|e| fail(e))
    });
    stack.write(all, WRITERS).await?;

    let profile = OrgProfile {
        name: format!("Школа №{number} (замер экспорта, {members} сотрудников)"),
        short_name: Some(format!("Школа №{number}")),
        ..Default::default()
    };
    let mut org = Org::new(profile, &admin.user_id, now);
    org.id = org_id;
    org.member_count = members as u32;
    org.teacher_count = teachers;
    org.staff_count = staff;
    org.class_count = class_ids.len() as u32;
    stack.write(vec![items::org_item(&org).map_err(|e| e.to_string())?], 1).await?;
    Ok(Seeded { org, admin, items: written, took: started.elapsed() })
}

/// Asks for the employees export as the admin does (the export pending, its building place
/// taken, the audit entry): the exporter then builds it.
async fn request(ctx: &Ctx, s: &Seeded, format: ExportFormat, slot: u32) -> Result<Export, String> {
    let org = &s.org;
    let export = Export::new(
        &org.id,
        org.short_name.as_deref().unwrap_or(&org.name),
        ExportKind::Employees,
        format,
        Delimiter::default(),
        &s.admin.user_id,
        &s.admin.name,
        slot,
        Timestamp::now(),
    );
    let actor = Actor { id: s.admin.user_id.clone(), name: s.admin.name.clone() };
    let audit = AuditEntry::new(&org.id, &actor, AuditAction::ExportRequest, "export", &export.id)
        .as_admin(true)
        .after(json!({
            "kind": export.kind, "format": export.format, "file_name": export.file_name,
        }));
    ctx.store().create_export(&export, &audit).await.map_err(|e| format!("creating the export: {e:?}"))?;
    Ok(export)
}

/// Builds `export` in a child process and checks what it wrote: answers the build with
/// its parts as S3 holds the object (0: one PUT).
async fn measure(stack: &Stack, s: &Seeded, export: &Export) -> Result<(Measured<Built>, usize), String> {
    let m: Measured<Built> =
        stack.measure(Job::Export, &s.org.id, export.id.as_str(), || async { None }.boxed()).await?;
    let (ctx, built) = (&stack.ctx, &m.report);
    // The file is in the bucket with the size reported, and the export is ready.
    let head =
        ctx.s3().head_object().bucket(&ctx.config().exports_bucket).key(export.object_key()).send().await.map_err(
            |e| format!("HeadObject {}: {}", export.object_key(), aws_sdk_s3::error::DisplayErrorContext(&e)),
        )?;
    if head.content_length() != Some(built.size as i64) {
        return Err(format!("the object holds {:?} bytes, the build reported {}", head.content_length(), built.size));
    }
    // A multipart object's ETag ends in `-<parts>`; one sent in one PUT has none.
    let parts = head
        .e_tag()
        .and_then(|t| t.trim_matches('"').rsplit_once('-'))
        .and_then(|(_, n)| n.parse::<usize>().ok())
        .unwrap_or(0);
    let stored = ctx.store().export(&s.org.id, &export.id).await.map_err(|e| e.to_string())?;
    match stored {
        Some(e) if e.status == ExportStatus::Ready && e.rows == built.rows && e.size == built.size => {}
        other => return Err(format!("the export is not ready as reported: {other:?}")),
    }
    Ok((m, parts))
}

/// One measured build.
struct Row {
    members: usize,
    format: ExportFormat,
    m: Measured<Built>,
    /// The object's parts as S3 holds it (0: one PUT).
    parts: usize,
}

impl Row {
    /// The row's first cells: its size and format.
    fn key(&self) -> Vec<String> {
        vec![self.members.to_string(), self.format.extension().to_string()]
    }
}

/// Seeds each size in turn and builds its employees export as CSV and as XLSX.
pub async fn run(sizes: Vec<usize>) {
    let build = crate::harness::build("the exporter", "bench-export");
    let stack = Stack::start(TABLE).await;
    eprintln!(
        "Export benchmark: organizations of {sizes:?} teachers and staff, the employees export as CSV and \
         XLSX, each built in a process of its own; {build}."
    );
    let mut rows: Vec<Row> = Vec::new();
    for (n, &members) in sizes.iter().enumerate() {
        let seeded = seed_org(&stack, members, n + 1).await.unwrap_or_else(|e| fail(e));
        let (_, emulator_rss) = stack.time_and_rss().await;
        eprintln!(
            "{members:>7} members: seeded in {:.1} s ({:.0} items/s); the emulator holds {:.0} MB",
            seeded.took.as_secs_f64(),
            seeded.items as f64 / seeded.took.as_secs_f64(),
            emulator_rss as f64 / 1e6
        );
        for (slot, format) in [ExportFormat::Csv, ExportFormat::Xlsx].into_iter().enumerate() {
            let export = request(&stack.ctx, &seeded, format, slot as u32).await.unwrap_or_else(|e| fail(e));
            let (m, parts) = measure(&stack, &seeded, &export)
                .await
                .unwrap_or_else(|e| fail(format!("{members} members, {}: {e}", format.extension())));
            let b = &m.report;
            if b.rows != members as u64 {
                fail(format!("{members} members, {}: {} rows written", format.extension(), b.rows));
            }
            eprintln!(
                "{members:>7} members, {:<4}: {} rows, {:.2} MB in {} parts (reported: {}), {:.1} s (store \
                 {:.1} s, S3 {:.1} s; the emulator's own count {:.1} s); peak RSS {:.1} MB (at the start {:.1} MB)",
                format.extension(),
                b.rows,
                b.size as f64 / 1e6,
                parts,
                b.parts,
                b.total_s,
                b.store_s,
                b.s3_s,
                m.emulator_s,
                m.peak_mb(),
                mb(m.process.start_rss_kb)
            );
            rows.push(Row { members, format, m, parts });
        }
    }
    drop(stack);
    report(&rows, &build);
}

fn report(rows: &[Row], build: &str) {
    let columns = "members | <format | rows | size (MB) | parts | total s | emulator s (store+S3) | rows/s (total) \
                   | rows/s (excluding the emulator) | peak RSS (MB)";
    table(columns, rows, |r| {
        let b = &r.m.report;
        let mut cells = r.key();
        cells.extend([
            b.rows.to_string(),
            format!("{:.2}", b.size as f64 / 1e6),
            r.parts.to_string(),
            format!("{:.2}", b.total_s),
            format!("{:.2} ({:.2}+{:.2})", b.waited(), b.store_s, b.s3_s),
            format!("{:.0}", b.rows as f64 / b.total_s.max(1e-9)),
            format!("{:.0}", b.rows as f64 / b.own()),
            format!("{:.1}", r.m.peak_mb()),
        ]);
        cells
    });
    let miscounted: Vec<String> = rows
        .iter()
        .filter(|r| r.m.report.parts != r.parts)
        .map(|r| format!("{} {}: {} reported", r.members, r.format.extension(), r.m.report.parts))
        .collect();
    if !miscounted.is_empty() {
        println!(
            "\nParts are as S3 holds the object (its ETag); the exporter's report disagrees ({}).",
            miscounted.join("; ")
        );
    }
    let columns = "members | <format | emulator's share of the build | emulator's own count (s) | exporter CPU s \
                   | rows per CPU second | process life (s) | RSS before the build (MB) | peak RSS above it (MB)";
    table(columns, rows, |r| {
        let b = &r.m.report;
        let mut cells = r.key();
        cells.extend([
            format!("{:.0}%", 100.0 * b.waited() / b.total_s.max(1e-9)),
            format!("{:.2}", r.m.emulator_s),
            format!("{:.2}", r.m.process.cpu_s),
            format!("{:.0}", r.m.per_cpu_s(b.rows)),
            format!("{:.2}", r.m.wall_s),
            format!("{:.1}", mb(r.m.process.start_rss_kb)),
            format!("{:.1}", r.m.grown_mb()),
        ]);
        cells
    });

    println!("\nGoals ({build}):");
    for format in [ExportFormat::Csv, ExportFormat::Xlsx] {
        let sizes: Vec<(usize, u64)> =
            rows.iter().filter(|r| r.format == format).map(|r| (r.members, r.m.process.peak_rss_kb)).collect();
        println!("{}", flat_memory(format.extension(), "members", &sizes, MEMORY_GOAL));
    }
    for r in rows.iter().filter(|r| r.format == ExportFormat::Csv) {
        let rate = r.m.report.rows as f64 / r.m.report.own();
        let strict = r.m.per_cpu_s(r.m.report.rows);
        println!(
            "- csv rows/s excluding the emulator at {} members: {:.0} (goal ≥ {:.0}): {}; rows per CPU second of \
             the exporter: {:.0}: {}",
            r.members,
            rate,
            CSV_ROWS_GOAL,
            verdict(rate >= CSV_ROWS_GOAL),
            strict,
            verdict(strict >= CSV_ROWS_GOAL)
        );
    }
    let total: f64 = rows.iter().map(|r| r.m.report.total_s).sum();
    let waited: f64 = rows.iter().map(|r| r.m.report.waited()).sum();
    println!(
        "\nThe emulator's share of all the builds' time: {:.0}% ({waited:.1} s of {total:.1} s). \"Excluding the \
         emulator\" is rows ÷ (build time − the exporter's own measured waits on the table and on S3: its report \
         times each query and S3 call). Those waits also hold the client's side of each call (parsing the answers \
         into members), so the stricter figure is rows per CPU second of the exporter's process (/proc/self/stat), \
         which counts that parsing and none of the emulator. The emulator's own count (its seconds serving \
         requests, GET /_kabinet/stats, over the process's life) cross-checks the waits.",
        100.0 * waited / total.max(1e-9)
    );
}
