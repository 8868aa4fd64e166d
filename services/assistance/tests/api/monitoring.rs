//! Monitoring and early warning (致贫返贫监测预警) over gRPC: a county's monitoring list
//! (困难家庭基本信息数据库), the referrals (主动发现) the data-sharing stand-in's household alerts
//! open through the bus and the caseworkers' actions on them, and the plan's indicators.

use minzheng_host::testing::with_token;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common, datasharing::v1 as datasharing};
use time::macros::date;
use tonic::Code;

use crate::support::{
    self, BENXI_CITY, Client, FIRST_DAY, HEXI_STREET, HUSBAND, OLD_MAN, OLD_WOMAN, PINGSHAN,
    PINGSHAN_STREET, WIFE, XIHU, XIHU_MAN, XIHU_WOMAN, after, approve_in, approver, caseworker,
    decide_in, family_earns_630, family_of_three, in_notice, metadata, refusal_rule, submit, yuan,
};

/// Why the rejections of these tests were decided.
const ABOVE_THE_LINE: &str = "家庭人均收入高于低保标准";

/// The monitoring list of `county` as its approver reads it, after `read`.
async fn monitored(
    client: &mut Client,
    county: &str,
    read: Option<common::ReadOptions>,
) -> pb::ListMonitoredHouseholdsResponse {
    client
        .list_monitored_households(with_token(
            pb::ListMonitoredHouseholdsRequest {
                county: support::region(county),
                read,
            },
            &approver(county),
        ))
        .await
        .expect("the list is read")
        .into_inner()
}

fn reason(listed: &pb::MonitoredHousehold) -> pb::MonitoringReason {
    pb::MonitoringReason::try_from(listed.reason).unwrap_or_default()
}

/// 以县为单位建立困难家庭基本信息数据库: a household rejected although its per-capita income
/// (750.00 元) was above 平山区's standard (665.00 元) and at most k = 1.5 times it (997.50 元)
/// is listed for its county, since the decision; one far above (1,333.33 元) is not; one of
/// 溪湖区 is 溪湖区's alone; and 溪湖区's approver cannot read 平山区's list.
#[tokio::test]
async fn a_household_rejected_just_above_the_line_is_on_its_countys_monitoring_list() {
    let support::Hosted {
        host,
        mut client,
        answers,
        ..
    } = support::embedded_verified().await;
    // 1,500.00 元 for two: 750.00 元 each, in the band above the line.
    answers.income(OLD_MAN, 100_000);
    answers.income(OLD_WOMAN, 50_000);
    // 4,000.00 元 for three: 1,333.33 元 each, above 1.5 × 665.00 元.
    answers.income(HUSBAND, 400_000);
    // 1,500.00 元 for two in 溪湖区.
    answers.income(XIHU_MAN, 150_000);
    let just_above = submit(
        &mut client,
        support::dibao(PINGSHAN_STREET, PINGSHAN_STREET, &[OLD_MAN, OLD_WOMAN], &[]),
    )
    .await;
    let far_above = submit(&mut client, family_of_three()).await;
    let xihu = submit(
        &mut client,
        support::dibao(HEXI_STREET, HEXI_STREET, &[XIHU_MAN, XIHU_WOMAN], &[]),
    )
    .await;
    host.settle().await;
    for (case, county) in [(&just_above, PINGSHAN), (&far_above, PINGSHAN)] {
        decide_in(
            &mut client,
            &case.case_id,
            county,
            pb::Decision::Reject,
            ABOVE_THE_LINE,
        )
        .await
        .expect("rejected");
    }
    let last = decide_in(
        &mut client,
        &xihu.case_id,
        XIHU,
        pb::Decision::Reject,
        ABOVE_THE_LINE,
    )
    .await
    .expect("rejected");

    let pingshan = monitored(&mut client, PINGSHAN, after(&last.result)).await;
    assert_eq!(pingshan.as_of, support::day(FIRST_DAY));
    assert_eq!(pingshan.households.len(), 1, "{pingshan:?}");
    let listed = &pingshan.households[0];
    assert_eq!(reason(listed), pb::MonitoringReason::JustAboveLine);
    assert_eq!(listed.case_id, just_above.case_id);
    assert!(listed.alert_id.is_empty());
    assert_eq!(listed.township, support::region(PINGSHAN_STREET));
    assert_eq!(listed.since, support::day(FIRST_DAY));
    let shown = format!("{pingshan:?}");
    for number in support::EVERY_CITIZEN {
        assert!(!shown.contains(number), "a citizen id in the list");
    }

    let xihu_list = monitored(&mut client, XIHU, after(&last.result)).await;
    let ids: Vec<&str> = xihu_list
        .households
        .iter()
        .map(|h| h.case_id.as_str())
        .collect();
    assert_eq!(ids, [xihu.case_id.as_str()]);
    assert_eq!(
        xihu_list.households[0].township,
        support::region(HEXI_STREET)
    );

    let denied = client
        .list_monitored_households(with_token(
            pb::ListMonitoredHouseholdsRequest {
                county: support::region(PINGSHAN),
                read: None,
            },
            &approver(XIHU),
        ))
        .await
        .expect_err("another county's list");
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    host.shutdown().await;
}

