//! The social-assistance service's figures (社会救助), each beside a raw baseline measured in the
//! same run:
//!
//! 1. `SubmitApplication` at 32 concurrent gRPC clients (dibao applications of small households,
//!    one current authorization per adult, at the township windows, registered in townships the
//!    place-names divisions know), beside the event store's own 32-writer append rate (one
//!    event to a new stream per append: a submission opens a new case stream), and, for
//!    information, beside the store's append of what a submission writes (two events and the
//!    command's idempotency key);
//! 2. the re-computation of every active case of a county after its urban dibao standard is
//!    raised (`RecordStandard`, whose answer counts the cases re-computed), in cases per second,
//!    beside the store's batched append (one `append_all` of one event to each of 100 streams
//!    per transaction, as the re-computation commits its batches of 100);
//! 3. a county's monthly payment cycle for those cases (`GeneratePaymentCycle`,
//!    `ApprovePaymentCycle`, `ExportPaymentCycle`), in lines per second, beside a plain
//!    PostgreSQL `COPY` of the same rows (case id, payee name, account, amount) into a bare
//!    table;
//! 4. the latency from a submission sent to its `VerificationRequested` arriving at a plain NATS
//!    subscriber of `<prefix>.assistance.case.verification_requested`, at a paced rate.
//!
//! The service runs in distributed mode on the test host (PostgreSQL store, JetStream relay),
//! as `minzheng assistance` runs it, beside a place-names stand-in whose store holds the
//! `DivisionRecorded` events of Benxi's city, six counties and twelve townships: the service
//! routes applications through its `as_divisions` table, filled from those events.
//!
//! The cases of figures 2 and 3 are not made through gRPC: the host is started once (its seed
//! records the standards), stopped, and each case's seven events (ApplicationSubmitted,
//! VerificationRequested, VerificationReceived, TownshipReviewed, NoticePosted,
//! ApplicationApproved, AssistanceGranted) are decided by the service's own `Case` aggregate and
//! encoded by its own codec, then appended straight into its store in large `append_all`
//! batches; the host is started again on that data and the relay is let publish everything
//! before anything is timed.
//!
//! Sizes come from the environment (see [`Sizes`]), for a quick run.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use futures::{StreamExt as _, future::try_join_all};
use minzheng_assistance::{
    benefit::{self, HouseholdSize},
    case::{self, Application, Case, Particulars, Verification},
    category::{Area, Category},
    household::{Authorization, DataClass, Household, Income, IncomeKind, Member, Relation},
    ids::CaseId,
    module::Seed,
    payments::BankAccount,
    policy::Policy,
};
use minzheng_bus::BusNaming;
use minzheng_eventstore::{
    AppendRequest, ExpectedVersion, Metadata, NewEvent, SharedStore, StreamId, Upcasters,
    postgres::PostgresStore,
};
use minzheng_host::{
    ServiceContext, ServiceModule,
    testing::{StoppedHost, TestHost, token},
};
use minzheng_kit::{
    aggregate::{Aggregate as _, EventCodec as _, Repository},
    auth::Role,
    clock::FixedClock,
    server::ServerBuilder,
};
use minzheng_proto::{
    assistance::v1::{self as pb, assistance_service_client::AssistanceServiceClient},
    common::v1 as common,
    placenames::v1 as placenames,
};
use minzheng_types::{BoundedText, CitizenId, Fen, RegionCode, StreamKey as _};
use prost::Message as _;
use secrecy::SecretString;
use sqlx::{AssertSqlSafe, PgPool, postgres::PgPoolCopyExt as _};
use time::{Date, macros::date};
use tonic::{
    Request,
    metadata::{Ascii, MetadataValue},
    transport::Channel,
};
use uuid::Uuid;

use super::{payload, timed};

/// The key of the audit's pseudonyms (at least 32 bytes).
const PSEUDONYM_KEY: &str = "assistance-bench-pseudonym-key-32-bytes!";
/// The service's today (its fixed clock).
pub const DAY: Date = date!(2025 - 06 - 10);
/// The first day of the month after [`DAY`]: when the raised standard takes effect.
const NEXT_MONTH: Date = date!(2025 - 07 - 01);
/// Liaoning and Benxi, above the counties.
const LIAONING: &str = "210000000000";
const BENXI_CITY: &str = "210500000000";
/// The county whose caseload is re-computed and paid (平山区).
pub const PINGSHAN: &str = "210502000000";
/// Benxi's six county-level divisions.
const COUNTIES: [(&str, &str); 6] = [
    (PINGSHAN, "平山区"),
    ("210503000000", "溪湖区"),
    ("210504000000", "明山区"),
    ("210505000000", "南芬区"),
    ("210521000000", "本溪满族自治县"),
    ("210522000000", "桓仁满族自治县"),
];
/// Two townships (乡镇、街道) of each county, where applications are taken and registered.
const TOWNSHIPS: [(&str, &str); 12] = [
    ("210502001000", "平山街道"),
    ("210502002000", "东明街道"),
    ("210503001000", "河西街道"),
    ("210503002000", "河东街道"),
    ("210504001000", "牛心台街道"),
    ("210504002000", "高台子街道"),
    ("210505001000", "铁山街道"),
    ("210505002000", "南芬街道"),
    ("210521001000", "小市镇"),
    ("210521002000", "草河掌镇"),
    ("210522001000", "桓仁镇"),
    ("210522002000", "普乐堡镇"),
];
/// The townships of [`PINGSHAN`], among [`TOWNSHIPS`].
const PINGSHAN_TOWNSHIPS: [&str; 2] = ["210502001000", "210502002000"];

