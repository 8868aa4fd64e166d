//! What the other services' public events change here, each recorded by a stand-in under the
//! producer's name in its own store and fed to the service (embedded): the civil registry's
//! death of a resident, the assistance service's grant to a household with an elderly member,
//! the data-sharing service's alert that an elderly person now lives alone.

use minzheng_host::testing::{TestHost, with_token};
use minzheng_kit::clock::FixedClock;
use minzheng_proto::eldercare::v1 as pb;
use time::macros::date;

use crate::support::{
    self, FIRST_DAY, PINGSHAN_STREET, admit, assess, born_1940, born_1950, born_1990, day, elder,
    fen, figures, institution, institution_on, line, monthly_subsidy, record_benxi_standard,
    register,
};

/// The civil registry's record of the death of a resident on 15 July frees her bed from that
/// day, ends her placement, and ends her subsidies from August: July is paid, August pays
/// nothing and says why.
#[tokio::test]
async fn a_residents_death_frees_the_bed_and_ends_the_subsidies_the_month_after() {
    let (host, client, clock, producers) = support::embedded_with_producers().await;
    a_residents_death(host, client, clock, producers).await;
}

/// The same death through the bus: the civil registry's relay publishes it on JetStream and the
/// service's durable consumer takes it.
#[tokio::test]
async fn distributed_a_residents_death_frees_the_bed_and_ends_the_subsidies_the_month_after() {
    let (host, client, clock, producers) = support::distributed_with_producers().await;
    a_residents_death(host, client, clock, producers).await;
}

async fn a_residents_death(
    host: TestHost,
    mut client: support::Client,
    clock: FixedClock,
    producers: support::Producers,
) {
    record_benxi_standard(&mut client).await;
    let id = register(&mut client, 0, 2).await;
    let woman = born_1940();
    admit(&mut client, &id, &woman, pb::BedType::Nursing)
        .await
        .expect("admitted");
    assess(&mut client, &woman, 50, Default::default()).await;
    assert_eq!(
        figures(&institution(&mut client, &id).await).nursing_occupied,
        1
    );

    clock.set(date!(2025 - 07 - 20));
    producers
        .deaths
        .record_death(&"5d".repeat(16), &woman, date!(2025 - 07 - 15))
        .await;
    host.settle().await;

    let now = institution(&mut client, &id).await;
    assert_eq!(figures(&now).nursing_occupied, 0, "{now:?}");
    assert!(now.residents.is_empty());
    let day_before = institution_on(&mut client, &id, Some(date!(2025 - 07 - 14))).await;
    assert_eq!(figures(&day_before).nursing_occupied, 1);
    let record = elder(&mut client, &woman).await;
    assert_eq!(record.died_on, day(date!(2025 - 07 - 15)));
    assert_eq!(record.institution_id, "");

    let july = monthly_subsidy(&mut client, &woman, date!(2025 - 07 - 01)).await;
    assert_eq!(
        fen(&july.total),
        40_000,
        "the month of death is paid: {july:?}"
    );
    let august = monthly_subsidy(&mut client, &woman, date!(2025 - 08 - 01)).await;
    assert_eq!(fen(&august.total), 0, "{august:?}");
    for kind in [
        pb::SubsidyKind::AdvancedAge,
        pb::SubsidyKind::Nursing,
        pb::SubsidyKind::Service,
    ] {
        let explanation = &line(&august, kind).explanation;
        assert!(
            explanation.contains("died on 2025-07-15"),
            "{kind:?}: {explanation}"
        );
    }

    // The freed bed takes the next resident.
    let mut next = support::admission(&id, &support::resident(1), pb::BedType::Nursing);
    next.admitted_on = day(date!(2025 - 07 - 20));
    client
        .admit_resident(with_token(next, &support::staff(support::PINGSHAN)))
        .await
        .expect("a bed is free again");
    host.shutdown().await;
}

/// A dibao grant to a household of an elderly man and a younger woman makes him eligible for
/// the service subsidy (low-income elderly) from the grant's first month; she is under 60.
#[tokio::test]
async fn an_assistance_grant_makes_the_elderly_member_eligible_for_the_service_subsidy() {
    let (host, mut client, _clock, producers) = support::embedded_with_producers().await;
    record_benxi_standard(&mut client).await;
    let (man, daughter) = (born_1950(), born_1990());
    assess(&mut client, &man, 80, Default::default()).await;
    let before = monthly_subsidy(&mut client, &man, date!(2025 - 07 - 01)).await;
    assert_eq!(fen(&line(&before, pb::SubsidyKind::Service).amount), 0);
    assert!(!elder(&mut client, &man).await.low_income);

    producers
        .cases
        .grant(
            "210502-DB-2025-000123",
            &[&man, &daughter],
            date!(2025 - 06 - 01),
        )
        .await;
    host.settle().await;

    let record = elder(&mut client, &man).await;
    assert!(record.low_income, "{record:?}");
    let july = monthly_subsidy(&mut client, &man, date!(2025 - 07 - 01)).await;
    let service = line(&july, pb::SubsidyKind::Service);
    assert_eq!(fen(&service.amount), 15_000, "{service:?}");
    assert!(
        service.explanation.contains("low income from 2025-06-01"),
        "{service:?}"
    );
    // 75, mildly impaired: no other subsidy.
    assert_eq!(fen(&july.total), 15_000);
    let may = monthly_subsidy(&mut client, &man, date!(2025 - 05 - 01)).await;
    assert_eq!(
        fen(&line(&may, pb::SubsidyKind::Service).amount),
        0,
        "not before the grant"
    );
    host.shutdown().await;
}

