//! The divorce application's events ([`divorce::Event`]) to their messages and back:
//! [`divorce::Applied`] ↔ `DivorceApplied`, [`divorce::Withdrawn`] ↔
//! `DivorceApplicationWithdrawn`, [`divorce::Lapsed`] ↔ `DivorceApplicationLapsed`,
//! [`divorce::Registered`] ↔ `DivorceRegistered`, [`divorce::Backfilled`] ↔
//! `DivorceBackfilled`, [`divorce::DocumentAttached`] ↔ `ArchiveDocumentAttached` (with the
//! application id as `record_id`, shared with the marriage records).
//!
//! Decoding checks shape: an application id is `D` + an appointment id or `DA-` + an id (the
//! archive reference's pseudonym; the reference itself in ids stored before), and every other value parses into its type. What the law and the registration
//! decided is read as recorded, not checked again: the cooling-off period and the registration
//! window (30 and 60 days today, [`divorce::cooling_off_dates`]), the certificate number (`L` +
//! the appointment id today), how the ids derive from each other. An application received under
//! another law stays readable, and is decided on with the dates it was given.

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::Decoder,
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::civilregistry::v1 as pb;

use super::{
    SCHEMA_VERSION, citizen_ref, party_to_pb,
    registrations::{archive_document_from_pb, archive_document_to_pb},
    two_parties_from_pb, verification_to_pb, verifications_from_pb,
};
use crate::{
    divorce,
    ids::{ApplicationId, AppointmentId, ArchiveReference, FormError, MarriageId},
};

minzheng_host::event_codec! {
    divorce::Event, schema_version = SCHEMA_VERSION;
    Applied(divorce::Applied) <=> pb::DivorceApplied,
    Withdrawn(divorce::Withdrawn) <=> pb::DivorceApplicationWithdrawn,
    Lapsed(divorce::Lapsed) <=> pb::DivorceApplicationLapsed,
    Registered(divorce::Registered) <=> pb::DivorceRegistered,
    Backfilled(divorce::Backfilled) <=> pb::DivorceBackfilled,
    // Shared with the marriage records (`marriage::DocumentAttached`).
    DocumentAttached(divorce::DocumentAttached) <=> pb::ArchiveDocumentAttached,
}

impl ToMessage for divorce::Applied {
    type Message = pb::DivorceApplied;

    fn to_message(&self) -> pb::DivorceApplied {
        pb::DivorceApplied {
            application_id: self.id.as_str().to_owned(),
            marriage_id: self.marriage.as_str().to_owned(),
            registry: Some(self.registry.into()),
            applied_on: Some(self.applied_on.into()),
            parties: self.parties.iter().map(party_to_pb).collect(),
            verifications: self.verifications.iter().map(verification_to_pb).collect(),
            cooling_off_ends_on: Some(self.cooling_off_ends_on.into()),
            last_day_to_register: Some(self.last_day_to_register.into()),
            appointment_id: self.appointment.to_string(),
        }
    }
}

impl FromMessage<pb::DivorceApplied> for divorce::Applied {
    fn from_message(m: pb::DivorceApplied, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: application_id(d, "application_id", &m.application_id)?,
            marriage: marriage_id(d, &m.marriage_id)?,
            registry: d.code("registry", &m.registry)?,
            applied_on: d.date("applied_on", &m.applied_on)?,
            parties: two_parties_from_pb(d, &m.parties)?,
            verifications: verifications_from_pb(d, &m.verifications)?,
            cooling_off_ends_on: d.date("cooling_off_ends_on", &m.cooling_off_ends_on)?,
            last_day_to_register: d.date("last_day_to_register", &m.last_day_to_register)?,
            appointment: appointment_id(d, &m.appointment_id)?,
        })
    }
}

impl ToMessage for divorce::Withdrawn {
    type Message = pb::DivorceApplicationWithdrawn;

    fn to_message(&self) -> pb::DivorceApplicationWithdrawn {
        pb::DivorceApplicationWithdrawn {
            application_id: self.id.as_str().to_owned(),
            withdrawn_on: Some(self.withdrawn_on.into()),
            by: Some(citizen_ref(&self.by)),
        }
    }
}

