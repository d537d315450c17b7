//! Groups: create, list ("my groups" too), read, edit, delete; add members several at once,
//! remove one; who may see a group's members; the email of being added; leaving and
//! removal take people out of their groups; the audit trail; inviting by email to a group;
//! a hundred people added in one request; no route, and no transaction, that puts someone
//! into a group without the right to; a group's teachers (R7.5, R7.6: only members holding
//! the teacher role; they add and take out its students and moderate its posts and files,
//! its students do not).

use std::collections::HashSet;

use futures::StreamExt;
use kabinet::domain::AuditAction;
use kabinet::domain::{
    Actor, AuditEntry, CourseId, Group, GroupId, GroupRole, InvitationId, OrgId, PlaceIn, PlaceKind, UserId,
};
use kabinet::store::groups::{AddRecord, Added, Entry, GroupError};
use kabinet_tests::support;
use kabinet_tests::support::{
    add_member, add_to_group, announce, audit_actions, await_mail, circle, closed_group, content, enrol, field_of,
    group, group_mail, group_mail_now, group_roles, id_of, kept_out, names, new_group, open_thread, parent, registered,
    roles_of, school, set_of, student, teacher, threads, upload, user_ids, User,
};
use reqwest::Method;
use serde_json::{json, Value};

/// A member who joined with their own address (an admin added them by email, they
/// accepted): the organization knows that address as theirs.
pub async fn joined_by_email(admin: &User, org: &str, name: &str, roles: Value) -> User {
    let u = registered(name).await;
    let r = admin.post(&format!("/v1/orgs/{org}/members"), json!({"email": u.email, "roles": roles})).await;
    let invitation = r.ok(202)["invitation_id"].as_str().unwrap().to_string();
    u.post(&format!("/v1/me/invitations/{invitation}/accept"), json!({})).await.ok(200);
    u
}

#[tokio::test]
async fn an_admin_creates_groups_and_every_member_lists_them_oldest_first() {
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(5, "А")]).await;
    let pupil = enrol(&admin, &org, "Петя Иванов", json!([student(&classes[0])])).await;
    let t = enrol(&admin, &org, "Мария Ивановна", json!([teacher("Учитель математики", &[&classes[0]])])).await;
    let stranger = registered("Чужой").await;
    let path = format!("/v1/orgs/{org}/groups");

    let r = admin.post(&path, json!({"name": "Шахматный клуб", "description": "По средам после уроков"})).await;
    let chess = r.ok(201).clone();
    let chess_id = chess["id"].as_str().unwrap().to_string();
    assert_eq!(chess["name"], "Шахматный клуб");
    assert_eq!(chess["description"], "По средам после уроков");
    assert_eq!(chess["course_id"], Value::Null);
    assert_eq!(chess["member_count"], 0);
    assert!(chess["created_at"].is_string() && chess["updated_at"].is_string(), "{chess}");
    let etag = r.header("etag").expect("an ETag").to_string();
    assert_eq!(r.header("location"), Some(format!("/v1/orgs/{org}/groups/{chess_id}").as_str()));
    let choir = admin.post(&path, json!({"name": "Хор"})).await.ok(201).clone();
    assert_eq!(choir["description"], Value::Null, "no description given");
    new_group(&admin, &org, "Робототехника").await;

    // Every member sees the list, oldest first, paged.
    for who in [&admin, &pupil, &t] {
        assert_eq!(names(who.get(&path).await.ok(200)), ["Шахматный клуб", "Хор", "Робототехника"]);
    }
    let page = admin.get(&format!("{path}?limit=2")).await.ok(200).clone();
    assert_eq!(names(&page), ["Шахматный клуб", "Хор"]);
    let cursor = page["next_cursor"].as_str().expect("a next page").to_string();
    let rest = admin.get(&format!("{path}?limit=2&cursor={cursor}")).await.ok(200).clone();
    assert_eq!(names(&rest), ["Робототехника"]);
    assert_eq!(rest["next_cursor"], Value::Null);

    // Any member reads one group, with its ETag.
    let read = pupil.get(&format!("{path}/{chess_id}")).await;
    assert_eq!(read.ok(200)["name"], "Шахматный клуб");
    assert_eq!(read.body["id"], chess_id.as_str());
    assert_eq!(read.header("etag"), Some(etag.as_str()));
    admin.get(&format!("{path}/01jzzzzzzzzzzzzzzzzzzzzzzz")).await.problem(404, "not_found");

    // Only admins create; someone from outside sees nothing of the organization.
    pupil.post(&path, json!({"name": "Мой клуб"})).await.problem(403, "forbidden");
    t.post(&path, json!({"name": "Кружок учителя"})).await.problem(403, "forbidden");
    stranger.get(&path).await.problem(404, "not_found");
    stranger.get(&format!("{path}/{chess_id}")).await.problem(404, "not_found");
    stranger.post(&path, json!({"name": "Чужая группа"})).await.problem(404, "not_found");
    stranger
        .post(&format!("{path}/{chess_id}/members"), json!({"user_ids": [stranger.sub]}))
        .await
        .problem(404, "not_found");
    stranger.get(&format!("{path}/{chess_id}/members")).await.problem(404, "not_found");
    assert_eq!(admin.get(&path).await.ok(200)["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_group_name_is_one_line_of_1_to_200_characters() {
    let admin = User::new("Админ");
    let org = admin.create_org("Школа").await;
    let path = format!("/v1/orgs/{org}/groups");
    // No name at all: refused (which field the problem names depends on the body's shape).
    admin.post(&path, json!({})).await.problem(422, "validation_failed");
    for body in [
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": "Первая строка\nвторая строка"}),
        json!({"name": "я".repeat(201)}),
    ] {
        let r = admin.post(&path, body.clone()).await;
        assert_eq!(r.problem(422, "validation_failed").error_fields(), ["name"], "{body}");
    }
    let longest = admin.post(&path, json!({"name": "я".repeat(200)})).await.ok(201).clone();
    assert_eq!(longest["name"].as_str().unwrap().chars().count(), 200);
    // A description may run over several lines.
    let multi = admin.post(&path, json!({"name": "Хор", "description": "Репетиции:\nвторник\nчетверг"})).await;
    assert_eq!(multi.ok(201)["description"], "Репетиции:\nвторник\nчетверг");
    assert_eq!(admin.get(&path).await.ok(200)["items"].as_array().unwrap().len(), 2, "refused bodies made nothing");
    let id = longest["id"].as_str().unwrap();
    let r = admin.patch(&format!("{path}/{id}"), json!({"name": "два\nряда"})).await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["name"]);
    let r = admin.patch(&format!("{path}/{id}"), json!({"name": ""})).await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["name"]);
}

