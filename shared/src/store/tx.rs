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

    /// The keys the actions write or check, as (pk, sk), in the actions' order.
    pub fn keys(&self) -> &[(String, String)] {
        &self.keys
    }

    /// Appends `other`'s actions (their indices shift by this one's length).
    fn append(&mut self, other: &Tx) {
        self.items.extend(other.items.iter().cloned());
        self.keys.extend(other.keys.iter().cloned());
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

/// One row's write for [`Store::write_rows`]: its transaction as it would run alone, and
/// the counters it moves (unconditioned `ADD`s of an item's attributes), which a group
/// of rows merges into one update per item.
#[derive(Debug, Default)]
pub struct RowTx {
    pub tx: Tx,
    pub adds: Vec<(Item, Vec<(&'static str, i64)>)>,
}

impl RowTx {
    /// The row's transaction alone: its actions, then its counters.
    pub fn alone(self) -> Result<Tx, StoreError> {
        let mut tx = self.tx;
        for (key, deltas) in self.adds {
            add_counts(&mut tx, key, deltas.iter().copied())?;
        }
        Ok(tx)
    }

    fn actions(&self) -> usize {
        self.tx.len() + self.adds.len()
    }
}

/// Adds `ADD #a<i> :a<i>` of each (attribute, delta) to the item of `key` (nothing when
/// every delta is 0).
fn add_counts<'a>(
    tx: &mut Tx,
    key: Item,
    deltas: impl IntoIterator<Item = (&'a str, i64)>,
) -> Result<Option<usize>, StoreError> {
    let mut expr = Expr::default();
    let mut adds = Vec::new();
    for (i, (attr, delta)) in deltas.into_iter().filter(|(_, d)| *d != 0).enumerate() {
        adds.push(format!("#a{i} :a{i}"));
        expr = expr.name(&format!("#a{i}"), attr).value(&format!(":a{i}"), n(delta));
    }
    if adds.is_empty() {
        return Ok(None);
    }
    expr.update = Some(format!("ADD {}", adds.join(", ")));
    Ok(Some(tx.update(key, expr)?))
}

/// A group's counters: per item (by its key), the item's key and each attribute's sum.
type Sums = HashMap<(String, String), (Item, HashMap<&'static str, i64>)>;

/// Which rows go in one transaction: their actions' keys all different (DynamoDB refuses
/// two actions on one item), counters merged per item, at most [`MAX_ACTIONS`].
#[derive(Default)]
struct Group {
    rows: Vec<usize>,
    keys: std::collections::HashSet<(String, String)>,
    counters: std::collections::HashSet<(String, String)>,
    actions: usize,
}

impl Group {
    /// Takes row `i` when it fits.
    fn take(&mut self, i: usize, row: &RowTx) -> bool {
        let counters: Vec<(String, String)> = row.adds.iter().map(|(k, _)| key_of(k)).collect();
        let new_counters = counters.iter().filter(|k| !self.counters.contains(*k)).count();
        let actions = self.actions + row.tx.len() + new_counters;
        let clash = row.tx.keys().iter().any(|k| self.keys.contains(k) || self.counters.contains(k))
            || counters.iter().any(|k| self.keys.contains(k));
        if clash || actions > MAX_ACTIONS {
            return false;
        }
        self.keys.extend(row.tx.keys().iter().cloned());
        self.counters.extend(counters);
        self.actions = actions;
        self.rows.push(i);
        true
    }
}

/// Packs rows `todo` of `rows` into groups, each row into the first group it fits.
fn pack(rows: &[RowTx], todo: &[usize]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for &i in todo {
        if !groups.iter_mut().any(|g| g.take(i, &rows[i])) {
            let mut g = Group::default();
            g.take(i, &rows[i]);
            groups.push(g);
        }
    }
    groups
}

impl Store {
    /// Writes rows' transactions a group at a time (as many rows in one TransactWriteItems
    /// as fit; a group applies whole or not at all, so each of its rows does), with every
    /// row's conditions as alone. Answers, per row, whether it is written: a row whose
    /// condition failed in its group (or that cannot go in one) is not, and is for the
    /// caller to write alone, where its condition's meaning is told; the other rows of a
    /// failed group are tried again without it.
    pub async fn write_rows(&self, rows: Vec<RowTx>) -> Result<Vec<bool>, StoreError> {
        let mut written = vec![false; rows.len()];
        let mut todo: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].actions() <= MAX_ACTIONS).collect();
        while !todo.is_empty() {
            let mut again = Vec::new();
            for group in pack(&rows, &todo) {
                if group.rows.len() == 1 {
                    // Alone anyway: the caller's own write tells what a failure means.
                    continue;
                }
                let mut tx = Tx::new(&self.table);
                let mut spans = Vec::with_capacity(group.rows.len());
                let mut counters: Sums = HashMap::new();
                for &i in &group.rows {
                    let start = tx.len();
                    tx.append(&rows[i].tx);
                    spans.push((i, start..tx.len()));
                    for (key, deltas) in &rows[i].adds {
                        let (_, sums) = counters.entry(key_of(key)).or_insert_with(|| (key.clone(), HashMap::new()));
                        for (attr, d) in deltas {
                            *sums.entry(attr).or_default() += d;
                        }
                    }
                }
                let mut counters: Vec<_> = counters.into_iter().collect();
                counters.sort_by(|a, b| a.0.cmp(&b.0));
                for (_, (key, sums)) in counters {
                    let mut sums: Vec<(&str, i64)> = sums.into_iter().collect();
                    sums.sort();
                    add_counts(&mut tx, key, sums)?;
                }
                match tx.run(self).await {
                    Ok(()) => group.rows.iter().for_each(|&i| written[i] = true),
                    Err(StoreError::Cancelled(reasons)) => {
                        let failed = |r: &std::ops::Range<usize>| reasons[r.clone()].iter().any(|why| why != "None");
                        let kept: Vec<usize> = spans
                            .iter()
                            .filter(|(_, r)| r.end <= reasons.len() && !failed(r))
                            .map(|(i, _)| *i)
                            .collect();
                        // Only rows that did not fail are tried again (when none is named,
                        // every row is written alone).
                        if kept.len() < group.rows.len() {
                            again.extend(kept);
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            todo = again;
        }
        Ok(written)
    }
}
