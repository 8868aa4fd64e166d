//! Shared fixtures of the bus tests: stores on fresh databases, unique bus names, a recording
//! projection, fast relay and consumer settings, and bounded waits.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use anyhow::bail;
use async_nats::jetstream::{self, message::StreamMessage};
use async_trait::async_trait;
use bytes::Bytes;
use minzheng_bus::{BusNaming, ConsumerSettings, Projection, RelayConfig, connect_any, envelope};
use minzheng_eventstore::{
    AppendOutcome, AppendRequest, EventStore, ExpectedVersion, Metadata, NewEvent, RecordedEvent,
    StreamId, Upcasters, postgres::PostgresStore, sqlite::SqliteStore,
};
use minzheng_testkit::{TestDatabase, TestSqlite, unique_name};
use sqlx::{AnyConnection, AnyPool};
use uuid::Uuid;

/// The event type every test event has.
pub const EVENT_TYPE: &str = "example.v1.WidgetCreated";
/// A payload the recording projection always refuses.
pub const POISON: &[u8] = b"poison";
/// The trace context stored with test events.
pub const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

pub async fn pg_store() -> (TestDatabase, Arc<PostgresStore>) {
    let db = TestDatabase::create().await;
    let store = PostgresStore::connect(&db.url, Upcasters::new())
        .await
        .expect("PostgreSQL store on a fresh database");
    (db, Arc::new(store))
}

pub async fn sqlite_store() -> (TestSqlite, Arc<SqliteStore>) {
    let db = TestSqlite::create();
    let store = SqliteStore::connect(&db.url, Upcasters::new())
        .await
        .expect("SQLite store in a temporary file");
    (db, Arc::new(store))
}

/// A consumer database: migrated by the store (for the inbox tables) with a `projected` table.
pub async fn consumer_db(url: &str) -> AnyPool {
    minzheng_eventstore::connect(url, Upcasters::new())
        .await
        .expect("migrate the consumer database");
    let pool = connect_any(url, minzheng_eventstore::DEFAULT_ACQUIRE_TIMEOUT)
        .await
        .expect("AnyPool on the consumer database");
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS projected (event_id TEXT NOT NULL, stream_id TEXT NOT NULL, \
         stream_version BIGINT NOT NULL, payload TEXT NOT NULL)",
    )
    .execute(&pool)
    .await
    .expect("create the projection table");
    pool
}

/// Bus names no other test uses.
pub fn naming() -> BusNaming {
    BusNaming::with_prefix(&unique_name("bus"), "widgets").expect("valid naming")
}

pub fn widget(key: &str) -> StreamId {
    StreamId::new("widget", key).expect("valid stream id")
}

/// Appends one event per payload to `stream`.
pub async fn append(
    store: &dyn EventStore,
    stream: &StreamId,
    payloads: &[&[u8]],
) -> AppendOutcome {
    store
        .append(AppendRequest {
            stream: stream.clone(),
            expected: ExpectedVersion::Any,
            events: payloads
                .iter()
                .map(|p| NewEvent::new(EVENT_TYPE, 1, Bytes::copy_from_slice(p)))
                .collect(),
            metadata: Metadata {
                correlation_id: Some(Uuid::new_v4()),
                causation_id: Some(Uuid::new_v4()),
                actor: Some("staff:tester".to_owned()),
                traceparent: Some(TRACEPARENT.to_owned()),
                tracestate: None,
                idempotency_key: None,
            },
        })
        .await
        .expect("append")
}

/// Appends `count` single-event appends spread over a few streams; payloads `e0`, `e1`, …
/// Returns the last position appended.
pub async fn append_many(store: &dyn EventStore, count: usize) -> u64 {
    let mut last = 0;
    for i in 0..count {
        let payload = format!("e{i}");
        let stream = widget(&format!("w{}", i % 3));
        last = append(store, &stream, &[payload.as_bytes()])
            .await
            .last_position;
    }
    last
}

/// Waits until `read_all` can see the event at `position`. On PostgreSQL a committed event
/// becomes visible only once every older transaction in the cluster has ended, and parallel
/// tests keep transactions running in other databases of the same cluster.
pub async fn wait_visible(store: &dyn EventStore, position: u64) {
    let what = "the appended events to become visible";
    eventually(what, Duration::from_secs(20), || async {
        match store.cursor_of(position).await.expect("cursor_of") {
            Some(cursor) => store.head().await.expect("head") >= cursor,
            None => false,
        }
    })
    .await;
}

/// Every event in the store, in read order.
pub async fn all_events(store: &dyn EventStore) -> Vec<RecordedEvent> {
    let mut events = Vec::new();
    let mut cursor = minzheng_eventstore::Cursor::START;
    loop {
        let batch = store.read_all(cursor, 1000).await.expect("read_all");
        if batch.events.is_empty() {
            return events;
        }
        cursor = batch.next;
        events.extend(batch.events);
    }
}

/// Relay settings that keep tests fast.
pub fn fast_relay() -> RelayConfig {
    RelayConfig {
        batch_size: 50,
        idle_poll: Duration::from_millis(2),
        max_idle_poll: Duration::from_millis(20),
        publish_timeout: Duration::from_secs(1),
        retry_min: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        standby_poll: Duration::from_millis(50),
        lease_check_interval: Duration::from_millis(50),
        ..RelayConfig::default()
    }
}

