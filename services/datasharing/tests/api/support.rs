//! What the tests share: the hosts, tokens, records and requests.

use std::sync::Arc;

use minzheng_datasharing::{Module, codec::records::kind_to_pb, records::RecordKind};
use minzheng_host::testing::{TestHost, TestHostBuilder, agency_token, token, with_token};
use minzheng_kit::{auth::Role, clock::FixedClock};
use minzheng_proto::{
    common::v1 as common,
    datasharing::v1::{self as pb, data_sharing_service_client::DataSharingServiceClient},
};
use secrecy::SecretString;
use time::{Date, macros::date};
use tonic::transport::Channel;

pub const PSEUDONYM_KEY: &str = "datasharing-test-pseudonym-key-32-bytes!";

/// 平山区 and one of its subdistricts; another county's subdistrict.
pub const PINGSHAN: &str = "210502000000";
pub const PINGSHAN_STREET: &str = "210502001000";
pub const XIHU_STREET: &str = "210503001000";

/// A household of two in 平山区, and a third person.
pub const HUSBAND: &str = "210502195803120025";
pub const WIFE: &str = "210502198207050028";
pub const STRANGER: &str = "210502198001011234";

/// The service's today.
pub const TODAY: Date = date!(2026 - 04 - 10);

pub type Client = DataSharingServiceClient<Channel>;

/// A started host and a client of the service.
pub struct Hosted {
    pub host: TestHost,
    pub client: Client,
}

fn module(clock: &FixedClock) -> Module {
    Module::default()
        .with_pseudonym_key(SecretString::from(PSEUDONYM_KEY))
        .with_clock(Arc::new(clock.clone()))
}

async fn start(builder: TestHostBuilder, clock: FixedClock) -> Hosted {
    let host = builder.service(module(&clock)).start().await;
    let client = DataSharingServiceClient::new(host.channel("datasharing").await)
        .max_decoding_message_size(16 << 20);
    Hosted { host, client }
}

/// The service alone, embedded (SQLite).
pub async fn embedded() -> Hosted {
    start(TestHost::embedded(), FixedClock::new(TODAY)).await
}

/// The service alone, distributed (PostgreSQL, NATS).
pub async fn distributed() -> Hosted {
    start(TestHost::distributed(), FixedClock::new(TODAY)).await
}

pub fn caseworker(township: &str) -> String {
    token(&[Role::Caseworker], &[township])
}

pub fn approver(county: &str) -> String {
    token(&[Role::Approver], &[county])
}

pub fn auditor(county: &str) -> String {
    token(&[Role::Auditor], &[county])
}

pub fn agency(code: &str) -> String {
    agency_token(code)
}

pub fn metadata() -> Option<common::CommandMetadata> {
    Some(common::CommandMetadata {
        idempotency_key: uuid::Uuid::now_v7().to_string(),
        correlation_id: String::new(),
    })
}

pub fn citizen(id: &str) -> Option<common::CitizenRef> {
    Some(common::CitizenRef {
        citizen_id: id.to_owned(),
    })
}

pub fn region(code: &str) -> Option<common::RegionCode> {
    Some(common::RegionCode {
        code: code.to_owned(),
    })
}

/// A record of `kind` for `who`, as of `as_of`, of `fen`.
pub fn record(
    line: u64,
    reference: &str,
    kind: RecordKind,
    who: &str,
    as_of: Date,
    fen: i64,
) -> pb::LoadedRecord {
    pb::LoadedRecord {
        line,
        record: Some(pb::AgencyRecord {
            reference: reference.to_owned(),
            kind: kind_to_pb(kind),
            citizen: citizen(who),
            as_of: Some(as_of.into()),
            amount: Some(common::Money { fen }),
            ..pb::AgencyRecord::default()
        }),
    }
}

/// Loads `records` as `agency` (its code), in messages of `per_message`.
pub async fn load_as(
    client: &mut Client,
    agency_code: &str,
    agency: pb::Agency,
    records: Vec<pb::LoadedRecord>,
    per_message: usize,
) -> Result<pb::LoadAgencyRecordsResponse, tonic::Status> {
    let mut messages: Vec<pb::LoadAgencyRecordsRequest> = records
        .chunks(per_message.max(1))
        .map(|chunk| pb::LoadAgencyRecordsRequest {
            records: chunk.to_vec(),
            ..pb::LoadAgencyRecordsRequest::default()
        })
        .collect();
    if messages.is_empty() {
        messages.push(pb::LoadAgencyRecordsRequest::default());
    }
    messages[0].agency = agency.into();
    messages[0].extract = "test-extract".into();
    messages[0].metadata = metadata();
    let request = with_token(futures::stream::iter(messages), &self::agency(agency_code));
    client
        .load_agency_records(request)
        .await
        .map(tonic::Response::into_inner)
}

/// Loads `records` of `kind`'s agency, as that agency.
pub async fn load(
    client: &mut Client,
    kind: RecordKind,
    records: Vec<pb::LoadedRecord>,
) -> pb::LoadAgencyRecordsResponse {
    let agency = kind.agency();
    let pb_agency =
        pb::Agency::try_from(minzheng_datasharing::codec::records::agency_to_pb(agency))
            .expect("a known agency");
    load_as(client, agency.code(), pb_agency, records, 2)
        .await
        .expect("the load is taken")
}

/// `who` signs an authorization for every class a verification reads, from `signed_on` to
/// `expires_on`; its id.
pub async fn authorize(
    client: &mut Client,
    who: &str,
    signed_on: Date,
    expires_on: Date,
) -> String {
    client
        .record_authorization(with_token(
            pb::RecordAuthorizationRequest {
                metadata: metadata(),
                signed_by: citizen(who),
                signed_on: Some(signed_on.into()),
                data_classes: (1..=9).collect(),
                agencies: vec![],
                purpose: "低保申请家庭经济状况核对".into(),
                expires_on: Some(expires_on.into()),
                township: region(PINGSHAN_STREET),
            },
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect("recorded")
        .into_inner()
        .authorization_id
}

/// A verification of `members` in 平山街道 (urban), as `token`.
pub fn verify_request(
    members: &[&str],
    as_known_on: Option<prost_types::Timestamp>,
) -> pb::VerifyHouseholdRequest {
    pb::VerifyHouseholdRequest {
        members: members.iter().map(|m| citizen(m).expect("set")).collect(),
        township: region(PINGSHAN_STREET),
        area: minzheng_proto::assistance::v1::ResidenceArea::Urban.into(),
        verify_on: None,
        as_known_on,
    }
}
