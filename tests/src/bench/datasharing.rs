//! The data-sharing service's figures (数据共享), each beside a raw baseline measured in the same
//! run, over a generated city: persons in households spread over Benxi's 508 villages and
//! communities, and six-odd agencies' records about them (household registration for everyone,
//! wages or pensions, taxed income, properties, vehicles, businesses, housing fund, two bank
//! accounts each, securities, disability certificates — about 5.5 records a person).
//!
//! 1. the load of every agency's records through `LoadAgencyRecords` (client streaming, as
//!    `minzheng datasharing load` sends them), in rows per second, beside a plain PostgreSQL
//!    `COPY` of the same rows into a bare table;
//! 2. `VerifyHousehold` at 32 concurrent gRPC clients over households whose members signed an
//!    authorization: throughput, and latency p50/p99 (target p99 under 20 ms);
//! 3. the memory of the process hosting the service once everything is loaded (target under
//!    2 GiB; the bench's own generator and clients are in the same process, so this is an upper
//!    bound);
//! 4. the projection of another service's events ([`Projecting`]): the civil registry's deaths
//!    (`DeathRecorded`, one per `death-<id>` stream, appended to its store as it writes them and
//!    published by its relay) while the data-sharing service is down, then the service started
//!    on them (it ran once before, so its tables exist): events per second from its start until
//!    every consumer has applied them, beside a plain JetStream pull + ack of the same stream in
//!    batches of the platform's consumer batch size (target >= 0.2);
//! 5. the rebuild from zero of those projections, as `minzheng datasharing rebuild` runs it (the
//!    service stopped, [`reset`](minzheng_datasharing::app::rebuild::reset), the service started
//!    again until every consumer has applied everything), in events per second, beside a plain
//!    ordered read of the civil registry's whole event table (target >= 0.3).
//!
//! The service runs distributed (PostgreSQL, JetStream), as `minzheng datasharing` runs it: on
//! the test host for figures 1 to 3, beside the civil registry on one bus for 4 and 5. Sizes come
//! from the environment (see [`Sizes`]); the defaults are the city (1.3 million persons
//! in 500,000 households) and 200,000 projected events.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use async_nats::jetstream;
use futures::{StreamExt as _, TryStreamExt as _, future::try_join_all};
use minzheng_bus::BusNaming;
use minzheng_datasharing::{app::rebuild, codec::records::agency_to_pb, records::Agency};
use minzheng_eventstore::{
    AppendRequest, ExpectedVersion, Metadata, NewEvent, SharedStore, StreamId, Upcasters,
    postgres::PostgresStore,
};
use minzheng_host::{
    Host, Mode, RunningHost, ServiceModule,
    testing::{TOKEN_SECRET, TestHost, agency_token, token, with_token},
};
use minzheng_kit::{
    auth::{Authenticator, Role},
    settings::PlatformSettings,
};
use minzheng_proto::{
    civilregistry::v1 as cr,
    common::v1 as common,
    datasharing::v1::{self as pb, data_sharing_service_client::DataSharingServiceClient},
};
use minzheng_testkit::{TestDatabase, nats_url, unique_name};
use prost::{Message as _, Name as _};
use secrecy::SecretString;
use sqlx::{PgPool, postgres::PgPoolOptions};
use time::{Date, Duration as Days, macros::date};
use tonic::transport::Channel;

