//! Inside a group (SPEC R7.6): closed discussions (threads and their replies) and
//! announcements. All three are posts: plain text written by one person, which they may
//! edit or delete for a while ([`EDIT_WINDOW`]) and an admin may delete at any time. A
//! deleted post keeps its place (its text goes), so a thread still reads in order.

use serde::{Deserialize, Serialize};

use super::{text, AnnouncementId, GroupId, OrgId, PostId, ReplyId, ThreadId, Timestamp, UserId};

/// The longest title of a thread or announcement.
pub const MAX_TITLE: usize = 200;
/// The longest text of a post, in characters.
pub const MAX_BODY: usize = 20_000;
/// How long after posting its author may edit or delete a post.
pub const EDIT_WINDOW: time::Duration = time::Duration::hours(24);

/// What a post is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostKind {
    Thread,
    Reply,
    Announcement,
}

impl PostKind {
    /// Its name in audit entries and answers (`thread`, `reply`, `announcement`).
    pub fn name(self) -> &'static str {
        match self {
            PostKind::Thread => "thread",
            PostKind::Reply => "reply",
            PostKind::Announcement => "announcement",
        }
    }

    /// Whether its posts have a title.
    pub fn titled(self) -> bool {
        !matches!(self, PostKind::Reply)
    }
}

/// Which post of a group: a thread, a reply in a thread, or an announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostRef {
    Thread(ThreadId),
    Reply { thread: ThreadId, reply: ReplyId },
    Announcement(AnnouncementId),
}

impl PostRef {
    /// A new post of `kind`: its ID minted, a reply's under `thread` (`None` when a reply
    /// has no thread).
    pub fn new(kind: PostKind, thread: Option<&ThreadId>) -> Option<PostRef> {
        Some(match kind {
            PostKind::Thread => PostRef::Thread(ThreadId::new()),
            PostKind::Reply => PostRef::Reply { thread: thread?.clone(), reply: ReplyId::new() },
            PostKind::Announcement => PostRef::Announcement(AnnouncementId::new()),
        })
    }

    pub fn kind(&self) -> PostKind {
        match self {
            PostRef::Thread(_) => PostKind::Thread,
            PostRef::Reply { .. } => PostKind::Reply,
            PostRef::Announcement(_) => PostKind::Announcement,
        }
    }

    /// The thread a reply is in.
    pub fn thread(&self) -> Option<&ThreadId> {
        match self {
            PostRef::Reply { thread, .. } => Some(thread),
            _ => None,
        }
    }

    /// The post's own ID.
    pub fn id(&self) -> PostId {
        match self {
            PostRef::Thread(id) => id.clone().into(),
            PostRef::Reply { reply, .. } => reply.clone().into(),
            PostRef::Announcement(id) => id.clone().into(),
        }
    }
}

/// A thread, reply or announcement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Post {
    pub id: PostId,
    pub org_id: OrgId,
    pub group_id: GroupId,
    /// The thread a reply answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
    /// Threads and announcements; emptied when deleted.
    #[serde(default)]
    pub title: String,
    /// Emptied when deleted.
    #[serde(default)]
    pub body: String,
    pub author_id: UserId,
    pub author_name: String,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_by: Option<UserId>,
    /// A thread's replies (deleted ones included: they keep their place).
    #[serde(default)]
    pub reply_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reply_at: Option<Timestamp>,
    /// An announcement: whether its email went to the group (`false`: posted past the
    /// group's hourly announcement mail, [`ANNOUNCEMENT_MAILS_PER_HOUR`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailed: Option<bool>,
    /// Bumped by every edit (the ETag).
    pub version: u64,
}

/// Announcements of one group mailed to its members in a clock hour: past it they are
/// posted (and read in the group) without an email, so no one floods a group's inboxes.
pub const ANNOUNCEMENT_MAILS_PER_HOUR: u32 = 3;

/// Replies to one thread mailed to its author in a clock hour: the first; later ones reach
/// their inbox only (a busy thread does not mail its author for each reply).
pub const REPLY_MAILS_PER_HOUR: u32 = 1;

/// Why a person may not change a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostRefusal {
    /// Not theirs (and, to delete, they are not an admin).
    NotAuthor,
    /// Theirs, but the edit window has passed.
    WindowClosed,
    /// Deleted already.
    Deleted,
}

impl Post {
    /// A new post `at` (of its kind, a reply's in its thread) of `author` (their ID and
    /// name) in `group`.
    pub fn new(
        org: &OrgId,
        group: &GroupId,
        at: &PostRef,
        text: PostText,
        author: (&UserId, &str),
        now: Timestamp,
    ) -> Post {
        Post {
            id: at.id(),
            org_id: org.clone(),
            group_id: group.clone(),
            thread_id: at.thread().cloned(),
            title: text.title.unwrap_or_default(),
            body: text.body.unwrap_or_default(),
            author_id: author.0.clone(),
            author_name: author.1.to_string(),
            created_at: now,
            edited_at: None,
            deleted_at: None,
            deleted_by: None,
            reply_count: 0,
            last_reply_at: None,
            mailed: None,
            version: 1,
        }
    }

    pub fn deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Until when its author may change it.
    pub fn window_ends(&self) -> Timestamp {
        self.created_at.plus(EDIT_WINDOW)
    }

