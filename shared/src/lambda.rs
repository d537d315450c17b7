//! The Lambda artifacts: every function of the template runs one of them, and its
//! `Handler` setting (custom runtimes receive it as `_HANDLER`) names what it serves: a
//! route of the route table (API Gateway HTTP API, payload 2.0; the claims come from the
//! JWT authorizer in the request context), a stream consumer, the fallback, or the API
//! reference page.

use std::collections::HashMap;

use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};

use crate::api::{dispatch, find, route, routes, Route};
use crate::config::{FunctionKind, SdkSettings};
use crate::http::{ApiError, ApiRequest, ApiResponse, Claims};
use crate::permissions::Access;
use crate::Ctx;

pub use lambda_http::Error;

/// The memory of every function that asks for no other (the template's `Globals`), in MiB.
pub const DEFAULT_MEMORY_MB: u32 = 256;

/// The timeout of every function that asks for no other (the template's `Globals`), in
/// seconds: the routes', well inside API Gateway's 30 s.
pub const DEFAULT_TIMEOUT_S: u32 = 15;

/// A function of the artifact, as its `Handler` names it.
#[derive(Clone, Copy)]
pub enum Function {
    /// An entry of the route table (`orgs-get`).
    Route(&'static Route),
    /// API Gateway's `$default` route: what no route serves (`fallback`).
    Fallback,
    /// The stream consumer that sends the emails of outbox events (`notifier`).
    Notifier,
    /// SES's bounces and complaints, from an EventBridge rule (`mail-events`).
    MailEvents,
    /// The stream consumer that builds exports (`exporter`), in the worker artifact.
    Exporter,
    /// The stream consumer that runs roster imports (`importer`), in the worker artifact.
    Importer,
    /// The API reference page and its viewer's script (`docs`), in the docs artifact.
    Docs,
}

/// The artifacts the functions run: the API's, small for its cold starts, the workers'
/// (the exporter and the importer), which carry the file formats, and the docs' (the viewer's script).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Artifact {
    /// `kabinet`: the routes, the fallback, the notifier and the mail events' consumer.
    Api,
    /// `kabinet-worker`: the exporter and the importer.
    Worker,
    /// `kabinet-docs`: the API reference page, with its viewer's script embedded.
    Docs,
}

impl Artifact {
    /// The binary's name (functions/Cargo.toml).
    pub fn binary(self) -> &'static str {
        match self {
            Artifact::Api => "kabinet",
            Artifact::Worker => "kabinet-worker",
            Artifact::Docs => "kabinet-docs",
        }
    }
}

impl Function {
    pub fn named(name: &str) -> Option<Function> {
        match name {
            "fallback" => Some(Function::Fallback),
            "notifier" => Some(Function::Notifier),
            "mail-events" => Some(Function::MailEvents),
            "exporter" => Some(Function::Exporter),
            "importer" => Some(Function::Importer),
            "docs" => Some(Function::Docs),
            _ => route(name).map(Function::Route),
        }
    }

    /// Every function the template deploys: the routes, then the fallback, the consumers
    /// and the reference page.
    pub fn all() -> Vec<Function> {
        let mut all: Vec<Function> = routes().iter().map(Function::Route).collect();
        all.extend([
            Function::Fallback,
            Function::Notifier,
            Function::MailEvents,
            Function::Exporter,
            Function::Importer,
            Function::Docs,
        ]);
        all
    }

