//! Process-wide counters and the attempt-latency histogram, rendered in the Prometheus
//! text format by `GET /metrics` (with gauges read from the database at scrape time).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the attempt latency buckets, in seconds.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Debug, Default)]
pub struct Metrics {
    pub events_accepted: AtomicU64,
    pub deliveries_succeeded: AtomicU64,
    pub deliveries_retried: AtomicU64,
    pub deliveries_dead: AtomicU64,
    pub attempts: AtomicU64,
    /// Deliveries a publish wrote claimed by this node's engine and handed to it.
    pub deliveries_handed_over: AtomicU64,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_sum_micros: AtomicU64,
    pub in_flight: AtomicU64,
}

impl Metrics {
    pub fn observe_attempt(&self, seconds: f64) {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The Prometheus exposition, with `queue_depth` (due and waiting deliveries) and
    /// `waiting_retry` read by the caller.
    pub fn render(&self, queue_depth: i64, waiting_retry: i64) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, lines: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (labels, v) in lines {
                let _ = writeln!(out, "{name}{labels} {v}");
            }
        };
        counter(
            "hookline_events_accepted_total",
            "Events accepted by the publish API.",
            &[("", g(&self.events_accepted))],
        );
        counter(
            "hookline_deliveries_handed_over_total",
            "Deliveries written claimed by this node's engine and handed to it by the publish (the others wait for a claim round).",
            &[("", g(&self.deliveries_handed_over))],
        );
        counter(
            "hookline_deliveries_total",
            "Delivery attempts by outcome.",
            &[
                ("{outcome=\"succeeded\"}", g(&self.deliveries_succeeded)),
                ("{outcome=\"retry\"}", g(&self.deliveries_retried)),
                ("{outcome=\"dead\"}", g(&self.deliveries_dead)),
            ],
        );
        counter(
            "hookline_retries_total",
            "Attempts that failed and were scheduled again.",
            &[("", g(&self.deliveries_retried))],
        );
        counter(
            "hookline_dead_letters_total",
            "Deliveries dead-lettered.",
            &[("", g(&self.deliveries_dead))],
        );
        let _ = writeln!(
            out,
            "# HELP hookline_attempt_duration_seconds Time from sending a request to its answer."
        );
        let _ = writeln!(out, "# TYPE hookline_attempt_duration_seconds histogram");
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "hookline_attempt_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                g(&self.latency_buckets[i])
            );
        }
        let count = g(&self.attempts);
        let _ = writeln!(
            out,
            "hookline_attempt_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "hookline_attempt_duration_seconds_sum {}",
            g(&self.latency_sum_micros) as f64 / 1e6
        );
        let _ = writeln!(out, "hookline_attempt_duration_seconds_count {count}");
        let mut gauge = |name: &str, help: &str, v: i64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        gauge(
            "hookline_queue_depth",
            "Deliveries due now and not yet taken.",
            queue_depth,
        );
        gauge(
            "hookline_waiting_retry",
            "Deliveries waiting for a later retry.",
            waiting_retry,
        );
        gauge(
            "hookline_in_flight",
            "Delivery requests in flight on this node.",
            g(&self.in_flight) as i64,
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::default();
        m.observe_attempt(0.003);
        m.observe_attempt(0.2);
        m.observe_attempt(60.0);
        let text = m.render(4, 1);
        assert!(
            text.contains("hookline_attempt_duration_seconds_bucket{le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(text.contains("hookline_attempt_duration_seconds_bucket{le=\"0.25\"} 2"));
        assert!(text.contains("hookline_attempt_duration_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(text.contains("hookline_queue_depth 4"));
    }
}
