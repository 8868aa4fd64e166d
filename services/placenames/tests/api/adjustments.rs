//! Adjustments through their workflow (three reviews, approval by an approver, then in effect),
//! and what the division queries answer as of days before and after.

use minzheng_host::testing::{token, with_token};
use minzheng_kit::auth::Role;
use minzheng_proto::{common::v1 as common, placenames::v1 as pb};

use crate::support::{
    self, BENXI_CSV, ERPENGDIANZI, HUANREN, JIADAOZI, PULEBAO, code, date, merge_the_townships,
    read_at, rename_the_village, resolve,
};

fn search(prefix: &str, as_of: Option<common::Date>) -> pb::SearchDivisionsRequest {
    pb::SearchDivisionsRequest {
        name_prefix: prefix.to_owned(),
        within: code(HUANREN),
        as_of,
        page: None,
        read: None,
    }
}

fn codes(found: &pb::SearchDivisionsResponse) -> Vec<String> {
    found
        .divisions
        .iter()
        .map(|d| d.code.clone().expect("a code").code)
        .collect()
}

#[tokio::test]
async fn a_merger_supersedes_the_merged_township_from_the_day_it_takes_effect() {
    let (host, mut client) = support::benxi().await;
    let (position, merged) = merge_the_townships(&mut client).await;
    assert_eq!(merged.superseded.len(), 1);
    assert_eq!(
        merged.superseded[0].code.as_ref().expect("a code").code,
        ERPENGDIANZI
    );

    // The old township code: itself before the merger, the surviving town from the day it
    // took effect, and today.
    let pulebao = format!("{PULEBAO} 普乐堡镇");
    assert_eq!(
        resolve(&mut client, ERPENGDIANZI, date(2025, 6, 30), position).await,
        (vec![format!("{ERPENGDIANZI} 二棚甸子镇")], true)
    );
    assert_eq!(
        resolve(&mut client, ERPENGDIANZI, date(2025, 7, 1), position).await,
        (vec![pulebao.clone()], false)
    );
    assert_eq!(
        resolve(&mut client, ERPENGDIANZI, None, position).await,
        (vec![pulebao], false)
    );

    // The merged township's villages now lie in the town.
    let children = |as_of| pb::ListChildrenRequest {
        code: code(PULEBAO),
        as_of,
        page: Some(common::PageRequest {
            page_size: 1_000,
            page_token: String::new(),
        }),
        read: None,
    };
    let before = client
        .list_children(children(date(2025, 6, 30)))
        .await
        .expect("public")
        .into_inner();
    let after = client
        .list_children(children(date(2025, 7, 1)))
        .await
        .expect("public")
        .into_inner();
    let villages_of = |township: &str| {
        BENXI_CSV
            .lines()
            .filter(|l| l.ends_with(&format!(",village,{township}")))
            .count()
    };
    assert_eq!(before.divisions.len(), villages_of(PULEBAO));
    assert_eq!(
        after.divisions.len(),
        villages_of(PULEBAO) + villages_of(ERPENGDIANZI)
    );

    // The superseded township stays queryable, with its successor.
    let old = client
        .get_division(pb::GetDivisionRequest {
            code: code(ERPENGDIANZI),
            as_of: None,
            read: None,
        })
        .await
        .expect("public")
        .into_inner()
        .division
        .expect("a division");
    assert_eq!(old.valid_to, date(2025, 7, 1));
    assert_eq!(old.superseded_by, vec![code(PULEBAO).expect("set")]);

    // Search as of a day sees the divisions of that day.
    let found = client
        .search_divisions(search("二棚", date(2025, 8, 1)))
        .await
        .expect("public")
        .into_inner();
    assert!(
        !codes(&found).contains(&ERPENGDIANZI.to_owned()),
        "a superseded town is not found after it ended"
    );
    let found = client
        .search_divisions(search("二棚", date(2025, 6, 1)))
        .await
        .expect("public")
        .into_inner();
    assert!(
        codes(&found).contains(&ERPENGDIANZI.to_owned()),
        "but it is found before"
    );
    host.shutdown().await;
}

#[tokio::test]
async fn a_renamed_village_keeps_its_code_and_its_name_depends_on_the_day() {
    let (host, mut client) = support::benxi().await;
    let (position, renamed) = rename_the_village(&mut client).await;
    assert_eq!(renamed.renamed.len(), 1);
    assert_eq!(
        resolve(&mut client, JIADAOZI, date(2025, 6, 30), position).await,
        (vec![format!("{JIADAOZI} 夹道子村委会")], true)
    );
    assert_eq!(
        resolve(&mut client, JIADAOZI, date(2025, 7, 1), position).await,
        (vec![format!("{JIADAOZI} 夹道河村委会")], true)
    );
    // Search as of a day sees the names of that day.
    let found = client
        .search_divisions(search("夹道", date(2025, 8, 1)))
        .await
        .expect("public")
        .into_inner();
    assert_eq!(found.divisions.len(), 1);
    assert_eq!(found.divisions[0].name, "夹道河村委会");
    host.shutdown().await;
}

/// The adjustment shows its whole workflow to an auditor.
#[tokio::test]
async fn an_adjustment_in_effect_shows_its_reviews() {
    let (host, mut client) = support::benxi().await;
    let (position, _) = merge_the_townships(&mut client).await;
    let adjustment = client
        .get_adjustment(with_token(
            pb::GetAdjustmentRequest {
                adjustment_id: "HR-2025-merge".to_owned(),
                read: read_at(position),
            },
            &token(&[Role::Auditor], &[HUANREN]),
        ))
        .await
        .expect("an auditor reads adjustments")
        .into_inner();
    assert_eq!(adjustment.status(), pb::AdjustmentStatus::InEffect);
    assert_eq!(adjustment.reviews.len(), 3);
    host.shutdown().await;
}
