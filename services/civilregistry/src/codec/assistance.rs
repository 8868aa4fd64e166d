//! The assistance service's events (`proto/minzheng/assistance/v1/events.proto`) as this service
//! reads them: the [`AssistanceEvents`] contract, decoding into [`assistance::Event`] for the
//! [`crate::assistance::Ledger`]. This is this service's view of a public contract, so it lives
//! here, not in the producer's crate.
//!
//! This service never writes these events; it follows three of them from the bus, and the
//! contract answers `None` for every other event type. [`encode`] exists for tests, including
//! end-to-end tests that play the assistance service.
//!
//! The reason an assistance case ended (`AssistanceEnded.reason`) is not kept: the ledger does
//! not need it, and [`encode`] writes it empty.

use bytes::Bytes;
use minzheng_host::{codec::FromMessage, decode::Decoder, message_name};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common};
use minzheng_types::CitizenId;
use prost::Message;

use crate::assistance::{self, AssistanceCategory, CaseId};

/// The schema version of the assistance events this service understands.
pub const SCHEMA_VERSION: u32 = 1;

/// The assistance service's events the funeral fee waiver follows.
#[derive(Debug, Clone, Copy)]
pub struct AssistanceEvents;

minzheng_host::contract! {
    AssistanceEvents => assistance::Event, schema_version = SCHEMA_VERSION;
    pb::AssistanceGranted,
    pb::AssistanceMembersChanged,
    pb::AssistanceEnded,
}

impl FromMessage<pb::AssistanceGranted> for assistance::Event {
    fn from_message(m: pb::AssistanceGranted, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self::Granted {
            case_id: case_id(d, &m.case_id)?,
            category: category_from_pb(d, "category", m.category)?,
            county: d.code("county", &m.county)?,
            members: members(d, m.members)?,
            effective_from: d.date("effective_from", &m.effective_from)?,
        })
    }
}

impl FromMessage<pb::AssistanceMembersChanged> for assistance::Event {
    fn from_message(m: pb::AssistanceMembersChanged, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self::MembersChanged {
            case_id: case_id(d, &m.case_id)?,
            members: members(d, m.members)?,
            effective_on: d.date("effective_on", &m.effective_on)?,
        })
    }
}

impl FromMessage<pb::AssistanceEnded> for assistance::Event {
    fn from_message(m: pb::AssistanceEnded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self::Ended {
            case_id: case_id(d, &m.case_id)?,
            effective_on: d.date("effective_on", &m.effective_on)?,
        })
    }
}

/// The event type and payload the assistance service would publish for `event`. Used by tests
/// (and end-to-end tests that play the assistance service); this service never writes these.
pub fn encode(event: &assistance::Event) -> (&'static str, Bytes) {
    let citizens = |members: &[CitizenId]| -> Vec<common::CitizenRef> {
        members.iter().map(common::CitizenRef::from).collect()
    };
    let (event_type, bytes) = match event {
        assistance::Event::Granted {
            case_id,
            category,
            county,
            members,
            effective_from,
        } => (
            message_name!(pb::AssistanceGranted),
            pb::AssistanceGranted {
                case_id: case_id.as_str().to_owned(),
                category: category_to_pb(*category).into(),
                county: Some((*county).into()),
                members: citizens(members),
                effective_from: Some((*effective_from).into()),
                single_person: false,
            }
            .encode_to_vec(),
        ),
        assistance::Event::MembersChanged {
            case_id,
            members,
            effective_on,
        } => (
            message_name!(pb::AssistanceMembersChanged),
            pb::AssistanceMembersChanged {
                case_id: case_id.as_str().to_owned(),
                members: citizens(members),
                effective_on: Some((*effective_on).into()),
            }
            .encode_to_vec(),
        ),
        assistance::Event::Ended {
            case_id,
            effective_on,
        } => (
            message_name!(pb::AssistanceEnded),
            pb::AssistanceEnded {
                case_id: case_id.as_str().to_owned(),
                effective_on: Some((*effective_on).into()),
                reason: String::new(),
                cause: 0,
            }
            .encode_to_vec(),
        ),
    };
    (event_type, Bytes::from(bytes))
}

