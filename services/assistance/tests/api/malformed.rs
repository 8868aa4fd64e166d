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
    host.shutdown().await;
}
