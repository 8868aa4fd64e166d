//! The codec of the appointment events ([`registry_day::Event`]) and the counselling-room events
//! ([`registry::Event`]).
//!
//! An appointment id names its registry and day, so the domain events do not repeat them; the
//! messages do (`AppointmentBooked.registry`/`day`, `AppointmentNoShow.day`), and decoding
//! checks that they agree with the id. Decoding also checks what booking guarantees: capacities
//! from 1 to 100, slot ids "HHMM", a known service with its number of distinct parties, and a
//! `rescheduled_to` present exactly when the cancellation reason is a rescheduling.

use std::collections::HashSet;

use bytes::Bytes;
use minzheng_host::decode::Decoder;
use minzheng_kit::aggregate::{CodecError, EventCodec};
use minzheng_proto::civilregistry::v1 as pb;
use minzheng_types::{RegionCode, RegionLevel};
use prost::Message;

use super::{SCHEMA_VERSION, citizen_ref};
use crate::{
    ids::AppointmentId,
    registry,
    registry_day::{self, CancelReason, SlotId},
};

/// Full protobuf names of the event messages, which are the stored event types.
pub mod event_types {
    pub const SLOTS_PUBLISHED: &str = "minzheng.civilregistry.v1.SlotsPublished";
    pub const APPOINTMENT_BOOKED: &str = "minzheng.civilregistry.v1.AppointmentBooked";
    pub const APPOINTMENT_CANCELLED: &str = "minzheng.civilregistry.v1.AppointmentCancelled";
    pub const APPOINTMENT_CHECKED_IN: &str = "minzheng.civilregistry.v1.AppointmentCheckedIn";
    pub const APPOINTMENT_NO_SHOW: &str = "minzheng.civilregistry.v1.AppointmentNoShow";
    pub const COUNSELLING_ROOM_OPENED: &str = "minzheng.civilregistry.v1.CounsellingRoomOpened";
    pub const COUNSELLING_ROOM_CLOSED: &str = "minzheng.civilregistry.v1.CounsellingRoomClosed";
}

use event_types::*;

pub(crate) fn service_to_pb(service: registry_day::Service) -> pb::AppointmentService {
    match service {
        registry_day::Service::Marriage => pb::AppointmentService::Marriage,
        registry_day::Service::DivorceApplication => pb::AppointmentService::DivorceApplication,
        registry_day::Service::DivorceRegistration => pb::AppointmentService::DivorceRegistration,
        registry_day::Service::CertificateReissue => pb::AppointmentService::CertificateReissue,
    }
}

/// The service of an enum value; `None` for UNSPECIFIED and unknown numbers.
pub(crate) fn service_from_pb(value: i32) -> Option<registry_day::Service> {
    match pb::AppointmentService::try_from(value) {
        Ok(pb::AppointmentService::Marriage) => Some(registry_day::Service::Marriage),
        Ok(pb::AppointmentService::DivorceApplication) => {
            Some(registry_day::Service::DivorceApplication)
        }
        Ok(pb::AppointmentService::DivorceRegistration) => {
            Some(registry_day::Service::DivorceRegistration)
        }
        Ok(pb::AppointmentService::CertificateReissue) => {
            Some(registry_day::Service::CertificateReissue)
        }
        Ok(pb::AppointmentService::Unspecified) | Err(_) => None,
    }
}

