//! One validated configuration from flags with environment fallbacks. A bad value stops the
//! start with a message naming the flag and its variable (clap's own errors do that).

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::time::Duration;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/hookline.db";

#[derive(Debug, Parser)]
#[command(
    name = "hookline",
    version,
    about = "Hookline: a self-hosted webhook platform",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// How log lines are written: `text`, or `json` (one object per line).
    #[arg(
        long,
        global = true,
        env = "HOOKLINE_LOG_FORMAT",
        value_enum,
        default_value_t
    )]
    pub log_format: crate::telemetry::LogFormat,
    /// Answer in JSON, one document on stdout (errors: `{"error": …}` on stderr), for
    /// scripts: migrate, user, api-key, portal-link, secrets and health.
    #[arg(long, global = true)]
    pub json: bool,
    /// Export OpenTelemetry traces over OTLP/HTTP to this collector (e.g.
    /// `http://127.0.0.1:4318`; `/v1/traces` is added to a URL without a path). Off when
    /// unset; `traceparent` then goes to no receiver.
    #[arg(long, global = true, env = "OTEL_EXPORTER_OTLP_ENDPOINT", value_parser = parse_otlp_endpoint)]
    pub otlp_endpoint: Option<url::Url>,
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `hookline` alone means `hookline serve`.
    #[command(flatten)]
    pub serve: ServeArgs,
}

// Parsed once at start: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard and the API (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Manage dashboard users.
    #[command(subcommand)]
    User(UserCommand),
    /// Measure throughput, latency and memory on this machine (starts its own server).
    Bench(BenchArgs),
    /// Manage REST API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// Manage the master key that encrypts signing secrets and endpoint credentials.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Manage links into the tenant portal.
    #[command(subcommand, name = "portal-link")]
    PortalLink(PortalLinkCommand),
    /// Ask a running node whether it is ready (GET /readyz): exit 0 on 200, 1 otherwise.
    /// A container health check that needs no curl.
    Health(HealthArgs),
}

