//! The household economic-status verification (家庭经济状况核对, 民发〔2021〕57号): from the
//! agencies' records about a household's members, its monthly income and assets, measured
//! against the county's dibao standard and low-income line, with what a caseworker must look at
//! flagged — every figure naming the record it came from and that record's age, and every source
//! that was stale or never loaded named rather than guessed.
//!
//! A pure function of what it is given ([`Inputs`]): the same records, standards and thresholds
//! give the same [`Report`], which is what makes a report reproducible "as known" at its time.
//!
//! The rules:
//! - A record counts on the day verified if it is the latest (by `as_of`, then by when it was
//!   learnt) of its agency's reference dated on or before that day, and it has not ended.
//! - Income per month: wages and pensions as sent; income declared for tax (a yearly figure ÷ 12,
//!   halves up) only for a member with no wages record, so that wages are not counted twice.
//! - Assets: deposits, securities, vehicles and properties, each at its recorded value.
//! - Flags, by the county's thresholds in force on the day: more properties than allowed, a
//!   vehicle above the value limit, deposits and securities per person above so many months of
//!   the dibao standard, a registered business (above a capital limit, if one is set); and, with
//!   no threshold needed, a housing-fund contribution without a wages record (employment the
//!   household may not have declared). Without thresholds the threshold flags are listed as
//!   unchecked.
//! - Per-capita income: the total ÷ the members, halves up to the fen.

use std::collections::BTreeMap;

use minzheng_types::{CitizenId, Fen, RegionCode, Rounding};
use time::Date;

use crate::{
    knowledge::Knowledge,
    records::{Agency, AgencyRecord, DataClass, RecordKind},
    store::Kept,
    thresholds::Thresholds,
};

/// An agency's data older than this many days is stale when the county has no thresholds.
pub const DEFAULT_MAX_SOURCE_AGE_DAYS: u32 = 90;

/// Urban or rural (城市/农村), for the standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Area {
    Urban,
    Rural,
}

/// A version of one of the assistance service's standards: the county's policy stream and its
/// ordinal there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandardVersion {
    pub county: RegionCode,
    pub number: u32,
}

/// The lines a household's income is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncomeLines {
    pub dibao_version: StandardVersion,
    /// Per person per month.
    pub dibao_monthly: Fen,
    /// The low-income multiplier's version and the line it makes (k × the standard).
    pub low_income: Option<(StandardVersion, Fen)>,
}

/// Where a per-capita income stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Unknown,
    AtOrBelowDibao,
    LowIncome,
    AboveLowIncome,
}

/// What a verification works from.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    pub members: &'a [CitizenId],
    pub county: RegionCode,
    pub area: Option<Area>,
    pub verify_on: Date,
    pub knowledge: Knowledge,
    /// Every record about the members known at `knowledge`.
    pub records: &'a [Kept],
    /// Per agency, the newest `as_of` it ever sent, known at `knowledge`.
    pub latest_extracts: &'a BTreeMap<Agency, Date>,
    pub lines: Option<IncomeLines>,
    /// The county's thresholds in force on `verify_on`, with their version number.
    pub thresholds: Option<(u32, &'a Thresholds)>,
}

/// Where a figure comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub agency: Agency,
    pub reference: String,
    pub as_of: Date,
    pub age_days: u32,
    pub known_version: u64,
}

/// One income or asset found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub member: CitizenId,
    pub kind: RecordKind,
    /// Per month for an income; the value for an asset.
    pub amount: Fen,
    pub source: Source,
}

/// Something a caseworker must look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// A code, e.g. `VEHICLE_ABOVE_LIMIT`, or `SOURCE_MISSING:banks`.
    pub code: String,
    pub member: Option<CitizenId>,
    pub source: Option<Source>,
}

/// Fresh, stale or missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    Fresh,
    Stale,
    Missing,
}

/// One agency's data as the verification found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceStatus {
    pub agency: Agency,
    pub state: SourceState,
    pub latest_as_of: Option<Date>,
    pub age_days: u32,
}

