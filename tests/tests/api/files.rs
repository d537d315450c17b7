//! Files shared inside a group: a real upload and download through presigned URLs against
//! the emulator (a Cyrillic name kept through `Content-Disposition`), what the URLs bind
//! (15 minutes, the length and the type, no name in the key), the size cap, complete
//! checking the object, only ready files listed, deletion with the object, the storage
//! total and the quota, which uploads count against from their start (their bytes
//! reserved until completed, deleted or expired), at most 20 uploads under way a person,
//! who sees what, and abandoned uploads expiring.

use aws_sdk_dynamodb::types::AttributeValue;
use kabinet_tests::support;
use kabinet_tests::support::{
    assert_status, circle, client, content, field_of, id_of, maybe_item, now, percent_decode, put, query, start_upload,
    unix, upload, User,
};
use reqwest::Method;
use serde_json::{json, Value};

/// The quota of ready files per organization: 10 GiB.
const QUOTA: i64 = 10 * 1024 * 1024 * 1024;

/// Writes `body` straight to the object a presigned URL names (path-style: the bucket,
/// then the key), outside any function and without its signed headers.
async fn put_object_at(presigned: &str, body: Vec<u8>) {
    let path = path_of(presigned);
    let (bucket, key) = path.trim_start_matches('/').split_once('/').expect("bucket/key");
    let aws = kabinet_local::emulator::sdk_config(&support::env().await.endpoint).await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&aws).force_path_style(true).build());
    s3.put_object().bucket(bucket).key(key).body(body.into()).send().await.expect("a direct PUT");
}

/// The GET of a URL outside the API (the emulator's S3).
async fn fetch(url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let resp = client().get(url).send().await.expect("GET from the emulator");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap_or_default().to_vec())
}

/// The URL of a presigned URL's object without the signature. The emulator does not
/// check signatures: unsigned, an object that is there answers 403 (it is private) and
/// one that is not 404.
fn key_url(presigned: &str) -> String {
    let mut url = reqwest::Url::parse(presigned).expect("a URL");
    url.set_query(None);
    url.to_string()
}

