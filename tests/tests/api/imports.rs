//! Roster imports: OneRoster 1.1 zips uploaded through the presigned URL, applied by the
//! importer, and people of the journal joining by their own consent.

use std::io::Write;

use kabinet_tests::support;
use kabinet_tests::support::{
    accept_offer, await_mail, class_named, class_row, classes_of, csv_file, decide, enrol, enrollment_row, finished,
    import, journal_offer, mail_to, put, registered, roster_zip, run, signed_in, start_import, teacher, to_be_deleted,
    unique_email, user_row, User, CLASSES, CLASSES_HEADER, ORGS, SESSIONS, USERS_HEADER,
};
use serde_json::{json, Value};

/// (created, updated, unchanged, deleted, errors) of an import.
fn outcome(done: &Value) -> (u64, u64, u64, u64, u64) {
    let c = &done["counts"];
    let n = |k: &str| c[k].as_u64().unwrap_or_else(|| panic!("counts.{k} in {done:#}"));
    (n("created"), n("updated"), n("unchanged"), n("deleted"), n("errors"))
}

/// The refused row of `file` at `line`: its message.
fn refused<'a>(done: &'a Value, file: &str, line: u64) -> &'a str {
    done["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["file"] == file && e["line"] == line)
        .unwrap_or_else(|| panic!("no error for {file} line {line}: {done:#}"))["message"]
        .as_str()
        .unwrap()
}

/// Every roster record of the list with this query (`""`, `"linked=false"`), all pages.
pub async fn roster(admin: &User, org: &str, query: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/orgs/{org}/roster?limit=200");
        if !query.is_empty() {
            path.push('&');
            path.push_str(query);
        }
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = admin.get(&path).await.ok(200).clone();
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return all,
        }
    }
}

fn ids(records: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = records.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

pub fn record<'a>(records: &'a [Value], id: &str) -> &'a Value {
    records.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no roster record {id} in {records:#?}"))
}

#[tokio::test]
async fn a_clean_bulk_file_creates_classes_and_roster_records() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 1").await;
    // A teacher who is registered already (signed in once with the journal's address).
    let anna = signed_in("Анна Иванова", &unique_email("t1")).await;
    let users = format!(
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password
t1,active,2026-08-20T10:00:00Z,true,s1,teacher,t.ivanova,,Анна,Иванова,Петровна,t.ivanova,{},,,,,
p1,active,2026-08-20T10:00:00Z,true,s1,student,p.smirnov,,Пётр,Смирнов,,p.smirnov,,,,g1,05,
g1,active,2026-08-20T10:00:00Z,true,s1,guardian,,,Ольга,Смирнова,,o.smirnova,g1@school.example,,,p1,,
",
        anna.email
    );
    let enrollments =
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate
e1,active,2026-08-20T10:00:00Z,c5a,s1,t1,teacher,true,,
e2,active,2026-08-20T10:00:00Z,c5a,s1,p1,student,false,,
e3,active,2026-08-20T10:00:00Z,m5a,s1,p1,student,false,,
e4,active,2026-08-20T10:00:00Z,m5a,s1,t1,teacher,false,,
";
    let files = [
        ("academicSessions.csv", SESSIONS),
        ("orgs.csv", ORGS),
        ("classes.csv", CLASSES),
        ("users.csv", users.as_str()),
        ("enrollments.csv", enrollments),
    ];
    let done = import(&admin, &org, &files, false).await;
    assert_eq!(done["status"], "done", "{done:#}");
    assert_eq!(done["errors"], json!([]), "{done:#}");
    let c = &done["counts"];
    assert_eq!(
        (c["classes"].as_u64(), c["users"].as_u64(), c["enrollments"].as_u64()),
        (Some(3), Some(3), Some(4)),
        "{done:#}"
    );
    assert_eq!(c["created"], 10, "{done:#}");
    assert_eq!(c["skipped"], 0, "{done:#}");
    assert!(c.get("linked").is_none(), "an import links nobody: {done:#}");
    let classes = classes_of(&admin, &org).await;
    let names: Vec<&str> = classes.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["5А", "5Б"]);
    assert!(classes.iter().all(|c| c["source"] == "journal"), "{classes:#?}");
    let a5 = class_named(&classes, "5А");
    let waiting = roster(&admin, &org, "linked=false").await;
    // The registered teacher waits like the others: nothing tells who is registered.
    assert_eq!(ids(&waiting), ["g1", "p1", "t1"], "{waiting:#?}");
    let t1 = record(&waiting, "t1");
    assert_eq!((t1["linked"].as_bool(), &t1["user_id"], &t1["linked_at"]), (Some(false), &Value::Null, &Value::Null));
    let keys = |r: &Value| r.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(t1), keys(record(&waiting, "g1")), "the same fields, registered or not");
    assert_eq!(record(&waiting, "p1")["class_ids"], json!([a5]));
    // The scheduled class is a course: the student waits for it, the registered teacher
    // teaches it.
    let courses = admin.get(&format!("/v1/orgs/{org}/courses")).await.ok(200)["items"].clone();
    assert_eq!(courses.as_array().unwrap().len(), 1, "{courses:#}");
    assert_eq!(courses[0]["name"], "Математика 5А");
    let course = courses[0]["id"].as_str().unwrap().to_string();
    assert_eq!(record(&waiting, "p1")["course_ids"], json!([course]));
    assert_eq!(record(&waiting, "g1")["role"], "parent");
    assert_eq!(record(&waiting, "g1")["roster_role"], "guardian");
    // A guardian's record names her children and their classes.
    let g1 = record(&waiting, "g1");
    assert_eq!((&g1["child_ids"], &g1["class_ids"]), (&json!(["p1"]), &json!([a5])), "{g1:#}");
    assert_eq!(g1["course_ids"], json!([]), "{g1:#}");
    assert_eq!(record(&waiting, "p1")["child_ids"], json!([]), "only a parent has children");
    assert_eq!(roster(&admin, &org, "linked=true").await, Vec::<Value>::new());

    // Nobody is a member without their consent: the registered teacher is not one, and
    // was not mailed; they find the journal's offer among their invitations.
    let only_admin = admin.get(&format!("/v1/orgs/{org}/members")).await.ok(200)["items"].clone();
    assert_eq!(only_admin.as_array().unwrap().len(), 1, "{only_admin:#}");
    assert_eq!(anna.get("/v1/me/orgs").await.ok(200)["items"], json!([]));
    assert!(mail_to(&anna.email).await.is_empty(), "no mail without invite: true");
    let offer = journal_offer(&anna, &org).await.expect("an offer from the journal");
    assert_eq!(offer["org_name"], "Школа № 1", "{offer:#}");
    assert_eq!(offer["email"], anna.email.as_str(), "{offer:#}");
    assert_eq!(offer["status"], "pending", "{offer:#}");
    assert_eq!(offer["expires_at"], Value::Null, "{offer:#}");
    assert_eq!(offer["invited_by"], admin.sub.as_str(), "{offer:#}");
    assert_eq!(offer["roles"], json!([{"role": "teacher", "position": "Учитель", "class_ids": [a5]}]), "{offer:#}");
    assert_eq!(offer["role"], offer["roles"][0]);
    assert_eq!(offer["classes"], json!([{"id": a5, "name": "5А"}]), "{offer:#}");
    // Accepting it makes them a member from the journal, a teacher of 5А and its class
    // teacher (`primary`).
    let accepted = accept_offer(&anna, &org).await;
    assert_eq!((accepted["source"].as_str(), accepted["linked"].as_bool()), (Some("journal"), Some(true)));
    assert!(journal_offer(&anna, &org).await.is_none(), "accepted: no longer offered");
    let joined = roster(&admin, &org, "linked=true").await;
    assert_eq!(ids(&joined), ["t1"], "{joined:#?}");
    assert_eq!(joined[0]["user_id"], anna.sub.as_str());
    let members = admin.get(&format!("/v1/orgs/{org}/members")).await.ok(200)["items"].clone();
    let m = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == anna.sub.as_str())
        .unwrap_or_else(|| panic!("the teacher is no member: {members:#}"))
        .clone();
    assert_eq!(m["source"], "journal", "{m:#}");
    assert_eq!(m["linked"], true, "{m:#}");
    assert_eq!(m["admin"], false, "{m:#}");
    assert_eq!(m["roles"], json!([{"role": "teacher", "position": "Учитель", "class_ids": [a5]}]), "{m:#}");
    let admin_member = members.as_array().unwrap().iter().find(|m| m["admin"] == true).unwrap();
    assert_eq!(admin_member["source"], "manual");
    assert!(admin_member.get("linked").is_none(), "{admin_member:#}");
    let class = admin.get(&format!("/v1/orgs/{org}/classes/{a5}")).await.ok(200).clone();
    assert_eq!(class["class_teacher_ids"], json!([anna.sub]), "{class:#}");
    let taught = admin.get(&format!("/v1/orgs/{org}/courses/{course}")).await.ok(200).clone();
    assert_eq!(taught["teacher_ids"], json!([anna.sub]), "{taught:#}");
    let mine = anna.get("/v1/me/orgs").await.ok(200)["items"].clone();
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine:#}");
    assert_eq!(mine[0]["org"]["id"], org.as_str());

    // The same file again changes nothing.
    let classes = classes_of(&admin, &org).await;
    let again = import(&admin, &org, &files, false).await;
    let c = &again["counts"];
    assert_eq!(
        (c["created"].as_u64(), c["updated"].as_u64(), c["unchanged"].as_u64()),
        (Some(0), Some(0), Some(10)),
        "{again:#}"
    );
    assert_eq!(c["deleted"], 0, "{again:#}");
    assert_eq!(again["errors"], json!([]), "{again:#}");
    assert_eq!(classes_of(&admin, &org).await, classes, "the classes as they were");
    let after = admin.get(&format!("/v1/orgs/{org}/members/{}", anna.sub)).await.ok(200).clone();
    assert_eq!(after["roles"], m["roles"]);
    let imports = admin.get(&format!("/v1/orgs/{org}/imports")).await.ok(200)["items"].clone();
    assert_eq!(imports.as_array().unwrap().len(), 2, "{imports:#}");
    assert_eq!(imports[0]["id"], again["id"], "newest first");
}

