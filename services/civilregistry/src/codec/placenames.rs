//! The place-names service's division events (`proto/minzheng/placenames/v1/events.proto`) as
//! this service reads them: the [`PlaceNamesDivisions`] contract, decoding into
//! [`DivisionEvent`] for the [`crate::divisions`] projection. This is this service's view of a
//! public contract, so it lives here, not in the producer's crate (services never depend on
//! each other).
//!
//! Only what a registry needs is read (code, name, validity); adjustments, place names,
//! boundaries and signs are not listed, and decode to `None`.

use minzheng_host::{codec::FromMessage, decode::Decoder};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::placenames::v1 as pb;
use minzheng_types::{BoundedText, RegionCode};
use time::Date;

/// The schema version of the division events this service understands.
pub const SCHEMA_VERSION: u32 = 1;

/// The place-names service's division events the registries follow.
#[derive(Debug, Clone, Copy)]
pub struct PlaceNamesDivisions;

/// A division event, as far as a registry cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DivisionEvent {
    /// A division exists from `valid_from`, named `name`.
    Recorded {
        code: RegionCode,
        name: BoundedText,
        valid_from: Date,
    },
    /// A division has a new name.
    Renamed { code: RegionCode, name: BoundedText },
    /// A division ceased to exist: `valid_to` is its first day gone.
    Superseded { code: RegionCode, valid_to: Date },
}

minzheng_host::contract! {
    PlaceNamesDivisions => DivisionEvent, schema_version = SCHEMA_VERSION;
    pb::DivisionRecorded,
    pb::DivisionRenamed,
    pb::DivisionSuperseded,
}

impl FromMessage<pb::DivisionRecorded> for DivisionEvent {
    fn from_message(m: pb::DivisionRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self::Recorded {
            code: d.code("code", &m.code)?,
            name: d.text("name", &m.name)?,
            valid_from: d.date("valid_from", &m.valid_from)?,
        })
    }
}

impl FromMessage<pb::DivisionRenamed> for DivisionEvent {
    fn from_message(m: pb::DivisionRenamed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self::Renamed {
            code: d.code("code", &m.code)?,
            name: d.text("name", &m.name)?,
        })
    }
}

impl FromMessage<pb::DivisionSuperseded> for DivisionEvent {
    fn from_message(m: pb::DivisionSuperseded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self::Superseded {
            code: d.code("code", &m.code)?,
            valid_to: d.date("valid_to", &m.valid_to)?,
        })
    }
}

/// Division events as the place-names service stores and publishes them, for the tests of the
/// projections that follow them.
#[cfg(test)]
pub(crate) mod stored {
    use bytes::Bytes;
    use minzheng_eventstore::{Cursor, Metadata, RecordedEvent, StreamId};
    use prost::{Message, Name};

    use super::*;

