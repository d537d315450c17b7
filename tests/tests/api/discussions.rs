//! Inside a group: closed discussions (threads and replies) and announcements. Who reads
//! and posts (members and admins; everyone else 404, at once for someone removed), list
//! orders and paging, plain-text bodies, validation, the edit window, deletion that keeps
//! a post's place, If-Match, the audit of an admin's deletions, the announcement email in
//! each member's language and muting it.

use aws_sdk_dynamodb::types::AttributeValue;
use kabinet_tests::support;
use kabinet_tests::support::{
    add_to_group, all_pages, announce, assert_status, audit_actions, circle, enrol, field_of, id_of, mail_to,
    open_thread, parent, registered, reply, student, teacher, User,
};
use reqwest::Method;
use serde_json::{json, Value};

/// The IDs of a list answer's items, in order.
fn ids(list: &Value) -> Vec<String> {
    field_of(list, "id")
}

/// A lower-case ULID.
#[track_caller]
fn assert_ulid(id: &str) {
    assert_eq!(id.len(), 26, "{id}");
    assert_eq!(id, id.to_lowercase(), "{id}");
    assert!(ulid::Ulid::from_string(id).is_ok(), "{id}");
}

/// An RFC 3339 time `hours` back.
fn hours_ago(hours: i64) -> AttributeValue {
    AttributeValue::S(kabinet::domain::Timestamp::now().plus(time::Duration::hours(-hours)).to_string())
}

/// The announcement emails `to` received so far.
pub async fn announcement_mail_now(to: &str) -> Vec<Value> {
    mail_to(to)
        .await
        .into_iter()
        .filter(|m| {
            let subject = m["subject"].as_str().unwrap_or("");
            subject.contains("Объявление") || subject.contains("Announcement")
        })
        .collect()
}

/// Waits (bounded, as `await_mail`) until `to` has `count` announcement emails.
pub async fn announcement_mail(to: &str, count: usize) -> Vec<Value> {
    for _ in 0..150 {
        let mail = announcement_mail_now(to).await;
        if mail.len() >= count {
            return mail;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    announcement_mail_now(to).await
}

#[tokio::test]
async fn members_and_admins_open_threads_read_them_and_reply() {
    let c = circle("Шахматный клуб").await;
    let threads = c.path("/threads");
    let r = c
        .pupil
        .post(&threads, json!({"title": "  Турнир в субботу  ", "body": "Кто участвует?\nЗапись до пятницы."}))
        .await;
    let t = r.ok(201).clone();
    let id = id_of(&t);
    assert_ulid(&id);
    assert_eq!(r.header("location"), Some(c.path(&format!("/threads/{id}")).as_str()));
    assert_eq!(t["group_id"], c.group.as_str());
    assert_eq!(t["title"], "Турнир в субботу", "the title is trimmed");
    assert_eq!(t["body"], "Кто участвует?\nЗапись до пятницы.", "line breaks kept");
    assert_eq!(t["author_id"], c.pupil.sub.as_str());
    assert_eq!(t["author_name"], "Петя Иванов");
    assert!(t["created_at"].is_string(), "{t}");
    assert_eq!(t["edited_at"], Value::Null);
    assert_eq!(t["deleted"], false);
    assert_eq!(t["deleted_at"], Value::Null);
    assert_eq!(t["reply_count"], 0);
    assert_eq!(t["last_reply_at"], Value::Null);

    // The group's members and the organization's admin (not in the group) read it.
    let path = c.path(&format!("/threads/{id}"));
    for who in [&c.pupil, &c.teacher, &c.admin] {
        let read = who.get(&path).await;
        assert_eq!(read.ok(200), &t, "{}", who.name);
        assert!(read.header("etag").is_some(), "an ETag on a thread");
        assert_eq!(ids(who.get(&threads).await.ok(200)), [id.as_str()], "{}", who.name);
    }
    c.pupil.get(&c.path("/threads/01jzzzzzzzzzzzzzzzzzzzzzzz")).await.problem(404, "not_found");

    // The admin, not in the group, replies; so does the teacher.
    let replies = c.path(&format!("/threads/{id}/replies"));
    let r1 = reply(&c, &c.admin, &id, "Я приду судить.").await;
    assert_ulid(&id_of(&r1));
    assert_eq!(r1["thread_id"], id.as_str());
    assert_eq!(r1["body"], "Я приду судить.");
    assert_eq!(r1["author_id"], c.admin.sub.as_str());
    assert_eq!(r1["author_name"], "Директор Иванова");
    assert!(r1["created_at"].is_string());
    assert_eq!(r1["edited_at"], Value::Null);
    assert_eq!(r1["deleted"], false);
    assert_eq!(r1["deleted_at"], Value::Null);
    let r2 = reply(&c, &c.teacher, &id, "Запишите и меня.").await;
    for who in [&c.pupil, &c.teacher, &c.admin] {
        let list = who.get(&replies).await.ok(200).clone();
        assert_eq!(ids(&list), [id_of(&r1), id_of(&r2)], "oldest first");
        assert_eq!(list["items"][0], r1);
        assert_eq!(list["next_cursor"], Value::Null);
    }
    let t = c.pupil.get(&path).await.ok(200).clone();
    assert_eq!(t["reply_count"], 2);
    assert_eq!(t["last_reply_at"], r2["created_at"], "the time of the last reply");

    // The admin opens a thread too; a retry with the same Idempotency-Key opens none.
    let body = json!({"title": "Расписание", "body": "Занятия по средам."});
    let key = [("idempotency-key", "thread-1")];
    let first = c.admin.call(Method::POST, &threads, Some(body.clone()), &key).await;
    let again = c.admin.call(Method::POST, &threads, Some(body), &key).await;
    assert_eq!(first.ok(201), again.ok(201));
    assert_eq!(first.header("location"), again.header("location"));
    assert_eq!(ids(c.teacher.get(&threads).await.ok(200)), [id_of(&first.body), id.clone()]);
}

#[tokio::test]
async fn other_members_and_strangers_get_404_on_every_route() {
    let c = circle("Закрытый кружок").await;
    let t = open_thread(&c, &c.pupil, "Тема", "Текст").await;
    let t = id_of(&t);
    let r = id_of(&reply(&c, &c.teacher, &t, "Ответ").await);
    let a = id_of(&announce(&c, &c.teacher, "Объявление", "Текст объявления").await);
    let title = json!({"title": "Чужая правка"});
    let text = json!({"title": "Чужая тема", "body": "Чужой текст"});
    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, c.path("/threads"), None),
        (Method::POST, c.path("/threads"), Some(text.clone())),
        (Method::GET, c.path(&format!("/threads/{t}")), None),
        (Method::PATCH, c.path(&format!("/threads/{t}")), Some(title.clone())),
        (Method::DELETE, c.path(&format!("/threads/{t}")), None),
        (Method::GET, c.path(&format!("/threads/{t}/replies")), None),
        (Method::POST, c.path(&format!("/threads/{t}/replies")), Some(json!({"body": "Чужой ответ"}))),
        (Method::PATCH, c.path(&format!("/threads/{t}/replies/{r}")), Some(json!({"body": "Чужая правка"}))),
        (Method::DELETE, c.path(&format!("/threads/{t}/replies/{r}")), None),
        (Method::GET, c.path("/announcements"), None),
        (Method::POST, c.path("/announcements"), Some(text.clone())),
        (Method::GET, c.path(&format!("/announcements/{a}")), None),
        (Method::PATCH, c.path(&format!("/announcements/{a}")), Some(title.clone())),
        (Method::DELETE, c.path(&format!("/announcements/{a}")), None),
        (Method::PATCH, c.path("/members/me"), Some(json!({"notify": false}))),
    ];
    // A teacher of the organization outside the group is no different.
    let other_teacher = enrol(&c.admin, &c.org, "Другой учитель", json!([teacher("Учитель", &[&c.class])])).await;
    for who in [&c.outsider, &other_teacher, &c.stranger] {
        for (method, path, body) in &routes {
            let r = who.call(method.clone(), path, body.clone(), &[]).await;
            assert_eq!(r.status, 404, "{} {method} {path}: {}", who.name, r.text);
            r.problem(404, "not_found");
        }
    }
    // Nothing changed.
    let thread = c.pupil.get(&c.path(&format!("/threads/{t}"))).await.ok(200).clone();
    assert_eq!((thread["title"].as_str(), thread["deleted"].as_bool()), (Some("Тема"), Some(false)));
    assert_eq!(thread["reply_count"], 1);
    assert_eq!(c.pupil.get(&c.path("/threads")).await.ok(200)["items"].as_array().unwrap().len(), 1);
    let replies = c.pupil.get(&c.path(&format!("/threads/{t}/replies"))).await.ok(200).clone();
    assert_eq!(replies["items"][0]["body"], "Ответ");
    assert_eq!(ids(c.pupil.get(&c.path("/announcements")).await.ok(200)), [a.as_str()]);
    assert_eq!(c.pupil.get(&c.path(&format!("/announcements/{a}"))).await.ok(200)["title"], "Объявление");
}

