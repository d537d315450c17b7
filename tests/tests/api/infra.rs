//! The route table is the single source of truth: the SAM templates' functions are
//! generated from it (the root stack's and one nested stack's per area), the API's
//! artifact serves each of its entries, and the OpenAPI document has exactly one entry per
//! route.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use kabinet::api::routes;
use kabinet_local::template::{PATH, STACKS_DIR};
use serde_yaml::Value;

fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn parse(path: &str) -> Value {
    let text = std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The root template.
fn template() -> Value {
    parse(PATH)
}

/// The nested stacks' template files, from the repository root, sorted.
fn stack_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo(STACKS_DIR))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .map(|file| format!("{STACKS_DIR}/{file}"))
        .collect();
    files.sort();
    files
}

/// Every template: the root's, then each nested stack's, with its path.
fn templates() -> Vec<(String, Value)> {
    let mut out = vec![(PATH.to_string(), template())];
    out.extend(stack_files().into_iter().map(|path| {
        let value = parse(&path);
        (path, value)
    }));
    out
}

/// Every resource of these templates of a type: (template, logical name, resource).
fn of_type<'a>(templates: &'a [(String, Value)], ty: &'a str) -> impl Iterator<Item = (&'a str, &'a str, &'a Value)> {
    templates.iter().flat_map(move |(path, t)| {
        t["Resources"]
            .as_mapping()
            .unwrap()
            .iter()
            .filter(move |(_, r)| r["Type"].as_str() == Some(ty))
            .map(move |(name, r)| (path.as_str(), name.as_str().unwrap(), r))
    })
}

/// A resource of whichever template holds it, by its logical name.
fn resource<'a>(templates: &'a [(String, Value)], name: &str) -> &'a Value {
    let found = templates.iter().find(|(_, t)| !t["Resources"][name].is_null());
    let (_, t) = found.unwrap_or_else(|| panic!("{name}: in no template"));
    &t["Resources"][name]
}

/// A nested stack's references to what the root passes it, as the root names them: the
/// parameter `TableArn` is `!GetAtt Table.Arn` there (a test checks the root passes
/// exactly that), `HttpApi` is `!Ref HttpApi`.
fn as_in_root(text: &str) -> String {
    let mut out = text.to_string();
    for resource in ["Table", "FilesBucket", "ExportsBucket"] {
        out = out
            .replace(&format!("!Ref {resource}Arn"), &format!("!GetAtt {resource}.Arn"))
            .replace(&format!("${{{resource}Arn}}"), &format!("${{{resource}.Arn}}"));
    }
    out
}

/// `!Ref X` -> `X`.
fn reference(v: &Value) -> Option<&str> {
    match v {
        Value::Tagged(t) if t.tag == "Ref" => t.value.as_str(),
        _ => None,
    }
}

fn route_set() -> BTreeSet<(String, String, String)> {
    routes().iter().map(|r| (r.name.to_string(), r.method.to_string(), r.path.clone())).collect()
}

/// Every API route of every template: (the handler of the function it reaches, its route
/// key, whether it takes the Cognito authorizer), each checked to reach its function
/// through an integration of its own template, on the root's API, with an invoke
/// permission from that API for exactly its method and path.
fn api_routes() -> Vec<(String, String, bool)> {
    let ts = templates();
    let mut out = Vec::new();
    for (path, t) in &ts {
        let resources = &t["Resources"];
        for (name, route) in resources.as_mapping().unwrap() {
            if route["Type"].as_str() != Some("AWS::ApiGatewayV2::Route") {
                continue;
            }
            let name = name.as_str().unwrap();
            let props = &route["Properties"];
            assert_eq!(reference(&props["ApiId"]), Some("HttpApi"), "{path} {name}: the root's API");
            let key = props["RouteKey"].as_str().unwrap().to_string();
            let target = text(&props["Target"]);
            let integration = target.strip_prefix("!Sub integrations/${").and_then(|t| t.strip_suffix('}'));
            let integration = integration.unwrap_or_else(|| panic!("{path} {name}: target {target}"));
            let integration = &resources[integration]["Properties"];
            assert_eq!(integration["IntegrationType"].as_str(), Some("AWS_PROXY"), "{path} {name}");
            assert_eq!(integration["PayloadFormatVersion"].as_str(), Some("2.0"), "{path} {name}");
            let uri = text(&integration["IntegrationUri"]);
            let function = uri.strip_prefix("!GetAtt ").and_then(|u| u.strip_suffix(".Arn"));
            let function = function.unwrap_or_else(|| panic!("{path} {name}: integration URI {uri}"));
            let handler = resources[function]["Properties"]["Handler"].as_str().unwrap().to_string();
            // Invoked by this API's routes of this method and path only.
            let source = match key.split_once(' ') {
                Some((method, route_path)) => {
                    let parts: Vec<&str> =
                        route_path.split('/').map(|p| if p.starts_with('{') { "*" } else { p }).collect();
                    format!("{method}{}", parts.join("/"))
                }
                None => "*".to_string(),
            };
            let arn = format!(
                "!Sub arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{HttpApi}}/*/{source}"
            );
            let permitted = resources.as_mapping().unwrap().values().any(|p| {
                p["Type"].as_str() == Some("AWS::Lambda::Permission")
                    && reference(&p["Properties"]["FunctionName"]) == Some(function)
                    && p["Properties"]["Principal"].as_str() == Some("apigateway.amazonaws.com")
                    && text(&p["Properties"]["SourceArn"]) == arn
            });
            assert!(permitted, "{path} {name}: no permission for the API to invoke {function} as {arn}");
            let auth = match props["AuthorizationType"].as_str() {
                Some("JWT") => {
                    assert_eq!(reference(&props["AuthorizerId"]), Some("HttpApiAuthorizer"), "{path} {name}");
                    true
                }
                Some("NONE") => false,
                other => panic!("{path} {name}: authorization {other:?}"),
            };
            out.push((handler, key, auth));
        }
    }
    out
}

