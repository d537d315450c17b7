//! Schemathesis over the whole OpenAPI document (`tests/schemathesis.toml`): against this
//! test's gateway, as the admin of a seeded organization, no request gets a 500 and every
//! answer's status, content type and body are the ones the document describes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use kabinet_tests::support::{enrol, env, in_days, link, parent, school, send, student, teacher, User};
use serde_json::{json, Value};

fn id(v: &Value, field: &str) -> String {
    v[field].as_str().unwrap_or_else(|| panic!("no {field} in {v}")).to_string()
}

/// Makes an invite link of `org` offering a parent's role in `class`: (token, link ID).
async fn parents_link(admin: &User, org: &str, class: &str) -> (String, String) {
    let body = json!({"expires_at": in_days(30), "max_uses": 50, "roles": [parent(&[class])]});
    link(admin, org, body).await
}

/// Invites `email` to `org` as a parent in `class`: the invitation's ID.
async fn invite(admin: &User, org: &str, class: &str, email: &str) -> String {
    let body = json!({"emails": [email], "role": parent(&[class])});
    let r = admin.post(&format!("/v1/orgs/{org}/invitations"), body).await.ok(200).clone();
    id(&r["results"][0], "invitation_id")
}

/// `user` asks to join through the link with this token: the join request's ID.
async fn ask(user: &User, token: &str) -> String {
    id(user.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await.ok(201), "id")
}

/// The `st` of the project's venv: next to the Python `make` names, or in `.venv`.
fn schemathesis(root: &Path) -> PathBuf {
    let python = std::env::var_os("KABINET_PYTHON").map(PathBuf::from).unwrap_or_else(|| root.join(".venv/bin/python"));
    python.with_file_name("st")
}

/// Runs schemathesis with the config and these `KABINET_ST_*` values, and any arguments in
/// `KABINET_SCHEMATHESIS_ARGS` (`--max-examples 50 --continue-on-failure` for a longer
/// look); the report on failure.
async fn run(root: &Path, vars: &[(&str, String)], args: &[&str]) -> Result<(), String> {
    let st = schemathesis(root);
    assert!(st.exists(), "{} not found: run `make venv`", st.display());
    let started = Instant::now();
    let out = tokio::process::Command::new(&st)
        .arg("--config-file")
        .arg(root.join("tests/schemathesis.toml"))
        .args(["run", "--no-color", &format!("{}/v1/openapi.json", env().await.base)])
        .args(args)
        .args(std::env::var("KABINET_SCHEMATHESIS_ARGS").unwrap_or_default().split_whitespace())
        .envs(vars.iter().map(|(k, v)| (format!("KABINET_ST_{k}"), v)))
        .current_dir(std::env::temp_dir())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run schemathesis");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("schemathesis {args:?} took {:.1?}", started.elapsed());
    out.status.success().then_some(()).ok_or_else(|| format!("schemathesis found problems ({}):\n{report}", out.status))
}

