//! The read audit (DESIGN.md: every read of a person's data is recorded): one
//! `minzheng.audit.v1.PersonalDataAccessed` event per call of an RPC whose access rule says it
//! reads personal data, appended to the service's own store (streams of category `audit`) and so
//! published like every other event, as `minzheng.<service>.audit.personal_data_accessed`.
//!
//! The edge records the event before it answers: a call whose audit cannot be stored is answered
//! UNAVAILABLE, never with the data. Concurrent calls share one append (group commit): a writer
//! takes every entry waiting and appends them as one stream `audit-<uuid>`, so auditing costs a
//! read one append per batch rather than one per call; a few writers append at once, so that a
//! batch gathers while the last one commits.

use std::sync::Arc;

use bytes::Bytes;
use minzheng_eventstore::{
    AppendRequest, ExpectedVersion, Metadata, NewEvent, SharedStore, StreamId,
};
use minzheng_kit::{Error, clock::Clock};
use minzheng_proto::audit::v1 as pb;
use prost::{Message, Name};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The stream category of the audit events.
pub const CATEGORY: &str = "audit";

/// Most entries appended together.
const BATCH: usize = 256;
/// Appends under way at once (each its own stream, so they never conflict).
const APPENDS_IN_FLIGHT: usize = 4;
/// Entries waiting for the writer before callers wait for room.
const QUEUE: usize = 4_096;

/// How a call that reads personal data ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Refused,
    Failed,
}

/// One call to record.
#[derive(Debug, Clone)]
pub struct Entry {
    pub method: String,
    pub actor: String,
    pub roles: Vec<String>,
    pub agency: Option<String>,
    pub purpose: String,
    /// `(kind, id)`: `("person", pseudonym)` or a record of the service.
    pub records: Vec<(&'static str, String)>,
    pub outcome: Outcome,
    pub status_code: i32,
    pub trace_id: Option<String>,
}

struct Pending {
    event: NewEvent,
    done: oneshot::Sender<Result<(), Error>>,
}

/// Records audit entries in a service's store; cheap to clone.
#[derive(Debug, Clone)]
pub struct AuditLog {
    queue: mpsc::Sender<Pending>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").finish_non_exhaustive()
    }
}

impl AuditLog {
    /// An audit log of `store` and the writer that must run for it (until `stop` is cancelled
    /// and the entries waiting then are written).
    pub fn new(
        store: SharedStore,
        clock: Arc<dyn Clock>,
        stop: CancellationToken,
    ) -> (
        Self,
        impl Future<Output = anyhow::Result<()>> + Send + 'static,
    ) {
        let (queue, entries) = mpsc::channel(QUEUE);
        (Self { queue, clock }, write(store, entries, stop))
    }

    /// Stores `entry`; UNAVAILABLE when it cannot be stored.
    pub async fn record(&self, entry: Entry) -> Result<(), Error> {
        let event = self.event(entry);
        let (done, stored) = oneshot::channel();
        let unavailable = || Error::Unavailable("the read audit cannot be recorded".to_owned());
        self.queue
            .send(Pending { event, done })
            .await
            .map_err(|_| unavailable())?;
        stored.await.map_err(|_| unavailable())?
    }

    fn event(&self, entry: Entry) -> NewEvent {
        let at = self.clock.now();
        let message = pb::PersonalDataAccessed {
            method: entry.method,
            actor: entry.actor,
            roles: entry.roles,
            agency: entry.agency.unwrap_or_default(),
            purpose: entry.purpose,
            records: entry
                .records
                .into_iter()
                .map(|(kind, id)| pb::AuditedRecord {
                    kind: kind.to_owned(),
                    id,
                })
                .collect(),
            outcome: match entry.outcome {
                Outcome::Allowed => pb::AccessOutcome::Allowed,
                Outcome::Refused => pb::AccessOutcome::Refused,
                Outcome::Failed => pb::AccessOutcome::Failed,
            }
            .into(),
            status_code: entry.status_code,
            accessed_at: Some(prost_types::Timestamp {
                seconds: at.unix_timestamp(),
                nanos: i32::try_from(at.nanosecond()).unwrap_or(0),
            }),
            trace_id: entry.trace_id.unwrap_or_default(),
        };
        NewEvent::new(
            pb::PersonalDataAccessed::full_name(),
            1,
            Bytes::from(message.encode_to_vec()),
        )
    }
}

/// The writer: [`APPENDS_IN_FLIGHT`] workers that take what waits and append it, so that one
/// batch is appended while the next gathers; until stopped.
async fn write(
    store: SharedStore,
    entries: mpsc::Receiver<Pending>,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let entries = Arc::new(tokio::sync::Mutex::new(entries));
    futures::future::join_all(
        (0..APPENDS_IN_FLIGHT).map(|_| worker(store.clone(), entries.clone(), stop.clone())),
    )
    .await;
    Ok(())
}

/// One writer: takes a batch (holding the queue only while it waits for one), appends it,
/// answers its callers; returns once stopped and the queue is empty.
async fn worker(
    store: SharedStore,
    entries: Arc<tokio::sync::Mutex<mpsc::Receiver<Pending>>>,
    stop: CancellationToken,
) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let received = {
            let mut entries = entries.lock().await;
            tokio::select! {
                () = stop.cancelled() => {
                    entries.close();
                    entries.recv_many(&mut batch, BATCH).await
                }
                n = entries.recv_many(&mut batch, BATCH) => n,
            }
        };
        if received == 0 {
            return;
        }
        let (events, waiting): (Vec<_>, Vec<_>) =
            batch.drain(..).map(|p| (p.event, p.done)).unzip();
        let outcome = append(&store, events).await;
        if let Err(error) = &outcome {
            tracing::warn!(%error, entries = waiting.len(), "read audit not recorded");
        }
        for done in waiting {
            // A caller that went away no longer waits for its answer.
            let _ =
                done.send(outcome.clone().map_err(|_| {
                    Error::Unavailable("the read audit cannot be recorded".to_owned())
                }));
        }
    }
}

async fn append(store: &SharedStore, events: Vec<NewEvent>) -> Result<(), Arc<anyhow::Error>> {
    let stream = StreamId::new(CATEGORY, Uuid::now_v7().simple().to_string())
        .map_err(|e| Arc::new(anyhow::Error::from(e)))?;
    store
        .append(AppendRequest {
            stream,
            expected: ExpectedVersion::NoStream,
            events,
            metadata: Metadata::default(),
        })
        .await
        .map(drop)
        .map_err(|e| Arc::new(anyhow::Error::from(e)))
}
