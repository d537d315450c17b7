//! Members: direct add with several roles, list, read, role change, removal, leaving.

use kabinet_tests::User;
use serde_json::json;

use crate::{enrol, parent, registered, school, student, teacher};

#[tokio::test]
async fn an_admin_adds_a_registered_person_with_several_roles_at_once() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2026/2027", &[(3, "А")]).await;
    let anna = registered("Анна Сергеевна").await;
    let r = admin
        .post(&format!("/v1/orgs/{org}/members"), json!({"user_id": anna.sub, "roles": [teacher("Учитель начальных классов", &[&ids[0]]), parent(&[&ids[0]])]}))
        .await;
    let m = r.ok(201).clone();
    assert_eq!(r.header("location"), Some(format!("/v1/orgs/{org}/members/{}", anna.sub).as_str()));
    assert_eq!(m["name"], "Анна Сергеевна");
    assert_eq!(m["email"], serde_json::Value::Null, "added by ID, she gave this school no address");
    assert_eq!(m["admin"], false);
    assert_eq!(m["source"], "manual");
    assert_eq!(m["roles"].as_array().unwrap().len(), 2);
    // She sees the organization now, with both roles.
    let mine = anna.get("/v1/me/orgs").await.ok(200).clone();
    assert_eq!(mine["items"][0]["org"]["id"], org.as_str());
    assert_eq!(mine["items"][0]["roles"].as_array().unwrap().len(), 2);
    // By email: an invitation, which a registered person accepts.
    let boris = registered("Борис").await;
    let r = admin
        .post(
            &format!("/v1/orgs/{org}/members"),
            json!({"email": boris.email.to_uppercase(), "roles": [{"role": "staff", "position": "Секретарь"}]}),
        )
        .await;
    assert_eq!(r.ok(202)["status"], "invited");
    let invitation = r.body["invitation_id"].as_str().unwrap().to_string();
    assert_eq!(boris.get("/v1/me/invitations").await.ok(200)["items"][0]["id"], invitation.as_str());
    boris.post(&format!("/v1/me/invitations/{invitation}/accept"), json!({})).await.ok(200);
    assert_eq!(admin.get(&format!("/v1/orgs/{org}")).await.body["member_count"], 3);
    let b = admin.get(&format!("/v1/orgs/{org}/members/{}", boris.sub)).await.ok(200).clone();
    assert_eq!(b["email"], boris.email.as_str(), "he joined with this address");
}

#[tokio::test]
async fn adding_refuses_unknown_people_duplicates_and_bad_roles() {
    let admin = User::new("Admin");
    let org = admin.create_org("Без классов").await;
    let path = format!("/v1/orgs/{org}/members");
    let p = registered("Person").await;
    // No classes yet: students and parents need them.
    let r = admin.post(&path, json!({"user_id": p.sub, "roles": [student("x")]})).await;
    r.problem(409, "classes_required");
    assert!(r.body["detail"].as_str().unwrap().contains("create"));
    let r = admin.post(&path, json!({"user_id": "nobody-here", "roles": [teacher("Учитель", &[])]})).await;
    r.problem(404, "user_not_found");
    let unverified = User::with("Unverified", false);
    unverified.get("/v1/me").await.ok(200);
    let r = admin.post(&path, json!({"email": unverified.email, "roles": [teacher("Учитель", &[])]})).await;
    assert_eq!(r.ok(202)["status"], "invited", "by email: always an invitation");
    let r = admin
        .post(&path, json!({"user_id": p.sub, "roles": [{"role": "teacher"}, {"role": "staff", "position": "  "}]}))
        .await;
    r.problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["roles[0].position", "roles[1].position"]);
    admin.post(&path, json!({"user_id": p.sub, "roles": []})).await.problem(422, "validation_failed");
    admin
        .post(&path, json!({"user_id": p.sub, "email": p.email, "roles": [teacher("У", &[])]}))
        .await
        .problem(422, "validation_failed");
    admin
        .post(&path, json!({"user_id": p.sub, "roles": [{"role": "director", "position": "x"}]}))
        .await
        .problem(422, "validation_failed");
    let c = admin.post(&format!("/v1/orgs/{org}/classes"), json!({"grade": 1, "letter": "А"})).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = admin.post(&path, json!({"user_id": p.sub, "roles": [student("01jzzzzzzzzzzzzzzzzzzzzzzz")]})).await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["roles[0].class_ids"]);
    admin.post(&path, json!({"user_id": p.sub, "roles": [student(&c)]})).await.ok(201);
    admin.post(&path, json!({"user_id": p.sub, "roles": [student(&c)]})).await.problem(409, "already_member");
    assert_eq!(admin.get(&format!("/v1/orgs/{org}")).await.body["member_count"], 2);
    // Only admins add.
    p.post(&path, json!({"user_id": admin.sub, "roles": [teacher("У", &[])]})).await.problem(403, "forbidden");
}