#[tokio::test]
async fn malformed_rows_are_reported_with_file_and_line_and_the_good_rows_apply() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 2").await;
    let classes = [class_row("c5a", "5А"), class_row("c5b", "5-Б")];
    let users = [
        user_row("t1", "teacher", "Анна", "Иванова", "t.ivanova", "", ""), // line 2
        user_row("x1", "janitor", "Иван", "Петров", "i.petrov", "", ""),   // line 3: bad role
        user_row("p1", "student", "Пётр", "Смирнов", "p.smirnov", "", ""), // line 4
        user_row("p1", "student", "Павел", "Смирнов", "pa.smirnov", "", ""), // line 5: duplicate
        user_row("p2", "student", "", "Кузнецов", "kuznetsov", "", ""),    // line 6: no givenName
        user_row("p3", "student", "Мария", "Орлова", "m.orlova", "", ""),  // line 7
    ];
    let enrollments = [
        enrollment_row("e1", "c5a", "t1", "teacher", true),  // line 2
        enrollment_row("e2", "c9z", "p1", "student", false), // line 3: unknown class
        enrollment_row("e3", "c5a", "p1", "student", false), // line 4
        enrollment_row("e4", "c5b", "x1", "student", false), // line 5: its user was refused
        enrollment_row("e5", "c5b", "p3", "student", false), // line 6
    ];
    let done = run(&admin, &org, &classes, &users, &enrollments, false).await;
    let bad_role = refused(&done, "users.csv", 3);
    assert!(bad_role.contains("janitor") && bad_role.contains("role"), "{bad_role}");
    let twice = refused(&done, "users.csv", 5);
    assert!(twice.contains("p1") && twice.contains("more than once") && twice.contains("line 4"), "{twice}");
    assert_eq!(refused(&done, "users.csv", 6), "givenName is empty");
    let unknown_class = refused(&done, "enrollments.csv", 3);
    assert!(unknown_class.contains("c9z") && unknown_class.contains("classes.csv"), "{unknown_class}");
    let unknown_user = refused(&done, "enrollments.csv", 5);
    assert!(unknown_user.contains("x1") && unknown_user.contains("users.csv"), "{unknown_user}");
    assert_eq!(done["errors"].as_array().unwrap().len(), 5, "{done:#}");
    let c = &done["counts"];
    assert_eq!(c["errors"], 5, "{done:#}");
    assert_eq!(
        (c["classes"].as_u64(), c["users"].as_u64(), c["enrollments"].as_u64()),
        (Some(2), Some(3), Some(3)),
        "{done:#}"
    );
    assert_eq!(outcome(&done), (8, 0, 0, 0, 5), "{done:#}");
    // The good rows applied: the first p1 stands.
    let classes = classes_of(&admin, &org).await;
    let (a5, b5) = (class_named(&classes, "5А"), class_named(&classes, "5Б"));
    let all = roster(&admin, &org, "").await;
    assert_eq!(ids(&all), ["p1", "p3", "t1"], "{all:#?}");
    assert_eq!(record(&all, "p1")["name"], "Смирнов Пётр");
    assert_eq!(record(&all, "p1")["class_ids"], json!([a5]));
    assert_eq!(record(&all, "p3")["class_ids"], json!([b5]));
    assert_eq!(record(&all, "t1")["class_ids"], json!([a5]));

    // A file without a required column is refused whole (line 0) and the others apply.
    let enrollments = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,role,primary\r\n\
        e9,active,2026-08-20T10:00:00Z,c5b,s1,student,false\r\n";
    let classes = csv_file(CLASSES_HEADER, &[class_row("c5a", "5А"), class_row("c5b", "5-Б")]);
    let files = [
        ("academicSessions.csv", SESSIONS),
        ("classes.csv", classes.as_str()),
        ("enrollments.csv", enrollments),
        ("demographics.csv", "sourcedId,status,dateLastModified,birthDate,sex\np1,active,,2015-01-01,male\n"),
    ];
    let second = import(&admin, &org, &files, false).await;
    assert_eq!(second["status"], "done", "{second:#}");
    assert_eq!(second["errors"].as_array().unwrap().len(), 1, "{second:#}");
    let whole = refused(&second, "enrollments.csv", 0);
    assert!(whole.contains("userSourcedId"), "{whole}");
    assert_eq!(second["counts"]["errors"], 1, "{second:#}");
    assert_eq!(second["counts"]["classes"], 2, "{second:#}");
    assert_eq!(outcome(&second), (0, 0, 2, 0, 1), "{second:#}");
}

#[tokio::test]
async fn a_changed_file_updates_exactly_what_changed() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 3").await;
    let kostya = signed_in("Костя", &unique_email("p2")).await;
    let old_email = unique_email("p1");
    let classes = [class_row("c5a", "5А"), class_row("c5b", "5-Б")];
    let users = [
        user_row("t1", "teacher", "Анна", "Иванова", "t.ivanova", "", ""),
        user_row("p1", "student", "Пётр", "Смирнов", "p.smirnov", &old_email, ""),
        user_row("p2", "student", "Константин", "Орлов", "k.orlov", &kostya.email, ""),
    ];
    let enrollments = [
        enrollment_row("e1", "c5a", "t1", "teacher", true),
        enrollment_row("e2", "c5a", "p1", "student", false),
        enrollment_row("e3", "c5a", "p2", "student", false),
    ];
    let first = run(&admin, &org, &classes, &users, &enrollments, false).await;
    assert_eq!(outcome(&first), (8, 0, 0, 0, 0), "{first:#}");
    let before = classes_of(&admin, &org).await;
    let (a5, b5) = (class_named(&before, "5А"), class_named(&before, "5Б"));
    accept_offer(&kostya, &org).await;
    let m = admin.get(&format!("/v1/orgs/{org}/members/{}", kostya.sub)).await.ok(200).clone();
    assert_eq!(m["roles"], json!([{"role": "student", "class_ids": [a5]}]), "{m:#}");

    // 5-Б is 5В now; Пётр has another name and email; Костя moves to the other class.
    let new_email = unique_email("p1new");
    let classes = [class_row("c5a", "5А"), class_row("c5b", "5В")];
    let users = [
        user_row("t1", "teacher", "Анна", "Иванова", "t.ivanova", "", ""),
        user_row("p1", "student", "Петр", "Смирнов-Орлов", "p.smirnov", &new_email, ""),
        user_row("p2", "student", "Константин", "Орлов", "k.orlov", &kostya.email, ""),
    ];
    let enrollments = [
        enrollment_row("e1", "c5a", "t1", "teacher", true),
        enrollment_row("e2", "c5a", "p1", "student", false),
        enrollment_row("e3", "c5b", "p2", "student", false),
    ];
    let second = run(&admin, &org, &classes, &users, &enrollments, false).await;
    assert_eq!(second["errors"], json!([]), "{second:#}");
    // Updated: the class, the person, the enrollment; the rest as it was.
    assert_eq!(outcome(&second), (0, 3, 5, 0, 0), "{second:#}");
    let c = &second["counts"];
    assert_eq!(
        (c["classes"].as_u64(), c["users"].as_u64(), c["enrollments"].as_u64()),
        (Some(2), Some(3), Some(3)),
        "{second:#}"
    );
    let after = classes_of(&admin, &org).await;
    let names: Vec<&str> = after.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["5А", "5В"], "{after:#?}");
    assert_eq!(class_named(&after, "5В"), b5, "the same class, renamed");
    assert_eq!(class_named(&after, "5А"), a5);
    let a5_before = before.iter().find(|c| c["id"] == a5.as_str()).unwrap();
    let a5_after = after.iter().find(|c| c["id"] == a5.as_str()).unwrap();
    assert_eq!(a5_after["updated_at"], a5_before["updated_at"], "5А is unchanged");
    let all = roster(&admin, &org, "").await;
    let p1 = record(&all, "p1");
    assert_eq!((p1["name"].as_str(), p1["email"].as_str()), (Some("Смирнов-Орлов Петр"), Some(new_email.as_str())));
    assert_eq!(record(&all, "p2")["class_ids"], json!([b5]));
    assert_eq!(record(&all, "t1")["class_ids"], json!([a5]));
    // The linked student's membership follows the journal.
    let m = admin.get(&format!("/v1/orgs/{org}/members/{}", kostya.sub)).await.ok(200).clone();
    assert_eq!(m["roles"], json!([{"role": "student", "class_ids": [b5]}]), "{m:#}");
    assert_eq!(m["source"], "journal");
}

