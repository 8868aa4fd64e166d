//! Allowance standards and children's allowances: the 6% yearly growth and its override, the
//! allowance from the month of identification through the month of the 18th birthday, adoption.

use minzheng_host::testing::with_token;
use minzheng_proto::childwelfare::v1 as pb;
use time::macros::date;
use tonic::Code;

use crate::support::{
    self, BENXI_CITY, COMMUNITY_A, FIRST_DAY, PINGSHAN, after, boy_2015, citizen_ref, day,
    girl_2007, identify, man_1985, metadata, record_standard, refusal_rule, region, staff,
    standard, woman_1987, yuan,
};

/// A standard below 6% over the version in force a year before is refused without a reason,
/// accepted with one and then flagged in the list and the indicators; one at 6% is not flagged.
#[tokio::test]
async fn a_standard_must_rise_six_percent_a_year_unless_overridden_with_a_reason() {
    let (host, mut client, _clock, _producers) = support::embedded().await;
    record_standard(&mut client, standard(date!(2024 - 01 - 01), 1000, 800, ""))
        .await
        .expect("the first version");
    let met = record_standard(&mut client, standard(date!(2025 - 01 - 01), 1060, 848, ""))
        .await
        .expect("exactly 6% more");
    assert_eq!(met.version, 2);
    assert!(!met.below_growth_target);

    let short = standard(date!(2026 - 01 - 01), 1100, 900, "");
    let refused = record_standard(&mut client, short.clone())
        .await
        .expect_err("1100 is below 1060 × 1.06");
    assert_eq!(refusal_rule(&refused), "below_growth_target");

    let overridden = pb::RecordAllowanceStandardRequest {
        metadata: metadata(),
        override_reason: "财政预算调整，经市政府常务会议同意".to_owned(),
        ..short
    };
    let accepted = record_standard(&mut client, overridden)
        .await
        .expect("accepted with its reason");
    assert_eq!(accepted.version, 3);
    assert!(accepted.below_growth_target);

    let listed = client
        .list_allowance_standards(pb::ListAllowanceStandardsRequest {
            city: region(BENXI_CITY),
            read: after(&accepted.result),
        })
        .await
        .expect("public")
        .into_inner()
        .standards;
    let flags: Vec<(u32, bool, i32)> = listed
        .iter()
        .map(|s| (s.version, s.below_growth_target, s.centralized_growth_bp))
        .collect();
    assert_eq!(flags, [(1, false, 0), (2, false, 600), (3, true, 377)]);
    assert!(listed[2].override_reason.contains("财政预算调整"));

    let indicators = client
        .get_indicators(pb::GetIndicatorsRequest {
            as_of: day(date!(2026 - 02 - 01)),
            read: after(&accepted.result),
        })
        .await
        .expect("public")
        .into_inner();
    let flagged: Vec<u32> = indicators
        .below_growth_target
        .iter()
        .map(|s| s.version)
        .collect();
    assert_eq!(flagged, [3]);
    assert_eq!(indicators.standard_in_force.map(|s| s.version), Some(3));
    host.shutdown().await;
}

