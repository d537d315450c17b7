//! Lambda function consuming the table's stream: sends the notification emails of
//! outbox events.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::run_notifier().await
}
