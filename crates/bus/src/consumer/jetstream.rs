//! The JetStream source: a durable pull consumer on the producing service's stream.
//!
//! The consumer is created (or updated) idempotently at start-up with explicit acks, an
//! `ack_wait`, a `max_deliver` that is set (JetStream's default is unlimited) and at most one
//! `filter_subject` (nats-server 2.9 has no `filter_subjects`). Messages are pulled as a
//! continuous stream and handled in batches: whatever is buffered, topped up for at most
//! `max_wait`, up to the batch size.
//!
//! A message is acknowledged only after the transaction that applied it committed. A failing
//! event is negatively acknowledged with a delay from the retry list; JetStream's delivery count
//! is its attempt count. On its last attempt it is parked: recorded in `mz_parked`, published on
//! `<prefix>.deadletter.<consumer>` (stream `<PREFIX>_DEADLETTER`, created here) and terminated
//! so the stream moves on. `max_deliver` is one more than the attempts, so that a crash while
//! parking still gets the message back once to park it.
//!
//! The delays between attempts come from `ConsumerSettings::retry_delays` through
//! negative acknowledgements with a delay, not from the consumer's `backoff` setting: in
//! JetStream that list also replaces `ack_wait` for the first delivery, so a short first delay
//! would redeliver batches that are merely slow.
//!
//! **Ack wait and progress.** `ack_wait` is short (a few seconds), because it is how long the
//! messages a crashed consumer held stay away from its successor. A batch that takes longer
//! (a slow projection, the consumer's database unavailable, a dead-letter publish retried) is
//! kept alive instead: while it works, every message delivered and not yet settled gets a
//! progress ack (`+WPI`) every third of `ack_wait` — the batch in hand and the messages the
//! subscription delivers meanwhile, which are taken off it and kept for the next batch rather
//! than left to time out in its buffer. So a live consumer's messages are never redelivered
//! while it works on them (nor their attempts spent), and an outage does not spend the events'
//! attempts either. A message already negatively acknowledged gets no more progress acks: they
//! would cut its retry delay short. The consumer configuration, `ack_wait` included, is
//! updated at every start, so existing durable consumers take a new value without an operator.
//!
//! This module knows the JetStream API but nothing of what the events mean.

use std::{collections::VecDeque, pin::pin, time::Duration};

use async_nats::{
    HeaderMap,
    header::NATS_MESSAGE_ID,
    jetstream::{
        self, AckKind, Message,
        consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull},
    },
};
use futures::StreamExt;
use minzheng_eventstore::RecordedEvent;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::{ConsumerError, ConsumerFault, Core, Outcome, inbox};
use crate::{
    envelope,
    naming::BusNaming,
    streams::{self, StreamSettings},
};

/// Header naming the consumer that parked a dead letter.
pub const DEADLETTER_CONSUMER: &str = "mz-consumer";
/// Header with the attempts a dead letter got.
pub const DEADLETTER_ATTEMPTS: &str = "mz-attempts";
/// Header with the subject the dead letter was originally published on.
pub const DEADLETTER_SUBJECT: &str = "mz-original-subject";
/// Failed set-up attempts between two warnings (the rest are logged at debug level).
const SET_UP_WARN_EVERY: u32 = 360;

/// Header with the original stream sequence of the dead letter.
pub const DEADLETTER_SEQUENCE: &str = "mz-original-sequence";

/// The default [`JetStreamSource::ack_wait`]: how long the messages in flight at a crash wait
/// before JetStream hands them to another consumer. Live consumers extend it with progress acks.
pub const DEFAULT_ACK_WAIT: Duration = Duration::from_secs(5);