/// A category as its message enum.
pub(crate) fn category_to_pb(category: AssistanceCategory) -> pb::AssistanceCategory {
    match category {
        AssistanceCategory::Dibao => pb::AssistanceCategory::Dibao,
        AssistanceCategory::Tekun => pb::AssistanceCategory::Tekun,
        AssistanceCategory::LowIncome => pb::AssistanceCategory::LowIncome,
        AssistanceCategory::Temporary => pb::AssistanceCategory::Temporary,
    }
}

/// A required category from its message enum value.
pub(crate) fn category_from_pb(
    d: &Decoder<'_>,
    field: &str,
    value: i32,
) -> Result<AssistanceCategory, CodecError> {
    match pb::AssistanceCategory::try_from(value) {
        // Single-person coverage is the dibao of one member (the assistance service publishes it
        // as DIBAO with `single_person`; the value is read as dibao all the same).
        Ok(pb::AssistanceCategory::Dibao | pb::AssistanceCategory::SinglePerson) => {
            Ok(AssistanceCategory::Dibao)
        }
        Ok(pb::AssistanceCategory::Tekun) => Ok(AssistanceCategory::Tekun),
        Ok(pb::AssistanceCategory::LowIncome) => Ok(AssistanceCategory::LowIncome),
        Ok(pb::AssistanceCategory::Temporary) => Ok(AssistanceCategory::Temporary),
        // Heating assistance is a one-off payment, never published as a grant.
        Ok(pb::AssistanceCategory::Unspecified | pb::AssistanceCategory::Heating) | Err(_) => {
            Err(d.invalid(format!("{field} is not a known assistance category")))
        }
    }
}

/// A required case id.
pub(crate) fn case_id(d: &Decoder<'_>, value: &str) -> Result<CaseId, CodecError> {
    d.parse("case_id", CaseId::parse(value))
}

