//! `minzheng.civilregistry.v1.CivilRegistryService`: request conversion (every field parsed into
//! a domain value, every violation reported at once as INVALID_ARGUMENT naming the field and
//! the rule), access checks, and answers. Proto types stop here. Refused calls are logged at
//! INFO (the caller's mistake, not the service's).
//!
//! The RPCs live in `appointments` (slots, bookings, registries, indicators),
//! `registrations` (marriages, divorces, certificates, archives, marital status) and `deaths`;
//! the trait implementation below delegates to them.

mod appointments;
mod deaths;
mod registrations;

use minzheng_kit::{
    Error,
    auth::{self, Principal, Role},
};
use minzheng_proto::{
    civilregistry::v1::{
        self as pb,
        civil_registry_service_server::{CivilRegistryService, CivilRegistryServiceServer},
    },
    common::v1 as common,
    convert,
};
use minzheng_types::{BoundedText, CitizenId, FieldViolation, RegionCode, RegionLevel, Violations};
use time::Date;
use tonic::{Request, Response, Status};

use crate::{
    app::CivilRegistry,
    ids::{ApplicationId, AppointmentId, MarriageId, Pseudonym},
    verification::{self, Party, Verification},
};

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct CivilRegistryApi {
    app: CivilRegistry,
}

impl CivilRegistryApi {
    pub fn new(app: CivilRegistry) -> Self {
        Self { app }
    }

    pub fn into_server(self) -> CivilRegistryServiceServer<Self> {
        CivilRegistryServiceServer::new(self)
    }
}

/// Who may call an RPC.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// Registry staff: caseworkers and approvers (scoped to the registry).
    Staff,
    /// Approvers (scoped to the registry).
    Approver,
    /// Staff, or another agency's system (hospitals and public security notify deaths;
    /// portals book appointments).
    StaffOrAgency,
    /// Staff, auditors and agencies: reading records.
    Reader,
}

impl Who {
    /// The call's principal, if it has one of these roles.
    fn authenticate<T>(self, request: &Request<T>) -> Result<Principal, Error> {
        let roles: &[Role] = match self {
            Who::Staff => &[Role::Caseworker, Role::Approver],
            Who::Approver => &[Role::Approver],
            Who::StaffOrAgency => &[Role::Caseworker, Role::Approver, Role::Agency],
            Who::Reader => &[
                Role::Caseworker,
                Role::Approver,
                Role::Auditor,
                Role::Agency,
            ],
        };
        auth::require_any(request, roles).cloned()
    }
}

/// Staff must work at (be scoped to a region containing) `registry`; agencies and auditors,
/// whose role already limits them, are not scoped.
fn require_registry_scope(principal: &Principal, registry: RegionCode) -> Result<(), Error> {
    if principal.has_role(Role::Caseworker) || principal.has_role(Role::Approver) {
        principal.require_region(registry)
    } else {
        Ok(())
    }
}

/// The error for a field that parsed to nothing without recording a violation: cannot happen,
/// since every parser records why it gives nothing, but answers as the caller's mistake rather
/// than a panic.
fn missing(field: &str) -> Error {
    Error::invalid_field(field, "is required")
}

fn violations_ok(violations: Violations) -> Result<(), Error> {
    violations.into_result().map_err(Error::from)
}

/// Required text of at most `max` characters.
fn text(field: &str, value: &str, max: usize, violations: &mut Violations) -> Option<BoundedText> {
    violations.record(convert::bounded_text(field, value, max))
}

/// A required citizen reference.
fn citizen(
    field: &str,
    value: &Option<common::CitizenRef>,
    violations: &mut Violations,
) -> Option<CitizenId> {
    violations.record(convert::citizen_id(field, value))
}

/// A required county-level registry code.
fn registry(
    field: &str,
    value: &Option<common::RegionCode>,
    violations: &mut Violations,
) -> Option<RegionCode> {
    let code = violations.record(convert::region_code(field, value))?;
    if code.level() == RegionLevel::County {
        Some(code)
    } else {
        violations.add(FieldViolation::new(
            minzheng_types::field_path(field, "code"),
            "must be a county-level division (a registry), e.g. 210502000000",
        ));
        None
    }
}

/// A required date.
fn date(field: &str, value: &Option<common::Date>, violations: &mut Violations) -> Option<Date> {
    violations.record(convert::date(field, value))
}

/// An optional date: today when absent.
fn date_or_today(
    field: &str,
    value: &Option<common::Date>,
    today: Date,
    violations: &mut Violations,
) -> Option<Date> {
    match value {
        None => Some(today),
        Some(_) => date(field, value, violations),
    }
}

fn appointment_id(field: &str, value: &str, violations: &mut Violations) -> Option<AppointmentId> {
    if value.is_empty() {
        violations.add(FieldViolation::required(field));
        return None;
    }
    violations.check(field, AppointmentId::parse(value))
}

