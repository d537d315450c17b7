//! The caller's profile and organizations.

use kabinet_tests::support::User;
use serde_json::json;

#[tokio::test]
async fn profile_is_created_on_first_use_from_the_token() {
    let u = User::new("Анна Петрова");
    let me = u.get("/v1/me").await.ok(200).clone();
    assert_eq!(me["id"], u.sub.as_str());
    assert_eq!(me["email"], u.email.as_str());
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["name"], "Анна Петрова");
    assert_eq!(me["language"], "ru");
    // Reading again changes nothing.
    assert_eq!(u.get("/v1/me").await.ok(200), &me);
}

#[tokio::test]
async fn patch_changes_name_and_language_and_refuses_bad_values() {
    let u = User::new("Ivan");
    let me = u.patch("/v1/me", json!({"name": "  Иван Иванов ", "language": "en"})).await.ok(200).clone();
    assert_eq!(me["name"], "Иван Иванов");
    assert_eq!(me["language"], "en");
    let r = u.patch("/v1/me", json!({"name": "", "language": "de"})).await;
    r.problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["name", "language"]);
    u.patch("/v1/me", json!({"email": "x@y.ru"})).await.problem(422, "validation_failed");
    let again = u.get("/v1/me").await.ok(200).clone();
    assert_eq!(again["name"], "Иван Иванов");
    assert_eq!(again["language"], "en");
    // A chosen name survives later sign-ins with the token's name.
    assert_eq!(u.get("/v1/me").await.ok(200)["name"], "Иван Иванов");
}

#[tokio::test]
async fn my_orgs_lists_roles_and_admin_and_pages() {
    let u = User::new("Paged Admin");
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(u.create_org(&format!("Школа {i}")).await);
    }
    let first = u.get("/v1/me/orgs?limit=2").await.ok(200).clone();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let item = &first["items"][0];
    assert_eq!(item["admin"], true);
    assert_eq!(item["pending_join_requests"], 0);
    assert_eq!(item["roles"][0]["role"], "staff");
    assert!(item["org"]["name"].as_str().unwrap().starts_with("Школа"));
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = u.get(&format!("/v1/me/orgs?limit=2&cursor={cursor}")).await.ok(200).clone();
    let mut seen: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|i| i["org"]["id"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids);
    assert!(
        second["next_cursor"].is_null()
            || u.get(&format!("/v1/me/orgs?cursor={}", second["next_cursor"].as_str().unwrap())).await.ok(200)["items"]
                == json!([])
    );
}

#[tokio::test]
async fn paging_refuses_bad_limits_and_foreign_cursors() {
    let u = User::new("Limits");
    u.get("/v1/me/orgs?limit=0").await.problem(422, "validation_failed");
    u.get("/v1/me/orgs?limit=201").await.problem(422, "validation_failed");
    u.get("/v1/me/orgs?limit=abc").await.problem(422, "validation_failed");
    assert_eq!(u.get("/v1/me/orgs?limit=200").await.status, 200);
    u.get("/v1/me/orgs?cursor=%%%").await.problem(400, "invalid_cursor");
    // Another person's cursor does not page through my list.
    let other = User::new("Other");
    for i in 0..2 {
        other.create_org(&format!("Other {i}")).await;
    }
    let page = other.get("/v1/me/orgs?limit=1").await.ok(200).clone();
    let cursor = page["next_cursor"].as_str().unwrap();
    u.get(&format!("/v1/me/orgs?cursor={cursor}")).await.problem(400, "invalid_cursor");
}
