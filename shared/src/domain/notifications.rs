//! What a person is told: their inbox (every event that concerns them, 90 days) and which
//! of it mails them (their mail settings, one-click unsubscribe).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{Language, LinkKeys, NotificationId, OrgId, Timestamp, UserId};

/// How long an inbox item is kept.
pub const INBOX_DAYS: i64 = 90;

/// A kind of mail a person may turn off: non-essential mail, one setting each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// An announcement in one of their groups.
    Announcement,
    /// A reply to a thread they started.
    Reply,
    /// They were added to a group.
    AddedToGroup,
    /// An admin added them to an organization.
    MemberAdded,
    /// Someone asked to join an organization they administer.
    JoinRequestSubmitted,
}

impl MailKind {
    pub const ALL: [MailKind; 5] = [
        MailKind::Announcement,
        MailKind::Reply,
        MailKind::AddedToGroup,
        MailKind::MemberAdded,
        MailKind::JoinRequestSubmitted,
    ];

    /// The kind as events, settings and unsubscribe links name it.
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Announcement => "announcement",
            MailKind::Reply => "reply",
            MailKind::AddedToGroup => "added_to_group",
            MailKind::MemberAdded => "member_added",
            MailKind::JoinRequestSubmitted => "join_request_submitted",
        }
    }

    /// The non-essential kind an event kind mails as, if it is one.
    pub fn parse(kind: &str) -> Option<MailKind> {
        MailKind::ALL.into_iter().find(|k| k.as_str() == kind)
    }
}

/// Essential mail: always sent, whatever the settings; each with why (English, Russian).
pub const ESSENTIAL: [(&str, &str, &str); 6] = [
    (
        "invitation",
        "An invitation to an organization reaches only its address.",
        "Приглашение в организацию приходит только на почту.",
    ),
    (
        "roster_invitation",
        "A school's invitation from its journal reaches only its address.",
        "Приглашение школы из журнала приходит только на почту.",
    ),
    (
        "join_request_accepted",
        "The answer to a request to join is yours to know.",
        "Ответ на заявку на вступление важно получить.",
    ),
    (
        "join_request_rejected",
        "The answer to a request to join, with its reason, is yours to know.",
        "Ответ на заявку на вступление с причиной отказа важно получить.",
    ),
    (
        "export_ready",
        "You asked for the export; its link expires.",
        "Вы сами запросили выгрузку, и ссылка на неё истекает.",
    ),
    (
        "admin_appointed",
        "Security: you are told whenever you are given an administrator's rights.",
        "Безопасность: вы всегда узнаёте, когда вам дают права администратора.",
    ),
];

/// Whether mail of an event kind is essential (always sent).
pub fn essential(kind: &str) -> bool {
    ESSENTIAL.iter().any(|(k, _, _)| *k == kind)
}

/// Why an essential kind is always sent, in `lang`.
pub fn why_essential(kind: &str, lang: Language) -> Option<&'static str> {
    ESSENTIAL.iter().find(|(k, _, _)| *k == kind).map(|(_, en, ru)| if lang == Language::En { *en } else { *ru })
}

/// A person's mail settings, kept on their profile: one attribute per kind turned off
/// (absent: on) and the organizations whose non-essential mail they muted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSettings {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mail_off_announcement: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mail_off_reply: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mail_off_added_to_group: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mail_off_member_added: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mail_off_join_request_submitted: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub muted_orgs: Vec<OrgId>,
}

impl MailSettings {
    /// Whether mail of `kind` is on (before the organization's muting).
    pub fn on(&self, kind: MailKind) -> bool {
        !match kind {
            MailKind::Announcement => self.mail_off_announcement,
            MailKind::Reply => self.mail_off_reply,
            MailKind::AddedToGroup => self.mail_off_added_to_group,
            MailKind::MemberAdded => self.mail_off_member_added,
            MailKind::JoinRequestSubmitted => self.mail_off_join_request_submitted,
        }
    }

