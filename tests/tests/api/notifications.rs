//! What people are told (R8.4): every event lands in the inbox of those it concerns, once;
//! reading moves the unread count; mail settings decide which of it mails them; one-click
//! unsubscribe (RFC 8058) works without signing in.

use std::time::Duration;

use kabinet_tests::support::{
    add_to_group, announce, await_mail, circle, eventually, mail_to, open_thread, reply, send_with, Circle, User,
};
use reqwest::Method;
use serde_json::{json, Value};

/// The caller's inbox, first page (of up to 100).
async fn inbox(who: &User) -> Value {
    who.get("/v1/me/notifications?limit=100").await.ok(200).clone()
}

/// The caller's inbox items of `kind`.
async fn items_of(who: &User, kind: &str) -> Vec<Value> {
    inbox(who).await["items"].as_array().unwrap().iter().filter(|n| n["kind"] == kind).cloned().collect()
}

/// Waits until `who` has `count` inbox items of `kind`, and answers them.
async fn await_items(who: &User, kind: &str, count: usize) -> Vec<Value> {
    eventually(&format!("{count} × {kind} in the inbox"), || async {
        let items = items_of(who, kind).await;
        (items.len() >= count).then_some(items)
    })
    .await
}

fn subjects(mail: &[Value], part: &str) -> usize {
    mail.iter().filter(|m| m["subject"].as_str().unwrap_or_default().contains(part)).count()
}

/// A circle whose outsider is in the group too (three members besides the admin).
async fn circle_of_three(name: &str) -> Circle {
    let c = circle(name).await;
    assert_eq!(add_to_group(&c.admin, &c.org, &c.group, &[&c.outsider]).await, ["added"]);
    c
}

#[tokio::test]
async fn an_announcement_lands_in_each_inbox_once_and_mails_only_who_kept_it_on() {
    let c = circle_of_three("Родительский чат 7А").await;
    // The outsider turns announcements off: the other kinds stay on.
    let set = c.outsider.patch("/v1/me/notification-settings", json!({"mail": {"announcement": false}})).await;
    let set = set.ok(200);
    assert_eq!(set["mail"]["announcement"], false);
    assert_eq!((set["mail"]["reply"].clone(), set["mail"]["added_to_group"].clone()), (json!(true), json!(true)));
    assert!(set["essential"].as_array().unwrap().iter().any(|e| e["kind"] == "invitation" && e["why"].is_string()));

    let posted = announce(&c, &c.teacher, "Собрание в четверг", "В 18:00, кабинет 12.").await;
    let id = posted["id"].as_str().unwrap();
    // The pupil is mailed; by then the outsider's email was decided (one delivery).
    let pupil_mail = await_mail(&c.pupil.email, 3).await;
    assert_eq!(subjects(&pupil_mail, "Собрание в четверг"), 1, "{pupil_mail:?}");
    for who in [&c.pupil, &c.outsider] {
        let items = await_items(who, "announcement", 1).await;
        assert_eq!(items.len(), 1, "once: {items:?}");
        let n = &items[0];
        assert_eq!(n["org_id"], c.org.as_str());
        assert!(n["title"].as_str().unwrap().contains("Собрание в четверг"), "{n}");
        assert!(n["text"].as_str().unwrap().contains("В 18:00"), "{n}");
        assert_eq!(n["resource"], format!("/orgs/{}/groups/{}/announcements/{id}", c.org, c.group).as_str());
        assert_eq!(n["read"], false);
    }
    assert_eq!(subjects(&mail_to(&c.outsider.email).await, "Собрание в четверг"), 0, "turned off");
    assert!(items_of(&c.teacher, "announcement").await.is_empty(), "not its author");

    // A second delivery of the same event (the stream redelivers) adds nothing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(items_of(&c.pupil, "announcement").await.len(), 1);
    assert_eq!(subjects(&mail_to(&c.pupil.email).await, "Собрание в четверг"), 1);
}

