//! The in-memory read model of the service's own events, kept by a
//! [`minzheng_kit::live::LiveView`]: every allowance policy, child's record, protection case and
//! post folded by its own aggregate — what the case lists, the escalation sweep, the post lists
//! and the indicators read. A city has tens of thousands of children and cases at most, a few
//! hundred posts.
//!
//! Cases are also kept in the order of their report day, newest first, with the open ones
//! apart, so a list of the open cases of a region walks only those.

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BTreeSet, HashMap},
};

use minzheng_eventstore::RecordedEvent;
use minzheng_kit::{aggregate::Aggregate, live::LiveProjection};
use minzheng_types::RegionCode;
use time::Date;

use crate::{
    allowance::AllowancePolicy,
    child::ChildRecord,
    codec::{OwnStore, Recorded},
    ids::{CaseId, ChildId},
    post::Post,
    protection::{Deadlines, ProtectionCase, Step},
};

/// A case's place in the lists: newest report first, then by id.
type CaseOrder = (Reverse<Date>, CaseId);

/// See the [module documentation](self).
#[derive(Debug, Clone, Default)]
pub struct Overview {
    policies: BTreeMap<RegionCode, AllowancePolicy>,
    children: HashMap<ChildId, ChildRecord>,
    cases: HashMap<CaseId, ProtectionCase>,
    all_cases: BTreeSet<CaseOrder>,
    open_cases: BTreeSet<CaseOrder>,
    posts: BTreeMap<RegionCode, Post>,
}

/// A case in a list, with its deadline on the day asked about.
#[derive(Debug, Clone, Copy)]
pub struct Listed<'a> {
    pub id: &'a CaseId,
    pub case: &'a ProtectionCase,
    /// The case's division today, following adjustments.
    pub division: RegionCode,
    /// The step awaited and its due day.
    pub due: Option<(Step, Date)>,
    /// Days overdue on the day, 0 when not.
    pub days_overdue: u32,
    /// Whether the overdue step was escalated.
    pub escalated: bool,
}

/// What a case list asks.
#[derive(Debug, Clone, Copy)]
pub struct CaseFilter {
    /// Cases whose division lies within it; all when `None`.
    pub region: Option<RegionCode>,
    /// Cases at this step; the open ones when `None`.
    pub step: Option<Step>,
    pub overdue_only: bool,
    pub day: Date,
}

impl Overview {
    pub fn policy(&self, city: RegionCode) -> Option<&AllowancePolicy> {
        self.policies.get(&city)
    }

    /// The city with allowance standards, when exactly one has them.
    pub fn only_policy(&self) -> Option<(RegionCode, &AllowancePolicy)> {
        let mut with = self
            .policies
            .iter()
            .filter(|(_, p)| !p.versions().is_empty());
        match (with.next(), with.next()) {
            (Some((city, policy)), None) => Some((*city, policy)),
            _ => None,
        }
    }

    pub fn children(&self) -> &HashMap<ChildId, ChildRecord> {
        &self.children
    }

    pub fn case(&self, id: &CaseId) -> Option<&ProtectionCase> {
        self.cases.get(id)
    }

    pub fn cases(&self) -> &HashMap<CaseId, ProtectionCase> {
        &self.cases
    }

    pub fn posts(&self) -> &BTreeMap<RegionCode, Post> {
        &self.posts
    }

    /// The cases `filter` asks for, newest report first, each under the division `current`
    /// says its division is today (following the place-names service's adjustments).
    pub fn list_cases<'a>(
        &'a self,
        filter: CaseFilter,
        deadlines: &'a Deadlines,
        current: impl Fn(RegionCode) -> RegionCode + 'a,
    ) -> impl Iterator<Item = Listed<'a>> + 'a {
        let order = match filter.step {
            Some(Step::Closed) => &self.all_cases,
            _ => &self.open_cases,
        };
        order.iter().filter_map(move |(_, id)| {
            let case = self.cases.get(id)?;
            let division = current(case.division()?);
            if filter
                .region
                .is_some_and(|region| !region.contains(division))
            {
                return None;
            }
            if filter.step.is_some_and(|step| case.step() != Some(step)) {
                return None;
            }
            let due = case.due(deadlines);
            let overdue = case.overdue_on(deadlines, filter.day);
            if filter.overdue_only && overdue.is_none() {
                return None;
            }
            let escalated =
                overdue.is_some_and(|(step, due_on, _)| case.escalated().contains(&(step, due_on)));
            Some(Listed {
                id,
                case,
                division,
                due,
                days_overdue: overdue.map_or(0, |(_, _, days)| days),
                escalated,
            })
        })
    }

    /// The open cases with a step overdue on `today` not yet escalated for its due day: what
    /// the sweep escalates, each with the step, its due day and the county it goes to (its
    /// division's county today, as `current` says).
    pub fn to_escalate(
        &self,
        today: Date,
        deadlines: &Deadlines,
        current: impl Fn(RegionCode) -> RegionCode,
    ) -> Vec<(CaseId, Step, Date, RegionCode)> {
        self.open_cases
            .iter()
            .filter_map(|(_, id)| {
                let case = self.cases.get(id)?;
                let (step, due, _) = case.overdue_on(deadlines, today)?;
                let county = current(case.division()?).county()?;
                (!case.escalated().contains(&(step, due))).then(|| (id.clone(), step, due, county))
            })
            .collect()
    }

    fn apply_case(&mut self, id: CaseId, event: &<ProtectionCase as Aggregate>::Event) {
        let case = self.cases.remove(&id).unwrap_or_default().apply(event);
        if let Some(reported) = case.reported_on() {
            let order = (Reverse(reported), id.clone());
            self.all_cases.insert(order.clone());
            if case.step() == Some(Step::Closed) {
                self.open_cases.remove(&order);
            } else {
                self.open_cases.insert(order);
            }
        }
        self.cases.insert(id, case);
    }
}

