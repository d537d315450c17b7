//! Lambda function for the route `admins-appoint` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("admins-appoint").await
}
