//! Lambda function for the route `invite-links-decline` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("invite-links-decline").await
}
