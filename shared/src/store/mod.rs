//! DynamoDB single-table access: keys, item <-> entity mapping, conditional writes and
//! transactions. The only code that names attributes. The entities themselves live in
//! `domain`; this layer knows neither HTTP nor the handlers.
//!
//! | item | pk | sk |
//! | --- | --- | --- |
//! | user profile | `USER#<sub>` | `PROFILE` (gsi2: `EMAIL#<email>`; mail settings: `mail_off_<kind>`, `muted_orgs`) |
//! | inbox item | `USER#<sub>` | `NOTE#<id>` (the event's ID, lower-cased; never changes; ttl: 90 days) |
//! | unread mark | `USER#<sub>` | `UNREAD#<id>` (beside each unread item; deleted when read; ttl with it) |
//! | organization | `ORG#<org>` | `PROFILE` (version, admin_count, member_count) |
//! | membership | `ORG#<org>` | `MEMBER#<sub>` (gsi1: `USER#<sub>` / `ORG#<org>`; admins also gsi2: `ADMINS#<org>`) |
//! | member search item | `ORG#<org>` | `MSEARCH#<word>#<sub>` per normalized word of the member's name (lower case, `ё` as `е`), `MSEARCH#<email>#<sub>#EMAIL` for their address (`by_email`: admins' searches only); each holds the person's `tokens` and `email` to count them once; written and deleted with the membership |
//! | class | `ORG#<org>` | `CLASS#<id>` (rosters: maps of user IDs; gsi1: `CLASSES#<org>#<year>` / `<grade>#<name>#<id>`, list order) |
//! | class name guard | `ORG#<org>` | `CLASSNAME#<year>#<name>` (unique names per year) |
//! | rollover record | `ORG#<org>` | `ROLLOVER#<year>` (the classes its rollovers set out to move) |
//! | audit entry | `ORG#<org>` | `AUDIT#<ulid>` (time-ordered) |
//! | invite link | `ORG#<org>` | `LINK#<id>` (uses, max_uses; the token only as SHA-256; ttl: expiry + 90 days) |
//! | link token lookup | `LINKTOKEN#<sha256>` | `LINK` (ttl as its link's) |
//! | link declined | `ORG#<org>` | `DECLINE#<link>#<sub>` (ttl as its link's) |
//! | join request | `ORG#<org>` | `JOINREQ#<id>` (gsi1: `USER#<sub>`; gsi2: `JOINREQS#<org>`, pending first) |
//! | pending guard | `ORG#<org>` | `JOINPENDING#<sub>` (one pending request a person) |
//! | email invitation | `ORG#<org>` | `INVITE#<id>` (gsi2: `INVITEMAIL#<email>`; gsi1: `INVITEDBY#<org>#<sub>`; ttl: expiry + 90 days) |
//! | group | `ORG#<org>` | `GROUP#<id>` (member_count; course_id when linked) |
//! | course | `ORG#<org>` | `COURSE#<id>` (teacher_ids, linked_group_ids: string sets; student_count) |
//! | group member | `ORG#<org>` | `GMEMBER#<group>#<sub>` (`role`: teacher or student; mirrored in the membership's `group_ids`, a teacher's also in `teaching_group_ids`) |
//! | course student | `ORG#<org>` | `CSTUDENT#<course>#<sub>` (mirrored in the membership's `course_ids`; taught courses in `teaching_course_ids`) |
//! | invitation guard | `ORG#<org>` | `INVITEPENDING#<email>` (one pending a person; ttl as its invitation's) |
//! | invitation emails of a day | `ORG#<org>` | `MAILDAY#<day>` (email and roster invitations: the daily budget; ttl) |
//! | roster person | `ORG#<org>` | `ROSTER#<sourcedId>` (gsi2: `INVITEMAIL#<email>` / `INVITE#<offer>`, the offer beside the address's invitations; gsi1: `ROSTERIDENT#<org>#<login>`) |
//! | waiting employee | `ORG#<org>` | `ROSTERWAIT#<sourcedId>` (a teacher or staff record nobody has joined as; in the record's transactions) |
//! | a member's records | `ORG#<org>` | `ROSTERUSER#<sub>` (`sourced_ids`: the records they joined as) |
//! | roster counts | `ORG#<org>` | `ROSTERCOUNT#<0-15>` (`waiting_<role>`, `linked`; a record counts on the shard of its sourcedId) |
//! | thread | `ORG#<org>` | `THREAD#<group>#<thread>` (newest last by ID) |
//! | reply | `ORG#<org>` | `REPLY#<group>#<thread>#<reply>` |
//! | announcement | `ORG#<org>` | `ANNOUNCE#<group>#<announcement>` |
//! | ready file | `ORG#<org>` | `FILE#<group>#<file>` |
//! | upload under way | `ORG#<org>` | `UPLOAD#<group>#<file>` (not completed yet; ttl) |
//! | a member's uploads | `ORG#<org>` | `UPLOADS#<sub>` (`open_uploads`) |
//! | upload released | `ORG#<org>` | `UPLOADGONE#<file>` (a redelivered expiry releases nothing again; ttl) |
//! | activity of a day | `ORG#<org>` | `ACTIVEDAY#<day>` (members last active and active that day; ttl) |
//! | invitations expiring on a day | `ORG#<org>` | `INVITEEXP#<day>` (ttl) |
//! | export | `ORG#<org>` | `EXPORT#<id>` (ttl with its file) |
//! | an admin's export places | `ORG#<org>` | `EXPORTSLOT#<sub>#<n>` (three building at most) |
//! | roster import | `ORG#<org>` | `IMPORT#<id>` |
//! | import run | `ORG#<org>` | `IMPORTRUN#<id>` (its insert, read from the stream, starts the importer; ttl) |
//! | import slot | `ORG#<org>` | `IMPORTSLOT` (the organization's one import running) |
//! | journal class | `ORG#<org>` | `ROSTERCLASS#<sourcedId>` (the class or course it became) |
//! | journal enrollment | `ORG#<org>` | `ROSTERENROL#<sourcedId>` |
//! | person to settle | `ORG#<org>` | `ROSTERDIRTY#<import>#<sourcedId>` (changed by an import, not settled yet) |
//! | admins mailed of a requester | `ORG#<org>` | `JOINMAIL#<sub>` (once an hour; ttl) |
//! | announcement emails of an hour | `ORG#<org>` | `ANNOUNCEMAIL#<group>#<hour>` (ttl) |
//! | reply emails of an hour | `ORG#<org>` | `REPLYMAIL#<thread>#<hour>` (to the thread's author; ttl) |
//! | organizations created on a day | `USER#<sub>` | `ORGSCREATED#<day>` (ttl) |
//! | login requests of a day | `USER#<sub>` | `ROSTERLINKS#<org>#<day>` (ttl) |
//! | send claim | `SENT#<event>#<email>` | `SENT` (at most one email per event and recipient; `skipped:<sub>` for a person not mailed: address unverified) |
//! | outbox event | `EVENT#<ulid>` | `EVENT` (stream -> consumers; ttl) |
//! | undeliverable address | `ADDRESS#<email>` | `UNDELIVERABLE` (`reason`: bounced or complained, `at`, the SES `message_id`; written once, by the mail events' consumer) |
//! | idempotency record | `IDEM#<sub>#<key>` | `IDEM` (ttl) |

