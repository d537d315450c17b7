//! What every benchmark runs on: an emulator of its own with the template's resources
//! ([`Stack`]), the measured work in a child process of this binary ([`Stack::measure`]
//! and [`child`]), its measures (CPU time, peak resident memory, and the emulator's own
//! serving seconds from `GET /_kabinet/stats`), and the report's tables.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use futures::future::BoxFuture;
use kabinet::config::Config;
use kabinet::domain::OrgId;
use kabinet::Ctx;
use kabinet_local::{emulator, setup, Emulator};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub type Item = HashMap<String, AttributeValue>;

/// Items a BatchWriteItem call writes (DynamoDB's maximum).
pub const BATCH: usize = 25;

/// Stops the benchmark with its reason.
pub fn fail(what: impl std::fmt::Display) -> ! {
    eprintln!("kabinet-bench: {what}");
    std::process::exit(1);
}

/// The build this is, for the report: what runs is `what` (the exporter, the importer).
pub fn build(what: &str, target: &str) -> String {
    if cfg!(debug_assertions) {
        format!(
            "a debug build: {what}'s own time is several times the release artifact's \
             (`make {target}` runs the release build)"
        )
    } else {
        "the release build (the profile of the Lambda artifact)".into()
    }
}

/// An emulator of the benchmark's own with the template's resources, its table named.
pub struct Stack {
    em: Emulator,
    pub aws: aws_config::SdkConfig,
    pub config: Config,
    pub ctx: Ctx,
    db: aws_sdk_dynamodb::Client,
}

impl Stack {
    pub async fn start(table: &str) -> Stack {
        let em = Emulator::start().await.unwrap_or_else(|e| fail(e));
        let aws = emulator::sdk_config(&em.endpoint).await;
        let mut config = Config::from_env();
        config.table = table.into();
        config.s3_path_style = true;
        setup::ensure_resources(&aws, &config).await.unwrap_or_else(|e| fail(e));
        let ctx = Ctx::new(config.clone(), &aws);
        let db = aws_sdk_dynamodb::Client::new(&aws);
        Stack { em, aws, config, ctx, db }
    }

    pub fn endpoint(&self) -> &str {
        &self.em.endpoint
    }

    /// What the emulator holds and has served (`GET /_kabinet/stats`).
    pub async fn stats(&self) -> Value {
        let answer = reqwest::get(format!("{}/_kabinet/stats", self.endpoint()))
            .await
            .unwrap_or_else(|e| fail(format!("emulator stats: {e}")));
        answer.json().await.unwrap_or(Value::Null)
    }

    /// The emulator's serving seconds so far (all operations) and its resident memory in
    /// bytes.
    pub async fn time_and_rss(&self) -> (f64, u64) {
        let stats = self.stats().await;
        let seconds = stats["operations"]
            .as_object()
            .map(|ops| ops.values().filter_map(|o| o["seconds"].as_f64()).sum())
            .unwrap_or(0.0);
        (seconds, stats["rss_bytes"].as_u64().unwrap_or(0))
    }

    /// The requests the emulator has served so far, by operation (`DynamoDB
    /// TransactWriteItems`, `PUT /<bucket>/<key>`, ...).
    pub async fn calls(&self) -> BTreeMap<String, u64> {
        let stats = self.stats().await;
        let Some(ops) = stats["operations"].as_object() else { return BTreeMap::new() };
        ops.iter().map(|(op, o)| (op.clone(), o["count"].as_u64().unwrap_or(0))).collect()
    }

    /// Writes `items` into the table as the store writes them, [`BATCH`] a call and
    /// `writers` calls at once.
    pub async fn write(&self, items: impl IntoIterator<Item = Item>, writers: usize) -> Result<(), String> {
        use futures::StreamExt;
        let mut items = items.into_iter();
        let batches = std::iter::from_fn(|| Some(items.by_ref().take(BATCH).collect::<Vec<_>>()))
            .take_while(|b| !b.is_empty())
            .map(|b| self.write_batch(b));
        let done: Vec<Result<(), String>> = futures::stream::iter(batches).buffer_unordered(writers).collect().await;
        done.into_iter().collect()
    }

