//! The township-level divisions this service knows from the place-names service's events, and
//! what superseded them: where an application is routed (一门受理: any window takes it, the
//! county of the household's registered township decides) and where a case follows a division
//! adjustment. A bus projection keeps them in the service's own database (`as_divisions`,
//! created by [`MIGRATION`]); [`Divisions`] reads them.
//!
//! Routing follows supersessions: a code superseded by one successor resolves to that
//! successor (and on, through later adjustments); one superseded by several (a split) cannot be
//! resolved without the household's new township.
//!
//! Every submission routes through these rows, so [`Divisions`] keeps the rows it read in
//! memory. This process's projection drops them as soon as its writes commit (a row read
//! before the commit is not kept); a row another replica's projection changed is read again
//! after [`ROW_FRESH_FOR`]. Routing is no more exact than the projection's own lag either way:
//! a case filed under a township superseded meanwhile is moved to the successor by the
//! adjustment's follower or the periodic sweep of missed adjustments.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use minzheng_eventstore::{RecordedEvent, StoreError, migrations::ServiceMigration};
use minzheng_host::codec::TypedProjection;
use minzheng_types::{RegionCode, RegionLevel, format_date, parse_date};
use sqlx::{AnyConnection, AnyPool, Row, any::AnyRow};
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

/// How long a row read is used before it is read again (for another replica's changes; this
/// process's own drop the rows at once).
pub const ROW_FRESH_FOR: Duration = Duration::from_secs(5);

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

    fn committed(&self, _events: &[RecordedEvent]) {
        self.app.divisions().forget();
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

/// The `valid_to` column of `code`'s row.
fn parse_valid_to(code: RegionCode, column: &str) -> Result<Date, StoreError> {
    parse_date(column)
        .map_err(|e| StoreError::Corrupt(format!("as_divisions.valid_to of {code}: {e}")))
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
    rows: Arc<Mutex<RowCache>>,
}

/// A division's row as routing reads it.
#[derive(Debug, Clone)]
struct RoutingRow {
    /// The day it ceased, if it did.
    valid_to: Option<Date>,
    successors: Vec<RegionCode>,
}

/// The rows read, each with when; `generation` counts this process's commits of the table, so
/// that a row read before one is not kept after it.
#[derive(Debug, Default)]
struct RowCache {
    generation: u64,
    rows: HashMap<RegionCode, (Instant, RoutingRow)>,
}

impl Divisions {
    pub fn new(pool: AnyPool) -> Self {
        Self {
            pool,
            rows: Arc::default(),
        }
    }

    /// Drops the rows kept: the projection's writes committed.
    pub fn forget(&self) {
        let mut cache = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        cache.generation += 1;
        cache.rows.clear();
    }

    /// Follows `code` through its supersessions as of `day`.
    pub async fn resolve(&self, code: RegionCode, day: Date) -> Result<Resolution, StoreError> {
        let mut current = code;
        for _ in 0..MAX_HOPS {
            let Some(row) = self.routing_row(current).await? else {
                return Ok(Resolution::Unknown);
            };
            let gone = row.valid_to.is_some_and(|to| to <= day);
            if !gone {
                return Ok(Resolution::Current(current));
            }
            match row.successors.as_slice() {
                [one] => current = *one,
                [] => return Ok(Resolution::Unknown),
                many => return Ok(Resolution::Split(many.to_vec())),
            }
        }
        Ok(Resolution::Unknown)
    }

    /// `code`'s row: the one kept while fresh, else read (and kept, unless the projection
    /// committed meanwhile). A code not recorded is read again every time.
    async fn routing_row(&self, code: RegionCode) -> Result<Option<RoutingRow>, StoreError> {
        let generation = {
            let cache = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((read_at, row)) = cache.rows.get(&code)
                && read_at.elapsed() < ROW_FRESH_FOR
            {
                return Ok(Some(row.clone()));
            }
            cache.generation
        };
        let read_at = Instant::now();
        let Some(row) = self
            .row_of(
                "SELECT valid_to, successors FROM as_divisions WHERE code = $1",
                code,
            )
            .await?
        else {
            return Ok(None);
        };
        let valid_to: Option<String> = row.try_get("valid_to").map_err(StoreError::from_sqlx)?;
        let row = RoutingRow {
            valid_to: valid_to.map(|to| parse_valid_to(code, &to)).transpose()?,
            successors: parse_successors(
                &row.try_get::<String, _>("successors")
                    .map_err(StoreError::from_sqlx)?,
            ),
        };
        let mut cache = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.generation == generation {
            cache.rows.insert(code, (read_at, row.clone()));
        }
        Ok(Some(row))
    }

    /// The row `sql` selects for `code` (its one parameter), if any.
    async fn row_of(
        &self,
        sql: &'static str,
        code: RegionCode,
    ) -> Result<Option<AnyRow>, StoreError> {
        sqlx::query(sql)
            .bind(code.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)
    }

    /// How `code` ceased, when the place-names service recorded that it did: the day, its
    /// successors and the adjustment.
    pub async fn supersession(&self, code: RegionCode) -> Result<Option<Supersession>, StoreError> {
        let Some(row) = self
            .row_of(
                "SELECT valid_to, successors, adjustment_id FROM as_divisions \
                 WHERE code = $1 AND valid_to IS NOT NULL",
                code,
            )
            .await?
        else {
            return Ok(None);
        };
        let valid_to: String = row.try_get("valid_to").map_err(StoreError::from_sqlx)?;
        let successors: String = row.try_get("successors").map_err(StoreError::from_sqlx)?;
        let adjustment_id: String = row
            .try_get("adjustment_id")
            .map_err(StoreError::from_sqlx)?;
        let valid_to = parse_valid_to(code, &valid_to)?;
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
