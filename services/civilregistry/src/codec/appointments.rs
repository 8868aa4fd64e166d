//! The codec of the appointment events ([`registry_day::Event`]) and the counselling-room events
//! ([`registry::Event`]).
//!
//! An appointment id names its registry and day, so the domain events do not repeat them; the
//! messages do (`AppointmentBooked.registry`/`day`, `AppointmentNoShow.day`), and decoding reads
//! them from the id. Decoding checks shape only: ids, slot ids ("HHMM"), capacities that fit the
//! domain's number, known services and reasons, a `rescheduled_to` for a rescheduling, and a
//! day's slots named once each. What booking decides (capacities from 1 to 100, a registry at
//! county level, how many people a service names) is not checked again: a stored fact stays
//! readable when the policy changes.

use std::collections::HashSet;

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::Decoder,
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::civilregistry::v1 as pb;

use super::{SCHEMA_VERSION, citizen_ref};
use crate::{
    ids::AppointmentId,
    registry,
    registry_day::{self, CancelReason, SlotId},
};

minzheng_host::event_codec! {
    registry_day::Event, schema_version = SCHEMA_VERSION;
    SlotsPublished(registry_day::SlotsPublished) <=> pb::SlotsPublished,
    AppointmentBooked(registry_day::AppointmentBooked) <=> pb::AppointmentBooked,
    AppointmentCancelled(registry_day::AppointmentCancelled) <=> pb::AppointmentCancelled,
    AppointmentCheckedIn(registry_day::AppointmentCheckedIn) <=> pb::AppointmentCheckedIn,
    AppointmentNoShow(registry_day::AppointmentNoShow) <=> pb::AppointmentNoShow,
}

minzheng_host::event_codec! {
    registry::Event, schema_version = SCHEMA_VERSION;
    CounsellingRoomOpened(registry::CounsellingRoomOpened) <=> pb::CounsellingRoomOpened,
    CounsellingRoomClosed(registry::CounsellingRoomClosed) <=> pb::CounsellingRoomClosed,
}

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

impl ToMessage for registry_day::SlotsPublished {
    type Message = pb::SlotsPublished;

    fn to_message(&self) -> pb::SlotsPublished {
        pb::SlotsPublished {
            registry: Some(self.registry.into()),
            day: Some(self.day.into()),
            slots: self
                .slots
                .iter()
                .map(|(slot, capacity)| pb::Slot {
                    slot_id: slot.to_string(),
                    capacity: u32::from(*capacity),
                })
                .collect(),
            published_on: Some(self.published_on.into()),
        }
    }
}

impl FromMessage<pb::SlotsPublished> for registry_day::SlotsPublished {
    fn from_message(m: pb::SlotsPublished, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let mut seen = HashSet::new();
        let mut slots = Vec::with_capacity(m.slots.len());
        for slot in &m.slots {
            let id = d.parse("slots.slot_id", SlotId::parse(&slot.slot_id))?;
            let capacity = d.parse("slots.capacity", u16::try_from(slot.capacity))?;
            if !seen.insert(id) {
                return Err(d.invalid(format!("slots: slot {id} is given twice")));
            }
            slots.push((id, capacity));
        }
        Ok(Self {
            registry: d.code("registry", &m.registry)?,
            day: d.date("day", &m.day)?,
            slots,
            published_on: d.date("published_on", &m.published_on)?,
        })
    }
}

impl ToMessage for registry_day::AppointmentBooked {
    type Message = pb::AppointmentBooked;

    fn to_message(&self) -> pb::AppointmentBooked {
        pb::AppointmentBooked {
            appointment_id: self.appointment.to_string(),
            registry: Some(self.appointment.registry().into()),
            day: Some(self.appointment.day().into()),
            slot_id: self.slot.to_string(),
            service: service_to_pb(self.service).into(),
            parties: self.parties.iter().map(citizen_ref).collect(),
            booked_on: Some(self.booked_on.into()),
            rescheduled_from: self
                .rescheduled_from
                .map(|id| id.to_string())
                .unwrap_or_default(),
        }
    }
}

