//! The audit log records every admin action with who, when, what, before and after.

use kabinet_tests::support::{enrol, teacher, User};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn admin_actions_are_recorded_newest_first_and_filterable() {
    let admin = User::new("Директор");
    let org = admin.create_org("Школа").await;
    let started = kabinet::domain::Timestamp::now().to_string();
    admin.call(Method::PATCH, &format!("/v1/orgs/{org}"), Some(json!({"address": "Тверь"})), &[]).await.ok(200);
    let class = admin.post(&format!("/v1/orgs/{org}/classes"), json!({"grade": 5, "letter": "А"})).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let t = enrol(&admin, &org, "Учитель", json!([teacher("Учитель", &[&class])])).await;
    admin.call(Method::PUT, &format!("/v1/orgs/{org}/admins/{}", t.sub), None, &[]).await.ok(200);
    admin.patch(&format!("/v1/orgs/{org}/members/{}", t.sub), json!({"roles": [teacher("Завуч", &[])]})).await.ok(200);

    let log = admin.get(&format!("/v1/orgs/{org}/audit")).await.ok(200).clone();
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["member.update", "admin.appoint", "member.add", "class.create", "org.update"]);
    let edit = &log["items"][4];
    assert_eq!(edit["actor"], json!({"id": admin.sub, "name": "Директор"}));
    assert_eq!(edit["target"], json!({"type": "org", "id": org}));
    assert!(edit["before"]["address"].is_null());
    assert_eq!(edit["after"]["address"], "Тверь");
    assert!(edit["at"].as_str().unwrap() >= started.as_str());
    let change = &log["items"][0];
    assert_eq!(change["before"]["roles"][0]["position"], "Учитель");
    assert_eq!(change["after"]["roles"][0]["position"], "Завуч");

    let members = admin.get(&format!("/v1/orgs/{org}/audit?action=member")).await.ok(200).clone();
    assert_eq!(members["items"].as_array().unwrap().len(), 2);
    let appoint = admin.get(&format!("/v1/orgs/{org}/audit?action=admin.appoint")).await.ok(200).clone();
    assert_eq!(appoint["items"].as_array().unwrap().len(), 1);
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/audit?actor={}", t.sub)).await.ok(200)["items"], json!([]));
    assert_eq!(
        admin.get(&format!("/v1/orgs/{org}/audit?actor={}", admin.sub)).await.ok(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        admin.get(&format!("/v1/orgs/{org}/audit?since=2099-01-01T00:00:00Z")).await.ok(200)["items"],
        json!([])
    );
    assert_eq!(
        admin.get(&format!("/v1/orgs/{org}/audit?since=2020-01-01T00:00:00Z")).await.ok(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let page = admin.get(&format!("/v1/orgs/{org}/audit?limit=2")).await.ok(200).clone();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let rest = admin
        .get(&format!("/v1/orgs/{org}/audit?limit=10&cursor={}", page["next_cursor"].as_str().unwrap()))
        .await
        .ok(200)
        .clone();
    assert_eq!(rest["items"][0]["action"], "member.add");

    admin.get(&format!("/v1/orgs/{org}/audit?since=yesterday")).await.problem(422, "validation_failed");
    admin.get(&format!("/v1/orgs/{org}/audit?action=DROP%20TABLE")).await.problem(422, "validation_failed");
    // The new admin reads it; plain members do not.
    assert_eq!(t.get(&format!("/v1/orgs/{org}/audit")).await.status, 200);
    let other = enrol(&admin, &org, "Другой учитель", json!([teacher("Учитель", &[])])).await;
    other.get(&format!("/v1/orgs/{org}/audit")).await.problem(403, "forbidden");
}

#[tokio::test]
async fn refused_actions_leave_no_entry() {
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    admin.patch(&format!("/v1/orgs/{org}"), json!({"phone": "123"})).await.problem(422, "validation_failed");
    admin.post(&format!("/v1/orgs/{org}/leave"), json!({})).await.problem(409, "last_admin");
    admin.post(&format!("/v1/orgs/{org}/classes"), json!({"grade": 99})).await.problem(422, "validation_failed");
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/audit")).await.ok(200)["items"], json!([]));
}
