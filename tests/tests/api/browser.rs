//! What a person sees in a real browser (issue 16): headless Chromium, driven by
//! `tests/browser/check.mjs` (puppeteer-core), opens this test's gateway's API reference
//! page and its mail page. `make test` installs the script's packages; `.ci/run`
//! installs Debian's `chromium`.

use std::path::Path;
use std::time::Duration;

use kabinet_tests::support::{await_mail, env, registered, teacher, User};
use serde_json::json;

#[tokio::test]
async fn the_reference_page_and_the_mail_page_work_in_a_real_browser() {
    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    assert!(
        browser.join("node_modules/puppeteer-core").is_dir(),
        "tests/browser has no packages: run `make browser-deps` (make test does)"
    );
    // One email in Russian: a teacher added to a school.
    let admin = User::new("Директор Иванова");
    let org = admin.create_org("Школа № 7").await;
    let t = registered("Пётр Сергеевич").await;
    let role = teacher("Учитель физики", &[]);
    admin.post(&format!("/v1/orgs/{org}/members"), json!({"user_id": t.sub, "roles": [role]})).await.ok(201);
    let mail = await_mail(&t.email, 1).await;
    let subject = mail.first().and_then(|m| m["subject"].as_str()).expect("the email").to_string();
    assert_eq!(subject, "Вас добавили в Школа № 7");

    let operations: Vec<String> = kabinet::api::routes().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser");
    let plan = json!({
        "base": env().await.base,
        "token": admin.token,
        "email": admin.email,
        "operations": operations,
        "mail": {"to": t.email, "subject": subject, "phrases": ["Здравствуйте, Пётр Сергеевич!", "учитель (Учитель физики)"]},
        "out": out,
    });
    let plan_file = out.join(format!("plan-{}.json", ulid::Ulid::new()));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(&plan_file, plan.to_string()).unwrap();
    // Node and the Chromium it starts in a process group of their own: a stuck check is
    // ended whole, browser included.
    let child = tokio::process::Command::new("node")
        .arg(browser.join("check.mjs"))
        .arg(&plan_file)
        .process_group(0)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    let group = child.id().expect("a process id");
    // A bound for a stuck browser, not a measurement.
    let output = match tokio::time::timeout(Duration::from_secs(240), child.wait_with_output()).await {
        Ok(output) => output.expect("the check's output"),
        Err(_) => {
            let _ = std::process::Command::new("kill").args(["-KILL", &format!("-{group}")]).status();
            panic!("the browser check did not end within 240 s");
        }
    };
    let _ = std::fs::remove_file(&plan_file);
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{said}");
    println!("{said}");
    assert!(said.contains(&format!("{} operations listed", operations.len())), "{said}");
}