#[tokio::test]
async fn listing_members_by_role_and_class_with_the_right_to_see_them() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2026/2027", &[(7, "А"), (7, "Б")]).await;
    let t = enrol(&admin, &org, "Учитель 7А", json!([teacher("Учитель", &[&ids[0]])])).await;
    let s1 = enrol(&admin, &org, "Вася", json!([student(&ids[0])])).await;
    enrol(&admin, &org, "Галя", json!([student(&ids[0])])).await;
    enrol(&admin, &org, "Петя", json!([student(&ids[1])])).await;
    let path = format!("/v1/orgs/{org}/members");
    let all = admin.get(&format!("{path}?limit=200")).await.ok(200).clone();
    assert_eq!(all["items"].as_array().unwrap().len(), 5);
    let students = admin.get(&format!("{path}?role=student")).await.ok(200).clone();
    assert_eq!(students["items"].as_array().unwrap().len(), 3);
    admin.get(&format!("{path}?role=director")).await.problem(422, "validation_failed");
    let class = admin.get(&format!("{path}?class={}&role=student", ids[0])).await.ok(200).clone();
    let names: Vec<&str> = class["items"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Вася", "Галя"]);
    // Paging the whole list.
    let page = admin.get(&format!("{path}?limit=2")).await.ok(200).clone();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert!(page["next_cursor"].is_string());
    // A teacher lists the class they teach, not others nor everyone.
    assert_eq!(t.get(&format!("{path}?class={}", ids[0])).await.ok(200)["items"].as_array().unwrap().len(), 3);
    t.get(&format!("{path}?class={}", ids[1])).await.problem(403, "forbidden");
    t.get(&path).await.problem(403, "forbidden");
    s1.get(&path).await.problem(403, "forbidden");
    // Reading one member: themselves, their teacher, admins.
    assert_eq!(s1.get(&format!("{path}/{}", s1.sub)).await.ok(200)["name"], "Вася");
    assert_eq!(t.get(&format!("{path}/{}", s1.sub)).await.ok(200)["name"], "Вася");
    s1.get(&format!("{path}/{}", t.sub)).await.problem(403, "forbidden");
    admin.get(&format!("{path}/nobody")).await.problem(404, "not_found");
}

#[tokio::test]
async fn changing_roles_moves_class_places() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2026/2027", &[(9, "А"), (9, "Б")]).await;
    let s = enrol(&admin, &org, "Переводится", json!([student(&ids[0])])).await;
    let path = format!("/v1/orgs/{org}/members/{}", s.sub);
    let r = admin.patch(&path, json!({"roles": [student(&ids[1])]})).await;
    assert_eq!(r.ok(200)["roles"][0]["class_ids"], json!([ids[1]]));
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/classes/{}", ids[0])).await.body["students"], json!([]));
    assert_eq!(
        admin.get(&format!("/v1/orgs/{org}/classes/{}", ids[1])).await.body["students"][0]["name"],
        "Переводится"
    );
    let r = admin.patch(&path, json!({"roles": [student(&ids[1]), student(&ids[0])]})).await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["roles[1].role"]);
    s.patch(&path, json!({"roles": [teacher("Я учитель", &[])]})).await.problem(403, "forbidden");
    // An admin keeps a teacher or staff role.
    let t = enrol(&admin, &org, "Завуч", json!([teacher("Завуч", &[])])).await;
    admin.call(reqwest::Method::PUT, &format!("/v1/orgs/{org}/admins/{}", t.sub), None, &[]).await.ok(200);
    admin
        .patch(&format!("/v1/orgs/{org}/members/{}", t.sub), json!({"roles": [parent(&[&ids[0]])]}))
        .await
        .problem(422, "admin_role_required");
}

#[tokio::test]
async fn removal_takes_membership_class_places_and_admin_flag_together() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2026/2027", &[(6, "А")]).await;
    let t = enrol(&admin, &org, "Учитель-админ", json!([teacher("Учитель", &[&ids[0]])])).await;
    admin.call(reqwest::Method::PUT, &format!("/v1/orgs/{org}/admins/{}", t.sub), None, &[]).await.ok(200);
    let r = admin.delete(&format!("/v1/orgs/{org}/members/{}", t.sub)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    t.get(&format!("/v1/orgs/{org}")).await.problem(404, "not_found");
    let org_now = admin.get(&format!("/v1/orgs/{org}")).await.body.clone();
    assert_eq!(org_now["member_count"], 1);
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/classes/{}", ids[0])).await.body["teachers"], json!([]));
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/admins")).await.body["items"].as_array().unwrap().len(), 1);
    admin.delete(&format!("/v1/orgs/{org}/members/{}", t.sub)).await.problem(404, "not_found");
    // The last admin cannot remove themselves.
    admin.delete(&format!("/v1/orgs/{org}/members/{}", admin.sub)).await.problem(409, "last_admin");
    // The class itself is untouched.
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/classes/{}", ids[0])).await.body["name"], "6А");
}

#[tokio::test]
async fn leaving_gives_up_class_places() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2026/2027", &[(2, "В")]).await;
    let s = enrol(&admin, &org, "Уходит", json!([student(&ids[0])])).await;
    assert_eq!(s.post(&format!("/v1/orgs/{org}/leave"), json!({})).await.status, 204);
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/classes/{}", ids[0])).await.body["students"], json!([]));
    let audit = admin.get(&format!("/v1/orgs/{org}/audit?action=member.leave")).await.ok(200).clone();
    assert_eq!(audit["items"][0]["actor"]["id"], s.sub.as_str());
}

#[tokio::test]
async fn activity_is_recorded_once_a_day() {
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    let t = enrol(&admin, &org, "Активный", json!([teacher("Учитель", &[])])).await;
    let before = admin.get(&format!("/v1/orgs/{org}/members/{}", t.sub)).await.body["last_active_at"].clone();
    assert!(before.is_null());
    t.get(&format!("/v1/orgs/{org}")).await.ok(200);
    let first = admin.get(&format!("/v1/orgs/{org}/members/{}", t.sub)).await.body["last_active_at"].clone();
    assert!(first.is_string());
    t.get(&format!("/v1/orgs/{org}")).await.ok(200);
    let second = admin.get(&format!("/v1/orgs/{org}/members/{}", t.sub)).await.body["last_active_at"].clone();
    assert_eq!(first, second, "a second request the same day writes nothing");
}