#[tokio::test]
async fn schemathesis_finds_nothing_over_the_whole_document() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");

    // The caller's organization: classes, members, invite links, a pending join request and
    // pending invitations. What a `DELETE` removes (or graduating ends) has a twin the other
    // operations use.
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(5, "А"), (6, "Б"), (7, "В")]).await;
    let class = &classes[0];
    let member = enrol(&admin, &org, "Учитель", json!([teacher("Учитель", &[class])])).await;
    let removed = enrol(&admin, &org, "Ученик", json!([student(class)])).await;
    let (token, link_id) = parents_link(&admin, &org, class).await;
    let (_, revoked_link) = parents_link(&admin, &org, class).await;
    let request = ask(&User::new("Мама"), &token).await;
    let stranger = |n: u8| format!("st{n}-{}@school.test", ulid::Ulid::new().to_string().to_lowercase());
    let invitation = invite(&admin, &org, class, &stranger(1)).await;
    let revoked_invitation = invite(&admin, &org, class, &stranger(2)).await;

    // The caller's own side, in schools of another admin: a pending request to join one
    // (another one's is withdrawn), an invitation from a third, and a fourth they teach at
    // and may leave.
    let other = User::new("Другой директор");
    let mut schools = Vec::new();
    for _ in 0..4 {
        schools.push(school(&other, "2026/2027", &[(7, "Б")]).await);
    }
    let my_request = ask(&admin, &parents_link(&other, &schools[0].0, &schools[0].1[0]).await.0).await;
    let withdrawn = ask(&admin, &parents_link(&other, &schools[1].0, &schools[1].1[0]).await.0).await;
    let my_invitation = invite(&other, &schools[2].0, &schools[2].1[0], &admin.email).await;
    // Groups and a course: one of each to delete, a group linked to be unlinked.
    let o = format!("/v1/orgs/{org}");
    let new = |path: String, body: Value| {
        let admin = &admin;
        async move { admin.post(&path, body).await.ok(201)["id"].as_str().unwrap().to_string() }
    };
    let group = new(format!("{o}/groups"), json!({"name": "Кружок"})).await;
    let deleted_group = new(format!("{o}/groups"), json!({"name": "Старый кружок"})).await;
    let course = new(format!("{o}/courses"), json!({"name": "Алгебра", "teacher_ids": [member.sub]})).await;
    let deleted_course = new(format!("{o}/courses"), json!({"name": "Геометрия"})).await;
    let unlinked_group =
        new(format!("{o}/courses/{course}/groups"), json!({"name": "Алгебра 1", "students": "all"})).await;
    admin.post(&format!("{o}/groups/{group}/members"), json!({"user_ids": [member.sub]})).await.ok(200);
    // Inside the group: a thread with a reply, an announcement and a ready file, and a
    // twin of each to delete.
    let g = format!("{o}/groups/{group}");
    let post = json!({"title": "Тема", "body": "Текст"});
    let thread = new(format!("{g}/threads"), post.clone()).await;
    let deleted_thread = new(format!("{g}/threads"), post.clone()).await;
    let reply = new(format!("{g}/threads/{thread}/replies"), json!({"body": "Ответ"})).await;
    let deleted_reply = new(format!("{g}/threads/{thread}/replies"), json!({"body": "Ответ"})).await;
    let announcement = new(format!("{g}/announcements"), post.clone()).await;
    let deleted_announcement = new(format!("{g}/announcements"), post).await;
    let file = put_file(&admin, &g, "план.txt", b"plan".to_vec()).await;
    let deleted_file = put_file(&admin, &g, "старый план.txt", b"old plan".to_vec()).await;
    let body = json!({"user_id": admin.sub, "roles": [teacher("Учитель", &[])]});
    other.post(&format!("/v1/orgs/{}/members", schools[3].0), body).await.ok(201);

    let vars = vec![
        ("TOKEN", admin.token.clone()),
        ("ORG", org.clone()),
        ("LEFT_ORG", schools[3].0.clone()),
        ("CLASS", class.clone()),
        ("DELETED_CLASS", classes[1].clone()),
        ("GRADUATED_CLASS", classes[2].clone()),
        ("USER", member.sub.clone()),
        ("REMOVED_USER", removed.sub.clone()),
        ("LINK_TOKEN", token),
        ("LINK", link_id),
        ("REVOKED_LINK", revoked_link),
        ("INVITATION", invitation),
        ("REVOKED_INVITATION", revoked_invitation),
        ("JOIN_REQUEST", request),
        ("MY_JOIN_REQUEST", my_request),
        ("WITHDRAWN_JOIN_REQUEST", withdrawn),
        ("MY_INVITATION", my_invitation),
        ("GROUP", group),
        ("DELETED_GROUP", deleted_group),
        ("COURSE", course),
        ("DELETED_COURSE", deleted_course),
        ("UNLINKED_GROUP", unlinked_group),
        ("THREAD", thread),
        ("DELETED_THREAD", deleted_thread),
        ("REPLY", reply),
        ("DELETED_REPLY", deleted_reply),
        ("ANNOUNCEMENT", announcement),
        ("DELETED_ANNOUNCEMENT", deleted_announcement),
        ("FILE", file),
        ("DELETED_FILE", deleted_file),
    ];
    // First the operations that name something else than the organization, with IDs of
    // nothing (the answers to unknown IDs; the coverage phase alone), then the whole
    // document with the seeded IDs.
    let unknown = |k: &str, v: &str| match k {
        "TOKEN" | "ORG" | "LEFT_ORG" => v.to_string(),
        "USER" | "REMOVED_USER" => "test-01jzzzzzzzzzzzzzzzzzzzzzzz".into(),
        "LINK_TOKEN" => "no-such-token".into(),
        _ => "01jzzzzzzzzzzzzzzzzzzzzzzz".into(),
    };
    let nothing: Vec<_> = vars.iter().map(|(k, v)| (*k, unknown(k, v))).collect();
    let first = run(
        &root,
        &nothing,
        &["--include-path-regex", r"\{(id|user|token|group|thread|reply|announcement|file)\}", "--phases", "coverage"],
    )
    .await;
    let second = run(&root, &vars, &[]).await;
    let failures: Vec<String> = [first, second].into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A ready file of the group at `group` (its API path): announced, uploaded through the
