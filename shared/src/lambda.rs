//! Runs one route of the route table as a Lambda function behind API Gateway (HTTP API,
//! payload 2.0). The claims come from the JWT authorizer in the request context.

use std::collections::HashMap;

use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};

use crate::api::{dispatch, route};
use crate::http::{ApiRequest, Claims};
use crate::Ctx;

pub use lambda_http::Error;

/// The whole main of a function: `kabinet::lambda::run("orgs-create")`.
pub async fn run(route_name: &'static str) -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let route = route(route_name).ok_or_else(|| format!("no route named {route_name}"))?;
    let ctx = Ctx::from_env().await;
    lambda_http::run(lambda_http::service_fn(move |event: lambda_http::Request| {
        let ctx = ctx.clone();
        async move {
            let req = from_lambda(event);
            let resp = dispatch(&ctx, route, req).await;
            let mut out = lambda_http::Response::builder().status(resp.status);
            for (k, v) in resp.headers.iter() {
                out = out.header(k, v);
            }
            out.body(if resp.body.is_empty() { Body::Empty } else { Body::Binary(resp.body.to_vec()) })
                .map_err(|e| -> lambda_http::Error { e.into() })
        }
    }))
    .await
}

/// API Gateway's request as the handlers see it.
pub fn from_lambda(event: lambda_http::Request) -> ApiRequest {
    let context = event.request_context_ref().cloned();
    let path_params: HashMap<String, String> =
        event.path_parameters_ref().map(|p| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap_or_default();
    let query: Vec<(String, String)> = event
        .query_string_parameters_ref()
        .map(|q| q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        .unwrap_or_default();
    let (parts, body) = event.into_parts();
    let mut req = ApiRequest::new(parts.method, parts.uri.path());
    req.headers = parts.headers;
    req.path_params = path_params;
    req.query = query;
    req.body = match body {
        Body::Empty => bytes::Bytes::new(),
        Body::Text(t) => t.into(),
        Body::Binary(b) => b.into(),
        _ => bytes::Bytes::new(),
    };
    if let Some(RequestContext::ApiGatewayV2(ctx)) = context {
        if let Some(id) = ctx.request_id.clone() {
            req.request_id = id;
        }
        let claims = ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|jwt| jwt.claims.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect::<serde_json::Map<_, _>>());
        req.claims = claims.as_ref().and_then(Claims::from_json);
    }
    req
}
