//! What the resource modules share; none of these modules imports a resource module.
//!
//! - `access`: who is calling and what they may reach (path IDs, memberships, admins)
//! - `auditing`: writing audit entries beside the change they record
//! - `errors`: store refusals turned into the API's problem answers
//! - `grants`: roles, classes and groups an admin grants, checked before they are written
//! - `idempotency`: `Idempotency-Key` replays for the routes that create
//! - `inviting`: sending email invitations (single and in bulk)
//! - `placing`: putting people into groups and classes
//! - `retry`: retrying a transaction that lost a race
//! - `views`: the answers' shapes shared by several resources

pub mod access;
pub mod auditing;
pub mod errors;
pub mod grants;
pub mod idempotency;
pub mod inviting;
pub mod placing;
pub mod retry;
pub mod views;
