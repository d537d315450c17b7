//! Lists page in the database: a page reads what it answers (its `limit`), however many
//! items the organization holds, and walking the pages gives every item once.

use std::collections::HashSet;

use kabinet_tests::support;
use kabinet_tests::support::{school, teacher, CountingGateway, User};
use serde_json::{json, Value};

/// Walks a list `limit` at a time; answers its items' IDs and, per page, the items its
/// queries read.
async fn walk(gw: &CountingGateway, user: &User, path: &str, limit: usize) -> (Vec<Value>, Vec<usize>) {
    let (mut items, mut reads, mut cursor) = (Vec::new(), Vec::new(), None::<String>);
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let (r, read) = gw.items_read(user, &url).await;
        let body = r.ok(200).clone();
        let page = body["items"].as_array().unwrap().clone();
        assert!(page.len() <= limit, "{path}: {} items on a page of {limit}", page.len());
        items.extend(page);
        reads.push(read);
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return (items, reads),
        }
        assert!(reads.len() < 100, "{path}: the pages never end");
    }
}

fn ids(items: &[Value], field: &str) -> Vec<String> {
    items.iter().map(|i| i[field].as_str().unwrap().to_string()).collect()
}

fn unique(ids: &[String]) -> bool {
    ids.iter().collect::<HashSet<_>>().len() == ids.len()
}

#[tokio::test]
async fn a_page_of_an_organizations_list_reads_no_more_than_its_limit() {
    let gw = CountingGateway::start().await;
    let admin = User::new("Админ");
    let year = kabinet::domain::AcademicYear::current().to_string();
    let grades: Vec<(i64, &str)> =
        (1..=11).flat_map(|g| ["а", "б", "в"].into_iter().map(move |l| (g, l))).take(32).collect();
    let (org, _) = school(&admin, &year, &grades).await;
    let emails: Vec<String> = (0..45).map(|i| format!("parent{i}-{}@school.test", ulid::Ulid::new())).collect();
    let invited = admin
        .post(&format!("/v1/orgs/{org}/invitations"), json!({"emails": emails, "role": teacher("Учитель", &[])}))
        .await
        .ok(200)
        .clone();
    assert_eq!(invited["results"].as_array().unwrap().len(), 45);
    let until = kabinet::domain::Timestamp::now().plus(time::Duration::days(3)).to_string();
    for _ in 0..23 {
        admin
            .post(
                &format!("/v1/orgs/{org}/invite-links"),
                json!({"expires_at": until, "max_uses": 5, "roles": [teacher("Учитель", &[])]}),
            )
            .await
            .ok(201);
    }

    let (invitations, reads) = walk(&gw, &admin, &format!("/v1/orgs/{org}/invitations"), 10).await;
    let invitation_ids = ids(&invitations, "id");
    assert_eq!((invitation_ids.len(), unique(&invitation_ids)), (45, true));
    let mut newest_first = invitation_ids.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(invitation_ids, newest_first, "newest first");
    assert!(reads.iter().all(|r| *r <= 10), "a page of 10 invitations read {reads:?}");

    let (links, reads) = walk(&gw, &admin, &format!("/v1/orgs/{org}/invite-links"), 10).await;
    assert_eq!((links.len(), unique(&ids(&links, "id"))), (23, true));
    assert!(reads.iter().all(|r| *r <= 10), "a page of 10 links read {reads:?}");

    let (classes, reads) = walk(&gw, &admin, &format!("/v1/orgs/{org}/classes"), 10).await;
    let names = ids(&classes, "name");
    assert_eq!((names.len(), unique(&names)), (32, true));
    assert_eq!((names[0].as_str(), names[3].as_str(), names[31].as_str()), ("1А", "2А", "11Б"), "by grade: {names:?}");
    assert!(reads.iter().all(|r| *r <= 10), "a page of 10 classes read {reads:?}");
}

#[tokio::test]
async fn pending_requests_across_organizations_page_organization_by_organization() {
    let gw = CountingGateway::start().await;
    let admin = User::new("Админ двух школ");
    let until = kabinet::domain::Timestamp::now().plus(time::Duration::days(3)).to_string();
    let mut expected = Vec::new();
    for (name, people) in [("Первая", 9), ("Вторая", 8)] {
        let org = admin.create_org(name).await;
        let link = admin
            .post(
                &format!("/v1/orgs/{org}/invite-links"),
                json!({"expires_at": until, "max_uses": 50, "roles": [teacher("Учитель", &[])]}),
            )
            .await
            .ok(201)
            .clone();
        let token = link["token"].as_str().unwrap().to_string();
        for i in 0..people {
            let u = User::new(&format!("Кандидат {i}"));
            let r = u.post(&format!("/v1/invite-links/{token}/accept"), json!({})).await;
            expected.push((org.clone(), r.ok(201)["id"].as_str().unwrap().to_string()));
        }
    }
    expected.sort();
    for limit in [4, 9, 17, 50] {
        let (pending, reads) = walk(&gw, &admin, "/v1/me/admin/join-requests", limit).await;
        let got: Vec<(String, String)> = pending
            .iter()
            .map(|r| (r["org_id"].as_str().unwrap().to_string(), r["id"].as_str().unwrap().to_string()))
            .collect();
        assert_eq!(got, expected, "by organization, oldest first, each once (limit {limit})");
        // The admin's two memberships, then at most a page of requests.
        assert!(reads.iter().all(|r| *r <= limit + 2), "pages of {limit} read {reads:?}");
    }
}

