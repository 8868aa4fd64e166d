//! Parsing an application's household and category particulars from a request: every field
//! checked, every violation named by its path (`members[2].citizen.citizen_id`), no value quoted.

use std::collections::{BTreeSet, HashSet};

use minzheng_host::fields::Fields as _;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common, convert};
use minzheng_types::{Fen, Violations, field_path};

use crate::{
    case::{CareArrangement, Hardship, Particulars},
    category::{Area, Category},
    household::{
        Asset, AssetKind, Authorization, DataClass, Household, Income, IncomeKind, Member,
        Relation, SelfCare, WorkCapacity,
    },
    ids::CaseId,
};

/// Most members a household may declare.
pub const MAX_MEMBERS: usize = 20;
/// Most incomes or assets a household may declare.
pub const MAX_ITEMS: usize = 100;
/// Longest name.
pub const NAME_MAX_CHARS: usize = 50;
/// Longest free text of a step (opinion, summary, finding, reason).
pub const TEXT_MAX_CHARS: usize = 500;

/// A required enum value, or a violation listing the allowed names.
fn enumerated<T>(
    violations: &mut Violations,
    field: &str,
    value: i32,
    parse: impl FnOnce(i32) -> Option<T>,
    allowed: &str,
) -> Option<T> {
    let parsed = parse(value);
    if parsed.is_none() {
        violations.push(field, format!("must be one of {allowed}"));
    }
    parsed
}

pub(crate) fn category(violations: &mut Violations, value: i32) -> Option<Category> {
    enumerated(
        violations,
        "category",
        value,
        |v| match pb::AssistanceCategory::try_from(v).ok()? {
            pb::AssistanceCategory::Dibao => Some(Category::Dibao),
            pb::AssistanceCategory::SinglePerson => Some(Category::SinglePerson),
            pb::AssistanceCategory::Tekun => Some(Category::Tekun),
            pb::AssistanceCategory::LowIncome => Some(Category::LowIncome),
            pb::AssistanceCategory::Temporary => Some(Category::Temporary),
            pb::AssistanceCategory::Heating => Some(Category::Heating),
            pb::AssistanceCategory::Unspecified => None,
        },
        "DIBAO, SINGLE_PERSON, TEKUN, LOW_INCOME, TEMPORARY, HEATING",
    )
}

pub(crate) fn area(violations: &mut Violations, value: i32) -> Option<Area> {
    enumerated(
        violations,
        "area",
        value,
        |v| match pb::ResidenceArea::try_from(v).ok()? {
            pb::ResidenceArea::Urban => Some(Area::Urban),
            pb::ResidenceArea::Rural => Some(Area::Rural),
            pb::ResidenceArea::Unspecified => None,
        },
        "URBAN, RURAL",
    )
}

fn relation(v: i32) -> Option<Relation> {
    Some(match pb::Relation::try_from(v).ok()? {
        pb::Relation::Applicant => Relation::Applicant,
        pb::Relation::Spouse => Relation::Spouse,
        pb::Relation::Child => Relation::Child,
        pb::Relation::Parent => Relation::Parent,
        pb::Relation::Grandparent => Relation::Grandparent,
        pb::Relation::Grandchild => Relation::Grandchild,
        pb::Relation::Sibling => Relation::Sibling,
        pb::Relation::Other => Relation::Other,
        pb::Relation::Unspecified => return None,
    })
}

/// An optional assessment: unspecified is `Some(None)`, an unknown value `None`.
fn optional_enum<T>(v: i32, parse: impl FnOnce(i32) -> Option<T>) -> Option<Option<T>> {
    if v == 0 {
        Some(None)
    } else {
        parse(v).map(Some)
    }
}

fn work_capacity(v: i32) -> Option<WorkCapacity> {
    Some(match pb::WorkCapacity::try_from(v).ok()? {
        pb::WorkCapacity::Full => WorkCapacity::Full,
        pb::WorkCapacity::Partial => WorkCapacity::Partial,
        pb::WorkCapacity::None => WorkCapacity::None,
        pb::WorkCapacity::Unspecified => return None,
    })
}

fn self_care(v: i32) -> Option<SelfCare> {
    Some(match pb::SelfCareLevel::try_from(v).ok()? {
        pb::SelfCareLevel::Able => SelfCare::Able,
        pb::SelfCareLevel::PartiallyUnable => SelfCare::PartiallyUnable,
        pb::SelfCareLevel::FullyUnable => SelfCare::FullyUnable,
        pb::SelfCareLevel::Unspecified => return None,
    })
}

fn income_kind(v: i32) -> Option<IncomeKind> {
    Some(match pb::IncomeKind::try_from(v).ok()? {
        pb::IncomeKind::Wages => IncomeKind::Wages,
        pb::IncomeKind::Business => IncomeKind::Business,
        pb::IncomeKind::Property => IncomeKind::Property,
        pb::IncomeKind::Transfer => IncomeKind::Transfer,
        pb::IncomeKind::Pension => IncomeKind::Pension,
        pb::IncomeKind::Other => IncomeKind::Other,
        pb::IncomeKind::Unspecified => return None,
    })
}

