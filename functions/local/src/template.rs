//! Writes the generated parts of the deployment from the route table: below the marker
//! line of `infra/template.yaml` (the root stack) the functions that are not routes (the
//! fallback, the stream consumers, the reference page) and one nested stack per area of
//! [`STACKS`], and each nested stack's whole template, `infra/stacks/<area>.yaml`: the
//! functions of that area's routes, each with its API route, integration and invoke
//! permission on the root's HTTP API (SAM's `HttpApi` events cannot name another
//! template's API). Each function runs its artifact's binary, with a least-privilege policy
//! derived from its declared [`Access`] and a log group of its own. Everything above the
//! marker (API, identity, table, buckets, queues, alarms) is written by hand and kept as it
//! is. `make template` rewrites the files; a test fails when one is out of date.

use std::fmt::Write;

use kabinet::api::{routes, STACKS};
use kabinet::lambda::{Artifact, Function, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S};
use kabinet::permissions::Access;

/// The line that ends the hand-written part.
pub const MARKER: &str = "  # ====== Generated from the route table by `make template`: do not edit below. ======";

/// The logical names of the SES configuration set every email is sent with and of the
/// queue where the mail events that failed wait (generated: [`mail_reputation`]).
pub const MAIL_CONFIGURATION_SET: &str = "MailConfigurationSet";
pub const MAIL_EVENTS_FAILURES: &str = "MailEventsFailures";

/// The logical name of the secret holding the invitation links' key (written by hand).
pub const LINK_KEYS_SECRET: &str = "LinkKeysSecret";

/// The root template's path, from the repository root.
pub const PATH: &str = "infra/template.yaml";

/// The nested stacks' directory, from the repository root (their `Location`s are relative
/// to the root template: `stacks/<area>.yaml`).
pub const STACKS_DIR: &str = "infra/stacks";

/// The root template: `current`'s hand-written part, then the generated functions and
/// nested stacks.
pub fn render(current: &str) -> Result<String, String> {
    let end = current
        .find(MARKER)
        .ok_or_else(|| format!("{PATH} has no marker line:\n{MARKER}\n(the generated part goes below it)"))?;
    let mut out = current[..end].to_string();
    out.push_str(MARKER);
    out.push('\n');
    out.push_str(&root());
    Ok(out)
}

/// Every generated file but the root: (path from the repository root, contents), one per
/// nested stack.
pub fn nested() -> Vec<(String, String)> {
    STACKS.iter().map(|(stack, areas)| (format!("{STACKS_DIR}/{stack}.yaml"), nested_stack(stack, areas))).collect()
}

/// `orgs-get` -> `OrgsGet`.
pub fn logical_name(function: &str) -> String {
    function
        .split(['-', ' '])
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// A nested stack's logical name in the root: `joining` -> `JoiningStack`.
pub fn stack_name(stack: &str) -> String {
    format!("{}Stack", logical_name(stack))
}

/// Where a template finds the shared resources: the root has them, a nested stack is
/// passed them as parameters. Parameters are named as the root's resources where `Ref`
/// means the same (`Table`: its name, `HttpApi`: its ID, `LinkKeysSecret`: its ARN), and
/// `<Resource>Arn` for `!GetAtt <Resource>.Arn`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Root,
    Nested,
}

impl Scope {
    /// `Table` -> `!GetAtt Table.Arn` or `!Ref TableArn`.
    fn arn(self, resource: &str) -> String {
        match self {
            Scope::Root => format!("!GetAtt {resource}.Arn"),
            Scope::Nested => format!("!Ref {resource}Arn"),
        }
    }

    /// `Table` -> `${Table.Arn}` or `${TableArn}` (inside a `!Sub`).
    fn arn_sub(self, resource: &str) -> String {
        match self {
            Scope::Root => format!("${{{resource}.Arn}}"),
            Scope::Nested => format!("${{{resource}Arn}}"),
        }
    }
}

/// A parameter of a nested stack: its name, type, what it is, and what the root passes.
struct Parameter {
    name: &'static str,
    kind: &'static str,
    about: &'static str,
    value: &'static str,
}

const fn param(name: &'static str, kind: &'static str, about: &'static str, value: &'static str) -> Parameter {
    Parameter { name, kind, about, value }
}

