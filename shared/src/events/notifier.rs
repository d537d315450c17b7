//! The notifier: renders and sends the email of each outbox event through SES v2.
//!
//! Never twice: each (event, recipient) is claimed with a conditional write before
//! sending (in progress, with an expiry), then marked sent, so a redelivered event sends
//! nothing again. Never lost: a failed send releases its claim and reports the record as
//! a partial batch failure, and the stream delivers it again.

use serde_json::{json, Value};

use super::ChangeRecord;
use crate::domain::{Language, Role, RoleGrant, UserId};
use crate::mail::{self, role_name, Email};
use crate::store::outbox::Event;
use crate::store::sent::SendClaim;
use crate::Ctx;

/// Processes a batch in order; returns the IDs of the records that failed (to be
/// delivered again).
pub async fn process(ctx: &Ctx, records: Vec<ChangeRecord>) -> Vec<String> {
    let mut failed = Vec::new();
    for record in records {
        let event = match record.outbox_event() {
            None => continue,
            Some(Ok(e)) => e,
            Some(Err(e)) => {
                // A malformed event cannot succeed later either: log it and move on.
                tracing::error!(record = %record.id, error = %e, "unreadable outbox event");
                continue;
            }
        };
        if let Err(e) = deliver(ctx, &event).await {
            tracing::warn!(event = %event.id, kind = %event.kind, error = %e, "notification not sent; it will be retried");
            failed.push(record.id);
        }
    }
    failed
}

/// Sends every email of one event that has not been sent yet.
pub async fn deliver(ctx: &Ctx, event: &Event) -> Result<(), String> {
    let emails = compose(ctx, event).await?;
    for email in emails {
        match ctx.store().claim_send(&event.id, &email.to).await.map_err(|e| e.to_string())? {
            SendClaim::AlreadySent => continue,
            SendClaim::InProgress => return Err(format!("{} is being sent by another delivery", email.to)),
            SendClaim::Acquired => {}
        }
        match mail::send(ctx.ses(), &ctx.config().mail_from, &email).await {
            Ok(()) => {
                if let Err(e) = ctx.store().mark_sent(&event.id, &email.to).await {
                    // Sent, but not recorded: the claim expires and a redelivery would send
                    // again. Log loudly; do not report failure (that would resend at once).
                    tracing::error!(event = %event.id, error = %e, "sent but could not record it");
                }
                tracing::info!(event = %event.id, kind = %event.kind, "notification sent");
            }
            Err(e) => {
                let _ = ctx.store().release_send(&event.id, &email.to).await;
                return Err(e.to_string());
            }
        }
    }
    Ok(())
}

fn roles_text(roles: &Value, lang: Language) -> String {
    let grants: Vec<RoleGrant> = serde_json::from_value(roles.clone()).unwrap_or_default();
    let names: Vec<String> = grants
        .iter()
        .map(|g| match &g.position {
            Some(p) if matches!(g.role, Role::Teacher | Role::Staff) => format!("{} ({p})", role_name(g.role, lang)),
            _ => role_name(g.role, lang).to_string(),
        })
        .collect();
    names.join(", ")
}

/// A recipient: their address, language and name.
struct Recipient {
    email: String,
    language: Language,
    name: String,
}

async fn person(ctx: &Ctx, user: &str) -> Result<Option<Recipient>, String> {
    let Some(id) = UserId::parse(user) else { return Ok(None) };
    let user = ctx.store().user(&id).await.map_err(|e| e.to_string())?;
    Ok(user.and_then(|u| Some(Recipient { email: u.email?, language: u.language, name: u.name })))
}

/// The emails an event causes, rendered for each recipient in their language.
async fn compose(ctx: &Ctx, event: &Event) -> Result<Vec<Email>, String> {
    let p: Value = serde_json::from_str(&event.payload).map_err(|e| format!("payload: {e}"))?;
    let app = &ctx.config().app_url;
    let org_id = p["org_id"].as_str().unwrap_or_default();
    let org_url = format!("{app}/orgs/{org_id}");
    let base = |r: &Recipient, url: &str| {
        json!({
            "org_name": p["org_name"], "name": r.name, "by": p["by"], "reason": p["reason"],
            "requester": p["name"], "roles": roles_text(&p["roles"], r.language), "action_url": url,
        })
    };
    let to_user = |kind: &'static str, url: String| {
        let user = p["user_id"].as_str().unwrap_or_default().to_string();
        async move {
            let mut out = Vec::new();
            if let Some(r) = person(ctx, &user).await? {
                out.push(mail::render(kind, r.language, &r.email, &base(&r, &url))?);
            }
            Ok::<_, String>(out)
        }
    };
    match event.kind.as_str() {
        "member_added" => to_user("member_added", org_url.clone()).await,
        "admin_appointed" => to_user("admin_appointed", org_url.clone()).await,
        "join_request_accepted" => to_user("join_request_accepted", org_url.clone()).await,
        "join_request_rejected" => {
            to_user(
                "join_request_rejected",
                format!("{app}/me/join-requests/{}", p["request_id"].as_str().unwrap_or_default()),
            )
            .await
        }
        "join_request_submitted" => {
            let org = crate::domain::OrgId::parse(org_id).ok_or("event without an organization")?;
            let url = format!("{org_url}/join-requests/{}", p["request_id"].as_str().unwrap_or_default());
            let mut out = Vec::new();
            for admin in ctx.store().admins(&org).await.map_err(|e| e.to_string())? {
                if let Some(r) = person(ctx, admin.user_id.as_str()).await? {
                    out.push(mail::render("join_request_submitted", r.language, &r.email, &base(&r, &url))?);
                }
            }
            Ok(out)
        }
        "invitation" => {
            let email = p["email"].as_str().ok_or("invitation without an email")?.to_string();
            let registered = ctx.store().user_by_verified_email(&email).await.map_err(|e| e.to_string())?;
            let language = registered.as_ref().map(|u| u.language).unwrap_or_default();
            let r = Recipient { email: email.clone(), language, name: registered.map(|u| u.name).unwrap_or_default() };
            let url = format!("{app}/invitations/{}", p["invitation_id"].as_str().unwrap_or_default());
            let mut vars = base(&r, &url);
            vars["email"] = json!(email);
            vars["expires"] = json!(p["expires_at"].as_str().map(|t| t.get(..10).unwrap_or(t)).unwrap_or_default());
            vars["group_name"] = p["group_name"].clone();
            Ok(vec![mail::render("invitation", language, &email, &vars)?])
        }
        other => {
            tracing::debug!(kind = other, "no email for this event");
            Ok(vec![])
        }
    }
}
