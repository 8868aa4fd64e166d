//! Distributed (PostgreSQL and NATS JetStream, as `minzheng civilregistry` runs): the registries
//! arrive from the place-names events on JetStream, and what a plain NATS subscriber, as an
//! agency would have, receives from the relay.

use std::{collections::BTreeMap, time::Duration};

use futures::StreamExt as _;
use minzheng_host::testing::TestHost;
use minzheng_kit::clock::FixedClock;
use minzheng_proto::civilregistry::v1 as pb;
use prost::Message as _;

use crate::support::{
    self, FIRST_DAY, HUSBAND, OTHER_MAN, OTHER_WOMAN, WIFE, civil_registry, husband_dies, marry,
    place_names,
};

/// A marriage and then the death of one spouse reach JetStream on the documented subjects, with
/// CloudEvents headers and the protobuf event as payload, and without personal data in any
/// subject or header.
#[tokio::test]
async fn distributed_a_marriage_and_a_death_reach_jetstream_without_personal_data() {
    let clock = FixedClock::new(FIRST_DAY);
    let (host, mut client) = support::start(
        TestHost::distributed()
            .service(place_names())
            .service(civil_registry(&clock)),
    )
    .await;
    let registries = support::registries(&mut client).await;
    assert!(
        registries.iter().any(|r| r.name == "平山区"),
        "{registries:?}"
    );
    let prefix = host.bus_prefix().to_owned();
    // The civil registry records nothing before the first command below.
    let mut subscriber = host
        .nats()
        .subscribe(format!("{prefix}.civilregistry.>"))
        .await
        .expect("subscribed");
    host.nats().flush().await.expect("flushed");

    let married = marry(&mut client, &clock).await.marriage;
    let death = husband_dies(&mut client, &clock).await;

    // What an agency subscribed to the service's subjects receives.
    let expected = [
        "registry_day.slots_published",
        "registry_day.appointment_booked",
        "registry_day.appointment_checked_in",
        "marriage.registered",
        "person.marital_status_changed",
        "death.recorded",
        "person.deceased",
        "marriage.dissolved",
    ];
    let mut subjects: BTreeMap<String, usize> = BTreeMap::new();
    let mut death_message = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let status_changes = format!("{prefix}.civilregistry.person.marital_status_changed");
    // Both spouses married, then the survivor widowed: three status changes.
    while !expected
        .iter()
        .all(|e| subjects.contains_key(&format!("{prefix}.civilregistry.{e}")))
        || subjects.get(&status_changes) < Some(&3)
    {
        let message = tokio::time::timeout_at(deadline, subscriber.next())
            .await
            .unwrap_or_else(|_| panic!("events missing; got {subjects:?}"))
            .expect("subscription open");
        let headers = message.headers.clone().unwrap_or_default();
        // No personal data in any subject or header.
        let mut visible = message.subject.to_string();
        for (name, values) in headers.iter() {
            visible.push_str(name.as_ref());
            for value in values {
                visible.push_str(value.as_str());
            }
        }
        for number in [HUSBAND, WIFE, OTHER_WOMAN, OTHER_MAN] {
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
        if message.subject.as_str() == format!("{prefix}.civilregistry.death.recorded") {
            assert_eq!(
                header("ce-type").as_deref(),
                Some("minzheng.civilregistry.v1.DeathRecorded")
            );
            death_message = Some(message.payload.clone());
        }
        *subjects.entry(message.subject.to_string()).or_default() += 1;
    }
    let recorded = pb::DeathRecorded::decode(death_message.expect("seen")).expect("protobuf");
    assert_eq!(recorded.death_id, death.death_id);
    assert_eq!(
        recorded.citizen.map(|c| c.citizen_id).as_deref(),
        Some(HUSBAND)
    );
    assert!(!married.marriage_id.is_empty());
    host.shutdown().await;
}
