//! The embedded mode's believable Benxi (本溪市): what `minzheng dev` records at first start so
//! that `GetIndicators` shows the 2021–2025 plan's 2020 baseline instead of zeros.
//!
//! # What is seeded
//!
//! - **Elderly-care institutions** (养老机构): the plan's 146, with 12,092 beds of which 3,725
//!   nursing-type (护理型床位, 30.8%), spread over the six county-level divisions ([`COUNTIES`]):
//!   most in the three urban districts and the two autonomous counties, few in 南芬区. Each
//!   county has one larger public welfare centre (社会福利中心); the others are named by county
//!   and number ("平山区第3养老院"), public, private (民办) or publicly built and privately run
//!   (公建民营) in a fixed rotation, with sizes and nursing shares varying by a fixed arithmetic
//!   pattern ([`institutions`]). Each gets a licence (设立许可) when registered before 2019 and a
//!   filing (备案) after, as the 2019 reform has it.
//! - **Quality grades** (等级评定) for about a third of them (mostly grades 1 to 3, the welfare
//!   centres 4) and **social workers** (社会工作者) in the larger ones.
//! - **Community centres**: 112 urban community elderly-care centres (城市社区养老服务中心),
//!   placed in sub-districts (街道), and 158 rural ones (农村养老服务中心), placed in towns and
//!   townships (镇, 乡) where the county has them ([`service_points`]).
//! - **Home-care-bed programmes** (家庭养老床位): one per county, of 20 to 60 beds (240 in all),
//!   opened in the second half of 2020.
//! - **Subsidy standards** (老年人补贴标准): version 1 for the city, effective 2021-01-01
//!   ([`standard`]).
//! - **Elderly population** (60 or more) per county as of 2020-12-31 ([`COUNTIES`]).
//!
//! The subsidy amounts and the per-county elderly population are **illustrative development
//! figures**, not Benxi's published ones: the amounts are of the order Liaoning's cities pay, and
//! the population figures are believable shares (about 30%) of the seventh census's 1.33
//! million residents, summing to 400,000. Only the city-wide institution, bed and centre totals
//! are the plan's.
//!
//! # How
//!
//! Only through the application API, each command with an idempotency key stable per item
//! (`seed-eldercare-benxi-…`), so a seed interrupted half-way is finished by the next start
//! without recording anything twice. A seed that finished (the population figures, recorded
//! last, are there for every county) is not run again.
//!
//! Institutions and centres are registered at township-level divisions (乡级) the place-names
//! service knows, so the seed first waits for them (polling every second, for at most ten
//! minutes). The registration days lie in 2015–2020 and the baseline shows as of
//! 2020-12-31 too: a division is named under today's code whatever day the place-names service
//! first recorded it (see [`minzheng_host::divisions`]).

use std::{
    collections::{BTreeMap, HashMap},
    time::Duration,
};

use anyhow::Context as _;
use minzheng_host::divisions::Known;
use minzheng_kit::aggregate::{CommandContext, Committed};
use minzheng_types::{BoundedText, Fen, RegionCode, RegionLevel};
use time::{Date, macros::date};
use tokio::time::Instant;

use crate::{
    app::ElderCare,
    assessment::Level,
    ids::{InstitutionId, ServicePointId},
    institution::{self, Beds, LicenceKind, Ownership},
    population::{self, Reported},
    service_point::{self, Kind},
    subsidy::{self, AgeBand, LevelAmount, Record},
};

/// 本溪市.
pub fn benxi_city() -> RegionCode {
    RegionCode::parse("210500000000").expect("a valid code")
}

/// The plan's 2020 baseline, city-wide: institutions.
pub const INSTITUTIONS: u32 = 146;
/// The plan's 2020 baseline: institution beds.
pub const BEDS: u32 = 12_092;
/// The plan's 2020 baseline: nursing-type beds.
pub const NURSING_BEDS: u32 = 3_725;
/// The plan's 2020 baseline: urban community elderly-care centres.
pub const URBAN_CENTRES: u32 = 112;
/// The plan's 2020 baseline: rural elderly-care centres.
pub const RURAL_CENTRES: u32 = 158;

/// How long the seed waits for the place-names divisions.
const DIVISIONS_WAIT: Duration = Duration::from_secs(600);
/// How often it looks.
const DIVISIONS_POLL: Duration = Duration::from_secs(1);

