//! PostgreSQL backend: the production event store.
//!
//! **Appends** are one statement in autocommit, so an append costs one round trip and one
//! commit however many events it carries. Without an idempotency key (most appends), up to 128
//! events go in as a multi-row `VALUES` list checked as cheaply as the expected version allows:
//! a new stream is inserted directly, an exact version is probed, only `Any` reads the current
//! version (`APPEND_VALUES`); larger appends insert from `unnest` arrays. With a key, the same
//! statement also records the key on the append's first event (`append_key`, under a unique
//! index) without looking it up first: a key used before trips a unique key (or, for a key
//! recorded in `mz_idempotency` before migration 5, makes the statement insert nothing), and
//! only then is the first outcome read, from the events themselves. A lost
//! race surfaces as a unique violation on `(stream_id, stream_version)` — a
//! [`StoreError::Conflict`], or for [`ExpectedVersion::Any`] a retry that queues on a
//! per-stream advisory lock — or on the idempotency key, and then the first append's outcome is
//! returned. Nothing uses `ON CONFLICT DO NOTHING` on events. An append of a megabyte of
//! payloads or more (a payment cycle's lines) is copied in instead (`COPY … (FORMAT binary)`,
//! streamed; see the `copy` module), in a transaction under the stream's lock, with the same
//! outcomes.
//!
//! **Multi-stream appends** ([`EventStore::append_all`]) are one transaction: it takes the
//! per-stream locks in the order of the stream ids (so two such appends never deadlock), reads
//! every stream's version in one statement before the transaction has an id, then inserts each
//! request with the statement a single append would use, requiring the version it read. A
//! deadlock or serialization failure, should one still happen, is retried like a lost race.
//!
//! **Reading by position** orders by `(tx_id, position)`, where `tx_id` is the inserting
//! transaction's id (`xid8`), and only returns rows of transactions older than the oldest one
//! still running that could write to this database (`read_horizon!`: transaction ids are
//! cluster-wide, but a session belongs to one database, so transactions known to run in another
//! database are skipped). Every transaction below that horizon that could have inserted here has
//! finished and every later transaction gets a larger id, so no event can ever appear behind a
//! cursor: a late commit pauses readers instead of being skipped. The price is that a
//! long-running writing transaction *in this database* holds readers back;
//! [`PostgresStore::oldest_open_transaction`] names it for a metric and a warning.
//!
//! This module knows SQL and PostgreSQL's transaction ids; it knows nothing of what the events
//! mean, and it does not publish them (the relay reads them with [`EventStore::read_all`]).

use std::{
    collections::{HashMap, HashSet},
    sync::LazyLock,
    time::Duration,
};

use async_trait::async_trait;
use bytes::Bytes;
use sqlx::{
    AssertSqlSafe, PgConnection, PgPool, Postgres, Row,
    error::ErrorKind,
    postgres::{PgArguments, PgPoolOptions, PgRow},
    query::Query,
};
use tracing::debug;
use uuid::Uuid;

use crate::{
    AppendOutcome, AppendRequest, Cursor, DEFAULT_ACQUIRE_TIMEOUT, EventStore, ExpectedVersion,
    Metadata, ReadBatch, RecordedEvent, Result, Snapshot, StoreError, StreamId, Upcasters,
    convert::{
        from_db, limit_to_db, replay, required_version, schema_from_db, schema_to_db,
        stream_from_db, to_db,
    },
    migrations, multi,
    signal::AppendSignal,
};

mod copy;

/// Pool size used by [`PostgresStore::connect`]; use [`PostgresStore::from_pool`] to choose.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// How often an [`ExpectedVersion::Any`] append retries after losing a race. Retries queue on
/// a per-stream lock (see [`STREAM_LOCK`]), so only appends naming an exact version can still
/// beat them; running out takes a stream under extreme contention, and the caller then sees a
/// `Conflict`.
const MAX_APPEND_ATTEMPTS: u32 = 20;

/// Serialises the retries of `ExpectedVersion::Any` appends to one stream. Without it, writers
/// that lost a race retry all at once, all but one lose again, and under load some starve
/// (they hold pool connections while doing it, starving everyone else too). The lock is taken
/// in its own statement, before the append statement, so the append's snapshot — taken after
/// the lock is granted, and so after the previous holder committed — sees the latest version.
/// An advisory lock assigns no transaction id, which keeps the ordering argument of
/// [`APPEND_KEYED`] intact. The first argument namespaces the key away from other advisory locks.
const STREAM_LOCK: &str = "SELECT pg_advisory_xact_lock(1836737650, hashtext($1))";

/// The current version of each stream in $1 (their stored ids), read by a multi-stream append
/// under the streams' locks and before its transaction has an id (see
/// [`PostgresStore::append_all_in`]). The correlated `max()` reads one index entry per stream.
const STREAM_VERSIONS: &str = "\
SELECT s.stream_id,
    (SELECT coalesce(max(e.stream_version), 0) FROM mz_events AS e
     WHERE e.stream_id = s.stream_id)::bigint AS version
FROM unnest($1::text[]) AS s(stream_id)";

/// SQLSTATEs of a transaction PostgreSQL aborted so that another could go on: a deadlock
/// (`40P01`) or a serialization failure (`40001`). A fresh attempt may succeed.
const TRANSIENT_ABORTS: [&str; 2] = ["40P01", "40001"];

/// Names of the unique constraints an append can violate (see the migrations).
const STREAM_VERSION_KEY: &str = "mz_events_stream_version_key";
const EVENT_ID_KEY: &str = "mz_events_event_id_key";
const APPEND_KEY: &str = "mz_events_append_key";