/// presigned URL, completed; answers its ID.
async fn put_file(admin: &User, group: &str, name: &str, bytes: Vec<u8>) -> String {
    let body = json!({"name": name, "size": bytes.len(), "content_type": "text/plain"});
    let announced = admin.post(&format!("{group}/files"), body).await.ok(201).clone();
    let upload = &announced["upload"];
    let mut put = reqwest::Client::new().put(upload["url"].as_str().unwrap());
    for (k, v) in upload["headers"].as_object().unwrap() {
        put = put.header(k.as_str(), v.as_str().unwrap());
    }
    assert!(put.body(bytes).send().await.unwrap().status().is_success());
    let id = announced["file"]["id"].as_str().unwrap().to_string();
    admin.post(&format!("{group}/files/{id}/complete"), json!({})).await.ok(200);
    id
}

/// A schema as the document gives it, `$ref` followed.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("no {r}")),
        None => schema,
    }
}

/// The fields of `value` that the schema (itself, or one of its `allOf`) closes out with
/// `additionalProperties: false`.
fn unexpected_fields(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let schema = resolve(doc, schema);
    let mut out = Vec::new();
    if schema["additionalProperties"] == false {
        let fields = value.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
        out.extend(fields.into_iter().filter(|f| schema["properties"].get(f).is_none()));
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        out.extend(unexpected_fields(doc, part, value));
    }
    out
}

/// Schemathesis found it: the roles a link offers carry `class_names`, which the document
/// described as a `RoleGrant` (closed to other fields) plus `class_names`.
#[tokio::test]
async fn the_document_describes_the_roles_a_link_offers_as_answered() {
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(5, "А")]).await;
    let (token, _) = parents_link(&admin, &org, &classes[0]).await;
    let preview = User::new("Мама").get(&format!("/v1/invite-links/{token}")).await.ok(200).clone();
    let role = &preview["roles"][0];
    assert_eq!(role["class_names"], json!(["5А"]));
    let doc = send(reqwest::Method::GET, "/v1/openapi.json", None, None, &[]).await.body;
    let answer = &doc["paths"]["/v1/invite-links/{token}"]["get"]["responses"]["200"]["content"]["application/json"];
    let roles = &resolve(&doc, &answer["schema"])["properties"]["roles"]["items"];
    assert!(roles.is_object(), "{answer}");
    assert_eq!(unexpected_fields(&doc, roles, role), Vec::<String>::new(), "{role} against {roles}");
}
