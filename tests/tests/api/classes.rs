//! Classes per academic year: create, list, view, edit, delete, graduate, promote, roll over.

use kabinet::domain::AcademicYear;
use kabinet_tests::support;
use kabinet_tests::support::{enrol, names, parent, school, student, teacher, User};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn create_and_list_by_year_in_grade_order() {
    let admin = User::new("Завуч");
    let org = admin.create_org("Школа №1").await;
    let path = format!("/v1/orgs/{org}/classes");
    let current = AcademicYear::current().to_string();
    for (grade, letter) in [(10, "б"), (5, "А"), (10, "А"), (1, "В")] {
        let r = admin.post(&path, json!({"grade": grade, "letter": letter})).await;
        let c = r.ok(201).clone();
        assert_eq!(c["year"], current.as_str());
        assert_eq!(c["source"], "manual");
        assert_eq!(c["graduated"], false);
        assert!(r.header("etag").is_some() && r.header("location").is_some());
    }
    admin.post(&path, json!({"name": "Робототехника"})).await.ok(201);
    admin.post(&path, json!({"grade": 5, "letter": "А", "year": "2025/2026"})).await.ok(201);
    assert_eq!(names(admin.get(&path).await.ok(200)), ["1В", "5А", "10А", "10Б", "Робототехника"]);
    assert_eq!(names(admin.get(&format!("{path}?year=2025/2026")).await.ok(200)), ["5А"]);
    assert_eq!(names(admin.get(&format!("{path}?year=2030/2031")).await.ok(200)), Vec::<String>::new());
    let page = admin.get(&format!("{path}?limit=2")).await.ok(200).clone();
    assert_eq!(names(&page), ["1В", "5А"]);
    let next =
        admin.get(&format!("{path}?limit=2&cursor={}", page["next_cursor"].as_str().unwrap())).await.ok(200).clone();
    assert_eq!(names(&next), ["10А", "10Б"]);
    admin.get(&format!("{path}?year=2025")).await.problem(422, "validation_failed");
    admin.get(&format!("{path}?include_graduated=maybe")).await.problem(422, "validation_failed");
}

#[tokio::test]
async fn class_names_are_validated_and_unique_per_year() {
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    let path = format!("/v1/orgs/{org}/classes");
    admin.post(&path, json!({"grade": 7, "letter": "Г", "year": "2026/2027"})).await.ok(201);
    admin.post(&path, json!({"grade": 7, "letter": "г", "year": "2026/2027"})).await.problem(409, "class_exists");
    admin.post(&path, json!({"grade": 7, "letter": "Г", "year": "2027/2028"})).await.ok(201);
    for (body, field) in [
        (json!({"grade": 12, "letter": "А"}), "grade"),
        (json!({"grade": 0}), "grade"),
        (json!({"grade": 5, "letter": "5"}), "letter"),
        (json!({"letter": "А"}), "grade"),
        (json!({}), "grade"),
        (json!({"grade": 5, "letter": "А", "year": "2026-2027"}), "year"),
        (json!({"grade": 5, "letter": "А", "class_teacher_ids": ["bad id!"]}), "class_teacher_ids[0]"),
    ] {
        let r = admin.post(&path, body.clone()).await;
        r.problem(422, "validation_failed");
        assert_eq!(r.error_fields(), [field], "{body}");
    }
    // A class teacher must be a teacher of the organization.
    let stranger = User::new("Not a teacher");
    let r = admin.post(&path, json!({"grade": 3, "letter": "А", "class_teacher_ids": [stranger.sub]})).await;
    r.problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["class_teacher_ids"]);
    let list = admin.get(&format!("{path}?year=2026/2027")).await.ok(200).clone();
    assert_eq!(names(&list), ["7Г"]);
}

