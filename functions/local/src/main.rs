//! `kabinet-local`: the whole API on http://127.0.0.1:3000 with no AWS account, and the
//! dev tools around it (`kabinet-local --help` lists them). The benchmarks are
//! `kabinet-bench`'s (functions/bench).

use clap::{Parser, Subcommand};
use kabinet::config::Config;
use kabinet_local::{emulator, setup, tokens, Emulator, Gateway};

#[derive(Parser)]
#[command(
    name = "kabinet-local",
    about = "kabinet's API on http://127.0.0.1:3000 with no AWS account, and its dev tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the emulator (or use AWS_ENDPOINT_URL's) and serve the API (the default).
    Serve,
    /// Print a dev ID token.
    Token(TokenArgs),
    /// Regenerate infra/template.yaml and infra/stacks/ from the route table.
    Template,
    /// Write docs/cost.md from its inputs.
    Cost,
    /// The OpenAPI document, on stdout.
    Openapi {
        /// Write it into shared/assets/openapi.json (which is served) instead.
        #[arg(long)]
        write: bool,
    },
    /// A demo school through the API of a running `make dev`.
    Seed {
        /// The API's address (default: http://$KABINET_LOCAL_ADDR).
        #[arg(long)]
        api: Option<String>,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 8)]
        parallel: usize,
    },
}

#[derive(clap::Args)]
struct TokenArgs {
    #[arg(long, default_value = "admin@school.test")]
    email: String,
    /// The display name.
    #[arg(long)]
    name: Option<String>,
    /// The subject (default: dev-<email with - for @ and .>).
    #[arg(long)]
    sub: Option<String>,
    /// An email not verified.
    #[arg(long)]
    unverified: bool,
    /// Hours it is valid.
    #[arg(long, default_value_t = 12)]
    hours: i64,
}

fn token(args: TokenArgs) {
    let email = args.email;
    let sub = args.sub.unwrap_or_else(|| format!("dev-{}", email.replace(['@', '.'], "-")));
    let claims = tokens::DevClaims::new(&sub, Some(&email), args.name.as_deref(), !args.unverified, args.hours * 3600);
    println!("{}", tokens::mint(&tokens::secret_from_env(), &claims));
}

