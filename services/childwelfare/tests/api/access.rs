//! The access policy, enforced at the edge and documented in `ACCESS.md`, and the read audit of
//! a child's record.

use minzheng_childwelfare::grpc::ChildWelfareApi;
use minzheng_host::testing::{self, TestHost, token, with_token};
use minzheng_kit::{auth::Role, clock::FixedClock};
use minzheng_proto::childwelfare::v1 as pb;
use tonic::Code;

use crate::support::{
    self, FIRST_DAY, PINGSHAN, XIHU, boy_2015, childwelfare, citizen_ref, identify, place_names,
};

/// Every RPC called with every role and without a token: the edge admits exactly what the
/// access policy says.
#[tokio::test]
async fn the_edge_enforces_the_access_policy_for_every_rpc_and_role() {
    let clock = FixedClock::new(FIRST_DAY);
    let host = TestHost::embedded()
        .service(place_names())
        .service(childwelfare(&clock))
        .start()
        .await;
    testing::assert_access_matrix(
        host.channel("childwelfare").await,
        &ChildWelfareApi::access(),
    )
    .await;
    host.shutdown().await;
}

#[test]
fn access_matrix_doc_is_current() {
    testing::assert_access_doc(
        env!("CARGO_MANIFEST_DIR"),
        "ACCESS.md",
        "Child welfare",
        &ChildWelfareApi::access(),
    );
}

/// A caseworker of 平山区 reads a child of 平山区; one of 溪湖区 is refused. Both readings are
/// audited, naming the child by pseudonym, never by id number.
#[tokio::test]
async fn reading_a_child_is_scoped_and_audited_by_pseudonym() {
    let (host, mut client, _clock, _producers) = support::embedded().await;
    let boy = boy_2015();
    let identified = identify(&mut client, &boy, FIRST_DAY).await;
    let read = |region: &str| {
        with_token(
            pb::GetChildRequest {
                child: citizen_ref(&boy),
                read: None,
            },
            &token(&[Role::Caseworker], &[region]),
        )
    };
    client.get_child(read(PINGSHAN)).await.expect("in scope");
    let refused = client
        .get_child(read(XIHU))
        .await
        .expect_err("out of scope");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // The refused read's audit is stored after its answer: wait for it.
    let audits = support::audits_of(&host, "GetChild", 2).await;
    assert_eq!(audits.len(), 2, "{audits:?}");
    for entry in &audits {
        let printed = format!("{entry:?}");
        assert!(printed.contains(&identified.child_id), "{printed}");
        assert!(!printed.contains(&boy), "{printed}");
    }
    host.shutdown().await;
}
