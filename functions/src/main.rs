//! The one Lambda artifact of kabinet: every function in the template runs this binary,
//! and its `Handler` setting names the route or stream consumer it serves.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::main().await
}
