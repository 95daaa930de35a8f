//! Disabling an endpoint from inside another service's transaction: the delivery engine's,
//! when a receiver answers `410 Gone` or the circuit breaker trips. The endpoints service
//! stays the one writer of the `endpoints` table; the engine asks it.

use super::stored::StoredConfig;
use crate::backend::versions::BUMP_CATALOG;

/// Disables endpoint `id` (if it is still enabled) with `reason`, keeps the settings
/// document's `enabled` flag in step, and bumps the catalog version, all in `tx`. True
/// when it was disabled now. One function for both databases.
pub async fn disable_in<DB>(
    tx: &mut sqlx::Transaction<'_, DB>,
    id: &str,
    reason: &str,
    now: i64,
) -> Result<bool, sqlx::Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'r> String: sqlx::Decode<'r, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let config: Option<String> = sqlx::query_scalar(
        "UPDATE endpoints SET enabled = $1, disabled_reason = $2, updated_at = $3 \
         WHERE id = $4 AND enabled = $5 RETURNING config",
    )
    .bind(false)
    .bind(reason)
    .bind(now)
    .bind(id)
    .bind(true)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(config) = config else {
        return Ok(false);
    };
    // The `enabled` column decides; a settings document that does not read is left as it
    // is (never replaced by one holding only the flag).
    match StoredConfig::parse(&config) {
        Ok(mut settings) => {
            settings.enabled = false;
            sqlx::query("UPDATE endpoints SET config = $1 WHERE id = $2")
                .bind(settings.to_text())
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Err(e) => {
            tracing::error!(endpoint = id, error = %e, "disabled, but its stored settings do not read")
        }
    }
    sqlx::query(BUMP_CATALOG).execute(&mut **tx).await?;
    Ok(true)
}
