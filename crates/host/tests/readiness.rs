//! Readiness follows the outbox relay: a distributed host whose relay cannot publish answers
//! NOT_SERVING to health checks (what Kubernetes' readiness probe asks) and says why in
//! `GetInfo`, then SERVING again by itself once the cause is gone.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use minzheng_bus::BusNaming;
use minzheng_eventstore::{AppendRequest, ExpectedVersion, Metadata, NewEvent, StreamId};
use minzheng_host::{Host, Mode};
use minzheng_kit::{auth::Authenticator, settings::PlatformSettings};
use minzheng_proto::platform::v1::{
    GetInfoRequest, platform_service_client::PlatformServiceClient,
};
use minzheng_testkit::{TestDatabase, unique_name};
use secrecy::SecretString;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

const SECRET: &str = "readiness-test-secret-at-least-32-bytes-long";
const WAIT: Duration = Duration::from_secs(30);

/// A service that records one event when it starts, so its relay has something to publish.
#[derive(Debug)]
struct RecordsAtStart;

#[async_trait::async_trait]
impl minzheng_host::ServiceModule for RecordsAtStart {
    fn name(&self) -> &'static str {
        "recorder"
    }

    async fn start(
        &self,
        context: &minzheng_host::ServiceContext,
        server: minzheng_kit::server::ServerBuilder,
    ) -> anyhow::Result<minzheng_kit::server::ServerBuilder> {
        context
            .store()
            .append(AppendRequest {
                stream: StreamId::new("thing", "1")?,
                expected: ExpectedVersion::Any,
                events: vec![NewEvent::new("minzheng.test.v1.ThingRecorded", 1, vec![])],
                metadata: Metadata::default(),
            })
            .await?;
        Ok(server)
    }
}

async fn overall_status(health: &mut HealthClient<tonic::transport::Channel>) -> ServingStatus {
    health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health answers")
        .into_inner()
        .status()
}

async fn wait_for_status(
    health: &mut HealthClient<tonic::transport::Channel>,
    wanted: ServingStatus,
) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while overall_status(health).await != wanted {
        assert!(
            tokio::time::Instant::now() < deadline,
            "health never became {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_relay_that_cannot_publish_makes_the_service_not_ready_until_it_can() {
    let db = TestDatabase::create().await;
    let prefix = unique_name("ready");
    let naming = BusNaming::with_prefix(&prefix, "recorder").unwrap();
    let nats = minzheng_testkit::nats().await;
    let js = jetstream::new(nats.clone());
    // The operator capped the stream at one message, refusing more, and it holds one already.
    let full = stream::Config {
        name: naming.stream_name().to_owned(),
        subjects: vec![naming.stream_subjects()],
        max_messages: 1,
        discard: stream::DiscardPolicy::New,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    };
    js.create_stream(full.clone()).await.unwrap();
    js.publish(format!("{prefix}.recorder.other.note"), "x".into())
        .await
        .unwrap()
        .await
        .unwrap();

    let settings = PlatformSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: Some(SecretString::from(db.url.clone())),
        nats_url: Some(minzheng_testkit::nats_url()),
        relay_unready_after_secs: 1,
        ..PlatformSettings::default()
    };
    let host = Host::new(Mode::Distributed, settings)
        .authenticator(Authenticator::dev(&SecretString::from(SECRET)).unwrap())
        .bus_prefix(&prefix)
        .module(RecordsAtStart)
        .start()
        .await
        .expect("host starts");
    let url = format!("http://{}", host.local_addr());
    let channel = tonic::transport::Channel::from_shared(url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    let mut platform = PlatformServiceClient::connect(url).await.unwrap();

    wait_for_status(&mut health, ServingStatus::NotServing).await;
    let info = platform
        .get_info(GetInfoRequest {})
        .await
        .unwrap()
        .into_inner();
    let reason = &info.services[0].not_ready_reason;
    assert!(
        reason.contains("relay cannot publish") && reason.contains("maximum messages"),
        "GetInfo says why: {reason:?}"
    );

    js.update_stream(stream::Config {
        max_messages: -1,
        ..full
    })
    .await
    .unwrap();
    wait_for_status(&mut health, ServingStatus::Serving).await;
    let info = platform
        .get_info(GetInfoRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.services[0].not_ready_reason, "");
    host.shutdown().await.unwrap();
    let _ = js.delete_stream(naming.stream_name()).await;
}
