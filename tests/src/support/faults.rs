//! Faults in the emulator (`PUT /_kabinet/faults`) for one test's duration. Tests that set
//! faults take turns (the configuration is the emulator's, one for the process); each
//! scopes its rules to requests naming its own organization (`"match"`), so the tests
//! running beside it are not hit.

use reqwest::Method;
use serde_json::{json, Value};

use super::env::env;
use super::http::client;

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The faults in force while it lives; [`Faults::clear`] ends them.
pub struct Faults {
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

async fn put(config: &Value) {
    let endpoint = &env().await.endpoint;
    let r = client()
        .request(Method::PUT, format!("{endpoint}/_kabinet/faults"))
        .body(config.to_string())
        .send()
        .await
        .expect("PUT /_kabinet/faults");
    let status = r.status();
    assert!(status.is_success(), "faults {config} refused: {}", r.text().await.unwrap_or_default());
}

impl Faults {
    /// Sets `config` (`faults.py`'s form, e.g. `{"dynamodb:*:throttle": {"match": org}}`)
    /// once no other test has faults set.
    pub async fn set(config: Value) -> Faults {
        let turn = TURN.lock().await;
        put(&config).await;
        Faults { _turn: turn }
    }

    /// No faults any more.
    pub async fn clear(self) {
        put(&json!({})).await;
    }
}

/// The faults the emulator has injected so far, by service, operation and kind.
pub async fn injected_faults() -> Value {
    let endpoint = &env().await.endpoint;
    let r = client().get(format!("{endpoint}/_kabinet/stats")).send().await.expect("GET /_kabinet/stats");
    r.json::<Value>().await.expect("stats")["faults"].clone()
}

/// How many faults of `kind` the emulator has injected into `service` so far, over every
/// operation.
pub fn faults_of(stats: &Value, service: &str, kind: &str) -> u64 {
    stats[service].as_object().map(|ops| ops.values().filter_map(|k| k[kind].as_u64()).sum()).unwrap_or(0)
}
