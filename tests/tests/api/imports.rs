//! Roster imports (issue 15): OneRoster 1.1 zips uploaded through the presigned URL,
//! applied by the importer, and people of the journal joining.

use std::io::Write;

use serde_json::{json, Value};

use crate::files::put;
use kabinet_tests::User;

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
    kabinet_tests::start_importer().await;
    let created = admin.post(&format!("/v1/orgs/{org}/imports"), json!({"file_name": file_name})).await;
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

#[tokio::test]
async fn a_clean_bulk_file_creates_classes_and_roster_records() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 1").await;
    let users = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password
t1,active,2026-08-20T10:00:00Z,true,s1,teacher,t.ivanova,,Анна,Иванова,Петровна,t.ivanova,t1@school.example,,,,,
p1,active,2026-08-20T10:00:00Z,true,s1,student,p.smirnov,,Пётр,Смирнов,,p.smirnov,,,,g1,05,
g1,active,2026-08-20T10:00:00Z,true,s1,guardian,,,Ольга,Смирнова,,o.smirnova,g1@school.example,,,p1,,
";
    let enrollments =
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate
e1,active,2026-08-20T10:00:00Z,c5a,s1,t1,teacher,true,,
e2,active,2026-08-20T10:00:00Z,c5a,s1,p1,student,false,,
e3,active,2026-08-20T10:00:00Z,m5a,s1,p1,student,false,,
";
    let files = [
        ("academicSessions.csv", SESSIONS),
        ("orgs.csv", ORGS),
        ("classes.csv", CLASSES),
        ("users.csv", users),
        ("enrollments.csv", enrollments),
    ];
    let done = import(&admin, &org, &files, false).await;
    assert_eq!(done["status"], "done", "{done:#}");
    assert_eq!(done["errors"], json!([]), "{done:#}");
    let c = &done["counts"];
    assert_eq!(
        (c["classes"].as_u64(), c["users"].as_u64(), c["enrollments"].as_u64()),
        (Some(2), Some(3), Some(2)),
        "{done:#}"
    );
    assert_eq!(c["created"], 7, "{done:#}");
    assert_eq!(c["skipped"], 2, "the scheduled class and its enrollment: {done:#}");
    let classes = admin.get(&format!("/v1/orgs/{org}/classes?year=2026/2027")).await;
    let classes = classes.ok(200)["items"].clone();
    let names: Vec<&str> = classes.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["5А", "5Б"]);
    assert!(classes.as_array().unwrap().iter().all(|c| c["source"] == "journal"), "{classes:#}");
    let waiting = admin.get(&format!("/v1/orgs/{org}/roster?linked=false")).await;
    assert_eq!(waiting.ok(200)["items"].as_array().unwrap().len(), 3);

    // The same file again changes nothing.
    let again = import(&admin, &org, &files, false).await;
    let c = &again["counts"];
    assert_eq!(
        (c["created"].as_u64(), c["updated"].as_u64(), c["unchanged"].as_u64()),
        (Some(0), Some(0), Some(7)),
        "{again:#}"
    );
    assert_eq!(again["errors"], json!([]), "{again:#}");
}
