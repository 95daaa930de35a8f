//! Builds the whole server from a configuration, separate from `main` so that tests start
//! the real thing on port 0 with a fresh database.

use crate::config::ServeArgs;
use crate::guards::origin::OriginPolicy;
use crate::guards::time_limit::TimeLimit;
use anyhow::Context;
use app::backend::access::sessions::DbSessionStore;
use app::backend::access::throttle::ThrottlePolicy;
use app::backend::{AppState, Db};
use app::{App, shell};
use axum::Router;
use axum::http::{HeaderName, HeaderValue};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use crate::api::state::ServerState;

/// The session cookie's name (the origin check looks for it).
pub const SESSION_COOKIE: &str = "hookline_session";

/// How long a start waits for a database that is not answering yet (a Postgres still
/// starting beside it, a SQLite file another process holds locked, a machine too busy to
/// open it within the pool's 2 s).
pub const START_WAIT: Duration = Duration::from_secs(30);

/// Whether opening the database may work if tried again: it timed out, could not be
/// reached, was locked or busy, or is starting up. A wrong URL, password or setting is not.
fn worth_retrying(e: &app::backend::db::DbError) -> bool {
    let app::backend::db::DbError::Connect(e) = e else {
        return false;
    };
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(d) => matches!(
            d.code().as_deref(),
            // SQLite busy or locked; Postgres starting up or shutting down.
            Some("5" | "6" | "57P03" | "57P01")
        ),
        _ => false,
    }
}

/// Opens the database and applies migrations; a failing migration stops here with its
/// message. A database that is not answering yet is asked again for up to [`START_WAIT`].
pub async fn open_database(url: &str) -> anyhow::Result<Db> {
    let started = std::time::Instant::now();
    let mut wait = Duration::from_millis(250);
    let db = loop {
        match Db::connect(url).await {
            Ok(db) => break db,
            Err(e) if worth_retrying(&e) && started.elapsed() + wait < START_WAIT => {
                tracing::warn!(error = %e, database = %redact_url(url), "the database is not answering yet; trying again");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(2));
            }
            Err(e) => {
                return Err(anyhow::Error::new(e))
                    .with_context(|| format!("opening the database {}", redact_url(url)));
            }
        }
    };
    db.migrate().await.context("applying database migrations")?;
    Ok(db)
}

/// Hides a password in a database URL before it is shown anywhere.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

pub struct Server {
    no_engine: bool,
    retention: Duration,
    alert_interval: Duration,
    breaker_failures: i64,
    engine: std::sync::Arc<crate::engine::Engine>,
    drain: Duration,
    listener: TcpListener,
    router: Router,
    state: AppState,
    sessions: DbSessionStore,
    setup_token: Option<String>,
    stop: tokio::sync::watch::Sender<bool>,
    public_url: String,
}