/// A verification's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub members: Vec<CitizenId>,
    pub county: RegionCode,
    pub area: Option<Area>,
    pub verified_on: Date,
    pub knowledge: Knowledge,
    pub incomes: Vec<Item>,
    pub assets: Vec<Item>,
    pub flags: Vec<Flag>,
    pub total_monthly_income: Fen,
    pub per_capita_monthly_income: Fen,
    pub lines: Option<IncomeLines>,
    pub position: Position,
    /// The thresholds' version number in the county's stream.
    pub thresholds: Option<u32>,
    pub sources: Vec<SourceStatus>,
    pub unchecked: Vec<&'static str>,
}

/// Flags that need the county's thresholds.
pub const THRESHOLD_FLAGS: [&str; 4] = [
    REAL_ESTATE_ABOVE_LIMIT,
    VEHICLE_ABOVE_LIMIT,
    FINANCIAL_ASSETS_ABOVE_LIMIT,
    BUSINESS_REGISTERED,
];
pub const REAL_ESTATE_ABOVE_LIMIT: &str = "REAL_ESTATE_ABOVE_LIMIT";
pub const VEHICLE_ABOVE_LIMIT: &str = "VEHICLE_ABOVE_LIMIT";
pub const FINANCIAL_ASSETS_ABOVE_LIMIT: &str = "FINANCIAL_ASSETS_ABOVE_LIMIT";
pub const BUSINESS_REGISTERED: &str = "BUSINESS_REGISTERED";
pub const HOUSING_FUND_WITHOUT_WAGES: &str = "HOUSING_FUND_WITHOUT_WAGES";
/// An agency whose data the verification reads sent nothing ever (`SOURCE_MISSING:<agency>`).
pub const SOURCE_MISSING: &str = "SOURCE_MISSING";
/// An agency's newest data is older than allowed (`SOURCE_STALE:<agency>`).
pub const SOURCE_STALE: &str = "SOURCE_STALE";

/// Whole days from `from` to `to`, 0 when `to` is earlier.
fn days_between(from: Date, to: Date) -> u32 {
    u32::try_from((to - from).whole_days()).unwrap_or(0)
}

/// The records that count on `day`: per agency and reference, the latest dated on or before it
/// (by `as_of`, then by knowledge), unless that one ended.
pub fn current_records(records: &[Kept], day: Date) -> Vec<&Kept> {
    let mut latest: BTreeMap<(Agency, &str), &Kept> = BTreeMap::new();
    for kept in records.iter().filter(|k| k.record.as_of <= day) {
        let key = (kept.agency, kept.record.reference.as_str());
        match latest.get(&key) {
            Some(held)
                if (held.record.as_of, held.known_version)
                    >= (kept.record.as_of, kept.known_version) => {}
            _ => {
                latest.insert(key, kept);
            }
        }
    }
    latest.into_values().filter(|k| !k.record.ended).collect()
}

