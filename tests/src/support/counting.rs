//! A gateway whose DynamoDB calls are counted ([`CountingGateway`]): for the tests that
//! count round trips and items read per route, and for those that cut an operation off
//! half-way.

use kabinet_local::{emulator, Gateway};
use reqwest::Method;
use serde_json::Value;

use super::env::{env, SECRET};
use super::http::{send_with, Resp, User};

/// A gateway of its own, on the shared emulator and table, whose DynamoDB calls are
/// counted: for tests that count round trips per route.
pub struct CountingGateway {
    pub base: String,
    /// The gateway's context: its DynamoDB calls are counted (to run a worker's job on it).
    pub ctx: kabinet::Ctx,
    calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    read: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ops: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// Records the name of each DynamoDB operation the gateway sends (`Query`, `Scan`, ...).
#[derive(Debug)]
struct RecordOps(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl aws_sdk_dynamodb::config::Intercept for RecordOps {
    fn name(&self) -> &'static str {
        "RecordOps"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let target = context.request().headers().get("x-amz-target").unwrap_or_default();
        let op = target.rsplit('.').next().unwrap_or_default().to_string();
        if let Ok(mut ops) = self.0.lock() {
            ops.push(op);
        }
        Ok(())
    }
}

#[derive(Debug)]
struct CountCalls(std::sync::Arc<std::sync::atomic::AtomicUsize>);

/// Counts the items DynamoDB reads for the gateway's queries (their `ScannedCount`: what a
/// query costs, filtered out or not).
#[derive(Debug)]
struct CountRead(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl aws_sdk_dynamodb::config::Intercept for CountRead {
    fn name(&self) -> &'static str {
        "CountRead"
    }

    fn read_after_deserialization(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::AfterDeserializationInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        if let Ok(output) = context.output_or_error() {
            if let Some(q) = output.downcast_ref::<aws_sdk_dynamodb::operation::query::QueryOutput>() {
                self.0.fetch_add(q.scanned_count().max(0) as usize, std::sync::atomic::Ordering::SeqCst);
            }
        }
        Ok(())
    }
}

impl aws_sdk_dynamodb::config::Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn read_before_execution(
        &self,
        _: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<'_>,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

/// Fails the `nth` TransactWriteItems (from 1) of its gateway, as a crash or a lost
/// connection cuts an operation off half-way.
#[derive(Debug)]
struct FailTransaction {
    nth: usize,
    seen: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl aws_sdk_dynamodb::config::Intercept for FailTransaction {
    fn name(&self) -> &'static str {
        "FailTransaction"
    }

    fn read_before_execution(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<'_>,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let input = context.input();
        if input.downcast_ref::<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput>().is_some()
        {
            let seen = self.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            if seen == self.nth {
                return Err("cut off half-way (a test's failure)".into());
            }
        }
        Ok(())
    }
}

impl CountingGateway {
    /// Serves on the calling test's runtime.
    pub async fn start() -> CountingGateway {
        Self::start_with(None).await
    }

    /// A gateway whose `nth` transaction (from 1) fails: to cut an operation off in the
    /// middle.
    pub async fn failing_transaction(nth: usize) -> CountingGateway {
        Self::start_with(Some(nth)).await
    }

    async fn start_with(fail: Option<usize>) -> CountingGateway {
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let read = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let ops = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let env = env().await;
        let aws = emulator::sdk_config(&env.endpoint).await;
        let mut config = aws_sdk_dynamodb::config::Builder::from(&aws)
            .interceptor(CountCalls(calls.clone()))
            .interceptor(CountRead(read.clone()))
            .interceptor(RecordOps(ops.clone()));
        if let Some(nth) = fail {
            config = config.interceptor(FailTransaction { nth, seen: Default::default() });
        }
        let db = aws_sdk_dynamodb::Client::from_conf(config.build());
        let ctx = kabinet::Ctx::with_dynamodb(env.config.clone(), &aws, db);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(kabinet_local::serve(listener, Gateway::new(ctx.clone(), SECRET.to_string(), vec![])));
        CountingGateway { base, ctx, calls, read, ops }
    }

    /// The DynamoDB operations sent on the gateway's context so far, in order.
    pub fn ops(&self) -> Vec<String> {
        self.ops.lock().map(|o| o.clone()).unwrap_or_default()
    }

    /// Sends one GET and returns its answer with the items its queries read.
    pub async fn items_read(&self, user: &User, path: &str) -> (Resp, usize) {
        let before = self.read.load(std::sync::atomic::Ordering::SeqCst);
        let (resp, _) = self.count(user, Method::GET, path, None).await;
        (resp, self.read.load(std::sync::atomic::Ordering::SeqCst) - before)
    }

    /// Sends one GET and returns its answer with the DynamoDB operations it made, in
    /// order (retries of a call included), and the items its queries read.
    pub async fn ops_of(&self, user: &User, path: &str) -> (Resp, Vec<String>, usize) {
        let from = self.ops.lock().map(|o| o.len()).unwrap_or_default();
        let (resp, read) = self.items_read(user, path).await;
        let ops = self.ops.lock().map(|o| o[from..].to_vec()).unwrap_or_default();
        (resp, ops, read)
    }

    /// Sends one request and returns its answer with the DynamoDB calls it made.
    pub async fn count(&self, user: &User, method: Method, path: &str, body: Option<Value>) -> (Resp, usize) {
        self.count_with(user, method, path, body, &[]).await
    }

    pub async fn count_with(
        &self,
        user: &User,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (Resp, usize) {
        let before = self.calls.load(std::sync::atomic::Ordering::SeqCst);
        let resp = send_with(&self.base, method, path, Some(&user.token), body.as_ref(), headers).await;
        let calls = self.calls.load(std::sync::atomic::Ordering::SeqCst) - before;
        (resp, calls)
    }
}
