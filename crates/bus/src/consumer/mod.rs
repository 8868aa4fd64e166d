//! Consumers: a [`Projection`] kept up to date from another service's events, with exactly-once
//! effects on top of at-least-once delivery.
//!
//! Events come from one of two sources behind the same [`Consumer`]: a durable JetStream pull
//! consumer on the producing service's stream ([`JetStreamSource`]), or, in the embedded
//! single-process mode, the producing service's store read directly by cursor
//! ([`FeedSource`]). Either way, each batch is applied in ONE transaction of the consumer's own
//! database: first the batch's event ids go into `mz_inbox` (`ON CONFLICT DO NOTHING
//! RETURNING`), then the projection sees only the events that were new, then the transaction
//! commits (with the feed's cursor in it, for the feed), and only then are the messages
//! acknowledged. A redelivered event therefore changes nothing.
//!
//! A batch that fails is retried one event at a time to find the culprit. An event that keeps
//! failing is retried with back-off and, after `max_attempts`, parked: a row in `mz_parked`, a
//! message on the dead-letter subject (JetStream only), a metric and a warning with ids only.
//! Failures of the database itself (connection lost, busy) are not the event's fault: they are
//! retried with back-off without spending the event's attempts.
//!
//! Consumers know nothing of what the events mean (projections do) or of how the producer's
//! events get on the bus (the relay does).

mod feed;
pub(crate) mod inbox;
mod jetstream;
pub mod reset;

use std::{borrow::Cow, sync::Arc, time::Duration};

use async_trait::async_trait;
use backon::{BackoffBuilder, ExponentialBuilder};
use minzheng_eventstore::{Cursor, RecordedEvent, StoreError};
use minzheng_telemetry::TraceContext;
use sqlx::{AnyConnection, AnyPool, any::AnyPoolOptions};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, Span, debug, info, info_span, warn};
use uuid::Uuid;

pub use feed::FeedSource;
pub use jetstream::{
    DEADLETTER_ATTEMPTS, DEADLETTER_CONSUMER, DEADLETTER_SEQUENCE, DEADLETTER_SUBJECT,
    DEFAULT_ACK_WAIT, JetStreamSource,
};

use crate::{
    metrics::ConsumerMetrics,
    naming::{ConsumerName, NamingError},
};

/// A read model kept from events. Implementations are plain SQL against the consumer's database
/// through `sqlx::Any`: portable statements with `$1` placeholders.
#[async_trait]
pub trait Projection: Send + Sync + 'static {
    /// The durable consumer name: lowercase letters, digits, `_` and `-`, unique per database
    /// (it keys the inbox) and per producing stream (it names the JetStream consumer).
    fn name(&self) -> &str;

    /// Whether the projection does anything with `event`. Those it does not are acknowledged
    /// without entering the consumer's transaction: no inbox row, no [`Projection::act`] or
    /// [`Projection::apply`] (doing nothing twice is harmless), and a batch of nothing else
    /// commits nothing (the feed's cursor aside). A projection of one aggregate type on a stream
    /// busy with others (the read audit's, say) is spared most of its writes. Every event by
    /// default.
    fn handles(&self, event: &RecordedEvent) -> bool {
        let _ = event;
        true
    }

    /// Applies one event inside `tx`, a transaction the consumer commits. An error rolls the
    /// whole transaction back.
    async fn apply(&self, tx: &mut AnyConnection, event: &RecordedEvent) -> anyhow::Result<()>;

    /// Effects outside the consumer's transaction, run for a batch's events before it begins:
    /// commands on the consumer's own event store. In the embedded mode that store shares the
    /// consumer's SQLite database, whose single writer the transaction holds, so an append from
    /// inside [`Projection::apply`] would wait on itself. An event is delivered again until its
    /// transaction commits, and these effects run again for it (for an event already applied,
    /// too): they must be idempotent — commands under an idempotency key derived from the
    /// event's id, say. An error fails the batch as one from `apply` does (retried, then
    /// parked).
    async fn act(&self, events: &[RecordedEvent]) -> anyhow::Result<()> {
        let _ = events;
        Ok(())
    }

    /// Told, once the transaction that applied `events` (the new ones of a batch) committed,
    /// that what [`Projection::apply`] wrote for them is visible: for state this process keeps
    /// beside the tables (a cache of them to drop, say). Not called when the commit fails.
    /// Nothing by default.
    fn committed(&self, events: &[RecordedEvent]) {
        let _ = events;
    }

    /// Applies a batch of new events inside `tx`. The default applies them one by one, each in
    /// a span continuing the trace the event was recorded in; an override that handles the batch
    /// in bulk should open those spans itself with [`event_span`].
    async fn apply_batch(
        &self,
        tx: &mut AnyConnection,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        for event in events {
            let span = event_span(self.name(), event);
            self.apply(&mut *tx, event).instrument(span).await?;
        }
        Ok(())
    }
}

