//! A Prometheus scrape endpoint for the process's OpenTelemetry metrics: `GET /metrics` answers
//! the text exposition format (version 0.0.4) of everything the global meter records, so that
//! a stock Prometheus (or its Kubernetes `ServiceMonitor`) scrapes a service directly, with or
//! without an OTLP collector.
//!
//! The names follow OpenTelemetry's Prometheus compatibility rules: dots and other characters
//! Prometheus does not allow become `_`, the unit is appended in words (`ms` → `_milliseconds`,
//! `s` → `_seconds`, `By` → `_bytes`; an annotation in braces such as `{event}` is dropped), and
//! a monotonic sum (a counter) ends in `_total`. A histogram gives `_bucket{le=…}` (cumulative,
//! ending with `+Inf`), `_sum` and `_count`; a gauge or a non-monotonic sum is a gauge. Every
//! instrument's description becomes its `# HELP`. Values are cumulative since the process
//! started, as Prometheus expects.
//!
//! The endpoint is plain HTTP/1.1 on its own port ([`crate::TelemetryConfig::metrics_listen`]),
//! apart from the gRPC port and its authentication: metrics hold no personal data (attribute
//! values are method names, service and consumer names, outcomes).

use std::{
    collections::BTreeMap,
    convert::Infallible,
    fmt::Write as _,
    net::SocketAddr,
    sync::{Arc, Weak},
    time::Duration,
};

use http_body_util::Full;
use hyper::{Method, Request, Response, StatusCode, body::Bytes, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::{
    error::OTelSdkResult,
    metrics::{
        InstrumentKind, ManualReader, Pipeline, Temporality,
        data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics},
        reader::MetricReader,
    },
};
use tokio::net::TcpListener;

/// How long a scraper may take to send its request's head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The content type of the text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric reader the scrape endpoint collects through: one [`ManualReader`] (cumulative
/// temporality) shared between the meter provider, which registers its pipeline, and the
/// endpoint, which collects on every scrape.
#[derive(Debug, Clone, Default)]
pub struct ScrapeReader {
    inner: Arc<ManualReader>,
}

impl ScrapeReader {
    /// Everything the meter provider recorded so far, in the text exposition format.
    pub fn render(&self) -> String {
        let mut metrics = ResourceMetrics::default();
        match self.inner.collect(&mut metrics) {
            Ok(()) => render(&metrics),
            // Only before the provider registered or after it shut down: nothing to show.
            Err(_) => String::new(),
        }
    }
}

impl MetricReader for ScrapeReader {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.inner.register_pipeline(pipeline);
    }

    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.inner.collect(rm)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.inner.temporality(kind)
    }
}

/// Serves `GET /metrics` from `reader` on `listener` until the task is dropped or aborted;
/// every other request is 404 (405 for another method on `/metrics`).
pub async fn serve(listener: TcpListener, reader: ScrapeReader) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "metrics endpoint: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let reader = reader.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(request, reader.clone()));
            // A client that never finishes its request head is dropped, not kept forever.
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!(%error, "metrics endpoint: connection ended with an error");
            }
        });
    }
}

/// Binds the endpoint's listener now (so that a taken port fails start-up, not a later
/// scrape), for [`serve`]; inside a Tokio runtime.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    TcpListener::from_std(listener)
}