/// What every nested stack takes: the API, and what the functions' settings (Globals) name.
const ALWAYS: &[Parameter] = &[
    param("HttpApi", "String", "The root stack's HTTP API (its ID), which the routes attach to.", "!Ref HttpApi"),
    param("Arch", "String", "The functions' architecture (the root stack's Arch).", "!Ref Arch"),
    param("Table", "String", "The table's name.", "!Ref Table"),
    param("ExportsBucket", "String", "The exports bucket's name.", "!Ref ExportsBucket"),
    param("FilesBucket", "String", "The files bucket's name.", "!Ref FilesBucket"),
    param("MailFromAddress", "String", "Sender address of notification emails.", "!Ref MailFromAddress"),
    param("AppUrl", "String", "Front-end base URL used in emails and links.", "!Ref AppUrl"),
    param("LogLevel", "String", "RUST_LOG filter for the functions.", "!Ref LogLevel"),
    param("LogRetentionDays", "Number", "How long the functions' logs are kept.", "!Ref LogRetentionDays"),
];
const AUTHORIZER: Parameter =
    param("HttpApiAuthorizer", "String", "The HTTP API's Cognito JWT authorizer (its ID).", "!Ref HttpApiAuthorizer");
const TABLE_ARN: Parameter = param("TableArn", "String", "The table's ARN.", "!GetAtt Table.Arn");
const FILES_BUCKET_ARN: Parameter =
    param("FilesBucketArn", "String", "The files bucket's ARN.", "!GetAtt FilesBucket.Arn");
const EXPORTS_BUCKET_ARN: Parameter =
    param("ExportsBucketArn", "String", "The exports bucket's ARN.", "!GetAtt ExportsBucket.Arn");
const MAIL_FROM_DOMAIN: Parameter =
    param("MailFromDomain", "String", "Domain verified in SES v2 for sending mail.", "!Ref MailFromDomain");
const LINK_KEYS: Parameter =
    param("LinkKeysSecret", "String", "The invitation links' keys (the secret's ARN).", "!Ref LinkKeysSecret");

/// The parameters a nested stack of these functions takes: only what they use.
fn parameters(functions: &[Function]) -> Vec<&'static Parameter> {
    let mut out: Vec<&Parameter> = ALWAYS.iter().collect();
    let any = |p: &dyn Fn(&Function) -> bool| functions.iter().any(p);
    if any(&|f| matches!(f, Function::Route(r) if r.auth)) {
        out.push(&AUTHORIZER);
    }
    if any(&|f| f.access().touches_table() || !f.access().indexes.is_empty()) {
        out.push(&TABLE_ARN);
    }
    for (bucket, parameter) in [("FilesBucket", &FILES_BUCKET_ARN), ("ExportsBucket", &EXPORTS_BUCKET_ARN)] {
        if any(&|f| f.access().objects.iter().any(|o| o.bucket.resource() == bucket)) {
            out.push(parameter);
        }
    }
    if any(&|f| f.access().mail) {
        out.push(&MAIL_FROM_DOMAIN);
    }
    if any(&|f| f.access().link_keys) {
        out.push(&LINK_KEYS);
    }
    out
}

/// The functions a nested stack holds: its routes'.
fn stack_functions(stack: &str) -> Vec<Function> {
    routes().iter().filter(|r| r.stack == stack).map(Function::Route).collect()
}

fn root() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  # Every function runs one of the artifacts (functions/: the `kabinet`, `kabinet-worker`\n  \
         # and `kabinet-docs` binaries, each built once by `sam build`); its Handler names what\n  \
         # it serves. Each has its own role with the policy its declared access allows, its own\n  \
         # log group and limits. Here what is not a route of the route table; the routes'\n  \
         # functions are in the nested stacks below, one per area."
    );
    mail_reputation(&mut out);
    for f in Function::all().iter().filter(|f| !matches!(f, Function::Route(_))) {
        out.push('\n');
        function(&mut out, f, Scope::Root);
    }
    for (stack, areas) in STACKS {
        let functions = stack_functions(stack);
        let _ = writeln!(
            out,
            "\n  # The routes of {}: {} functions.\n  {}:\n    Type: AWS::Serverless::Application\n    \
             Properties:\n      Location: stacks/{stack}.yaml\n      Parameters:",
            areas.join(", "),
            functions.len(),
            stack_name(stack)
        );
        for p in parameters(&functions) {
            let _ = writeln!(out, "        {}: {}", p.name, p.value);
        }
    }
    out
}