/// The object behind a download URL is gone: the URL no longer serves it, and the key
/// itself answers 404. (The old presigned URL answers 403 from the emulator rather than
/// 404: for a missing key moto compares the URL's `response-content-disposition` with
/// the request's headers and answers SignatureDoesNotMatch; S3 answers 403 too for a
/// missing key to those who may not list the bucket.)
async fn assert_object_gone(download: &str) {
    let (status, _, body) = fetch(download).await;
    assert!(
        matches!(status, 403 | 404),
        "the old download URL still serves: {status} {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(fetch(&key_url(download)).await.0, 404, "the object is gone");
}

/// A URL's path, percent-decoded.
fn path_of(url: &str) -> String {
    percent_decode(reqwest::Url::parse(url).expect("a URL").path())
}

/// The organization's ready files as stored: their bytes (what `storage_bytes` counts
/// beyond the uploads' `reserved_bytes`) and `file_count` (0 when absent).
async fn storage(org: &str) -> (i64, i64) {
    let (stored, _, count) = counters(org).await;
    (stored, count)
}

/// The organization's counters as stored: the ready files' bytes, the bytes uploads under
/// way reserve, and the ready files.
async fn counters(org: &str) -> (i64, i64, i64) {
    let item = support::item(&format!("ORG#{org}"), "PROFILE").await;
    let n = |k: &str| item.get(k).map(|v| v.as_n().expect("a number").parse::<i64>().unwrap()).unwrap_or(0);
    (n("storage_bytes") - n("reserved_bytes"), n("reserved_bytes"), n("file_count"))
}

/// How many uploads `who` has under way in the organization, as stored.
async fn open_uploads(org: &str, who: &User) -> i64 {
    let item = maybe_item(&format!("ORG#{org}"), &format!("UPLOADS#{}", who.sub)).await.unwrap_or_default();
    item.get("open_uploads").map(|v| v.as_n().unwrap().parse().unwrap()).unwrap_or(0)
}

#[tokio::test]
async fn a_file_with_a_cyrillic_name_goes_up_and_comes_down_through_presigned_urls() {
    let c = circle("Методическое объединение").await;
    let name = "Расписание 7А.pdf";
    let bytes = content(3000);
    let (file, upload) = start_upload(&c, &c.teacher, name, bytes.len(), "application/pdf").await;
    let id = id_of(&file);
    assert_eq!(id.len(), 26, "{id}");
    assert_eq!(file["group_id"], c.group.as_str());
    assert_eq!(file["name"], name);
    assert_eq!(file["size"], 3000);
    assert_eq!(file["content_type"], "application/pdf");
    assert_eq!(file["uploaded_by"], c.teacher.sub.as_str());
    assert_eq!(file["uploaded_by_name"], "Мария Ивановна");
    assert!(file["created_at"].is_string(), "{file}");
    assert_eq!(file["status"], "uploading");

    // The upload URL: PUT, 15 minutes, bound to the length and the type, no name in it.
    assert_eq!(upload["method"], "PUT");
    let url = upload["url"].as_str().unwrap();
    assert!(url.starts_with(&support::env().await.endpoint), "{url}");
    let q = query(url);
    assert_eq!(q.get("X-Amz-Expires").map(String::as_str), Some("900"), "{url}");
    let signed: Vec<&str> = q.get("X-Amz-SignedHeaders").expect("signed headers").split(';').collect();
    assert!(signed.contains(&"content-length") && signed.contains(&"content-type"), "{signed:?}");
    let path = path_of(url);
    assert!(!path.contains("Расписание") && !path.contains(name), "the key holds no name: {path}");
    let (_, plain) = start_upload(&c, &c.teacher, "report-final.pdf", 10, "application/pdf").await;
    let plain = path_of(plain["url"].as_str().unwrap());
    assert!(!plain.contains("report-final"), "the key holds no name: {plain}");
    let headers = upload["headers"].as_object().unwrap();
    let ct = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.clone());
    assert_eq!(ct, Some(json!("application/pdf")), "{upload}");
    let expires = unix(&upload["expires_at"]) - now();
    assert!((840..=960).contains(&expires), "expires in {expires} s");

    // Not listed, not readable before it is complete.
    let files = c.path("/files");
    assert_eq!(c.pupil.get(&files).await.ok(200)["items"], json!([]));
    c.teacher.get(&c.path(&format!("/files/{id}"))).await.problem(404, "not_found");

    assert_eq!(put(&upload, bytes.clone(), &[]).await, 200);
    assert_eq!(storage(&c.org).await, (0, 0), "nothing counted before it is complete");
    let r = c.teacher.post(&c.path(&format!("/files/{id}/complete")), json!({})).await;
    let ready = r.ok(200).clone();
    assert_eq!(ready["status"], "ready");
    assert_eq!((ready["id"].as_str(), ready["name"].as_str()), (Some(id.as_str()), Some(name)));
    assert_eq!(ready["size"], 3000);
    assert_eq!(storage(&c.org).await, (3000, 1));
    // Completing again answers the same and counts nothing twice.
    let again = c.teacher.post(&c.path(&format!("/files/{id}/complete")), json!({})).await;
    assert_eq!(again.ok(200)["status"], "ready");
    assert_eq!(storage(&c.org).await, (3000, 1));

    // Every member and the admin list and read it; the download is 15 minutes.
    for who in [&c.pupil, &c.teacher, &c.admin] {
        let list = who.get(&files).await.ok(200).clone();
        assert_eq!(field_of(&list, "id"), [id.as_str()], "{}", who.name);
        assert_eq!(list["items"][0]["status"], "ready");
        assert_eq!(list["items"][0]["name"], name);
    }
    let got = c.pupil.get(&c.path(&format!("/files/{id}"))).await.ok(200).clone();
    assert_eq!((got["id"].as_str(), got["status"].as_str()), (Some(id.as_str()), Some("ready")));
    assert_eq!((got["name"].as_str(), got["content_type"].as_str()), (Some(name), Some("application/pdf")));
    assert_eq!(got["uploaded_by"], c.teacher.sub.as_str());
    let download = got["download_url"].as_str().expect("a download URL").to_string();
    assert_eq!(query(&download).get("X-Amz-Expires").map(String::as_str), Some("900"), "{download}");
    assert!(!path_of(&download).contains("Расписание"), "{download}");
    let expires = unix(&got["url_expires_at"]) - now();
    assert!((840..=960).contains(&expires), "expires in {expires} s");

    // The download: the bytes, the type, the name (RFC 5987 for the Cyrillic).
    let (status, headers, body) = fetch(&download).await;
    assert_eq!(status, 200);
    assert_eq!(body, bytes, "the bytes uploaded");
    let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(h("content-type"), "application/pdf");
    let disposition = h("content-disposition");
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let fallback = disposition.split("filename=\"").nth(1).and_then(|s| s.split('"').next()).expect(&disposition);
    assert!(!fallback.is_empty() && fallback.is_ascii(), "an ASCII fallback: {disposition}");
    let encoded = disposition.split("filename*=UTF-8''").nth(1).expect(&disposition);
    let encoded = encoded.split(';').next().unwrap().trim();
    assert!(
        encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"%!#$&+-.^_`|~".contains(&b)),
        "percent-encoded: {encoded}"
    );
    assert_eq!(percent_decode(encoded), name, "{disposition}");
}

