//! Lambda function for the route `admins-list` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("admins-list").await
}
