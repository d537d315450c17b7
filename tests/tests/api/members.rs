//! Members: direct add with several roles, list, read, role change, removal, leaving.

use kabinet_tests::support;
use kabinet_tests::support::{enrol, parent, registered, school, student, teacher, urlencode, User};
use serde_json::json;

#[tokio::test]
async fn an_admin_adds_a_registered_person_with_several_roles_at_once() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2026/2027", &[(3, "А")]).await;
    let anna = registered("Анна Сергеевна").await;
    let r = admin
        .post(&format!("/v1/orgs/{org}/members"), json!({"user_id": anna.sub, "roles": [teacher("Учитель начальных классов", &[&ids[0]]), parent(&[&ids[0]])]}))
        .await;
    let m = r.ok(201).clone();
    assert_eq!(r.header("location"), Some(format!("/v1/orgs/{org}/members/{}", anna.sub).as_str()));
    assert_eq!(m["name"], "Анна Сергеевна");
    assert_eq!(m["email"], serde_json::Value::Null, "added by ID, she gave this school no address");
    assert_eq!(m["admin"], false);
    assert_eq!(m["source"], "manual");
    assert_eq!(m["roles"].as_array().unwrap().len(), 2);
    // She sees the organization now, with both roles.
    let mine = anna.get("/v1/me/orgs").await.ok(200).clone();
    assert_eq!(mine["items"][0]["org"]["id"], org.as_str());
    assert_eq!(mine["items"][0]["roles"].as_array().unwrap().len(), 2);
    // By email: an invitation, which a registered person accepts.
    let boris = registered("Борис").await;
    let r = admin
        .post(
            &format!("/v1/orgs/{org}/members"),
            json!({"email": boris.email.to_uppercase(), "roles": [{"role": "staff", "position": "Секретарь"}]}),
        )
        .await;
    assert_eq!(r.ok(202)["status"], "invited");
    let invitation = r.body["invitation_id"].as_str().unwrap().to_string();
    assert_eq!(boris.get("/v1/me/invitations").await.ok(200)["items"][0]["id"], invitation.as_str());
    boris.post(&format!("/v1/me/invitations/{invitation}/accept"), json!({})).await.ok(200);
    assert_eq!(admin.get(&format!("/v1/orgs/{org}")).await.body["member_count"], 3);
    let b = admin.get(&format!("/v1/orgs/{org}/members/{}", boris.sub)).await.ok(200).clone();
    assert_eq!(b["email"], boris.email.as_str(), "he joined with this address");
}

#[tokio::test]
async fn adding_refuses_unknown_people_duplicates_and_bad_roles() {
    let admin = User::new("Admin");
    let org = admin.create_org("Без классов").await;
    let path = format!("/v1/orgs/{org}/members");
    let p = registered("Person").await;
    // No classes yet: students and parents need them.
    let r = admin.post(&path, json!({"user_id": p.sub, "roles": [student("x")]})).await;
    r.problem(409, "classes_required");
    assert!(r.body["detail"].as_str().unwrap().contains("create"));
    let r = admin.post(&path, json!({"user_id": "nobody-here", "roles": [teacher("Учитель", &[])]})).await;
    r.problem(404, "user_not_found");
    let unverified = User::with("Unverified", false);
    unverified.get("/v1/me").await.ok(200);
    let r = admin.post(&path, json!({"email": unverified.email, "roles": [teacher("Учитель", &[])]})).await;
    assert_eq!(r.ok(202)["status"], "invited", "by email: always an invitation");
    let r = admin
        .post(&path, json!({"user_id": p.sub, "roles": [{"role": "teacher"}, {"role": "staff", "position": "  "}]}))
        .await;
    r.problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["roles[0].position", "roles[1].position"]);
    admin.post(&path, json!({"user_id": p.sub, "roles": []})).await.problem(422, "validation_failed");
    admin
        .post(&path, json!({"user_id": p.sub, "email": p.email, "roles": [teacher("У", &[])]}))
        .await
        .problem(422, "validation_failed");
    admin
        .post(&path, json!({"user_id": p.sub, "roles": [{"role": "director", "position": "x"}]}))
        .await
        .problem(422, "validation_failed");
    let c = admin.post(&format!("/v1/orgs/{org}/classes"), json!({"grade": 1, "letter": "А"})).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = admin.post(&path, json!({"user_id": p.sub, "roles": [student("01jzzzzzzzzzzzzzzzzzzzzzzz")]})).await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["roles[0].class_ids"]);
    admin.post(&path, json!({"user_id": p.sub, "roles": [student(&c)]})).await.ok(201);
    admin.post(&path, json!({"user_id": p.sub, "roles": [student(&c)]})).await.problem(409, "already_member");
    assert_eq!(admin.get(&format!("/v1/orgs/{org}")).await.body["member_count"], 2);
    // Only admins add.
    p.post(&path, json!({"user_id": admin.sub, "roles": [teacher("У", &[])]})).await.problem(403, "forbidden");
}

