//! Dynamic management (动态管理) over gRPC: what the other services' events change on the cases —
//! a township merged or split by the place-names service after cases were filed under it — and
//! what becomes of a verification result no case awaits (parked, never dropped, and later results
//! still applied). A member's death from the civil registry is tested across the real services in
//! `tests/tests/assistance_flow.rs`.

use minzheng_host::testing::with_token;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common, datasharing::v1 as datasharing};
use time::macros::date;
use tonic::Code;

use crate::support::{
    self, FIRST_DAY, HEXI_STREET, HUANREN, OLD_MAN, OLD_WOMAN, PINGSHAN, PINGSHAN_STREET,
    QuickParking, RURAL_MAN, RURAL_WOMAN, SPLIT_SUCCESSORS, XIHU, XIHU_MAN, XIHU_WOMAN, after,
    approve_in, approver, caseworker, decide_in, family_earns_630, family_of_three, get_case,
    in_notice, submit,
};

/// 小市镇 of 本溪满族自治县, merged in these tests into [`SUCCESSOR`].
const MERGED: &str = "210521001000";
/// 本溪满族自治县.
const MERGED_COUNTY: &str = "210521000000";
/// 桓仁镇 of 桓仁满族自治县.
const SUCCESSOR: &str = "210522001000";

fn stage(case: &pb::Case) -> pb::CaseStage {
    pb::CaseStage::try_from(case.stage).unwrap_or_default()
}

/// The township's review of case `id` by a caseworker of `township`, the visit on the first day.
async fn review_as(
    client: &mut support::Client,
    id: &str,
    township: &str,
) -> Result<pb::RecordTownshipReviewResponse, tonic::Status> {
    support::review_as(client, id, township, FIRST_DAY).await
}

/// The cases of `county` as its approver lists them, after `read`.
async fn case_ids(
    client: &mut support::Client,
    county: &str,
    read: Option<common::ReadOptions>,
) -> Vec<String> {
    client
        .list_cases(with_token(
            pb::ListCasesRequest {
                county: support::region(county),
                township: None,
                stage: pb::CaseStage::Unspecified.into(),
                page: None,
                read,
            },
            &approver(county),
        ))
        .await
        .expect("listed")
        .into_inner()
        .cases
        .into_iter()
        .map(|c| c.case_id)
        .collect()
}

/// An open case left under a township whose supersession the divisions already record — filed
/// while the adjustment was being applied, after it moved the cases it saw — follows the
/// adjustment at the service's next sweep (here, at its start).
#[tokio::test]
async fn an_open_case_that_missed_its_townships_merger_follows_it_at_the_next_sweep() {
    let (
        support::Hosted {
            host, mut client, ..
        },
        _places,
    ) = support::embedded_adjustable().await;
    let mut request = support::dibao(MERGED, PINGSHAN_STREET, &[RURAL_MAN, RURAL_WOMAN], &[]);
    request.area = pb::ResidenceArea::Rural.into();
    let open = submit(&mut client, request).await;
    host.settle().await;
    let dir = host.data_dir().to_owned();
    let stopped = host.stop().await;
    // The divisions record the merger; no case was moved by it.
    let url = format!("sqlite://{}", dir.join("assistance.db").display());
    let db = minzheng_bus::connect_any(&url, std::time::Duration::from_secs(10))
        .await
        .expect("the service's database opens");
    let updated = sqlx::query(
        "UPDATE as_divisions SET valid_to = $1, successors = $2, adjustment_id = $3 \
         WHERE code = $4",
    )
    .bind(minzheng_types::format_date(FIRST_DAY))
    .bind(SUCCESSOR)
    .bind("BX-2025-missed")
    .bind(MERGED)
    .execute(&db)
    .await
    .expect("the merger recorded");
    assert_eq!(updated.rows_affected(), 1);
    db.close().await;

    let host = stopped.start().await;
    host.settle().await;
    let mut client = support::client(&host).await;
    let case = get_case(&mut client, &open.case_id, SUCCESSOR, None).await;
    assert_eq!(case.division, support::region(SUCCESSOR), "{case:?}");
    assert_eq!(case.county, support::region(HUANREN));
    host.shutdown().await;
}

