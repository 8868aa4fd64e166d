//! Elderly persons: the capacity level an assessment derives (GB/T 42195-2022), the monthly
//! subsidies a standard gives by age band and level, and visits — overdue, escalated to the
//! county after the delay (by the sweep, across a restart) and moved by a visit.

use std::time::Duration;

use minzheng_host::testing::with_token;
use minzheng_proto::eldercare::v1 as pb;
use prost::Message as _;
use time::macros::date;

use crate::support::{
    self, DONGMING_STREET, FIRST_DAY, PINGSHAN, PINGSHAN_STREET, after, assess, born_1940,
    born_1945, born_1950, citizen_ref, count_of, day, elder, fen, line, metadata, monthly_subsidy,
    open_plan, overdue, record_benxi_standard, recorded, resident, staff,
};

/// The total's band gives the level: 90 intact, 66–89 mild, 46–65 moderate, 30–45 severe,
/// 0–29 complete; the answer carries the total and the groups' scores.
#[tokio::test]
async fn the_level_follows_the_total_at_the_band_boundaries() {
    let (host, mut client, _clock) = support::embedded().await;
    let cases = [
        (90, pb::CapacityLevel::Intact),
        (89, pb::CapacityLevel::Mild),
        (66, pb::CapacityLevel::Mild),
        (65, pb::CapacityLevel::Moderate),
        (46, pb::CapacityLevel::Moderate),
        (45, pb::CapacityLevel::Severe),
        (30, pb::CapacityLevel::Severe),
        (29, pb::CapacityLevel::Complete),
    ];
    for (n, (total, level)) in (1..).zip(cases) {
        let answer = assess(&mut client, &resident(n), total, Default::default()).await;
        assert_eq!(answer.level(), level, "total {total}: {answer:?}");
        assert_eq!(answer.total_score, total);
        assert_eq!(answer.group_scores.len(), 4);
        assert_eq!(answer.group_scores.iter().sum::<u32>(), total);
        assert_eq!(answer.reassessment_due_on, day(date!(2026 - 07 - 01)));
    }
    let recorded = elder(&mut client, &resident(4)).await;
    assert_eq!(recorded.assessments.len(), 1);
    assert_eq!(recorded.assessments[0].level(), pb::CapacityLevel::Moderate);
    assert_eq!(recorded.assessments[0].total_score, 65);
    host.shutdown().await;
}

/// A diagnosis of dementia, or repeated care-risk events, raise the level from the total by
/// one (several together still by one); a person in a coma is rated complete whatever the total.
#[tokio::test]
async fn a_diagnosis_raises_the_level_by_one_and_a_coma_rates_it_complete() {
    let (host, mut client, _clock) = support::embedded().await;
    let dementia = pb::AssessmentAdjustments {
        dementia_diagnosed: true,
        ..Default::default()
    };
    let answer = assess(&mut client, &resident(1), 66, dementia).await;
    assert_eq!(answer.level(), pb::CapacityLevel::Moderate);
    assert_eq!(answer.total_score, 66);

    let falls = pb::AssessmentAdjustments {
        repeated_care_risk_events: true,
        ..Default::default()
    };
    let answer = assess(&mut client, &resident(2), 90, falls).await;
    assert_eq!(answer.level(), pb::CapacityLevel::Mild);

    let both = pb::AssessmentAdjustments {
        dementia_diagnosed: true,
        psychiatric_illness_diagnosed: true,
        repeated_care_risk_events: true,
        comatose: false,
    };
    let answer = assess(&mut client, &resident(3), 46, both).await;
    assert_eq!(
        answer.level(),
        pb::CapacityLevel::Severe,
        "raised once only"
    );

    // 50 points, the level of consciousness 0.
    let coma = pb::AssessmentAdjustments {
        comatose: true,
        ..Default::default()
    };
    let answer = assess(&mut client, &resident(4), 50, coma).await;
    assert_eq!(answer.level(), pb::CapacityLevel::Complete);
    assert_eq!(answer.total_score, 50);

    let read = elder(&mut client, &resident(1)).await;
    let kept = &read.assessments[0];
    assert_eq!(kept.level(), pb::CapacityLevel::Moderate);
    assert!(
        kept.adjustments
            .as_ref()
            .is_some_and(|a| a.dementia_diagnosed)
    );
    host.shutdown().await;
}

