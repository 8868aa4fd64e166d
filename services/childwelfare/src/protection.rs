//! One child-protection case of the four-in-one mechanism (四位一体), stream
//! `protection_case-<id>`, after the Primero / CPIMS+ case workflow (UNICEF): a case opens from a
//! mandatory report (强制报告) or from a data-sharing alert (a minor whose guardians have all
//! died), then goes through emergency handling (应急处置), assessment (评估), an assistance plan
//! (帮扶), guardianship intervention where needed (监护干预) and closure.
//!
//! Rules (refusals carry the rule id in brackets):
//! - a case opens once (`already_opened`); an alert delivered again for the case it opened
//!   records nothing. The child is born and under 18 on the report day (`not_a_minor`) and the
//!   division is a township or a village (`division_not_local`) — or, for a case opened from an
//!   alert that knows only the household's county, that county;
//! - nothing is recorded on a closed case (`case_closed`) nor on one never opened
//!   (`not_opened`);
//! - emergency handling, assessment and plan follow in that order, each once
//!   (`step_out_of_order`), and only once a caseworker is assigned (`not_assigned`): each step
//!   records the caseworker who answered for it;
//! - no step, assignment, intervention or closure is dated before the latest recorded step
//!   (`before_previous_step`);
//! - a guardianship intervention comes only after the assessment (`not_assessed`), before or
//!   after the plan and as often as needed; an application to the court to revoke the
//!   guardianship names the court referral (`court_referral_required`);
//! - a case closes from any open step, with a reason;
//! - each of emergency handling, assessment and plan is due a number of days after the step
//!   before it ([`Deadlines`]), is overdue from the day after, and an overdue step is escalated
//!   to the county once per due day: an [`Command::Escalate`] for a step that is not overdue on
//!   that day, or already escalated for that due day, records nothing.
//!
//! The reporter of a mandatory report is personal data whose confidentiality the 2020 opinion
//! on mandatory reporting requires: the case holds it only sealed ([`SealedReporter`],
//! encrypted by [`crate::sealing`] before the command is decided), never prints it, and hands
//! the sealed bytes out only through [`ProtectionCase::reporter_for_need_to_know`].
//!
//! Stored events are history: `apply` never re-checks a rule.

use std::fmt;

use minzheng_kit::aggregate::{Aggregate, DomainError, RefusalKind};
use minzheng_types::{BoundedText, CitizenId, RegionCode, RegionLevel};

use crate::ids::CaseId;
use time::Date;

/// The age from which a person is no longer a minor.
pub const ADULT_AGE: u32 = 18;
/// Longest names, roles, references, reasons.
pub const NOTE_MAX_CHARS: usize = 200;
/// Longest concern, measures, findings, needs.
pub const TEXT_MAX_CHARS: usize = 2000;

/// How urgent a case is at intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RiskLevel {
    /// 紧急: the child is in immediate danger.
    Urgent,
    High,
    Normal,
}

/// A step of a case, in the order they are reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    Reported,
    EmergencyHandled,
    Assessed,
    PlanAgreed,
    Closed,
}

/// The service's time limits, in days after the step before. They are service settings, set by
/// the bureau: the 2020 opinion of the Supreme People's Procuratorate and eight other bodies on
/// mandatory reporting of harm to minors (《关于建立侵害未成年人案件强制报告制度的意见(试行)》)
/// and the Minors Protection Law (2020, art. 11) require reporting and handling "immediately"
/// (立即) but set no day counts for emergency handling, assessment or plan; the defaults below
/// are this service's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// Emergency handling after the report of an urgent case (default 0: the same day).
    pub emergency_urgent_days: u16,
    /// … of a high-risk case (default 1).
    pub emergency_high_days: u16,
    /// … of a normal case (default 3).
    pub emergency_normal_days: u16,
    /// Assessment after emergency handling (default 7).
    pub assessment_days: u16,
    /// Assistance plan after assessment (default 15).
    pub plan_days: u16,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            emergency_urgent_days: 0,
            emergency_high_days: 1,
            emergency_normal_days: 3,
            assessment_days: 7,
            plan_days: 15,
        }
    }
}

impl Deadlines {
    /// Days from the report to emergency handling for a case of `risk`.
    pub fn emergency_days(&self, risk: RiskLevel) -> u16 {
        match risk {
            RiskLevel::Urgent => self.emergency_urgent_days,
            RiskLevel::High => self.emergency_high_days,
            RiskLevel::Normal => self.emergency_normal_days,
        }
    }
}

/// Who is obliged to report, per the 2020 opinion, or a member of the public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReporterKind {
    /// 居(村)民委员会.
    ResidentsCommittee,
    /// 学校、幼儿园、校外培训机构.
    Education,
    /// 医疗机构.
    Medical,
    /// 旅店、宾馆等住宿经营者.
    Accommodation,
    /// 社会工作服务机构、救助管理机构、福利机构.
    SocialServices,
    /// 国家机关 (police, procuratorate, civil affairs…).
    StateOrgan,
    /// Another body in close contact with minors.
    OtherMandatory,
    /// Anyone not obliged to report.
    Public,
}

/// The person who made a report: personal data, kept confidential. `Debug` prints none of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Reporter {
    pub name: BoundedText,
    pub phone: Option<BoundedText>,
    pub organisation: Option<BoundedText>,
    /// E.g. teacher, doctor, police officer.
    pub role: BoundedText,
}

