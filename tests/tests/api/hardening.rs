//! Hardening: what a hostile or careless input must not do, and edge cases found in review.
//! Forged cursors and IDs that cannot exist; teachers who stopped teaching; invitations
//! renewed and their emails limited; concurrent promotions; joining another way ending a
//! pending request; line breaks in single-line fields; access tokens; decisions on the
//! version an admin saw; a write by an admin demoted meanwhile; link tokens never stored;
//! emails shown only to whom they were given.

use base64::Engine;
use kabinet::domain::AuditAction;
use kabinet_tests::support;
use kabinet_tests::support::{await_mail, enrol, parent, registered, school, student, teacher, User};
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

/// Single-line fields refuse line breaks and control characters (they reach mail
/// headers); multi-line fields keep line breaks.
#[tokio::test]
async fn single_line_fields_refuse_line_breaks() {
    let admin = User::new("Admin");
    let injected = "Acme\r\nBcc: x@evil.example";
    let r = admin.post("/v1/orgs", json!({"name": injected})).await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["name"]);
    let (org, classes) = school(&admin, "2026/2027", &[(5, "А")]).await;
    let o = format!("/v1/orgs/{org}");
    for body in [json!({"name": "Школа\n№1"}), json!({"short_name": "Ш\t1"}), json!({"address": "Омск\r\nBcc: x"})]
    {
        let field = body.as_object().unwrap().keys().next().unwrap().clone();
        let r = admin.patch(&o, body).await;
        assert_eq!(r.problem(422, "validation_failed").error_fields(), [field]);
    }
    assert_eq!(admin.get(&o).await.ok(200)["name"], "Школа");
    // A description keeps its lines (CRLF becomes LF).
    let r = admin.patch(&o, json!({"description": "Строка 1\r\nСтрока 2"})).await;
    assert_eq!(r.ok(200)["description"], "Строка 1\nСтрока 2");
    let t = registered("Учитель").await;
    let r = admin
        .post(
            &format!("{o}/members"),
            json!({"user_id": t.sub, "roles": [teacher("Учитель\r\nBcc: x", &[&classes[0]])]}),
        )
        .await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["roles[0].position"]);
    let r = admin.patch("/v1/me", json!({"name": "Анна\nBcc: x"})).await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["name"]);
    let r = admin.post(&format!("{o}/classes"), json!({"name": "Кружок\r\n", "year": "2026/2027"})).await;
    assert_eq!(r.ok(201)["name"], "Кружок", "surrounding white space is trimmed, not refused");
    let r = admin.post(&format!("{o}/classes"), json!({"name": "Кру\r\nжок", "year": "2026/2027"})).await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["name"]);
}

/// The same person's token, changed by `edit` (another kind of token, say).
fn token_like(user: &User, edit: impl FnOnce(&mut kabinet_local::tokens::DevClaims)) -> User {
    let mut claims = kabinet_local::tokens::DevClaims::new(&user.sub, Some(&user.email), Some(&user.name), true, 3600);
    edit(&mut claims);
    User { token: kabinet_local::tokens::mint(support::SECRET, &claims), ..user.clone() }
}

/// Only ID tokens sign in (a Cognito access token carries no email); a token without an
/// email never erases the stored one.
#[tokio::test]
async fn access_tokens_are_refused_and_never_erase_the_email() {
    let anna = registered("Анна").await;
    let access = token_like(&anna, |c| c.token_use = Some("access".into()));
    let r = access.get("/v1/me").await;
    r.problem(401, "unauthorized");
    assert!(r.text.contains("ID tokens"), "{}", r.text);
    // A token without the claim is taken (older dev tokens); without an email it leaves
    // the stored email and its verification alone.
    let bare = token_like(&anna, |c| {
        c.token_use = None;
        c.email = None;
        c.email_verified = false;
    });
    let me = bare.get("/v1/me").await.ok(200).clone();
    assert_eq!(me["email"], anna.email.as_str());
    assert_eq!(me["email_verified"], true);
    assert_eq!(anna.get("/v1/me").await.ok(200)["email"], anna.email.as_str());
}