/// The sending reputation (R8.4): the configuration set every email goes with, which keeps
/// the account's suppression list for bounces and complaints and publishes them to
/// EventBridge's default bus, where the `mail-events` function's rule takes them; the
/// queue (and its alarm) where an event that still fails waits, which EventBridge may
/// write to for that rule only.
fn mail_reputation(out: &mut String) {
    let _ = write!(
        out,
        "\n  # Every email goes with this configuration set: SES suppresses the addresses that bounce\n  \
         # for good or complain (the account's list too) and publishes those events to\n  \
         # EventBridge, whose rule hands them to the mail events' function.\n  \
         {MAIL_CONFIGURATION_SET}:\n    Type: AWS::SES::ConfigurationSet\n    Properties:\n      \
         SuppressionOptions:\n        SuppressedReasons:\n          - BOUNCE\n          - COMPLAINT\n\n  \
         {MAIL_CONFIGURATION_SET}Events:\n    Type: AWS::SES::ConfigurationSetEventDestination\n    Properties:\n      \
         ConfigurationSetName: !Ref {MAIL_CONFIGURATION_SET}\n      EventDestination:\n        \
         Name: bounces-and-complaints\n        Enabled: true\n        MatchingEventTypes:\n          - bounce\n          \
         - complaint\n        EventBridgeDestination:\n          \
         EventBusArn: !Sub \"arn:${{AWS::Partition}}:events:${{AWS::Region}}:${{AWS::AccountId}}:event-bus/default\"\n\n  \
         # Mail events that failed for good (after EventBridge's and Lambda's retries) wait here.\n  \
         {MAIL_EVENTS_FAILURES}:\n    Type: AWS::SQS::Queue\n    Metadata:\n      checkov:\n        skip:\n          \
         - id: CKV_AWS_27\n            comment: \"Encrypted at rest with SQS-managed keys (SqsManagedSseEnabled), which \
         CKV_AWS_27 does not read (it looks for KmsMasterKeyId)\"\n    Properties:\n      \
         MessageRetentionPeriod: 1209600\n      SqsManagedSseEnabled: true\n\n  \
         {MAIL_EVENTS_FAILURES}Policy:\n    Type: AWS::SQS::QueuePolicy\n    Properties:\n      Queues:\n        \
         - !Ref {MAIL_EVENTS_FAILURES}\n      PolicyDocument:\n        Version: \"2012-10-17\"\n        Statement:\n          \
         - Effect: Allow\n            Principal:\n              Service: events.amazonaws.com\n            \
         Action: sqs:SendMessage\n            Resource: !GetAtt {MAIL_EVENTS_FAILURES}.Arn\n            Condition:\n              \
         ArnEquals:\n                aws:SourceArn: !GetAtt MailEventsFunctionBounces.Arn\n\n  \
         {MAIL_EVENTS_FAILURES}Alarm:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n      \
         AlarmDescription: SES bounces or complaints failed for good and wait in {MAIL_EVENTS_FAILURES}.\n      \
         Namespace: AWS/SQS\n      MetricName: ApproximateNumberOfMessagesVisible\n      Dimensions:\n        \
         - Name: QueueName\n          Value: !GetAtt {MAIL_EVENTS_FAILURES}.QueueName\n      Statistic: Maximum\n      \
         Period: 300\n      EvaluationPeriods: 1\n      Threshold: 0\n      ComparisonOperator: GreaterThanThreshold\n      \
         TreatMissingData: notBreaching\n      AlarmActions: !If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue]\n"
    );
}

fn nested_stack(stack: &str, areas: &[&str]) -> String {
    let functions = stack_functions(stack);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "AWSTemplateFormatVersion: \"2010-09-09\"\nTransform: AWS::Serverless-2016-10-31\n\
         Description: kabinet - the routes of {} (a nested stack of infra/template.yaml)\n\n\
         # Generated from the route table by `make template`: do not edit. One function per route\n\
         # of these areas (shared/src/api/mod.rs, STACKS), each with its API route, integration\n\
         # and invoke permission on the root stack's HTTP API, which passes its ID and what the\n\
         # functions touch as parameters.\n\nParameters:",
        areas.join(", ")
    );
    for p in parameters(&functions) {
        let _ = writeln!(out, "  {}:\n    Type: {}\n    Description: {}", p.name, p.kind, p.about);
    }
    // The root's Globals but for CodeUri, which is relative to this file: the same
    // workspace root, so `sam build` builds each artifact once for every stack.
    let _ = write!(
        out,
        "\nGlobals:\n  Function:\n    Runtime: provided.al2023\n    Architectures:\n      - !Ref Arch\n    \
         CodeUri: ../..\n    MemorySize: {DEFAULT_MEMORY_MB}\n    Timeout: {DEFAULT_TIMEOUT_S}\n    LoggingConfig:\n      LogFormat: JSON\n    \
         Environment:\n      Variables:\n        KABINET_TABLE: !Ref Table\n        \
         KABINET_EXPORTS_BUCKET: !Ref ExportsBucket\n        KABINET_FILES_BUCKET: !Ref FilesBucket\n        \
         KABINET_MAIL_FROM: !Ref MailFromAddress\n        KABINET_APP_URL: !Ref AppUrl\n        \
         RUST_LOG: !Ref LogLevel\n\nResources:\n",
    );
    for (i, f) in functions.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        function(&mut out, f, Scope::Nested);
    }
    out
}

