//! The outbox: a change that must have a side effect (an email, a file) writes an event
//! item in its own transaction; the table's stream hands it to a consumer. The item keeps
//! the event's kind and its data as a JSON string; [`Event::event`] reads it back as the
//! typed [`crate::domain::OutboxEvent`].

use super::items::from_item;
pub use super::items::{EventRecord as Event, EVENT_TTL_SECS};
use super::keys::{EVENT_PREFIX, PK};
use super::tx::Item;

/// The event an item of the table holds, if it is an outbox event.
pub fn from_image(item: &Item) -> Option<Result<Event, String>> {
    let is_event = item.get(PK).and_then(|v| v.as_s().ok()).is_some_and(|pk| pk.starts_with(EVENT_PREFIX));
    is_event.then(|| from_item(item.clone()).map_err(|e| format!("outbox event: {e}")))
}
