//! The civil-registry service's figures: marriage registrations at 32 concurrent gRPC clients,
//! beside transactions of three single-row INSERTs into a table with the event table's indexes
//! (a registration appends atomically to three streams: the marriage and both parties' person
//! streams) and beside the event store's own three-stream append; and `GetMaritalStatus` at 32
//! concurrent clients beside a bare gRPC round trip (the health check, with the same token)
//! against the same server.
//!
//! The service runs in-process in distributed mode (PostgreSQL store, NATS JetStream relay), as
//! `minzheng civilregistry` runs it, beside the place-names service (`minzheng placenames`),
//! whose events tell it which registries exist: the place-names service records Benxi's
//! divisions at start (its seed), and the benchmark waits until the civil registry lists Benxi's
//! six county-level registries. Both run on the test host, in fresh databases under one fresh
//! bus prefix, whose streams are removed at the end.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use futures::future::try_join_all;
use minzheng_eventstore::{
    AppendRequest, ExpectedVersion, Metadata, NewEvent, SharedStore, StreamId,
};
use minzheng_host::testing::{TestHost, token};
use minzheng_kit::{auth::Role, clock::FixedClock};
use minzheng_proto::{
    civilregistry::v1::{self as pb, civil_registry_service_client::CivilRegistryServiceClient},
    common::v1 as common,
};
use minzheng_types::CitizenId;
use secrecy::SecretString;
use sqlx::PgPool;
use time::{Date, macros::date};
use tonic::{
    Request,
    metadata::{Ascii, MetadataValue},
    transport::Channel,
};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use uuid::Uuid;

use super::{payload, timed};

/// The key of the person streams' pseudonyms (at least 32 bytes).
const PSEUDONYM_KEY: &str = "civilregistry-bench-pseudonym-key-32-bytes";
/// Benxi, for the agency (a booking portal) that books the appointments.
const BENXI_CITY: &str = "210500000000";
/// Benxi's county-level divisions, each with a marriage registry.
pub const REGISTRIES: usize = 6;
/// The day of every appointment and registration; the service's fixed clock shows it.
pub const DAY: Date = date!(2025 - 06 - 10);
/// The slots published at each registry: "0800" to "1700", 100 places each.
const SLOTS: usize = 10;
const SLOT_CAPACITY: u32 = 100;
/// Most appointments one registry day can issue.
const MAX_PER_DAY: usize = 999;
/// How long the civil registry may take to learn the registries from the place-names events.
const REGISTRIES_DEADLINE: Duration = Duration::from_secs(60);

/// Citizen-id sequence numbers (the 17th digit gives the sex: odd male, even female): the
/// couples who marry, and citizens of whom the registry holds nothing.
const HUSBAND_SEQUENCE: u16 = 1;
const WIFE_SEQUENCE: u16 = 2;
const UNKNOWN_MAN_SEQUENCE: u16 = 3;
const UNKNOWN_WOMAN_SEQUENCE: u16 = 4;

/// The `i`-th of `parts` near-equal shares of `total`.
fn share(total: usize, parts: usize, i: usize) -> usize {
    total / parts + usize::from(i < total % parts)
}

/// The `authorization` value of a test-host token for `roles` in `region`, made once per run
/// and cloned into each request.
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

fn metadata() -> Option<common::CommandMetadata> {
    Some(common::CommandMetadata {
        idempotency_key: Uuid::now_v7().to_string(),
        correlation_id: String::new(),
    })
}

fn citizen(number: &str) -> Option<common::CitizenRef> {
    Some(common::CitizenRef {
        citizen_id: number.to_owned(),
    })
}

fn region(code: &str) -> Option<common::RegionCode> {
    Some(common::RegionCode {
        code: code.to_owned(),
    })
}

/// A valid GB 11643 citizen id number: the county's 6 digits, a birth date `days` after
/// `born_from`, and `sequence` (whose parity is the sex), with its check character.
fn citizen_id(county: &str, born_from: Date, days: usize, sequence: u16) -> anyhow::Result<String> {
    let born = born_from + time::Duration::days(i64::try_from(days)?);
    let id = CitizenId::from_parts(&county[..6], born, sequence)?;
    Ok(id.expose().to_owned())
}

/// The man of the `index`-th couple at a registry: born from 1980-01-01 on, one day apart.
fn husband(county: &str, index: usize) -> anyhow::Result<String> {
    citizen_id(county, date!(1980 - 01 - 01), index, HUSBAND_SEQUENCE)
}

