//! Integration tests: the real server on a random port with a fresh database per test, on
//! SQLite and on the throwaway Postgres that `scripts/with-postgres.sh` starts.

mod helpers;
mod sql;

mod alerts;
mod api_errors;
mod api_keys;
mod audit;
mod auth;
mod chaos;
mod cli;
mod csrf;
mod delivery;
mod diagnostics;
mod endpoints;
mod event_types;
mod events;
mod handoff;
mod ingest_hardening;
mod isolation;
mod limits;
mod live;
mod openapi;
mod outbound_auth;
mod portal;
mod portal_actions;
mod portal_links;
mod receiver;
mod resilience;
mod response_rules;
mod retention;
mod secrets;
mod sensitive;
mod sessions;
mod signing_v1a;
mod site;
mod sources;
mod sources_lifecycle;
mod sources_providers;
mod ssrf;
mod storage;
mod telemetry;
mod tls;
mod tools;
mod traces;
mod users;