#[tokio::test]
async fn edits_use_if_match_and_a_null_description_clears_it() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(6, "Б")]).await;
    let pupil = enrol(&admin, &org, "Ученица", json!([student(&classes[0])])).await;
    let r = admin
        .post(&format!("/v1/orgs/{org}/groups"), json!({"name": "Кружок", "description": "Старое описание"}))
        .await;
    let id = r.ok(201)["id"].as_str().unwrap().to_string();
    let first = r.header("etag").unwrap().to_string();
    let path = format!("/v1/orgs/{org}/groups/{id}");

    let r = admin
        .call(
            Method::PATCH,
            &path,
            Some(json!({"name": "Театральная студия", "description": "Репетиции по пятницам"})),
            &[("if-match", &first)],
        )
        .await;
    let changed = r.ok(200).clone();
    assert_eq!(changed["name"], "Театральная студия");
    assert_eq!(changed["description"], "Репетиции по пятницам");
    let second = r.header("etag").expect("a new ETag").to_string();
    assert_ne!(second, first);
    // A write over what someone else already changed is refused and changes nothing.
    admin
        .call(Method::PATCH, &path, Some(json!({"name": "Затёрто"})), &[("if-match", &first)])
        .await
        .problem(412, "precondition_failed");
    let read = admin.get(&path).await;
    assert_eq!(read.ok(200)["name"], "Театральная студия");
    assert_eq!(read.header("etag"), Some(second.as_str()));

    // `null` clears the description; what is not given stays.
    let r = admin.call(Method::PATCH, &path, Some(json!({"description": null})), &[("if-match", &second)]).await;
    assert_eq!(r.ok(200)["description"], Value::Null);
    assert_eq!(r.body["name"], "Театральная студия");
    assert_ne!(r.header("etag"), Some(second.as_str()));
    assert_eq!(admin.get(&path).await.ok(200)["description"], Value::Null);

    // Only admins edit and delete.
    pupil.patch(&path, json!({"name": "Моя студия"})).await.problem(403, "forbidden");
    pupil.delete(&path).await.problem(403, "forbidden");
    admin
        .patch(&format!("/v1/orgs/{org}/groups/01jzzzzzzzzzzzzzzzzzzzzzzz"), json!({"name": "Нет такой"}))
        .await
        .problem(404, "not_found");
    assert_eq!(admin.get(&path).await.ok(200)["name"], "Театральная студия");
}

#[tokio::test]
async fn an_admin_adds_several_members_at_once_and_each_gets_a_result() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(7, "А")]).await;
    let vasya = enrol(&admin, &org, "Вася", json!([student(&classes[0])])).await;
    let galya = enrol(&admin, &org, "Галя", json!([student(&classes[0])])).await;
    let t = enrol(&admin, &org, "Учитель", json!([teacher("Учитель физики", &[&classes[0]])])).await;
    let outsider = registered("Не из школы").await;
    let g = new_group(&admin, &org, "Олимпиадная физика").await;
    let id = g["id"].as_str().unwrap().to_string();
    let members = format!("/v1/orgs/{org}/groups/{id}/members");

    assert_eq!(add_to_group(&admin, &org, &id, &[&vasya, &galya, &outsider]).await, ["added", "added", "not_member"]);
    assert_eq!(group(&admin, &org, &id).await["member_count"], 2);
    assert_eq!(add_to_group(&admin, &org, &id, &[&galya, &t]).await, ["already_member", "added"]);
    assert_eq!(group(&admin, &org, &id).await["member_count"], 3);

    let list = admin.get(&members).await.ok(200).clone();
    assert_eq!(user_ids(&list), set_of(&[&vasya, &galya, &t]), "the outsider was not added");
    assert_eq!(list["next_cursor"], Value::Null);
    let v = list["items"].as_array().unwrap().iter().find(|m| m["user_id"] == vasya.sub.as_str()).unwrap();
    assert_eq!(v["name"], "Вася");
    assert_eq!(v["roles"][0]["role"], "student", "the member's roles in the organization: {v}");
    assert_eq!(v["roles"][0]["class_ids"], json!([classes[0]]));
    assert!(v["added_at"].is_string());

    // 1 to 100 people a request; a refused request adds nobody.
    admin.post(&members, json!({"user_ids": []})).await.problem(422, "validation_failed");
    let too_many: Vec<String> =
        std::iter::once(outsider.sub.clone()).chain((0..100).map(|i| format!("test-nobody-{i:03}"))).collect();
    admin.post(&members, json!({"user_ids": too_many})).await.problem(422, "validation_failed");
    admin.post(&members, json!({})).await.problem(422, "validation_failed");
    assert_eq!(group(&admin, &org, &id).await["member_count"], 3);
    // Admins and the group's teachers add and remove; its students, and teachers not in
    // it, do not.
    let other_t = enrol(&admin, &org, "Другой учитель", json!([teacher("Учитель химии", &[&classes[0]])])).await;
    other_t.post(&members, json!({"user_ids": [vasya.sub]})).await.problem(403, "forbidden");
    vasya.post(&members, json!({"user_ids": [outsider.sub]})).await.problem(403, "forbidden");
    vasya.delete(&format!("{members}/{}", galya.sub)).await.problem(403, "forbidden");
    other_t.delete(&format!("{members}/{}", galya.sub)).await.problem(403, "forbidden");
    admin
        .post(&format!("/v1/orgs/{org}/groups/01jzzzzzzzzzzzzzzzzzzzzzzz/members"), json!({"user_ids": [vasya.sub]}))
        .await
        .problem(404, "not_found");

    // Removing one person from the group keeps them in the organization.
    let r = admin.delete(&format!("{members}/{}", vasya.sub)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    admin.delete(&format!("{members}/{}", vasya.sub)).await.problem(404, "not_found");
    admin.delete(&format!("{members}/{}", outsider.sub)).await.problem(404, "not_found");
    assert_eq!(group(&admin, &org, &id).await["member_count"], 2);
    assert_eq!(user_ids(admin.get(&members).await.ok(200)), set_of(&[&galya, &t]));
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/members/{}", vasya.sub)).await.ok(200)["name"], "Вася");
    // Added again: a member anew.
    assert_eq!(add_to_group(&admin, &org, &id, &[&vasya]).await, ["added"]);
    assert_eq!(group(&admin, &org, &id).await["member_count"], 3);
}

