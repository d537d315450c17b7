//! Courses: create with teachers, list ("my courses" too), read, edit, delete; students
//! enrolled by admins and the course's teachers; groups made from a course's students or
//! linked to it (one course a group, also when two links race); what a teacher loses with
//! the teacher role; leaving and removal; the audit trail; only students enrolled, and no
//! way through a course into a closed group one is not a teacher in; a course's teachers
//! are the teachers of its groups (R7.3: made from it, linked to it, or joining it later).

use kabinet_tests::support::{
    add_to_group, audit_actions, closed_group, enrol, group, group_mail, group_roles, id_of, kept_out, names,
    new_group, parent, registered, roles_of, school, set_of, student, teacher, threads, user_ids, User,
};
use reqwest::Method;
use serde_json::{json, Value};

/// A new course of the organization with these teachers, made by its admin.
async fn new_course(admin: &User, org: &str, name: &str, teachers: &[&User]) -> Value {
    let ids: Vec<&str> = teachers.iter().map(|t| t.sub.as_str()).collect();
    admin.post(&format!("/v1/orgs/{org}/courses"), json!({"name": name, "teacher_ids": ids})).await.ok(201).clone()
}

/// Enrols students in a course as `by`; answers each person's status, in the order given.
async fn enrol_in_course(by: &User, org: &str, course: &str, people: &[&User]) -> Vec<String> {
    let ids: Vec<&str> = people.iter().map(|p| p.sub.as_str()).collect();
    let r = by.post(&format!("/v1/orgs/{org}/courses/{course}/students"), json!({ "user_ids": ids })).await;
    let results = r.ok(200)["results"].as_array().unwrap().clone();
    let answered: Vec<&str> = results.iter().map(|x| x["user_id"].as_str().unwrap()).collect();
    assert_eq!(answered, ids, "one result per person, in the order given");
    results.iter().map(|x| x["status"].as_str().unwrap().to_string()).collect()
}

async fn course(admin: &User, org: &str, id: &str) -> Value {
    admin.get(&format!("/v1/orgs/{org}/courses/{id}")).await.ok(200).clone()
}

