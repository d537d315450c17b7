//! Lambda function for the route `classes-graduate` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("classes-graduate").await
}
