//! Lambda function for the route `members-patch` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("members-patch").await
}
