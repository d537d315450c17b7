//! What the benchmarks measure of their own process (memory, CPU time) and of the
//! emulator (its serving time and memory), and their command-line arguments.

use serde_json::Value;

/// The value after `name` in `args` (`--org k7m3xq9pza`).
pub fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

/// A line of `/proc/self/status` in kB (`VmHWM`, `VmRSS`); 0 when unreadable.
pub fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
                .and_then(|l| l[field.len() + 1..].split_whitespace().next().and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// CPU seconds this process has used (user and system, all threads; `/proc/self/stat`
/// counts in USER_HZ, 100 a second on Linux).
pub fn cpu_seconds() -> f64 {
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

/// What the emulator holds and has served (`GET /_kabinet/stats`).
pub async fn emulator_stats(endpoint: &str) -> Result<Value, String> {
    let answer =
        reqwest::get(format!("{endpoint}/_kabinet/stats")).await.map_err(|e| format!("emulator stats: {e}"))?;
    Ok(answer.json().await.unwrap_or(Value::Null))
}

/// The emulator's serving seconds so far (all operations) and its resident memory in bytes.
pub async fn emulator_time_and_rss(endpoint: &str) -> Result<(f64, u64), String> {
    let stats = emulator_stats(endpoint).await?;
    let seconds = stats["operations"]
        .as_object()
        .map(|ops| ops.values().filter_map(|o| o["seconds"].as_f64()).sum())
        .unwrap_or(0.0);
    Ok((seconds, stats["rss_bytes"].as_u64().unwrap_or(0)))
}
