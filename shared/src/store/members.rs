//! Memberships: a person in an organization with role grants and the admin flag, and the
//! class rosters that mirror their class places.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::AuditEntry;
use super::classes::{class_key, Roster};
use super::join_requests::{end_or_check_pending, JoinRequest};
use super::keys::*;
use super::orgs::{count_members, count_members_and_requests};
use super::outbox::Event;
use super::read::KeyQuery;
use super::tx::{b, key, n, s, Expr, Item, Tx};
use super::{classify, serde_err, Store, StoreError};
use crate::domain::{OrgId, Role, RoleGrant, Timestamp, UserId};
use crate::page::{Cursor, PageQuery};

/// How a person became a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MembershipSource {
    Manual,
    Link,
    Invitation,
    Journal,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Membership {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub roles: Vec<RoleGrant>,
    pub admin: bool,
    pub source: MembershipSource,
    pub joined_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active_at: Option<Timestamp>,
    /// The UTC days (`2026-11-23`) of the last 30 on which the member was active.
    #[serde(default)]
    pub active_days: Vec<String>,
    /// Classes the member was promoted out of, oldest first.
    #[serde(default)]
    pub class_history: Vec<String>,
    /// Bumped by every change; writes are conditional on the version read.
    #[serde(default)]
    pub version: u64,
}

impl Membership {
    pub fn new(
        org: &OrgId,
        user: &UserId,
        name: &str,
        email: Option<&str>,
        roles: Vec<RoleGrant>,
        admin: bool,
        source: MembershipSource,
    ) -> Self {
        Membership {
            org_id: org.clone(),
            user_id: user.clone(),
            name: name.into(),
            email: email.map(Into::into),
            roles,
            admin,
            source,
            joined_at: Timestamp::now(),
            last_active_at: None,
            active_days: Vec::new(),
            class_history: Vec::new(),
            // Unique across a person's memberships over time (a membership ended and made
            // again must not match conditions on the old one's version).
            version: time::OffsetDateTime::now_utc().unix_timestamp_nanos() as u64 / 1_000,
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|g| g.role == role)
    }

    /// Teachers and staff can be admins (R1.3).
    pub fn can_be_admin(&self) -> bool {
        self.roles.iter().any(|g| g.role.can_be_admin())
    }

    /// A student or parent grant left without a class (its class was deleted).
    pub fn needs_class(&self) -> bool {
        self.roles.iter().any(|g| matches!(g.role, Role::Student | Role::Parent) && g.class_ids.is_empty())
    }

    /// The class rosters this member is on.
    pub fn places(&self) -> BTreeSet<(Roster, String)> {
        places(&self.roles)
    }

    pub fn teaches(&self, class: &str) -> bool {
        self.roles.iter().any(|g| g.role == Role::Teacher && g.class_ids.iter().any(|c| c == class))
    }

    pub fn last_active_day(&self) -> Option<String> {
        self.last_active_at.map(|t| t.day())
    }
}

/// The rosters a set of grants puts a person on.
pub fn places(roles: &[RoleGrant]) -> BTreeSet<(Roster, String)> {
    let mut out = BTreeSet::new();
    for g in roles {
        let roster = match g.role {
            Role::Student => Roster::Students,
            Role::Parent => Roster::Parents,
            Role::Teacher => Roster::Teachers,
            Role::Staff => continue,
        };
        for c in &g.class_ids {
            out.insert((roster, c.clone()));
        }
    }
    out
}

/// A membership from an item read elsewhere (e.g. with the caller's membership check).
pub fn parse(item: Item) -> Result<Membership, StoreError> {
    serde_dynamo::from_item(item).map_err(serde_err)
}

pub fn member_key(org: &OrgId, user: &UserId) -> Item {
    key(org_pk(org), member_sk(user))
}

pub fn member_item(m: &Membership) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(m).map_err(serde_err)?;
    item.extend(member_key(&m.org_id, &m.user_id));
    item.insert(GSI1PK.into(), s(user_pk(&m.user_id)));
    item.insert(GSI1SK.into(), s(org_pk(&m.org_id)));
    item.insert("role_names".into(), role_names(&m.roles));
    if m.admin {
        item.insert(GSI2PK.into(), s(admins_pk(&m.org_id)));
        item.insert(GSI2SK.into(), s(member_sk(&m.user_id)));
    }
    Ok(item)
}

