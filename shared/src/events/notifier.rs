//! The notifier: renders and sends the email of each outbox event through SES v2.
//!
//! A person is mailed only at an address their latest ID token said was verified: one
//! that is not (an address changed at the identity provider and not yet confirmed) is
//! skipped, logged and recorded on the event (`skipped`), never retried.
//!
//! At least once per event and recipient, and once in practice: each (event, recipient)
//! is claimed with a conditional write before sending (in progress, with an expiry), then
//! marked sent, so a redelivered event sends nothing again. Only a crash between the send
//! and the mark, after which the claim expires, sends a second time.
//!
//! Sends go at the account's SES rate (`KABINET_MAIL_RATE`, 14 a second by default): each
//! takes a token of a bucket every send of the notifier shares ([`crate::mail::rate`]). A
//! send SES throttles anyway (a rate set too high, other notifiers on other shards) is
//! tried again within the batch, after a growing wait and with a token each time, until
//! the batch's time to send ([`sending_window`]) runs out.
//!
//! Failures are of two kinds. A transient one (throttling past those retries or that
//! time, an SES server error, the network, a store error) releases its claim, is noted on
//! the event item and reports the record as a partial batch failure: the stream delivers
//! it again (the SES client has already retried with backoff), and its emails sent
//! already are not sent again. A permanent one (an address mail cannot go to, a
//! template that does not render, a message SES refuses as invalid, an event whose data
//! cannot be read) cannot succeed later: it is recorded on the event item (`failures`) and
//! on the send claim, counted in the `MailPermanentFailures` metric, and not retried, so
//! it does not hold up the events behind it.
//!
//! The same consumer releases what expired uploads reserved (see [`super::uploads`]): it
//! already reads the table's stream, and a function of its own would be one more
//! resource in a stack at its budget.

use serde_json::{json, Value};

use super::ChangeRecord;
use crate::domain::ids::EventId;
use crate::domain::notifications::unsubscribe_token;
use crate::domain::{ExportKind, Language, MailKind, Notification, NotificationId, OrgId, OutboxEvent, PlaceIn};
use crate::domain::{PostRef, Role, RoleGrant, User, UserId};
use crate::mail::{self, role_name, Email};
use crate::store::outbox::Event;
use crate::store::sent::SendClaim;
use crate::Ctx;

/// How many of a batch's events are delivered at once: a batch of a busy school holds
/// many, each a few round trips and an SES call; one after another, the stream fell
/// behind the writes.
pub const CONCURRENT_EVENTS: usize = 8;

/// The metric (namespace `kabinet`, dimension `Table`) that counts emails that will
/// never be sent.
pub const PERMANENT_FAILURES_METRIC: &str = "MailPermanentFailures";

/// A delivery that did not complete: it is to be tried again.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Transient(pub String);

/// Processes a batch, up to [`CONCURRENT_EVENTS`] events at once (each event's emails are
/// independent of the others'); returns the IDs of the records that failed (to be
/// delivered again), in the batch's order.
pub async fn process(ctx: &Ctx, records: Vec<ChangeRecord>) -> Vec<String> {
    use futures::stream::{self, StreamExt};

    let deadline = tokio::time::Instant::now() + sending_window(ctx.sdk());
    let failures: Vec<Option<String>> = stream::iter(records)
        .map(|record| process_one(ctx, record, deadline))
        .buffered(CONCURRENT_EVENTS)
        .collect()
        .await;
    failures.into_iter().flatten().collect()
}

/// How long into a batch a send may start (waiting for its turn at the sending rate, or
/// after a throttle): the function's timeout less one SES call to its limit and 5 s to
/// record what happened (the notifier's 60 s: 40 s; at 14 a second, 560 emails). What
/// could not go by then is reported failed, and the stream's redelivery sends it.
pub fn sending_window(sdk: &crate::config::SdkSettings) -> std::time::Duration {
    let reserve = sdk.operation_timeout + std::time::Duration::from_secs(5);
    sdk.budget.saturating_sub(reserve).max(sdk.budget / 4)
}

