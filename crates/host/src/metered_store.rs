//! The event store every hosted service uses, measured: each append (and multi-stream append)
//! records its duration in `minzheng.store.append.duration` (milliseconds), by service,
//! operation (`append`, `append_all`) and outcome (`ok`, `replayed` for an idempotent repeat,
//! `conflict` for a lost race or a version mismatch, `error` for anything else). Every other
//! call goes straight through.
//!
//! A decorator rather than code in the store: the store knows nothing of telemetry, and both
//! backends are measured alike.

use std::time::Instant;

use async_trait::async_trait;
use minzheng_eventstore::{
    AppendOutcome, AppendRequest, Cursor, EventStore, ReadBatch, RecordedEvent, Result,
    SharedStore, Snapshot, StoreError, StreamId,
};
use opentelemetry::{KeyValue, metrics::Histogram};

/// `inner`, with its appends measured as `service`'s.
pub(crate) fn metered(inner: SharedStore, service: &'static str) -> SharedStore {
    std::sync::Arc::new(MeteredStore {
        inner,
        service,
        duration: minzheng_telemetry::meter()
            .f64_histogram("minzheng.store.append.duration")
            .with_unit("ms")
            .with_description(
                "time to append a command's events to the service's event store, by operation \
                 and outcome",
            )
            .build(),
    })
}

struct MeteredStore {
    inner: SharedStore,
    service: &'static str,
    duration: Histogram<f64>,
}

impl MeteredStore {
    fn record<T>(&self, operation: &'static str, started: Instant, result: &Result<T>)
    where
        T: Replayed,
    {
        let outcome = match result {
            Ok(value) if value.replayed() => "replayed",
            Ok(_) => "ok",
            Err(StoreError::Conflict { .. }) => "conflict",
            Err(_) => "error",
        };
        self.duration.record(
            started.elapsed().as_secs_f64() * 1_000.0,
            &[
                KeyValue::new("service", self.service),
                KeyValue::new("operation", operation),
                KeyValue::new("outcome", outcome),
            ],
        );
    }
}

/// Whether an append's outcome repeats an earlier one (an idempotency key used before).
trait Replayed {
    fn replayed(&self) -> bool;
}

impl Replayed for AppendOutcome {
    fn replayed(&self) -> bool {
        self.replayed
    }
}

impl Replayed for Vec<AppendOutcome> {
    fn replayed(&self) -> bool {
        self.iter().all(|outcome| outcome.replayed)
    }
}

impl std::fmt::Debug for MeteredStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredStore")
            .field("service", &self.service)
            .field("backend", &self.inner.backend())
            .finish()
    }
}

#[async_trait]
impl EventStore for MeteredStore {
    async fn append(&self, request: AppendRequest) -> Result<AppendOutcome> {
        let started = Instant::now();
        let result = self.inner.append(request).await;
        self.record("append", started, &result);
        result
    }

    async fn append_all(&self, requests: Vec<AppendRequest>) -> Result<Vec<AppendOutcome>> {
        let started = Instant::now();
        let result = self.inner.append_all(requests).await;
        self.record("append_all", started, &result);
        result
    }

    async fn find_idempotent(&self, key: &str) -> Result<Option<AppendOutcome>> {
        self.inner.find_idempotent(key).await
    }

    async fn stream_version(&self, stream: &StreamId) -> Result<u64> {
        self.inner.stream_version(stream).await
    }

    async fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>> {
        self.inner.read_stream(stream, from_version, limit).await
    }

    async fn read_streams(
        &self,
        streams: &[(StreamId, u64)],
        limit: usize,
    ) -> Result<Vec<RecordedEvent>> {
        self.inner.read_streams(streams, limit).await
    }

    async fn read_all(&self, after: Cursor, limit: usize) -> Result<ReadBatch> {
        self.inner.read_all(after, limit).await
    }

    async fn cursor_of(&self, position: u64) -> Result<Option<Cursor>> {
        self.inner.cursor_of(position).await
    }

    async fn wait_for_position(&self, position: u64) -> Result<Cursor> {
        self.inner.wait_for_position(position).await
    }

    async fn head(&self) -> Result<Cursor> {
        self.inner.head().await
    }

    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<()> {
        self.inner.save_snapshot(snapshot).await
    }

    async fn load_snapshot(&self, stream: &StreamId) -> Result<Option<Snapshot>> {
        self.inner.load_snapshot(stream).await
    }

    async fn load_checkpoint(&self, name: &str) -> Result<Cursor> {
        self.inner.load_checkpoint(name).await
    }

    async fn save_checkpoint(&self, name: &str, cursor: Cursor) -> Result<()> {
        self.inner.save_checkpoint(name, cursor).await
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn append_ended(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.append_ended()
    }
}
