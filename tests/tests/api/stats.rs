//! Statistics for admins: the organization's figures, exact after a scripted set of
//! changes (concurrent ones too), and each employee's activity (posts, announcements,
//! files, active days), paged; other members 403, strangers 404.

use std::collections::HashMap;

use kabinet_tests::support;
use kabinet_tests::support::{
    all_pages, announce, circle, decide, enrol, id_of, open_thread, parent, registered, reply, school, student,
    teacher, User,
};
use reqwest::Method;
use serde_json::{json, Value};

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
    support::upload(&c, &c.teacher, "план.txt", b"plan".to_vec(), "text/plain").await;

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
    let teacher = enrol(&admin, &org, "Учитель", json!([support::teacher("Учитель", &[&classes[0]])])).await;
    enrol(&admin, &org, "Ученик", json!([student(&classes[0])])).await;
    assert_eq!(active(&summary().await), (1, 1), "the director only: the others have not come yet");

    // The teacher comes: five requests at once, counted once.
    let visits = (0..5).map(|_| teacher.get(&o));
    assert!(futures::future::join_all(visits).await.iter().all(|r| r.status == 200));
    assert_eq!(active(&summary().await), (2, 2));

    // A parent last active ten days ago (as stored): counted over 30 days, not 7.
    let p = enrol(&admin, &org, "Родитель", json!([parent(&[&classes[0]])])).await;
    let then = Timestamp::now().plus(time::Duration::days(-10));
    support::set_item_attr(&org, &format!("MEMBER#{}", p.sub), "last_active_at", AttributeValue::S(then.to_string()))
        .await;
    let that_day = format!("ACTIVEDAY#{}", then.day());
    support::set_item_attr(&org, &that_day, "members", AttributeValue::N("1".into())).await;
    assert_eq!(active(&summary().await), (2, 3));

    // They come back today: moved from that day to today, still one person.
    p.get(&o).await.ok(200);
    assert_eq!(active(&summary().await), (3, 3));
    let left = support::item(&format!("ORG#{org}"), &that_day).await;
    assert_eq!(left["members"].as_n().unwrap(), "0");
}

/// A small journal: a teacher of 5А (with an email), a member of its administration (no
/// email), a student of 5А and her guardian (with an email).
fn small_journal(teacher_email: &str, guardian_email: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    use kabinet_tests::support::{class_row, enrollment_row, user_row};
    let classes = vec![class_row("c5a", "5А")];
    let users = vec![
        user_row("t1", "teacher", "Анна", "Иванова", "t.ivanova", teacher_email, ""),
        user_row("a1", "administrator", "Борис", "Петров", "b.petrov", "", ""),
        user_row("s1", "student", "Пётр", "Смирнов", "p.smirnov", "", ""),
        user_row("g1", "guardian", "Ольга", "Смирнова", "o.smirnova", guardian_email, "s1"),
    ];
    let enrollments =
        vec![enrollment_row("e1", "c5a", "t1", "teacher", true), enrollment_row("e2", "c5a", "s1", "student", false)];
    (classes, users, enrollments)
}

/// Every item of a list, `limit` a page (the path may carry a query of its own).
async fn every_page(who: &User, path: &str, limit: usize) -> Vec<Value> {
    let (mut all, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    let sep = if path.contains('?') { '&' } else { '?' };
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let page = who.get(&url).await.ok(200).clone();
        let items = page["items"].as_array().unwrap().clone();
        assert!(items.len() <= limit, "{} items on a page of {limit}", items.len());
        all.extend(items);
        pages += 1;
        assert!(pages <= 20, "the pages never end");
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return all,
        }
    }
}

/// Who a row of the employees' statistics is: their user ID, or `roster:<sourcedId>`.
fn who(row: &Value) -> String {
    match row["user_id"].as_str() {
        Some(user) => user.to_string(),
        None => format!("roster:{}", row["roster_id"].as_str().unwrap()),
    }
}

