//! The township-level divisions this service knows from the place-names service's events, and
//! what superseded them: where an application is routed (一门受理: any window takes it, the
//! county of the household's registered township decides) and where a case follows a division
//! adjustment. A bus projection keeps them in the service's own database (`as_divisions`,
//! created by [`MIGRATION`]); [`Divisions`] reads them.
//!
//! Routing follows supersessions: a code superseded by one successor resolves to that
//! successor (and on, through later adjustments); one superseded by several (a split) cannot be
//! resolved without the household's new township.

use async_trait::async_trait;
use minzheng_eventstore::{RecordedEvent, StoreError, migrations::ServiceMigration};
use minzheng_host::codec::TypedProjection;
use minzheng_types::{RegionCode, RegionLevel, format_date, parse_date};
use sqlx::{AnyConnection, AnyPool, Row};
use time::Date;

use crate::{
    app::Assistance,
    codec::placenames::{DivisionEvent, PlaceNamesDivisions},
};

/// The durable consumer's name.
pub const CONSUMER: &str = "assistance-divisions";

/// The table of divisions (portable SQL): `successors` is a space-separated list of codes,
/// empty while the division is valid.
pub const MIGRATION: ServiceMigration = ServiceMigration::portable(
    1000,
    "divisions",
    "CREATE TABLE as_divisions (\
        code TEXT PRIMARY KEY, \
        level INTEGER NOT NULL, \
        valid_to TEXT NULL, \
        successors TEXT NOT NULL DEFAULT '', \
        adjustment_id TEXT NOT NULL DEFAULT '')",
);

/// Most supersessions followed from one code (a loop in the data stops here).
const MAX_HOPS: usize = 16;

/// Follows the place-names service's division events; a township superseded moves the cases
/// filed under it to its successor (see [`Assistance::follow_adjustment`]), under idempotency
/// keys derived from the event, so a redelivery moves nothing twice.
#[derive(Debug, Clone)]
pub struct DivisionsProjection {
    app: Assistance,
}

impl DivisionsProjection {
    pub fn new(app: Assistance) -> Self {
        Self { app }
    }
}

fn level_number(level: RegionLevel) -> i32 {
    match level {
        RegionLevel::Province => 1,
        RegionLevel::City => 2,
        RegionLevel::County => 3,
        RegionLevel::Township => 4,
        RegionLevel::Village => 5,
    }
}

#[async_trait]
impl TypedProjection for DivisionsProjection {
    type Contract = PlaceNamesDivisions;

    fn name(&self) -> &str {
        CONSUMER
    }

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        event: &DivisionEvent,
        _recorded: &RecordedEvent,
    ) -> anyhow::Result<()> {
        match event {
            DivisionEvent::Recorded { code, .. } => {
                if !matches!(code.level(), RegionLevel::County | RegionLevel::Township) {
                    return Ok(());
                }
                sqlx::query(
                    "INSERT INTO as_divisions (code, level) VALUES ($1, $2) \
                     ON CONFLICT (code) DO NOTHING",
                )
                .bind(code.to_string())
                .bind(level_number(code.level()))
                .execute(&mut *tx)
                .await?;
            }
            DivisionEvent::Superseded {
                code,
                successors,
                valid_to,
                adjustment_id,
            } => {
                let listed: Vec<String> = successors.iter().map(ToString::to_string).collect();
                sqlx::query(
                    "INSERT INTO as_divisions (code, level, valid_to, successors, adjustment_id) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET \
                     valid_to = excluded.valid_to, successors = excluded.successors, \
                     adjustment_id = excluded.adjustment_id",
                )
                .bind(code.to_string())
                .bind(level_number(code.level()))
                .bind(format_date(*valid_to))
                .bind(listed.join(" "))
                .bind(adjustment_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        Ok(())
    }

    async fn act(&self, event: &DivisionEvent, recorded: &RecordedEvent) -> anyhow::Result<()> {
        if let DivisionEvent::Superseded {
            code,
            successors,
            valid_to,
            adjustment_id,
        } = event
            && code.level() == RegionLevel::Township
        {
            self.app
                .follow_adjustment(
                    *code,
                    successors,
                    *valid_to,
                    adjustment_id,
                    Some(recorded.id),
                )
                .await
                .map_err(|e| anyhow::anyhow!("cases of superseded {code}: {e}"))?;
        }
        Ok(())
    }
}

/// The successors column: codes separated by spaces.
fn parse_successors(column: &str) -> Vec<RegionCode> {
    column
        .split_whitespace()
        .filter_map(|s| RegionCode::parse(s).ok())
        .collect()
}

/// A division's end as the place-names service recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supersession {
    pub valid_to: Date,
    pub successors: Vec<RegionCode>,
    pub adjustment_id: String,
}

/// Where a filed township code leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The township valid now (the filed code or its successor).
    Current(RegionCode),
    /// The code (or a successor) was split: the household's new township must be given.
    Split(Vec<RegionCode>),
    /// The place-names service has not recorded it.
    Unknown,
}

