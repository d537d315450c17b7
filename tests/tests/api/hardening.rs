//! Edge cases found in review: forged cursors and IDs, teachers who stopped teaching,
//! invitations renewed, concurrent promotions.

use base64::Engine;
use kabinet_tests::support;
use kabinet_tests::support::{await_mail, enrol, parent, school, student, teacher, User};
use reqwest::Method;
use serde_json::json;

fn cursor(pairs: &[(&str, &str)]) -> String {
    let v: Vec<(&str, &str)> = pairs.to_vec();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap())
}

#[tokio::test]
async fn cursors_from_another_list_or_forged_are_400_not_500() {
    let admin = User::new("Admin");
    for i in 0..3 {
        admin.create_org(&format!("Школа {i}")).await;
    }
    let orgs_cursor = admin.get("/v1/me/orgs?limit=1").await.body["next_cursor"].as_str().unwrap().to_string();
    admin.get(&format!("/v1/me/join-requests?cursor={orgs_cursor}")).await.problem(400, "invalid_cursor");
    let org = admin.create_org("Школа").await;
    let audit = admin.get(&format!("/v1/orgs/{org}/audit?limit=1")).await.body.clone();
    let members_path = format!("/v1/orgs/{org}/members");
    if let Some(c) = audit["next_cursor"].as_str() {
        admin.get(&format!("{members_path}?cursor={c}")).await.problem(400, "invalid_cursor");
    }
    let forged = cursor(&[("pk", &format!("ORG#{org}")), ("sk", "ZZZ")]);
    admin.get(&format!("{members_path}?cursor={forged}")).await.problem(400, "invalid_cursor");
    let missing_sk = cursor(&[("pk", &format!("ORG#{org}"))]);
    admin.get(&format!("{members_path}?cursor={missing_sk}")).await.problem(400, "invalid_cursor");
    // Classes page in the database: an offset is not one of their cursors. A class's
    // people are paged in memory (a class is small): a huge offset is an empty page.
    let huge = cursor(&[("offset", "18446744073709551615")]);
    admin.get(&format!("/v1/orgs/{org}/classes?cursor={huge}")).await.problem(400, "invalid_cursor");
    let year = kabinet::domain::AcademicYear::current().to_string();
    let class = admin.post(&format!("/v1/orgs/{org}/classes"), json!({"grade": 5, "letter": "А", "year": year})).await;
    let class = class.ok(201)["id"].as_str().unwrap().to_string();
    let page = admin.get(&format!("{members_path}?class={class}&cursor={huge}")).await;
    assert_eq!(page.ok(200)["items"], json!([]));
}

#[tokio::test]
async fn ids_that_cannot_exist_are_not_found() {
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    let long = "x".repeat(2000);
    admin.get(&format!("/v1/orgs/{org}/members?class={long}")).await.problem(404, "not_found");
    admin.delete(&format!("/v1/orgs/{org}/invite-links/{long}")).await.problem(404, "not_found");
    admin.post(&format!("/v1/orgs/{org}/invitations/{long}/resend"), json!({})).await.problem(404, "not_found");
    admin.post(&format!("/v1/me/invitations/{long}/accept"), json!({})).await.problem(404, "not_found");
    admin.get(&format!("/v1/orgs/{org}/classes/{long}")).await.problem(404, "not_found");
    let r = admin
        .post(
            &format!("/v1/orgs/{org}/invitations"),
            json!({"emails": ["a@school.test"], "role": teacher("У", &[]), "group_id": long}),
        )
        .await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["group_id"]);
}

#[tokio::test]
async fn a_class_teacher_who_stopped_teaching_loses_access_and_blocks_nothing() {
    let admin = User::new("Admin");
    let (org, classes) = school(&admin, "2026/2027", &[(3, "А")]).await;
    let c = &classes[0];
    let t = enrol(&admin, &org, "Бывший учитель", json!([teacher("Учитель", &[])])).await;
    enrol(&admin, &org, "Ученик", json!([student(c)])).await;
    admin.patch(&format!("/v1/orgs/{org}/classes/{c}"), json!({"class_teacher_ids": [t.sub]})).await.ok(200);
    assert_eq!(t.get(&format!("/v1/orgs/{org}/classes/{c}")).await.status, 200);
    // Now only a parent there.
    admin.patch(&format!("/v1/orgs/{org}/members/{}", t.sub), json!({"roles": [parent(&[c])]})).await.ok(200);
    t.get(&format!("/v1/orgs/{org}/members?class={c}")).await.problem(403, "forbidden");
    // The class can still be edited although it lists them.
    admin.patch(&format!("/v1/orgs/{org}/classes/{c}"), json!({"letter": "Б"})).await.ok(200);
}

