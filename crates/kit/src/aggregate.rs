//! The command path every service reuses: a pure [`Aggregate`] decides, the [`Repository`]
//! loads, appends and retries.
//!
//! For one command the repository
//! 1. loads the aggregate: its latest snapshot (when snapshots are on) and the events after it;
//! 2. calls [`Aggregate::handle`], which either refuses (a domain rule) or returns new events;
//! 3. appends them expecting the version it loaded, with metadata: correlation and causation
//!    ids, the actor (the principal's `sub`), the idempotency key and the current trace context;
//! 4. on a version conflict reloads and decides again, a bounded number of times;
//! 5. returns the new stream version and store position.
//!
//! A command whose idempotency key was used before answers the recorded outcome, whatever the
//! state says now. The keyed append finds the key itself (the store answers the first outcome
//! instead of appending), so the key is looked up separately only when the decision appends
//! nothing: a refusal or a no-op may be the retry of a command that succeeded, and the state it
//! left. A look-up before every command cost a third of the store's work for a command on a
//! new instance (a read beside the load and the append), for keys almost never used before.
//!
//! Two kinds of failure stay apart (STYLE.md 4): [`Repository::execute`] returns
//! `Ok(Err(refusal))` when a rule refuses and `Err(RunError)` when the store or stored data
//! fails. [`Repository::run`] folds both into [`crate::Error`] for handlers that only answer.
//!
//! An instance is named by a [`StreamKey`] (an issued id, a region code, a pseudonym), never by
//! a plain string: a stream key shows in CloudEvents headers, logs and traces, so text from a
//! request must not become one by accident.
//!
//! This module deliberately knows no domain (aggregates, commands and events are the caller's
//! types) and no wire format (the [`EventCodec`] turns events into bytes; a [`Contract`] turns a
//! producer's recorded events into a reader's typed events).

use std::{fmt, marker::PhantomData, num::NonZeroU64};

use bytes::Bytes;
use minzheng_eventstore::{
    AppendOutcome, AppendRequest, ExpectedVersion, Metadata, NewEvent, RecordedEvent, SharedStore,
    Snapshot, StoreError, StreamId,
};
use minzheng_telemetry::TraceContext;
use minzheng_types::StreamKey;
use uuid::Uuid;

use crate::{Error, auth::Principal};

/// Events read per `read_stream` call when loading.
const LOAD_PAGE: usize = 500;

/// Default number of reload-and-retry rounds after a version conflict.
pub const DEFAULT_CONFLICT_RETRIES: u32 = 3;

/// How a refusal is answered: most refusals are a rule that does not allow the command now
/// (FAILED_PRECONDITION); a command addressed to something that does not exist is NOT_FOUND.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    FailedPrecondition,
    NotFound,
}

/// A domain rule's refusal of a command. Its `Display` is the message shown to the caller (it
/// must not contain personal data).
pub trait DomainError: std::error::Error + Send + Sync + 'static {
    /// Stable id of the refused rule, e.g. `income_above_threshold`; clients match on it.
    fn rule(&self) -> &str;

    fn kind(&self) -> RefusalKind {
        RefusalKind::FailedPrecondition
    }
}

/// A consistency boundary, as a pure function of its past events.
///
/// `handle` and `apply` do no IO and read no clock or randomness: whatever they need (today's
/// date, a generated id) comes in the command.
pub trait Aggregate: Default + Send + Sync + Sized + 'static {
    /// The stream category of its instances (lowercase letters, digits and `_`); it becomes a
    /// NATS subject token.
    const CATEGORY: &'static str;
    type Command: Send + Sync;
    type Event: EventCodec + Send + Sync;
    type Error: DomainError;

    /// Decides: the events the command causes, or the rule that refuses it.
    fn handle(&self, command: &Self::Command) -> Result<Vec<Self::Event>, Self::Error>;

    /// Folds one event into the state; no logic beyond that.
    fn apply(self, event: &Self::Event) -> Self;
}