/// A township merged into another (of another county) after a case was filed under it: the
/// place-names service's `DivisionSuperseded` re-homes the open case to the successor — its
/// division and county are the successor's, its id and the application's registered township
/// are kept — so the successor's caseworker carries out its steps and the old township's
/// caseworker and county no longer can; a rejected case stays where it was filed; a new
/// application under the old code is routed to the successor.
#[tokio::test]
async fn an_open_case_follows_its_township_merged_into_another() {
    let (
        support::Hosted {
            host, mut client, ..
        },
        places,
    ) = support::embedded_adjustable().await;
    // Taken in at 平山街道's window (一门受理), for a household of 小市镇.
    let mut request = support::dibao(MERGED, PINGSHAN_STREET, &[RURAL_MAN, RURAL_WOMAN], &[]);
    request.area = pb::ResidenceArea::Rural.into();
    let open = submit(&mut client, request).await;
    assert!(open.case_id.starts_with("210521-DB-2025-"), "{open:?}");
    let mut request = support::dibao(MERGED, MERGED, &[OLD_MAN, OLD_WOMAN], &[]);
    request.area = pb::ResidenceArea::Rural.into();
    let rejected = submit(&mut client, request).await;
    host.settle().await;
    decide_in(
        &mut client,
        &rejected.case_id,
        MERGED_COUNTY,
        pb::Decision::Reject,
        "家庭财产状况不符合低保条件",
    )
    .await
    .expect("rejected");

    places
        .supersede(MERGED, &[SUCCESSOR], FIRST_DAY, "BX-2025-merge")
        .await;
    host.settle().await;

    let refused = review_as(&mut client, &open.case_id, MERGED)
        .await
        .expect_err("the old township's caseworker");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let reviewed = review_as(&mut client, &open.case_id, SUCCESSOR)
        .await
        .expect("the successor's caseworker reviews");
    let read = after(&reviewed.result);

    let case = get_case(&mut client, &open.case_id, SUCCESSOR, read).await;
    assert_eq!(case.case_id, open.case_id);
    assert_eq!(case.division, support::region(SUCCESSOR));
    assert_eq!(case.county, support::region(HUANREN));
    assert_eq!(stage(&case), pb::CaseStage::AwaitingNotice);
    let application = case.application.expect("the application");
    assert_eq!(application.registered_division, support::region(MERGED));
    let hidden = client
        .get_case(with_token(
            pb::GetCaseRequest {
                case_id: open.case_id.clone(),
                read,
            },
            &caseworker(MERGED),
        ))
        .await
        .expect_err("the old township no longer sees it");
    assert_eq!(hidden.code(), Code::PermissionDenied, "{hidden:?}");

    assert_eq!(
        case_ids(&mut client, HUANREN, read).await,
        [open.case_id.as_str()]
    );
    assert_eq!(
        case_ids(&mut client, MERGED_COUNTY, read).await,
        [rejected.case_id.as_str()],
        "only the rejected case is left where it was filed"
    );
    let not_theirs = decide_in(
        &mut client,
        &open.case_id,
        MERGED_COUNTY,
        pb::Decision::Reject,
        "不符合条件",
    )
    .await
    .expect_err("the old county's approver");
    assert_eq!(not_theirs.code(), Code::PermissionDenied, "{not_theirs:?}");

    let kept = get_case(&mut client, &rejected.case_id, MERGED, read).await;
    assert_eq!(kept.division, support::region(MERGED));
    assert_eq!(stage(&kept), pb::CaseStage::Rejected);

    // An application under the old code from now on lands at the successor's county: the
    // routing row the first two submissions read is dropped when the merger is recorded.
    let mut request = support::dibao(MERGED, PINGSHAN_STREET, &[XIHU_MAN, XIHU_WOMAN], &[]);
    request.area = pb::ResidenceArea::Rural.into();
    let later = submit(&mut client, request).await;
    assert!(later.case_id.starts_with("210522-DB-2025-"), "{later:?}");
    assert_eq!(later.county, support::region(HUANREN));
    host.shutdown().await;
}

