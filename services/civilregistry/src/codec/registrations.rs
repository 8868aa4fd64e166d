//! The codec of the registration records: the person events (`MaritalStatusChanged`,
//! `PersonDeceased`) and the marriage events (`MarriageRegistered`, `MarriageBackfilled`,
//! `MarriageCertificateReissued`, `MarriageDissolved`, `ArchiveDocumentAttached`).
//!
//! [`archive_document_to_pb`] and [`archive_document_from_pb`] also serve other records whose
//! documents are attached with `ArchiveDocumentAttached`.

use bytes::Bytes;
use minzheng_host::decode::Decoder;
use minzheng_kit::aggregate::{CodecError, EventCodec};
use minzheng_proto::civilregistry::v1 as pb;
use prost::Message;

use super::{
    SCHEMA_VERSION, citizen_ref, party_to_pb, two_parties_from_pb, verification_to_pb,
    verifications_from_pb,
};
use crate::{
    ids::{AppointmentId, ArchiveReference, DocumentId, MarriageId, Pseudonym},
    marriage::{self, ArchiveDocument, Cause, Sha256},
    person::{self, Status},
};

/// Full protobuf names of the event messages, which are the stored event types.
pub mod event_types {
    pub const MARITAL_STATUS_CHANGED: &str = "minzheng.civilregistry.v1.MaritalStatusChanged";
    pub const PERSON_DECEASED: &str = "minzheng.civilregistry.v1.PersonDeceased";
    pub const MARRIAGE_REGISTERED: &str = "minzheng.civilregistry.v1.MarriageRegistered";
    pub const MARRIAGE_BACKFILLED: &str = "minzheng.civilregistry.v1.MarriageBackfilled";
    pub const MARRIAGE_CERTIFICATE_REISSUED: &str =
        "minzheng.civilregistry.v1.MarriageCertificateReissued";
    pub const MARRIAGE_DISSOLVED: &str = "minzheng.civilregistry.v1.MarriageDissolved";
    pub const ARCHIVE_DOCUMENT_ATTACHED: &str = "minzheng.civilregistry.v1.ArchiveDocumentAttached";
}

use event_types::*;

impl EventCodec for person::Event {
    fn event_type(&self) -> &'static str {
        match self {
            person::Event::StatusChanged(_) => MARITAL_STATUS_CHANGED,
            person::Event::Deceased(_) => PERSON_DECEASED,
        }
    }

    fn schema_version(&self) -> u32 {
        SCHEMA_VERSION
    }

    fn encode(&self) -> Bytes {
        let bytes = match self {
            person::Event::StatusChanged(e) => pb::MaritalStatusChanged {
                citizen: Some(citizen_ref(&e.citizen)),
                status: match e.status {
                    Status::Married => pb::MaritalStatus::Married,
                    Status::Divorced => pb::MaritalStatus::Divorced,
                    Status::Widowed => pb::MaritalStatus::Widowed,
                }
                .into(),
                since: Some(e.since.into()),
                marriage_id: e.marriage.as_str().to_owned(),
                spouse: Some(citizen_ref(&e.spouse)),
                record_id: e.record.clone(),
            }
            .encode_to_vec(),
            person::Event::Deceased(e) => pb::PersonDeceased {
                citizen: Some(citizen_ref(&e.citizen)),
                died_on: Some(e.died_on.into()),
                death_id: e.death.as_str().to_owned(),
            }
            .encode_to_vec(),
        };
        Bytes::from(bytes)
    }

    fn decode(event_type: &str, schema_version: u32, payload: &[u8]) -> Result<Self, CodecError> {
        let d = Decoder::new(event_type, schema_version, SCHEMA_VERSION)?;
        match event_type {
            MARITAL_STATUS_CHANGED => {
                let m: pb::MaritalStatusChanged = d.message(payload)?;
                let status = match pb::MaritalStatus::try_from(m.status) {
                    Ok(pb::MaritalStatus::Married) => Status::Married,
                    Ok(pb::MaritalStatus::Divorced) => Status::Divorced,
                    Ok(pb::MaritalStatus::Widowed) => Status::Widowed,
                    Ok(pb::MaritalStatus::Unspecified | pb::MaritalStatus::NoRecord) | Err(_) => {
                        return Err(d.invalid("status must be married, divorced or widowed"));
                    }
                };
                Ok(person::Event::StatusChanged(person::StatusChanged {
                    citizen: d.citizen("citizen", &m.citizen)?,
                    status,
                    since: d.date("since", &m.since)?,
                    marriage: d.parse("marriage_id", MarriageId::parse(&m.marriage_id))?,
                    spouse: d.citizen("spouse", &m.spouse)?,
                    record: record_id(&d, m.record_id)?,
                }))
            }
            PERSON_DECEASED => {
                let m: pb::PersonDeceased = d.message(payload)?;
                Ok(person::Event::Deceased(person::Deceased {
                    citizen: d.citizen("citizen", &m.citizen)?,
                    died_on: d.date("died_on", &m.died_on)?,
                    death: d.parse("death_id", Pseudonym::parse(&m.death_id))?,
                }))
            }
            other => Err(CodecError::UnknownType(other.to_owned())),
        }
    }
}

