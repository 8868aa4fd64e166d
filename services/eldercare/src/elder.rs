//! One elderly person (老年人), stream `elder-<pseudonym>`: their capacity assessments, where
//! they live in care, whether their household receives social assistance, their death, and
//! their regular-visit plan as a special-difficulty elderly person (特殊困难老年人探访关爱).
//!
//! Rules:
//! - a person is elderly from their 60th birthday (老年人权益保障法 第二条): an assessment or a
//!   placement in care before it is refused `under_60`;
//! - nothing new is recorded after the person's death but the consequences of it; a death is
//!   noted once, and noting it ends the placement and closes the visit plan the same day;
//! - a person lives in one institution at a time (`already_resident`); the institution's own
//!   stream ([`crate::institution`]) keeps its beds, and the two are appended together;
//! - a visit plan has an interval of 1 to 92 days; a visit is due `interval` days after the
//!   plan opened or after the last visit, is overdue from the day after, and escalated to the
//!   county once per missed due day; visits are recorded in date order;
//! - the low-income status follows the assistance cases the person is covered by, case by case.
//!
//! Stored events are history: `apply` never re-checks a rule.

use std::collections::BTreeMap;

use minzheng_kit::aggregate::{Aggregate, DomainError};
use minzheng_types::{BoundedText, CitizenId, RegionCode, age_on};
use time::{Date, Duration};

use crate::{
    assessment::{self, Adjustments, Level, Scores},
    ids::{ElderId, InstitutionId},
    institution::{BedType, DischargeReason},
    subsidy::Period,
};

/// The age from which a person is elderly.
pub const ELDERLY_AGE: u32 = 60;
/// The longest interval between visits, in days (a quarter).
pub const MAX_VISIT_INTERVAL_DAYS: u16 = 92;
/// Longest assessor text, visitor, reason.
pub const NOTE_MAX_CHARS: usize = 200;
/// Longest visit findings.
pub const FINDINGS_MAX_CHARS: usize = 2000;
/// Longest visit follow-up.
pub const FOLLOW_UP_MAX_CHARS: usize = 1000;

/// The day a visit is due: `interval_days` after `last` (the last visit, or the plan's
/// opening).
pub fn due_after(last: Date, interval_days: u16) -> Date {
    last.checked_add(Duration::days(i64::from(interval_days)))
        .unwrap_or(Date::MAX)
}

/// How many days a visit due on `due` is overdue on `day`: overdue from the day after.
pub fn days_overdue(due: Date, day: Date) -> Option<u32> {
    (day > due).then(|| u32::try_from((day - due).whole_days()).unwrap_or(u32::MAX))
}

/// Why a person is visited regularly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Difficulty {
    /// 独居.
    LivingAlone,
    /// 留守.
    LeftBehind,
    /// 失能/残疾.
    Disabled,
    /// 失独.
    BereavedOfOnlyChild,
}

/// One assessment as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessed {
    pub scores: Scores,
    pub adjustments: Adjustments,
    pub level: Level,
    pub total: u8,
    pub assessor: BoundedText,
    pub on: Date,
    pub reassessment_due_on: Date,
    /// Where the person lives: a township- or village-level division.
    pub division: RegionCode,
}

/// Where the person lives in care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub institution: InstitutionId,
    pub bed_type: BedType,
    pub since: Date,
}

/// One visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub on: Date,
    pub visitor: BoundedText,
    pub findings: BoundedText,
    pub follow_up: Option<BoundedText>,
}

/// A regular-visit plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitPlan {
    pub difficulties: Vec<Difficulty>,
    pub interval_days: u16,
    pub township: RegionCode,
    pub opened_on: Date,
    pub alert_id: Option<String>,
    pub visits: Vec<Visit>,
    /// The due days escalated to the county.
    pub escalated: Vec<Date>,
    pub closed: Option<(Date, BoundedText)>,
}

