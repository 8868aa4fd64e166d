//! Loads of agency records: checked row by row, recognised when loaded again, an agency's own
//! only.

use minzheng_datasharing::records::RecordKind;
use minzheng_proto::datasharing::v1 as pb;
use time::macros::date;
use tonic::Code;

use crate::support::{self, HUSBAND, WIFE, load, load_as, record};

fn payroll() -> Vec<pb::LoadedRecord> {
    let mut bad_citizen = record(
        3,
        "W-3",
        RecordKind::Wages,
        HUSBAND,
        date!(2026 - 03 - 31),
        1,
    );
    if let Some(r) = bad_citizen.record.as_mut() {
        r.citizen = support::citizen("210502195803120026");
    }
    vec![
        record(
            2,
            "W-1",
            RecordKind::Wages,
            HUSBAND,
            date!(2026 - 03 - 31),
            180_000,
        ),
        bad_citizen,
        // A pension is human resources' too; a deposit is not.
        record(
            4,
            "P-1",
            RecordKind::Pension,
            WIFE,
            date!(2026 - 03 - 31),
            250_000,
        ),
        record(
            5,
            "D-1",
            RecordKind::Deposits,
            WIFE,
            date!(2026 - 03 - 31),
            1,
        ),
        record(6, "W-2", RecordKind::Wages, WIFE, date!(2026 - 03 - 31), -5),
    ]
}

/// Each malformed row is reported with its line, field and rule, and the good rows of the same
/// load are kept — on SQLite and through PostgreSQL's COPY.
#[tokio::test]
async fn malformed_rows_are_reported_by_line_and_the_good_rows_load() {
    for hosted in [support::embedded().await, support::distributed().await] {
        let mut client = hosted.client.clone();
        let response = load(&mut client, RecordKind::Wages, payroll()).await;
        let summary = response.load.expect("the load's record");
        assert_eq!(
            (summary.received, summary.recorded, summary.rejected),
            (5, 2, 3),
            "{summary:?}"
        );
        let rejected: Vec<(u64, &str)> = response
            .rejected
            .iter()
            .map(|r| (r.line, r.field.as_str()))
            .collect();
        assert_eq!(
            rejected,
            [
                (3, "record.citizen.citizen_id"),
                (5, "record.kind"),
                (6, "record.amount.fen")
            ]
        );
        assert!(
            response.rejected[1].rule.contains("banks"),
            "the rule names the agency that keeps deposits: {:?}",
            response.rejected[1]
        );
        assert!(summary.load_id.starts_with("LD-"));
        hosted.host.shutdown().await;
    }
}

#[tokio::test]
async fn a_reloaded_file_records_nothing_new() {
    let hosted = support::embedded().await;
    let mut client = hosted.client.clone();
    let first = load(&mut client, RecordKind::Wages, payroll()).await;
    let again = load(&mut client, RecordKind::Wages, payroll()).await;
    let (first, again) = (first.load.expect("set"), again.load.expect("set"));
    assert_eq!(first.recorded, 2);
    assert_eq!((again.recorded, again.already_known), (0, 2), "{again:?}");
    assert_eq!(
        again.first_known_version, 0,
        "nothing new, no knowledge version"
    );
    assert_ne!(first.load_id, again.load_id, "each load is its own record");
    hosted.host.shutdown().await;
}

#[tokio::test]
async fn an_agency_loads_only_its_own_records() {
    let hosted = support::embedded().await;
    let mut client = hosted.client.clone();
    let refused = load_as(
        &mut client,
        "banks",
        pb::Agency::HumanResources,
        payroll(),
        10,
    )
    .await
    .expect_err("banks cannot load human resources' records");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let unnamed = load_as(&mut client, "banks", pb::Agency::Unspecified, payroll(), 10)
        .await
        .expect_err("the agency must be named");
    assert_eq!(unnamed.code(), Code::InvalidArgument, "{unnamed:?}");
    hosted.host.shutdown().await;
}

/// A batch that cannot be stored ends the load with an error at once, while the agency is still
/// sending (the stream read ahead stops with it), and the load records nothing.
#[tokio::test]
async fn a_load_whose_batch_cannot_be_stored_fails_without_waiting_for_the_rest() {
    use sqlx::{Connection as _, PgConnection};
    let hosted = support::distributed().await;
    let mut client = hosted.client.clone();
    let mut db = PgConnection::connect(hosted.host.database_url("datasharing"))
        .await
        .expect("connect");
    // The database loses the records' table (an operator's mistake, a failed restore).
    sqlx::query("ALTER TABLE ds_records RENAME TO ds_records_away")
        .execute(&mut db)
        .await
        .expect("renamed");
    // Forty messages of a thousand: far more than the service reads ahead.
    let records: Vec<pb::LoadedRecord> = (1..=40_000u64)
        .map(|n| {
            record(
                n,
                &format!("W-{n}"),
                RecordKind::Wages,
                HUSBAND,
                date!(2026 - 03 - 31),
                180_000,
            )
        })
        .collect();
    let loading = load_as(
        &mut client,
        "human_resources",
        pb::Agency::HumanResources,
        records,
        1_000,
    );
    let refused = tokio::time::timeout(std::time::Duration::from_secs(60), loading)
        .await
        .expect("the load ends instead of hanging")
        .expect_err("the batch could not be stored");
    assert_ne!(refused.code(), Code::Ok);
    sqlx::query("ALTER TABLE ds_records_away RENAME TO ds_records")
        .execute(&mut db)
        .await
        .expect("renamed back");
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ds_records")
        .fetch_one(&mut db)
        .await
        .expect("counted");
    assert_eq!(kept, 0, "nothing of the failed load is kept");
    let loads: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM mz_events WHERE stream_category = 'load'")
            .fetch_one(&mut db)
            .await
            .expect("counted");
    assert_eq!(loads, 0, "no load is recorded");
    hosted.host.shutdown().await;
}
