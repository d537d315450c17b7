//! Lambda function for the route `me-invitations-decline` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("me-invitations-decline").await
}
