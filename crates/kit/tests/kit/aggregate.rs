//! The command runner on a tiny counter aggregate, against real SQLite and PostgreSQL stores:
//! appends and loads, refusals, idempotent retries, metadata, conflicts (deterministic and
//! concurrent) and snapshots. Also the given/when/then helpers themselves.

use std::{
    num::NonZeroU64,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use bytes::Bytes;
use minzheng_eventstore::{
    AppendOutcome, AppendRequest, Cursor, EventStore, ExpectedVersion, Metadata, NewEvent,
    ReadBatch, RecordedEvent, SharedStore, Snapshot, StoreError, StreamId, Upcasters,
    postgres::PostgresStore,
};
use minzheng_kit::{
    Error,
    aggregate::{
        Aggregate, CodecError, CommandContext, Committed, DomainError, EventCodec, Repository,
        RunError, Snapshotting, commit_together, with_conflict_retries,
    },
    auth::{Principal, Role},
    testing::{assert_codec_round_trips, given},
};
use minzheng_telemetry::TraceContext;
use minzheng_testkit::{TestDatabase, TestSqlite};
use tonic::Code;
use tracing::Instrument;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// The test aggregate: a counter that may not go below zero.

#[derive(Debug, Default, Clone, PartialEq)]
struct Counter {
    value: u64,
}

#[derive(Debug)]
enum Command {
    Add(u64),
    Subtract(u64),
    /// Decides nothing: no events.
    Touch,
    /// Adds 1, 2, …, n, an event each.
    AddEach(u64),
}

#[derive(Debug, Clone, PartialEq)]
enum Event {
    Added(u64),
    Subtracted(u64),
}

#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("the counter cannot go below zero")]
    BelowZero,
}

impl DomainError for Refusal {
    fn rule(&self) -> &str {
        "below_zero"
    }
}

impl Aggregate for Counter {
    const CATEGORY: &'static str = "counter";
    type Command = Command;
    type Event = Event;
    type Error = Refusal;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Refusal> {
        match command {
            Command::Add(n) => Ok(vec![Event::Added(*n)]),
            Command::Subtract(n) if *n > self.value => Err(Refusal::BelowZero),
            Command::Subtract(n) => Ok(vec![Event::Subtracted(*n)]),
            Command::Touch => Ok(Vec::new()),
            Command::AddEach(n) => Ok((1..=*n).map(Event::Added).collect()),
        }
    }

    fn apply(self, event: &Event) -> Self {
        match event {
            Event::Added(n) => Counter {
                value: self.value + n,
            },
            Event::Subtracted(n) => Counter {
                value: self.value - n,
            },
        }
    }
}

const ADDED: &str = "minzheng.test.v1.CounterAdded";
const SUBTRACTED: &str = "minzheng.test.v1.CounterSubtracted";

fn number(event_type: &str, payload: &[u8]) -> Result<u64, CodecError> {
    let bytes: [u8; 8] = payload.try_into().map_err(|_| CodecError::Invalid {
        event_type: event_type.to_owned(),
        reason: format!("expected 8 bytes, got {}", payload.len()),
    })?;
    Ok(u64::from_be_bytes(bytes))
}

impl EventCodec for Event {
    const EVENT_TYPES: &'static [&'static str] = &[ADDED, SUBTRACTED];

    fn event_type(&self) -> &'static str {
        match self {
            Event::Added(_) => ADDED,
            Event::Subtracted(_) => SUBTRACTED,
        }
    }

    fn encode(&self) -> Bytes {
        let (Event::Added(n) | Event::Subtracted(n)) = self;
        Bytes::copy_from_slice(&n.to_be_bytes())
    }

    fn decode(event_type: &str, schema_version: u32, payload: &[u8]) -> Result<Self, CodecError> {
        if schema_version != 1 {
            return Err(CodecError::UnsupportedVersion {
                event_type: event_type.to_owned(),
                schema_version,
            });
        }
        match event_type {
            ADDED => Ok(Event::Added(number(event_type, payload)?)),
            SUBTRACTED => Ok(Event::Subtracted(number(event_type, payload)?)),
            other => Err(CodecError::UnknownType(other.to_owned())),
        }
    }
}

