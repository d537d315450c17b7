//! Inside a group (R7.6): closed discussions (threads and replies) and announcements.
//! Only the group's members and the organization's admins enter (anyone else: 404);
//! announcements are posted by the group's teachers and admins and mailed to its members.
//! Texts are plain text, answered as written. Authors edit and delete their posts for 24
//! hours; admins delete any post. A deleted post keeps its place, without its text.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::common::access::{in_group, Caller};
use super::common::grants::field_errors;
use super::common::placing::may_enter;
use crate::domain::AuditAction;
use crate::domain::{Group, GroupId, OutboxEvent, Post, PostKind, PostRef, PostRefusal, PostText, ThreadId, Timestamp};
use crate::http::Code;
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::store::discussions::PostError;
use crate::store::orgs::{Also, Read};
use crate::Ctx;

/// What every post shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostFields {
    pub id: String,
    /// Plain text (line breaks kept); empty when deleted.
    pub body: String,
    pub author_id: String,
    pub author_name: String,
    pub created_at: Timestamp,
    pub edited_at: Option<Timestamp>,
    pub deleted: bool,
    pub deleted_at: Option<Timestamp>,
}

impl PostFields {
    fn of(p: &Post) -> Self {
        PostFields {
            id: p.id.to_string(),
            body: p.body.clone(),
            author_id: p.author_id.to_string(),
            author_name: p.author_name.clone(),
            created_at: p.created_at,
            edited_at: p.edited_at,
            deleted: p.deleted(),
            deleted_at: p.deleted_at,
        }
    }
}

/// A thread of a group's discussions.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01m7wsyjap2m3tb4rhszq19set",
    "group_id": "01m1dvdy27k1ccphgvsq8593fy",
    "title": "Задача 7 из домашнего задания",
    "body": "Кто решил седьмую задачу? У меня получается 42, а в ответах 48.\nПоделитесь, как вы рассуждали.",
    "author_id": "c5a7e930-2d4b-4e1f-8a6c-9b3d7f0e1a25",
    "author_name": "Михаил Иванов",
    "created_at": "2026-11-20T15:42:08.214Z",
    "edited_at": "2026-11-20T15:47:30.902Z",
    "deleted": false,
    "deleted_at": null,
    "reply_count": 3,
    "last_reply_at": "2026-11-20T18:31:02.447Z"
}))]
pub struct ThreadView {
    pub group_id: String,
    /// Empty when deleted.
    pub title: String,
    #[serde(flatten)]
    pub post: PostFields,
    /// Its replies, deleted ones included (they keep their place).
    pub reply_count: u64,
    pub last_reply_at: Option<Timestamp>,
}

impl ThreadView {
    pub fn of(p: &Post) -> Self {
        ThreadView {
            group_id: p.group_id.to_string(),
            title: p.title.clone(),
            post: PostFields::of(p),
            reply_count: p.reply_count,
            last_reply_at: p.last_reply_at,
        }
    }
}

/// A reply in a thread.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01m7wva0fjnn31y6bj41dtwwqn",
    "thread_id": "01m7wsyjap2m3tb4rhszq19set",
    "body": "Проверь второй шаг: там нужно учесть и двузначные числа. Разберём в среду на кружке.",
    "author_id": "8d2e4b61-5c3a-4f9e-b7d0-1e6a9c3f2b84",
    "author_name": "Ирина Смирнова",
    "created_at": "2026-11-20T16:05:51.730Z",
    "edited_at": null,
    "deleted": false,
    "deleted_at": null
}))]
pub struct ReplyView {
    pub thread_id: String,
    #[serde(flatten)]
    pub post: PostFields,
}

impl ReplyView {
    pub fn of(p: &Post) -> Self {
        ReplyView {
            thread_id: p.thread_id.as_ref().map(ToString::to_string).unwrap_or_default(),
            post: PostFields::of(p),
        }
    }
}