#[tokio::test]
async fn the_same_person_added_twice_at_once_is_counted_once() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(7, "В")]).await;
    let pupil = enrol(&admin, &org, "Дима", json!([student(&classes[0])])).await;
    let other = enrol(&admin, &org, "Женя", json!([student(&classes[0])])).await;
    // Twice in one request.
    let id = new_group(&admin, &org, "Туристический клуб").await["id"].as_str().unwrap().to_string();
    let r =
        admin.post(&format!("/v1/orgs/{org}/groups/{id}/members"), json!({"user_ids": [pupil.sub, pupil.sub]})).await;
    // (Whether the repeat gets a result of its own is the server's choice.)
    let first = &r.ok(200)["results"][0];
    assert_eq!((first["user_id"].as_str(), first["status"].as_str()), (Some(pupil.sub.as_str()), Some("added")));
    assert_eq!(group(&admin, &org, &id).await["member_count"], 1);
    let list = admin.get(&format!("/v1/orgs/{org}/groups/{id}/members")).await.ok(200).clone();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "listed once: {list}");
    // In two requests at the same time.
    let path = format!("/v1/orgs/{org}/groups/{id}/members");
    let body = json!({"user_ids": [other.sub]});
    let (a, b) = tokio::join!(admin.post(&path, body.clone()), admin.post(&path, body.clone()));
    let mut statuses = [a.ok(200)["results"][0]["status"].clone(), b.ok(200)["results"][0]["status"].clone()];
    statuses.sort_by_key(|s| s.to_string());
    assert_eq!(statuses, [json!("added"), json!("already_member")]);
    assert_eq!(group(&admin, &org, &id).await["member_count"], 2);
    assert_eq!(user_ids(admin.get(&path).await.ok(200)), set_of(&[&pupil, &other]));
    // One email each, whatever the requests (another group's email, sent after, shows the
    // notifier has got that far).
    let photo = new_group(&admin, &org, "Фотокружок").await["id"].as_str().unwrap().to_string();
    add_to_group(&admin, &org, &photo, &[&pupil, &other]).await;
    for p in [&pupil, &other] {
        assert_eq!(group_mail(&p.email, "Фотокружок", 1).await.len(), 1);
        assert_eq!(group_mail_now(&p.email, "Туристический клуб").await.len(), 1, "{}", p.name);
    }
}

#[tokio::test]
async fn a_groups_members_are_seen_by_admins_and_its_members_only() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(8, "А")]).await;
    let inside = enrol(&admin, &org, "Участник", json!([student(&classes[0])])).await;
    let outside = enrol(&admin, &org, "Не участник", json!([student(&classes[0])])).await;
    let t = enrol(&admin, &org, "Учитель", json!([teacher("Учитель", &[&classes[0]])])).await;
    let mum = enrol(&admin, &org, "Мама участника", json!([parent(&[&classes[0]])])).await;
    let debate = new_group(&admin, &org, "Дебаты").await;
    let id = debate["id"].as_str().unwrap().to_string();
    let other = new_group(&admin, &org, "Волонтёры").await;
    let other_id = other["id"].as_str().unwrap().to_string();
    add_to_group(&admin, &org, &id, &[&inside, &mum]).await;
    add_to_group(&admin, &org, &other_id, &[&mum]).await;

    let group_members = format!("/v1/orgs/{org}/groups/{id}/members");
    let member_views = format!("/v1/orgs/{org}/members?group={id}");
    for who in [&admin, &inside, &mum] {
        assert_eq!(user_ids(who.get(&group_members).await.ok(200)), set_of(&[&inside, &mum]));
        let views = who.get(&member_views).await.ok(200).clone();
        assert_eq!(user_ids(&views), set_of(&[&inside, &mum]));
        let mut seen = names(&views);
        seen.sort();
        assert_eq!(seen, ["Мама участника", "Участник"]);
        assert!(views["items"][0]["admin"].is_boolean() && views["items"][0]["roles"].is_array(), "{views}");
    }
    for who in [&outside, &t] {
        who.get(&group_members).await.problem(403, "forbidden");
        who.get(&member_views).await.problem(403, "forbidden");
    }
    // The group itself is no secret to members.
    assert_eq!(outside.get(&format!("/v1/orgs/{org}/groups/{id}")).await.ok(200)["member_count"], 2);

    // "My groups".
    let mine = |who: &User| {
        let (who, org) = (who.clone(), org.clone());
        async move { names(who.get(&format!("/v1/orgs/{org}/groups?mine=true")).await.ok(200)) }
    };
    assert_eq!(mine(&inside).await, ["Дебаты"]);
    assert_eq!(mine(&mum).await, ["Дебаты", "Волонтёры"]);
    assert_eq!(mine(&outside).await, Vec::<String>::new());
    assert_eq!(mine(&admin).await, Vec::<String>::new(), "the admin is in no group");
    assert_eq!(names(outside.get(&format!("/v1/orgs/{org}/groups")).await.ok(200)), ["Дебаты", "Волонтёры"]);
}