impl fmt::Debug for Reporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reporter(<confidential>)")
    }
}

/// A [`Reporter`] encrypted under the service's reporter key ([`crate::sealing`]): what the
/// case, its events and the bus carry. Opaque here; `Debug` prints only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedReporter(Vec<u8>);

impl SealedReporter {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SealedReporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedReporter({} bytes)", self.0.len())
    }
}

/// Where a case came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// 强制报告 (or a voluntary report, by [`ReporterKind::Public`]).
    MandatoryReport {
        reporter: SealedReporter,
        reporter_kind: ReporterKind,
    },
    /// A data-sharing alert, e.g. a minor whose guardians have all died.
    Alert { alert_id: String },
}

/// Where a case came from, without the reporter: what any role may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    Report(ReporterKind),
    Alert(String),
}

/// A guardianship intervention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InterventionKind {
    /// 民政部门临时监护 (未成年人保护法 第九十二条).
    TemporaryGuardianship,
    /// 民政部门长期监护 (第九十四条).
    LongTermGuardianship,
    /// An application to the court to revoke the guardian's status (民法典 第三十六条).
    CourtRevocation,
    /// Another measure, e.g. a warning or family education order (家庭教育指导).
    Other,
}

/// The court a case was referred to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourtReferral {
    pub reference: BoundedText,
    pub court: BoundedText,
}

/// A recorded step: what was done, when, by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRecord {
    pub on: Date,
    pub caseworker: BoundedText,
    /// Measures taken or agreed, or the assessment's findings.
    pub text: BoundedText,
    /// The assessment's needs (only for an assessment).
    pub needs: Option<BoundedText>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intervention {
    pub kind: InterventionKind,
    pub court_referral: Option<CourtReferral>,
    pub on: Date,
    pub caseworker: BoundedText,
}

/// How the case opened.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Opening {
    child: CitizenId,
    division: RegionCode,
    risk: RiskLevel,
    source: Source,
    concern: BoundedText,
    reported_on: Date,
}

/// The state of one case; `Default` is a case not opened. Its `Debug` shows no reporter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtectionCase {
    opening: Option<Opening>,
    caseworker: Option<BoundedText>,
    assigned_on: Option<Date>,
    emergency: Option<StepRecord>,
    assessment: Option<StepRecord>,
    plan: Option<StepRecord>,
    interventions: Vec<Intervention>,
    /// The steps escalated, with their due day.
    escalated: Vec<(Step, Date)>,
    /// The day of each escalation in `escalated`, in the same order.
    escalated_on: Vec<Date>,
    closed: Option<(Date, BoundedText)>,
}

impl ProtectionCase {
    pub fn is_opened(&self) -> bool {
        self.opening.is_some()
    }

    pub fn child(&self) -> Option<&CitizenId> {
        self.opening.as_ref().map(|o| &o.child)
    }

    pub fn division(&self) -> Option<RegionCode> {
        self.opening.as_ref().map(|o| o.division)
    }

    pub fn risk(&self) -> Option<RiskLevel> {
        self.opening.as_ref().map(|o| o.risk)
    }

    pub fn reported_on(&self) -> Option<Date> {
        self.opening.as_ref().map(|o| o.reported_on)
    }

    pub fn concern(&self) -> Option<&BoundedText> {
        self.opening.as_ref().map(|o| &o.concern)
    }

    /// Where the case came from, without the reporter's identity.
    pub fn source_kind(&self) -> Option<SourceKind> {
        self.opening.as_ref().map(|o| match &o.source {
            Source::MandatoryReport { reporter_kind, .. } => SourceKind::Report(*reporter_kind),
            Source::Alert { alert_id } => SourceKind::Alert(alert_id.clone()),
        })
    }

    /// The reporter's identity (强制报告的报告人信息), sealed. Who may open it is the service's
    /// access policy (`GetCaseReporter`: auditors and approvers, who say why), and every access
    /// is audited before the answer; no list, search or export returns it.
    pub fn reporter_for_need_to_know(&self) -> Option<&SealedReporter> {
        match &self.opening.as_ref()?.source {
            Source::MandatoryReport { reporter, .. } => Some(reporter),
            Source::Alert { .. } => None,
        }
    }

    pub fn caseworker(&self) -> Option<&BoundedText> {
        self.caseworker.as_ref()
    }

    pub fn emergency_handling(&self) -> Option<&StepRecord> {
        self.emergency.as_ref()
    }

    pub fn assessment(&self) -> Option<&StepRecord> {
        self.assessment.as_ref()
    }

    pub fn plan(&self) -> Option<&StepRecord> {
        self.plan.as_ref()
    }

    pub fn interventions(&self) -> &[Intervention] {
        &self.interventions
    }

    /// The steps escalated, with their due day.
    pub fn escalated(&self) -> &[(Step, Date)] {
        &self.escalated
    }