/// The day the population figures are true on.
const POPULATION_AS_OF: Date = date!(2020 - 12 - 31);
/// The day the subsidy standard takes effect.
const STANDARD_EFFECTIVE: Date = date!(2021 - 01 - 01);
/// The planned day of the grades (moved to the registration day when later).
const GRADED_ON: Date = date!(2020 - 11 - 15);
/// The planned day of the social-worker reports (likewise).
const STAFF_REPORTED_ON: Date = date!(2020 - 12 - 31);
/// Who graded.
const ASSESSOR: &str = "本溪市养老机构等级评定委员会";
/// The first day of the licensing reform: filings (备案) instead of licences from then on.
const FILING_FROM: Date = date!(2019 - 01 - 01);

/// The prefix of every idempotency key of the seed.
const KEY: &str = "seed-eldercare-benxi";

/// One county-level division's share of the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct County {
    /// The GB/T 2260 code.
    pub code: &'static str,
    pub name: &'static str,
    pub institutions: u32,
    pub beds: u32,
    pub nursing_beds: u32,
    pub urban_centres: u32,
    pub rural_centres: u32,
    /// The capacity of its home-care-bed programme.
    pub home_care_beds: u32,
    /// Persons aged 60 or more on 2020-12-31 (illustrative).
    pub elderly: u32,
}

impl County {
    /// Its 12-digit code.
    pub fn region(&self) -> RegionCode {
        RegionCode::from_gb2260(self.code).expect("a valid county code")
    }

    /// Whether it is one of the two autonomous counties (mostly rural).
    fn rural(&self) -> bool {
        self.code.starts_with("21052")
    }
}

/// Benxi's six county-level divisions and what each gets.
pub const COUNTIES: [County; 6] = [
    County {
        code: "210502",
        name: "平山区",
        institutions: 32,
        beds: 2_850,
        nursing_beds: 980,
        urban_centres: 30,
        rural_centres: 0,
        home_care_beds: 60,
        elderly: 96_000,
    },
    County {
        code: "210503",
        name: "溪湖区",
        institutions: 26,
        beds: 2_160,
        nursing_beds: 680,
        urban_centres: 26,
        rural_centres: 12,
        home_care_beds: 45,
        elderly: 78_000,
    },
    County {
        code: "210504",
        name: "明山区",
        institutions: 30,
        beds: 2_520,
        nursing_beds: 820,
        urban_centres: 28,
        rural_centres: 6,
        home_care_beds: 50,
        elderly: 86_000,
    },
    County {
        code: "210505",
        name: "南芬区",
        institutions: 8,
        beds: 520,
        nursing_beds: 120,
        urban_centres: 8,
        rural_centres: 14,
        home_care_beds: 20,
        elderly: 16_000,
    },
    County {
        code: "210521",
        name: "本溪满族自治县",
        institutions: 24,
        beds: 1_900,
        nursing_beds: 520,
        urban_centres: 10,
        rural_centres: 60,
        home_care_beds: 30,
        elderly: 56_000,
    },
    County {
        code: "210522",
        name: "桓仁满族自治县",
        institutions: 26,
        beds: 2_142,
        nursing_beds: 605,
        urban_centres: 10,
        rural_centres: 66,
        home_care_beds: 35,
        elderly: 68_000,
    },
];

/// An institution the seed registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedInstitution {
    pub county: County,
    /// 0-based within the county; 0 is the welfare centre.
    pub index: u32,
    pub name: String,
    pub ownership: Ownership,
    pub beds: Beds,
    /// In 2015–2020.
    pub registered_on: Date,
    pub grade: Option<u8>,
    pub social_workers: u32,
}

impl PlannedInstitution {
    fn key(&self, what: &str) -> String {
        format!(
            "{KEY}-institution-{}-{:03}{what}",
            self.county.code,
            self.index + 1
        )
    }
}

/// A service point the seed opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPoint {
    pub county: County,
    pub kind: Kind,
    /// 0-based within the county and kind.
    pub index: u32,
    pub name: String,
    pub capacity: u32,
    /// In 2016–2020.
    pub opened_on: Date,
}

impl PlannedPoint {
    fn key(&self) -> String {
        let kind = match self.kind {
            Kind::UrbanCentre => "urban-centre",
            Kind::RuralCentre => "rural-centre",
            Kind::HomeCareBeds => "home-care-beds",
        };
        format!("{KEY}-{kind}-{}-{:03}", self.county.code, self.index + 1)
    }
}