#[tokio::test]
async fn threads_list_newest_first_with_their_replies_oldest_first_paged() {
    let c = circle("Клуб чтения").await;
    let a = open_thread(&c, &c.pupil, "Первая тема", "Текст 1").await;
    let b = open_thread(&c, &c.teacher, "Вторая тема", "Текст 2").await;
    let d = open_thread(&c, &c.admin, "Третья тема", "Текст 3").await;
    let (a, b, d) = (id_of(&a), id_of(&b), id_of(&d));
    // Replies to the oldest thread do not move it.
    let r1 = reply(&c, &c.teacher, &a, "Ответ 1").await;
    let r2 = reply(&c, &c.admin, &a, "Ответ 2").await;
    let r3 = reply(&c, &c.pupil, &a, "Ответ 3").await;

    let threads = c.path("/threads");
    let list = c.pupil.get(&threads).await.ok(200).clone();
    assert_eq!(ids(&list), [d.clone(), b.clone(), a.clone()], "newest first");
    assert_eq!(list["next_cursor"], Value::Null);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items[2]["reply_count"], 3);
    assert_eq!(items[2]["last_reply_at"], r3["created_at"]);
    for i in [0, 1] {
        assert_eq!(items[i]["reply_count"], 0);
        assert_eq!(items[i]["last_reply_at"], Value::Null);
    }

    let (seen, pages) = all_pages(&c.teacher, &threads).await;
    assert_eq!(seen.iter().map(id_of).collect::<Vec<_>>(), [d, b, a.clone()], "paged, newest first");
    assert!((3..=4).contains(&pages), "{pages} pages of one");
    assert_eq!(seen[2]["reply_count"], 3);

    let replies = c.path(&format!("/threads/{a}/replies"));
    let (seen, pages) = all_pages(&c.admin, &replies).await;
    assert_eq!(seen.iter().map(id_of).collect::<Vec<_>>(), [id_of(&r1), id_of(&r2), id_of(&r3)], "oldest first");
    assert!((3..=4).contains(&pages), "{pages} pages of one");
    assert_eq!(seen.iter().map(|r| r["body"].as_str().unwrap()).collect::<Vec<_>>(), ["Ответ 1", "Ответ 2", "Ответ 3"]);

    // Announcements too: newest first, paged.
    let x = id_of(&announce(&c, &c.teacher, "Первое", "Текст").await);
    let y = id_of(&announce(&c, &c.admin, "Второе", "Текст").await);
    let announcements = c.path("/announcements");
    assert_eq!(ids(c.pupil.get(&announcements).await.ok(200)), [y.clone(), x.clone()]);
    let (seen, _) = all_pages(&c.pupil, &announcements).await;
    assert_eq!(seen.iter().map(id_of).collect::<Vec<_>>(), [y, x]);
}

