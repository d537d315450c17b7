//! The importer's benchmark (`make bench-import`, issue 15): at each size a generated
//! OneRoster 1.1 zip of that many users ([`journal`]). An organization with an admin is
//! written straight into the table, the zip is uploaded to the import's object key and
//! the import started as the store starts it; then the importer's own code runs it in a
//! child process (crate::harness), so that the process's peak resident memory (VmHWM) is
//! the import's. Reported: rows per second, rows per CPU second of the importer's
//! process, and the peak memory; then the same file imported again (every row
//! `unchanged`). Then the [`adversarial`] uploads, each imported the same way, their
//! outcome checked and their peak memory shown beside the clean file's.

mod adversarial;
mod journal;

use std::path::Path;

use futures::FutureExt;
use kabinet::domain::imports::{ImportCounts, RowProblem};
use kabinet::domain::{
    Actor, AuditEntry, Import, ImportStatus, Language, Membership, MembershipSource, Org, OrgId, OrgProfile, RoleGrant,
    Timestamp, UserId,
};
use kabinet::store::items;
use kabinet::Ctx;
use kabinet_local::seed::{self, Rng, STAFF};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::harness::{fail, flat_memory, mb, table, Job, Measured, Stack};
use kabinet::domain::AuditAction;

/// The benchmark's table (in its own emulator).
const TABLE: &str = "kabinet-bench-import";

/// The goal of issue 15: memory flat as the file grows.
const MEMORY_GOAL: f64 = 1.2;

/// What the child's import applied (`None`: the upload was refused, the import failed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Applied {
    /// Rows the importer read (all files).
    pub rows: u64,
    pub counts: ImportCounts,
}

/// A run's time budget, as the importer's Lambda function has it (its 900 s less the
/// margin); `KABINET_WORKER_BUDGET_S` sets another.
const RUN_BUDGET_S: u64 = 840;

/// The child's job: runs the import, each run within the function's time budget and
/// continued by the next, as the stream delivers them, until it finishes.
pub async fn import(ctx: Ctx, org: OrgId, import: String) -> Result<Option<Applied>, String> {
    use kabinet::events::importer::Ran;
    let import = kabinet::domain::ImportId::parse(&import).ok_or("not an import ID")?;
    let budget_s = std::env::var("KABINET_WORKER_BUDGET_S").ok().and_then(|s| s.parse().ok()).unwrap_or(RUN_BUDGET_S);
    let mut run = 0;
    loop {
        let budget = kabinet::roster::resume::Budget::seconds(budget_s);
        match kabinet::events::importer::import(&ctx, &org, &import, run, budget).await {
            Ok(Ran::Finished(applied)) => return Ok(applied.map(|a| Applied { rows: a.rows, counts: a.counts })),
            Ok(Ran::Continues(next)) => {
                eprintln!("  run {run} stopped after its {budget_s} s; run {next} continues");
                run = next;
            }
            Ok(Ran::Stale) => return Err(format!("import {import}: run {run} is not the latest")),
            Err(e) => return Err(format!("import {import} failed: {e}")),
        }
    }
}

/// What an import came to: the child's figures and the import as stored after it.
pub struct Imported {
    pub rows: u64,
    pub counts: ImportCounts,
    /// How the import ended (`done`, `failed`), why it failed, and its first refused rows.
    pub status: String,
    pub failure: Option<String>,
    pub errors: Vec<RowProblem>,
    /// The stored import's counts and how many refused rows it lists.
    stored_counts: ImportCounts,
    listed_errors: usize,
}

impl Imported {
    /// Whether a clean file's import is done as reported, with nothing refused.
    fn clean(&self) -> Result<(), String> {
        if self.status == "done" && self.stored_counts == self.counts && self.listed_errors == 0 {
            return Ok(());
        }
        Err(format!(
            "the import is {} with counts {:?} and {} refused rows listed (first: {:?})",
            self.status,
            self.stored_counts,
            self.listed_errors,
            self.errors.first()
        ))
    }
}

/// An organization written for the benchmark: its admin (with a profile) and nothing else.
struct Seeded {
    org: Org,
    admin: Membership,
}

