//! Lambda function for the route `me-orgs-list` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("me-orgs-list").await
}
