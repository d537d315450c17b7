//! Invite links: make, list, copy again (the token derived from the link's ID with the
//! links' key, never stored; key rotation and a missing or malformed key), revoke,
//! preview, accept (exactly up to the use limit, also under a crowd; into a group), decline,
//! and the reasons an expired, revoked or used-up link is refused.

use aws_sdk_dynamodb::types::AttributeValue;
use kabinet_tests::support;
use kabinet_tests::support::{
    dynamodb, env, events, gateway_with, in_days, link, school, send_to, student, teacher, User,
};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn an_admin_makes_lists_and_revokes_links() {
    let admin = User::new("Admin");
    let (org, classes) = school(&admin, "2026/2027", &[(5, "А")]).await;
    let r = admin
        .post(
            &format!("/v1/orgs/{org}/invite-links"),
            json!({"expires_at": in_days(7), "max_uses": 30, "roles": [student(&classes[0])]}),
        )
        .await;
    let created = r.ok(201).clone();
    let token = created["token"].as_str().unwrap();
    assert!(token.len() >= 43, "at least 256 bits, base64url");
    assert!(created["url"].as_str().unwrap().ends_with(&format!("/join/{token}")));
    assert_eq!(created["uses"], 0);
    assert_eq!(created["max_uses"], 30);
    assert_eq!(created["state"], "active");
    let list = admin.get(&format!("/v1/orgs/{org}/invite-links")).await.ok(200).clone();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["token"], token, "shown again, to copy");
    assert_eq!(list["items"][0]["url"], created["url"]);
    // Only its hash is stored.
    let scan = dynamodb().await.scan().table_name(&env().await.config.table).send().await.unwrap();
    assert!(!format!("{:?}", scan.items()).contains(token));
    let unlimited = admin
        .post(
            &format!("/v1/orgs/{org}/invite-links"),
            json!({"expires_at": in_days(30), "max_uses": null, "roles": [teacher("Учитель", &[])]}),
        )
        .await;
    assert!(unlimited.ok(201)["max_uses"].is_null());
    let id = created["id"].as_str().unwrap();
    assert_eq!(admin.delete(&format!("/v1/orgs/{org}/invite-links/{id}")).await.status, 204);
    let list = admin.get(&format!("/v1/orgs/{org}/invite-links")).await.ok(200).clone();
    let revoked = list["items"].as_array().unwrap().iter().find(|l| l["id"] == id).unwrap().clone();
    assert_eq!(revoked["revoked"], true);
    assert_eq!(revoked["state"], "revoked");
    assert!(revoked["token"].is_null() && revoked["url"].is_null());
    admin.delete(&format!("/v1/orgs/{org}/invite-links/01jzzzzzzzzzzzzzzzzzzzzzzz")).await.problem(404, "not_found");
    let actions: Vec<String> = admin.get(&format!("/v1/orgs/{org}/audit?action=link")).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions, ["link.revoke", "link.create", "link.create"]);
}

#[tokio::test]
async fn link_creation_refuses_bad_input() {
    let admin = User::new("Admin");
    let (org, classes) = school(&admin, "2026/2027", &[(5, "А")]).await;
    let path = format!("/v1/orgs/{org}/invite-links");
    let ok_roles = json!([teacher("Учитель", &[])]);
    for (body, field) in [
        (json!({"expires_at": in_days(-1), "max_uses": 5, "roles": ok_roles}), "expires_at"),
        (json!({"expires_at": in_days(400), "max_uses": 5, "roles": ok_roles}), "expires_at"),
        (json!({"expires_at": "tomorrow", "max_uses": 5, "roles": ok_roles}), "expires_at"),
        (json!({"expires_at": in_days(3), "max_uses": 0, "roles": ok_roles}), "max_uses"),
        (json!({"expires_at": in_days(3), "max_uses": -2, "roles": ok_roles}), "max_uses"),
        (json!({"expires_at": in_days(3), "max_uses": 5, "roles": []}), "roles"),
        (json!({"expires_at": in_days(3), "max_uses": 5, "roles": [{"role": "teacher"}]}), "roles[0].position"),
        (
            json!({"expires_at": in_days(3), "max_uses": 5, "roles": [student("01jzzzzzzzzzzzzzzzzzzzzzzz")]}),
            "roles[0].class_ids",
        ),
        (json!({"expires_at": in_days(3), "max_uses": 5, "roles": ok_roles, "group_id": "no-such-group"}), "group_id"),
    ] {
        let r = admin.post(&path, body.clone()).await;
        r.problem(422, "validation_failed");
        assert_eq!(r.error_fields(), [field], "{body}");
    }
    let t = support::enrol(&admin, &org, "Учитель", json!([teacher("Учитель", &[&classes[0]])])).await;
    t.post(&path, json!({"expires_at": in_days(3), "max_uses": 5, "roles": ok_roles})).await.problem(403, "forbidden");
    t.get(&path).await.problem(403, "forbidden");
    assert_eq!(admin.get(&path).await.body["items"], json!([]));
}

