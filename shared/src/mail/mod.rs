//! Notification emails: templates (ru, en; HTML and plain text) and the SES v2 sender.

use std::sync::LazyLock;

use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, MessageTag, RawMessage};
use minijinja::Environment;
use serde_json::Value;

use crate::domain::{Language, Role};

pub mod rate;

/// An email ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-click unsubscribe URL of non-essential mail (RFC 8058): sent as
    /// `List-Unsubscribe` with `List-Unsubscribe-Post`, and linked in the footer.
    pub unsubscribe: Option<String>,
}

/// Every kind of email, with its templates: one per kind of outbox event.
pub use crate::domain::events::MAIL_KINDS as KINDS;

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    let sources: [(&str, &str); 23] = [
        ("layout.html", include_str!("../../templates/mail/layout.html")),
        ("member_added.html", include_str!("../../templates/mail/member_added.html")),
        ("member_added.txt", include_str!("../../templates/mail/member_added.txt")),
        ("admin_appointed.html", include_str!("../../templates/mail/admin_appointed.html")),
        ("admin_appointed.txt", include_str!("../../templates/mail/admin_appointed.txt")),
        ("join_request_submitted.html", include_str!("../../templates/mail/join_request_submitted.html")),
        ("join_request_submitted.txt", include_str!("../../templates/mail/join_request_submitted.txt")),
        ("join_request_accepted.html", include_str!("../../templates/mail/join_request_accepted.html")),
        ("join_request_accepted.txt", include_str!("../../templates/mail/join_request_accepted.txt")),
        ("join_request_rejected.html", include_str!("../../templates/mail/join_request_rejected.html")),
        ("join_request_rejected.txt", include_str!("../../templates/mail/join_request_rejected.txt")),
        ("invitation.html", include_str!("../../templates/mail/invitation.html")),
        ("invitation.txt", include_str!("../../templates/mail/invitation.txt")),
        ("added_to_group.html", include_str!("../../templates/mail/added_to_group.html")),
        ("added_to_group.txt", include_str!("../../templates/mail/added_to_group.txt")),
        ("announcement.html", include_str!("../../templates/mail/announcement.html")),
        ("announcement.txt", include_str!("../../templates/mail/announcement.txt")),
        ("reply.html", include_str!("../../templates/mail/reply.html")),
        ("reply.txt", include_str!("../../templates/mail/reply.txt")),
        ("export_ready.html", include_str!("../../templates/mail/export_ready.html")),
        ("export_ready.txt", include_str!("../../templates/mail/export_ready.txt")),
        ("roster_invitation.html", include_str!("../../templates/mail/roster_invitation.html")),
        ("roster_invitation.txt", include_str!("../../templates/mail/roster_invitation.txt")),
    ];
    for (name, source) in sources {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "mail template does not parse");
        }
    }
    env
});

/// The subject of an email of `kind` (and the title of its inbox item).
pub fn subject(kind: &str, lang: Language, vars: &Value) -> String {
    let org = vars["org_name"].as_str().unwrap_or_default();
    let var = |name: &str| vars[name].as_str().unwrap_or_default();
    match (kind, lang) {
        ("member_added", Language::Ru) => format!("Вас добавили в {org}"),
        ("member_added", Language::En) => format!("You were added to {org}"),
        ("admin_appointed", Language::Ru) => format!("Вы администратор {org}"),
        ("admin_appointed", Language::En) => format!("You are an administrator of {org}"),
        ("join_request_submitted", Language::Ru) => format!("Новая заявка на вступление в {org}"),
        ("join_request_submitted", Language::En) => format!("New request to join {org}"),
        ("join_request_accepted", Language::Ru) => format!("Заявка в {org} принята"),
        ("join_request_accepted", Language::En) => format!("Your request to join {org} was accepted"),
        ("join_request_rejected", Language::Ru) => format!("Заявка в {org} отклонена"),
        ("join_request_rejected", Language::En) => format!("Your request to join {org} was rejected"),
        ("invitation", Language::Ru) => format!("Приглашение в {org}"),
        ("invitation", Language::En) => format!("Invitation to {org}"),
        ("added_to_group", Language::Ru) => {
            format!("Вас добавили в группу «{}» — {org}", vars["group_name"].as_str().unwrap_or_default())
        }
        ("added_to_group", Language::En) => {
            format!("You were added to the group «{}» of {org}", vars["group_name"].as_str().unwrap_or_default())
        }
        ("announcement", Language::Ru) => format!(
            "Объявление в группе «{}»: {}",
            vars["group_name"].as_str().unwrap_or_default(),
            vars["title"].as_str().unwrap_or_default()
        ),
        ("announcement", Language::En) => format!(
            "Announcement in «{}»: {}",
            vars["group_name"].as_str().unwrap_or_default(),
            vars["title"].as_str().unwrap_or_default()
        ),
        ("export_ready", Language::Ru) => {
            format!("Выгрузка готова: {} — {org}", vars["what"].as_str().unwrap_or_default())
        }
        ("export_ready", Language::En) => {
            format!("Your export is ready: {} of {org}", vars["what"].as_str().unwrap_or_default())
        }
        ("roster_invitation", Language::Ru) => format!("Вас ждут в {} в kabinet", quoted(org)),
        ("roster_invitation", Language::En) => format!("{} is waiting for you in kabinet", quoted(org)),
        ("reply", Language::Ru) => format!("Новый ответ в обсуждении «{}»", var("title")),
        ("reply", Language::En) => format!("New reply in «{}»", var("title")),
        ("invitation_bounced", Language::Ru) => format!("Приглашение не доставлено: {}", var("email")),
        ("invitation_bounced", Language::En) => format!("Invitation not delivered: {}", var("email")),
        _ => org.to_string(),
    }
}