// The store's shared parts: what every entity module may use.
pub mod items;
pub mod keys;
pub mod pieces;
pub mod places;
pub mod read;
pub mod schema;
pub mod tx;

// One module per entity: each uses only the shared parts, never another entity module.
pub mod audit;
pub mod classes;
pub mod courses;
pub mod discussions;
pub mod exports;
pub mod files;
pub mod groups;
pub mod idempotency;
pub mod imports;
pub mod invitations;
pub mod join_requests;
pub mod links;
pub mod members;
pub mod notifications;
pub mod orgs;
pub mod outbox;
pub mod reputation;
pub mod roster;
pub mod sent;
pub mod users;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::TransactWriteItem;
use aws_sdk_dynamodb::Client;

/// The table and its client; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub db: Client,
    pub table: String,
}

/// A failed write.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A single write's condition did not hold.
    #[error("condition failed")]
    ConditionFailed,
    /// A transaction was cancelled: per action, the reason code (`None` where it held,
    /// `ConditionalCheckFailed` where its condition failed).
    #[error("transaction cancelled: {0:?}")]
    Cancelled(Vec<String>),
    /// A page cursor that does not belong to the list being read.
    #[error("invalid cursor")]
    InvalidCursor,
    /// An admin's write whose actor was no longer an admin when it ran.
    #[error("the actor is no longer an admin")]
    NoLongerAdmin,
    /// DynamoDB throttled, failed or timed out past the SDK's retries, or kept cancelling
    /// a transaction for conflicts: nothing was written; worth a retry later (the text is
    /// for the log).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store: {0}")]
    Other(String),
}

