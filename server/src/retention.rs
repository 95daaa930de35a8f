//! The retention loop: every so often, purges what is older than `--retention` (the
//! purge itself, and what it keeps, is [`app::backend::retention`]).

use app::backend::retention::{Purged, purge_before};
use app::backend::{Db, now_ms};
use std::time::Duration;

/// Runs `purge_before(now - retention)` every `every`, forever.
pub async fn run(db: Db, retention: Duration, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let cutoff = now_ms() - retention.as_millis() as i64;
        match purge_before(&db, cutoff).await {
            Ok(p) if p == Purged::default() => {}
            Ok(p) => tracing::info!(
                events = p.events,
                deliveries = p.deliveries,
                attempts = p.attempts,
                inbound_requests = p.inbound_requests,
                "retention: purged"
            ),
            Err(e) => tracing::warn!(error = %e, "retention purge failed; it will try again"),
        }
    }
}
