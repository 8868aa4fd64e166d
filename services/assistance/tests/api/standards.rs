//! Standards as effective-dated versions through the API (embedded, with both stand-ins): a
//! raised urban dibao standard re-computes only the urban dibao cases of its county, only from
//! its effective day, each amount naming the version it was computed with; a repeat records
//! nothing; the refusals of RecordStandard. And a holiday calendar loaded for a new year moves a
//! deadline.

use minzheng_host::testing::{token, with_token};
use minzheng_kit::auth::Role;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common};
use time::macros::date;

use crate::support::{
    self, BENXI_CITY, Client, DONGMING_STREET, HEXI_STREET, MINGSHAN_MAN, MINGSHAN_WOMAN, OLD_MAN,
    OLD_WOMAN, PINGSHAN, PINGSHAN_STREET, XIHU, XIHU_MAN, XIHU_WOMAN, after, approve_in, approver,
    bad_fields, in_notice, metadata, refusal_rule, yuan,
};

/// The day the notices (posted on [`support::FIRST_DAY`]) are over and the counties decide; the
/// benefits are paid from November 2025.
const DECIDED_ON: time::Date = date!(2025 - 10 - 09);
const NOVEMBER: time::Date = date!(2025 - 11 - 01);
/// The first day of the raised standard.
const DECEMBER: time::Date = date!(2025 - 12 - 01);

async fn record(
    client: &mut Client,
    request: pb::RecordStandardRequest,
) -> Result<pb::RecordStandardResponse, tonic::Status> {
    client
        .record_standard(with_token(request, &approver(PINGSHAN)))
        .await
        .map(tonic::Response::into_inner)
}

/// Case `id`'s benefit for `month`, as `county`'s approver reads it.
async fn explain(
    client: &mut Client,
    id: &str,
    county: &str,
    month: time::Date,
) -> pb::ExplainBenefitResponse {
    client
        .explain_benefit(with_token(
            pb::ExplainBenefitRequest {
                case_id: id.to_owned(),
                month: support::day(month),
                read: None,
            },
            &approver(county),
        ))
        .await
        .expect("explained")
        .into_inner()
}

async fn standards(client: &mut Client, read: Option<common::ReadOptions>) -> Vec<u32> {
    client
        .list_standards(pb::ListStandardsRequest {
            county: support::region(PINGSHAN),
            read,
        })
        .await
        .expect("listed")
        .into_inner()
        .versions
        .iter()
        .map(|v| v.version.as_ref().map_or(0, |v| v.number))
        .collect()
}

fn version_numbers(explained: &pb::ExplainBenefitResponse) -> Vec<u32> {
    explained
        .calculation
        .as_ref()
        .map(|c| c.versions.iter().map(|v| v.number).collect())
        .unwrap_or_default()
}

/// 《社会救助暂行办法》第十条 (the standard 适时调整) and 第十三条 (the benefits follow): the urban dibao
/// standard of 平山区 raised from 2025-12-01 re-computes 平山区's two urban dibao cases from
/// December, not its rural case nor a case of 溪湖区; November keeps the old amount and version.
#[tokio::test]
async fn a_raised_standard_recomputes_the_countys_urban_cases_from_its_first_day() {
    let hosted = support::embedded_verified().await;
    let mut client = hosted.client.clone();
    support::family_earns_630(&hosted.answers);
    hosted.answers.income(OLD_MAN, 50_000);
    hosted.answers.income(XIHU_MAN, 10_000);
    hosted.answers.income(MINGSHAN_MAN, 20_000);
    let mut rural = support::dibao(
        DONGMING_STREET,
        DONGMING_STREET,
        &[XIHU_MAN, XIHU_WOMAN],
        &[],
    );
    rural.area = pb::ResidenceArea::Rural.into();
    let mut pingshan = Vec::new();
    for request in [
        support::family_of_three(),
        support::dibao(PINGSHAN_STREET, PINGSHAN_STREET, &[OLD_MAN, OLD_WOMAN], &[]),
        rural,
    ] {
        pingshan.push(in_notice(&mut client, &hosted.host, request).await);
    }
    let xihu = in_notice(
        &mut client,
        &hosted.host,
        support::dibao(
            HEXI_STREET,
            HEXI_STREET,
            &[MINGSHAN_MAN, MINGSHAN_WOMAN],
            &[],
        ),
    )
    .await;
    hosted.clock.set(DECIDED_ON);
    for id in &pingshan {
        approve_in(&mut client, id, PINGSHAN).await;
    }
    approve_in(&mut client, &xihu, XIHU).await;
    hosted.host.settle().await;
    hosted.clock.set(date!(2025 - 10 - 20));
    let before: Vec<u32> = standards(&mut client, None).await;
    let untouched = [(pingshan[2].as_str(), PINGSHAN), (xihu.as_str(), XIHU)];
    let mut untouched_december = Vec::new();
    for (id, county) in untouched {
        untouched_december.push(explain(&mut client, id, county, DECEMBER).await);
    }

    let request = support::urban_700(DECEMBER);
    let recorded = record(&mut client, request.clone())
        .await
        .expect("recorded");
    assert_eq!(recorded.recalculated_cases, 2, "{recorded:?}");
    let version = recorded.version.clone().expect("the version");
    assert_eq!(version.county, support::region(PINGSHAN));
    let listed = standards(&mut client, after(&recorded.result)).await;
    let expected: Vec<u32> = (1..=version.number).collect();
    assert_eq!(listed, expected, "every version in order");
    assert_eq!(listed.len(), before.len() + 1);

    // November: the old amount and the seed's version 210502/1; December: the new version,
    // 210502/N.
    let family = &pingshan[0];
    let november = explain(&mut client, family, PINGSHAN, NOVEMBER).await;
    assert_eq!(november.amount, yuan(136_500));
    // The urban dibao standard's version, then the benefit mode's (difference, 210502/3).
    assert_eq!(version_numbers(&november), [1, 3]);
    let december = explain(&mut client, family, PINGSHAN, DECEMBER).await;
    assert_eq!(december.amount, yuan(147_000));
    assert_eq!(version_numbers(&december), [version.number, 3]);
    assert_eq!(
        december.calculation.as_ref().map(|c| c.formula.as_str()),
        Some("(700.00 − 210.00) × 3 = 1470.00 元")
    );
    let old = explain(&mut client, &pingshan[1], PINGSHAN, DECEMBER).await;
    assert_eq!(version_numbers(&old), [version.number, 3]);
    for ((id, county), was) in untouched.iter().zip(&untouched_december) {
        let now = explain(&mut client, id, county, DECEMBER).await;
        assert_eq!(&now, was, "case {id} is not re-computed");
    }

    // The same request again: nothing new.
    let repeat = record(&mut client, request).await.expect("a repeat");
    assert_eq!(repeat.recalculated_cases, 0);
    assert_eq!(repeat.version, Some(version));
    assert_eq!(
        repeat.result.as_ref().map(|r| r.position),
        recorded.result.as_ref().map(|r| r.position)
    );
    assert_eq!(standards(&mut client, None).await, listed);
    hosted.host.shutdown().await;
}