/// The text of an inbox item of `kind` (its title is the email's subject): a line or two
/// that says what happened; an announcement's or a reply's own text, cut to 500 characters.
pub fn inbox_text(kind: &str, lang: Language, vars: &Value) -> String {
    let var = |name: &str| vars[name].as_str().unwrap_or_default();
    let (by, org, roles) = (var("by"), var("org_name"), var("roles"));
    let text = match (kind, lang) {
        ("member_added", Language::Ru) => format!("{by} добавил(а) вас в {org}: {roles}."),
        ("member_added", Language::En) => format!("{by} added you to {org}: {roles}."),
        ("admin_appointed", Language::Ru) => format!("{by} назначил(а) вас администратором {org}."),
        ("admin_appointed", Language::En) => format!("{by} made you an administrator of {org}."),
        ("join_request_submitted", Language::Ru) => format!("{} просит принять в {org}: {roles}.", var("requester")),
        ("join_request_submitted", Language::En) => format!("{} asks to join {org}: {roles}.", var("requester")),
        ("join_request_accepted", Language::Ru) => format!("Вы в {org}: {roles}."),
        ("join_request_accepted", Language::En) => format!("You are in {org}: {roles}."),
        ("join_request_rejected", Language::Ru) => format!("Причина: {}", var("reason")),
        ("join_request_rejected", Language::En) => format!("Reason: {}", var("reason")),
        ("invitation", Language::Ru) => format!("{by} приглашает вас в {org}: {roles}."),
        ("invitation", Language::En) => format!("{by} invites you to {org}: {roles}."),
        ("roster_invitation", Language::Ru) => format!("{org} приглашает вас: {}.", var("role")),
        ("roster_invitation", Language::En) => format!("{org} invites you: {}.", var("role")),
        ("added_to_group", Language::Ru) => format!("{by} добавил(а) вас в группу «{}».", var("group_name")),
        ("added_to_group", Language::En) => format!("{by} added you to the group «{}».", var("group_name")),
        ("announcement", _) => format!("{}: {}", by, var("body")),
        ("reply", _) => format!("{}: {}", by, var("body")),
        ("export_ready", Language::Ru) => {
            format!("{} ({}) готова; ссылка действует до {}.", var("what"), var("format"), var("expires"))
        }
        ("export_ready", Language::En) => {
            format!("{} ({}) is ready; its link works until {}.", var("what"), var("format"), var("expires"))
        }
        ("invitation_bounced", Language::Ru) => match var("reason") {
            "complained" => format!(
                "Получатель {} пометил письмо с приглашением как спам; больше писем на этот адрес не будет.",
                var("email")
            ),
            _ => format!(
                "Письмо с приглашением на {} не доставлено: адреса нет или он не принимает почту. Проверьте адрес.",
                var("email")
            ),
        },
        ("invitation_bounced", Language::En) => match var("reason") {
            "complained" => {
                format!("{} marked the invitation as spam; no more mail goes to that address.", var("email"))
            }
            _ => format!(
                "The invitation to {} could not be delivered: the address does not exist or refuses mail. Check it.",
                var("email")
            ),
        },
        _ => String::new(),
    };
    crate::domain::notifications::excerpt(&text)
}

