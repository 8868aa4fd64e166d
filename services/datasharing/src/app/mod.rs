//! The application layer: commands with today's date and the time (a [`Clock`]), loads of
//! agency records, and the verification with the checks around it (authorizations, the facts as
//! known at a time).
//!
//! - [`loads`]: batches of an agency's records into the record store, and the load's event;
//! - [`authorizations`]: recording and withdrawing authorizations, and what a member's do not
//!   open;
//! - [`verify`]: the verification, asked over gRPC or by the assistance service's request.

pub mod agreements;
pub mod authorizations;
pub mod discovery;
pub mod facts;
pub mod loads;
pub mod rebuild;
pub mod verify;

use std::sync::Arc;

use minzheng_eventstore::{SharedStore, StoreError};
use minzheng_host::audit::AuditLog;
use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed, Repository, RunError},
    clock::Clock,
    live::LiveView,
    pseudonym::Pseudonymizer,
};
use minzheng_types::{CitizenId, RegionCode};
use time::{Date, OffsetDateTime};

use crate::{
    authorization::AuthorizationState,
    load::Load,
    projections::overview::Overview,
    store::RecordStore,
    thresholds::{self, CountyThresholds, ThresholdsRecorded},
};

/// The pseudonym domain of persons (the audit names them so, never by number).
const PERSON_DOMAIN: &str = "person";

/// A store failure as the caller sees it (UNAVAILABLE, or INTERNAL for a bug).
pub fn store_error(error: StoreError) -> Error {
    Error::from(RunError::from(error))
}

/// The data-sharing service's application layer; cheap to clone.
#[derive(Debug, Clone)]
pub struct DataSharing {
    store: SharedStore,
    records: RecordStore,
    authorizations: Arc<Repository<AuthorizationState>>,
    thresholds: Arc<Repository<CountyThresholds>>,
    loads: Arc<Repository<Load>>,
    agreements: Arc<Repository<crate::agreement::AgreementState>>,
    view: LiveView<Overview>,
    clock: Arc<dyn Clock>,
    pseudonyms: Pseudonymizer,
    audit: AuditLog,
    /// The facts verifications of one knowledge version share.
    facts: facts::Facts,
    /// Authorizations recorded by this process, and how many of them the view has read.
    recorded_here: Arc<authorizations::RecordedHere>,
}

impl DataSharing {
    pub fn new(
        store: SharedStore,
        records: RecordStore,
        clock: Arc<dyn Clock>,
        pseudonyms: Pseudonymizer,
        audit: AuditLog,
    ) -> Self {
        Self {
            authorizations: Arc::new(Repository::new(store.clone())),
            thresholds: Arc::new(Repository::new(store.clone())),
            loads: Arc::new(Repository::new(store.clone())),
            agreements: Arc::new(Repository::new(store.clone())),
            view: LiveView::new(store.clone(), Overview::default()),
            store,
            records,
            clock,
            pseudonyms,
            audit,
            facts: facts::Facts::default(),
            recorded_here: Arc::default(),
        }
    }

    /// The read model of the service's own events.
    pub fn view(&self) -> &LiveView<Overview> {
        &self.view
    }

    /// The agency-record tables.
    pub fn records(&self) -> &RecordStore {
        &self.records
    }

    /// Today in China Standard Time.
    pub fn today(&self) -> Date {
        self.clock.today()
    }

    /// Now.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The service's own store.
    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// `agency`'s pseudonym of the citizen id number `id`: keyed per agency, so the same person
    /// has the same pseudonym for one agency and unrelated ones for two.
    pub fn agency_pseudonym(&self, agency: &str, id: &str) -> String {
        self.pseudonyms.of_text(&format!("share-{agency}"), id)
    }

    /// Records in the read audit that `agreement`'s agency received an event of `event_type`
    /// about `citizens` (their id numbers; the audit names them by pseudonym).
    pub async fn audit_shared(
        &self,
        event_type: &str,
        agreement: &crate::agreement::Agreement,
        citizens: &[String],
    ) -> Result<(), Error> {
        let mut records: Vec<(&'static str, String)> =
            vec![("agreement", agreement.id.as_str().to_owned())];
        for id in citizens {
            if let Ok(citizen) = CitizenId::parse(id) {
                records.push(("person", self.pseudonym(&citizen)));
            }
        }
        self.audit
            .record(minzheng_host::audit::Entry {
                method: format!("share {event_type}"),
                actor: "datasharing".to_owned(),
                roles: vec!["agency".to_owned()],
                agency: Some(agreement.agency.as_str().to_owned()),
                purpose: agreement.purpose.as_str().to_owned(),
                records,
                outcome: minzheng_host::audit::Outcome::Allowed,
                status_code: 0,
                trace_id: None,
            })
            .await
    }

    /// A person's pseudonym, for the read audit.
    pub fn pseudonym(&self, citizen: &CitizenId) -> String {
        self.pseudonyms.of(PERSON_DOMAIN, citizen)
    }

    /// Records a new version of a county's thresholds (effective from a day, not before today).
    pub async fn record_thresholds(
        &self,
        command: thresholds::RecordThresholds,
        context: &CommandContext,
    ) -> Result<(u32, Committed), Error> {
        let county = command.county;
        let committed = self
            .thresholds
            .run(&county, &thresholds::Command::Record(command), context)
            .await?;
        self.view.nudge();
        let number = u32::try_from(committed.stream_version).unwrap_or(u32::MAX);
        Ok((number, committed))
    }

    /// A county's threshold versions, as recorded (the store, not the view: exact).
    pub async fn thresholds_of(
        &self,
        county: RegionCode,
    ) -> Result<Vec<ThresholdsRecorded>, Error> {
        let loaded = self.thresholds.load(&county).await?;
        Ok(loaded.state.versions)
    }
}