impl EventCodec for registry_day::Event {
    fn event_type(&self) -> &'static str {
        match self {
            registry_day::Event::SlotsPublished(_) => SLOTS_PUBLISHED,
            registry_day::Event::AppointmentBooked(_) => APPOINTMENT_BOOKED,
            registry_day::Event::AppointmentCancelled(_) => APPOINTMENT_CANCELLED,
            registry_day::Event::AppointmentCheckedIn(_) => APPOINTMENT_CHECKED_IN,
            registry_day::Event::AppointmentNoShow(_) => APPOINTMENT_NO_SHOW,
        }
    }

    fn schema_version(&self) -> u32 {
        SCHEMA_VERSION
    }

    fn encode(&self) -> Bytes {
        let bytes = match self {
            registry_day::Event::SlotsPublished(e) => pb::SlotsPublished {
                registry: Some(e.registry.into()),
                day: Some(e.day.into()),
                slots: e
                    .slots
                    .iter()
                    .map(|(slot, capacity)| pb::Slot {
                        slot_id: slot.to_string(),
                        capacity: u32::from(*capacity),
                    })
                    .collect(),
                published_on: Some(e.published_on.into()),
            }
            .encode_to_vec(),
            registry_day::Event::AppointmentBooked(e) => pb::AppointmentBooked {
                appointment_id: e.appointment.to_string(),
                registry: Some(e.appointment.registry().into()),
                day: Some(e.appointment.day().into()),
                slot_id: e.slot.to_string(),
                service: service_to_pb(e.service).into(),
                parties: e.parties.iter().map(citizen_ref).collect(),
                booked_on: Some(e.booked_on.into()),
                rescheduled_from: e
                    .rescheduled_from
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
            }
            .encode_to_vec(),
            registry_day::Event::AppointmentCancelled(e) => {
                let (reason, rescheduled_to) = match e.reason {
                    CancelReason::ByApplicant => {
                        (pb::CancellationReason::ByApplicant, String::new())
                    }
                    CancelReason::Rescheduled { to } => {
                        (pb::CancellationReason::Rescheduled, to.to_string())
                    }
                };
                pb::AppointmentCancelled {
                    appointment_id: e.appointment.to_string(),
                    cancelled_on: Some(e.cancelled_on.into()),
                    reason: reason.into(),
                    rescheduled_to,
                }
                .encode_to_vec()
            }
            registry_day::Event::AppointmentCheckedIn(e) => pb::AppointmentCheckedIn {
                appointment_id: e.appointment.to_string(),
                checked_in_on: Some(e.checked_in_on.into()),
            }
            .encode_to_vec(),
            registry_day::Event::AppointmentNoShow(e) => pb::AppointmentNoShow {
                appointment_id: e.appointment.to_string(),
                day: Some(e.appointment.day().into()),
            }
            .encode_to_vec(),
        };
        Bytes::from(bytes)
    }

    fn decode(event_type: &str, schema_version: u32, payload: &[u8]) -> Result<Self, CodecError> {
        let d = Decoder::new(event_type, schema_version, SCHEMA_VERSION)?;
        let appointment = |field: &str, id: &str| d.parse(field, AppointmentId::parse(id));
        match event_type {
            SLOTS_PUBLISHED => {
                let m: pb::SlotsPublished = d.message(payload)?;
                let registry = county(&d, &m.registry)?;
                if m.slots.is_empty() {
                    return Err(d.invalid("slots: at least one slot is published"));
                }
                let mut seen = HashSet::new();
                let mut slots = Vec::with_capacity(m.slots.len());
                for slot in &m.slots {
                    let id = d.parse("slots.slot_id", SlotId::parse(&slot.slot_id))?;
                    let capacity = u16::try_from(slot.capacity)
                        .ok()
                        .filter(|c| registry_day::CAPACITY.contains(c))
                        .ok_or_else(|| d.invalid("slots.capacity: must be from 1 to 100"))?;
                    if !seen.insert(id) {
                        return Err(d.invalid(format!("slots: slot {id} is given twice")));
                    }
                    slots.push((id, capacity));
                }
                Ok(registry_day::Event::SlotsPublished(
                    registry_day::SlotsPublished {
                        registry,
                        day: d.date("day", &m.day)?,
                        slots,
                        published_on: d.date("published_on", &m.published_on)?,
                    },
                ))
            }
            APPOINTMENT_BOOKED => {
                let m: pb::AppointmentBooked = d.message(payload)?;
                let id = appointment("appointment_id", &m.appointment_id)?;
                if d.code("registry", &m.registry)? != id.registry() {
                    return Err(d.invalid("registry: does not match the appointment id"));
                }
                if d.date("day", &m.day)? != id.day() {
                    return Err(d.invalid("day: does not match the appointment id"));
                }
                let service = service_from_pb(m.service)
                    .ok_or_else(|| d.invalid("service: is not a known appointment service"))?;
                let parties = m
                    .parties
                    .iter()
                    .map(|p| d.citizen("parties", &Some(p.clone())))
                    .collect::<Result<Vec<_>, _>>()?;
                if parties.len() != service.parties() {
                    return Err(d.invalid(format!(
                        "parties: {} names {} people, not {}",
                        service.as_str(),
                        service.parties(),
                        parties.len()
                    )));
                }
                if parties.iter().collect::<HashSet<_>>().len() != parties.len() {
                    return Err(d.invalid("parties: the same person is named twice"));
                }
                let rescheduled_from = (!m.rescheduled_from.is_empty())
                    .then(|| appointment("rescheduled_from", &m.rescheduled_from))
                    .transpose()?;
                Ok(registry_day::Event::AppointmentBooked(
                    registry_day::AppointmentBooked {
                        appointment: id,
                        slot: d.parse("slot_id", SlotId::parse(&m.slot_id))?,
                        service,
                        parties,
                        booked_on: d.date("booked_on", &m.booked_on)?,
                        rescheduled_from,
                    },
                ))
            }
            APPOINTMENT_CANCELLED => {
                let m: pb::AppointmentCancelled = d.message(payload)?;
                let reason = match pb::CancellationReason::try_from(m.reason) {
                    Ok(pb::CancellationReason::ByApplicant) => {
                        if !m.rescheduled_to.is_empty() {
                            return Err(d.invalid(
                                "rescheduled_to: only a rescheduled appointment names one",
                            ));
                        }
                        CancelReason::ByApplicant
                    }
                    Ok(pb::CancellationReason::Rescheduled) => CancelReason::Rescheduled {
                        to: appointment("rescheduled_to", &m.rescheduled_to)?,
                    },
                    Ok(pb::CancellationReason::Unspecified) | Err(_) => {
                        return Err(d.invalid("reason: is not a known cancellation reason"));
                    }
                };
                Ok(registry_day::Event::AppointmentCancelled(
                    registry_day::AppointmentCancelled {
                        appointment: appointment("appointment_id", &m.appointment_id)?,
                        cancelled_on: d.date("cancelled_on", &m.cancelled_on)?,
                        reason,
                    },
                ))
            }
            APPOINTMENT_CHECKED_IN => {
                let m: pb::AppointmentCheckedIn = d.message(payload)?;
                Ok(registry_day::Event::AppointmentCheckedIn(
                    registry_day::AppointmentCheckedIn {
                        appointment: appointment("appointment_id", &m.appointment_id)?,
                        checked_in_on: d.date("checked_in_on", &m.checked_in_on)?,
                    },
                ))
            }
            APPOINTMENT_NO_SHOW => {
                let m: pb::AppointmentNoShow = d.message(payload)?;
                let id = appointment("appointment_id", &m.appointment_id)?;
                if d.date("day", &m.day)? != id.day() {
                    return Err(d.invalid("day: does not match the appointment id"));
                }
                Ok(registry_day::Event::AppointmentNoShow(
                    registry_day::AppointmentNoShow { appointment: id },
                ))
            }
            other => Err(CodecError::UnknownType(other.to_owned())),
        }
    }
}