/// A township split in two after a case in force was filed under it: the case cannot follow a
/// single successor, so it stays under its code, flagged for review (DIVISION_SPLIT).
#[tokio::test]
async fn a_case_in_force_whose_township_is_split_is_flagged_for_review() {
    let (
        support::Hosted {
            host,
            mut client,
            clock,
            ..
        },
        places,
    ) = support::embedded_adjustable().await;
    let id = in_notice(
        &mut client,
        &host,
        support::dibao(HEXI_STREET, HEXI_STREET, &[XIHU_MAN, XIHU_WOMAN], &[]),
    )
    .await;
    clock.set(date!(2025 - 10 - 09));
    approve_in(&mut client, &id, XIHU).await;

    places
        .supersede(
            HEXI_STREET,
            &SPLIT_SUCCESSORS,
            date!(2025 - 10 - 09),
            "BX-2025-split",
        )
        .await;
    host.settle().await;
    // A write after the adjustment: reads after it see what the adjustment did.
    let later = submit(&mut client, family_of_three()).await;

    let case = get_case(&mut client, &id, HEXI_STREET, after(&later.result)).await;
    assert_eq!(case.division, support::region(HEXI_STREET));
    assert_eq!(stage(&case), pb::CaseStage::Active);
    let flags: Vec<pb::ReviewCause> = case
        .flags
        .iter()
        .map(|f| pb::ReviewCause::try_from(*f).unwrap_or_default())
        .collect();
    assert_eq!(flags, [pb::ReviewCause::DivisionSplit]);
    host.shutdown().await;
}

/// The consumer of the verification results.
const VERIFICATIONS: &str = "assistance-verifications";
const COMPLETED: &str = "minzheng.datasharing.v1.HouseholdVerificationCompleted";

/// A verification result `request_id` for case `case_id`, 0 元 for a household of two.
fn result_for(case_id: &str, request_id: &str) -> datasharing::HouseholdVerificationCompleted {
    datasharing::HouseholdVerificationCompleted {
        request_id: request_id.to_owned(),
        case_id: case_id.to_owned(),
        verified_on: support::day(FIRST_DAY),
        total_monthly_income: support::yuan(0),
        per_capita_monthly_income: support::yuan(0),
        incomes: vec![],
        assets: vec![],
        flags: vec![],
        household_size: 2,
        report: None,
    }
}

/// A verification result for a case the service never issued is parked by the consumer (a row
/// of `mz_parked` naming its stream), not dropped and not blocking: the result for a real case
/// published after it is applied. One for a case no longer awaiting a result (rejected) is
/// parked too.
#[tokio::test]
async fn a_verification_result_for_an_unknown_case_is_parked_and_later_results_are_applied() {
    let parking = QuickParking::start().await;
    let mut client = parking.client.clone();
    parking
        .answers
        .publish_result(result_for(
            "210502-DB-2025-000099",
            "210502-DB-2025-000099-V1",
        ))
        .await
        .expect("published");
    family_earns_630(&parking.answers);
    let submitted = submit(&mut client, family_of_three()).await;
    parking.settle().await;

    let parked = parking.parked(VERIFICATIONS).await;
    assert_eq!(parked.len(), 1, "{parked:?}");
    let (stream, event_type, error) = &parked[0];
    assert_eq!(stream, "verification-210502-DB-2025-000099-V1");
    assert_eq!(event_type, COMPLETED);
    assert!(error.contains("210502-DB-2025-000099"), "{error}");
    assert!(
        parking.parked("assistance-referrals").await.is_empty(),
        "the referrals' consumer passes results by"
    );

    let case = get_case(
        &mut client,
        &submitted.case_id,
        PINGSHAN_STREET,
        after(&submitted.result),
    )
    .await;
    assert_eq!(stage(&case), pb::CaseStage::AwaitingTownshipReview);
    assert_eq!(
        case.verification.and_then(|v| v.total_monthly_income),
        Some(common::Money { fen: 63_000 })
    );

    let rejected = decide_in(
        &mut client,
        &submitted.case_id,
        PINGSHAN,
        pb::Decision::Reject,
        "家庭财产状况不符合低保条件",
    )
    .await
    .expect("rejected");
    let request = format!("{}-V2", submitted.case_id);
    parking
        .answers
        .publish_result(result_for(&submitted.case_id, &request))
        .await
        .expect("published");
    parking.settle().await;
    let parked = parking.parked(VERIFICATIONS).await;
    let streams: Vec<&str> = parked.iter().map(|(s, _, _)| s.as_str()).collect();
    assert_eq!(
        streams,
        [
            "verification-210502-DB-2025-000001-V2",
            "verification-210502-DB-2025-000099-V1"
        ]
    );
    let case = get_case(
        &mut client,
        &submitted.case_id,
        PINGSHAN_STREET,
        after(&rejected.result),
    )
    .await;
    assert_eq!(stage(&case), pb::CaseStage::Rejected);
    parking.shutdown().await;
}