pub async fn build(args: &ServeArgs) -> anyhow::Result<Server> {
    let db = open_database(&args.db.url).await?;
    let listener = TcpListener::bind(args.listen).await.with_context(|| {
        format!(
            "cannot listen on {} (--listen / HOOKLINE_LISTEN)",
            args.listen
        )
    })?;
    let addr = listener.local_addr()?;
    let origins = std::sync::Arc::new(OriginPolicy::new(
        args.public_url.as_ref(),
        addr,
        SESSION_COOKIE,
    ));
    if args.public_url.is_none() && args.listen.ip().is_unspecified() {
        tracing::warn!(
            "listening on every address, but signed-in writes are accepted only from {}: set --public-url to the address browsers use",
            origins.public()
        );
    }
    let keys = crate::keys::keyring(&args.keys, &args.db.url)?;
    let mut state =
        AppState::new(db.clone(), ThrottlePolicy::default(), keys).with_limits(args.limits());
    state
        .shared
        .metrics
        .set_label_values(args.telemetry.metrics_label_values as usize);
    state.endpoints.https_only = args.https_only;
    state.sources.public_url = args.public_url.as_ref().map(|u| u.as_str().to_owned());
    std::sync::Arc::get_mut(&mut state.portal_links)
        .expect("nothing holds the portal links before the server starts")
        .public_url = origins.public().to_owned();
    state.sources.trusted_proxies = args.trusted_proxies.clone();
    state.sources.default_body_limit = args.max_body_bytes as usize;
    // Before anything is served: seal what older versions stored in plaintext, and stop
    // here if the key is not the one the database was sealed with.
    let sealed = state
        .endpoints
        .seal_plaintext_at_rest()
        .await
        .context("checking the secrets stored in the database against the master key")?;
    if sealed != app::backend::endpoints::Resealed::default() {
        tracing::info!(
            credentials = sealed.credentials,
            signing_secrets = sealed.signing_secrets,
            "encrypted secrets that were stored in plaintext"
        );
    }

    let setup_token = state
        .auth
        .prepare_first_run()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(token) = &setup_token {
        tracing::warn!(
            "No user exists yet. Open {}/setup and create the first admin with this setup token: {token}",
            origins.public()
        );
    }
    let (output_name, stylesheet) = match crate::site::Bundle::load(Path::new(&args.site_root)) {
        Ok(bundle) => (bundle.output_name, app::Stylesheet(bundle.css.file)),
        Err(why) => {
            tracing::warn!(
                site_root = %args.site_root,
                "the dashboard's browser bundle is missing ({why}); pages render but stay static. Build it with `make build`"
            );
            (
                "hookline".to_owned(),
                app::Stylesheet("hookline.css".to_owned()),
            )
        }
    };
    let leptos_options = LeptosOptions::builder()
        .output_name(output_name)
        .site_root(args.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let sessions = DbSessionStore::new(db, args.session_max_lifetime);
    let session_layer = SessionManagerLayer::new(sessions.clone())
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(args.cookie_secure)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::seconds(
                args.session_idle_timeout.as_secs() as i64
            ),
        ))
        .with_always_save(true);

    let engine = crate::engine::Engine::new(
        state.clone(),
        crate::engine::EngineConfig {
            max_in_flight: args.max_in_flight as usize,
            max_in_flight_per_endpoint: args.max_in_flight_per_endpoint.map_or(
                crate::engine::EngineConfig::default_share(args.max_in_flight as usize),
                |n| n as usize,
            ),
            max_batch_bytes: args.max_body_bytes as usize,
            lease: args.delivery_lease,
            drain: args.shutdown_drain,
            targets: crate::engine::outbound::ssrf::TargetPolicy {
                allow_private: args.allow_private_targets,
                allow: args.allow_targets.clone(),
                https_only: args.https_only,
            },
            breaker: crate::engine::store::Breaker {
                failures: args.breaker_failures as i64,
                window_ms: args.breaker_window.as_millis() as i64,
            },
            idle_poll: args.engine_idle_poll,
        },
    )?;
    if args.allow_private_targets {
        tracing::warn!(
            "--allow-private-targets is on: deliveries may reach loopback and private networks"
        );
    }

    let routes = generate_route_list(App);
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let server_state = ServerState {
        stopping,
        leptos_options: leptos_options.clone(),
        app: state.clone(),
        engine: engine.clone(),
        api_only: args.no_engine,
        live_streams: Default::default(),
        metrics_token: args
            .telemetry
            .metrics_token
            .clone()
            .map(std::sync::Arc::new),
    };
    let time_limit = TimeLimit {
        limit: args.request_timeout,
        exempt_prefix: crate::api::live::PREFIX,
    };
    let framing = std::sync::Arc::new(crate::guards::framing::FramePolicy::new(
        &args.portal_frame_ancestors,
    )?);
    if framing.embeddable() && !args.cookie_secure {
        tracing::warn!(
            "--portal-frame-ancestor without --cookie-secure: the portal cookie stays SameSite=Lax, so only pages on the same site can embed the portal"
        );
    }
    let context_state = state.clone();
    let page_stylesheet = stylesheet.clone();
    let router = Router::new()
        .merge(crate::api::router(args.max_body_bytes as usize))
        .merge(crate::site::router(Path::new(&args.site_root)))
        .leptos_routes_with_context(
            &server_state,
            routes,
            move || {
                provide_context(context_state.clone());
                provide_context(page_stylesheet.clone());
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            ServerState,
            _,
        >(move || provide_context(stylesheet.clone()), shell))
        .with_state(server_state)
        .layer(axum::middleware::from_fn({
            let links = state.portal_links.clone();
            let cookie = std::sync::Arc::new(crate::api::portal::PortalCookie::new(
                args.cookie_secure,
                framing.embeddable(),
            ));
            move |req, next| crate::api::portal::open_link(links.clone(), cookie.clone(), req, next)
        }))
        .layer(axum::middleware::from_fn({
            let body_limit = args.max_body_bytes as usize;
            move |req, next| crate::api::server_fn_json::limit(body_limit, req, next)
        }))
        // Outer layers run first: a cross-origin write is refused before anything else,
        // and the time limit wraps the session layer, so a stopped request writes no
        // session back.
        .layer(session_layer)
        .layer(axum::middleware::from_fn_with_state(
            time_limit,
            crate::guards::time_limit::enforce,
        ))
        .layer(axum::middleware::from_fn_with_state(
            origins.clone(),
            crate::guards::origin::enforce,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(axum::middleware::from_fn_with_state(
            framing,
            crate::guards::framing::enforce,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(axum::middleware::from_fn(crate::telemetry::access_log::log));

    Ok(Server {
        no_engine: args.no_engine,
        retention: args.retention,
        alert_interval: args.alert_interval,
        breaker_failures: args.breaker_failures as i64,
        engine,
        drain: args.shutdown_drain,
        listener,
        router,
        state,
        sessions,
        setup_token,
        stop,
        public_url: origins.public().to_owned(),
    })
}

impl Server {
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// The first-run token, while no user exists.
    pub fn setup_token(&self) -> Option<&str> {
        self.setup_token.as_deref()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn engine(&self) -> &std::sync::Arc<crate::engine::Engine> {
        &self.engine
    }

    /// Serves and delivers until `shutdown` resolves; then stops claiming and accepting,
    /// lets in-flight requests and deliveries finish (up to the drain time), and returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.local_addr();
        let purge = tokio::spawn(purge_expired_sessions(self.sessions.clone()));
        let retention = tokio::spawn(crate::retention::run(
            self.state.db.clone(),
            self.retention,
            Duration::from_secs(600),
        ));
        let alerts = tokio::spawn(crate::alerts::run(
            self.state.clone(),
            self.breaker_failures,
            self.alert_interval,
        ));
        let stop_rx = self.stop.subscribe();
        let stop_tx = self.stop;
        let engine = if self.no_engine {
            tracing::info!("--no-engine: this node serves the API only; other nodes deliver");
            tokio::spawn(async {})
        } else {
            tokio::spawn(self.engine.clone().run(stop_rx))
        };
        let shutdown = async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        };
        tracing::info!(
            %addr,
            database = self.state.db.backend_name(),
            public_url = %self.public_url,
            "hookline listening on http://{addr}"
        );
        let result = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        if tokio::time::timeout(self.drain + Duration::from_secs(5), engine)
            .await
            .is_err()
        {
            tracing::warn!("the delivery engine did not stop in time");
        }
        purge.abort();
        retention.abort();
        alerts.abort();
        self.state.db.close().await;
        result.context("serving HTTP")
    }
}

async fn purge_expired_sessions(store: DbSessionStore) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        match store.delete_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(removed = n, "expired sessions purged"),
            Err(e) => tracing::warn!(error = %e, "purging expired sessions failed"),
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_in_database_urls_are_hidden() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
