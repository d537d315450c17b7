//! The mail the local stack sent, read back from the emulator: `GET /_local/mail` (JSON)
//! and `GET /_local/mail.html` (a page to read it as a recipient would).

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct SentMail {
    pub to: Vec<String>,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub sent_at: String,
    /// The message's own headers as sent (folded lines joined), by name: `List-Unsubscribe`
    /// and `List-Unsubscribe-Post` on non-essential mail, say.
    pub headers: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct MailList {
    pub items: Vec<SentMail>,
}

/// Every mail the emulator's SES accepted, oldest first.
pub async fn fetch(emulator: &str) -> Result<MailList, String> {
    let raw: Vec<serde_json::Value> = reqwest::get(format!("{emulator}/_kabinet/mail"))
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let items = raw.iter().map(parse).collect();
    Ok(MailList { items })
}

fn parse(m: &serde_json::Value) -> SentMail {
    // The emulator lists a raw message's recipients from the request and its headers alike.
    let mut to: Vec<String> = Vec::new();
    for d in m["destinations"].as_array().into_iter().flatten().filter_map(|d| d.as_str()) {
        if !to.iter().any(|t| t == d) {
            to.push(d.to_string());
        }
    }
    let from = m["source"].as_str().unwrap_or_default().to_string();
    let Some(raw) = m["raw"].as_str() else {
        let body = m["body"].as_str().unwrap_or_default().to_string();
        return SentMail {
            to,
            from,
            subject: m["subject"].as_str().unwrap_or_default().into(),
            text: String::new(),
            html: body,
            sent_at: String::new(),
            headers: Default::default(),
        };
    };
    let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes());
    match parsed {
        Some(msg) => SentMail {
            to,
            from,
            subject: msg.subject().unwrap_or_default().to_string(),
            text: msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
            html: msg.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
            sent_at: msg.date().map(|d| d.to_rfc3339()).unwrap_or_default(),
            headers: headers(raw),
        },
        None => SentMail {
            to,
            from,
            subject: String::new(),
            text: raw.to_string(),
            html: String::new(),
            sent_at: String::new(),
            headers: headers(raw),
        },
    }
}

/// The top-level headers of a raw message (the first of each name), unfolded.
fn headers(raw: &str) -> std::collections::BTreeMap<String, String> {
    let head = raw.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines: Vec<String> = Vec::new();
    for line in head.split("\r\n").flat_map(|l| l.split('\n')) {
        match lines.last_mut() {
            Some(last) if line.starts_with([' ', '\t']) => {
                last.push(' ');
                last.push_str(line.trim());
            }
            _ => lines.push(line.to_string()),
        }
    }
    let mut headers = std::collections::BTreeMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            headers.entry(name.trim().to_string()).or_insert_with(|| value.trim().to_string());
        }
    }
    headers
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A page listing the mail, newest first, each with its plain text and its HTML.
pub fn page(list: &MailList) -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>kabinet: sent mail</title><link rel=\"icon\" href=\"data:,\">\
         <style>body{font-family:sans-serif;max-width:900px;margin:2em auto;color:#1d2330}\
         article{border:1px solid #ddd;border-radius:8px;padding:1em;margin:1em 0}\
         pre{white-space:pre-wrap;background:#f6f7f9;padding:.8em}iframe{width:100%;height:420px;border:1px solid #eee}</style>\
         </head><body><h1>Sent mail</h1>",
    );
    if list.items.is_empty() {
        html.push_str("<p>No mail yet.</p>");
    }
    for m in list.items.iter().rev() {
        html.push_str(&format!(
            "<article><h2>{}</h2><p>To: {} · From: {} · {}</p><details open><summary>Text</summary><pre>{}</pre></details>\
             <details><summary>HTML</summary><iframe sandbox srcdoc=\"{}\"></iframe></details></article>",
            escape(&m.subject),
            escape(&m.to.join(", ")),
            escape(&m.from),
            escape(&m.sent_at),
            escape(&m.text),
            escape(&m.html)
        ));
    }
    html.push_str("</body></html>");
    html
}
