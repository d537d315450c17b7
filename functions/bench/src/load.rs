//! The local stack's load benchmark (`make bench-local`): a stack of its own (emulator,
//! gateway, notifier, as `make dev` runs them) filled with schools through the API, and at
//! each size asked for (items in the table) the latency of a write (`POST members`) and
//! a read (`GET members`, first page of a school), and the emulator's memory.
//!
//!   kabinet-bench load [--items 1000,10000,100000] [--samples 200]

use std::time::Duration;

use kabinet_local::seed::{self, Api, Size};
use kabinet_local::Gateway;
use serde_json::json;

use crate::harness::{fail, percentile, table, Stack};

const SECRET: &str = "bench-secret";

/// A small school (40 students, one a class, their parents, 14 teachers and staff: about
/// 450 items): the unit the table grows by.
const UNIT: Size = Size { per_class: 1, teachers: 10, staff: 4 };

impl Stack {
    /// (items in the table, the emulator's resident memory in bytes).
    async fn items_and_rss(&self) -> (u64, u64) {
        let stats = self.stats().await;
        (stats["tables"][&self.config.table]["items"].as_u64().unwrap_or(0), stats["rss_bytes"].as_u64().unwrap_or(0))
    }

    /// Waits (up to five minutes) until the notifier has read the stream, so that the
    /// measurement is not one of the notifier catching up; answers the seconds waited.
    async fn drain(&self) -> f64 {
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_secs(300) {
            if self.stats().await["tables"][&self.config.table]["stream_records"].as_u64().unwrap_or(0) < 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        started.elapsed().as_secs_f64()
    }
}

struct Row {
    items: u64,
    write: (f64, f64),
    read: (f64, f64),
    rss_mb: f64,
    seeded_in: f64,
}

/// Measures at each of `targets` items, `samples` requests of each kind.
pub async fn run(targets: Vec<u64>, samples: usize) {
    let stack = Stack::start("kabinet-bench").await;
    let ctx = kabinet_local::access::checked_ctx(stack.config.clone(), &stack.aws);
    tokio::spawn(kabinet_local::streams::run_notifier(ctx.clone(), stack.aws.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| fail(e));
    let base = format!("http://{}", listener.local_addr().unwrap_or_else(|e| fail(e)));
    tokio::spawn(kabinet_local::serve(
        listener,
        Gateway::new(ctx, SECRET.into(), vec![]).with_local_mail(stack.endpoint()),
    ));
    let api = Api::new(&base, SECRET);
    let (_, rss_start) = stack.items_and_rss().await;
    eprintln!(
        "Load benchmark: {samples} sequential POST members and GET members at {targets:?} items; \
         the emulator starts at {:.0} MB",
        rss_start as f64 / 1e6
    );

    // The writes go to an organization of their own; the reads page the first school.
    let measurer = api.person("bench-admin", "bench-admin@school.test", "Замеры Нагрузки", 12);
    api.call(&measurer, "GET", "/me", None).await.unwrap_or_else(|e| fail(e));
    let writes_org =
        api.call(&measurer, "POST", "/orgs", Some(json!({"name": "Замеры"}))).await.unwrap_or_else(|e| fail(e))["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
    let mut schools = Vec::new();
    let mut rows = Vec::new();
    let mut written = 0usize;
    for target in targets {
        let started = std::time::Instant::now();
        loop {
            let (items, _) = stack.items_and_rss().await;
            if items >= target && !schools.is_empty() {
                break;
            }
            let school = seed::school(&api, "bench", schools.len() + 1, UNIT, 4).await.unwrap_or_else(|e| fail(e));
            schools.push(school);
        }
        let seeded_in = started.elapsed().as_secs_f64();
        let drained_in = stack.drain().await;
        // The size measured at: the table as the measurement starts (its writes add more).
        let (items, _) = stack.items_and_rss().await;
        let reads_school = &schools[0];

        let mut writes = Vec::with_capacity(samples);
        let mut reads = Vec::with_capacity(samples);
        let path = format!("/orgs/{writes_org}/members");
        for _ in 0..samples {
            written += 1;
            let p =
                api.person(&format!("bench-w{written}"), &format!("w{written}@bench.test"), "Иванов Иван Иванович", 1);
            api.call(&p, "GET", "/me", None).await.unwrap_or_else(|e| fail(e));
            let body = json!({"user_id": p.sub, "roles": [{"role": "teacher", "position": "Учитель"}]});
            let (_, took) = api.timed(&measurer, "POST", &path, Some(body)).await.unwrap_or_else(|e| fail(e));
            writes.push(took);
        }
        let read_path = format!("/orgs/{}/members?limit=50", reads_school.org);
        for _ in 0..samples {
            let (_, took) = api.timed(&reads_school.admin, "GET", &read_path, None).await.unwrap_or_else(|e| fail(e));
            reads.push(took);
        }
        writes.sort();
        reads.sort();
        let (_, rss) = stack.items_and_rss().await;
        let row = Row {
            items,
            write: (percentile(&writes, 0.5), percentile(&writes, 0.99)),
            read: (percentile(&reads, 0.5), percentile(&reads, 0.99)),
            rss_mb: rss as f64 / 1e6,
            seeded_in,
        };
        eprintln!(
            "{:>8} items ({} schools, seeded in {:.0} s, the notifier done {:.0} s later): POST members p50 \
             {:.1} ms p99 {:.1} ms; GET members p50 {:.1} ms p99 {:.1} ms; emulator RSS {:.0} MB",
            row.items,
            schools.len(),
            row.seeded_in,
            drained_in,
            row.write.0,
            row.write.1,
            row.read.0,
            row.read.1,
            row.rss_mb
        );
        rows.push(row);
    }

    table("items | POST members p50 / p99 | GET members p50 / p99 | emulator RSS", &rows, |r| {
        vec![
            r.items.to_string(),
            format!("{:.1} / {:.1} ms", r.write.0, r.write.1),
            format!("{:.1} / {:.1} ms", r.read.0, r.read.1),
            format!("{:.0} MB", r.rss_mb),
        ]
    });
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        println!(
            "\nFrom {} to {} items: write p50 x{:.2}, read p50 x{:.2}; emulator RSS {:.0} MB -> {:.0} MB \
             (started at {:.0} MB).",
            first.items,
            last.items,
            last.write.0 / first.write.0,
            last.read.0 / first.read.0,
            first.rss_mb,
            last.rss_mb,
            rss_start as f64 / 1e6
        );
    }
}
