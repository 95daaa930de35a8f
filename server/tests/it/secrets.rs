//! Finding 4 of issue 9 and encryption at rest: secret headers are masked everywhere,
//! stored credentials never follow an endpoint to another host, nothing secret is stored
//! in plaintext, and `hookline secrets rotate-key` moves everything to a new master key.

use crate::delivery::verify;
use crate::endpoints::event_type;
use crate::helpers::*;
use crate::receiver::{Receiver, Reply};
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

crate::on_both_backends!(
    finding_4_secret_headers_are_masked_and_credentials_never_follow_a_new_host,
    secrets_are_sealed_at_rest_and_deliveries_still_sign,
    plaintext_rows_are_sealed_at_start_and_rotate_key_retires_the_old_key,
);

/// A GET on the REST API that must answer 200; its body.
async fn get_ok(app: &TestApp, key: &str, path: &str) -> Value {
    let (status, body) = api(Method::GET, app.url(path), Some(key), None).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body
}

async fn publish(app: &TestApp, key: &str) -> String {
    let (status, body) = api(
        Method::POST,
        app.url("/api/v1/events"),
        Some(key),
        Some(json!({"event_type": "order.created", "data": {"n": 1}})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// The event's (only) delivery with its attempt log, once it succeeded.
async fn delivered(app: &TestApp, key: &str, event: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let e = get_ok(app, key, &format!("/api/v1/events/{event}")).await;
        if e["deliveries"][0]["status"] == "succeeded" {
            let id = e["deliveries"][0]["id"].as_str().unwrap().to_owned();
            return get_ok(app, key, &format!("/api/v1/deliveries/{id}")).await;
        }
        assert!(std::time::Instant::now() < deadline, "not delivered: {e}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn header<'a>(pairs: &'a Value, name: &str) -> &'a Value {
    pairs
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .map(|p| &p[1])
        .unwrap_or_else(|| panic!("no {name} in {pairs}"))
}

async fn patch(app: &TestApp, key: &str, id: &str, body: Value) -> (StatusCode, Value) {
    api(
        Method::PATCH,
        app.url(&format!("/api/v1/endpoints/{id}")),
        Some(key),
        Some(body),
    )
    .await
}

async fn finding_4_secret_headers_are_masked_and_credentials_never_follow_a_new_host(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::status(200).header("set-cookie", "session=cookie-s3cret"));
    let (status, ep) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(&key),
        Some(json!({
            "name": "crm", "url": receiver.url,
            "headers": {"X-Api-Key": "s3cret", "X-Shard": "shard-s3cret", "X-Team": "sales"},
            "secret_headers": ["x-shard"],
            "auth": {"type": "bearer", "token": "token-s3cret"}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ep}");
    let id = ep["id"].as_str().unwrap().to_owned();

    // Answers: the REST API, and the dashboard's server function as a viewer.
    let got = get_ok(&app, &key, &format!("/api/v1/endpoints/{id}")).await;
    let admin = app.admin().await;
    let viewer = app
        .user_with_role(&admin, "viewer@example.com", "viewer")
        .await;
    let (status, seen) = app.call(&viewer, "get_endpoint", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    for shown in [&ep, &got, &seen] {
        assert_eq!(shown["headers"]["X-Api-Key"], "***", "{shown}");
        assert_eq!(shown["headers"]["X-Shard"], "***", "{shown}");
        assert_eq!(shown["headers"]["X-Team"], "sales", "{shown}");
        assert_eq!(shown["auth"]["token"], "***", "{shown}");
        assert!(!shown.to_string().contains("s3cret"), "{shown}");
    }

    // The receiver gets the real values; the attempt log shows none of them.
    let event = publish(&app, &key).await;
    let hit = receiver.wait_for(1, Duration::from_secs(5)).await.remove(0);
    assert_eq!(hit.headers["x-api-key"], "s3cret");
    assert_eq!(hit.headers["x-shard"], "shard-s3cret");
    assert_eq!(hit.headers["authorization"], "Bearer token-s3cret");
    let detail = delivered(&app, &key, &event).await;
    let attempt = &detail["attempt_log"][0];
    for name in ["x-api-key", "x-shard", "authorization"] {
        assert_eq!(
            header(&attempt["request_headers"], name),
            "***",
            "{attempt}"
        );
    }
    assert_eq!(header(&attempt["request_headers"], "x-team"), "sales");
    assert_eq!(header(&attempt["response_headers"], "set-cookie"), "***");
    assert!(!detail.to_string().contains("s3cret"), "{detail}");

    // A new value is audited as changed, without either value; `***` keeps the stored one.
    let (status, body) = patch(
        &app,
        &key,
        &id,
        json!({"headers": {"X-Api-Key": "s3cret-2", "X-Shard": "***", "X-Team": "sales"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let audit = get_ok(&app, &key, "/api/v1/audit?resource=endpoint").await;
    let latest = &audit["items"][0]["changes"];
    assert_eq!(latest["headers.X-Api-Key"], "changed", "{audit}");
    assert!(latest.get("headers.X-Shard").is_none(), "{audit}");
    assert!(!audit.to_string().contains("s3cret"), "{audit}");
    let stored = app.state.endpoints.stored(&id).await.unwrap().settings;
    assert_eq!(stored.headers["X-Api-Key"], "s3cret-2");
    assert_eq!(stored.headers["X-Shard"], "shard-s3cret");

    // Un-marking a secret header needs its value: the mask is never stored as one.
    let (status, body) = patch(&app, &key, &id, json!({"secret_headers": []})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_paths(&body), ["headers.X-Shard"], "{body}");

    // Same origin, other path: the credentials stay.
    let (status, body) = patch(
        &app,
        &key,
        &id,
        json!({"url": format!("{}/v2", receiver.url)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Another host without the credentials: refused, naming each one to send again.
    let elsewhere = Receiver::start().await;
    let (status, body) = patch(&app, &key, &id, json!({"url": elsewhere.url})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        error_paths(&body),
        ["auth.token", "headers.X-Api-Key", "headers.X-Shard"],
        "{body}"
    );
    assert!(
        body["message"].is_string() && body.to_string().contains("must be sent again"),
        "{body}"
    );
    let (status, body) = patch(
        &app,
        &key,
        &id,
        json!({"url": elsewhere.url, "auth": {"type": "bearer", "token": "***"}}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the mask does not carry it either: {body}"
    );
    let event = publish(&app, &key).await;
    delivered(&app, &key, &event).await;
    assert!(elsewhere.hits().is_empty(), "nothing reached the new host");

    // With new credentials sent in the same request, it moves, and only those go there.
    let (status, body) = patch(
        &app,
        &key,
        &id,
        json!({
            "url": elsewhere.url, "auth": {"type": "bearer", "token": "token-new"},
            "headers": {"X-Api-Key": "key-new", "X-Shard": "shard-new", "X-Team": "sales"}
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    publish(&app, &key).await;
    let hit = elsewhere
        .wait_for(1, Duration::from_secs(5))
        .await
        .remove(0);
    assert_eq!(hit.headers["authorization"], "Bearer token-new");
    assert_eq!(hit.headers["x-api-key"], "key-new");
    assert_eq!(hit.headers["x-shard"], "shard-new");
    app.stop().await;
}

/// Every stored credential and signing secret, as the database holds them.
async fn raw_secrets(app: &TestApp) -> String {
    let db = &app.state.db;
    let configs: Vec<String> = crate::sql::column(db, "SELECT config FROM endpoints", &[]).await;
    let secrets: Vec<String> =
        crate::sql::column(db, "SELECT secret FROM endpoint_secrets", &[]).await;
    format!("{configs:?}{secrets:?}")
}

async fn signing_secret(app: &TestApp, key: &str, id: &str) -> String {
    let s = get_ok(app, key, &format!("/api/v1/endpoints/{id}/secret")).await;
    s["secret"].as_str().unwrap().to_owned()
}

async fn create_endpoint(app: &TestApp, key: &str, url: &str) -> String {
    let (status, ep) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(key),
        Some(json!({
            "name": "crm", "url": url, "headers": {"X-Api-Key": "header-at-rest"},
            "auth": {"type": "basic", "username": "hook", "password": "password-at-rest"}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ep}");
    ep["id"].as_str().unwrap().to_owned()
}

async fn secrets_are_sealed_at_rest_and_deliveries_still_sign(backend: Backend) {
    let app = spawn_app(backend).await;
    let (app_url, _keep_files) = (app.db_url.clone(), app.dir.clone());
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let receiver = Receiver::start().await;
    let id = create_endpoint(&app, &key, &receiver.url).await;
    let secret = signing_secret(&app, &key, &id).await;
    let raw = raw_secrets(&app).await;
    let whsec_b64 = secret.strip_prefix("whsec_").unwrap();
    for plain in ["header-at-rest", "password-at-rest", whsec_b64] {
        assert!(!raw.contains(plain), "{plain} in the database: {raw}");
    }
    assert_eq!(raw.matches("enc:v1:").count(), 3, "{raw}");
    if backend == Backend::Sqlite {
        for file in ["hookline.db", "hookline.db-wal"] {
            let bytes = std::fs::read(app.dir.0.join(file)).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            for plain in ["header-at-rest", "password-at-rest", whsec_b64] {
                assert!(!text.contains(plain), "{plain} in {file}");
            }
        }
    }

    publish(&app, &key).await;
    let hit = receiver.wait_for(1, Duration::from_secs(5)).await.remove(0);
    verify(&secret, &hit);
    assert_eq!(hit.headers["x-api-key"], "header-at-rest");

    // A sealed value moved to another row does not open there: a loud error, not its secret.
    let other = create_endpoint(&app, &key, &receiver.url).await;
    crate::sql::execute(
        &app.state.db,
        "UPDATE endpoint_secrets SET secret = (SELECT secret FROM endpoint_secrets WHERE endpoint_id = $1) WHERE endpoint_id = $2",
        &[&id, &other],
    )
    .await
    .unwrap();
    let (status, body) = api(
        Method::GET,
        app.url(&format!("/api/v1/endpoints/{other}/secret")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(!body.to_string().contains(whsec_b64));
    app.stop().await;
    // And a restart refuses to serve, naming the row.
    let err = hookline::startup::build(&spawn_args(&app_url))
        .await
        .err()
        .expect("a start with an unreadable secret fails");
    assert!(
        format!("{err:#}").contains(&format!(
            "cannot decrypt the signing secret of endpoint {other}"
        )),
        "{err:#}"
    );
}

fn hookline(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hookline"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("HOOKLINE_MASTER_KEY")
        .env_remove("HOOKLINE_MASTER_KEY_FILE")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `hookline secrets rotate-key --new-key-file NEW`, with `env` giving the current key.
fn rotate_key(new: &std::path::Path, db_url: &str, env: &[(&str, &str)]) -> (bool, String) {
    let new = new.to_str().unwrap();
    let args = [
        "secrets",
        "rotate-key",
        "--new-key-file",
        new,
        "--database-url",
        db_url,
    ];
    hookline(&args, env)
}

async fn plaintext_rows_are_sealed_at_start_and_rotate_key_retires_the_old_key(backend: Backend) {
    let dir = std::sync::Arc::new(TempDir::new());
    let url = fresh_db_url(backend, &dir);
    let app = spawn_app_on(url.clone(), dir.clone(), Duration::from_secs(3600)).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let receiver = Receiver::start().await;
    let id = create_endpoint(&app, &key, &receiver.url).await;
    let secret = signing_secret(&app, &key, &id).await;

    // As an older version left it: plaintext settings and secret, no key recorded.
    let plain = app.state.endpoints.stored(&id).await.unwrap().settings;
    let plain = serde_json::to_string(&plain).unwrap();
    let db = &app.state.db;
    for (sql, binds) in [
        ("UPDATE endpoints SET config = $1", vec![plain.as_str()]),
        (
            "UPDATE endpoint_secrets SET secret = $1",
            vec![secret.as_str()],
        ),
        ("DELETE FROM secret_key_check", vec![]),
    ] {
        crate::sql::execute(db, sql, &binds).await.unwrap();
    }
    app.stop().await;

    let app = spawn_app_on(url.clone(), dir.clone(), Duration::from_secs(3600)).await;
    let raw = raw_secrets(&app).await;
    assert!(
        !raw.contains("password-at-rest") && !raw.contains(&secret),
        "sealed at start: {raw}"
    );
    assert_eq!(signing_secret(&app, &key, &id).await, secret);
    app.stop().await;

    // A malformed key, or none on Postgres, stops the start with a message saying what to set.
    let serve = ["serve", "--listen", "127.0.0.1:0", "--database-url", &url];
    let (ok, out) = hookline(&serve, &[("HOOKLINE_MASTER_KEY", "not-a-key")]);
    assert!(
        !ok && out.contains("HOOKLINE_MASTER_KEY is not a master key"),
        "{out}"
    );
    if backend == Backend::Postgres {
        let (ok, out) = hookline(&serve, &[]);
        assert!(
            !ok && out.contains("on Postgres the master key must be given"),
            "{out}"
        );
    }

    // Rotate; the current key is the test key (Postgres) or the file beside the database.
    let new_key = dir.0.join("rotated.key");
    let old_key_env: Vec<(&str, &str)> = match backend {
        Backend::Postgres => vec![("HOOKLINE_MASTER_KEY", TEST_PG_MASTER_KEY)],
        Backend::Sqlite => vec![],
    };
    let (ok, out) = rotate_key(&new_key, &url, &old_key_env);
    assert!(ok, "{out}");
    assert!(
        out.contains("re-encrypted 2 endpoint credentials and 1 signing secrets"),
        "{out}"
    );

    // The old key no longer starts the server: it stops with both key ids.
    let err = hookline::startup::build(&spawn_args(&url))
        .await
        .err()
        .expect("the old key is refused");
    assert!(
        format!("{err:#}").contains("sealed with master key"),
        "{err:#}"
    );

    // The new key opens everything and deliveries sign as before.
    let app = spawn_app_with(url.clone(), dir.clone(), |a| {
        a.keys = hookline::config::MasterKeyArgs {
            master_key_file: Some(new_key.clone()),
            master_key: None,
        }
    })
    .await;
    assert_eq!(signing_secret(&app, &key, &id).await, secret);
    publish(&app, &key).await;
    let hit = receiver.wait_for(1, Duration::from_secs(5)).await.remove(0);
    verify(&secret, &hit);
    assert_eq!(
        hit.headers["authorization"],
        "Basic aG9vazpwYXNzd29yZC1hdC1yZXN0"
    );
    app.stop().await;

    let (ok, out) = rotate_key(
        &new_key,
        &url,
        &[("HOOKLINE_MASTER_KEY_FILE", new_key.to_str().unwrap())],
    );
    assert!(!ok && out.contains("holds the current master key"), "{out}");
}
