//! The registration RPCs: marriages (registered on an appointment or back-filled from the paper
//! archive), certificate reissues, archive documents, marital status, divorces by agreement
//! with their cooling-off period, and historical divorces back-filled from the archive
//! (历史离婚档案补录).
//!
//! The commands that span several streams (a marriage, a back-fill, a divorce registration) are
//! idempotent by their ids: a repeat of a registration already made on the same appointment (or
//! from the same archive file) answers as the first did, but records nothing new, so its
//! `result` is absent (there is no new position to wait for; the first answer's position holds).

use minzheng_host::edge::{Call, result};
use minzheng_host::fields::Fields as _;
use minzheng_kit::Error;
use minzheng_proto::civilregistry::v1 as pb;
use minzheng_types::{BoundedText, FieldViolation, IdError, RegionCode, Violations, field_path};
use time::Date;

use super::{CivilRegistryApi, registry, two_parties, verifications};
use crate::{
    app::registrations::MaritalStatus,
    codec::party_to_pb,
    divorce,
    ids::{ApplicationId, AppointmentId, ArchiveReference, DocumentId, MarriageId},
    marriage::{
        self, ArchiveDocument, CERTIFICATE_NUMBER_MAX_CHARS, MEDIA_TYPE_MAX_CHARS, MarriageRecord,
        STORAGE_URI_MAX_CHARS, Sha256,
    },
    person,
};

/// Longest archive reference (档案号), in characters, as the contract promises. (The records
/// back-filled from it are keyed by its pseudonym, whatever its length.)
const ARCHIVE_REFERENCE_MAX_CHARS: usize = 60;

/// Longest document id within its record, in characters.
const DOCUMENT_ID_MAX_CHARS: usize = 32;

/// A required archive reference: 1–60 ASCII letters, digits, '-' or '_'.
fn archive_reference(
    field: &str,
    value: &str,
    violations: &mut Violations,
) -> Option<ArchiveReference> {
    if value.is_empty() {
        violations.add(FieldViolation::required(field));
        return None;
    }
    match ArchiveReference::parse(value) {
        Ok(reference) if value.len() <= ARCHIVE_REFERENCE_MAX_CHARS => Some(reference),
        Ok(_) | Err(IdError::TooLong) => {
            violations.push(
                field,
                format!("must be at most {ARCHIVE_REFERENCE_MAX_CHARS} characters long"),
            );
            None
        }
        Err(error) => {
            violations.push(field, error.to_string());
            None
        }
    }
}

/// Whether `uri` is absolute: `<scheme>://<something>`, the scheme a letter followed by letters,
/// digits, '+', '-' or '.', and no whitespace anywhere.
fn is_absolute_uri(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !uri.chars().any(char::is_whitespace)
}

/// Whether `media_type` has the form `type/subtype` (parameters may follow).
fn is_media_type(media_type: &str) -> bool {
    media_type
        .split_once('/')
        .is_some_and(|(kind, subtype)| !kind.trim().is_empty() && !subtype.trim().is_empty())
}

/// The document of an AttachArchiveDocument request, attached `today`.
fn archive_document(
    field: &str,
    value: &Option<pb::ArchiveDocument>,
    today: Date,
    violations: &mut Violations,
) -> Option<ArchiveDocument> {
    let Some(value) = value else {
        violations.add(FieldViolation::required(field));
        return None;
    };
    let id_field = field_path(field, "document_id");
    let id = if value.document_id.is_empty() {
        violations.add(FieldViolation::required(&id_field));
        None
    } else if value.document_id.len() > DOCUMENT_ID_MAX_CHARS {
        violations.push(
            &id_field,
            format!("must be at most {DOCUMENT_ID_MAX_CHARS} characters long"),
        );
        None
    } else {
        violations.check(&id_field, DocumentId::parse(&value.document_id))
    };
    let sha_field = field_path(field, "sha256");
    let sha256 = if value.sha256.is_empty() {
        violations.add(FieldViolation::required(&sha_field));
        None
    } else {
        violations.check(&sha_field, Sha256::parse(&value.sha256))
    };
    let uri_field = field_path(field, "storage_uri");
    let storage_uri = violations
        .text(&uri_field, &value.storage_uri, STORAGE_URI_MAX_CHARS)
        .and_then(|uri| {
            if is_absolute_uri(uri.as_str()) {
                Some(uri)
            } else {
                violations.push(
                    &uri_field,
                    "must be an absolute URI, e.g. s3://bucket/path/file.pdf",
                );
                None
            }
        });
    let type_field = field_path(field, "media_type");
    let media_type = violations
        .text(&type_field, &value.media_type, MEDIA_TYPE_MAX_CHARS)
        .and_then(|media_type| {
            if is_media_type(media_type.as_str()) {
                Some(media_type)
            } else {
                violations.push(&type_field, "must be a media type, e.g. application/pdf");
                None
            }
        });
    Some(ArchiveDocument {
        id: id?,
        sha256: sha256?,
        storage_uri: storage_uri?,
        media_type: media_type?,
        attached_on: today,
    })
}