#[tokio::test]
async fn listing_members_by_role_and_class_with_the_right_to_see_them() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2026/2027", &[(7, "А"), (7, "Б")]).await;
    let t = enrol(&admin, &org, "Учитель 7А", json!([teacher("Учитель", &[&ids[0]])])).await;
    let s1 = enrol(&admin, &org, "Вася", json!([student(&ids[0])])).await;
    enrol(&admin, &org, "Галя", json!([student(&ids[0])])).await;
    enrol(&admin, &org, "Петя", json!([student(&ids[1])])).await;
    let path = format!("/v1/orgs/{org}/members");
    let all = admin.get(&format!("{path}?limit=200")).await.ok(200).clone();
    assert_eq!(all["items"].as_array().unwrap().len(), 5);
    let students = admin.get(&format!("{path}?role=student")).await.ok(200).clone();
    assert_eq!(students["items"].as_array().unwrap().len(), 3);
    admin.get(&format!("{path}?role=director")).await.problem(422, "validation_failed");
    let class = admin.get(&format!("{path}?class={}&role=student", ids[0])).await.ok(200).clone();
    let names: Vec<&str> = class["items"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Вася", "Галя"]);
    // Paging the whole list.
    let page = admin.get(&format!("{path}?limit=2")).await.ok(200).clone();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert!(page["next_cursor"].is_string());
    // A teacher lists the class they teach, not others nor everyone.
    assert_eq!(t.get(&format!("{path}?class={}", ids[0])).await.ok(200)["items"].as_array().unwrap().len(), 3);
    t.get(&format!("{path}?class={}", ids[1])).await.problem(403, "forbidden");
    t.get(&path).await.problem(403, "forbidden");
    s1.get(&path).await.problem(403, "forbidden");
    // Reading one member: themselves, their teacher, admins.
    assert_eq!(s1.get(&format!("{path}/{}", s1.sub)).await.ok(200)["name"], "Вася");
    assert_eq!(t.get(&format!("{path}/{}", s1.sub)).await.ok(200)["name"], "Вася");
    s1.get(&format!("{path}/{}", t.sub)).await.problem(403, "forbidden");
    admin.get(&format!("{path}/nobody")).await.problem(404, "not_found");
}

#[tokio::test]
async fn changing_roles_moves_class_places() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2026/2027", &[(9, "А"), (9, "Б")]).await;
    let s = enrol(&admin, &org, "Переводится", json!([student(&ids[0])])).await;
    let path = format!("/v1/orgs/{org}/members/{}", s.sub);
    let r = admin.patch(&path, json!({"roles": [student(&ids[1])]})).await;
    assert_eq!(r.ok(200)["roles"][0]["class_ids"], json!([ids[1]]));
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/classes/{}", ids[0])).await.body["students"], json!([]));
    assert_eq!(
        admin.get(&format!("/v1/orgs/{org}/classes/{}", ids[1])).await.body["students"][0]["name"],
        "Переводится"
    );
    let r = admin.patch(&path, json!({"roles": [student(&ids[1]), student(&ids[0])]})).await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["roles[1].role"]);
    s.patch(&path, json!({"roles": [teacher("Я учитель", &[])]})).await.problem(403, "forbidden");
    // An admin keeps a teacher or staff role.
    let t = enrol(&admin, &org, "Завуч", json!([teacher("Завуч", &[])])).await;
    admin.call(reqwest::Method::PUT, &format!("/v1/orgs/{org}/admins/{}", t.sub), None, &[]).await.ok(200);
    admin
        .patch(&format!("/v1/orgs/{org}/members/{}", t.sub), json!({"roles": [parent(&[&ids[0]])]}))
        .await
        .problem(422, "admin_role_required");
}

