//! Raw PostgreSQL baselines: what the database itself does on this machine right now, with no
//! event-store logic — a table of the same shape as the event table, written with plain sqlx.

use futures::future::try_join_all;
use sqlx::{PgPool, QueryBuilder};
use uuid::Uuid;

use super::{payload, timed};

/// Creates the baseline table (same columns an event row carries, no constraints beyond a key).
pub async fn prepare(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_plain (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id uuid NOT NULL,
            stream_id text NOT NULL,
            stream_version bigint NOT NULL,
            event_type text NOT NULL,
            payload bytea NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now())",
    )
    .execute(pool)
    .await?;
    Ok(())
}

async fn insert_one(pool: &PgPool, stream: &str, version: i64) -> anyhow::Result<()> {
    // Autocommit: one round trip, the INSERT and its COMMIT — the strictest baseline.
    sqlx::query(
        "INSERT INTO bench_plain (event_id, stream_id, stream_version, event_type, payload)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::now_v7())
    .bind(stream)
    .bind(version)
    .bind("bench.v1.Happened")
    .bind(payload(version as u64).to_vec())
    .execute(pool)
    .await?;
    Ok(())
}

/// One client, `count` single-row INSERT+COMMITs in a loop; rows per second.
pub async fn single_writer(pool: &PgPool, count: usize) -> anyhow::Result<f64> {
    timed(|| async {
        for i in 0..count {
            insert_one(pool, "single", i as i64).await?;
        }
        Ok(count)
    })
    .await
}

/// `clients` concurrent clients, each `per_client` single-row INSERT+COMMITs; rows per second.
pub async fn concurrent_writers(
    pool: &PgPool,
    clients: usize,
    per_client: usize,
) -> anyhow::Result<f64> {
    timed(|| async {
        try_join_all((0..clients).map(|c| async move {
            let stream = format!("client-{c}");
            for i in 0..per_client {
                insert_one(pool, &stream, i as i64).await?;
            }
            anyhow::Ok(())
        }))
        .await?;
        Ok(clients * per_client)
    })
    .await
}

/// `transactions` transactions of one multi-row INSERT of `rows` rows each; rows per second.
pub async fn multi_row(pool: &PgPool, transactions: usize, rows: usize) -> anyhow::Result<f64> {
    timed(|| async {
        for t in 0..transactions {
            let stream = format!("batch-{t}");
            let mut insert = QueryBuilder::new(
                "INSERT INTO bench_plain (event_id, stream_id, stream_version, event_type, payload) ",
            );
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
