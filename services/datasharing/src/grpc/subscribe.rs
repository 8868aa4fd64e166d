//! `Subscribe`: the copies shared with the calling agency, for agencies that cannot read NATS.
//!
//! It reads the agency's stream `share-<agency>` in this service's store — the very copies the
//! share relay publishes on `share.<agency>.…`, so both doors show the same thing in the same
//! order — from the caller's position, then follows it: woken by this process's appends, and
//! polling for those of other replicas. The position is the copy's version in that stream, so a
//! caller that reconnects with the last position it received misses nothing and receives
//! nothing twice. The stream ends when the caller hangs up or the server starts draining; a
//! store failure ends it with UNAVAILABLE, to be resumed from the last position.

use std::{pin::Pin, time::Duration};

use futures::Stream;
use minzheng_eventstore::{RecordedEvent, SharedStore, StreamId};
use minzheng_host::edge::Call;
use minzheng_kit::{Error, auth::Role};
use minzheng_proto::datasharing::v1 as pb;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::DataSharingApi;
use crate::{agreement::AgencyCode, app::store_error, projections::share::SHARE_CATEGORY};

/// The response stream of `Subscribe`.
pub type SharedEvents = Pin<Box<dyn Stream<Item = Result<pb::SharedEvent, tonic::Status>> + Send>>;

/// Copies read from the store at a time.
const READ_BATCH: usize = 500;
/// Copies buffered for a slow caller before reading waits.
const BUFFERED: usize = 64;
/// How often a caught-up subscription looks for copies another replica shared.
const POLL: Duration = Duration::from_millis(500);

impl DataSharingApi {
    pub(super) async fn subscribe(
        &self,
        call: Call<pb::SubscribeRequest>,
    ) -> Result<SharedEvents, Error> {
        let principal = call.authenticated()?;
        let agency = principal
            .agency()
            .filter(|_| principal.has_role(Role::Agency))
            .and_then(|code| AgencyCode::parse(code).ok())
            .ok_or_else(|| {
                Error::PermissionDenied(
                    "a subscription is an agency's: this token names no agency".into(),
                )
            })?;
        let stream = StreamId::new(SHARE_CATEGORY, agency.as_str()).map_err(store_error)?;
        let after = call.body().after;
        let store = self.app.store().clone();
        let last = store.stream_version(&stream).await.map_err(store_error)?;
        if after > last {
            return Err(Error::invalid_field(
                "after",
                format!("must be at most {last}, the last position shared with this agency"),
            ));
        }
        let subjects = {
            let share = self.share.clone();
            let agency = agency.as_str().to_owned();
            move |event_type: &str| share.subject(&agency, event_type).unwrap_or_default()
        };
        let (sender, receiver) = mpsc::channel(BUFFERED);
        tokio::spawn(follow(
            store,
            stream,
            after + 1,
            sender,
            self.draining.clone(),
            subjects,
        ));
        Ok(Box::pin(futures::stream::unfold(
            receiver,
            |mut receiver| async move { receiver.recv().await.map(|item| (item, receiver)) },
        )))
    }
}

/// Sends the copies of `stream` from version `next` on, then follows it, until the caller hangs
/// up or `draining` fires.
async fn follow(
    store: SharedStore,
    stream: StreamId,
    mut next: u64,
    sender: mpsc::Sender<Result<pb::SharedEvent, tonic::Status>>,
    draining: CancellationToken,
    subject: impl Fn(&str) -> String + Send,
) {
    let mut appended = store.append_ended();
    loop {
        // Appends that end from here on wake the wait below.
        appended.mark_unchanged();
        let copies = match store.read_stream(&stream, next, READ_BATCH).await {
            Ok(copies) => copies,
            Err(error) => {
                let _ = sender.send(Err(store_error(error).into_status())).await;
                return;
            }
        };
        let caught_up = copies.len() < READ_BATCH;
        for copy in copies {
            next = copy.stream_version + 1;
            let event = shared_event(&copy, subject(&copy.event_type));
            tokio::select! {
                sent = sender.send(Ok(event)) => if sent.is_err() { return },
                () = draining.cancelled() => return,
            }
        }
        if !caught_up {
            continue;
        }
        tokio::select! {
            // (A closed channel never resolves here; the poll goes on.)
            Ok(()) = appended.changed() => {}
            () = tokio::time::sleep(POLL) => {}
            () = sender.closed() => return,
            () = draining.cancelled() => return,
        }
    }
}

fn shared_event(copy: &RecordedEvent, subject: String) -> pb::SharedEvent {
    pb::SharedEvent {
        position: copy.stream_version,
        id: copy.id.to_string(),
        r#type: copy.event_type.clone(),
        schema_version: copy.schema_version,
        subject,
        shared_at: Some(prost_types::Timestamp {
            seconds: copy.recorded_at.unix_timestamp(),
            nanos: i32::try_from(copy.recorded_at.nanosecond()).unwrap_or(0),
        }),
        payload: copy.payload.to_vec(),
    }
}
