//! The OpenAPI 3.1 document, built from the route table: each route's operation comes
//! from its handler's `#[utoipa::path]`, the common problem answers and the examples of
//! pages are added here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use serde_json::Value;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::{HttpMethod, Operation, Parameter, ParameterIn, PathItem};
use utoipa::openapi::schema::{ArrayItems, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, Content, ContentBuilder, InfoBuilder, OpenApiBuilder, PathsBuilder, Ref, RefOr, Required,
    Response, ResponseBuilder, ServerBuilder,
};
use utoipa::{Number, PartialSchema, ToSchema};

use crate::api::{described, routes, Route};
use crate::domain::ids::{ID_LEN, MAX_USER_ID, ORG_ID_LEN};
use crate::domain::{contact, discussions, files, groups, imports, join_requests, org, roles, school, search, users};
use crate::domain::{AuditAction, OrgId, UserId};
use crate::http::json::MAX_BODY;
use crate::http::{Code, Problem};
use crate::page::{Cursor, DEFAULT_LIMIT, MAX_CURSOR, MAX_LIMIT};
use crate::permissions::Access;
use crate::store::keys::{member_sk, org_pk, PK, SK};

static DOCUMENT: LazyLock<Value> = LazyLock::new(build);

/// The OpenAPI document, built from the route table (what `make openapi` writes to
/// [`PATH`]): what utoipa makes of the routes, with the limits the
/// handlers check written into it (see [`say_limits`]).
pub fn document() -> &'static Value {
    &DOCUMENT
}

/// Where the generated document is committed, from the repository's root.
pub const PATH: &str = "shared/assets/openapi.json";

/// The text of the file at [`PATH`]: the document, pretty-printed, with a final newline.
pub fn render() -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(document()).map(|json| json + "\n")
}

fn problem(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new().description(description).content(PROBLEM, problem_content()).build()
}

const PROBLEM: &str = "application/problem+json";

fn problem_content() -> Content {
    ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build()
}

/// The first code a description names (`` `code` ``).
fn code_in(text: &str) -> Option<&str> {
    text.split('`').nth(1)
}

