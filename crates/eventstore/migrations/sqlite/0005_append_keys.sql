-- PostgreSQL's migration 5 moves new idempotency keys onto the events (`append_key`). The
-- SQLite store keeps recording them in `mz_idempotency`: it has one writer, so the second insert
-- costs no concurrency, and nothing here changes. The version exists so that both backends
-- number their migrations alike.
SELECT 1;
