//! The codec of a protection case's events ([`protection::Event`]). The reporter travels only
//! sealed (`sealed_reporter`); this codec never sees them in clear.

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::{Decoder, STORED_TEXT_MAX_CHARS},
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::childwelfare::v1 as pb;
use minzheng_types::BoundedText;
use prost::Message as _;

use super::{SCHEMA_VERSION, known};
use crate::{
    ids::CaseId,
    protection::{
        self, Assessment, Assignment, Closure, CourtReferral, EmergencyHandling, Escalation,
        Intervention, InterventionKind, Open, PlanAgreement, Reporter, ReporterKind, RiskLevel,
        SealedReporter, Source, Step, StepRecord,
    },
};

minzheng_host::event_codec! {
    protection::Event, schema_version = SCHEMA_VERSION;
    Opened(Open) <=> pb::ProtectionCaseOpened,
    CaseworkerAssigned(Assignment) <=> pb::ProtectionCaseworkerAssigned,
    EmergencyHandled(EmergencyHandling) <=> pb::ProtectionEmergencyHandled,
    Assessed(Assessment) <=> pb::ProtectionCaseAssessed,
    PlanAgreed(PlanAgreement) <=> pb::ProtectionPlanAgreed,
    GuardianshipIntervened(Intervention) <=> pb::ProtectionGuardianshipIntervened,
    Escalated(Escalation) <=> pb::ProtectionStepEscalated,
    Closed(Closure) <=> pb::ProtectionCaseClosed,
}

pub(crate) fn risk_to_pb(risk: RiskLevel) -> pb::RiskLevel {
    match risk {
        RiskLevel::Urgent => pb::RiskLevel::Urgent,
        RiskLevel::High => pb::RiskLevel::High,
        RiskLevel::Normal => pb::RiskLevel::Normal,
    }
}

pub(crate) fn risk_from_pb(value: i32) -> Option<RiskLevel> {
    match pb::RiskLevel::try_from(value).ok()? {
        pb::RiskLevel::Urgent => Some(RiskLevel::Urgent),
        pb::RiskLevel::High => Some(RiskLevel::High),
        pb::RiskLevel::Normal => Some(RiskLevel::Normal),
        pb::RiskLevel::Unspecified => None,
    }
}

pub(crate) fn step_to_pb(step: Step) -> pb::ProtectionStep {
    match step {
        Step::Reported => pb::ProtectionStep::Reported,
        Step::EmergencyHandled => pb::ProtectionStep::EmergencyHandled,
        Step::Assessed => pb::ProtectionStep::Assessed,
        Step::PlanAgreed => pb::ProtectionStep::PlanAgreed,
        Step::Closed => pb::ProtectionStep::Closed,
    }
}

pub(crate) fn step_from_pb(value: i32) -> Option<Step> {
    match pb::ProtectionStep::try_from(value).ok()? {
        pb::ProtectionStep::Reported => Some(Step::Reported),
        pb::ProtectionStep::EmergencyHandled => Some(Step::EmergencyHandled),
        pb::ProtectionStep::Assessed => Some(Step::Assessed),
        pb::ProtectionStep::PlanAgreed => Some(Step::PlanAgreed),
        pb::ProtectionStep::Closed => Some(Step::Closed),
        pb::ProtectionStep::Unspecified => None,
    }
}

const REPORTER_KINDS: [(ReporterKind, pb::ReporterKind); 8] = [
    (
        ReporterKind::ResidentsCommittee,
        pb::ReporterKind::ResidentsCommittee,
    ),
    (ReporterKind::Education, pb::ReporterKind::Education),
    (ReporterKind::Medical, pb::ReporterKind::Medical),
    (ReporterKind::Accommodation, pb::ReporterKind::Accommodation),
    (
        ReporterKind::SocialServices,
        pb::ReporterKind::SocialServices,
    ),
    (ReporterKind::StateOrgan, pb::ReporterKind::StateOrgan),
    (
        ReporterKind::OtherMandatory,
        pb::ReporterKind::OtherMandatory,
    ),
    (ReporterKind::Public, pb::ReporterKind::Public),
];

pub(crate) fn reporter_kind_to_pb(kind: ReporterKind) -> pb::ReporterKind {
    REPORTER_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(pb::ReporterKind::Unspecified, |(_, p)| *p)
}

pub(crate) fn reporter_kind_from_pb(value: i32) -> Option<ReporterKind> {
    let value = pb::ReporterKind::try_from(value).ok()?;
    REPORTER_KINDS
        .iter()
        .find(|(_, p)| *p == value)
        .map(|(k, _)| *k)
}

const INTERVENTIONS: [(InterventionKind, pb::InterventionKind); 4] = [
    (
        InterventionKind::TemporaryGuardianship,
        pb::InterventionKind::TemporaryGuardianship,
    ),
    (
        InterventionKind::LongTermGuardianship,
        pb::InterventionKind::LongTermGuardianship,
    ),
    (
        InterventionKind::CourtRevocation,
        pb::InterventionKind::CourtRevocation,
    ),
    (InterventionKind::Other, pb::InterventionKind::Other),
];