#[tokio::test]
async fn removal_takes_membership_class_places_and_admin_flag_together() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2026/2027", &[(6, "А")]).await;
    let t = enrol(&admin, &org, "Учитель-админ", json!([teacher("Учитель", &[&ids[0]])])).await;
    admin.call(reqwest::Method::PUT, &format!("/v1/orgs/{org}/admins/{}", t.sub), None, &[]).await.ok(200);
    let r = admin.delete(&format!("/v1/orgs/{org}/members/{}", t.sub)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    t.get(&format!("/v1/orgs/{org}")).await.problem(404, "not_found");
    let org_now = admin.get(&format!("/v1/orgs/{org}")).await.body.clone();
    assert_eq!(org_now["member_count"], 1);
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/classes/{}", ids[0])).await.body["teachers"], json!([]));
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/admins")).await.body["items"].as_array().unwrap().len(), 1);
    admin.delete(&format!("/v1/orgs/{org}/members/{}", t.sub)).await.problem(404, "not_found");
    // The last admin cannot remove themselves.
    admin.delete(&format!("/v1/orgs/{org}/members/{}", admin.sub)).await.problem(409, "last_admin");
    // The class itself is untouched.
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/classes/{}", ids[0])).await.body["name"], "6А");
}

#[tokio::test]
async fn leaving_gives_up_class_places() {
    let admin = User::new("Admin");
    let (org, ids) = school(&admin, "2026/2027", &[(2, "В")]).await;
    let s = enrol(&admin, &org, "Уходит", json!([student(&ids[0])])).await;
    assert_eq!(s.post(&format!("/v1/orgs/{org}/leave"), json!({})).await.status, 204);
    assert_eq!(admin.get(&format!("/v1/orgs/{org}/classes/{}", ids[0])).await.body["students"], json!([]));
    let audit = admin.get(&format!("/v1/orgs/{org}/audit?action=member.leave")).await.ok(200).clone();
    assert_eq!(audit["items"][0]["actor"]["id"], s.sub.as_str());
}

#[tokio::test]
async fn activity_is_recorded_once_a_day() {
    let admin = User::new("Admin");
    let org = admin.create_org("Школа").await;
    let t = enrol(&admin, &org, "Активный", json!([teacher("Учитель", &[])])).await;
    let before = admin.get(&format!("/v1/orgs/{org}/members/{}", t.sub)).await.body["last_active_at"].clone();
    assert!(before.is_null());
    t.get(&format!("/v1/orgs/{org}")).await.ok(200);
    let first = admin.get(&format!("/v1/orgs/{org}/members/{}", t.sub)).await.body["last_active_at"].clone();
    assert!(first.is_string());
    t.get(&format!("/v1/orgs/{org}")).await.ok(200);
    let second = admin.get(&format!("/v1/orgs/{org}/members/{}", t.sub)).await.body["last_active_at"].clone();
    assert_eq!(first, second, "a second request the same day writes nothing");
}

/// A search of the organization's members as `user` makes it (`extra`: more of the query).
async fn search(user: &User, org: &str, q: &str, extra: &str) -> support::Resp {
    let q = urlencode(q);
    user.get(&format!("/v1/orgs/{org}/members?q={q}{extra}")).await
}

/// The names a search found, in order.
async fn found(user: &User, org: &str, q: &str, extra: &str) -> Vec<String> {
    support::names(search(user, org, q, extra).await.ok(200))
}

#[tokio::test]
async fn finding_members_by_a_word_prefix_in_any_case_with_yo_as_ye() {
    let admin = User::new("Админ Школы");
    let org = admin.create_org("Школа").await;
    enrol(&admin, &org, "Алёна Петрова-Водкина", json!([teacher("Учитель", &[])])).await;
    enrol(&admin, &org, "Пётр Семёнов", json!([teacher("Учитель", &[])])).await;
    enrol(&admin, &org, "Борис Семенов", json!([{"role": "staff", "position": "Завхоз"}])).await;
    enrol(&admin, &org, "Анна Андреевна Иванова", json!([{"role": "staff", "position": "Секретарь"}])).await;
    // A word's start in any case, the parts of a hyphenated name too.
    assert_eq!(found(&admin, &org, "ПЕТР", "").await, ["Пётр Семёнов", "Алёна Петрова-Водкина"]);
    assert_eq!(found(&admin, &org, "водк", "").await, ["Алёна Петрова-Водкина"]);
    assert_eq!(found(&admin, &org, "петрова-в", "").await, ["Алёна Петрова-Водкина"]);
    assert!(found(&admin, &org, "етр", "").await.is_empty(), "the start of a word, not its middle");
    // ё and е alike, both ways.
    assert_eq!(found(&admin, &org, "ален", "").await, ["Алёна Петрова-Водкина"]);
    let mut semenovs = found(&admin, &org, "семен", "").await;
    semenovs.sort();
    assert_eq!(semenovs, ["Борис Семенов", "Пётр Семёнов"]);
    assert_eq!(found(&admin, &org, "Семён", "").await.len(), 2);
    // Met at two words, listed once.
    assert_eq!(found(&admin, &org, "ан", "").await, ["Анна Андреевна Иванова"]);
    // Several words: each starts one of the person's.
    assert_eq!(found(&admin, &org, "анна ив", "").await, ["Анна Андреевна Иванова"]);
    assert!(found(&admin, &org, "анна сем", "").await.is_empty());
    // With the role.
    assert_eq!(found(&admin, &org, "семен", "&role=teacher").await, ["Пётр Семёнов"]);
    assert_eq!(found(&admin, &org, "семен", "&role=staff").await, ["Борис Семенов"]);
    // Bad queries: a clear 422 naming q, and nothing else changes.
    let r = search(&admin, &org, &"я".repeat(101), "").await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["q"]);
    assert!(r.body["errors"][0]["message"].as_str().unwrap().contains("100"));
    assert_eq!(search(&admin, &org, &"я".repeat(100), "").await.status, 200);
    assert_eq!(search(&admin, &org, "   ", "").await.problem(422, "validation_failed").error_fields(), ["q"]);
    search(&admin, &org, "петр", "&role=director").await.problem(422, "validation_failed");
    let g = support::new_group(&admin, &org, "Кружок").await["id"].as_str().unwrap().to_string();
    let r = search(&admin, &org, "петр", &format!("&group={g}")).await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["q"]);
}