#[tokio::test]
async fn reading_moves_the_unread_count() {
    let c = circle_of_three("Кружок робототехники").await;
    let first = announce(&c, &c.teacher, "Первое", "Текст").await;
    let second = announce(&c, &c.teacher, "Второе", "Текст").await;
    await_items(&c.pupil, "announcement", 2).await;
    // Being added to the school and to the group are there too.
    let page = inbox(&c.pupil).await;
    let items = page["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["announcement", "announcement", "added_to_group", "member_added"], "newest first");
    assert_eq!(page["unread"], 4);
    assert_eq!(page["next_cursor"], Value::Null);
    let newest = items[0]["id"].as_str().unwrap().to_string();
    let older = items[1]["id"].as_str().unwrap().to_string();
    assert!(newest > older);
    let _ = (first, second);

    // One by ID: the count moves by one, the item shows read, `unread=true` leaves it out.
    let after = c.pupil.post("/v1/me/notifications/read", json!({"ids": [older]})).await;
    assert_eq!(after.ok(200)["unread"], 3);
    let page = inbox(&c.pupil).await;
    assert_eq!(page["unread"], 3);
    let read: Vec<bool> = page["items"].as_array().unwrap().iter().map(|n| n["read"].as_bool().unwrap()).collect();
    assert_eq!(read, [false, true, false, false]);
    let unread = c.pupil.get("/v1/me/notifications?unread=true").await.ok(200).clone();
    let ids: Vec<&str> = unread["items"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3);
    assert!(!ids.contains(&older.as_str()) && ids[0] == newest, "{ids:?}");
    assert!(unread["items"].as_array().unwrap().iter().all(|n| n["read"] == false));
    // Again: nothing changes.
    assert_eq!(c.pupil.post("/v1/me/notifications/read", json!({"ids": [older]})).await.ok(200)["unread"], 3);
    // Paged, `unread=true` too.
    let one = c.pupil.get("/v1/me/notifications?unread=true&limit=2").await.ok(200).clone();
    assert_eq!(one["items"].as_array().unwrap().len(), 2);
    let cursor = one["next_cursor"].as_str().unwrap();
    let rest = c.pupil.get(&format!("/v1/me/notifications?unread=true&limit=2&cursor={cursor}")).await;
    assert_eq!(rest.ok(200)["items"].as_array().unwrap().len(), 1);

    // Up to the newest: everything is read.
    assert_eq!(c.pupil.post("/v1/me/notifications/read", json!({"up_to": newest})).await.ok(200)["unread"], 0);
    let page = inbox(&c.pupil).await;
    assert_eq!(page["unread"], 0);
    assert!(page["items"].as_array().unwrap().iter().all(|n| n["read"] == true));
    // Someone else's ID is theirs alone: the outsider's count does not move.
    let outsider = inbox(&c.outsider).await;
    assert_eq!(outsider["unread"], 4);
}

#[tokio::test]
async fn bad_reads_and_settings_are_refused_and_change_nothing() {
    let who = User::new("Анна Петрова");
    who.get("/v1/me").await.ok(200);
    let path = "/v1/me/notifications/read";
    for (body, field) in [
        (json!({}), "up_to"),
        (json!({"up_to": "01jehv7q3m8t4x2c9d5r6b1n0k", "ids": []}), "up_to"),
        (json!({"up_to": "nope"}), "up_to"),
        (json!({"ids": ["01jehv7q3m8t4x2c9d5r6b1n0k", "x"]}), "ids[1]"),
        (json!({"ids": vec!["01jehv7q3m8t4x2c9d5r6b1n0k"; 101]}), "ids"),
    ] {
        let r = who.post(path, body.clone()).await;
        r.problem(422, "validation_failed");
        assert_eq!(r.error_fields(), [field], "{body}");
    }
    who.get("/v1/me/notifications?unread=maybe").await.problem(422, "validation_failed");
    who.get("/v1/me/notifications?cursor=garbage").await.problem(400, "invalid_cursor");

    let settings = "/v1/me/notification-settings";
    for (body, field) in [
        (json!({"mail": {"invitation": false}}), "mail.invitation"),
        (json!({"mail": {"newsletter": false}}), "mail.newsletter"),
        (json!({"mail": {"reply": "no"}}), "mail.reply"),
        (json!({"muted_orgs": ["not an org"]}), "muted_orgs[0]"),
        (json!({}), "mail"),
    ] {
        let r = who.patch(settings, body.clone()).await;
        r.problem(422, "validation_failed");
        assert_eq!(r.error_fields(), [field], "{body}");
    }
    let r = who.patch(settings, json!({"mail": {"invitation": false}})).await;
    assert!(r.text.contains("essential"), "{}", r.text);
    // Nothing changed: all on, nothing muted.
    let now = who.get(settings).await.ok(200).clone();
    assert!(now["mail"].as_object().unwrap().values().all(|v| v == true), "{now}");
    assert_eq!(now["muted_orgs"], json!([]));
    let essential: Vec<&str> =
        now["essential"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in ["invitation", "join_request_accepted", "join_request_rejected", "export_ready"] {
        assert!(essential.contains(&kind), "{kind}: {essential:?}");
    }
    // Signed out: 401.
    send_with(&kabinet_tests::support::env().await.base, Method::GET, settings, None, None, &[])
        .await
        .problem(401, "unauthorized");
}

#[tokio::test]
async fn a_muted_organization_mails_nothing_but_its_essentials() {
    let c = circle_of_three("Совет родителей").await;
    let muted = c.pupil.patch("/v1/me/notification-settings", json!({"muted_orgs": [c.org, c.org]})).await;
    assert_eq!(muted.ok(200)["muted_orgs"], json!([c.org]), "once");
    announce(&c, &c.teacher, "Экскурсия", "В субботу").await;
    // The outsider's mail says the event was delivered.
    await_mail(&c.outsider.email, 3).await;
    await_items(&c.pupil, "announcement", 1).await;
    assert_eq!(subjects(&mail_to(&c.pupil.email).await, "Экскурсия"), 0);
    // Unmuted (an empty list): mailed again.
    assert_eq!(
        c.pupil.patch("/v1/me/notification-settings", json!({"muted_orgs": []})).await.ok(200)["muted_orgs"],
        json!([])
    );
    announce(&c, &c.teacher, "Экскурсия 2", "В воскресенье").await;
    let mail = await_mail(&c.pupil.email, 3).await;
    assert_eq!(subjects(&mail, "Экскурсия 2"), 1, "{mail:?}");
}

/// A reply tells the thread's author in their inbox each time, and by mail for the
/// thread's first reply of a clock hour.
#[tokio::test]
async fn a_reply_tells_the_threads_author() {
    let c = circle_of_three("Клуб чтения").await;
    let thread = open_thread(&c, &c.pupil, "Что читаем летом?", "Предлагайте").await;
    let t = thread["id"].as_str().unwrap();
    reply(&c, &c.pupil, t, "Начну сам: «Капитанская дочка»").await;
    let r = reply(&c, &c.teacher, t, "«Тимур и его команда»").await;
    let items = await_items(&c.pupil, "reply", 1).await;
    assert_eq!(items.len(), 1, "not of their own reply: {items:?}");
    let n = &items[0];
    assert!(n["title"].as_str().unwrap().contains("Что читаем летом?"), "{n}");
    assert!(n["text"].as_str().unwrap().contains("Мария Ивановна: «Тимур"), "{n}");
    let id = r["id"].as_str().unwrap();
    assert_eq!(n["resource"], format!("/orgs/{}/groups/{}/threads/{t}#reply-{id}", c.org, c.group).as_str());
    let mail = await_mail(&c.pupil.email, 3).await;
    assert_eq!(subjects(&mail, "Новый ответ в обсуждении «Что читаем летом?»"), 1, "{mail:?}");
    assert!(items_of(&c.teacher, "reply").await.is_empty(), "the replier is not told");

    // Another reply in the same clock hour: in the inbox, not mailed (the thread's first
    // reply of an hour is).
    let second = reply(&c, &c.outsider, t, "«Денискины рассказы»").await;
    let items = await_items(&c.pupil, "reply", 2).await;
    assert_eq!(items.len(), 2);
    assert!(items[0]["text"].as_str().unwrap().contains("Денискины"), "newest first: {items:?}");
    let hour = |v: &Value| v["created_at"].as_str().unwrap()[..13].to_string();
    // By then the notifier has decided about the second reply's mail (one delivery).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mailed = subjects(&mail_to(&c.pupil.email).await, "Новый ответ в обсуждении");
    assert_eq!(mailed, if hour(&r) == hour(&second) { 1 } else { 2 }, "one a thread's clock hour");
}

/// The one-click unsubscribe URL of a mail, from its `List-Unsubscribe` header.
fn unsubscribe_url(mail: &Value) -> String {
    let header = mail["headers"]["List-Unsubscribe"].as_str().unwrap_or_else(|| panic!("no header: {mail}"));
    header.trim_start_matches('<').trim_end_matches('>').to_string()
}

#[tokio::test]
async fn one_click_unsubscribe_works_without_signing_in() {
    let c = circle_of_three("Театральная студия").await;
    announce(&c, &c.teacher, "Премьера", "В пятницу").await;
    let mail = await_mail(&c.pupil.email, 3).await;
    let premiere = mail.iter().find(|m| m["subject"].as_str().unwrap().contains("Премьера")).unwrap();
    assert_eq!(premiere["headers"]["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
    let url = unsubscribe_url(premiere);
    assert!(premiere["text"].as_str().unwrap().contains(&url), "the footer has it");
    let token = url.rsplit('/').next().unwrap();
    assert!(premiere["html"].as_str().unwrap().contains(token), "the footer has it");
    let (base, path) = url.split_at(url.find("/v1/").unwrap());

    // The footer's link opens a page that asks; opening it changes nothing.
    let page = send_with(base, Method::GET, path, None, None, &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.text.contains("<form method=\"post\"") && page.text.contains("объявлениях"), "{}", page.text);
    assert_eq!(c.pupil.get("/v1/me/notification-settings").await.ok(200)["mail"]["announcement"], true);

    // A mail client's POST (RFC 8058), no token: that kind is off, and only that kind.
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let client = kabinet_tests::support::client();
    let posted =
        client.post(&url).header(form[0].0, form[0].1).body("List-Unsubscribe=One-Click").send().await.unwrap();
    assert_eq!(posted.status().as_u16(), 200);
    let body: Value = posted.json().await.unwrap();
    assert_eq!(body, json!({"kind": "announcement", "mail": false}));
    let settings = c.pupil.get("/v1/me/notification-settings").await.ok(200).clone();
    assert_eq!(settings["mail"]["announcement"], false);
    assert_eq!(settings["mail"]["reply"], true);
    // Again (a second click, a browser's form): the same, as a page.
    let again = send_with(base, Method::POST, path, None, None, &[("accept", "text/html")]).await;
    assert_eq!(again.status, 200);
    assert!(again.text.contains("Готово"), "{}", again.text);

    // A changed token, another kind with the same tag: not one kabinet sent.
    let mut parts: Vec<String> = path.split('.').map(str::to_string).collect();
    parts[1] = "reply".into();
    send_with(base, Method::POST, &parts.join("."), None, None, &[]).await.problem(404, "unsubscribe_link_invalid");
    send_with(base, Method::POST, "/v1/unsubscribe/1.announcement.eA.AAAA", None, None, &[])
        .await
        .problem(404, "unsubscribe_link_invalid");
    assert_eq!(c.pupil.get("/v1/me/notification-settings").await.ok(200)["mail"]["reply"], true);

    // The next announcement: in the inbox, not in the mail.
    announce(&c, &c.teacher, "Вторая премьера", "В субботу").await;
    await_mail(&c.outsider.email, 4).await;
    await_items(&c.pupil, "announcement", 2).await;
    assert_eq!(subjects(&mail_to(&c.pupil.email).await, "Вторая премьера"), 0);

    // Essential mail carries no unsubscribe link.
    let invited = format!("{}@school.test", ulid::Ulid::new().to_string().to_lowercase());
    c.admin
        .post(
            &format!("/v1/orgs/{}/invitations", c.org),
            json!({"emails": [invited], "role": kabinet_tests::support::teacher("Учитель", &[])}),
        )
        .await
        .ok(200);
    let invitation = await_mail(&invited, 1).await;
    assert!(invitation[0]["headers"].get("List-Unsubscribe").is_none(), "{}", invitation[0]["headers"]);
    assert!(invitation[0]["headers"]["Subject"].is_string(), "the headers are listed");
}