/// The whole append in one statement.
///
/// Why the version is read before the transaction gets its id: readers order events by
/// `tx_id`, and events of one stream must come out in version order. All CTEs of a statement
/// share the snapshot taken when the statement starts, and PostgreSQL assigns the transaction
/// id lazily, at the first row this statement inserts. So if we read version `v`, the
/// transaction that wrote `v` had committed before our snapshot, hence took its id before our
/// snapshot, hence before ours: its `tx_id` is smaller. Anything that gave this transaction an
/// id before this statement's snapshot would break that — an earlier statement in the same
/// transaction that writes (inserting the idempotency row first, say) or calls
/// `pg_current_xact_id()`: we could take id 99, a rival take 100 and commit version 6, and we
/// then read 6 and write version 7 with `tx_id` 99, which readers would deliver before version
/// 6. Keep the version read in this statement, and nothing that assigns an id before it (the
/// contract test `concurrent_any_appends_to_one_stream_are_read_in_version_order` catches it).
///
/// This form checks an idempotency key recorded before the append keys (`prior`, from
/// `mz_idempotency`) and records the key as the append's (`append_key`; a key used since trips
/// its unique index), for a keyed append of more events than [`APPEND_VALUES_KEYED`] takes; [`APPEND`] is the same without one (a smaller plan, and most
/// appends carry no key). Parameters: $1 stream id, $2 category, $3
/// required version (NULL for Any), $4..$7 the events' ids, types, schema versions and
/// payloads, $8..$12 correlation, causation, actor, traceparent, tracestate, $13 the key.
const APPEND_KEYED: &str = r#"
WITH prior AS (
    SELECT stream_id, stream_version, first_position, last_position, event_ids
    FROM mz_idempotency
    WHERE key = $13
),
cur AS (
    SELECT coalesce(max(stream_version), 0)::bigint AS version
    FROM mz_events
    WHERE stream_id = $1
),
ins AS (
    INSERT INTO mz_events (event_id, stream_id, stream_category, stream_version, event_type,
        schema_version, payload, correlation_id, causation_id, actor, traceparent, tracestate,
        idempotency_key, append_key)
    SELECT e.event_id, $1, $2, cur.version + e.n, e.event_type, e.schema_version, e.payload,
        $8, $9, $10, $11, $12, $13, CASE WHEN e.n = 1 THEN $13 END
    FROM cur,
        unnest($4::uuid[], $5::text[], $6::int4[], $7::bytea[])
            WITH ORDINALITY AS e(event_id, event_type, schema_version, payload, n)
    WHERE NOT EXISTS (SELECT 1 FROM prior)
        AND ($3::bigint IS NULL OR cur.version = $3::bigint)
    ORDER BY e.n
    RETURNING position, stream_version
)
SELECT cur.version AS current_version,
    agg.inserted, agg.first_position, agg.last_position, agg.stream_version,
    prior.stream_id AS prior_stream, prior.stream_version AS prior_version,
    prior.first_position AS prior_first, prior.last_position AS prior_last,
    prior.event_ids AS prior_event_ids
FROM cur
CROSS JOIN (
    SELECT count(*) AS inserted, min(position) AS first_position,
        max(position) AS last_position, max(stream_version) AS stream_version
    FROM ins
) AS agg
LEFT JOIN prior ON true
"#;

/// [`APPEND_KEYED`] without an idempotency key, and so without the CTEs: one `INSERT … SELECT`
/// that reads the version in a subquery (the same ordering argument holds: one statement, one
/// snapshot, the id assigned at the first inserted row). Most appends carry no key, and this
/// plan is about as cheap as a plain insert. It returns one row per inserted event, and none
/// when the version did not match. Parameters as for [`APPEND_KEYED`], up to $12.
const APPEND: &str = r#"
INSERT INTO mz_events (event_id, stream_id, stream_category, stream_version, event_type,
    schema_version, payload, correlation_id, causation_id, actor, traceparent, tracestate)
SELECT e.event_id, $1, $2, cur.version + e.n, e.event_type, e.schema_version, e.payload,
    $8, $9, $10, $11, $12
FROM (
        SELECT coalesce(max(stream_version), 0)::bigint AS version
        FROM mz_events
        WHERE stream_id = $1
    ) AS cur,
    unnest($4::uuid[], $5::text[], $6::int4[], $7::bytea[])
        WITH ORDINALITY AS e(event_id, event_type, schema_version, payload, n)
WHERE $3::bigint IS NULL OR cur.version = $3::bigint
ORDER BY e.n
RETURNING position, stream_version
"#;

/// Most events a keyless append writes with [`append_values_sql`]; larger appends use
/// [`APPEND`]. Each count is its own prepared statement, so this also bounds how many a
/// connection caches.
const VALUES_MAX_EVENTS: usize = 128;

/// How a keyless `VALUES` append checks the stream's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VersionCheck {
    /// The stream must not exist (`NoStream`, `Exact(0)`): the events get versions 1..=n and
    /// nothing is read first; if the stream exists, version 1 violates the stream/version key,
    /// which the store reports as a conflict.
    New = 0,
    /// The stream must be at version $3 (`Exact`): the events get $3+1..=$3+n, inserted only if
    /// version $3 exists (one index probe). A stream further on violates the stream/version
    /// key; a stream not yet there inserts nothing.
    At = 1,
    /// Any version: the current one is read with `max()`, as [`APPEND`] does.
    Any = 2,
}

impl VersionCheck {
    fn of(expected: ExpectedVersion) -> Self {
        match expected {
            ExpectedVersion::NoStream | ExpectedVersion::Exact(0) => VersionCheck::New,
            ExpectedVersion::Exact(_) => VersionCheck::At,
            ExpectedVersion::Any => VersionCheck::Any,
        }
    }
}

/// [`APPEND`] for 1..=[`VALUES_MAX_EVENTS`] events without an idempotency key, one statement
/// per event count and [`VersionCheck`]: the events as a multi-row `VALUES` list instead of
/// `unnest … WITH ORDINALITY … ORDER BY` (whose function scan and sort cost throughput when
/// measured), and no `max()` read unless the version is `Any` (the read costs about a seventh
/// of a single-event append at 32 writers). Rows are inserted in list order (a `VALUES` list,
/// cross-joined at most with one row, keeps its order, and an `INSERT` plan is never parallel),
/// so positions increase with versions; the contract tests read them back in version order.
///
/// The ordering argument of [`APPEND_KEYED`] still holds: a statement that requires version $3
/// sees it in its snapshot, so the transaction that wrote it has the smaller id; a new stream
/// has no earlier event to order against.
///
/// Parameters: $1 stream id, $2 category, $3 required version (NULL for Any; unused by `New`),
/// then four per event (id, type, schema version, payload), then correlation, causation,
/// actor, traceparent, tracestate.
static APPEND_VALUES: LazyLock<[Vec<String>; 3]> = LazyLock::new(|| values_statements(false));

/// [`APPEND_VALUES`] for an append with an idempotency key, which records the key with the
/// events: on every event's `idempotency_key`, and as the append's key on its first event
/// (`append_key`, under a unique index). It does not look the key up first: a key used before
/// makes the statement fail on a unique key — the append key's, or, for a retry of the same
/// append, the stream/version key its events took — or insert nothing (a key in
/// `mz_idempotency`, recorded before the append keys), and only then is
/// the first outcome read ([`PostgresStore::after_unique_violation`],
/// [`PostgresStore::values_outcome`]). So the common case (a key never used) costs about what a
/// keyless append costs, where a look-up first cost about a third of the throughput at 32
/// writers, and a row of its own in `mz_idempotency` about a sixth, when measured. The key is
/// the last parameter, after the metadata.
static APPEND_VALUES_KEYED: LazyLock<[Vec<String>; 3]> = LazyLock::new(|| values_statements(true));

fn values_statements(keyed: bool) -> [Vec<String>; 3] {
    [VersionCheck::New, VersionCheck::At, VersionCheck::Any].map(|check| {
        (0..=VALUES_MAX_EVENTS)
            .map(|n| append_values_sql(n, check, keyed))
            .collect()
    })
}

