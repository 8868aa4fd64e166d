//! SQLite backend: the event store of the embedded, single-process mode.
//!
//! SQLite has one writer at a time, and that is what makes reading by position simple here:
//! every append runs in a `BEGIN IMMEDIATE` transaction, which takes the write lock before it
//! reads the stream version, so appends commit one after another and position order is commit
//! order. A reader that has seen position `p` can never later find a new event below `p`, and
//! cursors carry `tx = 0`. A multi-stream append runs the body of every request in one such
//! transaction, in request order, and rolls it all back at the first refusal. Within the
//! process a mutex queues writers, so they wait their turn instead of spinning in SQLite's busy
//! handler; `BEGIN IMMEDIATE` and the busy timeout still guard against another process writing
//! the same file.
//!
//! The database runs in WAL mode, so readers never wait for the writer and see the last
//! committed state, with `synchronous=FULL`, so a commit that returned survives a power cut.
//!
//! This module knows SQL and SQLite's locking; it knows nothing of what the events mean.

use std::{collections::HashSet, str::FromStr, sync::Arc, time::Duration};

use async_trait::async_trait;
use bytes::Bytes;
use sqlx::{
    AssertSqlSafe, Row, SqliteExecutor, SqlitePool,
    error::ErrorKind,
    sqlite::{
        SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
        SqliteSynchronous,
    },
};
use time::OffsetDateTime;
use tokio::sync::Mutex;
use tracing::debug;
use uuid::Uuid;

use crate::{
    AppendOutcome, AppendRequest, Cursor, DEFAULT_ACQUIRE_TIMEOUT, EventStore, Metadata, NewEvent,
    ReadBatch, RecordedEvent, Result, Snapshot, StoreError, StreamId, Upcasters,
    convert::{
        from_db, limit_to_db, replay, required_version, schema_from_db, schema_to_db,
        stream_from_db, to_db,
    },
    migrations, multi,
    signal::AppendSignal,
};

/// Pool size used by [`SqliteStore::connect`] for a database file: one writer at a time plus
/// readers that run alongside it.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// How long a statement waits for another process's write lock before failing as
/// [`StoreError::Unavailable`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The columns every event read selects, by the names [`event_from_row`] expects.
macro_rules! event_columns {
    () => {
        "position, event_id, stream_id, stream_version, event_type, schema_version, payload, \
         correlation_id, causation_id, actor, traceparent, tracestate, idempotency_key, \
         recorded_at"
    };
}

const READ_STREAM: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM mz_events WHERE stream_id = ? AND stream_version >= ? \
     ORDER BY stream_version LIMIT ?"
);

/// `Cursor::tx` plays no part: with a single writer, position alone is commit order.
const READ_ALL: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM mz_events WHERE position > ? ORDER BY position LIMIT ?"
);

/// The SQLite event store. Cheap to clone: clones share the pool and the writer queue.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    upcasters: Upcasters,
    /// Held by every write in this process, so writers queue in order instead of polling.
    writer: Arc<Mutex<()>>,
    appends: AppendSignal,
}

impl SqliteStore {
    /// Opens (`?mode=rwc` creates) the database named by a `sqlite:` URL, in WAL mode with
    /// `synchronous=FULL`, and applies the migrations.
    ///
    /// An in-memory database (`sqlite::memory:`) lives only as long as a connection to it, and
    /// connections to it share one cache with table-level locks, so it gets a single connection
    /// that never closes: fine for tests, without the concurrent readers of a file.
    pub async fn connect(url: &str, upcasters: Upcasters) -> Result<Self> {
        Self::connect_with_acquire_timeout(url, upcasters, DEFAULT_ACQUIRE_TIMEOUT).await
    }