/// The registry and day are those of the appointment id.
impl FromMessage<pb::AppointmentBooked> for registry_day::AppointmentBooked {
    fn from_message(m: pb::AppointmentBooked, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            appointment: appointment(d, "appointment_id", &m.appointment_id)?,
            slot: d.parse("slot_id", SlotId::parse(&m.slot_id))?,
            service: service_from_pb(m.service)
                .ok_or_else(|| d.invalid("service: is not a known appointment service"))?,
            parties: m
                .parties
                .into_iter()
                .map(|p| d.citizen("parties", &Some(p)))
                .collect::<Result<_, _>>()?,
            booked_on: d.date("booked_on", &m.booked_on)?,
            rescheduled_from: (!m.rescheduled_from.is_empty())
                .then(|| appointment(d, "rescheduled_from", &m.rescheduled_from))
                .transpose()?,
        })
    }
}

impl ToMessage for registry_day::AppointmentCancelled {
    type Message = pb::AppointmentCancelled;

    fn to_message(&self) -> pb::AppointmentCancelled {
        let (reason, rescheduled_to) = match self.reason {
            CancelReason::ByApplicant => (pb::CancellationReason::ByApplicant, String::new()),
            CancelReason::Rescheduled { to } => {
                (pb::CancellationReason::Rescheduled, to.to_string())
            }
        };
        pb::AppointmentCancelled {
            appointment_id: self.appointment.to_string(),
            cancelled_on: Some(self.cancelled_on.into()),
            reason: reason.into(),
            rescheduled_to,
        }
    }
}

/// A `rescheduled_to` is read for a rescheduling only.
impl FromMessage<pb::AppointmentCancelled> for registry_day::AppointmentCancelled {
    fn from_message(m: pb::AppointmentCancelled, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let reason = match pb::CancellationReason::try_from(m.reason) {
            Ok(pb::CancellationReason::ByApplicant) => CancelReason::ByApplicant,
            Ok(pb::CancellationReason::Rescheduled) => CancelReason::Rescheduled {
                to: appointment(d, "rescheduled_to", &m.rescheduled_to)?,
            },
            Ok(pb::CancellationReason::Unspecified) | Err(_) => {
                return Err(d.invalid("reason: is not a known cancellation reason"));
            }
        };
        Ok(Self {
            appointment: appointment(d, "appointment_id", &m.appointment_id)?,
            cancelled_on: d.date("cancelled_on", &m.cancelled_on)?,
            reason,
        })
    }
}

impl ToMessage for registry_day::AppointmentCheckedIn {
    type Message = pb::AppointmentCheckedIn;

    fn to_message(&self) -> pb::AppointmentCheckedIn {
        pb::AppointmentCheckedIn {
            appointment_id: self.appointment.to_string(),
            checked_in_on: Some(self.checked_in_on.into()),
        }
    }
}

impl FromMessage<pb::AppointmentCheckedIn> for registry_day::AppointmentCheckedIn {
    fn from_message(m: pb::AppointmentCheckedIn, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            appointment: appointment(d, "appointment_id", &m.appointment_id)?,
            checked_in_on: d.date("checked_in_on", &m.checked_in_on)?,
        })
    }
}

impl ToMessage for registry_day::AppointmentNoShow {
    type Message = pb::AppointmentNoShow;

    fn to_message(&self) -> pb::AppointmentNoShow {
        pb::AppointmentNoShow {
            appointment_id: self.appointment.to_string(),
            day: Some(self.appointment.day().into()),
        }
    }
}

/// The day is that of the appointment id.
impl FromMessage<pb::AppointmentNoShow> for registry_day::AppointmentNoShow {
    fn from_message(m: pb::AppointmentNoShow, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            appointment: appointment(d, "appointment_id", &m.appointment_id)?,
        })
    }
}

impl ToMessage for registry::CounsellingRoomOpened {
    type Message = pb::CounsellingRoomOpened;

    fn to_message(&self) -> pb::CounsellingRoomOpened {
        pb::CounsellingRoomOpened {
            registry: Some(self.registry.into()),
            opened_on: Some(self.opened_on.into()),
        }
    }
}

impl FromMessage<pb::CounsellingRoomOpened> for registry::CounsellingRoomOpened {
    fn from_message(m: pb::CounsellingRoomOpened, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            registry: d.code("registry", &m.registry)?,
            opened_on: d.date("opened_on", &m.opened_on)?,
        })
    }
}

impl ToMessage for registry::CounsellingRoomClosed {
    type Message = pb::CounsellingRoomClosed;

    fn to_message(&self) -> pb::CounsellingRoomClosed {
        pb::CounsellingRoomClosed {
            registry: Some(self.registry.into()),
            closed_on: Some(self.closed_on.into()),
        }
    }
}