/// The span a consumed event is processed in: a CONSUMER span (OpenTelemetry's messaging
/// conventions, operation `process`), a child of the span that recorded the event (through its
/// stored W3C trace context), so one trace shows a command, the relay's publication of its
/// events and their handling in every consumer. The messaging system is not named: the same
/// span serves events fed from JetStream and, embedded, straight from the producer's store.
pub fn event_span(consumer: &str, event: &RecordedEvent) -> Span {
    let span = info_span!(
        "consume",
        otel.name = %format_args!("process {}", event.event_type),
        otel.kind = "consumer",
        messaging.operation.type = "process",
        messaging.operation.name = "process",
        messaging.consumer.group.name = consumer,
        messaging.message.id = %event.id,
        consumer,
        event_id = %event.id,
        event_type = %event.event_type,
        stream = %event.stream,
        stream_version = event.stream_version,
    );
    TraceContext {
        traceparent: event.metadata.traceparent.clone(),
        tracestate: event.metadata.tracestate.clone(),
    }
    .set_as_parent_of(&span);
    span
}

/// Connects to a consumer database by URL through `sqlx::Any`, installing the drivers first.
/// The pool waits at most `acquire_timeout` for a connection (opening one included), like the
/// event store's pools, so a query against a database that is down fails in that time instead
/// of sqlx's default of 30 s; pass the platform setting (`MZ_DATABASE_ACQUIRE_TIMEOUT_MS`) or
/// `minzheng_eventstore::DEFAULT_ACQUIRE_TIMEOUT`.
///
/// Like the event store's pools, it does not ping a connection before lending it (sqlx's
/// default does): that ping is a round trip before every query. A connection that died while
/// idle fails the call that used it, as UNAVAILABLE, and the pool replaces it; the caller's
/// retry (a consumer's next attempt, a client's retry) succeeds.
pub async fn connect_any(url: &str, acquire_timeout: Duration) -> Result<AnyPool, sqlx::Error> {
    sqlx::any::install_default_drivers();
    AnyPoolOptions::new()
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(false)
        .connect(url)
        .await
}

/// What [`request_redrive`] asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedriveRequest {
    /// Parked events their consumers will apply again.
    pub requested: u64,
    /// Parked events that cannot be (parked before events were kept whole, or messages that
    /// were not readable events): they stay parked, for the operator to look at.
    pub not_redrivable: u64,
}

/// Asks the consumers of the database `db` (only `consumer`, when given) to apply their parked
/// events again: what an operator runs once the fix of what made them fail is deployed. Each
/// running consumer applies its own within `redrive_poll`, each event once (through its
/// inbox), and unparks it; one that fails again stays parked with its new error.
pub async fn request_redrive(
    db: &AnyPool,
    consumer: Option<&ConsumerName>,
) -> Result<RedriveRequest, sqlx::Error> {
    let mut conn = db.acquire().await?;
    let (requested, not_redrivable) =
        inbox::request_redrive(&mut conn, consumer.map(ConsumerName::as_str)).await?;
    Ok(RedriveRequest {
        requested,
        not_redrivable,
    })
}

/// How a consumer batches and retries, whatever its source.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    /// Most events applied in one transaction.
    pub batch_size: usize,
    /// Attempts of a failing event before it is parked.
    pub max_attempts: u32,
    /// Wait before attempt n+1 of a failing event is `retry_delays[n-1]` (the last entry
    /// repeats).
    pub retry_delays: Vec<Duration>,
    /// Back-off while the consumer's database or its source is unavailable, from `retry_min`
    /// doubling up to `retry_max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// How often the consumer looks for parked events an operator asked to re-drive
    /// ([`inbox::request_redrive`], `minzheng redrive`).
    pub redrive_poll: Duration,
}

