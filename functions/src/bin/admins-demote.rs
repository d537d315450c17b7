//! Lambda function for the route `admins-demote` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("admins-demote").await
}
