//! Everything that runs only on the server: storage, the service layer that both the REST
//! API and the server functions call, sessions and authentication. Compiled with `ssr` only.

pub mod actor;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod db;
pub mod deliveries;
pub mod domain;
pub mod endpoints;
pub mod event_types;
pub mod events;
pub mod faults;
pub mod filter;
pub mod ids;
pub mod metrics;
pub mod password;
pub mod schema;
pub mod session_store;
pub mod state;
pub mod stats;
pub mod template;
pub mod throttle;
pub mod tools;
pub mod users;
pub mod versions;

pub use actor::Actor;
pub use db::Db;
pub use state::AppState;

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
