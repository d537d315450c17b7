//! Audit entries as handlers write them: `caller.audit(AuditAction::MemberAdd, "member", id)`,
//! then `.before(..)` and `.after(..)` with what changed.

use super::access::Caller;
use crate::domain::AuditAction;
use crate::domain::AuditEntry;

impl Caller {
    /// An entry of an action by the caller in their organization. When the caller acts as
    /// an admin, the transaction that writes it also checks that they still are one: an
    /// admin demoted a moment earlier is refused (403), whatever the handler read.
    /// `target` is the ID of what it acted on (`target_type`): any entity's ID, as text.
    pub fn audit<T: AsRef<str> + ?Sized>(&self, action: AuditAction, target_type: &str, target: &T) -> AuditEntry {
        AuditEntry::new(&self.org.id, &self.actor(), action, target_type, target).as_admin(self.is_admin())
    }
}
