//! Organizations: made with their first admin, read with the caller's membership (and
//! whatever else a request needs) in one round trip, and their profile edited.

use std::collections::{BTreeSet, HashMap};

use super::items::{class_key, from_item, member_item, member_key, org_item, org_key, request_key};
use super::keys::*;
use super::pieces::add_audit;
use super::tx::{n, s, Expr, Item, Tx};
use super::{Store, StoreError};
use crate::domain::{AuditEntry, Class, Email, JoinRequest, Membership, Org, OrgId, OrgProfile, Phone, Timestamp};
use crate::domain::{UserId, Website};

/// An item of the organization's partition to read along with the membership check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Also {
    Member(UserId),
    Class(String),
    JoinRequest(String),
}

impl Also {
    fn key(&self, org: &OrgId) -> Item {
        match self {
            Also::Member(user) => member_key(org, user),
            Also::Class(id) => class_key(org, id),
            Also::JoinRequest(id) => request_key(org, id),
        }
    }
}

/// The further items read with the membership check, by what was asked for.
#[derive(Debug, Default)]
pub struct Read(HashMap<String, Item>);

impl Read {
    fn take<T: serde::de::DeserializeOwned>(&mut self, sk: &str) -> Result<Option<T>, StoreError> {
        self.0.remove(sk).map(from_item).transpose()
    }

    pub fn member(&mut self, user: &UserId) -> Result<Option<Membership>, StoreError> {
        self.take(&member_sk(user))
    }

    pub fn class(&mut self, id: &str) -> Result<Option<Class>, StoreError> {
        self.take(&class_sk(id))
    }

    pub fn join_request(&mut self, id: &str) -> Result<Option<JoinRequest>, StoreError> {
        self.take(&join_request_sk(id))
    }
}

fn sort_key(item: &Item) -> String {
    item.get(SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

impl Store {
    /// Creates an organization with its creator as first admin. The ID is drawn again on
    /// the (rare) collision: the create is conditional on the ID being free.
    pub async fn create_org(&self, mut org: Org, mut creator: Membership) -> Result<(Org, Membership), StoreError> {
        for _ in 0..5 {
            creator.org_id = org.id.clone();
            let mut tx = Tx::new(&self.table);
            tx.put(org_item(&org)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
            tx.put(member_item(&creator)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
            match tx.run(self).await {
                Ok(()) => return Ok((org, creator)),
                Err(e) if e.condition_failed_at(0) => org.id = OrgId::generate(),
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Other("no free organization ID after 5 draws".into()))
    }

    /// The organization, the caller's membership and any further items of the
    /// organization's partition, in one round trip.
    pub async fn org_member_and(
        &self,
        org: &OrgId,
        user: &UserId,
        also: &[Also],
    ) -> Result<(Option<Org>, Option<Membership>, Read), StoreError> {
        let member_sk = member_sk(user);
        let mut keys = vec![org_key(org), member_key(org, user)];
        let mut wanted = BTreeSet::new();
        for a in also {
            let key = a.key(org);
            let sk = sort_key(&key);
            if sk != member_sk && !wanted.contains(&sk) {
                keys.push(key);
            }
            wanted.insert(sk);
        }
        let mut found_org = None;
        let mut found_member = None;
        let mut extra = HashMap::new();
        for item in self.batch_get(keys).await? {
            let sk = sort_key(&item);
            if sk == PROFILE {
                found_org = Some(from_item(item)?);
            } else if sk == member_sk {
                found_member = Some(from_item(item.clone())?);
                if wanted.contains(&sk) {
                    extra.insert(sk, item);
                }
            } else {
                extra.insert(sk, item);
            }
        }
        Ok((found_org, found_member, Read(extra)))
    }

    pub async fn org(&self, id: &OrgId) -> Result<Option<Org>, StoreError> {
        self.get(org_key(id)).await
    }

    /// Organizations by ID (missing ones are left out).
    pub async fn orgs(&self, ids: &[OrgId]) -> Result<Vec<Org>, StoreError> {
        self.batch_get_as(ids.iter().map(org_key).collect()).await
    }

    /// Writes a new profile with its audit entry, conditional on the version read
    /// (optimistic concurrency): `ConditionFailed` when it changed meanwhile.
    pub async fn update_org_profile(
        &self,
        org: &Org,
        profile: &OrgProfile,
        audit: &AuditEntry,
    ) -> Result<Org, StoreError> {
        let updated = org.with_profile(profile, Timestamp::now());
        let mut set = vec!["#name = :name", "version = :version", "updated_at = :now"];
        let mut remove = Vec::new();
        let mut expr = Expr::default()
            .name("#name", "name")
            .value(":name", s(&profile.name))
            .value(":version", n(updated.version))
            .value(":read", n(org.version))
            .value(":now", s(updated.updated_at.to_string()));
        let optional: [(&'static str, &'static str, Option<&str>); 6] = [
            ("short_name", "short_name = :short_name", profile.short_name.as_deref()),
            ("address", "address = :address", profile.address.as_deref()),
            ("website", "website = :website", profile.website.as_ref().map(Website::as_str)),
            ("phone", "phone = :phone", profile.phone.as_ref().map(Phone::as_str)),
            ("email", "email = :email", profile.email.as_ref().map(Email::as_str)),
            ("description", "description = :description", profile.description.as_deref()),
        ];
        for (attr, assignment, value) in optional {
            match value {
                Some(v) => {
                    set.push(assignment);
                    expr = expr.value(&format!(":{attr}"), s(v));
                }
                None => remove.push(attr),
            }
        }
        let mut update = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        expr.update = Some(update);
        let mut tx = Tx::new(&self.table);
        tx.update(org_key(&org.id), expr.when("attribute_exists(pk) AND version = :read"))?;
        add_audit(&mut tx, audit)?;
        match tx.run(self).await {
            Ok(()) => Ok(updated),
            Err(e) if e.condition_failed_at(0) => Err(StoreError::ConditionFailed),
            Err(e) => Err(e),
        }
    }
}