/// `total` split in proportion to `weights`, each share rounded down on the running sum so the
/// shares add up to `total` exactly.
fn split(total: u32, weights: &[u64]) -> Vec<u32> {
    let sum: u64 = weights.iter().sum();
    let mut running = 0;
    let mut given = 0;
    weights
        .iter()
        .map(|weight| {
            running += weight;
            let upto = (u64::from(total) * running).checked_div(sum).unwrap_or(0);
            let share = upto - given;
            given = upto;
            u32::try_from(share).expect("a share of a u32 fits a u32")
        })
        .collect()
}

/// `start` plus `days`.
fn after(start: Date, days: u32) -> Date {
    start + time::Duration::days(i64::from(days))
}

/// The institutions, county by county: a fixed arithmetic pattern, no randomness.
pub fn institutions() -> Vec<PlannedInstitution> {
    const GRADES: [u8; 6] = [2, 1, 3, 2, 1, 3];
    // 2015-01-01 to 2020-12-31.
    const DAYS: u32 = 2_192;
    let mut planned = Vec::new();
    let mut serial = 0;
    for county in COUNTIES {
        let count = county.institutions;
        // The welfare centre is the largest; the others from 1 to 5 parts.
        let sizes: Vec<u64> = (0..count)
            .map(|i| if i == 0 { 8 } else { 1 + u64::from(i * 7 % 5) })
            .collect();
        let beds = split(county.beds, &sizes);
        // Nursing beds by size and a care-mix factor: some homes have none, some twice the rest.
        let mix: Vec<u64> = (0..count)
            .zip(&beds)
            .map(|(i, beds)| {
                let factor = if i == 0 {
                    2
                } else {
                    [1, 0, 2, 1, 1][(i % 5) as usize]
                };
                u64::from(*beds) * factor
            })
            .collect();
        let nursing = split(county.nursing_beds, &mix);
        for index in 0..count {
            let total = beds[index as usize];
            let nursing = nursing[index as usize];
            let ownership = match index % 5 {
                0 => Ownership::Public,
                1 => Ownership::PublicBuiltPrivatelyRun,
                _ => Ownership::Private,
            };
            let name = match (index, ownership) {
                (0, _) => format!("{}社会福利中心", county.name),
                (_, Ownership::Public) if county.rural() => {
                    format!("{}第{index}敬老院", county.name)
                }
                _ => format!("{}第{index}养老院", county.name),
            };
            let grade = match index {
                0 => Some(4),
                _ if index % 3 == 0 => Some(GRADES[(index / 3) as usize % GRADES.len()]),
                _ => None,
            };
            let social_workers = match total {
                _ if index == 0 => 3,
                150.. => 2,
                90..150 => 1,
                _ => 0,
            };
            planned.push(PlannedInstitution {
                county,
                index,
                name,
                ownership,
                beds: Beds {
                    general: total - nursing,
                    nursing,
                },
                registered_on: after(date!(2015 - 01 - 01), serial * 151 % DAYS),
                grade,
                social_workers,
            });
            serial += 1;
        }
    }
    planned
}

/// The community centres and home-care-bed programmes, county by county.
pub fn service_points() -> Vec<PlannedPoint> {
    // 2016-01-01 to 2020-12-31.
    const DAYS: u32 = 1_827;
    let mut planned = Vec::new();
    let mut serial = 0;
    for county in COUNTIES {
        for (kind, count, label) in [
            (
                Kind::UrbanCentre,
                county.urban_centres,
                "城市社区养老服务中心",
            ),
            (Kind::RuralCentre, county.rural_centres, "农村养老服务中心"),
        ] {
            for index in 0..count {
                let capacity = match kind {
                    Kind::UrbanCentre => 20 + index * 13 % 5 * 10,
                    _ => 10 + index * 7 % 4 * 10,
                };
                planned.push(PlannedPoint {
                    county,
                    kind,
                    index,
                    name: format!("{}第{}{label}", county.name, index + 1),
                    capacity,
                    opened_on: after(date!(2016 - 01 - 01), serial * 73 % DAYS),
                });
                serial += 1;
            }
        }
    }
    for (nth, county) in (0..).zip(COUNTIES) {
        planned.push(PlannedPoint {
            county,
            kind: Kind::HomeCareBeds,
            index: 0,
            name: format!("{}家庭养老床位", county.name),
            capacity: county.home_care_beds,
            opened_on: after(date!(2020 - 07 - 01), nth * 14),
        });
    }
    planned
}

