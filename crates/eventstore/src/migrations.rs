//! The event store's schema migrations, embedded in the binary and applied when a store opens.
//!
//! The SQL lives in `migrations/postgres/` and `migrations/sqlite/` as numbered, append-only
//! files (`NNNN_description.sql`); an applied file is never edited, a change is a new file.
//!
//! **Version numbers.** Services keep their own migrations in the same database and the same
//! `_sqlx_migrations` table. Versions 1–999 are reserved for the platform (this crate); a
//! service numbers its own from [`MIN_SERVICE_VERSION`] (1000) upwards, declares them as
//! [`ServiceMigration`]s, and the host applies them with [`run_service`] right after the store's.
//! Every migrator sharing the table must run with `set_ignore_missing(true)`, because each one
//! sees the others' applied versions as "missing"; ours do.
//!
//! **Concurrent starts.** On PostgreSQL, sqlx's migrator holds an advisory lock (keyed by the
//! database name) while it runs, for the store's migrations and for a service's alike: replicas
//! starting together apply each version once, the others wait and then find it applied. SQLite
//! databases are embedded in one process, so there is no second replica to race.
//!
//! The migrations are listed here with `include_str!` rather than collected by
//! `sqlx::migrate!`: that macro needs sqlx's `macros` feature, which would build sqlx's drivers
//! (and the bundled SQLite C library) a second time for the proc-macro host. The result is the
//! same [`Migrator`]: versions, descriptions and checksums match what `sqlx-cli` computes from
//! the files, and a unit test keeps this list and the directories in step.
//!
//! This module does not know what the tables are for; `postgres.rs` and `sqlite.rs` do.

use sqlx::{
    AnyPool, SqlSafeStr,
    migrate::{MigrateError, Migration, MigrationType, Migrator},
};

use crate::StoreError;

/// The highest migration version the platform may use.
pub const MAX_PLATFORM_VERSION: i64 = 999;

/// The lowest migration version a service may use.
pub const MIN_SERVICE_VERSION: i64 = MAX_PLATFORM_VERSION + 1;

/// One of a service's own schema migrations (its projection tables), numbered from
/// [`MIN_SERVICE_VERSION`] and append-only like ours: an applied migration is never edited (its
/// checksum is recorded), a change is a new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceMigration {
    pub version: i64,
    /// A few words, as a migration file name would have them.
    pub description: &'static str,
    /// The SQL for PostgreSQL.
    pub postgres: &'static str,
    /// The SQL for SQLite.
    pub sqlite: &'static str,
}

impl ServiceMigration {
    /// A migration whose SQL is the same on both backends.
    pub const fn portable(version: i64, description: &'static str, sql: &'static str) -> Self {
        Self {
            version,
            description,
            postgres: sql,
            sqlite: sql,
        }
    }
}

/// Applies a service's `migrations` that are not applied yet to the database behind `pool`
/// (PostgreSQL or SQLite), recording them in the store's migrations table: run it after the
/// store has opened, at every start. Refuses versions below [`MIN_SERVICE_VERSION`] or out of
/// ascending order, and, like the store's own, an applied migration whose SQL changed.
pub async fn run_service(
    pool: &AnyPool,
    migrations: &[ServiceMigration],
) -> Result<(), StoreError> {
    if migrations.is_empty() {
        return Ok(());
    }
    let backend = {
        let conn = pool.acquire().await.map_err(StoreError::from_sqlx)?;
        Backend::of(conn.backend_name())?
    };
    service_migrator(backend, migrations)?
        .run(pool)
        .await
        .map_err(error)
}

/// The database a migration is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// From sqlx's `Database::NAME` of the connection's driver.
    fn of(name: &str) -> Result<Self, StoreError> {
        match name {
            "PostgreSQL" => Ok(Self::Postgres),
            "SQLite" => Ok(Self::Sqlite),
            other => Err(StoreError::UnsupportedUrl(other.to_owned())),
        }
    }
}

fn service_migrator(
    backend: Backend,
    migrations: &[ServiceMigration],
) -> Result<Migrator, StoreError> {
    let mut previous = MAX_PLATFORM_VERSION;
    for m in migrations {
        if m.version <= previous {
            return Err(StoreError::Database(sqlx::Error::Configuration(
                format!(
                    "service migration {} ({}) must be numbered from {MIN_SERVICE_VERSION}, \
                     in ascending order",
                    m.version, m.description
                )
                .into(),
            )));
        }
        previous = m.version;
    }
    let embedded: Vec<Embedded> = migrations
        .iter()
        .map(|m| {
            let sql = match backend {
                Backend::Postgres => m.postgres,
                Backend::Sqlite => m.sqlite,
            };
            (m.version, m.description, sql)
        })
        .collect();
    Ok(migrator(&embedded))
}

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
    (
        3,
        "lz4 payloads",
        include_str!("../migrations/postgres/0003_lz4_payloads.sql"),
    ),
    (
        4,
        "redrivable parked events",
        include_str!("../migrations/postgres/0004_redrivable_parked_events.sql"),
    ),
    (
        5,
        "append keys",
        include_str!("../migrations/postgres/0005_append_keys.sql"),
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
    (
        3,
        "lz4 payloads",
        include_str!("../migrations/sqlite/0003_lz4_payloads.sql"),
    ),
    (
        4,
        "redrivable parked events",
        include_str!("../migrations/sqlite/0004_redrivable_parked_events.sql"),
    ),
    (
        5,
        "append keys",
        include_str!("../migrations/sqlite/0005_append_keys.sql"),
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
    fn service_migrations_are_numbered_above_the_platform_and_ascending() {
        let m = |version| ServiceMigration::portable(version, "things", "SELECT 1");
        for refused in [
            vec![m(MAX_PLATFORM_VERSION)],
            vec![m(2)],
            vec![m(1001), m(1000)],
            vec![m(1000), m(1000)],
        ] {
            assert!(
                matches!(
                    service_migrator(Backend::Sqlite, &refused),
                    Err(StoreError::Database(_))
                ),
                "{refused:?}"
            );
        }
        let both = ServiceMigration {
            postgres: "CREATE TABLE t (x BIGINT)",
            sqlite: "CREATE TABLE t (x INTEGER)",
            ..m(1001)
        };
        let migrator = service_migrator(Backend::Sqlite, &[m(1000), both]).expect("valid");
        let versions: Vec<(i64, String)> = migrator
            .iter()
            .map(|m| (m.version, m.sql.as_str().to_owned()))
            .collect();
        assert_eq!(
            versions,
            [
                (1000, "SELECT 1".to_owned()),
                (1001, "CREATE TABLE t (x INTEGER)".to_owned())
            ]
        );
        assert!(
            migrator.ignore_missing,
            "the platform's versions are not the service's"
        );
    }

    #[test]
    fn both_backends_have_the_same_versions() {
        let pg: Vec<i64> = POSTGRES.iter().map(|m| m.0).collect();
        let lite: Vec<i64> = SQLITE.iter().map(|m| m.0).collect();
        assert_eq!(pg, lite);
    }
}
