//! Lists as answered: one page of items and the cursor of the next.

use serde::Serialize;
use utoipa::ToSchema;

use crate::page::Cursor;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to read the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, next: Option<Cursor>) -> Self {
        Page { items, next_cursor: next.map(|c| c.encode()) }
    }

    /// A whole list in one page.
    pub fn all(items: Vec<T>) -> Self {
        Page { items, next_cursor: None }
    }
}