#[tokio::test]
async fn admins_find_people_by_email_teachers_by_name_for_their_group() {
    let admin = User::new("Админ");
    let (org, ids) = school(&admin, "2026/2027", &[(5, "А")]).await;
    let t = enrol(&admin, &org, "Учитель Группы", json!([teacher("Учитель", &[&ids[0]])])).await;
    let other = enrol(&admin, &org, "Другой Учитель", json!([teacher("Учитель", &[])])).await;
    let mail = format!("kovaleva.{}@school.test", ulid::Ulid::new().to_string().to_lowercase());
    let zoya = User::with_email("Зоя Ковалёва", &mail, true);
    zoya.get("/v1/me").await.ok(200);
    let r = admin.post(&format!("/v1/orgs/{org}/members"), json!({"email": mail, "roles": [student(&ids[0])]})).await;
    let invitation = r.ok(202)["invitation_id"].as_str().unwrap().to_string();
    zoya.post(&format!("/v1/me/invitations/{invitation}/accept"), json!({})).await.ok(200);
    let ivan = enrol(&admin, &org, "Иван Ковалёв", json!([student(&ids[0])])).await;
    let g = support::new_group(&admin, &org, "Кружок").await["id"].as_str().unwrap().to_string();
    support::add_to_group(&admin, &org, &g, &[&t]).await;
    // Admins: by the start of an email too, and they see it.
    let r = search(&admin, &org, "KOVALEVA.", "").await;
    assert_eq!(support::names(r.ok(200)), ["Зоя Ковалёва"]);
    assert_eq!(r.body["items"][0]["email"], mail.as_str());
    assert_eq!(found(&admin, &org, "ковал", "").await.len(), 2);
    // A teacher in the group looks for people to add: by name only, no addresses.
    let not_in = format!("&not_in_group={g}");
    assert!(found(&t, &org, "kovaleva.", &not_in).await.is_empty(), "teachers do not search addresses");
    let r = search(&t, &org, "ковал", &not_in).await;
    assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), 2);
    assert!(r.body["items"].as_array().unwrap().iter().all(|m| m["email"].is_null()));
    // Who is in the group is left out.
    support::add_to_group(&admin, &org, &g, &[&zoya]).await;
    assert_eq!(found(&t, &org, "ковал", &not_in).await, ["Иван Ковалёв"]);
    assert_eq!(found(&admin, &org, "ковал", &format!("{not_in}&role=student")).await, ["Иван Ковалёв"]);
    assert!(found(&admin, &org, "ковал", &format!("{not_in}&role=teacher")).await.is_empty());
    // Without q as well (the add dialog's empty box).
    let all = admin.get(&format!("/v1/orgs/{org}/members?not_in_group={g}&limit=200")).await.ok(200).clone();
    let listed = support::user_ids(&all);
    assert!(listed.contains(&ivan.sub) && !listed.contains(&zoya.sub) && !listed.contains(&t.sub));
    // A teacher of the class searches it, as they list it.
    assert_eq!(found(&t, &org, "иван", &format!("&class={}", ids[0])).await, ["Иван Ковалёв"]);
    // Refused: a teacher not in the group, a search of everyone, an unknown group.
    search(&other, &org, "ковал", &not_in).await.problem(403, "forbidden");
    other.get(&format!("/v1/orgs/{org}/members?not_in_group={g}")).await.problem(403, "forbidden");
    search(&t, &org, "ковал", "").await.problem(403, "forbidden");
    search(&other, &org, "ковал", &format!("&class={}", ids[0])).await.problem(403, "forbidden");
    search(&zoya, &org, "ковал", &not_in).await.problem(403, "forbidden");
    search(&admin, &org, "ковал", "&not_in_group=01jzzzzzzzzzzzzzzzzzzzzzzz").await.problem(404, "not_found");
    search(&admin, &org, "ковал", "&not_in_group=nope").await.problem(404, "not_found");
}

