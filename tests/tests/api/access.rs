//! The local gateway refuses AWS calls a function has not declared (as its IAM policy
//! would in AWS), so every other test also checks the route table's declarations.

use aws_sdk_dynamodb::types::AttributeValue;
use kabinet::permissions::Access;
use kabinet_local::access::{serving, AccessCheck};
use kabinet_tests::support::env;

#[tokio::test]
async fn undeclared_calls_are_refused_and_declared_ones_pass() {
    let env = env().await;
    let aws = kabinet_local::emulator::sdk_config(&env.endpoint).await;
    let db = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws).interceptor(AccessCheck::default()).build(),
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

/// An object call is checked against the declared bucket, prefix and action: a key
/// outside the prefix, another action or the other bucket is refused, as the policy's
/// `<bucket>/<prefix>*` resource and its actions would in AWS.
#[tokio::test]
async fn object_calls_are_refused_outside_their_declared_prefix_and_actions() {
    use kabinet::permissions::{Bucket, ObjectAction, Objects};
    const UPLOADS: &[Objects] = &[Objects::new(Bucket::Files, "uploads/", &[ObjectAction::Write])];
    let env = env().await;
    let aws = kabinet_local::emulator::sdk_config(&env.endpoint).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws)
            .force_path_style(true)
            .interceptor(AccessCheck::with_buckets(&env.config))
            .build(),
    );
    let put = |bucket: &str, key: &str| {
        s3.put_object().bucket(bucket).key(key).body(aws_sdk_s3::primitives::ByteStream::from_static(b"x")).send()
    };
    let refused = |e: &aws_sdk_s3::error::SdkError<_>| {
        let text = format!("{}", aws_sdk_s3::error::DisplayErrorContext(e));
        text.contains("without declaring it")
    };
    let access = Access::READ_WRITE.objects(UPLOADS);
    let run = ulid::Ulid::new().to_string();
    let (files, exports) = (env.config.files_bucket.clone(), env.config.exports_bucket.clone());
    // Declared: a PUT under uploads/ of the files bucket.
    assert!(serving("probe-s3", access, put(&files, &format!("uploads/{run}"))).await.is_ok());
    // Outside the prefix, in the other bucket, or another action: refused.
    let err = serving("probe-s3", access, put(&files, &format!("files/{run}"))).await.unwrap_err();
    assert!(refused(&err), "{err:?}");
    let err = serving("probe-s3", access, put(&exports, &format!("uploads/{run}"))).await.unwrap_err();
    assert!(refused(&err), "{err:?}");
    let get = s3.get_object().bucket(&files).key(format!("uploads/{run}")).send();
    let err = serving("probe-s3", access, get).await.unwrap_err();
    assert!(format!("{}", aws_sdk_s3::error::DisplayErrorContext(&err)).contains("without declaring it"));
    // A copy reads its source: a copy into uploads/ from files/ is refused.
    let copy =
        s3.copy_object().bucket(&files).copy_source(format!("{files}/files/{run}")).key(format!("uploads/{run}.2"));
    let err = serving("probe-s3", access, copy.send()).await.unwrap_err();
    assert!(format!("{}", aws_sdk_s3::error::DisplayErrorContext(&err)).contains("s3:GetObject on"));
}
