//! The codec of the registration records: the person events (`MaritalStatusChanged`,
//! `PersonDeceased`) and the marriage events (`MarriageRegistered`, `MarriageBackfilled`,
//! `MarriageCertificateReissued`, `MarriageDissolved`, `ArchiveDocumentAttached`).
//!
//! Decoding checks shape: ids, codes, dates, texts, known enum values, two parties. How ids
//! derive from each other (a marriage id from its appointment or its archive reference) is the
//! registration's rule and is not checked again.
//!
//! [`archive_document_to_pb`] and [`archive_document_from_pb`] also serve other records whose
//! documents are attached with `ArchiveDocumentAttached`.

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::Decoder,
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::civilregistry::v1 as pb;

use super::{
    SCHEMA_VERSION, citizen_ref, party_to_pb, two_parties_from_pb, verification_to_pb,
    verifications_from_pb,
};
use crate::{
    ids::{AppointmentId, ArchiveReference, DocumentId, MarriageId, Pseudonym},
    marriage::{self, ArchiveDocument, Cause, Sha256},
    person::{self, Status},
};

minzheng_host::event_codec! {
    person::Event, schema_version = SCHEMA_VERSION;
    StatusChanged(person::StatusChanged) <=> pb::MaritalStatusChanged,
    Deceased(person::Deceased) <=> pb::PersonDeceased,
}

minzheng_host::event_codec! {
    marriage::Event, schema_version = SCHEMA_VERSION;
    Registered(marriage::Registered) <=> pb::MarriageRegistered,
    Backfilled(marriage::Backfilled) <=> pb::MarriageBackfilled,
    CertificateReissued(marriage::CertificateReissued) <=> pb::MarriageCertificateReissued,
    Dissolved(marriage::Dissolved) <=> pb::MarriageDissolved,
    // Shared with the divorce applications (`divorce::DocumentAttached`).
    DocumentAttached(marriage::DocumentAttached) <=> pb::ArchiveDocumentAttached,
}

impl ToMessage for person::StatusChanged {
    type Message = pb::MaritalStatusChanged;

    fn to_message(&self) -> pb::MaritalStatusChanged {
        pb::MaritalStatusChanged {
            citizen: Some(citizen_ref(&self.citizen)),
            status: match self.status {
                Status::Married => pb::MaritalStatus::Married,
                Status::Divorced => pb::MaritalStatus::Divorced,
                Status::Widowed => pb::MaritalStatus::Widowed,
            }
            .into(),
            since: Some(self.since.into()),
            marriage_id: self.marriage.as_str().to_owned(),
            spouse: Some(citizen_ref(&self.spouse)),
            record_id: self.record.clone(),
        }
    }
}

impl FromMessage<pb::MaritalStatusChanged> for person::StatusChanged {
    fn from_message(m: pb::MaritalStatusChanged, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let status = match pb::MaritalStatus::try_from(m.status) {
            Ok(pb::MaritalStatus::Married) => Status::Married,
            Ok(pb::MaritalStatus::Divorced) => Status::Divorced,
            Ok(pb::MaritalStatus::Widowed) => Status::Widowed,
            Ok(pb::MaritalStatus::Unspecified | pb::MaritalStatus::NoRecord) | Err(_) => {
                return Err(d.invalid("status must be married, divorced or widowed"));
            }
        };
        Ok(Self {
            citizen: d.citizen("citizen", &m.citizen)?,
            status,
            since: d.date("since", &m.since)?,
            marriage: marriage_id(d, "marriage_id", &m.marriage_id)?,
            spouse: d.citizen("spouse", &m.spouse)?,
            record: record_id(d, m.record_id)?,
        })
    }
}

impl ToMessage for person::Deceased {
    type Message = pb::PersonDeceased;

    fn to_message(&self) -> pb::PersonDeceased {
        pb::PersonDeceased {
            citizen: Some(citizen_ref(&self.citizen)),
            died_on: Some(self.died_on.into()),
            death_id: self.death.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::PersonDeceased> for person::Deceased {
    fn from_message(m: pb::PersonDeceased, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            citizen: d.citizen("citizen", &m.citizen)?,
            died_on: d.date("died_on", &m.died_on)?,
            death: d.parse("death_id", Pseudonym::parse(&m.death_id))?,
        })
    }
}

impl ToMessage for marriage::Registered {
    type Message = pb::MarriageRegistered;

