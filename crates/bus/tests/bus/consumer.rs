//! JetStream consumers against real PostgreSQL and NATS: exactly-once effects through crashes
//! mid-batch and between commit and ack, a restarted consumer getting the messages in flight at
//! the crash back promptly, a slow handler kept from redelivery by progress acks, and poison
//! events parked on the dead-letter subject.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use async_nats::jetstream::{self, consumer::pull};
use async_trait::async_trait;
use minzheng_bus::{
    BusNaming, Consumer, ConsumerError, ConsumerFault, ConsumerName, JetStreamSource, Projection,
    Relay, SoleRelay,
    consumer::{DEADLETTER_CONSUMER, DEFAULT_ACK_WAIT},
};
use minzheng_eventstore::RecordedEvent;
use minzheng_eventstore::postgres::PostgresStore;
use minzheng_testkit::TestDatabase;
use sqlx::AnyConnection;
use sqlx::AnyPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::support::*;

const WAIT: Duration = Duration::from_secs(30);

/// A producer store with its relay running, and a consumer database.
struct Pipeline {
    _producer_db: TestDatabase,
    store: Arc<PostgresStore>,
    _consumer_db: TestDatabase,
    pool: AnyPool,
    client: async_nats::Client,
    js: jetstream::Context,
    naming: BusNaming,
    relay_cancel: CancellationToken,
    relay: JoinHandle<Result<(), minzheng_bus::RelayError>>,
}

impl Pipeline {
    async fn start() -> Self {
        let (producer_db, store) = pg_store().await;
        let consumer_database = TestDatabase::create().await;
        let pool = consumer_db(&consumer_database.url).await;
        let client = minzheng_testkit::nats().await;
        let js = jetstream::new(client.clone());
        let naming = naming();
        let relay_cancel = CancellationToken::new();
        let relay = tokio::spawn(
            Relay::new(store.clone(), client.clone(), naming.clone(), SoleRelay)
                .with_config(fast_relay())
                .run(relay_cancel.clone()),
        );
        Self {
            _producer_db: producer_db,
            store,
            _consumer_db: consumer_database,
            pool,
            client,
            js,
            naming,
            relay_cancel,
            relay,
        }
    }

    fn consumer(&self, projection: Arc<dyn Projection>) -> Consumer {
        self.consumer_with_ack_wait(projection, Duration::from_secs(1))
    }

    fn consumer_with_ack_wait(
        &self,
        projection: Arc<dyn Projection>,
        ack_wait: Duration,
    ) -> Consumer {
        let source = JetStreamSource {
            ack_wait,
            ..JetStreamSource::new(self.client.clone(), self.naming.clone())
        };
        Consumer::new(projection, self.pool.clone(), source)
            .expect("valid consumer")
            .with_settings(fast_consumer())
    }

    /// The durable consumer as JetStream sees it.
    async fn consumer_info(&self, name: &str) -> jetstream::consumer::Info {
        let stream = self
            .js
            .get_stream(self.naming.stream_name())
            .await
            .expect("stream exists");
        let mut consumer: jetstream::consumer::PullConsumer =
            stream.get_consumer(name).await.expect("consumer exists");
        consumer.info().await.expect("consumer info").clone()
    }

    async fn wait_published(&self, count: u64) {
        eventually("the relay to publish", WAIT, || async {
            stream_count(&self.js, self.naming.stream_name()).await == count
        })
        .await;
    }

    async fn stop(self) {
        self.relay_cancel.cancel();
        self.relay.await.expect("relay task").expect("relay stops");
        delete_streams(&self.js, &self.naming).await;
    }
}

/// Waits until the projection holds `count` distinct events.
async fn wait_projected(pool: &AnyPool, count: usize) {
    eventually("the projection to catch up", WAIT, || async {
        projected(pool).await.len() >= count
    })
    .await;
}