async fn answer<B>(
    request: Request<B>,
    reader: ScrapeReader,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => Response::builder()
            .header(hyper::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(Full::new(Bytes::from(reader.render()))),
        (_, "/metrics") => Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header(hyper::header::ALLOW, "GET, HEAD")
            .body(Full::new(Bytes::new())),
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Full::new(Bytes::from_static(b"metrics are at /metrics\n"))),
    };
    Ok(response.unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

/// `metrics` in the text exposition format.
pub fn render(metrics: &ResourceMetrics) -> String {
    // By name, so that one family is written once even if two scopes record it.
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    for scope in metrics.scope_metrics() {
        for metric in scope.metrics() {
            add(&mut families, metric);
        }
    }
    let mut out = String::new();
    for (name, family) in &families {
        if !family.help.is_empty() {
            let _ = writeln!(out, "# HELP {name} {}", escape_help(&family.help));
        }
        let _ = writeln!(out, "# TYPE {name} {}", family.kind);
        out.push_str(&family.samples);
    }
    out
}

/// One metric family being written.
struct Family {
    kind: &'static str,
    help: String,
    samples: String,
}

fn add(families: &mut BTreeMap<String, Family>, metric: &Metric) {
    let base = metric_name(metric.name(), metric.unit());
    match metric.data() {
        AggregatedMetrics::F64(data) => add_data(families, &base, metric, data, |v| v),
        AggregatedMetrics::U64(data) => add_data(families, &base, metric, data, |v| v as f64),
        AggregatedMetrics::I64(data) => add_data(families, &base, metric, data, |v| v as f64),
    }
}

fn add_data<T: Copy>(
    families: &mut BTreeMap<String, Family>,
    base: &str,
    metric: &Metric,
    data: &MetricData<T>,
    number: impl Fn(T) -> f64,
) {
    let help = metric.description();
    match data {
        MetricData::Gauge(gauge) => {
            let samples = family(families, base.to_owned(), "gauge", help);
            for point in gauge.data_points() {
                sample(
                    samples,
                    base,
                    &labels(point.attributes(), None),
                    number(point.value()),
                );
            }
        }
        MetricData::Sum(sum) => {
            let (name, kind) = if sum.is_monotonic() {
                (format!("{base}_total"), "counter")
            } else {
                (base.to_owned(), "gauge")
            };
            let samples = family(families, name.clone(), kind, help);
            for point in sum.data_points() {
                sample(
                    samples,
                    &name,
                    &labels(point.attributes(), None),
                    number(point.value()),
                );
            }
        }
        MetricData::Histogram(histogram) => {
            let samples = family(families, base.to_owned(), "histogram", help);
            for point in histogram.data_points() {
                let mut cumulative = 0u64;
                let bounds: Vec<f64> = point.bounds().collect();
                for (index, count) in point.bucket_counts().enumerate() {
                    cumulative += count;
                    let le = bounds
                        .get(index)
                        .map_or_else(|| "+Inf".to_owned(), |bound| float(*bound));
                    let bucket = labels(point.attributes(), Some(&le));
                    sample(
                        samples,
                        &format!("{base}_bucket"),
                        &bucket,
                        cumulative as f64,
                    );
                }
                let plain = labels(point.attributes(), None);
                sample(samples, &format!("{base}_sum"), &plain, number(point.sum()));
                sample(
                    samples,
                    &format!("{base}_count"),
                    &plain,
                    point.count() as f64,
                );
            }
        }
        // Not used by minzheng's instruments; an exponential histogram has no text form.
        MetricData::ExponentialHistogram(_) => {}
    }
}

/// The samples of family `name`, started with its type and help when new.
fn family<'f>(
    families: &'f mut BTreeMap<String, Family>,
    name: String,
    kind: &'static str,
    help: &str,
) -> &'f mut String {
    &mut families
        .entry(name)
        .or_insert_with(|| Family {
            kind,
            help: help.to_owned(),
            samples: String::new(),
        })
        .samples
}

fn sample(out: &mut String, name: &str, labels: &str, value: f64) {
    let _ = writeln!(out, "{name}{labels} {}", float(value));
}