/// Documents a problem answer of a class of routes: a new status, or `text` joined to
/// what the handler says of that status unless it names that code already.
fn add(responses: &mut BTreeMap<String, RefOr<Response>>, status: &str, text: &str) {
    match responses.get_mut(status) {
        None => {
            responses.insert(status.to_string(), problem(text).into());
        }
        Some(RefOr::T(known)) => {
            if !code_in(text).is_some_and(|code| known.description.contains(&format!("`{code}`"))) {
                known.description = format!("{}; {}", known.description, lowercase_first(text));
            }
        }
        Some(RefOr::Ref(_)) => {}
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

/// `limit` says its bounds and default, `cursor` where it comes from.
fn describe_paging(params: &mut [Parameter]) {
    for p in params.iter_mut().filter(|p| p.parameter_in == ParameterIn::Query) {
        match p.name.as_str() {
            "limit" => {
                if let Some(RefOr::T(Schema::Object(o))) = p.schema.as_mut() {
                    o.minimum = Some(Number::Int(1));
                    o.maximum = Some(Number::Int(MAX_LIMIT as isize));
                }
                p.description.get_or_insert_with(|| format!("1-{MAX_LIMIT}, default {DEFAULT_LIMIT}"));
            }
            "cursor" => {
                p.description.get_or_insert_with(|| "`next_cursor` of the previous page".into());
            }
            _ => {}
        }
    }
}

/// The problem answers of the route's class: authentication, organization scope, a body,
/// query parameters, `Idempotency-Key`, `If-Match`, a path naming something; and of every
/// route, 500, and of every route that calls AWS, 503 `unavailable`. Every problem answer
/// is `application/problem+json`; a 429 and a 503 say when to retry (`Retry-After`).
fn common_answers(route: &Route, op: &mut Operation) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has = |name: &str, place: ParameterIn| params.iter().find(|p| p.name == name && p.parameter_in == place);
    let queried = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
    let paged = has("cursor", ParameterIn::Query).is_some();
    let if_match = has("If-Match", ParameterIn::Header).map(|p| p.required == Required::True);
    let names_item = route.path.split('/').filter(|s| s.starts_with('{')).any(|s| s != "{org}");
    let responses = &mut op.responses.responses;
    let mut add = |status: &str, text: &str| add(responses, status, text);
    if route.auth {
        add("401", "No valid bearer token (`unauthorized`)");
    }
    if route.org_scoped {
        add("403", "A member lacking the right (`forbidden`)");
    }
    match (route.org_scoped, names_item) {
        (true, false) => add("404", "No such organization, or the caller is not a member (`not_found`)"),
        (true, true) => {
            add("404", "No such organization, the caller is not a member, or nothing there has this ID (`not_found`)")
        }
        (false, true) => add("404", "Nothing the caller may see has this ID (`not_found`)"),
        (false, false) => {}
    }
    if op.request_body.is_some() {
        add("400", "Malformed JSON, or no body (`malformed_json`)");
        add("413", &format!("A body over {} KiB (`payload_too_large`)", MAX_BODY / 1024));
        add("415", "A body that is not JSON (`unsupported_media_type`)");
        add("422", "Invalid fields (`validation_failed`, with `errors`)");
    }
    if queried {
        add("422", "Invalid query parameters (`validation_failed`, with `errors`)");
    }
    if paged {
        add("400", "A cursor this list did not give out (`invalid_cursor`)");
    }
    if route.idempotent {
        add("409", "A request with this `Idempotency-Key` is still running (`idempotency_in_progress`)");
        add("422", "An `Idempotency-Key` used before with another request (`idempotency_key_reused`)");
    }
    if let Some(required) = if_match {
        add("412", "Stale `If-Match` (`precondition_failed`)");
        if required {
            add("428", "No `If-Match` (`precondition_required`)");
        }
    }
    add("429", &throttled());
    add("500", "Internal error (`internal`), logged with the request ID");
    if route.access != Access::NONE {
        add(
            "503",
            "AWS throttled or failed us (`unavailable`): nothing was changed; retry after `Retry-After` seconds",
        );
    }
    for (status, answer) in responses.iter_mut() {
        let (RefOr::T(answer), Some(class)) = (answer, status.chars().next()) else { continue };
        if (class == '4' || class == '5') && answer.content.is_empty() {
            answer.content.insert(PROBLEM.to_string(), problem_content());
        }
        if status == "429" || status == "503" {
            let seconds = ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(0))
                .maximum(Some(MAX_RETRY_AFTER))
                .build();
            let mut header = Header::new(seconds);
            header.description = Some(
                if status == "429" {
                    "Seconds until it may be done again (a limit of the API's own; the gateway's throttle sends none)"
                } else {
                    "Seconds to wait before retrying"
                }
                .into(),
            );
            answer.headers.entry("Retry-After".into()).or_insert(header);
        }
        if let Some(RefOr::T(Schema::Object(etag))) = answer.headers.get_mut("ETag").map(|h| &mut h.schema) {
            etag.max_length = Some(ETAG_MAX);
            etag.pattern = Some(r#"^"v[0-9]+"$"#.into());
        }
        if let Some(RefOr::T(Schema::Object(location))) = answer.headers.get_mut("Location").map(|h| &mut h.schema) {
            location.max_length = Some(location_max());
            location.format = Some(SchemaFormat::Custom("uri-reference".into()));
        }
    }
}

/// The HTTP API stage's throttle (`DefaultRouteSettings` in infra/template.yaml): requests a
/// second, and the burst.
pub const GATEWAY_RATE_LIMIT: u32 = 100;
pub const GATEWAY_BURST_LIMIT: u32 = 200;

/// Every route can be throttled: past the stage's rate, API Gateway answers 429 itself.
fn throttled() -> String {
    format!(
        "Too many requests: the API's request rate ({GATEWAY_RATE_LIMIT} a second, bursts of \
         {GATEWAY_BURST_LIMIT}), which API Gateway answers itself, with its own body and no \
         Retry-After header: back off and retry"
    )
}

/// The longest wait a 429 names: until the next UTC day (the daily limits).
const MAX_RETRY_AFTER: i64 = 86_400;

/// An origin: a scheme, a host name (at most 253 characters) and a port.
const ORIGIN_MAX: usize = "https://".len() + 253 + ":65535".len();

/// The longest `Location` the API answers: a route's path with its IDs at their longest.
fn location_max() -> usize {
    let longest = |segment: &str| match segment {
        "{org}" => ORG_ID_LEN,
        "{user}" => MAX_USER_ID,
        s if s.starts_with('{') => ID_LEN,
        s => s.len(),
    };
    routes().iter().map(|r| r.path.split('/').map(|s| longest(s) + 1).sum::<usize>()).max().unwrap_or(0)
}

fn http_method(m: &http::Method) -> HttpMethod {
    match *m {
        http::Method::POST => HttpMethod::Post,
        http::Method::PUT => HttpMethod::Put,
        http::Method::PATCH => HttpMethod::Patch,
        http::Method::DELETE => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

fn build() -> Value {
    let mut schemas = vec![(Problem::name().into_owned(), Problem::schema())];
    <Problem as ToSchema>::schemas(&mut schemas);
    let mut paths = PathsBuilder::new();
    for (route, described) in routes().iter().zip(described()) {
        debug_assert_eq!(route.name, described.name);
        (described.schemas)(&mut schemas);
        let mut op: Operation = (described.operation)();
        op.operation_id = Some(route.name.replace('-', "_"));
        op.tags = Some(vec![route.area.to_string()]);
        // The handler's doc comment: its first sentence names the operation in lists, the
        // whole of it describes it.
        if op.description.is_none() {
            if let Some(text) = op.summary.take() {
                op.summary = Some(first_sentence(&text));
                op.description = Some(text);
            }
        }
        if let Some(params) = op.parameters.as_mut() {
            describe_paging(params);
        }
        common_answers(route, &mut op);
        if let Some(body) = op.request_body.as_mut() {
            let optional = OPTIONAL_BODIES.contains(&route.name);
            body.required = Some(if optional { Required::False } else { Required::True });
        }
        if !route.auth {
            op.security = Some(vec![SecurityRequirement::default()]);
        }
        paths = paths.path(route.path.clone(), PathItem::new(http_method(&route.method), op));
    }
    page_examples(&mut schemas);
    let mut components = ComponentsBuilder::new().security_scheme(
        "bearer",
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "An OIDC ID token (Cognito in AWS; a dev token locally), checked as RFC8725 asks: the \
                     algorithm fixed by the verifier (RS256 with the user pool's keys in AWS, HS256 for dev \
                     tokens), never `none`, with its signature, `iss`, `aud` and `exp` verified, and an \
                     access token (`token_use` other than `id`) refused",
                ))
                .build(),
        ),
    );
    for (name, schema) in schemas {
        components = components.schema(name, schema);
    }
    let mut doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("kabinet API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(description()))
                .build(),
        )
        .servers(Some(vec![ServerBuilder::new().url("/").build()]))
        .paths(paths.build())
        .components(Some(components.build()))
        .build();
    doc.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    doc.tags = Some(
        AREAS
            .iter()
            .filter(|(name, _)| routes().iter().any(|r| r.area == *name))
            .map(|(name, about)| TagBuilder::new().name(*name).description(Some(*about)).build())
            .collect(),
    );
    let mut json = serde_json::to_value(&doc).unwrap_or_default();
    say_limits(&mut json);
    say_cors(&mut json);
    say_audit_actions(&mut json);
    pages_by_reference(&mut json);
    json["servers"][0]["description"] =
        "This gateway, wherever it runs: production and staging stages in AWS, or local (`make dev`)".into();
    json["servers"][0]["x-internal"] = false.into();
    json
}

