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
