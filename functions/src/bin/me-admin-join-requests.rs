//! Lambda function for the route `me-admin-join-requests` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("me-admin-join-requests").await
}