impl Default for ConsumerSettings {
    fn default() -> Self {
        Self {
            batch_size: 256,
            max_attempts: 8,
            retry_delays: [1, 5, 15, 30, 60, 120]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            retry_min: Duration::from_millis(100),
            retry_max: Duration::from_secs(10),
            redrive_poll: Duration::from_secs(5),
        }
    }
}

impl ConsumerSettings {
    /// The wait after failed attempt number `attempt` (1-based).
    fn retry_delay(&self, attempt: u32) -> Duration {
        let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
        self.retry_delays
            .get(index)
            .or(self.retry_delays.last())
            .copied()
            .unwrap_or(Duration::from_secs(1))
    }
}

/// Where a consumer's events come from.
#[derive(Debug, Clone)]
pub enum Source {
    // Boxed: the NATS client and settings dwarf the feed's store handle.
    JetStream(Box<JetStreamSource>),
    Feed(FeedSource),
}

impl From<JetStreamSource> for Source {
    fn from(source: JetStreamSource) -> Self {
        Self::JetStream(Box::new(source))
    }
}

impl From<FeedSource> for Source {
    fn from(source: FeedSource) -> Self {
        Self::Feed(source)
    }
}

/// A point where a test makes the consumer stop as if its process had crashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerFault {
    /// After the first batch's transaction committed, before its messages are acknowledged.
    StopAfterCommit,
}

/// What a consumer has done so far, for tests and health checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumerState {
    /// Events handed to the projection and committed.
    pub applied: u64,
    /// Events skipped because the inbox had them already.
    pub redelivered: u64,
    /// Events the projection does not handle ([`Projection::handles`]), acknowledged untouched.
    pub ignored: u64,
    /// Events parked after repeated failures.
    pub parked: u64,
}

/// Why a consumer stopped, or could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error(transparent)]
    InvalidName(#[from] NamingError),
    #[error("consumer stopped by the injected fault {0:?}")]
    InjectedFault(ConsumerFault),
    #[error("catch_up needs an embedded feed source")]
    NotAFeed,
    #[error("producer's event store: {0}")]
    Store(#[from] StoreError),
    #[error("consumer database: {0}")]
    Database(#[from] sqlx::Error),
}

/// A projection fed from a source, with an inbox in its own database.
#[derive(Debug)]
pub struct Consumer {
    core: Core,
    source: Source,
}

impl Consumer {
    /// A consumer applying `source`'s events to `projection` in `db` (a database the event
    /// store's migrations have set up: it needs `mz_inbox`, `mz_parked` and `mz_checkpoints`).
    pub fn new(
        projection: Arc<dyn Projection>,
        db: AnyPool,
        source: impl Into<Source>,
    ) -> Result<Self, ConsumerError> {
        let name = ConsumerName::parse(projection.name())?;
        Ok(Self {
            core: Core {
                metrics: ConsumerMetrics::new(name.as_str()),
                name,
                projection,
                db,
                settings: ConsumerSettings::default(),
                fault: None,
                state: Arc::new(watch::Sender::new(ConsumerState::default())),
            },
            source: source.into(),
        })
    }

    pub fn with_settings(mut self, settings: ConsumerSettings) -> Self {
        self.core.settings = settings;
        self
    }

    /// Makes the consumer stop at `fault` (returning [`ConsumerError::InjectedFault`]) as if it
    /// had crashed there. For crash tests only.
    pub fn inject_fault(mut self, fault: ConsumerFault) -> Self {
        self.core.fault = Some(fault);
        self
    }

    pub fn name(&self) -> &ConsumerName {
        &self.core.name
    }

    /// Follows what the consumer has done.
    pub fn watch(&self) -> watch::Receiver<ConsumerState> {
        self.core.state.subscribe()
    }

    /// Runs until `cancel` fires: then finishes the batch in hand (commit, acknowledge) and
    /// returns `Ok`. Source and database failures are retried, never returned.
    pub async fn run(self, cancel: CancellationToken) -> Result<(), ConsumerError> {
        let span = info_span!("consumer", consumer = %self.core.name);
        // Re-driving stops with the consumer, however it stops (an injected fault included).
        let redriving = cancel.child_token();
        let consume = async {
            let consumed = match &self.source {
                Source::JetStream(source) => source.run(&self.core, &cancel).await,
                Source::Feed(source) => source.run(&self.core, &cancel, false).await.map(|_| ()),
            };
            redriving.cancel();
            consumed
        };
        let both = async { tokio::join!(consume, self.core.redrive_while_running(&redriving)) };
        let (consumed, ()) = both.instrument(span).await;
        consumed
    }

    /// Embedded feed only: applies everything the producer's `read_all` shows now, then
    /// returns how many events were read. Lets tests and tools wait for a projection
    /// deterministically. Failures to read the producer's store or the feed's cursor are
    /// returned; the consumer database being busy or away is retried as in [`Consumer::run`],
    /// and failing events are retried and parked as there.
    ///
    /// On PostgreSQL a committed event becomes visible to `read_all` only once every older
    /// transaction has ended, so "now" can trail the latest commit by a moment.
    pub async fn catch_up(&self) -> Result<u64, ConsumerError> {
        match &self.source {
            Source::Feed(source) => {
                source
                    .run(&self.core, &CancellationToken::new(), true)
                    .await
            }
            Source::JetStream(_) => Err(ConsumerError::NotAFeed),
        }
    }
}

/// What applying a batch did.
#[derive(Debug, Clone, Copy, Default)]
struct Applied {
    applied: u64,
    redelivered: u64,
    ignored: u64,
}

/// Why applying a batch failed.
#[derive(Debug)]
enum ApplyError {
    /// The database (or something it depends on) is unavailable: retry later, the events are
    /// not at fault.
    Unavailable(anyhow::Error),
    /// The projection refused an event.
    Handler(anyhow::Error),
}

/// The result of applying with retries.
#[derive(Debug)]
enum Outcome {
    Applied,
    Failed(anyhow::Error),
    Cancelled,
}

/// Everything a consumer has apart from its source.
#[derive(Debug)]
struct Core {
    name: ConsumerName,
    projection: Arc<dyn Projection>,
    db: AnyPool,
    settings: ConsumerSettings,
    fault: Option<ConsumerFault>,
    state: Arc<watch::Sender<ConsumerState>>,
    metrics: ConsumerMetrics,
}

impl std::fmt::Debug for dyn Projection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Projection({})", self.name())
    }
}