    fn event<M: Message + Name>(position: u64, message: &M) -> RecordedEvent {
        RecordedEvent {
            id: uuid::Uuid::now_v7(),
            stream: StreamId::new("division", "x").expect("valid"),
            stream_version: 1,
            position,
            cursor: Cursor { tx: 0, position },
            event_type: M::full_name(),
            schema_version: SCHEMA_VERSION,
            payload: Bytes::from(message.encode_to_vec()),
            metadata: Metadata::default(),
            recorded_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn code(digits: &str) -> Option<minzheng_proto::common::v1::RegionCode> {
        Some(RegionCode::parse(digits).expect("valid code").into())
    }

    pub(crate) fn recorded(position: u64, digits: &str, name: &str) -> RecordedEvent {
        event(
            position,
            &pb::DivisionRecorded {
                code: code(digits),
                name: name.into(),
                level: 0,
                parent: None,
                valid_from: Some(time::macros::date!(2020 - 06 - 30).into()),
                adjustment_id: String::new(),
            },
        )
    }

    pub(crate) fn renamed(position: u64, digits: &str, name: &str) -> RecordedEvent {
        event(
            position,
            &pb::DivisionRenamed {
                code: code(digits),
                previous_name: String::new(),
                name: name.into(),
                effective_on: Some(time::macros::date!(2025 - 01 - 01).into()),
                adjustment_id: "BX-1".into(),
            },
        )
    }

    pub(crate) fn superseded(position: u64, digits: &str, valid_to: Date) -> RecordedEvent {
        event(
            position,
            &pb::DivisionSuperseded {
                code: code(digits),
                successors: vec![],
                valid_to: Some(valid_to.into()),
                adjustment_id: "BX-2".into(),
            },
        )
    }

    /// An event the contract does not list.
    pub(crate) fn adjustment_approved(position: u64) -> RecordedEvent {
        event(position, &pb::AdjustmentApproved::default())
    }
}

#[cfg(test)]
mod tests {
    use minzheng_proto::common::v1 as common;
    use prost::Message;
    use time::macros::date;

    use super::*;

    fn code(digits: &str) -> RegionCode {
        RegionCode::parse(digits).expect("valid code")
    }

    /// The stored types are the place-names service's contract: byte for byte these.
    #[test]
    fn the_contract_lists_the_division_events() {
        assert_eq!(
            PlaceNamesDivisions::EVENT_TYPES,
            [
                "minzheng.placenames.v1.DivisionRecorded",
                "minzheng.placenames.v1.DivisionRenamed",
                "minzheng.placenames.v1.DivisionSuperseded",
            ]
        );
    }

    #[test]
    fn division_events_decode_to_what_a_registry_needs() {
        let recorded = pb::DivisionRecorded {
            code: Some(code("210502000000").into()),
            name: "平山区".into(),
            level: common::RegionLevel::County.into(),
            parent: Some(code("210500000000").into()),
            valid_from: Some(date!(2020 - 06 - 30).into()),
            adjustment_id: String::new(),
        };
        assert_eq!(
            PlaceNamesDivisions::decode_payload(
                PlaceNamesDivisions::EVENT_TYPES[0],
                1,
                &recorded.encode_to_vec()
            )
            .expect("decodes"),
            Some(DivisionEvent::Recorded {
                code: code("210502000000"),
                name: BoundedText::parse("平山区", 10).expect("valid"),
                valid_from: date!(2020 - 06 - 30),
            })
        );
        let superseded = pb::DivisionSuperseded {
            code: Some(code("210502001000").into()),
            successors: vec![],
            valid_to: Some(date!(2026 - 03 - 01).into()),
            adjustment_id: "BX-3".into(),
        };
        assert_eq!(
            PlaceNamesDivisions::decode_payload(
                PlaceNamesDivisions::EVENT_TYPES[2],
                1,
                &superseded.encode_to_vec()
            )
            .expect("decodes"),
            Some(DivisionEvent::Superseded {
                code: code("210502001000"),
                valid_to: date!(2026 - 03 - 01),
            })
        );
    }

    #[test]
    fn other_place_names_events_are_not_listed_and_malformed_divisions_are_errors() {
        assert_eq!(
            PlaceNamesDivisions::decode_payload(
                "minzheng.placenames.v1.AdjustmentProposed",
                1,
                &[0xff]
            )
            .expect("not listed"),
            None
        );
        let renamed = pb::DivisionRenamed {
            code: Some(common::RegionCode {
                code: "2105".into(),
            }),
            previous_name: "旧".into(),
            name: "新".into(),
            effective_on: Some(date!(2026 - 01 - 01).into()),
            adjustment_id: "BX-2".into(),
        };
        assert!(matches!(
            PlaceNamesDivisions::decode_payload(
                PlaceNamesDivisions::EVENT_TYPES[1],
                1,
                &renamed.encode_to_vec()
            ),
            Err(CodecError::Invalid { .. })
        ));
        assert!(matches!(
            PlaceNamesDivisions::decode_payload(PlaceNamesDivisions::EVENT_TYPES[1], 2, &[]),
            Err(CodecError::UnsupportedVersion { .. })
        ));
    }
}