    pub fn name(&self) -> &'static str {
        match self {
            Function::Route(r) => r.name,
            Function::Fallback => "fallback",
            Function::Notifier => "notifier",
            Function::MailEvents => "mail-events",
            Function::Exporter => "exporter",
            Function::Importer => "importer",
            Function::Docs => "docs",
        }
    }

    pub fn artifact(&self) -> Artifact {
        match self {
            Function::Exporter | Function::Importer => Artifact::Worker,
            Function::Docs => Artifact::Docs,
            _ => Artifact::Api,
        }
    }

    /// The memory Lambda gives the function, in MiB (its CPU share grows with it): the
    /// template's `MemorySize`, which the deploy rehearsal checks and docs/cost.md prices
    /// each function at.
    pub fn memory_mb(&self) -> u32 {
        match self {
            // Build and read files of a school's size (streamed, one malloc arena).
            Function::Exporter | Function::Importer => 512,
            // Answers from the page and the script it embeds: the least memory Lambda has.
            Function::Docs => 128,
            _ => DEFAULT_MEMORY_MB,
        }
    }

    /// Lambda's timeout for the function, in seconds: the template's `Timeout`, and the
    /// budget its AWS calls' retries and timeouts are derived from ([`Function::sdk`]).
    pub fn timeout_s(&self) -> u32 {
        match self {
            // Sends a batch's emails at SES's rate, retrying throttled ones.
            Function::Notifier => crate::config::NOTIFIER_TIMEOUT_S,
            // One SES event: a few writes, with a consumer's patient retries.
            Function::MailEvents => 30,
            // Streams rows to a temporary file and to S3 in 5 MiB parts from it.
            Function::Exporter => 300,
            // Reads the upload to a temporary file and applies it chunk by chunk; a
            // district's 100,000 people take minutes, so the longest timeout Lambda has.
            Function::Importer => 900,
            _ => DEFAULT_TIMEOUT_S,
        }
    }

    /// What the function is, for its AWS calls' retries and timeouts.
    pub fn kind(&self) -> FunctionKind {
        match self {
            Function::Route(_) | Function::Fallback | Function::Docs => FunctionKind::Route,
            Function::Notifier | Function::MailEvents => FunctionKind::Consumer,
            Function::Exporter | Function::Importer => FunctionKind::Worker,
        }
    }

    /// The SDK's retries and timeouts for the function's clients.
    pub fn sdk(&self) -> SdkSettings {
        SdkSettings::derive(self.kind(), std::time::Duration::from_secs(self.timeout_s().into()))
    }

    pub fn access(&self) -> Access {
        match self {
            Function::Route(r) => r.access,
            Function::Fallback | Function::Docs => Access::NONE,
            // Send claims, inbox items and recipients' profiles; admins and people by email
            // (gsi2); the links' key signs the one-click unsubscribe links.
            Function::Notifier => Access::READ_WRITE.indexes(&["gsi2"]).mail().link_keys(),
            // Marks addresses; reads the tagged outbox event, marks its invitation and
            // writes the admins' event.
            Function::MailEvents => Access::READ_WRITE,
            // Reads the organization and its members, writes the export's state and its
            // file (multipart uploads).
            Function::Exporter => Access::READ_WRITE.objects(crate::api::EXPORT_WRITE),
            // Reads the upload; writes classes, roster records and memberships (a year's
            // classes on gsi1).
            Function::Importer => Access::READ_WRITE.indexes(&["gsi1"]).objects(crate::api::IMPORT_READ),
        }
    }
}

/// The function the `Handler` names, if this artifact runs it; otherwise the init fails
/// with a log line saying why.
async fn function(artifact: Artifact) -> Result<(Function, Ctx), Error> {
    crate::telemetry::init();
    let handler = std::env::var("_HANDLER").unwrap_or_default();
    let Some(function) = Function::named(&handler) else {
        tracing::error!(
            handler = %handler,
            "the function's Handler names no route of the route table and no consumer; \
             regenerate infra/template.yaml (make template) and deploy again"
        );
        return Err(format!("unknown handler {handler:?}").into());
    };
    if function.artifact() != artifact {
        tracing::error!(
            handler = %handler,
            artifact = artifact.binary(),
            "the function runs in the {} artifact, not this one: regenerate infra/template.yaml (make template)",
            function.artifact().binary()
        );
        return Err(format!("{handler} is not in {}", artifact.binary()).into());
    }
    Ok((function, Ctx::from_env(function.access(), function.sdk()).await))
}

/// The API artifact's main: runs the route, fallback or notifier its `Handler` names.
pub async fn main() -> Result<(), Error> {
    let (function, ctx) = function(Artifact::Api).await?;
    match function {
        Function::Route(route) => run_route(ctx, route).await,
        Function::Fallback => run_fallback().await,
        Function::Notifier => run_notifier(ctx).await,
        Function::MailEvents => run_mail_events(ctx).await,
        Function::Exporter | Function::Importer => Err("the exporter and importer are in the worker artifact".into()),
        Function::Docs => Err("the reference page is in the docs artifact".into()),
    }
}

