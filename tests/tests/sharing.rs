//! Sharing out (数据共享) over PostgreSQL and NATS: agencies' agreements with the data-sharing
//! service decide what of the civil registry's deaths each receives — only the granted fields,
//! citizen ids as that agency's own pseudonyms unless the real id is granted — on the agency's
//! own subjects `share.<agency>.…`, seen by a plain NATS subscriber and in the agency's own
//! JetStream stream, and through `Subscribe` for agencies without NATS (from a resumable
//! position, then live); and the person's audit trail names each agency that received their
//! data.

use std::{collections::HashMap, sync::Arc, time::Duration};

use futures::StreamExt as _;
use minzheng_host::testing::{TestHost, agency_token, token, with_token};
use minzheng_kit::{auth::Role, clock::FixedClock, pseudonym::Pseudonymizer};
use minzheng_proto::{
    civilregistry::v1::{self as cr, civil_registry_service_client::CivilRegistryServiceClient},
    common::v1 as common,
    datasharing::v1::{self as ds, data_sharing_service_client::DataSharingServiceClient},
};
use prost::Message as _;
use secrecy::SecretString;
use time::macros::date;

const KEY: &str = "sharing-test-pseudonym-key-32-bytes-long!!";
const PINGSHAN: &str = "210502000000";
const DECEASED: &str = "210502195803120025";
const LATER_DECEASED: &str = "210502195203040021";

fn metadata() -> Option<common::CommandMetadata> {
    Some(common::CommandMetadata {
        idempotency_key: uuid::Uuid::now_v7().to_string(),
        correlation_id: String::new(),
    })
}

