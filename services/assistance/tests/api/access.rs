//! The access policy, enforced at the edge and documented in `ACCESS.md`; the scopes of
//! townships and counties; and the read audit of a household's data on the bus.

use std::{collections::BTreeSet, time::Duration};

use futures::StreamExt as _;
use minzheng_assistance::grpc::AssistanceApi;
use minzheng_host::testing::{self, TestHost, with_token};
use minzheng_kit::{clock::FixedClock, pseudonym::Pseudonymizer};
use minzheng_proto::{assistance::v1 as pb, audit::v1 as audit};
use minzheng_types::CitizenId;
use prost::Message as _;
use secrecy::SecretString;
use tonic::Code;

use crate::support::{
    self, DONGMING_STREET, FIRST_DAY, HUSBAND, PINGSHAN, PINGSHAN_STREET, PSEUDONYM_KEY, SON,
    Verifications, WIFE, XIHU, after, approver, caseworker, family_of_three, metadata, submit,
};

/// Every RPC called with every role and without a token: the edge admits exactly what the
/// access policy says (embedded here; both hosting modes share the edge).
#[tokio::test]
async fn the_edge_enforces_the_access_policy_for_every_rpc_and_role() {
    let support::Hosted { host, .. } = support::embedded().await;
    testing::assert_access_matrix(host.channel("assistance").await, &AssistanceApi::access()).await;
    host.shutdown().await;
}

#[test]
fn access_matrix_doc_is_current() {
    testing::assert_access_doc(
        env!("CARGO_MANIFEST_DIR"),
        "ACCESS.md",
        "Assistance",
        &AssistanceApi::access(),
    );
}

#[tokio::test]
async fn a_caseworker_of_another_township_cannot_read_a_case() {
    let support::Hosted {
        host, mut client, ..
    } = support::embedded().await;
    let submitted = submit(&mut client, family_of_three()).await;
    let read = |token: String| {
        with_token(
            pb::GetCaseRequest {
                case_id: submitted.case_id.clone(),
                read: after(&submitted.result),
            },
            &token,
        )
    };
    let denied = client
        .get_case(read(caseworker(DONGMING_STREET)))
        .await
        .expect_err("another township");
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    let denied = client
        .get_case(read(approver(XIHU)))
        .await
        .expect_err("another county");
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    // The control: its own township and county read it.
    client
        .get_case(read(caseworker(PINGSHAN_STREET)))
        .await
        .expect("its township");
    client
        .get_case(read(approver(PINGSHAN)))
        .await
        .expect("its county");
    host.shutdown().await;
}

#[tokio::test]
async fn only_an_approver_of_the_cases_county_decides_it() {
    let support::Hosted {
        host, mut client, ..
    } = support::embedded().await;
    let submitted = submit(&mut client, family_of_three()).await;
    let reject = |token: String| {
        with_token(
            pb::DecideApplicationRequest {
                metadata: metadata(),
                case_id: submitted.case_id.clone(),
                decision: pb::Decision::Reject.into(),
                reason: "材料不全".to_owned(),
                amount: None,
            },
            &token,
        )
    };
    let denied = client
        .decide_application(reject(approver(XIHU)))
        .await
        .expect_err("an approver of another county");
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    let denied = client
        .decide_application(reject(caseworker(PINGSHAN_STREET)))
        .await
        .expect_err("a caseworker does not decide");
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    // The control: the county's approver does.
    client
        .decide_application(reject(approver(PINGSHAN)))
        .await
        .expect("the county decides");
    host.shutdown().await;
}

/// A read of a case is audited on the bus for a plain NATS subscriber: the case and each member
/// by pseudonym, never an id number.
#[tokio::test]
async fn reading_a_case_is_audited_naming_the_members_by_pseudonym() {
    let clock = FixedClock::new(FIRST_DAY);
    let answers = Verifications::default();
    let (host, mut client) =
        support::start(support::hosted(TestHost::distributed(), &clock, &answers)).await;
    let submitted = submit(&mut client, family_of_three()).await;
    let subject = format!("{}.assistance.audit.>", host.bus_prefix());
    let mut audits = host.nats().subscribe(subject).await.expect("subscribed");
    host.nats().flush().await.expect("flushed");

    client
        .get_case(with_token(
            pb::GetCaseRequest {
                case_id: submitted.case_id.clone(),
                read: after(&submitted.result),
            },
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect("read");

    let message = tokio::time::timeout(Duration::from_secs(30), audits.next())
        .await
        .expect("the audit reaches the bus")
        .expect("subscription open");
    assert_eq!(
        message.subject.as_str(),
        format!(
            "{}.assistance.audit.personal_data_accessed",
            host.bus_prefix()
        )
    );
    let headers = message.headers.clone().unwrap_or_default();
    assert_eq!(
        headers
            .get("ce-type")
            .map(|v| v.as_str().to_owned())
            .as_deref(),
        Some("minzheng.audit.v1.PersonalDataAccessed")
    );
    let mut visible = message.subject.to_string();
    for (name, values) in headers.iter() {
        visible.push_str(name.as_ref());
        values.iter().for_each(|v| visible.push_str(v.as_str()));
    }
    let event = audit::PersonalDataAccessed::decode(message.payload.clone()).expect("protobuf");
    for number in [HUSBAND, WIFE, SON] {
        assert!(
            !visible.contains(number) && !format!("{event:?}").contains(number),
            "an id number in the audit"
        );
    }
    assert_eq!(
        event.method,
        "minzheng.assistance.v1.AssistanceService/GetCase"
    );
    assert_eq!(event.roles, ["caseworker"]);
    assert_eq!(event.outcome, i32::from(audit::AccessOutcome::Allowed));
    let cases: BTreeSet<&str> = event
        .records
        .iter()
        .filter(|r| r.kind == "case")
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(cases, BTreeSet::from([submitted.case_id.as_str()]));
    let pseudonyms = Pseudonymizer::new(&SecretString::from(PSEUDONYM_KEY)).expect("a key");
    let expected: BTreeSet<String> = [HUSBAND, WIFE, SON]
        .into_iter()
        .map(|n| pseudonyms.of("person", &CitizenId::parse(n).expect("valid")))
        .collect();
    let persons: BTreeSet<String> = event
        .records
        .iter()
        .filter(|r| r.kind == "person")
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(persons, expected);
    host.shutdown().await;
}
