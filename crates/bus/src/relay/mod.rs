//! The outbox relay: reads one service's event store in commit order and publishes every event
//! to the service's JetStream stream, after it committed, in store order, each exactly once.
//!
//! The loop is: read a batch after the checkpoint, check the lease, publish the whole batch with
//! pipelined asynchronous publishes (send all, then await the acks in order), and move the
//! checkpoint only once every publish in the batch was acknowledged. A busy relay stores it at
//! most every `checkpoint_interval`, an idle or stopping one at once: it is where a term starts
//! only when the stream's end names no stored event (see below), so a stored checkpoint behind
//! the stream costs nothing, and one committed write per batch would.
//!
//! Exactly once does not rest on JetStream's duplicate window (a relay stalled between publish
//! and checkpoint can outlive any window): before it publishes, at the start of each term as
//! leader and after any batch whose outcome is uncertain, the relay resynchronises with the
//! stream (`tail`): it reads the stream's last message and continues after that event, whatever
//! its checkpoint says. Every publish carries `Nats-Expected-Last-Sequence`, the sequence it
//! must follow — the first of a batch included —, so JetStream refuses a publish that would land
//! after a gap (a lost predecessor of a pipelined batch) or after someone else's message (a
//! second relay whose lease expired unseen); the refusal fails the batch and sends the relay
//! back to resynchronise. `Nats-Msg-Id` (the event id) stays, for the window's extra safety and
//! for consumers.
//!
//! When idle the relay polls with a short, growing interval rather than waiting for a
//! notification (per-row `NOTIFY` serialises commits; see `DESIGN.md`, "Known pitfalls"), and
//! reads again at once whenever an append of its own process ends
//! ([`minzheng_eventstore::EventStore::append_ended`]): an event is published a round trip
//! after its commit, and an event read past because an earlier transaction was still open is
//! read as soon as that transaction ends. NATS
//! and store failures are logged and retried with back-off; nothing here gives up while the
//! process runs. A relay that has been failing for longer than `unready_after` reports why in
//! [`RelayState::trouble`] (the host turns that into the service's readiness) until a batch goes
//! through. On cancellation the relay publishes up to the head it sees at that moment,
//! checkpoints and returns.
//!
//! The relay knows nothing of what events mean, of consumers, or of which database backs the
//! store beyond the [`Lease`] it is handed.

mod tail;

use std::{
    collections::HashSet,
    sync::Arc,
    time::{Duration, Instant},
};

use async_nats::{
    header::NATS_EXPECTED_LAST_SEQUENCE,
    jetstream::{self, context::PublishError},
};
use backon::{BackoffBuilder, ExponentialBuilder};
use minzheng_eventstore::{Cursor, RecordedEvent, SharedStore};
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info, info_span, warn};

use crate::{
    envelope::{self, EncodeError},
    lease::Lease,
    metrics::RelayMetrics,
    naming::{BusNaming, NamingError, ShareNaming},
    streams::{self, StreamSettings},
};

/// How a relay paces itself.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Most events read and published per batch.
    pub batch_size: usize,
    /// First wait after a read that found nothing new; it doubles up to `max_idle_poll` while
    /// the store stays quiet. Small, because it bounds the lag of the first event after a pause.
    pub idle_poll: Duration,
    pub max_idle_poll: Duration,
    /// How long to wait for JetStream to acknowledge a publish (and for API requests).
    pub publish_timeout: Duration,
    /// Back-off after a NATS or store failure, from `retry_min` doubling up to `retry_max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// How often a standby relay tries to take the lease.
    pub standby_poll: Duration,
    /// How often an idle leader confirms it still holds the lease (a busy one checks before
    /// every batch).
    pub lease_check_interval: Duration,
    /// How often a busy relay stores its checkpoint; an idle or stopping one stores it at once.
    /// The checkpoint only says where to look when the stream's end names no stored event
    /// (every term starts from the stream's end, see `tail`), so storing it after every batch
    /// would spend a committed write per batch for nothing.
    pub checkpoint_interval: Duration,
    /// How long the relay fails without a success before it reports itself in trouble
    /// ([`RelayState::trouble`]); shorter blips (a NATS restart) only log.
    pub unready_after: Duration,
    /// How the service's stream is set up.
    pub stream: StreamSettings,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch_size: 500,
            idle_poll: Duration::from_millis(5),
            max_idle_poll: Duration::from_millis(50),
            publish_timeout: Duration::from_secs(5),
            retry_min: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
            standby_poll: Duration::from_secs(1),
            lease_check_interval: Duration::from_secs(1),
            checkpoint_interval: Duration::from_secs(1),
            unready_after: Duration::from_secs(10),
            stream: StreamSettings::default(),
        }
    }
}

