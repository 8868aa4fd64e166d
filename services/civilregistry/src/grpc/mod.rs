//! `minzheng.civilregistry.v1.CivilRegistryService`: request conversion (every field parsed into
//! a domain value, every violation reported at once as INVALID_ARGUMENT naming the field and
//! the rule) and answers. Proto types stop here.
//!
//! The RPCs live in `appointments` (slots, bookings, registries, indicators),
//! `registrations` (marriages, divorces, certificates, archives, marital status) and `deaths`;
//! the table at the end of this file declares each with its access rule, and `grpc_service!`
//! serves each through the shared edge (admission, region scope, read audit, refusals logged
//! at INFO).

mod appointments;
mod deaths;
mod registrations;

use minzheng_host::fields::Fields as _;
use minzheng_host::{audit::AuditLog, edge::Call};
use minzheng_kit::{access::Rule, auth::Role};
use minzheng_proto::{
    civilregistry::v1::{
        self as pb,
        civil_registry_service_server::{CivilRegistryService, CivilRegistryServiceServer},
    },
    common::v1 as common,
};
use minzheng_types::{CitizenId, FieldViolation, RegionCode, RegionLevel, Violations};

use crate::{
    app::CivilRegistry,
    verification::{self, Party, Verification},
};

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct CivilRegistryApi {
    app: CivilRegistry,
    audit: AuditLog,
}

impl CivilRegistryApi {
    pub fn new(app: CivilRegistry, audit: AuditLog) -> Self {
        Self { app, audit }
    }

    /// Notes each party of a record for the audit, by pseudonym.
    fn audit_parties<'a, T>(
        &self,
        call: &Call<T>,
        parties: impl IntoIterator<Item = &'a CitizenId>,
    ) {
        for citizen in parties {
            call.audit("person", self.app.pseudonym(citizen).as_str());
        }
    }

    pub fn into_server(self) -> CivilRegistryServiceServer<Self> {
        CivilRegistryServiceServer::new(self)
    }
}

/// Registry staff.
const STAFF: &[Role] = &[Role::Caseworker, Role::Approver];
/// Registry staff, or another agency's system (hospitals and public security notify deaths;
/// portals book appointments).
const STAFF_OR_AGENCY: &[Role] = &[Role::Caseworker, Role::Approver, Role::Agency];
/// Who reads records: staff, auditors and agencies.
const READERS: &[Role] = &[
    Role::Caseworker,
    Role::Approver,
    Role::Auditor,
    Role::Agency,
];

const APPOINTMENT_REGISTRY: &str = "the appointment's registry";

