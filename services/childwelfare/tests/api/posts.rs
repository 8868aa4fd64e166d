//! Child directors (villages and communities) and child supervisors (townships): appointed,
//! replaced, vacated, trained; their coverage on a day over the divisions in force that day,
//! following a merger.

use minzheng_host::testing::with_token;
use minzheng_proto::{childwelfare::v1 as pb, common::v1 as common};
use time::macros::date;

use crate::support::{
    self, COMMUNITY_A, COMMUNITY_B, COMMUNITY_C, DONGMING_STREET, FIRST_DAY, HEXI_COMMUNITY,
    PINGSHAN, PINGSHAN_STREET, XIHU, after, city_approver, day, metadata, refusal_rule, region,
};

fn holder(name: &str) -> Option<pb::ChildPostHolder> {
    Some(pb::ChildPostHolder {
        name: name.to_owned(),
        phone: String::new(),
        citizen: None,
    })
}

async fn appoint(
    client: &mut support::Client,
    division: &str,
    name: &str,
    on: time::Date,
) -> Result<pb::AppointPostHolderResponse, tonic::Status> {
    client
        .appoint_post_holder(with_token(
            pb::AppointPostHolderRequest {
                metadata: metadata(),
                division: region(division),
                holder: holder(name),
                appointed_on: day(on),
            },
            &city_approver(),
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn indicators(
    client: &mut support::Client,
    on: time::Date,
    read: Option<common::ReadOptions>,
) -> pb::GetIndicatorsResponse {
    client
        .get_indicators(pb::GetIndicatorsRequest {
            as_of: day(on),
            read,
        })
        .await
        .expect("public")
        .into_inner()
}

/// Before the merger five communities need a director and the one of 北台社区 covers one of
/// them (20%); after it four do, and 北台社区's director covers the merged 平山社区 until it has
/// its own; with the other three appointed coverage is 100%. Supervisors are counted apart, and
/// the role follows the division's level.
#[tokio::test]
async fn director_coverage_is_computed_over_the_divisions_in_force_following_a_merger() {
    let (host, mut client, _clock, _producers) = support::embedded().await;
    let appointed = appoint(
        &mut client,
        COMMUNITY_B,
        "儿童主任 甲",
        date!(2024 - 06 - 01),
    )
    .await
    .expect("appointed");
    assert_eq!(appointed.role, i32::from(pb::PostRole::ChildDirector));
    let read = after(&appointed.result);

    let before = indicators(&mut client, date!(2024 - 12 - 31), read).await;
    let city = before.city.expect("city");
    assert_eq!((city.villages, city.villages_with_director), (5, 1));
    assert_eq!(city.director_coverage_permille, 200);

    let after_merger = indicators(&mut client, FIRST_DAY, read)
        .await
        .city
        .expect("city");
    assert_eq!(
        (after_merger.villages, after_merger.villages_with_director),
        (4, 1)
    );
    assert_eq!(after_merger.director_coverage_permille, 250);

    let mut last = None;
    for (division, name) in [
        (COMMUNITY_C, "儿童主任 乙"),
        (HEXI_COMMUNITY, "儿童主任 丙"),
        ("210503001002", "儿童主任 丁"),
    ] {
        last = Some(
            appoint(&mut client, division, name, date!(2025 - 06 - 01))
                .await
                .expect("appointed"),
        );
    }
    let supervisor = appoint(
        &mut client,
        PINGSHAN_STREET,
        "儿童督导员 戊",
        date!(2025 - 06 - 01),
    )
    .await
    .expect("appointed");
    assert_eq!(supervisor.role, i32::from(pb::PostRole::ChildSupervisor));
    let read = after(&supervisor.result);
    let full = indicators(&mut client, FIRST_DAY, read).await;
    let city = full.city.expect("city");
    assert_eq!(city.director_coverage_permille, 1000);
    assert_eq!((city.townships, city.townships_with_supervisor), (3, 1));
    assert_eq!(city.supervisor_coverage_permille, 333);
    let pingshan = full
        .counties
        .iter()
        .find(|c| c.region == region(PINGSHAN))
        .expect("平山区");
    assert_eq!((pingshan.villages, pingshan.villages_with_director), (2, 2));
    let xihu = full
        .counties
        .iter()
        .find(|c| c.region == region(XIHU))
        .expect("溪湖区");
    assert_eq!((xihu.villages, xihu.villages_with_director), (2, 2));
    assert!(last.is_some());

    // The merged community's post shows under its old code.
    let posts = client
        .list_posts(with_token(
            pb::ListPostsRequest {
                region: region(PINGSHAN),
                as_of: day(FIRST_DAY),
                vacant_only: false,
                page: None,
                read,
            },
            &city_approver(),
        ))
        .await
        .expect("listed")
        .into_inner()
        .posts;
    let merged = posts
        .iter()
        .find(|p| p.division == region(COMMUNITY_A))
        .expect("平山社区 listed");
    assert_eq!(merged.held_under, region(COMMUNITY_B));
    assert_eq!(merged.holder_name, "儿童主任 甲");
    let vacant = posts
        .iter()
        .find(|p| p.division == region(DONGMING_STREET))
        .expect("东明街道 listed");
    assert!(vacant.holder_name.is_empty());
    host.shutdown().await;
}

/// A held post is not appointed again (replace it); a vacated post is vacant and can be filled
/// again; a training counts for the holder in office.
#[tokio::test]
async fn a_post_is_appointed_replaced_vacated_and_its_holder_trained() {
    let (host, mut client, _clock, _producers) = support::embedded().await;
    appoint(
        &mut client,
        COMMUNITY_C,
        "儿童主任 甲",
        date!(2025 - 01 - 02),
    )
    .await
    .expect("appointed");
    let twice = appoint(
        &mut client,
        COMMUNITY_C,
        "儿童主任 乙",
        date!(2025 - 02 - 01),
    )
    .await
    .expect_err("held");
    assert_eq!(refusal_rule(&twice), "post_occupied");
    let training = client
        .record_post_training(with_token(
            pb::RecordPostTrainingRequest {
                metadata: metadata(),
                division: region(COMMUNITY_C),
                course: "新任儿童主任岗前培训".to_owned(),
                hours: 16,
                trained_on: day(date!(2025 - 03 - 01)),
            },
            &city_approver(),
        ))
        .await
        .expect("trained")
        .into_inner();
    // Read after the training's write: without its position the read model may not have it yet.
    let trained = indicators(&mut client, date!(2025 - 03 - 02), after(&training.result)).await;
    assert_eq!(trained.city.expect("city").directors_trained, 1);

    client
        .replace_post_holder(with_token(
            pb::ReplacePostHolderRequest {
                metadata: metadata(),
                division: region(COMMUNITY_C),
                holder: holder("儿童主任 乙"),
                replaced_on: day(date!(2025 - 04 - 01)),
                reason: "原儿童主任调任".to_owned(),
            },
            &city_approver(),
        ))
        .await
        .expect("replaced");
    let vacated = client
        .vacate_post(with_token(
            pb::VacatePostRequest {
                metadata: metadata(),
                division: region(COMMUNITY_C),
                vacated_on: day(date!(2025 - 05 - 01)),
                reason: "辞职".to_owned(),
            },
            &city_approver(),
        ))
        .await
        .expect("vacated")
        .into_inner();
    let on_may = indicators(&mut client, date!(2025 - 05 - 02), after(&vacated.result)).await;
    let city = on_may.city.expect("city");
    assert_eq!(city.villages_with_director, 0);
    let on_april = indicators(&mut client, date!(2025 - 04 - 15), after(&vacated.result)).await;
    let city = on_april.city.expect("city");
    assert_eq!(city.villages_with_director, 1);
    assert_eq!(
        city.directors_trained, 0,
        "the new holder is not trained yet"
    );
    appoint(
        &mut client,
        COMMUNITY_C,
        "儿童主任 丙",
        date!(2025 - 06 - 01),
    )
    .await
    .expect("a vacant post is filled again");
    host.shutdown().await;
}
