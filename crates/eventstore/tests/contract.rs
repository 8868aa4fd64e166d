//! The event store contract: one set of specifications, run against every backend.
//!
//! Each case is an `async fn(&Backend)`; the `contract!` macro instantiates it once for
//! PostgreSQL (a fresh database per test) and once for SQLite (a fresh file per test), so both
//! backends are held to exactly the same behaviour. Cases that depend on one backend's
//! mechanics (PostgreSQL's late commits and lost connections, SQLite's WAL readers) follow in
//! their own modules.
//!
//! On PostgreSQL, `read_all` legitimately pauses while any transaction in the cluster that
//! started earlier is still open (other tests run alongside), so assertions about what becomes
//! readable poll with a deadline instead of expecting it on the first read.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use bytes::Bytes;
use minzheng_eventstore::{
    AppendOutcome, AppendRequest, Cursor, EventStore, ExpectedVersion, Metadata, NewEvent,
    RecordedEvent, SharedStore, Snapshot, StoreError, StreamId, Upcasters, connect,
    migrations::{self, ServiceMigration},
};
use minzheng_testkit::{TestDatabase, TestSqlite, unique_name};
use time::OffsetDateTime;
use tokio::{sync::Barrier, time::Instant};
use uuid::Uuid;

/// How long anything that must become readable may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(60);

/// The database a case runs against; dropping it removes the database.
enum Backend {
    Postgres(TestDatabase),
    Sqlite(TestSqlite),
}

impl Backend {
    fn url(&self) -> &str {
        match self {
            Backend::Postgres(db) => &db.url,
            Backend::Sqlite(db) => &db.url,
        }
    }

    async fn store(&self) -> SharedStore {
        self.store_with(Upcasters::new()).await
    }

    async fn store_with(&self, upcasters: Upcasters) -> SharedStore {
        connect(self.url(), upcasters)
            .await
            .unwrap_or_else(|e| panic!("cannot open the test store: {e}"))
    }

    /// The service's database through `sqlx::Any`, as the host opens it.
    async fn any_pool(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(self.url())
            .await
            .unwrap_or_else(|e| panic!("cannot open the test database: {e}"))
    }

    /// Applies a service's own migrations next to the store, as the host does at start.
    async fn run_service_migrations(&self) {
        let pool = self.any_pool().await;
        migrations::run_service(&pool, SERVICE_MIGRATIONS)
            .await
            .unwrap_or_else(|e| panic!("service migrations: {e}"));
        pool.close().await;
    }
}

/// A service's migrations: a portable one and one with SQL per backend.
const SERVICE_MIGRATIONS: &[ServiceMigration] = &[
    ServiceMigration::portable(
        1000,
        "service things",
        "CREATE TABLE svc_things (id BIGINT PRIMARY KEY, name TEXT NOT NULL)",
    ),
    ServiceMigration {
        version: 1001,
        description: "service things index",
        postgres: "CREATE INDEX svc_things_name ON svc_things USING btree (name)",
        sqlite: "CREATE INDEX svc_things_name ON svc_things (name)",
    },
];

/// Instantiates every listed case for both backends.
macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let backend = super::Backend::Postgres(
                        minzheng_testkit::TestDatabase::create().await,
                    );
                    super::$case(&backend).await;
                }
            )*
        }
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let backend = super::Backend::Sqlite(minzheng_testkit::TestSqlite::create());
                    super::$case(&backend).await;
                }
            )*
        }
    };
}

contract!(
    appended_events_read_back_by_stream_and_by_position,
    several_streams_read_at_once_each_from_its_version,
    large_appends_keep_order_versions_keys_and_metadata,
    large_appends_check_the_expected_version,
    concurrent_large_appends_under_one_key_write_once,
    a_large_request_of_a_multi_stream_append_commits_with_the_others_or_not_at_all,
    appends_of_every_size_keep_their_order,
    expected_versions_are_enforced_with_the_actual_version,
    an_empty_append_is_refused,
    a_failed_append_leaves_nothing,
    concurrent_writers_on_one_stream_win_each_version_exactly_once,
    concurrent_any_appends_to_one_stream_are_read_in_version_order,
    many_streams_written_concurrently_are_read_exactly_once_in_order,
    a_repeated_idempotency_key_replays_the_first_outcome,
    a_key_is_recognised_by_every_form_of_append,
    concurrent_appends_with_one_key_write_once,
    a_key_used_for_another_stream_is_refused,
    snapshots_keep_the_newest,
    checkpoints_are_kept_per_name,
    upcasters_apply_on_every_read_path,
    stream_ids_round_trip_through_the_store,
    metadata_round_trips,
    cursor_of_and_head_follow_what_is_readable,
    a_position_a_failed_append_took_is_passed_with_the_event_below_it,
    the_store_opens_next_to_a_services_own_migrations,
    service_migrations_apply_once_across_restarts,
    append_all_commits_every_stream_in_request_order,
    a_conflict_in_append_all_writes_nothing_on_any_stream,
    append_all_refuses_invalid_requests_without_writing,
    concurrent_append_alls_in_opposite_orders_lose_nothing,
    append_all_and_single_appends_on_one_stream_are_read_in_version_order,
);

// ---------------------------------------------------------------------------------------------
// Helpers.

fn new_stream(category: &str) -> StreamId {
    StreamId::new(category, unique_name("k")).expect("valid stream id")
}

fn event(label: &str) -> NewEvent {
    NewEvent::new("test.Happened", 1, Bytes::from(label.to_owned()))
}

fn events(labels: &[&str]) -> Vec<NewEvent> {
    labels.iter().map(|l| event(l)).collect()
}

fn request(stream: &StreamId, expected: ExpectedVersion, events: Vec<NewEvent>) -> AppendRequest {
    AppendRequest {
        stream: stream.clone(),
        expected,
        events,
        metadata: Metadata::default(),
    }
}

fn keyed(
    stream: &StreamId,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
    key: &str,
) -> AppendRequest {
    AppendRequest {
        metadata: Metadata {
            idempotency_key: Some(key.to_owned()),
            ..Metadata::default()
        },
        ..request(stream, expected, events)
    }
}

async fn append(store: &SharedStore, request: AppendRequest) -> AppendOutcome {
    store.append(request).await.expect("append succeeds")
}

fn expect_conflict(result: Result<AppendOutcome, StoreError>) -> (ExpectedVersion, u64) {
    match result {
        Err(StoreError::Conflict {
            expected, actual, ..
        }) => (expected, actual),
        other => panic!("expected a version conflict, got {other:?}"),
    }
}

/// Reads by position from `after` until `want` events have arrived, then checks that nothing
/// more follows. Polls, because PostgreSQL holds readers back while older transactions run.
async fn read_exactly(
    store: &SharedStore,
    after: Cursor,
    want: usize,
    limit: usize,
) -> (Vec<RecordedEvent>, Cursor) {
    let deadline = Instant::now() + DEADLINE;
    let mut events = Vec::new();
    let mut cursor = after;
    while events.len() < want {
        let batch = store.read_all(cursor, limit).await.expect("read_all");
        assert!(
            batch.events.len() <= limit,
            "read_all returned more than the limit"
        );
        if batch.events.is_empty() {
            assert_eq!(batch.next, cursor, "an empty batch keeps the cursor");
            assert!(
                Instant::now() < deadline,
                "only {} of {want} events became readable",
                events.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        assert_eq!(
            batch.next,
            batch.events.last().map(|e| e.cursor).unwrap_or(cursor)
        );
        cursor = batch.next;
        events.extend(batch.events);
    }
    assert_eq!(
        events.len(),
        want,
        "read_all returned more events than were appended"
    );
    let rest = store.read_all(cursor, limit).await.expect("read_all");
    assert!(
        rest.events.is_empty(),
        "unexpected events after the last one: {rest:?}"
    );
    assert_eq!(rest.next, cursor);
    (events, cursor)
}

/// Every event once; cursors strictly increasing; each stream's versions 1, 2, 3, … in order.
fn assert_each_once_in_stream_order(events: &[RecordedEvent]) {
    let mut ids = HashSet::new();
    let mut last_version: HashMap<&StreamId, u64> = HashMap::new();
    for pair in events.windows(2) {
        assert!(pair[0].cursor < pair[1].cursor, "cursors must increase");
    }
    for e in events {
        assert!(ids.insert(e.id), "event {} read twice", e.id);
        assert_eq!(e.cursor.position, e.position);
        let last = last_version.entry(&e.stream).or_insert(0);
        assert_eq!(
            e.stream_version,
            *last + 1,
            "stream {} out of version order",
            e.stream
        );
        *last = e.stream_version;
    }
}

async fn wait_for_head(store: &SharedStore, want: Cursor) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let head = store.head().await.expect("head");
        if head == want {
            return;
        }
        assert!(head < want, "head {head:?} is past the last event {want:?}");
        assert!(
            Instant::now() < deadline,
            "head stuck at {head:?}, want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The contract.

/// `count` events of 96 KiB each (a payment cycle's chunks are about this size), each payload
/// starting with its index: more than a megabyte in all, which PostgreSQL copies in.
fn large_events(count: u8) -> Vec<NewEvent> {
    (0..count)
        .map(|i| {
            let mut payload = vec![i; 96 * 1024];
            payload[1] = 0xff;
            NewEvent::new("test.Large", 1, Bytes::from(payload))
        })
        .collect()
}

/// How many events `stream` holds (up to 100).
async fn events_in(store: &SharedStore, stream: &StreamId) -> usize {
    store.read_stream(stream, 1, 100).await.expect("read").len()
}

async fn large_appends_keep_order_versions_keys_and_metadata(backend: &Backend) {
    let store = backend.store().await;
    let stream = new_stream("large");
    append(
        &store,
        request(&stream, ExpectedVersion::NoStream, events(&["a", "b"])),
    )
    .await;
    let correlation = Uuid::now_v7();
    let mut large = keyed(
        &stream,
        ExpectedVersion::Exact(2),
        large_events(24),
        "big-1",
    );
    large.metadata.correlation_id = Some(correlation);
    large.metadata.actor = Some("approver".to_owned());
    let ids: Vec<Uuid> = large.events.iter().map(|e| e.id).collect();
    let first = append(&store, large.clone()).await;
    assert_eq!(first.stream_version, 26);
    assert_eq!(first.event_ids, ids);
    assert!(!first.replayed);
    assert!(first.first_position < first.last_position);

    let read = store.read_stream(&stream, 3, 100).await.expect("read");
    assert_eq!(read.len(), 24);
    for (i, event) in read.iter().enumerate() {
        assert_eq!(event.stream_version, 3 + i as u64);
        assert_eq!(event.id, ids[i]);
        assert_eq!(event.event_type, "test.Large");
        assert_eq!(event.payload.len(), 96 * 1024);
        assert_eq!((event.payload[0], event.payload[1]), (i as u8, 0xff));
        assert_eq!(event.metadata.correlation_id, Some(correlation));
        assert_eq!(event.metadata.actor.as_deref(), Some("approver"));
    }
    assert_eq!(read[0].position, first.first_position);
    assert_eq!(read[23].position, first.last_position);

    // The same key again: the first outcome, nothing written; on another stream: refused.
    let again = append(&store, large.clone()).await;
    assert_eq!(
        again,
        AppendOutcome {
            replayed: true,
            ..first.clone()
        }
    );
    assert_eq!(store.stream_version(&stream).await.expect("version"), 26);
    let elsewhere = store
        .append(AppendRequest {
            stream: new_stream("large"),
            ..large
        })
        .await;
    assert!(
        matches!(elsewhere, Err(StoreError::IdempotencyKeyReused { .. })),
        "{elsewhere:?}"
    );
}

async fn concurrent_large_appends_under_one_key_write_once(backend: &Backend) {
    let store = backend.store().await;
    let stream = new_stream("large");
    let large = keyed(
        &stream,
        ExpectedVersion::NoStream,
        large_events(12),
        "big-twice",
    );
    let (a, b) = tokio::join!(store.append(large.clone()), store.append(large));
    let (a, b) = (a.expect("first"), b.expect("second"));
    assert_ne!(
        a.replayed, b.replayed,
        "one writes, the other replays: {a:?} {b:?}"
    );
    assert_eq!(
        AppendOutcome {
            replayed: false,
            ..a
        },
        AppendOutcome {
            replayed: false,
            ..b
        }
    );
    assert_eq!(events_in(&store, &stream).await, 12);
}

async fn large_appends_check_the_expected_version(backend: &Backend) {
    let store = backend.store().await;
    let stream = new_stream("large");
    let (_, actual) = expect_conflict(
        store
            .append(request(
                &stream,
                ExpectedVersion::Exact(4),
                large_events(12),
            ))
            .await,
    );
    assert_eq!(actual, 0);
    let any = append(
        &store,
        request(&stream, ExpectedVersion::Any, large_events(12)),
    )
    .await;
    assert_eq!(any.stream_version, 12);
    let (expected, actual) = expect_conflict(
        store
            .append(request(
                &stream,
                ExpectedVersion::NoStream,
                large_events(12),
            ))
            .await,
    );
    assert_eq!((expected, actual), (ExpectedVersion::NoStream, 12));
    // A refused append leaves nothing.
    assert_eq!(events_in(&store, &stream).await, 12);
}

/// A payment cycle's megabytes beside its county's ledger entry: one transaction (PostgreSQL
/// copies the large request in), positions rising from request to request, and nothing of
/// either when the small one's version no longer holds.
async fn a_large_request_of_a_multi_stream_append_commits_with_the_others_or_not_at_all(
    backend: &Backend,
) {
    let store = backend.store().await;
    let (cycle, ledger) = (new_stream("cycle"), new_stream("ledger"));
    append(
        &store,
        request(&ledger, ExpectedVersion::NoStream, events(&["listed"])),
    )
    .await;
    let both = |ledger_version| {
        vec![
            request(&cycle, ExpectedVersion::NoStream, large_events(16)),
            request(
                &ledger,
                ExpectedVersion::Exact(ledger_version),
                events(&["listed"]),
            ),
        ]
    };
    let refused = store.append_all(both(0)).await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict { stream, .. }) if *stream == ledger),
        "{refused:?}"
    );
    assert_eq!(
        events_in(&store, &cycle).await,
        0,
        "nothing of the large request"
    );

    let outcomes = store.append_all(both(1)).await.expect("appended");
    assert_eq!(outcomes[0].stream_version, 16);
    assert_eq!(outcomes[1].stream_version, 2);
    assert!(outcomes[0].first_position < outcomes[0].last_position);
    assert!(outcomes[0].last_position < outcomes[1].first_position);
    let read = store.read_stream(&cycle, 1, 100).await.expect("read");
    assert_eq!(read.len(), 16);
    for (i, event) in read.iter().enumerate() {
        assert_eq!(event.stream_version, 1 + i as u64);
        assert_eq!(event.id, outcomes[0].event_ids[i]);
        assert_eq!((event.payload[0], event.payload[1]), (i as u8, 0xff));
    }
    assert_eq!(read[0].position, outcomes[0].first_position);
    assert_eq!(read[15].position, outcomes[0].last_position);
}

