//! Lambda function for the route `orgs-leave` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("orgs-leave").await
}
