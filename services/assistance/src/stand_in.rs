//! A stand-in for the data-sharing service, for tests and the benchmark until that service
//! exists (issue 13): a host module named `datasharing` that follows this service's events
//! through the real bus (JetStream when distributed, the store's feed when embedded) and answers
//! each `minzheng.assistance.v1.VerificationRequested` with a
//! `minzheng.datasharing.v1.HouseholdVerificationCompleted` in its own store — which its relay
//! publishes and this service consumes. A test can also have it publish what the data-sharing
//! service publishes unasked: a household alert (`HouseholdAlertRaised`, 致贫返贫监测预警) or a
//! verification result of its own making ([`Verifications::raise_alert`],
//! [`Verifications::publish_result`]). The contract is exercised both ways; nothing of this
//! service's own code is mocked. Never hosted by `minzheng dev` or `minzheng assistance`.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
};

use async_trait::async_trait;
use minzheng_eventstore::{
    AppendRequest, ExpectedVersion, Metadata, NewEvent, RecordedEvent, SharedStore, StoreError,
    StreamId,
};
use minzheng_host::{ServiceContext, ServiceModule};
use minzheng_kit::server::ServerBuilder;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common, datasharing::v1 as datasharing};
use prost::{Message as _, Name as _};
use sqlx::AnyConnection;
use tokio::sync::watch;

/// What the data-sharing stand-in answers: each citizen's verified monthly incomes (fen), and
/// the households (named by any member) it leaves unanswered.
#[derive(Debug, Default)]
pub struct Answers {
    incomes: HashMap<String, Vec<i64>>,
    silent: HashSet<String>,
}

/// The answers a test configures, shared with the stand-in; a gate the stand-in waits at
/// before answering (open unless the test holds it); and the stand-in's store once it started,
/// through which a test publishes as the data-sharing service.
#[derive(Debug, Clone)]
pub struct Verifications {
    answers: Arc<Mutex<Answers>>,
    open: Arc<watch::Sender<bool>>,
    store: Arc<Mutex<Option<SharedStore>>>,
}

impl Default for Verifications {
    fn default() -> Self {
        Self {
            answers: Arc::default(),
            open: Arc::new(watch::Sender::new(true)),
            store: Arc::default(),
        }
    }
}

impl Verifications {
    /// The stand-in answers nothing until [`Verifications::release`] (it waits: nothing is
    /// lost, and a settle waits with it).
    pub fn hold(&self) {
        self.open.send_replace(false);
    }

    /// The stand-in answers again, what it held first.
    pub fn release(&self) {
        self.open.send_replace(true);
    }

    async fn opened(&self) {
        let mut open = self.open.subscribe();
        // The sender lives as long as `self`.
        let _ = open.wait_for(|open| *open).await;
    }

    /// `citizen` earns `fen` a month (one more income record each call).
    pub fn income(&self, citizen: &str, fen: i64) {
        self.lock()
            .incomes
            .entry(citizen.to_owned())
            .or_default()
            .push(fen);
    }

