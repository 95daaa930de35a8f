//! The `hookline` server: configuration, command line, HTTP wiring and (later) the
//! delivery engine. The service layer it calls lives in `app::backend`, shared with the
//! dashboard's server functions.

pub mod alerts;
pub mod api;
pub mod bench;
pub mod cli;
pub mod config;
pub mod engine;
pub mod guards;
pub mod keys;
pub mod retention;
pub mod site;
pub mod startup;
pub mod telemetry;