    /// [`SqliteStore::connect`] with a pool that waits at most `acquire_timeout` for a
    /// connection before the call fails as [`StoreError::Unavailable`].
    pub async fn connect_with_acquire_timeout(
        url: &str,
        upcasters: Upcasters,
        acquire_timeout: Duration,
    ) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::from_sqlx)?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool_options = if in_memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(DEFAULT_MAX_CONNECTIONS)
        };
        let pool = pool_options
            .acquire_timeout(acquire_timeout)
            .connect_with(options)
            .await
            .map_err(StoreError::from_sqlx)?;
        Self::from_pool(pool, upcasters).await
    }

    /// Uses a pool the caller configured and applies the migrations. Give its connections the
    /// settings [`SqliteStore::connect`] uses (WAL, `synchronous=FULL`, a busy timeout);
    /// the store's guarantees do not depend on them, its durability and concurrency do.
    pub async fn from_pool(pool: SqlitePool, upcasters: Upcasters) -> Result<Self> {
        migrations::sqlite()
            .run(&pool)
            .await
            .map_err(migrations::error)?;
        Ok(Self {
            pool,
            upcasters,
            writer: Arc::new(Mutex::new(())),
            appends: AppendSignal::new(),
        })
    }

    /// The store's pool, for a service's own tables in the same database. Write through it in
    /// transactions begun with `BEGIN IMMEDIATE` (`pool.begin_with("BEGIN IMMEDIATE")`), as
    /// the store does: a deferred transaction that reads and then writes fails with
    /// `SQLITE_BUSY` when another writer got there first, instead of waiting its turn.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    fn upcast_all(&self, rows: &[SqliteRow]) -> Result<Vec<RecordedEvent>> {
        rows.iter()
            .map(|row| self.upcasters.apply(event_from_row(row)?))
            .collect()
    }
}

/// What an append decided inside its transaction.
enum Decision {
    /// Commit: the events and the idempotency row are written.
    Commit(AppendOutcome),
    /// Roll back and answer with this (a replay, or an error).
    Answer(Result<AppendOutcome>),
}

