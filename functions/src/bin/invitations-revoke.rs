//! Lambda function for the route `invitations-revoke` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("invitations-revoke").await
}
