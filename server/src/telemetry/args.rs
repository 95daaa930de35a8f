//! The serve command's telemetry options.

use clap::Args;
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Args)]
pub struct TelemetryArgs {
    /// Require `Authorization: Bearer <token>` on `GET /metrics` (at least 16 characters).
    /// Prefer the environment variable: a command line is visible to every user of the
    /// machine. Without it `/metrics` is open, as scrape targets usually are.
    #[arg(long, env = "HOOKLINE_METRICS_TOKEN", hide_env_values = true, value_parser = MetricsToken::parse)]
    pub metrics_token: Option<MetricsToken>,

    /// How many distinct endpoints, and how many tenants, get series of their own in
    /// `/metrics`; the rest are counted under `_other`, so the scrape stays bounded.
    #[arg(long, env = "HOOKLINE_METRICS_LABEL_VALUES", default_value_t = app::backend::metrics::labels::DEFAULT_LABEL_VALUES as u64,
          value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub metrics_label_values: u64,
}

impl Default for TelemetryArgs {
    fn default() -> Self {
        Self {
            metrics_token: None,
            metrics_label_values: app::backend::metrics::labels::DEFAULT_LABEL_VALUES as u64,
        }
    }
}

/// The `/metrics` bearer token; never printed.
#[derive(Clone)]
pub struct MetricsToken(String);

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(***)")
    }
}

impl MetricsToken {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.chars().count() < 16 {
            return Err("must be at least 16 characters".into());
        }
        if s.chars().any(|c| !c.is_ascii_graphic()) {
            return Err("must be printable ASCII without spaces".into());
        }
        Ok(Self(s.to_owned()))
    }

    /// Whether an `Authorization` header value carries this token (in constant time).
    pub fn admits(&self, authorization: Option<&str>) -> bool {
        let Some(given) = authorization.and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        }) else {
            return false;
        };
        given.trim().as_bytes().ct_eq(self.0.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_long_masked_and_compared_whole() {
        assert!(MetricsToken::parse("short").is_err());
        assert!(MetricsToken::parse("has a space in it!!").is_err());
        let t = MetricsToken::parse("0123456789abcdef").unwrap();
        assert_eq!(format!("{t:?}"), "MetricsToken(***)");
        assert!(t.admits(Some("Bearer 0123456789abcdef")));
        assert!(!t.admits(Some("Bearer 0123456789abcde")));
        assert!(!t.admits(Some("Basic 0123456789abcdef")));
        assert!(!t.admits(Some("0123456789abcdef")));
        assert!(!t.admits(None));
    }
}
