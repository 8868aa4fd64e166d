//! The platform's own figures: event-store appends, the outbox relay and a consumer, each run on
//! the same database and NATS server as its baseline.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use futures::{StreamExt, future::try_join_all};
use minzheng_bus::{
    BusNaming, Consumer, ConsumerSettings, JetStreamSource, Projection, Relay, SoleRelay,
};
use minzheng_eventstore::{
    AppendRequest, ExpectedVersion, Metadata, NewEvent, RecordedEvent, SharedStore, StreamId,
};
use sqlx::AnyConnection;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{payload, timed};

const EVENT_TYPE: &str = "minzheng.bench.v1.ThingHappened";

fn event(seed: u64) -> NewEvent {
    NewEvent::new(EVENT_TYPE, 1, payload(seed))
}

async fn append(
    store: &SharedStore,
    stream: &StreamId,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
) -> anyhow::Result<()> {
    store
        .append(AppendRequest {
            stream: stream.clone(),
            expected,
            events,
            metadata: Metadata {
                correlation_id: Some(Uuid::now_v7()),
                actor: Some("bench".into()),
                ..Metadata::default()
            },
        })
        .await?;
    Ok(())
}

/// One writer, one event per command, each command checking the stream version it expects, on
/// 64 rotating streams; commands per second.
pub async fn single_writer(store: &SharedStore, tag: &str, count: usize) -> anyhow::Result<f64> {
    let streams: Vec<StreamId> = (0..64)
        .map(|i| StreamId::new("thing", format!("{tag}{i}")))
        .collect::<Result<_, _>>()?;
    let mut versions = vec![0u64; streams.len()];
    timed(|| async {
        for i in 0..count {
            let s = i % streams.len();
            append(
                store,
                &streams[s],
                ExpectedVersion::Exact(versions[s]),
                vec![event(i as u64)],
            )
            .await?;
            versions[s] += 1;
        }
        Ok(count)
    })
    .await
}

/// `writers` concurrent writers, each on its own stream, one event per command; commands per
/// second.
pub async fn concurrent_writers(
    store: &SharedStore,
    tag: &str,
    writers: usize,
    per_writer: usize,
) -> anyhow::Result<f64> {
    timed(|| async {
        try_join_all((0..writers).map(|w| async move {
            let stream = StreamId::new("thing", format!("{tag}{w}"))?;
            for v in 0..per_writer {
                append(
                    store,
                    &stream,
                    ExpectedVersion::Exact(v as u64),
                    vec![event(v as u64)],
                )
                .await?;
            }
            anyhow::Ok(())
        }))
        .await?;
        Ok(writers * per_writer)
    })
    .await
}

/// `commands` commands of `events` events each, each to a new stream; events per second.
pub async fn batched(
    store: &SharedStore,
    tag: &str,
    commands: usize,
    events: usize,
) -> anyhow::Result<f64> {
    timed(|| async {
        for c in 0..commands {
            let stream = StreamId::new("thing", format!("{tag}{c}"))?;
            append(
                store,
                &stream,
                ExpectedVersion::NoStream,
                (0..events).map(|e| event(e as u64)).collect(),
            )
            .await?;
        }
        Ok(commands * events)
    })
    .await
}

/// Starts a relay for `store` under `naming` and measures how fast it drains `backlog` events
/// already in the store; events per second. The relay keeps running until `cancel`.
pub async fn relay_drain(
    store: &SharedStore,
    client: &async_nats::Client,
    naming: &BusNaming,
    backlog: u64,
    cancel: &CancellationToken,
) -> anyhow::Result<f64> {
    let relay = Relay::new(store.clone(), client.clone(), naming.clone(), SoleRelay);
    let mut state = relay.watch();
    let started = Instant::now();
    tokio::spawn(relay.run(cancel.clone()));
    tokio::time::timeout(
        Duration::from_secs(300),
        state.wait_for(|s| s.published >= backlog),
    )
    .await??;
    Ok(backlog as f64 / started.elapsed().as_secs_f64())
}

/// Either side of one event's trip, whichever was seen first.
#[derive(Debug, Clone, Copy)]
enum Seen {
    /// The append returned at this instant; the event has not arrived yet.
    Appended(Instant),
    /// The event arrived at this instant, before its append had returned to the writer.
    Arrived(Instant),
}

/// Records one side of an event's trip; returns the lag when both sides are known (zero when the
/// event arrived before its append returned).
fn meet(trips: &Mutex<HashMap<String, Seen>>, id: String, now: Seen) -> Option<Duration> {
    let mut trips = trips.lock().unwrap_or_else(|p| p.into_inner());
    match (trips.remove(&id), now) {
        (Some(Seen::Appended(sent)), Seen::Arrived(arrived))
        | (Some(Seen::Arrived(arrived)), Seen::Appended(sent)) => {
            Some(arrived.saturating_duration_since(sent))
        }
        (_, now) => {
            trips.insert(id, now);
            None
        }
    }
}

