//! The dashboard's browser bundle as the server sees it: the manifest `scripts/pack-site.mjs`
//! writes (`pkg/manifest.json`), and `/pkg`, which serves the packed files with their
//! brotli or gzip copy when the browser takes one, content-hashed names for a year as
//! `immutable`, anything else revalidated every time.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use tower_http::services::ServeDir;

/// What `pkg/manifest.json` says: the names Leptos and the shell link to, and each file's
/// size as built and as compressed (the bench prints them).
#[derive(Debug, Clone, Deserialize)]
pub struct Bundle {
    /// Leptos's output name: the glue is `<output_name>.js`, the wasm
    /// `<output_name>_bg.wasm`.
    pub output_name: String,
    pub js: BundleFile,
    pub wasm: BundleFile,
    pub css: BundleFile,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BundleFile {
    pub file: String,
    pub bytes: u64,
    pub gzip_bytes: u64,
    pub brotli_bytes: u64,
}

pub const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";
pub const REVALIDATE: &str = "no-cache";

impl Bundle {
    /// Reads and checks `<site_root>/pkg/manifest.json`: every name it gives must be a
    /// content-hashed one, and present with its compressed copies.
    pub fn load(site_root: &Path) -> Result<Bundle, String> {
        let pkg = site_root.join("pkg");
        let path = pkg.join("manifest.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let bundle: Bundle =
            serde_json::from_str(&text).map_err(|e| format!("reading {}: {e}", path.display()))?;
        if bundle.js.file != format!("{}.js", bundle.output_name)
            || bundle.wasm.file != format!("{}_bg.wasm", bundle.output_name)
        {
            return Err(format!(
                "{}: the glue and the wasm are not named after output_name {:?}",
                path.display(),
                bundle.output_name
            ));
        }
        for f in [&bundle.js, &bundle.wasm, &bundle.css] {
            if !is_content_hashed(&f.file) {
                return Err(format!(
                    "{}: {:?} is not a packed file name",
                    path.display(),
                    f.file
                ));
            }
            for name in [
                f.file.clone(),
                format!("{}.br", f.file),
                format!("{}.gz", f.file),
            ] {
                if !pkg.join(&name).is_file() {
                    return Err(format!("{} names {name}, which is missing", path.display()));
                }
            }
        }
        Ok(bundle)
    }
}

/// `hookline-<16 hex>.js`, `hookline-<16 hex>_bg.wasm` or `hookline-<16 hex>.css`: a name
/// that changes whenever the content does.
pub fn is_content_hashed(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("hookline-") else {
        return false;
    };
    let (Some(hash), Some(suffix)) = (rest.get(..16), rest.get(16..)) else {
        return false;
    };
    hash.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && matches!(suffix, ".js" | "_bg.wasm" | ".css")
}

/// `/pkg/*` from `<site_root>/pkg`. A miss is a plain 404, never the dashboard's page.
pub fn router<S: Clone + Send + Sync + 'static>(site_root: &Path) -> Router<S> {
    let dir: PathBuf = site_root.join("pkg");
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false);
    Router::new()
        .nest_service("/pkg", files)
        .layer(axum::middleware::from_fn(cache_headers))
}

async fn cache_headers(req: Request, next: Next) -> Response {
    let hashed = req
        .uri()
        .path()
        .rsplit('/')
        .next()
        .is_some_and(is_content_hashed);
    let mut res = next.run(req).await;
    let value = match res.status() {
        StatusCode::OK | StatusCode::NOT_MODIFIED | StatusCode::PARTIAL_CONTENT if hashed => {
            CACHE_FOREVER
        }
        _ => REVALIDATE,
    };
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    // The same URL answers brotli, gzip or identity: a shared cache must key on it.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    res
}

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn only_packed_names_count_as_content_hashed() {
        for name in [
            "hookline-0123456789abcdef.js",
            "hookline-0123456789abcdef_bg.wasm",
            "hookline-fedcba9876543210.css",
        ] {
            assert!(is_content_hashed(name), "{name}");
        }
        for name in [
            "hookline.js",
            "hookline_bg.wasm",
            "manifest.json",
            "hookline-0123456789ABCDEF.js",
            "hookline-0123456789abcde.js",
            "hookline-0123456789abcdef0.js",
            "hookline-0123456789abcdef.js.br",
            "hookline-0123456789abcdef.html",
            "other-0123456789abcdef.js",
            "hookline-",
            "hookline-ééééééééé.js",
        ] {
            assert!(!is_content_hashed(name), "{name}");
        }
    }
}
