//! The elderly-care service's figures (养老服务), each beside a raw baseline measured in the same
//! run:
//!
//! 1. `RecordAssessment` at 32 concurrent gRPC clients (distinct persons aged 60 or more, valid
//!    GB/T 42195-2022 item scores, each person's first assessment: one event to a new `elder-`
//!    stream), beside the event store's own 32-writer append of one event to a new stream
//!    ([`super::assistance::new_stream_appends`]), and beside the same through a pool of the
//!    service's size (target >= 0.5);
//! 2. `GetIndicators` (public, today) at 32 concurrent gRPC clients once the city is loaded:
//!    throughput beside a bare gRPC round trip to the same server (`grpc.health.v1.Health/Check`),
//!    and latency p50/p99 (target p99 under 10 ms); the same before the visit plans are opened,
//!    to tell what they cost;
//! 3. the memory (RSS) of the process hosting the service, at start and once everything is
//!    loaded (the bench's clients and the place-names service are in the same process: an upper
//!    bound).
//!
//! "Loaded" means, all through the service's API, before figure 2: 146 institutions
//! (`RegisterInstitution`, spread over Benxi's 49 townships) with 12,092 beds of which 3,725
//! (30.8%) nursing-type; the six counties' elderly population (`RecordElderlyPopulation`)
//! totalling 300,000; one capacity assessment (`RecordAssessment`) for each of those 300,000
//! persons (the assessments of figure 1 included); and a visit plan (`OpenVisitPlan`, every 30
//! days, opened over the last 37 days so that some are overdue but none escalated) for 30,000 of
//! them — what `GetIndicators` reads are the institutions, the population figures and the visit
//! plans; assessments are kept on the persons' streams only.
//!
//! The service runs distributed (PostgreSQL store, JetStream relay) on the test host, as
//! `minzheng eldercare` runs it, beside the real place-names service with Benxi's divisions.
//! Sizes come from the environment (see [`Sizes`]), for a quick run.

use std::{
    collections::BTreeMap,
    str::FromStr as _,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use minzheng_eldercare::assessment::{
    BASIC_MOTOR_ITEMS, Item, MENTAL_STATE_ITEMS, PERCEPTION_ITEMS, SELF_CARE_ITEMS,
};
use minzheng_eventstore::{
    SharedStore, Upcasters,
    postgres::{self, PostgresStore},
};
use minzheng_host::testing::{TestHost, token};
use minzheng_kit::{auth::Role, clock::FixedClock};
use minzheng_proto::{
    common::v1 as common,
    eldercare::v1::{self as pb, elder_care_service_client::ElderCareServiceClient},
};
use minzheng_testkit::TestDatabase;
use minzheng_types::CitizenId;
use secrecy::SecretString;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use time::{Date, macros::date};
use tonic::{
    Request,
    metadata::{Ascii, MetadataValue},
    transport::Channel,
};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use uuid::Uuid;

use super::{
    assistance::new_stream_appends,
    datasharing::resident_mib,
    driver::{Latency, Senders, Sent, drive, latency, median, with_token},
    report::{Figure, Measurement},
};

/// The section's name, in its progress lines.
const SECTION: &str = "eldercare";

/// The key of the persons' pseudonyms (at least 32 bytes).
const PSEUDONYM_KEY: &str = "eldercare-bench-pseudonym-key-32-bytes!!";
/// The service's today (its fixed clock).
pub const DAY: Date = date!(2026 - 04 - 10);
/// The day every institution was registered (after Benxi's divisions' validity).
const REGISTERED_ON: Date = date!(2024 - 01 - 01);
/// Benxi.
const BENXI_CITY: &str = "210500000000";
/// Concurrent gRPC clients of every figure.
pub const CLIENTS: usize = 32;
/// Figure 1's target ratio, figure 2's p99 target.
const ASSESSMENT_TARGET_RATIO: f64 = 0.5;
const INDICATORS_P99_TARGET_MS: f64 = 10.0;
/// Days between visits of a plan, and the days over which plans were opened (a plan opened more
/// than `VISIT_INTERVAL_DAYS` ago is overdue by up to 6 days: under the escalation delay of 7,
/// so the escalation sweep writes nothing while the bench runs).
const VISIT_INTERVAL_DAYS: u32 = 30;
const OPENED_OVER_DAYS: usize = 37;
/// Persons per birth day: person `i` is born `i % BIRTH_DAYS` days after [`FIRST_BIRTH`] (aged 62
/// to 90 on [`DAY`]), with the sequence number `1 + i / BIRTH_DAYS`.
const BIRTH_DAYS: usize = 10_000;
const FIRST_BIRTH: Date = date!(1936 - 01 - 01);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// The sizes of the section, each from an environment variable.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// `MZ_BENCH_ELDERCARE_PERSONS` (default 300,000): the elderly persons loaded — the counties'
    /// population figures total them, and each is assessed once.
    pub persons: usize,
    /// `MZ_BENCH_ELDERCARE_VISIT_PLANS` (default a tenth of the persons): the persons with an
    /// open visit plan.
    pub visit_plans: usize,
    /// `MZ_BENCH_ELDERCARE_INSTITUTIONS` (default 146).
    pub institutions: usize,
    /// `MZ_BENCH_ELDERCARE_BEDS` (default 12,092): the institutions' beds, all types.
    pub beds: usize,
    /// `MZ_BENCH_ELDERCARE_NURSING_BEDS` (default 3,725, 30.8% of the beds): of them,
    /// nursing-type.
    pub nursing_beds: usize,
    /// `MZ_BENCH_ELDERCARE_ASSESSMENTS` (default 20,000): assessments per round of figure 1,
    /// and as many appends per round of its baselines. Seconds a side, so that a round measures
    /// the steady rate: rounds of 2,000 lasted a fifth of a second for the baseline, whose rate
    /// then moved between 6,200 and 12,000/s from run to run.
    pub assessments: usize,
    /// `MZ_BENCH_ELDERCARE_ROUNDS` (default 3): interleaved rounds of figure 1 and of figure 2's
    /// calls.
    pub rounds: usize,
    /// `MZ_BENCH_ELDERCARE_QUERY_SECONDS` (default 5): how long each round of a call of figure 2
    /// runs.
    pub query_seconds: u64,
}

