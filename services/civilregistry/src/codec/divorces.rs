//! The divorce application's events ([`divorce::Event`]) to their messages and back:
//! [`divorce::Applied`] ↔ `DivorceApplied`, [`divorce::Withdrawn`] ↔
//! `DivorceApplicationWithdrawn`, [`divorce::Lapsed`] ↔ `DivorceApplicationLapsed`,
//! [`divorce::Registered`] ↔ `DivorceRegistered`, [`divorce::Backfilled`] ↔
//! `DivorceBackfilled`, [`divorce::DocumentAttached`] ↔ `ArchiveDocumentAttached` (with the
//! application id as `record_id`, shared with the marriage records).
//!
//! Decoding checks again what follows from the ids and the law, which every reader relies on:
//! the application id is `D` + an appointment id (and, in `DivorceApplied`, that of its
//! appointment, at whose registry it was received), or `DA-` + an archive reference for a
//! divorce back-filled from the archive (in `DivorceBackfilled`, its own reference); the
//! certificate number is `L` + the registration's appointment id (as printed, not empty, for a
//! back-filled one); and the cooling-off period and the registration window are
//! those of [`divorce::cooling_off_dates`]. The rules only commands check (appointment days, the
//! order of the dates) are not checked again, so that changing them never makes stored history
//! unreadable.

use bytes::Bytes;
use minzheng_host::decode::Decoder;
use minzheng_kit::aggregate::{CodecError, EventCodec};
use minzheng_proto::civilregistry::v1 as pb;
use prost::Message;

use super::{
    SCHEMA_VERSION, citizen_ref, party_to_pb,
    registrations::{archive_document_from_pb, archive_document_to_pb},
    two_parties_from_pb, verification_to_pb, verifications_from_pb,
};
use crate::{
    divorce,
    ids::{self, ApplicationId, AppointmentId, ArchiveReference, FormError, MarriageId},
};

/// Full protobuf names of the event messages, which are the stored event types.
pub mod event_types {
    pub const DIVORCE_APPLIED: &str = "minzheng.civilregistry.v1.DivorceApplied";
    pub const DIVORCE_APPLICATION_WITHDRAWN: &str =
        "minzheng.civilregistry.v1.DivorceApplicationWithdrawn";
    pub const DIVORCE_APPLICATION_LAPSED: &str =
        "minzheng.civilregistry.v1.DivorceApplicationLapsed";
    pub const DIVORCE_REGISTERED: &str = "minzheng.civilregistry.v1.DivorceRegistered";
    pub const DIVORCE_BACKFILLED: &str = "minzheng.civilregistry.v1.DivorceBackfilled";
    /// Shared with the marriage records.
    pub use crate::codec::registrations::event_types::ARCHIVE_DOCUMENT_ATTACHED;
}

use event_types::*;