/// Under the standard (from 80: 100 yuan; moderate: 300 yuan; mild: nothing), a woman of 85
/// assessed moderate gets both; a man of 79 assessed mild gets nothing in July and the
/// allowance from August, the month he turns 80; before the standard, nothing is in force.
#[tokio::test]
async fn the_monthly_subsidy_follows_the_age_band_and_the_assessed_level() {
    let (host, mut client, _clock) = support::embedded().await;
    let recorded = record_benxi_standard(&mut client).await;
    assert_eq!(recorded.version, 1);
    let (woman, man) = (born_1940(), born_1945());
    assess(&mut client, &woman, 50, Default::default()).await;
    assess(&mut client, &man, 66, Default::default()).await;

    let july = monthly_subsidy(&mut client, &woman, date!(2025 - 07 - 15)).await;
    assert_eq!(july.month, day(date!(2025 - 07 - 01)));
    let age = line(&july, pb::SubsidyKind::AdvancedAge);
    assert_eq!(fen(&age.amount), 10_000);
    assert_eq!(age.standard_version, 1);
    assert!(age.explanation.contains("aged 85"), "{age:?}");
    assert!(age.explanation.contains("band from 80"), "{age:?}");
    assert_eq!(fen(&line(&july, pb::SubsidyKind::Nursing).amount), 30_000);
    let service = line(&july, pb::SubsidyKind::Service);
    assert_eq!(fen(&service.amount), 0);
    assert!(service.explanation.contains("no low income"), "{service:?}");
    assert_eq!(fen(&july.total), 40_000);
    assert!(!format!("{july:?}").contains(&woman), "no id number");

    let july = monthly_subsidy(&mut client, &man, date!(2025 - 07 - 01)).await;
    let age = line(&july, pb::SubsidyKind::AdvancedAge);
    assert_eq!(fen(&age.amount), 0);
    assert!(age.explanation.contains("aged 79"), "{age:?}");
    assert!(age.explanation.contains("below the lowest band"), "{age:?}");
    let nursing = line(&july, pb::SubsidyKind::Nursing);
    assert_eq!(fen(&nursing.amount), 0, "mild: not listed");
    assert!(nursing.explanation.contains("mildly"), "{nursing:?}");
    assert_eq!(fen(&july.total), 0);
    let august = monthly_subsidy(&mut client, &man, date!(2025 - 08 - 01)).await;
    assert_eq!(
        fen(&line(&august, pb::SubsidyKind::AdvancedAge).amount),
        10_000
    );
    assert_eq!(fen(&august.total), 10_000);

    let before = monthly_subsidy(&mut client, &woman, date!(2024 - 12 - 31)).await;
    assert_eq!(fen(&before.total), 0);
    assert!(
        before
            .lines
            .iter()
            .all(|l| l.standard_version == 0 && l.explanation.contains("no subsidy standard"))
    );
    host.shutdown().await;
}

/// A plan opened on 1 July with a visit every 30 days: the visit due on 31 July is overdue
/// from 1 August for the township (and its county, not another township), and escalated once
/// more than 7 days overdue.
#[tokio::test]
async fn an_overdue_visit_is_listed_for_the_township_and_escalated_after_the_delay() {
    let (host, mut client, clock) = support::embedded().await;
    let person = born_1950();
    let opened = open_plan(&mut client, &person, 30, FIRST_DAY).await;
    assert_eq!(opened.first_due_on, day(date!(2025 - 07 - 31)));
    let read = after(&opened.result);

    clock.set(date!(2025 - 07 - 31));
    assert!(overdue(&mut client, PINGSHAN_STREET, read).await.is_empty());

    clock.set(date!(2025 - 08 - 01));
    let listed = overdue(&mut client, PINGSHAN_STREET, read).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].elder_id, opened.elder_id);
    assert_eq!(listed[0].due_on, day(date!(2025 - 07 - 31)));
    assert_eq!(listed[0].days_overdue, 1);
    assert!(!listed[0].escalated);
    assert_eq!(overdue(&mut client, PINGSHAN, read).await.len(), 1);
    assert!(overdue(&mut client, DONGMING_STREET, read).await.is_empty());

    clock.set(date!(2025 - 08 - 08));
    let listed = overdue(&mut client, PINGSHAN_STREET, read).await;
    assert_eq!(listed[0].days_overdue, 8);
    assert!(listed[0].escalated, "{listed:?}");
    let county = overdue(&mut client, PINGSHAN, read).await;
    assert!(county[0].escalated, "the county's task now: {county:?}");
    host.shutdown().await;
}

