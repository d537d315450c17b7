//! Lambda function for the route `invitations-list` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("invitations-list").await
}