/// The key of the audit's pseudonyms (at least 32 bytes).
const PSEUDONYM_KEY: &str = "datasharing-bench-pseudonym-key-32-bytes";
/// Records per message of a load.
const PER_MESSAGE: usize = 2_000;
/// The day the records are as of.
const AS_OF: Date = date!(2026 - 03 - 31);
/// The producer whose events the projection figures use.
const CIVILREGISTRY: &str = "civilregistry";
/// Deaths per append while the civil registry's backlog is written: each on its own stream, all
/// in one transaction (`append_all`), as a death and what it changes are committed together.
const DEATHS_PER_APPEND: usize = 500;
/// Appends under way at once while the backlog is written.
const APPENDERS: usize = 4;
/// The first day of death (the deaths spread over the 28 days from it) and the day recorded.
const FIRST_DEATH: Date = date!(2026 - 03 - 01);
const RECORDED_ON: Date = date!(2026 - 04 - 01);
/// How often a host working through a backlog is looked at: seldom enough that looking costs
/// the machine little (each look asks JetStream about every consumer of the host), often enough
/// to time a backlog of seconds.
const SETTLE_POLL: Duration = Duration::from_millis(250);
/// How often the events left are printed while a backlog is applied.
const PROGRESS_EVERY: Duration = Duration::from_secs(30);
/// The longest a backlog may take before the bench gives up.
const BACKLOG_DEADLINE: Duration = Duration::from_secs(3_600);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// How big the city is, and how long the verifications run.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// `MZ_BENCH_DATASHARING_PERSONS` (default 1,300,000).
    pub persons: usize,
    /// `MZ_BENCH_DATASHARING_HOUSEHOLDS` (default 500,000).
    pub households: usize,
    /// `MZ_BENCH_DATASHARING_VERIFIED_HOUSEHOLDS` (default 2,000): households authorized and
    /// verified.
    pub verified_households: usize,
    /// `MZ_BENCH_DATASHARING_VERIFY_SECONDS` (default 10).
    pub verify_seconds: u64,
    /// `MZ_BENCH_DATASHARING_PROJECTED_EVENTS` (default 200,000): the civil registry's deaths
    /// the service projects, and rebuilds from zero.
    pub projected_events: usize,
}

impl Sizes {
    pub fn from_env() -> Self {
        let persons = env_usize("MZ_BENCH_DATASHARING_PERSONS", 1_300_000).max(10);
        Self {
            persons,
            households: env_usize("MZ_BENCH_DATASHARING_HOUSEHOLDS", 500_000).clamp(1, persons),
            verified_households: env_usize("MZ_BENCH_DATASHARING_VERIFIED_HOUSEHOLDS", 2_000)
                .max(1),
            verify_seconds: env_usize("MZ_BENCH_DATASHARING_VERIFY_SECONDS", 10).max(1) as u64,
            projected_events: env_usize("MZ_BENCH_DATASHARING_PROJECTED_EVENTS", 200_000).max(1),
        }
    }
}

/// The generated city: who lives where.
#[derive(Debug, Clone)]
pub struct City {
    villages: Arc<Vec<String>>,
    persons: usize,
    households: usize,
}

/// GB 11643 check character of 17 digits.
fn check_character(first17: &[u8]) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

impl City {
    pub fn new(sizes: &Sizes) -> Self {
        let villages: Vec<String> = minzheng_placenames::BENXI
            .csv
            .lines()
            .filter_map(|line| {
                let mut columns = line.split(',');
                let code = columns.next()?;
                let level = columns.nth(1)?;
                (level == "village").then(|| code.to_owned())
            })
            .collect();
        Self {
            villages: Arc::new(villages),
            persons: sizes.persons,
            households: sizes.households,
        }
    }

    /// Person `p`'s id number: unique per index (county, birth day and sequence derive from it).
    pub fn citizen(&self, p: usize) -> String {
        let counties = ["210502", "210503", "210504", "210505", "210521", "210522"];
        let county = counties[p % counties.len()];
        let rest = p / counties.len();
        let birth = date!(1950 - 01 - 01) + Days::days((rest % 14_600) as i64);
        let sequence = (rest / 14_600) % 1000;
        let first17 = format!(
            "{county}{:04}{:02}{:02}{sequence:03}",
            birth.year(),
            birth.month() as u8,
            birth.day()
        );
        let check = check_character(first17.as_bytes());
        format!("{first17}{check}")
    }

    /// The members of household `h`: persons `[start, end)`.
    pub fn household(&self, h: usize) -> std::ops::Range<usize> {
        let start = h * self.persons / self.households;
        let end = (h + 1) * self.persons / self.households;
        start..end.max(start + 1).min(self.persons)
    }

    /// The village (a township's village or community) household `h` is registered in.
    fn village(&self, h: usize) -> &str {
        &self.villages[h % self.villages.len()]
    }

    /// The township of household `h`'s village.
    pub fn township(&self, h: usize) -> String {
        format!("{}000", &self.village(h)[..9])
    }

