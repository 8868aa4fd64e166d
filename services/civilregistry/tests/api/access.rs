//! The access policy, enforced at the edge and documented in `ACCESS.md`, and the read audit of
//! personal data on the bus.

use std::time::Duration;

use futures::StreamExt as _;
use minzheng_civilregistry::grpc::CivilRegistryApi;
use minzheng_host::testing::{self, TestHost, token, with_token};
use minzheng_kit::{auth::Role, clock::FixedClock};
use minzheng_proto::{
    audit::v1 as audit,
    civilregistry::v1::{self as pb, civil_registry_service_client::CivilRegistryServiceClient},
};
use prost::Message as _;
use tonic::Code;

use crate::support::{self, BENXI_CITY, FIRST_DAY, WIFE, citizen, civil_registry, place_names};

/// Every RPC called with every role and without a token: the edge admits exactly what the
/// access policy says, in both hosting modes' shared edge (embedded here).
#[tokio::test]
async fn the_edge_enforces_the_access_policy_for_every_rpc_and_role() {
    let clock = FixedClock::new(FIRST_DAY);
    let host = TestHost::embedded()
        .service(place_names())
        .service(civil_registry(&clock))
        .start()
        .await;
    testing::assert_access_matrix(
        host.channel("civilregistry").await,
        &CivilRegistryApi::access(),
    )
    .await;
    host.shutdown().await;
}

#[test]
fn access_matrix_doc_is_current() {
    testing::assert_access_doc(
        env!("CARGO_MANIFEST_DIR"),
        "ACCESS.md",
        "Civil registry",
        &CivilRegistryApi::access(),
    );
}

#[tokio::test]
async fn a_marital_status_read_without_a_token_is_unauthenticated() {
    let (host, mut client, _clock) = support::embedded().await;
    let status = client
        .get_marital_status(pb::GetMaritalStatusRequest {
            citizen: citizen(WIFE),
            as_of: None,
            read: None,
        })
        .await
        .expect_err("needs a token");
    assert_eq!(status.code(), Code::Unauthenticated);
    host.shutdown().await;
}

/// A read of a person's marital status is audited on the bus for a plain NATS subscriber: who,
/// role, purpose, the person by pseudonym, allowed or refused; no id number anywhere.
#[tokio::test]
async fn reads_of_personal_data_are_audited_on_the_bus() {
    let clock = FixedClock::new(FIRST_DAY);
    let host = TestHost::distributed()
        .service(civil_registry(&clock))
        .start()
        .await;
    let subject = format!("{}.civilregistry.audit.>", host.bus_prefix());
    let mut audits = host.nats().subscribe(subject).await.expect("subscribed");
    host.nats().flush().await.expect("flushed");
    let mut client = CivilRegistryServiceClient::new(host.channel("civilregistry").await);
    let read = || pb::GetMaritalStatusRequest {
        citizen: citizen(WIFE),
        as_of: None,
        read: None,
    };

    let mut allowed = with_token(read(), &token(&[Role::Auditor], &[BENXI_CITY]));
    allowed.metadata_mut().insert(
        "x-access-purpose",
        "dibao review 2025-06".parse().expect("ascii"),
    );
    let answer = client
        .get_marital_status(allowed)
        .await
        .expect("an auditor reads");
    assert_eq!(
        answer.get_ref().status,
        i32::from(pb::MaritalStatus::NoRecord)
    );
    let refused = client
        .get_marital_status(with_token(read(), &token(&[Role::Operator], &[BENXI_CITY])))
        .await
        .expect_err("operators do not read persons");
    assert_eq!(refused.code(), Code::PermissionDenied);

    let mut seen = Vec::new();
    while seen.len() < 2 {
        let message = tokio::time::timeout(Duration::from_secs(30), audits.next())
            .await
            .expect("the audit reaches the bus")
            .expect("subscription open");
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
        assert!(
            !visible.contains(WIFE) && !format!("{event:?}").contains(WIFE),
            "no id number in the audit"
        );
        assert_eq!(
            message.subject.as_str(),
            format!(
                "{}.civilregistry.audit.personal_data_accessed",
                host.bus_prefix()
            )
        );
        seen.push(event);
    }
    let (allowed, refused) = (&seen[0], &seen[1]);
    assert_eq!(
        allowed.method,
        "minzheng.civilregistry.v1.CivilRegistryService/GetMaritalStatus"
    );
    assert_eq!(allowed.actor, "tester");
    assert_eq!(allowed.roles, ["auditor"]);
    assert_eq!(allowed.purpose, "dibao review 2025-06");
    assert_eq!(allowed.outcome, i32::from(audit::AccessOutcome::Allowed));
    assert_eq!(allowed.records.len(), 1, "{allowed:?}");
    assert_eq!(allowed.records[0].kind, "person");
    assert!(
        allowed.records[0].id.len() >= 32,
        "a pseudonym: {allowed:?}"
    );
    assert!(allowed.accessed_at.is_some());
    assert_eq!(refused.roles, ["operator"]);
    assert_eq!(refused.outcome, i32::from(audit::AccessOutcome::Refused));
    assert_eq!(refused.status_code, Code::PermissionDenied as i32);
    host.shutdown().await;
}
