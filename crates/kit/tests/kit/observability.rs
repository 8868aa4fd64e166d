//! What the server records of every RPC, read back from in-memory exporters: the
//! `rpc.server.duration` histogram per method and status code, and the status code and error
//! status on each server span. Health checks are not recorded.
//!
//! Each test reads its own exporters: metrics through a meter given to the server, spans
//! through a subscriber set for the test's thread only (a `#[tokio::test]` runs the server on
//! that same thread), so tests running in parallel never see each other's calls.

use std::collections::BTreeMap;

use minzheng_kit::{
    auth::Role,
    server::{RunningServer, ServerBuilder},
};
use opentelemetry::{
    Value,
    metrics::MeterProvider as _,
    trace::{Status, TracerProvider as _},
};
use opentelemetry_sdk::{
    metrics::{
        InMemoryMetricExporter, PeriodicReader, SdkMeterProvider,
        data::{AggregatedMetrics, MetricData},
    },
    trace::{InMemorySpanExporter, SdkTracerProvider, SpanData},
};
use tokio_util::sync::CancellationToken;
use tonic::{Code, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tracing_subscriber::layer::SubscriberExt as _;

use crate::support::{
    CallOptions, SERVICE, WhoamiRequest, WhoamiResponse, WhoamiServer, authenticator, channel,
    descriptor_set, token, whoami,
};

const WHOAMI: &str = "Whoami";
const METRIC: &str = "rpc.server.duration";

async fn start(configure: impl FnOnce(ServerBuilder) -> ServerBuilder) -> RunningServer {
    let builder = ServerBuilder::new("127.0.0.1:0".parse().expect("address"), authenticator())
        .add_service(WhoamiServer::default())
        .file_descriptor_set(descriptor_set())
        .shutdown_token(CancellationToken::new());
    configure(builder).build().await.expect("server starts")
}

fn public() -> WhoamiRequest {
    WhoamiRequest::default()
}

fn demanding(role: &str) -> WhoamiRequest {
    WhoamiRequest {
        required_role: role.to_owned(),
        ..WhoamiRequest::default()
    }
}

/// Calls a method the test service does not have: it answers UNIMPLEMENTED, trailers-only.
async fn call_missing_method(channel: Channel, options: CallOptions) -> Code {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("channel ready");
    let mut request = tonic::Request::new(public());
    options.apply(&mut request);
    let codec = tonic_prost::ProstCodec::<WhoamiRequest, WhoamiResponse>::default();
    let path = http::uri::PathAndQuery::from_static("/minzheng.test.v1.WhoamiService/Missing");
    grpc.unary(request, path, codec)
        .await
        .expect_err("no such method")
        .code()
}

/// Lists services over reflection v1: a bidirectional stream whose OK status comes in the
/// trailers after the last message.
async fn list_services_by_reflection(channel: Channel) {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest,
    };
    let mut client = ServerReflectionClient::new(channel);
    let mut responses = client
        .server_reflection_info(futures::stream::iter([ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        }]))
        .await
        .expect("reflection answers")
        .into_inner();
    while responses
        .message()
        .await
        .expect("the stream ends with OK")
        .is_some()
    {}
}

/// One histogram point: its attributes (values as text) and how many calls it counts.
#[derive(Debug, PartialEq)]
struct Point {
    attributes: BTreeMap<String, String>,
    count: u64,
}

fn attributes<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn expected(service: &str, method: &str, code: Code, count: u64) -> Point {
    let code = (code as i32).to_string();
    Point {
        attributes: attributes([
            ("rpc.system", "grpc"),
            ("rpc.service", service),
            ("rpc.method", method),
            ("rpc.grpc.status_code", code.as_str()),
        ]),
        count,
    }
}

/// The points of the duration histogram in the last export, sorted; checks its unit and
/// that the status code is an integer attribute, as the conventions ask.
fn duration_points(exporter: &InMemoryMetricExporter) -> Vec<Point> {
    let exported = exporter.get_finished_metrics().expect("exported metrics");
    let last = exported.last().expect("one export after the flush");
    let mut points = Vec::new();
    for metric in last.scope_metrics().flat_map(|scope| scope.metrics()) {
        if metric.name() != METRIC {
            continue;
        }
        assert_eq!(metric.unit(), "ms");
        let AggregatedMetrics::F64(MetricData::Histogram(histogram)) = metric.data() else {
            panic!("{METRIC} is a histogram of f64: {:?}", metric.data());
        };
        for point in histogram.data_points() {
            let mut attributes = BTreeMap::new();
            for kv in point.attributes() {
                if kv.key.as_str() == "rpc.grpc.status_code" {
                    assert!(
                        matches!(kv.value, Value::I64(_)),
                        "the status code is an int: {kv:?}"
                    );
                }
                attributes.insert(kv.key.to_string(), kv.value.to_string());
            }
            points.push(Point {
                attributes,
                count: point.count(),
            });
        }
    }
    points.sort_by(|a, b| a.attributes.cmp(&b.attributes));
    points
}