#[tokio::test]
async fn people_added_to_a_group_get_one_email_in_their_language() {
    let admin = User::new("Директор Иванова");
    let (org, classes) = school(&admin, "2026/2027", &[(9, "В")]).await;
    let ru = enrol(&admin, &org, "Оля Смирнова", json!([student(&classes[0])])).await;
    let en = registered("John Smith").await;
    en.patch("/v1/me", json!({"language": "en"})).await.ok(200);
    admin
        .post(&format!("/v1/orgs/{org}/members"), json!({"user_id": en.sub, "roles": [teacher("Teacher", &[])]}))
        .await
        .ok(201);
    let choir = new_group(&admin, &org, "Хоровая студия").await;
    let choir_id = choir["id"].as_str().unwrap().to_string();
    assert_eq!(add_to_group(&admin, &org, &choir_id, &[&ru, &en]).await, ["added", "added"]);

    let to_ru = group_mail(&ru.email, "Хоровая студия", 1).await;
    assert_eq!(to_ru.len(), 1, "one email: {to_ru:?}");
    let subject = to_ru[0]["subject"].as_str().unwrap();
    assert!(subject.contains("группу") && subject.contains("Хоровая студия"), "{subject}");
    assert_eq!(to_ru[0]["to"], json!([ru.email]));
    assert!(to_ru[0]["text"].as_str().unwrap().contains("Хоровая студия"), "{}", to_ru[0]["text"]);
    assert!(to_ru[0]["html"].as_str().unwrap().contains("Хоровая студия"), "{}", to_ru[0]["html"]);
    let to_en = group_mail(&en.email, "Хоровая студия", 1).await;
    assert_eq!(to_en.len(), 1, "one email: {to_en:?}");
    let subject = to_en[0]["subject"].as_str().unwrap();
    assert!(subject.to_lowercase().contains("group") && subject.contains("Хоровая студия"), "{subject}");
    assert!(!subject.contains("групп"), "in English: {subject}");
    assert!(!to_en[0]["text"].as_str().unwrap().is_empty() && !to_en[0]["html"].as_str().unwrap().is_empty());

    // Added again: already a member, nothing sent. Another group's email, sent after,
    // shows the notifier has got that far.
    assert_eq!(add_to_group(&admin, &org, &choir_id, &[&ru]).await, ["already_member"]);
    let chess = new_group(&admin, &org, "Шахматы").await;
    add_to_group(&admin, &org, chess["id"].as_str().unwrap(), &[&ru]).await;
    assert_eq!(group_mail(&ru.email, "Шахматы", 1).await.len(), 1);
    assert_eq!(group_mail_now(&ru.email, "Хоровая студия").await.len(), 1, "still one email about the choir");
    // The person who added them gets nothing about it.
    assert!(group_mail_now(&admin.email, "Хоровая студия").await.is_empty());
}

#[tokio::test]
async fn deleting_a_group_keeps_its_people_in_the_organization() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(3, "А")]).await;
    let a = enrol(&admin, &org, "Аня", json!([student(&classes[0])])).await;
    let b = enrol(&admin, &org, "Боря", json!([student(&classes[0])])).await;
    let g = new_group(&admin, &org, "Экскурсия в музей").await;
    let id = g["id"].as_str().unwrap().to_string();
    let kept = new_group(&admin, &org, "Кружок рисования").await;
    add_to_group(&admin, &org, &id, &[&a, &b]).await;
    add_to_group(&admin, &org, kept["id"].as_str().unwrap(), &[&a]).await;
    let members_before = admin.get(&format!("/v1/orgs/{org}")).await.ok(200)["member_count"].clone();

    let r = admin.delete(&format!("/v1/orgs/{org}/groups/{id}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    admin.get(&format!("/v1/orgs/{org}/groups/{id}")).await.problem(404, "not_found");
    admin.get(&format!("/v1/orgs/{org}/groups/{id}/members")).await.problem(404, "not_found");
    admin.delete(&format!("/v1/orgs/{org}/groups/{id}")).await.problem(404, "not_found");
    assert_eq!(names(admin.get(&format!("/v1/orgs/{org}/groups")).await.ok(200)), ["Кружок рисования"]);
    assert_eq!(names(a.get(&format!("/v1/orgs/{org}/groups?mine=true")).await.ok(200)), ["Кружок рисования"]);
    assert_eq!(b.get(&format!("/v1/orgs/{org}/groups?mine=true")).await.ok(200)["items"], json!([]));
    // Everyone is still a member, with their roles.
    assert_eq!(admin.get(&format!("/v1/orgs/{org}")).await.ok(200)["member_count"], members_before);
    for p in [&a, &b] {
        let m = admin.get(&format!("/v1/orgs/{org}/members/{}", p.sub)).await.ok(200).clone();
        assert_eq!(m["roles"][0]["class_ids"], json!([classes[0]]));
    }
    assert_eq!(group(&admin, &org, kept["id"].as_str().unwrap()).await["member_count"], 1);
}

#[tokio::test]
async fn removal_and_leaving_take_people_out_of_their_groups() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(10, "А")]).await;
    let removed = enrol(&admin, &org, "Исключён", json!([student(&classes[0])])).await;
    let leaving = enrol(&admin, &org, "Уходит сам", json!([student(&classes[0])])).await;
    let stays = enrol(&admin, &org, "Остаётся", json!([parent(&[&classes[0]])])).await;
    let g = new_group(&admin, &org, "Выпускной вечер").await;
    let id = g["id"].as_str().unwrap().to_string();
    add_to_group(&admin, &org, &id, &[&removed, &leaving, &stays]).await;
    assert_eq!(group(&admin, &org, &id).await["member_count"], 3);

    assert_eq!(admin.delete(&format!("/v1/orgs/{org}/members/{}", removed.sub)).await.status, 204);
    assert_eq!(group(&admin, &org, &id).await["member_count"], 2);
    assert_eq!(leaving.post(&format!("/v1/orgs/{org}/leave"), json!({})).await.status, 204);
    assert_eq!(group(&admin, &org, &id).await["member_count"], 1);
    let list = admin.get(&format!("/v1/orgs/{org}/groups/{id}/members")).await.ok(200).clone();
    assert_eq!(user_ids(&list), set_of(&[&stays]));
    assert_eq!(user_ids(admin.get(&format!("/v1/orgs/{org}/members?group={id}")).await.ok(200)), set_of(&[&stays]));
    // Gone from the group, they cannot be taken out of it again.
    admin.delete(&format!("/v1/orgs/{org}/groups/{id}/members/{}", removed.sub)).await.problem(404, "not_found");
    // And coming back to the organization does not put them back in the group.
    admin
        .post(&format!("/v1/orgs/{org}/members"), json!({"user_id": removed.sub, "roles": [student(&classes[0])]}))
        .await
        .ok(201);
    assert_eq!(removed.get(&format!("/v1/orgs/{org}/groups?mine=true")).await.ok(200)["items"], json!([]));
    assert_eq!(group(&admin, &org, &id).await["member_count"], 1);
}

