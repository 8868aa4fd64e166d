//! The household economic-status verification (家庭经济状况核对), asked over gRPC or by the
//! assistance service's request on the bus: the facts read as known at a time (the knowledge
//! clock), then [`crate::verification::verify`]. A request is answered on the service's stream
//! `verification-<request_id>`, once: `HouseholdVerificationCompleted`, or
//! `HouseholdVerificationRefused` when a member's authorizations do not open what it reads.

use std::{sync::LazyLock, time::Instant};

use minzheng_eventstore::{
    AppendRequest, ExpectedVersion, Metadata, NewEvent, StoreError, StreamId,
};
use minzheng_host::audit::{Entry, Outcome};
use minzheng_kit::{Error, aggregate::CommandContext};
use minzheng_types::{BoundedText, CitizenId, RegionCode};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{DataSharing, store_error};
use crate::{
    assistance::VerificationRequest,
    authorization::{Authorization, AuthorizationId, PURPOSE_MAX_CHARS},
    codec::report,
    knowledge,
    records::DataClass,
    verification::{self, Area, Inputs, Report},
};

/// A verification asked.
#[derive(Debug, Clone)]
pub struct Question {
    pub members: Vec<CitizenId>,
    pub county: RegionCode,
    pub area: Option<Area>,
    pub verify_on: Date,
    /// As known at this time; now when absent.
    pub as_known_at: Option<OffsetDateTime>,
}

/// How long a verification takes, asked over gRPC, by the bus or by proactive discovery: the
/// facts read as known at its time and the computation (`minzheng.datasharing.verification.
/// duration`, milliseconds, by outcome). Made on first use, after telemetry is set up.
static VERIFICATION_DURATION: LazyLock<opentelemetry::metrics::Histogram<f64>> =
    LazyLock::new(|| {
        minzheng_telemetry::meter()
            .f64_histogram("minzheng.datasharing.verification.duration")
            .with_unit("ms")
            .with_description(
                "time to verify a household's economic status: the facts as known at its time, \
                 then the computation, by outcome",
            )
            .build()
    });

/// The purpose recorded with the authorizations a request carries.
const CARRIED_PURPOSE: &str = "社会救助家庭经济状况核对（随申请签署）";

impl DataSharing {
    /// Verifies, reading the facts as known at the question's time. Checks no authorization:
    /// the caller does (see [`DataSharing::missing_authorizations`]).
    pub async fn verify(&self, question: &Question) -> Result<Report, Error> {
        let started = Instant::now();
        let verified = self.verify_now(question).await;
        let outcome = if verified.is_ok() { "ok" } else { "error" };
        VERIFICATION_DURATION.record(
            started.elapsed().as_secs_f64() * 1_000.0,
            &[opentelemetry::KeyValue::new("outcome", outcome)],
        );
        verified
    }

    async fn verify_now(&self, question: &Question) -> Result<Report, Error> {
        let db = self.records.db();
        let (known, records) = match question.as_known_at {
            Some(at) => {
                let known = knowledge::as_known_at(db, at).await.map_err(store_error)?;
                let records = self
                    .records
                    .records_of(&question.members, known)
                    .await
                    .map_err(store_error)?;
                (known, records)
            }
            // Now: the clock and the records in one round trip.
            None => self
                .records
                .records_known_now(&question.members)
                .await
                .map_err(store_error)?,
        };
        let day = question.verify_on;
        let county = self
            .facts
            .county(db, question.county, question.area, day, known)
            .await
            .map_err(store_error)?;
        let (lines, thresholds) = &*county;
        let latest_extracts = self
            .facts
            .extracts(&self.records, known)
            .await
            .map_err(store_error)?;
        Ok(verification::verify(&Inputs {
            members: &question.members,
            county: question.county,
            area: question.area,
            verify_on: day,
            knowledge: known,
            records: &records,
            latest_extracts: &latest_extracts,
            lines: *lines,
            thresholds: thresholds.as_ref().map(|(number, t)| (*number, t)),
        }))
    }

