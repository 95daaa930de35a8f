//! Hookline's Prometheus series, kept by `prometheus-client` and rendered in the
//! OpenMetrics text format by `GET /metrics`.
//!
//! Counters and histograms count what this process did. The two queue gauges describe the
//! whole database, so every node sharing it reports the same value: they carry
//! `scope="database"`, and a dashboard aggregates them with `max`, never `sum`.

pub mod labels;
pub mod process;

use labels::{EndpointLabels, LabelBudget, Outcome, OutcomeLabels, PublishKind, PublishLabels};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use std::borrow::Cow;
use std::time::Duration;

/// The media type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Publish latency buckets (accepting an event is a commit away), in seconds.
const PUBLISH_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];
/// One request to a receiver, in seconds.
const ATTEMPT_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// From acceptance to a receiver's 2xx, retries included: seconds up to a day.
const DELIVERY_BUCKETS: [f64; 16] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 7200.0,
    86400.0,
];

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn publish_histogram() -> Histogram {
    Histogram::new(PUBLISH_BUCKETS)
}
fn attempt_histogram() -> Histogram {
    Histogram::new(ATTEMPT_BUCKETS)
}
fn delivery_histogram() -> Histogram {
    Histogram::new(DELIVERY_BUCKETS)
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Events stored by a publish (a repeated idempotency key is not counted again).
    pub events_accepted: Counter,
    deliveries: Family<OutcomeLabels, Counter>,
    /// Deliveries a publish wrote claimed by this node's engine and handed to it.
    pub deliveries_handed_over: Counter,
    publish_duration: Histograms<PublishLabels>,
    attempt_duration: Histograms<EndpointLabels>,
    delivery_latency: Histograms<EndpointLabels>,
    /// Delivery requests this node has open.
    pub in_flight: Gauge,
    queue_depth: Gauge,
    waiting_retry: Gauge,
    endpoints: LabelBudget,
    tenants: LabelBudget,
}

impl Metrics {
    /// `database`: `sqlite` or `postgres`, for `hookline_build_info`.
    pub fn new(database: &'static str) -> Self {
        let mut root = Registry::default();
        root.register_collector(Box::new(process::ProcessCollector));
        let metrics = Self {
            registry: Registry::default(),
            events_accepted: Counter::default(),
            deliveries: Family::default(),
            deliveries_handed_over: Counter::default(),
            publish_duration: Family::new_with_constructor(publish_histogram as fn() -> Histogram),
            attempt_duration: Family::new_with_constructor(attempt_histogram as fn() -> Histogram),
            delivery_latency: Family::new_with_constructor(delivery_histogram as fn() -> Histogram),
            in_flight: Gauge::default(),
            queue_depth: Gauge::default(),
            waiting_retry: Gauge::default(),
            endpoints: LabelBudget::default(),
            tenants: LabelBudget::default(),
        };
        let r = root.sub_registry_with_prefix("hookline");
        r.register(
            "build",
            "The running version and its database",
            Info::new(vec![
                ("version", env!("CARGO_PKG_VERSION")),
                ("database", database),
            ]),
        );
        r.register(
            "events_accepted",
            "Events accepted by publishing (the API, the dashboard, inbound webhooks)",
            metrics.events_accepted.clone(),
        );
        r.register(
            "deliveries",
            "Deliveries by what their attempt decided: succeeded, retry (scheduled again) or dead (dead-lettered)",
            metrics.deliveries.clone(),
        );
        r.register(
            "deliveries_handed_over",
            "Deliveries written claimed by this node's engine and handed to it by the publish (the others wait for a claim round)",
            metrics.deliveries_handed_over.clone(),
        );
        r.register_with_unit(
            "publish_duration",
            "Time to accept a publish (validate, route, commit), by tenant (single and inbound) and kind",
            Unit::Seconds,
            metrics.publish_duration.clone(),
        );
        r.register_with_unit(
            "attempt_duration",
            "Time from sending a request to a receiver to its answer",
            Unit::Seconds,
            metrics.attempt_duration.clone(),
        );
        r.register_with_unit(
            "delivery_latency",
            "Time from an event's acceptance to its receiver's 2xx, retries included",
            Unit::Seconds,
            metrics.delivery_latency.clone(),
        );
        r.register(
            "in_flight",
            "Delivery requests in flight on this node",
            metrics.in_flight.clone(),
        );
        let db = r.sub_registry_with_label((Cow::Borrowed("scope"), Cow::Borrowed("database")));
        db.register(
            "queue_depth",
            "Deliveries due now and not yet taken, in the whole database (the same on every node: aggregate with max)",
            metrics.queue_depth.clone(),
        );
        db.register(
            "waiting_retry",
            "Deliveries waiting for a later retry, in the whole database (the same on every node: aggregate with max)",
            metrics.waiting_retry.clone(),
        );
        Self {
            registry: root,
            ..metrics
        }
    }

    /// How many distinct endpoints and tenants get series of their own (the rest share
    /// `_other`).
    pub fn set_label_values(&self, n: usize) {
        self.endpoints.set_limit(n);
        self.tenants.set_limit(n);
    }

