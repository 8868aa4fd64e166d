//! A proactive-discovery referral (主动发现线索), stream `referral-<alert_id>`: an alert the
//! data-sharing service raised about a household that may be in difficulty (致贫返贫监测预警),
//! recorded for the township that must look into it, and what the township's caseworker did.
//!
//! The plan (chapter 2, box 2, "建立完善主动发现机制"): "以县为单位建立困难家庭基本信息数据库，
//! 健全完善致贫返贫监测预警机制", and "畅通急难社会救助申请和急难情况及时报告、主动发现渠道，建立健全
//! 快速响应……工作机制"; 《关于改革完善社会救助制度的意见》 (the 2020 opinion the plan implements)
//! asks for active discovery of those in need. Neither fixes how soon a township must act: the
//! deadline is ours, [`DEFAULT_DEADLINE_WORKING_DAYS`] working days after the alert was raised,
//! configurable (the application layer computes the day with the holiday calendar and passes it
//! in).
//!
//! ```text
//! alert raised ─► referral recorded (county, township, members, due day)
//!   ─► acted on: an application submitted (naming its case) │ visited, not eligible │ not reached
//! ```
//!
//! A referral not acted on after its due day is overdue ([`Referral::is_overdue_on`]). The
//! aggregate is pure: the due day, today and the resolved township arrive in the commands.

use std::fmt;

use minzheng_kit::aggregate::{Aggregate, DomainError, RefusalKind};
use minzheng_types::{
    BoundedText, CitizenId, IdError, RegionCode, RegionLevel, StreamKey, contains_citizen_id,
};
use time::Date;

use crate::ids::CaseId;

/// Working days a township has to act on an alert unless configured otherwise (ours: the plan
/// asks for a quick response without fixing a period).
pub const DEFAULT_DEADLINE_WORKING_DAYS: u32 = 5;

/// Longest note a caseworker may give, in characters.
pub const NOTE_MAX_CHARS: usize = 500;

/// Why a text is not an alert id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AlertIdError {
    #[error(transparent)]
    Form(#[from] IdError),
    #[error("must not contain a citizen id number")]
    CitizenNumber,
}

/// The id the data-sharing service issues an alert under: 1–64 ASCII letters, digits, `-` or
/// `_` (a stream key safe in a NATS subject), and never one containing a citizen id number,
/// since it keys the referral's stream (the contract does not fix a form beyond that).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertId(String);

impl AlertId {
    pub fn parse(input: &str) -> Result<Self, AlertIdError> {
        minzheng_types::id::check(input)?;
        if contains_citizen_id(input) {
            return Err(AlertIdError::CitizenNumber);
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AlertId({})", self.0)
    }
}

impl StreamKey for AlertId {
    fn stream_key(&self) -> String {
        self.0.clone()
    }
}

/// What an alert signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertKind {
    /// High medical spending (医疗费用支出较大).
    MedicalSpending,
    /// A member became severely disabled (残疾).
    Disability,
    /// The household lost its main income (失业、主要劳动力死亡).
    IncomeLoss,
    /// A disaster or an accident (灾害、意外).
    Disaster,
    /// Other agencies' records put the income near or below the line (收入下降).
    IncomeNearLine,
    /// Other agencies' records put the income of a household in assistance above its line
    /// (收入超标): its case is to be reviewed.
    IncomeAboveLine,
}

/// What the caseworker found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The household applied; the case it led to.
    ApplicationSubmitted(CaseId),
    /// Visited; not eligible (or not in need).
    VisitedNotEligible,
    /// No one could be reached.
    CouldNotReach,
}

/// Record an alert as a referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub alert_id: AlertId,
    pub kind: AlertKind,
    /// The county-level division of `township`.
    pub county: RegionCode,
    /// The township that must act: the alert's, as the divisions resolve it today.
    pub township: RegionCode,
    /// The members the alert names (duplicates are recorded once).
    pub members: Vec<CitizenId>,
    pub raised_on: Date,
    /// Today.
    pub on: Date,
    /// The last day to act in time, from the working-day calendar; not before `raised_on`.
    pub due_on: Date,
}