#[tokio::test]
async fn a_class_view_lists_its_teachers_class_teachers_students_and_parents() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2026/2027", &[(5, "А"), (6, "Б")]).await;
    let (a5, b6) = (&ids[0], &ids[1]);
    let maths = enrol(&admin, &org, "Мария Ивановна", json!([teacher("Учитель математики", &[a5])])).await;
    let head = enrol(&admin, &org, "Ольга Петровна", json!([teacher("Учитель русского", &[])])).await;
    let pupil = enrol(&admin, &org, "Петя", json!([student(a5)])).await;
    let mum = enrol(&admin, &org, "Мама Пети", json!([parent(&[a5, b6])])).await;
    let r = admin
        .call(
            Method::PATCH,
            &format!("/v1/orgs/{org}/classes/{a5}"),
            Some(json!({"class_teacher_ids": [head.sub]})),
            &[("if-match", "\"v1\"")],
        )
        .await;
    assert_eq!(r.ok(200)["class_teacher_ids"], json!([head.sub]));
    let view = admin.get(&format!("/v1/orgs/{org}/classes/{a5}")).await.ok(200).clone();
    let who = |k: &str| {
        view[k].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(who("teachers"), ["Мария Ивановна", "Ольга Петровна"]);
    assert_eq!(who("class_teachers"), ["Ольга Петровна"]);
    assert_eq!(who("students"), ["Петя"]);
    assert_eq!(who("parents"), ["Мама Пети"]);
    assert_eq!(view["student_count"], 1);
    assert_eq!(view["name"], "5А");
    // Who may look: the class's teachers, students and parents; not other students.
    assert_eq!(maths.get(&format!("/v1/orgs/{org}/classes/{a5}")).await.status, 200);
    assert_eq!(head.get(&format!("/v1/orgs/{org}/classes/{a5}")).await.status, 200);
    assert_eq!(pupil.get(&format!("/v1/orgs/{org}/classes/{a5}")).await.status, 200);
    assert_eq!(mum.get(&format!("/v1/orgs/{org}/classes/{b6}")).await.status, 200);
    pupil.get(&format!("/v1/orgs/{org}/classes/{b6}")).await.problem(403, "forbidden");
    maths.get(&format!("/v1/orgs/{org}/classes/{b6}")).await.problem(403, "forbidden");
    // Students see only their own classes in the list; teachers see all.
    assert_eq!(names(pupil.get(&format!("/v1/orgs/{org}/classes?year=2026/2027")).await.ok(200)), ["5А"]);
    assert_eq!(names(maths.get(&format!("/v1/orgs/{org}/classes?year=2026/2027")).await.ok(200)), ["5А", "6Б"]);
    // Only admins change classes.
    maths.post(&format!("/v1/orgs/{org}/classes"), json!({"grade": 9, "letter": "А"})).await.problem(403, "forbidden");
    maths.patch(&format!("/v1/orgs/{org}/classes/{a5}"), json!({"letter": "Я"})).await.problem(403, "forbidden");
    maths.delete(&format!("/v1/orgs/{org}/classes/{a5}")).await.problem(403, "forbidden");
    admin.get(&format!("/v1/orgs/{org}/classes/01jzzzzzzzzzzzzzzzzzzzzzzz")).await.problem(404, "not_found");
}

#[tokio::test]
async fn edits_use_if_match_and_keep_names_unique() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2026/2027", &[(8, "А"), (8, "Б")]).await;
    let path = format!("/v1/orgs/{org}/classes/{}", ids[0]);
    let r = admin.call(Method::PATCH, &path, Some(json!({"letter": "В"})), &[("if-match", "\"v1\"")]).await;
    assert_eq!(r.ok(200)["name"], "8В");
    assert_eq!(r.header("etag"), Some("\"v2\""));
    admin
        .call(Method::PATCH, &path, Some(json!({"letter": "Г"})), &[("if-match", "\"v1\"")])
        .await
        .problem(412, "precondition_failed");
    admin.patch(&path, json!({"letter": "Б"})).await.problem(409, "class_exists");
    admin.patch(&path, json!({"grade": 13})).await.problem(422, "validation_failed");
    admin.patch(&path, json!({"year": "2027/2028"})).await.problem(422, "validation_failed");
    let now = admin.get(&path).await;
    assert_eq!(now.body["name"], "8В");
    assert_eq!(now.header("etag"), Some("\"v2\""));
    // The old name is free again.
    admin
        .post(&format!("/v1/orgs/{org}/classes"), json!({"grade": 8, "letter": "А", "year": "2026/2027"}))
        .await
        .ok(201);
}

