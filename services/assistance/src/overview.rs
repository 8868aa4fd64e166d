//! The in-memory read model of the service's own events, kept by a
//! [`minzheng_kit::live::LiveView`]: every case folded by the case aggregate's own `apply` (one
//! truth for what a case is), indexed by county and by member, and the ordinals issued per
//! county, category and year.
//!
//! It holds personal data (the households): it is memory of this process only, never logged,
//! and every RPC that answers from it with a household's data is audited at the edge. At
//! 100,000 cases it takes on the order of 200 MB.

use std::collections::{BTreeMap, HashMap, HashSet};

use minzheng_eventstore::RecordedEvent;
use minzheng_kit::{aggregate::Aggregate, live::LiveProjection};
use minzheng_types::{CitizenId, RegionCode};

use crate::{
    case::{self, Case},
    category::Category,
    codec::{self, Recorded},
    ids::CaseId,
};

/// See the [module documentation](self).
#[derive(Debug, Clone, Default)]
pub struct Overview {
    cases: BTreeMap<CaseId, (Case, u64)>,
    by_county: HashMap<RegionCode, HashSet<CaseId>>,
    by_member: HashMap<CitizenId, Vec<CaseId>>,
    ordinals: HashMap<(RegionCode, Category, u16), u32>,
}

impl Overview {
    /// A case and its stream version.
    pub fn case(&self, id: &CaseId) -> Option<(&Case, u64)> {
        self.cases.get(id).map(|(case, version)| (case, *version))
    }

    /// The cases of `county` (by id).
    pub fn cases_of(&self, county: RegionCode) -> Vec<(&CaseId, &Case)> {
        let mut ids: Vec<&CaseId> = self
            .by_county
            .get(&county)
            .map(|ids| ids.iter().collect())
            .unwrap_or_default();
        ids.sort();
        ids.into_iter()
            .filter_map(|id| self.cases.get_key_value(id).map(|(id, (c, _))| (id, c)))
            .collect()
    }

    /// Every case.
    pub fn all(&self) -> impl Iterator<Item = (&CaseId, &Case)> {
        self.cases.iter().map(|(id, (case, _))| (id, case))
    }

    /// The cases a citizen is a member of (applied for or covered by).
    pub fn cases_of_member(&self, citizen: &CitizenId) -> Vec<CaseId> {
        self.by_member.get(citizen).cloned().unwrap_or_default()
    }

    /// The highest ordinal issued for `county`, `category` and `year`.
    pub fn last_ordinal(&self, county: RegionCode, category: Category, year: u16) -> u32 {
        self.ordinals
            .get(&(county, category, year))
            .copied()
            .unwrap_or(0)
    }

    fn apply_case(&mut self, event: &case::Event, recorded: &RecordedEvent) -> anyhow::Result<()> {
        let id = match event {
            case::Event::Submitted(application) => {
                let id = application.case_id;
                let key = (id.county(), id.category(), id.year());
                let last = self.ordinals.entry(key).or_default();
                *last = (*last).max(id.ordinal());
                for member in application.household.citizens() {
                    self.by_member.entry(member).or_default().push(id);
                }
                id
            }
            other => CaseId::parse(recorded.stream.key())
                .map_err(|e| anyhow::anyhow!("case stream {}: {e}", recorded.stream))
                .map(|id| {
                    let _ = other;
                    id
                })?,
        };
        let (state, version) = self.cases.remove(&id).unwrap_or_default();
        let before = state.county;
        let state = state.apply(event);
        if let Some(previous) = before
            && Some(previous) != state.county
            && let Some(ids) = self.by_county.get_mut(&previous)
        {
            ids.remove(&id);
        }
        if let Some(county) = state.county {
            self.by_county.entry(county).or_default().insert(id);
        }
        self.cases
            .insert(id, (state, version.max(recorded.stream_version)));
        Ok(())
    }
}

impl LiveProjection for Overview {
    type Contract = codec::OwnStore;

    fn apply(&mut self, event: Recorded, recorded: &RecordedEvent) -> anyhow::Result<()> {
        match event {
            Recorded::Case(e) => self.apply_case(&e, recorded),
        }
    }
}