/// The `INSERT` of an [`APPEND_VALUES`] or [`APPEND_VALUES_KEYED`] statement, ending in
/// `RETURNING position, stream_version`. A keyed one writes the key on every event
/// (`idempotency_key`) and as the append's key on its first (`append_key`, unique), and inserts
/// nothing if `mz_idempotency` holds the key (recorded before the append keys).
fn append_values_sql(events: usize, check: VersionCheck, keyed: bool) -> String {
    let m = 4 + 4 * events;
    let (key_columns, key) = if keyed {
        (", idempotency_key, append_key", format!("${}::text", m + 5))
    } else {
        ("", String::new())
    };
    let metadata = format!("${m}, ${}, ${}, ${}, ${}", m + 1, m + 2, m + 3, m + 4);
    // The key columns of event `i`: the key, and the append's key on the first event only.
    let key_values = |i: usize| match (keyed, i) {
        (false, _) => String::new(),
        (true, 0) => format!(", {key}, {key}"),
        (true, _) => format!(", {key}, NULL::text"),
    };
    let unused_key = if keyed {
        format!(" AND NOT EXISTS (SELECT 1 FROM mz_idempotency WHERE key = {key})")
    } else {
        String::new()
    };
    let columns = format!(
        "INSERT INTO mz_events (event_id, stream_id, stream_category, stream_version, \
         event_type, schema_version, payload, correlation_id, causation_id, actor, \
         traceparent, tracestate{key_columns})"
    );
    let row = |i: usize, version: String| {
        let p = 4 + 4 * i;
        format!(
            "(${p}::uuid, $1, $2, {version}, ${}::text, ${}::int4, ${}::bytea, {metadata}{})",
            p + 1,
            p + 2,
            p + 3,
            key_values(i)
        )
    };
    match check {
        VersionCheck::New => {
            let rows: Vec<String> = (0..events)
                .map(|i| row(i, format!("{}::bigint", i + 1)))
                .collect();
            if keyed {
                format!(
                    "{columns} SELECT * FROM (VALUES {}) AS v WHERE true{unused_key} \
                     RETURNING position, stream_version",
                    rows.join(", ")
                )
            } else {
                format!(
                    "{columns} VALUES {} RETURNING position, stream_version",
                    rows.join(", ")
                )
            }
        }
        VersionCheck::At => {
            let rows: Vec<String> = (0..events)
                .map(|i| row(i, format!("$3::bigint + {}", i + 1)))
                .collect();
            format!(
                "{columns} SELECT * FROM (VALUES {}) AS v \
                 WHERE EXISTS ( \
                     SELECT 1 FROM mz_events WHERE stream_id = $1 AND stream_version = $3::bigint \
                 ){unused_key} \
                 RETURNING position, stream_version",
                rows.join(", ")
            )
        }
        VersionCheck::Any => {
            let rows: Vec<String> = (0..events)
                .map(|i| {
                    let p = 4 + 4 * i;
                    format!(
                        "(${p}::uuid, ${}::text, ${}::int4, ${}::bytea, {}::bigint)",
                        p + 1,
                        p + 2,
                        p + 3,
                        i + 1
                    )
                })
                .collect();
            let key_select = if keyed {
                format!(", {key}, CASE WHEN v.n = 1 THEN {key} END")
            } else {
                String::new()
            };
            format!(
                "{columns} \
                 SELECT v.event_id, $1, $2, cur.version + v.n, v.event_type, v.schema_version, \
                     v.payload, {metadata}{key_select} \
                 FROM ( \
                         SELECT coalesce(max(stream_version), 0)::bigint AS version \
                         FROM mz_events \
                         WHERE stream_id = $1 \
                     ) AS cur, \
                     (VALUES {}) AS v(event_id, event_type, schema_version, payload, n) \
                 WHERE ($3::bigint IS NULL OR cur.version = $3::bigint){unused_key} \
                 RETURNING position, stream_version",
                rows.join(", ")
            )
        }
    }
}

/// Room for an append's parameters, reserved at once: a payment cycle appends megabytes of
/// payloads, which bound one by one would grow (and copy) the buffer a dozen times.
fn reserved_arguments(request: &AppendRequest) -> PgArguments {
    /// Room for a parameter's length and a scalar or short text.
    const PER_PARAMETER: usize = 48;
    let parameters = 13 + 4 * request.events.len();
    let payloads: usize = request.events.iter().map(|e| e.payload.len()).sum();
    let mut arguments = PgArguments::default();
    sqlx::Arguments::reserve(
        &mut arguments,
        parameters,
        payloads + parameters * PER_PARAMETER,
    );
    arguments
}

/// Whether the append of `request` is the [`APPEND_KEYED`] statement, which looks its key up
/// before inserting and answers in one row (a keyed append of more events than a `VALUES`
/// statement takes); every other form returns the rows it inserted.
fn looks_key_up_first(request: &AppendRequest) -> bool {
    request.metadata.idempotency_key.is_some() && request.events.len() > VALUES_MAX_EVENTS
}

/// The statement of one append, in the form [`PostgresStore::append`] picks for it (see the
/// module docs), checking `expected` (the request's own, or for a multi-stream append the
/// version read under the streams' locks), with every parameter bound. `ids` are the events'
/// ids, in order.
fn append_statement(
    request: &AppendRequest,
    expected: ExpectedVersion,
    ids: &[Uuid],
) -> Query<'static, Postgres, PgArguments> {
    let metadata = &request.metadata;
    let stream = request.stream.to_string();

    let key = metadata.idempotency_key.as_deref();
    let arguments = reserved_arguments(request);
    let query = match (key, request.events.as_slice()) {
        (key, events) if events.len() <= VALUES_MAX_EVENTS => {
            let check = VersionCheck::of(expected);
            let statements = if key.is_some() {
                &APPEND_VALUES_KEYED
            } else {
                &APPEND_VALUES
            };
            let sql = statements[check as usize][events.len()].as_str();
            events.iter().fold(
                sqlx::query_with(AssertSqlSafe(sql), arguments)
                    .bind(&stream)
                    .bind(request.stream.category())
                    .bind(required_version(expected)),
                |query, event| {
                    query
                        .bind(event.id)
                        .bind(event.event_type.as_str())
                        .bind(schema_to_db(event.schema_version))
                        .bind(event.payload.as_ref())
                },
            )
        }
        _ => sqlx::query_with(if key.is_some() { APPEND_KEYED } else { APPEND }, arguments)
            .bind(&stream)
            .bind(request.stream.category())
            .bind(required_version(expected))
            // The column arrays `unnest` reads; a single event binds its scalars above.
            .bind(ids)
            .bind(
                request
                    .events
                    .iter()
                    .map(|e| e.event_type.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                request
                    .events
                    .iter()
                    .map(|e| schema_to_db(e.schema_version))
                    .collect::<Vec<_>>(),
            )
            .bind(
                request
                    .events
                    .iter()
                    .map(|e| e.payload.as_ref())
                    .collect::<Vec<&[u8]>>(),
            ),
    }
    .bind(metadata.correlation_id)
    .bind(metadata.causation_id)
    .bind(metadata.actor.as_deref())
    .bind(metadata.traceparent.as_deref())
    .bind(metadata.tracestate.as_deref());
    match key {
        Some(key) => query.bind(key),
        None => query,
    }
}

