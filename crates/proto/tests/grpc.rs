//! Generated code over a real gRPC connection: the server codec turns malformed requests into
//! INVALID_ARGUMENT, well-formed ones still work, clients talk to servers, and the descriptor set
//! describes every service for reflection.

use std::net::SocketAddr;

use bytes::{Buf, BufMut, Bytes};
use minzheng_proto::{
    FILE_DESCRIPTOR_SET, common,
    platform::v1::{
        CheckValuesRequest, CheckValuesResponse, GetInfoRequest, GetInfoResponse,
        platform_service_client::PlatformServiceClient,
        platform_service_server::{PlatformService, PlatformServiceServer},
    },
};
use prost::Message;
use tonic::{
    Code, Request, Response, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    transport::{Channel, Server, server::TcpIncoming},
};

/// A stand-in implementation: echoes the remark so a test can see the request arrived intact.
struct Echo;

#[tonic::async_trait]
impl PlatformService for Echo {
    async fn get_info(
        &self,
        _request: Request<GetInfoRequest>,
    ) -> Result<Response<GetInfoResponse>, Status> {
        Ok(Response::new(GetInfoResponse {
            version: "test".to_owned(),
            services: Vec::new(),
        }))
    }

    async fn check_values(
        &self,
        request: Request<CheckValuesRequest>,
    ) -> Result<Response<CheckValuesResponse>, Status> {
        let request = request.into_inner();
        Ok(Response::new(CheckValuesResponse {
            remark: request.remark,
            amount: request.amount,
            ..Default::default()
        }))
    }
}

/// Starts the server on an ephemeral port and returns a channel to it.
async fn serve() -> Channel {
    let incoming = TcpIncoming::bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind a port");
    let address = incoming.local_addr().expect("bound address");
    tokio::spawn(
        Server::builder()
            .add_service(PlatformServiceServer::new(Echo))
            .serve_with_incoming(incoming),
    );
    Channel::from_shared(format!("http://{address}"))
        .expect("valid uri")
        .connect()
        .await
        .expect("connect to the test server")
}

/// A codec that sends and receives raw bytes, to put malformed messages on the wire.
#[derive(Default)]
struct RawCodec;

struct RawEncoder;
struct RawDecoder;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// Calls CheckValues with the given bytes as the request message.
async fn check_values_raw(channel: Channel, body: Bytes) -> Result<Bytes, Status> {
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.expect("client ready");
    let path =
        http::uri::PathAndQuery::from_static("/minzheng.platform.v1.PlatformService/CheckValues");
    client
        .unary(Request::new(body), path, RawCodec)
        .await
        .map(Response::into_inner)
}

#[tokio::test]
async fn invalid_utf8_in_a_request_is_invalid_argument() {
    let channel = serve().await;
    // Field 4 (`remark`), length-delimited, two bytes that are not UTF-8.
    let body = Bytes::from_static(&[0x22, 0x02, 0xff, 0xfe]);
    let status = check_values_raw(channel, body)
        .await
        .expect_err("a malformed request must fail");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().contains("CheckValuesRequest.remark"),
        "the message names the field: {}",
        status.message()
    );
}

#[tokio::test]
async fn truncated_request_is_invalid_argument() {
    let channel = serve().await;
    // Field 3 (`amount`) announces 5 bytes but the message ends.
    let status = check_values_raw(channel, Bytes::from_static(&[0x1a, 0x05, 0x08]))
        .await
        .expect_err("a truncated request must fail");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
}

#[tokio::test]
async fn well_formed_requests_pass_through_the_codec() {
    let channel = serve().await;
    let request = CheckValuesRequest {
        remark: "备注".to_owned(),
        amount: Some(common::v1::Money { fen: 66_550 }),
        ..Default::default()
    };
    let raw = check_values_raw(channel.clone(), Bytes::from(request.encode_to_vec()))
        .await
        .expect("a valid request succeeds");
    let response = CheckValuesResponse::decode(raw).expect("a valid response");
    assert_eq!(response.remark, "备注");

    let mut client = PlatformServiceClient::new(channel);
    let response = client
        .check_values(request)
        .await
        .expect("the generated client works")
        .into_inner();
    assert_eq!(response.amount, Some(common::v1::Money { fen: 66_550 }));
    let info = client
        .get_info(GetInfoRequest {})
        .await
        .expect("get info")
        .into_inner();
    assert_eq!(info.version, "test");
}

#[test]
fn the_descriptor_set_describes_every_proto_file() {
    let set =
        prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).expect("a descriptor set");
    let files: Vec<&str> = set.file.iter().map(|f| f.name()).collect();
    for expected in [
        "minzheng/common/v1/values.proto",
        "minzheng/common/v1/paging.proto",
        "minzheng/common/v1/command.proto",
        "minzheng/platform/v1/platform.proto",
    ] {
        assert!(
            files.contains(&expected),
            "{expected} missing from {files:?}"
        );
    }
    let platform = set
        .file
        .iter()
        .find(|f| f.name() == "minzheng/platform/v1/platform.proto")
        .expect("platform file");
    assert_eq!(platform.package(), "minzheng.platform.v1");
    assert_eq!(platform.service[0].name(), "PlatformService");
    // Comments survive into the descriptors, so reflection clients can show them.
    assert!(platform.source_code_info.is_some());
}

#[test]
fn generated_types_are_reachable_by_package_path_and_short_path() {
    let long = minzheng_proto::minzheng::common::v1::Money { fen: 1 };
    let short: common::v1::Money = long;
    assert_eq!(short.fen, 1);
    assert_eq!(common::v1::Sex::Female.as_str_name(), "SEX_FEMALE");
}