async fn appended_events_read_back_by_stream_and_by_position(backend: &Backend) {
    let store = backend.store().await;
    let stream = new_stream("order");
    let before = OffsetDateTime::now_utc() - Duration::from_secs(300);

    let first = append(
        &store,
        request(&stream, ExpectedVersion::NoStream, events(&["a", "b", "c"])),
    )
    .await;
    assert_eq!(first.stream, stream);
    assert_eq!(first.stream_version, 3, "versions start at 1");
    assert!(first.first_position < first.last_position);
    assert_eq!(first.event_ids.len(), 3);
    assert!(!first.replayed);

    let read = store
        .read_stream(&stream, 1, 100)
        .await
        .expect("read_stream");
    assert_eq!(read.len(), 3);
    for (i, e) in read.iter().enumerate() {
        assert_eq!(e.stream, stream);
        assert_eq!(e.stream_version, i as u64 + 1);
        assert_eq!(e.id, first.event_ids[i]);
        assert_eq!(e.event_type, "test.Happened");
        assert_eq!(e.schema_version, 1);
        assert_eq!(e.payload.as_ref(), ["a", "b", "c"][i].as_bytes());
        assert!((first.first_position..=first.last_position).contains(&e.position));
        assert!(
            e.recorded_at > before
                && e.recorded_at < OffsetDateTime::now_utc() + Duration::from_secs(300)
        );
    }
    assert!(read.windows(2).all(|w| w[0].position < w[1].position));

    let second = append(
        &store,
        request(&stream, ExpectedVersion::Exact(3), events(&["d", "e"])),
    )
    .await;
    assert_eq!(second.stream_version, 5);
    assert!(second.first_position > first.last_position);

    let middle = store.read_stream(&stream, 2, 2).await.expect("read_stream");
    assert_eq!(
        middle.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        [2, 3]
    );
    assert!(
        store
            .read_stream(&stream, 6, 10)
            .await
            .expect("read")
            .is_empty()
    );
    assert!(
        store
            .read_stream(&stream, 1, 0)
            .await
            .expect("read")
            .is_empty()
    );
    assert_eq!(store.stream_version(&stream).await.expect("version"), 5);

    let other = new_stream("order");
    assert_eq!(store.stream_version(&other).await.expect("version"), 0);
    assert!(
        store
            .read_stream(&other, 1, 10)
            .await
            .expect("read")
            .is_empty()
    );

    // By position, in pages of two: every event once, in order, the same as by stream.
    let (all, _) = read_exactly(&store, Cursor::START, 5, 2).await;
    assert_each_once_in_stream_order(&all);
    let by_stream = store
        .read_stream(&stream, 1, 100)
        .await
        .expect("read_stream");
    assert_eq!(all, by_stream);
}

/// `read_streams`: each stream's events from its own version, each stream's together in version
/// order, nothing of streams not asked for, the limit counted over all of them.
async fn several_streams_read_at_once_each_from_its_version(backend: &Backend) {
    let store = backend.store().await;
    let (a, b, c) = (new_stream("auth"), new_stream("auth"), new_stream("auth"));
    append(
        &store,
        request(&a, ExpectedVersion::NoStream, events(&["a1", "a2", "a3"])),
    )
    .await;
    append(
        &store,
        request(&b, ExpectedVersion::NoStream, events(&["b1", "b2"])),
    )
    .await;
    append(
        &store,
        request(&c, ExpectedVersion::NoStream, events(&["c1"])),
    )
    .await;
    let never_written = new_stream("auth");

    let read = store
        .read_streams(
            &[(b.clone(), 1), (a.clone(), 2), (never_written.clone(), 1)],
            100,
        )
        .await
        .expect("read_streams");
    let mut by_stream: HashMap<StreamId, Vec<(u64, String)>> = HashMap::new();
    let mut order: Vec<StreamId> = Vec::new();
    for e in &read {
        if order.last() != Some(&e.stream) {
            assert!(
                !order.contains(&e.stream),
                "{}'s events are together",
                e.stream
            );
            order.push(e.stream.clone());
        }
        by_stream.entry(e.stream.clone()).or_default().push((
            e.stream_version,
            String::from_utf8_lossy(&e.payload).into_owned(),
        ));
    }
    assert_eq!(
        by_stream.len(),
        2,
        "only the streams asked for, and only written ones"
    );
    assert_eq!(
        by_stream[&a],
        [(2, "a2".to_owned()), (3, "a3".to_owned())],
        "a from version 2"
    );
    assert_eq!(by_stream[&b], [(1, "b1".to_owned()), (2, "b2".to_owned())]);
    assert_eq!(
        store
            .read_streams(&[(a.clone(), 1), (b.clone(), 1), (c.clone(), 1)], 4)
            .await
            .expect("read_streams")
            .len(),
        4,
        "at most the limit in all"
    );
    assert!(
        store
            .read_streams(&[(a.clone(), 4)], 10)
            .await
            .expect("read_streams")
            .is_empty()
    );
    assert!(
        store
            .read_streams(&[], 10)
            .await
            .expect("read_streams")
            .is_empty()
    );
}

/// Appends of sizes around the store's statement forms (one event, a short list, the largest
/// short list, and beyond), each read back in its order with positions rising with versions.
async fn appends_of_every_size_keep_their_order(backend: &Backend) {
    let store = backend.store().await;
    for size in [1usize, 2, 127, 128, 129, 300] {
        let stream = new_stream("sized");
        let labels: Vec<String> = (0..size).map(|i| format!("{size}/{i}")).collect();
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let first = append(
            &store,
            request(
                &stream,
                ExpectedVersion::NoStream,
                events(&labels[..size.div_ceil(2)]),
            ),
        )
        .await;
        let outcome = append(
            &store,
            request(
                &stream,
                ExpectedVersion::Exact(first.stream_version),
                events(&labels[size.div_ceil(2)..])
                    .into_iter()
                    .chain([event("last")])
                    .collect(),
            ),
        )
        .await;
        assert_eq!(outcome.stream_version, size as u64 + 1);
        let read = store.read_stream(&stream, 1, 1_000).await.unwrap();
        let payloads: Vec<String> = read
            .iter()
            .map(|e| String::from_utf8(e.payload.to_vec()).unwrap())
            .collect();
        let mut expected: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
        expected.push("last".to_owned());
        assert_eq!(payloads, expected, "append of {size} events");
        assert!(
            read.windows(2)
                .all(|w| w[0].stream_version + 1 == w[1].stream_version
                    && w[0].position < w[1].position),
            "versions and positions rise together in an append of {size}"
        );
        // A wrong expected version writes nothing, whatever the size.
        let refused = store
            .append(request(&stream, ExpectedVersion::Exact(1), events(&labels)))
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict { .. })),
            "{size}"
        );
    }
}

