//! The docs artifact of kabinet: the API reference page (`GET /docs`) and its viewer's
//! script, embedded gzipped (`make docs-assets` writes it into target/docs), kept out of
//! the API's artifact.
static SCRIPT_GZ: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/docs/", kabinet::docs_script_file!(), ".gz"));

#[tokio::main]
async fn main() -> Result<(), kabinet::lambda::Error> {
    kabinet::lambda::docs_main(SCRIPT_GZ).await
}