    /// Whether an event of `kind` in `org` mails the person: essential mail always,
    /// inbox-only kinds never, the rest as their settings say.
    pub fn mails(&self, kind: &str, org: &OrgId) -> bool {
        if essential(kind) {
            return true;
        }
        match MailKind::parse(kind) {
            Some(k) => self.on(k) && !self.muted_orgs.contains(org),
            None => false,
        }
    }
}

/// The profile attribute that holds whether mail of `kind` is off.
pub fn mail_off_attr(kind: MailKind) -> &'static str {
    match kind {
        MailKind::Announcement => "mail_off_announcement",
        MailKind::Reply => "mail_off_reply",
        MailKind::AddedToGroup => "mail_off_added_to_group",
        MailKind::MemberAdded => "mail_off_member_added",
        MailKind::JoinRequestSubmitted => "mail_off_join_request_submitted",
    }
}

/// The most organizations a person mutes.
pub const MAX_MUTED_ORGS: usize = 100;

/// An item of a person's inbox, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub id: NotificationId,
    pub user_id: UserId,
    /// The event's kind (`announcement`, `reply`, `invitation_bounced`, ...).
    pub kind: String,
    pub org_id: OrgId,
    /// In the person's language when it was made.
    pub title: String,
    pub text: String,
    /// What it is about: a path of the front end (`/orgs/<org>/groups/<group>`).
    pub resource: String,
    pub created_at: Timestamp,
    #[serde(default)]
    pub read: bool,
}

/// The longest an inbox item's text is: a long announcement is cut (the resource opens
/// it whole).
pub const MAX_INBOX_TEXT: usize = 500;

/// `text` cut to [`MAX_INBOX_TEXT`] characters, with an ellipsis where it was cut.
pub fn excerpt(text: &str) -> String {
    match text.char_indices().nth(MAX_INBOX_TEXT) {
        None => text.to_string(),
        Some((at, _)) => format!("{}…", text[..at].trim_end()),
    }
}

fn unsubscribe_message(kind: MailKind, user: &UserId) -> String {
    format!("kabinet-unsubscribe-v1:{}:{user}", kind.as_str())
}

/// The token of a one-click unsubscribe link: who, what, and a tag of both under the
/// links' current key (`<version>.<kind>.<user, base64url>.<tag>`). It does not expire: a
/// mail read months later still unsubscribes.
pub fn unsubscribe_token(keys: &LinkKeys, user: &UserId, kind: MailKind) -> Option<String> {
    let version = keys.current();
    let tag = keys.sign(version, &unsubscribe_message(kind, user))?;
    Some(format!("{version}.{}.{}.{tag}", kind.as_str(), URL_SAFE_NO_PAD.encode(user.as_str())))
}