fn linked(c: &Value) -> Vec<String> {
    c["linked_group_ids"].as_array().unwrap().iter().map(|g| g.as_str().unwrap().to_string()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn an_admin_creates_a_course_with_teachers_who_hold_the_teacher_role() {
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(7, "А")]).await;
    let maths = enrol(&admin, &org, "Мария Ивановна", json!([teacher("Учитель математики", &[&classes[0]])])).await;
    let physics = enrol(&admin, &org, "Пётр Сергеевич", json!([teacher("Учитель физики", &[])])).await;
    let pupil = enrol(&admin, &org, "Петя", json!([student(&classes[0])])).await;
    let stranger = registered("Чужой").await;
    let path = format!("/v1/orgs/{org}/courses");

    let r = admin
        .post(&path, json!({"name": "Алгебра, 7 класс", "description": "Углублённый курс", "teacher_ids": [maths.sub]}))
        .await;
    let algebra = r.ok(201).clone();
    let id = id_of(&algebra);
    assert_eq!(algebra["name"], "Алгебра, 7 класс");
    assert_eq!(algebra["description"], "Углублённый курс");
    assert_eq!(algebra["teacher_ids"], json!([maths.sub]));
    assert_eq!(algebra["student_count"], 0);
    assert_eq!(algebra["linked_group_ids"], json!([]));
    assert!(algebra["created_at"].is_string() && algebra["updated_at"].is_string(), "{algebra}");
    let etag = r.header("etag").expect("an ETag").to_string();
    let bare = admin.post(&path, json!({"name": "Физика"})).await.ok(201).clone();
    assert_eq!(bare["teacher_ids"], json!([]));
    assert_eq!(bare["description"], Value::Null);

    // Teachers must be members holding the teacher role.
    for (who, what) in [(&pupil, "a student"), (&stranger, "not a member")] {
        let r = admin.post(&path, json!({"name": "Химия", "teacher_ids": [who.sub]})).await;
        assert_eq!(r.problem(422, "validation_failed").error_fields(), ["teacher_ids"], "{what}");
    }
    for body in [json!({"name": ""}), json!({"name": "Две\nстроки"}), json!({"name": "я".repeat(201)})] {
        let r = admin.post(&path, body.clone()).await;
        assert_eq!(r.problem(422, "validation_failed").error_fields(), ["name"], "{body}");
    }
    admin.post(&path, json!({})).await.problem(422, "validation_failed");
    // Only admins create; outsiders see nothing.
    maths.post(&path, json!({"name": "Мой курс"})).await.problem(403, "forbidden");
    pupil.post(&path, json!({"name": "Мой курс"})).await.problem(403, "forbidden");
    stranger.get(&path).await.problem(404, "not_found");
    stranger.get(&format!("{path}/{id}")).await.problem(404, "not_found");
    stranger
        .post(&format!("{path}/{id}/students"), json!({"user_ids": [stranger.sub]}))
        .await
        .problem(404, "not_found");

    // Every member lists and reads courses.
    for who in [&admin, &maths, &pupil] {
        assert_eq!(sorted(names(who.get(&path).await.ok(200))), ["Алгебра, 7 класс", "Физика"]);
    }
    let read = pupil.get(&format!("{path}/{id}")).await;
    assert_eq!(read.ok(200)["teacher_ids"], json!([maths.sub]));
    assert_eq!(read.header("etag"), Some(etag.as_str()));
    admin.get(&format!("{path}/01jzzzzzzzzzzzzzzzzzzzzzzz")).await.problem(404, "not_found");

    // Admins edit, with If-Match.
    let r = admin
        .call(
            Method::PATCH,
            &format!("{path}/{id}"),
            Some(json!({"name": "Алгебра", "teacher_ids": [maths.sub, physics.sub]})),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(r.ok(200)["name"], "Алгебра");
    assert_eq!(
        sorted(r.body["teacher_ids"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect()),
        sorted(vec![maths.sub.clone(), physics.sub.clone()])
    );
    assert_eq!(r.body["description"], "Углублённый курс", "what is not given stays");
    let second = r.header("etag").expect("a new ETag").to_string();
    assert_ne!(second, etag);
    admin
        .call(Method::PATCH, &format!("{path}/{id}"), Some(json!({"name": "Затёрто"})), &[("if-match", &etag)])
        .await
        .problem(412, "precondition_failed");
    let r = admin.patch(&format!("{path}/{id}"), json!({"teacher_ids": [pupil.sub]})).await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["teacher_ids"]);
    let r = admin.patch(&format!("{path}/{id}"), json!({"description": null})).await;
    assert_eq!(r.ok(200)["description"], Value::Null);
    maths.patch(&format!("{path}/{id}"), json!({"name": "Моя алгебра"})).await.problem(403, "forbidden");
    maths.delete(&format!("{path}/{id}")).await.problem(403, "forbidden");
    let now = course(&admin, &org, &id).await;
    assert_eq!(now["name"], "Алгебра");
    assert_eq!(now["teacher_ids"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn admins_and_the_courses_teachers_enrol_students_and_see_them() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(8, "Б")]).await;
    let t = enrol(&admin, &org, "Учитель курса", json!([teacher("Учитель информатики", &[])])).await;
    let other_t = enrol(&admin, &org, "Другой учитель", json!([teacher("Учитель истории", &[&classes[0]])])).await;
    let s1 = enrol(&admin, &org, "Аня", json!([student(&classes[0])])).await;
    let s2 = enrol(&admin, &org, "Боря", json!([student(&classes[0])])).await;
    let s3 = enrol(&admin, &org, "Вера", json!([student(&classes[0])])).await;
    let outsider = registered("Не из школы").await;
    let c = new_course(&admin, &org, "Программирование на Python", &[&t]).await;
    let id = id_of(&c);
    let students = format!("/v1/orgs/{org}/courses/{id}/students");

    assert_eq!(enrol_in_course(&t, &org, &id, &[&s1, &s2, &outsider]).await, ["added", "added", "not_member"]);
    assert_eq!(course(&admin, &org, &id).await["student_count"], 2);
    assert_eq!(enrol_in_course(&admin, &org, &id, &[&s2, &s3]).await, ["already_member", "added"]);
    assert_eq!(course(&admin, &org, &id).await["student_count"], 3);
    other_t.post(&students, json!({"user_ids": [s1.sub]})).await.problem(403, "forbidden");
    s1.post(&students, json!({"user_ids": [s1.sub]})).await.problem(403, "forbidden");
    admin.post(&students, json!({"user_ids": []})).await.problem(422, "validation_failed");
    let too_many: Vec<String> = (0..101).map(|i| format!("test-nobody-{i:03}")).collect();
    admin.post(&students, json!({"user_ids": too_many})).await.problem(422, "validation_failed");

    // The course's students: admins and its teachers see them, others do not.
    for who in [&admin, &t] {
        let list = who.get(&students).await.ok(200).clone();
        assert_eq!(user_ids(&list), set_of(&[&s1, &s2, &s3]));
        let a = list["items"].as_array().unwrap().iter().find(|m| m["user_id"] == s1.sub.as_str()).unwrap().clone();
        assert_eq!(a["name"], "Аня");
        assert_eq!(a["roles"][0]["role"], "student");
        assert!(a["added_at"].is_string());
        let views = who.get(&format!("/v1/orgs/{org}/members?course={id}")).await.ok(200).clone();
        assert_eq!(sorted(names(&views)), ["Аня", "Боря", "Вера"]);
    }
    for who in [&other_t, &s1] {
        who.get(&students).await.problem(403, "forbidden");
        who.get(&format!("/v1/orgs/{org}/members?course={id}")).await.problem(403, "forbidden");
    }

    // Taking one student out keeps them in the organization.
    let r = t.delete(&format!("{students}/{}", s3.sub)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    t.delete(&format!("{students}/{}", s3.sub)).await.problem(404, "not_found");
    other_t.delete(&format!("{students}/{}", s2.sub)).await.problem(403, "forbidden");
    assert_eq!(course(&admin, &org, &id).await["student_count"], 2);
    assert_eq!(user_ids(admin.get(&students).await.ok(200)), set_of(&[&s1, &s2]));
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/members/{}", s3.sub)).await.ok(200)["name"], "Вера");

    // "My courses": what one studies or teaches.
    new_course(&admin, &org, "История", &[&other_t]).await;
    let mine = |who: &User| {
        let (who, org) = (who.clone(), org.clone());
        async move { sorted(names(who.get(&format!("/v1/orgs/{org}/courses?mine=true")).await.ok(200))) }
    };
    assert_eq!(mine(&s1).await, ["Программирование на Python"]);
    assert_eq!(mine(&s3).await, Vec::<String>::new());
    assert_eq!(mine(&t).await, ["Программирование на Python"]);
    assert_eq!(mine(&other_t).await, ["История"]);
    assert_eq!(
        sorted(names(s3.get(&format!("/v1/orgs/{org}/courses")).await.ok(200))),
        ["История", "Программирование на Python"]
    );
}

#[tokio::test]
async fn a_teacher_who_loses_the_teacher_role_loses_the_course() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(9, "А")]).await;
    let t = enrol(&admin, &org, "Бывший учитель", json!([teacher("Учитель биологии", &[])])).await;
    let s = enrol(&admin, &org, "Ученик", json!([student(&classes[0])])).await;
    let c = new_course(&admin, &org, "Биология", &[&t]).await;
    let id = id_of(&c);
    assert_eq!(enrol_in_course(&t, &org, &id, &[&s]).await, ["added"]);
    admin
        .patch(
            &format!("/v1/orgs/{org}/members/{}", t.sub),
            json!({"roles": [{"role": "staff", "position": "Методист"}, parent(&[&classes[0]])]}),
        )
        .await
        .ok(200);
    let r = t.post(&format!("/v1/orgs/{org}/courses/{id}/students"), json!({"user_ids": [s.sub]})).await;
    r.problem(403, "forbidden");
    t.get(&format!("/v1/orgs/{org}/courses/{id}/students")).await.problem(403, "forbidden");
    t.post(&format!("/v1/orgs/{org}/courses/{id}/groups"), json!({"name": "Группа", "students": "all"}))
        .await
        .problem(403, "forbidden");
    assert_eq!(course(&admin, &org, &id).await["student_count"], 1);
}