/// An announcement of a group's teachers or the organization's admins.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01m8xf8vybm03vge2g3tycmg06",
    "group_id": "01m1dvdy27k1ccphgvsq8593fy",
    "title": "Занятие 10 декабря переносится",
    "body": "Кружок 10 декабря переносится на пятницу, 12 декабря, в 15:30, кабинет 214.",
    "author_id": "8d2e4b61-5c3a-4f9e-b7d0-1e6a9c3f2b84",
    "author_name": "Ирина Смирнова",
    "created_at": "2026-12-03T08:10:27.659Z",
    "edited_at": null,
    "deleted": false,
    "deleted_at": null,
    "mailed": true
}))]
pub struct AnnouncementView {
    pub group_id: String,
    /// Empty when deleted.
    pub title: String,
    /// Whether its email went to the group's members; `false` when the group had its 3
    /// announcement emails of the hour already (it is posted and read in the group all
    /// the same).
    pub mailed: bool,
    #[serde(flatten)]
    pub post: PostFields,
}

impl AnnouncementView {
    pub fn of(p: &Post) -> Self {
        AnnouncementView {
            group_id: p.group_id.to_string(),
            title: p.title.clone(),
            mailed: p.mailed.unwrap_or(true),
            post: PostFields::of(p),
        }
    }
}

/// A new thread or announcement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Задача 7 из домашнего задания",
    "body": "Кто решил седьмую задачу? У меня получается 42, а в ответах 48.\nПоделитесь, как вы рассуждали."
}))]
pub struct NewPost {
    /// One line, up to 200 characters.
    pub title: String,
    /// Plain text, up to 20,000 characters; line breaks are kept.
    pub body: String,
}

/// A new reply.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "body": "Проверь второй шаг: там нужно учесть и двузначные числа. Разберём в среду на кружке."
}))]
pub struct NewReply {
    /// Plain text, up to 20,000 characters; line breaks are kept.
    pub body: String,
}

/// A changed thread or announcement: either field or both.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Задача 7 из домашнего задания",
    "body": "Кто решил седьмую задачу? У меня получается 42, а в ответах 48.\nПоделитесь, как вы рассуждали."
}))]
pub struct EditPost {
    pub title: Option<String>,
    pub body: Option<String>,
}

/// A reply's changed text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "body": "Проверь второй шаг: там нужно учесть и двузначные числа. Разберём в пятницу на кружке."
}))]
pub struct EditReply {
    pub body: String,
}

// Where a post is: the group of the path, the thread of a reply, the post's own ID.

fn group_of(req: &ApiRequest) -> Result<GroupId, ApiError> {
    req.path::<GroupId>("id")
}

/// The thread of the path that replies of `kind` are in (none for other kinds).
fn thread_of(req: &ApiRequest, kind: PostKind) -> Result<Option<ThreadId>, ApiError> {
    match kind {
        PostKind::Reply => Ok(Some(req.path::<ThreadId>("thread")?)),
        _ => Ok(None),
    }
}

/// The post of `kind` the path names.
fn post_of(req: &ApiRequest, kind: PostKind) -> Result<PostRef, ApiError> {
    Ok(match kind {
        PostKind::Thread => PostRef::Thread(req.path("thread")?),
        PostKind::Reply => PostRef::Reply { thread: req.path("thread")?, reply: req.path("reply")? },
        PostKind::Announcement => PostRef::Announcement(req.path("announcement")?),
    })
}

fn not_found(kind: PostKind) -> ApiError {
    ApiError::NotFound(kind.name())
}

fn post_deleted() -> ApiError {
    ApiError::conflict(Code::PostDeleted, "This post was deleted.")
}

fn refused(r: PostRefusal, action: &'static str) -> ApiError {
    match r {
        PostRefusal::NotAuthor => ApiError::Forbidden(action),
        PostRefusal::WindowClosed => ApiError::conflict(
            Code::EditWindowClosed,
            "Posts can be edited or deleted by their author for 24 hours after posting; ask an admin to delete it.",
        ),
        PostRefusal::Deleted => post_deleted(),
    }
}