/// A name in «», unless it has quotes of its own (`МБОУ «Школа №5»`).
fn quoted(name: &str) -> String {
    if name.contains(['«', '»', '"', '“', '„']) {
        name.to_string()
    } else {
        format!("«{name}»")
    }
}

/// The label of the button that opens `action_url`.
fn action_label(kind: &str, lang: Language) -> &'static str {
    match (kind, lang) {
        ("roster_invitation", Language::Ru) => "Открыть приглашение",
        ("roster_invitation", Language::En) => "Open the invitation",
        (_, Language::Ru) => "Открыть kabinet",
        (_, Language::En) => "Open kabinet",
    }
}

/// A role's name as people read it.
pub fn role_name(role: Role, lang: Language) -> &'static str {
    match (role, lang) {
        (Role::Teacher, Language::Ru) => "учитель",
        (Role::Staff, Language::Ru) => "сотрудник",
        (Role::Student, Language::Ru) => "ученик",
        (Role::Parent, Language::Ru) => "родитель",
        (Role::Teacher, Language::En) => "teacher",
        (Role::Staff, Language::En) => "staff",
        (Role::Student, Language::En) => "student",
        (Role::Parent, Language::En) => "parent",
    }
}

/// Renders an email of `kind` in `lang`; `vars` holds what its templates use (`org_name`,
/// `name`, `action_url`, ...).
pub fn render(kind: &str, lang: Language, to: &str, vars: &Value) -> Result<Email, String> {
    let subject = subject(kind, lang, vars);
    let mut ctx = vars.clone();
    if let Value::Object(map) = &mut ctx {
        map.insert("lang".into(), Value::String(if lang == Language::En { "en" } else { "ru" }.into()));
        map.insert("subject".into(), Value::String(subject.clone()));
        map.entry("action_label").or_insert_with(|| Value::String(action_label(kind, lang).into()));
    }
    let unsubscribe = vars["unsubscribe_url"].as_str().map(str::to_string);
    let render = |name: String| -> Result<String, String> {
        let t = TEMPLATES.get_template(&name).map_err(|e| format!("template {name}: {e}"))?;
        t.render(&ctx).map_err(|e| format!("template {name}: {e}"))
    };
    let mut text = render(format!("{kind}.txt"))?;
    if let Some(url) = &unsubscribe {
        text.push_str(match lang {
            Language::En => "\n\n--\nUnsubscribe from these emails: ",
            Language::Ru => "\n\n--\nОтписаться от таких писем: ",
        });
        text.push_str(url);
    }
    Ok(Email { to: to.to_string(), subject, text, html: render(format!("{kind}.html"))?, unsubscribe })
}

/// The email as MIME: multipart/alternative with the plain-text and HTML parts. No
/// header can carry a line break, whatever the email holds: the subject is made one line
/// (text fields refuse line breaks, but a header must not depend on that), and an address
/// with a control character or white space is refused.
pub fn mime(from: &str, email: &Email) -> Result<Vec<u8>, String> {
    for address in [from, email.to.as_str()] {
        if address.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(format!("the address {address:?} cannot be a mail header"));
        }
    }
    let mut message = mail_builder::MessageBuilder::new()
        .from(("kabinet", from))
        .to(email.to.as_str())
        .subject(crate::domain::text::one_line(&email.subject))
        .text_body(email.text.as_str())
        .html_body(email.html.as_str());
    if let Some(url) = &email.unsubscribe {
        if url.chars().any(|c| c.is_control() || c.is_whitespace() || c == '>') {
            return Err(format!("the unsubscribe URL {url:?} cannot be a mail header"));
        }
        // RFC 8058: an HTTPS URL that takes a POST of `List-Unsubscribe=One-Click`.
        message = message
            .header("List-Unsubscribe", mail_builder::headers::url::URL::new(url.as_str()))
            .header("List-Unsubscribe-Post", mail_builder::headers::raw::Raw::new("List-Unsubscribe=One-Click"));
    }
    message.write_to_vec().map_err(|e| format!("building MIME: {e}"))
}

/// Why a send failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sending mail failed: {reason}")]
pub struct SendError {
    pub reason: String,
    /// The same message can never be sent (SES refused it as invalid, or it cannot be
    /// built): recorded, not retried. Anything else (throttling, a server error, the
    /// network, a sending identity not verified yet, a paused account) is retried.
    pub permanent: bool,
    /// SES refused it for the account's sending rate: the notifier tries it again within
    /// its batch, at its pace ([`rate::paced`]).
    pub throttled: bool,
}

