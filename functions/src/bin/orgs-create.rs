//! Lambda function for the route `orgs-create` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("orgs-create").await
}
