//! Feeds the stream consumers locally, as the event source mappings do in AWS: each
//! consumer polls the emulator's DynamoDB stream shard by shard on its own (one slow
//! export never holds up the emails) and hands each batch to the same handler code.
//! Records a batch reports as failed are delivered again, up to a retry cap.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use kabinet::events::{exporter, importer, is_ttl_identity, mail_events, notifier, ChangeRecord};
use kabinet::lambda::Function;
use kabinet::Ctx;

const POLL: Duration = Duration::from_millis(200);
/// Records a poll reads from a shard (the event source mapping's batch size).
const BATCH: i32 = 100;
const MAX_ATTEMPTS: u32 = 5;

/// Records given up on after [`MAX_ATTEMPTS`] deliveries, every consumer together: what
/// Lambda would park in the event source mapping's on-failure destination. A run whose
/// faults were all passing ones ends with none.
pub static GIVEN_UP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Runs the notifier on the table's stream until the task is dropped.
pub async fn run_notifier(ctx: Ctx, aws: aws_config::SdkConfig) {
    run(ctx, aws, Function::Notifier, None).await
}

/// Runs the exporter on the table's stream until the task is dropped.
pub async fn run_exporter(ctx: Ctx, aws: aws_config::SdkConfig) {
    run(ctx, aws, Function::Exporter, None).await
}

/// Runs the importer on the table's stream until the task is dropped.
pub async fn run_importer(ctx: Ctx, aws: aws_config::SdkConfig) {
    run(ctx, aws, Function::Importer, None).await
}

