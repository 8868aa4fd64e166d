//! Malformed requests are INVALID_ARGUMENT naming each bad field (the value never echoed);
//! nothing is recorded.

use minzheng_host::testing::{token, with_token};
use minzheng_kit::auth::Role;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common};

use crate::support::{
    self, PINGSHAN_STREET, after, bad_fields, caseworker, family_of_three, submit,
};

/// A citizen id whose check character is wrong.
const BAD_NUMBER: &str = "210502198706150024";

#[tokio::test]
async fn a_malformed_application_names_every_bad_field_and_records_nothing() {
    let support::Hosted {
        host, mut client, ..
    } = support::embedded().await;
    let mut request = family_of_three();
    request.metadata = None;
    request.window = support::region("2105020010");
    request.members[1].citizen = support::citizen(BAD_NUMBER);
    request.area = 0;
    request.payment_account = "12".to_owned();
    let status = client
        .submit_application(with_token(request, &caseworker(PINGSHAN_STREET)))
        .await
        .expect_err("malformed");
    let fields = bad_fields(&status);
    for field in [
        "metadata.idempotency_key",
        "window.code",
        "members[1].citizen.citizen_id",
        "area",
        "payment_account",
    ] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} not in {fields:?}"
        );
    }
    assert!(!status.message().contains(BAD_NUMBER), "{status:?}");

    // Nothing was recorded: the next application is the county's first.
    let submitted = submit(&mut client, family_of_three()).await;
    assert_eq!(submitted.case_id, "210502-DB-2025-000001");
    let listed = client
        .list_cases(with_token(
            pb::ListCasesRequest {
                county: support::region(support::PINGSHAN),
                read: after(&submitted.result),
                ..Default::default()
            },
            &support::auditor(support::PINGSHAN),
        ))
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(listed.cases.len(), 1, "{listed:?}");
    host.shutdown().await;
}

