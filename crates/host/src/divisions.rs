//! The administrative divisions a service knows from the place-names service's events, for the
//! services that place their records at divisions: each code's validity, whether an adjustment
//! established it, and, when it was superseded by exactly one division (a merger or a recode),
//! its successor. A division split in several has no single successor and keeps its own code.
//!
//! Each service keeps its own table, in its own database, filled by its own durable consumer:
//! - the table's migration stays in the service (migrations are the service's, numbered and
//!   append-only), with the SQL [`divisions_table_sql!`](crate::divisions_table_sql) gives for a
//!   new table;
//! - [`Divisions::new`] takes the pool and the table's name, [`DivisionsProjection::new`] the
//!   [`Divisions`] and the consumer's durable name, and the service spawns the projection on the
//!   place-names service.
//!
//! ```
//! use minzheng_eventstore::migrations::ServiceMigration;
//!
//! /// The durable consumer's name.
//! pub const CONSUMER: &str = "childwelfare-divisions";
//! /// The table (portable SQL).
//! pub const MIGRATION: ServiceMigration = ServiceMigration::portable(
//!     1000,
//!     "divisions",
//!     minzheng_host::divisions_table_sql!("cw_divisions"),
//! );
//! ```
//!
//! The table's columns (days are Julian day numbers): `code TEXT PRIMARY KEY`, `valid_from
//! INTEGER NOT NULL`, `valid_to INTEGER NULL`, `successor TEXT NULL` and `created_by_adjustment
//! INTEGER NULL` (1 when an adjustment established the division, 0 when it was imported; NULL
//! in rows recorded before a service added the column, read as imported).
//!
//! Two days matter for a division, and they are not alike. It ends on `valid_to`, its first day
//! gone. Its `valid_from` is when the place-names service first recorded it: for an imported
//! division, the import's vintage, often later than the division itself, so it is not a start
//! at all; only for a division an adjustment established is it the first day it exists.
//! Whether a division is some other's successor does not tell the two apart — a merger's
//! surviving division is a successor that existed long before — so the projection keeps what
//! `DivisionRecorded` says: the adjustment that established it, if any.
//!
//! [`Divisions`] keeps the table in memory (a city has a few hundred divisions), loaded on first
//! use and again after the projection commits a change.
//!
//! Architecture invariant: this module knows the place-names service's public contract only
//! ([`placenames`]), never its crate, and no service's domain.

pub mod placenames;

use std::{collections::HashMap, sync::Arc};

use async_trait::async_trait;
use minzheng_eventstore::{RecordedEvent, StoreError};
use minzheng_types::RegionCode;
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Row as _};
use time::Date;
use tokio::sync::RwLock;

pub use self::placenames::{DivisionEvent, PlaceNamesDivisions};
use crate::codec::TypedProjection;

/// Supersessions longer than this are not followed further (bounds a corrupt cycle).
const MAX_CHAIN: usize = 32;

/// The portable SQL creating a service's divisions table named `$table` (a string literal), with
/// every column the shared code reads and writes; see [`crate::divisions`].
#[macro_export]
macro_rules! divisions_table_sql {
    ($table:literal) => {
        ::core::concat!(
            "CREATE TABLE ",
            $table,
            " (code TEXT PRIMARY KEY, valid_from INTEGER NOT NULL, valid_to INTEGER NULL, \
             successor TEXT NULL, created_by_adjustment INTEGER NULL)"
        )
    };
}

/// One division's validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// When the place-names service first recorded the division: the day it begins only if
    /// [`Known::created_by_adjustment`].
    pub valid_from: Date,
    /// Its first day gone, once superseded.
    pub valid_to: Option<Date>,
    /// The one division that took its place (a merger or a recode); `None` after a split.
    pub successor: Option<RegionCode>,
    /// Whether an adjustment established it, rather than an import.
    pub created_by_adjustment: bool,
}

impl Known {
    /// Whether the division may be named on `day`: it had not ended by then. Its `valid_from`
    /// is not asked: an institution registered in 2015 is entered today under today's code,
    /// whatever day the place-names service first recorded it.
    pub fn usable_on(&self, day: Date) -> bool {
        self.valid_to.is_none_or(|to| day < to)
    }

