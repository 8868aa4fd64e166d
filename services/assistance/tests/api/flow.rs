//! An application from the township window to the amount in force (distributed, for the
//! verification results: see `main.rs`): the verification
//! requested and answered through the bus, the township's review, the notice, the county's
//! decision with the amount computed from the seeded standards; rejections, objections, the
//! lists and the overdue steps.

use minzheng_host::testing::with_token;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common};
use time::macros::date;

use crate::support::{
    self, DONGMING_STREET, FIRST_DAY, OLD_MAN, OLD_WOMAN, PINGSHAN, PINGSHAN_STREET, XIHU_MAN,
    XIHU_WOMAN, after, approver, auditor, caseworker, day, decide, family_earns_630,
    family_in_notice, family_of_three, get_case, metadata, refusal_rule, submit,
};

/// The day the notice of [`family_in_notice`] (posted on [`FIRST_DAY`]) is over: the first day
/// after its 7 days.
const NOTICE_OVER: time::Date = date!(2025 - 09 - 29);
/// The day of the decision in these tests: after the National Day holiday.
const DECIDED_ON: time::Date = date!(2025 - 10 - 09);

fn stage(case: &pb::Case) -> pb::CaseStage {
    pb::CaseStage::try_from(case.stage).unwrap_or_default()
}

#[tokio::test]
async fn a_submission_awaits_the_verification_until_the_data_sharing_result_arrives() {
    let support::Hosted {
        host,
        mut client,
        answers,
        ..
    } = support::distributed().await;
    family_earns_630(&answers);
    answers.hold();

    let submitted = submit(&mut client, family_of_three()).await;
    assert!(
        submitted.case_id.starts_with("210502-DB-2025-"),
        "{submitted:?}"
    );
    assert_eq!(submitted.county, support::region(PINGSHAN));
    assert_eq!(
        submitted.verification_request_id,
        format!("{}-V1", submitted.case_id)
    );
    let waiting = get_case(
        &mut client,
        &submitted.case_id,
        PINGSHAN_STREET,
        after(&submitted.result),
    )
    .await;
    assert_eq!(stage(&waiting), pb::CaseStage::AwaitingVerification);
    assert!(waiting.verification.is_none());
    let pending = waiting.pending.expect("waits for the verification");
    assert_eq!(pending.step, "verification");
    assert!(!pending.overdue);

    answers.release();
    host.settle().await;
    let verified = get_case(&mut client, &submitted.case_id, PINGSHAN_STREET, None).await;
    assert_eq!(stage(&verified), pb::CaseStage::AwaitingTownshipReview);
    let verification = verified.verification.expect("the result is on the case");
    assert_eq!(verification.request_id, submitted.verification_request_id);
    assert_eq!(
        verification.total_monthly_income,
        Some(common::Money { fen: 63_000 })
    );
    assert_eq!(verification.incomes.len(), 2, "{verification:?}");
    assert_eq!(verification.received_on, day(FIRST_DAY));
    host.shutdown().await;
}

#[tokio::test]
async fn approval_waits_for_the_notice_then_grants_the_difference_to_the_standard() {
    let support::Hosted {
        host,
        mut client,
        clock,
        answers,
    } = support::distributed().await;
    let (case_id, posted) = family_in_notice(&mut client, &host, &answers).await;
    assert_eq!(posted.ends_on, day(NOTICE_OVER));

    clock.set(date!(2025 - 09 - 26));
    let early = decide(&mut client, &case_id, pb::Decision::Approve, "")
        .await
        .expect_err("the notice runs until 2025-09-29");
    assert_eq!(refusal_rule(&early), "notice_running");

    clock.set(DECIDED_ON);
    let decided = decide(&mut client, &case_id, pb::Decision::Approve, "")
        .await
        .expect("approved after the notice");
    // The seed's urban standard of 平山区 (665.00 元 a month, difference mode) for three
    // persons, less the verified 630.00 元.
    let calculation = decided.calculation.expect("the amount and how");
    assert_eq!(
        calculation.monthly_amount,
        Some(common::Money { fen: 136_500 })
    );
    assert_eq!(calculation.formula, "(665.00 − 210.00) × 3 = 1365.00 元");
    assert_eq!(calculation.household_size, 3);
    assert_eq!(
        pb::CalculationMethod::try_from(calculation.method),
        Ok(pb::CalculationMethod::Difference)
    );
    let urban = calculation
        .versions
        .first()
        .expect("the standard's version");
    assert_eq!(urban.county, support::region(PINGSHAN));
    assert_eq!(urban.number, 1, "the urban dibao standard is 210502/1");

    let active = get_case(
        &mut client,
        &case_id,
        PINGSHAN_STREET,
        after(&decided.result),
    )
    .await;
    assert_eq!(stage(&active), pb::CaseStage::Active);
    assert_eq!(active.decided_on, day(DECIDED_ON));
    assert_eq!(
        active.calculation.as_ref().map(|c| c.formula.as_str()),
        Some("(665.00 − 210.00) × 3 = 1365.00 元")
    );
    // Paid from the month after the decision (民发〔2021〕57号 第二十二条: 从作出确认同意决定之日
    // 下月起发放).
    assert_eq!(active.amount, Some(common::Money { fen: 0 }));
    clock.set(date!(2025 - 11 - 03));
    let paying = get_case(&mut client, &case_id, PINGSHAN_STREET, None).await;
    assert_eq!(paying.amount, Some(common::Money { fen: 136_500 }));
    assert!(paying.pending.is_none());
    host.shutdown().await;
}