/// One route of the API to a function: the part of its logical names (`Page` for
/// `DocsPageRoute`; empty for a function of one route), its route key and its source ARN's
/// method and path (`GET/v1/orgs/*`), and whether it takes the authorizer.
struct Endpoint {
    event: &'static str,
    key: String,
    source: String,
    auth: bool,
}

fn endpoint(event: &'static str, method: &str, path: &str, auth: bool) -> Endpoint {
    let wildcards: Vec<&str> =
        path.split('/').map(|part| if part.starts_with('{') && part.ends_with('}') { "*" } else { part }).collect();
    Endpoint { event, key: format!("{method} {path}"), source: format!("{method}{}", wildcards.join("/")), auth }
}

/// What routes of the API reach the function.
fn endpoints(f: &Function) -> Vec<Endpoint> {
    match f {
        Function::Route(r) => vec![endpoint("", r.method.as_str(), &r.path, r.auth)],
        // Public as the OpenAPI document; `{asset}`: the viewer's versioned file (anything
        // else under /docs is the function's 404).
        Function::Docs => vec![
            endpoint("Page", "GET", kabinet::docs::PAGE_PATH, false),
            endpoint("Asset", "GET", "/docs/{asset}", false),
        ],
        // What no route serves: any method, any path.
        Function::Fallback => vec![Endpoint { event: "", key: "$default".into(), source: "*".into(), auth: false }],
        Function::Notifier | Function::MailEvents | Function::Exporter | Function::Importer => Vec::new(),
    }
}

/// The function's API routes, its integration and its invoke permissions.
fn api(out: &mut String, name: &str, endpoints: &[Endpoint]) {
    if endpoints.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n  {name}Integration:\n    Type: AWS::ApiGatewayV2::Integration\n    Properties:\n      ApiId: !Ref HttpApi\n      \
         IntegrationType: AWS_PROXY\n      IntegrationUri: !GetAtt {name}Function.Arn\n      PayloadFormatVersion: \"2.0\""
    );
    for e in endpoints {
        let event = e.event;
        let _ = writeln!(
            out,
            "\n  {name}{event}Route:\n    Type: AWS::ApiGatewayV2::Route\n    Properties:\n      ApiId: !Ref HttpApi\n      \
             RouteKey: \"{}\"",
            e.key
        );
        if e.auth {
            out.push_str("      AuthorizationType: JWT\n      AuthorizerId: !Ref HttpApiAuthorizer\n");
        } else {
            out.push_str("      AuthorizationType: NONE\n");
        }
        let _ = writeln!(out, "      Target: !Sub \"integrations/${{{name}Integration}}\"");
        let _ = writeln!(
            out,
            "\n  {name}{event}Permission:\n    Type: AWS::Lambda::Permission\n    Properties:\n      \
             Action: lambda:InvokeFunction\n      FunctionName: !Ref {name}Function\n      \
             Principal: apigateway.amazonaws.com\n      \
             SourceArn: !Sub \"arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{HttpApi}}/*/{}\"",
            e.source
        );
    }
}