fn marriage_id(field: &str, value: &str, violations: &mut Violations) -> Option<MarriageId> {
    if value.is_empty() {
        violations.add(FieldViolation::required(field));
        return None;
    }
    violations.check(field, MarriageId::parse(value))
}

fn application_id(field: &str, value: &str, violations: &mut Violations) -> Option<ApplicationId> {
    if value.is_empty() {
        violations.add(FieldViolation::required(field));
        return None;
    }
    violations.check(field, ApplicationId::parse(value))
}

fn death_id(field: &str, value: &str, violations: &mut Violations) -> Option<Pseudonym> {
    if value.is_empty() {
        violations.add(FieldViolation::required(field));
        return None;
    }
    violations.check(field, Pseudonym::parse(value))
}

/// A party: citizen and name.
fn party(field: &str, value: &pb::Party, violations: &mut Violations) -> Option<Party> {
    let citizen = citizen(
        &minzheng_types::field_path(field, "citizen"),
        &value.citizen,
        violations,
    );
    let name = text(
        &minzheng_types::field_path(field, "name"),
        &value.name,
        verification::NAME_MAX_CHARS,
        violations,
    );
    Some(Party {
        citizen: citizen?,
        name: name?,
    })
}

/// Exactly two parties.
fn two_parties(
    field: &str,
    values: &[pb::Party],
    violations: &mut Violations,
) -> Option<[Party; 2]> {
    match values {
        [a, b] => {
            let a = party(&format!("{field}[0]"), a, violations);
            let b = party(&format!("{field}[1]"), b, violations);
            Some([a?, b?])
        }
        _ => {
            violations.push(
                field,
                format!("must name exactly 2 parties, not {}", values.len()),
            );
            None
        }
    }
}

/// The identity checks of a request; each one complete.
fn verifications(
    field: &str,
    values: &[pb::Verification],
    violations: &mut Violations,
) -> Option<Vec<Verification>> {
    let mut parsed = Vec::with_capacity(values.len());
    let mut ok = true;
    for (index, value) in values.iter().enumerate() {
        let at = format!("{field}[{index}]");
        let party = citizen(
            &minzheng_types::field_path(&at, "party"),
            &value.party,
            violations,
        );
        let kind = match pb::VerificationKind::try_from(value.kind) {
            Ok(pb::VerificationKind::IdDocument) => Some(verification::Kind::IdDocument),
            Ok(pb::VerificationKind::FaceComparison) => Some(verification::Kind::FaceComparison),
            Ok(pb::VerificationKind::ESignature) => Some(verification::Kind::ESignature),
            Ok(pb::VerificationKind::Unspecified) | Err(_) => {
                violations.push(
                    minzheng_types::field_path(&at, "kind"),
                    "must be ID_DOCUMENT, FACE_COMPARISON or E_SIGNATURE",
                );
                None
            }
        };
        let outcome = match pb::VerificationOutcome::try_from(value.outcome) {
            Ok(pb::VerificationOutcome::Passed) => Some(verification::Outcome::Passed),
            Ok(pb::VerificationOutcome::Failed) => Some(verification::Outcome::Failed),
            Ok(pb::VerificationOutcome::Unspecified) | Err(_) => {
                violations.push(
                    minzheng_types::field_path(&at, "outcome"),
                    "must be PASSED or FAILED",
                );
                None
            }
        };
        let method = text(
            &minzheng_types::field_path(&at, "method"),
            &value.method,
            verification::METHOD_MAX_CHARS,
            violations,
        );
        let score = u16::try_from(value.score_permille)
            .ok()
            .filter(|s| *s <= 1000);
        if score.is_none() {
            violations.push(
                minzheng_types::field_path(&at, "score_permille"),
                "must be 0 to 1000",
            );
        }
        match (party, kind, outcome, method, score) {
            (Some(party), Some(kind), Some(outcome), Some(method), Some(score_permille)) => {
                parsed.push(Verification {
                    party,
                    kind,
                    method,
                    outcome,
                    score_permille,
                });
            }
            _ => ok = false,
        }
    }
    ok.then_some(parsed)
}