fn post_error(e: PostError, kind: PostKind) -> ApiError {
    match e {
        PostError::NoAccess | PostError::GroupGone => ApiError::NotFound("group"),
        PostError::ThreadClosed => post_deleted(),
        PostError::Changed => ApiError::conflict(
            Code::ConcurrentUpdate,
            format!("The {} was changed by someone else meanwhile; read it again and retry.", kind.name()),
        ),
        PostError::Store(e) => e.into(),
    }
}

/// A post's answer: its view with its ETag.
fn answer<V: Serialize>(status: http::StatusCode, p: &Post, view: fn(&Post) -> V) -> Result<ApiResponse, ApiError> {
    Ok(ApiResponse::json(status, &view(p))?.with_etag(p.version))
}

/// The caller in the group of the path, with the post `id` of `kind` (404 when there is
/// none), in one round trip.
async fn caller_and_post(ctx: &Ctx, req: &ApiRequest, kind: PostKind) -> Result<(Caller, Group, Post), ApiError> {
    let group_id = group_of(req)?;
    let at = post_of(req, kind)?;
    let also = Also::Post { group: group_id.clone(), post: at.clone() };
    let (caller, group, mut read) = in_group(ctx, req, &group_id, &[also]).await?;
    let post = read.post(&group_id, &at)?.ok_or(not_found(kind))?;
    Ok((caller, group, post))
}

/// What to read with the group for the thread a reply goes to or is listed under.
fn thread_read(group: &GroupId, thread: Option<&ThreadId>) -> Vec<Also> {
    thread.map(|t| Also::Post { group: group.clone(), post: PostRef::Thread(t.clone()) }).into_iter().collect()
}

/// The thread a reply goes to or is listed under (404 when there is none).
fn the_thread(read: &mut Read, group: &GroupId, thread: Option<&ThreadId>) -> Result<Option<Post>, ApiError> {
    match thread {
        Some(t) => {
            let at = PostRef::Thread(t.clone());
            Ok(Some(read.post(group, &at)?.ok_or(not_found(PostKind::Thread))?))
        }
        None => Ok(None),
    }
}

async fn list_posts<V: Serialize>(
    ctx: Ctx,
    req: ApiRequest,
    kind: PostKind,
    view: fn(&Post) -> V,
) -> Result<ApiResponse, ApiError> {
    let group_id = group_of(&req)?;
    let thread = thread_of(&req, kind)?;
    let (caller, _, mut read) = in_group(&ctx, &req, &group_id, &thread_read(&group_id, thread.as_ref())).await?;
    the_thread(&mut read, &group_id, thread.as_ref())?;
    let page = req.page_query()?;
    let (posts, next) = ctx.store().posts_page(kind, &caller.org.id, &group_id, thread.as_ref(), &page).await?;
    ApiResponse::ok(&Page::new(posts.iter().map(view).collect(), next))
}

