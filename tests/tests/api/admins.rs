//! Admins: appoint, demote, never fewer than one, also under races.

use kabinet_tests::support::{enrol, parent, school, teacher, User};
use reqwest::Method;
use serde_json::json;

async fn admin_names(u: &User, org: &str) -> Vec<String> {
    u.get(&format!("/v1/orgs/{org}/admins")).await.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn appoint_and_demote_with_the_role_rule() {
    let admin = User::new("Директор");
    let (org, ids) = school(&admin, "2026/2027", &[(1, "А")]).await;
    let t = enrol(&admin, &org, "Завуч", json!([teacher("Завуч", &[])])).await;
    let p = enrol(&admin, &org, "Родитель", json!([parent(&[&ids[0]])])).await;
    let path = |u: &User| format!("/v1/orgs/{org}/admins/{}", u.sub);
    let r = admin.call(Method::PUT, &path(&t), None, &[]).await;
    assert_eq!(r.ok(200)["admin"], true);
    assert_eq!(admin.call(Method::PUT, &path(&t), None, &[]).await.ok(200)["admin"], true);
    assert_eq!(admin_names(&p, &org).await, ["Директор", "Завуч"]);
    admin.call(Method::PUT, &path(&p), None, &[]).await.problem(422, "admin_role_required");
    admin.call(Method::PUT, &format!("/v1/orgs/{org}/admins/nobody"), None, &[]).await.problem(404, "not_found");
    p.call(Method::PUT, &path(&p), None, &[]).await.problem(403, "forbidden");
    p.delete(&path(&admin)).await.problem(403, "forbidden");
    // The new admin has the powers: demotes the first.
    assert_eq!(t.delete(&path(&admin)).await.status, 204);
    assert_eq!(admin_names(&t, &org).await, ["Завуч"]);
    admin.call(Method::PUT, &path(&p), None, &[]).await.problem(403, "forbidden");
    // The last admin stays.
    t.delete(&path(&t)).await.problem(409, "last_admin");
    assert_eq!(t.get("/v1/me/orgs").await.body["items"][0]["admin"], true);
    // Demoting a non-admin changes nothing.
    assert_eq!(t.delete(&path(&p)).await.status, 204);
}

#[tokio::test]
async fn admins_of_one_organization_have_no_power_in_another() {
    let a = User::new("Admin A");
    let b = User::new("Admin B");
    let org_a = a.create_org("A").await;
    let org_b = b.create_org("B").await;
    b.call(Method::PUT, &format!("/v1/orgs/{org_a}/admins/{}", b.sub), None, &[]).await.problem(404, "not_found");
    b.delete(&format!("/v1/orgs/{org_a}/admins/{}", a.sub)).await.problem(404, "not_found");
    a.post(&format!("/v1/orgs/{org_b}/members"), json!({"user_id": a.sub, "roles": [teacher("x", &[])]}))
        .await
        .problem(404, "not_found");
    assert_eq!(admin_names(&a, &org_a).await, ["Admin A"]);
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one() {
    for round in 0..12 {
        let a = User::new("A");
        let org = a.create_org(&format!("Race {round}")).await;
        let b = enrol(&a, &org, "B", json!([teacher("Учитель", &[])])).await;
        a.call(Method::PUT, &format!("/v1/orgs/{org}/admins/{}", b.sub), None, &[]).await.ok(200);
        let (pa, pb) = (format!("/v1/orgs/{org}/admins/{}", b.sub), format!("/v1/orgs/{org}/admins/{}", a.sub));
        let (ra, rb) = if round % 2 == 0 {
            tokio::join!(a.delete(&pa), b.delete(&pb))
        } else {
            let (rb, ra) = tokio::join!(b.delete(&pb), a.delete(&pa));
            (ra, rb)
        };
        let mut statuses = [ra.status, rb.status];
        statuses.sort();
        // One demotion wins; the other finds either the last admin or a caller no longer admin.
        assert_eq!(statuses[0], 204, "round {round}: {} / {}", ra.text, rb.text);
        assert!(statuses[1] == 409 || statuses[1] == 403, "round {round}: {} / {}", ra.text, rb.text);
        assert_eq!(admin_names(&a, &org).await.len(), 1, "round {round}");
    }
}

#[tokio::test]
async fn two_admins_demoting_themselves_at_once_leave_one() {
    for round in 0..12 {
        let a = User::new("A");
        let org = a.create_org(&format!("Self race {round}")).await;
        let b = enrol(&a, &org, "B", json!([teacher("Учитель", &[])])).await;
        a.call(Method::PUT, &format!("/v1/orgs/{org}/admins/{}", b.sub), None, &[]).await.ok(200);
        let (pa, pb) = (format!("/v1/orgs/{org}/admins/{}", a.sub), format!("/v1/orgs/{org}/admins/{}", b.sub));
        let (ra, rb) = tokio::join!(a.delete(&pa), b.delete(&pb));
        let mut statuses = [ra.status, rb.status];
        statuses.sort();
        assert_eq!(statuses, [204, 409], "round {round}: {} / {}", ra.text, rb.text);
        let remaining = admin_names(&a, &org).await;
        assert_eq!(remaining.len(), 1, "round {round}");
        assert_eq!(a.get(&format!("/v1/orgs/{org}")).await.status, 200);
    }
}