#[tokio::test]
async fn paging_through_a_search_lists_everyone_once() {
    let admin = User::new("Админ");
    let org = admin.create_org("Школа").await;
    let mut expected = std::collections::HashSet::new();
    // Each met at one, two or three words starting with "ан".
    let names = ["Анна", "Анна Андреевна", "Андрей Анатольевич Антонов", "Ангелина Павлова", "Пётр Андреев"];
    for i in 0..15 {
        let u = User::new(&format!("{} {i}", names[i % names.len()]));
        u.get("/v1/me").await.ok(200);
        support::add_member(&org, &u, vec![kabinet::domain::RoleGrant::staff("Сотрудник")], false).await;
        expected.insert(u.sub.clone());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let extra = match &cursor {
            Some(c) => format!("&limit=4&cursor={c}"),
            None => "&limit=4".to_string(),
        };
        let page = search(&admin, &org, "ан", &extra).await.ok(200).clone();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 4);
        seen.extend(items.iter().map(|m| m["user_id"].as_str().unwrap().to_string()));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 10, "the search ends");
    }
    assert_eq!(seen.len(), expected.len(), "each person once: {seen:?}");
    assert_eq!(seen.into_iter().collect::<std::collections::HashSet<_>>(), expected);
    // A cursor of another list (or another query) is the usual error.
    let list = admin.get(&format!("/v1/orgs/{org}/members?limit=1")).await.ok(200).clone();
    let other = list["next_cursor"].as_str().unwrap();
    search(&admin, &org, "ан", &format!("&cursor={other}")).await.problem(400, "invalid_cursor");
    search(&admin, &org, "ан", "&cursor=garbage").await.problem(400, "invalid_cursor");
    let first = search(&admin, &org, "анд", "&limit=1").await.ok(200).clone();
    let c = first["next_cursor"].as_str().unwrap();
    search(&admin, &org, "пет", &format!("&cursor={c}")).await.problem(400, "invalid_cursor");
}

#[tokio::test]
async fn a_renamed_member_is_found_by_the_new_name_and_a_removed_one_not_at_all() {
    let admin = User::new("Админ");
    let org = admin.create_org("Школа").await;
    let olga = enrol(&admin, &org, "Ольга Старова", json!([teacher("Учитель", &[])])).await;
    let other = admin.create_org("Другая школа").await;
    admin
        .post(&format!("/v1/orgs/{other}/members"), json!({"user_id": olga.sub, "roles": [teacher("Учитель", &[])]}))
        .await
        .ok(201);
    assert_eq!(found(&admin, &org, "стар", "").await, ["Ольга Старова"]);
    // She changes her name: every school of hers shows and finds the new one.
    olga.patch("/v1/me", json!({"name": "Ольга Новикова-Старкова"})).await.ok(200);
    for o in [&org, &other] {
        assert!(found(&admin, o, "старов", "").await.is_empty(), "not by the old name");
        assert_eq!(found(&admin, o, "новик", "").await, ["Ольга Новикова-Старкова"]);
        assert_eq!(found(&admin, o, "старк", "").await, ["Ольга Новикова-Старкова"]);
    }
    // Removed (and one who left): not found, and no search item of theirs is left.
    admin.delete(&format!("/v1/orgs/{org}/members/{}", olga.sub)).await;
    assert!(found(&admin, &org, "новик", "").await.is_empty());
    olga.post(&format!("/v1/orgs/{other}/leave"), json!({})).await;
    assert!(found(&admin, &other, "ольга", "").await.is_empty());
    for o in [&org, &other] {
        let items = support::dynamodb()
            .await
            .query()
            .table_name(&support::env().await.config.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :sk)")
            .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("ORG#{o}")))
            .expression_attribute_values(":sk", aws_sdk_dynamodb::types::AttributeValue::S("MSEARCH#".into()))
            .send()
            .await
            .unwrap()
            .items
            .unwrap_or_default();
        let keys: Vec<String> = items.iter().map(|i| i["sk"].as_s().unwrap().clone()).collect();
        assert!(keys.iter().all(|k| !k.contains(&olga.sub)), "{keys:?}");
        assert!(!keys.is_empty(), "the admin's own are there: {keys:?}");
    }
}
