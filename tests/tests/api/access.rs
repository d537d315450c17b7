//! The local gateway refuses AWS calls a function has not declared (as its IAM policy
//! would in AWS), so every other test also checks the route table's declarations.

use aws_sdk_dynamodb::types::AttributeValue;
use kabinet::permissions::Access;
use kabinet_local::access::{serving, AccessCheck};
use kabinet_tests::env;

#[tokio::test]
async fn undeclared_calls_are_refused_and_declared_ones_pass() {
    let env = env().await;
    let aws = kabinet_local::emulator::sdk_config(&env.endpoint).await;
    let db = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws).interceptor(AccessCheck).build(),
    );
    let table = env.config.table.clone();
    let key = |pk: &str| {
        [("pk".to_string(), AttributeValue::S(pk.into())), ("sk".to_string(), AttributeValue::S("PROBE".into()))]
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>()
    };
    let get = || db.get_item().table_name(&table).set_key(Some(key("PROBE#1"))).send();
    let put = || db.put_item().table_name(&table).set_item(Some(key("PROBE#1"))).send();
    let by_index = || {
        db.query()
            .table_name(&table)
            .index_name("gsi2")
            .key_condition_expression("gsi2pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S("ADMINS#x".into()))
            .send()
    };
    let refused = |e: String| e.contains("without declaring it");

    // Read-only: reads pass, a write and an undeclared index are refused.
    assert!(serving("probe-read", Access::READ, get()).await.is_ok());
    let err = serving("probe-read", Access::READ, put()).await.unwrap_err();
    assert!(refused(format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&err))), "{err:?}");
    let err = serving("probe-read", Access::READ, by_index()).await.unwrap_err();
    assert!(refused(format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&err))), "{err:?}");
    // Declared: both pass.
    let rw = Access::READ_WRITE.indexes(&["gsi2"]);
    assert!(serving("probe-rw", rw, put()).await.is_ok());
    assert!(serving("probe-rw", rw, by_index()).await.is_ok());
    // Nothing declared: nothing passes; outside any function (setup, tests): anything.
    assert!(serving("probe-none", Access::NONE, get()).await.is_err());
    assert!(get().await.is_ok());
}
