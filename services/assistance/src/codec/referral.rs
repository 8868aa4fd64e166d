//! The referral's events ([`referral::Event`]) to their messages and back:
//! [`referral::ReferralRecorded`] ↔ `ReferralRecorded` and [`referral::ReferralActedOn`] ↔
//! `ReferralActedOn` (`proto/minzheng/assistance/v1/referrals.proto`).
//!
//! Decoding checks shape: the alert id, region codes, citizen ids, dates and case ids parse, the
//! enums are known, a case id comes with APPLICATION_SUBMITTED and only with it. The rules are
//! read as recorded: a due day before the alert, a township outside its county or an empty list
//! of members still decode, since they are history.

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::Decoder,
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common};

use crate::{
    codec::enum_codec,
    ids::CaseId,
    referral::{self, AlertId, AlertKind, Outcome},
};

/// The schema version the referral's events are written in.
pub const SCHEMA_VERSION: u32 = 1;

minzheng_host::event_codec! {
    referral::Event, schema_version = SCHEMA_VERSION;
    Recorded(referral::ReferralRecorded) <=> pb::ReferralRecorded,
    ActedOn(referral::ReferralActedOn) <=> pb::ReferralActedOn,
}

enum_codec!(kind_to_pb, kind_from_pb, AlertKind, ReferralKind, "referral kind";
    MedicalSpending <=> MedicalSpending, Disability <=> Disability, IncomeLoss <=> IncomeLoss,
    Disaster <=> Disaster, IncomeNearLine <=> IncomeNearLine, IncomeAboveLine <=> IncomeAboveLine,
);

/// An outcome's message enum and case id (empty but for an application).
pub(crate) fn outcome_to_pb(outcome: &Outcome) -> (pb::ReferralOutcome, String) {
    match outcome {
        Outcome::ApplicationSubmitted(id) => {
            (pb::ReferralOutcome::ApplicationSubmitted, id.to_string())
        }
        Outcome::VisitedNotEligible => (pb::ReferralOutcome::VisitedNotEligible, String::new()),
        Outcome::CouldNotReach => (pb::ReferralOutcome::CouldNotReach, String::new()),
    }
}

fn outcome_from_pb(d: &Decoder<'_>, outcome: i32, case_id: &str) -> Result<Outcome, CodecError> {
    let only_for_an_application = || {
        if case_id.is_empty() {
            Ok(())
        } else {
            Err(d.invalid("case_id is given for APPLICATION_SUBMITTED only"))
        }
    };
    match pb::ReferralOutcome::try_from(outcome) {
        Ok(pb::ReferralOutcome::ApplicationSubmitted) => Ok(Outcome::ApplicationSubmitted(
            d.parse("case_id", CaseId::parse(case_id))?,
        )),
        Ok(pb::ReferralOutcome::VisitedNotEligible) => {
            only_for_an_application()?;
            Ok(Outcome::VisitedNotEligible)
        }
        Ok(pb::ReferralOutcome::CouldNotReach) => {
            only_for_an_application()?;
            Ok(Outcome::CouldNotReach)
        }
        _ => Err(d.invalid("outcome is not a known referral outcome")),
    }
}

impl ToMessage for referral::ReferralRecorded {
    type Message = pb::ReferralRecorded;

    fn to_message(&self) -> pb::ReferralRecorded {
        pb::ReferralRecorded {
            alert_id: self.alert_id.to_string(),
            kind: kind_to_pb(self.kind),
            county: Some(self.county.into()),
            township: Some(self.township.into()),
            members: self.members.iter().map(common::CitizenRef::from).collect(),
            raised_on: Some(self.raised_on.into()),
            recorded_on: Some(self.recorded_on.into()),
            due_on: Some(self.due_on.into()),
        }
    }
}

impl FromMessage<pb::ReferralRecorded> for referral::ReferralRecorded {
    fn from_message(m: pb::ReferralRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            alert_id: d.parse("alert_id", AlertId::parse(&m.alert_id))?,
            kind: kind_from_pb(d, "kind", m.kind)?,
            county: d.code("county", &m.county)?,
            township: d.code("township", &m.township)?,
            members: m
                .members
                .iter()
                .map(|c| d.citizen("members", &Some(c.clone())))
                .collect::<Result<_, _>>()?,
            raised_on: d.date("raised_on", &m.raised_on)?,
            recorded_on: d.date("recorded_on", &m.recorded_on)?,
            due_on: d.date("due_on", &m.due_on)?,
        })
    }
}

impl ToMessage for referral::ReferralActedOn {
    type Message = pb::ReferralActedOn;

