//! Starts the project's serializing moto launcher (the `scripts/emulator` package) from the
//! project's venv on a free loopback port.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running emulator; stopped when dropped (and by itself when this process ends).
pub struct Emulator {
    pub endpoint: String,
    child: Child,
    state: Option<PathBuf>,
    loaded: bool,
}

/// How often the emulator is asked whether it still answers, and how many failed asks in
/// a row mean it does not.
const HEALTH_EVERY: std::time::Duration = std::time::Duration::from_secs(2);
const HEALTH_FAILURES: u32 = 3;

/// The repository root (this crate lives in `functions/local`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_else(|_| PathBuf::from("."))
}

/// How an emulator starts.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A state file: loaded at start when it exists, written by [`Emulator::save_state`].
    pub state: Option<PathBuf>,
    /// Each of the emulator's shortcuts (queries, answers, updates) is also taken moto's
    /// own way, and a difference fails the request (the test suite runs so).
    pub verify: bool,
}

impl Emulator {
    pub async fn start() -> Result<Emulator, String> {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Result<Emulator, String> {
        let root = repo_root();
        let python =
            std::env::var("KABINET_PYTHON").map(PathBuf::from).unwrap_or_else(|_| root.join(".venv/bin/python"));
        if !python.exists() {
            return Err(format!("{} not found: run `make venv` first", python.display()));
        }
        let mut command = Command::new(&python);
        command.arg(root.join("scripts/emulator")).args([
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--parent-pid",
            &std::process::id().to_string(),
        ]);
        if let Some(state) = &options.state {
            command.arg("--state").arg(state).args(["--schema", &kabinet::store::schema::fingerprint()]);
        }
        if options.verify {
            command.env("KABINET_EMULATOR_VERIFY", "1");
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("could not start the emulator: {e}"))?;
        let stdout = child.stdout.take().ok_or("emulator without stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut loaded = false;
        let port = loop {
            match lines.next_line().await {
                Ok(Some(line)) => {
                    if let Some(port) = line.strip_prefix("READY ") {
                        break port.trim().to_string();
                    }
                    if let Some(why) = line.strip_prefix("STATE REFUSED ") {
                        return Err(format!(
                            "the saved state is refused: {why}. Move the file away (or delete it) to start empty."
                        ));
                    }
                    loaded |= line.starts_with("STATE LOADED ");
                }
                Ok(None) => return Err("the emulator exited before it was ready".into()),
                Err(e) => return Err(format!("reading the emulator: {e}")),
            }
        };
        // Keep draining its stdout so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Emulator { endpoint: format!("http://127.0.0.1:{port}"), child, state: options.state, loaded })
    }

    /// Whether the emulator started from a saved state.
    pub fn loaded_state(&self) -> bool {
        self.loaded
    }

    /// Writes the emulator's data to its state file (all of it, atomically); answers the
    /// file's size in bytes.
    pub async fn save_state(&self) -> Result<u64, String> {
        let Some(path) = &self.state else { return Err("the emulator keeps no state file".into()) };
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(600))
            .build()
            .map_err(|e| e.to_string())?;
        let answer = client
            .post(format!("{}/_kabinet/state", self.endpoint))
            .send()
            .await
            .map_err(|e| format!("saving the state to {}: {e}", path.display()))?;
        if !answer.status().is_success() {
            return Err(format!("saving the state to {}: the emulator answered {}", path.display(), answer.status()));
        }
        let body: serde_json::Value =
            serde_json::from_str(&answer.text().await.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        Ok(body["bytes"].as_u64().unwrap_or(0))
    }

    /// The process ID of the emulator.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Resolves when the emulator has exited or stopped answering, with what happened, in
    /// words for the console. (Until then, never.)
    pub async fn failure(&mut self) -> String {
        let health = format!("{}/_kabinet/health", self.endpoint);
        let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build();
        let mut failed = 0;
        loop {
            tokio::select! {
                status = self.child.wait() => {
                    return match status {
                        Ok(s) => format!("the AWS emulator exited ({s})"),
                        Err(e) => format!("the AWS emulator is gone ({e})"),
                    };
                }
                _ = tokio::time::sleep(HEALTH_EVERY) => {}
            }
            let answered = match &client {
                Ok(c) => c.get(&health).send().await.is_ok_and(|r| r.status().is_success()),
                Err(_) => true,
            };
            failed = if answered { 0 } else { failed + 1 };
            if failed >= HEALTH_FAILURES {
                return format!("the AWS emulator stopped answering ({} checks in a row failed)", HEALTH_FAILURES);
            }
        }
    }
}

/// Does now what DynamoDB's TTL does in its own time (moto never does): removes the items
/// of `table` whose TTL is at or before `now` (Unix seconds), each with a `REMOVE` stream
/// record marked as the service's, as TTL's are. Answers how many went.
pub async fn expire_ttl(endpoint: &str, table: &str, now: i64) -> Result<u64, String> {
    let client =
        reqwest::Client::builder().timeout(std::time::Duration::from_secs(60)).build().map_err(|e| e.to_string())?;
    let answer = client
        .post(format!("{endpoint}/_kabinet/expire"))
        .json(&serde_json::json!({"table": table, "now": now}))
        .send()
        .await
        .map_err(|e| format!("expiring items: {e}"))?;
    if !answer.status().is_success() {
        return Err(format!("expiring items: the emulator answered {}", answer.status()));
    }
    let body: serde_json::Value =
        serde_json::from_str(&answer.text().await.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    Ok(body["removed"][table].as_u64().unwrap_or(0))
}

/// SDK settings for an emulator: fixed region and dummy credentials.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "kabinet-local"))
        .load()
        .await
}