impl SendError {
    pub fn permanent(reason: String) -> Self {
        SendError { reason, permanent: true, throttled: false }
    }

    pub fn transient(reason: String) -> Self {
        SendError { reason, permanent: false, throttled: false }
    }
}

/// Whether an SES v2 error code means the request can never succeed. Only
/// `BadRequestException` (an input SES cannot take, such as an address) does:
/// `MessageRejected` also stands for a sending identity that is not verified yet, and
/// throttling, limits and server errors pass; those are retried.
pub fn permanent_ses_error(code: Option<&str>) -> bool {
    matches!(code, Some("BadRequestException"))
}

/// Whether SES refused a send for the account's sending rate: `TooManyRequestsException`
/// (SES v2's), `Throttling` (v1's, behind some endpoints) or an HTTP 429. Not the daily
/// quota nor a paused account: waiting seconds does not lift those (the stream's
/// redelivery tries them again later).
pub fn throttled_ses_error(code: Option<&str>, message: Option<&str>, status: Option<u16>) -> bool {
    let daily = message.is_some_and(|m| m.to_ascii_lowercase().contains("daily message quota"));
    !daily
        && (matches!(code, Some("TooManyRequestsException" | "Throttling" | "ThrottlingException"))
            || status == Some(429))
}

/// What a send carries besides the message: the configuration set whose event destination
/// publishes its bounces and complaints (none when unset), and the message tags that let
/// their consumer find what was sent (the outbox event's ID and kind).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tagging {
    pub configuration_set: Option<String>,
    pub tags: Vec<(&'static str, String)>,
}

/// The SES message tag naming the outbox event a message was sent for.
pub const TAG_EVENT: &str = "event_id";
/// The SES message tag naming the kind of that event (`invitation`, `announcement`, ...).
pub const TAG_KIND: &str = "kind";

impl Tagging {
    /// The tags of the email of outbox event `event` of `kind`, sent with
    /// `configuration_set`.
    pub fn of(configuration_set: Option<String>, event: &crate::domain::ids::EventId, kind: &str) -> Self {
        Tagging {
            configuration_set,
            tags: vec![(TAG_EVENT, tag_value(&event.to_string())), (TAG_KIND, tag_value(kind))],
        }
    }
}

/// A value SES takes as a message tag's: only `A-Z a-z 0-9 _ - . @`, up to 256 characters
/// (anything else becomes `_`).
pub fn tag_value(raw: &str) -> String {
    raw.chars().take(256).map(|c| if c.is_ascii_alphanumeric() || "_-.@".contains(c) { c } else { '_' }).collect()
}

