//! The short form of `make chaos`: the suite as processes on a private PostgreSQL cluster and
//! nats-server, under load for about a minute while every fault kind is injected once, then
//! reconciled. The seed is fixed (and printed) so that CI sees the same fault schedule each
//! time; `MZ_CHAOS_SEED` overrides it to replay another.
//!
//! Needs the `minzheng` binary beside the test (`cargo build -p minzheng`; `cargo nextest run
//! --workspace` builds it).

use std::time::Duration;

use minzheng_tests::chaos::{self, Options, faults::FaultKind};

const SEED: u64 = 20_261_203;
const DURATION: Duration = Duration::from_secs(75);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_acknowledged_command_is_lost_and_nothing_is_published_or_applied_twice_under_faults() {
    let seed = std::env::var("MZ_CHAOS_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(SEED);
    let logs = tempfile::Builder::new()
        .prefix("chaos-short")
        .tempdir()
        .expect("a directory for the services' logs");
    println!(
        "chaos short form: seed {seed}, logs in {}",
        logs.path().display()
    );
    let report = chaos::run(Options {
        seed,
        duration: DURATION,
        faults: FaultKind::ALL.to_vec(),
        pacing: Options::pacing_for(DURATION),
        // Lighter than `make chaos`: the test shares the machine with the rest of the suite.
        load_pace: Duration::from_millis(100),
        duplicate_window: Duration::from_secs(3),
        log_dir: logs.path().to_owned(),
    })
    .await
    .expect("the chaos run completes");
    println!("{report}");
    for kind in FaultKind::ALL {
        assert!(
            report.faults.injected.contains_key(&kind),
            "{} was never injected: the short form must exercise every kind\n{report}",
            kind.name()
        );
    }
    if !report.passed() {
        // Keep the logs of a failed run for whoever reads the failure.
        let kept = logs.keep();
        panic!(
            "invariants broken (logs kept in {}):\n{report}",
            kept.display()
        );
    }
}

/// Reconciliation's stream check counts what it claims to: a stream holding events 1, 3, 2 and
/// 1 again (republished without its message id, as a relay restarted after the duplicate window
/// would), of a store holding 1 to 4, has one duplicated, one lost and one out of order.
#[tokio::test]
async fn the_stream_check_counts_lost_duplicated_and_reordered_events() {
    use async_nats::{HeaderMap, header::NATS_MESSAGE_ID, jetstream};
    use minzheng_bus::{BusNaming, envelope};
    use minzheng_eventstore::{Cursor, Metadata, RecordedEvent, StreamId};
    use minzheng_testkit::{nats, unique_name};
    use minzheng_tests::chaos::reconcile::check_stream;

    let naming = BusNaming::with_prefix(&unique_name("chaos"), "widgets").expect("valid names");
    let js = jetstream::new(nats().await);
    js.create_stream(jetstream::stream::Config {
        name: naming.stream_name().to_owned(),
        subjects: vec![naming.stream_subjects()],
        ..Default::default()
    })
    .await
    .expect("a test stream");
    let stored: Vec<RecordedEvent> = (1..=4)
        .map(|position| RecordedEvent {
            id: uuid::Uuid::now_v7(),
            stream: StreamId::new("widget", format!("w{position}")).expect("a stream id"),
            stream_version: 1,
            position,
            cursor: Cursor {
                tx: position,
                position,
            },
            event_type: "test.v1.WidgetMade".to_owned(),
            schema_version: 1,
            payload: bytes::Bytes::from_static(b"w"),
            metadata: Metadata::default(),
            recorded_at: time::macros::datetime!(2026-01-01 0:00 UTC),
        })
        .collect();
    for (event, with_message_id) in [
        (&stored[0], true),
        (&stored[2], true),
        (&stored[1], true),
        (&stored[0], false),
    ] {
        let message = envelope::encode(&naming, event).expect("an encodable event");
        let mut headers = HeaderMap::new();
        for (name, values) in message.headers.iter() {
            if with_message_id || *name != NATS_MESSAGE_ID {
                for value in values {
                    headers.append(name.clone(), value.clone());
                }
            }
        }
        js.publish_with_headers(message.subject, headers, message.payload)
            .await
            .expect("publish")
            .await
            .expect("stored");
    }
    let check = check_stream(&js, naming.stream_name(), &stored)
        .await
        .expect("the stream is readable");
    js.delete_stream(naming.stream_name())
        .await
        .expect("cleanup");
    assert_eq!(
        (
            check.stored,
            check.published,
            check.lost,
            check.duplicated,
            check.out_of_order,
            check.unknown
        ),
        (4, 4, 1, 1, 1, 0),
        "{check:?}"
    );
}