#[tokio::test]
async fn a_group_made_from_a_course_takes_all_its_students_or_selected_ones() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(10, "А")]).await;
    let t = enrol(&admin, &org, "Учитель курса", json!([teacher("Учитель математики", &[])])).await;
    let other_t = enrol(&admin, &org, "Чужой учитель", json!([teacher("Учитель", &[])])).await;
    let s1 = enrol(&admin, &org, "Аня", json!([student(&classes[0])])).await;
    let s2 = enrol(&admin, &org, "Боря", json!([student(&classes[0])])).await;
    let s3 = enrol(&admin, &org, "Вера", json!([student(&classes[0])])).await;
    let not_enrolled = enrol(&admin, &org, "Гоша", json!([student(&classes[0])])).await;
    let c = new_course(&admin, &org, "Геометрия", &[&t]).await;
    let id = id_of(&c);
    enrol_in_course(&admin, &org, &id, &[&s1, &s2, &s3]).await;
    let path = format!("/v1/orgs/{org}/courses/{id}/groups");

    // The course's teacher makes a group of all its students, and is its teacher.
    let r =
        t.post(&path, json!({"name": "Геометрия — поток 1", "description": "Все ученики", "students": "all"})).await;
    let all = r.ok(201).clone();
    assert_eq!(all["course_id"], id.as_str());
    assert_eq!(all["member_count"], 4, "three students and the course's teacher");
    assert_eq!(all["description"], "Все ученики");
    let all_id = id_of(&all);
    assert_eq!(
        group_roles(&admin, &org, &all_id).await,
        roles_of(&[(&t, "teacher"), (&s1, "student"), (&s2, "student"), (&s3, "student")])
    );
    assert_eq!(group_mail(&s1.email, "Геометрия — поток 1", 1).await.len(), 1, "added to a group: an email");

    // An admin makes one of selected students.
    let r =
        admin.post(&path, json!({"name": "Геометрия — олимпиада", "students": "selected", "user_ids": [s2.sub]})).await;
    let selected = r.ok(201).clone();
    assert_eq!(selected["member_count"], 2);
    assert_eq!(group_roles(&admin, &org, &id_of(&selected)).await, roles_of(&[(&t, "teacher"), (&s2, "student")]));
    // Selected ones must be the course's students.
    let r = admin
        .post(&path, json!({"name": "Не выйдет", "students": "selected", "user_ids": [s1.sub, not_enrolled.sub]}))
        .await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["user_ids"]);
    admin.post(&path, json!({"name": "Не выйдет", "students": "some"})).await.problem(422, "validation_failed");
    admin.post(&path, json!({"name": "", "students": "all"})).await.problem(422, "validation_failed");
    other_t.post(&path, json!({"name": "Чужая", "students": "all"})).await.problem(403, "forbidden");
    s1.post(&path, json!({"name": "Моя", "students": "all"})).await.problem(403, "forbidden");

    // The course lists its linked groups, and each group names its course.
    let now = course(&admin, &org, &id).await;
    assert_eq!(sorted(linked(&now)), sorted(vec![all_id.clone(), id_of(&selected)]));
    let listed = s1.get(&format!("/v1/orgs/{org}/courses/{id}/linked-groups")).await.ok(200).clone();
    assert_eq!(sorted(names(&listed)), ["Геометрия — олимпиада", "Геометрия — поток 1"]);
    assert!(listed["items"].as_array().unwrap().iter().all(|g| g["course_id"] == id.as_str()), "{listed}");
    assert_eq!(group(&s3, &org, &all_id).await["course_id"], id.as_str());
    let names_of_groups = names(admin.get(&format!("/v1/orgs/{org}/groups")).await.ok(200));
    assert_eq!(names_of_groups.len(), 2, "only the two groups made: {names_of_groups:?}");

    // "All" means the students enrolled at that moment.
    enrol_in_course(&admin, &org, &id, &[&not_enrolled]).await;
    assert_eq!(group(&admin, &org, &all_id).await["member_count"], 4);
}