impl EventCodec for divorce::Event {
    fn event_type(&self) -> &'static str {
        match self {
            divorce::Event::Applied(_) => DIVORCE_APPLIED,
            divorce::Event::Withdrawn(_) => DIVORCE_APPLICATION_WITHDRAWN,
            divorce::Event::Lapsed(_) => DIVORCE_APPLICATION_LAPSED,
            divorce::Event::Registered(_) => DIVORCE_REGISTERED,
            divorce::Event::Backfilled(_) => DIVORCE_BACKFILLED,
            divorce::Event::DocumentAttached(_) => ARCHIVE_DOCUMENT_ATTACHED,
        }
    }

    fn schema_version(&self) -> u32 {
        SCHEMA_VERSION
    }

    fn encode(&self) -> Bytes {
        let bytes = match self {
            divorce::Event::Applied(e) => pb::DivorceApplied {
                application_id: e.id.as_str().to_owned(),
                marriage_id: e.marriage.as_str().to_owned(),
                registry: Some(e.registry.into()),
                applied_on: Some(e.applied_on.into()),
                parties: e.parties.iter().map(party_to_pb).collect(),
                verifications: e.verifications.iter().map(verification_to_pb).collect(),
                cooling_off_ends_on: Some(e.cooling_off_ends_on.into()),
                last_day_to_register: Some(e.last_day_to_register.into()),
                appointment_id: e.appointment.to_string(),
            }
            .encode_to_vec(),
            divorce::Event::Withdrawn(e) => pb::DivorceApplicationWithdrawn {
                application_id: e.id.as_str().to_owned(),
                withdrawn_on: Some(e.withdrawn_on.into()),
                by: Some(citizen_ref(&e.by)),
            }
            .encode_to_vec(),
            divorce::Event::Lapsed(e) => pb::DivorceApplicationLapsed {
                application_id: e.id.as_str().to_owned(),
                lapsed_on: Some(e.lapsed_on.into()),
            }
            .encode_to_vec(),
            divorce::Event::Registered(e) => pb::DivorceRegistered {
                application_id: e.id.as_str().to_owned(),
                marriage_id: e.marriage.as_str().to_owned(),
                certificate_number: e.certificate_number.clone(),
                registry: Some(e.registry.into()),
                registered_on: Some(e.registered_on.into()),
                verifications: e.verifications.iter().map(verification_to_pb).collect(),
                appointment_id: e.appointment.to_string(),
            }
            .encode_to_vec(),
            divorce::Event::Backfilled(e) => pb::DivorceBackfilled {
                application_id: e.id.as_str().to_owned(),
                marriage_id: e.marriage.as_str().to_owned(),
                certificate_number: e.certificate_number.clone(),
                registry: Some(e.registry.into()),
                registered_on: Some(e.registered_on.into()),
                archive_reference: e.archive.as_str().to_owned(),
                parties: e.parties.iter().map(party_to_pb).collect(),
            }
            .encode_to_vec(),
            divorce::Event::DocumentAttached(e) => {
                archive_document_to_pb(e.id.as_str(), &e.document).encode_to_vec()
            }
        };
        Bytes::from(bytes)
    }

    fn decode(event_type: &str, schema_version: u32, payload: &[u8]) -> Result<Self, CodecError> {
        let d = Decoder::new(event_type, schema_version, SCHEMA_VERSION)?;
        match event_type {
            DIVORCE_APPLIED => {
                let m: pb::DivorceApplied = d.message(payload)?;
                let id = application_id(&d, "application_id", &m.application_id)?;
                let appointment = appointment_id(&d, &m.appointment_id)?;
                if id != ApplicationId::received(&appointment) {
                    return Err(d.invalid("application_id is not that of the appointment"));
                }
                let registry = d.code("registry", &m.registry)?;
                if registry != appointment.registry() {
                    return Err(d.invalid("registry is not the appointment's"));
                }
                let applied_on = d.date("applied_on", &m.applied_on)?;
                let cooling_off_ends_on = d.date("cooling_off_ends_on", &m.cooling_off_ends_on)?;
                let last_day_to_register =
                    d.date("last_day_to_register", &m.last_day_to_register)?;
                if (cooling_off_ends_on, last_day_to_register)
                    != divorce::cooling_off_dates(applied_on)
                {
                    return Err(d.invalid(
                        "cooling_off_ends_on and last_day_to_register must be 30 and 60 days \
                         after applied_on",
                    ));
                }
                Ok(divorce::Event::Applied(divorce::Applied {
                    id,
                    marriage: marriage_id(&d, &m.marriage_id)?,
                    registry,
                    applied_on,
                    parties: two_parties_from_pb(&d, &m.parties)?,
                    verifications: verifications_from_pb(&d, &m.verifications)?,
                    cooling_off_ends_on,
                    last_day_to_register,
                    appointment,
                }))
            }
            DIVORCE_APPLICATION_WITHDRAWN => {
                let m: pb::DivorceApplicationWithdrawn = d.message(payload)?;
                Ok(divorce::Event::Withdrawn(divorce::Withdrawn {
                    id: application_id(&d, "application_id", &m.application_id)?,
                    withdrawn_on: d.date("withdrawn_on", &m.withdrawn_on)?,
                    by: d.citizen("by", &m.by)?,
                }))
            }
            DIVORCE_APPLICATION_LAPSED => {
                let m: pb::DivorceApplicationLapsed = d.message(payload)?;
                Ok(divorce::Event::Lapsed(divorce::Lapsed {
                    id: application_id(&d, "application_id", &m.application_id)?,
                    lapsed_on: d.date("lapsed_on", &m.lapsed_on)?,
                }))
            }
            DIVORCE_REGISTERED => {
                let m: pb::DivorceRegistered = d.message(payload)?;
                let appointment = appointment_id(&d, &m.appointment_id)?;
                if m.certificate_number != ids::divorce_certificate_number(&appointment) {
                    return Err(d.invalid("certificate_number is not that of the appointment"));
                }
                Ok(divorce::Event::Registered(divorce::Registered {
                    id: application_id(&d, "application_id", &m.application_id)?,
                    certificate_number: m.certificate_number,
                    registered_on: d.date("registered_on", &m.registered_on)?,
                    marriage: marriage_id(&d, &m.marriage_id)?,
                    registry: d.code("registry", &m.registry)?,
                    verifications: verifications_from_pb(&d, &m.verifications)?,
                    appointment,
                }))
            }
            DIVORCE_BACKFILLED => {
                let m: pb::DivorceBackfilled = d.message(payload)?;
                let archive = d.parse(
                    "archive_reference",
                    ArchiveReference::parse(&m.archive_reference),
                )?;
                let id = application_id(&d, "application_id", &m.application_id)?;
                if ApplicationId::backfilled(&archive).ok().as_ref() != Some(&id) {
                    return Err(d.invalid("application_id is not the one of its archive reference"));
                }
                Ok(divorce::Event::Backfilled(divorce::Backfilled {
                    id,
                    marriage: marriage_id(&d, &m.marriage_id)?,
                    certificate_number: d
                        .text("certificate_number", &m.certificate_number)?
                        .into_string(),
                    registry: d.code("registry", &m.registry)?,
                    registered_on: d.date("registered_on", &m.registered_on)?,
                    parties: two_parties_from_pb(&d, &m.parties)?,
                    archive,
                }))
            }
            ARCHIVE_DOCUMENT_ATTACHED => {
                let m: pb::ArchiveDocumentAttached = d.message(payload)?;
                Ok(divorce::Event::DocumentAttached(
                    divorce::DocumentAttached {
                        id: application_id(&d, "record_id", &m.record_id)?,
                        document: archive_document_from_pb(&d, &m)?,
                    },
                ))
            }
            other => Err(CodecError::UnknownType(other.to_owned())),
        }
    }
}