#[tokio::test]
async fn deleting_a_class_keeps_its_people_and_says_who_needs_a_new_class() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2026/2027", &[(4, "А"), (4, "Б")]).await;
    let (a, b) = (&ids[0], &ids[1]);
    let pupil = enrol(&admin, &org, "Ученик", json!([student(a)])).await;
    let dad = enrol(&admin, &org, "Папа", json!([parent(&[a, b])])).await;
    let t = enrol(&admin, &org, "Учитель", json!([teacher("Учитель", &[a])])).await;
    let r = admin.delete(&format!("/v1/orgs/{org}/classes/{a}")).await;
    let body = r.ok(200).clone();
    let stranded: Vec<&str> =
        body["needs_class"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(stranded, ["Ученик"]);
    assert_eq!(body["needs_class"][0]["roles"], json!(["student"]));
    admin.get(&format!("/v1/orgs/{org}/classes/{a}")).await.problem(404, "not_found");
    // Everyone is still a member; the class is gone from their roles.
    let p = admin.get(&format!("/v1/orgs/{org}/members/{}", pupil.sub)).await.ok(200).clone();
    assert_eq!(p["needs_class"], true);
    assert_eq!(p["roles"], json!([{"role": "student"}]));
    let d = admin.get(&format!("/v1/orgs/{org}/members/{}", dad.sub)).await.ok(200).clone();
    assert_eq!(d["roles"][0]["class_ids"], json!([b]));
    assert_eq!(d["needs_class"], false);
    let tv = admin.get(&format!("/v1/orgs/{org}/members/{}", t.sub)).await.ok(200).clone();
    assert_eq!(tv["roles"][0]["role"], "teacher");
    assert_eq!(admin.get(&format!("/v1/orgs/{org}")).await.body["member_count"], 4);
    // The name can be used again.
    admin
        .post(&format!("/v1/orgs/{org}/classes"), json!({"grade": 4, "letter": "А", "year": "2026/2027"}))
        .await
        .ok(201);
}

#[tokio::test]
async fn graduating_takes_a_class_out_of_current_lists() {
    let admin = User::new("Admin");
    let year = AcademicYear::current().to_string();
    let (org, ids) = school(&admin, &year, &[(11, "А"), (9, "А")]).await;
    let pupil = enrol(&admin, &org, "Выпускник", json!([student(&ids[0])])).await;
    let r = admin.post(&format!("/v1/orgs/{org}/classes/{}/graduate", ids[0]), json!({})).await;
    assert_eq!(r.ok(200)["graduated"], true);
    // Again: nothing changes.
    assert_eq!(
        admin.post(&format!("/v1/orgs/{org}/classes/{}/graduate", ids[0]), json!({})).await.ok(200)["graduated"],
        true
    );
    let path = format!("/v1/orgs/{org}/classes");
    assert_eq!(names(admin.get(&path).await.ok(200)), ["9А"]);
    assert_eq!(names(admin.get(&format!("{path}?include_graduated=true")).await.ok(200)), ["9А", "11А"]);
    // The graduate keeps their class.
    let m = admin.get(&format!("/v1/orgs/{org}/members/{}", pupil.sub)).await.ok(200).clone();
    assert_eq!(m["roles"][0]["class_ids"], json!([ids[0]]));
    // A graduated class takes no new students.
    let r = admin
        .post(
            &format!("/v1/orgs/{org}/members"),
            json!({"user_id": support::registered("Late").await.sub, "roles": [student(&ids[0])]}),
        )
        .await;
    r.problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["roles[0].class_ids"]);
}

#[tokio::test]
async fn promoting_moves_students_and_class_teachers_to_the_next_year() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2025/2026", &[(5, "А"), (11, "Б")]).await;
    let a5 = &ids[0];
    let head = enrol(&admin, &org, "Классный руководитель", json!([teacher("Учитель", &[])])).await;
    admin.patch(&format!("/v1/orgs/{org}/classes/{a5}"), json!({"class_teacher_ids": [head.sub]})).await.ok(200);
    let pupil = enrol(&admin, &org, "Ученица", json!([student(a5)])).await;
    let mum = enrol(&admin, &org, "Мама", json!([parent(&[a5])])).await;
    let r = admin.post(&format!("/v1/orgs/{org}/classes/{a5}/promote"), json!({})).await;
    let new = r.ok(201).clone();
    assert_eq!(new["name"], "6А");
    assert_eq!(new["year"], "2026/2027");
    assert_eq!(new["class_teacher_ids"], json!([head.sub]));
    assert_eq!(new["promoted_from"], a5.as_str());
    let new_id = new["id"].as_str().unwrap();
    let m = admin.get(&format!("/v1/orgs/{org}/members/{}", pupil.sub)).await.ok(200).clone();
    assert_eq!(m["roles"][0]["class_ids"], json!([new_id]));
    assert_eq!(m["class_history"], json!([a5]));
    let p = admin.get(&format!("/v1/orgs/{org}/members/{}", mum.sub)).await.ok(200).clone();
    assert_eq!(p["roles"][0]["class_ids"], json!([new_id]));
    let view = admin.get(&format!("/v1/orgs/{org}/classes/{new_id}")).await.ok(200).clone();
    assert_eq!(view["students"][0]["name"], "Ученица");
    // The old class stays as history in its year.
    let old = admin.get(&format!("/v1/orgs/{org}/classes/{a5}")).await.ok(200).clone();
    assert_eq!(old["promoted_to"], new_id);
    assert_eq!(names(admin.get(&format!("/v1/orgs/{org}/classes?year=2025/2026")).await.ok(200)), ["5А", "11Б"]);
    // Promoting again returns the same class and changes nothing.
    let again = admin.post(&format!("/v1/orgs/{org}/classes/{a5}/promote"), json!({})).await;
    assert_eq!(again.ok(200)["id"], new_id);
    assert_eq!(names(admin.get(&format!("/v1/orgs/{org}/classes?year=2026/2027")).await.ok(200)), ["6А"]);
    // An 11th grade graduates instead.
    admin.post(&format!("/v1/orgs/{org}/classes/{}/promote", ids[1]), json!({})).await.problem(422, "cannot_promote");
}

