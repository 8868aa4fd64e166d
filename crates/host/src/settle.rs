//! Waiting, deterministically, until everything a host moves has moved: every relay has
//! published its store up to the head, and every consumer has applied what its producer has
//! (embedded feeds: the consumer's saved cursor has nothing after it; JetStream: the durable
//! consumer has nothing pending or unacknowledged, and acknowledgement follows the commit). Tests
//! call it instead of sleeping (zero2prod's `dispatch_all_pending_emails`).

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use anyhow::Context as _;
use minzheng_eventstore::{Cursor, SharedStore};

/// How often an unsettled host is looked at again.
const POLL: Duration = Duration::from_millis(10);

/// One thing that moves events, and how to tell it has caught up.
#[derive(Debug, Clone)]
pub(crate) enum Probe {
    /// A relay publishing `store` from the checkpoint `checkpoint` (in the same store).
    Relay {
        what: String,
        store: SharedStore,
        checkpoint: String,
    },
    /// An embedded feed: `producer`'s events applied into the consumer's database, whose store
    /// `consumer` keeps the feed's cursor under `checkpoint`.
    Feed {
        what: String,
        producer: SharedStore,
        consumer: SharedStore,
        checkpoint: String,
    },
    /// A durable JetStream consumer `durable` on `stream`.
    JetStream {
        what: String,
        client: async_nats::Client,
        stream: String,
        durable: String,
    },
}

/// The probes of a host, filled as relays and consumers start.
pub(crate) type Probes = Arc<Mutex<Vec<Probe>>>;

pub(crate) fn register(probes: &Probes, probe: Probe) {
    probes
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(probe);
}

impl Probe {
    fn what(&self) -> &str {
        match self {
            Probe::Relay { what, .. }
            | Probe::Feed { what, .. }
            | Probe::JetStream { what, .. } => what,
        }
    }

    /// Whether it has caught up now.
    async fn settled(&self) -> anyhow::Result<bool> {
        match self {
            Probe::Relay {
                store, checkpoint, ..
            } => nothing_after(store, store.load_checkpoint(checkpoint).await?).await,
            Probe::Feed {
                producer,
                consumer,
                checkpoint,
                ..
            } => nothing_after(producer, consumer.load_checkpoint(checkpoint).await?).await,
            Probe::JetStream {
                client,
                stream,
                durable,
                ..
            } => {
                let js = async_nats::jetstream::new(client.clone());
                // No stream: the producer has published nothing yet, so there is nothing to
                // catch up with. A stream but no consumer yet: the consumer is still setting up.
                let stream = match js.get_stream(stream).await {
                    Ok(stream) => stream,
                    Err(error) => {
                        use async_nats::jetstream::{ErrorCode, context::GetStreamErrorKind};
                        return match error.kind() {
                            GetStreamErrorKind::JetStream(e)
                                if e.error_code() == ErrorCode::STREAM_NOT_FOUND =>
                            {
                                Ok(true)
                            }
                            _ => Err(error.into()),
                        };
                    }
                };
                let Ok(info) = stream.consumer_info(durable).await else {
                    return Ok(false);
                };
                Ok(info.num_pending == 0 && info.num_ack_pending == 0)
            }
        }
    }
}

async fn nothing_after(store: &SharedStore, cursor: Cursor) -> anyhow::Result<bool> {
    Ok(store.read_all(cursor, 1).await?.events.is_empty())
}

/// The stores the probes read (each once), whose heads tell whether anything was appended.
fn stores_of(probes: &[Probe]) -> Vec<SharedStore> {
    let mut stores: Vec<SharedStore> = Vec::new();
    for probe in probes {
        let mine: Vec<&SharedStore> = match probe {
            Probe::Relay { store, .. } => vec![store],
            Probe::Feed {
                producer, consumer, ..
            } => vec![producer, consumer],
            Probe::JetStream { .. } => vec![],
        };
        for store in mine {
            if !stores.iter().any(|s| Arc::ptr_eq(s, store)) {
                stores.push(store.clone());
            }
        }
    }
    stores
}

async fn heads(stores: &[SharedStore]) -> anyhow::Result<Vec<Cursor>> {
    let mut heads = Vec::with_capacity(stores.len());
    for store in stores {
        heads.push(store.head().await?);
    }
    Ok(heads)
}

/// Waits until every probe has caught up at once, at most `timeout`: a pass over the probes
/// that finds each caught up, during which no store moved (the probes are looked at one after
/// the other, so a consumer that appends — an answer to what it consumed — after its producer's
/// relay was looked at would otherwise go unseen).
pub(crate) async fn settle(probes: &Probes, timeout: Duration) -> anyhow::Result<()> {
    let probes = probes
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let stores = stores_of(&probes);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let before = heads(&stores).await?;
        let mut behind = Vec::new();
        for probe in &probes {
            if !probe
                .settled()
                .await
                .with_context(|| format!("looking at {}", probe.what()))?
            {
                behind.push(probe.what().to_owned());
            }
        }
        if behind.is_empty() {
            if heads(&stores).await? == before {
                return Ok(());
            }
            behind.push("a store that moved while the probes were looked at".to_owned());
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!("not caught up within {timeout:?}: {}", behind.join(", "));
        }
        tokio::time::sleep(POLL).await;
    }
}
