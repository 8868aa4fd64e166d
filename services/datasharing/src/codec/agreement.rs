//! `agreement-<id>` events.

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::Decoder,
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::datasharing::v1 as pb;

use super::SCHEMA_VERSION;
use crate::agreement::{self, AgencyCode, Agreement, AgreementId, Ending};

minzheng_host::event_codec! {
    agreement::Event, schema_version = SCHEMA_VERSION;
    Recorded(Agreement) <=> pb::AgreementRecorded,
    Ended(Ending) <=> pb::AgreementEnded,
}

/// An agreement as its message.
pub fn recorded_to_pb(agreement: &Agreement) -> pb::AgreementRecorded {
    agreement.to_message()
}

impl ToMessage for Agreement {
    type Message = pb::AgreementRecorded;

    fn to_message(&self) -> pb::AgreementRecorded {
        pb::AgreementRecorded {
            agreement_id: self.id.as_str().to_owned(),
            agency: self.agency.as_str().to_owned(),
            events: self
                .events
                .iter()
                .map(|(event_type, fields)| pb::SharedEventType {
                    event_type: event_type.clone(),
                    fields: fields.clone(),
                })
                .collect(),
            purpose: self.purpose.as_str().to_owned(),
            expires_on: Some(self.expires_on.into()),
            real_id_granted: self.real_id_granted,
            recorded_on: Some(self.recorded_on.into()),
        }
    }
}

impl FromMessage<pb::AgreementRecorded> for Agreement {
    fn from_message(m: pb::AgreementRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: d.parse("agreement_id", AgreementId::parse(&m.agreement_id))?,
            agency: d.parse("agency", AgencyCode::parse(&m.agency))?,
            events: m
                .events
                .into_iter()
                .map(|e| (e.event_type, e.fields))
                .collect(),
            purpose: d.text("purpose", &m.purpose)?,
            expires_on: d.date("expires_on", &m.expires_on)?,
            real_id_granted: m.real_id_granted,
            recorded_on: d.date("recorded_on", &m.recorded_on)?,
        })
    }
}

impl ToMessage for Ending {
    type Message = pb::AgreementEnded;

    fn to_message(&self) -> pb::AgreementEnded {
        pb::AgreementEnded {
            agreement_id: self.id.as_str().to_owned(),
            ended_on: Some(self.ended_on.into()),
            reason: self.reason.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::AgreementEnded> for Ending {
    fn from_message(m: pb::AgreementEnded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: d.parse("agreement_id", AgreementId::parse(&m.agreement_id))?,
            ended_on: d.date("ended_on", &m.ended_on)?,
            reason: d.text("reason", &m.reason)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use minzheng_kit::testing::assert_codec_round_trips;
    use minzheng_types::BoundedText;
    use time::macros::date;

    use super::*;

    #[test]
    fn agreement_events_round_trip() {
        let id = AgreementId::parse("AG-1").expect("valid");
        assert_codec_round_trips([
            agreement::Event::Recorded(Agreement {
                id: id.clone(),
                agency: AgencyCode::parse("province_civil_affairs").expect("valid"),
                events: [(
                    "minzheng.assistance.v1.AssistanceGranted".to_owned(),
                    vec!["members".to_owned()],
                )]
                .into(),
                purpose: BoundedText::parse("省级社会救助统计", 200).expect("valid"),
                expires_on: date!(2026 - 12 - 31),
                real_id_granted: true,
                recorded_on: date!(2026 - 04 - 10),
            }),
            agreement::Event::Ended(Ending {
                id,
                ended_on: date!(2026 - 05 - 01),
                reason: BoundedText::parse("终止", 200).expect("valid"),
            }),
        ]);
    }
}
