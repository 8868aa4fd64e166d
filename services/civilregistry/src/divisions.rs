//! The county-level divisions (and their cities) this service knows from the place-names
//! service's events: one marriage registry per county-level division (县级婚姻登记机关). A bus
//! projection keeps them in the service's own database (`cr_divisions`), whatever the backend;
//! [`Divisions`] reads them.
//!
//! Only what the registry needs is kept: code, current name, level, and the validity period
//! (`valid_to` exclusive). Dates are stored as `YYYY-MM-DD` text, which orders as dates do.

use async_trait::async_trait;
use minzheng_bus::Projection;
use minzheng_eventstore::RecordedEvent;
use minzheng_proto::{common::v1 as common, convert, placenames::v1 as placenames};
use minzheng_types::{RegionCode, RegionLevel, format_date};
use prost::Message;
use sqlx::{AnyConnection, AnyPool, Row};
use time::Date;

/// The durable consumer's name.
pub const CONSUMER: &str = "civilregistry-divisions";

const RECORDED: &str = "minzheng.placenames.v1.DivisionRecorded";
const RENAMED: &str = "minzheng.placenames.v1.DivisionRenamed";
const SUPERSEDED: &str = "minzheng.placenames.v1.DivisionSuperseded";

/// Creates the table when it is missing (portable SQL, PostgreSQL and SQLite).
pub async fn create_table(pool: &AnyPool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS cr_divisions (\
            code TEXT PRIMARY KEY, \
            name TEXT NOT NULL, \
            level INTEGER NOT NULL, \
            valid_from TEXT NOT NULL, \
            valid_to TEXT NULL)",
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Follows the place-names service's division events.
#[derive(Debug, Clone, Copy, Default)]
pub struct DivisionsProjection;

fn level_number(level: RegionLevel) -> i32 {
    match level {
        RegionLevel::Province => 1,
        RegionLevel::City => 2,
        RegionLevel::County => 3,
        RegionLevel::Township => 4,
        RegionLevel::Village => 5,
    }
}

fn code(field: &str, code: &Option<common::RegionCode>) -> anyhow::Result<RegionCode> {
    Ok(convert::region_code(field, code)?)
}

fn date(field: &str, date: &Option<common::Date>) -> anyhow::Result<Date> {
    Ok(convert::date(field, date)?)
}

#[async_trait]
impl Projection for DivisionsProjection {
    fn name(&self) -> &str {
        CONSUMER
    }

    async fn apply(&self, tx: &mut AnyConnection, event: &RecordedEvent) -> anyhow::Result<()> {
        match event.event_type.as_str() {
            RECORDED => {
                let m = placenames::DivisionRecorded::decode(event.payload.as_ref())?;
                let code = code("code", &m.code)?;
                if !matches!(code.level(), RegionLevel::City | RegionLevel::County) {
                    return Ok(());
                }
                sqlx::query(
                    "INSERT INTO cr_divisions (code, name, level, valid_from) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, valid_from = excluded.valid_from",
                )
                .bind(code.to_string())
                .bind(m.name)
                .bind(level_number(code.level()))
                .bind(format_date(date("valid_from", &m.valid_from)?))
                .execute(&mut *tx)
                .await?;
            }
            RENAMED => {
                let m = placenames::DivisionRenamed::decode(event.payload.as_ref())?;
                sqlx::query("UPDATE cr_divisions SET name = $1 WHERE code = $2")
                    .bind(m.name)
                    .bind(code("code", &m.code)?.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            SUPERSEDED => {
                let m = placenames::DivisionSuperseded::decode(event.payload.as_ref())?;
                sqlx::query("UPDATE cr_divisions SET valid_to = $1 WHERE code = $2")
                    .bind(format_date(date("valid_to", &m.valid_to)?))
                    .bind(code("code", &m.code)?.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            // Adjustments, place names, boundaries, signs: not a registry's business.
            _ => {}
        }
        Ok(())
    }
}

/// A division as the registry knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    pub code: RegionCode,
    pub name: String,
}

/// Reads `cr_divisions`; cheap to clone.
#[derive(Debug, Clone)]
pub struct Divisions {
    pool: AnyPool,
}

impl Divisions {
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    /// The county-level divisions valid on `day`, by code: the registries.
    pub async fn counties_on(&self, day: Date) -> Result<Vec<Division>, sqlx::Error> {
        self.valid_on(level_number(RegionLevel::County), day).await
    }

    /// The city-level divisions valid on `day`, by code.
    pub async fn cities_on(&self, day: Date) -> Result<Vec<Division>, sqlx::Error> {
        self.valid_on(level_number(RegionLevel::City), day).await
    }

    /// Whether `code` is a county-level division valid on `day`: a registry that exists.
    pub async fn is_registry_on(&self, code: RegionCode, day: Date) -> Result<bool, sqlx::Error> {
        let day = format_date(day);
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM cr_divisions WHERE code = $1 AND level = $2 \
             AND valid_from <= $3 AND (valid_to IS NULL OR valid_to > $3)",
        )
        .bind(code.to_string())
        .bind(level_number(RegionLevel::County))
        .bind(day)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    async fn valid_on(&self, level: i32, day: Date) -> Result<Vec<Division>, sqlx::Error> {
        let day = format_date(day);
        let rows = sqlx::query(
            "SELECT code, name FROM cr_divisions WHERE level = $1 \
             AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2) ORDER BY code",
        )
        .bind(level)
        .bind(day)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let code: String = row.try_get("code")?;
                Ok(Division {
                    code: RegionCode::parse(&code).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                    name: row.try_get("name")?,
                })
            })
            .collect()
    }
}
