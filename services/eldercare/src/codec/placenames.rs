//! The place-names service's division events (`proto/minzheng/placenames/v1/events.proto`) as
//! this service reads them: which divisions exist from when to when, and where a superseded one
//! went — for checking where an institution or service point is, and for counting it under the
//! county its division belongs to today ([`crate::divisions`]). Names, place names, boundaries
//! and signs are not listed, and decode to `None`.

use minzheng_host::{codec::FromMessage, decode::Decoder};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::placenames::v1 as pb;
use minzheng_types::RegionCode;
use time::Date;

/// The schema version of the division events this service understands.
pub const SCHEMA_VERSION: u32 = 1;

/// The place-names service's division events this service follows.
#[derive(Debug, Clone, Copy)]
pub struct PlaceNamesDivisions;

/// A division event, as far as elderly care cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DivisionEvent {
    /// A division exists from `valid_from`.
    Recorded { code: RegionCode, valid_from: Date },
    /// A division ceased to exist on `valid_to` (its first day gone); its successors took its
    /// place.
    Superseded {
        code: RegionCode,
        successors: Vec<RegionCode>,
        valid_to: Date,
    },
}

minzheng_host::contract! {
    PlaceNamesDivisions => DivisionEvent, schema_version = SCHEMA_VERSION;
    pb::DivisionRecorded,
    pb::DivisionSuperseded,
}

impl FromMessage<pb::DivisionRecorded> for DivisionEvent {
    fn from_message(m: pb::DivisionRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self::Recorded {
            code: d.code("code", &m.code)?,
            valid_from: d.date("valid_from", &m.valid_from)?,
        })
    }
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