/// The roles held, as a list the conditions can test with `contains`.
fn role_names(roles: &[RoleGrant]) -> AttributeValue {
    let mut names: Vec<String> = roles
        .iter()
        .map(|g| serde_json::to_value(g.role).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
        .collect();
    names.sort();
    AttributeValue::L(names.into_iter().map(AttributeValue::S).collect())
}

fn roles_value(roles: &[RoleGrant]) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(roles).map_err(serde_err)
}

/// Moves a person on one class's rosters: onto `add`, off `remove` (one update per class:
/// a transaction may touch an item once). Adding needs the class to exist and not be
/// graduated; removing only that it exists.
pub fn roster_update(
    tx: &mut Tx,
    org: &OrgId,
    class: &str,
    user: &UserId,
    add: &[Roster],
    remove: &[Roster],
) -> Result<usize, StoreError> {
    let mut expr = Expr::default().name("#user", user.as_str());
    let mut parts = Vec::new();
    let sets: Vec<String> = add.iter().map(|r| format!("{}.#user = :true", r.attr())).collect();
    if !sets.is_empty() {
        parts.push(format!("SET {}", sets.join(", ")));
        expr = expr.value(":true", b(true));
    }
    let removes: Vec<String> = remove.iter().map(|r| format!("{}.#user", r.attr())).collect();
    if !removes.is_empty() {
        parts.push(format!("REMOVE {}", removes.join(", ")));
    }
    expr.update = Some(parts.join(" "));
    let expr = if add.is_empty() {
        expr.when("attribute_exists(pk)")
    } else {
        expr.when("attribute_exists(pk) AND graduated = :false").value(":false", b(false))
    };
    tx.update(class_key(org, class), expr)
}

/// The roster changes per class that take a person from places `before` to `after`.
pub fn roster_changes(
    before: &BTreeSet<(Roster, String)>,
    after: &BTreeSet<(Roster, String)>,
) -> Vec<(String, Vec<Roster>, Vec<Roster>)> {
    let mut by_class: std::collections::BTreeMap<String, (Vec<Roster>, Vec<Roster>)> = Default::default();
    for (r, c) in after.difference(before) {
        by_class.entry(c.clone()).or_default().0.push(*r);
    }
    for (r, c) in before.difference(after) {
        by_class.entry(c.clone()).or_default().1.push(*r);
    }
    by_class.into_iter().map(|(c, (add, remove))| (c, add, remove)).collect()
}

/// Why the actions of a new membership can fail.
#[derive(Debug)]
pub enum NewMemberFailure {
    AlreadyMember,
    ClassUnavailable(String),
}

/// Adds to a transaction the actions that make `m` a member: the membership (only if there
/// is none) and its class places. The caller moves the organization's counts.
pub fn put_new_member(tx: &mut Tx, m: &Membership) -> Result<Vec<(usize, NewMemberFailure)>, StoreError> {
    let mut meanings = vec![(
        tx.put(member_item(m)?, Some(Expr::condition("attribute_not_exists(pk)")))?,
        NewMemberFailure::AlreadyMember,
    )];
    for (class, add, _) in roster_changes(&BTreeSet::new(), &m.places()) {
        meanings.push((
            roster_update(tx, &m.org_id, &class, &m.user_id, &add, &[])?,
            NewMemberFailure::ClassUnavailable(class),
        ));
    }
    Ok(meanings)
}

impl From<NewMemberFailure> for MemberError {
    fn from(f: NewMemberFailure) -> Self {
        match f {
            NewMemberFailure::AlreadyMember => MemberError::AlreadyMember,
            NewMemberFailure::ClassUnavailable(c) => MemberError::ClassUnavailable(c),
        }
    }
}

/// How a person joins besides their membership item: who made it happen, and the pending
/// join request it ends.
pub struct Joined<'a> {
    pub pending: Option<&'a JoinRequest>,
    pub by: &'a UserId,
}

/// Why a membership change was refused.
#[derive(Debug)]
pub enum MemberError {
    AlreadyMember,
    NotMember,
    /// Changed since read: read again and retry.
    Changed,
    LastAdmin,
    /// A class of the grants does not exist or has graduated.
    ClassUnavailable(String),
    /// The admin flag needs a teacher or staff role.
    AdminRoleRequired,
    /// The acting admin is no longer an admin.
    ActorNotAdmin,
    /// The person has a pending join request (or it changed): read it and pass it along.
    HasPendingRequest,
    Store(StoreError),
}

