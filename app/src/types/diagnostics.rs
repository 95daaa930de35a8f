//! An endpoint's diagnosis, in plain language, from its attempt log: what is wrong, the
//! evidence, and the next step. Worked out on the server (`backend::diagnostics`) and shown
//! in the dashboard and the tenant portal alike.

use crate::time_fmt::Timestamp;
use serde::{Deserialize, Serialize};

/// What the recent attempts show, most specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Finding {
    /// The last attempt was delivered.
    Healthy,
    /// Nothing has been sent to it yet.
    NoAttempts,
    Dns,
    ConnectionRefused,
    TlsExpired,
    TlsNameMismatch,
    TlsUnknownCa,
    Tls,
    HttpsRequired,
    Blocked,
    Timeout,
    Unauthorized,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Redirect,
    ClientError,
    ServerError,
    /// The receiver answered, and the endpoint's response rules judged it a failure.
    ResponseRule,
    Request,
}

impl Finding {
    pub fn as_str(self) -> &'static str {
        match self {
            Finding::Healthy => "healthy",
            Finding::NoAttempts => "no_attempts",
            Finding::Dns => "dns",
            Finding::ConnectionRefused => "connection_refused",
            Finding::TlsExpired => "tls_expired",
            Finding::TlsNameMismatch => "tls_name_mismatch",
            Finding::TlsUnknownCa => "tls_unknown_ca",
            Finding::Tls => "tls",
            Finding::HttpsRequired => "https_required",
            Finding::Blocked => "blocked",
            Finding::Timeout => "timeout",
            Finding::Unauthorized => "unauthorized",
            Finding::NotFound => "not_found",
            Finding::PayloadTooLarge => "payload_too_large",
            Finding::RateLimited => "rate_limited",
            Finding::Redirect => "redirect",
            Finding::ClientError => "client_error",
            Finding::ServerError => "server_error",
            Finding::ResponseRule => "response_rule",
            Finding::Request => "request",
        }
    }

    pub fn is_problem(self) -> bool {
        !matches!(self, Finding::Healthy | Finding::NoAttempts)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Diagnosis {
    pub finding: Finding,
    /// One sentence: what is happening.
    pub headline: String,
    /// The evidence: how many attempts, since when, the numbers that matter.
    pub detail: String,
    /// What to do about it.
    pub next_step: String,
    /// Attempts read (the most recent, at most 50).
    pub attempts_read: usize,
    /// How many of those failed.
    pub failed: usize,
    /// When the current run of failures began (the first failure after the last success).
    pub failing_since: Option<Timestamp>,
    /// The last attempt's error or status, as logged.
    pub last_error: Option<String>,
}

/// "Check my endpoint": what the one request got, and what that means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EndpointCheck {
    pub result: crate::types::events::TestFireResult,
    pub diagnosis: Diagnosis,
}
