//! Notification emails: sent from the outbox through the stream, in the recipient's
//! language, with text and HTML; never twice, never lost.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use kabinet::events::{notifier, ChangeRecord};
use kabinet::store::outbox::Event;
use kabinet_tests::support;
use kabinet_tests::support::{await_mail, env, mail_to, registered, school, teacher, User};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_person_added_gets_an_email_in_russian_by_default() {
    let admin = User::new("Директор Иванова");
    let org = admin.create_org("Школа №7").await;
    let t = registered("Пётр Сергеевич").await;
    admin
        .post(&format!("/v1/orgs/{org}/members"), json!({"user_id": t.sub, "roles": [teacher("Учитель физики", &[])]}))
        .await
        .ok(201);
    let mail = await_mail(&t.email, 1).await;
    assert_eq!(mail.len(), 1, "one email");
    let m = &mail[0];
    assert_eq!(m["to"], json!([t.email]));
    assert_eq!(m["subject"], "Вас добавили в Школа №7");
    let text = m["text"].as_str().unwrap();
    assert!(
        text.contains("Здравствуйте, Пётр Сергеевич!")
            && text.contains("Директор Иванова")
            && text.contains("учитель (Учитель физики)"),
        "{text}"
    );
    assert!(text.contains(&format!("/orgs/{org}")), "a link to the organization: {text}");
    assert!(m["html"].as_str().unwrap().contains("<b>Школа №7</b>"));
    assert!(m["from"].as_str().unwrap().contains("no-reply@kabinet.test"));
    assert!(m["sent_at"].as_str().is_some_and(|s| !s.is_empty()));
}

#[tokio::test]
async fn an_appointed_admin_reads_it_in_english_when_they_chose_english() {
    let admin = User::new("Head");
    let org = admin.create_org("Oak School").await;
    let t = registered("Jane").await;
    t.patch("/v1/me", json!({"language": "en"})).await.ok(200);
    admin
        .post(&format!("/v1/orgs/{org}/members"), json!({"user_id": t.sub, "roles": [teacher("Teacher", &[])]}))
        .await
        .ok(201);
    admin.call(Method::PUT, &format!("/v1/orgs/{org}/admins/{}", t.sub), None, &[]).await.ok(200);
    let mail = await_mail(&t.email, 2).await;
    let subjects: Vec<&str> = mail.iter().map(|m| m["subject"].as_str().unwrap()).collect();
    assert!(subjects.contains(&"You were added to Oak School"), "{subjects:?}");
    assert!(subjects.contains(&"You are an administrator of Oak School"), "{subjects:?}");
    let appointed = mail.iter().find(|m| m["subject"] == "You are an administrator of Oak School").unwrap();
    assert!(appointed["text"].as_str().unwrap().contains("Head made you an administrator"));
}

#[tokio::test]
async fn join_requests_notify_every_admin_and_then_the_requester() {
    let admin = User::new("Админ");
    let (org, _) = school(&admin, "2026/2027", &[]).await;
    let second = registered("Second admin").await;
    second.patch("/v1/me", json!({"language": "en"})).await.ok(200);
    admin
        .post(&format!("/v1/orgs/{org}/members"), json!({"user_id": second.sub, "roles": [teacher("Завуч", &[])]}))
        .await
        .ok(201);
    admin.call(Method::PUT, &format!("/v1/orgs/{org}/admins/{}", second.sub), None, &[]).await.ok(200);
    let until = kabinet::domain::Timestamp::now().plus(time::Duration::days(3)).to_string();
    let link = admin
        .post(
            &format!("/v1/orgs/{org}/invite-links"),
            json!({"expires_at": until, "max_uses": 5, "roles": [teacher("Учитель", &[])]}),
        )
        .await
        .ok(201)
        .clone();
    let token = link["token"].as_str().unwrap();
    let a = User::new("Анна Кандидат");
    let b = User::new("Борис Кандидат");
    let ra = a.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rb = b.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let to_admin = await_mail(&admin.email, 2).await;
    let ru: Vec<&serde_json::Value> =
        to_admin.iter().filter(|m| m["subject"].as_str().unwrap().starts_with("Новая заявка")).collect();
    assert_eq!(ru.len(), 2);
    assert!(ru.iter().any(|m| m["text"].as_str().unwrap().contains("Анна Кандидат")));
    let en = await_mail(&second.email, 4).await;
    assert_eq!(en.iter().filter(|m| m["subject"].as_str().unwrap().starts_with("New request to join")).count(), 2);
    support::decide(&admin, &org, &ra, "accept", json!({})).await.ok(200);
    support::decide(&admin, &org, &rb, "reject", json!({"reason": "Вакансий нет"})).await.ok(200);
    let accepted = await_mail(&a.email, 1).await;
    assert_eq!(accepted[0]["subject"], "Заявка в Школа принята");
    let rejected = await_mail(&b.email, 1).await;
    assert_eq!(rejected[0]["subject"], "Заявка в Школа отклонена");
    assert!(rejected[0]["text"].as_str().unwrap().contains("Причина: Вакансий нет"));
    assert!(rejected[0]["html"].as_str().unwrap().contains("Вакансий нет"));
}

