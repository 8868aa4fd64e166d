//! The codec of the subsidy standards ([`subsidy::Event`]).

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::Decoder,
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::eldercare::v1 as pb;

use super::{
    SCHEMA_VERSION,
    elder::{level_from_pb, level_to_pb},
    known,
};
use crate::subsidy::{self, AgeBand, LevelAmount, Standard};

minzheng_host::event_codec! {
    subsidy::Event, schema_version = SCHEMA_VERSION;
    StandardRecorded(subsidy::StandardRecorded) <=> pb::SubsidyStandardRecorded,
}

pub(crate) fn standard_to_pb(
    city: minzheng_types::RegionCode,
    s: &Standard,
) -> pb::SubsidyStandardRecorded {
    pb::SubsidyStandardRecorded {
        city: Some(city.into()),
        version: s.version,
        effective_from: Some(s.effective_from.into()),
        advanced_age: s
            .advanced_age
            .iter()
            .map(|b| pb::AgeBand {
                from_age: u32::from(b.from_age),
                monthly: Some(b.monthly.into()),
            })
            .collect(),
        nursing: s
            .nursing
            .iter()
            .map(|l| pb::LevelAmount {
                level: level_to_pb(l.level).into(),
                monthly: Some(l.monthly.into()),
            })
            .collect(),
        nursing_requires_low_income: s.nursing_requires_low_income,
        service_low_income: Some(s.service_low_income.into()),
        decided_by: s.decided_by.as_str().to_owned(),
        recorded_on: Some(s.recorded_on.into()),
    }
}

impl ToMessage for subsidy::StandardRecorded {
    type Message = pb::SubsidyStandardRecorded;

    fn to_message(&self) -> pb::SubsidyStandardRecorded {
        standard_to_pb(self.city, &self.standard)
    }
}

impl FromMessage<pb::SubsidyStandardRecorded> for subsidy::StandardRecorded {
    fn from_message(m: pb::SubsidyStandardRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            city: d.code("city", &m.city)?,
            standard: Standard {
                version: m.version,
                effective_from: d.date("effective_from", &m.effective_from)?,
                advanced_age: m
                    .advanced_age
                    .iter()
                    .map(|b| {
                        Ok(AgeBand {
                            from_age: u8::try_from(b.from_age)
                                .map_err(|_| d.invalid("advanced_age.from_age is above 255"))?,
                            monthly: d.money("advanced_age.monthly", &b.monthly)?,
                        })
                    })
                    .collect::<Result<_, CodecError>>()?,
                nursing: m
                    .nursing
                    .iter()
                    .map(|l| {
                        Ok(LevelAmount {
                            level: known(d, "nursing.level", level_from_pb(l.level))?,
                            monthly: d.money("nursing.monthly", &l.monthly)?,
                        })
                    })
                    .collect::<Result<_, CodecError>>()?,
                nursing_requires_low_income: m.nursing_requires_low_income,
                service_low_income: d.money("service_low_income", &m.service_low_income)?,
                decided_by: d.text("decided_by", &m.decided_by)?,
                recorded_on: d.date("recorded_on", &m.recorded_on)?,
            },
        })
    }
}
