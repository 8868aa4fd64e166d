//! The suite under test, as production runs it: each hosted service its own `minzheng
//! <service>` process, on a PostgreSQL cluster and a `nats-server` the run owns (so its faults
//! touch nothing else on the machine), plus one more database in the same cluster for the
//! transaction held open elsewhere. [`CONSUMERS`] lists what each service follows of another's
//! events, as in production.

use std::{path::PathBuf, time::Duration};

use anyhow::Context as _;
use async_nats::jetstream;
use minzheng_bus::BusNaming;
use minzheng_eventstore::{RecordedEvent, Upcasters, postgres::PostgresStore};
use minzheng_kit::aggregate::Contract;
use minzheng_testkit::nats_server::{NatsServer, free_port};
use sqlx::{Connection as _, PgConnection};

use super::{
    ledger::ACQUIRE_TIMEOUT,
    postgres::PrivatePostgres,
    processes::{ServiceProcess, minzheng_bin},
};

/// The services, producers first.
pub const SERVICES: [&str; 4] = ["placenames", "civilregistry", "eldercare", "childwelfare"];
/// The database of the transaction held open beside the services' databases.
pub const OTHER_DATABASE: &str = "elsewhere";

/// What a consumer does with the events it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follows {
    /// Projects the place-names divisions into this table of the service's database (rebuilt
    /// from zero at reconciliation).
    Divisions { table: &'static str },
    /// Acts on some events by commands on the service's own store (not rebuildable: its inbox
    /// is checked against the producer's store, its effects against the ledger).
    Feed,
}

/// A durable consumer of the suite: `service` follows `producer`'s stream as `name`.
#[derive(Debug, Clone, Copy)]
pub struct ConsumerOf {
    pub service: &'static str,
    pub producer: &'static str,
    pub name: &'static str,
    pub follows: Follows,
    /// Whether the consumer handles an event of its producer (its contract lists it): the
    /// others leave no trace in its inbox.
    pub handles: fn(&RecordedEvent) -> bool,
}

/// Every consumer of a stream of the suite (a service's consumers of services the suite does
/// not run — assistance, data sharing — wait for their streams and are not judged).
pub const CONSUMERS: [ConsumerOf; 5] = [
    ConsumerOf {
        service: "civilregistry",
        producer: "placenames",
        name: minzheng_civilregistry::divisions::CONSUMER,
        follows: Follows::Divisions {
            table: "cr_divisions",
        },
        handles: <minzheng_host::divisions::PlaceNamesDivisions as Contract>::lists,
    },
    ConsumerOf {
        service: "eldercare",
        producer: "placenames",
        name: minzheng_eldercare::divisions::CONSUMER,
        follows: Follows::Divisions {
            table: minzheng_eldercare::divisions::TABLE,
        },
        handles: <minzheng_host::divisions::PlaceNamesDivisions as Contract>::lists,
    },
    ConsumerOf {
        service: "childwelfare",
        producer: "placenames",
        name: minzheng_childwelfare::module::DIVISIONS_CONSUMER,
        follows: Follows::Divisions {
            table: minzheng_childwelfare::module::DIVISIONS_TABLE,
        },
        handles: <minzheng_host::divisions::PlaceNamesDivisions as Contract>::lists,
    },
    ConsumerOf {
        service: "eldercare",
        producer: "civilregistry",
        name: minzheng_eldercare::feeds::DEATHS,
        follows: Follows::Feed,
        handles: <minzheng_eldercare::codec::others::CivilRegistryDeaths as Contract>::lists,
    },
    ConsumerOf {
        service: "childwelfare",
        producer: "civilregistry",
        name: minzheng_childwelfare::feeds::DEATHS,
        follows: Follows::Feed,
        handles: <minzheng_childwelfare::codec::others::CivilRegistryDeaths as Contract>::lists,
    },
];

/// The settings a service needs beyond the platform's: its keys for this run (each distinct, as
/// in production).
fn own_settings(service: &str) -> Vec<(String, String)> {
    let key = |name: &str, value: &str| (name.to_owned(), value.to_owned());
    match service {
        "civilregistry" => vec![key(
            "MZ_CIVILREGISTRY__PSEUDONYM_KEY",
            "chaos-harness-pseudonym-key-at-least-32-bytes",
        )],
        "eldercare" => vec![key(
            "MZ_ELDERCARE__PSEUDONYM_KEY",
            "chaos-harness-eldercare-pseudonym-key-32-bytes",
        )],
        "childwelfare" => vec![
            key(
                "MZ_CHILDWELFARE__PSEUDONYM_KEY",
                "chaos-harness-childwelfare-pseudonym-key-32-bytes",
            ),
            key(
                "MZ_CHILDWELFARE__REPORTER_KEY",
                "chaos-harness-childwelfare-reporter-key-32-bytes",
            ),
        ],
        _ => Vec::new(),
    }
}