#[tokio::test]
async fn a_person_previews_and_asks_to_join() {
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(3, "Б")]).await;
    let (token, link_id) = link(&admin, &org, json!({"expires_at": in_days(7), "max_uses": 5, "roles": [json!({"role": "parent", "class_ids": [classes[0]]})]})).await;
    let mum = User::new("Мама");
    let preview = mum.get(&format!("/v1/invite-links/{token}")).await.ok(200).clone();
    assert_eq!(preview["org"]["id"], org.as_str());
    assert_eq!(preview["org"]["name"], "Школа");
    assert_eq!(preview["roles"][0]["role"], "parent");
    assert_eq!(preview["roles"][0]["class_names"], json!(["3Б"]));
    assert!(preview["expires_at"].is_string());
    mum.get("/v1/invite-links/not-a-token").await.problem(404, "not_found");
    support::send(Method::GET, &format!("/v1/invite-links/{token}"), None, None, &[])
        .await
        .problem(401, "unauthorized");
    // Accept with an extra role.
    let r = mum
        .post(
            &format!("/v1/invite-links/{token}/accept"),
            json!({"roles": [{"role": "parent", "class_ids": [classes[0]]}, teacher("Учитель музыки", &[])]}),
        )
        .await;
    let request = r.ok(201).clone();
    assert_eq!(request["status"], "pending");
    assert_eq!(request["org_id"], org.as_str());
    assert_eq!(request["link_id"], link_id.as_str());
    assert_eq!(request["name"], "Мама");
    assert_eq!(request["roles"].as_array().unwrap().len(), 2);
    // One pending request at a time; no membership yet.
    mum.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.problem(409, "join_request_pending");
    mum.get(&format!("/v1/orgs/{org}")).await.problem(404, "not_found");
    // Members are not asked again.
    admin.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.problem(409, "already_member");
    // A body is optional: the link's roles are asked for.
    let dad = User::new("Папа");
    let r = dad.call(Method::POST, &format!("/v1/invite-links/{token}/accept"), None, &[]).await;
    assert_eq!(r.ok(201)["roles"][0]["role"], "parent");
    let links = admin.get(&format!("/v1/orgs/{org}/invite-links")).await.body.clone();
    assert_eq!(links["items"][0]["uses"], 2);
    // Bad roles are refused and use nothing.
    let other = User::new("Другой");
    let r = other.post(&format!("/v1/invite-links/{token}/accept"), json!({"roles": [{"role": "student"}]})).await;
    r.problem(422, "validation_failed");
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/invite-links")).await.body["items"][0]["uses"], 2);
    let mine = admin.get("/v1/me/orgs").await.ok(200).clone();
    assert_eq!(mine["items"][0]["pending_join_requests"], 2);
    assert_eq!(events("join_request_submitted").await.len(), 2);
}