fn members(
    d: &Decoder<'_>,
    members: Vec<common::CitizenRef>,
) -> Result<Vec<CitizenId>, CodecError> {
    members
        .into_iter()
        .map(|m| d.citizen("members", &Some(m)))
        .collect()
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const ASSISTANCE_GRANTED: &str = message_name!(pb::AssistanceGranted);
    const ASSISTANCE_MEMBERS_CHANGED: &str = message_name!(pb::AssistanceMembersChanged);
    const ASSISTANCE_ENDED: &str = message_name!(pb::AssistanceEnded);

    fn decode(
        event_type: &str,
        schema_version: u32,
        payload: &[u8],
    ) -> Result<Option<assistance::Event>, CodecError> {
        AssistanceEvents::decode_payload(event_type, schema_version, payload)
    }
    use crate::assistance::tests::{case, county, grandfather, grandmother, granted};

    fn events() -> Vec<assistance::Event> {
        let mut events: Vec<assistance::Event> = AssistanceCategory::ALL
            .into_iter()
            .map(|category| {
                granted(
                    "210502-DB-2025-000123",
                    category,
                    vec![grandmother(), grandfather()],
                    date!(2025 - 03 - 01),
                )
            })
            .collect();
        events.push(assistance::Event::MembersChanged {
            case_id: case("210502-DB-2025-000123"),
            members: vec![grandmother()],
            effective_on: date!(2025 - 09 - 01),
        });
        events.push(assistance::Event::Ended {
            case_id: case("210502-DB-2025-000123"),
            effective_on: date!(2026 - 01 - 01),
        });
        events
    }

    #[test]
    fn followed_events_round_trip() {
        for event in events() {
            let (event_type, bytes) = encode(&event);
            let decoded = decode(event_type, SCHEMA_VERSION, &bytes).expect("decodes");
            assert_eq!(decoded, Some(event));
        }
    }

    /// The stored types are the assistance service's contract: byte for byte these.
    #[test]
    fn the_contract_lists_the_followed_event_types() {
        assert_eq!(
            AssistanceEvents::EVENT_TYPES,
            [
                "minzheng.assistance.v1.AssistanceGranted",
                "minzheng.assistance.v1.AssistanceMembersChanged",
                "minzheng.assistance.v1.AssistanceEnded",
            ]
        );
    }

    #[test]
    fn other_events_are_not_listed_and_other_versions_refused() {
        assert!(matches!(
            decode(
                "minzheng.assistance.v1.AssistanceApplicationReceived",
                1,
                b"\xff"
            ),
            Ok(None)
        ));
        assert!(matches!(
            decode("minzheng.civilregistry.v1.DeathRecorded", 1, b"\xff"),
            Ok(None)
        ));
        assert!(matches!(
            decode("minzheng.assistance.v1.AssistanceGranted", 2, &[]),
            Err(CodecError::UnsupportedVersion { .. })
        ));
    }

    #[test]
    fn invalid_payloads_are_errors() {
        let invalid = |event_type: &str, payload: Vec<u8>| {
            assert!(
                matches!(
                    decode(event_type, SCHEMA_VERSION, &payload),
                    Err(CodecError::Invalid { .. })
                ),
                "{event_type}"
            );
        };
        invalid(ASSISTANCE_GRANTED, b"\xff\xff".to_vec());
        let grant = || pb::AssistanceGranted {
            case_id: "210502-DB-2025-000123".into(),
            category: pb::AssistanceCategory::Dibao.into(),
            county: Some(county().into()),
            members: vec![(&grandmother()).into()],
            effective_from: Some(date!(2025 - 03 - 01).into()),
            single_person: false,
        };
        assert!(decode(ASSISTANCE_GRANTED, 1, &grant().encode_to_vec()).is_ok());
        invalid(
            ASSISTANCE_GRANTED,
            pb::AssistanceGranted {
                category: pb::AssistanceCategory::Unspecified.into(),
                ..grant()
            }
            .encode_to_vec(),
        );
        invalid(
            ASSISTANCE_GRANTED,
            pb::AssistanceGranted {
                case_id: String::new(),
                ..grant()
            }
            .encode_to_vec(),
        );
        invalid(
            ASSISTANCE_GRANTED,
            pb::AssistanceGranted {
                members: vec![common::CitizenRef {
                    citizen_id: "110105194912310021".into(),
                }],
                ..grant()
            }
            .encode_to_vec(),
        );
        invalid(
            ASSISTANCE_GRANTED,
            pb::AssistanceGranted {
                county: None,
                ..grant()
            }
            .encode_to_vec(),
        );
        invalid(
            ASSISTANCE_MEMBERS_CHANGED,
            pb::AssistanceMembersChanged {
                case_id: "210502-DB-2025-000123".into(),
                members: vec![],
                effective_on: None,
            }
            .encode_to_vec(),
        );
        invalid(
            ASSISTANCE_ENDED,
            pb::AssistanceEnded {
                case_id: "210502-DB-2025-000123".into(),
                effective_on: None,
                reason: "收入超过低保标准".into(),
                cause: 0,
            }
            .encode_to_vec(),
        );
    }

    #[test]
    fn an_end_with_a_reason_decodes() {
        let payload = pb::AssistanceEnded {
            case_id: "210502-DB-2025-000123".into(),
            effective_on: Some(date!(2026 - 01 - 01).into()),
            reason: "收入超过低保标准".into(),
            cause: 0,
        }
        .encode_to_vec();
        assert_eq!(
            decode(ASSISTANCE_ENDED, SCHEMA_VERSION, &payload).expect("decodes"),
            Some(assistance::Event::Ended {
                case_id: case("210502-DB-2025-000123"),
                effective_on: date!(2026 - 01 - 01),
            })
        );
    }
}