    /// The case as it stood at the end of `day`: only what is dated on or before it (steps,
    /// assignment, interventions, escalations, closure); `None` when it was reported later.
    /// For reading a past day's deadlines with what was known to have happened by then.
    pub fn as_of(&self, day: Date) -> Option<ProtectionCase> {
        if self.reported_on()? > day {
            return None;
        }
        let by = |record: &Option<StepRecord>| record.clone().filter(|r| r.on <= day);
        let (escalated, escalated_on) = self
            .escalated
            .iter()
            .zip(&self.escalated_on)
            .filter(|(_, on)| **on <= day)
            .map(|(escalation, on)| (*escalation, *on))
            .unzip();
        Some(ProtectionCase {
            opening: self.opening.clone(),
            caseworker: self
                .assigned_on
                .filter(|on| *on <= day)
                .and(self.caseworker.clone()),
            assigned_on: self.assigned_on.filter(|on| *on <= day),
            emergency: by(&self.emergency),
            assessment: by(&self.assessment),
            plan: by(&self.plan),
            interventions: self
                .interventions
                .iter()
                .filter(|i| i.on <= day)
                .cloned()
                .collect(),
            escalated,
            escalated_on,
            closed: self.closed.clone().filter(|(on, _)| *on <= day),
        })
    }

    pub fn closed(&self) -> Option<&(Date, BoundedText)> {
        self.closed.as_ref()
    }

    /// The step reached last (`None` before opening); interventions are not on this line.
    pub fn step(&self) -> Option<Step> {
        self.opening.as_ref()?;
        Some(if self.closed.is_some() {
            Step::Closed
        } else if self.plan.is_some() {
            Step::PlanAgreed
        } else if self.assessment.is_some() {
            Step::Assessed
        } else if self.emergency.is_some() {
            Step::EmergencyHandled
        } else {
            Step::Reported
        })
    }

    /// The next step with a time limit and the day it is due, for an open case.
    pub fn due(&self, deadlines: &Deadlines) -> Option<(Step, Date)> {
        let opening = self.opening.as_ref()?;
        let (step, from, days) = match self.step()? {
            Step::Reported => (
                Step::EmergencyHandled,
                opening.reported_on,
                deadlines.emergency_days(opening.risk),
            ),
            Step::EmergencyHandled => (
                Step::Assessed,
                self.emergency.as_ref()?.on,
                deadlines.assessment_days,
            ),
            Step::Assessed => (
                Step::PlanAgreed,
                self.assessment.as_ref()?.on,
                deadlines.plan_days,
            ),
            Step::PlanAgreed | Step::Closed => return None,
        };
        Some((step, due_after(from, days)))
    }

    /// The step overdue on `day`: the step, its due day and by how many days.
    pub fn overdue_on(&self, deadlines: &Deadlines, day: Date) -> Option<(Step, Date, u32)> {
        let (step, due) = self.due(deadlines)?;
        (day > due).then(|| {
            (
                step,
                due,
                u32::try_from((day - due).whole_days()).unwrap_or(u32::MAX),
            )
        })
    }

    /// The latest day recorded on the case's line (report, assignment, steps, interventions).
    fn last_on(&self) -> Option<Date> {
        let opening = self.opening.as_ref()?;
        [&self.emergency, &self.assessment, &self.plan]
            .into_iter()
            .flatten()
            .map(|s| s.on)
            .chain(self.interventions.iter().map(|i| i.on))
            .chain(self.assigned_on)
            .chain([opening.reported_on])
            .max()
    }
}

/// The day a step is due `days` after `from` (the step before it, or the report).
pub fn due_after(from: Date, days: u16) -> Date {
    minzheng_types::add_days(from, i64::from(days)).unwrap_or(Date::MAX)
}

/// What can be asked of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Open(Open),
    AssignCaseworker {
        caseworker: BoundedText,
        on: Date,
    },
    RecordEmergencyHandling {
        measures: BoundedText,
        on: Date,
    },
    RecordAssessment {
        findings: BoundedText,
        needs: BoundedText,
        on: Date,
    },
    AgreePlan {
        measures: BoundedText,
        on: Date,
    },
    RecordGuardianshipIntervention {
        kind: InterventionKind,
        court_referral: Option<CourtReferral>,
        on: Date,
    },
    Close {
        reason: BoundedText,
        on: Date,
    },
    /// Sent by the service's overdue sweep with its settings.
    Escalate {
        step: Step,
        due_on: Date,
        county: RegionCode,
        on: Date,
        deadlines: Deadlines,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    /// The case's id (the stream's key), carried so the opening event names its case.
    pub case: CaseId,
    pub child: CitizenId,
    /// The child's township or village.
    pub division: RegionCode,
    pub risk: RiskLevel,
    pub source: Source,
    /// What was reported or alerted.
    pub concern: BoundedText,
    pub reported_on: Date,
}

/// What happened to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Carries the reporter only sealed (in `source`).
    Opened(Open),
    CaseworkerAssigned(Assignment),
    EmergencyHandled(EmergencyHandling),
    Assessed(Assessment),
    PlanAgreed(PlanAgreement),
    GuardianshipIntervened(Intervention),
    Escalated(Escalation),
    Closed(Closure),
}

/// A caseworker assigned (or reassigned) to the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub caseworker: BoundedText,
    pub on: Date,
}

/// Emergency handling (应急处置): the measures taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyHandling(pub StepRecord);

/// The assessment (评估): the findings, with the needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment(pub StepRecord);

/// The assistance plan (帮扶方案): the measures agreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanAgreement(pub StepRecord);