/// Rewrites the generated parts of the templates from the route table: the root's below
/// its marker and every nested stack's (a stack no longer in the table is removed).
fn template() {
    let root = emulator::repo_root();
    let result = (|| -> Result<(), String> {
        let path = root.join(kabinet_local::template::PATH);
        let current = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut files = vec![(kabinet_local::template::PATH.to_string(), kabinet_local::template::render(&current)?)];
        files.extend(kabinet_local::template::nested());
        let dir = root.join(kabinet_local::template::STACKS_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?.flatten() {
            let stale = !files.iter().any(|(p, _)| root.join(p) == entry.path());
            if stale && entry.path().extension().is_some_and(|e| e == "yaml") {
                std::fs::remove_file(entry.path()).map_err(|e| format!("{}: {e}", entry.path().display()))?;
                eprintln!("{}: removed (no such stack)", entry.path().display());
            }
        }
        for (file, new) in files {
            let path = root.join(&file);
            if std::fs::read_to_string(&path).ok().as_deref() == Some(new.as_str()) {
                continue;
            }
            std::fs::write(&path, &new).map_err(|e| format!("{}: {e}", path.display()))?;
            eprintln!("{file}: regenerated from the route table");
        }
        Ok(())
    })();
    if let Err(e) = result {
        eprintln!("kabinet-local template: {e}");
        std::process::exit(1);
    }
}

/// A demo school, made through the API of a running `make dev`.
async fn seed(api: Option<String>, parallel: usize) {
    let base = api.unwrap_or_else(|| {
        let addr = std::env::var("KABINET_LOCAL_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
        format!("http://{addr}")
    });
    let api = kabinet_local::seed::Api::new(&base, &tokens::secret_from_env());
    if reqwest::get(format!("{base}/v1/openapi.json")).await.is_err() {
        eprintln!("kabinet-local seed: no API at {base}: start it first with `make dev` (in another terminal)");
        std::process::exit(1);
    }
    let run = ulid::Ulid::new().to_string().to_lowercase()[20..].to_string();
    let number = 1 + (ulid::Ulid::new().random() % 900) as usize;
    eprintln!("Seeding «Школа №{number}» through {base}/v1 …");
    let started = std::time::Instant::now();
    let size = kabinet_local::seed::Size::SCHOOL;
    match kabinet_local::seed::school(&api, &run, number, size, parallel).await {
        Ok(school) => {
            let took = started.elapsed().as_secs_f64();
            println!(
                "{}: {} members, {} classes, {} requests in {took:.1} s\n\
                 organization: {}\n\n\
                 Sign in as (dev tokens, valid 12 hours):\n\
                 admin   {} <{}>\n  ADMIN={}\n\
                 teacher {} <{}>\n  TEACHER={}\n\
                 parent  {} <{}>\n  PARENT={}\n\n\
                 Try: curl -H \"Authorization: Bearer $ADMIN\" {base}/v1/orgs/{}/members",
                school.name,
                school.members,
                kabinet_local::seed::classes().len(),
                school.requests,
                school.org,
                school.admin.name,
                school.admin.email,
                school.admin.token,
                school.teacher.name,
                school.teacher.email,
                school.teacher.token,
                school.parent.name,
                school.parent.email,
                school.parent.token,
                school.org,
            );
        }
        Err(e) => {
            eprintln!("kabinet-local seed: {e}");
            std::process::exit(1);
        }
    }
}

/// Writes docs/cost.md from its inputs (kabinet_local::cost).
fn cost() {
    let root = emulator::repo_root();
    let result = kabinet_local::cost::render().and_then(|doc| {
        let path = root.join(kabinet_local::cost::PATH);
        std::fs::create_dir_all(path.parent().unwrap_or(&root)).map_err(|e| e.to_string())?;
        std::fs::write(&path, doc).map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => eprintln!("{}: written from its inputs", kabinet_local::cost::PATH),
        Err(e) => {
            eprintln!("kabinet-local cost: {e}");
            std::process::exit(1);
        }
    }
}

/// Prints the OpenAPI document built from the route table; with `--write`, rewrites the
/// committed one that `GET /v1/openapi.json` serves (kabinet::openapi::PATH) instead.
fn openapi(write: bool) {
    let rendered = kabinet::openapi::render().map_err(|e| e.to_string());
    let result = match rendered {
        Ok(json) if write => {
            let path = emulator::repo_root().join(kabinet::openapi::PATH);
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            let written = if json != current { std::fs::write(&path, &json).map(|()| true) } else { Ok(false) };
            written.map_err(|e| e.to_string()).map(|changed| {
                let state = if changed { "regenerated from the route table" } else { "already up to date" };
                eprintln!("{}: {state}", path.display());
            })
        }
        Ok(json) => {
            print!("{json}");
            Ok(())
        }
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        eprintln!("kabinet-local openapi: {e}");
        std::process::exit(1);
    }
}

#[tokio::main]
async fn main() {
    match Cli::parse().command {
        None | Some(Command::Serve) => serve().await,
        Some(Command::Token(args)) => token(args),
        Some(Command::Template) => template(),
        Some(Command::Cost) => cost(),
        Some(Command::Openapi { write }) => openapi(write),
        Some(Command::Seed { api, parallel }) => seed(api, parallel).await,
    }
}

/// Serves the API until Ctrl-C (or until the emulator it started fails).
async fn serve() {
    kabinet::telemetry::init();
    let addr = std::env::var("KABINET_LOCAL_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    // An emulator already running (AWS_ENDPOINT_URL) is used as it is; else one is started.
    // KABINET_DEV_STATE=<file>: the emulator's data is loaded from the file at start and
    // saved to it on Ctrl-C.
    let state = std::env::var("KABINET_DEV_STATE").ok().filter(|s| !s.trim().is_empty()).map(|s| {
        let path = std::path::PathBuf::from(s.trim());
        std::env::current_dir().map(|d| d.join(&path)).unwrap_or(path)
    });
    let (endpoint, mut emulator) = match std::env::var("AWS_ENDPOINT_URL") {
        Ok(e) => {
            if state.is_some() {
                eprintln!("kabinet-local: KABINET_DEV_STATE is ignored: the emulator at {e} is not started here");
            }
            (e, None)
        }
        Err(_) => match Emulator::start_with(emulator::Options { state: state.clone(), ..Default::default() }).await {
            Ok(em) => (em.endpoint.clone(), Some(em)),
            Err(e) => {
                eprintln!("kabinet-local: {e}");
                std::process::exit(1);
            }
        },
    };
    let aws = emulator::sdk_config(&endpoint).await;
    let mut config = Config::from_env();
    config.s3_path_style = true;
    if std::env::var("KABINET_API_URL").is_err() {
        // The links emails carry to the API (one-click unsubscribe) reach this server.
        config.api_url = format!("http://{addr}");
    }
    if let Err(e) = setup::ensure_resources(&aws, &config).await {
        eprintln!("kabinet-local: setting up the emulator failed: {e}");
        std::process::exit(1);
    }
    // Every route's AWS calls are checked against what it declares (as IAM does in AWS).
    let ctx = kabinet_local::access::checked_ctx(config, &aws);
    // The stream consumers, fed from the emulator's stream with the same handler code.
    tokio::spawn(kabinet_local::streams::run_notifier(ctx.clone(), aws.clone()));
    tokio::spawn(kabinet_local::streams::run_exporter(ctx.clone(), aws.clone()));
    tokio::spawn(kabinet_local::streams::run_importer(ctx.clone(), aws.clone()));
    // SES's bounces and complaints (the emulator's mailbox simulator), as EventBridge
    // hands them to the mail events' function.
    tokio::spawn(kabinet_local::streams::run_mail_events(ctx.clone(), endpoint.clone(), None));
    let origins: Vec<String> = std::env::var("KABINET_CORS_ORIGINS")
        .unwrap_or_else(|_| "*".into())
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("kabinet-local: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    let gateway = Gateway::new(ctx, tokens::secret_from_env(), origins)
        .with_local_mail(&endpoint)
        .with_docs(kabinet_local::docs_script());
    eprintln!(
        "\nkabinet API on http://{addr}/v1  (emulator at {endpoint})\n\
         OpenAPI:   curl http://{addr}/v1/openapi.json  (reference page: http://{addr}/docs)\n\
         Dev token: TOKEN=$(make -s token EMAIL=you@school.test NAME='Your Name')\n\
         Try:       curl -H \"Authorization: Bearer $TOKEN\" http://{addr}/v1/me\n\
         Mail sent: http://{addr}/_local/mail.html  (JSON: /_local/mail)\n\
         Ctrl-C stops everything.\n"
    );
    let kept = match (&state, &emulator) {
        (Some(path), Some(em)) if em.loaded_state() => {
            format!("Data:      loaded from {}; saved there again on Ctrl-C", path.display())
        }
        (Some(path), Some(_)) => format!("Data:      none saved yet; saved to {} on Ctrl-C", path.display()),
        _ => "Data:      in memory only (KABINET_DEV_STATE=.dev-state keeps it across restarts)".to_string(),
    };
    eprintln!("{kept}\n");
    // The emulator holds all the data: if it dies or hangs, say so at once and stop,
    // rather than answer every request with a 500.
    let emulator_failure = async {
        match emulator.as_mut() {
            Some(em) => em.failure().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = kabinet_local::serve(listener, gateway) => {}
        _ = tokio::signal::ctrl_c() => eprintln!("kabinet-local: stopping"),
        why = emulator_failure => {
            let lost = match &state {
                Some(path) => format!("what changed since it was last saved to {} is lost", path.display()),
                None => "its data is lost".to_string(),
            };
            eprintln!("\nkabinet-local: {why}; {lost}. Stopping: run `make dev` again.");
            std::process::exit(1);
        }
    }
    if let (Some(path), Some(em)) = (&state, &emulator) {
        match em.save_state().await {
            Ok(bytes) => eprintln!("kabinet-local: data saved to {} ({:.1} MB)", path.display(), bytes as f64 / 1e6),
            Err(e) => {
                eprintln!("kabinet-local: {e}; the previous saved state (if any) is kept");
                std::process::exit(1);
            }
        }
    }
}