/// A member removed from a case is no longer low-income from that day, also when the grant and
/// the change reach the service together (one batch, as after a backlog): each is decided
/// against the members the case covered just before it.
#[tokio::test]
async fn a_member_removed_from_a_case_granted_in_the_same_batch_is_no_longer_low_income() {
    let (host, mut client, _clock, producers) = support::embedded_with_producers().await;
    record_benxi_standard(&mut client).await;
    let (man, daughter) = (born_1950(), born_1990());
    assess(&mut client, &man, 80, Default::default()).await;
    let case = "210502-DB-2025-000124";
    producers
        .cases
        .grant(case, &[&man, &daughter], date!(2025 - 06 - 01))
        .await;
    producers
        .cases
        .change_members(case, &[&daughter], date!(2025 - 06 - 20))
        .await;
    host.settle().await;

    assert!(
        !elder(&mut client, &man).await.low_income,
        "not on 2025-07-01"
    );
    let june = monthly_subsidy(&mut client, &man, date!(2025 - 06 - 01)).await;
    assert_eq!(fen(&line(&june, pb::SubsidyKind::Service).amount), 15_000);
    let july = monthly_subsidy(&mut client, &man, date!(2025 - 07 - 01)).await;
    let service = line(&july, pb::SubsidyKind::Service);
    assert_eq!(fen(&service.amount), 0, "{service:?}");
    host.shutdown().await;
}

/// The data-sharing alert that an elderly woman now lives alone opens a visit plan at her
/// township, naming the alert, a visit every 30 days.
#[tokio::test]
async fn an_elderly_left_alone_alert_opens_a_visit_plan() {
    let (host, mut client, _clock, producers) = support::embedded_with_producers().await;
    let woman = born_1940();
    let alert_id = format!("EA-{}", "7c".repeat(16));
    producers
        .alerts
        .left_alone(&alert_id, &woman, PINGSHAN_STREET, FIRST_DAY)
        .await;
    host.settle().await;

    let record = elder(&mut client, &woman).await;
    let plan = record.visit_plan.expect("a visit plan was opened");
    assert_eq!(plan.alert_id, alert_id);
    assert_eq!(plan.township, support::region(PINGSHAN_STREET));
    assert_eq!(
        plan.difficulties,
        [i32::from(pb::DifficultyKind::LivingAlone)]
    );
    assert_eq!(plan.interval_days, 30);
    assert_eq!(plan.opened_on, day(FIRST_DAY));
    assert_eq!(plan.next_due_on, day(date!(2025 - 07 - 31)));
    assert!(plan.closed_on.is_none());
    host.shutdown().await;
}

/// A death closes the person's visit plan the same day: the plan shows it closed, and the visit
/// that falls due afterwards is never overdue.
#[tokio::test]
async fn a_death_closes_the_visit_plan() {
    let (host, mut client, clock, producers) = support::embedded_with_producers().await;
    let woman = born_1940();
    support::open_plan(&mut client, &woman, 30, FIRST_DAY).await;
    clock.set(date!(2025 - 07 - 20));
    producers
        .deaths
        .record_death(&"3a".repeat(16), &woman, date!(2025 - 07 - 18))
        .await;
    host.settle().await;

    let plan = elder(&mut client, &woman)
        .await
        .visit_plan
        .expect("the plan is kept");
    assert_eq!(plan.closed_on, day(date!(2025 - 07 - 18)));
    assert!(plan.next_due_on.is_none());
    clock.set(date!(2025 - 08 - 15));
    assert!(
        support::overdue(&mut client, PINGSHAN_STREET, None)
            .await
            .is_empty()
    );
    host.shutdown().await;
}

/// An institution reporting a resident's death (a discharge for DIED) records the death: the
/// subsidies end the month after; the civil registry's record of it later adds nothing.
#[tokio::test]
async fn a_death_the_institution_reports_is_the_persons_death_too() {
    let (host, mut client, clock, producers) = support::embedded_with_producers().await;
    record_benxi_standard(&mut client).await;
    let id = register(&mut client, 2, 0).await;
    let woman = born_1940();
    admit(&mut client, &id, &woman, pb::BedType::General)
        .await
        .expect("admitted");
    assess(&mut client, &woman, 50, Default::default()).await;
    clock.set(date!(2025 - 07 - 20));
    client
        .discharge_resident(with_token(
            pb::DischargeResidentRequest {
                metadata: support::metadata(),
                institution_id: id.clone(),
                resident: support::citizen_ref(&woman),
                discharged_on: day(date!(2025 - 07 - 19)),
                reason: pb::DischargeReason::Died.into(),
                to_institution_id: String::new(),
                to_bed_type: 0,
            },
            &support::staff(support::PINGSHAN),
        ))
        .await
        .expect("the institution reports the death");
    let record = elder(&mut client, &woman).await;
    assert_eq!(record.died_on, day(date!(2025 - 07 - 19)));
    assert_eq!(record.institution_id, "");
    assert_eq!(
        figures(&institution(&mut client, &id).await).general_occupied,
        0
    );

    let july = monthly_subsidy(&mut client, &woman, date!(2025 - 07 - 01)).await;
    assert_eq!(fen(&july.total), 40_000, "{july:?}");
    let august = monthly_subsidy(&mut client, &woman, date!(2025 - 08 - 01)).await;
    assert_eq!(fen(&august.total), 0, "{august:?}");

    producers
        .deaths
        .record_death(&"4b".repeat(16), &woman, date!(2025 - 07 - 19))
        .await;
    host.settle().await;
    assert_eq!(support::count_of(&host, "DeathNoted").await, 1);
    host.shutdown().await;
}