#[tokio::test]
async fn rows_to_be_deleted_remove_what_the_journal_removed() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 4").await;
    let anna = signed_in("Анна Иванова", &unique_email("t1")).await;
    let classes = [class_row("c5a", "5А"), class_row("c5b", "5-Б"), class_row("c6a", "6А")];
    let users = [
        user_row("t1", "teacher", "Анна", "Иванова", "t.ivanova", &anna.email, ""),
        user_row("p1", "student", "Пётр", "Смирнов", "p.smirnov", "", ""),
        user_row("p2", "student", "Мария", "Орлова", "m.orlova", "", ""),
    ];
    let enrollments = [
        enrollment_row("e1", "c5a", "t1", "teacher", true),
        enrollment_row("e2", "c5a", "p1", "student", false),
        enrollment_row("e3", "c5b", "p2", "student", false),
    ];
    let first = run(&admin, &org, &classes, &users, &enrollments, false).await;
    assert_eq!(outcome(&first), (9, 0, 0, 0, 0), "{first:#}");
    accept_offer(&anna, &org).await;
    let m = admin.get(&format!("/v1/orgs/{org}/members/{}", anna.sub)).await.ok(200).clone();
    assert_eq!(m["source"], "journal");
    let before = classes_of(&admin, &org).await;
    let b5 = class_named(&before, "5Б");

    let classes = [class_row("c5a", "5А"), class_row("c5b", "5-Б"), to_be_deleted(class_row("c6a", "6А"))];
    let users = [
        to_be_deleted(user_row("t1", "teacher", "Анна", "Иванова", "t.ivanova", &anna.email, "")),
        user_row("p1", "student", "Пётр", "Смирнов", "p.smirnov", "", ""),
        user_row("p2", "student", "Мария", "Орлова", "m.orlova", "", ""),
    ];
    let enrollments = [
        to_be_deleted(enrollment_row("e1", "c5a", "t1", "teacher", true)),
        to_be_deleted(enrollment_row("e2", "c5a", "p1", "student", false)),
        enrollment_row("e3", "c5b", "p2", "student", false),
    ];
    let second = run(&admin, &org, &classes, &users, &enrollments, false).await;
    assert_eq!(second["errors"], json!([]), "{second:#}");
    assert_eq!(outcome(&second), (0, 0, 5, 4, 0), "{second:#}");
    // The class is gone.
    let names: Vec<String> =
        classes_of(&admin, &org).await.iter().map(|c| c["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["5А", "5Б"]);
    // The teacher's record is gone and their journal membership with it.
    let all = roster(&admin, &org, "").await;
    assert_eq!(ids(&all), ["p1", "p2"], "{all:#?}");
    admin.get(&format!("/v1/orgs/{org}/members/{}", anna.sub)).await.problem(404, "not_found");
    assert_eq!(anna.get("/v1/me/orgs").await.ok(200)["items"], json!([]));
    // The enrollment is gone: Пётр has no class; Мария keeps hers.
    assert_eq!(record(&all, "p1")["class_ids"], json!([]));
    assert_eq!(record(&all, "p2")["class_ids"], json!([b5]));
    // Rows to delete whose records are gone already change nothing.
    let third = run(&admin, &org, &classes, &users, &enrollments, false).await;
    assert_eq!(third["errors"], json!([]), "{third:#}");
    assert_eq!(outcome(&third).3, 0, "{third:#}");
}

#[tokio::test]
async fn a_manual_class_and_a_manual_member_are_never_changed() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 5").await;
    let made = admin
        .post(&format!("/v1/orgs/{org}/classes"), json!({"grade": 5, "letter": "А", "year": "2026/2027"}))
        .await
        .ok(201)
        .clone();
    let manual = made["id"].as_str().unwrap().to_string();
    assert_eq!(made["source"], "manual");
    // A teacher an admin added by hand, whom the journal lists too.
    let olga = enrol(&admin, &org, "Ольга Петрова", json!([teacher("Завуч по УВР", &[&manual])])).await;
    let before = admin.get(&format!("/v1/orgs/{org}/classes/{manual}")).await.ok(200).clone();
    let olga_before = admin.get(&format!("/v1/orgs/{org}/members/{}", olga.sub)).await.ok(200).clone();
    assert_eq!(olga_before["source"], "manual");

    let classes = [class_row("c5a", "5А"), class_row("c5b", "5Б")];
    let users = [
        user_row("t1", "teacher", "Ольга", "Петрова", "o.petrova", &olga.email, ""),
        user_row("p1", "student", "Пётр", "Смирнов", "p.smirnov", "", ""),
    ];
    let enrollments =
        [enrollment_row("e1", "c5b", "t1", "teacher", true), enrollment_row("e2", "c5a", "p1", "student", false)];
    let done = run(&admin, &org, &classes, &users, &enrollments, false).await;
    let taken = refused(&done, "classes.csv", 2);
    assert!(taken.contains("5А") && taken.contains("already exists"), "{taken}");
    let no_class = refused(&done, "enrollments.csv", 3);
    assert!(no_class.contains("c5a"), "{no_class}");
    assert_eq!(done["counts"]["errors"], 2, "{done:#}");
    // The manual class is as it was; the journal's 5Б is made.
    let after = admin.get(&format!("/v1/orgs/{org}/classes/{manual}")).await.ok(200).clone();
    assert_eq!(after, before, "the manual class is untouched");
    let classes = classes_of(&admin, &org).await;
    assert_eq!(classes.len(), 2, "{classes:#?}");
    let b5 = class_named(&classes, "5Б");
    assert_eq!(classes.iter().find(|c| c["id"] == b5.as_str()).unwrap()["source"], "journal");
    // The manual member keeps their roles and source; accepting the journal's offer links
    // the record to them and changes neither.
    let olga_after = admin.get(&format!("/v1/orgs/{org}/members/{}", olga.sub)).await.ok(200).clone();
    assert_eq!(olga_after["source"], "manual", "{olga_after:#}");
    assert_eq!(olga_after["roles"], olga_before["roles"], "{olga_after:#}");
    let accepted = accept_offer(&olga, &org).await;
    assert_eq!((accepted["source"].as_str(), &accepted["roles"]), (Some("manual"), &olga_before["roles"]));
    assert_eq!(ids(&roster(&admin, &org, "linked=true").await), ["t1"]);
    let olga_after = admin.get(&format!("/v1/orgs/{org}/members/{}", olga.sub)).await.ok(200).clone();
    assert_eq!(olga_after["roles"], olga_before["roles"], "{olga_after:#}");

    // Nor does a later file that changes or deletes their record change them.
    let users = [
        to_be_deleted(user_row("t1", "teacher", "Ольга", "Петрова", "o.petrova", &olga.email, "")),
        user_row("p1", "student", "Пётр", "Смирнов", "p.smirnov", "", ""),
    ];
    let enrollments = [to_be_deleted(enrollment_row("e1", "c5b", "t1", "teacher", true))];
    let classes = [class_row("c5a", "5А"), to_be_deleted(class_row("c5b", "5Б"))];
    let second = run(&admin, &org, &classes, &users, &enrollments, false).await;
    let olga_last = admin.get(&format!("/v1/orgs/{org}/members/{}", olga.sub)).await.ok(200).clone();
    assert_eq!(olga_last["source"], "manual", "{olga_last:#} after {second:#}");
    assert_eq!(olga_last["roles"], olga_before["roles"], "{olga_last:#}");
    let after = admin.get(&format!("/v1/orgs/{org}/classes/{manual}")).await.ok(200).clone();
    assert_eq!(after, before, "the manual class is untouched: {second:#}");
}

