//! `thresholds-<county>` events.

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::Decoder,
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::datasharing::v1 as pb;

use super::SCHEMA_VERSION;
use crate::thresholds::{self, Thresholds, ThresholdsRecorded};

minzheng_host::event_codec! {
    thresholds::Event, schema_version = SCHEMA_VERSION;
    Recorded(ThresholdsRecorded) <=> pb::ThresholdsRecorded,
}

/// A version as its message.
pub fn recorded_to_pb(version: &ThresholdsRecorded) -> pb::ThresholdsRecorded {
    version.to_message()
}

impl ToMessage for ThresholdsRecorded {
    type Message = pb::ThresholdsRecorded;

    fn to_message(&self) -> pb::ThresholdsRecorded {
        let t = &self.thresholds;
        pb::ThresholdsRecorded {
            version: Some(pb::ThresholdsVersion {
                county: Some(self.county.into()),
                number: self.number,
            }),
            effective_from: Some(self.effective_from.into()),
            decided_by: self.decided_by.as_str().to_owned(),
            max_properties: t.max_properties,
            vehicle_value_limit: Some(t.vehicle_value_limit.into()),
            financial_assets_limit_months: t.financial_assets_limit_months,
            business_capital_limit: Some(t.business_capital_limit.into()),
            max_source_age_days: t.max_source_age_days,
            recorded_on: Some(self.recorded_on.into()),
        }
    }
}

impl FromMessage<pb::ThresholdsRecorded> for ThresholdsRecorded {
    fn from_message(m: pb::ThresholdsRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let version = m
            .version
            .ok_or_else(|| d.invalid("version: must be given"))?;
        Ok(Self {
            county: d.code("version.county", &version.county)?,
            number: version.number,
            thresholds: Thresholds {
                max_properties: m.max_properties,
                vehicle_value_limit: d.money("vehicle_value_limit", &m.vehicle_value_limit)?,
                financial_assets_limit_months: m.financial_assets_limit_months,
                business_capital_limit: d
                    .money("business_capital_limit", &m.business_capital_limit)?,
                max_source_age_days: m.max_source_age_days,
            },
            effective_from: d.date("effective_from", &m.effective_from)?,
            decided_by: d.text("decided_by", &m.decided_by)?,
            recorded_on: d.date("recorded_on", &m.recorded_on)?,
        })
    }
}
