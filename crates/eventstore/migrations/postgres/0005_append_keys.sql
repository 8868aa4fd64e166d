-- The idempotency key of an append, on the append's first event only, and unique: an append
-- whose key was used before violates this index in the very statement that inserts its events,
-- at the cost of one index entry. Before, each keyed append also inserted a row into
-- `mz_idempotency`, a second table and index in the same statement, which cost about a sixth of
-- a keyed append's throughput at 32 writers when measured. Keys recorded before this migration
-- stay in `mz_idempotency`, which appends still consult (an index probe) and look-ups still read.
-- Adding a column without a default rewrites nothing; the index over existing rows is empty.
-- Upgrade a service's replicas together: a replica of an earlier version reads keys from
-- `mz_idempotency` only, and would decide a retry of a command a newer replica recorded again.
ALTER TABLE mz_events ADD COLUMN append_key text;
CREATE UNIQUE INDEX mz_events_append_key ON mz_events (append_key) WHERE append_key IS NOT NULL;