impl From<StoreError> for MemberError {
    fn from(e: StoreError) -> Self {
        MemberError::Store(e)
    }
}

impl Store {
    pub async fn membership(&self, org: &OrgId, user: &UserId) -> Result<Option<Membership>, StoreError> {
        self.get(member_key(org, user)).await
    }

    pub async fn memberships(&self, org: &OrgId, users: &[UserId]) -> Result<Vec<Membership>, StoreError> {
        let items = self.batch_get(users.iter().map(|u| member_key(org, u)).collect()).await?;
        items.into_iter().map(|i| serde_dynamo::from_item(i).map_err(serde_err)).collect()
    }

    /// Adds a member with their class places, counters, audit entry and event in one
    /// transaction; a pending join request of theirs ends with it.
    pub async fn add_member(
        &self,
        m: &Membership,
        joined: Joined<'_>,
        audit: Option<&AuditEntry>,
        event: Option<&Event>,
    ) -> Result<(), MemberError> {
        let Joined { pending, by } = joined;
        let mut tx = Tx::new(&self.table);
        let mut meanings: Vec<(usize, MemberError)> =
            put_new_member(&mut tx, m)?.into_iter().map(|(i, f)| (i, f.into())).collect();
        count_members_and_requests(&mut tx, &m.org_id, 1, i64::from(m.admin), -i64::from(pending.is_some()))?;
        meanings
            .push((end_or_check_pending(&mut tx, &m.org_id, &m.user_id, pending, by)?, MemberError::HasPendingRequest));
        if let Some(a) = audit {
            a.add_to(&mut tx)?;
        }
        if let Some(e) = event {
            e.add_to(&mut tx)?;
        }
        tx.run_expecting(self, meanings).await?;
        Ok(())
    }

    /// Replaces a member's roles, moving their class places to match.
    pub async fn update_member_roles(
        &self,
        old: &Membership,
        roles: Vec<RoleGrant>,
        audit: Option<&AuditEntry>,
    ) -> Result<Membership, MemberError> {
        let mut new = old.clone();
        new.roles = roles;
        new.version = old.version + 1;
        let mut tx = Tx::new(&self.table);
        let expr = Expr::update("SET #roles = :roles, role_names = :names, version = :version")
            .when("attribute_exists(pk) AND version = :read AND admin = :admin")
            .name("#roles", "roles")
            .value(":roles", roles_value(&new.roles)?)
            .value(":names", role_names(&new.roles))
            .value(":version", n(new.version))
            .value(":read", n(old.version))
            .value(":admin", b(old.admin));
        let mut meanings = vec![(tx.update(member_key(&old.org_id, &old.user_id), expr)?, MemberError::Changed)];
        for (class, add, remove) in roster_changes(&old.places(), &new.places()) {
            let meaning =
                if add.is_empty() { MemberError::Changed } else { MemberError::ClassUnavailable(class.clone()) };
            meanings.push((roster_update(&mut tx, &old.org_id, &class, &old.user_id, &add, &remove)?, meaning));
        }
        if let Some(a) = audit {
            a.add_to(&mut tx)?;
        }
        tx.run_expecting(self, meanings).await?;
        Ok(new)
    }

    /// Ends a membership: the membership, its class places and its admin flag go together
    /// (never the last admin), with the audit entry. `existing_classes` are the member's
    /// classes that still exist (a deleted class has no roster to leave).
    pub async fn remove_member(
        &self,
        m: &Membership,
        existing_classes: &BTreeSet<String>,
        audit: Option<&AuditEntry>,
    ) -> Result<(), MemberError> {
        let mut tx = Tx::new(&self.table);
        let mut meanings = vec![(
            tx.delete(
                member_key(&m.org_id, &m.user_id),
                Some(Expr::condition("attribute_exists(pk) AND version = :read").value(":read", n(m.version))),
            )?,
            MemberError::Changed,
        )];
        meanings.push((count_members(&mut tx, &m.org_id, -1, -i64::from(m.admin))?, MemberError::LastAdmin));
        for (class, _, remove) in roster_changes(&m.places(), &BTreeSet::new()) {
            if existing_classes.contains(&class) {
                meanings
                    .push((roster_update(&mut tx, &m.org_id, &class, &m.user_id, &[], &remove)?, MemberError::Changed));
            }
        }
        if let Some(a) = audit {
            a.add_to(&mut tx)?;
        }
        tx.run_expecting(self, meanings).await?;
        Ok(())
    }