async fn expected_versions_are_enforced_with_the_actual_version(backend: &Backend) {
    let store = backend.store().await;
    let stream = new_stream("order");

    let (expected, actual) = expect_conflict(
        store
            .append(request(&stream, ExpectedVersion::Exact(1), events(&["x"])))
            .await,
    );
    assert_eq!((expected, actual), (ExpectedVersion::Exact(1), 0));

    append(
        &store,
        request(&stream, ExpectedVersion::NoStream, events(&["1"])),
    )
    .await;

    match store
        .append(request(&stream, ExpectedVersion::NoStream, events(&["x"])))
        .await
    {
        Err(StoreError::Conflict {
            stream: conflicted,
            expected,
            actual,
        }) => {
            assert_eq!(conflicted, stream);
            assert_eq!(expected, ExpectedVersion::NoStream);
            assert_eq!(actual, 1);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    for stale in [0, 2, 5] {
        let (_, actual) = expect_conflict(
            store
                .append(request(
                    &stream,
                    ExpectedVersion::Exact(stale),
                    events(&["x"]),
                ))
                .await,
        );
        assert_eq!(actual, 1);
    }

    let exact = append(
        &store,
        request(&stream, ExpectedVersion::Exact(1), events(&["2"])),
    )
    .await;
    assert_eq!(exact.stream_version, 2);
    let any = append(
        &store,
        request(&stream, ExpectedVersion::Any, events(&["3", "4"])),
    )
    .await;
    assert_eq!(any.stream_version, 4);

    let fresh = new_stream("order");
    let any_new = append(
        &store,
        request(&fresh, ExpectedVersion::Any, events(&["1"])),
    )
    .await;
    assert_eq!(any_new.stream_version, 1);
    let zero = new_stream("order");
    let exact_zero = append(
        &store,
        request(&zero, ExpectedVersion::Exact(0), events(&["1"])),
    )
    .await;
    assert_eq!(exact_zero.stream_version, 1, "Exact(0) means no stream yet");

    // The refused appends wrote nothing.
    let payloads: Vec<Bytes> = store
        .read_stream(&stream, 1, 100)
        .await
        .expect("read_stream")
        .into_iter()
        .map(|e| e.payload)
        .collect();
    assert_eq!(payloads, ["1", "2", "3", "4"].map(Bytes::from));
}

async fn an_empty_append_is_refused(backend: &Backend) {
    let store = backend.store().await;
    let stream = new_stream("order");
    for expected in [ExpectedVersion::Any, ExpectedVersion::NoStream] {
        assert!(matches!(
            store
                .append(keyed(&stream, expected, vec![], "empty-key"))
                .await,
            Err(StoreError::EmptyAppend)
        ));
    }
    assert_eq!(store.stream_version(&stream).await.expect("version"), 0);
    assert_eq!(
        store.find_idempotent("empty-key").await.expect("find"),
        None
    );
}

async fn a_failed_append_leaves_nothing(backend: &Backend) {
    let store = backend.store().await;
    let existing = event("existing");
    let first = new_stream("order");
    append(
        &store,
        request(&first, ExpectedVersion::NoStream, vec![existing.clone()]),
    )
    .await;

    // The second of three events collides with a stored event id: none of the three is kept.
    let second = new_stream("order");
    let attempt = vec![event("a"), existing.clone(), event("b")];
    match store
        .append(keyed(
            &second,
            ExpectedVersion::NoStream,
            attempt,
            "failed-key",
        ))
        .await
    {
        Err(StoreError::DuplicateEventId { event_id }) => assert_eq!(event_id, existing.id),
        other => panic!("expected a duplicate event id, got {other:?}"),
    }
    assert_eq!(store.stream_version(&second).await.expect("version"), 0);
    assert_eq!(
        store.find_idempotent("failed-key").await.expect("find"),
        None
    );

    // The same id twice within one append fails the same way.
    let twice = event("twice");
    match store
        .append(request(
            &second,
            ExpectedVersion::Any,
            vec![event("c"), twice.clone(), twice.clone()],
        ))
        .await
    {
        Err(StoreError::DuplicateEventId { event_id }) => assert_eq!(event_id, twice.id),
        other => panic!("expected a duplicate event id, got {other:?}"),
    }
    assert_eq!(store.stream_version(&second).await.expect("version"), 0);

    // Nothing was consumed: the stream starts at version 1 and the store holds two events.
    let ok = append(
        &store,
        request(&second, ExpectedVersion::NoStream, events(&["ok"])),
    )
    .await;
    assert_eq!(ok.stream_version, 1);
    let (all, _) = read_exactly(&store, Cursor::START, 2, 100).await;
    assert_eq!(
        all.iter().map(|e| e.payload.clone()).collect::<Vec<_>>(),
        [Bytes::from_static(b"existing"), Bytes::from_static(b"ok")]
    );
}

async fn concurrent_writers_on_one_stream_win_each_version_exactly_once(backend: &Backend) {
    const WRITERS: usize = 16;
    const TARGET: u64 = 120;
    let store = backend.store().await;
    let stream = new_stream("counter");

    // A reader follows the store by position while the writers race.
    let reader = {
        let store = store.clone();
        tokio::spawn(async move {
            let deadline = Instant::now() + DEADLINE;
            let mut seen = Vec::new();
            let mut cursor = Cursor::START;
            while (seen.len() as u64) < TARGET {
                assert!(Instant::now() < deadline, "reader saw only {}", seen.len());
                let batch = store.read_all(cursor, 7).await.expect("read_all");
                if batch.events.is_empty() {
                    tokio::task::yield_now().await;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                cursor = batch.next;
                seen.extend(batch.events);
            }
            seen
        })
    };

    let start = Arc::new(Barrier::new(WRITERS));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = store.clone();
            let stream = stream.clone();
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                let mut won = Vec::new();
                let mut conflicts = 0u32;
                loop {
                    let version = store.stream_version(&stream).await.expect("version");
                    if version >= TARGET {
                        return (won, conflicts);
                    }
                    let attempt = event(&format!("w{writer}"));
                    let id = attempt.id;
                    match store
                        .append(request(
                            &stream,
                            ExpectedVersion::Exact(version),
                            vec![attempt],
                        ))
                        .await
                    {
                        Ok(outcome) => {
                            assert_eq!(outcome.stream_version, version + 1);
                            assert_eq!(outcome.event_ids, [id]);
                            won.push((outcome.stream_version, id));
                        }
                        Err(StoreError::Conflict {
                            expected, actual, ..
                        }) => {
                            assert_eq!(expected, ExpectedVersion::Exact(version));
                            assert!(actual > version, "a conflict reports the newer version");
                            conflicts += 1;
                        }
                        Err(other) => panic!("writer {writer} failed: {other}"),
                    }
                }
            })
        })
        .collect();

    let mut winners: Vec<(u64, Uuid)> = Vec::new();
    let mut conflicts = 0;
    for writer in futures::future::join_all(writers).await {
        let (won, lost) = writer.expect("writer task");
        winners.extend(won);
        conflicts += lost;
    }
    winners.sort();
    assert_eq!(
        winners.iter().map(|w| w.0).collect::<Vec<_>>(),
        (1..=TARGET).collect::<Vec<_>>(),
        "every version is won exactly once"
    );
    assert!(
        conflicts > 0,
        "the writers never collided; the test proved nothing"
    );

    // The stream holds exactly the winners' events; the losers' events are nowhere.
    let stored = store
        .read_stream(&stream, 1, 1000)
        .await
        .expect("read_stream");
    assert_eq!(
        stored
            .iter()
            .map(|e| (e.stream_version, e.id))
            .collect::<Vec<_>>(),
        winners
    );

    let seen = reader.await.expect("reader task");
    assert_eq!(seen.len() as u64, TARGET);
    assert_each_once_in_stream_order(&seen);
    assert_eq!(
        seen.iter()
            .map(|e| (e.stream_version, e.id))
            .collect::<Vec<_>>(),
        winners,
        "the reader saw every event once, in version order"
    );
    read_exactly(&store, Cursor::START, TARGET as usize, 50).await;
}

/// Appends with `ExpectedVersion::Any` read the stream version inside the store, racing each
/// other: none may fail, none may share a version, and a reader by position must still get the
/// stream in version order (on PostgreSQL this holds only if an append takes its transaction id
/// after reading the version).
async fn concurrent_any_appends_to_one_stream_are_read_in_version_order(backend: &Backend) {
    const WRITERS: usize = 16;
    const APPENDS: usize = 8;
    const PER_APPEND: usize = 2;
    let total = WRITERS * APPENDS * PER_APPEND;
    let store = backend.store().await;
    let stream = new_stream("tally");

    let reader = {
        let store = store.clone();
        tokio::spawn(async move {
            let deadline = Instant::now() + DEADLINE;
            let mut seen = Vec::new();
            let mut cursor = Cursor::START;
            while seen.len() < total {
                assert!(Instant::now() < deadline, "reader saw only {}", seen.len());
                let batch = store.read_all(cursor, 9).await.expect("read_all");
                if batch.events.is_empty() {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                cursor = batch.next;
                seen.extend(batch.events);
            }
            seen
        })
    };

    let start = Arc::new(Barrier::new(WRITERS));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = store.clone();
            let stream = stream.clone();
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                let mut versions = Vec::new();
                for i in 0..APPENDS {
                    let batch = events(&[&format!("{writer}/{i}/a"), &format!("{writer}/{i}/b")]);
                    let outcome =
                        append(&store, request(&stream, ExpectedVersion::Any, batch)).await;
                    versions.push(outcome.stream_version);
                }
                versions
            })
        })
        .collect();
    let mut last_versions: Vec<u64> = Vec::new();
    for writer in futures::future::join_all(writers).await {
        last_versions.extend(writer.expect("writer task"));
    }
    last_versions.sort();
    let expected: Vec<u64> = (1..=(WRITERS * APPENDS) as u64)
        .map(|n| n * PER_APPEND as u64)
        .collect();
    assert_eq!(last_versions, expected, "each append got its own versions");

    let seen = reader.await.expect("reader task");
    assert_each_once_in_stream_order(&seen);
    let (all, _) = read_exactly(&store, Cursor::START, total, 100).await;
    assert_each_once_in_stream_order(&all);
    // An append's events stay together and in order.
    for pair in all.chunks(PER_APPEND) {
        let a = String::from_utf8_lossy(&pair[0].payload).into_owned();
        let b = String::from_utf8_lossy(&pair[1].payload).into_owned();
        assert_eq!(a.strip_suffix("/a"), b.strip_suffix("/b"));
    }
}

async fn many_streams_written_concurrently_are_read_exactly_once_in_order(backend: &Backend) {
    const STREAMS: usize = 8;
    const APPENDS: usize = 20;
    const READERS: usize = 2;
    let store = backend.store().await;
    let per_stream: usize = (0..APPENDS).map(|i| 1 + i % 3).sum();
    let total = STREAMS * per_stream;

    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let deadline = Instant::now() + DEADLINE;
                let mut seen = Vec::new();
                let mut cursor = Cursor::START;
                while seen.len() < total {
                    assert!(Instant::now() < deadline, "reader saw only {}", seen.len());
                    let batch = store.read_all(cursor, 16).await.expect("read_all");
                    if batch.events.is_empty() {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    cursor = batch.next;
                    seen.extend(batch.events);
                }
                seen
            })
        })
        .collect();

    let writers: Vec<_> = (0..STREAMS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let stream = new_stream("ledger");
                let mut version = 0;
                for i in 0..APPENDS {
                    let n = 1 + i % 3;
                    let labels: Vec<String> = (0..n).map(|j| format!("{w}/{i}/{j}")).collect();
                    let batch = labels.iter().map(|l| event(l)).collect();
                    // Half the writers name the version, half append at whatever it is.
                    let expected = if w % 2 == 0 {
                        ExpectedVersion::Any
                    } else {
                        ExpectedVersion::Exact(version)
                    };
                    let outcome = append(&store, request(&stream, expected, batch)).await;
                    assert_eq!(outcome.stream_version, version + n as u64);
                    version = outcome.stream_version;
                }
                (stream, version)
            })
        })
        .collect();
    for writer in futures::future::join_all(writers).await {
        let (stream, version) = writer.expect("writer task");
        assert_eq!(version, per_stream as u64);
        let stored = store.read_stream(&stream, 1, 1000).await.expect("read");
        assert_eq!(stored.len(), per_stream);
    }

    for reader in futures::future::join_all(readers).await {
        let seen = reader.expect("reader task");
        assert_eq!(seen.len(), total);
        assert_each_once_in_stream_order(&seen);
    }
    let (after, _) = read_exactly(&store, Cursor::START, total, 64).await;
    assert_each_once_in_stream_order(&after);
}