#[tokio::test]
async fn every_rpc_but_health_is_measured_by_method_and_status_code() {
    let exporter = InMemoryMetricExporter::default();
    let meters = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    let server = start(|builder| builder.meter(meters.meter("kit-tests"))).await;
    let channel = channel(server.local_addr()).await;
    let caseworker = CallOptions::bearer(token("staff-1", &[Role::Caseworker], &["210502001000"]));

    // OK with a body: the status is in the trailers.
    whoami(channel.clone(), public(), CallOptions::default())
        .await
        .expect("a public call succeeds");
    // Refused by the handler, and by the authentication layer before any handler.
    let denied = whoami(channel.clone(), demanding("approver"), caseworker)
        .await
        .expect_err("a caseworker is no approver");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let unauthenticated = whoami(channel.clone(), public(), CallOptions::bearer("not-a-jwt"))
        .await
        .expect_err("an invalid token");
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);
    // A method the service does not have is named `_OTHER`: paths are the client's choice.
    let missing = call_missing_method(channel.clone(), CallOptions::default()).await;
    assert_eq!(missing, Code::Unimplemented);
    // A stream: OK in the trailers after the last message.
    list_services_by_reflection(channel.clone()).await;
    // Not measured.
    HealthClient::new(channel.clone())
        .check(HealthCheckRequest::default())
        .await
        .expect("health check");

    meters.force_flush().expect("flush");
    let mut wanted = vec![
        expected(SERVICE, WHOAMI, Code::Ok, 1),
        expected(SERVICE, WHOAMI, Code::PermissionDenied, 1),
        expected(SERVICE, WHOAMI, Code::Unauthenticated, 1),
        expected(SERVICE, "_OTHER", Code::Unimplemented, 1),
        expected(
            "grpc.reflection.v1.ServerReflection",
            "ServerReflectionInfo",
            Code::Ok,
            1,
        ),
    ];
    wanted.sort_by(|a, b| a.attributes.cmp(&b.attributes));
    assert_eq!(duration_points(&exporter), wanted);
    server.shutdown().await.expect("clean shutdown");
}

/// The attributes and status of the server span of the call made with `trace_id`.
fn server_span(spans: &[SpanData], trace_id: &str) -> (String, BTreeMap<String, Value>, Status) {
    let span = spans
        .iter()
        .find(|span| {
            span.span_kind == opentelemetry::trace::SpanKind::Server
                && span.span_context.trace_id().to_string() == trace_id
        })
        .unwrap_or_else(|| panic!("a server span in trace {trace_id}: {spans:#?}"));
    let attributes = span
        .attributes
        .iter()
        .map(|kv| (kv.key.to_string(), kv.value.clone()))
        .collect();
    (span.name.to_string(), attributes, span.status.clone())
}

fn traced(trace_id: &str, options: CallOptions) -> CallOptions {
    CallOptions {
        traceparent: Some(format!("00-{trace_id}-00f067aa0ba902b7-01")),
        ..options
    }
}

#[tokio::test]
async fn server_spans_carry_the_status_code_and_error_only_for_server_errors() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::filter::LevelFilter::INFO)
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("kit-tests")));
    let _subscriber = tracing::subscriber::set_default(subscriber);
    // Callsites first reached without this subscriber cached "disabled"; recompute.
    tracing::callsite::rebuild_interest_cache();

    let server = start(|builder| builder).await;
    let channel = channel(server.local_addr()).await;
    let caseworker = CallOptions::bearer(token("staff-1", &[Role::Caseworker], &["210502001000"]));

    let ok = "0000000000000000000000000000000a";
    whoami(
        channel.clone(),
        public(),
        traced(ok, CallOptions::default()),
    )
    .await
    .expect("a public call succeeds");
    let denied = "0000000000000000000000000000000b";
    whoami(
        channel.clone(),
        demanding("approver"),
        traced(denied, caseworker),
    )
    .await
    .expect_err("a caseworker is no approver");
    let missing = "0000000000000000000000000000000c";
    call_missing_method(channel.clone(), traced(missing, CallOptions::default())).await;
    HealthClient::new(channel.clone())
        .check(HealthCheckRequest::default())
        .await
        .expect("health check");

    let spans = exporter.get_finished_spans().expect("finished spans");
    let code = |code: Code| Value::I64(i64::from(code as i32));

    let (name, attributes, status) = server_span(&spans, ok);
    assert_eq!(name, format!("{SERVICE}/{WHOAMI}"));
    assert_eq!(
        attributes.get("rpc.grpc.status_code"),
        Some(&code(Code::Ok))
    );
    assert_eq!(attributes.get("rpc.method"), Some(&Value::from(WHOAMI)));
    assert_eq!(status, Status::Unset);

    let (_, attributes, status) = server_span(&spans, denied);
    assert_eq!(
        attributes.get("rpc.grpc.status_code"),
        Some(&code(Code::PermissionDenied))
    );
    assert_eq!(
        status,
        Status::Unset,
        "the caller's mistake is no server error"
    );

    let (name, attributes, status) = server_span(&spans, missing);
    assert_eq!(name, format!("{SERVICE}/_OTHER"));
    assert_eq!(
        attributes.get("rpc.grpc.status_code"),
        Some(&code(Code::Unimplemented))
    );
    assert!(
        matches!(status, Status::Error { .. }),
        "UNIMPLEMENTED is a server error: {status:?}"
    );

    assert!(
        !spans
            .iter()
            .any(|span| span.name.starts_with("grpc.health.v1.Health")),
        "health checks have no span"
    );
    // What the caller sent (its subject, the role it asked for) and the refusal's message stay
    // out of the spans: names and codes only.
    for span in &spans {
        let recorded = format!("{:?} {:?}", span.attributes, span.status);
        for private in ["staff-1", "approver", "caseworker", "Bearer"] {
            assert!(
                !recorded.contains(private),
                "{private:?} in span {}: {recorded}",
                span.name
            );
        }
    }
    server.shutdown().await.expect("clean shutdown");
}
