//! The worker artifact of kabinet: the stream consumers that carry the file formats (the
//! exporter), kept out of the API's artifact so that its cold starts stay small.
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::worker_main().await
}
