//! Roster imports: a OneRoster zip built from rows, uploaded, started and waited for; the
//! journal's offers to the people it names.

use std::io::Write;

use serde_json::{json, Value};

use super::env::start_importer;
use super::files::put;
use super::http::User;

/// A zip of the named CSV files, as a journal exports it.
pub fn roster_zip(files: &[(&str, &str)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in files {
            zip.start_file(*name, options).unwrap();
            zip.write_all(body.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
    }
    out.into_inner()
}

/// Creates an import, uploads `bytes` through its presigned URL and starts it; answers
/// the import's path.
pub async fn start_import(admin: &User, org: &str, file_name: &str, bytes: Vec<u8>, invite: bool) -> String {
    start_importer().await;
    let body = json!({"file_name": file_name, "size": bytes.len()});
    let created = admin.post(&format!("/v1/orgs/{org}/imports"), body).await;
    let created = created.ok(201).clone();
    assert_eq!(put(&created["upload"], bytes, &[]).await, 200);
    let id = created["import"]["id"].as_str().unwrap().to_string();
    let path = format!("/v1/orgs/{org}/imports/{id}");
    let started = admin.post(&format!("{path}/start"), json!({"invite": invite})).await;
    assert_eq!(started.ok(202)["status"], "processing");
    path
}

/// Waits until the import is done or failed; answers it.
pub async fn finished(admin: &User, path: &str) -> Value {
    for _ in 0..600 {
        let r = admin.get(path).await;
        let import = r.ok(200).clone();
        if import["status"] == "done" || import["status"] == "failed" {
            return import;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the import did not finish in 60 s");
}

/// Uploads and runs an import to its end.
pub async fn import(admin: &User, org: &str, files: &[(&str, &str)], invite: bool) -> Value {
    let path = start_import(admin, org, "journal.zip", roster_zip(files), invite).await;
    finished(admin, &path).await
}

/// The sample files of a journal's export: its school year, its school, three classes.
pub const SESSIONS: &str = "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear
y2027,active,2026-08-20T10:00:00Z,2026/2027,schoolYear,2026-09-01,2027-05-31,,2027
";

pub const ORGS: &str = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
s1,active,2026-08-20T10:00:00Z,Школа № 1,school,,
";

pub const CLASSES: &str = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods
c5a,active,2026-08-20T10:00:00Z,5А,05,,5A,homeroom,,s1,y2027,,,
c5b,active,2026-08-20T10:00:00Z,5-Б,05,,5B,homeroom,,s1,y2027,,,
m5a,active,2026-08-20T10:00:00Z,Математика 5А,05,,M5A,scheduled,,s1,y2027,,,
";

/// The header lines of users.csv, enrollments.csv and classes.csv.
pub const USERS_HEADER: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password";

pub const ENROLLMENTS_HEADER: &str =
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate";

pub const CLASSES_HEADER: &str = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods";

/// A file: its header, then its rows, each on a line of its own.
pub fn csv_file(header: &str, rows: &[String]) -> String {
    let mut out = String::from(header);
    out.push('\n');
    for r in rows {
        out.push_str(r);
        out.push('\n');
    }
    out
}

/// A homeroom of the 2026/2027 school year.
pub fn class_row(id: &str, title: &str) -> String {
    format!("{id},active,2026-08-20T10:00:00Z,{title},05,,{id},homeroom,,s1,y2027,,,")
}

/// A person of users.csv; `ident` is both their username and identifier.
pub fn user_row(id: &str, role: &str, given: &str, family: &str, ident: &str, email: &str, agents: &str) -> String {
    format!("{id},active,2026-08-20T10:00:00Z,true,s1,{role},{ident},,{given},{family},,{ident},{email},,,{agents},,")
}

/// A person's enrollment in a class (`primary`: its main teacher).
pub fn enrollment_row(id: &str, class: &str, user: &str, role: &str, primary: bool) -> String {
    format!("{id},active,2026-08-20T10:00:00Z,{class},s1,{user},{role},{primary},2026-09-01,2027-05-31")
}

/// The same row marked `tobedeleted`.
pub fn to_be_deleted(row: String) -> String {
    row.replacen(",active,", ",tobedeleted,", 1)
}

/// Runs an import of the sample sessions and org with these classes, users and
/// enrollments.
pub async fn run(
    admin: &User,
    org: &str,
    classes: &[String],
    users: &[String],
    enrollments: &[String],
    invite: bool,
) -> Value {
    let path = start_import(admin, org, "journal.zip", journal_zip(classes, users, enrollments), invite).await;
    let done = finished(admin, &path).await;
    assert_eq!(done["status"], "done", "{done:#}");
    done
}

/// A journal's zip: the sample sessions and org with these classes, users and
/// enrollments.
pub fn journal_zip(classes: &[String], users: &[String], enrollments: &[String]) -> Vec<u8> {
    let (classes, users, enrollments) =
        (csv_file(CLASSES_HEADER, classes), csv_file(USERS_HEADER, users), csv_file(ENROLLMENTS_HEADER, enrollments));
    roster_zip(&[
        ("academicSessions.csv", SESSIONS),
        ("orgs.csv", ORGS),
        ("classes.csv", &classes),
        ("users.csv", &users),
        ("enrollments.csv", &enrollments),
    ])
}

/// An address no other test uses (every test's mail goes through one emulator).
pub fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@school.test", ulid::Ulid::new().to_string().to_lowercase())
}

/// The organization's classes of 2026/2027.
pub async fn classes_of(admin: &User, org: &str) -> Vec<Value> {
    admin.get(&format!("/v1/orgs/{org}/classes?year=2026/2027")).await.ok(200)["items"].as_array().unwrap().clone()
}

/// The ID of the class named `name` in `classes`.
pub fn class_named(classes: &[Value], name: &str) -> String {
    classes.iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no class {name} in {classes:#?}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A person who signed in once, with this verified email.
pub async fn signed_in(name: &str, email: &str) -> User {
    let u = User::with_email(name, email, true);
    assert_eq!(u.get("/v1/me").await.status, 200);
    u
}

/// The caller's open offer from the journal of `org` (`GET /v1/me/invitations`), if any.
pub async fn journal_offer(who: &User, org: &str) -> Option<Value> {
    let items = who.get("/v1/me/invitations").await.ok(200)["items"].clone();
    items.as_array().unwrap().iter().find(|i| i["kind"] == "journal" && i["org_id"] == org).cloned()
}

/// Accepts the caller's offer from the journal of `org`; answers their membership.
pub async fn accept_offer(who: &User, org: &str) -> Value {
    let offer = journal_offer(who, org).await.unwrap_or_else(|| panic!("{} has no offer from {org}", who.name));
    let path = format!("/v1/me/invitations/{}/accept", offer["id"].as_str().unwrap());
    who.post(&path, json!({})).await.ok(200).clone()
}
