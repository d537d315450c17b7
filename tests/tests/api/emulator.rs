//! The emulator keeps DynamoDB conditions atomic under concurrent requests.

use aws_sdk_dynamodb::types::AttributeValue;
use kabinet_tests::support::{dynamodb, env};

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

/// DynamoDB never streams the writes of a cancelled transaction, and a stream reader
/// keeps reading the same shard afterwards. (moto's rollback swaps the table for a copy:
/// the launcher restores it in place instead.)
#[tokio::test]
async fn cancelled_transactions_leave_nothing_in_the_stream() {
    use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
    use aws_sdk_dynamodbstreams::types::ShardIteratorType;
    let db = dynamodb().await;
    let table = env().await.config.table.clone();
    let aws = kabinet_local::emulator::sdk_config(&env().await.endpoint).await;
    let streams = aws_sdk_dynamodbstreams::Client::new(&aws);
    let arn = stream_arn(&db, &table).await;
    let put = |pk: &str, cond: Option<&str>| {
        let mut p = Put::builder()
            .table_name(&table)
            .item("pk", AttributeValue::S(pk.into()))
            .item("sk", AttributeValue::S("X".into()));
        if let Some(c) = cond {
            p = p.condition_expression(c);
        }
        TransactWriteItem::builder().put(p.build().unwrap()).build()
    };
    let run = ulid::Ulid::new().to_string();
    db.put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S(format!("EXISTS#{run}")))
        .item("sk", AttributeValue::S("X".into()))
        .send()
        .await
        .unwrap();
    let shard = streams.describe_stream().stream_arn(&arn).send().await.unwrap().stream_description().unwrap().shards()
        [0]
    .shard_id()
    .unwrap()
    .to_string();
    let iterator = streams
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(ShardIteratorType::Latest)
        .send()
        .await
        .unwrap()
        .shard_iterator()
        .unwrap()
        .to_string();
    // Cancelled: the second action's condition fails, so the first write never happened.
    let cancelled = db
        .transact_write_items()
        .transact_items(put(&format!("GHOST#{run}"), None))
        .transact_items(put(&format!("EXISTS#{run}"), Some("attribute_not_exists(pk)")))
        .send()
        .await;
    assert!(cancelled.is_err());
    db.transact_write_items().transact_items(put(&format!("REAL#{run}"), None)).send().await.unwrap();
    let records = streams.get_records().shard_iterator(&iterator).send().await.unwrap();
    let keys: Vec<String> =
        records.records().iter().filter_map(|r| r.dynamodb()?.keys()?.get("pk")?.as_s().ok().cloned()).collect();
    assert_eq!(keys, [format!("REAL#{run}")]);
    assert!(db
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S(format!("GHOST#{run}")))
        .key("sk", AttributeValue::S("X".into()))
        .send()
        .await
        .unwrap()
        .item
        .is_none());
}

/// A cancelled transaction leaves every item it touched as it was: one it updated (moto
/// updates items in place), one it deleted and one it would have made. (The launcher
/// rolls back by an undo log of the touched items, not by copies of whole tables.)
#[tokio::test]
async fn a_cancelled_transaction_restores_updated_deleted_and_new_items() {
    use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};
    let db = dynamodb().await;
    let table = env().await.config.table.clone();
    let run = ulid::Ulid::new().to_string();
    let key = |pk: &str| {
        [
            ("pk".to_string(), AttributeValue::S(format!("{pk}#{run}"))),
            ("sk".to_string(), AttributeValue::S("X".into())),
        ]
        .into_iter()
        .collect::<std::collections::HashMap<_, _>>()
    };
    for (pk, n) in [("UPDATED", "1"), ("DELETED", "2"), ("GUARD", "0")] {
        let mut item = key(pk);
        item.insert("n".into(), AttributeValue::N(n.into()));
        item.insert("tags".into(), AttributeValue::L(vec![AttributeValue::S("a".into())]));
        db.put_item().table_name(&table).set_item(Some(item)).send().await.unwrap();
    }
    let before = |pk: &'static str| {
        let db = db.clone();
        let table = table.clone();
        let key = key(pk);
        async move { db.get_item().table_name(&table).set_key(Some(key)).consistent_read(true).send().await.unwrap().item }
    };
    let (updated, deleted) = (before("UPDATED").await, before("DELETED").await);
    let update = Update::builder()
        .table_name(&table)
        .set_key(Some(key("UPDATED")))
        .update_expression("SET n = n + :one, tags = list_append(tags, :more) REMOVE gone")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":more", AttributeValue::L(vec![AttributeValue::S("b".into())]))
        .build()
        .unwrap();
    let delete = Delete::builder().table_name(&table).set_key(Some(key("DELETED"))).build().unwrap();
    let mut new_item = key("NEW");
    new_item.insert("n".into(), AttributeValue::N("3".into()));
    let put = Put::builder().table_name(&table).set_item(Some(new_item)).build().unwrap();
    // The last action's condition fails: nothing of the others may remain.
    let check = ConditionCheck::builder()
        .table_name(&table)
        .set_key(Some(key("GUARD")))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .unwrap();
    let err = db
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().update(update).build())
        .transact_items(TransactWriteItem::builder().delete(delete).build())
        .transact_items(TransactWriteItem::builder().put(put).build())
        .transact_items(TransactWriteItem::builder().condition_check(check).build())
        .send()
        .await;
    assert!(err.is_err(), "the condition fails");
    let err = format!("{:?}", err.unwrap_err());
    assert!(err.contains("ConditionalCheckFailed"), "{err}");
    assert_eq!(before("UPDATED").await, updated, "the in-place update is undone");
    assert_eq!(before("DELETED").await, deleted, "the deleted item is back");
    assert!(before("NEW").await.is_none(), "the new item is gone");
}

