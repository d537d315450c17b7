//! `kabinet-bench`: the benchmarks, each against an emulator of its own (docs/testing.md).
//! A benchmark module says what to set up, what to run and which figures to report; the
//! harness starts the emulator, runs the measured work in a child process of this binary,
//! takes its measures and prints the tables.

mod export;
mod harness;
mod import;
mod load;

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
    /// The local stack under load (make bench-local): p50/p99 of POST and GET members and
    /// the emulator's memory as the table grows.
    #[command(alias = "bench-load")]
    Load {
        /// Table items to measure at, grown with small schools through the API.
        #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000", value_parser = clap::value_parser!(u64).range(1..))]
        items: Vec<u64>,
        /// Requests of each kind at each size.
        #[arg(long, default_value_t = 200)]
        samples: usize,
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
        Command::Load { items, samples } => load::run(items, samples).await,
        Command::Export { members } => export::run(members).await,
        Command::Import { users } => import::run(users).await,
        Command::Child { job: harness::Job::Export, args } => harness::child(args, export::build).await,
        Command::Child { job: harness::Job::Import, args } => harness::child(args, import::import).await,
    }
}