/// The subsidy standard, version 1 (illustrative development amounts, not Benxi's published
/// ones): advanced-age allowance 50 yuan a month from 80, 100 from 90, 300 from 100; nursing
/// subsidy for low-income elderly 100, 200 and 300 yuan for moderately, severely and completely
/// impaired capacity; service subsidy 100 yuan for low-income elderly.
pub fn standard(today: Date) -> Record {
    let yuan = |amount: i64| Fen::new(amount * 100);
    Record {
        city: benxi_city(),
        effective_from: STANDARD_EFFECTIVE,
        advanced_age: vec![
            AgeBand {
                from_age: 80,
                monthly: yuan(50),
            },
            AgeBand {
                from_age: 90,
                monthly: yuan(100),
            },
            AgeBand {
                from_age: 100,
                monthly: yuan(300),
            },
        ],
        nursing: vec![
            LevelAmount {
                level: Level::Moderate,
                monthly: yuan(100),
            },
            LevelAmount {
                level: Level::Severe,
                monthly: yuan(200),
            },
            LevelAmount {
                level: Level::Complete,
                monthly: yuan(300),
            },
        ],
        nursing_requires_low_income: true,
        service_low_income: yuan(100),
        decided_by: BoundedText::parse(
            "本溪市民政局 本溪市财政局（开发环境示意标准，非正式公布数额）",
            subsidy::DECIDED_BY_MAX_CHARS,
        )
        .expect("a short constant text"),
        recorded_on: today,
    }
}

/// The elderly population figures (illustrative), one per county as of 2020-12-31.
pub fn populations() -> Vec<Reported> {
    COUNTIES
        .iter()
        .map(|county| Reported {
            county: county.region(),
            persons: county.elderly,
            as_of: POPULATION_AS_OF,
            source: BoundedText::parse(
                "第七次全国人口普查（开发环境示意数据）",
                population::SOURCE_MAX_CHARS,
            )
            .expect("a short constant text"),
        })
        .collect()
}

/// The township-level divisions valid today of each county, in code order; `None` while a
/// county has none.
fn townships(known: &HashMap<RegionCode, Known>) -> Option<BTreeMap<RegionCode, Vec<RegionCode>>> {
    let mut by_county: BTreeMap<RegionCode, Vec<RegionCode>> = BTreeMap::new();
    for (code, division) in known {
        if code.level() == RegionLevel::Township
            && division.valid_to.is_none()
            && let Some(county) = code.county()
        {
            by_county.entry(county).or_default().push(*code);
        }
    }
    for places in by_county.values_mut() {
        places.sort();
    }
    COUNTIES
        .iter()
        .all(|county| by_county.contains_key(&county.region()))
        .then_some(by_county)
}

/// The `index`-th of `places`, preferring sub-districts (街道, township segment below 100) for
/// an urban centre and towns and townships (镇, 乡) for a rural one when the county has them.
fn place(places: &[RegionCode], kind: Option<Kind>, index: u32) -> RegionCode {
    let street = |code: &RegionCode| code.segment(RegionLevel::Township) < 100;
    let preferred: Vec<_> = places
        .iter()
        .filter(|code| match kind {
            Some(Kind::UrbanCentre) => street(code),
            Some(Kind::RuralCentre) => !street(code),
            _ => true,
        })
        .copied()
        .collect();
    let from = if preferred.is_empty() {
        places
    } else {
        &preferred
    };
    from[index as usize % from.len()]
}

/// Waits until the place-names divisions give every county township-level divisions and their
/// number has stopped growing for one poll.
async fn wait_for_townships(
    app: &ElderCare,
) -> anyhow::Result<BTreeMap<RegionCode, Vec<RegionCode>>> {
    let deadline = Instant::now() + DIVISIONS_WAIT;
    let mut seen = None;
    loop {
        let known = app
            .divisions()
            .known()
            .await
            .context("reading the divisions known")?;
        if let Some(townships) = townships(&known)
            && seen == Some(known.len())
        {
            return Ok(townships);
        }
        seen = Some(known.len());
        if Instant::now() >= deadline {
            anyhow::bail!(
                "the place-names service gave no township-level divisions for every Benxi county \
                 in {} s; the elderly-care seed gives up",
                DIVISIONS_WAIT.as_secs()
            );
        }
        tokio::time::sleep(DIVISIONS_POLL).await;
    }
}

/// Whether a seed finished before: every county has its population figure.
async fn seeded_before(app: &ElderCare) -> bool {
    let view = app.view().read().await;
    COUNTIES
        .iter()
        .all(|county| view.populations().contains_key(&county.region()))
}

/// Counts the commands that recorded something new (not answered from an earlier run).
#[derive(Debug, Default)]
struct Tally(usize);