fn function(out: &mut String, f: &Function, scope: Scope) {
    let name = logical_name(f.name());
    let _ = writeln!(out, "  {name}Function:");
    out.push_str("    Type: AWS::Serverless::Function\n");
    // Identical metadata per artifact (build and checkov's skips) and CodeUri (in
    // Globals): SAM builds each artifact once.
    let _ = writeln!(
        out,
        "    Metadata:\n      BuildMethod: rust-cargolambda\n      BuildProperties:\n        Binary: {}",
        f.artifact().binary()
    );
    skips(out, "      ", function_skips(f.artifact()));
    out.push_str("    Properties:\n");
    let _ = writeln!(out, "      Handler: {}", f.name());
    if let Some(reserved) = reserved_concurrency(f) {
        let _ = writeln!(out, "      ReservedConcurrentExecutions: {reserved}");
    }
    match f {
        Function::Route(r) => {
            let _ = writeln!(out, "      Description: {} {}", r.method, r.path);
        }
        Function::Fallback => out.push_str("      Description: What no route serves (404/405 as problem+json)\n"),
        Function::Notifier => out.push_str("      Description: Sends the notification emails of outbox events\n"),
        Function::MailEvents => {
            out.push_str("      Description: Marks the addresses SES reports bounced or complained of\n")
        }
        Function::Exporter => out.push_str("      Description: Builds statistics exports into the exports bucket\n"),
        Function::Importer => {
            out.push_str("      Description: Runs roster imports (OneRoster files) from the exports bucket\n")
        }
        Function::Docs => {
            out.push_str("      Description: The API reference page (GET /docs) and its viewer's script\n")
        }
    }
    // The route table's timeout (Function::timeout_s, which the SDK's retries and timeouts
    // are derived from), where it is not the Globals'.
    if f.timeout_s() != DEFAULT_TIMEOUT_S {
        let _ = writeln!(out, "      Timeout: {}", f.timeout_s());
    }
    // The route table's memory (Function::memory_mb), where it is not the Globals'.
    if f.memory_mb() != DEFAULT_MEMORY_MB {
        let _ = writeln!(out, "      MemorySize: {}", f.memory_mb());
    }
    // The workers: one malloc arena. With one per thread, the exporter's memory crept up
    // with the pages read (make bench-export: 1.3x from 1,000 to 100,000 members; 1.1x
    // with one arena).
    if f.artifact() == Artifact::Worker {
        out.push_str("      Environment:\n        Variables:\n          MALLOC_ARENA_MAX: \"1\"\n");
    }
    // Which secret holds the links' key, for the functions that read it, and the
    // configuration set of the functions that send mail (merged with the Globals'
    // variables).
    let mut variables = Vec::new();
    if f.access().link_keys {
        variables.push(format!("KABINET_LINK_KEYS_SECRET: !Ref {LINK_KEYS_SECRET}"));
    }
    if f.access().mail {
        variables.push(format!("KABINET_MAIL_CONFIGURATION_SET: !Ref {MAIL_CONFIGURATION_SET}"));
    }
    // The API's URL, for the one-click unsubscribe links the notifier's emails carry.
    if matches!(f, Function::Notifier) {
        variables.push(
            "KABINET_API_URL: !Sub \"https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}\"".into(),
        );
    }
    if !variables.is_empty() {
        out.push_str("      Environment:\n        Variables:\n");
        for v in variables {
            let _ = writeln!(out, "          {v}");
        }
    }
    let _ = writeln!(out, "      LoggingConfig:\n        LogFormat: JSON\n        LogGroup: !Ref {name}Logs");
    match f {
        Function::Route(_) | Function::Fallback | Function::Docs => {}
        // SES's bounces and complaints of the configuration set's mail, from EventBridge's
        // default bus. EventBridge retries a delivery that fails for up to a day (then the
        // queue); Lambda retries a failed invocation twice, then parks the event in the
        // same queue (DeadLetterQueue), alarmed.
        Function::MailEvents => {
            let _ = write!(
                out,
                "      DeadLetterQueue:\n        Type: SQS\n        TargetArn: !GetAtt {MAIL_EVENTS_FAILURES}.Arn\n      \
                 EventInvokeConfig:\n        MaximumRetryAttempts: 2\n        MaximumEventAgeInSeconds: 21600\n      \
                 Events:\n        Bounces:\n          Type: EventBridgeRule\n          Properties:\n            \
                 Pattern:\n              source:\n                - aws.ses\n              detail-type:\n                \
                 - Email Bounced\n                - Email Complaint Received\n              detail:\n                \
                 mail:\n                  tags:\n                    ses:configuration-set:\n                      \
                 - !Ref {MAIL_CONFIGURATION_SET}\n            RetryPolicy:\n              MaximumEventAgeInSeconds: 86400\n              \
                 MaximumRetryAttempts: 185\n            DeadLetterConfig:\n              Arn: !GetAtt {MAIL_EVENTS_FAILURES}.Arn\n"
            );
        }
        // Partial batch failures are retried (bisecting the batch), at most 10 times and
        // for at most a day; what still fails lands in NotifierFailures (alarmed). Two
        // filters: outbox events, and the uploads DynamoDB's TTL removes (their
        // reservations are released).
        Function::Notifier => out.push_str(
            "      Events:\n        Outbox:\n          Type: DynamoDB\n          Properties:\n            Stream: !GetAtt Table.StreamArn\n            \
             StartingPosition: TRIM_HORIZON\n            BatchSize: 25\n            MaximumBatchingWindowInSeconds: 1\n            \
             BisectBatchOnFunctionError: true\n            MaximumRetryAttempts: 10\n            \
             MaximumRecordAgeInSeconds: 86400\n            FunctionResponseTypes:\n              - ReportBatchItemFailures\n            \
             FilterCriteria:\n              Filters:\n                \
             - Pattern: '{\"eventName\": [\"INSERT\"], \"dynamodb\": {\"Keys\": {\"pk\": {\"S\": [{\"prefix\": \"EVENT#\"}]}}}}'\n                \
             - Pattern: '{\"eventName\": [\"REMOVE\"], \"userIdentity\": {\"type\": [\"Service\"], \"principalId\": [\"dynamodb.amazonaws.com\"]}, \"dynamodb\": {\"Keys\": {\"sk\": {\"S\": [{\"prefix\": \"UPLOAD#\"}]}}}}'\n            \
             DestinationConfig:\n              OnFailure:\n                Type: SQS\n                \
             Destination: !GetAtt NotifierFailures.Arn\n",
        ),
        // One export a batch; exports of different organizations build side by side
        // (those of one organization, one after another). The exporter gives an export up
        // itself after three builds (failed, with a reason for the admin); a record that
        // still fails lands in ExporterFailures (alarmed).
        Function::Exporter => out.push_str(
            "      Events:\n        Exports:\n          Type: DynamoDB\n          Properties:\n            Stream: !GetAtt Table.StreamArn\n            \
             StartingPosition: TRIM_HORIZON\n            BatchSize: 1\n            ParallelizationFactor: 10\n            \
             MaximumRetryAttempts: 5\n            MaximumRecordAgeInSeconds: 3600\n            FunctionResponseTypes:\n              - ReportBatchItemFailures\n            \
             FilterCriteria:\n              Filters:\n                \
             - Pattern: '{\"eventName\": [\"INSERT\"], \"dynamodb\": {\"Keys\": {\"sk\": {\"S\": [{\"prefix\": \"EXPORT#\"}]}}}}'\n            \
             DestinationConfig:\n              OnFailure:\n                Type: SQS\n                \
             Destination: !GetAtt ExporterFailures.Arn\n",
        ),
        // One import a batch; imports of different organizations run side by side (one
        // organization runs one at a time). The importer gives an import up itself after
        // three runs; a record that still fails lands in ImporterFailures (alarmed).
        Function::Importer => out.push_str(
            "      Events:\n        Imports:\n          Type: DynamoDB\n          Properties:\n            Stream: !GetAtt Table.StreamArn\n            \
             StartingPosition: TRIM_HORIZON\n            BatchSize: 1\n            ParallelizationFactor: 10\n            \
             MaximumRetryAttempts: 5\n            MaximumRecordAgeInSeconds: 7200\n            FunctionResponseTypes:\n              - ReportBatchItemFailures\n            \
             FilterCriteria:\n              Filters:\n                \
             - Pattern: '{\"eventName\": [\"INSERT\"], \"dynamodb\": {\"Keys\": {\"sk\": {\"S\": [{\"prefix\": \"IMPORTRUN#\"}]}}}}'\n            \
             DestinationConfig:\n              OnFailure:\n                Type: SQS\n                \
             Destination: !GetAtt ImporterFailures.Arn\n",
        ),
    }
    let failures = match f {
        Function::Notifier => Some("NotifierFailures"),
        Function::MailEvents => Some(MAIL_EVENTS_FAILURES),
        Function::Exporter => Some("ExporterFailures"),
        Function::Importer => Some("ImporterFailures"),
        _ => None,
    };
    policies(out, &f.access(), failures, scope);
    let _ = writeln!(
        out,
        "\n  {name}Logs:\n    Type: AWS::Logs::LogGroup\n    DeletionPolicy: Delete\n    UpdateReplacePolicy: Delete"
    );
    out.push_str("    Metadata:\n");
    skips(out, "      ", &[LOG_GROUP_KMS]);
    out.push_str("    Properties:\n      RetentionInDays: !Ref LogRetentionDays\n");
    api(out, &name, &endpoints(f));
}

