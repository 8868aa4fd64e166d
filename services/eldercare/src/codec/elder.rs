//! The codec of an elderly person's events ([`elder::Event`]). An assessment's scores are
//! stored as recorded; the level and total are read back as decided then, not derived again.

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::{Decoder, optional_text},
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::eldercare::v1 as pb;

use super::{
    SCHEMA_VERSION, elder_id, institution::bed_type_from_pb, institution::bed_type_to_pb,
    institution::discharge_reason_from_pb, institution::discharge_reason_to_pb, institution_id,
    known,
};
use crate::{
    assessment::{Adjustments, Level, Scores},
    elder::{self, Assessed, Difficulty, LowIncome, NoteDeath, Visit},
};

minzheng_host::event_codec! {
    elder::Event, schema_version = SCHEMA_VERSION;
    AssessmentRecorded(Box<elder::AssessmentRecorded>) <=> pb::AssessmentRecorded,
    PlacementStarted(elder::PlacementStarted) <=> pb::PlacementStarted,
    PlacementEnded(elder::PlacementEnded) <=> pb::PlacementEnded,
    LowIncomeStatusChanged(LowIncome) <=> pb::LowIncomeStatusChanged,
    DeathNoted(NoteDeath) <=> pb::DeathNoted,
    VisitPlanOpened(elder::VisitPlanOpened) <=> pb::VisitPlanOpened,
    VisitRecorded(elder::VisitRecorded) <=> pb::VisitRecorded,
    VisitEscalated(elder::VisitEscalated) <=> pb::VisitEscalated,
    VisitPlanClosed(elder::VisitPlanClosed) <=> pb::VisitPlanClosed,
}

pub(crate) fn level_to_pb(level: Level) -> pb::CapacityLevel {
    match level {
        Level::Intact => pb::CapacityLevel::Intact,
        Level::Mild => pb::CapacityLevel::Mild,
        Level::Moderate => pb::CapacityLevel::Moderate,
        Level::Severe => pb::CapacityLevel::Severe,
        Level::Complete => pb::CapacityLevel::Complete,
    }
}

pub(crate) fn level_from_pb(value: i32) -> Option<Level> {
    match pb::CapacityLevel::try_from(value).ok()? {
        pb::CapacityLevel::Intact => Some(Level::Intact),
        pb::CapacityLevel::Mild => Some(Level::Mild),
        pb::CapacityLevel::Moderate => Some(Level::Moderate),
        pb::CapacityLevel::Severe => Some(Level::Severe),
        pb::CapacityLevel::Complete => Some(Level::Complete),
        pb::CapacityLevel::Unspecified => None,
    }
}

pub(crate) fn difficulty_to_pb(d: Difficulty) -> pb::DifficultyKind {
    match d {
        Difficulty::LivingAlone => pb::DifficultyKind::LivingAlone,
        Difficulty::LeftBehind => pb::DifficultyKind::LeftBehind,
        Difficulty::Disabled => pb::DifficultyKind::Disabled,
        Difficulty::BereavedOfOnlyChild => pb::DifficultyKind::BereavedOfOnlyChild,
    }
}

pub(crate) fn difficulty_from_pb(value: i32) -> Option<Difficulty> {
    match pb::DifficultyKind::try_from(value).ok()? {
        pb::DifficultyKind::LivingAlone => Some(Difficulty::LivingAlone),
        pb::DifficultyKind::LeftBehind => Some(Difficulty::LeftBehind),
        pb::DifficultyKind::Disabled => Some(Difficulty::Disabled),
        pb::DifficultyKind::BereavedOfOnlyChild => Some(Difficulty::BereavedOfOnlyChild),
        pb::DifficultyKind::Unspecified => None,
    }
}

pub(crate) fn scores_to_pb(s: &Scores) -> pb::AssessmentScores {
    let widen = |items: &[u8]| items.iter().map(|&i| u32::from(i)).collect();
    pb::AssessmentScores {
        self_care: widen(&s.self_care),
        basic_motor: widen(&s.basic_motor),
        mental_state: widen(&s.mental_state),
        perception: widen(&s.perception),
    }
}

/// The scores as given (a request's or a stored event's); `None` naming the first item above
/// 255, which no table has.
pub(crate) fn scores_from_pb(s: &pb::AssessmentScores) -> Result<Scores, String> {
    let narrow = |group: &str, items: &[u32]| -> Result<Vec<u8>, String> {
        items
            .iter()
            .enumerate()
            .map(|(i, &v)| u8::try_from(v).map_err(|_| format!("scores.{group}[{i}]")))
            .collect()
    };
    Ok(Scores {
        self_care: narrow("self_care", &s.self_care)?,
        basic_motor: narrow("basic_motor", &s.basic_motor)?,
        mental_state: narrow("mental_state", &s.mental_state)?,
        perception: narrow("perception", &s.perception)?,
    })
}

