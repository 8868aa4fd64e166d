//! The steady command load, through the services' public gRPC APIs, as clients use them:
//!
//! - place names: an operator imports one new county-level division at a time (with its city),
//!   then reads it back with `min_position` (read-your-writes); each division event reaches the
//!   civil registry's divisions projection on JetStream;
//! - civil registry, one worker per Benxi registry: slots for today, then couples book, check in
//!   and register their marriage, and the marital status is read back with `min_position`; when
//!   the day is full, appointments are booked on the days after;
//! - civil registry: deaths notified by a hospital, whose free-text document reference holds
//!   the deceased's citizen id (it must never reach a subject or key);
//! - elderly care ([`eldercare`]): institutions registered across Benxi's counties, capacity
//!   assessments of elderly persons read back with `min_position`, and the deaths of some of
//!   them notified to the civil registry, which the elderly-care service must note once;
//! - child welfare ([`childwelfare`]): mandatory reports filed by schools (the case read back
//!   with `min_position`), orphans identified, and the deaths of some of them notified to the
//!   civil registry, which the child-welfare service must note once.
//!
//! Every command carries an idempotency key; a command that got an error that may be passing
//! (UNAVAILABLE, DEADLINE_EXCEEDED, a cut connection, INTERNAL too) is sent again with the same
//! key until it is acknowledged — ambiguous outcomes are the interesting case — or the run gives
//! up on it. What was acknowledged goes to the [`Ledger`], which reconciliation checks against
//! the stores, with the effects a consumer must have had once (an expected [`Effect`]).

mod childwelfare;
mod eldercare;

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use minzheng_kit::{
    auth::{Claims, Role, mint_hs256},
    clock::today_in_china,
};
use minzheng_proto::{
    civilregistry::v1::{self as cr, civil_registry_service_client::CivilRegistryServiceClient},
    common::v1 as common,
    placenames::v1::{self as pn, place_names_service_client::PlaceNamesServiceClient},
};
use minzheng_types::{CitizenId, RegionCode};
use secrecy::SecretString;
use time::{Date, macros::date};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Request, Response, Status, transport::Channel};

use super::ledger::{Acknowledged, Effect, Ledger};

/// Each call's deadline.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// The pause between a failed call and its retry.
const RETRY_PAUSE: Duration = Duration::from_millis(250);
/// Benxi's county-level divisions, each with a marriage registry.
pub const BENXI_REGISTRIES: [&str; 6] = [
    "210502000000",
    "210503000000",
    "210504000000",
    "210505000000",
    "210521000000",
    "210522000000",
];
const LIAONING: &str = "210000000000";
/// Appointments one registry day can hold here: ten slots of 100 ("0800" to "1700"), and the
/// ordinal of an appointment id has three digits.
const SLOTS: u32 = 10;
const APPOINTMENTS_PER_DAY: u32 = 999;
/// One township of each of Benxi's county-level divisions (`(county, township)`), where the
/// elderly-care and child-welfare records of the load are placed.
const BENXI_TOWNSHIPS: [(&str, &str); 6] = [
    ("210502000000", "210502003000"),
    ("210503000000", "210503003000"),
    ("210504000000", "210504005000"),
    ("210505000000", "210505001000"),
    ("210521000000", "210521100000"),
    ("210522000000", "210522001000"),
];

/// When the load stops: `finish` stops new work (commands under way still get their retries);
/// `give_up` abandons retries (their commands count as unresolved).
#[derive(Debug, Clone, Default)]
pub struct Stop {
    pub finish: CancellationToken,
    pub give_up: CancellationToken,
}

/// The clients of the load.
#[derive(Debug, Clone)]
pub struct Load {
    ledger: Ledger,
    stop: Stop,
    placenames: Channel,
    civilregistry: Channel,
    eldercare: Channel,
    childwelfare: Channel,
    authorization: Arc<str>,
    today: Date,
    /// The pause between two units of work of one worker: a steady load, not a benchmark.
    pace: Duration,
}

