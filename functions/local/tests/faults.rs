//! `make dev`'s console tells when the emulator (which holds all the data) dies, and the
//! local stack stops rather than answer every request with a 500.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The processes whose parent is `pid` (from /proc).
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else { continue };
        // pid (comm) state ppid ...: comm may hold spaces, so split after its last ')'.
        let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

#[test]
fn the_console_says_when_the_emulator_dies_and_the_stack_stops() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut dev = Command::new(env!("CARGO_BIN_EXE_kabinet-local"))
        .env("KABINET_LOCAL_ADDR", format!("127.0.0.1:{port}"))
        .env_remove("AWS_ENDPOINT_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kabinet-local");
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = dev.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |needle: &str, within: Duration| -> Option<String> {
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return Some(line),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    };
    assert!(wait_for("kabinet API on", Duration::from_secs(60)).is_some(), "kabinet-local did not start");
    let emulators = children(dev.id());
    assert_eq!(emulators.len(), 1, "one emulator process under kabinet-local: {emulators:?}");
    Command::new("kill").args(["-9", &emulators[0].to_string()]).status().unwrap();

    let said = wait_for("AWS emulator", Duration::from_secs(10));
    let said = said.expect("the console says the emulator is gone");
    assert!(said.contains("its data is lost") && said.contains("make dev"), "{said}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = dev.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "kabinet-local kept running without its emulator");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!status.success(), "it stops with a failure status");
}

/// A `make dev` of its own (kabinet-local on a free port), its console lines on a channel.
struct Dev {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    base: String,
}

impl Dev {
    fn start(state: &std::path::Path) -> Dev {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_kabinet-local"))
            .env("KABINET_LOCAL_ADDR", format!("127.0.0.1:{port}"))
            .env("KABINET_DEV_STATE", state)
            .env_remove("AWS_ENDPOINT_URL")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kabinet-local");
        let (tx, lines) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Dev { child, lines, base: format!("http://127.0.0.1:{port}") }
    }

    /// The console's lines until one holds `needle` (that one last), or all it said in
    /// `within` when none does.
    fn until(&self, needle: &str, within: Duration) -> (bool, Vec<String>) {
        let deadline = Instant::now() + within;
        let mut said = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(needle);
                    said.push(line);
                    if found {
                        return (true, said);
                    }
                }
                Err(_) => break,
            }
        }
        (false, said)
    }

    /// Ctrl-C (SIGINT to kabinet-local), then its exit status.
    fn stop(mut self) -> (std::process::ExitStatus, Vec<String>) {
        Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().unwrap();
        let status = self.child.wait().unwrap();
        // Everything it said up to its exit: the reader thread forwards the last lines
        // after the exit, and ends (closing the channel) at the end of its stderr.
        let mut said = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(10)) {
            said.push(line);
        }
        (status, said)
    }
}

fn http(method: &str, url: &str, token: &str, body: Option<&str>) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let mut rb = client.request(method.parse().unwrap(), url).bearer_auth(token);
        if let Some(b) = body {
            rb = rb.header("content-type", "application/json").body(b.to_string());
        }
        let r = rb.send().await.expect("request");
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

#[test]
fn with_kabinet_dev_state_the_data_outlives_a_restart_and_a_foreign_state_is_refused() {
    let dir = std::env::temp_dir().join(format!("kabinet-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("dev-state");
    let _ = std::fs::remove_file(&state);
    let claims = kabinet_local::tokens::DevClaims::new("dev-keeps", Some("keeps@school.test"), Some("Анна"), true, 600);
    let token = kabinet_local::tokens::mint(&kabinet_local::tokens::secret_from_env(), &claims);

    let dev = Dev::start(&state);
    let (up, said) = dev.until("Data:", Duration::from_secs(60));
    assert!(up, "kabinet-local did not start: {said:?}");
    assert!(said.last().unwrap().contains("none saved yet"), "{said:?}");
    let (status, body) = http("POST", &format!("{}/v1/orgs", dev.base), &token, Some(r#"{"name": "Школа №1"}"#));
    assert_eq!(status, 201, "{body}");
    let org: serde_json::Value = serde_json::from_str(&body).unwrap();
    let org = org["id"].as_str().unwrap().to_string();
    let (status, said) = dev.stop();
    assert!(status.success(), "a clean stop: {status} {said:?}");
    assert!(said.iter().any(|l| l.contains("data saved to")), "{said:?}");
    assert!(state.exists());

    let dev = Dev::start(&state);
    let (up, said) = dev.until("Data:", Duration::from_secs(60));
    assert!(up && said.last().unwrap().contains("loaded from"), "{said:?}");
    let (status, body) = http("GET", &format!("{}/v1/orgs/{org}", dev.base), &token, None);
    assert_eq!(status, 200, "the organization is still there: {body}");
    assert!(body.contains("Школа №1"), "{body}");
    let (status, _) = dev.stop();
    assert!(status.success());

    // A state saved for another table layout (or moto, or Python) is refused, untouched.
    let saved = std::fs::read(&state).unwrap();
    let newline = saved.iter().position(|b| *b == b'\n').unwrap();
    let mut header: serde_json::Value = serde_json::from_slice(&saved[..newline]).unwrap();
    header["schema"] = serde_json::json!("layout-0;older");
    let mut foreign = serde_json::to_vec(&header).unwrap();
    foreign.extend_from_slice(&saved[newline..]);
    std::fs::write(&state, &foreign).unwrap();
    let mut dev = Dev::start(&state);
    let (refused, said) = dev.until("refused", Duration::from_secs(60));
    assert!(refused, "{said:?}");
    let line = said.last().unwrap();
    assert!(line.contains("kabinet table schema layout-0;older") && line.contains("Move the file away"), "{line}");
    let status = dev.child.wait().unwrap();
    assert!(!status.success());
    assert_eq!(std::fs::read(&state).unwrap(), foreign, "the refused file is left as it was");

    // Not a state file at all.
    std::fs::write(&state, b"hello\n").unwrap();
    let mut dev = Dev::start(&state);
    let (refused, said) = dev.until("not a kabinet dev state file", Duration::from_secs(60));
    assert!(refused, "{said:?}");
    assert!(!dev.child.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(&dir);
}
