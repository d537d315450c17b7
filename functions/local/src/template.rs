//! Writes the functions of `infra/template.yaml` from the route table: one function per
//! route, the fallback, the stream consumers and the reference page (each built from its
//! artifact's binary), each with a least-privilege policy
//! derived from its declared [`Access`] and a log group of its own. Everything above the
//! marker line (API, identity, table, buckets, queues, alarms) is written by hand and kept
//! as it is. `make template` rewrites the file; a test fails when it is out of date.

use std::fmt::Write;

use kabinet::lambda::Function;
use kabinet::permissions::Access;

/// The line that ends the hand-written part.
pub const MARKER: &str = "  # ====== Generated from the route table by `make template`: do not edit below. ======";

/// The logical name of the secret holding the invitation links' key (written by hand).
pub const LINK_KEYS_SECRET: &str = "LinkKeysSecret";

/// The template's path, from the repository root.
pub const PATH: &str = "infra/template.yaml";

/// The whole template: `current`'s hand-written part, then the generated functions.
pub fn render(current: &str) -> Result<String, String> {
    let end = current
        .find(MARKER)
        .ok_or_else(|| format!("{PATH} has no marker line:\n{MARKER}\n(the generated part goes below it)"))?;
    let mut out = current[..end].to_string();
    out.push_str(MARKER);
    out.push('\n');
    out.push_str(&functions());
    Ok(out)
}

/// `orgs-get` -> `OrgsGet`.
pub fn logical_name(function: &str) -> String {
    function
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn functions() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  # Every function runs one of the artifacts (functions/: the `kabinet`, `kabinet-worker`\n  \
         # and `kabinet-docs` binaries, each built once by `sam build`); its Handler names what\n  \
         # it serves. Each has its own role with the policy its declared access allows, its own\n  \
         # log group and limits."
    );
    for f in Function::all() {
        out.push('\n');
        function(&mut out, &f);
    }
    out
}