pub(crate) fn adjustments_to_pb(a: &Adjustments) -> pb::AssessmentAdjustments {
    pb::AssessmentAdjustments {
        dementia_diagnosed: a.dementia_diagnosed,
        psychiatric_illness_diagnosed: a.psychiatric_illness_diagnosed,
        repeated_care_risk_events: a.repeated_care_risk_events,
        comatose: a.comatose,
    }
}

pub(crate) fn adjustments_from_pb(a: Option<&pb::AssessmentAdjustments>) -> Adjustments {
    a.map(|a| Adjustments {
        dementia_diagnosed: a.dementia_diagnosed,
        psychiatric_illness_diagnosed: a.psychiatric_illness_diagnosed,
        repeated_care_risk_events: a.repeated_care_risk_events,
        comatose: a.comatose,
    })
    .unwrap_or_default()
}

impl ToMessage for Box<elder::AssessmentRecorded> {
    type Message = pb::AssessmentRecorded;

    fn to_message(&self) -> pb::AssessmentRecorded {
        let a = &self.assessed;
        pb::AssessmentRecorded {
            elder_id: self.elder.to_string(),
            person: Some((&self.citizen).into()),
            scores: Some(scores_to_pb(&a.scores)),
            adjustments: Some(adjustments_to_pb(&a.adjustments)),
            level: level_to_pb(a.level).into(),
            total_score: u32::from(a.total),
            assessor: a.assessor.as_str().to_owned(),
            assessed_on: Some(a.on.into()),
            reassessment_due_on: Some(a.reassessment_due_on.into()),
            division: Some(a.division.into()),
        }
    }
}

impl FromMessage<pb::AssessmentRecorded> for Box<elder::AssessmentRecorded> {
    fn from_message(m: pb::AssessmentRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let scores = m
            .scores
            .as_ref()
            .ok_or_else(|| d.invalid("scores missing"))?;
        Ok(Box::new(elder::AssessmentRecorded {
            elder: elder_id(d, "elder_id", &m.elder_id)?,
            citizen: d.citizen("person", &m.person)?,
            assessed: Assessed {
                scores: scores_from_pb(scores)
                    .map_err(|field| d.invalid(format!("{field} is above 255")))?,
                adjustments: adjustments_from_pb(m.adjustments.as_ref()),
                level: known(d, "level", level_from_pb(m.level))?,
                total: u8::try_from(m.total_score)
                    .map_err(|_| d.invalid("total_score is above 255"))?,
                assessor: d.text("assessor", &m.assessor)?,
                on: d.date("assessed_on", &m.assessed_on)?,
                reassessment_due_on: d.date("reassessment_due_on", &m.reassessment_due_on)?,
                division: d.code("division", &m.division)?,
            },
        }))
    }
}

impl ToMessage for elder::PlacementStarted {
    type Message = pb::PlacementStarted;

    fn to_message(&self) -> pb::PlacementStarted {
        pb::PlacementStarted {
            elder_id: self.elder.to_string(),
            institution_id: self.institution.to_string(),
            bed_type: bed_type_to_pb(self.bed_type).into(),
            started_on: Some(self.on.into()),
        }
    }
}

impl FromMessage<pb::PlacementStarted> for elder::PlacementStarted {
    fn from_message(m: pb::PlacementStarted, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            elder: elder_id(d, "elder_id", &m.elder_id)?,
            institution: institution_id(d, "institution_id", &m.institution_id)?,
            bed_type: known(d, "bed_type", bed_type_from_pb(m.bed_type))?,
            on: d.date("started_on", &m.started_on)?,
        })
    }
}

impl ToMessage for elder::PlacementEnded {
    type Message = pb::PlacementEnded;

    fn to_message(&self) -> pb::PlacementEnded {
        pb::PlacementEnded {
            elder_id: self.elder.to_string(),
            institution_id: self.institution.to_string(),
            ended_on: Some(self.on.into()),
            reason: discharge_reason_to_pb(self.reason).into(),
        }
    }
}

impl FromMessage<pb::PlacementEnded> for elder::PlacementEnded {
    fn from_message(m: pb::PlacementEnded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            elder: elder_id(d, "elder_id", &m.elder_id)?,
            institution: institution_id(d, "institution_id", &m.institution_id)?,
            on: d.date("ended_on", &m.ended_on)?,
            reason: known(d, "reason", discharge_reason_from_pb(m.reason))?,
        })
    }
}

impl ToMessage for LowIncome {
    type Message = pb::LowIncomeStatusChanged;

    fn to_message(&self) -> pb::LowIncomeStatusChanged {
        pb::LowIncomeStatusChanged {
            elder_id: self.elder.to_string(),
            person: Some((&self.citizen).into()),
            case_id: self.case_id.clone(),
            covered: self.covered,
            effective_on: Some(self.on.into()),
        }
    }
}