/// A divorce application's id: `D` followed by an appointment id, or `DA-` followed by an
/// archive reference.
fn application_id(d: &Decoder<'_>, field: &str, id: &str) -> Result<ApplicationId, CodecError> {
    if id.starts_with("DA-") {
        return ApplicationId::parse(id)
            .ok()
            .filter(|id| id.archive_reference().is_some())
            .ok_or_else(|| {
                d.invalid(format!(
                    "{field}: must be \"DA-\" followed by an archive reference"
                ))
            });
    }
    id.strip_prefix('D')
        .and_then(|appointment| AppointmentId::parse(appointment).ok())
        .map(|appointment| ApplicationId::received(&appointment))
        .ok_or_else(|| d.invalid(format!("{field}: {}", FormError::Prefixed { prefix: "D" })))
}

fn appointment_id(d: &Decoder<'_>, id: &str) -> Result<AppointmentId, CodecError> {
    d.parse("appointment_id", AppointmentId::parse(id))
}

fn marriage_id(d: &Decoder<'_>, id: &str) -> Result<MarriageId, CodecError> {
    d.parse("marriage_id", MarriageId::parse(id))
}

#[cfg(test)]
mod tests {
    use minzheng_kit::testing::assert_codec_round_trips;
    use minzheng_proto::common::v1 as common;

