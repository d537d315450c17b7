//! The test's table under the API: an item as stored, an attribute set (to make a link or
//! an invitation expire without waiting), an item deleted (as TTL would), a member put in
//! directly (for tests about other routes), the events the outbox holds.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use kabinet::domain::{Membership, MembershipSource, OrgId, RoleGrant, UserId};
use serde_json::Value;

use super::env::{dynamodb, env, store};
use super::http::User;

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

/// Sets one attribute of an item of the organization's partition under the API (to make
/// a link or an invitation expire without waiting).
pub async fn set_item_attr(org: &str, sk: &str, attr: &str, value: AttributeValue) {
    dynamodb()
        .await
        .update_item()
        .table_name(&env().await.config.table)
        .key("pk", AttributeValue::S(format!("ORG#{org}")))
        .key("sk", AttributeValue::S(sk.into()))
        .update_expression("SET #a = :v")
        .expression_attribute_names("#a", attr)
        .expression_attribute_values(":v", value)
        .send()
        .await
        .unwrap();
}

/// An item of the table as stored, read under the API, if there is one.
pub async fn maybe_item(pk: &str, sk: &str) -> Option<HashMap<String, AttributeValue>> {
    dynamodb()
        .await
        .get_item()
        .table_name(&env().await.config.table)
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

/// An item of the table as stored, read under the API (it must exist).
pub async fn item(pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    maybe_item(pk, sk).await.unwrap_or_else(|| panic!("no item {pk} {sk}"))
}

/// Deletes an item under the API (as TTL would).
pub async fn delete_item(pk: &str, sk: &str) {
    dynamodb()
        .await
        .delete_item()
        .table_name(&env().await.config.table)
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .send()
        .await
        .unwrap();
}

/// An RFC 3339 time long past.
pub fn long_ago() -> AttributeValue {
    AttributeValue::S("2020-01-01T00:00:00.000Z".into())
}

/// The outbox's events of `kind` in the test's table, as stored (their `skipped`,
/// `failures` and `payload`).
pub async fn event_items(kind: &str) -> Vec<HashMap<String, AttributeValue>> {
    let out = dynamodb()
        .await
        .scan()
        .table_name(&env().await.config.table)
        .filter_expression("begins_with(pk, :e) AND kind = :k")
        .expression_attribute_values(":e", AttributeValue::S("EVENT#".into()))
        .expression_attribute_values(":k", AttributeValue::S(kind.into()))
        .send()
        .await
        .unwrap();
    out.items.unwrap_or_default()
}

/// The payloads of the outbox's events of `kind` in the test's table.
pub async fn events(kind: &str) -> Vec<Value> {
    let items = event_items(kind).await;
    items.iter().map(|i| serde_json::from_str(i["payload"].as_s().unwrap()).unwrap()).collect()
}