#[tokio::test]
async fn the_benefit_is_explained_from_the_month_after_the_approval() {
    let support::Hosted {
        host,
        mut client,
        clock,
        answers,
    } = support::distributed().await;
    let (case_id, _) = family_in_notice(&mut client, &host, &answers).await;
    clock.set(DECIDED_ON);
    let decided = decide(&mut client, &case_id, pb::Decision::Approve, "")
        .await
        .expect("approved");
    let explain = |month: time::Date| {
        with_token(
            pb::ExplainBenefitRequest {
                case_id: case_id.clone(),
                month: day(month),
                read: after(&decided.result),
            },
            &approver(PINGSHAN),
        )
    };

    let november = client
        .explain_benefit(explain(date!(2025 - 11 - 15)))
        .await
        .expect("explained")
        .into_inner();
    assert_eq!(november.amount, Some(common::Money { fen: 136_500 }));
    assert_eq!(november.status, "in force from 2025-11-01");
    let calculation = november.calculation.expect("how");
    assert_eq!(calculation.formula, "(665.00 − 210.00) × 3 = 1365.00 元");
    assert_eq!(
        calculation.total_monthly_income,
        Some(common::Money { fen: 63_000 })
    );

    let october = client
        .explain_benefit(explain(DECIDED_ON))
        .await
        .expect("explained")
        .into_inner();
    assert_eq!(october.amount, Some(common::Money { fen: 0 }));
    assert!(october.calculation.is_none());
    assert!(
        october.status.starts_with("before the benefit started"),
        "{october:?}"
    );
    host.shutdown().await;
}

#[tokio::test]
async fn a_rejection_keeps_its_reason() {
    let support::Hosted {
        host,
        mut client,
        answers,
        ..
    } = support::distributed().await;
    family_earns_630(&answers);
    let submitted = submit(&mut client, family_of_three()).await;
    host.settle().await;
    let reason = "家庭财产状况不符合低保条件";
    let rejected = decide(
        &mut client,
        &submitted.case_id,
        pb::Decision::Reject,
        reason,
    )
    .await
    .expect("rejected");
    assert!(rejected.calculation.is_none());

    let case = get_case(
        &mut client,
        &submitted.case_id,
        PINGSHAN_STREET,
        after(&rejected.result),
    )
    .await;
    assert_eq!(stage(&case), pb::CaseStage::Rejected);
    assert_eq!(case.rejection_reason, reason);
    assert_eq!(case.rejection_rule, "rejected");
    assert_eq!(case.decided_on, day(FIRST_DAY));
    assert_eq!(case.amount, Some(common::Money { fen: 0 }));
    host.shutdown().await;
}