/// A durable pull consumer on a producing service's stream.
#[derive(Debug, Clone)]
pub struct JetStreamSource {
    pub client: async_nats::Client,
    /// The producing service's names (its stream, and the deployment's dead-letter names).
    pub naming: BusNaming,
    /// One subject filter (e.g. [`BusNaming::category_subjects`]); `None` takes every event.
    pub filter_subject: Option<String>,
    /// How long JetStream waits for an ack (or a progress ack, sent every third of it while a
    /// batch is worked on) before delivering a message again.
    pub ack_wait: Duration,
    /// After the first message of a batch, how long to wait for more to fill the batch.
    pub max_wait: Duration,
    /// Timeout of JetStream API requests and of dead-letter publishes.
    pub request_timeout: Duration,
    /// How the dead-letter stream keeps parked events.
    pub deadletter: StreamSettings,
}

impl JetStreamSource {
    pub fn new(client: async_nats::Client, naming: BusNaming) -> Self {
        Self {
            client,
            naming,
            filter_subject: None,
            ack_wait: DEFAULT_ACK_WAIT,
            max_wait: Duration::from_millis(10),
            request_timeout: Duration::from_secs(5),
            deadletter: StreamSettings::default(),
        }
    }

    pub fn with_filter(mut self, subject: impl Into<String>) -> Self {
        self.filter_subject = Some(subject.into());
        self
    }

    pub(super) async fn run(
        &self,
        core: &Core,
        cancel: &CancellationToken,
    ) -> Result<(), ConsumerError> {
        let js = jetstream::ContextBuilder::new()
            .timeout(self.request_timeout)
            .build(self.client.clone());
        let mut retry = core.retry();
        // Delivered messages taken off the subscription while a batch was worked on; they
        // outlive a resubscription (their acks do not depend on it).
        let mut ahead = VecDeque::new();
        loop {
            let Some(consumer) = self.set_up(core, &js, cancel).await else {
                return Ok(());
            };
            let messages = consumer
                .stream()
                .max_messages_per_batch(core.settings.batch_size)
                .messages()
                .await;
            let mut messages = match messages {
                Ok(messages) => messages,
                Err(error) => {
                    core.metrics.error("source");
                    warn!(%error, "consumer cannot pull messages, retrying");
                    if !crate::relay::pause(&mut retry, cancel).await {
                        return Ok(());
                    }
                    continue;
                }
            };
            loop {
                let first = match ahead.pop_front() {
                    Some(message) => message,
                    None => {
                        let next = tokio::select! {
                            biased;
                            () = cancel.cancelled() => {
                                self.flush().await;
                                return Ok(());
                            }
                            next = messages.next() => next,
                        };
                        match next {
                            Some(Ok(message)) => message,
                            Some(Err(error)) => {
                                core.metrics.error("source");
                                warn!(%error, "consumer pull failed, resubscribing");
                                break;
                            }
                            None => break,
                        }
                    }
                };
                let mut batch = vec![first];
                let taken = (core.settings.batch_size - 1).min(ahead.len());
                batch.extend(ahead.drain(..taken));
                let deadline = tokio::time::Instant::now() + self.max_wait;
                while batch.len() < core.settings.batch_size {
                    match tokio::time::timeout_at(deadline, messages.next()).await {
                        Ok(Some(Ok(message))) => batch.push(message),
                        // A pull error ends the batch early: the batch in hand goes first, and
                        // a lasting failure shows again on the next pull.
                        _ => break,
                    }
                }
                let mut keeper = Keeper {
                    messages: &mut messages,
                    ahead: &mut ahead,
                    every: self.ack_wait / 3,
                    failed: None,
                };
                let carry_on = self.handle(core, &js, batch, &mut keeper, cancel).await?;
                let failed = keeper.failed.take();
                retry = core.retry();
                if !carry_on {
                    self.flush().await;
                    return Ok(());
                }
                if let Some(error) = failed {
                    core.metrics.error("source");
                    warn!(%error, "consumer pull failed, resubscribing");
                    break;
                }
            }
            if !crate::relay::pause(&mut retry, cancel).await {
                return Ok(());
            }
        }
    }

