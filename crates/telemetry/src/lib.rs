//! Telemetry for every minzheng process: `tracing` logs (text or JSON), OpenTelemetry traces
//! and metrics exported over OTLP when an endpoint is configured, and the W3C trace context
//! (`traceparent`, `tracestate`) carried from a gRPC call into the stored event, the NATS message
//! and every consumer, so that one trace shows a command and all its consequences.
//!
//! Spans always get OpenTelemetry trace and span ids, exporter or not, so that the trace context
//! stored with an event is real even in a development run without a collector.
//!
//! # Configuration and precedence
//!
//! [`init`] takes a [`TelemetryConfig`] (from the `MZ_*` settings) and honours the standard
//! OpenTelemetry environment variables. Where both say something, the first that is set (and not
//! empty) wins:
//!
//! - **Export or not.** `OTEL_SDK_DISABLED=true` (any case) exports nothing, whatever endpoint is
//!   set; spans still get local ids so that stored trace contexts stay real.
//! - **Trace endpoint:** [`TelemetryConfig::otlp_endpoint`] (`MZ_OTLP_ENDPOINT`), then
//!   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, then `OTEL_EXPORTER_OTLP_ENDPOINT`; none of them
//!   means no trace export. **Metric endpoint:** the same with
//!   `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`; none means the global meter stays a no-op. The
//!   exporters speak OTLP over gRPC only, so an `OTEL_EXPORTER_OTLP_PROTOCOL` other than `grpc`
//!   is reported as a warning and otherwise ignored.
//! - **`service.name`:** `OTEL_SERVICE_NAME`, then `service.name` in
//!   `OTEL_RESOURCE_ATTRIBUTES`, then [`TelemetryConfig::service_name`]: the name the binary
//!   gives is a default an operator can override.
//! - **Other resource attributes:** `OTEL_RESOURCE_ATTRIBUTES` (`key=value,…`, values
//!   percent-decoded as the specification asks; a malformed value discards the whole variable
//!   with a warning), plus the SDK's `telemetry.sdk.*`.
//!
//! The variables above are read once, in [`init`], through one function that tests call with an
//! explicit environment. The SDK and the OTLP exporter read a few more by themselves, from the
//! process environment, and this crate leaves them to it: `OTEL_TRACES_SAMPLER` and
//! `OTEL_TRACES_SAMPLER_ARG` (default `parentbased_always_on`), `OTEL_BSP_*` (batch span
//! processor), `OTEL_METRIC_EXPORT_INTERVAL`/`_TIMEOUT`, `OTEL_SPAN_*_LIMIT`, and
//! `OTEL_EXPORTER_OTLP_[TRACES_|METRICS_]{HEADERS,TIMEOUT,COMPRESSION}`.
//!
//! - **Prometheus scrape endpoint:** [`TelemetryConfig::metrics_listen`] (`MZ_METRICS_LISTEN`)
//!   serves every metric at `GET /metrics` on that address ([`prometheus`]), whether or not an
//!   OTLP endpoint is configured as well.
//!
//! Architecture invariant: knows nothing of gRPC, NATS or the event store; it deals in
//! `traceparent`/`tracestate` strings and the current `tracing` span.

pub mod prometheus;

use std::{collections::HashMap, net::SocketAddr};

use opentelemetry::{
    KeyValue, global,
    propagation::TextMapPropagator,
    trace::{TraceContextExt, TracerProvider as _},
};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{
    Resource, metrics::SdkMeterProvider, propagation::TraceContextPropagator,
    resource::TelemetryResourceDetector, trace::SdkTracerProvider,
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
    /// `service.name` of exported telemetry, e.g. `minzheng-placenames`, unless
    /// `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES` name another (see the crate docs).
    pub service_name: String,
    /// OTLP/gRPC collector endpoint, e.g. `http://otel-collector:4317`, for traces and metrics;
    /// `None` falls back to the `OTEL_EXPORTER_OTLP_*ENDPOINT` variables, and without those
    /// nothing is exported.
    pub otlp_endpoint: Option<String>,
    pub log_format: LogFormat,
    /// Default filter when `RUST_LOG` is unset, e.g. `info`.
    pub default_filter: String,
    /// Where to serve the Prometheus scrape endpoint (`GET /metrics`), e.g. `0.0.0.0:9464`;
    /// `None` serves none. Port 0 picks a free one ([`TelemetryGuard::metrics_addr`]).
    pub metrics_listen: Option<SocketAddr>,
}