impl Sizes {
    pub fn from_env() -> Self {
        let persons = env_usize("MZ_BENCH_ELDERCARE_PERSONS", 300_000).max(1);
        let beds = env_usize("MZ_BENCH_ELDERCARE_BEDS", 12_092);
        let rounds = env_usize("MZ_BENCH_ELDERCARE_ROUNDS", 3).max(1);
        Self {
            persons,
            visit_plans: env_usize("MZ_BENCH_ELDERCARE_VISIT_PLANS", persons / 10).min(persons),
            institutions: env_usize("MZ_BENCH_ELDERCARE_INSTITUTIONS", 146).max(1),
            beds,
            nursing_beds: env_usize("MZ_BENCH_ELDERCARE_NURSING_BEDS", 3_725).min(beds),
            // The rounds' assessments are among the persons.
            assessments: env_usize("MZ_BENCH_ELDERCARE_ASSESSMENTS", 20_000)
                .clamp(CLIENTS, (persons / rounds).max(CLIENTS)),
            rounds,
            query_seconds: env_usize("MZ_BENCH_ELDERCARE_QUERY_SECONDS", 5).max(1) as u64,
        }
    }
}

/// One of Benxi's townships, from the place-names seed.
#[derive(Debug, Clone)]
struct Township {
    code: String,
    name: String,
}

impl Township {
    fn county(&self) -> String {
        format!("{}000000", &self.code[..6])
    }
}

/// Benxi's township-level divisions, in the seed's order.
fn townships() -> Vec<Township> {
    minzheng_placenames::BENXI
        .csv
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (fields.len() >= 3 && fields[2].trim() == "township").then(|| Township {
                code: fields[0].trim().to_owned(),
                name: fields[1].trim().to_owned(),
            })
        })
        .collect()
}

/// The `i`-th of `parts` near-equal shares of `total`.
fn share(total: usize, parts: usize, i: usize) -> usize {
    total / parts + usize::from(i < total % parts)
}

fn region(code: &str) -> Option<common::RegionCode> {
    Some(common::RegionCode {
        code: code.to_owned(),
    })
}

fn metadata() -> Option<common::CommandMetadata> {
    Some(common::CommandMetadata {
        idempotency_key: Uuid::now_v7().to_string(),
        correlation_id: String::new(),
    })
}

