//! `minzheng.civilregistry.v1.CivilRegistryService`: request conversion (every field parsed into
//! a domain value, every violation reported at once as INVALID_ARGUMENT naming the field and
//! the rule), access checks, and answers. Proto types stop here. Refused calls are logged at
//! INFO (the caller's mistake, not the service's).
//!
//! The RPCs live in `appointments` (slots, bookings, registries, indicators),
//! `registrations` (marriages, divorces, certificates, archives, marital status) and `deaths`;
//! [`ACCESS`] says who may call each, and `grpc_service!` serves each through the shared edge
//! (admission, region scope, read audit).

mod appointments;
mod deaths;
mod registrations;

use minzheng_host::{
    audit::AuditLog,
    edge::{Call, Edge},
};
use minzheng_kit::{
    access::{AccessPolicy, RpcAccess, Rule},
    auth::Role,
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

use crate::{
    app::CivilRegistry,
    ids::{ApplicationId, AppointmentId, MarriageId, Pseudonym},
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

    /// The access policy: the table behind the access matrix in the docs.
    pub fn access() -> AccessPolicy {
        ACCESS
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

/// Who may call each RPC, where, and which calls read personal data (and are audited). Every
/// caller acts only within its token's regions; `GetMaritalStatus` is not scoped, because a
/// citizen may have married at any registry.
const ACCESS: AccessPolicy = AccessPolicy {
    service: "minzheng.civilregistry.v1.CivilRegistryService",
    rpcs: &[
        rpc(
            "PublishSlots",
            Rule::roles(&[Role::Approver]).in_field("registry"),
        ),
        rpc("ListSlots", Rule::public()),
        rpc(
            "BookAppointment",
            Rule::roles(STAFF_OR_AGENCY).in_field("registry"),
        ),
        rpc(
            "RescheduleAppointment",
            Rule::roles(STAFF_OR_AGENCY).in_record(APPOINTMENT_REGISTRY),
        ),
        rpc(
            "CancelAppointment",
            Rule::roles(STAFF_OR_AGENCY).in_record(APPOINTMENT_REGISTRY),
        ),
        rpc(
            "CheckInAppointment",
            Rule::roles(STAFF).in_record(APPOINTMENT_REGISTRY),
        ),
        rpc(
            "GetAppointment",
            Rule::roles(READERS)
                .in_record(APPOINTMENT_REGISTRY)
                .reads_personal_data(),
        ),
        rpc(
            "SetCounsellingRoom",
            Rule::roles(&[Role::Approver]).in_field("registry"),
        ),
        rpc("ListRegistries", Rule::public()),
        rpc(
            "RegisterMarriage",
            Rule::roles(STAFF).in_record(APPOINTMENT_REGISTRY),
        ),
        rpc(
            "ReissueMarriageCertificate",
            Rule::roles(STAFF).in_record(APPOINTMENT_REGISTRY),
        ),
        rpc("BackfillMarriage", Rule::roles(STAFF).in_field("registry")),
        rpc(
            "AttachArchiveDocument",
            Rule::roles(STAFF).in_record("the record's registry"),
        ),
        rpc(
            "GetMarriage",
            Rule::roles(READERS)
                .in_record("the marriage's registry")
                .reads_personal_data(),
        ),
        rpc(
            "GetMaritalStatus",
            Rule::roles(READERS).reads_personal_data(),
        ),
        rpc(
            "ApplyForDivorce",
            Rule::roles(STAFF).in_record(APPOINTMENT_REGISTRY),
        ),
        rpc(
            "WithdrawDivorceApplication",
            Rule::roles(STAFF).in_record("the application's registry"),
        ),
        rpc(
            "RegisterDivorce",
            Rule::roles(STAFF).in_record(APPOINTMENT_REGISTRY),
        ),
        rpc("BackfillDivorce", Rule::roles(STAFF).in_field("registry")),
        rpc(
            "GetDivorceApplication",
            Rule::roles(READERS)
                .in_record("the application's registry")
                .reads_personal_data(),
        ),
        rpc(
            "RecordDeath",
            Rule::roles(STAFF_OR_AGENCY).in_field("county"),
        ),
        rpc(
            "RecordFuneralService",
            Rule::roles(STAFF).in_record("the deceased's county"),
        ),
        rpc(
            "GetDeath",
            Rule::roles(READERS)
                .in_record("the deceased's county")
                .reads_personal_data(),
        ),
        rpc("GetIndicators", Rule::public()),
    ],
};

const fn rpc(method: &'static str, rule: Rule) -> RpcAccess {
    RpcAccess { method, rule }
}

impl Edge for CivilRegistryApi {
    const ACCESS: AccessPolicy = ACCESS;

    fn audit_log(&self) -> &AuditLog {
        &self.audit
    }
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

minzheng_host::grpc_service! {
    impl CivilRegistryService for CivilRegistryApi {
        publish_slots(PublishSlots): pb::PublishSlotsRequest => pb::PublishSlotsResponse;
        list_slots(ListSlots): pb::ListSlotsRequest => pb::ListSlotsResponse;
        book_appointment(BookAppointment): pb::BookAppointmentRequest => pb::BookAppointmentResponse;
        reschedule_appointment(RescheduleAppointment):
            pb::RescheduleAppointmentRequest => pb::RescheduleAppointmentResponse;
        cancel_appointment(CancelAppointment):
            pb::CancelAppointmentRequest => pb::CancelAppointmentResponse;
        check_in_appointment(CheckInAppointment):
            pb::CheckInAppointmentRequest => pb::CheckInAppointmentResponse;
        get_appointment(GetAppointment): pb::GetAppointmentRequest => pb::GetAppointmentResponse;
        set_counselling_room(SetCounsellingRoom):
            pb::SetCounsellingRoomRequest => pb::SetCounsellingRoomResponse;
        list_registries(ListRegistries): pb::ListRegistriesRequest => pb::ListRegistriesResponse;
        register_marriage(RegisterMarriage):
            pb::RegisterMarriageRequest => pb::RegisterMarriageResponse;
        reissue_marriage_certificate(ReissueMarriageCertificate):
            pb::ReissueMarriageCertificateRequest => pb::ReissueMarriageCertificateResponse;
        backfill_marriage(BackfillMarriage):
            pb::BackfillMarriageRequest => pb::BackfillMarriageResponse;
        attach_archive_document(AttachArchiveDocument):
            pb::AttachArchiveDocumentRequest => pb::AttachArchiveDocumentResponse;
        get_marriage(GetMarriage): pb::GetMarriageRequest => pb::GetMarriageResponse;
        get_marital_status(GetMaritalStatus):
            pb::GetMaritalStatusRequest => pb::GetMaritalStatusResponse;
        apply_for_divorce(ApplyForDivorce): pb::ApplyForDivorceRequest => pb::ApplyForDivorceResponse;
        withdraw_divorce_application(WithdrawDivorceApplication):
            pb::WithdrawDivorceApplicationRequest => pb::WithdrawDivorceApplicationResponse;
        register_divorce(RegisterDivorce): pb::RegisterDivorceRequest => pb::RegisterDivorceResponse;
        backfill_divorce(BackfillDivorce): pb::BackfillDivorceRequest => pb::BackfillDivorceResponse;
        get_divorce_application(GetDivorceApplication):
            pb::GetDivorceApplicationRequest => pb::GetDivorceApplicationResponse;
        record_death(RecordDeath): pb::RecordDeathRequest => pb::RecordDeathResponse;
        record_funeral_service(RecordFuneralService):
            pb::RecordFuneralServiceRequest => pb::RecordFuneralServiceResponse;
        get_death(GetDeath): pb::GetDeathRequest => pb::GetDeathResponse;
        get_indicators(GetIndicators): pb::GetIndicatorsRequest => pb::GetIndicatorsResponse;
    }
}