/// Who and what an unsubscribe token names, if its tag is right.
pub fn read_unsubscribe_token(keys: &LinkKeys, token: &str) -> Option<(UserId, MailKind)> {
    let mut parts = token.split('.');
    let (Some(version), Some(kind), Some(user), Some(tag), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let version: u32 = version.parse().ok()?;
    let kind = MailKind::parse(kind)?;
    let user = String::from_utf8(URL_SAFE_NO_PAD.decode(user).ok()?).ok()?;
    let user = UserId::parse(&user)?;
    keys.verify(version, &unsubscribe_message(kind, &user), tag).then_some((user, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0123456789abcdef0123456789abcdef-key-a";
    const B: &str = "0123456789abcdef0123456789abcdef-key-b";

    #[test]
    fn an_unsubscribe_token_names_its_person_and_kind_and_nothing_else() {
        let keys = LinkKeys::parse(&format!(r#"{{"1": "{A}"}}"#)).unwrap();
        let anna = UserId::parse("3f1c9a52-7b0e-4d6a@idp|x").unwrap();
        let token = unsubscribe_token(&keys, &anna, MailKind::Announcement).unwrap();
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "{token}");
        assert_eq!(read_unsubscribe_token(&keys, &token), Some((anna.clone(), MailKind::Announcement)));
        // Another kind or person with the same tag, a changed tag, another key: refused.
        let parts: Vec<&str> = token.split('.').collect();
        let other_kind = format!("{}.reply.{}.{}", parts[0], parts[2], parts[3]);
        assert_eq!(read_unsubscribe_token(&keys, &other_kind), None);
        let other_user = format!("{}.{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode("u2"), parts[3]);
        assert_eq!(read_unsubscribe_token(&keys, &other_user), None);
        let mut bad_tag = token.clone();
        bad_tag.pop();
        bad_tag.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(read_unsubscribe_token(&keys, &bad_tag), None);
        let other_key = LinkKeys::parse(&format!(r#"{{"1": "{B}"}}"#)).unwrap();
        assert_eq!(read_unsubscribe_token(&other_key, &token), None);
        // A rotated secret still reads tokens of the versions it holds.
        let rotated = LinkKeys::parse(&format!(r#"{{"1": "{A}", "2": "{B}"}}"#)).unwrap();
        assert_eq!(read_unsubscribe_token(&rotated, &token), Some((anna, MailKind::Announcement)));
        for junk in ["", "1", "1.announcement", "x.announcement.dTE.abc", "1.invitation.dTE.abc", "1.a.b.c.d"] {
            assert_eq!(read_unsubscribe_token(&keys, junk), None, "{junk}");
        }
        // A link token's tag is not an unsubscribe tag.
        let reply = unsubscribe_message(MailKind::Reply, &UserId::parse("a").unwrap());
        assert_ne!(keys.sign(1, "kabinet-link-v1:a:b"), keys.sign(1, &reply));
    }

    #[test]
    fn essential_mail_is_always_sent_and_the_rest_as_set() {
        let org = OrgId::parse("k7m3xq9pza").unwrap();
        let other = OrgId::parse("k7m3xq9pzb").unwrap();
        let mut s = MailSettings::default();
        for kind in ["announcement", "reply", "invitation", "export_ready", "admin_appointed"] {
            assert!(s.mails(kind, &org), "{kind}");
        }
        assert!(!s.mails("invitation_bounced", &org), "inbox only");
        s.mail_off_announcement = true;
        s.muted_orgs = vec![other.clone()];
        assert!(!s.mails("announcement", &org));
        assert!(s.mails("reply", &org));
        assert!(!s.mails("reply", &other), "a muted organization's");
        assert!(s.mails("join_request_rejected", &other), "essential even when muted");
        for (kind, _, _) in ESSENTIAL {
            assert!(MailKind::parse(kind).is_none(), "{kind} is essential and not a setting");
            assert!(why_essential(kind, Language::Ru).is_some());
        }
        // Each kind's attribute is the field that holds it.
        for kind in MailKind::ALL {
            let mut s = MailSettings::default();
            let mut v = serde_json::to_value(&s).unwrap();
            v[mail_off_attr(kind)] = serde_json::json!(true);
            s = serde_json::from_value(v).unwrap();
            assert!(!s.on(kind) && MailKind::ALL.iter().filter(|k| !s.on(**k)).count() == 1, "{kind:?}");
        }
    }

    /// A new kind of mail is either always sent or a setting: never one that nobody gets.
    #[test]
    fn every_kind_that_mails_is_essential_or_a_setting() {
        for kind in crate::domain::events::MAIL_KINDS {
            assert!(essential(kind) != MailKind::parse(kind).is_some(), "{kind}");
        }
        for kind in crate::domain::events::INBOX_ONLY_KINDS {
            assert!(!essential(kind) && MailKind::parse(kind).is_none(), "{kind}");
            assert!(!MailSettings::default().mails(kind, &OrgId::parse("k7m3xq9pza").unwrap()));
        }
    }

    #[test]
    fn a_long_text_is_cut_at_a_character() {
        assert_eq!(excerpt("коротко"), "коротко");
        let long = "ё".repeat(MAX_INBOX_TEXT + 10);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), MAX_INBOX_TEXT + 1);
        assert!(cut.ends_with('…'));
    }
}