/// The urban dibao standard the seed records (665.00 元 a month) and the raised one.
const RAISED_URBAN_STANDARD: i64 = 70_000;

/// Citizen numbers: each household `i` has an applicant, a spouse and a child, born
/// `i % BIRTH_DAYS` days after their role's first birthday, with the sequence
/// `base + role + 3 × (i / BIRTH_DAYS)` (at most 999): distinct across households and roles.
const BIRTH_DAYS: usize = 5_000;
/// Sequence bases keeping the households of each use apart.
const SUBMISSION_SEQUENCES: u16 = 1;
const LATENCY_SEQUENCES: u16 = 330;
const CASELOAD_SEQUENCES: u16 = 660;
/// The household of the routing check at start.
const CHECK_SEQUENCES: u16 = 990;

/// Cases appended per `append_all` while the caseload is made, and appends in flight.
const CASELOAD_BATCH: usize = 500;
const CASELOAD_WRITERS: usize = 4;
/// How long the relay may take to publish the caseload after the restart.
const RELAY_DEADLINE: Duration = Duration::from_secs(3_600);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The sizes of the section, each from an environment variable.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// `MZ_BENCH_ASSISTANCE_SUBMISSIONS` (default 1,000): submissions per round of figure 1,
    /// and as many appends per round of its baselines. Rounds of a tenth of a second a side
    /// are noisy (the baseline moved between 6,000 and 9,300/s from run to run), but with rounds
    /// of 10,000 figure 4, which follows, stalled: its p99 went from 17 ms to 185–219 ms at a
    /// p50 of 2 ms, in two runs. Figure 1 at 10,000 measured 0.42 and 0.45.
    pub submissions: usize,
    /// `MZ_BENCH_ASSISTANCE_ROUNDS` (default 3): interleaved rounds of figures 1 and 3's
    /// baselines and of figure 3 (one month's cycle each).
    pub rounds: usize,
    /// `MZ_BENCH_ASSISTANCE_CASES` (default 100000): the active cases of figures 2 and 3.
    pub cases: usize,
    /// `MZ_BENCH_ASSISTANCE_RATE` (default 200): submissions per second offered in figure 4.
    pub latency_rate: usize,
    /// `MZ_BENCH_ASSISTANCE_LATENCY_SECONDS` (default 10): how long figure 4 offers them.
    pub latency_seconds: usize,
}

impl Sizes {
    pub fn from_env() -> Self {
        Self {
            submissions: env_usize("MZ_BENCH_ASSISTANCE_SUBMISSIONS", 1_000),
            rounds: env_usize("MZ_BENCH_ASSISTANCE_ROUNDS", 3).max(1),
            cases: env_usize("MZ_BENCH_ASSISTANCE_CASES", 100_000).max(1),
            latency_rate: env_usize("MZ_BENCH_ASSISTANCE_RATE", 200).max(1),
            latency_seconds: env_usize("MZ_BENCH_ASSISTANCE_LATENCY_SECONDS", 10).max(1),
        }
    }
}

/// Plays the place-names service: at its first start its store receives the
/// `minzheng.placenames.v1.DivisionRecorded` events of Benxi's city, counties and
/// [`TOWNSHIPS`], which its relay publishes to the assistance service's divisions projection.
#[derive(Debug, Clone, Copy)]
pub struct PlaceNamesStandIn;

fn divisions() -> Vec<(
    &'static str,
    &'static str,
    common::RegionLevel,
    &'static str,
)> {
    let mut all = vec![(BENXI_CITY, "本溪市", common::RegionLevel::City, LIAONING)];
    all.extend(
        COUNTIES
            .iter()
            .map(|(code, name)| (*code, *name, common::RegionLevel::County, BENXI_CITY)),
    );
    all.extend(TOWNSHIPS.iter().map(|(code, name)| {
        let county = COUNTIES
            .iter()
            .find(|(county, _)| county[..6] == code[..6])
            .map_or(BENXI_CITY, |(county, _)| *county);
        (*code, *name, common::RegionLevel::Township, county)
    }));
    all
}

#[async_trait::async_trait]
impl ServiceModule for PlaceNamesStandIn {
    fn name(&self) -> &'static str {
        "placenames"
    }

    async fn start(
        &self,
        context: &ServiceContext,
        server: ServerBuilder,
    ) -> anyhow::Result<ServerBuilder> {
        for (code, name, level, parent) in divisions() {
            let stream = StreamId::new("division", code)?;
            if context.store().stream_version(&stream).await? > 0 {
                continue;
            }
            let recorded = placenames::DivisionRecorded {
                code: region(code),
                name: name.to_owned(),
                level: level.into(),
                parent: region(parent),
                valid_from: Some(date!(2023 - 06 - 30).into()),
                adjustment_id: String::new(),
            };
            context
                .store()
                .append(AppendRequest {
                    stream,
                    expected: ExpectedVersion::NoStream,
                    events: vec![NewEvent::new(
                        "minzheng.placenames.v1.DivisionRecorded",
                        1,
                        recorded.encode_to_vec(),
                    )],
                    metadata: Metadata::default(),
                })
                .await?;
        }
        Ok(server)
    }
}

fn region(code: &str) -> Option<common::RegionCode> {
    Some(common::RegionCode {
        code: code.to_owned(),
    })
}

fn citizen_ref(citizen: &CitizenId) -> Option<common::CitizenRef> {
    Some(common::CitizenRef {
        citizen_id: citizen.expose().to_owned(),
    })
}

