//! The in-memory read model of the service's own events, kept by a
//! [`minzheng_kit::live::LiveView`]: every instance folded by its aggregate's own `apply` (one
//! truth for what a case, a policy, a fund or a referral is) — cases indexed by county and by
//! member, with the ordinals issued per county, category and year; each county's standards;
//! the holiday calendar as one [`WorkingCalendar`]; the townships' reserve funds (with the day
//! each was established, for the indicators); which payment cycles each county has; the
//! referrals from household alerts, by county.
//!
//! A payment cycle's events are not decoded here ([`OverviewEvents`]): a county's cycle holds a
//! line per case and month, which only the generation of a later cycle needs, and that reads the
//! cycles through their repository (from the store, so also exact). The overview notes a
//! cycle's id from its stream's first event, without reading the payload.
//!
//! It holds personal data (the households): it is memory of this process only, never logged,
//! and every RPC that answers from it with a household's data is audited at the edge. At
//! 100,000 cases it takes on the order of 200 MB.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Arc,
};

use minzheng_eventstore::RecordedEvent;
use minzheng_kit::{
    aggregate::{Aggregate, CodecError, Contract},
    live::LiveProjection,
};
use minzheng_types::{CitizenId, RegionCode};

use crate::{
    calendar::{self, HolidayCalendar, WorkingCalendar},
    case::{self, Case},
    category::Category,
    codec::{OwnStore, Recorded},
    cycle::PaymentCycle,
    fund::{self, ReserveFund},
    ids::{CaseId, CycleId},
    payments::Payee,
    policy::{self, Policy},
    referral::{self, AlertId, Referral},
};

/// See the [module documentation](self).
#[derive(Debug, Clone, Default)]
pub struct Overview {
    cases: BTreeMap<CaseId, Entry>,
    /// The cases each county decides now, by id (a case re-homed by a place-names adjustment
    /// keeps the id it was filed under).
    by_county: HashMap<RegionCode, BTreeSet<CaseId>>,
    by_member: HashMap<CitizenId, Vec<CaseId>>,
    ordinals: HashMap<(RegionCode, Category, u16), u32>,
    policies: HashMap<RegionCode, Policy>,
    calendars: BTreeMap<i32, HolidayCalendar>,
    working: WorkingCalendar,
    funds: BTreeMap<RegionCode, ReserveFund>,
    /// The day each township's fund was first replenished (established).
    funds_established: BTreeMap<RegionCode, time::Date>,
    /// The payment cycles generated, by county and month.
    cycles: BTreeMap<RegionCode, BTreeSet<CycleId>>,
    referrals: BTreeMap<AlertId, Referral>,
    referrals_by_county: HashMap<RegionCode, Vec<AlertId>>,
}

/// A case as the overview keeps it.
#[derive(Debug, Clone, Default)]
struct Entry {
    case: Case,
    /// The case stream's version.
    version: u64,
    /// The stream version of the case's decision, once decided (what a payment line names).
    decision: Option<u64>,
    /// Once decided, who its payments go to: shared by every line of every cycle that pays it.
    payee: Option<Arc<Payee>>,
}

/// A decided case, as a payment cycle plans from it.
#[derive(Debug, Clone, Copy)]
pub struct Decided<'a> {
    pub id: &'a CaseId,
    pub case: &'a Case,
    /// The case stream's version of its decision.
    pub decision_version: u64,
    pub payee: &'a Arc<Payee>,
}

impl Overview {
    /// A case and its stream version.
    pub fn case(&self, id: &CaseId) -> Option<(&Case, u64)> {
        self.cases.get(id).map(|entry| (&entry.case, entry.version))
    }

    /// The cases of `county` (by id).
    pub fn cases_of(&self, county: RegionCode) -> Vec<(&CaseId, &Case)> {
        self.by_county
            .get(&county)
            .into_iter()
            .flatten()
            .filter_map(|id| self.cases.get_key_value(id).map(|(id, e)| (id, &e.case)))
            .collect()
    }