/// The body of an append, inside a `BEGIN IMMEDIATE` transaction: nothing else writes until it
/// commits or rolls back, so the version read here is still current when the events land.
async fn append_in(conn: &mut SqliteConnection, request: &AppendRequest) -> Result<Decision> {
    let metadata = &request.metadata;
    if let Some(key) = metadata.idempotency_key.as_deref()
        && let Some(first) = find_idempotent_on(&mut *conn, key).await?
    {
        return Ok(Decision::Answer(replay(first, &request.stream)));
    }

    let stream = request.stream.to_string();
    let current: i64 = sqlx::query_scalar(
        "SELECT coalesce(max(stream_version), 0) FROM mz_events WHERE stream_id = ?",
    )
    .bind(&stream)
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::from_sqlx)?;
    if required_version(request.expected).is_some_and(|required| required != current) {
        return Ok(Decision::Answer(Err(StoreError::Conflict {
            stream: request.stream.clone(),
            expected: request.expected,
            actual: from_db(current, "stream_version")?,
        })));
    }

    // A repeated id within the request would fail the insert below anyway; finding it here
    // names it without a query.
    let mut seen = HashSet::with_capacity(request.events.len());
    if let Some(repeated) = request.events.iter().find(|e| !seen.insert(e.id)) {
        return Ok(Decision::Answer(Err(StoreError::DuplicateEventId {
            event_id: repeated.id,
        })));
    }

    let recorded_at = OffsetDateTime::now_utc();
    let correlation_id = metadata.correlation_id.map(|id| id.to_string());
    let causation_id = metadata.causation_id.map(|id| id.to_string());
    let mut first = i64::MAX;
    let mut last = i64::MIN;
    let mut version = current;
    let mut rest = request.events.as_slice();
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(chunk_len(rest.len()));
        rest = tail;
        let mut insert = sqlx::query(AssertSqlSafe(insert_sql(chunk.len())));
        for event in chunk {
            version += 1;
            insert = insert
                .bind(event.id.to_string())
                .bind(&stream)
                .bind(request.stream.category())
                .bind(version)
                .bind(event.event_type.as_str())
                .bind(schema_to_db(event.schema_version))
                .bind(event.payload.as_ref())
                .bind(correlation_id.as_deref())
                .bind(causation_id.as_deref())
                .bind(metadata.actor.as_deref())
                .bind(metadata.traceparent.as_deref())
                .bind(metadata.tracestate.as_deref())
                .bind(metadata.idempotency_key.as_deref())
                .bind(recorded_at);
        }
        match insert.execute(&mut *conn).await {
            Ok(done) => {
                // With one writer and AUTOINCREMENT, the rows of a statement get consecutive
                // positions in VALUES order, ending at the last inserted rowid. (Counting
                // beats RETURNING, which would send every position back through the
                // connection's worker one row at a time.)
                last = done.last_insert_rowid();
                if first == i64::MAX {
                    first = last - (chunk.len() as i64 - 1);
                }
            }
            // The version was read under the write lock, so the only unique key these rows
            // can collide with is the event id of an event already stored.
            Err(sqlx::Error::Database(db)) if db.kind() == ErrorKind::UniqueViolation => {
                return match stored_event_id(&mut *conn, chunk).await? {
                    Some(event_id) => Ok(Decision::Answer(Err(StoreError::DuplicateEventId {
                        event_id,
                    }))),
                    None => Err(StoreError::Database(sqlx::Error::Database(db))),
                };
            }
            Err(err) => return Err(StoreError::from_sqlx(err)),
        }
    }
    if first > last {
        return Err(StoreError::Corrupt("the append inserted no rows".into()));
    }
    let event_ids: Vec<Uuid> = request.events.iter().map(|e| e.id).collect();

    if let Some(key) = metadata.idempotency_key.as_deref() {
        let joined = event_ids
            .iter()
            .map(Uuid::to_string)
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query(
            "INSERT INTO mz_idempotency \
                 (key, stream_id, stream_version, first_position, last_position, event_ids) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(key)
        .bind(&stream)
        .bind(version)
        .bind(first)
        .bind(last)
        .bind(joined)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::from_sqlx)?;
    }

    Ok(Decision::Commit(AppendOutcome {
        stream: request.stream.clone(),
        stream_version: from_db(version, "stream_version")?,
        first_position: from_db(first, "position")?,
        last_position: from_db(last, "position")?,
        event_ids,
        replayed: false,
    }))
}

/// Rows per INSERT statement: the largest power of two up to 64 that fits. Multi-row inserts
/// save a trip to the connection's worker thread per event; powers of two keep the number of
/// distinct statements (each cached as a prepared statement) at seven.
fn chunk_len(remaining: usize) -> usize {
    const MAX_ROWS: usize = 64;
    let n = remaining.clamp(1, MAX_ROWS);
    1 << (usize::BITS - 1 - n.leading_zeros())
}

/// The INSERT of `rows` events.
fn insert_sql(rows: usize) -> String {
    const ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    format!(
        "INSERT INTO mz_events (event_id, stream_id, stream_category, stream_version, \
             event_type, schema_version, payload, correlation_id, causation_id, actor, \
             traceparent, tracestate, idempotency_key, recorded_at) \
         VALUES {}",
        vec![ROW; rows].join(", ")
    )
}

