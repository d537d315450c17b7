//! What a person is told: their inbox, their mail settings, and the one-click unsubscribe
//! link their non-essential mail carries (RFC 8058), which works without signing in.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::common::access::{caller_id, identity};
use crate::domain::notifications::{read_unsubscribe_token, why_essential, MAX_MUTED_ORGS};
use crate::domain::{Language, MailKind, Notification, NotificationId, OrgId, ProfileChanges, Timestamp, User};
use crate::http::error::Code;
use crate::http::{ApiError, ApiRequest, ApiResponse, Validator};
use crate::store::StoreError;
use crate::Ctx;

/// An item of the inbox.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01jehv7q3m8t4x2c9d5r6b1n0k",
    "kind": "announcement",
    "org_id": "k7m3xq9pza",
    "title": "Объявление в группе «5А — родители»: Собрание в четверг",
    "text": "Мария Ивановна: Собрание в четверг в 18:00, кабинет 12.",
    "resource": "/orgs/k7m3xq9pza/groups/01jehs2w8y7d6c5b4a3z2x1v0t/announcements/01jehv7q1f2g3h4j5k6m7n8p9q",
    "created_at": "2026-12-07T09:41:12.310Z",
    "read": false
}))]
pub struct NotificationView {
    pub id: String,
    /// What happened: `announcement`, `reply`, `added_to_group`, `member_added`,
    /// `admin_appointed`, `join_request_submitted`, `join_request_accepted`,
    /// `join_request_rejected`, `invitation`, `roster_invitation`, `export_ready`,
    /// `invitation_bounced`.
    pub kind: String,
    pub org_id: String,
    /// In the person's language.
    pub title: String,
    /// A line or two; an announcement's or reply's text cut to 500 characters.
    pub text: String,
    /// The front end's path of what it is about.
    pub resource: String,
    pub created_at: Timestamp,
    pub read: bool,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        NotificationView {
            id: n.id.as_str().to_string(),
            kind: n.kind,
            org_id: n.org_id.to_string(),
            title: n.title,
            text: n.text,
            resource: n.resource,
            created_at: n.created_at,
            read: n.read,
        }
    }
}

/// A page of the inbox, with the count of unread items.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "items": [{
        "id": "01jehv7q3m8t4x2c9d5r6b1n0k",
        "kind": "announcement",
        "org_id": "k7m3xq9pza",
        "title": "Объявление в группе «5А — родители»: Собрание в четверг",
        "text": "Мария Ивановна: Собрание в четверг в 18:00, кабинет 12.",
        "resource": "/orgs/k7m3xq9pza/groups/01jehs2w8y7d6c5b4a3z2x1v0t/announcements/01jehv7q1f2g3h4j5k6m7n8p9q",
        "created_at": "2026-12-07T09:41:12.310Z",
        "read": false
    }],
    "next_cursor": null,
    "unread": 1
}))]
pub struct Inbox {
    pub items: Vec<NotificationView>,
    /// Pass as `cursor` to read the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// How many of the person's items are unread (all of them, not this page's).
    pub unread: u64,
}

/// The caller's inbox, newest first: every event of the last 90 days that concerns them
/// (mailed or not), with the count of unread items. `unread=true` lists only those.
#[utoipa::path(get, path = "/v1/me/notifications", tag = "notifications",
    params(("unread" = Option<bool>, Query, description = "only the unread items"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of the inbox", body = Inbox)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = caller_id(&req)?;
    let page = req.page_query()?;
    let mut v = Validator::new();
    let only_unread = v.check(
        "unread",
        match req.query_param("unread") {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err("true or false".to_string()),
        },
    );
    v.finish()?;
    let only_unread = only_unread.unwrap_or_default();
    let store = ctx.store();
    let unread = store.unread_ids(&user).await?;
    let (items, next) = if only_unread {
        store.unread_notifications_page(&user, &page).await?
    } else {
        let marks: HashSet<NotificationId> = unread.iter().cloned().collect();
        store.notifications_page(&user, &page, &marks).await?
    };
    ApiResponse::ok(&Inbox {
        items: items.into_iter().map(NotificationView::from).collect(),
        next_cursor: next.map(|c| c.encode()),
        unread: unread.len() as u64,
    })
}

/// Which items to mark read: `up_to` (that item and every older one) or `ids`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"up_to": "01jehv7q3m8t4x2c9d5r6b1n0k"}))]
pub struct MarkRead {
    /// An item's ID: it and every older item are read.
    pub up_to: Option<String>,
    /// Items' IDs, at most 100.
    pub ids: Option<Vec<String>>,
}

/// The count of unread items after a change.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"unread": 0}))]
pub struct UnreadCount {
    pub unread: u64,
}

/// The most IDs one request marks read.
pub const MAX_MARK_IDS: usize = 100;

/// The longest unsubscribe link's token (a kind, a user ID of up to 128 characters in
/// base64url, a tag).
pub const MAX_UNSUBSCRIBE_TOKEN: usize = 256;

/// Marks items of the caller's inbox read: `{"up_to": id}` (it and every older one, what
/// the front end sends once the newest is seen) or `{"ids": [...]}`. IDs already read or
/// unknown change nothing. Answers the unread count after.
#[utoipa::path(post, path = "/v1/me/notifications/read", tag = "notifications", request_body = MarkRead,
    responses((status = 200, description = "The unread count after", body = UnreadCount)))]