/// Keeps the exporters alive; dropping it flushes and shuts them down.
#[derive(Debug)]
pub struct TelemetryGuard {
    tracer_provider: SdkTracerProvider,
    meter_provider: Option<SdkMeterProvider>,
    /// The scrape endpoint's address and task, when one is served.
    scrape: Option<(SocketAddr, tokio::task::JoinHandle<()>)>,
}

impl TelemetryGuard {
    /// The address the Prometheus scrape endpoint listens on, when one is served.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.scrape.as_ref().map(|(addr, _)| *addr)
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some((_, task)) = &self.scrape {
            task.abort();
        }
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
    let plan = Plan::new(config, |name| std::env::var(name).ok());
    global::set_text_map_propagator(TraceContextPropagator::new());

    let mut tracer_builder = SdkTracerProvider::builder().with_resource(plan.resource.clone());
    if let Some(endpoint) = &plan.traces_endpoint {
        let spans = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .build()?;
        tracer_builder = tracer_builder.with_batch_exporter(spans);
    }
    let mut meter_provider = None;
    let mut scrape = None;
    if plan.metrics_endpoint.is_some() || config.metrics_listen.is_some() {
        let mut meters = SdkMeterProvider::builder().with_resource(plan.resource.clone());
        if let Some(endpoint) = &plan.metrics_endpoint {
            let metrics = opentelemetry_otlp::MetricExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.clone())
                .build()?;
            meters = meters.with_periodic_exporter(metrics);
        }
        if let Some(listen) = config.metrics_listen {
            let reader = prometheus::ScrapeReader::default();
            let listener = prometheus::bind(listen).map_err(|error| {
                anyhow::anyhow!("cannot serve the metrics endpoint on {listen}: {error}")
            })?;
            let addr = listener.local_addr()?;
            meters = meters.with_reader(reader.clone());
            scrape = Some((addr, tokio::spawn(prometheus::serve(listener, reader))));
        }
        let meters = meters.build();
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
    // Only now is there a subscriber to tell.
    for warning in &plan.warnings {
        tracing::warn!(%warning, "telemetry setting not applied");
    }
    tracing::debug!(
        service = %plan.service_name,
        traces = ?plan.traces_endpoint,
        metrics = ?plan.metrics_endpoint,
        "telemetry initialised"
    );
    Ok(TelemetryGuard {
        tracer_provider,
        meter_provider,
        scrape,
    })
}

/// What [`init`] does, decided from the configuration and the standard `OTEL_*` variables
/// (precedence in the crate docs). A pure function of its inputs, so that tests pass an
/// environment instead of changing the process's, which parallel tests share.
#[derive(Debug)]
struct Plan {
    service_name: String,
    resource: Resource,
    traces_endpoint: Option<String>,
    metrics_endpoint: Option<String>,
    /// Problems with the configuration, reported once logging is set up.
    warnings: Vec<String>,
}

