//! Standard place names: proposal with pinyin, evaluation, comment period, approval,
//! publication, and a renaming that retires the old name; the public database by pinyin prefix.

use minzheng_host::testing::{token, with_token};
use minzheng_kit::auth::Role;
use minzheng_proto::{common::v1 as common, placenames::v1 as pb};

use crate::support::{
    self, BENXI_CITY, PINGSHAN, bad_fields, code, date, name_and_rename_the_road, propose_road,
};

#[tokio::test]
async fn a_proposal_with_bad_input_is_refused_naming_each_field() {
    let (host, mut client) = support::benxi().await;
    let status = client
        .propose_place_name(with_token(
            propose_road("", "", "太子河", ""),
            &token(&[Role::Caseworker], &[PINGSHAN]),
        ))
        .await
        .expect_err("no id, no name, pinyin in characters");
    let mut fields = bad_fields(&status);
    fields.sort_unstable();
    assert_eq!(fields, ["name", "pinyin", "place_name_id"]);
    host.shutdown().await;
}

/// A road named through the whole workflow, then renamed: the renaming retires the old name
/// from the day the new one is published, and the public database follows.
#[tokio::test]
async fn a_renamed_road_retires_its_old_name_and_the_public_database_follows() {
    let (host, mut client) = support::benxi().await;
    name_and_rename_the_road(&mut client).await;
    let old = client
        .get_place_name(pb::GetPlaceNameRequest {
            place_name_id: "BX-DM-001".to_owned(),
            read: None,
        })
        .await
        .expect("public")
        .into_inner()
        .place_name
        .expect("a place name");
    assert_eq!(old.status(), pb::PlaceNameStatus::Retired);
    assert_eq!(old.retired_on, date(2026, 1, 1));
    assert_eq!(old.replaced_by, "BX-DM-002");

    // The public database by pinyin prefix (tone marks and case ignored), as of a day.
    let search = |prefix: &str, as_of: Option<common::Date>| pb::SearchPlaceNamesRequest {
        prefix: prefix.to_owned(),
        within: code(BENXI_CITY),
        as_of,
        page: None,
        read: None,
    };
    let names = |response: pb::SearchPlaceNamesResponse| -> Vec<String> {
        response.place_names.into_iter().map(|p| p.name).collect()
    };
    let found = client
        .search_place_names(search("TAIZI", date(2025, 6, 1)))
        .await
        .expect("public");
    assert_eq!(names(found.into_inner()), ["太子河路"]);
    let found = client
        .search_place_names(search("taizi", date(2026, 2, 1)))
        .await
        .expect("public");
    assert!(
        names(found.into_inner()).is_empty(),
        "retired names are not standard any more"
    );
    let found = client
        .search_place_names(search("滨河", date(2026, 2, 1)))
        .await
        .expect("public");
    assert_eq!(names(found.into_inner()), ["滨河路"]);
    host.shutdown().await;
}