fn assert_each_once(rows: &[(String, i64)], count: usize) {
    assert_eq!(rows.len(), count, "every event applied");
    assert!(
        rows.iter().all(|(_, times)| *times == 1),
        "no event applied twice: {rows:?}"
    );
}

#[tokio::test]
async fn a_handler_failure_mid_batch_applies_every_event_exactly_once() {
    let pipeline = Pipeline::start().await;
    append_many(&*pipeline.store, 30).await;
    // The 5th call fails after its insert: the batch transaction, with the four rows before it,
    // must roll back and the events must still be applied once each.
    let consumer = pipeline.consumer(Recorder::failing_once_on_call("mid_batch", 5));
    let state = consumer.watch();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(consumer.run(cancel.clone()));

    wait_projected(&pipeline.pool, 30).await;
    cancel.cancel();
    task.await.expect("consumer task").expect("graceful stop");
    assert_each_once(&projected(&pipeline.pool).await, 30);
    assert_eq!(projected_rows(&pipeline.pool).await, 30);
    assert_eq!(state.borrow().applied, 30);
    assert_eq!(state.borrow().parked, 0);
    pipeline.stop().await;
}

/// The inbox rows of consumer `name`.
async fn inbox_rows(pool: &AnyPool, name: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM mz_inbox WHERE consumer = $1")
        .bind(name)
        .fetch_one(pool)
        .await
        .expect("count the inbox")
}

#[tokio::test]
async fn events_a_projection_does_not_handle_are_acknowledged_without_a_trace() {
    let pipeline = Pipeline::start().await;
    // Thirty events over streams w0, w1 and w2: the projection handles w1's ten.
    append_many(&*pipeline.store, 30).await;
    let consumer = pipeline.consumer(Recorder::only("one_key", "w1"));
    let state = consumer.watch();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(consumer.run(cancel.clone()));
    eventually("every event to be settled", WAIT, || async {
        let s = state.borrow().clone();
        s.applied + s.ignored == 30
    })
    .await;
    // And later ones, once more.
    append_many(&*pipeline.store, 6).await;
    eventually("the later events to be settled", WAIT, || async {
        let s = state.borrow().clone();
        s.applied + s.ignored == 36
    })
    .await;
    cancel.cancel();
    task.await.expect("consumer task").expect("graceful stop");

    let rows = projected(&pipeline.pool).await;
    assert_each_once(&rows, 12);
    assert_eq!(state.borrow().applied, 12);
    assert_eq!(state.borrow().ignored, 24);
    assert_eq!(
        inbox_rows(&pipeline.pool, "one_key").await,
        12,
        "only the handled events are in the inbox"
    );
    let info = pipeline.consumer_info("one_key").await;
    assert_eq!(info.num_ack_pending, 0, "every message acknowledged");
    assert_eq!(info.num_pending, 0);
    pipeline.stop().await;
}

#[tokio::test]
async fn a_crash_between_commit_and_ack_reapplies_nothing() {
    let pipeline = Pipeline::start().await;
    append_many(&*pipeline.store, 25).await;
    eventually("the relay to publish", WAIT, || async {
        stream_count(&pipeline.js, pipeline.naming.stream_name()).await == 25
    })
    .await;

    let crashing = pipeline
        .consumer(Recorder::new("commit_then_crash"))
        .inject_fault(ConsumerFault::StopAfterCommit);
    let crashed_state = crashing.watch();
    let result = crashing.run(CancellationToken::new()).await;
    assert!(matches!(
        result,
        Err(ConsumerError::InjectedFault(ConsumerFault::StopAfterCommit))
    ));
    let committed = crashed_state.borrow().applied;
    assert!(
        committed > 0,
        "the first batch was committed before the crash"
    );

    // The unacknowledged batch comes back after ack_wait; the inbox must absorb it.
    let consumer = pipeline.consumer(Recorder::new("commit_then_crash"));
    let state = consumer.watch();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(consumer.run(cancel.clone()));
    wait_projected(&pipeline.pool, 25).await;
    eventually("the redelivered batch to be skipped", WAIT, || {
        let redelivered = state.borrow().redelivered;
        async move { redelivered >= committed }
    })
    .await;
    cancel.cancel();
    task.await.expect("consumer task").expect("graceful stop");

    assert_each_once(&projected(&pipeline.pool).await, 25);
    assert_eq!(state.borrow().applied + committed, 25);
    pipeline.stop().await;
}

