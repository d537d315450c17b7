//! Lambda function for the route `me-invitations-list` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("me-invitations-list").await
}
