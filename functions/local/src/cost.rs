//! What kabinet costs to run: the inputs (prices, what each route does per request, the
//! traffic of a school day) as constants, and `docs/cost.md` rendered from them. `make
//! cost` rewrites the document; a test fails when the committed one differs, when a
//! route's DynamoDB calls here differ from what `tests/tests/api/roundtrips.rs` asserts,
//! or when a route's entry names another route's function. Each function's memory is
//! [`Function::memory_mb`], what the template's `MemorySize` is generated from.

use std::fmt::Write;

use kabinet::domain::text::thousands;
use kabinet::lambda::Function;

/// The document's path, from the repository root.
pub const PATH: &str = "docs/cost.md";

/// When the prices were taken (us-east-1, as published).
pub const PRICES_TAKEN: &str = "2026-12-07";

/// Published us-east-1 prices, in dollars.
pub struct Prices {
    /// Lambda on arm64, per GB-second (first 7.5 billion GB-s a month).
    pub lambda_gb_second: f64,
    pub lambda_per_million: f64,
    /// HTTP API, per million requests: the first 300 million a month, then the rest.
    pub http_api_per_million: f64,
    pub http_api_per_million_over_300m: f64,
    /// DynamoDB on-demand, per million write and read request units.
    pub wru_per_million: f64,
    pub rru_per_million: f64,
    /// DynamoDB storage and continuous backups (point-in-time recovery), per GB-month.
    pub dynamodb_gb_month: f64,
    pub pitr_gb_month: f64,
    /// SES v2 outbound, per 1,000 emails.
    pub ses_per_thousand: f64,
    /// S3 Standard: storage per GB-month; PUT/COPY/POST/LIST and GET/HEAD per 1,000.
    pub s3_gb_month: f64,
    pub s3_put_per_thousand: f64,
    pub s3_get_per_thousand: f64,
    /// Data out to the internet, per GB: the first 10 TB a month, the next 40 TB (the
    /// first 100 GB of an account are free, left out here).
    pub egress_gb: f64,
    pub egress_gb_over_10tb: f64,
    /// CloudWatch Logs: ingestion per GB, storage per GB-month (compressed).
    pub logs_ingest_gb: f64,
    pub logs_gb_month: f64,
    /// Fixed: a CloudWatch alarm a month, a Secrets Manager secret a month.
    pub alarm_month: f64,
    pub secret_month: f64,
    /// Cognito user pool, Essentials tier (a pool's default tier when none is named):
    /// per monthly active user past the 10,000 free ones.
    pub cognito_essentials_mau: f64,
    pub cognito_free_mau: f64,
    /// The Lite tier: per monthly active user up to each bound (the first 10,000 free).
    pub cognito_lite: [(f64, f64); 4],
}

pub const PRICES: Prices = Prices {
    lambda_gb_second: 0.000_013_333_4,
    lambda_per_million: 0.20,
    http_api_per_million: 1.00,
    http_api_per_million_over_300m: 0.90,
    wru_per_million: 0.625,
    rru_per_million: 0.125,
    dynamodb_gb_month: 0.25,
    pitr_gb_month: 0.20,
    ses_per_thousand: 0.10,
    s3_gb_month: 0.023,
    s3_put_per_thousand: 0.005,
    s3_get_per_thousand: 0.0004,
    egress_gb: 0.09,
    egress_gb_over_10tb: 0.085,
    logs_ingest_gb: 0.50,
    logs_gb_month: 0.03,
    alarm_month: 0.10,
    secret_month: 0.40,
    cognito_essentials_mau: 0.015,
    cognito_free_mau: 10_000.0,
    cognito_lite: [(100_000.0, 0.0055), (1_000_000.0, 0.0046), (10_000_000.0, 0.003_25), (f64::INFINITY, 0.0025)],
};

/// Assumptions about time and size, stated in the document.
pub struct Assumed {
    /// A function's own work per request (parsing, rendering, the runtime), ms.
    pub base_ms: f64,
    /// Wall time of a DynamoDB read call (GetItem, BatchGetItem, Query) from Lambda, ms.
    pub read_ms: f64,
    /// Of a single-item write (PutItem, UpdateItem), ms.
    pub write_ms: f64,
    /// Of a TransactWriteItems, ms.
    pub tx_ms: f64,
    /// Of an S3 call a function makes (HEAD, COPY, DELETE, a PUT of a part), ms.
    pub s3_ms: f64,
    /// Of an SES SendEmail, ms.
    pub ses_ms: f64,
    /// Share of invocations that start cold, and the billed init of a cold start, ms.
    pub cold_share: f64,
    pub init_ms: f64,
    /// CloudWatch Logs bytes per invocation: the request's line and Lambda's JSON
    /// platform lines (start, report).
    pub log_bytes: f64,
    /// Compressed share of the ingested bytes kept (retention 30 days: a month's worth).
    pub log_stored_share: f64,
    /// Bytes of an API answer to the browser (a page of 20 items, JSON).
    pub answer_kb: f64,
    /// School days in a month, and other days' traffic as a share of a school day's.
    pub school_days: f64,
    pub other_days: f64,
    pub other_day_share: f64,
    /// Schools in a region.
    pub region_schools: f64,
    /// Share of a school's people who sign in at least once a month (Cognito MAU).
    pub monthly_active: f64,
    /// What a school holds: DynamoDB GB (memberships, search items, posts, audit), and
    /// group files in S3 (GB: half of the 10 GiB quota) and exports (kept 7 days).
    pub table_gb: f64,
    pub files_gb: f64,
    /// CloudWatch alarms and secrets of a deployment.
    pub alarms: f64,
    pub secrets: f64,
}

pub const ASSUMED: Assumed = Assumed {
    base_ms: 3.0,
    read_ms: 5.0,
    write_ms: 7.0,
    tx_ms: 12.0,
    s3_ms: 20.0,
    ses_ms: 40.0,
    cold_share: 0.01,
    init_ms: 120.0,
    log_bytes: 1_200.0,
    log_stored_share: 0.15,
    answer_kb: 6.0,
    school_days: 21.0,
    other_days: 9.0,
    other_day_share: 0.2,
    region_schools: 1_000.0,
    monthly_active: 0.9,
    table_gb: 0.05,
    files_gb: 5.0,
    alarms: 5.0,
    secrets: 1.0,
};

/// Item sizes, KB (DynamoDB counts a read per 4 KB, a write per 1 KB).
pub mod kb {
    /// A membership: name, email, roles, classes, groups, 30 days of activity.
    pub const MEMBER: f64 = 1.0;
    pub const ORG: f64 = 0.8;
    pub const PROFILE: f64 = 0.4;
    /// A search item (a word of a name, the person's words and roles).
    pub const SEARCH: f64 = 0.3;
    pub const CLASS: f64 = 0.6;
    pub const GROUP: f64 = 0.6;
    /// A thread or announcement (about 500 characters of Cyrillic text) and a reply.
    pub const POST: f64 = 1.6;
    pub const REPLY: f64 = 1.0;
    pub const FILE: f64 = 0.5;
    pub const COUNTER: f64 = 0.1;
    pub const AUDIT: f64 = 0.5;
    /// An outbox event (what the notifier mails), an export's or import's item.
    pub const EVENT: f64 = 1.0;
    pub const JOB: f64 = 0.6;
    /// An import's row record (the journal's record of a person or class).
    pub const ROSTER: f64 = 0.8;
    /// A send claim of the notifier.
    pub const CLAIM: f64 = 0.2;
    /// An inbox item (a title and up to 500 characters), and its unread mark beside it.
    pub const NOTE: f64 = 0.8;
    pub const UNREAD: f64 = 0.1;
}

/// One DynamoDB call of a request.
#[derive(Clone, Copy)]
pub enum Op {
    /// GetItem or BatchGetItem, strongly consistent: `items` of about `kb` each.
    Get { items: f64, kb: f64 },
    /// Query (eventually consistent, of the table or an index): `items` of `kb` each.
    Query { items: f64, kb: f64 },
    /// PutItem, UpdateItem or DeleteItem of one item, with `gsi` index entries it writes.
    Write { kb: f64, gsi: f64 },
    /// TransactWriteItems of `items` of about `kb` each (condition checks included), with
    /// `gsi` index entries written.
    Tx { items: f64, kb: f64, gsi: f64 },
}