#[tokio::test]
async fn linking_an_existing_group_adds_the_chosen_students_once() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(6, "А")]).await;
    let t = enrol(&admin, &org, "Учитель курса", json!([teacher("Учитель английского", &[])])).await;
    let other_t = enrol(&admin, &org, "Другой учитель", json!([teacher("Учитель", &[])])).await;
    let s1 = enrol(&admin, &org, "Аня", json!([student(&classes[0])])).await;
    let s2 = enrol(&admin, &org, "Боря", json!([student(&classes[0])])).await;
    let guest = enrol(&admin, &org, "Гость клуба", json!([parent(&[&classes[0]])])).await;
    let c = new_course(&admin, &org, "Английский язык", &[&t]).await;
    let cid = id_of(&c);
    let other_course = new_course(&admin, &org, "Немецкий язык", &[&other_t]).await;
    let other_cid = id_of(&other_course);
    enrol_in_course(&admin, &org, &cid, &[&s1, &s2]).await;
    let club = new_group(&admin, &org, "Разговорный клуб").await;
    let club_id = id_of(&club);
    add_to_group(&admin, &org, &club_id, &[&s2, &guest]).await;
    let link = format!("/v1/orgs/{org}/courses/{cid}/linked-groups");

    // The course's teacher is not in the group: linking it is not theirs to do.
    t.post(&link, json!({"group_id": club_id, "students": "all"})).await.problem(403, "forbidden");
    assert_eq!(group(&admin, &org, &club_id).await["course_id"], Value::Null, "a refused link links nothing");
    // All students: the one already in the group is not added twice.
    let r = admin.post(&link, json!({"group_id": club_id, "students": "all"})).await;
    let linked_club = r.ok(200).clone();
    assert_eq!(linked_club["id"], club_id.as_str());
    assert_eq!(linked_club["course_id"], cid.as_str());
    assert_eq!(linked_club["member_count"], 4, "the course's teacher comes in too");
    let members = admin.get(&format!("/v1/orgs/{org}/groups/{club_id}/members")).await.ok(200).clone();
    assert_eq!(members["items"].as_array().unwrap().len(), 4);
    assert_eq!(
        group_roles(&admin, &org, &club_id).await,
        roles_of(&[(&t, "teacher"), (&s1, "student"), (&s2, "student"), (&guest, "student")])
    );

    // None, and selected ones (who must be the course's students).
    let empty = new_group(&admin, &org, "Без учеников").await;
    let r = admin.post(&link, json!({"group_id": id_of(&empty), "students": "none"})).await;
    assert_eq!(r.ok(200)["member_count"], 1, "no students, the course's teacher");
    assert_eq!(r.body["course_id"], cid.as_str());
    let few = new_group(&admin, &org, "Избранные").await;
    let r = admin.post(&link, json!({"group_id": id_of(&few), "students": "selected", "user_ids": [guest.sub]})).await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["user_ids"]);
    assert_eq!(group(&admin, &org, &id_of(&few)).await["course_id"], Value::Null, "a refused link links nothing");
    let r = admin.post(&link, json!({"group_id": id_of(&few), "students": "selected", "user_ids": [s1.sub]})).await;
    assert_eq!(r.ok(200)["member_count"], 2);
    let c_now = course(&admin, &org, &cid).await;
    assert_eq!(sorted(linked(&c_now)), sorted(vec![club_id.clone(), id_of(&empty), id_of(&few)]));
    let listed = s1.get(&link).await.ok(200).clone();
    assert_eq!(sorted(names(&listed)), ["Без учеников", "Избранные", "Разговорный клуб"]);

    // A group belongs to one course at most; others may not link.
    let r = admin
        .post(
            &format!("/v1/orgs/{org}/courses/{other_cid}/linked-groups"),
            json!({"group_id": club_id, "students": "none"}),
        )
        .await;
    r.problem(409, "group_already_linked");
    other_t.post(&link, json!({"group_id": id_of(&empty), "students": "none"})).await.problem(403, "forbidden");
    s1.post(&link, json!({"group_id": id_of(&empty), "students": "none"})).await.problem(403, "forbidden");

    // The linked course's teacher, now the group's teacher, sees its members.
    assert_eq!(
        user_ids(t.get(&format!("/v1/orgs/{org}/groups/{club_id}/members")).await.ok(200)),
        set_of(&[&t, &s1, &s2, &guest])
    );
    assert_eq!(
        t.get(&format!("/v1/orgs/{org}/members?group={club_id}")).await.ok(200)["items"].as_array().unwrap().len(),
        4
    );
    other_t.get(&format!("/v1/orgs/{org}/groups/{club_id}/members")).await.problem(403, "forbidden");

    // Unlinking keeps the group and its members, its teachers included.
    let r = t.delete(&format!("{link}/{club_id}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let g = group(&admin, &org, &club_id).await;
    assert_eq!(g["course_id"], Value::Null);
    assert_eq!(g["member_count"], 4);
    assert!(!linked(&course(&admin, &org, &cid).await).contains(&club_id));
    assert_eq!(sorted(names(admin.get(&link).await.ok(200))), ["Без учеников", "Избранные"]);
    assert_eq!(group_roles(&t, &org, &club_id).await[&t.sub], "teacher");
    // Now free, another course may link it (its teacher comes in).
    let r = admin
        .post(
            &format!("/v1/orgs/{org}/courses/{other_cid}/linked-groups"),
            json!({"group_id": club_id, "students": "none"}),
        )
        .await;
    assert_eq!(r.ok(200)["course_id"], other_cid.as_str());
    assert_eq!(r.body["member_count"], 5);
    assert_eq!(group_roles(&admin, &org, &club_id).await[&other_t.sub], "teacher");
}

#[tokio::test]
async fn two_courses_racing_for_one_group_one_links_it_the_other_is_told() {
    let admin = User::new("Админ");
    let org = admin.create_org("Школа").await;
    let first = id_of(&new_course(&admin, &org, "Музыка", &[]).await);
    let second = id_of(&new_course(&admin, &org, "Хореография", &[]).await);
    let g = id_of(&new_group(&admin, &org, "Ансамбль").await);
    let body = json!({"group_id": g, "students": "none"});
    let (to_first, to_second) = (
        format!("/v1/orgs/{org}/courses/{first}/linked-groups"),
        format!("/v1/orgs/{org}/courses/{second}/linked-groups"),
    );
    let (a, b) = tokio::join!(admin.post(&to_first, body.clone()), admin.post(&to_second, body.clone()));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
    let (winner, loser, lost) = if a.status == 200 { (&first, &second, &b) } else { (&second, &first, &a) };
    lost.problem(409, "group_already_linked");
    assert_eq!(group(&admin, &org, &g).await["course_id"], winner.as_str());
    assert_eq!(linked(&course(&admin, &org, winner).await), [g.as_str()]);
    assert_eq!(linked(&course(&admin, &org, loser).await), Vec::<String>::new());
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/courses/{loser}/linked-groups")).await.ok(200)["items"], json!([]));
}

#[tokio::test]
async fn deleting_a_course_or_a_linked_group_leaves_the_other_and_the_people() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(5, "Б")]).await;
    let t = enrol(&admin, &org, "Учитель", json!([teacher("Учитель рисования", &[])])).await;
    let s1 = enrol(&admin, &org, "Аня", json!([student(&classes[0])])).await;
    let s2 = enrol(&admin, &org, "Боря", json!([student(&classes[0])])).await;
    let c = id_of(&new_course(&admin, &org, "Рисование", &[&t]).await);
    enrol_in_course(&admin, &org, &c, &[&s1, &s2]).await;
    let r =
        admin.post(&format!("/v1/orgs/{org}/courses/{c}/groups"), json!({"name": "Акварель", "students": "all"})).await;
    let g = id_of(r.ok(201));
    let members_before = admin.get(&format!("/v1/orgs/{org}")).await.ok(200)["member_count"].clone();

    t.delete(&format!("/v1/orgs/{org}/courses/{c}")).await.problem(403, "forbidden");
    let r = admin.delete(&format!("/v1/orgs/{org}/courses/{c}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    admin.get(&format!("/v1/orgs/{org}/courses/{c}")).await.problem(404, "not_found");
    admin.get(&format!("/v1/orgs/{org}/courses/{c}/students")).await.problem(404, "not_found");
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/courses")).await.ok(200)["items"], json!([]));
    assert_eq!(s1.get(&format!("/v1/orgs/{org}/courses?mine=true")).await.ok(200)["items"], json!([]));
    let kept = group(&admin, &org, &g).await;
    assert_eq!(kept["course_id"], Value::Null);
    assert_eq!(kept["member_count"], 3);
    assert_eq!(
        user_ids(admin.get(&format!("/v1/orgs/{org}/groups/{g}/members")).await.ok(200)),
        set_of(&[&t, &s1, &s2])
    );
    assert_eq!(admin.get(&format!("/v1/orgs/{org}")).await.ok(200)["member_count"], members_before);
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/members/{}", t.sub)).await.ok(200)["roles"][0]["role"], "teacher");

    // Deleting a linked group takes it off its course.
    let c2 = id_of(&new_course(&admin, &org, "Лепка", &[&t]).await);
    admin
        .post(&format!("/v1/orgs/{org}/courses/{c2}/linked-groups"), json!({"group_id": g, "students": "none"}))
        .await
        .ok(200);
    assert_eq!(linked(&course(&admin, &org, &c2).await), [g.as_str()]);
    assert_eq!(admin.delete(&format!("/v1/orgs/{org}/groups/{g}")).await.status, 204);
    assert_eq!(linked(&course(&admin, &org, &c2).await), Vec::<String>::new());
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/courses/{c2}/linked-groups")).await.ok(200)["items"], json!([]));
}

#[tokio::test]
async fn removal_and_leaving_take_people_out_of_courses_and_their_groups() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(11, "Б")]).await;
    let t = enrol(&admin, &org, "Учитель", json!([teacher("Учитель химии", &[])])).await;
    let stays_t = enrol(&admin, &org, "Второй учитель", json!([teacher("Учитель химии", &[])])).await;
    let removed = enrol(&admin, &org, "Исключён", json!([student(&classes[0])])).await;
    let leaving = enrol(&admin, &org, "Уходит", json!([student(&classes[0])])).await;
    let stays = enrol(&admin, &org, "Остаётся", json!([student(&classes[0])])).await;
    let c = id_of(&new_course(&admin, &org, "Химия", &[&t, &stays_t]).await);
    enrol_in_course(&admin, &org, &c, &[&removed, &leaving, &stays]).await;
    let r = admin
        .post(&format!("/v1/orgs/{org}/courses/{c}/groups"), json!({"name": "Лабораторные", "students": "all"}))
        .await;
    let g = id_of(r.ok(201));
    assert_eq!(course(&admin, &org, &c).await["student_count"], 3);

    assert_eq!(admin.delete(&format!("/v1/orgs/{org}/members/{}", removed.sub)).await.status, 204);
    assert_eq!(leaving.post(&format!("/v1/orgs/{org}/leave"), json!({})).await.status, 204);
    assert_eq!(t.post(&format!("/v1/orgs/{org}/leave"), json!({})).await.status, 204);
    let now = course(&admin, &org, &c).await;
    assert_eq!(now["student_count"], 1);
    assert_eq!(now["teacher_ids"], json!([stays_t.sub]), "a teacher who left teaches it no more");
    assert_eq!(user_ids(admin.get(&format!("/v1/orgs/{org}/courses/{c}/students")).await.ok(200)), set_of(&[&stays]));
    assert_eq!(user_ids(admin.get(&format!("/v1/orgs/{org}/members?course={c}")).await.ok(200)), set_of(&[&stays]));
    assert_eq!(group(&admin, &org, &g).await["member_count"], 2);
    assert_eq!(group_roles(&admin, &org, &g).await, roles_of(&[(&stays_t, "teacher"), (&stays, "student")]));

    // An admin removing a teacher takes them off the course too.
    assert_eq!(admin.delete(&format!("/v1/orgs/{org}/members/{}", stays_t.sub)).await.status, 204);
    assert_eq!(course(&admin, &org, &c).await["teacher_ids"], json!([]));
}