/// The events of the append whose key is $1, in order: the event carrying it as `append_key` and
/// those its transaction appended after it to the same stream. A keyed append is the only
/// append to its stream in its transaction (one statement, or a copy under the stream's lock;
/// a multi-stream append takes no key), so these are exactly its events.
const APPENDED_UNDER_KEY: &str = "\
SELECT e.stream_id, e.stream_version, e.position, e.event_id
FROM mz_events AS f
JOIN mz_events AS e
    ON e.stream_id = f.stream_id AND e.tx_id = f.tx_id AND e.stream_version >= f.stream_version
WHERE f.append_key = $1
ORDER BY e.stream_version";

/// The columns every event read selects, in the order [`event_from_row`] expects by name.
macro_rules! event_columns {
    () => {
        "position, tx_id::text::bigint AS tx, event_id, stream_id, stream_version, event_type, \
         schema_version, payload, correlation_id, causation_id, actor, traceparent, tracestate, \
         idempotency_key, recorded_at"
    };
}

const READ_STREAM: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM mz_events WHERE stream_id = $1 AND stream_version >= $2 \
     ORDER BY stream_version LIMIT $3"
);

/// The events of several streams from a version each (`$1` the stream ids, `$2` the versions,
/// in pairs), ordered by stream and version: one index scan per stream. The lateral join keeps
/// it so in the generic plan of the prepared statement, which knows nothing of the arrays; a
/// plain join there merge-joins the whole `(stream_id, stream_version)` index.
const READ_STREAMS: &str = concat!(
    "SELECT e.* FROM unnest($1::text[], $2::bigint[]) AS wanted (wanted_stream, wanted_from) \
     CROSS JOIN LATERAL (SELECT ",
    event_columns!(),
    " FROM mz_events WHERE stream_id = wanted_stream AND stream_version >= wanted_from \
       ORDER BY stream_version LIMIT $3) AS e \
     ORDER BY e.stream_id, e.stream_version LIMIT $3"
);

/// The read horizon, an `xid8`: every transaction below it that could have written to this
/// database has ended (see the module docs). It is the oldest transaction still running in the
/// statement's snapshot, skipping those known to run in another database of the cluster (a
/// session, or a prepared transaction, belongs to one database for life and cannot insert into
/// this one's `mz_events`), or the snapshot's next id when none is left. A running transaction
/// whose database cannot be told (its session just ended, or is not visible to this role)
/// counts as ours: the horizon may wait longer than needed, never too little.
macro_rules! read_horizon {
    () => {
        "(SELECT coalesce(min(running), pg_snapshot_xmax(pg_current_snapshot())) \
          FROM pg_snapshot_xip(pg_current_snapshot()) AS running \
          WHERE xid(running) NOT IN ( \
              SELECT backend_xid FROM pg_stat_activity \
              WHERE backend_xid IS NOT NULL AND datname <> current_database() \
              UNION ALL \
              SELECT transaction FROM pg_prepared_xacts WHERE database <> current_database()))"
    };
}

/// Reads after a cursor, below the read horizon (see the module docs).
const READ_ALL: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM mz_events \
     WHERE (tx_id, position) > ($1::bigint::text::xid8, $2::bigint) \
       AND tx_id < ",
    read_horizon!(),
    " ORDER BY tx_id, position LIMIT $3"
);

/// The cursor of the event at a position, if it is below the read horizon.
const CURSOR_OF: &str = concat!(
    "SELECT tx_id::text::bigint AS tx, position FROM mz_events WHERE position = $1 AND tx_id < ",
    read_horizon!()
);

/// The cursor of the last event below the read horizon.
const HEAD: &str = concat!(
    "SELECT tx_id::text::bigint AS tx, position FROM mz_events WHERE tx_id < ",
    read_horizon!(),
    " ORDER BY tx_id DESC, position DESC LIMIT 1"
);

/// An open transaction that holds event readers back (see
/// [`PostgresStore::oldest_open_transaction`]): what an SRE needs to find it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenTransaction {
    pub age: Duration,
    /// The server process running it (`pg_terminate_backend` takes it); `None` for a prepared
    /// transaction.
    pub pid: Option<i32>,
    /// The session's `application_name`, or the prepared transaction's gid.
    pub application: Option<String>,
}

/// The greatest committed position at or below $1, and whether `read_all` can read it yet (its
/// transaction is below the oldest running one). A backward step on the primary key.
const LAST_COMMITTED_AT_OR_BELOW: &str = concat!(
    "SELECT tx_id::text::bigint AS tx, position, tx_id < ",
    read_horizon!(),
    " AS readable FROM mz_events WHERE position <= $1 ORDER BY position DESC LIMIT 1"
);

/// Whether the position sequence has handed out $1 (to a transaction that may have committed,
/// rolled back or still be running: sequences are not transactional).
const POSITION_TAKEN: &str = "\
SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('mz_events', 'position')::regclass),
    0) >= $1";

/// The virtual transaction ids of every transaction running in this database but this
/// statement's own (and of those whose database cannot be told). Every transaction has one from
/// its first statement on (unlike an `xid`, which a transaction gets only at its first write: a
/// position is taken a moment before that). Sessions of other databases cannot take a position
/// of this database's sequence.
const RUNNING_TRANSACTIONS: &str = "\
SELECT coalesce(array_agg(virtualxid), '{}') FROM pg_locks
WHERE locktype = 'virtualxid' AND pid IS DISTINCT FROM pg_backend_pid()
  AND (pid IS NULL OR pid NOT IN (
      SELECT pid FROM pg_stat_activity WHERE datname <> current_database()))";

/// Whether any of the virtual transactions in $1 is still running.
const ANY_STILL_RUNNING: &str = "\
SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'virtualxid' AND virtualxid = ANY($1))";

/// How often [`EventStore::wait_for_position`] looks again.
const POSITION_POLL: Duration = Duration::from_millis(5);

/// How far [`PostgresStore::wait_for_position`] has got in settling positions up to the one it
/// waits for.
enum Settling {
    /// The position may not have been handed out yet.
    NotTaken,
    /// Handed out before these transactions were listed; any transaction that holds a position
    /// at or below it is among them.
    Running(Vec<String>),
    /// Every transaction that held a position at or below it has ended: the committed events
    /// up to it are all there is and ever will be.
    Settled,
}

/// The PostgreSQL event store. Cheap to clone: clones share the pool.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    upcasters: Upcasters,
    appends: AppendSignal,
}

/// What one append attempt came to.
enum Attempt {
    Done(AppendOutcome),
    /// Lost a race that a fresh attempt can win: an `ExpectedVersion::Any` append beaten to
    /// its version, an exact one whose stream reached the expected version meanwhile, or a
    /// competing idempotent append that vanished.
    Retry,
}

