//! An organization and its people: a school with classes, the roles' bodies (teacher,
//! student, parent), a person signed in once, a member added through the API, the audit
//! log's actions.

use serde_json::{json, Value};

use super::http::User;

/// A person who has signed in once (so their profile exists and an admin can add them).
pub async fn registered(name: &str) -> User {
    let u = User::new(name);
    assert_eq!(u.get("/v1/me").await.status, 200);
    u
}

/// A teacher's role: their position and the classes they teach.
pub fn teacher(position: &str, classes: &[&str]) -> Value {
    json!({"role": "teacher", "position": position, "class_ids": classes})
}

/// A student's role in a class.
pub fn student(class: &str) -> Value {
    json!({"role": "student", "class_ids": [class]})
}

/// A parent's role in these classes.
pub fn parent(classes: &[&str]) -> Value {
    json!({"role": "parent", "class_ids": classes})
}

/// An organization with `admin` as its admin and the given classes of a year; returns the
/// org ID and the class IDs in order.
pub async fn school(admin: &User, year: &str, classes: &[(i64, &str)]) -> (String, Vec<String>) {
    let org = admin.create_org("Школа").await;
    let mut ids = Vec::new();
    for (grade, letter) in classes {
        let r = admin
            .post(&format!("/v1/orgs/{org}/classes"), json!({"grade": grade, "letter": letter, "year": year}))
            .await;
        ids.push(r.ok(201)["id"].as_str().unwrap().to_string());
    }
    (org, ids)
}

/// Adds a registered person through the API with the given roles.
pub async fn enrol(admin: &User, org: &str, name: &str, roles: Value) -> User {
    let u = registered(name).await;
    let r = admin.post(&format!("/v1/orgs/{org}/members"), json!({"user_id": u.sub, "roles": roles})).await;
    r.ok(201);
    u
}

/// The actions of the organization's audit log (`?action=` filter), newest first.
pub async fn audit_actions(admin: &User, org: &str, filter: &str) -> Vec<String> {
    let log = admin.get(&format!("/v1/orgs/{org}/audit?action={filter}&limit=200")).await.ok(200).clone();
    log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}
