//! The place-names service's events (`proto/minzheng/placenames/v1/events.proto`) as this
//! service reads them: a division superseded by its successors (a merger, split, recode or change
//! of type), into [`DivisionEvent`]. Other event types are `None`.

use minzheng_host::{codec::FromMessage, decode::Decoder};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::placenames::v1 as pb;
use minzheng_types::RegionCode;
use time::Date;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy)]
pub struct PlaceNamesEvents;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DivisionEvent {
    /// `code` is no longer valid from `valid_to`; `successors` took its place.
    Superseded {
        code: RegionCode,
        successors: Vec<RegionCode>,
        valid_to: Date,
    },
}

minzheng_host::contract! {
    PlaceNamesEvents => DivisionEvent, schema_version = SCHEMA_VERSION;
    pb::DivisionSuperseded,
}

impl FromMessage<pb::DivisionSuperseded> for DivisionEvent {
    fn from_message(m: pb::DivisionSuperseded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self::Superseded {
            code: d.code("code", &m.code)?,
            successors: d.codes("successors", &m.successors)?,
            valid_to: d.date("valid_to", &m.valid_to)?,
        })
    }
}
