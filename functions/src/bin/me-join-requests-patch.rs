//! Lambda function for the route `me-join-requests-patch` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("me-join-requests-patch").await
}
