//! The API's own description.

use crate::http::{ApiError, ApiRequest, ApiResponse};
use crate::Ctx;

/// The OpenAPI 3.1 document of this API, generated from the route table.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi(_ctx: Ctx, _req: ApiRequest) -> Result<ApiResponse, ApiError> {
    Ok(ApiResponse::json(http::StatusCode::OK, crate::openapi::document())?
        .with_header("cache-control", "public, max-age=300"))
}
