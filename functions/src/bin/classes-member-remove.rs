//! Lambda function for the route `classes-member-remove` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("classes-member-remove").await
}
