//! The embedded feed: in the single-process mode there is no NATS, so a consumer reads the
//! producing service's store directly with `read_all`, by cursor.
//!
//! Delivery semantics match JetStream's: the feed's cursor (`feed:<consumer>` in the consumer's
//! `mz_checkpoints`) is saved in the same transaction as the batch's effects and inbox rows, so
//! a restart resumes exactly after the last committed batch. A failing event is retried in
//! process with the configured delays and then parked (a row in `mz_parked`; there is no
//! dead-letter subject without a bus), after which the feed moves on.
//!
//! The feed knows nothing of which backend the producer's store uses.

use std::time::Duration;

use minzheng_eventstore::{Cursor, RecordedEvent, SharedStore};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::{ConsumerError, ConsumerFault, Core, Outcome, inbox};

/// Reads another service's store directly (embedded mode).
#[derive(Debug, Clone)]
pub struct FeedSource {
    pub store: SharedStore,
    /// First wait after a read that found nothing; doubles up to `max_poll_interval`.
    pub poll_interval: Duration,
    pub max_poll_interval: Duration,
}

impl FeedSource {
    pub fn new(store: SharedStore) -> Self {
        Self {
            store,
            poll_interval: Duration::from_millis(10),
            max_poll_interval: Duration::from_millis(200),
        }
    }
}

impl FeedSource {
    /// Runs the feed until cancelled, or with `until_caught_up` until a read finds nothing new
    /// (then failures are returned instead of retried). Returns how many events were read.
    pub(super) async fn run(
        &self,
        core: &Core,
        cancel: &CancellationToken,
        until_caught_up: bool,
    ) -> Result<u64, ConsumerError> {
        let checkpoint = crate::naming::feed_checkpoint(core.name.as_str());
        let mut retry = core.retry();
        let mut cursor = loop {
            let loaded = async {
                let mut conn = core.db.acquire().await?;
                inbox::load_cursor(&mut conn, &checkpoint).await
            }
            .await;
            match loaded {
                Ok(cursor) => break cursor,
                Err(error) if until_caught_up => return Err(error.into()),
                Err(error) => {
                    core.metrics.error("database");
                    warn!(%error, "feed cannot load its cursor, retrying");
                    if !crate::relay::pause(&mut retry, cancel).await {
                        return Ok(0);
                    }
                }
            }
        };
        let mut read = 0;
        let mut idle = self.poll_interval;
        while !cancel.is_cancelled() {
            let batch = match self.store.read_all(cursor, core.settings.batch_size).await {
                Ok(batch) => batch,
                Err(error) if until_caught_up => return Err(error.into()),
                Err(error) => {
                    core.metrics.error("source");
                    warn!(%error, "feed cannot read the producer's store, retrying");
                    if !crate::relay::pause(&mut retry, cancel).await {
                        break;
                    }
                    continue;
                }
            };
            if batch.events.is_empty() {
                if until_caught_up {
                    break;
                }
                tokio::select! {
                    () = tokio::time::sleep(idle) => {}
                    () = cancel.cancelled() => {}
                }
                idle = (idle * 2).min(self.max_poll_interval);
                continue;
            }
            idle = self.poll_interval;
            read += batch.events.len() as u64;
            let outcome = core
                .apply(&batch.events, Some((&checkpoint, batch.next)), cancel)
                .await;
            match outcome {
                Outcome::Applied => {}
                Outcome::Cancelled => break,
                Outcome::Failed(error) => {
                    debug!(%error, events = batch.events.len(), "feed batch failed, isolating");
                    if !self
                        .isolate(core, &checkpoint, &batch.events, error, cancel)
                        .await
                    {
                        break;
                    }
                }
            }
            if core.fault == Some(ConsumerFault::StopAfterCommit) {
                return Err(ConsumerError::InjectedFault(ConsumerFault::StopAfterCommit));
            }
            cursor = batch.next;
        }
        Ok(read)
    }

    /// Applies a failed batch's events one at a time, each in its own transaction that also
    /// moves the cursor past it; retries a failing one with the configured delays and parks it
    /// after the last attempt. False when cancelled first.
    async fn isolate(
        &self,
        core: &Core,
        checkpoint: &str,
        events: &[RecordedEvent],
        batch_error: anyhow::Error,
        cancel: &CancellationToken,
    ) -> bool {
        // With a single event, the batch's failure was that event's first attempt.
        let mut first_failure = (events.len() == 1).then_some(batch_error);
        for event in events {
            let cursor: Option<(&str, Cursor)> = Some((checkpoint, event.cursor));
            let mut attempt = 0;
            loop {
                let failure = match first_failure.take() {
                    Some(error) => error,
                    None => {
                        match core
                            .apply(std::slice::from_ref(event), cursor, cancel)
                            .await
                        {
                            Outcome::Applied => break,
                            Outcome::Cancelled => return false,
                            Outcome::Failed(error) => error,
                        }
                    }
                };
                attempt += 1;
                if attempt >= core.settings.max_attempts {
                    let parked = inbox::ParkedEvent {
                        event_id: event.id.to_string(),
                        stream_id: event.stream.to_string(),
                        event_type: event.event_type.clone(),
                        attempts: attempt,
                        last_error: format!("{failure:#}"),
                        payload: &event.payload,
                        event: Some(event),
                    };
                    if !core.park(&parked, cursor, cancel).await {
                        return false;
                    }
                    break;
                }
                warn!(event_id = %event.id, attempt, "event failed, retrying");
                debug!(event_id = %event.id, error = %failure, "projection error");
                tokio::select! {
                    () = tokio::time::sleep(core.settings.retry_delay(attempt)) => {}
                    () = cancel.cancelled() => return false,
                }
            }
        }
        true
    }
}
