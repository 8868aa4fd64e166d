//! Division lineage (区划沿革) from the place-names service: every supersession — a merger,
//! split, recode or change of type — as `code → successor` rows (`ds_division_successors`), so
//! that a household keeps the division it was registered under and is still found where that
//! division went. [`current_division`] follows the lineage at read time, on the day asked about,
//! rather than rewriting the households: the households come from other consumers, and a
//! read-time answer cannot miss one committed beside a supersession.

use async_trait::async_trait;
use minzheng_eventstore::{RecordedEvent, StoreError, migrations::ServiceMigration};
use minzheng_host::codec::TypedProjection;
use minzheng_types::RegionCode;
use sqlx::{AnyConnection, AnyPool, Row as _};
use time::Date;

use crate::codec::placenames::{DivisionEvent, PlaceNamesEvents};

/// The durable consumer's name.
pub const DIVISIONS: &str = "datasharing-divisions";

/// Supersessions longer than this are not followed further (a chain of real adjustments is a
/// handful long; this only bounds a corrupt cycle).
const MAX_CHAIN: usize = 32;

/// The lineage table (portable SQL). Days are Julian day numbers.
pub const MIGRATION: ServiceMigration = ServiceMigration::portable(
    1005,
    "division lineage",
    "CREATE TABLE ds_division_successors (\
        code TEXT NOT NULL, \
        successor TEXT NOT NULL, \
        valid_to INTEGER NOT NULL, \
        PRIMARY KEY (code, successor))",
);

/// Follows the place-names service's supersessions.
#[derive(Debug, Clone, Copy, Default)]
pub struct DivisionsProjection;

#[async_trait]
impl TypedProjection for DivisionsProjection {
    type Contract = PlaceNamesEvents;

    fn name(&self) -> &str {
        DIVISIONS
    }

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        event: &DivisionEvent,
        _recorded: &RecordedEvent,
    ) -> anyhow::Result<()> {
        let DivisionEvent::Superseded {
            code,
            successors,
            valid_to,
        } = event;
        for successor in successors {
            sqlx::query(
                "INSERT INTO ds_division_successors (code, successor, valid_to) \
                 VALUES ($1, $2, $3) ON CONFLICT (code, successor) DO NOTHING",
            )
            .bind(code.to_string())
            .bind(successor.to_string())
            .bind(i64::from(valid_to.to_julian_day()))
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }
}

/// The division `code` stands for on `day`: itself while no supersession of it is in force by
/// then; else, through each supersession naming a single successor (a merger, recode or change
/// of type), the end of the chain. A split stops the chain at the split division: which part a
/// household went to is not in the lineage, so the last code known to hold it is kept.
pub async fn current_division(
    db: &AnyPool,
    code: RegionCode,
    day: Date,
) -> Result<RegionCode, StoreError> {
    let mut current = code;
    for _ in 0..MAX_CHAIN {
        let rows = sqlx::query(
            "SELECT successor FROM ds_division_successors WHERE code = $1 AND valid_to <= $2",
        )
        .bind(current.to_string())
        .bind(i64::from(day.to_julian_day()))
        .fetch_all(db)
        .await
        .map_err(StoreError::from_sqlx)?;
        let [row] = rows.as_slice() else {
            return Ok(current);
        };
        let successor: String = row.try_get("successor").map_err(StoreError::from_sqlx)?;
        current = RegionCode::parse(&successor)
            .map_err(|_| StoreError::Corrupt("ds_division_successors.successor".into()))?;
    }
    Ok(current)
}
