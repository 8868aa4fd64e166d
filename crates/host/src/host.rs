//! The host: opens each service's store, wires sources and relays for the mode, serves gRPC,
//! and shuts everything down in order.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use anyhow::{Context as _, bail};
use minzheng_bus::{
    BusNaming, ConsumerSettings, Lease, PgAdvisoryLease, Relay, RelayConfig, RelayState, SoleRelay,
    StreamSettings, connect_any,
};
use minzheng_eventstore::{SharedStore, postgres::PostgresStore, sqlite::SqliteStore};
use minzheng_kit::{
    auth::Authenticator,
    server::{RunningServer, ServerBuilder},
    settings::PlatformSettings,
};
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{
    ServiceModule,
    context::{ServiceContext, Sources, Tasks, spawn_task},
    metered_store::metered,
    platform::{HostedService, PlatformApi},
    readiness::{self, NotReady},
    settle::{self, Probe, Probes},
    store_watch,
};

/// How services are hosted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every service in one process, SQLite stores under the data directory, consumers fed
    /// directly from the producers' stores. With `MZ_NATS_URL` set, events are also relayed to
    /// JetStream.
    Embedded,
    /// The services given (normally one) against `MZ_DATABASE_URL` and `MZ_NATS_URL`, with an
    /// outbox relay each and consumers on JetStream.
    Distributed,
}

