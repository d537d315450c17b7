//! User profiles: created on first use from the ID token's claims.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::items::{from_item, user_key};
use super::keys::*;
use super::read::KeyQuery;
use super::{classify, Store, StoreError};
use crate::domain::{Identity, ProfileChanges, Timestamp, User, UserId};

impl Store {
    /// Creates the caller's profile on first use and keeps its email in step with the
    /// token (the identity provider owns the email); applies `changes`. One round trip.
    /// A token without an email leaves the stored email and its verification as they
    /// are: it never clears them.
    pub async fn upsert_user(&self, who: &Identity, changes: &ProfileChanges) -> Result<User, StoreError> {
        let (user, claims) = (&who.id, who);
        let now = Timestamp::now().to_string();
        let mut set = vec!["id = :id".to_string(), "created_at = if_not_exists(created_at, :now)".to_string()];
        let mut values = vec![(":id", AttributeValue::S(user.to_string())), (":now", AttributeValue::S(now))];
        match &changes.name {
            Some(_) => set.push("#name = :name".into()),
            None => set.push("#name = if_not_exists(#name, :name)".into()),
        }
        values.push((":name", AttributeValue::S(changes.name.clone().unwrap_or_else(|| claims.initial_name()))));
        let language = changes.language.unwrap_or_default();
        let language = serde_json::to_value(language)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "ru".into());
        if changes.language.is_some() {
            set.push("#language = :language".into());
        } else {
            set.push("#language = if_not_exists(#language, :language)".into());
        }
        values.push((":language", AttributeValue::S(language)));
        if changes.is_empty() {
            set.push("updated_at = if_not_exists(updated_at, :now)".into());
        } else {
            set.push("updated_at = :now".into());
        }
        match claims.email.as_deref().map(crate::domain::Email::normalized) {
            Some(email) => {
                set.push(format!("email = :email, email_verified = :verified, {GSI2PK} = :epk, {GSI2SK} = :upk"));
                values.push((":email", AttributeValue::S(email.clone())));
                values.push((":verified", AttributeValue::Bool(claims.email_verified)));
                values.push((":epk", AttributeValue::S(email_pk(&email))));
                values.push((":upk", AttributeValue::S(user_pk(user))));
            }
            None => {
                set.push("email_verified = if_not_exists(email_verified, :unverified)".into());
                values.push((":unverified", AttributeValue::Bool(false)));
            }
        }
        let expr = format!("SET {}", set.join(", "));
        let out = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(user_key(user)))
            .update_expression(expr)
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#language", "language")
            .set_expression_attribute_values(Some(values.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(classify)?;
        let item = out.attributes.ok_or_else(|| StoreError::Other("update returned no item".into()))?;
        from_item(item)
    }
}

impl Store {
    /// Profiles by ID (people without one left out).
    pub async fn users(&self, ids: &[UserId]) -> Result<Vec<User>, StoreError> {
        self.batch_get_as(ids.iter().map(user_key).collect()).await
    }

    pub async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        self.get(user_key(id)).await
    }

    /// The registered person with this verified email, if any.
    pub async fn user_by_verified_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let users: Vec<User> =
            self.query_all(&KeyQuery::index(GSI2, email_pk(&crate::domain::Email::normalized(email)))).await?;
        Ok(users.into_iter().find(|u| u.email_verified))
    }
}