fn function(out: &mut String, f: &Function) {
    let name = logical_name(f.name());
    let _ = writeln!(out, "  {name}Function:");
    out.push_str("    Type: AWS::Serverless::Function\n");
    // Identical build metadata and CodeUri (in Globals): SAM builds each artifact once.
    let _ = writeln!(
        out,
        "    Metadata:\n      BuildMethod: rust-cargolambda\n      BuildProperties:\n        Binary: {}",
        f.artifact().binary()
    );
    out.push_str("    Properties:\n");
    let _ = writeln!(out, "      Handler: {}", f.name());
    match f {
        Function::Route(r) => {
            let _ = writeln!(out, "      Description: {} {}", r.method, r.path);
        }
        Function::Fallback => out.push_str("      Description: What no route serves (404/405 as problem+json)\n"),
        Function::Notifier => {
            out.push_str("      Description: Sends the notification emails of outbox events\n      Timeout: 60\n")
        }
        // Streams rows to a temporary file and to S3 in 5 MiB parts from it. One malloc
        // arena: with one per thread, memory crept up with the pages read (make
        // bench-export: 1.3x from 1,000 to 100,000 members; 1.1x with one arena).
        Function::Exporter => out.push_str(
            "      Description: Builds statistics exports into the exports bucket\n      Timeout: 300\n      \
             Environment:\n        Variables:\n          MALLOC_ARENA_MAX: \"1\"\n",
        ),
        // Reads the upload to a temporary file and applies it chunk by chunk; a district's
        // 100,000 people take minutes, so the longest timeout Lambda has.
        Function::Importer => out.push_str(
            "      Description: Runs roster imports (OneRoster files) from the exports bucket\n      Timeout: 900\n      \
             Environment:\n        Variables:\n          MALLOC_ARENA_MAX: \"1\"\n",
        ),
        // Answers from the page and the script it embeds: the least memory Lambda has.
        Function::Docs => out.push_str(
            "      Description: The API reference page (GET /docs) and its viewer's script\n",
        ),
    }
    let _ = writeln!(out, "      MemorySize: {}", f.memory_mb());
    // Which secret holds the links' key, for the functions that read it (merged with the
    // Globals' variables).
    if f.access().link_keys {
        let _ = writeln!(
            out,
            "      Environment:\n        Variables:\n          KABINET_LINK_KEYS_SECRET: !Ref {LINK_KEYS_SECRET}"
        );
    }
    let _ = writeln!(out, "      LoggingConfig:\n        LogFormat: JSON\n        LogGroup: !Ref {name}Logs");
    out.push_str("      Events:\n");
    match f {
        Function::Route(r) => {
            let _ = writeln!(
                out,
                "        Api:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref HttpApi\n            \
                 Path: {}\n            Method: {}",
                r.path, r.method
            );
            if !r.auth {
                out.push_str("            Auth:\n              Authorizer: NONE\n");
            }
        }
        // Public as the OpenAPI document; `{asset}`: the viewer's versioned file (anything
        // else under /docs is the function's 404).
        Function::Docs => {
            for (event, path) in [("Page", kabinet::docs::PAGE_PATH), ("Asset", "/docs/{asset}")] {
                let _ = writeln!(
                    out,
                    "        {event}:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref HttpApi\n            \
                     Path: {path}\n            Method: GET\n            Auth:\n              Authorizer: NONE"
                );
            }
        }
        Function::Fallback => out.push_str(
            "        Api:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref HttpApi\n            \
             Path: $default\n            Method: ANY\n            Auth:\n              Authorizer: NONE\n",
        ),
        // Partial batch failures are retried (bisecting the batch), at most 10 times and
        // for at most a day; what still fails lands in NotifierFailures (alarmed). Two
        // filters: outbox events, and the uploads DynamoDB's TTL removes (their
        // reservations are released).
        Function::Notifier => out.push_str(
            "        Outbox:\n          Type: DynamoDB\n          Properties:\n            Stream: !GetAtt Table.StreamArn\n            \
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
            "        Exports:\n          Type: DynamoDB\n          Properties:\n            Stream: !GetAtt Table.StreamArn\n            \
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
            "        Imports:\n          Type: DynamoDB\n          Properties:\n            Stream: !GetAtt Table.StreamArn\n            \
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
        Function::Exporter => Some("ExporterFailures"),
        Function::Importer => Some("ImporterFailures"),
        _ => None,
    };
    policies(out, &f.access(), failures);
    let _ = writeln!(
        out,
        "\n  {name}Logs:\n    Type: AWS::Logs::LogGroup\n    DeletionPolicy: Delete\n    UpdateReplacePolicy: Delete\n    \
         Properties:\n      RetentionInDays: !Ref LogRetentionDays"
    );
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

fn policies(out: &mut String, access: &Access, on_failure_queue: Option<&str>) {
    let mut statements = String::new();
    let table = access.dynamodb_actions();
    if access.touches_table() {
        statement(&mut statements, &table, &["!GetAtt Table.Arn".to_string()]);
    }
    if !access.indexes.is_empty() {
        let resources: Vec<String> =
            access.indexes.iter().map(|i| format!("!Sub \"${{Table.Arn}}/index/{i}\"")).collect();
        statement(&mut statements, &["dynamodb:Query"], &resources);
    }
    // Each declaration its own statement: its actions on its prefix only.
    for objects in access.objects {
        let actions: Vec<&str> = objects.actions.iter().map(|a| a.iam()).collect();
        let resource = format!("!Sub \"${{{}.Arn}}/{}*\"", objects.bucket.resource(), objects.prefix);
        statement(&mut statements, &actions, &[resource]);
    }
    if access.mail {
        statement(
            &mut statements,
            &["ses:SendEmail", "ses:SendRawEmail"],
            &["!Sub \"arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailFromDomain}\""
                .to_string()],
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
        assert!(out.contains("  OrgsGetFunction:\n") && out.contains("      Handler: orgs-get\n"));
        assert!(render("Resources: {}\n").is_err());
    }

    #[test]
    fn the_reference_page_is_public_and_runs_its_own_artifact() {
        let out = functions();
        let docs = &out[out.find("  DocsFunction:\n").unwrap()..out.find("\n  DocsLogs:").unwrap()];
        assert!(docs.contains("Binary: kabinet-docs\n") && docs.contains("MemorySize: 128\n"));
        assert!(docs.contains("Path: /docs\n") && docs.contains("Path: /docs/{asset}\n"));
        assert_eq!(docs.matches("Method: GET\n").count(), 2);
        assert_eq!(docs.matches("Authorizer: NONE\n").count(), 2);
        assert!(!docs.contains("Policies:"), "it touches nothing");
    }
}
