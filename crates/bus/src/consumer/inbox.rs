//! The SQL a consumer runs in its own database: the inbox (`mz_inbox`), parked events
//! (`mz_parked`) and the embedded feed's cursor (`mz_checkpoints`). The tables are created by
//! the event store's migrations, so every service database has them.
//!
//! The statements are portable between PostgreSQL and SQLite through `sqlx::Any` (`$n`
//! placeholders, `ON CONFLICT`, `RETURNING`, only text, integer and blob values). This module
//! does not decide when to run them; the consumer does.

use std::collections::HashSet;

use minzheng_eventstore::{Cursor, Metadata, RecordedEvent, StreamId};
use sqlx::{AnyConnection, AssertSqlSafe, Row as _};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

/// Longest error text kept in `mz_parked.last_error`.
const MAX_ERROR_LEN: usize = 4000;

/// Records `ids` as applied by `consumer` and returns those that were not recorded before.
/// Must be the first statement of the transaction: on SQLite it takes the write lock at once
/// instead of upgrading a read lock later (which fails with `SQLITE_BUSY` under contention).
pub async fn claim(
    conn: &mut AnyConnection,
    consumer: &str,
    ids: &[Uuid],
) -> Result<HashSet<Uuid>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let mut sql = String::from("INSERT INTO mz_inbox (consumer, event_id) VALUES ");
    for i in 0..ids.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("($1, ${})", i + 2));
    }
    sql.push_str(" ON CONFLICT DO NOTHING RETURNING event_id");
    // Only placeholders are interpolated; every value is bound.
    let mut query = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql)).bind(consumer);
    for id in ids {
        query = query.bind(id.to_string());
    }
    let claimed = query.fetch_all(&mut *conn).await?;
    Ok(claimed.iter().filter_map(|id| id.parse().ok()).collect())
}

/// What is recorded about a parked event.
#[derive(Debug)]
pub struct ParkedEvent<'a> {
    /// The event id, or for a message that is not a readable event, whatever identifies it.
    pub event_id: String,
    pub stream_id: String,
    pub event_type: String,
    pub attempts: u32,
    pub last_error: String,
    pub payload: &'a [u8],
    /// The event itself, when the message was one: kept whole, so that it can be re-driven.
    pub event: Option<&'a RecordedEvent>,
}