#[tokio::test]
async fn journal_teachers_who_have_not_joined_are_employees_until_they_join_as_members() {
    use kabinet_tests::support::{accept_offer, class_named, classes_of, run, signed_in, unique_email};
    let admin = User::new("Директор Журналова");
    let org = admin.create_org("Школа с журналом").await;
    let anna = signed_in("Анна Иванова", &unique_email("stats-t1")).await;
    let (classes, users, enrollments) = small_journal(&anna.email, &unique_email("stats-g1"));
    run(&admin, &org, &classes, &users, &enrollments, false).await;
    let a5 = class_named(&classes_of(&admin, &org).await, "5А");
    let path = format!("/v1/orgs/{org}/stats/employees");

    // The admin (a member), then the journal's teacher and administrator: not the
    // student, not the guardian. Page by page, at every page size, each once.
    let all = every_page(&admin, &path, 50).await;
    assert_eq!(all.iter().map(who).collect::<Vec<_>>(), [admin.sub.clone(), "roster:a1".into(), "roster:t1".into()]);
    for limit in [1, 2, 3] {
        assert_eq!(every_page(&admin, &path, limit).await, all, "pages of {limit}");
    }
    let me = &all[0];
    assert_eq!((me["linked"].as_bool(), &me["roster_id"]), (Some(true), &Value::Null), "joined, not from the journal");
    let t1 = all.iter().find(|r| r["roster_id"] == "t1").unwrap();
    assert_eq!(
        t1,
        &json!({
            "linked": false, "user_id": null, "roster_id": "t1", "name": "Иванова Анна",
            "roles": [{"role": "teacher", "position": "Учитель", "class_ids": [a5]}],
            "position": "Учитель", "class_ids": [a5], "joined_at": null, "last_active_at": null,
            "active_days_30": 0, "posts": 0, "announcements": 0, "files": 0
        })
    );
    let a1 = all.iter().find(|r| r["roster_id"] == "a1").unwrap();
    assert_eq!((a1["position"].as_str(), &a1["class_ids"]), (Some("Администрация"), &json!([])), "{a1:#}");
    assert_eq!(a1["roles"], json!([{"role": "staff", "position": "Администрация"}]));

    // The teacher accepts her offer: once, as a member, linked to her record.
    accept_offer(&anna, &org).await;
    let all = every_page(&admin, &path, 1).await;
    let mut people: Vec<String> = all.iter().map(who).collect();
    people.sort();
    let mut expected = vec![admin.sub.clone(), anna.sub.clone(), "roster:a1".into()];
    expected.sort();
    assert_eq!(people, expected, "{all:#?}");
    let anna_row = all.iter().find(|r| r["user_id"] == anna.sub.as_str()).unwrap();
    assert_eq!((anna_row["linked"].as_bool(), anna_row["roster_id"].as_str()), (Some(true), Some("t1")));
    assert!(anna_row["joined_at"].is_string(), "{anna_row:#}");
    assert_eq!(anna_row["class_ids"], json!([a5]));

    // A teacher sees no statistics; a cursor of another order or list is refused.
    anna.get(&path).await.problem(403, "forbidden");
    admin.get(&format!("{path}?sort=name")).await.problem(422, "validation_failed");
    let first = admin.get(&format!("{path}?limit=1")).await.ok(200)["next_cursor"].as_str().unwrap().to_string();
    admin.get(&format!("{path}?sort=last_active&cursor={first}")).await.problem(400, "invalid_cursor");
    let sorted = admin.get(&format!("{path}?sort=last_active&limit=1")).await.ok(200)["next_cursor"].clone();
    admin.get(&format!("{path}?cursor={}", sorted.as_str().unwrap())).await.problem(400, "invalid_cursor");
}

#[tokio::test]
async fn sort_last_active_puts_who_never_came_first_then_the_longest_inactive() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use kabinet_tests::support::{run, unique_email};
    let admin = User::new("Директор Порядкова");
    let org = admin.create_org("Школа порядка").await;
    let (classes, users, enrollments) = small_journal(&unique_email("sort-t1"), &unique_email("sort-g1"));
    run(&admin, &org, &classes, &users, &enrollments, false).await;
    let never = enrol(&admin, &org, "Учитель Новый", json!([teacher("Учитель", &[])])).await;
    let old = enrol(&admin, &org, "Учитель Давний", json!([teacher("Учитель", &[])])).await;
    let older = enrol(&admin, &org, "Учитель Давнейший", json!([{"role": "staff", "position": "Завхоз"}])).await;
    for (who, days) in [(&old, 10), (&older, 40)] {
        let then = kabinet::domain::Timestamp::now().plus(time::Duration::days(-days));
        support::set_item_attr(
            &org,
            &format!("MEMBER#{}", who.sub),
            "last_active_at",
            AttributeValue::S(then.to_string()),
        )
        .await;
    }
    let path = format!("/v1/orgs/{org}/stats/employees?sort=last_active");
    let expected = [
        "roster:a1".to_string(),
        "roster:t1".into(),
        never.sub.clone(),
        older.sub.clone(),
        old.sub.clone(),
        admin.sub.clone(),
    ];
    for limit in [1, 2, 4, 50] {
        let rows = every_page(&admin, &path, limit).await;
        assert_eq!(rows.iter().map(who).collect::<Vec<_>>(), expected, "pages of {limit}");
    }
    // The default order is as before: the members by user ID, then who has not joined.
    let rows = every_page(&admin, &format!("/v1/orgs/{org}/stats/employees"), 2).await;
    let mut members = vec![admin.sub.clone(), never.sub.clone(), old.sub.clone(), older.sub.clone()];
    members.sort();
    members.extend(["roster:a1".to_string(), "roster:t1".into()]);
    assert_eq!(rows.iter().map(who).collect::<Vec<_>>(), members);
}