impl Op {
    pub fn rru(&self) -> f64 {
        match *self {
            Op::Get { items, kb } => items * (kb / 4.0).ceil().max(1.0),
            Op::Query { items, kb } => ((items * kb / 4.0).ceil().max(1.0)) * 0.5,
            _ => 0.0,
        }
    }

    pub fn wru(&self) -> f64 {
        match *self {
            Op::Write { kb, gsi } => kb.ceil() * (1.0 + gsi),
            // Transactions cost double; the index entries they write are plain writes.
            Op::Tx { items, kb, gsi } => items * kb.ceil() * 2.0 + gsi * kb.ceil(),
            _ => 0.0,
        }
    }

    fn ms(&self, a: &Assumed) -> f64 {
        match self {
            Op::Get { .. } | Op::Query { .. } => a.read_ms,
            Op::Write { .. } => a.write_ms,
            Op::Tx { .. } => a.tx_ms,
        }
    }
}

/// The families the document sums routes into.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Family {
    Reads,
    Search,
    Writes,
    Joins,
    Posts,
    Uploads,
    Exports,
    Imports,
    Mail,
}

impl Family {
    pub const ALL: [Family; 9] = [
        Family::Reads,
        Family::Search,
        Family::Writes,
        Family::Joins,
        Family::Posts,
        Family::Uploads,
        Family::Exports,
        Family::Imports,
        Family::Mail,
    ];

    fn name(self) -> &'static str {
        match self {
            Family::Reads => "reads (items and lists)",
            Family::Search => "search",
            Family::Writes => "writes",
            Family::Joins => "joins",
            Family::Posts => "posts",
            Family::Uploads => "uploads and downloads",
            Family::Exports => "exports",
            Family::Imports => "imports",
            Family::Mail => "mail",
        }
    }
}

/// What one unit of work (a request, or a consumer's run) does.
pub struct Work {
    /// Its name in the document and the traffic model: the counting test's row name for
    /// a route (`roundtrips.rs`), a description for a consumer's work.
    pub name: &'static str,
    pub family: Family,
    /// The route-table name of its function, or the consumer (`notifier`, `exporter`,
    /// `importer`): its memory is [`Function::memory_mb`].
    pub function: &'static str,
    /// An API request (API Gateway, an answer to the browser) or a consumer's run.
    pub api: bool,
    /// Whether `ops.len()` is what the counting tests assert for `name`.
    pub counted: bool,
    pub ops: &'static [Op],
    /// Lambda invocations it takes (1 for a request; 0 for an importer's row, which
    /// shares its run's invocation).
    pub invocations: f64,
    /// The function's own CPU beyond `base_ms` (an export's rows), ms.
    pub extra_ms: f64,
    /// S3 calls the function makes (HEAD, COPY, PUT of a part), and those it presigns for
    /// the browser (a PUT, a GET).
    pub s3_calls: f64,
    pub s3_put: f64,
    pub s3_get: f64,
    /// Bytes out to the internet besides the answer (a file downloaded), MB.
    pub out_mb: f64,
    /// Emails it sends (the notifier's own work).
    pub ses: f64,
    /// The work it sets off, by name, and how many of each (an announcement's emails).
    pub then: &'static [(&'static str, f64)],
}

const fn route(name: &'static str, family: Family, function: &'static str, ops: &'static [Op]) -> Work {
    Work {
        name,
        family,
        function,
        api: true,
        counted: true,
        ops,
        invocations: 1.0,
        extra_ms: 0.0,
        s3_calls: 0.0,
        s3_put: 0.0,
        s3_get: 0.0,
        out_mb: 0.0,
        ses: 0.0,
        then: &[],
    }
}

/// A list page: the items the front end shows (20 of the default 50: most lists are
/// shorter than a page).
const PAGE: f64 = 20.0;
/// The membership check with the organization (and what the handler reads with it).
const CHECK: Op = Op::Get { items: 2.0, kb: kb::MEMBER };
const CHECK3: Op = Op::Get { items: 3.0, kb: kb::MEMBER };
/// A group's post: the post, the group's counters, the outbox event.
const POST_TX: Op = Op::Tx { items: 3.0, kb: kb::POST, gsi: 0.0 };

/// The people of a school's group an announcement is mailed to (notify on).
pub const GROUP_MAILED: f64 = 25.0;
/// Of the replies, those to someone else's thread (which tell its author).
pub const REPLY_TELLS: f64 = 0.8;
/// Members of the school (an export's rows, a roster's people).
pub const SCHOOL: f64 = 2_000.0;
/// Rows of a school's OneRoster files (bench-import: 2,854 for 1,000 users).
pub const ROSTER_ROWS: f64 = 5_700.0;
/// A file's size, MB (uploads and downloads).
pub const FILE_MB: f64 = 2.0;
/// An export's file, MB (bench-export: 0.17 MB of CSV for 1,000 members).
pub const EXPORT_MB: f64 = 0.35;

pub const NOTIFIER: &str = "notifier: one email";
pub const INBOX: &str = "notifier: one inbox item";
pub const NOTIFY_EVENT: &str = "notifier: an outbox event (its invocation)";
pub const EXPORTER: &str = "exporter: one export of a school (2,000 rows)";
pub const IMPORT_RUN: &str = "importer: a run";
pub const IMPORT_ROW: &str = "importer: a row again, unchanged";
pub const IMPORT_CHANGE: &str = "importer: a changed row (1 in 50)";
pub const ACTIVITY: &str = "first request of a member's day (activity)";

