//! Lambda function for the route `invitations-resend` of the route table.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run("invitations-resend").await
}