/// `{key="value",…}` from the attributes (and `le` for a bucket); empty when there are none.
fn labels<'a>(attributes: impl Iterator<Item = &'a KeyValue>, le: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = attributes
        .map(|kv| (label_name(kv.key.as_str()), value_text(&kv.value)))
        .collect();
    pairs.sort();
    if let Some(le) = le {
        pairs.push(("le".to_owned(), le.to_owned()));
    }
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("{key}=\"{}\"", escape_label(value)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn value_text(value: &Value) -> String {
    value.as_str().into_owned()
}

/// The Prometheus name of an instrument: sanitised, with its unit in words.
fn metric_name(name: &str, unit: &str) -> String {
    let mut out = sanitize(name, true);
    let unit = unit_word(unit);
    if !unit.is_empty() && !out.ends_with(&format!("_{unit}")) {
        out.push('_');
        out.push_str(&unit);
    }
    out
}

fn unit_word(unit: &str) -> String {
    // An annotation in braces (`{event}`) names what is counted, not a unit.
    let unit = match unit.find('{') {
        Some(start) => &unit[..start],
        None => unit,
    };
    match unit.trim() {
        "" | "1" => String::new(),
        "ms" => "milliseconds".to_owned(),
        "s" => "seconds".to_owned(),
        "us" => "microseconds".to_owned(),
        "ns" => "nanoseconds".to_owned(),
        "By" => "bytes".to_owned(),
        "KiBy" => "kibibytes".to_owned(),
        "MiBy" => "mebibytes".to_owned(),
        other => sanitize(other, false),
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*` for metric names (`colons`), without `:` for labels; every other
/// character becomes `_`, and a leading digit gets a `_` before it.
fn sanitize(name: &str, colons: bool) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    for (index, c) in name.chars().enumerate() {
        let allowed = c.is_ascii_alphanumeric() || c == '_' || (colons && c == ':');
        if index == 0 && c.is_ascii_digit() {
            out.push('_');
        }
        out.push(if allowed { c } else { '_' });
    }
    out
}

fn label_name(key: &str) -> String {
    let name = sanitize(key, false);
    // Names beginning with `__` are reserved for Prometheus itself.
    if name.starts_with("__") {
        format!("key{name}")
    } else {
        name
    }
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

fn float(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value == f64::INFINITY {
        "+Inf".to_owned()
    } else if value == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::SdkMeterProvider;

    use super::*;

    #[test]
    fn names_follow_the_compatibility_rules() {
        assert_eq!(
            metric_name("rpc.server.duration", "ms"),
            "rpc_server_duration_milliseconds"
        );
        assert_eq!(
            metric_name("minzheng.relay.lag", "s"),
            "minzheng_relay_lag_seconds"
        );
        assert_eq!(
            metric_name("minzheng.relay.batches", ""),
            "minzheng_relay_batches"
        );
        assert_eq!(metric_name("events", "{event}"), "events");
        assert_eq!(metric_name("9lives", "1"), "_9lives");
        assert_eq!(label_name("rpc.method"), "rpc_method");
        assert_eq!(label_name("__name"), "key__name");
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    /// A counter, a histogram and a gauge recorded through a provider read by the scrape
    /// reader come out as Prometheus families with their help, type, labels and values.
    #[test]
    fn recorded_instruments_render_as_families() {
        let reader = ScrapeReader::default();
        let provider = SdkMeterProvider::builder()
            .with_reader(reader.clone())
            .build();
        let meter = provider.meter("test");
        let published = meter
            .u64_counter("minzheng.relay.events_published")
            .with_description("Events published.")
            .build();
        published.add(3, &[KeyValue::new("service", "placenames")]);
        published.add(2, &[KeyValue::new("service", "placenames")]);
        let duration = meter
            .f64_histogram("rpc.server.duration")
            .with_unit("ms")
            .with_description("Time to answer an RPC.")
            .with_boundaries(vec![1.0, 10.0])
            .build();
        let method = [KeyValue::new("rpc.method", "GetDivision")];
        duration.record(0.5, &method);
        duration.record(5.0, &method);
        duration.record(50.0, &method);
        meter
            .f64_gauge("minzheng.store.oldest_open_transaction")
            .with_unit("s")
            .build()
            .record(1.5, &[]);

        let text = reader.render();
        for line in [
            "# HELP minzheng_relay_events_published_total Events published.",
            "# TYPE minzheng_relay_events_published_total counter",
            "minzheng_relay_events_published_total{service=\"placenames\"} 5",
            "# TYPE rpc_server_duration_milliseconds histogram",
            "rpc_server_duration_milliseconds_bucket{rpc_method=\"GetDivision\",le=\"1\"} 1",
            "rpc_server_duration_milliseconds_bucket{rpc_method=\"GetDivision\",le=\"10\"} 2",
            "rpc_server_duration_milliseconds_bucket{rpc_method=\"GetDivision\",le=\"+Inf\"} 3",
            "rpc_server_duration_milliseconds_sum{rpc_method=\"GetDivision\"} 55.5",
            "rpc_server_duration_milliseconds_count{rpc_method=\"GetDivision\"} 3",
            "# TYPE minzheng_store_oldest_open_transaction_seconds gauge",
            "minzheng_store_oldest_open_transaction_seconds 1.5",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in:\n{text}"
            );
        }
    }
}