pub const WORK: &[Work] = &[
    route("GET /me", Family::Reads, "me-get", &[Op::Get { items: 1.0, kb: kb::PROFILE }]),
    // The unread marks' keys (a person's few dozen), then a page of 20 items.
    route(
        "GET /me/notifications",
        Family::Reads,
        "me-notifications-list",
        &[Op::Query { items: 30.0, kb: kb::UNREAD }, Op::Query { items: PAGE, kb: kb::NOTE }],
    ),
    // The unread marks' keys (the count after is the rest), one transaction deleting
    // those up to the newest.
    route(
        "POST /me/notifications/read {up_to}",
        Family::Writes,
        "me-notifications-read",
        &[Op::Query { items: 30.0, kb: kb::UNREAD }, Op::Tx { items: 5.0, kb: kb::UNREAD, gsi: 0.0 }],
    ),
    route(
        "GET /me/orgs",
        Family::Reads,
        "me-orgs-list",
        &[Op::Get { items: 1.0, kb: kb::PROFILE }, Op::Query { items: 2.0, kb: kb::MEMBER }],
    ),
    route("GET /orgs/{org}", Family::Reads, "orgs-get", &[CHECK]),
    route(
        "GET /orgs/{org}/members",
        Family::Reads,
        "members-list",
        &[CHECK, Op::Query { items: PAGE, kb: kb::MEMBER }],
    ),
    route("GET /orgs/{org}/classes", Family::Reads, "classes-list", &[CHECK, Op::Query { items: 40.0, kb: kb::CLASS }]),
    route("GET /orgs/{org}/groups", Family::Reads, "groups-list", &[CHECK, Op::Query { items: PAGE, kb: kb::GROUP }]),
    route(
        "GET /groups/{id}/threads",
        Family::Reads,
        "groups-threads-list",
        &[CHECK3, Op::Query { items: PAGE, kb: kb::POST }],
    ),
    route(
        "GET /groups/{id}/threads/{thread}/replies",
        Family::Reads,
        "groups-replies-list",
        &[CHECK3, Op::Query { items: PAGE, kb: kb::REPLY }],
    ),
    route(
        "GET /groups/{id}/announcements",
        Family::Reads,
        "groups-announcements-list",
        &[CHECK3, Op::Query { items: PAGE, kb: kb::POST }],
    ),
    route(
        "GET /groups/{id}/files",
        Family::Reads,
        "groups-files-list",
        &[CHECK3, Op::Query { items: PAGE, kb: kb::FILE }],
    ),
    route(
        "GET /orgs/{org}/stats/summary",
        Family::Reads,
        "stats-summary",
        &[Op::Get { items: 32.0, kb: kb::COUNTER }, Op::Query { items: 10.0, kb: kb::JOB }],
    ),
    route(
        "GET /orgs/{org}/stats/employees",
        Family::Reads,
        "stats-employees",
        &[CHECK, Op::Query { items: PAGE, kb: kb::MEMBER }],
    ),
    route("GET /orgs/{org}/audit", Family::Reads, "audit-list", &[CHECK, Op::Query { items: PAGE, kb: kb::AUDIT }]),
    route(
        "GET /orgs/{org}/members?q=",
        Family::Search,
        "members-list",
        &[CHECK, Op::Query { items: 100.0, kb: kb::SEARCH }, Op::Get { items: PAGE, kb: kb::MEMBER }],
    ),
    // The first request of a member's day: the membership, today's and the previous
    // day's active counters, in one transaction (a_members_first_request_of_the_day): a
    // call more in the request's own invocation, not a request of its own.
    Work {
        counted: false,
        api: false,
        invocations: 0.0,
        ..route(ACTIVITY, Family::Writes, "orgs-get", &[Op::Tx { items: 3.0, kb: kb::MEMBER, gsi: 2.0 }])
    },
    route("PATCH /me", Family::Writes, "me-patch", &[Op::Write { kb: kb::PROFILE, gsi: 0.0 }]),
    // The membership's new roles, the class places it leaves and takes, the audit entry.
    route(
        "PATCH /orgs/{org}/members/{user}",
        Family::Writes,
        "members-patch",
        &[CHECK, Op::Get { items: 2.0, kb: kb::CLASS }, Op::Tx { items: 5.0, kb: kb::MEMBER, gsi: 2.0 }],
    ),
    route(
        "POST /orgs/{org}/classes",
        Family::Writes,
        "classes-create",
        &[CHECK, Op::Tx { items: 4.0, kb: kb::CLASS, gsi: 1.0 }],
    ),
    // The membership, its search items (5 words), the class place, counters, the audit
    // entry and the outbox event: one transaction.
    Work {
        then: &[(NOTIFY_EVENT, 1.0), (INBOX, 1.0), (NOTIFIER, 1.0)],
        ..route(
            "POST /orgs/{org}/members",
            Family::Joins,
            "members-add",
            &[CHECK3, Op::Tx { items: 11.0, kb: kb::MEMBER, gsi: 2.0 }],
        )
    },
    Work {
        then: &[(NOTIFY_EVENT, 1.0), (INBOX, 2.0), (NOTIFIER, 2.0)],
        ..route(
            "POST /orgs/{org}/groups/{id}/members (2 people)",
            Family::Joins,
            "groups-members-add",
            &[
                CHECK3,
                Op::Get { items: 2.0, kb: kb::MEMBER },
                Op::Tx { items: 7.0, kb: kb::MEMBER, gsi: 0.0 },
                Op::Query { items: 2.0, kb: kb::MEMBER },
            ],
        )
    },
    route("POST /groups/{id}/threads", Family::Posts, "groups-threads-create", &[CHECK3, POST_TX]),
    // A reply to someone else's thread tells its author: the inbox, and mail for the
    // thread's first reply of an hour (counted for every reply: an upper bound).
    Work {
        then: &[(NOTIFY_EVENT, REPLY_TELLS), (INBOX, REPLY_TELLS), (NOTIFIER, REPLY_TELLS)],
        ..route(
            "POST /groups/{id}/threads/{thread}/replies",
            Family::Posts,
            "groups-replies-create",
            &[CHECK3, Op::Tx { items: 3.0, kb: kb::REPLY, gsi: 0.0 }],
        )
    },
    // In the inbox of each of the group's members; mailed to those who keep it on.
    Work {
        then: &[(NOTIFY_EVENT, 1.0), (INBOX, GROUP_MAILED), (NOTIFIER, GROUP_MAILED)],
        ..route("POST /groups/{id}/announcements", Family::Posts, "groups-announcements-create", &[CHECK3, POST_TX])
    },
    // The file item and the reservation on the organization's quota; the browser PUTs
    // the file to S3 with the presigned URL.
    Work {
        s3_put: 1.0,
        ..route(
            "POST /groups/{id}/files",
            Family::Uploads,
            "groups-files-create",
            &[CHECK3, Op::Tx { items: 4.0, kb: kb::FILE, gsi: 0.0 }],
        )
    },
    // HEAD the upload, COPY it to files/, DELETE the upload.
    Work {
        s3_calls: 3.0,
        s3_put: 1.0,
        s3_get: 1.0,
        ..route(
            "POST /groups/{id}/files/{file}/complete",
            Family::Uploads,
            "groups-file-complete",
            &[CHECK3, Op::Tx { items: 3.0, kb: kb::FILE, gsi: 0.0 }],
        )
    },
    // The presigned download: the browser GETs the file from S3.
    Work {
        s3_get: 1.0,
        out_mb: FILE_MB,
        ..route(
            "GET /groups/{id}/files/{file}",
            Family::Uploads,
            "groups-file-get",
            &[Op::Get { items: 4.0, kb: kb::FILE }],
        )
    },
    // The exporter builds it; its admin gets the "export ready" email.
    Work {
        then: &[(EXPORTER, 1.0), (NOTIFY_EVENT, 1.0), (INBOX, 1.0), (NOTIFIER, 1.0)],
        ..route(
            "POST /orgs/{org}/exports",
            Family::Exports,
            "exports-create",
            &[Op::Get { items: 5.0, kb: kb::JOB }, Op::Tx { items: 3.0, kb: kb::JOB, gsi: 0.0 }],
        )
    },
    route("GET /orgs/{org}/exports/{id}", Family::Exports, "exports-get", &[Op::Get { items: 3.0, kb: kb::JOB }]),
    // The exporter's run for a school: the organization, the requester, the export; the
    // members a page of 1,000 at a time; the status twice; one PUT of the file. Its CPU:
    // bench-export, 33,000 CSV rows per CPU second.
    Work {
        name: EXPORTER,
        api: false,
        counted: false,
        extra_ms: SCHOOL / 33_000.0 * 1_000.0,
        s3_calls: 1.0,
        s3_get: 1.0,
        out_mb: EXPORT_MB,
        ..route(
            "",
            Family::Exports,
            "exporter",
            &[
                Op::Get { items: 3.0, kb: kb::MEMBER },
                Op::Query { items: 1_000.0, kb: kb::MEMBER },
                Op::Query { items: 1_000.0, kb: kb::MEMBER },
                Op::Write { kb: kb::JOB, gsi: 0.0 },
                Op::Write { kb: kb::JOB, gsi: 0.0 },
            ],
        )
    },
    // The admin uploads the file (a presigned PUT) and starts it; the importer reads it
    // (one GET) and runs its rows.
    Work {
        s3_put: 1.0,
        then: &[(IMPORT_RUN, 1.0), (IMPORT_ROW, ROSTER_ROWS * 0.98), (IMPORT_CHANGE, ROSTER_ROWS * 0.02)],
        ..route(
            "POST /orgs/{org}/imports",
            Family::Imports,
            "imports-create",
            &[CHECK, Op::Tx { items: 3.0, kb: kb::JOB, gsi: 0.0 }],
        )
    },
    route("GET /orgs/{org}/imports/{id}", Family::Imports, "imports-get", &[Op::Get { items: 3.0, kb: kb::JOB }]),
    // The importer's run of a school's journal again (a week's changes): a chunk's
    // records read in one batch, its unchanged rows marked seen in one transaction (so a
    // row's mark costs a transaction's double write), one row in 50 changed in a
    // transaction of its chunk (the record, the membership or offer, the mark). Its CPU:
    // bench-import, under 0.1 ms a row (25,945 unchanged, 10,570 new rows a CPU second).
    // Its run: the import's item read and its status and counts written twice; the
    // upload read from S3 once.
    Work {
        name: IMPORT_RUN,
        api: false,
        counted: false,
        s3_calls: 1.0,
        s3_get: 1.0,
        ..route(
            "",
            Family::Imports,
            "importer",
            &[
                Op::Get { items: 2.0, kb: kb::JOB },
                Op::Write { kb: kb::JOB, gsi: 0.0 },
                Op::Write { kb: kb::JOB, gsi: 0.0 },
            ],
        )
    },
    Work {
        name: IMPORT_ROW,
        api: false,
        counted: false,
        invocations: 0.0,
        extra_ms: 0.1,
        ..route(
            "",
            Family::Imports,
            "importer",
            &[Op::Get { items: 1.0, kb: kb::ROSTER }, Op::Tx { items: 1.0, kb: kb::ROSTER, gsi: 0.0 }],
        )
    },
    Work {
        name: IMPORT_CHANGE,
        api: false,
        counted: false,
        invocations: 0.0,
        extra_ms: 0.1,
        ..route("", Family::Imports, "importer", &[Op::Tx { items: 3.0, kb: kb::ROSTER, gsi: 1.0 }])
    },
    // The notifier: an outbox event comes on the table's stream (read free) in an
    // invocation of its own (an upper bound: a batch of up to 25 records shares one).
    Work { name: NOTIFY_EVENT, api: false, counted: false, ..route("", Family::Mail, "notifier", &[]) },
    // Per person told: the inbox item and its unread mark, conditional (a transaction; 50
    // people share one call, whose time is counted here per person as an upper bound).
    Work {
        name: INBOX,
        api: false,
        counted: false,
        invocations: 0.0,
        ..route("", Family::Mail, "notifier", &[Op::Tx { items: 2.0, kb: kb::NOTE, gsi: 0.0 }])
    },
    // Per email: the recipient's profile and membership, the send claim, SES, the mark
    // (the event's own recipients' list is shared by them and left out).
    Work {
        name: NOTIFIER,
        api: false,
        counted: false,
        invocations: 0.0,
        ses: 1.0,
        ..route(
            "",
            Family::Mail,
            "notifier",
            &[
                Op::Get { items: 2.0, kb: kb::MEMBER },
                Op::Write { kb: kb::CLAIM, gsi: 0.0 },
                Op::Write { kb: kb::CLAIM, gsi: 0.0 },
            ],
        )
    },
];

