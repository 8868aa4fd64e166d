//! The event store's schema migrations, embedded in the binary and applied when a store opens.
//!
//! The SQL lives in `migrations/postgres/` and `migrations/sqlite/` as numbered, append-only
//! files (`NNNN_description.sql`); an applied file is never edited, a change is a new file.
//!
//! **Version numbers.** Services keep their own migrations in the same database and the same
//! `_sqlx_migrations` table. Versions 1–999 are reserved for the platform (this crate); services
//! number theirs with timestamps (`20250101120000_...`, as `sqlx migrate add` does). Every
//! migrator sharing the table must run with `set_ignore_missing(true)`, because each one sees
//! the others' applied versions as "missing"; ours does.
//!
//! The migrations are listed here with `include_str!` rather than collected by
//! `sqlx::migrate!`: that macro needs sqlx's `macros` feature, which would build sqlx's drivers
//! (and the bundled SQLite C library) a second time for the proc-macro host. The result is the
//! same [`Migrator`]: versions, descriptions and checksums match what `sqlx-cli` computes from
//! the files, and a unit test keeps this list and the directories in step.
//!
//! This module does not know what the tables are for; `postgres.rs` and `sqlite.rs` do.

use sqlx::{
    SqlSafeStr,
    migrate::{MigrateError, Migration, MigrationType, Migrator},
};

use crate::StoreError;

/// The highest migration version the platform may use.
pub const MAX_PLATFORM_VERSION: i64 = 999;

/// One embedded migration: version, description (the file name's words) and SQL.
type Embedded = (i64, &'static str, &'static str);

const POSTGRES: &[Embedded] = &[
    (
        1,
        "event store",
        include_str!("../migrations/postgres/0001_event_store.sql"),
    ),
    (
        2,
        "consumer tables",
        include_str!("../migrations/postgres/0002_consumer_tables.sql"),
    ),
];

const SQLITE: &[Embedded] = &[
    (
        1,
        "event store",
        include_str!("../migrations/sqlite/0001_event_store.sql"),
    ),
    (
        2,
        "consumer tables",
        include_str!("../migrations/sqlite/0002_consumer_tables.sql"),
    ),
];

/// The PostgreSQL backend's migrator.
pub(crate) fn postgres() -> Migrator {
    migrator(POSTGRES)
}

/// The SQLite backend's migrator.
pub(crate) fn sqlite() -> Migrator {
    migrator(SQLITE)
}

fn migrator(embedded: &[Embedded]) -> Migrator {
    let migrations = embedded
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                description.into(),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    let mut migrator = Migrator::with_migrations(migrations);
    migrator.set_ignore_missing(true);
    migrator
}

/// Classifies a migration failure: a database that cannot be reached is `Unavailable` like any
/// other call; anything else (a modified or dirty migration) is a `Database` error to fix.
pub(crate) fn error(err: MigrateError) -> StoreError {
    match err {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => StoreError::from_sqlx(e),
        other => StoreError::Database(sqlx::Error::from(other)),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Every `.sql` file of `dir`, as (version, description, contents), in version order.
    fn files_on_disk(dir: &str) -> Vec<(i64, String, String)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dir);
        let mut files: Vec<(i64, String, String)> = std::fs::read_dir(&dir)
            .expect("migrations directory")
            .map(|entry| {
                let path = entry.expect("directory entry").path();
                let name = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .expect("utf-8 file name")
                    .to_owned();
                let (version, description) = name.split_once('_').expect("NNNN_description");
                let contents = std::fs::read_to_string(&path).expect("readable migration");
                (
                    version.parse().expect("numeric version"),
                    description.replace('_', " "),
                    contents,
                )
            })
            .collect();
        files.sort();
        files
    }

    fn assert_matches(embedded: &[Embedded], dir: &str) {
        let on_disk = files_on_disk(dir);
        let listed: Vec<(i64, String, String)> = embedded
            .iter()
            .map(|&(v, d, sql)| (v, d.to_owned(), sql.to_owned()))
            .collect();
        assert_eq!(
            listed, on_disk,
            "the embedded {dir} migrations must list exactly the files in migrations/{dir}"
        );
        for (version, ..) in &listed {
            assert!(
                (1..=MAX_PLATFORM_VERSION).contains(version),
                "platform migration {version} must be within 1-{MAX_PLATFORM_VERSION}"
            );
        }
    }

    #[test]
    fn embedded_postgres_migrations_match_the_directory() {
        assert_matches(POSTGRES, "postgres");
    }

    #[test]
    fn embedded_sqlite_migrations_match_the_directory() {
        assert_matches(SQLITE, "sqlite");
    }

    #[test]
    fn both_backends_have_the_same_versions() {
        let pg: Vec<i64> = POSTGRES.iter().map(|m| m.0).collect();
        let lite: Vec<i64> = SQLITE.iter().map(|m| m.0).collect();
        assert_eq!(pg, lite);
    }
}
