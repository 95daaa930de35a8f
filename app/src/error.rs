//! One error type for the whole application, with three faces:
//! - HTTP: `status_code()` and (server-side) `IntoResponse` as `{code, message, errors}`;
//! - server functions: `FromServerFnError`, so the dashboard shows the message inline;
//! - the log: internal causes are logged where they are converted and never sent out.

use crate::types::FieldError;
use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    #[error("authentication required: sign in, or send Authorization: Bearer <API key>")]
    Unauthorized,
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{message}")]
    Validation {
        message: String,
        errors: Vec<FieldError>,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than the limit of {limit_bytes} bytes")]
    PayloadTooLarge { limit_bytes: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The path exists, but not with this method (the `Allow` header lists those it has).
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// A per-caller cap was reached (e.g. open live streams per session): 429.
    #[error("{message}")]
    LimitReached {
        message: String,
        retry_after_secs: u64,
    },
    /// Shared capacity is taken (e.g. the password-hashing queue is full): 503, refused
    /// before any work so that the caller can retry soon.
    #[error("{message}")]
    Busy {
        message: String,
        retry_after_secs: u64,
    },
    /// The request ran past `--request-timeout` and was stopped: 503.
    #[error("the request did not finish within {limit_secs} s (--request-timeout) and was stopped")]
    TimedOut { limit_secs: u64 },
    /// An idempotency key sent again with a different request (Stripe and the IETF
    /// Idempotency-Key draft answer this with an error, never with the first result).
    #[error("{path}: {message}")]
    IdempotencyKeyReused { path: String, message: String },
    /// The database is locked or unreachable: nothing was written, and the same request
    /// may be sent again after `retry_after_secs`.
    #[error(
        "the database is busy or unreachable; nothing was changed, try again in {retry_after_secs} s"
    )]
    Unavailable { retry_after_secs: u64 },
    /// The cause was logged on the server; the client only learns that it happened.
    #[error("internal error; the server log has the details")]
    Internal,
    /// The request never reached the handler (network, encoding).
    #[error("request failed: {0}")]
    Request(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A 422 for a single field.
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        let error = FieldError::new(path, message);
        AppError::Validation {
            message: format!("{}: {}", error.path, error.message),
            errors: vec![error],
        }
    }

    /// A 422 listing several problems.
    pub fn invalid_many(errors: Vec<FieldError>) -> Self {
        let message = match errors.as_slice() {
            [one] => format!("{}: {}", one.path, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        AppError::Validation { message, errors }
    }

    pub fn forbidden(why: impl Into<String>) -> Self {
        AppError::Forbidden(why.into())
    }

    /// The stable machine-readable code of the public contract.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Validation { .. } => "validation_failed",
            AppError::Conflict(_) => "conflict",
            AppError::PayloadTooLarge { .. } => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::MethodNotAllowed(_) => "method_not_allowed",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::LimitReached { .. } => "limit_reached",
            AppError::Busy { .. } => "busy",
            AppError::TimedOut { .. } => "timeout",
            AppError::IdempotencyKeyReused { .. } => "idempotency_key_reused",
            AppError::Unavailable { .. } => "unavailable",
            AppError::Internal => "internal",
            AppError::Request(_) => "bad_request",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthorized | AppError::InvalidCredentials => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::Validation { .. } => 422,
            AppError::Conflict(_) => 409,
            AppError::PayloadTooLarge { .. } => 413,
            AppError::UnsupportedMediaType(_) => 415,
            AppError::MethodNotAllowed(_) => 405,
            AppError::TooManyRequests { .. } | AppError::LimitReached { .. } => 429,
            AppError::Busy { .. } | AppError::TimedOut { .. } | AppError::Unavailable { .. } => 503,
            AppError::IdempotencyKeyReused { .. } => 422,
            AppError::Internal => 500,
            AppError::Request(_) => 400,
        }
    }

    /// How long the caller should wait before trying again (the `Retry-After` header).
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::TooManyRequests { retry_after_secs }
            | AppError::Unavailable { retry_after_secs }
            | AppError::LimitReached {
                retry_after_secs, ..
            }
            | AppError::Busy {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The message for one field, if the server named it.
    pub fn field(&self, path: &str) -> Option<String> {
        match self {
            AppError::Validation { errors, .. } => errors
                .iter()
                .find(|e| e.path == path)
                .map(|e| e.message.clone()),
            AppError::IdempotencyKeyReused { path: p, message } if p == path => {
                Some(message.clone())
            }
            _ => None,
        }
    }
}