impl Load {
    /// Clients of the services at the addresses `addr` gives, with a token for every role over
    /// Liaoning signed with `token_secret` (valid for the whole run).
    pub fn new(
        ledger: Ledger,
        stop: Stop,
        addr: impl Fn(&'static str) -> SocketAddr,
        token_secret: &str,
        run_for: Duration,
        pace: Duration,
    ) -> anyhow::Result<Self> {
        let claims = Claims::new(
            "chaos-harness",
            &Role::ALL,
            &[RegionCode::parse(LIAONING)?],
            run_for + Duration::from_secs(3600),
        )
        .with_agency("chaos-portal");
        let token = mint_hs256(&SecretString::from(token_secret.to_owned()), &claims)?;
        let channel = |service: &'static str| -> anyhow::Result<Channel> {
            Ok(Channel::from_shared(format!("http://{}", addr(service)))?
                .connect_timeout(Duration::from_secs(2))
                .connect_lazy())
        };
        Ok(Self {
            ledger,
            stop,
            placenames: channel("placenames")?,
            civilregistry: channel("civilregistry")?,
            eldercare: channel("eldercare")?,
            childwelfare: channel("childwelfare")?,
            authorization: format!("Bearer {token}").into(),
            today: today_in_china(),
            pace,
        })
    }

