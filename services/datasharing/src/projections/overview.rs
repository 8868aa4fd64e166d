//! The service's own events in memory (a `LiveView`): every authorization, indexed by whoever
//! signed it, each county's threshold versions, and the data-sharing agreements. Nothing else: loads, answers and the read
//! audit are not folded.

use std::collections::{BTreeMap, HashMap};

use minzheng_eventstore::RecordedEvent;
use minzheng_kit::{aggregate::Aggregate as _, live::LiveProjection};
use minzheng_types::{CitizenId, RegionCode};

use crate::{
    agreement::{self, AgreementId, AgreementState},
    authorization::{self, AuthorizationId, AuthorizationState},
    codec::{OwnStore, Recorded},
    thresholds::{self, CountyThresholds},
};

/// The read model of the service's own events.
#[derive(Debug, Default)]
pub struct Overview {
    authorizations: HashMap<AuthorizationId, AuthorizationState>,
    signed_by: HashMap<CitizenId, Vec<AuthorizationId>>,
    thresholds: BTreeMap<RegionCode, CountyThresholds>,
    agreements: BTreeMap<AgreementId, AgreementState>,
}

impl Overview {
    /// Every authorization `citizen` signed, in the order recorded.
    pub fn authorizations_of(&self, citizen: &CitizenId) -> Vec<&AuthorizationState> {
        self.signed_by
            .get(citizen)
            .into_iter()
            .flatten()
            .filter_map(|id| self.authorizations.get(id))
            .collect()
    }

    pub fn authorization(&self, id: &AuthorizationId) -> Option<&AuthorizationState> {
        self.authorizations.get(id)
    }

    /// Every agreement, by id.
    pub fn agreements(&self) -> impl Iterator<Item = &AgreementState> {
        self.agreements.values()
    }

    /// A county's threshold versions.
    pub fn thresholds(&self, county: RegionCode) -> Option<&CountyThresholds> {
        self.thresholds.get(&county)
    }
}

impl LiveProjection for Overview {
    type Contract = OwnStore;

    fn apply(&mut self, event: Recorded, _recorded: &RecordedEvent) -> anyhow::Result<()> {
        match event {
            Recorded::Authorization(event) => {
                let id = match &event {
                    authorization::Event::Recorded(a) => {
                        self.signed_by
                            .entry(a.signed_by.clone())
                            .or_default()
                            .push(a.id.clone());
                        a.id.clone()
                    }
                    authorization::Event::Withdrawn(w) => w.id.clone(),
                };
                let state = self.authorizations.remove(&id).unwrap_or_default();
                self.authorizations.insert(id, state.apply(&event));
            }
            Recorded::Agreement(event) => {
                let id = match &event {
                    agreement::Event::Recorded(a) => a.id.clone(),
                    agreement::Event::Ended(e) => e.id.clone(),
                };
                let state = self.agreements.remove(&id).unwrap_or_default();
                self.agreements.insert(id, state.apply(&event));
            }
            Recorded::Thresholds(event) => {
                let thresholds::Event::Recorded(v) = &event;
                let county = v.county;
                let state = self.thresholds.remove(&county).unwrap_or_default();
                self.thresholds.insert(county, state.apply(&event));
            }
        }
        Ok(())
    }
}