/// A required county-level registry code.
fn registry(
    field: &str,
    value: &Option<common::RegionCode>,
    violations: &mut Violations,
) -> Option<RegionCode> {
    let code = violations.region(field, value)?;
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

/// A party: citizen and name.
fn party(field: &str, value: &pb::Party, violations: &mut Violations) -> Option<Party> {
    let citizen = violations.citizen(
        &minzheng_types::field_path(field, "citizen"),
        &value.citizen,
    );
    let name = violations.text(
        &minzheng_types::field_path(field, "name"),
        &value.name,
        verification::NAME_MAX_CHARS,
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
        let party = violations.citizen(&minzheng_types::field_path(&at, "party"), &value.party);
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
        let method = violations.text(
            &minzheng_types::field_path(&at, "method"),
            &value.method,
            verification::METHOD_MAX_CHARS,
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

// The RPCs and their access rules, declared once. Who may call each RPC, where, and which calls
// read personal data (and are audited). Every caller acts only within its token's regions;
// `GetMaritalStatus` is not scoped, because a citizen may have married at any registry.
minzheng_host::grpc_service! {
    impl CivilRegistryService for CivilRegistryApi {
        server: CivilRegistryServiceServer<CivilRegistryApi>,
        audit: audit,
        publish_slots(PublishSlots):
            pb::PublishSlotsRequest => pb::PublishSlotsResponse
            = Rule::roles(&[Role::Approver]).in_field("registry");
        list_slots(ListSlots):
            pb::ListSlotsRequest => pb::ListSlotsResponse
            = Rule::public();
        book_appointment(BookAppointment):
            pb::BookAppointmentRequest => pb::BookAppointmentResponse
            = Rule::roles(STAFF_OR_AGENCY).in_field("registry");
        reschedule_appointment(RescheduleAppointment):
            pb::RescheduleAppointmentRequest => pb::RescheduleAppointmentResponse
            = Rule::roles(STAFF_OR_AGENCY).in_record(APPOINTMENT_REGISTRY);
        cancel_appointment(CancelAppointment):
            pb::CancelAppointmentRequest => pb::CancelAppointmentResponse
            = Rule::roles(STAFF_OR_AGENCY).in_record(APPOINTMENT_REGISTRY);
        check_in_appointment(CheckInAppointment):
            pb::CheckInAppointmentRequest => pb::CheckInAppointmentResponse
            = Rule::roles(STAFF).in_record(APPOINTMENT_REGISTRY);
        get_appointment(GetAppointment):
            pb::GetAppointmentRequest => pb::GetAppointmentResponse
            = Rule::roles(READERS).in_record(APPOINTMENT_REGISTRY).reads_personal_data();
        set_counselling_room(SetCounsellingRoom):
            pb::SetCounsellingRoomRequest => pb::SetCounsellingRoomResponse
            = Rule::roles(&[Role::Approver]).in_field("registry");
        list_registries(ListRegistries):
            pb::ListRegistriesRequest => pb::ListRegistriesResponse
            = Rule::public();
        register_marriage(RegisterMarriage):
            pb::RegisterMarriageRequest => pb::RegisterMarriageResponse
            = Rule::roles(STAFF).in_record(APPOINTMENT_REGISTRY);
        reissue_marriage_certificate(ReissueMarriageCertificate):
            pb::ReissueMarriageCertificateRequest => pb::ReissueMarriageCertificateResponse
            = Rule::roles(STAFF).in_record(APPOINTMENT_REGISTRY);
        backfill_marriage(BackfillMarriage):
            pb::BackfillMarriageRequest => pb::BackfillMarriageResponse
            = Rule::roles(STAFF).in_field("registry");
        attach_archive_document(AttachArchiveDocument):
            pb::AttachArchiveDocumentRequest => pb::AttachArchiveDocumentResponse
            = Rule::roles(STAFF).in_record("the record's registry");
        get_marriage(GetMarriage):
            pb::GetMarriageRequest => pb::GetMarriageResponse
            = Rule::roles(READERS).in_record("the marriage's registry").reads_personal_data();
        get_marital_status(GetMaritalStatus):
            pb::GetMaritalStatusRequest => pb::GetMaritalStatusResponse
            = Rule::roles(READERS).reads_personal_data();
        apply_for_divorce(ApplyForDivorce):
            pb::ApplyForDivorceRequest => pb::ApplyForDivorceResponse
            = Rule::roles(STAFF).in_record(APPOINTMENT_REGISTRY);
        withdraw_divorce_application(WithdrawDivorceApplication):
            pb::WithdrawDivorceApplicationRequest => pb::WithdrawDivorceApplicationResponse
            = Rule::roles(STAFF).in_record("the application's registry");
        register_divorce(RegisterDivorce):
            pb::RegisterDivorceRequest => pb::RegisterDivorceResponse
            = Rule::roles(STAFF).in_record(APPOINTMENT_REGISTRY);
        backfill_divorce(BackfillDivorce):
            pb::BackfillDivorceRequest => pb::BackfillDivorceResponse
            = Rule::roles(STAFF).in_field("registry");
        get_divorce_application(GetDivorceApplication):
            pb::GetDivorceApplicationRequest => pb::GetDivorceApplicationResponse
            = Rule::roles(READERS).in_record("the application's registry").reads_personal_data();
        record_death(RecordDeath):
            pb::RecordDeathRequest => pb::RecordDeathResponse
            = Rule::roles(STAFF_OR_AGENCY).in_field("county");
        record_funeral_service(RecordFuneralService):
            pb::RecordFuneralServiceRequest => pb::RecordFuneralServiceResponse
            = Rule::roles(STAFF).in_record("the deceased's county");
        get_death(GetDeath):
            pb::GetDeathRequest => pb::GetDeathResponse
            = Rule::roles(READERS).in_record("the deceased's county").reads_personal_data();
        get_indicators(GetIndicators):
            pb::GetIndicatorsRequest => pb::GetIndicatorsResponse
            = Rule::public();
    }
}
