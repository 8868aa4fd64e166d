//! Proactive discovery (主动发现) across services, over PostgreSQL and NATS: public security's
//! household registration is loaded into the data-sharing service, the civil registry records
//! the deaths of both parents of a minor, and the data-sharing service raises one child-welfare
//! alert on the bus naming both death records — seen by a plain NATS subscriber.

use std::{sync::Arc, time::Duration};

use futures::StreamExt as _;
use minzheng_host::testing::{TestHost, agency_token, token, with_token};
use minzheng_kit::{auth::Role, clock::FixedClock};
use minzheng_proto::{
    civilregistry::v1::{self as cr, civil_registry_service_client::CivilRegistryServiceClient},
    common::v1 as common,
    datasharing::v1::{self as ds, data_sharing_service_client::DataSharingServiceClient},
    placenames::v1::{self as pn, place_names_service_client::PlaceNamesServiceClient},
};
use prost::Message as _;
use secrecy::SecretString;
use time::{Date, macros::date};

const KEY: &str = "discovery-test-pseudonym-key-32-bytes-long!";
const PINGSHAN: &str = "210502000000";
const NANDI: &str = "210502001000";
/// A family registered in one household of 南地街道: the father (户主), the mother (配偶), their
/// son born 2012 (a minor) and their daughter born 2000 (an adult).
const FATHER: &str = "210502198001011234";
const MOTHER: &str = "210502198207050028";
const SON: &str = "210502201203150026";
const DAUGHTER: &str = "210502200001010020";
const TODAY: Date = date!(2026 - 04 - 10);

fn citizen(number: &str) -> Option<common::CitizenRef> {
    Some(common::CitizenRef {
        citizen_id: number.to_owned(),
    })
}

fn metadata() -> Option<common::CommandMetadata> {
    Some(common::CommandMetadata {
        idempotency_key: uuid::Uuid::now_v7().to_string(),
        correlation_id: String::new(),
    })
}

fn registration(line: u64, who: &str, relation: &str) -> ds::LoadedRecord {
    ds::LoadedRecord {
        line,
        record: Some(ds::AgencyRecord {
            reference: format!("HJ-0042-{line}"),
            kind: ds::RecordKind::HouseholdRegistration.into(),
            citizen: citizen(who),
            as_of: Some(date!(2026 - 01 - 01).into()),
            amount: Some(common::Money { fen: 0 }),
            division: Some(common::RegionCode {
                code: NANDI.to_owned(),
            }),
            household_number: "H0042".into(),
            relation_to_head: relation.into(),
            ..Default::default()
        }),
    }
}

async fn record_death(
    registry: &mut CivilRegistryServiceClient<tonic::transport::Channel>,
    who: &str,
    died_on: Date,
) -> String {
    registry
        .record_death(with_token(
            cr::RecordDeathRequest {
                metadata: metadata(),
                citizen: citizen(who),
                name: "某某".into(),
                died_on: Some(died_on.into()),
                county: Some(common::RegionCode {
                    code: PINGSHAN.to_owned(),
                }),
                source: cr::DeathSource::Hospital.into(),
                source_reference: format!("BX-{who}"),
            },
            &token(&[Role::Agency], &[PINGSHAN]),
        ))
        .await
        .expect("death notified")
        .into_inner()
        .death_id
}

/// Place names (with Benxi), the civil registry and data sharing, distributed, on `TODAY`.
async fn start() -> TestHost {
    let clock = FixedClock::new(TODAY);
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
    host
}

/// The data-sharing service's alerts, as they are published.
async fn subscribe_to_alerts(host: &TestHost) -> async_nats::Subscriber {
    let alerts = host
        .nats()
        .subscribe(format!("{}.datasharing.alert.>", host.bus_prefix()))
        .await
        .expect("subscribed");
    host.nats().flush().await.expect("flushed");
    alerts
}

/// The public security's registration of the family in 南地街道.
async fn load_the_family(host: &TestHost) {
    let mut sharing = DataSharingServiceClient::new(host.channel("datasharing").await);
    let loaded = sharing
        .load_agency_records(with_token(
            futures::stream::iter([ds::LoadAgencyRecordsRequest {
                agency: ds::Agency::PublicSecurity.into(),
                extract: "户籍 2026-01".into(),
                metadata: metadata(),
                records: vec![
                    registration(2, FATHER, "户主"),
                    registration(3, MOTHER, "配偶"),
                    registration(4, SON, "子"),
                    registration(5, DAUGHTER, "女"),
                ],
            }]),
            &agency_token("public_security"),
        ))
        .await
        .expect("loaded")
        .into_inner();
    assert_eq!(loaded.load.map(|l| l.recorded), Some(4));
}

