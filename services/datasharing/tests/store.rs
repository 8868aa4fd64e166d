//! The record store and the knowledge clock on both backends (PostgreSQL through `COPY`, SQLite
//! through multi-row inserts): what a load keeps, what it recognises, and what was known when.

use std::time::Duration;

use minzheng_datasharing::{
    knowledge::{self, Knowledge},
    records::{self, Agency, AgencyRecord, RawRecord, RecordKind},
    store::{self, RecordStore},
    verification,
};
use minzheng_eventstore::{Upcasters, migrations::run_service};
use minzheng_testkit::{TestDatabase, TestSqlite};
use minzheng_types::{CitizenId, Fen};
use sqlx::PgPool;
use time::{Date, OffsetDateTime, macros::date};

const CITIZEN: &str = "210502195803120025";
const OTHER: &str = "210502198001011234";

/// A record store over a fresh database, with what keeps the database alive.
struct Backend {
    name: &'static str,
    store: RecordStore,
    _postgres: Option<TestDatabase>,
    _sqlite: Option<TestSqlite>,
}

/// A store over a fresh database of each backend.
async fn backends() -> Vec<Backend> {
    let postgres = TestDatabase::create().await;
    let sqlite = TestSqlite::create();
    vec![
        Backend {
            name: "postgres",
            store: open(&postgres.url, true).await,
            _postgres: Some(postgres),
            _sqlite: None,
        },
        Backend {
            name: "sqlite",
            store: open(&sqlite.url, false).await,
            _postgres: None,
            _sqlite: Some(sqlite),
        },
    ]
}

async fn open(url: &str, is_postgres: bool) -> RecordStore {
    minzheng_eventstore::connect(url, Upcasters::default())
        .await
        .expect("the store opens");
    let db = minzheng_bus::connect_any(url, Duration::from_secs(5))
        .await
        .expect("the database opens");
    // The service's own migrations, all of them, as the host runs them.
    let migrations =
        minzheng_host::ServiceModule::migrations(&minzheng_datasharing::Module::default());
    run_service(&db, &migrations).await.expect("migrations");
    let postgres = match is_postgres {
        true => Some(PgPool::connect(url).await.expect("pg pool")),
        false => None,
    };
    RecordStore::new(db, postgres)
}

fn record(reference: &str, kind: RecordKind, citizen: &str, as_of: Date, fen: i64) -> AgencyRecord {
    records::check_record(
        kind.agency(),
        &RawRecord {
            reference: reference.into(),
            kind: Some(kind),
            citizen: citizen.into(),
            as_of: Some(as_of),
            amount_fen: fen,
            ..RawRecord::default()
        },
    )
    .expect("a valid record")
}

fn citizen(id: &str) -> CitizenId {
    CitizenId::parse(id).expect("valid")
}

#[tokio::test]
async fn a_reloaded_batch_records_nothing_and_a_correction_is_new_knowledge() {
    for Backend {
        name: backend,
        store,
        ..
    } in backends().await
    {
        let now = OffsetDateTime::now_utc();
        let batch = vec![
            record(
                "W-1",
                RecordKind::Wages,
                CITIZEN,
                date!(2026 - 03 - 31),
                180_000,
            ),
            record(
                "P-1",
                RecordKind::Pension,
                OTHER,
                date!(2026 - 03 - 31),
                250_000,
            ),
        ];
        let first = store
            .store(Agency::HumanResources, "L1", &batch, now, true)
            .await
            .expect("stored");
        assert_eq!((first.recorded, first.already_known), (2, 0), "{backend}");
        let again = store
            .store(Agency::HumanResources, "L2", &batch, now, true)
            .await
            .expect("stored");
        assert_eq!((again.recorded, again.already_known), (0, 2), "{backend}");
        assert_eq!(again.knowledge, None, "{backend}: nothing new, no version");

        let corrected = vec![record(
            "W-1",
            RecordKind::Wages,
            CITIZEN,
            date!(2026 - 03 - 31),
            190_000,
        )];
        let second = store
            .store(Agency::HumanResources, "L3", &corrected, now, true)
            .await
            .expect("stored");
        let (v1, v2) = (
            first.knowledge.expect("a version"),
            second.knowledge.expect("a version"),
        );
        assert!(
            v2.version > v1.version && v2.at_micros > v1.at_micros,
            "{backend}"
        );

        // As known after the first load: the first figure; now: the correction supersedes it.
        let known_first = store
            .records_of(&[citizen(CITIZEN)], v1)
            .await
            .expect("read");
        let current_now = store
            .records_of(&[citizen(CITIZEN)], v2)
            .await
            .expect("read");
        let wages = |kept: &[store::Kept]| -> Vec<Fen> {
            verification::current_records(kept, date!(2026 - 04 - 01))
                .into_iter()
                .map(|k| k.record.amount)
                .collect()
        };
        assert_eq!(wages(&known_first), [Fen::new(180_000)], "{backend}");
        assert_eq!(wages(&current_now), [Fen::new(190_000)], "{backend}");
        assert_eq!(current_now.len(), 2, "{backend}: nothing is overwritten");
        // Now, in one statement: the clock and the same records.
        let (known, in_one) = store
            .records_known_now(&[citizen(CITIZEN), citizen(OTHER)])
            .await
            .expect("read");
        assert_eq!(known, v2, "{backend}");
        let both = store
            .records_of(&[citizen(CITIZEN), citizen(OTHER)], v2)
            .await
            .expect("read");
        assert_eq!(in_one, both, "{backend}");
        assert_eq!(in_one.len(), 3, "{backend}");
        let (known, none) = store
            .records_known_now(&[citizen("110101199003070417")])
            .await
            .expect("read");
        assert_eq!(
            (known, none.len()),
            (v2, 0),
            "{backend}: the clock without records"
        );

        let extracts = store.latest_extracts(v2).await.expect("read");
        assert_eq!(
            extracts.get(&Agency::HumanResources),
            Some(&date!(2026 - 03 - 31)),
            "{backend}"
        );
        assert!(!extracts.contains_key(&Agency::Banks), "{backend}");
    }
}

