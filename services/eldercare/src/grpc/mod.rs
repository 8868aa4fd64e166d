//! `minzheng.eldercare.v1.ElderCareService`: request conversion (every field parsed into a
//! domain value, every violation reported at once as INVALID_ARGUMENT naming the field and the
//! rule) and answers. Proto types stop here.
//!
//! The RPCs live in `institutions` (institutions, residents, service points, indicators) and
//! `elders` (assessments, subsidies, visits, population); the table at the end of this file
//! declares each with its access rule, and `grpc_service!` serves each through the shared edge.

mod elders;
mod institutions;

use minzheng_host::{audit::AuditLog, edge::Call, fields::Fields as _};
use minzheng_kit::{Error, access::Rule, auth::Role};
use minzheng_proto::{
    common::v1 as common,
    eldercare::v1::{
        self as pb,
        elder_care_service_server::{ElderCareService, ElderCareServiceServer},
    },
};
use minzheng_types::{RegionCode, RegionLevel, Violations};

use crate::{app::ElderCare, elder::Elder, ids::InstitutionId};

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct ElderCareApi {
    app: ElderCare,
    audit: AuditLog,
}

impl ElderCareApi {
    pub fn new(app: ElderCare, audit: AuditLog) -> Self {
        Self { app, audit }
    }

    pub fn into_server(self) -> ElderCareServiceServer<Self> {
        ElderCareServiceServer::new(self)
    }

    /// The institution a request names, after checking the caller may act in its county.
    async fn institution_in_scope<T>(
        &self,
        call: &Call<T>,
        id: &InstitutionId,
    ) -> Result<crate::institution::Institution, Error> {
        let institution = self.app.institution(id).await?;
        let county = institution
            .profile()
            .map_or(id.county(), |profile| profile.county);
        call.require_region(county)?;
        Ok(institution)
    }
}

/// Civil-affairs staff.
const STAFF: &[Role] = &[Role::Caseworker, Role::Approver];
/// Staff, or an institution's or assessment agency's own system.
const STAFF_OR_AGENCY: &[Role] = &[Role::Caseworker, Role::Approver, Role::Agency];
/// Who decides: grades, credit records, standards, population figures.
const APPROVER: &[Role] = &[Role::Approver];
/// Who reads records: staff, auditors and agencies.
const READERS: &[Role] = &[
    Role::Caseworker,
    Role::Approver,
    Role::Auditor,
    Role::Agency,
];
/// Who works the overdue lists.
const SUPERVISORS: &[Role] = &[Role::Caseworker, Role::Approver, Role::Auditor];

const INSTITUTION_COUNTY: &str = "the institution's county";
const POINT_COUNTY: &str = "the service point's county";
const PERSON_DIVISION: &str = "the person's division";

fn county(
    field: &str,
    value: &Option<common::RegionCode>,
    violations: &mut Violations,
) -> Option<RegionCode> {
    violations.region_at(field, value, &[RegionLevel::County], "210502000000")
}

/// A township- or village-level division.
fn local_division(
    field: &str,
    value: &Option<common::RegionCode>,
    violations: &mut Violations,
) -> Option<RegionCode> {
    violations.region_at(
        field,
        value,
        &[RegionLevel::Township, RegionLevel::Village],
        "210502001000",
    )
}

/// Where a person lives, for scoping a read of their record: the division of their latest
/// assessment, else their visit plan's township, else their institution's county.
fn person_region(elder: &Elder) -> Option<RegionCode> {
    elder
        .assessments()
        .last()
        .map(|a| a.division)
        .or_else(|| elder.visit_plan().map(|p| p.township))
        .or_else(|| elder.placement().map(|p| p.institution.county()))
}

