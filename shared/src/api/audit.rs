//! The audit log (R10.1): admins read who did what, when, with the values before and after.

use serde::Serialize;
use utoipa::ToSchema;

use super::common::access::admin;
use crate::domain::{AuditEntry, Timestamp, UserId};
use crate::http::{ApiError, ApiRequest, ApiResponse, Page};
use crate::store::audit::AuditFilter;
use crate::Ctx;

/// An `action` filter, in characters.
pub const MAX_ACTION: usize = 64;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActor {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditTarget {
    #[serde(rename = "type")]
    pub type_: String,
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01M93NWMH0D5T0WGSBH3ATP7TQ",
    "at": "2026-12-05T18:01:33.472Z",
    "actor": {"id": "3f1c9a52-7b0e-4d6a-9c1e-2a8b5d4e6f70", "name": "Анна Петрова"},
    "action": "join_request.reject",
    "target": {"type": "join_request", "id": "01m93kne1yd26kwdzfzdvwdb75"},
    "before": {"status": "pending"},
    "after": {
        "status": "rejected",
        "reason": "В 5А нет ученика с фамилией Кузнецов: проверьте класс и отправьте заявку снова."
    }
}))]
pub struct AuditView {
    pub id: String,
    pub at: Timestamp,
    pub actor: AuditActor,
    /// What was done: an action's name (the reference lists them all).
    pub action: String,
    pub target: AuditTarget,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        AuditView {
            id: e.id.to_string(),
            at: e.at,
            actor: AuditActor { id: e.actor_id, name: e.actor_name },
            action: e.action,
            target: AuditTarget { type_: e.target_type, id: e.target_id },
            before: parse(e.before),
            after: parse(e.after),
        }
    }
}

/// The organization's audit log, newest first (admins).
#[utoipa::path(get, path = "/v1/orgs/{org}/audit", tag = "audit",
    params(("org" = String, Path, description = "organization ID"),
           ("actor" = Option<String>, Query, description = "only this person's actions (user ID)"),
           ("action" = Option<String>, Query, description = "an action (`member.add`) or a family (`member`)"),
           ("since" = Option<String>, Query, description = "RFC 3339 time: only entries from then on"),
           ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of entries", body = Page<AuditView>)))]
pub async fn list(ctx: Ctx, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let caller = admin(&ctx, &req, "read the audit log").await?;
    let page = req.page_query()?;
    let since = match req.query_param("since") {
        Some(s) => Some(Timestamp::parse(s).map_err(|m| ApiError::validation("since", m))?),
        None => None,
    };
    let action = req.query_param("action").map(str::to_owned);
    if action.as_deref().is_some_and(|a| {
        a.is_empty() || a.len() > MAX_ACTION || !a.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
    }) {
        return Err(ApiError::validation("action", "must be an action like member.add or a family like member"));
    }
    let actor = match req.query_param("actor") {
        Some(a) => Some(UserId::parse(a).ok_or_else(|| ApiError::validation("actor", "must be a user ID"))?),
        None => None,
    };
    let filter = AuditFilter { actor: actor.map(|a| a.as_str().to_owned()), action, since };
    let (entries, next) = ctx.store().audit_entries(&caller.org.id, &filter, &page).await?;
    ApiResponse::ok(&Page::new(entries.into_iter().map(AuditView::from).collect(), next))
}