/// Turns domain events into stored form and back: `(event_type, schema_version, bytes)`, where
/// the bytes are the protobuf encoding of the public event message.
pub trait EventCodec: Sized {
    /// Every event type `decode` reads: what a fuzz run or a reader's check iterates over,
    /// since the list is otherwise spread over a `match`.
    const EVENT_TYPES: &'static [&'static str];

    /// Fully qualified protobuf message name, e.g. `minzheng.placenames.v1.DivisionRenamed`.
    fn event_type(&self) -> &'static str;

    /// Schema version of the encoding `encode` produces.
    fn schema_version(&self) -> u32 {
        1
    }

    fn encode(&self) -> Bytes;

    /// Decodes a stored event (already upcast by the store to the version it knows).
    fn decode(event_type: &str, schema_version: u32, payload: &[u8]) -> Result<Self, CodecError>;
}

/// How a reader turns the recorded events of one producer into typed events: another service's
/// public events (the reader's view of that service's proto contract), or the reader's own store
/// (its aggregates' events, by stream category). Readers (bus projections, live views) receive
/// the decoded event and never look at type strings or payloads themselves.
pub trait Contract: Send + Sync + 'static {
    /// What the reader receives.
    type Event: Send + Sync;

    /// Decodes `event`: `Ok(None)` for an event the contract does not list (the reader has no
    /// use for it), an error for a listed one whose payload does not decode.
    fn decode(event: &RecordedEvent) -> Result<Option<Self::Event>, CodecError>;

    /// Whether the contract lists `event` (its type, or its stream's category), without decoding
    /// it: false only where [`Contract::decode`] would answer `Ok(None)`. A consumer leaves the
    /// events its contract does not list out of its transaction. True by default.
    fn lists(event: &RecordedEvent) -> bool {
        let _ = event;
        true
    }
}

/// A stored event of one of `A`'s streams, decoded; a failure names the stream and version.
fn decode_stored<A: Aggregate>(recorded: &RecordedEvent) -> Result<A::Event, RunError> {
    decode_recorded::<A>(recorded).map_err(|source| RunError::Decode {
        stream: recorded.stream.clone(),
        version: recorded.stream_version,
        source,
    })
}

/// Decodes a recorded event of `A`'s stream with `A`'s codec: the building block of a contract
/// over a service's own store.
pub fn decode_recorded<A: Aggregate>(event: &RecordedEvent) -> Result<A::Event, CodecError> {
    A::Event::decode(&event.event_type, event.schema_version, &event.payload)
}

/// Why stored bytes could not become a domain value.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("unknown event type {0}")]
    UnknownType(String),
    #[error("unsupported schema version {schema_version} of {event_type}")]
    UnsupportedVersion {
        event_type: String,
        schema_version: u32,
    },
    #[error("cannot decode {event_type}: {reason}")]
    Invalid { event_type: String, reason: String },
}

/// An aggregate whose state can be stored as a snapshot, to load long streams quickly.
pub trait Snapshotting: Aggregate {
    /// Schema of the encoded state; a stored snapshot of another schema is ignored and the
    /// stream replayed.
    const SNAPSHOT_SCHEMA_VERSION: u32;

    fn encode_snapshot(&self) -> Bytes;

    fn decode_snapshot(payload: &[u8]) -> Result<Self, CodecError>;
}

/// Facts about a command that are stored with the events it causes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandContext {
    /// This command's own id; the correlation and causation id when none is given.
    pub command_id: Uuid,
    pub correlation_id: Option<Uuid>,
    pub causation_id: Option<Uuid>,
    /// The principal's `sub`.
    pub actor: Option<String>,
    /// The client's key for retrying this command safely.
    pub idempotency_key: Option<String>,
}

/// gRPC metadata carrying an idempotency key, read by [`CommandContext::from_request`].
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// gRPC metadata carrying a correlation id (a UUID), read by [`CommandContext::from_request`].
pub const CORRELATION_ID_HEADER: &str = "x-correlation-id";

impl Default for CommandContext {
    fn default() -> Self {
        Self::new()
    }
}

impl CommandContext {
    /// A context with a fresh command id and nothing else.
    pub fn new() -> Self {
        Self {
            command_id: Uuid::now_v7(),
            correlation_id: None,
            causation_id: None,
            actor: None,
            idempotency_key: None,
        }
    }

