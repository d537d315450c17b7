//! Email invitations: invite a list, the invitee accepts with their verified address.

use kabinet_tests::support;
use kabinet_tests::support::{await_mail, enrol, registered, school, student, teacher, User};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn an_admin_invites_a_list_and_each_address_gets_its_result() {
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(5, "А")]).await;
    let member = enrol(&admin, &org, "Уже здесь", json!([teacher("Учитель", &[])])).await;
    let registered_person = registered("Зарегистрирован").await;
    let stranger_email = format!("new-{}@school.test", ulid::Ulid::new().to_string().to_lowercase());
    let r = admin
        .post(&format!("/v1/orgs/{org}/invitations"), json!({
            "emails": [member.email, registered_person.email, stranger_email, "not-an-email", stranger_email.to_uppercase()],
            "role": student(&classes[0]),
        }))
        .await;
    let results = r.ok(200)["results"].as_array().unwrap().clone();
    let statuses: Vec<&str> = results.iter().map(|x| x["status"].as_str().unwrap()).collect();
    // The member was added by ID and gave this school no address: nothing tells the admin
    // that this address is theirs, so it is invited like any other.
    assert_eq!(statuses, ["invited", "invited", "invited", "invalid", "invited"]);
    assert_eq!(results[2]["invitation_id"], results[4]["invitation_id"], "one pending invitation per address");
    // The invitation email, with the accept link.
    let mail = await_mail(&stranger_email, 1).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["subject"], "Приглашение в Школа");
    let text = mail[0]["text"].as_str().unwrap();
    assert!(text.contains(&format!("/invitations/{}", results[2]["invitation_id"].as_str().unwrap())), "{text}");
    assert!(text.contains("ученик"));
    let list = admin.get(&format!("/v1/orgs/{org}/invitations")).await.ok(200).clone();
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    assert_eq!(list["items"][0]["status"], "pending");
    let actions =
        admin.get(&format!("/v1/orgs/{org}/audit?action=invitation")).await.body["items"].as_array().unwrap().len();
    assert_eq!(actions, 3);
    // A member who joined with their address is known by it: `already_member`.
    let id = results[0]["invitation_id"].as_str().unwrap();
    member.post(&format!("/v1/me/invitations/{id}/accept"), json!({})).await.problem(409, "already_member");
    let joined = registered("Пришла сама").await;
    let r = admin
        .post(&format!("/v1/orgs/{org}/members"), json!({"email": joined.email, "roles": [teacher("У", &[])]}))
        .await;
    let invitation = r.ok(202)["invitation_id"].as_str().unwrap().to_string();
    joined.post(&format!("/v1/me/invitations/{invitation}/accept"), json!({})).await.ok(200);
    let r = admin
        .post(&format!("/v1/orgs/{org}/invitations"), json!({"emails": [joined.email], "role": teacher("У", &[])}))
        .await;
    assert_eq!(r.ok(200)["results"][0]["status"], "already_member");
    assert!(r.body["results"][0]["invitation_id"].is_null());
}

#[tokio::test]
async fn invitations_refuse_bad_requests() {
    let admin = User::new("Admin");
    let (org, classes) = school(&admin, "2026/2027", &[(1, "А")]).await;
    let path = format!("/v1/orgs/{org}/invitations");
    let too_many: Vec<String> = (0..101).map(|i| format!("p{i}@school.test")).collect();
    admin
        .post(&path, json!({"emails": too_many, "role": teacher("Учитель", &[])}))
        .await
        .problem(422, "validation_failed");
    admin.post(&path, json!({"emails": [], "role": teacher("Учитель", &[])})).await.problem(422, "validation_failed");
    let r = admin.post(&path, json!({"emails": ["a@school.test"], "role": {"role": "teacher"}})).await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["role.position"]);
    let r = admin
        .post(&path, json!({"emails": ["a@school.test"], "role": teacher("Учитель", &[]), "group_id": "nope"}))
        .await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["group_id"]);
    // Teachers invite students and parents, not colleagues; others not at all.
    let t = enrol(&admin, &org, "Учитель", json!([teacher("Учитель", &[&classes[0]])])).await;
    t.post(&path, json!({"emails": ["b@school.test"], "role": teacher("Учитель", &[])}))
        .await
        .problem(403, "forbidden");
    let ok = t
        .post(&path, json!({"emails": ["parent@school.test"], "role": {"role": "parent", "class_ids": [classes[0]]}}))
        .await;
    assert_eq!(ok.ok(200)["results"][0]["status"], "invited");
    let s = enrol(&admin, &org, "Ученик", json!([student(&classes[0])])).await;
    s.post(&path, json!({"emails": ["c@school.test"], "role": student(&classes[0])})).await.problem(403, "forbidden");
    s.get(&path).await.problem(403, "forbidden");
    assert_eq!(t.get(&path).await.ok(200)["items"].as_array().unwrap().len(), 1, "teachers see their own");
}