#[tokio::test]
async fn a_file_over_50_mib_and_bad_descriptions_are_refused() {
    let c = circle("Большие файлы").await;
    let files = c.path("/files");
    let pdf = |size: i64| json!({"name": "Отчёт.pdf", "size": size, "content_type": "application/pdf"});
    c.pupil.post(&files, pdf(52_428_801)).await.problem(422, "file_too_large");
    c.pupil.post(&files, pdf(1_000_000_000_000)).await.problem(422, "file_too_large");
    for (body, field) in [
        (pdf(0), "size"),
        (pdf(-5), "size"),
        (json!({"name": "", "size": 10, "content_type": "text/plain"}), "name"),
        (json!({"name": "а\u{0007}б.txt", "size": 10, "content_type": "text/plain"}), "name"),
        (json!({"name": "два\nряда.txt", "size": 10, "content_type": "text/plain"}), "name"),
        (json!({"name": "я".repeat(256), "size": 10, "content_type": "text/plain"}), "name"),
        (json!({"name": "a.txt", "size": 10, "content_type": "pdf"}), "content_type"),
        (json!({"name": "a.txt", "size": 10, "content_type": ""}), "content_type"),
    ] {
        let r = c.pupil.post(&files, body.clone()).await;
        assert_eq!(r.problem(422, "validation_failed").error_fields(), [field], "{body}");
    }
    // A missing field or an unknown one is refused too (the field the problem names
    // depends on the body's shape).
    for body in [
        json!({"size": 10, "content_type": "text/plain"}),
        json!({"name": "a.txt", "size": 10}),
        json!({"name": "a.txt", "content_type": "text/plain"}),
        json!({"name": "a.txt", "size": 10, "content_type": "text/plain", "public": true}),
    ] {
        c.pupil.post(&files, body).await.problem(422, "validation_failed");
    }
    c.pupil
        .post(&files, json!({"name": "a.txt", "size": 10, "content_type": "text/plain", "public": true}))
        .await
        .problem(422, "validation_failed");
    // Exactly 50 MiB, and a name of 255 characters, are accepted.
    let (file, upload) = start_upload(&c, &c.pupil, "Видео.mp4", 52_428_800, "video/mp4").await;
    assert_eq!(file["size"], 52_428_800);
    assert!(upload["url"].is_string());
    let (file, _) = start_upload(&c, &c.pupil, &"я".repeat(255), 10, "text/plain").await;
    assert_eq!(file["name"].as_str().unwrap().chars().count(), 255);
    assert_eq!(c.pupil.get(&files).await.ok(200)["items"], json!([]), "nothing ready");
    assert_eq!(storage(&c.org).await, (0, 0));

    // A retry with the same Idempotency-Key answers the first upload.
    let body = json!({"name": "Повтор.pdf", "size": 10, "content_type": "application/pdf"});
    let key = [("idempotency-key", "file-1")];
    let first = c.pupil.call(Method::POST, &files, Some(body.clone()), &key).await;
    let again = c.pupil.call(Method::POST, &files, Some(body), &key).await;
    assert_eq!(first.ok(201)["file"]["id"], again.ok(201)["file"]["id"]);
}

#[tokio::test]
async fn complete_refuses_a_missing_object_and_one_of_another_size() {
    let c = circle("Проверка загрузок").await;
    let bytes = content(1000);
    let (file, upload) = start_upload(&c, &c.pupil, "Доклад.docx", bytes.len(), "application/octet-stream").await;
    let id = id_of(&file);
    let complete = c.path(&format!("/files/{id}/complete"));

    // Nothing uploaded yet.
    c.pupil.post(&complete, json!({})).await.problem(409, "upload_missing");
    // Fewer bytes than announced: the URL refuses them (the length is signed).
    assert_eq!(put(&upload, bytes[..900].to_vec(), &["content-length"]).await, 403);
    c.pupil.post(&complete, json!({})).await.problem(409, "upload_missing");
    // Put there anyway (as S3 would not), complete still refuses them.
    put_object_at(upload["url"].as_str().unwrap(), bytes[..900].to_vec()).await;
    c.pupil.post(&complete, json!({})).await.problem(409, "upload_missing");
    // The wrong-size object is gone: the key answers 404 (the emulator checks no GET's
    // signature, so a plain GET of the key shows what is there).
    assert_eq!(fetch(&key_url(upload["url"].as_str().unwrap())).await.0, 404, "the wrong-size object was removed");
    assert_eq!(c.pupil.get(&c.path("/files")).await.ok(200)["items"], json!([]));
    c.pupil.get(&c.path(&format!("/files/{id}"))).await.problem(404, "not_found");
    assert_eq!(storage(&c.org).await, (0, 0));

    // Someone other than the uploader cannot complete it.
    assert_eq!(put(&upload, bytes.clone(), &[]).await, 200);
    c.teacher.post(&complete, json!({})).await.problem(404, "not_found");
    c.outsider.post(&complete, json!({})).await.problem(404, "not_found");
    assert_eq!(fetch(&key_url(upload["url"].as_str().unwrap())).await.0, 403, "the object is there, and private");
    // Put again with the right size, it completes.
    assert_eq!(c.pupil.post(&complete, json!({})).await.ok(200)["status"], "ready");
    assert_eq!(storage(&c.org).await, (1000, 1));
    let got = c.teacher.get(&c.path(&format!("/files/{id}"))).await.ok(200).clone();
    let (status, _, body) = fetch(got["download_url"].as_str().unwrap()).await;
    assert_eq!((status, body), (200, bytes));
    c.pupil.post(&c.path("/files/01jzzzzzzzzzzzzzzzzzzzzzzz/complete"), json!({})).await.problem(404, "not_found");
}