/// A point where a test makes the relay stop as if its process had crashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayFault {
    /// After reading the first non-empty batch, before publishing any of it.
    StopAfterRead,
    /// After the first batch was published and acknowledged, before its checkpoint is saved.
    StopAfterPublish,
}

/// What a relay is doing, for tests, health checks and benchmarks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayState {
    /// Whether this relay holds the lease (is the one publishing).
    pub leader: bool,
    /// The last saved checkpoint.
    pub checkpoint: Cursor,
    /// Events this relay published.
    pub published: u64,
    /// Why the relay cannot publish, once it has failed for longer than
    /// [`RelayConfig::unready_after`]; cleared by the next batch that goes through (or when
    /// there is nothing left to publish).
    pub trouble: Option<String>,
}

/// Why a relay stopped other than by cancellation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    #[error("relay stopped by the injected fault {0:?}")]
    InjectedFault(RelayFault),
}

/// A failed batch publish; the relay resynchronises and retries.
#[derive(Debug, thiserror::Error)]
enum BatchError {
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error("publish failed: {0}")]
    Publish(#[from] PublishError),
    #[error(transparent)]
    AgencyStream(#[from] streams::StreamSetupError),
    #[error(
        "JetStream stored event {event_id} as sequence {actual}, not {expected}; resynchronising"
    )]
    OutOfLine {
        event_id: uuid::Uuid,
        expected: u64,
        actual: u64,
    },
}

/// How a term as leader ended.
enum Term {
    Stopped,
    LeaseLost,
}

/// What a relay publishes, and where.
#[derive(Debug, Clone)]
enum Route {
    /// The service's events on its own stream, but those of the category another relay shares
    /// out (`except`).
    Service { except: Option<String> },
    /// Only the events of `category`, whose streams are keyed by agency, on the share stream:
    /// the copies the service shares out (`ShareNaming`).
    Share {
        share: ShareNaming,
        category: String,
    },
}

impl Route {
    fn selects(&self, event: &RecordedEvent) -> bool {
        match self {
            Route::Service { except } => except
                .as_deref()
                .is_none_or(|category| event.stream.category() != category),
            Route::Share { category, .. } => event.stream.category() == category,
        }
    }
}

/// The outbox relay of one service's store.
#[derive(Debug)]
pub struct Relay {
    store: SharedStore,
    client: async_nats::Client,
    naming: BusNaming,
    route: Route,
    /// The agencies' streams this relay has ensured (share route only).
    agency_streams: HashSet<String>,
    lease: Box<dyn Lease>,
    config: RelayConfig,
    fault: Option<RelayFault>,
    state: Arc<watch::Sender<RelayState>>,
    metrics: RelayMetrics,
    /// Since when every attempt has failed; `None` while things work.
    failing_since: Option<Instant>,
}

impl Relay {
    /// A relay publishing `store`'s events under `naming` through `client`, publishing only
    /// while it holds `lease` (a [`crate::PgAdvisoryLease`] on PostgreSQL, [`crate::SoleRelay`]
    /// in embedded mode).
    pub fn new(
        store: SharedStore,
        client: async_nats::Client,
        naming: BusNaming,
        lease: impl Lease + 'static,
    ) -> Self {
        let metrics = RelayMetrics::new(naming.stream_name());
        Self {
            store,
            client,
            naming,
            route: Route::Service { except: None },
            agency_streams: HashSet::new(),
            lease: Box::new(lease),
            config: RelayConfig::default(),
            fault: None,
            state: Arc::new(watch::Sender::new(RelayState::default())),
            metrics,
            failing_since: None,
        }
    }

    /// A relay publishing only the copies a service shares out: the events of its streams of
    /// `category`, each keyed by the agency it is shared with, on that agency's subjects of
    /// the share stream (`ShareNaming`); it also creates each agency's own stream. The service's
    /// own relay leaves them out ([`Self::except_category`]).
    pub fn sharing(
        store: SharedStore,
        client: async_nats::Client,
        naming: BusNaming,
        category: &str,
        lease: impl Lease + 'static,
    ) -> Result<Self, NamingError> {
        let share = ShareNaming::with_prefix(naming.prefix())?;
        let mut relay = Self::new(store, client, naming, lease);
        relay.metrics = RelayMetrics::new(&share.stream_name());
        relay.route = Route::Share {
            share,
            category: category.to_owned(),
        };
        Ok(relay)
    }

