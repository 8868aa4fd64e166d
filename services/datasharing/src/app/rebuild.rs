//! `minzheng datasharing rebuild`: the projections of the other services' events — persons,
//! households, benefits received, the audit trail — replayed from zero. While the service is
//! stopped, [`reset`] empties their tables and makes their consumers forget what they applied
//! (inbox rows, feed cursors, durable JetStream consumers); the service started again applies
//! every event from the first and ends where it was.
//!
//! Not rebuilt: facts the verification reads "as known" at a time (the standards' lines and the
//! thresholds, each recorded under a knowledge version: replaying them would give them new
//! versions and change what earlier reports were computed from), and what the service decided
//! (answers, alerts, authorizations): those are its own events, history.

use minzheng_bus::{BusNaming, delete_durable, forget_consumer};
use sqlx::AnyPool;

use crate::projections::{audit::AuditProjection, divisions, people};

/// The tables of the rebuilt projections.
pub const TABLES: [&str; 5] = [
    "ds_persons",
    "ds_case_members",
    "ds_benefits",
    "ds_audit",
    "ds_division_successors",
];

/// The rebuilt consumers: `(producer, consumer name)`.
pub fn consumers() -> Vec<(&'static str, String)> {
    let mut consumers = vec![
        ("civilregistry", people::PERSONS.to_owned()),
        ("assistance", people::HOUSEHOLDS.to_owned()),
        ("placenames", divisions::DIVISIONS.to_owned()),
    ];
    for producer in crate::module::AUDITED {
        consumers.push((producer, AuditProjection::consumer_name(producer)));
    }
    consumers
}

/// Empties the rebuilt projections' tables and makes their consumers forget what they applied:
/// in the database `db`, and, distributed, on the bus (`nats` with its subject prefix). Run it
/// with the service stopped.
pub async fn reset(db: &AnyPool, nats: Option<(&async_nats::Client, &str)>) -> anyhow::Result<()> {
    for table in TABLES {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
            .execute(db)
            .await?;
    }
    for (producer, consumer) in consumers() {
        forget_consumer(db, &consumer).await?;
        if let Some((client, prefix)) = nats {
            let naming = BusNaming::with_prefix(prefix, producer)?;
            delete_durable(client, &naming, &consumer)
                .await
                .map_err(|e| anyhow::anyhow!("deleting the consumer {consumer}: {e}"))?;
        }
    }
    Ok(())
}

/// Events the rebuilt consumers have yet to apply, on the bus (for the tool's progress).
pub async fn pending(client: &async_nats::Client, prefix: &str) -> anyhow::Result<u64> {
    let js = async_nats::jetstream::new(client.clone());
    let mut pending = 0;
    for (producer, consumer) in consumers() {
        let naming = BusNaming::with_prefix(prefix, producer)?;
        let Ok(mut stream) = js.get_stream(naming.stream_name()).await else {
            continue;
        };
        match stream.consumer_info(&consumer).await {
            Ok(info) => pending += info.num_pending + info.num_ack_pending as u64,
            // Not created again yet: everything is to apply.
            Err(_) => pending += stream.info().await.map_or(0, |i| i.state.messages),
        }
    }
    Ok(pending)
}
