//! Organizations: create, read, edit with If-Match, leave, and who sees what.

use kabinet::domain::RoleGrant;
use kabinet_tests::support::{add_member, User};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn create_read_and_list() {
    let admin = User::new("Директор");
    let r = admin
        .post(
            "/v1/orgs",
            json!({
                "name": "  Школа №57 ", "short_name": "Ш57", "address": "Москва, Малый Знаменский пер., 7",
                "website": "https://sch57.ru", "phone": "+7 (495) 691-85-72", "email": "Info@Sch57.ru",
                "description": "Физико-математическая школа"
            }),
        )
        .await;
    let org = r.ok(201).clone();
    let id = org["id"].as_str().unwrap();
    assert!(id.len() <= 12 && !id.contains(['0', 'o', '1', 'l', 'i']), "{id}");
    assert_eq!(r.header("location"), Some(format!("/v1/orgs/{id}").as_str()));
    assert_eq!(r.header("etag"), Some("\"v1\""));
    assert_eq!(org["name"], "Школа №57");
    assert_eq!(org["phone"], "+74956918572");
    assert_eq!(org["email"], "info@sch57.ru");
    assert_eq!(org["website"], "https://sch57.ru/");
    assert_eq!(org["member_count"], 1);
    let read = admin.get(&format!("/v1/orgs/{id}")).await;
    assert_eq!(read.ok(200), &org);
    assert_eq!(read.header("etag"), Some("\"v1\""));
    // IDs are quoted by people: upper case works too.
    assert_eq!(admin.get(&format!("/v1/orgs/{}", id.to_uppercase())).await.status, 200);
    let mine = admin.get("/v1/me/orgs").await.ok(200).clone();
    assert_eq!(mine["items"][0]["org"]["id"], id);
    assert_eq!(mine["items"][0]["roles"][0], json!({"role": "staff", "position": "Администратор"}));
}

#[tokio::test]
async fn create_validates_every_field_and_names_them() {
    let u = User::new("Validator");
    let r = u
        .post(
            "/v1/orgs",
            json!({"name": " ", "website": "ftp://x.ru", "phone": "8 916 123", "email": "a@", "position": ""}),
        )
        .await;
    r.problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["position", "name", "website", "phone", "email"]);
    let r = u.post("/v1/orgs", json!({"name": "x".repeat(201)})).await;
    assert_eq!(r.error_fields(), ["name"]);
    assert_eq!(u.get("/v1/me/orgs").await.ok(200)["items"], json!([]));
}

#[tokio::test]
async fn creator_position_is_kept() {
    let u = User::new("Head");
    let id = u.post("/v1/orgs", json!({"name": "Лицей", "position": "Директор"})).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mine = u.get("/v1/me/orgs").await.ok(200).clone();
    let entry = mine["items"].as_array().unwrap().iter().find(|i| i["org"]["id"] == id.as_str()).unwrap().clone();
    assert_eq!(entry["roles"][0]["position"], "Директор");
}

#[tokio::test]
async fn patch_with_if_match_and_stale_etags() {
    let admin = User::new("Editor");
    let id = admin.create_org("Гимназия").await;
    let path = format!("/v1/orgs/{id}");
    let r = admin
        .call(
            Method::PATCH,
            &path,
            Some(json!({"address": "Казань", "phone": "+78432000000"})),
            &[("if-match", "\"v1\"")],
        )
        .await;
    assert_eq!(r.ok(200)["address"], "Казань");
    assert_eq!(r.header("etag"), Some("\"v2\""));
    // A second editor still holding v1 is refused, and nothing changes.
    let stale = admin.call(Method::PATCH, &path, Some(json!({"address": "Самара"})), &[("if-match", "\"v1\"")]).await;
    stale.problem(412, "precondition_failed");
    let now = admin.get(&path).await;
    assert_eq!(now.body["address"], "Казань");
    assert_eq!(now.header("etag"), Some("\"v2\""));
    // null and "" clear; absent fields stay.
    let r = admin
        .call(Method::PATCH, &path, Some(json!({"address": null, "short_name": "Г1"})), &[("if-match", "\"v2\"")])
        .await;
    let body = r.ok(200).clone();
    assert!(body["address"].is_null());
    assert_eq!(body["short_name"], "Г1");
    assert_eq!(body["phone"], "+78432000000");
    // Without If-Match the write applies to the current version.
    let r = admin.patch(&path, json!({"description": "Описание"})).await;
    assert_eq!(r.header("etag"), Some("\"v4\""));
    // A garbage If-Match never matches.
    admin
        .call(Method::PATCH, &path, Some(json!({"name": "X"})), &[("if-match", "abc")])
        .await
        .problem(412, "precondition_failed");
}

#[tokio::test]
async fn patch_refuses_invalid_fields_and_changes_nothing() {
    let admin = User::new("Careful");
    let id = admin.create_org("Школа").await;
    let path = format!("/v1/orgs/{id}");
    let r = admin.patch(&path, json!({"name": null, "phone": "12", "website": "nope", "email": "@"})).await;
    r.problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["name", "website", "phone", "email"]);
    let now = admin.get(&path).await;
    assert_eq!(now.header("etag"), Some("\"v1\""));
    assert_eq!(now.body["name"], "Школа");
}

