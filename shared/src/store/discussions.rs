//! Posts inside a group: threads, their replies and announcements, each an item of the
//! organization's partition under its group (and thread), so every list is one query in
//! ID (= time) order. Every write is conditional on the writer still being allowed to
//! write in the group, and counts the post on their membership.

use super::items::{group_key, post_item, post_key};
use super::keys::*;
use super::pieces::{add_audit, add_event, count_within, in_group, InGroup};
use super::read::KeyQuery;
use super::tx::{key, n, s, Expr, Tx};
use super::{Store, StoreError};
use crate::domain::discussions::{ANNOUNCEMENT_MAILS_PER_HOUR, REPLY_MAILS_PER_HOUR};
use crate::domain::{AuditEntry, GroupId, OrgId, OutboxEvent, Post, PostKind, PostRef, ThreadId, Timestamp, UserId};
use crate::page::{Cursor, PageQuery};

/// Why a change to a post was refused.
#[derive(Debug)]
pub enum PostError {
    /// The writer may no longer write in the group (removed from it, or from the
    /// organization, or no longer a teacher or admin).
    NoAccess,
    /// The group is gone.
    GroupGone,
    /// The thread replied to was deleted (or is gone).
    ThreadClosed,
    /// Changed or deleted since read: read again.
    Changed,
    Store(StoreError),
}

impl From<StoreError> for PostError {
    fn from(e: StoreError) -> Self {
        PostError::Store(e)
    }
}

/// Counts an announcement's email against its group's clock hour; the counter leaves by
/// TTL.
fn count_announcement_mail(tx: &mut Tx, p: &Post) -> Result<usize, StoreError> {
    let hour = p.created_at.unix().div_euclid(3600);
    let key = key(org_pk(&p.org_id), announcement_mail_sk(&p.group_id, hour));
    count_within(tx, key, "sent", ANNOUNCEMENT_MAILS_PER_HOUR, (hour + 2) * 3600)
}

/// Counts a reply's email to its thread's author against the thread's clock hour; the
/// counter leaves by TTL.
fn count_reply_mail(tx: &mut Tx, p: &Post, thread: &ThreadId) -> Result<usize, StoreError> {
    let hour = p.created_at.unix().div_euclid(3600);
    let key = key(org_pk(&p.org_id), reply_mail_sk(thread, hour));
    count_within(tx, key, "sent", REPLY_MAILS_PER_HOUR, (hour + 2) * 3600)
}

/// Whether an event of a post mails (an announcement's or a reply's, until its hour's
/// mail is spent).
fn mails(event: &Option<OutboxEvent>) -> bool {
    matches!(
        event,
        Some(OutboxEvent::AnnouncementPosted { mailed: true, .. } | OutboxEvent::ReplyPosted { mailed: true, .. })
    )
}

