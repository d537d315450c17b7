//! Organizations and memberships.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, ReturnValue, TransactWriteItem, Update,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::keys::*;
use super::{classify, serde_err, Store, StoreError};
use crate::domain::org::OrgProfile;
use crate::domain::{Email, OrgId, Phone, RoleGrant, Timestamp, UserId, Website};
use crate::http::{Cursor, PageQuery};

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
}

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
}

fn key(pk: String, sk: String) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PK.to_string(), AttributeValue::S(pk)),
        (SK.to_string(), AttributeValue::S(sk)),
    ])
}

fn org_key(org: &OrgId) -> HashMap<String, AttributeValue> {
    key(org_pk(org), PROFILE.into())
}

fn member_key(org: &OrgId, user: &UserId) -> HashMap<String, AttributeValue> {
    key(org_pk(org), member_sk(user))
}

fn org_item(org: &Org) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let mut item: HashMap<String, AttributeValue> =
        serde_dynamo::to_item(org).map_err(serde_err)?;
    item.extend(org_key(&org.id));
    Ok(item)
}

fn member_item(m: &Membership) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let mut item: HashMap<String, AttributeValue> = serde_dynamo::to_item(m).map_err(serde_err)?;
    item.extend(member_key(&m.org_id, &m.user_id));
    item.insert(GSI1PK.into(), AttributeValue::S(user_pk(&m.user_id)));
    item.insert(GSI1SK.into(), AttributeValue::S(org_pk(&m.org_id)));
    Ok(item)
}