    /// The context of a gRPC call: the principal as actor, and the `idempotency-key` and
    /// `x-correlation-id` metadata when present. A request message that carries its own
    /// idempotency key sets it with [`CommandContext::with_idempotency_key`].
    pub fn from_request<T>(request: &tonic::Request<T>) -> Self {
        let metadata = request.metadata();
        let text = |name: &str| {
            metadata
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        Self {
            actor: crate::auth::principal(request).map(|p| p.subject().to_owned()),
            idempotency_key: text(IDEMPOTENCY_KEY_HEADER),
            correlation_id: text(CORRELATION_ID_HEADER).and_then(|v| Uuid::parse_str(&v).ok()),
            ..Self::new()
        }
    }

    pub fn with_actor(mut self, principal: &Principal) -> Self {
        self.actor = Some(principal.subject().to_owned());
        self
    }

    /// Sets the idempotency key; an empty key means none.
    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        self.idempotency_key = (!key.is_empty()).then_some(key);
        self
    }

    pub fn with_correlation_id(mut self, id: Uuid) -> Self {
        self.correlation_id = Some(id);
        self
    }

    /// Sets what caused this command, e.g. the id of the event a process manager reacted to.
    pub fn with_causation_id(mut self, id: Uuid) -> Self {
        self.causation_id = Some(id);
        self
    }

    fn metadata(&self) -> Metadata {
        let trace = TraceContext::current();
        Metadata {
            correlation_id: Some(self.correlation_id.unwrap_or(self.command_id)),
            causation_id: Some(self.causation_id.unwrap_or(self.command_id)),
            actor: self.actor.clone(),
            traceparent: trace.traceparent,
            tracestate: trace.tracestate,
            idempotency_key: self.idempotency_key.clone(),
        }
    }
}

/// What an executed command did: what a `CommandResult` message reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub stream: StreamId,
    /// The stream's version after the command.
    pub stream_version: u64,
    /// Store position of the last appended event, for read-your-writes queries; 0 when the
    /// command appended nothing.
    pub position: u64,
    pub event_ids: Vec<Uuid>,
    /// True when this is the recorded outcome of an earlier command with the same
    /// idempotency key.
    pub replayed: bool,
}

impl From<AppendOutcome> for Committed {
    fn from(outcome: AppendOutcome) -> Self {
        Self {
            stream: outcome.stream,
            stream_version: outcome.stream_version,
            position: outcome.last_position,
            event_ids: outcome.event_ids,
            replayed: outcome.replayed,
        }
    }
}

/// An aggregate as loaded from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded<A> {
    pub state: A,
    /// Version of the last event folded in (0 for a new stream).
    pub version: u64,
}

/// The events one aggregate decided in a command that spans several streams, ready to be
/// appended together with the others by [`commit_together`].
#[derive(Debug, Clone)]
pub struct Decided {
    stream: StreamId,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
}

impl Decided {
    pub fn stream(&self) -> &StreamId {
        &self.stream
    }

    /// Gives the events ids derived from the command's idempotency key (when it has one; see
    /// [`event_id_from_key`]) instead of fresh ones. A multi-stream append stores no key, so
    /// this is how a command that spans streams recognises its own earlier append: a retry
    /// finds its first event's id already on the stream.
    pub fn with_event_ids_from_key(self, context: &CommandContext) -> Self {
        let stream = self.stream.clone();
        self.with_event_ids_from_key_in(context, &stream)
    }

    /// Gives the events ids derived from the command's idempotency key and `scope` (not this
    /// stream): every command that names the same `scope` derives the same ids from one key,
    /// whatever stream it appends to. So a key that already served one such command on another
    /// stream makes the append fail with [`StoreError::DuplicateEventId`]: how a command that
    /// spans streams (its key stored nowhere) tells a key used for another target from a new
    /// one.
    pub fn with_event_ids_from_key_in(
        mut self,
        context: &CommandContext,
        scope: &StreamId,
    ) -> Self {
        if let Some(key) = context.idempotency_key.as_deref() {
            for (index, event) in self.events.iter_mut().enumerate() {
                event.id = event_id_from_key(key, scope, index);
            }
        }
        self
    }
}