/// The woman of the `index`-th couple at a registry: born from 1990-01-01 on, one day apart.
fn wife(county: &str, index: usize) -> anyhow::Result<String> {
    citizen_id(county, date!(1990 - 01 - 01), index, WIFE_SEQUENCE)
}

/// `count` citizens of whom the registry holds no record (valid ids, never booked), alternately
/// men and women, spread over the registries' counties.
pub fn unknown_citizens(registries: &[String], count: usize) -> anyhow::Result<Vec<String>> {
    (0..count)
        .map(|i| {
            let county = &registries[i % registries.len()];
            let index = i / registries.len() / 2;
            if (i / registries.len()).is_multiple_of(2) {
                citizen_id(county, date!(1980 - 01 - 01), index, UNKNOWN_MAN_SEQUENCE)
            } else {
                citizen_id(county, date!(1990 - 01 - 01), index, UNKNOWN_WOMAN_SEQUENCE)
            }
        })
        .collect()
}

/// Both services running in-process in distributed mode, on the test host (a fresh database
/// each, one fresh bus prefix).
#[derive(Debug)]
pub struct Service {
    host: TestHost,
    registries: Vec<String>,
}

impl Service {
    /// Starts the place-names service with Benxi's divisions and the civil registry with its
    /// clock on [`DAY`], and waits until the civil registry lists Benxi's six registries.
    pub async fn start() -> anyhow::Result<Self> {
        let host = TestHost::distributed()
            .service(minzheng_placenames::Module::default().with_seed(minzheng_placenames::BENXI))
            .service(
                minzheng_civilregistry::Module::new(SecretString::from(PSEUDONYM_KEY))
                    .with_clock(Arc::new(FixedClock::new(DAY))),
            )
            .start()
            .await;
        let mut client = CivilRegistryServiceClient::new(host.channel("civilregistry").await);
        let deadline = Instant::now() + REGISTRIES_DEADLINE;
        let registries = loop {
            let listed = client
                .list_registries(pb::ListRegistriesRequest {
                    as_of: None,
                    read: None,
                })
                .await?
                .into_inner()
                .registries;
            if listed.len() == REGISTRIES {
                break listed
                    .into_iter()
                    .filter_map(|r| r.registry.map(|code| code.code))
                    .collect::<Vec<_>>();
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the civil registry lists {} registries, not {REGISTRIES}",
                listed.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        anyhow::ensure!(registries.len() == REGISTRIES, "a registry without a code");
        Ok(Self { host, registries })
    }

    /// The registries' county codes, as `ListRegistries` gave them.
    pub fn registries(&self) -> &[String] {
        &self.registries
    }

    /// One HTTP/2 connection to the civil registry (shared by the clients, as in
    /// `placenames::load`).
    async fn channel(&self) -> anyhow::Result<Channel> {
        super::driver::channel(&self.host, "civilregistry").await
    }

    /// Shuts both hosts down, then removes their JetStream streams and databases.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.host.shutdown().await;
        Ok(())
    }
}

/// A couple checked in on a marriage appointment, ready to register.
#[derive(Debug, Clone)]
pub struct Couple {
    /// Index into [`Service::registries`].
    registry: usize,
    appointment: String,
    husband: String,
    wife: String,
}

impl Couple {
    /// Both parties' citizen id numbers.
    pub fn parties(&self) -> [&str; 2] {
        [&self.husband, &self.wife]
    }
}

/// Publishes slots on [`DAY`] at every registry, books marriage appointments for `total`
/// distinct couples spread evenly over the registries (through an agency's portal), and checks
/// them in (registry caseworkers). Each registry's commands go one after another (they all
/// append to that registry day's stream), the registries side by side. The couples come back
/// interleaved by registry, so that any run of them spreads over all six.
pub async fn prepare(service: &Service, total: usize) -> anyhow::Result<Vec<Couple>> {
    let channel = service.channel().await?;
    let agency = bearer(&[Role::Agency], BENXI_CITY)?;
    let per_registry = try_join_all(service.registries().iter().enumerate().map(|(r, county)| {
        let (channel, agency) = (channel.clone(), agency.clone());
        let count = share(total, service.registries().len(), r);
        async move {
            anyhow::ensure!(
                count <= MAX_PER_DAY && count <= SLOTS * SLOT_CAPACITY as usize,
                "{count} appointments do not fit in one registry day"
            );
            let mut client = CivilRegistryServiceClient::new(channel);
            let approver = bearer(&[Role::Approver], county)?;
            let caseworker = bearer(&[Role::Caseworker], county)?;
            let slot = |s: usize| format!("{:02}00", 8 + s);
            client
                .publish_slots(with_token(
                    pb::PublishSlotsRequest {
                        metadata: metadata(),
                        registry: region(county),
                        day: Some(DAY.into()),
                        slots: (0..SLOTS)
                            .map(|s| pb::Slot {
                                slot_id: slot(s),
                                capacity: SLOT_CAPACITY,
                            })
                            .collect(),
                    },
                    &approver,
                ))
                .await
                .with_context(|| format!("publishing slots at {county}"))?;
            let mut couples = Vec::with_capacity(count);
            for i in 0..count {
                let (husband, wife) = (husband(county, i)?, wife(county, i)?);
                let appointment = client
                    .book_appointment(with_token(
                        pb::BookAppointmentRequest {
                            metadata: metadata(),
                            registry: region(county),
                            day: Some(DAY.into()),
                            slot_id: slot(i % SLOTS),
                            service: pb::AppointmentService::Marriage.into(),
                            parties: vec![
                                common::CitizenRef {
                                    citizen_id: husband.clone(),
                                },
                                common::CitizenRef {
                                    citizen_id: wife.clone(),
                                },
                            ],
                        },
                        &agency,
                    ))
                    .await
                    .with_context(|| format!("booking appointment {i} at {county}"))?
                    .into_inner()
                    .appointment_id;
                couples.push(Couple {
                    registry: r,
                    appointment,
                    husband,
                    wife,
                });
            }
            for couple in &couples {
                client
                    .check_in_appointment(with_token(
                        pb::CheckInAppointmentRequest {
                            metadata: metadata(),
                            appointment_id: couple.appointment.clone(),
                        },
                        &caseworker,
                    ))
                    .await
                    .with_context(|| format!("checking in {}", couple.appointment))?;
            }
            anyhow::Ok(couples)
        }
    }))
    .await?;
    let longest = per_registry.iter().map(Vec::len).max().unwrap_or(0);
    let mut columns: Vec<_> = per_registry.into_iter().map(Vec::into_iter).collect();
    Ok((0..longest)
        .flat_map(|_| {
            columns
                .iter_mut()
                .filter_map(Iterator::next)
                .collect::<Vec<_>>()
        })
        .collect())
}

/// The identity checks a registration carries: for each party an ID document check, a face
/// comparison and an e-signature, all passed.
fn verifications(parties: [&str; 2]) -> Vec<pb::Verification> {
    parties
        .into_iter()
        .flat_map(|number| {
            [
                pb::VerificationKind::IdDocument,
                pb::VerificationKind::FaceComparison,
                pb::VerificationKind::ESignature,
            ]
            .into_iter()
            .map(move |kind| pb::Verification {
                party: citizen(number),
                kind: kind.into(),
                method: "本溪市婚姻登记系统".into(),
                outcome: pb::VerificationOutcome::Passed.into(),
                score_permille: if kind == pb::VerificationKind::FaceComparison {
                    962
                } else {
                    0
                },
            })
        })
        .collect()
}

/// `clients` concurrent clients registering the marriages of `couples` (each couple once,
/// taken from a shared queue) with caseworker tokens of the couple's registry; registrations
/// per second. The connection is made and the tokens minted before the clock starts. Fails
/// unless every registration recorded a new marriage.
pub async fn register(
    service: &Service,
    couples: &[Couple],
    clients: usize,
) -> anyhow::Result<f64> {
    let channel = service.channel().await?;
    let tokens: Arc<[MetadataValue<Ascii>]> = service
        .registries()
        .iter()
        .map(|county| bearer(&[Role::Caseworker], county))
        .collect::<anyhow::Result<Vec<_>>>()?
        .into();
    let couples: Arc<[Couple]> = couples.into();
    let next = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let runs: Vec<_> = (0..clients)
        .map(|_| {
            let mut client = CivilRegistryServiceClient::new(channel.clone());
            let (tokens, couples, next, start) =
                (tokens.clone(), couples.clone(), next.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                while let Some(couple) = couples.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let registered = client
                        .register_marriage(with_token(
                            pb::RegisterMarriageRequest {
                                metadata: metadata(),
                                appointment_id: couple.appointment.clone(),
                                parties: vec![
                                    pb::Party {
                                        citizen: citizen(&couple.husband),
                                        name: "张三".into(),
                                    },
                                    pb::Party {
                                        citizen: citizen(&couple.wife),
                                        name: "李四".into(),
                                    },
                                ],
                                verifications: verifications(couple.parties()),
                            },
                            &tokens[couple.registry],
                        ))
                        .await
                        .with_context(|| format!("registering on {}", couple.appointment))?
                        .into_inner();
                    anyhow::ensure!(
                        registered.result.is_some(),
                        "{} was registered already",
                        couple.appointment
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
    Ok(super::rate(couples.len(), started.elapsed()))
}

const INSERT_INDEXED: &str =
    "INSERT INTO bench_indexed (event_id, stream_id, stream_version, event_type, payload)
     VALUES ($1, $2, $3, $4, $5)";

/// The raw baseline of a registration: `clients` concurrent clients, each committing
/// `per_client` transactions of three single-row INSERTs (BEGIN, three INSERTs, COMMIT) into
/// `postgres_baseline::INDEXED`, the table with the event table's indexes, each row for a new
/// stream; transactions per second. Each run uses fresh stream ids (`tag`).
pub async fn three_row_transactions(
    pool: &PgPool,
    tag: &str,
    clients: usize,
    per_client: usize,
) -> anyhow::Result<f64> {
    timed(|| async {
        try_join_all((0..clients).map(|c| async move {
            for t in 0..per_client {
                let mut transaction = pool.begin().await?;
                for s in 0..3 {
                    sqlx::query(INSERT_INDEXED)
                        .bind(Uuid::now_v7())
                        .bind(format!("{tag}c{c}t{t}s{s}"))
                        .bind(1_i64)
                        .bind("bench.v1.Happened")
                        .bind(payload((t * 3 + s) as u64).to_vec())
                        .execute(&mut *transaction)
                        .await?;
                }
                transaction.commit().await?;
            }
            anyhow::Ok(())
        }))
        .await?;
        Ok(clients * per_client)
    })
    .await
}

/// The event store's side of a registration: `writers` concurrent writers, each making
/// `per_writer` atomic appends of one event to each of three new streams (`append_all`, as
/// a registration commits); appends per second. Each run uses fresh stream ids (`tag`).
pub async fn three_stream_appends(
    store: &SharedStore,
    tag: &str,
    writers: usize,
    per_writer: usize,
) -> anyhow::Result<f64> {
    timed(|| async {
        try_join_all((0..writers).map(|w| async move {
            for a in 0..per_writer {
                let requests = (0..3)
                    .map(|s| {
                        Ok(AppendRequest {
                            stream: StreamId::new("thing", format!("{tag}w{w}a{a}s{s}"))?,
                            expected: ExpectedVersion::NoStream,
                            events: vec![NewEvent::new(
                                "minzheng.bench.v1.ThingHappened",
                                1,
                                payload((a * 3 + s) as u64),
                            )],
                            metadata: Metadata {
                                correlation_id: Some(Uuid::now_v7()),
                                actor: Some("bench".into()),
                                ..Metadata::default()
                            },
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                store.append_all(requests).await?;
            }
            anyhow::Ok(())
        }))
        .await?;
        Ok(writers * per_writer)
    })
    .await
}

/// The call each client makes in a loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `grpc.health.v1.Health/Check` for the server as a whole, carrying the same token as the
    /// queries: the bare gRPC round trip through the same server, its layers (the token's
    /// verification) included.
    HealthCheck,
    /// `GetMaritalStatus` of a random citizen from the list, today.
    GetMaritalStatus,
}

/// The outcome of one load run.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Completed requests per second, all clients together.
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

struct Caller {
    health: HealthClient<Channel>,
    registry: CivilRegistryServiceClient<Channel>,
    token: MetadataValue<Ascii>,
}

impl Caller {
    async fn call(&mut self, call: Call, number: &str) -> anyhow::Result<()> {
        match call {
            Call::HealthCheck => {
                self.health
                    .check(with_token(
                        HealthCheckRequest {
                            service: String::new(),
                        },
                        &self.token,
                    ))
                    .await?;
            }
            Call::GetMaritalStatus => {
                self.registry
                    .get_marital_status(with_token(
                        pb::GetMaritalStatusRequest {
                            citizen: citizen(number),
                            as_of: None,
                            read: None,
                        },
                        &self.token,
                    ))
                    .await?;
            }
        }
        Ok(())
    }
}

/// Checks that `married` citizens are married and `unknown` ones have no record, with the
/// token the load uses: the load measures the answers it should.
pub async fn check_statuses(service: &Service, married: &str, unknown: &str) -> anyhow::Result<()> {
    let mut client = CivilRegistryServiceClient::new(service.channel().await?);
    let token = bearer(&[Role::Agency], BENXI_CITY)?;
    for (number, expected) in [
        (married, pb::MaritalStatus::Married),
        (unknown, pb::MaritalStatus::NoRecord),
    ] {
        let status = client
            .get_marital_status(with_token(
                pb::GetMaritalStatusRequest {
                    citizen: citizen(number),
                    as_of: None,
                    read: None,
                },
                &token,
            ))
            .await?
            .into_inner()
            .status();
        anyhow::ensure!(status == expected, "status {status:?}, not {expected:?}");
    }
    Ok(())
}

/// `clients` concurrent clients, each calling `call` back to back on random `citizens` for
/// `duration` with an agency's token (agencies read marital status); the rate and latency
/// percentiles of every call. As `placenames::load`: the clients share one channel, made
/// before the clock starts.
pub async fn load(
    service: &Service,
    call: Call,
    citizens: &Arc<[String]>,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Load> {
    let channel = service.channel().await?;
    let token = bearer(&[Role::Agency], BENXI_CITY)?;
    let start = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let runs: Vec<_> = (0..clients)
        .map(|i| {
            let mut caller = Caller {
                health: HealthClient::new(channel.clone()),
                registry: CivilRegistryServiceClient::new(channel.clone()),
                token: token.clone(),
            };
            let (citizens, start) = (citizens.clone(), start.clone());
            tokio::spawn(async move {
                let mut histogram = hdrhistogram::Histogram::<u64>::new(3)?;
                // xorshift64: uniform enough, and the same sequence every run.
                let mut x = 0x9E37_79B9_7F4A_7C15_u64 ^ (i as u64 + 1);
                start.wait().await;
                let deadline = Instant::now() + duration;
                while Instant::now() < deadline {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let number = &citizens[(x % citizens.len() as u64) as usize];
                    let sent = Instant::now();
                    caller.call(call, number).await?;
                    let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                    histogram.record(micros.max(1))?;
                }
                anyhow::Ok((histogram, Instant::now()))
            })
        })
        .collect();
    start.wait().await;
    let started = Instant::now();
    let mut total = hdrhistogram::Histogram::<u64>::new(3)?;
    let mut finished = started;
    for (histogram, ended) in try_join_all(runs)
        .await?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
    {
        total.add(&histogram)?;
        finished = finished.max(ended);
    }
    let elapsed = finished.duration_since(started);
    Ok(Load {
        rate: total.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: total.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: total.value_at_quantile(0.99) as f64 / 1000.0,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use minzheng_types::Sex;

    use super::*;

    const COUNTIES: [&str; 2] = ["210502000000", "210521000000"];

    #[test]
    fn generated_citizens_are_valid_distinct_and_of_the_right_sex() {
        let registries: Vec<String> = COUNTIES.iter().map(|c| (*c).to_owned()).collect();
        let mut seen = HashSet::new();
        for county in COUNTIES {
            for i in 0..MAX_PER_DAY {
                let (h, w) = (husband(county, i).unwrap(), wife(county, i).unwrap());
                let (h_id, w_id) = (CitizenId::parse(&h).unwrap(), CitizenId::parse(&w).unwrap());
                assert_eq!(h_id.sex(), Sex::Male);
                assert_eq!(w_id.sex(), Sex::Female);
                assert!((1980..=1995).contains(&h_id.birth_date().year()));
                assert!(seen.insert(h) && seen.insert(w));
            }
        }
        for number in unknown_citizens(&registries, 4 * MAX_PER_DAY).unwrap() {
            CitizenId::parse(&number).unwrap();
            assert!(seen.insert(number));
        }
    }

    #[test]
    fn the_check_character_follows_gb_11643() {
        // The example printed in GB 11643-1999 itself.
        let id = citizen_id("110105", date!(1949 - 12 - 31), 0, 2).unwrap();
        assert_eq!(id, "11010519491231002X");
    }
}
