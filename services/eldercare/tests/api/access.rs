//! The access policy, enforced at the edge and documented in `ACCESS.md`, and the read audit of
//! personal data in the service's store.

use std::time::Duration;

use minzheng_eldercare::grpc::ElderCareApi;
use minzheng_host::testing::{self, TestHost, token, with_token};
use minzheng_kit::{auth::Role, clock::FixedClock};
use minzheng_proto::{audit::v1 as audit, eldercare::v1 as pb};
use prost::Message as _;
use tonic::Code;

use crate::support::{
    self, BENXI_CITY, FIRST_DAY, PINGSHAN, XIHU, assess, born_1940, citizen_ref, eldercare,
    place_names, recorded,
};

/// Every RPC called with every role and without a token: the edge admits exactly what the
/// access policy says (embedded here; the edge is shared by both hosting modes).
#[tokio::test]
async fn the_edge_enforces_the_access_policy_for_every_rpc_and_role() {
    let clock = FixedClock::new(FIRST_DAY);
    let host = TestHost::embedded()
        .service(place_names())
        .service(eldercare(&clock))
        .start()
        .await;
    testing::assert_access_matrix(host.channel("eldercare").await, &ElderCareApi::access()).await;
    host.shutdown().await;
}

#[test]
fn access_matrix_doc_is_current() {
    testing::assert_access_doc(
        env!("CARGO_MANIFEST_DIR"),
        "ACCESS.md",
        "Elderly care",
        &ElderCareApi::access(),
    );
}

fn read_elder(citizen: &str) -> pb::GetElderRequest {
    pb::GetElderRequest {
        person: citizen_ref(citizen),
        read: None,
    }
}

/// The audit records of the store: every `minzheng.audit.v1.PersonalDataAccessed` appended.
async fn audits(host: &TestHost) -> Vec<audit::PersonalDataAccessed> {
    recorded(host)
        .await
        .into_iter()
        .filter(|e| e.event_type == "minzheng.audit.v1.PersonalDataAccessed")
        .map(|e| audit::PersonalDataAccessed::decode(e.payload).expect("protobuf"))
        .collect()
}

/// A read of a person's record is audited before it is answered: who, role, purpose and the
/// person by pseudonym (never the id number); a refused read is audited as refused.
#[tokio::test]
async fn reading_a_persons_record_is_audited_by_pseudonym() {
    let (host, mut client, _clock) = support::embedded().await;
    let person = born_1940();
    assess(&mut client, &person, 50, Default::default()).await;
    assert!(
        audits(&host).await.is_empty(),
        "an assessment reads nothing"
    );

    let mut allowed = with_token(read_elder(&person), &token(&[Role::Auditor], &[BENXI_CITY]));
    allowed.metadata_mut().insert(
        "x-access-purpose",
        "nursing subsidy audit 2025-07".parse().expect("ascii"),
    );
    let read = client
        .get_elder(allowed)
        .await
        .expect("an auditor of the city reads")
        .into_inner();
    assert_eq!(read.assessments.len(), 1);

    // The allowed read's record is stored before the answer.
    let stored = audits(&host).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    let entry = &stored[0];
    assert_eq!(
        entry.method,
        "minzheng.eldercare.v1.ElderCareService/GetElder"
    );
    assert_eq!(entry.actor, "tester");
    assert_eq!(entry.roles, ["auditor"]);
    assert_eq!(entry.purpose, "nursing subsidy audit 2025-07");
    assert_eq!(entry.outcome, i32::from(audit::AccessOutcome::Allowed));
    assert_eq!(entry.records.len(), 1, "{entry:?}");
    assert_eq!(entry.records[0].kind, "person");
    assert_eq!(
        entry.records[0].id, read.elder_id,
        "the person by pseudonym"
    );
    assert!(!format!("{entry:?}").contains(&person), "no id number");

    // Outside the caller's regions (the person lives in 平山区): refused, and audited so.
    let refused = client
        .get_elder(with_token(
            read_elder(&person),
            &token(&[Role::Caseworker], &[XIHU]),
        ))
        .await
        .expect_err("a caseworker of 溪湖区 does not read a person of 平山区");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let refused_entry = loop {
        let stored = audits(&host).await;
        if let Some(entry) = stored.get(1) {
            break entry.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the refused read was never audited: {stored:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(refused_entry.roles, ["caseworker"]);
    assert_eq!(
        refused_entry.outcome,
        i32::from(audit::AccessOutcome::Refused)
    );
    assert_eq!(refused_entry.status_code, Code::PermissionDenied as i32);
    assert!(!format!("{refused_entry:?}").contains(&person));
    host.shutdown().await;
}

#[tokio::test]
async fn a_persons_record_without_a_token_is_unauthenticated() {
    let (host, mut client, _clock) = support::embedded().await;
    let status = client
        .get_elder(read_elder(&born_1940()))
        .await
        .expect_err("needs a token");
    assert_eq!(status.code(), Code::Unauthenticated);
    host.shutdown().await;
}

/// An operator runs the platform and reads no one; a caseworker of 平山区 records nothing in
/// another county.
#[tokio::test]
async fn roles_and_regions_outside_the_rule_are_refused() {
    let (host, mut client, _clock) = support::embedded().await;
    let status = client
        .get_elder(with_token(
            read_elder(&born_1940()),
            &token(&[Role::Operator], &[BENXI_CITY]),
        ))
        .await
        .expect_err("operators do not read persons");
    assert_eq!(status.code(), Code::PermissionDenied);

    let mut elsewhere = support::registration(10, 10);
    elsewhere.county = support::region(XIHU);
    elsewhere.division = support::region(support::HEXI_STREET);
    let status = client
        .register_institution(with_token(elsewhere, &support::staff(PINGSHAN)))
        .await
        .expect_err("平山区's caseworker registers nothing in 溪湖区");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(support::recorded_types(&host).await.is_empty());
    host.shutdown().await;
}

/// Reading an institution discloses its residents by pseudonym: the read is audited naming
/// each of them, and the answer carries no id number.
#[tokio::test]
async fn reading_an_institution_audits_each_resident() {
    let (host, mut client, _clock) = support::embedded().await;
    let id = support::register(&mut client, 2, 2).await;
    let mut admitted = Vec::new();
    for n in 1..=2 {
        let answer = support::admit(
            &mut client,
            &id,
            &support::resident(n),
            pb::BedType::General,
        )
        .await
        .expect("admitted");
        admitted.push(answer.elder_id);
    }
    let read = support::institution(&mut client, &id).await;
    assert_eq!(read.residents.len(), 2);
    for n in 1..=2 {
        assert!(!format!("{read:?}").contains(&support::resident(n)));
    }

    let stored = audits(&host).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(
        stored[0].method,
        "minzheng.eldercare.v1.ElderCareService/GetInstitution"
    );
    let mut persons: Vec<&str> = stored[0]
        .records
        .iter()
        .filter(|r| r.kind == "person")
        .map(|r| r.id.as_str())
        .collect();
    persons.sort_unstable();
    admitted.sort();
    assert_eq!(persons, admitted);
    host.shutdown().await;
}
