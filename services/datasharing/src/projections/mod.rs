//! What the service follows: its own store in memory ([`overview`]: authorizations and threshold
//! versions), and, through the bus, facts the verification reads as known at a time — the
//! assistance service's standards ([`lines`]) and this service's own thresholds
//! ([`thresholds`]), each recorded under the knowledge clock — and the verification requests it
//! answers ([`requests`]); persons and households ([`people`]) with the division lineage they
//! follow ([`divisions`]); every service's read audit ([`audit`]); and the copies shared out
//! ([`share`]).

pub mod audit;
pub mod divisions;
pub mod lines;
pub mod overview;
pub mod people;
pub mod requests;
pub mod share;
pub mod thresholds;

use minzheng_eventstore::migrations::ServiceMigration;

/// The tables of the facts the verification reads besides agency records (portable SQL): the
/// standards' lines, and the thresholds. Days are Julian day numbers.
pub const MIGRATION: ServiceMigration = ServiceMigration::portable(
    1002,
    "lines and thresholds",
    "CREATE TABLE ds_lines (\
        county TEXT NOT NULL, \
        number BIGINT NOT NULL, \
        kind TEXT NOT NULL, \
        area INTEGER NOT NULL, \
        amount BIGINT NOT NULL, \
        effective_from INTEGER NOT NULL, \
        known_version BIGINT NOT NULL, \
        PRIMARY KEY (county, number)); \
     CREATE TABLE ds_thresholds (\
        county TEXT NOT NULL, \
        number BIGINT NOT NULL, \
        effective_from INTEGER NOT NULL, \
        max_properties BIGINT NOT NULL, \
        vehicle_value_limit BIGINT NOT NULL, \
        financial_assets_limit_months BIGINT NOT NULL, \
        business_capital_limit BIGINT NOT NULL, \
        max_source_age_days BIGINT NOT NULL, \
        known_version BIGINT NOT NULL, \
        PRIMARY KEY (county, number))",
);

/// `count` numbered placeholders from `$first`: `$1, $2, $3`.
pub(crate) fn numbered(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `rows` groups of `columns` numbered placeholders: `($1, $2, $3), ($4, $5, $6)`.
pub(crate) fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| format!("({})", numbered(row * columns + 1, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}
