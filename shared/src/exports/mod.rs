//! Exports (R9): what an admin downloads, written as a stream of rows so that memory does
//! not grow with the organization. Each format is a sink that takes rows of cells.

pub mod csv;
pub mod upload;
pub mod xlsx;

use crate::domain::Timestamp;

/// One cell of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text as people typed it (names, positions): never read as a formula.
    Text(String),
    Number(u64),
    /// A moment, shown as its UTC date and time.
    Time(Timestamp),
    /// A calendar day.
    Day(time::Date),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<u64> for Cell {
    fn from(n: u64) -> Self {
        Cell::Number(n)
    }
}

impl From<Option<Timestamp>> for Cell {
    fn from(t: Option<Timestamp>) -> Self {
        t.map_or(Cell::Empty, Cell::Time)
    }
}
