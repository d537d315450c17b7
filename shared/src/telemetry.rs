//! JSON logs through tracing, levels from `RUST_LOG` (default `info`).

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// `RUST_LOG` as levels by target (`info`, `info,kabinet=debug`): tracing-subscriber's
/// `Targets`, which needs no regular expressions (its `EnvFilter` brings a regex engine
/// into every artifact); anything else, `info`.
fn levels(spec: Option<&str>) -> Targets {
    spec.and_then(|s| s.parse::<Targets>().ok()).unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

pub fn init() {
    let json = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .without_time() // CloudWatch stamps every line
        .with_target(false);
    let spec = std::env::var("RUST_LOG").ok();
    let _ = tracing_subscriber::registry().with(json).with(levels(spec.as_deref())).try_init();
}

/// A CloudWatch metric data point in the embedded metric format: one JSON log line that
/// CloudWatch Logs turns into a count of 1 of `metric` (namespace `kabinet`, dimension
/// `Table`: one stack's table); `fields` stay in the log line for whoever reads it.
pub fn metric_line(metric: &str, table: &str, fields: &serde_json::Value, now_ms: i64) -> String {
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": now_ms,
            "CloudWatchMetrics": [{
                "Namespace": "kabinet",
                "Dimensions": [["Table"]],
                "Metrics": [{"Name": metric, "Unit": "Count"}],
            }],
        },
        "Table": table,
    });
    if let serde_json::Value::Object(extra) = fields {
        for (k, v) in extra {
            line[k.as_str()] = v.clone();
        }
    }
    line[metric] = serde_json::json!(1);
    line.to_string()
}

/// Counts one `metric` (see [`metric_line`]): the line goes to standard output, where
/// Lambda's log capture picks it up.
pub fn count(metric: &str, table: &str, fields: &serde_json::Value) {
    let now_ms = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    println!("{}", metric_line(metric, table, fields, now_ms));
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    #[test]
    fn rust_log_gives_levels_by_target() {
        let levels = super::levels(Some("warn,kabinet=debug"));
        assert!(levels.would_enable("kabinet::api", &Level::DEBUG));
        assert!(!levels.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(levels.would_enable("aws_smithy_runtime", &Level::WARN));
        for unset in [None, Some("not a level=at all=")] {
            let levels = super::levels(unset);
            assert!(levels.would_enable("kabinet", &Level::INFO) && !levels.would_enable("kabinet", &Level::DEBUG));
        }
    }

    #[test]
    fn a_metric_line_is_one_line_of_the_embedded_metric_format() {
        let line = super::metric_line("MailPermanentFailures", "kabinet-Table", &serde_json::json!({"kind": "x"}), 7);
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], 7);
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "kabinet");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Dimensions"], serde_json::json!([["Table"]]));
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], "MailPermanentFailures");
        assert_eq!((v["Table"].as_str(), v["MailPermanentFailures"].as_i64()), (Some("kabinet-Table"), Some(1)));
        assert_eq!(v["kind"], "x");
    }
}