/// The `authorization` value of a test-host token for `roles` in Benxi.
fn bearer(roles: &[Role]) -> anyhow::Result<MetadataValue<Ascii>> {
    Ok(format!("Bearer {}", token(roles, &[BENXI_CITY])).parse()?)
}
/// The generated city: who lives where.
#[derive(Debug, Clone)]
struct City {
    townships: Arc<Vec<Township>>,
}

impl City {
    fn new() -> anyhow::Result<Self> {
        let townships = townships();
        anyhow::ensure!(!townships.is_empty(), "Benxi's seed lists no township");
        Ok(Self {
            townships: Arc::new(townships),
        })
    }

    fn township_of(&self, person: usize) -> &Township {
        &self.townships[person % self.townships.len()]
    }

    /// Person `i`: registered in their township's county, aged 62 to 90 on [`DAY`].
    fn citizen(&self, i: usize) -> anyhow::Result<common::CitizenRef> {
        let township = self.township_of(i);
        let born = FIRST_BIRTH + time::Duration::days(i64::try_from(i % BIRTH_DAYS)?);
        let sequence = u16::try_from(1 + i / BIRTH_DAYS)?;
        anyhow::ensure!(sequence <= 999, "too many persons for distinct citizen ids");
        let id = CitizenId::from_parts(&township.code[..6], born, sequence)?;
        Ok(common::CitizenRef {
            citizen_id: id.expose().to_owned(),
        })
    }

    /// The elderly persons of each county among the first `persons`.
    fn population(&self, persons: usize) -> BTreeMap<String, usize> {
        let mut counties = BTreeMap::new();
        let n = self.townships.len();
        for (t, township) in self.townships.iter().enumerate() {
            // Persons t, t + n, t + 2n, … live in township t.
            let here = persons / n + usize::from(t < persons % n);
            *counties.entry(township.county()).or_insert(0) += here;
        }
        counties
    }

    /// Person `i`'s assessment: every item's score drawn in its range (the same each run).
    fn assessment(&self, i: usize) -> anyhow::Result<pb::RecordAssessmentRequest> {
        let mut x = 0x9E37_79B9_7F4A_7C15_u64 ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D);
        let mut scores = |items: &[Item]| -> Vec<u32> {
            items
                .iter()
                .map(|item| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x % (u64::from(item.max) + 1)) as u32
                })
                .collect()
        };
        Ok(pb::RecordAssessmentRequest {
            metadata: metadata(),
            person: Some(self.citizen(i)?),
            scores: Some(pb::AssessmentScores {
                self_care: scores(&SELF_CARE_ITEMS),
                basic_motor: scores(&BASIC_MOTOR_ITEMS),
                mental_state: scores(&MENTAL_STATE_ITEMS),
                perception: scores(&PERCEPTION_ITEMS),
            }),
            adjustments: None,
            assessor: "本溪市老年人能力评估中心".into(),
            assessed_on: Some(DAY.into()),
            division: region(&self.township_of(i).code),
            reassessment_due_on: None,
        })
    }

    /// Person `i`'s visit plan, opened `i % 37` days before [`DAY`].
    fn visit_plan(&self, i: usize) -> anyhow::Result<pb::OpenVisitPlanRequest> {
        let difficulty = match i % 4 {
            0 | 1 => pb::DifficultyKind::LivingAlone,
            2 => pb::DifficultyKind::LeftBehind,
            _ => pb::DifficultyKind::Disabled,
        };
        Ok(pb::OpenVisitPlanRequest {
            metadata: metadata(),
            person: Some(self.citizen(i)?),
            difficulties: vec![difficulty.into()],
            interval_days: VISIT_INTERVAL_DAYS,
            township: region(&self.township_of(i).code),
            opened_on: Some(
                (DAY - time::Duration::days(i64::try_from(i % OPENED_OVER_DAYS)?)).into(),
            ),
        })
    }
}

/// The place-names service (Benxi's divisions) and the elderly-care service, distributed, once
/// the service knows the divisions.
#[derive(Debug)]
pub struct Service {
    host: TestHost,
}

impl Service {
    pub async fn start() -> anyhow::Result<Self> {
        let host = TestHost::distributed()
            .service(minzheng_placenames::Module::default().with_seed(minzheng_placenames::BENXI))
            .service(
                minzheng_eldercare::Module::new(SecretString::from(PSEUDONYM_KEY))
                    .with_clock(Arc::new(FixedClock::new(DAY))),
            )
            .start()
            .await;
        host.settle().await;
        Ok(Self { host })
    }

