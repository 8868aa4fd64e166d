//! Services together, as they run side by side: the civil registry learns its marriage
//! registries (one per county-level division) from the place-names service's division events,
//! on JetStream when distributed and fed in process when embedded. Each service's own API tests
//! stand in for the other with the events of its public contract; here the real services meet.

use std::sync::Arc;

use minzheng_host::testing::TestHost;
use minzheng_kit::clock::FixedClock;
use minzheng_placenames::BENXI;
use minzheng_proto::civilregistry::v1::{
    self as pb, civil_registry_service_client::CivilRegistryServiceClient,
};
use secrecy::SecretString;
use time::macros::date;

const PSEUDONYM_KEY: &str = "cross-service-test-pseudonym-key-32-bytes";
/// Benxi's six county-level divisions, in code order.
const BENXI_COUNTIES: [&str; 6] = [
    "平山区",
    "溪湖区",
    "明山区",
    "南芬区",
    "本溪满族自治县",
    "桓仁满族自治县",
];

fn civil_registry() -> minzheng_civilregistry::Module {
    minzheng_civilregistry::Module::new(SecretString::from(PSEUDONYM_KEY))
        .with_clock(Arc::new(FixedClock::new(date!(2025 - 06 - 01))))
}

/// The registries the civil registry lists, by name in code order, once every event so far
/// has reached it (the test host settles its relays and consumers: no polling).
async fn registries(host: &TestHost) -> Vec<String> {
    host.settle().await;
    let mut registries = CivilRegistryServiceClient::new(host.channel("civilregistry").await)
        .list_registries(pb::ListRegistriesRequest {
            as_of: Some(date!(2025 - 06 - 01).into()),
            read: None,
        })
        .await
        .expect("public")
        .into_inner()
        .registries;
    registries.sort_by_key(|r| r.registry.clone().map(|c| c.code));
    registries.into_iter().map(|r| r.name).collect()
}

/// As `minzheng placenames` and `minzheng civilregistry` run: Benxi's divisions imported over
/// gRPC reach the civil registry through JetStream.
#[tokio::test]
async fn distributed_the_civil_registry_learns_its_registries_from_the_imported_divisions() {
    let host = TestHost::distributed()
        .service(minzheng_placenames::Module::default())
        .service(civil_registry())
        .start()
        .await;
    minzheng_tests::divisions::import(&host, BENXI.csv, BENXI.valid_from).await;
    assert_eq!(registries(&host).await, BENXI_COUNTIES);
    host.shutdown().await;
}

/// As `minzheng dev` runs them: the divisions seeded at start are fed to the civil registry
/// from the place-names store.
#[tokio::test]
async fn embedded_the_civil_registry_learns_its_registries_from_the_seeded_divisions() {
    let host = TestHost::embedded()
        .service(minzheng_placenames::Module::default().with_seed(BENXI))
        .service(civil_registry())
        .start()
        .await;
    assert_eq!(registries(&host).await, BENXI_COUNTIES);
    host.shutdown().await;
}
