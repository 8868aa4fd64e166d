//! The county-level divisions (and their cities) this service knows from the place-names
//! service's events: one marriage registry per county-level division (县级婚姻登记机关). A bus
//! projection keeps them in the service's own database (`cr_divisions`, created by
//! [`MIGRATION`]), whatever the backend; [`Divisions`] reads them.
//!
//! The projection receives the division events decoded by [`PlaceNamesDivisions`], this
//! service's view of the place-names contract. Only what the registry needs is kept: code,
//! current name, level, and the validity period (`valid_to` exclusive). Dates are stored as
//! `YYYY-MM-DD` text, which orders as dates do.

use async_trait::async_trait;
use minzheng_eventstore::{RecordedEvent, migrations::ServiceMigration};
use minzheng_host::codec::TypedProjection;
use minzheng_types::{RegionCode, RegionLevel, format_date};
use sqlx::{AnyConnection, AnyPool, Row};
use time::Date;

use crate::codec::placenames::{DivisionEvent, PlaceNamesDivisions};

/// The durable consumer's name.
pub const CONSUMER: &str = "civilregistry-divisions";

/// The table of the divisions (portable SQL, PostgreSQL and SQLite).
///
/// `IF NOT EXISTS` only adopts the table that builds before this migration created at start;
/// the migration is recorded, so it runs once per database.
pub const MIGRATION: ServiceMigration = ServiceMigration::portable(
    1000,
    "divisions",
    "CREATE TABLE IF NOT EXISTS cr_divisions (\
        code TEXT PRIMARY KEY, \
        name TEXT NOT NULL, \
        level INTEGER NOT NULL, \
        valid_from TEXT NOT NULL, \
        valid_to TEXT NULL)",
);

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
            DivisionEvent::Recorded {
                code,
                name,
                valid_from,
            } => {
                // Townships and villages have no registry; provinces are not asked about.
                if !matches!(code.level(), RegionLevel::City | RegionLevel::County) {
                    return Ok(());
                }
                sqlx::query(
                    "INSERT INTO cr_divisions (code, name, level, valid_from) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, valid_from = excluded.valid_from",
                )
                .bind(code.to_string())
                .bind(name.as_str())
                .bind(level_number(code.level()))
                .bind(format_date(*valid_from))
                .execute(&mut *tx)
                .await?;
            }
            DivisionEvent::Renamed { code, name } => {
                sqlx::query("UPDATE cr_divisions SET name = $1 WHERE code = $2")
                    .bind(name.as_str())
                    .bind(code.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            DivisionEvent::Superseded { code, valid_to } => {
                sqlx::query("UPDATE cr_divisions SET valid_to = $1 WHERE code = $2")
                    .bind(format_date(*valid_to))
                    .bind(code.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
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

#[cfg(test)]
mod tests {
    use minzheng_bus::Projection as _;
    use minzheng_eventstore::migrations;
    use minzheng_host::codec::Typed;
    use time::macros::date;

    use super::*;
    use crate::codec::placenames::stored as published;

    /// The table comes from the service's migration, and the projection keeps the cities and
    /// counties of the division events it is given, renamed and superseded as they say.
    #[tokio::test]
    async fn the_registries_follow_the_division_events() {
        let db = minzheng_testkit::TestSqlite::create();
        let _store = minzheng_eventstore::connect(&db.url, Default::default())
            .await
            .expect("store opens");
        let pool = minzheng_bus::connect_any(&db.url, minzheng_eventstore::DEFAULT_ACQUIRE_TIMEOUT)
            .await
            .expect("database");
        migrations::run_service(&pool, &[MIGRATION])
            .await
            .expect("migrated");
        let projection = Typed::new(DivisionsProjection);
        let events = [
            published::recorded(1, "210500000000", "本溪市"),
            published::recorded(2, "210502000000", "平山区"),
            published::recorded(3, "210503000000", "溪湖区"),
            // A township: no registry.
            published::recorded(4, "210502001000", "平山街道"),
            published::renamed(5, "210502000000", "新平山区"),
            published::superseded(6, "210503000000", date!(2025 - 07 - 01)),
            // Not a registry's business: skipped.
            published::adjustment_approved(7),
        ];
        let mut conn = pool.acquire().await.expect("connection");
        for event in &events {
            projection.apply(&mut conn, event).await.expect("applied");
        }
        drop(conn);
        let divisions = Divisions::new(pool);
        let names = |list: Vec<Division>| {
            list.into_iter()
                .map(|d| (d.code.to_string(), d.name))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(divisions.counties_on(date!(2025 - 06 - 30)).await.unwrap()),
            [
                ("210502000000".to_owned(), "新平山区".to_owned()),
                ("210503000000".to_owned(), "溪湖区".to_owned())
            ]
        );
        assert_eq!(
            names(divisions.counties_on(date!(2025 - 07 - 01)).await.unwrap()),
            [("210502000000".to_owned(), "新平山区".to_owned())]
        );
        assert_eq!(
            names(divisions.cities_on(date!(2025 - 07 - 01)).await.unwrap()),
            [("210500000000".to_owned(), "本溪市".to_owned())]
        );
    }
}
