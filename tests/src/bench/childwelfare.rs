//! The child-welfare service's figures (儿童福利与未成年人保护), each beside a raw baseline
//! measured in the same run:
//!
//! 1. `FileReport` at 32 concurrent gRPC clients (a teacher's mandatory report, each call with
//!    its own idempotency key, so each opens a new case: one event to a new stream, the reporter
//!    sealed), beside the event store's own 32-writer append of one event to a new stream
//!    ([`super::assistance::new_stream_appends`]), and beside the same through a pool of the
//!    service's size (target >= 0.5);
//! 2. `ListCases` of 平山区 (a page of 100 of its open cases, and a page of its overdue cases
//!    only) once the children and the cases are loaded: latency p50/p99 at 32 concurrent gRPC
//!    clients, beside a bare gRPC round trip to the same server with the same token
//!    (`grpc.health.v1.Health/Check`) (target p99 under 10 ms); the same at one client, to tell
//!    the query's own time from the queueing of 32 clients on one machine;
//! 3. the memory (RSS) of the process hosting the service, at start and once loaded (the bench's
//!    clients are in the same process: an upper bound).
//!
//! "Loaded" means, all through the service's API, before figure 2: 50,000 children identified
//! (`IdentifyChild`, orphans in family care, both parents' deaths registered by the civil
//! registry, spread over five communities of 平山街道), and 5,000 open protection cases
//! (`FileReport`, the reports of figure 1 among them, reported over the last eight days at the
//! three risk levels, so that some are overdue on today). The children are not what
//! `ListCases` reads, but they are in the read model it reads.
//!
//! The service runs distributed (PostgreSQL store, JetStream relay) on the test host, as
//! `minzheng childwelfare` runs it, beside a stand-in of the place-names service recording a few
//! of Benxi's divisions and silent stand-ins of the civil registry and the data-sharing service.
//! Its escalation sweep runs at start (nothing to escalate) and then every ten minutes: the
//! section, at its default sizes, is over well before the second pass, so no escalation is
//! written while it measures. Sizes come from the environment (see [`Sizes`]), for a quick run.

