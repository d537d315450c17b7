//! The local stack: the AWS emulator, the resources the template declares, and a gateway
//! that serves every route of the route table with the same handler code the Lambda
//! functions run, checking dev ID tokens as API Gateway checks Cognito's.

pub mod access;
pub mod cost;
pub mod emulator;
pub mod gateway;
pub mod mail;
pub mod seed;
pub mod setup;
pub mod streams;
pub mod template;
pub mod tokens;

pub use emulator::Emulator;
pub use gateway::{serve, Gateway};

/// Where `scripts/docs_assets.sh` puts the API reference viewer's script gzipped (the
/// workspace's `target/docs`), which the gateway serves at `kabinet::docs::SCRIPT_PATH`.
pub fn docs_script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/docs")
        .join(format!("{}.gz", kabinet::docs::SCRIPT_FILE))
}
