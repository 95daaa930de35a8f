//! Access: who is asking and what they may do. Owns the `users`, `sessions` and `api_keys`
//! tables.
//!
//! - [`actor`]: the caller every service method checks (role, tenant, sensitive fields);
//! - [`auth`]: signing in and out, the first-run setup token, a session into an `Actor`;
//! - [`password`]: argon2id, off the async threads and under a concurrency limit;
//! - [`throttle`]: login throttling per account and address;
//! - [`sessions`]: the tower-sessions store, ids kept as digests;
//! - [`users`]: the user service (admin only, never without an admin);
//! - [`api_keys`]: REST API keys, shown once, stored as digests.

pub mod actor;
pub mod api_keys;
pub mod auth;
pub mod cookies;
pub mod password;
pub mod portal_links;
pub mod sessions;
pub mod throttle;
pub mod users;