#[tokio::test]
async fn expired_revoked_and_used_up_links_are_refused_with_their_reason() {
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    let roles = json!([teacher("Учитель", &[])]);
    let (expired, expired_id) =
        link(&admin, &org, json!({"expires_at": in_days(1), "max_uses": 5, "roles": roles})).await;
    support::set_item_attr(&org, &format!("LINK#{expired_id}"), "expires_at", support::long_ago()).await;
    let (revoked, revoked_id) =
        link(&admin, &org, json!({"expires_at": in_days(1), "max_uses": 5, "roles": roles})).await;
    admin.delete(&format!("/v1/orgs/{org}/invite-links/{revoked_id}")).await;
    let (once, _) = link(&admin, &org, json!({"expires_at": in_days(1), "max_uses": 1, "roles": roles})).await;
    User::new("First").post(&format!("/v1/invite-links/{once}/accept"), json!({})).await.ok(201);
    let u = User::new("Late");
    for (token, code) in [(&expired, "link_expired"), (&revoked, "link_revoked"), (&once, "link_used_up")] {
        u.get(&format!("/v1/invite-links/{token}")).await.problem(410, code);
        u.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.problem(410, code);
    }
    assert_eq!(u.get("/v1/me/join-requests").await.ok(200)["items"], json!([]));
}

#[tokio::test]
async fn sixty_people_accepting_a_ten_use_link_at_once_make_exactly_ten_requests() {
    let admin = User::new("Admin");
    let org = admin.create_org("Популярная школа").await;
    let (token, _) =
        link(&admin, &org, json!({"expires_at": in_days(2), "max_uses": 10, "roles": [teacher("Учитель", &[])]})).await;
    let people: Vec<User> = (0..60).map(|i| User::new(&format!("Person {i}"))).collect();
    let path = format!("/v1/invite-links/{token}/accept");
    let calls: Vec<_> = people.iter().map(|p| p.call(Method::POST, &path, None, &[])).collect();
    let answers = futures::future::join_all(calls).await;
    let created = answers.iter().filter(|r| r.status == 201).count();
    let used_up = answers.iter().filter(|r| r.status == 410 && r.body["code"] == "link_used_up").count();
    assert_eq!(created, 10, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(used_up, 50);
    let links = admin.get(&format!("/v1/orgs/{org}/invite-links")).await.body.clone();
    assert_eq!(links["items"][0]["uses"], 10);
    assert_eq!(links["items"][0]["state"], "used_up");
    let pending = admin.get(&format!("/v1/orgs/{org}/join-requests?status=pending&limit=200")).await.body.clone();
    assert_eq!(pending["items"].as_array().unwrap().len(), 10);
    assert_eq!(admin.get("/v1/me/orgs").await.body["items"][0]["pending_join_requests"], 10);
}

#[tokio::test]
async fn declining_records_and_uses_nothing() {
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    let (token, _) =
        link(&admin, &org, json!({"expires_at": in_days(2), "max_uses": 3, "roles": [teacher("Учитель", &[])]})).await;
    let u = User::new("Не хочу");
    assert_eq!(u.post(&format!("/v1/invite-links/{token}/decline"), json!({})).await.status, 204);
    assert_eq!(u.post(&format!("/v1/invite-links/{token}/decline"), json!({})).await.status, 204);
    let l = admin.get(&format!("/v1/orgs/{org}/invite-links")).await.body["items"][0].clone();
    assert_eq!(l["uses"], 0);
    assert_eq!(l["declines"], 1);
    // Changing one's mind later still works.
    u.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201);
}

#[tokio::test]
async fn a_link_to_a_group_puts_the_accepted_person_into_it() {
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(4, "В")]).await;
    let o = format!("/v1/orgs/{org}");
    let group =
        admin.post(&format!("{o}/groups"), json!({"name": "Хор"})).await.ok(201)["id"].as_str().unwrap().to_string();
    let roles = json!([{"role": "parent", "class_ids": [classes[0]]}]);
    let (token, _) =
        link(&admin, &org, json!({"expires_at": in_days(7), "max_uses": 5, "roles": roles, "group_id": group})).await;
    let mum = User::new("Мама хориста");
    let request = mum.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201).clone();
    let id = request["id"].as_str().unwrap();
    let etag = admin.get(&format!("{o}/join-requests/{id}")).await.header("etag").unwrap().to_string();
    let r = admin
        .call(Method::POST, &format!("{o}/join-requests/{id}/accept"), Some(json!({})), &[("if-match", &etag)])
        .await;
    r.ok(200);
    let members = admin.get(&format!("{o}/groups/{group}/members")).await.ok(200).clone();
    assert_eq!(members["items"].as_array().unwrap().len(), 1);
    assert_eq!(members["items"][0]["user_id"], mum.sub.as_str());
    assert_eq!(admin.get(&format!("{o}/groups/{group}")).await.ok(200)["member_count"], 1);
    let mine = mum.get(&format!("{o}/groups?mine=true")).await.ok(200).clone();
    assert_eq!(mine["items"][0]["id"], group.as_str());
}