    /// Leaves the events of `category` out of the service's stream: another relay
    /// ([`Self::sharing`]) publishes them.
    pub fn except_category(mut self, category: &str) -> Self {
        if let Route::Service { except } = &mut self.route {
            *except = Some(category.to_owned());
        }
        self
    }

    /// The JetStream stream this relay publishes to.
    pub fn stream_name(&self) -> String {
        match &self.route {
            Route::Service { .. } => self.naming.stream_name().to_owned(),
            Route::Share { share, .. } => share.stream_name(),
        }
    }

    /// Where in its store this relay records what it has published.
    pub fn checkpoint_name(&self) -> String {
        match &self.route {
            Route::Service { .. } => self.naming.relay_checkpoint(),
            Route::Share { share, .. } => format!("relay:{}", share.stream_name()),
        }
    }

    pub fn with_config(mut self, config: RelayConfig) -> Self {
        self.config = config;
        self
    }

    /// Makes the relay stop at `fault` (returning [`RelayError::InjectedFault`]) as if it had
    /// crashed there. For crash tests only.
    pub fn inject_fault(mut self, fault: RelayFault) -> Self {
        self.fault = Some(fault);
        self
    }

    /// Follows the relay's state.
    pub fn watch(&self) -> watch::Receiver<RelayState> {
        self.state.subscribe()
    }

    /// Runs until `cancel` fires (then publishes up to the current head, checkpoints and
    /// returns `Ok`) or an injected fault stops it.
    pub async fn run(mut self, cancel: CancellationToken) -> Result<(), RelayError> {
        let span = info_span!("relay", stream = %self.stream_name());
        async move {
            let js = jetstream::ContextBuilder::new()
                .timeout(self.config.publish_timeout)
                .build(self.client.clone());
            if !self.ensure_stream(&js, &cancel).await {
                return Ok(());
            }
            let result = loop {
                if !self.wait_for_lease(&cancel).await {
                    break Ok(());
                }
                info!("relay holds the lease");
                self.state.send_modify(|s| s.leader = true);
                let term = self.lead(&js, &cancel).await;
                self.state.send_modify(|s| s.leader = false);
                match term {
                    Ok(Term::Stopped) => break Ok(()),
                    Ok(Term::LeaseLost) => {
                        self.metrics.error("lease");
                        warn!("relay lost the lease, standing by");
                    }
                    Err(fault) => break Err(fault),
                }
            };
            self.lease.release().await;
            info!("relay stopped");
            result
        }
        .instrument(span)
        .await
    }

    /// Creates or reconciles the stream, retrying until it works; false when cancelled first.
    async fn ensure_stream(&mut self, js: &jetstream::Context, cancel: &CancellationToken) -> bool {
        let mut retry = self.retry();
        loop {
            let settings = &self.config.stream;
            let ensured = match &self.route {
                Route::Service { .. } => {
                    streams::ensure_service_stream(js, &self.naming, settings).await
                }
                Route::Share { share, .. } => {
                    streams::ensure_share_stream(js, share, settings).await
                }
            };
            match ensured {
                Ok(()) => return true,
                Err(error) => {
                    self.failed("nats", &error);
                    if !pause(&mut retry, cancel).await {
                        return false;
                    }
                }
            }
        }
    }

    /// Stands by until the lease is ours; false when cancelled first.
    async fn wait_for_lease(&mut self, cancel: &CancellationToken) -> bool {
        let mut announced = false;
        loop {
            if cancel.is_cancelled() {
                return false;
            }
            match self.lease.try_acquire().await {
                Ok(true) => return true,
                Ok(false) if !announced => {
                    announced = true;
                    // Another replica publishes: nothing is wrong with this one.
                    self.recovered();
                    info!("relay standing by: another relay holds the lease");
                }
                Ok(false) => {}
                Err(error) => self.failed("lease", &error),
            }
            tokio::select! {
                () = tokio::time::sleep(self.config.standby_poll) => {}
                () = cancel.cancelled() => return false,
            }
        }
    }