    use super::*;
    use crate::divorce::tests::{
        D, applied, attached, backfilled, backfilled_id, day, document, husband, lapsed,
        registered, wife, withdrawn,
    };

    /// One event of every kind.
    fn events() -> Vec<divorce::Event> {
        vec![
            applied(),
            withdrawn(wife(), day(29)),
            withdrawn(husband(), D),
            lapsed(),
            registered(day(31)),
            backfilled(),
            attached(document("p1", 0xaa, day(2))),
            divorce::Event::DocumentAttached(divorce::DocumentAttached {
                id: backfilled_id(),
                document: document("p2", 0xbb, day(3)),
            }),
        ]
    }

    #[test]
    fn every_event_round_trips() {
        assert_codec_round_trips(events());
    }

    #[test]
    fn event_types_are_the_full_names_of_their_messages() {
        let names = events()
            .iter()
            .map(|e| e.event_type().to_owned())
            .collect::<std::collections::BTreeSet<_>>();
        assert_eq!(
            names,
            [
                "DivorceApplied",
                "DivorceApplicationWithdrawn",
                "DivorceApplicationLapsed",
                "DivorceRegistered",
                "DivorceBackfilled",
                "ArchiveDocumentAttached",
            ]
            .map(|name| format!("{}.{name}", super::super::PACKAGE))
            .into_iter()
            .collect()
        );
    }

    fn invalid(event_type: &str, message: &impl Message) {
        let decoded = divorce::Event::decode(event_type, SCHEMA_VERSION, &message.encode_to_vec());
        assert!(
            matches!(decoded, Err(CodecError::Invalid { .. })),
            "{event_type} decoded to {decoded:?}"
        );
    }

    fn encoded<M: Message + Default>(event: &divorce::Event) -> M {
        M::decode(event.encode()).expect("encoded")
    }

    #[test]
    fn stored_applications_that_break_the_rules_are_invalid() {
        let m: pb::DivorceApplied = encoded(&applied());
        let variants = [
            pb::DivorceApplied {
                cooling_off_ends_on: Some(day(29).into()),
                ..m.clone()
            },
            pb::DivorceApplied {
                last_day_to_register: Some(day(61).into()),
                ..m.clone()
            },
            pb::DivorceApplied {
                last_day_to_register: None,
                ..m.clone()
            },
            pb::DivorceApplied {
                applied_on: None,
                ..m.clone()
            },
            // Another appointment's application.
            pb::DivorceApplied {
                application_id: "D210502-20250701-005".into(),
                ..m.clone()
            },
            pb::DivorceApplied {
                application_id: "J210502-20250701-004".into(),
                ..m.clone()
            },
            pb::DivorceApplied {
                appointment_id: String::new(),
                ..m.clone()
            },
            pb::DivorceApplied {
                registry: Some(common::RegionCode {
                    code: "210503000000".into(),
                }),
                ..m.clone()
            },
            pb::DivorceApplied {
                marriage_id: String::new(),
                ..m.clone()
            },
            pb::DivorceApplied {
                parties: m.parties[..1].to_vec(),
                ..m.clone()
            },
            pb::DivorceApplied {
                verifications: vec![pb::Verification {
                    kind: pb::VerificationKind::Unspecified.into(),
                    ..m.verifications[0].clone()
                }],
                ..m.clone()
            },
        ];
        for variant in &variants {
            invalid(DIVORCE_APPLIED, variant);
        }
        // The unchanged message decodes: the variants fail for their change alone.
        assert!(
            divorce::Event::decode(DIVORCE_APPLIED, SCHEMA_VERSION, &m.encode_to_vec()).is_ok()
        );
    }

