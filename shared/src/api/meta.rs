//! The API's own description.

use crate::http::{ApiError, ApiRequest, ApiResponse};
use crate::Ctx;

/// The document as `GET /v1/openapi.json` serves it: generated ahead of time (`make
/// openapi`) and committed at `shared/assets/openapi.json`, compacted by the build
/// script; the functions serve static bytes and link none of the building. A test of
/// `crate::openapi` fails when the committed file differs from what the route table gives.
pub static SERVED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/openapi.json"));

/// The OpenAPI 3.1 document of this API, generated from the route table.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json",
               example = json!({
                   "openapi": "3.1.0",
                   "info": {"title": "kabinet API", "version": "0.1.0"},
                   "servers": [{"url": "/"}],
                   "paths": {"/v1/me": {"get": {
                       "tags": ["me"],
                       "summary": "Reads the caller's profile",
                       "operationId": "me_get",
                       "responses": {"200": {"description": "The caller's profile"}}
                   }}},
                   "components": {"schemas": {}}
               }))))]
pub async fn openapi(_ctx: Ctx, _req: ApiRequest) -> Result<ApiResponse, ApiError> {
    // Generated ahead of time (`make openapi`): static bytes, nothing built per request.
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    let body = bytes::Bytes::from_static(SERVED);
    Ok(ApiResponse { status: http::StatusCode::OK, headers, body }.with_header("cache-control", "public, max-age=300"))
}