impl FromMessage<pb::CounsellingRoomClosed> for registry::CounsellingRoomClosed {
    fn from_message(m: pb::CounsellingRoomClosed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            registry: d.code("registry", &m.registry)?,
            closed_on: d.date("closed_on", &m.closed_on)?,
        })
    }
}

fn appointment(d: &Decoder<'_>, field: &str, id: &str) -> Result<AppointmentId, CodecError> {
    d.parse(field, AppointmentId::parse(id))
}

#[cfg(test)]
mod tests {
    use minzheng_kit::{aggregate::EventCodec, testing::assert_codec_round_trips};
    use minzheng_proto::common::v1 as common;
    use prost::Message;
    use time::macros::date;

    use super::*;
    use crate::registry::tests as room;
    use crate::registry_day::{
        AppointmentBooked, AppointmentCancelled, Service,
        tests::{DAY, booked, booking, cancelled, checked_in, citizen, id, no_show, published},
    };

    const SLOTS_PUBLISHED: &str = minzheng_host::message_name!(pb::SlotsPublished);
    const APPOINTMENT_BOOKED: &str = minzheng_host::message_name!(pb::AppointmentBooked);
    const APPOINTMENT_CANCELLED: &str = minzheng_host::message_name!(pb::AppointmentCancelled);
    const APPOINTMENT_CHECKED_IN: &str = minzheng_host::message_name!(pb::AppointmentCheckedIn);
    const APPOINTMENT_NO_SHOW: &str = minzheng_host::message_name!(pb::AppointmentNoShow);
    const COUNSELLING_ROOM_OPENED: &str = minzheng_host::message_name!(pb::CounsellingRoomOpened);
    const COUNSELLING_ROOM_CLOSED: &str = minzheng_host::message_name!(pb::CounsellingRoomClosed);

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