/// Who calls what on a school day: people of a kind, the share of them active on a
/// school day, and what each active one does that day (work by name, times a day).
pub struct Actor {
    pub name: &'static str,
    pub people: f64,
    pub active: f64,
    pub note: &'static str,
    pub day: &'static [(&'static str, f64)],
}

/// A school of 2,000 people: 1,000 students, 940 parents, 57 teachers and staff, 3 admins.
pub const SCHOOL_DAY: &[Actor] = &[
    Actor {
        name: "students",
        people: 1_000.0,
        active: 0.7,
        note: "sign in once, open the app 3 times (their inbox, their schools, the school, a group's announcements and threads), read 2 threads, a file; a reply every third day",
        day: &[
            ("GET /me", 1.0),
            ("GET /me/orgs", 3.0),
            ("GET /me/notifications", 3.0),
            ("POST /me/notifications/read {up_to}", 1.0),
            ("GET /orgs/{org}", 3.0),
            ("GET /groups/{id}/announcements", 3.0),
            ("GET /groups/{id}/threads", 3.0),
            ("GET /groups/{id}/threads/{thread}/replies", 2.0),
            ("GET /groups/{id}/files", 1.0),
            ("GET /groups/{id}/files/{file}", 1.0),
            ("POST /groups/{id}/threads/{thread}/replies", 0.3),
            ("POST /groups/{id}/threads", 0.05),
        ],
    },
    Actor {
        name: "parents",
        people: 940.0,
        active: 0.4,
        note: "open the app once: the inbox, the school, the class list, announcements; a file every fifth day",
        day: &[
            ("GET /me", 1.0),
            ("GET /me/orgs", 1.0),
            ("GET /me/notifications", 1.0),
            ("POST /me/notifications/read {up_to}", 1.0),
            ("GET /orgs/{org}", 1.0),
            ("GET /orgs/{org}/classes", 1.0),
            ("GET /groups/{id}/announcements", 1.0),
            ("GET /groups/{id}/files/{file}", 0.2),
        ],
    },
    Actor {
        name: "teachers and staff",
        people: 57.0,
        active: 0.95,
        note: "open the app 6 times; an announcement (mailed to 25), 2 replies and a file upload a day; find a person; add to a group every tenth day",
        day: &[
            ("GET /me", 1.0),
            ("GET /me/orgs", 6.0),
            ("GET /me/notifications", 6.0),
            ("POST /me/notifications/read {up_to}", 1.0),
            ("GET /orgs/{org}", 6.0),
            ("GET /orgs/{org}/groups", 2.0),
            ("GET /groups/{id}/threads", 6.0),
            ("GET /groups/{id}/threads/{thread}/replies", 4.0),
            ("GET /groups/{id}/announcements", 2.0),
            ("GET /groups/{id}/files", 2.0),
            ("GET /groups/{id}/files/{file}", 1.0),
            ("GET /orgs/{org}/members", 3.0),
            ("GET /orgs/{org}/members?q=", 1.0),
            ("POST /groups/{id}/announcements", 1.0),
            ("POST /groups/{id}/threads", 0.3),
            ("POST /groups/{id}/threads/{thread}/replies", 2.0),
            ("POST /groups/{id}/files", 1.0),
            ("POST /groups/{id}/files/{file}/complete", 1.0),
            ("POST /orgs/{org}/groups/{id}/members (2 people)", 0.1),
        ],
    },
    Actor {
        name: "admins",
        people: 3.0,
        active: 1.0,
        note: "10 pages of members and 5 searches, classes, statistics, audit; 3 role changes and 2 people added; an export and an import a week (5 polls each)",
        day: &[
            ("GET /me", 1.0),
            ("GET /me/orgs", 8.0),
            ("GET /me/notifications", 8.0),
            ("POST /me/notifications/read {up_to}", 1.0),
            ("GET /orgs/{org}", 8.0),
            ("GET /orgs/{org}/members", 10.0),
            ("GET /orgs/{org}/members?q=", 5.0),
            ("GET /orgs/{org}/classes", 3.0),
            ("GET /orgs/{org}/stats/summary", 2.0),
            ("GET /orgs/{org}/stats/employees", 2.0),
            ("GET /orgs/{org}/audit", 2.0),
            ("PATCH /me", 0.05),
            ("PATCH /orgs/{org}/members/{user}", 3.0),
            ("POST /orgs/{org}/members", 2.0),
            ("POST /orgs/{org}/classes", 0.05),
            ("POST /orgs/{org}/exports", 0.2),
            ("GET /orgs/{org}/exports/{id}", 1.0),
            ("POST /orgs/{org}/imports", 0.2),
            ("GET /orgs/{org}/imports/{id}", 1.0),
        ],
    },
];

/// What a unit of work costs, per service, in dollars.
#[derive(Clone, Copy, Default, Debug)]
pub struct Cost {
    /// Lambda of the API's functions.
    pub lambda: f64,
    /// Lambda of the stream consumers (notifier, exporter, importer).
    pub consumers: f64,
    pub api: f64,
    pub reads: f64,
    pub writes: f64,
    pub ses: f64,
    pub s3: f64,
    pub egress: f64,
    pub logs: f64,
}

impl Cost {
    pub fn total(&self) -> f64 {
        self.lambda
            + self.consumers
            + self.api
            + self.reads
            + self.writes
            + self.ses
            + self.s3
            + self.egress
            + self.logs
    }