#[tokio::test]
async fn my_invitations_page_too() {
    let gw = CountingGateway::start().await;
    let invitee = User::new("Приглашённая");
    for i in 0..5 {
        let admin = User::new(&format!("Админ {i}"));
        let org = admin.create_org(&format!("Школа {i}")).await;
        admin
            .post(
                &format!("/v1/orgs/{org}/invitations"),
                json!({"emails": [invitee.email], "role": teacher("Учитель", &[])}),
            )
            .await
            .ok(200);
    }
    let (mine, reads) = walk(&gw, &invitee, "/v1/me/invitations", 2).await;
    assert_eq!((mine.len(), unique(&ids(&mine, "id"))), (5, true));
    assert!(mine.iter().all(|i| i["org_name"].as_str().unwrap().starts_with("Школа")));
    assert!(reads.iter().all(|r| *r <= 2), "pages of 2 read {reads:?}");
}

/// Expired links and invitations leave the table by TTL, with what belongs to them, a
/// retention period after they expire (a resend moves it along).
#[tokio::test]
async fn links_and_invitations_leave_the_table_a_retention_period_after_they_expire() {
    use kabinet::store::items::EXPIRED_RETENTION_SECS;
    let admin = User::new("Админ");
    let org = admin.create_org("Школа").await;
    let until = kabinet::domain::Timestamp::now().plus(time::Duration::days(3));
    let link = admin
        .post(
            &format!("/v1/orgs/{org}/invite-links"),
            json!({"expires_at": until.to_string(), "max_uses": 5, "roles": [teacher("Учитель", &[])]}),
        )
        .await
        .ok(201)
        .clone();
    let ttl_of = |item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>| {
        item["ttl"].as_n().unwrap().parse::<i64>().unwrap()
    };
    let link_item = support::item(&format!("ORG#{org}"), &format!("LINK#{}", link["id"].as_str().unwrap())).await;
    assert_eq!(ttl_of(link_item), until.unix() + EXPIRED_RETENTION_SECS);
    let email = format!("{}@school.test", ulid::Ulid::new().to_string().to_lowercase());
    let r = admin
        .post(&format!("/v1/orgs/{org}/invitations"), json!({"emails": [email], "role": teacher("Учитель", &[])}))
        .await
        .ok(200)
        .clone();
    let id = r["results"][0]["invitation_id"].as_str().unwrap().to_string();
    let list = admin.get(&format!("/v1/orgs/{org}/invitations")).await.ok(200).clone();
    let expires = kabinet::domain::Timestamp::parse(list["items"][0]["expires_at"].as_str().unwrap()).unwrap();
    let invitation = support::item(&format!("ORG#{org}"), &format!("INVITE#{id}")).await;
    assert_eq!(ttl_of(invitation), expires.unix() + EXPIRED_RETENTION_SECS);
    // The guard a day after its invitation: never gone first.
    let guard = support::item(&format!("ORG#{org}"), &format!("INVITEPENDING#{email}")).await;
    assert_eq!(ttl_of(guard), expires.unix() + 86_400 + EXPIRED_RETENTION_SECS);
    // A resend renews the invitation, and the guard stays as long.
    let resent = admin.post(&format!("/v1/orgs/{org}/invitations/{id}/resend"), json!({})).await.ok(200).clone();
    let renewed = kabinet::domain::Timestamp::parse(resent["expires_at"].as_str().unwrap()).unwrap();
    assert!(renewed.unix() >= expires.unix());
    let guard = support::item(&format!("ORG#{org}"), &format!("INVITEPENDING#{email}")).await;
    assert_eq!(ttl_of(guard), renewed.unix() + 86_400 + EXPIRED_RETENTION_SECS);
    // TTL removed the invitation but not yet its guard: inviting the address again makes
    // a new invitation (rather than answering with the one that is gone).
    support::delete_item(&format!("ORG#{org}"), &format!("INVITE#{id}")).await;
    let again = admin
        .post(&format!("/v1/orgs/{org}/invitations"), json!({"emails": [email], "role": teacher("Учитель", &[])}))
        .await
        .ok(200)
        .clone();
    let new_id = again["results"][0]["invitation_id"].as_str().unwrap().to_string();
    assert_ne!(new_id, id);
    support::item(&format!("ORG#{org}"), &format!("INVITE#{new_id}")).await;
    let guard = support::item(&format!("ORG#{org}"), &format!("INVITEPENDING#{email}")).await;
    assert_eq!(guard["invitation_id"].as_s().unwrap(), &new_id);
}