impl FromMessage<pb::DivorceApplicationWithdrawn> for divorce::Withdrawn {
    fn from_message(
        m: pb::DivorceApplicationWithdrawn,
        d: &Decoder<'_>,
    ) -> Result<Self, CodecError> {
        Ok(Self {
            id: application_id(d, "application_id", &m.application_id)?,
            withdrawn_on: d.date("withdrawn_on", &m.withdrawn_on)?,
            by: d.citizen("by", &m.by)?,
        })
    }
}

impl ToMessage for divorce::Lapsed {
    type Message = pb::DivorceApplicationLapsed;

    fn to_message(&self) -> pb::DivorceApplicationLapsed {
        pb::DivorceApplicationLapsed {
            application_id: self.id.as_str().to_owned(),
            lapsed_on: Some(self.lapsed_on.into()),
        }
    }
}

impl FromMessage<pb::DivorceApplicationLapsed> for divorce::Lapsed {
    fn from_message(m: pb::DivorceApplicationLapsed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: application_id(d, "application_id", &m.application_id)?,
            lapsed_on: d.date("lapsed_on", &m.lapsed_on)?,
        })
    }
}

impl ToMessage for divorce::Registered {
    type Message = pb::DivorceRegistered;

    fn to_message(&self) -> pb::DivorceRegistered {
        pb::DivorceRegistered {
            application_id: self.id.as_str().to_owned(),
            marriage_id: self.marriage.as_str().to_owned(),
            certificate_number: self.certificate_number.clone(),
            registry: Some(self.registry.into()),
            registered_on: Some(self.registered_on.into()),
            verifications: self.verifications.iter().map(verification_to_pb).collect(),
            appointment_id: self.appointment.to_string(),
        }
    }
}

impl FromMessage<pb::DivorceRegistered> for divorce::Registered {
    fn from_message(m: pb::DivorceRegistered, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: application_id(d, "application_id", &m.application_id)?,
            certificate_number: certificate(d, &m.certificate_number)?,
            registered_on: d.date("registered_on", &m.registered_on)?,
            marriage: marriage_id(d, &m.marriage_id)?,
            registry: d.code("registry", &m.registry)?,
            verifications: verifications_from_pb(d, &m.verifications)?,
            appointment: appointment_id(d, &m.appointment_id)?,
        })
    }
}

impl ToMessage for divorce::Backfilled {
    type Message = pb::DivorceBackfilled;

    fn to_message(&self) -> pb::DivorceBackfilled {
        pb::DivorceBackfilled {
            application_id: self.id.as_str().to_owned(),
            marriage_id: self.marriage.as_str().to_owned(),
            certificate_number: self.certificate_number.clone(),
            registry: Some(self.registry.into()),
            registered_on: Some(self.registered_on.into()),
            archive_reference: self.archive.as_str().to_owned(),
            parties: self.parties.iter().map(party_to_pb).collect(),
        }
    }
}

impl FromMessage<pb::DivorceBackfilled> for divorce::Backfilled {
    fn from_message(m: pb::DivorceBackfilled, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: application_id(d, "application_id", &m.application_id)?,
            marriage: marriage_id(d, &m.marriage_id)?,
            certificate_number: certificate(d, &m.certificate_number)?,
            registry: d.code("registry", &m.registry)?,
            registered_on: d.date("registered_on", &m.registered_on)?,
            parties: two_parties_from_pb(d, &m.parties)?,
            archive: d.parse(
                "archive_reference",
                ArchiveReference::parse(&m.archive_reference),
            )?,
        })
    }
}

impl ToMessage for divorce::DocumentAttached {
    type Message = pb::ArchiveDocumentAttached;

    fn to_message(&self) -> pb::ArchiveDocumentAttached {
        archive_document_to_pb(self.id.as_str(), &self.document)
    }
}

impl FromMessage<pb::ArchiveDocumentAttached> for divorce::DocumentAttached {
    fn from_message(m: pb::ArchiveDocumentAttached, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: application_id(d, "record_id", &m.record_id)?,
            document: archive_document_from_pb(d, &m)?,
        })
    }
}

