//! Where agency records are kept: `ds_records`, one row per record ever received (never updated
//! or deleted), keyed by its citizen and the record's digest so a record loaded again is
//! recognised, each row
//! with the knowledge version that learnt it ([`crate::knowledge`]); and `ds_extracts`, per load
//! commit the newest `as_of` it brought from its agency, from which a verification tells fresh
//! sources from stale ones.
//!
//! On PostgreSQL a load streams its rows with `COPY` into a temporary table and moves the new
//! ones into `ds_records` with one `INSERT … SELECT … ON CONFLICT DO NOTHING`; on SQLite (the
//! embedded mode) it inserts them in multi-row statements. Either way one batch is one
//! transaction under one knowledge version, and a batch that brings nothing new records nothing.

use std::collections::BTreeMap;

use minzheng_eventstore::{StoreError, migrations::ServiceMigration};
use minzheng_types::{CitizenId, Fen};
use sqlx::{AnyPool, PgPool, Row as _};
use time::{Date, OffsetDateTime};

use crate::{
    knowledge::{self, Knowledge},
    projections::numbered,
    records::{self, Agency, AgencyRecord, RecordKind, Reference},
};

/// The tables, PostgreSQL and SQLite. Days are Julian day numbers.
pub const MIGRATION: ServiceMigration = ServiceMigration {
    version: 1001,
    description: "agency records",
    postgres: "CREATE TABLE ds_records (\
            digest BYTEA PRIMARY KEY, \
            citizen TEXT NOT NULL, \
            agency SMALLINT NOT NULL, \
            reference TEXT NOT NULL, \
            kind SMALLINT NOT NULL, \
            as_of INTEGER NOT NULL, \
            amount BIGINT NOT NULL, \
            ended SMALLINT NOT NULL, \
            details TEXT NOT NULL, \
            known_version BIGINT NOT NULL, \
            load_id TEXT NOT NULL, \
            household TEXT NOT NULL DEFAULT ''); \
        CREATE INDEX ds_records_citizen ON ds_records (citizen, known_version); \
        CREATE INDEX ds_records_household ON ds_records (household) WHERE household <> ''; \
        CREATE TABLE ds_extracts (\
            agency SMALLINT NOT NULL, \
            known_version BIGINT NOT NULL, \
            latest_as_of INTEGER NOT NULL, \
            load_id TEXT NOT NULL, \
            PRIMARY KEY (agency, known_version))",
    sqlite: "CREATE TABLE ds_records (\
            digest BLOB PRIMARY KEY, \
            citizen TEXT NOT NULL, \
            agency INTEGER NOT NULL, \
            reference TEXT NOT NULL, \
            kind INTEGER NOT NULL, \
            as_of INTEGER NOT NULL, \
            amount INTEGER NOT NULL, \
            ended INTEGER NOT NULL, \
            details TEXT NOT NULL, \
            known_version INTEGER NOT NULL, \
            load_id TEXT NOT NULL, \
            household TEXT NOT NULL DEFAULT ''); \
        CREATE INDEX ds_records_citizen ON ds_records (citizen, known_version); \
        CREATE INDEX ds_records_household ON ds_records (household) WHERE household <> ''; \
        CREATE TABLE ds_extracts (\
            agency INTEGER NOT NULL, \
            known_version INTEGER NOT NULL, \
            latest_as_of INTEGER NOT NULL, \
            load_id TEXT NOT NULL, \
            PRIMARY KEY (agency, known_version))",
};

/// Keys the records by citizen, then digest, in one index: the digest alone (a hash) sent every
/// insert of a load to a random page of its own index, which at millions of records made a
/// load's cost the index's, not the rows'; a load arrives household by household, so under the
/// citizen its inserts stay together. The same index answers a verification's "every record of
/// these citizens". (The digest covers the citizen, so the key is as unique as the digest.)
pub const MIGRATION_KEYED_BY_CITIZEN: ServiceMigration = ServiceMigration {
    version: 1006,
    description: "agency records keyed by citizen and digest",
    postgres: "ALTER TABLE ds_records DROP CONSTRAINT ds_records_pkey;         DROP INDEX ds_records_citizen;         ALTER TABLE ds_records ADD PRIMARY KEY (citizen, digest)",
    sqlite: "CREATE TABLE ds_records_by_citizen (\
            digest BLOB NOT NULL, \
            citizen TEXT NOT NULL, \
            agency INTEGER NOT NULL, \
            reference TEXT NOT NULL, \
            kind INTEGER NOT NULL, \
            as_of INTEGER NOT NULL, \
            amount INTEGER NOT NULL, \
            ended INTEGER NOT NULL, \
            details TEXT NOT NULL, \
            known_version INTEGER NOT NULL, \
            load_id TEXT NOT NULL, \
            household TEXT NOT NULL DEFAULT '', \
            PRIMARY KEY (citizen, digest)); \
        INSERT INTO ds_records_by_citizen SELECT digest, citizen, agency, reference, kind, as_of, \
            amount, ended, details, known_version, load_id, household FROM ds_records; \
        DROP TABLE ds_records; \
        ALTER TABLE ds_records_by_citizen RENAME TO ds_records; \
        CREATE INDEX ds_records_household ON ds_records (household) WHERE household <> ''",
};

