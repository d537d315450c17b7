//! Small readers of answers, URLs and times: the IDs, names or any field of a list's items,
//! an answer's `id`, a time as Unix seconds, now, a time some days ahead, a URL's query
//! parameters, percent-encoding and -decoding.

use std::collections::{HashMap, HashSet};

use kabinet::domain::Timestamp;
use serde_json::Value;

use super::http::User;

/// The `field` of each item of a list answer, in order.
pub fn field_of(list: &Value, field: &str) -> Vec<String> {
    list["items"].as_array().unwrap().iter().map(|i| i[field].as_str().unwrap().to_string()).collect()
}

/// The names of a list answer's items, in order.
pub fn names(list: &Value) -> Vec<String> {
    field_of(list, "name")
}

/// The user IDs of a list answer's items, as a set.
pub fn user_ids(list: &Value) -> HashSet<String> {
    field_of(list, "user_id").into_iter().collect()
}

/// The user IDs of these people, as a set.
pub fn set_of(people: &[&User]) -> HashSet<String> {
    people.iter().map(|p| p.sub.clone()).collect()
}

/// The `id` of an answer.
pub fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// Percent-decodes `s` (a URL's path, an RFC 5987 file name) as UTF-8.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8")
}

/// A time of the API's, as Unix seconds.
pub fn unix(t: &Value) -> i64 {
    Timestamp::parse(t.as_str().expect("a time")).expect("RFC 3339").unix()
}

/// Now, as Unix seconds.
pub fn now() -> i64 {
    Timestamp::now().unix()
}

/// The query parameters of a URL.
pub fn query(url: &str) -> HashMap<String, String> {
    reqwest::Url::parse(url).expect("a URL").query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// An RFC 3339 time `days` from now (back, when negative).
pub fn in_days(days: i64) -> String {
    Timestamp::now().plus(time::Duration::days(days)).to_string()
}

/// Percent-encodes `text` for a query parameter (all but RFC 3986's unreserved bytes).
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
