//! The mail events' consumer (`mail-events`): SES publishes the bounces and complaints of
//! what the notifier sent (its configuration set's event destination, EventBridge's default
//! bus), and a rule hands each to this function (R8.4).
//!
//! A hard bounce (`bounceType` `Permanent`) or a complaint marks each address it names
//! undeliverable (an item keyed by the address, written once: a redelivered event changes
//! nothing); the notifier mails it no more and a new invitation to it is refused. A
//! transient bounce (a full mailbox, a server down) changes nothing: SES tried again
//! already. When the message was an email invitation (its tags: the outbox event's `kind`
//! and `event_id`), the invitation shows `delivery: "bounced"` (or `"complained"`) and an
//! `invitation_bounced` event for its organization's admins is written in the same
//! transaction. A roster invitation's address is marked (its record is not changed).

use serde_json::Value;

use crate::domain::ids::EventId;
use crate::domain::{Delivery, OutboxEvent, Timestamp};
use crate::store::reputation::{Marked, Undeliverable};
use crate::Ctx;

pub use crate::mail::{TAG_EVENT, TAG_KIND};

/// A bounce for good or a complaint, as read from SES's event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: Delivery,
    /// The addresses it is about (the bounced or complaining recipients; the message's
    /// destinations when SES names none).
    pub addresses: Vec<String>,
    pub message_id: String,
    /// The outbox event the message was sent for (its tags), if it says.
    pub event_id: Option<String>,
    pub kind: Option<String>,
}

/// Reads SES's event (EventBridge's envelope with the event in `detail`, or the event
/// itself): `Ok(None)` for what changes nothing (a transient bounce, another type of
/// event), an error for what is not an SES event at all.
pub fn parse(event: &Value) -> Result<Option<Failure>, String> {
    let detail = event.get("detail").unwrap_or(event);
    let kind = detail
        .get("eventType")
        .or_else(|| detail.get("notificationType"))
        .and_then(Value::as_str)
        .ok_or("not an SES event: no eventType")?;
    let mail = detail.get("mail").ok_or("not an SES event: no mail")?;
    let (reason, recipients) = match kind {
        "Bounce" => {
            let bounce = detail.get("bounce").ok_or("a Bounce without bounce")?;
            if bounce.get("bounceType").and_then(Value::as_str) != Some("Permanent") {
                return Ok(None);
            }
            (Delivery::Bounced, bounce.get("bouncedRecipients"))
        }
        "Complaint" => {
            let complaint = detail.get("complaint").ok_or("a Complaint without complaint")?;
            (Delivery::Complained, complaint.get("complainedRecipients"))
        }
        _ => return Ok(None),
    };
    let mut addresses: Vec<String> = recipients
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("emailAddress").and_then(Value::as_str))
        .map(normalized)
        .collect();
    if addresses.is_empty() {
        addresses = mail
            .get("destination")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(normalized)
            .collect();
    }
    addresses.sort();
    addresses.dedup();
    let tag = |name: &str| {
        mail.get("tags")
            .and_then(|t| t.get(name))
            .and_then(Value::as_array)
            .and_then(|v| v.first())
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Ok(Some(Failure {
        reason,
        addresses,
        message_id: mail.get("messageId").and_then(Value::as_str).unwrap_or_default().to_string(),
        event_id: tag(TAG_EVENT),
        kind: tag(TAG_KIND),
    }))
}

/// An address as the table keys it: as [`crate::domain::Email`] stores it (lower case, an
/// internationalized domain in ASCII); as given, lower-cased, when it is not one.
pub fn normalized(raw: &str) -> String {
    // SES may give `Name <a@b.ru>`.
    let bare = match (raw.rfind('<'), raw.rfind('>')) {
        (Some(open), Some(close)) if open < close => &raw[open + 1..close],
        _ => raw,
    };
    crate::domain::Email::parse(bare).map_or_else(|_| bare.trim().to_lowercase(), |e| e.as_str().to_string())
}

/// Handles one event; an error is transient (the store failed): the invocation fails and
/// is retried, then lands in the function's dead-letter queue.
pub async fn handle(ctx: &Ctx, event: &Value) -> Result<(), String> {
    let failure = match parse(event) {
        Ok(Some(f)) => f,
        Ok(None) => {
            tracing::debug!("an SES event that changes nothing");
            return Ok(());
        }
        Err(why) => {
            // It cannot be read later either: logged, not retried.
            tracing::error!(error = %why, "not an SES event; ignored");
            return Ok(());
        }
    };
    let now = Timestamp::now();
    for email in &failure.addresses {
        let u = Undeliverable {
            email: email.clone(),
            reason: failure.reason,
            at: now,
            message_id: failure.message_id.clone(),
        };
        if ctx.store().mark_undeliverable(&u).await.map_err(|e| e.to_string())? {
            tracing::info!(reason = failure.reason.as_str(), message = %failure.message_id, "an address is undeliverable now");
        }
    }
    match failure.kind.as_deref() {
        Some("invitation") => invitation(ctx, &failure).await,
        Some("roster_invitation") => {
            tracing::info!(message = %failure.message_id, "a roster invitation's address is undeliverable");
            Ok(())
        }
        _ => Ok(()),
    }
}