/// Parks an event for `consumer`; parking it again updates attempts and error.
pub async fn park(
    conn: &mut AnyConnection,
    consumer: &str,
    event: &ParkedEvent<'_>,
) -> Result<(), sqlx::Error> {
    let whole = event.event;
    sqlx::query(
        "INSERT INTO mz_parked (consumer, event_id, stream_id, event_type, attempts, last_error, \
            payload, schema_version, stream_version, event_position, recorded_at, correlation_id, \
            causation_id, traceparent, tracestate) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (consumer, event_id) DO UPDATE SET attempts = excluded.attempts, \
            last_error = excluded.last_error, redrive = 0",
    )
    .bind(consumer)
    .bind(&event.event_id)
    .bind(&event.stream_id)
    .bind(&event.event_type)
    .bind(i32::try_from(event.attempts).unwrap_or(i32::MAX))
    .bind(kept_error(&event.last_error))
    .bind(event.payload.to_vec())
    .bind(whole.map(|e| i64::from(e.schema_version)))
    .bind(whole.map(|e| i64::try_from(e.stream_version).unwrap_or(i64::MAX)))
    .bind(whole.map(|e| i64::try_from(e.position).unwrap_or(i64::MAX)))
    .bind(whole.and_then(|e| e.recorded_at.format(&Rfc3339).ok()))
    .bind(whole.and_then(|e| e.metadata.correlation_id.map(|id| id.to_string())))
    .bind(whole.and_then(|e| e.metadata.causation_id.map(|id| id.to_string())))
    .bind(whole.and_then(|e| e.metadata.traceparent.clone()))
    .bind(whole.and_then(|e| e.metadata.tracestate.clone()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Asks for `consumer`'s parked events (every consumer's when `None`) to be applied again by
/// their consumer, which does so within seconds, once each (through its inbox): what an
/// operator runs after the fix of what made them fail is deployed. Returns how many were asked
/// for, and how many cannot be (parked before events were kept whole, or not readable events).
pub async fn request_redrive(
    conn: &mut AnyConnection,
    consumer: Option<&str>,
) -> Result<(u64, u64), sqlx::Error> {
    // A consumer's name is never empty: '' stands for every consumer.
    let consumer = consumer.unwrap_or_default();
    let requested = sqlx::query(
        "UPDATE mz_parked SET redrive = 1 \
         WHERE recorded_at IS NOT NULL AND ($1 = '' OR consumer = $1)",
    )
    .bind(consumer)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let stuck: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM mz_parked WHERE recorded_at IS NULL AND ($1 = '' OR consumer = $1)",
    )
    .bind(consumer)
    .fetch_one(&mut *conn)
    .await?;
    Ok((requested, u64::try_from(stuck).unwrap_or(0)))
}

/// `consumer`'s parked events an operator asked to re-drive, rebuilt whole (at most `limit`).
pub async fn redrives(
    conn: &mut AnyConnection,
    consumer: &str,
    limit: usize,
) -> Result<Vec<RecordedEvent>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT event_id, stream_id, event_type, payload, schema_version, stream_version, \
            event_position, recorded_at, correlation_id, causation_id, traceparent, tracestate \
         FROM mz_parked WHERE consumer = $1 AND redrive = 1 AND recorded_at IS NOT NULL \
         ORDER BY event_position LIMIT $2",
    )
    .bind(consumer)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(&mut *conn)
    .await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let text = |column: &str| -> Result<Option<String>, sqlx::Error> { row.try_get(column) };
        let number = |column: &str| -> Result<u64, sqlx::Error> {
            let value: Option<i64> = row.try_get(column)?;
            Ok(value.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
        };
        let corrupt = |column: &str| sqlx::Error::ColumnDecode {
            index: column.to_owned(),
            source: "a parked event's envelope does not parse".into(),
        };
        let uuid = |column: &str| -> Result<Option<Uuid>, sqlx::Error> {
            text(column)?
                .map(|v| v.parse().map_err(|_| corrupt(column)))
                .transpose()
        };
        let position = number("event_position")?;
        let payload: Vec<u8> = row.try_get("payload")?;
        events.push(RecordedEvent {
            id: uuid("event_id")?.ok_or_else(|| corrupt("event_id"))?,
            stream: StreamId::parse(&text("stream_id")?.unwrap_or_default())
                .map_err(|_| corrupt("stream_id"))?,
            stream_version: number("stream_version")?,
            position,
            cursor: Cursor { tx: 0, position },
            event_type: text("event_type")?.unwrap_or_default(),
            schema_version: u32::try_from(number("schema_version")?).unwrap_or(u32::MAX),
            payload: payload.into(),
            metadata: Metadata {
                correlation_id: uuid("correlation_id")?,
                causation_id: uuid("causation_id")?,
                actor: None,
                traceparent: text("traceparent")?,
                tracestate: text("tracestate")?,
                idempotency_key: None,
            },
            recorded_at: OffsetDateTime::parse(&text("recorded_at")?.unwrap_or_default(), &Rfc3339)
                .map_err(|_| corrupt("recorded_at"))?,
        });
    }
    Ok(events)
}

/// Leaves a re-driven event that failed again parked, with its new error and the request
/// cleared.
pub async fn redrive_failed(
    conn: &mut AnyConnection,
    consumer: &str,
    event_id: Uuid,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mz_parked SET redrive = 0, attempts = attempts + 1, last_error = $1 \
         WHERE consumer = $2 AND event_id = $3",
    )
    .bind(kept_error(error))
    .bind(consumer)
    .bind(event_id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `error` as `mz_parked.last_error` keeps it: at most [`MAX_ERROR_LEN`] bytes, cut on a
/// character boundary.
fn kept_error(error: &str) -> String {
    let mut end = error.len().min(MAX_ERROR_LEN);
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    error[..end].to_owned()
}

/// Unparks a re-driven event once applied.
pub async fn unpark(
    conn: &mut AnyConnection,
    consumer: &str,
    event_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM mz_parked WHERE consumer = $1 AND event_id = $2")
        .bind(consumer)
        .bind(event_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The saved cursor of a named reader in this database, `Cursor::START` if none.
pub async fn load_cursor(conn: &mut AnyConnection, name: &str) -> Result<Cursor, sqlx::Error> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT tx, position FROM mz_checkpoints WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map_or(Cursor::START, |(tx, position)| Cursor {
        tx: u64::try_from(tx).unwrap_or(0),
        position: u64::try_from(position).unwrap_or(0),
    }))
}

/// Saves a named reader's cursor in this database.
pub async fn save_cursor(
    conn: &mut AnyConnection,
    name: &str,
    cursor: Cursor,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO mz_checkpoints (name, tx, position, updated_at) VALUES ($1, $2, $3, CURRENT_TIMESTAMP) \
         ON CONFLICT (name) DO UPDATE SET tx = excluded.tx, position = excluded.position, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(i64::try_from(cursor.tx).unwrap_or(i64::MAX))
    .bind(i64::try_from(cursor.position).unwrap_or(i64::MAX))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