// Copying a link again: its token is derived from its ID with the links' key.

/// Every item of the test's table, as stored.
async fn all_items() -> Vec<std::collections::HashMap<String, AttributeValue>> {
    let (db, table) = (dynamodb().await, env().await.config.table.clone());
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = db.scan().table_name(&table).set_exclusive_start_key(start).send().await.unwrap();
        out.extend(page.items().iter().cloned());
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return out;
        }
    }
}

/// Whether any attribute of any item holds `token`, in whole or in part (also inside
/// lists, maps and binary values).
fn stored(items: &[std::collections::HashMap<String, AttributeValue>], token: &str) -> bool {
    fn holds(v: &AttributeValue, token: &str) -> bool {
        match v {
            AttributeValue::S(s) => s == token || s.contains(token),
            AttributeValue::B(b) => b.as_ref().windows(token.len()).any(|w| w == token.as_bytes()),
            AttributeValue::L(l) => l.iter().any(|v| holds(v, token)),
            AttributeValue::M(m) => m.iter().any(|(k, v)| k.contains(token) || holds(v, token)),
            AttributeValue::Ss(s) => s.iter().any(|s| s.contains(token)),
            _ => false,
        }
    }
    items.iter().any(|i| i.iter().any(|(k, v)| k.contains(token) || holds(v, token)))
}

/// The page of links as `who` sees it, by ID.
async fn listed(who: &User, org: &str) -> std::collections::BTreeMap<String, Value> {
    let r = who.get(&format!("/v1/orgs/{org}/invite-links")).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    items.into_iter().map(|l| (l["id"].as_str().unwrap().to_string(), l)).collect()
}

#[tokio::test]
async fn an_admin_copies_a_link_again_and_people_join_with_it() {
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(2, "А")]).await;
    let roles = json!([{"role": "parent", "class_ids": [classes[0]]}]);
    let r = admin
        .post(&format!("/v1/orgs/{org}/invite-links"), json!({"expires_at": in_days(7), "max_uses": 5, "roles": roles}))
        .await;
    let created = r.ok(201).clone();
    let (token, id) = (created["token"].as_str().unwrap(), created["id"].as_str().unwrap());
    // Copied again, twice: the same string as at creation, with its page.
    for _ in 0..2 {
        let copied = listed(&admin, &org).await[id].clone();
        assert_eq!(copied["token"], token);
        assert_eq!(copied["url"], format!("http://localhost:5173/join/{token}").as_str());
    }
    // The copied token works: a person opens the link and asks to join, an admin accepts.
    let copied = listed(&admin, &org).await[id]["token"].as_str().unwrap().to_string();
    let mum = User::new("Мама");
    assert_eq!(mum.get(&format!("/v1/invite-links/{copied}")).await.ok(200)["org"]["id"], org.as_str());
    let request = mum.post(&format!("/v1/invite-links/{copied}/accept"), json!({})).await.ok(201).clone();
    assert_eq!(request["link_id"], id);
    support::decide(&admin, &org, request["id"].as_str().unwrap(), "accept", json!({})).await.ok(200);
    assert_eq!(mum.get(&format!("/v1/orgs/{org}")).await.status, 200, "a member now");
    assert_eq!(listed(&admin, &org).await[id]["uses"], 1);
    // The table holds neither the token nor any attribute equal to it: the link keeps its
    // hash and the version of the key it was derived with.
    let items = all_items().await;
    assert!(!items.is_empty() && !stored(&items, token), "the token is stored");
    let link = support::item(&format!("ORG#{org}"), &format!("LINK#{id}")).await;
    assert_eq!(link["key_version"].as_n().unwrap(), "1");
    let hash = kabinet::api::invite_links::token_hash(token);
    assert_eq!(link["token_hash"].as_s().unwrap(), &hash);
    support::item(&format!("LINKTOKEN#{hash}"), "LINK").await;
}

