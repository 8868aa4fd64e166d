//! The place-names service's division events (`proto/minzheng/placenames/v1/events.proto`) as
//! this service reads them: the [`PlaceNamesDivisions`] contract, decoding into
//! [`DivisionEvent`] for the [`crate::projections::divisions`] projection. This service's view of a public
//! contract, so it lives here (services never depend on each other).
//!
//! Only what routing an application and re-homing a case need is read: a division's code and
//! level, and what superseded it. Names, adjustments, place names and signs decode to `None`.

use minzheng_host::{codec::FromMessage, decode::Decoder};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::placenames::v1 as pb;
use minzheng_types::RegionCode;
use time::Date;

/// The schema version of the division events this service understands.
pub const SCHEMA_VERSION: u32 = 1;

/// The place-names service's division events the routing follows.
#[derive(Debug, Clone, Copy)]
pub struct PlaceNamesDivisions;

/// A division event, as far as routing cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DivisionEvent {
    /// A division exists from `valid_from`.
    Recorded { code: RegionCode, valid_from: Date },
    /// A division ceased to exist on `valid_to` (its first day gone); records filed under its
    /// code follow `successors`.
    Superseded {
        code: RegionCode,
        successors: Vec<RegionCode>,
        valid_to: Date,
        adjustment_id: String,
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
            adjustment_id: m.adjustment_id,
        })
    }
}