/// Waits (30 s at most) until the service recorded `n` `VisitEscalated` events; returns them.
async fn escalations(host: &minzheng_host::testing::TestHost, n: usize) -> Vec<pb::VisitEscalated> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let found: Vec<pb::VisitEscalated> = recorded(host)
            .await
            .into_iter()
            .filter(|e| e.event_type == "minzheng.eldercare.v1.VisitEscalated")
            .map(|e| pb::VisitEscalated::decode(e.payload).expect("protobuf"))
            .collect();
        if found.len() >= n || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The sweep that runs when the service starts (and every 10 minutes) escalates a visit overdue
/// past the delay to the county, once: a restart 5 days overdue escalates nothing, one 9 days
/// overdue records the escalation, and a later restart does not record it again.
#[tokio::test]
async fn the_sweep_at_start_escalates_a_visit_overdue_past_the_delay_once() {
    let (host, mut client, clock) = support::embedded().await;
    let opened = open_plan(&mut client, &born_1950(), 30, FIRST_DAY).await;

    clock.set(date!(2025 - 08 - 05));
    let host = host.stop().await.start().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(count_of(&host, "VisitEscalated").await, 0, "5 days overdue");

    clock.set(date!(2025 - 08 - 09));
    let host = host.stop().await.start().await;
    let escalated = escalations(&host, 1).await;
    assert_eq!(escalated.len(), 1, "9 days overdue");
    let escalation = &escalated[0];
    assert_eq!(escalation.elder_id, opened.elder_id);
    assert_eq!(escalation.due_on, day(date!(2025 - 07 - 31)));
    assert_eq!(escalation.township, support::region(PINGSHAN_STREET));
    assert_eq!(escalation.county, support::region(PINGSHAN));
    assert_eq!(escalation.escalated_on, day(date!(2025 - 08 - 09)));
    let mut client = support::client(&host).await;
    let county = overdue(&mut client, PINGSHAN, None).await;
    assert!(county.len() == 1 && county[0].escalated, "{county:?}");

    clock.set(date!(2025 - 08 - 12));
    let host = host.stop().await.start().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(count_of(&host, "VisitEscalated").await, 1, "escalated once");
    host.shutdown().await;
}

/// A visit on 2 August moves the next one to 1 September: the overdue list empties, the
/// person's plan shows the visit and the new due day, and the list fills again after it.
#[tokio::test]
async fn a_visit_moves_the_due_date() {
    let (host, mut client, clock) = support::embedded().await;
    let person = born_1950();
    let opened = open_plan(&mut client, &person, 30, FIRST_DAY).await;
    clock.set(date!(2025 - 08 - 03));
    assert_eq!(
        overdue(&mut client, PINGSHAN_STREET, after(&opened.result))
            .await
            .len(),
        1
    );

    let visited = client
        .record_visit(with_token(
            pb::RecordVisitRequest {
                metadata: metadata(),
                person: citizen_ref(&person),
                visited_on: day(date!(2025 - 08 - 02)),
                visitor: "平山街道 网格员 017".into(),
                findings: "独居，生活能自理，药品充足".into(),
                follow_up: "联系家属安装烟感报警器".into(),
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect("visited")
        .into_inner();
    assert_eq!(visited.next_due_on, day(date!(2025 - 09 - 01)));
    let read = after(&visited.result);
    assert!(overdue(&mut client, PINGSHAN_STREET, read).await.is_empty());

    let record = elder(&mut client, &person).await;
    let plan = record.visit_plan.expect("a visit plan");
    assert_eq!(plan.next_due_on, day(date!(2025 - 09 - 01)));
    assert_eq!(plan.visits.len(), 1);
    assert_eq!(plan.visits[0].visited_on, day(date!(2025 - 08 - 02)));
    assert_eq!(plan.visits[0].follow_up, "联系家属安装烟感报警器");

    clock.set(date!(2025 - 09 - 02));
    let listed = overdue(&mut client, PINGSHAN_STREET, read).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].due_on, day(date!(2025 - 09 - 01)));
    host.shutdown().await;
}
