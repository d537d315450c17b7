//! The exporter's benchmark (`make bench-export`): an emulator of its own, and at each size
//! asked for an organization of that many teachers and staff written straight into the
//! table (BatchWriteItem, items as the store writes them: the API would take hours), then
//! its employees export built once as CSV and once as XLSX, each by the exporter's own
//! code in a fresh process, so that the process's peak resident memory (VmHWM) is the
//! build's. Reported: rows per second, with and without the time the exporter spent
//! waiting on the emulator (its report measures the table and S3 waits apart), rows per
//! CPU second of the exporter's process (which also counts parsing the table's answers,
//! inside those waits), and the peak memory, against the goals of issue 14.
//!
//!   kabinet-local bench-export [--members 1000,10000,100000]
//!   kabinet-local bench-export-one --endpoint URL --table T --bucket B --org ID --export ID
//!                                  (one build in this process; one JSON line on stdout)
//!
//! `KABINET_BENCH_WRAP=heaptrack` runs each build under that command (a
//! heap profile of the exporter); its peak memory is then the profiler's too.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use futures::StreamExt;
use kabinet::config::Config;
use kabinet::domain::exports::Delimiter;
use kabinet::domain::{
    AcademicYear, Actor, AuditEntry, Class, ClassName, ClassSource, Export, ExportFormat, ExportKind, ExportStatus,
    Language, Membership, MembershipSource, Org, OrgId, OrgProfile, Role, RoleGrant, Timestamp, User, UserId,
};
use kabinet::store::items;
use kabinet::Ctx;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::measure::{arg, cpu_seconds, emulator_time_and_rss, mb, status_kb};
use crate::seed::{self, Rng, STAFF};
use crate::{emulator, setup, Emulator};

type Item = HashMap<String, AttributeValue>;

/// The benchmark's table (in its own emulator).
const TABLE: &str = "kabinet-bench-export";
/// Items a BatchWriteItem call writes (DynamoDB's maximum), and calls in flight at once.
const BATCH: usize = 25;
const WRITERS: usize = 4;

/// The goals of issue 14.
const MEMORY_GOAL: f64 = 1.2;
const CSV_ROWS_GOAL: f64 = 50_000.0;

const SUBJECTS: &[&str] = &[
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

fn fail(what: impl std::fmt::Display) -> ! {
    eprintln!("kabinet-local bench-export: {what}");
    std::process::exit(1);
}

/// What one build reports, as the child prints it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    pub rows: u64,
    pub size: u64,
    pub parts: usize,
    /// The build's time, and in it the waits on the table and on S3.
    pub total_s: f64,
    pub store_s: f64,
    pub s3_s: f64,
    /// The process's peak resident memory at the end (VmHWM), and its resident memory
    /// just before the build started (clients built, nothing exported).
    pub peak_rss_kb: u64,
    pub start_rss_kb: u64,
    /// CPU seconds the process spent on the export (user and system, all its threads): the
    /// exporter's own work, answers' parsing included, whatever the emulator took.
    pub cpu_s: f64,
}

impl Run {
    fn waited(&self) -> f64 {
        self.store_s + self.s3_s
    }

    fn own(&self) -> f64 {
        (self.total_s - self.waited()).max(1e-9)
    }
}

/// `bench-export-one`: builds one export in this process and prints its [`Run`].
pub async fn one(args: &[String]) {
    let need = |name: &str| arg(args, name).unwrap_or_else(|| fail(format!("bench-export-one needs {name}")));
    let endpoint = need("--endpoint");
    let org = OrgId::parse(&need("--org")).unwrap_or_else(|| fail("--org is not an organization ID"));
    let export =
        kabinet::domain::ExportId::parse(&need("--export")).unwrap_or_else(|| fail("--export is not an export ID"));
    let aws = emulator::sdk_config(&endpoint).await;
    let mut config = Config::from_env();
    config.table = need("--table");
    config.exports_bucket = need("--bucket");
    config.s3_path_style = true;
    let ctx = Ctx::new(config, &aws);
    let start_rss_kb = status_kb("VmRSS");
    let cpu_before = cpu_seconds();
    let report = match kabinet::events::exporter::export(&ctx, &org, &export).await {
        Ok(Some(report)) => report,
        Ok(None) => fail(format!("export {export} was not built (not pending, or refused)")),
        Err(e) => fail(format!("export {export} failed: {e}")),
    };
    let run = Run {
        rows: report.rows,
        size: report.size,
        parts: report.parts,
        total_s: report.total.as_secs_f64(),
        store_s: report.store_wait.as_secs_f64(),
        s3_s: report.s3_wait.as_secs_f64(),
        peak_rss_kb: status_kb("VmHWM"),
        start_rss_kb,
        cpu_s: cpu_seconds() - cpu_before,
    };
    println!("{}", serde_json::to_string(&run).unwrap_or_else(|e| fail(e)));
}

