-- A parked event keeps what it takes to apply it again (its whole envelope besides the payload
-- already kept), and whether an operator asked for that (`minzheng redrive`): the consumer
-- applies a requested event once, through its inbox, and unparks it. Rows parked before this
-- migration, or of messages that were not readable events, have no envelope and cannot be
-- re-driven.
ALTER TABLE mz_parked ADD COLUMN schema_version INTEGER NULL;
ALTER TABLE mz_parked ADD COLUMN stream_version BIGINT NULL;
ALTER TABLE mz_parked ADD COLUMN event_position BIGINT NULL;
ALTER TABLE mz_parked ADD COLUMN recorded_at TEXT NULL;
ALTER TABLE mz_parked ADD COLUMN correlation_id TEXT NULL;
ALTER TABLE mz_parked ADD COLUMN causation_id TEXT NULL;
ALTER TABLE mz_parked ADD COLUMN traceparent TEXT NULL;
ALTER TABLE mz_parked ADD COLUMN tracestate TEXT NULL;
ALTER TABLE mz_parked ADD COLUMN redrive SMALLINT NOT NULL DEFAULT 0;