#[tokio::test]
async fn a_restarted_consumer_gets_the_messages_in_flight_at_a_crash_back_within_seconds() {
    const EVENTS: u64 = 60;
    /// The ack wait consumers had before: a restarted consumer waited this long for the
    /// messages its predecessor held. Everything below must be over well before it.
    const OLD_ACK_WAIT: Duration = Duration::from_secs(30);
    let pipeline = Pipeline::start().await;
    append_many(&*pipeline.store, EVENTS as usize).await;
    pipeline.wait_published(EVENTS).await;
    let name = "restarted";
    // An existing deployment's durable consumer, created with the old ack wait: starting the
    // consumer must update it, without an operator deleting it.
    pipeline
        .js
        .get_stream(pipeline.naming.stream_name())
        .await
        .expect("stream exists")
        .create_consumer(pull::Config {
            durable_name: Some(name.to_owned()),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: OLD_ACK_WAIT,
            max_deliver: 4,
            ..Default::default()
        })
        .await
        .expect("the old durable consumer");

    let crashing = pipeline
        .consumer_with_ack_wait(Recorder::new(name), DEFAULT_ACK_WAIT)
        .inject_fault(ConsumerFault::StopAfterCommit);
    let crashed_state = crashing.watch();
    let result = crashing.run(CancellationToken::new()).await;
    assert!(matches!(
        result,
        Err(ConsumerError::InjectedFault(ConsumerFault::StopAfterCommit))
    ));
    let crashed_at = tokio::time::Instant::now();
    let committed = crashed_state.borrow().applied;
    let info = pipeline.consumer_info(name).await;
    assert_eq!(info.config.ack_wait, DEFAULT_ACK_WAIT, "updated at start");
    assert!(
        info.num_ack_pending >= committed as usize,
        "the crashed consumer held its committed batch unacknowledged"
    );

    let consumer = pipeline.consumer_with_ack_wait(Recorder::new(name), DEFAULT_ACK_WAIT);
    let state = consumer.watch();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(consumer.run(cancel.clone()));
    // A correctness bound, not a performance one: the messages the crashed consumer held come
    // back once the ack wait expires, and that must be before the old ack wait would have.
    eventually(
        "the messages in flight at the crash to come back",
        OLD_ACK_WAIT - Duration::from_secs(10),
        || {
            let done = state.borrow().redelivered >= committed
                && state.borrow().applied + committed == EVENTS;
            async move { done }
        },
    )
    .await;
    eprintln!(
        "a restarted consumer caught up the messages in flight at the crash {:?} after it",
        crashed_at.elapsed()
    );
    cancel.cancel();
    task.await.expect("consumer task").expect("graceful stop");
    assert_each_once(&projected(&pipeline.pool).await, EVENTS as usize);
    pipeline.stop().await;
}

/// A projection that takes `delay` over its first event, then records like [`Recorder`].
struct SlowOnce {
    recorder: Arc<Recorder>,
    delay: Duration,
    slept: AtomicBool,
}

#[async_trait]
impl Projection for SlowOnce {
    fn name(&self) -> &str {
        self.recorder.name()
    }

    async fn apply(&self, tx: &mut AnyConnection, event: &RecordedEvent) -> anyhow::Result<()> {
        if !self.slept.swap(true, Ordering::SeqCst) {
            tokio::time::sleep(self.delay).await;
        }
        self.recorder.apply(tx, event).await
    }
}

