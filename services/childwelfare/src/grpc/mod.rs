//! `minzheng.childwelfare.v1.ChildWelfareService`: request conversion (every field parsed into a
//! domain value, every violation reported at once as INVALID_ARGUMENT naming the field and the
//! rule) and answers. Proto types stop here.
//!
//! The RPCs live in `children` (allowance standards, children's records, adoptions), `cases`
//! (reports and protection cases) and `posts` (child directors and supervisors, indicators); the
//! table at the end of this file declares each with its access rule, and `grpc_service!` serves
//! each through the shared edge.

mod cases;
mod children;
mod posts;

use minzheng_host::{audit::AuditLog, fields::Fields as _};
use minzheng_kit::{access::Rule, auth::Role};
use minzheng_proto::{
    childwelfare::v1::{
        self as pb,
        child_welfare_service_server::{ChildWelfareService, ChildWelfareServiceServer},
    },
    common::v1 as common,
};
use minzheng_types::{RegionCode, RegionLevel, Violations};

use crate::app::ChildWelfare;

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct ChildWelfareApi {
    pub(super) app: ChildWelfare,
    audit: AuditLog,
}

impl ChildWelfareApi {
    pub fn new(app: ChildWelfare, audit: AuditLog) -> Self {
        Self { app, audit }
    }

    pub fn into_server(self) -> ChildWelfareServiceServer<Self> {
        ChildWelfareServiceServer::new(self)
    }
}

/// Civil-affairs staff.
const STAFF: &[Role] = &[Role::Caseworker, Role::Approver];
/// Who decides allowance standards.
const APPROVER: &[Role] = &[Role::Approver];
/// Who reads records: staff and auditors.
const READERS: &[Role] = &[Role::Caseworker, Role::Approver, Role::Auditor];
/// Who may learn who made a report: auditors and approvers, naming why.
const REPORTER_READERS: &[Role] = &[Role::Auditor, Role::Approver];

const CHILD_DIVISION: &str = "the child's division";
const CASE_DIVISION: &str = "the case's division";

/// The city-level divisions `codes` lie in, each once: what a list asked for without a region
/// covers, so that only a caller scoped to all of them may ask for it.
pub(super) fn cities_of(codes: impl IntoIterator<Item = RegionCode>) -> Vec<RegionCode> {
    let cities: std::collections::BTreeSet<RegionCode> =
        codes.into_iter().filter_map(RegionCode::city).collect();
    cities.into_iter().collect()
}

/// A township- or village-level division.
pub(super) fn local_division(
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

// The RPCs and their access rules, declared once. Every caller acts only within its token's
// regions; only the indicators and the allowance standards, which hold no personal data, are
// public.
minzheng_host::grpc_service! {
    impl ChildWelfareService for ChildWelfareApi {
        server: ChildWelfareServiceServer<ChildWelfareApi>,
        audit: audit,
        record_allowance_standard(RecordAllowanceStandard):
            pb::RecordAllowanceStandardRequest => pb::RecordAllowanceStandardResponse
            = Rule::roles(APPROVER).in_field("city");
        list_allowance_standards(ListAllowanceStandards):
            pb::ListAllowanceStandardsRequest => pb::ListAllowanceStandardsResponse
            = Rule::public();
        identify_child(IdentifyChild):
            pb::IdentifyChildRequest => pb::IdentifyChildResponse
            = Rule::roles(STAFF).in_field("division");
        arrange_care(ArrangeCare):
            pb::ArrangeCareRequest => pb::ArrangeCareResponse
            = Rule::roles(STAFF).in_record(CHILD_DIVISION);
        revise_parent_fact(ReviseParentFact):
            pb::ReviseParentFactRequest => pb::ReviseParentFactResponse
            = Rule::roles(STAFF).in_record(CHILD_DIVISION);
        register_adoption(RegisterAdoption):
            pb::RegisterAdoptionRequest => pb::RegisterAdoptionResponse
            = Rule::roles(STAFF).in_field("registry");
        get_child(GetChild):
            pb::GetChildRequest => pb::GetChildResponse
            = Rule::roles(READERS).in_record(CHILD_DIVISION).reads_personal_data();
        get_monthly_allowance(GetMonthlyAllowance):
            pb::GetMonthlyAllowanceRequest => pb::GetMonthlyAllowanceResponse
            = Rule::roles(READERS).in_record(CHILD_DIVISION).reads_personal_data();
        file_report(FileReport):
            pb::FileReportRequest => pb::FileReportResponse
            = Rule::roles(STAFF).in_field("division");
        assign_caseworker(AssignCaseworker):
            pb::AssignCaseworkerRequest => pb::AssignCaseworkerResponse
            = Rule::roles(STAFF).in_record(CASE_DIVISION);
        record_emergency_handling(RecordEmergencyHandling):
            pb::RecordEmergencyHandlingRequest => pb::RecordEmergencyHandlingResponse
            = Rule::roles(STAFF).in_record(CASE_DIVISION);
        record_case_assessment(RecordCaseAssessment):
            pb::RecordCaseAssessmentRequest => pb::RecordCaseAssessmentResponse
            = Rule::roles(STAFF).in_record(CASE_DIVISION);
        agree_assistance_plan(AgreeAssistancePlan):
            pb::AgreeAssistancePlanRequest => pb::AgreeAssistancePlanResponse
            = Rule::roles(STAFF).in_record(CASE_DIVISION);
        record_guardianship_intervention(RecordGuardianshipIntervention):
            pb::RecordGuardianshipInterventionRequest => pb::RecordGuardianshipInterventionResponse
            = Rule::roles(STAFF).in_record(CASE_DIVISION);
        close_case(CloseCase):
            pb::CloseCaseRequest => pb::CloseCaseResponse
            = Rule::roles(STAFF).in_record(CASE_DIVISION);
        get_case(GetCase):
            pb::GetCaseRequest => pb::GetCaseResponse
            = Rule::roles(READERS).in_record(CASE_DIVISION).reads_personal_data();
        get_case_reporter(GetCaseReporter):
            pb::GetCaseReporterRequest => pb::GetCaseReporterResponse
            = Rule::roles(REPORTER_READERS).in_record(CASE_DIVISION).reads_personal_data();
        list_cases(ListCases):
            pb::ListCasesRequest => pb::ListCasesResponse
            = Rule::roles(READERS).in_field("region");
        appoint_post_holder(AppointPostHolder):
            pb::AppointPostHolderRequest => pb::AppointPostHolderResponse
            = Rule::roles(STAFF).in_field("division");
        replace_post_holder(ReplacePostHolder):
            pb::ReplacePostHolderRequest => pb::ReplacePostHolderResponse
            = Rule::roles(STAFF).in_field("division");
        vacate_post(VacatePost):
            pb::VacatePostRequest => pb::VacatePostResponse
            = Rule::roles(STAFF).in_field("division");
        record_post_training(RecordPostTraining):
            pb::RecordPostTrainingRequest => pb::RecordPostTrainingResponse
            = Rule::roles(STAFF).in_field("division");
        list_posts(ListPosts):
            pb::ListPostsRequest => pb::ListPostsResponse
            = Rule::roles(READERS).in_field("region").reads_personal_data();
        get_indicators(GetIndicators):
            pb::GetIndicatorsRequest => pb::GetIndicatorsResponse
            = Rule::public();
    }
}