    fn add(&mut self, other: &Cost, n: f64) {
        self.lambda += other.lambda * n;
        self.consumers += other.consumers * n;
        self.api += other.api * n;
        self.reads += other.reads * n;
        self.writes += other.writes * n;
        self.ses += other.ses * n;
        self.s3 += other.s3 * n;
        self.egress += other.egress * n;
        self.logs += other.logs * n;
    }
}

/// The stream consumers, whose Lambda the document shows apart.
pub const CONSUMERS: [&str; 3] = ["notifier", "exporter", "importer"];

/// The model: the work, with each function's memory (MB).
pub struct Model<'a> {
    memory: Vec<(&'a Work, f64)>,
}

impl<'a> Model<'a> {
    pub fn new() -> Result<Model<'static>, String> {
        let memory = WORK
            .iter()
            .map(|w| {
                let f = Function::named(w.function).ok_or_else(|| format!("{}: no function {}", w.name, w.function))?;
                Ok((w, f64::from(f.memory_mb())))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Model { memory })
    }

    pub fn work(&self, name: &str) -> Result<&(&'a Work, f64), String> {
        self.memory.iter().find(|(w, _)| w.name == name).ok_or_else(|| format!("no work named {name:?}"))
    }

    /// Lambda's billed ms of one unit (with its share of cold starts).
    pub fn billed_ms(w: &Work) -> f64 {
        let a = &ASSUMED;
        let ms = a.base_ms * w.invocations
            + w.ops.iter().map(|o| o.ms(a)).sum::<f64>()
            + w.extra_ms
            + w.s3_calls * a.s3_ms
            + w.ses * a.ses_ms;
        // Lambda bills each invocation in whole ms.
        let ms = if w.invocations > 0.0 { ms.ceil() } else { ms };
        ms + w.invocations * a.cold_share * a.init_ms
    }

    /// One unit's own cost (without what it sets off), its Lambda billed at `ms`.
    fn own_at(&self, name: &str, ms: f64) -> Result<Cost, String> {
        let (w, mb) = self.work(name)?;
        let (p, a) = (&PRICES, &ASSUMED);
        let gb_s = mb / 1024.0 * ms / 1000.0;
        let out_gb = if w.api { a.answer_kb / 1024.0 / 1024.0 } else { 0.0 } + w.out_mb / 1024.0;
        let log_gb = w.invocations * a.log_bytes / 1e9;
        let lambda = gb_s * p.lambda_gb_second + w.invocations * p.lambda_per_million / 1e6;
        let consumer = CONSUMERS.contains(&w.function);
        Ok(Cost {
            lambda: if consumer { 0.0 } else { lambda },
            consumers: if consumer { lambda } else { 0.0 },
            api: if w.api { p.http_api_per_million / 1e6 } else { 0.0 },
            reads: w.ops.iter().map(Op::rru).sum::<f64>() * p.rru_per_million / 1e6,
            writes: w.ops.iter().map(Op::wru).sum::<f64>() * p.wru_per_million / 1e6,
            ses: w.ses * p.ses_per_thousand / 1e3,
            s3: w.s3_put * p.s3_put_per_thousand / 1e3 + w.s3_get * p.s3_get_per_thousand / 1e3,
            egress: out_gb * p.egress_gb,
            logs: log_gb * (p.logs_ingest_gb + a.log_stored_share * p.logs_gb_month),
        })
    }

    /// One unit's own cost (without what it sets off).
    pub fn own(&self, name: &str) -> Result<Cost, String> {
        self.own_at(name, Self::billed_ms(self.work(name)?.0))
    }

    /// One unit's cost with what it sets off.
    pub fn with_consequences(&self, name: &str) -> Result<Cost, String> {
        let mut cost = self.own(name)?;
        for (then, n) in self.work(name)?.0.then {
            cost.add(&self.with_consequences(then)?, *n);
        }
        Ok(cost)
    }

    /// A school's units of each work a month (the day's traffic, the activity write).
    pub fn school_month(&self) -> Result<Vec<(&'static str, f64)>, String> {
        let a = &ASSUMED;
        let days = a.school_days + a.other_days * a.other_day_share;
        let mut units: Vec<(&'static str, f64)> = Vec::new();
        let mut add = |name: &'static str, n: f64| match units.iter_mut().find(|(k, _)| *k == name) {
            Some((_, m)) => *m += n,
            None => units.push((name, n)),
        };
        for actor in SCHOOL_DAY {
            let active = actor.people * actor.active * days;
            add(ACTIVITY, active);
            for (name, n) in actor.day {
                self.work(name)?;
                add(name, active * n);
            }
        }
        Ok(units)
    }

    /// Every unit of work a school's month makes, with what the requests set off.
    fn school_month_all(&self) -> Result<Vec<(&'static str, f64)>, String> {
        fn walk(m: &Model, name: &'static str, n: f64, out: &mut Vec<(&'static str, f64)>) -> Result<(), String> {
            match out.iter_mut().find(|(k, _)| *k == name) {
                Some((_, k)) => *k += n,
                None => out.push((name, n)),
            }
            for (then, k) in m.work(name)?.0.then {
                walk(m, then, n * k, out)?;
            }
            Ok(())
        }
        let mut out = Vec::new();
        for (name, n) in self.school_month()? {
            walk(self, name, n, &mut out)?;
        }
        Ok(out)
    }

    /// Each family's cost per million requests: its routes weighted by a school's
    /// traffic, with what they set off; mail per million emails.
    pub fn families_detail(&self) -> Result<Vec<(Family, Vec<String>, Cost)>, String> {
        let units = self.school_month()?;
        let mut out = Vec::new();
        for family in Family::ALL {
            let mut cost = Cost::default();
            let mut n = 0.0;
            let mut names = Vec::new();
            for (name, k) in &units {
                let (work, _) = self.work(name)?;
                if work.family == family && work.api {
                    cost.add(&self.with_consequences(name)?, *k);
                    n += k;
                    names.push(format!("`{name}`"));
                }
            }
            if family == Family::Mail {
                cost = self.with_consequences(NOTIFIER)?;
                n = 1.0;
                names.push("one email: the notifier's reads and writes, SES (the invocation is the event's, with the request that set it off)".into());
            }
            if n == 0.0 {
                continue;
            }
            let mut per_million = Cost::default();
            per_million.add(&cost, 1e6 / n);
            out.push((family, names, per_million));
        }
        Ok(out)
    }

    /// Each family's total per million requests.
    pub fn families(&self) -> Result<Vec<(Family, f64)>, String> {
        Ok(self.families_detail()?.into_iter().map(|(f, _, c)| (f, c.total())).collect())
    }

    /// The month of `schools` schools, by service.
    pub fn month(&self, schools: f64) -> Result<Month, String> {
        let (p, a) = (&PRICES, &ASSUMED);
        let mut cost = Cost::default();
        let mut requests = 0.0;
        let mut emails = 0.0;
        let mut invocations = CONSUMERS.map(|c| (c, 0.0));
        let mut at_bench = 0.0;
        for (name, n) in self.school_month_all()? {
            let (w, _) = self.work(name)?;
            let n = n * schools;
            cost.add(&self.own(name)?, n);
            emails += w.ses * n;
            if w.api {
                requests += n;
                let ms = Self::billed_ms(w).max(BENCH_LOCAL_P50_MS);
                at_bench += self.own_at(name, ms)?.lambda * n;
            } else {
                at_bench += self.own(name)?.lambda * n;
            }
            for (c, k) in invocations.iter_mut() {
                if w.function == *c {
                    *k += w.invocations * n;
                }
            }
        }
        // HTTP API: past 300 million a month, the lower price; data out past 10 TB too.
        let over = (requests - 300e6).max(0.0);
        cost.api -= over * (p.http_api_per_million - p.http_api_per_million_over_300m) / 1e6;
        let out_gb = cost.egress / p.egress_gb;
        cost.egress -= (out_gb - 10_240.0).max(0.0) * (p.egress_gb - p.egress_gb_over_10tb);
        let mau = SCHOOL_DAY.iter().map(|x| x.people).sum::<f64>() * a.monthly_active * schools;
        let mut lite = 0.0;
        let mut from = p.cognito_free_mau;
        for (upto, price) in p.cognito_lite {
            lite += (mau.min(upto) - from).max(0.0) * price;
            from = upto;
        }
        Ok(Month {
            cost,
            table: schools * a.table_gb * p.dynamodb_gb_month,
            pitr: schools * a.table_gb * p.pitr_gb_month,
            files: schools * a.files_gb * p.s3_gb_month,
            fixed: a.alarms * p.alarm_month + a.secrets * p.secret_month,
            requests,
            emails,
            out_gb,
            invocations,
            mau,
            cognito: (mau - p.cognito_free_mau).max(0.0) * p.cognito_essentials_mau,
            cognito_lite: lite,
            lambda_at_bench: at_bench,
        })
    }
}