impl Store {
    /// Posts a thread, reply or announcement (with its outbox event, for an announcement or
    /// a reply to someone else's thread); a reply also counts on its thread. An
    /// announcement's email counts against its group's hour
    /// ([`ANNOUNCEMENT_MAILS_PER_HOUR`]), a reply's against its thread's
    /// ([`REPLY_MAILS_PER_HOUR`]): past it, its event goes with `mailed: false` (the inbox
    /// only). The post as written (`mailed` set for an announcement).
    pub async fn create_post(&self, kind: PostKind, p: &Post, event: Option<&OutboxEvent>) -> Result<Post, PostError> {
        let mut post = p.clone();
        let mut event = event.cloned();
        loop {
            let mailed = mails(&event);
            if kind == PostKind::Announcement {
                post.mailed = Some(mailed);
            }
            let mut tx = Tx::new(&self.table);
            tx.put(post_item(kind, &post)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
            let (need, counter) = match kind {
                PostKind::Announcement => (InGroup::Teacher, "announcement_count"),
                PostKind::Thread | PostKind::Reply => (InGroup::Member, "post_count"),
            };
            let access = in_group(&mut tx, &p.org_id, &p.author_id, p.group_id.as_str(), need, Some(counter))?;
            let group = tx.check(group_key(&p.org_id, &p.group_id), Expr::condition("attribute_exists(pk)"))?;
            let mut meanings = vec![(access, PostError::NoAccess), (group, PostError::GroupGone)];
            if let Some(thread) = &p.thread_id {
                let expr =
                    Expr::update("SET reply_count = if_not_exists(reply_count, :zero) + :one, last_reply_at = :now")
                        .when("attribute_exists(pk) AND attribute_not_exists(deleted_at)")
                        .value(":zero", n(0))
                        .value(":one", n(1))
                        .value(":now", s(p.created_at.to_string()));
                let at =
                    tx.update(key(org_pk(&p.org_id), post_sk_at(&p.group_id, &PostRef::Thread(thread.clone()))), expr)?;
                meanings.push((at, PostError::ThreadClosed));
            }
            if let Some(event) = &event {
                add_event(&mut tx, event)?;
            }
            let budget = match (mailed, &p.thread_id) {
                (false, _) => None,
                (true, Some(thread)) => Some(count_reply_mail(&mut tx, p, thread)?),
                (true, None) => Some(count_announcement_mail(&mut tx, p)?),
            };
            match tx.run(self).await {
                Ok(()) => return Ok(post),
                // The hour's mail (the group's announcements, the thread's replies) is spent:
                // posted with its event for the inbox only.
                Err(e)
                    if budget.is_some_and(|at| e.condition_failed_at(at))
                        && !meanings.iter().any(|(i, _)| e.condition_failed_at(*i)) =>
                {
                    if let Some(
                        OutboxEvent::AnnouncementPosted { mailed, .. } | OutboxEvent::ReplyPosted { mailed, .. },
                    ) = &mut event
                    {
                        *mailed = false;
                    }
                }
                Err(e) => return Err(super::tx::meaning_of(e, meanings)),
            }
        }
    }

    /// One post, if it is there.
    pub async fn post(&self, org: &OrgId, group: &GroupId, post: &PostRef) -> Result<Option<Post>, StoreError> {
        self.get(key(org_pk(org), post_sk_at(group, post))).await
    }

    /// A page of a group's threads or announcements (newest first), or of a thread's
    /// replies (oldest first).
    pub async fn posts_page(
        &self,
        kind: PostKind,
        org: &OrgId,
        group: &GroupId,
        thread: Option<&ThreadId>,
        page: &PageQuery,
    ) -> Result<(Vec<Post>, Option<Cursor>), StoreError> {
        let mut q = KeyQuery::table(org_pk(org)).prefix(posts_prefix(kind, group, thread));
        if kind != PostKind::Reply {
            q = q.newest_first();
        }
        self.query_page(&q, page).await
    }

    /// Writes a post's new text, conditional on the version read and on its author still
    /// being in the group.
    pub async fn edit_post(&self, kind: PostKind, old: &Post, new: &Post) -> Result<(), PostError> {
        let mut tx = Tx::new(&self.table);
        let mut set = vec!["body = :body", "edited_at = :now", "version = :version"];
        let mut expr = Expr::default()
            .value(":body", s(&new.body))
            .value(":now", s(new.edited_at.unwrap_or_else(Timestamp::now).to_string()))
            .value(":version", n(new.version))
            .value(":read", n(old.version));
        if kind.titled() {
            set.push("title = :title");
            expr = expr.value(":title", s(&new.title));
        }
        expr.update = Some(format!("SET {}", set.join(", ")));
        let expr = expr.when("attribute_exists(pk) AND version = :read AND attribute_not_exists(deleted_at)");
        let changed = tx.update(post_key(kind, old), expr)?;
        let access = in_group(&mut tx, &old.org_id, &old.author_id, old.group_id.as_str(), InGroup::Member, None)?;
        tx.run_expecting(self, vec![(changed, PostError::Changed), (access, PostError::NoAccess)]).await
    }

    /// Deletes a post, keeping its place: its texts go, `deleted_at` says when. By its
    /// author (still in the group), or by a moderator (`audit`, written with it): an admin
    /// (the entry checks that they still are one) or a teacher of the group (still one).
    /// `Changed` when it was deleted meanwhile.
    pub async fn delete_post(
        &self,
        kind: PostKind,
        old: &Post,
        by: &UserId,
        audit: Option<&AuditEntry>,
    ) -> Result<(), PostError> {
        let mut tx = Tx::new(&self.table);
        let expr = Expr::update(
            "SET title = :empty, body = :empty, deleted_at = :now, deleted_by = :by, version = version + :one",
        )
        .when("attribute_exists(pk) AND attribute_not_exists(deleted_at)")
        .value(":empty", s(""))
        .value(":now", s(Timestamp::now().to_string()))
        .value(":by", s(by.as_str()))
        .value(":one", n(1));
        let gone = tx.update(post_key(kind, old), expr)?;
        let mut meanings = vec![(gone, PostError::Changed)];
        match audit {
            Some(entry) => {
                // A teacher of the group moderating: still one (an admin's entry checks).
                if !entry.by_admin {
                    let access = in_group(&mut tx, &old.org_id, by, old.group_id.as_str(), InGroup::Teacher, None)?;
                    meanings.push((access, PostError::NoAccess));
                }
                add_audit(&mut tx, entry)?;
            }
            None => {
                let access = in_group(&mut tx, &old.org_id, by, old.group_id.as_str(), InGroup::Member, None)?;
                meanings.push((access, PostError::NoAccess));
            }
        }
        tx.run_expecting(self, meanings).await
    }
}
