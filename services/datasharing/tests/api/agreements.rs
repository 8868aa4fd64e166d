//! Data-sharing agreements (数据共享协议): recorded for the platform's real events and fields
//! only (never the read audit), ended, listed.

use minzheng_host::testing::{token, with_token};
use minzheng_kit::auth::Role;
use minzheng_proto::datasharing::v1 as pb;
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::support::{self, metadata};

const PROVINCE: &str = "210000000000";

fn operator() -> String {
    token(&[Role::Operator], &[PROVINCE])
}

fn granted(fields: &[&str]) -> pb::SharedEventType {
    pb::SharedEventType {
        event_type: "minzheng.assistance.v1.AssistanceGranted".into(),
        fields: fields.iter().map(|f| (*f).to_owned()).collect(),
    }
}

fn request(events: Vec<pb::SharedEventType>) -> pb::RecordAgreementRequest {
    pb::RecordAgreementRequest {
        metadata: metadata(),
        agency: "province_civil_affairs".into(),
        events,
        purpose: "省级社会救助统计".into(),
        expires_on: Some(time::macros::date!(2026 - 12 - 31).into()),
        real_id_granted: false,
    }
}

#[tokio::test]
async fn an_agreement_names_only_real_events_and_fields_and_ends_once() {
    let hosted = support::embedded().await;
    let mut client = hosted.client.clone();
    let refused = client
        .record_agreement(with_token(
            request(vec![
                granted(&["members", "salary"]),
                pb::SharedEventType {
                    event_type: "minzheng.assistance.v1.Nothing".into(),
                    fields: vec!["x".into()],
                },
                // A real message, but the read audit: sharing it would be audited in turn.
                pb::SharedEventType {
                    event_type: "minzheng.audit.v1.PersonalDataAccessed".into(),
                    fields: vec!["records".into()],
                },
            ]),
            &operator(),
        ))
        .await
        .expect_err("an unknown field and event, and the read audit");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields: Vec<String> = refused
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default();
    assert_eq!(
        fields,
        [
            "events[0].fields[1]",
            "events[1].event_type",
            "events[2].event_type"
        ]
    );

    let recorded = client
        .record_agreement(with_token(
            request(vec![granted(&["members", "effective_from"])]),
            &operator(),
        ))
        .await
        .expect("recorded")
        .into_inner();
    assert!(recorded.agreement_id.starts_with("AG-"));
    let listed = client
        .list_agreements(with_token(
            pb::ListAgreementsRequest {
                agency: "province_civil_affairs".into(),
            },
            &token(&[Role::Auditor], &[PROVINCE]),
        ))
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(listed.agreements.len(), 1);
    assert!(listed.agreements[0].in_force);

    let end = || {
        with_token(
            pb::EndAgreementRequest {
                metadata: metadata(),
                agreement_id: recorded.agreement_id.clone(),
                reason: "协议到期前终止".into(),
            },
            &operator(),
        )
    };
    client.end_agreement(end()).await.expect("ended");
    let again = client
        .end_agreement(end())
        .await
        .expect_err("ended already");
    assert_eq!(again.code(), Code::FailedPrecondition);
    let listed = client
        .list_agreements(with_token(
            pb::ListAgreementsRequest::default(),
            &operator(),
        ))
        .await
        .expect("listed")
        .into_inner();
    assert!(!listed.agreements[0].in_force, "ended today");
    hosted.host.shutdown().await;
}
