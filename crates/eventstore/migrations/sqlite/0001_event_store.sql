-- The event store's own tables. Versions 1-999 of _sqlx_migrations belong to the platform;
-- services number their migrations with timestamps. Append-only: never edit an applied file.
-- STRICT tables make SQLite reject a value of the wrong type instead of storing it.

-- Every event ever appended. SQLite has a single writer, so `position` order is commit order.
-- AUTOINCREMENT keeps positions from ever being reused after the newest rows are deleted.
CREATE TABLE mz_events (
    position        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT NOT NULL UNIQUE,
    stream_id       TEXT NOT NULL,
    stream_category TEXT NOT NULL,
    stream_version  INTEGER NOT NULL CHECK (stream_version > 0),
    event_type      TEXT NOT NULL,
    schema_version  INTEGER NOT NULL,
    payload         BLOB NOT NULL,
    correlation_id  TEXT,
    causation_id    TEXT,
    actor           TEXT,
    traceparent     TEXT,
    tracestate      TEXT,
    idempotency_key TEXT,
    recorded_at     TEXT NOT NULL,
    UNIQUE (stream_id, stream_version)
) STRICT;

-- The first outcome of every append made with an idempotency key; `event_ids` is the
-- comma-separated list of the appended events' ids, in order.
CREATE TABLE mz_idempotency (
    key            TEXT PRIMARY KEY NOT NULL,
    stream_id      TEXT NOT NULL,
    stream_version INTEGER NOT NULL,
    first_position INTEGER NOT NULL,
    last_position  INTEGER NOT NULL,
    event_ids      TEXT NOT NULL,
    recorded_at    TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
) STRICT;

-- The latest snapshot of each stream that has one.
CREATE TABLE mz_snapshots (
    stream_id      TEXT PRIMARY KEY NOT NULL,
    stream_version INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    payload        BLOB NOT NULL,
    saved_at       TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
) STRICT;

-- Named readers' positions (relays, embedded feeds).
CREATE TABLE mz_checkpoints (
    name       TEXT PRIMARY KEY NOT NULL,
    tx         INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
) STRICT;
