//! The OpenAPI document the functions serve (`GET /v1/openapi.json`): the committed one
//! (`assets/openapi.json`, pretty-printed for its diffs; `make openapi` writes it) with the
//! whitespace between its tokens dropped (about half the bytes on the wire), as static
//! bytes: nothing is built per request.

use std::error::Error;
use std::path::Path;

const DOCUMENT: &str = "assets/openapi.json";

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed={DOCUMENT}");
    let pretty = std::fs::read(DOCUMENT).map_err(|e| format!("{DOCUMENT}: {e} (make openapi writes it)"))?;
    let out = std::env::var("OUT_DIR")?;
    std::fs::write(Path::new(&out).join("openapi.json"), compact(&pretty))?;
    Ok(())
}

/// JSON without the whitespace outside its strings (which hold none unescaped).
fn compact(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in json {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            in_string = b == b'"';
            out.push(b);
        }
    }
    out
}
