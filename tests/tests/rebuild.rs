//! `minzheng datasharing rebuild`: the data-sharing projections of the other services' events,
//! replayed from zero over PostgreSQL and NATS, end equal to the live state they replaced.

use std::sync::Arc;

use minzheng_host::testing::{TestHost, token, with_token};
use minzheng_kit::{auth::Role, clock::FixedClock};
use minzheng_proto::{
    civilregistry::v1::{self as cr, civil_registry_service_client::CivilRegistryServiceClient},
    common::v1 as common,
    datasharing::v1::{self as ds, data_sharing_service_client::DataSharingServiceClient},
};
use secrecy::SecretString;
use time::{Date, macros::date};

const KEY: &str = "rebuild-test-pseudonym-key-32-bytes-long!!";
const PINGSHAN: &str = "210502000000";
const NANDI: &str = "210502001000";
const PEOPLE: [&str; 3] = [
    "210502198001011234",
    "210502198207050028",
    "210502195803120025",
];
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

/// Every row of the rebuilt tables, as PostgreSQL prints them, in order.
async fn snapshot(url: &str) -> Vec<String> {
    let pool = sqlx::PgPool::connect(url).await.expect("the database");
    let mut rows = Vec::new();
    for table in minzheng_datasharing::app::rebuild::TABLES {
        let mut these: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT '{table}: ' || t::text FROM {table} t ORDER BY 1"
        )))
        .fetch_all(&pool)
        .await
        .expect("read");
        rows.append(&mut these);
    }
    pool.close().await;
    rows
}

#[tokio::test]
async fn a_rebuild_from_zero_ends_equal_to_the_live_projections() {
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

    // Deaths in the civil registry; a verification refused and a listing of authorizations,
    // both in the read audit.
    let mut registry = CivilRegistryServiceClient::new(host.channel("civilregistry").await);
    for (n, who) in PEOPLE.iter().enumerate().take(2) {
        registry
            .record_death(with_token(
                cr::RecordDeathRequest {
                    metadata: metadata(),
                    citizen: citizen(who),
                    name: "某某".into(),
                    died_on: Some(date!(2026 - 04 - 01).into()),
                    county: Some(common::RegionCode {
                        code: PINGSHAN.into(),
                    }),
                    source: cr::DeathSource::Hospital.into(),
                    source_reference: format!("BX-{n}"),
                },
                &token(&[Role::Agency], &[PINGSHAN]),
            ))
            .await
            .expect("death notified");
    }
    let mut sharing = DataSharingServiceClient::new(host.channel("datasharing").await);
    let _ = sharing
        .verify_household(with_token(
            ds::VerifyHouseholdRequest {
                members: vec![citizen(PEOPLE[2]).expect("set")],
                township: Some(common::RegionCode { code: NANDI.into() }),
                area: minzheng_proto::assistance::v1::ResidenceArea::Urban.into(),
                verify_on: None,
                as_known_on: None,
            },
            &token(&[Role::Caseworker], &[NANDI]),
        ))
        .await;
    sharing
        .list_authorizations(with_token(
            ds::ListAuthorizationsRequest {
                citizen: citizen(PEOPLE[2]),
                read: None,
            },
            &token(&[Role::Auditor], &[PINGSHAN]),
        ))
        .await
        .expect("listed");
    host.settle().await;
    let url = host.database_url("datasharing").to_owned();
    let live = snapshot(&url).await;
    assert!(
        live.iter().filter(|r| r.starts_with("ds_persons")).count() >= 2,
        "{live:?}"
    );
    assert!(live.iter().any(|r| r.starts_with("ds_audit")), "{live:?}");

    let (client, prefix) = (host.nats().clone(), host.bus_prefix().to_owned());
    let stopped = host.stop().await;
    let db = minzheng_bus::connect_any(&url, std::time::Duration::from_secs(5))
        .await
        .expect("the database");
    minzheng_datasharing::app::rebuild::reset(&db, Some((&client, &prefix)))
        .await
        .expect("reset");
    assert!(snapshot(&url).await.is_empty(), "the projections are empty");
    let host = stopped.start().await;
    host.settle().await;
    assert_eq!(snapshot(&url).await, live);
    host.shutdown().await;
}