#[tokio::test]
async fn a_roster_person_joins_only_by_accepting_the_offer_to_the_records_email() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 6").await;
    let email = unique_email("s1");
    let mum_email = unique_email("g1");
    let classes = [class_row("c5a", "5А")];
    let users = [
        user_row("s1", "student", "Пётр", "Смирнов", "p.smirnov", &email, ""),
        user_row("g1", "guardian", "Ольга", "Смирнова", "o.smirnova", &mum_email, "s1"),
    ];
    let enrollments = [enrollment_row("e1", "c5a", "s1", "student", false)];
    let done = run(&admin, &org, &classes, &users, &enrollments, false).await;
    assert_eq!(done["errors"], json!([]), "{done:#}");
    let a5 = class_named(&classes_of(&admin, &org).await, "5А");
    assert_eq!(ids(&roster(&admin, &org, "linked=false").await), ["g1", "s1"]);

    // Signing in makes nobody a member: the offer waits among their invitations.
    let petya = User::with_email("Петя", &email, true);
    assert_eq!(petya.get("/v1/me").await.ok(200)["email"], email.as_str());
    assert_eq!(petya.get("/v1/me/orgs").await.ok(200)["items"], json!([]));
    // The same address unverified sees nothing.
    let unverified = petya.with_new_email(&email, false);
    assert_eq!(unverified.get("/v1/me/invitations").await.ok(200)["items"], json!([]));
    let offer = journal_offer(&petya, &org).await.expect("an offer");
    assert_eq!(offer["roles"], json!([{"role": "student", "class_ids": [a5]}]), "{offer:#}");
    assert_eq!(offer["classes"], json!([{"id": a5, "name": "5А"}]), "{offer:#}");
    // Someone else cannot accept it.
    let path = format!("/v1/me/invitations/{}/accept", offer["id"].as_str().unwrap());
    User::new("Чужой").post(&path, json!({})).await.problem(404, "not_found");
    unverified.post(&path, json!({})).await.problem(404, "not_found");
    let m = petya.post(&path, json!({})).await.ok(200).clone();
    assert_eq!((m["source"].as_str(), m["linked"].as_bool()), (Some("journal"), Some(true)), "{m:#}");
    let mine = petya.get("/v1/me/orgs").await.ok(200)["items"].clone();
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine:#}");
    assert_eq!(mine[0]["org"]["id"], org.as_str());
    assert_eq!(mine[0]["roles"], json!([{"role": "student", "class_ids": [a5]}]), "{mine:#}");
    let m = admin.get(&format!("/v1/orgs/{org}/members/{}", petya.sub)).await.ok(200).clone();
    assert_eq!(m["source"], "journal", "{m:#}");
    assert_eq!(m["linked"], true, "{m:#}");
    assert_eq!(m["roles"], json!([{"role": "student", "class_ids": [a5]}]), "{m:#}");
    let joined = roster(&admin, &org, "linked=true").await;
    assert_eq!(ids(&joined), ["s1"]);
    assert_eq!(joined[0]["user_id"], petya.sub.as_str());
    assert!(joined[0]["linked_at"].is_string(), "{joined:#?}");
    let class = admin.get(&format!("/v1/orgs/{org}/classes/{a5}")).await.ok(200).clone();
    assert_eq!(class["students"][0]["name"], "Петя", "{class:#}");
    // Accepted once: a second time is refused.
    petya.post(&path, json!({})).await.problem(409, "already_decided");

    // The parent is offered the parent role of their child's class; declining leaves
    // them out, and the admins see the record waiting exactly as before.
    let mum = signed_in("Мама Пети", &mum_email).await;
    let offer = journal_offer(&mum, &org).await.expect("the parent's offer");
    assert_eq!(offer["roles"], json!([{"role": "parent", "class_ids": [a5]}]), "{offer:#}");
    let before = roster(&admin, &org, "linked=false").await;
    let decline = format!("/v1/me/invitations/{}/decline", offer["id"].as_str().unwrap());
    assert_eq!(mum.post(&decline, json!({})).await.status, 204);
    mum.post(&decline, json!({})).await.problem(409, "already_decided");
    assert_eq!(roster(&admin, &org, "linked=false").await, before, "nothing tells the school");
    assert_eq!(mum.get("/v1/me/orgs").await.ok(200)["items"], json!([]));
    assert!(journal_offer(&mum, &org).await.is_none(), "declined: no longer offered");
    // A resend is answered, counted and recorded as any other, and mails nothing to her.
    let counted = mail_count_today(&org).await;
    let resent = admin.post(&format!("/v1/orgs/{org}/roster/g1/invite"), json!({})).await;
    assert!(resent.ok(202)["invited_at"].is_string());
    assert_eq!(mail_count_today(&org).await, counted + 1);
    assert!(record(&roster(&admin, &org, "linked=false").await, "g1")["invited_at"].is_string());
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(mail_to(&mum.email).await.is_empty(), "declined: not mailed again");
    // The same file again makes nobody a member and offers nothing again.
    run(&admin, &org, &classes, &users, &enrollments, false).await;
    assert!(journal_offer(&mum, &org).await.is_none());
    assert_eq!(mum.get("/v1/me/orgs").await.ok(200)["items"], json!([]));
    admin.get(&format!("/v1/orgs/{org}/members/{}", mum.sub)).await.problem(404, "not_found");
    // Signing in again changes nothing.
    assert_eq!(petya.get("/v1/me").await.status, 200);
    assert_eq!(petya.get("/v1/me/orgs").await.ok(200)["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_person_links_by_journal_login_learning_nothing_and_an_admin_decides() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 7").await;
    let classes = [class_row("c5a", "5А")];
    let users = [
        user_row("s1", "student", "Пётр", "Смирнов", "p.smirnov", &unique_email("journal"), ""),
        user_row("s2", "student", "Мария", "Орлова", "m.orlova", "", ""),
        user_row("t1", "teacher", "Анна", "Иванова", "a.ivanova", "", ""),
    ];
    let enrollments = [
        enrollment_row("e1", "c5a", "s1", "student", false),
        enrollment_row("e2", "c5a", "s2", "student", false),
        enrollment_row("e3", "c5a", "t1", "teacher", true),
    ];
    run(&admin, &org, &classes, &users, &enrollments, false).await;
    let a5 = class_named(&classes_of(&admin, &org).await, "5А");

    // Signed in with another address: asks to link by journal login. A login the journal
    // has and one it has not are answered alike: the requester learns nothing of it.
    let petya = registered("Петя").await;
    let nobody = registered("Никто").await;
    let r = petya.post("/v1/me/roster-links", json!({"org_id": org, "identifier": "P.Smirnov"})).await;
    let unknown = nobody.post("/v1/me/roster-links", json!({"org_id": org, "identifier": "no.such.login"})).await;
    let (request, other) = (r.ok(202).clone(), unknown.ok(202).clone());
    assert!(r.header("location").is_some());
    let shape = |v: &Value| {
        let mut v = v.clone();
        for k in ["id", "user_id", "name", "email", "created_at", "roster_login", "etag"] {
            v.as_object_mut().unwrap().remove(k);
        }
        v
    };
    assert_eq!(shape(&request), shape(&other), "{request:#} / {other:#}");
    assert_eq!(request["roles"], json!([]), "{request:#}");
    assert_eq!(request["roster_login"], "P.Smirnov");
    assert!(request.get("roster_id").is_none() && request.get("roster_match").is_none(), "{request:#}");
    let own = format!("/v1/me/join-requests/{}", request["id"].as_str().unwrap());
    let seen = petya.get(&own).await.ok(200).clone();
    assert!(seen.get("roster_match").is_none() && seen["roles"] == json!([]), "{seen:#}");
    // The roles are the journal's: the requester cannot set them.
    petya
        .patch(&own, json!({"roles": [{"role": "teacher", "position": "Учитель", "class_ids": [a5]}]}))
        .await
        .problem(409, "roster_link_roles_fixed");
    assert_eq!(petya.get("/v1/me/orgs").await.ok(200)["items"], json!([]));

    // The admin sees the record each login matches, or that none does.
    let pending = admin.get(&format!("/v1/orgs/{org}/join-requests?status=pending")).await.ok(200)["items"].clone();
    assert_eq!(pending.as_array().unwrap().len(), 2, "{pending:#}");
    let of = |u: &User| pending.as_array().unwrap().iter().find(|r| r["user_id"] == u.sub.as_str()).unwrap().clone();
    let matched = of(&petya)["roster_match"].clone();
    assert_eq!(matched["found"], true, "{matched:#}");
    assert_eq!(matched["linked"], false, "{matched:#}");
    assert_eq!((matched["id"].as_str(), matched["name"].as_str()), (Some("s1"), Some("Смирнов Пётр")), "{matched:#}");
    assert_eq!(matched["roles"], json!([{"role": "student", "class_ids": [a5]}]), "{matched:#}");
    assert_eq!(matched["classes"], json!([{"id": a5, "name": "5А"}]), "{matched:#}");
    assert_eq!(of(&nobody)["roster_match"]["found"], false);
    let id = of(&petya)["id"].as_str().unwrap().to_string();
    let single = admin.get(&format!("/v1/orgs/{org}/join-requests/{id}")).await.ok(200).clone();
    assert_eq!(single["roster_match"], matched);
    // Accepting gives the record's roles and classes, linked.
    let accepted = decide(&admin, &org, &id, "accept", json!({})).await;
    let accepted = accepted.ok(200).clone();
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["roles"], json!([{"role": "student", "class_ids": [a5]}]), "{accepted:#}");
    assert_eq!(accepted["roster_id"], "s1");
    let m = admin.get(&format!("/v1/orgs/{org}/members/{}", petya.sub)).await.ok(200).clone();
    assert_eq!(m["source"], "journal", "{m:#}");
    assert_eq!(m["linked"], true, "{m:#}");
    assert_eq!(m["roles"], json!([{"role": "student", "class_ids": [a5]}]), "{m:#}");
    let joined = roster(&admin, &org, "linked=true").await;
    assert_eq!(ids(&joined), ["s1"], "{joined:#?}");
    assert_eq!(joined[0]["user_id"], petya.sub.as_str());
    assert_eq!(ids(&roster(&admin, &org, "linked=false").await), ["s2", "t1"]);

    // No record matches: not accepted without roles; with the roles an admin gives, a
    // member as any other.
    let unmatched = of(&nobody)["id"].as_str().unwrap().to_string();
    decide(&admin, &org, &unmatched, "accept", json!({})).await.problem(409, "roster_login_unmatched");
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/members/{}", nobody.sub)).await.status, 404);
    let req_path = format!("/v1/orgs/{org}/join-requests/{unmatched}");
    admin.patch(&req_path, json!({"roles": [{"role": "student", "class_ids": [a5]}]})).await.ok(200);
    decide(&admin, &org, &unmatched, "accept", json!({})).await.ok(200);
    let m = admin.get(&format!("/v1/orgs/{org}/members/{}", nobody.sub)).await.ok(200).clone();
    assert_eq!((m["source"].as_str(), m.get("linked")), (Some("manual"), None), "{m:#}");

    // A teacher linking by login: the teacher of their classes and class teacher of 5А.
    let anna = registered("Анна").await;
    let r = anna.post("/v1/me/roster-links", json!({"org_id": org, "identifier": "a.ivanova"})).await;
    let id = r.ok(202)["id"].as_str().unwrap().to_string();
    decide(&admin, &org, &id, "accept", json!({})).await.ok(200);
    let m = admin.get(&format!("/v1/orgs/{org}/members/{}", anna.sub)).await.ok(200).clone();
    assert_eq!((m["source"].as_str(), m["linked"].as_bool()), (Some("journal"), Some(true)), "{m:#}");
    assert_eq!(m["roles"], json!([{"role": "teacher", "position": "Учитель", "class_ids": [a5]}]), "{m:#}");
    let class = admin.get(&format!("/v1/orgs/{org}/classes/{a5}")).await.ok(200).clone();
    assert_eq!(class["class_teacher_ids"], json!([anna.sub]), "{class:#}");
    assert_eq!(ids(&roster(&admin, &org, "linked=false").await), ["s2"]);

    // An unknown organization: 404; a member already: 409.
    let other = registered("Другой").await;
    other
        .post("/v1/me/roster-links", json!({"org_id": "zzzzzzzzzz", "identifier": "m.orlova"}))
        .await
        .problem(404, "not_found");
    petya
        .post("/v1/me/roster-links", json!({"org_id": org, "identifier": "p.smirnov"}))
        .await
        .problem(409, "already_member");

    // Two people ask for the same record: the first accepted links it, the second can
    // no longer be accepted as it.
    let first = registered("Маша").await;
    let second = registered("Тоже Маша").await;
    let mut requests = Vec::new();
    for who in [&first, &second] {
        let r = who.post("/v1/me/roster-links", json!({"org_id": org, "identifier": "m.orlova"})).await;
        requests.push(r.ok(202).clone());
    }
    let id = |r: &Value| r["id"].as_str().unwrap().to_string();
    decide(&admin, &org, &id(&requests[0]), "accept", json!({})).await.ok(200);
    let late = admin.get(&format!("/v1/orgs/{org}/join-requests/{}", id(&requests[1]))).await.ok(200).clone();
    assert_eq!(late["roster_match"]["linked"], true, "{late:#}");
    decide(&admin, &org, &id(&requests[1]), "accept", json!({})).await.problem(409, "roster_login_unmatched");
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/members/{}", second.sub)).await.status, 404);
}

