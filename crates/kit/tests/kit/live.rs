//! `live::LiveView` over PostgreSQL, where store positions have gaps: a failed append takes
//! positions from the sequence and gives none of them an event.

use std::time::Duration;

use bytes::Bytes;
use minzheng_eventstore::{
    AppendOutcome, AppendRequest, ExpectedVersion, Metadata, NewEvent, RecordedEvent, SharedStore,
    StoreError, StreamId, Upcasters,
};
use minzheng_kit::{
    aggregate::{CodecError, Contract},
    live::{LiveProjection, LiveView},
};
use minzheng_testkit::TestDatabase;
use tokio_util::sync::CancellationToken;

/// Long enough for any store to settle a position; a wait that needs it all has failed.
const PATIENCE: Duration = Duration::from_secs(30);

/// Every event, by position.
struct Positions;

impl Contract for Positions {
    type Event = u64;

    fn decode(event: &RecordedEvent) -> Result<Option<u64>, CodecError> {
        Ok(Some(event.position))
    }
}

#[derive(Default)]
struct Applied(Vec<u64>);

impl LiveProjection for Applied {
    type Contract = Positions;

    fn apply(&mut self, position: u64, _: &RecordedEvent) -> anyhow::Result<()> {
        self.0.push(position);
        Ok(())
    }
}

fn stream(key: &str) -> StreamId {
    StreamId::new("thing", key).expect("valid stream id")
}

async fn append(
    store: &SharedStore,
    stream: StreamId,
    events: Vec<NewEvent>,
) -> Result<AppendOutcome, StoreError> {
    store
        .append(AppendRequest {
            stream,
            expected: ExpectedVersion::Any,
            events,
            metadata: Metadata::default(),
        })
        .await
}

fn happened() -> NewEvent {
    NewEvent::new("test.v1.Happened", 1, Bytes::new())
}

/// Appends an event whose id is already stored, after a fresh one: the append fails, and on
/// PostgreSQL both events' positions are spent.
async fn fail_an_append(store: &SharedStore, stored: &NewEvent) {
    let failed = append(store, stream("lost"), vec![happened(), stored.clone()]).await;
    assert!(
        matches!(failed, Err(StoreError::DuplicateEventId { .. })),
        "{failed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_position_without_an_event_is_passed_once_the_view_has_applied_what_precedes_it() {
    let db = TestDatabase::create().await;
    let store = minzheng_eventstore::connect(&db.url, Upcasters::new())
        .await
        .expect("store");
    let first = happened();
    let before = append(&store, stream("a"), vec![first.clone()])
        .await
        .expect("append");
    fail_an_append(&store, &first).await;
    let after = append(&store, stream("a"), vec![happened()])
        .await
        .expect("append");
    let gap = after.first_position - 1;
    assert!(
        gap > before.last_position,
        "the failed append spent positions between the two events"
    );

    let view = LiveView::new(store.clone(), Applied::default());
    let cancel = CancellationToken::new();
    tokio::spawn(view.clone().follow(None, cancel.clone()));

    // Between two events: the view passes it with the first.
    view.wait_for(gap, PATIENCE)
        .await
        .expect("a position between two events is passed");
    assert!(view.read().await.0.contains(&before.last_position));

    // After the newest event: nothing follows, and nothing needs to.
    fail_an_append(&store, &first).await;
    view.wait_for(after.last_position + 1, PATIENCE)
        .await
        .expect("a spent position after the last event is passed");
    assert!(view.read().await.0.contains(&after.last_position));
    cancel.cancel();
}