/// Every RPC answers a malformed request with INVALID_ARGUMENT naming at least the field given
/// here (an empty request leaves required fields out; the rest get a bad value).
#[tokio::test]
async fn every_rpc_names_the_malformed_field() {
    let support::Hosted {
        host, mut client, ..
    } = support::embedded().await;
    let bad_date = Some(common::Date {
        year: 2025,
        month: 2,
        day: 30,
    });
    // Every role, everywhere: only the request is wrong.
    let t = token(&Role::ALL, &[support::LIAONING]);
    macro_rules! check {
        ($rpc:ident, $request:expr, $field:expr) => {{
            let status = client
                .$rpc(with_token($request, &t))
                .await
                .expect_err(concat!(stringify!($rpc), " must refuse"));
            let fields = bad_fields(&status);
            assert!(
                fields.iter().any(|f| f == $field),
                "{}: {} not in {fields:?}",
                stringify!($rpc),
                $field
            );
        }};
    }
    let mut application = family_of_three();
    application.members[1].citizen = support::citizen(BAD_NUMBER);
    check!(
        submit_application,
        application,
        "members[1].citizen.citizen_id"
    );
    let mut application = family_of_three();
    application.registered_division = support::region(support::PINGSHAN);
    check!(submit_application, application, "registered_division.code");
    check!(
        submit_application,
        pb::SubmitApplicationRequest::default(),
        "metadata.idempotency_key"
    );
    check!(
        get_case,
        pb::GetCaseRequest {
            case_id: "210502-XX-2025-000001".into(),
            read: None
        },
        "case_id"
    );
    check!(list_cases, pb::ListCasesRequest::default(), "county.code");
    check!(
        list_cases,
        pb::ListCasesRequest {
            county: support::region(support::PINGSHAN),
            township: support::region("210503001000"),
            ..Default::default()
        },
        "township.code"
    );
    check!(
        record_township_review,
        pb::RecordTownshipReviewRequest {
            metadata: support::metadata(),
            case_id: "210502-DB-2025-000001".into(),
            recommends_approval: true,
            opinion: "属实".into(),
            visited_on: bad_date,
        },
        "visited_on"
    );
    check!(
        record_township_review,
        pb::RecordTownshipReviewRequest::default(),
        "opinion"
    );
    check!(post_notice, pb::PostNoticeRequest::default(), "case_id");
    check!(
        record_objection,
        pb::RecordObjectionRequest::default(),
        "summary"
    );
    check!(
        resolve_objection,
        pb::ResolveObjectionRequest::default(),
        "objection"
    );
    check!(
        decide_application,
        pb::DecideApplicationRequest::default(),
        "decision"
    );
    check!(
        decide_application,
        pb::DecideApplicationRequest {
            metadata: support::metadata(),
            case_id: "210502-DB-2025-000001".into(),
            decision: pb::Decision::Reject.into(),
            reason: String::new(),
            amount: None,
        },
        "reason"
    );
    check!(
        explain_benefit,
        pb::ExplainBenefitRequest {
            case_id: "210502-DB-2025-000001".into(),
            month: bad_date,
            read: None
        },
        "month"
    );
    check!(
        list_overdue_steps,
        pb::ListOverdueStepsRequest {
            county: support::region(PINGSHAN_STREET),
            read: None
        },
        "county.code"
    );
    let no_case = "210502-DB-2025-00001";
    check!(
        start_review,
        pb::StartReviewRequest {
            metadata: support::metadata(),
            case_id: no_case.into(),
            cause: pb::ReviewCause::Periodic.into(),
        },
        "case_id"
    );
    check!(start_review, pb::StartReviewRequest::default(), "cause");
    check!(
        complete_review,
        pb::CompleteReviewRequest::default(),
        "case_id"
    );
    check!(suspend_case, pb::SuspendCaseRequest::default(), "reason");
    check!(resume_case, pb::ResumeCaseRequest::default(), "case_id");
    check!(
        terminate_case,
        pb::TerminateCaseRequest::default(),
        "reason"
    );
    check!(
        record_standard,
        pb::RecordStandardRequest {
            metadata: support::metadata(),
            county: support::region(support::PINGSHAN),
            standard: None,
            effective_from: bad_date,
            decided_by: "平政发〔2025〕9号".into(),
        },
        "standard"
    );
    check!(
        record_standard,
        pb::RecordStandardRequest {
            metadata: support::metadata(),
            county: support::region(support::PINGSHAN),
            standard: Some(pb::record_standard_request::Standard::Dibao(
                pb::DibaoStandard {
                    area: pb::ResidenceArea::Urban.into(),
                    amount: Some(common::Money { fen: 70_000 }),
                    period: 0,
                },
            )),
            effective_from: bad_date,
            decided_by: "平政发〔2025〕9号".into(),
        },
        "dibao.period"
    );
    check!(
        record_standard,
        pb::RecordStandardRequest::default(),
        "effective_from"
    );
    check!(
        list_standards,
        pb::ListStandardsRequest {
            county: support::region(PINGSHAN_STREET),
            read: None,
        },
        "county.code"
    );
    check!(
        load_holiday_calendar,
        pb::LoadHolidayCalendarRequest {
            metadata: support::metadata(),
            year: 2027,
            holidays: vec![common::Date {
                year: 2027,
                month: 2,
                day: 30,
            }],
            working_days: vec![],
            source: "国办发明电〔2026〕1号".into(),
        },
        "holidays[0]"
    );
    check!(
        load_holiday_calendar,
        pb::LoadHolidayCalendarRequest::default(),
        "year"
    );
    check!(
        replenish_reserve_fund,
        pb::ReplenishReserveFundRequest {
            metadata: support::metadata(),
            township: support::region(support::PINGSHAN),
            amount: Some(common::Money { fen: -1 }),
            reference: "平财社〔2025〕3号".into(),
        },
        "township.code"
    );
    check!(
        replenish_reserve_fund,
        pb::ReplenishReserveFundRequest::default(),
        "reference"
    );
    check!(
        get_reserve_fund,
        pb::GetReserveFundRequest::default(),
        "township.code"
    );
    check!(
        pay_temporary_aid_at_once,
        pb::PayTemporaryAidAtOnceRequest {
            metadata: support::metadata(),
            case_id: "210502-LS-2025-000001".into(),
            amount: None,
        },
        "amount.fen"
    );
    check!(
        report_temporary_aid,
        pb::ReportTemporaryAidRequest::default(),
        "case_id"
    );
    check!(
        transfer_temporary_aid,
        pb::TransferTemporaryAidRequest::default(),
        "case_id"
    );
    check!(
        generate_payment_cycle,
        pb::GeneratePaymentCycleRequest {
            metadata: support::metadata(),
            county: support::region(support::PINGSHAN),
            month: bad_date,
        },
        "month"
    );
    check!(
        approve_payment_cycle,
        pb::ApprovePaymentCycleRequest {
            metadata: support::metadata(),
            cycle_id: "210502-202513".into(),
        },
        "cycle_id"
    );
    check!(
        export_payment_cycle,
        pb::ExportPaymentCycleRequest::default(),
        "cycle_id"
    );
    check!(
        import_payment_results,
        pb::ImportPaymentResultsRequest {
            metadata: support::metadata(),
            cycle_id: "210502-202510".into(),
            file: Vec::new(),
        },
        "file"
    );
    check!(
        get_payment_cycle,
        pb::GetPaymentCycleRequest::default(),
        "cycle_id"
    );
    check!(
        list_referrals,
        pb::ListReferralsRequest::default(),
        "county.code"
    );
    check!(
        act_on_referral,
        pb::ActOnReferralRequest::default(),
        "alert_id"
    );
    check!(
        list_monitored_households,
        pb::ListMonitoredHouseholdsRequest {
            county: support::region(PINGSHAN_STREET),
            read: None,
        },
        "county.code"
    );
    check!(
        get_indicators,
        pb::GetIndicatorsRequest {
            region: None,
            as_of: bad_date,
            read: None,
        },
        "region.code"
    );
    host.shutdown().await;
}
