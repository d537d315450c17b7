//! Statistics for admins: the organization's figures, exact after a scripted set of
//! changes (concurrent ones too), and each employee's activity (posts, announcements,
//! files, active days), paged; other members 403, strangers 404.

use std::collections::HashMap;

use kabinet_tests::User;
use reqwest::Method;
use serde_json::{json, Value};

use crate::discussions::{all_pages, announce, circle, id_of, open_thread, reply};
use crate::{decide, enrol, parent, registered, school, student, teacher};

#[tokio::test]
async fn the_summary_is_exact_after_adds_removals_role_changes_requests_and_a_race() {
    let admin = User::new("Директор Сводкина");
    let (org, classes) = school(&admin, "2026/2027", &[(5, "А"), (6, "Б")]).await;
    let o = format!("/v1/orgs/{org}");
    let (a, b) = (classes[0].as_str(), classes[1].as_str());
    let t = enrol(&admin, &org, "Учитель", json!([teacher("Учитель истории", &[a])])).await;
    let s1 = enrol(&admin, &org, "Ученик", json!([student(a)])).await;
    let s2 = enrol(&admin, &org, "Ученица", json!([student(b)])).await;
    enrol(&admin, &org, "Родитель", json!([parent(&[a])])).await;
    let both = json!([teacher("Учитель музыки", &[]), {"role": "staff", "position": "Педагог-организатор"}]);
    enrol(&admin, &org, "Совместитель", both).await;
    // A student becomes a parent; a student leaves; a teacher becomes an admin.
    admin.patch(&format!("{o}/members/{}", s2.sub), json!({"roles": [parent(&[b])]})).await.ok(200);
    assert_eq!(admin.delete(&format!("{o}/members/{}", s1.sub)).await.status, 204);
    assert!(admin.call(Method::PUT, &format!("{o}/admins/{}", t.sub), None, &[]).await.status < 300);
    // Two ask to join through a link: one is accepted, one waits.
    let expires = kabinet::domain::Timestamp::now().plus(time::Duration::days(30)).to_string();
    let body = json!({"expires_at": expires, "max_uses": 10, "roles": [teacher("Учитель", &[])]});
    let link = admin.post(&format!("{o}/invite-links"), body).await.ok(201)["token"].as_str().unwrap().to_string();
    let mut requests = Vec::new();
    for name in ["Новый учитель", "Ещё учитель"] {
        let who = registered(name).await;
        let r = who.post(&format!("/v1/invite-links/{link}/accept"), json!({})).await;
        requests.push(r.ok(201)["id"].as_str().unwrap().to_string());
    }
    assert_eq!(decide(&admin, &org, &requests[0], "accept", json!({})).await.status, 200);
    // A second link, revoked: not active.
    let body = json!({"expires_at": expires, "max_uses": 10, "roles": [parent(&[a])]});
    let revoked = admin.post(&format!("{o}/invite-links"), body).await.ok(201)["id"].as_str().unwrap().to_string();
    assert_eq!(admin.delete(&format!("{o}/invite-links/{revoked}")).await.status, 204);
    // Three email invitations: one revoked, one resent, one still as sent.
    let emails = ["first@parents.test", "second@parents.test", "third@parents.test"];
    let r = admin.post(&format!("{o}/invitations"), json!({"emails": emails, "role": parent(&[b])})).await;
    let sent: Vec<String> = r.ok(200)["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["invitation_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(admin.delete(&format!("{o}/invitations/{}", sent[0])).await.status, 204);
    assert!(admin.post(&format!("{o}/invitations/{}/resend", sent[1]), json!({})).await.status < 300);
    // Two groups (one deleted) and a course.
    let g =
        admin.post(&format!("{o}/groups"), json!({"name": "Хор"})).await.ok(201)["id"].as_str().unwrap().to_string();
    admin.post(&format!("{o}/groups"), json!({"name": "Оркестр"})).await.ok(201);
    assert_eq!(admin.delete(&format!("{o}/groups/{g}")).await.status, 204);
    admin.post(&format!("{o}/courses"), json!({"name": "История"})).await.ok(201);
    // Ten students added at once.
    let adds = (0..10).map(|i| {
        let (admin, org) = (&admin, &org);
        async move { enrol(admin, org, &format!("Ученик {i}"), json!([student(a)])).await }
    });
    futures::future::join_all(adds).await;

    let summary = admin.get(&format!("{o}/stats/summary")).await.ok(200).clone();
    // The director (staff), the teacher, the parent, the one who became a parent, the
    // teacher who is staff too, the accepted newcomer, ten students.
    assert_eq!(summary["members"]["total"], 16, "{summary}");
    assert_eq!(summary["members"]["admins"], 2);
    assert_eq!(summary["members"]["by_role"], json!({"teacher": 3, "staff": 2, "student": 10, "parent": 2}));
    assert_eq!(summary["classes"], 2);
    assert_eq!((summary["groups"].as_u64(), summary["courses"].as_u64()), (Some(1), Some(1)));
    assert_eq!(summary["pending_join_requests"], 1);
    assert_eq!(summary["invite_links"], json!({"active": 1, "uses": 2}), "the teachers' link, asked through twice");
    assert_eq!(summary["invitations"], json!({"pending": 2}));
    assert_eq!(summary["files"]["count"], 0);
    assert_eq!(summary["files"]["quota_bytes"], 10u64 << 30);
    assert!(summary["as_of"].is_string());

    // Admins only.
    t.get(&format!("{o}/stats/summary")).await.ok(200);
    s2.get(&format!("{o}/stats/summary")).await.problem(403, "forbidden");
    User::new("Чужой").get(&format!("{o}/stats/summary")).await.problem(404, "not_found");
}

#[tokio::test]
async fn admins_see_each_employees_activity_page_by_page() {
    let c = circle("Кружок для статистики").await;
    let staff = enrol(&c.admin, &c.org, "Завуч Петрова", json!([{"role": "staff", "position": "Завуч"}])).await;
    let thread = open_thread(&c, &c.teacher, "Задание", "Решить №5").await;
    reply(&c, &c.teacher, &id_of(&thread), "И №6").await;
    reply(&c, &c.pupil, &id_of(&thread), "Сделал").await;
    announce(&c, &c.teacher, "Контрольная", "В пятницу").await;
    crate::files::upload(&c, &c.teacher, "план.txt", b"plan".to_vec(), "text/plain").await;

    // Page by page, one at a time: the teachers and staff (the director too), no one else.
    let path = format!("/v1/orgs/{}/stats/employees", c.org);
    let (items, pages) = all_pages(&c.admin, &path).await;
    let mut seen: HashMap<String, Value> = HashMap::new();
    for item in items {
        assert!(seen.insert(item["user_id"].as_str().unwrap().to_string(), item.clone()).is_none(), "once each");
    }
    let mut people: Vec<&str> = seen.keys().map(String::as_str).collect();
    people.sort();
    let mut expected = vec![c.admin.sub.as_str(), c.teacher.sub.as_str(), staff.sub.as_str()];
    expected.sort();
    assert_eq!(people, expected, "employees only: not the pupil, not the other student");
    assert!(pages >= 3);

    let teacher = &seen[&c.teacher.sub];
    assert_eq!(teacher["name"], "Мария Ивановна");
    assert_eq!(teacher["position"], "Учитель математики");
    assert_eq!(teacher["class_ids"], json!([c.class]));
    assert_eq!(
        (teacher["posts"].as_u64(), teacher["announcements"].as_u64(), teacher["files"].as_u64()),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(teacher["active_days_30"], 1, "active today");
    assert!(teacher["last_active_at"].is_string() && teacher["joined_at"].is_string());
    let deputy = &seen[&staff.sub];
    assert_eq!(deputy["position"], "Завуч");
    assert_eq!((deputy["posts"].as_u64(), deputy["files"].as_u64()), (Some(0), Some(0)));
    assert_eq!(deputy["active_days_30"], 0, "never signed in to the organization's pages");
    assert!(deputy["last_active_at"].is_null());

    // Admins only.
    c.teacher.get(&path).await.problem(403, "forbidden");
    c.pupil.get(&path).await.problem(403, "forbidden");
    c.stranger.get(&path).await.problem(404, "not_found");
}

/// Members active over the last 7 and 30 days: each once, at their latest day, however
/// many requests they make (at once too).
#[tokio::test]
async fn members_active_over_7_and_30_days_are_counted_once_each() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use kabinet::domain::Timestamp;

    let admin = User::new("Директор Активная");
    let (org, classes) = school(&admin, "2026/2027", &[(5, "А")]).await;
    let o = format!("/v1/orgs/{org}");
    let active = |summary: &Value| (summary["active_7d"].as_u64().unwrap(), summary["active_30d"].as_u64().unwrap());
    let summary = || async { admin.get(&format!("{o}/stats/summary")).await.ok(200).clone() };
    let teacher = enrol(&admin, &org, "Учитель", json!([crate::teacher("Учитель", &[&classes[0]])])).await;
    enrol(&admin, &org, "Ученик", json!([student(&classes[0])])).await;
    assert_eq!(active(&summary().await), (1, 1), "the director only: the others have not come yet");

    // The teacher comes: five requests at once, counted once.
    let visits = (0..5).map(|_| teacher.get(&o));
    assert!(futures::future::join_all(visits).await.iter().all(|r| r.status == 200));
    assert_eq!(active(&summary().await), (2, 2));

    // A parent last active ten days ago (as stored): counted over 30 days, not 7.
    let p = enrol(&admin, &org, "Родитель", json!([parent(&[&classes[0]])])).await;
    let then = Timestamp::now().plus(time::Duration::days(-10));
    crate::set_item_attr(&org, &format!("MEMBER#{}", p.sub), "last_active_at", AttributeValue::S(then.to_string()))
        .await;
    let that_day = format!("ACTIVEDAY#{}", then.day());
    crate::set_item_attr(&org, &that_day, "members", AttributeValue::N("1".into())).await;
    assert_eq!(active(&summary().await), (2, 3));

    // They come back today: moved from that day to today, still one person.
    p.get(&o).await.ok(200);
    assert_eq!(active(&summary().await), (3, 3));
    let left = crate::item(&format!("ORG#{org}"), &that_day).await;
    assert_eq!(left["members"].as_n().unwrap(), "0");
}