#[tokio::test]
async fn group_changes_are_in_the_audit_log() {
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(4, "Б")]).await;
    let pupil = enrol(&admin, &org, "Ученик", json!([student(&classes[0])])).await;
    let r = admin.post(&format!("/v1/orgs/{org}/groups"), json!({"name": "Шашки"})).await;
    let id = r.ok(201)["id"].as_str().unwrap().to_string();
    admin.patch(&format!("/v1/orgs/{org}/groups/{id}"), json!({"name": "Шахматы и шашки"})).await.ok(200);
    add_to_group(&admin, &org, &id, &[&pupil]).await;
    assert_eq!(admin.delete(&format!("/v1/orgs/{org}/groups/{id}/members/{}", pupil.sub)).await.status, 204);
    assert_eq!(admin.delete(&format!("/v1/orgs/{org}/groups/{id}")).await.status, 204);

    let actions = audit_actions(&admin, &org, "group").await;
    assert_eq!(
        actions,
        ["group.delete", "group.member_remove", "group.members_add", "group.update", "group.create"],
        "newest first"
    );
    let log = admin.get(&format!("/v1/orgs/{org}/audit?action=group.create")).await.ok(200).clone();
    let entries = log["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["actor"], json!({"id": admin.sub, "name": "Директор"}));
    assert_eq!(entries[0]["target"]["id"], id.as_str());
    assert_eq!(entries[0]["after"]["name"], "Шашки");
    let update = &admin.get(&format!("/v1/orgs/{org}/audit?action=group.update")).await.ok(200)["items"][0].clone();
    assert_eq!(update["before"]["name"], "Шашки");
    assert_eq!(update["after"]["name"], "Шахматы и шашки");
    let added = admin.get(&format!("/v1/orgs/{org}/audit?action=group.members_add")).await.ok(200).clone();
    assert!(added.to_string().contains(&pupil.sub), "the entry names who was added: {added}");
    // Refused changes leave nothing.
    admin.post(&format!("/v1/orgs/{org}/groups"), json!({"name": ""})).await.problem(422, "validation_failed");
    assert_eq!(audit_actions(&admin, &org, "group.create").await.len(), 1);
}

#[tokio::test]
async fn inviting_by_email_to_a_group_adds_members_at_once_and_newcomers_on_accepting() {
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(5, "А")]).await;
    let a5 = &classes[0];
    let committee = new_group(&admin, &org, "Родительский комитет").await;
    let id = committee["id"].as_str().unwrap().to_string();
    let known = joined_by_email(&admin, &org, "Мама Пети", json!([parent(&[a5])])).await;
    let newcomer = User::new("Папа Вани");
    let path = format!("/v1/orgs/{org}/invitations");

    let r = admin
        .post(&path, json!({"emails": [known.email, newcomer.email], "role": parent(&[a5]), "group_id": id}))
        .await;
    let results = r.ok(200)["results"].as_array().unwrap().clone();
    assert_eq!(results[0]["status"], "added", "{results:?}");
    assert_eq!(results[1]["status"], "invited", "{results:?}");
    let invitation = results[1]["invitation_id"].as_str().unwrap().to_string();
    // The member is in the group at once, and told so.
    assert_eq!(user_ids(admin.get(&format!("/v1/orgs/{org}/groups/{id}/members")).await.ok(200)), set_of(&[&known]));
    assert_eq!(group(&admin, &org, &id).await["member_count"], 1);
    assert_eq!(group_mail(&known.email, "Родительский комитет", 1).await.len(), 1);
    // The newcomer gets the invitation email, accepts, and is in both.
    let mail = await_mail(&newcomer.email, 1).await;
    assert!(mail[0]["text"].as_str().unwrap().contains(&format!("/invitations/{invitation}")), "{mail:?}");
    let m = newcomer.post(&format!("/v1/me/invitations/{invitation}/accept"), json!({})).await.ok(200).clone();
    assert_eq!(m["roles"][0]["role"], "parent");
    assert_eq!(newcomer.get(&format!("/v1/orgs/{org}")).await.status, 200);
    assert_eq!(
        user_ids(admin.get(&format!("/v1/orgs/{org}/groups/{id}/members")).await.ok(200)),
        set_of(&[&known, &newcomer])
    );
    assert_eq!(group(&admin, &org, &id).await["member_count"], 2);
    assert_eq!(
        names(newcomer.get(&format!("/v1/orgs/{org}/groups?mine=true")).await.ok(200)),
        ["Родительский комитет"]
    );

    // A teacher in the group invites students and parents to it; one outside it may not.
    let inside = enrol(&admin, &org, "Классный руководитель", json!([teacher("Учитель", &[a5])])).await;
    let outside = enrol(&admin, &org, "Другой учитель", json!([teacher("Учитель", &[a5])])).await;
    add_to_group(&admin, &org, &id, &[&inside]).await;
    let pupil_email = format!("pupil-{}@school.test", ulid::Ulid::new().to_string().to_lowercase());
    let r = inside.post(&path, json!({"emails": [pupil_email], "role": student(a5), "group_id": id})).await;
    assert_eq!(r.ok(200)["results"][0]["status"], "invited");
    let r = outside.post(&path, json!({"emails": ["someone@school.test"], "role": student(a5), "group_id": id})).await;
    r.problem(403, "forbidden");
    // An unknown group is a field error.
    let r = admin
        .post(
            &path,
            json!({"emails": ["x@school.test"], "role": parent(&[a5]), "group_id": "01jzzzzzzzzzzzzzzzzzzzzzzz"}),
        )
        .await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["group_id"]);
}

#[tokio::test]
async fn a_hundred_people_are_added_in_one_request_and_paged_through() {
    let admin = User::new("Админ");
    let (org, classes) = school(&admin, "2026/2027", &[(11, "А")]).await;
    let grant: kabinet::domain::RoleGrant = serde_json::from_value(student(&classes[0])).unwrap();
    // A hundred members, put in under the API (adding them one by one through it is
    // not what this test is about).
    let people: Vec<User> = futures::stream::iter(0..100)
        .map(|i| {
            let (org, grant) = (org.clone(), grant.clone());
            async move {
                let u = User::new(&format!("Ученик {i:03}"));
                add_member(&org, &u, vec![grant], false).await;
                u
            }
        })
        .buffered(8)
        .collect()
        .await;
    let g = new_group(&admin, &org, "Параллель 11").await;
    let id = g["id"].as_str().unwrap().to_string();
    let everyone: Vec<&User> = people.iter().collect();

    let statuses = add_to_group(&admin, &org, &id, &everyone).await;
    assert_eq!(statuses.len(), 100);
    assert!(statuses.iter().all(|s| s == "added"), "{statuses:?}");
    assert_eq!(group(&admin, &org, &id).await["member_count"], 100);

    let (mut seen, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let url = match &cursor {
            Some(c) => format!("/v1/orgs/{org}/groups/{id}/members?limit=30&cursor={c}"),
            None => format!("/v1/orgs/{org}/groups/{id}/members?limit=30"),
        };
        let page = admin.get(&url).await.ok(200).clone();
        let items = field_of(&page, "user_id");
        assert!(items.len() <= 30, "{} on a page of 30", items.len());
        seen.extend(items);
        pages += 1;
        assert!(pages <= 10, "the pages never end");
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 100, "every member once");
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), set_of(&everyone));
    // Everyone again: nobody twice.
    let again = add_to_group(&admin, &org, &id, &everyone).await;
    assert!(again.iter().all(|s| s == "already_member"), "{again:?}");
    assert_eq!(group(&admin, &org, &id).await["member_count"], 100);
}

