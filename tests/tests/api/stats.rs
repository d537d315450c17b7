//! Statistics for admins: each employee's activity (posts, announcements, files, active
//! days), paged; other members 403, strangers 404.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::discussions::{announce, circle, id_of, open_thread, reply};
use crate::enrol;

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
    let mut seen: HashMap<String, Value> = HashMap::new();
    let mut next = format!("{path}?limit=1");
    let mut pages = 0;
    loop {
        let page = c.admin.get(&next).await.ok(200).clone();
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            assert!(seen.insert(item["user_id"].as_str().unwrap().to_string(), item.clone()).is_none(), "once each");
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => next = format!("{path}?limit=1&cursor={cursor}"),
            None => break,
        }
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
