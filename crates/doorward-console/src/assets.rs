//! The single-page app: files embedded in the binary (`web/`), served
//! under names that carry their content's hash so a browser may keep them
//! for a year, and a page that names them and is never cached.
//!
//! No file refers to anything outside the console's own origin, and the
//! Content Security Policy every answer carries allows nothing else: no
//! inline script or style, no CDN, no frame.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::extract::{OriginalUri, Path};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest as _, Sha256};

use crate::Console;

#[derive(rust_embed::RustEmbed)]
#[folder = "web/"]
struct Web;

/// The Content Security Policy of every answer, pages and API alike.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    frame-ancestors 'none'; form-action 'self'";

struct Built {
    /// `index.html` with every `{{name}}` replaced by its hashed path.
    index: String,
    /// Hashed name → (content, media type).
    files: HashMap<String, (Vec<u8>, &'static str)>,
}

fn media_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

static BUILT: LazyLock<Built> = LazyLock::new(|| {
    let mut files = HashMap::new();
    let mut index = Web::get("index.html")
        .map(|f| String::from_utf8_lossy(&f.data).into_owned())
        .unwrap_or_default();
    for name in Web::iter().filter(|n| n != "index.html") {
        let Some(file) = Web::get(&name) else {
            continue;
        };
        let hash = hex::encode(&Sha256::digest(&file.data)[..6]);
        let hashed = match name.rsplit_once('.') {
            Some((stem, ext)) => format!("{stem}-{hash}.{ext}"),
            None => format!("{name}-{hash}"),
        };
        index = index.replace(
            &format!("{{{{{name}}}}}"),
            &format!("{{{{base}}}}assets/{hashed}"),
        );
        files.insert(hashed, (file.data.into_owned(), media_type(&name)));
    }
    Built { index, files }
});

pub(crate) fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/", get(index))
        .route("/assets/{name}", get(asset))
}

/// The app's page, naming its files and its API under the path the
/// console is mounted at (a nested router sees its own path, the request
/// the whole one), so it works at `/`, `/admin` or `/admin/`.
async fn index(OriginalUri(original): OriginalUri, uri: axum::http::Uri) -> Response {
    let whole = original.path();
    let base = whole.strip_suffix(uri.path()).unwrap_or(whole);
    let base = format!("{}/", base.trim_end_matches('/'));
    if base.contains(['"', '<', '>', '&', '\'', '\\']) {
        return StatusCode::NOT_FOUND.into_response();
    }
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
        ],
        BUILT.index.replace("{{base}}", &base),
    )
        .into_response()
}

async fn asset(Path(name): Path<String>) -> Response {
    match BUILT.files.get(&name) {
        Some((data, media)) => (
            [
                (CONTENT_TYPE, *media),
                (CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            data.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The headers every answer carries.
pub(crate) async fn harden(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let fixed: [(&str, &str); 5] = [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    headers
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The hashed path of an embedded file, as the page names it (for tests).
pub fn asset_paths() -> Vec<String> {
    let mut paths: Vec<String> = BUILT.files.keys().map(|n| format!("assets/{n}")).collect();
    paths.sort();
    paths
}