#[tokio::test]
async fn no_route_puts_a_teacher_into_a_group_they_are_not_a_teacher_in() {
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(6, "А")]).await;
    let a6 = &classes[0];
    let t = enrol(&admin, &org, "Учитель", json!([teacher("Учитель истории", &[a6])])).await;
    let s = enrol(&admin, &org, "Ученица", json!([student(a6)])).await;
    let g = closed_group(&admin, &org, "Редколлегия", &s).await;
    // The teacher is a teacher in a group of their own, not in this one.
    let own = new_group(&admin, &org, "Исторический клуб").await["id"].as_str().unwrap().to_string();
    add_to_group(&admin, &org, &own, &[&t]).await;
    let o = format!("/v1/orgs/{org}");

    // Adding members to a group: admins.
    t.post(&format!("{o}/groups/{g}/members"), json!({"user_ids": [t.sub]})).await.problem(403, "forbidden");
    // Inviting by email into a group: its teachers and admins (their own address too).
    for email in [t.email.clone(), format!("t-{}@school.test", ulid::Ulid::new().to_string().to_lowercase())] {
        let r =
            t.post(&format!("{o}/invitations"), json!({"emails": [email], "role": student(a6), "group_id": g})).await;
        r.problem(403, "forbidden");
    }
    // An invitation link into the group: admins make them; a member accepting one is
    // a member already and joins nothing.
    let expires = kabinet::domain::Timestamp::now().plus(time::Duration::days(7)).to_string();
    let body = json!({"expires_at": expires, "max_uses": 5, "roles": [student(a6)], "group_id": g});
    t.post(&format!("{o}/invite-links"), body.clone()).await.problem(403, "forbidden");
    let token = admin.post(&format!("{o}/invite-links"), body).await.ok(201)["token"].as_str().unwrap().to_string();
    t.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.problem(409, "already_member");
    // A join request through that link: admins accept it.
    let newcomer = User::new("Новенький");
    let request = newcomer.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201).clone();
    let id = request["id"].as_str().unwrap();
    let etag = admin.get(&format!("{o}/join-requests/{id}")).await.header("etag").unwrap().to_string();
    let r =
        t.call(Method::POST, &format!("{o}/join-requests/{id}/accept"), Some(json!({})), &[("if-match", &etag)]).await;
    r.problem(403, "forbidden");
    assert_eq!(group(&admin, &org, &g).await["member_count"], 1);
    kept_out(&admin, &org, &g, &t).await;
    newcomer.get(&threads(&org, &g)).await.problem(404, "not_found");
}

/// Adds `people` to group or course `of` straight through the store, as `by`, by the
/// right `entry`: what the transaction itself lets through, whatever a route checked.
async fn add_under_the_api(
    org: &str,
    entry: Entry<'_>,
    of: &str,
    people: &[&User],
    by: &User,
) -> Result<Vec<(UserId, Added)>, GroupError> {
    let store = support::store().await;
    let org = OrgId::parse(org).unwrap();
    let ids: Vec<UserId> = people.iter().map(|p| UserId::parse(&p.sub).unwrap()).collect();
    let members = store.memberships(&org, &ids).await.unwrap();
    assert_eq!(members.len(), people.len(), "members all");
    let actor = Actor { id: UserId::parse(&by.sub).unwrap(), name: by.name.clone() };
    let audit = |users: &[UserId]| {
        AuditEntry::new(&org, &actor, AuditAction::GroupMembersAdd, "group", of).after(json!({ "user_ids": users }))
    };
    let event = |_: &[UserId]| None;
    let (group, course) = (GroupId::parse(of).unwrap(), CourseId::parse(of).unwrap());
    let place_in = match entry.kind() {
        PlaceKind::Group => PlaceIn::Group(&group),
        PlaceKind::Course => PlaceIn::Course(&course),
    };
    store.add_places(entry, &org, place_in, &members, &actor.id, &AddRecord { audit: &audit, event: &event }).await
}

