//! Lambda function on API Gateway's `$default` route: 404/405 as problem+json.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run_fallback().await
}