/// An overdue step escalated to the county.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub step: Step,
    pub due_on: Date,
    pub division: RegionCode,
    pub county: RegionCode,
    pub on: Date,
}

/// The case closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub reason: BoundedText,
    pub on: Date,
}

/// A rule that refused a command about a case. Messages carry no personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the case is already open")]
    AlreadyOpened,
    #[error("the case has not been opened")]
    NotOpened,
    #[error("the child is not a minor on the report day (or not yet born)")]
    NotAMinor,
    #[error("a case's division is a township or a village")]
    DivisionNotLocal,
    #[error("the case is closed")]
    CaseClosed,
    #[error("the case is not at the step before this one, or the step is already recorded")]
    StepOutOfOrder,
    #[error("no caseworker is assigned to the case")]
    NotAssigned,
    #[error("the date is before the case's latest recorded step")]
    BeforePreviousStep,
    #[error("a guardianship intervention comes after the assessment")]
    NotAssessed,
    #[error("an application to revoke guardianship names the court referral")]
    CourtReferralRequired,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::AlreadyOpened => "already_opened",
            Error::NotOpened => "not_opened",
            Error::NotAMinor => "not_a_minor",
            Error::DivisionNotLocal => "division_not_local",
            Error::CaseClosed => "case_closed",
            Error::StepOutOfOrder => "step_out_of_order",
            Error::NotAssigned => "not_assigned",
            Error::BeforePreviousStep => "before_previous_step",
            Error::NotAssessed => "not_assessed",
            Error::CourtReferralRequired => "court_referral_required",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            Error::NotOpened => RefusalKind::NotFound,
            _ => RefusalKind::FailedPrecondition,
        }
    }
}

/// Whether the person born on `birth` is under 18 on `day`.
fn minor_on(birth: Date, day: Date) -> bool {
    minzheng_types::age_on(birth, day) < ADULT_AGE
}

impl Aggregate for ProtectionCase {
    const CATEGORY: &'static str = "protection_case";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    /// Decides: the events the command causes, or the rule that refuses it.
    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        if let Command::Open(open) = command {
            return self.open(open);
        }
        let opening = self.opening.as_ref().ok_or(Error::NotOpened)?;
        if let Command::Escalate {
            step,
            due_on,
            county,
            on,
            deadlines,
        } = command
        {
            let overdue = self.overdue_on(deadlines, *on);
            let due = overdue.is_some_and(|(s, d, _)| s == *step && d == *due_on);
            if !due || self.escalated.contains(&(*step, *due_on)) {
                return Ok(vec![]);
            }
            return Ok(vec![Event::Escalated(Escalation {
                step: *step,
                due_on: *due_on,
                division: opening.division,
                county: *county,
                on: *on,
            })]);
        }
        if self.closed.is_some() {
            return Err(Error::CaseClosed);
        }
        let on = match command {
            Command::AssignCaseworker { on, .. }
            | Command::RecordEmergencyHandling { on, .. }
            | Command::RecordAssessment { on, .. }
            | Command::AgreePlan { on, .. }
            | Command::RecordGuardianshipIntervention { on, .. }
            | Command::Close { on, .. } => *on,
            Command::Open(_) | Command::Escalate { .. } => return Ok(vec![]),
        };
        let step = self.step().unwrap_or(Step::Reported);
        let required = match command {
            Command::RecordEmergencyHandling { .. } => Some(Step::Reported),
            Command::RecordAssessment { .. } => Some(Step::EmergencyHandled),
            Command::AgreePlan { .. } => Some(Step::Assessed),
            _ => None,
        };
        if required.is_some_and(|r| r != step) {
            return Err(Error::StepOutOfOrder);
        }
        if matches!(command, Command::RecordGuardianshipIntervention { .. })
            && step < Step::Assessed
        {
            return Err(Error::NotAssessed);
        }
        let by = || self.caseworker.clone().ok_or(Error::NotAssigned);
        let event = match command {
            Command::AssignCaseworker { caseworker, .. } => Event::CaseworkerAssigned(Assignment {
                caseworker: caseworker.clone(),
                on,
            }),
            Command::RecordEmergencyHandling { measures, .. } => {
                Event::EmergencyHandled(EmergencyHandling(StepRecord {
                    on,
                    caseworker: by()?,
                    text: measures.clone(),
                    needs: None,
                }))
            }
            Command::RecordAssessment {
                findings, needs, ..
            } => Event::Assessed(Assessment(StepRecord {
                on,
                caseworker: by()?,
                text: findings.clone(),
                needs: Some(needs.clone()),
            })),
            Command::AgreePlan { measures, .. } => Event::PlanAgreed(PlanAgreement(StepRecord {
                on,
                caseworker: by()?,
                text: measures.clone(),
                needs: None,
            })),
            Command::RecordGuardianshipIntervention {
                kind,
                court_referral,
                ..
            } => {
                let caseworker = by()?;
                if *kind == InterventionKind::CourtRevocation && court_referral.is_none() {
                    return Err(Error::CourtReferralRequired);
                }
                Event::GuardianshipIntervened(Intervention {
                    kind: *kind,
                    court_referral: court_referral.clone(),
                    on,
                    caseworker,
                })
            }
            Command::Close { reason, .. } => Event::Closed(Closure {
                reason: reason.clone(),
                on,
            }),
            Command::Open(_) | Command::Escalate { .. } => return Ok(vec![]),
        };
        if self.last_on().is_some_and(|last| on < last) {
            return Err(Error::BeforePreviousStep);
        }
        Ok(vec![event])
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Opened(e) => {
                self.opening = Some(Opening {
                    child: e.child.clone(),
                    division: e.division,
                    risk: e.risk,
                    source: e.source.clone(),
                    concern: e.concern.clone(),
                    reported_on: e.reported_on,
                });
            }
            Event::CaseworkerAssigned(a) => {
                self.caseworker = Some(a.caseworker.clone());
                self.assigned_on = Some(a.on);
            }
            Event::EmergencyHandled(EmergencyHandling(r)) => self.emergency = Some(r.clone()),
            Event::Assessed(Assessment(r)) => self.assessment = Some(r.clone()),
            Event::PlanAgreed(PlanAgreement(r)) => self.plan = Some(r.clone()),
            Event::GuardianshipIntervened(i) => self.interventions.push(i.clone()),
            Event::Escalated(e) => {
                self.escalated.push((e.step, e.due_on));
                self.escalated_on.push(e.on);
            }
            Event::Closed(c) => self.closed = Some((c.on, c.reason.clone())),
        }
        self
    }
}

