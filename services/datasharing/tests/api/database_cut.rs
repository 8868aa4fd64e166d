//! With its database cut, every RPC of the data-sharing service answers UNAVAILABLE (retry
//! later), promptly, and the service writes again once the database is back.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use minzheng_datasharing::{Module, grpc::DataSharingApi, records::RecordKind};
use minzheng_host::testing::{self, DatabaseCut, TestHost};
use minzheng_kit::clock::FixedClock;
use minzheng_proto::{common::v1 as common, datasharing::v1 as pb};
use prost::Message as _;
use secrecy::SecretString;
use time::macros::date;

use crate::support::{
    HUSBAND, PINGSHAN, PINGSHAN_STREET, PSEUDONYM_KEY, TODAY, citizen, metadata, record, region,
    verify_request,
};

/// Small, so the test is quick; the bound on the answers is a few of these.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

fn load(reference: &str) -> pb::LoadAgencyRecordsRequest {
    pb::LoadAgencyRecordsRequest {
        agency: pb::Agency::HumanResources.into(),
        extract: "cut".into(),
        records: vec![record(
            1,
            reference,
            RecordKind::Wages,
            HUSBAND,
            date!(2026 - 03 - 31),
            100_000,
        )],
        metadata: metadata(),
    }
}

/// A well-formed request of each RPC.
fn valid_request(method: &str) -> Option<Bytes> {
    let encoded = match method {
        "LoadAgencyRecords" => load("W-1").encode_to_vec(),
        "RecordAuthorization" => pb::RecordAuthorizationRequest {
            metadata: metadata(),
            signed_by: citizen(HUSBAND),
            signed_on: Some(TODAY.into()),
            data_classes: (1..=9).collect(),
            agencies: vec![],
            purpose: "低保申请家庭经济状况核对".into(),
            expires_on: Some(date!(2026 - 12 - 31).into()),
            township: region(PINGSHAN_STREET),
        }
        .encode_to_vec(),
        "WithdrawAuthorization" => pb::WithdrawAuthorizationRequest {
            metadata: metadata(),
            authorization_id: "AU-unknown".into(),
            withdrawn_on: None,
            reason: "本人撤回".into(),
        }
        .encode_to_vec(),
        "ListAuthorizations" => pb::ListAuthorizationsRequest {
            citizen: citizen(HUSBAND),
            read: None,
        }
        .encode_to_vec(),
        "RecordThresholds" => pb::RecordThresholdsRequest {
            metadata: metadata(),
            county: region(PINGSHAN),
            effective_from: Some(TODAY.into()),
            decided_by: "本民发〔2026〕3号".into(),
            max_properties: 1,
            vehicle_value_limit: Some(common::Money { fen: 10_000_000 }),
            financial_assets_limit_months: 24,
            business_capital_limit: None,
            max_source_age_days: 90,
        }
        .encode_to_vec(),
        "ListThresholds" => pb::ListThresholdsRequest {
            county: region(PINGSHAN),
        }
        .encode_to_vec(),
        "VerifyHousehold" => verify_request(&[HUSBAND], None).encode_to_vec(),
        "RecordAgreement" => pb::RecordAgreementRequest {
            metadata: metadata(),
            agency: "province_civil_affairs".into(),
            events: vec![pb::SharedEventType {
                event_type: "minzheng.assistance.v1.AssistanceGranted".into(),
                fields: vec!["members".into()],
            }],
            purpose: "省级社会救助统计".into(),
            expires_on: Some(date!(2026 - 12 - 31).into()),
            real_id_granted: false,
        }
        .encode_to_vec(),
        "EndAgreement" => pb::EndAgreementRequest {
            metadata: metadata(),
            agreement_id: "AG-unknown".into(),
            reason: "终止".into(),
        }
        .encode_to_vec(),
        "ListAgreements" => pb::ListAgreementsRequest::default().encode_to_vec(),
        "Subscribe" => pb::SubscribeRequest { after: 0 }.encode_to_vec(),
        "AuditTrail" => pb::AuditTrailRequest {
            citizen: citizen(HUSBAND),
            limit: 10,
        }
        .encode_to_vec(),
        _ => return None,
    };
    Some(encoded.into())
}

#[tokio::test]
async fn every_rpc_is_unavailable_while_the_database_is_cut_and_recovers() {
    let clock = FixedClock::new(TODAY);
    let host = TestHost::distributed()
        .through_proxy()
        .database_acquire_timeout(ACQUIRE_TIMEOUT)
        .service(
            Module::default()
                .with_pseudonym_key(SecretString::from(PSEUDONYM_KEY))
                .with_clock(Arc::new(clock)),
        )
        .start()
        .await;
    host.settle().await;
    let answers = testing::assert_every_rpc_unavailable_while_database_cut(
        &host,
        DatabaseCut {
            service: "datasharing",
            policy: &DataSharingApi::access(),
            request: &valid_request,
            answered_from_memory: &[],
            recovery: ("LoadAgencyRecords", load("W-2").encode_to_vec().into()),
        },
    )
    .await;
    let slowest = answers.iter().map(|a| a.took).max().unwrap_or_default();
    println!("datasharing: slowest answer with the database cut {slowest:?}: {answers:?}");
    host.shutdown().await;
}