    #[test]
    fn stored_withdrawals_lapses_and_registrations_that_break_the_rules_are_invalid() {
        let w: pb::DivorceApplicationWithdrawn = encoded(&withdrawn(wife(), day(29)));
        invalid(
            DIVORCE_APPLICATION_WITHDRAWN,
            &pb::DivorceApplicationWithdrawn {
                by: None,
                ..w.clone()
            },
        );
        invalid(
            DIVORCE_APPLICATION_WITHDRAWN,
            &pb::DivorceApplicationWithdrawn {
                withdrawn_on: None,
                ..w.clone()
            },
        );
        invalid(
            DIVORCE_APPLICATION_WITHDRAWN,
            &pb::DivorceApplicationWithdrawn {
                application_id: "D210502-20250701".into(),
                ..w
            },
        );
        invalid(
            DIVORCE_APPLICATION_LAPSED,
            &pb::DivorceApplicationLapsed {
                application_id: "D210502-20250701-004".into(),
                lapsed_on: None,
            },
        );
        let r: pb::DivorceRegistered = encoded(&registered(day(31)));
        invalid(
            DIVORCE_REGISTERED,
            &pb::DivorceRegistered {
                certificate_number: "L210502-20250801-003".into(),
                ..r.clone()
            },
        );
        invalid(
            DIVORCE_REGISTERED,
            &pb::DivorceRegistered {
                registered_on: None,
                ..r.clone()
            },
        );
        invalid(
            DIVORCE_REGISTERED,
            &pb::DivorceRegistered {
                registry: None,
                ..r
            },
        );
        let a: pb::ArchiveDocumentAttached = encoded(&attached(document("p1", 0xaa, day(2))));
        invalid(
            ARCHIVE_DOCUMENT_ATTACHED,
            &pb::ArchiveDocumentAttached {
                record_id: "J210502-20250701-004".into(),
                ..a.clone()
            },
        );
        invalid(
            ARCHIVE_DOCUMENT_ATTACHED,
            &pb::ArchiveDocumentAttached {
                sha256: "A".repeat(64),
                ..a
            },
        );
        let b: pb::DivorceBackfilled = encoded(&backfilled());
        for variant in [
            // Not the id of its archive reference.
            pb::DivorceBackfilled {
                application_id: "DA-BX-1990-0046".into(),
                ..b.clone()
            },
            pb::DivorceBackfilled {
                application_id: "D210502-20250701-004".into(),
                ..b.clone()
            },
            pb::DivorceBackfilled {
                archive_reference: String::new(),
                ..b.clone()
            },
            pb::DivorceBackfilled {
                certificate_number: String::new(),
                ..b.clone()
            },
            pb::DivorceBackfilled {
                marriage_id: String::new(),
                ..b.clone()
            },
            pb::DivorceBackfilled {
                registered_on: None,
                ..b.clone()
            },
            pb::DivorceBackfilled {
                parties: b.parties[..1].to_vec(),
                ..b.clone()
            },
        ] {
            invalid(DIVORCE_BACKFILLED, &variant);
        }
        assert!(
            divorce::Event::decode(DIVORCE_BACKFILLED, SCHEMA_VERSION, &b.encode_to_vec()).is_ok()
        );
        invalid(
            ARCHIVE_DOCUMENT_ATTACHED,
            &pb::ArchiveDocumentAttached {
                record_id: "DA-".into(),
                ..encoded(&attached(document("p1", 0xaa, day(2))))
            },
        );
        assert!(matches!(
            divorce::Event::decode(
                "minzheng.civilregistry.v1.MarriageRegistered",
                SCHEMA_VERSION,
                &[]
            ),
            Err(CodecError::UnknownType(_))
        ));
        assert!(matches!(
            divorce::Event::decode(DIVORCE_APPLIED, SCHEMA_VERSION + 1, &[]),
            Err(CodecError::UnsupportedVersion { .. })
        ));
    }
}
