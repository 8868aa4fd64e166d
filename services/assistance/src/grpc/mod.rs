//! `minzheng.assistance.v1.AssistanceService`: request conversion (every field parsed into a
//! domain value, every violation reported at once as INVALID_ARGUMENT naming the field and the
//! rule) and answers. Proto types stop here.
//!
//! The RPCs live in `cases` (applications and their steps), `money` (standards, calendars,
//! reserve funds and payments at once, payment cycles) and `monitoring` (referrals from household
//! alerts, the monitoring list, the indicators); `household` parses an application's
//! household. The table at the end of this file declares each RPC with its
//! access rule, and `grpc_service!` serves each through the shared edge (admission, region
//! scope, read audit, refusals logged at INFO).

mod cases;
mod household;
mod money;
mod monitoring;

use minzheng_host::{audit::AuditLog, edge::Call};
use minzheng_kit::{Error, access::Rule, auth::Role};
use minzheng_proto::assistance::v1::{
    self as pb,
    assistance_service_server::{AssistanceService, AssistanceServiceServer},
};

use crate::{
    app::{
        Assistance,
        monitoring::{Monitoring, MonitoringSettings},
    },
    case::Case,
};

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct AssistanceApi {
    app: Assistance,
    audit: AuditLog,
    monitoring: Monitoring,
}

impl AssistanceApi {
    /// The API over `app`, with the default monitoring settings.
    pub fn new(app: Assistance, audit: AuditLog) -> Self {
        let monitoring = Monitoring::new(app.clone(), MonitoringSettings::default());
        Self {
            app,
            audit,
            monitoring,
        }
    }

    /// Answers the monitoring RPCs from `monitoring` (configured by the settings).
    pub fn with_monitoring(mut self, monitoring: Monitoring) -> Self {
        self.monitoring = monitoring;
        self
    }

    pub fn into_server(self) -> AssistanceServiceServer<Self> {
        AssistanceServiceServer::new(self)
    }

    /// Checks the caller's scope against a case: its township (caseworkers there, approvers and
    /// auditors of its county), else the window that received it (the window's caseworkers
    /// follow what they took in). Outside both: PERMISSION_DENIED.
    fn require_case_scope<T>(&self, call: &Call<T>, case: &Case) -> Result<(), Error> {
        let division = case
            .division
            .ok_or_else(|| Error::NotFound("no such case".to_owned()))?;
        match call.require_region(division) {
            Ok(()) => Ok(()),
            Err(denied) => match case.application.as_ref().map(|a| a.window) {
                Some(window) if window != division => call.require_region(window),
                _ => Err(denied),
            },
        }
    }

    /// Checks the caller's scope against the case's township only (its steps are the
    /// township's and the county's, not the window's).
    fn require_case_township<T>(&self, call: &Call<T>, case: &Case) -> Result<(), Error> {
        let division = case
            .division
            .ok_or_else(|| Error::NotFound("no such case".to_owned()))?;
        call.require_region(division)
    }

    /// Notes the case and each member (by pseudonym) for the read audit.
    fn audit_case<T>(&self, call: &Call<T>, case: &Case) {
        if let Some(application) = &case.application {
            call.audit("case", application.case_id.to_string());
            for member in application.household.citizens() {
                call.audit("person", self.app.pseudonym(&member));
            }
        }
    }
}

/// Township staff: they take in applications and carry out the township's steps.
const TOWNSHIP: &[Role] = &[Role::Caseworker];
/// Township and county staff.
const STAFF: &[Role] = &[Role::Caseworker, Role::Approver];
/// Who reads cases.
const READERS: &[Role] = &[Role::Caseworker, Role::Approver, Role::Auditor];
/// Who reads a county's lists.
const COUNTY_READERS: &[Role] = &[Role::Approver, Role::Auditor];

const CASE_TOWNSHIP: &str = "the case's township";
const CASE_COUNTY: &str = "the case's county";
const CASE_WINDOW: &str = "the township that took the application";
const CYCLE_COUNTY: &str = "the cycle's county";
const REFERRAL_TOWNSHIP: &str = "the referral's township";

