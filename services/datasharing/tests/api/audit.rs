//! "Who looked at my data": every look-up of a citizen's data, granted or refused, in their
//! audit trail — for them (a citizen token naming them) and for auditors, nobody else.

use minzheng_host::testing::{citizen_token, with_token};
use minzheng_proto::{audit::v1 as audit, datasharing::v1 as pb};
use time::macros::date;
use tonic::Code;

use crate::support::{
    self, HUSBAND, PINGSHAN, PINGSHAN_STREET, WIFE, auditor, authorize, caseworker, citizen,
    verify_request,
};

fn trail_request(who: &str) -> pb::AuditTrailRequest {
    pb::AuditTrailRequest {
        citizen: citizen(who),
        limit: 0,
    }
}

#[tokio::test]
async fn every_granted_and_refused_look_up_is_in_the_citizens_trail_for_them_alone() {
    let hosted = support::embedded().await;
    let mut client = hosted.client.clone();
    let verify = |purpose: &str| {
        let mut request = with_token(
            verify_request(&[HUSBAND], None),
            &caseworker(PINGSHAN_STREET),
        );
        request
            .metadata_mut()
            .insert("x-access-purpose", purpose.parse().expect("ASCII"));
        request
    };
    let refused = client
        .verify_household(verify("dibao check"))
        .await
        .expect_err("no authorization yet");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    authorize(
        &mut client,
        HUSBAND,
        date!(2026 - 04 - 01),
        date!(2026 - 09 - 30),
    )
    .await;
    client
        .verify_household(verify("dibao application"))
        .await
        .expect("authorized");
    hosted.host.settle().await;

    let trail = client
        .audit_trail(with_token(trail_request(HUSBAND), &citizen_token(HUSBAND)))
        .await
        .expect("the citizen reads their own trail")
        .into_inner();
    let verifications: Vec<(i32, &str)> = trail
        .entries
        .iter()
        .filter(|e| e.method.ends_with("/VerifyHousehold"))
        .map(|e| (e.outcome, e.purpose.as_str()))
        .collect();
    assert_eq!(
        verifications,
        [
            (audit::AccessOutcome::Allowed.into(), "dibao application"),
            // Refused by a rule (no authorization), not by role or scope: a failed call.
            (audit::AccessOutcome::Failed.into(), "dibao check"),
        ],
        "newest first: {trail:?}"
    );
    assert!(trail.entries.iter().all(|e| e.service == "datasharing"));
    assert_eq!(trail.entries[0].roles, ["caseworker"]);

    let other = client
        .audit_trail(with_token(trail_request(HUSBAND), &citizen_token(WIFE)))
        .await
        .expect_err("another citizen's trail");
    assert_eq!(other.code(), Code::PermissionDenied);
    let caseworker = client
        .audit_trail(with_token(
            trail_request(HUSBAND),
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect_err("not a caseworker's to read");
    assert_eq!(caseworker.code(), Code::PermissionDenied);
    client
        .audit_trail(with_token(trail_request(HUSBAND), &auditor(PINGSHAN)))
        .await
        .expect("an auditor reads it");
    hosted.host.shutdown().await;
}