impl StoreError {
    /// Whether the condition of action `i` of a transaction (or of a single write) failed.
    pub fn condition_failed_at(&self, i: usize) -> bool {
        match self {
            StoreError::ConditionFailed => true,
            StoreError::Cancelled(reasons) => reasons.get(i).is_some_and(|r| r == "ConditionalCheckFailed"),
            StoreError::Other(_)
            | StoreError::InvalidCursor
            | StoreError::NoLongerAdmin
            | StoreError::Unavailable(_) => false,
        }
    }

    pub fn is_condition(&self) -> bool {
        match self {
            StoreError::ConditionFailed => true,
            StoreError::Cancelled(reasons) => reasons.iter().any(|r| r == "ConditionalCheckFailed"),
            StoreError::Other(_)
            | StoreError::InvalidCursor
            | StoreError::NoLongerAdmin
            | StoreError::Unavailable(_) => false,
        }
    }
}

impl From<crate::page::InvalidCursor> for StoreError {
    fn from(_: crate::page::InvalidCursor) -> Self {
        StoreError::InvalidCursor
    }
}

/// Maps any SDK error: a conditional-check failure becomes `ConditionFailed`; throttling,
/// a 500 of DynamoDB's, a timeout or a failed connection (past the SDK's retries)
/// `Unavailable` ([`crate::aws::unavailable`]); the rest `Other`. Both with the full
/// text, for the log, never for the answer.
pub fn classify<E>(err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if err.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException") {
        return StoreError::ConditionFailed;
    }
    let text = format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&err));
    if crate::aws::unavailable(&err) {
        return StoreError::Unavailable(text);
    }
    StoreError::Other(text)
}