#[tokio::test]
async fn the_summary_counts_who_waits_by_role_as_they_join_and_the_journal_changes() {
    use kabinet_tests::support::{
        accept_offer, enrollment_row, journal_offer, run, signed_in, to_be_deleted, unique_email, user_row,
    };
    let admin = User::new("Директор Ожидающая");
    let org = admin.create_org("Школа ожидания").await;
    let anna = signed_in("Анна Иванова", &unique_email("wait-t1")).await;
    let mum = signed_in("Ольга Смирнова", &unique_email("wait-g1")).await;
    let (classes, users, enrollments) = small_journal(&anna.email, &mum.email);
    let waiting = || async {
        let summary = admin.get(&format!("/v1/orgs/{org}/stats/summary")).await.ok(200).clone();
        summary["waiting"].clone()
    };
    let counts = |t: u32, st: u32, s: u32, p: u32| json!({"total": t + st + s + p, "by_role": {"teacher": t, "staff": st, "student": s, "parent": p}});
    assert_eq!(waiting().await, counts(0, 0, 0, 0), "no journal yet");
    run(&admin, &org, &classes, &users, &enrollments, false).await;
    assert_eq!(waiting().await, counts(1, 1, 1, 1));
    // The same file again changes nothing.
    run(&admin, &org, &classes, &users, &enrollments, false).await;
    assert_eq!(waiting().await, counts(1, 1, 1, 1));

    // The teacher accepts her offer.
    accept_offer(&anna, &org).await;
    assert_eq!(waiting().await, counts(0, 1, 1, 1));
    // The guardian's address declines: she still counts (nothing tells the school that
    // the address is registered, or what its owner did).
    let offer = journal_offer(&mum, &org).await.expect("the guardian's offer");
    let declined = mum.post(&format!("/v1/me/invitations/{}/decline", offer["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(declined.status, 204, "{}", declined.text);
    assert_eq!(waiting().await, counts(0, 1, 1, 1));
    // She asks from another address by her journal login; an admin accepts: she joined.
    let other = signed_in("Ольга С.", &unique_email("wait-g1-other")).await;
    let asked = other.post("/v1/me/roster-links", json!({"org_id": org, "identifier": "o.smirnova"})).await;
    let request = asked.ok(202)["id"].as_str().unwrap().to_string();
    assert_eq!(decide(&admin, &org, &request, "accept", json!({})).await.status, 200);
    assert_eq!(waiting().await, counts(0, 1, 1, 0));

    // The journal makes its administrator a teacher and deletes the student.
    let mut users = users.clone();
    users[1] = user_row("a1", "teacher", "Борис", "Петров", "b.petrov", "", "");
    users[2] = to_be_deleted(users[2].clone());
    let enrollments = vec![enrollment_row("e1", "c5a", "t1", "teacher", true), to_be_deleted(enrollments[1].clone())];
    run(&admin, &org, &classes, &users, &enrollments, false).await;
    assert_eq!(waiting().await, counts(1, 0, 0, 0));
    let rows = every_page(&admin, &format!("/v1/orgs/{org}/stats/employees"), 50).await;
    let a1 = rows.iter().find(|r| r["roster_id"] == "a1" && r["linked"] == false).expect("the administrator waits");
    assert_eq!(a1["position"], "Учитель", "{a1:#}");
}
