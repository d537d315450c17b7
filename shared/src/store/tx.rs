//! A small builder for TransactWriteItems: puts, updates, deletes and condition checks
//! with their expressions, in one all-or-nothing write (at most 100 actions).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update};

use super::keys::{member_sk, org_pk, PK, SK};
use super::{Store, StoreError};
use crate::domain::{OrgId, UserId};

pub type Item = HashMap<String, AttributeValue>;

/// DynamoDB's limit on the actions of one transaction.
pub const MAX_ACTIONS: usize = 100;

pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.to_string(), AttributeValue::S(pk.into())), (SK.to_string(), AttributeValue::S(sk.into()))])
}

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn b(v: bool) -> AttributeValue {
    AttributeValue::Bool(v)
}

/// An update, condition or both, with the names and values they use.
#[derive(Debug, Default, Clone)]
pub struct Expr {
    pub update: Option<String>,
    pub condition: Option<String>,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl Expr {
    pub fn update(update: impl Into<String>) -> Self {
        Expr { update: Some(update.into()), ..Default::default() }
    }

    pub fn condition(condition: impl Into<String>) -> Self {
        Expr { condition: Some(condition.into()), ..Default::default() }
    }

    pub fn when(mut self, condition: impl Into<String>) -> Self {
        self.condition = Some(condition.into());
        self
    }

    pub fn name(mut self, placeholder: &str, attr: &str) -> Self {
        self.names.insert(placeholder.into(), attr.into());
        self
    }

    pub fn value(mut self, placeholder: &str, v: AttributeValue) -> Self {
        self.values.insert(placeholder.into(), v);
        self
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn built<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Other(format!("building a transaction: {e}")))
}

/// The actions of one transaction; each `add` returns the action's index, to tell which
/// condition failed.
#[derive(Debug, Default)]
pub struct Tx {
    table: String,
    items: Vec<TransactWriteItem>,
    /// The keys the actions write or check, as (pk, sk).
    keys: Vec<(String, String)>,
    /// The membership that must still be an admin's when the transaction runs.
    admin: Option<Item>,
}

/// An item's or key's (pk, sk).
pub fn key_of(item: &Item) -> (String, String) {
    let attr = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    (attr(PK), attr(SK))
}

/// What a failed transaction means: the meaning of the first action whose condition
/// failed, or the store's error.
pub fn meaning_of<E: From<StoreError>>(e: StoreError, mut meanings: Vec<(usize, E)>) -> E {
    match meanings.iter().position(|(i, _)| e.condition_failed_at(*i)) {
        Some(i) => meanings.swap_remove(i).1,
        None => e.into(),
    }
}

impl Tx {
    pub fn new(table: &str) -> Self {
        Tx { table: table.to_string(), ..Default::default() }
    }

    /// The transaction goes through only if `actor` is still an admin of `org` when it
    /// runs (a condition check on their membership, added at [`Tx::run`] unless the
    /// transaction writes that membership itself, with conditions of its own); otherwise
    /// it fails with [`StoreError::NoLongerAdmin`].
    pub fn require_admin(&mut self, org: &OrgId, actor: &UserId) {
        self.admin = Some(key(org_pk(org), member_sk(actor)));
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn put(&mut self, item: Item, cond: Option<Expr>) -> Result<usize, StoreError> {
        let cond = cond.unwrap_or_default();
        self.keys.push(key_of(&item));
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(cond.condition.clone())
            .set_expression_attribute_names(cond.names())
            .set_expression_attribute_values(cond.values());
        self.items.push(TransactWriteItem::builder().put(built(put.build())?).build());
        Ok(self.items.len() - 1)
    }

    pub fn update(&mut self, key: Item, expr: Expr) -> Result<usize, StoreError> {
        self.keys.push(key_of(&key));
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .set_update_expression(expr.update.clone())
            .set_condition_expression(expr.condition.clone())
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values());
        self.items.push(TransactWriteItem::builder().update(built(update.build())?).build());
        Ok(self.items.len() - 1)
    }

    pub fn delete(&mut self, key: Item, cond: Option<Expr>) -> Result<usize, StoreError> {
        let cond = cond.unwrap_or_default();
        self.keys.push(key_of(&key));
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .set_condition_expression(cond.condition.clone())
            .set_expression_attribute_names(cond.names())
            .set_expression_attribute_values(cond.values());
        self.items.push(TransactWriteItem::builder().delete(built(delete.build())?).build());
        Ok(self.items.len() - 1)
    }

    pub fn check(&mut self, key: Item, cond: Expr) -> Result<usize, StoreError> {
        self.keys.push(key_of(&key));
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .set_condition_expression(cond.condition.clone())
            .set_expression_attribute_names(cond.names())
            .set_expression_attribute_values(cond.values());
        self.items.push(TransactWriteItem::builder().condition_check(built(check.build())?).build());
        Ok(self.items.len() - 1)
    }

    /// Runs the transaction and maps a failed condition to its meaning: `meanings` pairs an
    /// action's index with the domain error its condition stands for (the first failed one
    /// in the list wins); any other failure is a store error.
    pub async fn run_expecting<E: From<StoreError>>(self, store: &Store, meanings: Vec<(usize, E)>) -> Result<(), E> {
        match self.run(store).await {
            Ok(()) => Ok(()),
            Err(e) => Err(meaning_of(e, meanings)),
        }
    }

    /// Runs the transaction; `Cancelled` names each action's reason, `NoLongerAdmin` says
    /// that the actor of [`Tx::require_admin`] is no longer an admin.
    pub async fn run(mut self, store: &Store) -> Result<(), StoreError> {
        if self.items.is_empty() {
            return Ok(());
        }
        let mut guard = None;
        if let Some(key) = self.admin.take() {
            if !self.keys.contains(&key_of(&key)) {
                let cond = Expr::condition("admin = :true").value(":true", b(true));
                guard = Some(self.check(key, cond)?);
            }
        }
        if self.items.len() > MAX_ACTIONS {
            return Err(StoreError::Other(format!("{} actions in one transaction", self.items.len())));
        }
        match store.transact(self.items).await {
            Err(e) if guard.is_some_and(|i| e.condition_failed_at(i)) => Err(StoreError::NoLongerAdmin),
            other => other,
        }
    }
}