#[test]
fn template_has_one_function_and_one_route_per_route_table_entry() {
    let mut deployed = BTreeSet::new();
    let mut names = Vec::new();
    let mut fallbacks = Vec::new();
    let mut docs = BTreeSet::new();
    for (handler, key, auth) in api_routes() {
        if handler == "docs" {
            // The reference page, outside the route table: the page and its viewer's
            // file, public.
            assert!(!auth, "the reference page is public");
            docs.insert(key);
            continue;
        }
        if key == "$default" {
            fallbacks.push(handler);
            continue;
        }
        let (method, path) = key.split_once(' ').unwrap();
        names.push(handler.clone());
        deployed.insert((handler, method.to_string(), path.to_string()));
    }
    assert_eq!(docs, BTreeSet::from(["GET /docs".to_string(), "GET /docs/{asset}".to_string()]));
    assert_eq!(names.len(), deployed.len(), "a function serves two routes");
    assert_eq!(fallbacks, ["fallback"], "one catch-all function for unknown routes");
    let expected = route_set();
    let missing: Vec<_> = expected.difference(&deployed).collect();
    let extra: Vec<_> = deployed.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing in the templates: {missing:?}; not in the route table: {extra:?}"
    );
}

#[test]
fn public_routes_and_only_they_skip_the_authorizer() {
    for (handler, key, auth) in api_routes() {
        match routes().iter().find(|r| r.name == handler) {
            Some(route) => assert_eq!(auth, route.auth, "{handler}: {key}"),
            None => assert!(["fallback", "docs"].contains(&handler.as_str()) && !auth, "{handler}: {key}"),
        }
    }
}

/// Each route's function is in its area's nested stack, which the root deploys with what
/// its parameters name: `X` is the root's `!Ref X`, `XArn` its `!GetAtt X.Arn`.
#[test]
fn each_area_is_a_nested_stack_passed_what_it_names() {
    let root = template();
    let mut located = BTreeSet::new();
    for (name, res) in root["Resources"].as_mapping().unwrap() {
        if res["Type"].as_str() != Some("AWS::Serverless::Application") {
            continue;
        }
        let name = name.as_str().unwrap();
        let location = res["Properties"]["Location"].as_str().unwrap();
        let file = format!("infra/{location}");
        let nested = parse(&file);
        let declared: BTreeSet<&str> =
            nested["Parameters"].as_mapping().unwrap().keys().map(|k| k.as_str().unwrap()).collect();
        let passed = res["Properties"]["Parameters"].as_mapping().unwrap();
        let passed_names: BTreeSet<&str> = passed.keys().map(|k| k.as_str().unwrap()).collect();
        assert_eq!(passed_names, declared, "{name}: the parameters passed are those {file} takes");
        for (parameter, value) in passed {
            let parameter = parameter.as_str().unwrap();
            let expected = match parameter.strip_suffix("Arn") {
                Some(resource) if !root["Resources"][resource].is_null() => format!("!GetAtt {resource}.Arn"),
                _ => format!("!Ref {parameter}"),
            };
            assert_eq!(text(value), expected, "{name}: {parameter}");
        }
        // Its functions: the routes of its areas, and they only.
        let stack = location.strip_prefix("stacks/").and_then(|l| l.strip_suffix(".yaml")).unwrap();
        assert_eq!(name, kabinet_local::template::stack_name(stack));
        let handlers: BTreeSet<&str> = nested["Resources"]
            .as_mapping()
            .unwrap()
            .values()
            .filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function"))
            .map(|r| r["Properties"]["Handler"].as_str().unwrap())
            .collect();
        let expected: BTreeSet<&str> = routes().iter().filter(|r| r.stack == stack).map(|r| r.name).collect();
        assert!(!expected.is_empty(), "{stack}: a stack of no route");
        assert_eq!(handlers, expected, "{file}");
        assert!(located.insert(file), "{location} deployed twice");
    }
    assert_eq!(located.into_iter().collect::<Vec<_>>(), stack_files(), "every nested template is deployed");
    // Every area is in one stack.
    for r in routes() {
        let stacks = kabinet::api::STACKS.iter().filter(|(_, areas)| areas.contains(&r.area)).count();
        assert_eq!(stacks, 1, "{}: area {:?}", r.name, r.area);
    }
}