impl EventCodec for registry::Event {
    fn event_type(&self) -> &'static str {
        match self {
            registry::Event::CounsellingRoomOpened(_) => COUNSELLING_ROOM_OPENED,
            registry::Event::CounsellingRoomClosed(_) => COUNSELLING_ROOM_CLOSED,
        }
    }

    fn schema_version(&self) -> u32 {
        SCHEMA_VERSION
    }

    fn encode(&self) -> Bytes {
        let bytes = match self {
            registry::Event::CounsellingRoomOpened(e) => pb::CounsellingRoomOpened {
                registry: Some(e.registry.into()),
                opened_on: Some(e.opened_on.into()),
            }
            .encode_to_vec(),
            registry::Event::CounsellingRoomClosed(e) => pb::CounsellingRoomClosed {
                registry: Some(e.registry.into()),
                closed_on: Some(e.closed_on.into()),
            }
            .encode_to_vec(),
        };
        Bytes::from(bytes)
    }

    fn decode(event_type: &str, schema_version: u32, payload: &[u8]) -> Result<Self, CodecError> {
        let d = Decoder::new(event_type, schema_version, SCHEMA_VERSION)?;
        match event_type {
            COUNSELLING_ROOM_OPENED => {
                let m: pb::CounsellingRoomOpened = d.message(payload)?;
                Ok(registry::Event::CounsellingRoomOpened(
                    registry::CounsellingRoomOpened {
                        registry: county(&d, &m.registry)?,
                        opened_on: d.date("opened_on", &m.opened_on)?,
                    },
                ))
            }
            COUNSELLING_ROOM_CLOSED => {
                let m: pb::CounsellingRoomClosed = d.message(payload)?;
                Ok(registry::Event::CounsellingRoomClosed(
                    registry::CounsellingRoomClosed {
                        registry: county(&d, &m.registry)?,
                        closed_on: d.date("closed_on", &m.closed_on)?,
                    },
                ))
            }
            other => Err(CodecError::UnknownType(other.to_owned())),
        }
    }
}