    /// Every record `agency` holds, in order.
    pub fn records(&self, agency: Agency) -> impl Iterator<Item = pb::AgencyRecord> + '_ {
        (0..self.households).flat_map(move |h| {
            self.household(h)
                .enumerate()
                .flat_map(move |(position, p)| self.person_records(agency, h, position, p))
        })
    }

    fn person_records(
        &self,
        agency: Agency,
        h: usize,
        position: usize,
        p: usize,
    ) -> Vec<pb::AgencyRecord> {
        use minzheng_datasharing::codec::records::kind_to_pb;
        use minzheng_datasharing::records::RecordKind as K;
        let citizen = self.citizen(p);
        let record = |kind: K, n: usize, fen: i64| pb::AgencyRecord {
            reference: format!("{}-{p}-{n}", kind.code()),
            kind: kind_to_pb(kind),
            citizen: Some(common::CitizenRef {
                citizen_id: citizen.clone(),
            }),
            as_of: Some(AS_OF.into()),
            amount: Some(common::Money { fen }),
            ..pb::AgencyRecord::default()
        };
        let roll = |salt: usize| (p.wrapping_mul(2_654_435_761) ^ salt) % 100;
        let mut out = Vec::new();
        match agency {
            Agency::PublicSecurity => {
                let mut r = record(K::HouseholdRegistration, 0, 0);
                r.division = Some(common::RegionCode {
                    code: self.township(h),
                });
                r.household_number = format!("H{h}");
                r.relation_to_head = match position {
                    0 => "户主",
                    1 => "配偶",
                    _ => "子",
                }
                .to_owned();
                out.push(r);
            }
            Agency::HumanResources => {
                if roll(1) < 60 {
                    out.push(record(K::Wages, 0, 150_000 + (roll(2) as i64) * 1_000));
                } else if roll(1) < 85 {
                    out.push(record(K::Pension, 0, 200_000 + (roll(3) as i64) * 500));
                }
            }
            Agency::Tax if roll(4) < 40 => out.push(record(
                K::TaxedIncome,
                0,
                2_000_000 + (roll(5) as i64) * 10_000,
            )),
            Agency::RealEstate if position == 0 && roll(6) < 90 => {
                out.push(record(K::RealEstate, 0, 30_000_000));
                if roll(7) < 20 {
                    out.push(record(K::RealEstate, 1, 20_000_000));
                }
            }
            Agency::Vehicles if roll(8) < 20 => out.push(record(K::Vehicle, 0, 8_000_000)),
            Agency::MarketRegulation if roll(9) < 5 => out.push(record(K::Business, 0, 10_000_000)),
            Agency::HousingFund if roll(10) < 30 => out.push(record(K::HousingFund, 0, 30_000)),
            Agency::Banks => {
                out.push(record(K::Deposits, 0, (roll(11) as i64) * 100_000));
                out.push(record(K::Deposits, 1, (roll(12) as i64) * 10_000));
            }
            Agency::Securities if roll(13) < 10 => out.push(record(K::Securities, 0, 5_000_000)),
            Agency::DisabledPersonsFederation if roll(14) < 3 => {
                let mut r = record(K::Disability, 0, 0);
                r.disability_grade = 2;
                out.push(r);
            }
            _ => {}
        }
        out
    }
}

/// The service, distributed on the test host.
#[derive(Debug)]
pub struct Service {
    pub host: TestHost,
    channel: Channel,
}

impl Service {
    pub async fn start() -> anyhow::Result<Self> {
        let host = TestHost::distributed()
            .service(
                minzheng_datasharing::Module::default()
                    .with_pseudonym_key(SecretString::from(PSEUDONYM_KEY)),
            )
            .start()
            .await;
        host.settle().await;
        let channel = host.channel("datasharing").await;
        Ok(Self { host, channel })
    }

    fn client(&self) -> DataSharingServiceClient<Channel> {
        DataSharingServiceClient::new(self.channel.clone()).max_encoding_message_size(64 << 20)
    }

    pub async fn stop(self) {
        self.host.shutdown().await;
    }
}