async fn create_post<V: Serialize>(
    ctx: Ctx,
    req: ApiRequest,
    kind: PostKind,
    view: fn(&Post) -> V,
) -> Result<ApiResponse, ApiError> {
    let group_id = group_of(&req)?;
    let thread = thread_of(&req, kind)?;
    let (caller, group, mut read) = in_group(&ctx, &req, &group_id, &thread_read(&group_id, thread.as_ref())).await?;
    if kind == PostKind::Announcement && !caller.is_admin() && !caller.member.teaches_group(&group_id) {
        return Err(ApiError::Forbidden("post announcements: the group's teachers and the admins do"));
    }
    let in_thread = the_thread(&mut read, &group_id, thread.as_ref())?;
    if in_thread.as_ref().is_some_and(|t| t.deleted()) {
        return Err(post_deleted());
    }
    let text = if kind.titled() {
        let body: NewPost = req.json()?;
        PostText::parse(Some(&body.title), Some(&body.body))
    } else {
        let body: NewReply = req.json()?;
        PostText::parse(None, Some(&body.body))
    }
    .map_err(field_errors)?;
    let author = (&caller.member.user_id, caller.member.name.as_str());
    let at = PostRef::new(kind, thread.as_ref()).ok_or(not_found(PostKind::Thread))?;
    let post = Post::new(&caller.org.id, &group_id, &at, text, author, Timestamp::now());
    let event = match (&at, in_thread) {
        (PostRef::Announcement(id), _) => Some(OutboxEvent::AnnouncementPosted {
            org_id: caller.org.id.clone(),
            org_name: caller.org.name.clone(),
            group_id: group_id.clone(),
            group_name: group.name.clone(),
            announcement_id: id.clone(),
            title: post.title.clone(),
            body: post.body.clone(),
            author_id: post.author_id.clone(),
            author_name: post.author_name.clone(),
            mailed: true,
        }),
        // The thread's author is told of a reply, unless it is theirs.
        (PostRef::Reply { thread, reply }, Some(t)) if t.author_id != post.author_id => {
            Some(OutboxEvent::ReplyPosted {
                org_id: caller.org.id.clone(),
                org_name: caller.org.name.clone(),
                group_id: group_id.clone(),
                group_name: group.name.clone(),
                thread_id: thread.clone(),
                thread_title: t.title,
                reply_id: reply.clone(),
                thread_author_id: t.author_id,
                body: post.body.clone(),
                author_id: post.author_id.clone(),
                author_name: post.author_name.clone(),
                mailed: true,
            })
        }
        _ => None,
    };
    let post = ctx.store().create_post(kind, &post, event.as_ref()).await.map_err(|e| post_error(e, kind))?;
    let base = format!("/v1/orgs/{}/groups/{}", caller.org.id, group_id);
    let location = match kind {
        PostKind::Thread => format!("{base}/threads/{}", post.id),
        PostKind::Reply => {
            format!(
                "{base}/threads/{}/replies/{}",
                post.thread_id.as_ref().map(ThreadId::as_str).unwrap_or_default(),
                post.id
            )
        }
        PostKind::Announcement => format!("{base}/announcements/{}", post.id),
    };
    Ok(answer(http::StatusCode::CREATED, &post, view)?.with_header("location", &location))
}

async fn get_post<V: Serialize>(
    ctx: Ctx,
    req: ApiRequest,
    kind: PostKind,
    view: fn(&Post) -> V,
) -> Result<ApiResponse, ApiError> {
    let (_, _, post) = caller_and_post(&ctx, &req, kind).await?;
    answer(http::StatusCode::OK, &post, view)
}