/// The required `registry` field: a county-level division.
fn county(
    d: &Decoder<'_>,
    registry: &Option<minzheng_proto::common::v1::RegionCode>,
) -> Result<RegionCode, CodecError> {
    let code = d.code("registry", registry)?;
    if code.level() != RegionLevel::County {
        return Err(d.invalid("registry.code: must be a county-level division"));
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use minzheng_kit::testing::assert_codec_round_trips;
    use minzheng_proto::common::v1 as common;
    use time::macros::date;

    use super::*;
    use crate::registry::tests as room;
    use crate::registry_day::{
        AppointmentBooked, AppointmentCancelled, Service,
        tests::{DAY, booked, booking, cancelled, checked_in, citizen, id, no_show, published},
    };

    /// Every registry-day event: each service, with and without `rescheduled_from`, each
    /// cancellation reason.
    fn day_events() -> Vec<registry_day::Event> {
        let marriage = booking(1, "0930", &[1, 2]);
        let mut events = vec![
            published(&[("0900", 1), ("0930", 100), ("2359", 7)]),
            registry_day::Event::AppointmentBooked(marriage.clone()),
            booked(2, "0900", &[3]),
            cancelled(1),
            registry_day::Event::AppointmentCancelled(AppointmentCancelled {
                appointment: id(2),
                cancelled_on: DAY,
                reason: CancelReason::Rescheduled {
                    to: AppointmentId::parse("210502-20250708-012").expect("valid"),
                },
            }),
            checked_in(3),
            no_show(999),
        ];
        for service in [Service::DivorceApplication, Service::DivorceRegistration] {
            events.push(registry_day::Event::AppointmentBooked(AppointmentBooked {
                service,
                ..marriage.clone()
            }));
        }
        events.push(registry_day::Event::AppointmentBooked(AppointmentBooked {
            rescheduled_from: Some(id(4)),
            ..marriage
        }));
        events
    }

    fn room_events() -> Vec<registry::Event> {
        vec![
            room::opened(date!(2022 - 03 - 01)),
            room::closed(date!(2023 - 01 - 01)),
        ]
    }

    #[test]
    fn every_event_round_trips() {
        assert_codec_round_trips(day_events());
        assert_codec_round_trips(room_events());
    }

    #[test]
    fn event_types_are_messages_in_the_contract() {
        use prost::Message as _;
        let set = prost_types::FileDescriptorSet::decode(minzheng_proto::FILE_DESCRIPTOR_SET)
            .expect("the descriptor set decodes");
        let declared: Vec<String> = set
            .file
            .iter()
            .filter(|f| f.package() == super::super::PACKAGE)
            .flat_map(|f| {
                f.message_type
                    .iter()
                    .map(|m| format!("{}.{}", super::super::PACKAGE, m.name()))
            })
            .collect();
        let used = day_events()
            .iter()
            .map(EventCodec::event_type)
            .chain(room_events().iter().map(EventCodec::event_type))
            .collect::<Vec<_>>();
        for event_type in used {
            assert!(
                declared.iter().any(|d| d == event_type),
                "{event_type} is not declared"
            );
        }
    }

    #[track_caller]
    fn invalid<E: EventCodec + std::fmt::Debug>(event_type: &str, message: &impl Message) {
        let decoded = E::decode(event_type, SCHEMA_VERSION, &message.encode_to_vec());
        assert!(
            matches!(decoded, Err(CodecError::Invalid { .. })),
            "{event_type} decoded to {decoded:?}"
        );
    }

    fn code(digits: &str) -> Option<common::RegionCode> {
        Some(common::RegionCode {
            code: digits.to_owned(),
        })
    }

    fn valid_booking() -> pb::AppointmentBooked {
        pb::AppointmentBooked {
            appointment_id: "210502-20250701-001".into(),
            registry: code("210502000000"),
            day: Some(DAY.into()),
            slot_id: "0930".into(),
            service: pb::AppointmentService::Marriage.into(),
            parties: vec![citizen_ref(&citizen(1)), citizen_ref(&citizen(2))],
            booked_on: Some(date!(2025 - 06 - 20).into()),
            rescheduled_from: String::new(),
        }
    }

    #[test]
    fn stored_bookings_that_break_the_rules_are_invalid() {
        let valid = valid_booking();
        assert!(registry_day::Event::decode(APPOINTMENT_BOOKED, 1, &valid.encode_to_vec()).is_ok());
        let bad = [
            pb::AppointmentBooked {
                appointment_id: "210502-20250701-000".into(),
                ..valid.clone()
            },
            pb::AppointmentBooked {
                registry: code("210503000000"),
                ..valid.clone()
            },
            pb::AppointmentBooked {
                day: Some(date!(2025 - 07 - 02).into()),
                ..valid.clone()
            },
            pb::AppointmentBooked {
                day: None,
                ..valid.clone()
            },
            pb::AppointmentBooked {
                slot_id: "2400".into(),
                ..valid.clone()
            },
            pb::AppointmentBooked {
                service: pb::AppointmentService::Unspecified.into(),
                ..valid.clone()
            },
            pb::AppointmentBooked {
                service: 42,
                ..valid.clone()
            },
            pb::AppointmentBooked {
                service: pb::AppointmentService::CertificateReissue.into(),
                ..valid.clone()
            },
            pb::AppointmentBooked {
                parties: vec![citizen_ref(&citizen(1)), citizen_ref(&citizen(1))],
                ..valid.clone()
            },
            pb::AppointmentBooked {
                parties: vec![
                    citizen_ref(&citizen(1)),
                    common::CitizenRef {
                        citizen_id: "110105194912310021".into(),
                    },
                ],
                ..valid.clone()
            },
            pb::AppointmentBooked {
                booked_on: None,
                ..valid.clone()
            },
            pb::AppointmentBooked {
                rescheduled_from: "yesterday".into(),
                ..valid
            },
        ];
        for message in &bad {
            invalid::<registry_day::Event>(APPOINTMENT_BOOKED, message);
        }
    }

    #[test]
    fn stored_slots_cancellations_and_rooms_that_break_the_rules_are_invalid() {
        let slots = |slots: Vec<pb::Slot>| pb::SlotsPublished {
            registry: code("210502000000"),
            day: Some(DAY.into()),
            slots,
            published_on: Some(date!(2025 - 06 - 01).into()),
        };
        let slot = |id: &str, capacity: u32| pb::Slot {
            slot_id: id.into(),
            capacity,
        };
        for bad in [
            vec![],
            vec![slot("0900", 0)],
            vec![slot("0900", 101)],
            vec![slot("0900", 70_000)],
            vec![slot("9", 5)],
            vec![slot("0900", 5), slot("0900", 6)],
        ] {
            invalid::<registry_day::Event>(SLOTS_PUBLISHED, &slots(bad));
        }
        invalid::<registry_day::Event>(
            SLOTS_PUBLISHED,
            &pb::SlotsPublished {
                registry: code("210500000000"),
                ..slots(vec![slot("0900", 5)])
            },
        );

        let cancellation = pb::AppointmentCancelled {
            appointment_id: "210502-20250701-001".into(),
            cancelled_on: Some(DAY.into()),
            reason: pb::CancellationReason::Rescheduled.into(),
            rescheduled_to: String::new(),
        };
        invalid::<registry_day::Event>(APPOINTMENT_CANCELLED, &cancellation);
        invalid::<registry_day::Event>(
            APPOINTMENT_CANCELLED,
            &pb::AppointmentCancelled {
                reason: pb::CancellationReason::ByApplicant.into(),
                rescheduled_to: "210502-20250701-002".into(),
                ..cancellation.clone()
            },
        );
        invalid::<registry_day::Event>(
            APPOINTMENT_CANCELLED,
            &pb::AppointmentCancelled {
                reason: pb::CancellationReason::Unspecified.into(),
                ..cancellation.clone()
            },
        );
        invalid::<registry_day::Event>(
            APPOINTMENT_CANCELLED,
            &pb::AppointmentCancelled {
                reason: pb::CancellationReason::ByApplicant.into(),
                cancelled_on: None,
                ..cancellation
            },
        );
        invalid::<registry_day::Event>(
            APPOINTMENT_CHECKED_IN,
            &pb::AppointmentCheckedIn {
                appointment_id: String::new(),
                checked_in_on: Some(DAY.into()),
            },
        );
        invalid::<registry_day::Event>(
            APPOINTMENT_NO_SHOW,
            &pb::AppointmentNoShow {
                appointment_id: "210502-20250701-001".into(),
                day: Some(date!(2025 - 07 - 02).into()),
            },
        );
        invalid::<registry::Event>(
            COUNSELLING_ROOM_OPENED,
            &pb::CounsellingRoomOpened {
                registry: code("210502001000"),
                opened_on: Some(DAY.into()),
            },
        );
        invalid::<registry::Event>(
            COUNSELLING_ROOM_CLOSED,
            &pb::CounsellingRoomClosed {
                registry: code("210502000000"),
                closed_on: None,
            },
        );
    }

    #[test]
    fn unknown_types_and_versions_are_reported() {
        assert!(matches!(
            registry_day::Event::decode(COUNSELLING_ROOM_OPENED, 1, &[]),
            Err(CodecError::UnknownType(_))
        ));
        assert!(matches!(
            registry::Event::decode(APPOINTMENT_BOOKED, 1, &[]),
            Err(CodecError::UnknownType(_))
        ));
        assert!(matches!(
            registry_day::Event::decode(APPOINTMENT_BOOKED, 2, &[]),
            Err(CodecError::UnsupportedVersion { .. })
        ));
        assert!(matches!(
            registry_day::Event::decode(APPOINTMENT_BOOKED, 1, &[0xff, 0xff]),
            Err(CodecError::Invalid { .. })
        ));
    }

    #[test]
    fn decode_errors_never_quote_a_citizen_id() {
        let message = pb::AppointmentBooked {
            service: pb::AppointmentService::CertificateReissue.into(),
            ..valid_booking()
        };
        let error = registry_day::Event::decode(APPOINTMENT_BOOKED, 1, &message.encode_to_vec())
            .expect_err("two parties for a reissue");
        let text = error.to_string();
        assert!(!text.contains(citizen(1).expose()), "{text}");
        assert!(!text.contains(citizen(2).expose()), "{text}");
    }
}
