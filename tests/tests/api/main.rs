//! Integration tests over HTTP against the local gateway and the emulator.

mod admins;
mod audit;
mod authz;
mod classes;
mod emulator;
mod idempotency;
mod infra;
mod me;
mod members;
mod orgs;
mod plumbing;

use kabinet::domain::{OrgId, RoleGrant, UserId};
use kabinet::store::members::{Membership, MembershipSource};
use kabinet_tests::{store, User};

/// Puts `user` into the organization under the API (for tests about other routes).
pub async fn add_member(org: &str, user: &User, roles: Vec<RoleGrant>, admin: bool) {
    let m = Membership::new(
        &OrgId::parse(org).unwrap(),
        &UserId::parse(&user.sub).unwrap(),
        &user.name,
        Some(&user.email),
        roles,
        admin,
        MembershipSource::Manual,
    );
    store().await.add_member(&m, None, None).await.unwrap();
}