/// An email that can never go (an address SES cannot take, here one with a non-ASCII
/// part before `@` that an identity provider gave) is recorded on the event and on its
/// send claim, counted and not retried; the event's other recipients get theirs.
#[tokio::test]
async fn an_address_mail_cannot_reach_is_recorded_not_retried_and_the_others_still_go() {
    let admin = User::new("Админ");
    let org = admin.create_org("Школа с ошибкой").await;
    let id = ulid::Ulid::new().to_string().to_lowercase();
    let bad = User::with_email("Учитель", &format!("учитель{id}@школа.рф"), true);
    bad.get("/v1/me").await.ok(200);
    admin
        .post(&format!("/v1/orgs/{org}/members"), json!({"user_id": bad.sub, "roles": [teacher("Учитель", &[])]}))
        .await
        .ok(201);
    admin.call(Method::PUT, &format!("/v1/orgs/{org}/admins/{}", bad.sub), None, &[]).await.ok(200);
    let event = Event::new(
        "join_request_submitted",
        None,
        json!({"org_id": org, "org_name": "Школа с ошибкой", "request_id": "r1", "user_id": admin.sub, "name": "Кандидат",
               "roles": []}),
    );
    let ctx = ctx_with_mail_from("no-reply@kabinet.test").await;
    let record = stored(&event).await;
    settle(&ctx, &record).await;
    assert_eq!(
        mail_to(&admin.email).await.iter().filter(|m| m["text"].as_str().unwrap().contains("Кандидат")).count(),
        1
    );
    let failures = event_item(event.id.as_str()).await["failures"].as_l().unwrap().clone();
    assert_eq!(failures.len(), 1, "{failures:?}");
    let failure = failures[0].as_m().unwrap();
    assert_eq!(failure["to"].as_s().unwrap(), &bad.email);
    assert!(failure["reason"].as_s().unwrap().contains("cannot receive mail"), "{failure:?}");
    // Delivered again: nothing is sent, nothing is recorded twice, nothing is retried.
    assert!(notifier::process(&ctx, vec![record.clone(), record]).await.is_empty());
    assert_eq!(event_item(event.id.as_str()).await["failures"].as_l().unwrap().len(), 1);
}

/// An event whose data cannot be read is recorded on its item and not retried.
#[tokio::test]
async fn an_unreadable_event_is_recorded_and_not_retried() {
    let event = Event::new("member_added", None, json!({"org_name": 7}));
    let ctx = ctx_with_mail_from("no-reply@kabinet.test").await;
    let record = stored(&event).await;
    settle(&ctx, &record).await;
    assert!(notifier::process(&ctx, vec![record]).await.is_empty());
    let failures = event_item(event.id.as_str()).await["failures"].as_l().unwrap().clone();
    assert_eq!(failures.len(), 1, "recorded once: {failures:?}");
    assert!(failures[0].as_m().unwrap()["to"].is_null());
}

/// Stores an outbox event as a change would, and answers its stream record. The local
/// notifier of the test gateway delivers it too; the send claims keep them apart.
async fn stored(event: &Event) -> ChangeRecord {
    let record = record_for(event).await;
    support::dynamodb()
        .await
        .put_item()
        .table_name(&env().await.config.table)
        .set_item(Some(record.new_image.clone()))
        .send()
        .await
        .unwrap();
    record
}