/// One record: `Some(its ID)` when it must be delivered again.
async fn process_one(ctx: &Ctx, record: ChangeRecord, deadline: tokio::time::Instant) -> Option<String> {
    if super::uploads::is_expired_upload(&record) {
        return super::uploads::release(ctx, &record).await;
    }
    let read = record.outbox_event().map(|r| r.and_then(|e| e.event().map(|typed| (e, typed))));
    let (event, typed) = match read {
        None => return None,
        Some(Ok((e, Some(typed)))) => (e, typed),
        Some(Ok((e, None))) => {
            tracing::debug!(kind = %e.kind, "no email for this event");
            return None;
        }
        Some(Err(reason)) => {
            // It cannot be read later either: recorded, not retried.
            let id = record.event_id()?;
            let kind = record.new_image.get("kind").and_then(|v| v.as_s().ok()).map_or("", String::as_str);
            return match failed_for_good(ctx, &id, kind, None, &reason).await {
                Ok(()) => None,
                Err(_) => Some(record.id),
            };
        }
    };
    match deliver(ctx, &event, &typed, deadline).await {
        Ok(()) => None,
        Err(Transient(error)) => {
            tracing::warn!(event = %event.id, kind = %event.kind, error = %error, "notification not sent; it will be retried");
            if let Err(e) = ctx.store().note_send_attempt_failed(&event.id, &error).await {
                tracing::warn!(event = %event.id, error = %e, "could not note the failed attempt");
            }
            Some(record.id)
        }
    }
}

/// Records a permanent failure (on the event and, with a recipient, on its send claim),
/// logs it and counts it in the metric. Fails only when it could not be recorded.
async fn failed_for_good(
    ctx: &Ctx,
    event: &EventId,
    kind: &str,
    to: Option<&str>,
    reason: &str,
) -> Result<(), Transient> {
    if ctx.store().record_send_failure(event, to, reason).await.map_err(transient)? {
        tracing::error!(event = %event, kind = %kind, reason = %reason, "notification cannot be sent; recorded on the event");
        crate::telemetry::count(PERMANENT_FAILURES_METRIC, &ctx.config().table, &json!({"event": event, "kind": kind}));
    }
    Ok(())
}

/// How many emails of one event go at once (an announcement to a group of hundreds).
pub const CONCURRENT_SENDS: usize = 8;

/// Sends every email of one event (the stored record and what it holds) that has not
/// been sent yet, up to [`CONCURRENT_SENDS`] at once, at the sending rate and none
/// starting after `deadline`; a permanent failure of one email is recorded and the others
/// still go; a transient one is reported once the others are done.
pub async fn deliver(
    ctx: &Ctx,
    event: &Event,
    what: &OutboxEvent,
    deadline: tokio::time::Instant,
) -> Result<(), Transient> {
    use futures::stream::{self, StreamExt};

    let Composed { inbox, out, unverified } = compose(ctx, event, what).await?;
    // The inbox first: it is there even while mail waits or fails; a redelivery puts
    // nothing twice.
    ctx.store().add_notifications(&inbox).await.map_err(transient)?;
    for user in &unverified {
        // Mail goes only to an address the person's latest token said was verified.
        tracing::info!(event = %event.id, kind = %event.kind, user = %user, "not sent: the address is not verified");
        ctx.store().record_send_skipped(&event.id, user.as_str(), UNVERIFIED).await.map_err(transient)?;
    }
    let out = deliverable(ctx, event, out).await?;
    let results: Vec<Result<(), Transient>> = stream::iter(out)
        .map(|(to, email)| deliver_one(ctx, event, to, email, deadline))
        .buffer_unordered(CONCURRENT_SENDS)
        .collect()
        .await;
    results.into_iter().collect()
}

