//! Spans across the bus: one trace shows a command and everything it caused in other services.
//! The place-names service imports divisions over gRPC (its SERVER span), its relay publishes
//! the events to JetStream (a PRODUCER span per event) and the civil registry's divisions
//! consumer applies them (a CONSUMER span per event): all three share one trace id, carried by
//! the `traceparent` stored with each event. The spans are exported with the platform's own
//! telemetry set-up (`minzheng_telemetry::init`, OTLP over gRPC) to a collector this test runs.
//!
//! Its own test binary: `init` installs the process-wide subscriber and tracer provider.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use minzheng_host::testing::TestHost;
use minzheng_kit::clock::FixedClock;
use minzheng_telemetry::{LogFormat, TelemetryConfig};
use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::any_value::Value,
    trace::v1::{Span, span::SpanKind},
};
use secrecy::SecretString;
use time::macros::date;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;

/// A few of Benxi's divisions, in the import's CSV shape.
const DIVISIONS: &str = "code,name,level,parent_code
210000000000,辽宁省,province,
210500000000,本溪市,city,210000000000
210502000000,平山区,county,210500000000
";
const IMPORT: &str = "minzheng.placenames.v1.PlaceNamesService/ImportDivisions";

/// An OTLP/gRPC trace collector keeping every span it receives.
#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<Span>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.spans.lock().expect("not poisoned");
        for resource in request.into_inner().resource_spans {
            for scope in resource.scope_spans {
                spans.extend(scope.spans);
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// Starts the collector on a free port; its address and what it received.
async fn collector(stop: CancellationToken) -> (SocketAddr, Collector) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("bound");
    let collector = Collector::default();
    let server = tonic::transport::Server::builder()
        .add_service(TraceServiceServer::new(collector.clone()))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), async move {
            stop.cancelled().await
        });
    tokio::spawn(server);
    (addr, collector)
}

fn attribute<'s>(span: &'s Span, key: &str) -> Option<&'s Value> {
    span.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn text(span: &Span, key: &str) -> Option<String> {
    match attribute(span, key)? {
        Value::StringValue(value) => Some(value.clone()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_its_publication_and_a_consumers_handling_share_one_trace() {
    let stop = CancellationToken::new();
    let (addr, received) = collector(stop.clone()).await;
    let telemetry = minzheng_telemetry::init(&TelemetryConfig {
        service_name: "minzheng-trace-test".to_owned(),
        otlp_endpoint: Some(format!("http://{addr}")),
        log_format: LogFormat::Text,
        default_filter: "info".to_owned(),
        metrics_listen: None,
    })
    .expect("telemetry");

    let host = TestHost::distributed()
        .service(minzheng_placenames::Module::default())
        .service(
            minzheng_civilregistry::Module::new(SecretString::from(
                "trace-across-bus-test-pseudonym-key-32-bytes",
            ))
            .with_clock(Arc::new(FixedClock::new(date!(2025 - 06 - 01)))),
        )
        .start()
        .await;
    minzheng_tests::divisions::import(&host, DIVISIONS, date!(2023 - 06 - 30)).await;
    // Every event published and applied; then every span ended and exported.
    host.settle().await;
    host.shutdown().await;
    drop(telemetry);

    let spans = received.spans.lock().expect("not poisoned").clone();
    stop.cancel();
    let server = spans
        .iter()
        .find(|s| s.kind == SpanKind::Server as i32 && s.name == IMPORT)
        .unwrap_or_else(|| panic!("the import's SERVER span among {} spans", spans.len()));
    let trace = &server.trace_id;
    let in_trace = |kind: SpanKind| -> Vec<&Span> {
        spans
            .iter()
            .filter(|s| s.kind == kind as i32 && &s.trace_id == trace)
            .collect()
    };

    let producers = in_trace(SpanKind::Producer);
    assert!(
        !producers.is_empty(),
        "the relay's PRODUCER spans continue the command's trace"
    );
    for producer in &producers {
        let subject = text(producer, "messaging.destination.name").expect("a subject");
        assert!(subject.contains(".placenames."), "{subject}");
        assert_eq!(producer.name, format!("publish {subject}"));
        assert_eq!(text(producer, "messaging.system").as_deref(), Some("nats"));
        assert!(text(producer, "messaging.message.id").is_some());
    }
    let consumers = in_trace(SpanKind::Consumer);
    assert!(
        consumers.iter().any(|c| {
            text(c, "messaging.consumer.group.name")
                .is_some_and(|group| group.contains("divisions"))
        }),
        "the civil registry's divisions consumer handled the events in the command's trace: {:?}",
        consumers
            .iter()
            .map(|c| (&c.name, text(c, "messaging.consumer.group.name")))
            .collect::<Vec<_>>()
    );
    // A published event's message id names the same event a consumer handled.
    let published: Vec<String> = producers
        .iter()
        .filter_map(|p| text(p, "messaging.message.id"))
        .collect();
    assert!(
        consumers
            .iter()
            .filter_map(|c| text(c, "messaging.message.id"))
            .any(|id| published.contains(&id)),
        "a consumed event is one the relay published in this trace"
    );
}