/// Notes a committing batch's extract: its agency's newest `as_of`, under its version.
const NOTE_EXTRACT: &str = "INSERT INTO ds_extracts (agency, known_version, latest_as_of, load_id) \
     VALUES ($1, $2, $3, $4)";

/// Ends a batch's transaction `tx` (PostgreSQL's or `Any`'s): its extract noted and committed
/// when it recorded something, rolled back (the knowledge version unused) when not.
macro_rules! finish_batch {
    ($tx:expr, $agency:expr, $load_id:expr, $received:expr, $recorded:expr, $unknown:expr,
     $latest_as_of:expr, $knowledge:expr) => {{
        let (received, recorded, knowledge) = ($received, $recorded, $knowledge);
        if recorded == 0 {
            $tx.rollback().await.map_err(StoreError::from_sqlx)?;
            Ok(Stored {
                recorded: 0,
                already_known: received,
                unknown_citizens: $unknown,
                knowledge: None,
            })
        } else {
            sqlx::query(NOTE_EXTRACT)
                .bind($agency.number())
                .bind(version_i64(knowledge.version))
                .bind($latest_as_of.to_julian_day())
                .bind($load_id)
                .execute(&mut *$tx)
                .await
                .map_err(StoreError::from_sqlx)?;
            $tx.commit().await.map_err(StoreError::from_sqlx)?;
            Ok(Stored {
                recorded,
                already_known: received - recorded,
                unknown_citizens: $unknown,
                knowledge: Some(knowledge),
            })
        }
    }};
}

/// Rows per SQLite statement (10 parameters each, well under SQLite's limit).
const SQLITE_ROWS_PER_STATEMENT: usize = 400;

/// What one batch recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// New records.
    pub recorded: u64,
    /// Records identical to one already kept.
    pub already_known: u64,
    /// Records received about citizens the other services' events never named (`ds_persons`):
    /// kept all the same (agencies often know people before we do).
    pub unknown_citizens: u64,
    /// The knowledge version they were recorded under; `None` when nothing was new.
    pub knowledge: Option<Knowledge>,
}

/// A kept record, as a verification reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub agency: Agency,
    pub record: AgencyRecord,
    pub known_version: u64,
}

/// The record tables of the service's database.
#[derive(Debug, Clone)]
pub struct RecordStore {
    db: AnyPool,
    /// The same database when it is PostgreSQL: loads go through `COPY`.
    postgres: Option<PgPool>,
}

impl RecordStore {
    pub fn new(db: AnyPool, postgres: Option<PgPool>) -> Self {
        Self { db, postgres }
    }

    /// The database (for the knowledge clock's readers).
    pub fn db(&self) -> &AnyPool {
        &self.db
    }

    /// Records one batch of `agency`'s checked records, brought by `load_id`, at `now`.
    ///
    /// `expect_new`: whether the batch likely brings only new records (a load's first batch, or
    /// one after a batch that brought nothing already known). On PostgreSQL such a batch is
    /// copied straight into `ds_records`, and merged through a temporary table only when one of
    /// its records turns out to be known (see [`store_postgres`]); the outcome is the same
    /// either way.
    pub async fn store(
        &self,
        agency: Agency,
        load_id: &str,
        records: &[AgencyRecord],
        now: OffsetDateTime,
        expect_new: bool,
    ) -> Result<Stored, StoreError> {
        if records.is_empty() {
            return Ok(Stored {
                recorded: 0,
                already_known: 0,
                unknown_citizens: 0,
                knowledge: None,
            });
        }
        let mut rows: Vec<Row<'_>> = records.iter().map(|r| Row::new(agency, r)).collect();
        // In key order: the inserts then walk the records' index instead of jumping about it.
        rows.sort_unstable_by(|a, b| (a.citizen, a.digest).cmp(&(b.citizen, b.digest)));
        let latest_as_of = records.iter().map(|r| r.as_of).max().unwrap_or(Date::MIN);
        let what = format!("load {load_id}: {} records", agency.code());
        match &self.postgres {
            Some(pool) => {
                let batch = Batch {
                    agency,
                    load_id,
                    rows: &rows,
                    latest_as_of,
                    now,
                    what: &what,
                };
                if expect_new && let Some(stored) = store_postgres_new(pool, &batch).await? {
                    return Ok(stored);
                }
                store_postgres(pool, &batch).await
            }
            None => {
                store_portable(&self.db, agency, load_id, &rows, latest_as_of, now, &what).await
            }
        }
    }