    /// One HTTP/2 connection to the service, shared by the clients (as in the other sections).
    async fn channel(&self) -> anyhow::Result<Channel> {
        super::driver::channel(&self.host, "eldercare").await
    }

    pub async fn stop(self) {
        self.host.shutdown().await;
    }
}

/// Records the assessments of persons `range` at `clients` clients.
async fn assess(
    channel: &Channel,
    city: &City,
    range: std::ops::Range<usize>,
    clients: usize,
    progress: Option<&'static str>,
) -> anyhow::Result<Sent> {
    let city = city.clone();
    drive(
        Senders {
            section: SECTION,
            client: ElderCareServiceClient::new(channel.clone()),
            clients,
            token: bearer(&[Role::Caseworker])?,
            progress,
        },
        range,
        move |i| city.assessment(i),
        |mut client, request| async move {
            let answer = client.record_assessment(request).await?.into_inner();
            anyhow::ensure!(
                answer.level != 0 && !answer.elder_id.is_empty(),
                "no level derived: {answer:?}"
            );
            Ok(answer.result.map_or(0, |r| r.position))
        },
    )
    .await
}

/// Opens the visit plans of persons `range` at `clients` clients.
async fn open_plans(
    channel: &Channel,
    city: &City,
    range: std::ops::Range<usize>,
    clients: usize,
) -> anyhow::Result<Sent> {
    let city = city.clone();
    drive(
        Senders {
            section: SECTION,
            client: ElderCareServiceClient::new(channel.clone()),
            clients,
            token: bearer(&[Role::Caseworker])?,
            progress: Some("OpenVisitPlan"),
        },
        range,
        move |i| city.visit_plan(i),
        |mut client, request| async move {
            let answer = client.open_visit_plan(request).await?.into_inner();
            Ok(answer.result.map_or(0, |r| r.position))
        },
    )
    .await
}

/// Registers the institutions, spread over the townships, their beds shared out; answers the
/// highest store position.
async fn register_institutions(
    channel: &Channel,
    city: &City,
    sizes: &Sizes,
) -> anyhow::Result<u64> {
    let mut client = ElderCareServiceClient::new(channel.clone());
    let caseworker = bearer(&[Role::Caseworker])?;
    let general = sizes.beds - sizes.nursing_beds;
    let mut position = 0;
    for i in 0..sizes.institutions {
        let township = city.township_of(i);
        let ownership = match i % 3 {
            0 => pb::Ownership::Public,
            1 => pb::Ownership::Private,
            _ => pb::Ownership::PublicBuiltPrivatelyRun,
        };
        let answer = client
            .register_institution(with_token(
                pb::RegisterInstitutionRequest {
                    metadata: metadata(),
                    name: format!("{}养老院（{}）", township.name, i + 1),
                    ownership: ownership.into(),
                    county: region(&township.county()),
                    division: region(&township.code),
                    registered_on: Some(REGISTERED_ON.into()),
                    general_beds: u32::try_from(share(general, sizes.institutions, i))?,
                    nursing_beds: u32::try_from(share(sizes.nursing_beds, sizes.institutions, i))?,
                },
                &caseworker,
            ))
            .await
            .with_context(|| format!("institution {i} in {}", township.code))?
            .into_inner();
        position = position.max(answer.result.map_or(0, |r| r.position));
    }
    Ok(position)
}

/// Records each county's elderly population among the first `persons`; answers the highest
/// store position.
async fn record_population(channel: &Channel, city: &City, persons: usize) -> anyhow::Result<u64> {
    let mut client = ElderCareServiceClient::new(channel.clone());
    let approver = bearer(&[Role::Approver])?;
    let mut position = 0;
    for (county, count) in city.population(persons) {
        let answer = client
            .record_elderly_population(with_token(
                pb::RecordElderlyPopulationRequest {
                    metadata: metadata(),
                    county: region(&county),
                    persons: u32::try_from(count)?,
                    as_of: Some(date!(2025 - 12 - 31).into()),
                    source: "本溪市统计局 2025年末60周岁以上户籍人口".into(),
                },
                &approver,
            ))
            .await
            .with_context(|| format!("the population of {county}"))?
            .into_inner();
        position = position.max(answer.result.map_or(0, |r| r.position));
    }
    Ok(position)
}