/// A batch that brings known records, new ones and one twice is stored alike whether it was
/// expected to bring only new ones (on PostgreSQL: copied straight in, refused by the key, then
/// merged) or not (merged at once): the new record once, the others recognised, and the clock
/// one version on, the refused attempt leaving no gap.
#[tokio::test]
async fn a_batch_with_known_and_repeated_records_is_stored_alike_however_it_is_tried() {
    for expect_new in [true, false] {
        for Backend {
            name: backend,
            store,
            ..
        } in backends().await
        {
            let now = time::macros::datetime!(2026-04-01 09:00 UTC);
            let known = record(
                "D-1",
                RecordKind::Deposits,
                CITIZEN,
                date!(2026 - 03 - 31),
                1,
            );
            let new = record("D-2", RecordKind::Deposits, OTHER, date!(2026 - 03 - 31), 2);
            let first = store
                .store(Agency::Banks, "L1", std::slice::from_ref(&known), now, true)
                .await
                .expect("stored");
            let v1 = first.knowledge.expect("new");
            let mixed = [new.clone(), known, new];
            let second = store
                .store(Agency::Banks, "L2", &mixed, now, expect_new)
                .await
                .expect("stored");
            let case = format!("{backend}, expect_new {expect_new}");
            assert_eq!((second.recorded, second.already_known), (1, 2), "{case}");
            let v2 = second.knowledge.expect("a version");
            assert_eq!(v2.version, v1.version + 1, "{case}");
            let kept = store
                .records_of(&[citizen(CITIZEN), citizen(OTHER)], v2)
                .await
                .expect("read");
            let versions: Vec<(String, u64)> = kept
                .iter()
                .map(|k| (k.record.reference.as_str().to_owned(), k.known_version))
                .collect();
            assert_eq!(
                versions,
                [
                    ("D-1".to_owned(), v1.version),
                    ("D-2".to_owned(), v2.version)
                ],
                "{case}"
            );
        }
    }
}

#[tokio::test]
async fn the_clock_answers_what_was_known_at_a_time() {
    for Backend {
        name: backend,
        store,
        ..
    } in backends().await
    {
        let t0 = OffsetDateTime::now_utc();
        let v1 = store
            .store(
                Agency::Banks,
                "L1",
                &[record(
                    "D-1",
                    RecordKind::Deposits,
                    CITIZEN,
                    date!(2026 - 03 - 01),
                    1,
                )],
                t0,
                true,
            )
            .await
            .expect("stored")
            .knowledge
            .expect("new");
        let v2 = store
            .store(
                Agency::Banks,
                "L2",
                &[record(
                    "D-1",
                    RecordKind::Deposits,
                    CITIZEN,
                    date!(2026 - 04 - 01),
                    2,
                )],
                t0 + time::Duration::seconds(10),
                true,
            )
            .await
            .expect("stored")
            .knowledge
            .expect("new");
        let db = store.db();
        assert_eq!(knowledge::current(db).await.expect("read"), v2, "{backend}");
        assert_eq!(
            knowledge::as_known_at(db, v1.at()).await.expect("read"),
            v1,
            "{backend}"
        );
        assert_eq!(
            knowledge::as_known_at(db, t0 + time::Duration::seconds(5))
                .await
                .expect("read"),
            v1,
            "{backend}"
        );
        assert_eq!(
            knowledge::as_known_at(db, t0 - time::Duration::seconds(1))
                .await
                .expect("read"),
            Knowledge::NOTHING,
            "{backend}"
        );
    }
}