    /// Refreshes the planner's statistics of the records after a large load: until autovacuum
    /// gets to a table that grew by millions of rows, PostgreSQL plans a verification's reads on
    /// the statistics of the table it was (measured: a third of the throughput and four times
    /// the p99 latency right after the city's 7 million records).
    pub async fn refresh_statistics(&self) -> Result<(), StoreError> {
        sqlx::query("ANALYZE ds_records")
            .execute(&self.db)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    /// Every record about `citizens` known at `knowledge`, oldest knowledge first.
    pub async fn records_of(
        &self,
        citizens: &[CitizenId],
        knowledge: Knowledge,
    ) -> Result<Vec<Kept>, StoreError> {
        if citizens.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT agency, reference, kind, citizen, as_of, amount, ended, details, known_version \
             FROM ds_records WHERE known_version <= $1 AND citizen IN ({}) \
             ORDER BY known_version, reference",
            numbered(2, citizens.len())
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(version_i64(knowledge.version));
        let rows = self.fetch_with_citizens(query, citizens).await?;
        rows.iter().map(read_kept).collect()
    }

    /// What the service knows now (the knowledge clock) and every record of `citizens` known
    /// by then, read in one statement: one round trip, and the clock and the records from one
    /// snapshot.
    pub async fn records_known_now(
        &self,
        citizens: &[CitizenId],
    ) -> Result<(Knowledge, Vec<Kept>), StoreError> {
        // With no citizen the IN list would be empty, which SQL does not allow.
        if citizens.is_empty() {
            return Ok((knowledge::current(&self.db).await?, Vec::new()));
        }
        let sql = format!(
            "SELECT k.version, k.at_micros, r.agency, r.reference, r.kind, r.citizen, r.as_of, \
                 r.amount, r.ended, r.details, r.known_version \
             FROM ds_knowledge_clock k LEFT JOIN ds_records r \
                 ON r.known_version <= k.version AND r.citizen IN ({}) \
             WHERE k.id = 1 \
             ORDER BY r.known_version, r.reference",
            numbered(1, citizens.len())
        );
        let rows = self
            .fetch_with_citizens(sqlx::query(sqlx::AssertSqlSafe(sql)), citizens)
            .await?;
        let known = knowledge::read(rows.first().ok_or_else(|| corrupt("knowledge clock"))?)?;
        // No record: the clock's row alone, its record columns NULL.
        let mut records = Vec::with_capacity(rows.len());
        for row in &rows {
            let agency: Option<i64> = get(row, "agency")?;
            if agency.is_some() {
                records.push(read_kept(row)?);
            }
        }
        Ok((known, records))
    }

    /// The rows of `query` with each of `citizens`' ids bound after its other parameters.
    async fn fetch_with_citizens(
        &self,
        mut query: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
        citizens: &[CitizenId],
    ) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
        for citizen in citizens {
            query = query.bind(citizen.expose().to_owned());
        }
        query
            .fetch_all(&self.db)
            .await
            .map_err(StoreError::from_sqlx)
    }

    /// Every household-registration record of the households `citizen` was ever registered in
    /// (its own included), as known at `knowledge`.
    pub async fn registrations_around(
        &self,
        citizen: &CitizenId,
        knowledge: Knowledge,
    ) -> Result<Vec<Kept>, StoreError> {
        let rows = sqlx::query(
            "SELECT agency, reference, kind, citizen, as_of, amount, ended, details, known_version \
             FROM ds_records WHERE known_version <= $1 AND household IN \
                (SELECT household FROM ds_records WHERE citizen = $2 AND household <> '') \
             ORDER BY known_version, reference",
        )
        .bind(version_i64(knowledge.version))
        .bind(citizen.expose().to_owned())
        .fetch_all(&self.db)
        .await
        .map_err(StoreError::from_sqlx)?;
        rows.iter().map(read_kept).collect()
    }

