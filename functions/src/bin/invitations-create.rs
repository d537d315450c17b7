//! Lambda function for the route `invitations-create` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("invitations-create").await
}