#[tokio::test]
async fn a_person_removed_from_the_group_loses_access_at_once() {
    let c = circle("Волонтёры").await;
    let t = id_of(&open_thread(&c, &c.pupil, "Моя тема", "Текст").await);
    let r = id_of(&reply(&c, &c.pupil, &t, "Мой ответ").await);
    let a = id_of(&announce(&c, &c.teacher, "Сбор", "В 9:00").await);
    assert_eq!(c.pupil.get(&c.path(&format!("/threads/{t}"))).await.status, 200);

    let removed = c.admin.delete(&c.path(&format!("/members/{}", c.pupil.sub))).await;
    assert_status(&removed, 204);
    let pupil = &c.pupil;
    pupil.get(&c.path("/threads")).await.problem(404, "not_found");
    pupil.get(&c.path(&format!("/threads/{t}"))).await.problem(404, "not_found");
    pupil.patch(&c.path(&format!("/threads/{t}")), json!({"title": "Всё ещё моя"})).await.problem(404, "not_found");
    pupil.get(&c.path(&format!("/threads/{t}/replies"))).await.problem(404, "not_found");
    pupil.post(&c.path(&format!("/threads/{t}/replies")), json!({"body": "Ещё"})).await.problem(404, "not_found");
    pupil.delete(&c.path(&format!("/threads/{t}/replies/{r}"))).await.problem(404, "not_found");
    pupil.post(&c.path("/threads"), json!({"title": "Новая", "body": "Текст"})).await.problem(404, "not_found");
    pupil.get(&c.path("/announcements")).await.problem(404, "not_found");
    pupil.get(&c.path(&format!("/announcements/{a}"))).await.problem(404, "not_found");
    pupil.patch(&c.path("/members/me"), json!({"notify": false})).await.problem(404, "not_found");
    // Their posts stay, as they wrote them.
    let thread = c.teacher.get(&c.path(&format!("/threads/{t}"))).await.ok(200).clone();
    assert_eq!((thread["title"].as_str(), thread["reply_count"].as_i64()), (Some("Моя тема"), Some(1)));

    // Added again, they read again.
    assert_eq!(add_to_group(&c.admin, &c.org, &c.group, &[&c.pupil]).await, ["added"]);
    assert_eq!(ids(pupil.get(&c.path("/threads")).await.ok(200)), [t]);
}

