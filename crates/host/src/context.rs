//! What a hosted service gets: its own store and database, sources for other services' events,
//! and a place to run background work that stops on shutdown.

use std::{collections::BTreeMap, future::Future, sync::Arc};

use anyhow::{Context as _, anyhow};
use minzheng_bus::{
    BusNaming, Consumer, ConsumerSettings, FeedSource, JetStreamSource, Projection, ShareNaming,
    Source,
};
use minzheng_eventstore::SharedStore;
use minzheng_kit::clock::Clock;

use crate::{
    audit::AuditLog,
    settle::{Probe, Probes, register},
};
use sqlx::AnyPool;
use std::sync::Mutex;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, error, info_span};

/// Where consumers get other services' events from.
#[derive(Debug, Clone)]
pub(crate) enum Sources {
    /// Embedded mode: every hosted service's store, read directly.
    Feeds(BTreeMap<&'static str, SharedStore>),
    /// Distributed mode: the producers' JetStream streams under this subject prefix.
    JetStream {
        client: async_nats::Client,
        prefix: String,
    },
}

/// Background tasks of the process, joined at shutdown.
pub(crate) type Tasks = Arc<Mutex<Vec<(String, JoinHandle<()>)>>>;

/// Handed to [`crate::ServiceModule::start`].
#[derive(Debug, Clone)]
pub struct ServiceContext {
    pub(crate) name: &'static str,
    pub(crate) store: SharedStore,
    pub(crate) db: AnyPool,
    /// The same database's PostgreSQL pool, when it is PostgreSQL.
    pub(crate) postgres: Option<sqlx::PgPool>,
    pub(crate) sources: Sources,
    pub(crate) background: CancellationToken,
    /// Cancelled when the gRPC server starts draining.
    pub(crate) draining: CancellationToken,
    pub(crate) tasks: Tasks,
    pub(crate) consumer_settings: ConsumerSettings,
    /// The environment the host was configured from, for the services' own settings.
    pub(crate) environment: Arc<Vec<(String, String)>>,
    /// What the host looks at to know its consumers have caught up.
    pub(crate) probes: Probes,
}

impl ServiceContext {
    /// The service's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The service's own settings: the `[<name>]` section of the settings file and the
    /// `MZ_<NAME>__<KEY>` variables (see `minzheng_kit::settings::load_section_from`).
    pub fn settings<T: serde::de::DeserializeOwned>(&self) -> anyhow::Result<T> {
        minzheng_kit::settings::load_section_from(self.environment.iter().cloned(), self.name)
            .with_context(|| {
                format!(
                    "the {} settings (MZ_{}__…)",
                    self.name,
                    self.name.to_ascii_uppercase()
                )
            })
    }

    /// The service's own event store.
    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// The service's own database through `sqlx::Any`, for its projections (the same database
    /// as its store, so the event store's `mz_inbox`/`mz_parked` tables are there).
    pub fn db(&self) -> &AnyPool {
        &self.db
    }

    /// The service's own database as a PostgreSQL pool, when it is one (distributed mode): for
    /// what `sqlx::Any` cannot do, such as bulk loads through `COPY`. `None` on SQLite.
    pub fn postgres(&self) -> Option<&sqlx::PgPool> {
        self.postgres.as_ref()
    }

    /// Cancelled when background work must stop (after the gRPC server has drained).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.background.clone()
    }

    /// Cancelled when the gRPC server stops taking calls, before it drains: a long-lived
    /// response stream ends there, so that shutdown does not wait on it.
    pub fn draining_token(&self) -> CancellationToken {
        self.draining.clone()
    }

    /// The names of what is shared out to agencies on this host's bus (the production names in
    /// embedded mode, which has no bus).
    pub fn share_naming(&self) -> anyhow::Result<ShareNaming> {
        let prefix = match &self.sources {
            Sources::JetStream { prefix, .. } => prefix.as_str(),
            Sources::Feeds(_) => minzheng_bus::DEFAULT_PREFIX,
        };
        ShareNaming::with_prefix(prefix).context("share naming")
    }

    /// Where to read `producer`'s events from in this mode.
    pub fn source(&self, producer: &str) -> anyhow::Result<Source> {
        match &self.sources {
            Sources::Feeds(stores) => {
                let store = stores.get(producer).ok_or_else(|| {
                    anyhow!("service {producer:?} is not hosted in this process; its events cannot be fed")
                })?;
                Ok(FeedSource::new(store.clone()).into())
            }
            Sources::JetStream { client, prefix } => {
                let naming = BusNaming::with_prefix(prefix, producer)
                    .with_context(|| format!("bus naming for {producer:?}"))?;
                Ok(JetStreamSource::new(client.clone(), naming).into())
            }
        }
    }

    /// Runs `projection` on `producer`'s events until shutdown, in this service's database.
    pub fn spawn_consumer(
        &self,
        producer: &str,
        projection: Arc<dyn Projection>,
    ) -> anyhow::Result<()> {
        let name = projection.name().to_owned();
        self.register_probe(producer, &name)?;
        let consumer = Consumer::new(projection, self.db.clone(), self.source(producer)?)?
            .with_settings(self.consumer_settings.clone());
        let token = self.background.clone();
        self.spawn(format!("consumer {name}"), async move {
            consumer.run(token).await.map_err(anyhow::Error::from)
        });
        Ok(())
    }

    /// The service's read audit (see [`crate::audit`]), timed by `clock`; its writer runs until
    /// shutdown.
    pub fn audit_log(&self, clock: Arc<dyn Clock>) -> AuditLog {
        let (log, writer) = AuditLog::new(self.store.clone(), clock, self.background.clone());
        self.spawn(format!("read audit {}", self.name), writer);
        log
    }

    /// Lets [`crate::RunningHost::settle`] know how to tell that the consumer `name` of
    /// `producer`'s events has caught up.
    fn register_probe(&self, producer: &str, name: &str) -> anyhow::Result<()> {
        let what = format!("consumer {name} of {producer}");
        let probe = match &self.sources {
            Sources::Feeds(stores) => Probe::Feed {
                what,
                producer: stores
                    .get(producer)
                    .ok_or_else(|| anyhow!("service {producer:?} is not hosted in this process"))?
                    .clone(),
                consumer: self.store.clone(),
                checkpoint: minzheng_bus::feed_checkpoint(name),
            },
            Sources::JetStream { client, prefix } => Probe::JetStream {
                what,
                client: client.clone(),
                stream: BusNaming::with_prefix(prefix, producer)?
                    .stream_name()
                    .to_owned(),
                durable: name.to_owned(),
            },
        };
        register(&self.probes, probe);
        Ok(())
    }

    /// Runs `work` in the background; it must return once the shutdown token is cancelled. A
    /// failure is logged (the process keeps serving what still works).
    pub fn spawn<F>(&self, what: String, work: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        spawn_task(&self.tasks, self.name, what, work);
    }
}

/// Spawns background work of `service`, logging its failure, and records it for shutdown.
pub(crate) fn spawn_task<F>(tasks: &Tasks, service: &'static str, what: String, work: F)
where
    F: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let span = info_span!("background", task = %what, service);
    let handle = tokio::spawn(
        async move {
            if let Err(e) = work.await {
                error!(error = %format!("{e:#}"), "background task failed");
            }
        }
        .instrument(span),
    );
    // A poisoned lock only means another thread panicked while pushing; the list is intact.
    tasks
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push((what, handle));
}