#[tokio::test]
async fn only_a_usable_link_shows_its_token_and_only_to_admins() {
    let admin = User::new("Admin");
    let (org, classes) = school(&admin, "2026/2027", &[(6, "Б")]).await;
    let roles = json!([teacher("Учитель", &[])]);
    let make = |max_uses: Value| {
        let admin = admin.clone();
        let (org, roles) = (org.clone(), roles.clone());
        async move { link(&admin, &org, json!({"expires_at": in_days(3), "max_uses": max_uses, "roles": roles})).await }
    };
    let (active, active_id) = make(json!(null)).await;
    let (revoked, revoked_id) = make(json!(5)).await;
    admin.delete(&format!("/v1/orgs/{org}/invite-links/{revoked_id}")).await;
    let (expired, expired_id) = make(json!(5)).await;
    support::set_item_attr(&org, &format!("LINK#{expired_id}"), "expires_at", support::long_ago()).await;
    let (once, once_id) = make(json!(1)).await;
    User::new("First").post(&format!("/v1/invite-links/{once}/accept"), json!({})).await.ok(201);
    let links = listed(&admin, &org).await;
    assert_eq!(links[&active_id]["token"], active.as_str());
    for (id, state) in [(&revoked_id, "revoked"), (&expired_id, "expired"), (&once_id, "used_up")] {
        assert_eq!(links[id]["state"], state);
        assert!(links[id]["token"].is_null() && links[id]["url"].is_null(), "{state}: {}", links[id]);
    }
    let page = admin.get(&format!("/v1/orgs/{org}/invite-links")).await.text;
    for token in [&revoked, &expired, &once] {
        assert!(!page.contains(token.as_str()), "a token that no longer works is not shown");
    }
    // The revoked link's old token is refused.
    let late = User::new("Late");
    late.get(&format!("/v1/invite-links/{revoked}")).await.problem(410, "link_revoked");
    late.post(&format!("/v1/invite-links/{revoked}/accept"), json!({})).await.problem(410, "link_revoked");
    // A member who is not an admin sees no links, so no tokens.
    let t = support::enrol(&admin, &org, "Учитель", json!([teacher("Учитель", &[&classes[0]])])).await;
    let r = t.get(&format!("/v1/orgs/{org}/invite-links")).await;
    r.problem(403, "forbidden");
    assert!(!r.text.contains(&active) && r.body.get("items").is_none());
    User::new("Stranger").get(&format!("/v1/orgs/{org}/invite-links")).await.problem(404, "not_found");
}

#[tokio::test]
async fn a_link_made_before_tokens_were_derived_shows_none_and_still_opens() {
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    let (token, id) =
        link(&admin, &org, json!({"expires_at": in_days(3), "max_uses": 5, "roles": [teacher("Учитель", &[])]})).await;
    // As a link made before: no key version (its token was random, not derived).
    dynamodb()
        .await
        .update_item()
        .table_name(&env().await.config.table)
        .key("pk", AttributeValue::S(format!("ORG#{org}")))
        .key("sk", AttributeValue::S(format!("LINK#{id}")))
        .update_expression("REMOVE key_version")
        .send()
        .await
        .unwrap();
    let old = listed(&admin, &org).await[&id].clone();
    assert!(old["token"].is_null() && old["url"].is_null());
    assert_eq!(old["state"], "active", "nothing else changes");
    User::new("Учитель").post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201);
}

/// Makes the links' secret `name` with `keys` in the emulator, as Secrets Manager holds it.
async fn put_link_keys(name: &str, keys: Value) {
    let aws = kabinet_local::emulator::sdk_config(&env().await.endpoint).await;
    let secrets = aws_sdk_secretsmanager::Client::new(&aws);
    let value = keys.to_string();
    if secrets.describe_secret().secret_id(name).send().await.is_ok() {
        secrets.put_secret_value().secret_id(name).secret_string(value).send().await.unwrap();
    } else {
        secrets.create_secret().name(name).secret_string(value).send().await.unwrap();
    }
}