/// The id of event `index` of the append to `stream` by a command with idempotency key `key`:
/// the first 16 bytes of SHA-256 over the three, shaped as a version 8 (custom) UUID. The same
/// key and stream always give the same ids; different ones collide only by chance (2^-122).
pub fn event_id_from_key(key: &str, stream: &StreamId, index: usize) -> Uuid {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in [key.as_bytes(), stream.to_string().as_bytes()] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.update((index as u64).to_be_bytes());
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Appends the decisions of several aggregates in one transaction: all of them, or none when
/// any stream moved since it was loaded ([`StoreError::Conflict`]; reload and decide again, e.g.
/// with [`with_conflict_retries`]). Decisions without events are left out. Returns one
/// [`Committed`] per appended stream, in order.
///
/// The store takes no idempotency key for such an append (a key belongs to one stream), so the
/// context's key is not stored: commands that span streams are made idempotent by their ids
/// (the record a second attempt would create exists already).
pub async fn commit_together(
    store: &SharedStore,
    decided: Vec<Decided>,
    context: &CommandContext,
) -> Result<Vec<Committed>, StoreError> {
    let metadata = Metadata {
        idempotency_key: None,
        ..context.metadata()
    };
    let requests: Vec<AppendRequest> = decided
        .into_iter()
        .filter(|d| !d.events.is_empty())
        .map(|d| AppendRequest {
            stream: d.stream,
            expected: d.expected,
            events: d.events,
            metadata: metadata.clone(),
        })
        .collect();
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let outcomes = store.append_all(requests).await?;
    Ok(outcomes.into_iter().map(Committed::from).collect())
}

/// Runs `attempt` again (up to `retries` more times) while it fails with a version conflict:
/// the loop of a command that loads several aggregates, decides and commits them together.
pub async fn with_conflict_retries<T, F, Fut>(retries: u32, mut attempt: F) -> Result<T, RunError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, RunError>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(RunError::Store(StoreError::Conflict { stream, .. })) if tries < retries => {
                tries += 1;
                tracing::debug!(%stream, tries, "version conflict in a multi-stream command, deciding again");
            }
            other => return other,
        }
    }
}

/// Failures of the command path that are not domain refusals.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot decode event {version} of stream {stream}: {source}")]
    Decode {
        stream: StreamId,
        version: u64,
        #[source]
        source: CodecError,
    },
}

impl From<RunError> for Error {
    fn from(error: RunError) -> Self {
        match error {
            RunError::Store(error) => error.into(),
            error @ RunError::Decode { .. } => Error::Internal(error.into()),
        }
    }
}

impl Error {
    /// The answer to a domain refusal.
    pub fn from_refusal<E: DomainError>(refusal: &E) -> Self {
        match refusal.kind() {
            RefusalKind::FailedPrecondition => Error::refused(refusal.rule(), refusal.to_string()),
            RefusalKind::NotFound => Error::NotFound(refusal.to_string()),
        }
    }
}

/// How snapshots are taken and read, captured from [`Snapshotting`] when they are enabled.
struct SnapshotPolicy<A> {
    every: NonZeroU64,
    schema_version: u32,
    encode: fn(&A) -> Bytes,
    decode: fn(&[u8]) -> Result<A, CodecError>,
}

/// Fewest events a command must cause for their encoding to be shared out between threads.
const PARALLEL_ENCODE_MIN_EVENTS: usize = 16;

/// The events, encoded for the store, in order. A command that causes many events (a payment
/// cycle's chunks of lines: megabytes) has them encoded on every core at once; the few events
/// of an ordinary command are encoded here.
fn encode_events<E: EventCodec + Sync>(events: &[E]) -> Vec<NewEvent> {
    crate::parallel::filter_map_in_order(events, PARALLEL_ENCODE_MIN_EVENTS, |e| {
        Some(NewEvent::new(
            e.event_type(),
            e.schema_version(),
            e.encode(),
        ))
    })
}

/// Recently loaded states, so that a load reads only the events appended since (see
/// [`Repository::with_cache`]).
struct StateCache<A> {
    capacity: usize,
    clone: fn(&A) -> A,
    states: std::sync::Mutex<std::collections::HashMap<StreamId, Loaded<A>>>,
}

impl<A> StateCache<A> {
    fn get(&self, stream: &StreamId) -> Option<Loaded<A>> {
        let states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        states.get(stream).map(|loaded| Loaded {
            state: (self.clone)(&loaded.state),
            version: loaded.version,
        })
    }