impl FromMessage<pb::LowIncomeStatusChanged> for LowIncome {
    fn from_message(m: pb::LowIncomeStatusChanged, d: &Decoder<'_>) -> Result<Self, CodecError> {
        if m.case_id.is_empty() {
            return Err(d.invalid("case_id is empty"));
        }
        Ok(Self {
            elder: elder_id(d, "elder_id", &m.elder_id)?,
            citizen: d.citizen("person", &m.person)?,
            case_id: m.case_id,
            covered: m.covered,
            on: d.date("effective_on", &m.effective_on)?,
        })
    }
}

impl ToMessage for NoteDeath {
    type Message = pb::DeathNoted;

    fn to_message(&self) -> pb::DeathNoted {
        pb::DeathNoted {
            elder_id: self.elder.to_string(),
            person: Some((&self.citizen).into()),
            died_on: Some(self.on.into()),
            death_id: self.death_id.clone().unwrap_or_default(),
        }
    }
}

impl FromMessage<pb::DeathNoted> for NoteDeath {
    fn from_message(m: pb::DeathNoted, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            elder: elder_id(d, "elder_id", &m.elder_id)?,
            citizen: d.citizen("person", &m.person)?,
            on: d.date("died_on", &m.died_on)?,
            death_id: (!m.death_id.is_empty()).then_some(m.death_id),
        })
    }
}

impl ToMessage for elder::VisitPlanOpened {
    type Message = pb::VisitPlanOpened;

    fn to_message(&self) -> pb::VisitPlanOpened {
        pb::VisitPlanOpened {
            elder_id: self.elder.to_string(),
            person: Some((&self.citizen).into()),
            difficulties: self
                .difficulties
                .iter()
                .map(|&k| difficulty_to_pb(k).into())
                .collect(),
            interval_days: u32::from(self.interval_days),
            township: Some(self.township.into()),
            opened_on: Some(self.on.into()),
            alert_id: self.alert_id.clone().unwrap_or_default(),
        }
    }
}

impl FromMessage<pb::VisitPlanOpened> for elder::VisitPlanOpened {
    fn from_message(m: pb::VisitPlanOpened, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            elder: elder_id(d, "elder_id", &m.elder_id)?,
            citizen: d.citizen("person", &m.person)?,
            difficulties: m
                .difficulties
                .iter()
                .map(|&k| known(d, "difficulties", difficulty_from_pb(k)))
                .collect::<Result<_, _>>()?,
            interval_days: u16::try_from(m.interval_days)
                .map_err(|_| d.invalid("interval_days is above 65535"))?,
            township: d.code("township", &m.township)?,
            on: d.date("opened_on", &m.opened_on)?,
            alert_id: (!m.alert_id.is_empty()).then_some(m.alert_id),
        })
    }
}

impl ToMessage for elder::VisitRecorded {
    type Message = pb::VisitRecorded;

    fn to_message(&self) -> pb::VisitRecorded {
        let v = &self.visit;
        pb::VisitRecorded {
            elder_id: self.elder.to_string(),
            visited_on: Some(v.on.into()),
            visitor: v.visitor.as_str().to_owned(),
            findings: v.findings.as_str().to_owned(),
            follow_up: optional_text(v.follow_up.as_ref()),
        }
    }
}

impl FromMessage<pb::VisitRecorded> for elder::VisitRecorded {
    fn from_message(m: pb::VisitRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            elder: elder_id(d, "elder_id", &m.elder_id)?,
            visit: Visit {
                on: d.date("visited_on", &m.visited_on)?,
                visitor: d.text("visitor", &m.visitor)?,
                findings: d.text("findings", &m.findings)?,
                follow_up: d.optional_text("follow_up", &m.follow_up)?,
            },
        })
    }
}

impl ToMessage for elder::VisitEscalated {
    type Message = pb::VisitEscalated;

    fn to_message(&self) -> pb::VisitEscalated {
        pb::VisitEscalated {
            elder_id: self.elder.to_string(),
            due_on: Some(self.due_on.into()),
            township: Some(self.township.into()),
            county: Some(self.county.into()),
            escalated_on: Some(self.on.into()),
        }
    }
}

impl FromMessage<pb::VisitEscalated> for elder::VisitEscalated {
    fn from_message(m: pb::VisitEscalated, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            elder: elder_id(d, "elder_id", &m.elder_id)?,
            due_on: d.date("due_on", &m.due_on)?,
            township: d.code("township", &m.township)?,
            county: d.code("county", &m.county)?,
            on: d.date("escalated_on", &m.escalated_on)?,
        })
    }
}

impl ToMessage for elder::VisitPlanClosed {
    type Message = pb::VisitPlanClosed;

    fn to_message(&self) -> pb::VisitPlanClosed {
        pb::VisitPlanClosed {
            elder_id: self.elder.to_string(),
            closed_on: Some(self.on.into()),
            reason: self.reason.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::VisitPlanClosed> for elder::VisitPlanClosed {
    fn from_message(m: pb::VisitPlanClosed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            elder: elder_id(d, "elder_id", &m.elder_id)?,
            on: d.date("closed_on", &m.closed_on)?,
            reason: d.text("reason", &m.reason)?,
        })
    }
}