    /// Creates the dead-letter stream and the durable consumer, retrying until both exist
    /// (the producer's relay may not have created its stream yet); `None` when cancelled.
    async fn set_up(
        &self,
        core: &Core,
        js: &jetstream::Context,
        cancel: &CancellationToken,
    ) -> Option<PullConsumer> {
        let mut retry = core.retry();
        let mut attempts: u32 = 0;
        loop {
            match self.try_set_up(core, js).await {
                Ok(consumer) => return Some(consumer),
                Err(error) => {
                    core.metrics.error("source");
                    // A producer deployed later (its stream not there yet) is a state that can
                    // last for days: warn at first and then once an hour-ish (360 attempts at
                    // the longest back-off), not at every retry; the error metric counts all.
                    if attempts.is_multiple_of(SET_UP_WARN_EVERY) {
                        warn!(error = %error, stream = %self.naming.stream_name(), attempts, "consumer cannot set up, retrying");
                    } else {
                        debug!(error = %error, stream = %self.naming.stream_name(), attempts, "consumer cannot set up, retrying");
                    }
                    attempts = attempts.wrapping_add(1);
                    if !crate::relay::pause(&mut retry, cancel).await {
                        return None;
                    }
                }
            }
        }
    }

    async fn try_set_up(
        &self,
        core: &Core,
        js: &jetstream::Context,
    ) -> Result<PullConsumer, async_nats::Error> {
        streams::ensure_deadletter_stream(js, &self.naming, &self.deadletter).await?;
        let stream = js.get_stream(self.naming.stream_name()).await?;
        let name = core.name.as_str().to_owned();
        let consumer = stream
            .create_consumer(pull::Config {
                durable_name: Some(name),
                description: Some("minzheng projection".to_owned()),
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::Explicit,
                ack_wait: self.ack_wait,
                max_deliver: i64::from(core.settings.max_attempts) + 1,
                filter_subject: self.filter_subject.clone().unwrap_or_default(),
                ..Default::default()
            })
            .await?;
        Ok(consumer)
    }

    /// Applies a batch and acknowledges what is done; false when cancelled before the end.
    /// Every step runs under `keeper`, with the messages of the batch not settled yet.
    async fn handle(
        &self,
        core: &Core,
        js: &jetstream::Context,
        batch: Vec<Message>,
        keeper: &mut Keeper<'_>,
        cancel: &CancellationToken,
    ) -> Result<bool, ConsumerError> {
        // Each delivery says how many messages wait behind it: no extra round trip.
        if let Some(info) = batch.last().and_then(|message| message.info().ok()) {
            core.metrics.pending(info.pending);
        }
        let mut items: Vec<(Message, RecordedEvent)> = Vec::with_capacity(batch.len());
        let mut undecodable = Vec::new();
        for message in batch {
            match envelope::decode_message(&message) {
                Ok(event) => items.push((message, event)),
                Err(error) => undecodable.push((message, error)),
            }
        }
        for (index, (message, error)) in undecodable.iter().enumerate() {
            // A message this bus did not write will never decode: park it at once.
            let id = message
                .headers
                .as_ref()
                .and_then(|h| h.get(NATS_MESSAGE_ID))
                .map(|v| v.as_str().to_owned())
                .unwrap_or_else(|| sequence_id(message));
            let parked = inbox::ParkedEvent {
                event_id: id,
                stream_id: String::new(),
                event_type: String::new(),
                attempts: delivered(message),
                last_error: format!("undecodable message: {error}"),
                payload: &message.payload,
                event: None,
            };
            let unsettled: Vec<&Message> = undecodable[index..]
                .iter()
                .map(|(m, _)| m)
                .chain(items.iter().map(|(m, _)| m))
                .collect();
            let parking = self.park(core, js, message, &parked, cancel);
            if !keeper.working_on(&unsettled, parking).await {
                return Ok(false);
            }
        }
        if items.is_empty() {
            return Ok(true);
        }
        let events: Vec<RecordedEvent> = items.iter().map(|(_, e)| e.clone()).collect();
        let unsettled: Vec<&Message> = items.iter().map(|(m, _)| m).collect();
        let applying = core.apply(&events, None, cancel);
        match keeper.working_on(&unsettled, applying).await {
            Outcome::Applied => {
                self.stop_if_faulted(core)?;
                for (message, _) in &items {
                    ack(message, AckKind::Ack).await;
                }
                Ok(true)
            }
            Outcome::Cancelled => Ok(false),
            Outcome::Failed(error) if items.len() == 1 => {
                let event = &items[0].1;
                Ok(self
                    .failed(core, js, (keeper, &unsettled), event, error, cancel)
                    .await)
            }
            Outcome::Failed(error) => {
                debug!(%error, events = items.len(), "consumer batch failed, isolating");
                for (index, (message, event)) in items.iter().enumerate() {
                    // This message and the ones after it; those before are settled, and a
                    // negatively acknowledged one must not have its retry delay cut short.
                    let unsettled = &unsettled[index..];
                    let applying = core.apply(std::slice::from_ref(event), None, cancel);
                    match keeper.working_on(unsettled, applying).await {
                        Outcome::Applied => {
                            self.stop_if_faulted(core)?;
                            ack(message, AckKind::Ack).await;
                        }
                        Outcome::Cancelled => return Ok(false),
                        Outcome::Failed(error) => {
                            let kept = (&mut *keeper, unsettled);
                            if !self.failed(core, js, kept, event, error, cancel).await {
                                return Ok(false);
                            }
                        }
                    }
                }
                Ok(true)
            }
        }
    }

