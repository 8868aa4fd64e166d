//! The divisions this service knows from the place-names service's events (`ec_divisions`,
//! created by [`MIGRATION`]): each code's validity and, when it was superseded by exactly one
//! division (a merger or a recode), its successor. An institution or service point is registered
//! only at a division the place-names service records and that had not ended by the day, and is counted under the county its division belongs to
//! on the day asked about, following adjustments ([`Divisions::current`]); a division split in
//! several has no single successor and keeps its own code.
//!
//! [`Divisions`] keeps the table in memory (a city has a few hundred divisions), loaded on first
//! use and again after the projection commits a change.

use std::{collections::HashMap, sync::Arc};

use async_trait::async_trait;
use minzheng_eventstore::{RecordedEvent, StoreError, migrations::ServiceMigration};
use minzheng_host::codec::TypedProjection;
use minzheng_types::RegionCode;
use sqlx::{AnyConnection, AnyPool, Row as _};
use time::Date;
use tokio::sync::RwLock;

use crate::codec::placenames::{DivisionEvent, PlaceNamesDivisions};

/// The durable consumer's name.
pub const CONSUMER: &str = "eldercare-divisions";

/// Supersessions longer than this are not followed further (bounds a corrupt cycle).
const MAX_CHAIN: usize = 32;

/// The table (portable SQL). Days are Julian day numbers.
pub const MIGRATION: ServiceMigration = ServiceMigration::portable(
    1000,
    "divisions",
    "CREATE TABLE ec_divisions (\
        code TEXT PRIMARY KEY, \
        valid_from INTEGER NOT NULL, \
        valid_to INTEGER NULL, \
        successor TEXT NULL)",
);

/// One division's validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub successor: Option<RegionCode>,
}

impl Known {
    /// Whether the division may be named on `day`: it had not ended by then. Its `valid_from`
    /// is not asked: it is when the place-names service first recorded the division (an
    /// import's vintage, often later than the division itself), and an institution registered
    /// in 2015 is entered today under today's code.
    fn usable_on(&self, day: Date) -> bool {
        self.valid_to.is_none_or(|to| day < to)
    }
}

/// Every division known, by code.
pub type KnownDivisions = Arc<HashMap<RegionCode, Known>>;

/// Reads the divisions; cheap to clone.
#[derive(Debug, Clone)]
pub struct Divisions {
    pool: AnyPool,
    cache: Arc<RwLock<Option<KnownDivisions>>>,
}

impl Divisions {
    pub fn new(pool: AnyPool) -> Self {
        Self {
            pool,
            cache: Arc::default(),
        }
    }

    /// Every division known, by code.
    pub async fn known(&self) -> Result<KnownDivisions, StoreError> {
        if let Some(known) = self.cache.read().await.as_ref() {
            return Ok(known.clone());
        }
        let rows = sqlx::query("SELECT code, valid_from, valid_to, successor FROM ec_divisions")
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        let mut known = HashMap::with_capacity(rows.len());
        for row in rows {
            let code: String = row.try_get("code").map_err(StoreError::from_sqlx)?;
            let day = |column: &str| -> Result<Option<Date>, StoreError> {
                let julian: Option<i64> = row.try_get(column).map_err(StoreError::from_sqlx)?;
                julian
                    .map(|j| {
                        i32::try_from(j)
                            .ok()
                            .and_then(|j| Date::from_julian_day(j).ok())
                            .ok_or_else(|| StoreError::Corrupt(format!("{column} {j} is no day")))
                    })
                    .transpose()
            };
            let successor: Option<String> =
                row.try_get("successor").map_err(StoreError::from_sqlx)?;
            let parse = |code: &str| {
                RegionCode::parse(code)
                    .map_err(|e| StoreError::Corrupt(format!("division {code}: {e}")))
            };
            known.insert(
                parse(&code)?,
                Known {
                    valid_from: day("valid_from")?.unwrap_or(Date::MIN),
                    valid_to: day("valid_to")?,
                    successor: successor.as_deref().map(parse).transpose()?,
                },
            );
        }
        let known = Arc::new(known);
        *self.cache.write().await = Some(known.clone());
        Ok(known)
    }

    /// Forgets the cached table (the projection committed a change).
    pub fn invalidate(&self) {
        if let Ok(mut cache) = self.cache.try_write() {
            *cache = None;
        } else {
            let cache = self.cache.clone();
            tokio::spawn(async move { *cache.write().await = None });
        }
    }

    /// Whether `code` is a division the place-names service records, not ended by `day`.
    pub async fn usable_on(&self, code: RegionCode, day: Date) -> Result<bool, StoreError> {
        Ok(self
            .known()
            .await?
            .get(&code)
            .is_some_and(|k| k.usable_on(day)))
    }
}

/// Where `code` is on `day`: itself, or the division its single-successor chain leads to.
pub fn current(known: &HashMap<RegionCode, Known>, code: RegionCode, day: Date) -> RegionCode {
    let mut at = code;
    for _ in 0..MAX_CHAIN {
        match known.get(&at) {
            Some(Known {
                valid_to: Some(to),
                successor: Some(next),
                ..
            }) if *to <= day => at = *next,
            _ => break,
        }
    }
    at
}

/// Follows the place-names service's division events.
#[derive(Debug, Clone)]
pub struct DivisionsProjection {
    divisions: Divisions,
}

impl DivisionsProjection {
    pub fn new(divisions: Divisions) -> Self {
        Self { divisions }
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
            DivisionEvent::Recorded { code, valid_from } => {
                sqlx::query(
                    "INSERT INTO ec_divisions (code, valid_from) VALUES ($1, $2) \
                     ON CONFLICT (code) DO UPDATE SET valid_from = excluded.valid_from",
                )
                .bind(code.to_string())
                .bind(i64::from(valid_from.to_julian_day()))
                .execute(&mut *tx)
                .await?;
            }
            DivisionEvent::Superseded {
                code,
                successors,
                valid_to,
            } => {
                let successor = match successors.as_slice() {
                    [one] => Some(one.to_string()),
                    _ => None,
                };
                sqlx::query(
                    "INSERT INTO ec_divisions (code, valid_from, valid_to, successor) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (code) DO UPDATE SET valid_to = excluded.valid_to, \
                     successor = excluded.successor",
                )
                .bind(code.to_string())
                .bind(i64::from(Date::MIN.to_julian_day()))
                .bind(i64::from(valid_to.to_julian_day()))
                .bind(successor)
                .execute(&mut *tx)
                .await?;
            }
        }
        Ok(())
    }

    fn committed(&self, _events: &[RecordedEvent]) {
        self.divisions.invalidate();
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn code(digits: &str) -> RegionCode {
        RegionCode::parse(digits).expect("valid")
    }

    #[test]
    fn a_merged_division_is_found_where_it_went_from_the_day_it_went() {
        let known = HashMap::from([
            (
                code("210502001000"),
                Known {
                    valid_from: date!(2020 - 01 - 01),
                    valid_to: Some(date!(2023 - 07 - 01)),
                    successor: Some(code("210503002000")),
                },
            ),
            (
                code("210503002000"),
                Known {
                    valid_from: date!(2020 - 01 - 01),
                    valid_to: None,
                    successor: None,
                },
            ),
        ]);
        assert_eq!(
            current(&known, code("210502001000"), date!(2023 - 06 - 30)),
            code("210502001000")
        );
        assert_eq!(
            current(&known, code("210502001000"), date!(2023 - 07 - 01)),
            code("210503002000")
        );
        assert_eq!(
            current(&known, code("210504001000"), date!(2023 - 07 - 01)),
            code("210504001000")
        );
    }
}