/// The slowest median of an API request the benchmarks measured (docs/testing.md, `make
/// bench-local`: `GET members` p50 at 10,746 items, 53.0 ms, against the emulator in a
/// debug build): the document prices the API's Lambda at it too, as a bound.
pub const BENCH_LOCAL_P50_MS: f64 = 53.0;

/// A month of some schools.
pub struct Month {
    pub cost: Cost,
    /// DynamoDB storage, its point-in-time recovery, S3 storage of the groups' files.
    pub table: f64,
    pub pitr: f64,
    pub files: f64,
    /// Alarms and the links' secret: once a deployment.
    pub fixed: f64,
    pub requests: f64,
    pub emails: f64,
    /// GB out to the internet.
    pub out_gb: f64,
    /// The stream consumers' invocations.
    pub invocations: [(&'static str, f64); 3],
    /// Sign-in: Cognito's monthly active users, their cost (Essentials, the pool's
    /// tier), and what the Lite tier would cost.
    pub mau: f64,
    pub cognito: f64,
    pub cognito_lite: f64,
    /// Lambda (both lines) with each API request billed at least [`BENCH_LOCAL_P50_MS`].
    pub lambda_at_bench: f64,
}

impl Month {
    pub fn total(&self) -> f64 {
        self.cost.total() + self.table + self.pitr + self.files + self.fixed + self.cognito
    }

    /// The services and their cost, largest first.
    pub fn lines(&self) -> Vec<(&'static str, f64)> {
        let c = &self.cost;
        let mut lines = vec![
            ("Lambda: the API's functions (arm64)", c.lambda),
            ("Lambda: stream consumers (notifier, exporter, importer; their stream reads are free)", c.consumers),
            ("API Gateway HTTP API", c.api),
            ("DynamoDB on-demand reads (RRU)", c.reads),
            ("DynamoDB on-demand writes (WRU)", c.writes),
            ("DynamoDB storage", self.table),
            ("DynamoDB point-in-time recovery (on)", self.pitr),
            ("SES emails", c.ses),
            ("S3 requests", c.s3),
            ("S3 storage (groups' files)", self.files),
            ("Data out to the internet (answers, file and export downloads)", c.egress),
            ("CloudWatch Logs (ingestion and storage)", c.logs),
            ("Fixed: alarms and the links' secret", self.fixed),
            ("Cognito (Essentials, the pool's default tier)", self.cognito),
        ];
        lines.sort_by(|a, b| b.1.total_cmp(&a.1));
        lines
    }
}

/// Dollars: whole thousands grouped, cents above a dollar, three figures below.
fn usd(x: f64) -> String {
    if x == 0.0 {
        "$0".to_string()
    } else if x >= 0.995 {
        let cents = format!("{x:.2}");
        let (whole, frac) = cents.split_once('.').unwrap_or((&cents, "00"));
        format!("${}.{frac}", whole.parse::<u64>().map(thousands).unwrap_or_else(|_| whole.to_string()))
    } else if x >= 0.0995 {
        format!("${x:.3}")
    } else if x >= 0.01 {
        format!("${x:.4}")
    } else {
        format!("${x:.5}")
    }
}

fn count(x: f64) -> String {
    thousands(x.round().max(0.0) as u64)
}

fn num(x: f64) -> String {
    if x.abs() >= 1_000.0 {
        return count(x);
    }
    // `+ 0.0`: an empty sum is -0.
    let s = format!("{:.2}", x + 0.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn pct(part: f64, whole: f64) -> String {
    format!("{:.0}%", 100.0 * part / whole)
}

/// `docs/cost.md` from the inputs.
pub fn render() -> Result<String, String> {
    let model = Model::new()?;
    let (p, a) = (&PRICES, &ASSUMED);
    let school = model.month(1.0)?;
    let region = model.month(a.region_schools)?;
    let lines = region.lines();
    let mut o = String::new();
    let w = &mut o;
    let _ = writeln!(w, "# What kabinet costs to run\n");
    let _ = writeln!(
        w,
        "<!-- Generated by `make cost` from functions/local/src/cost.rs (the inputs) and \
         each function's memory (`kabinet::lambda::Function::memory_mb`, what the template's \
         MemorySize is generated from); a test fails when this file differs. -->\n"
    );
    // A school's share of a region: the region's month over its schools (sign-in past
    // Cognito's free users, the fixed costs shared); and a school on its own.
    let share = region.total() / a.region_schools;
    let _ = writeln!(
        w,
        "- **A school of 2,000 people: {} a month**, {} a person, as one of a region's \
         schools (sign-in included: {} of it is Cognito). On a deployment of its own: {} \
         (its 1,800 monthly active users within Cognito's free 10,000; the fixed costs its \
         own).",
        usd(share),
        usd(share / SCHOOL),
        usd(region.cognito / a.region_schools),
        usd(school.total())
    );
    let _ = writeln!(
        w,
        "- **A region of {} schools: {} a month** ({} a person): {} API requests, {} emails, \
         {} TB out to the internet.",
        count(a.region_schools),
        usd(region.total()),
        usd(region.total() / (SCHOOL * a.region_schools)),
        count(region.requests),
        count(region.emails),
        num(region.out_gb / 1024.0)
    );
    let _ = writeln!(w, "- **What drives it** (of the region's month):");
    for (i, (name, cost)) in lines.iter().take(3).enumerate() {
        let _ = writeln!(w, "  {}. {name}: {} ({})", i + 1, usd(*cost), pct(*cost, region.total()));
    }
    let _ = writeln!(
        w,
        "- **Sign-in is the largest line**: the user pool names no tier, so it is Essentials \
         ({} a monthly active user past {}). The Lite tier (sign-in with email and password, \
         what the template's pool sets up) would cost {} rather than {} a region's month: the region {}, a \
         school {}.",
        usd(p.cognito_essentials_mau),
        count(p.cognito_free_mau),
        usd(region.cognito_lite),
        usd(region.cognito),
        usd(region.total() - region.cognito + region.cognito_lite),
        usd((region.total() - region.cognito + region.cognito_lite) / a.region_schools)
    );
    let main: Vec<String> = model
        .families()?
        .into_iter()
        .filter(|(f, _)| matches!(f, Family::Reads | Family::Search | Family::Writes | Family::Posts | Family::Uploads))
        .map(|(f, total)| format!("{} {}", f.name(), usd(total)))
        .collect();
    let _ = writeln!(
        w,
        "- **Per million requests**, with what they set off (below): {}; the posts' is nearly \
         all their announcements' emails, the uploads' the files' downloads.",
        main.join(", ")
    );
    let _ = writeln!(
        w,
        "\nEvery figure below is computed from the inputs: prices as published for us-east-1, \
         taken {PRICES_TAKEN}; the DynamoDB calls each route makes, as the counting tests \
         (`tests/tests/api/roundtrips.rs`) assert; each function's memory as \
         the template's `MemorySize` is generated from it (`Function::memory_mb`); and the assumptions stated here. Free tiers are left \
         out, but for Cognito's. Change an input in `functions/local/src/cost.rs` and run `make cost`.\n"
    );

    let _ = writeln!(w, "## Prices (us-east-1, taken {PRICES_TAKEN})\n");
    let _ = writeln!(w, "| service | price |\n| :--- | ---: |");
    for (what, price) in [
        ("Lambda arm64, per GB-second", format!("${}", p.lambda_gb_second)),
        ("Lambda, per million requests", usd(p.lambda_per_million)),
        ("API Gateway HTTP API, per million requests (first 300 million a month)", usd(p.http_api_per_million)),
        ("API Gateway HTTP API, per million past 300 million", usd(p.http_api_per_million_over_300m)),
        ("DynamoDB on-demand, per million write request units", usd(p.wru_per_million)),
        ("DynamoDB on-demand, per million read request units", usd(p.rru_per_million)),
        ("DynamoDB storage, per GB-month", usd(p.dynamodb_gb_month)),
        ("DynamoDB point-in-time recovery, per GB-month", usd(p.pitr_gb_month)),
        ("DynamoDB Streams read by Lambda triggers", "free".into()),
        ("SES, per 1,000 emails", usd(p.ses_per_thousand)),
        ("S3 Standard, per GB-month", usd(p.s3_gb_month)),
        ("S3 PUT, COPY, POST, LIST, per 1,000", usd(p.s3_put_per_thousand)),
        ("S3 GET, HEAD, per 1,000", usd(p.s3_get_per_thousand)),
        ("Data out to the internet, per GB (the first 10 TB a month)", usd(p.egress_gb)),
        ("Data out to the internet, per GB (the next 40 TB)", usd(p.egress_gb_over_10tb)),
        ("CloudWatch Logs ingestion, per GB", usd(p.logs_ingest_gb)),
        ("CloudWatch Logs storage, per GB-month", usd(p.logs_gb_month)),
        ("CloudWatch alarm, per month", usd(p.alarm_month)),
        ("Secrets Manager secret, per month", usd(p.secret_month)),
        ("Cognito Essentials, per monthly active user past 10,000", usd(p.cognito_essentials_mau)),
        (
            "Cognito Lite, per monthly active user past 10,000 (up to 100,000; 1 million; 10 million; beyond)",
            p.cognito_lite.iter().map(|(_, x)| usd(*x)).collect::<Vec<_>>().join("; "),
        ),
    ] {
        let _ = writeln!(w, "| {what} | {price} |");
    }

    let _ = writeln!(w, "\n## Per million requests, by family\n");
    let _ = writeln!(
        w,
        "Each family's routes weighted by a school's traffic (below), with what they set off \
         (an announcement's emails, an export's build, an import's rows); mail per million emails.\n"
    );
    let _ = writeln!(
        w,
        "| family | routes | per 1M requests | of it: Lambda (API, consumers) | API Gateway | DynamoDB | SES, S3, data out | Logs |"
    );
    let _ = writeln!(w, "| :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (family, names, cost) in model.families_detail()? {
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            family.name(),
            names.join(", "),
            usd(cost.total()),
            usd(cost.lambda + cost.consumers),
            usd(cost.api),
            usd(cost.reads + cost.writes),
            usd(cost.ses + cost.s3 + cost.egress),
            usd(cost.logs)
        );
    }

    let _ = writeln!(w, "\n## Per million of each route and consumer's work\n");
    let _ = writeln!(
        w,
        "DynamoDB calls: as the counting tests assert (✓: a test checks this number against \
         `roundtrips.rs`). Request units from the item sizes below: a strongly consistent \
         read 1 RRU an item up to 4 KB, a query (eventually consistent) 0.5 RRU per 4 KB \
         read, a write 1 WRU per KB, a transaction's items 2 WRU per KB, each index entry \
         written 1 WRU per KB. Lambda ms: {} ms of the function's own, {} ms a read call, {} \
         ms a write, {} ms a transaction, {} ms an S3 call, {} ms an SES send, rounded up, \
         plus {}% cold starts of {} ms init.\n",
        num(a.base_ms),
        num(a.read_ms),
        num(a.write_ms),
        num(a.tx_ms),
        num(a.s3_ms),
        num(a.ses_ms),
        num(a.cold_share * 100.0),
        num(a.init_ms)
    );
    let _ = writeln!(w, "| family | work | MB | calls | RRU | WRU | Lambda ms | per 1M: own | sets off | with it |");
    let _ = writeln!(w, "| :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: | :--- | ---: |");
    for (work, mb) in &model.memory {
        let sets_off: Vec<String> = work.then.iter().map(|(t, n)| format!("{} × {t}", num(*n))).collect();
        let _ = writeln!(
            w,
            "| {} | {} | {} | {}{} | {} | {} | {} | {} | {} | {} |",
            work.family.name(),
            work.name,
            mb,
            work.ops.len(),
            if work.counted { " ✓" } else { "" },
            num(work.ops.iter().map(Op::rru).sum()),
            num(work.ops.iter().map(Op::wru).sum()),
            num(Model::billed_ms(work)),
            usd(model.own(work.name)?.total() * 1e6),
            if sets_off.is_empty() { "".to_string() } else { sets_off.join(", ") },
            usd(model.with_consequences(work.name)?.total() * 1e6)
        );
    }

    let days = a.school_days + a.other_days * a.other_day_share;
    let _ = writeln!(w, "\n## A school's day\n");
    let _ = writeln!(
        w,
        "A school of 2,000 people. A month is {} school days and {} other days at {}% of a \
         school day's traffic ({} school days' worth). Each active person's first request \
         of the day also records their activity (one transaction).\n",
        num(a.school_days),
        num(a.other_days),
        num(a.other_day_share * 100.0),
        num(days)
    );
    let _ = writeln!(w, "| who | people | active a school day | each active one, a day | requests a day |");
    let _ = writeln!(w, "| :--- | ---: | ---: | :--- | ---: |");
    for actor in SCHOOL_DAY {
        let per: f64 = actor.day.iter().map(|(_, n)| n).sum();
        let calls: Vec<String> = actor.day.iter().map(|(name, n)| format!("{} × `{name}`", num(*n))).collect();
        let _ = writeln!(
            w,
            "| {} | {} | {} | {}: {} | {} |",
            actor.name,
            count(actor.people),
            pct(actor.active, 1.0),
            actor.note,
            calls.join(", "),
            count(actor.people * actor.active * per)
        );
    }

    let _ = writeln!(w, "\n## A month\n");
    let _ = writeln!(w, "| service | a school | share | a region ({} schools) | share |", count(a.region_schools));
    let _ = writeln!(w, "| :--- | ---: | ---: | ---: | ---: |");
    let school_lines = school.lines();
    for (name, cost) in &lines {
        let mine = school_lines.iter().find(|(n, _)| n == name).map(|(_, c)| *c).unwrap_or(0.0);
        let _ = writeln!(
            w,
            "| {name} | {} | {} | {} | {} |",
            usd(mine),
            pct(mine, school.total()),
            usd(*cost),
            pct(*cost, region.total())
        );
    }
    let _ = writeln!(w, "| **total** | **{}** | | **{}** | |", usd(school.total()), usd(region.total()));
    let _ = writeln!(
        w,
        "\nA school on its own pays no Cognito (its {} monthly active users are within the free \
         {}) and the fixed costs ({} alarms, {} secret) alone; a region shares them. A region's \
         API requests past 300 million a month take the lower HTTP API price, its data out past \
         10 TB the lower rate. The stream consumers' invocations a school-month: {}; each \
         reads its records from the table's stream, which Lambda's triggers read free.",
        count(school.mau),
        count(p.cognito_free_mau),
        num(a.alarms),
        num(a.secrets),
        school.invocations.iter().map(|(c, n)| format!("{c} {}", count(*n))).collect::<Vec<_>>().join(", ")
    );
    let _ = writeln!(
        w,
        "\nDurations: the benchmarks (docs/testing.md) run against the emulator, not in AWS. Were \
         every API request billed at least {} ms (`make bench-local`'s slowest median, `GET \
         members` at 10,746 items, a debug build), Lambda would be {} rather than {} a region's \
         month: the durations assumed below hardly move the total.",
        num(BENCH_LOCAL_P50_MS),
        usd(region.lambda_at_bench),
        usd(region.cost.lambda + region.cost.consumers)
    );

    let _ = writeln!(w, "\n## Assumptions\n");
    let _ = writeln!(w, "| what | assumed | why |\n| :--- | ---: | :--- |");
    for (what, value, why) in [
        ("a function's own work a request", format!("{} ms", num(a.base_ms)), "parsing, rendering; the handlers' CPU is small beside their calls"),
        ("a DynamoDB read call, a write, a transaction", format!("{} / {} / {} ms", num(a.read_ms), num(a.write_ms), num(a.tx_ms)), "in-region single-digit ms; not measured in AWS (the benchmarks run against the emulator: bench-local's medians, 26-53 ms a request, bound them; see above)"),
        ("an S3 call, an SES send", format!("{} / {} ms", num(a.s3_ms), num(a.ses_ms)), "in-region latency"),
        ("cold starts", format!("{}% of {} ms", num(a.cold_share * 100.0), num(a.init_ms)), "provided.al2023 bills its init; make bench-coldstart compares it with a bare function's (docs/deploy.md gives its ratio, not the absolute init in AWS)"),
        ("logs a request", format!("{} bytes", count(a.log_bytes)), "the request's JSON line and Lambda's platform start and report lines"),
        ("logs kept (compressed)", pct(a.log_stored_share, 1.0), "of the bytes ingested; retention 30 days"),
        ("an answer to the browser", format!("{} KB", num(a.answer_kb)), "a page of 20 items as JSON"),
        ("a list page", format!("{} items", num(PAGE)), "most lists are shorter than the default 50"),
        ("a file", format!("{} MB", num(FILE_MB)), "uploaded and downloaded"),
        ("an export", format!("{} MB", num(EXPORT_MB)), "bench-export: 0.17 MB of CSV for 1,000 members"),
        ("an export's CPU", "33,000 rows a CPU second".into(), "bench-export, CSV"),
        ("an import's rows, CPU", format!("{} rows, 1 ms a row", count(ROSTER_ROWS)), "bench-import: 2,854 rows for 1,000 users, 950 rows a CPU second; weekly, 1 row in 50 changed"),
        ("an announcement's emails", num(GROUP_MAILED), "a class-sized group, notify on"),
        ("a school's table", format!("{} GB", num(a.table_gb)), "memberships, search items, a year's posts and audit"),
        ("a school's files", format!("{} GB", num(a.files_gb)), "half of the 10 GiB quota"),
        ("monthly active users", pct(a.monthly_active, 1.0), "of the school's people sign in in a month"),
    ] {
        let _ = writeln!(w, "| {what} | {value} | {why} |");
    }
    let _ = writeln!(w, "\nItem sizes (KB):\n");
    let _ = writeln!(w, "| item | KB |\n| :--- | ---: |");
    for (item, size) in [
        ("membership", kb::MEMBER),
        ("organization", kb::ORG),
        ("profile", kb::PROFILE),
        ("search item", kb::SEARCH),
        ("class", kb::CLASS),
        ("group", kb::GROUP),
        ("thread, announcement", kb::POST),
        ("reply", kb::REPLY),
        ("file", kb::FILE),
        ("counter", kb::COUNTER),
        ("audit entry", kb::AUDIT),
        ("outbox event", kb::EVENT),
        ("export, import", kb::JOB),
        ("roster record", kb::ROSTER),
        ("send claim", kb::CLAIM),
    ] {
        let _ = writeln!(w, "| {item} | {} |", num(size));
    }
    let _ = writeln!(w, "\n## Left out\n");
    for line in [
        "Free tiers, but Cognito's 10,000 monthly active users (Lambda's 400,000 GB-s a month, the first 100 GB out, SES's first 3,000 emails a month in the first year).",
        "`Idempotency-Key` on creating POSTs: two more writes (the claim and the answer, 1-2 WRU each) when the front end sends one.",
        "Routes not in the counting tests (`POST .../imports/{id}/start`, accepting links and invitations, join requests); the traffic model uses the counted ones.",
        "The stream consumers' invocations for records their filters drop (Lambda's event filtering does not bill them) and DynamoDB Streams' reads by Lambda (free).",
        "Retries (a transaction cancelled by a concurrent change runs again) and the idempotency records' and outbox events' TTL deletions (free).",
    ] {
        let _ = writeln!(w, "- {line}");
    }
    Ok(o)
}

/// `(row name, DynamoDB calls)` of each `run("...", N, ...)` in the counting tests.
pub fn counted_round_trips(source: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(i) = rest.find("run(") {
        rest = &rest[i + 4..];
        let s = rest.trim_start();
        let Some(s) = s.strip_prefix('"') else { continue };
        let Some(end) = s.find('"') else { continue };
        let name = &s[..end];
        let after = s[end + 1..].trim_start();
        let Some(after) = after.strip_prefix(',') else { continue };
        let digits: String = after.trim_start().chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse() {
            found.push((name.to_string(), n));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    fn read(path: &str) -> String {
        std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn the_document_is_what_the_inputs_give() {
        let rendered = render().unwrap();
        assert!(read(PATH) == rendered, "{PATH} differs from what its inputs give: run make cost and commit it");
    }

    /// The calls here are those the counting tests assert (every row of that name).
    #[test]
    fn round_trips_are_those_the_counting_tests_assert() {
        let counted = counted_round_trips(&read("tests/tests/api/roundtrips.rs"));
        assert!(counted.len() > 50, "the counting tests' rows are found: {}", counted.len());
        for work in WORK.iter().filter(|w| w.counted) {
            let rows: Vec<usize> = counted.iter().filter(|(n, _)| n == work.name).map(|(_, c)| *c).collect();
            assert!(!rows.is_empty(), "{:?} is not a row of the counting tests", work.name);
            for n in rows {
                assert_eq!(work.ops.len(), n, "{}: the counting tests assert {n} DynamoDB calls", work.name);
            }
        }
    }

    #[test]
    fn every_name_is_known_and_functions_exist() {
        let model = Model::new().unwrap();
        for work in WORK {
            for (then, _) in work.then {
                model.work(then).unwrap();
            }
            if work.api {
                assert!(kabinet::api::route(work.function).is_some(), "{}: no route {}", work.name, work.function);
            }
        }
        model.school_month().unwrap();
    }

    /// Each route's entry is priced at its own function: the route-table entry it names
    /// serves the method and path of its name.
    #[test]
    fn each_route_names_its_own_function() {
        for work in WORK.iter().filter(|w| w.api) {
            let route = kabinet::api::route(work.function).unwrap();
            let (method, rest) = work.name.split_once(' ').unwrap();
            let path = rest.split(['?', ' ']).next().unwrap();
            // The counting tests write a group's routes without their `/orgs/{org}`.
            assert!(
                route.method.as_str() == method && route.path.ends_with(path),
                "{}: {} serves {} {}",
                work.name,
                work.function,
                route.method,
                route.path
            );
        }
    }

    #[test]
    fn units_and_memory() {
        assert_eq!(Op::Get { items: 2.0, kb: 1.0 }.rru(), 2.0);
        assert_eq!(Op::Get { items: 1.0, kb: 5.0 }.rru(), 2.0);
        assert_eq!(Op::Query { items: 20.0, kb: 1.0 }.rru(), 2.5);
        assert_eq!(Op::Write { kb: 0.4, gsi: 1.0 }.wru(), 2.0);
        assert_eq!(Op::Tx { items: 3.0, kb: 1.6, gsi: 1.0 }.wru(), 14.0);
        let model = Model::new().unwrap();
        assert_eq!(model.work(EXPORTER).unwrap().1, 512.0);
        assert_eq!(model.work("GET /orgs/{org}/members").unwrap().1, 256.0);
        assert_eq!(usd(1234.5), "$1,234.50");
        assert_eq!(usd(0.25), "$0.250");
        assert_eq!(usd(0.0123), "$0.0123");
    }
}