#[tokio::test]
async fn only_ready_files_are_listed_newest_first() {
    let c = circle("Общие материалы").await;
    let first = upload(&c, &c.pupil, "Конспект.txt", b"first".to_vec(), "text/plain").await;
    let (waiting, _) = start_upload(&c, &c.teacher, "Не дошло.pdf", 2048, "application/pdf").await;
    let second = upload(&c, &c.admin, "Приказ.pdf", content(4096), "application/pdf").await;
    let files = c.path("/files");
    let list = c.pupil.get(&files).await.ok(200).clone();
    assert_eq!(field_of(&list, "id"), [id_of(&second), id_of(&first)], "ready files only, newest first");
    assert!(list["items"].as_array().unwrap().iter().all(|f| f["status"] == "ready"));
    assert_eq!(list["next_cursor"], Value::Null);
    // An upload not completed is not found, even by its uploader.
    c.teacher.get(&c.path(&format!("/files/{}", id_of(&waiting)))).await.problem(404, "not_found");
    // Paged.
    let page = c.pupil.get(&format!("{files}?limit=1")).await.ok(200).clone();
    assert_eq!(field_of(&page, "id"), [id_of(&second)]);
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let rest = c.pupil.get(&format!("{files}?limit=1&cursor={cursor}")).await.ok(200).clone();
    assert_eq!(field_of(&rest, "id"), [id_of(&first)]);
    assert_eq!(storage(&c.org).await, (5 + 4096, 2));
}

#[tokio::test]
async fn the_uploader_or_an_admin_deletes_a_file_and_its_object_goes_too() {
    let c = circle("Домашние задания").await;
    let mine = upload(&c, &c.pupil, "Домашнее задание.docx", content(2000), "application/octet-stream").await;
    let theirs = upload(&c, &c.teacher, "Задачи.pdf", content(1000), "application/pdf").await;
    let (mine, theirs) = (id_of(&mine), id_of(&theirs));
    assert_eq!(storage(&c.org).await, (3000, 2));
    let mine_path = c.path(&format!("/files/{mine}"));
    let download = c.pupil.get(&mine_path).await.ok(200)["download_url"].as_str().unwrap().to_string();
    assert_eq!(fetch(&download).await.0, 200);
    assert_eq!(fetch(&key_url(&download)).await.0, 403, "the object is there, and private");

    // Another student may not (the group's teachers moderate: see the moderation test).
    c.pupil.delete(&c.path(&format!("/files/{theirs}"))).await.problem(403, "forbidden");
    assert_eq!(storage(&c.org).await, (3000, 2));

    // The uploader does: the file, the object and the bytes counted go.
    assert_status(&c.pupil.delete(&mine_path).await, 204);
    c.pupil.get(&mine_path).await.problem(404, "not_found");
    assert_object_gone(&download).await;
    assert_eq!(field_of(c.pupil.get(&c.path("/files")).await.ok(200), "id"), [theirs.as_str()]);
    assert_eq!(storage(&c.org).await, (1000, 1));

    // An admin (not in the group) deletes anyone's.
    let theirs_path = c.path(&format!("/files/{theirs}"));
    let download = c.admin.get(&theirs_path).await.ok(200)["download_url"].as_str().unwrap().to_string();
    assert_status(&c.admin.delete(&theirs_path).await, 204);
    assert_object_gone(&download).await;
    assert_eq!(c.teacher.get(&c.path("/files")).await.ok(200)["items"], json!([]));
    assert_eq!(storage(&c.org).await, (0, 0));
}

