//! OpenTelemetry: doorward's tracing spans exported over OTLP/HTTP
//! (protobuf) to a collector (feature `otel`).
//!
//! Hosts in Python, Node or on a phone cannot install a Rust `tracing`
//! subscriber, so `otel_endpoint` makes [`crate::Doorward::open`] install
//! one for the process. A Rust host that has its own subscriber adds
//! [`layer`] to it instead.

use std::sync::OnceLock;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::error::{Error, Result};

/// The provider of the process's exporter, for [`flush`].
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

fn provider(endpoint: &str, service_name: &str) -> Result<SdkTracerProvider> {
    let url = url::Url::parse(endpoint)
        .map_err(|e| Error::Config(format!("otel_endpoint is not a URL: {e}")))?;
    let traces = format!("{}/v1/traces", url.as_str().trim_end_matches('/'));
    let exporter = SpanExporter::builder()
        .with_http()
        .with_endpoint(traces)
        .build()
        .map_err(|e| Error::Config(format!("otel_endpoint: {e}")))?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(service_name.to_string())
                .build(),
        )
        .build())
}

/// A `tracing` layer exporting spans to the OTLP/HTTP collector at
/// `endpoint` (its base URL, e.g. `http://127.0.0.1:4318`; spans go to
/// `/v1/traces`), for a host composing its own subscriber.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt as _;
/// let layer = doorward::telemetry::otel::layer("http://127.0.0.1:4318", "my-app")?;
/// let subscriber = tracing_subscriber::registry().with(layer);
/// # drop(subscriber);
/// # Ok::<(), doorward::Error>(())
/// ```
pub fn layer<S>(endpoint: &str, service_name: &str) -> Result<impl Layer<S>>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let provider = provider(endpoint, service_name)?;
    let tracer = provider.tracer("doorward");
    let _ = PROVIDER.set(provider);
    Ok(tracing_opentelemetry::layer().with_tracer(tracer))
}

/// Install a process-wide subscriber exporting spans at INFO and above, once;
/// what `otel_endpoint` does. False when the host had already installed a
/// subscriber (then it should add [`layer`] to its own).
pub fn init(endpoint: &str, service_name: &str) -> Result<bool> {
    if PROVIDER.get().is_some() {
        return Ok(false);
    }
    let layer =
        layer(endpoint, service_name)?.with_filter(tracing_subscriber::filter::LevelFilter::INFO);
    let installed = tracing_subscriber::registry()
        .with(layer)
        .try_init()
        .is_ok();
    if !installed {
        tracing::warn!(
            "a tracing subscriber is already installed; add doorward::telemetry::otel::layer to it"
        );
    }
    Ok(installed)
}

/// Export the spans still buffered, waiting for the collector: before a
/// process exits, and in tests. Blocks; call it off async threads.
pub fn flush() -> Result<()> {
    match PROVIDER.get() {
        Some(provider) => provider
            .force_flush()
            .map_err(|e| Error::Storage(format!("span export failed: {e}"))),
        None => Ok(()),
    }
}