/// The emails of `out` but those to an address that bounced for good or complained (one
/// batch read for all), each skipped recorded on the event with why.
async fn deliverable(ctx: &Ctx, event: &Event, out: Vec<Outgoing>) -> Result<Vec<Outgoing>, Transient> {
    let addresses: Vec<&str> = out.iter().map(|(to, _)| to.as_str()).collect();
    let undeliverable = ctx.store().undeliverable(&addresses).await.map_err(transient)?;
    let mut kept = Vec::with_capacity(out.len());
    for (to, email) in out {
        match undeliverable.get(&to) {
            Some(u) => {
                tracing::info!(event = %event.id, kind = %event.kind, reason = u.reason.as_str(), "not sent: the address is undeliverable");
                let why = format!("the address is undeliverable ({})", u.reason.as_str());
                ctx.store().record_send_skipped(&event.id, &to, &why).await.map_err(transient)?;
            }
            None => kept.push((to, email)),
        }
    }
    Ok(kept)
}

/// One email of an event, unless it was sent (or failed for good) already.
async fn deliver_one(
    ctx: &Ctx,
    event: &Event,
    to: String,
    email: Result<Email, String>,
    deadline: tokio::time::Instant,
) -> Result<(), Transient> {
    if !claim(ctx, &event.id, &to).await? {
        return Ok(());
    }
    let sent = match email {
        Ok(email) => {
            let tags = mail::Tagging::of(ctx.config().mail_configuration_set.clone(), &event.id, &event.kind);
            let send = || mail::send(ctx.ses(), &ctx.config().mail_from, &email, &tags);
            mail::rate::paced(ctx.mail_pace(), mail::rate::THROTTLED, deadline, send).await
        }
        Err(reason) => Err(mail::SendError::permanent(reason)),
    };
    match sent {
        Ok(()) => {
            if let Err(e) = ctx.store().mark_sent(&event.id, &to).await {
                // Sent, but not recorded: the claim expires and a redelivery would send
                // again. Log loudly; do not report failure (that would resend at once).
                tracing::error!(event = %event.id, error = %e, "sent but could not record it");
            }
            tracing::info!(event = %event.id, kind = %event.kind, "notification sent");
            Ok(())
        }
        Err(e) if e.permanent => {
            if let Err(e) = failed_for_good(ctx, &event.id, &event.kind, Some(&to), &e.reason).await {
                let _ = ctx.store().release_send(&event.id, &to).await;
                return Err(e);
            }
            Ok(())
        }
        Err(e) => {
            let _ = ctx.store().release_send(&event.id, &to).await;
            Err(Transient(e.reason))
        }
    }
}

/// How long a delivery waits for another one's claim on the same email: a live one
/// finishes in moments; one that crashed holds it until the claim expires, and waiting
/// here (rather than failing at once) keeps the stream's retries from running out before.
const CLAIM_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Claims the email of `event` to `to`: true to send it, false when it was sent or failed
/// for good already.
async fn claim(ctx: &Ctx, event: &EventId, to: &str) -> Result<bool, Transient> {
    let started = std::time::Instant::now();
    loop {
        match ctx.store().claim_send(event, to).await.map_err(transient)? {
            SendClaim::Acquired => return Ok(true),
            SendClaim::AlreadySent | SendClaim::Failed => return Ok(false),
            SendClaim::InProgress if started.elapsed() < CLAIM_WAIT => {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await
            }
            SendClaim::InProgress => return Err(Transient("another delivery holds the claim".into())),
        }
    }
}

/// One email to go: the recipient's address as stored (what the send claim is keyed by)
/// and the message, or why it cannot be made.
type Outgoing = (String, Result<Email, String>);

/// The email of `kind` to `to`, made for sending: the address in the form SES sends to
/// (an internationalized domain in ASCII), or why mail cannot go to it.
fn outgoing(kind: &str, lang: Language, to: &str, vars: &Value) -> Outgoing {
    let email = crate::domain::Email::parse(to)
        .map_err(|e| format!("the address cannot receive mail: {e}"))
        .and_then(|address| mail::render(kind, lang, address.as_str(), vars));
    (to.to_string(), email)
}