pub async fn mark_read(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = caller_id(&req)?;
    let body: MarkRead = req.json()?;
    let mut v = Validator::new();
    let id = |raw: &str| NotificationId::parse(raw).ok_or_else(|| "not an inbox item's ID".to_string());
    // Which unread items it names: those up to an ID, or those of a list.
    let mut up_to = None;
    let mut named = HashSet::new();
    match (&body.up_to, &body.ids) {
        (Some(raw), None) => up_to = v.check("up_to", id(raw)),
        (None, Some(ids)) if ids.len() > MAX_MARK_IDS => v.error("ids", format!("at most {MAX_MARK_IDS} at a time")),
        (None, Some(ids)) => {
            named = ids.iter().enumerate().filter_map(|(i, raw)| v.check(&format!("ids[{i}]"), id(raw))).collect()
        }
        _ => v.error("up_to", "give either up_to or ids"),
    }
    v.finish()?;
    // The unread marks once: those named are deleted, the rest are the count after.
    let store = ctx.store();
    let (read, left): (Vec<NotificationId>, Vec<NotificationId>) =
        store.unread_ids(&user).await?.into_iter().partition(|n| match &up_to {
            Some(up_to) => n <= up_to,
            None => named.contains(n),
        });
    store.mark_read(&user, &read).await?;
    ApiResponse::ok(&UnreadCount { unread: left.len() as u64 })
}

/// Whether each kind of non-essential mail is sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailSwitches {
    /// Announcements in the person's groups (a group's own switch, on its member page, also
    /// applies).
    pub announcement: bool,
    /// Replies to threads they started.
    pub reply: bool,
    /// Being added to a group.
    pub added_to_group: bool,
    /// Being added to an organization by an admin.
    pub member_added: bool,
    /// Requests to join an organization they administer.
    pub join_request_submitted: bool,
}

/// Mail that is always sent, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct EssentialMail {
    pub kind: String,
    /// In the person's language.
    pub why: String,
}

/// The caller's mail settings.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "mail": {"announcement": false, "reply": true, "added_to_group": true, "member_added": true, "join_request_submitted": true},
    "muted_orgs": ["k7m3xq9pzb"],
    "essential": [
        {"kind": "invitation", "why": "Приглашение в организацию приходит только на почту."},
        {"kind": "export_ready", "why": "Вы сами запросили выгрузку, и ссылка на неё истекает."}
    ]
}))]
pub struct NotificationSettings {
    pub mail: MailSwitches,
    /// Organizations whose non-essential mail is off (their inbox items still come).
    pub muted_orgs: Vec<String>,
    /// Mail that is always sent, whatever the settings.
    pub essential: Vec<EssentialMail>,
}

fn settings_view(user: Option<&User>, lang: Language) -> NotificationSettings {
    let mail = user.map(|u| u.mail.clone()).unwrap_or_default();
    NotificationSettings {
        mail: MailSwitches {
            announcement: mail.on(MailKind::Announcement),
            reply: mail.on(MailKind::Reply),
            added_to_group: mail.on(MailKind::AddedToGroup),
            member_added: mail.on(MailKind::MemberAdded),
            join_request_submitted: mail.on(MailKind::JoinRequestSubmitted),
        },
        muted_orgs: mail.muted_orgs.iter().map(ToString::to_string).collect(),
        essential: crate::domain::notifications::ESSENTIAL
            .iter()
            .map(|(kind, _, _)| EssentialMail {
                kind: kind.to_string(),
                why: why_essential(kind, lang).unwrap_or_default().to_string(),
            })
            .collect(),
    }
}

