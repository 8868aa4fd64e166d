//! Faults across crates: the database connection cut in the middle of an append.

use std::{sync::Arc, time::Duration};

use minzheng_eventstore::{
    AppendRequest, ExpectedVersion, Metadata, NewEvent, SharedStore, StoreError, StreamId,
    Upcasters, postgres::PostgresStore,
};
use minzheng_testkit::{
    TestDatabase,
    proxy::{TcpProxy, postgres_url_via},
};

const EVENTS_PER_APPEND: usize = 5_000;

/// An append whose connection dies part-way leaves nothing behind, and says UNAVAILABLE-worthy
/// `Unavailable`; a successful one leaves everything. Repeated until a cut really landed inside
/// an append.
#[tokio::test]
async fn append_cut_mid_way_is_all_or_nothing() {
    let db = TestDatabase::create().await;
    let proxy = TcpProxy::start("127.0.0.1:5432".parse().unwrap()).await;
    let store: SharedStore = Arc::new(
        PostgresStore::connect(&postgres_url_via(&proxy, &db.name), Upcasters::new())
            .await
            .unwrap(),
    );
    let mut cut_inside_an_append = 0;
    for attempt in 0..30u32 {
        let stream = StreamId::new("bulk", format!("a{attempt}")).unwrap();
        let events = (0..EVENTS_PER_APPEND)
            .map(|i| NewEvent::new("test.v1.Bulk", 1, vec![(i % 251) as u8; 512]))
            .collect();
        let append = {
            let store = store.clone();
            let stream = stream.clone();
            tokio::spawn(async move {
                store
                    .append(AppendRequest {
                        stream,
                        expected: ExpectedVersion::NoStream,
                        events,
                        metadata: Metadata::default(),
                    })
                    .await
            })
        };
        // Let the append get going, then pull the plug.
        tokio::time::sleep(Duration::from_millis(u64::from(attempt % 10) * 3)).await;
        proxy.cut();
        let result = append.await.unwrap();
        proxy.restore();

        let stored = read_back(&store, &stream).await;
        match result {
            Ok(outcome) => {
                assert_eq!(outcome.stream_version, EVENTS_PER_APPEND as u64);
                assert_eq!(stored, EVENTS_PER_APPEND, "a reported success is whole");
            }
            Err(error) => {
                assert!(
                    error.is_unavailable(),
                    "a lost connection is Unavailable, got {error:?}"
                );
                // The commit may have happened just before the connection died; either way the
                // stream holds all of the append or none of it.
                assert!(
                    stored == 0 || stored == EVENTS_PER_APPEND,
                    "half an append was stored: {stored} events"
                );
                if stored == 0 {
                    cut_inside_an_append += 1;
                }
            }
        }
        if cut_inside_an_append >= 3 {
            return;
        }
    }
    assert!(
        cut_inside_an_append > 0,
        "no cut landed inside an append; the test proved nothing"
    );
}

/// How many events `stream` holds, retrying while the pool reconnects.
async fn read_back(store: &SharedStore, stream: &StreamId) -> usize {
    for _ in 0..100 {
        match store.stream_version(stream).await {
            Ok(version) => return version as usize,
            Err(StoreError::Unavailable(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(other) => panic!("reading back failed: {other:?}"),
        }
    }
    panic!("the store did not come back after the proxy was restored")
}
