//! The sending reputation (R8.4): SES's mailbox simulator in the emulator bounces or
//! complains of a message, the mail events' consumer marks the address, and kabinet stops
//! mailing it.

use std::time::Duration;

use kabinet_tests::support::{
    add_to_group, await_mail, event_items, eventually, mail_to, new_group, start_mail_events, store, teacher, User,
};
use serde_json::{json, Value};

fn unique() -> String {
    ulid::Ulid::new().to_string().to_lowercase()
}

/// An invitation to an address that bounces shows `delivery: "bounced"` in the admins'
/// list, its resend answers 409 and sends nothing, a new invitation to the address
/// answers 422, and the admins have their event.
#[tokio::test]
async fn a_bounced_invitation_shows_and_is_not_mailed_again() {
    start_mail_events().await;
    let admin = User::new("Директор");
    let org = admin.create_org("Школа № 57").await;
    let bouncing = format!("bounce+{}@simulator.amazonses.com", unique());
    let r = admin
        .post(&format!("/v1/orgs/{org}/invitations"), json!({"emails": [bouncing], "role": teacher("Учитель", &[])}))
        .await
        .ok(200)
        .clone();
    let id = r["results"][0]["invitation_id"].as_str().unwrap().to_string();
    assert_eq!(await_mail(&bouncing, 1).await.len(), 1, "SES accepts it, then it bounces");
    let listed = eventually("the invitation shows the bounce", || async {
        let page = admin.get(&format!("/v1/orgs/{org}/invitations")).await.ok(200).clone();
        let item = page["items"].as_array().unwrap().iter().find(|i| i["id"] == id.as_str()).cloned()?;
        (item["delivery"] == "bounced").then_some(item)
    })
    .await;
    assert_eq!(listed["status"], "pending");
    admin
        .post(&format!("/v1/orgs/{org}/invitations/{id}/resend"), json!({}))
        .await
        .problem(409, "invitation_undeliverable");
    let again = admin
        .post(&format!("/v1/orgs/{org}/invitations"), json!({"emails": [bouncing], "role": teacher("Учитель", &[])}))
        .await;
    again.problem(422, "email_undeliverable");
    assert!(again.body["detail"].as_str().unwrap().contains(&bouncing), "{}", again.body);
    // One event for the admins, however often SES's event came.
    let told = event_items("invitation_bounced").await;
    assert_eq!(told.len(), 1, "{told:?}");
    let payload: Value = serde_json::from_str(told[0]["payload"].as_s().unwrap()).unwrap();
    assert_eq!((payload["invitation_id"].as_str(), payload["reason"].as_str()), (Some(id.as_str()), Some("bounced")));
    assert_eq!(payload["email"], bouncing.as_str());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(mail_to(&bouncing).await.len(), 1, "no second mail");
    let marked = store().await.undeliverable(&[bouncing.as_str()]).await.unwrap();
    assert_eq!(marked[&bouncing].reason, kabinet::domain::Delivery::Bounced);
    // The admins read it in their inbox (no mail of its own).
    let note = eventually("the admin's inbox tells of the bounce", || async {
        let inbox = admin.get("/v1/me/notifications").await.ok(200).clone();
        inbox["items"].as_array().unwrap().iter().find(|n| n["kind"] == "invitation_bounced").cloned()
    })
    .await;
    assert_eq!(note["org_id"], org.as_str());
    assert_eq!(note["resource"], format!("/orgs/{org}/invitations/{id}").as_str());
    assert!(note["title"].as_str().unwrap().contains(&bouncing), "{note}");
    assert!(note["text"].as_str().unwrap().contains("не доставлено"), "{note}");
    assert_eq!(note["read"], false);
}

/// A member whose address complained is not mailed an announcement: its event records
/// the skip with why.
#[tokio::test]
async fn an_address_that_complained_is_not_mailed_again() {
    start_mail_events().await;
    let admin = User::new("Директор");
    let org = admin.create_org("Школа № 58").await;
    let complaining = format!("complaint+{}@simulator.amazonses.com", unique());
    let member = User::with_email("Ольга Петрова", &complaining, true);
    member.get("/v1/me").await.ok(200);
    admin
        .post(&format!("/v1/orgs/{org}/members"), json!({"user_id": member.sub, "roles": [teacher("Учитель", &[])]}))
        .await
        .ok(201);
    assert_eq!(await_mail(&complaining, 1).await.len(), 1, "the first mail goes, and is complained of");
    eventually("the address is marked", || async {
        let marked = store().await.undeliverable(&[complaining.as_str()]).await.unwrap();
        marked.get(&complaining).map(|u| u.reason).filter(|r| *r == kabinet::domain::Delivery::Complained)
    })
    .await;
    let group = new_group(&admin, &org, "7А: алгебра").await["id"].as_str().unwrap().to_string();
    add_to_group(&admin, &org, &group, &[&member]).await;
    admin
        .post(
            &format!("/v1/orgs/{org}/groups/{group}/announcements"),
            json!({"title": "Собрание", "body": "В пятницу в 18:00"}),
        )
        .await
        .ok(201);
    let skipped = eventually("the announcement records the skip", || async {
        let events = event_items("announcement").await;
        events.into_iter().find_map(|e| e.get("skipped").cloned())
    })
    .await;
    let skipped = skipped.as_l().unwrap();
    assert_eq!(skipped.len(), 1);
    let one = skipped[0].as_m().unwrap();
    assert_eq!(one["user_id"].as_s().unwrap(), &complaining);
    assert!(one["reason"].as_s().unwrap().contains("undeliverable (complained)"), "{one:?}");
    assert_eq!(mail_to(&complaining).await.len(), 1, "nothing after the complaint");
}