/// A stream consumer's reserved concurrency: a cap, so that a flood of stream records
/// never takes the concurrency the API's functions share (the account's 1,000 by
/// default), and a reservation, so that the API's bursts never throttle the consumers.
/// The API's functions have none: the stage's throttling (100 requests a second, bursts
/// of 200) bounds them, and a reservation per route would carve up the account's pool.
pub fn reserved_concurrency(f: &Function) -> Option<u32> {
    match f {
        // One batch per stream shard at a time (no parallelization): 10 covers the shards
        // of a region's table, and mail goes at SES's sending rate (14 a second by
        // default), which more senders would only meet throttled.
        Function::Notifier => Some(10),
        // Bounces and complaints come one by one, a few a day: 2 never holds them up.
        Function::MailEvents => Some(2),
        // Its ParallelizationFactor: one shard's worth of exports at once, each up to 5
        // minutes at 512 MB reading the table.
        Function::Exporter => Some(10),
        // Imports are rare and long (up to 15 minutes) and write heavily: 5 at once
        // bounds what a wave of district imports adds to the API's writes.
        Function::Importer => Some(5),
        _ => None,
    }
}

/// A check of checkov's that a resource is exempt from, and why.
type Skip = (&'static str, &'static str);

const NO_VPC: Skip = (
    "CKV_AWS_117",
    "No VPC: the functions reach only AWS services' public endpoints (DynamoDB, S3, SES, Secrets Manager), \
     signed with IAM over TLS; a VPC would add NAT or endpoint costs and cold-start time, and guard nothing",
);
const ENV_NAMES_ONLY: Skip = (
    "CKV_AWS_173",
    "The environment holds resource names and settings only (no secret: the links' key is read from Secrets \
     Manager); Lambda encrypts it at rest with its AWS-managed key",
);
const STAGE_THROTTLED: Skip = (
    "CKV_AWS_115",
    "Behind the HTTP API, whose stage's throttling bounds it (100 requests a second, bursts of 200); a \
     reservation per route would carve up the account's pool",
);
/// The API's artifact runs the notifier too, whose metadata must be its routes'.
const API_THROTTLED: Skip = (
    "CKV_AWS_115",
    "The routes and the fallback: behind the HTTP API, whose stage's throttling bounds them (100 requests a \
     second, bursts of 200), and a reservation per route would carve up the account's pool; the notifier, \
     built with them, has its ReservedConcurrentExecutions",
);
const SYNCHRONOUS: Skip = (
    "CKV_AWS_116",
    "Invoked synchronously by the HTTP API (a DLQ takes asynchronous invocations only): the caller gets the error",
);
const API_SYNCHRONOUS: Skip = (
    "CKV_AWS_116",
    "The routes and the fallback: invoked synchronously by the HTTP API (a DLQ takes asynchronous invocations \
     only), the caller gets the error; the notifier's stream records that still fail go to its event source \
     mapping's on-failure destination, NotifierFailures (alarmed)",
);
const STREAM_ONLY: Skip = (
    "CKV_AWS_116",
    "Invoked by the table's stream only (a DLQ takes asynchronous invocations only): records that still fail \
     go to the event source mapping's on-failure destination, ExporterFailures or ImporterFailures (alarmed)",
);
const LOG_GROUP_KMS: Skip = (
    "CKV_AWS_158",
    "Encrypted at rest with CloudWatch Logs' own keys; a customer-managed KMS key would add key control only, \
     at a key's cost and policy, and the retention (LogRetentionDays) bounds what is kept",
);