#[tokio::test]
async fn a_file_past_the_organizations_quota_is_refused() {
    let c = circle("Архив").await;
    support::set_item_attr(&c.org, "PROFILE", "storage_bytes", AttributeValue::N((QUOTA - 1000).to_string())).await;
    let files = c.path("/files");
    let body = |size: i64| json!({"name": "Архив.zip", "size": size, "content_type": "application/zip"});
    c.pupil.post(&files, body(1001)).await.problem(422, "quota_exceeded");
    c.pupil.post(&files, body(50 * 1024 * 1024)).await.problem(422, "quota_exceeded");
    assert_eq!(storage(&c.org).await.0, QUOTA - 1000, "nothing counted for a refusal");
    // A file that fits is accepted and counted once complete.
    let ready = upload(&c, &c.pupil, "Маленький.txt", content(500), "text/plain").await;
    assert_eq!(ready["size"], 500);
    assert_eq!(storage(&c.org).await.0, QUOTA - 500);
    c.pupil.post(&files, body(501)).await.problem(422, "quota_exceeded");
    // Deleting makes room again.
    assert_status(&c.pupil.delete(&c.path(&format!("/files/{}", id_of(&ready)))).await, 204);
    assert_eq!(storage(&c.org).await.0, QUOTA - 1000);
    assert_eq!(c.pupil.post(&files, body(1000)).await.status, 201);
}

/// Two uploads that each fit the quota but not both, started at the same moment: one is
/// announced (its bytes reserved), the other refused, and the organization never holds
/// more than its quota.
#[tokio::test]
async fn two_uploads_racing_for_the_last_room_leave_the_quota_whole() {
    let c = circle("Гонка за место").await;
    support::set_item_attr(&c.org, "PROFILE", "storage_bytes", AttributeValue::N((QUOTA - 300).to_string())).await;
    let body = |name: &str| json!({"name": name, "size": 200, "content_type": "text/plain"});
    let files = c.path("/files");
    let (a, b) = tokio::join!(c.pupil.post(&files, body("первый.txt")), c.teacher.post(&files, body("второй.txt")));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [201, 422], "{} / {}", a.text, b.text);
    let (announced, refused, who) = if a.status == 201 { (&a, &b, &c.pupil) } else { (&b, &a, &c.teacher) };
    refused.problem(422, "quota_exceeded");
    assert_eq!(counters(&c.org).await, (QUOTA - 300, 200, 0), "one upload reserved");
    assert_eq!(put(&announced.body["upload"], content(200), &[]).await, 200);
    let id = id_of(&announced.body["file"]);
    who.post(&c.path(&format!("/files/{id}/complete")), json!({})).await.ok(200);
    assert_eq!(counters(&c.org).await, (QUOTA - 100, 0, 1), "one file counted");
    let listed = c.pupil.get(&c.path("/files")).await.ok(200)["items"].as_array().unwrap().len();
    assert_eq!(listed, 1);
}

/// Uploads count from their start: an organization with no file takes as many uploads
/// of 50 MiB as its 10 GiB hold (204), none of them completed, and refuses the next;
/// deleting one makes room for one.
#[tokio::test]
async fn uploads_started_count_against_the_quota_before_any_is_completed() {
    const SIZE: i64 = 50 * 1024 * 1024;
    let c = circle("Большие загрузки").await;
    // Enough people for 204 uploads under way, 20 at most each.
    let mut people = vec![&c.admin, &c.teacher, &c.pupil];
    let mut more = Vec::new();
    for i in 0..8 {
        more.push(support::enrol(&c.admin, &c.org, &format!("Ученик {i}"), json!([support::student(&c.class)])).await);
    }
    let added = support::add_to_group(&c.admin, &c.org, &c.group, &more.iter().collect::<Vec<_>>()).await;
    assert!(added.iter().all(|a| a == "added"), "{added:?}");
    people.extend(more.iter());
    let body = json!({"name": "Видео урока.mp4", "size": SIZE, "content_type": "video/mp4"});
    let fit = QUOTA / SIZE;
    assert_eq!(fit, 204);
    let mut first = None;
    for i in 0..fit {
        let who = people[i as usize % people.len()];
        let r = who.post(&c.path("/files"), body.clone()).await;
        assert_eq!(r.status, 201, "upload {} of {fit}: {}", i + 1, r.text);
        first.get_or_insert((who, id_of(&r.body["file"])));
    }
    assert_eq!(counters(&c.org).await, (0, fit * SIZE, 0), "all reserved, none stored");
    let refused = c.pupil.post(&c.path("/files"), body.clone()).await;
    refused.problem(422, "quota_exceeded");
    assert_eq!(counters(&c.org).await.1, fit * SIZE, "a refusal reserves nothing");
    // Deleting an upload releases its bytes.
    let (who, id) = first.unwrap();
    assert_status(&who.delete(&c.path(&format!("/files/{id}"))).await, 204);
    assert_eq!(counters(&c.org).await, (0, (fit - 1) * SIZE, 0));
    assert_eq!(c.pupil.post(&c.path("/files"), body.clone()).await.status, 201);
    c.teacher.post(&c.path("/files"), body).await.problem(422, "quota_exceeded");
    // The figures admins see are the ready files'.
    let stats = c.admin.get(&format!("/v1/orgs/{}/stats/summary", c.org)).await.ok(200)["files"].clone();
    assert_eq!((stats["count"].as_i64(), stats["bytes"].as_i64()), (Some(0), Some(0)), "{stats}");
}