/// An id that is not of its kind names nothing: a 404 that says what an id looks like,
/// before any lookup.
impl From<crate::types::ids::IdError> for AppError {
    fn from(e: crate::types::ids::IdError) -> Self {
        AppError::NotFound(e.to_string())
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Request(value.to_string())
    }
}

#[cfg(feature = "ssr")]
pub use server_faces::{UNAVAILABLE_RETRY_AFTER_SECS, is_unavailable};

#[cfg(feature = "ssr")]
mod server_faces {
    use super::AppError;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};

    impl AppError {
        pub fn status_code(&self) -> StatusCode {
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }

        /// Logs an internal failure with its context and returns the opaque client face.
        pub fn internal(context: &str, cause: impl std::fmt::Display) -> Self {
            tracing::error!(%cause, "{context}");
            AppError::Internal
        }
    }

    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let errors = match &self {
                AppError::Validation { errors, .. } => errors.clone(),
                AppError::IdempotencyKeyReused { path, message } => {
                    vec![crate::types::FieldError::new(path.clone(), message.clone())]
                }
                _ => Vec::new(),
            };
            let body = serde_json::json!({
                "code": self.code(),
                "message": self.to_string(),
                "errors": errors,
            });
            let mut response = (self.status_code(), axum::Json(body)).into_response();
            if matches!(self, AppError::Unauthorized) {
                response.headers_mut().insert(
                    axum::http::header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static("Bearer"),
                );
            }
            if let Some(retry_after_secs) = self.retry_after_secs() {
                response.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(retry_after_secs),
                );
            }
            response
        }
    }

    /// How long a client should wait before sending a request again that met a locked or
    /// unreachable database: locks are held for seconds, not minutes.
    pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

    impl From<sqlx::Error> for AppError {
        fn from(e: sqlx::Error) -> Self {
            if is_unavailable(&e) {
                tracing::warn!(cause = %e, "database unavailable; answering 503");
                return AppError::Unavailable {
                    retry_after_secs: UNAVAILABLE_RETRY_AFTER_SECS,
                };
            }
            AppError::internal("database error", e)
        }
    }

    /// Errors that say "not now" rather than "never": the database is locked, out of
    /// connections or unreachable. The request did not commit, so sending it again is safe.
    pub fn is_unavailable(e: &sqlx::Error) -> bool {
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| unavailable_code(&code)),
            _ => false,
        }
    }

    /// SQLite reports numeric (extended) result codes, Postgres five-character SQLSTATEs.
    fn unavailable_code(code: &str) -> bool {
        if let Ok(sqlite) = code.parse::<u32>() {
            // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended forms.
            return matches!(sqlite & 0xff, 5 | 6);
        }
        // lock_not_available (lock_timeout), shutting down, cannot connect now, too many
        // connections, and every connection exception (class 08).
        matches!(code, "55P03" | "57P01" | "57P02" | "57P03" | "53300") || code.starts_with("08")
    }

    impl From<tokio::task::JoinError> for AppError {
        fn from(e: tokio::task::JoinError) -> Self {
            AppError::internal("background task failed", e)
        }
    }

    impl From<server_fn::ServerFnError> for AppError {
        fn from(e: server_fn::ServerFnError) -> Self {
            AppError::internal("server function plumbing failed", e)
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::AppError;

    #[test]
    fn locked_and_unreachable_databases_are_unavailable_not_internal() {
        let timed_out = AppError::from(sqlx::Error::PoolTimedOut);
        assert_eq!(timed_out.status(), 503);
        assert_eq!(timed_out.retry_after_secs(), Some(2));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(AppError::from(sqlx::Error::Io(refused)).status(), 503);
        assert_eq!(AppError::from(sqlx::Error::RowNotFound).status(), 500);
    }
}