async fn edit_post<V: Serialize>(
    ctx: Ctx,
    req: ApiRequest,
    kind: PostKind,
    view: fn(&Post) -> V,
) -> Result<ApiResponse, ApiError> {
    let (caller, _, old) = caller_and_post(&ctx, &req, kind).await?;
    let expected = req.if_match()?;
    let (title, body) = if kind.titled() {
        let edit: EditPost = req.json()?;
        (edit.title, edit.body)
    } else {
        let edit: EditReply = req.json()?;
        (None, Some(edit.body))
    };
    if title.is_none() && body.is_none() {
        let why = "give the title or the text to change";
        return Err(field_errors(vec![("title".into(), why.into()), ("body".into(), why.into())]));
    }
    old.may_edit(&caller.member.user_id, Timestamp::now()).map_err(|r| refused(r, "edit another person's post"))?;
    if expected.is_some_and(|v| v != old.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let text = PostText::parse(title.as_deref(), body.as_deref()).map_err(field_errors)?;
    let new = Post {
        title: text.title.unwrap_or_else(|| old.title.clone()),
        body: text.body.unwrap_or_else(|| old.body.clone()),
        edited_at: Some(Timestamp::now()),
        version: old.version + 1,
        ..old.clone()
    };
    match ctx.store().edit_post(kind, &old, &new).await {
        Ok(()) => answer(http::StatusCode::OK, &new, view),
        Err(PostError::Changed) if expected.is_some() => Err(ApiError::PreconditionFailed),
        Err(e) => Err(post_error(e, kind)),
    }
}

async fn delete_post(ctx: Ctx, req: ApiRequest, kind: PostKind) -> Result<ApiResponse, ApiError> {
    let (caller, group, post) = caller_and_post(&ctx, &req, kind).await?;
    let me = &caller.member.user_id;
    // Moderation: admins and the group's teachers delete anyone's posts, any time.
    let moderator = may_enter(&caller, &group);
    post.may_delete(me, moderator, Timestamp::now()).map_err(|r| refused(r, "delete another person's post"))?;
    if post.deleted() {
        return Ok(ApiResponse::no_content());
    }
    // A moderator removing someone else's words leaves a trace.
    let audit = (&post.author_id != me).then(|| {
        caller.audit(AuditAction::post_deleted(kind), kind.name(), &post.id).before(json!({
            "group_id": post.group_id, "thread_id": post.thread_id, "author_id": post.author_id,
            "author_name": post.author_name, "title": post.title,
        }))
    });
    match ctx.store().delete_post(kind, &post, me, audit.as_ref()).await {
        Ok(()) | Err(PostError::Changed) => Ok(ApiResponse::no_content()),
        Err(e) => Err(post_error(e, kind)),
    }
}

const THREAD: fn(&Post) -> ThreadView = ThreadView::of;
const REPLY: fn(&Post) -> ReplyView = ReplyView::of;
const ANNOUNCEMENT: fn(&Post) -> AnnouncementView = AnnouncementView::of;

/// A group's threads, newest first (the group's members and admins).
#[utoipa::path(get, path = "/v1/orgs/{org}/groups/{id}/threads", tag = "discussions",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of threads", body = Page<ThreadView>)))]
pub async fn list_threads(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    list_posts(ctx, req, PostKind::Thread, THREAD).await
}

/// Opens a thread (the group's members and admins). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/orgs/{org}/groups/{id}/threads", tag = "discussions", request_body = NewPost,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 201, description = "Opened", body = ThreadView, headers(("ETag" = String), ("Location" = String)))))]
pub async fn create_thread(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    create_post(ctx, req, PostKind::Thread, THREAD).await
}

/// Reads a thread.
#[utoipa::path(get, path = "/v1/orgs/{org}/groups/{id}/threads/{thread}", tag = "discussions",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("thread" = String, Path, description = "thread ID")),
    responses((status = 200, description = "The thread", body = ThreadView, headers(("ETag" = String)))))]
pub async fn get_thread(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    get_post(ctx, req, PostKind::Thread, THREAD).await
}

/// Edits a thread's title or text (its author, for 24 hours after posting).
#[utoipa::path(patch, path = "/v1/orgs/{org}/groups/{id}/threads/{thread}", tag = "discussions", request_body = EditPost,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("thread" = String, Path, description = "thread ID"),
           ("If-Match" = Option<String>, Header, description = "the ETag the thread was read with")),
    responses((status = 200, description = "The edited thread", body = ThreadView, headers(("ETag" = String))),
              (status = 409, description = "`edit_window_closed`, `post_deleted`, `concurrent_update`")))]
pub async fn patch_thread(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    edit_post(ctx, req, PostKind::Thread, THREAD).await
}

/// Deletes a thread (its author for 24 hours; admins any time): it keeps its place, and
/// its replies stay readable.
#[utoipa::path(delete, path = "/v1/orgs/{org}/groups/{id}/threads/{thread}", tag = "discussions",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("thread" = String, Path, description = "thread ID")),
    responses((status = 204, description = "Deleted"), (status = 409, description = "`edit_window_closed`")))]
pub async fn delete_thread(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    delete_post(ctx, req, PostKind::Thread).await
}

/// A thread's replies, oldest first.
#[utoipa::path(get, path = "/v1/orgs/{org}/groups/{id}/threads/{thread}/replies", tag = "discussions",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("thread" = String, Path, description = "thread ID"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of replies", body = Page<ReplyView>)))]
pub async fn list_replies(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    list_posts(ctx, req, PostKind::Reply, REPLY).await
}

/// Replies in a thread (not in a deleted one: 409 `post_deleted`); the thread's author
/// is told: in their inbox, and by mail as their settings say, for the thread's first
/// reply of a clock hour. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/orgs/{org}/groups/{id}/threads/{thread}/replies", tag = "discussions", request_body = NewReply,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("thread" = String, Path, description = "thread ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 201, description = "Posted", body = ReplyView, headers(("ETag" = String), ("Location" = String))),
              (status = 409, description = "`post_deleted`")))]
