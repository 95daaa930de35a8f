//! The `hookline` binary itself: user management, migrations and config errors.

use crate::helpers::*;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn hookline(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hookline"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("HOOKLINE_LISTEN")
        .env_remove("HOOKLINE_MASTER_KEY")
        .env_remove("HOOKLINE_MASTER_KEY_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

crate::on_both_backends!(
    user_commands_create_list_and_delete,
    api_key_create_prints_the_key_alone_on_the_last_line,
    json_answers_are_one_document_each,
);

async fn user_commands_create_list_and_delete(backend: Backend) {
    let dir = TempDir::new();
    let url = fresh_db_url(backend, &dir);
    let url = url.as_str();
    let out = hookline(
        &[
            "user",
            "create",
            "--email",
            "Ops@Example.com",
            "--role",
            "admin",
            "--password-stdin",
            "--database-url",
            url,
        ],
        Some("a long password\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("created admin ops@example.com"),
        "{}",
        text(&out)
    );

    let out = hookline(
        &[
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--role",
            "viewer",
            "--password-stdin",
            "--database-url",
            url,
        ],
        Some("a long password\n"),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("email: a user with this email already exists"),
        "{}",
        text(&out)
    );

    let out = hookline(
        &[
            "user",
            "create",
            "--email",
            "v@example.com",
            "--role",
            "viewer",
            "--password-stdin",
            "--database-url",
            url,
        ],
        Some("short\n"),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("password: must be at least 10 characters"),
        "{}",
        text(&out)
    );

    let out = hookline(&["user", "list", "--database-url", url], None);
    assert!(out.status.success(), "{}", text(&out));
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        listing.contains("ops@example.com") && listing.contains("admin"),
        "{listing}"
    );
    assert!(!listing.contains("argon2"), "no hashes in listings");

    let out = hookline(
        &[
            "user",
            "delete",
            "--email",
            "ops@example.com",
            "--database-url",
            url,
        ],
        None,
    );
    assert!(!out.status.success(), "the last admin cannot be deleted");
    assert!(text(&out).contains("last admin"), "{}", text(&out));

    // The password given on stdin signs in for real.
    let app = spawn_app_on(
        url.to_string(),
        std::sync::Arc::new(TempDir::new()),
        std::time::Duration::from_secs(60),
    )
    .await;
    let c = client();
    let (status, _) = app
        .call(
            &c,
            "login",
            &[
                ("email", "ops@example.com"),
                ("password", "a long password"),
            ],
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    app.stop().await;
}

#[test]
fn bad_config_values_stop_the_start_naming_the_setting() {
    let out = hookline(&["serve", "--listen", "not-an-address"], None);
    assert!(!out.status.success());
    assert!(text(&out).contains("--listen"), "{}", text(&out));

    let out = Command::new(env!("CARGO_BIN_EXE_hookline"))
        .env("DATABASE_URL", "mysql://nope")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("--database-url"), "{}", text(&out));

    // A durability setting that is neither full nor normal is refused, not guessed.
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("h.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_hookline"))
        .args(["migrate", "--database-url", &url])
        .env("HOOKLINE_SQLITE_SYNCHRONOUS", "off")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("HOOKLINE_SQLITE_SYNCHRONOUS must be full or normal"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_failing_migration_stops_the_start_with_its_message() {
    let dir = TempDir::new();
    let file = dir.0.join("broken.db");
    // A table in the way of the first migration.
    let url = format!("sqlite://{}", file.display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = app::backend::Db::connect(&url).await.unwrap();
        if let app::backend::Db::Sqlite(pool) = &db {
            sqlx::query("CREATE TABLE users (x INTEGER)")
                .execute(pool)
                .await
                .unwrap();
        }
        db.close().await;
    });
    let out = hookline(
        &["serve", "--listen", "127.0.0.1:0", "--database-url", &url],
        None,
    );
    assert!(!out.status.success(), "the server must not start");
    let t = text(&out);
    assert!(
        t.contains("applying database migrations") && t.contains("already exists"),
        "{t}"
    );
}

async fn api_key_create_prints_the_key_alone_on_the_last_line(backend: Backend) {
    let dir = TempDir::new();
    let url = fresh_db_url(backend, &dir);
    let out = hookline(
        &[
            "api-key",
            "create",
            "--name",
            "ci",
            "--scope",
            "admin",
            "--database-url",
            &url,
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let key = stdout.lines().last().unwrap().to_owned();
    assert!(
        key.starts_with("hlk_") && !key.contains(' '),
        "last line is the key alone: {stdout:?}"
    );

    let out = hookline(
        &[
            "api-key",
            "create",
            "--name",
            "x",
            "--scope",
            "root",
            "--database-url",
            &url,
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("unknown scope"), "{}", text(&out));

    let app = spawn_app_on(
        url.clone(),
        std::sync::Arc::new(TempDir::new()),
        std::time::Duration::from_secs(60),
    )
    .await;
    let (status, _) = api(
        reqwest::Method::GET,
        app.url("/api/v1/api-keys"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::OK, "the printed key works");
    app.stop().await;

    let out = hookline(&["api-key", "list", "--database-url", &url], None);
    assert!(out.status.success());
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        listing.contains("ci") && listing.contains("active") && !listing.contains(&key),
        "{listing}"
    );
    let id = listing
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let out = hookline(
        &["api-key", "revoke", "--id", &id, "--database-url", &url],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let listing = String::from_utf8_lossy(
        &hookline(&["api-key", "list", "--database-url", &url], None).stdout,
    )
    .to_string();
    assert!(listing.contains("revoked"), "{listing}");
}

/// `--json`: one JSON document on stdout per command, errors as `{"error"}` on stderr.
async fn json_answers_are_one_document_each(backend: Backend) {
    let dir = TempDir::new();
    let url = fresh_db_url(backend, &dir);
    let json = |args: &[&str], stdin: Option<&str>| {
        let mut all = args.to_vec();
        all.extend(["--database-url", &url, "--json"]);
        let out = hookline(&all, stdin);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: one JSON document ({e}): {}", text(&out)))
    };
    let migrated = json(&["migrate"], None);
    assert_eq!(migrated["migrated"], true);
    let created = json(
        &["api-key", "create", "--name", "ci", "--scope", "publish"],
        None,
    );
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(
        key.starts_with("hlk_") && created["scope"] == "publish",
        "{created}"
    );
    let listed = json(&["api-key", "list"], None);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], created["id"]);
    assert!(
        listed[0].get("key").is_none() && !listed.to_string().contains(&key),
        "{listed}"
    );
    let revoked = json(
        &["api-key", "revoke", "--id", created["id"].as_str().unwrap()],
        None,
    );
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    let user = json(
        &[
            "user",
            "create",
            "--email",
            "Ops@Example.com",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("a long password\n"),
    );
    assert_eq!(user["email"], "ops@example.com");
    let users = json(&["user", "list"], None);
    assert_eq!(users[0]["role"], "admin");
    assert!(
        users[0]["last_login_at"].is_null() && !users.to_string().contains("argon2"),
        "{users}"
    );

    // A refusal: non-zero, nothing on stdout, the reason as JSON on stderr.
    let out = hookline(
        &[
            "user",
            "delete",
            "--email",
            "ops@example.com",
            "--database-url",
            &url,
            "--json",
        ],
        None,
    );
    assert!(
        !out.status.success() && out.stdout.is_empty(),
        "{}",
        text(&out)
    );
    let error: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("last admin"),
        "{error}"
    );
    let out = hookline(&["serve", "--json"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--log-format json"));
}

/// `hookline health` (the container's health check): 0 and the answer while the node is
/// ready, 1 with the reason when it is not, when nothing listens, or when what listens is
/// not HTTP. 0.0.0.0 asks loopback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_exits_zero_only_while_the_node_is_ready() {
    let app = spawn_app(Backend::Sqlite).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let port = addr.rsplit(':').next().unwrap().to_owned();
    for listen in [addr.clone(), format!("0.0.0.0:{port}")] {
        let out = hookline(&["health", "--listen", &listen], None);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("is ready"), "{}", text(&out));
    }
    let out = hookline(&["health", "--json", "--listen", &addr], None);
    assert!(out.status.success(), "{}", text(&out));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["ready"], true);
    assert_eq!(answer["answer"]["status"], "ready");

    app.stop().await;

    // Not ready: a node answering readyz with 503, as one whose database is gone does.
    let unready = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unready_addr = unready.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        if let Ok((mut conn, _)) = unready.accept() {
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            let body = r#"{"status":"unavailable","database":"unreachable"}"#;
            let _ = write!(
                conn,
                "HTTP/1.1 503 Service Unavailable\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let out = hookline(&["health", "--listen", &unready_addr], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("HTTP 503"), "{}", text(&out));
    assert!(text(&out).contains("unreachable"), "{}", text(&out));

    // Nothing listens.
    let out = hookline(&["health", "--listen", &addr], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("connecting to"), "{}", text(&out));

    // Something listens that never answers: the timeout ends it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap().to_string();
    let out = hookline(
        &["health", "--listen", &silent_addr, "--timeout", "1s"],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("no answer within"), "{}", text(&out));
    drop(silent);
}