fn money(fen: i64) -> Option<common::Money> {
    Some(common::Money { fen })
}

fn metadata(correlation: Uuid) -> Option<common::CommandMetadata> {
    Some(common::CommandMetadata {
        idempotency_key: Uuid::now_v7().to_string(),
        correlation_id: correlation.to_string(),
    })
}

/// The `authorization` value of a test-host token for `roles` in `region`.
fn bearer(roles: &[Role], region: &str) -> anyhow::Result<MetadataValue<Ascii>> {
    Ok(format!("Bearer {}", token(roles, &[region])).parse()?)
}

fn with_token<T>(message: T, token: &MetadataValue<Ascii>) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", token.clone());
    request
}

/// The assistance service as the benchmark runs it: today is [`DAY`], Benxi's standards seeded.
fn assistance_module() -> minzheng_assistance::Module {
    minzheng_assistance::Module::new(SecretString::from(PSEUDONYM_KEY))
        .with_clock(Arc::new(FixedClock::new(DAY)))
        .with_seed(Seed::benxi())
}

/// One applying household of three: the applicant and the spouse (adults, each with a current
/// authorization covering every data class) and a child.
#[derive(Debug, Clone)]
pub struct Family {
    /// Applicant, spouse, child.
    members: [CitizenId; 3],
    names: [&'static str; 3],
    /// The applicant's wages, in fen a month.
    wages: i64,
    account: String,
    /// The township where the household is registered and applies.
    township: &'static str,
}

const ROLE_BIRTHS: [Date; 3] = [
    date!(1965 - 01 - 01),
    date!(1967 - 01 - 01),
    date!(2010 - 01 - 01),
];
const ROLE_RELATIONS: [Relation; 3] = [Relation::Applicant, Relation::Spouse, Relation::Child];
const NAMES: [[&str; 3]; 4] = [
    ["王建国", "李秀英", "王小明"],
    ["张伟", "刘芳", "张思远"],
    ["陈志强", "赵丽娟", "陈雨桐"],
    ["杨军", "孙红梅", "杨子涵"],
];

impl Family {
    /// Household `i` of a use whose sequences start at `base`, registered in `township`.
    fn new(i: usize, base: u16, township: &'static str) -> anyhow::Result<Self> {
        let group = u16::try_from(i / BIRTH_DAYS)?;
        let offset = i64::try_from(i % BIRTH_DAYS)?;
        let mut members = Vec::with_capacity(3);
        for (role, born) in ROLE_BIRTHS.iter().enumerate() {
            let sequence = base + u16::try_from(role)? + 3 * group;
            anyhow::ensure!(
                sequence <= 999,
                "too many households for distinct citizen ids"
            );
            members.push(CitizenId::from_parts(
                &township[..6],
                *born + time::Duration::days(offset),
                sequence,
            )?);
        }
        let members: [CitizenId; 3] = members
            .try_into()
            .map_err(|_| anyhow::anyhow!("three members"))?;
        Ok(Self {
            members,
            names: NAMES[i % NAMES.len()],
            // 0 to 490.00 元 a month: every household is below three times the standard.
            wages: i64::try_from(i % 50)? * 1_000,
            account: format!("6217{:012}", i),
            township,
        })
    }

    fn adults(&self) -> &[CitizenId] {
        &self.members[..2]
    }

    /// The request a township caseworker sends.
    fn request(&self, correlation: Uuid) -> pb::SubmitApplicationRequest {
        let member = |m: usize| pb::HouseholdMember {
            citizen: citizen_ref(&self.members[m]),
            name: self.names[m].to_owned(),
            relation: match ROLE_RELATIONS[m] {
                Relation::Applicant => pb::Relation::Applicant,
                Relation::Spouse => pb::Relation::Spouse,
                _ => pb::Relation::Child,
            }
            .into(),
            seriously_ill: false,
            severely_disabled: false,
            work_capacity: if m == 2 {
                pb::WorkCapacity::Unspecified
            } else {
                pb::WorkCapacity::Full
            }
            .into(),
            self_care: pb::SelfCareLevel::Unspecified.into(),
        };
        pb::SubmitApplicationRequest {
            metadata: metadata(correlation),
            category: pb::AssistanceCategory::Dibao.into(),
            registered_division: region(self.township),
            window: region(self.township),
            area: pb::ResidenceArea::Urban.into(),
            applicant: citizen_ref(&self.members[0]),
            members: (0..3).map(member).collect(),
            incomes: vec![pb::DeclaredIncome {
                member: citizen_ref(&self.members[0]),
                kind: pb::IncomeKind::Wages.into(),
                monthly: money(self.wages),
            }],
            assets: Vec::new(),
            authorizations: self
                .adults()
                .iter()
                .map(|adult| pb::Authorization {
                    signed_by: citizen_ref(adult),
                    signed_on: Some((DAY - time::Duration::days(3)).into()),
                    data_classes: [
                        pb::DataClass::Income,
                        pb::DataClass::BankDeposits,
                        pb::DataClass::RealEstate,
                        pb::DataClass::Vehicles,
                        pb::DataClass::BusinessRegistration,
                        pb::DataClass::Tax,
                        pb::DataClass::SocialInsurance,
                        pb::DataClass::HousingFund,
                        pb::DataClass::Securities,
                    ]
                    .into_iter()
                    .map(Into::into)
                    .collect(),
                    expires_on: Some((DAY + time::Duration::days(180)).into()),
                })
                .collect(),
            payment_account: self.account.clone(),
            ..Default::default()
        }
    }