impl VisitPlan {
    /// The day the next visit is due: `interval` days after the last visit, or after the plan
    /// opened.
    pub fn next_due(&self) -> Date {
        due_after(
            self.visits.last().map_or(self.opened_on, |v| v.on),
            self.interval_days,
        )
    }

    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }

    /// The visit overdue on `day` (its due day, and by how many days), if any.
    pub fn overdue_on(&self, day: Date) -> Option<(Date, u32)> {
        let due = self.next_due();
        self.is_open()
            .then(|| days_overdue(due, day))
            .flatten()
            .map(|days| (due, days))
    }
}

/// The state of one person; `Default` is one the service knows nothing of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Elder {
    id: Option<ElderId>,
    citizen: Option<CitizenId>,
    assessments: Vec<Assessed>,
    placement: Option<Placement>,
    /// The institution, day and reason of the last placement's end.
    last_placement_end: Option<(InstitutionId, Date, DischargeReason)>,
    /// Each assistance case's coverage of the person, as changes over time.
    low_income: BTreeMap<String, Vec<(Date, bool)>>,
    death: Option<(Date, Option<String>)>,
    plans: Vec<VisitPlan>,
}

impl Elder {
    pub fn citizen(&self) -> Option<&CitizenId> {
        self.citizen.as_ref()
    }

    pub fn assessments(&self) -> &[Assessed] {
        &self.assessments
    }

    pub fn placement(&self) -> Option<&Placement> {
        self.placement.as_ref()
    }

    /// The institution, day and reason of the last placement's end.
    pub fn last_placement_end(&self) -> Option<(InstitutionId, Date, DischargeReason)> {
        self.last_placement_end
    }

    pub fn died_on(&self) -> Option<Date> {
        self.death.as_ref().map(|(on, _)| *on)
    }

    /// The latest visit plan, open or closed.
    pub fn visit_plan(&self) -> Option<&VisitPlan> {
        self.plans.last()
    }

    /// The open visit plan.
    pub fn open_plan(&self) -> Option<&VisitPlan> {
        self.plans.last().filter(|p| p.is_open())
    }

    /// The periods in which at least one assistance case covered the person, in order.
    pub fn low_income_periods(&self) -> Vec<Period> {
        let mut days: Vec<Date> = self
            .low_income
            .values()
            .flat_map(|changes| changes.iter().map(|(on, _)| *on))
            .collect();
        days.sort();
        days.dedup();
        let mut periods: Vec<Period> = Vec::new();
        for day in days {
            let covered = self.low_income.values().any(|changes| {
                changes
                    .iter()
                    .rev()
                    .find(|(on, _)| *on <= day)
                    .is_some_and(|(_, covered)| *covered)
            });
            match (periods.last_mut(), covered) {
                (Some(open), false) if open.until.is_none() => open.until = Some(day),
                (Some(open), true) if open.until.is_none() => {}
                (_, true) => periods.push(Period {
                    from: day,
                    until: None,
                }),
                (_, false) => {}
            }
        }
        periods
    }

    /// Whether an assistance case covers the person on `day`.
    pub fn low_income_on(&self, day: Date) -> bool {
        self.low_income_periods()
            .iter()
            .any(|p| p.from <= day && p.until.is_none_or(|until| day < until))
    }
}