#[tokio::test]
async fn a_handler_slower_than_the_ack_wait_is_not_redelivered_while_it_works() {
    const EVENTS: u64 = 30;
    let ack_wait = Duration::from_secs(2);
    let pipeline = Pipeline::start().await;
    append_many(&*pipeline.store, EVENTS as usize).await;
    pipeline.wait_published(EVENTS).await;
    let name = "slow";
    let slow = Arc::new(SlowOnce {
        recorder: Recorder::new(name),
        delay: ack_wait * 3,
        slept: AtomicBool::new(false),
    });
    let consumer = pipeline.consumer_with_ack_wait(slow, ack_wait);
    let state = consumer.watch();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(consumer.run(cancel.clone()));
    wait_projected(&pipeline.pool, EVENTS as usize).await;

    // Once everything is acknowledged nothing can be redelivered any more; until then, every
    // delivery counts in the consumer sequence.
    eventually("every message to be acknowledged", WAIT, || async {
        let info = pipeline.consumer_info(name).await;
        info.num_ack_pending == 0 && info.ack_floor.stream_sequence == EVENTS
    })
    .await;
    let info = pipeline.consumer_info(name).await;
    assert_eq!(
        info.delivered.consumer_sequence, EVENTS,
        "each message delivered once: the slow batch and those behind it were kept alive"
    );
    assert_eq!(state.borrow().redelivered, 0);
    cancel.cancel();
    task.await.expect("consumer task").expect("graceful stop");
    assert_each_once(&projected(&pipeline.pool).await, EVENTS as usize);
    pipeline.stop().await;
}

#[tokio::test]
async fn a_poison_event_is_parked_and_later_events_are_still_applied() {
    let pipeline = Pipeline::start().await;
    append(&*pipeline.store, &widget("w1"), &[b"before"]).await;
    let poison = append(&*pipeline.store, &widget("w2"), &[POISON]).await;
    append_many(&*pipeline.store, 10).await;

    let consumer = pipeline.consumer(Recorder::new("poisoned"));
    let state = consumer.watch();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(consumer.run(cancel.clone()));

    wait_projected(&pipeline.pool, 11).await;
    eventually("the poison event to be parked", WAIT, || {
        let parked = state.borrow().parked;
        async move { parked == 1 }
    })
    .await;
    cancel.cancel();
    task.await.expect("consumer task").expect("graceful stop");

    assert_each_once(&projected(&pipeline.pool).await, 11);
    let parked: Vec<(String, String, String, i64, String)> = sqlx::query_as(
        "SELECT event_id, stream_id, event_type, CAST(attempts AS BIGINT), last_error FROM mz_parked WHERE consumer = $1",
    )
    .bind("poisoned")
    .fetch_all(&pipeline.pool)
    .await
    .expect("read mz_parked");
    assert_eq!(parked.len(), 1);
    let (event_id, stream_id, event_type, attempts, last_error) = &parked[0];
    assert_eq!(event_id, &poison.event_ids[0].to_string());
    assert_eq!(stream_id, "widget-w2");
    assert_eq!(event_type, EVENT_TYPE);
    assert_eq!(*attempts, 3, "parked after the configured attempts");
    assert!(last_error.contains("refuses poison"));

    let letters = stream_messages(&pipeline.js, &pipeline.naming.deadletter_stream()).await;
    assert_eq!(letters.len(), 1, "one dead letter");
    assert_eq!(
        letters[0].subject.as_str(),
        format!("{}.deadletter.poisoned", pipeline.naming.prefix())
    );
    assert_eq!(
        letters[0]
            .headers
            .get(DEADLETTER_CONSUMER)
            .map(|v| v.as_str()),
        Some("poisoned")
    );
    assert_eq!(
        letters[0]
            .headers
            .get("ce-id")
            .map(|v| v.as_str().to_owned()),
        Some(poison.event_ids[0].to_string())
    );
    assert_eq!(letters[0].payload.as_ref(), POISON);
    pipeline.stop().await;
}

