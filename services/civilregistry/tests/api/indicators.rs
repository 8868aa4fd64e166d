//! The plan's indicators: the eco-burial rate and the counselling-room coverage, per county and
//! city-wide.

use minzheng_host::testing::with_token;
use minzheng_proto::{civilregistry::v1 as pb, common::v1 as common};
use time::macros::date;
use tonic::Code;

use crate::support::{
    self, PINGSHAN, XIHU, approver, day, funeral, husband_dies, marry, metadata, region,
};

fn counselling_room(registry: &str) -> pb::SetCounsellingRoomRequest {
    pb::SetCounsellingRoomRequest {
        metadata: metadata(),
        registry: region(registry),
        open: true,
        since: day(date!(2025 - 01 - 01)),
    }
}

/// One registry of six with a counselling room; one burial, a tree burial.
#[tokio::test]
async fn the_indicators_count_eco_burials_and_counselling_rooms_per_county_and_city_wide() {
    let (host, mut client, clock) = support::embedded().await;
    let opened = client
        .set_counselling_room(with_token(counselling_room(PINGSHAN), &approver()))
        .await
        .expect("opened")
        .into_inner();
    marry(&mut client, &clock).await;
    let death = husband_dies(&mut client, &clock).await;
    funeral(&mut client, death.death_id, pb::BurialType::Tree).await;

    let indicators = client
        .get_indicators(pb::GetIndicatorsRequest {
            from: day(date!(2026 - 01 - 01)),
            to: day(date!(2026 - 12 - 31)),
            read: Some(common::ReadOptions {
                min_position: opened.result.map_or(0, |r| r.position),
            }),
        })
        .await
        .expect("public")
        .into_inner();
    let city = indicators.city.expect("city-wide");
    assert_eq!(city.name, "本溪市");
    assert_eq!((city.burials, city.eco_burials), (1, 1));
    assert_eq!(city.eco_burial_rate_bp, 10_000);
    assert_eq!(
        (city.registries, city.registries_with_counselling_room),
        (6, 1)
    );
    assert_eq!(city.counselling_coverage_bp, 1_666);
    let pingshan = indicators
        .counties
        .iter()
        .find(|c| c.region.as_ref().map(|r| r.code.as_str()) == Some(PINGSHAN))
        .expect("平山区");
    assert_eq!(pingshan.counselling_coverage_bp, 10_000);
    host.shutdown().await;
}

#[tokio::test]
async fn another_countys_approver_cannot_open_a_counselling_room() {
    let (host, mut client, _clock) = support::embedded().await;
    let denied = client
        .set_counselling_room(with_token(counselling_room(XIHU), &approver()))
        .await
        .expect_err("out of scope");
    assert_eq!(denied.code(), Code::PermissionDenied);
    host.shutdown().await;
}