/// Loads every agency's records; rows per second, and the rows.
pub async fn load_all(service: &Service, city: &City) -> anyhow::Result<(f64, usize)> {
    let started = Instant::now();
    let mut rows = 0;
    for agency in Agency::ALL {
        let count = Arc::new(AtomicUsize::new(0));
        let messages = {
            let count = count.clone();
            let city = city.clone();
            let (sender, receiver) = tokio::sync::mpsc::channel(4);
            tokio::task::spawn_blocking(move || {
                let mut first = true;
                let mut batch = Vec::with_capacity(PER_MESSAGE);
                let mut line = 0u64;
                let send = |records: Vec<pb::LoadedRecord>, first: &mut bool| {
                    let mut message = pb::LoadAgencyRecordsRequest {
                        records,
                        ..pb::LoadAgencyRecordsRequest::default()
                    };
                    if std::mem::take(first) {
                        message.agency = agency_to_pb(agency);
                        message.extract = format!("bench-{}", agency.code());
                        message.metadata = Some(common::CommandMetadata {
                            idempotency_key: uuid::Uuid::now_v7().to_string(),
                            correlation_id: String::new(),
                        });
                    }
                    sender.blocking_send(message).is_ok()
                };
                for record in city.records(agency) {
                    line += 1;
                    batch.push(pb::LoadedRecord {
                        line,
                        record: Some(record),
                    });
                    if batch.len() == PER_MESSAGE && !send(std::mem::take(&mut batch), &mut first) {
                        return;
                    }
                }
                count.store(line as usize, Ordering::Relaxed);
                send(batch, &mut first);
            });
            futures::stream::unfold(receiver, |mut receiver| async move {
                receiver.recv().await.map(|m| (m, receiver))
            })
            .boxed()
        };
        let response = service
            .client()
            .load_agency_records(with_token(messages, &agency_token(agency.code())))
            .await
            .with_context(|| format!("loading {}", agency.code()))?
            .into_inner();
        let load = response.load.context("a load record")?;
        anyhow::ensure!(
            load.rejected == 0,
            "{} rows refused: {:?}",
            load.rejected,
            response.rejected.first()
        );
        rows += count.load(Ordering::Relaxed);
        eprintln!(
            "bench: datasharing: {} loaded: {} rows ({:.0} s in all)",
            agency.code(),
            load.received,
            started.elapsed().as_secs_f64()
        );
    }
    Ok((super::rate(rows, started.elapsed()), rows))
}

/// The same rows, COPY'd into a bare table of the same columns; rows per second.
pub async fn plain_copy(pool: &PgPool, city: &City) -> anyhow::Result<f64> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_records (agency SMALLINT, reference TEXT, kind SMALLINT, \
         citizen TEXT, as_of INTEGER, amount BIGINT, details TEXT)",
    )
    .execute(pool)
    .await?;
    copy_city(
        pool,
        city,
        "COPY bench_records (agency, reference, kind, citizen, as_of, amount, details) FROM STDIN",
        |agency, record, citizen, out| {
            out.push_str(&format!(
                "{}\t{}\t{}\t{citizen}\t{}\t{}\t{}\n",
                agency.number(),
                record.reference,
                record.kind,
                AS_OF.to_julian_day(),
                record.amount.map_or(0, |m| m.fen),
                record.household_number
            ));
        },
    )
    .await
}

/// The same rows, COPY'd into a table keyed and indexed as the service's records are
/// (`ds_records`: primary key citizen and digest, the households' partial index), with the
/// columns the service stores; rows per second. What the storage alone costs: a load can be no
/// faster than writing its rows into an indexed table, whoever writes them.
pub async fn indexed_copy(pool: &PgPool, city: &City) -> anyhow::Result<f64> {
    use std::hash::{BuildHasher as _, BuildHasherDefault, DefaultHasher};
    sqlx::raw_sql(
        "CREATE TABLE bench_indexed_records (digest BYTEA NOT NULL, citizen TEXT NOT NULL, \
            agency SMALLINT NOT NULL, reference TEXT NOT NULL, kind SMALLINT NOT NULL, \
            as_of INTEGER NOT NULL, amount BIGINT NOT NULL, ended SMALLINT NOT NULL, \
            details TEXT NOT NULL, known_version BIGINT NOT NULL, load_id TEXT NOT NULL, \
            household TEXT NOT NULL, PRIMARY KEY (citizen, digest)); \
         CREATE INDEX bench_indexed_records_household ON bench_indexed_records (household) \
            WHERE household <> ''",
    )
    .execute(pool)
    .await?;
    // A digest of the record (not the service's SHA-256: hashing is the service's work).
    let hasher = BuildHasherDefault::<DefaultHasher>::default();
    copy_city(
        pool,
        city,
        "COPY bench_indexed_records (digest, citizen, agency, reference, kind, as_of, amount, \
            ended, details, known_version, load_id, household) FROM STDIN",
        |agency, record, citizen, out| {
            let digest = [1, 2].map(|n| hasher.hash_one((agency.number(), &record.reference, citizen, n)));
            let household = match &record.division {
                Some(division) => format!("{}/{}", division.code, record.household_number),
                None => String::new(),
            };
            out.push_str(&format!(
                "\\\\x{:016x}{:016x}\t{citizen}\t{}\t{}\t{}\t{}\t{}\t0\t{}\t1\tbench\t{household}\n",
                digest[0],
                digest[1],
                agency.number(),
                record.reference,
                record.kind,
                AS_OF.to_julian_day(),
                record.amount.map_or(0, |m| m.fen),
                record.relation_to_head,
            ));
        },
    )
    .await
}