/// Folds `event` into the aggregate `key` names in `map`.
fn fold<K: Ord, A: Aggregate>(map: &mut BTreeMap<K, A>, key: K, event: &A::Event) {
    let state = map.remove(&key).unwrap_or_default();
    map.insert(key, state.apply(event));
}

impl LiveProjection for Overview {
    type Contract = OwnStore;

    fn apply(&mut self, event: Recorded, recorded: &RecordedEvent) -> anyhow::Result<()> {
        let key = recorded.stream.key();
        match event {
            Recorded::Policy(e) => fold(&mut self.policies, RegionCode::parse(key)?, &e),
            Recorded::Post(e) => fold(&mut self.posts, RegionCode::parse(key)?, &e),
            Recorded::Child(e) => {
                let id = ChildId::parse(key)?;
                let state = self.children.remove(&id).unwrap_or_default().apply(&e);
                self.children.insert(id, state);
            }
            Recorded::Case(e) => self.apply_case(CaseId::parse(key)?, &e),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use minzheng_types::{BoundedText, CitizenId};
    use time::macros::date;

    use super::*;
    use crate::protection::{Event, Open, RiskLevel, Source, TEXT_MAX_CHARS};

    fn code(digits: &str) -> RegionCode {
        RegionCode::parse(digits).expect("valid")
    }

    /// A township of a county that was merged into 平山区: its code is recoded.
    const OLD_TOWNSHIP: &str = "210599001000";
    const NEW_TOWNSHIP: &str = "210502009000";

    fn current(c: RegionCode) -> RegionCode {
        if c == code(OLD_TOWNSHIP) {
            code(NEW_TOWNSHIP)
        } else {
            c
        }
    }

    fn opened(case: &CaseId, division: &str, on: Date) -> Event {
        Event::Opened(Open {
            case: case.clone(),
            child: CitizenId::from_parts("210502", date!(2015 - 06 - 01), 11).expect("valid"),
            division: code(division),
            risk: RiskLevel::Normal,
            source: Source::Alert {
                alert_id: format!("alert-{case}"),
            },
            concern: BoundedText::parse("监护人均已死亡", TEXT_MAX_CHARS).expect("valid"),
            reported_on: on,
        })
    }

    /// A case filed under a code that an adjustment moved to 平山区 is listed under 平山区 and
    /// escalated to it, not to the county that no longer exists.
    #[test]
    fn a_case_follows_its_division_through_an_adjustment() {
        let (moved, stayed) = (CaseId::draw(), CaseId::draw());
        let mut overview = Overview::default();
        let on = date!(2025 - 07 - 01);
        overview.apply_case(moved.clone(), &opened(&moved, OLD_TOWNSHIP, on));
        overview.apply_case(stayed.clone(), &opened(&stayed, "210503001000", on));
        let deadlines = Deadlines::default();
        let filter = CaseFilter {
            region: Some(code("210502000000")),
            step: None,
            overdue_only: false,
            day: on,
        };
        let listed: Vec<(CaseId, RegionCode)> = overview
            .list_cases(filter, &deadlines, current)
            .map(|l| (l.id.clone(), l.division))
            .collect();
        assert_eq!(listed, [(moved.clone(), code(NEW_TOWNSHIP))]);
        let escalations = overview.to_escalate(date!(2025 - 07 - 10), &deadlines, current);
        let to_pingshan: Vec<&CaseId> = escalations
            .iter()
            .filter(|(_, _, _, county)| *county == code("210502000000"))
            .map(|(id, ..)| id)
            .collect();
        assert_eq!(to_pingshan, [&moved]);
        assert_eq!(escalations.len(), 2);
    }
}
