//! Following the assistance service's events (`proto/minzheng/assistance/v1/events.proto`) for
//! the funeral fee waiver (惠民殡葬): who was in an assistance household on the day of death.
//!
//! The bus projection receives the followed events decoded by [`AssistanceEvents`] (this
//! service's view of the assistance contract), stores each in the service's own database
//! (`cr_assistance_events`, created by [`MIGRATION`], in the same transaction as the consumer's
//! inbox, so each is stored once) and folds it into the in-memory [`Ledger`] the application
//! asks. At start the ledger is rebuilt from the table. Folding an event twice (a batch whose
//! transaction rolled back and was delivered again) changes nothing: the ledger's operations are
//! idempotent.

use std::sync::Arc;

use async_trait::async_trait;
use minzheng_eventstore::{RecordedEvent, migrations::ServiceMigration};
use minzheng_host::codec::TypedProjection;
use sqlx::{AnyConnection, AnyPool, Row};
use tokio::sync::RwLock;

use crate::{
    assistance::{self, Ledger},
    codec::assistance::AssistanceEvents,
};

/// The durable consumer's name.
pub const CONSUMER: &str = "civilregistry-assistance";

/// The table of the followed events (portable SQL, PostgreSQL and SQLite).
///
/// `IF NOT EXISTS` only adopts the table that builds before this migration created at start;
/// the migration is recorded, so it runs once per database.
pub const MIGRATION: ServiceMigration = ServiceMigration::portable(
    1001,
    "assistance events",
    "CREATE TABLE IF NOT EXISTS cr_assistance_events (\
        position BIGINT PRIMARY KEY, \
        event_type TEXT NOT NULL, \
        schema_version INTEGER NOT NULL, \
        payload_hex TEXT NOT NULL)",
);

/// Rebuilds `ledger` from the stored events; returns how many were folded in.
pub async fn rebuild(pool: &AnyPool, ledger: &RwLock<Ledger>) -> anyhow::Result<usize> {
    let rows = sqlx::query(
        "SELECT event_type, schema_version, payload_hex FROM cr_assistance_events ORDER BY position",
    )
    .fetch_all(pool)
    .await?;
    let mut rebuilt = Ledger::default();
    for row in &rows {
        let event_type: String = row.try_get("event_type")?;
        let version: i32 = row.try_get("schema_version")?;
        let payload = from_hex(&row.try_get::<String, _>("payload_hex")?)?;
        if let Some(event) =
            AssistanceEvents::decode_payload(&event_type, u32::try_from(version)?, &payload)?
        {
            rebuilt.apply(&event);
        }
    }
    *ledger.write().await = rebuilt;
    Ok(rows.len())
}

/// Stores and folds in the assistance events.
#[derive(Debug, Clone)]
pub struct AssistanceProjection {
    ledger: Arc<RwLock<Ledger>>,
}

impl AssistanceProjection {
    pub fn new(ledger: Arc<RwLock<Ledger>>) -> Self {
        Self { ledger }
    }
}

#[async_trait]
impl TypedProjection for AssistanceProjection {
    type Contract = AssistanceEvents;

    fn name(&self) -> &str {
        CONSUMER
    }

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        event: &assistance::Event,
        recorded: &RecordedEvent,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO cr_assistance_events (position, event_type, schema_version, payload_hex) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (position) DO NOTHING",
        )
        .bind(i64::try_from(recorded.position)?)
        .bind(recorded.event_type.as_str())
        .bind(i32::try_from(recorded.schema_version)?)
        .bind(to_hex(&recorded.payload))
        .execute(&mut *tx)
        .await?;
        self.ledger.write().await.apply(event);
        Ok(())
    }
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

fn from_hex(hex: &str) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(hex.len().is_multiple_of(2), "odd-length hex payload");
    (0..hex.len())
        .step_by(2)
        .map(|i| Ok(u8::from_str_radix(&hex[i..i + 2], 16)?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let bytes = [0u8, 1, 0x7f, 0x80, 0xff];
        assert_eq!(to_hex(&bytes), "00017f80ff");
        assert_eq!(from_hex("00017f80ff").expect("valid"), bytes);
        assert!(from_hex("0").is_err());
        assert!(from_hex("zz").is_err());
    }
}
