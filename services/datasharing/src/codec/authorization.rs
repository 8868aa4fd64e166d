//! `authorization-<id>` events.

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::Decoder,
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::{common::v1 as common, datasharing::v1 as pb};

use super::{
    SCHEMA_VERSION,
    records::{agency_from_pb, agency_to_pb, class_from_pb, class_to_pb},
};
use crate::authorization::{self, Authorization, AuthorizationId, Withdrawal};

minzheng_host::event_codec! {
    authorization::Event, schema_version = SCHEMA_VERSION;
    Recorded(Authorization) <=> pb::AuthorizationRecorded,
    Withdrawn(Withdrawal) <=> pb::AuthorizationWithdrawn,
}

/// An authorization as its message.
pub fn recorded_to_pb(authorization: &Authorization) -> pb::AuthorizationRecorded {
    authorization.to_message()
}

impl ToMessage for Authorization {
    type Message = pb::AuthorizationRecorded;

    fn to_message(&self) -> pb::AuthorizationRecorded {
        pb::AuthorizationRecorded {
            authorization_id: self.id.as_str().to_owned(),
            signed_by: Some(common::CitizenRef {
                citizen_id: self.signed_by.expose().to_owned(),
            }),
            signed_on: Some(self.signed_on.into()),
            data_classes: self.data_classes.iter().copied().map(class_to_pb).collect(),
            agencies: self.agencies.iter().copied().map(agency_to_pb).collect(),
            purpose: self.purpose.as_str().to_owned(),
            expires_on: Some(self.expires_on.into()),
            case_id: self.case_id.clone().unwrap_or_default(),
        }
    }
}

impl FromMessage<pb::AuthorizationRecorded> for Authorization {
    fn from_message(m: pb::AuthorizationRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: d.parse(
                "authorization_id",
                AuthorizationId::parse(&m.authorization_id),
            )?,
            signed_by: d.citizen("signed_by", &m.signed_by)?,
            signed_on: d.date("signed_on", &m.signed_on)?,
            data_classes: m
                .data_classes
                .iter()
                .map(|c| class_from_pb(*c).ok_or_else(|| d.invalid("data_classes: unknown class")))
                .collect::<Result<_, _>>()?,
            agencies: m
                .agencies
                .iter()
                .map(|a| agency_from_pb(*a).ok_or_else(|| d.invalid("agencies: unknown agency")))
                .collect::<Result<_, _>>()?,
            purpose: d.text("purpose", &m.purpose)?,
            expires_on: d.date("expires_on", &m.expires_on)?,
            case_id: (!m.case_id.is_empty()).then_some(m.case_id),
        })
    }
}

impl ToMessage for Withdrawal {
    type Message = pb::AuthorizationWithdrawn;

    fn to_message(&self) -> pb::AuthorizationWithdrawn {
        pb::AuthorizationWithdrawn {
            authorization_id: self.id.as_str().to_owned(),
            withdrawn_on: Some(self.withdrawn_on.into()),
            reason: self.reason.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::AuthorizationWithdrawn> for Withdrawal {
    fn from_message(m: pb::AuthorizationWithdrawn, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: d.parse(
                "authorization_id",
                AuthorizationId::parse(&m.authorization_id),
            )?,
            withdrawn_on: d.date("withdrawn_on", &m.withdrawn_on)?,
            reason: d.text("reason", &m.reason)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use minzheng_kit::testing::assert_codec_round_trips;
    use minzheng_types::{BoundedText, CitizenId};
    use time::macros::date;

    use super::*;
    use crate::records::{Agency, DataClass};

    #[test]
    fn authorization_events_round_trip() {
        let id = AuthorizationId::parse("BX-V1-A1").expect("valid");
        assert_codec_round_trips([
            authorization::Event::Recorded(Authorization {
                id: id.clone(),
                signed_by: CitizenId::parse("210502195803120025").expect("valid"),
                signed_on: date!(2026 - 03 - 01),
                data_classes: [DataClass::Income, DataClass::Vehicles].into(),
                agencies: [Agency::Vehicles].into(),
                purpose: BoundedText::parse("低保申请核对", 200).expect("valid"),
                expires_on: date!(2026 - 09 - 01),
                case_id: Some("case".into()),
            }),
            authorization::Event::Withdrawn(Withdrawal {
                id,
                withdrawn_on: date!(2026 - 04 - 01),
                reason: BoundedText::parse("本人撤回", 200).expect("valid"),
            }),
        ]);
    }
}
