//! The place-names service's division events (`proto/minzheng/placenames/v1/events.proto`) as
//! a follower of the divisions reads them: which divisions exist from when to when, whether an
//! adjustment established one, and where a superseded one went. Names, renamings, place names,
//! boundaries and signs are not listed, and decode to `None`.

use minzheng_kit::aggregate::CodecError;
use minzheng_proto::placenames::v1 as pb;
use minzheng_types::RegionCode;
use time::Date;

use crate::{codec::FromMessage, decode::Decoder};

/// The schema version of the division events this module understands.
pub const SCHEMA_VERSION: u32 = 1;

/// The place-names service's division events a follower reads.
#[derive(Debug, Clone, Copy)]
pub struct PlaceNamesDivisions;

/// A division event, as far as a follower of the divisions cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DivisionEvent {
    /// A division exists from `valid_from`: imported (`adjustment` is `None`, and `valid_from`
    /// is only the import's vintage), or established by `adjustment` (and then it really
    /// begins on `valid_from`).
    Recorded {
        code: RegionCode,
        valid_from: Date,
        adjustment: Option<String>,
    },
    /// A division ceased to exist on `valid_to` (its first day gone); its successors took its
    /// place.
    Superseded {
        code: RegionCode,
        successors: Vec<RegionCode>,
        valid_to: Date,
    },
}

crate::contract! {
    PlaceNamesDivisions => DivisionEvent, schema_version = SCHEMA_VERSION;
    pb::DivisionRecorded,
    pb::DivisionSuperseded,
}

impl FromMessage<pb::DivisionRecorded> for DivisionEvent {
    fn from_message(m: pb::DivisionRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self::Recorded {
            code: d.code("code", &m.code)?,
            valid_from: d.date("valid_from", &m.valid_from)?,
            // Empty when imported (the contract's words).
            adjustment: Some(m.adjustment_id).filter(|id| !id.is_empty()),
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

#[cfg(test)]
mod tests {
    use minzheng_proto::common::v1 as common;
    use prost::Message as _;
    use time::macros::date;

    use super::*;

    fn code(digits: &str) -> RegionCode {
        RegionCode::parse(digits).expect("valid")
    }

    #[test]
    fn a_recorded_division_says_whether_an_adjustment_established_it() {
        let decode = |adjustment_id: &str| {
            let message = pb::DivisionRecorded {
                code: Some(code("210502001000").into()),
                name: "站前街道".to_owned(),
                level: common::RegionLevel::Township.into(),
                parent: Some(code("210502000000").into()),
                valid_from: Some(date!(2023 - 07 - 01).into()),
                adjustment_id: adjustment_id.to_owned(),
            };
            PlaceNamesDivisions::decode_payload(
                "minzheng.placenames.v1.DivisionRecorded",
                SCHEMA_VERSION,
                &message.encode_to_vec(),
            )
            .expect("decodes")
            .expect("listed")
        };
        let imported = decode("");
        assert!(matches!(
            imported,
            DivisionEvent::Recorded {
                adjustment: None,
                ..
            }
        ));
        assert_eq!(
            decode("adj-2023-001"),
            DivisionEvent::Recorded {
                code: code("210502001000"),
                valid_from: date!(2023 - 07 - 01),
                adjustment: Some("adj-2023-001".to_owned()),
            }
        );
    }

    #[test]
    fn names_and_renamings_are_not_listed() {
        let renamed = pb::DivisionRenamed::default().encode_to_vec();
        assert_eq!(
            PlaceNamesDivisions::decode_payload(
                "minzheng.placenames.v1.DivisionRenamed",
                SCHEMA_VERSION,
                &renamed,
            )
            .expect("not an error"),
            None
        );
    }
}
