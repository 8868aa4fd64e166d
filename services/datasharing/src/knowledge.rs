//! What the service knew when: the knowledge clock every fact a verification reads is recorded
//! under, so that any question can be asked "as known" at an earlier time and answered, byte for
//! byte, as it was then (bitemporal: an agency record's `as_of` is when the fact was true; its
//! knowledge version is when the service learnt it).
//!
//! Every transaction that records such facts (a load of agency records, a standard of the
//! assistance service) first advances the clock: one row, `ds_knowledge_clock`, whose version it
//! increments and whose time it moves to now (or a microsecond past the last, should clocks
//! disagree), then writes its rows under that version and commits. The row's lock is held until
//! the commit, so versions commit in order: whoever reads the clock's committed version `V` can
//! read every fact of versions up to `V`, and no fact of a version up to `V` appears later. A
//! question "as known at T" is answered with the last version whose time is at most `T`
//! (`ds_knowledge`, one row per version).
//!
//! Writers of facts therefore serialise on the clock for the length of their transactions; loads
//! and standards are batch work, and readers never wait.

use minzheng_eventstore::{StoreError, migrations::ServiceMigration};
use sqlx::{AnyConnection, AnyPool, PgConnection, Row as _};
use time::OffsetDateTime;

/// The clock and its log (portable SQL). Times are microseconds since the Unix epoch.
pub const MIGRATION: ServiceMigration = ServiceMigration::portable(
    1000,
    "knowledge clock",
    "CREATE TABLE ds_knowledge_clock (\
        id INTEGER PRIMARY KEY, \
        version BIGINT NOT NULL, \
        at_micros BIGINT NOT NULL); \
     INSERT INTO ds_knowledge_clock (id, version, at_micros) VALUES (1, 0, 0); \
     CREATE TABLE ds_knowledge (\
        version BIGINT PRIMARY KEY, \
        at_micros BIGINT NOT NULL, \
        what TEXT NOT NULL)",
);

/// A point of the service's knowledge: everything recorded up to `version`, learnt by `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Knowledge {
    pub version: u64,
    /// Microseconds since the Unix epoch.
    pub at_micros: i64,
}

impl Knowledge {
    /// Nothing known yet.
    pub const NOTHING: Knowledge = Knowledge {
        version: 0,
        at_micros: 0,
    };

    pub fn at(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.at_micros) * 1000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// Microseconds since the Unix epoch of `time` (saturating).
pub fn micros(time: OffsetDateTime) -> i64 {
    i64::try_from(time.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

/// Moves the clock on: the next version, at now or a microsecond past the last time.
const ADVANCE: &str = "UPDATE ds_knowledge_clock SET version = version + 1, \
     at_micros = CASE WHEN at_micros + 1 > $1 THEN at_micros + 1 ELSE $2 END \
     WHERE id = 1 RETURNING version, at_micros";
/// Logs a version.
const LOG: &str = "INSERT INTO ds_knowledge (version, at_micros, what) VALUES ($1, $2, $3)";

/// The body of [`advance`] and [`advance_postgres`], one per connection type.
macro_rules! advance_on {
    ($tx:expr, $now:expr, $what:expr) => {{
        let now = micros($now);
        let row = sqlx::query(ADVANCE)
            .bind(now)
            .bind(now)
            .fetch_one(&mut *$tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        let knowledge = Knowledge {
            version: read_version(row.try_get("version").map_err(StoreError::from_sqlx)?),
            at_micros: row.try_get("at_micros").map_err(StoreError::from_sqlx)?,
        };
        sqlx::query(LOG)
            .bind(i64::try_from(knowledge.version).unwrap_or(i64::MAX))
            .bind(knowledge.at_micros)
            .bind($what)
            .execute(&mut *$tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(knowledge)
    }};
}

/// Advances the clock inside `tx`, a transaction about to record facts (`what`: a few words for
/// the log, never personal data): the version its facts are recorded under. The clock stays
/// locked until `tx` ends.
pub async fn advance(
    tx: &mut AnyConnection,
    now: OffsetDateTime,
    what: &str,
) -> Result<Knowledge, StoreError> {
    advance_on!(tx, now, what)
}

/// [`advance`] on a PostgreSQL connection (for the loads that `COPY`).
pub async fn advance_postgres(
    tx: &mut PgConnection,
    now: OffsetDateTime,
    what: &str,
) -> Result<Knowledge, StoreError> {
    advance_on!(tx, now, what)
}

fn read_version(version: i64) -> u64 {
    u64::try_from(version).unwrap_or(0)
}

/// What the service knows now: the last committed version.
pub async fn current(db: &AnyPool) -> Result<Knowledge, StoreError> {
    let row = sqlx::query("SELECT version, at_micros FROM ds_knowledge_clock WHERE id = 1")
        .fetch_one(db)
        .await
        .map_err(StoreError::from_sqlx)?;
    read(&row)
}

/// What the service knew at `at`: the last version learnt by then (nothing before the first).
pub async fn as_known_at(db: &AnyPool, at: OffsetDateTime) -> Result<Knowledge, StoreError> {
    let row = sqlx::query(
        "SELECT version, at_micros FROM ds_knowledge WHERE at_micros <= $1 \
         ORDER BY version DESC LIMIT 1",
    )
    .bind(micros(at))
    .fetch_optional(db)
    .await
    .map_err(StoreError::from_sqlx)?;
    row.map_or(Ok(Knowledge::NOTHING), |row| read(&row))
}

/// The knowledge of a row with columns `version` and `at_micros` (of the clock or the history).
pub(crate) fn read(row: &sqlx::any::AnyRow) -> Result<Knowledge, StoreError> {
    Ok(Knowledge {
        version: read_version(row.try_get("version").map_err(StoreError::from_sqlx)?),
        at_micros: row.try_get("at_micros").map_err(StoreError::from_sqlx)?,
    })
}