/// What checkov's checks a function of this artifact is exempt from: the same for every
/// function of an artifact, since SAM builds an artifact once only for functions of
/// identical metadata.
fn function_skips(artifact: Artifact) -> &'static [Skip] {
    match artifact {
        Artifact::Api => &[NO_VPC, ENV_NAMES_ONLY, API_THROTTLED, API_SYNCHRONOUS],
        Artifact::Docs => &[NO_VPC, ENV_NAMES_ONLY, STAGE_THROTTLED, SYNCHRONOUS],
        Artifact::Worker => &[NO_VPC, ENV_NAMES_ONLY, STREAM_ONLY],
    }
}

/// A resource's `Metadata: checkov: skip:` entries, at `indent` (inside its Metadata).
fn skips(out: &mut String, indent: &str, skips: &[Skip]) {
    let _ = writeln!(out, "{indent}checkov:\n{indent}  skip:");
    for (id, comment) in skips {
        debug_assert!(!comment.contains('"'));
        let _ = writeln!(out, "{indent}    - id: {id}\n{indent}      comment: \"{comment}\"");
    }
}

fn statement(out: &mut String, actions: &[&str], resources: &[String]) {
    out.push_str("            - Effect: Allow\n              Action:\n");
    for a in actions {
        let _ = writeln!(out, "                - {a}");
    }
    out.push_str("              Resource:\n");
    for r in resources {
        let _ = writeln!(out, "                - {r}");
    }
}