impl Snapshotting for Counter {
    const SNAPSHOT_SCHEMA_VERSION: u32 = 1;

    fn encode_snapshot(&self) -> Bytes {
        Bytes::copy_from_slice(&self.value.to_be_bytes())
    }

    fn decode_snapshot(payload: &[u8]) -> Result<Self, CodecError> {
        Ok(Counter {
            value: number("snapshot", payload)?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Given/when/then on the pure aggregate.

#[test]
fn given_when_then_reads_like_a_rule_table() {
    let state = given::<Counter>([Event::Added(3)])
        .when(Command::Subtract(2))
        .then([Event::Subtracted(2)]);
    assert_eq!(
        state,
        Counter { value: 1 },
        "then returns the state after the events"
    );

    let refusal = given::<Counter>([Event::Added(1)])
        .when(Command::Subtract(2))
        .then_refused("below_zero");
    assert!(matches!(refusal, Refusal::BelowZero));

    given::<Counter>([]).when(Command::Touch).then([]);
    assert_codec_round_trips([Event::Added(1), Event::Subtracted(u64::MAX)]);
}

#[test]
#[should_panic(expected = "refused by rule")]
fn then_fails_when_the_command_is_refused() {
    given::<Counter>([])
        .when(Command::Subtract(1))
        .then([Event::Subtracted(1)]);
}

#[test]
#[should_panic(expected = "other events")]
fn then_fails_on_other_events() {
    given::<Counter>([])
        .when(Command::Add(1))
        .then([Event::Added(2)]);
}

#[test]
#[should_panic(expected = "expected refusal")]
fn then_refused_fails_when_the_command_succeeds() {
    given::<Counter>([])
        .when(Command::Add(1))
        .then_refused("below_zero");
}

// ---------------------------------------------------------------------------------------------
// The runner against both backends. Each scenario is an async fn taking a fresh store; the
// macro at the end runs each against SQLite and PostgreSQL.

/// A counter's key in these tests.
struct Key(&'static str);

impl minzheng_types::StreamKey for Key {
    fn stream_key(&self) -> String {
        self.0.to_owned()
    }
}

fn ctx() -> CommandContext {
    CommandContext::new()
}

fn counter(store: &SharedStore) -> Repository<Counter> {
    Repository::new(store.clone())
}

async fn commands_append_and_reload(store: SharedStore) {
    let repo = counter(&store);
    let first = repo
        .execute(&Key("c1"), &Command::Add(2), &ctx())
        .await
        .expect("store works")
        .expect("accepted");
    let second = repo
        .execute(&Key("c1"), &Command::Add(3), &ctx())
        .await
        .expect("store works")
        .expect("accepted");
    assert_eq!((first.stream_version, second.stream_version), (1, 2));
    assert!(second.position > first.position, "positions increase");
    assert_eq!(second.event_ids.len(), 1);
    assert!(!second.replayed);
    assert_eq!(second.stream.to_string(), "counter-c1");

    let loaded = repo.load(&Key("c1")).await.expect("load");
    assert_eq!((loaded.state.value, loaded.version), (5, 2));
    let fresh = repo.load(&Key("c2")).await.expect("load");
    assert_eq!((fresh.state, fresh.version), (Counter::default(), 0));
}

/// `load_each` answers what `load` answers for each key, in the keys' order, a key given twice
/// included, with or without a state cache (one that knows an older version reads on from it).
async fn several_instances_load_at_once_as_each_alone(store: SharedStore) {
    let repo = counter(&store);
    for (key, adds) in [("e1", [1, 2, 3].as_slice()), ("e2", &[10]), ("e3", &[5, 5])] {
        for add in adds {
            repo.execute(&Key(key), &Command::Add(*add), &ctx())
                .await
                .expect("store works")
                .expect("accepted");
        }
    }
    let cached = counter(&store).with_cache(8);
    cached
        .load(&Key("e1"))
        .await
        .expect("cached e1 at version 3");
    repo.execute(&Key("e1"), &Command::Add(4), &ctx())
        .await
        .expect("store works")
        .expect("accepted");
    let keys = [Key("e3"), Key("none"), Key("e1"), Key("e2"), Key("e1")];
    let keys: Vec<&Key> = keys.iter().collect();
    for repository in [&repo, &cached] {
        let loaded = repository.load_each(&keys).await.expect("load_each");
        let got: Vec<(u64, u64)> = loaded.iter().map(|l| (l.state.value, l.version)).collect();
        assert_eq!(got, [(10, 2), (0, 0), (10, 4), (10, 1), (10, 4)]);
        for (key, one) in keys.iter().zip(&loaded) {
            let alone = repository.load(*key).await.expect("load");
            assert_eq!(
                (alone.state.value, alone.version),
                (one.state.value, one.version)
            );
        }
    }
}

async fn many_events_are_stored_in_the_order_decided(store: SharedStore) {
    // Enough events for their encoding to be shared out between threads.
    let committed = counter(&store)
        .execute(&Key("many"), &Command::AddEach(100), &ctx())
        .await
        .expect("store works")
        .expect("accepted");
    assert_eq!(committed.stream_version, 100);
    let stream = StreamId::new("counter", "many").expect("valid");
    let stored: Vec<u64> = store
        .read_stream(&stream, 1, 1000)
        .await
        .expect("read")
        .iter()
        .map(|e| number(ADDED, &e.payload).expect("a number"))
        .collect();
    assert_eq!(stored, (1..=100).collect::<Vec<u64>>());
}

async fn creating_a_new_instance_skips_the_load_but_not_the_rules(store: SharedStore) {
    let repo = counter(&store);
    let created = repo
        .execute_new(&Key("c1"), &Command::Add(2), &ctx())
        .await
        .expect("store works")
        .expect("accepted");
    assert_eq!(created.stream_version, 1);
    // The instance exists now: the same call falls back to deciding on the real state.
    let again = repo
        .execute_new(&Key("c1"), &Command::Add(3), &ctx())
        .await
        .expect("store works")
        .expect("accepted");
    assert_eq!(again.stream_version, 2);
    let loaded = repo.load(&Key("c1")).await.expect("load");
    assert_eq!(
        loaded.state.value, 5,
        "the second add was decided on the stored state"
    );
    // A refusal on the default state is checked against the real one.
    repo.execute_new(&Key("c2"), &Command::Add(1), &ctx())
        .await
        .expect("store works")
        .expect("accepted");
    let subtracted = repo
        .execute_new(&Key("c2"), &Command::Subtract(1), &ctx())
        .await
        .expect("store works");
    assert!(subtracted.is_ok(), "1 - 1 is allowed on the stored state");
}

async fn a_refusal_appends_nothing(store: SharedStore) {
    let repo = counter(&store);
    let outcome = repo
        .execute(&Key("c1"), &Command::Subtract(1), &ctx())
        .await
        .expect("a refusal is not a store failure");
    assert!(matches!(outcome, Err(Refusal::BelowZero)));
    let stream = repo.stream_id(&Key("c1")).expect("stream id");
    assert_eq!(store.stream_version(&stream).await.expect("version"), 0);

    let error = repo
        .run(&Key("c1"), &Command::Subtract(1), &ctx())
        .await
        .expect_err("run folds the refusal into an error");
    assert!(
        matches!(&error, Error::FailedPrecondition { rule, .. } if rule == "below_zero"),
        "{error:?}"
    );
    assert_eq!(error.code(), Code::FailedPrecondition);
}

async fn a_command_that_decides_nothing_appends_nothing(store: SharedStore) {
    let repo = counter(&store);
    repo.run(&Key("c1"), &Command::Add(1), &ctx())
        .await
        .expect("add");
    let touched = repo
        .run(&Key("c1"), &Command::Touch, &ctx())
        .await
        .expect("touch");
    assert_eq!((touched.stream_version, touched.position), (1, 0));
    assert!(touched.event_ids.is_empty());
    let stream = repo.stream_id(&Key("c1")).expect("stream id");
    assert_eq!(store.stream_version(&stream).await.expect("version"), 1);
}

/// `retry` answers the recorded outcome of `first`, not a new one.
fn assert_replays(retry: &Committed, first: &Committed) {
    assert!(retry.replayed);
    assert_eq!(
        (retry.stream_version, retry.position, &retry.event_ids),
        (first.stream_version, first.position, &first.event_ids),
        "the recorded outcome, not a new one"
    );
}

/// `error` refuses a key used before for another stream.
fn assert_key_reused(error: &RunError) {
    assert!(
        matches!(
            error,
            RunError::Store(StoreError::IdempotencyKeyReused { .. })
        ),
        "{error:?}"
    );
}

async fn an_idempotent_retry_returns_the_first_outcome(store: SharedStore) {
    let repo = counter(&store);
    let keyed = ctx().with_idempotency_key("request-1");
    let first = repo
        .run(&Key("c1"), &Command::Add(5), &keyed)
        .await
        .expect("first");
    // The stream moves on before the client retries.
    repo.run(&Key("c1"), &Command::Add(1), &ctx())
        .await
        .expect("another command");
    let retry = repo
        .run(&Key("c1"), &Command::Add(5), &keyed.clone())
        .await
        .expect("retry");
    assert_replays(&retry, &first);
    assert_eq!(
        repo.load(&Key("c1")).await.expect("load").state.value,
        6,
        "added once"
    );

    // The same key on another stream is a client error, not a silent replay.
    let error = repo
        .execute(&Key("c2"), &Command::Add(5), &keyed)
        .await
        .expect_err("key reused for another stream");
    assert_key_reused(&error);
    assert_eq!(Error::from(error).code(), Code::InvalidArgument);
}

async fn a_retry_the_state_now_refuses_answers_the_first_outcome(store: SharedStore) {
    let repo = counter(&store);
    repo.run(&Key("c1"), &Command::Add(5), &ctx())
        .await
        .expect("fill");
    let keyed = ctx().with_idempotency_key("take-5");
    let first = repo
        .run(&Key("c1"), &Command::Subtract(5), &keyed)
        .await
        .expect("first");
    // At zero, subtracting 5 again is refused; the retry is answered, not decided again.
    let retry = repo
        .execute(&Key("c1"), &Command::Subtract(5), &keyed)
        .await
        .expect("store works")
        .expect("the first outcome, not a refusal");
    assert_replays(&retry, &first);
    // A command without the key is refused as before.
    let refused = repo
        .execute(&Key("c1"), &Command::Subtract(5), &ctx())
        .await
        .expect("store works");
    assert!(matches!(refused, Err(Refusal::BelowZero)), "{refused:?}");
    // The key on another stream, where the state refuses too, is a client error.
    let error = repo
        .execute(&Key("c2"), &Command::Subtract(5), &keyed)
        .await
        .expect_err("key reused for another stream");
    assert_key_reused(&error);
    // Deciding nothing under a used key answers the key's outcome too.
    let touched = repo
        .execute(&Key("c1"), &Command::Touch, &keyed)
        .await
        .expect("store works")
        .expect("the first outcome");
    assert!(touched.replayed);
    assert_eq!(touched.event_ids, first.event_ids);
    assert_eq!(repo.load(&Key("c1")).await.expect("load").state.value, 0);
}

async fn a_keyed_creation_is_answered_once_in_one_append(store: SharedStore) {
    let repo = counter(&store);
    let keyed = ctx().with_idempotency_key("create-1");
    let first = repo
        .execute_new(&Key("c1"), &Command::Add(5), &keyed)
        .await
        .expect("store works")
        .expect("accepted");
    assert!(!first.replayed);
    repo.run(&Key("c1"), &Command::Add(1), &ctx())
        .await
        .expect("another command");
    // The retry decides on the default state again, but the append answers the first outcome.
    let retry = repo
        .execute_new(&Key("c1"), &Command::Add(5), &keyed)
        .await
        .expect("store works")
        .expect("accepted");
    assert_replays(&retry, &first);
    assert_eq!(
        repo.load(&Key("c1")).await.expect("load").state.value,
        6,
        "added once"
    );
    // The key names the stream it created: creating another with it is refused.
    let error = repo
        .execute_new(&Key("c2"), &Command::Add(5), &keyed)
        .await
        .expect_err("key reused for another stream");
    assert!(
        matches!(
            &error,
            RunError::Store(StoreError::IdempotencyKeyReused { used_for, .. })
                if used_for.to_string() == "counter-c1"
        ),
        "{error:?}"
    );
    let c2 = repo.stream_id(&Key("c2")).expect("stream id");
    assert_eq!(store.stream_version(&c2).await.expect("version"), 0);
}

async fn events_carry_the_command_metadata(store: SharedStore) {
    crate::support::trace_with_opentelemetry();
    let repo = counter(&store);
    let principal = Principal::new("staff-0042", [Role::Caseworker], []);
    let correlation = Uuid::now_v7();
    let cause = Uuid::now_v7();
    let context = ctx()
        .with_actor(&principal)
        .with_idempotency_key("request-7")
        .with_correlation_id(correlation)
        .with_causation_id(cause);
    let span = tracing::info_span!("rpc");
    let parent = TraceContext::of(&span)
        .traceparent
        .expect("the test span is sampled");
    repo.run(&Key("c1"), &Command::Add(1), &context)
        .instrument(span)
        .await
        .expect("run");

    let stream = repo.stream_id(&Key("c1")).expect("stream id");
    let events = store.read_stream(&stream, 1, 10).await.expect("read");
    let metadata = &events.first().expect("one event").metadata;
    assert_eq!(metadata.actor.as_deref(), Some("staff-0042"));
    assert_eq!(metadata.idempotency_key.as_deref(), Some("request-7"));
    assert_eq!(metadata.correlation_id, Some(correlation));
    assert_eq!(metadata.causation_id, Some(cause));
    let stored = metadata
        .traceparent
        .as_deref()
        .expect("trace context stored");
    let trace_id = |tp: &str| tp.split('-').nth(1).map(str::to_owned);
    assert_eq!(trace_id(stored), trace_id(&parent), "same trace as the rpc");

    // Without explicit ids, the command's own id stands for both.
    let plain = ctx();
    repo.run(&Key("c1"), &Command::Add(1), &plain)
        .await
        .expect("run");
    let events = store.read_stream(&stream, 2, 10).await.expect("read");
    let metadata = &events.first().expect("one event").metadata;
    assert_eq!(metadata.correlation_id, Some(plain.command_id));
    assert_eq!(metadata.causation_id, Some(plain.command_id));
}

/// A store that lets another writer append to the stream just before the runner's first
/// append, so a version conflict happens deterministically.
#[derive(Debug)]
struct Interfering {
    inner: SharedStore,
    competing: Mutex<Option<AppendRequest>>,
    /// The `from_version` of every `read_stream`, in order.
    stream_reads: Arc<Mutex<Vec<u64>>>,
}

impl Interfering {
    fn store(inner: &SharedStore, stream: &str, event: Event) -> SharedStore {
        let request = AppendRequest {
            stream: StreamId::new("counter", stream).expect("stream id"),
            expected: ExpectedVersion::Any,
            events: vec![NewEvent::new(event.event_type(), 1, event.encode())],
            metadata: Metadata::default(),
        };
        Arc::new(Self {
            inner: inner.clone(),
            competing: Mutex::new(Some(request)),
            stream_reads: Arc::default(),
        })
    }

    /// `inner`, recording where each stream read starts, with nobody competing.
    fn watching(inner: &SharedStore) -> (SharedStore, Arc<Mutex<Vec<u64>>>) {
        let reads = Arc::<Mutex<Vec<u64>>>::default();
        let store = Arc::new(Self {
            inner: inner.clone(),
            competing: Mutex::new(None),
            stream_reads: reads.clone(),
        });
        (store, reads)
    }
}

#[async_trait]
impl EventStore for Interfering {
    async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        let competing = self.competing.lock().expect("lock").take();
        if let Some(competing) = competing {
            self.inner.append(competing).await?;
        }
        self.inner.append(request).await
    }
    async fn append_all(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Result<Vec<AppendOutcome>, StoreError> {
        let competing = self.competing.lock().expect("lock").take();
        if let Some(competing) = competing {
            self.inner.append(competing).await?;
        }
        self.inner.append_all(requests).await
    }
    async fn find_idempotent(&self, key: &str) -> Result<Option<AppendOutcome>, StoreError> {
        self.inner.find_idempotent(key).await
    }
    async fn stream_version(&self, stream: &StreamId) -> Result<u64, StoreError> {
        self.inner.stream_version(stream).await
    }
    async fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.stream_reads.lock().expect("lock").push(from_version);
        self.inner.read_stream(stream, from_version, limit).await
    }
    async fn read_all(&self, after: Cursor, limit: usize) -> Result<ReadBatch, StoreError> {
        self.inner.read_all(after, limit).await
    }
    async fn cursor_of(&self, position: u64) -> Result<Option<Cursor>, StoreError> {
        self.inner.cursor_of(position).await
    }
    async fn wait_for_position(&self, position: u64) -> Result<Cursor, StoreError> {
        self.inner.wait_for_position(position).await
    }
    async fn head(&self) -> Result<Cursor, StoreError> {
        self.inner.head().await
    }
    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError> {
        self.inner.save_snapshot(snapshot).await
    }
    async fn load_snapshot(&self, stream: &StreamId) -> Result<Option<Snapshot>, StoreError> {
        self.inner.load_snapshot(stream).await
    }
    async fn load_checkpoint(&self, name: &str) -> Result<Cursor, StoreError> {
        self.inner.load_checkpoint(name).await
    }
    async fn save_checkpoint(&self, name: &str, cursor: Cursor) -> Result<(), StoreError> {
        self.inner.save_checkpoint(name, cursor).await
    }
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn append_ended(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.append_ended()
    }
}

async fn a_conflict_reloads_and_decides_again(store: SharedStore) {
    // Someone adds 5 between our load and our append: we must not overwrite it.
    let repo = Repository::<Counter>::new(Interfering::store(&store, "c1", Event::Added(5)));
    let committed = repo
        .run(&Key("c1"), &Command::Add(1), &ctx())
        .await
        .expect("retried");
    assert_eq!(committed.stream_version, 2);
    assert_eq!(
        counter(&store)
            .load(&Key("c1"))
            .await
            .expect("load")
            .state
            .value,
        6
    );

    // A retry re-checks the rules on the new state: here the competitor took the last 3.
    counter(&store)
        .run(&Key("c2"), &Command::Add(3), &ctx())
        .await
        .expect("set up");
    let repo = Repository::<Counter>::new(Interfering::store(&store, "c2", Event::Subtracted(3)));
    let outcome = repo
        .execute(&Key("c2"), &Command::Subtract(3), &ctx())
        .await
        .expect("store works");
    assert!(matches!(outcome, Err(Refusal::BelowZero)), "{outcome:?}");

    // Without retries the conflict surfaces, as ABORTED.
    let repo = Repository::<Counter>::new(Interfering::store(&store, "c3", Event::Added(1)))
        .with_max_conflict_retries(0);
    let error = repo
        .execute(&Key("c3"), &Command::Add(1), &ctx())
        .await
        .expect_err("conflict");
    assert!(
        matches!(error, RunError::Store(StoreError::Conflict { .. })),
        "{error:?}"
    );
    assert_eq!(Error::from(error).code(), Code::Aborted);
}

/// Two counters decided and committed together: both or neither; a conflict on either is
/// decided again by `with_conflict_retries` on the new state.
async fn decisions_on_several_streams_commit_together(store: SharedStore) {
    counter(&store)
        .run(&Key("from"), &Command::Add(5), &ctx())
        .await
        .expect("set up");
    // Someone subtracts 1 from `from` between our loads and our commit.
    let interfering = Interfering::store(&store, "from", Event::Subtracted(1));
    let repo = counter(&interfering);
    let mut attempts = 0;
    let committed = with_conflict_retries(3, || {
        attempts += 1;
        let repo = &repo;
        let store = &interfering;
        async move {
            let from = repo.load(&Key("from")).await?;
            let to = repo.load(&Key("to")).await?;
            let moved = from.state.value;
            let decided = vec![
                repo.decided(&Key("from"), from.version, &[Event::Subtracted(moved)])?,
                repo.decided(&Key("to"), to.version, &[Event::Added(moved)])?,
            ];
            Ok(commit_together(store, decided, &ctx()).await?)
        }
    })
    .await
    .expect("committed on the second attempt");
    assert_eq!(attempts, 2);
    assert_eq!(committed.len(), 2);
    // The second attempt moved what was there after the competitor: 4, not 5.
    assert_eq!(
        counter(&store)
            .load(&Key("from"))
            .await
            .expect("load")
            .state
            .value,
        0
    );
    assert_eq!(
        counter(&store)
            .load(&Key("to"))
            .await
            .expect("load")
            .state
            .value,
        4
    );
}

/// A cached state is a prefix of the stream: loads and commands through a caching repository
/// see what other writers appended since, and refuse on the current state.
async fn a_cached_repository_sees_what_others_appended(store: SharedStore) {
    let cached = counter(&store).with_cache(2);
    let other = counter(&store);
    cached
        .run(&Key("k"), &Command::Add(1), &ctx())
        .await
        .expect("add");
    assert_eq!(cached.load(&Key("k")).await.expect("load").state.value, 1);
    other
        .run(&Key("k"), &Command::Add(2), &ctx())
        .await
        .expect("add");
    let loaded = cached.load(&Key("k")).await.expect("load");
    assert_eq!((loaded.state.value, loaded.version), (3, 2));
    other
        .run(&Key("k"), &Command::Subtract(3), &ctx())
        .await
        .expect("subtract");
    let outcome = cached
        .execute(&Key("k"), &Command::Subtract(1), &ctx())
        .await
        .expect("store works");
    assert!(matches!(outcome, Err(Refusal::BelowZero)), "{outcome:?}");
    // More instances than the capacity: still correct.
    for key in ["a", "b", "c"] {
        cached
            .run(&Key(key), &Command::Add(4), &ctx())
            .await
            .expect("add");
    }
    for key in ["a", "b", "c", "k"] {
        let expected = if key == "k" { 0 } else { 4 };
        assert_eq!(
            cached.load(&Key(key)).await.expect("load").state.value,
            expected
        );
    }
}

async fn a_cached_repository_keeps_the_state_its_own_command_made(store: SharedStore) {
    let (watched, reads) = Interfering::watching(&store);
    let cached = Repository::<Counter>::new(watched).with_cache(2);
    cached
        .run(&Key("k"), &Command::Add(2), &ctx())
        .await
        .expect("add");
    let loaded = cached.load(&Key("k")).await.expect("load");
    assert_eq!((loaded.state.value, loaded.version), (2, 1));
    // The command's load read the (empty) stream from the start; the load after it read only
    // what might follow the event the command appended.
    assert_eq!(*reads.lock().expect("lock"), [1, 2]);
}

async fn concurrent_commands_lose_no_update(store: SharedStore) {
    const WRITERS: u64 = 6;
    const EACH: u64 = 5;
    let repo = Arc::new(counter(&store).with_max_conflict_retries(100));
    let tasks: Vec<_> = (0..WRITERS)
        .map(|_| {
            let repo = repo.clone();
            tokio::spawn(async move {
                let mut versions = Vec::new();
                for _ in 0..EACH {
                    let committed = repo
                        .run(&Key("shared"), &Command::Add(1), &ctx())
                        .await
                        .expect("each command commits");
                    versions.push(committed.stream_version);
                }
                versions
            })
        })
        .collect();
    let mut versions = Vec::new();
    for task in tasks {
        versions.extend(task.await.expect("task"));
    }
    versions.sort_unstable();
    let expected: Vec<u64> = (1..=WRITERS * EACH).collect();
    assert_eq!(versions, expected, "every command got its own version");
    let loaded = repo.load(&Key("shared")).await.expect("load");
    assert_eq!(
        (loaded.state.value, loaded.version),
        (WRITERS * EACH, WRITERS * EACH)
    );
}

async fn snapshots_are_taken_and_used(store: SharedStore) {
    let every = NonZeroU64::new(2).expect("non-zero");
    let repo = counter(&store).with_snapshots(every);
    for _ in 0..5 {
        repo.run(&Key("c1"), &Command::Add(1), &ctx())
            .await
            .expect("add");
    }
    let stream = repo.stream_id(&Key("c1")).expect("stream id");
    let snapshot = store
        .load_snapshot(&stream)
        .await
        .expect("read snapshot")
        .expect("a snapshot was taken");
    assert_eq!(snapshot.stream_version, 4);
    assert_eq!(
        Counter::decode_snapshot(&snapshot.payload)
            .expect("decode")
            .value,
        4
    );

    // Loading starts from the snapshot: a (deliberately false) snapshot shows through.
    store
        .save_snapshot(Snapshot {
            payload: Counter { value: 100 }.encode_snapshot(),
            ..snapshot.clone()
        })
        .await
        .expect("save");
    assert_eq!(repo.load(&Key("c1")).await.expect("load").state.value, 101);
    assert_eq!(
        counter(&store)
            .load(&Key("c1"))
            .await
            .expect("load")
            .state
            .value,
        5,
        "no snapshots, full replay"
    );

    // A snapshot of another schema is ignored and the stream replayed.
    store
        .save_snapshot(Snapshot {
            schema_version: 99,
            payload: Bytes::from_static(b"?"),
            ..snapshot
        })
        .await
        .expect("save");
    assert_eq!(repo.load(&Key("c1")).await.expect("load").state.value, 5);
}

async fn an_undecodable_event_is_an_internal_error(store: SharedStore) {
    let stream = StreamId::new("counter", "c1").expect("stream id");
    store
        .append(AppendRequest {
            stream,
            expected: ExpectedVersion::NoStream,
            events: vec![NewEvent::new("minzheng.test.v1.Unknown", 1, Bytes::new())],
            metadata: Metadata::default(),
        })
        .await
        .expect("append");
    let error = counter(&store)
        .execute(&Key("c1"), &Command::Add(1), &ctx())
        .await
        .expect_err("cannot load");
    assert!(
        matches!(error, RunError::Decode { version: 1, .. }),
        "{error:?}"
    );
    assert_eq!(Error::from(error).code(), Code::Internal);
}

async fn sqlite_store() -> (SharedStore, TestSqlite) {
    let db = TestSqlite::create();
    let store = minzheng_eventstore::connect(&db.url, Upcasters::default())
        .await
        .expect("open the SQLite store");
    (store, db)
}

async fn postgres_store() -> (SharedStore, TestDatabase) {
    let db = TestDatabase::create().await;
    // A small pool: the test server is shared with every other suite, and its connection
    // limit is what parallel tests run out of first.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(3)
        .connect(&db.url)
        .await
        .expect("connect to the test database");
    let store = PostgresStore::from_pool(pool, Upcasters::default())
        .await
        .expect("open the PostgreSQL store");
    (Arc::new(store), db)
}

macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let (store, _db) = super::sqlite_store().await;
                    super::$scenario(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let (store, _db) = super::postgres_store().await;
                    super::$scenario(store).await;
                }
            )*
        }
    };
}

on_both_backends!(
    commands_append_and_reload,
    several_instances_load_at_once_as_each_alone,
    many_events_are_stored_in_the_order_decided,
    creating_a_new_instance_skips_the_load_but_not_the_rules,
    a_refusal_appends_nothing,
    a_command_that_decides_nothing_appends_nothing,
    an_idempotent_retry_returns_the_first_outcome,
    a_retry_the_state_now_refuses_answers_the_first_outcome,
    a_keyed_creation_is_answered_once_in_one_append,
    events_carry_the_command_metadata,
    a_conflict_reloads_and_decides_again,
    decisions_on_several_streams_commit_together,
    a_cached_repository_sees_what_others_appended,
    a_cached_repository_keeps_the_state_its_own_command_made,
    concurrent_commands_lose_no_update,
    snapshots_are_taken_and_used,
    an_undecodable_event_is_an_internal_error,
);
