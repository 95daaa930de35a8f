//! The REST API's error body, as the OpenAPI document describes it (the answer itself is
//! written by `AppError`'s HTTP face).

use app::types::FieldError;
use utoipa::ToSchema;

/// Every error answer: a stable `code`, a sentence, and for 422 each problem with its path.
#[derive(serde::Serialize, ToSchema)]
pub struct ApiError {
    /// `unauthorized`, `forbidden`, `not_found`, `validation_failed`, `conflict`,
    /// `payload_too_large`, `unsupported_media_type`, `bad_request`, `internal`.
    pub code: String,
    pub message: String,
    pub errors: Vec<FieldError>,
}