/// The first id among `events` that is already stored.
async fn stored_event_id(conn: &mut SqliteConnection, events: &[NewEvent]) -> Result<Option<Uuid>> {
    for event in events {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM mz_events WHERE event_id = ?")
            .bind(event.id.to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(StoreError::from_sqlx)?;
        if found.is_some() {
            return Ok(Some(event.id));
        }
    }
    Ok(None)
}

async fn find_idempotent_on<'e>(
    executor: impl SqliteExecutor<'e>,
    key: &str,
) -> Result<Option<AppendOutcome>> {
    let row = sqlx::query(
        "SELECT stream_id, stream_version, first_position, last_position, event_ids \
         FROM mz_idempotency WHERE key = ?",
    )
    .bind(key)
    .fetch_optional(executor)
    .await
    .map_err(StoreError::from_sqlx)?;
    row.map(|row| {
        let event_ids = get::<String>(&row, "event_ids")?
            .split(',')
            .map(parse_uuid)
            .collect::<Result<Vec<_>>>()?;
        Ok(AppendOutcome {
            stream: stream_from_db(&get::<String>(&row, "stream_id")?)?,
            stream_version: from_db(get(&row, "stream_version")?, "stream_version")?,
            first_position: from_db(get(&row, "first_position")?, "first_position")?,
            last_position: from_db(get(&row, "last_position")?, "last_position")?,
            event_ids,
            replayed: true,
        })
    })
    .transpose()
}