fn asset_kind(v: i32) -> Option<AssetKind> {
    Some(match pb::AssetKind::try_from(v).ok()? {
        pb::AssetKind::Deposits => AssetKind::Deposits,
        pb::AssetKind::Securities => AssetKind::Securities,
        pb::AssetKind::Vehicle => AssetKind::Vehicle,
        pb::AssetKind::RealEstate => AssetKind::RealEstate,
        pb::AssetKind::Business => AssetKind::Business,
        pb::AssetKind::Other => AssetKind::Other,
        pb::AssetKind::Unspecified => return None,
    })
}

fn data_class(v: i32) -> Option<DataClass> {
    Some(match pb::DataClass::try_from(v).ok()? {
        pb::DataClass::Income => DataClass::Income,
        pb::DataClass::BankDeposits => DataClass::BankDeposits,
        pb::DataClass::RealEstate => DataClass::RealEstate,
        pb::DataClass::Vehicles => DataClass::Vehicles,
        pb::DataClass::BusinessRegistration => DataClass::BusinessRegistration,
        pb::DataClass::Tax => DataClass::Tax,
        pb::DataClass::SocialInsurance => DataClass::SocialInsurance,
        pb::DataClass::HousingFund => DataClass::HousingFund,
        pb::DataClass::Securities => DataClass::Securities,
        pb::DataClass::Unspecified => return None,
    })
}

/// A required amount, not negative.
pub(crate) fn money(
    violations: &mut Violations,
    field: &str,
    value: &Option<common::Money>,
) -> Option<Fen> {
    violations.record(convert::money_non_negative(field, value))
}

fn member(violations: &mut Violations, at: &str, m: &pb::HouseholdMember) -> Option<Member> {
    let citizen = violations.citizen(&field_path(at, "citizen"), &m.citizen);
    let name = violations.text(&field_path(at, "name"), &m.name, NAME_MAX_CHARS);
    let relation = enumerated(
        violations,
        &field_path(at, "relation"),
        m.relation,
        relation,
        "APPLICANT, SPOUSE, CHILD, PARENT, GRANDPARENT, GRANDCHILD, SIBLING, OTHER",
    );
    let work = enumerated(
        violations,
        &field_path(at, "work_capacity"),
        m.work_capacity,
        |v| optional_enum(v, work_capacity),
        "FULL, PARTIAL, NONE (or unspecified)",
    );
    let care = enumerated(
        violations,
        &field_path(at, "self_care"),
        m.self_care,
        |v| optional_enum(v, self_care),
        "ABLE, PARTIALLY_UNABLE, FULLY_UNABLE (or unspecified)",
    );
    Some(Member {
        citizen: citizen?,
        name: name?,
        relation: relation?,
        seriously_ill: m.seriously_ill,
        severely_disabled: m.severely_disabled,
        work_capacity: work?,
        self_care: care?,
    })
}

/// Parses `items` with `parse`, each at `field[i]`, refusing more than `max`.
fn each<T, P>(
    violations: &mut Violations,
    field: &str,
    items: &[P],
    max: usize,
    mut parse: impl FnMut(&mut Violations, &str, &P) -> Option<T>,
) -> Option<Vec<T>> {
    if items.len() > max {
        violations.push(field, format!("must have at most {max} entries"));
        return None;
    }
    let mut parsed = Vec::with_capacity(items.len());
    let mut complete = true;
    for (i, item) in items.iter().enumerate() {
        match parse(violations, &format!("{field}[{i}]"), item) {
            Some(value) => parsed.push(value),
            None => complete = false,
        }
    }
    complete.then_some(parsed)
}