#[tokio::test]
async fn course_changes_are_in_the_audit_log() {
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(2, "А")]).await;
    let t = enrol(&admin, &org, "Учитель", json!([teacher("Учитель музыки", &[])])).await;
    let s = enrol(&admin, &org, "Ученица", json!([student(&classes[0])])).await;
    let c = id_of(&new_course(&admin, &org, "Сольфеджио", &[]).await);
    admin.patch(&format!("/v1/orgs/{org}/courses/{c}"), json!({"teacher_ids": [t.sub]})).await.ok(200);
    enrol_in_course(&admin, &org, &c, &[&s]).await;
    let g = id_of(&new_group(&admin, &org, "Ансамбль").await);
    admin
        .post(&format!("/v1/orgs/{org}/courses/{c}/linked-groups"), json!({"group_id": g, "students": "none"}))
        .await
        .ok(200);
    assert_eq!(admin.delete(&format!("/v1/orgs/{org}/courses/{c}/linked-groups/{g}")).await.status, 204);
    assert_eq!(admin.delete(&format!("/v1/orgs/{org}/courses/{c}/students/{}", s.sub)).await.status, 204);
    assert_eq!(admin.delete(&format!("/v1/orgs/{org}/courses/{c}")).await.status, 204);

    let actions = audit_actions(&admin, &org, "course").await;
    for action in [
        "course.create",
        "course.update",
        "course.students_add",
        "course.group_link",
        "course.group_unlink",
        "course.student_remove",
        "course.delete",
    ] {
        assert_eq!(actions.iter().filter(|a| *a == action).count(), 1, "{action} once in {actions:?}");
    }
    assert_eq!(actions.first().map(String::as_str), Some("course.delete"), "newest first: {actions:?}");
    assert_eq!(actions.last().map(String::as_str), Some("course.create"), "newest first: {actions:?}");
    let created = admin.get(&format!("/v1/orgs/{org}/audit?action=course.create")).await.ok(200).clone();
    assert_eq!(created["items"][0]["actor"]["id"], admin.sub.as_str());
    assert_eq!(created["items"][0]["target"]["id"], c.as_str());
    let update = admin.get(&format!("/v1/orgs/{org}/audit?action=course.update")).await.ok(200).clone();
    assert_eq!(update["items"][0]["before"]["teacher_ids"], json!([]));
    assert_eq!(update["items"][0]["after"]["teacher_ids"], json!([t.sub]));
}

