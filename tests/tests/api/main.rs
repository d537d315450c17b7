//! Integration tests over HTTP against the local gateway and the emulator.

mod access;
mod admins;
mod audit;
mod authz;
mod browser;
mod classes;
mod courses;
mod discussions;
mod emulator;
mod exports;
mod files;
mod group_teachers;
mod groups;
mod hardening;
mod idempotency;
mod imports;
mod infra;
mod invitations;
mod joining;
mod mail;
mod me;
mod members;
mod orgs;
mod paging;
mod plumbing;
mod rehearsal;
mod resumable;
mod schemathesis;
mod security;
mod seed;
mod stats;

use kabinet::domain::{Membership, MembershipSource};
use kabinet::domain::{OrgId, RoleGrant, UserId};
use kabinet_tests::{store, User};

/// Puts `user` into the organization under the API (for tests about other routes).
pub async fn add_member(org: &str, user: &User, roles: Vec<RoleGrant>, admin: bool) {
    let m = Membership::new(
        &OrgId::parse(org).unwrap(),
        &UserId::parse(&user.sub).unwrap(),
        &user.name,
        Some(&user.email),
        roles,
        admin,
        MembershipSource::Manual,
    );
    let by = m.user_id.clone();
    store()
        .await
        .add_member(&m, kabinet::store::members::Joined { pending: None, by: &by, record: None }, None, None)
        .await
        .unwrap();
}

mod roundtrips;

use serde_json::{json, Value};

/// A person who has signed in once (so their profile exists and an admin can add them).
pub async fn registered(name: &str) -> User {
    let u = User::new(name);
    assert_eq!(u.get("/v1/me").await.status, 200);
    u
}

pub fn teacher(position: &str, classes: &[&str]) -> Value {
    json!({"role": "teacher", "position": position, "class_ids": classes})
}

pub fn student(class: &str) -> Value {
    json!({"role": "student", "class_ids": [class]})
}

pub fn parent(classes: &[&str]) -> Value {
    json!({"role": "parent", "class_ids": classes})
}

/// An organization with `admin` as its admin and the given classes of a year; returns the
/// org ID and the class IDs in order.
pub async fn school(admin: &User, year: &str, classes: &[(i64, &str)]) -> (String, Vec<String>) {
    let org = admin.create_org("Школа").await;
    let mut ids = Vec::new();
    for (grade, letter) in classes {
        let r = admin
            .post(&format!("/v1/orgs/{org}/classes"), json!({"grade": grade, "letter": letter, "year": year}))
            .await;
        ids.push(r.ok(201)["id"].as_str().unwrap().to_string());
    }
    (org, ids)
}

/// Adds a registered person through the API with the given roles.
pub async fn enrol(admin: &User, org: &str, name: &str, roles: Value) -> User {
    let u = registered(name).await;
    let r = admin.post(&format!("/v1/orgs/{org}/members"), json!({"user_id": u.sub, "roles": roles})).await;
    r.ok(201);
    u
}

/// Sets one attribute of an item of the organization's partition under the API (to make
/// a link or an invitation expire without waiting).
pub async fn set_item_attr(org: &str, sk: &str, attr: &str, value: aws_sdk_dynamodb::types::AttributeValue) {
    use aws_sdk_dynamodb::types::AttributeValue;
    kabinet_tests::dynamodb()
        .await
        .update_item()
        .table_name(&kabinet_tests::env().await.config.table)
        .key("pk", AttributeValue::S(format!("ORG#{org}")))
        .key("sk", AttributeValue::S(sk.into()))
        .update_expression("SET #a = :v")
        .expression_attribute_names("#a", attr)
        .expression_attribute_values(":v", value)
        .send()
        .await
        .unwrap();
}

/// An item of the table as stored, read under the API (it must exist).
pub async fn item(pk: &str, sk: &str) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    use aws_sdk_dynamodb::types::AttributeValue;
    kabinet_tests::dynamodb()
        .await
        .get_item()
        .table_name(&kabinet_tests::env().await.config.table)
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap_or_else(|| panic!("no item {pk} {sk}"))
}

/// Deletes an item under the API (as TTL would).
pub async fn delete_item(pk: &str, sk: &str) {
    use aws_sdk_dynamodb::types::AttributeValue;
    kabinet_tests::dynamodb()
        .await
        .delete_item()
        .table_name(&kabinet_tests::env().await.config.table)
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .send()
        .await
        .unwrap();
}

/// An RFC 3339 time long past.
pub fn long_ago() -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::S("2020-01-01T00:00:00.000Z".into())
}

/// An admin's decision (`accept` or `reject`) on a join request as they read it: with
/// `If-Match` set to the request's ETag.
pub async fn decide(admin: &User, org: &str, id: &str, action: &str, body: Value) -> kabinet_tests::Resp {
    let base = format!("/v1/orgs/{org}/join-requests/{id}");
    let read = admin.get(&base).await;
    let etag = read.header("etag").unwrap_or("\"v0\"").to_string();
    admin.call(reqwest::Method::POST, &format!("{base}/{action}"), Some(body), &[("If-Match", &etag)]).await
}