pub async fn create_reply(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    create_post(ctx, req, PostKind::Reply, REPLY).await
}

/// Edits a reply (its author, for 24 hours after posting).
#[utoipa::path(patch, path = "/v1/orgs/{org}/groups/{id}/threads/{thread}/replies/{reply}", tag = "discussions",
    request_body = EditReply,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("thread" = String, Path, description = "thread ID"), ("reply" = String, Path, description = "reply ID"),
           ("If-Match" = Option<String>, Header, description = "the ETag the reply was read with")),
    responses((status = 200, description = "The edited reply", body = ReplyView, headers(("ETag" = String))),
              (status = 409, description = "`edit_window_closed`, `post_deleted`, `concurrent_update`")))]
pub async fn patch_reply(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    edit_post(ctx, req, PostKind::Reply, REPLY).await
}

/// Deletes a reply (its author for 24 hours; admins any time): it keeps its place.
#[utoipa::path(delete, path = "/v1/orgs/{org}/groups/{id}/threads/{thread}/replies/{reply}", tag = "discussions",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("thread" = String, Path, description = "thread ID"), ("reply" = String, Path, description = "reply ID")),
    responses((status = 204, description = "Deleted"), (status = 409, description = "`edit_window_closed`")))]
pub async fn delete_reply(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    delete_post(ctx, req, PostKind::Reply).await
}

/// A group's announcements, newest first (the group's members and admins).
#[utoipa::path(get, path = "/v1/orgs/{org}/groups/{id}/announcements", tag = "discussions",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of announcements", body = Page<AnnouncementView>)))]
pub async fn list_announcements(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    list_posts(ctx, req, PostKind::Announcement, ANNOUNCEMENT).await
}

/// Posts an announcement (the group's teachers and admins): it lands in each member's
/// inbox, and each member who has not turned the emails off (for the group, for
/// announcements or for the organization) gets it by email, for the group's first 3
/// announcements of a clock hour (later ones are posted with `mailed: false`, inbox
/// only). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/orgs/{org}/groups/{id}/announcements", tag = "discussions", request_body = NewPost,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 201, description = "Posted", body = AnnouncementView, headers(("ETag" = String), ("Location" = String)))))]
pub async fn create_announcement(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    create_post(ctx, req, PostKind::Announcement, ANNOUNCEMENT).await
}

/// Reads an announcement.
#[utoipa::path(get, path = "/v1/orgs/{org}/groups/{id}/announcements/{announcement}", tag = "discussions",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("announcement" = String, Path, description = "announcement ID")),
    responses((status = 200, description = "The announcement", body = AnnouncementView, headers(("ETag" = String)))))]
pub async fn get_announcement(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    get_post(ctx, req, PostKind::Announcement, ANNOUNCEMENT).await
}

/// Edits an announcement (its author, for 24 hours after posting; no new email).
#[utoipa::path(patch, path = "/v1/orgs/{org}/groups/{id}/announcements/{announcement}", tag = "discussions",
    request_body = EditPost,
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("announcement" = String, Path, description = "announcement ID"),
           ("If-Match" = Option<String>, Header, description = "the ETag the announcement was read with")),
    responses((status = 200, description = "The edited announcement", body = AnnouncementView, headers(("ETag" = String))),
              (status = 409, description = "`edit_window_closed`, `post_deleted`, `concurrent_update`")))]
pub async fn patch_announcement(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    edit_post(ctx, req, PostKind::Announcement, ANNOUNCEMENT).await
}

/// Deletes an announcement (its author for 24 hours; admins any time).
#[utoipa::path(delete, path = "/v1/orgs/{org}/groups/{id}/announcements/{announcement}", tag = "discussions",
    params(("org" = String, Path, description = "organization ID"), ("id" = String, Path, description = "group ID"),
           ("announcement" = String, Path, description = "announcement ID")),
    responses((status = 204, description = "Deleted"), (status = 409, description = "`edit_window_closed`")))]
pub async fn delete_announcement(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    delete_post(ctx, req, PostKind::Announcement).await
}