    /// Whether `user` may edit it now.
    pub fn may_edit(&self, user: &UserId, now: Timestamp) -> Result<(), PostRefusal> {
        if &self.author_id != user {
            return Err(PostRefusal::NotAuthor);
        }
        if self.deleted() {
            return Err(PostRefusal::Deleted);
        }
        if now > self.window_ends() {
            return Err(PostRefusal::WindowClosed);
        }
        Ok(())
    }

    /// Whether `user` (a moderator of the group: an admin or its teacher; or not) may
    /// delete it now; deleting a deleted post is allowed (nothing changes).
    pub fn may_delete(&self, user: &UserId, moderator: bool, now: Timestamp) -> Result<(), PostRefusal> {
        if moderator {
            return Ok(());
        }
        if &self.author_id != user {
            return Err(PostRefusal::NotAuthor);
        }
        if !self.deleted() && now > self.window_ends() {
            return Err(PostRefusal::WindowClosed);
        }
        Ok(())
    }
}

/// A post's title (for threads and announcements) and text as given, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostText {
    pub title: Option<String>,
    pub body: Option<String>,
}

impl PostText {
    /// Checks a title (one line, [`MAX_TITLE`]) and a text (lines kept, [`MAX_BODY`]),
    /// each only when given, collecting both fields' errors.
    pub fn parse(title: Option<&str>, body: Option<&str>) -> Result<Self, Vec<(String, String)>> {
        let mut errors = Vec::new();
        let title = title.and_then(|t| text::required(t, MAX_TITLE).map_err(|e| errors.push(("title".into(), e))).ok());
        let body =
            body.and_then(|b| text::multiline_required(b, MAX_BODY).map_err(|e| errors.push(("body".into(), e))).ok());
        if errors.is_empty() {
            Ok(PostText { title, body })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(author: &str, created: Timestamp) -> Post {
        let text = PostText { title: Some("Экскурсия".into()), body: Some("В пятницу".into()) };
        let org = OrgId::parse("k7m3xq9pza").unwrap();
        Post::new(
            &org,
            &GroupId::new(),
            &PostRef::Thread(ThreadId::new()),
            text,
            (&UserId::parse(author).unwrap(), "Анна"),
            created,
        )
    }

    #[test]
    fn authors_edit_within_the_window_and_admins_delete_any_time() {
        let now = Timestamp::now();
        let anna = UserId::parse("anna").unwrap();
        let petya = UserId::parse("petya").unwrap();
        let fresh = post("anna", now);
        assert_eq!(fresh.may_edit(&anna, now), Ok(()));
        assert_eq!(fresh.may_edit(&petya, now), Err(PostRefusal::NotAuthor));
        assert_eq!(fresh.may_delete(&petya, false, now), Err(PostRefusal::NotAuthor));
        assert_eq!(fresh.may_delete(&petya, true, now), Ok(()));
        let old = post("anna", now.plus(-EDIT_WINDOW - time::Duration::minutes(1)));
        assert_eq!(old.may_edit(&anna, now), Err(PostRefusal::WindowClosed));
        assert_eq!(old.may_delete(&anna, false, now), Err(PostRefusal::WindowClosed));
        assert_eq!(old.may_delete(&petya, true, now), Ok(()));
        // Admins do not edit others' words.
        assert_eq!(old.may_edit(&petya, now), Err(PostRefusal::NotAuthor));
        let gone = Post { deleted_at: Some(now), ..fresh };
        assert_eq!(gone.may_edit(&anna, now), Err(PostRefusal::Deleted));
        assert_eq!(gone.may_delete(&anna, false, now), Ok(()));
    }

    #[test]
    fn a_post_ref_ties_kind_thread_and_id() {
        let thread = ThreadId::new();
        let reply = PostRef::new(PostKind::Reply, Some(&thread)).unwrap();
        assert_eq!((reply.kind(), reply.thread()), (PostKind::Reply, Some(&thread)));
        assert_ne!(reply.id().as_str(), thread.as_str());
        assert!(PostRef::new(PostKind::Reply, None).is_none());
        let announcement = PostRef::new(PostKind::Announcement, Some(&thread)).unwrap();
        assert_eq!((announcement.kind(), announcement.thread()), (PostKind::Announcement, None));
        let at = PostRef::Thread(thread.clone());
        assert_eq!(at.id().as_str(), thread.as_str());
        let text = PostText { title: Some("Экскурсия".into()), body: Some("В пятницу".into()) };
        let author = UserId::parse("anna").unwrap();
        let org = OrgId::parse("k7m3xq9pza").unwrap();
        let p = Post::new(&org, &GroupId::new(), &reply, text, (&author, "Анна"), Timestamp::now());
        assert_eq!((p.id, p.thread_id), (reply.id(), Some(thread)));
    }

    #[test]
    fn texts_are_checked_and_kept_as_plain_text() {
        let t = PostText::parse(Some("  Родительское собрание "), Some("<b>Во вторник</b>\nв 18:00")).unwrap();
        assert_eq!(t.title.as_deref(), Some("Родительское собрание"));
        assert_eq!(t.body.as_deref(), Some("<b>Во вторник</b>\nв 18:00"));
        let errs = PostText::parse(Some("a\nb"), Some(&"я".repeat(MAX_BODY + 1))).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["title", "body"]);
        assert!(PostText::parse(None, Some("   ")).is_err());
        assert!(PostText::parse(None, Some(&"я".repeat(MAX_BODY))).is_ok());
    }
}