    fn to_message(&self) -> pb::ReferralActedOn {
        let (outcome, case_id) = outcome_to_pb(&self.outcome);
        pb::ReferralActedOn {
            alert_id: self.alert_id.to_string(),
            outcome: outcome.into(),
            case_id,
            note: self.note.as_str().to_owned(),
            acted_on: Some(self.acted_on.into()),
        }
    }
}

impl FromMessage<pb::ReferralActedOn> for referral::ReferralActedOn {
    fn from_message(m: pb::ReferralActedOn, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            alert_id: d.parse("alert_id", AlertId::parse(&m.alert_id))?,
            outcome: outcome_from_pb(d, m.outcome, &m.case_id)?,
            note: d.text("note", &m.note)?,
            acted_on: d.date("acted_on", &m.acted_on)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use minzheng_kit::{aggregate::EventCodec, testing::assert_codec_round_trips};
    use prost::Message;
    use time::macros::date;

    use super::*;
    use crate::referral::tests::{acted, case_id, recorded};

    const RECORDED: &str = minzheng_host::message_name!(pb::ReferralRecorded);
    const ACTED: &str = minzheng_host::message_name!(pb::ReferralActedOn);

    fn events() -> Vec<referral::Event> {
        let on = date!(2026 - 03 - 06);
        vec![
            recorded(),
            acted(Outcome::ApplicationSubmitted(case_id()), on),
            acted(Outcome::VisitedNotEligible, on),
            acted(Outcome::CouldNotReach, on),
        ]
    }

    #[test]
    fn every_event_round_trips() {
        assert_codec_round_trips(events());
    }

    #[test]
    fn event_types_and_subjects_follow_the_bus_contract() {
        let names: Vec<(&str, String)> = events()[..2]
            .iter()
            .map(|e| {
                (
                    e.event_type(),
                    minzheng_bus::naming::event_token("referral", e.event_type()),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                (RECORDED, "recorded".to_owned()),
                (ACTED, "acted_on".to_owned()),
            ]
        );
    }

    fn invalid(event_type: &str, message: &impl Message) {
        let decoded = referral::Event::decode(event_type, SCHEMA_VERSION, &message.encode_to_vec());
        assert!(
            matches!(decoded, Err(CodecError::Invalid { .. })),
            "{event_type} decoded to {decoded:?}"
        );
    }

    fn encoded<M: Message + Default>(event: &referral::Event) -> M {
        M::decode(event.encode()).expect("encoded")
    }

    #[test]
    fn stored_referrals_that_are_malformed_are_invalid() {
        let m: pb::ReferralRecorded = encoded(&events()[0]);
        for variant in [
            pb::ReferralRecorded {
                alert_id: "AL 42".into(),
                ..m.clone()
            },
            pb::ReferralRecorded {
                alert_id: "210502195803120025".into(),
                ..m.clone()
            },
            pb::ReferralRecorded {
                kind: 0,
                ..m.clone()
            },
            pb::ReferralRecorded {
                members: vec![common::CitizenRef {
                    citizen_id: "210502199001010015".into(),
                }],
                ..m.clone()
            },
            pb::ReferralRecorded {
                due_on: None,
                ..m.clone()
            },
        ] {
            invalid(RECORDED, &variant);
        }
        assert!(referral::Event::decode(RECORDED, SCHEMA_VERSION, &m.encode_to_vec()).is_ok());
    }

    #[test]
    fn stored_actions_that_are_malformed_are_invalid() {
        let m: pb::ReferralActedOn = encoded(&events()[1]);
        let not_reached: pb::ReferralActedOn = encoded(&events()[3]);
        for variant in [
            pb::ReferralActedOn {
                case_id: String::new(),
                ..m.clone()
            },
            pb::ReferralActedOn {
                outcome: 0,
                ..m.clone()
            },
            pb::ReferralActedOn {
                case_id: m.case_id.clone(),
                ..not_reached.clone()
            },
            pb::ReferralActedOn {
                note: String::new(),
                ..m.clone()
            },
        ] {
            invalid(ACTED, &variant);
        }
    }

    /// A referral recorded under other rules is history: it decodes as recorded.
    #[test]
    fn stored_referrals_are_read_as_recorded() {
        let m: pb::ReferralRecorded = encoded(&events()[0]);
        let odd = pb::ReferralRecorded {
            members: vec![],
            due_on: Some(date!(2026 - 01 - 01).into()),
            ..m
        };
        let Ok(referral::Event::Recorded(read)) =
            referral::Event::decode(RECORDED, SCHEMA_VERSION, &odd.encode_to_vec())
        else {
            panic!("a referral recorded under other rules decodes")
        };
        assert!(read.members.is_empty());
        assert_eq!(read.due_on, date!(2026 - 01 - 01));
    }
}
