//! The worker artifact of kabinet: the stream consumers that carry the file formats (the
//! exporter, which writes CSV and XLSX, and the importer, which reads the journal's
//! OneRoster zip), kept out of the API's artifact so that its cold starts stay small. Its
//! `Handler` names which of the two a function runs (`kabinet::lambda::Function`).
#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::worker_main().await
}
