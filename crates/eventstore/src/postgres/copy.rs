//! Large appends through `COPY … FROM STDIN (FORMAT binary)`: a payment cycle's tens of
//! megabytes would otherwise be bound as one statement's parameters, which the driver copies
//! into an argument buffer and again into a write buffer, both grown to the whole size, and
//! which the server then unpacks from an array. Streamed in chunks of [`CHUNK_BYTES`], the
//! payloads are copied once on each side.
//!
//! One transaction: the stream's lock ([`STREAM_LOCK`], as a retried append takes it), then the
//! stream's version read and checked, then the rows copied with their versions (with an
//! idempotency key, the first carrying it as the append's key), then their positions read back.
//! The ordering argument of
//! [`super::APPEND_KEYED`] holds: the advisory lock and the reads assign no transaction id, so
//! the id is assigned at the first copied row, after the version was read. A rival append of the
//! same version (one that did not take the lock) trips the stream/version key, which is handled
//! as for any append; so does a concurrent append under the same idempotency key.

use bytes::{BufMut, BytesMut};
use sqlx::{PgConnection, Postgres, Row, Transaction, error::ErrorKind};
use uuid::Uuid;

use super::{Attempt, PostgresStore, STREAM_LOCK};
use crate::{
    AppendOutcome, AppendRequest, EventStore as _, ExpectedVersion, Result, StoreError,
    convert::{from_db, replay, schema_to_db},
};

/// The least payload an append must carry to be copied rather than bound (below it, the one
/// statement of the ordinary append is cheaper than a transaction of five).
pub(super) const COPY_MIN_PAYLOAD_BYTES: usize = 1 << 20;

/// How much is buffered before it is sent to the server.
const CHUNK_BYTES: usize = 1 << 20;

const COPY_EVENTS: &str = "COPY mz_events (event_id, stream_id, stream_category, \
    stream_version, event_type, schema_version, payload, correlation_id, causation_id, actor, \
    traceparent, tracestate, idempotency_key, append_key) FROM STDIN (FORMAT binary)";

/// The columns [`COPY_EVENTS`] lists.
const COLUMNS: i16 = 14;

/// The signature, flags and header extension of PostgreSQL's binary COPY format.
const BINARY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Whether `request` is copied in: by [`PostgresStore::append_by_copy`], or by [`copy_rows`]
/// within a multi-stream append.
pub(super) fn is_large(request: &AppendRequest) -> bool {
    request
        .events
        .iter()
        .map(|e| e.payload.len())
        .sum::<usize>()
        >= COPY_MIN_PAYLOAD_BYTES
}

impl PostgresStore {
    /// One try at a large append (see the [module documentation](self)).
    pub(super) async fn append_by_copy(&self, request: &AppendRequest) -> Result<Attempt> {
        let ids: Vec<Uuid> = request.events.iter().map(|e| e.id).collect();
        let mut tx = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
        let ended = match copy_in(&mut tx, request, &ids).await {
            Ok(Copied::Done(outcome)) => tx.commit().await.map(|()| Copied::Done(outcome)),
            stopped => {
                let _ = tx.rollback().await;
                stopped
            }
        };
        match ended {
            Ok(Copied::Done(outcome)) => Ok(Attempt::Done(outcome)),
            Ok(Copied::Mismatch { actual }) => Err(StoreError::Conflict {
                stream: request.stream.clone(),
                expected: request.expected,
                actual,
            }),
            // Recorded before we held the lock: the first outcome, as it was recorded.
            Ok(Copied::KeyUsed(key)) => match self.find_idempotent(key).await? {
                Some(first) => replay(first, &request.stream).map(Attempt::Done),
                None => Ok(Attempt::Retry),
            },
            Err(sqlx::Error::Database(db)) if db.kind() == ErrorKind::UniqueViolation => {
                let constraint = db.constraint().map(str::to_owned);
                self.after_unique_violation(request, constraint.as_deref(), &ids, db)
                    .await
            }
            Err(error) => Err(StoreError::from_sqlx(error)),
        }
    }
}

/// How the transaction of a large append ended.
enum Copied<'a> {
    Done(AppendOutcome),
    /// The stream is at `actual`, not at the version expected.
    Mismatch {
        actual: u64,
    },
    /// The idempotency key is recorded already.
    KeyUsed(&'a str),
}