/// An email invitation's failure: shown on the invitation, and its admins told.
async fn invitation(ctx: &Ctx, failure: &Failure) -> Result<(), String> {
    let Some(id) = failure.event_id.as_deref().and_then(EventId::parse) else {
        tracing::warn!(message = %failure.message_id, "an invitation's mail event names no outbox event");
        return Ok(());
    };
    let Some(record) = ctx.store().outbox_event(&id).await.map_err(|e| e.to_string())? else {
        tracing::info!(event = %id, "the invitation's outbox event is not here (gone after a week, or another table's)");
        return Ok(());
    };
    let Ok(Some(OutboxEvent::Invitation { org_id, org_name, invitation_id, email, .. })) = record.event() else {
        tracing::warn!(event = %id, kind = %record.kind, "the tagged event is not an invitation");
        return Ok(());
    };
    let told = OutboxEvent::InvitationBounced {
        org_id: org_id.clone(),
        org_name,
        invitation_id: invitation_id.clone(),
        email,
        reason: failure.reason.as_str().to_string(),
    };
    let marked = ctx
        .store()
        .invitation_undelivered(&org_id, &invitation_id, failure.reason, &told)
        .await
        .map_err(|e| e.to_string())?;
    if marked == Marked::Now {
        tracing::info!(org = %org_id, invitation = %invitation_id, reason = failure.reason.as_str(), "an invitation's email failed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// SES's event as EventBridge delivers it (event publishing's format in `detail`).
    fn bounce(kind: &str) -> Value {
        json!({
            "version": "0", "id": "0f1c", "detail-type": "Email Bounced", "source": "aws.ses",
            "account": "123456789012", "time": "2026-12-01T10:03:21Z", "region": "eu-central-1",
            "resources": ["arn:aws:ses:eu-central-1:123456789012:configuration-set/kabinet-mail"],
            "detail": {
                "eventType": "Bounce",
                "bounce": {
                    "feedbackId": "0102", "bounceType": kind, "bounceSubType": "General",
                    "bouncedRecipients": [{"emailAddress": "Bounce+A1@simulator.amazonses.com", "action": "failed",
                                           "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
                    "timestamp": "2026-12-01T10:03:21.000Z", "reportingMTA": "dsn; a.b"
                },
                "mail": {
                    "timestamp": "2026-12-01T10:03:20.000Z", "source": "no-reply@kabinet.ru",
                    "messageId": "0102018c-abcd", "destination": ["bounce+a1@simulator.amazonses.com"],
                    "tags": {"ses:configuration-set": ["kabinet-mail"], "event_id": ["01m8rgy3d59e66mtqs95dp9fpq"],
                             "kind": ["invitation"]}
                }
            }
        })
    }

    #[test]
    fn a_hard_bounce_names_its_recipients_and_the_event_sent() {
        let f = parse(&bounce("Permanent")).unwrap().unwrap();
        assert_eq!(f.reason, Delivery::Bounced);
        assert_eq!(f.addresses, ["bounce+a1@simulator.amazonses.com"]);
        assert_eq!(f.message_id, "0102018c-abcd");
        assert_eq!(f.event_id.as_deref(), Some("01m8rgy3d59e66mtqs95dp9fpq"));
        assert_eq!(f.kind.as_deref(), Some("invitation"));
        // The bare event (no envelope) reads the same.
        assert_eq!(parse(&bounce("Permanent")["detail"]).unwrap(), Some(f));
    }

    #[test]
    fn a_transient_bounce_changes_nothing() {
        assert_eq!(parse(&bounce("Transient")).unwrap(), None);
        assert_eq!(parse(&bounce("Undetermined")).unwrap(), None);
    }

    #[test]
    fn a_complaint_names_the_complaining_recipients_or_the_destination() {
        let mut e = bounce("Permanent");
        e["detail-type"] = json!("Email Complaint Received");
        e["detail"]["eventType"] = json!("Complaint");
        e["detail"]["complaint"] = json!({
            "complainedRecipients": [{"emailAddress": "Anna <anna@school.ru>"}],
            "timestamp": "2026-12-01T10:04:00.000Z", "feedbackId": "0103", "complaintFeedbackType": "abuse"
        });
        let f = parse(&e).unwrap().unwrap();
        assert_eq!((f.reason, f.addresses.as_slice()), (Delivery::Complained, &["anna@school.ru".to_string()][..]));
        // Some feedback loops name nobody: the message's destination, then.
        e["detail"]["complaint"]["complainedRecipients"] = json!([]);
        assert_eq!(parse(&e).unwrap().unwrap().addresses, ["bounce+a1@simulator.amazonses.com"]);
    }

    #[test]
    fn other_events_change_nothing_and_non_ses_events_are_refused() {
        let mut e = bounce("Permanent");
        e["detail"]["eventType"] = json!("Delivery");
        assert_eq!(parse(&e).unwrap(), None);
        assert!(parse(&json!({"detail": {"foo": 1}})).is_err());
        assert!(parse(&json!({"detail": {"eventType": "Bounce"}})).is_err());
        let mut untagged = bounce("Permanent");
        untagged["detail"]["mail"]["tags"] = json!({});
        let f = parse(&untagged).unwrap().unwrap();
        assert_eq!((f.event_id, f.kind), (None, None));
    }
}