/// The worker artifact's main: runs the exporter.
pub async fn worker_main() -> Result<(), Error> {
    let (function, ctx) = function(Artifact::Worker).await?;
    match function {
        Function::Exporter => {
            run_consumer(ctx, |ctx, records, _| {
                Box::pin(async move { crate::events::exporter::process(&ctx, records).await })
            })
            .await
        }
        Function::Importer => {
            // A run stops itself STOP_MARGIN before the invocation's deadline and a new
            // one continues it.
            run_consumer(ctx, |ctx, records, deadline| {
                let budget = crate::events::importer::Budget::before(deadline, crate::events::importer::STOP_MARGIN);
                Box::pin(async move { crate::events::importer::process(&ctx, records, budget).await })
            })
            .await
        }
        _ => Err("only the exporter and importer are in the worker artifact".into()),
    }
}

/// The docs artifact's main: the API reference page, and its viewer's script from
/// `gzipped` (embedded). Neither the route table nor an AWS client: the artifact stays
/// small.
pub async fn docs_main(gzipped: &'static [u8]) -> Result<(), Error> {
    crate::telemetry::init();
    let handler = std::env::var("_HANDLER").unwrap_or_default();
    if handler != Function::Docs.name() {
        tracing::error!(
            handler = %handler,
            "the docs artifact serves only the docs function: regenerate infra/template.yaml (make template)"
        );
        return Err(format!("{handler} is not in {}", Artifact::Docs.binary()).into());
    }
    lambda_http::run(lambda_http::service_fn(move |event: lambda_http::Request| async move {
        to_lambda(docs_answer(&from_lambda(event), gzipped))
    }))
    .await
}

/// The docs function's answer, chosen by the route's `{asset}`, not by the raw path, which
/// a custom domain's base path (`/kabinet/docs`) prefixes as a stage does.
fn docs_answer(req: &ApiRequest, gzipped: &'static [u8]) -> ApiResponse {
    let path = match req.path_params.get("asset") {
        Some(asset) => format!("{}/{asset}", crate::docs::PAGE_PATH),
        None => crate::docs::PAGE_PATH.to_string(),
    };
    crate::docs::answer(&path, || bytes::Bytes::from_static(gzipped)).unwrap_or_else(|| {
        ApiResponse::problem(&ApiError::RouteNotFound, &req.request_id).with_header("x-request-id", &req.request_id)
    })
}

async fn run_route(ctx: Ctx, route: &'static Route) -> Result<(), Error> {
    lambda_http::run(lambda_http::service_fn(move |event: lambda_http::Request| {
        let ctx = ctx.clone();
        async move { to_lambda(dispatch(&ctx, route, from_lambda(event)).await) }
    }))
    .await
}

/// What no route serves gets the same 404 or 405 problem as locally, not API Gateway's
/// own `{"message": ...}`.
async fn run_fallback() -> Result<(), Error> {
    lambda_http::run(lambda_http::service_fn(|event: lambda_http::Request| async move {
        let req = from_lambda(event);
        let err = match find(&req.method, &req.path) {
            Ok(_) => ApiError::RouteNotFound,
            Err(e) => e,
        };
        to_lambda(ApiResponse::problem(&err, &req.request_id).with_header("x-request-id", &req.request_id))
    }))
    .await
}

/// The notifier: a DynamoDB stream consumer that reports partial batch failures
/// (`ReportBatchItemFailures`), so only what failed is delivered again.
async fn run_notifier(ctx: Ctx) -> Result<(), Error> {
    // Boxed: the whole chain of futures is deep enough to strain type layout.
    run_consumer(ctx, |ctx, records, _| Box::pin(async move { crate::events::notifier::process(&ctx, records).await }))
        .await
}

