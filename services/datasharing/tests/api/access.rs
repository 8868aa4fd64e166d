//! The access policy, enforced at the edge and documented in `ACCESS.md`.

use minzheng_datasharing::grpc::DataSharingApi;
use minzheng_host::testing;

use crate::support;

#[tokio::test]
async fn the_edge_enforces_the_access_policy_for_every_rpc_and_role() {
    let hosted = support::embedded().await;
    testing::assert_access_matrix(
        hosted.host.channel("datasharing").await,
        &DataSharingApi::access(),
    )
    .await;
    hosted.host.shutdown().await;
}

#[test]
fn access_matrix_doc_is_current() {
    testing::assert_access_doc(
        env!("CARGO_MANIFEST_DIR"),
        "ACCESS.md",
        "Data sharing",
        &DataSharingApi::access(),
    );
}