/// The back-fill of a BackfillMarriage request; `today` bounds the registration day, and
/// `backfilled_id` gives the id of the marriage entered from an archive file (the application
/// sets it again anyway).
fn backfill(
    body: &pb::BackfillMarriageRequest,
    today: Date,
    backfilled_id: impl FnOnce(&ArchiveReference) -> MarriageId,
    violations: &mut Violations,
) -> Option<marriage::Backfill> {
    let archive = archive_reference("archive_reference", &body.archive_reference, violations);
    let certificate_number = violations.text(
        "certificate_number",
        &body.certificate_number,
        CERTIFICATE_NUMBER_MAX_CHARS,
    );
    let registry = registry("registry", &body.registry, violations);
    let on = past_day("registered_on", &body.registered_on, today, violations);
    let parties = two_parties("parties", &body.parties, violations);
    let archive = archive?;
    Some(marriage::Backfill {
        id: backfilled_id(&archive),
        archive,
        certificate_number: certificate_number?,
        registry: registry?,
        on: on?,
        parties: parties?,
    })
}

/// The parsed fields of a BackfillDivorce request.
struct DivorceBackfill {
    archive: ArchiveReference,
    marriage: MarriageId,
    certificate_number: BoundedText,
    registry: RegionCode,
    on: Date,
}

/// A registration day read from the archive: before `today`.
fn past_day(
    field: &str,
    value: &Option<minzheng_proto::common::v1::Date>,
    today: Date,
    violations: &mut Violations,
) -> Option<Date> {
    violations.date(field, value).and_then(|on| {
        if on < today {
            Some(on)
        } else {
            violations.push(field, "must be before today");
            None
        }
    })
}

/// The back-fill of a BackfillDivorce request; `today` bounds the registration day.
fn divorce_backfill(
    body: &pb::BackfillDivorceRequest,
    today: Date,
    violations: &mut Violations,
) -> Option<DivorceBackfill> {
    let archive = archive_reference("archive_reference", &body.archive_reference, violations);
    let marriage = violations.id("marriage_id", &body.marriage_id, MarriageId::parse);
    let certificate_number = violations.text(
        "certificate_number",
        &body.certificate_number,
        CERTIFICATE_NUMBER_MAX_CHARS,
    );
    let registry = registry("registry", &body.registry, violations);
    let on = past_day("registered_on", &body.registered_on, today, violations);
    Some(DivorceBackfill {
        archive: archive?,
        marriage: marriage?,
        certificate_number: certificate_number?,
        registry: registry?,
        on: on?,
    })
}

fn document_to_pb(document: &ArchiveDocument) -> pb::ArchiveDocument {
    pb::ArchiveDocument {
        document_id: document.id.as_str().to_owned(),
        sha256: document.sha256.as_str().to_owned(),
        storage_uri: document.storage_uri.as_str().to_owned(),
        media_type: document.media_type.as_str().to_owned(),
    }
}

fn marriage_to_pb(record: &MarriageRecord) -> pb::Marriage {
    pb::Marriage {
        marriage_id: record.id.as_str().to_owned(),
        certificate_number: record.certificate_number.clone(),
        registry: Some(record.registry.into()),
        registered_on: Some(record.registered_on.into()),
        parties: record.parties.iter().map(party_to_pb).collect(),
        backfilled: record.backfilled.is_some(),
        dissolved_on: record.dissolved.as_ref().map(|d| d.on.into()),
        dissolution_cause: match record.dissolved.as_ref().map(|d| d.cause) {
            None => pb::DissolutionCause::Unspecified,
            Some(marriage::Cause::Divorce) => pb::DissolutionCause::Divorce,
            Some(marriage::Cause::Death) => pb::DissolutionCause::Death,
        }
        .into(),
        documents: record.documents.iter().map(document_to_pb).collect(),
        reissues: record.reissues,
    }
}