    /// Publishes while holding the lease.
    async fn lead(
        &mut self,
        js: &jetstream::Context,
        cancel: &CancellationToken,
    ) -> Result<Term, RelayError> {
        let name = self.checkpoint_name();
        let mut retry = self.retry();
        let mut checkpoint = loop {
            match self.store.load_checkpoint(&name).await {
                Ok(cursor) => break cursor,
                Err(error) => {
                    self.failed("store", &error);
                    if !pause(&mut retry, cancel).await {
                        return Ok(Term::Stopped);
                    }
                }
            }
        };
        self.state.send_modify(|s| s.checkpoint = checkpoint);
        // The checkpoint as stored, and when it was.
        let (mut stored, mut stored_at) = (checkpoint, Instant::now());
        // The stream's last sequence as this relay knows it; `None` until resynchronised, and
        // again after any batch whose outcome is uncertain.
        let mut tail: Option<u64> = None;
        let mut drain_to: Option<Cursor> = None;
        let mut idle = self.config.idle_poll;
        let mut lease_checked = Instant::now();
        let mut appends = self.store.append_ended();
        loop {
            // Appends that end from here on wake an idle wait below.
            appends.mark_unchanged();
            if cancel.is_cancelled() && drain_to.is_none() {
                // Publish what is committed now, not what keeps arriving while we stop.
                match self.store.head().await {
                    Ok(head) => drain_to = Some(head),
                    Err(error) => {
                        warn!(%error, "relay stopping without flushing: store unavailable");
                        return Ok(Term::Stopped);
                    }
                }
            }
            if drain_to.is_some_and(|head| checkpoint >= head) {
                if checkpoint != stored
                    && let Err(error) = self.store.save_checkpoint(&name, checkpoint).await
                {
                    warn!(%error, "relay stopping without storing its checkpoint");
                }
                return Ok(Term::Stopped);
            }
            let batch = match self
                .store
                .read_all(checkpoint, self.config.batch_size)
                .await
            {
                Ok(batch) => batch,
                Err(error) => {
                    self.failed("store", &error);
                    if drain_to.is_some() || !pause(&mut retry, cancel).await {
                        return Ok(Term::Stopped);
                    }
                    continue;
                }
            };
            let idle_read = batch.events.is_empty();
            if !idle_read {
                idle = self.config.idle_poll;
                if self.fault == Some(RelayFault::StopAfterRead) {
                    return Err(RelayError::InjectedFault(RelayFault::StopAfterRead));
                }
                if !self.lease.is_held().await {
                    return Ok(Term::LeaseLost);
                }
                lease_checked = Instant::now();
                let Some(last_sequence) = tail else {
                    let (stream, source) = (self.stream_name(), self.naming.source());
                    match tail::resync(js, &stream, &source, self.store.as_ref(), checkpoint).await
                    {
                        Ok(found) => {
                            tail = Some(found.sequence);
                            if found.cursor != checkpoint {
                                info!(
                                    from = checkpoint.position,
                                    to = found.cursor.position,
                                    "relay resumes after the stream's last event, not its checkpoint"
                                );
                                checkpoint = found.cursor;
                                self.metrics.resyncs.add(1, &self.metrics.attrs());
                                // Stored with the next batch's checkpoint, or at once if idle.
                                self.state.send_modify(|s| s.checkpoint = checkpoint);
                            }
                        }
                        Err(error) => {
                            self.failed("resync", &error);
                            if drain_to.is_some() || !pause(&mut retry, cancel).await {
                                return Ok(Term::Stopped);
                            }
                        }
                    }
                    // Read again from where the stream really ends.
                    continue;
                };
                let selected: Vec<&RecordedEvent> = batch
                    .events
                    .iter()
                    .filter(|event| self.route.selects(event))
                    .collect();
                let last_sequence = match self.publish(js, &selected, last_sequence).await {
                    Ok(sequence) => sequence,
                    Err(error) => {
                        tail = None;
                        let kind = match error {
                            BatchError::Encode(_) => "encode",
                            BatchError::Publish(_)
                            | BatchError::OutOfLine { .. }
                            | BatchError::AgencyStream(_) => "nats",
                        };
                        self.failed(kind, &error);
                        if drain_to.is_some() {
                            warn!(
                                "relay stopping with unpublished events; the next relay resumes from the stream's end"
                            );
                            return Ok(Term::Stopped);
                        }
                        if !pause(&mut retry, cancel).await {
                            return Ok(Term::Stopped);
                        }
                        continue;
                    }
                };
                if self.fault == Some(RelayFault::StopAfterPublish) {
                    return Err(RelayError::InjectedFault(RelayFault::StopAfterPublish));
                }
                tail = Some(last_sequence);
                checkpoint = batch.next;
                self.record(&selected, checkpoint);
            }
            // Stored at once when idle, at most every `checkpoint_interval` when busy. Should
            // storing fail after a publish, the batch is in the stream, and the next term
            // starts from there.
            let due = if idle_read {
                checkpoint != stored
            } else {
                stored_at.elapsed() >= self.config.checkpoint_interval
            };
            if due {
                let draining = drain_to.is_some();
                match self
                    .store_checkpoint(&name, checkpoint, &mut retry, cancel, draining)
                    .await
                {
                    Stored::Yes => (stored, stored_at) = (checkpoint, Instant::now()),
                    Stored::ReadAgain => continue,
                    Stored::Stop => return Ok(Term::Stopped),
                }
            }
            if idle_read {
                if drain_to.is_some() {
                    return Ok(Term::Stopped);
                }
                self.recovered();
                if lease_checked.elapsed() >= self.config.lease_check_interval {
                    if !self.lease.is_held().await {
                        return Ok(Term::LeaseLost);
                    }
                    lease_checked = Instant::now();
                }
                tokio::select! {
                    () = tokio::time::sleep(idle) => {}
                    // An append of this process ended: read again at once. (A closed channel
                    // never resolves here; the poll goes on.)
                    Ok(()) = appends.changed() => {}
                    () = cancel.cancelled() => {}
                }
                idle = (idle * 2).min(self.config.max_idle_poll);
                continue;
            }
            retry = self.retry();
            self.recovered();
        }
    }