/// Delivers `record` until no delivery holds a claim on it any more (the gateway's own
/// notifier may be delivering it at the same time).
async fn settle(ctx: &kabinet::Ctx, record: &ChangeRecord) {
    for _ in 0..50 {
        if notifier::process(ctx, vec![record.clone()]).await.is_empty() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{} was never delivered", record.id);
}

async fn event_item(id: &str) -> HashMap<String, AttributeValue> {
    support::item(&format!("EVENT#{id}"), "EVENT").await
}

/// An outbox event as the stream would hand it over.
async fn record_for(event: &Event) -> ChangeRecord {
    let mut item: HashMap<String, AttributeValue> = serde_dynamo::to_item(event).unwrap();
    item.insert("pk".into(), AttributeValue::S(format!("EVENT#{}", event.id)));
    item.insert("sk".into(), AttributeValue::S("EVENT".into()));
    ChangeRecord { id: format!("seq-{}", event.id), event_name: "INSERT".into(), new_image: item, ..Default::default() }
}

async fn ctx_with_mail_from(from: &str) -> kabinet::Ctx {
    let env = env().await;
    let aws = kabinet_local::emulator::sdk_config(&env.endpoint).await;
    let mut config = env.config.clone();
    config.mail_from = from.into();
    kabinet::Ctx::new(config, &aws)
}

#[tokio::test]
async fn the_same_event_delivered_twice_sends_one_email() {
    let u = registered("Twice").await;
    let event = Event::new(
        "member_added",
        None,
        json!({"org_id": "k7m3xq9pza", "org_name": "Дубль", "user_id": u.sub, "roles": [], "by": "Кто-то"}),
    );
    let ctx = ctx_with_mail_from("no-reply@kabinet.test").await;
    let record = record_for(&event).await;
    assert!(notifier::process(&ctx, vec![record.clone()]).await.is_empty());
    assert!(notifier::process(&ctx, vec![record.clone(), record]).await.is_empty());
    assert_eq!(mail_to(&u.email).await.len(), 1);
}

#[tokio::test]
async fn a_failing_send_is_reported_for_retry_and_sent_once_later() {
    let u = registered("Retry").await;
    let event = Event::new(
        "member_added",
        None,
        json!({"org_id": "k7m3xq9pza", "org_name": "Повтор", "user_id": u.sub, "roles": [], "by": "Кто-то"}),
    );
    let record = record_for(&event).await;
    let other = Event::new("something_without_mail", None, json!({}));
    // SES refuses a sender whose identity is not verified (a setting to fix, not a
    // message that can never go): the record is reported failed, to be delivered again.
    let broken = ctx_with_mail_from("no-reply@unverified.example").await;
    let failed = notifier::process(&broken, vec![record_for(&other).await, record.clone()]).await;
    assert_eq!(failed, vec![record.id.clone()]);
    assert!(mail_to(&u.email).await.is_empty());
    // Redelivered to a working notifier: sent, once.
    let ctx = ctx_with_mail_from("no-reply@kabinet.test").await;
    assert!(notifier::process(&ctx, vec![record.clone()]).await.is_empty());
    assert!(notifier::process(&ctx, vec![record]).await.is_empty());
    assert_eq!(mail_to(&u.email).await.len(), 1);
}

#[tokio::test]
async fn the_local_mail_page_shows_what_was_sent() {
    let r = support::send(Method::GET, "/_local/mail.html", None, None, &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text.contains("Sent mail"));
    // Not part of the API.
    let doc = kabinet::openapi::document();
    assert!(serde_json::to_string(doc).unwrap().find("_local").is_none());
}

/// Mail goes only to an address the person's latest token said was verified: someone
/// whose identity provider now gives a changed, unverified email is mailed at neither
/// address; the event records the skip (by user ID) and is not retried.
#[tokio::test]
async fn a_changed_address_not_yet_verified_is_not_mailed() {
    let admin = User::new("Директор");
    let org = admin.create_org("Школа № 3").await;
    let t = registered("Пётр Сергеевич").await;
    let changed = t.with_new_email(&format!("new-{}", t.email), false);
    assert_eq!(changed.get("/v1/me").await.ok(200)["email_verified"], false);
    admin
        .post(&format!("/v1/orgs/{org}/members"), json!({"user_id": t.sub, "roles": [teacher("Учитель", &[])]}))
        .await
        .ok(201);
    // Delivered: the event records the person skipped.
    let mut skipped = Vec::new();
    for _ in 0..150 {
        skipped = support::event_items("member_added").await;
        if skipped.iter().any(|e| e.contains_key("skipped")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let event = skipped.iter().find(|e| e.contains_key("skipped")).expect("the event records the skip");
    let list = event["skipped"].as_l().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].as_m().unwrap()["user_id"].as_s().unwrap(), &t.sub);
    assert!(!event.contains_key("failures") && !event.contains_key("failed_attempts"), "not a failure: {event:?}");
    assert!(mail_to(&changed.email).await.is_empty(), "nothing to the unverified address");
    assert!(mail_to(&t.email).await.is_empty(), "nothing to the old one either: the profile holds the new");
    // Verified again: the next event reaches them.
    let verified = t.with_new_email(&changed.email, true);
    verified.get("/v1/me").await.ok(200);
    admin.call(Method::PUT, &format!("/v1/orgs/{org}/admins/{}", t.sub), None, &[]).await.ok(200);
    assert_eq!(await_mail(&changed.email, 1).await.len(), 1);
}