#[tokio::test]
async fn promoting_into_a_taken_name_is_refused() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2025/2026", &[(3, "А")]).await;
    admin
        .post(&format!("/v1/orgs/{org}/classes"), json!({"grade": 4, "letter": "А", "year": "2026/2027"}))
        .await
        .ok(201);
    admin.post(&format!("/v1/orgs/{org}/classes/{}/promote", ids[0]), json!({})).await.problem(409, "class_exists");
    assert!(admin.get(&format!("/v1/orgs/{org}/classes/{}", ids[0])).await.body["promoted_to"].is_null());
}

#[tokio::test]
async fn rolling_a_year_over_promotes_graduates_and_is_idempotent() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2025/2026", &[(1, "А"), (5, "Б"), (11, "А")]).await;
    admin.post(&format!("/v1/orgs/{org}/classes"), json!({"name": "Кружок", "year": "2025/2026"})).await.ok(201);
    let pupil = enrol(&admin, &org, "Первоклассник", json!([student(&ids[0])])).await;
    let rollover = format!("/v1/orgs/{org}/rollover");
    let first = admin.post(&rollover, json!({"from_year": "2025/2026"})).await.ok(200).clone();
    let promoted: Vec<&str> =
        first["promoted"].as_array().unwrap().iter().map(|p| p["to_name"].as_str().unwrap()).collect();
    assert_eq!(promoted, ["2А", "6Б"]);
    assert_eq!(first["graduated"][0]["name"], "11А");
    assert_eq!(first["skipped"][0]["name"], "Кружок");
    assert_eq!(first["to_year"], "2026/2027");
    let m = admin.get(&format!("/v1/orgs/{org}/members/{}", pupil.sub)).await.ok(200).clone();
    assert_eq!(m["roles"][0]["class_ids"][0], first["promoted"][0]["to_id"]);
    let classes_after_first = admin.get(&format!("/v1/orgs/{org}/classes?year=2026/2027")).await.body.clone();
    let audit_after_first =
        admin.get(&format!("/v1/orgs/{org}/audit?limit=200")).await.body["items"].as_array().unwrap().len();
    // Again: nothing changes.
    let second = admin.post(&rollover, json!({"from_year": "2025/2026"})).await.ok(200).clone();
    assert_eq!(second["promoted"], json!([]));
    assert_eq!(second["graduated"], json!([]));
    assert_eq!(second["already_done"], 3);
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/classes?year=2026/2027")).await.body, classes_after_first);
    assert_eq!(
        admin.get(&format!("/v1/orgs/{org}/audit?limit=200")).await.body["items"].as_array().unwrap().len(),
        audit_after_first
    );
    admin.post(&rollover, json!({"from_year": "2025-2026"})).await.problem(422, "validation_failed");
    admin.post(&rollover, json!({})).await.problem(422, "validation_failed");
}

#[tokio::test]
async fn removing_someone_from_one_class_touches_nothing_else() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2026/2027", &[(2, "А"), (2, "Б")]).await;
    let mum = enrol(&admin, &org, "Мама двоих", json!([parent(&[&ids[0], &ids[1]])])).await;
    let r = admin.delete(&format!("/v1/orgs/{org}/classes/{}/members/{}", ids[0], mum.sub)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let m = admin.get(&format!("/v1/orgs/{org}/members/{}", mum.sub)).await.ok(200).clone();
    assert_eq!(m["roles"][0]["class_ids"], json!([ids[1]]));
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/classes/{}", ids[0])).await.body["parents"], json!([]));
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/classes/{}", ids[1])).await.body["parents"][0]["name"], "Мама двоих");
    // Not on that class (any more): 404.
    admin.delete(&format!("/v1/orgs/{org}/classes/{}/members/{}", ids[0], mum.sub)).await.problem(404, "not_found");
}

