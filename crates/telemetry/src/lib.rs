//! Telemetry for every minzheng process: `tracing` logs (text or JSON), OpenTelemetry traces
//! and metrics exported over OTLP when an endpoint is configured, and the W3C trace context
//! (`traceparent`, `tracestate`) carried from a gRPC call into the stored event, the NATS message
//! and every consumer, so that one trace shows a command and all its consequences.
//!
//! Spans always get OpenTelemetry trace and span ids, exporter or not, so that the trace context
//! stored with an event is real even in a development run without a collector.
//!
//! Architecture invariant: knows nothing of gRPC, NATS or the event store; it deals in
//! `traceparent`/`tracestate` strings and the current `tracing` span.

use std::collections::HashMap;

use opentelemetry::{
    KeyValue, global,
    propagation::TextMapPropagator,
    trace::{TraceContextExt, TracerProvider as _},
};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{
    Resource, metrics::SdkMeterProvider, propagation::TraceContextPropagator,
    trace::SdkTracerProvider,
};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, layer::SubscriberExt, util::SubscriberInitExt};

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    #[default]
    Text,
    /// One JSON object per line, for log collectors in Kubernetes.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("log format must be text or json, not {other:?}")),
        }
    }
}

/// What [`init`] needs.
#[derive(Debug, Clone, Default)]
pub struct TelemetryConfig {
    /// `service.name` of exported telemetry, e.g. `minzheng-placenames`.
    pub service_name: String,
    /// OTLP/gRPC collector endpoint, e.g. `http://otel-collector:4317`; `None` exports nothing.
    pub otlp_endpoint: Option<String>,
    pub log_format: LogFormat,
    /// Default filter when `RUST_LOG` is unset, e.g. `info`.
    pub default_filter: String,
}

/// Keeps the exporters alive; dropping it flushes and shuts them down.
#[derive(Debug)]
pub struct TelemetryGuard {
    tracer_provider: SdkTracerProvider,
    meter_provider: Option<SdkMeterProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        // Errors here mean a collector that is gone at exit; nothing useful is left to do.
        let _ = self.tracer_provider.shutdown();
        if let Some(meters) = &self.meter_provider {
            let _ = meters.shutdown();
        }
    }
}

/// Installs the global subscriber, propagator and (when configured) OTLP exporters. Call once,
/// at the start of `main`, inside the Tokio runtime.
pub fn init(config: &TelemetryConfig) -> anyhow::Result<TelemetryGuard> {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let resource = Resource::builder()
        .with_attribute(KeyValue::new("service.name", config.service_name.clone()))
        .build();

    let mut tracer_builder = SdkTracerProvider::builder().with_resource(resource.clone());
    let mut meter_provider = None;
    if let Some(endpoint) = &config.otlp_endpoint {
        let spans = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .build()?;
        tracer_builder = tracer_builder.with_batch_exporter(spans);
        let metrics = opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .build()?;
        let meters = SdkMeterProvider::builder()
            .with_resource(resource)
            .with_periodic_exporter(metrics)
            .build();
        global::set_meter_provider(meters.clone());
        meter_provider = Some(meters);
    }
    let tracer_provider = tracer_builder.build();
    let tracer = tracer_provider.tracer("minzheng");
    global::set_tracer_provider(tracer_provider.clone());

    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(&config.default_filter));
    let otel = tracing_opentelemetry::layer().with_tracer(tracer);
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    match config.log_format {
        LogFormat::Text => registry
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .try_init()?,
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(false)
                    .with_writer(std::io::stderr),
            )
            .try_init()?,
    }
    Ok(TelemetryGuard {
        tracer_provider,
        meter_provider,
    })
}

/// The global meter for minzheng's own metrics (a no-op until [`init`] configured an exporter).
pub fn meter() -> opentelemetry::metrics::Meter {
    global::meter("minzheng")
}

/// The W3C trace context of a span, as carried in stored events and message headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceContext {
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
}

impl TraceContext {
    /// The trace context of the current `tracing` span (empty when it is not sampled or no
    /// OpenTelemetry layer is installed).
    pub fn current() -> Self {
        Self::of(&tracing::Span::current())
    }

    /// The trace context of `span`.
    pub fn of(span: &tracing::Span) -> Self {
        let context = span.context();
        if !context.span().span_context().is_valid() {
            return Self::default();
        }
        let mut carrier = HashMap::new();
        global::get_text_map_propagator(|propagator| {
            propagator.inject_context(&context, &mut carrier)
        });
        Self {
            traceparent: carrier.remove("traceparent"),
            tracestate: carrier.remove("tracestate").filter(|s| !s.is_empty()),
        }
    }

    /// Makes `span` a child of this trace context. Malformed or missing context leaves the span
    /// a root: a bad header from outside must never fail the work it came with.
    pub fn set_as_parent_of(&self, span: &tracing::Span) {
        let Some(traceparent) = &self.traceparent else {
            return;
        };
        let mut carrier = HashMap::from([("traceparent".to_owned(), traceparent.clone())]);
        if let Some(state) = &self.tracestate {
            carrier.insert("tracestate".to_owned(), state.clone());
        }
        // Use a fresh propagator rather than the global one, so that extraction works the same
        // in tests and tools that never called `init`.
        let context = TraceContextPropagator::new().extract(&carrier);
        if context.span().span_context().is_valid() {
            let _ = span.set_parent(context);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_traceparent_is_ignored() {
        let context = TraceContext {
            traceparent: Some("not-a-traceparent".into()),
            tracestate: None,
        };
        // Must not panic, and without a subscriber the span has no context to report.
        context.set_as_parent_of(&tracing::Span::none());
        assert_eq!(
            TraceContext::of(&tracing::Span::none()),
            TraceContext::default()
        );
    }

    #[test]
    fn context_round_trips_through_a_span() {
        global::set_text_map_propagator(TraceContextPropagator::new());
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let incoming = TraceContext {
                traceparent: Some(
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
                ),
                tracestate: Some("vendor=1".to_owned()),
            };
            let span = tracing::info_span!("child");
            incoming.set_as_parent_of(&span);
            let outgoing = TraceContext::of(&span);
            let parent = outgoing
                .traceparent
                .expect("a sampled child has a traceparent");
            assert!(
                parent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
                "child keeps the trace id: {parent}"
            );
            assert!(
                !parent.contains("00f067aa0ba902b7"),
                "child has its own span id"
            );
            assert_eq!(outgoing.tracestate.as_deref(), Some("vendor=1"));
        });
    }
}