/// Writes an organization with its admin (a deputy head, with a profile) as the store
/// writes them.
async fn seed_org(stack: &Stack, users: usize, number: usize) -> Result<Seeded, String> {
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
    let mut user_item = items::to_item(&json!({
        "id": user,
        "email": email,
        "email_verified": true,
        "name": name,
        "language": Language::Ru,
        "created_at": now,
        "updated_at": now,
    }))
    .map_err(|e| e.to_string())?;
    user_item.extend(items::user_key(&user));
    let profile = OrgProfile {
        name: format!("Школа №{number} (замер импорта, {users} человек в журнале)"),
        short_name: Some(format!("Школа №{number}")),
        ..Default::default()
    };
    let mut org = Org::new(profile, &user, now);
    org.id = org_id;
    org.member_count = 1;
    org.staff_count = 1;
    let member = items::member_item(&admin).map_err(|e| e.to_string())?;
    stack.write(vec![user_item, member, items::org_item(&org).map_err(|e| e.to_string())?], 1).await?;
    Ok(Seeded { org, admin })
}

/// Creates an import of the file, uploads it to the import's object key and starts it, as
/// the API does (the importer then runs it).
async fn start_import(ctx: &Ctx, s: &Seeded, path: &Path, bytes: u64, file_name: String) -> Result<Import, String> {
    let (org, admin) = (&s.org, &s.admin);
    let now = Timestamp::now();
    let import = Import::new(&org.id, Some(file_name), &admin.user_id, &admin.name, now);
    let actor = Actor { id: admin.user_id.clone(), name: admin.name.clone() };
    let audit = AuditEntry::new(&org.id, &actor, AuditAction::ImportCreate, "import", &import.id)
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
    let audit = AuditEntry::new(&org.id, &actor, AuditAction::ImportStart, "import", &import.id)
        .as_admin(true)
        .after(json!({ "file_name": import.file_name, "size": bytes, "invite": false }));
    ctx.store()
        .start_import(&import, false, &admin.user_id, Timestamp::now(), &audit)
        .await
        .map_err(|e| format!("starting the import: {e:?}"))?;
    Ok(import)
}

/// Runs `import` in a child process (showing its progress every 30 seconds) and reads
/// what it came to.
async fn measure(stack: &Stack, import: &Import) -> Result<Measured<Imported>, String> {
    let progress = || {
        let (ctx, org, id) = (stack.ctx.clone(), import.org_id.clone(), import.id.clone());
        async move {
            let i = ctx.store().import(&org, &id).await.ok().flatten()?;
            let p = i.progress.map(|p| format!("{} row {}", p.file, p.rows)).unwrap_or_default();
            let c = &i.counts;
            let done = c.created + c.updated + c.unchanged + c.deleted + c.skipped + c.errors;
            Some(format!("{p}; {done} rows applied"))
        }
        .boxed()
    };
    let m: Measured<Option<Applied>> = stack.measure(Job::Import, &import.org_id, import.id.as_str(), progress).await?;
    let stored = match stack.ctx.store().import(&import.org_id, &import.id).await {
        Ok(Some(i)) => i,
        Ok(None) => return Err(format!("import {} is gone", import.id)),
        Err(e) => return Err(format!("reading import {}: {e}", import.id)),
    };
    if m.report.is_none() && stored.status != ImportStatus::Failed {
        return Err(format!("import {} was not run: it is {:?}", import.id, stored.status));
    }
    let status = serde_json::to_value(stored.status).ok().and_then(|v| v.as_str().map(str::to_owned));
    Ok(m.map(|applied| Imported {
        rows: applied.as_ref().map_or(0, |a| a.rows),
        counts: applied.map_or_else(|| stored.counts.clone(), |a| a.counts),
        status: status.unwrap_or_default(),
        failure: stored.failure.clone(),
        errors: stored.errors.iter().take(5).cloned().collect(),
        stored_counts: stored.counts.clone(),
        listed_errors: stored.errors.len(),
    }))
}

/// One measured import of a clean journal.
struct Row {
    users: usize,
    again: bool,
    zip_bytes: u64,
    all_rows: u64,
    m: Measured<Imported>,
}

impl Row {
    fn rows_per_s(&self) -> f64 {
        self.m.report.rows as f64 / self.m.process.took_s.max(1e-9)
    }