    /// Appoints (`admin = true`) or demotes a member. The admin count moves in the same
    /// transaction, never below one; the acting admin must still be one.
    pub async fn set_admin(
        &self,
        target: &Membership,
        admin: bool,
        actor: &UserId,
        audit: &AuditEntry,
        event: Option<&Event>,
    ) -> Result<Membership, MemberError> {
        let org = &target.org_id;
        let mut tx = Tx::new(&self.table);
        let expr = (if admin {
            Expr::update(format!("SET admin = :true, version = version + :one, {GSI2PK} = :apk, {GSI2SK} = :ask"))
                .when("attribute_exists(pk) AND admin = :false AND (contains(role_names, :teacher) OR contains(role_names, :staff))")
                .value(":apk", s(admins_pk(org)))
                .value(":ask", s(member_sk(&target.user_id)))
                .value(":teacher", s("teacher"))
                .value(":staff", s("staff"))
        } else {
            Expr::update(format!("SET admin = :false, version = version + :one REMOVE {GSI2PK}, {GSI2SK}")).when("attribute_exists(pk) AND admin = :true")
        })
        .value(":true", b(true))
        .value(":false", b(false))
        .value(":one", n(1));
        let mut meanings = vec![(tx.update(member_key(org, &target.user_id), expr)?, MemberError::Changed)];
        meanings.push((count_members(&mut tx, org, 0, if admin { 1 } else { -1 })?, MemberError::LastAdmin));
        if actor != &target.user_id {
            let check = Expr::condition("admin = :true").value(":true", b(true));
            meanings.push((tx.check(member_key(org, actor), check)?, MemberError::ActorNotAdmin));
        }
        audit.add_to(&mut tx)?;
        if let Some(e) = event {
            e.add_to(&mut tx)?;
        }
        tx.run_expecting(self, meanings).await?;
        Ok(Membership { admin, version: target.version + 1, ..target.clone() })
    }

    /// Records the member's first request of the day: at most one write a member a day,
    /// and none when another request already recorded the day.
    pub async fn touch_member(&self, m: &Membership, now: Timestamp) -> Result<(), StoreError> {
        let today = now.day();
        let oldest = now.plus(time::Duration::days(-29)).day();
        let mut days: Vec<String> = m.active_days.iter().filter(|d| **d >= oldest && **d != today).cloned().collect();
        days.push(today.clone());
        let result = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(member_key(&m.org_id, &m.user_id)))
            .update_expression("SET last_active_at = :now, active_days = :days")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(last_active_at) OR last_active_at < :today)",
            )
            .expression_attribute_values(":now", s(now.to_string()))
            .expression_attribute_values(":today", s(today))
            .expression_attribute_values(":days", AttributeValue::L(days.into_iter().map(AttributeValue::S).collect()))
            .return_values(ReturnValue::None)
            .send()
            .await;
        match result.map_err(classify) {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// A page of the organization's members, optionally only those holding `role`.
    pub async fn members(
        &self,
        org: &OrgId,
        role: Option<Role>,
        page: &PageQuery,
    ) -> Result<(Vec<Membership>, Option<Cursor>), StoreError> {
        let mut q = KeyQuery::table(org_pk(org)).prefix(MEMBER_PREFIX);
        if let Some(role) = role {
            let name = serde_json::to_value(role).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            q = q.filter(Expr::condition("contains(role_names, :role)").value(":role", s(name)));
        }
        self.query_page(&q, page).await
    }

    /// The organization's admins (a sparse index: one query, however many members).
    pub async fn admins(&self, org: &OrgId) -> Result<Vec<Membership>, StoreError> {
        self.query_all(&KeyQuery::index(GSI2, admins_pk(org))).await
    }

    /// A page of the user's memberships across organizations.
    pub async fn user_memberships(
        &self,
        user: &UserId,
        page: &PageQuery,
    ) -> Result<(Vec<Membership>, Option<Cursor>), StoreError> {
        self.query_page(&KeyQuery::index(GSI1, user_pk(user)).prefix(ORG_PREFIX), page).await
    }
}
