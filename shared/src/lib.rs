//! kabinet: everything the Lambda functions share.
//!
//! - `domain`: plain types and rules (no I/O)
//! - `store`: DynamoDB single-table access; the only code that names attributes
//! - `page`: list positions (cursors) and limits, known to both `store` and `http`
//! - `http`: requests, responses, problem+json errors, auth claims, paging parameters
//! - `api`: one module per resource, one handler fn per endpoint, and the route table
//! - `lambda`: the one Lambda artifact: runs the route or consumer its `Handler` names
//! - `docs`: the API reference page (`/docs`) and its viewer's script
//! - `exports`: what admins download (CSV, later XLSX), written row by row
//! - `objects`: the private buckets: presigned uploads and downloads, HEAD, delete
//! - `aws`: what an AWS SDK error means: throttling and unavailability (503) or ours (500)
//! - `permissions`: what each function touches (its IAM policy, its clients)

pub mod api;
pub mod aws;
pub mod config;
pub mod docs;
pub mod domain;
pub mod events;
pub mod exports;
pub mod http;
pub mod lambda;
pub mod mail;
pub mod objects;
pub mod openapi;
pub mod page;
pub mod permissions;
pub mod roster;
pub mod store;
pub mod telemetry;

pub use config::Ctx;