    /// Whether the division existed on `day`: it had not ended, and, if an adjustment
    /// established it, it had begun. An imported division counts from the beginning of time
    /// (its `valid_from` is the import's vintage).
    pub fn in_force_on(&self, day: Date) -> bool {
        self.usable_on(day) && (!self.created_by_adjustment || self.valid_from <= day)
    }
}

/// Every division known, by code.
pub type KnownDivisions = Arc<HashMap<RegionCode, Known>>;

/// The SQL of one service's table, written once.
#[derive(Debug)]
struct Statements {
    table: &'static str,
    select: Arc<str>,
    record: Arc<str>,
    supersede: Arc<str>,
}

impl Statements {
    fn for_table(table: &'static str) -> Self {
        let well_formed = table
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && table
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        assert!(
            well_formed,
            "divisions table {table:?} must be a lowercase SQL identifier"
        );
        Self {
            table,
            select: format!(
                "SELECT code, valid_from, valid_to, successor, created_by_adjustment FROM {table}"
            )
            .into(),
            record: format!(
                "INSERT INTO {table} (code, valid_from, created_by_adjustment) VALUES ($1, $2, $3) \
                 ON CONFLICT (code) DO UPDATE SET valid_from = excluded.valid_from, \
                 created_by_adjustment = excluded.created_by_adjustment"
            )
            .into(),
            supersede: format!(
                "INSERT INTO {table} (code, valid_from, valid_to, successor) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO UPDATE SET valid_to = excluded.valid_to, \
                 successor = excluded.successor"
            )
            .into(),
        }
    }
}

/// Reads a service's divisions table; cheap to clone.
#[derive(Debug, Clone)]
pub struct Divisions {
    pool: AnyPool,
    sql: Arc<Statements>,
    cache: Arc<RwLock<Option<KnownDivisions>>>,
}

impl Divisions {
    /// The divisions in `table` (created as [`divisions_table_sql!`](crate::divisions_table_sql)
    /// gives) of the database behind `pool`.
    ///
    /// # Panics
    ///
    /// If `table` is not a lowercase SQL identifier (it is a constant of the service).
    pub fn new(pool: AnyPool, table: &'static str) -> Self {
        Self {
            pool,
            sql: Arc::new(Statements::for_table(table)),
            cache: Arc::default(),
        }
    }