    /// Per agency, the newest `as_of` of any record it sent, as known at `knowledge`.
    pub async fn latest_extracts(
        &self,
        knowledge: Knowledge,
    ) -> Result<BTreeMap<Agency, Date>, StoreError> {
        let rows = sqlx::query(
            "SELECT agency, MAX(latest_as_of) AS latest FROM ds_extracts \
             WHERE known_version <= $1 GROUP BY agency",
        )
        .bind(version_i64(knowledge.version))
        .fetch_all(&self.db)
        .await
        .map_err(StoreError::from_sqlx)?;
        let mut latest = BTreeMap::new();
        for row in rows {
            let agency: i64 = get(&row, "agency")?;
            let day: i64 = get(&row, "latest")?;
            let agency = Agency::from_number(agency).ok_or_else(|| corrupt("agency"))?;
            latest.insert(agency, day_of(day).ok_or_else(|| corrupt("latest_as_of"))?);
        }
        Ok(latest)
    }
}

/// A record as one row of `ds_records`.
#[derive(Debug)]
struct Row<'a> {
    digest: [u8; 16],
    citizen: &'a str,
    reference: &'a str,
    kind: i16,
    as_of: i32,
    amount: i64,
    ended: i16,
    details: String,
    /// A household-registration record's household, `<division>/<booklet number>` (a booklet
    /// number is unique within its township only); empty for other records.
    household: String,
}

impl<'a> Row<'a> {
    fn new(agency: Agency, record: &'a AgencyRecord) -> Self {
        Self {
            digest: records::digest(agency, record),
            citizen: record.citizen.expose(),
            reference: record.reference.as_str(),
            kind: record.kind.number(),
            as_of: record.as_of.to_julian_day(),
            amount: record.amount.fen(),
            ended: i16::from(record.ended),
            details: records::encode_details(&record.details),
            household: match &record.details {
                records::Details::Registration {
                    division,
                    household_number,
                    ..
                } => format!("{division}/{household_number}"),
                _ => String::new(),
            },
        }
    }
}

fn version_i64(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

/// One batch of a load, as PostgreSQL stores it.
struct Batch<'a> {
    agency: Agency,
    load_id: &'a str,
    /// In key order (citizen, digest).
    rows: &'a [Row<'a>],
    latest_as_of: Date,
    now: OffsetDateTime,
    what: &'a str,
}

/// PostgreSQL, for a batch expected to bring only new records: its rows copied straight into
/// `ds_records` under one knowledge version, as fast as the table's keys allow. `None` (and
/// nothing recorded, the clock not moved) when a record is already kept or appears twice in the
/// batch: the key refuses the copy, and the batch is then merged by [`store_postgres`].
async fn store_postgres_new(
    pool: &PgPool,
    batch: &Batch<'_>,
) -> Result<Option<Stored>, StoreError> {
    let mut tx = pool.begin().await.map_err(StoreError::from_sqlx)?;
    let knowledge = knowledge::advance_postgres(&mut tx, batch.now, batch.what).await?;
    let mut constants = format!(
        "\t{}\t{}\t",
        batch.agency.number(),
        version_i64(knowledge.version)
    );
    escape_copy(&mut constants, batch.load_id);
    let copied = copy_rows(
        &mut tx,
        "COPY ds_records (digest, citizen, reference, kind, as_of, amount, ended, details, \
            household, agency, known_version, load_id) FROM STDIN",
        batch.rows,
        &constants,
    )
    .await;
    match copied {
        Ok(()) => {}
        Err(sqlx::Error::Database(db)) if db.kind() == sqlx::error::ErrorKind::UniqueViolation => {
            tx.rollback().await.map_err(StoreError::from_sqlx)?;
            return Ok(None);
        }
        Err(error) => return Err(StoreError::from_sqlx(error)),
    }
    let unknown = unknown_postgres(&mut tx, batch.rows).await?;
    let recorded = batch.rows.len() as u64;
    finish_postgres(tx, batch, recorded, unknown, knowledge)
        .await
        .map(Some)
}

/// [`finish_batch!`] on PostgreSQL.
async fn finish_postgres(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    batch: &Batch<'_>,
    recorded: u64,
    unknown: u64,
    knowledge: Knowledge,
) -> Result<Stored, StoreError> {
    finish_batch!(
        tx,
        batch.agency,
        batch.load_id,
        batch.rows.len() as u64,
        recorded,
        unknown,
        batch.latest_as_of,
        knowledge
    )
}