    fn stop_if_faulted(&self, core: &Core) -> Result<(), ConsumerError> {
        match core.fault {
            Some(fault @ ConsumerFault::StopAfterCommit) => {
                Err(ConsumerError::InjectedFault(fault))
            }
            None => Ok(()),
        }
    }

    /// An event's attempt failed: retries it later, or parks it (under `keeper`, which keeps
    /// `unsettled` alive meanwhile) when that was its last attempt. False when cancelled first.
    async fn failed(
        &self,
        core: &Core,
        js: &jetstream::Context,
        (keeper, unsettled): (&mut Keeper<'_>, &[&Message]),
        event: &RecordedEvent,
        error: anyhow::Error,
        cancel: &CancellationToken,
    ) -> bool {
        let message = unsettled[0];
        let attempt = delivered(message);
        if attempt < core.settings.max_attempts {
            let delay = core.settings.retry_delay(attempt);
            warn!(event_id = %event.id, attempt, ?delay, "event failed, retrying later");
            debug!(event_id = %event.id, %error, "projection error");
            // Not under the keeper: a progress ack after this would cut the delay short.
            ack(message, AckKind::Nak(Some(delay))).await;
            return true;
        }
        let parked = inbox::ParkedEvent {
            event_id: event.id.to_string(),
            stream_id: event.stream.to_string(),
            event_type: event.event_type.clone(),
            attempts: attempt,
            last_error: format!("{error:#}"),
            payload: &event.payload,
            event: Some(event),
        };
        let parking = self.park(core, js, message, &parked, cancel);
        keeper.working_on(unsettled, parking).await
    }

    /// Parks a message: `mz_parked` row, dead-letter publish (acknowledged by JetStream), then
    /// terminate it. False when cancelled first (it is then delivered again later).
    async fn park(
        &self,
        core: &Core,
        js: &jetstream::Context,
        message: &Message,
        parked: &inbox::ParkedEvent<'_>,
        cancel: &CancellationToken,
    ) -> bool {
        if !core.park(parked, None, cancel).await {
            return false;
        }
        let subject = self.naming.deadletter_subject(&core.name);
        // The event's own headers travel along; JetStream's `Nats-*` headers do not: a stored
        // `Nats-Expected-Last-Sequence` from the relay would make the dead-letter stream refuse it.
        let mut headers = HeaderMap::new();
        for (name, values) in message.headers.iter().flat_map(HeaderMap::iter) {
            let name: &str = name.as_ref();
            if name.len() >= 5 && name[..5].eq_ignore_ascii_case("nats-") {
                continue;
            }
            for value in values {
                headers.append(name, value.clone());
            }
        }
        // One dead letter per consumer and event, even when parking is repeated after a crash.
        headers.insert(
            NATS_MESSAGE_ID,
            format!("{}:{}", core.name, parked.event_id).as_str(),
        );
        headers.insert(DEADLETTER_CONSUMER, core.name.as_str());
        headers.insert(DEADLETTER_ATTEMPTS, parked.attempts.to_string());
        headers.insert(DEADLETTER_SUBJECT, message.subject.as_str());
        if let Ok(info) = message.info() {
            headers.insert(DEADLETTER_SEQUENCE, info.stream_sequence.to_string());
        }
        let mut retry = core.retry();
        loop {
            let published = async {
                js.publish_with_headers(subject.clone(), headers.clone(), message.payload.clone())
                    .await?
                    .await
            }
            .await;
            match published {
                Ok(_) => break,
                Err(error) => {
                    core.metrics.error("deadletter");
                    warn!(%error, event_id = %parked.event_id, "dead-letter publish failed, retrying");
                    if !crate::relay::pause(&mut retry, cancel).await {
                        return false;
                    }
                    // The dead-letter stream may have been removed since start-up.
                    let _ =
                        streams::ensure_deadletter_stream(js, &self.naming, &self.deadletter).await;
                }
            }
        }
        ack(message, AckKind::Term).await;
        true
    }

    /// Makes sure acks sent so far have left the client before returning.
    async fn flush(&self) {
        if let Err(error) = self.client.flush().await {
            warn!(%error, "consumer could not flush its acks");
        }
    }
}

/// The delivery count of a message: its attempt number.
fn delivered(message: &Message) -> u32 {
    message
        .info()
        .map(|info| u32::try_from(info.delivered).unwrap_or(u32::MAX))
        .unwrap_or(1)
}

fn sequence_id(message: &Message) -> String {
    message.info().map_or_else(
        |_| "unknown".to_owned(),
        |info| format!("{}:{}", info.stream, info.stream_sequence),
    )
}

async fn ack(message: &Message, kind: AckKind) {
    // A lost ack only means a redelivery, which the inbox absorbs.
    if let Err(error) = message.ack_with(kind).await {
        warn!(%error, "consumer ack failed");
    }
}

async fn progress<'a>(messages: impl Iterator<Item = &'a Message>) {
    for message in messages {
        ack(message, AckKind::Progress).await;
    }
}

