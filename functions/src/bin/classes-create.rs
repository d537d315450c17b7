//! Lambda function for the route `classes-create` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("classes-create").await
}