    fn to_message(&self) -> pb::MarriageRegistered {
        pb::MarriageRegistered {
            marriage_id: self.id.as_str().to_owned(),
            certificate_number: self.certificate_number.clone(),
            registry: Some(self.registry.into()),
            registered_on: Some(self.registered_on.into()),
            parties: self.parties.iter().map(party_to_pb).collect(),
            verifications: self.verifications.iter().map(verification_to_pb).collect(),
            appointment_id: self.appointment.to_string(),
        }
    }
}

impl FromMessage<pb::MarriageRegistered> for marriage::Registered {
    fn from_message(m: pb::MarriageRegistered, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: marriage_id(d, "marriage_id", &m.marriage_id)?,
            certificate_number: certificate(d, "certificate_number", &m.certificate_number)?,
            registry: d.code("registry", &m.registry)?,
            registered_on: d.date("registered_on", &m.registered_on)?,
            parties: two_parties_from_pb(d, &m.parties)?,
            verifications: verifications_from_pb(d, &m.verifications)?,
            appointment: appointment(d, &m.appointment_id)?,
        })
    }
}

impl ToMessage for marriage::Backfilled {
    type Message = pb::MarriageBackfilled;

    fn to_message(&self) -> pb::MarriageBackfilled {
        pb::MarriageBackfilled {
            marriage_id: self.id.as_str().to_owned(),
            certificate_number: self.certificate_number.clone(),
            registry: Some(self.registry.into()),
            registered_on: Some(self.registered_on.into()),
            parties: self.parties.iter().map(party_to_pb).collect(),
            archive_reference: self.archive.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::MarriageBackfilled> for marriage::Backfilled {
    fn from_message(m: pb::MarriageBackfilled, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: marriage_id(d, "marriage_id", &m.marriage_id)?,
            certificate_number: certificate(d, "certificate_number", &m.certificate_number)?,
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

impl ToMessage for marriage::CertificateReissued {
    type Message = pb::MarriageCertificateReissued;

    fn to_message(&self) -> pb::MarriageCertificateReissued {
        pb::MarriageCertificateReissued {
            marriage_id: self.id.as_str().to_owned(),
            certificate_number: self.certificate_number.clone(),
            previous_certificate_number: self.previous_certificate_number.clone(),
            registry: Some(self.registry.into()),
            reissued_on: Some(self.reissued_on.into()),
            verifications: self.verifications.iter().map(verification_to_pb).collect(),
            appointment_id: self.appointment.to_string(),
        }
    }
}

impl FromMessage<pb::MarriageCertificateReissued> for marriage::CertificateReissued {
    fn from_message(
        m: pb::MarriageCertificateReissued,
        d: &Decoder<'_>,
    ) -> Result<Self, CodecError> {
        Ok(Self {
            id: marriage_id(d, "marriage_id", &m.marriage_id)?,
            certificate_number: certificate(d, "certificate_number", &m.certificate_number)?,
            previous_certificate_number: certificate(
                d,
                "previous_certificate_number",
                &m.previous_certificate_number,
            )?,
            registry: d.code("registry", &m.registry)?,
            reissued_on: d.date("reissued_on", &m.reissued_on)?,
            verifications: verifications_from_pb(d, &m.verifications)?,
            appointment: appointment(d, &m.appointment_id)?,
        })
    }
}

impl ToMessage for marriage::Dissolved {
    type Message = pb::MarriageDissolved;

    fn to_message(&self) -> pb::MarriageDissolved {
        pb::MarriageDissolved {
            marriage_id: self.id.as_str().to_owned(),
            dissolved_on: Some(self.dissolved_on.into()),
            cause: match self.cause {
                Cause::Divorce => pb::DissolutionCause::Divorce,
                Cause::Death => pb::DissolutionCause::Death,
            }
            .into(),
            record_id: self.record.clone(),
        }
    }
}

impl FromMessage<pb::MarriageDissolved> for marriage::Dissolved {
    fn from_message(m: pb::MarriageDissolved, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let cause = match pb::DissolutionCause::try_from(m.cause) {
            Ok(pb::DissolutionCause::Divorce) => Cause::Divorce,
            Ok(pb::DissolutionCause::Death) => Cause::Death,
            Ok(pb::DissolutionCause::Unspecified) | Err(_) => {
                return Err(d.invalid("cause must be a divorce or a death"));
            }
        };
        Ok(Self {
            id: marriage_id(d, "marriage_id", &m.marriage_id)?,
            dissolved_on: d.date("dissolved_on", &m.dissolved_on)?,
            cause,
            record: record_id(d, m.record_id)?,
        })
    }
}

impl ToMessage for marriage::DocumentAttached {
    type Message = pb::ArchiveDocumentAttached;

    fn to_message(&self) -> pb::ArchiveDocumentAttached {
        archive_document_to_pb(self.id.as_str(), &self.document)
    }
}

impl FromMessage<pb::ArchiveDocumentAttached> for marriage::DocumentAttached {
    fn from_message(m: pb::ArchiveDocumentAttached, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: marriage_id(d, "record_id", &m.record_id)?,
            document: archive_document_from_pb(d, &m)?,
        })
    }
}

fn marriage_id(d: &Decoder<'_>, field: &str, id: &str) -> Result<MarriageId, CodecError> {
    d.parse(field, MarriageId::parse(id))
}

fn appointment(d: &Decoder<'_>, id: &str) -> Result<AppointmentId, CodecError> {
    d.parse("appointment_id", AppointmentId::parse(id))
}

/// A certificate number as printed: any text.
fn certificate(d: &Decoder<'_>, field: &str, number: &str) -> Result<String, CodecError> {
    d.text(field, number).map(|t| t.into_string())
}

/// A record id (marriage, divorce application or death record): any valid id.
fn record_id(d: &Decoder<'_>, id: String) -> Result<String, CodecError> {
    d.parse("record_id", minzheng_types::id::check(&id))?;
    Ok(id)
}

/// The message of a document attached to the record `record_id`.
pub(crate) fn archive_document_to_pb(
    record_id: &str,
    document: &ArchiveDocument,
) -> pb::ArchiveDocumentAttached {
    pb::ArchiveDocumentAttached {
        record_id: record_id.to_owned(),
        document_id: document.id.as_str().to_owned(),
        sha256: document.sha256.as_str().to_owned(),
        storage_uri: document.storage_uri.as_str().to_owned(),
        media_type: document.media_type.as_str().to_owned(),
        attached_on: Some(document.attached_on.into()),
    }
}

/// The document of an `ArchiveDocumentAttached` (its `record_id` is the caller's to decode).
pub(crate) fn archive_document_from_pb(
    d: &Decoder<'_>,
    m: &pb::ArchiveDocumentAttached,
) -> Result<ArchiveDocument, CodecError> {
    Ok(ArchiveDocument {
        id: d.parse("document_id", DocumentId::parse(&m.document_id))?,
        sha256: d.parse("sha256", Sha256::parse(&m.sha256))?,
        storage_uri: d.text("storage_uri", &m.storage_uri)?,
        media_type: d.text("media_type", &m.media_type)?,
        attached_on: d.date("attached_on", &m.attached_on)?,
    })
}

#[cfg(test)]
mod tests {
    use minzheng_kit::{aggregate::EventCodec, testing::assert_codec_round_trips};
    use minzheng_proto::common::v1 as common;
    use prost::Message;
    use time::macros::date;

    use super::*;

    const MARITAL_STATUS_CHANGED: &str = minzheng_host::message_name!(pb::MaritalStatusChanged);
    const PERSON_DECEASED: &str = minzheng_host::message_name!(pb::PersonDeceased);
    const MARRIAGE_REGISTERED: &str = minzheng_host::message_name!(pb::MarriageRegistered);
    const MARRIAGE_BACKFILLED: &str = minzheng_host::message_name!(pb::MarriageBackfilled);
    const MARRIAGE_CERTIFICATE_REISSUED: &str =
        minzheng_host::message_name!(pb::MarriageCertificateReissued);
    const MARRIAGE_DISSOLVED: &str = minzheng_host::message_name!(pb::MarriageDissolved);
    const ARCHIVE_DOCUMENT_ATTACHED: &str =
        minzheng_host::message_name!(pb::ArchiveDocumentAttached);
    use crate::{marriage::tests as marriages, person::tests as persons};

    fn person_events() -> Vec<person::Event> {
        let mut events = persons::history();
        let person::Event::StatusChanged(changed) = events[0].clone() else {
            unreachable!("the history starts with a marriage")
        };
        for status in Status::ALL {
            events.push(person::Event::StatusChanged(person::StatusChanged {
                status,
                ..changed.clone()
            }));
        }
        events
    }

    fn marriage_events() -> Vec<marriage::Event> {
        let mut events = marriages::history();
        events.push(marriages::backfilled());
        let marriage::Event::Dissolved(dissolved) = marriages::dissolved() else {
            unreachable!("a dissolution")
        };
        events.push(marriage::Event::Dissolved(marriage::Dissolved {
            cause: Cause::Death,
            record: "ab".repeat(16),
            ..dissolved
        }));
        events
    }

    #[test]
    fn every_event_round_trips() {
        assert_codec_round_trips(person_events());
        assert_codec_round_trips(marriage_events());
    }

    #[test]
    fn event_types_are_the_full_names_of_their_messages() {
        let names = person_events()
            .iter()
            .map(|e| e.event_type().to_owned())
            .chain(marriage_events().iter().map(|e| e.event_type().to_owned()))
            .collect::<std::collections::BTreeSet<_>>();
        assert_eq!(
            names,
            [
                "MaritalStatusChanged",
                "PersonDeceased",
                "MarriageRegistered",
                "MarriageBackfilled",
                "MarriageCertificateReissued",
                "MarriageDissolved",
                "ArchiveDocumentAttached",
            ]
            .map(|name| format!("{}.{name}", super::super::PACKAGE))
            .into_iter()
            .collect()
        );
    }

    fn invalid<E: EventCodec + std::fmt::Debug>(event_type: &str, message: &impl Message) {
        let decoded = E::decode(event_type, SCHEMA_VERSION, &message.encode_to_vec());
        assert!(
            matches!(decoded, Err(CodecError::Invalid { .. })),
            "{event_type} decoded to {decoded:?}"
        );
    }

    #[test]
    fn stored_person_events_that_are_malformed_are_invalid() {
        let changed =
            pb::MaritalStatusChanged::decode(persons::history()[0].encode()).expect("encoded");
        for status in [pb::MaritalStatus::Unspecified, pb::MaritalStatus::NoRecord] {
            invalid::<person::Event>(
                MARITAL_STATUS_CHANGED,
                &pb::MaritalStatusChanged {
                    status: status.into(),
                    ..changed.clone()
                },
            );
        }
        invalid::<person::Event>(
            MARITAL_STATUS_CHANGED,
            &pb::MaritalStatusChanged {
                spouse: None,
                ..changed.clone()
            },
        );
        invalid::<person::Event>(
            MARITAL_STATUS_CHANGED,
            &pb::MaritalStatusChanged {
                since: None,
                ..changed.clone()
            },
        );
        invalid::<person::Event>(
            MARITAL_STATUS_CHANGED,
            &pb::MaritalStatusChanged {
                record_id: String::new(),
                ..changed
            },
        );
        invalid::<person::Event>(
            PERSON_DECEASED,
            &pb::PersonDeceased {
                citizen: Some(common::CitizenRef {
                    citizen_id: persons::GROOM.into(),
                }),
                died_on: Some(date!(2050 - 02 - 01).into()),
                death_id: "not-a-pseudonym".into(),
            },
        );
        assert!(matches!(
            person::Event::decode(MARRIAGE_REGISTERED, SCHEMA_VERSION, &[]),
            Err(CodecError::UnknownType(_))
        ));
        assert!(matches!(
            person::Event::decode(PERSON_DECEASED, 2, &[]),
            Err(CodecError::UnsupportedVersion { .. })
        ));
    }

    #[test]
    fn stored_marriage_events_that_are_malformed_are_invalid() {
        let registered =
            pb::MarriageRegistered::decode(marriages::registered().encode()).expect("encoded");
        invalid::<marriage::Event>(
            MARRIAGE_REGISTERED,
            &pb::MarriageRegistered {
                parties: registered.parties[..1].to_vec(),
                ..registered.clone()
            },
        );
        invalid::<marriage::Event>(
            MARRIAGE_REGISTERED,
            &pb::MarriageRegistered {
                marriage_id: String::new(),
                ..registered.clone()
            },
        );
        invalid::<marriage::Event>(
            MARRIAGE_REGISTERED,
            &pb::MarriageRegistered {
                registry: None,
                ..registered.clone()
            },
        );
        let mut bad_check = registered.clone();
        bad_check.verifications[0].kind = pb::VerificationKind::Unspecified.into();
        invalid::<marriage::Event>(MARRIAGE_REGISTERED, &bad_check);

        let backfilled =
            pb::MarriageBackfilled::decode(marriages::backfilled().encode()).expect("encoded");
        invalid::<marriage::Event>(
            MARRIAGE_BACKFILLED,
            &pb::MarriageBackfilled {
                certificate_number: " ".into(),
                ..backfilled
            },
        );

        let reissued = pb::MarriageCertificateReissued::decode(marriages::reissued().encode())
            .expect("encoded");
        invalid::<marriage::Event>(
            MARRIAGE_CERTIFICATE_REISSUED,
            &pb::MarriageCertificateReissued {
                appointment_id: "210502-20270310".into(),
                ..reissued
            },
        );

        let dissolved =
            pb::MarriageDissolved::decode(marriages::dissolved().encode()).expect("encoded");
        invalid::<marriage::Event>(
            MARRIAGE_DISSOLVED,
            &pb::MarriageDissolved {
                cause: pb::DissolutionCause::Unspecified.into(),
                ..dissolved.clone()
            },
        );
        invalid::<marriage::Event>(
            MARRIAGE_DISSOLVED,
            &pb::MarriageDissolved {
                dissolved_on: None,
                ..dissolved
            },
        );

        let attached =
            pb::ArchiveDocumentAttached::decode(marriages::attached().encode()).expect("encoded");
        for sha256 in ["0F".repeat(32), "0f".repeat(31), String::new()] {
            invalid::<marriage::Event>(
                ARCHIVE_DOCUMENT_ATTACHED,
                &pb::ArchiveDocumentAttached {
                    sha256,
                    ..attached.clone()
                },
            );
        }
        invalid::<marriage::Event>(
            ARCHIVE_DOCUMENT_ATTACHED,
            &pb::ArchiveDocumentAttached {
                document_id: String::new(),
                ..attached.clone()
            },
        );
        invalid::<marriage::Event>(
            ARCHIVE_DOCUMENT_ATTACHED,
            &pb::ArchiveDocumentAttached {
                media_type: String::new(),
                ..attached
            },
        );
        invalid::<marriage::Event>(MARRIAGE_REGISTERED, &pb::MarriageRegistered::default());
        assert!(matches!(
            marriage::Event::decode(MARITAL_STATUS_CHANGED, SCHEMA_VERSION, &[]),
            Err(CodecError::UnknownType(_))
        ));
        assert!(matches!(
            marriage::Event::decode(MARRIAGE_DISSOLVED, SCHEMA_VERSION, &[0xff, 0xff]),
            Err(CodecError::Invalid { .. })
        ));
    }

    /// How a marriage id derives from its appointment or archive reference is decided when the
    /// marriage is registered; a stored marriage is read with the id it was given.
    #[test]
    fn stored_marriages_keep_the_ids_they_were_given() {
        let registered =
            pb::MarriageRegistered::decode(marriages::registered().encode()).expect("encoded");
        let other_id = pb::MarriageRegistered {
            marriage_id: "J210502-20250701-004".into(),
            ..registered
        };
        let Ok(marriage::Event::Registered(decoded)) = marriage::Event::decode(
            MARRIAGE_REGISTERED,
            SCHEMA_VERSION,
            &other_id.encode_to_vec(),
        ) else {
            panic!("a registration with another id decodes")
        };
        assert_eq!(decoded.id.as_str(), "J210502-20250701-004");
        let backfilled =
            pb::MarriageBackfilled::decode(marriages::backfilled().encode()).expect("encoded");
        let other_id = pb::MarriageBackfilled {
            marriage_id: "A-BX-1975-0124".into(),
            ..backfilled
        };
        assert!(
            marriage::Event::decode(
                MARRIAGE_BACKFILLED,
                SCHEMA_VERSION,
                &other_id.encode_to_vec()
            )
            .is_ok()
        );
    }
}