use std::{
    str::FromStr as _,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use minzheng_eventstore::{
    SharedStore, Upcasters,
    postgres::{self, PostgresStore},
};
use minzheng_host::testing::{
    PlaceNamesStandIn, ProducerStandIn, StandInDivision, TestHost, token,
};
use minzheng_kit::{auth::Role, clock::FixedClock};
use minzheng_proto::{
    childwelfare::v1::{self as pb, child_welfare_service_client::ChildWelfareServiceClient},
    common::v1 as common,
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
const SECTION: &str = "childwelfare";

/// The keys of the children's pseudonyms and of the reporters' sealing (at least 32 bytes
/// each, distinct).
const PSEUDONYM_KEY: &str = "childwelfare-bench-pseudonym-key-32-bytes";
const REPORTER_KEY: &str = "childwelfare-bench-reporter-key-32-bytes!";
/// The service's today (its fixed clock).
pub const DAY: Date = date!(2026 - 04 - 10);
/// The day the stand-in's divisions are valid from.
const DIVISIONS_VALID_FROM: Date = date!(2020 - 01 - 01);
const LIAONING: &str = "210000000000";
const BENXI_CITY: &str = "210500000000";
/// 平山区: the scope of every token and the region every list asks for.
const PINGSHAN: &str = "210502000000";
const PINGSHAN_STREET: &str = "210502001000";
/// The communities the children live in.
const COMMUNITIES: [&str; 5] = [
    "210502001001",
    "210502001002",
    "210502001003",
    "210502001004",
    "210502001005",
];
/// What the place-names stand-in records.
const DIVISIONS: [StandInDivision; 8] = [
    (BENXI_CITY, "本溪市", common::RegionLevel::City, LIAONING),
    (PINGSHAN, "平山区", common::RegionLevel::County, BENXI_CITY),
    (
        PINGSHAN_STREET,
        "平山街道",
        common::RegionLevel::Township,
        PINGSHAN,
    ),
    (
        COMMUNITIES[0],
        "平山社区",
        common::RegionLevel::Village,
        PINGSHAN_STREET,
    ),
    (
        COMMUNITIES[1],
        "北台社区",
        common::RegionLevel::Village,
        PINGSHAN_STREET,
    ),
    (
        COMMUNITIES[2],
        "胜利社区",
        common::RegionLevel::Village,
        PINGSHAN_STREET,
    ),
    (
        COMMUNITIES[3],
        "站前社区",
        common::RegionLevel::Village,
        PINGSHAN_STREET,
    ),
    (
        COMMUNITIES[4],
        "千金社区",
        common::RegionLevel::Village,
        PINGSHAN_STREET,
    ),
];
/// Concurrent gRPC clients of every figure and of the loads.
pub const CLIENTS: usize = 32;
/// Figure 1's target ratio, figure 2's p99 target.
const REPORT_TARGET_RATIO: f64 = 0.5;
const LIST_P99_TARGET_MS: f64 = 10.0;
/// The page `ListCases` is asked for.
const PAGE_SIZE: u32 = 100;
/// Children per birth day: child `i` is born `i % BIRTH_DAYS` days after [`FIRST_BIRTH`] (aged
/// 2 to 16 on [`DAY`]), with the sequence number `1 + i / BIRTH_DAYS`.
const BIRTH_DAYS: usize = 5_000;
const FIRST_BIRTH: Date = date!(2010 - 01 - 01);
/// Report `i` is made `i % REPORTED_OVER_DAYS` days before [`DAY`]: with the emergency-handling
/// limits of 0, 1 and 3 days, a good share of the cases is overdue on today.
const REPORTED_OVER_DAYS: usize = 8;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// The sizes of the section, each from an environment variable.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// `MZ_BENCH_CHILDWELFARE_CHILDREN` (default 50,000): the children identified.
    pub children: usize,
    /// `MZ_BENCH_CHILDWELFARE_CASES` (default 5,000): the open cases when figure 2 is measured,
    /// figure 1's reports among them (so at least as many as those).
    pub cases: usize,
    /// `MZ_BENCH_CHILDWELFARE_REPORTS` (default 4,000): the reports of figure 1, shared out
    /// over its rounds.
    pub reports: usize,
    /// `MZ_BENCH_CHILDWELFARE_ROUNDS` (default 3): interleaved rounds of figure 1 and of
    /// figure 2's calls.
    pub rounds: usize,
    /// `MZ_BENCH_CHILDWELFARE_QUERIES` (default 2,000): calls of each kind in each round of
    /// figure 2, at each number of clients.
    pub queries: usize,
}

impl Sizes {
    pub fn from_env() -> Self {
        let rounds = env_usize("MZ_BENCH_CHILDWELFARE_ROUNDS", 3).max(1);
        // Every round gives each client at least one report.
        let reports = env_usize("MZ_BENCH_CHILDWELFARE_REPORTS", 4_000).max(CLIENTS * rounds);
        Self {
            children: env_usize("MZ_BENCH_CHILDWELFARE_CHILDREN", 50_000).max(1),
            cases: env_usize("MZ_BENCH_CHILDWELFARE_CASES", 5_000).max(reports),
            reports,
            rounds,
            queries: env_usize("MZ_BENCH_CHILDWELFARE_QUERIES", 2_000).max(CLIENTS),
        }
    }
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

/// The `authorization` value of a caseworker of 平山区.
fn caseworker() -> anyhow::Result<MetadataValue<Ascii>> {
    Ok(format!("Bearer {}", token(&[Role::Caseworker], &[PINGSHAN])).parse()?)
}
/// Child `i`: registered in 平山区, aged 2 to 16 on [`DAY`].
fn child(i: usize) -> anyhow::Result<common::CitizenRef> {
    let born = FIRST_BIRTH + time::Duration::days(i64::try_from(i % BIRTH_DAYS)?);
    let sequence = u16::try_from(1 + i / BIRTH_DAYS)?;
    anyhow::ensure!(
        sequence <= 999,
        "too many children for distinct citizen ids"
    );
    let id = CitizenId::from_parts(&PINGSHAN[..6], born, sequence)?;
    Ok(common::CitizenRef {
        citizen_id: id.expose().to_owned(),
    })
}

/// Child `i`'s community.
fn community(i: usize) -> &'static str {
    COMMUNITIES[i % COMMUNITIES.len()]
}

/// Child `i`'s identification on [`DAY`]: an orphan (both parents' deaths registered by the
/// civil registry) in family care.
fn identification(i: usize) -> anyhow::Result<pb::IdentifyChildRequest> {
    let dead = || {
        Some(pb::ParentFact {
            situation: pb::ParentSituation::Dead.into(),
            source: Some(pb::FactSource {
                kind: pb::FactSourceKind::CivilRegistrationDeath.into(),
                reference: format!("本溪市平山区民政局 死亡登记 {i}"),
            }),
        })
    };
    Ok(pb::IdentifyChildRequest {
        metadata: metadata(),
        child: Some(child(i)?),
        division: region(community(i)),
        father: dead(),
        mother: dead(),
        identified_on: Some(DAY.into()),
        care: pb::ChildCareSetting::Family.into(),
        institution: String::new(),
    })
}

/// Report `i`: a teacher's, about child `i % children`, at one of the three risk levels, made
/// `i % REPORTED_OVER_DAYS` days before [`DAY`].
fn report(i: usize, children: usize) -> anyhow::Result<pb::FileReportRequest> {
    let about = i % children;
    let risk = match i % 3 {
        0 => pb::RiskLevel::Urgent,
        1 => pb::RiskLevel::High,
        _ => pb::RiskLevel::Normal,
    };
    Ok(pb::FileReportRequest {
        metadata: metadata(),
        child: Some(child(about)?),
        division: region(community(about)),
        risk: risk.into(),
        reporter_kind: pb::ReporterKind::Education.into(),
        reporter: Some(pb::Reporter {
            name: "李老师".to_owned(),
            phone: "13900001111".to_owned(),
            organisation: "本溪市平山区实验小学".to_owned(),
            role: "班主任".to_owned(),
        }),
        concern: "孩子身上多处伤痕，自述被父亲殴打".to_owned(),
        reported_on: Some(
            (DAY - time::Duration::days(i64::try_from(i % REPORTED_OVER_DAYS)?)).into(),
        ),
    })
}

/// The place-names stand-in and the child-welfare service, distributed, once the service knows
/// the divisions.
#[derive(Debug)]
pub struct Service {
    host: TestHost,
}

impl Service {
    pub async fn start() -> anyhow::Result<Self> {
        let host = TestHost::distributed()
            .service(PlaceNamesStandIn::new(&DIVISIONS, DIVISIONS_VALID_FROM))
            // The services whose events it follows, recording nothing: their streams exist, so
            // its consumers start as in production instead of retrying in the background.
            .service(ProducerStandIn::new("civilregistry"))
            .service(ProducerStandIn::new("datasharing"))
            .service(
                minzheng_childwelfare::Module::new(
                    SecretString::from(PSEUDONYM_KEY),
                    SecretString::from(REPORTER_KEY),
                )
                .with_clock(Arc::new(FixedClock::new(DAY))),
            )
            .start()
            .await;
        host.settle().await;
        Ok(Self { host })
    }

    /// One HTTP/2 connection to the service, shared by the clients (as in the other sections).
    async fn channel(&self) -> anyhow::Result<Channel> {
        super::driver::channel(&self.host, "childwelfare").await
    }

    pub async fn stop(self) {
        self.host.shutdown().await;
    }
}

/// Identifies children `range` at `clients` clients.
async fn identify(
    channel: &Channel,
    range: std::ops::Range<usize>,
    clients: usize,
) -> anyhow::Result<Sent> {
    drive(
        Senders {
            section: SECTION,
            client: ChildWelfareServiceClient::new(channel.clone()),
            clients,
            token: caseworker()?,
            progress: Some("IdentifyChild"),
        },
        range,
        identification,
        |mut client, request| async move {
            let answer = client.identify_child(request).await?.into_inner();
            anyhow::ensure!(
                answer.basis != 0 && !answer.child_id.is_empty(),
                "no basis: {answer:?}"
            );
            Ok(answer.result.map_or(0, |r| r.position))
        },
    )
    .await
}

/// Files reports `range` (about the first `children` children) at `clients` clients.
async fn file_reports(
    channel: &Channel,
    range: std::ops::Range<usize>,
    children: usize,
    clients: usize,
    progress: Option<&'static str>,
) -> anyhow::Result<Sent> {
    drive(
        Senders {
            section: SECTION,
            client: ChildWelfareServiceClient::new(channel.clone()),
            clients,
            token: caseworker()?,
            progress,
        },
        range,
        move |i| report(i, children),
        |mut client, request| async move {
            let answer = client.file_report(request).await?.into_inner();
            anyhow::ensure!(!answer.case_id.is_empty(), "no case: {answer:?}");
            Ok(answer.result.map_or(0, |r| r.position))
        },
    )
    .await
}

/// The city-wide indicators once the read model has applied `position`: checks they count the
/// children and the open cases loaded.
async fn check_indicators(
    channel: &Channel,
    position: u64,
    children: usize,
    cases: usize,
) -> anyhow::Result<pb::RegionIndicators> {
    let mut request = Request::new(pb::GetIndicatorsRequest {
        as_of: None,
        read: Some(common::ReadOptions {
            min_position: position,
        }),
    });
    request.set_timeout(Duration::from_secs(120));
    let city = ChildWelfareServiceClient::new(channel.clone())
        .get_indicators(request)
        .await?
        .into_inner()
        .city
        .context("no city-wide indicators")?;
    let got = (city.children_covered as usize, city.open_cases as usize);
    anyhow::ensure!(
        got == (children, cases),
        "the indicators count (children covered, open cases) {got:?}, not {:?}",
        (children, cases)
    );
    Ok(city)
}

/// The call each client of figure 2 makes in a loop, each with a caseworker's token of 平山区.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    /// `grpc.health.v1.Health/Check` of the server: the bare gRPC round trip.
    HealthCheck,
    /// `ListCases` of 平山区's open cases, today, the first page of 100.
    OpenCases,
    /// The same, overdue cases only.
    OverdueCases,
}