/// Stream records every reader has consumed are dropped (DynamoDB drops them after 24
/// hours), so the emulator does not keep every write's images forever: the shard's
/// starting sequence number moves past what was read.
#[tokio::test]
async fn consumed_stream_records_are_trimmed() {
    use aws_sdk_dynamodbstreams::types::ShardIteratorType;
    let db = dynamodb().await;
    let table = env().await.config.table.clone();
    let aws = kabinet_local::emulator::sdk_config(&env().await.endpoint).await;
    let streams = aws_sdk_dynamodbstreams::Client::new(&aws);
    let arn = stream_arn(&db, &table).await;
    let horizon = || async {
        let d = streams.describe_stream().stream_arn(&arn).send().await.unwrap();
        let shard = d.stream_description().unwrap().shards()[0].clone();
        let start = shard.sequence_number_range().unwrap().starting_sequence_number().unwrap().parse::<u128>().unwrap();
        (shard.shard_id().unwrap().to_string(), start)
    };
    let (shard, before) = horizon().await;
    let run = ulid::Ulid::new().to_string();
    for i in 0..5 {
        db.put_item()
            .table_name(&table)
            .item("pk", AttributeValue::S(format!("TRIM#{run}#{i}")))
            .item("sk", AttributeValue::S("X".into()))
            .send()
            .await
            .unwrap();
    }
    let mut iterator = streams
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator()
        .unwrap()
        .to_string();
    let mut read = 0;
    // Read to the end (the local notifier reads this table's stream too).
    for _ in 0..20 {
        let out = streams.get_records().shard_iterator(&iterator).send().await.unwrap();
        read += out.records().len();
        iterator = out.next_shard_iterator().unwrap().to_string();
        if out.records().is_empty() && read >= 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    streams.get_records().shard_iterator(&iterator).send().await.unwrap();
    let (_, after) = horizon().await;
    assert!(after >= before + 5, "the horizon moved past the records read: {before} -> {after}");
}

/// The table's stream.
async fn stream_arn(db: &aws_sdk_dynamodb::Client, table: &str) -> String {
    let out = db.describe_table().table_name(table).send().await.unwrap();
    out.table().unwrap().latest_stream_arn().unwrap().to_string()
}

/// Counter updates (`n = n + :d`, `n = if_not_exists(n, :zero) - :d`) give DynamoDB's
/// results, and what DynamoDB refuses (arithmetic on a missing or non-number attribute)
/// is still refused. (The launcher applies integer counters directly; the suite's verify
/// flag also checks each against moto's own update.)
#[tokio::test]
async fn counters_add_and_subtract_as_dynamodb_does() {
    let db = dynamodb().await;
    let table = env().await.config.table.clone();
    let pk = format!("COUNTERS#{}", ulid::Ulid::new());
    let key = |db: &aws_sdk_dynamodb::Client| {
        db.update_item()
            .table_name(&table)
            .key("pk", AttributeValue::S(pk.clone()))
            .key("sk", AttributeValue::S("X".into()))
    };
    let n = |v: &str| AttributeValue::N(v.into());
    key(&db)
        .update_expression("SET s = :s")
        .expression_attribute_values(":s", AttributeValue::S("x".into()))
        .send()
        .await
        .unwrap();
    let steps = [
        ("SET a = if_not_exists(a, :zero) + :d", "7", "a", "7"),
        ("SET a = a - :d", "10", "a", "-3"),
        ("SET b = if_not_exists(b, :zero) - :d", "2", "b", "-2"),
        ("SET a = a + :d, b = b + :d", "5", "b", "3"),
        ("SET f = if_not_exists(f, :zero) + :d", "1.5", "f", "1.5"),
    ];
    for (expression, d, attr, expected) in steps {
        let mut update = key(&db)
            .update_expression(expression)
            .expression_attribute_values(":d", n(d))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        if expression.contains(":zero") {
            update = update.expression_attribute_values(":zero", n("0"));
        }
        let out = update.send().await.unwrap();
        assert_eq!(out.attributes.unwrap()[attr].as_n().unwrap(), expected, "{expression}");
    }
    for refused in ["SET missing = missing + :d", "SET s = s + :d"] {
        let err = key(&db).update_expression(refused).expression_attribute_values(":d", n("1")).send().await;
        assert!(format!("{:?}", err.unwrap_err()).contains("ValidationException"), "{refused}");
    }
}

/// A query page that its sort-key condition fills exactly, in a partition with more items
/// on either side, ends with a `LastEvaluatedKey` as moto's own query (and DynamoDB) does;
/// the page after it is empty. (Schemathesis found it: the launcher's narrowed query left
/// the key out, the suite's verify flag failed the request, and `GET invite-links?limit=2`
/// of an organization with two links answered 500.)
#[tokio::test]
async fn a_page_its_limit_fills_ends_with_a_last_evaluated_key() {
    let db = dynamodb().await;
    let table = env().await.config.table.clone();
    let pk = format!("PAGES#{}", ulid::Ulid::new());
    let s = |v: &str| AttributeValue::S(v.into());
    for sk in ["A#1", "B#1", "B#2", "C#1"] {
        db.put_item().table_name(&table).item("pk", s(&pk)).item("sk", s(sk)).send().await.unwrap();
    }
    for forward in [true, false] {
        let page = |start: Option<std::collections::HashMap<String, AttributeValue>>| {
            db.query()
                .table_name(&table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :b)")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":b", s("B#"))
                .scan_index_forward(forward)
                .limit(2)
                .set_exclusive_start_key(start)
                .send()
        };
        let first = page(None).await.unwrap();
        assert_eq!(first.items().len(), 2, "forward: {forward}");
        let start = first.last_evaluated_key.clone();
        assert!(start.is_some(), "a full page has a LastEvaluatedKey (forward: {forward})");
        let next = page(start).await.unwrap();
        assert!(next.items().is_empty() && next.last_evaluated_key.is_none(), "forward: {forward}");
    }
}

/// moto never expires items by TTL; the launcher's `POST /_kabinet/expire` does what
/// DynamoDB's TTL does: it removes the items whose TTL is past (not the others, nor those
/// without one), each with a `REMOVE` stream record that carries the item as it was and
/// the identity DynamoDB gives TTL's deletions.
#[tokio::test]
async fn ttl_expiry_removes_what_is_due_as_dynamodb_does() {
    use aws_sdk_dynamodbstreams::types::ShardIteratorType;
    let db = dynamodb().await;
    let env = env().await;
    let table = env.config.table.clone();
    let streams = aws_sdk_dynamodbstreams::Client::new(&kabinet_local::emulator::sdk_config(&env.endpoint).await);
    let arn = stream_arn(&db, &table).await;
    let shard = streams.describe_stream().stream_arn(&arn).send().await.unwrap().stream_description().unwrap().shards()
        [0]
    .shard_id()
    .unwrap()
    .to_string();
    let mut iterator = streams
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(ShardIteratorType::Latest)
        .send()
        .await
        .unwrap()
        .shard_iterator()
        .unwrap()
        .to_string();
    let run = ulid::Ulid::new().to_string();
    let now = kabinet::domain::Timestamp::now().unix();
    for (name, ttl) in [("due", Some(now - 10)), ("later", Some(now + 3600)), ("never", None)] {
        let mut put = db
            .put_item()
            .table_name(&table)
            .item("pk", AttributeValue::S(format!("TTL#{run}")))
            .item("sk", AttributeValue::S(name.into()));
        if let Some(ttl) = ttl {
            put = put.item("ttl", AttributeValue::N(ttl.to_string()));
        }
        put.send().await.unwrap();
    }
    let removed = kabinet_local::emulator::expire_ttl(&env.endpoint, &table, now).await.unwrap();
    assert_eq!(removed, 1);
    let left = db
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("TTL#{run}")))
        .send()
        .await
        .unwrap();
    let left: Vec<&str> = left.items().iter().map(|i| i["sk"].as_s().unwrap().as_str()).collect();
    assert_eq!(left, ["later", "never"]);
    // The removal's record, as DynamoDB streams TTL's.
    let mut removal = None;
    for _ in 0..50 {
        let out = streams.get_records().shard_iterator(&iterator).send().await.unwrap();
        let found = out.records().iter().find(|r| {
            r.event_name().map(|e| e.as_str()) == Some("REMOVE")
                && r.dynamodb().and_then(|d| d.keys()).and_then(|k| k.get("pk")).and_then(|v| v.as_s().ok())
                    == Some(&format!("TTL#{run}"))
        });
        if let Some(r) = found {
            removal = Some(r.clone());
            break;
        }
        iterator = out.next_shard_iterator().unwrap().to_string();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let removal = removal.expect("a REMOVE record for the expired item");
    let identity = removal.user_identity().expect("the record names who removed the item");
    assert_eq!((identity.r#type(), identity.principal_id()), (Some("Service"), Some("dynamodb.amazonaws.com")));
    let old = removal.dynamodb().unwrap().old_image().expect("the item as it was");
    assert_eq!(old["sk"].as_s().unwrap(), "due");
    // Later, the other goes too; the one without a TTL never does.
    kabinet_local::emulator::expire_ttl(&env.endpoint, &table, now + 7200).await.unwrap();
    let left = db
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("TTL#{run}")))
        .send()
        .await
        .unwrap();
    assert_eq!(left.items().len(), 1);
}
