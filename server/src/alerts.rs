//! The alert loop: every `--alert-interval`, evaluates every alert rule once (the rules,
//! their values and their transitions are [`app::backend::alerts`]). Every node runs it;
//! a transition is won by one node, which announces it.

use app::backend::{AppState, now_ms};
use std::time::Duration;

pub async fn run(state: AppState, breaker_failures: i64, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = state
            .alerts
            .evaluate(&state, breaker_failures, now_ms())
            .await
        {
            tracing::warn!(error = %e, "alert evaluation failed; it will try again");
        }
    }
}