fn roles_text(roles: Option<&[RoleGrant]>, lang: Language) -> String {
    let names: Vec<String> = roles
        .unwrap_or_default()
        .iter()
        .map(|g| match &g.position {
            Some(p) if matches!(g.role, Role::Teacher | Role::Staff) => format!("{} ({p})", role_name(g.role, lang)),
            _ => role_name(g.role, lang).to_string(),
        })
        .collect();
    names.join(", ")
}

/// A recipient: their address (if any), language and name.
struct Recipient {
    email: String,
    language: Language,
    name: String,
}

/// Why a skipped email was not sent.
const UNVERIFIED: &str = "the address is not verified";

/// What an event tells: each person's inbox item, the emails, and the people it does not
/// mail because their address is not verified.
#[derive(Default)]
struct Composed {
    inbox: Vec<Notification>,
    out: Vec<Outgoing>,
    unverified: Vec<UserId>,
}

/// How an event tells people: its inbox items and, as each person's settings say, its
/// emails (non-essential ones with their one-click unsubscribe link).
struct Teller<'a> {
    ctx: &'a Ctx,
    event: &'a Event,
    kind: &'static str,
    org: &'a OrgId,
    /// Whether the event mails at all (an announcement past its group's hour does not, nor
    /// a reply past its thread's).
    mails: bool,
    into: Composed,
}

impl<'a> Teller<'a> {
    fn new(ctx: &'a Ctx, event: &'a Event, what: &'a OutboxEvent) -> Self {
        let mails = !matches!(
            what,
            OutboxEvent::AnnouncementPosted { mailed: false, .. } | OutboxEvent::ReplyPosted { mailed: false, .. }
        );
        Teller { ctx, event, kind: what.kind(), org: what.org_id(), mails, into: Composed::default() }
    }

    /// The inbox item of this event for `user`, made of the template variables.
    fn note(&self, user: &UserId, lang: Language, vars: &Value) -> Notification {
        let app = &self.ctx.config().app_url;
        let url = vars["action_url"].as_str().unwrap_or_default();
        let resource = url.strip_prefix(app.as_str()).filter(|r| r.starts_with('/')).unwrap_or("/");
        Notification {
            id: NotificationId::of_event(&self.event.id),
            user_id: user.clone(),
            kind: self.kind.to_string(),
            org_id: self.org.clone(),
            title: mail::subject(self.kind, lang, vars),
            text: mail::inbox_text(self.kind, lang, vars),
            resource: resource.to_string(),
            created_at: self.event.created_at,
            read: false,
        }
    }

    /// Tells a person with a profile: their inbox item, and their email when the event
    /// mails, their settings let it and their address is verified.
    async fn person(&mut self, user: User, vars: impl FnOnce(&Recipient) -> Value) -> Result<(), Transient> {
        let r = Recipient { email: user.email.clone().unwrap_or_default(), language: user.language, name: user.name };
        let mut vars = vars(&r);
        self.into.inbox.push(self.note(&user.id, r.language, &vars));
        if !self.mails || !user.mail.mails(self.kind, self.org) || user.email.is_none() {
            return Ok(());
        }
        if !user.email_verified {
            // Mail goes only to an address the person's latest token said was verified.
            self.into.unverified.push(user.id);
            return Ok(());
        }
        if let Some(kind) = MailKind::parse(self.kind) {
            vars["unsubscribe_url"] = json!(self.unsubscribe_url(&user.id, kind).await?);
        }
        self.into.out.push(outgoing(self.kind, r.language, &r.email, &vars));
        Ok(())
    }

