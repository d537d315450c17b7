//! Lambda function for the route `invite-links-revoke` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("invite-links-revoke").await
}
