//! Organizations.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::KeysAndAttributes;
use serde::{Deserialize, Serialize};

use super::audit::AuditEntry;
use super::keys::*;
use super::members::{member_item, member_key, Membership};
use super::tx::{key, n, s, Expr, Item, Tx};
use super::{classify, serde_err, Store, StoreError};
use crate::domain::org::OrgProfile;
use crate::domain::{Email, OrgId, Phone, Timestamp, UserId, Website};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<Website>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Bumped by every profile change; the ETag.
    pub version: u64,
    /// Kept in the same transaction as every admin change; never below 1.
    pub admin_count: u32,
    pub member_count: u32,
    /// Classes that exist (graduated ones included); kept with every class create/delete.
    #[serde(default)]
    pub class_count: u32,
    /// Join requests awaiting an admin's decision.
    #[serde(default)]
    pub pending_join_requests: u32,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Org {
    pub fn profile(&self) -> OrgProfile {
        OrgProfile {
            name: self.name.clone(),
            short_name: self.short_name.clone(),
            address: self.address.clone(),
            website: self.website.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            description: self.description.clone(),
        }
    }

    pub fn with_profile(&self, p: &OrgProfile, now: Timestamp) -> Org {
        Org {
            name: p.name.clone(),
            short_name: p.short_name.clone(),
            address: p.address.clone(),
            website: p.website.clone(),
            phone: p.phone.clone(),
            email: p.email.clone(),
            description: p.description.clone(),
            version: self.version + 1,
            updated_at: now,
            ..self.clone()
        }
    }
}

pub fn org_key(org: &OrgId) -> Item {
    key(org_pk(org), PROFILE)
}

fn org_item(org: &Org) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(org).map_err(serde_err)?;
    item.extend(org_key(&org.id));
    Ok(item)
}

/// The profile as JSON, for audit entries.
pub fn profile_json(p: &OrgProfile) -> serde_json::Value {
    serde_json::json!({
        "name": p.name, "short_name": p.short_name, "address": p.address,
        "website": p.website, "phone": p.phone, "email": p.email, "description": p.description,
    })
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
    /// organization's partition (by sort key), in one round trip.
    pub async fn org_member_and(
        &self,
        org: &OrgId,
        user: &UserId,
        extra_sks: &[String],
    ) -> Result<(Option<Org>, Option<Membership>, HashMap<String, Item>), StoreError> {
        let mut keys = vec![org_key(org), member_key(org, user)];
        let member_sk = member_sk(user);
        let mut seen = std::collections::BTreeSet::new();
        keys.extend(
            extra_sks
                .iter()
                .filter(|sk| **sk != member_sk && seen.insert((*sk).clone()))
                .map(|sk| key(org_pk(org), sk.clone())),
        );
        let mut found_org = None;
        let mut found_member = None;
        let mut extra = HashMap::new();
        for item in self.batch_get(keys).await? {
            let sk = item.get(SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            if sk == PROFILE {
                found_org = Some(serde_dynamo::from_item(item).map_err(serde_err)?);
            } else if sk == member_sk {
                found_member = Some(serde_dynamo::from_item(item.clone()).map_err(serde_err)?);
                if extra_sks.contains(&sk) {
                    extra.insert(sk, item);
                }
            } else {
                extra.insert(sk, item);
            }
        }
        Ok((found_org, found_member, extra))
    }

    pub async fn org(&self, id: &OrgId) -> Result<Option<Org>, StoreError> {
        self.get(org_key(id)).await
    }

    /// Organizations by ID (missing ones are left out).
    pub async fn orgs(&self, ids: &[OrgId]) -> Result<Vec<Org>, StoreError> {
        let mut orgs = Vec::new();
        for item in self.batch_get(ids.iter().map(org_key).collect()).await? {
            orgs.push(serde_dynamo::from_item(item).map_err(serde_err)?);
        }
        Ok(orgs)
    }

    /// Reads items by key, 100 a call, retrying what DynamoDB leaves unprocessed.
    pub async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending = chunk.to_vec();
            for attempt in 0..6 {
                if pending.is_empty() {
                    break;
                }
                // Consistent: these reads decide who may do what.
                let ka = KeysAndAttributes::builder()
                    .set_keys(Some(pending.clone()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Other(e.to_string()))?;
                let out = self.db.batch_get_item().request_items(&self.table, ka).send().await.map_err(classify)?;
                if let Some(mut responses) = out.responses {
                    found.extend(responses.remove(&self.table).unwrap_or_default());
                }
                pending =
                    out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).map(|ka| ka.keys).unwrap_or_default();
                if !pending.is_empty() {
                    tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
                }
            }
            if !pending.is_empty() {
                return Err(StoreError::Other("batch get left keys unprocessed".into()));
            }
        }
        Ok(found)
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
        audit.add_to(&mut tx)?;
        match tx.run(self).await {
            Ok(()) => Ok(updated),
            Err(e) if e.condition_failed_at(0) => Err(StoreError::ConditionFailed),
            Err(e) => Err(e),
        }
    }
}

/// Moves the organization's counters by `delta` (members, admins) inside a transaction;
/// with `keep_an_admin`, on the condition that an admin remains.
pub fn count_members(tx: &mut Tx, org: &OrgId, members: i64, admins: i64) -> Result<usize, StoreError> {
    count_members_and_requests(tx, org, members, admins, 0)
}

/// As [`count_members`], also moving the count of pending join requests (one update: a
/// transaction touches the organization's item once).
pub fn count_members_and_requests(
    tx: &mut Tx,
    org: &OrgId,
    members: i64,
    admins: i64,
    pending: i64,
) -> Result<usize, StoreError> {
    let mut expr = Expr::update(
        "SET member_count = member_count + :m, admin_count = admin_count + :a, pending_join_requests = if_not_exists(pending_join_requests, :zero) + :p",
    )
    .value(":m", n(members))
    .value(":a", n(admins))
    .value(":p", n(pending))
    .value(":zero", n(0));
    expr = if admins < 0 {
        expr.when("attribute_exists(pk) AND admin_count > :one").value(":one", n(1))
    } else {
        expr.when("attribute_exists(pk)")
    };
    tx.update(org_key(org), expr)
}
