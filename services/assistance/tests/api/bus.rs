//! Distributed (PostgreSQL and NATS JetStream, as `minzheng assistance` runs): the divisions and
//! the verification results arrive on JetStream from the stand-ins, and a plain NATS subscriber,
//! as an agency would have, receives the case's events from the relay.

use std::{collections::BTreeMap, time::Duration};

use futures::StreamExt as _;
use minzheng_host::testing::TestHost;
use minzheng_kit::clock::FixedClock;
use minzheng_proto::assistance::v1 as pb;
use prost::Message as _;
use time::macros::date;

use crate::support::{
    self, EVERY_CITIZEN, FIRST_DAY, HUSBAND, PINGSHAN, SON, Verifications, WIFE, decide,
    family_in_notice,
};

/// A submission's verification request, and after the stand-in's result and the steps the
/// grant, reach JetStream on the documented subjects, with CloudEvents headers and the protobuf
/// event as payload, and without a citizen id in any subject or header.
#[tokio::test]
async fn distributed_a_grant_reaches_jetstream_without_personal_data_in_subjects() {
    let clock = FixedClock::new(FIRST_DAY);
    let answers = Verifications::default();
    let (host, mut client) =
        support::start(support::hosted(TestHost::distributed(), &clock, &answers)).await;
    let prefix = host.bus_prefix().to_owned();
    // The service's own events so far are the seed's (policies, calendars): cases come next.
    let mut subscriber = host
        .nats()
        .subscribe(format!("{prefix}.assistance.case.>"))
        .await
        .expect("subscribed");
    host.nats().flush().await.expect("flushed");

    let (case_id, _) = family_in_notice(&mut client, &host, &answers).await;
    clock.set(date!(2025 - 10 - 09));
    decide(&mut client, &case_id, pb::Decision::Approve, "")
        .await
        .expect("approved");

    let expected = [
        "application_submitted",
        "verification_requested",
        "verification_received",
        "township_reviewed",
        "notice_posted",
        "application_approved",
        "assistance_granted",
    ];
    let mut subjects: BTreeMap<String, usize> = BTreeMap::new();
    let mut requested = None;
    let mut granted = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !expected
        .iter()
        .all(|e| subjects.contains_key(&format!("{prefix}.assistance.case.{e}")))
    {
        let message = tokio::time::timeout_at(deadline, subscriber.next())
            .await
            .unwrap_or_else(|_| panic!("events missing; got {subjects:?}"))
            .expect("subscription open");
        let headers = message.headers.clone().unwrap_or_default();
        let mut visible = message.subject.to_string();
        for (name, values) in headers.iter() {
            visible.push_str(name.as_ref());
            for value in values {
                visible.push_str(value.as_str());
            }
        }
        for number in EVERY_CITIZEN {
            assert!(
                !visible.contains(number),
                "a citizen id in {}",
                message.subject
            );
        }
        let header = |name: &str| headers.get(name).map(|v| v.as_str().to_owned());
        assert!(header("ce-id").is_some() && header("Nats-Msg-Id") == header("ce-id"));
        assert_eq!(
            header("content-type").as_deref(),
            Some("application/protobuf")
        );
        assert_eq!(header("ce-subject"), Some(format!("case-{case_id}")));
        let subject = message.subject.to_string();
        if subject == format!("{prefix}.assistance.case.verification_requested") {
            assert_eq!(
                header("ce-type").as_deref(),
                Some("minzheng.assistance.v1.VerificationRequested")
            );
            requested = Some(message.payload.clone());
        }
        if subject == format!("{prefix}.assistance.case.assistance_granted") {
            assert_eq!(
                header("ce-type").as_deref(),
                Some("minzheng.assistance.v1.AssistanceGranted")
            );
            granted = Some(message.payload.clone());
        }
        *subjects.entry(subject).or_default() += 1;
    }
    let requested = pb::VerificationRequested::decode(requested.expect("seen")).expect("protobuf");
    assert_eq!(requested.case_id, case_id);
    assert_eq!(requested.request_id, format!("{case_id}-V1"));
    assert_eq!(requested.members.len(), 3);
    let granted = pb::AssistanceGranted::decode(granted.expect("seen")).expect("protobuf");
    assert_eq!(granted.case_id, case_id);
    assert_eq!(granted.county, support::region(PINGSHAN));
    assert_eq!(
        pb::AssistanceCategory::try_from(granted.category),
        Ok(pb::AssistanceCategory::Dibao)
    );
    assert_eq!(granted.effective_from, support::day(date!(2025 - 11 - 01)));
    let members: Vec<&str> = granted
        .members
        .iter()
        .map(|m| m.citizen_id.as_str())
        .collect();
    assert_eq!(members, [HUSBAND, WIFE, SON]);
    host.shutdown().await;
}
