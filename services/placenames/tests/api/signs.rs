//! Place-name signs: installed for standard names only, inspected, listed.

use minzheng_host::testing::{token, with_token};
use minzheng_kit::auth::Role;
use minzheng_proto::placenames::v1 as pb;
use tonic::Code;

use crate::support::{
    self, BENXI_CITY, PINGSHAN, date, metadata, name_and_rename_the_road, read_at,
};

/// A sign for the road's standard name, not for its retired one; an inspection finds it
/// damaged.
#[tokio::test]
async fn a_sign_is_installed_for_the_standard_name_only_and_its_inspection_is_listed() {
    let (host, mut client) = support::benxi().await;
    name_and_rename_the_road(&mut client).await;
    let install = |sign: &str, place_name: &str, text: &str| {
        with_token(
            pb::InstallSignRequest {
                metadata: metadata(),
                sign_id: sign.to_owned(),
                place_name_id: place_name.to_owned(),
                text: text.to_owned(),
                location: "滨河路与永丰街交叉口东北角".to_owned(),
                installed_on: date(2026, 2, 1),
            },
            &token(&[Role::Caseworker], &[PINGSHAN]),
        )
    };
    let refused = client
        .install_sign(install("BX-S-1", "BX-DM-001", "太子河路"))
        .await
        .expect_err("太子河路 is retired");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    client
        .install_sign(install("BX-S-2", "BX-DM-002", "滨河路 Binhe Lu"))
        .await
        .expect("installed");
    let inspected = client
        .inspect_sign(with_token(
            pb::InspectSignRequest {
                metadata: metadata(),
                sign_id: "BX-S-2".to_owned(),
                condition: pb::SignCondition::Damaged.into(),
                note: "字迹褪色".to_owned(),
                inspected_on: date(2026, 6, 1),
            },
            &token(&[Role::Caseworker], &[BENXI_CITY]),
        ))
        .await
        .expect("inspected")
        .into_inner();
    let signs = client
        .list_signs(pb::ListSignsRequest {
            place_name_id: "BX-DM-002".to_owned(),
            page: None,
            read: read_at(inspected.result.expect("a result").position),
        })
        .await
        .expect("public")
        .into_inner()
        .signs;
    assert_eq!(signs.len(), 1);
    assert_eq!(signs[0].condition(), pb::SignCondition::Damaged);
    assert_eq!(signs[0].inspected_on, date(2026, 6, 1));
    host.shutdown().await;
}