impl ProtectionCase {
    fn open(&self, open: &Open) -> Result<Vec<Event>, Error> {
        if let Some(opening) = &self.opening {
            // An alert delivered again for the case it opened.
            return match (&opening.source, &open.source) {
                (Source::Alert { alert_id: a }, Source::Alert { alert_id: b }) if a == b => {
                    Ok(vec![])
                }
                _ => Err(Error::AlreadyOpened),
            };
        }
        if open.reported_on < open.child.birth_date()
            || !minor_on(open.child.birth_date(), open.reported_on)
        {
            return Err(Error::NotAMinor);
        }
        // A report names where the child is; an alert may know only the county.
        let local = matches!(
            open.division.level(),
            RegionLevel::Township | RegionLevel::Village
        );
        let alert_at_county = matches!(open.source, Source::Alert { .. })
            && open.division.level() == RegionLevel::County;
        if !local && !alert_at_county {
            return Err(Error::DivisionNotLocal);
        }
        Ok(vec![Event::Opened(open.clone())])
    }
}

#[cfg(test)]
mod tests {
    use time::{Duration, macros::date};

    use super::*;

    const NAME: &str = "王报告人";
    const PHONE: &str = "13900001111";

    fn text(s: &str) -> BoundedText {
        BoundedText::parse(s, TEXT_MAX_CHARS).expect("valid")
    }

    fn child() -> CitizenId {
        CitizenId::from_parts("210502", date!(2015 - 06 - 01), 11).expect("valid")
    }

    fn village() -> RegionCode {
        RegionCode::parse("210502001001").expect("valid")
    }

    fn county() -> RegionCode {
        RegionCode::parse("210502000000").expect("valid")
    }

    fn reporter() -> Reporter {
        Reporter {
            name: text(NAME),
            phone: Some(text(PHONE)),
            organisation: Some(text("本溪市某小学")),
            role: text("班主任"),
        }
    }

    /// Stands for the reporter as sealed (the sealing itself is tested in `crate::sealing`).
    fn sealed() -> SealedReporter {
        SealedReporter::from_bytes(format!("{NAME}{PHONE}班主任").into_bytes())
    }

    fn open_report(risk: RiskLevel, on: Date) -> Open {
        Open {
            case: CaseId::parse(&"c".repeat(32)).expect("valid"),
            child: child(),
            division: village(),
            risk,
            source: Source::MandatoryReport {
                reporter: sealed(),
                reporter_kind: ReporterKind::Education,
            },
            concern: text("身上多处伤痕"),
            reported_on: on,
        }
    }

    fn open_alert(on: Date) -> Open {
        Open {
            risk: RiskLevel::High,
            source: Source::Alert {
                alert_id: "alert-7".into(),
            },
            concern: text("监护人均已死亡"),
            ..open_report(RiskLevel::High, on)
        }
    }

    fn reported(risk: RiskLevel, on: Date) -> Event {
        Event::Opened(open_report(risk, on))
    }

    fn assigned(on: Date) -> Event {
        Event::CaseworkerAssigned(Assignment {
            caseworker: text("社工 李"),
            on,
        })
    }

    fn record(on: Date, needs: Option<&str>) -> StepRecord {
        StepRecord {
            on,
            caseworker: text("社工 李"),
            text: text("措施"),
            needs: needs.map(text),
        }
    }

    fn handled(on: Date) -> Event {
        Event::EmergencyHandled(EmergencyHandling(record(on, None)))
    }

    fn assessed(on: Date) -> Event {
        Event::Assessed(Assessment(record(on, Some("需求"))))
    }

    fn planned(on: Date) -> Event {
        Event::PlanAgreed(PlanAgreement(record(on, None)))
    }

    fn handle_cmd(on: Date) -> Command {
        Command::RecordEmergencyHandling {
            measures: text("措施"),
            on,
        }
    }

    fn assess_cmd(on: Date) -> Command {
        Command::RecordAssessment {
            findings: text("措施"),
            needs: text("需求"),
            on,
        }
    }

    fn plan_cmd(on: Date) -> Command {
        Command::AgreePlan {
            measures: text("措施"),
            on,
        }
    }

