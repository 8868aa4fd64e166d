//! The division file's import (whole, idempotent, checked before anything is recorded) and the
//! division queries over what it recorded.

use minzheng_proto::{common::v1 as common, placenames::v1 as pb};
use tonic::Code;

use crate::support::{
    self, BENXI_CSV, LIAONING, bad_fields, count_levels, date, import, import_benxi, metadata,
};

#[tokio::test]
async fn importing_benxi_records_every_division_and_the_tree_counts_them_per_level() {
    let (host, mut client) = support::empty().await;
    let imported = import_benxi(&mut client).await;
    let counts = count_levels(&mut client, LIAONING, imported.position).await;
    let levels = [
        common::RegionLevel::Province,
        common::RegionLevel::City,
        common::RegionLevel::County,
        common::RegionLevel::Township,
        common::RegionLevel::Village,
    ];
    assert_eq!(
        levels.map(|l| counts.get(&(l as i32)).copied().unwrap_or(0)),
        [1, 1, 6, 49, 508]
    );
    host.shutdown().await;
}

#[tokio::test]
async fn importing_the_same_file_again_records_nothing() {
    let (host, mut client) = support::empty().await;
    let first = import_benxi(&mut client).await;
    let again = import(&mut client, BENXI_CSV).await.expect("imports again");
    assert_eq!((again.recorded, again.unchanged), (0, 565));
    // A repeat (say, after a lost answer) still says where to read: every row is there.
    assert!(
        again.position >= first.position,
        "{again:?} after {first:?}"
    );
    let counts = count_levels(&mut client, LIAONING, again.position).await;
    assert_eq!(counts.values().sum::<usize>(), 565);
    host.shutdown().await;
}

/// INVALID_ARGUMENT naming the row and column; nothing recorded.
#[tokio::test]
async fn a_malformed_file_is_refused_naming_the_row_and_column() {
    let (host, mut client) = support::empty().await;
    let status = import(
        &mut client,
        "code,name,level,parent_code\n210522999000,新镇,village,210522000000\n",
    )
    .await
    .expect_err("a township code at village level");
    assert_eq!(bad_fields(&status), ["csv.line[2].level"]);
    host.shutdown().await;
}

#[tokio::test]
async fn a_row_contradicting_a_recorded_division_is_refused() {
    let (host, mut client) = support::benxi().await;
    let status = import(
        &mut client,
        "code,name,level,parent_code\n210522101000,普乐堡乡,township,210522000000\n",
    )
    .await
    .expect_err("普乐堡镇 is recorded under another name");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    host.shutdown().await;
}

/// Changes need a token; queries do not (every query in these tests is made without one).
#[tokio::test]
async fn an_import_without_a_token_is_unauthenticated() {
    let (host, mut client) = support::empty().await;
    let status = client
        .import_divisions(pb::ImportDivisionsRequest {
            metadata: metadata(),
            csv: BENXI_CSV.as_bytes().to_vec(),
            valid_from: date(2023, 6, 30),
        })
        .await
        .expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);
    host.shutdown().await;
}