// The RPCs and their access rules, declared once. Every caller acts only within its token's
// regions; the lists and indicators without personal data are public.
minzheng_host::grpc_service! {
    impl ElderCareService for ElderCareApi {
        server: ElderCareServiceServer<ElderCareApi>,
        audit: audit,
        register_institution(RegisterInstitution):
            pb::RegisterInstitutionRequest => pb::RegisterInstitutionResponse
            = Rule::roles(STAFF).in_field("county");
        record_licence(RecordLicence):
            pb::RecordLicenceRequest => pb::RecordLicenceResponse
            = Rule::roles(STAFF).in_record(INSTITUTION_COUNTY);
        change_beds(ChangeBeds):
            pb::ChangeBedsRequest => pb::ChangeBedsResponse
            = Rule::roles(STAFF).in_record(INSTITUTION_COUNTY);
        admit_resident(AdmitResident):
            pb::AdmitResidentRequest => pb::AdmitResidentResponse
            = Rule::roles(STAFF_OR_AGENCY).in_record(INSTITUTION_COUNTY);
        discharge_resident(DischargeResident):
            pb::DischargeResidentRequest => pb::DischargeResidentResponse
            = Rule::roles(STAFF_OR_AGENCY).in_record(INSTITUTION_COUNTY);
        move_resident(MoveResident):
            pb::MoveResidentRequest => pb::MoveResidentResponse
            = Rule::roles(STAFF_OR_AGENCY).in_record(INSTITUTION_COUNTY);
        record_quality_grade(RecordQualityGrade):
            pb::RecordQualityGradeRequest => pb::RecordQualityGradeResponse
            = Rule::roles(APPROVER).in_record(INSTITUTION_COUNTY);
        record_credit_entry(RecordCreditEntry):
            pb::RecordCreditEntryRequest => pb::RecordCreditEntryResponse
            = Rule::roles(APPROVER).in_record(INSTITUTION_COUNTY);
        report_social_workers(ReportSocialWorkers):
            pb::ReportSocialWorkersRequest => pb::ReportSocialWorkersResponse
            = Rule::roles(STAFF_OR_AGENCY).in_record(INSTITUTION_COUNTY);
        get_institution(GetInstitution):
            pb::GetInstitutionRequest => pb::GetInstitutionResponse
            = Rule::roles(READERS).in_record(INSTITUTION_COUNTY).reads_personal_data();
        list_institutions(ListInstitutions):
            pb::ListInstitutionsRequest => pb::ListInstitutionsResponse
            = Rule::public();
        open_service_point(OpenServicePoint):
            pb::OpenServicePointRequest => pb::OpenServicePointResponse
            = Rule::roles(STAFF).in_field("county");
        change_service_point_capacity(ChangeServicePointCapacity):
            pb::ChangeServicePointCapacityRequest => pb::ChangeServicePointCapacityResponse
            = Rule::roles(STAFF).in_record(POINT_COUNTY);
        close_service_point(CloseServicePoint):
            pb::CloseServicePointRequest => pb::CloseServicePointResponse
            = Rule::roles(STAFF).in_record(POINT_COUNTY);
        list_service_points(ListServicePoints):
            pb::ListServicePointsRequest => pb::ListServicePointsResponse
            = Rule::public();
        record_assessment(RecordAssessment):
            pb::RecordAssessmentRequest => pb::RecordAssessmentResponse
            = Rule::roles(STAFF_OR_AGENCY).in_field("division");
        get_elder(GetElder):
            pb::GetElderRequest => pb::GetElderResponse
            = Rule::roles(READERS).in_record(PERSON_DIVISION).reads_personal_data();
        record_subsidy_standard(RecordSubsidyStandard):
            pb::RecordSubsidyStandardRequest => pb::RecordSubsidyStandardResponse
            = Rule::roles(APPROVER).in_field("city");
        list_subsidy_standards(ListSubsidyStandards):
            pb::ListSubsidyStandardsRequest => pb::ListSubsidyStandardsResponse
            = Rule::public();
        get_monthly_subsidy(GetMonthlySubsidy):
            pb::GetMonthlySubsidyRequest => pb::GetMonthlySubsidyResponse
            = Rule::roles(READERS).in_record(PERSON_DIVISION).reads_personal_data();
        open_visit_plan(OpenVisitPlan):
            pb::OpenVisitPlanRequest => pb::OpenVisitPlanResponse
            = Rule::roles(STAFF).in_field("township");
        record_visit(RecordVisit):
            pb::RecordVisitRequest => pb::RecordVisitResponse
            = Rule::roles(STAFF_OR_AGENCY).in_record("the visit plan's township");
        close_visit_plan(CloseVisitPlan):
            pb::CloseVisitPlanRequest => pb::CloseVisitPlanResponse
            = Rule::roles(STAFF).in_record("the visit plan's township");
        list_overdue_visits(ListOverdueVisits):
            pb::ListOverdueVisitsRequest => pb::ListOverdueVisitsResponse
            = Rule::roles(SUPERVISORS).in_field("region").reads_personal_data();
        record_elderly_population(RecordElderlyPopulation):
            pb::RecordElderlyPopulationRequest => pb::RecordElderlyPopulationResponse
            = Rule::roles(APPROVER).in_field("county");
        get_indicators(GetIndicators):
            pb::GetIndicatorsRequest => pb::GetIndicatorsResponse
            = Rule::public();
    }
}
