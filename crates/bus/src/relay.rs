//! The outbox relay: reads one service's event store in commit order and publishes every event
//! to the service's JetStream stream, after it committed, in store order.
//!
//! The loop is: read a batch after the checkpoint, check the lease, publish the whole batch with
//! pipelined asynchronous publishes (send all, then await the acks in order), and save the
//! checkpoint only once every publish in the batch was acknowledged. A crash anywhere in between
//! makes the next relay re-publish from the checkpoint; JetStream drops the repeats by
//! `Nats-Msg-Id` (the event id) within the stream's duplicate window.
//!
//! Pipelining must not reorder: if one publish is lost (say the connection dropped) while a
//! later one of the same batch gets through, re-publishing from the checkpoint would store the
//! lost event after its successor. So every publish of a batch but the first carries
//! `Nats-Expected-Last-Msg-Id` naming its predecessor, and JetStream refuses anything that
//! would land after a gap; the refusal fails the batch and the relay retries it from the
//! checkpoint.
//!
//! When idle the relay polls with a short, growing interval rather than waiting for a
//! notification (per-row `NOTIFY` serialises commits; see `DESIGN.md`, "Known pitfalls"). NATS
//! and store failures are logged and retried with back-off; nothing here gives up while the
//! process runs. On cancellation the relay publishes up to the head it sees at that moment,
//! checkpoints and returns.
//!
//! The relay knows nothing of what events mean, of consumers, or of which database backs the
//! store beyond the [`Lease`] it is handed.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_nats::{
    header::NATS_EXPECTED_LAST_MESSAGE_ID,
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
    naming::BusNaming,
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
    /// How the service's stream keeps events.
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
    /// Events this relay published (including ones JetStream reported as duplicates).
    pub published: u64,
}

/// Why a relay stopped other than by cancellation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    #[error("relay stopped by the injected fault {0:?}")]
    InjectedFault(RelayFault),
}

/// A failed batch publish; the batch is retried from the checkpoint.
#[derive(Debug, thiserror::Error)]
enum BatchError {
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error("publish failed: {0}")]
    Publish(#[from] PublishError),
}

/// How a term as leader ended.
enum Term {
    Stopped,
    LeaseLost,
}

/// The outbox relay of one service's store.
#[derive(Debug)]
pub struct Relay {
    store: SharedStore,
    client: async_nats::Client,
    naming: BusNaming,
    lease: Box<dyn Lease>,
    config: RelayConfig,
    fault: Option<RelayFault>,
    state: Arc<watch::Sender<RelayState>>,
    metrics: RelayMetrics,
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
            lease: Box::new(lease),
            config: RelayConfig::default(),
            fault: None,
            state: Arc::new(watch::Sender::new(RelayState::default())),
            metrics,
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
        let span = info_span!("relay", stream = %self.naming.stream_name());
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