pub(crate) fn intervention_to_pb(kind: InterventionKind) -> pb::InterventionKind {
    INTERVENTIONS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(pb::InterventionKind::Unspecified, |(_, p)| *p)
}

pub(crate) fn intervention_from_pb(value: i32) -> Option<InterventionKind> {
    let value = pb::InterventionKind::try_from(value).ok()?;
    INTERVENTIONS
        .iter()
        .find(|(_, p)| *p == value)
        .map(|(k, _)| *k)
}

impl ToMessage for Open {
    type Message = pb::ProtectionCaseOpened;

    fn to_message(&self) -> pb::ProtectionCaseOpened {
        let source = match &self.source {
            Source::MandatoryReport {
                reporter,
                reporter_kind,
            } => pb::protection_case_opened::Source::Report(pb::MandatoryReportSource {
                reporter_kind: reporter_kind_to_pb(*reporter_kind).into(),
                sealed_reporter: reporter.as_bytes().to_vec(),
            }),
            Source::Alert { alert_id } => {
                pb::protection_case_opened::Source::Alert(pb::AlertSource {
                    alert_id: alert_id.clone(),
                })
            }
        };
        pb::ProtectionCaseOpened {
            case_id: self.case.as_str().to_owned(),
            child: Some((&self.child).into()),
            division: Some(self.division.into()),
            risk: risk_to_pb(self.risk).into(),
            source: Some(source),
            concern: self.concern.as_str().to_owned(),
            reported_on: Some(self.reported_on.into()),
        }
    }
}

impl FromMessage<pb::ProtectionCaseOpened> for Open {
    fn from_message(m: pb::ProtectionCaseOpened, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let source = match m.source {
            Some(pb::protection_case_opened::Source::Report(report)) => Source::MandatoryReport {
                reporter: SealedReporter::from_bytes(report.sealed_reporter),
                reporter_kind: known(
                    d,
                    "report.reporter_kind",
                    reporter_kind_from_pb(report.reporter_kind),
                )?,
            },
            Some(pb::protection_case_opened::Source::Alert(alert)) => {
                if alert.alert_id.is_empty() {
                    return Err(d.invalid("alert.alert_id is empty"));
                }
                Source::Alert {
                    alert_id: alert.alert_id,
                }
            }
            None => return Err(d.invalid("source is missing")),
        };
        Ok(Self {
            case: d.parse("case_id", CaseId::parse(&m.case_id))?,
            child: d.citizen("child", &m.child)?,
            division: d.code("division", &m.division)?,
            risk: known(d, "risk", risk_from_pb(m.risk))?,
            source,
            concern: d.text("concern", &m.concern)?,
            reported_on: d.date("reported_on", &m.reported_on)?,
        })
    }
}

impl ToMessage for Assignment {
    type Message = pb::ProtectionCaseworkerAssigned;

    fn to_message(&self) -> pb::ProtectionCaseworkerAssigned {
        pb::ProtectionCaseworkerAssigned {
            caseworker: self.caseworker.as_str().to_owned(),
            assigned_on: Some(self.on.into()),
        }
    }
}

impl FromMessage<pb::ProtectionCaseworkerAssigned> for Assignment {
    fn from_message(
        m: pb::ProtectionCaseworkerAssigned,
        d: &Decoder<'_>,
    ) -> Result<Self, CodecError> {
        Ok(Self {
            caseworker: d.text("caseworker", &m.caseworker)?,
            on: d.date("assigned_on", &m.assigned_on)?,
        })
    }
}

impl ToMessage for EmergencyHandling {
    type Message = pb::ProtectionEmergencyHandled;

