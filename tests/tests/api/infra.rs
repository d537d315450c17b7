//! The route table is the single source of truth: the SAM template's functions are
//! generated from it, the API's artifact serves each of its entries, and the OpenAPI
//! document has exactly one entry per route.

use std::collections::BTreeSet;

use kabinet::api::routes;
use serde_yaml::Value;

fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn template() -> Value {
    let text = std::fs::read_to_string(repo("infra/template.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

fn route_set() -> BTreeSet<(String, String, String)> {
    routes().iter().map(|r| (r.name.to_string(), r.method.to_string(), r.path.clone())).collect()
}

#[test]
fn template_has_one_function_and_one_route_per_route_table_entry() {
    let t = template();
    let mut deployed = BTreeSet::new();
    let mut names = Vec::new();
    let mut fallbacks = Vec::new();
    for (_, res) in t["Resources"].as_mapping().unwrap() {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let events: Vec<&Value> = res["Properties"]["Events"]
            .as_mapping()
            .map(|m| m.values().filter(|e| e["Type"].as_str() == Some("HttpApi")).collect())
            .unwrap_or_default();
        if events.is_empty() {
            continue; // stream consumers and other non-HTTP functions
        }
        let binary = res["Properties"]["Handler"].as_str().expect("Handler").to_string();
        if binary == "docs" {
            // The reference page, outside the route table: the page and its viewer's file.
            let paths: BTreeSet<&str> = events.iter().filter_map(|e| e["Properties"]["Path"].as_str()).collect();
            assert_eq!(paths, BTreeSet::from(["/docs", "/docs/{asset}"]), "the reference page's paths");
            let public = events.iter().all(|e| e["Properties"]["Auth"]["Authorizer"].as_str() == Some("NONE"));
            assert!(public, "the reference page is public");
            continue;
        }
        assert_eq!(events.len(), 1, "one route per function");
        assert_eq!(res["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"));
        let props = &events[0]["Properties"];
        if props["Path"].as_str() == Some("$default") {
            fallbacks.push(binary);
            continue;
        }
        names.push(binary.clone());
        deployed.insert((
            binary,
            props["Method"].as_str().unwrap().to_uppercase(),
            props["Path"].as_str().unwrap().to_string(),
        ));
    }
    assert_eq!(names.len(), deployed.len(), "a function is declared twice");
    assert_eq!(fallbacks, ["fallback"], "one catch-all function for unknown routes");
    let expected = route_set();
    let missing: Vec<_> = expected.difference(&deployed).collect();
    let extra: Vec<_> = deployed.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing in template: {missing:?}; not in the route table: {extra:?}"
    );
}

#[test]
fn public_routes_and_only_they_skip_the_authorizer() {
    let t = template();
    for (_, res) in t["Resources"].as_mapping().unwrap() {
        let Some(binary) = res["Properties"]["Handler"].as_str() else {
            continue;
        };
        let Some(route) = routes().iter().find(|r| r.name == binary) else {
            assert!(
                ["fallback", "notifier", "exporter", "importer", "docs"].contains(&binary),
                "{binary}: a function outside the route table"
            );
            continue;
        };
        let event = res["Properties"]["Events"].as_mapping().unwrap().values().next().unwrap();
        let public = event["Properties"]["Auth"]["Authorizer"].as_str() == Some("NONE");
        assert_eq!(public, !route.auth, "{binary}");
    }
}

#[test]
fn every_function_runs_its_artifact_built_once() {
    let t = template();
    // One CodeUri for all (in Globals), one build metadata per artifact: `sam build` builds
    // each once.
    assert_eq!(t["Globals"]["Function"]["CodeUri"].as_str(), Some(".."));
    let mut handlers = BTreeSet::new();
    for (name, res) in t["Resources"].as_mapping().unwrap() {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().unwrap();
        assert!(res["Properties"]["CodeUri"].is_null(), "{name}: CodeUri comes from Globals");
        assert_eq!(res["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"), "{name}");
        assert_eq!(res["Metadata"].as_mapping().unwrap().len(), 2, "{name}: identical build metadata");
        let handler = res["Properties"]["Handler"].as_str().unwrap_or_else(|| panic!("{name}: no Handler"));
        let function = kabinet::lambda::Function::named(handler);
        let function = function.unwrap_or_else(|| panic!("{name}: Handler {handler} serves nothing"));
        // The API's functions run `kabinet`; the exporter runs `kabinet-worker`.
        let binary = res["Metadata"]["BuildProperties"]["Binary"].as_str();
        assert_eq!(binary, Some(function.artifact().binary()), "{name}");
        assert!(handlers.insert(handler.to_string()), "{handler} deployed twice");
    }
    let all: BTreeSet<String> = kabinet::lambda::Function::all().iter().map(|f| f.name().to_string()).collect();
    assert_eq!(handlers, all, "every route and consumer is deployed");
    assert!(!repo("functions/src/bin").exists(), "three artifacts, no binary per route");
}

#[test]
fn the_template_is_generated_from_the_route_table() {
    let current = std::fs::read_to_string(repo(kabinet_local::template::PATH)).unwrap();
    let generated = kabinet_local::template::render(&current).unwrap();
    assert!(
        generated == current,
        "infra/template.yaml differs from what the route table generates: run `make template`"
    );
}

#[test]
fn each_function_logs_to_its_own_group_with_a_retention() {
    let t = template();
    let resources = t["Resources"].as_mapping().unwrap();
    for (name, res) in resources {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        // `!Ref X` reads as a tagged value.
        let group = match &res["Properties"]["LoggingConfig"]["LogGroup"] {
            Value::Tagged(t) if t.tag == "Ref" => t.value.as_str(),
            _ => None,
        };
        let group = group.unwrap_or_else(|| panic!("{:?}: no log group of its own", name));
        let g = &t["Resources"][group];
        assert_eq!(g["Type"].as_str(), Some("AWS::Logs::LogGroup"), "{group}");
        assert!(!g["Properties"]["RetentionInDays"].is_null(), "{group}: logs must expire");
    }
}

#[test]
fn the_stack_stays_within_the_resource_budget() {
    let t = template();
    let resources = t["Resources"].as_mapping().unwrap();
    // SAM adds a role per function and an invoke permission (or event source mapping) per
    // event.
    let functions: Vec<&Value> =
        resources.values().filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function")).collect();
    let events: usize = functions.iter().map(|f| f["Properties"]["Events"].as_mapping().map_or(0, |m| m.len())).sum();
    let expanded = resources.len() + functions.len() + events + 4; // + the API's stage, authorizer, etc.
    eprintln!("the stack: {} resources in the template, {expanded} after SAM's expansion", resources.len());
    assert!(expanded <= 450, "{expanded} resources after SAM's expansion: split areas into nested stacks");
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
    let t = template();
    for f in kabinet::lambda::Function::all() {
        let name = format!("{}Function", kabinet_local::template::logical_name(f.name()));
        let props = &t["Resources"][name.as_str()]["Properties"];
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
    let openapi = &t["Resources"]["OpenapiGetFunction"]["Properties"];
    assert!(openapi["Policies"].is_null(), "the OpenAPI document touches nothing");
    let preview = text(&t["Resources"]["InviteLinksPreviewFunction"]["Properties"]["Policies"]);
    assert!(!preview.contains("PutItem") && !preview.contains("/index/"), "a link preview only reads");
    // Each object route and consumer reaches its own prefix only, with what it needs.
    let objects = |function: &str| {
        let policies = text(&t["Resources"][format!("{function}Function").as_str()]["Properties"]["Policies"]);
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
/// the stack goes, and read only by the routes that show links' tokens.
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
    assert_eq!(readers, BTreeSet::from(["invite-links-create", "invite-links-list"]));
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
    for (name, f) in of_type("AWS::Serverless::Function") {
        let policies = format!("{:?}", f["Properties"]["Policies"]);
        if policies.contains("ses:SendEmail") {
            assert!(!policies.contains("identity/*") && policies.contains("identity/${MailFromDomain}"), "{name:?}");
        }
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

/// What the OpenAPI document says of the gateway holds in the template: its throttle (the
/// 429 every operation documents), and access logs that write the route key, never the
/// path, which holds an invitation link's token (`/v1/invite-links/{token}`).
#[test]
fn the_document_says_what_the_gateway_does() {
    let t = template();
    let api = &t["Resources"]["HttpApi"]["Properties"];
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
