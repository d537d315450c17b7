//! Lambda function for the route `classes-patch` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("classes-patch").await
}