/// A divorce application's id: `D` followed by an appointment id, or `DA-` followed by the
/// pseudonym of an archive reference (or, stored before, the reference itself).
fn application_id(d: &Decoder<'_>, field: &str, id: &str) -> Result<ApplicationId, CodecError> {
    if id.starts_with("DA-") {
        return ApplicationId::parse(id)
            .ok()
            .filter(ApplicationId::is_backfilled)
            .ok_or_else(|| d.invalid(format!("{field}: must be \"DA-\" followed by an id")));
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

/// A certificate number as issued or printed: any text.
fn certificate(d: &Decoder<'_>, number: &str) -> Result<String, CodecError> {
    d.text("certificate_number", number)
        .map(|t| t.into_string())
}

#[cfg(test)]
mod tests {
    use minzheng_kit::{aggregate::EventCodec, testing::assert_codec_round_trips};
    use minzheng_proto::common::v1 as common;
    use prost::Message;

    use super::*;

    const DIVORCE_APPLIED: &str = minzheng_host::message_name!(pb::DivorceApplied);
    const DIVORCE_APPLICATION_WITHDRAWN: &str =
        minzheng_host::message_name!(pb::DivorceApplicationWithdrawn);
    const DIVORCE_APPLICATION_LAPSED: &str =
        minzheng_host::message_name!(pb::DivorceApplicationLapsed);
    const DIVORCE_REGISTERED: &str = minzheng_host::message_name!(pb::DivorceRegistered);
    const DIVORCE_BACKFILLED: &str = minzheng_host::message_name!(pb::DivorceBackfilled);
    const ARCHIVE_DOCUMENT_ATTACHED: &str =
        minzheng_host::message_name!(pb::ArchiveDocumentAttached);
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
    fn stored_applications_that_are_malformed_are_invalid() {
        let m: pb::DivorceApplied = encoded(&applied());
        let variants = [
            pb::DivorceApplied {
                last_day_to_register: None,
                ..m.clone()
            },
            pb::DivorceApplied {
                applied_on: None,
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
                    code: "2105030".into(),
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

    /// The cooling-off period is the law's when the application is received; an application
    /// received under another law (45 days, say) is read with the dates it was given, as are
    /// ids and registries the registration related differently.
    #[test]
    fn stored_applications_are_read_with_the_dates_and_ids_they_were_given() {
        let m: pb::DivorceApplied = encoded(&applied());
        let applied_on = crate::divorce::tests::D;
        let under_another_law = pb::DivorceApplied {
            cooling_off_ends_on: Some(day(45).into()),
            last_day_to_register: Some(day(75).into()),
            // Another appointment's application id, at another registry.
            application_id: "D210502-20250701-005".into(),
            registry: Some(common::RegionCode {
                code: "210503000000".into(),
            }),
            ..m
        };
        let Ok(divorce::Event::Applied(read)) = divorce::Event::decode(
            DIVORCE_APPLIED,
            SCHEMA_VERSION,
            &under_another_law.encode_to_vec(),
        ) else {
            panic!("an application received under another law decodes")
        };
        assert_eq!(read.applied_on, applied_on);
        assert_eq!(
            (read.cooling_off_ends_on, read.last_day_to_register),
            (day(45), day(75))
        );
        assert_eq!(read.id.as_str(), "D210502-20250701-005");
        assert_eq!(read.registry.to_string(), "210503000000");

        // A certificate number issued under another numbering, and a back-filled divorce
        // whose id is not the one its archive reference gives today.
        let r: pb::DivorceRegistered = encoded(&registered(day(31)));
        assert!(
            divorce::Event::decode(
                DIVORCE_REGISTERED,
                SCHEMA_VERSION,
                &pb::DivorceRegistered {
                    certificate_number: "L210502-20250801-003".into(),
                    ..r
                }
                .encode_to_vec()
            )
            .is_ok()
        );
        let b: pb::DivorceBackfilled = encoded(&backfilled());
        assert!(
            divorce::Event::decode(
                DIVORCE_BACKFILLED,
                SCHEMA_VERSION,
                &pb::DivorceBackfilled {
                    application_id: "DA-BX-1990-0046".into(),
                    ..b
                }
                .encode_to_vec()
            )
            .is_ok()
        );
    }

    #[test]
    fn stored_withdrawals_lapses_and_registrations_that_are_malformed_are_invalid() {
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
                certificate_number: String::new(),
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
            pb::DivorceBackfilled {
                application_id: "DX-BX-1990-0046".into(),
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