    /// The household as the domain holds it, authorizations signed on `signed_on`.
    fn household(&self, signed_on: Date) -> anyhow::Result<Household> {
        let members = (0..3)
            .map(|m| {
                Ok(Member {
                    citizen: self.members[m].clone(),
                    name: BoundedText::parse(self.names[m], 50)?,
                    relation: ROLE_RELATIONS[m],
                    seriously_ill: false,
                    severely_disabled: false,
                    work_capacity: (m < 2)
                        .then_some(minzheng_assistance::household::WorkCapacity::Full),
                    self_care: None,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Household {
            applicant: self.members[0].clone(),
            members,
            incomes: vec![Income {
                member: self.members[0].clone(),
                kind: IncomeKind::Wages,
                monthly: Fen::new(self.wages),
            }],
            assets: Vec::new(),
            authorizations: self
                .adults()
                .iter()
                .map(|adult| Authorization {
                    signed_by: adult.clone(),
                    signed_on,
                    data_classes: DataClass::ALL.into_iter().collect(),
                    expires_on: signed_on + time::Duration::days(180),
                })
                .collect(),
        })
    }
}

/// A client of the assistance service with large answers allowed (a bank file of 100,000 lines
/// is several MB).
fn client(channel: Channel) -> AssistanceServiceClient<Channel> {
    AssistanceServiceClient::new(channel)
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX)
}

/// One HTTP/2 connection to `host`'s assistance service (shared by the clients, as in the other
/// sections).
async fn channel(host: &TestHost) -> anyhow::Result<Channel> {
    super::driver::channel(host, "assistance").await
}

/// The place-names stand-in and the assistance service, distributed, once the service knows
/// the divisions.
#[derive(Debug)]
pub struct Service {
    host: TestHost,
    /// Households submitted so far (their numbers are never used twice).
    submitted: usize,
}

impl Service {
    pub async fn start() -> anyhow::Result<Self> {
        let host = TestHost::distributed()
            .service(PlaceNamesStandIn)
            .service(assistance_module())
            .start()
            .await;
        host.settle().await;
        let service = Self { host, submitted: 0 };
        service.check_routing().await?;
        Ok(service)
    }

    /// Fails unless an application at a known township is taken (the divisions arrived).
    async fn check_routing(&self) -> anyhow::Result<()> {
        let family = Family::new(0, CHECK_SEQUENCES, TOWNSHIPS[0].0)?;
        let caseworker = bearer(&[Role::Caseworker], family.township)?;
        let answer = client(channel(&self.host).await?)
            .submit_application(with_token(family.request(Uuid::now_v7()), &caseworker))
            .await
            .context("a first application (are the divisions known?)")?
            .into_inner();
        anyhow::ensure!(
            !answer.verification_request_id.is_empty(),
            "a dibao application requested no verification"
        );
        Ok(())
    }

    /// The next `count` households, spread over every township.
    fn families(&mut self, count: usize, base: u16) -> anyhow::Result<Vec<Family>> {
        let first = self.submitted;
        self.submitted += count;
        (first..first + count)
            .map(|i| Family::new(i, base, TOWNSHIPS[i % TOWNSHIPS.len()].0))
            .collect()
    }

    pub async fn stop(self) {
        self.host.shutdown().await;
    }
}

/// `clients` concurrent caseworker clients submitting `count` dibao applications (taken from a
/// shared queue, each at its household's township with that township's token); applications
/// per second. Households, tokens and the connection are made before the clock starts. Fails
/// unless every submission opened a case and requested its verification.
pub async fn submit(service: &mut Service, count: usize, clients: usize) -> anyhow::Result<f64> {
    let families: Arc<[Family]> = service.families(count, SUBMISSION_SEQUENCES)?.into();
    let tokens: Arc<HashMap<&'static str, MetadataValue<Ascii>>> = Arc::new(
        TOWNSHIPS
            .iter()
            .map(|(code, _)| Ok((*code, bearer(&[Role::Caseworker], code)?)))
            .collect::<anyhow::Result<_>>()?,
    );
    let channel = channel(&service.host).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let runs: Vec<_> = (0..clients)
        .map(|_| {
            let mut client = client(channel.clone());
            let (families, tokens, next, start) = (
                families.clone(),
                tokens.clone(),
                next.clone(),
                start.clone(),
            );
            tokio::spawn(async move {
                start.wait().await;
                while let Some(family) = families.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let answer = client
                        .submit_application(with_token(
                            family.request(Uuid::now_v7()),
                            &tokens[family.township],
                        ))
                        .await
                        .context("submitting an application")?
                        .into_inner();
                    anyhow::ensure!(
                        !answer.case_id.is_empty() && !answer.verification_request_id.is_empty(),
                        "a submission without a case or a verification request"
                    );
                }
                anyhow::Ok(())
            })
        })
        .collect();
    start.wait().await;
    let started = Instant::now();
    for run in try_join_all(runs).await? {
        run?;
    }
    Ok(super::rate(count, started.elapsed()))
}

fn bench_metadata() -> Metadata {
    Metadata {
        correlation_id: Some(Uuid::now_v7()),
        actor: Some("bench".into()),
        ..Metadata::default()
    }
}

/// The store's side of a submission: `writers` concurrent writers, each making `per_writer`
/// appends of one event to a new stream (`ExpectedVersion::NoStream`); appends per second. Each
/// run uses fresh stream ids (`tag`).
pub async fn new_stream_appends(
    store: &SharedStore,
    tag: &str,
    writers: usize,
    per_writer: usize,
) -> anyhow::Result<f64> {
    appends_to_new_streams(store, tag, writers, per_writer, 1, false).await
}

/// [`new_stream_appends`] of what a submission writes: its two events (the application and the
/// verification request) with the command's idempotency key; appends per second.
pub async fn submission_shaped_appends(
    store: &SharedStore,
    tag: &str,
    writers: usize,
    per_writer: usize,
) -> anyhow::Result<f64> {
    appends_to_new_streams(store, tag, writers, per_writer, 2, true).await
}

/// `writers` concurrent writers, each making `per_writer` appends of `events` events to a new
/// stream, with a fresh idempotency key each when `keyed`; appends per second.
async fn appends_to_new_streams(
    store: &SharedStore,
    tag: &str,
    writers: usize,
    per_writer: usize,
    events: usize,
    keyed: bool,
) -> anyhow::Result<f64> {
    timed(|| async {
        try_join_all((0..writers).map(|w| async move {
            for a in 0..per_writer {
                let mut metadata = bench_metadata();
                if keyed {
                    metadata.idempotency_key = Some(Uuid::now_v7().to_string());
                }
                store
                    .append(AppendRequest {
                        stream: StreamId::new("thing", format!("{tag}w{w}a{a}"))?,
                        expected: ExpectedVersion::NoStream,
                        events: (0..events)
                            .map(|e| {
                                NewEvent::new(
                                    "minzheng.bench.v1.ThingHappened",
                                    1,
                                    payload((a * events + e) as u64),
                                )
                            })
                            .collect(),
                        metadata,
                    })
                    .await?;
            }
            anyhow::Ok(())
        }))
        .await?;
        Ok(writers * per_writer)
    })
    .await
}

/// The store's side of a re-computation: `transactions` sequential `append_all`s, each of one
/// event to each of `streams` new streams; events per second. Each run uses fresh stream ids.
pub async fn batched_appends(
    store: &SharedStore,
    tag: &str,
    transactions: usize,
    streams: usize,
) -> anyhow::Result<f64> {
    timed(|| async {
        for t in 0..transactions {
            let requests = (0..streams)
                .map(|s| {
                    Ok(AppendRequest {
                        stream: StreamId::new("thing", format!("{tag}t{t}s{s}"))?,
                        expected: ExpectedVersion::NoStream,
                        events: vec![NewEvent::new(
                            "minzheng.bench.v1.ThingHappened",
                            1,
                            payload((t * streams + s) as u64),
                        )],
                        metadata: bench_metadata(),
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            store.append_all(requests).await?;
        }
        Ok(transactions * streams)
    })
    .await
}

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The `SubmitApplication` call itself, sent to answered: the service's share of the trip.
    pub answer_p50_ms: f64,
    pub answer_p99_ms: f64,
    /// Submissions per second actually sent.
    pub offered: f64,
}

/// Offers `rate` submissions a second for `seconds` (each sent on its tick, whatever the
/// previous ones do), and measures for each the time from just before the client sends it to
/// the arrival of its `VerificationRequested` at a plain NATS subscriber of
/// `<prefix>.assistance.case.verification_requested` (matched by the command's correlation id,
/// which the event carries as `ce-correlationid`).
pub async fn verification_latency(
    service: &mut Service,
    rate: usize,
    seconds: usize,
) -> anyhow::Result<Latency> {
    let count = rate * seconds;
    let families = service.families(count, LATENCY_SEQUENCES)?;
    let tokens: HashMap<&'static str, MetadataValue<Ascii>> = TOWNSHIPS
        .iter()
        .map(|(code, _)| Ok((*code, bearer(&[Role::Caseworker], code)?)))
        .collect::<anyhow::Result<_>>()?;
    let requests: Vec<(Uuid, pb::SubmitApplicationRequest, MetadataValue<Ascii>)> = families
        .iter()
        .map(|family| {
            let correlation = Uuid::now_v7();
            (
                correlation,
                family.request(correlation),
                tokens[family.township].clone(),
            )
        })
        .collect();
    // Settled: nothing of the earlier figures is still on its way to the subscriber.
    service.host.settle().await;
    let subject = format!(
        "{}.assistance.case.verification_requested",
        service.host.bus_prefix()
    );
    let nats = service.host.nats().clone();
    let mut subscriber = nats.subscribe(subject).await?;
    nats.flush().await?;

    let arrivals = tokio::spawn(async move {
        let mut arrived: HashMap<Uuid, Instant> = HashMap::with_capacity(count);
        let deadline =
            tokio::time::Instant::now() + Duration::from_secs(u64::try_from(seconds)? + 60);
        while arrived.len() < count {
            let Ok(Some(message)) = tokio::time::timeout_at(deadline, subscriber.next()).await
            else {
                break;
            };
            let at = Instant::now();
            if let Some(id) = message
                .headers
                .as_ref()
                .and_then(|h| h.get("ce-correlationid"))
                .and_then(|v| Uuid::parse_str(v.as_str()).ok())
            {
                arrived.insert(id, at);
            }
        }
        anyhow::Ok(arrived)
    });

    let channel = channel(&service.host).await?;
    let sent: Arc<Mutex<HashMap<Uuid, Instant>>> =
        Arc::new(Mutex::new(HashMap::with_capacity(count)));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut calls = Vec::with_capacity(count);
    let started = Instant::now();
    for (correlation, request, token) in requests {
        ticker.tick().await;
        let mut client = client(channel.clone());
        let sent = sent.clone();
        calls.push(tokio::spawn(async move {
            let request = with_token(request, &token);
            let at = Instant::now();
            sent.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(correlation, at);
            client
                .submit_application(request)
                .await
                .context("submitting an application")?;
            anyhow::Ok(at.elapsed())
        }));
    }
    let offered = super::rate(count, started.elapsed());
    let mut answers = hdrhistogram::Histogram::<u64>::new(3)?;
    for call in try_join_all(calls).await? {
        answers.record(u64::try_from(call?.as_micros())?.max(1))?;
    }
    let arrived = arrivals.await??;
    let sent = sent.lock().unwrap_or_else(PoisonError::into_inner).clone();
    anyhow::ensure!(
        arrived.len() == count,
        "{} of {count} verification requests arrived",
        arrived.len()
    );
    let mut histogram = hdrhistogram::Histogram::<u64>::new(3)?;
    for (id, at) in &arrived {
        let sent_at = sent
            .get(id)
            .ok_or_else(|| anyhow::anyhow!("a verification request nobody sent"))?;
        let micros = u64::try_from(at.saturating_duration_since(*sent_at).as_micros())?;
        histogram.record(micros.max(1))?;
    }
    Ok(Latency {
        p50_ms: histogram.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: histogram.value_at_quantile(0.99) as f64 / 1000.0,
        max_ms: histogram.max() as f64 / 1000.0,
        answer_p50_ms: answers.value_at_quantile(0.50) as f64 / 1000.0,
        answer_p99_ms: answers.value_at_quantile(0.99) as f64 / 1000.0,
        offered,
    })
}

/// The days of a case's steps before [`DAY`]: submitted, verified, reviewed, notice posted,
/// decided (the notice ran its seven days).
const SUBMITTED_ON: Date = date!(2025 - 03 - 03);
const VERIFIED_ON: Date = date!(2025 - 03 - 10);
const REVIEWED_ON: Date = date!(2025 - 03 - 14);
const NOTICE_ON: Date = date!(2025 - 03 - 17);
const DECIDED_ON: Date = date!(2025 - 03 - 26);

/// One case's events, decided before the service starts, and its payment line.
#[derive(Debug)]
struct DecidedCase {
    id: CaseId,
    events: Vec<case::Event>,
    line: PlainLine,
}

/// A payment line as the plain `COPY` writes it.
#[derive(Debug, Clone)]
pub struct PlainLine {
    case_id: String,
    payee: &'static str,
    account: String,
    amount_fen: i64,
}

/// Decides case `ordinal`'s events with the service's own aggregate: an urban dibao case of
/// [`PINGSHAN`] in force from April 2025, its amount computed from `policy` (the seeded
/// standards) as the service computes it.
fn decide_case(ordinal: usize, policy: &Policy) -> anyhow::Result<DecidedCase> {
    let county = RegionCode::parse(PINGSHAN)?;
    let id = CaseId::new(county, Category::Dibao, 2025, u32::try_from(ordinal)?)
        .ok_or_else(|| anyhow::anyhow!("case ordinal {ordinal} out of range"))?;
    let township = PINGSHAN_TOWNSHIPS[ordinal % PINGSHAN_TOWNSHIPS.len()];
    let family = Family::new(ordinal, CASELOAD_SEQUENCES, township)?;
    let household = family.household(SUBMITTED_ON - time::Duration::days(1))?;
    let division = RegionCode::parse(township)?;
    let application = Application {
        case_id: id,
        category: Category::Dibao,
        county,
        registered_division: division,
        resolved_division: division,
        window: division,
        area: Area::Urban,
        household,
        payment_account: BankAccount::parse(&family.account)?,
        submitted_on: SUBMITTED_ON,
        particulars: Particulars::None,
    };
    let verification = Verification {
        request: 1,
        total_monthly_income: Fen::new(family.wages),
        incomes: vec![(family.members[0].clone(), Fen::new(family.wages))],
        total_assets: Fen::ZERO,
        flags: Vec::new(),
        verified_on: VERIFIED_ON,
    };
    let standards = policy
        .standards(case::next_month(DECIDED_ON), Area::Urban)
        .ok_or_else(|| anyhow::anyhow!("no standards seeded"))?;
    let counted = benefit::Household {
        size: HouseholdSize::new(3).ok_or_else(|| anyhow::anyhow!("size"))?,
        total_monthly_income: verification.total_monthly_income,
    };
    let calculation = benefit::dibao(&standards, &counted)
        .map_err(|refusal| anyhow::anyhow!("no benefit: {refusal}"))?;
    let amount_fen = calculation.monthly_amount.fen();
    let commands = [
        case::Command::Submit(Box::new(application)),
        case::Command::ReceiveVerification {
            request: 1,
            verification,
            on: VERIFIED_ON,
        },
        case::Command::ReviewAtTownship {
            recommends_approval: true,
            opinion: BoundedText::parse("入户调查属实，建议批准", 500)?,
            visited_on: REVIEWED_ON,
            on: REVIEWED_ON,
        },
        case::Command::PostNotice { on: NOTICE_ON },
        case::Command::Approve {
            calculation,
            on: DECIDED_ON,
        },
    ];
    let mut state = Case::default();
    let mut events = Vec::with_capacity(7);
    for command in &commands {
        let decided = state
            .handle(command)
            .map_err(|refusal| anyhow::anyhow!("case {id}: {refusal}"))?;
        state = decided.iter().fold(state, Case::apply);
        events.extend(decided);
    }
    anyhow::ensure!(state.in_force(), "case {id} is not in force");
    Ok(DecidedCase {
        id,
        events,
        line: PlainLine {
            case_id: id.to_string(),
            payee: family.names[0],
            account: family.account,
            amount_fen,
        },
    })
}

/// The assistance service on a caseload of active cases in [`PINGSHAN`], made as the module
/// docs say.
#[derive(Debug)]
pub struct Caseload {
    host: TestHost,
    /// The cases' payment lines as a plain table would hold them.
    pub lines: Vec<PlainLine>,
}

impl Caseload {
    /// Starts the host once (the seed records the standards), stops it, appends `cases` active
    /// cases into the assistance store, starts it again and waits until its relay has published
    /// every event and its consumers are settled.
    pub async fn start(cases: usize) -> anyhow::Result<Self> {
        let started = Instant::now();
        let host = TestHost::distributed()
            .service(PlaceNamesStandIn)
            .service(assistance_module())
            .start()
            .await;
        host.settle().await;
        let url = host.database_url("assistance").to_owned();
        let stopped: StoppedHost = host.stop().await;

        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(u32::try_from(CASELOAD_WRITERS)? + 1)
            .connect(&url)
            .await?;
        let store: SharedStore =
            Arc::new(PostgresStore::from_pool(pool.clone(), Upcasters::new()).await?);
        let policy = Repository::<Policy>::new(store.clone())
            .load(&RegionCode::parse(PINGSHAN)?)
            .await?
            .state;
        let decided = (1..=cases)
            .map(|ordinal| decide_case(ordinal, &policy))
            .collect::<anyhow::Result<Vec<_>>>()?;
        eprintln!(
            "bench: assistance: {cases} cases decided in {:.1} s; appending",
            started.elapsed().as_secs_f64()
        );
        let appending = Instant::now();
        let batches: Vec<Vec<AppendRequest>> = decided
            .chunks(CASELOAD_BATCH)
            .map(|chunk| {
                chunk
                    .iter()
                    .map(|case| {
                        Ok(AppendRequest {
                            stream: StreamId::new(Case::CATEGORY, case.id.stream_key())?,
                            expected: ExpectedVersion::NoStream,
                            events: case
                                .events
                                .iter()
                                .map(|e| {
                                    NewEvent::new(e.event_type(), e.schema_version(), e.encode())
                                })
                                .collect(),
                            metadata: bench_metadata(),
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()
            })
            .collect::<anyhow::Result<_>>()?;
        let batches = Arc::new(Mutex::new(batches.into_iter()));
        try_join_all((0..CASELOAD_WRITERS).map(|_| {
            let (store, batches) = (store.clone(), batches.clone());
            async move {
                loop {
                    let batch = batches
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .next();
                    let Some(batch) = batch else { break };
                    store.append_all(batch).await?;
                }
                anyhow::Ok(())
            }
        }))
        .await?;
        eprintln!(
            "bench: assistance: {} events appended in {:.1} s; starting the service on them",
            cases * 7,
            appending.elapsed().as_secs_f64()
        );

        let restarting = Instant::now();
        let host = stopped.start().await;
        eprintln!(
            "bench: assistance: the service started (its view replayed) in {:.1} s; waiting for \
             the relay",
            restarting.elapsed().as_secs_f64()
        );
        let relaying = Instant::now();
        let checkpoint =
            BusNaming::with_prefix(host.bus_prefix(), "assistance")?.relay_checkpoint();
        let deadline = Instant::now() + RELAY_DEADLINE;
        loop {
            let cursor = store.load_checkpoint(&checkpoint).await?;
            if store.read_all(cursor, 1).await?.events.is_empty() {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the relay did not publish the caseload"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        host.settle().await;
        drop(store);
        pool.close().await;
        eprintln!(
            "bench: assistance: relay published the caseload in {:.1} s (setup {:.1} s in all)",
            relaying.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
        Ok(Self {
            host,
            lines: decided.into_iter().map(|case| case.line).collect(),
        })
    }

    pub async fn stop(self) {
        self.host.shutdown().await;
    }
}

/// What a re-computation did.
#[derive(Debug, Clone, Copy)]
pub struct Recomputed {
    pub cases: u32,
    pub elapsed: Duration,
}

/// Raises [`PINGSHAN`]'s urban dibao standard from [`NEXT_MONTH`] (`RecordStandard` as the
/// county's approver) and times the call, which re-computes every case it changes before it
/// answers. Fails unless it re-computed every case of the caseload.
pub async fn raise_standard(caseload: &Caseload) -> anyhow::Result<Recomputed> {
    let mut client = client(channel(&caseload.host).await?);
    let approver = bearer(&[Role::Approver], PINGSHAN)?;
    let request = with_token(
        pb::RecordStandardRequest {
            metadata: metadata(Uuid::now_v7()),
            county: region(PINGSHAN),
            standard: Some(pb::record_standard_request::Standard::Dibao(
                pb::DibaoStandard {
                    area: pb::ResidenceArea::Urban.into(),
                    amount: money(RAISED_URBAN_STANDARD),
                    period: pb::AmountPeriod::Month.into(),
                },
            )),
            effective_from: Some(NEXT_MONTH.into()),
            decided_by: "本民发〔2025〕12号".to_owned(),
        },
        &approver,
    );
    let started = Instant::now();
    let answer = client
        .record_standard(request)
        .await
        .context("recording the raised standard")?
        .into_inner();
    let elapsed = started.elapsed();
    let expected = caseload.lines.len();
    anyhow::ensure!(
        usize::try_from(answer.recalculated_cases)? == expected,
        "{} cases re-computed, not {expected}",
        answer.recalculated_cases
    );
    Ok(Recomputed {
        cases: answer.recalculated_cases,
        elapsed,
    })
}

/// One payment cycle's steps, timed.
#[derive(Debug, Clone, Copy)]
pub struct Cycle {
    pub lines: u64,
    pub generate: Duration,
    pub approve: Duration,
    pub export: Duration,
}

impl Cycle {
    pub fn total(&self) -> Duration {
        self.generate + self.approve + self.export
    }
}

/// [`PINGSHAN`]'s payment cycle for the month of `month`: generated, approved and exported as
/// the bank file by the county's approver, each call timed. Fails unless it lists one line per
/// case of the caseload and the file has them all.
pub async fn payment_cycle(caseload: &Caseload, month: Date) -> anyhow::Result<Cycle> {
    let mut client = client(channel(&caseload.host).await?);
    let approver = bearer(&[Role::Approver], PINGSHAN)?;
    let expected = u64::try_from(caseload.lines.len())?;

    let started = Instant::now();
    let generated = client
        .generate_payment_cycle(with_token(
            pb::GeneratePaymentCycleRequest {
                metadata: metadata(Uuid::now_v7()),
                county: region(PINGSHAN),
                month: Some(month.into()),
            },
            &approver,
        ))
        .await
        .context("generating the payment cycle")?
        .into_inner();
    let generate = started.elapsed();
    let lines = generated.totals.as_ref().map_or(0, |t| t.generated_count);
    anyhow::ensure!(
        u64::from(lines) == expected,
        "the cycle lists {lines} lines, not {expected}"
    );

    let started = Instant::now();
    client
        .approve_payment_cycle(with_token(
            pb::ApprovePaymentCycleRequest {
                metadata: metadata(Uuid::now_v7()),
                cycle_id: generated.cycle_id.clone(),
            },
            &approver,
        ))
        .await
        .context("approving the payment cycle")?;
    let approve = started.elapsed();

    let started = Instant::now();
    let exported = client
        .export_payment_cycle(with_token(
            pb::ExportPaymentCycleRequest {
                metadata: metadata(Uuid::now_v7()),
                cycle_id: generated.cycle_id,
            },
            &approver,
        ))
        .await
        .context("exporting the payment cycle")?
        .into_inner();
    let export = started.elapsed();
    let file_lines = exported.file.iter().filter(|b| **b == b'\n').count();
    anyhow::ensure!(
        u64::try_from(file_lines)? >= expected,
        "the bank file has {file_lines} lines for {expected} payments"
    );
    Ok(Cycle {
        lines: expected,
        generate,
        approve,
        export,
    })
}

/// Escapes a value for `COPY … FROM STDIN` text format.
fn copy_text(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// The raw baseline of a payment cycle: the same rows (case id, payee name, account, amount)
/// written by one `COPY … FROM STDIN` into a new bare table; rows per second, the text made
/// inside the clock.
pub async fn copy_lines(pool: &PgPool, tag: &str, lines: &[PlainLine]) -> anyhow::Result<f64> {
    let table = format!("bench_payment_lines_{tag}");
    sqlx::query(AssertSqlSafe(format!(
        "CREATE TABLE {table} (case_id text NOT NULL, payee_name text NOT NULL, \
         account text NOT NULL, amount_fen bigint NOT NULL)"
    )))
    .execute(pool)
    .await?;
    let rate = timed(|| async {
        let mut text = String::with_capacity(lines.len() * 64);
        for line in lines {
            copy_text(&line.case_id, &mut text);
            text.push('\t');
            copy_text(line.payee, &mut text);
            text.push('\t');
            copy_text(&line.account, &mut text);
            text.push('\t');
            text.push_str(&line.amount_fen.to_string());
            text.push('\n');
        }
        let mut copy = pool
            .copy_in_raw(&format!(
                "COPY {table} (case_id, payee_name, account, amount_fen) FROM STDIN"
            ))
            .await?;
        copy.send(text.into_bytes()).await?;
        let rows = copy.finish().await?;
        anyhow::ensure!(
            usize::try_from(rows)? == lines.len(),
            "COPY wrote {rows} rows"
        );
        Ok(lines.len())
    })
    .await?;
    sqlx::query(AssertSqlSafe(format!("DROP TABLE {table}")))
        .execute(pool)
        .await?;
    Ok(rate)
}

/// The month of payment cycle `round`: [`DAY`]'s, then the ones after it.
pub fn cycle_month(round: usize) -> Date {
    (0..round).fold(date!(2025 - 06 - 01), |month, _| case::next_month(month))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn households_are_distinct_valid_and_of_the_right_ages() {
        let mut seen = HashSet::new();
        for base in [SUBMISSION_SEQUENCES, LATENCY_SEQUENCES, CASELOAD_SEQUENCES] {
            for i in (0..100_000).step_by(997) {
                let family = Family::new(i, base, TOWNSHIPS[i % TOWNSHIPS.len()].0).unwrap();
                let household = family.household(DAY).unwrap();
                assert_eq!(household.unauthorized_adults(DAY), Vec::<&CitizenId>::new());
                for member in &family.members {
                    assert!(seen.insert(member.expose().to_owned()));
                }
                assert!(minzheng_types::age_on(family.members[2].birth_date(), DAY) < 18);
            }
        }
    }

    #[test]
    fn the_cycles_are_consecutive_months() {
        assert_eq!(cycle_month(0), date!(2025 - 06 - 01));
        assert_eq!(cycle_month(7), date!(2026 - 01 - 01));
    }

    #[test]
    fn copy_text_escapes_what_copy_reads_specially() {
        let mut out = String::new();
        copy_text("a\tb\\c\n", &mut out);
        assert_eq!(out, "a\\tb\\\\c\\n");
    }
}