    /// Creates or updates the stream, retrying until it works; false when cancelled first.
    async fn ensure_stream(&self, js: &jetstream::Context, cancel: &CancellationToken) -> bool {
        let mut retry = self.retry();
        loop {
            match streams::ensure_service_stream(js, &self.naming, &self.config.stream).await {
                Ok(()) => return true,
                Err(error) => {
                    self.metrics.error("nats");
                    warn!(%error, "relay cannot set up its stream");
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
                    info!("relay standing by: another relay holds the lease");
                }
                Ok(false) => {}
                Err(error) => {
                    self.metrics.error("lease");
                    warn!(%error, "relay cannot ask for the lease");
                }
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
        let name = self.naming.relay_checkpoint();
        let mut retry = self.retry();
        let mut checkpoint = loop {
            match self.store.load_checkpoint(&name).await {
                Ok(cursor) => break cursor,
                Err(error) => {
                    self.metrics.error("store");
                    warn!(%error, "relay cannot load its checkpoint");
                    if !pause(&mut retry, cancel).await {
                        return Ok(Term::Stopped);
                    }
                }
            }
        };
        self.state.send_modify(|s| s.checkpoint = checkpoint);
        let mut drain_to: Option<Cursor> = None;
        let mut idle = self.config.idle_poll;
        let mut lease_checked = Instant::now();
        loop {
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
                return Ok(Term::Stopped);
            }
            let batch = match self
                .store
                .read_all(checkpoint, self.config.batch_size)
                .await
            {
                Ok(batch) => batch,
                Err(error) => {
                    self.metrics.error("store");
                    warn!(%error, "relay read failed");
                    if drain_to.is_some() || !pause(&mut retry, cancel).await {
                        return Ok(Term::Stopped);
                    }
                    continue;
                }
            };
            if batch.events.is_empty() {
                if drain_to.is_some() {
                    return Ok(Term::Stopped);
                }
                if lease_checked.elapsed() >= self.config.lease_check_interval {
                    if !self.lease.is_held().await {
                        return Ok(Term::LeaseLost);
                    }
                    lease_checked = Instant::now();
                }
                tokio::select! {
                    () = tokio::time::sleep(idle) => {}
                    () = cancel.cancelled() => {}
                }
                idle = (idle * 2).min(self.config.max_idle_poll);
                continue;
            }
            idle = self.config.idle_poll;
            if self.fault == Some(RelayFault::StopAfterRead) {
                return Err(RelayError::InjectedFault(RelayFault::StopAfterRead));
            }
            if !self.lease.is_held().await {
                return Ok(Term::LeaseLost);
            }
            lease_checked = Instant::now();
            let duplicates = match self.publish(js, &batch.events).await {
                Ok(duplicates) => duplicates,
                Err(error) => {
                    let kind = match error {
                        BatchError::Encode(_) => "encode",
                        BatchError::Publish(_) => "nats",
                    };
                    self.metrics.error(kind);
                    warn!(%error, first_position = batch.events[0].position, "relay publish failed");
                    if drain_to.is_some() {
                        warn!(
                            "relay stopping with unpublished events; the next relay resumes from the checkpoint"
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
            if let Err(error) = self.store.save_checkpoint(&name, batch.next).await {
                // The batch goes out again from the old checkpoint; JetStream drops the repeats.
                self.metrics.error("store");
                warn!(%error, "relay cannot save its checkpoint");
                if drain_to.is_some() || !pause(&mut retry, cancel).await {
                    return Ok(Term::Stopped);
                }
                continue;
            }
            checkpoint = batch.next;
            retry = self.retry();
            self.record(&batch.events, duplicates, checkpoint);
        }
    }

    /// Publishes `events` in order, pipelined, and waits for every acknowledgement. Returns how
    /// many JetStream reported as duplicates.
    async fn publish(
        &self,
        js: &jetstream::Context,
        events: &[RecordedEvent],
    ) -> Result<u64, BatchError> {
        let span = info_span!("relay_batch", events = events.len());
        async move {
            let mut acks = Vec::with_capacity(events.len());
            let mut previous: Option<String> = None;
            for event in events {
                let envelope::Envelope {
                    subject,
                    mut headers,
                    payload,
                } = envelope::encode(&self.naming, event)?;
                if let Some(previous) = previous.take() {
                    headers.insert(NATS_EXPECTED_LAST_MESSAGE_ID, previous);
                }
                acks.push(js.publish_with_headers(subject, headers, payload).await?);
                previous = Some(event.id.to_string());
            }
            let mut duplicates = 0;
            for ack in acks {
                if ack.await?.duplicate {
                    duplicates += 1;
                }
            }
            debug!(duplicates, "relay batch acknowledged");
            Ok(duplicates)
        }
        .instrument(span)
        .await
    }

    fn record(&self, events: &[RecordedEvent], duplicates: u64, checkpoint: Cursor) {
        let attrs = self.metrics.attrs();
        let count = events.len() as u64;
        self.metrics.published.add(count - duplicates, &attrs);
        self.metrics.duplicates.add(duplicates, &attrs);
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

    fn retry(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::new()
            .with_min_delay(self.config.retry_min)
            .with_max_delay(self.config.retry_max)
            .without_max_times()
            .build()
    }
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
