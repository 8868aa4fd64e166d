//! Periodic reviews (定期复核): a case in force for its category's interval (12 months for
//! dibao by default) gets a review started by the scheduler, with a new verification of the
//! household's economic status, once.

use minzheng_host::testing::with_token;
use minzheng_proto::assistance::v1 as pb;
use time::macros::date;

use crate::support::{
    self, PINGSHAN, PINGSHAN_STREET, approve_in, family_of_three, get_case, in_notice,
};

#[tokio::test]
async fn a_case_in_force_for_a_year_is_reviewed_with_a_new_verification_once() {
    let hosted = support::embedded_verified().await;
    support::family_earns_630(&hosted.answers);
    let mut client = hosted.client.clone();
    let id = in_notice(&mut client, &hosted.host, family_of_three()).await;
    hosted.clock.set(date!(2025 - 10 - 09));
    approve_in(&mut client, &id, PINGSHAN).await;
    hosted.host.settle().await;
    let before = get_case(&mut client, &id, PINGSHAN_STREET, None).await;
    assert_eq!(before.stage(), pb::CaseStage::Active);
    assert_eq!(
        before.verification.as_ref().map(|v| v.request_id.clone()),
        Some(format!("{id}-V1"))
    );

    // A year later the service is started again: the scheduler starts the review at start.
    let clock = hosted.clock.clone();
    let stopped = hosted.host.stop().await;
    clock.set(date!(2026 - 10 - 09));
    let host = stopped.start().await;
    host.settle().await;
    let mut client = support::client(&host).await;
    let reviewed = get_case(&mut client, &id, PINGSHAN_STREET, None).await;
    // The stand-in answered the review's request: the latest verification is the second.
    assert_eq!(
        reviewed.verification.as_ref().map(|v| v.request_id.clone()),
        Some(format!("{id}-V2")),
        "{reviewed:?}"
    );

    // Started once: restarting again on the same day starts nothing more.
    let stopped = host.stop().await;
    let host = stopped.start().await;
    host.settle().await;
    let mut client = support::client(&host).await;
    let completed = client
        .complete_review(with_token(
            pb::CompleteReviewRequest {
                metadata: support::metadata(),
                case_id: id.clone(),
            },
            &support::approver(PINGSHAN),
        ))
        .await
        .expect("the review completes on its verification")
        .into_inner();
    assert_eq!(completed.outcome(), pb::ReviewOutcome::Continued);
    let after = get_case(&mut client, &id, PINGSHAN_STREET, None).await;
    assert_eq!(
        after.verification.as_ref().map(|v| v.request_id.clone()),
        Some(format!("{id}-V2"))
    );
    host.shutdown().await;
}