/// With a relay running on `store`, offers `rate` events per second for `seconds` seconds and
/// measures each event's lag from the end of its append to its arrival at a plain NATS
/// subscriber; returns (p50, p99) in milliseconds.
pub async fn relay_lag(
    store: &SharedStore,
    client: &async_nats::Client,
    naming: &BusNaming,
    rate: u64,
    seconds: u64,
) -> anyhow::Result<(f64, f64)> {
    let trips: Arc<Mutex<HashMap<String, Seen>>> = Arc::default();
    let histogram = Arc::new(Mutex::new(hdrhistogram::Histogram::<u64>::new(3)?));
    let record = {
        let histogram = histogram.clone();
        move |lag: Duration| {
            let micros = u64::try_from(lag.as_micros()).unwrap_or(u64::MAX);
            let _ = histogram
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .record(micros.max(1));
        }
    };
    let mut subscriber = client.subscribe(naming.stream_subjects()).await?;
    client.flush().await?;
    let total = rate * seconds;
    let receiver = {
        let trips = trips.clone();
        let record = record.clone();
        tokio::spawn(async move {
            let mut arrived = 0;
            while arrived < total {
                let Ok(Some(message)) =
                    tokio::time::timeout(Duration::from_secs(10), subscriber.next()).await
                else {
                    anyhow::bail!("relay stopped delivering after {arrived} of {total} events");
                };
                let now = Instant::now();
                let Some(id) = message.headers.as_ref().and_then(|h| h.get("ce-id")) else {
                    continue;
                };
                arrived += 1;
                if let Some(lag) = meet(&trips, id.as_str().to_owned(), Seen::Arrived(now)) {
                    record(lag);
                }
            }
            anyhow::Ok(())
        })
    };
    let stream = StreamId::new("thing", "lag")?;
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for i in 0..total {
        ticker.tick().await;
        let new = event(i);
        let id = new.id.to_string();
        append(store, &stream, ExpectedVersion::Any, vec![new]).await?;
        // The append has committed; the clock for this event's lag starts now.
        if let Some(lag) = meet(&trips, id, Seen::Appended(Instant::now())) {
            record(lag);
        }
    }
    receiver.await??;
    let histogram = histogram.lock().unwrap_or_else(|p| p.into_inner());
    Ok((
        histogram.value_at_quantile(0.50) as f64 / 1000.0,
        histogram.value_at_quantile(0.99) as f64 / 1000.0,
    ))
}

/// A projection that writes one row per event, as a read model would.
#[derive(Debug)]
struct RowPerEvent;

#[async_trait]
impl Projection for RowPerEvent {
    fn name(&self) -> &str {
        "bench-projection"
    }

    async fn apply(&self, tx: &mut AnyConnection, event: &RecordedEvent) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO bench_projection (event_id, stream_id, version) VALUES ($1, $2, $3)",
        )
        .bind(event.id.to_string())
        .bind(event.stream.to_string())
        .bind(event.stream_version as i64)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

/// A consumer pulling `count` events from the service stream under `naming` and applying them to
/// a one-row-per-event projection in `db_url`, committing in batches; events per second.
pub async fn consumer(
    client: &async_nats::Client,
    naming: &BusNaming,
    db_url: &str,
    count: u64,
) -> anyhow::Result<f64> {
    let db =
        minzheng_bus::connect_any(db_url, minzheng_eventstore::DEFAULT_ACQUIRE_TIMEOUT).await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_projection (
            event_id TEXT PRIMARY KEY, stream_id TEXT NOT NULL, version BIGINT NOT NULL)",
    )
    .execute(&db)
    .await?;
    let consumer = Consumer::new(
        Arc::new(RowPerEvent),
        db,
        JetStreamSource::new(client.clone(), naming.clone()),
    )?
    .with_settings(ConsumerSettings {
        batch_size: 500,
        ..ConsumerSettings::default()
    });
    let mut state = consumer.watch();
    let cancel = CancellationToken::new();
    let started = Instant::now();
    let running = tokio::spawn(consumer.run(cancel.clone()));
    tokio::time::timeout(
        Duration::from_secs(300),
        state.wait_for(|s| s.applied >= count),
    )
    .await??;
    let elapsed = started.elapsed();
    cancel.cancel();
    running.await??;
    Ok(count as f64 / elapsed.as_secs_f64())
}
