use hookline::config::{DatabaseArgs, ServeArgs};
use reqwest::StatusCode;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each listed `async fn name(backend: Backend)` once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Backend::Postgres).await } )*
        }
    };
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("hookline-it-{}", app::backend::ids::random_hex(8)));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh database URL: a file in `dir`, or a new database on the test cluster.
pub fn fresh_db_url(backend: Backend, dir: &TempDir) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}/hookline.db", dir.0.display()),
        Backend::Postgres => {
            let base = std::env::var("HOOKLINE_TEST_PG_URL").expect(
                "HOOKLINE_TEST_PG_URL is not set: run the tests with `make test` or \
                 `scripts/with-postgres.sh cargo test -p server`",
            );
            format!(
                "{}/hl_{}",
                base.trim_end_matches('/'),
                app::backend::ids::random_hex(8)
            )
        }
    }
}

/// The master key for a test server: SQLite uses the key file created beside its database
/// (so restarts on the same file share it), Postgres a fixed key given as
/// HOOKLINE_MASTER_KEY would be, as every node there must use the same one.
pub fn test_master_key(db_url: &str) -> hookline::config::MasterKeyArgs {
    hookline::config::MasterKeyArgs {
        master_key_file: None,
        master_key: app::backend::db::is_postgres_url(db_url)
            .then(|| hookline::config::MasterKeyText(TEST_PG_MASTER_KEY.into())),
    }
}

/// base64 of 32 bytes, for Postgres test servers.
pub const TEST_PG_MASTER_KEY: &str = "aG9va2xpbmUgdGVzdCBtYXN0ZXIga2V5IDMyIGJ5dGU=";

pub struct TestApp {
    pub base: String,
    pub db_url: String,
    pub setup_token: Option<String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub dir: std::sync::Arc<TempDir>,
    /// The running server's state, for fault injection.
    pub state: app::backend::AppState,
    pub engine: std::sync::Arc<hookline::engine::Engine>,
}

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

pub async fn spawn_app(backend: Backend) -> TestApp {
    let dir = std::sync::Arc::new(TempDir::new());
    let url = fresh_db_url(backend, &dir);
    spawn_app_on(url, dir, Duration::from_secs(3600)).await
}

/// Starts a server on an existing database (for restarts) with the given idle timeout.
pub async fn spawn_app_on(db_url: String, dir: std::sync::Arc<TempDir>, idle: Duration) -> TestApp {
    spawn_app_with(db_url, dir, |a| a.session_idle_timeout = idle).await
}

/// The arguments a test server starts with.
pub fn spawn_args(db_url: &str) -> ServeArgs {
    ServeArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: DatabaseArgs {
            url: db_url.to_owned(),
        },
        keys: test_master_key(db_url),
        site_root: "target/site".into(),
        session_idle_timeout: Duration::from_secs(3600),
        cookie_secure: false,
        max_body_bytes: 1024 * 1024,
        max_rendered_bytes: None,
        allow_private_targets: true,
        https_only: false,
        allow_targets: Vec::new(),
        max_in_flight: 1000,
        max_in_flight_per_endpoint: None,
        delivery_lease: Duration::from_secs(30),
        shutdown_drain: Duration::from_secs(1),
        retention: Duration::from_secs(90 * 86_400),
        alert_interval: Duration::from_millis(200),
        breaker_failures: 50,
        no_engine: false,
        engine_idle_poll: Duration::from_secs(1),
        breaker_window: Duration::from_secs(6 * 3600),
        public_url: None,
        session_max_lifetime: Duration::from_secs(7 * 86_400),
        request_timeout: Duration::from_secs(30),
        trusted_proxies: Vec::new(),
        portal_frame_ancestors: Vec::new(),
        telemetry: Default::default(),
    }
}

