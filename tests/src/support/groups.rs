//! Groups: one made, people added, its members' roles, its threads; a closed group and
//! someone kept out of it.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::http::User;
use super::values::{id_of, user_ids};

/// Each person's role in group `g` (user ID to `teacher` or `student`), as its members
/// list (one page) shows them to `by`.
pub async fn group_roles(by: &User, org: &str, g: &str) -> BTreeMap<String, String> {
    let list = by.get(&format!("/v1/orgs/{org}/groups/{g}/members")).await.ok(200).clone();
    assert_eq!(list["next_cursor"], Value::Null, "one page");
    let items = list["items"].as_array().unwrap();
    items.iter().map(|m| (m["user_id"].as_str().unwrap().into(), m["group_role"].as_str().unwrap().into())).collect()
}

/// The roles `group_roles` should give.
pub fn roles_of(people: &[(&User, &str)]) -> BTreeMap<String, String> {
    people.iter().map(|(p, r)| (p.sub.clone(), r.to_string())).collect()
}

/// A new group of the organization, made by its admin.
pub async fn new_group(admin: &User, org: &str, name: &str) -> Value {
    admin.post(&format!("/v1/orgs/{org}/groups"), json!({ "name": name })).await.ok(201).clone()
}

/// Adds people to a group as `by`; answers each person's status, in the order given.
pub async fn add_to_group(by: &User, org: &str, group: &str, people: &[&User]) -> Vec<String> {
    let ids: Vec<&str> = people.iter().map(|p| p.sub.as_str()).collect();
    let r = by.post(&format!("/v1/orgs/{org}/groups/{group}/members"), json!({ "user_ids": ids })).await;
    let results = r.ok(200)["results"].as_array().unwrap().clone();
    let answered: Vec<&str> = results.iter().map(|x| x["user_id"].as_str().unwrap()).collect();
    assert_eq!(answered, ids, "one result per person, in the order given");
    results.iter().map(|x| x["status"].as_str().unwrap().to_string()).collect()
}

/// A group as its members' page shows it now.
pub async fn group(admin: &User, org: &str, id: &str) -> Value {
    admin.get(&format!("/v1/orgs/{org}/groups/{id}")).await.ok(200).clone()
}

/// The threads of a group.
pub fn threads(org: &str, group: &str) -> String {
    format!("/v1/orgs/{org}/groups/{group}/threads")
}

/// A closed group with `member` in it and a thread only its members read.
pub async fn closed_group(admin: &User, org: &str, name: &str, member: &User) -> String {
    let g = id_of(&new_group(admin, org, name).await);
    add_to_group(admin, org, &g, &[member]).await;
    admin.post(&threads(org, &g), json!({"title": "Только для своих", "body": "Закрытое обсуждение"})).await.ok(201);
    assert_eq!(member.get(&threads(org, &g)).await.ok(200)["items"].as_array().unwrap().len(), 1);
    g
}

/// `who` stayed out of group `g`: not among its members, and its threads answer 404 as
/// to a stranger.
pub async fn kept_out(admin: &User, org: &str, g: &str, who: &User) {
    let members = user_ids(admin.get(&format!("/v1/orgs/{org}/groups/{g}/members")).await.ok(200));
    assert!(!members.contains(&who.sub), "{} got into the group", who.name);
    who.get(&threads(org, g)).await.problem(404, "not_found");
}