/// The append inside its transaction, under the stream's lock: the key checked (a concurrent
/// append under the same key that held the lock first has committed by now), the version
/// checked, the rows copied (the first carrying the key).
async fn copy_in<'r>(
    tx: &mut Transaction<'static, Postgres>,
    request: &'r AppendRequest,
    ids: &[Uuid],
) -> std::result::Result<Copied<'r>, sqlx::Error> {
    let stream = request.stream.to_string();
    sqlx::query(STREAM_LOCK)
        .bind(&stream)
        .execute(&mut **tx)
        .await?;
    if let Some(key) = request.metadata.idempotency_key.as_deref() {
        let used: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM mz_events WHERE append_key = $1) \
                     OR EXISTS (SELECT 1 FROM mz_idempotency WHERE key = $1)",
        )
        .bind(key)
        .fetch_one(&mut **tx)
        .await?;
        if used {
            return Ok(Copied::KeyUsed(key));
        }
    }
    let current: i64 = sqlx::query_scalar(
        "SELECT coalesce(max(stream_version), 0)::bigint FROM mz_events WHERE stream_id = $1",
    )
    .bind(&stream)
    .fetch_one(&mut **tx)
    .await?;
    let current_version = u64::try_from(current).unwrap_or(0);
    let matches = match request.expected {
        ExpectedVersion::Any => true,
        ExpectedVersion::NoStream => current_version == 0,
        ExpectedVersion::Exact(version) => current_version == version,
    };
    if !matches {
        return Ok(Copied::Mismatch {
            actual: current_version,
        });
    }

    let (first, last) = copy_rows(tx, request, current).await?;
    let stream_version = current + i64::try_from(ids.len()).unwrap_or(i64::MAX);
    let decoded = || -> Result<AppendOutcome> {
        Ok(AppendOutcome {
            stream: request.stream.clone(),
            stream_version: from_db(stream_version, "stream_version")?,
            first_position: from_db(first, "position")?,
            last_position: from_db(last, "position")?,
            event_ids: ids.to_vec(),
            replayed: false,
        })
    };
    decoded()
        .map(Copied::Done)
        .map_err(|error| sqlx::Error::Protocol(error.to_string()))
}

/// Copies `request`'s events into the stream after version `current`, in the caller's
/// transaction, which holds the stream's lock and has checked the version; returns the first
/// and last positions they were given. Also the large requests of a multi-stream append
/// ([`super::PostgresStore::append_all_in`]) take this path.
pub(super) async fn copy_rows(
    conn: &mut PgConnection,
    request: &AppendRequest,
    current: i64,
) -> std::result::Result<(i64, i64), sqlx::Error> {
    let stream = request.stream.to_string();
    let mut copy = conn.copy_in_raw(COPY_EVENTS).await?;
    let mut buffer = BytesMut::with_capacity(CHUNK_BYTES + 1024);
    buffer.put_slice(BINARY_HEADER);
    let metadata = &request.metadata;
    for (n, event) in (1i64..).zip(&request.events) {
        buffer.put_i16(COLUMNS);
        put_field(&mut buffer, Some(&event.id.as_bytes()[..]));
        put_field(&mut buffer, Some(stream.as_bytes()));
        put_field(&mut buffer, Some(request.stream.category().as_bytes()));
        put_field(&mut buffer, Some(&(current + n).to_be_bytes()[..]));
        put_field(&mut buffer, Some(event.event_type.as_bytes()));
        put_field(
            &mut buffer,
            Some(&schema_to_db(event.schema_version).to_be_bytes()[..]),
        );
        put_field(&mut buffer, Some(&event.payload[..]));
        put_field(
            &mut buffer,
            metadata
                .correlation_id
                .as_ref()
                .map(|id| &id.as_bytes()[..]),
        );
        put_field(
            &mut buffer,
            metadata.causation_id.as_ref().map(|id| &id.as_bytes()[..]),
        );
        put_field(&mut buffer, metadata.actor.as_deref().map(str::as_bytes));
        put_field(
            &mut buffer,
            metadata.traceparent.as_deref().map(str::as_bytes),
        );
        put_field(
            &mut buffer,
            metadata.tracestate.as_deref().map(str::as_bytes),
        );
        let key = metadata.idempotency_key.as_deref().map(str::as_bytes);
        put_field(&mut buffer, key);
        // The append's key, on its first event (see `APPEND_VALUES_KEYED`).
        put_field(&mut buffer, key.filter(|_| n == 1));
        if buffer.len() >= CHUNK_BYTES {
            copy.send(buffer.split()).await?;
        }
    }
    buffer.put_i16(-1);
    copy.send(buffer).await?;
    copy.finish().await?;

    let positions: Vec<i64> = sqlx::query(
        "SELECT position FROM mz_events WHERE stream_id = $1 AND stream_version > $2 \
         ORDER BY stream_version",
    )
    .bind(&stream)
    .bind(current)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| row.try_get("position"))
    .collect::<std::result::Result<_, _>>()?;
    let (Some(&first), Some(&last)) = (positions.first(), positions.last()) else {
        return Err(sqlx::Error::Protocol(
            "the copied events are not there".into(),
        ));
    };
    Ok((first, last))
}

/// One field of a binary COPY row: its length and bytes, or -1 for NULL.
fn put_field(buffer: &mut BytesMut, value: Option<&[u8]>) {
    match value {
        Some(bytes) => {
            buffer.put_i32(i32::try_from(bytes.len()).unwrap_or(i32::MAX));
            buffer.put_slice(bytes);
        }
        None => buffer.put_i32(-1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binary_header_is_the_signature_and_two_zero_words() {
        assert_eq!(BINARY_HEADER.len(), 11 + 4 + 4);
        assert_eq!(&BINARY_HEADER[..11], b"PGCOPY\n\xff\r\n\0");
    }
}