/// The alert the data-sharing stand-in raises in these tests: a household of 平山街道 (HUSBAND,
/// WIFE) lost its main income, raised on 2025-09-30.
fn income_loss(alert_id: &str) -> datasharing::HouseholdAlertRaised {
    datasharing::HouseholdAlertRaised {
        alert_id: alert_id.to_owned(),
        kind: datasharing::AlertKind::IncomeLoss.into(),
        members: vec![
            common::CitizenRef {
                citizen_id: HUSBAND.to_owned(),
            },
            common::CitizenRef {
                citizen_id: WIFE.to_owned(),
            },
        ],
        division: support::region(PINGSHAN_STREET),
        raised_on: support::day(RAISED_ON),
        sources: vec![datasharing::SourceRecord {
            agency: "人社".to_owned(),
            record_id: "RS-UNEMPLOYMENT-0001".to_owned(),
            as_of: support::day(RAISED_ON),
            ..datasharing::SourceRecord::default()
        }],
    }
}

/// The day the alerts are raised: the Tuesday before the National Day holiday.
const RAISED_ON: time::Date = date!(2025 - 09 - 30);
/// Five working days after [`RAISED_ON`]: 09-30 does not count, 10-01 to 10-08 are the holiday,
/// then 10-09, 10-10, the make-up Saturday 10-11, 10-13 and 10-14 (weekends alone would make it
/// 10-07).
const DUE_ON: time::Date = date!(2025 - 10 - 14);

