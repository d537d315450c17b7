//! Join requests (made by accepting an invite link): admins read, edit and decide them
//! (pending first; across their organizations), and requesters see, edit and withdraw
//! their own.

use kabinet_tests::support::{decide, events, in_days, link, school, student, teacher, User};
use serde_json::json;

#[tokio::test]
async fn admins_decide_requests_pending_first() {
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(1, "А"), (2, "А")]).await;
    let (token, _) =
        link(&admin, &org, json!({"expires_at": in_days(5), "max_uses": null, "roles": [student(&classes[0])]})).await;
    let mut requests = Vec::new();
    let mut people = Vec::new();
    for name in ["Аня", "Боря", "Вика"] {
        let u = User::new(name);
        requests.push(
            u.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201)["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        people.push(u);
    }
    let base = format!("/v1/orgs/{org}/join-requests");
    // Edit the class before accepting.
    let r = admin.patch(&format!("{base}/{}", requests[0]), json!({"roles": [student(&classes[1])]})).await;
    assert_eq!(r.ok(200)["roles"][0]["class_ids"], json!([classes[1]]));
    let accepted = decide(&admin, &org, &requests[0], "accept", json!({})).await.ok(200).clone();
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["decided_by"], admin.sub.as_str());
    assert!(accepted["decided_at"].is_string());
    // Aня is a member of 2А now, joined by link.
    let m = admin.get(&format!("/v1/orgs/{org}/members/{}", people[0].sub)).await.ok(200).clone();
    assert_eq!(m["source"], "link");
    assert_eq!(m["roles"][0]["class_ids"], json!([classes[1]]));
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/classes/{}", classes[1])).await.body["students"][0]["name"], "Аня");
    assert_eq!(people[0].get(&format!("/v1/orgs/{org}")).await.status, 200);
    // Deciding twice, or editing a decided request: 409.
    decide(&admin, &org, &requests[0], "accept", json!({})).await.problem(409, "already_decided");
    decide(&admin, &org, &requests[0], "reject", json!({"reason": "x"})).await.problem(409, "already_decided");
    admin
        .patch(&format!("{base}/{}", requests[0]), json!({"roles": [student(&classes[0])]}))
        .await
        .problem(409, "already_decided");
    // Rejecting needs a reason, which the requester sees.
    let r = decide(&admin, &org, &requests[1], "reject", json!({})).await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["reason"]);
    decide(&admin, &org, &requests[1], "reject", json!({"reason": "  "})).await.problem(422, "validation_failed");
    let rejected = decide(&admin, &org, &requests[1], "reject", json!({"reason": "Боря не учится в нашей школе"}))
        .await
        .ok(200)
        .clone();
    assert_eq!(rejected["status"], "rejected");
    let seen = people[1].get(&format!("/v1/me/join-requests/{}", requests[1])).await.ok(200).clone();
    assert_eq!(seen["status"], "rejected");
    assert_eq!(seen["reason"], "Боря не учится в нашей школе");
    // Pending first, then decided.
    let list = admin.get(&base).await.ok(200).clone();
    let statuses: Vec<&str> = list["items"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["pending", "rejected", "accepted"]);
    assert_eq!(admin.get(&format!("{base}?status=accepted")).await.body["items"].as_array().unwrap().len(), 1);
    admin.get(&format!("{base}?status=maybe")).await.problem(422, "validation_failed");
    assert_eq!(admin.get(&format!("{base}/{}", requests[2])).await.ok(200)["name"], "Вика");
    admin.get(&format!("{base}/01jzzzzzzzzzzzzzzzzzzzzzzz")).await.problem(404, "not_found");
    // Members other than admins see none of it.
    people[0].get(&base).await.problem(403, "forbidden");
    people[0].post(&format!("{base}/{}/accept", requests[2]), json!({})).await.problem(403, "forbidden");
    assert_eq!(admin.get("/v1/me/orgs").await.body["items"][0]["pending_join_requests"], 1);
    let actions: Vec<String> = admin.get(&format!("/v1/orgs/{org}/audit?action=join_request")).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions, ["join_request.reject", "join_request.accept", "join_request.update"]);
    assert_eq!(events("join_request_accepted").await.len(), 1);
    assert_eq!(events("join_request_rejected").await[0]["reason"], "Боря не учится в нашей школе");
}

#[tokio::test]
async fn requesters_see_edit_and_withdraw_their_own_requests_only() {
    let admin = User::new("Admin");
    let (org, classes) = school(&admin, "2026/2027", &[(4, "А"), (4, "Б")]).await;
    let (token, _) =
        link(&admin, &org, json!({"expires_at": in_days(5), "max_uses": 10, "roles": [student(&classes[0])]})).await;
    let u = User::new("Ученик");
    let id = u.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mine = u.get("/v1/me/join-requests").await.ok(200).clone();
    assert_eq!(mine["items"][0]["id"], id.as_str());
    let r = u.patch(&format!("/v1/me/join-requests/{id}"), json!({"roles": [student(&classes[1])]})).await;
    assert_eq!(r.ok(200)["roles"][0]["class_ids"], json!([classes[1]]));
    u.patch(&format!("/v1/me/join-requests/{id}"), json!({"roles": [{"role": "student"}]}))
        .await
        .problem(422, "validation_failed");
    // Nobody else sees it.
    let other = User::new("Чужой");
    other.get(&format!("/v1/me/join-requests/{id}")).await.problem(404, "not_found");
    other
        .patch(&format!("/v1/me/join-requests/{id}"), json!({"roles": [student(&classes[1])]}))
        .await
        .problem(404, "not_found");
    other.delete(&format!("/v1/me/join-requests/{id}")).await.problem(404, "not_found");
    admin.get(&format!("/v1/me/join-requests/{id}")).await.problem(404, "not_found");
    assert_eq!(u.delete(&format!("/v1/me/join-requests/{id}")).await.status, 204);
    assert_eq!(u.get(&format!("/v1/me/join-requests/{id}")).await.ok(200)["status"], "withdrawn");
    u.delete(&format!("/v1/me/join-requests/{id}")).await.problem(409, "already_decided");
    assert_eq!(admin.get("/v1/me/orgs").await.body["items"][0]["pending_join_requests"], 0);
    // Withdrawn, they may ask again.
    u.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201);
}

#[tokio::test]
async fn admins_see_pending_requests_across_their_organizations() {
    let admin = User::new("Admin of two");
    let a = admin.create_org("Школа А").await;
    let b = admin.create_org("Школа Б").await;
    let other_admin = User::new("Someone else");
    let c = other_admin.create_org("Чужая школа").await;
    let roles = json!([teacher("Учитель", &[])]);
    for org in [&a, &b] {
        let (token, _) = link(&admin, org, json!({"expires_at": in_days(5), "max_uses": 10, "roles": roles})).await;
        User::new("Applicant").post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201);
    }
    let (token, _) = link(&other_admin, &c, json!({"expires_at": in_days(5), "max_uses": 10, "roles": roles})).await;
    User::new("Elsewhere").post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201);
    let pending = admin.get("/v1/me/admin/join-requests").await.ok(200).clone();
    let orgs: Vec<&str> = pending["items"].as_array().unwrap().iter().map(|r| r["org_id"].as_str().unwrap()).collect();
    // Organization by organization (by ID), oldest first within each.
    let mut expected = [a.as_str(), b.as_str()];
    expected.sort();
    assert_eq!(orgs, expected);
    assert_eq!(User::new("Nobody").get("/v1/me/admin/join-requests").await.ok(200)["items"], json!([]));
}