    fn put(&self, stream: &StreamId, loaded: &Loaded<A>) {
        if self.holds(stream, loaded.version) {
            return;
        }
        self.put_owned(
            stream,
            Loaded {
                state: (self.clone)(&loaded.state),
                version: loaded.version,
            },
        );
    }

    /// Whether the cache holds `stream` at `version` or later.
    fn holds(&self, stream: &StreamId, version: u64) -> bool {
        let states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        states
            .get(stream)
            .is_some_and(|cached| cached.version >= version)
    }

    fn put_owned(&self, stream: &StreamId, loaded: Loaded<A>) {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        if states
            .get(stream)
            .is_some_and(|cached| cached.version >= loaded.version)
        {
            return;
        }
        if states.len() >= self.capacity && !states.contains_key(stream) {
            // Crude but bounded: forget everything and warm up again.
            states.clear();
        }
        states.insert(stream.clone(), loaded);
    }
}

/// Loads aggregates of type `A` from the store and runs commands against them.
pub struct Repository<A: Aggregate> {
    store: SharedStore,
    max_conflict_retries: u32,
    snapshots: Option<SnapshotPolicy<A>>,
    cache: Option<StateCache<A>>,
    _aggregate: PhantomData<fn() -> A>,
}

impl<A: Aggregate> fmt::Debug for Repository<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Repository")
            .field("category", &A::CATEGORY)
            .field("store", &self.store.backend())
            .field("max_conflict_retries", &self.max_conflict_retries)
            .field("snapshot_every", &self.snapshots.as_ref().map(|s| s.every))
            .finish()
    }
}

impl<A: Aggregate> Repository<A> {
    pub fn new(store: SharedStore) -> Self {
        Self {
            store,
            max_conflict_retries: DEFAULT_CONFLICT_RETRIES,
            snapshots: None,
            cache: None,
            _aggregate: PhantomData,
        }
    }

    /// How many times a command is re-decided after a version conflict before the conflict is
    /// returned (ABORTED).
    pub fn with_max_conflict_retries(mut self, retries: u32) -> Self {
        self.max_conflict_retries = retries;
        self
    }

    /// Stores a snapshot whenever an append crosses a multiple of `every` events.
    pub fn with_snapshots(mut self, every: NonZeroU64) -> Self
    where
        A: Snapshotting,
    {
        self.snapshots = Some(SnapshotPolicy {
            every,
            schema_version: A::SNAPSHOT_SCHEMA_VERSION,
            encode: A::encode_snapshot,
            decode: A::decode_snapshot,
        });
        self
    }

    /// Keeps the states of up to `capacity` recently loaded instances in memory, so that
    /// loading one again reads only the events appended since: for aggregates with long
    /// streams that are read often (a registry's day of appointments, say). Always correct,
    /// whoever appends: a stream only grows, so a cached state at version v plus the events
    /// after v is the current state. Costs memory (one state per cached instance).
    pub fn with_cache(mut self, capacity: usize) -> Self
    where
        A: Clone,
    {
        self.cache = Some(StateCache {
            capacity: capacity.max(1),
            clone: A::clone,
            states: std::sync::Mutex::new(std::collections::HashMap::new()),
        });
        self
    }

    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// The stream id of the instance `key`.
    pub fn stream_id(&self, key: &(impl StreamKey + ?Sized)) -> Result<StreamId, StoreError> {
        StreamId::new(A::CATEGORY, key.stream_key())
    }

    /// Where instance `key` stands at `version` (its last event's position), as a replayed
    /// [`Committed`]: the answer to a repeated command whose effect a multi-stream append
    /// recorded earlier without an idempotency key (see [`commit_together`]), so that the
    /// repeat, too, tells the caller where to read its write.
    pub async fn recorded(
        &self,
        key: &(impl StreamKey + ?Sized),
        version: u64,
    ) -> Result<Committed, RunError> {
        let stream = self.stream_id(key)?;
        let last = self.store.read_stream(&stream, version, 1).await?;
        Ok(Committed {
            position: last.first().map_or(0, |event| event.position),
            stream,
            stream_version: version,
            event_ids: Vec::new(),
            replayed: true,
        })
    }

