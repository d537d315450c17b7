//! Starts the project's serializing moto launcher (`scripts/emulator.py`) from the
//! project's venv on a free loopback port.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running emulator; stopped when dropped (and by itself when this process ends).
pub struct Emulator {
    pub endpoint: String,
    _child: Child,
}

/// The repository root (this crate lives in `functions/local`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_else(|_| PathBuf::from("."))
}

impl Emulator {
    pub async fn start() -> Result<Emulator, String> {
        let root = repo_root();
        let python =
            std::env::var("KABINET_PYTHON").map(PathBuf::from).unwrap_or_else(|_| root.join(".venv/bin/python"));
        if !python.exists() {
            return Err(format!("{} not found: run `make venv` first", python.display()));
        }
        let mut child = Command::new(&python)
            .arg(root.join("scripts/emulator.py"))
            .args(["--host", "127.0.0.1", "--port", "0", "--parent-pid", &std::process::id().to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("could not start the emulator: {e}"))?;
        let stdout = child.stdout.take().ok_or("emulator without stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let port = loop {
            match lines.next_line().await {
                Ok(Some(line)) => {
                    if let Some(port) = line.strip_prefix("READY ") {
                        break port.trim().to_string();
                    }
                }
                Ok(None) => return Err("the emulator exited before it was ready".into()),
                Err(e) => return Err(format!("reading the emulator: {e}")),
            }
        };
        // Keep draining its stdout so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Emulator { endpoint: format!("http://127.0.0.1:{port}"), _child: child })
    }
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
