//! The table's definition, as `infra/template.yaml` declares it; the local setup creates
//! it from this, and a test checks that the template agrees.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

use super::keys::*;

/// The version of the items' layout (keys, entities, attributes). Bump it when a change
/// makes items written before it unreadable or wrong: a saved local state
/// (`KABINET_DEV_STATE`) of another version is refused rather than half-understood.
/// 2: classes and invitations are indexed on gsi1 (a year's classes, an inviter's
/// invitations); links and invitations carry a `ttl`.
/// 3: roster records sit on gsi2 as offers to their email (`INVITEMAIL#`, `INVITE#<offer>`).
/// 4: group places carry the person's role in the group, and memberships the groups they
/// teach (`teaching_group_ids`): a group's teachers are those, no longer any teacher in it;
/// every membership has its search items (`MSEARCH#<word>#<sub>`); the journal's people
/// nobody has joined as are counted by role (`ROSTERCOUNT#<n>`), its waiting teachers and
/// staff marked (`ROSTERWAIT#`) and a member's records named (`ROSTERUSER#`). Items
/// written before have none of them.
pub const LAYOUT_VERSION: u32 = 4;

/// What data must have been written for, to be read by this build: the layout version
/// and the table's keys and indexes.
pub fn fingerprint() -> String {
    let indexes: Vec<String> = INDEXES.iter().map(|(n, h, r)| format!("{n}({h},{r})")).collect();
    format!("layout-{LAYOUT_VERSION};table({PK},{SK});{}", indexes.join(";"))
}

/// (index name, hash key, range key) of each global secondary index.
pub const INDEXES: [(&str, &str, &str); 2] = [(GSI1, GSI1PK, GSI1SK), (GSI2, GSI2PK, GSI2SK)];

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, String> {
    KeySchemaElement::builder().attribute_name(name).key_type(kind).build().map_err(|e| e.to_string())
}

fn attr(name: &str) -> Result<AttributeDefinition, String> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| e.to_string())
}

/// Creates the table (with its stream, indexes and TTL) unless it exists.
pub async fn create_table_if_missing(db: &Client, table: &str) -> Result<(), String> {
    if db.describe_table().table_name(table).send().await.is_ok() {
        return Ok(());
    }
    let mut req = db
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .attribute_definitions(attr(PK)?)
        .attribute_definitions(attr(SK)?)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .map_err(|e| e.to_string())?,
        );
    for (name, hash, range) in INDEXES {
        req = req.attribute_definitions(attr(hash)?).attribute_definitions(attr(range)?).global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(hash, KeyType::Hash)?)
                .key_schema(key(range, KeyType::Range)?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    if let Err(e) = req.send().await {
        // Another process may have created it meanwhile.
        if db.describe_table().table_name(table).send().await.is_err() {
            return Err(aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string());
        }
    }
    let ttl =
        TimeToLiveSpecification::builder().attribute_name(TTL).enabled(true).build().map_err(|e| e.to_string())?;
    let _ = db.update_time_to_live().table_name(table).time_to_live_specification(ttl).send().await;
    Ok(())
}