/// Sends through SES v2 as raw MIME (both parts exactly as rendered). The client retries
/// throttling and server errors with backoff itself ([`crate::Ctx::ses`]); the notifier
/// paces the sends and tries a throttled one again ([`rate`]).
pub async fn send(ses: &aws_sdk_sesv2::Client, from: &str, email: &Email, tagging: &Tagging) -> Result<(), SendError> {
    use aws_sdk_sesv2::error::ProvideErrorMetadata;

    let raw = mime(from, email).map_err(SendError::permanent)?;
    let message =
        RawMessage::builder().data(Blob::new(raw)).build().map_err(|e| SendError::permanent(e.to_string()))?;
    let tags = tagging
        .tags
        .iter()
        .map(|(name, value)| MessageTag::builder().name(*name).value(value).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SendError::permanent(e.to_string()))?;
    ses.send_email()
        .from_email_address(from)
        .destination(Destination::builder().to_addresses(&email.to).build())
        .content(EmailContent::builder().raw(message).build())
        .set_configuration_set_name(tagging.configuration_set.clone())
        .set_email_tags(Some(tags))
        .send()
        .await
        .map_err(|e| SendError {
            permanent: permanent_ses_error(e.code()),
            throttled: throttled_ses_error(e.code(), e.message(), e.raw_response().map(|r| r.status().as_u16())),
            reason: aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string(),
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Value {
        serde_json::json!({
            "org_name": "Школа <№1>", "name": "Анна", "by": "Директор", "roles": "учитель",
            "requester": "Петя", "reason": "Нет мест", "email": "a@b.ru", "expires": "2026-12-07",
            "action_url": "http://localhost:5173/orgs/x", "org_id": "k7m3xq9pza", "role": "родитель",
            "link_url": "http://localhost:5173/roster-link?org=k7m3xq9pza",
        })
    }

    /// The invitation of a person of the e-journal: whom, from where, with which address
    /// to sign in and accept (their consent), and the other way in (the organization ID
    /// and their journal login).
    #[test]
    fn a_roster_invitation_says_how_to_join() {
        let mut vars = vars();
        vars["org_name"] = Value::String("Школа №1".into());
        vars["action_url"] = Value::String("http://localhost:5173/invitations/01m8rgy3d59e66mtqs95dp9fpq".into());
        let ru = render("roster_invitation", Language::Ru, "a@b.ru", &vars).unwrap();
        assert_eq!(ru.subject, "Вас ждут в «Школа №1» в kabinet");
        // The HTML part escapes `/` as `&#x2f;` (as every link of these emails).
        let unslashed = |html: &str| html.replace("&#x2f;", "/");
        for part in [ru.text.clone(), unslashed(&ru.html)] {
            for needed in [
                "Здравствуйте, Анна!",
                "Директор, администратор",
                "в электронном журнале школы",
                "записаны как родитель",
                "примите приглашение",
                "a@b.ru",
                "k7m3xq9pza",
                "http://localhost:5173/roster-link?org=k7m3xq9pza",
                "логин в электронном журнале",
            ] {
                assert!(part.contains(needed), "{needed}: {part}");
            }
            assert!(!part.contains("{{") && !part.contains("{%") && !part.contains("}}"), "{part}");
        }
        assert!(
            ru.text.contains("Открыть приглашение: http://localhost:5173/invitations/01m8rgy3d59e66mtqs95dp9fpq\n"),
            "{}",
            ru.text
        );
        assert!(!ru.text.contains("ничего подтверждать не нужно"), "nobody joins without consent: {}", ru.text);
        // They have no account yet: the footer says why the email came.
        assert!(
            !ru.html.contains("учётная запись") && ru.html.contains("этот адрес пригласили в kabinet"),
            "{}",
            ru.html
        );
        let invitation = render("invitation", Language::En, "a@b.ru", &vars).unwrap();
        assert!(invitation.html.contains("this address was invited to kabinet"), "{}", invitation.html);
        assert!(
            unslashed(&ru.html).contains(r#"href="http://localhost:5173/invitations/01m8rgy3d59e66mtqs95dp9fpq""#)
                && ru.html.contains("Открыть приглашение")
        );
        let en = render("roster_invitation", Language::En, "a@b.ru", &vars).unwrap();
        assert_eq!(en.subject, "«Школа №1» is waiting for you in kabinet");
        for part in [en.text.clone(), unslashed(&en.html)] {
            for needed in [
                "Hello, Анна!",
                "e-journal",
                "lists you as родитель",
                "accept the invitation",
                "a@b.ru",
                "k7m3xq9pza",
                "roster-link?org=",
            ] {
                assert!(part.contains(needed), "{needed}: {part}");
            }
            assert!(!part.contains("{{") && !part.contains("{%") && !part.contains("}}"), "{part}");
        }
        assert!(en.html.contains("Open the invitation") && !en.html.contains("Open kabinet"));
        // A name with quotes of its own is not quoted again; no name, no dangling comma.
        vars["org_name"] = Value::String("МБОУ «Школа №5»".into());
        vars["name"] = Value::String(String::new());
        let ru = render("roster_invitation", Language::Ru, "a@b.ru", &vars).unwrap();
        assert_eq!(ru.subject, "Вас ждут в МБОУ «Школа №5» в kabinet");
        assert!(ru.text.starts_with("Здравствуйте!"), "{}", ru.text);
    }

    #[test]
    fn every_kind_renders_in_both_languages_with_both_parts() {
        for kind in KINDS {
            for lang in [Language::Ru, Language::En] {
                let e = render(kind, lang, "a@b.ru", &vars()).unwrap();
                assert!(!e.subject.is_empty() && !e.text.is_empty(), "{kind}");
                assert!(e.html.contains("<html"), "{kind}");
                for part in [&e.subject, &e.text, &e.html] {
                    assert!(!part.contains("{{") && !part.contains("{%") && !part.contains("}}"), "{kind}: {part}");
                }
                assert!(
                    e.text.contains("Школа <№1>") || kind == "join_request_submitted" && e.text.contains("Петя"),
                    "{kind}: {}",
                    e.text
                );
                // HTML escapes what people typed; the text part keeps it.
                assert!(e.html.contains("Школа &lt;№1&gt;") && !e.html.contains("Школа <№1>"), "{kind}");
            }
        }
        let ru = render("join_request_rejected", Language::Ru, "a@b.ru", &vars()).unwrap();
        assert!(ru.text.contains("Причина: Нет мест") && ru.subject.contains("отклонена"));
        let en = render("join_request_rejected", Language::En, "a@b.ru", &vars()).unwrap();
        assert!(en.text.contains("Reason: Нет мест") && en.subject.contains("rejected"));
    }

    /// An announcement's text is plain text: escaped in the HTML part (its line breaks
    /// kept by the style), as written in the text part.
    #[test]
    fn an_announcement_is_mailed_as_plain_text() {
        let mut vars = vars();
        vars["group_name"] = Value::String("7А: алгебра".into());
        vars["title"] = Value::String("Контрольная <в пятницу>".into());
        vars["body"] = Value::String("<script>alert(1)</script>\nПовторить §12".into());
        let ru = render("announcement", Language::Ru, "a@b.ru", &vars).unwrap();
        assert_eq!(ru.subject, "Объявление в группе «7А: алгебра»: Контрольная <в пятницу>");
        assert!(ru.text.contains("<script>alert(1)</script>\nПовторить §12") && ru.text.contains("Директор"));
        assert!(!ru.html.contains("<script>") && ru.html.contains("&lt;script&gt;"), "{}", ru.html);
        assert!(ru.html.contains("white-space:pre-wrap"));
        let en = render("announcement", Language::En, "a@b.ru", &vars).unwrap();
        assert!(en.subject.starts_with("Announcement in «7А: алгебра»") && en.text.contains("turn them off"));
    }

    /// An organization named with a header in it (stored before names refused line
    /// breaks, say) still makes one Subject line and no other header.
    #[test]
    fn no_header_injection_whatever_the_subject_holds() {
        let mut vars = vars();
        vars["org_name"] = Value::String("Acme\r\nBcc: x@evil.example".into());
        for lang in [Language::En, Language::Ru] {
            let e = render("member_added", lang, "a@b.ru", &vars).unwrap();
            let raw = String::from_utf8(mime("no-reply@kabinet.test", &e).unwrap()).unwrap();
            let headers = &raw[..raw.find("\r\n\r\n").unwrap()];
            assert!(!headers.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "{headers}");
        }
        let e = render("member_added", Language::En, "a@b.ru\r\nBcc: x@evil.example", &vars).unwrap();
        assert!(mime("no-reply@kabinet.test", &e).is_err());
    }

    #[test]
    fn only_an_input_ses_cannot_take_is_a_permanent_failure() {
        assert!(permanent_ses_error(Some("BadRequestException")));
        for transient in [
            "TooManyRequestsException",
            "LimitExceededException",
            "MessageRejected",
            "MailFromDomainNotVerifiedException",
            "SendingPausedException",
            "AccountSuspendedException",
            "InternalFailure",
            "ServiceUnavailable",
        ] {
            assert!(!permanent_ses_error(Some(transient)), "{transient}");
        }
        assert!(!permanent_ses_error(None), "no code: the network, a timeout");
    }

    /// What is retried within the notifier's batch (after a wait, at its pace): SES's
    /// refusals for the sending rate, and nothing else.
    #[test]
    fn only_the_sending_rate_is_a_throttle() {
        let rate = Some("Maximum sending rate exceeded.");
        for code in ["TooManyRequestsException", "Throttling", "ThrottlingException"] {
            assert!(throttled_ses_error(Some(code), rate, Some(400)), "{code}");
        }
        assert!(throttled_ses_error(None, None, Some(429)), "a bare 429");
        // The daily quota does not come back in seconds.
        assert!(!throttled_ses_error(Some("Throttling"), Some("Daily message quota exceeded."), Some(400)));
        for other in [
            "LimitExceededException",
            "SendingPausedException",
            "MessageRejected",
            "BadRequestException",
            "InternalFailure",
            "ServiceUnavailable",
        ] {
            assert!(!throttled_ses_error(Some(other), None, Some(400)), "{other}");
        }
        assert!(!throttled_ses_error(None, None, Some(503)));
        assert!(!throttled_ses_error(None, None, None), "the network, a timeout");
    }

    #[test]
    fn mime_has_text_and_html_parts() {
        let e = render("member_added", Language::Ru, "a@b.ru", &vars()).unwrap();
        let raw = String::from_utf8(mime("no-reply@kabinet.test", &e).unwrap()).unwrap();
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("text/plain") && raw.contains("text/html"));
    }
}
