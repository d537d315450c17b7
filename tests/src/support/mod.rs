//! Everything the integration tests share, each defined once. A test file imports what it
//! needs from here (`use kabinet_tests::support::{school, enrol, User};`); a helper only
//! one file uses stays in that file, and moves here when a second file needs it.
//!
//! - `env.rs`: the harness: one emulator per test process; per test its own table, gateway
//!   and notifier; the exporter and importer on demand.
//! - `http.rs`: the HTTP client, an answer ([`Resp`]), a signed-in person ([`User`]) with a
//!   dev ID token.
//! - `counting.rs`: a gateway whose DynamoDB calls are counted ([`CountingGateway`]).
//! - `table.rs`: the test's table under the API (an item as stored, a member put in directly,
//!   an attribute set to make something expire).
//! - `mail.rs`: the mail sent, read back from the emulator.
//! - `faults.rs`: faults injected by the emulator for one test (scoped to its organization).
//! - `values.rs`: small readers of answers and times (`id_of`, `unix`, `now`, `query`, ...).
//! - `school.rs`: an organization and its people: its classes, members by role, the audit log.
//! - one module per resource whose helpers several files use: `groups.rs`, `discussions.rs`,
//!   `files.rs`, `imports.rs`, `invite_links.rs`, `join_requests.rs`.
//!
//! The modules are private and everything is re-exported here, so each helper has one
//! path: `kabinet_tests::support::enrol`.

mod counting;
mod discussions;
mod env;
mod faults;
mod files;
mod groups;
mod http;
mod imports;
mod invite_links;
mod join_requests;
mod mail;
mod school;
mod table;
mod values;

pub use counting::*;
pub use discussions::*;
pub use env::*;
pub use faults::*;
pub use files::*;
pub use groups::*;
pub use http::*;
pub use imports::*;
pub use invite_links::*;
pub use join_requests::*;
pub use mail::*;
pub use school::*;
pub use table::*;
pub use values::*;