#[tokio::test]
async fn members_read_but_only_admins_edit() {
    let admin = User::new("Admin");
    let teacher = User::new("Teacher");
    let id = admin.create_org("Школа 2").await;
    add_member(
        &id,
        &teacher,
        vec![RoleGrant {
            role: kabinet::domain::Role::Teacher,
            position: Some("Учитель".into()),
            specialization: None,
            class_ids: vec![],
        }],
        false,
    )
    .await;
    let path = format!("/v1/orgs/{id}");
    assert_eq!(teacher.get(&path).await.ok(200)["member_count"], 2);
    teacher.patch(&path, json!({"name": "Моя школа"})).await.problem(403, "forbidden");
    assert_eq!(admin.get(&path).await.body["name"], "Школа 2");
    let mine = teacher.get("/v1/me/orgs").await.ok(200).clone();
    assert_eq!(mine["items"][0]["admin"], false);
    assert!(mine["items"][0].get("pending_join_requests").is_none());
}

#[tokio::test]
async fn strangers_get_404_for_everything_of_an_org() {
    let admin = User::new("Owner");
    let stranger = User::new("Stranger");
    let id = admin.create_org("Закрытая школа").await;
    let path = format!("/v1/orgs/{id}");
    stranger.get(&path).await.problem(404, "not_found");
    stranger.patch(&path, json!({"name": "Hacked"})).await.problem(404, "not_found");
    stranger.post(&format!("{path}/leave"), json!({})).await.problem(404, "not_found");
    // A well-formed ID that exists nowhere looks the same as one the caller may not see.
    stranger.get("/v1/orgs/zzzzzzzzzz").await.problem(404, "not_found");
    stranger.get("/v1/orgs/not-an-id").await.problem(404, "not_found");
    assert_eq!(admin.get(&path).await.body["name"], "Закрытая школа");
}

#[tokio::test]
async fn the_last_admin_cannot_leave_but_members_can() {
    let admin = User::new("Sole Admin");
    let member = User::new("Staff");
    let id = admin.create_org("Школа 3").await;
    add_member(&id, &member, vec![RoleGrant::staff("Секретарь")], false).await;
    let r = admin.post(&format!("/v1/orgs/{id}/leave"), json!({})).await;
    r.problem(409, "last_admin");
    assert_eq!(admin.get(&format!("/v1/orgs/{id}")).await.status, 200);
    let r = member.post(&format!("/v1/orgs/{id}/leave"), json!({})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    member.get(&format!("/v1/orgs/{id}")).await.problem(404, "not_found");
    assert_eq!(member.get("/v1/me/orgs").await.ok(200)["items"], json!([]));
    assert_eq!(admin.get(&format!("/v1/orgs/{id}")).await.body["member_count"], 1);
    // Leaving twice: no longer a member.
    member.post(&format!("/v1/orgs/{id}/leave"), json!({})).await.problem(404, "not_found");
}

#[tokio::test]
async fn two_admins_leaving_at_once_leave_one_admin() {
    for round in 0..15 {
        let a = User::new("Admin A");
        let b = User::new("Admin B");
        let id = a.create_org(&format!("Race {round}")).await;
        add_member(&id, &b, vec![RoleGrant::staff("Завуч")], true).await;
        let path = format!("/v1/orgs/{id}/leave");
        let (ra, rb) = tokio::join!(a.post(&path, json!({})), b.post(&path, json!({})));
        let mut statuses = [ra.status, rb.status];
        statuses.sort();
        assert_eq!(statuses, [204, 409], "round {round}: {} / {}", ra.text, rb.text);
        let stayed = if ra.status == 409 { &a } else { &b };
        let org = stayed.get(&format!("/v1/orgs/{id}")).await.ok(200).clone();
        assert_eq!(org["member_count"], 1);
    }
}

/// Organizations are free, not unlimited: one person creates at most 5 a UTC day (an
/// organization per mail budget would otherwise multiply it).
#[tokio::test]
async fn a_person_creates_at_most_five_organizations_a_day() {
    use kabinet::domain::org::DAILY_ORGS_PER_PERSON;
    let u = User::new("Создатель");
    for i in 0..DAILY_ORGS_PER_PERSON {
        u.create_org(&format!("Школа {i}")).await;
    }
    let r = u.post("/v1/orgs", json!({"name": "Ещё одна"})).await;
    r.problem(429, "too_many_requests");
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&wait), "{wait}");
    let mine = u.get("/v1/me/orgs").await.ok(200)["items"].as_array().unwrap().len();
    assert_eq!(mine, DAILY_ORGS_PER_PERSON as usize, "nothing was made past the limit");
    // Someone else is not held back.
    User::new("Другой").create_org("Школа").await;
}

/// Six organizations created at once by one person: exactly five are made (the count is
/// a condition of the creating transaction, not a read before it).
#[tokio::test]
async fn racing_creations_make_exactly_five() {
    use kabinet::domain::org::DAILY_ORGS_PER_PERSON;
    let u = User::new("Торопливый");
    let tries = (0..=DAILY_ORGS_PER_PERSON).map(|i| {
        let u = u.clone();
        async move { u.post("/v1/orgs", json!({ "name": format!("Школа {i}") })).await }
    });
    let answers = futures::future::join_all(tries).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    statuses.sort();
    let mut expected = vec![201; DAILY_ORGS_PER_PERSON as usize];
    expected.push(429);
    assert_eq!(statuses, expected);
    assert_eq!(u.get("/v1/me/orgs").await.ok(200)["items"].as_array().unwrap().len(), DAILY_ORGS_PER_PERSON as usize);
}