async fn monthly(
    client: &mut support::Client,
    child: &str,
    month: time::Date,
) -> pb::AllowanceLine {
    client
        .get_monthly_allowance(with_token(
            pb::GetMonthlyAllowanceRequest {
                child: citizen_ref(child),
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

/// The record of `child` once the write that answered `result` is read.
async fn child_after(
    client: &mut support::Client,
    child: &str,
    result: &Option<minzheng_proto::common::v1::CommandResult>,
) -> pb::GetChildResponse {
    client
        .get_child(with_token(
            pb::GetChildRequest {
                child: citizen_ref(child),
                read: after(result),
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect("read")
        .into_inner()
}

/// A girl identified on 10 July who turns 18 on 20 August is paid the family-care amount for
/// July and August, nothing for June (before) or September (after the month of the birthday).
#[tokio::test]
async fn the_allowance_runs_from_the_month_of_identification_through_the_month_of_the_18th_birthday()
 {
    let (host, mut client, clock, _producers) = support::embedded().await;
    record_standard(&mut client, standard(date!(2025 - 01 - 01), 1650, 1220, ""))
        .await
        .expect("standard");
    let girl = girl_2007();
    identify(&mut client, &girl, date!(2025 - 07 - 01)).await;
    clock.set(date!(2025 - 09 - 15));
    let june = monthly(&mut client, &girl, date!(2025 - 06 - 15)).await;
    assert_eq!(june.amount, yuan(0), "{}", june.explanation);
    let july = monthly(&mut client, &girl, date!(2025 - 07 - 01)).await;
    assert_eq!(july.amount, yuan(1220), "{}", july.explanation);
    assert_eq!(july.care, i32::from(pb::ChildCareSetting::Family));
    let august = monthly(&mut client, &girl, date!(2025 - 08 - 31)).await;
    assert_eq!(august.amount, yuan(1220), "{}", august.explanation);
    assert!(
        august.explanation.contains("turns 18"),
        "{}",
        august.explanation
    );
    let september = monthly(&mut client, &girl, date!(2025 - 09 - 01)).await;
    assert_eq!(september.amount, yuan(0), "{}", september.explanation);
    assert!(
        !september.explanation.contains(&girl),
        "no id number in the explanation"
    );
    host.shutdown().await;
}

fn adoption(
    child: &str,
    adopters: &[(&str, u32)],
    consent: pb::AdoptionChildConsent,
) -> pb::RegisterAdoptionRequest {
    pb::RegisterAdoptionRequest {
        metadata: metadata(),
        child: citizen_ref(child),
        certificate: "辽本收字(2025)第0012号".to_owned(),
        registry: region(PINGSHAN),
        adopters: adopters
            .iter()
            .map(|(adopter, children)| pb::Adopter {
                adopter: citizen_ref(adopter),
                children: *children,
                married: adopters.len() == 2,
                can_raise: true,
                no_disqualifying_illness: true,
                no_criminal_record: true,
            })
            .collect(),
        child_category: pb::AdoptionChildCategory::Orphan.into(),
        child_disabled: false,
        in_welfare_institution: false,
        child_consent: consent.into(),
        registered_on: day(FIRST_DAY),
        relationship: pb::AdoptionRelationship::Unspecified.into(),
        overseas_chinese: false,
        birth_parents_consent: false,
    }
}

/// A married couple of 40 and 38 adopts an orphan of 10 who consents: the adoption is
/// registered with its facts, the child is no longer covered, and the allowance is paid for the
/// month of adoption and not after. Without the child's consent (10 is over 8) or with an
/// adopter under 30 nothing is recorded.
#[tokio::test]
async fn an_adoption_is_registered_with_its_checks_and_stops_the_allowance_after_its_month() {
    let (host, mut client, clock, _producers) = support::embedded().await;
    record_standard(&mut client, standard(date!(2025 - 01 - 01), 1650, 1220, ""))
        .await
        .expect("standard");
    let boy = boy_2015();
    identify(&mut client, &boy, date!(2025 - 06 - 02)).await;

    let (father, mother) = (man_1985(), woman_1987());
    let no_consent = client
        .register_adoption(with_token(
            adoption(
                &boy,
                &[(&father, 0), (&mother, 0)],
                pb::AdoptionChildConsent::Unspecified,
            ),
            &staff(PINGSHAN),
        ))
        .await
        .expect_err("a child of 10 must consent");
    assert_eq!(refusal_rule(&no_consent), "child_consent_required");
    let young = support::person(date!(2000 - 01 - 01), 55);
    let too_young = client
        .register_adoption(with_token(
            adoption(&boy, &[(&young, 0)], pb::AdoptionChildConsent::Given),
            &staff(PINGSHAN),
        ))
        .await
        .expect_err("an adopter of 25");
    assert_eq!(refusal_rule(&too_young), "adopter_under_30");

    let registered = client
        .register_adoption(with_token(
            adoption(
                &boy,
                &[(&father, 0), (&mother, 0)],
                pb::AdoptionChildConsent::Given,
            ),
            &staff(PINGSHAN),
        ))
        .await
        .expect("registered")
        .into_inner();

    clock.set(date!(2025 - 08 - 10));
    let child = child_after(&mut client, &boy, &registered.result).await;
    assert!(!child.covered);
    assert_eq!(child.adopted_on, day(FIRST_DAY));
    assert_eq!(child.adoption_certificate, "辽本收字(2025)第0012号");
    assert_eq!(child.division, region(COMMUNITY_A));
    let july = monthly(&mut client, &boy, date!(2025 - 07 - 01)).await;
    assert_eq!(july.amount, yuan(1220), "{}", july.explanation);
    let august = monthly(&mut client, &boy, date!(2025 - 08 - 01)).await;
    assert_eq!(august.amount, yuan(0), "{}", august.explanation);

    let types = support::recorded_types(&host).await;
    let adopted = types
        .iter()
        .filter(|t| *t == "minzheng.childwelfare.v1.ChildAdopted")
        .count();
    assert_eq!(adopted, 1, "the refused registrations recorded nothing");
    host.shutdown().await;
}

/// Given an unmarried aunt of 35 and her orphaned nephew of 10, when she registers his adoption
/// as a relative's child (Civil Code art. 1099) without an art. 1093 category: the age gap of
/// 25 that refuses it under the general rules does not apply, and the record says why.
#[tokio::test]
async fn a_relatives_child_is_adopted_without_the_age_gap() {
    let (host, mut client, _clock, _producers) = support::embedded().await;
    record_standard(&mut client, standard(date!(2025 - 01 - 01), 1650, 1220, ""))
        .await
        .expect("standard");
    let boy = boy_2015();
    identify(&mut client, &boy, date!(2025 - 06 - 02)).await;
    let aunt = support::person(date!(1990 - 03 - 01), 42);
    let alone = adoption(&boy, &[(&aunt, 0)], pb::AdoptionChildConsent::Given);

    let general = client
        .register_adoption(with_token(alone.clone(), &staff(PINGSHAN)))
        .await
        .expect_err("a gap of 25 under the general rules");
    assert_eq!(refusal_rule(&general), "age_gap_under_40");
    let no_category = client
        .register_adoption(with_token(
            pb::RegisterAdoptionRequest {
                child_category: pb::AdoptionChildCategory::Unspecified.into(),
                ..alone.clone()
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect_err("a category is required of a general adoption");
    assert_eq!(no_category.code(), Code::InvalidArgument);
    assert!(no_category.message().contains("child_category"));

    let registered = client
        .register_adoption(with_token(
            pb::RegisterAdoptionRequest {
                child_category: pb::AdoptionChildCategory::Unspecified.into(),
                relationship: pb::AdoptionRelationship::CollateralRelativesChild.into(),
                ..alone
            },
            &staff(PINGSHAN),
        ))
        .await
        .expect("a relative's child")
        .into_inner();
    let child = child_after(&mut client, &boy, &registered.result).await;
    assert!(!child.covered);
    assert_eq!(child.adopted_on, day(FIRST_DAY));
    host.shutdown().await;
}

/// The allowance standards are recorded by approvers only.
#[tokio::test]
async fn a_caseworker_cannot_record_a_standard() {
    let (host, mut client, _clock, _producers) = support::embedded().await;
    let refused = client
        .record_allowance_standard(with_token(
            standard(date!(2025 - 01 - 01), 1650, 1220, ""),
            &staff(PINGSHAN),
        ))
        .await
        .expect_err("caseworkers do not decide standards");
    assert_eq!(refused.code(), Code::PermissionDenied);
    host.shutdown().await;
}