    /// Imports Benxi's divisions (as an operator would, once) and waits until the civil
    /// registry knows its six registries from the division events.
    pub async fn seed(&self) -> anyhow::Result<()> {
        let benxi = minzheng_placenames::BENXI;
        self.command(
            "placenames",
            "placenames.ImportDivisions",
            "chaos-import-benxi".to_owned(),
            |answer: &pn::ImportDivisionsResponse| (answer.position, None),
            |metadata| {
                let mut client = self.placenames();
                let request = self.request(pn::ImportDivisionsRequest {
                    metadata,
                    csv: benxi.csv.as_bytes().to_vec(),
                    valid_from: Some(benxi.valid_from.into()),
                });
                async move { client.import_divisions(request).await }
            },
        )
        .await
        .ok_or_else(|| anyhow::anyhow!("the import of Benxi's divisions was refused"))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let listed = self
                .civilregistry()
                .list_registries(self.request(cr::ListRegistriesRequest {
                    as_of: None,
                    read: None,
                }))
                .await
                .map(|answer| answer.into_inner().registries.len())
                .unwrap_or(0);
            if listed >= BENXI_REGISTRIES.len() {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the civil registry lists {listed} registries a minute after Benxi's import"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs every worker until `finish`, then until their last commands are resolved.
    pub async fn run(self) {
        let mut workers = tokio::task::JoinSet::new();
        workers.spawn(self.clone().divisions());
        for registry in BENXI_REGISTRIES {
            workers.spawn(self.clone().marriages(registry));
        }
        workers.spawn(self.clone().deaths());
        workers.spawn(self.clone().institutions());
        workers.spawn(self.clone().elders());
        workers.spawn(self.clone().reports());
        workers.spawn(self.clone().orphans());
        while workers.join_next().await.is_some() {}
    }

    fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.set_timeout(CALL_TIMEOUT);
        let metadata = request.metadata_mut();
        if let Ok(value) = self.authorization.parse() {
            metadata.insert("authorization", value);
        }
        metadata.insert(
            minzheng_host::edge::PURPOSE_HEADER,
            "chaos-reconciliation".parse().expect("ASCII"),
        );
        request
    }

    fn placenames(&self) -> PlaceNamesServiceClient<Channel> {
        PlaceNamesServiceClient::new(self.placenames.clone())
    }

    fn civilregistry(&self) -> CivilRegistryServiceClient<Channel> {
        CivilRegistryServiceClient::new(self.civilregistry.clone())
    }

    /// Sends a command until it is acknowledged, refused, or given up; the acknowledgement goes
    /// to the ledger with what `receipt` reads from the answer: the position, and the id of the
    /// record it names, if any.
    async fn command<T, F, Fut>(
        &self,
        service: &'static str,
        operation: &'static str,
        idempotency_key: String,
        receipt: impl Fn(&T) -> (u64, Option<String>),
        mut call: F,
    ) -> Option<T>
    where
        F: FnMut(Option<common::CommandMetadata>) -> Fut,
        Fut: Future<Output = Result<Response<T>, Status>>,
    {
        let mut retry = false;
        loop {
            if self.stop.give_up.is_cancelled() {
                self.ledger.unresolved(operation);
                return None;
            }
            let metadata = Some(common::CommandMetadata {
                idempotency_key: idempotency_key.clone(),
                correlation_id: String::new(),
            });
            let during_outage = self.ledger.postgres_down();
            let started = Instant::now();
            let answer = call(metadata).await;
            let took = started.elapsed();
            match answer {
                Ok(answer) => {
                    self.ledger
                        .call(operation, Ok(()), retry, during_outage, took);
                    let answer = answer.into_inner();
                    let (position, record) = receipt(&answer);
                    self.ledger.acknowledged(Acknowledged {
                        service,
                        operation,
                        idempotency_key,
                        position,
                        record,
                    });
                    return Some(answer);
                }
                Err(status) => {
                    self.ledger
                        .call(operation, Err(status.code()), retry, during_outage, took);
                    if !passing(status.code()) {
                        return None;
                    }
                }
            }
            retry = true;
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }

    /// Sends a query until it is answered or fails for good (None when given up).
    async fn query<T, F, Fut>(
        &self,
        operation: &'static str,
        mut call: F,
    ) -> Option<Result<T, Status>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Response<T>, Status>>,
    {
        let mut retry = false;
        loop {
            if self.stop.give_up.is_cancelled() {
                return None;
            }
            let during_outage = self.ledger.postgres_down();
            let started = Instant::now();
            let answer = call().await;
            let took = started.elapsed();
            let code = answer.as_ref().map(|_| ()).map_err(Status::code);
            self.ledger
                .call(operation, code, retry, during_outage, took);
            match answer {
                Err(status) if passing(status.code()) => {}
                answer => return Some(answer.map(Response::into_inner)),
            }
            retry = true;
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }

    /// One new county (and its city) per import, read back at the import's position.
    async fn divisions(self) {
        for k in 0u32.. {
            if self.stop.finish.is_cancelled() || k >= 85 * 99 {
                return;
            }
            let (city, county) = (15 + k / 99, 1 + k % 99);
            let city_code = format!("21{city:02}00000000");
            let county_code = format!("21{city:02}{county:02}000000");
            let county_name = format!("第{county}县");
            let csv = format!(
                "code,name,level,parent_code\n{city_code},第{city}市,city,{LIAONING}\n\
                 {county_code},{county_name},county,{city_code}\n"
            );
            let imported = self
                .command(
                    "placenames",
                    "placenames.ImportDivisions",
                    format!("chaos-import-{k}"),
                    |answer: &pn::ImportDivisionsResponse| (answer.position, None),
                    |metadata| {
                        let mut client = self.placenames();
                        let request = self.request(pn::ImportDivisionsRequest {
                            metadata,
                            csv: csv.clone().into_bytes(),
                            valid_from: Some(date!(2023 - 06 - 30).into()),
                        });
                        async move { client.import_divisions(request).await }
                    },
                )
                .await;
            if let Some(imported) = imported {
                self.division_is_readable(&county_code, &county_name, imported.position)
                    .await;
            }
            tokio::time::sleep(self.pace).await;
        }
    }

    /// Read-your-writes: the division just imported, at the import's position.
    async fn division_is_readable(&self, code: &str, name: &str, position: u64) {
        let read = self
            .query("placenames.GetDivision(min_position)", || {
                let mut client = self.placenames();
                let request = self.request(pn::GetDivisionRequest {
                    code: Some(region(code)),
                    as_of: None,
                    read: Some(common::ReadOptions {
                        min_position: position,
                    }),
                });
                async move { client.get_division(request).await }
            })
            .await;
        match read {
            None => {}
            Some(Ok(answer)) if answer.division.as_ref().is_some_and(|d| d.name == name) => {}
            Some(Ok(_)) => self.ledger.violation(format!(
                "read-your-writes: GetDivision({code}) at min_position {position} answered \
                 without the imported name"
            )),
            Some(Err(status)) => self.ledger.violation(format!(
                "read-your-writes: GetDivision({code}) at min_position {position} answered \
                 {:?}",
                status.code()
            )),
        }
    }

    /// A registry's couples: today's appointments booked, checked in and registered; the
    /// following days' appointments booked once today is full.
    async fn marriages(self, registry: &'static str) {
        let county = &registry[..6];
        for day_offset in 0u32.. {
            let day = self.today + time::Duration::days(i64::from(day_offset));
            if !self.publish_slots(registry, day).await {
                return;
            }
            for ordinal in 0..APPOINTMENTS_PER_DAY {
                if self.stop.finish.is_cancelled() {
                    return;
                }
                let couple = day_offset * APPOINTMENTS_PER_DAY + ordinal;
                let husband = citizen(county, date!(1970 - 01 - 01), couple, 1);
                let wife = citizen(county, date!(1975 - 01 - 01), couple, 2);
                self.ledger.citizen_id(&husband);
                self.ledger.citizen_id(&wife);
                let slot = slot(ordinal % SLOTS);
                let Some(booked) = self
                    .command(
                        "civilregistry",
                        "civilregistry.BookAppointment",
                        format!("chaos-book-{county}-{couple}"),
                        |answer: &cr::BookAppointmentResponse| {
                            (
                                answer.result.as_ref().map_or(0, |r| r.position),
                                Some(answer.appointment_id.clone()),
                            )
                        },
                        |metadata| {
                            let mut client = self.civilregistry();
                            let request = self.request(cr::BookAppointmentRequest {
                                metadata,
                                registry: Some(region(registry)),
                                day: Some(day.into()),
                                slot_id: slot.clone(),
                                service: cr::AppointmentService::Marriage.into(),
                                parties: [&husband, &wife]
                                    .into_iter()
                                    .filter_map(|c| citizen_ref(c))
                                    .collect(),
                            });
                            async move { client.book_appointment(request).await }
                        },
                    )
                    .await
                else {
                    continue;
                };
                if day_offset == 0 {
                    self.marry(&booked.appointment_id, &husband, &wife).await;
                }
                tokio::time::sleep(self.pace).await;
            }
        }
    }

    /// Publishes the registry's slots on `day`; false when the run ends first.
    async fn publish_slots(&self, registry: &str, day: Date) -> bool {
        let published = self
            .command(
                "civilregistry",
                "civilregistry.PublishSlots",
                format!("chaos-slots-{}-{day}", &registry[..6]),
                |answer: &cr::PublishSlotsResponse| {
                    (answer.result.as_ref().map_or(0, |r| r.position), None)
                },
                |metadata| {
                    let mut client = self.civilregistry();
                    let request = self.request(cr::PublishSlotsRequest {
                        metadata,
                        registry: Some(region(registry)),
                        day: Some(day.into()),
                        slots: (0..SLOTS)
                            .map(|s| cr::Slot {
                                slot_id: slot(s),
                                capacity: 100,
                            })
                            .collect(),
                    });
                    async move { client.publish_slots(request).await }
                },
            )
            .await;
        published.is_some()
    }

    /// Checks the couple in, registers the marriage and reads the status back at the
    /// registration's position.
    async fn marry(&self, appointment: &str, husband: &str, wife: &str) {
        let checked_in = self
            .command(
                "civilregistry",
                "civilregistry.CheckInAppointment",
                format!("chaos-checkin-{appointment}"),
                |answer: &cr::CheckInAppointmentResponse| {
                    (answer.result.as_ref().map_or(0, |r| r.position), None)
                },
                |metadata| {
                    let mut client = self.civilregistry();
                    let request = self.request(cr::CheckInAppointmentRequest {
                        metadata,
                        appointment_id: appointment.to_owned(),
                    });
                    async move { client.check_in_appointment(request).await }
                },
            )
            .await;
        if checked_in.is_none() {
            return;
        }
        let Some(registered) = self
            .command(
                "civilregistry",
                "civilregistry.RegisterMarriage",
                format!("chaos-marry-{appointment}"),
                |answer: &cr::RegisterMarriageResponse| {
                    (
                        answer.result.as_ref().map_or(0, |r| r.position),
                        Some(answer.marriage_id.clone()),
                    )
                },
                |metadata| {
                    let mut client = self.civilregistry();
                    let request = self.request(cr::RegisterMarriageRequest {
                        metadata,
                        appointment_id: appointment.to_owned(),
                        parties: vec![
                            cr::Party {
                                citizen: citizen_ref(husband),
                                name: "张三".into(),
                            },
                            cr::Party {
                                citizen: citizen_ref(wife),
                                name: "李四".into(),
                            },
                        ],
                        verifications: verifications(&[husband, wife]),
                    });
                    async move { client.register_marriage(request).await }
                },
            )
            .await
        else {
            return;
        };
        let position = registered.result.as_ref().map_or(0, |r| r.position);
        let read = self
            .query("civilregistry.GetMaritalStatus(min_position)", || {
                let mut client = self.civilregistry();
                let request = self.request(cr::GetMaritalStatusRequest {
                    citizen: citizen_ref(husband),
                    as_of: None,
                    read: Some(common::ReadOptions {
                        min_position: position,
                    }),
                });
                async move { client.get_marital_status(request).await }
            })
            .await;
        match read {
            None => {}
            Some(Ok(status))
                if status.status == cr::MaritalStatus::Married as i32
                    && status.certificate_number == registered.certificate_number => {}
            Some(Ok(status)) => self.ledger.violation(format!(
                "read-your-writes: GetMaritalStatus after marriage {} at min_position \
                 {position} answered status {} certificate {:?}",
                registered.marriage_id, status.status, status.certificate_number
            )),
            Some(Err(status)) => self.ledger.violation(format!(
                "read-your-writes: GetMaritalStatus after marriage {} at min_position \
                 {position} answered {:?}",
                registered.marriage_id,
                status.code()
            )),
        }
    }

    /// Deaths notified by a hospital; the document reference (free text) names the deceased's
    /// citizen id, as real notices do.
    async fn deaths(self) {
        for j in 0u32.. {
            if self.stop.finish.is_cancelled() {
                return;
            }
            let deceased = citizen("210502", date!(1930 - 01 - 01), j, 5);
            self.ledger.citizen_id(&deceased);
            self.record_death(format!("chaos-death-{j}"), &deceased)
                .await;
            tokio::time::sleep(self.pace * 3).await;
        }
    }

    /// A hospital notifies the death of `deceased` (a citizen id the ledger knows) yesterday,
    /// under `idempotency_key`; the answer when acknowledged.
    async fn record_death(
        &self,
        idempotency_key: String,
        deceased: &str,
    ) -> Option<cr::RecordDeathResponse> {
        self.command(
            "civilregistry",
            "civilregistry.RecordDeath",
            idempotency_key,
            |answer: &cr::RecordDeathResponse| {
                (
                    answer.result.as_ref().map_or(0, |r| r.position),
                    Some(answer.death_id.clone()),
                )
            },
            |metadata| {
                let mut client = self.civilregistry();
                let request = self.request(cr::RecordDeathRequest {
                    metadata,
                    citizen: citizen_ref(deceased),
                    name: "王五".into(),
                    died_on: Some((self.today - time::Duration::days(1)).into()),
                    county: Some(region(BENXI_REGISTRIES[0])),
                    source: cr::DeathSource::Hospital.into(),
                    source_reference: format!("死亡医学证明 {deceased}"),
                });
                async move { client.record_death(request).await }
            },
        )
        .await
    }

    /// Notifies the death of `deceased`, whose record `record` in `service` must then note it
    /// once (`event_type` on that stream): the consumer's effect the ledger expects.
    async fn death_noted_by(
        &self,
        idempotency_key: String,
        deceased: &str,
        service: &'static str,
        record: &str,
        event_type: &'static str,
    ) {
        if self
            .record_death(idempotency_key.clone(), deceased)
            .await
            .is_some()
        {
            self.ledger.expect_effect(Effect {
                service,
                record: record.to_owned(),
                event_type,
                cause: format!("civilregistry.RecordDeath {idempotency_key}"),
            });
        }
    }
}

/// Errors that may pass, so the same command is sent again. INTERNAL is retried too (it is
/// also recorded as a violation): the command may still have been recorded.
fn passing(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Cancelled
            | Code::Unknown
            | Code::Aborted
            | Code::ResourceExhausted
            | Code::Internal
    )
}

fn region(code: &str) -> common::RegionCode {
    common::RegionCode {
        code: code.to_owned(),
    }
}

fn citizen_ref(number: &str) -> Option<common::CitizenRef> {
    Some(common::CitizenRef {
        citizen_id: number.to_owned(),
    })
}

fn slot(index: u32) -> String {
    format!("{:02}00", 8 + index)
}

/// A valid citizen id of `county` (6 digits), born `index` days after `born_from`, with
/// `sequence` (odd: a man, even: a woman).
fn citizen(county: &str, born_from: Date, index: u32, sequence: u16) -> String {
    let born = born_from + time::Duration::days(i64::from(index));
    CitizenId::from_parts(county, born, sequence)
        .map(|id| id.expose().to_owned())
        .expect("a citizen id from valid parts")
}

/// The `n`th of a series of persons of `county` born within `days` days of `born_from`: the
/// series wraps onto further sequence numbers (from `first_sequence`, of one sex), so a long run
/// never runs out of ids nor leaves the age it needs.
fn person_of_series(
    county: &str,
    born_from: Date,
    days: u32,
    first_sequence: u16,
    n: u32,
) -> String {
    let sequence = u32::from(first_sequence) + 10 * (n / days);
    let sequence = u16::try_from(sequence).expect("fewer than a hundred rounds of a series");
    citizen(county, born_from, n % days, sequence)
}

/// For each party an ID document check, a face comparison and an e-signature, all passed.
fn verifications(parties: &[&str]) -> Vec<cr::Verification> {
    parties
        .iter()
        .flat_map(|number| {
            [
                cr::VerificationKind::IdDocument,
                cr::VerificationKind::FaceComparison,
                cr::VerificationKind::ESignature,
            ]
            .into_iter()
            .map(|kind| cr::Verification {
                party: citizen_ref(number),
                kind: kind.into(),
                method: "本溪市婚姻登记系统".into(),
                outcome: cr::VerificationOutcome::Passed.into(),
                score_permille: if kind == cr::VerificationKind::FaceComparison {
                    962
                } else {
                    0
                },
            })
        })
        .collect()
}
