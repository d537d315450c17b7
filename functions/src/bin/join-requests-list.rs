//! Lambda function for the route `join-requests-list` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("join-requests-list").await
}