    fn rows_per_cpu_s(&self) -> f64 {
        self.m.per_cpu_s(self.m.report.rows)
    }

    /// The emulator's requests during the import per row read: all, and DynamoDB's by
    /// operation (most first).
    fn calls_per_row(&self) -> (f64, String) {
        let rows = self.m.report.rows.max(1) as f64;
        let all: u64 = self.m.calls.values().sum();
        let mut dynamo: Vec<(&str, u64)> =
            self.m.calls.iter().filter_map(|(op, n)| Some((op.strip_prefix("DynamoDB ")?, *n))).collect();
        dynamo.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let by_op: Vec<String> = dynamo.iter().map(|(op, n)| format!("{op} {:.3}", *n as f64 / rows)).collect();
        (all as f64 / rows, by_op.join(", "))
    }
}

/// Generates each size's journal in turn, imports it into an organization of its own,
/// then imports it again; then each adversarial upload.
pub async fn run(sizes: Vec<usize>, adversarial: bool) {
    let build = crate::harness::build("the importer", "bench-import");
    let stack = Stack::start(TABLE).await;
    eprintln!(
        "Import benchmark: OneRoster 1.1 zips of {sizes:?} users, each imported into an organization of its own \
         and then again, each import in a process of its own; {build}."
    );
    let mut rows: Vec<Row> = Vec::new();
    for (k, &users) in sizes.iter().enumerate() {
        let generated = journal::generate(users).unwrap_or_else(|e| fail(e));
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
        let seeded = seed_org(&stack, users, k + 1).await.unwrap_or_else(|e| fail(e));
        let mut first: Option<ImportCounts> = None;
        for again in [false, true] {
            let name = format!("journal-{users}.zip");
            let import = start_import(&stack.ctx, &seeded, &generated.path.0, generated.zip_bytes, name)
                .await
                .unwrap_or_else(|e| fail(e));
            let pass = if again { "again" } else { "first" };
            let m = measure(&stack, &import).await.unwrap_or_else(|e| fail(format!("{users} users, {pass}: {e}")));
            if let Err(e) = m.report.clean() {
                fail(format!("{users} users, {pass}: {e}"));
            }
            let (_, emulator_rss) = stack.time_and_rss().await;
            let row = Row { users, again, zip_bytes: generated.zip_bytes, all_rows: generated.all_rows, m };
            let (r, p) = (&row.m.report, &row.m.process);
            eprintln!(
                "{users:>7} users, {pass:<5}: {} rows in {:.1} s ({:.0} rows/s; the emulator's own count {:.1} s); \
                 {:.1} CPU s ({:.0} rows per CPU s); peak RSS {:.1} MB (at the start {:.1} MB); the emulator holds \
                 {:.0} MB",
                r.rows,
                p.took_s,
                row.rows_per_s(),
                row.m.emulator_s,
                p.cpu_s,
                row.rows_per_cpu_s(),
                row.m.peak_mb(),
                mb(p.start_rss_kb),
                emulator_rss as f64 / 1e6
            );
            let (per_row, by_op) = row.calls_per_row();
            eprintln!("{users:>7} users, {pass:<5}: {per_row:.3} calls per row (DynamoDB: {by_op})");
            // The figures are shown before the counts are checked.
            if r.rows != generated.read_rows {
                fail(format!("{users} users, {pass}: {} rows read of {}", r.rows, generated.read_rows));
            }
            if let Err(e) = generated.check(&r.counts, first.as_ref()) {
                fail(format!("{users} users, {pass}: {e}"));
            }
            first = Some(r.counts.clone());
            rows.push(row);
        }
    }
    let mut inputs = Vec::new();
    let uploads: &[_] = if adversarial { &adversarial::ALL } else { &[] };
    for (k, make) in uploads.iter().enumerate() {
        let input = make().unwrap_or_else(|e| fail(e));
        eprintln!(
            "{}: an upload of {:.2} MB ({:.1} MB unpacked), generated in {:.1} s",
            input.name,
            input.upload_bytes as f64 / 1e6,
            input.unpacked_bytes as f64 / 1e6,
            input.took.as_secs_f64()
        );
        let seeded = seed_org(&stack, 0, sizes.len() + k + 1).await.unwrap_or_else(|e| fail(e));
        let import = start_import(&stack.ctx, &seeded, &input.path.0, input.upload_bytes, input.file_name.into())
            .await
            .unwrap_or_else(|e| fail(e));
        let m = measure(&stack, &import).await.unwrap_or_else(|e| fail(format!("{}: {e}", input.name)));
        eprintln!(
            "{}: {} in {:.1} s ({:.1} CPU s); peak RSS {:.1} MB",
            input.name,
            adversarial::outcome(&m.report),
            m.process.took_s,
            m.process.cpu_s,
            m.peak_mb()
        );
        // The figures are shown before the outcome is checked.
        if let Err(e) = input.check(&m.report) {
            fail(format!("{}: {e}", input.name));
        }
        inputs.push((input, m));
    }
    drop(stack);
    report(&rows, &build);
    if adversarial {
        adversarial::report(&inputs, &rows);
    }
}

