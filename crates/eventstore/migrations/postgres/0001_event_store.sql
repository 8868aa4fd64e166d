-- The event store's own tables. Versions 1-999 of _sqlx_migrations belong to the platform;
-- services number their migrations with timestamps. Append-only: never edit an applied file.

-- Every event ever appended. `position` is taken at insert time, so it is unique and increasing
-- in insertion order but not in commit order; `tx_id` (the inserting transaction's id) is what
-- readers order by, and they only read below the oldest running transaction (see postgres.rs).
CREATE TABLE mz_events (
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_id           xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id        uuid NOT NULL,
    stream_id       text NOT NULL,
    stream_category text NOT NULL,
    stream_version  bigint NOT NULL CHECK (stream_version > 0),
    event_type      text NOT NULL,
    schema_version  integer NOT NULL,
    payload         bytea NOT NULL,
    correlation_id  uuid,
    causation_id    uuid,
    actor           text,
    traceparent     text,
    tracestate      text,
    idempotency_key text,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    -- The store tells these two violations apart by name: keep the names.
    CONSTRAINT mz_events_event_id_key UNIQUE (event_id),
    CONSTRAINT mz_events_stream_version_key UNIQUE (stream_id, stream_version)
);

CREATE INDEX mz_events_tx_position ON mz_events (tx_id, position);

-- The first outcome of every append made with an idempotency key.
CREATE TABLE mz_idempotency (
    key            text NOT NULL,
    stream_id      text NOT NULL,
    stream_version bigint NOT NULL,
    first_position bigint NOT NULL,
    last_position  bigint NOT NULL,
    event_ids      uuid[] NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT mz_idempotency_pkey PRIMARY KEY (key)
);

-- The latest snapshot of each stream that has one.
CREATE TABLE mz_snapshots (
    stream_id      text PRIMARY KEY,
    stream_version bigint NOT NULL,
    schema_version integer NOT NULL,
    payload        bytea NOT NULL,
    saved_at       timestamptz NOT NULL DEFAULT now()
);

-- Named readers' positions (relays, embedded feeds).
CREATE TABLE mz_checkpoints (
    name       text PRIMARY KEY,
    tx         bigint NOT NULL,
    position   bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
