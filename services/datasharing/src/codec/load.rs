//! `load-<load_id>` events.

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::Decoder,
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::datasharing::v1 as pb;

use super::{
    SCHEMA_VERSION,
    records::{agency_from_pb, agency_to_pb},
};
use crate::load::{self, LoadId, LoadSummary};

minzheng_host::event_codec! {
    load::Event, schema_version = SCHEMA_VERSION;
    Loaded(LoadSummary) <=> pb::AgencyRecordsLoaded,
}

/// A load's record as its message.
pub fn summary_to_pb(summary: &LoadSummary) -> pb::AgencyRecordsLoaded {
    summary.to_message()
}

impl ToMessage for LoadSummary {
    type Message = pb::AgencyRecordsLoaded;

    fn to_message(&self) -> pb::AgencyRecordsLoaded {
        pb::AgencyRecordsLoaded {
            load_id: self.id.as_str().to_owned(),
            agency: agency_to_pb(self.agency),
            extract: minzheng_host::decode::optional_text(self.extract.as_ref()),
            received: self.received,
            recorded: self.recorded,
            already_known: self.already_known,
            rejected: self.rejected,
            unknown_citizens: self.unknown_citizens,
            first_known_version: self.first_known_version,
            last_known_version: self.last_known_version,
            loaded_at: Some(super::timestamp(self.loaded_at_micros)),
        }
    }
}

impl FromMessage<pb::AgencyRecordsLoaded> for LoadSummary {
    fn from_message(m: pb::AgencyRecordsLoaded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let loaded_at = m
            .loaded_at
            .ok_or_else(|| d.invalid("loaded_at: must be given"))?;
        Ok(Self {
            id: d.parse("load_id", LoadId::parse(&m.load_id))?,
            agency: agency_from_pb(m.agency).ok_or_else(|| d.invalid("agency: unknown"))?,
            extract: d.optional_text("extract", &m.extract)?,
            received: m.received,
            recorded: m.recorded,
            already_known: m.already_known,
            rejected: m.rejected,
            unknown_citizens: m.unknown_citizens,
            first_known_version: m.first_known_version,
            last_known_version: m.last_known_version,
            loaded_at_micros: super::micros(&loaded_at),
        })
    }
}