    /// Tells the repository that [`commit_together`] appended `events` to instance `key` as
    /// `loaded`, reaching `committed`: the state they lead to is cached and snapshotted as
    /// after [`Repository::execute`], so the next load reads nothing it already holds.
    pub async fn committed_together(
        &self,
        key: &(impl StreamKey + ?Sized),
        loaded: Loaded<A>,
        events: &[A::Event],
        committed: &Committed,
    ) -> Result<(), StoreError> {
        let stream = self.stream_id(key)?;
        self.after_append(
            &stream,
            loaded.state,
            loaded.version,
            events,
            committed.stream_version,
        )
        .await;
        Ok(())
    }

    /// The recorded outcome of the context's idempotency key when it was used before, on
    /// instance `key`: what a retried command answers. A key used for another stream is
    /// [`StoreError::IdempotencyKeyReused`].
    pub async fn replayed(
        &self,
        key: &(impl StreamKey + ?Sized),
        context: &CommandContext,
    ) -> Result<Option<Committed>, RunError> {
        let stream = self.stream_id(key)?;
        self.answered_before(&stream, context).await
    }

    async fn answered_before(
        &self,
        stream: &StreamId,
        context: &CommandContext,
    ) -> Result<Option<Committed>, RunError> {
        let Some(key) = &context.idempotency_key else {
            return Ok(None);
        };
        let Some(outcome) = self.store.find_idempotent(key).await? else {
            return Ok(None);
        };
        if outcome.stream != *stream {
            return Err(StoreError::IdempotencyKeyReused {
                used_for: outcome.stream,
                requested: stream.clone(),
            }
            .into());
        }
        tracing::debug!(stream = %stream, "idempotent retry answered from the store");
        Ok(Some(Committed {
            replayed: true,
            ..outcome.into()
        }))
    }

    /// The current state of instance `key` (the default state for a new one).
    pub async fn load(&self, key: &(impl StreamKey + ?Sized)) -> Result<Loaded<A>, RunError> {
        let stream = self.stream_id(key)?;
        self.load_stream(&stream).await
    }

    /// The current states of instances `keys`, in their order: [`Repository::load`] of each,
    /// in one read of the store for short streams without snapshots (a household's
    /// authorizations, say), so a look-up at several costs one round trip, not one each.
    pub async fn load_each<K: StreamKey + ?Sized>(
        &self,
        keys: &[&K],
    ) -> Result<Vec<Loaded<A>>, RunError> {
        let streams = keys
            .iter()
            .map(|key| self.stream_id(*key))
            .collect::<Result<Vec<_>, _>>()?;
        if streams.len() < 2 || self.snapshots.is_some() {
            return self.load_one_by_one(&streams).await;
        }
        let mut states: Vec<Loaded<A>> = streams
            .iter()
            .map(|stream| {
                self.cache
                    .as_ref()
                    .and_then(|cache| cache.get(stream))
                    .unwrap_or(Loaded {
                        state: A::default(),
                        version: 0,
                    })
            })
            .collect();
        let wanted: Vec<(StreamId, u64)> = streams
            .iter()
            .zip(&states)
            .map(|(stream, loaded)| (stream.clone(), loaded.version + 1))
            .collect();
        let events = self.store.read_streams(&wanted, LOAD_PAGE).await?;
        if events.len() == LOAD_PAGE {
            // Some stream may go on: each is read to its end on its own.
            return self.load_one_by_one(&streams).await;
        }
        for recorded in events {
            let event = decode_stored::<A>(&recorded)?;
            // A key given twice is the same instance twice.
            for (stream, loaded) in streams.iter().zip(states.iter_mut()) {
                if *stream == recorded.stream && recorded.stream_version == loaded.version + 1 {
                    loaded.state = std::mem::take(&mut loaded.state).apply(&event);
                    loaded.version = recorded.stream_version;
                }
            }
        }
        if let Some(cache) = &self.cache {
            for (stream, loaded) in streams.iter().zip(&states) {
                cache.put(stream, loaded);
            }
        }
        Ok(states)
    }