    /// The decided cases of `county`, for a pass over a whole county's caseload: those filed
    /// under it, by id, walked in one run of the case map, then those re-homed to it from
    /// another county (by id).
    pub fn decided_cases_of(&self, county: RegionCode) -> impl Iterator<Item = Decided<'_>> {
        let filed_here = self
            .cases
            .range(CaseId::filed_under(county))
            .filter(move |(_, entry)| entry.case.county == Some(county));
        let moved_here = self
            .by_county
            .get(&county)
            .into_iter()
            .flatten()
            .filter(move |id| id.county() != county)
            .filter_map(|id| self.cases.get_key_value(id));
        filed_here.chain(moved_here).filter_map(|(id, entry)| {
            Some(Decided {
                id,
                case: &entry.case,
                decision_version: entry.decision?,
                payee: entry.payee.as_ref()?,
            })
        })
    }

    /// Every case.
    pub fn all(&self) -> impl Iterator<Item = (&CaseId, &Case)> {
        self.cases.iter().map(|(id, entry)| (id, &entry.case))
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

    /// The standards of `county` (an empty policy when none were recorded).
    pub fn policy(&self, county: RegionCode) -> Option<&Policy> {
        self.policies.get(&county)
    }

    /// Every county's standards.
    pub fn policies(&self) -> impl Iterator<Item = (&RegionCode, &Policy)> {
        self.policies.iter()
    }

    /// The working-day calendar of every year loaded.
    pub fn working_calendar(&self) -> &WorkingCalendar {
        &self.working
    }

    /// The years loaded, with their calendars.
    pub fn calendars(&self) -> impl Iterator<Item = &HolidayCalendar> {
        self.calendars.values()
    }

    /// A township's reserve fund, when it was ever touched.
    pub fn fund(&self, township: RegionCode) -> Option<&ReserveFund> {
        self.funds.get(&township)
    }

    /// Every reserve fund.
    pub fn funds(&self) -> impl Iterator<Item = (&RegionCode, &ReserveFund)> {
        self.funds.iter()
    }

    /// The day `township`'s reserve fund was established, if it was.
    pub fn fund_established_on(&self, township: RegionCode) -> Option<time::Date> {
        self.funds_established.get(&township).copied()
    }

    /// A referral, once recorded.
    pub fn referral(&self, id: &AlertId) -> Option<&Referral> {
        self.referrals.get(id)
    }

    /// The referrals of `county`, by alert id.
    pub fn referrals_of(&self, county: RegionCode) -> Vec<(&AlertId, &Referral)> {
        let mut ids: Vec<&AlertId> = self
            .referrals_by_county
            .get(&county)
            .map(|ids| ids.iter().collect())
            .unwrap_or_default();
        ids.sort();
        ids.into_iter()
            .filter_map(|id| self.referrals.get_key_value(id))
            .collect()
    }

    /// The payment cycles generated for `county`, by month.
    pub fn cycles_of(&self, county: RegionCode) -> impl Iterator<Item = &CycleId> {
        self.cycles.get(&county).into_iter().flatten()
    }

    fn apply_policy(&mut self, event: &policy::Event) {
        let county = match event {
            policy::Event::Recorded(recorded) => recorded.version.county,
        };
        let state = self.policies.remove(&county).unwrap_or_default();
        self.policies.insert(county, state.apply(event));
    }

    fn apply_calendar(&mut self, event: &calendar::Event) {
        let year = match event {
            calendar::Event::Loaded(loaded) => loaded.year.0,
        };
        let state = self
            .calendars
            .remove(&year)
            .unwrap_or_default()
            .apply(event);
        if let Some(loaded) = state.calendar() {
            self.working.insert(loaded);
        }
        self.calendars.insert(year, state);
    }

    fn apply_fund(&mut self, event: &fund::Event, recorded: &RecordedEvent) -> anyhow::Result<()> {
        let township = RegionCode::parse(recorded.stream.key())
            .map_err(|e| anyhow::anyhow!("fund stream {}: {e}", recorded.stream))?;
        if let fund::Event::Replenished(replenished) = event {
            self.funds_established
                .entry(township)
                .or_insert(replenished.on);
        }
        let state = self.funds.remove(&township).unwrap_or_default();
        self.funds.insert(township, state.apply(event));
        Ok(())
    }

    fn apply_referral(
        &mut self,
        event: &referral::Event,
        recorded: &RecordedEvent,
    ) -> anyhow::Result<()> {
        let id = AlertId::parse(recorded.stream.key())
            .map_err(|e| anyhow::anyhow!("referral stream {}: {e}", recorded.stream))?;
        if let referral::Event::Recorded(r) = event {
            let ids = self.referrals_by_county.entry(r.county).or_default();
            if !ids.contains(&id) {
                ids.push(id.clone());
            }
        }
        let state = self.referrals.remove(&id).unwrap_or_default();
        self.referrals.insert(id, state.apply(event));
        Ok(())
    }

    fn apply_cycle_generated(&mut self, recorded: &RecordedEvent) -> anyhow::Result<()> {
        let id = CycleId::parse(recorded.stream.key())
            .map_err(|e| anyhow::anyhow!("cycle stream {}: {e}", recorded.stream))?;
        self.cycles.entry(id.county()).or_default().insert(id);
        Ok(())
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
            _ => CaseId::parse(recorded.stream.key())
                .map_err(|e| anyhow::anyhow!("case stream {}: {e}", recorded.stream))?,
        };
        let entry = self.cases.entry(id).or_default();
        if matches!(event, case::Event::Approved(_) | case::Event::PaidAtOnce(_)) {
            entry.decision = Some(recorded.stream_version);
        }
        let before = entry.case.county;
        entry.case = std::mem::take(&mut entry.case).apply(event);
        if entry.decision.is_some() {
            let payee = entry.case.payee();
            if entry.payee.as_deref() != payee.as_ref() {
                entry.payee = payee.map(Arc::new);
            }
        }
        entry.version = entry.version.max(recorded.stream_version);
        let after = entry.case.county;
        if let Some(previous) = before
            && Some(previous) != after
            && let Some(ids) = self.by_county.get_mut(&previous)
        {
            ids.remove(&id);
        }
        if let Some(county) = after {
            self.by_county.entry(county).or_default().insert(id);
        }
        Ok(())
    }
}