/// A person has at most 20 uploads under way in an organization: the 21st is refused
/// (409 `too_many_uploads`, saying what to do) until one is completed or deleted; others
/// upload meanwhile.
#[tokio::test]
async fn the_21st_upload_under_way_is_refused_until_one_is_completed_or_deleted() {
    let c = circle("Много загрузок").await;
    let mut started = Vec::new();
    for i in 0..20 {
        started.push(start_upload(&c, &c.pupil, &format!("часть {i}.txt"), 10, "text/plain").await);
    }
    assert_eq!(open_uploads(&c.org, &c.pupil).await, 20);
    let body = json!({"name": "лишняя.txt", "size": 10, "content_type": "text/plain"});
    let refused = c.pupil.post(&c.path("/files"), body.clone()).await;
    refused.problem(409, "too_many_uploads");
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(detail.contains("complete or delete"), "{detail}");
    assert_eq!(counters(&c.org).await, (0, 200, 0), "nothing reserved for a refusal");
    // Per person: the teacher uploads meanwhile.
    assert_eq!(c.teacher.post(&c.path("/files"), body.clone()).await.status, 201);
    // Deleting one makes room for one.
    let (gone, _) = &started[0];
    assert_status(&c.pupil.delete(&c.path(&format!("/files/{}", id_of(gone)))).await, 204);
    assert_eq!(open_uploads(&c.org, &c.pupil).await, 19);
    assert_eq!(c.pupil.post(&c.path("/files"), body.clone()).await.status, 201);
    c.pupil.post(&c.path("/files"), body.clone()).await.problem(409, "too_many_uploads");
    // So does completing one.
    let (file, upload) = &started[1];
    assert_eq!(put(upload, content(10), &[]).await, 200);
    c.pupil.post(&c.path(&format!("/files/{}/complete", id_of(file))), json!({})).await.ok(200);
    assert_eq!(open_uploads(&c.org, &c.pupil).await, 19);
    assert_eq!(c.pupil.post(&c.path("/files"), body.clone()).await.status, 201);
    c.pupil.post(&c.path("/files"), body).await.problem(409, "too_many_uploads");
    // The pupil's 20 and the teacher's one reserve their bytes; the completed one is stored.
    assert_eq!(counters(&c.org).await, (10, 210, 1));
}

/// An upload's reservation becomes its file's bytes when it is completed, and goes when
/// the upload is deleted.
#[tokio::test]
async fn completing_an_upload_turns_its_reservation_into_stored_bytes() {
    let c = circle("Резерв").await;
    let (file, upload) = start_upload(&c, &c.pupil, "отчёт.txt", 100, "text/plain").await;
    assert_eq!(counters(&c.org).await, (0, 100, 0));
    assert_eq!(open_uploads(&c.org, &c.pupil).await, 1);
    assert_eq!(put(&upload, content(100), &[]).await, 200);
    let complete = c.path(&format!("/files/{}/complete", id_of(&file)));
    c.pupil.post(&complete, json!({})).await.ok(200);
    assert_eq!(counters(&c.org).await, (100, 0, 1));
    assert_eq!(open_uploads(&c.org, &c.pupil).await, 0);
    // Completing again changes nothing.
    c.pupil.post(&complete, json!({})).await.ok(200);
    assert_eq!(counters(&c.org).await, (100, 0, 1));
    let stats = c.admin.get(&format!("/v1/orgs/{}/stats/summary", c.org)).await.ok(200)["files"].clone();
    assert_eq!((stats["count"].as_i64(), stats["bytes"].as_i64()), (Some(1), Some(100)), "{stats}");
    // An upload deleted releases what it reserved.
    let (other, _) = start_upload(&c, &c.pupil, "черновик.txt", 40, "text/plain").await;
    assert_eq!(counters(&c.org).await, (100, 40, 1));
    assert_status(&c.pupil.delete(&c.path(&format!("/files/{}", id_of(&other)))).await, 204);
    assert_eq!(counters(&c.org).await, (100, 0, 1));
    assert_eq!(open_uploads(&c.org, &c.pupil).await, 0);
    // One past its day that TTL has not removed yet: no longer completed, but its
    // uploader deletes it and gets the room back at once.
    let (late, late_upload) = start_upload(&c, &c.pupil, "поздно.txt", 20, "text/plain").await;
    assert_eq!(put(&late_upload, content(20), &[]).await, 200);
    let sk = format!("UPLOAD#{}#{}", c.group, id_of(&late));
    support::set_item_attr(&c.org, &sk, "created_at", AttributeValue::S("2026-01-01T00:00:00.000Z".into())).await;
    c.pupil.post(&c.path(&format!("/files/{}/complete", id_of(&late))), json!({})).await.problem(404, "not_found");
    assert_status(&c.pupil.delete(&c.path(&format!("/files/{}", id_of(&late)))).await, 204);
    assert_eq!(counters(&c.org).await, (100, 0, 1));
    assert_eq!(open_uploads(&c.org, &c.pupil).await, 0);
}

