//! The local gateway: every route of the route table over HTTP, with CORS, dev-token
//! checks, and 404/405 for what no route serves, all as problem+json.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use kabinet::api::{dispatch, find};
use kabinet::http::{ApiError, ApiRequest, ApiResponse};
use kabinet::Ctx;
use tokio::net::TcpListener;

use crate::tokens;

/// Largest request body the gateway reads (API Gateway's limit is 10 MB; ours is JSON).
const MAX_BODY: usize = 1024 * 1024;

pub struct Gateway {
    ctx: Ctx,
    jwt_secret: String,
    /// Allowed browser origins; `*` allows any (bearer tokens, no cookies).
    cors_origins: Vec<String>,
    /// The emulator, for `/_local/mail` (local mode only, outside `/v1`).
    emulator: Option<String>,
    /// The API reference viewer's script, gzipped, for `/docs` (outside `/v1`).
    docs: Option<std::path::PathBuf>,
}

impl Gateway {
    pub fn new(ctx: Ctx, jwt_secret: String, cors_origins: Vec<String>) -> Self {
        Gateway { ctx, jwt_secret, cors_origins, emulator: None, docs: None }
    }

    /// Serves the sent mail at `/_local/mail` (JSON) and `/_local/mail.html`.
    pub fn with_local_mail(mut self, emulator: &str) -> Self {
        self.emulator = Some(emulator.to_string());
        self
    }

    /// Serves the API reference page at `/docs` as the `docs` function does in AWS, with
    /// the viewer's gzipped script read from `script` at each request
    /// (`scripts/docs_assets.sh` puts it in `target/docs`).
    pub fn with_docs(mut self, script: std::path::PathBuf) -> Self {
        self.docs = Some(script);
        self
    }

    fn cors_origin(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        let origin = origin?.to_str().ok()?;
        if self.cors_origins.iter().any(|o| o == "*" || o == origin) {
            HeaderValue::from_str(origin).ok()
        } else {
            None
        }
    }

    pub async fn handle(&self, req: http::Request<Incoming>) -> http::Response<Full<Bytes>> {
        let origin = self.cors_origin(req.headers().get(http::header::ORIGIN));
        let mut resp = if req.method() == Method::OPTIONS {
            preflight(origin.is_some())
        } else if let (Some(emulator), true) = (&self.emulator, req.uri().path().starts_with("/_local/mail")) {
            local_mail(emulator, req.uri().path()).await
        } else if let (Some(script), Some(asset), &Method::GET) =
            (&self.docs, kabinet::docs::Asset::of(req.uri().path()), req.method())
        {
            docs(script, asset).await
        } else {
            to_http(self.route(req).await)
        };
        if let Some(origin) = origin {
            let h = resp.headers_mut();
            h.insert("access-control-allow-origin", origin);
            h.insert("access-control-expose-headers", HeaderValue::from_static("ETag, Location, X-Request-Id"));
            h.insert("vary", HeaderValue::from_static("Origin"));
        }
        resp
    }

    async fn route(&self, req: http::Request<Incoming>) -> ApiResponse {
        let request_id = ulid::Ulid::new().to_string();
        self.route_with_id(req, &request_id).await.with_header("x-request-id", &request_id)
    }

    async fn route_with_id(&self, req: http::Request<Incoming>, request_id: &str) -> ApiResponse {
        let request_id = request_id.to_string();
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_string();
        let (route, params) = match find(&parts.method, &path) {
            Ok(found) => found,
            Err(e) => return ApiResponse::problem(&e, &request_id),
        };
        let body = match Limited::new(body, MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return ApiResponse::problem(&ApiError::PayloadTooLarge, &request_id),
        };
        let mut api = ApiRequest::new(parts.method.clone(), path.clone());
        api.request_id = request_id.clone();
        api.path_params = params.into_iter().collect();
        api.query = parts
            .uri
            .query()
            .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        if route.auth {
            // As API Gateway's JWT authorizer: no valid token, no call.
            let token = parts
                .headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")));
            match token.map(|t| tokens::verify(&self.jwt_secret, t.trim())) {
                Some(Ok(claims)) => api.claims = Some(claims),
                Some(Err(why)) => return unauthorized(&request_id, why),
                None => return unauthorized(&request_id, "send `Authorization: Bearer <ID token>`".into()),
            }
        }
        api.headers = parts.headers;
        api.body = body;
        crate::access::serving(route.name, route.access, dispatch(&self.ctx, route, api)).await
    }
}

/// The API reference page and its viewer's script, the same answers as the `docs`
/// function's in AWS (`kabinet::docs`): the script gzipped, as the artifact embeds it.
async fn docs(script: &std::path::Path, asset: kabinet::docs::Asset) -> http::Response<Full<Bytes>> {
    match asset {
        kabinet::docs::Asset::Page => to_http(kabinet::docs::page()),
        kabinet::docs::Asset::Script => match tokio::fs::read(script).await {
            Ok(gzipped) => to_http(kabinet::docs::script(gzipped.into())),
            Err(e) => {
                let mut resp = http::Response::new(Full::new(Bytes::from(format!(
                    "the viewer's script is missing ({e}): run scripts/docs_assets.sh"
                ))));
                *resp.status_mut() = StatusCode::NOT_FOUND;
                resp.headers_mut()
                    .insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
                resp
            }
        },
    }
}

fn unauthorized(request_id: &str, why: String) -> ApiResponse {
    let mut resp = ApiResponse::problem(&ApiError::Unauthorized("no valid bearer token"), request_id);
    if let Ok(mut problem) = serde_json::from_slice::<serde_json::Value>(&resp.body) {
        problem["detail"] = serde_json::Value::String(format!("Sign in first: {why}."));
        resp.body = serde_json::to_vec(&problem).unwrap_or_default().into();
    }
    resp.with_header("www-authenticate", "Bearer")
}

async fn local_mail(emulator: &str, path: &str) -> http::Response<Full<Bytes>> {
    let list = match crate::mail::fetch(emulator).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "reading the emulator's mail");
            return to_http(ApiResponse::problem(&ApiError::internal(e), "local-mail"));
        }
    };
    let (body, content_type) = if path.ends_with(".html") {
        (crate::mail::page(&list).into_bytes(), "text/html; charset=utf-8")
    } else {
        (serde_json::to_vec(&list).unwrap_or_default(), "application/json")
    };
    let mut resp = http::Response::new(Full::new(Bytes::from(body)));
    resp.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

fn preflight(allowed: bool) -> http::Response<Full<Bytes>> {
    let mut resp = http::Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::NO_CONTENT;
    if allowed {
        let h = resp.headers_mut();
        h.insert("access-control-allow-methods", HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"));
        h.insert(
            "access-control-allow-headers",
            HeaderValue::from_static("Authorization, Content-Type, If-Match, Idempotency-Key"),
        );
        h.insert("access-control-max-age", HeaderValue::from_static("600"));
    }
    resp
}

fn to_http(resp: ApiResponse) -> http::Response<Full<Bytes>> {
    let mut out = http::Response::new(Full::new(resp.body));
    *out.status_mut() = resp.status;
    *out.headers_mut() = resp.headers;
    out
}

/// Serves the gateway on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, gateway: Gateway) {
    let gateway = Arc::new(gateway);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let gateway = gateway.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let gateway = gateway.clone();
                async move { Ok::<_, Infallible>(gateway.handle(req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