/// A key is one command's whatever the form of the append that used it and of the one that
/// repeats it: a few events, more than a `VALUES` statement takes, a megabyte copied in, an
/// exact version or any.
async fn a_key_is_recognised_by_every_form_of_append(backend: &Backend) {
    let store = backend.store().await;
    let many = || {
        (0..130)
            .map(|i| event(&format!("e{i}")))
            .collect::<Vec<_>>()
    };

    // First a small append; then every other form under its key.
    let stream = new_stream("order");
    let key = unique_name("small-first");
    let first = append(
        &store,
        keyed(
            &stream,
            ExpectedVersion::NoStream,
            events(&["a", "b"]),
            &key,
        ),
    )
    .await;
    for (form, again) in [
        (
            "exact",
            keyed(&stream, ExpectedVersion::Exact(2), events(&["c"]), &key),
        ),
        (
            "any",
            keyed(&stream, ExpectedVersion::Any, events(&["c"]), &key),
        ),
        (
            "many events",
            keyed(&stream, ExpectedVersion::Exact(2), many(), &key),
        ),
        (
            "copied in",
            keyed(&stream, ExpectedVersion::Any, large_events(12), &key),
        ),
    ] {
        let outcome = append(&store, again).await;
        assert_eq!(
            outcome,
            AppendOutcome {
                replayed: true,
                ..first.clone()
            },
            "{form}"
        );
    }
    assert_eq!(store.stream_version(&stream).await.expect("version"), 2);

    // First the large forms; then a small append under each key.
    for (form, original) in [("many events", many()), ("copied in", large_events(12))] {
        let stream = new_stream("order");
        let key = unique_name("large-first");
        let count = original.len() as u64;
        let first = append(
            &store,
            keyed(&stream, ExpectedVersion::NoStream, original, &key),
        )
        .await;
        assert_eq!(first.stream_version, count, "{form}");
        let again = append(
            &store,
            keyed(&stream, ExpectedVersion::Exact(count), events(&["z"]), &key),
        )
        .await;
        assert_eq!(
            again,
            AppendOutcome {
                replayed: true,
                ..first.clone()
            },
            "{form}"
        );
        assert_eq!(
            store.find_idempotent(&key).await.expect("find"),
            Some(again),
            "{form}"
        );
        assert_eq!(
            store.stream_version(&stream).await.expect("version"),
            count,
            "{form}"
        );
    }
}

async fn a_repeated_idempotency_key_replays_the_first_outcome(backend: &Backend) {
    let store = backend.store().await;
    let stream = new_stream("order");
    let key = unique_name("cmd");
    let original = keyed(
        &stream,
        ExpectedVersion::NoStream,
        events(&["a", "b"]),
        &key,
    );

    let first = append(&store, original.clone()).await;
    assert!(!first.replayed);

    // The same request again, and a different one under the same key (whose expected version
    // would now conflict): both get the first outcome and write nothing.
    let again = append(&store, original).await;
    assert_eq!(
        again,
        AppendOutcome {
            replayed: true,
            ..first.clone()
        }
    );
    let different = append(
        &store,
        keyed(&stream, ExpectedVersion::Exact(7), events(&["zzz"]), &key),
    )
    .await;
    assert_eq!(
        different,
        AppendOutcome {
            replayed: true,
            ..first.clone()
        }
    );

    assert_eq!(store.stream_version(&stream).await.expect("version"), 2);
    read_exactly(&store, Cursor::START, 2, 100).await;

    let found = store.find_idempotent(&key).await.expect("find");
    assert_eq!(
        found,
        Some(AppendOutcome {
            replayed: true,
            ..first.clone()
        })
    );
    assert_eq!(
        store.find_idempotent("never-used").await.expect("find"),
        None
    );

    // The key is stored with the events, and the stream goes on without it.
    let stored = store.read_stream(&stream, 1, 10).await.expect("read");
    assert!(
        stored
            .iter()
            .all(|e| e.metadata.idempotency_key.as_deref() == Some(&key))
    );
    let next = append(
        &store,
        request(&stream, ExpectedVersion::Exact(2), events(&["c"])),
    )
    .await;
    assert_eq!(next.stream_version, 3);
}

async fn concurrent_appends_with_one_key_write_once(backend: &Backend) {
    const TASKS: usize = 8;
    let store = backend.store().await;
    for expected in [ExpectedVersion::Any, ExpectedVersion::NoStream] {
        let stream = new_stream("order");
        let key = unique_name("cmd");
        let start = Arc::new(Barrier::new(TASKS));
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let store = store.clone();
                let request = keyed(
                    &stream,
                    expected,
                    events(&[&format!("{t}-1"), &format!("{t}-2")]),
                    &key,
                );
                let start = start.clone();
                tokio::spawn(async move {
                    start.wait().await;
                    store.append(request).await
                })
            })
            .collect();
        let outcomes: Vec<AppendOutcome> = futures::future::join_all(tasks)
            .await
            .into_iter()
            .map(|t| {
                t.expect("task")
                    .expect("every same-key append succeeds, as the write or its replay")
            })
            .collect();

        let writes: Vec<&AppendOutcome> = outcomes.iter().filter(|o| !o.replayed).collect();
        assert_eq!(writes.len(), 1, "exactly one append writes ({expected:?})");
        let written = writes[0];
        for o in &outcomes {
            assert_eq!(
                AppendOutcome {
                    replayed: false,
                    ..o.clone()
                },
                *written,
                "replays return the write's outcome"
            );
        }
        let stored = store.read_stream(&stream, 1, 100).await.expect("read");
        assert_eq!(
            stored.iter().map(|e| e.id).collect::<Vec<_>>(),
            written.event_ids
        );
        assert_eq!(written.stream_version, 2);
    }
}

async fn a_key_used_for_another_stream_is_refused(backend: &Backend) {
    let store = backend.store().await;
    let first = new_stream("order");
    let second = new_stream("order");
    let key = unique_name("cmd");
    append(
        &store,
        keyed(&first, ExpectedVersion::Any, events(&["a"]), &key),
    )
    .await;
    // Whatever the second append expects, and however many events it carries: the events it
    // would insert are never kept.
    for (expected, names) in [
        (ExpectedVersion::Any, vec!["b"]),
        (ExpectedVersion::NoStream, vec!["b"]),
        (ExpectedVersion::NoStream, vec!["b", "c"]),
    ] {
        match store
            .append(keyed(&second, expected, events(&names), &key))
            .await
        {
            Err(StoreError::IdempotencyKeyReused {
                used_for,
                requested,
            }) => {
                assert_eq!(used_for, first);
                assert_eq!(requested, second);
            }
            other => panic!("expected IdempotencyKeyReused ({expected:?}), got {other:?}"),
        }
        assert_eq!(store.stream_version(&second).await.expect("version"), 0);
    }
}

async fn snapshots_keep_the_newest(backend: &Backend) {
    let store = backend.store().await;
    let stream = new_stream("account");
    let snapshot = |version: u64, schema: u32, payload: &'static str| Snapshot {
        stream: stream.clone(),
        stream_version: version,
        schema_version: schema,
        payload: Bytes::from_static(payload.as_bytes()),
    };
    assert_eq!(store.load_snapshot(&stream).await.expect("load"), None);

    let cases = [
        (snapshot(5, 1, "five"), snapshot(5, 1, "five")),
        // An older snapshot never replaces a newer one.
        (snapshot(3, 9, "three"), snapshot(5, 1, "five")),
        // The same version in a newer schema does (a service re-encoding its state).
        (snapshot(5, 2, "five-v2"), snapshot(5, 2, "five-v2")),
        (snapshot(5, 1, "five-v1"), snapshot(5, 2, "five-v2")),
        (snapshot(8, 1, "eight"), snapshot(8, 1, "eight")),
    ];
    for (save, expect) in cases {
        store.save_snapshot(save).await.expect("save");
        assert_eq!(
            store.load_snapshot(&stream).await.expect("load"),
            Some(expect)
        );
    }
    let other = new_stream("account");
    assert_eq!(store.load_snapshot(&other).await.expect("load"), None);
}

async fn checkpoints_are_kept_per_name(backend: &Backend) {
    let store = backend.store().await;
    assert_eq!(
        store.load_checkpoint("relay").await.expect("load"),
        Cursor::START
    );
    let saved = Cursor {
        tx: 7,
        position: 42,
    };
    store.save_checkpoint("relay", saved).await.expect("save");
    store
        .save_checkpoint("feed", Cursor { tx: 0, position: 3 })
        .await
        .expect("save");
    assert_eq!(store.load_checkpoint("relay").await.expect("load"), saved);
    assert_eq!(
        store.load_checkpoint("feed").await.expect("load"),
        Cursor { tx: 0, position: 3 }
    );
    // A reader may also move back (a replay from an earlier point).
    let reset = Cursor { tx: 1, position: 2 };
    store.save_checkpoint("relay", reset).await.expect("save");
    assert_eq!(store.load_checkpoint("relay").await.expect("load"), reset);
}

async fn upcasters_apply_on_every_read_path(backend: &Backend) {
    let plain = backend.store().await;
    let stream = new_stream("profile");
    append(
        &plain,
        request(
            &stream,
            ExpectedVersion::NoStream,
            vec![
                NewEvent::new("test.Renamed", 1, Bytes::from_static(b"a")),
                NewEvent::new("test.Renamed", 3, Bytes::from_static(b"c")),
                NewEvent::new("test.Other", 1, Bytes::from_static(b"o")),
            ],
        ),
    )
    .await;

    let extend = |to: u32, suffix: &'static str| {
        move |mut e: RecordedEvent| {
            let mut payload = e.payload.to_vec();
            payload.extend_from_slice(suffix.as_bytes());
            e.payload = payload.into();
            e.schema_version = to;
            Ok(e)
        }
    };
    let upcasting = backend
        .store_with(
            Upcasters::new()
                .register("test.Renamed", 1, extend(2, "+v2"))
                .register("test.Renamed", 2, extend(3, "+v3")),
        )
        .await;
    let expected = [
        ("test.Renamed", 3, "a+v2+v3"),
        ("test.Renamed", 3, "c"),
        ("test.Other", 1, "o"),
    ];
    let shape = |events: &[RecordedEvent]| -> Vec<(String, u32, String)> {
        events
            .iter()
            .map(|e| {
                (
                    e.event_type.clone(),
                    e.schema_version,
                    String::from_utf8_lossy(&e.payload).into_owned(),
                )
            })
            .collect()
    };
    let expected: Vec<(String, u32, String)> = expected
        .iter()
        .map(|(t, v, p)| (t.to_string(), *v, p.to_string()))
        .collect();
    let by_stream = upcasting
        .read_stream(&stream, 1, 10)
        .await
        .expect("read_stream");
    assert_eq!(shape(&by_stream), expected);
    let (by_position, _) = read_exactly(&upcasting, Cursor::START, 3, 10).await;
    assert_eq!(shape(&by_position), expected);

    // Stored events are untouched: a store without upcasters still reads version 1.
    let raw = plain.read_stream(&stream, 1, 1).await.expect("read_stream");
    assert_eq!(
        (raw[0].schema_version, raw[0].payload.as_ref()),
        (1, &b"a"[..])
    );

    let failing = backend
        .store_with(Upcasters::new().register("test.Renamed", 1, |_| {
            Err("field 2 cannot be derived".to_owned())
        }))
        .await;
    let is_upcast_failure = |result: Result<(), StoreError>| match result {
        Err(StoreError::Upcast {
            event_type,
            schema_version,
            reason,
        }) => {
            assert_eq!(event_type, "test.Renamed");
            assert_eq!(schema_version, 1);
            assert_eq!(reason, "field 2 cannot be derived");
        }
        other => panic!("expected an upcast failure, got {other:?}"),
    };
    is_upcast_failure(failing.read_stream(&stream, 1, 10).await.map(drop));
    is_upcast_failure(failing.read_all(Cursor::START, 10).await.map(drop));
}