    fn to_message(&self) -> pb::ProtectionEmergencyHandled {
        let r = &self.0;
        pb::ProtectionEmergencyHandled {
            handled_on: Some(r.on.into()),
            caseworker: r.caseworker.as_str().to_owned(),
            measures: r.text.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::ProtectionEmergencyHandled> for EmergencyHandling {
    fn from_message(
        m: pb::ProtectionEmergencyHandled,
        d: &Decoder<'_>,
    ) -> Result<Self, CodecError> {
        Ok(Self(StepRecord {
            on: d.date("handled_on", &m.handled_on)?,
            caseworker: d.text("caseworker", &m.caseworker)?,
            text: d.text("measures", &m.measures)?,
            needs: None,
        }))
    }
}

impl ToMessage for Assessment {
    type Message = pb::ProtectionCaseAssessed;

    fn to_message(&self) -> pb::ProtectionCaseAssessed {
        let r = &self.0;
        pb::ProtectionCaseAssessed {
            assessed_on: Some(r.on.into()),
            caseworker: r.caseworker.as_str().to_owned(),
            findings: r.text.as_str().to_owned(),
            needs: minzheng_host::decode::optional_text(r.needs.as_ref()),
        }
    }
}

impl FromMessage<pb::ProtectionCaseAssessed> for Assessment {
    fn from_message(m: pb::ProtectionCaseAssessed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self(StepRecord {
            on: d.date("assessed_on", &m.assessed_on)?,
            caseworker: d.text("caseworker", &m.caseworker)?,
            text: d.text("findings", &m.findings)?,
            needs: d.optional_text("needs", &m.needs)?,
        }))
    }
}

impl ToMessage for PlanAgreement {
    type Message = pb::ProtectionPlanAgreed;

    fn to_message(&self) -> pb::ProtectionPlanAgreed {
        let r = &self.0;
        pb::ProtectionPlanAgreed {
            agreed_on: Some(r.on.into()),
            caseworker: r.caseworker.as_str().to_owned(),
            measures: r.text.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::ProtectionPlanAgreed> for PlanAgreement {
    fn from_message(m: pb::ProtectionPlanAgreed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self(StepRecord {
            on: d.date("agreed_on", &m.agreed_on)?,
            caseworker: d.text("caseworker", &m.caseworker)?,
            text: d.text("measures", &m.measures)?,
            needs: None,
        }))
    }
}

impl ToMessage for Intervention {
    type Message = pb::ProtectionGuardianshipIntervened;

    fn to_message(&self) -> pb::ProtectionGuardianshipIntervened {
        pb::ProtectionGuardianshipIntervened {
            kind: intervention_to_pb(self.kind).into(),
            court_referral: self.court_referral.as_ref().map(|c| pb::CourtReferral {
                reference: c.reference.as_str().to_owned(),
                court: c.court.as_str().to_owned(),
            }),
            intervened_on: Some(self.on.into()),
            caseworker: self.caseworker.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::ProtectionGuardianshipIntervened> for Intervention {
    fn from_message(
        m: pb::ProtectionGuardianshipIntervened,
        d: &Decoder<'_>,
    ) -> Result<Self, CodecError> {
        let court_referral = match m.court_referral {
            Some(c) => Some(CourtReferral {
                reference: d.text("court_referral.reference", &c.reference)?,
                court: d.text("court_referral.court", &c.court)?,
            }),
            None => None,
        };
        Ok(Self {
            kind: known(d, "kind", intervention_from_pb(m.kind))?,
            court_referral,
            on: d.date("intervened_on", &m.intervened_on)?,
            caseworker: d.text("caseworker", &m.caseworker)?,
        })
    }
}

impl ToMessage for Escalation {
    type Message = pb::ProtectionStepEscalated;

    fn to_message(&self) -> pb::ProtectionStepEscalated {
        pb::ProtectionStepEscalated {
            step: step_to_pb(self.step).into(),
            due_on: Some(self.due_on.into()),
            division: Some(self.division.into()),
            county: Some(self.county.into()),
            escalated_on: Some(self.on.into()),
        }
    }
}

impl FromMessage<pb::ProtectionStepEscalated> for Escalation {
    fn from_message(m: pb::ProtectionStepEscalated, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            step: known(d, "step", step_from_pb(m.step))?,
            due_on: d.date("due_on", &m.due_on)?,
            division: d.code("division", &m.division)?,
            county: d.code("county", &m.county)?,
            on: d.date("escalated_on", &m.escalated_on)?,
        })
    }
}

impl ToMessage for Closure {
    type Message = pb::ProtectionCaseClosed;

    fn to_message(&self) -> pb::ProtectionCaseClosed {
        pb::ProtectionCaseClosed {
            reason: self.reason.as_str().to_owned(),
            closed_on: Some(self.on.into()),
        }
    }
}

impl FromMessage<pb::ProtectionCaseClosed> for Closure {
    fn from_message(m: pb::ProtectionCaseClosed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            reason: d.text("reason", &m.reason)?,
            on: d.date("closed_on", &m.closed_on)?,
        })
    }
}

/// A reporter's identity as `minzheng.childwelfare.v1.ReporterIdentity` bytes: what
/// [`crate::sealing`] seals.
pub(crate) fn reporter_to_bytes(reporter: &Reporter) -> Vec<u8> {
    let text = |t: &Option<BoundedText>| t.as_ref().map(|t| t.as_str().to_owned());
    pb::ReporterIdentity {
        name: reporter.name.as_str().to_owned(),
        phone: text(&reporter.phone).unwrap_or_default(),
        organisation: text(&reporter.organisation).unwrap_or_default(),
        role: reporter.role.as_str().to_owned(),
    }
    .encode_to_vec()
}

/// The identity in `bytes`, `None` when they are not a well-formed one.
pub(crate) fn reporter_from_bytes(bytes: &[u8]) -> Option<Reporter> {
    let m = pb::ReporterIdentity::decode(bytes).ok()?;
    // Stored history: the generous stored-text limit, not today's request limit.
    let text = |s: &str| BoundedText::parse(s, STORED_TEXT_MAX_CHARS).ok();
    let optional = |s: &str| {
        if s.is_empty() {
            Some(None)
        } else {
            text(s).map(Some)
        }
    };
    Some(Reporter {
        name: text(&m.name)?,
        phone: optional(&m.phone)?,
        organisation: optional(&m.organisation)?,
        role: text(&m.role)?,
    })
}