// The RPCs and their access rules, declared once. Every caller acts only within its token's
// regions: a caseworker's township, an approver's or auditor's county.
minzheng_host::grpc_service! {
    impl AssistanceService for AssistanceApi {
        server: AssistanceServiceServer<AssistanceApi>,
        audit: audit,
        submit_application(SubmitApplication):
            pb::SubmitApplicationRequest => pb::SubmitApplicationResponse
            = Rule::roles(TOWNSHIP).in_field("window");
        get_case(GetCase):
            pb::GetCaseRequest => pb::GetCaseResponse
            = Rule::roles(READERS).in_record("the case's township or window").reads_personal_data();
        list_cases(ListCases):
            pb::ListCasesRequest => pb::ListCasesResponse
            = Rule::roles(READERS).in_field("township, else county");
        record_township_review(RecordTownshipReview):
            pb::RecordTownshipReviewRequest => pb::RecordTownshipReviewResponse
            = Rule::roles(TOWNSHIP).in_record(CASE_TOWNSHIP);
        post_notice(PostNotice):
            pb::PostNoticeRequest => pb::PostNoticeResponse
            = Rule::roles(TOWNSHIP).in_record(CASE_TOWNSHIP);
        record_objection(RecordObjection):
            pb::RecordObjectionRequest => pb::RecordObjectionResponse
            = Rule::roles(STAFF).in_record(CASE_TOWNSHIP);
        resolve_objection(ResolveObjection):
            pb::ResolveObjectionRequest => pb::ResolveObjectionResponse
            = Rule::roles(STAFF).in_record(CASE_TOWNSHIP);
        decide_application(DecideApplication):
            pb::DecideApplicationRequest => pb::DecideApplicationResponse
            = Rule::roles(&[Role::Approver]).in_record(CASE_COUNTY);
        explain_benefit(ExplainBenefit):
            pb::ExplainBenefitRequest => pb::ExplainBenefitResponse
            = Rule::roles(READERS).in_record(CASE_TOWNSHIP).reads_personal_data();
        list_overdue_steps(ListOverdueSteps):
            pb::ListOverdueStepsRequest => pb::ListOverdueStepsResponse
            = Rule::roles(COUNTY_READERS).in_field("county");
        start_review(StartReview):
            pb::StartReviewRequest => pb::StartReviewResponse
            = Rule::roles(STAFF).in_record(CASE_TOWNSHIP);
        complete_review(CompleteReview):
            pb::CompleteReviewRequest => pb::CompleteReviewResponse
            = Rule::roles(&[Role::Approver]).in_record(CASE_COUNTY);
        suspend_case(SuspendCase):
            pb::SuspendCaseRequest => pb::SuspendCaseResponse
            = Rule::roles(&[Role::Approver]).in_record(CASE_COUNTY);
        resume_case(ResumeCase):
            pb::ResumeCaseRequest => pb::ResumeCaseResponse
            = Rule::roles(&[Role::Approver]).in_record(CASE_COUNTY);
        terminate_case(TerminateCase):
            pb::TerminateCaseRequest => pb::TerminateCaseResponse
            = Rule::roles(&[Role::Approver]).in_record(CASE_COUNTY);
        record_standard(RecordStandard):
            pb::RecordStandardRequest => pb::RecordStandardResponse
            = Rule::roles(&[Role::Approver]).in_field("county");
        list_standards(ListStandards):
            pb::ListStandardsRequest => pb::ListStandardsResponse
            = Rule::public();
        load_holiday_calendar(LoadHolidayCalendar):
            pb::LoadHolidayCalendarRequest => pb::LoadHolidayCalendarResponse
            = Rule::roles(&[Role::Operator]);
        replenish_reserve_fund(ReplenishReserveFund):
            pb::ReplenishReserveFundRequest => pb::ReplenishReserveFundResponse
            = Rule::roles(&[Role::Approver]).in_field("township");
        get_reserve_fund(GetReserveFund):
            pb::GetReserveFundRequest => pb::GetReserveFundResponse
            = Rule::roles(READERS).in_field("township");
        pay_temporary_aid_at_once(PayTemporaryAidAtOnce):
            pb::PayTemporaryAidAtOnceRequest => pb::PayTemporaryAidAtOnceResponse
            = Rule::roles(TOWNSHIP).in_record(CASE_WINDOW);
        report_temporary_aid(ReportTemporaryAid):
            pb::ReportTemporaryAidRequest => pb::ReportTemporaryAidResponse
            = Rule::roles(TOWNSHIP).in_record(CASE_WINDOW);
        transfer_temporary_aid(TransferTemporaryAid):
            pb::TransferTemporaryAidRequest => pb::TransferTemporaryAidResponse
            = Rule::roles(TOWNSHIP).in_record(CASE_WINDOW);
        generate_payment_cycle(GeneratePaymentCycle):
            pb::GeneratePaymentCycleRequest => pb::GeneratePaymentCycleResponse
            = Rule::roles(&[Role::Approver]).in_field("county");
        approve_payment_cycle(ApprovePaymentCycle):
            pb::ApprovePaymentCycleRequest => pb::ApprovePaymentCycleResponse
            = Rule::roles(&[Role::Approver]).in_record(CYCLE_COUNTY);
        export_payment_cycle(ExportPaymentCycle):
            pb::ExportPaymentCycleRequest => pb::ExportPaymentCycleResponse
            = Rule::roles(&[Role::Approver]).in_record(CYCLE_COUNTY).reads_personal_data();
        import_payment_results(ImportPaymentResults):
            pb::ImportPaymentResultsRequest => pb::ImportPaymentResultsResponse
            = Rule::roles(&[Role::Approver]).in_record(CYCLE_COUNTY);
        get_payment_cycle(GetPaymentCycle):
            pb::GetPaymentCycleRequest => pb::GetPaymentCycleResponse
            = Rule::roles(COUNTY_READERS).in_record(CYCLE_COUNTY);
        // Monitoring (致贫返贫监测预警): a township's caseworkers read and act on its referrals
        // (with the members each alert names: audited); the county's approvers and auditors read
        // the list, which names cases and alerts only, and the indicators — not public: they are
        // computed from the cases. A city's figures need a city-scoped token.
        list_referrals(ListReferrals):
            pb::ListReferralsRequest => pb::ListReferralsResponse
            = Rule::roles(READERS).in_field("township, else county").reads_personal_data();
        act_on_referral(ActOnReferral):
            pb::ActOnReferralRequest => pb::ActOnReferralResponse
            = Rule::roles(TOWNSHIP).in_record(REFERRAL_TOWNSHIP);
        list_monitored_households(ListMonitoredHouseholds):
            pb::ListMonitoredHouseholdsRequest => pb::ListMonitoredHouseholdsResponse
            = Rule::roles(COUNTY_READERS).in_field("county");
        get_indicators(GetIndicators):
            pb::GetIndicatorsRequest => pb::GetIndicatorsResponse
            = Rule::roles(COUNTY_READERS).in_field("region (a county, or a city)");
    }
}