/// Consumer settings that keep tests fast: three attempts, 20 ms apart.
pub fn fast_consumer() -> ConsumerSettings {
    ConsumerSettings {
        batch_size: 20,
        max_attempts: 3,
        retry_delays: vec![Duration::from_millis(20)],
        retry_min: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        redrive_poll: Duration::from_millis(50),
    }
}

/// Every message in a stream, in stream order.
pub async fn stream_messages(js: &jetstream::Context, name: &str) -> Vec<StreamMessage> {
    let mut stream = js.get_stream(name).await.expect("stream exists");
    let state = stream.info().await.expect("stream info").state.clone();
    let mut messages = Vec::new();
    if state.messages == 0 {
        return messages;
    }
    for sequence in state.first_sequence..=state.last_sequence {
        messages.push(
            stream
                .get_raw_message(sequence)
                .await
                .expect("message by sequence"),
        );
    }
    messages
}

pub async fn stream_count(js: &jetstream::Context, name: &str) -> u64 {
    match js.get_stream(name).await {
        Ok(mut stream) => stream.info().await.map_or(0, |i| i.state.messages),
        Err(_) => 0,
    }
}

/// The event ids of a stream's messages, in stream order.
pub async fn stream_event_ids(js: &jetstream::Context, name: &str) -> Vec<Uuid> {
    stream_messages(js, name)
        .await
        .iter()
        .map(|m| {
            envelope::decode(Some(&m.headers), &m.payload)
                .expect("a relayed message decodes")
                .id
        })
        .collect()
}

/// Removes a test's streams from the shared server (best effort).
pub async fn delete_streams(js: &jetstream::Context, naming: &BusNaming) {
    let _ = js.delete_stream(naming.stream_name()).await;
    let _ = js.delete_stream(naming.deadletter_stream()).await;
}

/// Polls `check` every 10 ms until it holds; fails the test after `timeout`.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Rows of the `projected` table: (event id, how many times it was applied).
pub async fn projected(pool: &AnyPool) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT event_id, count(*) FROM projected GROUP BY event_id ORDER BY event_id")
        .fetch_all(pool)
        .await
        .expect("read the projection")
}

pub async fn projected_rows(pool: &AnyPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM projected")
        .fetch_one(pool)
        .await
        .expect("count the projection")
}

/// A projection that records every event it applies in `projected`, refuses [`POISON`]
/// payloads, and can fail once on its n-th call after doing its work (a crash mid-batch).
#[derive(Debug)]
pub struct Recorder {
    name: String,
    calls: AtomicUsize,
    fail_once_on_call: Option<usize>,
    /// Set by [`Recorder::cure`]: the fix deployed, poison is applied like anything else.
    cured: std::sync::atomic::AtomicBool,
    /// The one stream key whose events it handles ([`Projection::handles`]); every one if none.
    only_key: Option<String>,
}

impl Recorder {
    pub fn new(name: &str) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            calls: AtomicUsize::new(0),
            fail_once_on_call: None,
            cured: std::sync::atomic::AtomicBool::new(false),
            only_key: None,
        })
    }

    /// Handles only the events of streams keyed `key`, leaving the others to the consumer.
    pub fn only(name: &str, key: &str) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            calls: AtomicUsize::new(0),
            fail_once_on_call: None,
            cured: std::sync::atomic::AtomicBool::new(false),
            only_key: Some(key.to_owned()),
        })
    }

    /// From now on applies [`POISON`] like any payload (what a deployed fix does).
    pub fn cure(&self) {
        self.cured.store(true, Ordering::SeqCst);
    }

    /// Fails the `n`-th call (1-based) once, after inserting its row.
    pub fn failing_once_on_call(name: &str, n: usize) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            calls: AtomicUsize::new(0),
            fail_once_on_call: Some(n),
            cured: std::sync::atomic::AtomicBool::new(false),
            only_key: None,
        })
    }
}

#[async_trait]
impl Projection for Recorder {
    fn name(&self) -> &str {
        &self.name
    }

    fn handles(&self, event: &RecordedEvent) -> bool {
        self.only_key
            .as_deref()
            .is_none_or(|key| event.stream.key() == key)
    }

    async fn apply(&self, tx: &mut AnyConnection, event: &RecordedEvent) -> anyhow::Result<()> {
        assert!(self.handles(event), "applied an event it does not handle");
        if event.payload.as_ref() == POISON && !self.cured.load(Ordering::SeqCst) {
            bail!("this projection refuses poison");
        }
        sqlx::query(
            "INSERT INTO projected (event_id, stream_id, stream_version, payload) VALUES ($1, $2, $3, $4)",
        )
        .bind(event.id.to_string())
        .bind(event.stream.to_string())
        .bind(i64::try_from(event.stream_version)?)
        .bind(String::from_utf8_lossy(&event.payload).into_owned())
        .execute(&mut *tx)
        .await?;
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if Some(call) == self.fail_once_on_call {
            bail!("simulated failure after partial work");
        }
        Ok(())
    }
}