    /// Tells a person by ID, if they have a profile.
    async fn user(&mut self, user: &UserId, vars: impl FnOnce(&Recipient) -> Value) -> Result<(), Transient> {
        match self.ctx.store().user(user).await.map_err(transient)? {
            Some(profile) => self.person(profile, vars).await,
            None => Ok(()),
        }
    }

    /// Tells each of these people who has a profile (read in batches), with `extra`
    /// template variables.
    async fn users(&mut self, users: &[UserId], facts: &Facts<'_>, url: &str, extra: &Value) -> Result<(), Transient> {
        for profile in self.ctx.store().users(users).await.map_err(transient)? {
            self.person(profile, |r| {
                let mut vars = facts.vars(r, url);
                if let (Value::Object(vars), Value::Object(extra)) = (&mut vars, extra) {
                    vars.extend(extra.clone());
                }
                vars
            })
            .await?;
        }
        Ok(())
    }

    /// Mails an address (an invitation: essential, whoever owns it), and tells its
    /// registered owner in their inbox.
    fn address(&mut self, email: &str, owner: Option<&User>, lang: Language, vars: &Value) {
        if let Some(owner) = owner {
            self.into.inbox.push(self.note(&owner.id, lang, vars));
        }
        self.into.out.push(outgoing(self.kind, lang, email, vars));
    }

    /// The one-click unsubscribe URL of `kind`'s mail to `user` (the API's public route).
    async fn unsubscribe_url(&self, user: &UserId, kind: MailKind) -> Result<String, Transient> {
        let keys = self.ctx.link_keys(None).await.map_err(Transient)?;
        let token = unsubscribe_token(&keys, user, kind).ok_or_else(|| Transient("no current key".into()))?;
        Ok(format!("{}/v1/unsubscribe/{token}", self.ctx.config().api_url))
    }
}

/// What the templates of an event show besides the recipient.
#[derive(Default)]
struct Facts<'a> {
    org_name: &'a str,
    by: Option<&'a str>,
    reason: Option<&'a str>,
    requester: Option<&'a str>,
    roles: Option<&'a [RoleGrant]>,
}

impl Facts<'_> {
    fn vars(&self, r: &Recipient, url: &str) -> Value {
        json!({
            "org_name": self.org_name, "name": r.name, "by": self.by, "reason": self.reason,
            "requester": self.requester, "roles": roles_text(self.roles, r.language), "action_url": url,
        })
    }
}

fn transient(e: impl std::fmt::Display) -> Transient {
    Transient(e.to_string())
}

