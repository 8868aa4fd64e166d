//! With its database cut, every RPC of the assistance service answers UNAVAILABLE (retry later),
//! promptly, and the service writes again once the database is back.

use std::time::Duration;

use bytes::Bytes;
use minzheng_assistance::grpc::AssistanceApi;
use minzheng_host::testing::{self, DatabaseCut, TestHost};
use minzheng_kit::clock::FixedClock;
use minzheng_proto::assistance::v1 as pb;
use prost::Message as _;
use time::macros::date;

use crate::support::{
    self, FIRST_DAY, OLD_MAN, OLD_WOMAN, PINGSHAN, PINGSHAN_STREET, Verifications, day,
    family_earns_630, family_of_three, metadata, region,
};

/// Small, so the test is quick; the bound on the answers is a few of these.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// The case the first valid request (the submission) creates.
const CASE: &str = "210502-DB-2025-000001";
/// 平山区's payment cycle of October 2025.
const CYCLE: &str = "210502-202510";

#[tokio::test]
async fn every_rpc_is_unavailable_while_the_database_is_cut_and_recovers() {
    let clock = FixedClock::new(FIRST_DAY);
    let answers = Verifications::default();
    family_earns_630(&answers);
    let host = support::hosted(
        TestHost::distributed()
            .through_proxy()
            .database_acquire_timeout(ACQUIRE_TIMEOUT),
        &clock,
        &answers,
    )
    .start()
    .await;
    host.settle().await;
    let answers = testing::assert_every_rpc_unavailable_while_database_cut(
        &host,
        DatabaseCut {
            service: "assistance",
            policy: &AssistanceApi::access(),
            request: &valid_request,
            answered_from_memory: &[
                (
                    "ListCases",
                    "the case list is the in-memory overview, without personal data (no audit)",
                ),
                (
                    "ListOverdueSteps",
                    "the overdue steps come from the in-memory overview and calendar (no audit)",
                ),
                (
                    "ListStandards",
                    "the standards are public and come from the in-memory overview",
                ),
                (
                    "ListMonitoredHouseholds",
                    "case and alert ids from the in-memory overview, without personal data (no \
                     audit)",
                ),
            ],
            recovery: (
                "SubmitApplication",
                support::dibao(PINGSHAN_STREET, PINGSHAN_STREET, &[OLD_MAN, OLD_WOMAN], &[])
                    .encode_to_vec()
                    .into(),
            ),
        },
    )
    .await;
    let slowest = answers.iter().map(|a| a.took).max().unwrap_or_default();
    println!("assistance: slowest answer with the database cut {slowest:?}: {answers:?}");
    host.shutdown().await;
}