async fn stream_ids_round_trip_through_the_store(backend: &Backend) {
    let store = backend.store().await;
    let odd = StreamId::new(
        "case_file2",
        format!("21-05-02:x/y#z@w~{}", unique_name("k")),
    )
    .expect("valid stream id");
    let outcome = append(
        &store,
        request(&odd, ExpectedVersion::NoStream, events(&["x"])),
    )
    .await;
    assert_eq!(outcome.stream, odd);
    let read = store.read_stream(&odd, 1, 10).await.expect("read");
    assert_eq!(read[0].stream, odd);
    assert_eq!(read[0].stream.category(), "case_file2");
    assert_eq!(read[0].stream.key(), odd.key());
    let (all, _) = read_exactly(&store, Cursor::START, 1, 10).await;
    assert_eq!(all[0].stream, odd);

    // Streams whose stored forms share a prefix stay apart.
    let short = StreamId::new("case", "1").expect("valid");
    let long = StreamId::new("case", "10").expect("valid");
    append(
        &store,
        request(&short, ExpectedVersion::NoStream, events(&["s"])),
    )
    .await;
    append(
        &store,
        request(&long, ExpectedVersion::NoStream, events(&["l"])),
    )
    .await;
    assert_eq!(store.stream_version(&short).await.expect("version"), 1);
    assert_eq!(
        store.read_stream(&long, 1, 10).await.expect("read").len(),
        1
    );
}

async fn metadata_round_trips(backend: &Backend) {
    let store = backend.store().await;
    let stream = new_stream("order");
    let metadata = Metadata {
        correlation_id: Some(Uuid::now_v7()),
        causation_id: Some(Uuid::now_v7()),
        actor: Some("staff:caseworker-17".into()),
        traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
        tracestate: Some("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7".into()),
        idempotency_key: Some(unique_name("cmd")),
    };
    append(
        &store,
        AppendRequest {
            metadata: metadata.clone(),
            ..request(&stream, ExpectedVersion::NoStream, events(&["a", "b"]))
        },
    )
    .await;
    append(
        &store,
        request(&stream, ExpectedVersion::Exact(2), events(&["bare"])),
    )
    .await;

    let by_stream = store.read_stream(&stream, 1, 10).await.expect("read");
    let (by_position, _) = read_exactly(&store, Cursor::START, 3, 10).await;
    for events in [&by_stream, &by_position] {
        assert_eq!(events[0].metadata, metadata);
        assert_eq!(events[1].metadata, metadata);
        assert_eq!(events[2].metadata, Metadata::default());
    }
}

async fn cursor_of_and_head_follow_what_is_readable(backend: &Backend) {
    let store = backend.store().await;
    assert_eq!(store.head().await.expect("head"), Cursor::START);
    assert_eq!(store.cursor_of(1).await.expect("cursor_of"), None);
    let empty = store.read_all(Cursor::START, 10).await.expect("read_all");
    assert!(empty.events.is_empty());
    assert_eq!(empty.next, Cursor::START);

    let stream = new_stream("order");
    let first = append(
        &store,
        request(&stream, ExpectedVersion::NoStream, events(&["a", "b"])),
    )
    .await;
    let second = append(
        &store,
        request(&stream, ExpectedVersion::Exact(2), events(&["c"])),
    )
    .await;
    let (all, last) = read_exactly(&store, Cursor::START, 3, 10).await;

    wait_for_head(&store, last).await;
    assert_eq!(all[2].cursor, last);
    assert_eq!(
        store
            .cursor_of(first.first_position)
            .await
            .expect("cursor_of"),
        Some(all[0].cursor)
    );
    assert_eq!(
        store
            .cursor_of(second.last_position)
            .await
            .expect("cursor_of"),
        Some(last)
    );
    assert_eq!(
        store
            .cursor_of(second.last_position + 1000)
            .await
            .expect("cursor_of"),
        None
    );
    let after_head = store.read_all(last, 10).await.expect("read_all");
    assert!(after_head.events.is_empty());
    assert_eq!(after_head.next, last);
}

/// A failed append may take positions and give none of them an event (PostgreSQL's sequence
/// never gives a value back; SQLite reuses them): waiting for such a position ends with the
/// cursor of the last event below it, as for an event, the event's own cursor.
async fn a_position_a_failed_append_took_is_passed_with_the_event_below_it(backend: &Backend) {
    let store = backend.store().await;
    assert_eq!(
        store.wait_for_position(0).await.expect("wait"),
        Cursor::START
    );
    let stream = new_stream("order");
    let existing = event("existing");
    let before = append(
        &store,
        request(&stream, ExpectedVersion::NoStream, vec![existing.clone()]),
    )
    .await;
    let failed = store
        .append(request(
            &new_stream("order"),
            ExpectedVersion::NoStream,
            vec![event("lost"), existing],
        ))
        .await;
    assert!(
        matches!(failed, Err(StoreError::DuplicateEventId { .. })),
        "{failed:?}"
    );
    let after = append(
        &store,
        request(&stream, ExpectedVersion::Exact(1), events(&["after"])),
    )
    .await;
    let (all, _) = read_exactly(&store, Cursor::START, 2, 10).await;

    let wait = |position| {
        let store = store.clone();
        async move {
            tokio::time::timeout(DEADLINE, store.wait_for_position(position))
                .await
                .unwrap_or_else(|_| panic!("position {position} never settled"))
                .expect("wait_for_position")
        }
    };
    assert_eq!(wait(before.last_position).await, all[0].cursor);
    assert_eq!(
        wait(after.first_position - 1).await,
        all[0].cursor,
        "what lies between the two events (a gap on PostgreSQL) is passed with the first"
    );
    assert_eq!(wait(after.last_position).await, all[1].cursor);
    // A position no append has taken yet is not passed by anything.
    let unwritten =
        tokio::time::timeout(Duration::from_millis(200), wait(after.last_position + 1)).await;
    assert!(unwritten.is_err(), "{unwritten:?}");
}

async fn the_store_opens_next_to_a_services_own_migrations(backend: &Backend) {
    let store = backend.store().await;
    backend.run_service_migrations().await;
    drop(store);
    // Reopening runs our migrations again: already applied, and the service's versions are not
    // ours, which must not stop the store from starting.
    let reopened = backend.store().await;
    let stream = new_stream("order");
    let outcome = append(
        &reopened,
        request(&stream, ExpectedVersion::NoStream, events(&["a"])),
    )
    .await;
    assert_eq!(outcome.stream_version, 1);
    // And the service can still run its migrations after ours.
    backend.run_service_migrations().await;
}

/// The versions recorded in the shared migrations table, in order.
async fn recorded_versions(pool: &sqlx::AnyPool) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(pool)
        .await
        .expect("the migrations table")
}

async fn service_migrations_apply_once_across_restarts(backend: &Backend) {
    let _store = backend.store().await;
    for _start in 0..3 {
        backend.run_service_migrations().await;
    }
    let pool = backend.any_pool().await;
    assert_eq!(recorded_versions(&pool).await, [1, 2, 3, 4, 5, 1000, 1001]);
    // The table is there, with its index, and usable with portable SQL.
    sqlx::query("INSERT INTO svc_things (id, name) VALUES ($1, $2)")
        .bind(1_i64)
        .bind("a")
        .execute(&pool)
        .await
        .expect("insert into the service's table");

    // A changed migration is refused rather than silently skipped.
    let edited = [ServiceMigration::portable(
        1000,
        "service things",
        "CREATE TABLE svc_things (id BIGINT PRIMARY KEY)",
    )];
    assert!(migrations::run_service(&pool, &edited).await.is_err());
    // Versions below the services' range are refused without touching the database.
    let platform = [ServiceMigration::portable(
        3,
        "mine",
        "CREATE TABLE t (x BIGINT)",
    )];
    assert!(migrations::run_service(&pool, &platform).await.is_err());
    assert_eq!(recorded_versions(&pool).await, [1, 2, 3, 4, 5, 1000, 1001]);
}

// ---------------------------------------------------------------------------------------------
// Multi-stream appends.

async fn append_all(store: &SharedStore, requests: Vec<AppendRequest>) -> Vec<AppendOutcome> {
    store
        .append_all(requests)
        .await
        .expect("append_all succeeds")
}

/// A stream's payloads, as text, in version order.
async fn stream_payloads(store: &SharedStore, stream: &StreamId) -> Vec<String> {
    store
        .read_stream(stream, 1, 10_000)
        .await
        .expect("read_stream")
        .iter()
        .map(|e| String::from_utf8_lossy(&e.payload).into_owned())
        .collect()
}

fn payload_text(event: &RecordedEvent) -> String {
    String::from_utf8_lossy(&event.payload).into_owned()
}

fn ids_of(requests: &[AppendRequest]) -> Vec<Vec<Uuid>> {
    requests
        .iter()
        .map(|r| r.events.iter().map(|e| e.id).collect())
        .collect()
}

/// A new stream, one at `Exact(v)` and one at `Any` commit together: the outcomes come back in
/// request order with the right versions, positions rise from request to request, and
/// `read_all` delivers the call's events once, together, in request order.
async fn append_all_commits_every_stream_in_request_order(backend: &Backend) {
    let store = backend.store().await;
    let fresh = new_stream("marriage");
    let exact = new_stream("person");
    let any = new_stream("person");
    append(
        &store,
        request(&exact, ExpectedVersion::NoStream, events(&["e1", "e2"])),
    )
    .await;
    append(
        &store,
        request(&any, ExpectedVersion::NoStream, events(&["y1"])),
    )
    .await;

    let requests = vec![
        request(&fresh, ExpectedVersion::NoStream, events(&["f1", "f2"])),
        request(&exact, ExpectedVersion::Exact(2), events(&["e3"])),
        request(&any, ExpectedVersion::Any, events(&["y2", "y3", "y4"])),
    ];
    let ids = ids_of(&requests);
    let outcomes = append_all(&store, requests).await;
    assert_eq!(
        outcomes
            .iter()
            .map(|o| (o.stream.clone(), o.stream_version))
            .collect::<Vec<_>>(),
        [(fresh.clone(), 2), (exact.clone(), 3), (any.clone(), 4)]
    );
    for (outcome, ids) in outcomes.iter().zip(&ids) {
        assert_eq!(&outcome.event_ids, ids);
        assert!(!outcome.replayed);
        assert!(outcome.first_position <= outcome.last_position);
    }
    for pair in outcomes.windows(2) {
        assert!(
            pair[0].last_position < pair[1].first_position,
            "request i's positions are below request i+1's: {outcomes:?}"
        );
    }

    let expected: [&[&str]; 3] = [
        &["f1", "f2"],
        &["e1", "e2", "e3"],
        &["y1", "y2", "y3", "y4"],
    ];
    for (outcome, labels) in outcomes.iter().zip(expected) {
        let stored = store
            .read_stream(&outcome.stream, 1, 100)
            .await
            .expect("read_stream");
        assert_eq!(stored.iter().map(payload_text).collect::<Vec<_>>(), labels);
        let appended = &stored[stored.len() - outcome.event_ids.len()..];
        assert_eq!(
            appended.iter().map(|e| e.id).collect::<Vec<_>>(),
            outcome.event_ids
        );
        assert_eq!(
            appended.last().map(|e| e.stream_version),
            Some(outcome.stream_version)
        );
        assert_eq!(appended[0].position, outcome.first_position);
        assert_eq!(appended[appended.len() - 1].position, outcome.last_position);
        assert!(
            appended.windows(2).all(|w| w[0].position < w[1].position),
            "positions rise with versions"
        );
    }

    // By position: the three earlier events, then the six of the call, once each, in request
    // order, all in one transaction.
    let (all, seen) = read_exactly(&store, Cursor::START, 9, 4).await;
    assert_each_once_in_stream_order(&all);
    let call = &all[3..];
    assert_eq!(call.iter().map(|e| e.id).collect::<Vec<_>>(), ids.concat());
    assert!(
        call.iter().all(|e| e.cursor.tx == call[0].cursor.tx),
        "one transaction: {call:?}"
    );

    // More than 128 events per request (the store's other statement form), new and `Any`.
    let big = new_stream("register");
    let labels: Vec<String> = (0..130).map(|i| format!("b{i}")).collect();
    let more: Vec<String> = (0..129).map(|i| format!("m{i}")).collect();
    let as_events =
        |labels: &[String]| -> Vec<NewEvent> { labels.iter().map(|l| event(l)).collect() };
    let outcomes = append_all(
        &store,
        vec![
            request(&big, ExpectedVersion::NoStream, as_events(&labels)),
            request(&any, ExpectedVersion::Any, as_events(&more)),
        ],
    )
    .await;
    assert_eq!(outcomes[0].stream_version, 130);
    assert_eq!(outcomes[1].stream_version, 4 + 129);
    assert!(outcomes[0].last_position < outcomes[1].first_position);
    assert_eq!(stream_payloads(&store, &big).await, labels);
    assert_eq!(stream_payloads(&store, &any).await[4..], more[..]);

    // A single request is an ordinary append.
    let single = append_all(
        &store,
        vec![request(&fresh, ExpectedVersion::Exact(2), events(&["f3"]))],
    )
    .await;
    assert_eq!(single.len(), 1);
    assert_eq!(single[0].stream, fresh);
    assert_eq!(single[0].stream_version, 3);

    let (rest, _) = read_exactly(&store, seen, 130 + 129 + 1, 64).await;
    let mut everything = all;
    everything.extend(rest);
    assert_each_once_in_stream_order(&everything);
}

