//! `make seed`'s school, made small: everything the demo school holds is there (a group
//! with a discussion and an announcement too), through the API, and the tokens it prints
//! sign in as those people.

use kabinet_local::seed::{self, Api, Size};
use kabinet_tests::support::{env, SECRET};
use serde_json::Value;

#[tokio::test]
async fn the_demo_school_has_its_classes_people_admins_and_pending_requests() {
    let api = Api::new(&env().await.base, SECRET);
    let run = ulid::Ulid::new().to_string().to_lowercase()[16..].to_string();
    let size = Size { per_class: 1, teachers: 4, staff: 3 };
    let school = seed::school(&api, &run, 7, size, 4).await.expect("seeded");
    let org = &school.org;
    let get = |who: &seed::Person, path: String| {
        let (api, who) = (api.clone(), who.clone());
        async move { api.call(&who, "GET", &path, None).await.expect("read") }
    };

    let classes = get(&school.admin, format!("/orgs/{org}/classes?limit=200")).await;
    let classes = classes["items"].as_array().unwrap().clone();
    assert_eq!(classes.len(), 40);
    let names: Vec<&str> = classes.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"1А") && names.contains(&"9Г") && names.contains(&"11Б"), "{names:?}");
    assert!(classes.iter().all(|c| c["class_teacher_ids"].as_array().is_some_and(|t| t.len() == 1)));

    let mut members: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/orgs/{org}/members?limit=200&cursor={c}"),
            None => format!("/orgs/{org}/members?limit=200"),
        };
        let page = get(&school.admin, path).await;
        members.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(members.len(), school.members);
    let with_role = |role: &str| {
        members.iter().filter(|m| m["roles"].as_array().unwrap().iter().any(|r| r["role"] == role)).count()
    };
    assert_eq!(with_role("student"), 40);
    assert_eq!(with_role("teacher"), 4);
    assert_eq!(with_role("staff"), 1 + 3, "the director (who made the organization) and the staff");
    assert!((20..=40).contains(&with_role("parent")), "one parent account a family");
    assert!(members.iter().all(|m| m["name"].as_str().unwrap().split(' ').count() == 3), "full Russian names");

    let admins = get(&school.admin, format!("/orgs/{org}/admins")).await;
    assert_eq!(admins["items"].as_array().unwrap().len(), 3, "the director and two deputies");
    let pending = get(&school.admin, format!("/orgs/{org}/join-requests?status=pending")).await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 1);
    let invitations = get(&school.admin, format!("/orgs/{org}/invitations")).await;
    assert_eq!(invitations["items"].as_array().unwrap().len(), 1);
    let audit = get(&school.admin, format!("/orgs/{org}/audit?limit=200")).await;
    assert!(!audit["items"].as_array().unwrap().is_empty());

    // The printed tokens sign in as a teacher and a parent of the school.
    let mine = get(&school.teacher, "/me/orgs".to_string()).await;
    assert_eq!(mine["items"][0]["org"]["id"], org.as_str());
    assert!(mine["items"][0]["roles"].to_string().contains("teacher"));
    let mine = get(&school.parent, "/me/orgs".to_string()).await;
    assert!(mine["items"][0]["roles"].to_string().contains("parent"));

    // The teacher's group, with a discussion that has an answer and an announcement.
    let groups = get(&school.teacher, format!("/orgs/{org}/groups?mine=true")).await;
    let group = groups["items"][0]["id"].as_str().expect("the teacher's group").to_string();
    assert_eq!(groups["items"][0]["member_count"], 2, "the teacher and the first class's one student");
    let threads = get(&school.teacher, format!("/orgs/{org}/groups/{group}/threads")).await;
    assert_eq!(threads["items"][0]["reply_count"], 1);
    let announcements = get(&school.teacher, format!("/orgs/{org}/groups/{group}/announcements")).await;
    assert_eq!(announcements["items"].as_array().unwrap().len(), 1);
}
