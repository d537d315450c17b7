//! Lambda function for the route `openapi-get` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("openapi-get").await
}
