//! The emulator keeps DynamoDB conditions atomic under concurrent requests.

use aws_sdk_dynamodb::types::AttributeValue;
use kabinet_tests::{dynamodb, env};

#[tokio::test]
async fn sixty_racing_conditional_increments_with_a_limit_of_ten_make_exactly_ten() {
    let db = dynamodb().await;
    let table = env().await.config.table.clone();
    let pk = format!("RACE#{}", ulid::Ulid::new());
    db.put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S(pk.clone()))
        .item("sk", AttributeValue::S("COUNTER".into()))
        .item("uses", AttributeValue::N("0".into()))
        .send()
        .await
        .unwrap();
    let tasks: Vec<_> = (0..60)
        .map(|_| {
            let (db, table, pk) = (db.clone(), table.clone(), pk.clone());
            tokio::spawn(async move {
                db.update_item()
                    .table_name(table)
                    .key("pk", AttributeValue::S(pk))
                    .key("sk", AttributeValue::S("COUNTER".into()))
                    .update_expression("SET uses = uses + :one")
                    .condition_expression("uses < :limit")
                    .expression_attribute_values(":one", AttributeValue::N("1".into()))
                    .expression_attribute_values(":limit", AttributeValue::N("10".into()))
                    .send()
                    .await
                    .is_ok()
            })
        })
        .collect();
    let mut succeeded = 0;
    for t in tasks {
        if t.await.unwrap() {
            succeeded += 1;
        }
    }
    let item = db
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S(pk))
        .key("sk", AttributeValue::S("COUNTER".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(succeeded, 10);
    assert_eq!(item["uses"].as_n().unwrap(), "10");
}