/// A well-formed request of each RPC, naming 平山区 and the case the submission creates.
fn valid_request(method: &str) -> Option<Bytes> {
    let encoded = match method {
        "SubmitApplication" => family_of_three().encode_to_vec(),
        "GetCase" => pb::GetCaseRequest {
            case_id: CASE.into(),
            read: None,
        }
        .encode_to_vec(),
        "ListCases" => pb::ListCasesRequest {
            county: region(PINGSHAN),
            ..Default::default()
        }
        .encode_to_vec(),
        "RecordTownshipReview" => pb::RecordTownshipReviewRequest {
            metadata: metadata(),
            case_id: CASE.into(),
            recommends_approval: true,
            opinion: "入户调查属实，建议确认".into(),
            visited_on: day(FIRST_DAY),
        }
        .encode_to_vec(),
        "PostNotice" => pb::PostNoticeRequest {
            metadata: metadata(),
            case_id: CASE.into(),
        }
        .encode_to_vec(),
        "RecordObjection" => pb::RecordObjectionRequest {
            metadata: metadata(),
            case_id: CASE.into(),
            summary: "群众反映有未申报收入".into(),
        }
        .encode_to_vec(),
        "ResolveObjection" => pb::ResolveObjectionRequest {
            metadata: metadata(),
            case_id: CASE.into(),
            objection: 1,
            upheld: false,
            finding: "经核实不属实".into(),
        }
        .encode_to_vec(),
        "DecideApplication" => pb::DecideApplicationRequest {
            metadata: metadata(),
            case_id: CASE.into(),
            decision: pb::Decision::Approve.into(),
            reason: String::new(),
            amount: None,
        }
        .encode_to_vec(),
        "ExplainBenefit" => pb::ExplainBenefitRequest {
            case_id: CASE.into(),
            month: day(date!(2025 - 10 - 01)),
            read: None,
        }
        .encode_to_vec(),
        "ListOverdueSteps" => pb::ListOverdueStepsRequest {
            county: region(PINGSHAN),
            read: None,
        }
        .encode_to_vec(),
        "StartReview" => pb::StartReviewRequest {
            metadata: metadata(),
            case_id: CASE.into(),
            cause: pb::ReviewCause::Periodic.into(),
        }
        .encode_to_vec(),
        "CompleteReview" => pb::CompleteReviewRequest {
            metadata: metadata(),
            case_id: CASE.into(),
        }
        .encode_to_vec(),
        "SuspendCase" => pb::SuspendCaseRequest {
            metadata: metadata(),
            case_id: CASE.into(),
            reason: "外出务工，待核实".into(),
        }
        .encode_to_vec(),
        "ResumeCase" => pb::ResumeCaseRequest {
            metadata: metadata(),
            case_id: CASE.into(),
        }
        .encode_to_vec(),
        "TerminateCase" => pb::TerminateCaseRequest {
            metadata: metadata(),
            case_id: CASE.into(),
            reason: "家庭收入超过标准".into(),
        }
        .encode_to_vec(),
        "RecordStandard" => pb::RecordStandardRequest {
            metadata: metadata(),
            county: region(PINGSHAN),
            standard: Some(pb::record_standard_request::Standard::LowIncomeMultiplier(
                pb::LowIncomeMultiplier { permille: 1600 },
            )),
            effective_from: day(date!(2025 - 11 - 01)),
            decided_by: "平政发〔2025〕9号".into(),
        }
        .encode_to_vec(),
        "ListStandards" => pb::ListStandardsRequest {
            county: region(PINGSHAN),
            read: None,
        }
        .encode_to_vec(),
        "LoadHolidayCalendar" => pb::LoadHolidayCalendarRequest {
            metadata: metadata(),
            year: 2027,
            holidays: vec![date!(2027 - 01 - 01).into()],
            working_days: vec![],
            source: "国办发明电〔2026〕1号".into(),
        }
        .encode_to_vec(),
        "ReplenishReserveFund" => pb::ReplenishReserveFundRequest {
            metadata: metadata(),
            township: region(PINGSHAN_STREET),
            amount: Some(minzheng_proto::common::v1::Money { fen: 1_000_000 }),
            reference: "平财社〔2025〕3号".into(),
        }
        .encode_to_vec(),
        "GetReserveFund" => pb::GetReserveFundRequest {
            township: region(PINGSHAN_STREET),
            read: None,
        }
        .encode_to_vec(),
        "PayTemporaryAidAtOnce" => pb::PayTemporaryAidAtOnceRequest {
            metadata: metadata(),
            case_id: CASE.into(),
            amount: Some(minzheng_proto::common::v1::Money { fen: 50_000 }),
        }
        .encode_to_vec(),
        "ReportTemporaryAid" => pb::ReportTemporaryAidRequest {
            metadata: metadata(),
            case_id: CASE.into(),
        }
        .encode_to_vec(),
        "TransferTemporaryAid" => pb::TransferTemporaryAidRequest {
            metadata: metadata(),
            case_id: CASE.into(),
        }
        .encode_to_vec(),
        "GeneratePaymentCycle" => pb::GeneratePaymentCycleRequest {
            metadata: metadata(),
            county: region(PINGSHAN),
            month: day(date!(2025 - 10 - 01)),
        }
        .encode_to_vec(),
        "ApprovePaymentCycle" => pb::ApprovePaymentCycleRequest {
            metadata: metadata(),
            cycle_id: CYCLE.into(),
        }
        .encode_to_vec(),
        "ExportPaymentCycle" => pb::ExportPaymentCycleRequest {
            metadata: metadata(),
            cycle_id: CYCLE.into(),
        }
        .encode_to_vec(),
        "ImportPaymentResults" => pb::ImportPaymentResultsRequest {
            metadata: metadata(),
            cycle_id: CYCLE.into(),
            file: b"line_no,case_id,amount_yuan,status,reason\r\n".to_vec(),
        }
        .encode_to_vec(),
        "GetPaymentCycle" => pb::GetPaymentCycleRequest {
            cycle_id: CYCLE.into(),
            read: None,
        }
        .encode_to_vec(),
        "ListReferrals" => pb::ListReferralsRequest {
            county: region(PINGSHAN),
            ..Default::default()
        }
        .encode_to_vec(),
        "ActOnReferral" => pb::ActOnReferralRequest {
            metadata: metadata(),
            alert_id: "AL-2025-0001".into(),
            outcome: pb::ReferralOutcome::CouldNotReach.into(),
            case_id: String::new(),
            note: "两次入户未遇".into(),
        }
        .encode_to_vec(),
        "ListMonitoredHouseholds" => pb::ListMonitoredHouseholdsRequest {
            county: region(PINGSHAN),
            read: None,
        }
        .encode_to_vec(),
        "GetIndicators" => pb::GetIndicatorsRequest {
            region: region(PINGSHAN),
            as_of: day(date!(2025 - 10 - 01)),
            read: None,
        }
        .encode_to_vec(),
        _ => return None,
    };
    Some(encoded.into())
}