/// 平山街道's referrals as its caseworker reads them, after `read`.
async fn referrals(
    client: &mut Client,
    open_only: bool,
    read: Option<common::ReadOptions>,
) -> Vec<pb::Referral> {
    client
        .list_referrals(with_token(
            pb::ListReferralsRequest {
                county: support::region(PINGSHAN),
                township: support::region(PINGSHAN_STREET),
                open_only,
                page: None,
                read,
            },
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect("the referrals are read")
        .into_inner()
        .referrals
}

fn act(
    alert_id: &str,
    outcome: pb::ReferralOutcome,
    case_id: &str,
    township: &str,
) -> tonic::Request<pb::ActOnReferralRequest> {
    with_token(
        pb::ActOnReferralRequest {
            metadata: metadata(),
            alert_id: alert_id.to_owned(),
            outcome: outcome.into(),
            case_id: case_id.to_owned(),
            note: "入户核查，家庭已提出低保申请".to_owned(),
        },
        &caseworker(township),
    )
}

/// 主动发现: an alert raised by the data-sharing service reaches the service through the bus
/// (JetStream) and opens a referral for 平山街道, due in five working days across the holiday
/// and on the county's monitoring list as an open alert; a caseworker of another township cannot
/// act on it; an application of another household is not its outcome; the household's is, once.
#[tokio::test]
async fn distributed_a_household_alert_opens_a_referral_that_its_township_acts_on_once() {
    let support::Hosted {
        host,
        mut client,
        clock,
        answers,
    } = support::distributed().await;
    clock.set(RAISED_ON);
    answers
        .raise_alert(income_loss("AL-2025-000001"))
        .await
        .expect("the alert raised");
    host.settle().await;
    // The household applies after the alert (a write after it: reads wait for it).
    family_earns_630(&answers);
    let family = submit(&mut client, family_of_three()).await;
    let other = submit(
        &mut client,
        support::dibao(PINGSHAN_STREET, PINGSHAN_STREET, &[OLD_MAN, OLD_WOMAN], &[]),
    )
    .await;

    let open = referrals(&mut client, false, after(&other.result)).await;
    assert_eq!(open.len(), 1, "{open:?}");
    let referral = &open[0];
    assert_eq!(referral.alert_id, "AL-2025-000001");
    assert_eq!(
        pb::ReferralKind::try_from(referral.kind),
        Ok(pb::ReferralKind::IncomeLoss)
    );
    assert_eq!(referral.township, support::region(PINGSHAN_STREET));
    let members: Vec<&str> = referral
        .members
        .iter()
        .map(|m| m.citizen_id.as_str())
        .collect();
    assert_eq!(members, [HUSBAND, WIFE]);
    assert_eq!(referral.raised_on, support::day(RAISED_ON));
    assert_eq!(referral.due_on, support::day(DUE_ON));
    assert!(!referral.overdue);
    assert_eq!(
        pb::ReferralOutcome::try_from(referral.outcome),
        Ok(pb::ReferralOutcome::Unspecified)
    );
    assert!(referral.acted_on.is_none());

    // On the county's list as an open alert, with the household's case.
    let listed = monitored(&mut client, PINGSHAN, after(&other.result)).await;
    let alert = listed
        .households
        .iter()
        .find(|h| h.alert_id == "AL-2025-000001")
        .unwrap_or_else(|| panic!("the open alert is listed: {listed:?}"));
    assert_eq!(reason(alert), pb::MonitoringReason::OpenAlert);
    assert_eq!(alert.case_id, family.case_id);
    assert_eq!(alert.since, support::day(RAISED_ON));

    clock.set(date!(2025 - 10 - 09));
    let outside = client
        .act_on_referral(act(
            "AL-2025-000001",
            pb::ReferralOutcome::ApplicationSubmitted,
            &family.case_id,
            HEXI_STREET,
        ))
        .await
        .expect_err("another township's referral");
    assert_eq!(outside.code(), Code::PermissionDenied, "{outside:?}");
    let unknown = client
        .act_on_referral(act(
            "AL-2025-999999",
            pb::ReferralOutcome::CouldNotReach,
            "",
            PINGSHAN_STREET,
        ))
        .await
        .expect_err("no such referral");
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    let not_theirs = client
        .act_on_referral(act(
            "AL-2025-000001",
            pb::ReferralOutcome::ApplicationSubmitted,
            &other.case_id,
            PINGSHAN_STREET,
        ))
        .await
        .expect_err("another household's case");
    assert_eq!(refusal_rule(&not_theirs), "case_not_of_household");

    let acted = client
        .act_on_referral(act(
            "AL-2025-000001",
            pb::ReferralOutcome::ApplicationSubmitted,
            &family.case_id,
            PINGSHAN_STREET,
        ))
        .await
        .expect("acted on")
        .into_inner();
    let done = referrals(&mut client, false, after(&acted.result)).await;
    assert_eq!(done.len(), 1);
    assert_eq!(
        pb::ReferralOutcome::try_from(done[0].outcome),
        Ok(pb::ReferralOutcome::ApplicationSubmitted)
    );
    assert_eq!(done[0].case_id, family.case_id);
    assert_eq!(done[0].acted_on, support::day(date!(2025 - 10 - 09)));
    assert!(!done[0].overdue);
    assert!(
        referrals(&mut client, true, after(&acted.result))
            .await
            .is_empty()
    );
    let listed = monitored(&mut client, PINGSHAN, after(&acted.result)).await;
    assert!(
        listed.households.iter().all(|h| h.alert_id.is_empty()),
        "an alert acted on is no longer listed: {listed:?}"
    );

    let again = client
        .act_on_referral(act(
            "AL-2025-000001",
            pb::ReferralOutcome::CouldNotReach,
            "",
            PINGSHAN_STREET,
        ))
        .await
        .expect_err("acted on already");
    assert_eq!(refusal_rule(&again), "already_acted_on");
    host.shutdown().await;
}

/// A referral no one acted on is overdue from the day after its due day (not on it), counted
/// among the county's overdue referrals, and no longer once a caseworker acts, late.
#[tokio::test]
async fn distributed_a_referral_not_acted_on_by_its_due_day_is_listed_as_overdue() {
    let support::Hosted {
        host,
        mut client,
        clock,
        answers,
    } = support::distributed().await;
    clock.set(RAISED_ON);
    answers
        .raise_alert(income_loss("AL-2025-000002"))
        .await
        .expect("the alert raised");
    host.settle().await;
    // A write after the alert's referral: reads after it see the referral.
    let later = submit(&mut client, family_of_three()).await;
    let overdue_referrals = |client: &mut Client| {
        let mut client = client.clone();
        let read = after(&later.result);
        async move {
            client
                .get_indicators(with_token(
                    pb::GetIndicatorsRequest {
                        region: support::region(PINGSHAN),
                        as_of: None,
                        read,
                    },
                    &approver(PINGSHAN),
                ))
                .await
                .expect("the indicators")
                .into_inner()
                .total
                .expect("the county's")
                .overdue_referrals
        }
    };

    clock.set(DUE_ON);
    let on_due_day = referrals(&mut client, true, after(&later.result)).await;
    assert_eq!(on_due_day.len(), 1, "{on_due_day:?}");
    assert_eq!(on_due_day[0].due_on, support::day(DUE_ON));
    assert!(!on_due_day[0].overdue, "due today is not overdue yet");
    assert_eq!(overdue_referrals(&mut client).await, 0);

    clock.set(date!(2025 - 10 - 15));
    let past = referrals(&mut client, true, after(&later.result)).await;
    assert_eq!(past.len(), 1);
    assert!(past[0].overdue, "{past:?}");
    assert_eq!(overdue_referrals(&mut client).await, 1);

    let acted = client
        .act_on_referral(act(
            "AL-2025-000002",
            pb::ReferralOutcome::CouldNotReach,
            "",
            PINGSHAN_STREET,
        ))
        .await
        .expect("acted on, late")
        .into_inner();
    let after_acting = referrals(&mut client, false, after(&acted.result)).await;
    assert_eq!(after_acting.len(), 1);
    assert!(!after_acting[0].overdue);
    assert_eq!(
        after_acting[0].acted_on,
        support::day(date!(2025 - 10 - 15))
    );
    assert_eq!(overdue_referrals(&mut client).await, 0);
    host.shutdown().await;
}

/// Embedded (as `minzheng dev` runs), a household alert opens a referral as it does when
/// distributed; the consumer parks nothing. On a host whose consumers park after three quick
/// attempts, so that the failure shows at once.
#[tokio::test]
async fn embedded_a_household_alert_opens_a_referral() {
    let parking = support::QuickParking::start().await;
    let mut client = parking.client.clone();
    parking
        .answers
        .raise_alert(income_loss("AL-2025-000003"))
        .await
        .expect("the alert raised");
    parking.settle().await;
    assert_eq!(parking.parked("assistance-referrals").await, []);
    // A write after the alert's referral: reads after it see the referral.
    let later = submit(&mut client, family_of_three()).await;
    let open = referrals(&mut client, true, after(&later.result)).await;
    let ids: Vec<&str> = open.iter().map(|r| r.alert_id.as_str()).collect();
    assert_eq!(ids, ["AL-2025-000003"]);
    parking.shutdown().await;
}

/// Replenishes `township`'s reserve fund as its county's approver, today.
async fn replenish(client: &mut Client, township: &str, county: &str) -> common::CommandResult {
    client
        .replenish_reserve_fund(with_token(
            pb::ReplenishReserveFundRequest {
                metadata: metadata(),
                township: support::region(township),
                amount: yuan(500_000),
                reference: "本财社〔2025〕8号".to_owned(),
            },
            &approver(county),
        ))
        .await
        .expect("replenished")
        .into_inner()
        .result
        .expect("a result")
}

/// The indicators of `region` on `as_of`, read by an approver of `region` after `read`.
async fn indicators(
    client: &mut Client,
    region: &str,
    as_of: time::Date,
    read: Option<common::ReadOptions>,
) -> pb::GetIndicatorsResponse {
    client
        .get_indicators(with_token(
            pb::GetIndicatorsRequest {
                region: support::region(region),
                as_of: support::day(as_of),
                read,
            },
            &approver(region),
        ))
        .await
        .expect("the indicators")
        .into_inner()
}

/// The dibao recipients of `set`: cases, persons, monthly amount in fen; and whether every other
/// category counted none.
fn dibao(set: &pb::IndicatorSet) -> (u32, u32, i64) {
    let mut dibao = None;
    for coverage in &set.coverage {
        if pb::AssistanceCategory::try_from(coverage.category) == Ok(pb::AssistanceCategory::Dibao)
        {
            dibao = Some((
                coverage.cases,
                coverage.persons,
                coverage.monthly_amount.as_ref().map_or(0, |m| m.fen),
            ));
        } else {
            assert_eq!(coverage.cases, 0, "{coverage:?}");
            assert_eq!(coverage.monthly_amount.as_ref().map_or(0, |m| m.fen), 0);
        }
    }
    dibao.expect("dibao is counted")
}

fn amount(decided: &pb::DecideApplicationResponse) -> i64 {
    decided
        .calculation
        .as_ref()
        .and_then(|c| c.monthly_amount.as_ref())
        .map_or(0, |m| m.fen)
}

/// The plan's indicators as of a day: the dibao recipients and their monthly amounts are the
/// cases approved here, to the fen, from the month they are paid; the reserve-fund share counts
/// the townships whose fund was replenished by the day (平山区: 平山街道 of its 2 townships; the
/// city: 2 of the 10 valid, the merged and split ones gone); the urban/rural ratio is the seed's
/// 665.00 元 a month over 5,400.00 元 a year (450.00 元 a month): 1.478, the plan's 1.48.
#[tokio::test]
async fn the_indicators_count_the_approved_cases_the_funded_townships_and_the_standards() {
    let support::Hosted {
        host,
        mut client,
        clock,
        answers,
    } = support::embedded_verified().await;
    family_earns_630(&answers);
    answers.income(XIHU_MAN, 30_000);
    let family = in_notice(&mut client, &host, family_of_three()).await;
    let old = in_notice(
        &mut client,
        &host,
        support::dibao(PINGSHAN_STREET, PINGSHAN_STREET, &[OLD_MAN, OLD_WOMAN], &[]),
    )
    .await;
    let xihu = in_notice(
        &mut client,
        &host,
        support::dibao(HEXI_STREET, HEXI_STREET, &[XIHU_MAN, XIHU_WOMAN], &[]),
    )
    .await;
    // Submitted but not decided: counts nowhere.
    submit(
        &mut client,
        support::dibao(
            support::DONGMING_STREET,
            support::DONGMING_STREET,
            &[support::MINGSHAN_MAN, support::MINGSHAN_WOMAN],
            &[],
        ),
    )
    .await;
    replenish(&mut client, PINGSHAN_STREET, PINGSHAN).await;
    replenish(&mut client, HEXI_STREET, XIHU).await;

    clock.set(date!(2025 - 10 - 09));
    let family = approve_in(&mut client, &family, PINGSHAN).await;
    assert_eq!(amount(&family), 136_500, "(665.00 − 210.00) × 3");
    let old = approve_in(&mut client, &old, PINGSHAN).await;
    assert_eq!(amount(&old), 133_000, "665.00 × 2, no income");
    let xihu = approve_in(&mut client, &xihu, XIHU).await;
    let read = after(&xihu.result);
    let pingshan_amount = amount(&family) + amount(&old);

    // Paid from November: on 2025-10-31 nothing runs yet.
    let october = indicators(&mut client, PINGSHAN, date!(2025 - 10 - 31), read).await;
    let total = october.total.expect("the county's");
    assert_eq!(dibao(&total), (0, 0, 0));

    let county = indicators(&mut client, PINGSHAN, date!(2025 - 11 - 15), read).await;
    assert_eq!(county.as_of, support::day(date!(2025 - 11 - 15)));
    assert!(county.counties.is_empty(), "a county has no breakdown");
    let total = county.total.expect("the county's");
    assert_eq!(total.region, support::region(PINGSHAN));
    assert_eq!(dibao(&total), (2, 5, pingshan_amount));
    let funds = total.reserve_funds.expect("the reserve funds");
    assert_eq!((funds.with_reserve_fund, funds.townships), (1, 2));
    assert_eq!(
        funds.share,
        Some(pb::Permille {
            permille: 500,
            available: true
        })
    );
    let ratio = total.standard_ratio.expect("the ratio");
    assert_eq!(
        ratio.mean_urban_monthly,
        Some(common::Money { fen: 66_500 })
    );
    assert_eq!(
        ratio.mean_rural_monthly,
        Some(common::Money { fen: 45_000 })
    );
    assert_eq!((ratio.urban_counties, ratio.rural_counties), (1, 1));
    assert_eq!(
        ratio.ratio,
        Some(pb::Permille {
            permille: 1478,
            available: true
        })
    );

    // The day before the funds were replenished, none counts.
    let before = indicators(&mut client, PINGSHAN, date!(2025 - 09 - 21), read).await;
    let funds = before
        .total
        .and_then(|t| t.reserve_funds)
        .expect("the reserve funds");
    assert_eq!((funds.with_reserve_fund, funds.townships), (0, 2));

    let city = indicators(&mut client, BENXI_CITY, date!(2025 - 11 - 15), read).await;
    let total = city.total.expect("the city's");
    assert_eq!(total.region, support::region(BENXI_CITY));
    assert_eq!(dibao(&total), (3, 7, pingshan_amount + amount(&xihu)));
    let funds = total.reserve_funds.expect("the reserve funds");
    assert_eq!((funds.with_reserve_fund, funds.townships), (2, 10));
    assert_eq!(funds.share.map(|s| s.permille), Some(200));
    let ratio = total.standard_ratio.expect("the ratio");
    assert_eq!((ratio.urban_counties, ratio.rural_counties), (6, 6));
    assert_eq!(ratio.ratio.map(|r| r.permille), Some(1478));
    let counties: Vec<&str> = city
        .counties
        .iter()
        .filter_map(|c| c.region.as_ref().map(|r| r.code.as_str()))
        .collect();
    assert_eq!(counties, minzheng_assistance::module::BENXI_COUNTIES);
    let of = |code: &str| {
        city.counties
            .iter()
            .find(|c| c.region == support::region(code))
            .expect("listed")
    };
    assert_eq!(dibao(of(PINGSHAN)), (2, 5, pingshan_amount));
    assert_eq!(dibao(of(XIHU)), (1, 2, amount(&xihu)));
    assert_eq!(dibao(of(support::HUANREN)), (0, 0, 0));

    // A county's approver cannot read the city's figures.
    let denied = client
        .get_indicators(with_token(
            pb::GetIndicatorsRequest {
                region: support::region(BENXI_CITY),
                as_of: None,
                read: None,
            },
            &approver(PINGSHAN),
        ))
        .await
        .expect_err("a county token");
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    host.shutdown().await;
}