/// Everything the run started; dropping it stops it all.
#[derive(Debug)]
pub struct Suite {
    pub postgres: PrivatePostgres,
    pub nats: NatsServer,
    /// In [`SERVICES`] order.
    pub processes: Vec<ServiceProcess>,
    /// The duplicate window the services were asked to give their streams.
    pub duplicate_window: Duration,
    pub log_dir: PathBuf,
}

impl Suite {
    /// Starts PostgreSQL, NATS and the services (each on a database of its own), with streams
    /// asked to keep a `duplicate_window` (`MZ_STREAM__DUPLICATE_WINDOW_SECS`), logs in
    /// `log_dir`.
    pub async fn start(duplicate_window: Duration, log_dir: PathBuf) -> anyhow::Result<Self> {
        let postgres = PrivatePostgres::start().context("a private PostgreSQL cluster")?;
        let mut admin = PgConnection::connect(&postgres.url("postgres")).await?;
        for database in SERVICES.iter().chain([&OTHER_DATABASE]) {
            // The names are the constants above.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
                .execute(&mut admin)
                .await?;
        }
        admin.close().await?;
        let nats = NatsServer::start();
        let bin = minzheng_bin()?;
        let mut processes = Vec::new();
        for service in SERVICES {
            let mut environment = vec![
                ("MZ_DATABASE_URL".to_owned(), postgres.url(service)),
                ("MZ_NATS_URL".to_owned(), nats.url()),
                ("MZ_LISTEN".to_owned(), format!("127.0.0.1:{}", free_port())),
                (
                    "MZ_AUTH__DEV_SECRET".to_owned(),
                    minzheng_host::testing::TOKEN_SECRET.to_owned(),
                ),
                ("MZ_RELAY_POLL_MS".to_owned(), "50".to_owned()),
                (
                    "MZ_DATABASE_ACQUIRE_TIMEOUT_MS".to_owned(),
                    ACQUIRE_TIMEOUT.as_millis().to_string(),
                ),
                ("MZ_SHUTDOWN_TIMEOUT_SECS".to_owned(), "5".to_owned()),
                (
                    "MZ_STREAM__DUPLICATE_WINDOW_SECS".to_owned(),
                    duplicate_window.as_secs().to_string(),
                ),
                ("OTEL_SDK_DISABLED".to_owned(), "true".to_owned()),
            ];
            environment.extend(own_settings(service));
            let addr = environment[2].1.parse()?;
            let mut process = ServiceProcess::new(service, &bin, addr, environment, &log_dir);
            process.start().await?;
            processes.push(process);
        }
        Ok(Self {
            postgres,
            nats,
            processes,
            duplicate_window,
            log_dir,
        })
    }

    /// The process of `service`.
    pub fn process(&mut self, service: &str) -> &mut ServiceProcess {
        self.processes
            .iter_mut()
            .find(|p| p.name() == service)
            .expect("a service of the suite")
    }

    pub fn addr(&self, service: &str) -> std::net::SocketAddr {
        self.processes
            .iter()
            .find(|p| p.name() == service)
            .expect("a service of the suite")
            .addr()
    }

    /// The harness's own connection to `service`'s event store (it reads, never writes).
    pub async fn store(&self, service: &str) -> anyhow::Result<PostgresStore> {
        Ok(PostgresStore::connect(&self.postgres.url(service), Upcasters::new()).await?)
    }

    /// A client of the run's NATS server.
    pub async fn nats_client(&self) -> anyhow::Result<async_nats::Client> {
        Ok(async_nats::connect(self.nats.url()).await?)
    }

    /// The bus names of `service` (the binary's production prefix).
    pub fn naming(service: &str) -> BusNaming {
        BusNaming::new(service).expect("a valid service name")
    }

    /// How far `consumer` is behind: messages pending and unacknowledged; `None` while it (or
    /// its stream) does not exist or NATS does not answer.
    pub async fn consumer_backlog(
        js: &jetstream::Context,
        consumer: &ConsumerOf,
    ) -> Option<(u64, usize)> {
        let stream = js
            .get_stream(Self::naming(consumer.producer).stream_name())
            .await
            .ok()?;
        let mut durable: jetstream::consumer::PullConsumer =
            stream.get_consumer(consumer.name).await.ok()?;
        let info = durable.info().await.ok()?;
        Some((info.num_pending, info.num_ack_pending))
    }

    /// Whether `consumer` exists and has applied everything its stream holds.
    pub async fn consumer_caught_up(js: &jetstream::Context, consumer: &ConsumerOf) -> bool {
        Self::consumer_backlog(js, consumer).await == Some((0, 0))
    }

    /// Restarts every process that exited on its own; the exits are recorded on the process.
    pub async fn revive(&mut self) -> anyhow::Result<()> {
        for process in &mut self.processes {
            process.revive().await?;
        }
        Ok(())
    }
}