#[tokio::test]
async fn the_classes_list_shows_the_groups_after_the_classes() {
    let admin = User::new("Завуч");
    let year = AcademicYear::current().to_string();
    let (org, ids) = school(&admin, &year, &[(7, "А"), (5, "А"), (6, "А")]).await;
    let g1 = support::new_group(&admin, &org, "Кружок").await["id"].as_str().unwrap().to_string();
    support::new_group(&admin, &org, "Хор").await;
    let s = enrol(&admin, &org, "Ученик", json!([student(&ids[1])])).await;
    support::add_to_group(&admin, &org, &g1, &[&s]).await;
    let path = format!("/v1/orgs/{org}/classes");
    let kinds = |list: &serde_json::Value| -> Vec<String> {
        list["items"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap_or("-").to_string()).collect()
    };
    // Classes first, by grade, then the groups; each item says which it is.
    let all = admin.get(&format!("{path}?include=groups")).await.ok(200).clone();
    assert_eq!(names(&all), ["5А", "6А", "7А", "Кружок", "Хор"]);
    assert_eq!(kinds(&all), ["class", "class", "class", "group", "group"]);
    assert!(all["next_cursor"].is_null());
    let kruzhok = &all["items"][3];
    assert_eq!((kruzhok["id"].as_str(), kruzhok["member_count"].as_i64()), (Some(g1.as_str()), Some(1)));
    assert!(kruzhok["description"].is_null() && kruzhok["course_id"].is_null());
    assert_eq!(all["items"][0]["year"], year.as_str());
    // Without it, the classes as before, with no kind.
    let plain = admin.get(&path).await.ok(200).clone();
    assert_eq!(kinds(&plain), ["-", "-", "-"]);
    // One cursor goes on across the boundary, wherever a page ends.
    for (limit, pages) in [
        (2, vec![vec!["5А", "6А"], vec!["7А", "Кружок"], vec!["Хор"]]),
        (3, vec![vec!["5А", "6А", "7А"], vec!["Кружок", "Хор"]]),
        (4, vec![vec!["5А", "6А", "7А", "Кружок"], vec!["Хор"]]),
        (1, vec![vec!["5А"], vec!["6А"], vec!["7А"], vec!["Кружок"], vec!["Хор"]]),
    ] {
        let mut got: Vec<Vec<String>> = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = admin.get(&format!("{path}?include=groups&limit={limit}{cursor}")).await.ok(200).clone();
            got.push(names(&page));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
            assert!(got.len() < 10);
        }
        let got: Vec<String> = got.into_iter().flatten().collect();
        let want: Vec<String> = pages.into_iter().flatten().map(String::from).collect();
        assert_eq!(got, want, "limit {limit}");
    }
    let first = admin.get(&format!("{path}?include=groups&limit=2")).await.ok(200).clone();
    let second = admin
        .get(&format!("{path}?include=groups&limit=2&cursor={}", first["next_cursor"].as_str().unwrap()))
        .await
        .ok(200)
        .clone();
    assert_eq!(names(&second), ["7А", "Кружок"], "a page holds the last class and the first group");
    // A cursor in the groups is not one of the plain list.
    let in_groups = second["next_cursor"].as_str().unwrap();
    admin.get(&format!("{path}?cursor={in_groups}")).await.problem(400, "invalid_cursor");
    // A student: their own class, then every group.
    let theirs = s.get(&format!("{path}?include=groups")).await.ok(200).clone();
    assert_eq!(names(&theirs), ["5А", "Кружок", "Хор"]);
    let page = s.get(&format!("{path}?include=groups&limit=1")).await.ok(200).clone();
    let rest = s.get(&format!("{path}?include=groups&cursor={}", page["next_cursor"].as_str().unwrap())).await;
    assert_eq!(names(rest.ok(200)), ["Кружок", "Хор"]);
    // Unknown include values: 422 naming the field.
    for bad in ["teachers", "groups,teachers", ""] {
        let r = admin.get(&format!("{path}?include={bad}")).await;
        assert_eq!(r.problem(422, "validation_failed").error_fields(), ["include"], "{bad:?}");
    }
}