    /// Runs `command` against instance `key`: `Ok(Ok(committed))`, `Ok(Err(refusal))` when a
    /// domain rule refuses, `Err` when the store fails or a conflict persists after the retries.
    #[tracing::instrument(skip_all, fields(category = A::CATEGORY, key = %key.stream_key()), err(level = tracing::Level::WARN))]
    pub async fn execute(
        &self,
        key: &(impl StreamKey + ?Sized),
        command: &A::Command,
        context: &CommandContext,
    ) -> Result<Result<Committed, A::Error>, RunError> {
        let stream = self.stream_id(key)?;
        // Taken inside this span, so stored events point at the command's trace.
        let metadata = context.metadata();
        let mut attempt = 0;
        loop {
            let Loaded { state, version } = self.load_stream(&stream).await?;
            let decided = state.handle(command);
            // Appending nothing, the store cannot find the key: the retry of a command that
            // succeeded would be refused by, or be a no-op on, the state it left.
            if !matches!(&decided, Ok(events) if !events.is_empty())
                && let Some(replayed) = self.answered_before(&stream, context).await?
            {
                return Ok(Ok(replayed));
            }
            let events = match decided {
                Ok(events) => events,
                Err(refusal) => return Ok(Err(refusal)),
            };
            if events.is_empty() {
                return Ok(Ok(Committed {
                    stream,
                    stream_version: version,
                    position: 0,
                    event_ids: Vec::new(),
                    replayed: false,
                }));
            }

            let request = AppendRequest {
                stream: stream.clone(),
                expected: if version == 0 {
                    ExpectedVersion::NoStream
                } else {
                    ExpectedVersion::Exact(version)
                },
                events: encode_events(&events),
                metadata: metadata.clone(),
            };
            match self.store.append(request).await {
                Ok(outcome) => {
                    if !outcome.replayed {
                        self.after_append(&stream, state, version, &events, outcome.stream_version)
                            .await;
                    }
                    return Ok(Ok(outcome.into()));
                }
                Err(StoreError::Conflict { actual, .. }) if attempt < self.max_conflict_retries => {
                    attempt += 1;
                    tracing::debug!(stream = %stream, attempt, loaded = version, actual, "version conflict, reloading");
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// [`Repository::execute`] for an instance the caller believes does not exist yet (a bulk
    /// import of new records, say): decides on the default state and appends expecting no
    /// stream, one round trip instead of a load and an append. If the stream exists after all,
    /// it falls back to [`Repository::execute`], so the outcome is the same either way. An
    /// idempotency key is checked by the append itself, before anything else: a key already
    /// used for this stream answers the first outcome (`replayed`), one used for another stream
    /// is [`StoreError::IdempotencyKeyReused`], as with [`Repository::execute`].
    pub async fn execute_new(
        &self,
        key: &(impl StreamKey + ?Sized),
        command: &A::Command,
        context: &CommandContext,
    ) -> Result<Result<Committed, A::Error>, RunError> {
        let stream = self.stream_id(key)?;
        let events = match A::default().handle(command) {
            Ok(events) if !events.is_empty() => events,
            // A refusal or nothing to do may depend on the state: ask the real one.
            _ => return self.execute(key, command, context).await,
        };
        let request = AppendRequest {
            stream: stream.clone(),
            expected: ExpectedVersion::NoStream,
            events: encode_events(&events),
            metadata: context.metadata(),
        };
        match self.store.append(request).await {
            Ok(outcome) => Ok(Ok(outcome.into())),
            Err(StoreError::Conflict { .. }) => self.execute(key, command, context).await,
            Err(error) => Err(error.into()),
        }
    }

    /// The append of `events`, decided on instance `key` as loaded at `loaded_version`, for
    /// [`commit_together`].
    pub fn decided(
        &self,
        key: &(impl StreamKey + ?Sized),
        loaded_version: u64,
        events: &[A::Event],
    ) -> Result<Decided, StoreError> {
        Ok(Decided {
            stream: self.stream_id(key)?,
            expected: if loaded_version == 0 {
                ExpectedVersion::NoStream
            } else {
                ExpectedVersion::Exact(loaded_version)
            },
            events: encode_events(events),
        })
    }

    /// [`Repository::execute`] for handlers that only answer: a refusal and a store failure
    /// both become the [`Error`] that maps to their status.
    pub async fn run(
        &self,
        key: &(impl StreamKey + ?Sized),
        command: &A::Command,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        self.execute(key, command, context)
            .await?
            .map_err(|refusal| Error::from_refusal(&refusal))
    }

    async fn load_one_by_one(&self, streams: &[StreamId]) -> Result<Vec<Loaded<A>>, RunError> {
        let mut loaded = Vec::with_capacity(streams.len());
        for stream in streams {
            loaded.push(self.load_stream(stream).await?);
        }
        Ok(loaded)
    }

    async fn load_stream(&self, stream: &StreamId) -> Result<Loaded<A>, RunError> {
        let cached = self.cache.as_ref().and_then(|cache| cache.get(stream));
        let from_cache = cached.is_some();
        let Loaded {
            mut state,
            mut version,
        } = cached.unwrap_or(Loaded {
            state: A::default(),
            version: 0,
        });
        if !from_cache
            && let Some(policy) = &self.snapshots
            && let Some(snapshot) = self.store.load_snapshot(stream).await?
        {
            if snapshot.schema_version != policy.schema_version {
                tracing::debug!(stream = %stream, schema = snapshot.schema_version, "ignoring snapshot of another schema");
            } else {
                match (policy.decode)(&snapshot.payload) {
                    Ok(restored) => {
                        state = restored;
                        version = snapshot.stream_version;
                    }
                    Err(error) => {
                        // The events are the truth; a bad snapshot only costs a full replay.
                        tracing::warn!(stream = %stream, %error, "ignoring undecodable snapshot");
                    }
                }
            }
        }
        loop {
            let page = self
                .store
                .read_stream(stream, version + 1, LOAD_PAGE)
                .await?;
            let full = page.len() == LOAD_PAGE;
            for recorded in page {
                let event = decode_stored::<A>(&recorded)?;
                state = state.apply(&event);
                version = recorded.stream_version;
            }
            if !full {
                let loaded = Loaded { state, version };
                if let Some(cache) = &self.cache {
                    cache.put(stream, &loaded);
                }
                return Ok(loaded);
            }
        }
    }

    /// After `events`, decided on `state` as loaded at `loaded_version`, were appended: the
    /// new state goes to the cache (so that the next load reads nothing already known) and, when
    /// the append crossed a multiple of the snapshot interval, into a snapshot.
    async fn after_append(
        &self,
        stream: &StreamId,
        state: A,
        loaded_version: u64,
        events: &[A::Event],
        new_version: u64,
    ) {
        let snapshot = self.snapshots.as_ref().filter(|policy| {
            let every = policy.every.get();
            loaded_version / every != new_version / every
        });
        // The appended events follow the loaded state directly (the append checked the
        // version), so folding them gives the state at the outcome's version.
        let follows = new_version == loaded_version + events.len() as u64;
        let cache = self.cache.as_ref().filter(|_| follows);
        if snapshot.is_none() && cache.is_none() {
            return;
        }
        let state = events.iter().fold(state, |state, event| state.apply(event));
        if let Some(policy) = snapshot {
            self.save_snapshot(policy, stream, &state, new_version)
                .await;
        }
        if let Some(cache) = cache {
            cache.put_owned(
                stream,
                Loaded {
                    state,
                    version: new_version,
                },
            );
        }
    }

    async fn save_snapshot(
        &self,
        policy: &SnapshotPolicy<A>,
        stream: &StreamId,
        state: &A,
        version: u64,
    ) {
        let snapshot = Snapshot {
            stream: stream.clone(),
            stream_version: version,
            schema_version: policy.schema_version,
            payload: (policy.encode)(state),
        };
        // The command has committed; a failed snapshot only makes later loads slower.
        if let Err(error) = self.store.save_snapshot(snapshot).await {
            tracing::warn!(stream = %stream, %error, "saving snapshot failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_from_a_key_are_the_same_for_a_retry_and_differ_otherwise() {
        let stream = StreamId::new("cycle", "210502-202512").expect("stream");
        let other = StreamId::new("cycle", "210502-202601").expect("stream");
        let id = event_id_from_key("k-1", &stream, 0);
        assert_eq!(id, event_id_from_key("k-1", &stream, 0));
        assert_eq!(id.get_version_num(), 8);
        for different in [
            event_id_from_key("k-2", &stream, 0),
            event_id_from_key("k-1", &other, 0),
            event_id_from_key("k-1", &stream, 1),
        ] {
            assert_ne!(id, different);
        }
    }
}
