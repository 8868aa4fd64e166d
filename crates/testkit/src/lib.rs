//! Test support shared by every crate's tests: each test gets its own PostgreSQL database, its
//! own SQLite file and its own NATS stream names, so tests run in parallel and repeatedly.
//!
//! PostgreSQL and NATS are real servers (`make test` starts them when they are not running).
//! A test that cannot reach them fails with a message saying how to start them; it never skips.

pub mod nats_server;
pub mod proxy;

use std::{
    str::FromStr,
    sync::atomic::{AtomicU32, Ordering},
};

use sqlx::{Connection, PgConnection, postgres::PgConnectOptions};
use uuid::Uuid;

/// The administrative database tests create their databases from
/// (`MZ_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`).
pub fn postgres_admin_url() -> String {
    std::env::var("MZ_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// The NATS server tests use (`MZ_TEST_NATS_URL`, default `nats://127.0.0.1:4222`).
pub fn nats_url() -> String {
    std::env::var("MZ_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// A short name unique to this test run and call: lowercase letters and digits, starting with a
/// letter, so it fits database names, NATS subject tokens and (uppercased) stream names.
pub fn unique_name(tag: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = Uuid::new_v4().simple().to_string();
    let tag: String = tag
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .take(16)
        .collect();
    format!("t{tag}{}{n}", &random[..10])
}

/// A PostgreSQL database created for one test and dropped when the value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    pub name: String,
}

impl TestDatabase {
    /// Creates a fresh, empty database. Panics with instructions when PostgreSQL is unreachable.
    pub async fn create() -> Self {
        let admin = postgres_admin_url();
        let mut conn = connect_admin(&admin).await;
        let name = unique_name("db");
        // The name is generated here from letters and digits only.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let options = PgConnectOptions::from_str(&admin).expect("valid MZ_TEST_DATABASE_URL");
        let url = format!(
            "postgres://{}@{}:{}/{}",
            options.get_username(),
            options.get_host(),
            options.get_port(),
            name
        );
        Self { url, name }
    }
}

/// Connects to the administrative database. A server that is merely full (SQLSTATE 53300, too
/// many clients: other tests' pools) is waited for; one that cannot be reached fails the test.
async fn connect_admin(admin: &str) -> PgConnection {
    let mut waited = std::time::Duration::ZERO;
    loop {
        match PgConnection::connect(admin).await {
            Ok(conn) => return conn,
            Err(sqlx::Error::Database(e))
                if e.code().as_deref() == Some("53300")
                    && waited < std::time::Duration::from_secs(60) =>
            {
                let pause = std::time::Duration::from_millis(200);
                tokio::time::sleep(pause).await;
                waited += pause;
            }
            Err(e) => panic!(
                "PostgreSQL is not reachable at {admin} ({e}); start it with `make services` \
                 or point MZ_TEST_DATABASE_URL at one"
            ),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop runs outside any async context we can rely on; a short-lived runtime on its own
        // thread does the cleanup. Failures only leave a stray database behind.
        let admin = postgres_admin_url();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}

/// A SQLite database file in a temporary directory removed on drop.
#[derive(Debug)]
pub struct TestSqlite {
    pub url: String,
    _dir: tempfile::TempDir,
}

impl TestSqlite {
    pub fn create() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("store.db").display()
        );
        Self { url, _dir: dir }
    }
}

/// Connects to the test NATS server. Panics with instructions when it is unreachable.
///
/// The first call in a process also removes test streams (names `T…_…`, as
/// [`unique_name`] makes them) older than 20 minutes (no test keeps a stream that long): streams of earlier runs that failed before
/// cleaning up, which would otherwise pile up on the test server's disk.
pub async fn nats() -> async_nats::Client {
    static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    let url = nats_url();
    let client = async_nats::connect(&url).await.unwrap_or_else(|e| {
        panic!(
            "NATS is not reachable at {url} ({e}); start it with `make services` \
             or point MZ_TEST_NATS_URL at one"
        )
    });
    SWEPT
        .get_or_init(|| sweep_stale_streams(client.clone()))
        .await;
    client
}

async fn sweep_stale_streams(client: async_nats::Client) {
    use futures::TryStreamExt as _;

    let js = async_nats::jetstream::new(client);
    let cutoff = time::OffsetDateTime::now_utc() - time::Duration::minutes(20);
    let mut streams = js.streams();
    // Best effort: a failure here only leaves old streams in place.
    while let Ok(Some(info)) = streams.try_next().await {
        let name = &info.config.name;
        if name.starts_with('T') && name.contains('_') && info.created < cutoff {
            let _ = js.delete_stream(name).await;
        }
    }
}