/// The inbox items and emails an event causes, each in its recipient's language.
async fn compose(ctx: &Ctx, event: &Event, what: &OutboxEvent) -> Result<Composed, Transient> {
    let app = &ctx.config().app_url;
    let org_url = |org: &OrgId| format!("{app}/orgs/{org}");
    let mut tell = Teller::new(ctx, event, what);
    match what {
        OutboxEvent::MemberAdded { org_id, org_name, user_id, roles, by } => {
            let facts = Facts { org_name, by: Some(by), roles: Some(roles), ..Default::default() };
            tell.user(user_id, |r| facts.vars(r, &org_url(org_id))).await?;
        }
        OutboxEvent::AdminAppointed { org_id, org_name, user_id, by } => {
            let facts = Facts { org_name, by: Some(by), ..Default::default() };
            tell.user(user_id, |r| facts.vars(r, &org_url(org_id))).await?;
        }
        OutboxEvent::JoinRequestAccepted { org_id, org_name, user_id, roles, .. } => {
            let facts = Facts { org_name, roles: Some(roles), ..Default::default() };
            tell.user(user_id, |r| facts.vars(r, &org_url(org_id))).await?;
        }
        OutboxEvent::JoinRequestRejected { org_name, request_id, user_id, reason, .. } => {
            let facts = Facts { org_name, reason: Some(reason), ..Default::default() };
            tell.user(user_id, |r| facts.vars(r, &format!("{app}/me/join-requests/{request_id}"))).await?;
        }
        OutboxEvent::JoinRequestSubmitted { org_id, org_name, request_id, name, roles, .. } => {
            let facts = Facts { org_name, requester: Some(name), roles: Some(roles), ..Default::default() };
            let url = format!("{}/join-requests/{request_id}", org_url(org_id));
            let admins: Vec<UserId> =
                ctx.store().admins(org_id).await.map_err(transient)?.into_iter().map(|a| a.user_id).collect();
            tell.users(&admins, &facts, &url, &json!({})).await?;
        }
        OutboxEvent::AddedToGroup { org_id, org_name, group_id, group_name, user_ids, by } => {
            let url = format!("{}/groups/{group_id}", org_url(org_id));
            let facts = Facts { org_name, by: Some(by), ..Default::default() };
            tell.users(user_ids, &facts, &url, &json!({ "group_name": group_name })).await?;
        }
        OutboxEvent::AnnouncementPosted {
            org_id,
            org_name,
            group_id,
            group_name,
            announcement_id,
            title,
            body,
            author_id,
            author_name,
            ..
        } => {
            // Not if it was deleted before it went (an admin removing what should not
            // have been posted).
            let at = PostRef::Announcement(announcement_id.clone());
            if ctx.store().post(org_id, group_id, &at).await.map_err(transient)?.is_none_or(|p| p.deleted()) {
                return Ok(Composed::default());
            }
            // The group's members at delivery but the author; those who turned the group's
            // emails off get it in their inbox only.
            let places = ctx.store().all_places(org_id, PlaceIn::Group(group_id)).await.map_err(transient)?;
            let (muted, readers): (Vec<_>, Vec<_>) =
                places.into_iter().filter(|p| &p.user_id != author_id).partition(|p| p.muted);
            let url = format!("{}/groups/{group_id}/announcements/{announcement_id}", org_url(org_id));
            let facts = Facts { org_name, by: Some(author_name), ..Default::default() };
            let extra = json!({ "group_name": group_name, "title": title, "body": body });
            let readers: Vec<UserId> = readers.into_iter().map(|p| p.user_id).collect();
            tell.users(&readers, &facts, &url, &extra).await?;
            let muted: Vec<UserId> = muted.into_iter().map(|p| p.user_id).collect();
            let mails = std::mem::replace(&mut tell.mails, false);
            tell.users(&muted, &facts, &url, &extra).await?;
            tell.mails = mails;
        }
        OutboxEvent::ReplyPosted {
            org_id,
            org_name,
            group_id,
            group_name,
            thread_id,
            thread_title,
            reply_id,
            thread_author_id,
            body,
            author_name,
            ..
        } => {
            let url = format!("{}/groups/{group_id}/threads/{thread_id}#reply-{reply_id}", org_url(org_id));
            let facts = Facts { org_name, by: Some(author_name), ..Default::default() };
            let extra = json!({ "group_name": group_name, "title": thread_title, "body": body });
            tell.users(std::slice::from_ref(thread_author_id), &facts, &url, &extra).await?;
        }
        OutboxEvent::ExportReady { org_id, org_name, export_id, user_id, export_kind, format, expires_at } => {
            tell.user(user_id, |r| {
                let what = match (export_kind, r.language) {
                    (ExportKind::Summary, Language::Ru) => "сводная статистика",
                    (ExportKind::Summary, Language::En) => "the summary",
                    (ExportKind::Employees, Language::Ru) => "статистика по сотрудникам",
                    (ExportKind::Employees, Language::En) => "the employees' statistics",
                };
                let facts = Facts { org_name, ..Default::default() };
                let mut vars = facts.vars(r, &format!("{}/exports/{export_id}", org_url(org_id)));
                vars["what"] = json!(what);
                vars["format"] = json!(format.extension().to_uppercase());
                let expires = expires_at.to_string();
                vars["expires"] = json!(expires.get(..10).unwrap_or(&expires));
                vars
            })
            .await?;
        }
        OutboxEvent::Invitation { org_name, invitation_id, email, roles, by, expires_at, group_name, .. } => {
            let registered = ctx.store().user_by_verified_email(email).await.map_err(transient)?;
            let language = registered.as_ref().map(|u| u.language).unwrap_or_default();
            let name = registered.as_ref().map(|u| u.name.clone()).unwrap_or_default();
            let r = Recipient { email: email.clone(), language, name };
            let facts = Facts { org_name, by: Some(by), roles: Some(roles), ..Default::default() };
            let mut vars = facts.vars(&r, &format!("{app}/invitations/{invitation_id}"));
            vars["email"] = json!(email);
            let expires = expires_at.to_string();
            vars["expires"] = json!(expires.get(..10).unwrap_or(&expires));
            vars["group_name"] = json!(group_name);
            tell.address(email, registered.as_ref(), language, &vars);
        }
        OutboxEvent::RosterInvitation { org_id, org_name, roster_id, offer_id, email, name, role, by } => {
            // Not when its owner declined the offer (the school is not told, so an import
            // or a resend still made this event), nor once someone joined as the record.
            let record = ctx.store().roster_person(org_id, roster_id).await.map_err(transient)?;
            if !record.is_some_and(|p| p.offers_to(email)) {
                tracing::info!(org = %org_id, roster = %roster_id, "roster invitation not sent: the offer is no longer open");
                return Ok(Composed::default());
            }
            // Someone who has registered with this address since reads it in their
            // language; the organization keeps none of its own: the default.
            let registered = ctx.store().user_by_verified_email(email).await.map_err(transient)?;
            let language = registered.as_ref().map(|u| u.language).unwrap_or_default();
            let name = if name.trim().is_empty() {
                registered.as_ref().map(|u| u.name.clone()).unwrap_or_default()
            } else {
                name.clone()
            };
            let r = Recipient { email: email.clone(), language, name };
            let facts = Facts { org_name, by: Some(by), ..Default::default() };
            // Signed in (or up) with this address, they accept or decline the offer there.
            let url = offer_id.as_ref().map_or_else(|| format!("{app}/"), |id| format!("{app}/invitations/{id}"));
            let mut vars = facts.vars(&r, &url);
            vars["email"] = json!(email);
            vars["org_id"] = json!(org_id.to_string());
            vars["role"] = json!(role_name(*role, language));
            vars["link_url"] = json!(format!("{app}/roster-link?org={org_id}"));
            tell.address(email, registered.as_ref(), language, &vars);
        }
        // The admins' inbox, not mail (an inbox-only kind).
        OutboxEvent::InvitationBounced { org_id, org_name, invitation_id, email, reason } => {
            let url = format!("{}/invitations/{invitation_id}", org_url(org_id));
            let facts = Facts { org_name, reason: Some(reason), ..Default::default() };
            let admins: Vec<UserId> =
                ctx.store().admins(org_id).await.map_err(transient)?.into_iter().map(|a| a.user_id).collect();
            tell.users(&admins, &facts, &url, &json!({ "email": email })).await?;
        }
    }
    Ok(tell.into)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::{FunctionKind, SdkSettings};

    /// Sends start early enough for their call and the bookkeeping after it to end within
    /// the function's timeout.
    #[test]
    fn a_batch_sends_until_one_call_and_its_records_before_the_timeout() {
        let notifier = crate::lambda::Function::Notifier.sdk();
        assert_eq!(super::sending_window(&notifier), Duration::from_secs(40));
        for timeout in [10, 30, 60, 300, 900] {
            let sdk = SdkSettings::derive(FunctionKind::Consumer, Duration::from_secs(timeout));
            let window = super::sending_window(&sdk);
            assert!(window >= sdk.budget / 4, "{timeout}: {window:?}");
            assert!(window + sdk.operation_timeout <= sdk.budget, "{timeout}: {window:?}");
        }
    }
}
