//! Where an application lands (一门受理: any window takes it, the county of the household's
//! registered township decides, followed through the place-names adjustments; temporary
//! assistance where the hardship happened), and what refuses a submission.

use minzheng_host::testing::with_token;
use minzheng_proto::assistance::v1 as pb;
use time::macros::date;

use crate::support::{
    self, HEXI_STREET, HUANREN, HUSBAND, MERGED_OLD, MERGED_SUCCESSOR, PINGSHAN_STREET, RURAL_MAN,
    RURAL_WOMAN, SON, SPLIT_OLD, SPLIT_SUCCESSORS, WIFE, XIHU, after, caseworker, family_of_three,
    get_case, refusal_rule, submit, yuan,
};

#[tokio::test]
async fn an_application_under_a_merged_townships_old_code_lands_at_its_successors_county() {
    let support::Hosted {
        host, mut client, ..
    } = support::embedded().await;
    // Any window takes it, here 平山街道's.
    let submitted = submit(
        &mut client,
        support::dibao(MERGED_OLD, PINGSHAN_STREET, &[RURAL_MAN, RURAL_WOMAN], &[]),
    )
    .await;
    assert!(
        submitted.case_id.starts_with("210522-DB-2025-"),
        "{submitted:?}"
    );
    assert_eq!(submitted.county, support::region(HUANREN));

    let case = get_case(
        &mut client,
        &submitted.case_id,
        PINGSHAN_STREET,
        after(&submitted.result),
    )
    .await;
    assert_eq!(case.county, support::region(HUANREN));
    assert_eq!(case.division, support::region(MERGED_SUCCESSOR));
    let application = case.application.expect("the application");
    assert_eq!(application.registered_division, support::region(MERGED_OLD));
    assert_eq!(
        application.resolved_division,
        support::region(MERGED_SUCCESSOR)
    );
    host.shutdown().await;
}

#[tokio::test]
async fn an_application_under_a_split_townships_code_is_refused() {
    let support::Hosted {
        host, mut client, ..
    } = support::embedded().await;
    let refused = client
        .submit_application(with_token(
            support::dibao(SPLIT_OLD, PINGSHAN_STREET, &[HUSBAND, WIFE], &[SON]),
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect_err("split");
    assert_eq!(refusal_rule(&refused), "division_split");
    for successor in SPLIT_SUCCESSORS {
        assert!(refused.message().contains(successor), "{refused:?}");
    }
    host.shutdown().await;
}

#[tokio::test]
async fn an_application_under_an_unknown_township_is_refused() {
    let support::Hosted {
        host, mut client, ..
    } = support::embedded().await;
    let refused = client
        .submit_application(with_token(
            support::dibao("210502099000", PINGSHAN_STREET, &[HUSBAND, WIFE], &[SON]),
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect_err("unknown");
    assert_eq!(refusal_rule(&refused), "unknown_division");
    host.shutdown().await;
}

/// The plan (探索由急难发生地实施临时救助) and 国发〔2014〕47号 (向所在地乡镇人民政府（街道办事处）
/// 提出): temporary assistance is applied for where the hardship happened; a household of 平山区
/// struck in 溪湖区 is decided by 溪湖区.
#[tokio::test]
async fn a_temporary_assistance_application_is_routed_to_the_windows_county() {
    let support::Hosted {
        host, mut client, ..
    } = support::embedded().await;
    let mut request = support::dibao(PINGSHAN_STREET, HEXI_STREET, &[HUSBAND, WIFE], &[SON]);
    request.category = pb::AssistanceCategory::Temporary.into();
    request.hardship = pb::Hardship::Accident.into();
    request.requested_amount = yuan(300_000);
    let submitted = submit(&mut client, request).await;
    assert!(
        submitted.case_id.starts_with("210503-LS-2025-"),
        "{submitted:?}"
    );
    assert_eq!(submitted.county, support::region(XIHU));
    assert!(submitted.verification_request_id.is_empty());

    let case = get_case(
        &mut client,
        &submitted.case_id,
        HEXI_STREET,
        after(&submitted.result),
    )
    .await;
    assert_eq!(case.county, support::region(XIHU));
    assert_eq!(case.window, support::region(HEXI_STREET));
    assert_eq!(
        pb::CaseStage::try_from(case.stage),
        Ok(pb::CaseStage::AwaitingDecision)
    );
    host.shutdown().await;
}

/// 民发〔2021〕57号 第九条: every adult member authorizes the verification.
#[tokio::test]
async fn an_application_without_every_adults_authorization_is_refused() {
    let support::Hosted {
        host, mut client, ..
    } = support::embedded().await;
    let mut request = family_of_three();
    request
        .authorizations
        .retain(|a| a.signed_by.as_ref().map(|c| c.citizen_id.as_str()) != Some(WIFE));
    let refused = client
        .submit_application(with_token(request, &caseworker(PINGSHAN_STREET)))
        .await
        .expect_err("the wife has not signed");
    assert_eq!(refusal_rule(&refused), "authorization_missing");
    assert!(!refused.message().contains(WIFE), "{refused:?}");

    // Nothing was recorded: the next application is the county's first.
    let submitted = submit(&mut client, family_of_three()).await;
    assert_eq!(submitted.case_id, "210502-DB-2025-000001");
    host.shutdown().await;
}

#[tokio::test]
async fn heating_assistance_without_a_case_in_force_is_refused() {
    let support::Hosted {
        host, mut client, ..
    } = support::embedded().await;
    let mut request = family_of_three();
    request.category = pb::AssistanceCategory::Heating.into();
    request.winter = 2025;
    request.related_case_id = "210502-DB-2025-000001".to_owned();
    let refused = client
        .submit_application(with_token(request, &caseworker(PINGSHAN_STREET)))
        .await
        .expect_err("no such case");
    assert_eq!(refusal_rule(&refused), "no_case_in_force");

    host.shutdown().await;
}

/// A submission retried with the same idempotency key (the answer was lost) answers the case the
/// first one created, where it was recorded, and records nothing else: the next application is
/// the county's second. Retried once the household's authorizations have expired, which the
/// rules refuse now, it still answers its case.
#[tokio::test]
async fn a_retried_submission_answers_the_first_case_and_records_nothing_else() {
    let support::Hosted {
        host,
        mut client,
        clock,
        ..
    } = support::embedded().await;
    let request = family_of_three();
    let first = submit(&mut client, request.clone()).await;
    let again = submit(&mut client, request.clone()).await;
    assert_eq!(again.case_id, first.case_id);
    assert_eq!(again.result, first.result);
    assert_eq!(again.verification_request_id, first.verification_request_id);
    let next = submit(&mut client, family_of_three()).await;
    assert_eq!(next.case_id, "210502-DB-2025-000002", "{next:?}");

    clock.set(date!(2026 - 10 - 01));
    let expired = client
        .submit_application(with_token(family_of_three(), &caseworker(PINGSHAN_STREET)))
        .await
        .expect_err("the authorizations have expired");
    assert_eq!(refusal_rule(&expired), "authorization_missing");
    let late = submit(&mut client, request).await;
    assert_eq!(late.case_id, first.case_id);
    assert_eq!(late.result, first.result);
    host.shutdown().await;
}