impl Core {
    /// Applies `events` in one transaction: inbox first, then the projection with the new
    /// events only, then `cursor` (the feed's) when given, then commit. Events the projection
    /// does not handle stay out of it; with nothing else and no cursor there is no transaction.
    async fn apply_once(
        &self,
        events: &[RecordedEvent],
        cursor: Option<(&str, Cursor)>,
    ) -> Result<Applied, ApplyError> {
        let handled: Cow<'_, [RecordedEvent]> = if events.iter().all(|e| self.projection.handles(e))
        {
            Cow::Borrowed(events)
        } else {
            Cow::Owned(
                events
                    .iter()
                    .filter(|e| self.projection.handles(e))
                    .cloned()
                    .collect(),
            )
        };
        let ignored = (events.len() - handled.len()) as u64;
        if handled.is_empty() && cursor.is_none() {
            self.metrics.ignored.add(ignored, &self.metrics.attrs());
            self.state.send_modify(|s| s.ignored += ignored);
            return Ok(Applied {
                applied: 0,
                redelivered: 0,
                ignored,
            });
        }
        let events = &*handled;
        self.projection.act(events).await.map_err(|error| {
            if is_transient(&error) {
                ApplyError::Unavailable(error)
            } else {
                ApplyError::Handler(error)
            }
        })?;
        let mut tx = self.db.begin().await.map_err(unavailable)?;
        let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
        let mut claimed = inbox::claim(&mut tx, self.name.as_str(), &ids)
            .await
            .map_err(unavailable)?;
        // `remove` hands each new id out once, so an event that appears twice in one batch (a
        // duplicate in the stream) is applied once.
        let fresh: Vec<RecordedEvent> = events
            .iter()
            .filter(|e| claimed.remove(&e.id))
            .cloned()
            .collect();
        if !fresh.is_empty() {
            self.projection
                .apply_batch(&mut tx, &fresh)
                .await
                .map_err(|error| {
                    if is_transient(&error) {
                        ApplyError::Unavailable(error)
                    } else {
                        ApplyError::Handler(error)
                    }
                })?;
        }
        if let Some((name, cursor)) = cursor {
            inbox::save_cursor(&mut tx, name, cursor)
                .await
                .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)?;
        if !fresh.is_empty() {
            self.projection.committed(&fresh);
        }
        let applied = Applied {
            applied: fresh.len() as u64,
            redelivered: (events.len() - fresh.len()) as u64,
            ignored,
        };
        let attrs = self.metrics.attrs();
        self.metrics.applied.add(applied.applied, &attrs);
        self.metrics.redelivered.add(applied.redelivered, &attrs);
        self.metrics.ignored.add(applied.ignored, &attrs);
        self.metrics.batches.add(1, &attrs);
        self.state.send_modify(|s| {
            s.applied += applied.applied;
            s.redelivered += applied.redelivered;
            s.ignored += applied.ignored;
        });
        Ok(applied)
    }