/// What the overview reads of the service's store (see the [module documentation](self)).
#[derive(Debug)]
pub enum OverviewEvent {
    /// An event of any stream but a payment cycle's, decoded.
    Own(Recorded),
    /// A payment cycle's first event (its generation), not decoded.
    CycleGenerated,
}

/// Decodes the service's own store for the overview, skipping payment cycles' payloads.
#[derive(Debug, Clone, Copy)]
pub struct OverviewEvents;

impl Contract for OverviewEvents {
    type Event = OverviewEvent;

    fn decode(event: &RecordedEvent) -> Result<Option<OverviewEvent>, CodecError> {
        if event.stream.category() == PaymentCycle::CATEGORY {
            return Ok((event.stream_version == 1).then_some(OverviewEvent::CycleGenerated));
        }
        Ok(OwnStore::decode(event)?.map(OverviewEvent::Own))
    }
}

impl LiveProjection for Overview {
    type Contract = OverviewEvents;

    fn apply(&mut self, event: OverviewEvent, recorded: &RecordedEvent) -> anyhow::Result<()> {
        let event = match event {
            OverviewEvent::Own(event) => event,
            OverviewEvent::CycleGenerated => return self.apply_cycle_generated(recorded),
        };
        match event {
            Recorded::Case(e) => self.apply_case(&e, recorded),
            Recorded::Policy(e) => {
                self.apply_policy(&e);
                Ok(())
            }
            Recorded::Calendar(e) => {
                self.apply_calendar(&e);
                Ok(())
            }
            Recorded::Fund(e) => self.apply_fund(&e, recorded),
            // Not decoded for the overview (see `OverviewEvents`).
            Recorded::Cycle(_) => Ok(()),
            // The ledger only serialises generation; the overview finds cycles by their own
            // streams.
            Recorded::Ledger(_) => Ok(()),
            Recorded::Referral(e) => self.apply_referral(&e, recorded),
        }
    }
}