/// Verifies; see the [module documentation](self).
pub fn verify(inputs: &Inputs<'_>) -> Report {
    let day = inputs.verify_on;
    let source = |kept: &Kept| Source {
        agency: kept.agency,
        reference: kept.record.reference.as_str().to_owned(),
        as_of: kept.record.as_of,
        age_days: days_between(kept.record.as_of, day),
        known_version: kept.known_version,
    };
    let item = |kept: &Kept, amount: Fen| Item {
        member: kept.record.citizen.clone(),
        kind: kept.record.kind,
        amount,
        source: source(kept),
    };
    let member_order = |citizen: &CitizenId| {
        inputs
            .members
            .iter()
            .position(|m| m == citizen)
            .unwrap_or(usize::MAX)
    };
    let mut current: Vec<&Kept> = current_records(inputs.records, day)
        .into_iter()
        .filter(|k| inputs.members.contains(&k.record.citizen))
        .collect();
    current.sort_by(|a, b| {
        (
            member_order(&a.record.citizen),
            a.record.kind,
            a.agency,
            &a.record.reference,
        )
            .cmp(&(
                member_order(&b.record.citizen),
                b.record.kind,
                b.agency,
                &b.record.reference,
            ))
    });
    let has_wages = |citizen: &CitizenId| {
        current
            .iter()
            .any(|k| k.record.kind == RecordKind::Wages && k.record.citizen == *citizen)
    };

    let mut incomes = Vec::new();
    let mut assets = Vec::new();
    let mut flags = Vec::new();
    for kept in &current {
        let record: &AgencyRecord = &kept.record;
        match record.kind {
            RecordKind::Wages | RecordKind::Pension => incomes.push(item(kept, record.amount)),
            RecordKind::TaxedIncome if !has_wages(&record.citizen) => {
                let monthly = record
                    .amount
                    .checked_div(12, Rounding::HalfAwayFromZero)
                    .unwrap_or(Fen::ZERO);
                incomes.push(item(kept, monthly));
            }
            RecordKind::Deposits
            | RecordKind::Securities
            | RecordKind::Vehicle
            | RecordKind::RealEstate => assets.push(item(kept, record.amount)),
            RecordKind::HousingFund if !has_wages(&record.citizen) => flags.push(Flag {
                code: HOUSING_FUND_WITHOUT_WAGES.to_owned(),
                member: Some(record.citizen.clone()),
                source: Some(source(kept)),
            }),
            _ => {}
        }
    }

    let size = i64::try_from(inputs.members.len().max(1)).unwrap_or(i64::MAX);
    let total = Fen::checked_sum(incomes.iter().map(|i| i.amount)).unwrap_or(Fen::new(i64::MAX));
    let per_capita = total
        .checked_div(size, Rounding::HalfAwayFromZero)
        .unwrap_or(Fen::ZERO);

    let mut unchecked = Vec::new();
    match inputs.thresholds {
        Some((_, thresholds)) => threshold_flags(
            thresholds,
            &current,
            &assets,
            size,
            inputs.lines,
            &source,
            &mut flags,
            &mut unchecked,
        ),
        None => unchecked.extend(THRESHOLD_FLAGS),
    }
    flags.sort_by_key(|f| {
        (
            THRESHOLD_FLAGS
                .iter()
                .position(|c| *c == f.code)
                .unwrap_or(THRESHOLD_FLAGS.len()),
            f.member.as_ref().map(member_order),
        )
    });

    let position = match inputs.lines {
        None => Position::Unknown,
        Some(lines) if per_capita <= lines.dibao_monthly => Position::AtOrBelowDibao,
        Some(IncomeLines {
            low_income: Some((_, line)),
            ..
        }) if per_capita <= line => Position::LowIncome,
        Some(IncomeLines {
            low_income: Some(_),
            ..
        }) => Position::AboveLowIncome,
        // Above the standard, with no low-income line in force to place it further.
        Some(_) => Position::Unknown,
    };

    let max_age = inputs
        .thresholds
        .map_or(DEFAULT_MAX_SOURCE_AGE_DAYS, |(_, t)| t.max_source_age_days);
    let mut agencies: Vec<Agency> = DataClass::ECONOMIC
        .into_iter()
        .flat_map(DataClass::agencies)
        .collect();
    agencies.sort();
    agencies.dedup();
    let sources = agencies
        .into_iter()
        .map(|agency| match inputs.latest_extracts.get(&agency) {
            None => SourceStatus {
                agency,
                state: SourceState::Missing,
                latest_as_of: None,
                age_days: 0,
            },
            Some(&latest) => {
                let age_days = days_between(latest, day);
                SourceStatus {
                    agency,
                    state: if age_days > max_age {
                        SourceState::Stale
                    } else {
                        SourceState::Fresh
                    },
                    latest_as_of: Some(latest),
                    age_days,
                }
            }
        })
        .collect::<Vec<SourceStatus>>();
    // What was not verified is flagged, so the case that reads only the flags knows it.
    for status in &sources {
        let code = match status.state {
            SourceState::Fresh => continue,
            SourceState::Stale => SOURCE_STALE,
            SourceState::Missing => SOURCE_MISSING,
        };
        flags.push(Flag {
            code: format!("{code}:{}", status.agency.code()),
            member: None,
            source: None,
        });
    }

    Report {
        members: inputs.members.to_vec(),
        county: inputs.county,
        area: inputs.area,
        verified_on: day,
        knowledge: inputs.knowledge,
        incomes,
        assets,
        flags,
        total_monthly_income: total,
        per_capita_monthly_income: per_capita,
        lines: inputs.lines,
        position,
        thresholds: inputs.thresholds.map(|(number, _)| number),
        sources,
        unchecked,
    }
}

