//! Generated from the route table: every organization-scoped route, called by a signed-in
//! stranger (an admin of another organization) on a real organization, answers 404
//! problem+json and changes nothing. Routes added later are covered automatically.

use kabinet::api::routes;
use kabinet_tests::support;
use kabinet_tests::support::User;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn strangers_see_nothing_of_an_organization_on_any_route() {
    let owner = User::new("Owner");
    let stranger = User::new("Admin elsewhere");
    let org = owner.create_org("Школа-крепость").await;
    stranger.create_org("Своя школа").await;
    let before = owner.get(&format!("/v1/orgs/{org}")).await;
    let before_mine = owner.get("/v1/me/orgs").await.body.clone();

    let scoped: Vec<_> = routes().iter().filter(|r| r.org_scoped).collect();
    assert!(scoped.len() >= 3);
    for route in scoped {
        let mut path = route.path.replace("{org}", &org);
        // Any other parameter: an ID that could exist.
        while let Some(start) = path.find('{') {
            let end = path[start..].find('}').unwrap() + start;
            path.replace_range(start..=end, "01JZZZZZZZZZZZZZZZZZZZZZZZ");
        }
        let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        let body = matches!(route.method.as_str(), "POST" | "PUT" | "PATCH").then(|| json!({}));
        let r = stranger.call(method, &path, body, &[("if-match", "*")]).await;
        assert_eq!(r.status, 404, "{} {} answered {}", route.method, path, r.text);
        r.problem(404, "not_found");
    }

    let after = owner.get(&format!("/v1/orgs/{org}")).await;
    assert_eq!(after.body, before.body);
    assert_eq!(after.header("etag"), before.header("etag"));
    assert_eq!(owner.get("/v1/me/orgs").await.body, before_mine);
}

/// Generated from the route table: every group and course route, called by a member
/// without rights there (a student in neither the group nor the course), answers 403
/// problem+json and changes nothing, but for the reads every member has (the lists, a
/// group, a course and its linked groups) and what is inside a group (discussions,
/// announcements, files), which answers 404 as to a stranger. Routes added later are
/// covered automatically.
#[tokio::test]
async fn members_without_the_right_get_403_on_every_group_and_course_route() {
    let admin = User::new("Admin");
    let (org, classes) = support::school(&admin, "2026/2027", &[(5, "А")]).await;
    let pupil = support::enrol(&admin, &org, "Ученик", json!([support::student(&classes[0])])).await;
    let other = support::enrol(&admin, &org, "Другой ученик", json!([support::student(&classes[0])])).await;
    let o = format!("/v1/orgs/{org}");
    let group =
        admin.post(&format!("{o}/groups"), json!({"name": "Кружок"})).await.ok(201)["id"].as_str().unwrap().to_string();
    let course = admin.post(&format!("{o}/courses"), json!({"name": "Алгебра"})).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin.post(&format!("{o}/groups/{group}/members"), json!({"user_ids": [other.sub]})).await.ok(200);
    admin.post(&format!("{o}/courses/{course}/students"), json!({"user_ids": [other.sub]})).await.ok(200);
    admin
        .post(&format!("{o}/courses/{course}/linked-groups"), json!({"group_id": group, "students": "none"}))
        .await
        .ok(200);
    // What is inside the group: a thread with a reply, an announcement, a file.
    let inside = format!("{o}/groups/{group}");
    let post = |path: String, body| {
        let admin = &admin;
        async move { admin.post(&path, body).await.ok(201)["id"].as_str().unwrap().to_string() }
    };
    let thread = post(format!("{inside}/threads"), json!({"title": "Тема", "body": "Текст"})).await;
    let reply = post(format!("{inside}/threads/{thread}/replies"), json!({"body": "Ответ"})).await;
    let announcement = post(format!("{inside}/announcements"), json!({"title": "Объявление", "body": "Текст"})).await;
    let file = admin
        .post(&format!("{inside}/files"), json!({"name": "план.pdf", "size": 10, "content_type": "application/pdf"}))
        .await
        .ok(201)["file"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let readable = ["groups-list", "groups-get", "courses-list", "courses-get", "courses-linked-groups-list"];
    let snapshot = || async {
        let g = admin.get(&format!("{o}/groups/{group}")).await;
        let c = admin.get(&format!("{o}/courses/{course}")).await;
        let gm = admin.get(&format!("{o}/groups/{group}/members")).await;
        let t = admin.get(&format!("{inside}/threads/{thread}")).await;
        let rs = admin.get(&format!("{inside}/threads/{thread}/replies")).await;
        let a = admin.get(&format!("{inside}/announcements")).await;
        let f = admin.get(&format!("{inside}/files")).await;
        let bodies = [&c, &gm, &t, &rs, &a, &f].map(|r| r.body.clone());
        (g.body.clone(), g.header("etag").map(str::to_owned), bodies)
    };
    let before = snapshot().await;

    let routes: Vec<_> =
        routes().iter().filter(|r| r.path.contains("/groups") || r.path.contains("/courses")).collect();
    assert!(routes.len() >= 20, "{} group and course routes", routes.len());
    for route in routes {
        let id = if route.path.contains("/courses") { &course } else { &group };
        let path = route
            .path
            .replace("{org}", &org)
            .replace("{id}", id)
            .replace("{group}", &group)
            .replace("{user}", &other.sub)
            .replace("{thread}", &thread)
            .replace("{reply}", &reply)
            .replace("{announcement}", &announcement)
            .replace("{file}", &file);
        let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        let body = matches!(route.method.as_str(), "POST" | "PUT" | "PATCH").then(|| json!({}));
        let r = pupil.call(method, &path, body, &[]).await;
        // Inside a group (R7.6) is closed: to a member of the organization who is not in
        // it, as if there were no such group.
        let closed = ["/threads", "/announcements", "/files"].iter().any(|p| route.path.contains(p));
        if readable.contains(&route.name) {
            assert_eq!(r.status, 200, "{} {} answered {}", route.method, path, r.text);
        } else if closed {
            r.problem(404, "not_found");
        } else {
            assert_eq!(r.status, 403, "{} {} answered {}", route.method, path, r.text);
            r.problem(403, "forbidden");
        }
    }
    assert_eq!(snapshot().await, before);
}
