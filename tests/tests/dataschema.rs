//! The CloudEvents `dataschema` of a published event resolves: `urn:minzheng:schema:<type>:v<n>`
//! names the event's protobuf message, and the producing service's gRPC reflection serves the
//! descriptor of the file that defines it (`FileContainingSymbol`), with what an agency needs to
//! decode the payload with stock tooling.

use async_nats::jetstream;
use futures::StreamExt as _;
use minzheng_bus::BusNaming;
use minzheng_host::testing::TestHost;
use prost::Message as _;
use prost_types::FileDescriptorProto;
use time::macros::date;
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

const DIVISIONS: &str = "code,name,level,parent_code
210000000000,辽宁省,province,
";

#[tokio::test]
async fn a_published_events_dataschema_resolves_through_reflection() {
    let host = TestHost::distributed()
        .service(minzheng_placenames::Module::default())
        .start()
        .await;
    minzheng_tests::divisions::import(&host, DIVISIONS, date!(2023 - 06 - 30)).await;
    host.settle().await;

    let naming = BusNaming::with_prefix(host.bus_prefix(), "placenames").expect("valid names");
    let stream = jetstream::new(host.nats().clone())
        .get_stream(naming.stream_name())
        .await
        .expect("the place-names stream");
    let message = stream.get_raw_message(1).await.expect("the first event");
    let schema = message
        .headers
        .get("ce-dataschema")
        .expect("a dataschema")
        .as_str()
        .to_owned();
    let (event_type, version) = schema
        .strip_prefix("urn:minzheng:schema:")
        .and_then(|rest| rest.rsplit_once(":v"))
        .unwrap_or_else(|| panic!("the URN's shape: {schema}"));
    assert_eq!(
        Some(event_type),
        message.headers.get("ce-type").map(|t| t.as_str())
    );
    assert_eq!(version, "1");

    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(event_type.to_owned())),
    };
    let mut answers = ServerReflectionClient::new(host.channel("placenames").await)
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .expect("reflection answers")
        .into_inner();
    let answer = answers
        .next()
        .await
        .expect("one answer")
        .expect("not an error");
    let Some(MessageResponse::FileDescriptorResponse(files)) = answer.message_response else {
        panic!("a file descriptor for {event_type}: {answer:?}");
    };
    let (package, name) = event_type.rsplit_once('.').expect("a qualified name");
    let defined = files
        .file_descriptor_proto
        .iter()
        .map(|bytes| FileDescriptorProto::decode(bytes.as_slice()).expect("a file descriptor"))
        .any(|file| {
            file.package() == package && file.message_type.iter().any(|m| m.name() == name)
        });
    assert!(defined, "reflection serves the file defining {event_type}");
    host.shutdown().await;
}