/// The flags the county's thresholds decide.
#[allow(clippy::too_many_arguments)]
fn threshold_flags(
    thresholds: &Thresholds,
    current: &[&Kept],
    assets: &[Item],
    size: i64,
    lines: Option<IncomeLines>,
    source: &dyn Fn(&Kept) -> Source,
    flags: &mut Vec<Flag>,
    unchecked: &mut Vec<&'static str>,
) {
    let properties: Vec<&&Kept> = current
        .iter()
        .filter(|k| k.record.kind == RecordKind::RealEstate)
        .collect();
    if properties.len() > thresholds.max_properties as usize {
        flags.extend(properties.iter().map(|k| Flag {
            code: REAL_ESTATE_ABOVE_LIMIT.to_owned(),
            member: Some(k.record.citizen.clone()),
            source: Some(source(k)),
        }));
    }
    for kept in current.iter().filter(|k| {
        k.record.kind == RecordKind::Vehicle && k.record.amount > thresholds.vehicle_value_limit
    }) {
        flags.push(Flag {
            code: VEHICLE_ABOVE_LIMIT.to_owned(),
            member: Some(kept.record.citizen.clone()),
            source: Some(source(kept)),
        });
    }
    for kept in current.iter().filter(|k| {
        k.record.kind == RecordKind::Business
            && (thresholds.business_capital_limit == Fen::ZERO
                || k.record.amount > thresholds.business_capital_limit)
    }) {
        flags.push(Flag {
            code: BUSINESS_REGISTERED.to_owned(),
            member: Some(kept.record.citizen.clone()),
            source: Some(source(kept)),
        });
    }
    match lines {
        Some(lines) => {
            let financial = Fen::checked_sum(
                assets
                    .iter()
                    .filter(|a| matches!(a.kind, RecordKind::Deposits | RecordKind::Securities))
                    .map(|a| a.amount),
            )
            .unwrap_or(Fen::new(i64::MAX));
            let limit = lines
                .dibao_monthly
                .checked_mul(i64::from(thresholds.financial_assets_limit_months))
                .and_then(|per_person| per_person.checked_mul(size))
                .unwrap_or(Fen::new(i64::MAX));
            if financial > limit {
                flags.push(Flag {
                    code: FINANCIAL_ASSETS_ABOVE_LIMIT.to_owned(),
                    member: None,
                    source: None,
                });
            }
        }
        None => unchecked.push(FINANCIAL_ASSETS_ABOVE_LIMIT),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::records::{RawRecord, check_record};

    const HEAD: &str = "210502195803120025";
    const SPOUSE: &str = "210502198207050028";
    const CHILD: &str = "210502201006010040";
    const DAY: Date = date!(2026 - 04 - 10);

    fn county() -> RegionCode {
        RegionCode::parse("210502000000").expect("valid")
    }

    fn citizen(id: &str) -> CitizenId {
        CitizenId::parse(id).expect("valid")
    }

    fn kept(
        reference: &str,
        kind: RecordKind,
        who: &str,
        as_of: Date,
        fen: i64,
        version: u64,
    ) -> Kept {
        Kept {
            agency: kind.agency(),
            record: check_record(
                kind.agency(),
                &RawRecord {
                    reference: reference.into(),
                    kind: Some(kind),
                    citizen: who.into(),
                    as_of: Some(as_of),
                    amount_fen: fen,
                    ..RawRecord::default()
                },
            )
            .expect("valid"),
            known_version: version,
        }
    }

    fn ended(mut k: Kept) -> Kept {
        k.record.ended = true;
        k
    }

    /// Urban 665 元, k = 1.5 (997.50 元).
    fn lines() -> IncomeLines {
        let version = |number| StandardVersion {
            county: county(),
            number,
        };
        IncomeLines {
            dibao_version: version(1),
            dibao_monthly: Fen::new(66_500),
            low_income: Some((version(4), Fen::new(99_750))),
        }
    }

    fn every_agency_fresh() -> BTreeMap<Agency, Date> {
        Agency::ALL
            .into_iter()
            .map(|a| (a, date!(2026 - 03 - 31)))
            .collect()
    }

    fn report(members: &[&str], records: &[Kept], thresholds: Option<&Thresholds>) -> Report {
        let members: Vec<CitizenId> = members.iter().map(|m| citizen(m)).collect();
        let extracts = every_agency_fresh();
        verify(&Inputs {
            members: &members,
            county: county(),
            area: Some(Area::Urban),
            verify_on: DAY,
            knowledge: Knowledge::NOTHING,
            records,
            latest_extracts: &extracts,
            lines: Some(lines()),
            thresholds: thresholds.map(|t| (1, t)),
        })
    }

    fn defaults() -> Thresholds {
        crate::thresholds::development_defaults()
    }

    fn codes(report: &Report) -> Vec<&str> {
        report.flags.iter().map(|f| f.code.as_str()).collect()
    }

    /// 民发〔2021〕57号: the household's income is that of every member living together; per
    /// capita, the total over the members.
    #[test]
    fn per_capita_income_is_the_total_over_the_members_halves_up() {
        let records = [
            kept(
                "W-1",
                RecordKind::Wages,
                HEAD,
                date!(2026 - 03 - 31),
                100_000,
                1,
            ),
            kept(
                "P-1",
                RecordKind::Pension,
                SPOUSE,
                date!(2026 - 03 - 31),
                50_001,
                1,
            ),
        ];
        let report = report(&[HEAD, SPOUSE, CHILD], &records, Some(&defaults()));
        assert_eq!(report.total_monthly_income, Fen::new(150_001));
        // 150,001 ÷ 3 = 50,000.33… → 50,000.
        assert_eq!(report.per_capita_monthly_income, Fen::new(50_000));
        assert_eq!(report.position, Position::AtOrBelowDibao);
        assert_eq!(report.incomes.len(), 2);
        assert_eq!(
            report.incomes[0].member,
            citizen(HEAD),
            "in the members' order"
        );
        assert_eq!(report.incomes[0].source.age_days, 10);
    }

    #[test]
    fn a_later_record_of_the_same_reference_supersedes_and_an_ended_one_counts_for_nothing() {
        let records = [
            kept(
                "W-1",
                RecordKind::Wages,
                HEAD,
                date!(2026 - 01 - 31),
                100_000,
                1,
            ),
            kept(
                "W-1",
                RecordKind::Wages,
                HEAD,
                date!(2026 - 03 - 31),
                120_000,
                2,
            ),
            // Dated after the day verified: not yet true then.
            kept(
                "W-1",
                RecordKind::Wages,
                HEAD,
                date!(2026 - 04 - 30),
                130_000,
                3,
            ),
            kept(
                "W-2",
                RecordKind::Wages,
                HEAD,
                date!(2026 - 01 - 31),
                40_000,
                1,
            ),
            ended(kept(
                "W-2",
                RecordKind::Wages,
                HEAD,
                date!(2026 - 02 - 28),
                40_000,
                2,
            )),
        ];
        let report = report(&[HEAD], &records, Some(&defaults()));
        assert_eq!(report.total_monthly_income, Fen::new(120_000));
        assert_eq!(report.incomes[0].source.known_version, 2);
    }

    #[test]
    fn a_correction_learnt_later_supersedes_a_record_of_the_same_day() {
        let records = [
            kept(
                "W-1",
                RecordKind::Wages,
                HEAD,
                date!(2026 - 03 - 31),
                120_000,
                5,
            ),
            kept(
                "W-1",
                RecordKind::Wages,
                HEAD,
                date!(2026 - 03 - 31),
                110_000,
                7,
            ),
        ];
        assert_eq!(
            report(&[HEAD], &records, None).total_monthly_income,
            Fen::new(110_000)
        );
    }

    /// Taxed income is yearly and overlaps wages: counted (÷ 12, halves up) only for a member
    /// without a wages record.
    #[test]
    fn taxed_income_counts_only_without_wages() {
        let records = [
            kept(
                "T-1",
                RecordKind::TaxedIncome,
                HEAD,
                date!(2025 - 12 - 31),
                1_200_006,
                1,
            ),
            kept(
                "W-1",
                RecordKind::Wages,
                SPOUSE,
                date!(2026 - 03 - 31),
                100_000,
                1,
            ),
            kept(
                "T-2",
                RecordKind::TaxedIncome,
                SPOUSE,
                date!(2025 - 12 - 31),
                1_200_000,
                1,
            ),
        ];
        let report = report(&[HEAD, SPOUSE], &records, None);
        let incomes: Vec<(RecordKind, Fen)> =
            report.incomes.iter().map(|i| (i.kind, i.amount)).collect();
        assert_eq!(
            incomes,
            [
                (RecordKind::TaxedIncome, Fen::new(100_001)),
                (RecordKind::Wages, Fen::new(100_000))
            ]
        );
    }

    /// The low-income line is k × the dibao standard (低收入家庭认定).
    #[test]
    fn the_position_is_measured_against_the_standard_and_the_low_income_line() {
        let at = |fen| {
            report(
                &[HEAD],
                &[kept(
                    "W-1",
                    RecordKind::Wages,
                    HEAD,
                    date!(2026 - 03 - 31),
                    fen,
                    1,
                )],
                None,
            )
            .position
        };
        assert_eq!(at(66_500), Position::AtOrBelowDibao);
        assert_eq!(at(66_501), Position::LowIncome);
        assert_eq!(at(99_750), Position::LowIncome);
        assert_eq!(at(99_751), Position::AboveLowIncome);
    }

    #[test]
    fn each_threshold_flags_with_its_source() {
        let records = [
            kept(
                "RE-1",
                RecordKind::RealEstate,
                HEAD,
                date!(2026 - 01 - 01),
                50_000_000,
                1,
            ),
            kept(
                "RE-2",
                RecordKind::RealEstate,
                SPOUSE,
                date!(2026 - 01 - 01),
                30_000_000,
                1,
            ),
            kept(
                "V-1",
                RecordKind::Vehicle,
                HEAD,
                date!(2026 - 01 - 01),
                10_000_001,
                1,
            ),
            kept(
                "V-2",
                RecordKind::Vehicle,
                SPOUSE,
                date!(2026 - 01 - 01),
                10_000_000,
                1,
            ),
            kept(
                "B-1",
                RecordKind::Business,
                SPOUSE,
                date!(2026 - 01 - 01),
                1,
                1,
            ),
            // 2 × 24 × 665 元 = 31,920 元 of deposits and securities allowed.
            kept(
                "D-1",
                RecordKind::Deposits,
                HEAD,
                date!(2026 - 03 - 31),
                3_000_000,
                1,
            ),
            kept(
                "S-1",
                RecordKind::Securities,
                SPOUSE,
                date!(2026 - 03 - 31),
                192_001,
                1,
            ),
        ];
        let report = report(&[HEAD, SPOUSE], &records, Some(&defaults()));
        assert_eq!(
            codes(&report),
            [
                REAL_ESTATE_ABOVE_LIMIT,
                REAL_ESTATE_ABOVE_LIMIT,
                VEHICLE_ABOVE_LIMIT,
                FINANCIAL_ASSETS_ABOVE_LIMIT,
                BUSINESS_REGISTERED,
            ]
        );
        let vehicle = &report.flags[2];
        assert_eq!(vehicle.member, Some(citizen(HEAD)));
        assert_eq!(
            vehicle.source.as_ref().map(|s| s.reference.as_str()),
            Some("V-1")
        );
        assert_eq!(report.assets.len(), 6);
        assert!(report.unchecked.is_empty());

        // One property and deposits at the limit flag nothing.
        let within = [
            kept(
                "RE-1",
                RecordKind::RealEstate,
                HEAD,
                date!(2026 - 01 - 01),
                50_000_000,
                1,
            ),
            kept(
                "D-1",
                RecordKind::Deposits,
                HEAD,
                date!(2026 - 03 - 31),
                3_192_000,
                1,
            ),
        ];
        assert!(
            codes(&super::tests::report(
                &[HEAD, SPOUSE],
                &within,
                Some(&defaults())
            ))
            .is_empty()
        );
    }

    #[test]
    fn without_thresholds_the_threshold_flags_are_named_unchecked_not_guessed() {
        let records = [kept(
            "V-1",
            RecordKind::Vehicle,
            HEAD,
            date!(2026 - 01 - 01),
            99_999_999,
            1,
        )];
        let report = report(&[HEAD], &records, None);
        assert!(report.flags.is_empty());
        assert_eq!(report.unchecked, THRESHOLD_FLAGS);
        assert_eq!(report.thresholds, None);
    }

    #[test]
    fn a_housing_fund_contribution_without_wages_is_flagged() {
        let records = [
            kept(
                "HF-1",
                RecordKind::HousingFund,
                HEAD,
                date!(2026 - 03 - 31),
                24_000,
                1,
            ),
            kept(
                "HF-2",
                RecordKind::HousingFund,
                SPOUSE,
                date!(2026 - 03 - 31),
                24_000,
                1,
            ),
            kept(
                "W-1",
                RecordKind::Wages,
                SPOUSE,
                date!(2026 - 03 - 31),
                200_000,
                1,
            ),
        ];
        let report = report(&[HEAD, SPOUSE], &records, None);
        assert_eq!(codes(&report), [HOUSING_FUND_WITHOUT_WAGES]);
        assert_eq!(report.flags[0].member, Some(citizen(HEAD)));
    }

    #[test]
    fn sources_are_fresh_stale_or_missing_by_the_age_of_their_newest_extract() {
        let members = [citizen(HEAD)];
        let mut extracts = every_agency_fresh();
        extracts.insert(Agency::Banks, date!(2025 - 12 - 31));
        extracts.remove(&Agency::Vehicles);
        let thresholds = defaults();
        let report = verify(&Inputs {
            members: &members,
            county: county(),
            area: None,
            verify_on: DAY,
            knowledge: Knowledge::NOTHING,
            records: &[],
            latest_extracts: &extracts,
            lines: None,
            thresholds: Some((3, &thresholds)),
        });
        let state = |agency| {
            report
                .sources
                .iter()
                .find(|s| s.agency == agency)
                .map(|s| (s.state, s.age_days))
        };
        assert_eq!(
            state(Agency::HumanResources),
            Some((SourceState::Fresh, 10))
        );
        assert_eq!(state(Agency::Banks), Some((SourceState::Stale, 100)));
        assert_eq!(state(Agency::Vehicles), Some((SourceState::Missing, 0)));
        assert_eq!(
            state(Agency::PublicSecurity),
            None,
            "household registration is not read for a verification"
        );
        assert_eq!(report.position, Position::Unknown);
        assert_eq!(report.unchecked, [FINANCIAL_ASSETS_ABOVE_LIMIT]);
        assert_eq!(
            codes(&report),
            ["SOURCE_MISSING:vehicles", "SOURCE_STALE:banks"],
            "what was not verified is flagged"
        );
    }

    #[test]
    fn the_same_inputs_give_the_same_report() {
        let records = [kept(
            "W-1",
            RecordKind::Wages,
            HEAD,
            date!(2026 - 03 - 31),
            100_000,
            1,
        )];
        assert_eq!(
            report(&[HEAD, SPOUSE], &records, Some(&defaults())),
            report(&[HEAD, SPOUSE], &records, Some(&defaults()))
        );
    }
}
