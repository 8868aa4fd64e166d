//! The in-memory read model of the service's own events, kept by a
//! [`minzheng_kit::live::LiveView`]: every instance folded by its aggregate's own `apply` (one
//! truth for what a case, a policy, a fund or a cycle is) — cases indexed by county and by
//! member, with the ordinals issued per county, category and year; each county's standards;
//! the holiday calendar as one [`WorkingCalendar`]; the townships' reserve funds (with the day
//! each was established, for the indicators); the payment cycles; the referrals from household
//! alerts, by county.
//!
//! It holds personal data (the households): it is memory of this process only, never logged,
//! and every RPC that answers from it with a household's data is audited at the edge. At
//! 100,000 cases it takes on the order of 200 MB.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Arc,
};

use minzheng_eventstore::RecordedEvent;
use minzheng_kit::{aggregate::Aggregate, live::LiveProjection};
use minzheng_types::{CitizenId, RegionCode};

use crate::{
    calendar::{self, HolidayCalendar, WorkingCalendar},
    case::{self, Case},
    category::Category,
    codec::{self, Recorded},
    cycle::{self, PaymentCycle},
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
    /// Ordered as `cases` is, so a pass over a county's cases walks that map in order.
    by_county: HashMap<RegionCode, BTreeSet<CaseId>>,
    by_member: HashMap<CitizenId, Vec<CaseId>>,
    ordinals: HashMap<(RegionCode, Category, u16), u32>,
    policies: HashMap<RegionCode, Policy>,
    calendars: BTreeMap<i32, HolidayCalendar>,
    working: WorkingCalendar,
    funds: BTreeMap<RegionCode, ReserveFund>,
    /// The day each township's fund was first replenished (established).
    funds_established: BTreeMap<RegionCode, time::Date>,
    cycles: BTreeMap<CycleId, PaymentCycle>,
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

    /// The decided cases of `county` (by id), for a pass over a whole county's caseload.
    pub fn decided_cases_of(&self, county: RegionCode) -> impl Iterator<Item = Decided<'_>> {
        self.by_county
            .get(&county)
            .into_iter()
            .flatten()
            .filter_map(|id| {
                let (id, entry) = self.cases.get_key_value(id)?;
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

    /// A payment cycle.
    pub fn cycle(&self, id: &CycleId) -> Option<&PaymentCycle> {
        self.cycles.get(id)
    }

    /// The payment cycles of `county`, by month.
    pub fn cycles_of(&self, county: RegionCode) -> impl Iterator<Item = (&CycleId, &PaymentCycle)> {
        self.cycles
            .iter()
            .filter(move |(id, _)| id.county() == county)
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

    fn apply_cycle(
        &mut self,
        event: &cycle::Event,
        recorded: &RecordedEvent,
    ) -> anyhow::Result<()> {
        let id = CycleId::parse(recorded.stream.key())
            .map_err(|e| anyhow::anyhow!("cycle stream {}: {e}", recorded.stream))?;
        let state = self.cycles.remove(&id).unwrap_or_default();
        self.cycles.insert(id, state.apply(event));
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

impl LiveProjection for Overview {
    type Contract = codec::OwnStore;

    fn apply(&mut self, event: Recorded, recorded: &RecordedEvent) -> anyhow::Result<()> {
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
            Recorded::Cycle(e) => self.apply_cycle(&e, recorded),
            Recorded::Referral(e) => self.apply_referral(&e, recorded),
        }
    }
}