/// After the fix is deployed, an operator's re-drive applies the parked event once; asking again
/// applies nothing twice.
#[tokio::test]
async fn a_redriven_parked_event_is_applied_once_after_the_fix() {
    let pipeline = Pipeline::start().await;
    append(&*pipeline.store, &widget("w1"), &[b"before"]).await;
    let poison = append(&*pipeline.store, &widget("w2"), &[POISON]).await;
    append_many(&*pipeline.store, 3).await;
    let recorder = Recorder::new("redriven");
    let consumer = pipeline.consumer(recorder.clone());
    let state = consumer.watch();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(consumer.run(cancel.clone()));
    wait_projected(&pipeline.pool, 4).await;
    eventually("the poison event to be parked", WAIT, || {
        let parked = state.borrow().parked;
        async move { parked == 1 }
    })
    .await;
    let name = ConsumerName::parse("redriven").expect("a consumer name");

    recorder.cure();
    let asked = minzheng_bus::request_redrive(&pipeline.pool, Some(&name))
        .await
        .expect("re-drive requested");
    assert_eq!(asked.requested, 1);
    assert_eq!(asked.not_redrivable, 0);
    wait_projected(&pipeline.pool, 5).await;
    eventually("the re-driven event to be unparked", WAIT, || {
        let pool = pipeline.pool.clone();
        async move { parked_rows(&pool, "redriven").await == 0 }
    })
    .await;
    let applied = projected(&pipeline.pool).await;
    assert_each_once(&applied, 5);
    assert!(
        applied
            .iter()
            .any(|(id, _)| *id == poison.event_ids[0].to_string()),
        "the poison event, applied at last"
    );

    // Nothing is left to re-drive, and nothing is applied twice.
    let again = minzheng_bus::request_redrive(&pipeline.pool, Some(&name))
        .await
        .expect("re-drive requested");
    assert_eq!(again.requested, 0);
    cancel.cancel();
    task.await.expect("consumer task").expect("graceful stop");
    assert_each_once(&projected(&pipeline.pool).await, 5);
    pipeline.stop().await;
}

async fn parked_rows(pool: &sqlx::AnyPool, consumer: &str) -> i64 {
    sqlx::query_scalar("SELECT CAST(count(*) AS BIGINT) FROM mz_parked WHERE consumer = $1")
        .bind(consumer)
        .fetch_one(pool)
        .await
        .expect("count mz_parked")
}

#[tokio::test]
async fn a_filter_subject_limits_the_consumer_to_one_aggregate() {
    let pipeline = Pipeline::start().await;
    append_many(&*pipeline.store, 4).await;
    let other = minzheng_eventstore::StreamId::new("gadget", "g1").expect("valid stream id");
    append(&*pipeline.store, &other, &[b"ignored"]).await;
    append_many(&*pipeline.store, 2).await;

    let source = JetStreamSource {
        ack_wait: Duration::from_secs(1),
        ..JetStreamSource::new(pipeline.client.clone(), pipeline.naming.clone())
    }
    .with_filter(pipeline.naming.category_subjects("widget"));
    let consumer = Consumer::new(Recorder::new("widgets_only"), pipeline.pool.clone(), source)
        .expect("valid consumer")
        .with_settings(fast_consumer());
    let cancel = CancellationToken::new();
    let task = tokio::spawn(consumer.run(cancel.clone()));
    wait_projected(&pipeline.pool, 6).await;
    // Give a gadget event every chance to arrive after the widgets before checking.
    tokio::time::sleep(Duration::from_millis(200)).await;
    cancel.cancel();
    task.await.expect("consumer task").expect("graceful stop");
    let payloads: Vec<String> = sqlx::query_scalar("SELECT payload FROM projected")
        .fetch_all(&pipeline.pool)
        .await
        .expect("read the projection");
    assert_eq!(payloads.len(), 6);
    assert!(!payloads.iter().any(|p| p == "ignored"));
    pipeline.stop().await;
}