fn application_to_pb(application: &divorce::Application) -> pb::DivorceApplication {
    let (state, closed_on, certificate_number) = match &application.state {
        divorce::State::Pending => (pb::DivorceApplicationState::Pending, None, String::new()),
        divorce::State::Withdrawn { on, .. } => (
            pb::DivorceApplicationState::Withdrawn,
            Some(*on),
            String::new(),
        ),
        divorce::State::Lapsed { on } => (
            pb::DivorceApplicationState::Lapsed,
            Some(*on),
            String::new(),
        ),
        divorce::State::Registered {
            on,
            certificate_number,
            ..
        } => (
            pb::DivorceApplicationState::Registered,
            Some(*on),
            certificate_number.clone(),
        ),
    };
    // The archive records no application: no day received, no cooling-off period.
    let received = application.backfilled.is_none();
    let if_received = |day: Date| received.then(|| day.into());
    pb::DivorceApplication {
        application_id: application.id.as_str().to_owned(),
        marriage_id: application.marriage.as_str().to_owned(),
        registry: Some(application.registry.into()),
        applied_on: if_received(application.applied_on),
        cooling_off_ends_on: if_received(application.cooling_off_ends_on),
        last_day_to_register: if_received(application.last_day_to_register),
        state: state.into(),
        closed_on: closed_on.map(Into::into),
        certificate_number,
        backfilled: !received,
    }
}

fn marital_status_to_pb(status: MaritalStatus) -> pb::GetMaritalStatusResponse {
    let deceased = status.deceased_on.is_some();
    let Some(period) = status.period else {
        return pb::GetMaritalStatusResponse {
            status: pb::MaritalStatus::NoRecord.into(),
            deceased,
            ..Default::default()
        };
    };
    pb::GetMaritalStatusResponse {
        status: match period.status {
            person::Status::Married => pb::MaritalStatus::Married,
            person::Status::Divorced => pb::MaritalStatus::Divorced,
            person::Status::Widowed => pb::MaritalStatus::Widowed,
        }
        .into(),
        since: Some(period.since.into()),
        marriage_id: period.marriage.as_str().to_owned(),
        record_id: period.record,
        certificate_number: status.certificate_number.unwrap_or_default(),
        deceased,
    }
}

