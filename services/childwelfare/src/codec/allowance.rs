//! The codec of the allowance standards ([`allowance::Event`]).

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::{Decoder, optional_text},
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::childwelfare::v1 as pb;

use super::SCHEMA_VERSION;
use crate::allowance::{self, Standard, StandardRecorded};

minzheng_host::event_codec! {
    allowance::Event, schema_version = SCHEMA_VERSION;
    StandardRecorded(StandardRecorded) <=> pb::AllowanceStandardRecorded,
}

impl ToMessage for StandardRecorded {
    type Message = pb::AllowanceStandardRecorded;

    fn to_message(&self) -> pb::AllowanceStandardRecorded {
        let s = &self.standard;
        pb::AllowanceStandardRecorded {
            city: Some(self.city.into()),
            version: s.version,
            effective_from: Some(s.effective_from.into()),
            centralized: Some(s.centralized.into()),
            family: Some(s.family.into()),
            decided_by: s.decided_by.as_str().to_owned(),
            override_reason: optional_text(s.override_reason.as_ref()),
            recorded_on: Some(s.recorded_on.into()),
        }
    }
}

impl FromMessage<pb::AllowanceStandardRecorded> for StandardRecorded {
    fn from_message(m: pb::AllowanceStandardRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            city: d.code("city", &m.city)?,
            standard: Standard {
                version: m.version,
                effective_from: d.date("effective_from", &m.effective_from)?,
                centralized: d.money("centralized", &m.centralized)?,
                family: d.money("family", &m.family)?,
                decided_by: d.text("decided_by", &m.decided_by)?,
                override_reason: d.optional_text("override_reason", &m.override_reason)?,
                recorded_on: d.date("recorded_on", &m.recorded_on)?,
            },
        })
    }
}