/// Record what a caseworker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Act {
    pub outcome: Outcome,
    pub note: BoundedText,
    /// Today.
    pub on: Date,
}

/// What can be asked of a referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Record(Record),
    Act(Act),
}

/// See [`Event::Recorded`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralRecorded {
    pub alert_id: AlertId,
    pub kind: AlertKind,
    pub county: RegionCode,
    pub township: RegionCode,
    pub members: Vec<CitizenId>,
    pub raised_on: Date,
    pub recorded_on: Date,
    pub due_on: Date,
}

/// See [`Event::ActedOn`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralActedOn {
    pub alert_id: AlertId,
    pub outcome: Outcome,
    pub note: BoundedText,
    pub acted_on: Date,
}

/// What happened to a referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An alert was recorded for a township.
    Recorded(ReferralRecorded),
    /// A caseworker acted on it.
    ActedOn(ReferralActedOn),
}

/// Why a command on a referral was refused. No message carries personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("a referral is for a township-level division; {code} is a {level}-level code")]
    NotATownship {
        code: RegionCode,
        level: RegionLevel,
    },
    #[error("township {township} does not lie in county {county}")]
    OtherCounty {
        county: RegionCode,
        township: RegionCode,
    },
    #[error("an alert names at least one member of the household")]
    NoMembers,
    #[error("the day to act by cannot come before the alert was raised")]
    DueBeforeRaised,
    #[error("this alert was already recorded with other particulars")]
    AlreadyRecorded,
    #[error("no such referral")]
    NotRecorded,
    #[error("the referral was already acted on")]
    AlreadyActedOn,
    #[error("a referral cannot be acted on before the alert was raised")]
    BeforeAlert,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NotATownship { .. } => "not_a_township",
            Error::OtherCounty { .. } => "other_county",
            Error::NoMembers => "no_members",
            Error::DueBeforeRaised => "due_before_raised",
            Error::AlreadyRecorded => "already_recorded",
            Error::NotRecorded => "referral_not_found",
            Error::AlreadyActedOn => "already_acted_on",
            Error::BeforeAlert => "before_alert",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            Error::NotRecorded => RefusalKind::NotFound,
            _ => RefusalKind::FailedPrecondition,
        }
    }
}

/// The state of one referral; `Default` is one never recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Referral {
    recorded: Option<ReferralRecorded>,
    action: Option<ReferralActedOn>,
}

impl Referral {
    /// The alert as recorded.
    pub fn recorded(&self) -> Option<&ReferralRecorded> {
        self.recorded.as_ref()
    }

    /// What the caseworker did, once acted on.
    pub fn action(&self) -> Option<&ReferralActedOn> {
        self.action.as_ref()
    }

    /// Whether it is recorded and no one has acted on it.
    pub fn is_open(&self) -> bool {
        self.recorded.is_some() && self.action.is_none()
    }

    /// Whether it is open on `today` and its due day has passed.
    pub fn is_overdue_on(&self, today: Date) -> bool {
        self.is_open() && self.recorded.as_ref().is_some_and(|r| r.due_on < today)
    }
}

impl Aggregate for Referral {
    const CATEGORY: &'static str = "referral";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Record(c) => self.record(c),
            Command::Act(c) => self.act(c),
        }
        .map(|event| event.into_iter().collect())
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Recorded(e) => self.recorded = Some(e.clone()),
            Event::ActedOn(e) => self.action = Some(e.clone()),
        }
        self
    }
}

