//! Server functions: the dashboard's door into the service layer. Each one resolves the
//! caller from the session and hands an `Actor` to the service, which checks the role.

pub mod alerts;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod deliveries;
pub mod diagnostics;
pub mod endpoints;
pub mod event_types;
pub mod events;
pub mod portal;
pub mod portal_links;
pub mod sources;
pub mod system;
pub mod tools;
pub mod users;

#[cfg(feature = "ssr")]
pub(crate) mod guard;
