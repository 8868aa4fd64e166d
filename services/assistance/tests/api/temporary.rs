//! Temporary assistance paid at once from a township's reserve fund (先行救助), distributed so
//! that concurrent payments really race on PostgreSQL: the fund never goes below zero; a payment
//! above the township's limit is transferred to the county, which decides it; the report that
//! follows a payment.

use minzheng_host::testing::with_token;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common};

use crate::support::{
    self, Client, PINGSHAN, PINGSHAN_STREET, after, approver, caseworker, decide, metadata,
    refusal_rule, submit, yuan,
};

/// Pays case `id` `fen` at once, as a caseworker of 平山街道.
async fn pay_at_once(
    mut client: Client,
    id: String,
    fen: i64,
) -> Result<pb::PayTemporaryAidAtOnceResponse, tonic::Status> {
    client
        .pay_temporary_aid_at_once(with_token(
            pb::PayTemporaryAidAtOnceRequest {
                metadata: metadata(),
                case_id: id,
                amount: yuan(fen),
            },
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// The township's reserve fund (临时救助备用金, 民发〔2018〕23号) paying first (先行救助), under
/// 《社会救助暂行办法》第四十八条 (情况紧急的，可以按照规定简化审批手续):
/// ten payments of 300.00 元 racing for a fund of 1,000.00 元 pay three; the others are refused
/// `reserve_fund_insufficient` and the fund keeps 100.00 元.
#[tokio::test]
async fn payments_at_once_racing_for_one_fund_never_overdraw_it() {
    let support::Hosted {
        host, mut client, ..
    } = support::distributed().await;
    client
        .replenish_reserve_fund(with_token(
            pb::ReplenishReserveFundRequest {
                metadata: metadata(),
                township: support::region(PINGSHAN_STREET),
                amount: yuan(100_000),
                reference: "平财社〔2025〕12号".to_owned(),
            },
            &approver(PINGSHAN),
        ))
        .await
        .expect("replenished");
    client
        .record_standard(with_token(
            pb::RecordStandardRequest {
                metadata: metadata(),
                county: support::region(PINGSHAN),
                standard: Some(pb::record_standard_request::Standard::TemporaryAidLimit(
                    pb::TemporaryAidLimit {
                        township: None,
                        amount: yuan(50_000),
                    },
                )),
                effective_from: support::day(support::FIRST_DAY),
                decided_by: "平政发〔2025〕3号".to_owned(),
            },
            &approver(PINGSHAN),
        ))
        .await
        .expect("the limit recorded");
    let mut cases = Vec::new();
    for _ in 0..10 {
        cases.push(
            submit(&mut client, support::temporary(PINGSHAN_STREET, 30_000))
                .await
                .case_id,
        );
    }
    host.settle().await;

    let payments = cases
        .iter()
        .map(|id| tokio::spawn(pay_at_once(client.clone(), id.clone(), 30_000)));
    let outcomes: Vec<_> = futures::future::join_all(payments)
        .await
        .into_iter()
        .map(|joined| joined.expect("the task ran"))
        .collect();
    let paid: Vec<&pb::PayTemporaryAidAtOnceResponse> =
        outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(paid.len(), 3, "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert_eq!(refusal_rule(refused), "reserve_fund_insufficient");
    }
    let last = paid
        .iter()
        .filter_map(|p| p.result.as_ref())
        .max_by_key(|r| r.position)
        .cloned();
    let fund = client
        .get_reserve_fund(with_token(
            pb::GetReserveFundRequest {
                township: support::region(PINGSHAN_STREET),
                read: after(&last),
            },
            &approver(PINGSHAN),
        ))
        .await
        .expect("read")
        .into_inner();
    assert_eq!(fund.balance, Some(common::Money { fen: 10_000 }));
    assert_eq!(fund.replenished, Some(common::Money { fen: 100_000 }));
    assert_eq!(fund.disbursements, 3);
    assert!(fund.established);

    // The report follows a payment at once.
    let paid_case = cases
        .iter()
        .zip(&outcomes)
        .find_map(|(id, o)| o.is_ok().then_some(id.clone()))
        .expect("a paid case");
    let waiting = support::get_case(&mut client, &paid_case, PINGSHAN_STREET, after(&last)).await;
    assert_eq!(
        waiting.pending.as_ref().map(|p| p.step.as_str()),
        Some("report")
    );
    let reported = client
        .report_temporary_aid(with_token(
            pb::ReportTemporaryAidRequest {
                metadata: metadata(),
                case_id: paid_case.clone(),
            },
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect("reported")
        .into_inner();
    let done = support::get_case(
        &mut client,
        &paid_case,
        PINGSHAN_STREET,
        after(&reported.result),
    )
    .await;
    assert!(done.pending.is_none(), "{:?}", done.pending);
    host.shutdown().await;
}

/// 国发〔2014〕47号: what is above the township's limit is not paid at once: the township
/// transfers the application to the county, which decides it.
#[tokio::test]
async fn a_payment_above_the_townships_limit_is_transferred_to_the_county() {
    let support::Hosted {
        host, mut client, ..
    } = support::distributed().await;
    client
        .replenish_reserve_fund(with_token(
            pb::ReplenishReserveFundRequest {
                metadata: metadata(),
                township: support::region(PINGSHAN_STREET),
                amount: yuan(100_000),
                reference: "平财社〔2025〕12号".to_owned(),
            },
            &approver(PINGSHAN),
        ))
        .await
        .expect("replenished");
    client
        .record_standard(with_token(
            pb::RecordStandardRequest {
                metadata: metadata(),
                county: support::region(PINGSHAN),
                standard: Some(pb::record_standard_request::Standard::TemporaryAidLimit(
                    pb::TemporaryAidLimit {
                        township: None,
                        amount: yuan(50_000),
                    },
                )),
                effective_from: support::day(support::FIRST_DAY),
                decided_by: "平政发〔2025〕3号".to_owned(),
            },
            &approver(PINGSHAN),
        ))
        .await
        .expect("the limit recorded");
    let case_id = submit(&mut client, support::temporary(PINGSHAN_STREET, 80_000))
        .await
        .case_id;
    host.settle().await;

    let above = pay_at_once(client.clone(), case_id.clone(), 60_000)
        .await
        .expect_err("above the limit of 500.00 元");
    assert_eq!(refusal_rule(&above), "above_township_limit");
    client
        .transfer_temporary_aid(with_token(
            pb::TransferTemporaryAidRequest {
                metadata: metadata(),
                case_id: case_id.clone(),
            },
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect("transferred");
    let decided = decide(&mut client, &case_id, pb::Decision::Approve, "")
        .await
        .expect("the county approves");
    let calculation = decided.calculation.expect("the amount");
    assert_eq!(calculation.monthly_amount, yuan(80_000), "what was asked");
    let fund = client
        .get_reserve_fund(with_token(
            pb::GetReserveFundRequest {
                township: support::region(PINGSHAN_STREET),
                read: after(&decided.result),
            },
            &approver(PINGSHAN),
        ))
        .await
        .expect("read")
        .into_inner();
    assert_eq!(
        fund.balance,
        Some(common::Money { fen: 100_000 }),
        "untouched"
    );
    assert_eq!(fund.disbursements, 0);
    host.shutdown().await;
}