/// The CORS header the gateway adds to every answer (`CorsConfiguration` of the HTTP API in
/// infra/template.yaml; locally the local gateway, from `KABINET_CORS_ORIGINS`), once in
/// `components.headers` and named by each answer.
fn say_cors(doc: &mut Value) {
    const NAME: &str = "Access-Control-Allow-Origin";
    doc["components"]["headers"][NAME] = serde_json::json!({
        "description": "The caller's origin, when the request's `Origin` is one the API allows \
            (the stack's `CorsAllowOrigins`; locally `KABINET_CORS_ORIGINS`, any origin when unset); absent otherwise. \
            Set by the gateway on every answer, which also answers preflight `OPTIONS` requests \
            itself (allowing `Authorization`, `Content-Type`, `If-Match` and `Idempotency-Key`, \
            exposing `ETag`, `Location` and `X-Request-Id`)",
        "schema": {"type": "string", "format": "uri", "maxLength": ORIGIN_MAX},
    });
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for op in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|item| item.values_mut()) {
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
        for answer in responses.values_mut() {
            answer["headers"][NAME] = serde_json::json!({"$ref": format!("#/components/headers/{NAME}")});
        }
    }
}

/// Each `Page_X` names its items' schema `X` rather than holding a copy of it.
fn pages_by_reference(doc: &mut Value) {
    let Some(schemas) = doc["components"]["schemas"].as_object_mut() else { return };
    let names: Vec<String> = schemas.keys().cloned().collect();
    for (name, page) in schemas.iter_mut() {
        let Some(item) = name.strip_prefix("Page_") else { continue };
        if names.iter().any(|n| n == item) && page["properties"]["items"]["items"].get("$ref").is_none() {
            page["properties"]["items"]["items"] = serde_json::json!({"$ref": format!("#/components/schemas/{item}")});
        }
    }
}

/// The example a schema carries, if any.
fn example_of(schema: &Schema) -> Option<&serde_json::Value> {
    match schema {
        Schema::Object(o) => o.example.as_ref().or(o.examples.first()),
        Schema::AllOf(a) => a.example.as_ref().or(a.examples.first()),
        Schema::OneOf(o) => o.example.as_ref().or(o.examples.first()),
        _ => None,
    }
}

/// The example of a page's item: its schema's, inline or referenced.
fn item_example(page: &Object, schemas: &[(String, RefOr<Schema>)]) -> Option<serde_json::Value> {
    let Some(RefOr::T(Schema::Array(list))) = page.properties.get("items") else { return None };
    let ArrayItems::RefOrSchema(item) = &list.items else { return None };
    let item = match item.as_ref() {
        RefOr::T(schema) => schema,
        RefOr::Ref(r) => {
            let name = r.ref_location.rsplit('/').next()?;
            match schemas.iter().find(|(n, _)| n == name)? {
                (_, RefOr::T(schema)) => schema,
                _ => return None,
            }
        }
    };
    example_of(item).cloned()
}

/// The `next_cursor` of the pages' examples: a position in a list of members.
fn example_cursor() -> String {
    let (org, user) = (OrgId::parse("k7m3xq9pza"), UserId::parse("8d2e4b61-5c3a-4f9e-b7d0-1e6a9c3f2b84"));
    let (Some(org), Some(user)) = (org, user) else { return String::new() };
    Cursor([(PK.to_string(), org_pk(&org)), (SK.to_string(), member_sk(&user))].into()).encode()
}

/// Gives each `Page_X` (a generic, which cannot carry a literal example) the example of a
/// page of one `X` with the cursor of the next.
fn page_examples(schemas: &mut [(String, RefOr<Schema>)]) {
    let examples: Vec<(usize, serde_json::Value)> = schemas
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| name.starts_with("Page_"))
        .filter_map(|(i, (_, schema))| match schema {
            RefOr::T(Schema::Object(page)) => Some((i, item_example(page, schemas)?)),
            _ => None,
        })
        .collect();
    for (i, item) in examples {
        if let RefOr::T(Schema::Object(page)) = &mut schemas[i].1 {
            page.example = Some(serde_json::json!({"items": [item], "next_cursor": example_cursor()}));
        }
    }
}

