//! Everything that runs only on the server: storage, the service layer that both the REST
//! API and the server functions call, sessions and authentication. Compiled with `ssr` only.

pub mod access;
pub mod alerts;
pub mod audit;
pub mod catalog;
pub mod cidr;
pub mod crypto;
pub mod db;
pub mod deliveries;
pub mod diagnostics;
pub mod domain;
pub mod endpoints;
pub mod envelope;
pub mod events;
pub mod faults;
pub mod filter;
pub mod ids;
pub mod limits;
pub mod metrics;
pub mod portal;
pub mod retention;
pub mod shared;
pub mod sources;
pub mod state;
pub mod trace;
pub mod versions;
pub mod write_gate;

pub use access::actor::Actor;
pub use db::Db;
pub use state::AppState;

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A form field that may be left empty: `None` when blank, else the trimmed text.
pub fn nonblank(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

/// The start (Unix ms) of a search window such as `1h` or `7d` counted back from now;
/// `None` for a blank window (all time). A bad duration is a 422 on `window`.
pub fn window_start(window: &str) -> crate::error::AppResult<Option<i64>> {
    nonblank(window)
        .map(|w| {
            crate::duration::parse(w)
                .map(|d| now_ms() - d.as_millis() as i64)
                .map_err(|e| crate::error::AppError::invalid("window", e))
        })
        .transpose()
}