impl Referral {
    fn record(&self, c: &Record) -> Result<Option<Event>, Error> {
        let level = c.township.level();
        if level != RegionLevel::Township {
            return Err(Error::NotATownship {
                code: c.township,
                level,
            });
        }
        if c.county.level() != RegionLevel::County || !c.county.contains(c.township) {
            return Err(Error::OtherCounty {
                county: c.county,
                township: c.township,
            });
        }
        let mut members: Vec<CitizenId> = Vec::with_capacity(c.members.len());
        for member in &c.members {
            if !members.contains(member) {
                members.push(member.clone());
            }
        }
        if members.is_empty() {
            return Err(Error::NoMembers);
        }
        if c.due_on < c.raised_on {
            return Err(Error::DueBeforeRaised);
        }
        let event = ReferralRecorded {
            alert_id: c.alert_id.clone(),
            kind: c.kind,
            county: c.county,
            township: c.township,
            members,
            raised_on: c.raised_on,
            recorded_on: c.on,
            due_on: c.due_on,
        };
        match &self.recorded {
            // The same alert delivered again (republished, replayed): nothing new.
            Some(earlier) if same_alert(earlier, &event) => Ok(None),
            Some(_) => Err(Error::AlreadyRecorded),
            None => Ok(Some(Event::Recorded(event))),
        }
    }

    fn act(&self, c: &Act) -> Result<Option<Event>, Error> {
        let recorded = self.recorded.as_ref().ok_or(Error::NotRecorded)?;
        if let Some(done) = &self.action {
            return if done.outcome == c.outcome && done.note == c.note {
                Ok(None)
            } else {
                Err(Error::AlreadyActedOn)
            };
        }
        if c.on < recorded.raised_on {
            return Err(Error::BeforeAlert);
        }
        Ok(Some(Event::ActedOn(ReferralActedOn {
            alert_id: recorded.alert_id.clone(),
            outcome: c.outcome.clone(),
            note: c.note.clone(),
            acted_on: c.on,
        })))
    }
}

