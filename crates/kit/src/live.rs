//! In-memory read models that follow a service's own event store.
//!
//! A [`LiveView`] holds a projection in memory and keeps it current by reading the store in
//! `(tx, position)` order — the same order and late-commit guarantee the relay relies on. It is
//! for small, hot reference data (administrative divisions, say: thousands of rows, read on every
//! request of every service) where a query must cost microseconds; everything else belongs in a
//! SQL projection behind the bus's consumer.
//!
//! Every replica builds its own copy at start by replaying the store, then polls for new events
//! (and is nudged by [`LiveView::nudge`] after the replica's own commands, so its own writes show
//! at once). [`LiveView::wait_for`] implements read-your-writes: it waits until the view has
//! passed a given store position, as `ReadOptions.min_position` promises — also a position
//! that holds no event (a failed append's), which it passes with the last event below it.
//!
//! A [`LiveProjection`] receives typed events: its [`Contract`] decodes each recorded event
//! (usually by stream category, with the aggregates' codecs), so the projection never sees a
//! type string or a payload.
//!
//! Architecture invariant: the view applies each event exactly once, in store order, and never
//! skips one; an event its contract cannot decode (or its projection cannot apply) is a bug,
//! logged and skipped so that one bad event cannot stop every query.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use minzheng_eventstore::{Cursor, RecordedEvent, SharedStore};
use tokio::sync::{Mutex, Notify, RwLock, RwLockReadGuard, watch};
use tokio_util::sync::CancellationToken;

use crate::{Error, aggregate::Contract};

/// Events read per store round trip.
const BATCH: usize = 1_000;
/// How often an idle view looks for events written by other replicas.
const DEFAULT_POLL: Duration = Duration::from_millis(50);
/// How long [`LiveView::wait_for`] waits when the caller gave no deadline.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// In-memory state built from the typed events of a service's own store (the bus's consumers
/// have `minzheng_bus::Projection` instead: SQL, another service's events).
pub trait LiveProjection: Send + Sync + 'static {
    /// Decodes the store's events into what `apply` receives.
    type Contract: Contract;

    /// Folds one decoded event in; `recorded` carries its stream, position and metadata. An
    /// error means the event contradicts the state (a bug), and is logged.
    fn apply(
        &mut self,
        event: <Self::Contract as Contract>::Event,
        recorded: &RecordedEvent,
    ) -> anyhow::Result<()>;
}

/// A projection kept current from a store; cheap to clone.
#[derive(Debug)]
pub struct LiveView<P> {
    inner: Arc<Inner<P>>,
}

impl<P> Clone for LiveView<P> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

#[derive(Debug)]
struct Inner<P> {
    store: SharedStore,
    state: RwLock<P>,
    applied: watch::Sender<Cursor>,
    nudge: Notify,
    /// Held while catching up, so that two callers (the follower and a command that wants the
    /// latest state) never read and apply the same batch twice.
    catching_up: Mutex<()>,
    /// How many catch-ups found the store unavailable. A caller that waited for another's
    /// catch-up which failed so shares that answer instead of waiting for the store again: with
    /// the database down, callers queued on [`Inner::catching_up`] would otherwise each wait a
    /// full connection timeout in turn, and the last would answer long after the first.
    unavailable: AtomicU64,
    /// How many catch-up passes have begun (each numbered by this count when it begins).
    passes_begun: AtomicU64,
    /// The number of the last pass that read the store to its end without failing.
    last_pass_done: AtomicU64,
}