/// A conflict (or a stored event id) on any request, the last one included, leaves every
/// stream as it was: nothing is written, no version is used up.
async fn a_conflict_in_append_all_writes_nothing_on_any_stream(backend: &Backend) {
    let store = backend.store().await;
    let a = new_stream("person");
    let b = new_stream("marriage");
    let c = new_stream("person");
    append(
        &store,
        request(&a, ExpectedVersion::NoStream, events(&["a1"])),
    )
    .await;
    let stored_c = append(
        &store,
        request(&c, ExpectedVersion::NoStream, events(&["c1", "c2"])),
    )
    .await;

    let conflict_on = |result: Result<Vec<AppendOutcome>, StoreError>| match result {
        Err(StoreError::Conflict {
            stream,
            expected,
            actual,
        }) => (stream, expected, actual),
        other => panic!("expected a version conflict, got {other:?}"),
    };
    // The last request's version is stale.
    let refused = store
        .append_all(vec![
            request(&a, ExpectedVersion::Exact(1), events(&["x"])),
            request(&b, ExpectedVersion::NoStream, events(&["x", "x"])),
            request(&c, ExpectedVersion::Exact(1), events(&["x"])),
        ])
        .await;
    assert_eq!(
        conflict_on(refused),
        (c.clone(), ExpectedVersion::Exact(1), 2)
    );
    // The last stream exists although it should not; the others append at any version.
    let refused = store
        .append_all(vec![
            request(&a, ExpectedVersion::Any, events(&["x"])),
            request(&b, ExpectedVersion::Any, events(&["x"])),
            request(&c, ExpectedVersion::NoStream, events(&["x"])),
        ])
        .await;
    assert_eq!(
        conflict_on(refused),
        (c.clone(), ExpectedVersion::NoStream, 2)
    );
    // A stream that is not there yet, first.
    let refused = store
        .append_all(vec![
            request(&b, ExpectedVersion::Exact(1), events(&["x"])),
            request(&a, ExpectedVersion::Exact(1), events(&["x"])),
        ])
        .await;
    assert_eq!(
        conflict_on(refused),
        (b.clone(), ExpectedVersion::Exact(1), 0)
    );
    // The last request reuses a stored event id.
    let reused = NewEvent {
        id: stored_c.event_ids[0],
        ..event("x")
    };
    match store
        .append_all(vec![
            request(&b, ExpectedVersion::NoStream, events(&["x"])),
            request(&a, ExpectedVersion::Exact(1), events(&["x"])),
            request(&c, ExpectedVersion::Exact(2), vec![event("x"), reused]),
        ])
        .await
    {
        Err(StoreError::DuplicateEventId { event_id }) => {
            assert_eq!(event_id, stored_c.event_ids[0]);
        }
        other => panic!("expected a duplicate event id, got {other:?}"),
    }

    for (stream, version) in [(&a, 1), (&b, 0), (&c, 2)] {
        assert_eq!(
            store.stream_version(stream).await.expect("version"),
            version,
            "{stream} is untouched"
        );
    }
    // Nothing was used up: the right versions go through, numbered on from where they were.
    let outcomes = append_all(
        &store,
        vec![
            request(&a, ExpectedVersion::Exact(1), events(&["a2"])),
            request(&b, ExpectedVersion::NoStream, events(&["b1"])),
            request(&c, ExpectedVersion::Exact(2), events(&["c3"])),
        ],
    )
    .await;
    assert_eq!(
        outcomes
            .iter()
            .map(|o| o.stream_version)
            .collect::<Vec<_>>(),
        [2, 1, 3]
    );
    let (all, _) = read_exactly(&store, Cursor::START, 6, 10).await;
    assert_each_once_in_stream_order(&all);
    assert_eq!(
        all.iter().map(payload_text).collect::<Vec<_>>(),
        ["a1", "c1", "c2", "a2", "b1", "c3"]
    );
}

/// Requests that break the rules are refused before anything is written.
async fn append_all_refuses_invalid_requests_without_writing(backend: &Backend) {
    let store = backend.store().await;
    let a = new_stream("person");
    let b = new_stream("person");

    assert!(matches!(
        store.append_all(vec![]).await,
        Err(StoreError::EmptyAppend)
    ));
    assert!(matches!(
        store
            .append_all(vec![
                request(&a, ExpectedVersion::Any, events(&["x"])),
                request(&b, ExpectedVersion::Any, vec![]),
            ])
            .await,
        Err(StoreError::EmptyAppend)
    ));
    match store
        .append_all(vec![
            request(&a, ExpectedVersion::NoStream, events(&["x"])),
            request(&b, ExpectedVersion::NoStream, events(&["x"])),
            request(&a, ExpectedVersion::Any, events(&["x"])),
        ])
        .await
    {
        Err(StoreError::DuplicateStreamInAppend(stream)) => assert_eq!(stream, a),
        other => panic!("expected DuplicateStreamInAppend, got {other:?}"),
    }

    let key = unique_name("cmd");
    match store
        .append_all(vec![
            request(&a, ExpectedVersion::NoStream, events(&["x"])),
            keyed(&b, ExpectedVersion::NoStream, events(&["x"]), &key),
        ])
        .await
    {
        Err(StoreError::KeyedMultiStreamAppend(stream)) => assert_eq!(stream, b),
        other => panic!("expected KeyedMultiStreamAppend, got {other:?}"),
    }
    // Whatever the number of requests.
    match store
        .append_all(vec![keyed(
            &a,
            ExpectedVersion::NoStream,
            events(&["x"]),
            &key,
        )])
        .await
    {
        Err(StoreError::KeyedMultiStreamAppend(stream)) => assert_eq!(stream, a),
        other => panic!("expected KeyedMultiStreamAppend, got {other:?}"),
    }
    assert_eq!(store.find_idempotent(&key).await.expect("find"), None);

    let twice = event("twice");
    match store
        .append_all(vec![
            request(&a, ExpectedVersion::NoStream, vec![twice.clone()]),
            request(&b, ExpectedVersion::NoStream, vec![twice.clone()]),
        ])
        .await
    {
        Err(StoreError::DuplicateEventId { event_id }) => assert_eq!(event_id, twice.id),
        other => panic!("expected DuplicateEventId, got {other:?}"),
    }

    for stream in [&a, &b] {
        assert_eq!(store.stream_version(stream).await.expect("version"), 0);
    }
    let nothing = store.read_all(Cursor::START, 10).await.expect("read_all");
    assert!(nothing.events.is_empty(), "{nothing:?}");
}

/// Tasks append to one shared stream at `Exact` versions and, in the same call, to a stream of
/// their own, half naming the shared stream first and half last. Every shared version is won
/// exactly once, losers see only conflicts on the shared stream (never a deadlock or another
/// error), and each task's own stream holds exactly what it won, in the same transactions.
async fn concurrent_append_alls_in_opposite_orders_lose_nothing(backend: &Backend) {
    const TASKS: usize = 16;
    const TARGET: u64 = 64;
    const MAX_ATTEMPTS: u32 = 5_000;
    let store = backend.store().await;
    let shared = new_stream("registry");

    let start = Arc::new(Barrier::new(TASKS));
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let store = store.clone();
            let shared = shared.clone();
            let start = start.clone();
            tokio::spawn(async move {
                let own = new_stream("person");
                let mut won: Vec<(u64, String)> = Vec::new();
                let mut conflicts = 0u32;
                let mut attempts = 0u32;
                start.wait().await;
                loop {
                    let version = store.stream_version(&shared).await.expect("version");
                    if version >= TARGET {
                        return (own, won, conflicts);
                    }
                    attempts += 1;
                    assert!(attempts <= MAX_ATTEMPTS, "task {task} never got through");
                    let label = format!("{task}/{}", won.len());
                    let on_shared =
                        request(&shared, ExpectedVersion::Exact(version), events(&[&label]));
                    let own_expected = if (task / 2) % 2 == 0 {
                        ExpectedVersion::Exact(2 * won.len() as u64)
                    } else {
                        ExpectedVersion::Any
                    };
                    let on_own = request(
                        &own,
                        own_expected,
                        events(&[&format!("{label}+1"), &format!("{label}+2")]),
                    );
                    let shared_first = task % 2 == 0;
                    let requests = if shared_first {
                        vec![on_shared, on_own]
                    } else {
                        vec![on_own, on_shared]
                    };
                    match store.append_all(requests).await {
                        Ok(outcomes) => {
                            let (s, o) = if shared_first { (0, 1) } else { (1, 0) };
                            assert_eq!(outcomes[s].stream, shared);
                            assert_eq!(outcomes[s].stream_version, version + 1);
                            assert_eq!(outcomes[o].stream, own);
                            assert_eq!(outcomes[o].stream_version, 2 * (won.len() as u64 + 1));
                            won.push((version + 1, label));
                        }
                        Err(StoreError::Conflict {
                            stream,
                            expected,
                            actual,
                        }) => {
                            assert_eq!(stream, shared, "task {task}: only the shared stream races");
                            assert_eq!(expected, ExpectedVersion::Exact(version));
                            assert!(actual > version, "a conflict reports the newer version");
                            conflicts += 1;
                        }
                        Err(other) => panic!("task {task} failed: {other}"),
                    }
                }
            })
        })
        .collect();

    let mut winners: Vec<(u64, String)> = Vec::new();
    let mut conflicts = 0;
    let mut owns = Vec::new();
    for task in futures::future::join_all(tasks).await {
        let (own, won, lost) = task.expect("task");
        conflicts += lost;
        let expected: Vec<String> = won
            .iter()
            .flat_map(|(_, label)| [format!("{label}+1"), format!("{label}+2")])
            .collect();
        assert_eq!(
            stream_payloads(&store, &own).await,
            expected,
            "a task's own stream holds exactly what it won"
        );
        owns.push(own);
        winners.extend(won);
    }
    winners.sort();
    assert_eq!(
        winners.iter().map(|w| w.0).collect::<Vec<_>>(),
        (1..=TARGET).collect::<Vec<_>>(),
        "every shared version is won exactly once"
    );
    assert!(
        conflicts > 0,
        "the tasks never collided; the test proved nothing"
    );
    assert_eq!(
        stream_payloads(&store, &shared).await,
        winners.iter().map(|w| w.1.clone()).collect::<Vec<_>>()
    );

    // By position: every event once, and each call's three events side by side.
    let (all, _) = read_exactly(&store, Cursor::START, 3 * TARGET as usize, 50).await;
    assert_each_once_in_stream_order(&all);
    for call in all.chunks(3) {
        let labels: Vec<String> = call.iter().map(payload_text).collect();
        let base = labels
            .iter()
            .find(|l| !l.contains('+'))
            .expect("the shared event")
            .clone();
        let mut sorted = labels.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [base.clone(), format!("{base}+1"), format!("{base}+2")],
            "one call's events are read together: {labels:?}"
        );
        assert!(call.iter().all(|e| e.cursor.tx == call[0].cursor.tx));
    }
}