/// Every agency's rows of the city sent through `copy` (a `COPY … FROM STDIN`), each written
/// by `row` (the agency, the record, its citizen, the buffer); rows per second.
async fn copy_city(
    pool: &PgPool,
    city: &City,
    copy: &'static str,
    mut row: impl FnMut(Agency, &pb::AgencyRecord, &str, &mut String),
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut rows = 0;
    for agency in Agency::ALL {
        let mut connection = pool.acquire().await?;
        let mut sending = connection.copy_in_raw(copy).await?;
        let mut buffer = String::with_capacity(1 << 20);
        for record in city.records(agency) {
            rows += 1;
            let citizen = record
                .citizen
                .as_ref()
                .map(|c| c.citizen_id.as_str())
                .unwrap_or_default();
            row(agency, &record, citizen, &mut buffer);
            if buffer.len() > 1 << 20 {
                sending
                    .send(std::mem::take(&mut buffer).into_bytes())
                    .await?;
            }
        }
        sending.send(buffer.into_bytes()).await?;
        sending.finish().await?;
    }
    Ok(super::rate(rows, started.elapsed()))
}

/// Every member of `count` households (spread over the city) signs an authorization.
pub async fn authorize(service: &Service, city: &City, count: usize) -> anyhow::Result<Vec<usize>> {
    let step = (city.households / count).max(1);
    let households: Vec<usize> = (0..count).map(|i| (i * step) % city.households).collect();
    let next = Arc::new(AtomicUsize::new(0));
    let households = Arc::new(households);
    try_join_all((0..16).map(|_| {
        let (next, households, city) = (next.clone(), households.clone(), city.clone());
        let mut client = service.client();
        async move {
            while let Some(&h) = households.get(next.fetch_add(1, Ordering::Relaxed)) {
                let township = city.township(h);
                for p in city.household(h) {
                    client
                        .record_authorization(with_token(
                            pb::RecordAuthorizationRequest {
                                metadata: Some(common::CommandMetadata {
                                    idempotency_key: uuid::Uuid::now_v7().to_string(),
                                    correlation_id: String::new(),
                                }),
                                signed_by: Some(common::CitizenRef {
                                    citizen_id: city.citizen(p),
                                }),
                                signed_on: Some(date!(2026 - 01 - 01).into()),
                                data_classes: (1..=9).collect(),
                                agencies: vec![],
                                purpose: "低保申请家庭经济状况核对".into(),
                                expires_on: Some(date!(2099 - 12 - 31).into()),
                                township: Some(common::RegionCode {
                                    code: township.clone(),
                                }),
                            },
                            &token(&[Role::Caseworker], &[&township]),
                        ))
                        .await
                        .context("recording an authorization")?;
                }
            }
            anyhow::Ok(())
        }
    }))
    .await?;
    Ok(Arc::try_unwrap(households).unwrap_or_else(|h| (*h).clone()))
}

