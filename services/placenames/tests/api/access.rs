//! The access policy, enforced at the edge and documented in `ACCESS.md`.

use minzheng_host::testing::{self, TestHost};
use minzheng_placenames::{Module, grpc::PlaceNamesApi};

/// Every RPC called with every role and without a token: the edge admits exactly what the
/// access policy says.
#[tokio::test]
async fn the_edge_enforces_the_access_policy_for_every_rpc_and_role() {
    let host = TestHost::embedded()
        .service(Module::default())
        .start()
        .await;
    testing::assert_access_matrix(host.channel("placenames").await, &PlaceNamesApi::access()).await;
    host.shutdown().await;
}

#[test]
fn access_matrix_doc_is_current() {
    testing::assert_access_doc(
        env!("CARGO_MANIFEST_DIR"),
        "ACCESS.md",
        "Place names",
        &PlaceNamesApi::access(),
    );
}