#[tokio::test]
async fn a_course_teacher_who_enrols_themself_cannot_walk_into_a_closed_group() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(7, "В")]).await;
    let t = enrol(&admin, &org, "Учитель курса", json!([teacher("Учитель физики", &[])])).await;
    let s = enrol(&admin, &org, "Ученица", json!([student(&classes[0])])).await;
    let c = id_of(&new_course(&admin, &org, "Физика", &[&t]).await);
    let g = closed_group(&admin, &org, "Совет старшеклассников", &s).await;

    // The teacher enrols themself: a course's students are students.
    let r = t.post(&format!("/v1/orgs/{org}/courses/{c}/students"), json!({"user_ids": [t.sub]})).await;
    let detail = r.problem(422, "not_a_student").body["detail"].as_str().unwrap().to_string();
    assert!(detail.contains(&t.sub), "the problem names the person: {detail}");
    assert_eq!(course(&admin, &org, &c).await["student_count"], 0);
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/courses/{c}/students")).await.ok(200)["items"], json!([]));
    // Then links the group, which has no course, with themself selected: no right over it.
    let r = t
        .post(
            &format!("/v1/orgs/{org}/courses/{c}/linked-groups"),
            json!({"group_id": g, "students": "selected", "user_ids": [t.sub]}),
        )
        .await;
    r.problem(403, "forbidden");
    assert_eq!(group(&admin, &org, &g).await["course_id"], Value::Null, "nothing linked");
    assert_eq!(group(&admin, &org, &g).await["member_count"], 1);
    assert_eq!(linked(&course(&admin, &org, &c).await), Vec::<String>::new());
    kept_out(&admin, &org, &g, &t).await;
}