/// What a handler checks of an input, as its schema says it: every number comes from the
/// constant the handler checks against.
#[derive(Clone, Copy)]
enum Limit {
    /// A text of at most this many characters.
    Chars(usize),
    /// An ID the API hands out (a lower-case ULID, 26 characters).
    Ulid,
    /// A person's user ID (the identity provider's `sub`).
    User,
    /// An organization's ID.
    Org,
    /// An RFC 3339 time.
    Time,
    /// At most this many items, each within the second limit.
    Items(usize, &'static Limit),
    /// An integer within these bounds.
    Range(i64, i64),
    /// One of the values this component schema lists (the type the handler parses).
    Component(&'static str),
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// A text of at most this many characters matching this pattern.
    Pattern(usize, &'static str),
    /// A text of at most this many characters of this format (`email`, `uri`).
    Format(usize, &'static str),
}

const ULID: Limit = Limit::Ulid;
const USER: Limit = Limit::User;
const EMAIL: Limit = Limit::Format(contact::MAX_EMAIL, "email");
const YEAR: Limit = Limit::Pattern(school::YEAR_LEN, "^[0-9]{4}/[0-9]{4}$");
/// Base64url without padding: an invitation link's token, a page's cursor.
const BASE64URL: &str = "^[A-Za-z0-9_-]+$";

/// The fields of request bodies with the limits their handlers check.
const BODY_LIMITS: &[(&str, &str, Limit)] = &[
    ("AcceptInviteLink", "roles", Limit::Items(roles::MAX_GRANTS, &Limit::Chars(0))),
    ("AddGroupMembers", "user_ids", Limit::Items(groups::MAX_ADD, &USER)),
    ("AddPeople", "user_ids", Limit::Items(groups::MAX_ADD, &USER)),
    ("AddMember", "user_id", USER),
    ("AddMember", "email", EMAIL),
    ("AddMember", "roles", Limit::Items(roles::MAX_GRANTS, &Limit::Chars(0))),
    ("CreateClass", "grade", Limit::Range(1, school::MAX_GRADE as i64)),
    ("CreateClass", "letter", Limit::Chars(school::MAX_LETTER)),
    ("CreateClass", "name", Limit::Chars(school::MAX_CLASS_NAME)),
    ("CreateClass", "year", YEAR),
    ("CreateClass", "class_teacher_ids", Limit::Items(crate::domain::classes::MAX_CLASS_TEACHERS, &USER)),
    ("PatchClass", "grade", Limit::Range(1, school::MAX_GRADE as i64)),
    ("PatchClass", "letter", Limit::Chars(school::MAX_LETTER)),
    ("PatchClass", "name", Limit::Chars(school::MAX_CLASS_NAME)),
    ("PatchClass", "class_teacher_ids", Limit::Items(crate::domain::classes::MAX_CLASS_TEACHERS, &USER)),
    ("CreateCourse", "name", Limit::Chars(groups::MAX_NAME)),
    ("CreateCourse", "description", Limit::Chars(groups::MAX_DESCRIPTION)),
    ("CreateCourse", "teacher_ids", Limit::Items(groups::MAX_TEACHERS, &USER)),
    ("PatchCourse", "name", Limit::Chars(groups::MAX_NAME)),
    ("PatchCourse", "description", Limit::Chars(groups::MAX_DESCRIPTION)),
    ("PatchCourse", "teacher_ids", Limit::Items(groups::MAX_TEACHERS, &USER)),
    ("CreateGroup", "name", Limit::Chars(groups::MAX_NAME)),
    ("CreateGroup", "description", Limit::Chars(groups::MAX_DESCRIPTION)),
    ("PatchGroup", "name", Limit::Chars(groups::MAX_NAME)),
    ("PatchGroup", "description", Limit::Chars(groups::MAX_DESCRIPTION)),
    ("CreateLinkedGroup", "name", Limit::Chars(groups::MAX_NAME)),
    ("CreateLinkedGroup", "description", Limit::Chars(groups::MAX_DESCRIPTION)),
    ("CreateLinkedGroup", "user_ids", Limit::Items(groups::MAX_ADD, &USER)),
    ("LinkGroup", "group_id", ULID),
    ("LinkGroup", "user_ids", Limit::Items(groups::MAX_ADD, &USER)),
    // Each address is checked on its own: a wrong one is reported in its result.
    (
        "CreateInvitations",
        "emails",
        Limit::Items(crate::domain::invitations::MAX_EMAILS, &Limit::Chars(contact::MAX_EMAIL)),
    ),
    ("CreateInvitations", "group_id", ULID),
    ("CreateInviteLink", "expires_at", Limit::Time),
    ("CreateInviteLink", "max_uses", Limit::Range(1, crate::api::invite_links::MAX_USES)),
    ("CreateInviteLink", "roles", Limit::Items(roles::MAX_GRANTS, &Limit::Chars(0))),
    ("CreateInviteLink", "group_id", ULID),
    ("CreateOrg", "position", Limit::Chars(roles::MAX_ROLE_TEXT)),
    ("OrgFields", "name", Limit::Chars(org::NAME_MAX)),
    ("OrgFields", "short_name", Limit::Chars(org::SHORT_NAME_MAX)),
    ("OrgFields", "address", Limit::Chars(org::ADDRESS_MAX)),
    ("OrgFields", "website", Limit::Format(contact::MAX_WEBSITE, "uri")),
    ("OrgFields", "phone", Limit::Chars(contact::MAX_PHONE)),
    ("OrgFields", "email", EMAIL),
    ("OrgFields", "description", Limit::Chars(org::DESCRIPTION_MAX)),
    ("CreateOrg", "name", Limit::Chars(org::NAME_MAX)),
    ("CreateOrg", "short_name", Limit::Chars(org::SHORT_NAME_MAX)),
    ("CreateOrg", "address", Limit::Chars(org::ADDRESS_MAX)),
    ("CreateOrg", "website", Limit::Format(contact::MAX_WEBSITE, "uri")),
    ("CreateOrg", "phone", Limit::Chars(contact::MAX_PHONE)),
    ("CreateOrg", "email", EMAIL),
    ("CreateOrg", "description", Limit::Chars(org::DESCRIPTION_MAX)),
    ("NewPost", "title", Limit::Chars(discussions::MAX_TITLE)),
    ("NewPost", "body", Limit::Chars(discussions::MAX_BODY)),
    ("EditPost", "title", Limit::Chars(discussions::MAX_TITLE)),
    ("EditPost", "body", Limit::Chars(discussions::MAX_BODY)),
    ("NewReply", "body", Limit::Chars(discussions::MAX_BODY)),
    ("EditReply", "body", Limit::Chars(discussions::MAX_BODY)),
    ("NewFile", "name", Limit::Chars(files::MAX_FILE_NAME)),
    ("NewFile", "size", Limit::Range(1, files::MAX_FILE_SIZE as i64)),
    ("NewFile", "content_type", Limit::Chars(files::MAX_CONTENT_TYPE)),
    ("NewImport", "file_name", Limit::Chars(imports::MAX_FILE_NAME)),
    ("NewImport", "size", Limit::Range(1, imports::MAX_UPLOAD_BYTES as i64)),
    ("NewRosterLink", "org_id", Limit::Org),
    ("NewRosterLink", "identifier", Limit::Chars(crate::api::roster::MAX_ID)),
    ("PatchJoinRequest", "roles", Limit::Items(roles::MAX_GRANTS, &Limit::Chars(0))),
    ("PatchMember", "roles", Limit::Items(roles::MAX_GRANTS, &Limit::Chars(0))),
    ("PatchMe", "name", Limit::Chars(users::MAX_NAME)),
    ("PatchMe", "language", Limit::OneOf(&["ru", "en"])),
    ("RejectJoinRequest", "reason", Limit::Chars(join_requests::MAX_REASON)),
    ("RoleGrant", "position", Limit::Chars(roles::MAX_ROLE_TEXT)),
    ("RoleGrant", "specialization", Limit::Chars(roles::MAX_ROLE_TEXT)),
    ("RoleGrant", "class_ids", Limit::Items(roles::MAX_CLASSES, &ULID)),
    ("Rollover", "from_year", YEAR),
    ("MarkRead", "up_to", ULID),
    ("MarkRead", "ids", Limit::Items(crate::api::notifications::MAX_MARK_IDS, &ULID)),
    ("PatchSettings", "muted_orgs", Limit::Items(crate::domain::notifications::MAX_MUTED_ORGS, &Limit::Org)),
];

/// The parameters by place and name, with the limits their handlers check.
const PARAM_LIMITS: &[(&str, &str, Limit)] = &[
    ("path", "org", Limit::Org),
    ("path", "user", USER),
    ("path", "id", ULID),
    ("path", "group", ULID),
    ("path", "thread", ULID),
    ("path", "reply", ULID),
    ("path", "announcement", ULID),
    ("path", "file", ULID),
    ("path", "token", Limit::Pattern(crate::api::invite_links::MAX_TOKEN, BASE64URL)),
    (
        "path",
        "link",
        Limit::Pattern(
            crate::api::notifications::MAX_UNSUBSCRIBE_TOKEN,
            "^[0-9]+\\.[a-z_]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$",
        ),
    ),
    ("query", "cursor", Limit::Pattern(MAX_CURSOR, BASE64URL)),
    ("query", "q", Limit::Chars(search::MAX_QUERY_CHARS)),
    ("query", "class", ULID),
    ("query", "group", ULID),
    ("query", "course", ULID),
    ("query", "not_in_group", ULID),
    ("query", "actor", USER),
    ("query", "action", Limit::Pattern(crate::api::audit::MAX_ACTION, "^[a-z._]+$")),
    ("query", "since", Limit::Time),
    ("query", "year", YEAR),
    ("query", "role", Limit::Component("Role")),
    ("query", "status", Limit::Component("JoinRequestStatus")),
    ("query", "include", Limit::OneOf(&["groups"])),
    ("query", "sort", Limit::OneOf(&["last_active"])),
    ("header", "Idempotency-Key", Limit::Pattern(crate::api::common::idempotency::MAX_KEY, "^[!-~]+$")),
    // An `ETag` the API gave out, or its weak form (`W/"v3"`).
    ("header", "If-Match", Limit::Pattern("W/".len() + ETAG_MAX, r#"^(\*|(W/)?"v[0-9]+")$"#)),
];

/// An `ETag` as the API writes it: `"v<version>"`, the version a `u64`.
const ETAG_MAX: usize = r#""v""#.len() + u64::MAX.ilog10() as usize + 1;
/// The longest RFC 3339 time taken: nanoseconds and an offset (`2026-09-01T08:30:00.123456789+03:00`).
const TIME_MAX: usize = 35;

/// Writes `limit` into a schema (a JSON value of the document).
fn apply(limit: Limit, schema: &mut Value) {
    if let Limit::Component(name) = limit {
        *schema = serde_json::json!({"$ref": format!("#/components/schemas/{name}")});
        return;
    }
    let Some(fields) = schema.as_object_mut() else { return };
    let mut set = |k: &str, v: Value| _ = fields.insert(k.to_string(), v);
    match limit {
        Limit::Chars(0) => {}
        Limit::Chars(n) => set("maxLength", n.into()),
        Limit::Ulid => {
            set("maxLength", ID_LEN.into());
            set("pattern", format!("^[0-9A-Za-z]{{{ID_LEN}}}$").into());
        }
        Limit::User => {
            set("maxLength", MAX_USER_ID.into());
            set("pattern", "^[A-Za-z0-9._:|@-]+$".into());
        }
        Limit::Org => {
            set("maxLength", ORG_ID_LEN.into());
            set("pattern", format!("^[2-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{{{ORG_ID_LEN}}}$").into());
        }
        Limit::Time => {
            set("maxLength", TIME_MAX.into());
            set("format", "date-time".into());
        }
        Limit::Range(lo, hi) => {
            set("minimum", lo.into());
            set("maximum", hi.into());
        }
        Limit::Component(_) => {}
        Limit::Pattern(n, pattern) => {
            set("maxLength", n.into());
            set("pattern", pattern.into());
        }
        Limit::Format(n, format) => {
            set("maxLength", n.into());
            set("format", format.into());
        }
        Limit::OneOf(words) => set("enum", words.into()),
        Limit::Items(n, item) => {
            set("maxItems", n.into());
            if let Some(items) = fields.get_mut("items") {
                apply(*item, items);
            }
        }
    }
}

/// The properties of a component schema, its own and those of its inline `allOf` parts.
fn property_mut<'a>(schema: &'a mut Value, name: &str) -> Option<&'a mut Value> {
    if schema.get("properties").and_then(|p| p.get(name)).is_some() {
        return schema.get_mut("properties")?.get_mut(name);
    }
    schema.get_mut("allOf")?.as_array_mut()?.iter_mut().find_map(|part| part.get_mut("properties")?.get_mut(name))
}

/// Says the handlers' limits in the document: the request bodies' fields and the
/// parameters. Returns the limits that found nothing to apply to (a renamed field).
fn say_limits(doc: &mut Value) -> Vec<String> {
    let mut unused = Vec::new();
    for (schema, field, limit) in BODY_LIMITS {
        match doc.pointer_mut(&format!("/components/schemas/{schema}")).and_then(|s| property_mut(s, field)) {
            Some(property) => apply(*limit, property),
            None => unused.push(format!("{schema}.{field}")),
        }
    }
    let mut used = BTreeSet::new();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return unused };
    for op in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|item| item.values_mut()) {
        let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else { continue };
        for param in params {
            let found = PARAM_LIMITS.iter().find(|(place, name, _)| param["in"] == *place && param["name"] == *name);
            if let (Some((place, name, limit)), Some(schema)) = (found, param.get_mut("schema")) {
                apply(*limit, schema);
                used.insert((*place, *name));
            }
        }
    }
    unused
        .extend(PARAM_LIMITS.iter().filter(|(p, n, _)| !used.contains(&(*p, *n))).map(|(p, n, _)| format!("{p} {n}")));
    unused
}

/// The routes whose handler takes no body as `{}` (every field of theirs is optional).
const OPTIONAL_BODIES: &[&str] = &["invite-links-accept", "imports-create", "imports-start"];

/// The document's description: what holds everywhere, then every problem code.
fn description() -> String {
    let mut out = String::from(
        "The school community platform's API. Errors are RFC 9457 problem+json with a stable `code` \
         (and the `request_id` to quote); lists page with `cursor` and `limit`; creating POSTs honour \
         `Idempotency-Key`; edits take `If-Match` with the `ETag` read.\n\n\
         | code | status | meaning |\n| --- | --- | --- |\n",
    );
    for code in Code::ALL {
        out.push_str(&format!("| `{}` | {} | {} |\n", code.name(), code.status(), code.meaning()));
    }
    out
}

/// The audit entry's `action`: every [`AuditAction`] by family, from the enum the
/// handlers write them with (so the list cannot miss one).
fn say_audit_actions(json: &mut Value) {
    let mut families: Vec<Vec<String>> = Vec::new();
    let mut last = "";
    for a in AuditAction::ALL {
        if a.family() != last {
            families.push(Vec::new());
            last = a.family();
        }
        if let Some(family) = families.last_mut() {
            family.push(format!("`{}`", a.name()));
        }
    }
    let list: Vec<String> = families.iter().map(|f| f.join(", ")).collect();
    json["components"]["schemas"]["AuditView"]["properties"]["action"]["description"] =
        format!("What was done, one of: {}.", list.join("; ")).into();
}

/// The areas of the reference, in the order a front-end developer meets them.
pub const AREAS: &[(&str, &str)] = &[
    ("me", "The signed-in person: their profile, organizations, join requests and invitations."),
    ("orgs", "Organizations (schools): create, read, edit, leave."),
    ("classes", "Classes per academic year, graduation, promotion and the year's rollover."),
    ("members", "Members and their roles; adding people directly."),
    ("admins", "The organization's admins."),
    ("invite links", "Invitation links that people use to ask to join."),
    ("join requests", "Requests to join, which admins accept or reject."),
    ("invitations", "Email invitations."),
    ("groups", "Groups (communities, class groups) and their members."),
    ("courses", "Courses with their teachers and students."),
    ("discussions", "Threads, replies and announcements inside a group."),
    ("files", "A group's files: presigned uploads and downloads."),
    ("stats", "The organization in figures and its employees' activity."),
    ("exports", "Statistics as CSV or XLSX files, built asynchronously."),
    ("imports", "Roster imports from the school's e-journal (OneRoster 1.1) and its people."),
    ("notifications", "The caller's inbox and mail settings; one-click unsubscribe from emails."),
    ("audit", "The audit log of admins' actions."),
    ("meta", "This document."),
];

/// The first sentence of a description (up to the first `. `, `: ` or `; `), for lists.
fn first_sentence(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = [". ", ": ", "; ", " (", ", "].iter().filter_map(|p| text.find(p)).min().unwrap_or(text.len());
    text[..end].trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::{json, Value};

    fn doc() -> Value {
        serde_json::to_value(super::document()).unwrap()
    }

    /// Top-level fields an example may leave out: they appear only in another state than
    /// the one it shows.
    const ONLY_IN_ANOTHER_STATE: &[(&str, &str)] = &[
        // Added by `user_id`; `email` invites instead.
        ("AddMember", "email"),
        // Only for a request to link by journal login (the match: in admins' view).
        ("JoinRequestView", "roster_login"),
        ("JoinRequestView", "roster_match"),
        ("JoinRequestView", "roster_id"),
        // Only when it failed.
        ("ExportView", "failure"),
        ("ImportView", "failure"),
        // Only while it runs.
        ("ImportView", "progress"),
        // Either `up_to` or `ids`.
        ("MarkRead", "ids"),
    ];

    /// A request or answer body of an operation.
    struct Body {
        /// `PATCH /v1/me request`, `PATCH /v1/me 200`.
        at: String,
        /// The schema's name, `inline`, or `no schema`.
        name: String,
        schema: Option<Value>,
        examples: Vec<Value>,
    }

    /// The component a schema refers to, or the schema itself.
    fn resolved<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
            Some(name) => &doc["components"]["schemas"][name],
            None => schema,
        }
    }

