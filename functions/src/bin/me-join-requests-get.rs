//! Lambda function for the route `me-join-requests-get` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("me-join-requests-get").await
}
