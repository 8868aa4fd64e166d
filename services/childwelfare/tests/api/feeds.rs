//! What the other services' events change here: a death the civil registry records ends a
//! child's allowance after its month; the data-sharing alert "every guardian has died" opens a
//! protection case with its deadline running, once however often it is delivered.

use minzheng_host::testing::with_token;
use minzheng_proto::childwelfare::v1 as pb;
use time::macros::date;

use crate::support::{
    self, FIRST_DAY, PINGSHAN, PINGSHAN_STREET, boy_2015, citizen_ref, day, identify,
    record_standard, region, staff, standard, yuan,
};

/// A child identified in June dies on 20 July: the record shows the death, July is paid and
/// August is not. A death of someone the service does not know records nothing.
#[tokio::test]
async fn a_death_in_the_civil_registry_ends_the_allowance_after_its_month() {
    let (host, mut client, clock, producers) = support::embedded().await;
    record_standard(&mut client, standard(date!(2025 - 01 - 01), 1650, 1220, ""))
        .await
        .expect("standard");
    let boy = boy_2015();
    identify(&mut client, &boy, date!(2025 - 06 - 02)).await;
    let before = support::recorded_types(&host).await.len();
    producers
        .record_death(
            &"1c".repeat(16),
            &support::man_1985(),
            date!(2025 - 07 - 18),
        )
        .await;
    producers
        .record_death(&"2d".repeat(16), &boy, date!(2025 - 07 - 20))
        .await;
    host.settle().await;
    clock.set(date!(2025 - 08 - 05));
    let types = support::recorded_types(&host).await;
    assert_eq!(
        types[before..],
        ["minzheng.childwelfare.v1.ChildDeathNoted".to_owned()],
        "only the known child's death is noted"
    );
    let child = client
        .get_child(with_token(
            pb::GetChildRequest {
                child: citizen_ref(&boy),
                read: None,
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect("read")
        .into_inner();
    assert_eq!(child.died_on, day(date!(2025 - 07 - 20)));
    assert!(!child.covered);
    let line = |month| {
        let mut client = client.clone();
        let boy = boy.clone();
        async move {
            client
                .get_monthly_allowance(with_token(
                    pb::GetMonthlyAllowanceRequest {
                        child: citizen_ref(&boy),
                        month: day(month),
                        read: None,
                    },
                    &staff(PINGSHAN),
                ))
                .await
                .expect("read")
                .into_inner()
                .line
                .expect("a line")
        }
    };
    assert_eq!(line(date!(2025 - 07 - 01)).await.amount, yuan(1220));
    assert_eq!(line(date!(2025 - 08 - 01)).await.amount, yuan(0));
    host.shutdown().await;
}

/// The alert opens a high-risk case at the household's township, due for emergency handling the
/// next day; delivered again (a second alert record of the same id), nothing more is opened.
#[tokio::test]
async fn an_alert_that_every_guardian_died_opens_one_case_with_its_deadline() {
    alert_opens_one_case(support::embedded().await).await;
}

/// The same through NATS JetStream and PostgreSQL, each service its own host.
#[tokio::test]
async fn an_alert_through_the_bus_opens_one_case() {
    alert_opens_one_case(support::distributed().await).await;
}

async fn alert_opens_one_case(
    (host, mut client, _clock, producers): (
        minzheng_host::testing::TestHost,
        support::Client,
        minzheng_kit::clock::FixedClock,
        support::Producers,
    ),
) {
    let boy = boy_2015();
    producers
        .guardians_deceased("CW-alert-0001", &boy, PINGSHAN_STREET, FIRST_DAY)
        .await;
    producers
        .guardians_deceased("CW-alert-0001", &boy, PINGSHAN_STREET, FIRST_DAY)
        .await;
    host.settle().await;
    let cases = client
        .list_cases(with_token(
            pb::ListCasesRequest {
                region: region(PINGSHAN),
                step: pb::ProtectionStep::Unspecified.into(),
                overdue_only: false,
                as_of: None,
                page: None,
                read: None,
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect("listed")
        .into_inner()
        .cases;
    assert_eq!(cases.len(), 1, "{cases:?}");
    let summary = &cases[0];
    assert_eq!(summary.risk, i32::from(pb::RiskLevel::High));
    assert_eq!(summary.division, region(PINGSHAN_STREET));
    assert_eq!(summary.due_on, day(date!(2025 - 07 - 02)));
    let case = support::case(&mut client, &summary.case_id).await;
    assert_eq!(case.alert_id, "CW-alert-0001");
    assert_eq!(case.child, citizen_ref(&boy));
    host.shutdown().await;
}

/// A child's death the civil registry records before the child is identified is kept: the
/// identification that comes later is refused, so no allowance is ever paid after the death.
#[tokio::test]
async fn a_death_recorded_before_the_identification_refuses_it() {
    let (host, mut client, _clock, producers) = support::embedded().await;
    let boy = boy_2015();
    producers
        .record_death(&"3e".repeat(16), &boy, date!(2025 - 06 - 20))
        .await;
    host.settle().await;
    let refused = client
        .identify_child(with_token(
            support::identification(&boy, FIRST_DAY),
            &staff(PINGSHAN),
        ))
        .await
        .expect_err("the child has died");
    assert_eq!(support::refusal_rule(&refused), "deceased");
    host.shutdown().await;
}