/// Why a multi-stream append's transaction stopped short of inserting everything.
enum Stopped {
    /// Request `index` expected another version than the stream's `actual` one.
    Mismatch { index: usize, actual: u64 },
    /// Request `index`'s statement inserted nothing: its stream moved on after the versions
    /// were read (only the unnest form, for more than [`VALUES_MAX_EVENTS`] events, says so
    /// this way; the others violate the stream/version key).
    Moved { index: usize },
    /// A statement failed; `index` is the request it was for (the first for the locks and the
    /// version read, whose failures are not specific to one request).
    Failed { index: usize, error: sqlx::Error },
}

/// What one attempt at a multi-stream append came to, after its transaction ended.
enum AllAttempt {
    Done(Vec<AppendOutcome>),
    /// Lost a race that a fresh transaction can win, on request `index`'s stream.
    Retry {
        index: usize,
    },
}

impl PostgresStore {
    /// Connects with a pool of [`DEFAULT_MAX_CONNECTIONS`] and applies the migrations.
    ///
    /// The pool does not ping a connection before lending it (sqlx's default does): that ping
    /// is a round trip on every append and every read, and measured here it halved append
    /// throughput. A connection that died while idle instead fails the call that used it, with
    /// [`StoreError::Unavailable`], and the pool replaces it; the caller's retry succeeds.
    pub async fn connect(url: &str, upcasters: Upcasters) -> Result<Self> {
        Self::connect_with_acquire_timeout(url, upcasters, DEFAULT_ACQUIRE_TIMEOUT).await
    }

