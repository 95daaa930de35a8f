//! What the server tells its operators: log lines on stdout (text or JSON, filtered by
//! `RUST_LOG`), one access-log line per request ([`access_log`]), OpenTelemetry traces
//! when asked for ([`traces`]), and the `/metrics` options ([`args`]).

pub mod access_log;
pub mod args;
pub mod traces;

use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// How log lines are written (`--log-format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event (coloured on a terminal).
    #[default]
    Text,
    /// One JSON object per line, for log shippers: `timestamp`, `level`, `fields`, `span`
    /// (the innermost) and `spans` (all, outermost first).
    Json,
}

/// Logs to stdout (`RUST_LOG` overrides the default level, info), and exports traces to
/// `otlp` when given; the provider returned must be shut down before the process exits.
pub fn init(
    format: LogFormat,
    otlp: Option<&url::Url>,
) -> anyhow::Result<Option<SdkTracerProvider>> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    let logs = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_target(false)
            .with_current_span(true)
            .with_span_list(true)
            .boxed(),
    };
    let registry = tracing_subscriber::registry().with(logs.with_filter(filter));
    match otlp {
        None => {
            let _ = registry.try_init();
            Ok(None)
        }
        Some(endpoint) => {
            let (provider, layer) = traces::layer(endpoint)?;
            let _ = registry.with(layer).try_init();
            tracing::info!(endpoint = %traces::traces_url(endpoint), "exporting traces over OTLP");
            Ok(Some(provider))
        }
    }
}