#[tokio::test]
async fn a_course_teacher_who_is_also_a_student_links_no_group_they_are_not_in() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(10, "Б")]).await;
    // Teacher and student both: enrolling themself is allowed, the group is not theirs.
    let t =
        enrol(&admin, &org, "Учитель и ученик", json!([teacher("Учитель-стажёр", &[]), student(&classes[0])])).await;
    let s = enrol(&admin, &org, "Ученик", json!([student(&classes[0])])).await;
    let c = id_of(&new_course(&admin, &org, "Астрономия", &[&t]).await);
    assert_eq!(enrol_in_course(&t, &org, &c, &[&t, &s]).await, ["added", "added"]);
    let g = closed_group(&admin, &org, "Обсерватория", &s).await;
    let link = format!("/v1/orgs/{org}/courses/{c}/linked-groups");

    for students in [json!({"students": "selected", "user_ids": [t.sub]}), json!({"students": "all"})] {
        let mut body = students.clone();
        body["group_id"] = json!(g);
        t.post(&link, body).await.problem(403, "forbidden");
        assert_eq!(group(&admin, &org, &g).await["course_id"], Value::Null, "nothing linked: {students}");
    }
    kept_out(&admin, &org, &g, &t).await;
    // Linked to the course by an admin (whose call it is), the group takes the course's
    // teacher as its teacher.
    admin.post(&link, json!({"group_id": g, "students": "none"})).await.ok(200);
    assert_eq!(group_roles(&admin, &org, &g).await, roles_of(&[(&t, "teacher"), (&s, "student")]));

    // A new group made from the course is nobody else's: its teacher may make it, with
    // themself among the students selected.
    let r = t
        .post(
            &format!("/v1/orgs/{org}/courses/{c}/groups"),
            json!({"name": "Наблюдения", "students": "selected", "user_ids": [t.sub, s.sub]}),
        )
        .await;
    let made = id_of(r.ok(201));
    // Selected as a student, they are its teacher: the course's teacher.
    assert_eq!(group_roles(&admin, &org, &made).await, roles_of(&[(&t, "teacher"), (&s, "student")]));
    assert_eq!(group(&admin, &org, &made).await["member_count"], 2);
    t.get(&threads(&org, &made)).await.ok(200);
}

#[tokio::test]
async fn a_teacher_in_the_group_or_an_admin_links_it() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(8, "В")]).await;
    let t = enrol(&admin, &org, "Учитель курса", json!([teacher("Учитель музыки", &[])])).await;
    let s1 = enrol(&admin, &org, "Аня", json!([student(&classes[0])])).await;
    let s2 = enrol(&admin, &org, "Боря", json!([student(&classes[0])])).await;
    let c = id_of(&new_course(&admin, &org, "Хор", &[&t]).await);
    enrol_in_course(&admin, &org, &c, &[&s1, &s2]).await;
    let link = format!("/v1/orgs/{org}/courses/{c}/linked-groups");

    // The teacher is in the group: they link it, and the course's students come in.
    let choir = id_of(&new_group(&admin, &org, "Школьный хор").await);
    add_to_group(&admin, &org, &choir, &[&t]).await;
    let r = t.post(&link, json!({"group_id": choir, "students": "all"})).await;
    assert_eq!(r.ok(200)["course_id"], c.as_str());
    assert_eq!(r.body["member_count"], 3);
    assert_eq!(
        user_ids(admin.get(&format!("/v1/orgs/{org}/groups/{choir}/members")).await.ok(200)),
        set_of(&[&t, &s1, &s2])
    );
    s1.get(&threads(&org, &choir)).await.ok(200);
    // An admin links any group, in it or not.
    let band = id_of(&new_group(&admin, &org, "Ансамбль").await);
    let r = admin.post(&link, json!({"group_id": band, "students": "selected", "user_ids": [s2.sub]})).await;
    assert_eq!(r.ok(200)["member_count"], 2, "the student chosen and the course's teacher");
    assert_eq!(sorted(linked(&course(&admin, &org, &c).await)), sorted(vec![choir, band]));
}

#[tokio::test]
async fn only_members_holding_the_student_role_are_enrolled() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(4, "А")]).await;
    let t = enrol(&admin, &org, "Учитель курса", json!([teacher("Учитель рисования", &[])])).await;
    let other_t = enrol(&admin, &org, "Другой учитель", json!([teacher("Учитель труда", &[])])).await;
    let mum = enrol(&admin, &org, "Мама", json!([parent(&[&classes[0]])])).await;
    let s = enrol(&admin, &org, "Ученик", json!([student(&classes[0])])).await;
    let c = id_of(&new_course(&admin, &org, "Рисование", &[&t]).await);
    let students = format!("/v1/orgs/{org}/courses/{c}/students");

    for by in [&admin, &t] {
        for who in [&other_t, &mum] {
            // With a student in the same request: nothing is enrolled.
            let r = by.post(&students, json!({"user_ids": [s.sub, who.sub]})).await;
            let detail = r.problem(422, "not_a_student").body["detail"].as_str().unwrap().to_string();
            assert!(detail.contains(&who.sub) && !detail.contains(&s.sub), "{detail}");
        }
    }
    let r = admin.post(&students, json!({"user_ids": [mum.sub, other_t.sub]})).await;
    let detail = r.problem(422, "not_a_student").body["detail"].as_str().unwrap().to_string();
    assert!(detail.contains(&mum.sub) && detail.contains(&other_t.sub), "both named: {detail}");
    assert_eq!(course(&admin, &org, &c).await["student_count"], 0);
    assert_eq!(admin.get(&students).await.ok(200)["items"], json!([]));
    assert_eq!(mum.get(&format!("/v1/orgs/{org}/courses?mine=true")).await.ok(200)["items"], json!([]));
    assert_eq!(enrol_in_course(&t, &org, &c, &[&s]).await, ["added"]);
}