#[tokio::test]
async fn an_upheld_objection_sends_the_case_back_to_the_township() {
    let support::Hosted {
        host,
        mut client,
        clock,
        answers,
    } = support::distributed().await;
    let (case_id, _) = family_in_notice(&mut client, &host, &answers).await;
    clock.set(date!(2025 - 09 - 24));
    let objected = client
        .record_objection(with_token(
            pb::RecordObjectionRequest {
                metadata: metadata(),
                case_id: case_id.clone(),
                summary: "群众反映申请人家庭有经营收入未申报".to_owned(),
            },
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect("objection recorded")
        .into_inner();
    assert_eq!(objected.objection, 1);
    let resolved = client
        .resolve_objection(with_token(
            pb::ResolveObjectionRequest {
                metadata: metadata(),
                case_id: case_id.clone(),
                objection: 1,
                upheld: true,
                finding: "经核实确有未申报的经营收入".to_owned(),
            },
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect("objection resolved")
        .into_inner();

    let case = get_case(
        &mut client,
        &case_id,
        PINGSHAN_STREET,
        after(&resolved.result),
    )
    .await;
    assert_eq!(stage(&case), pb::CaseStage::AwaitingTownshipReview);
    assert_eq!(case.objections.len(), 1);
    assert!(case.objections[0].resolved && case.objections[0].upheld);
    assert_eq!(
        case.pending.map(|p| p.step).as_deref(),
        Some("township_review")
    );
    clock.set(DECIDED_ON);
    let refused = decide(&mut client, &case_id, pb::Decision::Approve, "")
        .await
        .expect_err("back at the township: nothing to approve");
    assert_eq!(refusal_rule(&refused), "wrong_stage");
    host.shutdown().await;
}

#[tokio::test]
async fn cases_are_listed_by_county_township_and_stage_without_personal_data() {
    let support::Hosted {
        host,
        mut client,
        answers,
        ..
    } = support::distributed().await;
    family_earns_630(&answers);
    answers.never_answer(OLD_MAN);
    answers.never_answer(XIHU_MAN);
    let family = submit(&mut client, family_of_three()).await;
    let old = submit(
        &mut client,
        support::dibao(PINGSHAN_STREET, PINGSHAN_STREET, &[OLD_MAN, OLD_WOMAN], &[]),
    )
    .await;
    let dongming = submit(
        &mut client,
        support::dibao(
            DONGMING_STREET,
            DONGMING_STREET,
            &[XIHU_MAN, XIHU_WOMAN],
            &[],
        ),
    )
    .await;
    host.settle().await;
    let list = |township: Option<&str>, stage: pb::CaseStage| {
        with_token(
            pb::ListCasesRequest {
                county: support::region(PINGSHAN),
                township: township.and_then(support::region),
                stage: stage.into(),
                page: None,
                read: after(&dongming.result),
            },
            &auditor(PINGSHAN),
        )
    };

    let all = client
        .list_cases(list(None, pb::CaseStage::Unspecified))
        .await
        .expect("listed")
        .into_inner();
    let ids: Vec<&str> = all.cases.iter().map(|c| c.case_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            family.case_id.as_str(),
            old.case_id.as_str(),
            dongming.case_id.as_str()
        ]
    );
    let shown = format!("{all:?}");
    for number in support::EVERY_CITIZEN {
        assert!(!shown.contains(number), "a citizen id in the list");
    }
    let first = &all.cases[0];
    assert_eq!(first.submitted_on, day(FIRST_DAY));
    assert_eq!(first.division, support::region(PINGSHAN_STREET));
    assert_eq!(
        first.pending.as_ref().map(|p| p.step.as_str()),
        Some("township_review")
    );

    let waiting = client
        .list_cases(list(None, pb::CaseStage::AwaitingVerification))
        .await
        .expect("listed")
        .into_inner();
    let ids: Vec<&str> = waiting.cases.iter().map(|c| c.case_id.as_str()).collect();
    assert_eq!(ids, [old.case_id.as_str(), dongming.case_id.as_str()]);

    let township = client
        .list_cases(list(Some(DONGMING_STREET), pb::CaseStage::Unspecified))
        .await
        .expect("listed")
        .into_inner();
    let ids: Vec<&str> = township.cases.iter().map(|c| c.case_id.as_str()).collect();
    assert_eq!(ids, [dongming.case_id.as_str()]);
    host.shutdown().await;
}

/// A verification due 10 working days after 2025-09-22 is due on 2025-10-11 (the National Day
/// holiday does not count, its make-up Saturday does), not on 2025-10-06 as weekends alone would
/// make it.
#[tokio::test]
async fn an_unanswered_verification_is_overdue_after_ten_working_days_across_the_holiday() {
    let support::Hosted {
        host,
        mut client,
        clock,
        answers,
    } = support::distributed().await;
    answers.never_answer(OLD_MAN);
    let (answered, _) = family_in_notice(&mut client, &host, &answers).await;
    let silent = submit(
        &mut client,
        support::dibao(PINGSHAN_STREET, PINGSHAN_STREET, &[OLD_MAN, OLD_WOMAN], &[]),
    )
    .await;
    host.settle().await;
    let overdue = |client: &mut support::Client| {
        let mut client = client.clone();
        let read = after(&silent.result);
        async move {
            client
                .list_overdue_steps(with_token(
                    pb::ListOverdueStepsRequest {
                        county: support::region(PINGSHAN),
                        read,
                    },
                    &approver(PINGSHAN),
                ))
                .await
                .expect("listed")
                .into_inner()
        }
    };

    clock.set(date!(2025 - 10 - 10));
    let before = overdue(&mut client).await;
    assert!(before.steps.is_empty(), "{before:?}");
    assert!(before.calendar_complete);

    clock.set(date!(2025 - 10 - 13));
    let after_due = overdue(&mut client).await;
    assert_eq!(after_due.steps.len(), 1, "{after_due:?}");
    let step = &after_due.steps[0];
    assert_eq!(step.case_id, silent.case_id);
    assert_ne!(step.case_id, answered);
    assert_eq!(step.division, support::region(PINGSHAN_STREET));
    let pending = step.step.as_ref().expect("the step");
    assert_eq!(pending.step, "verification");
    assert_eq!(pending.due_on, day(date!(2025 - 10 - 11)));
    assert!(pending.overdue);
    assert_eq!(step.working_days_overdue, 1);
    assert!(after_due.calendar_complete);
    host.shutdown().await;
}