impl Tally {
    fn note(&mut self, committed: &Committed) {
        if !committed.replayed && !committed.event_ids.is_empty() {
            self.0 += 1;
        }
    }
}

fn keyed(key: String) -> CommandContext {
    CommandContext::new().with_idempotency_key(key)
}

fn text(value: &str, max: usize) -> anyhow::Result<BoundedText> {
    BoundedText::parse(value, max).with_context(|| format!("the seed text {value:?}"))
}

/// Seeds Benxi's 2020 baseline; see the [module documentation](self).
pub async fn benxi(app: &ElderCare) -> anyhow::Result<()> {
    if seeded_before(app).await {
        tracing::info!("elderly-care seed already recorded; nothing to seed");
        return Ok(());
    }
    let townships = wait_for_townships(app).await?;
    let started = Instant::now();
    let mut tally = Tally::default();

    for planned in institutions() {
        let county = planned.county.region();
        let division = place(&townships[&county], None, planned.index);
        let registered_on = planned.registered_on;
        let profile = institution::Profile {
            id: InstitutionId::new(county, 1).context("a county-level code")?,
            name: text(&planned.name, institution::NAME_MAX_CHARS)?,
            ownership: planned.ownership,
            county,
            division,
            registered_on,
        };
        let (id, committed) = app
            .register_institution(profile, planned.beds, &keyed(planned.key("")))
            .await
            .with_context(|| format!("registering {}", planned.name))?;
        tally.note(&committed);

        let (kind, number) = if registered_on < FILING_FROM {
            (
                LicenceKind::Licence,
                format!(
                    "本民养许字〔{}〕第{:03}号",
                    registered_on.year(),
                    id.ordinal()
                ),
            )
        } else {
            (
                LicenceKind::Filing,
                format!(
                    "本民养备〔{}〕{}{:03}号",
                    registered_on.year(),
                    planned.county.code,
                    id.ordinal()
                ),
            )
        };
        let mut commands = vec![(
            "-licence",
            institution::Command::RecordLicence(institution::Licence {
                kind,
                number: text(&number, institution::LICENCE_NUMBER_MAX_CHARS)?,
                issued_on: registered_on,
            }),
        )];
        if let Some(grade) = planned.grade {
            commands.push((
                "-grade",
                institution::Command::Grade(institution::Grade {
                    grade,
                    on: GRADED_ON.max(registered_on),
                    assessor: text(ASSESSOR, institution::NOTE_MAX_CHARS)?,
                }),
            ));
        }
        if planned.social_workers > 0 {
            commands.push((
                "-social-workers",
                institution::Command::ReportSocialWorkers {
                    count: planned.social_workers,
                    on: STAFF_REPORTED_ON.max(registered_on),
                },
            ));
        }
        for (what, command) in commands {
            let committed = app
                .institution_command(&id, command, &keyed(planned.key(what)))
                .await
                .with_context(|| format!("recording the{} of {id}", what.replace('-', " ")))?;
            tally.note(&committed);
        }
    }

    for planned in service_points() {
        let county = planned.county.region();
        let division = place(&townships[&county], Some(planned.kind), planned.index);
        let opened = service_point::Opened {
            id: ServicePointId::new(county, 1).context("a county-level code")?,
            name: text(&planned.name, service_point::NAME_MAX_CHARS)?,
            kind: planned.kind,
            county,
            division,
            capacity: planned.capacity,
            on: planned.opened_on,
        };
        let (_, committed) = app
            .open_service_point(opened, &keyed(planned.key()))
            .await
            .with_context(|| format!("opening {}", planned.name))?;
        tally.note(&committed);
    }

    let (_, committed) = app
        .record_standard(
            standard(app.today()),
            &keyed(format!("{KEY}-subsidy-standard-v1")),
        )
        .await
        .context("recording the subsidy standard")?;
    tally.note(&committed);

    // Last: their presence marks a finished seed.
    for reported in populations() {
        let key = format!("{KEY}-population-{}-2020", reported.county.gb2260());
        let committed = app
            .record_population(reported, &keyed(key))
            .await
            .context("recording the elderly population")?;
        tally.note(&committed);
    }

    app.view()
        .catch_up()
        .await
        .context("reading the seed back")?;
    let report = app
        .indicators(app.today())
        .await
        .context("reading the indicators back")?;
    let city = &report.city;
    tracing::info!(
        recorded = tally.0,
        institutions = city.institutions,
        beds = city.beds(),
        nursing_beds = city.nursing_beds,
        nursing_share_permille = city.nursing_share_permille(),
        graded = city.institutions - city.by_grade[0],
        social_workers = city.social_workers,
        urban_centres = city.urban_centres,
        rural_centres = city.rural_centres,
        home_care_beds = city.home_care_beds,
        elderly_population = city.elderly_population,
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "Benxi elderly-care baseline seeded"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_adds_up_to_the_2020_baseline() {
        let planned = institutions();
        let sum = |f: &dyn Fn(&PlannedInstitution) -> u32| planned.iter().map(f).sum::<u32>();
        assert_eq!(planned.len(), INSTITUTIONS as usize);
        assert_eq!(sum(&|p| p.beds.total()), BEDS);
        assert_eq!(sum(&|p| p.beds.nursing), NURSING_BEDS);
        for county in COUNTIES {
            let here: Vec<_> = planned.iter().filter(|p| p.county == county).collect();
            assert!(!here.is_empty(), "{} has no institution", county.name);
            assert_eq!(
                here.iter().map(|p| p.beds.total()).sum::<u32>(),
                county.beds
            );
            assert_eq!(
                here.iter().map(|p| p.beds.nursing).sum::<u32>(),
                county.nursing_beds
            );
        }
        for p in &planned {
            assert!(
                p.beds.total() >= 10,
                "{} has {} beds",
                p.name,
                p.beds.total()
            );
            assert!(p.registered_on >= date!(2015 - 01 - 01));
            assert!(p.registered_on <= date!(2020 - 12 - 31));
            assert!(
                p.grade
                    .is_none_or(|g| (1..=institution::MAX_GRADE).contains(&g))
            );
        }
        let mut names: Vec<_> = planned.iter().map(|p| &p.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), planned.len(), "names are unique");
        // The share of the plan's baseline, 30.8%.
        assert_eq!(NURSING_BEDS * 1000 / BEDS, 308);
        let graded = planned.iter().filter(|p| p.grade.is_some()).count();
        assert!((30..=70).contains(&graded), "{graded} graded");
        assert!(sum(&|p| p.social_workers) > 0);
    }

    #[test]
    fn every_county_gets_centres_a_programme_and_a_population() {
        let points = service_points();
        let count = |kind| points.iter().filter(|p| p.kind == kind).count();
        assert_eq!(count(Kind::UrbanCentre), URBAN_CENTRES as usize);
        assert_eq!(count(Kind::RuralCentre), RURAL_CENTRES as usize);
        assert_eq!(count(Kind::HomeCareBeds), COUNTIES.len());
        for county in COUNTIES {
            assert!(
                points
                    .iter()
                    .any(|p| p.county == county && p.kind == Kind::UrbanCentre)
            );
        }
        for p in &points {
            assert!((1..=service_point::MAX_CAPACITY).contains(&p.capacity));
            assert!(p.opened_on >= date!(2016 - 01 - 01));
            assert!(p.opened_on <= date!(2020 - 12 - 31));
        }
        let mut keys: Vec<_> = points.iter().map(PlannedPoint::key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), points.len(), "keys are unique");
        let elderly: u32 = populations().iter().map(|r| r.persons).sum();
        assert_eq!(elderly, 400_000);
        assert!(standard(date!(2025 - 01 - 01)).check_shape().is_ok());
    }

    #[test]
    fn places_follow_the_known_townships_and_prefer_the_right_kind() {
        let code = |digits: &str| RegionCode::parse(digits).expect("valid");
        let known = |valid_to| Known {
            valid_from: date!(2023 - 06 - 30),
            valid_to,
            successor: None,
            created_by_adjustment: false,
        };
        let mut divisions: HashMap<_, _> = COUNTIES
            .iter()
            .map(|c| (code(&format!("{}001000", c.code)), known(None)))
            .collect();
        divisions.insert(code("210521100000"), known(None));
        divisions.insert(code("210521101000"), known(Some(date!(2024 - 01 - 01))));
        divisions.insert(code("210521000000"), known(None));
        let townships = townships(&divisions).expect("every county has one");
        let benxi_county = &townships[&code("210521000000")];
        assert_eq!(
            benxi_county.len(),
            2,
            "superseded and county codes are left out"
        );
        assert_eq!(
            place(benxi_county, Some(Kind::RuralCentre), 3),
            code("210521100000")
        );
        assert_eq!(
            place(benxi_county, Some(Kind::UrbanCentre), 3),
            code("210521001000")
        );
        divisions.remove(&code("210505001000"));
        assert!(super::townships(&divisions).is_none());
    }
}