#[tokio::test]
async fn each_transaction_that_puts_people_into_a_group_checks_the_right_itself() {
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(9, "Б")]).await;
    let a9 = &classes[0];
    let o = format!("/v1/orgs/{org}");
    let t = enrol(&admin, &org, "Учитель курса", json!([teacher("Учитель химии", &[a9])])).await;
    let other_t = enrol(&admin, &org, "Другой учитель", json!([teacher("Учитель физики", &[a9])])).await;
    let inside = enrol(&admin, &org, "Учитель в группе", json!([teacher("Учитель биологии", &[a9])])).await;
    let s = enrol(&admin, &org, "Ученица", json!([student(a9)])).await;
    let s2 = enrol(&admin, &org, "Ученик", json!([student(a9)])).await;
    let g = closed_group(&admin, &org, "Научное общество", &s).await;
    add_to_group(&admin, &org, &g, &[&inside]).await;

    // By a member's right: a teacher who is not in the group puts nobody in, themself
    // or another.
    for who in [&t, &s2] {
        let refused = add_under_the_api(&org, Entry::ByMember(None), &g, &[who], &t).await;
        assert!(matches!(refused, Err(GroupError::NotAllowed)), "{refused:?}");
    }
    // A teacher who is in it does.
    let added = add_under_the_api(&org, Entry::ByMember(None), &g, &[&s2], &inside).await.unwrap();
    assert_eq!(added, [(UserId::parse(&s2.sub).unwrap(), Added::Added)]);
    kept_out(&admin, &org, &g, &t).await;

    // From a course: only its students, into its own group, by its teachers.
    let c = admin.post(&format!("{o}/courses"), json!({"name": "Химия", "teacher_ids": [t.sub]})).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let c_id = CourseId::parse(&c).unwrap();
    admin.post(&format!("{o}/courses/{c}/students"), json!({"user_ids": [s2.sub]})).await.ok(200);
    admin.post(&format!("{o}/courses/{c}/linked-groups"), json!({"group_id": g, "students": "none"})).await.ok(200);
    let refused = add_under_the_api(&org, Entry::FromCourse(&c_id), &g, &[&t], &t).await;
    assert!(matches!(refused, Err(GroupError::NotAllowed)), "the teacher is no student of it: {refused:?}");
    let refused = add_under_the_api(&org, Entry::FromCourse(&c_id), &g, &[&s2], &other_t).await;
    assert!(matches!(refused, Err(GroupError::NotAllowed)), "not the course's teacher: {refused:?}");
    let unlinked = new_group(&admin, &org, "Без курса").await["id"].as_str().unwrap().to_string();
    let refused = add_under_the_api(&org, Entry::FromCourse(&c_id), &unlinked, &[&s2], &t).await;
    assert!(matches!(refused, Err(GroupError::NotFound)), "not the course's group: {refused:?}");
    // The course's teacher came in by the link (as the group's teacher), nobody else.
    let expected = roles_of(&[(&s, "student"), (&inside, "teacher"), (&s2, "student"), (&t, "teacher")]);
    assert_eq!(group_roles(&admin, &org, &g).await, expected);
    // As a course's teacher: only into a group linked to a course they teach.
    let refused = add_under_the_api(&org, Entry::Teaching(&c_id), &unlinked, &[&t], &t).await;
    assert!(matches!(refused, Err(GroupError::NotFound)), "not the course's group: {refused:?}");
    let added = add_under_the_api(&org, Entry::Teaching(&c_id), &g, &[&other_t], &t).await.unwrap();
    assert_eq!(added, [(UserId::parse(&other_t.sub).unwrap(), Added::NotMember)], "not a teacher of the course");
    assert_eq!(group_roles(&admin, &org, &g).await, expected);
    assert_eq!(group(&admin, &org, &unlinked).await["member_count"], 0);

    // By an invitation: one accepted that names this group, for the one who accepted.
    let outsider = enrol(&admin, &org, "Посторонний", json!([student(a9)])).await;
    let address = format!("x-{}@school.test", ulid::Ulid::new().to_string().to_lowercase());
    let r =
        admin.post(&format!("{o}/invitations"), json!({"emails": [address], "role": student(a9), "group_id": g})).await;
    let pending = r.ok(200)["results"][0]["invitation_id"].as_str().unwrap().to_string();
    let refused = add_under_the_api(
        &org,
        Entry::Invited { invitation: &InvitationId::parse(&pending).unwrap(), role: GroupRole::Student },
        &g,
        &[&outsider],
        &outsider,
    )
    .await;
    assert!(matches!(refused, Err(GroupError::NotAllowed)), "a pending invitation: {refused:?}");
    let invitee = User::new("Приглашённая");
    let r = admin
        .post(
            &format!("{o}/invitations"),
            json!({"emails": [invitee.email], "role": student(a9), "group_id": unlinked}),
        )
        .await;
    let accepted = InvitationId::parse(r.ok(200)["results"][0]["invitation_id"].as_str().unwrap()).unwrap();
    invitee.post(&format!("/v1/me/invitations/{accepted}/accept"), json!({})).await.ok(200);
    assert_eq!(user_ids(admin.get(&format!("{o}/groups/{unlinked}/members")).await.ok(200)), set_of(&[&invitee]));
    for (who, by) in [(&invitee, &invitee), (&outsider, &invitee)] {
        let refused =
            add_under_the_api(&org, Entry::Invited { invitation: &accepted, role: GroupRole::Student }, &g, &[who], by)
                .await;
        assert!(matches!(refused, Err(GroupError::NotAllowed)), "an invitation to another group: {refused:?}");
    }
    kept_out(&admin, &org, &g, &outsider).await;
    kept_out(&admin, &org, &g, &invitee).await;

    // A course takes students only, whoever enrols.
    let refused = add_under_the_api(&org, Entry::Enrol, &c, &[&other_t], &admin).await;
    assert!(matches!(&refused, Err(GroupError::NotAStudent(u)) if u.as_str() == other_t.sub), "{refused:?}");
    assert_eq!(admin.get(&format!("{o}/courses/{c}")).await.ok(200)["student_count"], 1);

    // Linking a group: a teacher of the course who is not in the group may not.
    let store = support::store().await;
    let org_id = OrgId::parse(&org).unwrap();
    let course = store.course(&org_id, &c_id).await.unwrap().unwrap();
    let other = store.group(&org_id, &GroupId::parse(&unlinked).unwrap()).await.unwrap().unwrap();
    let actor = Actor { id: UserId::parse(&t.sub).unwrap(), name: t.name.clone() };
    let audit = AuditEntry::new(&org_id, &actor, AuditAction::CourseGroupLink, "course", &c);
    let refused = store.link_group(&course, &other, &audit).await;
    assert!(matches!(refused, Err(GroupError::NotAllowed)), "{refused:?}");
    assert_eq!(group(&admin, &org, &unlinked).await["course_id"], Value::Null);
    // Making a group from a course: its teachers and admins.
    let made = Group { id: GroupId::new(), course_id: Some(c_id.clone()), ..other.clone() };
    let actor = Actor { id: UserId::parse(&other_t.sub).unwrap(), name: other_t.name.clone() };
    let audit = AuditEntry::new(&org_id, &actor, AuditAction::GroupCreate, "group", &made.id);
    let refused = store.create_group(&made, &audit).await;
    assert!(matches!(refused, Err(GroupError::NotAllowed)), "{refused:?}");
    admin.get(&format!("{o}/groups/{}", made.id)).await.problem(404, "not_found");
}

