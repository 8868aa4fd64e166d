//! A stand-in for the data-sharing service, for tests and the benchmark until that service
//! exists (issue 13): a host module named `datasharing` that follows this service's events
//! through the real bus (JetStream when distributed, the store's feed when embedded) and answers
//! each `minzheng.assistance.v1.VerificationRequested` with a
//! `minzheng.datasharing.v1.HouseholdVerificationCompleted` in its own store — which its relay
//! publishes and this service consumes. The contract is exercised both ways; nothing of this
//! service's own code is mocked.
//!
//! The verified incomes are what the test sets per citizen id ([`DataSharingStandIn::set_income`],
//! none: zero); each comes with a source record. Requests for a household the test marked
//! [`DataSharingStandIn::withhold`] get no answer (a verification that never arrives).
//! Never hosted by `minzheng dev` or `minzheng assistance`.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
};

use async_trait::async_trait;
use minzheng_bus::Projection;
use minzheng_eventstore::{
    AppendRequest, ExpectedVersion, Metadata, NewEvent, RecordedEvent, SharedStore, StoreError,
    StreamId,
};
use minzheng_host::{ServiceContext, ServiceModule};
use minzheng_kit::server::ServerBuilder;
use minzheng_proto::{assistance::v1 as assistance, common::v1 as common, datasharing::v1 as pb};
use prost::{Message as _, Name as _};
use sqlx::AnyConnection;

/// What the stand-in answers with.
#[derive(Debug, Default)]
struct Answers {
    /// Monthly income in fen per citizen id number.
    incomes: HashMap<String, i64>,
    /// Citizen id numbers whose households get no answer.
    withheld: HashSet<String>,
}

/// See the [module documentation](self).
#[derive(Debug, Clone, Default)]
pub struct DataSharingStandIn {
    answers: Arc<Mutex<Answers>>,
}

impl DataSharingStandIn {
    pub fn new() -> Self {
        Self::default()
    }

    /// The verified monthly income of `citizen_id`, in fen.
    pub fn set_income(&self, citizen_id: &str, fen: i64) {
        self.answers().incomes.insert(citizen_id.to_owned(), fen);
    }

    /// Leaves every request naming `citizen_id` unanswered.
    pub fn withhold(&self, citizen_id: &str) {
        self.answers().withheld.insert(citizen_id.to_owned());
    }

    fn answers(&self) -> std::sync::MutexGuard<'_, Answers> {
        self.answers.lock().unwrap_or_else(PoisonError::into_inner)
    }
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
        context.spawn_consumer(
            "assistance",
            Arc::new(Answerer {
                store: context.store().clone(),
                answers: self.answers.clone(),
            }),
        )?;
        Ok(server)
    }
}

/// Answers verification requests.
struct Answerer {
    store: SharedStore,
    answers: Arc<Mutex<Answers>>,
}

impl Answerer {
    /// The result for `request`, or `None` when it is withheld.
    fn answer(&self, request: &assistance::VerificationRequested) -> Option<pb::HouseholdVerificationCompleted> {
        let answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        let members: Vec<&common::CitizenRef> = request.members.iter().collect();
        if members
            .iter()
            .any(|m| answers.withheld.contains(&m.citizen_id))
        {
            return None;
        }
        let incomes: Vec<pb::VerifiedIncomeItem> = members
            .iter()
            .filter_map(|m| {
                let fen = *answers.incomes.get(&m.citizen_id)?;
                Some(pb::VerifiedIncomeItem {
                    member: Some((*m).clone()),
                    kind: "PENSION".to_owned(),
                    monthly: Some(common::Money { fen }),
                    source: Some(pb::SourceRecord {
                        agency: "人社".to_owned(),
                        record_id: format!("SI-{}", request.request_id),
                        as_of: request.requested_on,
                    }),
                })
            })
            .collect();
        let total: i64 = incomes
            .iter()
            .filter_map(|i| i.monthly.as_ref().map(|m| m.fen))
            .sum();
        let size = i64::try_from(members.len()).unwrap_or(1).max(1);
        Some(pb::HouseholdVerificationCompleted {
            request_id: request.request_id.clone(),
            case_id: request.case_id.clone(),
            verified_on: request.requested_on,
            total_monthly_income: Some(common::Money { fen: total }),
            per_capita_monthly_income: Some(common::Money {
                fen: (total + size / 2) / size,
            }),
            incomes,
            assets: Vec::new(),
            flags: Vec::new(),
            household_size: u32::try_from(members.len()).unwrap_or(u32::MAX),
        })
    }
}

#[async_trait]
impl Projection for Answerer {
    fn name(&self) -> &str {
        "datasharing-stand-in"
    }

    async fn apply(&self, _tx: &mut AnyConnection, _event: &RecordedEvent) -> anyhow::Result<()> {
        Ok(())
    }

    /// Answers outside the consumer's transaction: the stand-in's store shares its database in
    /// the embedded mode.
    async fn act(&self, events: &[RecordedEvent]) -> anyhow::Result<()> {
        for event in events {
            self.answer_event(event).await?;
        }
        Ok(())
    }
}

impl Answerer {
    async fn answer_event(&self, event: &RecordedEvent) -> anyhow::Result<()> {
        if event.event_type != assistance::VerificationRequested::full_name() {
            return Ok(());
        }
        let request = assistance::VerificationRequested::decode(event.payload.as_ref())?;
        let Some(result) = self.answer(&request) else {
            return Ok(());
        };
        let appended = self
            .store
            .append(AppendRequest {
                stream: StreamId::new("verification", &request.request_id)?,
                expected: ExpectedVersion::NoStream,
                events: vec![NewEvent::new(
                    pb::HouseholdVerificationCompleted::full_name(),
                    1,
                    result.encode_to_vec(),
                )],
                metadata: Metadata::default(),
            })
            .await;
        match appended {
            // A redelivered request was answered already.
            Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}