    /// A media type's or a schema's examples.
    fn examples_of(v: &Value) -> Vec<Value> {
        let mut out: Vec<Value> = v.get("example").into_iter().cloned().collect();
        match v.get("examples") {
            Some(Value::Array(list)) => out.extend(list.iter().cloned()),
            Some(Value::Object(named)) => out.extend(named.values().filter_map(|e| e.get("value")).cloned()),
            _ => {}
        }
        out
    }

    /// Every request and answer body with its examples: the media type's, else its schema's.
    fn bodies(doc: &Value) -> Vec<Body> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let request = op["requestBody"]["content"].as_object().map(|c| ("request".to_string(), c));
                let answers = op["responses"].as_object().unwrap().iter();
                let answers = answers.filter_map(|(status, a)| Some((status.clone(), a["content"].as_object()?)));
                for (status, content) in request.into_iter().chain(answers) {
                    for media in content.values() {
                        let schema = media.get("schema").cloned();
                        let name = match &schema {
                            Some(s) => s["$ref"].as_str().map_or("inline", |r| r.rsplit('/').next().unwrap()),
                            None => "no schema",
                        };
                        let mut examples = examples_of(media);
                        if let (true, Some(s)) = (examples.is_empty(), &schema) {
                            examples = examples_of(resolved(doc, s));
                        }
                        let at = format!("{} {path} {status}", method.to_uppercase());
                        out.push(Body { at, name: name.to_string(), schema, examples });
                    }
                }
            }
        }
        out
    }

    /// The properties a schema declares at its top level, through `$ref` and `allOf`.
    fn top_level_properties(doc: &Value, schema: &Value) -> Vec<String> {
        let schema = resolved(doc, schema);
        let mut names: Vec<String> =
            schema["properties"].as_object().into_iter().flat_map(|p| p.keys().cloned()).collect();
        for part in schema["allOf"].as_array().into_iter().flatten() {
            names.extend(top_level_properties(doc, part));
        }
        names
    }

    /// Each limit of the tables names a field or parameter of the document (a renamed one
    /// would leave its limit unsaid), and lands there.
    #[test]
    fn every_limit_names_a_field_of_the_document() {
        let mut doc = doc();
        assert_eq!(super::say_limits(&mut doc), Vec::<String>::new());
        let name = &doc["components"]["schemas"]["PatchMe"]["properties"]["name"];
        assert_eq!(name["maxLength"], crate::domain::users::MAX_NAME);
        let org = doc["paths"]["/v1/orgs/{org}"]["get"]["parameters"][0].clone();
        assert_eq!(
            (org["name"].as_str(), org["schema"]["maxLength"].as_u64()),
            (Some("org"), Some(crate::domain::ids::ORG_ID_LEN as u64))
        );
    }

    #[test]
    fn every_body_has_an_example() {
        let doc = doc();
        let bodies = bodies(&doc);
        assert!(bodies.len() > 100, "{}", bodies.len());
        for b in bodies {
            assert!(!b.examples.is_empty(), "{}: {} has no example", b.at, b.name);
        }
    }

    #[test]
    fn every_example_matches_its_schema() {
        let doc = doc();
        let mut validators = BTreeMap::new();
        for b in bodies(&doc) {
            let Some(schema) = &b.schema else { continue };
            let validator = validators.entry(schema.to_string()).or_insert_with(|| {
                // The schema with the document's components, where its `$ref`s point.
                let mut root = schema.clone();
                root["components"] = doc["components"].clone();
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(true)
                    .build(&root)
                    .unwrap_or_else(|e| panic!("{}: {}: {e}", b.at, b.name))
            });
            for example in &b.examples {
                let errors: Vec<String> =
                    validator.iter_errors(example).map(|e| format!("{} at {}", e, e.instance_path())).collect();
                assert!(errors.is_empty(), "{}: {}'s example does not match it: {}", b.at, b.name, errors.join("; "));
            }
        }
    }

    #[test]
    fn every_example_shows_every_field() {
        let doc = doc();
        for b in bodies(&doc) {
            let Some(schema) = &b.schema else { continue };
            for example in b.examples.iter().filter_map(Value::as_object) {
                for field in top_level_properties(&doc, schema) {
                    let elsewhere = ONLY_IN_ANOTHER_STATE.contains(&(b.name.as_str(), field.as_str()));
                    assert!(
                        example.contains_key(&field) || elsewhere,
                        "{}: {}'s example has no `{field}`",
                        b.at,
                        b.name
                    );
                }
            }
        }
    }

    #[test]
    fn a_page_example_is_a_page_of_its_item_example() {
        let doc = doc();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let pages: Vec<_> = schemas.iter().filter(|(name, _)| name.starts_with("Page_")).collect();
        assert!(pages.len() > 10, "{}", pages.len());
        for (name, page) in pages {
            let item = &schemas[&name["Page_".len()..]]["example"];
            assert_eq!(page["example"]["items"], json!([item]), "{name}");
            let cursor = page["example"]["next_cursor"].as_str().unwrap_or_default();
            assert!(crate::page::Cursor::decode(cursor).is_ok(), "{name}: {cursor:?}");
        }
    }

    #[test]
    fn the_examples_are_of_one_school() {
        fn orgs(v: &Value, out: &mut BTreeSet<String>) {
            match v {
                Value::Object(map) => {
                    for (key, value) in map {
                        match (key.as_str(), value) {
                            ("org_id", Value::String(id)) => _ = out.insert(id.clone()),
                            ("org", Value::Object(org)) => out.extend(org["id"].as_str().map(String::from)),
                            _ => {}
                        }
                        orgs(value, out);
                    }
                }
                Value::Array(list) => list.iter().for_each(|v| orgs(v, out)),
                _ => {}
            }
        }
        let mut seen = BTreeSet::new();
        for b in bodies(&doc()) {
            b.examples.iter().for_each(|e| orgs(e, &mut seen));
        }
        assert_eq!(seen, BTreeSet::from(["k7m3xq9pza".to_string()]));
    }

    fn statuses(doc: &Value, path: &str, method: &str) -> Vec<String> {
        doc["paths"][path][method]["responses"].as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn every_problem_answer_is_problem_json() {
        let doc = doc();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (status, answer) in op["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        let schema = &answer["content"]["application/problem+json"]["schema"]["$ref"];
                        assert_eq!(schema, "#/components/schemas/Problem", "{method} {path} {status}");
                    }
                    if status == "429" || status == "503" {
                        assert!(answer["headers"]["Retry-After"].is_object(), "{method} {path}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_operation_is_in_an_area_of_the_reference_with_a_short_name() {
        let doc = doc();
        let areas: Vec<&str> = doc["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(areas[..4], ["me", "orgs", "classes", "members"]);
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let tag = op["tags"][0].as_str().unwrap_or_default();
                assert!(areas.contains(&tag), "{method} {path}: area {tag:?} not among {areas:?}");
                let summary = op["summary"].as_str().unwrap_or_default();
                assert!(!summary.is_empty() && summary.len() < 120, "{method} {path}: {summary:?}");
                assert!(op["description"].as_str().is_some_and(|d| d.len() >= summary.len()), "{method} {path}");
            }
        }
        assert_eq!(
            super::first_sentence("Reads the caller's profile, creating it on first use."),
            "Reads the caller's profile"
        );
    }

    #[test]
    fn every_problem_code_a_route_names_is_in_the_table() {
        let doc = doc();
        // Fields and values the descriptions quote that are not codes.
        let not_codes = ["errors", "linked"];
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (status, answer) in op["responses"].as_object().unwrap() {
                    if !(status.starts_with('4') || status.starts_with('5')) {
                        continue;
                    }
                    let text = answer["description"].as_str().unwrap_or_default();
                    for (i, word) in text.split('`').enumerate() {
                        let code_like =
                            i % 2 == 1 && !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                        if code_like && !not_codes.contains(&word) {
                            let listed = crate::http::Code::ALL.iter().find(|c| c.name() == word);
                            let listed = listed.unwrap_or_else(|| {
                                panic!("{method} {path} {status}: `{word}` is not a problem code (http::Code)")
                            });
                            assert_eq!(listed.status().to_string(), *status, "{method} {path}: `{word}`");
                        }
                    }
                }
            }
        }
        let description = doc["info"]["description"].as_str().unwrap();
        assert!(description.contains("| `last_admin` | 409 |"), "{description}");
    }

    #[test]
    fn answers_follow_the_route_class() {
        let doc = doc();
        // If-Match: 412 where a route reads it, 428 where it requires it.
        assert!(statuses(&doc, "/v1/orgs/{org}", "patch").contains(&"412".into()));
        assert!(!statuses(&doc, "/v1/me", "patch").contains(&"412".into()));
        let accept = statuses(&doc, "/v1/orgs/{org}/join-requests/{id}/accept", "post");
        assert!(accept.contains(&"412".into()) && accept.contains(&"428".into()));
        // Lists: a bad cursor, a bad limit; `limit`'s bounds.
        let list = statuses(&doc, "/v1/me/orgs", "get");
        assert!(list.contains(&"400".into()) && list.contains(&"422".into()));
        let limit = &doc["paths"]["/v1/me/orgs"]["get"]["parameters"][0];
        assert_eq!(limit["name"], "limit");
        assert_eq!((&limit["schema"]["minimum"], &limit["schema"]["maximum"]), (&Value::from(1), &Value::from(200)));
        // A path naming something outside an organization: 404.
        assert!(statuses(&doc, "/v1/invite-links/{token}/decline", "post").contains(&"404".into()));
        // Creating POSTs: `Idempotency-Key` still running.
        assert!(statuses(&doc, "/v1/orgs", "post").contains(&"409".into()));
        // A body: not JSON, too large.
        let body = statuses(&doc, "/v1/orgs", "post");
        assert!(body.contains(&"413".into()) && body.contains(&"415".into()));
        // A body is required, unless the handler takes none as `{}`.
        assert_eq!(doc["paths"]["/v1/orgs"]["post"]["requestBody"]["required"], true);
        let optional = &doc["paths"]["/v1/invite-links/{token}/accept"]["post"]["requestBody"];
        assert_eq!(optional["required"], false, "{optional}");
        for name in super::OPTIONAL_BODIES {
            assert!(crate::api::route(name).is_some(), "{name} is not a route");
        }
    }

    #[test]
    fn the_served_document_is_the_generated_one() {
        let committed = std::fs::read_to_string(format!("{}/../{}", env!("CARGO_MANIFEST_DIR"), super::PATH)).unwrap();
        assert!(
            committed == super::render().unwrap(),
            "{} differs from what the route table generates: run `make openapi` (or `make client`)",
            super::PATH
        );
        // The build script's compaction: the document's own compact form.
        assert!(crate::api::meta::SERVED == serde_json::to_vec(super::document()).unwrap().as_slice());
    }
}