    /// Applies `events`, retrying while the database is unavailable (the JetStream source keeps
    /// the messages' ack deadline extended meanwhile).
    async fn apply(
        &self,
        events: &[RecordedEvent],
        cursor: Option<(&str, Cursor)>,
        cancel: &CancellationToken,
    ) -> Outcome {
        let mut retry = self.retry();
        loop {
            match self.apply_once(events, cursor).await {
                Ok(_) => return Outcome::Applied,
                Err(ApplyError::Handler(error)) => {
                    self.metrics.error("handler");
                    return Outcome::Failed(error);
                }
                Err(ApplyError::Unavailable(error)) => {
                    self.metrics.error("database");
                    warn!(error = %error, events = events.len(), "consumer database unavailable, retrying");
                    if !crate::relay::pause(&mut retry, cancel).await {
                        return Outcome::Cancelled;
                    }
                }
            }
        }
    }

    /// Until `cancel` fires, applies the parked events an operator asked to re-drive, every
    /// `redrive_poll`: each once, through the inbox (an event applied before, by a run that
    /// stopped before unparking it, is only unparked), in its own transaction; unparked once
    /// applied; left parked, with its new error and the request cleared, when it fails again.
    async fn redrive_while_running(&self, cancel: &CancellationToken) {
        loop {
            self.redrive(cancel).await;
            tokio::select! {
                () = tokio::time::sleep(self.settings.redrive_poll) => {}
                () = cancel.cancelled() => return,
            }
        }
    }

    async fn redrive(&self, cancel: &CancellationToken) {
        const AT_ONCE: usize = 100;
        let name = self.name.as_str();
        let requested = async {
            let mut conn = self.db.acquire().await?;
            inbox::redrives(&mut conn, name, AT_ONCE).await
        }
        .await;
        let events = match requested {
            Ok(events) => events,
            Err(error) => {
                // The next look retries; parked events wait.
                debug!(%error, "consumer cannot look for re-driven events");
                return;
            }
        };
        for event in events {
            let failure = match self.apply(std::slice::from_ref(&event), None, cancel).await {
                Outcome::Cancelled => return,
                Outcome::Applied => None,
                Outcome::Failed(error) => Some(format!("{error:#}")),
            };
            let settled = async {
                let mut conn = self.db.acquire().await?;
                match &failure {
                    None => inbox::unpark(&mut conn, name, event.id).await,
                    Some(error) => inbox::redrive_failed(&mut conn, name, event.id, error).await,
                }
            }
            .await;
            match (failure, settled) {
                // Applied or failed, but not yet recorded so: the next look settles it (once:
                // the inbox holds an applied event).
                (_, Err(error)) => {
                    warn!(%error, event_id = %event.id, "consumer cannot settle a re-driven event");
                }
                (None, Ok(())) => {
                    self.state
                        .send_modify(|s| s.parked = s.parked.saturating_sub(1));
                    info!(event_id = %event.id, event_type = %event.event_type, "re-driven event applied");
                }
                (Some(error), Ok(())) => warn!(
                    event_id = %event.id,
                    event_type = %event.event_type,
                    %error,
                    "re-driven event failed again; it stays parked"
                ),
            }
        }
    }