    /// [`PostgresStore::connect`] with a pool that waits at most `acquire_timeout` for a
    /// connection (opening one included) before the call fails as [`StoreError::Unavailable`].
    pub async fn connect_with_acquire_timeout(
        url: &str,
        upcasters: Upcasters,
        acquire_timeout: Duration,
    ) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(DEFAULT_MAX_CONNECTIONS)
            .acquire_timeout(acquire_timeout)
            .test_before_acquire(false)
            .connect(url)
            .await
            .map_err(StoreError::from_sqlx)?;
        Self::from_pool(pool, upcasters).await
    }

    /// Uses a pool the caller configured (size, timeouts) and applies the migrations.
    pub async fn from_pool(pool: PgPool, upcasters: Upcasters) -> Result<Self> {
        migrations::postgres()
            .run(&pool)
            .await
            .map_err(migrations::error)?;
        Ok(Self {
            pool,
            upcasters,
            appends: AppendSignal::new(),
        })
    }

    /// The store's pool, for a service's own tables in the same database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The oldest open transaction that holds a transaction id in this store's database
    /// (prepared transactions included); `None` when there is none.
    ///
    /// [`EventStore::read_all`] returns nothing from that transaction's id onwards until it
    /// ends, so its age is how far behind readers may be held: export it as a gauge, and name
    /// the session when it grows long. Seeing other roles' sessions needs the
    /// `pg_read_all_stats` (or `pg_monitor`) role; without it, only this role's own
    /// transactions are counted.
    pub async fn oldest_open_transaction(&self) -> Result<Option<OpenTransaction>> {
        let row = sqlx::query(
            "SELECT extract(epoch FROM clock_timestamp() - started)::float8 AS age, pid, \
                    application_name \
             FROM ( \
                 SELECT xact_start AS started, pid, application_name FROM pg_stat_activity \
                 WHERE backend_xid IS NOT NULL AND xact_start IS NOT NULL \
                   AND datname = current_database() \
                 UNION ALL \
                 SELECT prepared, NULL, 'prepared transaction ' || gid FROM pg_prepared_xacts \
                 WHERE database = current_database() \
             ) AS open_transactions \
             ORDER BY started LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?;
        let Some(row) = row else { return Ok(None) };
        let seconds: f64 = row.try_get("age").map_err(StoreError::from_sqlx)?;
        Ok(Some(OpenTransaction {
            // Clock skew between the statement's clock readings can make a fresh
            // transaction's age a hair negative; report it as zero.
            age: Duration::from_secs_f64(seconds.max(0.0)),
            pid: row.try_get("pid").map_err(StoreError::from_sqlx)?,
            application: row
                .try_get::<Option<String>, _>("application_name")
                .map_err(StoreError::from_sqlx)?
                .filter(|name| !name.is_empty()),
        }))
    }

    /// One try at an append: the single statement in autocommit, or, for a retry, the same
    /// statement in a transaction that first takes the stream's lock.
    async fn append_once(&self, request: &AppendRequest, queued: bool) -> Result<Attempt> {
        if copy::is_large(request) {
            return self.append_by_copy(request).await;
        }
        let ids: Vec<Uuid> = request.events.iter().map(|e| e.id).collect();
        let query = append_statement(request, request.expected, &ids);
        let result = if queued {
            let mut tx = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
            sqlx::query(STREAM_LOCK)
                .bind(request.stream.to_string())
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
            let result = query.fetch_all(&mut *tx).await;
            if result.is_ok() {
                tx.commit().await.map_err(StoreError::from_sqlx)?;
            } else {
                // The statement failed, so the transaction is aborted already; ending it
                // releases the lock for the next writer.
                let _ = tx.rollback().await;
            }
            result
        } else {
            query.fetch_all(&self.pool).await
        };

        match result {
            Ok(rows) if looks_key_up_first(request) => {
                let row = rows.first().ok_or_else(|| {
                    StoreError::Corrupt("the append statement returned no row".into())
                })?;
                keyed_outcome(row, request, ids).map(Attempt::Done)
            }
            Ok(rows) => self.values_outcome(&rows, request, ids).await,
            Err(sqlx::Error::Database(db)) if db.kind() == ErrorKind::UniqueViolation => {
                let constraint = db.constraint().map(str::to_owned);
                self.after_unique_violation(request, constraint.as_deref(), &ids, db)
                    .await
            }
            Err(err) => Err(StoreError::from_sqlx(err)),
        }
    }

    /// One transaction of a multi-stream append: run it, end it, and say what it came to.
    /// Everything that needs another connection (reading a version for a conflict, naming a
    /// duplicate event id) happens after the transaction ended, so a full pool of these never
    /// waits on itself.
    async fn append_all_once(&self, requests: &[AppendRequest]) -> Result<AllAttempt> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
        let stopped = match Self::append_all_in(&mut tx, requests).await {
            Ok(Ok(outcomes)) => {
                tx.commit().await.map_err(StoreError::from_sqlx)?;
                return Ok(AllAttempt::Done(outcomes));
            }
            Ok(Err(stopped)) => stopped,
            Err(err) => {
                let _ = tx.rollback().await;
                return Err(err);
            }
        };
        // A failed statement aborted the transaction already; ending it releases the locks.
        let _ = tx.rollback().await;
        match stopped {
            Stopped::Mismatch { index, actual } => Err(StoreError::Conflict {
                stream: requests[index].stream.clone(),
                expected: requests[index].expected,
                actual,
            }),
            Stopped::Moved { index } => self.lost_race(requests, index).await,
            Stopped::Failed {
                index,
                error: sqlx::Error::Database(db),
            } => {
                if db.kind() == ErrorKind::UniqueViolation {
                    match db.constraint() {
                        Some(STREAM_VERSION_KEY) => return self.lost_race(requests, index).await,
                        Some(EVENT_ID_KEY) => {
                            let ids: Vec<Uuid> = requests
                                .iter()
                                .flat_map(|r| r.events.iter().map(|e| e.id))
                                .collect();
                            if let Some(event_id) = self.duplicate_event_id(&ids).await? {
                                return Err(StoreError::DuplicateEventId { event_id });
                            }
                        }
                        _ => {}
                    }
                }
                if db
                    .code()
                    .is_some_and(|code| TRANSIENT_ABORTS.contains(&code.as_ref()))
                {
                    // The locks are taken in one order, so a deadlock needs two streams whose
                    // lock keys collide (`hashtext`), or appends that repeat each other's
                    // event ids on different streams.
                    return Ok(AllAttempt::Retry { index });
                }
                Err(StoreError::from_sqlx(sqlx::Error::Database(db)))
            }
            Stopped::Failed { error, .. } => Err(StoreError::from_sqlx(error)),
        }
    }

    /// The body of a multi-stream append, inside its transaction (read committed).
    ///
    /// 1. Lock every stream with [`STREAM_LOCK`], in the order of the streams' stored ids:
    ///    two appends to the same streams queue instead of deadlocking on each other's
    ///    inserted rows, whatever order their requests name the streams in.
    /// 2. Read every stream's version in one statement ([`STREAM_VERSIONS`]) and check the
    ///    expected versions. The locks were granted before this statement's snapshot, so it sees
    ///    whatever a previous holder committed, and an `Any` request does not lose to it.
    /// 3. Insert each request's events with the statement [`PostgresStore::append`] uses,
    ///    requiring exactly the version read in step 2, in request order (so positions rise
    ///    from request to request); a request of a megabyte or more is copied in (`copy`).
    ///
    /// Why the version is not simply read by each insert, as a single append does: the
    /// transaction takes its id at its first insert, and every later insert has a new
    /// snapshot. A later insert could then see (and build on) a version that a transaction with
    /// a larger id committed meanwhile, and readers ordering by `tx_id` would deliver our
    /// event before the one it follows. Step 2 reads every version before the transaction has
    /// an id, so each version we build on was committed by a transaction with a smaller id,
    /// the ordering argument of [`APPEND_KEYED`]. A writer that takes no lock (a single-stream
    /// append) and commits a version after step 2 makes our insert of that version violate the
    /// stream/version key (or, for the unnest form, insert nothing): `Any` retries, an exact
    /// version is a conflict.
    async fn append_all_in(
        conn: &mut PgConnection,
        requests: &[AppendRequest],
    ) -> Result<Result<Vec<AppendOutcome>, Stopped>> {
        let streams: Vec<String> = requests.iter().map(|r| r.stream.to_string()).collect();
        let mut lock_order: Vec<usize> = (0..requests.len()).collect();
        lock_order.sort_by(|&a, &b| streams[a].cmp(&streams[b]));
        for index in lock_order {
            if let Err(error) = sqlx::query(STREAM_LOCK)
                .bind(&streams[index])
                .execute(&mut *conn)
                .await
            {
                return Ok(Err(Stopped::Failed { index, error }));
            }
        }

        let rows = match sqlx::query(STREAM_VERSIONS)
            .bind(&streams)
            .fetch_all(&mut *conn)
            .await
        {
            Ok(rows) => rows,
            Err(error) => return Ok(Err(Stopped::Failed { index: 0, error })),
        };
        let mut current = HashMap::with_capacity(rows.len());
        for row in &rows {
            let version: i64 = get(row, "version")?;
            current.insert(
                get::<String>(row, "stream_id")?,
                from_db(version, "stream_version")?,
            );
        }
        let mut versions = Vec::with_capacity(requests.len());
        for (index, (request, stream)) in requests.iter().zip(&streams).enumerate() {
            let actual = *current.get(stream).ok_or_else(|| {
                StoreError::Corrupt(format!("no version was read for stream {stream}"))
            })?;
            let matches = match request.expected {
                ExpectedVersion::Any => true,
                ExpectedVersion::NoStream => actual == 0,
                ExpectedVersion::Exact(version) => actual == version,
            };
            if !matches {
                return Ok(Err(Stopped::Mismatch { index, actual }));
            }
            versions.push(actual);
        }

        let mut outcomes = Vec::with_capacity(requests.len());
        for (index, (request, version)) in requests.iter().zip(versions).enumerate() {
            let ids: Vec<Uuid> = request.events.iter().map(|e| e.id).collect();
            if copy::is_large(request) {
                // A payment cycle's megabytes of lines, beside a small request (its ledger).
                match copy::copy_rows(&mut *conn, request, to_db(version)).await {
                    Ok((first, last)) => outcomes.push(AppendOutcome {
                        stream: request.stream.clone(),
                        stream_version: version + request.events.len() as u64,
                        first_position: from_db(first, "position")?,
                        last_position: from_db(last, "position")?,
                        event_ids: ids,
                        replayed: false,
                    }),
                    Err(error) => return Ok(Err(Stopped::Failed { index, error })),
                }
                continue;
            }
            let statement = append_statement(request, ExpectedVersion::Exact(version), &ids);
            match statement.fetch_all(&mut *conn).await {
                Ok(rows) if rows.is_empty() => return Ok(Err(Stopped::Moved { index })),
                Ok(rows) => outcomes.push(inserted_outcome(&rows, request, ids)?),
                Err(error) => return Ok(Err(Stopped::Failed { index, error })),
            }
        }
        Ok(Ok(outcomes))
    }

    /// Request `index` of a multi-stream append found its stream moved on after its version was
    /// read (the transaction has ended). `Any` tries again; an exact version is a conflict,
    /// unless the stream is, after all, at that version (as for a single append).
    async fn lost_race(&self, requests: &[AppendRequest], index: usize) -> Result<AllAttempt> {
        let request = &requests[index];
        if request.expected == ExpectedVersion::Any {
            return Ok(AllAttempt::Retry { index });
        }
        let actual = self.stream_version(&request.stream).await?;
        if required_version(request.expected) == Some(to_db(actual)) {
            return Ok(AllAttempt::Retry { index });
        }
        Err(StoreError::Conflict {
            stream: request.stream.clone(),
            expected: request.expected,
            actual,
        })
    }

    /// The outcome of [`APPEND`] or an [`APPEND_VALUES`] statement from the rows it inserted.
    async fn values_outcome(
        &self,
        rows: &[PgRow],
        request: &AppendRequest,
        ids: Vec<Uuid>,
    ) -> Result<Attempt> {
        if rows.is_empty() {
            // A key used before answers the first outcome, whatever the version says now.
            if let Some(key) = request.metadata.idempotency_key.as_deref()
                && let Some(first) = self.find_idempotent(key).await?
            {
                return replay(first, &request.stream).map(Attempt::Done);
            }
            // The version did not match. The statement cannot say what it was, so read it now;
            // if the stream has meanwhile reached the expected version, the append may still
            // succeed, and reporting a conflict with `actual == expected` would make no sense.
            let actual = self.stream_version(&request.stream).await?;
            if required_version(request.expected) == Some(to_db(actual)) {
                return Ok(Attempt::Retry);
            }
            return Err(StoreError::Conflict {
                stream: request.stream.clone(),
                expected: request.expected,
                actual,
            });
        }
        inserted_outcome(rows, request, ids).map(Attempt::Done)
    }

    /// Turns a unique violation into what the caller should see. A concurrent append with the
    /// same idempotency key wins over everything else: whichever constraint we tripped, if the
    /// key is now recorded, this append is a replay of that one.
    async fn after_unique_violation(
        &self,
        request: &AppendRequest,
        constraint: Option<&str>,
        ids: &[Uuid],
        db: Box<dyn sqlx::error::DatabaseError>,
    ) -> Result<Attempt> {
        if let Some(key) = request.metadata.idempotency_key.as_deref()
            && let Some(first) = self.find_idempotent(key).await?
        {
            return replay(first, &request.stream).map(Attempt::Done);
        }
        match constraint {
            Some(STREAM_VERSION_KEY) if request.expected == ExpectedVersion::Any => {
                Ok(Attempt::Retry)
            }
            Some(STREAM_VERSION_KEY) => Err(StoreError::Conflict {
                stream: request.stream.clone(),
                expected: request.expected,
                actual: self.stream_version(&request.stream).await?,
            }),
            Some(EVENT_ID_KEY) => match self.duplicate_event_id(ids).await? {
                Some(event_id) => Err(StoreError::DuplicateEventId { event_id }),
                None => Err(StoreError::Database(sqlx::Error::Database(db))),
            },
            // The competing append's key is gone again (it rolled back); a fresh attempt
            // decides anew.
            Some(APPEND_KEY) => Ok(Attempt::Retry),
            _ => Err(StoreError::Database(sqlx::Error::Database(db))),
        }
    }

    /// The first of `ids` that is repeated within the request or already stored.
    async fn duplicate_event_id(&self, ids: &[Uuid]) -> Result<Option<Uuid>> {
        let mut seen = HashSet::with_capacity(ids.len());
        if let Some(repeated) = ids.iter().find(|id| !seen.insert(**id)) {
            return Ok(Some(*repeated));
        }
        sqlx::query_scalar("SELECT event_id FROM mz_events WHERE event_id = ANY($1) LIMIT 1")
            .bind(ids)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)
    }

    fn upcast_all(&self, rows: &[PgRow]) -> Result<Vec<RecordedEvent>> {
        rows.iter()
            .map(|row| self.upcasters.apply(event_from_row(row)?))
            .collect()
    }
}