/// Verifications at `clients` concurrent clients for `seconds`, round-robin over `households`:
/// per second, and the latencies (ms) p50 and p99.
pub async fn verify(
    service: &Service,
    city: &City,
    households: &[usize],
    clients: usize,
    seconds: u64,
) -> anyhow::Result<(f64, f64, f64)> {
    let households = Arc::new(households.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let histograms = try_join_all((0..clients).map(|_| {
        let (next, households, city) = (next.clone(), households.clone(), city.clone());
        let mut client = service.client();
        async move {
            let mut histogram = hdrhistogram::Histogram::<u64>::new(3)?;
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let h = households[n % households.len()];
                let township = city.township(h);
                let request = pb::VerifyHouseholdRequest {
                    members: city
                        .household(h)
                        .map(|p| common::CitizenRef {
                            citizen_id: city.citizen(p),
                        })
                        .collect(),
                    township: Some(common::RegionCode {
                        code: township.clone(),
                    }),
                    area: minzheng_proto::assistance::v1::ResidenceArea::Urban.into(),
                    verify_on: None,
                    as_known_on: None,
                };
                let sent = Instant::now();
                let report = client
                    .verify_household(with_token(
                        request,
                        &token(&[Role::Caseworker], &[&township]),
                    ))
                    .await
                    .context("verifying a household")?
                    .into_inner()
                    .report
                    .context("a report")?;
                histogram.record(sent.elapsed().as_micros() as u64)?;
                anyhow::ensure!(!report.incomes.is_empty() || !report.assets.is_empty());
            }
            anyhow::Ok(histogram)
        }
    }))
    .await?;
    let elapsed = started.elapsed();
    let mut all = hdrhistogram::Histogram::<u64>::new(3)?;
    for h in &histograms {
        all.add(h)?;
    }
    Ok((
        super::rate(all.len() as usize, elapsed),
        all.value_at_quantile(0.5) as f64 / 1000.0,
        all.value_at_quantile(0.99) as f64 / 1000.0,
    ))
}

/// Events applied, and how long it took.
#[derive(Debug, Clone, Copy)]
pub struct Replay {
    pub events: u64,
    pub elapsed: Duration,
}

impl Replay {
    /// Events per second.
    pub fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }
}

/// The projection of another service's events, for figures 4 and 5: the civil registry and a
/// data-sharing service of its own, each a distributed host on its own PostgreSQL database, on
/// one bus prefix (as `minzheng civilregistry` and `minzheng datasharing` share a deployment's
/// bus). This data-sharing service has no agency records, so the discovery each death sets off
/// looks up the deceased's households and finds none: what is timed is the consumers' work
/// (persons, sharing out, read audit of the civil registry's stream), not alerts.
#[derive(Debug)]
pub struct Projecting {
    prefix: String,
    client: async_nats::Client,
    registry: RunningHost,
    /// Running while it projects; stopped to be rebuilt.
    sharing: Option<RunningHost>,
    registry_db: TestDatabase,
    sharing_db: TestDatabase,
    /// The deaths recorded (each of a different citizen), and the events on the stream.
    deaths: u64,
    events: u64,
}

fn sharing_module() -> minzheng_datasharing::Module {
    minzheng_datasharing::Module::default().with_pseudonym_key(SecretString::from(PSEUDONYM_KEY))
}

/// `module` alone in a distributed host on `database`, its bus under `prefix`.
async fn start_host(
    module: impl ServiceModule,
    database: &TestDatabase,
    prefix: &str,
) -> anyhow::Result<RunningHost> {
    let settings = PlatformSettings {
        listen: "127.0.0.1:0".parse()?,
        database_url: Some(SecretString::from(database.url.clone())),
        nats_url: Some(nats_url()),
        ..PlatformSettings::default()
    };
    Host::new(Mode::Distributed, settings)
        .module(module)
        .authenticator(Authenticator::dev(&SecretString::from(TOKEN_SECRET))?)
        .bus_prefix(prefix)
        .start()
        .await
}