    /// Records a parked event (and the feed's cursor past it) in one transaction, retrying while
    /// the database is unavailable; false when cancelled first.
    async fn park(
        &self,
        parked: &inbox::ParkedEvent<'_>,
        cursor: Option<(&str, Cursor)>,
        cancel: &CancellationToken,
    ) -> bool {
        let mut retry = self.retry();
        loop {
            let result: Result<(), sqlx::Error> = async {
                let mut tx = self.db.begin().await?;
                inbox::park(&mut tx, self.name.as_str(), parked).await?;
                if let Some((name, cursor)) = cursor {
                    inbox::save_cursor(&mut tx, name, cursor).await?;
                }
                tx.commit().await
            }
            .await;
            match result {
                Ok(()) => break,
                Err(error) => {
                    self.metrics.error("database");
                    warn!(%error, event_id = %parked.event_id, "consumer cannot park an event, retrying");
                    if !crate::relay::pause(&mut retry, cancel).await {
                        return false;
                    }
                }
            }
        }
        self.metrics.parked.add(1, &self.metrics.attrs());
        self.state.send_modify(|s| s.parked += 1);
        warn!(
            event_id = %parked.event_id,
            stream = %parked.stream_id,
            event_type = %parked.event_type,
            attempts = parked.attempts,
            "event parked after repeated failures"
        );
        true
    }

    fn retry(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::new()
            .with_min_delay(self.settings.retry_min)
            .with_max_delay(self.settings.retry_max)
            .without_max_times()
            .build()
    }
}

fn unavailable(error: sqlx::Error) -> ApplyError {
    ApplyError::Unavailable(error.into())
}

/// Whether a projection's error is the database being unavailable rather than the event being
/// refused: connection failures, shutdowns, serialisation failures, deadlocks and SQLite's
/// busy/locked codes anywhere in the error's chain.
fn is_transient(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<sqlx::Error>()
            .is_some_and(is_transient_sqlx)
    })
}

fn is_transient_sqlx(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // PostgreSQL: connection exception, operator intervention, insufficient resources,
            // serialization failure, deadlock. SQLite: BUSY and LOCKED with their extended codes.
            code.starts_with("08")
                || code.starts_with("57P")
                || code.starts_with("53")
                || code == "40001"
                || code == "40P01"
                || matches!(&*code, "5" | "6" | "261" | "262" | "517" | "773")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_repeat_the_last_entry() {
        let settings = ConsumerSettings {
            retry_delays: vec![Duration::from_millis(10), Duration::from_millis(20)],
            ..ConsumerSettings::default()
        };
        assert_eq!(settings.retry_delay(1), Duration::from_millis(10));
        assert_eq!(settings.retry_delay(2), Duration::from_millis(20));
        assert_eq!(settings.retry_delay(9), Duration::from_millis(20));
    }

    #[test]
    fn an_event_span_continues_the_trace_the_event_was_recorded_in() {
        use bytes::Bytes;
        use minzheng_eventstore::{Metadata, StreamId};
        use opentelemetry::trace::TracerProvider as _;
        use tracing_subscriber::layer::SubscriberExt;

        // `TraceContext::of` reads through the global propagator, which `init` would install.
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        let event = RecordedEvent {
            id: Uuid::now_v7(),
            stream: StreamId::new("widget", "w1").expect("valid stream id"),
            stream_version: 1,
            position: 1,
            cursor: Cursor { tx: 0, position: 1 },
            event_type: "example.v1.WidgetCreated".to_owned(),
            schema_version: 1,
            payload: Bytes::new(),
            metadata: Metadata {
                traceparent: Some(
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
                ),
                ..Metadata::default()
            },
            recorded_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        tracing::subscriber::with_default(subscriber, || {
            let span = event_span("widgets", &event);
            let context = TraceContext::of(&span);
            let parent = context.traceparent.expect("the span is traced");
            assert!(
                parent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
                "same trace as the recorded event: {parent}"
            );
            assert!(!parent.contains("00f067aa0ba902b7"), "a span of its own");
        });
    }

    #[test]
    fn connection_failures_are_transient_but_refusals_are_not() {
        let io = anyhow::Error::from(sqlx::Error::Io(std::io::Error::other("reset")));
        assert!(is_transient(&io.context("applying")));
        let refused = anyhow::anyhow!("unknown widget");
        assert!(!is_transient(&refused));
        let decode = anyhow::Error::from(sqlx::Error::RowNotFound);
        assert!(!is_transient(&decode));
    }
}