#[tonic::async_trait]
impl CivilRegistryService for CivilRegistryApi {
    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn publish_slots(
        &self,
        request: Request<pb::PublishSlotsRequest>,
    ) -> Result<Response<pb::PublishSlotsResponse>, Status> {
        Ok(self.do_publish_slots(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn list_slots(
        &self,
        request: Request<pb::ListSlotsRequest>,
    ) -> Result<Response<pb::ListSlotsResponse>, Status> {
        Ok(self.do_list_slots(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn book_appointment(
        &self,
        request: Request<pb::BookAppointmentRequest>,
    ) -> Result<Response<pb::BookAppointmentResponse>, Status> {
        Ok(self.do_book_appointment(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn reschedule_appointment(
        &self,
        request: Request<pb::RescheduleAppointmentRequest>,
    ) -> Result<Response<pb::RescheduleAppointmentResponse>, Status> {
        Ok(self.do_reschedule_appointment(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn cancel_appointment(
        &self,
        request: Request<pb::CancelAppointmentRequest>,
    ) -> Result<Response<pb::CancelAppointmentResponse>, Status> {
        Ok(self.do_cancel_appointment(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn check_in_appointment(
        &self,
        request: Request<pb::CheckInAppointmentRequest>,
    ) -> Result<Response<pb::CheckInAppointmentResponse>, Status> {
        Ok(self.do_check_in_appointment(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_appointment(
        &self,
        request: Request<pb::GetAppointmentRequest>,
    ) -> Result<Response<pb::GetAppointmentResponse>, Status> {
        Ok(self.do_get_appointment(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn set_counselling_room(
        &self,
        request: Request<pb::SetCounsellingRoomRequest>,
    ) -> Result<Response<pb::SetCounsellingRoomResponse>, Status> {
        Ok(self.do_set_counselling_room(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn list_registries(
        &self,
        request: Request<pb::ListRegistriesRequest>,
    ) -> Result<Response<pb::ListRegistriesResponse>, Status> {
        Ok(self.do_list_registries(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn register_marriage(
        &self,
        request: Request<pb::RegisterMarriageRequest>,
    ) -> Result<Response<pb::RegisterMarriageResponse>, Status> {
        Ok(self.do_register_marriage(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn reissue_marriage_certificate(
        &self,
        request: Request<pb::ReissueMarriageCertificateRequest>,
    ) -> Result<Response<pb::ReissueMarriageCertificateResponse>, Status> {
        Ok(self.do_reissue_marriage_certificate(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn backfill_marriage(
        &self,
        request: Request<pb::BackfillMarriageRequest>,
    ) -> Result<Response<pb::BackfillMarriageResponse>, Status> {
        Ok(self.do_backfill_marriage(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn attach_archive_document(
        &self,
        request: Request<pb::AttachArchiveDocumentRequest>,
    ) -> Result<Response<pb::AttachArchiveDocumentResponse>, Status> {
        Ok(self.do_attach_archive_document(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_marriage(
        &self,
        request: Request<pb::GetMarriageRequest>,
    ) -> Result<Response<pb::GetMarriageResponse>, Status> {
        Ok(self.do_get_marriage(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_marital_status(
        &self,
        request: Request<pb::GetMaritalStatusRequest>,
    ) -> Result<Response<pb::GetMaritalStatusResponse>, Status> {
        Ok(self.do_get_marital_status(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn apply_for_divorce(
        &self,
        request: Request<pb::ApplyForDivorceRequest>,
    ) -> Result<Response<pb::ApplyForDivorceResponse>, Status> {
        Ok(self.do_apply_for_divorce(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn withdraw_divorce_application(
        &self,
        request: Request<pb::WithdrawDivorceApplicationRequest>,
    ) -> Result<Response<pb::WithdrawDivorceApplicationResponse>, Status> {
        Ok(self.do_withdraw_divorce_application(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn register_divorce(
        &self,
        request: Request<pb::RegisterDivorceRequest>,
    ) -> Result<Response<pb::RegisterDivorceResponse>, Status> {
        Ok(self.do_register_divorce(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn backfill_divorce(
        &self,
        request: Request<pb::BackfillDivorceRequest>,
    ) -> Result<Response<pb::BackfillDivorceResponse>, Status> {
        Ok(self.do_backfill_divorce(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_divorce_application(
        &self,
        request: Request<pb::GetDivorceApplicationRequest>,
    ) -> Result<Response<pb::GetDivorceApplicationResponse>, Status> {
        Ok(self.do_get_divorce_application(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn record_death(
        &self,
        request: Request<pb::RecordDeathRequest>,
    ) -> Result<Response<pb::RecordDeathResponse>, Status> {
        Ok(self.do_record_death(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn record_funeral_service(
        &self,
        request: Request<pb::RecordFuneralServiceRequest>,
    ) -> Result<Response<pb::RecordFuneralServiceResponse>, Status> {
        Ok(self.do_record_funeral_service(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_death(
        &self,
        request: Request<pb::GetDeathRequest>,
    ) -> Result<Response<pb::GetDeathResponse>, Status> {
        Ok(self.do_get_death(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_indicators(
        &self,
        request: Request<pb::GetIndicatorsRequest>,
    ) -> Result<Response<pb::GetIndicatorsResponse>, Status> {
        Ok(self.do_get_indicators(request).await?)
    }
}
