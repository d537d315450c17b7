//! Imports that outlast a run (issue 31): a run that stops itself for time, and one cut
//! off mid-chunk, are continued by a new run from the import's checkpoint, and the
//! import ends with every row applied once: the records, and the invitation mails, an
//! uninterrupted import's.

use kabinet::events::importer::{self, Ran};
use kabinet_tests::support;
use kabinet_tests::support::{
    await_mail, class_row, enrollment_row, journal_zip, mail_to, put, run, start_importer, unique_email, user_row, User,
};
use serde_json::{json, Value};

use crate::imports::roster;

/// People in the journal: three chunks of users.csv, three of enrollments.csv.
const PEOPLE: usize = 260;

/// A journal of two classes and [`PEOPLE`] students (every tenth with an email, one
/// named twice in different chunks); its files and the emails.
fn journal(tag: &str) -> (Vec<String>, Vec<String>, Vec<String>, Vec<String>) {
    let classes = vec![class_row("c5a", "5А"), class_row("c5b", "5Б")];
    let mut users = Vec::new();
    let mut enrollments = Vec::new();
    let mut emails = Vec::new();
    for i in 0..PEOPLE {
        let email = if i % 10 == 0 { unique_email(&format!("{tag}{i}")) } else { String::new() };
        if !email.is_empty() {
            emails.push(email.clone());
        }
        let login = format!("s{i}.login");
        users.push(user_row(&format!("s{i}"), "student", &format!("Ученик{i}"), "Петров", &login, &email, ""));
        let class = if i % 2 == 0 { "c5a" } else { "c5b" };
        enrollments.push(enrollment_row(&format!("e{i}"), class, &format!("s{i}"), "student", false));
    }
    // s5 again in the third chunk: refused as a duplicate across runs. (Not in the chunk
    // applied again after a cut-off run: that chunk's rows are marked with the new run's
    // own tag, and a repeat there of a row before it is applied, not refused.)
    users.insert(230, user_row("s5", "student", "Другой", "Петров", "other.login", "", ""));
    (classes, users, enrollments, emails)
}

/// Creates an import and uploads `bytes`; answers its path (not started).
async fn uploaded(admin: &User, org: &str, bytes: Vec<u8>) -> String {
    let created = admin.post(&format!("/v1/orgs/{org}/imports"), json!({"size": bytes.len()})).await.ok(201).clone();
    assert_eq!(put(&created["upload"], bytes, &[]).await, 200);
    format!("/v1/orgs/{org}/imports/{}", created["import"]["id"].as_str().unwrap())
}

async fn started(admin: &User, path: &str) {
    let s = admin.post(&format!("{path}/start"), json!({"invite": true})).await;
    assert_eq!(s.ok(202)["status"], "processing");
}

/// Waits (up to 3 minutes: the runs follow one another through the stream) until the
/// import is done or failed.
async fn ended(admin: &User, path: &str) -> Value {
    for _ in 0..1800 {
        let import = admin.get(path).await.ok(200).clone();
        if import["status"] == "done" || import["status"] == "failed" {
            return import;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the import did not finish in 3 minutes");
}

fn attr(item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>, name: &str) -> u64 {
    item.get(name).and_then(|v| v.as_n().ok()).map_or(0, |n| n.parse().unwrap())
}

/// The roster's records, each with what the journal said of them.
async fn records(admin: &User, org: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = roster(admin, org, "")
        .await
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r["name"].as_str().unwrap_or_default().to_string()))
        .collect();
    out.sort();
    out
}