impl CivilRegistryApi {
    pub(super) async fn register_marriage(
        &self,
        call: Call<pb::RegisterMarriageRequest>,
    ) -> Result<pb::RegisterMarriageResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let appointment =
            violations.id("appointment_id", &body.appointment_id, AppointmentId::parse);
        let parties = two_parties("parties", &body.parties, &mut violations);
        let checks = verifications("verifications", &body.verifications, &mut violations);
        let (appointment, parties, checks) = violations.finish((appointment, parties, checks))?;
        call.require_region(appointment.registry())?;
        let registered = self
            .app
            .register_marriage(&appointment, parties, checks, &context)
            .await?;
        Ok(pb::RegisterMarriageResponse {
            marriage_id: registered.marriage.as_str().to_owned(),
            certificate_number: registered.certificate_number,
            // Absent when the marriage was already registered on this appointment.
            result: registered.committed.as_ref().map(result),
        })
    }

    pub(super) async fn reissue_marriage_certificate(
        &self,
        call: Call<pb::ReissueMarriageCertificateRequest>,
    ) -> Result<pb::ReissueMarriageCertificateResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let marriage = violations.id("marriage_id", &body.marriage_id, MarriageId::parse);
        let appointment =
            violations.id("appointment_id", &body.appointment_id, AppointmentId::parse);
        let checks = verifications("verifications", &body.verifications, &mut violations);
        let (marriage, appointment, checks) = violations.finish((marriage, appointment, checks))?;
        call.require_region(appointment.registry())?;
        let (certificate_number, committed) = self
            .app
            .reissue_certificate(&marriage, &appointment, checks, &context)
            .await?;
        Ok(pb::ReissueMarriageCertificateResponse {
            certificate_number,
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn backfill_marriage(
        &self,
        call: Call<pb::BackfillMarriageRequest>,
    ) -> Result<pb::BackfillMarriageResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let command = backfill(
            body,
            self.app.today(),
            |archive| MarriageId::backfilled(&self.app.archive_pseudonym(archive)),
            &mut violations,
        );
        let command = violations.finish(command)?;
        call.require_region(command.registry)?;
        let (marriage, committed) = self.app.backfill_marriage(command, &context).await?;
        Ok(pb::BackfillMarriageResponse {
            marriage_id: marriage.as_str().to_owned(),
            // Absent when the same marriage was already entered from this archive file.
            result: committed.as_ref().map(result),
        })
    }

    pub(super) async fn attach_archive_document(
        &self,
        call: Call<pb::AttachArchiveDocumentRequest>,
    ) -> Result<pb::AttachArchiveDocumentResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        // A marriage id (`J…`, `A-…`) or an application id (`D…`): both are id-shaped.
        let record = violations.id("record_id", &body.record_id, MarriageId::parse);
        let document = archive_document(
            "document",
            &body.document,
            self.app.today(),
            &mut violations,
        );
        let (record, document) = violations.finish((record, document))?;
        let registry = if record.as_str().starts_with('D') {
            let id = ApplicationId::parse(record.as_str())
                .map_err(|e| Error::invalid_field("record_id", e.to_string()))?;
            self.app.divorce_application(&id).await?.registry
        } else {
            self.app.marriage(&record).await?.registry
        };
        call.require_region(registry)?;
        let committed = self
            .app
            .attach_document(record.as_str(), document, &context)
            .await?;
        Ok(pb::AttachArchiveDocumentResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn get_marriage(
        &self,
        call: Call<pb::GetMarriageRequest>,
    ) -> Result<pb::GetMarriageResponse, Error> {
        let mut violations = Violations::new();
        let id = violations.id("marriage_id", &call.body().marriage_id, MarriageId::parse);
        let id = violations.finish(id)?;
        call.audit("marriage", id.as_str());
        let record = self.app.marriage(&id).await?;
        self.audit_parties(&call, record.parties.iter().map(|p| &p.citizen));
        call.require_region(record.registry)?;
        Ok(pb::GetMarriageResponse {
            marriage: Some(marriage_to_pb(&record)),
        })
    }

    pub(super) async fn get_marital_status(
        &self,
        call: Call<pb::GetMaritalStatusRequest>,
    ) -> Result<pb::GetMaritalStatusResponse, Error> {
        // Not scoped to a registry: a citizen may have married at any of them.
        let body = call.body();
        let mut violations = Violations::new();
        let person = violations.citizen("citizen", &body.citizen);
        let day = violations.date_or("as_of", &body.as_of, self.app.today());
        let (person, day) = violations.finish((person, day))?;
        self.audit_parties(&call, [&person]);
        self.app
            .view()
            .wait_for(
                minzheng_host::edge::min_position(&body.read),
                call.deadline(),
            )
            .await?;
        let status = self.app.marital_status(&person, day).await?;
        Ok(marital_status_to_pb(status))
    }

    pub(super) async fn apply_for_divorce(
        &self,
        call: Call<pb::ApplyForDivorceRequest>,
    ) -> Result<pb::ApplyForDivorceResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let appointment =
            violations.id("appointment_id", &body.appointment_id, AppointmentId::parse);
        let marriage = violations.id("marriage_id", &body.marriage_id, MarriageId::parse);
        let checks = verifications("verifications", &body.verifications, &mut violations);
        let (appointment, marriage, checks) = violations.finish((appointment, marriage, checks))?;
        call.require_region(appointment.registry())?;
        let (application, committed) = self
            .app
            .apply_for_divorce(&appointment, &marriage, checks, &context)
            .await?;
        Ok(pb::ApplyForDivorceResponse {
            application_id: application.id.as_str().to_owned(),
            cooling_off_ends_on: Some(application.cooling_off_ends_on.into()),
            last_day_to_register: Some(application.last_day_to_register.into()),
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn withdraw_divorce_application(
        &self,
        call: Call<pb::WithdrawDivorceApplicationRequest>,
    ) -> Result<pb::WithdrawDivorceApplicationResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let application =
            violations.id("application_id", &body.application_id, ApplicationId::parse);
        let by = violations.citizen("by", &body.by);
        let (application, by) = violations.finish((application, by))?;
        let registry = self.app.divorce_application(&application).await?.registry;
        call.require_region(registry)?;
        let committed = self
            .app
            .withdraw_divorce(&application, by, &context)
            .await?;
        Ok(pb::WithdrawDivorceApplicationResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn register_divorce(
        &self,
        call: Call<pb::RegisterDivorceRequest>,
    ) -> Result<pb::RegisterDivorceResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let application =
            violations.id("application_id", &body.application_id, ApplicationId::parse);
        let appointment =
            violations.id("appointment_id", &body.appointment_id, AppointmentId::parse);
        let checks = verifications("verifications", &body.verifications, &mut violations);
        let (application, appointment, checks) =
            violations.finish((application, appointment, checks))?;
        call.require_region(appointment.registry())?;
        let (certificate_number, committed) = self
            .app
            .register_divorce(&application, &appointment, checks, &context)
            .await?;
        Ok(pb::RegisterDivorceResponse {
            certificate_number,
            // Absent when the divorce was already registered on this appointment.
            result: committed.as_ref().map(result),
        })
    }

    pub(super) async fn backfill_divorce(
        &self,
        call: Call<pb::BackfillDivorceRequest>,
    ) -> Result<pb::BackfillDivorceResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let command = divorce_backfill(body, self.app.today(), &mut violations);
        let command = violations.finish(command)?;
        call.require_region(command.registry)?;
        let (application, committed) = self
            .app
            .backfill_divorce(
                command.archive,
                &command.marriage,
                command.registry,
                command.certificate_number,
                command.on,
                &context,
            )
            .await?;
        Ok(pb::BackfillDivorceResponse {
            application_id: application.as_str().to_owned(),
            // Absent when the same divorce was already entered from this archive file.
            result: committed.as_ref().map(result),
        })
    }

    pub(super) async fn get_divorce_application(
        &self,
        call: Call<pb::GetDivorceApplicationRequest>,
    ) -> Result<pb::GetDivorceApplicationResponse, Error> {
        let mut violations = Violations::new();
        let id = violations.id(
            "application_id",
            &call.body().application_id,
            ApplicationId::parse,
        );
        let id = violations.finish(id)?;
        call.audit("divorce_application", id.as_str());
        let application = self.app.divorce_application(&id).await?;
        self.audit_parties(&call, application.parties.iter().map(|p| &p.citizen));
        call.require_region(application.registry)?;
        Ok(pb::GetDivorceApplicationResponse {
            application: Some(application_to_pb(&application)),
        })
    }
}

#[cfg(test)]
mod tests {
    use minzheng_proto::common::v1 as common;
    use time::macros::date;

    use super::*;

    const TODAY: Date = date!(2025 - 07 - 01);

    fn fields(violations: &Violations) -> Vec<&str> {
        violations.iter().map(|v| v.field.as_str()).collect()
    }

    fn document() -> pb::ArchiveDocument {
        pb::ArchiveDocument {
            document_id: "p1".into(),
            sha256: "ab".repeat(32),
            storage_uri: "s3://bx-archive/marriage/1998/0123-p1.pdf".into(),
            media_type: "application/pdf".into(),
        }
    }

    #[test]
    fn a_complete_document_parses_and_is_attached_today() {
        let mut violations = Violations::new();
        let parsed =
            archive_document("document", &Some(document()), TODAY, &mut violations).expect("valid");
        assert!(violations.is_empty());
        assert_eq!(parsed.id.as_str(), "p1");
        assert_eq!(parsed.attached_on, TODAY);
    }

    #[test]
    fn every_bad_document_field_is_named() {
        let mut violations = Violations::new();
        let bad = pb::ArchiveDocument {
            document_id: "p".repeat(33),
            sha256: "AB".repeat(32),
            storage_uri: "/relative/path.pdf".into(),
            media_type: "pdf".into(),
        };
        assert!(archive_document("document", &Some(bad), TODAY, &mut violations).is_none());
        assert_eq!(
            fields(&violations),
            [
                "document.document_id",
                "document.sha256",
                "document.storage_uri",
                "document.media_type"
            ]
        );
        let mut violations = Violations::new();
        assert!(archive_document("document", &None, TODAY, &mut violations).is_none());
        assert_eq!(fields(&violations), ["document"]);
    }

    #[test]
    fn absolute_uris_and_media_types() {
        assert!(is_absolute_uri("s3://bucket/key"));
        assert!(is_absolute_uri("https://example.org/a.pdf"));
        assert!(!is_absolute_uri("://bucket"));
        assert!(!is_absolute_uri("s3://"));
        assert!(!is_absolute_uri("3s://bucket"));
        assert!(!is_absolute_uri("s3://bucket/a b.pdf"));
        assert!(is_media_type("application/pdf"));
        assert!(is_media_type("text/plain; charset=utf-8"));
        assert!(!is_media_type("application/"));
        assert!(!is_media_type("/pdf"));
    }

    fn backfilled_id(_: &ArchiveReference) -> MarriageId {
        MarriageId::parse("A-9c1e5f0c9c1e5f0c9c1e5f0c9c1e5f0c").expect("valid")
    }

    fn backfill_request() -> pb::BackfillMarriageRequest {
        pb::BackfillMarriageRequest {
            metadata: None,
            archive_reference: "BX-1998-0123".into(),
            certificate_number: "本结字第0123号".into(),
            registry: Some(common::RegionCode {
                code: "210502000000".into(),
            }),
            registered_on: Some(date!(1998 - 05 - 01).into()),
            parties: vec![
                pb::Party {
                    citizen: Some(common::CitizenRef {
                        citizen_id: "11010519491231002X".into(),
                    }),
                    name: "王芳".into(),
                },
                pb::Party {
                    citizen: Some(common::CitizenRef {
                        citizen_id: "110105195001010012".into(),
                    }),
                    name: "李强".into(),
                },
            ],
        }
    }

    #[test]
    fn a_backfill_needs_a_past_day_and_a_short_reference() {
        let mut violations = Violations::new();
        let command = backfill(&backfill_request(), TODAY, backfilled_id, &mut violations);
        assert!(violations.is_empty(), "{violations}");
        let command = command.expect("valid");
        assert_eq!(command.archive.as_str(), "BX-1998-0123");
        assert_eq!(command.on, date!(1998 - 05 - 01));

        let mut violations = Violations::new();
        let request = pb::BackfillMarriageRequest {
            archive_reference: "R".repeat(61),
            registered_on: Some(TODAY.into()),
            registry: Some(common::RegionCode {
                code: "210500000000".into(),
            }),
            parties: vec![],
            ..backfill_request()
        };
        assert!(backfill(&request, TODAY, backfilled_id, &mut violations).is_none());
        assert_eq!(
            fields(&violations),
            [
                "archive_reference",
                "registry.code",
                "registered_on",
                "parties"
            ]
        );
    }

    fn divorce_backfill_request() -> pb::BackfillDivorceRequest {
        pb::BackfillDivorceRequest {
            metadata: None,
            archive_reference: "BX-2005-0045".into(),
            marriage_id: "A-BX-1998-0123".into(),
            certificate_number: "本离字第0045号".into(),
            registry: Some(common::RegionCode {
                code: "210502000000".into(),
            }),
            registered_on: Some(date!(2005 - 03 - 01).into()),
        }
    }

    #[test]
    fn a_divorce_backfill_names_every_bad_field() {
        let mut violations = Violations::new();
        let command = divorce_backfill(&divorce_backfill_request(), TODAY, &mut violations);
        assert!(violations.is_empty(), "{violations}");
        let command = command.expect("valid");
        assert_eq!(command.archive.as_str(), "BX-2005-0045");
        assert_eq!(command.marriage.as_str(), "A-BX-1998-0123");
        assert_eq!(command.on, date!(2005 - 03 - 01));

        let mut violations = Violations::new();
        let request = pb::BackfillDivorceRequest {
            archive_reference: "R".repeat(61),
            marriage_id: "A BX".into(),
            certificate_number: String::new(),
            registry: Some(common::RegionCode {
                code: "210500000000".into(),
            }),
            registered_on: Some(TODAY.into()),
            ..divorce_backfill_request()
        };
        assert!(divorce_backfill(&request, TODAY, &mut violations).is_none());
        assert_eq!(
            fields(&violations),
            [
                "archive_reference",
                "marriage_id",
                "certificate_number",
                "registry.code",
                "registered_on"
            ]
        );
    }

    #[test]
    fn no_record_has_no_since_and_no_marriage() {
        let response = marital_status_to_pb(MaritalStatus {
            period: None,
            certificate_number: None,
            deceased_on: None,
        });
        assert_eq!(response.status, i32::from(pb::MaritalStatus::NoRecord));
        assert_eq!(response.since, None);
        assert!(response.marriage_id.is_empty() && !response.deceased);
    }
}