#[test]
fn every_function_runs_its_artifact_built_once() {
    let ts = templates();
    // One CodeUri for all (in each template's Globals: the workspace root), one build
    // metadata per artifact, the same settings everywhere: `sam build` builds each
    // artifact once for every stack.
    let workspace = repo("").canonicalize().unwrap();
    let without_code = |t: &Value| {
        let mut globals = t["Globals"]["Function"].clone();
        globals.as_mapping_mut().unwrap().remove("CodeUri");
        globals
    };
    let root_globals = without_code(&ts[0].1);
    let default_memory = root_globals["MemorySize"].as_u64();
    assert_eq!(default_memory, Some(u64::from(kabinet::lambda::DEFAULT_MEMORY_MB)), "Globals' MemorySize");
    for (path, t) in &ts {
        let code = t["Globals"]["Function"]["CodeUri"].as_str().unwrap_or_else(|| panic!("{path}: no CodeUri"));
        let dir = repo(path).parent().unwrap().join(code).canonicalize().unwrap();
        assert_eq!(dir, workspace, "{path}: CodeUri {code} is not the workspace root");
        assert_eq!(without_code(t), root_globals, "{path}: the functions' settings differ from the root's");
    }
    let mut handlers = BTreeSet::new();
    // SAM builds an artifact once for the functions of identical metadata only.
    let mut metadata: std::collections::BTreeMap<String, &Value> = Default::default();
    for (path, name, res) in of_type(&ts, "AWS::Serverless::Function") {
        assert!(res["Properties"]["CodeUri"].is_null(), "{path} {name}: CodeUri comes from Globals");
        assert_eq!(res["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"), "{name}");
        let artifact = res["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap_or_default().to_string();
        let first = metadata.entry(artifact).or_insert(&res["Metadata"]);
        assert_eq!(*first, &res["Metadata"], "{path} {name}: metadata differs from its artifact's other functions");
        let handler = res["Properties"]["Handler"].as_str().unwrap_or_else(|| panic!("{name}: no Handler"));
        let function = kabinet::lambda::Function::named(handler);
        let function = function.unwrap_or_else(|| panic!("{name}: Handler {handler} serves nothing"));
        // The API's functions run `kabinet`; the exporter runs `kabinet-worker`.
        let binary = res["Metadata"]["BuildProperties"]["Binary"].as_str();
        assert_eq!(binary, Some(function.artifact().binary()), "{name}");
        // Its memory (its own, or the Globals' default), the one docs/cost.md prices it at.
        let memory = res["Properties"]["MemorySize"].as_u64().or(root_globals["MemorySize"].as_u64());
        assert_eq!(memory, Some(u64::from(function.memory_mb())), "{name}: MemorySize");
        assert!(handlers.insert(handler.to_string()), "{handler} deployed twice");
    }
    let all: BTreeSet<String> = kabinet::lambda::Function::all().iter().map(|f| f.name().to_string()).collect();
    assert_eq!(handlers, all, "every route and consumer is deployed");
    assert!(!repo("functions/src/bin").exists(), "three artifacts, no binary per route");
}

#[test]
fn the_templates_are_generated_from_the_route_table() {
    let current = std::fs::read_to_string(repo(PATH)).unwrap();
    let generated = kabinet_local::template::render(&current).unwrap();
    assert!(generated == current, "{PATH} differs from what the route table generates: run `make template`");
    let nested = kabinet_local::template::nested();
    for (path, generated) in &nested {
        let current = std::fs::read_to_string(repo(path)).unwrap_or_default();
        assert!(*generated == current, "{path} differs from what the route table generates: run `make template`");
    }
    let expected: Vec<String> = nested.into_iter().map(|(path, _)| path).collect::<BTreeSet<_>>().into_iter().collect();
    assert_eq!(stack_files(), expected, "a stack file the route table does not generate: run `make template`");
}

#[test]
fn each_function_logs_to_its_own_group_with_a_retention() {
    let ts = templates();
    for (path, t) in &ts {
        let resources = t["Resources"].as_mapping().unwrap();
        for (name, res) in resources {
            if res["Type"].as_str() != Some("AWS::Serverless::Function") {
                continue;
            }
            let group = reference(&res["Properties"]["LoggingConfig"]["LogGroup"]);
            let group = group.unwrap_or_else(|| panic!("{path} {name:?}: no log group of its own"));
            let g = &t["Resources"][group];
            assert_eq!(g["Type"].as_str(), Some("AWS::Logs::LogGroup"), "{path} {group}");
            assert!(!g["Properties"]["RetentionInDays"].is_null(), "{path} {group}: logs must expire");
        }
    }
}

/// One template's counts as CloudFormation receives it: after SAM's translation
/// (`scripts/stack_limits.py`, samtranslator offline).
#[derive(serde::Deserialize)]
struct Counts {
    template: String,
    resources: usize,
    outputs: usize,
    parameters: usize,
    bytes: usize,
}

/// Every template's counts, translated once for the limit tests.
fn counts() -> &'static [Counts] {
    static COUNTS: OnceLock<Vec<Counts>> = OnceLock::new();
    COUNTS.get_or_init(|| {
        let python = std::env::var_os("KABINET_PYTHON")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| repo(".venv/bin/python"));
        let files: Vec<String> = std::iter::once(PATH.to_string()).chain(stack_files()).collect();
        let out = std::process::Command::new(&python)
            .arg(repo("scripts/stack_limits.py"))
            .args(&files)
            .current_dir(repo(""))
            .output()
            .unwrap_or_else(|e| panic!("{}: {e} (make venv)", python.display()));
        assert!(out.status.success(), "stack_limits.py: {}", String::from_utf8_lossy(&out.stderr));
        let counts: Vec<Counts> =
            String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(counts.len(), files.len());
        counts
    })
}