/// Builds a hosting process.
pub struct Host {
    mode: Mode,
    settings: PlatformSettings,
    authenticator: Option<Authenticator>,
    modules: Vec<Arc<dyn ServiceModule>>,
    bus_prefix: String,
    consumer_settings: ConsumerSettings,
    environment: Vec<(String, String)>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("mode", &self.mode)
            .field(
                "modules",
                &self.modules.iter().map(|m| m.name()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// A store opened for a module, with what its relay's lease needs.
struct Opened {
    module: Arc<dyn ServiceModule>,
    store: SharedStore,
    /// The same store, concretely, when it is PostgreSQL: its pool serves the relay's lease and
    /// its transaction watch.
    postgres: Option<PostgresStore>,
    db: sqlx::AnyPool,
}

impl Host {
    pub fn new(mode: Mode, settings: PlatformSettings) -> Self {
        Self {
            mode,
            settings,
            authenticator: None,
            modules: Vec::new(),
            bus_prefix: "minzheng".to_owned(),
            consumer_settings: ConsumerSettings::default(),
            // Variables that are not UTF-8 cannot be settings: every name we read is ASCII.
            environment: std::env::vars_os()
                .filter_map(|(name, value)| {
                    Some((name.into_string().ok()?, value.into_string().ok()?))
                })
                .collect(),
        }
    }

    /// Sets an environment variable as the services' settings see it (`MZ_<SERVICE>__<KEY>`),
    /// over the process environment; for tests and tools.
    pub fn setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.environment.push((name.into(), value.into()));
        self
    }

    /// Hosts `module`.
    pub fn module(self, module: impl ServiceModule) -> Self {
        self.module_arc(Arc::new(module))
    }

    /// Hosts `module`, shared.
    pub fn module_arc(mut self, module: Arc<dyn ServiceModule>) -> Self {
        self.modules.push(module);
        self
    }

    /// Verifies tokens with `authenticator` instead of the one the settings describe (the
    /// embedded mode uses its generated development secret).
    pub fn authenticator(mut self, authenticator: Authenticator) -> Self {
        self.authenticator = Some(authenticator);
        self
    }

    /// The NATS subject prefix (default `minzheng`); tests use a unique one.
    pub fn bus_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.bus_prefix = prefix.into();
        self
    }

    /// How hosted consumers batch and retry.
    pub fn consumer_settings(mut self, settings: ConsumerSettings) -> Self {
        self.consumer_settings = settings;
        self
    }

    /// Opens the stores, starts relays, modules and the gRPC server.
    pub async fn start(self) -> anyhow::Result<RunningHost> {
        let Host {
            mode,
            settings,
            authenticator,
            modules,
            bus_prefix,
            consumer_settings,
            environment,
        } = self;
        let environment = Arc::new(environment);
        if mode == Mode::Distributed {
            if settings.database_url.is_none() {
                bail!("MZ_DATABASE_URL must be set to run a service on its own");
            }
            if settings.nats_url.is_none() {
                bail!("MZ_NATS_URL must be set to run a service on its own");
            }
        } else if settings.database_url.is_none() {
            std::fs::create_dir_all(&settings.data_dir).with_context(|| {
                format!(
                    "creating the data directory {}",
                    settings.data_dir.display()
                )
            })?;
        }
        let authenticator = match authenticator {
            Some(a) => a,
            None => Authenticator::from_settings(&settings.auth)
                .context("token verification settings (MZ_AUTH__…)")?,
        };
        let nats = match &settings.nats_url {
            Some(url) => Some(
                crate::connect_nats(&settings, url)
                    .await
                    .with_context(|| format!("connecting to NATS at {url}"))?,
            ),
            None => None,
        };

        // Open every store before any module starts, so that in embedded mode each consumer can
        // be fed from any producer whatever the start order.
        let mut opened = Vec::new();
        for module in modules {
            opened.push(open(module, &settings).await?);
        }
        let sources = match (mode, &nats) {
            (Mode::Distributed, Some(client)) => Sources::JetStream {
                client: client.clone(),
                prefix: bus_prefix.clone(),
            },
            _ => Sources::Feeds(
                opened
                    .iter()
                    .map(|o| (o.module.name(), o.store.clone()))
                    .collect::<BTreeMap<_, _>>(),
            ),
        };

        let background = CancellationToken::new();
        let tasks: Tasks = Arc::new(Mutex::new(Vec::new()));
        let probes: Probes = Arc::default();
        let mut relays = Vec::new();
        if let Some(client) = &nats {
            for o in &opened {
                for relay in start_relays(
                    o,
                    client,
                    &bus_prefix,
                    &settings,
                    &background,
                    &tasks,
                    &probes,
                )? {
                    relays.push((o.module.name(), relay));
                }
            }
        }
        for o in &opened {
            if let Some(store) = &o.postgres {
                let name = o.module.name();
                let work =
                    store_watch::watch_oldest_transaction(store.clone(), name, background.clone());
                spawn_task(&tasks, name, format!("transaction watch {name}"), work);
            }
        }

        let server_token = CancellationToken::new();
        let mut server = ServerBuilder::new(settings.listen, authenticator)
            .shutdown_timeout(settings.shutdown_timeout())
            .shutdown_token(server_token.clone())
            .file_descriptor_set(minzheng_proto::FILE_DESCRIPTOR_SET);
        let mut hosted = Vec::new();
        for o in &opened {
            let context = ServiceContext {
                name: o.module.name(),
                store: o.store.clone(),
                db: o.db.clone(),
                postgres: o.postgres.as_ref().map(|store| store.pool().clone()),
                sources: sources.clone(),
                background: background.clone(),
                draining: server_token.clone(),
                tasks: tasks.clone(),
                consumer_settings: consumer_settings.clone(),
                environment: environment.clone(),
                probes: probes.clone(),
            };
            server = o
                .module
                .start(&context, server)
                .await
                .with_context(|| format!("starting the {} service", o.module.name()))?;
            hosted.push(HostedService {
                name: o.module.name(),
                store: o.store.clone(),
            });
            info!(
                service = o.module.name(),
                backend = o.store.backend(),
                "service started"
            );
        }
        let not_ready = NotReady::default();
        server = server.add_service(PlatformApi::new(hosted, not_ready.clone()).into_server());
        let server = server.build().await.context("starting the gRPC server")?;
        for (name, relay) in relays {
            let follow = readiness::follow_relay(
                name,
                relay,
                not_ready.clone(),
                server.health().clone(),
                server_token.clone(),
            );
            spawn_task(&tasks, name, format!("readiness {name}"), async move {
                follow.await;
                Ok(())
            });
        }
        info!(listen = %server.local_addr(), "serving gRPC");
        Ok(RunningHost {
            server,
            server_token,
            background,
            tasks,
            probes,
        })
    }
}

async fn open(
    module: Arc<dyn ServiceModule>,
    settings: &PlatformSettings,
) -> anyhow::Result<Opened> {
    use minzheng_eventstore::Backend;

    let name = module.name();
    // One wait for every pool, so that a database that is down is UNAVAILABLE in the same time
    // whichever pool a call goes through.
    let acquire_timeout = settings.database_acquire_timeout();
    let url = settings.database_url_or_embedded(name);
    let url = url.expose_secret();
    let backend =
        Backend::for_url(url).with_context(|| format!("opening the {name} event store"))?;
    let (store, postgres): (SharedStore, _) = match backend {
        Backend::Postgres => {
            let store = PostgresStore::connect_with_acquire_timeout(
                url,
                module.upcasters(),
                acquire_timeout,
            )
            .await
            .with_context(|| format!("opening the {name} event store"))?;
            (metered(Arc::new(store.clone()), name), Some(store))
        }
        Backend::Sqlite => {
            let store =
                SqliteStore::connect_with_acquire_timeout(url, module.upcasters(), acquire_timeout)
                    .await
                    .with_context(|| format!("opening the {name} event store"))?;
            (metered(Arc::new(store), name), None)
        }
    };
    let db = connect_any(url, acquire_timeout)
        .await
        .with_context(|| format!("opening the {name} database"))?;
    minzheng_eventstore::migrations::run_service(&db, &module.migrations())
        .await
        .with_context(|| format!("migrating the {name} database"))?;
    Ok(Opened {
        module,
        store,
        postgres,
        db,
    })
}

/// Starts the relay of a service's store, and the relay of what it shares out when it does.
fn start_relays(
    o: &Opened,
    client: &async_nats::Client,
    prefix: &str,
    settings: &PlatformSettings,
    background: &CancellationToken,
    tasks: &Tasks,
    probes: &Probes,
) -> anyhow::Result<Vec<tokio::sync::watch::Receiver<RelayState>>> {
    let name = o.module.name();
    let naming = BusNaming::with_prefix(prefix, name)?;
    // Several replicas of a service share one database: an advisory lock per relay makes
    // exactly one of them publish.
    let lease = |key: String| -> Box<dyn Lease> {
        match &o.postgres {
            Some(store) => Box::new(PgAdvisoryLease::new(store.pool().clone(), key)),
            None => Box::new(SoleRelay),
        }
    };
    let mut relays = Vec::new();
    let own = Relay::new(
        o.store.clone(),
        client.clone(),
        naming.clone(),
        lease(format!("relay:{name}")),
    );
    match o.module.shared_category() {
        None => relays.push((format!("relay {name}"), own)),
        Some(category) => {
            relays.push((format!("relay {name}"), own.except_category(category)));
            let sharing = Relay::sharing(
                o.store.clone(),
                client.clone(),
                naming,
                category,
                lease(format!("relay:{name}:share")),
            )?;
            relays.push((format!("share relay {name}"), sharing));
        }
    }
    let mut states = Vec::new();
    for (what, relay) in relays {
        settle::register(
            probes,
            Probe::Relay {
                what: what.clone(),
                store: o.store.clone(),
                checkpoint: relay.checkpoint_name(),
            },
        );
        let relay = relay.with_config(relay_config(settings));
        states.push(relay.watch());
        let backlog = store_watch::watch_relay_backlog(
            o.store.clone(),
            relay.watch(),
            what.clone(),
            background.clone(),
        );
        spawn_task(tasks, name, format!("{what} backlog"), backlog);
        let token = background.clone();
        spawn_task(tasks, name, what, async move {
            relay.run(token).await.map_err(anyhow::Error::from)
        });
    }
    Ok(states)
}

/// The relay's configuration from the operator's settings.
fn relay_config(settings: &PlatformSettings) -> RelayConfig {
    let stream = &settings.stream;
    RelayConfig {
        idle_poll: settings.relay_poll_interval(),
        unready_after: settings.relay_unready_after(),
        stream: StreamSettings {
            duplicate_window: std::time::Duration::from_secs(stream.duplicate_window_secs),
            max_age: stream.max_age_secs.map(std::time::Duration::from_secs),
            max_bytes: stream.max_bytes,
            replicas: stream
                .replicas
                .map(|r| usize::try_from(r).unwrap_or(usize::MAX)),
        },
        ..RelayConfig::default()
    }
}

/// A started host.
#[derive(Debug)]
pub struct RunningHost {
    server: RunningServer,
    server_token: CancellationToken,
    background: CancellationToken,
    tasks: Tasks,
    probes: Probes,
}

impl RunningHost {
    /// Waits until every relay of this host has published its store up to the head and every
    /// consumer has applied everything its producer has published (the `settle` module), at
    /// most `timeout`; an error names what has not caught up. For tests and tools that need a
    /// deterministic point after which every projection reflects every event.
    pub async fn settle(&self, timeout: std::time::Duration) -> anyhow::Result<()> {
        settle::settle(&self.probes, timeout).await
    }

    /// The bound gRPC address.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Cancelling this token shuts the host down (as SIGTERM does).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.server_token.clone()
    }

    /// Serves until the shutdown token is cancelled, then shuts down in order: the gRPC server
    /// stops accepting and finishes the calls in flight; then relays publish what was committed
    /// and checkpoint, and consumers finish their batch; then the tasks are joined.
    pub async fn wait(self) -> anyhow::Result<()> {
        let served = self.server.wait().await;
        self.background.cancel();
        let tasks = std::mem::take(
            &mut *self
                .tasks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        for (what, handle) in tasks {
            if let Err(e) = handle.await {
                warn!(task = %what, error = %e, "background task did not finish cleanly");
            }
        }
        served.context("gRPC server")
    }

    /// Triggers shutdown and waits for it.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.server_token.cancel();
        self.wait().await
    }
}
