//! A group's teachers (R7.3, R7.5, R7.6): a course's teachers are the teachers of its
//! groups; a group's teachers add and take out its students, post announcements and
//! moderate its posts and files; its students do not.

use kabinet_tests::support;
use kabinet_tests::support::{
    add_to_group, announce, audit_actions, circle, content, enrol, group, group_mail, group_roles, id_of, open_thread,
    roles_of, school, student, teacher, threads, upload, User,
};
use serde_json::{json, Value};

use crate::courses::{enrol_in_course, new_course};

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
    let club = id_of(&support::new_group(&admin, &org, "Исторический клуб").await);
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
