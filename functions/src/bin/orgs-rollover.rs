//! Lambda function for the route `orgs-rollover` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("orgs-rollover").await
}