#[tokio::test]
async fn a_groups_teachers_moderate_its_posts_and_files_and_its_students_do_not() {
    let c = circle("Кружок модерации").await;
    let pupil_thread = id_of(&open_thread(&c, &c.pupil, "Лишнее", "Не по теме").await);
    let teacher_thread = id_of(&open_thread(&c, &c.teacher, "Задание", "Решить 5 задач").await);
    let pupil_file = id_of(&upload(&c, &c.pupil, "Шпаргалка.txt", content(100), "text/plain").await);
    let teacher_file = id_of(&upload(&c, &c.teacher, "Условия.pdf", content(200), "application/pdf").await);
    let a = id_of(&announce(&c, &c.teacher, "Контрольная", "В среду").await);

    // A student deletes only their own.
    c.pupil.delete(&c.path(&format!("/threads/{teacher_thread}"))).await.problem(403, "forbidden");
    c.pupil.delete(&c.path(&format!("/files/{teacher_file}"))).await.problem(403, "forbidden");
    c.pupil.delete(&c.path(&format!("/announcements/{a}"))).await.problem(403, "forbidden");

    // The group's teacher deletes anyone's, and the audit log shows it.
    let r = c.teacher.delete(&c.path(&format!("/threads/{pupil_thread}"))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(c.pupil.get(&c.path(&format!("/threads/{pupil_thread}"))).await.ok(200)["deleted"], true);
    let r = c.teacher.delete(&c.path(&format!("/files/{pupil_file}"))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    c.pupil.get(&c.path(&format!("/files/{pupil_file}"))).await.problem(404, "not_found");
    assert_eq!(audit_actions(&c.admin, &c.org, "thread.delete").await, ["thread.delete"]);
    assert_eq!(audit_actions(&c.admin, &c.org, "file.delete").await, ["file.delete"]);

    // A teacher of the organization who is not the group's teacher does not: a teacher in
    // it as a student, or one not in it at all.
    let learner = enrol(&c.admin, &c.org, "Учитель-слушатель", json!([teacher("Учитель", &[&c.class])])).await;
    let r = c.admin.post(&c.path("/members"), json!({"user_ids": [learner.sub], "group_role": "student"})).await;
    assert_eq!(r.ok(200)["results"][0]["status"], "added");
    let outside = enrol(&c.admin, &c.org, "Учитель не отсюда", json!([teacher("Учитель", &[&c.class])])).await;
    let last = id_of(&open_thread(&c, &c.pupil, "Ещё тема", "Текст").await);
    // (The group's posts are not there at all for one not in it.)
    for (who, status, code) in [(&learner, 403, "forbidden"), (&outside, 404, "not_found")] {
        who.delete(&c.path(&format!("/threads/{last}"))).await.problem(status, code);
        who.post(&c.path("/announcements"), json!({"title": "Т", "body": "Т"})).await.problem(status, code);
        who.post(&c.path("/members"), json!({"user_ids": [c.outsider.sub]})).await.problem(403, "forbidden");
    }
    assert_eq!(c.pupil.get(&c.path(&format!("/threads/{last}"))).await.ok(200)["deleted"], false);

    // Made the group's teacher (by an admin or its teacher), they do; a teacher is not
    // taken out by another teacher, nor changes their own role.
    let member = |u: &User| c.path(&format!("/members/{}", u.sub));
    let r = c.teacher.patch(&member(&learner), json!({"group_role": "teacher"})).await;
    assert_eq!(r.ok(200)["group_role"], "teacher");
    assert_eq!(r.body["user_id"], learner.sub.as_str());
    assert_eq!(learner.delete(&c.path(&format!("/threads/{last}"))).await.status, 204);
    c.teacher.delete(&member(&learner)).await.problem(403, "forbidden");
    c.teacher.patch(&c.path("/members/me"), json!({"group_role": "student"})).await.problem(403, "forbidden");
    assert_eq!(audit_actions(&c.admin, &c.org, "group.member_role").await, ["group.member_role"]);
    // Back to a student: the rights go with the role.
    c.admin.patch(&member(&learner), json!({"group_role": "student"})).await.ok(200);
    learner.post(&c.path("/announcements"), json!({"title": "Т", "body": "Т"})).await.problem(403, "forbidden");
    assert_eq!(group_roles(&c.admin, &c.org, &c.group).await[&learner.sub], "student");
}

#[tokio::test]
async fn only_a_member_holding_the_teacher_role_is_a_groups_teacher() {
    let c = circle("Кружок ролей").await;
    let members = c.path("/members");
    // Named as teachers: each must hold the teacher role; nothing is added otherwise.
    let r = c.admin.post(&members, json!({"user_ids": [c.outsider.sub], "group_role": "teacher"})).await;
    let detail = r.problem(422, "not_a_teacher").body["detail"].as_str().unwrap().to_string();
    assert!(detail.contains(&c.outsider.sub), "the problem names the person: {detail}");
    c.outsider.get(&threads(&c.org, &c.group)).await.problem(404, "not_found");
    let r = c.admin.patch(&c.path(&format!("/members/{}", c.pupil.sub)), json!({"group_role": "teacher"})).await;
    r.problem(422, "not_a_teacher");
    assert_eq!(group_roles(&c.admin, &c.org, &c.group).await[&c.pupil.sub], "student");
    // Bad input changes nothing.
    let r = c.admin.post(&members, json!({"user_ids": [c.outsider.sub], "group_role": "director"})).await;
    r.problem(422, "validation_failed");
    let r = c.admin.patch(&c.path(&format!("/members/{}", c.pupil.sub)), json!({})).await;
    r.problem(422, "validation_failed");
    let r = c.admin.patch(&c.path("/members/test-nobody"), json!({"group_role": "student"})).await;
    r.problem(404, "not_found");
    // The default: each by their roles in the organization.
    assert_eq!(add_to_group(&c.admin, &c.org, &c.group, &[&c.outsider]).await, ["added"]);
    let roles = group_roles(&c.admin, &c.org, &c.group).await;
    assert_eq!((roles[&c.teacher.sub].as_str(), roles[&c.outsider.sub].as_str()), ("teacher", "student"));
    // Someone's own notifications stay theirs alone.
    let r = c.teacher.patch(&c.path(&format!("/members/{}", c.pupil.sub)), json!({"notify": false})).await;
    r.problem(403, "forbidden");
    let mine = c.pupil.patch(&c.path("/members/me"), json!({"notify": false})).await.ok(200).clone();
    assert_eq!((mine["notify"].as_bool(), mine["group_role"].as_str()), (Some(false), Some("student")));
    assert_eq!(group(&c.admin, &c.org, &c.group).await["member_count"], Value::from(3));
}