/// The caller's mail settings: each kind of non-essential mail on or off, the
/// organizations muted, and the essential mail that is always sent, with why. Every
/// event lands in the inbox whatever these say.
#[utoipa::path(get, path = "/v1/me/notification-settings", tag = "notifications",
    responses((status = 200, description = "The caller's mail settings", body = NotificationSettings)))]
pub async fn get_settings(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user = ctx.store().user(&caller_id(&req)?).await?;
    let lang = user.as_ref().map(|u| u.language).unwrap_or_default();
    ApiResponse::ok(&settings_view(user.as_ref(), lang))
}

/// A change of the mail settings: only what it names changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"mail": {"announcement": false}, "muted_orgs": ["k7m3xq9pzb"]}))]
pub struct PatchSettings {
    /// Kinds of non-essential mail to turn on (true) or off (false); the others stay.
    #[schema(value_type = Option<Object>)]
    pub mail: Option<serde_json::Map<String, serde_json::Value>>,
    /// The organizations muted, replacing the list (at most 100; `[]` for none).
    pub muted_orgs: Option<Vec<String>>,
}

/// Changes the caller's mail settings: the kinds named, and the muted organizations when
/// given. Essential mail cannot be turned off (422 naming it).
#[utoipa::path(patch, path = "/v1/me/notification-settings", tag = "notifications", request_body = PatchSettings,
    responses((status = 200, description = "The changed settings", body = NotificationSettings)))]
pub async fn patch_settings(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let who = identity(&req)?;
    let body: PatchSettings = req.json()?;
    let mut v = Validator::new();
    let mut kinds = Vec::new();
    for (name, on) in body.mail.iter().flatten() {
        let field = format!("mail.{name}");
        match (MailKind::parse(name), on.as_bool()) {
            (None, _) if crate::domain::notifications::essential(name) => {
                v.error(&field, "essential mail is always sent")
            }
            (None, _) => v.error(&field, "no such kind of mail"),
            (Some(_), None) => v.error(&field, "true or false"),
            (Some(kind), Some(on)) => kinds.push((kind, on)),
        }
    }
    let mut muted = None;
    if let Some(orgs) = &body.muted_orgs {
        if orgs.len() > MAX_MUTED_ORGS {
            v.error("muted_orgs", format!("at most {MAX_MUTED_ORGS}"));
        }
        let mut list: Vec<OrgId> = Vec::new();
        for (i, raw) in orgs.iter().enumerate() {
            let parsed = OrgId::parse(raw).ok_or_else(|| "not an organization's ID".to_string());
            if let Some(org) = v.check(&format!("muted_orgs[{i}]"), parsed) {
                if !list.contains(&org) {
                    list.push(org);
                }
            }
        }
        muted = Some(list);
    }
    if body.mail.is_none() && body.muted_orgs.is_none() {
        v.error("mail", "name what to change: mail or muted_orgs");
    }
    v.finish()?;
    let store = ctx.store();
    let user = match store.set_mail_settings(&who.id, &kinds, muted.as_deref()).await {
        Err(StoreError::ConditionFailed) => {
            // No profile yet: made as `GET /v1/me` makes it, then changed.
            store.upsert_user(&who, &ProfileChanges::default()).await?;
            store.set_mail_settings(&who.id, &kinds, muted.as_deref()).await?
        }
        other => other?,
    };
    ApiResponse::ok(&settings_view(Some(&user), user.language))
}

/// What a one-click unsubscribe did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"kind": "announcement", "mail": false}))]
pub struct Unsubscribed {
    /// The kind of mail turned off.
    pub kind: String,
    pub mail: bool,
}

fn invalid_link() -> ApiError {
    ApiError::Missing {
        code: Code::UnsubscribeLinkInvalid,
        detail: "This unsubscribe link is not one kabinet sent.".into(),
    }
}

/// The person and kind of mail a link names, if kabinet made it.
async fn read_link(ctx: &Ctx, req: &ApiRequest) -> Result<(crate::domain::UserId, MailKind), ApiError> {
    let token = req.path_param("link")?;
    if token.len() > MAX_UNSUBSCRIBE_TOKEN {
        return Err(invalid_link());
    }
    let keys = ctx.link_keys(None).await.map_err(ApiError::internal)?;
    read_unsubscribe_token(&keys, token).ok_or_else(invalid_link)
}

