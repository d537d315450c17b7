//! Lambda function for the route `orgs-patch` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("orgs-patch").await
}
