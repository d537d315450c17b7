//! A group with the people around it ([`Circle`]), and its threads, replies and
//! announcements; every page of a list.

use serde_json::{json, Value};

use super::groups::{add_to_group, new_group};
use super::http::User;
use super::school::{enrol, registered, school, student, teacher};

/// A group and the people around it: an admin of the organization who is not in the
/// group, a teacher and a student in it, a member of the organization outside it and a
/// stranger to the organization.
pub struct Circle {
    pub admin: User,
    pub org: String,
    pub class: String,
    pub group: String,
    pub name: String,
    pub teacher: User,
    pub pupil: User,
    pub outsider: User,
    pub stranger: User,
}

impl Circle {
    /// A path under the group: `/v1/orgs/{org}/groups/{id}{rest}`.
    pub fn path(&self, rest: &str) -> String {
        format!("/v1/orgs/{}/groups/{}{rest}", self.org, self.group)
    }
}

/// A new school with a group named `group_name` and the people around it (see [`Circle`]).
pub async fn circle(group_name: &str) -> Circle {
    let admin = User::new("Директор Иванова");
    let (org, classes) = school(&admin, "2026/2027", &[(7, "А")]).await;
    let class = classes[0].clone();
    let teacher = enrol(&admin, &org, "Мария Ивановна", json!([teacher("Учитель математики", &[&class])])).await;
    let pupil = enrol(&admin, &org, "Петя Иванов", json!([student(&class)])).await;
    let outsider = enrol(&admin, &org, "Не участник", json!([student(&class)])).await;
    let stranger = registered("Чужой").await;
    let group = new_group(&admin, &org, group_name).await["id"].as_str().unwrap().to_string();
    assert_eq!(add_to_group(&admin, &org, &group, &[&teacher, &pupil]).await, ["added", "added"]);
    Circle { admin, org, class, group, name: group_name.into(), teacher, pupil, outsider, stranger }
}

/// Opens a thread as `who` (it must be created).
pub async fn open_thread(c: &Circle, who: &User, title: &str, body: &str) -> Value {
    who.post(&c.path("/threads"), json!({"title": title, "body": body})).await.ok(201).clone()
}

/// Replies to a thread as `who` (it must be created).
pub async fn reply(c: &Circle, who: &User, thread: &str, body: &str) -> Value {
    who.post(&c.path(&format!("/threads/{thread}/replies")), json!({ "body": body })).await.ok(201).clone()
}

/// Posts an announcement as `who` (it must be created).
pub async fn announce(c: &Circle, who: &User, title: &str, body: &str) -> Value {
    who.post(&c.path("/announcements"), json!({"title": title, "body": body})).await.ok(201).clone()
}

/// Every item of a paged list, following `next_cursor` with `limit=1`.
pub async fn all_pages(who: &User, path: &str) -> (Vec<Value>, usize) {
    let (mut seen, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit=1&cursor={c}"),
            None => format!("{path}?limit=1"),
        };
        let page = who.get(&url).await.ok(200).clone();
        let items = page["items"].as_array().unwrap().clone();
        assert!(items.len() <= 1, "{} items on a page of 1", items.len());
        seen.extend(items);
        pages += 1;
        assert!(pages <= 10, "the pages never end");
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    (seen, pages)
}
