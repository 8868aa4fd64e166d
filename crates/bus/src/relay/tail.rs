//! Where a service's stream ends, and which stored event that is: how a relay resynchronises
//! with JetStream instead of trusting its checkpoint.
//!
//! The checkpoint says what the last relay *acknowledged*; the stream says what it *stored*.
//! They differ after a crash between a publish and its checkpoint, and then re-publishing from
//! the checkpoint would rely on JetStream's duplicate window, which a long enough stall
//! outlives. So before publishing (at the start of every term as leader, and after any batch
//! whose outcome is uncertain) the relay reads the stream's last message, finds that event in
//! its store by the `ce-position` header, and continues right after it. Every publish then
//! names the sequence it expects to follow (`Nats-Expected-Last-Sequence`), so anything that
//! would land after an unexpected message — a second relay, a lost publish — is refused and
//! sends the relay back here.

use async_nats::jetstream::{
    self,
    context::GetStreamError,
    stream::{RawMessageError, RawMessageErrorKind},
};
use minzheng_eventstore::{Cursor, EventStore, StoreError};

use crate::envelope;

/// The end of the stream as the relay continues from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tail {
    /// The stream's last sequence (0 for a stream that never held a message): what the next
    /// publish expects to follow.
    pub sequence: u64,
    /// The store cursor to publish after: the stored event the stream ends with, or the
    /// relay's checkpoint when the stream's end says nothing about the store (see [`resync`]).
    pub cursor: Cursor,
}

/// Why the stream's end could not be matched with the store.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ResyncError {
    #[error("cannot read the stream's end: {0}")]
    Nats(#[from] async_nats::Error),
    #[error("cannot look the stream's last event up in the store: {0}")]
    Store(#[from] StoreError),
    #[error(
        "the stream's last message (sequence {sequence}) is event position {position}, which \
         this store does not hold: the stream is ahead of the store (was the database restored \
         from an older backup?); publishing would interleave two histories"
    )]
    AheadOfStore { sequence: u64, position: u64 },
}

impl From<GetStreamError> for ResyncError {
    fn from(error: GetStreamError) -> Self {
        Self::Nats(error.into())
    }
}

impl From<RawMessageError> for ResyncError {
    fn from(error: RawMessageError) -> Self {
        Self::Nats(error.into())
    }
}

/// Reads the end of `stream` and where it is in `store`, whose events bear `source`. `checkpoint` is kept when the
/// stream is empty, when its last message is gone (removed by a limit or by hand) or when that
/// message is not one of this service's events (someone else published on its subjects).
pub(crate) async fn resync(
    js: &jetstream::Context,
    stream: &str,
    source: &str,
    store: &dyn EventStore,
    checkpoint: Cursor,
) -> Result<Tail, ResyncError> {
    let stream = js.get_stream(stream).await?;
    let sequence = stream.cached_info().state.last_sequence;
    let keep = Tail {
        sequence,
        cursor: checkpoint,
    };
    if sequence == 0 {
        return Ok(keep);
    }
    let message = match stream.get_raw_message(sequence).await {
        Ok(message) => message,
        Err(error) if error.kind() == RawMessageErrorKind::NoMessageFound => {
            tracing::info!(
                sequence,
                "the stream's last message was removed; resuming from the checkpoint"
            );
            return Ok(keep);
        }
        Err(error) => return Err(error.into()),
    };
    let header = |name: &str| {
        message
            .headers
            .get(name)
            .map(|value| value.as_str().to_owned())
    };
    let position = match (header(envelope::CE_SOURCE), header(envelope::CE_POSITION)) {
        (Some(from), Some(position)) if from == source => position.parse().ok(),
        _ => None,
    };
    let Some(position) = position else {
        tracing::warn!(
            sequence,
            "the stream's last message is not one of this service's events; resuming from the checkpoint"
        );
        return Ok(keep);
    };
    match store.cursor_of(position).await? {
        Some(cursor) => Ok(Tail { sequence, cursor }),
        None => Err(ResyncError::AheadOfStore { sequence, position }),
    }
}