#[tokio::test]
async fn after_a_key_rotation_old_links_keep_their_tokens_and_new_ones_take_the_new_key() {
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    let secret = format!("rotated-{}", ulid::Ulid::new().to_string().to_lowercase());
    let (k1, k2) = ("first-key-0123456789abcdef0123456789abcdef", "second-key-0123456789abcdef0123456789abcdef");
    put_link_keys(&secret, json!({"1": k1})).await;
    let config = kabinet::config::Config { link_keys_secret: secret.clone(), ..env().await.config.clone() };
    let warm = gateway_with(config.clone()).await;
    let path = format!("/v1/orgs/{org}/invite-links");
    let body = json!({"expires_at": in_days(3), "max_uses": null, "roles": [teacher("Учитель", &[])]});
    let r = send_to(&warm, Method::POST, &path, Some(&admin.token), Some(&body)).await;
    let first = r.ok(201).clone();
    // The key is rotated: version 2 added, version 1 kept. A function started afterwards
    // (a cold start) reads both.
    put_link_keys(&secret, json!({"1": k1, "2": k2})).await;
    let cold = gateway_with(config).await;
    let list = send_to(&cold, Method::GET, &path, Some(&admin.token), None).await.ok(200).clone();
    assert_eq!(list["items"][0]["token"], first["token"], "an old link keeps its token");
    let second = send_to(&cold, Method::POST, &path, Some(&admin.token), Some(&body)).await.ok(201).clone();
    let second_id = second["id"].as_str().unwrap();
    let stored = support::item(&format!("ORG#{org}"), &format!("LINK#{second_id}")).await;
    assert_eq!(stored["key_version"].as_n().unwrap(), "2");
    // The function started before the rotation held version 1 only: a link of version 2
    // makes it read the secret again.
    let list = send_to(&warm, Method::GET, &path, Some(&admin.token), None).await.ok(200).clone();
    let tokens: Vec<&Value> = list["items"].as_array().unwrap().iter().map(|l| &l["token"]).collect();
    assert_eq!(tokens, [&second["token"], &first["token"]]);
    // Both work.
    for (i, link) in [&first, &second].iter().enumerate() {
        let token = link["token"].as_str().unwrap();
        User::new(&format!("Person {i}")).post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201);
    }
}

#[tokio::test]
async fn a_missing_or_malformed_key_fails_the_link_routes_with_a_plain_internal_error() {
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    let (token, _) =
        link(&admin, &org, json!({"expires_at": in_days(3), "max_uses": 5, "roles": [teacher("Учитель", &[])]})).await;
    let malformed = format!("malformed-{}", ulid::Ulid::new().to_string().to_lowercase());
    put_link_keys(&malformed, json!({"1": "too-short"})).await;
    let missing = format!("missing-{}", ulid::Ulid::new().to_string().to_lowercase());
    let path = format!("/v1/orgs/{org}/invite-links");
    let body = json!({"expires_at": in_days(3), "max_uses": 5, "roles": [teacher("Учитель", &[])]});
    for secret in [missing, malformed] {
        let config = kabinet::config::Config { link_keys_secret: secret.clone(), ..env().await.config.clone() };
        let base = gateway_with(config).await;
        for r in [
            send_to(&base, Method::POST, &path, Some(&admin.token), Some(&body)).await,
            send_to(&base, Method::GET, &path, Some(&admin.token), None).await,
        ] {
            r.problem(500, "internal");
            for leak in ["Secrets", "ResourceNotFound", "secret", &secret, "too-short"] {
                assert!(!r.text.contains(leak), "{secret}: the answer says {leak:?}: {}", r.text);
            }
        }
        // Opening a link needs no key.
        let u = User::new("Учитель");
        assert_eq!(
            send_to(&base, Method::GET, &format!("/v1/invite-links/{token}"), Some(&u.token), None).await.status,
            200
        );
    }
    assert_eq!(listed(&admin, &org).await.len(), 1, "nothing was made");
}