/// A person asks to link by journal login at most 3 times a day in one organization, and
/// submitting and withdrawing in a loop mails the admins once an hour at most.
#[tokio::test]
async fn journal_login_requests_are_limited_and_admins_are_not_flooded() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 8").await;
    let asker = registered("Настойчивый").await;
    let body = json!({"org_id": org, "identifier": "guess.me"});
    for _ in 0..3 {
        let r = asker.post("/v1/me/roster-links", body.clone()).await;
        let id = r.ok(202)["id"].as_str().unwrap().to_string();
        assert_eq!(asker.delete(&format!("/v1/me/join-requests/{id}")).await.status, 204);
    }
    let r = asker.post("/v1/me/roster-links", body.clone()).await;
    r.problem(429, "too_many_requests");
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&wait), "{wait}");
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/join-requests")).await.ok(200)["items"].as_array().unwrap().len(), 3);
    // Another person, or the same in another school, is not held back.
    registered("Другой").await.post("/v1/me/roster-links", body.clone()).await.ok(202);
    // Three requests, one email to the admin about this person (and one about the other).
    let mail = await_mail(&admin.email, 2).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let mail = if mail.len() < 3 { mail_to(&admin.email).await } else { mail };
    let about = |name: &str| mail.iter().filter(|m| m["text"].as_str().unwrap().contains(name)).count();
    assert_eq!((about("Настойчивый"), about("Другой")), (1, 1), "{mail:#?}");
}

#[tokio::test]
async fn invite_true_mails_each_waiting_person_once_and_admins_resend_hourly() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Гимназия").await;
    let email = unique_email("invited");
    let classes = [class_row("c5a", "5А")];
    let users = [
        user_row("s1", "student", "Пётр", "Смирнов", "p.smirnov", &email, ""),
        // No email: nothing to send.
        user_row("s2", "student", "Мария", "Орлова", "m.orlova", "", ""),
    ];
    let enrollments =
        [enrollment_row("e1", "c5a", "s1", "student", false), enrollment_row("e2", "c5a", "s2", "student", false)];
    let done = run(&admin, &org, &classes, &users, &enrollments, true).await;
    assert_eq!(done["invite"], true);
    assert_eq!(done["counts"]["invited"], 1, "{done:#}");
    let mail = await_mail(&email, 1).await;
    assert_eq!(mail.len(), 1, "{mail:#?}");
    assert_eq!(mail[0]["subject"], "Вас ждут в «Гимназия» в kabinet");
    let text = mail[0]["text"].as_str().unwrap();
    assert!(text.contains(&org), "the organization ID: {text}");
    assert!(text.contains("Смирнов Пётр") && text.contains(&email), "{text}");
    let waiting = roster(&admin, &org, "linked=false").await;
    assert!(record(&waiting, "s1")["invited_at"].is_string(), "{waiting:#?}");
    assert!(record(&waiting, "s2")["invited_at"].is_null(), "{waiting:#?}");

    // The same file again, with invite: nobody is mailed twice.
    let again = run(&admin, &org, &classes, &users, &enrollments, true).await;
    assert_eq!(again["counts"]["invited"], 0, "{again:#}");
    // A changed record (its name) is settled again, and still not mailed twice.
    let users = [
        user_row("s1", "student", "Петр", "Смирнов", "p.smirnov", &email, ""),
        user_row("s2", "student", "Мария", "Орлова", "m.orlova", "", ""),
    ];
    let changed = run(&admin, &org, &classes, &users, &enrollments, true).await;
    assert_eq!(changed["counts"]["invited"], 0, "{changed:#}");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(mail_to(&email).await.len(), 1, "once");

    // A resend within the hour of the import's mail: refused.
    let resend = format!("/v1/orgs/{org}/roster/s1/invite");
    admin.post(&resend, json!({})).await.problem(409, "invitation_recently_sent");
    // An hour later: sent once, then not again within the hour.
    support::set_item_attr(&org, "ROSTER#s1", "invited_at", support::long_ago()).await;
    let sent = admin.post(&resend, json!({})).await;
    assert_eq!(sent.ok(202)["id"], "s1");
    admin.post(&resend, json!({})).await.problem(409, "invitation_recently_sent");
    let mail = await_mail(&email, 2).await;
    assert_eq!(mail.len(), 2, "{mail:#?}");
    assert_eq!(mail[1]["subject"], "Вас ждут в «Гимназия» в kabinet");
    // No email, no invitation; no record, 404.
    admin.post(&format!("/v1/orgs/{org}/roster/s2/invite"), json!({})).await.problem(422, "no_email");
    admin.post(&format!("/v1/orgs/{org}/roster/nobody/invite"), json!({})).await.problem(404, "not_found");
    // The email's button opens the offer, which the address's owner accepts; once they
    // joined: 409.
    let petya = User::with_email("Петя", &email, true);
    petya.get("/v1/me").await.ok(200);
    let offer = journal_offer(&petya, &org).await.expect("the offer the email is about");
    assert!(text.contains(&format!("/invitations/{}", offer["id"].as_str().unwrap())), "{text}");
    assert_eq!(offer["send_count"], 2, "{offer:#}");
    accept_offer(&petya, &org).await;
    support::set_item_attr(&org, "ROSTER#s1", "invited_at", support::long_ago()).await;
    admin.post(&resend, json!({})).await.problem(409, "roster_record_linked");
}