    fn escalate(step: Step, due_on: Date, on: Date) -> Command {
        Command::Escalate {
            step,
            due_on,
            county: county(),
            on,
            deadlines: Deadlines::default(),
        }
    }

    fn escalated(step: Step, due_on: Date, on: Date) -> Event {
        Event::Escalated(Escalation {
            step,
            due_on,
            division: village(),
            county: county(),
            on,
        })
    }

    /// The case the events produce.
    fn given(events: impl IntoIterator<Item = Event>) -> ProtectionCase {
        events
            .into_iter()
            .fold(ProtectionCase::default(), |case, e| case.apply(&e))
    }

    /// Asserts `command` produces exactly `expected`; returns the state after them.
    #[track_caller]
    fn then(case: ProtectionCase, command: Command, expected: Vec<Event>) -> ProtectionCase {
        match case.handle(&command) {
            Ok(events) => {
                assert_eq!(events, expected, "the command produced other events");
                events.iter().fold(case, |case, e| case.apply(e))
            }
            Err(e) => panic!("expected {expected:?}, refused by {:?}", e.rule()),
        }
    }

    #[track_caller]
    fn refused(case: &ProtectionCase, command: Command, rule: &str) {
        match case.handle(&command) {
            Ok(events) => panic!("expected refusal {rule:?}, got {events:?}"),
            Err(e) => assert_eq!(e.rule(), rule, "refused by another rule ({e})"),
        }
    }

    const D0: Date = date!(2026 - 03 - 02);

    fn at(days: i64) -> Date {
        D0 + Duration::days(days)
    }

    #[test]
    fn a_report_opens_a_case_once() {
        let case = then(
            given([]),
            Command::Open(open_report(RiskLevel::High, D0)),
            vec![reported(RiskLevel::High, D0)],
        );
        assert_eq!(case.step(), Some(Step::Reported));
        assert_eq!(
            case.source_kind(),
            Some(SourceKind::Report(ReporterKind::Education))
        );
        refused(
            &case,
            Command::Open(open_report(RiskLevel::High, D0)),
            "already_opened",
        );
        refused(&case, Command::Open(open_alert(D0)), "already_opened");
    }

    #[test]
    fn an_alert_opens_a_case_and_its_redelivery_records_nothing() {
        let case = then(
            given([]),
            Command::Open(open_alert(D0)),
            vec![Event::Opened(open_alert(D0))],
        );
        assert_eq!(
            case.source_kind(),
            Some(SourceKind::Alert("alert-7".into()))
        );
        assert_eq!(case.reporter_for_need_to_know(), None);
        let case = then(case, Command::Open(open_alert(at(1))), vec![]);
        refused(
            &case,
            Command::Open(open_report(RiskLevel::Urgent, D0)),
            "already_opened",
        );
        let other = Open {
            source: Source::Alert {
                alert_id: "alert-8".into(),
            },
            ..open_alert(D0)
        };
        refused(&case, Command::Open(other), "already_opened");
        // High risk: emergency handling due the next day.
        assert_eq!(
            case.due(&Deadlines::default()),
            Some((Step::EmergencyHandled, at(1)))
        );
    }

    #[test]
    fn a_case_is_for_a_minor_in_a_township_or_village() {
        let adult = Open {
            child: CitizenId::from_parts("210502", date!(2008 - 03 - 01), 11).expect("valid"),
            ..open_report(RiskLevel::Normal, D0)
        };
        refused(&given([]), Command::Open(adult), "not_a_minor");
        let almost = Open {
            child: CitizenId::from_parts("210502", date!(2008 - 03 - 03), 11).expect("valid"),
            ..open_report(RiskLevel::Normal, D0)
        };
        then(
            given([]),
            Command::Open(almost.clone()),
            vec![Event::Opened(almost)],
        );
        let at_county = Open {
            division: county(),
            ..open_report(RiskLevel::Normal, D0)
        };
        refused(&given([]), Command::Open(at_county), "division_not_local");
        let alert_at_county = Open {
            division: county(),
            ..open_alert(D0)
        };
        then(
            given([]),
            Command::Open(alert_at_county.clone()),
            vec![Event::Opened(alert_at_county)],
        );
        let before_birth = Open {
            reported_on: date!(2015 - 05 - 31),
            ..open_report(RiskLevel::Normal, D0)
        };
        refused(&given([]), Command::Open(before_birth), "not_a_minor");
    }

    #[test]
    fn nothing_happens_to_a_case_not_opened() {
        refused(&given([]), handle_cmd(D0), "not_opened");
        refused(
            &given([]),
            escalate(Step::EmergencyHandled, D0, at(1)),
            "not_opened",
        );
        assert_eq!(Error::NotOpened.kind(), RefusalKind::NotFound);
    }

    #[test]
    fn emergency_handling_is_due_by_risk_level() {
        let deadlines = Deadlines::default();
        for (risk, days) in [
            (RiskLevel::Urgent, 0),
            (RiskLevel::High, 1),
            (RiskLevel::Normal, 3),
        ] {
            let case = given([reported(risk, D0)]);
            let due = at(days);
            assert_eq!(case.due(&deadlines), Some((Step::EmergencyHandled, due)));
            assert_eq!(case.overdue_on(&deadlines, due), None);
            assert_eq!(
                case.overdue_on(&deadlines, due + Duration::days(2)),
                Some((Step::EmergencyHandled, due, 2))
            );
        }
        let stricter = Deadlines {
            emergency_normal_days: 1,
            ..deadlines
        };
        assert_eq!(
            given([reported(RiskLevel::Normal, D0)]).due(&stricter),
            Some((Step::EmergencyHandled, at(1)))
        );
    }