/// The same alert: everything but the day it was recorded and its due day (which a calendar
/// loaded in between may move) agrees.
fn same_alert(a: &ReferralRecorded, b: &ReferralRecorded) -> bool {
    a.alert_id == b.alert_id
        && a.kind == b.kind
        && a.township == b.township
        && a.members == b.members
        && a.raised_on == b.raised_on
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;
    use crate::category::Category;

    pub(crate) const RAISED: Date = date!(2026 - 03 - 02);
    pub(crate) const DUE: Date = date!(2026 - 03 - 09);

    pub(crate) fn alert_id() -> AlertId {
        AlertId::parse("AL-2026-000042").expect("valid")
    }

    pub(crate) fn county() -> RegionCode {
        RegionCode::parse("210502000000").expect("valid")
    }

    pub(crate) fn township() -> RegionCode {
        // 本溪市平山区 平山街道.
        RegionCode::parse("210502001000").expect("valid")
    }

    pub(crate) fn member(n: u32) -> CitizenId {
        let numbers = ["21050219600825001X", "210502195803120025"];
        CitizenId::parse(numbers[n as usize % numbers.len()]).expect("valid")
    }

    pub(crate) fn note() -> BoundedText {
        BoundedText::parse("入户走访，已协助申请低保", NOTE_MAX_CHARS).expect("valid")
    }

    pub(crate) fn case_id() -> CaseId {
        CaseId::new(county(), Category::Dibao, 2026, 7).expect("valid")
    }

    fn record() -> Record {
        Record {
            alert_id: alert_id(),
            kind: AlertKind::IncomeLoss,
            county: county(),
            township: township(),
            members: vec![member(0), member(1), member(0)],
            raised_on: RAISED,
            on: date!(2026 - 03 - 03),
            due_on: DUE,
        }
    }

    pub(crate) fn recorded() -> Event {
        Event::Recorded(ReferralRecorded {
            alert_id: alert_id(),
            kind: AlertKind::IncomeLoss,
            county: county(),
            township: township(),
            members: vec![member(0), member(1)],
            raised_on: RAISED,
            recorded_on: date!(2026 - 03 - 03),
            due_on: DUE,
        })
    }

    pub(crate) fn acted(outcome: Outcome, on: Date) -> Event {
        Event::ActedOn(ReferralActedOn {
            alert_id: alert_id(),
            outcome,
            note: note(),
            acted_on: on,
        })
    }

    fn act(outcome: Outcome, on: Date) -> Command {
        Command::Act(Act {
            outcome,
            note: note(),
            on,
        })
    }

    #[test]
    fn alert_ids_are_stream_safe_and_never_a_citizen_number() {
        assert_eq!(alert_id().stream_key(), "AL-2026-000042");
        assert!(matches!(AlertId::parse(""), Err(AlertIdError::Form(_))));
        assert!(matches!(AlertId::parse("AL 1"), Err(AlertIdError::Form(_))));
        assert!(matches!(
            AlertId::parse("alert.1"),
            Err(AlertIdError::Form(_))
        ));
        assert_eq!(
            AlertId::parse("AL-210502195803120025"),
            Err(AlertIdError::CitizenNumber)
        );
    }

    #[test]
    fn an_alert_is_recorded_with_its_members_once_each() {
        let state = given::<Referral>([])
            .when(Command::Record(record()))
            .then([recorded()]);
        assert!(state.is_open());
        assert_eq!(state.recorded().map(|r| r.members.len()), Some(2));
    }

    #[test]
    fn the_same_alert_again_records_nothing_and_another_is_refused() {
        given::<Referral>([recorded()])
            .when(Command::Record(Record {
                on: date!(2026 - 03 - 05),
                due_on: date!(2026 - 03 - 10),
                ..record()
            }))
            .then([]);
        given::<Referral>([recorded()])
            .when(Command::Record(Record {
                kind: AlertKind::Disaster,
                ..record()
            }))
            .then_refused("already_recorded");
    }

    #[test]
    fn a_referral_belongs_to_a_township_of_its_county_and_names_members() {
        let rules = [
            (
                Record {
                    township: county(),
                    ..record()
                },
                "not_a_township",
            ),
            (
                Record {
                    township: RegionCode::parse("210503001000").expect("valid"),
                    ..record()
                },
                "other_county",
            ),
            (
                Record {
                    members: vec![],
                    ..record()
                },
                "no_members",
            ),
            (
                Record {
                    due_on: date!(2026 - 03 - 01),
                    ..record()
                },
                "due_before_raised",
            ),
        ];
        for (command, rule) in rules {
            given::<Referral>([])
                .when(Command::Record(command))
                .then_refused(rule);
        }
    }

    #[test]
    fn a_caseworker_acts_once_naming_the_case_an_application_led_to() {
        let on = date!(2026 - 03 - 06);
        let state = given::<Referral>([recorded()])
            .when(act(Outcome::ApplicationSubmitted(case_id()), on))
            .then([acted(Outcome::ApplicationSubmitted(case_id()), on)]);
        assert!(!state.is_open());
        assert!(!state.is_overdue_on(date!(2026 - 04 - 01)));
        // A retry of the same action is no change; another action is refused.
        given::<Referral>([recorded(), acted(Outcome::CouldNotReach, on)])
            .when(act(Outcome::CouldNotReach, on))
            .then([]);
        given::<Referral>([recorded(), acted(Outcome::CouldNotReach, on)])
            .when(act(Outcome::VisitedNotEligible, on))
            .then_refused("already_acted_on");
    }

    #[test]
    fn acting_needs_a_recorded_alert_and_a_day_not_before_it() {
        given::<Referral>([])
            .when(act(Outcome::CouldNotReach, RAISED))
            .then_refused("referral_not_found");
        given::<Referral>([recorded()])
            .when(act(Outcome::VisitedNotEligible, date!(2026 - 03 - 01)))
            .then_refused("before_alert");
    }

    #[test]
    fn an_open_referral_is_overdue_the_day_after_its_due_day() {
        let state = given::<Referral>([recorded()]).state().clone();
        assert!(!state.is_overdue_on(DUE));
        assert!(state.is_overdue_on(date!(2026 - 03 - 10)));
        let acted_late = state.apply(&acted(Outcome::CouldNotReach, date!(2026 - 03 - 12)));
        assert!(!acted_late.is_overdue_on(date!(2026 - 03 - 12)));
        assert!(!Referral::default().is_overdue_on(DUE));
    }
}