impl Plan {
    fn new(config: &TelemetryConfig, env: impl Fn(&str) -> Option<String>) -> Self {
        // Empty counts as unset, as in the SDK and the OTLP exporter.
        let var = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        let mut warnings = Vec::new();

        let attributes = match var("OTEL_RESOURCE_ATTRIBUTES")
            .map(|value| parse_resource_attributes(&value))
            .transpose()
        {
            Ok(attributes) => attributes.unwrap_or_default(),
            Err(error) => {
                warnings.push(format!("OTEL_RESOURCE_ATTRIBUTES ignored: {error}"));
                Vec::new()
            }
        };
        let service_name = var("OTEL_SERVICE_NAME")
            .or_else(|| {
                attributes
                    .iter()
                    .rev()
                    .find(|kv| kv.key.as_str() == SERVICE_NAME)
                    .map(|kv| kv.value.as_str().into_owned())
            })
            .unwrap_or_else(|| config.service_name.clone());
        let resource = Resource::builder_empty()
            .with_detector(Box::new(TelemetryResourceDetector))
            .with_attributes(attributes)
            .with_service_name(service_name.clone())
            .build();

        let disabled =
            var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let endpoint = |signal_variable: &str| {
            if disabled {
                return None;
            }
            config
                .otlp_endpoint
                .clone()
                .filter(|endpoint| !endpoint.trim().is_empty())
                .or_else(|| var(signal_variable))
                .or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"))
        };
        let traces_endpoint = endpoint("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        let metrics_endpoint = endpoint("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");

        for name in [
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
        ] {
            if let Some(protocol) = var(name).filter(|p| p.trim() != "grpc") {
                warnings.push(format!(
                    "{name}={protocol} ignored: minzheng exports OTLP over gRPC only"
                ));
            }
        }
        Self {
            service_name,
            resource,
            traces_endpoint,
            metrics_endpoint,
            warnings,
        }
    }
}

const SERVICE_NAME: &str = "service.name";

/// Parses `OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs separated by commas, values
/// percent-encoded (the W3C Baggage octet rules). The specification asks that a value that does
/// not decode discards the whole variable, so one error fails it all.
fn parse_resource_attributes(value: &str) -> Result<Vec<KeyValue>, String> {
    value
        .split(',')
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| {
            let (key, value) = entry
                .split_once('=')
                .ok_or_else(|| format!("{entry:?} is not key=value"))?;
            let key = key.trim();
            if key.is_empty() {
                return Err(format!("{entry:?} has an empty key"));
            }
            let value = percent_decode(value.trim())
                .ok_or_else(|| format!("the value of {key} is not valid percent-encoded UTF-8"))?;
            Ok(KeyValue::new(key.to_owned(), value))
        })
        .collect()
}

