//! Raw PostgreSQL baselines: what the database itself does on this machine right now, with no
//! event-store logic — a table of the same shape as the event table, written with plain sqlx,
//! and the event table itself read in order with one plain query.

use std::time::Instant;

use futures::{TryStreamExt as _, future::try_join_all};
use sqlx::{PgPool, QueryBuilder, Row as _};
use uuid::Uuid;

use super::{payload, timed};

/// The plain baseline table: the columns an event row carries, no constraint beyond a key.
pub const PLAIN: &str = "bench_plain";
/// The same table with the indexes the event store's guarantees need (event id unique, stream
/// and version unique, commit-order index): the floor under any event store on this table shape.
pub const INDEXED: &str = "bench_indexed";

/// Creates both baseline tables.
pub async fn prepare(pool: &PgPool) -> anyhow::Result<()> {
    for statement in [
        "CREATE TABLE IF NOT EXISTS bench_plain (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id uuid NOT NULL,
            stream_id text NOT NULL,
            stream_version bigint NOT NULL,
            event_type text NOT NULL,
            payload bytea NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now())",
        "CREATE TABLE IF NOT EXISTS bench_indexed (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
            event_id uuid NOT NULL UNIQUE,
            stream_id text NOT NULL,
            stream_version bigint NOT NULL,
            event_type text NOT NULL,
            payload bytea NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (stream_id, stream_version))",
        "CREATE INDEX IF NOT EXISTS bench_indexed_tx ON bench_indexed (tx_id, id)",
    ] {
        sqlx::query(statement).execute(pool).await?;
    }
    Ok(())
}

async fn insert_one(pool: &PgPool, table: &str, stream: &str, version: i64) -> anyhow::Result<()> {
    // Autocommit: one round trip, the INSERT and its COMMIT — the strictest baseline.
    let sql = match table {
        INDEXED => {
            "INSERT INTO bench_indexed (event_id, stream_id, stream_version, event_type, payload)
             VALUES ($1, $2, $3, $4, $5)"
        }
        _ => {
            "INSERT INTO bench_plain (event_id, stream_id, stream_version, event_type, payload)
             VALUES ($1, $2, $3, $4, $5)"
        }
    };
    sqlx::query(sql)
        .bind(Uuid::now_v7())
        .bind(stream)
        .bind(version)
        .bind("bench.v1.Happened")
        .bind(payload(version as u64).to_vec())
        .execute(pool)
        .await?;
    Ok(())
}

/// One client, `count` single-row INSERT+COMMITs into `table` in a loop; rows per second.
/// Each run uses fresh stream ids (`tag`), as the store's figure does.
pub async fn single_writer(
    pool: &PgPool,
    table: &str,
    tag: &str,
    count: usize,
) -> anyhow::Result<f64> {
    timed(|| async {
        for i in 0..count {
            insert_one(pool, table, &format!("{tag}{}", i % 64), (i / 64) as i64).await?;
        }
        Ok(count)
    })
    .await
}

/// `clients` concurrent clients, each `per_client` single-row INSERT+COMMITs into `table`; rows
/// per second. Each run uses fresh stream ids (`tag`).
pub async fn concurrent_writers(
    pool: &PgPool,
    table: &str,
    tag: &str,
    clients: usize,
    per_client: usize,
) -> anyhow::Result<f64> {
    timed(|| async {
        try_join_all((0..clients).map(|c| async move {
            let stream = format!("{tag}client-{c}");
            for i in 0..per_client {
                insert_one(pool, table, &stream, i as i64).await?;
            }
            anyhow::Ok(())
        }))
        .await?;
        Ok(clients * per_client)
    })
    .await
}

/// `transactions` transactions of one multi-row INSERT of `rows` rows each into `table`; rows
/// per second. Each run uses fresh stream ids (`tag`).
pub async fn multi_row(
    pool: &PgPool,
    table: &str,
    tag: &str,
    transactions: usize,
    rows: usize,
) -> anyhow::Result<f64> {
    let into = match table {
        INDEXED => {
            "INSERT INTO bench_indexed (event_id, stream_id, stream_version, event_type, payload) "
        }
        _ => "INSERT INTO bench_plain (event_id, stream_id, stream_version, event_type, payload) ",
    };
    timed(|| async {
        for t in 0..transactions {
            let stream = format!("{tag}batch-{t}");
            let mut insert = QueryBuilder::new(into);
            insert.push_values(0..rows, |mut row, i| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(stream.clone())
                    .push_bind(i as i64)
                    .push_bind("bench.v1.Happened")
                    .push_bind(payload(i as u64).to_vec());
            });
            insert.build().execute(pool).await?;
        }
        Ok(transactions * rows)
    })
    .await
}

/// Every row of the event store's table `mz_events` in the database `pool` reaches, in position
/// order, with the columns the store's event reads select, streamed by one plain query (no
/// cursor, no read horizon, nothing decoded but the payload's length); rows per second, and the
/// rows read.
pub async fn ordered_read(pool: &PgPool) -> anyhow::Result<(f64, usize)> {
    let started = Instant::now();
    let mut rows = sqlx::query(
        "SELECT position, event_id, stream_id, stream_version, event_type, schema_version, \
         payload, correlation_id, causation_id, actor, traceparent, tracestate, idempotency_key, \
         recorded_at FROM mz_events ORDER BY position",
    )
    .fetch(pool);
    let (mut count, mut bytes) = (0usize, 0usize);
    while let Some(row) = rows.try_next().await? {
        bytes += row.try_get::<&[u8], _>("payload")?.len();
        count += 1;
    }
    std::hint::black_box(bytes);
    Ok((super::rate(count, started.elapsed()), count))
}
