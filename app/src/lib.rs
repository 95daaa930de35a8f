//! Hookline's dashboard: Leptos components, the server functions behind them, and the types
//! both sides share. With `ssr` it also holds the server-side service layer (`backend`).

#![recursion_limit = "256"]

pub mod api;
mod app;
pub mod duration;
pub mod error;
pub mod pages;
pub mod time_fmt;
pub mod types;

#[cfg(feature = "ssr")]
pub mod backend;

pub use app::{App, AuthContext, Stylesheet, shell};
