//! The browser bundle as served: packed by the real `scripts/pack-site.mjs` (content-hashed
//! names, brotli and gzip made at build time), linked from the page by those names, sent
//! compressed as the browser accepts, cached for a year as `immutable` when the name is a
//! content hash, revalidated otherwise. Database-independent: SQLite only.

use crate::helpers::{Backend, TempDir, client, fresh_db_url, spawn_app_with};
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use serde_json::Value;
use std::path::Path;

const PACK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pack-site.mjs");

/// A staged build with a wasm of `seed`'s content.
fn stage(dir: &Path, seed: u8) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("hookline.js"),
        "export default async function init() {}\nexport function hydrate() {}\n",
    )
    .unwrap();
    // Compressible like a real wasm: repeated sections with some variety.
    let wasm: Vec<u8> = (0..200_000u32)
        .map(|i| (i % 251) as u8 ^ seed ^ ((i / 997) as u8))
        .collect();
    std::fs::write(dir.join("hookline_bg.wasm"), wasm).unwrap();
    std::fs::write(dir.join("hookline.css"), "body { margin: 0 }\n".repeat(50)).unwrap();
}

fn pack(stage: &Path, pkg: &Path) -> Value {
    let out = std::process::Command::new("node")
        .arg(PACK)
        .arg(stage)
        .arg(pkg)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "pack-site: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(pkg.join("manifest.json")).unwrap()).unwrap()
}

fn file(manifest: &Value, key: &str) -> String {
    manifest[key]["file"].as_str().unwrap().to_owned()
}

async fn get(url: &str, encoding: Option<&str>) -> reqwest::Response {
    let mut req = client().get(url);
    if let Some(e) = encoding {
        req = req.header(ACCEPT_ENCODING, e);
    }
    req.send().await.unwrap()
}