/// An upload never completed expires (DynamoDB's TTL removes its item; the emulator does
/// it on demand) and the notifier, handed TTL's removal by the stream, releases its
/// reservation, once: a removal by a request (a deletion) releases nothing more, and a
/// redelivered expiry releases nothing again.
#[tokio::test]
async fn an_expired_upload_releases_its_reservation_once() {
    let c = circle("Просроченные загрузки").await;
    let (expiring, _) = start_upload(&c, &c.pupil, "забыто.txt", 100, "text/plain").await;
    let (deleted, _) = start_upload(&c, &c.teacher, "удалено.txt", 30, "text/plain").await;
    let (kept, kept_upload) = start_upload(&c, &c.teacher, "сохранено.txt", 7, "text/plain").await;
    assert_status(&c.teacher.delete(&c.path(&format!("/files/{}", id_of(&deleted)))).await, 204);
    assert_eq!(put(&kept_upload, content(7), &[]).await, 200);
    c.teacher.post(&c.path(&format!("/files/{}/complete", id_of(&kept))), json!({})).await.ok(200);
    assert_eq!(counters(&c.org).await, (7, 100, 1));
    let sk = format!("UPLOAD#{}#{}", c.group, id_of(&expiring));
    let image = support::item(&format!("ORG#{}", c.org), &sk).await;

    // A day and more later.
    let env = support::env().await;
    let later = now() + 2 * 24 * 3600;
    assert!(kabinet_local::emulator::expire_ttl(&env.endpoint, &env.config.table, later).await.unwrap() >= 1);
    assert!(maybe_item(&format!("ORG#{}", c.org), &sk).await.is_none(), "the upload's item is gone");
    let mut released = counters(&c.org).await;
    for _ in 0..300 {
        if released.1 == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        released = counters(&c.org).await;
    }
    assert_eq!(released, (7, 0, 1), "the expired upload's bytes are released, the file's stay");
    assert_eq!(open_uploads(&c.org, &c.pupil).await, 0);
    assert_eq!(open_uploads(&c.org, &c.teacher).await, 0);
    c.pupil.get(&c.path(&format!("/files/{}", id_of(&expiring)))).await.problem(404, "not_found");

    // The same removal delivered again releases nothing.
    let upload: kabinet::domain::GroupFile = serde_dynamo::from_item(image).unwrap();
    assert!(upload.reserved);
    let store = support::store().await;
    assert!(!store.release_expired_upload(&upload, kabinet::domain::Timestamp::now()).await.unwrap());
    assert_eq!(counters(&c.org).await, (7, 0, 1));
    assert_eq!(open_uploads(&c.org, &c.pupil).await, 0);
    // The room is there again: the pupil's bytes and place.
    start_upload(&c, &c.pupil, "снова.txt", 100, "text/plain").await;
    assert_eq!(counters(&c.org).await, (7, 100, 1));
}

#[tokio::test]
async fn other_members_and_strangers_get_404_on_the_files_routes() {
    let c = circle("Закрытые файлы").await;
    let ready = id_of(&upload(&c, &c.teacher, "План.pdf", content(100), "application/pdf").await);
    let (waiting, _) = start_upload(&c, &c.teacher, "Черновик.pdf", 100, "application/pdf").await;
    let waiting = id_of(&waiting);
    let body = json!({"name": "Чужой.pdf", "size": 10, "content_type": "application/pdf"});
    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, c.path("/files"), None),
        (Method::POST, c.path("/files"), Some(body)),
        (Method::GET, c.path(&format!("/files/{ready}")), None),
        (Method::DELETE, c.path(&format!("/files/{ready}")), None),
        (Method::POST, c.path(&format!("/files/{waiting}/complete")), Some(json!({}))),
        (Method::POST, c.path(&format!("/files/{ready}/complete")), Some(json!({}))),
    ];
    for who in [&c.outsider, &c.stranger] {
        for (method, path, body) in &routes {
            let r = who.call(method.clone(), path, body.clone(), &[]).await;
            assert_eq!(r.status, 404, "{} {method} {path}: {}", who.name, r.text);
            r.problem(404, "not_found");
        }
    }
    // Removed from the group: at once.
    assert_status(&c.admin.delete(&c.path(&format!("/members/{}", c.pupil.sub))).await, 204);
    c.pupil.get(&c.path("/files")).await.problem(404, "not_found");
    c.pupil.get(&c.path(&format!("/files/{ready}"))).await.problem(404, "not_found");
    // Nothing changed; the admin, not in the group, reads and shares too.
    assert_eq!(field_of(c.teacher.get(&c.path("/files")).await.ok(200), "id"), [ready.as_str()]);
    assert_eq!(c.admin.get(&c.path(&format!("/files/{ready}"))).await.ok(200)["name"], "План.pdf");
    let by_admin = upload(&c, &c.admin, "Приказ.pdf", content(10), "application/pdf").await;
    assert_eq!(by_admin["uploaded_by"], c.admin.sub.as_str());
    assert_eq!(storage(&c.org).await, (110, 2));
}