#[tokio::test]
async fn imports_are_for_admins_and_refuse_bad_requests() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 9").await;
    let imports = format!("/v1/orgs/{org}/imports");
    let t = enrol(&admin, &org, "Учитель", json!([teacher("Учитель", &[])])).await;
    t.post(&imports, json!({"file_name": "journal.zip", "size": 100})).await.problem(403, "forbidden");
    t.get(&imports).await.problem(403, "forbidden");
    t.get(&format!("/v1/orgs/{org}/roster")).await.problem(403, "forbidden");
    t.get(&format!("/v1/orgs/{org}/roster?linked=false")).await.problem(403, "forbidden");
    t.post(&format!("/v1/orgs/{org}/roster/s1/invite"), json!({})).await.problem(403, "forbidden");
    User::new("Чужой").get(&imports).await.problem(404, "not_found");

    // Bad bodies and queries: 422, and nothing changes.
    admin
        .post(&imports, json!({"file_name": "journal.zip", "size": 100, "format": "oneroster"}))
        .await
        .problem(422, "validation_failed");
    admin.post(&imports, json!({"file_name": "x".repeat(201), "size": 100})).await.problem(422, "validation_failed");
    // The size is required, at least a byte and at most 256 MiB.
    let refused = admin.post(&imports, json!({"file_name": "journal.zip"})).await;
    assert_eq!(refused.problem(422, "validation_failed").error_fields(), ["size"]);
    let refused = admin.post(&imports, json!({"size": 0})).await;
    assert_eq!(refused.problem(422, "validation_failed").error_fields(), ["size"]);
    admin.post(&imports, json!({"size": 256 * 1024 * 1024 + 1})).await.problem(422, "upload_too_large");
    admin.get(&format!("/v1/orgs/{org}/roster?linked=maybe")).await.problem(422, "validation_failed");
    admin.get(&imports).await.ok(200);
    assert_eq!(admin.get(&imports).await.ok(200)["items"], json!([]), "no import was made");
    User::new("Кто-то")
        .post("/v1/me/roster-links", json!({"org_id": org, "identifier": "p.smirnov", "role": "student"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/join-requests")).await.ok(200)["items"], json!([]));

    // Starting: not before the upload, with no unknown field, and only once.
    let users = csv_file(USERS_HEADER, &[user_row("t1", "teacher", "Анна", "Иванова", "t.ivanova", "", "")]);
    let zip = roster_zip(&[("users.csv", users.as_str())]);
    let body = json!({"file_name": "journal.zip", "size": zip.len()});
    let created = admin.post(&imports, body).await.ok(201).clone();
    assert_eq!(created["import"]["status"], "awaiting_upload");
    let path = format!("{imports}/{}", created["import"]["id"].as_str().unwrap());
    admin.post(&format!("{path}/start"), json!({})).await.problem(409, "upload_missing");
    assert_eq!(put(&created["upload"], zip, &[]).await, 200);
    admin
        .post(&format!("{path}/start"), json!({"invite": true, "dry_run": true}))
        .await
        .problem(422, "validation_failed");
    admin.post(&format!("{path}/start"), json!({"invite": "yes"})).await.problem(422, "validation_failed");
    let still = admin.get(&path).await.ok(200).clone();
    assert_eq!((still["status"].as_str(), still["invite"].as_bool()), (Some("awaiting_upload"), Some(false)));
    support::start_importer().await;
    assert_eq!(admin.post(&format!("{path}/start"), json!({})).await.ok(202)["status"], "processing");
    admin.post(&format!("{path}/start"), json!({})).await.problem(409, "import_started");
    let done = finished(&admin, &path).await;
    assert_eq!(done["status"], "done", "{done:#}");
    admin.post(&format!("{path}/start"), json!({})).await.problem(409, "import_started");
    assert_eq!(done["counts"]["users"], 1, "{done:#}");
    admin.get(&format!("{imports}/01nosuchimport")).await.problem(404, "not_found");
}

#[tokio::test]
async fn a_single_csv_file_is_imported() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 10").await;
    // users.csv alone, as some journals export it: a BOM, CRLF line ends, a quoted name
    // with a comma, an extension column.
    let users = "\u{feff}sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,metadata.classroom\r\n\
        t1,active,2026-08-20T10:00:00Z,true,s1,teacher,t.ivanova,,Анна,Иванова,Петровна,t.ivanova,,,,,,,12\r\n\
        a1,active,2026-08-20T10:00:00Z,true,s1,administrator,a.petrov,,Иван,Петров,,a.petrov,,,,,,,\r\n\
        s1,active,2026-08-20T10:00:00Z,true,s1,student,s.orlova,,\"Мария, Анна\",Орлова,,s.orlova,,,,,05,,\r\n";
    let path = start_import(&admin, &org, "users.csv", users.as_bytes().to_vec(), false).await;
    let done = finished(&admin, &path).await;
    assert_eq!(done["status"], "done", "{done:#}");
    assert_eq!(done["file_name"], "users.csv");
    assert_eq!(done["errors"], json!([]), "{done:#}");
    assert_eq!(done["counts"]["users"], 3, "{done:#}");
    assert_eq!(outcome(&done), (3, 0, 0, 0, 0), "{done:#}");
    let all = roster(&admin, &org, "").await;
    assert_eq!(ids(&all), ["a1", "s1", "t1"], "{all:#?}");
    assert_eq!(
        (record(&all, "a1")["role"].as_str(), record(&all, "a1")["roster_role"].as_str()),
        (Some("staff"), Some("administrator"))
    );
    assert_eq!(record(&all, "s1")["name"], "Орлова Мария, Анна");
    assert_eq!(record(&all, "t1")["name"], "Иванова Анна Петровна");
    assert_eq!(record(&all, "t1")["identifier"], "t.ivanova");
    // The same file under a name that says nothing: known by its columns.
    let path = start_import(&admin, &org, "export-2026.csv", users.as_bytes().to_vec(), false).await;
    let again = finished(&admin, &path).await;
    assert_eq!(again["errors"], json!([]), "{again:#}");
    assert_eq!(outcome(&again), (0, 0, 3, 0, 0), "{again:#}");
}

#[tokio::test]
async fn scheduled_classes_become_courses_their_people_join() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 11").await;
    let email = unique_email("s1");
    let classes = [
        class_row("c5a", "5А"),
        "m5a,active,2026-08-20T10:00:00Z,Математика 5А,05,,M5A,scheduled,,s1,y2027,,,".to_string(),
    ];
    let users = [user_row("s1", "student", "Пётр", "Смирнов", "p.smirnov", &email, "")];
    let enrollments =
        [enrollment_row("e1", "c5a", "s1", "student", false), enrollment_row("e2", "m5a", "s1", "student", false)];
    let done = run(&admin, &org, &classes, &users, &enrollments, false).await;
    assert_eq!(outcome(&done), (5, 0, 0, 0, 0), "{done:#}");
    let courses = admin.get(&format!("/v1/orgs/{org}/courses")).await.ok(200)["items"].clone();
    assert_eq!(courses[0]["name"], "Математика 5А", "{courses:#}");
    let course = courses[0]["id"].as_str().unwrap().to_string();

    // The student joins by accepting the journal's offer, into the class and the course.
    let petya = User::with_email("Петя", &email, true);
    petya.get("/v1/me").await.ok(200);
    accept_offer(&petya, &org).await;
    let students = admin.get(&format!("/v1/orgs/{org}/courses/{course}/students")).await.ok(200)["items"].clone();
    let ids: Vec<&str> = students.as_array().unwrap().iter().filter_map(|s| s["user_id"].as_str()).collect();
    assert_eq!(ids, [petya.sub.as_str()], "{students:#}");

    // A new title renames the course; the same file again changes nothing.
    let renamed = [classes[0].clone(), classes[1].replace("Математика 5А", "Алгебра 5А")];
    let again = run(&admin, &org, &renamed, &users, &enrollments, false).await;
    assert_eq!(outcome(&again), (0, 1, 4, 0, 0), "{again:#}");
    let c = admin.get(&format!("/v1/orgs/{org}/courses/{course}")).await.ok(200).clone();
    assert_eq!(c["name"], "Алгебра 5А");
    // Deleted in the journal, the course goes.
    let gone = [classes[0].clone(), to_be_deleted(renamed[1].clone())];
    let last = run(&admin, &org, &gone, &users, &[enrollments[0].clone()], false).await;
    assert_eq!(last["counts"]["deleted"], 1, "{last:#}");
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/courses/{course}")).await.status, 404);
}

#[tokio::test]
async fn two_imports_started_at_once_run_one_at_a_time() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 12").await;
    support::start_importer().await;
    let zip = roster_zip(&[("classes.csv", CLASSES)]);
    let mut paths = Vec::new();
    for _ in 0..2 {
        let body = json!({"size": zip.len()});
        let created = admin.post(&format!("/v1/orgs/{org}/imports"), body).await.ok(201).clone();
        assert_eq!(put(&created["upload"], zip.clone(), &[]).await, 200);
        paths.push(format!("/v1/orgs/{org}/imports/{}", created["import"]["id"].as_str().unwrap()));
    }
    let (start_a, start_b) = (format!("{}/start", paths[0]), format!("{}/start", paths[1]));
    let (a, b) = tokio::join!(admin.post(&start_a, json!({})), admin.post(&start_b, json!({})));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [202, 409], "{} / {}", a.text, b.text);
    let (refused, waiting) = if a.status == 409 { (&a, &paths[0]) } else { (&b, &paths[1]) };
    refused.problem(409, "import_in_progress");
    let running = paths.iter().find(|p| *p != waiting).unwrap();
    assert_eq!(finished(&admin, running).await["status"], "done");
    // Once it is done, the other may start.
    admin.post(&format!("{waiting}/start"), json!({})).await.ok(202);
    assert_eq!(finished(&admin, waiting).await["status"], "done");
}

/// An upload sent with a form's type (what curl's `--data-binary` sends unless told
/// otherwise) is stored byte for byte, as S3 stores it, and imports; the emulator keeps
/// answering. It once stopped on such a PUT, taking `make dev` down with it.
#[tokio::test]
async fn an_upload_sent_as_a_form_is_stored_whole() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 11").await;
    let users = csv_file(
        USERS_HEADER,
        &["u1,active,2026-08-20T10:00:00Z,true,s1,teacher,t.ivanova,,Анна,Иванова,,t.ivanova,,,,,,".to_string()],
    );
    // Past werkzeug's limit on a form held in memory (500 KB), in an entry the importer ignores.
    let filler: String = (0..120_000).map(|i| format!("{i:x}\n")).collect();
    let zip = roster_zip(&[("users.csv", users.as_str()), ("notes.txt", filler.as_str())]);
    support::start_importer().await;
    let body = json!({"file_name": "journal.zip", "size": zip.len()});
    let created = admin.post(&format!("/v1/orgs/{org}/imports"), body).await;
    let created = created.ok(201).clone();
    let url = created["upload"]["url"].as_str().unwrap();
    let client = reqwest::Client::new();
    let put = client.put(url).header("content-type", "application/x-www-form-urlencoded").body(zip.clone());
    assert_eq!(put.send().await.unwrap().status().as_u16(), 200);
    let back = client.get(url).send().await.unwrap().bytes().await.unwrap();
    assert!(back[..] == zip[..], "stored {} bytes of {}", back.len(), zip.len());
    let path = format!("/v1/orgs/{org}/imports/{}", created["import"]["id"].as_str().unwrap());
    assert_eq!(admin.post(&format!("{path}/start"), json!({})).await.ok(202)["status"], "processing");
    let done = finished(&admin, &path).await;
    assert_eq!((done["status"].as_str(), &done["counts"]["users"]), (Some("done"), &json!(1)), "{done:#}");
}

/// Sets the organization's count of invitation emails today (the budget email and roster
/// invitations share), or clears it (`None`: a new day).
async fn mail_sent_today(org: &str, sent: Option<u32>) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let day = kabinet::domain::Timestamp::now().day();
    let (db, table) = (support::dynamodb().await, &support::env().await.config.table);
    let (pk, sk) = (AttributeValue::S(format!("ORG#{org}")), AttributeValue::S(format!("MAILDAY#{day}")));
    match sent {
        Some(n) => {
            let put = db.put_item().table_name(table).item("pk", pk).item("sk", sk);
            put.item("sent", AttributeValue::N(n.to_string())).send().await.unwrap();
        }
        None => {
            db.delete_item().table_name(table).key("pk", pk).key("sk", sk).send().await.unwrap();
        }
    }
}