    /// Publishes `events` in order after stream sequence `after`, pipelined, and waits for
    /// every acknowledgement; returns the sequence of the last one.
    async fn publish(
        &mut self,
        js: &jetstream::Context,
        events: &[&RecordedEvent],
        after: u64,
    ) -> Result<u64, BatchError> {
        if events.is_empty() {
            return Ok(after);
        }
        self.ensure_agency_streams(js, events).await?;
        let span = info_span!("relay_batch", events = events.len());
        async move {
            let mut acks = Vec::with_capacity(events.len());
            for (expected_last, event) in (after..).zip(events) {
                let envelope::Envelope {
                    subject,
                    mut headers,
                    payload,
                } = self.envelope(event)?;
                headers.insert(NATS_EXPECTED_LAST_SEQUENCE, expected_last.to_string());
                let producer = publish_span(&subject, event, payload.len());
                let sent = js
                    .publish_with_headers(subject, headers, payload)
                    .instrument(producer.clone())
                    .await
                    .inspect_err(|_| failed_span(&producer))?;
                acks.push((sent, producer));
            }
            let mut last = after;
            for (event, (ack, producer)) in events.iter().zip(acks) {
                // The PRODUCER span ends when the stream acknowledged (or refused) the event.
                let ack = ack
                    .into_future()
                    .instrument(producer.clone())
                    .await
                    .inspect_err(|_| failed_span(&producer))?;
                // A duplicate (the window caught a re-publish) or any other sequence means the
                // stream did not end where this relay thought: resynchronise.
                if ack.duplicate || ack.sequence != last + 1 {
                    failed_span(&producer);
                    return Err(BatchError::OutOfLine {
                        event_id: event.id,
                        expected: last + 1,
                        actual: ack.sequence,
                    });
                }
                last = ack.sequence;
            }
            debug!(last_sequence = last, "relay batch acknowledged");
            Ok(last)
        }
        .instrument(span)
        .await
    }

    /// The message of `event` on this relay's route.
    fn envelope(&self, event: &RecordedEvent) -> Result<envelope::Envelope, EncodeError> {
        match &self.route {
            Route::Service { .. } => envelope::encode(&self.naming, event),
            Route::Share { share, .. } => {
                let subject = share
                    .subject(event.stream.key(), &event.event_type)
                    .map_err(|_| EncodeError::InvalidAgency { event_id: event.id })?;
                envelope::encode_on(&self.naming, event, subject)
            }
        }
    }

    /// Creates the streams of the agencies `events` are shared with, once per relay.
    async fn ensure_agency_streams(
        &mut self,
        js: &jetstream::Context,
        events: &[&RecordedEvent],
    ) -> Result<(), BatchError> {
        let Route::Share { share, .. } = &self.route else {
            return Ok(());
        };
        for event in events {
            let agency = event.stream.key();
            if self.agency_streams.contains(agency) {
                continue;
            }
            streams::ensure_agency_stream(js, share, agency, &self.config.stream).await?;
            self.agency_streams.insert(agency.to_owned());
        }
        Ok(())
    }