#[tokio::test]
async fn the_invitee_accepts_with_a_verified_address_and_becomes_a_member() {
    let admin = User::new("Admin");
    let (org, classes) = school(&admin, "2026/2027", &[(6, "В")]).await;
    let invitee = User::new("Новенькая");
    let id = admin
        .post(&format!("/v1/orgs/{org}/invitations"), json!({"emails": [invitee.email], "role": student(&classes[0])}))
        .await
        .ok(200)["results"][0]["invitation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mine = invitee.get("/v1/me/invitations").await.ok(200).clone();
    assert_eq!(mine["items"][0]["id"], id.as_str());
    assert_eq!(mine["items"][0]["org_name"], "Школа");
    // The same address, unverified, sees and accepts nothing.
    let mut unverified = User::with("Самозванец", false);
    unverified.email = invitee.email.clone();
    let claims =
        kabinet_local::tokens::DevClaims::new(&unverified.sub, Some(&invitee.email), Some("Самозванец"), false, 3600);
    unverified.token = kabinet_local::tokens::mint(support::SECRET, &claims);
    assert_eq!(unverified.get("/v1/me/invitations").await.ok(200)["items"], json!([]));
    unverified.post(&format!("/v1/me/invitations/{id}/accept"), json!({})).await.problem(404, "not_found");
    // Someone else: nothing to see.
    User::new("Other").post(&format!("/v1/me/invitations/{id}/accept"), json!({})).await.problem(404, "not_found");
    let m = invitee.post(&format!("/v1/me/invitations/{id}/accept"), json!({})).await.ok(200).clone();
    assert_eq!(m["source"], "invitation");
    assert_eq!(m["roles"][0]["class_ids"], json!([classes[0]]));
    assert_eq!(invitee.get(&format!("/v1/orgs/{org}")).await.status, 200);
    assert_eq!(
        admin.get(&format!("/v1/orgs/{org}/classes/{}", classes[0])).await.body["students"][0]["name"],
        "Новенькая"
    );
    invitee.post(&format!("/v1/me/invitations/{id}/accept"), json!({})).await.problem(409, "already_decided");
    assert_eq!(invitee.get("/v1/me/invitations").await.ok(200)["items"], json!([]));
    let list = admin.get(&format!("/v1/orgs/{org}/invitations")).await.body.clone();
    assert_eq!(list["items"][0]["status"], "accepted");
}

#[tokio::test]
async fn resend_revoke_and_decline() {
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    let a = User::new("A");
    let b = User::new("B");
    let r = admin
        .post(
            &format!("/v1/orgs/{org}/invitations"),
            json!({"emails": [a.email, b.email], "role": teacher("Учитель", &[])}),
        )
        .await
        .ok(200)
        .clone();
    let (ia, ib) = (
        r["results"][0]["invitation_id"].as_str().unwrap().to_string(),
        r["results"][1]["invitation_id"].as_str().unwrap().to_string(),
    );
    await_mail(&a.email, 1).await;
    let again = admin.post(&format!("/v1/orgs/{org}/invitations/{ia}/resend"), json!({})).await.ok(200).clone();
    assert_eq!(again["send_count"], 2);
    assert_eq!(await_mail(&a.email, 2).await.len(), 2, "a new email");
    assert_eq!(admin.delete(&format!("/v1/orgs/{org}/invitations/{ia}")).await.status, 204);
    a.post(&format!("/v1/me/invitations/{ia}/accept"), json!({})).await.problem(409, "already_decided");
    admin.post(&format!("/v1/orgs/{org}/invitations/{ia}/resend"), json!({})).await.problem(409, "already_decided");
    assert_eq!(b.post(&format!("/v1/me/invitations/{ib}/decline"), json!({})).await.status, 204);
    b.post(&format!("/v1/me/invitations/{ib}/accept"), json!({})).await.problem(409, "already_decided");
    let statuses: Vec<String> = admin.get(&format!("/v1/orgs/{org}/invitations")).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap().to_string())
        .collect();
    assert!(statuses.contains(&"revoked".to_string()) && statuses.contains(&"declined".to_string()), "{statuses:?}");
    // After a revoke the address can be invited anew.
    let r = admin
        .post(&format!("/v1/orgs/{org}/invitations"), json!({"emails": [a.email], "role": teacher("Учитель", &[])}))
        .await
        .ok(200)
        .clone();
    assert_ne!(r["results"][0]["invitation_id"], ia.as_str());
    admin
        .call(Method::POST, &format!("/v1/orgs/{org}/invitations/01jzzzzzzzzzzzzzzzzzzzzzzz/resend"), None, &[])
        .await
        .problem(404, "not_found");
    let audit: Vec<String> = admin.get(&format!("/v1/orgs/{org}/audit?action=invitation")).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert!(audit.contains(&"invitation.resend".to_string()) && audit.contains(&"invitation.revoke".to_string()));
}