/// Email invitations and roster invitations share one daily budget of 1,000 emails per
/// organization: past it an import sends nothing more and says how many it held back
/// (`invite_deferred`), a resend is 429 `daily_limit`; an import with `"invite": true` on
/// a later day (the same file) sends those held back, each once.
#[tokio::test]
async fn roster_invitations_share_the_organizations_daily_mail_budget() {
    use kabinet::domain::invitations::DAILY_INVITATION_EMAILS;
    let admin = User::new("Завуч");
    let org = admin.create_org("Лицей").await;
    let emails: Vec<String> = (1..=3).map(|i| unique_email(&format!("budget{i}"))).collect();
    let classes = [class_row("c5a", "5А")];
    let users: Vec<String> = emails
        .iter()
        .enumerate()
        .map(|(i, e)| user_row(&format!("s{i}"), "student", "Ученик", &format!("Номер{i}"), &format!("s{i}"), e, ""))
        .collect();
    let enrollments: Vec<String> =
        (0..3).map(|i| enrollment_row(&format!("e{i}"), "c5a", &format!("s{i}"), "student", false)).collect();
    // One email left today.
    mail_sent_today(&org, Some(DAILY_INVITATION_EMAILS - 1)).await;
    let done = run(&admin, &org, &classes, &users, &enrollments, true).await;
    let c = &done["counts"];
    assert_eq!((c["invited"].as_u64(), c["invite_deferred"].as_u64()), (Some(1), Some(2)), "{done:#}");
    // The budget is spent: a resend and an email invitation are refused alike.
    let waiting = roster(&admin, &org, "linked=false").await;
    let held: Vec<&Value> = waiting.iter().filter(|r| r["invited_at"].is_null()).collect();
    assert_eq!(held.len(), 2, "{waiting:#?}");
    let r = admin.post(&format!("/v1/orgs/{org}/roster/{}/invite", held[0]["id"].as_str().unwrap()), json!({})).await;
    r.problem(429, "daily_limit");
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() <= 86_400);
    let r = admin
        .post(&format!("/v1/orgs/{org}/invitations"), json!({"emails": [unique_email("x")], "role": teacher("У", &[])}))
        .await;
    r.problem(429, "daily_limit");
    let sent = |mail: &[Vec<Value>]| mail.iter().map(Vec::len).collect::<Vec<_>>();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let mut mail = Vec::new();
    for e in &emails {
        mail.push(mail_to(e).await);
    }
    assert_eq!(sent(&mail).iter().sum::<usize>(), 1, "one email within the budget");

    // A new day: the same file with invite sends the two held back, and nobody twice.
    mail_sent_today(&org, None).await;
    let next = run(&admin, &org, &classes, &users, &enrollments, true).await;
    let c = &next["counts"];
    assert_eq!((c["invited"].as_u64(), c["invite_deferred"].as_u64()), (Some(2), Some(0)), "{next:#}");
    assert_eq!(c["unchanged"], 7, "{next:#}");
    let mut mail = Vec::new();
    for e in &emails {
        mail.push(await_mail(e, 1).await);
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let mut again = Vec::new();
    for e in &emails {
        again.push(mail_to(e).await);
    }
    assert_eq!(sent(&again), [1, 1, 1], "each once");
    let last = run(&admin, &org, &classes, &users, &enrollments, true).await;
    assert_eq!((last["counts"]["invited"].as_u64(), last["counts"]["invite_deferred"].as_u64()), (Some(0), Some(0)));
}

/// The upload URL takes the declared size only: `content-length` is signed (S3 refuses a
/// PUT whose length is not the signed one; the emulator checks presigned PUTs that sign it
/// likewise) and the answer says to send it. Over 256 MiB is refused at once.
#[tokio::test]
async fn the_upload_url_signs_the_declared_size() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 13").await;
    let imports = format!("/v1/orgs/{org}/imports");
    let created = admin.post(&imports, json!({"file_name": "journal.zip", "size": 12345})).await.ok(201).clone();
    let upload = &created["upload"];
    let url = reqwest::Url::parse(upload["url"].as_str().unwrap()).unwrap();
    let signed: String = url.query_pairs().find(|(k, _)| k == "X-Amz-SignedHeaders").unwrap().1.into_owned();
    assert!(signed.split(';').any(|h| h == "content-length"), "content-length is not signed: {signed}");
    assert_eq!(upload["headers"], json!({"content-length": "12345"}));
    // The emulator checks presigned PUTs as S3 does: another length does not match the
    // signature; the declared one goes.
    assert_eq!(put(upload, vec![b'x'; 12344], &["content-length"]).await, 403);
    assert_eq!(put(upload, vec![b'x'; 12346], &["content-length"]).await, 403);
    assert_eq!(put(upload, vec![b'x'; 12345], &[]).await, 200);
    // The largest size is taken; a byte more is refused, and no import is made.
    admin.post(&imports, json!({"size": 256 * 1024 * 1024})).await.ok(201);
    admin.post(&imports, json!({"size": 256 * 1024 * 1024 + 1})).await.problem(422, "upload_too_large");
    assert_eq!(admin.get(&imports).await.ok(200)["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_journal_course_teacher_enrols_no_one_but_students_and_enters_no_closed_group() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 14").await;
    let email = unique_email("t1");
    let classes = [
        class_row("c5a", "5А"),
        "m5a,active,2026-08-20T10:00:00Z,Математика 5А,05,,M5A,scheduled,,s1,y2027,,,".to_string(),
    ];
    let users = [user_row("t1", "teacher", "Анна", "Иванова", "a.ivanova", &email, "")];
    let enrollments = [enrollment_row("e1", "m5a", "t1", "teacher", false)];
    run(&admin, &org, &classes, &users, &enrollments, false).await;
    let course =
        admin.get(&format!("/v1/orgs/{org}/courses")).await.ok(200)["items"][0]["id"].as_str().unwrap().to_string();
    // The journal makes the teacher the course's teacher once they accept its offer.
    let t = signed_in("Анна Иванова", &email).await;
    accept_offer(&t, &org).await;
    let c = admin.get(&format!("/v1/orgs/{org}/courses/{course}")).await.ok(200).clone();
    assert_eq!(c["teacher_ids"], json!([t.sub]), "{c:#}");
    let a5 = class_named(&classes_of(&admin, &org).await, "5А");
    let pupil = enrol(&admin, &org, "Ученик", json!([{"role": "student", "class_ids": [a5]}])).await;
    let g = support::closed_group(&admin, &org, "Совет школы", &pupil).await;

    let r = t.post(&format!("/v1/orgs/{org}/courses/{course}/students"), json!({"user_ids": [t.sub]})).await;
    r.problem(422, "not_a_student");
    let r = t
        .post(
            &format!("/v1/orgs/{org}/courses/{course}/linked-groups"),
            json!({"group_id": g, "students": "selected", "user_ids": [t.sub]}),
        )
        .await;
    r.problem(403, "forbidden");
    support::kept_out(&admin, &org, &g, &t).await;
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/courses/{course}")).await.ok(200)["student_count"], 0);
}

/// The organization's count of invitation emails today.
async fn mail_count_today(org: &str) -> u64 {
    use aws_sdk_dynamodb::types::AttributeValue;
    let day = kabinet::domain::Timestamp::now().day();
    let out = support::dynamodb()
        .await
        .get_item()
        .table_name(&support::env().await.config.table)
        .key("pk", AttributeValue::S(format!("ORG#{org}")))
        .key("sk", AttributeValue::S(format!("MAILDAY#{day}")))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    out.item.and_then(|i| i.get("sent").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())).unwrap_or(0)
}

/// An import with `"invite": true` treats registered and unregistered addresses alike
/// (counts, records, the budget), and a declined one too, though it is not mailed. A new
/// email in the journal is an address not mailed yet: it gets the offer's email.
#[tokio::test]
async fn invitations_tell_nothing_of_who_is_registered_and_follow_a_new_email() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 15").await;
    let registered_email = unique_email("known");
    let declined_email = unique_email("declined");
    let unknown_email = unique_email("unknown");
    let known = signed_in("Известная", &registered_email).await;
    let decliner = signed_in("Отказавшийся", &declined_email).await;
    let classes = [class_row("c5a", "5А")];
    let users = |third: &str| {
        vec![
            user_row("s1", "student", "Анна", "Петрова", "a.petrova", &registered_email, ""),
            user_row("s2", "student", "Борис", "Орлов", "b.orlov", third, ""),
            user_row("s3", "student", "Вера", "Сидорова", "v.sidorova", &declined_email, ""),
        ]
    };
    let enrollments: Vec<String> =
        (1..=3).map(|i| enrollment_row(&format!("e{i}"), "c5a", &format!("s{i}"), "student", false)).collect();
    // The third declines before any email; the import is told nothing of it.
    run(&admin, &org, &classes, &users(&unknown_email), &enrollments, false).await;
    let offer = journal_offer(&decliner, &org).await.unwrap();
    let decline = format!("/v1/me/invitations/{}/decline", offer["id"].as_str().unwrap());
    assert_eq!(decliner.post(&decline, json!({})).await.status, 204);
    let before = mail_count_today(&org).await;
    // Invited alike: registered, unregistered, declined.
    let renamed: Vec<String> = users(&unknown_email).iter().map(|r| r.replace("Петрова", "Петрова-Смирнова")).collect();
    let done = run(&admin, &org, &classes, &renamed, &enrollments, true).await;
    assert_eq!((done["counts"]["invited"].as_u64(), done["counts"]["invite_deferred"].as_u64()), (Some(3), Some(0)));
    assert_eq!(mail_count_today(&org).await, before + 3, "each counts against the budget");
    let waiting = roster(&admin, &org, "linked=false").await;
    let shown = |id: &str| {
        let mut r = record(&waiting, id).clone();
        for k in ["id", "name", "email", "identifier", "invited_at"] {
            r.as_object_mut().unwrap().remove(k);
        }
        r
    };
    assert_eq!(shown("s1"), shown("s2"));
    assert_eq!(shown("s1"), shown("s3"));
    assert!(waiting.iter().all(|r| r["invited_at"].is_string()), "{waiting:#?}");
    assert_eq!(await_mail(&known.email, 1).await.len(), 1);
    assert_eq!(await_mail(&unknown_email, 1).await.len(), 1);
    // A resend to the declined address within the hour: refused as any other.
    admin.post(&format!("/v1/orgs/{org}/roster/s3/invite"), json!({})).await.problem(409, "invitation_recently_sent");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(mail_to(&decliner.email).await.is_empty(), "declined: never mailed");

    // The journal gives Борис another address: it gets the offer's email; the old one
    // is no longer offered anything.
    let new_email = unique_email("new");
    let moved = run(&admin, &org, &classes, &users(&new_email), &enrollments, true).await;
    assert_eq!(moved["counts"]["invited"], 1, "{moved:#}");
    assert_eq!(await_mail(&new_email, 1).await.len(), 1);
    let newcomer = signed_in("Борис", &new_email).await;
    let offer = journal_offer(&newcomer, &org).await.expect("offered at the new address");
    assert_eq!(offer["send_count"], 1, "{offer:#}");
    let old_owner = signed_in("Прежний", &unknown_email).await;
    assert!(journal_offer(&old_owner, &org).await.is_none());
    assert_eq!(mail_to(&unknown_email).await.len(), 1, "the old address got its one email only");
}