#[tokio::test]
async fn bad_posts_are_refused_naming_the_field_and_write_nothing() {
    let c = circle("Кружок проверок").await;
    let threads = c.path("/threads");
    let long_body = "я".repeat(20_001);
    for (body, field) in [
        (json!({"title": "", "body": "Текст"}), "title"),
        (json!({"title": "   ", "body": "Текст"}), "title"),
        (json!({"title": "Первая строка\nвторая строка", "body": "Текст"}), "title"),
        (json!({"title": "я".repeat(201), "body": "Текст"}), "title"),
        (json!({"title": 7, "body": "Текст"}), "title"),
        (json!({"title": "Тема", "body": ""}), "body"),
        (json!({"title": "Тема", "body": long_body}), "body"),
        (json!({"title": "Тема", "body": null}), "body"),
    ] {
        let r = c.pupil.post(&threads, body.clone()).await;
        assert_eq!(r.problem(422, "validation_failed").error_fields(), [field], "{body}");
    }
    // Unknown fields are refused too.
    c.pupil
        .post(&threads, json!({"title": "Тема", "body": "Текст", "pinned": true}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(c.pupil.get(&threads).await.ok(200)["items"], json!([]), "refused posts wrote nothing");

    // The limits are counted in characters: 200 and 20,000 Cyrillic ones are accepted.
    let longest = open_thread(&c, &c.pupil, &"я".repeat(200), &"я".repeat(20_000)).await;
    assert_eq!(longest["title"].as_str().unwrap().chars().count(), 200);
    assert_eq!(longest["body"].as_str().unwrap().chars().count(), 20_000);
    let t = id_of(&longest);

    // Replies.
    let replies = c.path(&format!("/threads/{t}/replies"));
    for (body, field) in
        [(json!({"body": ""}), "body"), (json!({"body": "я".repeat(20_001)}), "body"), (json!({"body": false}), "body")]
    {
        let r = c.teacher.post(&replies, body.clone()).await;
        assert_eq!(r.problem(422, "validation_failed").error_fields(), [field], "{body}");
    }
    c.teacher.post(&replies, json!({"body": "Ответ", "title": "Лишнее"})).await.problem(422, "validation_failed");
    assert_eq!(c.teacher.get(&replies).await.ok(200)["items"], json!([]));
    assert_eq!(c.teacher.get(&c.path(&format!("/threads/{t}"))).await.ok(200)["reply_count"], 0);

    // Edits.
    let path = c.path(&format!("/threads/{t}"));
    for (body, field) in [
        (json!({"title": ""}), "title"),
        (json!({"title": "два\nряда"}), "title"),
        (json!({"body": ""}), "body"),
        (json!({"body": "я".repeat(20_001)}), "body"),
    ] {
        let r = c.pupil.patch(&path, body.clone()).await;
        assert_eq!(r.problem(422, "validation_failed").error_fields(), [field], "{body}");
    }
    c.pupil.patch(&path, json!({"title": "Новая", "deleted": true})).await.problem(422, "validation_failed");
    let unchanged = c.pupil.get(&path).await.ok(200).clone();
    assert_eq!(unchanged, longest, "refused edits changed nothing");
    assert_eq!(unchanged["edited_at"], Value::Null);

    // Announcements.
    let announcements = c.path("/announcements");
    for (body, field) in [
        (json!({"title": "", "body": "Текст"}), "title"),
        (json!({"title": "Тема", "body": "я".repeat(20_001)}), "body"),
    ] {
        let r = c.teacher.post(&announcements, body.clone()).await;
        assert_eq!(r.problem(422, "validation_failed").error_fields(), [field], "{body}");
    }
    c.teacher
        .post(&announcements, json!({"title": "Тема", "body": "Текст", "urgent": true}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(c.teacher.get(&announcements).await.ok(200)["items"], json!([]));
}

#[tokio::test]
async fn a_missing_title_or_body_is_named_in_the_problem_and_writes_nothing() {
    let c = circle("Кружок пропусков").await;
    let threads = c.path("/threads");
    for (body, field) in [
        (json!({"body": "Текст"}), "title"),
        (json!({"title": "Тема"}), "body"),
        (json!({"title": null, "body": "Текст"}), "title"),
    ] {
        let r = c.pupil.post(&threads, body.clone()).await;
        assert_eq!(r.problem(422, "validation_failed").error_fields(), [field], "{body}");
    }
    // Nothing at all: the problem names a missing field (which first is the server's
    // choice); two bad fields are both named.
    let r = c.pupil.post(&threads, json!({})).await;
    let fields = r.problem(422, "validation_failed").error_fields();
    assert!(!fields.is_empty() && fields.iter().all(|f| f == "title" || f == "body"), "{fields:?}");
    let r = c.pupil.post(&threads, json!({"title": "", "body": ""})).await;
    let mut fields = r.problem(422, "validation_failed").error_fields();
    fields.sort();
    assert_eq!(fields, ["body", "title"], "both named");
    let t = id_of(&open_thread(&c, &c.pupil, "Тема", "Текст").await);
    let r = c.teacher.post(&c.path(&format!("/threads/{t}/replies")), json!({})).await;
    assert_eq!(r.problem(422, "validation_failed").error_fields(), ["body"]);
    for body in [json!({"body": "Текст"}), json!({"title": "Тема"})] {
        let r = c.teacher.post(&c.path("/announcements"), body.clone()).await;
        let field = if body.get("title").is_some() { "body" } else { "title" };
        assert_eq!(r.problem(422, "validation_failed").error_fields(), [field], "{body}");
    }
    assert_eq!(ids(c.pupil.get(&threads).await.ok(200)), [t.as_str()]);
    assert_eq!(c.pupil.get(&c.path(&format!("/threads/{t}/replies"))).await.ok(200)["items"], json!([]));
    assert_eq!(c.pupil.get(&c.path("/announcements")).await.ok(200)["items"], json!([]));
}

#[tokio::test]
async fn bodies_are_plain_text_answered_exactly_as_given() {
    let c = circle("Веб-разработка").await;
    let title = "<img src=x onerror=alert(1)> & \"кавычки\"";
    let body = "<script>alert('x')</script>\n<b>жирный</b> &amp; &lt;\n\n\tотступ  и пробелы";
    let r = c.pupil.post(&c.path("/threads"), json!({"title": title, "body": body})).await;
    let t = r.ok(201).clone();
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(t["title"], title);
    assert_eq!(t["body"], body);
    assert!(r.text.contains("<script>alert('x')</script>"), "not escaped as HTML: {}", r.text);
    let id = id_of(&t);

    let read = c.teacher.get(&c.path(&format!("/threads/{id}"))).await;
    assert_eq!(read.header("content-type"), Some("application/json"));
    assert_eq!((read.ok(200)["title"].as_str(), read.body["body"].as_str()), (Some(title), Some(body)));
    let list = c.teacher.get(&c.path("/threads")).await;
    assert_eq!(list.header("content-type"), Some("application/json"));
    assert_eq!(list.ok(200)["items"][0]["body"], body);

    let rr = c.teacher.post(&c.path(&format!("/threads/{id}/replies")), json!({"body": body})).await;
    assert_eq!(rr.header("content-type"), Some("application/json"));
    assert_eq!(rr.ok(201)["body"], body);
    assert_eq!(c.pupil.get(&c.path(&format!("/threads/{id}/replies"))).await.ok(200)["items"][0]["body"], body);

    let a = c.teacher.post(&c.path("/announcements"), json!({"title": title, "body": body})).await;
    assert_eq!(a.header("content-type"), Some("application/json"));
    assert_eq!((a.ok(201)["title"].as_str(), a.body["body"].as_str()), (Some(title), Some(body)));
    let a = id_of(&a.body);
    let read = c.pupil.get(&c.path(&format!("/announcements/{a}"))).await;
    assert_eq!((read.ok(200)["title"].as_str(), read.body["body"].as_str()), (Some(title), Some(body)));
}

/// A body is the author's text as written inside, as every multi-line text of the API
/// is: white space at its two ends goes (a paste's stray blank lines), the line breaks,
/// tabs and spaces within stay.
#[tokio::test]
async fn a_body_keeps_its_inner_whitespace_and_loses_its_outer() {
    let c = circle("Кружок пробелов").await;
    let body = "\n  Стихотворение:\n\tстрока первая\n\tстрока  вторая\n\n";
    let t = open_thread(&c, &c.pupil, "Стихи", body).await;
    let kept = "Стихотворение:\n\tстрока первая\n\tстрока  вторая";
    assert_eq!(t["body"], kept);
    let r = reply(&c, &c.teacher, &id_of(&t), "  Отлично!\n").await;
    assert_eq!(r["body"], "Отлично!");
    assert_eq!(c.teacher.get(&c.path(&format!("/threads/{}", id_of(&t)))).await.ok(200)["body"], kept);
}

#[tokio::test]
async fn authors_edit_and_delete_their_own_posts_and_deleted_posts_keep_their_place() {
    let c = circle("Редакция газеты").await;
    let first = open_thread(&c, &c.pupil, "Номер к празднику", "Нужны статьи.").await;
    let t = id_of(&first);
    let path = c.path(&format!("/threads/{t}"));

    // Another member, and an admin, do not edit someone else's words; another student
    // does not delete them either (the group's teachers moderate: see below).
    c.teacher.patch(&path, json!({"body": "Чужая правка"})).await.problem(403, "forbidden");
    c.admin.patch(&path, json!({"body": "Правка директора"})).await.problem(403, "forbidden");
    assert_eq!(add_to_group(&c.admin, &c.org, &c.group, &[&c.outsider]).await, ["added"]);
    c.outsider.delete(&path).await.problem(403, "forbidden");
    assert_eq!(c.pupil.get(&path).await.ok(200)["body"], "Нужны статьи.");

    // The author does, within the window.
    let edited = c.pupil.patch(&path, json!({"body": "Нужны статьи и рисунки."})).await.ok(200).clone();
    assert_eq!(edited["body"], "Нужны статьи и рисунки.");
    assert_eq!(edited["title"], "Номер к празднику", "what is not given stays");
    assert!(edited["edited_at"].is_string(), "{edited}");
    assert_eq!(edited["created_at"], first["created_at"]);
    let edited = c.pupil.patch(&path, json!({"title": "Праздничный номер"})).await.ok(200).clone();
    assert_eq!(
        (edited["title"].as_str(), edited["body"].as_str()),
        (Some("Праздничный номер"), Some("Нужны статьи и рисунки."))
    );
    assert_eq!(c.teacher.get(&path).await.ok(200)["title"], "Праздничный номер");

    // Replies: the same rules.
    let replies = c.path(&format!("/threads/{t}/replies"));
    let r1 = reply(&c, &c.teacher, &t, "Напишу про олимпиаду.").await;
    let r2 = reply(&c, &c.pupil, &t, "Спасибо!").await;
    let r1_path = format!("{replies}/{}", id_of(&r1));
    c.pupil.patch(&r1_path, json!({"body": "Чужая правка"})).await.problem(403, "forbidden");
    c.admin.patch(&r1_path, json!({"body": "Правка директора"})).await.problem(403, "forbidden");
    c.pupil.delete(&r1_path).await.problem(403, "forbidden");
    let changed = c.teacher.patch(&r1_path, json!({"body": "Напишу про олимпиаду и турнир."})).await.ok(200).clone();
    assert_eq!(changed["body"], "Напишу про олимпиаду и турнир.");
    assert!(changed["edited_at"].is_string(), "{changed}");
    // An unknown reply, or one under another thread, is not found.
    c.teacher
        .patch(&format!("{replies}/01jzzzzzzzzzzzzzzzzzzzzzzz"), json!({"body": "x"}))
        .await
        .problem(404, "not_found");
    let other = id_of(&open_thread(&c, &c.teacher, "Другая тема", "Текст").await);
    c.teacher
        .patch(&c.path(&format!("/threads/{other}/replies/{}", id_of(&r1))), json!({"body": "x"}))
        .await
        .problem(404, "not_found");

    // The author deletes their reply: it keeps its place, emptied.
    assert_status(&c.teacher.delete(&r1_path).await, 204);
    let list = c.pupil.get(&replies).await.ok(200).clone();
    assert_eq!(ids(&list), [id_of(&r1), id_of(&r2)], "the deleted reply keeps its place");
    let gone = &list["items"][0];
    assert_eq!(gone["deleted"], true);
    assert!(gone["deleted_at"].is_string(), "{gone}");
    assert_eq!(gone["body"], "");
    assert_eq!(gone["author_id"], c.teacher.sub.as_str());
    assert_eq!(list["items"][1]["body"], "Спасибо!");
    assert_status(&c.teacher.delete(&r1_path).await, 204);
    c.teacher.patch(&r1_path, json!({"body": "Вернуть"})).await.problem(409, "post_deleted");

    // The author deletes the thread: it keeps its place, emptied; no reply is taken.
    assert_status(&c.pupil.delete(&path).await, 204);
    let read = c.teacher.get(&path).await.ok(200).clone();
    assert_eq!(read["deleted"], true);
    assert!(read["deleted_at"].is_string(), "{read}");
    assert_eq!((read["title"].as_str(), read["body"].as_str()), (Some(""), Some("")));
    let list = c.teacher.get(&c.path("/threads")).await.ok(200).clone();
    assert_eq!(ids(&list), [other.clone(), t.clone()]);
    assert_eq!(list["items"][1]["deleted"], true);
    assert_eq!(list["items"][1]["title"], "");
    assert_status(&c.pupil.delete(&path).await, 204);
    c.pupil.patch(&path, json!({"title": "Снова"})).await.problem(409, "post_deleted");
    c.teacher.post(&replies, json!({"body": "Опоздал"})).await.problem(409, "post_deleted");
    assert_eq!(c.teacher.get(&replies).await.ok(200)["items"].as_array().unwrap().len(), 2);

    // Announcements: the author edits and deletes; another teacher of the group does not
    // edit them (and deletes them only as a moderator: see the moderation test).
    let colleague = enrol(&c.admin, &c.org, "Второй учитель", json!([teacher("Учитель", &[&c.class])])).await;
    add_to_group(&c.admin, &c.org, &c.group, &[&colleague]).await;
    let a = id_of(&announce(&c, &c.teacher, "Сдача статей", "До пятницы").await);
    let a_path = c.path(&format!("/announcements/{a}"));
    colleague.patch(&a_path, json!({"body": "До понедельника"})).await.problem(403, "forbidden");
    c.admin.patch(&a_path, json!({"body": "До понедельника"})).await.problem(403, "forbidden");
    c.pupil.delete(&a_path).await.problem(403, "forbidden");
    let changed = c.teacher.patch(&a_path, json!({"body": "До субботы"})).await.ok(200).clone();
    assert_eq!((changed["title"].as_str(), changed["body"].as_str()), (Some("Сдача статей"), Some("До субботы")));
    assert!(changed["edited_at"].is_string());
    assert_status(&c.teacher.delete(&a_path).await, 204);
    let list = c.pupil.get(&c.path("/announcements")).await.ok(200).clone();
    assert_eq!(ids(&list), [a.as_str()]);
    assert_eq!((list["items"][0]["deleted"].as_bool(), list["items"][0]["title"].as_str()), (Some(true), Some("")));
    assert_eq!(list["items"][0]["body"], "");
    c.teacher.patch(&a_path, json!({"body": "Снова"})).await.problem(409, "post_deleted");
}

#[tokio::test]
async fn an_admin_deletes_anyones_post_and_the_audit_log_shows_it() {
    let c = circle("Дебаты").await;
    let t = id_of(&open_thread(&c, &c.pupil, "Спорная тема", "Текст").await);
    let r = id_of(&reply(&c, &c.teacher, &t, "Спорный ответ").await);
    let a = id_of(&announce(&c, &c.teacher, "Спорное объявление", "Текст").await);

    assert_status(&c.admin.delete(&c.path(&format!("/threads/{t}/replies/{r}"))).await, 204);
    assert_status(&c.admin.delete(&c.path(&format!("/threads/{t}"))).await, 204);
    assert_status(&c.admin.delete(&c.path(&format!("/announcements/{a}"))).await, 204);
    let thread = c.pupil.get(&c.path(&format!("/threads/{t}"))).await.ok(200).clone();
    assert_eq!((thread["deleted"].as_bool(), thread["title"].as_str()), (Some(true), Some("")));
    let replies = c.pupil.get(&c.path(&format!("/threads/{t}/replies"))).await.ok(200).clone();
    assert_eq!(
        (replies["items"][0]["deleted"].as_bool(), replies["items"][0]["body"].as_str()),
        (Some(true), Some(""))
    );
    let announcement = c.pupil.get(&c.path(&format!("/announcements/{a}"))).await.ok(200).clone();
    assert_eq!(announcement["deleted"], true);

    for (action, target) in [("thread.delete", &t), ("reply.delete", &r), ("announcement.delete", &a)] {
        assert_eq!(audit_actions(&c.admin, &c.org, action).await, [action]);
        let log = c.admin.get(&format!("/v1/orgs/{}/audit?action={action}", c.org)).await.ok(200).clone();
        let entry = &log["items"][0];
        assert_eq!(entry["actor"]["id"], c.admin.sub.as_str(), "{entry}");
        assert_eq!(entry["target"]["id"], target.as_str(), "{entry}");
    }
    // Deleting it again writes no second entry.
    assert_status(&c.admin.delete(&c.path(&format!("/threads/{t}"))).await, 204);
    assert_eq!(audit_actions(&c.admin, &c.org, "thread.delete").await, ["thread.delete"]);
}

#[tokio::test]
async fn past_the_edit_window_authors_cannot_edit_or_delete_and_admins_still_delete() {
    let c = circle("Старые новости").await;
    let t = id_of(&open_thread(&c, &c.pupil, "Давняя тема", "Давний текст").await);
    let r = id_of(&reply(&c, &c.pupil, &t, "Давний ответ").await);
    let a = id_of(&announce(&c, &c.teacher, "Давнее объявление", "Текст").await);
    let recent = id_of(&open_thread(&c, &c.pupil, "Вчерашняя тема", "Текст").await);
    let (g, pk) = (&c.group, &c.org);
    support::set_item_attr(pk, &format!("THREAD#{g}#{t}"), "created_at", hours_ago(25)).await;
    support::set_item_attr(pk, &format!("REPLY#{g}#{t}#{r}"), "created_at", hours_ago(25)).await;
    support::set_item_attr(pk, &format!("ANNOUNCE#{g}#{a}"), "created_at", hours_ago(25)).await;
    support::set_item_attr(pk, &format!("THREAD#{g}#{recent}"), "created_at", hours_ago(23)).await;

    let thread = c.path(&format!("/threads/{t}"));
    let reply_path = c.path(&format!("/threads/{t}/replies/{r}"));
    let announcement = c.path(&format!("/announcements/{a}"));
    c.pupil.patch(&thread, json!({"title": "Поздно"})).await.problem(409, "edit_window_closed");
    c.pupil.delete(&thread).await.problem(409, "edit_window_closed");
    c.pupil.patch(&reply_path, json!({"body": "Поздно"})).await.problem(409, "edit_window_closed");
    c.pupil.delete(&reply_path).await.problem(409, "edit_window_closed");
    c.teacher.patch(&announcement, json!({"title": "Поздно"})).await.problem(409, "edit_window_closed");
    let read = c.pupil.get(&thread).await.ok(200).clone();
    assert_eq!((read["title"].as_str(), read["deleted"].as_bool()), (Some("Давняя тема"), Some(false)));
    assert_eq!(read["edited_at"], Value::Null);
    let replies = c.pupil.get(&c.path(&format!("/threads/{t}/replies"))).await.ok(200).clone();
    assert_eq!(
        (replies["items"][0]["body"].as_str(), replies["items"][0]["deleted"].as_bool()),
        (Some("Давний ответ"), Some(false))
    );
    assert_eq!(c.pupil.get(&announcement).await.ok(200)["title"], "Давнее объявление");

    // Within 24 hours the author still edits and deletes.
    let recent_path = c.path(&format!("/threads/{recent}"));
    assert_eq!(c.pupil.patch(&recent_path, json!({"body": "Исправлено"})).await.ok(200)["body"], "Исправлено");
    assert_status(&c.pupil.delete(&recent_path).await, 204);

    // An admin, and a teacher of the group, delete at any time.
    assert_status(&c.admin.delete(&reply_path).await, 204);
    assert_status(&c.admin.delete(&thread).await, 204);
    assert_status(&c.teacher.delete(&announcement).await, 204);
    assert_eq!(c.pupil.get(&thread).await.ok(200)["deleted"], true);
    assert_eq!(c.pupil.get(&announcement).await.ok(200)["deleted"], true);
    let replies = c.pupil.get(&c.path(&format!("/threads/{t}/replies"))).await.ok(200).clone();
    assert_eq!(replies["items"][0]["deleted"], true);
}

#[tokio::test]
async fn an_edit_with_a_stale_if_match_is_refused() {
    let c = circle("Кружок правок").await;
    let t = id_of(&open_thread(&c, &c.pupil, "Тема", "Первый вариант").await);
    let path = c.path(&format!("/threads/{t}"));
    let read = c.pupil.get(&path).await;
    let first = read.header("etag").expect("an ETag").to_string();

    let r = c.pupil.call(Method::PATCH, &path, Some(json!({"body": "Второй вариант"})), &[("if-match", &first)]).await;
    assert_eq!(r.ok(200)["body"], "Второй вариант");
    let second = r.header("etag").expect("a new ETag").to_string();
    assert_ne!(second, first);
    // A write over what was changed since is refused and changes nothing.
    c.pupil
        .call(Method::PATCH, &path, Some(json!({"body": "Затёрто"})), &[("if-match", &first)])
        .await
        .problem(412, "precondition_failed");
    let read = c.pupil.get(&path).await;
    assert_eq!(read.ok(200)["body"], "Второй вариант");
    assert_eq!(read.header("etag"), Some(second.as_str()));
    let r = c.pupil.call(Method::PATCH, &path, Some(json!({"body": "Третий вариант"})), &[("if-match", &second)]).await;
    assert_eq!(r.ok(200)["body"], "Третий вариант");
}

#[tokio::test]
async fn teachers_in_the_group_and_admins_post_announcements_and_every_member_reads_them() {
    let c = circle("Родительский комитет").await;
    let mum = enrol(&c.admin, &c.org, "Мама Пети", json!([parent(&[&c.class])])).await;
    add_to_group(&c.admin, &c.org, &c.group, &[&mum]).await;
    let other_teacher = enrol(&c.admin, &c.org, "Учитель не из группы", json!([teacher("Учитель", &[&c.class])])).await;
    let path = c.path("/announcements");
    let body = json!({"title": "Собрание", "body": "В четверг в 18:00,\nкабинет 12."});

    let r = c.teacher.post(&path, body.clone()).await;
    let first = r.ok(201).clone();
    assert_ulid(&id_of(&first));
    assert_eq!(first["group_id"], c.group.as_str());
    assert_eq!(
        (first["title"].as_str(), first["body"].as_str()),
        (Some("Собрание"), Some("В четверг в 18:00,\nкабинет 12."))
    );
    assert_eq!(first["author_id"], c.teacher.sub.as_str());
    assert_eq!(first["author_name"], "Мария Ивановна");
    assert!(first["created_at"].is_string());
    assert_eq!(first["edited_at"], Value::Null);
    assert_eq!(first["deleted"], false);
    assert_eq!(first["deleted_at"], Value::Null);

    // A student or a parent in the group may not; someone outside it sees no group.
    c.pupil.post(&path, body.clone()).await.problem(403, "forbidden");
    mum.post(&path, body.clone()).await.problem(403, "forbidden");
    other_teacher.post(&path, body.clone()).await.problem(404, "not_found");
    c.outsider.post(&path, body.clone()).await.problem(404, "not_found");
    c.stranger.post(&path, body.clone()).await.problem(404, "not_found");
    // An admin, in the group or not, may.
    let second = announce(&c, &c.admin, "Каникулы", "С 28 октября.").await;
    assert_eq!(second["author_id"], c.admin.sub.as_str());

    for who in [&c.pupil, &mum, &c.teacher, &c.admin] {
        let list = who.get(&path).await.ok(200).clone();
        assert_eq!(ids(&list), [id_of(&second), id_of(&first)], "newest first, for {}", who.name);
        assert_eq!(list["next_cursor"], Value::Null);
        let one = who.get(&c.path(&format!("/announcements/{}", id_of(&first)))).await;
        assert_eq!(one.ok(200), &first);
    }
    c.pupil.get(&c.path("/announcements/01jzzzzzzzzzzzzzzzzzzzzzzz")).await.problem(404, "not_found");
}

#[tokio::test]
async fn an_announcement_is_mailed_to_members_in_their_language_but_not_to_its_author_or_who_muted() {
    let c = circle("Хоровая студия").await;
    let en = registered("John Smith").await;
    en.patch("/v1/me", json!({"language": "en"})).await.ok(200);
    c.admin
        .post(&format!("/v1/orgs/{}/members", c.org), json!({"user_id": en.sub, "roles": [parent(&[&c.class])]}))
        .await
        .ok(201);
    let muted = enrol(&c.admin, &c.org, "Не беспокоить", json!([student(&c.class)])).await;
    add_to_group(&c.admin, &c.org, &c.group, &[&en, &muted]).await;
    let me = c.path("/members/me");
    assert_eq!(muted.patch(&me, json!({"notify": false})).await.ok(200)["notify"], false);

    let a = announce(&c, &c.teacher, "Концерт", "Концерт в субботу в 12:00.\nПриходите с родителями.").await;
    assert_eq!(a["author_id"], c.teacher.sub.as_str());

    let ru = announcement_mail(&c.pupil.email, 1).await;
    assert_eq!(ru.len(), 1, "one email: {ru:?}");
    assert_eq!(ru[0]["to"], json!([c.pupil.email]));
    let subject = ru[0]["subject"].as_str().unwrap();
    assert!(subject.contains("Объявление") && subject.contains(&c.name), "{subject}");
    let text = ru[0]["text"].as_str().unwrap();
    assert!(text.contains("Концерт"), "the title: {text}");
    assert!(text.contains("Концерт в субботу в 12:00.") && text.contains("Приходите с родителями."), "{text}");
    assert!(text.contains("Мария Ивановна"), "the author: {text}");
    assert!(!ru[0]["html"].as_str().unwrap().is_empty());

    let to_en = announcement_mail(&en.email, 1).await;
    assert_eq!(to_en.len(), 1, "one email: {to_en:?}");
    let subject = to_en[0]["subject"].as_str().unwrap();
    assert!(subject.contains("Announcement"), "{subject}");
    assert!(!subject.contains("Объявление"), "in English: {subject}");
    let text = to_en[0]["text"].as_str().unwrap();
    assert!(text.contains("Концерт в субботу в 12:00.") && text.contains("Мария Ивановна"), "{text}");

    // The muted member turns it back on; the admin (not in the group) announces again.
    // That email reaching the muted member and the first author shows the notifier has
    // got past the first announcement, which they never got.
    assert_eq!(muted.patch(&me, json!({"notify": true})).await.ok(200)["notify"], true);
    announce(&c, &c.admin, "Второе объявление", "Репетиция отменяется.").await;
    for who in [&muted, &c.teacher] {
        let mail = announcement_mail(&who.email, 1).await;
        assert_eq!(mail.len(), 1, "{}: {mail:?}", who.name);
        assert!(mail[0]["text"].as_str().unwrap().contains("Репетиция отменяется."), "{}: {mail:?}", who.name);
    }
    assert_eq!(announcement_mail(&c.pupil.email, 2).await.len(), 2);
    assert_eq!(announcement_mail(&en.email, 2).await.len(), 2);
    // The admin is not in the group (and wrote the second): nothing. Nor anyone outside.
    assert!(announcement_mail_now(&c.admin.email).await.is_empty());
    assert!(announcement_mail_now(&c.outsider.email).await.is_empty());
    assert_eq!(announcement_mail_now(&muted.email).await.len(), 1);
    assert_eq!(announcement_mail_now(&c.teacher.email).await.len(), 1);
}

#[tokio::test]
async fn members_mute_their_own_place_only() {
    let c = circle("Футбол").await;
    let me = c.path("/members/me");
    let r = c.pupil.patch(&me, json!({"notify": false})).await;
    let place = r.ok(200).clone();
    assert_eq!(place["user_id"], c.pupil.sub.as_str());
    assert_eq!(place["name"], "Петя Иванов");
    assert_eq!(place["roles"][0]["role"], "student", "{place}");
    assert!(place["added_at"].is_string(), "{place}");
    assert_eq!(place["notify"], false);

    let members = c.admin.get(&c.path("/members")).await.ok(200).clone();
    let notify = |list: &Value, who: &User| {
        list["items"].as_array().unwrap().iter().find(|m| m["user_id"] == who.sub.as_str()).unwrap()["notify"].clone()
    };
    assert_eq!(notify(&members, &c.pupil), false);
    assert_eq!(notify(&members, &c.teacher), true);

    // By one's own ID too.
    let own = c.path(&format!("/members/{}", c.pupil.sub));
    assert_eq!(c.pupil.patch(&own, json!({"notify": true})).await.ok(200)["notify"], true);
    assert_eq!(c.pupil.patch(&own, json!({"notify": false})).await.ok(200)["notify"], false);
    // Someone else's place: refused.
    let theirs = c.path(&format!("/members/{}", c.teacher.sub));
    c.pupil.patch(&theirs, json!({"notify": false})).await.problem(403, "forbidden");
    c.pupil.patch(&me, json!({"notify": "no"})).await.problem(422, "validation_failed");
    c.pupil.patch(&me, json!({"notify": true, "roles": []})).await.problem(422, "validation_failed");
    // Not in the group (an admin included): no place to mute.
    c.admin.patch(&me, json!({"notify": false})).await.problem(404, "not_found");
    c.outsider.patch(&me, json!({"notify": false})).await.problem(404, "not_found");
    c.stranger.patch(&me, json!({"notify": false})).await.problem(404, "not_found");

    let members = c.teacher.get(&c.path("/members")).await.ok(200).clone();
    assert_eq!(notify(&members, &c.pupil), false);
    assert_eq!(notify(&members, &c.teacher), true, "unchanged by the refused attempt");
}

/// No one floods a group: its first 3 announcements of a clock hour are mailed, later
/// ones are posted (and read in the group) with `mailed: false` and no email.
#[tokio::test]
async fn a_groups_announcement_mail_is_capped_per_hour() {
    use kabinet::domain::discussions::ANNOUNCEMENT_MAILS_PER_HOUR;
    let c = circle("Родители 7А").await;
    let cap = ANNOUNCEMENT_MAILS_PER_HOUR as usize;
    // Posting across the turn of an hour would start a new one: wait it out.
    let now = kabinet::domain::Timestamp::now().unix();
    if now.rem_euclid(3600) > 3600 - 30 {
        tokio::time::sleep(std::time::Duration::from_secs((3600 - now.rem_euclid(3600) + 1) as u64)).await;
    }
    let mut posted = Vec::new();
    for i in 0..cap + 2 {
        let who = if i % 2 == 0 { &c.teacher } else { &c.admin };
        posted.push(announce(&c, who, &format!("Объявление {i}"), "Текст").await);
    }
    let mailed: Vec<bool> = posted.iter().map(|a| a["mailed"].as_bool().unwrap()).collect();
    assert_eq!(mailed, [vec![true; cap], vec![false; 2]].concat(), "{posted:#?}");
    // All of them are in the group; the pupil got the first three by email, no more.
    let (listed, _) = all_pages(&c.pupil, &c.path("/announcements")).await;
    assert_eq!(listed.len(), cap + 2);
    assert_eq!(announcement_mail(&c.pupil.email, cap).await.len(), cap);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(announcement_mail_now(&c.pupil.email).await.len(), cap, "no more than the hour's");
    let read = c.pupil.get(&c.path(&format!("/announcements/{}", id_of(&posted[cap])))).await.ok(200).clone();
    assert_eq!(read["mailed"], false, "{read:#}");
}