/// Person `p`'s death as the civil registry records it: a `DeathRecorded` on its own stream
/// `death-<id>`, the id 32 hexadecimal digits like the registry's pseudonyms (distinct per `p`).
fn death(city: &City, p: usize) -> anyhow::Result<AppendRequest> {
    let citizen = city.citizen(p);
    let death_id = format!(
        "{:032x}",
        (p as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
    );
    let message = cr::DeathRecorded {
        death_id: death_id.clone(),
        county: Some(common::RegionCode {
            code: format!("{}000000", &citizen[..6]),
        }),
        citizen: Some(common::CitizenRef {
            citizen_id: citizen,
        }),
        name: "某某".to_owned(),
        died_on: Some((FIRST_DEATH + Days::days((p % 28) as i64)).into()),
        source: cr::DeathSource::Hospital.into(),
        source_reference: format!("BENCH-{p}"),
        recorded_on: Some(RECORDED_ON.into()),
    };
    Ok(AppendRequest {
        stream: StreamId::new("death", death_id)?,
        expected: ExpectedVersion::NoStream,
        events: vec![NewEvent::new(
            cr::DeathRecorded::full_name(),
            minzheng_civilregistry::codec::SCHEMA_VERSION,
            message.encode_to_vec(),
        )],
        metadata: Metadata {
            correlation_id: Some(uuid::Uuid::now_v7()),
            actor: Some("bench".into()),
            ..Metadata::default()
        },
    })
}

impl Projecting {
    /// Starts the civil registry, and the data-sharing service once so that its tables and its
    /// durable consumers exist; then stops the data-sharing service, to start it again on a
    /// backlog.
    pub async fn start() -> anyhow::Result<Self> {
        let prefix = unique_name("dsbench").to_lowercase();
        let client = minzheng_testkit::nats().await;
        let registry_db = TestDatabase::create().await;
        let sharing_db = TestDatabase::create().await;
        let registry = start_host(
            minzheng_civilregistry::Module::new(SecretString::from(PSEUDONYM_KEY)),
            &registry_db,
            &prefix,
        )
        .await
        .context("starting the civil registry")?;
        let sharing = start_host(sharing_module(), &sharing_db, &prefix)
            .await
            .context("starting the data-sharing service")?;
        settled(&registry).await?;
        settled(&sharing).await?;
        sharing.shutdown().await?;
        Ok(Self {
            prefix,
            client,
            registry,
            sharing: None,
            registry_db,
            sharing_db,
            deaths: 0,
            events: 0,
        })
    }

    /// The civil registry's JetStream stream.
    pub fn stream_name(&self) -> anyhow::Result<String> {
        Ok(BusNaming::with_prefix(&self.prefix, CIVILREGISTRY)?
            .stream_name()
            .to_owned())
    }

    /// A client of the NATS server both services use.
    pub fn nats(&self) -> &async_nats::Client {
        &self.client
    }

    /// The civil registry's database (its event store).
    pub fn registry_database_url(&self) -> &str {
        &self.registry_db.url
    }

    /// The civil registry records the deaths of `count` citizens (the city's persons from the
    /// first; past the city's persons the ids are still valid and distinct), written to its
    /// store as it writes them, [`DEATHS_PER_APPEND`] to a transaction, with the data-sharing
    /// service down; waits until its relay has published them all. Returns the events on the
    /// civil registry's stream.
    pub async fn record_deaths(&mut self, city: &City, count: usize) -> anyhow::Result<u64> {
        let pool = PgPoolOptions::new()
            .max_connections(APPENDERS as u32)
            .connect(&self.registry_db.url)
            .await?;
        let store: SharedStore =
            Arc::new(PostgresStore::from_pool(pool.clone(), Upcasters::new()).await?);
        let chunks: Vec<std::ops::Range<usize>> = (0..count)
            .step_by(DEATHS_PER_APPEND)
            .map(|start| start..(start + DEATHS_PER_APPEND).min(count))
            .collect();
        futures::stream::iter(chunks)
            .map(|chunk| {
                let store = store.clone();
                async move {
                    let requests = chunk
                        .map(|p| death(city, p))
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    store.append_all(requests).await?;
                    anyhow::Ok(())
                }
            })
            .buffer_unordered(APPENDERS)
            .try_collect::<Vec<()>>()
            .await?;
        drop(store);
        pool.close().await;
        settled(&self.registry).await?;
        self.deaths = count as u64;
        self.events = self.stream_messages().await?;
        anyhow::ensure!(
            self.events >= self.deaths,
            "{} events on the civil registry's stream, {} deaths recorded",
            self.events,
            self.deaths
        );
        Ok(self.events)
    }

    async fn stream_messages(&self) -> anyhow::Result<u64> {
        let js = jetstream::new(self.client.clone());
        let mut stream = js.get_stream(self.stream_name()?).await?;
        Ok(stream.info().await?.state.messages)
    }

    /// Figure 4: starts the data-sharing service on the civil registry's backlog, timed from its
    /// start until every consumer has applied everything (the host settled).
    pub async fn project(&mut self) -> anyhow::Result<Replay> {
        anyhow::ensure!(
            self.sharing.is_none(),
            "the data-sharing service is running"
        );
        let started = Instant::now();
        let host = start_host(sharing_module(), &self.sharing_db, &self.prefix).await?;
        self.applied(&host).await?;
        let elapsed = started.elapsed();
        self.sharing = Some(host);
        self.check_deaths().await?;
        Ok(Replay {
            events: self.events,
            elapsed,
        })
    }

    /// Figure 5: what `minzheng datasharing rebuild` runs, timed: with the service stopped (not
    /// timed), [`rebuild::reset`], then the service started until every consumer has applied
    /// everything again. Of the civil registry's stream, the persons and the read audit are
    /// replayed; the sharing out is not rebuilt (it keeps its place).
    pub async fn rebuild(&mut self) -> anyhow::Result<Replay> {
        if let Some(host) = self.sharing.take() {
            host.shutdown().await?;
        }
        let started = Instant::now();
        let db = minzheng_bus::connect_any(
            &self.sharing_db.url,
            minzheng_eventstore::DEFAULT_ACQUIRE_TIMEOUT,
        )
        .await?;
        rebuild::reset(&db, Some((&self.client, &self.prefix))).await?;
        db.close().await;
        let host = start_host(sharing_module(), &self.sharing_db, &self.prefix).await?;
        self.applied(&host).await?;
        let elapsed = started.elapsed();
        self.sharing = Some(host);
        self.check_deaths().await?;
        Ok(Replay {
            events: self.events,
            elapsed,
        })
    }

    /// Waits until `host` has applied everything, printing what is left now and then.
    async fn applied(&self, host: &RunningHost) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut printed = started;
        loop {
            match settled_once(host, started + BACKLOG_DEADLINE).await? {
                true => return Ok(()),
                false if printed.elapsed() >= PROGRESS_EVERY => {
                    printed = Instant::now();
                    let left = rebuild::pending(&self.client, &self.prefix).await?;
                    eprintln!(
                        "bench: datasharing: {left} events left to apply ({:.0} s)",
                        started.elapsed().as_secs_f64()
                    );
                }
                false => {}
            }
        }
    }

    /// Every death recorded is in the projection (`ds_persons`).
    async fn check_deaths(&self) -> anyhow::Result<()> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&self.sharing_db.url)
            .await?;
        let died: i64 =
            sqlx::query_scalar("SELECT count(*) FROM ds_persons WHERE died_on IS NOT NULL")
                .fetch_one(&pool)
                .await?;
        pool.close().await;
        anyhow::ensure!(
            u64::try_from(died).ok() == Some(self.deaths),
            "{died} deaths projected of {} recorded",
            self.deaths
        );
        Ok(())
    }

    /// Stops both services and removes the streams of their bus prefix (the databases go with
    /// the value).
    pub async fn stop(self) -> anyhow::Result<()> {
        let Self {
            prefix,
            client,
            registry,
            sharing,
            registry_db,
            sharing_db,
            ..
        } = self;
        if let Some(host) = sharing {
            host.shutdown().await?;
        }
        registry.shutdown().await?;
        let js = jetstream::new(client);
        let mine = format!("{}_", prefix.to_ascii_uppercase());
        let names: Vec<String> = js.stream_names().try_collect().await?;
        for name in names.into_iter().filter(|n| n.starts_with(&mine)) {
            let _ = js.delete_stream(name).await;
        }
        drop((registry_db, sharing_db));
        Ok(())
    }
}

/// One look at whether `host` has settled: `Ok(false)` after a pause when it has not (before
/// `deadline`).
async fn settled_once(host: &RunningHost, deadline: Instant) -> anyhow::Result<bool> {
    match host.settle(Duration::ZERO).await {
        Ok(()) => Ok(true),
        Err(error) if Instant::now() >= deadline => Err(error),
        Err(_) => {
            tokio::time::sleep(SETTLE_POLL).await;
            Ok(false)
        }
    }
}

/// Waits until `host` has settled.
async fn settled(host: &RunningHost) -> anyhow::Result<()> {
    let deadline = Instant::now() + BACKLOG_DEADLINE;
    while !settled_once(host, deadline).await? {}
    Ok(())
}

/// The resident memory of this process, in MiB (Linux).
pub fn resident_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}