/// `rows` sent through `copy` (a `COPY … FROM STDIN` of the rows' columns, then `constants`'
/// columns), a megabyte at a time.
async fn copy_rows(
    tx: &mut sqlx::PgConnection,
    copy: &'static str,
    rows: &[Row<'_>],
    constants: &str,
) -> Result<(), sqlx::Error> {
    let mut copy = tx.copy_in_raw(copy).await?;
    let mut buffer = String::with_capacity(rows.len().min(10_000) * 120);
    for row in rows {
        copy_text_row(&mut buffer, row, constants);
        if buffer.len() > 1 << 20 {
            copy.send(std::mem::take(&mut buffer).into_bytes()).await?;
        }
    }
    if !buffer.is_empty() {
        copy.send(buffer.into_bytes()).await?;
    }
    copy.finish().await?;
    Ok(())
}

/// How many of `rows` are about citizens `ds_persons` does not list (PostgreSQL).
async fn unknown_postgres(
    tx: &mut sqlx::PgConnection,
    rows: &[Row<'_>],
) -> Result<u64, StoreError> {
    let citizens: Vec<&str> = rows.iter().map(|r| r.citizen).collect();
    let unknown: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM unnest($1::text[]) AS l(citizen) \
         WHERE NOT EXISTS (SELECT 1 FROM ds_persons p WHERE p.citizen = l.citizen)",
    )
    .bind(citizens)
    .fetch_one(&mut *tx)
    .await
    .map_err(StoreError::from_sqlx)?;
    Ok(u64::try_from(unknown).unwrap_or(0))
}

/// PostgreSQL: the rows copied into a temporary table, then the new ones moved in under one
/// knowledge version.
async fn store_postgres(pool: &PgPool, batch: &Batch<'_>) -> Result<Stored, StoreError> {
    let mut tx = pool.begin().await.map_err(StoreError::from_sqlx)?;
    sqlx::query(
        "CREATE TEMPORARY TABLE ds_load (\
            digest BYTEA, citizen TEXT, reference TEXT, kind SMALLINT, as_of INTEGER, \
            amount BIGINT, ended SMALLINT, details TEXT, household TEXT) ON COMMIT DROP",
    )
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from_sqlx)?;
    copy_rows(
        &mut tx,
        "COPY ds_load (digest, citizen, reference, kind, as_of, amount, ended, details, \
            household) FROM STDIN",
        batch.rows,
        "",
    )
    .await
    .map_err(StoreError::from_sqlx)?;
    let unknown = unknown_postgres(&mut tx, batch.rows).await?;
    let knowledge = knowledge::advance_postgres(&mut tx, batch.now, batch.what).await?;
    let recorded = sqlx::query(
        "INSERT INTO ds_records (digest, citizen, agency, reference, kind, as_of, amount, ended, \
            details, known_version, load_id, household) \
         SELECT DISTINCT ON (citizen, digest) digest, citizen, $1, reference, kind, as_of, \
            amount, ended, details, $2, $3, household FROM ds_load ORDER BY citizen, digest \
         ON CONFLICT (citizen, digest) DO NOTHING",
    )
    .bind(batch.agency.number())
    .bind(version_i64(knowledge.version))
    .bind(batch.load_id)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from_sqlx)?
    .rows_affected();
    finish_postgres(tx, batch, recorded, unknown, knowledge).await
}

/// One row in `COPY`'s text format: tab-separated, `\N`-free, with backslash, tab, newline and
/// carriage return escaped; `constants` (columns the same for every row, escaped, each after a
/// tab) before its end.
fn copy_text_row(out: &mut String, row: &Row<'_>, constants: &str) {
    use std::fmt::Write as _;
    out.push_str("\\\\x");
    for byte in row.digest {
        let _ = write!(out, "{byte:02x}");
    }
    out.push('\t');
    escape_copy(out, row.citizen);
    out.push('\t');
    escape_copy(out, row.reference);
    let _ = write!(
        out,
        "\t{}\t{}\t{}\t{}\t",
        row.kind, row.as_of, row.amount, row.ended
    );
    escape_copy(out, &row.details);
    out.push('\t');
    escape_copy(out, &row.household);
    out.push_str(constants);
    out.push('\n');
}