/// Writes `items` with BatchWriteItem, trying again what the table leaves unprocessed.
async fn write_batch(db: &aws_sdk_dynamodb::Client, items: Vec<Item>) -> Result<(), String> {
    let mut pending = items
        .into_iter()
        .map(|item| {
            let put = PutRequest::builder().set_item(Some(item)).build().map_err(|e| e.to_string())?;
            Ok(WriteRequest::builder().put_request(put).build())
        })
        .collect::<Result<Vec<_>, String>>()?;
    for attempt in 0..10u32 {
        if pending.is_empty() {
            return Ok(());
        }
        let out = db
            .batch_write_item()
            .request_items(TABLE, std::mem::take(&mut pending))
            .send()
            .await
            .map_err(|e| format!("BatchWriteItem: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))?;
        pending = out.unprocessed_items.and_then(|mut u| u.remove(TABLE)).unwrap_or_default();
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(25 << attempt.min(6))).await;
        }
    }
    if pending.is_empty() {
        Ok(())
    } else {
        Err(format!("BatchWriteItem left {} items unprocessed", pending.len()))
    }
}

/// An organization written for the benchmark.
struct Seeded {
    org: Org,
    admin: Membership,
    /// Items written, and in how long.
    items: usize,
    took: Duration,
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
async fn seed_org(db: &aws_sdk_dynamodb::Client, members: usize, number: usize) -> Result<Seeded, String> {
    let started = Instant::now();
    let now = Timestamp::now();
    let org_id = OrgId::generate();
    let year = AcademicYear::current();
    let mut fixed: Vec<Item> = Vec::new();
    let mut class_ids = Vec::new();
    for (grade, letter) in seed::classes() {
        let name = ClassName::Graded { grade, letter: letter.to_string() };
        let class = Class::new(&org_id, &name, year, ClassSource::Manual, vec![]);
        fixed.push(items::class_item(&class).map_err(|e| e.to_string())?);
        fixed.push(items::class_name_item(&class));
        class_ids.push(class.id);
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
    })
    .map_err(|e| e.to_string())?;
    user.extend(items::user_key(&admin.user_id));
    fixed.push(user);
    for chunk in fixed.chunks(BATCH) {
        write_batch(db, chunk.to_vec()).await?;
    }

    // The members, BATCH an item and WRITERS calls at once, made as they are written;
    // each call answers the teachers and staff it wrote.
    let batches = members.div_ceil(BATCH);
    let (org_ref, classes) = (&org_id, &class_ids);
    let counts: Vec<Result<(u32, u32), String>> = futures::stream::iter((0..batches).map(|b| async move {
        let mut batch = Vec::with_capacity(BATCH);
        let (mut teachers, mut staff) = (0, 0);
        for i in b * BATCH..((b + 1) * BATCH).min(members) {
            let m = member(org_ref, i, classes, now);
            teachers += u32::from(m.has_role(Role::Teacher));
            staff += u32::from(m.has_role(Role::Staff));
            batch.push(items::member_item(&m).map_err(|e| e.to_string())?);
        }
        write_batch(db, batch).await?;
        Ok((teachers, staff))
    }))
    .buffer_unordered(WRITERS)
    .collect()
    .await;
    let (mut teachers, mut staff) = (0, 0);
    for c in counts {
        let (t, s) = c?;
        teachers += t;
        staff += s;
    }

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
    write_batch(db, vec![items::org_item(&org).map_err(|e| e.to_string())?]).await?;
    Ok(Seeded { org, admin, items: fixed.len() + members + 1, took: started.elapsed() })
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
    let audit =
        AuditEntry::new(&org.id, &actor, "export.request", "export", export.id.as_str()).as_admin(true).after(json!({
            "kind": export.kind, "format": export.format, "file_name": export.file_name,
        }));
    ctx.store().create_export(&export, &audit).await.map_err(|e| format!("creating the export: {e:?}"))?;
    Ok(export)
}

/// One measured build, with what the parent saw of it.
struct Measured {
    members: usize,
    format: ExportFormat,
    run: Run,
    /// The object's parts as S3 holds it (0: one PUT).
    parts: usize,
    /// The child's life, from spawn to exit.
    wall_s: f64,
    /// The emulator's own serving time during the child's life.
    emulator_s: f64,
}

