//! The OpenAPI 3.1 document, built from the route table: each route's operation comes
//! from its handler's `#[utoipa::path]`, the common problem answers are added here.

use std::sync::LazyLock;

use utoipa::openapi::path::{HttpMethod, Operation, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, ResponseBuilder,
    ServerBuilder,
};
use utoipa::{PartialSchema, ToSchema};

use crate::api::routes;
use crate::http::Problem;

static DOCUMENT: LazyLock<OpenApi> = LazyLock::new(build);

pub fn document() -> &'static OpenApi {
    &DOCUMENT
}

fn problem(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
        )
        .build()
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

fn build() -> OpenApi {
    let mut schemas = vec![(Problem::name().into_owned(), Problem::schema())];
    <Problem as ToSchema>::schemas(&mut schemas);
    let mut paths = PathsBuilder::new();
    for route in routes() {
        (route.schemas)(&mut schemas);
        let mut op: Operation = (route.operation)();
        op.operation_id = Some(route.name.replace('-', "_"));
        let responses = &mut op.responses.responses;
        let mut add = |status: &str, text: &str| {
            responses.entry(status.to_string()).or_insert_with(|| problem(text).into());
        };
        if route.auth {
            add("401", "No valid bearer token (`unauthorized`)");
        }
        if route.org_scoped {
            add("403", "A member lacking the right (`forbidden`)");
            add("404", "No such organization, or the caller is not a member (`not_found`)");
        }
        if op.request_body.is_some() {
            add("400", "Malformed JSON (`malformed_json`)");
            add("422", "Invalid fields (`validation_failed`, with `errors`)");
        }
        if route.method == http::Method::PATCH {
            add("412", "Stale `If-Match` (`precondition_failed`)");
        }
        add("500", "Internal error (`internal`), logged with the request ID");
        if let Some(body) = op.request_body.as_mut() {
            body.required = Some(utoipa::openapi::Required::True);
        }
        if !route.auth {
            op.security = Some(vec![SecurityRequirement::default()]);
        }
        paths = paths.path(route.path.clone(), PathItem::new(http_method(&route.method), op));
    }
    let mut components = ComponentsBuilder::new().security_scheme(
        "bearer",
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("An OIDC ID token (Cognito in AWS; a dev token locally)"))
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
                .description(Some(
                    "The school community platform's API. Errors are RFC 9457 problem+json with a stable `code`; lists page with `cursor` and `limit`.",
                ))
                .build(),
        )
        .servers(Some(vec![ServerBuilder::new().url("/").build()]))
        .paths(paths.build())
        .components(Some(components.build()))
        .build();
    doc.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    doc
}