    pub fn publish_took(&self, tenant: Option<&str>, kind: PublishKind, took: Duration) {
        let labels = PublishLabels {
            tenant: self.tenants.value(tenant),
            kind,
        };
        self.publish_duration
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// One request to `endpoint`'s receiver took `took`; `delivered_after` holds, for each
    /// delivery it delivered, the time since its event was accepted.
    pub fn attempt_made(
        &self,
        endpoint: &str,
        tenant: Option<&str>,
        took: Duration,
        delivered_after: impl IntoIterator<Item = Duration>,
    ) {
        let labels = EndpointLabels {
            endpoint: self.endpoints.value(Some(endpoint)),
            tenant: self.tenants.value(tenant),
        };
        self.attempt_duration
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        let mut delivered = delivered_after.into_iter().peekable();
        if delivered.peek().is_some() {
            let latency = self.delivery_latency.get_or_create(&labels);
            for d in delivered {
                latency.observe(d.as_secs_f64());
            }
        }
    }

    pub fn deliveries_decided(&self, outcome: Outcome, n: u64) {
        self.deliveries
            .get_or_create(&OutcomeLabels { outcome })
            .inc_by(n);
    }

    /// The exposition, with the database-wide gauges set from `queue_depth` (due and
    /// waiting) and `waiting_retry`, read by the caller.
    pub fn render(&self, queue_depth: i64, waiting_retry: i64) -> String {
        self.queue_depth.set(queue_depth);
        self.waiting_retry.set(waiting_retry);
        let mut out = String::with_capacity(16 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, start: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(start))
    }

    #[test]
    fn renders_every_series_once() {
        let m = Metrics::new("sqlite");
        m.events_accepted.inc_by(2);
        m.deliveries_decided(Outcome::Succeeded, 3);
        m.deliveries_decided(Outcome::Dead, 1);
        let ms = Duration::from_millis;
        m.attempt_made("ep_1", Some("acme"), ms(3), [ms(40)]);
        m.attempt_made("ep_1", Some("acme"), ms(200), []);
        m.attempt_made("ep_1", Some("acme"), ms(60_000), []);
        m.publish_took(None, PublishKind::Single, ms(2));
        let text = m.render(4, 1);
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert_eq!(
            line(&text, "hookline_events_accepted_total "),
            Some("hookline_events_accepted_total 2")
        );
        assert!(
            text.contains("hookline_deliveries_total{outcome=\"succeeded\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("hookline_deliveries_total{outcome=\"dead\"} 1\n"));
        let a = |le: &str| {
            format!(
                "hookline_attempt_duration_seconds_bucket{{le=\"{le}\",endpoint=\"ep_1\",tenant=\"acme\"}}"
            )
        };
        assert!(text.contains(&format!("{} 1\n", a("0.005"))), "{text}");
        assert!(text.contains(&format!("{} 2\n", a("0.25"))));
        assert!(text.contains(&format!("{} 3\n", a("+Inf"))));
        assert!(
            !text.contains(".. ") && !text.contains("..\n"),
            "one full stop: {text}"
        );
        assert!(text.contains(
            "hookline_delivery_latency_seconds_count{endpoint=\"ep_1\",tenant=\"acme\"} 1\n"
        ));
        assert!(text.contains(
            "hookline_publish_duration_seconds_count{tenant=\"_none\",kind=\"single\"} 1\n"
        ));
        assert!(
            text.contains("hookline_queue_depth{scope=\"database\"} 4\n"),
            "{text}"
        );
        assert!(text.contains("hookline_waiting_retry{scope=\"database\"} 1\n"));
        assert!(text.contains("hookline_build_info{version=\""));
        assert!(!text.contains("retries_total") && !text.contains("dead_letters_total"));
        // Every sample line names a series once.
        let samples: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.rsplit_once(' ').map(|(k, _)| k))
            .collect();
        let unique: std::collections::HashSet<_> = samples.iter().collect();
        assert_eq!(unique.len(), samples.len(), "{text}");
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(
                line(&text, "process_resident_memory_bytes ").is_some(),
                "{text}"
            );
            assert!(line(&text, "process_cpu_seconds_total ").is_some());
        }
    }

    #[test]
    fn endpoint_labels_are_capped() {
        let m = Metrics::new("postgres");
        m.set_label_values(1);
        let ms = Duration::from_millis;
        m.attempt_made("ep_a", None, ms(1), []);
        m.attempt_made("ep_b", None, ms(1), []);
        m.attempt_made("ep_c", None, ms(1), []);
        let text = m.render(0, 0);
        let count = |e: &str| {
            text.lines()
                .find(|l| {
                    l.starts_with(&format!(
                        "hookline_attempt_duration_seconds_count{{endpoint=\"{e}\""
                    ))
                })
                .map(|l| l.rsplit(' ').next().unwrap().to_owned())
        };
        assert_eq!(count("ep_a").as_deref(), Some("1"), "{text}");
        assert_eq!(count("_other").as_deref(), Some("2"));
        assert_eq!(count("ep_b"), None);
    }
}
