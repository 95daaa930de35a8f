//! OpenTelemetry traces over OTLP (HTTP, protobuf), off unless `--otlp-endpoint` is given.
//! A request's span continues the caller's `traceparent`; a publish is a child of it, and
//! every attempt of the event's deliveries a child of the publish (its context is stored
//! with the event: `app::backend::trace`), so one trace runs from the publish through each
//! attempt, retries included, on whichever node makes them.
//!
//! The exporter talks to the operator's collector, not to a receiver: it is the one
//! outbound connection that does not go through the guarded delivery client.

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};

/// The collector's traces URL: `endpoint` as given when it names a path, else
/// `endpoint/v1/traces` (as `OTEL_EXPORTER_OTLP_ENDPOINT` is read).
pub fn traces_url(endpoint: &url::Url) -> String {
    if endpoint.path().trim_matches('/').is_empty() {
        format!("{}/v1/traces", endpoint.as_str().trim_end_matches('/'))
    } else {
        endpoint.to_string()
    }
}

/// The exporting provider and the layer that feeds it Hookline's spans (`hookline` and
/// `app`, at info and above: the request, publish and attempt spans).
pub fn layer<S>(endpoint: &url::Url) -> anyhow::Result<(SdkTracerProvider, impl Layer<S> + 'static)>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(traces_url(endpoint))
        .with_timeout(std::time::Duration::from_secs(10))
        .build()?;
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "hookline".into());
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(service)
                .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
                .build(),
        )
        .build();
    let tracer = provider.tracer("hookline");
    let ours = Targets::new()
        .with_target("hookline", LevelFilter::INFO)
        .with_target("app", LevelFilter::INFO);
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(ours);
    Ok((provider, layer))
}

/// Sends what is still buffered and stops the exporter (off the async threads: the
/// exporter's client blocks).
pub async fn shutdown(provider: SdkTracerProvider) {
    let _ = tokio::task::spawn_blocking(move || {
        if let Err(e) = provider.shutdown() {
            eprintln!("traces: the last spans were not exported: {e}");
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_added_to_a_bare_endpoint() {
        let u = |s: &str| traces_url(&url::Url::parse(s).unwrap());
        assert_eq!(
            u("http://collector:4318"),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            u("http://collector:4318/"),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            u("https://c.example/otlp/v1/traces"),
            "https://c.example/otlp/v1/traces"
        );
    }
}