#[tokio::test]
async fn an_abandoned_upload_expires_from_the_table_after_about_a_day() {
    let c = circle("Брошенные загрузки").await;
    let (file, upload) = start_upload(&c, &c.pupil, "Брошено.pdf", 100, "application/pdf").await;
    let id = id_of(&file);
    let sk = format!("UPLOAD#{}#{id}", c.group);
    let item = support::item(&format!("ORG#{}", c.org), &sk).await;
    let ttl: i64 = item.get("ttl").expect("a ttl").as_n().unwrap().parse().unwrap();
    let ahead = ttl - now();
    assert!((20 * 3600..=28 * 3600).contains(&ahead), "the ttl is {ahead} s ahead");
    // Once complete, the file no longer expires.
    assert_eq!(put(&upload, content(100), &[]).await, 200);
    c.pupil.post(&c.path(&format!("/files/{id}/complete")), json!({})).await.ok(200);
    if let Some(item) = maybe_item(&format!("ORG#{}", c.org), &sk).await {
        assert!(!item.contains_key("ttl"), "a ready file must not expire: {item:?}");
    }
    assert_eq!(c.pupil.get(&c.path(&format!("/files/{id}"))).await.ok(200)["status"], "ready");
}

/// Deleting a group deletes its files, ready or not, objects and all: the organization's
/// storage is back where it was.
#[tokio::test]
async fn deleting_a_group_deletes_its_files_and_frees_their_bytes() {
    let c = circle("Кружок на удаление").await;
    let before = storage(&c.org).await;
    let ready = upload(&c, &c.pupil, "доклад.txt", b"report".to_vec(), "text/plain").await;
    let (pending, _) = start_upload(&c, &c.teacher, "черновик.txt", 5, "text/plain").await;
    let download = c.pupil.get(&c.path(&format!("/files/{}", id_of(&ready)))).await.ok(200)["download_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(storage(&c.org).await, (before.0 + 6, before.1 + 1));

    assert_status(&c.admin.delete(&c.path("")).await, 204);
    assert_eq!(storage(&c.org).await, before);
    assert_object_gone(&download).await;
    for (prefix, id) in [("FILE", id_of(&ready)), ("UPLOAD", id_of(&pending))] {
        assert!(
            maybe_item(&format!("ORG#{}", c.org), &format!("{prefix}#{}#{id}", c.group)).await.is_none(),
            "{prefix} {id} is gone"
        );
    }
}

/// The upload URL stays valid for a while after the upload is completed; a ready file is
/// a copy of its own that no upload URL reaches: a second PUT changes nothing of it.
/// Only the uploader completes an upload (anyone else: 404, even once it is ready).
#[tokio::test]
async fn a_ready_file_is_out_of_reach_of_its_upload_url_and_of_other_peoples_completes() {
    let c = circle("Неизменные файлы").await;
    let (file, upload) = start_upload(&c, &c.pupil, "итоги.txt", 6, "text/plain").await;
    let id = id_of(&file);
    assert_eq!(put(&upload, b"first!".to_vec(), &[]).await, 200);
    let complete = c.path(&format!("/files/{id}/complete"));
    c.teacher.post(&complete, json!({})).await.problem(404, "not_found");
    assert_status(&c.pupil.post(&complete, json!({})).await, 200);
    c.teacher.post(&complete, json!({})).await.problem(404, "not_found");

    assert_eq!(put(&upload, b"second".to_vec(), &[]).await, 200);
    let download =
        c.teacher.get(&c.path(&format!("/files/{id}"))).await.ok(200)["download_url"].as_str().unwrap().to_string();
    let (status, _, bytes) = fetch(&download).await;
    assert_eq!((status, bytes), (200, b"first!".to_vec()), "the ready file is what was completed");
    // Completing again answers the ready file as it is.
    assert_eq!(c.pupil.post(&complete, json!({})).await.ok(200)["size"], 6);
}
