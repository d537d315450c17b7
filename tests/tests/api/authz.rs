//! Generated from the route table: every organization-scoped route, called by a signed-in
//! stranger (an admin of another organization) on a real organization, answers 404
//! problem+json and changes nothing. Routes added later are covered automatically.

use kabinet::api::routes;
use kabinet_tests::User;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn strangers_see_nothing_of_an_organization_on_any_route() {
    let owner = User::new("Owner");
    let stranger = User::new("Admin elsewhere");
    let org = owner.create_org("Школа-крепость").await;
    stranger.create_org("Своя школа").await;
    let before = owner.get(&format!("/v1/orgs/{org}")).await;
    let before_mine = owner.get("/v1/me/orgs").await.body.clone();

    let scoped: Vec<_> = routes().iter().filter(|r| r.org_scoped).collect();
    assert!(scoped.len() >= 3);
    for route in scoped {
        let mut path = route.path.replace("{org}", &org);
        // Any other parameter: an ID that could exist.
        while let Some(start) = path.find('{') {
            let end = path[start..].find('}').unwrap() + start;
            path.replace_range(start..=end, "01JZZZZZZZZZZZZZZZZZZZZZZZ");
        }
        let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        let body = matches!(route.method.as_str(), "POST" | "PUT" | "PATCH").then(|| json!({}));
        let r = stranger.call(method, &path, body, &[("if-match", "*")]).await;
        assert_eq!(r.status, 404, "{} {} answered {}", route.method, path, r.text);
        r.problem(404, "not_found");
    }

    let after = owner.get(&format!("/v1/orgs/{org}")).await;
    assert_eq!(after.body, before.body);
    assert_eq!(after.header("etag"), before.header("etag"));
    assert_eq!(owner.get("/v1/me/orgs").await.body, before_mine);
}
