//! The baseline of `make bench-coldstart`: the least a Rust `lambda_http` function does
//! (the runtime, one route answering a small JSON body), with kabinet's release profile.
use lambda_http::{service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_req: Request| async {
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::Text("{\"ok\":true}".into()))
            .map_err(Error::from)
    }))
    .await
}