/// The household of a request: members (each once, the applicant among them), incomes and
/// assets of members, authorizations signed by members.
pub(crate) fn household(
    violations: &mut Violations,
    body: &pb::SubmitApplicationRequest,
) -> Option<Household> {
    let applicant = violations.citizen("applicant", &body.applicant);
    if body.members.is_empty() {
        violations.push("members", "must name at least the applicant");
    }
    let members = each(violations, "members", &body.members, MAX_MEMBERS, member)?;
    let mut seen = HashSet::new();
    for (i, m) in members.iter().enumerate() {
        if !seen.insert(m.citizen.clone()) {
            violations.push(
                format!("members[{i}].citizen"),
                "names a member already listed",
            );
        }
    }
    if let Some(applicant) = &applicant
        && !seen.contains(applicant)
    {
        violations.push("applicant", "must be one of the members");
    }
    let member_ref = |violations: &mut Violations, field: &str, c: &Option<common::CitizenRef>| {
        let citizen = violations.citizen(field, c)?;
        if seen.contains(&citizen) {
            Some(citizen)
        } else {
            violations.push(field, "must be one of the members");
            None
        }
    };
    let incomes = each(
        violations,
        "incomes",
        &body.incomes,
        MAX_ITEMS,
        |v, at, i: &pb::DeclaredIncome| {
            let member = member_ref(v, &field_path(at, "member"), &i.member);
            let kind = enumerated(
                v,
                &field_path(at, "kind"),
                i.kind,
                income_kind,
                "WAGES, BUSINESS, PROPERTY, TRANSFER, PENSION, OTHER",
            );
            let monthly = money(v, &field_path(at, "monthly"), &i.monthly);
            Some(Income {
                member: member?,
                kind: kind?,
                monthly: monthly?,
            })
        },
    );
    let assets = each(
        violations,
        "assets",
        &body.assets,
        MAX_ITEMS,
        |v, at, a: &pb::DeclaredAsset| {
            let owner = member_ref(v, &field_path(at, "owner"), &a.owner);
            let kind = enumerated(
                v,
                &field_path(at, "kind"),
                a.kind,
                asset_kind,
                "DEPOSITS, SECURITIES, VEHICLE, REAL_ESTATE, BUSINESS, OTHER",
            );
            let value = money(v, &field_path(at, "value"), &a.value);
            Some(Asset {
                owner: owner?,
                kind: kind?,
                value: value?,
            })
        },
    );
    let authorizations = each(
        violations,
        "authorizations",
        &body.authorizations,
        MAX_MEMBERS,
        |v, at, a: &pb::Authorization| {
            let signed_by = member_ref(v, &field_path(at, "signed_by"), &a.signed_by);
            let signed_on = v.date(&field_path(at, "signed_on"), &a.signed_on);
            let expires_on = v.date(&field_path(at, "expires_on"), &a.expires_on);
            let mut classes = BTreeSet::new();
            let mut known = true;
            for (j, c) in a.data_classes.iter().enumerate() {
                match data_class(*c) {
                    Some(class) => {
                        classes.insert(class);
                    }
                    None => {
                        known = false;
                        v.push(
                            format!("{}[{j}]", field_path(at, "data_classes")),
                            "is not a known data class",
                        );
                    }
                }
            }
            if let (Some(from), Some(to)) = (signed_on, expires_on)
                && to < from
            {
                v.push(field_path(at, "expires_on"), "must not be before signed_on");
            }
            known.then_some(())?;
            Some(Authorization {
                signed_by: signed_by?,
                signed_on: signed_on?,
                data_classes: classes,
                expires_on: expires_on?,
            })
        },
    );
    Some(Household {
        applicant: applicant?,
        members,
        incomes: incomes?,
        assets: assets?,
        authorizations: authorizations?,
    })
}

/// What the category needs beyond the household.
pub(crate) fn particulars(
    violations: &mut Violations,
    category: Option<Category>,
    body: &pb::SubmitApplicationRequest,
    household: Option<&Household>,
) -> Option<Particulars> {
    match category? {
        Category::Dibao | Category::LowIncome => Some(Particulars::None),
        Category::SinglePerson => {
            let covered = violations.citizen("covered_member", &body.covered_member)?;
            if household.is_some_and(|h| h.member(&covered).is_none()) {
                violations.push("covered_member", "must be one of the members");
                return None;
            }
            Some(Particulars::SinglePerson { covered })
        }
        Category::Tekun => {
            let care = enumerated(
                violations,
                "care_arrangement",
                body.care_arrangement,
                |v| match pb::CareArrangement::try_from(v).ok()? {
                    pb::CareArrangement::AtHome => Some(CareArrangement::AtHome),
                    pb::CareArrangement::Institution => Some(CareArrangement::Institution),
                    pb::CareArrangement::Unspecified => None,
                },
                "AT_HOME, INSTITUTION",
            );
            let reason = if body.care_at_home_reason.trim().is_empty() {
                Some(None)
            } else {
                violations
                    .text(
                        "care_at_home_reason",
                        &body.care_at_home_reason,
                        TEXT_MAX_CHARS,
                    )
                    .map(Some)
            };
            Some(Particulars::Tekun {
                care: care?,
                has_able_supporter: body.has_able_supporter,
                care_at_home_reason: reason?,
            })
        }
        Category::Temporary => {
            let hardship = enumerated(
                violations,
                "hardship",
                body.hardship,
                |v| match pb::Hardship::try_from(v).ok()? {
                    pb::Hardship::Accident => Some(Hardship::Accident),
                    pb::Hardship::Illness => Some(Hardship::Illness),
                    pb::Hardship::Disaster => Some(Hardship::Disaster),
                    pb::Hardship::Spending => Some(Hardship::Spending),
                    pb::Hardship::Other => Some(Hardship::Other),
                    pb::Hardship::Unspecified => None,
                },
                "ACCIDENT, ILLNESS, DISASTER, SPENDING, OTHER",
            );
            let requested = money(violations, "requested_amount", &body.requested_amount);
            if requested.is_some_and(|r| r.fen() == 0) {
                violations.push("requested_amount.fen", "must be more than zero");
                return None;
            }
            Some(Particulars::Temporary {
                hardship: hardship?,
                requested: requested?,
            })
        }
        Category::Heating => {
            let related = violations.id("related_case_id", &body.related_case_id, CaseId::parse);
            if !(2000..=2100).contains(&body.winter) {
                violations.push("winter", "must be the year the winter starts, e.g. 2026");
                return None;
            }
            Some(Particulars::Heating {
                winter: body.winter,
                related_case: related?,
            })
        }
    }
}
