//! Portal links (the first part of the tenant portal): created over REST and with the CLI,
//! signed with a key derived from the master key, listed, revoked and audited; a token is
//! honoured only while it is untampered, signed by this installation, unexpired and
//! unrevoked.

use crate::helpers::*;
use app::backend::access::portal_links::PortalRefusal;
use app::types::portal::PortalCapability;
use reqwest::{Method, StatusCode};
use serde_json::json;

crate::on_both_backends!(
    a_link_is_created_verified_listed_and_revoked,
    bad_requests_for_a_link_are_refused_naming_the_field,
    a_link_from_the_cli_opens_what_the_server_signs,
);

fn token_of(url: &str) -> String {
    url.split_once("?link=")
        .expect("the URL carries the link")
        .1
        .to_owned()
}

async fn a_link_is_created_verified_listed_and_revoked(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(app::types::ApiKeyScope::Admin).await;
    let before = app::backend::now_ms();
    let (status, made) = api(
        Method::POST,
        app.url("/api/v1/portal-links"),
        Some(&key),
        Some(json!({"tenant": "acme", "capabilities": ["test_fire", "manage_endpoints", "test_fire"], "expires_in": "7d"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["tenant"], "acme");
    assert_eq!(
        made["capabilities"],
        json!(["view", "manage_endpoints", "test_fire"])
    );
    assert_eq!(made["read_only"], false);
    let url = made["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/portal?link=hlp_", app.base)),
        "{url}"
    );
    let id = made["id"].as_str().unwrap().to_owned();

    // What the token grants, checked by the server that signed it.
    let token = token_of(url);
    let links = &app.state.portal_links;
    let grant = links.verify(&token).await.expect("a fresh link opens");
    assert_eq!(grant.link.as_str(), id);
    assert_eq!(grant.tenant, "acme");
    assert!(grant.allows(PortalCapability::TestFire) && grant.allows(PortalCapability::View));
    assert!(!grant.allows(PortalCapability::Secrets) && !grant.allows(PortalCapability::Replay));
    let week = 7 * 86_400_000;
    assert!((before + week..=app::backend::now_ms() + week).contains(&grant.expires_at.0));

    // Altered anywhere, or signed under another master key, it opens nothing.
    let (payload, signature) = token.split_once('.').unwrap();
    let mut flipped = payload.as_bytes().to_vec();
    let at = flipped.len() / 2;
    flipped[at] = if flipped[at] == b'A' { b'B' } else { b'A' };
    let flipped = format!("{}.{signature}", String::from_utf8(flipped).unwrap());
    let other = app::backend::access::portal_links::PortalLinks::new(
        app.state.db.clone(),
        &app::backend::crypto::Keyring::new(app::backend::crypto::MasterKey::generate()),
    );
    for bad in [
        flipped.as_str(),
        &token[..token.len() - 1],
        &format!("{token}A"),
        "hlp_",
        "hlp_x.y",
        "hlk_not-a-portal-link",
        &"a".repeat(5000),
    ] {
        assert_eq!(
            links.verify(bad).await,
            Err(PortalRefusal::Invalid),
            "{bad}"
        );
    }
    assert_eq!(other.verify(&token).await, Err(PortalRefusal::Invalid));
    // A week and a minute later it has expired.
    let later = app::backend::now_ms() + week + 60_000;
    assert!(matches!(
        links.verify_at(&token, later).await,
        Err(PortalRefusal::Expired(_))
    ));

    // Listed, newest first, a page at a time; never with its URL.
    let (status, _) = api(
        Method::POST,
        app.url("/api/v1/portal-links"),
        Some(&key),
        Some(json!({"tenant": "globex", "expires_in": "1h"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, page) = api(
        Method::GET,
        app.url("/api/v1/portal-links?limit=1"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"][0]["tenant"], "globex");
    assert_eq!(page["items"][0]["read_only"], true);
    assert_eq!(page["items"][0]["capabilities"], json!(["view"]));
    assert!(page["items"][0].get("url").is_none());
    let cursor = page["next_cursor"].as_str().expect("a second page");
    let (_, rest) = api(
        Method::GET,
        app.url(&format!("/api/v1/portal-links?limit=1&cursor={cursor}")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(rest["items"][0]["id"], id.as_str());

    // Revoked: at once, twice harmlessly, audited once.
    let (status, revoked) = api(
        Method::DELETE,
        app.url(&format!("/api/v1/portal-links/{id}")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert!(revoked["revoked_at"].is_string());
    assert!(matches!(
        links.verify(&token).await,
        Err(PortalRefusal::Revoked(_))
    ));
    let (status, _) = api(
        Method::DELETE,
        app.url(&format!("/api/v1/portal-links/{id}")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api(
        Method::DELETE,
        app.url("/api/v1/portal-links/pl_01JD8X5W7R2M9K3Q4T6V8Y0ZAB"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, audit) = api(
        Method::GET,
        app.url("/api/v1/audit?limit=100"),
        Some(&key),
        None,
    )
    .await;
    let mine: Vec<_> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource_id"] == id.as_str())
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(mine, ["revoke", "create"], "{audit}");
    app.stop().await;
}

async fn bad_requests_for_a_link_are_refused_naming_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.api_key(app::types::ApiKeyScope::Admin).await;
    let publisher = app.api_key(app::types::ApiKeyScope::Publish).await;
    let url = app.url("/api/v1/portal-links");
    for (body, path) in [
        (json!({"tenant": "acme corp", "expires_in": "7d"}), "tenant"),
        (json!({"tenant": "", "expires_in": "7d"}), "tenant"),
        (json!({"tenant": "acme", "expires_in": "59m"}), "expires_in"),
        (json!({"tenant": "acme", "expires_in": "31d"}), "expires_in"),
        (
            json!({"tenant": "acme", "expires_in": "soon"}),
            "expires_in",
        ),
        (
            json!({"tenant": "acme", "expires_in": "7d", "capabilities": ["root"]}),
            "capabilities[0]",
        ),
        (
            json!({"tenant": "acme", "expires_in": "7d", "capabilities": vec!["view"; 6]}),
            "capabilities",
        ),
    ] {
        let (status, answer) =
            api(Method::POST, url.clone(), Some(&admin), Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert!(
            error_paths(&answer).contains(&path.to_owned()),
            "{body}: {answer}"
        );
    }
    let ok = json!({"tenant": "acme", "expires_in": "7d"});
    let (status, _) = api(
        Method::POST,
        url.clone(),
        Some(&publisher),
        Some(ok.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = api(Method::POST, url.clone(), None, Some(ok)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, page) = api(Method::GET, url, Some(&admin), None).await;
    assert_eq!(
        page["items"],
        json!([]),
        "nothing was stored: {status} {page}"
    );
    app.stop().await;
}

async fn a_link_from_the_cli_opens_what_the_server_signs(backend: Backend) {
    let app = spawn_app(backend).await;
    let hookline = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hookline"));
        cmd.args(args)
            .env("DATABASE_URL", &app.db_url)
            .env_remove("HOOKLINE_MASTER_KEY_FILE")
            .env_remove("HOOKLINE_PUBLIC_URL");
        match backend {
            Backend::Postgres => cmd.env("HOOKLINE_MASTER_KEY", TEST_PG_MASTER_KEY),
            Backend::Sqlite => cmd.env_remove("HOOKLINE_MASTER_KEY"),
        };
        let out = cmd.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), out.stdout, text)
    };
    let (ok, stdout, text) = hookline(&[
        "portal-link",
        "create",
        "--json",
        "--tenant",
        "acme",
        "--capability",
        "replay,secrets",
        "--expires-in",
        "2d",
        "--public-url",
        "https://hooks.example.com",
    ]);
    assert!(ok, "{text}");
    let made: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    let url = made["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://hooks.example.com/portal?link=hlp_"),
        "{url}"
    );
    let grant = app.state.portal_links.verify(&token_of(url)).await.unwrap();
    assert_eq!(grant.tenant, "acme");
    assert_eq!(
        grant.capabilities,
        [
            PortalCapability::View,
            PortalCapability::Secrets,
            PortalCapability::Replay
        ]
    );

    let (ok, _, text) = hookline(&[
        "portal-link",
        "create",
        "--tenant",
        "acme",
        "--capability",
        "everything",
    ]);
    assert!(
        !ok && text.contains("unknown capability 'everything'"),
        "{text}"
    );
    let (ok, _, text) = hookline(&[
        "portal-link",
        "create",
        "--tenant",
        "acme",
        "--expires-in",
        "90d",
    ]);
    assert!(
        !ok && text.contains("expires_in: must be between 1h and 30d"),
        "{text}"
    );

    let (ok, stdout, text) = hookline(&["portal-link", "list", "--json", "--tenant", "acme"]);
    assert!(ok, "{text}");
    let listed: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let id = made["id"].as_str().unwrap();
    let (ok, _, text) = hookline(&["portal-link", "revoke", "--id", id]);
    assert!(ok && text.contains("revoked portal link"), "{text}");
    assert!(matches!(
        app.state.portal_links.verify(&token_of(url)).await,
        Err(PortalRefusal::Revoked(_))
    ));
    app.stop().await;
}
