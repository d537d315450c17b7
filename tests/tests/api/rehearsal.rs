//! The deploy rehearsal (`make deploy-rehearsal`): the templates, created as stacks in the
//! emulator's CloudFormation, left there what the route table declares. The script
//! (scripts/deploy_rehearsal.py) writes what the emulator's Lambda and IAM then hold to a
//! JSON file named by `KABINET_REHEARSAL`; this test compares it with every function of
//! the route table. Ignored in `make test`: it needs the release artifacts and the
//! rehearsal before it.

use std::collections::{BTreeMap, BTreeSet};

use kabinet::lambda::{Artifact, Function};
use serde_json::Value;

/// An IAM statement as compared: its actions and resources, each sorted.
type Statement = (Vec<String>, Vec<String>);

fn strings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|s| s.as_str().unwrap().to_string()).collect(),
        other => panic!("not a string or a list: {other}"),
    };
    out.sort();
    out
}

fn statement(actions: &[&str], resources: &[String]) -> Statement {
    let mut actions: Vec<String> = actions.iter().map(|a| a.to_string()).collect();
    actions.sort();
    let mut resources = resources.to_vec();
    resources.sort();
    (actions, resources)
}

#[test]
#[ignore = "reads what `make deploy-rehearsal` created in the emulator (KABINET_REHEARSAL)"]
fn every_function_is_deployed_as_the_route_table_declares_it() {
    let path =
        std::env::var("KABINET_REHEARSAL").expect("KABINET_REHEARSAL: the rehearsal's JSON (make deploy-rehearsal)");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let observed: Value = serde_json::from_str(&text).unwrap();
    let (region, account) = (observed["region"].as_str().unwrap(), observed["account"].as_str().unwrap());
    let parameter = |name: &str| observed["parameters"][name].as_str().unwrap_or_else(|| panic!("parameter {name}"));
    let resource = |logical: &str, field: &str| {
        observed["root_resources"][logical][field]
            .as_str()
            .unwrap_or_else(|| panic!("the root stack's {logical} ({field}) was not created"))
            .to_string()
    };
    // A resource moto does not model stands for itself by a placeholder (the same in every
    // stack the root passes it to).
    let placeholder = |logical: &str| {
        let found =
            observed["placeholders"].as_object().unwrap().iter().find(|(key, _)| key.ends_with(&format!(":{logical}")));
        found.unwrap_or_else(|| panic!("no placeholder for {logical}")).1.as_str().unwrap().to_string()
    };
    let table = resource("Table", "arn");

    let deployed: Vec<&Value> = observed["functions"].as_array().unwrap().iter().collect();
    let mut by_handler: BTreeMap<&str, &Value> = BTreeMap::new();
    for f in &deployed {
        let handler = f["handler"].as_str().unwrap();
        assert!(by_handler.insert(handler, f).is_none(), "{handler} deployed twice");
    }
    let all = Function::all();
    let names: BTreeSet<&str> = all.iter().map(|f| f.name()).collect();
    let extra: Vec<&&str> = by_handler.keys().filter(|h| !names.contains(*h)).collect();
    assert!(extra.is_empty(), "functions outside the route table: {extra:?}");

    for f in &all {
        let name = f.name();
        let d = by_handler.get(name).unwrap_or_else(|| panic!("{name}: no function deployed"));
        assert_eq!(d["runtime"], "provided.al2023", "{name}: runtime");
        assert_eq!(d["architectures"], serde_json::json!(["arm64"]), "{name}: architecture");
        assert_eq!(d["memory"].as_u64(), Some(u64::from(f.memory_mb())), "{name}: memory");
        let artifact = &observed["artifacts"][f.artifact().binary()];
        assert_eq!(d["code_sha256"], artifact["sha256"], "{name}: runs {}", f.artifact().binary());

        // What it is told: the table, the buckets, the mail sender, the front end, the log
        // filter; the links' key where it reads it, the configuration set where it mails,
        // the API's URL to the notifier; one malloc arena in the workers.
        let access = f.access();
        let mut environment = BTreeMap::from([
            ("KABINET_TABLE", resource("Table", "physical")),
            ("KABINET_EXPORTS_BUCKET", resource("ExportsBucket", "physical")),
            ("KABINET_FILES_BUCKET", resource("FilesBucket", "physical")),
            ("KABINET_MAIL_FROM", parameter("MailFromAddress").to_string()),
            ("KABINET_APP_URL", parameter("AppUrl").to_string()),
            ("RUST_LOG", parameter("LogLevel").to_string()),
        ]);
        if access.link_keys {
            environment.insert("KABINET_LINK_KEYS_SECRET", placeholder("LinkKeysSecret"));
        }
        if access.mail {
            environment.insert("KABINET_MAIL_CONFIGURATION_SET", placeholder("MailConfigurationSet"));
        }
        // The API's own URL, for the one-click unsubscribe links the notifier's emails carry.
        if matches!(f, Function::Notifier) {
            let api =
                format!("https://{}.execute-api.{region}.amazonaws.com/{}", placeholder("HttpApi"), parameter("Stage"));
            environment.insert("KABINET_API_URL", api);
        }
        if f.artifact() == Artifact::Worker {
            environment.insert("MALLOC_ARENA_MAX", "1".to_string());
        }
        let told: BTreeMap<&str, String> = d["environment"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap().to_string()))
            .collect();
        assert_eq!(told, environment, "{name}: environment");

        // Its role: Lambda's basic execution (its logs), reading the table's stream for a
        // stream consumer, and an inline policy of exactly what its access declares.
        let consumer = matches!(f, Function::Notifier | Function::Exporter | Function::Importer);
        // The mail events' function is invoked by EventBridge, not a stream.
        let parks_failures = consumer || matches!(f, Function::MailEvents);
        let mut managed = vec!["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"];
        if consumer {
            managed.push("arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole");
        }
        assert_eq!(strings(&d["attached_policies"]), managed, "{name}: managed policies");
        let mut granted = BTreeSet::new();
        for document in d["inline_policies"].as_object().unwrap().values() {
            for st in document["Statement"].as_array().unwrap() {
                assert_eq!(st["Effect"], "Allow", "{name}");
                assert!(granted.insert((strings(&st["Action"]), strings(&st["Resource"]))), "{name}: {st} twice");
            }
        }
        let mut expected = BTreeSet::new();
        if access.touches_table() {
            expected.insert(statement(&access.dynamodb_actions(), std::slice::from_ref(&table)));
        }
        if !access.indexes.is_empty() {
            let indexes: Vec<String> = access.indexes.iter().map(|i| format!("{table}/index/{i}")).collect();
            expected.insert(statement(&["dynamodb:Query"], &indexes));
        }
        for objects in access.objects {
            let actions: Vec<&str> = objects.actions.iter().map(|a| a.iam()).collect();
            let prefix = format!("{}/{}*", resource(objects.bucket.resource(), "arn"), objects.prefix);
            expected.insert(statement(&actions, &[prefix]));
        }
        if access.mail {
            let identity = format!("arn:aws:ses:{region}:{account}:identity/{}", parameter("MailFromDomain"));
            let set =
                format!("arn:aws:ses:{region}:{account}:configuration-set/{}", placeholder("MailConfigurationSet"));
            expected.insert(statement(&["ses:SendEmail", "ses:SendRawEmail"], &[identity, set]));
        }
        if access.link_keys {
            expected.insert(statement(&["secretsmanager:GetSecretValue"], &[placeholder("LinkKeysSecret")]));
        }
        // A stream consumer sends what fails for good to its queue (the event source's
        // on-failure destination, and the policy the template grants it).
        if parks_failures {
            let queue = resource(&format!("{}Failures", kabinet_local::template::logical_name(name)), "arn");
            expected.insert(statement(&["sqs:SendMessage"], std::slice::from_ref(&queue)));
            expected.insert(statement(&["sqs:SendMessage*"], &[queue]));
        }
        assert_eq!(granted, expected, "{name}: its role's policy");
    }
    eprintln!("deploy rehearsal: {} functions as the route table declares them", all.len());
}