/// What can be asked about a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Assess(Box<Assess>),
    StartPlacement(StartPlacement),
    EndPlacement(EndPlacement),
    MovePlacement {
        institution: InstitutionId,
        bed_type: BedType,
        on: Date,
    },
    SetLowIncome(LowIncome),
    NoteDeath(NoteDeath),
    OpenVisitPlan(OpenVisitPlan),
    RecordVisit(Visit),
    EscalateVisit {
        due_on: Date,
        county: RegionCode,
        on: Date,
    },
    CloseVisitPlan {
        on: Date,
        reason: BoundedText,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assess {
    pub citizen: CitizenId,
    pub elder: ElderId,
    pub scores: Scores,
    pub adjustments: Adjustments,
    pub assessor: BoundedText,
    pub on: Date,
    pub reassessment_due_on: Date,
    pub division: RegionCode,
}

impl Assess {
    /// The assessment as recorded: the level and total derived by the standard's rules.
    pub fn assessed(&self) -> Result<Assessed, Error> {
        let outcome = assessment::assess(&self.scores, &self.adjustments).map_err(|v| {
            Error::InvalidScores(
                v.iter()
                    .map(|v| format!("{}: {}", v.field_path(), v.rule()))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        Ok(Assessed {
            scores: self.scores.clone(),
            adjustments: self.adjustments,
            level: outcome.level,
            total: outcome.total,
            assessor: self.assessor.clone(),
            on: self.on,
            reassessment_due_on: self.reassessment_due_on,
            division: self.division,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartPlacement {
    pub citizen: CitizenId,
    pub elder: ElderId,
    pub institution: InstitutionId,
    pub bed_type: BedType,
    pub on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndPlacement {
    pub elder: ElderId,
    pub institution: InstitutionId,
    pub on: Date,
    pub reason: DischargeReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowIncome {
    pub citizen: CitizenId,
    pub elder: ElderId,
    pub case_id: String,
    pub covered: bool,
    pub on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteDeath {
    pub citizen: CitizenId,
    pub elder: ElderId,
    pub on: Date,
    pub death_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenVisitPlan {
    pub citizen: CitizenId,
    pub elder: ElderId,
    pub difficulties: Vec<Difficulty>,
    pub interval_days: u16,
    pub township: RegionCode,
    pub on: Date,
    /// The data-sharing alert that asks for it: an open plan already answers it (no event).
    pub alert_id: Option<String>,
}

/// What happened to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    AssessmentRecorded(Box<AssessmentRecorded>),
    PlacementStarted(PlacementStarted),
    PlacementEnded(PlacementEnded),
    LowIncomeStatusChanged(LowIncome),
    DeathNoted(NoteDeath),
    VisitPlanOpened(VisitPlanOpened),
    VisitRecorded(VisitRecorded),
    VisitEscalated(VisitEscalated),
    VisitPlanClosed(VisitPlanClosed),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentRecorded {
    pub elder: ElderId,
    pub citizen: CitizenId,
    pub assessed: Assessed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementStarted {
    pub elder: ElderId,
    pub institution: InstitutionId,
    pub bed_type: BedType,
    pub on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementEnded {
    pub elder: ElderId,
    pub institution: InstitutionId,
    pub on: Date,
    pub reason: DischargeReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitPlanOpened {
    pub elder: ElderId,
    pub citizen: CitizenId,
    pub difficulties: Vec<Difficulty>,
    pub interval_days: u16,
    pub township: RegionCode,
    pub on: Date,
    pub alert_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRecorded {
    pub elder: ElderId,
    pub visit: Visit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitEscalated {
    pub elder: ElderId,
    pub due_on: Date,
    pub township: RegionCode,
    pub county: RegionCode,
    pub on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitPlanClosed {
    pub elder: ElderId,
    pub on: Date,
    pub reason: BoundedText,
}

impl Event {
    /// The person the event is about.
    pub fn elder(&self) -> &ElderId {
        match self {
            Event::AssessmentRecorded(e) => &e.elder,
            Event::PlacementStarted(e) => &e.elder,
            Event::PlacementEnded(e) => &e.elder,
            Event::LowIncomeStatusChanged(e) => &e.elder,
            Event::DeathNoted(e) => &e.elder,
            Event::VisitPlanOpened(e) => &e.elder,
            Event::VisitRecorded(e) => &e.elder,
            Event::VisitEscalated(e) => &e.elder,
            Event::VisitPlanClosed(e) => &e.elder,
        }
    }
}

/// A rule that refused a command about a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the person is under 60 on that day")]
    Under60,
    #[error("the person died before that day")]
    Deceased,
    #[error("the scores do not follow the standard's table: {0}")]
    InvalidScores(String),
    #[error("the assessment is dated before the person's last one")]
    BeforeLastAssessment,
    #[error("a re-assessment must be due after the assessment")]
    DueNotAfterAssessment,
    #[error("the person already lives in an institution")]
    AlreadyResident,
    #[error("the person does not live in that institution")]
    NotResident,
    #[error("the date is before the person's placement began")]
    BeforePlacement,
    #[error("the person already has an open visit plan")]
    VisitPlanOpen,
    #[error("the person has no open visit plan")]
    NoVisitPlan,
    #[error("a visit plan's interval is 1 to {MAX_VISIT_INTERVAL_DAYS} days")]
    IntervalOutOfRange,
    #[error("a visit plan names at least one difficulty")]
    NoDifficulty,
    #[error("the visit is dated before the plan opened or the last visit")]
    BeforeLastVisit,
    #[error("the command is for another person than this stream's")]
    WrongPerson,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::Under60 => "under_60",
            Error::Deceased => "deceased",
            Error::InvalidScores(_) => "invalid_scores",
            Error::BeforeLastAssessment => "before_last_assessment",
            Error::DueNotAfterAssessment => "due_not_after_assessment",
            Error::AlreadyResident => "already_resident",
            Error::NotResident => "not_resident",
            Error::BeforePlacement => "before_placement",
            Error::VisitPlanOpen => "visit_plan_open",
            Error::NoVisitPlan => "no_visit_plan",
            Error::IntervalOutOfRange => "interval_out_of_range",
            Error::NoDifficulty => "no_difficulty",
            Error::BeforeLastVisit => "before_last_visit",
            Error::WrongPerson => "wrong_person",
        }
    }
}

impl Elder {
    /// The person's own stream only, alive on `on`, and (when `elderly`) 60 or more by then.
    fn check_person(&self, citizen: &CitizenId, on: Date, elderly: bool) -> Result<(), Error> {
        if self.citizen.as_ref().is_some_and(|c| c != citizen) {
            return Err(Error::WrongPerson);
        }
        if self.died_on().is_some_and(|died| died < on) {
            return Err(Error::Deceased);
        }
        if elderly && age_on(citizen.birth_date(), on) < ELDERLY_AGE {
            return Err(Error::Under60);
        }
        Ok(())
    }

    fn alive_on(&self, on: Date) -> Result<(), Error> {
        match self.died_on() {
            Some(died) if died < on => Err(Error::Deceased),
            _ => Ok(()),
        }
    }
}

impl Aggregate for Elder {
    const CATEGORY: &'static str = "elder";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Assess(c) => {
                self.check_person(&c.citizen, c.on, true)?;
                let assessed = c.assessed()?;
                if self.assessments.last().is_some_and(|a| c.on < a.on) {
                    return Err(Error::BeforeLastAssessment);
                }
                if c.reassessment_due_on <= c.on {
                    return Err(Error::DueNotAfterAssessment);
                }
                Ok(vec![Event::AssessmentRecorded(Box::new(
                    AssessmentRecorded {
                        elder: c.elder.clone(),
                        citizen: c.citizen.clone(),
                        assessed,
                    },
                ))])
            }
            Command::StartPlacement(c) => {
                self.check_person(&c.citizen, c.on, true)?;
                if self.placement.is_some() {
                    return Err(Error::AlreadyResident);
                }
                Ok(vec![Event::PlacementStarted(PlacementStarted {
                    elder: c.elder.clone(),
                    institution: c.institution,
                    bed_type: c.bed_type,
                    on: c.on,
                })])
            }
            Command::EndPlacement(c) => {
                let placement = self.placed_in(c.institution)?;
                if c.on < placement.since {
                    return Err(Error::BeforePlacement);
                }
                Ok(vec![Event::PlacementEnded(PlacementEnded {
                    elder: c.elder.clone(),
                    institution: c.institution,
                    on: c.on,
                    reason: c.reason,
                })])
            }
            Command::MovePlacement {
                institution,
                bed_type,
                on,
            } => {
                let placement = self.placed_in(*institution)?;
                self.alive_on(*on)?;
                if *on < placement.since {
                    return Err(Error::BeforePlacement);
                }
                let elder = self.elder_id()?;
                Ok(vec![Event::PlacementStarted(PlacementStarted {
                    elder,
                    institution: *institution,
                    bed_type: *bed_type,
                    on: *on,
                })])
            }
            Command::SetLowIncome(c) => {
                self.check_person(&c.citizen, c.on, false)
                    .or_else(|e| match e {
                        // A case ending after the death is still history worth keeping.
                        Error::Deceased => Ok(()),
                        other => Err(other),
                    })?;
                let current = self
                    .low_income
                    .get(&c.case_id)
                    .and_then(|changes| changes.last())
                    .is_some_and(|(_, covered)| *covered);
                if current == c.covered {
                    return Ok(vec![]);
                }
                Ok(vec![Event::LowIncomeStatusChanged(c.clone())])
            }
            Command::NoteDeath(c) => {
                if self.death.is_some() {
                    return Ok(vec![]);
                }
                if self.citizen.as_ref().is_some_and(|id| id != &c.citizen) {
                    return Err(Error::WrongPerson);
                }
                let mut events = vec![Event::DeathNoted(c.clone())];
                if let Some(placement) = &self.placement {
                    events.push(Event::PlacementEnded(PlacementEnded {
                        elder: c.elder.clone(),
                        institution: placement.institution,
                        on: c.on.max(placement.since),
                        reason: DischargeReason::Died,
                    }));
                }
                if let Some(plan) = self.open_plan() {
                    events.push(Event::VisitPlanClosed(VisitPlanClosed {
                        elder: c.elder.clone(),
                        on: c.on.max(plan.opened_on),
                        reason: BoundedText::parse("deceased", NOTE_MAX_CHARS)
                            .expect("a valid constant text"),
                    }));
                }
                Ok(events)
            }
            Command::OpenVisitPlan(c) => {
                self.check_person(&c.citizen, c.on, false)?;
                if self.open_plan().is_some() {
                    return if c.alert_id.is_some() {
                        Ok(vec![])
                    } else {
                        Err(Error::VisitPlanOpen)
                    };
                }
                if !(1..=MAX_VISIT_INTERVAL_DAYS).contains(&c.interval_days) {
                    return Err(Error::IntervalOutOfRange);
                }
                if c.difficulties.is_empty() {
                    return Err(Error::NoDifficulty);
                }
                Ok(vec![Event::VisitPlanOpened(VisitPlanOpened {
                    elder: c.elder.clone(),
                    citizen: c.citizen.clone(),
                    difficulties: c.difficulties.clone(),
                    interval_days: c.interval_days,
                    township: c.township,
                    on: c.on,
                    alert_id: c.alert_id.clone(),
                })])
            }
            Command::RecordVisit(visit) => {
                let plan = self.open_plan().ok_or(Error::NoVisitPlan)?;
                self.alive_on(visit.on)?;
                let last = plan.visits.last().map_or(plan.opened_on, |v| v.on);
                if visit.on < last {
                    return Err(Error::BeforeLastVisit);
                }
                Ok(vec![Event::VisitRecorded(VisitRecorded {
                    elder: self.elder_id()?,
                    visit: visit.clone(),
                })])
            }
            Command::EscalateVisit { due_on, county, on } => {
                let Some(plan) = self.open_plan() else {
                    return Ok(vec![]);
                };
                if plan.next_due() != *due_on || plan.escalated.contains(due_on) || on <= due_on {
                    return Ok(vec![]);
                }
                Ok(vec![Event::VisitEscalated(VisitEscalated {
                    elder: self.elder_id()?,
                    due_on: *due_on,
                    township: plan.township,
                    county: *county,
                    on: *on,
                })])
            }
            Command::CloseVisitPlan { on, reason } => {
                let plan = self.open_plan().ok_or(Error::NoVisitPlan)?;
                if *on < plan.opened_on {
                    return Err(Error::BeforeLastVisit);
                }
                Ok(vec![Event::VisitPlanClosed(VisitPlanClosed {
                    elder: self.elder_id()?,
                    on: *on,
                    reason: reason.clone(),
                })])
            }
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        self.id.get_or_insert_with(|| event.elder().clone());
        match event {
            Event::AssessmentRecorded(e) => {
                self.citizen.get_or_insert_with(|| e.citizen.clone());
                self.assessments.push(e.assessed.clone());
            }
            Event::PlacementStarted(e) => {
                self.placement = Some(Placement {
                    institution: e.institution,
                    bed_type: e.bed_type,
                    since: e.on,
                });
            }
            Event::PlacementEnded(e) => {
                self.placement = None;
                self.last_placement_end = Some((e.institution, e.on, e.reason));
            }
            Event::LowIncomeStatusChanged(e) => {
                self.citizen.get_or_insert_with(|| e.citizen.clone());
                self.low_income
                    .entry(e.case_id.clone())
                    .or_default()
                    .push((e.on, e.covered));
            }
            Event::DeathNoted(e) => {
                self.citizen.get_or_insert_with(|| e.citizen.clone());
                self.death = Some((e.on, e.death_id.clone()));
            }
            Event::VisitPlanOpened(e) => {
                self.citizen.get_or_insert_with(|| e.citizen.clone());
                self.plans.push(VisitPlan {
                    difficulties: e.difficulties.clone(),
                    interval_days: e.interval_days,
                    township: e.township,
                    opened_on: e.on,
                    alert_id: e.alert_id.clone(),
                    visits: Vec::new(),
                    escalated: Vec::new(),
                    closed: None,
                });
            }
            Event::VisitRecorded(e) => {
                if let Some(plan) = self.plans.last_mut() {
                    plan.visits.push(e.visit.clone());
                }
            }
            Event::VisitEscalated(e) => {
                if let Some(plan) = self.plans.last_mut() {
                    plan.escalated.push(e.due_on);
                }
            }
            Event::VisitPlanClosed(e) => {
                if let Some(plan) = self.plans.last_mut() {
                    plan.closed = Some((e.on, e.reason.clone()));
                }
            }
        }
        self
    }
}

impl Elder {
    fn placed_in(&self, institution: InstitutionId) -> Result<&Placement, Error> {
        self.placement
            .as_ref()
            .filter(|p| p.institution == institution)
            .ok_or(Error::NotResident)
    }

    /// The stream's person, known from its first event (the commands that carry no person need
    /// an open plan, so come after one).
    fn elder_id(&self) -> Result<ElderId, Error> {
        self.id.clone().ok_or(Error::NoVisitPlan)
    }
}

#[cfg(test)]
mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;
    use crate::institution::tests::{citizen, elder, text};

    fn township() -> RegionCode {
        RegionCode::parse("210502001000").expect("valid")
    }

    fn county() -> RegionCode {
        RegionCode::parse("210502000000").expect("valid")
    }

    fn institution(n: u16) -> InstitutionId {
        InstitutionId::new(county(), n).expect("valid")
    }

    fn opened(on: Date, interval_days: u16) -> Event {
        Event::VisitPlanOpened(VisitPlanOpened {
            elder: elder(1),
            citizen: citizen(1),
            difficulties: vec![Difficulty::LivingAlone],
            interval_days,
            township: township(),
            on,
            alert_id: None,
        })
    }

    fn visited(on: Date) -> Event {
        Event::VisitRecorded(VisitRecorded {
            elder: elder(1),
            visit: visit(on),
        })
    }

    fn visit(on: Date) -> Visit {
        Visit {
            on,
            visitor: text("社区网格员 张"),
            findings: text("身体状况良好"),
            follow_up: None,
        }
    }

    fn placed(n: u16, on: Date) -> Event {
        Event::PlacementStarted(PlacementStarted {
            elder: elder(1),
            institution: institution(n),
            bed_type: BedType::Nursing,
            on,
        })
    }

    #[test]
    fn the_age_is_reached_on_the_birthday_and_29_february_on_1_march() {
        for (birth, day, age) in [
            (date!(1945 - 05 - 01), date!(2025 - 04 - 30), 79),
            (date!(1945 - 05 - 01), date!(2025 - 05 - 01), 80),
            (date!(1944 - 02 - 29), date!(2025 - 02 - 28), 80),
            (date!(1944 - 02 - 29), date!(2025 - 03 - 01), 81),
            (date!(1944 - 02 - 29), date!(2024 - 02 - 29), 80),
        ] {
            assert_eq!(age_on(birth, day), age, "{birth} on {day}");
        }
    }

    #[test]
    fn a_visit_not_made_by_its_due_day_is_overdue_and_escalated_once() {
        let history = [opened(date!(2025 - 01 - 01), 30)];
        let first = given::<Elder>(history.clone());
        let plan = first.state().open_plan().expect("open");
        assert_eq!(plan.next_due(), date!(2025 - 01 - 31));
        assert_eq!(plan.overdue_on(date!(2025 - 01 - 31)), None);
        assert_eq!(
            plan.overdue_on(date!(2025 - 02 - 03)),
            Some((date!(2025 - 01 - 31), 3))
        );
        let escalate = |on| Command::EscalateVisit {
            due_on: date!(2025 - 01 - 31),
            county: county(),
            on,
        };
        first
            .when(escalate(date!(2025 - 02 - 10)))
            .then([Event::VisitEscalated(VisitEscalated {
                elder: elder(1),
                due_on: date!(2025 - 01 - 31),
                township: township(),
                county: county(),
                on: date!(2025 - 02 - 10),
            })]);
        // Once per missed due day; never before it is missed.
        let mut escalated = history.to_vec();
        escalated.push(Event::VisitEscalated(VisitEscalated {
            elder: elder(1),
            due_on: date!(2025 - 01 - 31),
            township: township(),
            county: county(),
            on: date!(2025 - 02 - 10),
        }));
        given::<Elder>(escalated.clone())
            .when(escalate(date!(2025 - 02 - 11)))
            .then([]);
        given::<Elder>(history.clone())
            .when(escalate(date!(2025 - 01 - 31)))
            .then([]);
        // A visit moves the due day on: the old one can no longer be escalated.
        escalated.push(visited(date!(2025 - 02 - 12)));
        let visited_late = given::<Elder>(escalated);
        assert_eq!(
            visited_late.state().open_plan().map(VisitPlan::next_due),
            Some(date!(2025 - 03 - 14))
        );
        visited_late.when(escalate(date!(2025 - 02 - 20))).then([]);
    }

    #[test]
    fn visits_are_recorded_in_order_on_an_open_plan() {
        given::<Elder>([])
            .when(Command::RecordVisit(visit(date!(2025 - 01 - 05))))
            .then_refused("no_visit_plan");
        given::<Elder>([
            opened(date!(2025 - 01 - 01), 30),
            visited(date!(2025 - 01 - 20)),
        ])
        .when(Command::RecordVisit(visit(date!(2025 - 01 - 19))))
        .then_refused("before_last_visit");
        given::<Elder>([opened(date!(2025 - 01 - 01), 30)])
            .when(Command::OpenVisitPlan(OpenVisitPlan {
                citizen: citizen(1),
                elder: elder(1),
                difficulties: vec![Difficulty::Disabled],
                interval_days: 30,
                township: township(),
                on: date!(2025 - 01 - 02),
                alert_id: None,
            }))
            .then_refused("visit_plan_open");
        // An alert asking for a plan the person has is answered by it.
        given::<Elder>([opened(date!(2025 - 01 - 01), 30)])
            .when(Command::OpenVisitPlan(OpenVisitPlan {
                citizen: citizen(1),
                elder: elder(1),
                difficulties: vec![Difficulty::LivingAlone],
                interval_days: 30,
                township: township(),
                on: date!(2025 - 01 - 02),
                alert_id: Some("EA-1".to_owned()),
            }))
            .then([]);
        given::<Elder>([])
            .when(Command::OpenVisitPlan(OpenVisitPlan {
                citizen: citizen(1),
                elder: elder(1),
                difficulties: vec![Difficulty::LivingAlone],
                interval_days: 93,
                township: township(),
                on: date!(2025 - 01 - 02),
                alert_id: None,
            }))
            .then_refused("interval_out_of_range");
    }

    #[test]
    fn a_death_ends_the_placement_and_closes_the_plan_once() {
        let death = NoteDeath {
            citizen: citizen(1),
            elder: elder(1),
            on: date!(2025 - 03 - 10),
            death_id: Some("d".repeat(32)),
        };
        let state = given::<Elder>([
            opened(date!(2025 - 01 - 01), 30),
            placed(1, date!(2024 - 06 - 01)),
        ])
        .when(Command::NoteDeath(death.clone()))
        .then([
            Event::DeathNoted(death.clone()),
            Event::PlacementEnded(PlacementEnded {
                elder: elder(1),
                institution: institution(1),
                on: date!(2025 - 03 - 10),
                reason: DischargeReason::Died,
            }),
            Event::VisitPlanClosed(VisitPlanClosed {
                elder: elder(1),
                on: date!(2025 - 03 - 10),
                reason: text("deceased"),
            }),
        ]);
        assert_eq!(state.died_on(), Some(date!(2025 - 03 - 10)));
        assert!(state.placement().is_none());
        assert!(state.open_plan().is_none());
        given::<Elder>([Event::DeathNoted(death.clone())])
            .when(Command::NoteDeath(death.clone()))
            .then([]);
        given::<Elder>([Event::DeathNoted(death)])
            .when(Command::StartPlacement(StartPlacement {
                citizen: citizen(1),
                elder: elder(1),
                institution: institution(2),
                bed_type: BedType::General,
                on: date!(2025 - 04 - 01),
            }))
            .then_refused("deceased");
    }

    #[test]
    fn a_person_lives_in_one_institution_at_a_time() {
        let start = |n| {
            Command::StartPlacement(StartPlacement {
                citizen: citizen(1),
                elder: elder(1),
                institution: institution(n),
                bed_type: BedType::Nursing,
                on: date!(2025 - 04 - 01),
            })
        };
        given::<Elder>([placed(1, date!(2024 - 06 - 01))])
            .when(start(2))
            .then_refused("already_resident");
        given::<Elder>([])
            .when(start(2))
            .then([placed(2, date!(2025 - 04 - 01))]);
        let young = CitizenId::from_parts("210502", date!(1970 - 01 - 01), 1).expect("valid");
        given::<Elder>([])
            .when(Command::StartPlacement(StartPlacement {
                citizen: young,
                elder: elder(2),
                institution: institution(1),
                bed_type: BedType::General,
                on: date!(2025 - 04 - 01),
            }))
            .then_refused("under_60");
    }

    #[test]
    fn low_income_follows_each_case_and_their_union() {
        let change = |case: &str, covered, on| {
            Event::LowIncomeStatusChanged(LowIncome {
                citizen: citizen(1),
                elder: elder(1),
                case_id: case.to_owned(),
                covered,
                on,
            })
        };
        let given = given::<Elder>([
            change("A", true, date!(2024 - 01 - 01)),
            change("B", true, date!(2024 - 03 - 01)),
            change("A", false, date!(2024 - 04 - 01)),
            change("B", false, date!(2024 - 06 - 01)),
            change("A", true, date!(2024 - 09 - 01)),
        ]);
        let state = given.state();
        assert_eq!(
            state.low_income_periods(),
            vec![
                Period {
                    from: date!(2024 - 01 - 01),
                    until: Some(date!(2024 - 06 - 01))
                },
                Period {
                    from: date!(2024 - 09 - 01),
                    until: None
                },
            ]
        );
        assert!(!state.low_income_on(date!(2024 - 07 - 01)));
        assert!(state.low_income_on(date!(2024 - 05 - 31)));
        given
            .when(Command::SetLowIncome(LowIncome {
                citizen: citizen(1),
                elder: elder(1),
                case_id: "A".to_owned(),
                covered: true,
                on: date!(2024 - 10 - 01),
            }))
            .then([]);
    }
}