/// What the kind's mail is about, after "emails" (in Russian with its preposition: «об
/// объявлениях», «о заявках»).
fn kind_name(kind: MailKind, lang: Language) -> &'static str {
    match (kind, lang) {
        (MailKind::Announcement, Language::Ru) => "об объявлениях групп",
        (MailKind::Announcement, Language::En) => "about group announcements",
        (MailKind::Reply, Language::Ru) => "об ответах в ваших обсуждениях",
        (MailKind::Reply, Language::En) => "about replies to your threads",
        (MailKind::AddedToGroup, Language::Ru) => "о добавлении в группы",
        (MailKind::AddedToGroup, Language::En) => "about being added to groups",
        (MailKind::MemberAdded, Language::Ru) => "о добавлении в организации",
        (MailKind::MemberAdded, Language::En) => "about being added to organizations",
        (MailKind::JoinRequestSubmitted, Language::Ru) => "о заявках на вступление",
        (MailKind::JoinRequestSubmitted, Language::En) => "about requests to join",
    }
}

/// A small page in the person's language: a question with its button, or what was done.
fn page(lang: Language, text: &str, button: Option<&str>) -> ApiResponse {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let form = button.map_or(String::new(), |b| {
        format!(
            "<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
             <button type=\"submit\" style=\"padding:10px 18px\">{}</button></form>",
            escape(b)
        )
    });
    let html = format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width\"><meta name=\"robots\" content=\"noindex\"><title>kabinet</title></head>\
         <body style=\"font-family:Arial,Helvetica,sans-serif;max-width:560px;margin:48px auto;padding:0 16px\">\
         <p>{}</p>{form}</body></html>",
        if lang == Language::En { "en" } else { "ru" },
        escape(text)
    );
    ApiResponse::html(http::StatusCode::OK, html)
}

/// The page the footer's unsubscribe link opens: it asks, and its button posts to the same
/// URL (a GET changes nothing: mail scanners open links). Public: the link is the
/// credential.
#[utoipa::path(get, path = "/v1/unsubscribe/{link}", tag = "notifications",
    params(("link" = String, Path, description = "the signed part of the link, as the email gives it")),
    responses((status = 200, description = "A page asking to confirm", content_type = "text/html", body = String,
               example = json!("<!DOCTYPE html><html lang=\"ru\">…<p>Больше не присылать письма об объявлениях групп?</p><form method=\"post\">…</form></html>")),
              (status = 404, description = "`unsubscribe_link_invalid`")))]
pub async fn unsubscribe_page(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (user, kind) = read_link(&ctx, &req).await?;
    let lang = ctx.store().user(&user).await?.map(|u| u.language).unwrap_or_default();
    Ok(match lang {
        Language::Ru => {
            page(lang, &format!("Больше не присылать письма {}?", kind_name(kind, lang)), Some("Отписаться"))
        }
        Language::En => page(lang, &format!("Stop emails {}?", kind_name(kind, lang)), Some("Unsubscribe")),
    })
}

/// One-click unsubscribe (RFC 8058): turns the link's kind of mail off for its person,
/// without signing in. Mail clients post `List-Unsubscribe=One-Click` (the body is not
/// read); a browser posting the footer page's form is answered a page, anyone else JSON.
/// Doing it again changes nothing.
#[utoipa::path(post, path = "/v1/unsubscribe/{link}", tag = "notifications",
    params(("link" = String, Path, description = "the signed part of the link, as the email gives it")),
    responses((status = 200, description = "That kind of mail is off", body = Unsubscribed),
              (status = 404, description = "`unsubscribe_link_invalid`")))]
pub async fn unsubscribe(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (user, kind) = read_link(&ctx, &req).await?;
    let lang = match ctx.store().set_mail_settings(&user, &[(kind, false)], None).await {
        Ok(profile) => profile.language,
        // No profile any more: nothing is mailed to them.
        Err(StoreError::ConditionFailed) => Language::default(),
        Err(e) => return Err(e.into()),
    };
    tracing::info!(kind = kind.as_str(), "unsubscribed in one click");
    if req.header("accept").is_some_and(|a| a.contains("text/html")) {
        let done = match lang {
            Language::Ru => format!(
                "Готово: писем {} больше не будет. Включить их снова можно в настройках уведомлений.",
                kind_name(kind, lang)
            ),
            Language::En => format!(
                "Done: no more emails {}. You can turn them on again in your notification settings.",
                kind_name(kind, lang)
            ),
        };
        return Ok(page(lang, &done, None));
    }
    ApiResponse::ok(&Unsubscribed { kind: kind.as_str().to_string(), mail: false })
}