    /// The table's name.
    pub fn table(&self) -> &'static str {
        self.sql.table
    }

    /// Every division known, by code.
    pub async fn known(&self) -> Result<KnownDivisions, StoreError> {
        if let Some(known) = self.cache.read().await.as_ref() {
            return Ok(known.clone());
        }
        let rows = sqlx::query(AssertSqlSafe(self.sql.select.clone()))
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
            let created_by_adjustment: Option<i64> = row
                .try_get("created_by_adjustment")
                .map_err(StoreError::from_sqlx)?;
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
                    created_by_adjustment: created_by_adjustment.is_some_and(|flag| flag != 0),
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

    /// Whether `code` is a division the place-names service records, not ended by `day`
    /// ([`Known::usable_on`]).
    pub async fn usable_on(&self, code: RegionCode, day: Date) -> Result<bool, StoreError> {
        Ok(self
            .known()
            .await?
            .get(&code)
            .is_some_and(|k| k.usable_on(day)))
    }

    /// The divisions in force on `day`, in code order ([`in_force_on`]).
    pub async fn in_force_on(&self, day: Date) -> Result<Vec<RegionCode>, StoreError> {
        let known = self.known().await?;
        Ok(in_force_on(&known, day))
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

/// The divisions in force on `day` ([`Known::in_force_on`]), in code order: what the place-names
/// divisions were that day, following the adjustments that had taken effect by then.
pub fn in_force_on(known: &HashMap<RegionCode, Known>, day: Date) -> Vec<RegionCode> {
    let mut codes: Vec<RegionCode> = known
        .iter()
        .filter(|(_, k)| k.in_force_on(day))
        .map(|(code, _)| *code)
        .collect();
    codes.sort_unstable();
    codes
}

/// Follows the place-names service's division events into a service's divisions table.
#[derive(Debug, Clone)]
pub struct DivisionsProjection {
    divisions: Divisions,
    consumer: &'static str,
}

impl DivisionsProjection {
    /// Writes into `divisions`' table as the durable consumer `consumer` (the service's own,
    /// e.g. `"eldercare-divisions"`; never change it for a deployment).
    pub fn new(divisions: Divisions, consumer: &'static str) -> Self {
        Self {
            divisions,
            consumer,
        }
    }

    async fn write(&self, tx: &mut AnyConnection, event: &DivisionEvent) -> sqlx::Result<()> {
        let julian = |day: Date| i64::from(day.to_julian_day());
        match event {
            DivisionEvent::Recorded {
                code,
                valid_from,
                adjustment,
            } => {
                sqlx::query(AssertSqlSafe(self.divisions.sql.record.clone()))
                    .bind(code.to_string())
                    .bind(julian(*valid_from))
                    .bind(i64::from(adjustment.is_some()))
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
                sqlx::query(AssertSqlSafe(self.divisions.sql.supersede.clone()))
                    .bind(code.to_string())
                    .bind(julian(Date::MIN))
                    .bind(julian(*valid_to))
                    .bind(successor)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl TypedProjection for DivisionsProjection {
    type Contract = PlaceNamesDivisions;

    fn name(&self) -> &str {
        self.consumer
    }

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        event: &DivisionEvent,
        _recorded: &RecordedEvent,
    ) -> anyhow::Result<()> {
        Ok(self.write(tx, event).await?)
    }

    fn committed(&self, _events: &[RecordedEvent]) {
        self.divisions.invalidate();
    }
}

#[cfg(test)]
mod tests {
    use sqlx::any::AnyPoolOptions;
    use time::macros::date;

    use super::*;

    fn code(digits: &str) -> RegionCode {
        RegionCode::parse(digits).expect("valid")
    }

    fn imported(valid_from: Date) -> Known {
        Known {
            valid_from,
            valid_to: None,
            successor: None,
            created_by_adjustment: false,
        }
    }

    /// 2023-07-01: 站前街道 (A) is split into two new sub-districts (B, C), and 温泉寺街道 (E)
    /// merges into 平山街道 (D), which keeps its code. The import that recorded A, D and E is of
    /// 2021.
    fn adjusted() -> HashMap<RegionCode, Known> {
        let vintage = date!(2021 - 10 - 31);
        let effective = date!(2023 - 07 - 01);
        let established = Known {
            valid_from: effective,
            created_by_adjustment: true,
            ..imported(effective)
        };
        HashMap::from([
            (
                code("210502001000"),
                Known {
                    valid_to: Some(effective),
                    ..imported(vintage)
                },
            ),
            (code("210502011000"), established),
            (code("210502012000"), established),
            (code("210502002000"), imported(vintage)),
            (
                code("210502003000"),
                Known {
                    valid_to: Some(effective),
                    successor: Some(code("210502002000")),
                    ..imported(vintage)
                },
            ),
        ])
    }

    #[test]
    fn a_merged_division_is_found_where_it_went_from_the_day_it_went() {
        let known = HashMap::from([
            (
                code("210502001000"),
                Known {
                    valid_to: Some(date!(2023 - 07 - 01)),
                    successor: Some(code("210503002000")),
                    ..imported(date!(2020 - 01 - 01))
                },
            ),
            (code("210503002000"), imported(date!(2020 - 01 - 01))),
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

    #[test]
    fn a_split_division_keeps_its_own_code() {
        let known = adjusted();
        assert_eq!(
            current(&known, code("210502001000"), date!(2024 - 01 - 01)),
            code("210502001000")
        );
    }

    #[test]
    fn imported_divisions_are_in_force_before_their_vintage() {
        let known = adjusted();
        let before_import = vec![
            code("210502001000"),
            code("210502002000"),
            code("210502003000"),
        ];
        assert_eq!(in_force_on(&known, date!(2015 - 01 - 01)), before_import);
        assert_eq!(in_force_on(&known, date!(2023 - 06 - 30)), before_import);
    }

    #[test]
    fn an_adjustment_swaps_divisions_on_the_day_it_takes_effect() {
        let known = adjusted();
        assert_eq!(
            in_force_on(&known, date!(2023 - 07 - 01)),
            vec![
                code("210502002000"),
                code("210502011000"),
                code("210502012000"),
            ],
            "the split's and the merger's predecessors are gone, the new ones and the \
             merger's survivor are there"
        );
    }

    #[test]
    fn a_division_is_usable_until_it_ends_whenever_it_began() {
        let known = adjusted();
        let established = known[&code("210502011000")];
        assert!(established.usable_on(date!(2015 - 01 - 01)));
        assert!(!established.in_force_on(date!(2015 - 01 - 01)));
        let split = known[&code("210502001000")];
        assert!(split.usable_on(date!(2023 - 06 - 30)));
        assert!(!split.usable_on(date!(2023 - 07 - 01)));
    }

    #[test]
    #[should_panic(expected = "lowercase SQL identifier")]
    fn a_table_name_is_an_identifier() {
        let _ = Statements::for_table("ec_divisions; DROP TABLE mz_events");
    }

    async fn memory() -> AnyPool {
        sqlx::any::install_default_drivers();
        AnyPoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect("sqlite::memory:")
            .await
            .expect("an in-memory database")
    }

    /// Plays `events` into `divisions`' table, as the consumer would in one batch.
    async fn project(divisions: &Divisions, events: &[DivisionEvent]) {
        let projection = DivisionsProjection::new(divisions.clone(), "test-divisions");
        let mut conn = divisions.pool.acquire().await.expect("a connection");
        for event in events {
            projection.write(&mut conn, event).await.expect("written");
        }
        projection.committed(&[]);
    }

    fn adjustment_events() -> Vec<DivisionEvent> {
        let vintage = date!(2021 - 10 - 31);
        let effective = date!(2023 - 07 - 01);
        let imported = |digits| DivisionEvent::Recorded {
            code: code(digits),
            valid_from: vintage,
            adjustment: None,
        };
        let established = |digits| DivisionEvent::Recorded {
            code: code(digits),
            valid_from: effective,
            adjustment: Some("adj-2023-007".to_owned()),
        };
        vec![
            imported("210502001000"),
            imported("210502002000"),
            imported("210502003000"),
            established("210502011000"),
            established("210502012000"),
            DivisionEvent::Superseded {
                code: code("210502001000"),
                successors: vec![code("210502011000"), code("210502012000")],
                valid_to: effective,
            },
            DivisionEvent::Superseded {
                code: code("210502003000"),
                successors: vec![code("210502002000")],
                valid_to: effective,
            },
        ]
    }

    #[tokio::test]
    async fn the_projection_keeps_what_the_events_say() {
        let pool = memory().await;
        sqlx::query(divisions_table_sql!("xx_divisions"))
            .execute(&pool)
            .await
            .expect("created");
        let divisions = Divisions::new(pool, "xx_divisions");
        assert!(divisions.known().await.expect("read").is_empty());
        project(&divisions, &adjustment_events()).await;
        let known = divisions.known().await.expect("read");
        assert_eq!(*known, adjusted());
        assert_eq!(
            divisions
                .in_force_on(date!(2023 - 07 - 01))
                .await
                .expect("read"),
            in_force_on(&adjusted(), date!(2023 - 07 - 01))
        );
        assert!(
            !divisions
                .usable_on(code("210502001000"), date!(2023 - 07 - 01))
                .await
                .expect("read")
        );
    }

    #[tokio::test]
    async fn a_table_made_before_the_adjustment_column_reads_its_old_rows_as_imported() {
        let pool = memory().await;
        // The elderly-care service's table: created without the column (its migration 1000),
        // which a later migration (1001) adds.
        sqlx::query(
            "CREATE TABLE ec_divisions (code TEXT PRIMARY KEY, valid_from INTEGER NOT NULL, \
             valid_to INTEGER NULL, successor TEXT NULL)",
        )
        .execute(&pool)
        .await
        .expect("created");
        sqlx::query("INSERT INTO ec_divisions (code, valid_from) VALUES ($1, $2)")
            .bind("210502001000")
            .bind(i64::from(date!(2021 - 10 - 31).to_julian_day()))
            .execute(&pool)
            .await
            .expect("an old row");
        sqlx::query("ALTER TABLE ec_divisions ADD COLUMN created_by_adjustment INTEGER NULL")
            .execute(&pool)
            .await
            .expect("altered");
        let divisions = Divisions::new(pool, "ec_divisions");
        let events = adjustment_events();
        project(&divisions, &events[1..]).await;
        assert_eq!(*divisions.known().await.expect("read"), adjusted());
    }
}