/// Every stack within one of CloudFormation's limits, its counts printed.
fn within(what: &str, limit: usize, count: fn(&Counts) -> usize) {
    let mut total = 0;
    for c in counts() {
        eprintln!(
            "{:<28} {:>4} resources {:>3} outputs {:>3} parameters {:>7} bytes",
            c.template, c.resources, c.outputs, c.parameters, c.bytes
        );
        total += count(c);
    }
    eprintln!(
        "{what}: {total} in all, at most {} in one stack (limit {limit})",
        counts().iter().map(count).max().unwrap()
    );
    for c in counts() {
        assert!(count(c) <= limit, "{}: {} {what} (limit {limit}): split its areas (STACKS)", c.template, count(c));
    }
}

/// CloudFormation allows 500; 300 leaves each stack room for its area to grow by half.
#[test]
fn each_stack_has_at_most_300_resources_as_sam_translates_it() {
    within("resources", 300, |c| c.resources);
}

#[test]
fn each_stack_has_at_most_200_outputs() {
    within("outputs", 200, |c| c.outputs);
}

#[test]
fn each_stack_has_at_most_200_parameters() {
    within("parameters", 200, |c| c.parameters);
}

/// The limit of a template body from S3 (`sam deploy` uploads every one).
#[test]
fn each_template_body_is_at_most_1_mb() {
    within("bytes", 1_000_000, |c| c.bytes);
}

#[test]
fn route_names_and_paths_are_unique_and_versioned() {
    let mut names = BTreeSet::new();
    let mut endpoints = BTreeSet::new();
    for r in routes() {
        assert!(names.insert(r.name), "duplicate name {}", r.name);
        assert!(endpoints.insert((r.method.clone(), r.path.clone())), "duplicate route {} {}", r.method, r.path);
        assert!(r.path.starts_with("/v1/"), "{}", r.path);
    }
}