fn policies(out: &mut String, access: &Access, on_failure_queue: Option<&str>, scope: Scope) {
    let mut statements = String::new();
    let table = access.dynamodb_actions();
    if access.touches_table() {
        statement(&mut statements, &table, &[scope.arn("Table")]);
    }
    if !access.indexes.is_empty() {
        let table = scope.arn_sub("Table");
        let resources: Vec<String> = access.indexes.iter().map(|i| format!("!Sub \"{table}/index/{i}\"")).collect();
        statement(&mut statements, &["dynamodb:Query"], &resources);
    }
    // Each declaration its own statement: its actions on its prefix only.
    for objects in access.objects {
        let actions: Vec<&str> = objects.actions.iter().map(|a| a.iam()).collect();
        let resource = format!("!Sub \"{}/{}*\"", scope.arn_sub(objects.bucket.resource()), objects.prefix);
        statement(&mut statements, &actions, &[resource]);
    }
    if access.mail {
        statement(
            &mut statements,
            &["ses:SendEmail", "ses:SendRawEmail"],
            // The sending identity, and the configuration set every email names.
            &[
                "!Sub \"arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailFromDomain}\""
                    .to_string(),
                format!(
                    "!Sub \"arn:${{AWS::Partition}}:ses:${{AWS::Region}}:${{AWS::AccountId}}:configuration-set/${{{MAIL_CONFIGURATION_SET}}}\""
                ),
            ],
        );
    }
    // That one secret, read only (`!Ref` of a secret is its ARN).
    if access.link_keys {
        statement(&mut statements, &["secretsmanager:GetSecretValue"], &[format!("!Ref {LINK_KEYS_SECRET}")]);
    }
    if statements.is_empty() && on_failure_queue.is_none() {
        return;
    }
    out.push_str("      Policies:\n");
    if !statements.is_empty() {
        out.push_str("        - Statement:\n");
        out.push_str(&statements);
    }
    if let Some(queue) = on_failure_queue {
        let _ = writeln!(out, "        - SQSSendMessagePolicy:\n            QueueName: !GetAtt {queue}.QueueName");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_names() {
        assert_eq!(logical_name("orgs-get"), "OrgsGet");
        assert_eq!(logical_name("me-join-requests-withdraw"), "MeJoinRequestsWithdraw");
    }

    #[test]
    fn the_generated_part_replaces_what_was_below_the_marker() {
        let current = format!("Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n{MARKER}\n  Stale: {{}}\n");
        let out = render(&current).unwrap();
        assert!(out.starts_with("Resources:\n  Table:\n"));
        assert!(!out.contains("Stale"));
        assert!(out.contains("  NotifierFunction:\n") && out.contains("  OrgsStack:\n"));
        assert!(out.contains("      Location: stacks/orgs.yaml\n"));
        assert!(!out.contains("  OrgsGetFunction:\n"), "routes are in their area's stack");
        assert!(render("Resources: {}\n").is_err());
    }

    #[test]
    fn a_route_is_in_its_area_stack_with_its_api_route() {
        let files = nested();
        let (path, orgs) = files.iter().find(|(path, _)| path.ends_with("/orgs.yaml")).unwrap();
        assert_eq!(path, "infra/stacks/orgs.yaml");
        assert!(orgs.contains("  OrgsGetFunction:\n") && orgs.contains("      Handler: orgs-get\n"));
        let route = &orgs[orgs.find("  OrgsGetRoute:\n").unwrap()..];
        let route = &route[..route.find("\n\n").unwrap()];
        assert!(route.contains("RouteKey: \"GET /v1/orgs/{org}\"\n") && route.contains("AuthorizationType: JWT\n"));
        assert!(orgs.contains("${HttpApi}/*/GET/v1/orgs/*\"\n"));
        assert!(orgs.contains("!Ref TableArn\n") && !orgs.contains("Table.Arn"));
        assert!(!orgs.contains("LinkKeysSecret"), "only what its functions use");
    }

    #[test]
    fn the_reference_page_is_public_and_runs_its_own_artifact() {
        let out = root();
        let docs = &out[out.find("  DocsFunction:\n").unwrap()..out.find("\n  # The routes of").unwrap()];
        assert!(docs.contains("Binary: kabinet-docs\n") && docs.contains("MemorySize: 128\n"));
        assert!(docs.contains("RouteKey: \"GET /docs\"\n") && docs.contains("RouteKey: \"GET /docs/{asset}\"\n"));
        assert_eq!(docs.matches("AuthorizationType: NONE\n").count(), 2);
        assert!(!docs.contains("Policies:"), "it touches nothing");
    }
}