#[tokio::test]
async fn teachers_invite_only_into_classes_they_teach() {
    let admin = User::new("Admin");
    let (org, classes) = school(&admin, "2026/2027", &[(1, "А"), (1, "Б")]).await;
    let t = enrol(&admin, &org, "Учитель 1А", json!([teacher("Учитель", &[&classes[0]])])).await;
    let path = format!("/v1/orgs/{org}/invitations");
    t.post(&path, json!({"emails": ["p1@school.test"], "role": parent(&[&classes[1]])}))
        .await
        .problem(403, "forbidden");
    assert_eq!(
        t.post(&path, json!({"emails": ["p2@school.test"], "role": parent(&[&classes[0]])})).await.ok(200)["results"]
            [0]["status"],
        "invited"
    );
}

#[tokio::test]
async fn inviting_again_after_expiry_sends_a_renewed_invitation() {
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    let u = User::new("Снова");
    let body = json!({"emails": [u.email], "role": teacher("Учитель", &[])});
    let id = admin.post(&format!("/v1/orgs/{org}/invitations"), body.clone()).await.ok(200)["results"][0]
        ["invitation_id"]
        .as_str()
        .unwrap()
        .to_string();
    await_mail(&u.email, 1).await;
    support::set_item_attr(&org, &format!("INVITE#{id}"), "expires_at", support::long_ago()).await;
    let again = admin.post(&format!("/v1/orgs/{org}/invitations"), body).await.ok(200).clone();
    assert_eq!(again["results"][0]["invitation_id"], id.as_str());
    assert_eq!(await_mail(&u.email, 2).await.len(), 2);
    assert_eq!(u.post(&format!("/v1/me/invitations/{id}/accept"), json!({})).await.status, 200);
}

#[tokio::test]
async fn promoting_twice_at_once_answers_the_same_class() {
    for round in 0..5 {
        let admin = User::new("Admin");
        let (org, classes) = school(&admin, "2025/2026", &[(4, "А")]).await;
        enrol(&admin, &org, "Ученик", json!([student(&classes[0])])).await;
        let path = format!("/v1/orgs/{org}/classes/{}/promote", classes[0]);
        let (a, b) =
            tokio::join!(admin.call(Method::POST, &path, None, &[]), admin.call(Method::POST, &path, None, &[]));
        assert!(a.status < 300 && b.status < 300, "round {round}: {} / {}", a.text, b.text);
        assert_eq!(a.body["id"], b.body["id"]);
        let next = admin.get(&format!("/v1/orgs/{org}/classes?year=2026/2027")).await.body.clone();
        assert_eq!(next["items"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn joining_another_way_ends_a_pending_join_request() {
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    let until = kabinet::domain::Timestamp::now().plus(time::Duration::days(3)).to_string();
    let link = admin
        .post(
            &format!("/v1/orgs/{org}/invite-links"),
            json!({"expires_at": until, "max_uses": 10, "roles": [teacher("Учитель", &[])]}),
        )
        .await
        .ok(201)
        .clone();
    let token = link["token"].as_str().unwrap();
    // One asks through the link, then an admin adds them directly.
    let a = User::new("Добавлен");
    a.get("/v1/me").await.ok(200);
    let ra = a.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin
        .post(&format!("/v1/orgs/{org}/members"), json!({"user_id": a.sub, "roles": [teacher("Учитель", &[])]}))
        .await
        .ok(201);
    assert_eq!(a.get(&format!("/v1/me/join-requests/{ra}")).await.ok(200)["status"], "accepted");
    // Another asks, then accepts an email invitation.
    let b = User::new("Приглашён");
    let rb = b.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let inv = admin
        .post(&format!("/v1/orgs/{org}/invitations"), json!({"emails": [b.email], "role": teacher("Учитель", &[])}))
        .await
        .ok(200)["results"][0]["invitation_id"]
        .as_str()
        .unwrap()
        .to_string();
    b.post(&format!("/v1/me/invitations/{inv}/accept"), json!({})).await.ok(200);
    assert_eq!(b.get(&format!("/v1/me/join-requests/{rb}")).await.ok(200)["status"], "accepted");
    // Nothing left pending, and the counts agree.
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/join-requests?status=pending")).await.ok(200)["items"], json!([]));
    let mine = admin.get("/v1/me/orgs").await.ok(200).clone();
    assert_eq!(mine["items"][0]["pending_join_requests"], 0);
    assert_eq!(admin.get(&format!("/v1/orgs/{org}")).await.body["member_count"], 3);
}