    /// Answers an assistance service's verification request (consumed as event `event_id`):
    /// records the authorizations it carries, verifies as of today if they open every class it
    /// reads, and appends the answer. Idempotent: a request answered already is left alone.
    pub async fn answer(&self, request: &VerificationRequest, event_id: Uuid) -> Result<(), Error> {
        let stream =
            StreamId::new("verification", request.request_id.as_str()).map_err(store_error)?;
        if self
            .store
            .stream_version(&stream)
            .await
            .map_err(store_error)?
            > 0
        {
            return Ok(());
        }
        let carried = self.record_carried(request, event_id).await?;
        let today = self.today();
        let missing = self
            .missing_authorizations(&request.members, &DataClass::ECONOMIC, &[today], &carried)
            .await?;
        let (event_type, payload, outcome) = if missing.is_empty() {
            let report = self
                .verify(&Question {
                    members: request.members.clone(),
                    county: request.county,
                    area: request.area,
                    verify_on: today,
                    as_known_at: None,
                })
                .await?;
            let (event_type, payload) =
                report::completed_event(request.request_id.as_str(), &request.case_id, &report);
            (event_type, payload, Outcome::Allowed)
        } else {
            let (event_type, payload) = report::refused_event(
                request.request_id.as_str(),
                &request.case_id,
                today,
                &missing,
            );
            (event_type, payload, Outcome::Refused)
        };
        let appended = self
            .store
            .append(AppendRequest {
                stream,
                expected: ExpectedVersion::NoStream,
                events: vec![NewEvent::new(event_type, 1, payload)],
                metadata: Metadata {
                    causation_id: Some(event_id),
                    actor: Some("datasharing".to_owned()),
                    idempotency_key: Some(format!("answer-{event_id}")),
                    ..Metadata::default()
                },
            })
            .await;
        match appended {
            // Answered meanwhile (another replica, a redelivery): the first answer stands.
            Ok(_) | Err(StoreError::Conflict { .. }) => {}
            Err(error) => return Err(store_error(error)),
        }
        self.audit_request(request, outcome).await
    }

    /// Records the authorizations a request carries, each under the request's id, "-A" and its
    /// position; one that breaks a rule (signed after the request, say) opens nothing. Their ids.
    async fn record_carried(
        &self,
        request: &VerificationRequest,
        event_id: Uuid,
    ) -> Result<Vec<AuthorizationId>, Error> {
        let purpose =
            BoundedText::parse(CARRIED_PURPOSE, PURPOSE_MAX_CHARS).map_err(Error::internal)?;
        let mut ids = Vec::new();
        for (n, signed) in request.authorizations.iter().enumerate() {
            let Ok(id) =
                AuthorizationId::parse(&format!("{}-A{}", request.request_id.as_str(), n + 1))
            else {
                tracing::warn!(
                    request = request.request_id.as_str(),
                    "a carried authorization's id is too long; it is not recorded"
                );
                continue;
            };
            ids.push(id.clone());
            let authorization = Authorization {
                id,
                signed_by: signed.signed_by.clone(),
                signed_on: signed.signed_on,
                data_classes: signed.data_classes.clone(),
                agencies: Default::default(),
                purpose: purpose.clone(),
                expires_on: signed.expires_on,
                case_id: Some(request.case_id.clone()),
            };
            let context = CommandContext::new()
                .with_idempotency_key(format!("carried-{event_id}-{n}"))
                .with_causation_id(event_id);
            if let Err(refusal) = self
                .record_carried_authorization(authorization, &context)
                .await?
            {
                tracing::info!(
                    request = request.request_id.as_str(),
                    rule = minzheng_kit::aggregate::DomainError::rule(&refusal),
                    "a carried authorization was not recorded"
                );
            }
        }
        Ok(ids)
    }

    /// The read audit of a request answered from the bus: the persons read, by pseudonym.
    async fn audit_request(
        &self,
        request: &VerificationRequest,
        outcome: Outcome,
    ) -> Result<(), Error> {
        let mut records: Vec<(&'static str, String)> = vec![(
            "verification_request",
            request.request_id.as_str().to_owned(),
        )];
        records.extend(
            request
                .members
                .iter()
                .map(|m| ("person", self.pseudonym(m))),
        );
        self.audit
            .record(Entry {
                method: "minzheng.assistance.v1.VerificationRequested".to_owned(),
                actor: "datasharing".to_owned(),
                roles: Vec::new(),
                agency: None,
                purpose: format!("家庭经济状况核对 {}", request.case_id),
                records,
                outcome,
                status_code: match outcome {
                    Outcome::Allowed => 0,
                    _ => 9,
                },
                trace_id: None,
            })
            .await
    }
}