fn put(
    table: &str,
    item: HashMap<String, AttributeValue>,
    condition: &str,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .build()
        .map_err(|e| StoreError::Other(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// Why leaving was refused.
#[derive(Debug)]
pub enum LeaveError {
    /// The caller is the organization's last admin.
    LastAdmin,
    /// The membership changed (or went) since it was read; read again.
    Changed,
    Store(StoreError),
}

impl Store {
    /// Creates an organization with its creator as first admin. The ID is drawn again on
    /// the (rare) collision: the create is conditional on the ID being free.
    pub async fn create_org(
        &self,
        profile: OrgProfile,
        creator: &crate::store::users::User,
        grant: RoleGrant,
    ) -> Result<(Org, Membership), StoreError> {
        let now = Timestamp::now();
        for _ in 0..5 {
            let org = Org {
                id: OrgId::generate(),
                name: profile.name.clone(),
                short_name: profile.short_name.clone(),
                address: profile.address.clone(),
                website: profile.website.clone(),
                phone: profile.phone.clone(),
                email: profile.email.clone(),
                description: profile.description.clone(),
                version: 1,
                admin_count: 1,
                member_count: 1,
                pending_join_requests: 0,
                created_by: creator.id.clone(),
                created_at: now,
                updated_at: now,
            };
            let membership = Membership {
                org_id: org.id.clone(),
                user_id: creator.id.clone(),
                name: creator.name.clone(),
                email: creator.email.clone(),
                roles: vec![grant.clone()],
                admin: true,
                source: MembershipSource::Manual,
                joined_at: now,
                last_active_at: Some(now),
            };
            let items = vec![
                put(&self.table, org_item(&org)?, "attribute_not_exists(pk)")?,
                put(
                    &self.table,
                    member_item(&membership)?,
                    "attribute_not_exists(pk)",
                )?,
            ];
            match self.transact(items).await {
                Ok(()) => return Ok((org, membership)),
                Err(e) if e.condition_failed_at(0) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Other(
            "no free organization ID after 5 draws".into(),
        ))
    }

    /// Adds a member; the counts move in the same transaction. The condition fails at
    /// action 0 when the person is already a member, at 1 when the organization is gone.
    pub async fn add_member(&self, m: &Membership) -> Result<(), StoreError> {
        let expr = if m.admin {
            "SET member_count = member_count + :one, admin_count = admin_count + :one"
        } else {
            "SET member_count = member_count + :one"
        };
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(org_key(&m.org_id)))
            .update_expression(expr)
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(|e| StoreError::Other(e.to_string()))?;
        self.transact(vec![
            put(&self.table, member_item(m)?, "attribute_not_exists(pk)")?,
            TransactWriteItem::builder().update(update).build(),
        ])
        .await
    }

    /// The organization and the caller's membership in it, in one round trip.
    pub async fn org_and_membership(
        &self,
        org: &OrgId,
        user: &UserId,
    ) -> Result<(Option<Org>, Option<Membership>), StoreError> {
        let items = self
            .batch_get(vec![org_key(org), member_key(org, user)])
            .await?;
        let mut found_org = None;
        let mut found_member = None;
        for item in items {
            match item.get(SK).and_then(|v| v.as_s().ok()).map(String::as_str) {
                Some(PROFILE) => {
                    found_org = Some(serde_dynamo::from_item(item).map_err(serde_err)?)
                }
                Some(_) => found_member = Some(serde_dynamo::from_item(item).map_err(serde_err)?),
                None => {}
            }
        }
        Ok((found_org, found_member))
    }

    pub async fn membership(
        &self,
        org: &OrgId,
        user: &UserId,
    ) -> Result<Option<Membership>, StoreError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(member_key(org, user)))
            .send()
            .await
            .map_err(classify)?;
        out.item
            .map(|i| serde_dynamo::from_item(i).map_err(serde_err))
            .transpose()
    }

    /// Organizations by ID (missing ones are left out), with BatchGetItem's retries.
    pub async fn orgs(&self, ids: &[OrgId]) -> Result<Vec<Org>, StoreError> {
        let mut orgs = Vec::new();
        for chunk in ids.chunks(100) {
            for item in self.batch_get(chunk.iter().map(org_key).collect()).await? {
                orgs.push(serde_dynamo::from_item(item).map_err(serde_err)?);
            }
        }
        Ok(orgs)
    }

    async fn batch_get(
        &self,
        keys: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut pending = keys;
        let mut found = Vec::new();
        for attempt in 0..6 {
            if pending.is_empty() {
                break;
            }
            let ka = KeysAndAttributes::builder()
                .set_keys(Some(pending.clone()))
                .build()
                .map_err(|e| StoreError::Other(e.to_string()))?;
            let out = self
                .db
                .batch_get_item()
                .request_items(&self.table, ka)
                .send()
                .await
                .map_err(classify)?;
            if let Some(mut responses) = out.responses {
                found.extend(responses.remove(&self.table).unwrap_or_default());
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|ka| ka.keys)
                .unwrap_or_default();
            if !pending.is_empty() {
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
            }
        }
        if !pending.is_empty() {
            return Err(StoreError::Other("batch get left keys unprocessed".into()));
        }
        Ok(found)
    }

    /// Writes a new profile, conditional on the version read (optimistic concurrency).
    /// `ConditionFailed` when the organization changed meanwhile (or is gone).
    pub async fn update_org_profile(
        &self,
        org: &Org,
        profile: &OrgProfile,
    ) -> Result<Org, StoreError> {
        let now = Timestamp::now().to_string();
        let mut set = vec![
            "#name = :name",
            "version = version + :one",
            "updated_at = :now",
        ];
        let mut remove = Vec::new();
        let mut values: HashMap<String, AttributeValue> = HashMap::from([
            (":name".into(), AttributeValue::S(profile.name.clone())),
            (":one".into(), AttributeValue::N("1".into())),
            (":now".into(), AttributeValue::S(now)),
            (
                ":version".into(),
                AttributeValue::N(org.version.to_string()),
            ),
        ]);
        let optional: [(&'static str, &'static str, Option<&str>); 6] = [
            (
                "short_name",
                "short_name = :short_name",
                profile.short_name.as_deref(),
            ),
            ("address", "address = :address", profile.address.as_deref()),
            (
                "website",
                "website = :website",
                profile.website.as_ref().map(Website::as_str),
            ),
            (
                "phone",
                "phone = :phone",
                profile.phone.as_ref().map(Phone::as_str),
            ),
            (
                "email",
                "email = :email",
                profile.email.as_ref().map(Email::as_str),
            ),
            (
                "description",
                "description = :description",
                profile.description.as_deref(),
            ),
        ];
        for (attr, assignment, value) in optional {
            match value {
                Some(v) => {
                    set.push(assignment);
                    values.insert(format!(":{attr}"), AttributeValue::S(v.to_string()));
                }
                None => remove.push(attr),
            }
        }
        let mut expr = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expr.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let out = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(org_key(&org.id)))
            .update_expression(expr)
            .condition_expression("attribute_exists(pk) AND version = :version")
            .expression_attribute_names("#name", "name")
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(classify)?;
        let item = out
            .attributes
            .ok_or_else(|| StoreError::Other("update returned no item".into()))?;
        serde_dynamo::from_item(item).map_err(serde_err)
    }

    /// Ends a membership. For an admin, the admin count drops in the same transaction,
    /// on the condition that another admin remains; the membership must still be as read.
    pub async fn leave_org(&self, m: &Membership) -> Result<(), LeaveError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(member_key(&m.org_id, &m.user_id)))
            .condition_expression("attribute_exists(pk) AND admin = :admin")
            .expression_attribute_values(":admin", AttributeValue::Bool(m.admin));
        let delete = delete
            .build()
            .map_err(|e| LeaveError::Store(StoreError::Other(e.to_string())))?;
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(org_key(&m.org_id)))
            .expression_attribute_values(":one", AttributeValue::N("1".into()));
        update = if m.admin {
            update
                .update_expression(
                    "SET member_count = member_count - :one, admin_count = admin_count - :one",
                )
                .condition_expression("attribute_exists(pk) AND admin_count > :one")
        } else {
            update
                .update_expression("SET member_count = member_count - :one")
                .condition_expression("attribute_exists(pk)")
        };
        let update = update
            .build()
            .map_err(|e| LeaveError::Store(StoreError::Other(e.to_string())))?;
        let items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().update(update).build(),
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(e) if e.condition_failed_at(0) => Err(LeaveError::Changed),
            Err(e) if e.condition_failed_at(1) && m.admin => Err(LeaveError::LastAdmin),
            Err(e) => Err(LeaveError::Store(e)),
        }
    }

    /// A page of the user's memberships (newest organizations by ID order).
    pub async fn user_memberships(
        &self,
        user: &UserId,
        page: &PageQuery,
    ) -> Result<(Vec<Membership>, Option<Cursor>), StoreError> {
        let upk = user_pk(user);
        let start = match &page.cursor {
            Some(c) => Some(
                c.to_start_key(GSI1PK, &upk)
                    .map_err(|_| StoreError::InvalidCursor)?,
            ),
            None => None,
        };
        let out = self
            .db
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", GSI1PK)
            .expression_attribute_names("#sk", GSI1SK)
            .expression_attribute_values(":pk", AttributeValue::S(upk))
            .expression_attribute_values(":prefix", AttributeValue::S(ORG_PREFIX.into()))
            .limit(page.limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(classify)?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|i| serde_dynamo::from_item(i).map_err(serde_err))
            .collect::<Result<Vec<Membership>, _>>()?;
        let next = out.last_evaluated_key.as_ref().and_then(Cursor::from_key);
        Ok((items, next))
    }
}