/// Builds `export` in a child process and checks what it wrote.
async fn measure(ctx: &Ctx, endpoint: &str, s: &Seeded, export: &Export) -> Result<(Run, usize, f64, f64), String> {
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
    // One malloc arena, as the exporter's function runs (infra/template.yaml).
    let out = command
        .env("MALLOC_ARENA_MAX", "1")
        .args(["bench-export-one", "--endpoint", endpoint, "--table", TABLE])
        .args(["--bucket", &ctx.config().exports_bucket, "--org", s.org.id.as_str(), "--export", export.id.as_str()])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .await
        .map_err(|e| format!("starting the build: {e}"))?;
    let wall_s = started.elapsed().as_secs_f64();
    let (after, _) = emulator_time_and_rss(endpoint).await.unwrap_or_else(|e| fail(e));
    if !out.status.success() {
        return Err(format!("the build exited with {}", out.status));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The last line that is a JSON object (a profiler may write lines of its own).
    let line = stdout.lines().rev().find(|l| l.trim_start().starts_with('{')).unwrap_or_default();
    let run: Run = serde_json::from_str(line).map_err(|e| format!("the build's report {line:?}: {e}"))?;
    // The file is in the bucket with the size reported, and the export is ready.
    let head =
        ctx.s3().head_object().bucket(&ctx.config().exports_bucket).key(export.object_key()).send().await.map_err(
            |e| format!("HeadObject {}: {}", export.object_key(), aws_sdk_s3::error::DisplayErrorContext(&e)),
        )?;
    if head.content_length() != Some(run.size as i64) {
        return Err(format!("the object holds {:?} bytes, the build reported {}", head.content_length(), run.size));
    }
    // A multipart object's ETag ends in `-<parts>`; one sent in one PUT has none.
    let parts = head
        .e_tag()
        .and_then(|t| t.trim_matches('"').rsplit_once('-'))
        .and_then(|(_, n)| n.parse::<usize>().ok())
        .unwrap_or(0);
    let stored = ctx.store().export(&s.org.id, &export.id).await.map_err(|e| e.to_string())?;
    match stored {
        Some(e) if e.status == ExportStatus::Ready && e.rows == run.rows && e.size == run.size => {}
        other => return Err(format!("the export is not ready as reported: {other:?}")),
    }
    Ok((run, parts, wall_s, after - before))
}

impl Run {
    /// Rows per CPU second of the exporter's process: what one core does when the table
    /// and S3 answer at once (the answers' parsing is in it, which the waits hold).
    fn rows_per_cpu_s(&self) -> f64 {
        self.rows as f64 / self.cpu_s.max(0.01)
    }
}

/// Seeds each size in turn and builds its employees export as CSV and as XLSX.
pub async fn run(sizes: Vec<usize>) {
    if sizes.is_empty() || sizes.contains(&0) {
        fail("--members: sizes of at least 1");
    }
    let build = if cfg!(debug_assertions) {
        "a debug build: the exporter's own time is several times the release artifact's \
         (`make bench-export` runs the release build)"
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
        "Export benchmark: organizations of {sizes:?} teachers and staff, the employees export as CSV and \
         XLSX, each built in a process of its own; {build}."
    );
    let mut results: Vec<Measured> = Vec::new();
    for (n, &members) in sizes.iter().enumerate() {
        let seeded = seed_org(&db, members, n + 1).await.unwrap_or_else(|e| fail(e));
        let (_, emulator_rss) = emulator_time_and_rss(&em.endpoint).await.unwrap_or_else(|e| fail(e));
        eprintln!(
            "{members:>7} members: seeded in {:.1} s ({:.0} items/s); the emulator holds {:.0} MB",
            seeded.took.as_secs_f64(),
            seeded.items as f64 / seeded.took.as_secs_f64(),
            emulator_rss as f64 / 1e6
        );
        for (slot, format) in [ExportFormat::Csv, ExportFormat::Xlsx].into_iter().enumerate() {
            let export = request(&ctx, &seeded, format, slot as u32).await.unwrap_or_else(|e| fail(e));
            let (run, parts, wall_s, emulator_s) = measure(&ctx, &em.endpoint, &seeded, &export)
                .await
                .unwrap_or_else(|e| fail(format!("{members} members, {}: {e}", format.extension())));
            if run.rows != members as u64 {
                fail(format!("{members} members, {}: {} rows written", format.extension(), run.rows));
            }
            eprintln!(
                "{members:>7} members, {:<4}: {} rows, {:.2} MB in {} parts (reported: {}), {:.1} s (store \
                 {:.1} s, S3 {:.1} s; the emulator's own count {:.1} s); peak RSS {:.1} MB (at the start {:.1} MB)",
                format.extension(),
                run.rows,
                run.size as f64 / 1e6,
                parts,
                run.parts,
                run.total_s,
                run.store_s,
                run.s3_s,
                emulator_s,
                mb(run.peak_rss_kb),
                mb(run.start_rss_kb)
            );
            results.push(Measured { members, format, run, parts, wall_s, emulator_s });
        }
    }
    drop(em);
    report(&results, build);
}

fn report(results: &[Measured], build: &str) {
    println!(
        "\n| members | format | rows | size (MB) | parts | total s | emulator s (store+S3) | rows/s (total) | \
         rows/s (excluding the emulator) | peak RSS (MB) |"
    );
    println!("| ---: | :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for m in results {
        let r = &m.run;
        println!(
            "| {} | {} | {} | {:.2} | {} | {:.2} | {:.2} ({:.2}+{:.2}) | {:.0} | {:.0} | {:.1} |",
            m.members,
            m.format.extension(),
            r.rows,
            r.size as f64 / 1e6,
            m.parts,
            r.total_s,
            r.waited(),
            r.store_s,
            r.s3_s,
            r.rows as f64 / r.total_s.max(1e-9),
            r.rows as f64 / r.own(),
            mb(r.peak_rss_kb)
        );
    }
    let miscounted: Vec<String> = results
        .iter()
        .filter(|m| m.run.parts != m.parts)
        .map(|m| format!("{} {}: {} reported", m.members, m.format.extension(), m.run.parts))
        .collect();
    if !miscounted.is_empty() {
        println!(
            "\nParts are as S3 holds the object (its ETag); the exporter's report disagrees ({}).",
            miscounted.join("; ")
        );
    }
    println!(
        "\n| members | format | emulator's share of the build | emulator's own count (s) | exporter CPU s | rows per \
         CPU second | process life (s) | RSS before the build (MB) | peak RSS above it (MB) |"
    );
    println!("| ---: | :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for m in results {
        let r = &m.run;
        println!(
            "| {} | {} | {:.0}% | {:.2} | {:.2} | {:.0} | {:.2} | {:.1} | {:.1} |",
            m.members,
            m.format.extension(),
            100.0 * r.waited() / r.total_s.max(1e-9),
            m.emulator_s,
            r.cpu_s,
            r.rows_per_cpu_s(),
            m.wall_s,
            mb(r.start_rss_kb),
            mb(r.peak_rss_kb.saturating_sub(r.start_rss_kb))
        );
    }

    println!("\nGoals ({build}):");
    for format in [ExportFormat::Csv, ExportFormat::Xlsx] {
        let of: Vec<&Measured> = results.iter().filter(|m| m.format == format).collect();
        let (Some(small), Some(large)) = (of.iter().min_by_key(|m| m.members), of.iter().max_by_key(|m| m.members))
        else {
            continue;
        };
        if small.members == large.members {
            println!("- {}: one size only, no memory ratio", format.extension());
            continue;
        }
        let ratio = large.run.peak_rss_kb as f64 / small.run.peak_rss_kb.max(1) as f64;
        println!(
            "- {} peak RSS at {} members ÷ at {}: {:.1} MB ÷ {:.1} MB = {:.2} (goal ≤ {MEMORY_GOAL}): {}",
            format.extension(),
            large.members,
            small.members,
            mb(large.run.peak_rss_kb),
            mb(small.run.peak_rss_kb),
            ratio,
            if ratio <= MEMORY_GOAL { "met" } else { "NOT met" }
        );
    }
    for m in results.iter().filter(|m| m.format == ExportFormat::Csv) {
        let rate = m.run.rows as f64 / m.run.own();
        let strict = m.run.rows_per_cpu_s();
        let verdict = |r: f64| if r >= CSV_ROWS_GOAL { "met" } else { "NOT met" };
        println!(
            "- csv rows/s excluding the emulator at {} members: {:.0} (goal ≥ {:.0}): {}; rows per CPU second of \
             the exporter: {:.0}: {}",
            m.members,
            rate,
            CSV_ROWS_GOAL,
            verdict(rate),
            strict,
            verdict(strict)
        );
    }
    let total: f64 = results.iter().map(|m| m.run.total_s).sum();
    let waited: f64 = results.iter().map(|m| m.run.waited()).sum();
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