/// Runs the mail events' consumer on what SES's simulator publishes in the emulator at
/// `emulator` (its bounces and complaints, as EventBridge delivers them; see
/// scripts/emulator/patches/mail_events.py) until the task is dropped: those published from
/// now on, each handed to the same handler code and tried again, as Lambda retries an
/// asynchronous invocation, up to [`MAX_ATTEMPTS`] times. `reading` is told once it has
/// its starting point.
pub async fn run_mail_events(ctx: Ctx, emulator: String, mut reading: Option<tokio::sync::oneshot::Sender<()>>) {
    let consumer = Function::MailEvents;
    let client = reqwest::Client::new();
    let url = format!("{}/_kabinet/mail-events", emulator.trim_end_matches('/'));
    let mut after: Option<u64> = None;
    loop {
        let asked = client.get(&url).query(&[("after", after.unwrap_or(u64::MAX / 2))]).send().await;
        let page: Option<serde_json::Value> = match asked {
            Ok(r) => r.json().await.ok(),
            Err(e) => {
                tracing::warn!(error = %e, "reading the emulator's mail events");
                None
            }
        };
        if let Some(page) = page {
            let last = page["last"].as_u64().unwrap_or_default();
            if after.is_none() {
                // The starting point: what is published from now on.
                after = Some(last);
                if let Some(reading) = reading.take() {
                    let _ = reading.send(());
                }
            } else {
                for item in page["events"].as_array().into_iter().flatten() {
                    let event = &item["event"];
                    let mut attempts = 0;
                    loop {
                        let handled = mail_events::handle(&ctx, event);
                        match crate::access::serving(consumer.name(), consumer.access(), handled).await {
                            Ok(()) => break,
                            Err(e) if attempts + 1 < MAX_ATTEMPTS => {
                                attempts += 1;
                                tracing::warn!(error = %e, "a mail event failed; trying again");
                                tokio::time::sleep(POLL).await;
                            }
                            Err(e) => {
                                GIVEN_UP.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                tracing::error!(error = %e, "gave up on a mail event after {MAX_ATTEMPTS} attempts");
                                break;
                            }
                        }
                    }
                    after = item["seq"].as_u64().or(after);
                }
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A worker's time budget locally: `KABINET_WORKER_BUDGET_S` seconds (as Lambda's
/// timeout less the margin; unset: no limit). A run past it stops and a new one continues.
fn worker_budget() -> kabinet::roster::resume::Budget {
    match std::env::var("KABINET_WORKER_BUDGET_S").ok().and_then(|s| s.trim().parse::<u64>().ok()) {
        Some(s) => kabinet::roster::resume::Budget::seconds(s),
        None => kabinet::roster::resume::Budget::none(),
    }
}

/// The batch's failed records, as the consumer reports them.
async fn deliver(ctx: &Ctx, consumer: Function, records: Vec<ChangeRecord>) -> Vec<String> {
    let access = consumer.access();
    match consumer {
        Function::Exporter => crate::access::serving(consumer.name(), access, exporter::process(ctx, records)).await,
        Function::Importer => {
            let budget = worker_budget();
            crate::access::serving(consumer.name(), access, importer::process(ctx, records, budget)).await
        }
        _ => crate::access::serving(consumer.name(), access, notifier::process(ctx, records)).await,
    }
}

/// Runs `consumer` on the table's stream; `reading` is told once it reads the stream (the
/// emulator keeps a record only until every reader that was there has read it).
pub async fn run(
    ctx: Ctx,
    aws: aws_config::SdkConfig,
    consumer: Function,
    mut reading: Option<tokio::sync::oneshot::Sender<()>>,
) {
    let db = aws_sdk_dynamodb::Client::new(&aws);
    let streams = aws_sdk_dynamodbstreams::Client::new(&aws);
    let table = ctx.config().table.clone();
    let stream_arn = loop {
        match db.describe_table().table_name(&table).send().await {
            Ok(out) => {
                if let Some(arn) = out.table().and_then(|t| t.latest_stream_arn()) {
                    break arn.to_string();
                }
            }
            Err(e) => tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "no stream yet"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    // Shard -> iterator; records to deliver again with their attempts so far.
    let mut iterators: HashMap<String, Option<String>> = HashMap::new();
    let mut retry: Vec<(ChangeRecord, u32)> = Vec::new();
    loop {
        if let Ok(out) = streams.describe_stream().stream_arn(&stream_arn).send().await {
            for shard in out.stream_description().map(|d| d.shards()).unwrap_or_default() {
                let Some(id) = shard.shard_id() else { continue };
                if !iterators.contains_key(id) {
                    let it = streams
                        .get_shard_iterator()
                        .stream_arn(&stream_arn)
                        .shard_id(id)
                        .shard_iterator_type(ShardIteratorType::TrimHorizon)
                        .send()
                        .await;
                    // A shard whose iterator could not be had is asked for again next time.
                    match it {
                        Ok(o) => {
                            iterators.insert(id.to_string(), o.shard_iterator().map(str::to_owned));
                        }
                        Err(e) => tracing::warn!(
                            error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(&e), "no shard iterator yet"
                        ),
                    }
                }
            }
        }
        if !iterators.is_empty() {
            if let Some(reading) = reading.take() {
                let _ = reading.send(());
            }
        }
        let mut batch: Vec<(ChangeRecord, u32)> = std::mem::take(&mut retry);
        // A shard that gave a full batch has more: it is read again at once, not after
        // the poll interval (a busy table's stream fell behind its writes).
        let mut more = false;
        for iterator in iterators.values_mut() {
            let Some(it) = iterator.clone() else { continue };
            match streams.get_records().shard_iterator(&it).limit(BATCH).send().await {
                Ok(out) => {
                    *iterator = out.next_shard_iterator().map(str::to_owned);
                    more |= out.records().len() >= BATCH as usize;
                    for r in out.records() {
                        let Some(change) = r.dynamodb() else { continue };
                        let image = |i: Option<&HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| {
                            let item: serde_dynamo::Item = i.cloned().unwrap_or_default().into();
                            item.into()
                        };
                        let event_name = r.event_name().map(|n| n.as_str().to_string()).unwrap_or_default();
                        // As Lambda hands it: TTL's deletions name the DynamoDB service.
                        let identity = r.user_identity();
                        let by_ttl = event_name == "REMOVE"
                            && identity.is_some_and(|u| is_ttl_identity(u.r#type(), u.principal_id()));
                        batch.push((
                            ChangeRecord {
                                id: change.sequence_number().unwrap_or_default().to_string(),
                                event_name,
                                new_image: image(change.new_image()),
                                old_image: image(change.old_image()),
                                by_ttl,
                            },
                            0,
                        ));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(&e), "reading the stream")
                }
            }
        }
        if !batch.is_empty() {
            let records: Vec<ChangeRecord> = batch.iter().map(|(r, _)| r.clone()).collect();
            let failed = deliver(&ctx, consumer, records).await;
            for (record, attempts) in batch {
                if failed.contains(&record.id) {
                    if attempts + 1 < MAX_ATTEMPTS {
                        retry.push((record, attempts + 1));
                    } else {
                        GIVEN_UP.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        tracing::error!(record = %record.id, consumer = consumer.name(), "gave up on a record after {MAX_ATTEMPTS} attempts");
                    }
                }
            }
        }
        if !more {
            tokio::time::sleep(POLL).await;
        }
    }
}