#[tokio::test]
async fn each_agency_receives_only_its_granted_fields_under_its_own_pseudonyms() {
    let clock = FixedClock::new(date!(2026 - 04 - 10));
    let host = TestHost::distributed()
        .service(minzheng_placenames::Module::default().with_seed(minzheng_placenames::BENXI))
        .service(
            minzheng_civilregistry::Module::new(SecretString::from(KEY))
                .with_clock(Arc::new(clock.clone())),
        )
        .service(
            minzheng_datasharing::Module::default()
                .with_pseudonym_key(SecretString::from(KEY))
                .with_clock(Arc::new(clock.clone())),
        )
        .start()
        .await;
    host.settle().await;
    let prefix = host.bus_prefix().to_owned();
    let mut shared = host
        .nats()
        .subscribe(format!("{prefix}_share.>"))
        .await
        .expect("subscribed");
    host.nats().flush().await.expect("flushed");

    let mut sharing = DataSharingServiceClient::new(host.channel("datasharing").await);
    let operator = token(&[Role::Operator], &["210000000000"]);
    for (agency, fields, real_id) in [
        (
            "health_commission",
            vec!["death_id", "citizen", "died_on"],
            false,
        ),
        ("police", vec!["citizen"], true),
        ("statistics", vec!["citizen", "county"], false),
    ] {
        sharing
            .record_agreement(with_token(
                ds::RecordAgreementRequest {
                    metadata: metadata(),
                    agency: agency.into(),
                    events: vec![ds::SharedEventType {
                        event_type: "minzheng.civilregistry.v1.DeathRecorded".into(),
                        fields: fields.into_iter().map(str::to_owned).collect(),
                    }],
                    purpose: "死亡信息共享".into(),
                    expires_on: Some(date!(2026 - 12 - 31).into()),
                    real_id_granted: real_id,
                },
                &operator,
            ))
            .await
            .expect("agreement recorded");
    }
    host.settle().await;

    let mut registry = CivilRegistryServiceClient::new(host.channel("civilregistry").await);
    let death = record_death(&mut registry, DECEASED).await;
    host.settle().await;

    let mut received: HashMap<String, cr::DeathRecorded> = HashMap::new();
    while received.len() < 3 {
        let message = tokio::time::timeout(Duration::from_secs(30), shared.next())
            .await
            .expect("three shared events")
            .expect("subscription open");
        // `<prefix>_share.<agency>.<service>.<event>`: the agency and the event type only.
        let tokens: Vec<&str> = message.subject.split('.').collect();
        assert_eq!(tokens.len(), 4, "{}", message.subject);
        assert_eq!(tokens[2..], ["civilregistry", "death_recorded"]);
        let event = cr::DeathRecorded::decode(message.payload.as_ref()).expect("a death");
        received.insert(tokens[1].to_owned(), event);
    }
    let pseudonyms = Pseudonymizer::new(&SecretString::from(KEY)).expect("a key");
    let health = &received["health_commission"];
    assert_eq!(health.death_id, death.death_id);
    assert_eq!(
        health.citizen.as_ref().map(|c| c.citizen_id.clone()),
        Some(pseudonyms.of_text("share-health_commission", DECEASED)),
        "the agency's own pseudonym"
    );
    assert_eq!(health.name, "", "the name is not granted");
    assert_eq!(health.county, None, "the county is not granted");
    let police = &received["police"];
    assert_eq!(
        police.citizen.as_ref().map(|c| c.citizen_id.as_str()),
        Some(DECEASED),
        "the real id, granted"
    );
    assert_eq!(police.death_id, "", "only the citizen is granted");
    let statistics = &received["statistics"];
    assert_ne!(
        statistics.citizen, health.citizen,
        "pseudonyms differ between agencies"
    );
    assert_eq!(
        statistics.county.as_ref().map(|c| c.code.as_str()),
        Some(PINGSHAN)
    );

    // The person's audit trail names every agency that received their data.
    host.settle().await;
    let trail = sharing
        .audit_trail(with_token(
            ds::AuditTrailRequest {
                citizen: Some(common::CitizenRef {
                    citizen_id: DECEASED.into(),
                }),
                limit: 0,
            },
            &token(&[Role::Auditor], &[PINGSHAN]),
        ))
        .await
        .expect("the trail")
        .into_inner();
    let mut agencies: Vec<&str> = trail
        .entries
        .iter()
        .filter(|e| e.method == "share minzheng.civilregistry.v1.DeathRecorded")
        .map(|e| e.agency.as_str())
        .collect();
    agencies.sort_unstable();
    assert_eq!(agencies, ["health_commission", "police", "statistics"]);

    // The agency's own JetStream stream holds exactly its copies: the placenames' seed and the
    // other agencies' copies are not there.
    let js = async_nats::jetstream::new(host.nats().clone());
    let own = format!("{}_SHARE_HEALTH_COMMISSION", prefix.to_ascii_uppercase());
    let mut stream = js.get_stream(&own).await.expect("the agency's stream");
    let mut tries = 0;
    while stream.info().await.expect("stream info").state.messages < 1 && tries < 300 {
        tries += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let copy = stream.get_raw_message(1).await.expect("the first copy");
    assert_eq!(stream.cached_info().state.messages, 1, "only its own copy");
    assert_eq!(
        copy.subject.as_str(),
        format!("{prefix}_share.health_commission.civilregistry.death_recorded")
    );
    assert_eq!(
        cr::DeathRecorded::decode(copy.payload.as_ref()).expect("a death"),
        *health
    );

    // `Subscribe`: the same copies from the start, then live; resumed from a position.
    let health_token = agency_token("health_commission");
    let mut subscription = sharing
        .subscribe(with_token(ds::SubscribeRequest { after: 0 }, &health_token))
        .await
        .expect("subscribed")
        .into_inner();
    let first = next_copy(&mut subscription).await;
    assert_eq!(first.position, 1);
    assert_eq!(first.r#type, "minzheng.civilregistry.v1.DeathRecorded");
    assert_eq!(first.subject, copy.subject.as_str());
    assert_eq!(
        cr::DeathRecorded::decode(first.payload.as_slice()).expect("a death"),
        *health
    );
    let later = record_death(&mut registry, LATER_DECEASED).await;
    let second = next_copy(&mut subscription).await;
    assert_eq!(second.position, 2, "the next copy, live");
    let second = cr::DeathRecorded::decode(second.payload.as_slice()).expect("a death");
    assert_eq!(second.death_id, later.death_id);
    drop(subscription);
    let mut resumed = sharing
        .subscribe(with_token(ds::SubscribeRequest { after: 1 }, &health_token))
        .await
        .expect("resumed")
        .into_inner();
    assert_eq!(next_copy(&mut resumed).await.position, 2, "resumed after 1");
    // Another agency reads its own copies only, under its own pseudonyms.
    let mut statistics_copies = sharing
        .subscribe(with_token(
            ds::SubscribeRequest { after: 0 },
            &agency_token("statistics"),
        ))
        .await
        .expect("subscribed")
        .into_inner();
    let theirs = next_copy(&mut statistics_copies).await;
    assert_eq!(
        cr::DeathRecorded::decode(theirs.payload.as_slice()).expect("a death"),
        *statistics
    );
    // Past the end, or without an agency, is refused.
    let beyond = sharing
        .subscribe(with_token(ds::SubscribeRequest { after: 9 }, &health_token))
        .await
        .expect_err("no position 9 yet");
    assert_eq!(beyond.code(), tonic::Code::InvalidArgument);
    assert!(beyond.message().contains("after"), "{}", beyond.message());
    let operator_subscribing = sharing
        .subscribe(with_token(ds::SubscribeRequest { after: 0 }, &operator))
        .await
        .expect_err("not an agency");
    assert_eq!(operator_subscribing.code(), tonic::Code::PermissionDenied);
    drop((resumed, statistics_copies));
    host.shutdown().await;
}

async fn record_death(
    registry: &mut CivilRegistryServiceClient<tonic::transport::Channel>,
    citizen: &str,
) -> cr::RecordDeathResponse {
    registry
        .record_death(with_token(
            cr::RecordDeathRequest {
                metadata: metadata(),
                citizen: Some(common::CitizenRef {
                    citizen_id: citizen.into(),
                }),
                name: "张三".into(),
                died_on: Some(date!(2026 - 04 - 08).into()),
                county: Some(common::RegionCode {
                    code: PINGSHAN.into(),
                }),
                source: cr::DeathSource::Hospital.into(),
                source_reference: "BX-2026-0099".into(),
            },
            &token(&[Role::Agency], &[PINGSHAN]),
        ))
        .await
        .expect("death notified")
        .into_inner()
}

async fn next_copy(copies: &mut tonic::Streaming<ds::SharedEvent>) -> ds::SharedEvent {
    tokio::time::timeout(Duration::from_secs(30), copies.message())
        .await
        .expect("a copy in time")
        .expect("the stream is healthy")
        .expect("the stream is open")
}
