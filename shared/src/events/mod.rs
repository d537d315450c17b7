//! Stream consumers: the table's stream hands each outbox event to the consumer that does
//! its side effect. The same handlers run in Lambda (event source mapping) and locally
//! (the local runner polls the emulator's stream).

pub mod exporter;
pub mod importer;
pub mod mail_events;
pub mod notifier;
pub mod uploads;

use crate::domain::ids::EventId;
use crate::domain::{EntityId, OrgId};
use crate::store::outbox::{self, Event};
use crate::store::tx::Item;

/// One change from the table's stream, however it arrived.
#[derive(Debug, Clone, Default)]
pub struct ChangeRecord {
    /// What a partial batch failure names: the record's sequence number.
    pub id: String,
    /// `INSERT`, `MODIFY` or `REMOVE`.
    pub event_name: String,
    pub new_image: Item,
    /// The item as it was (a `REMOVE`'s, a `MODIFY`'s).
    pub old_image: Item,
    /// A `REMOVE` DynamoDB's TTL made (the record's `userIdentity` is the service
    /// `dynamodb.amazonaws.com`), not a request.
    pub by_ttl: bool,
}

/// Whether a stream record's `userIdentity` (type, principal) is DynamoDB's TTL.
pub fn is_ttl_identity(kind: Option<&str>, principal: Option<&str>) -> bool {
    kind == Some("Service") && principal == Some("dynamodb.amazonaws.com")
}

impl ChangeRecord {
    /// The outbox event this record inserts, if it is one.
    pub fn outbox_event(&self) -> Option<Result<Event, String>> {
        if self.event_name != "INSERT" {
            return None;
        }
        outbox::from_image(&self.new_image)
    }

    /// The ID of the outbox event this record inserts, read from its key alone (for an
    /// event whose data cannot be read).
    pub fn event_id(&self) -> Option<EventId> {
        let pk = self.new_image.get(crate::store::keys::PK).and_then(|v| v.as_s().ok())?;
        pk.strip_prefix(crate::store::keys::EVENT_PREFIX).and_then(EventId::parse)
    }

    /// The item this record inserts under a sort key of `prefix` (an export's `EXPORT#`,
    /// an import run's `IMPORTRUN#`): its organization and the ID the key names, if it is
    /// one.
    pub fn inserted<T: EntityId>(&self, prefix: &str) -> Option<(OrgId, T)> {
        if self.event_name != "INSERT" {
            return None;
        }
        let text = |name: &str| self.new_image.get(name).and_then(|v| v.as_s().ok());
        let id = T::parse(text(crate::store::keys::SK)?.strip_prefix(prefix)?)?;
        let org = OrgId::parse(text("org_id")?)?;
        Some((org, id))
    }
}