/// Reads the divisions the projection keeps.
#[derive(Debug, Clone)]
pub struct Divisions {
    pool: AnyPool,
}

impl Divisions {
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    /// Follows `code` through its supersessions as of `day`.
    pub async fn resolve(&self, code: RegionCode, day: Date) -> Result<Resolution, StoreError> {
        let mut current = code;
        for _ in 0..MAX_HOPS {
            let row = sqlx::query("SELECT valid_to, successors FROM as_divisions WHERE code = $1")
                .bind(current.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::from_sqlx)?;
            let Some(row) = row else {
                return Ok(Resolution::Unknown);
            };
            let valid_to: Option<String> =
                row.try_get("valid_to").map_err(StoreError::from_sqlx)?;
            let successors: String = row.try_get("successors").map_err(StoreError::from_sqlx)?;
            let gone = valid_to.is_some_and(|to| to.as_str() <= format_date(day).as_str());
            if !gone {
                return Ok(Resolution::Current(current));
            }
            match parse_successors(&successors).as_slice() {
                [one] => current = *one,
                [] => return Ok(Resolution::Unknown),
                many => return Ok(Resolution::Split(many.to_vec())),
            }
        }
        Ok(Resolution::Unknown)
    }

    /// How `code` ceased, when the place-names service recorded that it did: the day, its
    /// successors and the adjustment.
    pub async fn supersession(&self, code: RegionCode) -> Result<Option<Supersession>, StoreError> {
        let row = sqlx::query(
            "SELECT valid_to, successors, adjustment_id FROM as_divisions \
             WHERE code = $1 AND valid_to IS NOT NULL",
        )
        .bind(code.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let valid_to: String = row.try_get("valid_to").map_err(StoreError::from_sqlx)?;
        let successors: String = row.try_get("successors").map_err(StoreError::from_sqlx)?;
        let adjustment_id: String = row
            .try_get("adjustment_id")
            .map_err(StoreError::from_sqlx)?;
        let valid_to = parse_date(&valid_to)
            .map_err(|e| StoreError::Corrupt(format!("as_divisions.valid_to of {code}: {e}")))?;
        Ok(Some(Supersession {
            valid_to,
            successors: parse_successors(&successors),
            adjustment_id,
        }))
    }

    /// Township-level divisions valid on `day` in `county` (or everywhere), for the indicators.
    pub async fn townships_on(
        &self,
        county: Option<RegionCode>,
        day: Date,
    ) -> Result<Vec<RegionCode>, StoreError> {
        let rows = sqlx::query("SELECT code, valid_to FROM as_divisions WHERE level = 4")
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        let today = format_date(day);
        let mut codes = Vec::new();
        for row in rows {
            let code: String = row.try_get("code").map_err(StoreError::from_sqlx)?;
            let valid_to: Option<String> =
                row.try_get("valid_to").map_err(StoreError::from_sqlx)?;
            if valid_to.is_some_and(|to| to <= today) {
                continue;
            }
            if let Ok(code) = RegionCode::parse(&code)
                && county.is_none_or(|c| c.contains(code))
            {
                codes.push(code);
            }
        }
        codes.sort();
        Ok(codes)
    }
}