#[tokio::test]
async fn an_expired_invitation_is_refused_until_resent() {
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    let u = User::new("Late");
    let id = admin
        .post(&format!("/v1/orgs/{org}/invitations"), json!({"emails": [u.email], "role": teacher("Учитель", &[])}))
        .await
        .ok(200)["results"][0]["invitation_id"]
        .as_str()
        .unwrap()
        .to_string();
    support::set_item_attr(&org, &format!("INVITE#{id}"), "expires_at", support::long_ago()).await;
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/invitations")).await.body["items"][0]["status"], "expired");
    assert_eq!(u.get("/v1/me/invitations").await.ok(200)["items"], json!([]));
    u.post(&format!("/v1/me/invitations/{id}/accept"), json!({})).await.problem(410, "invitation_expired");
    admin.post(&format!("/v1/orgs/{org}/invitations/{id}/resend"), json!({})).await.ok(200);
    assert_eq!(u.post(&format!("/v1/me/invitations/{id}/accept"), json!({})).await.status, 200);
}

/// An acceptance is in the organization's audit log, written with the membership; a
/// decline is not (it would name someone who gave the organization nothing).
#[tokio::test]
async fn accepting_and_declining_are_audited() {
    let admin = User::new("Админ");
    let org = admin.create_org("Школа").await;
    let yes = User::new("Согласная");
    let no = User::new("Несогласный");
    let r = admin
        .post(
            &format!("/v1/orgs/{org}/invitations"),
            json!({"emails": [yes.email, no.email], "role": teacher("Учитель", &[])}),
        )
        .await
        .ok(200)
        .clone();
    let id = |i: usize| r["results"][i]["invitation_id"].as_str().unwrap().to_string();
    yes.post(&format!("/v1/me/invitations/{}/accept", id(0)), json!({})).await.ok(200);
    no.post(&format!("/v1/me/invitations/{}/decline", id(1)), json!({})).await;
    let log = admin.get(&format!("/v1/orgs/{org}/audit?action=invitation")).await.ok(200).clone();
    let entries = log["items"].as_array().unwrap();
    let entry = |action: &str| entries.iter().find(|e| e["action"] == action).cloned().unwrap_or_default();
    let accepted = entry("invitation.accept");
    assert_eq!(
        (accepted["actor"]["id"].as_str(), accepted["target"]["id"].as_str()),
        (Some(yes.sub.as_str()), Some(id(0).as_str()))
    );
    assert_eq!(entries.len(), 1 + 2, "two created, one accepted: {entries:?}");
    assert!(!log.to_string().contains(&no.sub), "the one who declined is not named");
}
