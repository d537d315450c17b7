//! Lambda function for the route `me-join-requests-list` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("me-join-requests-list").await
}
