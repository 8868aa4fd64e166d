//! The household verification: refused without a valid authorization, computed from the loaded
//! records with their sources, reproducible "as known" at its time.

use minzheng_datasharing::records::RecordKind;
use minzheng_host::testing::with_token;
use minzheng_proto::datasharing::v1 as pb;
use prost::Message as _;
use time::macros::date;
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::support::{
    self, Client, HUSBAND, PINGSHAN, PINGSHAN_STREET, STRANGER, TODAY, WIFE, XIHU_STREET, auditor,
    authorize, caseworker, load, metadata, record, verify_request,
};

async fn verify(
    client: &mut Client,
    members: &[&str],
) -> Result<pb::VerificationReport, tonic::Status> {
    client
        .verify_household(with_token(
            verify_request(members, None),
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .map(|r| r.into_inner().report.expect("a report"))
}

async fn household_records(client: &mut Client) {
    load(
        client,
        RecordKind::Wages,
        vec![
            record(
                1,
                "W-1",
                RecordKind::Wages,
                HUSBAND,
                date!(2026 - 03 - 31),
                180_000,
            ),
            record(
                2,
                "P-1",
                RecordKind::Pension,
                WIFE,
                date!(2026 - 03 - 31),
                50_001,
            ),
        ],
    )
    .await;
    load(
        client,
        RecordKind::Vehicle,
        vec![record(
            1,
            "V-1",
            RecordKind::Vehicle,
            WIFE,
            date!(2026 - 01 - 15),
            12_000_000,
        )],
    )
    .await;
}

#[tokio::test]
async fn without_an_authorization_of_every_member_the_verification_is_refused_naming_them() {
    let hosted = support::embedded().await;
    let mut client = hosted.client.clone();
    authorize(
        &mut client,
        HUSBAND,
        date!(2026 - 04 - 01),
        date!(2026 - 09 - 30),
    )
    .await;
    let refused = verify(&mut client, &[HUSBAND, WIFE])
        .await
        .expect_err("the wife signed nothing");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let rule = refused.get_details_error_info().map(|info| info.reason);
    assert_eq!(rule.as_deref(), Some("authorization_missing"));
    assert!(
        refused.message().contains("members[1]"),
        "{}",
        refused.message()
    );
    assert!(!refused.message().contains(WIFE), "never the number");
    hosted.host.shutdown().await;
}

#[tokio::test]
async fn an_expired_or_withdrawn_authorization_opens_nothing() {
    let hosted = support::embedded().await;
    let mut client = hosted.client.clone();
    authorize(
        &mut client,
        STRANGER,
        date!(2025 - 01 - 01),
        date!(2026 - 04 - 09),
    )
    .await;
    let expired = verify(&mut client, &[STRANGER])
        .await
        .expect_err("expired yesterday");
    assert_eq!(expired.code(), Code::FailedPrecondition);

    let id = authorize(
        &mut client,
        HUSBAND,
        date!(2026 - 04 - 01),
        date!(2026 - 09 - 30),
    )
    .await;
    verify(&mut client, &[HUSBAND]).await.expect("authorized");
    client
        .withdraw_authorization(with_token(
            pb::WithdrawAuthorizationRequest {
                metadata: metadata(),
                authorization_id: id,
                withdrawn_on: None,
                reason: "本人撤回".into(),
            },
            &caseworker(XIHU_STREET),
        ))
        .await
        .expect("a citizen withdraws at any window");
    let withdrawn = verify(&mut client, &[HUSBAND])
        .await
        .expect_err("withdrawn today");
    assert_eq!(withdrawn.code(), Code::FailedPrecondition, "{withdrawn:?}");
    hosted.host.shutdown().await;
}

#[tokio::test]
async fn the_report_names_every_figure_with_its_source_and_flags_by_the_thresholds() {
    let hosted = support::embedded().await;
    let mut client = hosted.client.clone();
    for who in [HUSBAND, WIFE] {
        authorize(
            &mut client,
            who,
            date!(2026 - 04 - 01),
            date!(2026 - 09 - 30),
        )
        .await;
    }
    household_records(&mut client).await;
    client
        .record_thresholds(with_token(
            pb::RecordThresholdsRequest {
                metadata: metadata(),
                county: support::region(PINGSHAN),
                effective_from: Some(TODAY.into()),
                decided_by: "本民发〔2026〕3号".into(),
                max_properties: 1,
                vehicle_value_limit: Some(minzheng_proto::common::v1::Money { fen: 10_000_000 }),
                financial_assets_limit_months: 24,
                business_capital_limit: None,
                max_source_age_days: 90,
            },
            &support::approver(PINGSHAN),
        ))
        .await
        .expect("recorded");
    hosted.host.settle().await;

    let report = verify(&mut client, &[HUSBAND, WIFE])
        .await
        .expect("authorized");
    let total = report.total_monthly_income.as_ref().map(|m| m.fen);
    assert_eq!(total, Some(230_001));
    assert_eq!(
        report.per_capita_monthly_income.as_ref().map(|m| m.fen),
        Some(115_001)
    );
    let wages = &report.incomes[0];
    let source = wages.source.as_ref().expect("a source");
    assert_eq!((source.record_id.as_str(), source.age_days), ("W-1", 10));
    assert_eq!(source.agency, "人社");
    let flags: Vec<&str> = report.flags.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(flags[0], "VEHICLE_ABOVE_LIMIT", "{flags:?}");
    assert!(flags.contains(&"SOURCE_MISSING:banks"), "{flags:?}");
    assert!(
        !flags.iter().any(|f| f.ends_with(":human_resources")),
        "{flags:?}"
    );
    assert_eq!(report.thresholds.as_ref().map(|t| t.number), Some(1));
    let state = |agency: pb::Agency| {
        report
            .sources
            .iter()
            .find(|s| s.agency == i32::from(agency))
            .map(|s| s.state)
    };
    assert_eq!(
        state(pb::Agency::HumanResources),
        Some(pb::SourceState::Fresh.into())
    );
    assert_eq!(
        state(pb::Agency::Banks),
        Some(pb::SourceState::Missing.into())
    );
    hosted.host.shutdown().await;
}

/// A report asked again "as known" at its time is the same bytes, however many records arrived
/// since; asked now, it shows them.
#[tokio::test]
async fn as_known_on_reproduces_an_earlier_report_byte_for_byte() {
    for hosted in [support::embedded().await, support::distributed().await] {
        let mut client = hosted.client.clone();
        for who in [HUSBAND, WIFE] {
            authorize(
                &mut client,
                who,
                date!(2026 - 04 - 01),
                date!(2026 - 09 - 30),
            )
            .await;
        }
        household_records(&mut client).await;
        let first = verify(&mut client, &[HUSBAND, WIFE])
            .await
            .expect("authorized");

        // A raise, and a correction of the pension, arrive later.
        load(
            &mut client,
            RecordKind::Wages,
            vec![
                record(
                    1,
                    "W-1",
                    RecordKind::Wages,
                    HUSBAND,
                    date!(2026 - 04 - 05),
                    200_000,
                ),
                record(
                    2,
                    "P-1",
                    RecordKind::Pension,
                    WIFE,
                    date!(2026 - 03 - 31),
                    60_000,
                ),
            ],
        )
        .await;
        let now = verify(&mut client, &[HUSBAND, WIFE])
            .await
            .expect("authorized");
        assert_eq!(
            now.total_monthly_income.as_ref().map(|m| m.fen),
            Some(260_000)
        );

        let again = client
            .verify_household(with_token(
                pb::VerifyHouseholdRequest {
                    verify_on: first.verified_on,
                    ..verify_request(&[HUSBAND, WIFE], first.known_at)
                },
                &auditor(PINGSHAN),
            ))
            .await
            .expect("an auditor reproduces it")
            .into_inner()
            .report
            .expect("a report");
        assert_eq!(again.encode_to_vec(), first.encode_to_vec());
        hosted.host.shutdown().await;
    }
}
