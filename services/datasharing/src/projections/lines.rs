//! The assistance service's standards as the lines a household's income is measured against
//! (`ds_lines`): each dibao standard and low-income multiplier recorded under the knowledge
//! clock, so that a verification reads the lines as known at its time.

use async_trait::async_trait;
use minzheng_eventstore::{RecordedEvent, StoreError};
use minzheng_host::codec::TypedProjection;
use minzheng_kit::clock::Clock;
use minzheng_types::{Fen, RegionCode, Rounding};
use sqlx::{AnyConnection, AnyPool, Row as _};
use std::sync::Arc;
use time::Date;

use crate::{
    assistance::{Event, StandardKind},
    codec::assistance::AssistanceEvents,
    knowledge::{self, Knowledge},
    verification::{Area, IncomeLines, StandardVersion},
};

/// The durable consumer's name.
pub const CONSUMER: &str = "datasharing-lines";

const DIBAO: &str = "dibao";
const MULTIPLIER: &str = "low_income_multiplier";

fn area_number(area: Area) -> i64 {
    match area {
        Area::Urban => 1,
        Area::Rural => 2,
    }
}

/// Records the standards a verification uses.
#[derive(Debug, Clone)]
pub struct LinesProjection {
    clock: Arc<dyn Clock>,
}

impl LinesProjection {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock }
    }
}

#[async_trait]
impl TypedProjection for LinesProjection {
    type Contract = AssistanceEvents;

    fn name(&self) -> &str {
        CONSUMER
    }

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        event: &Event,
        _recorded: &RecordedEvent,
    ) -> anyhow::Result<()> {
        let Event::StandardRecorded(standard) = event else {
            return Ok(());
        };
        let (kind, area, amount) = match standard.kind {
            StandardKind::Dibao { area, monthly } => (DIBAO, area_number(area), monthly.fen()),
            StandardKind::LowIncomeMultiplier { permille } => (MULTIPLIER, 0, i64::from(permille)),
            StandardKind::Other => return Ok(()),
        };
        let known = knowledge::advance(
            tx,
            self.clock.now(),
            &format!("standard {}/{}", standard.county, standard.number),
        )
        .await?;
        sqlx::query(
            "INSERT INTO ds_lines (county, number, kind, area, amount, effective_from, \
                known_version) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (county, number) DO NOTHING",
        )
        .bind(standard.county.to_string())
        .bind(i64::from(standard.number))
        .bind(kind)
        .bind(area)
        .bind(amount)
        .bind(i64::from(standard.effective_from.to_julian_day()))
        .bind(i64::try_from(known.version).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

/// The lines for `county` and `area` in force on `day`, as known at `knowledge`: `None` when no
/// dibao standard was. The low-income line is k × the standard, halves up.
pub async fn lines(
    db: &AnyPool,
    county: RegionCode,
    area: Area,
    day: Date,
    knowledge: Knowledge,
) -> Result<Option<IncomeLines>, StoreError> {
    let rows = sqlx::query(
        "SELECT number, kind, area, amount, effective_from FROM ds_lines \
         WHERE county = $1 AND known_version <= $2 AND effective_from <= $3",
    )
    .bind(county.to_string())
    .bind(i64::try_from(knowledge.version).unwrap_or(i64::MAX))
    .bind(i64::from(day.to_julian_day()))
    .fetch_all(db)
    .await
    .map_err(StoreError::from_sqlx)?;
    // Per kind, the version in force: the latest started, then the latest recorded.
    let mut dibao: Option<((i64, i64), Fen)> = None;
    let mut multiplier: Option<((i64, i64), i64)> = None;
    for row in rows {
        let number: i64 = row.try_get("number").map_err(StoreError::from_sqlx)?;
        let kind: String = row.try_get("kind").map_err(StoreError::from_sqlx)?;
        let row_area: i64 = row.try_get("area").map_err(StoreError::from_sqlx)?;
        let amount: i64 = row.try_get("amount").map_err(StoreError::from_sqlx)?;
        let from: i64 = row
            .try_get("effective_from")
            .map_err(StoreError::from_sqlx)?;
        let order = (from, number);
        if kind == DIBAO && row_area == area_number(area) {
            if dibao.is_none_or(|(held, _)| held < order) {
                dibao = Some((order, Fen::new(amount)));
            }
        } else if kind == MULTIPLIER && multiplier.is_none_or(|(held, _)| held < order) {
            multiplier = Some((order, amount));
        }
    }
    let version = |number: i64| StandardVersion {
        county,
        number: u32::try_from(number).unwrap_or(u32::MAX),
    };
    Ok(dibao.map(|((_, number), monthly)| IncomeLines {
        dibao_version: version(number),
        dibao_monthly: monthly,
        low_income: multiplier.and_then(|((_, number), permille)| {
            let line = monthly.checked_mul_div(permille, 1000, Rounding::HalfAwayFromZero)?;
            Some((version(number), line))
        }),
    }))
}
