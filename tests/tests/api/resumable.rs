//! Operations that take more than one transaction (promote, delete a class, roll a year
//! over) are resumable: cut off half-way, they leave nothing half-done that running them
//! again does not finish, and their audit entries are written once.

use kabinet::domain::RoleGrant;
use kabinet_tests::support::{add_member, school, student, CountingGateway, User};
use reqwest::Method;
use serde_json::{json, Value};

async fn students(org: &str, class: &str, n: usize) -> Vec<User> {
    let mut people = Vec::new();
    for i in 0..n {
        let u = User::new(&format!("Ученик {i:02}"));
        let grant: RoleGrant = serde_json::from_value(student(class)).unwrap();
        add_member(org, &u, vec![grant], false).await;
        people.push(u);
    }
    people
}

async fn audit_count(admin: &User, org: &str, action: &str) -> usize {
    let log = admin.get(&format!("/v1/orgs/{org}/audit?action={action}&limit=200")).await.ok(200).clone();
    log["items"].as_array().unwrap().iter().filter(|e| e["action"] == action).count()
}

/// The class IDs each person's grants name.
async fn class_ids_of(admin: &User, org: &str, people: &[User]) -> Vec<Value> {
    let mut out = Vec::new();
    for p in people {
        let m = admin.get(&format!("/v1/orgs/{org}/members/{}", p.sub)).await.ok(200).clone();
        out.push(m["roles"][0]["class_ids"].clone());
    }
    out
}

#[tokio::test]
async fn a_promotion_cut_off_half_way_is_finished_by_promoting_again() {
    let admin = User::new("Админ");
    let year = kabinet::domain::AcademicYear::current().to_string();
    let (org, classes) = school(&admin, &year, &[(5, "А")]).await;
    let people = students(&org, &classes[0], 60).await;
    // Transactions: 1 makes the new class, 2 and 3 move 50 and 10 people; 3 fails.
    let cut = CountingGateway::failing_transaction(3).await;
    let path = format!("/v1/orgs/{org}/classes/{}/promote", classes[0]);
    let (r, _) = cut.count(&admin, Method::POST, &path, Some(json!({}))).await;
    assert_eq!(r.status, 500, "{}", r.text);
    let new_id = admin.get(&format!("/v1/orgs/{org}/classes/{}", classes[0])).await.ok(200)["promoted_to"]
        .as_str()
        .expect("the new class was made")
        .to_string();
    let halfway = class_ids_of(&admin, &org, &people).await;
    assert_eq!(halfway.iter().filter(|c| **c == json!([new_id])).count(), 50, "the first 50 moved");
    // Again: the same class, everyone in it, one audit entry.
    let again = admin.post(&path, json!({})).await;
    assert_eq!(again.ok(200)["id"], new_id.as_str());
    assert!(class_ids_of(&admin, &org, &people).await.iter().all(|c| *c == json!([new_id])));
    let class = admin.get(&format!("/v1/orgs/{org}/classes/{new_id}")).await.ok(200).clone();
    assert_eq!(class["students"].as_array().unwrap().len(), 60);
    assert_eq!(audit_count(&admin, &org, "class.promote").await, 1);
}

#[tokio::test]
async fn a_class_deletion_cut_off_half_way_is_finished_by_deleting_again() {
    let admin = User::new("Админ");
    let year = kabinet::domain::AcademicYear::current().to_string();
    let (org, classes) = school(&admin, &year, &[(7, "Б"), (7, "В")]).await;
    let people = students(&org, &classes[0], 5).await;
    // One transaction a person, then the class's: the third person's fails.
    let cut = CountingGateway::failing_transaction(3).await;
    let path = format!("/v1/orgs/{org}/classes/{}", classes[0]);
    let (r, _) = cut.count(&admin, Method::DELETE, &path, None).await;
    assert_eq!(r.status, 500, "{}", r.text);
    admin.get(&path).await.ok(200);
    let gone = |c: &Value| !c.as_array().is_some_and(|ids| ids.contains(&json!(classes[0])));
    let cleared = class_ids_of(&admin, &org, &people).await.iter().filter(|c| gone(c)).count();
    assert_eq!(cleared, 2, "two people lost the class before the cut");
    let again = admin.delete(&path).await;
    assert_eq!(again.ok(200)["id"], classes[0].as_str());
    admin.get(&path).await.problem(404, "not_found");
    assert!(class_ids_of(&admin, &org, &people).await.iter().all(gone));
    assert_eq!(audit_count(&admin, &org, "class.delete").await, 1);
    // The other class is untouched.
    admin.get(&format!("/v1/orgs/{org}/classes/{}", classes[1])).await.ok(200);
}

#[tokio::test]
async fn a_rollover_cut_off_half_way_is_finished_by_rolling_over_again() {
    let admin = User::new("Админ");
    let year = kabinet::domain::AcademicYear::current();
    let (org, classes) = school(&admin, &year.to_string(), &[(5, "А"), (6, "А"), (11, "А")]).await;
    // Transactions: 1 records the rollover (and its entry), 2 promotes 5А, 3 fails on 6А.
    let cut = CountingGateway::failing_transaction(3).await;
    let path = format!("/v1/orgs/{org}/rollover");
    let body = json!({"from_year": year.to_string()});
    let (r, _) = cut.count(&admin, Method::POST, &path, Some(body.clone())).await;
    assert_eq!(r.status, 500, "{}", r.text);
    let again = admin.post(&path, body.clone()).await.ok(200).clone();
    let promoted: Vec<&str> =
        again["promoted"].as_array().unwrap().iter().map(|c| c["from_id"].as_str().unwrap()).collect();
    assert_eq!(promoted, [classes[1].as_str()], "6А now");
    assert_eq!(again["already_done"], 1, "5А before the cut");
    assert_eq!(again["graduated"][0]["id"], classes[2].as_str());
    let next = admin.get(&format!("/v1/orgs/{org}/classes?year={}", year.next())).await.ok(200).clone();
    let names: Vec<&str> = next["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["6А", "7А"]);
    assert_eq!(audit_count(&admin, &org, "org.rollover").await, 1, "one entry for the rollover");
    assert_eq!(audit_count(&admin, &org, "class.promote").await, 2);
    assert_eq!(audit_count(&admin, &org, "class.graduate").await, 1);
    // Once more: nothing changes, no entry.
    let third = admin.post(&path, body).await.ok(200).clone();
    assert_eq!((third["promoted"].as_array().unwrap().len(), third["already_done"].as_u64()), (0, Some(3)));
    assert_eq!(audit_count(&admin, &org, "org.rollover").await, 1);
}

/// Classes added to a year after its rollover are rolled over by the next one, which
/// has an audit entry of its own.
#[tokio::test]
async fn a_later_rollover_of_the_same_year_is_audited_again() {
    let admin = User::new("Админ");
    let year = kabinet::domain::AcademicYear::current();
    let (org, _) = school(&admin, &year.to_string(), &[(3, "А")]).await;
    let path = format!("/v1/orgs/{org}/rollover");
    let body = json!({"from_year": year.to_string()});
    admin.post(&path, body.clone()).await.ok(200);
    admin
        .post(&format!("/v1/orgs/{org}/classes"), json!({"grade": 3, "letter": "Б", "year": year.to_string()}))
        .await
        .ok(201);
    let later = admin.post(&path, body).await.ok(200).clone();
    assert_eq!(later["promoted"].as_array().unwrap().len(), 1);
    assert_eq!(audit_count(&admin, &org, "org.rollover").await, 2);
}
