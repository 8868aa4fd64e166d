//! Deaths and funerals: a death widows the surviving spouse; the basic funeral fee is waived for
//! a household in assistance, known from the assistance service's events.

use std::time::Duration;

use minzheng_host::testing::{TestHost, with_token};
use minzheng_kit::clock::FixedClock;
use minzheng_proto::{assistance::v1 as assistance, civilregistry::v1 as pb, common::v1 as common};
use prost::Message as _;
use time::macros::date;

use crate::support::{
    self, AssistanceStandIn, FIRST_DAY, HUSBAND, PINGSHAN, WIFE, citizen, civil_registry, day,
    funeral, husband_dies, marry, place_names, region, staff,
};

/// Married the day before the death, widowed from the day after it, with the marriage, the
/// death and the certificate named.
#[tokio::test]
async fn a_death_widows_the_surviving_spouse_from_the_next_day() {
    let (host, mut client, clock) = support::embedded().await;
    let married = marry(&mut client, &clock).await.marriage;
    let death = husband_dies(&mut client, &clock).await;

    let status = |as_of| pb::GetMaritalStatusRequest {
        citizen: citizen(WIFE),
        as_of: day(as_of),
        read: death.result.map(|r| common::ReadOptions {
            min_position: r.position,
        }),
    };
    let before = client
        .get_marital_status(with_token(status(date!(2026 - 01 - 03)), &staff()))
        .await
        .expect("status")
        .into_inner();
    assert_eq!(before.status(), pb::MaritalStatus::Married);
    let after = client
        .get_marital_status(with_token(status(date!(2026 - 01 - 05)), &staff()))
        .await
        .expect("status")
        .into_inner();
    assert_eq!(after.status(), pb::MaritalStatus::Widowed);
    assert_eq!(after.since, day(date!(2026 - 01 - 04)));
    assert_eq!(after.marriage_id, married.marriage_id);
    assert_eq!(after.record_id, death.death_id);
    assert_eq!(after.certificate_number, married.certificate_number);
    host.shutdown().await;
}

#[tokio::test]
async fn a_household_in_assistance_has_the_basic_funeral_fee_waived() {
    let granted = assistance::AssistanceGranted {
        case_id: "210502-DB-2025-000123".into(),
        category: assistance::AssistanceCategory::Dibao.into(),
        county: region(PINGSHAN),
        members: vec![
            common::CitizenRef {
                citizen_id: HUSBAND.into(),
            },
            common::CitizenRef {
                citizen_id: WIFE.into(),
            },
        ],
        effective_from: day(date!(2025 - 01 - 01)),
        single_person: false,
    };
    let clock = FixedClock::new(FIRST_DAY);
    let (host, mut client) = support::start(
        TestHost::embedded()
            .service(place_names())
            .service(AssistanceStandIn {
                events: vec![(
                    "minzheng.assistance.v1.AssistanceGranted",
                    granted.encode_to_vec(),
                )],
            })
            .service(civil_registry(&clock)),
    )
    .await;
    // The grant has reached the civil registry once its consumer has stored it.
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        host.data_dir().join("civilregistry.db").display()
    ))
    .await
    .expect("the service's database");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM cr_assistance_events")
        .fetch_one(&db)
        .await
        .expect("table exists")
        == 0
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the grant never arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    marry(&mut client, &clock).await;
    let death = husband_dies(&mut client, &clock).await;
    let funeral = funeral(&mut client, death.death_id, pb::BurialType::Sea).await;
    let waiver = funeral
        .waiver
        .expect("a 低保 household's basic fee is waived");
    assert_eq!(waiver.category(), assistance::AssistanceCategory::Dibao);
    assert_eq!(waiver.case_id, "210502-DB-2025-000123");
    assert_eq!(waiver.waived.map(|m| m.fen), Some(180_000));
    assert_eq!(funeral.payable.map(|m| m.fen), Some(0));
    db.close().await;
    host.shutdown().await;
}

/// Not in an assistance household (the assistance events are not even followed here): the
/// family pays the basic fee.
#[tokio::test]
async fn a_household_not_in_assistance_pays_the_basic_funeral_fee() {
    let (host, mut client, clock) = support::embedded().await;
    marry(&mut client, &clock).await;
    let death = husband_dies(&mut client, &clock).await;
    let funeral = funeral(&mut client, death.death_id, pb::BurialType::Tree).await;
    assert!(funeral.waiver.is_none());
    assert_eq!(funeral.payable.map(|m| m.fen), Some(180_000));
    host.shutdown().await;
}