/// The indicators once the read model has applied `position`: checks they count what was loaded.
async fn check_indicators(
    channel: &Channel,
    position: u64,
    sizes: &Sizes,
    persons: usize,
    plans: usize,
) -> anyhow::Result<pb::RegionIndicators> {
    let mut request = Request::new(pb::GetIndicatorsRequest {
        as_of: None,
        read: Some(common::ReadOptions {
            min_position: position,
        }),
    });
    request.set_timeout(Duration::from_secs(120));
    let city = ElderCareServiceClient::new(channel.clone())
        .get_indicators(request)
        .await?
        .into_inner()
        .city
        .context("no city-wide indicators")?;
    let expected = (
        sizes.institutions,
        sizes.beds - sizes.nursing_beds,
        sizes.nursing_beds,
        persons,
        plans,
    );
    let got = (
        city.institutions as usize,
        city.general_beds as usize,
        city.nursing_beds as usize,
        city.elderly_population as usize,
        city.visit_plans as usize,
    );
    anyhow::ensure!(
        got == expected,
        "the indicators count (institutions, general, nursing, elderly, plans) {got:?}, not \
         {expected:?}"
    );
    Ok(city)
}

/// The call each client of figure 2 makes in a loop, without a token (both are public).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    /// `grpc.health.v1.Health/Check` of the server: the bare gRPC round trip.
    HealthCheck,
    /// `GetIndicators` for today.
    GetIndicators,
}

/// `clients` concurrent clients calling `call` back to back for `duration`.
async fn query(
    channel: &Channel,
    call: Call,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Latency> {
    let start = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let runs: Vec<_> = (0..clients)
        .map(|_| {
            let mut health = HealthClient::new(channel.clone());
            let mut care = ElderCareServiceClient::new(channel.clone())
                .max_decoding_message_size(16 * 1024 * 1024);
            let start = start.clone();
            tokio::spawn(async move {
                let mut histogram = hdrhistogram::Histogram::<u64>::new(3)?;
                start.wait().await;
                let deadline = Instant::now() + duration;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    match call {
                        Call::HealthCheck => {
                            health
                                .check(HealthCheckRequest {
                                    service: String::new(),
                                })
                                .await?;
                        }
                        Call::GetIndicators => {
                            let answer = care
                                .get_indicators(pb::GetIndicatorsRequest {
                                    as_of: None,
                                    read: None,
                                })
                                .await?
                                .into_inner();
                            anyhow::ensure!(answer.city.is_some(), "no indicators");
                        }
                    }
                    let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                    histogram.record(micros.max(1))?;
                }
                anyhow::Ok((histogram, Instant::now()))
            })
        })
        .collect();
    start.wait().await;
    latency(Instant::now(), runs).await
}

fn measurement(name: String, value: f64, unit: &'static str) -> Measurement {
    Measurement {
        name,
        value,
        unit,
        target: None,
    }
}

/// Interleaved rounds of the health check and `GetIndicators`; the medians of each.
async fn query_rounds(channel: &Channel, sizes: &Sizes) -> anyhow::Result<(Latency, Latency)> {
    let duration = Duration::from_secs(sizes.query_seconds);
    let (mut health, mut indicators) = (Vec::new(), Vec::new());
    for _ in 0..sizes.rounds {
        health.push(query(channel, Call::HealthCheck, CLIENTS, duration).await?);
        indicators.push(query(channel, Call::GetIndicators, CLIENTS, duration).await?);
    }
    let medians = |runs: &[Latency]| Latency {
        rate: median(runs.iter().map(|l| l.rate).collect()),
        p50_ms: median(runs.iter().map(|l| l.p50_ms).collect()),
        p99_ms: median(runs.iter().map(|l| l.p99_ms).collect()),
    };
    Ok((medians(&health), medians(&indicators)))
}

