//! This service's table of the place-names divisions (`ec_divisions`), followed by the shared
//! projection ([`minzheng_host::divisions`], which says what the columns hold). An institution or
//! service point is registered only at a division the place-names service records and that had
//! not ended by the day ([`Divisions::usable_on`]), and is counted under the county its division
//! belongs to on the day asked about, following adjustments
//! ([`current`](minzheng_host::divisions::current)).
//!
//! Only the table's name, its migrations and the consumer's name are this service's.

use minzheng_eventstore::migrations::ServiceMigration;
use minzheng_host::divisions::{Divisions, DivisionsProjection};
use sqlx::AnyPool;

/// The durable consumer's name.
pub const CONSUMER: &str = "eldercare-divisions";

/// The table's name.
pub const TABLE: &str = "ec_divisions";

/// The table (portable SQL), as first shipped. Days are Julian day numbers. Applied migrations
/// are never edited: [`ADJUSTMENTS`] adds the column the shared table shape has since.
pub const MIGRATION: ServiceMigration = ServiceMigration::portable(
    1000,
    "divisions",
    "CREATE TABLE ec_divisions (\
        code TEXT PRIMARY KEY, \
        valid_from INTEGER NOT NULL, \
        valid_to INTEGER NULL, \
        successor TEXT NULL)",
);

/// Whether an adjustment established a division. Rows recorded before it are left NULL and
/// read as imported; this service only asks whether a division had ended, which they answer.
pub const ADJUSTMENTS: ServiceMigration = ServiceMigration::portable(
    1002,
    "divisions created by adjustment",
    "ALTER TABLE ec_divisions ADD COLUMN created_by_adjustment INTEGER NULL",
);

/// This service's divisions in the database behind `pool`.
pub fn open(pool: AnyPool) -> Divisions {
    Divisions::new(pool, TABLE)
}

/// The projection that keeps `divisions` up to date, as [`CONSUMER`].
pub fn projection(divisions: Divisions) -> DivisionsProjection {
    DivisionsProjection::new(divisions, CONSUMER)
}