#[derive(Debug, Subcommand)]
pub enum PortalLinkCommand {
    /// Create a link for one tenant and print its URL once, alone on the last line.
    Create {
        #[arg(long)]
        tenant: String,
        /// What the link grants besides `view` (repeatable or comma-separated):
        /// manage_endpoints, secrets, replay, test_fire. None: a read-only link.
        #[arg(long = "capability", value_delimiter = ',', value_parser = parse_capability)]
        capabilities: Vec<app::types::portal::PortalCapability>,
        /// How long it works, 1h to 30d.
        #[arg(long, default_value = "7d")]
        expires_in: String,
        /// The origin browsers use for this Hookline (as for serve).
        #[arg(long, env = "HOOKLINE_PUBLIC_URL", value_parser = parse_public_url)]
        public_url: Option<crate::guards::origin::PublicUrl>,
        #[command(flatten)]
        keys: MasterKeyArgs,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List links (never their URLs), newest first.
    List {
        /// Only this tenant's links.
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        keys: MasterKeyArgs,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Revoke a link by id; it stops working at once.
    Revoke {
        #[arg(long)]
        id: String,
        #[command(flatten)]
        keys: MasterKeyArgs,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

fn parse_capability(s: &str) -> Result<app::types::portal::PortalCapability, String> {
    s.parse()
}

#[derive(Debug, Clone, Args)]
pub struct HealthArgs {
    /// The node's address as it listens; 0.0.0.0 (or ::) asks this machine's loopback.
    #[arg(long, env = "HOOKLINE_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// How long to wait for the answer.
    #[arg(long, default_value = "5s", value_parser = app::duration::parse)]
    pub timeout: Duration,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Re-encrypt every signing secret and endpoint credential under a new master key, in
    /// one transaction. The current key (HOOKLINE_MASTER_KEY or --master-key-file, as for
    /// serve) decrypts them meanwhile; afterwards only the new key works.
    RotateKey {
        /// The new key: a file with 32 bytes as base64 or hex, or a new file to create with
        /// a fresh random key (mode 0600).
        #[arg(long)]
        new_key_file: std::path::PathBuf,
        #[command(flatten)]
        keys: MasterKeyArgs,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// `HOOKLINE_MASTER_KEY` as read from the environment; never printed.
#[derive(Clone)]
pub struct MasterKeyText(pub String);

impl std::fmt::Debug for MasterKeyText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKeyText(***)")
    }
}

/// Where the master key comes from (see `crate::keys`).
#[derive(Debug, Clone, Args)]
pub struct MasterKeyArgs {
    /// A file holding the master key (32 bytes as base64 or hex); created with a new random
    /// key, mode 0600, when missing. Default on SQLite: `hookline.key` beside the database
    /// file. On Postgres give this or HOOKLINE_MASTER_KEY: every node must use the same key.
    #[arg(long, env = "HOOKLINE_MASTER_KEY_FILE")]
    pub master_key_file: Option<std::path::PathBuf>,
    /// The master key itself, from the environment variable HOOKLINE_MASTER_KEY only: a
    /// command line is visible to every user of the machine.
    #[arg(skip = std::env::var("HOOKLINE_MASTER_KEY").ok().map(MasterKeyText))]
    pub master_key: Option<MasterKeyText>,
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it once, alone on the last line of standard output.
    Create {
        #[arg(long)]
        name: String,
        /// `admin` (the whole API) or `publish` (publishing events only).
        #[arg(long, value_parser = parse_scope)]
        scope: app::types::ApiKeyScope,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List keys (never the keys themselves).
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Revoke a key by id; it stops working at once.
    Revoke {
        #[arg(long)]
        id: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: app::types::Role,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List users.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Delete a user by e-mail (never the last admin).
    Delete {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// sqlite://PATH (created on first run) or postgres://USER@HOST:PORT/DB.
    #[arg(long = "database-url", env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL,
          value_parser = parse_database_url, global = true)]
    pub url: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "HOOKLINE_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub db: DatabaseArgs,

    #[command(flatten)]
    pub keys: MasterKeyArgs,

    #[command(flatten)]
    pub telemetry: crate::telemetry::args::TelemetryArgs,

    /// Directory holding the built site: pkg/manifest.json and the packed files it names.
    #[arg(long, env = "HOOKLINE_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,

    /// Sign a dashboard user out after this long without a request.
    #[arg(long, env = "HOOKLINE_SESSION_IDLE_TIMEOUT", default_value = "12h", value_parser = parse_session_timeout)]
    pub session_idle_timeout: Duration,

    /// Largest accepted REST request body, in bytes (larger ones get 413).
    #[arg(long, env = "HOOKLINE_MAX_BODY_BYTES", default_value_t = 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1024..=64 * 1024 * 1024))]
    pub max_body_bytes: u64,

    /// Largest body a template may render, in bytes (preview and every delivery, JSON or
    /// XML); rendering stops as soon as it passes this. Default: --max-body-bytes.
    #[arg(long, env = "HOOKLINE_MAX_RENDERED_BYTES",
          value_parser = clap::value_parser!(u64).range(1024..=256 * 1024 * 1024))]
    pub max_rendered_bytes: Option<u64>,

    /// Deliver to loopback, private and link-local addresses too (off: refused as SSRF).
    #[arg(long, env = "HOOKLINE_ALLOW_PRIVATE_TARGETS", default_value_t = false)]
    pub allow_private_targets: bool,

    /// Deliver over HTTPS only: endpoints (and OAuth2 token URLs) with an `http://` URL are
    /// refused when saved, and an existing one's attempts fail as `https_required`.
    #[arg(long, env = "HOOKLINE_HTTPS_ONLY", default_value_t = false)]
    pub https_only: bool,

    /// Comma-separated addresses or CIDR blocks that may be delivered to even though they
    /// are private, e.g. `10.20.0.0/16,192.168.1.7`.
    #[arg(long, env = "HOOKLINE_ALLOW_TARGETS", value_delimiter = ',', value_parser = parse_cidr)]
    pub allow_targets: Vec<crate::engine::outbound::ssrf::Cidr>,

    /// Delivery requests in flight at once on this node.
    #[arg(long, env = "HOOKLINE_MAX_IN_FLIGHT", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_in_flight: u64,

    /// Delivery requests in flight at once on this node for any one endpoint, so a slow
    /// endpoint cannot take every slot (default: a quarter of --max-in-flight).
    #[arg(long, env = "HOOKLINE_MAX_IN_FLIGHT_PER_ENDPOINT",
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_in_flight_per_endpoint: Option<u64>,

    /// How long a claimed delivery is held without a heartbeat; after a crash, its
    /// deliveries are retried once this passes.
    #[arg(long, env = "HOOKLINE_DELIVERY_LEASE", default_value = "30s", value_parser = parse_lease)]
    pub delivery_lease: Duration,

    /// Circuit breaker: disable an endpoint after this many consecutive failed attempts
    /// (0: never)...
    #[arg(long, env = "HOOKLINE_BREAKER_FAILURES", default_value_t = 50)]
    pub breaker_failures: u32,

    /// ...failing for at least this long.
    #[arg(long, env = "HOOKLINE_BREAKER_WINDOW", default_value = "6h", value_parser = app::duration::parse)]
    pub breaker_window: Duration,

    /// Serve the API and dashboard without delivering (deliveries are left to other nodes
    /// sharing the database).
    #[arg(long, env = "HOOKLINE_NO_ENGINE", default_value_t = false)]
    pub no_engine: bool,

    /// The engine's longest sleep when nothing is due (new events wake it at once).
    #[arg(long, env = "HOOKLINE_ENGINE_IDLE_POLL", default_value = "1s", value_parser = app::duration::parse, hide = true)]
    pub engine_idle_poll: Duration,

    /// Events (with their deliveries and attempts) older than this are purged once all
    /// their deliveries are finished.
    #[arg(long, env = "HOOKLINE_RETENTION", default_value = "90d", value_parser = app::duration::parse)]
    pub retention: Duration,

    /// How often alert rules are evaluated (each change of state is announced once).
    #[arg(long, env = "HOOKLINE_ALERT_INTERVAL", default_value = "15s", value_parser = parse_alert_interval)]
    pub alert_interval: Duration,

    /// On SIGTERM, how long in-flight deliveries may take to finish.
    #[arg(long, env = "HOOKLINE_SHUTDOWN_DRAIN", default_value = "30s", value_parser = app::duration::parse)]
    pub shutdown_drain: Duration,

    /// Mark the session cookie Secure (set this when serving over HTTPS).
    #[arg(long, env = "HOOKLINE_COOKIE_SECURE", default_value_t = false)]
    pub cookie_secure: bool,

    /// The address browsers use for the dashboard, e.g. `https://hooks.example.com` (behind
    /// a proxy: the public one). Signed-in writes must come from it (their `Origin`).
    /// Default: `http://` and the listen address (a loopback one also as `localhost`).
    #[arg(long, env = "HOOKLINE_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<crate::guards::origin::PublicUrl>,

    /// Sign a dashboard user out this long after signing in, however active they are.
    #[arg(long, env = "HOOKLINE_SESSION_MAX_LIFETIME", default_value = "7d", value_parser = parse_session_lifetime)]
    pub session_max_lifetime: Duration,

    /// Stop a request (REST API, server function, page) that has not answered in this
    /// long, with 503. The live delivery stream is exempt.
    #[arg(long, env = "HOOKLINE_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_request_timeout)]
    pub request_timeout: Duration,

    /// A reverse proxy (address or CIDR; repeat, or separate with commas) whose
    /// `X-Forwarded-For` is believed for the sources' allowlists. From anyone else the
    /// header is ignored and the connection's address counts.
    #[arg(long = "trusted-proxy", env = "HOOKLINE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_cidr)]
    pub trusted_proxies: Vec<crate::engine::outbound::ssrf::Cidr>,

    /// An origin that may show the tenant portal in an iframe, e.g. `https://app.example.com`
    /// (repeat, or separate with commas; at most 16). The dashboard is never framed. With
    /// `--cookie-secure` the portal cookie becomes `SameSite=None; Secure; Partitioned`, so
    /// an embedding on another site keeps it.
    #[arg(long = "portal-frame-ancestor", env = "HOOKLINE_PORTAL_FRAME_ANCESTORS", value_delimiter = ',', value_parser = parse_public_url)]
    pub portal_frame_ancestors: Vec<crate::guards::origin::PublicUrl>,
}

fn parse_otlp_endpoint(s: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
        return Err("must be an http:// or https:// URL with a host".into());
    }
    Ok(u)
}

fn parse_public_url(s: &str) -> Result<crate::guards::origin::PublicUrl, String> {
    crate::guards::origin::PublicUrl::parse(s)
}

fn parse_session_lifetime(s: &str) -> Result<Duration, String> {
    let d = app::duration::parse(s)?;
    if d < Duration::from_secs(60) || d > Duration::from_secs(365 * 86_400) {
        return Err("must be between 1m and 365d".into());
    }
    Ok(d)
}

fn parse_request_timeout(s: &str) -> Result<Duration, String> {
    let d = app::duration::parse(s)?;
    if d < Duration::from_secs(1) || d > Duration::from_secs(600) {
        return Err("must be between 1s and 10m".into());
    }
    Ok(d)
}

impl ServeArgs {
    /// The cost limits the service layer enforces, with their defaults filled in.
    pub fn limits(&self) -> app::backend::limits::Limits {
        let body = self.max_body_bytes as usize;
        app::backend::limits::Limits {
            max_rendered_bytes: self.max_rendered_bytes.map_or(body, |n| n as usize),
            ..app::backend::limits::Limits::from_body_limit(body)
        }
    }
}

fn parse_cidr(s: &str) -> Result<crate::engine::outbound::ssrf::Cidr, String> {
    crate::engine::outbound::ssrf::Cidr::parse(s)
}

fn parse_lease(s: &str) -> Result<Duration, String> {
    let d = app::duration::parse(s)?;
    if d < Duration::from_secs(1) || d > Duration::from_secs(600) {
        return Err("must be between 1s and 10m".into());
    }
    Ok(d)
}

fn parse_scope(s: &str) -> Result<app::types::ApiKeyScope, String> {
    s.parse()
}

fn parse_role(s: &str) -> Result<app::types::Role, String> {
    s.parse()
}

fn parse_database_url(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.starts_with("sqlite://") || app::backend::db::is_postgres_url(s) {
        Ok(s.to_string())
    } else {
        Err("must start with sqlite:// or postgres://".into())
    }
}

fn parse_session_timeout(s: &str) -> Result<Duration, String> {
    let d = app::duration::parse(s)?;
    if d < Duration::from_secs(60) || d > Duration::from_secs(30 * 86_400) {
        return Err("must be between 1m and 30d".into());
    }
    Ok(d)
}

/// `hookline bench`: what to measure (see `crate::bench`).
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// The built site whose browser bundle the bench reports: each file's size as built,
    /// gzip and brotli (from its pkg/manifest.json).
    #[arg(long, env = "HOOKLINE_SITE_ROOT", default_value = "target/site")]
    pub site_root: std::path::PathBuf,
    /// Events per throughput phase.
    #[arg(long, default_value_t = 20_000)]
    pub events: usize,
    /// Concurrent publishers (and concurrent raw posts for the ceiling).
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Events per batch request in the batch phase.
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Offered rates for the latency phases, events per second.
    #[arg(long, value_delimiter = ',', default_value = "200,1000")]
    pub rates: Vec<u64>,
    /// Seconds per latency phase.
    #[arg(long, default_value_t = 10)]
    pub latency_secs: u64,
    /// Databases to measure, one after the other, comma-separated: `sqlite` (a fresh file
    /// per run), `postgres` (a throwaway durable cluster the bench starts from this
    /// machine's initdb/postgres), or a `postgres://` server URL (a fresh database in it
    /// per run).
    #[arg(long = "database", value_delimiter = ',', default_value = "sqlite")]
    pub databases: Vec<String>,
    /// Runs per database: each figure is printed as the median, with the spread.
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// After each Postgres run, print its N most expensive statements (total execution
    /// time, from `pg_stat_statements`, which the bench's own cluster loads).
    #[arg(long, default_value_t = 0)]
    pub top_statements: usize,
}

/// `--alert-interval`: 100ms to 1h.
fn parse_alert_interval(s: &str) -> Result<Duration, String> {
    let d = app::duration::parse(s)?;
    if (Duration::from_millis(100)..=Duration::from_secs(3600)).contains(&d) {
        Ok(d)
    } else {
        Err("must be between 100ms and 1h".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_mean_serve_on_localhost_with_sqlite() {
        let cli = Cli::try_parse_from(["hookline"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(cli.serve.db.url, DEFAULT_DATABASE_URL);
    }

    #[test]
    fn bad_values_name_the_flag() {
        let err = Cli::try_parse_from(["hookline", "serve", "--listen", "nonsense"]).unwrap_err();
        assert!(err.to_string().contains("--listen"), "{err}");
        let err = Cli::try_parse_from(["hookline", "--database-url", "mysql://x"]).unwrap_err();
        assert!(err.to_string().contains("--database-url"), "{err}");
        let err =
            Cli::try_parse_from(["hookline", "serve", "--session-idle-timeout", "2x"]).unwrap_err();
        assert!(err.to_string().contains("--session-idle-timeout"), "{err}");
        for (flag, value) in [
            ("--public-url", "hooks.example.com/dashboard"),
            ("--session-max-lifetime", "10s"),
            ("--request-timeout", "0s"),
        ] {
            let err = Cli::try_parse_from(["hookline", "serve", flag, value]).unwrap_err();
            assert!(err.to_string().contains(flag), "{err}");
        }
    }

    #[test]
    fn session_and_request_limits_have_defaults() {
        let cli = Cli::try_parse_from(["hookline"]).unwrap();
        assert_eq!(
            cli.serve.session_max_lifetime,
            Duration::from_secs(7 * 86_400)
        );
        assert_eq!(cli.serve.request_timeout, Duration::from_secs(30));
        assert_eq!(cli.serve.public_url, None);
        let cli = Cli::try_parse_from(["hookline", "--public-url", "https://hooks.example.com/"])
            .unwrap();
        assert_eq!(
            cli.serve.public_url.unwrap().as_str(),
            "https://hooks.example.com"
        );
    }

    #[test]
    fn the_rendered_body_limit_defaults_to_the_request_body_limit() {
        let cli = Cli::try_parse_from(["hookline", "--max-body-bytes", "4096"]).unwrap();
        assert_eq!(cli.serve.limits().max_rendered_bytes, 4096);
        let cli = Cli::try_parse_from(["hookline", "--max-rendered-bytes", "8192"]).unwrap();
        assert_eq!(cli.serve.limits().max_rendered_bytes, 8192);
        assert_eq!(cli.serve.limits().max_batch_bytes, 1024 * 1024);
        let err = Cli::try_parse_from(["hookline", "--max-rendered-bytes", "10"]).unwrap_err();
        assert!(err.to_string().contains("--max-rendered-bytes"), "{err}");
    }

    #[test]
    fn user_create_requires_password_stdin() {
        let err = Cli::try_parse_from([
            "hookline", "user", "create", "--email", "a@b.c", "--role", "admin",
        ])
        .unwrap_err();
        assert!(err.to_string().contains("--password-stdin"), "{err}");
        let err = Cli::try_parse_from([
            "hookline",
            "user",
            "create",
            "--email",
            "a@b.c",
            "--role",
            "boss",
            "--password-stdin",
        ])
        .unwrap_err();
        assert!(err.to_string().contains("unknown role"), "{err}");
    }
}
