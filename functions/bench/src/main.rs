//! `kabinet-bench`: the benchmarks, each against an emulator of its own (docs/testing.md).
//! A benchmark module says what to set up, what to run and which figures to report; the
//! harness starts the emulator, runs the measured work in a child process of this binary,
//! takes its measures and prints the tables.

mod export;
mod harness;
mod import;
mod load;
mod mix;

use clap::builder::TypedValueParser;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "kabinet-bench", about = "kabinet's benchmarks, each against an emulator of its own")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The local stack under load (make bench-load). By default, as the table grows: p50/p99
    /// of POST and GET members and the emulator's memory. With --clients, concurrent: that
    /// many people at once doing a school day's mix for --seconds; requests/s, and per route
    /// family p50/p99/max, 4xx and 5xx (with --faults, a second round with faults on).
    #[command(alias = "bench-load")]
    Load {
        /// Table items to measure at, grown with small schools through the API.
        #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000", value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "clients")]
        items: Vec<u64>,
        /// Requests of each kind at each size.
        #[arg(long, default_value_t = 200, conflicts_with = "clients")]
        samples: usize,
        /// Concurrent mode: clients at once (each a person doing the mix, no pauses).
        #[arg(long, value_parser = sizes(1))]
        clients: Option<usize>,
        /// Concurrent mode: seconds a round lasts.
        #[arg(long, default_value_t = 120, requires = "clients", value_parser = clap::value_parser!(u64).range(1..))]
        seconds: u64,
        /// Concurrent mode: schools seeded (about 1,850 members each, about a minute each).
        #[arg(long, default_value_t = 1, requires = "clients", value_parser = sizes(1))]
        schools: usize,
        /// Concurrent mode: the API to load (a running `make dev`) instead of a stack of
        /// its own.
        #[arg(long, requires = "clients")]
        url: Option<String>,
        /// Concurrent mode with --url: its emulator (default AWS_ENDPOINT_URL), for the
        /// faults and its stats.
        #[arg(long, requires = "url")]
        emulator: Option<String>,
        /// Concurrent mode: a second round with the emulator's faults set to this
        /// (KABINET_EMULATOR_FAULTS's form, through PUT /_kabinet/faults).
        #[arg(long, requires = "clients")]
        faults: Option<String>,
    },
    /// The exporter (make bench-export): the employees export as CSV and XLSX of an
    /// organization of each size, each built in a child process.
    #[command(alias = "bench-export")]
    Export {
        /// Teachers and staff of each organization.
        #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000", value_parser = sizes(1))]
        members: Vec<usize>,
    },
    /// The importer (make bench-import): a OneRoster zip of each size imported twice, then
    /// the adversarial uploads, each import in a child process.
    #[command(alias = "bench-import")]
    Import {
        /// Users of each generated journal.
        #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000", value_parser = sizes(25))]
        users: Vec<usize>,
        /// The clean journals only, without the adversarial uploads (`make bench-import
        /// ADVERSARIAL=no`).
        #[arg(long)]
        no_adversarial: bool,
    },
    /// One measured job, in the process the benchmark started for it (one JSON line on
    /// stdout).
    #[command(hide = true)]
    Child {
        job: harness::Job,
        #[command(flatten)]
        args: harness::ChildArgs,
    },
}

/// A size of at least `min`.
fn sizes(min: u64) -> impl TypedValueParser<Value = usize> {
    clap::value_parser!(u64).range(min..).map(|n| n as usize)
}

#[tokio::main]
async fn main() {
    match Cli::parse().command {
        Command::Load { clients: Some(clients), seconds, schools, url, emulator, faults, .. } => {
            mix::run(mix::Options { clients, seconds, schools, url, emulator, faults }).await
        }
        Command::Load { items, samples, .. } => load::run(items, samples).await,
        Command::Export { members } => export::run(members).await,
        Command::Import { users, no_adversarial } => import::run(users, !no_adversarial).await,
        Command::Child { job: harness::Job::Export, args } => harness::child(args, export::build).await,
        Command::Child { job: harness::Job::Import, args } => harness::child(args, import::import).await,
    }
}