#[async_trait]
impl EventStore for SqliteStore {
    // Errors are recorded at debug level: conflicts are routine under contention, and the
    // caller decides what a failure is worth (the gRPC layer logs what it returns).
    #[tracing::instrument(
        skip_all,
        fields(stream = %request.stream, events = request.events.len()),
        err(level = "debug")
    )]
    async fn append(&self, request: AppendRequest) -> Result<AppendOutcome> {
        if request.events.is_empty() {
            return Err(StoreError::EmptyAppend);
        }
        let _ended = self.appends.on_end();
        let _writer = self.writer.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::from_sqlx)?;
        // Roll back explicitly rather than on drop, so the transaction has ended before the
        // next writer in the queue begins.
        match append_in(&mut tx, &request).await {
            Ok(Decision::Commit(outcome)) => {
                tx.commit().await.map_err(StoreError::from_sqlx)?;
                debug!(
                    version = outcome.stream_version,
                    position = outcome.last_position,
                    "appended"
                );
                Ok(outcome)
            }
            Ok(Decision::Answer(answer)) => {
                tx.rollback().await.map_err(StoreError::from_sqlx)?;
                answer
            }
            Err(err) => {
                // The original error is what the caller needs; a failed rollback adds nothing
                // (the connection is discarded if it is broken).
                let _ = tx.rollback().await;
                Err(err)
            }
        }
    }

    // One `BEGIN IMMEDIATE` transaction around `append_in` for each request: the write lock
    // is held from the first version read to the commit, so every check still holds when the
    // events land, and the first refusal rolls back whatever the earlier requests inserted.
    #[tracing::instrument(
        skip_all,
        fields(streams = %multi::Streams(&requests), events = multi::event_count(&requests)),
        err(level = "debug")
    )]
    async fn append_all(&self, mut requests: Vec<AppendRequest>) -> Result<Vec<AppendOutcome>> {
        multi::check(&requests)?;
        if requests.len() == 1
            && let Some(request) = requests.pop()
        {
            return Ok(vec![self.append(request).await?]);
        }
        let _ended = self.appends.on_end();
        let _writer = self.writer.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::from_sqlx)?;
        let mut outcomes = Vec::with_capacity(requests.len());
        for request in &requests {
            let refusal = match append_in(&mut tx, request).await {
                Ok(Decision::Commit(outcome)) => {
                    outcomes.push(outcome);
                    continue;
                }
                Ok(Decision::Answer(Err(err))) => err,
                // Only a request with an idempotency key is answered with a replay, and
                // `multi::check` refused those.
                Ok(Decision::Answer(Ok(_))) => StoreError::Corrupt(
                    "a multi-stream append without idempotency keys was answered with a replay"
                        .into(),
                ),
                Err(err) => {
                    let _ = tx.rollback().await;
                    return Err(err);
                }
            };
            tx.rollback().await.map_err(StoreError::from_sqlx)?;
            return Err(refusal);
        }
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        debug!(
            requests = outcomes.len(),
            position = outcomes.last().map(|o| o.last_position),
            "appended to several streams"
        );
        Ok(outcomes)
    }

    async fn find_idempotent(&self, key: &str) -> Result<Option<AppendOutcome>> {
        find_idempotent_on(&self.pool, key).await
    }

    async fn stream_version(&self, stream: &StreamId) -> Result<u64> {
        let version: i64 = sqlx::query_scalar(
            "SELECT coalesce(max(stream_version), 0) FROM mz_events WHERE stream_id = ?",
        )
        .bind(stream.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?;
        from_db(version, "stream_version")
    }

    async fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(READ_STREAM)
            .bind(stream.to_string())
            .bind(to_db(from_version))
            .bind(limit_to_db(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        self.upcast_all(&rows)
    }

    async fn read_all(&self, after: Cursor, limit: usize) -> Result<ReadBatch> {
        if limit == 0 {
            return Ok(ReadBatch {
                events: Vec::new(),
                next: after,
            });
        }
        let rows = sqlx::query(READ_ALL)
            .bind(to_db(after.position))
            .bind(limit_to_db(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        let events = self.upcast_all(&rows)?;
        let next = events.last().map_or(after, |e| e.cursor);
        Ok(ReadBatch { events, next })
    }

    async fn cursor_of(&self, position: u64) -> Result<Option<Cursor>> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT position FROM mz_events WHERE position = ?")
                .bind(to_db(position))
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::from_sqlx)?;
        found.map(cursor_at).transpose()
    }

    /// One writer at a time takes positions and commits them in order, so every position up
    /// to the newest committed one is settled (and SQLite leaves no gaps: a rolled-back append
    /// gives its positions back).
    async fn wait_for_position(&self, position: u64) -> Result<Cursor> {
        loop {
            let (newest, at_or_below): (Option<i64>, Option<i64>) = sqlx::query_as(
                "SELECT (SELECT max(position) FROM mz_events), \
                        (SELECT max(position) FROM mz_events WHERE position <= ?)",
            )
            .bind(to_db(position))
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
            if position == 0 || newest.is_some_and(|newest| newest >= to_db(position)) {
                return at_or_below.map_or(Ok(Cursor::START), cursor_at);
            }
            tokio::time::sleep(POSITION_POLL).await;
        }
    }

    async fn head(&self) -> Result<Cursor> {
        let last: Option<i64> = sqlx::query_scalar("SELECT max(position) FROM mz_events")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(last.map(cursor_at).transpose()?.unwrap_or(Cursor::START))
    }

    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<()> {
        let _writer = self.writer.lock().await;
        // Same replacement rule as PostgreSQL: a newer version, or the same version in a newer
        // or equal schema; never an older snapshot.
        sqlx::query(
            "INSERT INTO mz_snapshots (stream_id, stream_version, schema_version, payload) \
             VALUES (?, ?, ?, ?) \
             ON CONFLICT (stream_id) DO UPDATE SET \
                 stream_version = excluded.stream_version, \
                 schema_version = excluded.schema_version, \
                 payload = excluded.payload, \
                 saved_at = CURRENT_TIMESTAMP \
             WHERE mz_snapshots.stream_version < excluded.stream_version \
                OR (mz_snapshots.stream_version = excluded.stream_version \
                    AND mz_snapshots.schema_version <= excluded.schema_version)",
        )
        .bind(snapshot.stream.to_string())
        .bind(to_db(snapshot.stream_version))
        .bind(schema_to_db(snapshot.schema_version))
        .bind(snapshot.payload.as_ref())
        .execute(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    async fn load_snapshot(&self, stream: &StreamId) -> Result<Option<Snapshot>> {
        let row = sqlx::query(
            "SELECT stream_version, schema_version, payload FROM mz_snapshots \
             WHERE stream_id = ?",
        )
        .bind(stream.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?;
        row.map(|row| {
            Ok(Snapshot {
                stream: stream.clone(),
                stream_version: from_db(get(&row, "stream_version")?, "stream_version")?,
                schema_version: schema_from_db(get(&row, "schema_version")?)?,
                payload: Bytes::from(get::<Vec<u8>>(&row, "payload")?),
            })
        })
        .transpose()
    }

    async fn load_checkpoint(&self, name: &str) -> Result<Cursor> {
        let row = sqlx::query("SELECT tx, position FROM mz_checkpoints WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        match row {
            Some(row) => Ok(Cursor {
                tx: from_db(get(&row, "tx")?, "tx")?,
                position: from_db(get(&row, "position")?, "position")?,
            }),
            None => Ok(Cursor::START),
        }
    }

    async fn save_checkpoint(&self, name: &str, cursor: Cursor) -> Result<()> {
        let _writer = self.writer.lock().await;
        sqlx::query(
            "INSERT INTO mz_checkpoints (name, tx, position) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET \
                 tx = excluded.tx, position = excluded.position, \
                 updated_at = CURRENT_TIMESTAMP",
        )
        .bind(name)
        .bind(to_db(cursor.tx))
        .bind(to_db(cursor.position))
        .execute(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn append_ended(&self) -> tokio::sync::watch::Receiver<u64> {
        self.appends.subscribe()
    }
}

/// One column of a row; a value of the wrong type is a database error, not a panic.
fn get<'r, T>(row: &'r SqliteRow, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(column).map_err(StoreError::from_sqlx)
}

fn parse_uuid(text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| StoreError::Corrupt(format!("stored uuid {text:?}: {e}")))
}

fn optional_uuid(text: Option<String>) -> Result<Option<Uuid>> {
    text.as_deref().map(parse_uuid).transpose()
}

/// How often [`EventStore::wait_for_position`] looks again for a position not written yet.
const POSITION_POLL: Duration = Duration::from_millis(5);

fn cursor_at(position: i64) -> Result<Cursor> {
    Ok(Cursor {
        tx: 0,
        position: from_db(position, "position")?,
    })
}

/// A stored event, before upcasting.
fn event_from_row(row: &SqliteRow) -> Result<RecordedEvent> {
    let cursor = cursor_at(get(row, "position")?)?;
    Ok(RecordedEvent {
        id: parse_uuid(&get::<String>(row, "event_id")?)?,
        stream: stream_from_db(&get::<String>(row, "stream_id")?)?,
        stream_version: from_db(get(row, "stream_version")?, "stream_version")?,
        position: cursor.position,
        cursor,
        event_type: get(row, "event_type")?,
        schema_version: schema_from_db(get(row, "schema_version")?)?,
        payload: Bytes::from(get::<Vec<u8>>(row, "payload")?),
        metadata: Metadata {
            correlation_id: optional_uuid(get(row, "correlation_id")?)?,
            causation_id: optional_uuid(get(row, "causation_id")?)?,
            actor: get(row, "actor")?,
            traceparent: get(row, "traceparent")?,
            tracestate: get(row, "tracestate")?,
            idempotency_key: get(row, "idempotency_key")?,
        },
        recorded_at: get(row, "recorded_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two_up_to_sixty_four() {
        let lens: Vec<usize> = [1, 2, 3, 63, 64, 65, 100, 1000]
            .into_iter()
            .map(chunk_len)
            .collect();
        assert_eq!(lens, [1, 2, 2, 32, 64, 64, 64, 64]);
        // 100 events: 64 + 32 + 4.
        let mut rest = 100;
        let mut chunks = Vec::new();
        while rest > 0 {
            let n = chunk_len(rest);
            chunks.push(n);
            rest -= n;
        }
        assert_eq!(chunks, [64, 32, 4]);
    }

    #[test]
    fn the_insert_has_fourteen_placeholders_per_row() {
        assert_eq!(insert_sql(3).matches('?').count(), 3 * 14);
    }
}