impl EventCodec for marriage::Event {
    fn event_type(&self) -> &'static str {
        match self {
            marriage::Event::Registered(_) => MARRIAGE_REGISTERED,
            marriage::Event::Backfilled(_) => MARRIAGE_BACKFILLED,
            marriage::Event::CertificateReissued(_) => MARRIAGE_CERTIFICATE_REISSUED,
            marriage::Event::Dissolved(_) => MARRIAGE_DISSOLVED,
            marriage::Event::DocumentAttached(_) => ARCHIVE_DOCUMENT_ATTACHED,
        }
    }

    fn schema_version(&self) -> u32 {
        SCHEMA_VERSION
    }

    fn encode(&self) -> Bytes {
        let bytes = match self {
            marriage::Event::Registered(e) => pb::MarriageRegistered {
                marriage_id: e.id.as_str().to_owned(),
                certificate_number: e.certificate_number.clone(),
                registry: Some(e.registry.into()),
                registered_on: Some(e.registered_on.into()),
                parties: e.parties.iter().map(party_to_pb).collect(),
                verifications: e.verifications.iter().map(verification_to_pb).collect(),
                appointment_id: e.appointment.to_string(),
            }
            .encode_to_vec(),
            marriage::Event::Backfilled(e) => pb::MarriageBackfilled {
                marriage_id: e.id.as_str().to_owned(),
                certificate_number: e.certificate_number.clone(),
                registry: Some(e.registry.into()),
                registered_on: Some(e.registered_on.into()),
                parties: e.parties.iter().map(party_to_pb).collect(),
                archive_reference: e.archive.as_str().to_owned(),
            }
            .encode_to_vec(),
            marriage::Event::CertificateReissued(e) => pb::MarriageCertificateReissued {
                marriage_id: e.id.as_str().to_owned(),
                certificate_number: e.certificate_number.clone(),
                previous_certificate_number: e.previous_certificate_number.clone(),
                registry: Some(e.registry.into()),
                reissued_on: Some(e.reissued_on.into()),
                verifications: e.verifications.iter().map(verification_to_pb).collect(),
                appointment_id: e.appointment.to_string(),
            }
            .encode_to_vec(),
            marriage::Event::Dissolved(e) => pb::MarriageDissolved {
                marriage_id: e.id.as_str().to_owned(),
                dissolved_on: Some(e.dissolved_on.into()),
                cause: match e.cause {
                    Cause::Divorce => pb::DissolutionCause::Divorce,
                    Cause::Death => pb::DissolutionCause::Death,
                }
                .into(),
                record_id: e.record.clone(),
            }
            .encode_to_vec(),
            marriage::Event::DocumentAttached(e) => {
                archive_document_to_pb(e.id.as_str(), &e.document).encode_to_vec()
            }
        };
        Bytes::from(bytes)
    }

    fn decode(event_type: &str, schema_version: u32, payload: &[u8]) -> Result<Self, CodecError> {
        let d = Decoder::new(event_type, schema_version, SCHEMA_VERSION)?;
        let marriage_id = |id: &str| d.parse("marriage_id", MarriageId::parse(id));
        let appointment = |id: &str| d.parse("appointment_id", AppointmentId::parse(id));
        let certificate =
            |field: &str, number: &str| d.text(field, number).map(|t| t.into_string());
        match event_type {
            MARRIAGE_REGISTERED => {
                let m: pb::MarriageRegistered = d.message(payload)?;
                let appointment = appointment(&m.appointment_id)?;
                let id = marriage_id(&m.marriage_id)?;
                if id != MarriageId::registered(&appointment) {
                    return Err(d.invalid("marriage_id is not the one of its appointment"));
                }
                Ok(marriage::Event::Registered(marriage::Registered {
                    id,
                    certificate_number: certificate("certificate_number", &m.certificate_number)?,
                    registry: d.code("registry", &m.registry)?,
                    registered_on: d.date("registered_on", &m.registered_on)?,
                    parties: two_parties_from_pb(&d, &m.parties)?,
                    verifications: verifications_from_pb(&d, &m.verifications)?,
                    appointment,
                }))
            }
            MARRIAGE_BACKFILLED => {
                let m: pb::MarriageBackfilled = d.message(payload)?;
                let archive = d.parse(
                    "archive_reference",
                    ArchiveReference::parse(&m.archive_reference),
                )?;
                let id = marriage_id(&m.marriage_id)?;
                if MarriageId::backfilled(&archive).ok().as_ref() != Some(&id) {
                    return Err(d.invalid("marriage_id is not the one of its archive reference"));
                }
                Ok(marriage::Event::Backfilled(marriage::Backfilled {
                    id,
                    certificate_number: certificate("certificate_number", &m.certificate_number)?,
                    registry: d.code("registry", &m.registry)?,
                    registered_on: d.date("registered_on", &m.registered_on)?,
                    parties: two_parties_from_pb(&d, &m.parties)?,
                    archive,
                }))
            }
            MARRIAGE_CERTIFICATE_REISSUED => {
                let m: pb::MarriageCertificateReissued = d.message(payload)?;
                Ok(marriage::Event::CertificateReissued(
                    marriage::CertificateReissued {
                        id: marriage_id(&m.marriage_id)?,
                        certificate_number: certificate(
                            "certificate_number",
                            &m.certificate_number,
                        )?,
                        previous_certificate_number: certificate(
                            "previous_certificate_number",
                            &m.previous_certificate_number,
                        )?,
                        registry: d.code("registry", &m.registry)?,
                        reissued_on: d.date("reissued_on", &m.reissued_on)?,
                        verifications: verifications_from_pb(&d, &m.verifications)?,
                        appointment: appointment(&m.appointment_id)?,
                    },
                ))
            }
            MARRIAGE_DISSOLVED => {
                let m: pb::MarriageDissolved = d.message(payload)?;
                let cause = match pb::DissolutionCause::try_from(m.cause) {
                    Ok(pb::DissolutionCause::Divorce) => Cause::Divorce,
                    Ok(pb::DissolutionCause::Death) => Cause::Death,
                    Ok(pb::DissolutionCause::Unspecified) | Err(_) => {
                        return Err(d.invalid("cause must be a divorce or a death"));
                    }
                };
                Ok(marriage::Event::Dissolved(marriage::Dissolved {
                    id: marriage_id(&m.marriage_id)?,
                    dissolved_on: d.date("dissolved_on", &m.dissolved_on)?,
                    cause,
                    record: record_id(&d, m.record_id)?,
                }))
            }
            ARCHIVE_DOCUMENT_ATTACHED => {
                let m: pb::ArchiveDocumentAttached = d.message(payload)?;
                Ok(marriage::Event::DocumentAttached(
                    marriage::DocumentAttached {
                        id: d.parse("record_id", MarriageId::parse(&m.record_id))?,
                        document: archive_document_from_pb(&d, &m)?,
                    },
                ))
            }
            other => Err(CodecError::UnknownType(other.to_owned())),
        }
    }
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
    use minzheng_kit::testing::assert_codec_round_trips;
    use minzheng_proto::common::v1 as common;
    use time::macros::date;

    use super::*;
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
    fn stored_person_events_that_break_the_rules_are_invalid() {
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
    fn stored_marriage_events_that_break_the_rules_are_invalid() {
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
                marriage_id: "J210502-20250701-004".into(),
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
                marriage_id: "A-BX-1975-0124".into(),
                ..backfilled.clone()
            },
        );
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
}