/// The section: see the [module documentation](self).
pub async fn section(
    figures: &mut Vec<Figure>,
    measurements: &mut Vec<Measurement>,
) -> anyhow::Result<()> {
    let sizes = Sizes::from_env();
    eprintln!("bench: eldercare: {sizes:?}");
    let city = City::new()?;
    let service = Service::start().await?;
    let channel = service.channel().await?;
    let memory_at_start = resident_mib();

    eprintln!(
        "bench: eldercare: {} institutions, {} beds ({} nursing-type), the counties' elderly \
         population of {} (not timed)",
        sizes.institutions, sizes.beds, sizes.nursing_beds, sizes.persons
    );
    let mut position = register_institutions(&channel, &city, &sizes).await?;
    position = position.max(record_population(&channel, &city, sizes.persons).await?);

    // Figure 1, beside the store's appends to new streams in a database of its own on the same
    // server: through the other sections' pool size, and through a pool of the service's.
    let db = TestDatabase::create().await;
    let options = PgConnectOptions::from_str(&db.url)?;
    let big_pool = PgPoolOptions::new()
        .max_connections(40)
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await?;
    let small_pool = PgPoolOptions::new()
        .max_connections(postgres::DEFAULT_MAX_CONNECTIONS)
        .test_before_acquire(false)
        .connect_with(options)
        .await?;
    let store: SharedStore =
        Arc::new(PostgresStore::from_pool(big_pool.clone(), Upcasters::new()).await?);
    let small_store: SharedStore =
        Arc::new(PostgresStore::from_pool(small_pool.clone(), Upcasters::new()).await?);
    eprintln!(
        "bench: eldercare: RecordAssessment, {CLIENTS} clients ({} interleaved rounds of {}, \
         medians)",
        sizes.rounds, sizes.assessments
    );
    let per_writer = sizes.assessments.div_ceil(CLIENTS);
    let (mut base, mut small, mut ours) = (Vec::new(), Vec::new(), Vec::new());
    let mut assessed = 0;
    for round in 0..sizes.rounds {
        base.push(new_stream_appends(&store, &format!("ec{round}x"), CLIENTS, per_writer).await?);
        small.push(
            new_stream_appends(&small_store, &format!("ecp{round}x"), CLIENTS, per_writer).await?,
        );
        let count = sizes.assessments.min(sizes.persons - assessed);
        let sent = assess(&channel, &city, assessed..assessed + count, CLIENTS, None).await?;
        assessed += count;
        position = position.max(sent.position);
        ours.push(sent.rate);
    }
    small_pool.close().await;
    big_pool.close().await;
    drop((store, small_store, db));
    let ours = median(ours);
    figures.push(Figure {
        name: format!("RecordAssessment, {CLIENTS} gRPC clients"),
        value: ours,
        unit: "/s",
        baseline_name: format!("store append, {CLIENTS} wr., new stream each"),
        baseline: median(base),
        target_ratio: Some(ASSESSMENT_TARGET_RATIO),
    });
    figures.push(Figure {
        name: "  (same, beside a pool of the service's size)".to_owned(),
        value: ours,
        unit: "/s",
        baseline_name: format!(
            "same, pool of {} connections",
            postgres::DEFAULT_MAX_CONNECTIONS
        ),
        baseline: median(small),
        target_ratio: None,
    });

    // The rest of the persons, then the indicators before any visit plan.
    let rest = sizes.persons - assessed;
    eprintln!(
        "bench: eldercare: loading the assessments of the other {rest} persons at {CLIENTS} \
         clients (not timed as a figure)"
    );
    let began = Instant::now();
    let sent = assess(
        &channel,
        &city,
        assessed..sizes.persons,
        CLIENTS,
        Some("RecordAssessment"),
    )
    .await?;
    let loading = began.elapsed();
    position = position.max(sent.position);
    eprintln!(
        "bench: eldercare: {rest} assessments in {:.0} s ({:.0}/s)",
        loading.as_secs_f64(),
        sent.rate
    );
    if rest >= 1_000 {
        measurements.push(measurement(
            format!("eldercare load: RecordAssessment, {CLIENTS} clients"),
            sent.rate,
            "/s",
        ));
    }
    check_indicators(&channel, position, &sizes, sizes.persons, 0).await?;
    eprintln!(
        "bench: eldercare: GetIndicators without visit plans, {CLIENTS} clients ({} rounds of {} \
         s)",
        sizes.rounds, sizes.query_seconds
    );
    let (_, without_plans) = query_rounds(&channel, &sizes).await?;

    eprintln!(
        "bench: eldercare: opening {} visit plans at {CLIENTS} clients (not timed as a figure)",
        sizes.visit_plans
    );
    let sent = open_plans(&channel, &city, 0..sizes.visit_plans, CLIENTS).await?;
    position = position.max(sent.position);
    measurements.push(measurement(
        format!("eldercare load: OpenVisitPlan, {CLIENTS} clients"),
        sent.rate,
        "/s",
    ));
    let indicators =
        check_indicators(&channel, position, &sizes, sizes.persons, sizes.visit_plans).await?;
    eprintln!(
        "bench: eldercare: loaded: {} institutions, {} + {} beds ({}‰ nursing), elderly \
         population {}, {} persons assessed, {} open visit plans ({}‰ on time)",
        indicators.institutions,
        indicators.general_beds,
        indicators.nursing_beds,
        indicators.nursing_share_permille,
        indicators.elderly_population,
        sizes.persons,
        indicators.visit_plans,
        indicators.visit_compliance_permille
    );
    let memory = resident_mib();

    eprintln!(
        "bench: eldercare: GetIndicators beside the health check, {CLIENTS} clients ({} \
         interleaved rounds of {} s, medians)",
        sizes.rounds, sizes.query_seconds
    );
    let (health, loaded) = query_rounds(&channel, &sizes).await?;
    service.stop().await;

    figures.push(Figure {
        name: format!("GetIndicators, {CLIENTS} gRPC clients"),
        value: loaded.rate,
        unit: "/s",
        baseline_name: format!("health Check, {CLIENTS} clients"),
        baseline: health.rate,
        target_ratio: None,
    });
    for (name, value, unit) in [
        (
            "eldercare loaded: institutions".to_owned(),
            f64::from(indicators.institutions),
            "",
        ),
        (
            "eldercare loaded: beds (30.8% nursing)".to_owned(),
            f64::from(indicators.general_beds + indicators.nursing_beds),
            "",
        ),
        (
            "eldercare loaded: elderly population".to_owned(),
            f64::from(indicators.elderly_population),
            "",
        ),
        (
            "eldercare loaded: persons assessed".to_owned(),
            sizes.persons as f64,
            "",
        ),
        (
            "eldercare loaded: open visit plans".to_owned(),
            f64::from(indicators.visit_plans),
            "",
        ),
        (
            format!("health Check p99, {CLIENTS} clients"),
            health.p99_ms,
            "ms",
        ),
        (
            format!("GetIndicators p99, no plans, {CLIENTS} clients"),
            without_plans.p99_ms,
            "ms",
        ),
        (
            format!("GetIndicators p50, {CLIENTS} clients"),
            loaded.p50_ms,
            "ms",
        ),
    ] {
        measurements.push(measurement(name, value, unit));
    }
    measurements.push(Measurement {
        name: format!("GetIndicators p99, {CLIENTS} clients"),
        value: loaded.p99_ms,
        unit: "ms",
        target: Some((
            format!("< {INDICATORS_P99_TARGET_MS:.0} ms"),
            loaded.p99_ms < INDICATORS_P99_TARGET_MS,
        )),
    });
    measurements.push(measurement(
        "memory of the bench process, eldercare started".to_owned(),
        memory_at_start,
        "MiB",
    ));
    measurements.push(measurement(
        "  (same, once the city is loaded)".to_owned(),
        memory,
        "MiB",
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn persons_are_distinct_elderly_and_validly_assessed() {
        let city = City::new().unwrap();
        assert_eq!(city.townships.len(), 49);
        let mut seen = HashSet::new();
        for i in (0..300_000).step_by(7) {
            let citizen = city.citizen(i).unwrap();
            let id = CitizenId::parse(&citizen.citizen_id).unwrap();
            assert!(DAY.year() - id.birth_date().year() > 60);
            assert!(seen.insert(citizen.citizen_id));
            let scores = city.assessment(i).unwrap().scores.unwrap();
            for (values, items) in [
                (&scores.self_care, &SELF_CARE_ITEMS[..]),
                (&scores.basic_motor, &BASIC_MOTOR_ITEMS[..]),
                (&scores.mental_state, &MENTAL_STATE_ITEMS[..]),
                (&scores.perception, &PERCEPTION_ITEMS[..]),
            ] {
                assert_eq!(values.len(), items.len());
                assert!(
                    values
                        .iter()
                        .zip(items)
                        .all(|(v, i)| *v <= u32::from(i.max))
                );
            }
        }
        assert_eq!(city.population(300_000).values().sum::<usize>(), 300_000);
        assert_eq!(city.population(300_000).len(), 6);
    }
}