    /// Requests naming `citizen` are never answered.
    pub fn never_answer(&self, citizen: &str) {
        self.lock().silent.insert(citizen.to_owned());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Answers> {
        self.answers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The data-sharing service raises `alert`: appended to the stand-in's store (stream
    /// `alert-<alert_id>`), whence it reaches this service through the bus. Fails when the
    /// stand-in has not started, or the alert was raised already.
    pub async fn raise_alert(
        &self,
        alert: datasharing::HouseholdAlertRaised,
    ) -> anyhow::Result<()> {
        let stream = StreamId::new("alert", alert.alert_id.clone())?;
        self.publish(
            stream,
            datasharing::HouseholdAlertRaised::full_name(),
            alert.encode_to_vec(),
        )
        .await
    }

    /// The data-sharing service publishes `result`, whatever was requested (a result for a case
    /// never issued, say): appended to the stand-in's store (stream `verification-<request_id>`).
    /// Fails when the stand-in has not started, or that request was answered already.
    pub async fn publish_result(
        &self,
        result: datasharing::HouseholdVerificationCompleted,
    ) -> anyhow::Result<()> {
        let stream = StreamId::new("verification", result.request_id.clone())?;
        self.publish(
            stream,
            datasharing::HouseholdVerificationCompleted::full_name(),
            result.encode_to_vec(),
        )
        .await
    }

    async fn publish(
        &self,
        stream: StreamId,
        event_type: String,
        payload: Vec<u8>,
    ) -> anyhow::Result<()> {
        let store = self
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| anyhow::anyhow!("the data-sharing stand-in has not started"))?;
        store
            .append(AppendRequest {
                stream,
                expected: ExpectedVersion::NoStream,
                events: vec![NewEvent::new(event_type, 1, payload)],
                metadata: Metadata::default(),
            })
            .await?;
        Ok(())
    }

    /// The result for `request`, or `None` when its household is not to be answered.
    fn answer(
        &self,
        request: &pb::VerificationRequested,
    ) -> Option<datasharing::HouseholdVerificationCompleted> {
        let answers = self.lock();
        let members: Vec<&str> = request
            .members
            .iter()
            .map(|m| m.citizen_id.as_str())
            .collect();
        if members.iter().any(|m| answers.silent.contains(*m)) {
            return None;
        }
        let incomes: Vec<datasharing::VerifiedIncomeItem> = members
            .iter()
            .flat_map(|member| {
                answers
                    .incomes
                    .get(*member)
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(move |(n, fen)| datasharing::VerifiedIncomeItem {
                        member: Some(common::CitizenRef {
                            citizen_id: (*member).to_owned(),
                        }),
                        kind: "WAGES".to_owned(),
                        monthly: Some(common::Money { fen: *fen }),
                        source: Some(datasharing::SourceRecord {
                            agency: "人社".to_owned(),
                            record_id: format!("RS-{}-{n}", request.request_id),
                            as_of: request.requested_on,
                            agency_code: datasharing::Agency::HumanResources.into(),
                            ..datasharing::SourceRecord::default()
                        }),
                    })
            })
            .collect();
        let total: i64 = incomes
            .iter()
            .filter_map(|i| i.monthly.as_ref())
            .map(|m| m.fen)
            .sum();
        let size = u32::try_from(members.len()).unwrap_or(u32::MAX);
        Some(datasharing::HouseholdVerificationCompleted {
            request_id: request.request_id.clone(),
            case_id: request.case_id.clone(),
            verified_on: request.requested_on,
            total_monthly_income: Some(common::Money { fen: total }),
            per_capita_monthly_income: Some(common::Money {
                fen: total / i64::from(size.max(1)),
            }),
            incomes,
            assets: vec![],
            flags: vec![],
            household_size: size,
            report: None,
        })
    }
}

/// Plays the data-sharing service: a consumer of the assistance service's events that answers
/// every `minzheng.assistance.v1.VerificationRequested` by appending
/// `minzheng.datasharing.v1.HouseholdVerificationCompleted` to its own store (stream
/// `verification-<request_id>`), with the incomes the test configured. So the contract runs
/// through the real bus both ways (JetStream when distributed, the stores' feeds when
/// embedded).
#[derive(Debug, Clone, Default)]
pub struct DataSharingStandIn {
    pub answers: Verifications,
}

#[async_trait]
impl ServiceModule for DataSharingStandIn {
    fn name(&self) -> &'static str {
        "datasharing"
    }

    async fn start(
        &self,
        context: &ServiceContext,
        server: ServerBuilder,
    ) -> anyhow::Result<ServerBuilder> {
        // Kept for what a test publishes (a restart replaces it with the new host's store).
        *self
            .answers
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(context.store().clone());
        context.spawn_consumer(
            "assistance",
            Arc::new(Verifier {
                store: context.store().clone(),
                answers: self.answers.clone(),
            }),
        )?;
        Ok(server)
    }
}

/// The stand-in's consumer of the assistance events.
#[derive(Debug)]
struct Verifier {
    store: SharedStore,
    answers: Verifications,
}

#[async_trait]
impl minzheng_bus::Projection for Verifier {
    fn name(&self) -> &str {
        "datasharing-verifier"
    }

    async fn apply(&self, _tx: &mut AnyConnection, _event: &RecordedEvent) -> anyhow::Result<()> {
        Ok(())
    }

    /// Answers outside the consumer's transaction: in the embedded mode the stand-in's store
    /// shares the database the transaction writes.
    async fn act(&self, events: &[RecordedEvent]) -> anyhow::Result<()> {
        for event in events {
            self.answer(event).await?;
        }
        Ok(())
    }
}

impl Verifier {
    async fn answer(&self, event: &RecordedEvent) -> anyhow::Result<()> {
        if event.event_type != pb::VerificationRequested::full_name() {
            return Ok(());
        }
        let request = pb::VerificationRequested::decode(event.payload.clone())?;
        self.answers.opened().await;
        let Some(answer) = self.answers.answer(&request) else {
            return Ok(());
        };
        let appended = self
            .store
            .append(AppendRequest {
                stream: StreamId::new("verification", request.request_id.clone())?,
                expected: ExpectedVersion::NoStream,
                events: vec![NewEvent::new(
                    datasharing::HouseholdVerificationCompleted::full_name(),
                    1,
                    answer.encode_to_vec(),
                )],
                metadata: Metadata::default(),
            })
            .await;
        match appended {
            // A redelivery: answered already.
            Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}