/// Single appends and multi-stream appends, all at `Any`, race on one stream; the multi-stream
/// ones write to a stream of their own first. A reader by position must get the shared stream in
/// version order (on PostgreSQL this holds only if a multi-stream append reads the versions it
/// builds on before its transaction has an id), and every append gets through.
async fn append_all_and_single_appends_on_one_stream_are_read_in_version_order(backend: &Backend) {
    const SINGLES: usize = 8;
    const MULTIS: usize = 8;
    const APPENDS: usize = 40;
    let total = SINGLES * APPENDS * 2 + MULTIS * APPENDS * 3;
    let store = backend.store().await;
    let shared = new_stream("tally");

    let reader = {
        let store = store.clone();
        tokio::spawn(async move {
            let deadline = Instant::now() + DEADLINE;
            let mut seen = Vec::new();
            let mut cursor = Cursor::START;
            while seen.len() < total {
                assert!(Instant::now() < deadline, "reader saw only {}", seen.len());
                let batch = store.read_all(cursor, 11).await.expect("read_all");
                if batch.events.is_empty() {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                cursor = batch.next;
                seen.extend(batch.events);
            }
            seen
        })
    };

    let start = Arc::new(Barrier::new(SINGLES + MULTIS));
    let singles = (0..SINGLES).map(|writer| {
        let store = store.clone();
        let shared = shared.clone();
        let start = start.clone();
        tokio::spawn(async move {
            start.wait().await;
            for i in 0..APPENDS {
                let batch = events(&[&format!("s{writer}/{i}/a"), &format!("s{writer}/{i}/b")]);
                append(&store, request(&shared, ExpectedVersion::Any, batch)).await;
            }
        })
    });
    let multis = (0..MULTIS).map(|writer| {
        let store = store.clone();
        let shared = shared.clone();
        let start = start.clone();
        tokio::spawn(async move {
            let own = new_stream("ledger");
            start.wait().await;
            for i in 0..APPENDS {
                let mine = request(
                    &own,
                    ExpectedVersion::Exact(i as u64),
                    events(&[&format!("m{writer}/{i}/own")]),
                );
                let theirs = request(
                    &shared,
                    ExpectedVersion::Any,
                    events(&[&format!("m{writer}/{i}/a"), &format!("m{writer}/{i}/b")]),
                );
                append_all(&store, vec![mine, theirs]).await;
            }
        })
    });
    for task in futures::future::join_all(singles.chain(multis)).await {
        task.expect("writer task");
    }
    assert_eq!(
        store.stream_version(&shared).await.expect("version"),
        ((SINGLES + MULTIS) * APPENDS * 2) as u64
    );

    let seen = reader.await.expect("reader task");
    assert_each_once_in_stream_order(&seen);
    let (all, _) = read_exactly(&store, Cursor::START, total, 100).await;
    assert_each_once_in_stream_order(&all);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL only.

mod postgres_only {
    use std::{net::SocketAddr, str::FromStr};

    use minzheng_eventstore::postgres::PostgresStore;
    use sqlx::{
        Connection, PgConnection,
        postgres::{PgConnectOptions, PgPoolOptions},
    };
    use tokio::{net::TcpListener, task::JoinSet};

    use super::*;

    /// Large payloads are compressed with LZ4, not pglz (a server that has it, as here).
    #[tokio::test]
    async fn payloads_are_compressed_with_lz4() {
        let db = TestDatabase::create().await;
        let store = PostgresStore::connect(&db.url, Upcasters::new())
            .await
            .expect("connect");
        for table in ["mz_events", "mz_snapshots"] {
            let method: String = sqlx::query_scalar(
                "SELECT attcompression::text FROM pg_attribute \
                 WHERE attrelid = $1::regclass AND attname = 'payload'",
            )
            .bind(table)
            .fetch_one(store.pool())
            .await
            .expect("the column's compression");
            assert_eq!(method, "l", "{table}.payload");
        }
    }

    /// Replicas of a service starting at once against one database each run the store's and
    /// the service's migrations: every version is applied exactly once, and every replica
    /// starts.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replicas_starting_together_apply_every_migration_once() {
        let backend = Backend::Postgres(TestDatabase::create().await);
        let replicas = Arc::new(Barrier::new(4));
        let mut starts = JoinSet::new();
        for _ in 0..4 {
            let url = backend.url().to_owned();
            let replicas = replicas.clone();
            starts.spawn(async move {
                replicas.wait().await;
                let store = PostgresStore::connect(&url, Upcasters::new()).await?;
                sqlx::any::install_default_drivers();
                let pool = sqlx::AnyPool::connect(&url)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                migrations::run_service(&pool, SERVICE_MIGRATIONS).await?;
                pool.close().await;
                Ok::<_, StoreError>(store)
            });
        }
        while let Some(started) = starts.join_next().await {
            started.expect("no panic").expect("every replica starts");
        }
        let pool = backend.any_pool().await;
        assert_eq!(recorded_versions(&pool).await, [1, 2, 3, 4, 5, 1000, 1001]);
    }

    /// A key recorded before the append keys (migration 5), in `mz_idempotency` only, still
    /// answers: a repeat replays what it recorded, another stream is refused, and a look-up
    /// finds it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_key_recorded_before_the_append_keys_still_answers() {
        let db = TestDatabase::create().await;
        let store = PostgresStore::connect(&db.url, Upcasters::new())
            .await
            .expect("connect");
        let shared: SharedStore = Arc::new(store.clone());
        let stream = new_stream("order");
        let written = append(
            &shared,
            request(&stream, ExpectedVersion::NoStream, events(&["a", "b"])),
        )
        .await;
        // What an append with a key recorded before: the outcome in `mz_idempotency`.
        let key = unique_name("before");
        sqlx::query(
            "INSERT INTO mz_idempotency (key, stream_id, stream_version, first_position, \
             last_position, event_ids) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key)
        .bind(stream.to_string())
        .bind(2_i64)
        .bind(i64::try_from(written.first_position).expect("position"))
        .bind(i64::try_from(written.last_position).expect("position"))
        .bind(&written.event_ids)
        .execute(store.pool())
        .await
        .expect("record the key as before");
        let recorded = AppendOutcome {
            replayed: true,
            ..written
        };

        for (form, again) in [
            ("new stream", ExpectedVersion::NoStream),
            ("exact", ExpectedVersion::Exact(2)),
            ("any", ExpectedVersion::Any),
        ] {
            let outcome = append(&shared, keyed(&stream, again, events(&["c"]), &key)).await;
            assert_eq!(outcome, recorded, "{form}");
        }
        assert_eq!(shared.stream_version(&stream).await.expect("version"), 2);
        let error = shared
            .append(keyed(
                &new_stream("order"),
                ExpectedVersion::NoStream,
                events(&["x"]),
                &key,
            ))
            .await
            .expect_err("the key names another stream");
        assert!(
            matches!(error, StoreError::IdempotencyKeyReused { .. }),
            "{error:?}"
        );
        assert_eq!(
            shared.find_idempotent(&key).await.expect("find"),
            Some(recorded)
        );
    }

    /// A transaction that commits after later ones is delivered in its place, not skipped:
    /// readers stop before it while it is open, then read it and everything after, once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_late_commit_pauses_readers_and_is_then_read_in_order() {
        let db = TestDatabase::create().await;
        let store = PostgresStore::connect(&db.url, Upcasters::new())
            .await
            .expect("connect");
        let shared: SharedStore = Arc::new(store.clone());
        let early = new_stream("order");
        append(
            &shared,
            request(&early, ExpectedVersion::NoStream, events(&["early"])),
        )
        .await;
        let (_, seen_up_to) = read_exactly(&shared, Cursor::START, 1, 10).await;

        // Hold an insert open on another connection: it takes its transaction id and position
        // now, and commits only after the events appended below.
        let mut held = PgConnection::connect(&db.url).await.expect("connect");
        sqlx::query("BEGIN")
            .execute(&mut held)
            .await
            .expect("begin");
        let held_id = Uuid::now_v7();
        let held_position: i64 = sqlx::query_scalar(
            "INSERT INTO mz_events (event_id, stream_id, stream_category, stream_version, \
                 event_type, schema_version, payload) \
             VALUES ($1, 'held-1', 'held', 1, 'test.Held', 1, '\\x00'::bytea) \
             RETURNING position",
        )
        .bind(held_id)
        .fetch_one(&mut held)
        .await
        .expect("held insert");

        let mut later = Vec::new();
        for label in ["l1", "l2", "l3"] {
            let stream = new_stream("order");
            let outcome = append(
                &shared,
                request(&stream, ExpectedVersion::NoStream, events(&[label])),
            )
            .await;
            assert!(outcome.first_position as i64 > held_position);
            later.push(outcome.event_ids[0]);
        }

        // While it is open, nothing past it is readable: the reader stops, it does not skip.
        let paused = shared.read_all(seen_up_to, 100).await.expect("read_all");
        assert!(
            paused.events.is_empty(),
            "read past an open transaction: {paused:?}"
        );
        assert_eq!(paused.next, seen_up_to);
        assert!(shared.head().await.expect("head") <= seen_up_to);
        assert_eq!(
            shared
                .cursor_of(held_position as u64)
                .await
                .expect("cursor_of"),
            None
        );
        let open = store
            .oldest_open_transaction()
            .await
            .expect("oldest open transaction");
        assert!(
            open.is_some_and(|o| o.pid.is_some()),
            "the held transaction is open, in a session that can be named"
        );

        sqlx::query("COMMIT")
            .execute(&mut held)
            .await
            .expect("commit");
        held.close().await.expect("close");

        let (after, _) = read_exactly(&shared, seen_up_to, 4, 100).await;
        let ids: Vec<Uuid> = after.iter().map(|e| e.id).collect();
        let mut expected = vec![held_id];
        expected.extend(later);
        assert_eq!(
            ids, expected,
            "the late commit comes first, then the later ones, once each"
        );
        assert_eq!(after[0].position, held_position as u64);
    }

    /// Transaction ids are cluster-wide, but a transaction in another database of the cluster
    /// cannot insert into this one's events: it must not hold this store's readers back (a
    /// reporting job or a migration elsewhere would stall every relay otherwise), nor count as
    /// this store's oldest open transaction.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_transaction_open_in_another_database_holds_no_reader_back() {
        let db = TestDatabase::create().await;
        let elsewhere = TestDatabase::create().await;
        let store = PostgresStore::connect(&db.url, Upcasters::new())
            .await
            .expect("connect");
        let shared: SharedStore = Arc::new(store.clone());

        // A transaction in the other database that has written, so it holds an id older than
        // everything appended below.
        let mut other = PgConnection::connect(&elsewhere.url)
            .await
            .expect("connect");
        sqlx::query("BEGIN")
            .execute(&mut other)
            .await
            .expect("begin");
        sqlx::query("CREATE TABLE report (n int)")
            .execute(&mut other)
            .await
            .expect("write elsewhere");
        let other_xid: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint")
            .fetch_one(&mut other)
            .await
            .expect("its transaction id");

        let stream = new_stream("order");
        let outcome = append(
            &shared,
            request(&stream, ExpectedVersion::NoStream, events(&["a", "b"])),
        )
        .await;
        let batch = shared.read_all(Cursor::START, 10).await.expect("read_all");
        assert!(
            batch.events.iter().all(|e| e.cursor.tx > other_xid as u64),
            "the events came after the open transaction"
        );
        assert_eq!(
            batch.events.iter().map(|e| e.id).collect::<Vec<_>>(),
            outcome.event_ids,
            "readers are not held back by a transaction in another database"
        );
        assert_eq!(
            shared.head().await.expect("head").position,
            outcome.last_position
        );
        assert!(
            shared
                .cursor_of(outcome.first_position)
                .await
                .expect("cursor_of")
                .is_some()
        );
        assert_eq!(
            store
                .oldest_open_transaction()
                .await
                .expect("oldest open transaction"),
            None,
            "nothing is open in this store's database"
        );
        sqlx::query("ROLLBACK")
            .execute(&mut other)
            .await
            .expect("rollback");
    }

    /// A position an open transaction holds is neither an event nor a gap yet: waiting for it
    /// lasts until the transaction ends, even with later events readable; rolled back, it is a
    /// gap, passed with the last event below it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiting_for_a_held_position_lasts_until_its_transaction_ends() {
        let db = TestDatabase::create().await;
        let shared: SharedStore = Arc::new(
            PostgresStore::connect(&db.url, Upcasters::new())
                .await
                .expect("connect"),
        );
        let early = new_stream("order");
        append(
            &shared,
            request(&early, ExpectedVersion::NoStream, events(&["early"])),
        )
        .await;
        let (seen, _) = read_exactly(&shared, Cursor::START, 1, 10).await;

        let mut held = PgConnection::connect(&db.url).await.expect("connect");
        sqlx::query("BEGIN")
            .execute(&mut held)
            .await
            .expect("begin");
        let held_position: i64 = sqlx::query_scalar(
            "INSERT INTO mz_events (event_id, stream_id, stream_category, stream_version, \
                 event_type, schema_version, payload) \
             VALUES ($1, 'held-1', 'held', 1, 'test.Held', 1, '\\x00'::bytea) \
             RETURNING position",
        )
        .bind(Uuid::now_v7())
        .fetch_one(&mut held)
        .await
        .expect("held insert");
        append(
            &shared,
            request(
                &new_stream("order"),
                ExpectedVersion::NoStream,
                events(&["later"]),
            ),
        )
        .await;

        let waiting = tokio::spawn({
            let shared = shared.clone();
            async move { shared.wait_for_position(held_position as u64).await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !waiting.is_finished(),
            "settled a position an open transaction still holds: {:?}",
            waiting.await
        );

        sqlx::query("ROLLBACK")
            .execute(&mut held)
            .await
            .expect("rollback");
        held.close().await.expect("close");
        let passed_with = tokio::time::timeout(DEADLINE, waiting)
            .await
            .expect("settles once the transaction ended")
            .expect("no panic")
            .expect("wait_for_position");
        assert_eq!(passed_with, seen[0].cursor);
    }

    /// Multi-stream appends naming the same two streams in opposite orders queue on the
    /// streams' locks, taken in one order, instead of deadlocking on each other's rows. The
    /// store would retry a deadlock, so the server's deadlock count is where one would show.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn multi_stream_appends_in_opposite_orders_never_deadlock() {
        const TASKS: usize = 8;
        const APPENDS: usize = 8;
        let db = TestDatabase::create().await;
        let store = PostgresStore::connect(&db.url, Upcasters::new())
            .await
            .expect("connect");
        let shared: SharedStore = Arc::new(store.clone());
        let a = new_stream("person");
        let b = new_stream("person");
        let start = Arc::new(Barrier::new(TASKS));
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| {
                let store = shared.clone();
                let (a, b) = (a.clone(), b.clone());
                let start = start.clone();
                tokio::spawn(async move {
                    start.wait().await;
                    for i in 0..APPENDS {
                        let mut requests = vec![
                            request(&a, ExpectedVersion::Any, events(&[&format!("{task}/{i}")])),
                            request(&b, ExpectedVersion::Any, events(&[&format!("{task}/{i}")])),
                        ];
                        if task % 2 == 1 {
                            requests.reverse();
                        }
                        store
                            .append_all(requests)
                            .await
                            .unwrap_or_else(|e| panic!("task {task} failed: {e}"));
                    }
                })
            })
            .collect();
        for task in futures::future::join_all(tasks).await {
            task.expect("task");
        }
        for stream in [&a, &b] {
            assert_eq!(
                shared.stream_version(stream).await.expect("version"),
                (TASKS * APPENDS) as u64
            );
        }
        let (all, _) = read_exactly(&shared, Cursor::START, 2 * TASKS * APPENDS, 64).await;
        assert_each_once_in_stream_order(&all);

        // A backend counts the deadlocks it lost when it reports its statistics, at the latest
        // when it exits: close every connection, wait for their backends to go, then look.
        drop(shared);
        store.pool().close().await;
        let mut conn = PgConnection::connect(&db.url).await.expect("connect");
        let deadline = Instant::now() + DEADLINE;
        loop {
            let others: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .fetch_one(&mut conn)
            .await
            .expect("count backends");
            if others == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{others} backends stay connected"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let deadlocks: i64 = sqlx::query_scalar(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
        )
        .fetch_one(&mut conn)
        .await
        .expect("deadlock count");
        assert_eq!(deadlocks, 0, "multi-stream appends deadlocked");
        conn.close().await.expect("close");
    }

    /// A closed port on this machine: bound once, then released.
    async fn closed_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        listener.local_addr().expect("address").port()
    }

    #[tokio::test]
    async fn an_unreachable_server_is_unavailable() {
        let url = format!("postgres://postgres@127.0.0.1:{}/none", closed_port().await);
        let pool = PgPoolOptions::new()
            .acquire_timeout(Duration::from_millis(500))
            .connect_lazy(&url)
            .expect("lazy pool");
        match PostgresStore::from_pool(pool, Upcasters::new()).await {
            Err(e) => assert!(e.is_unavailable(), "expected Unavailable, got {e:?}"),
            Ok(_) => panic!("a store on a closed port opened"),
        }
        match connect(&url, Upcasters::new()).await {
            Err(e) => assert!(e.is_unavailable(), "expected Unavailable, got {e:?}"),
            Ok(_) => panic!("a store on a closed port opened"),
        }
    }

    /// Forwards TCP connections to `target` until dropped; dropping closes every connection.
    struct Proxy {
        address: SocketAddr,
        tasks: JoinSet<()>,
    }

    impl Proxy {
        async fn start(target: SocketAddr) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let address = listener.local_addr().expect("address");
            let mut tasks = JoinSet::new();
            tasks.spawn(async move {
                let mut connections = JoinSet::new();
                while let Ok((mut client, _)) = listener.accept().await {
                    connections.spawn(async move {
                        if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                }
            });
            Self { address, tasks }
        }

        async fn stop(mut self) {
            // Aborting the acceptor drops its JoinSet, which aborts (and closes) every
            // forwarded connection.
            self.tasks.shutdown().await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_server_that_goes_away_makes_calls_unavailable() {
        let db = TestDatabase::create().await;
        let options = PgConnectOptions::from_str(&db.url).expect("test url");
        let target: SocketAddr = format!("{}:{}", options.get_host(), options.get_port())
            .parse()
            .expect("test database host is an address");
        let proxy = Proxy::start(target).await;
        let through_proxy = options.clone().port(proxy.address.port()).host("127.0.0.1");
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(1))
            .connect_with(through_proxy)
            .await
            .expect("pool through the proxy");
        let store = PostgresStore::from_pool(pool, Upcasters::new())
            .await
            .expect("store through the proxy");
        let stream = new_stream("order");
        store
            .append(request(&stream, ExpectedVersion::NoStream, events(&["a"])))
            .await
            .expect("append while the server is there");

        proxy.stop().await;

        let append = store
            .append(request(&stream, ExpectedVersion::Exact(1), events(&["b"])))
            .await;
        assert!(
            matches!(&append, Err(e) if e.is_unavailable()),
            "expected Unavailable, got {append:?}"
        );
        let read = store.read_all(Cursor::START, 10).await;
        assert!(
            matches!(&read, Err(e) if e.is_unavailable()),
            "expected Unavailable, got {read:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// SQLite only.

mod sqlite_only {
    use minzheng_eventstore::sqlite::SqliteStore;
    use sqlx::{Connection, SqliteConnection};

    use super::*;

    /// WAL: while another connection holds the write lock with an uncommitted event, reads
    /// go on and see only committed events.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn readers_do_not_wait_for_a_writer() {
        let db = TestSqlite::create();
        let store = SqliteStore::connect(&db.url, Upcasters::new())
            .await
            .expect("connect");
        let stream = new_stream("order");
        store
            .append(request(
                &stream,
                ExpectedVersion::NoStream,
                events(&["committed"]),
            ))
            .await
            .expect("append");

        let mut writer = SqliteConnection::connect(&db.url).await.expect("connect");
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut writer)
            .await
            .expect("begin");
        sqlx::query(
            "INSERT INTO mz_events (event_id, stream_id, stream_category, stream_version, \
                 event_type, schema_version, payload, recorded_at) \
             VALUES (?, 'held-1', 'held', 1, 'test.Held', 1, x'00', '2025-01-01T00:00:00Z')",
        )
        .bind(Uuid::now_v7().to_string())
        .execute(&mut writer)
        .await
        .expect("held insert");

        let read = tokio::time::timeout(Duration::from_secs(2), async {
            (
                store.read_all(Cursor::START, 10).await.expect("read_all"),
                store
                    .read_stream(&stream, 1, 10)
                    .await
                    .expect("read_stream"),
                store.head().await.expect("head"),
            )
        })
        .await
        .expect("reads must not wait for the writer");
        assert_eq!(read.0.events.len(), 1);
        assert_eq!(read.1.len(), 1);
        assert_eq!(read.2, read.0.next);

        sqlx::query("COMMIT")
            .execute(&mut writer)
            .await
            .expect("commit");
        writer.close().await.expect("close");
        let after = store.read_all(read.0.next, 10).await.expect("read_all");
        assert_eq!(after.events.len(), 1);
        assert_eq!(after.events[0].stream.to_string(), "held-1");
        assert_eq!(
            after.events[0].cursor.tx, 0,
            "SQLite cursors carry no transaction id"
        );
    }

    #[tokio::test]
    async fn an_in_memory_store_works() {
        let store = connect("sqlite::memory:", Upcasters::new())
            .await
            .expect("in-memory store");
        let stream = new_stream("order");
        append(
            &store,
            request(&stream, ExpectedVersion::NoStream, events(&["a", "b"])),
        )
        .await;
        let (all, _) = read_exactly(&store, Cursor::START, 2, 10).await;
        assert_each_once_in_stream_order(&all);
        assert_eq!(store.backend(), "sqlite");
    }

    #[tokio::test]
    async fn a_database_that_cannot_be_opened_is_unavailable() {
        // A directory that does not exist: SQLite cannot create the file (SQLITE_CANTOPEN).
        let url = format!(
            "sqlite:///nonexistent-{}/store.db?mode=rwc",
            unique_name("dir")
        );
        match connect(&url, Upcasters::new()).await {
            Err(e) => assert!(e.is_unavailable(), "expected Unavailable, got {e:?}"),
            Ok(_) => panic!("a store in a missing directory opened"),
        }
    }
}