    /// Writes at most [`BATCH`] items with BatchWriteItem, trying again what the table
    /// leaves unprocessed.
    pub async fn write_batch(&self, items: Vec<Item>) -> Result<(), String> {
        let table = &self.config.table;
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
            let out = self
                .db
                .batch_write_item()
                .request_items(table, std::mem::take(&mut pending))
                .send()
                .await
                .map_err(|e| format!("BatchWriteItem: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))?;
            pending = out.unprocessed_items.and_then(|mut u| u.remove(table)).unwrap_or_default();
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

    /// Runs `job` on `org`'s `id` in a child process of this binary (`kabinet-bench child`,
    /// one malloc arena as the workers' functions run; `KABINET_BENCH_WRAP=heaptrack` runs
    /// it under that command, whose memory then counts too). Every 30 seconds it shows the
    /// child's memory and what `progress` says. Answers the child's report and measures.
    pub async fn measure<R: DeserializeOwned>(
        &self,
        job: Job,
        org: &OrgId,
        id: &str,
        progress: impl Fn() -> BoxFuture<'static, Option<String>>,
    ) -> Result<Measured<R>, String> {
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
        let (before, _) = self.time_and_rss().await;
        let calls_before = self.calls().await;
        let started = Instant::now();
        let child = command
            .env("MALLOC_ARENA_MAX", "1")
            .args(["child", job.name(), "--endpoint", self.endpoint(), "--table", &self.config.table])
            .args(["--bucket", &self.config.exports_bucket, "--org", org.as_str(), "--id", id])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting the {}: {e}", job.name()))?;
        let pid = child.id();
        let output = child.wait_with_output();
        tokio::pin!(output);
        let out = loop {
            tokio::select! {
                out = &mut output => break out.map_err(|e| format!("waiting for the {}: {e}", job.name()))?,
                _ = tokio::time::sleep(Duration::from_secs(30)) => {
                    let status = pid.and_then(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok());
                    let kb = |field| status.as_deref().map_or(0, |s| status_field(s, field));
                    let said = progress().await.map(|p| format!("{p}; ")).unwrap_or_default();
                    eprintln!(
                        "    … {:.0} s: {said}VmHWM {:.1} MB, VmRSS {:.1} MB",
                        started.elapsed().as_secs_f64(),
                        mb(kb("VmHWM")),
                        mb(kb("VmRSS"))
                    );
                }
            }
        };
        let wall_s = started.elapsed().as_secs_f64();
        let (after, _) = self.time_and_rss().await;
        let calls = self
            .calls()
            .await
            .into_iter()
            .map(|(op, n)| {
                let was = calls_before.get(&op).copied().unwrap_or(0);
                (op, n.saturating_sub(was))
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        if !out.status.success() {
            return Err(format!("the {} exited with {}", job.name(), out.status));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        // The last line that is a JSON object (a profiler may write lines of its own).
        let line = stdout.lines().rev().find(|l| l.trim_start().starts_with('{')).unwrap_or_default();
        let said: Said<R> =
            serde_json::from_str(line).map_err(|e| format!("the {}'s report {line:?}: {e}", job.name()))?;
        Ok(Measured { report: said.report, process: said.process, wall_s, emulator_s: after - before, calls })
    }
}

/// What a child process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Job {
    /// Builds an export (the exporter's code).
    Export,
    /// Runs an import (the importer's code).
    Import,
}

impl Job {
    fn name(self) -> &'static str {
        match self {
            Job::Export => "export",
            Job::Import => "import",
        }
    }
}

/// The child's command line: where the emulator is, and which organization's job to run.
#[derive(Debug, clap::Args)]
pub struct ChildArgs {
    #[arg(long)]
    pub endpoint: String,
    #[arg(long)]
    pub table: String,
    #[arg(long)]
    pub bucket: String,
    #[arg(long, value_parser = |s: &str| OrgId::parse(s).ok_or("not an organization ID"))]
    pub org: OrgId,
    /// The export's or the import's ID.
    #[arg(long)]
    pub id: String,
}

/// The measured process's own figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Process {
    /// The job's time in the process.
    pub took_s: f64,
    /// The process's peak resident memory at the end (VmHWM), and its resident memory
    /// just before the job started (clients built, nothing done).
    pub peak_rss_kb: u64,
    pub start_rss_kb: u64,
    /// CPU seconds the process spent on the job (user and system, all its threads): its
    /// own work, the answers' parsing included, whatever the emulator took.
    pub cpu_s: f64,
}

/// What a child prints: the job's report and the process's figures.
#[derive(Serialize, Deserialize)]
struct Said<R> {
    report: R,
    process: Process,
}

/// One measured job, with what the parent saw of it.
pub struct Measured<R> {
    pub report: R,
    pub process: Process,
    /// The child's life, from spawn to exit.
    pub wall_s: f64,
    /// The emulator's own serving time during the child's life.
    pub emulator_s: f64,
    /// The requests the emulator served during the child's life, by operation (the
    /// parent's progress reads, one every 30 seconds, among them).
    pub calls: BTreeMap<String, u64>,
}

impl<R> Measured<R> {
    /// The same measures of what `f` makes of the report.
    pub fn map<S>(self, f: impl FnOnce(R) -> S) -> Measured<S> {
        Measured {
            report: f(self.report),
            process: self.process,
            wall_s: self.wall_s,
            emulator_s: self.emulator_s,
            calls: self.calls,
        }
    }

    /// `rows` per CPU second of the child: what one core does when the emulator answers at
    /// once.
    pub fn per_cpu_s(&self, rows: u64) -> f64 {
        rows as f64 / self.process.cpu_s.max(0.01)
    }

    pub fn peak_mb(&self) -> f64 {
        mb(self.process.peak_rss_kb)
    }

    /// The peak above the memory at the start, MB.
    pub fn grown_mb(&self) -> f64 {
        mb(self.process.peak_rss_kb.saturating_sub(self.process.start_rss_kb))
    }
}

/// `kabinet-bench child`: runs `job` on the organization named in this process with a
/// context of the emulator's, measures it, and prints its report and the measures as one
/// JSON line on stdout.
pub async fn child<R, F>(args: ChildArgs, job: impl FnOnce(Ctx, OrgId, String) -> F)
where
    R: Serialize,
    F: Future<Output = Result<R, String>>,
{
    let aws = emulator::sdk_config(&args.endpoint).await;
    let mut config = Config::from_env();
    config.table = args.table;
    config.exports_bucket = args.bucket;
    config.s3_path_style = true;
    let ctx = Ctx::new(config, &aws);
    let start_rss_kb = self_status("VmRSS");
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let report = job(ctx, args.org, args.id).await.unwrap_or_else(|e| fail(e));
    let process = Process {
        took_s: started.elapsed().as_secs_f64(),
        peak_rss_kb: self_status("VmHWM"),
        start_rss_kb,
        cpu_s: cpu_seconds() - cpu_before,
    };
    println!("{}", serde_json::to_string(&Said { report, process }).unwrap_or_else(|e| fail(e)));
}

/// A line of a `/proc/<pid>/status` text in kB (`VmHWM`, `VmRSS`); 0 when absent.
fn status_field(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .and_then(|l| l[field.len() + 1..].split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// A line of this process's `/proc/self/status` in kB.
fn self_status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status").map_or(0, |s| status_field(&s, field))
}

/// CPU seconds this process has used (user and system, all threads; `/proc/self/stat`
/// counts in USER_HZ, 100 a second on Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of the line (utime, stime): the 12th and 13th after the name.
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// kB as MB.
pub fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Prints a Markdown table (after a blank line): its columns' titles separated by `|`
/// (figures, right-aligned; a title starting with `<` is text, left-aligned), and a row
/// of `cells` per item of `rows`.
pub fn table<T>(columns: &str, rows: &[T], cells: impl Fn(&T) -> Vec<String>) {
    let columns: Vec<&str> = columns.split('|').map(str::trim).collect();
    let titles: Vec<&str> = columns.iter().map(|c| c.trim_start_matches('<')).collect();
    let rules: Vec<&str> = columns.iter().map(|c| if c.starts_with('<') { ":---" } else { "---:" }).collect();
    println!("\n| {} |", titles.join(" | "));
    println!("| {} |", rules.join(" | "));
    for row in rows {
        println!("| {} |", cells(row).join(" | "));
    }
}

/// The goal line of a memory that should stay flat as the input grows: the peak at the
/// largest size ÷ at the smallest, against `goal`. `sizes` are (size, peak kB).
pub fn flat_memory(what: &str, unit: &str, sizes: &[(usize, u64)], goal: f64) -> String {
    let (Some(small), Some(large)) = (sizes.iter().min_by_key(|s| s.0), sizes.iter().max_by_key(|s| s.0)) else {
        return format!("- {what}: nothing measured");
    };
    if small.0 == large.0 {
        return format!("- {what}: one size only, no memory ratio");
    }
    let ratio = large.1 as f64 / small.1.max(1) as f64;
    format!(
        "- {what} peak RSS at {} {unit} ÷ at {}: {:.1} MB ÷ {:.1} MB = {ratio:.2} (goal ≤ {goal}): {}",
        large.0,
        small.0,
        mb(large.1),
        mb(small.1),
        verdict(ratio <= goal)
    )
}

pub fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

/// The `p` quantile of sorted durations, in ms.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_field_is_read_in_kb() {
        let status = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        assert_eq!(status_field(status, "VmHWM"), 2048);
        assert_eq!(status_field(status, "VmRSS"), 1024);
        assert_eq!(status_field(status, "VmSwap"), 0);
    }

    #[test]
    fn a_flat_memory_is_met_within_its_goal() {
        assert!(flat_memory("csv", "members", &[(1000, 20_000), (100_000, 22_000)], 1.2).ends_with(": met"));
        assert!(flat_memory("csv", "members", &[(1000, 20_000), (100_000, 30_000)], 1.2).ends_with("NOT met"));
        assert!(flat_memory("csv", "members", &[(1000, 20_000)], 1.2).contains("one size only"));
    }
}
