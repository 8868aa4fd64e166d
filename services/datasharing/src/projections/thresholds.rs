//! This service's own threshold versions, followed from its own stream into `ds_thresholds`
//! under the knowledge clock, so that a verification reads the thresholds as known at its time.

use std::sync::Arc;

use async_trait::async_trait;
use minzheng_eventstore::{RecordedEvent, StoreError};
use minzheng_host::codec::TypedProjection;
use minzheng_kit::clock::Clock;
use minzheng_types::{Fen, RegionCode};
use sqlx::{AnyConnection, AnyPool, Row as _};
use time::Date;

use crate::{
    codec::{OwnStore, Recorded},
    knowledge::{self, Knowledge},
    thresholds::{Event, Thresholds},
};

/// The durable consumer's name.
pub const CONSUMER: &str = "datasharing-thresholds";

/// Records the threshold versions.
#[derive(Debug, Clone)]
pub struct ThresholdsProjection {
    clock: Arc<dyn Clock>,
}

impl ThresholdsProjection {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock }
    }
}

#[async_trait]
impl TypedProjection for ThresholdsProjection {
    type Contract = OwnStore;

    fn name(&self) -> &str {
        CONSUMER
    }

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        event: &Recorded,
        _recorded: &RecordedEvent,
    ) -> anyhow::Result<()> {
        let Recorded::Thresholds(Event::Recorded(v)) = event else {
            return Ok(());
        };
        let known = knowledge::advance(
            tx,
            self.clock.now(),
            &format!("thresholds {}/{}", v.county, v.number),
        )
        .await?;
        let t = &v.thresholds;
        sqlx::query(
            "INSERT INTO ds_thresholds (county, number, effective_from, max_properties, \
                vehicle_value_limit, financial_assets_limit_months, business_capital_limit, \
                max_source_age_days, known_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (county, number) DO NOTHING",
        )
        .bind(v.county.to_string())
        .bind(i64::from(v.number))
        .bind(i64::from(v.effective_from.to_julian_day()))
        .bind(i64::from(t.max_properties))
        .bind(t.vehicle_value_limit.fen())
        .bind(i64::from(t.financial_assets_limit_months))
        .bind(t.business_capital_limit.fen())
        .bind(i64::from(t.max_source_age_days))
        .bind(i64::try_from(known.version).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

/// The county's thresholds in force on `day` as known at `knowledge`, with their version number.
pub async fn in_force(
    db: &AnyPool,
    county: RegionCode,
    day: Date,
    knowledge: Knowledge,
) -> Result<Option<(u32, Thresholds)>, StoreError> {
    let row = sqlx::query(
        "SELECT number, max_properties, vehicle_value_limit, financial_assets_limit_months, \
            business_capital_limit, max_source_age_days FROM ds_thresholds \
         WHERE county = $1 AND known_version <= $2 AND effective_from <= $3 \
         ORDER BY effective_from DESC, number DESC LIMIT 1",
    )
    .bind(county.to_string())
    .bind(i64::try_from(knowledge.version).unwrap_or(i64::MAX))
    .bind(i64::from(day.to_julian_day()))
    .fetch_optional(db)
    .await
    .map_err(StoreError::from_sqlx)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let get = |column: &str| -> Result<i64, StoreError> {
        row.try_get(column).map_err(StoreError::from_sqlx)
    };
    let small = |column: &str| -> Result<u32, StoreError> {
        u32::try_from(get(column)?)
            .map_err(|_| StoreError::Corrupt(format!("ds_thresholds.{column} out of range")))
    };
    Ok(Some((
        small("number")?,
        Thresholds {
            max_properties: small("max_properties")?,
            vehicle_value_limit: Fen::new(get("vehicle_value_limit")?),
            financial_assets_limit_months: small("financial_assets_limit_months")?,
            business_capital_limit: Fen::new(get("business_capital_limit")?),
            max_source_age_days: small("max_source_age_days")?,
        },
    )))
}