#[test]
fn the_table_in_the_template_matches_the_store() {
    let t = template();
    let table = &t["Resources"]["Table"]["Properties"];
    assert_eq!(table["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    assert_eq!(table["StreamSpecification"]["StreamViewType"].as_str(), Some("NEW_AND_OLD_IMAGES"));
    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"].as_str(), Some(kabinet::store::keys::TTL));
    assert_eq!(table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(), Some(true));
    let keys: Vec<&str> =
        table["KeySchema"].as_sequence().unwrap().iter().map(|k| k["AttributeName"].as_str().unwrap()).collect();
    assert_eq!(keys, [kabinet::store::keys::PK, kabinet::store::keys::SK]);
    let indexes: BTreeSet<(String, String, String)> = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|i| {
            let ks = i["KeySchema"].as_sequence().unwrap();
            (
                i["IndexName"].as_str().unwrap().to_string(),
                ks[0]["AttributeName"].as_str().unwrap().to_string(),
                ks[1]["AttributeName"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String, String)> =
        kabinet::store::schema::INDEXES.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(indexes, expected);
}

#[test]
fn openapi_describes_every_route_and_nothing_else() {
    let doc = serde_json::to_value(kabinet::openapi::document()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut described = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            described.insert((
                op["operationId"].as_str().unwrap().replace('_', "-"),
                method.to_uppercase(),
                path.clone(),
            ));
            assert!(op["responses"]["500"].is_object(), "{method} {path}");
        }
    }
    assert_eq!(described, route_set());
    // Every referenced schema is defined.
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for part in text.split("\"#/components/schemas/").skip(1) {
        let name = &part[..part.find('"').unwrap()];
        assert!(schemas.contains_key(name), "schema {name} is referenced but not defined");
    }
}

#[test]
fn the_notifier_retries_bisects_and_parks_what_fails_for_good() {
    let t = template();
    let f = &t["Resources"]["NotifierFunction"];
    assert_eq!(f["Properties"]["Handler"].as_str(), Some("notifier"));
    // A send claim outlives any delivery that is still running.
    let timeout = f["Properties"]["Timeout"].as_i64().expect("the notifier's timeout");
    assert!(timeout < kabinet::store::sent::CLAIM_SECS, "claims must outlive the notifier's {timeout} s");
    let source = &f["Properties"]["Events"]["Outbox"]["Properties"];
    assert_eq!(f["Properties"]["Events"]["Outbox"]["Type"].as_str(), Some("DynamoDB"));
    assert_eq!(source["BisectBatchOnFunctionError"].as_bool(), Some(true));
    assert!(source["MaximumRetryAttempts"].as_u64().is_some_and(|n| n > 0 && n <= 10));
    assert!(source["MaximumRecordAgeInSeconds"].as_u64().is_some());
    assert_eq!(source["FunctionResponseTypes"][0].as_str(), Some("ReportBatchItemFailures"));
    assert_eq!(source["DestinationConfig"]["OnFailure"]["Type"].as_str(), Some("SQS"));
    // Its second filter: the uploads DynamoDB's TTL removes, whose reservations it
    // releases (no function of their own: the stack is at its budget).
    let filters: Vec<serde_json::Value> = source["FilterCriteria"]["Filters"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|f| serde_json::from_str(f["Pattern"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(filters.len(), 2);
    let expired = &filters[1];
    assert_eq!(expired["eventName"], serde_json::json!(["REMOVE"]));
    assert_eq!(
        expired["userIdentity"],
        serde_json::json!({"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]})
    );
    let prefix = &expired["dynamodb"]["Keys"]["sk"]["S"][0]["prefix"];
    assert_eq!(prefix.as_str(), Some(kabinet::store::keys::UPLOAD_PREFIX));
    let alarm = &t["Resources"]["NotifierFailuresAlarm"];
    assert_eq!(alarm["Type"].as_str(), Some("AWS::CloudWatch::Alarm"));
    // Emails that will never go are counted by the notifier, under the metric it writes.
    let permanent = &t["Resources"]["MailPermanentFailuresAlarm"]["Properties"];
    assert_eq!(permanent["Namespace"].as_str(), Some("kabinet"));
    assert_eq!(permanent["MetricName"].as_str(), Some(kabinet::events::notifier::PERMANENT_FAILURES_METRIC));
    assert_eq!(permanent["Dimensions"][0]["Name"].as_str(), Some("Table"));
    assert_eq!(
        t["Resources"]["Table"]["Properties"]["StreamSpecification"]["StreamViewType"].as_str(),
        Some("NEW_AND_OLD_IMAGES")
    );
}

/// Every email goes with the configuration set, which suppresses and publishes bounces
/// and complaints to EventBridge; the rule hands them to the mail events' function, with
/// retries, and what still fails waits in an alarmed queue.
#[test]
fn bounces_and_complaints_reach_their_function_and_nothing_is_lost() {
    let t = template();
    let set = &t["Resources"]["MailConfigurationSet"];
    assert_eq!(set["Type"].as_str(), Some("AWS::SES::ConfigurationSet"));
    let reasons: Vec<&str> = set["Properties"]["SuppressionOptions"]["SuppressedReasons"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(reasons, ["BOUNCE", "COMPLAINT"]);
    let destination = &t["Resources"]["MailConfigurationSetEvents"]["Properties"];
    assert_eq!(
        text(&destination["ConfigurationSetName"]),
        text(
            &t["Resources"]["NotifierFunction"]["Properties"]["Environment"]["Variables"]
                ["KABINET_MAIL_CONFIGURATION_SET"]
        )
    );
    assert!(
        text(&destination["EventDestination"]["EventBridgeDestination"]["EventBusArn"]).contains("event-bus/default")
    );
    let types: Vec<&str> = destination["EventDestination"]["MatchingEventTypes"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(types, ["bounce", "complaint"]);
    let f = &t["Resources"]["MailEventsFunction"]["Properties"];
    assert_eq!(f["Handler"].as_str(), Some("mail-events"));
    let rule = &f["Events"]["Bounces"];
    assert_eq!(rule["Type"].as_str(), Some("EventBridgeRule"));
    let pattern = &rule["Properties"]["Pattern"];
    assert_eq!(pattern["source"][0].as_str(), Some("aws.ses"));
    let kinds: Vec<&str> = pattern["detail-type"].as_sequence().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(kinds, ["Email Bounced", "Email Complaint Received"]);
    assert!(rule["Properties"]["RetryPolicy"]["MaximumRetryAttempts"].as_u64().is_some_and(|n| n > 0));
    let queue = "MailEventsFailures";
    assert!(text(&rule["Properties"]["DeadLetterConfig"]["Arn"]).contains(queue));
    assert!(text(&f["DeadLetterQueue"]["TargetArn"]).contains(queue));
    assert_eq!(t["Resources"]["MailEventsFailuresAlarm"]["Type"].as_str(), Some("AWS::CloudWatch::Alarm"));
    assert_eq!(t["Resources"]["MailEventsFailuresPolicy"]["Type"].as_str(), Some("AWS::SQS::QueuePolicy"));
}

/// A YAML value as text, `!Sub "..."`/`!GetAtt X` included.
fn text(v: &Value) -> String {
    match v {
        Value::Tagged(t) => format!("!{} {}", t.tag.to_string().trim_start_matches('!'), text(&t.value)),
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other).unwrap().trim().to_string(),
    }
}

#[test]
fn each_function_is_granted_exactly_what_it_declares() {
    let ts = templates();
    // Wherever the function is: a nested stack's `!Ref TableArn` is the root's
    // `!GetAtt Table.Arn` (each_area_is_a_nested_stack_passed_what_it_names).
    let text = |v: &Value| as_in_root(&text(v));
    for f in kabinet::lambda::Function::all() {
        let name = format!("{}Function", kabinet_local::template::logical_name(f.name()));
        let props = &resource(&ts, &name)["Properties"];
        let access = f.access();
        let mut table_actions = BTreeSet::new();
        let mut index_resources = BTreeSet::new();
        let mut other_actions = BTreeSet::new();
        let mut object_grants = BTreeSet::new();
        let mut secret_actions = BTreeSet::new();
        for policy in props["Policies"].as_sequence().into_iter().flatten() {
            for st in policy["Statement"].as_sequence().into_iter().flatten() {
                assert_eq!(st["Effect"].as_str(), Some("Allow"));
                let actions: Vec<String> = st["Action"].as_sequence().unwrap().iter().map(text).collect();
                let resources: Vec<String> = st["Resource"].as_sequence().unwrap().iter().map(text).collect();
                assert!(resources.iter().all(|r| r != "*"), "{name}: a wildcard resource");
                for r in &resources {
                    if r.contains("/index/") {
                        index_resources.insert(r.rsplit('/').next().unwrap().trim_matches('"').to_string());
                        assert_eq!(actions, ["dynamodb:Query"], "{name}: an index is only queried");
                    } else if r == "!GetAtt Table.Arn" {
                        table_actions.extend(actions.iter().cloned());
                    } else if r == "!Ref LinkKeysSecret" {
                        secret_actions.extend(actions.iter().cloned());
                    } else if r.contains("Bucket.Arn}") {
                        let mut sorted = actions.clone();
                        sorted.sort();
                        assert!(object_grants.insert((r.clone(), sorted)), "{name}: {r} granted twice");
                    } else {
                        other_actions.extend(actions.iter().cloned());
                    }
                }
            }
        }
        let declared: BTreeSet<String> = access.dynamodb_actions().iter().map(|a| a.to_string()).collect();
        assert_eq!(table_actions, declared, "{name}: table actions");
        let indexes: BTreeSet<String> = access.indexes.iter().map(|i| i.to_string()).collect();
        assert_eq!(index_resources, indexes, "{name}: indexes");
        assert_eq!(other_actions.iter().any(|a| a.starts_with("ses:")), access.mail, "{name}: mail");
        assert!(!other_actions.iter().any(|a| a.starts_with("s3:")), "{name}: S3 on something not a bucket's objects");
        // The links' key: read only, that one secret, by the functions that declare it,
        // which are told its ARN.
        assert!(!other_actions.iter().any(|a| a.starts_with("secretsmanager:")), "{name}: another secret");
        let expected: BTreeSet<String> =
            access.link_keys.then(|| "secretsmanager:GetSecretValue".to_string()).into_iter().collect();
        assert_eq!(secret_actions, expected, "{name}: the links' key");
        let told = text(&props["Environment"]["Variables"]["KABINET_LINK_KEYS_SECRET"]);
        assert_eq!(told == "!Ref LinkKeysSecret", access.link_keys, "{name}: told the secret: {told}");
        // Each declaration's actions on its prefix, and nothing else: no grant on a whole
        // bucket.
        let declared: BTreeSet<(String, Vec<String>)> = access
            .objects
            .iter()
            .map(|o| {
                assert!(o.prefix.ends_with('/') && o.prefix.len() > 1, "{name}: {:?} is not a prefix", o.prefix);
                let mut actions: Vec<String> = o.actions.iter().map(|a| a.iam().to_string()).collect();
                actions.sort();
                (format!("!Sub ${{{}.Arn}}/{}*", o.bucket.resource(), o.prefix), actions)
            })
            .collect();
        assert_eq!(object_grants, declared, "{name}: objects");
    }
    // Spot checks of the declarations themselves.
    let openapi = &resource(&ts, "OpenapiGetFunction")["Properties"];
    assert!(openapi["Policies"].is_null(), "the OpenAPI document touches nothing");
    let preview = text(&resource(&ts, "InviteLinksPreviewFunction")["Properties"]["Policies"]);
    assert!(!preview.contains("PutItem") && !preview.contains("/index/"), "a link preview only reads");
    // Each object route and consumer reaches its own prefix only, with what it needs.
    let objects = |function: &str| {
        let policies = text(&resource(&ts, &format!("{function}Function"))["Properties"]["Policies"]);
        let grants: Vec<String> = ["FilesBucket.Arn}/", "ExportsBucket.Arn}/"]
            .iter()
            .flat_map(|b| policies.match_indices(b).map(|(i, _)| policies[i..].split('*').next().unwrap().to_string()))
            .collect();
        (grants, policies)
    };
    let (create, policy) = objects("ImportsCreate");
    assert_eq!(create, ["ExportsBucket.Arn}/imports/"]);
    assert!(policy.contains("s3:PutObject") && !policy.contains("s3:GetObject") && !policy.contains("s3:DeleteObject"));
    let (start, policy) = objects("ImportsStart");
    assert_eq!(start, ["ExportsBucket.Arn}/imports/"]);
    assert!(policy.contains("s3:GetObject") && !policy.contains("s3:PutObject"));
    assert_eq!(objects("Importer").0, ["ExportsBucket.Arn}/imports/"]);
    let (exporter, policy) = objects("Exporter");
    assert_eq!(exporter, ["ExportsBucket.Arn}/exports/"]);
    assert!(policy.contains("s3:PutObject") && !policy.contains("s3:GetObject"));
    assert_eq!(objects("ExportsGet").0, ["ExportsBucket.Arn}/exports/"]);
    let (upload, policy) = objects("GroupsFilesCreate");
    assert_eq!(upload, ["FilesBucket.Arn}/uploads/"]);
    assert!(policy.contains("s3:PutObject") && !policy.contains("s3:GetObject") && !policy.contains("s3:DeleteObject"));
    let (get, policy) = objects("GroupsFileGet");
    assert_eq!(get, ["FilesBucket.Arn}/files/"]);
    assert!(policy.contains("s3:GetObject") && !policy.contains("s3:PutObject") && !policy.contains("s3:DeleteObject"));
    let (delete, policy) = objects("GroupsFileDelete");
    assert_eq!(delete.len(), 2);
    assert!(policy.contains("s3:DeleteObject") && !policy.contains("s3:GetObject") && !policy.contains("s3:PutObject"));
}

/// The links' key is generated by Secrets Manager (the template holds no value), kept when
/// the stack goes, and read only by the routes that show links' tokens, the notifier that
/// signs one-click unsubscribe links and the two public routes that check them.
#[test]
fn the_links_key_is_generated_retained_and_read_by_the_link_routes_only() {
    let t = template();
    let secret = &t["Resources"]["LinkKeysSecret"];
    assert_eq!(secret["Type"].as_str(), Some("AWS::SecretsManager::Secret"));
    assert_eq!(secret["DeletionPolicy"].as_str(), Some("Retain"));
    let props = &secret["Properties"];
    assert!(props["SecretString"].is_null(), "the template never holds the key");
    let generate = &props["GenerateSecretString"];
    assert_eq!(generate["GenerateStringKey"].as_str(), Some("1"), "version 1");
    assert!(generate["PasswordLength"].as_u64().unwrap() >= kabinet::domain::links::MIN_LINK_KEY_BYTES as u64);
    let readers: BTreeSet<&str> =
        kabinet::lambda::Function::all().iter().filter(|f| f.access().link_keys).map(|f| f.name()).collect();
    assert_eq!(
        readers,
        BTreeSet::from(["invite-links-create", "invite-links-list", "notifier", "unsubscribe", "unsubscribe-page"])
    );
    let secrets = t["Resources"].as_mapping().unwrap().values().filter(|r| {
        r["Type"].as_str().is_some_and(|ty| ty.starts_with("AWS::SecretsManager::") || ty.starts_with("AWS::SSM::"))
    });
    assert_eq!(secrets.count(), 1, "one secret resource");
}

/// The emulator does not run lifecycle rules: the template says what S3 does with the
/// objects of uploads (under their own prefix, never a ready file's) and with exports.
#[test]
fn uploads_and_old_exports_expire_in_the_bucket() {
    let t = template();
    let rules = |bucket: &str| t["Resources"][bucket]["Properties"]["LifecycleConfiguration"]["Rules"].clone();
    let files = rules("FilesBucket");
    let uploads = files.as_sequence().unwrap().iter().find(|r| {
        r["Status"].as_str() == Some("Enabled") && r["Prefix"].as_str() == Some(kabinet::domain::files::UPLOADS_PREFIX)
    });
    let uploads = uploads.expect("a rule expiring the uploads' objects");
    assert_eq!(uploads["ExpirationInDays"].as_u64(), Some(1));
    assert!(
        files.as_sequence().unwrap().iter().all(|r| r["ExpirationInDays"].is_null() || r == uploads),
        "only uploads expire"
    );
    assert_ne!(kabinet::domain::files::FILES_PREFIX, kabinet::domain::files::UPLOADS_PREFIX);
    let exports = rules("ExportsBucket");
    assert!(exports.as_sequence().unwrap().iter().any(|r| r["ExpirationInDays"].as_u64() == Some(7)));
}

#[test]
fn data_is_protected_mail_is_scoped_and_alarms_notify_someone() {
    let t = template();
    let resources = t["Resources"].as_mapping().unwrap();
    let of_type = |ty: &'static str| resources.iter().filter(move |(_, v)| v["Type"].as_str() == Some(ty));
    assert_eq!(t["Resources"]["Table"]["Properties"]["DeletionProtectionEnabled"].as_bool(), Some(true));
    for bucket in ["ExportsBucket", "FilesBucket"] {
        let tls_only = of_type("AWS::S3::BucketPolicy").any(|(_, p)| {
            let statement = &p["Properties"]["PolicyDocument"]["Statement"][0];
            format!("{:?}", p["Properties"]["Bucket"]).contains(bucket)
                && statement["Effect"].as_str() == Some("Deny")
                && statement["Condition"]["Bool"]["aws:SecureTransport"].as_str() == Some("false")
        });
        assert!(tls_only, "{bucket} must refuse requests without TLS");
    }
    let ts = templates();
    for (path, name, f) in self::of_type(&ts, "AWS::Serverless::Function") {
        let name = format!("{path} {name}");
        let policies = format!("{:?}", f["Properties"]["Policies"]);
        if policies.contains("ses:SendEmail") {
            assert!(!policies.contains("identity/*") && policies.contains("identity/${MailFromDomain}"), "{name:?}");
        }
    }
    // Every request on the buckets' objects is logged, to a bucket of its own that only
    // S3's log delivery for these two buckets may write.
    for bucket in ["ExportsBucket", "FilesBucket"] {
        let logging = &t["Resources"][bucket]["Properties"]["LoggingConfiguration"];
        assert_eq!(reference(&logging["DestinationBucketName"]), Some("AccessLogsBucket"), "{bucket}");
    }
    let logs = &t["Resources"]["AccessLogsBucketPolicy"]["Properties"];
    assert_eq!(reference(&logs["Bucket"]), Some("AccessLogsBucket"));
    let statements = logs["PolicyDocument"]["Statement"].as_sequence().unwrap();
    let delivery = &statements[0];
    assert_eq!(delivery["Principal"]["Service"].as_str(), Some("logging.s3.amazonaws.com"));
    assert_eq!(delivery["Action"].as_str(), Some("s3:PutObject"));
    let sources: Vec<String> =
        delivery["Condition"]["ArnLike"]["aws:SourceArn"].as_sequence().unwrap().iter().map(text).collect();
    assert_eq!(sources, ["!GetAtt ExportsBucket.Arn", "!GetAtt FilesBucket.Arn"]);
    assert!(statements.iter().any(|s| s["Condition"]["Bool"]["aws:SecureTransport"].as_str() == Some("false")));
    for (name, queue) in of_type("AWS::SQS::Queue") {
        assert_eq!(queue["Properties"]["SqsManagedSseEnabled"].as_bool(), Some(true), "{name:?}: encrypted at rest");
    }
    let alarms: Vec<_> = of_type("AWS::CloudWatch::Alarm").collect();
    assert!(alarms.len() >= 3, "the API's 5xx, the failure queue and the mail that never goes");
    for (name, alarm) in alarms {
        assert!(
            format!("{:?}", alarm["Properties"]["AlarmActions"]).contains("AlarmTopicArn"),
            "{name:?} notifies nobody"
        );
    }
}

/// Mail goes only to verified addresses: the user pool keeps a person's old, verified
/// email in their tokens until a new one is confirmed.
#[test]
fn the_user_pool_keeps_the_verified_email_until_a_new_one_is_confirmed() {
    let t = template();
    let pool = &t["Resources"]["UserPool"]["Properties"];
    let pending = &pool["UserAttributeUpdateSettings"]["AttributesRequireVerificationBeforeUpdate"];
    assert_eq!(
        pending.as_sequence().map(|s| s.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>()),
        Some(vec!["email"])
    );
    assert!(pool["AutoVerifiedAttributes"].as_sequence().unwrap().iter().any(|v| v.as_str() == Some("email")));
}

/// The consumers (of the stream, and of SES's mail events) have reserved concurrency (a
/// cap and a reservation; the API's functions share the rest of the account's pool,
/// bounded by the stage's throttling).
#[test]
fn the_stream_consumers_and_only_they_reserve_concurrency() {
    let ts = templates();
    let mut reserved = BTreeSet::new();
    for (path, name, f) in of_type(&ts, "AWS::Serverless::Function") {
        let handler = f["Properties"]["Handler"].as_str().unwrap();
        let function = kabinet::lambda::Function::named(handler).unwrap();
        let value = f["Properties"]["ReservedConcurrentExecutions"].as_u64();
        assert_eq!(value, kabinet_local::template::reserved_concurrency(&function).map(u64::from), "{path} {name}");
        if let Some(value) = value {
            assert!(value > 0, "{name}: a reservation of 0 stops it");
            reserved.insert((handler.to_string(), value));
        }
    }
    let consumers: BTreeSet<&str> = reserved.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(consumers, BTreeSet::from(["exporter", "importer", "mail-events", "notifier"]));
    // Lambda keeps 100 of the account's concurrency unreserved: the default 1,000 leaves
    // the API most of it.
    assert!(reserved.iter().map(|(_, v)| v).sum::<u64>() <= 100);
}

/// Every check of checkov's that a resource is exempt from says why (`make checkov` runs
/// the checks over every template).
#[test]
fn every_checkov_skip_gives_its_reason() {
    let ts = templates();
    let mut skips = 0;
    for (path, t) in &ts {
        for (name, res) in t["Resources"].as_mapping().unwrap() {
            for skip in res["Metadata"]["checkov"]["skip"].as_sequence().into_iter().flatten() {
                let id = skip["id"].as_str().unwrap_or_default();
                assert!(id.starts_with("CKV_"), "{path} {name:?}: skip {id:?}");
                let comment = skip["comment"].as_str().unwrap_or_default();
                assert!(comment.len() >= 40, "{path} {name:?}: {id} skipped without a reason");
                skips += 1;
            }
        }
    }
    assert!(skips > 0);
}

/// What the OpenAPI document says of the gateway holds in the template: its throttle (the
/// 429 every operation documents), and access logs that write the route key, never the
/// path, which holds an invitation link's token (`/v1/invite-links/{token}`).
#[test]
fn the_document_says_what_the_gateway_does() {
    let t = template();
    let api = &t["Resources"]["HttpApiStage"]["Properties"];
    let throttle = &api["DefaultRouteSettings"];
    assert_eq!(throttle["ThrottlingRateLimit"], kabinet::openapi::GATEWAY_RATE_LIMIT);
    assert_eq!(throttle["ThrottlingBurstLimit"], kabinet::openapi::GATEWAY_BURST_LIMIT);
    let format = api["AccessLogSettings"]["Format"].as_str().unwrap();
    assert!(format.contains("$context.routeKey"));
    for leaky in ["$context.path", "$context.requestOverride", "$context.domainName$context.path"] {
        assert!(!format.contains(leaky), "access logs must not write {leaky}");
    }
    let doc = kabinet::openapi::document();
    assert!(doc["paths"]["/v1/me"]["get"]["responses"]["429"]["description"]
        .as_str()
        .unwrap()
        .contains(&format!("{} a second", kabinet::openapi::GATEWAY_RATE_LIMIT)));
}
