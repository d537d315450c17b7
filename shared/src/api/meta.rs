//! The API's own description.

use crate::http::{ApiError, ApiRequest, ApiResponse};
use crate::Ctx;

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
    let body = bytes::Bytes::from_static(crate::openapi::SERVED);
    Ok(ApiResponse { status: http::StatusCode::OK, headers, body }.with_header("cache-control", "public, max-age=300"))
}