/// The outcome of a single conditional write whose failed condition means there was
/// nothing to do (already done, or gone).
pub(crate) fn done_unless_condition<T, E>(result: Result<T, SdkError<E, HttpResponse>>) -> Result<(), StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result.map_err(classify) {
        Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Runs `write` again while the table is unavailable, `tries` times in all, waiting
/// `first` and then twice as long each time: for the records whose loss would repeat an
/// effect (a sent mail's, an idempotent answer's), past the SDK's own retries, whose quota
/// a busy function may have spent on other calls.
pub(crate) async fn insist<T, F, Fut>(tries: u32, first: std::time::Duration, mut write: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut wait = first;
    for _ in 1..tries {
        match write().await {
            Err(StoreError::Unavailable(e)) => {
                tracing::warn!(error = %e, "a record that must be kept was not written; trying again");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            other => return other,
        }
    }
    write().await
}

pub(crate) fn serde_err(e: serde_dynamo::Error) -> StoreError {
    StoreError::Other(format!("item mapping: {e}"))
}

impl Store {
    pub fn new(db: Client, table: impl Into<String>) -> Self {
        Store { db, table: table.into() }
    }

    /// Runs a transaction, retrying when DynamoDB cancels it only for conflicting
    /// concurrent transactions; a failed condition is returned as `Cancelled`, conflicts
    /// or throttling that outlast the retries as `Unavailable`.
    pub async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        let mut attempt = 0;
        loop {
            let result = self.db.transact_write_items().set_transact_items(Some(items.clone())).send().await;
            let err = match result {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            if let Some(TransactWriteItemsError::TransactionCanceledException(c)) = err.as_service_error() {
                let reasons: Vec<String> =
                    c.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_string()).collect();
                let only_conflicts = !reasons.is_empty()
                    && reasons.iter().all(|r| r == "None" || r == "TransactionConflict")
                    && reasons.iter().any(|r| r == "TransactionConflict");
                if only_conflicts && attempt < 5 {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
                    continue;
                }
                if crate::aws::unavailable_reasons(&reasons) {
                    let text = format!("transaction cancelled after {} attempts: {reasons:?}", attempt + 1);
                    return Err(StoreError::Unavailable(text));
                }
                return Err(StoreError::Cancelled(reasons));
            }
            if err.as_service_error().and_then(|e| e.code()) == Some("TransactionConflictException") && attempt < 5 {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
                continue;
            }
            return Err(classify(err));
        }
    }
}

#[cfg(test)]
mod item_table_tests {
    /// Every key prefix of `keys.rs` has its row in the item table above.
    #[test]
    fn the_item_table_names_every_key_prefix() {
        let table: String = include_str!("mod.rs").lines().filter(|l| l.starts_with("//! |")).collect();
        let keys = include_str!("keys.rs");
        let mut missing = Vec::new();
        for line in keys.lines().filter(|l| l.starts_with("pub const ") && l.contains(": &str = \"")) {
            let value = line.split('"').nth(1).unwrap_or_default();
            let is_key = value.chars().next().is_some_and(|c| c.is_ascii_uppercase());
            if is_key && !table.contains(&format!("`{value}")) {
                missing.push(value.to_string());
            }
        }
        for line in keys.lines().filter(|l| l.trim_start().starts_with("format!(\"")) {
            let value = line.split('"').nth(1).unwrap_or_default();
            let prefix: String = value.chars().take_while(|c| c.is_ascii_uppercase() || *c == '#').collect();
            if prefix.ends_with('#') && !table.contains(&format!("`{prefix}")) {
                missing.push(prefix);
            }
        }
        assert!(missing.is_empty(), "key prefixes without a row in store/mod.rs's item table: {missing:?}");
    }
}

#[cfg(test)]
mod insist_tests {
    use super::{insist, StoreError};
    use std::cell::Cell;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_record_is_written_again_while_the_table_is_unavailable_and_no_longer() {
        let tries = Cell::new(0);
        let started = tokio::time::Instant::now();
        let wrote = insist(5, Duration::from_millis(200), || async {
            tries.set(tries.get() + 1);
            if tries.get() < 3 {
                Err(StoreError::Unavailable("throttled".into()))
            } else {
                Ok(tries.get())
            }
        })
        .await;
        assert_eq!(wrote.unwrap(), 3);
        assert_eq!(started.elapsed(), Duration::from_millis(600), "200 ms, then 400 ms");

        // Past its tries it gives up; any other failure ends it at once.
        tries.set(0);
        let never = insist(5, Duration::from_millis(200), || async {
            tries.set(tries.get() + 1);
            Err::<(), _>(StoreError::Unavailable("throttled".into()))
        });
        assert!(matches!(never.await, Err(StoreError::Unavailable(_))));
        assert_eq!(tries.get(), 5);
        tries.set(0);
        let refused = insist(5, Duration::from_millis(200), || async {
            tries.set(tries.get() + 1);
            Err::<(), _>(StoreError::ConditionFailed)
        });
        assert!(matches!(refused.await, Err(StoreError::ConditionFailed)));
        assert_eq!(tries.get(), 1);
    }
}