#[tokio::test]
async fn the_deaths_of_both_parents_raise_one_child_welfare_alert_naming_both_records() {
    let host = start().await;
    let prefix = host.bus_prefix().to_owned();
    let mut alerts = subscribe_to_alerts(&host).await;
    load_the_family(&host).await;

    let mut registry = CivilRegistryServiceClient::new(host.channel("civilregistry").await);
    let father = record_death(&mut registry, FATHER, date!(2026 - 04 - 01)).await;
    host.settle().await;
    let mother = record_death(&mut registry, MOTHER, date!(2026 - 04 - 08)).await;
    host.settle().await;

    let message = tokio::time::timeout(Duration::from_secs(30), alerts.next())
        .await
        .expect("an alert on the bus")
        .expect("subscription open");
    assert_eq!(
        message.subject.as_str(),
        format!("{prefix}.datasharing.alert.guardians_deceased")
    );
    for number in [FATHER, MOTHER, SON, DAUGHTER] {
        assert!(!message.subject.contains(number));
    }
    let alert = ds::GuardiansDeceased::decode(message.payload.as_ref()).expect("an alert");
    assert_eq!(
        alert.child,
        citizen(SON),
        "the minor, not the adult daughter"
    );
    let mut deaths: Vec<String> = alert.deaths.iter().map(|d| d.death_id.clone()).collect();
    deaths.sort();
    let mut expected = vec![father, mother];
    expected.sort();
    assert_eq!(deaths, expected, "both death records are named");
    assert_eq!(alert.household_source(), ds::HouseholdSource::Registration);
    assert!(
        tokio::time::timeout(Duration::from_millis(500), alerts.next())
            .await
            .is_err(),
        "one alert, not one per death"
    );
    assert_eq!(
        alert.division.map(|d| d.code),
        Some(NANDI.to_owned()),
        "the registered division"
    );
    host.shutdown().await;
}

/// The code 南地街道 is given by a recode.
const NANDI_RECODED: &str = "210502099000";

#[tokio::test]
async fn a_household_follows_its_division_through_an_adjustment() {
    let host = start().await;
    let mut alerts = subscribe_to_alerts(&host).await;
    load_the_family(&host).await;

    // 南地街道 is recoded (the family's registration still names the old code).
    let mut placenames = PlaceNamesServiceClient::new(host.channel("placenames").await);
    let caseworker = token(&[Role::Caseworker], &[PINGSHAN]);
    let approver = token(&[Role::Approver], &[PINGSHAN]);
    let id = "BX-2026-recode".to_owned();
    let nandi = |code: &str| pn::DivisionRef {
        code: Some(common::RegionCode {
            code: code.to_owned(),
        }),
        name: "南地街道".into(),
    };
    placenames
        .propose_adjustment(with_token(
            pn::ProposeAdjustmentRequest {
                metadata: metadata(),
                adjustment_id: id.clone(),
                kind: pn::AdjustmentKind::Recode.into(),
                before: vec![nandi(NANDI)],
                after: vec![nandi(NANDI_RECODED)],
                justification: "调整代码".into(),
                proposed_on: Some(date!(2026 - 01 - 10).into()),
                ..Default::default()
            },
            &caseworker,
        ))
        .await
        .expect("proposed");
    for review in [
        pn::ReviewKind::Expert,
        pn::ReviewKind::Risk,
        pn::ReviewKind::PublicOpinion,
    ] {
        placenames
            .record_adjustment_review(with_token(
                pn::RecordAdjustmentReviewRequest {
                    metadata: metadata(),
                    adjustment_id: id.clone(),
                    review: review.into(),
                    favourable: true,
                    summary: "同意".into(),
                    recorded_on: Some(date!(2026 - 02 - 01).into()),
                },
                &caseworker,
            ))
            .await
            .expect("reviewed");
    }
    placenames
        .approve_adjustment(with_token(
            pn::ApproveAdjustmentRequest {
                metadata: metadata(),
                adjustment_id: id.clone(),
                approved_on: Some(date!(2026 - 03 - 01).into()),
                approval_reference: "辽政〔2026〕1号".into(),
            },
            &approver,
        ))
        .await
        .expect("approved");
    placenames
        .put_adjustment_into_effect(with_token(
            pn::PutAdjustmentIntoEffectRequest {
                metadata: metadata(),
                adjustment_id: id.clone(),
                effective_on: Some(date!(2026 - 03 - 15).into()),
            },
            &approver,
        ))
        .await
        .expect("in effect");
    host.settle().await;

    let mut registry = CivilRegistryServiceClient::new(host.channel("civilregistry").await);
    record_death(&mut registry, FATHER, date!(2026 - 04 - 01)).await;
    host.settle().await;
    record_death(&mut registry, MOTHER, date!(2026 - 04 - 08)).await;
    host.settle().await;
    let message = tokio::time::timeout(Duration::from_secs(30), alerts.next())
        .await
        .expect("an alert on the bus")
        .expect("subscription open");
    let alert = ds::GuardiansDeceased::decode(message.payload.as_ref()).expect("an alert");
    assert_eq!(
        alert.division.map(|d| d.code),
        Some(NANDI_RECODED.to_owned()),
        "the household is where its division went"
    );
    host.shutdown().await;
}
