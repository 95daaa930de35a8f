//! Delivery metrics: success rate, latency, retries, dead letters, queue depth and in-flight,
//! over the last hour or day, with charts drawn as SVG on the server and refreshed every
//! ten seconds in the browser. Overall on the Overview page, per endpoint on its page.

use crate::error::AppError;
use crate::time_fmt;
use crate::types::events::{StatsBucket, StatsView};
use leptos::prelude::*;

pub type StatsResource = Resource<Result<StatsView, AppError>>;

/// The stats resource for a page (created by the page itself, before any async boundary),
/// refreshed every ten seconds once the page runs in the browser.
pub fn stats_resource(endpoint: Signal<Option<String>>, window: RwSignal<String>) -> StatsResource {
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || tick.update(|t| *t += 1),
            std::time::Duration::from_secs(10),
        );
        if let Ok(h) = handle {
            on_cleanup(move || h.clear());
        }
    });
    Resource::new(
        move || (endpoint.get(), window.get(), tick.get()),
        |(endpoint, window, _)| crate::api::deliveries::delivery_stats(endpoint, window),
    )
}

#[component]
pub fn MetricsPanel(
    stats: StatsResource,
    window: RwSignal<String>,
    #[prop(into)] title: String,
) -> impl IntoView {
    view! {
        <section class="card metrics" aria-labelledby="metrics-title" data-testid="metrics">
            <div class="page-head">
                <h2 id="metrics-title">{title}</h2>
                <label class="inline-label">"Window "
                    <select prop:value=move || window.get() on:change=move |ev| window.set(event_target_value(&ev))>
                        <option value="1h">"last hour"</option>
                        <option value="24h">"last day"</option>
                    </select>
                </label>
            </div>
            <Transition fallback=|| view! { <p class="loading">"Loading metrics…"</p> }>
                {move || Suspend::new(async move {
                    match stats.await {
                        Ok(s) => body(s).into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn ms(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 1000.0 => format!("{:.1} s", v / 1000.0),
        Some(v) => format!("{v:.0} ms"),
        None => "—".into(),
    }
}

fn body(s: StatsView) -> impl IntoView {
    let t = &s.total;
    let rate = (t.attempts > 0).then(|| 100.0 * t.succeeded as f64 / t.attempts as f64);
    let health = s.health.clone().map(|h| {
        let circuit = if !h.enabled {
            format!("open: disabled ({})", h.disabled_reason.unwrap_or_default())
        } else if h.consecutive_failures > 0 {
            format!(
                "closed, {} consecutive failures since {}",
                h.consecutive_failures,
                h.failing_since
                    .map(|t| time_fmt::utc(t.0))
                    .unwrap_or_default()
            )
        } else {
            "closed (healthy)".into()
        };
        let when = |t: Option<crate::time_fmt::Timestamp>| {
            t.map(|t| time_fmt::utc(t.0))
                .unwrap_or_else(|| "never".into())
        };
        view! {
            <dl class="facts" data-testid="health">
                <dt>"Circuit"</dt><dd>{circuit}</dd>
                <dt>"Last success"</dt><dd>{when(h.last_success_at)}</dd>
                <dt>"Last failure"</dt><dd>{when(h.last_failure_at)}</dd>
            </dl>
        }
    });
    view! {
        {health}
        <div class="tiles">
            <div class="tile"><span class="tile-value" data-testid="success-rate">{rate.map(|r| format!("{r:.1} %")).unwrap_or_else(|| "—".into())}</span><span class="tile-label">"success rate"</span></div>
            <div class="tile"><span class="tile-value">{ms(t.avg_ms)}</span><span class="tile-label">"average latency"</span></div>
            <div class="tile"><span class="tile-value">{ms(t.p50_ms.map(|v| v as f64))}</span><span class="tile-label">"p50 (≤)"</span></div>
            <div class="tile"><span class="tile-value">{ms(t.p95_ms.map(|v| v as f64))}</span><span class="tile-label">"p95 (≤)"</span></div>
            <div class="tile"><span class="tile-value" data-testid="attempts">{t.attempts}</span><span class="tile-label">"attempts"</span></div>
            <div class="tile"><span class="tile-value">{s.retries}</span><span class="tile-label">"retried deliveries"</span></div>
            <div class="tile"><span class="tile-value">{s.dead_letters}</span><span class="tile-label">"dead letters"</span></div>
            <div class="tile"><span class="tile-value">{s.queue_depth}</span><span class="tile-label">"queued"</span></div>
            <div class="tile"><span class="tile-value">{s.in_flight}</span><span class="tile-label">"in flight"</span></div>
        </div>
        <div class="charts">
            <figure>
                <figcaption>"Attempts per " {slice_name(s.bucket_ms)} " (green delivered, red failed)"</figcaption>
                {attempts_chart(&s.buckets)}
            </figure>
            <figure>
                <figcaption>"Latency per " {slice_name(s.bucket_ms)} " (p95 dark, p50 light)"</figcaption>
                {latency_chart(&s.buckets)}
            </figure>
        </div>
    }
}

fn slice_name(ms: i64) -> &'static str {
    if ms >= 3_600_000 { "hour" } else { "5 minutes" }
}

const W: f64 = 600.0;
const H: f64 = 140.0;

fn attempts_chart(buckets: &[StatsBucket]) -> impl IntoView + use<> {
    let max = buckets.iter().map(|b| b.attempts).max().unwrap_or(0).max(1) as f64;
    let n = buckets.len().max(1) as f64;
    let bw = W / n;
    let total: i64 = buckets.iter().map(|b| b.attempts).sum();
    let bars = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let x = i as f64 * bw + 1.0;
            let ok_h = H * b.succeeded as f64 / max;
            let bad_h = H * b.failed as f64 / max;
            let tip = format!("{}: {} delivered, {} failed", time_fmt::utc(b.start.0), b.succeeded, b.failed);
            view! {
                <g>
                    <title>{tip}</title>
                    <rect class="bar-ok" x=x y=H - ok_h width=(bw - 2.0).max(1.0) height=ok_h/>
                    <rect class="bar-bad" x=x y=H - ok_h - bad_h width=(bw - 2.0).max(1.0) height=bad_h/>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg class="chart" viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" role="img"
            aria-label=format!("{total} attempts, highest {max} in one slice")>
            <line class="axis" x1="0" y1=H x2=W y2=H/>
            {bars}
        </svg>
    }
}

fn latency_chart(buckets: &[StatsBucket]) -> impl IntoView + use<> {
    let capped = |v: Option<i64>| v.filter(|v| *v < i64::MAX).map(|v| v as f64);
    let max = buckets
        .iter()
        .filter_map(|b| capped(b.p95_ms))
        .fold(1.0_f64, f64::max);
    let n = buckets.len().max(1) as f64;
    let bw = W / n;
    let line = |pick: fn(&StatsBucket) -> Option<i64>| {
        buckets
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                capped(pick(b))
                    .map(|v| format!("{:.1},{:.1}", i as f64 * bw + bw / 2.0, H - H * v / max))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let p95 = line(|b| b.p95_ms);
    let p50 = line(|b| b.p50_ms);
    // A dot per slice too, so a lone slice shows.
    let dots = buckets
        .iter()
        .enumerate()
        .filter_map(|(i, b)| capped(b.p95_ms).map(|v| (i as f64 * bw + bw / 2.0, H - H * v / max)))
        .map(|(x, y)| view! { <circle class="dot-p95" cx=x cy=y r="3"/> })
        .collect_view();
    view! {
        <svg class="chart" viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" role="img"
            aria-label=format!("p95 latency up to {}", ms(Some(max)))>
            <line class="axis" x1="0" y1=H x2=W y2=H/>
            <polyline class="line-p95" points=p95 fill="none"/>
            <polyline class="line-p50" points=p50 fill="none"/>
            {dots}
        </svg>
        <p class="muted chart-scale">"Scale: 0 to " {ms(Some(max))}</p>
    }
}
