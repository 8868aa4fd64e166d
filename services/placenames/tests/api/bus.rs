//! Distributed (PostgreSQL and NATS JetStream, as `minzheng placenames` runs it): what a plain
//! NATS subscriber, as an agency would have, receives from the relay.

use std::{collections::BTreeMap, time::Duration};

use futures::StreamExt as _;
use minzheng_host::testing::TestHost;
use minzheng_placenames::Module;
use minzheng_proto::placenames::v1 as pb;

use crate::support::{
    ERPENGDIANZI, PULEBAO, client, code, import_benxi, merge_the_townships, rename_the_village,
};

/// The import, a merger and a renaming reach JetStream on the documented subjects, with
/// CloudEvents headers and the protobuf event as payload.
#[tokio::test]
async fn distributed_the_division_events_reach_jetstream_with_cloudevents_headers() {
    let host = TestHost::distributed()
        .service(Module::default())
        .start()
        .await;
    let prefix = host.bus_prefix().to_owned();
    // Nothing is recorded before the import, so nothing is published before this subscription.
    let mut subscriber = host
        .nats()
        .subscribe(format!("{prefix}.placenames.>"))
        .await
        .expect("subscribed");
    host.nats().flush().await.expect("flushed");
    let mut client = client(&host).await;
    import_benxi(&mut client).await;
    merge_the_townships(&mut client).await;
    rename_the_village(&mut client).await;

    // 565 recorded + the merger's supersession + the rename, and the adjustments' own events.
    let mut subjects: BTreeMap<String, usize> = BTreeMap::new();
    let mut superseded = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !subjects.contains_key(&format!("{prefix}.placenames.division.renamed"))
        || subjects.values().sum::<usize>() < 565 + 2 + 2 * 6
    {
        let message = tokio::time::timeout_at(deadline, subscriber.next())
            .await
            .unwrap_or_else(|_| panic!("events missing on JetStream; got {subjects:?}"))
            .expect("subscription open");
        let subject = message.subject.to_string();
        if subject.ends_with(".division.superseded") {
            superseded = Some(message.clone());
        }
        *subjects.entry(subject).or_default() += 1;
    }
    assert_eq!(
        subjects[&format!("{prefix}.placenames.division.recorded")],
        565
    );
    assert_eq!(
        subjects[&format!("{prefix}.placenames.division.superseded")],
        1
    );
    assert_eq!(
        subjects[&format!("{prefix}.placenames.adjustment.took_effect")],
        2
    );
    let message = superseded.expect("the supersession was published");
    let headers = message.headers.as_ref().expect("CloudEvents headers");
    let header = |name: &str| headers.get(name).map(|v| v.as_str().to_owned());
    assert_eq!(header("ce-specversion").as_deref(), Some("1.0"));
    assert_eq!(
        header("ce-type").as_deref(),
        Some("minzheng.placenames.v1.DivisionSuperseded")
    );
    assert_eq!(
        header("ce-subject").as_deref(),
        Some(format!("division-{ERPENGDIANZI}").as_str())
    );
    assert_eq!(
        header("content-type").as_deref(),
        Some("application/protobuf")
    );
    assert!(header("ce-id").is_some() && header("Nats-Msg-Id") == header("ce-id"));
    assert!(header("ce-source").is_some() && header("ce-time").is_some());
    assert!(header("ce-dataschema").is_some());
    let event: pb::DivisionSuperseded =
        prost::Message::decode(message.payload.clone()).expect("protobuf");
    assert_eq!(event.successors, vec![code(PULEBAO).expect("set")]);
    assert_eq!(event.adjustment_id, "HR-2025-merge");
    host.shutdown().await;
}
