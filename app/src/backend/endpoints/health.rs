//! An endpoint's health (consecutive failures, since when, last success and failure),
//! recorded from inside the delivery engine's outcome transaction. The endpoints service
//! stays the one writer of the `endpoints` table: the engine folds a group's outcomes per
//! endpoint into a [`HealthStep`] and asks this function to record it; the breaker then
//! reads the answer and, when it trips, calls [`super::disable_in`].

/// One endpoint's requests in one group, folded: after a success the count restarts.
#[derive(Debug, Default, Clone, Copy)]
pub struct HealthStep {
    /// A success was among them: the count is set, not added to.
    pub reset: bool,
    /// Failures (after the last success, if any).
    pub failures: i64,
    /// Any failure at all in the group.
    pub any_failure: bool,
}

impl HealthStep {
    pub fn push(&mut self, ok: bool) {
        if ok {
            self.reset = true;
            self.failures = 0;
        } else {
            self.failures += 1;
            self.any_failure = true;
        }
    }
}

/// Records `step` for endpoint `id` in `tx`. Answers its consecutive failures and when
/// they began, or `None` when the endpoint is gone. One function for both databases.
pub async fn record_health_in<DB>(
    tx: &mut sqlx::Transaction<'_, DB>,
    id: &str,
    step: &HealthStep,
    now: i64,
) -> Result<Option<(i64, Option<i64>)>, sqlx::Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'r> (i64, Option<i64>): sqlx::FromRow<'r, DB::Row>,
{
    if step.reset {
        sqlx::query_as(
            "UPDATE endpoints SET consecutive_failures = $1, \
             failing_since = CASE WHEN $1 > 0 THEN $2 ELSE NULL END, last_success_at = $2, \
             last_failure_at = CASE WHEN $4 THEN $2 ELSE last_failure_at END \
             WHERE id = $3 RETURNING consecutive_failures, failing_since",
        )
        .bind(step.failures)
        .bind(now)
        .bind(id)
        .bind(step.any_failure)
        .fetch_optional(&mut **tx)
        .await
    } else {
        sqlx::query_as(
            "UPDATE endpoints SET consecutive_failures = consecutive_failures + $1, \
             failing_since = COALESCE(failing_since, $2), last_failure_at = $2 WHERE id = $3 \
             RETURNING consecutive_failures, failing_since",
        )
        .bind(step.failures)
        .bind(now)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_restarts_after_a_success() {
        let mut s = HealthStep::default();
        for ok in [false, false, true, false] {
            s.push(ok);
        }
        assert!(s.reset);
        assert_eq!(s.failures, 1);
        let mut s = HealthStep::default();
        s.push(false);
        s.push(false);
        assert!(!s.reset);
        assert_eq!(s.failures, 2);
    }
}
