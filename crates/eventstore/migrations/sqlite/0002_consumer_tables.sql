-- Tables of the bus crate's consumers, created here so that every store database has them.
-- The bus reaches them through sqlx::Any with portable SQL, so the column types stay portable
-- (TEXT, INTEGER, BLOB, a timestamp with a default). The DDL is agreed with the bus: do not
-- rename.

-- Event ids each consumer has applied, written in the same transaction as the effect.
CREATE TABLE mz_inbox (
    consumer   TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (consumer, event_id)
);

-- Messages a consumer gave up on after repeated failures.
CREATE TABLE mz_parked (
    consumer   TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    stream_id  TEXT NOT NULL,
    event_type TEXT NOT NULL,
    attempts   INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    payload    BLOB NOT NULL,
    parked_at  TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (consumer, event_id)
);
