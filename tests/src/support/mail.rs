//! Reading the mail a test sent back from the emulator (every test's mail goes through one
//! emulator; addresses are unique per test).

use reqwest::Method;
use serde_json::Value;

use super::http::send;

/// The mail sent to `to` so far (every test's mail goes through one emulator; addresses
/// are unique per test).
pub async fn mail_to(to: &str) -> Vec<Value> {
    let all = send(Method::GET, "/_local/mail", None, None, &[]).await;
    all.body["items"]
        .as_array()
        .map(|a| a.iter().filter(|m| m["to"].as_array().is_some_and(|t| t.iter().any(|x| x == to))).cloned().collect())
        .unwrap_or_default()
}

/// Waits (bounded) until `to` has received `count` emails, and returns them.
pub async fn await_mail(to: &str, count: usize) -> Vec<Value> {
    for _ in 0..150 {
        let mail = mail_to(to).await;
        if mail.len() >= count {
            return mail;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    mail_to(to).await
}

/// The emails about being added to the group `group_name` that `to` received so far.
pub async fn group_mail_now(to: &str, group_name: &str) -> Vec<Value> {
    mail_to(to)
        .await
        .into_iter()
        .filter(|m| {
            let subject = m["subject"].as_str().unwrap_or("").to_lowercase();
            subject.contains(&group_name.to_lowercase()) && (subject.contains("групп") || subject.contains("group"))
        })
        .collect()
}

/// Waits (bounded, as `await_mail`) until `to` has `count` emails about the group
/// `group_name`, and answers them.
pub async fn group_mail(to: &str, group_name: &str, count: usize) -> Vec<Value> {
    for _ in 0..150 {
        let mail = group_mail_now(to, group_name).await;
        if mail.len() >= count {
            return mail;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    group_mail_now(to, group_name).await
}