/// The status line and headers of a GET with `path` exactly as given.
async fn raw_get(addr: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn header(res: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_bundle_goes_out_compressed_under_content_hashed_names_cached_for_good() {
    let dir = std::sync::Arc::new(TempDir::new());
    let (staged, site) = (dir.0.join("stage"), dir.0.join("site"));
    stage(&staged, 0);
    let manifest = pack(&staged, &site.join("pkg"));
    let url = fresh_db_url(Backend::Sqlite, &dir);
    let app = spawn_app_with(url, dir.clone(), |a| {
        a.site_root = site.display().to_string()
    })
    .await;

    // The page links the packed names, nothing else.
    let page = get(&app.url("/login"), None).await.text().await.unwrap();
    let (js, wasm, css) = (
        file(&manifest, "js"),
        file(&manifest, "wasm"),
        file(&manifest, "css"),
    );
    let output_name = manifest["output_name"].as_str().unwrap();
    assert_eq!(js, format!("{output_name}.js"));
    assert_eq!(wasm, format!("{output_name}_bg.wasm"));
    for name in [&js, &wasm, &css] {
        assert!(
            page.contains(&format!("/pkg/{name}")),
            "{name} not linked: {page}"
        );
    }
    assert!(!page.contains("/pkg/hookline.css") && !page.contains("/pkg/hookline.js"));

    // Each encoding the browser takes, byte for byte what the build made.
    let pkg = site.join("pkg");
    let raw = std::fs::read(staged.join("hookline_bg.wasm")).unwrap();
    for (accept, encoding, bytes) in [
        (
            Some("gzip, deflate, br, zstd"),
            "br",
            std::fs::read(pkg.join(format!("{wasm}.br"))),
        ),
        (
            Some("gzip"),
            "gzip",
            std::fs::read(pkg.join(format!("{wasm}.gz"))),
        ),
        (None, "", Ok(raw.clone())),
    ] {
        let res = get(&app.url(&format!("/pkg/{wasm}")), accept).await;
        assert_eq!(res.status(), 200, "{accept:?}");
        assert_eq!(header(&res, CONTENT_ENCODING), encoding, "{accept:?}");
        assert_eq!(header(&res, CONTENT_TYPE), "application/wasm");
        assert_eq!(
            header(&res, CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
        assert!(
            header(&res, VARY)
                .to_ascii_lowercase()
                .contains("accept-encoding")
        );
        let body = res.bytes().await.unwrap();
        assert_eq!(body.as_ref(), bytes.unwrap().as_slice(), "{accept:?}");
    }
    let br = std::fs::metadata(pkg.join(format!("{wasm}.br")))
        .unwrap()
        .len() as usize;
    assert!(br * 4 < raw.len(), "brotli {br} of {} bytes", raw.len());
    assert_eq!(manifest["wasm"]["bytes"], raw.len());
    assert_eq!(manifest["wasm"]["brotli_bytes"], br);

    for name in [&js, &css] {
        let res = get(&app.url(&format!("/pkg/{name}")), Some("br")).await;
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, CONTENT_ENCODING), "br");
        assert_eq!(
            header(&res, CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
    }

    // A name that is not a content hash is revalidated; a miss under /pkg is a plain 404,
    // and nothing outside pkg/ is reachable through it.
    let res = get(&app.url("/pkg/manifest.json"), None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, CACHE_CONTROL), "no-cache");
    for path in [
        "/pkg/hookline.js",
        "/pkg/hookline-0123456789abcdef.js",
        "/pkg/",
    ] {
        let res = get(&app.url(path), Some("br")).await;
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(header(&res, CACHE_CONTROL), "no-cache", "{path}");
    }
    // Sent as written (an HTTP client would normalise the dots away).
    let addr = app.base.trim_start_matches("http://").to_owned();
    for path in [
        "/pkg/../stage/hookline.js",
        "/pkg/%2e%2e/stage/hookline.js",
        "/pkg/..%2fstage/hookline.js",
    ] {
        let head = raw_get(&addr, path).await;
        assert!(
            head.starts_with("HTTP/1.1 404") || head.starts_with("HTTP/1.1 400"),
            "{path}: {head}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn packing_again_reuses_unchanged_files_and_keeps_one_previous_generation() {
    let dir = TempDir::new();
    let (staged, pkg) = (dir.0.join("stage"), dir.0.join("pkg"));
    stage(&staged, 0);
    let first = pack(&staged, &pkg);
    let br = pkg.join(format!("{}.br", file(&first, "wasm")));
    let written = std::fs::metadata(&br).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));

    // Unchanged: the same names, the compressed copies not made again.
    let again = pack(&staged, &pkg);
    assert_eq!(again, first);
    assert_eq!(std::fs::metadata(&br).unwrap().modified().unwrap(), written);

    // A new wasm renames the glue and the wasm together; the stylesheet keeps its name.
    stage(&staged, 1);
    let second = pack(&staged, &pkg);
    assert_ne!(second["output_name"], first["output_name"]);
    assert_eq!(file(&second, "css"), file(&first, "css"));
    // The previous generation stays for pages loaded before a restart ...
    assert!(pkg.join(file(&first, "wasm")).exists());
    // ... and one generation only.
    stage(&staged, 2);
    let third = pack(&staged, &pkg);
    for gone in [file(&first, "wasm"), file(&first, "js")] {
        for suffix in ["", ".br", ".gz"] {
            assert!(
                !pkg.join(format!("{gone}{suffix}")).exists(),
                "{gone}{suffix}"
            );
        }
    }
    assert!(pkg.join(file(&second, "wasm")).exists());
    assert!(pkg.join(format!("{}.gz", file(&third, "wasm"))).exists());
}

#[tokio::test]
async fn without_a_packed_bundle_pages_still_render() {
    let dir = std::sync::Arc::new(TempDir::new());
    let url = fresh_db_url(Backend::Sqlite, &dir);
    let empty = dir.0.join("no-site");
    let app = spawn_app_with(url, dir.clone(), |a| {
        a.site_root = empty.display().to_string()
    })
    .await;
    let res = get(&app.url("/login"), None).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("/pkg/hookline.css"));
    app.stop().await;
}