    /// Read as of a past day, a case shows only what had happened by then: overdue on 5 July
    /// although handled on 10 July, escalated on 6 July only from that day.
    #[test]
    fn a_case_read_as_of_a_past_day_shows_what_had_happened_by_then() {
        let deadlines = Deadlines::default();
        let due = D0 + Duration::days(3);
        let case = given([
            reported(RiskLevel::Normal, D0),
            assigned(D0),
            escalated(Step::EmergencyHandled, due, at(5)),
            handled(at(9)),
        ]);
        assert_eq!(case.overdue_on(&deadlines, at(4)), None, "handled since");
        let then = case.as_of(at(4)).expect("reported by then");
        assert_eq!(
            then.overdue_on(&deadlines, at(4)),
            Some((Step::EmergencyHandled, due, 1))
        );
        assert!(then.escalated().is_empty(), "escalated the day after");
        let next = case.as_of(at(5)).expect("reported by then");
        assert_eq!(next.escalated(), &[(Step::EmergencyHandled, due)]);
        assert_eq!(case.as_of(D0 - Duration::days(1)), None);
    }

    #[test]
    fn an_overdue_emergency_handling_is_escalated_once() {
        let case = given([reported(RiskLevel::Urgent, D0)]);
        // Not overdue on its due day.
        let case = then(case, escalate(Step::EmergencyHandled, D0, D0), vec![]);
        // Another step or due day than the overdue one.
        let case = then(case, escalate(Step::Assessed, D0, at(1)), vec![]);
        let case = then(
            case,
            escalate(Step::EmergencyHandled, at(-1), at(1)),
            vec![],
        );
        let case = then(
            case,
            escalate(Step::EmergencyHandled, D0, at(1)),
            vec![escalated(Step::EmergencyHandled, D0, at(1))],
        );
        let case = then(case, escalate(Step::EmergencyHandled, D0, at(2)), vec![]);
        assert_eq!(case.escalated(), &[(Step::EmergencyHandled, D0)]);
        // Escalation does not stop the step being recorded late.
        let case = then(
            case,
            Command::AssignCaseworker {
                caseworker: text("社工 李"),
                on: at(2),
            },
            vec![assigned(at(2))],
        );
        then(case, handle_cmd(at(2)), vec![handled(at(2))]);
    }

    #[test]
    fn an_overdue_assessment_is_escalated_once() {
        let case = given([
            reported(RiskLevel::Normal, D0),
            assigned(D0),
            handled(at(1)),
        ]);
        let deadlines = Deadlines::default();
        let due = at(8);
        assert_eq!(case.due(&deadlines), Some((Step::Assessed, due)));
        assert_eq!(
            case.overdue_on(&deadlines, at(10)),
            Some((Step::Assessed, due, 2))
        );
        let case = then(case, escalate(Step::Assessed, due, due), vec![]);
        let case = then(
            case,
            escalate(Step::Assessed, due, at(9)),
            vec![escalated(Step::Assessed, due, at(9))],
        );
        let case = then(case, escalate(Step::Assessed, due, at(12)), vec![]);
        then(case, assess_cmd(at(12)), vec![assessed(at(12))]);
    }

    #[test]
    fn an_overdue_plan_is_escalated_once_and_nothing_is_due_after_it() {
        let case = given([
            reported(RiskLevel::Normal, D0),
            assigned(D0),
            handled(at(1)),
            assessed(at(5)),
        ]);
        let deadlines = Deadlines::default();
        let due = at(20);
        assert_eq!(case.due(&deadlines), Some((Step::PlanAgreed, due)));
        let case = then(case, escalate(Step::PlanAgreed, due, due), vec![]);
        let case = then(
            case,
            escalate(Step::PlanAgreed, due, at(21)),
            vec![escalated(Step::PlanAgreed, due, at(21))],
        );
        let case = then(case, escalate(Step::PlanAgreed, due, at(22)), vec![]);
        let case = then(case, plan_cmd(at(22)), vec![planned(at(22))]);
        assert_eq!(case.step(), Some(Step::PlanAgreed));
        assert_eq!(case.due(&deadlines), None);
        assert_eq!(case.overdue_on(&deadlines, at(400)), None);
    }

    #[test]
    fn steps_follow_in_order_once_each() {
        let reported_only = given([reported(RiskLevel::High, D0), assigned(D0)]);
        refused(&reported_only, assess_cmd(D0), "step_out_of_order");
        refused(&reported_only, plan_cmd(D0), "step_out_of_order");
        let handled_case = given([reported(RiskLevel::High, D0), assigned(D0), handled(at(1))]);
        refused(&handled_case, handle_cmd(at(1)), "step_out_of_order");
        refused(&handled_case, plan_cmd(at(1)), "step_out_of_order");
        let case = then(handled_case, assess_cmd(at(2)), vec![assessed(at(2))]);
        refused(&case, assess_cmd(at(2)), "step_out_of_order");
        let case = then(case, plan_cmd(at(3)), vec![planned(at(3))]);
        refused(&case, plan_cmd(at(3)), "step_out_of_order");
    }