/// The mail events' consumer: one SES event an invocation (EventBridge invokes it
/// asynchronously); a failure is retried by Lambda, then parked in its dead-letter queue.
async fn run_mail_events(ctx: Ctx) -> Result<(), Error> {
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
        let ctx = ctx.clone();
        async move {
            crate::events::mail_events::handle(&ctx, &event.payload).await.map_err(lambda_runtime::Error::from)?;
            Ok::<_, lambda_runtime::Error>(())
        }
    }))
    .await
}

type Failed = std::pin::Pin<Box<dyn std::future::Future<Output = Vec<String>> + Send>>;

/// A stream consumer: `process` handles a batch's records (by the invocation's deadline)
/// and answers the IDs of those that failed, reported as partial batch failures.
async fn run_consumer(
    ctx: Ctx,
    process: fn(Ctx, Vec<crate::events::ChangeRecord>, std::time::Instant) -> Failed,
) -> Result<(), Error> {
    use aws_lambda_events::event::dynamodb::Event;
    use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<Event>| {
        let ctx = ctx.clone();
        async move {
            let failed = process(ctx, change_records(event.payload), deadline(event.context.deadline)).await;
            let mut response = DynamoDbEventResponse::default();
            response.batch_item_failures = failed
                .into_iter()
                .map(|id| {
                    let mut f = DynamoDbBatchItemFailure::default();
                    f.item_identifier = Some(id);
                    f
                })
                .collect();
            Ok::<_, lambda_runtime::Error>(response)
        }
    }))
    .await
}

/// An invocation's deadline (Lambda's, milliseconds since the epoch) as an instant.
fn deadline(epoch_ms: u64) -> std::time::Instant {
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis() as u64;
    std::time::Instant::now() + std::time::Duration::from_millis(epoch_ms.saturating_sub(now_ms))
}

/// The stream records of a DynamoDB event, as the consumers take them.
pub fn change_records(event: aws_lambda_events::event::dynamodb::Event) -> Vec<crate::events::ChangeRecord> {
    event
        .records
        .into_iter()
        .map(|r| crate::events::ChangeRecord {
            id: r.change.sequence_number.clone().unwrap_or_else(|| r.event_id.clone()),
            by_ttl: r.event_name == "REMOVE"
                && r.user_identity
                    .as_ref()
                    .is_some_and(|u| crate::events::is_ttl_identity(Some(&u.type_), Some(&u.principal_id))),
            event_name: r.event_name,
            new_image: r.change.new_image.into(),
            old_image: r.change.old_image.into(),
        })
        .collect()
}

/// Text bodies go as they are; an encoded one (the viewer's gzip) goes as binary, which
/// API Gateway receives base64-encoded.
fn to_lambda(resp: ApiResponse) -> Result<lambda_http::Response<Body>, lambda_http::Error> {
    let mut out = lambda_http::Response::builder().status(resp.status);
    for (k, v) in resp.headers.iter() {
        out = out.header(k, v);
    }
    let encoded = resp.headers.contains_key(http::header::CONTENT_ENCODING);
    let body = match std::str::from_utf8(&resp.body) {
        _ if resp.body.is_empty() => Body::Empty,
        Ok(text) if !encoded => Body::Text(text.to_owned()),
        _ => Body::Binary(resp.body.to_vec()),
    };
    out.body(body).map_err(|e| e.into())
}

