//! The SQL a consumer runs in its own database: the inbox (`mz_inbox`), parked events
//! (`mz_parked`) and the embedded feed's cursor (`mz_checkpoints`). The tables are created by
//! the event store's migrations, so every service database has them.
//!
//! The statements are portable between PostgreSQL and SQLite through `sqlx::Any` (`$n`
//! placeholders, `ON CONFLICT`, `RETURNING`, only text, integer and blob values). This module
//! does not decide when to run them; the consumer does.

use std::collections::HashSet;

use minzheng_eventstore::Cursor;
use sqlx::{AnyConnection, AssertSqlSafe};
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
}

/// Parks an event for `consumer`; parking it again updates attempts and error.
pub async fn park(
    conn: &mut AnyConnection,
    consumer: &str,
    event: &ParkedEvent<'_>,
) -> Result<(), sqlx::Error> {
    let mut error = event.last_error.clone();
    if error.len() > MAX_ERROR_LEN {
        let mut end = MAX_ERROR_LEN;
        while !error.is_char_boundary(end) {
            end -= 1;
        }
        error.truncate(end);
    }
    sqlx::query(
        "INSERT INTO mz_parked (consumer, event_id, stream_id, event_type, attempts, last_error, payload) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (consumer, event_id) DO UPDATE SET attempts = excluded.attempts, last_error = excluded.last_error",
    )
    .bind(consumer)
    .bind(&event.event_id)
    .bind(&event.stream_id)
    .bind(&event.event_type)
    .bind(i32::try_from(event.attempts).unwrap_or(i32::MAX))
    .bind(error)
    .bind(event.payload.to_vec())
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