    fn record(&self, events: &[&RecordedEvent], checkpoint: Cursor) {
        let attrs = self.metrics.attrs();
        let count = events.len() as u64;
        self.metrics.published.add(count, &attrs);
        self.metrics.batches.add(1, &attrs);
        if let Some(last) = events.last() {
            let lag = (OffsetDateTime::now_utc() - last.recorded_at).as_seconds_f64();
            self.metrics.lag.record(lag.max(0.0), &attrs);
        }
        self.state.send_modify(|s| {
            s.checkpoint = checkpoint;
            s.published += count;
        });
    }

    /// Stores `checkpoint`; a failure is reported and its back-off waited out.
    async fn store_checkpoint(
        &mut self,
        name: &str,
        checkpoint: Cursor,
        retry: &mut impl Iterator<Item = Duration>,
        cancel: &CancellationToken,
        draining: bool,
    ) -> Stored {
        match self.store.save_checkpoint(name, checkpoint).await {
            Ok(()) => Stored::Yes,
            Err(error) => {
                self.failed("store", &error);
                if draining || !pause(retry, cancel).await {
                    Stored::Stop
                } else {
                    Stored::ReadAgain
                }
            }
        }
    }

    /// Counts and logs a failure; once failures have lasted `unready_after`, reports it as the
    /// relay's trouble.
    fn failed(&mut self, kind: &'static str, error: &dyn std::fmt::Display) {
        self.metrics.error(kind);
        warn!(%error, kind, "relay cannot publish");
        let since = *self.failing_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= self.config.unready_after {
            let trouble = format!("the outbox relay cannot publish ({kind}): {error}");
            self.state.send_if_modified(|s| {
                let changed = s.trouble.as_ref() != Some(&trouble);
                s.trouble = Some(trouble);
                changed
            });
        }
    }

    /// Clears a reported trouble after a success.
    fn recovered(&mut self) {
        if self.failing_since.take().is_some() {
            self.state.send_if_modified(|s| s.trouble.take().is_some());
        }
    }

    fn retry(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::new()
            .with_min_delay(self.config.retry_min)
            .with_max_delay(self.config.retry_max)
            .without_max_times()
            .build()
    }
}

/// What became of storing the checkpoint.
enum Stored {
    Yes,
    /// It failed, and the back-off is over: read again.
    ReadAgain,
    /// It failed while stopping, or the relay was cancelled meanwhile.
    Stop,
}

/// Sleeps for the next back-off delay; false when cancelled first.
pub(crate) async fn pause(
    retry: &mut impl Iterator<Item = Duration>,
    cancel: &CancellationToken,
) -> bool {
    let delay = retry.next().unwrap_or(Duration::from_secs(1));
    tokio::select! {
        () = tokio::time::sleep(delay) => true,
        () = cancel.cancelled() => false,
    }
}

/// The PRODUCER span of publishing `event` on `subject`: a child of the span that recorded the
/// event (its stored W3C trace context), with OpenTelemetry's messaging attributes, so that one
/// trace shows a command, its publication and every consumer's handling of it. It ends when the
/// stream acknowledges the message. No attribute carries personal data: the subject and the
/// stream are built from ids and codes, never from free text.
fn publish_span(subject: &str, event: &RecordedEvent, size: usize) -> tracing::Span {
    let span = info_span!(
        "publish",
        otel.name = %format_args!("publish {subject}"),
        otel.kind = "producer",
        otel.status_code = tracing::field::Empty,
        messaging.system = "nats",
        messaging.operation.type = "send",
        messaging.operation.name = "publish",
        messaging.destination.name = %subject,
        messaging.message.id = %event.id,
        messaging.message.body.size = size,
        event_type = %event.event_type,
        stream = %event.stream,
    );
    minzheng_telemetry::TraceContext {
        traceparent: event.metadata.traceparent.clone(),
        tracestate: event.metadata.tracestate.clone(),
    }
    .set_as_parent_of(&span);
    span
}

/// Marks a PRODUCER span failed (its publish was refused or not acknowledged).
fn failed_span(span: &tracing::Span) {
    span.record("otel.status_code", "ERROR");
}