/// What waits for an address pages as one list, email invitations and journal offers
/// together, each once, whatever the page size.
#[tokio::test]
async fn my_invitations_page_through_both_kinds() {
    let email = unique_email("both");
    let person = signed_in("Ольга", &email).await;
    for i in 0..2 {
        let admin = User::new(&format!("Завуч {i}"));
        let org = admin.create_org(&format!("Школа {i}")).await;
        let users = [user_row("s1", "student", "Ольга", "Орлова", "o.orlova", &email, "")];
        run(
            &admin,
            &org,
            &[class_row("c5a", "5А")],
            &users,
            &[enrollment_row("e1", "c5a", "s1", "student", false)],
            false,
        )
        .await;
        admin
            .post(&format!("/v1/orgs/{org}/invitations"), json!({"emails": [email], "role": teacher("Учитель", &[])}))
            .await
            .ok(200);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let path = match &cursor {
            Some(c) => format!("/v1/me/invitations?limit=1&cursor={c}"),
            None => "/v1/me/invitations?limit=1".to_string(),
        };
        let page = person.get(&path).await.ok(200).clone();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 1, "{page:#}");
        seen.extend(
            items.iter().map(|i| (i["kind"].as_str().unwrap().to_string(), i["id"].as_str().unwrap().to_string())),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let kinds = |k: &str| seen.iter().filter(|(kind, _)| kind == k).count();
    assert_eq!((kinds("email"), kinds("journal")), (2, 2), "{seen:?}");
    let mut ids: Vec<&String> = seen.iter().map(|(_, id)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "each once: {seen:?}");
}

/// How many times the importer ran the import at `path` (counted on its item).
async fn runs(org: &str, path: &str) -> u64 {
    let id = path.rsplit('/').next().unwrap();
    let item = support::item(&format!("ORG#{org}"), &format!("IMPORT#{id}")).await;
    item["attempts"].as_n().unwrap().parse().unwrap()
}

/// The organization's audit entries of `action`.
async fn audited(admin: &User, org: &str, action: &str) -> Vec<Value> {
    let page = admin.get(&format!("/v1/orgs/{org}/audit?action={action}&limit=200")).await.ok(200).clone();
    page["items"].as_array().unwrap().clone()
}

/// A zip of the files, stored as they are (not compressed).
fn stored_zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, body) in files {
            zip.start_file(*name, options).unwrap();
            zip.write_all(body).unwrap();
        }
        zip.finish().unwrap();
    }
    out.into_inner()
}

/// An upload that cannot be read fails at once with its reason: it is run once, not
/// again, and nothing of it applies.
#[tokio::test]
async fn an_upload_that_cannot_be_read_fails_once_with_its_reason() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 13").await;
    let users = csv_file(USERS_HEADER, &[user_row("t1", "teacher", "Анна", "Иванова", "t.ivanova", "", "")]);

    // A zip of 1,001 entries: refused from its end record.
    let mut many = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut many);
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("users.csv", options).unwrap();
        zip.write_all(users.as_bytes()).unwrap();
        for i in 1..1001 {
            zip.start_file(format!("photos/{i}.jpg"), options).unwrap();
        }
        zip.finish().unwrap();
    }
    let path = start_import(&admin, &org, "journal.zip", many.into_inner(), false).await;
    let failed = finished(&admin, &path).await;
    assert_eq!(failed["status"], "failed", "{failed:#}");
    let why = failed["failure"].as_str().unwrap();
    assert!(why.starts_with("The upload is a zip of 1,001 files") && why.contains("more than 1,000"), "{why}");
    assert_eq!(failed["errors"], json!([{"file": "the upload", "line": 0, "message": why}]), "{failed:#}");
    assert_eq!(runs(&org, &path).await, 1);
    assert_eq!(roster(&admin, &org, "").await, Vec::<Value>::new());

    // users.csv saved in Windows-1251 beside a good classes.csv: refused before anything
    // applies, with what to do about it.
    let cp1251: Vec<u8> = [
        USERS_HEADER.as_bytes(),
        b"\nt1,active,2026-08-20T10:00:00Z,true,s1,teacher,t.ivanova,,\xC0\xED\xED\xE0,\xC8\xE2\xE0\xED\xEE\xE2\xE0,,t.ivanova,,,,,,\n",
    ]
    .concat();
    let classes = csv_file(CLASSES_HEADER, &[class_row("c5a", "5А")]);
    let files: [(&str, &[u8]); 3] =
        [("academicSessions.csv", SESSIONS.as_bytes()), ("classes.csv", classes.as_bytes()), ("users.csv", &cp1251)];
    let zip = stored_zip(&files);
    let path = start_import(&admin, &org, "journal.zip", zip, false).await;
    let failed = finished(&admin, &path).await;
    assert_eq!(failed["status"], "failed", "{failed:#}");
    let why = failed["failure"].as_str().unwrap();
    assert!(why.starts_with("users.csv is not in UTF-8 (line 2"), "{why}");
    assert!(why.contains("Windows-1251") && why.contains("Save it as UTF-8"), "{why}");
    assert_eq!(failed["errors"][0]["file"], "users.csv", "{failed:#}");
    assert_eq!(runs(&org, &path).await, 1);
    assert_eq!(classes_of(&admin, &org).await, Vec::<Value>::new(), "classes.csv did not apply either");
    assert_eq!(audited(&admin, &org, "import.finish").await.len(), 2);
}

/// A field over 1 MiB is its row's error (with its file and line), never read whole; the
/// rows after it apply.
#[tokio::test]
async fn a_field_over_1_mib_is_its_rows_error_and_the_other_rows_apply() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 14").await;
    let long = "Ж".repeat(512 * 1024 + 1); // 1 MiB + 2 bytes
    let users = [
        user_row("t1", "teacher", "Анна", "Иванова", "t.ivanova", "", ""), // line 2
        user_row("x1", "student", &format!("\"{long}\""), "Петров", "x.petrov", "", ""), // line 3
        user_row("p1", "student", "Пётр", "Смирнов", "p.smirnov", "", ""), // line 4
    ];
    let done = run(&admin, &org, &[class_row("c5a", "5А")], &users, &[], false).await;
    let why = refused(&done, "users.csv", 3);
    assert!(why.contains("longer than 1 MiB"), "{why}");
    assert_eq!(done["errors"].as_array().unwrap().len(), 1, "{done:#}");
    assert_eq!(done["counts"]["users"], 2, "{done:#}");
    assert_eq!(ids(&roster(&admin, &org, "").await), ["p1", "t1"]);
}

/// A damaged file fails the import once, and the organization may start another at once:
/// its place for a running import is free.
#[tokio::test]
async fn right_after_a_failed_import_another_can_start() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа № 15").await;
    let users = csv_file(USERS_HEADER, &[user_row("t1", "teacher", "Анна", "Иванова", "t.ivanova", "", "")]);
    // A byte changed after zipping: the entry's checksum no longer matches.
    let mut damaged = stored_zip(&[("users.csv", users.as_bytes())]);
    let at = damaged.windows(9).position(|w| w == b"t.ivanova").unwrap();
    damaged[at] = b'T';
    let path = start_import(&admin, &org, "journal.zip", damaged, false).await;
    let failed = finished(&admin, &path).await;
    assert_eq!(failed["status"], "failed", "{failed:#}");
    let why = failed["failure"].as_str().unwrap();
    assert!(why.starts_with("users.csv cannot be read to its end"), "{why}");
    assert_eq!(runs(&org, &path).await, 1);
    assert_eq!(roster(&admin, &org, "").await, Vec::<Value>::new(), "nothing of the damaged file applied");

    let again = start_import(&admin, &org, "journal.zip", roster_zip(&[("users.csv", users.as_str())]), false).await;
    let done = finished(&admin, &again).await;
    assert_eq!((done["status"].as_str(), &done["counts"]["users"]), (Some("done"), &json!(1)), "{done:#}");

    // A finish whose giving back of the place failed leaves it held by the finished
    // import; the run record delivered again gives it back.
    let id = again.rsplit('/').next().unwrap();
    let held = || aws_sdk_dynamodb::types::AttributeValue::S("2099-01-01T00:00:00.000Z".into());
    support::set_item_attr(&org, "IMPORTSLOT", "import_id", aws_sdk_dynamodb::types::AttributeValue::S(id.into()))
        .await;
    support::set_item_attr(&org, "IMPORTSLOT", "held_until", held()).await;
    let zip = roster_zip(&[("users.csv", users.as_str())]);
    let created = admin.post(&format!("/v1/orgs/{org}/imports"), json!({"size": zip.len()})).await.ok(201).clone();
    assert_eq!(put(&created["upload"], zip, &[]).await, 200);
    let third = format!("/v1/orgs/{org}/imports/{}", created["import"]["id"].as_str().unwrap());
    admin.post(&format!("{third}/start"), json!({})).await.problem(409, "import_in_progress");
    let env = support::env().await;
    let ctx = kabinet::Ctx::new(env.config.clone(), &kabinet_local::emulator::sdk_config(&env.endpoint).await);
    let org_id = kabinet::domain::OrgId::parse(&org).unwrap();
    let import_id = kabinet::domain::ImportId::parse(id).unwrap();
    let ran = kabinet::events::importer::import(&ctx, &org_id, &import_id, 0, Default::default()).await.unwrap();
    assert!(matches!(ran, kabinet::events::importer::Ran::Finished(None)), "finished already: {ran:?}");
    admin.post(&format!("{third}/start"), json!({})).await.ok(202);
    assert_eq!(finished(&admin, &third).await["status"], "done");
}