/// An admin accepts the request they saw: the requester's later edit makes their
/// decision 412, not an acceptance of roles they never saw.
#[tokio::test]
async fn a_decision_needs_the_version_the_admin_saw() {
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(1, "А"), (9, "Б")]).await;
    let r = admin
        .post(
            &format!("/v1/orgs/{org}/invite-links"),
            json!({"expires_at": (time::OffsetDateTime::now_utc() + time::Duration::days(2)).format(&time::format_description::well_known::Rfc3339).unwrap(),
                   "roles": [support::student(&classes[0])]}),
        )
        .await;
    let token = r.ok(201)["token"].as_str().unwrap().to_string();
    let pupil = User::new("Ученик");
    let id = pupil.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!("/v1/orgs/{org}/join-requests/{id}");
    let seen = admin.get(&base).await;
    let etag = seen.header("etag").unwrap().to_string();
    let listed = admin.get(&format!("/v1/orgs/{org}/join-requests")).await.ok(200)["items"][0]["etag"].clone();
    assert_eq!(listed, etag.as_str(), "lists carry each request's ETag");
    // The requester moves themself to 9Б after the admin looked.
    let r = pupil.patch(&format!("/v1/me/join-requests/{id}"), json!({"roles": [support::student(&classes[1])]})).await;
    assert_ne!(r.header("etag").unwrap(), etag);
    let post = |action: &'static str, if_match: Option<String>| {
        let (admin, base) = (admin.clone(), base.clone());
        async move {
            let headers: Vec<(&str, &str)> = if_match.iter().map(|e| ("If-Match", e.as_str())).collect();
            admin
                .call(reqwest::Method::POST, &format!("{base}/{action}"), Some(json!({"reason": "нет"})), &headers)
                .await
        }
    };
    post("accept", None).await.problem(428, "precondition_required");
    post("accept", Some("*".into())).await.problem(428, "precondition_required");
    post("accept", Some(etag.clone())).await.problem(412, "precondition_failed");
    post("reject", Some(etag.clone())).await.problem(412, "precondition_failed");
    assert_eq!(admin.get(&base).await.ok(200)["status"], "pending", "nothing changed");
    // Read again, decide on what is shown.
    let fresh = admin.get(&base).await.header("etag").unwrap().to_string();
    let r = post("accept", Some(fresh)).await;
    assert_eq!(r.ok(200)["roles"][0]["class_ids"], json!([classes[1]]));
    assert!(r.header("etag").is_some());
}

/// An admin's write that was read while they were an admin but runs after they were
/// demoted is refused: every admin write checks the actor in its own transaction.
#[tokio::test]
async fn a_write_by_an_admin_demoted_meanwhile_is_refused() {
    use kabinet::domain::{Actor, AuditEntry, OrgId, UserId};
    let a = User::new("Анна");
    let org = a.create_org("Школа").await;
    let b = registered("Борис").await;
    support::add_member(&org, &b, vec![kabinet::domain::RoleGrant::staff("Завуч")], true).await;
    // Борис reads the organization as an admin (what a handler does first)...
    let org_id = OrgId::parse(&org).unwrap();
    let read = support::store().await.org(&org_id).await.unwrap().unwrap();
    // ...and Анна demotes him before his write runs.
    a.delete(&format!("/v1/orgs/{org}/admins/{}", b.sub)).await;
    assert_eq!(a.get(&format!("/v1/orgs/{org}/members/{}", b.sub)).await.ok(200)["admin"], false);
    let actor = Actor { id: UserId::parse(&b.sub).unwrap(), name: b.name.clone() };
    let audit = AuditEntry::new(&org_id, &actor, AuditAction::OrgUpdate, "org", &org).as_admin(true);
    let mut profile = read.profile();
    profile.name = "Школа Бориса".into();
    let e = support::store().await.update_org_profile(&read, &profile, &audit).await.unwrap_err();
    assert!(matches!(e, kabinet::store::StoreError::NoLongerAdmin), "{e:?}");
    assert_eq!(a.get(&format!("/v1/orgs/{org}")).await.ok(200)["name"], "Школа");
    // Over HTTP, his next write is a 403 as well (read afresh).
    b.patch(&format!("/v1/orgs/{org}"), json!({"name": "Школа Бориса"})).await.problem(403, "forbidden");
    // Anna, still an admin, writes as before.
    a.patch(&format!("/v1/orgs/{org}"), json!({"name": "Школа №2"})).await.ok(200);
}

/// A new link's token is a secret: nothing in the table (and so in its stream and
/// backups) holds it, and an idempotent retry of the creation still answers it.
#[tokio::test]
async fn link_tokens_are_never_stored_in_plain_text() {
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    let body = json!({
        "expires_at": (time::OffsetDateTime::now_utc() + time::Duration::days(2))
            .format(&time::format_description::well_known::Rfc3339).unwrap(),
        "roles": [teacher("Учитель", &[])],
    });
    let key = ulid::Ulid::new().to_string();
    let path = format!("/v1/orgs/{org}/invite-links");
    let first = admin.call(reqwest::Method::POST, &path, Some(body.clone()), &[("Idempotency-Key", &key)]).await;
    let token = first.ok(201)["token"].as_str().unwrap().to_string();
    let again = admin.call(reqwest::Method::POST, &path, Some(body), &[("Idempotency-Key", &key)]).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.ok(201)["token"], token.as_str(), "the retry gets a usable answer");
    let db = support::dynamodb().await;
    let table = support::env().await.config.table.clone();
    let mut start = None;
    loop {
        let out = db.scan().table_name(&table).set_exclusive_start_key(start).send().await.unwrap();
        for item in out.items() {
            let text = format!("{item:?}");
            assert!(!text.contains(&token), "an item holds the token: {text}");
            assert!(!text.contains(&key), "an item holds the Idempotency-Key: {text}");
        }
        start = out.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    // The link works.
    let u = User::new("Учитель");
    u.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201);
}