fn percent_decode(encoded: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            // Checked digit by digit: `from_str_radix` alone would take a sign, as in `%+1`.
            let hex = tail
                .get(..2)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
            bytes.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
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

    fn plan(config: &TelemetryConfig, env: &[(&str, &str)]) -> Plan {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Plan::new(config, |name| env.get(name).cloned())
    }

    fn config(endpoint: Option<&str>) -> TelemetryConfig {
        TelemetryConfig {
            service_name: "minzheng-placenames".to_owned(),
            otlp_endpoint: endpoint.map(str::to_owned),
            ..TelemetryConfig::default()
        }
    }

    fn attribute(plan: &Plan, key: &str) -> Option<String> {
        plan.resource
            .get(&opentelemetry::Key::from(key.to_owned()))
            .map(|value| value.as_str().into_owned())
    }

    #[test]
    fn without_any_variable_the_config_decides() {
        let configured = plan(&config(Some("http://collector:4317")), &[]);
        assert_eq!(configured.service_name, "minzheng-placenames");
        assert_eq!(
            attribute(&configured, "service.name").as_deref(),
            Some("minzheng-placenames")
        );
        assert_eq!(
            attribute(&configured, "telemetry.sdk.language").as_deref(),
            Some("rust")
        );
        assert_eq!(
            configured.traces_endpoint.as_deref(),
            Some("http://collector:4317")
        );
        assert_eq!(
            configured.metrics_endpoint.as_deref(),
            Some("http://collector:4317")
        );
        assert!(configured.warnings.is_empty(), "{:?}", configured.warnings);

        let silent = plan(&config(None), &[]);
        assert_eq!(silent.traces_endpoint, None);
        assert_eq!(silent.metrics_endpoint, None);
    }

    #[test]
    fn service_name_otel_service_name_then_resource_attributes_then_config() {
        let attributes = (
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=from-attributes,deployment.environment=staging",
        );
        let both = plan(
            &config(None),
            &[attributes, ("OTEL_SERVICE_NAME", "from-service-name")],
        );
        assert_eq!(both.service_name, "from-service-name");
        assert_eq!(
            attribute(&both, "service.name").as_deref(),
            Some("from-service-name")
        );
        assert_eq!(
            attribute(&both, "deployment.environment").as_deref(),
            Some("staging")
        );

        let attributes_only = plan(&config(None), &[attributes]);
        assert_eq!(
            attribute(&attributes_only, "service.name").as_deref(),
            Some("from-attributes")
        );

        let empty = plan(&config(None), &[("OTEL_SERVICE_NAME", "")]);
        assert_eq!(
            attribute(&empty, "service.name").as_deref(),
            Some("minzheng-placenames"),
            "an empty variable counts as unset"
        );
    }

    #[test]
    fn resource_attributes_are_percent_decoded_and_all_or_nothing() {
        let decoded = plan(
            &config(None),
            &[(
                "OTEL_RESOURCE_ATTRIBUTES",
                " k8s.namespace.name = minzheng ,team=civil%20affairs%2C%20Benxi",
            )],
        );
        assert_eq!(
            attribute(&decoded, "k8s.namespace.name").as_deref(),
            Some("minzheng")
        );
        assert_eq!(
            attribute(&decoded, "team").as_deref(),
            Some("civil affairs, Benxi")
        );

        for malformed in ["a=1,b", "a=1,b=%zz", "a=1,b=%+1", "=x"] {
            let plan = plan(&config(None), &[("OTEL_RESOURCE_ATTRIBUTES", malformed)]);
            assert_eq!(
                attribute(&plan, "a"),
                None,
                "{malformed:?} is discarded whole"
            );
            assert_eq!(plan.warnings.len(), 1, "{malformed:?}: {:?}", plan.warnings);
        }
    }

    #[test]
    fn endpoint_mz_then_signal_variable_then_otlp_endpoint() {
        let generic = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4317");
        let traces = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4317");

        let mz = plan(&config(Some("http://mz:4317")), &[generic, traces]);
        assert_eq!(mz.traces_endpoint.as_deref(), Some("http://mz:4317"));
        assert_eq!(mz.metrics_endpoint.as_deref(), Some("http://mz:4317"));

        let otel = plan(&config(None), &[generic, traces]);
        assert_eq!(otel.traces_endpoint.as_deref(), Some("http://traces:4317"));
        assert_eq!(
            otel.metrics_endpoint.as_deref(),
            Some("http://generic:4317")
        );

        let traces_only = plan(&config(None), &[traces]);
        assert_eq!(
            traces_only.traces_endpoint.as_deref(),
            Some("http://traces:4317")
        );
        assert_eq!(
            traces_only.metrics_endpoint, None,
            "no metric endpoint anywhere: metrics stay a no-op"
        );
    }

    #[test]
    fn sdk_disabled_exports_nothing_whatever_the_endpoint() {
        let disabled = plan(
            &config(Some("http://mz:4317")),
            &[
                ("OTEL_SDK_DISABLED", "TRUE"),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4317"),
            ],
        );
        assert_eq!(disabled.traces_endpoint, None);
        assert_eq!(disabled.metrics_endpoint, None);

        let not_true = plan(
            &config(Some("http://mz:4317")),
            &[("OTEL_SDK_DISABLED", "1")],
        );
        assert_eq!(
            not_true.traces_endpoint.as_deref(),
            Some("http://mz:4317"),
            "only `true` disables, as the specification says"
        );
    }

    #[test]
    fn a_protocol_other_than_grpc_is_reported() {
        let plan = plan(
            &config(None),
            &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")],
        );
        assert_eq!(plan.warnings.len(), 1, "{:?}", plan.warnings);
        assert!(
            plan.warnings[0].contains("gRPC only"),
            "{:?}",
            plan.warnings
        );
    }
}