#[async_trait]
impl EventStore for PostgresStore {
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
        let mut attempt = 1;
        loop {
            match self.append_once(&request, attempt > 1).await? {
                Attempt::Done(outcome) => {
                    debug!(
                        version = outcome.stream_version,
                        position = outcome.last_position,
                        replayed = outcome.replayed,
                        "appended"
                    );
                    return Ok(outcome);
                }
                Attempt::Retry if attempt < MAX_APPEND_ATTEMPTS => {
                    debug!(attempt, "append lost a race, retrying");
                    attempt += 1;
                }
                Attempt::Retry => {
                    return Err(StoreError::Conflict {
                        stream: request.stream.clone(),
                        expected: request.expected,
                        actual: self.stream_version(&request.stream).await?,
                    });
                }
            }
        }
    }

    // See `append_all_in` for the transaction, and why it reads every version before its
    // first insert.
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
        let mut attempt = 1;
        loop {
            match self.append_all_once(&requests).await? {
                AllAttempt::Done(outcomes) => {
                    debug!(
                        requests = outcomes.len(),
                        position = outcomes.last().map(|o| o.last_position),
                        "appended to several streams"
                    );
                    return Ok(outcomes);
                }
                AllAttempt::Retry { index } if attempt < MAX_APPEND_ATTEMPTS => {
                    debug!(
                        attempt,
                        stream = %requests[index].stream,
                        "multi-stream append lost a race, retrying"
                    );
                    attempt += 1;
                }
                AllAttempt::Retry { index } => {
                    let request = &requests[index];
                    return Err(StoreError::Conflict {
                        stream: request.stream.clone(),
                        expected: request.expected,
                        actual: self.stream_version(&request.stream).await?,
                    });
                }
            }
        }
    }

    async fn find_idempotent(&self, key: &str) -> Result<Option<AppendOutcome>> {
        let rows = sqlx::query(APPENDED_UNDER_KEY)
            .bind(key)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
            return Ok(Some(AppendOutcome {
                stream: stream_from_db(&get::<String>(first, "stream_id")?)?,
                stream_version: from_db(get(last, "stream_version")?, "stream_version")?,
                first_position: from_db(get(first, "position")?, "position")?,
                last_position: from_db(get(last, "position")?, "position")?,
                event_ids: rows
                    .iter()
                    .map(|row| get(row, "event_id"))
                    .collect::<Result<_>>()?,
                replayed: true,
            }));
        }
        // Recorded before the append keys.
        let row = sqlx::query(
            "SELECT stream_id, stream_version, first_position, last_position, event_ids \
             FROM mz_idempotency WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?;
        row.map(|row| {
            Ok(AppendOutcome {
                stream: stream_from_db(&get::<String>(&row, "stream_id")?)?,
                stream_version: from_db(get(&row, "stream_version")?, "stream_version")?,
                first_position: from_db(get(&row, "first_position")?, "first_position")?,
                last_position: from_db(get(&row, "last_position")?, "last_position")?,
                event_ids: get(&row, "event_ids")?,
                replayed: true,
            })
        })
        .transpose()
    }

    async fn stream_version(&self, stream: &StreamId) -> Result<u64> {
        let version: i64 = sqlx::query_scalar(
            "SELECT coalesce(max(stream_version), 0)::bigint FROM mz_events WHERE stream_id = $1",
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

    async fn read_streams(
        &self,
        streams: &[(StreamId, u64)],
        limit: usize,
    ) -> Result<Vec<RecordedEvent>> {
        if limit == 0 || streams.is_empty() {
            return Ok(Vec::new());
        }
        let (ids, versions): (Vec<String>, Vec<i64>) = streams
            .iter()
            .map(|(stream, from)| (stream.to_string(), to_db(*from)))
            .unzip();
        let rows = sqlx::query(READ_STREAMS)
            .bind(ids)
            .bind(versions)
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
            .bind(to_db(after.tx))
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
        let row = sqlx::query(CURSOR_OF)
            .bind(to_db(position))
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        row.as_ref().map(cursor_from_row).transpose()
    }

    /// A position is usually a committed event, read at once (or once the transactions older
    /// than its own have ended). Otherwise it is either held by a running transaction or a gap
    /// left by one that rolled back, and the store cannot see which: it waits until every
    /// transaction that could hold a position up to it has ended. Those all ran when the
    /// sequence had already handed the position out, so listing the running transactions after
    /// seeing that, and waiting for them, is enough. Their `xid`s would not do: a transaction
    /// takes its position before its `xid`, so the read horizon may pass it while it holds
    /// the position.
    async fn wait_for_position(&self, position: u64) -> Result<Cursor> {
        if position == 0 {
            return Ok(Cursor::START);
        }
        let mut settling = Settling::NotTaken;
        loop {
            if let Settling::Running(transactions) = &settling {
                let still_running: bool = sqlx::query_scalar(ANY_STILL_RUNNING)
                    .bind(transactions)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                if !still_running {
                    settling = Settling::Settled;
                }
            }
            // Read after the check above, so that once settled this sees every commit.
            let last = sqlx::query(LAST_COMMITTED_AT_OR_BELOW)
                .bind(to_db(position))
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::from_sqlx)?;
            let last = match &last {
                Some(row) => Some((cursor_from_row(row)?, get::<bool>(row, "readable")?)),
                None => None,
            };
            let at_position = last.is_some_and(|(cursor, _)| cursor.position == position);
            if at_position || matches!(settling, Settling::Settled) {
                match last {
                    None => return Ok(Cursor::START),
                    Some((cursor, true)) => return Ok(cursor),
                    // Committed, but an older transaction is still running.
                    Some((_, false)) => {}
                }
            } else if matches!(settling, Settling::NotTaken) {
                let taken: bool = sqlx::query_scalar(POSITION_TAKEN)
                    .bind(to_db(position))
                    .fetch_one(&self.pool)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                if taken {
                    let transactions: Vec<String> = sqlx::query_scalar(RUNNING_TRANSACTIONS)
                        .fetch_one(&self.pool)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                    settling = Settling::Running(transactions);
                    continue;
                }
            }
            tokio::time::sleep(POSITION_POLL).await;
        }
    }

    async fn head(&self) -> Result<Cursor> {
        let row = sqlx::query(HEAD)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(row
            .as_ref()
            .map(cursor_from_row)
            .transpose()?
            .unwrap_or(Cursor::START))
    }

    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<()> {
        // A newer version replaces the stored one; so does the same version in a newer (or the
        // same) schema, so that a service that changed its state encoding can re-snapshot
        // without waiting for the stream to grow. An older snapshot never wins.
        sqlx::query(
            "INSERT INTO mz_snapshots (stream_id, stream_version, schema_version, payload) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (stream_id) DO UPDATE SET \
                 stream_version = EXCLUDED.stream_version, \
                 schema_version = EXCLUDED.schema_version, \
                 payload = EXCLUDED.payload, \
                 saved_at = now() \
             WHERE mz_snapshots.stream_version < EXCLUDED.stream_version \
                OR (mz_snapshots.stream_version = EXCLUDED.stream_version \
                    AND mz_snapshots.schema_version <= EXCLUDED.schema_version)",
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
             WHERE stream_id = $1",
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
        let row = sqlx::query("SELECT tx, position FROM mz_checkpoints WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(row
            .as_ref()
            .map(cursor_from_row)
            .transpose()?
            .unwrap_or(Cursor::START))
    }

    async fn save_checkpoint(&self, name: &str, cursor: Cursor) -> Result<()> {
        sqlx::query(
            "INSERT INTO mz_checkpoints (name, tx, position) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET \
                 tx = EXCLUDED.tx, position = EXCLUDED.position, updated_at = now()",
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
        "postgres"
    }

    fn append_ended(&self) -> tokio::sync::watch::Receiver<u64> {
        self.appends.subscribe()
    }
}

/// One column of a row; a value of the wrong type is a database error, not a panic.
fn get<'r, T>(row: &'r PgRow, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(column).map_err(StoreError::from_sqlx)
}

/// The outcome of [`APPEND_KEYED`] from its single row.
fn keyed_outcome(row: &PgRow, request: &AppendRequest, ids: Vec<Uuid>) -> Result<AppendOutcome> {
    if let Some(prior_stream) = get::<Option<String>>(row, "prior_stream")? {
        let first = AppendOutcome {
            stream: stream_from_db(&prior_stream)?,
            stream_version: from_db(get(row, "prior_version")?, "stream_version")?,
            first_position: from_db(get(row, "prior_first")?, "first_position")?,
            last_position: from_db(get(row, "prior_last")?, "last_position")?,
            event_ids: get(row, "prior_event_ids")?,
            replayed: true,
        };
        return replay(first, &request.stream);
    }
    let inserted: i64 = get(row, "inserted")?;
    if inserted == 0 {
        return Err(StoreError::Conflict {
            stream: request.stream.clone(),
            expected: request.expected,
            actual: from_db(get(row, "current_version")?, "stream_version")?,
        });
    }
    Ok(AppendOutcome {
        stream: request.stream.clone(),
        stream_version: from_db(get(row, "stream_version")?, "stream_version")?,
        first_position: from_db(get(row, "first_position")?, "position")?,
        last_position: from_db(get(row, "last_position")?, "position")?,
        event_ids: ids,
        replayed: false,
    })
}

/// The outcome of a keyless append statement from the (one or more) rows it inserted.
fn inserted_outcome(
    rows: &[PgRow],
    request: &AppendRequest,
    ids: Vec<Uuid>,
) -> Result<AppendOutcome> {
    let mut version = 0;
    let mut first = i64::MAX;
    let mut last = i64::MIN;
    for row in rows {
        let position: i64 = get(row, "position")?;
        version = version.max(get::<i64>(row, "stream_version")?);
        first = first.min(position);
        last = last.max(position);
    }
    if first > last {
        return Err(StoreError::Corrupt("the append inserted no rows".into()));
    }
    Ok(AppendOutcome {
        stream: request.stream.clone(),
        stream_version: from_db(version, "stream_version")?,
        first_position: from_db(first, "position")?,
        last_position: from_db(last, "position")?,
        event_ids: ids,
        replayed: false,
    })
}

fn cursor_from_row(row: &PgRow) -> Result<Cursor> {
    Ok(Cursor {
        tx: from_db(get(row, "tx")?, "tx_id")?,
        position: from_db(get(row, "position")?, "position")?,
    })
}

/// A stored event, before upcasting.
fn event_from_row(row: &PgRow) -> Result<RecordedEvent> {
    let cursor = cursor_from_row(row)?;
    Ok(RecordedEvent {
        id: get(row, "event_id")?,
        stream: stream_from_db(&get::<String>(row, "stream_id")?)?,
        stream_version: from_db(get(row, "stream_version")?, "stream_version")?,
        position: cursor.position,
        cursor,
        event_type: get(row, "event_type")?,
        schema_version: schema_from_db(get(row, "schema_version")?)?,
        payload: Bytes::from(get::<Vec<u8>>(row, "payload")?),
        metadata: Metadata {
            correlation_id: get(row, "correlation_id")?,
            causation_id: get(row, "causation_id")?,
            actor: get(row, "actor")?,
            traceparent: get(row, "traceparent")?,
            tracestate: get(row, "tracestate")?,
            idempotency_key: get(row, "idempotency_key")?,
        },
        recorded_at: get(row, "recorded_at")?,
    })
}