impl<P: LiveProjection> LiveView<P> {
    /// A view of `store` starting from `initial` (an empty projection); call
    /// [`LiveView::catch_up`] and then run [`LiveView::follow`].
    pub fn new(store: SharedStore, initial: P) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                state: RwLock::new(initial),
                applied: watch::Sender::new(Cursor::START),
                nudge: Notify::new(),
                catching_up: Mutex::new(()),
                unavailable: AtomicU64::new(0),
                passes_begun: AtomicU64::new(0),
                last_pass_done: AtomicU64::new(0),
            }),
        }
    }

    /// Reads the projection. Hold the guard briefly: appliers wait for it.
    pub async fn read(&self) -> RwLockReadGuard<'_, P> {
        self.inner.state.read().await
    }

    /// The cursor of the last event applied.
    pub fn applied(&self) -> Cursor {
        *self.inner.applied.borrow()
    }

    /// Applies everything visible in the store now; returns how many events it applied.
    ///
    /// Callers that arrive while a catch-up runs share the next one: a pass that began after a
    /// caller arrived, and read the store to its end, has seen everything committed before the
    /// caller arrived, so the caller returns without reading again (applying nothing itself).
    /// Thirty-two concurrent look-ups make about two reads of the store, not thirty-two in turn.
    pub async fn catch_up(&self) -> Result<usize, Error> {
        let arrived_after = self.inner.passes_begun.load(Ordering::SeqCst);
        let unavailable_before = self.inner.unavailable.load(Ordering::SeqCst);
        let _only_one = self.inner.catching_up.lock().await;
        if self.inner.last_pass_done.load(Ordering::SeqCst) > arrived_after {
            return Ok(0);
        }
        if self.inner.unavailable.load(Ordering::SeqCst) != unavailable_before {
            return Err(Error::Unavailable(
                "the event store is unavailable; retry later".to_owned(),
            ));
        }
        let pass = self.inner.passes_begun.fetch_add(1, Ordering::SeqCst) + 1;
        let caught_up = self.catch_up_locked().await;
        match &caught_up {
            Ok(_) => self.inner.last_pass_done.store(pass, Ordering::SeqCst),
            Err(Error::Unavailable(_)) => {
                self.inner.unavailable.fetch_add(1, Ordering::SeqCst);
            }
            Err(_) => {}
        }
        caught_up
    }

    /// [`LiveView::catch_up`], holding [`Inner::catching_up`].
    async fn catch_up_locked(&self) -> Result<usize, Error> {
        let mut total = 0;
        loop {
            let after = self.applied();
            let batch = self
                .inner
                .store
                .read_all(after, BATCH)
                .await
                .map_err(Error::from)?;
            if batch.events.is_empty() {
                if batch.next != after {
                    self.inner.applied.send_replace(batch.next);
                }
                return Ok(total);
            }
            total += batch.events.len();
            // Decoded before the write lock is taken: readers wait only for the folding.
            let decoded: Vec<_> = batch.events.iter().map(P::Contract::decode).collect();
            {
                let mut state = self.inner.state.write().await;
                for (event, decoded) in batch.events.iter().zip(decoded) {
                    let applied = match decoded {
                        Ok(Some(decoded)) => state.apply(decoded, event),
                        Ok(None) => Ok(()),
                        Err(error) => Err(error.into()),
                    };
                    if let Err(error) = applied {
                        tracing::error!(
                            event_id = %event.id,
                            event_type = %event.event_type,
                            stream = %event.stream,
                            error = %format!("{error:#}"),
                            "skipping an event the read model cannot apply"
                        );
                    }
                }
            }
            self.inner.applied.send_replace(batch.next);
            if batch.events.len() < BATCH {
                return Ok(total);
            }
        }
    }

    /// Keeps the view current until `cancel`: catches up whenever nudged, and every `poll` for
    /// other replicas' writes. A store failure is logged and retried at the next poll.
    pub async fn follow(self, poll: Option<Duration>, cancel: CancellationToken) {
        let poll = poll.unwrap_or(DEFAULT_POLL);
        loop {
            if let Err(error) = self.catch_up().await {
                tracing::warn!(error = %error, "read model could not catch up; retrying");
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = self.inner.nudge.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Asks the follower to catch up now (after this replica committed something).
    pub fn nudge(&self) {
        self.inner.nudge.notify_one();
    }

    /// Waits until the view has passed store `position` (0: returns at once), at most
    /// `timeout`: applied the event there, or, when no event will ever be there (positions
    /// have gaps), the last event below it. UNAVAILABLE when it has not caught up in time, so
    /// that a caller never reads data older than its own write without knowing.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> Result<(), Error> {
        if position == 0 {
            return Ok(());
        }
        let wait = async {
            // Waiting for the event at `position` alone would wait out the deadline for a gap;
            // the store knows what passing `position` takes, once that is settled.
            let target = self
                .inner
                .store
                .wait_for_position(position)
                .await
                .map_err(Error::from)?;
            let mut applied = self.inner.applied.subscribe();
            if *applied.borrow() < target {
                self.nudge();
            }
            applied
                .wait_for(|cursor| *cursor >= target)
                .await
                .map_err(|_| Error::Unavailable("the read model has stopped".to_owned()))?;
            Ok::<(), Error>(())
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(result) => result,
            Err(_) => Err(Error::Unavailable(format!(
                "the read model has not yet applied position {position}; retry the query"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use minzheng_eventstore::{AppendRequest, ExpectedVersion, Metadata, NewEvent, StreamId};
    use minzheng_testkit::TestSqlite;

    use super::*;
    use crate::aggregate::CodecError;

    /// Every `test.v1.Happened` as its stream version; other types are not listed, and
    /// `test.v1.Garbled` never decodes.
    struct Happenings;

    impl Contract for Happenings {
        type Event = u64;

        fn decode(event: &RecordedEvent) -> Result<Option<u64>, CodecError> {
            match event.event_type.as_str() {
                "test.v1.Happened" => Ok(Some(event.stream_version)),
                "test.v1.Garbled" => Err(CodecError::Invalid {
                    event_type: event.event_type.clone(),
                    reason: "garbled".to_owned(),
                }),
                _ => Ok(None),
            }
        }
    }

    #[derive(Default)]
    struct Count(Vec<u64>);

    impl LiveProjection for Count {
        type Contract = Happenings;

        fn apply(&mut self, version: u64, recorded: &RecordedEvent) -> anyhow::Result<()> {
            assert_eq!(version, recorded.stream_version, "decoded from this event");
            self.0.push(version);
            Ok(())
        }
    }

    async fn store(db: &TestSqlite) -> SharedStore {
        minzheng_eventstore::connect(&db.url, minzheng_eventstore::Upcasters::new())
            .await
            .unwrap()
    }

    async fn append(store: &SharedStore, n: usize) -> u64 {
        append_typed(store, &vec!["test.v1.Happened"; n]).await
    }

    async fn append_typed(store: &SharedStore, event_types: &[&str]) -> u64 {
        let outcome = store
            .append(AppendRequest {
                stream: StreamId::new("thing", "a").unwrap(),
                expected: ExpectedVersion::Any,
                events: event_types
                    .iter()
                    .map(|t| NewEvent::new(*t, 1, bytes::Bytes::new()))
                    .collect(),
                metadata: Metadata::default(),
            })
            .await
            .unwrap();
        outcome.last_position
    }

    #[tokio::test]
    async fn the_projection_receives_the_events_its_contract_decodes_and_nothing_else() {
        let db = TestSqlite::create();
        let store = store(&db).await;
        append_typed(
            &store,
            &[
                "test.v1.Happened",
                "test.v1.Unlisted",
                "test.v1.Garbled",
                "test.v1.Happened",
            ],
        )
        .await;
        let view = LiveView::new(store, Count::default());
        assert_eq!(view.catch_up().await.unwrap(), 4, "every event was read");
        // The unlisted event is not the projection's business; the garbled one is skipped
        // (logged) without stopping the view.
        assert_eq!(view.read().await.0, vec![1, 4]);
    }

    #[tokio::test]
    async fn the_view_applies_each_event_once_in_order_and_waits_for_a_position() {
        let db = TestSqlite::create();
        let store = store(&db).await;
        append(&store, 1_500).await;
        let view = LiveView::new(store.clone(), Count::default());
        assert_eq!(view.catch_up().await.unwrap(), 1_500);
        assert_eq!(
            view.catch_up().await.unwrap(),
            0,
            "nothing is applied twice"
        );

        let cancel = CancellationToken::new();
        tokio::spawn(
            view.clone()
                .follow(Some(Duration::from_secs(3600)), cancel.clone()),
        );
        let position = append(&store, 2).await;
        view.nudge();
        view.wait_for(position, Duration::from_secs(10))
            .await
            .unwrap();
        let versions = view.read().await.0.clone();
        assert_eq!(versions, (1..=1_502).collect::<Vec<u64>>());
        cancel.cancel();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_catch_ups_apply_each_event_once() {
        let db = TestSqlite::create();
        let store = store(&db).await;
        append(&store, 3_000).await;
        let view = LiveView::new(store.clone(), Count::default());
        let applied = futures::future::join_all((0..4).map(|_| {
            let view = view.clone();
            tokio::spawn(async move { view.catch_up().await.unwrap() })
        }))
        .await;
        let total: usize = applied.into_iter().map(Result::unwrap).sum();
        assert_eq!(
            total, 3_000,
            "every event applied by exactly one of the callers"
        );
        assert_eq!(view.read().await.0, (1..=3_000).collect::<Vec<u64>>());
    }

    // Callers queued behind a catch-up share the next pass: it began after they all arrived,
    // so it covers each of them, and only one of them reads the store.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn callers_queued_behind_a_catch_up_share_the_next_pass() {
        let db = TestSqlite::create();
        let store = store(&db).await;
        append(&store, 10).await;
        let view = LiveView::new(store.clone(), Count::default());
        view.catch_up().await.unwrap();
        let begun = view.inner.passes_begun.load(Ordering::SeqCst);
        append(&store, 5).await;
        let held = view.inner.catching_up.lock().await;
        let callers: Vec<_> = (0..8)
            .map(|_| {
                let view = view.clone();
                tokio::spawn(async move {
                    let applied = view.catch_up().await.unwrap();
                    (applied, view.read().await.0.len())
                })
            })
            .collect();
        // Let every caller arrive and queue on the lock.
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(held);
        let answers: Vec<(usize, usize)> = futures::future::join_all(callers)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert!(
            answers.iter().all(|(_, seen)| *seen == 15),
            "every caller sees what was committed before it arrived: {answers:?}"
        );
        assert_eq!(answers.iter().map(|(applied, _)| applied).sum::<usize>(), 5);
        assert_eq!(
            view.inner.passes_begun.load(Ordering::SeqCst),
            begun + 1,
            "one pass for the eight callers"
        );
        // A caller arriving after that pass reads again (and finds nothing new).
        append(&store, 1).await;
        assert_eq!(view.catch_up().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn waiting_for_a_position_never_written_is_unavailable() {
        let db = TestSqlite::create();
        let store = store(&db).await;
        let view = LiveView::new(store, Count::default());
        let error = view
            .wait_for(99, Duration::from_millis(100))
            .await
            .unwrap_err();
        assert_eq!(error.code(), tonic::Code::Unavailable);
    }
}
