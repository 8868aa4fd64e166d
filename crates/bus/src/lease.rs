//! The relay lease: at most one relay per service publishes at a time, the others stand by.
//!
//! [`Lease`] is what the relay asks: "may I publish now?" before every batch. On PostgreSQL the
//! answer is a session advisory lock held on a dedicated connection ([`PgAdvisoryLease`]): the
//! lock lives exactly as long as that connection, so a relay whose process or network dies loses
//! it without any timeout, and a relay that can no longer reach its lock connection stops
//! publishing at once. In the embedded single-process mode there is only one relay and
//! [`SoleRelay`] always holds the lease.
//!
//! This module knows nothing of NATS or of events; the relay decides what the lease guards.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::{Connection, PgConnection, PgPool};

/// How long a lease check may take before the lease counts as lost. A lock connection that
/// does not answer within this time may be on the wrong side of a network partition.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a lease could not be asked for.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("lease database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
}

/// Who may publish. Implementations are used by one relay task at a time.
#[async_trait]
pub trait Lease: Send + Sync + std::fmt::Debug {
    /// Takes the lease if it is free; `Ok(true)` when this relay holds it now (also when it
    /// already did).
    async fn try_acquire(&mut self) -> Result<bool, LeaseError>;

    /// Whether this relay still holds the lease. Anything in doubt answers `false`: publishing
    /// without the lease is worse than pausing.
    async fn is_held(&mut self) -> bool;

    /// Gives the lease up so that a standby can take over at once.
    async fn release(&mut self);
}

/// A lease chosen at run time (a PostgreSQL lock or the sole relay's).
#[async_trait]
impl Lease for Box<dyn Lease> {
    async fn try_acquire(&mut self) -> Result<bool, LeaseError> {
        (**self).try_acquire().await
    }

    async fn is_held(&mut self) -> bool {
        (**self).is_held().await
    }

    async fn release(&mut self) {
        (**self).release().await
    }
}

/// The lease of the only relay there is (embedded mode: one process, one SQLite store).
#[derive(Debug, Default, Clone, Copy)]
pub struct SoleRelay;

#[async_trait]
impl Lease for SoleRelay {
    async fn try_acquire(&mut self) -> Result<bool, LeaseError> {
        Ok(true)
    }

    async fn is_held(&mut self) -> bool {
        true
    }

    async fn release(&mut self) {}
}

/// A PostgreSQL session advisory lock on `hashtextextended(name, 0)`, held on a connection of
/// its own (opened with the pool's options, outside the pool, so no pooled connection ever
/// carries the lock back into the pool).
#[derive(Debug)]
pub struct PgAdvisoryLease {
    pool: PgPool,
    name: String,
    connection: Option<PgConnection>,
    held: bool,
}

impl PgAdvisoryLease {
    /// A lease named `name` (e.g. the relay's checkpoint name) in the database of `pool`.
    pub fn new(pool: PgPool, name: impl Into<String>) -> Self {
        Self {
            pool,
            name: name.into(),
            connection: None,
            held: false,
        }
    }

    async fn connection(&mut self) -> Result<&mut PgConnection, LeaseError> {
        if self.connection.is_none() {
            let options = self.pool.connect_options();
            let connection = PgConnection::connect_with(&options)
                .await
                .map_err(LeaseError::Unavailable)?;
            self.connection = Some(connection);
        }
        // Just filled when it was empty.
        self.connection
            .as_mut()
            .ok_or(LeaseError::Unavailable(sqlx::Error::PoolClosed))
    }

    fn forget(&mut self) {
        // Dropping the connection closes the session, which releases a lock it might still hold.
        self.connection = None;
        self.held = false;
    }
}

#[async_trait]
impl Lease for PgAdvisoryLease {
    async fn try_acquire(&mut self) -> Result<bool, LeaseError> {
        if self.held && self.is_held().await {
            return Ok(true);
        }
        let name = self.name.clone();
        let connection = self.connection().await?;
        let acquired =
            sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
                .bind(&name)
                .fetch_one(connection)
                .await;
        match acquired {
            Ok(acquired) => {
                self.held = acquired;
                Ok(acquired)
            }
            Err(e) => {
                self.forget();
                Err(LeaseError::Unavailable(e))
            }
        }
    }

    async fn is_held(&mut self) -> bool {
        if !self.held {
            return false;
        }
        let Some(connection) = self.connection.as_mut() else {
            self.held = false;
            return false;
        };
        // A session lock is only released by its session ending or by this code, so the session
        // being alive is the lock being held.
        let alive = tokio::time::timeout(CHECK_TIMEOUT, connection.ping()).await;
        if !matches!(alive, Ok(Ok(()))) {
            self.forget();
            return false;
        }
        true
    }

    async fn release(&mut self) {
        if self.held
            && let Some(connection) = self.connection.as_mut()
        {
            let _ = sqlx::query("SELECT pg_advisory_unlock(hashtextextended($1, 0))")
                .bind(&self.name)
                .execute(&mut *connection)
                .await;
        }
        if let Some(connection) = self.connection.take() {
            let _ = connection.close().await;
        }
        self.held = false;
    }
}
