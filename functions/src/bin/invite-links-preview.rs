//! Lambda function for the route `invite-links-preview` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("invite-links-preview").await
}