    #[test]
    fn steps_need_a_caseworker() {
        let case = given([reported(RiskLevel::Urgent, D0)]);
        refused(&case, handle_cmd(D0), "not_assigned");
        let case = then(
            case,
            Command::AssignCaseworker {
                caseworker: text("社工 李"),
                on: D0,
            },
            vec![assigned(D0)],
        );
        let case = then(case, handle_cmd(D0), vec![handled(D0)]);
        assert_eq!(
            case.emergency_handling().map(|s| s.caseworker.as_str()),
            Some("社工 李")
        );
    }

    #[test]
    fn no_step_is_dated_before_the_previous_one() {
        let case = given([
            reported(RiskLevel::Normal, at(1)),
            assigned(at(1)),
            handled(at(3)),
        ]);
        refused(&case, assess_cmd(at(2)), "before_previous_step");
        refused(
            &case,
            Command::AssignCaseworker {
                caseworker: text("社工 王"),
                on: at(2),
            },
            "before_previous_step",
        );
        refused(
            &case,
            Command::Close {
                reason: text("误报"),
                on: at(2),
            },
            "before_previous_step",
        );
        then(case, assess_cmd(at(3)), vec![assessed(at(3))]);
        refused(
            &given([reported(RiskLevel::Normal, at(1))]),
            Command::AssignCaseworker {
                caseworker: text("社工 李"),
                on: D0,
            },
            "before_previous_step",
        );
    }

    #[test]
    fn a_guardianship_intervention_comes_after_the_assessment() {
        let intervene = |kind, court_referral: Option<CourtReferral>, on| {
            Command::RecordGuardianshipIntervention {
                kind,
                court_referral,
                on,
            }
        };
        let handled_case = given([reported(RiskLevel::Urgent, D0), assigned(D0), handled(D0)]);
        refused(
            &handled_case,
            intervene(InterventionKind::TemporaryGuardianship, None, at(1)),
            "not_assessed",
        );
        let case = handled_case.apply(&assessed(at(2)));
        let case = then(
            case,
            intervene(InterventionKind::TemporaryGuardianship, None, at(2)),
            vec![Event::GuardianshipIntervened(Intervention {
                kind: InterventionKind::TemporaryGuardianship,
                court_referral: None,
                on: at(2),
                caseworker: text("社工 李"),
            })],
        );
        // The plan still follows the assessment.
        let case = then(case, plan_cmd(at(3)), vec![planned(at(3))]);
        refused(
            &case,
            intervene(InterventionKind::CourtRevocation, None, at(4)),
            "court_referral_required",
        );
        let referral = CourtReferral {
            reference: text("(2026)辽0502民特1号"),
            court: text("本溪市平山区人民法院"),
        };
        let case = then(
            case,
            intervene(
                InterventionKind::CourtRevocation,
                Some(referral.clone()),
                at(4),
            ),
            vec![Event::GuardianshipIntervened(Intervention {
                kind: InterventionKind::CourtRevocation,
                court_referral: Some(referral),
                on: at(4),
                caseworker: text("社工 李"),
            })],
        );
        assert_eq!(case.interventions().len(), 2);
        assert_eq!(case.step(), Some(Step::PlanAgreed));
    }

    #[test]
    fn a_case_closes_from_any_open_step_and_then_takes_nothing() {
        let close = |on| Command::Close {
            reason: text("转介其他部门"),
            on,
        };
        let closed = |on| {
            Event::Closed(Closure {
                reason: text("转介其他部门"),
                on,
            })
        };
        then(
            given([reported(RiskLevel::Normal, D0)]),
            close(D0),
            vec![closed(D0)],
        );
        let case = then(
            given([
                reported(RiskLevel::Normal, D0),
                assigned(D0),
                handled(at(1)),
            ]),
            close(at(30)),
            vec![closed(at(30))],
        );
        assert_eq!(case.step(), Some(Step::Closed));
        assert_eq!(case.due(&Deadlines::default()), None);
        refused(&case, assess_cmd(at(31)), "case_closed");
        refused(&case, close(at(31)), "case_closed");
        refused(
            &case,
            Command::Open(open_report(RiskLevel::Normal, at(31))),
            "already_opened",
        );
        then(case, escalate(Step::Assessed, at(8), at(31)), vec![]);
    }

    #[test]
    fn the_reporter_is_never_printed() {
        let case = given([reported(RiskLevel::Urgent, D0), assigned(D0)]);
        let printed = [
            format!("{:?}", reporter()),
            format!("{case:?}"),
            format!("{:?}", reported(RiskLevel::Urgent, D0)),
            format!("{:?}", Command::Open(open_report(RiskLevel::Urgent, D0))),
        ];
        for text in printed {
            assert!(!text.contains(NAME), "{text}");
            assert!(!text.contains(PHONE), "{text}");
            assert!(!text.contains("班主任"), "{text}");
        }
        assert_eq!(format!("{:?}", reporter()), "Reporter(<confidential>)");
        // Kept in the state, for the need-to-know read only.
        assert_eq!(case.reporter_for_need_to_know(), Some(&sealed()));
    }
}