    /// The stored types are the public contract and the history already stored: they must stay
    /// byte for byte what they are.
    #[test]
    fn stored_event_types_never_change() {
        let used = day_events()
            .iter()
            .map(EventCodec::event_type)
            .chain(room_events().iter().map(EventCodec::event_type))
            .collect::<std::collections::BTreeSet<_>>();
        assert_eq!(
            used,
            [
                "minzheng.civilregistry.v1.SlotsPublished",
                "minzheng.civilregistry.v1.AppointmentBooked",
                "minzheng.civilregistry.v1.AppointmentCancelled",
                "minzheng.civilregistry.v1.AppointmentCheckedIn",
                "minzheng.civilregistry.v1.AppointmentNoShow",
                "minzheng.civilregistry.v1.CounsellingRoomOpened",
                "minzheng.civilregistry.v1.CounsellingRoomClosed",
            ]
            .into_iter()
            .collect()
        );
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

    #[track_caller]
    fn decodes<E: EventCodec + std::fmt::Debug>(event_type: &str, message: &impl Message) -> E {
        E::decode(event_type, SCHEMA_VERSION, &message.encode_to_vec())
            .unwrap_or_else(|e| panic!("{event_type} does not decode: {e}"))
    }

    #[test]
    fn stored_bookings_that_are_malformed_are_invalid() {
        let valid = valid_booking();
        assert!(registry_day::Event::decode(APPOINTMENT_BOOKED, 1, &valid.encode_to_vec()).is_ok());
        let bad = [
            pb::AppointmentBooked {
                appointment_id: "210502-20250701-000".into(),
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

    /// What booking decides (how many people a service names, that they differ) is the rule of
    /// booking; the registry and day are those of the appointment id.
    #[test]
    fn stored_bookings_are_read_as_booked_whatever_the_rules_say_now() {
        let valid = valid_booking();
        let read_as_booked = [
            pb::AppointmentBooked {
                service: pb::AppointmentService::CertificateReissue.into(),
                ..valid.clone()
            },
            pb::AppointmentBooked {
                parties: vec![citizen_ref(&citizen(1)), citizen_ref(&citizen(1))],
                ..valid.clone()
            },
            pb::AppointmentBooked {
                registry: code("210503000000"),
                day: None,
                ..valid.clone()
            },
        ];
        for message in &read_as_booked {
            let registry_day::Event::AppointmentBooked(booked) =
                decodes::<registry_day::Event>(APPOINTMENT_BOOKED, message)
            else {
                unreachable!("a booking")
            };
            assert_eq!(booked.appointment.to_string(), valid.appointment_id);
            assert_eq!(booked.parties.len(), message.parties.len());
        }
    }

    fn slots(slots: Vec<pb::Slot>) -> pb::SlotsPublished {
        pb::SlotsPublished {
            registry: code("210502000000"),
            day: Some(DAY.into()),
            slots,
            published_on: Some(date!(2025 - 06 - 01).into()),
        }
    }

    fn slot(id: &str, capacity: u32) -> pb::Slot {
        pb::Slot {
            slot_id: id.into(),
            capacity,
        }
    }

    #[test]
    fn stored_slots_cancellations_and_rooms_that_are_malformed_are_invalid() {
        for bad in [
            vec![slot("0900", 70_000)],
            vec![slot("9", 5)],
            vec![slot("0900", 5), slot("0900", 6)],
        ] {
            invalid::<registry_day::Event>(SLOTS_PUBLISHED, &slots(bad));
        }
        invalid::<registry_day::Event>(
            SLOTS_PUBLISHED,
            &pb::SlotsPublished {
                registry: None,
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
                appointment_id: "210502-20250701".into(),
                day: Some(DAY.into()),
            },
        );
        invalid::<registry::Event>(
            COUNSELLING_ROOM_OPENED,
            &pb::CounsellingRoomOpened {
                registry: code("2105"),
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

    /// Capacities from 1 to 100 and registries at county level are what publishing slots and
    /// opening rooms decide today; slots published and rooms opened under another policy stay
    /// as they were recorded.
    #[test]
    fn stored_slots_and_rooms_are_read_whatever_the_policy_says_now() {
        for capacities in [vec![], vec![slot("0900", 0)], vec![slot("0900", 150)]] {
            let registry_day::Event::SlotsPublished(published) =
                decodes::<registry_day::Event>(SLOTS_PUBLISHED, &slots(capacities.clone()))
            else {
                unreachable!("slots")
            };
            assert_eq!(
                published
                    .slots
                    .iter()
                    .map(|(_, c)| u32::from(*c))
                    .collect::<Vec<_>>(),
                capacities.iter().map(|s| s.capacity).collect::<Vec<_>>()
            );
        }
        let city = decodes::<registry_day::Event>(
            SLOTS_PUBLISHED,
            &pb::SlotsPublished {
                registry: code("210500000000"),
                ..slots(vec![slot("0900", 5)])
            },
        );
        assert!(
            matches!(city, registry_day::Event::SlotsPublished(s) if s.registry.to_string() == "210500000000")
        );
        // A stray rescheduled_to beside another reason is not read.
        let cancelled = decodes::<registry_day::Event>(
            APPOINTMENT_CANCELLED,
            &pb::AppointmentCancelled {
                appointment_id: "210502-20250701-001".into(),
                cancelled_on: Some(DAY.into()),
                reason: pb::CancellationReason::ByApplicant.into(),
                rescheduled_to: "210502-20250701-002".into(),
            },
        );
        assert!(matches!(
            cancelled,
            registry_day::Event::AppointmentCancelled(c) if c.reason == CancelReason::ByApplicant
        ));
        // The day of a no-show is the appointment's.
        let no_show = decodes::<registry_day::Event>(
            APPOINTMENT_NO_SHOW,
            &pb::AppointmentNoShow {
                appointment_id: "210502-20250701-001".into(),
                day: Some(date!(2025 - 07 - 02).into()),
            },
        );
        assert_eq!(
            no_show,
            registry_day::Event::AppointmentNoShow(registry_day::AppointmentNoShow {
                appointment: id(1)
            })
        );
        let township_room = decodes::<registry::Event>(
            COUNSELLING_ROOM_OPENED,
            &pb::CounsellingRoomOpened {
                registry: code("210502001000"),
                opened_on: Some(DAY.into()),
            },
        );
        assert!(matches!(
            township_room,
            registry::Event::CounsellingRoomOpened(_)
        ));
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
        // The second party's number with its check character changed.
        let second = citizen(2).expose().to_owned();
        let garbled = format!(
            "{}{}",
            &second[..17],
            if second.ends_with('0') { '1' } else { '0' }
        );
        let message = pb::AppointmentBooked {
            parties: vec![
                citizen_ref(&citizen(1)),
                common::CitizenRef {
                    citizen_id: garbled.clone(),
                },
            ],
            ..valid_booking()
        };
        let error = registry_day::Event::decode(APPOINTMENT_BOOKED, 1, &message.encode_to_vec())
            .expect_err("a wrong check character");
        let text = error.to_string();
        assert!(text.contains("parties"), "{text}");
        assert!(!text.contains(citizen(1).expose()), "{text}");
        assert!(!text.contains(&garbled), "{text}");
    }
}