fn report(rows: &[Row], build: &str) {
    let columns = "users | zip (bytes) | rows in the zip | rows read | wall s | rows/s | rows per CPU s \
                   | peak RSS (MB) | re-run wall s | re-run rows/s | re-run rows per CPU s | re-run peak RSS (MB)";
    let first: Vec<&Row> = rows.iter().filter(|r| !r.again).collect();
    table(columns, &first, |r| {
        let again = rows.iter().find(|a| a.again && a.users == r.users);
        let cell = |f: &dyn Fn(&Row) -> String| again.map(f).unwrap_or_else(|| "–".into());
        vec![
            r.users.to_string(),
            r.zip_bytes.to_string(),
            r.all_rows.to_string(),
            r.m.report.rows.to_string(),
            format!("{:.1}", r.m.process.took_s),
            format!("{:.0}", r.rows_per_s()),
            format!("{:.0}", r.rows_per_cpu_s()),
            format!("{:.1}", r.m.peak_mb()),
            cell(&|a| format!("{:.1}", a.m.process.took_s)),
            cell(&|a| format!("{:.0}", a.rows_per_s())),
            cell(&|a| format!("{:.0}", a.rows_per_cpu_s())),
            cell(&|a| format!("{:.1}", a.m.peak_mb())),
        ]
    });
    let columns = "users | <pass | emulator's own count (s) | emulator's share | importer CPU s | process life (s) \
                   | ms per row | RSS before the import (MB) | peak RSS above it (MB)";
    table(columns, rows, |r| {
        let p = &r.m.process;
        vec![
            r.users.to_string(),
            if r.again { "re-run" } else { "first" }.to_string(),
            format!("{:.1}", r.m.emulator_s),
            format!("{:.0}%", 100.0 * r.m.emulator_s / p.took_s.max(1e-9)),
            format!("{:.1}", p.cpu_s),
            format!("{:.1}", r.m.wall_s),
            format!("{:.2}", 1000.0 * p.took_s / r.m.report.rows.max(1) as f64),
            format!("{:.1}", mb(p.start_rss_kb)),
            format!("{:.1}", r.m.grown_mb()),
        ]
    });
    let columns = "users | <pass | calls per row | <DynamoDB calls per row by operation";
    table(columns, rows, |r| {
        let (per_row, by_op) = r.calls_per_row();
        vec![r.users.to_string(), if r.again { "re-run" } else { "first" }.to_string(), format!("{per_row:.3}"), by_op]
    });
    println!("\nGoals ({build}):");
    for (again, pass) in [(false, "first import"), (true, "re-run")] {
        let sizes: Vec<(usize, u64)> =
            rows.iter().filter(|r| r.again == again).map(|r| (r.users, r.m.process.peak_rss_kb)).collect();
        println!("{}", flat_memory(pass, "users", &sizes, MEMORY_GOAL));
    }
    println!(
        "\nRows/s is rows read (academicSessions, classes, users and enrollments; manifest.csv and orgs.csv are not \
         read) ÷ the import's time in the child, waits on the emulator included: a chunk of rows is one batch read \
         and a few transactions, and the emulator serves one request at a time. Rows per CPU second counts the \
         importer's process only (/proc/self/stat): what one core does when the table answers at once. Each import \
         was checked done, with no refused row and the counts of the file (every row applied or skipped: scheduled \
         classes become courses where the importer makes them; the re-run: every applied row unchanged)."
    );
}