/// Keeps delivered messages from being redelivered while the consumer works on a batch.
struct Keeper<'a> {
    /// The subscription: read while working, so that what it delivers is kept alive too.
    messages: &'a mut pull::Stream,
    /// Where the messages it delivers meanwhile wait for the next batch.
    ahead: &'a mut VecDeque<Message>,
    /// How often to send progress acks: well within the ack wait.
    every: Duration,
    /// The subscription failed while working; the consumer resubscribes after the batch.
    failed: Option<pull::MessagesError>,
}

impl Keeper<'_> {
    /// Runs `work`, sending progress acks every `every` for `unsettled` and every message taken
    /// off the subscription meanwhile.
    async fn working_on<T>(&mut self, unsettled: &[&Message], work: impl Future<Output = T>) -> T {
        let mut work = pin!(work);
        let mut ticks =
            tokio::time::interval_at(tokio::time::Instant::now() + self.every, self.every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                done = &mut work => return done,
                _ = ticks.tick() => {
                    progress(unsettled.iter().copied().chain(self.ahead.iter())).await;
                }
                next = self.messages.next(), if self.failed.is_none() => match next {
                    Some(Ok(message)) => self.ahead.push_back(message),
                    Some(Err(error)) => self.failed = Some(error),
                    None => {
                        self.failed = Some(pull::MessagesError::new(
                            pull::MessagesErrorKind::Other,
                        ));
                    }
                },
            }
        }
    }
}