/// The service's rules for recording a standard (《社会救助暂行办法》第十条 leaves the adjustment to
/// the city; these are this service's choices, not the regulation's): a monthly standard applies
/// from the first day of a month, and a raised one at most a year before the current month (back
/// pay of a year at most); the standard itself is required.
#[tokio::test]
async fn a_standard_mid_month_back_dated_or_missing_is_refused() {
    let support::Hosted {
        host,
        mut client,
        clock,
        ..
    } = support::embedded().await;
    clock.set(date!(2025 - 10 - 20));
    let mid_month = record(&mut client, support::urban_700(date!(2025 - 12 - 15)))
        .await
        .expect_err("mid-month");
    assert_eq!(refusal_rule(&mid_month), "not_first_of_month");
    let back_dated = record(&mut client, support::urban_700(date!(2024 - 09 - 01)))
        .await
        .expect_err("13 months before the current month");
    assert_eq!(refusal_rule(&back_dated), "back_dated");
    let empty = record(&mut client, pb::RecordStandardRequest::default())
        .await
        .expect_err("nothing given");
    assert!(
        bad_fields(&empty).iter().any(|f| f == "standard"),
        "{empty:?}"
    );
    let versions = standards(&mut client, None).await;
    let seeded: Vec<u32> = (1..=6).collect();
    assert_eq!(versions, seeded, "nothing recorded");
    host.shutdown().await;
}

/// A verification requested on 2026-12-21 is due 10 working days later: 2027-01-04 while 2027's
/// calendar is not loaded (weekends only), 2027-01-05 once a calendar making 2027-01-01 a day
/// off is loaded (国务院办公厅关于2027年部分节假日安排的通知).
#[tokio::test]
async fn a_holiday_calendar_loaded_for_a_new_year_moves_a_deadline() {
    let support::Hosted {
        host,
        mut client,
        clock,
        ..
    } = support::embedded().await;
    clock.set(date!(2026 - 12 - 21));
    let mut request = support::family_of_three();
    for authorization in &mut request.authorizations {
        authorization.signed_on = support::day(date!(2026 - 12 - 14));
        authorization.expires_on = support::day(date!(2027 - 12 - 13));
    }
    let submitted = support::submit(&mut client, request).await;
    let due = |case: &pb::Case| case.pending.as_ref().and_then(|p| p.due_on);
    let case = support::get_case(
        &mut client,
        &submitted.case_id,
        PINGSHAN_STREET,
        after(&submitted.result),
    )
    .await;
    assert_eq!(due(&case), support::day(date!(2027 - 01 - 04)));

    clock.set(date!(2027 - 01 - 05));
    let overdue = |client: &mut Client, read: Option<common::ReadOptions>| {
        let mut client = client.clone();
        async move {
            client
                .list_overdue_steps(with_token(
                    pb::ListOverdueStepsRequest {
                        county: support::region(PINGSHAN),
                        read,
                    },
                    &approver(PINGSHAN),
                ))
                .await
                .expect("listed")
                .into_inner()
        }
    };
    let weekends_only = overdue(&mut client, None).await;
    assert_eq!(weekends_only.steps.len(), 1, "{weekends_only:?}");
    assert!(!weekends_only.calendar_complete);

    let loaded = client
        .load_holiday_calendar(with_token(
            pb::LoadHolidayCalendarRequest {
                metadata: metadata(),
                year: 2027,
                holidays: vec![date!(2027 - 01 - 01).into()],
                working_days: vec![],
                source: "国办发明电〔2026〕9号".to_owned(),
            },
            &token(&[Role::Operator], &[BENXI_CITY]),
        ))
        .await
        .expect("loaded")
        .into_inner();
    let read = after(&loaded.result);
    let with_holiday = overdue(&mut client, read).await;
    assert!(with_holiday.steps.is_empty(), "{with_holiday:?}");
    assert!(with_holiday.calendar_complete);
    let case = support::get_case(&mut client, &submitted.case_id, PINGSHAN_STREET, read).await;
    assert_eq!(due(&case), support::day(date!(2027 - 01 - 05)));
    host.shutdown().await;
}