fn escape_copy(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// SQLite (and any other backend): multi-row inserts in one transaction.
async fn store_portable(
    db: &AnyPool,
    agency: Agency,
    load_id: &str,
    rows: &[Row<'_>],
    latest_as_of: Date,
    now: OffsetDateTime,
    what: &str,
) -> Result<Stored, StoreError> {
    let mut tx = db.begin().await.map_err(StoreError::from_sqlx)?;
    let knowledge = knowledge::advance(&mut tx, now, what).await?;
    let mut recorded = 0;
    for chunk in rows.chunks(SQLITE_ROWS_PER_STATEMENT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = i * 10;
                format!(
                    "(${}, ${}, {}, ${}, ${}, ${}, ${}, ${}, ${}, {}, ${}, ${})",
                    p + 1,
                    p + 2,
                    agency.number(),
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7,
                    p + 8,
                    knowledge.version,
                    p + 9,
                    p + 10
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO ds_records (digest, citizen, agency, reference, kind, as_of, amount, \
                ended, details, known_version, load_id, household) VALUES {} \
             ON CONFLICT (citizen, digest) DO NOTHING",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            query = query
                .bind(row.digest.to_vec())
                .bind(row.citizen.to_owned())
                .bind(row.reference.to_owned())
                .bind(row.kind)
                .bind(row.as_of)
                .bind(row.amount)
                .bind(row.ended)
                .bind(row.details.clone())
                .bind(load_id.to_owned())
                .bind(row.household.clone());
        }
        recorded += query
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?
            .rows_affected();
    }
    let received = rows.len() as u64;
    let unknown = unknown_portable(&mut tx, rows).await?;
    finish_batch!(
        tx,
        agency,
        load_id,
        received,
        recorded,
        unknown,
        latest_as_of,
        knowledge
    )
}

/// How many of `rows` are about citizens `ds_persons` does not list.
async fn unknown_portable(
    tx: &mut sqlx::AnyConnection,
    rows: &[Row<'_>],
) -> Result<u64, StoreError> {
    let mut citizens: Vec<&str> = rows.iter().map(|r| r.citizen).collect();
    citizens.sort_unstable();
    citizens.dedup();
    let mut known = std::collections::HashSet::new();
    for chunk in citizens.chunks(SQLITE_ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT citizen FROM ds_persons WHERE citizen IN ({})",
            numbered(1, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for citizen in chunk {
            query = query.bind((*citizen).to_owned());
        }
        for row in query
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?
        {
            let citizen: String = row.try_get("citizen").map_err(StoreError::from_sqlx)?;
            known.insert(citizen);
        }
    }
    Ok(rows.iter().filter(|r| !known.contains(r.citizen)).count() as u64)
}

fn get<'r, T>(row: &'r sqlx::any::AnyRow, column: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column).map_err(StoreError::from_sqlx)
}

fn corrupt(column: &str) -> StoreError {
    StoreError::Corrupt(format!("ds_records: {column} does not read back"))
}

fn day_of(julian: i64) -> Option<Date> {
    Date::from_julian_day(i32::try_from(julian).ok()?).ok()
}

fn read_kept(row: &sqlx::any::AnyRow) -> Result<Kept, StoreError> {
    let agency: i64 = get(row, "agency")?;
    let kind: i64 = get(row, "kind")?;
    let reference: String = get(row, "reference")?;
    let citizen: String = get(row, "citizen")?;
    let as_of: i64 = get(row, "as_of")?;
    let amount: i64 = get(row, "amount")?;
    let ended: i64 = get(row, "ended")?;
    let details: String = get(row, "details")?;
    let known_version: i64 = get(row, "known_version")?;
    let kind = RecordKind::from_number(kind).ok_or_else(|| corrupt("kind"))?;
    Ok(Kept {
        agency: Agency::from_number(agency).ok_or_else(|| corrupt("agency"))?,
        record: AgencyRecord {
            reference: Reference::parse(&reference).map_err(|_| corrupt("reference"))?,
            kind,
            citizen: CitizenId::parse(&citizen).map_err(|_| corrupt("citizen"))?,
            as_of: day_of(as_of).ok_or_else(|| corrupt("as_of"))?,
            amount: Fen::non_negative(amount).map_err(|_| corrupt("amount"))?,
            ended: ended != 0,
            details: records::decode_details(kind, &details).ok_or_else(|| corrupt("details"))?,
        },
        known_version: u64::try_from(known_version).map_err(|_| corrupt("known_version"))?,
    })
}