/// Starts a server with test defaults changed by `tweak`.
pub async fn spawn_app_with(
    db_url: String,
    dir: std::sync::Arc<TempDir>,
    tweak: impl FnOnce(&mut ServeArgs),
) -> TestApp {
    let mut args = spawn_args(&db_url);
    tweak(&mut args);
    let server = hookline::startup::build(&args)
        .await
        .expect("server builds");
    let base = format!("http://{}", server.local_addr());
    let setup_token = server.setup_token().map(str::to_owned);
    let state = server.state().clone();
    let engine = server.engine().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    TestApp {
        base,
        db_url,
        setup_token,
        shutdown: Some(tx),
        handle: Some(handle),
        dir,
        state,
        engine,
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    /// Calls a server function the way the dashboard does (form-encoded POST from the
    /// dashboard's origin).
    pub async fn call(
        &self,
        client: &reqwest::Client,
        name: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let response = client
            .post(format!("{}/api/fn/{name}", self.base))
            .header("accept", "application/json")
            .header("origin", &self.base)
            .form(form)
            .send()
            .await
            .expect("request reaches the server");
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// Calls a server function whose arguments are JSON (`input = Json`), from the
    /// dashboard's origin.
    pub async fn call_json(
        &self,
        client: &reqwest::Client,
        name: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let response = client
            .post(format!("{}/api/fn/{name}", self.base))
            .header("accept", "application/json")
            .header("origin", &self.base)
            .json(&body)
            .send()
            .await
            .expect("request reaches the server");
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Creates the first admin through the setup token and returns their signed-in client.
    pub async fn admin(&self) -> reqwest::Client {
        let c = client();
        let token = self
            .setup_token
            .clone()
            .expect("fresh app has a setup token");
        let (status, body) = self
            .call(
                &c,
                "create_first_admin",
                &[
                    ("token", &token),
                    ("email", ADMIN_EMAIL),
                    ("password", ADMIN_PASSWORD),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        c
    }

    /// Creates a user as `admin` and returns a client signed in as them.
    pub async fn user_with_role(
        &self,
        admin: &reqwest::Client,
        email: &str,
        role: &str,
    ) -> reqwest::Client {
        let password = "viewer password 1";
        let (status, body) = self
            .call(
                admin,
                "create_user",
                &[("email", email), ("password", password), ("role", role)],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let c = client();
        let (status, body) = self
            .call(&c, "login", &[("email", email), ("password", password)])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        c
    }

    /// Who the server thinks `client` is.
    pub async fn whoami(&self, client: &reqwest::Client) -> Value {
        let (status, body) = self.call(client, "get_session", &[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["me"].clone()
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap().unwrap();
        }
    }
}

impl TestApp {
    /// Creates an API key straight through the service, as `hookline api-key create` does.
    pub async fn api_key(&self, scope: app::types::ApiKeyScope) -> String {
        let db = app::backend::Db::connect(&self.db_url).await.unwrap();
        let keys = app::backend::access::api_keys::ApiKeys::new(db.clone());
        let created = keys
            .create(&app::backend::Actor::cli(), "test key", scope)
            .await
            .unwrap();
        db.close().await;
        created.key
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Sends a REST request with a bearer key and returns status and JSON body.
pub async fn api(
    method: reqwest::Method,
    url: String,
    key: Option<&str>,
    body: Option<serde_json::Value>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request reaches the server");
    let status = res.status();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The `path` of every error in a 422 body.
pub fn error_paths(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["path"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The first delivery of `event`, polled until it has `status` (panics after `within`).
pub async fn wait_for_delivery(
    app: &TestApp,
    key: &str,
    event: &str,
    status: &str,
    within: Duration,
) -> Value {
    let deadline = std::time::Instant::now() + within;
    loop {
        let (_, e) = api(
            reqwest::Method::GET,
            app.url(&format!("/api/v1/events/{event}")),
            Some(key),
            None,
        )
        .await;
        let d = e["deliveries"][0].clone();
        if d["status"] == status {
            return d;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "delivery of {event} is {d} after {within:?}, expected {status}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Leases this node's engine still holds, polled until none or `within` has passed. A task
/// lets go of its lease just after it commits the outcome a test can already read, so a
/// test that reads the outcome waits here before asserting that nothing is held.
pub async fn leases_held_after(app: &TestApp, within: Duration) -> usize {
    let deadline = std::time::Instant::now() + within;
    loop {
        let held = app.engine.leases_held();
        if held == 0 || std::time::Instant::now() > deadline {
            return held;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
