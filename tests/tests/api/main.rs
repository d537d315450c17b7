//! Integration tests over HTTP against the local gateway and the emulator.

mod authz;
mod emulator;
mod idempotency;
mod infra;
mod me;
mod orgs;
mod plumbing;

use kabinet::domain::{OrgId, RoleGrant, Timestamp, UserId};
use kabinet::store::orgs::{Membership, MembershipSource};
use kabinet_tests::{store, User};

/// Puts `user` into the organization directly (no route for that yet in every test).
pub async fn add_member(org: &str, user: &User, roles: Vec<RoleGrant>, admin: bool) {
    let m = Membership {
        org_id: OrgId::parse(org).unwrap(),
        user_id: UserId::parse(&user.sub).unwrap(),
        name: user.name.clone(),
        email: Some(user.email.clone()),
        roles,
        admin,
        source: MembershipSource::Manual,
        joined_at: Timestamp::now(),
        last_active_at: None,
    };
    store().await.add_member(&m).await.unwrap();
}