/// Each email has its one invitation, and no other.
async fn mailed_once(emails: &[String]) {
    for e in emails {
        await_mail(e, 1).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    for e in emails {
        assert_eq!(mail_to(e).await.len(), 1, "{e}: one invitation");
    }
}

/// The test's own importer context (the test runs the importer, as Lambda would).
async fn ctx() -> kabinet::Ctx {
    let env = support::env().await;
    kabinet::Ctx::new(env.config.clone(), &kabinet_local::emulator::sdk_config(&env.endpoint).await)
}

fn ids(org: &str, path: &str) -> (kabinet::domain::OrgId, kabinet::domain::ImportId) {
    let id = kabinet::domain::ImportId::parse(path.rsplit('/').next().unwrap()).unwrap();
    (kabinet::domain::OrgId::parse(org).unwrap(), id)
}

/// The same journal imported in one run, in an organization of its own: what the
/// interrupted imports are held to. By the importer on the stream, or (`by_hand`) run
/// by the test.
async fn uninterrupted(by_hand: bool) -> (Value, Vec<(String, String)>) {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа без перерывов").await;
    let (classes, users, enrollments, emails) = journal("whole");
    let done = if by_hand {
        let path = uploaded(&admin, &org, journal_zip(&classes, &users, &enrollments)).await;
        started(&admin, &path).await;
        let (org_id, id) = ids(&org, &path);
        importer::import(&ctx().await, &org_id, &id, 0, Default::default()).await.unwrap();
        admin.get(&path).await.ok(200).clone()
    } else {
        run(&admin, &org, &classes, &users, &enrollments, true).await
    };
    assert_eq!(done["status"], "done", "{done:#}");
    mailed_once(&emails).await;
    (done, records(&admin, &org).await)
}

#[tokio::test]
async fn an_import_that_stops_for_time_is_continued_by_new_runs() {
    let (whole, whole_records) = uninterrupted(false).await;
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа по частям").await;
    let (classes, users, enrollments, emails) = journal("parts");
    let path = uploaded(&admin, &org, journal_zip(&classes, &users, &enrollments)).await;
    // Each run stops as at its deadline once it handled 100 rows (a chunk): the import
    // takes a run for every chunk and page, each delivered by the stream.
    let id = path.rsplit('/').next().unwrap();
    let n = aws_sdk_dynamodb::types::AttributeValue::N("100".into());
    support::set_item_attr(&org, &format!("IMPORT#{id}"), "run_rows", n).await;
    start_importer().await;
    started(&admin, &path).await;
    let done = ended(&admin, &path).await;
    assert_eq!(done["status"], "done", "{done:#}");
    assert_eq!(done["counts"], whole["counts"], "the counts of one run: {done:#}");
    assert_eq!(done["errors"], whole["errors"], "the same refusals, the duplicate among them");
    assert_eq!(done["counts"]["invited"], emails.len() as u64);
    let item = support::item(&format!("ORG#{org}"), &format!("IMPORT#{id}")).await;
    assert!(attr(&item, "resumes") >= 5, "a run a chunk or page: {item:?}");
    assert_eq!(attr(&item, "attempts"), 1, "no run failed");
    assert_eq!(records(&admin, &org).await, whole_records);
    mailed_once(&emails).await;
    // The organization's place is given back: another import starts at once.
    let again = uploaded(&admin, &org, journal_zip(&classes, &users, &enrollments)).await;
    started(&admin, &again).await;
    let n = |k: &str| whole["counts"][k].as_u64().unwrap();
    let again = ended(&admin, &again).await;
    assert_eq!(again["counts"]["unchanged"].as_u64(), Some(n("classes") + n("users") + n("enrollments")), "{again:#}");
}

#[tokio::test]
async fn an_import_cut_off_mid_chunk_finishes_with_every_row_once() {
    let (whole, whole_records) = uninterrupted(true).await;
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа после сбоя").await;
    let (classes, users, enrollments, emails) = journal("crash");
    let path = uploaded(&admin, &org, journal_zip(&classes, &users, &enrollments)).await;
    // No importer on the stream: the test runs it, as Lambda would.
    started(&admin, &path).await;
    let ctx = ctx().await;
    let (org_id, id) = ids(&org, &path);
    // The run dies (its future dropped, as a crash or a timeout ends it) once it is
    // past the first chunk of users.csv: inside the next, without a checkpoint.
    let watch = async {
        loop {
            let i = admin.get(&path).await.ok(200).clone();
            if i["progress"]["file"] == "users.csv" && i["progress"]["rows"].as_u64().unwrap_or(0) >= 100 {
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    tokio::select! {
        ran = importer::import(&ctx, &org_id, &id, 0, Default::default()) => panic!("not cut off: {ran:?}"),
        () = watch => {}
    }
    let cut = admin.get(&path).await.ok(200).clone();
    assert_eq!(cut["status"], "processing", "{cut:#}");
    // The stream delivers the record again: a new run continues from the checkpoint.
    let ran = importer::import(&ctx, &org_id, &id, 0, Default::default()).await.unwrap();
    assert!(matches!(ran, Ran::Finished(Some(_))), "{ran:?}");
    let done = admin.get(&path).await.ok(200).clone();
    assert_eq!(done["status"], "done", "{done:#}");
    // Every row counted once: by file, refused and in all. A row the cut-off run applied
    // counts as unchanged now (the rule of roster::resume), so only the split of created
    // and unchanged may differ.
    let (c, w) = (&done["counts"], &whole["counts"]);
    for k in ["classes", "users", "enrollments", "errors", "skipped", "deleted", "invited", "invite_deferred"] {
        assert_eq!(c[k], w[k], "{k}: {done:#}");
    }
    let sum = |c: &Value| ["created", "updated", "unchanged"].iter().map(|k| c[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum(c), sum(w), "{done:#}");
    assert!(c["unchanged"].as_u64().unwrap() <= 100, "at most a chunk applied again: {done:#}");
    assert_eq!(done["errors"], whole["errors"], "the same refusals, the duplicate among them");
    let item = support::item(&format!("ORG#{org}"), &format!("IMPORT#{id}")).await;
    assert_eq!(attr(&item, "attempts"), 2, "the cut-off run counts as an attempt");
    assert_eq!(records(&admin, &org).await, whole_records);
    mailed_once(&emails).await;
}