#[tokio::test]
async fn a_course_teacher_posts_in_the_group_made_from_their_course() {
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(9, "А")]).await;
    let o = format!("/v1/orgs/{org}");
    let t = enrol(&admin, &org, "Ольга Петровна", json!([teacher("Учитель биологии", &[])])).await;
    let s1 = enrol(&admin, &org, "Аня", json!([student(&classes[0])])).await;
    let s2 = enrol(&admin, &org, "Боря", json!([student(&classes[0])])).await;
    let newcomer = enrol(&admin, &org, "Вера", json!([student(&classes[0])])).await;
    let c = id_of(&new_course(&admin, &org, "Биология", &[&t]).await);
    enrol_in_course(&admin, &org, &c, &[&s1, &s2]).await;

    // An admin makes the course's group: its teacher is in it, as its teacher.
    let r = admin.post(&format!("{o}/courses/{c}/groups"), json!({"name": "Биология 9А", "students": "all"})).await;
    let g = id_of(r.ok(201));
    assert_eq!(r.body["member_count"], 3);
    assert_eq!(
        group_roles(&t, &org, &g).await,
        roles_of(&[(&t, "teacher"), (&s1, "student"), (&s2, "student")]),
        "the members list shows each one's role in the group"
    );
    assert_eq!(group_mail(&t.email, "Биология 9А", 1).await.len(), 1, "added to the group: an email");

    // The teacher works in it: threads, announcements, and the group's people.
    let thread = t.post(&threads(&org, &g), json!({"title": "Лабораторная", "body": "Готовим микроскопы"})).await;
    thread.ok(201);
    let a = t.post(&format!("{o}/groups/{g}/announcements"), json!({"title": "Экскурсия", "body": "В четверг"})).await;
    assert_eq!(a.ok(201)["author_id"], t.sub.as_str());
    assert_eq!(s1.get(&format!("{o}/groups/{g}/announcements")).await.ok(200)["items"][0]["title"], "Экскурсия");
    assert_eq!(add_to_group(&t, &org, &g, &[&newcomer]).await, ["added"]);
    assert_eq!(group_roles(&t, &org, &g).await[&newcomer.sub], "student");
    let r = t.delete(&format!("{o}/groups/{g}/members/{}", s2.sub)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    s2.get(&threads(&org, &g)).await.problem(404, "not_found");
    assert_eq!(group(&admin, &org, &g).await["member_count"], 3);

    // Its students take part, and no more.
    s1.post(&threads(&org, &g), json!({"title": "Вопрос", "body": "Что принести?"})).await.ok(201);
    let r = s1.post(&format!("{o}/groups/{g}/announcements"), json!({"title": "Моё", "body": "Текст"})).await;
    r.problem(403, "forbidden");
    s1.post(&format!("{o}/groups/{g}/members"), json!({"user_ids": [s2.sub]})).await.problem(403, "forbidden");
    s1.delete(&format!("{o}/groups/{g}/members/{}", newcomer.sub)).await.problem(403, "forbidden");
    let r = s1.patch(&format!("{o}/groups/{g}/members/{}", newcomer.sub), json!({"group_role": "teacher"})).await;
    r.problem(403, "forbidden");
    assert_eq!(group(&admin, &org, &g).await["member_count"], 3);
}

#[tokio::test]
async fn linking_a_group_or_joining_a_course_later_makes_the_courses_teachers_its_teachers() {
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(6, "Б")]).await;
    let o = format!("/v1/orgs/{org}");
    let t1 = enrol(&admin, &org, "Первый учитель", json!([teacher("Учитель истории", &[])])).await;
    let t2 = enrol(&admin, &org, "Второй учитель", json!([teacher("Учитель истории", &[])])).await;
    let t3 = enrol(&admin, &org, "Третий учитель", json!([teacher("Учитель обществознания", &[])])).await;
    let s = enrol(&admin, &org, "Ученик", json!([student(&classes[0])])).await;
    let c = id_of(&new_course(&admin, &org, "История", &[&t1]).await);

    // An existing group linked to the course: its teacher comes in as a teacher; a
    // teacher already in it as a student (as the admin chose) stays one until they
    // teach the course.
    let club = id_of(&new_group(&admin, &org, "Исторический клуб").await);
    let body = json!({"user_ids": [t3.sub], "group_role": "student"});
    let r = admin.post(&format!("{o}/groups/{club}/members"), body).await;
    assert_eq!(r.ok(200)["results"][0]["status"], "added");
    add_to_group(&admin, &org, &club, &[&s]).await;
    let r = admin.post(&format!("{o}/courses/{c}/linked-groups"), json!({"group_id": club, "students": "none"})).await;
    assert_eq!(r.ok(200)["member_count"], 3);
    assert_eq!(
        group_roles(&admin, &org, &club).await,
        roles_of(&[(&t1, "teacher"), (&t3, "student"), (&s, "student")])
    );
    let announcements = format!("{o}/groups/{club}/announcements");
    t3.post(&announcements, json!({"title": "Рано", "body": "Текст"})).await.problem(403, "forbidden");

    // Teachers who join the course later join its groups as their teachers.
    let r = admin.patch(&format!("{o}/courses/{c}"), json!({"teacher_ids": [t1.sub, t2.sub, t3.sub]})).await;
    r.ok(200);
    assert_eq!(
        group_roles(&admin, &org, &club).await,
        roles_of(&[(&t1, "teacher"), (&t2, "teacher"), (&t3, "teacher"), (&s, "student")])
    );
    assert_eq!(group(&admin, &org, &club).await["member_count"], 4);
    assert_eq!(group_mail(&t2.email, "Исторический клуб", 1).await.len(), 1);
    t2.post(&announcements, json!({"title": "Собрание", "body": "В пятницу"})).await.ok(201);
    t3.post(&announcements, json!({"title": "Доклады", "body": "Темы на выбор"})).await.ok(201);
    let added = audit_actions(&admin, &org, "group.members_add").await;
    assert!(added.len() >= 3, "each add is in the audit log: {added:?}");
}
