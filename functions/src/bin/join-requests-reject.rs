//! Lambda function for the route `join-requests-reject` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("join-requests-reject").await
}
