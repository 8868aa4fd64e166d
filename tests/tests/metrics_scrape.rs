//! The Prometheus scrape endpoint as an SRE's Prometheus sees it: a running service (the
//! place-names service, embedded, with Benxi's divisions) answers one `GetDivision`, and a
//! scrape of `GET /metrics`, parsed by a stock Prometheus text-format parser, holds the RPC
//! duration histogram of that call, by service, method and status, and the event store's append
//! latency of the seed recorded at start.
//!
//! Its own test binary: `minzheng_telemetry::init` installs the process-wide meter provider.

use minzheng_host::testing::TestHost;
use minzheng_placenames::BENXI;
use minzheng_proto::{
    common::v1 as common,
    placenames::v1::{self as placenames, place_names_service_client::PlaceNamesServiceClient},
};
use minzheng_telemetry::{LogFormat, TelemetryConfig};
use prometheus_parse::{Scrape, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// `GET path` over plain HTTP/1.1: the status line and the body.
async fn get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("the metrics endpoint accepts");
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .expect("request sent");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("response read");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let status = head.lines().next().unwrap_or_default().to_owned();
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4")
            || !status.contains("200"),
        "the text exposition format: {head}"
    );
    (status, body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_holds_the_rpc_histogram_of_a_call_just_made() {
    let telemetry = minzheng_telemetry::init(&TelemetryConfig {
        service_name: "minzheng-metrics-test".to_owned(),
        otlp_endpoint: None,
        log_format: LogFormat::Text,
        default_filter: "warn".to_owned(),
        metrics_listen: Some("127.0.0.1:0".parse().expect("an address")),
    })
    .expect("telemetry");
    let addr = telemetry.metrics_addr().expect("a metrics endpoint");

    let host = TestHost::embedded()
        .service(minzheng_placenames::Module::default().with_seed(BENXI))
        .start()
        .await;
    PlaceNamesServiceClient::new(host.channel("placenames").await)
        .get_division(placenames::GetDivisionRequest {
            code: Some(common::RegionCode {
                code: "210500000000".to_owned(),
            }),
            as_of: None,
            read: None,
        })
        .await
        .expect("Benxi is a division");

    let (status, body) = get(addr, "/metrics").await;
    assert!(status.contains("200"), "{status}");
    let scrape = Scrape::parse(body.lines().map(|line| Ok(line.to_owned())))
        .expect("a scrape Prometheus parses");
    let histogram = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "rpc_server_duration_milliseconds"
                && s.labels.get("rpc_method") == Some("GetDivision")
        })
        .unwrap_or_else(|| panic!("the GetDivision histogram in:\n{body}"));
    assert_eq!(
        histogram.labels.get("rpc_service"),
        Some("minzheng.placenames.v1.PlaceNamesService")
    );
    assert_eq!(histogram.labels.get("rpc_grpc_status_code"), Some("0"));
    let Value::Histogram(buckets) = &histogram.value else {
        panic!("a histogram: {:?}", histogram.value);
    };
    let all = buckets
        .iter()
        .find(|b| b.less_than.is_infinite())
        .expect("a +Inf bucket");
    assert_eq!(all.count, 1.0, "exactly the one call made");
    assert!(
        scrape
            .docs
            .get("rpc_server_duration_milliseconds")
            .is_some_and(|help| !help.is_empty()),
        "the instrument's description is the family's HELP"
    );

    // The seed's divisions were appended at start: the store's append latency is there too.
    let appends = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "minzheng_store_append_duration_milliseconds"
                && s.labels.get("service") == Some("placenames")
                && s.labels.get("outcome") == Some("ok")
        })
        .unwrap_or_else(|| panic!("the place-names append histogram in:\n{body}"));
    let Value::Histogram(buckets) = &appends.value else {
        panic!("a histogram: {:?}", appends.value);
    };
    assert!(
        buckets
            .iter()
            .any(|b| b.less_than.is_infinite() && b.count >= 1.0)
    );

    let (missing, _) = get(addr, "/nothing").await;
    assert!(missing.contains("404"), "{missing}");
    host.shutdown().await;
}
