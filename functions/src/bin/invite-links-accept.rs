//! Lambda function for the route `invite-links-accept` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("invite-links-accept").await
}