/// `clients` concurrent clients making `calls` calls of `call` between them, back to back;
/// each list must hold `page` cases.
async fn query(
    channel: &Channel,
    call: Call,
    clients: usize,
    calls: usize,
    page: (usize, usize),
) -> anyhow::Result<Latency> {
    let token = caseworker()?;
    let next = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let runs: Vec<_> = (0..clients)
        .map(|_| {
            let mut health = HealthClient::new(channel.clone());
            let mut cases = ChildWelfareServiceClient::new(channel.clone());
            let (next, start, token) = (next.clone(), start.clone(), token.clone());
            tokio::spawn(async move {
                let mut histogram = hdrhistogram::Histogram::<u64>::new(3)?;
                start.wait().await;
                while next.fetch_add(1, Ordering::Relaxed) < calls {
                    let sent = Instant::now();
                    match call {
                        Call::HealthCheck => {
                            health
                                .check(with_token(
                                    HealthCheckRequest {
                                        service: String::new(),
                                    },
                                    &token,
                                ))
                                .await?;
                        }
                        Call::OpenCases | Call::OverdueCases => {
                            let overdue_only = call == Call::OverdueCases;
                            let answer = cases
                                .list_cases(with_token(
                                    pb::ListCasesRequest {
                                        region: region(PINGSHAN),
                                        step: 0,
                                        overdue_only,
                                        as_of: None,
                                        page: Some(common::PageRequest {
                                            page_size: PAGE_SIZE,
                                            page_token: String::new(),
                                        }),
                                        read: None,
                                    },
                                    &token,
                                ))
                                .await?
                                .into_inner();
                            let expected = if overdue_only { page.1 } else { page.0 };
                            anyhow::ensure!(
                                answer.cases.len() == expected,
                                "{} cases listed, not {expected}",
                                answer.cases.len()
                            );
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

/// The medians, over the rounds, of each call at one number of clients.
#[derive(Debug, Clone, Copy)]
struct Calls {
    health: Latency,
    open: Latency,
    overdue: Latency,
}

/// Interleaved rounds of the three calls at one client and at [`CLIENTS`]; the medians of each.
async fn query_rounds(
    channel: &Channel,
    sizes: &Sizes,
    page: (usize, usize),
) -> anyhow::Result<(Calls, Calls)> {
    let calls = [Call::HealthCheck, Call::OpenCases, Call::OverdueCases];
    // runs[level][call]: the rounds' outcomes.
    let mut runs = vec![vec![Vec::new(); calls.len()]; 2];
    for _ in 0..sizes.rounds {
        for (level, clients) in [1, CLIENTS].into_iter().enumerate() {
            for (c, call) in calls.into_iter().enumerate() {
                runs[level][c].push(query(channel, call, clients, sizes.queries, page).await?);
            }
        }
    }
    let medians = |runs: &[Latency]| Latency {
        rate: median(runs.iter().map(|l| l.rate).collect()),
        p50_ms: median(runs.iter().map(|l| l.p50_ms).collect()),
        p99_ms: median(runs.iter().map(|l| l.p99_ms).collect()),
    };
    let level = |runs: &[Vec<Latency>]| Calls {
        health: medians(&runs[0]),
        open: medians(&runs[1]),
        overdue: medians(&runs[2]),
    };
    Ok((level(&runs[0]), level(&runs[1])))
}

/// The section: see the [module documentation](self).
pub async fn section(
    figures: &mut Vec<Figure>,
    measurements: &mut Vec<Measurement>,
) -> anyhow::Result<()> {
    let sizes = Sizes::from_env();
    eprintln!("bench: childwelfare: {sizes:?}");
    let service = Service::start().await?;
    let channel = service.channel().await?;
    let memory_at_start = resident_mib();

    eprintln!(
        "bench: childwelfare: identifying {} children at {CLIENTS} clients (not timed as a \
         figure)",
        sizes.children
    );
    let sent = identify(&channel, 0..sizes.children, CLIENTS).await?;
    let mut position = sent.position;
    eprintln!(
        "bench: childwelfare: {} children identified ({:.0}/s)",
        sizes.children, sent.rate
    );
    measurements.push(measurement(
        format!("childwelfare load: IdentifyChild, {CLIENTS} clients"),
        sent.rate,
        "/s",
    ));

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
        "bench: childwelfare: FileReport, {CLIENTS} clients ({} interleaved rounds, {} reports \
         in all, medians)",
        sizes.rounds, sizes.reports
    );
    let (mut base, mut small, mut ours) = (Vec::new(), Vec::new(), Vec::new());
    let mut filed = 0;
    for round in 0..sizes.rounds {
        let count = share(sizes.reports, sizes.rounds, round);
        let per_writer = count.div_ceil(CLIENTS);
        base.push(new_stream_appends(&store, &format!("cw{round}x"), CLIENTS, per_writer).await?);
        small.push(
            new_stream_appends(&small_store, &format!("cwp{round}x"), CLIENTS, per_writer).await?,
        );
        let sent = file_reports(
            &channel,
            filed..filed + count,
            sizes.children,
            CLIENTS,
            None,
        )
        .await?;
        filed += count;
        position = position.max(sent.position);
        ours.push(sent.rate);
    }
    small_pool.close().await;
    big_pool.close().await;
    drop((store, small_store, db));
    let ours = median(ours);
    figures.push(Figure {
        name: format!("FileReport, {CLIENTS} gRPC clients"),
        value: ours,
        unit: "/s",
        baseline_name: format!("store append, {CLIENTS} wr., new stream each"),
        baseline: median(base),
        target_ratio: Some(REPORT_TARGET_RATIO),
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

    let rest = sizes.cases - filed;
    eprintln!(
        "bench: childwelfare: filing the other {rest} reports at {CLIENTS} clients (not timed)"
    );
    let sent = file_reports(
        &channel,
        filed..sizes.cases,
        sizes.children,
        CLIENTS,
        Some("FileReport"),
    )
    .await?;
    position = position.max(sent.position);
    let indicators = check_indicators(&channel, position, sizes.children, sizes.cases).await?;
    let overdue = indicators.overdue_steps as usize;
    eprintln!(
        "bench: childwelfare: loaded: {} children covered, {} open cases ({} overdue)",
        indicators.children_covered, indicators.open_cases, overdue
    );
    let memory = resident_mib();

    let page = PAGE_SIZE as usize;
    eprintln!(
        "bench: childwelfare: ListCases (open, overdue only) beside the health check, at 1 and \
         {CLIENTS} clients ({} interleaved rounds of {} calls each, medians)",
        sizes.rounds, sizes.queries
    );
    let (one, many) =
        query_rounds(&channel, &sizes, (sizes.cases.min(page), overdue.min(page))).await?;
    service.stop().await;

    figures.push(Figure {
        name: format!("ListCases open, page {page}, {CLIENTS} clients"),
        value: many.open.rate,
        unit: "/s",
        baseline_name: format!("health Check + token, {CLIENTS} clients"),
        baseline: many.health.rate,
        target_ratio: None,
    });
    figures.push(Figure {
        name: format!("ListCases overdue only, {CLIENTS} clients"),
        value: many.overdue.rate,
        unit: "/s",
        baseline_name: format!("health Check + token, {CLIENTS} clients"),
        baseline: many.health.rate,
        target_ratio: None,
    });
    for (name, value, unit) in [
        (
            "childwelfare loaded: children covered".to_owned(),
            f64::from(indicators.children_covered),
            "",
        ),
        (
            "childwelfare loaded: open cases".to_owned(),
            f64::from(indicators.open_cases),
            "",
        ),
        (
            "childwelfare loaded: of them overdue".to_owned(),
            f64::from(indicators.overdue_steps),
            "",
        ),
        (
            "health Check + token p50, 1 client".to_owned(),
            one.health.p50_ms,
            "ms",
        ),
        (
            "health Check + token p99, 1 client".to_owned(),
            one.health.p99_ms,
            "ms",
        ),
        (
            "ListCases open p50, 1 client".to_owned(),
            one.open.p50_ms,
            "ms",
        ),
        (
            "ListCases open p99, 1 client".to_owned(),
            one.open.p99_ms,
            "ms",
        ),
        (
            "ListCases overdue p50, 1 client".to_owned(),
            one.overdue.p50_ms,
            "ms",
        ),
        (
            "ListCases overdue p99, 1 client".to_owned(),
            one.overdue.p99_ms,
            "ms",
        ),
        (
            format!("health Check + token p50, {CLIENTS} clients"),
            many.health.p50_ms,
            "ms",
        ),
        (
            format!("health Check + token p99, {CLIENTS} clients"),
            many.health.p99_ms,
            "ms",
        ),
    ] {
        measurements.push(measurement(name, value, unit));
    }
    for (name, latency) in [("open", many.open), ("overdue", many.overdue)] {
        measurements.push(measurement(
            format!("ListCases {name} p50, {CLIENTS} clients"),
            latency.p50_ms,
            "ms",
        ));
        measurements.push(Measurement {
            name: format!("ListCases {name} p99, {CLIENTS} clients"),
            value: latency.p99_ms,
            unit: "ms",
            target: Some((
                format!("< {LIST_P99_TARGET_MS:.0} ms"),
                latency.p99_ms < LIST_P99_TARGET_MS,
            )),
        });
    }
    measurements.push(measurement(
        "memory of the bench process, childwelfare started".to_owned(),
        memory_at_start,
        "MiB",
    ));
    measurements.push(measurement(
        "  (same, once loaded)".to_owned(),
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
    fn children_are_distinct_minors_and_reports_name_them() {
        let mut seen = HashSet::new();
        for i in (0..50_000).step_by(7) {
            let citizen = child(i).unwrap();
            let id = CitizenId::parse(&citizen.citizen_id).unwrap();
            let age = DAY.year() - id.birth_date().year();
            assert!((2..18).contains(&age), "child {i} is {age}");
            assert!(seen.insert(citizen.citizen_id));
        }
        let filed = report(12_345, 50_000).unwrap();
        assert_eq!(filed.child, Some(child(12_345).unwrap()));
        assert!(filed.reported_on.is_some());
    }
}
