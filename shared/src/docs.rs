//! The API reference page (`GET /docs`, outside `/v1`): the page and the viewer it loads
//! (Scalar's standalone script, gzipped, under a path naming its version, so a new viewer
//! is never a stale cached one). The local gateway and the `docs` function answer with
//! these: the gateway reads the script from `target/docs`, the `kabinet-docs` artifact
//! embeds it (`scripts/docs_assets.sh` writes both files).

use std::sync::LazyLock;

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use sha2::Digest;

use crate::http::ApiResponse;

/// The viewer's file name in `target/docs` (its gzip adds `.gz`), as a literal for
/// `include_bytes!`. A test checks that `scripts/docs_assets.sh` fetches this version.
#[macro_export]
macro_rules! docs_script_file {
    () => {
        "scalar-1.76.4.js"
    };
}

pub const SCRIPT_FILE: &str = docs_script_file!();
pub const PAGE_PATH: &str = "/docs";
/// The page loads it relatively (`docs/<file>`): in AWS the stage prefixes both.
pub const SCRIPT_PATH: &str = concat!("/docs/", docs_script_file!());

const PAGE: &str = include_str!("../assets/docs.html");

/// What a path under `/docs` names; anything else is the API's 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asset {
    Page,
    Script,
}

impl Asset {
    pub fn of(path: &str) -> Option<Asset> {
        match path {
            PAGE_PATH => Some(Asset::Page),
            SCRIPT_PATH => Some(Asset::Script),
            _ => None,
        }
    }
}

/// Scripts: the viewer and the page's one inline script (by its digest), no eval (the
/// viewer only probes for it); styles: the viewer's, which it injects inline; images: the
/// page's empty icon; calls: the document and "try it", to this API only.
static PAGE_POLICY: LazyLock<String> = LazyLock::new(|| {
    let inline = PAGE.split("<script>").nth(1).and_then(|s| s.split("</script>").next()).unwrap_or_default();
    let digest = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(inline.as_bytes()));
    format!(
        "default-src 'none'; script-src 'self' 'sha256-{digest}'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
});

/// The page.
pub fn page() -> ApiResponse {
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    // Always revalidated: a page cached past a viewer upgrade would ask for a script no
    // longer served.
    headers.insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(policy) = HeaderValue::from_str(&PAGE_POLICY) {
        headers.insert(http::header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(http::header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    ApiResponse { status: StatusCode::OK, headers, body: Bytes::from_static(PAGE.as_bytes()) }
}

/// The viewer's script from its gzip, as is (every browser takes gzip); its path names
/// its version, so it is cached for a year.
pub fn script(gzipped: Bytes) -> ApiResponse {
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    headers.insert(http::header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    headers.insert(http::header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    headers.insert(http::header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    ApiResponse { status: StatusCode::OK, headers, body: gzipped }
}

/// The answer for `path`: the page, the script (`gzipped` gives it), or `None` (404).
pub fn answer(path: &str, gzipped: impl FnOnce() -> Bytes) -> Option<ApiResponse> {
    Some(match Asset::of(path)? {
        Asset::Page => page(),
        Asset::Script => script(gzipped()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(resp: &'a ApiResponse, name: &str) -> &'a str {
        resp.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    #[test]
    fn the_page_and_the_versioned_script_and_nothing_else() {
        let gz = Bytes::from_static(&[0x1f, 0x8b, 8, 0]);
        let page = answer("/docs", || unreachable!()).unwrap();
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&page, "x-content-type-options"), "nosniff");
        assert!(page.headers.get("content-encoding").is_none());
        let html = std::str::from_utf8(&page.body).unwrap();
        assert!(html.contains(&format!(r#"<script src="docs/{SCRIPT_FILE}"></script>"#)), "relative, versioned");
        // In AWS the stage prefixes every path: the page's are relative to where it is.
        assert!(!html.contains("src=\"/") && html.contains("url: base + '/v1/openapi.json'"));

        let script = answer(SCRIPT_PATH, || gz.clone()).unwrap();
        assert_eq!(SCRIPT_PATH, "/docs/scalar-1.76.4.js");
        assert_eq!(script.status, StatusCode::OK);
        assert_eq!(script.body, gz);
        assert_eq!(header(&script, "content-type"), "text/javascript; charset=utf-8");
        assert_eq!(header(&script, "content-encoding"), "gzip");
        assert_eq!(header(&script, "cache-control"), "public, max-age=31536000, immutable");
        assert_eq!(header(&script, "x-content-type-options"), "nosniff");

        for other in ["/docs/", "/docs/scalar.js", "/docs/scalar-1.76.3.js", "/docs/x", "/docs.html", "/v1/docs"] {
            assert!(answer(other, || unreachable!()).is_none(), "{other}");
        }
    }

    #[test]
    fn the_policy_allows_the_viewer_and_the_one_inline_script_only() {
        let page = page();
        let policy = header(&page, "content-security-policy");
        assert!(policy.starts_with("default-src 'none'; script-src 'self' 'sha256-"), "{policy}");
        assert!(!policy.contains("unsafe-eval") && !policy.contains("script-src 'self' 'unsafe-inline'"));
        assert!(policy.contains("connect-src 'self'") && policy.contains("frame-ancestors 'none'"));
        // The digest is of the page's one inline script, as the browser computes it.
        assert_eq!(PAGE.matches("<script").count(), 2);
        let inline = &PAGE[PAGE.find("<script>").unwrap() + 8..PAGE.rfind("</script>").unwrap()];
        let digest = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(inline.as_bytes()));
        assert!(policy.contains(&format!("'sha256-{digest}'")));
    }

    #[test]
    fn the_fetch_script_fetches_the_version_served() {
        let script = include_str!("../../scripts/docs_assets.sh");
        let version = SCRIPT_FILE.trim_start_matches("scalar-").trim_end_matches(".js");
        assert!(script.contains(&format!("\nVERSION={version}\n")), "scripts/docs_assets.sh fetches another version");
    }
}