/// API Gateway's request as the handlers see it.
pub fn from_lambda(event: lambda_http::Request) -> ApiRequest {
    let context = event.request_context_ref().cloned();
    let path_params: HashMap<String, String> = event
        .path_parameters_ref()
        .map(|p| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        .unwrap_or_default();
    let query: Vec<(String, String)> = event
        .query_string_parameters_ref()
        .map(|q| q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        .unwrap_or_default();
    let (parts, body) = event.into_parts();
    let mut req = ApiRequest::new(parts.method, parts.uri.path());
    req.headers = parts.headers;
    req.path_params = path_params;
    req.query = query;
    req.body = match body {
        Body::Empty => bytes::Bytes::new(),
        Body::Text(t) => t.into(),
        Body::Binary(b) => b.into(),
        _ => bytes::Bytes::new(),
    };
    if let Some(RequestContext::ApiGatewayV2(ctx)) = context {
        if let Some(id) = ctx.request_id.clone() {
            req.request_id = id;
        }
        // A named stage prefixes the raw path: `/dev/v1/me`.
        if let Some(stage) = ctx.stage.as_deref().filter(|s| *s != "$default") {
            if let Some(rest) = req.path.strip_prefix(&format!("/{stage}/")) {
                req.path = format!("/{rest}");
            }
        }
        let claims = ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).map(|jwt| {
            jwt.claims
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect::<serde_json::Map<_, _>>()
        });
        match claims.as_ref().map(Claims::from_json) {
            Some(Ok(c)) => req.claims = Some(c),
            Some(Err(why)) => req.claims_refused = Some(why),
            None => {}
        }
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{
        "version": "2.0",
        "routeKey": "PATCH /v1/orgs/{org}",
        "rawPath": "/dev/v1/orgs/k7m3xq9pza",
        "rawQueryString": "limit=10",
        "headers": {"content-type": "application/json", "if-match": "\"v3\""},
        "queryStringParameters": {"limit": "10"},
        "pathParameters": {"org": "k7m3xq9pza"},
        "requestContext": {
            "routeKey": "PATCH /v1/orgs/{org}",
            "accountId": "123456789012",
            "stage": "dev",
            "requestId": "req-1",
            "authorizer": {"jwt": {"claims": {
                "sub": "2f1c", "email": "anna@school.ru", "email_verified": "true",
                "name": "Анна", "aud": "client", "iss": "https://cognito-idp"
            }, "scopes": null}},
            "apiId": "api",
            "domainName": "api.execute-api.eu-central-1.amazonaws.com",
            "domainPrefix": "api",
            "time": "23/Nov/2026:04:37:55 +0000",
            "timeEpoch": 1795406275000,
            "http": {"method": "PATCH", "path": "/dev/v1/orgs/k7m3xq9pza", "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4", "userAgent": "test"}
        },
        "body": "{\"name\": \"Школа\"}",
        "isBase64Encoded": false
    }"#;

    #[test]
    fn reads_outbox_events_from_a_dynamodb_stream_event() {
        let event: aws_lambda_events::event::dynamodb::Event = serde_json::from_str(
            r#"{"Records": [{
                "eventID": "1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                "awsRegion": "eu-central-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1795406275,
                    "Keys": {"pk": {"S": "EVENT#01M8"}, "sk": {"S": "EVENT"}},
                    "NewImage": {
                        "pk": {"S": "EVENT#01M8"}, "sk": {"S": "EVENT"}, "id": {"S": "01M8"},
                        "kind": {"S": "member_added"}, "org_id": {"S": "k7m3xq9pza"},
                        "payload": {"S": "{\"user_id\": \"u1\"}"},
                        "created_at": {"S": "2026-11-23T04:37:55.123Z"}, "ttl": {"N": "1796011075"}
                    },
                    "SequenceNumber": "111", "SizeBytes": 120, "StreamViewType": "NEW_AND_OLD_IMAGES"
                },
                "eventSourceARN": "arn:aws:dynamodb:eu-central-1:123456789012:table/kabinet/stream/2026"
            }, {
                "eventID": "2", "eventName": "MODIFY", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                "awsRegion": "eu-central-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1795406275,
                    "Keys": {"pk": {"S": "ORG#k7m3xq9pza"}, "sk": {"S": "PROFILE"}},
                    "NewImage": {"pk": {"S": "ORG#k7m3xq9pza"}, "sk": {"S": "PROFILE"}},
                    "SequenceNumber": "112", "SizeBytes": 40, "StreamViewType": "NEW_AND_OLD_IMAGES"
                }
            }]}"#,
        )
        .unwrap();
        let records = change_records(event);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].id, "111");
        let outbox = records[0].outbox_event().unwrap().unwrap();
        assert_eq!(outbox.kind, "member_added");
        assert_eq!(outbox.payload, "{\"user_id\": \"u1\"}");
        assert!(records[1].outbox_event().is_none(), "other changes are not events");
    }

    /// TTL's removals name the DynamoDB service; a request's do not.
    #[test]
    fn tells_ttl_removals_from_a_requests() {
        let record = |identity: &str| {
            format!(
                r#"{{"eventID": "3", "eventName": "REMOVE", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                "awsRegion": "eu-central-1", {identity}
                "dynamodb": {{
                    "ApproximateCreationDateTime": 1795406275,
                    "Keys": {{"pk": {{"S": "ORG#k7m3xq9pza"}}, "sk": {{"S": "UPLOAD#g1#f1"}}}},
                    "OldImage": {{"pk": {{"S": "ORG#k7m3xq9pza"}}, "sk": {{"S": "UPLOAD#g1#f1"}}, "size": {{"N": "10"}}}},
                    "SequenceNumber": "113", "SizeBytes": 40, "StreamViewType": "NEW_AND_OLD_IMAGES"
                }}}}"#
            )
        };
        let ttl = record(r#""userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},"#);
        let event: aws_lambda_events::event::dynamodb::Event =
            serde_json::from_str(&format!(r#"{{"Records": [{ttl}, {}]}}"#, record(""))).unwrap();
        let records = change_records(event);
        assert!(records[0].by_ttl && !records[1].by_ttl);
        assert_eq!(records[0].old_image["size"].as_n().unwrap(), "10");
        assert!(records[0].new_image.is_empty());
    }

    #[test]
    fn reads_the_jwt_authorizer_claims_and_the_route_parameters() {
        let event = lambda_http::request::from_str(EVENT).unwrap();
        let req = from_lambda(event);
        let claims = req.claims.clone().unwrap();
        assert_eq!(claims.sub, "2f1c");
        assert_eq!(claims.email.as_deref(), Some("anna@school.ru"));
        assert!(claims.email_verified);
        assert_eq!(claims.name.as_deref(), Some("Анна"));
        assert_eq!(req.request_id, "req-1");
        assert_eq!(req.path, "/v1/orgs/k7m3xq9pza");
        assert_eq!(req.path_param("org").unwrap(), "k7m3xq9pza");
        assert_eq!(req.query_param("limit"), Some("10"));
        assert_eq!(req.if_match().unwrap(), Some(3));
        assert_eq!(&req.body[..], "{\"name\": \"Школа\"}".as_bytes());
        let (route, _) = find(&req.method, &req.path).unwrap();
        assert_eq!(route.name, "orgs-patch");
    }

    /// API Gateway's JWT authorizer passes Cognito access tokens too: they carry no email,
    /// and are refused with a 401 that says why.
    #[test]
    fn access_tokens_are_refused() {
        let access = EVENT.replace(r#""name": "Анна","#, r#""name": "Анна", "token_use": "access","#);
        let req = from_lambda(lambda_http::request::from_str(&access).unwrap());
        assert!(req.claims.is_none());
        match req.caller() {
            Err(crate::http::ApiError::Unauthorized(why)) => assert!(why.contains("ID tokens"), "{why}"),
            other => panic!("{other:?}"),
        }
        let id = EVENT.replace(r#""name": "Анна","#, r#""name": "Анна", "token_use": "id","#);
        assert!(from_lambda(lambda_http::request::from_str(&id).unwrap()).claims.is_some());
    }

    #[test]
    fn handlers_name_routes_consumers_and_the_fallback() {
        assert!(matches!(Function::named("orgs-get"), Some(Function::Route(r)) if r.name == "orgs-get"));
        assert!(matches!(Function::named("notifier"), Some(Function::Notifier)));
        assert!(matches!(Function::named("fallback"), Some(Function::Fallback)));
        assert!(Function::named("bootstrap").is_none() && Function::named("").is_none());
        let names: std::collections::BTreeSet<&str> = Function::all().iter().map(Function::name).collect();
        assert_eq!(names.len(), routes().len() + 6, "function names are unique");
        assert!(matches!(Function::named("mail-events"), Some(Function::MailEvents)));
        assert_eq!(Function::MailEvents.artifact(), Artifact::Api);
        assert!(matches!(Function::named("exporter"), Some(Function::Exporter)));
        assert_eq!(Function::Exporter.artifact(), Artifact::Worker);
        assert!(matches!(Function::named("importer"), Some(Function::Importer)));
        assert_eq!(Function::Importer.artifact(), Artifact::Worker);
        assert_eq!(Function::Notifier.artifact(), Artifact::Api);
        assert!(Function::Notifier.access().mail && !Function::named("orgs-get").unwrap().access().mail);
        assert!(matches!(Function::named("docs"), Some(Function::Docs)));
        assert_eq!((Function::Docs.artifact(), Function::Docs.access()), (Artifact::Docs, Access::NONE));
    }

    /// The viewer's gzip leaves as binary (API Gateway gets it base64-encoded), the page
    /// as text.
    #[test]
    fn the_reference_page_answers_through_lambda() {
        let page = to_lambda(crate::docs::page()).unwrap();
        assert!(matches!(page.body(), Body::Text(t) if t.starts_with("<!doctype html>")));
        let gz: &[u8] = &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0];
        let script = to_lambda(crate::docs::script(bytes::Bytes::from_static(gz))).unwrap();
        assert!(matches!(script.body(), Body::Binary(b) if b == gz));
        assert_eq!(script.headers()["content-encoding"], "gzip");
        let ascii = to_lambda(crate::docs::script(bytes::Bytes::from_static(b"gzip"))).unwrap();
        assert!(matches!(ascii.body(), Body::Binary(_)), "an encoded body is binary even when it reads as text");
        let event = lambda_http::request::from_str(
            &EVENT.replace("/dev/v1/orgs/k7m3xq9pza", &format!("/dev{}", crate::docs::SCRIPT_PATH)),
        )
        .unwrap();
        assert_eq!(from_lambda(event).path, crate::docs::SCRIPT_PATH, "the stage is not part of the path");
        // Behind a custom domain whose mapping has a base path, on the page's route and the
        // script's (`GET /docs/{asset}`).
        let event = |path: &str, asset: Option<&str>| {
            let params = asset.map(|a| format!(r#"{{"asset": "{a}"}}"#)).unwrap_or("{}".into());
            let json = EVENT
                .replace(r#""stage": "dev""#, r#""stage": "$default""#)
                .replace("/dev/v1/orgs/k7m3xq9pza", path)
                .replace(r#"{"org": "k7m3xq9pza"}"#, &params);
            from_lambda(lambda_http::request::from_str(&json).unwrap())
        };
        let page = docs_answer(&event("/kabinet/docs", None), gz);
        assert_eq!(
            (page.status, page.headers["content-type"].to_str().unwrap()),
            (http::StatusCode::OK, "text/html; charset=utf-8")
        );
        let file = crate::docs::SCRIPT_FILE;
        let script = docs_answer(&event(&format!("/kabinet/docs/{file}"), Some(file)), gz);
        assert_eq!((script.status, &script.body[..]), (http::StatusCode::OK, gz));
        let other = docs_answer(&event("/kabinet/docs/scalar.js", Some("scalar.js")), gz);
        assert_eq!(other.status, http::StatusCode::NOT_FOUND);
    }

    /// Each function's SDK settings come from its own timeout: a route's calls give up
    /// well before API Gateway does, a consumer's and a worker's within their timeouts.
    #[test]
    fn every_function_calls_aws_within_its_timeout() {
        use std::time::Duration;
        for f in Function::all() {
            let sdk = f.sdk();
            let timeout = Duration::from_secs(f.timeout_s().into());
            assert!(sdk.operation_timeout * 2 <= timeout, "{}: {sdk:?}", f.name());
            match f.kind() {
                FunctionKind::Route => {
                    assert!(timeout < crate::config::API_GATEWAY_BUDGET, "{}", f.name());
                    assert!(sdk.operation_timeout <= Duration::from_secs(8), "{}", f.name());
                }
                FunctionKind::Consumer | FunctionKind::Worker => {
                    assert!(sdk.max_attempts >= 5, "{}", f.name())
                }
            }
        }
        assert_eq!(Function::Notifier.sdk().operation_timeout, Duration::from_secs(15));
    }
}
