//! Malformed requests, one row per RPC: INVALID_ARGUMENT naming each bad field (the value never
//! echoed), and nothing recorded.

use minzheng_host::testing::with_token;
use minzheng_proto::{common::v1 as common, datasharing::v1 as pb};
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::support::{
    self, Client, HUSBAND, PINGSHAN, PINGSHAN_STREET, approver, caseworker, citizen, region,
};

/// A citizen id whose check character is wrong.
const BAD_NUMBER: &str = "210502195803120026";

fn fields(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(!status.message().contains(BAD_NUMBER), "echoed: {status:?}");
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

#[track_caller]
fn assert_names(status: &tonic::Status, expected: &[&str]) {
    let named = fields(status);
    for field in expected {
        assert!(named.iter().any(|f| f == field), "{field} not in {named:?}");
    }
}

async fn every_rpc(client: &mut Client) {
    // RecordAuthorization: no key, a bad signer, no date, no class, an unknown agency, a
    // purpose with an id number, a county where a township belongs.
    let status = client
        .record_authorization(with_token(
            pb::RecordAuthorizationRequest {
                metadata: None,
                signed_by: citizen(BAD_NUMBER),
                signed_on: None,
                data_classes: vec![],
                agencies: vec![99],
                purpose: format!("核对 {HUSBAND}"),
                expires_on: Some(common::Date {
                    year: 2026,
                    month: 2,
                    day: 30,
                }),
                township: region(PINGSHAN),
            },
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect_err("malformed");
    assert_names(
        &status,
        &[
            "metadata.idempotency_key",
            "signed_by.citizen_id",
            "signed_on",
            "expires_on",
            "data_classes",
            "agencies[0]",
            "purpose",
            "township.code",
        ],
    );

    let status = client
        .withdraw_authorization(with_token(
            pb::WithdrawAuthorizationRequest {
                metadata: support::metadata(),
                authorization_id: "AU 1".into(),
                withdrawn_on: None,
                reason: String::new(),
            },
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect_err("malformed");
    assert_names(&status, &["authorization_id", "reason"]);

    let status = client
        .list_authorizations(with_token(
            pb::ListAuthorizationsRequest {
                citizen: citizen(BAD_NUMBER),
                read: None,
            },
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect_err("malformed");
    assert_names(&status, &["citizen.citizen_id"]);

    let status = client
        .record_thresholds(with_token(
            pb::RecordThresholdsRequest {
                metadata: support::metadata(),
                county: region(PINGSHAN_STREET),
                effective_from: None,
                decided_by: String::new(),
                max_properties: 101,
                vehicle_value_limit: Some(common::Money { fen: -1 }),
                financial_assets_limit_months: 0,
                business_capital_limit: None,
                max_source_age_days: 0,
            },
            &approver(PINGSHAN),
        ))
        .await
        .expect_err("malformed");
    assert_names(
        &status,
        &[
            "county.code",
            "effective_from",
            "decided_by",
            "max_properties",
            "vehicle_value_limit.fen",
            "financial_assets_limit_months",
            "max_source_age_days",
        ],
    );

    let status = client
        .list_thresholds(pb::ListThresholdsRequest {
            county: region("2105"),
        })
        .await
        .expect_err("malformed");
    assert_names(&status, &["county.code"]);

    let status = client
        .verify_household(with_token(
            pb::VerifyHouseholdRequest {
                members: vec![
                    citizen(HUSBAND).expect("set"),
                    citizen(HUSBAND).expect("set"),
                    citizen(BAD_NUMBER).expect("set"),
                ],
                township: region(PINGSHAN),
                area: 0,
                verify_on: None,
                as_known_on: Some(prost_types::Timestamp {
                    seconds: i64::MAX,
                    nanos: 0,
                }),
            },
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect_err("malformed");
    assert_names(
        &status,
        &[
            "members[1]",
            "members[2].citizen_id",
            "township.code",
            "area",
            "as_known_on",
        ],
    );

    let status = client
        .audit_trail(with_token(
            pb::AuditTrailRequest {
                citizen: citizen(BAD_NUMBER),
                limit: 5_000,
            },
            &support::auditor(PINGSHAN),
        ))
        .await
        .expect_err("malformed");
    assert_names(&status, &["citizen.citizen_id", "limit"]);

    let status = client
        .record_agreement(with_token(
            pb::RecordAgreementRequest {
                metadata: support::metadata(),
                agency: "Province".into(),
                events: vec![],
                purpose: String::new(),
                expires_on: None,
                real_id_granted: false,
            },
            &minzheng_host::testing::token(&[minzheng_kit::auth::Role::Operator], &[PINGSHAN]),
        ))
        .await
        .expect_err("malformed");
    assert_names(&status, &["agency", "events", "purpose", "expires_on"]);

    let status = support::load_as(
        client,
        "human_resources",
        pb::Agency::Unspecified,
        vec![],
        1,
    )
    .await
    .expect_err("malformed");
    assert_names(&status, &["agency"]);
}

#[tokio::test]
async fn every_rpc_names_each_malformed_field_and_records_nothing() {
    let hosted = support::embedded().await;
    let mut client = hosted.client.clone();
    every_rpc(&mut client).await;
    let listed = client
        .list_authorizations(with_token(
            pb::ListAuthorizationsRequest {
                citizen: citizen(HUSBAND),
                read: None,
            },
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect("listed")
        .into_inner();
    assert!(listed.authorizations.is_empty(), "{listed:?}");
    let thresholds = client
        .list_thresholds(pb::ListThresholdsRequest {
            county: region(PINGSHAN),
        })
        .await
        .expect("listed")
        .into_inner();
    assert!(thresholds.versions.is_empty(), "{thresholds:?}");
    hosted.host.shutdown().await;
}