/// Emails are personal data: a stranger who makes an organization and adds someone by
/// their user ID learns their name, not their address; an add by email tells nobody
/// whether the address is registered; teachers and other members see no addresses.
#[tokio::test]
async fn emails_are_shown_only_to_the_person_and_the_admins_they_gave_them_to() {
    let stranger = User::new("Чужой");
    let their_org = stranger.create_org("Моя школа").await;
    let victim = registered("Вера Павловна").await;
    let path = format!("/v1/orgs/{their_org}/members");
    let added = stranger.post(&path, json!({"user_id": victim.sub, "roles": [teacher("Учитель", &[])]})).await;
    assert_eq!(added.ok(201)["name"], "Вера Павловна");
    assert!(!added.text.contains(&victim.email), "{}", added.text);
    let listed = stranger.get(&path).await;
    assert!(!listed.ok(200).to_string().contains(&victim.email));
    // Registered or not, an add by email answers alike (status and shape).
    let registered_answer =
        stranger.post(&path, json!({"email": registered("Иван").await.email, "roles": [teacher("У", &[])]})).await;
    let unknown_answer =
        stranger.post(&path, json!({"email": "nobody.ever@school.test", "roles": [teacher("У", &[])]})).await;
    assert_eq!(registered_answer.status, 202);
    assert_eq!(unknown_answer.status, 202);
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&registered_answer.body), keys(&unknown_answer.body));
    assert_eq!(registered_answer.body["status"], unknown_answer.body["status"]);
    // Inviting the address of a member who gave none here does not say "already a member".
    let r = stranger
        .post(
            &format!("/v1/orgs/{their_org}/invitations"),
            json!({"emails": [victim.email], "role": teacher("У", &[])}),
        )
        .await;
    assert_eq!(r.ok(200)["results"][0]["status"], "invited");

    // In a school people joined themselves: the admin sees the address a member joined
    // with; a teacher of the class and other members do not; each person sees their own.
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(5, "А")]).await;
    let teacher_user = support::enrol(&admin, &org, "Учитель", json!([teacher("Учитель", &[&classes[0]])])).await;
    let pupil = User::new("Ученик");
    let invite = admin
        .post(
            &format!("/v1/orgs/{org}/members"),
            json!({"email": pupil.email, "roles": [support::student(&classes[0])]}),
        )
        .await;
    let id = invite.ok(202)["invitation_id"].as_str().unwrap().to_string();
    pupil.post(&format!("/v1/me/invitations/{id}/accept"), json!({})).await.ok(200);
    let member = format!("/v1/orgs/{org}/members/{}", pupil.sub);
    assert_eq!(admin.get(&member).await.ok(200)["email"], pupil.email.as_str());
    assert_eq!(pupil.get(&member).await.ok(200)["email"], pupil.email.as_str());
    assert_eq!(teacher_user.get(&member).await.ok(200)["email"], serde_json::Value::Null);
    let class_list = teacher_user.get(&format!("/v1/orgs/{org}/members?class={}", classes[0])).await;
    assert!(!class_list.ok(200).to_string().contains(&pupil.email));
    let admins = pupil.get(&format!("/v1/orgs/{org}/admins")).await;
    assert!(!admins.ok(200).to_string().contains(&admin.email), "members see their admins' names, not addresses");
    // The admin who created the school gave their address: other admins see it.
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/admins")).await.ok(200)["items"][0]["email"], admin.email.as_str());
}

/// Invitations cannot be a spam cannon: a resend within 10 minutes of the previous
/// resend is refused (the first is always allowed), and an organization's invitation
/// emails per day are limited.
#[tokio::test]
async fn invitation_emails_are_limited() {
    use kabinet::domain::invitations::DAILY_INVITATION_EMAILS;
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    let r = admin
        .post(&format!("/v1/orgs/{org}/invitations"), json!({"emails": ["a@school.test"], "role": teacher("У", &[])}))
        .await;
    let id = r.ok(200)["results"][0]["invitation_id"].as_str().unwrap().to_string();
    let resend = format!("/v1/orgs/{org}/invitations/{id}/resend");
    admin.post(&resend, json!({})).await.ok(200);
    let r = admin.post(&resend, json!({})).await;
    r.problem(429, "too_many_requests");
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((590..=600).contains(&wait), "{wait}");
    // The day's count is at the limit: nothing more goes out today.
    let day = kabinet::domain::Timestamp::now().day();
    support::dynamodb()
        .await
        .put_item()
        .table_name(&support::env().await.config.table)
        .item("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("ORG#{org}")))
        .item("sk", aws_sdk_dynamodb::types::AttributeValue::S(format!("MAILDAY#{day}")))
        .item("sent", aws_sdk_dynamodb::types::AttributeValue::N(DAILY_INVITATION_EMAILS.to_string()))
        .send()
        .await
        .unwrap();
    let r = admin
        .post(&format!("/v1/orgs/{org}/invitations"), json!({"emails": ["b@school.test"], "role": teacher("У", &[])}))
        .await;
    r.problem(429, "daily_limit");
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() <= 86_400);
    let r = admin
        .post(&format!("/v1/orgs/{org}/members"), json!({"email": "c@school.test", "roles": [teacher("У", &[])]}))
        .await;
    r.problem(429, "daily_limit");
    let listed = admin.get(&format!("/v1/orgs/{org}/invitations")).await.ok(200).clone();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "nothing was created past the limit");
}
