//! The embedded mode's believable Benxi (本溪市): what `minzheng dev` records at first start so
//! that `GetIndicators` shows the 2021–2025 plan's 2020 baseline instead of zeros.
//!
//! # What is seeded
//!
//! - **Child directors** (儿童主任) in 95% of Benxi's village-level divisions (村, 社区) — the
//!   plan's 2020 baseline of 村（居）儿童主任覆盖率 ([`coverage::DIRECTOR_BASELINE_2020_BP`]) —
//!   over the **real** divisions the place-names service records (Benxi's 565, of which 508 at
//!   village level). The count is rounded **up** to a whole division, so the indicator reads at
//!   least 95% (950‰): 483 of 508. The 5% left vacant are evenly spaced over the divisions in
//!   code order, so they fall in several counties in proportion to their villages, never in
//!   one ([`plan`]).
//! - **Child supervisors** (儿童督导员) in every township-level division (乡, 镇, 街道). The plan
//!   states no 2020 figure for them, only their full coverage by 2025 (两个全覆盖), so all are
//!   seeded.
//! - **Trainings of the newly appointed** (新任职培训) for four holders in five (a fixed
//!   rotation), each after its holder's appointment and in 2019–2020; the plan asks for all
//!   by 2025.
//! - The **allowance standard** of orphans and de-facto unsupported children (孤儿、事实无人抚养
//!   儿童基本生活费) for the city: version 1 effective 2020-01-01 and version 2 effective
//!   2021-01-01, more than the plan's 6% higher ([`standards`]).
//!
//! Illustrative, not Benxi's: the **holders** are synthetic — "儿童主任-0001",
//! "儿童督导员-001", numbered in code order, with no telephone and no citizen id — as are
//! their **appointment days** (spread over 2019–2020 by a fixed arithmetic pattern), which
//! divisions are vacant, who is trained, and the **allowance amounts** (centralized care 1,550
//! then 1,650 yuan a month, family care 1,150 then 1,220: of the order Liaoning's cities pay,
//! not the published figures). Only the 95% baseline and the divisions are real.
//!
//! # How
//!
//! Only through the application API, each command with an idempotency key stable per item
//! (`seed-childwelfare-benxi-…`, a post's keyed by its division's code), so a seed interrupted
//! half-way is finished by the next start without recording anything twice. A seed that
//! finished (the standard's version 2, recorded last, is there) is not run again. A command
//! the domain refuses — a post someone filled by hand before the seed ran, a standard recorded
//! by hand — is skipped and counted, not an error.
//!
//! The posts are at the divisions the place-names service knows, so the seed first waits for
//! them (polling every second, for at most ten minutes) until every Benxi county has township-
//! and village-level divisions and their number has stopped growing for one poll. It plans over
//! the divisions in force today, which the indicators count today; the appointments are dated
//! 2019–2020 under today's codes, as the place-names import is (an imported division counts
//! from the beginning of time, see [`minzheng_host::divisions`]).

use std::time::Duration;

use anyhow::Context as _;
use minzheng_host::divisions::{self, Known};
use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed},
};
use minzheng_types::{BoundedText, Fen, RegionCode, RegionLevel};
use time::{Date, macros::date};
use tokio::time::Instant;

use crate::{
    allowance::{self, Record},
    app::ChildWelfare,
    coverage::{self, WHOLE_BP},
    post::{self, Holder, Role},
};

/// 本溪市.
pub fn benxi_city() -> RegionCode {
    RegionCode::parse("210500000000").expect("a valid code")
}

/// Benxi's six county-level divisions (GB/T 2260): 平山区, 溪湖区, 明山区, 南芬区, 本溪满族自治县,
/// 桓仁满族自治县.
pub const COUNTIES: [&str; 6] = ["210502", "210503", "210504", "210505", "210521", "210522"];

/// How long the seed waits for the place-names divisions.
const DIVISIONS_WAIT: Duration = Duration::from_secs(600);
/// How often it looks.
const DIVISIONS_POLL: Duration = Duration::from_secs(1);

/// The first day an appointment may be dated.
const APPOINTED_FROM: Date = date!(2019 - 01 - 01);
/// The days from [`APPOINTED_FROM`] to 2020-12-31, both included.
const APPOINTMENT_DAYS: u32 = 731;
/// The last day a seeded appointment or training is dated.
const LAST_DAY: Date = date!(2020 - 12 - 31);
/// Of each five holders, the one whose training is not recorded.
const UNTRAINED_EVERY: u32 = 5;

/// The standards' effective days.
const STANDARD_V1_EFFECTIVE: Date = date!(2020 - 01 - 01);
const STANDARD_V2_EFFECTIVE: Date = date!(2021 - 01 - 01);

/// The prefix of every idempotency key of the seed.
const KEY: &str = "seed-childwelfare-benxi";

/// A post the seed fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPost {
    pub division: RegionCode,
    pub role: Role,
    /// The synthetic holder's name: "儿童主任-0001", "儿童督导员-001".
    pub holder: String,
    /// In 2019–2020.
    pub appointed_on: Date,
    /// The training of the newly appointed, when recorded: after the appointment, in 2019–2020.
    pub trained_on: Option<Date>,
}

impl PlannedPost {
    fn key(&self, what: &str) -> String {
        format!("{KEY}-post-{}-{what}", self.division)
    }

    /// The training recorded: its course and hours.
    fn course(&self) -> (&'static str, u16) {
        match self.role {
            Role::Director => ("儿童主任新任职培训（开发环境示意）", 16),
            Role::Supervisor => ("儿童督导员新任职培训（开发环境示意）", 24),
        }
    }
}

/// Who the seed appoints where; see [`plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The posts filled, in code order.
    pub posts: Vec<PlannedPost>,
    /// The village-level divisions left without a director, in code order.
    pub vacant: Vec<RegionCode>,
}

/// The directors needed in `villages` village-level divisions for the 2020 baseline: 95%,
/// rounded up to a whole division.
pub fn directors_required(villages: usize) -> usize {
    let baseline = coverage::DIRECTOR_BASELINE_2020_BP as usize;
    let whole = WHOLE_BP as usize;
    (villages * baseline).div_ceil(whole)
}

/// `start` plus `days`.
fn after(start: Date, days: u32) -> Date {
    start + time::Duration::days(i64::from(days))
}

/// Who the seed appoints where over `divisions` (those in force; any order, repeats and other
/// levels ignored): a supervisor in every township-level division, a director in all but the
/// village-level divisions left vacant — as few as the 95% baseline allows, evenly spaced over
/// the villages in code order — and a training for all holders but every fifth. A fixed
/// arithmetic pattern, no randomness: the same divisions give the same plan.
pub fn plan(divisions: &[RegionCode]) -> Plan {
    let mut codes = divisions.to_vec();
    codes.sort_unstable();
    codes.dedup();
    let villages: Vec<RegionCode> = codes
        .iter()
        .copied()
        .filter(|c| c.level() == RegionLevel::Village)
        .collect();
    let n = villages.len();
    let vacancies = n - directors_required(n);
    // The middle of each of `vacancies` equal slices of the villages: distinct, since a slice
    // is at least one village long.
    let vacant: Vec<RegionCode> = (0..vacancies)
        .map(|j| villages[(2 * j + 1) * n / (2 * vacancies)])
        .collect();

    let mut posts = Vec::new();
    let (mut directors, mut supervisors) = (0, 0);
    let filled = codes
        .iter()
        .filter(|c| !vacant.contains(c))
        .filter_map(|&c| Role::of(c).map(|role| (c, role)));
    for (serial, (division, role)) in (0u32..).zip(filled) {
        let holder = match role {
            Role::Director => {
                directors += 1;
                format!("儿童主任-{directors:04}")
            }
            Role::Supervisor => {
                supervisors += 1;
                format!("儿童督导员-{supervisors:03}")
            }
        };
        let appointed_on = after(APPOINTED_FROM, serial * 97 % APPOINTMENT_DAYS);
        let trained_on = (serial % UNTRAINED_EVERY != UNTRAINED_EVERY - 1)
            .then(|| after(appointed_on, 14 + serial * 11 % 60).min(LAST_DAY));
        posts.push(PlannedPost {
            division,
            role,
            holder,
            appointed_on,
            trained_on,
        });
    }
    Plan { posts, vacant }
}

/// The allowance standard's two versions (illustrative development amounts, not Benxi's
/// published ones): centralized care 1,550 then 1,650 yuan a month, family care 1,150 then
/// 1,220, version 2 more than 6% above version 1.
pub fn standards(today: Date) -> [Record; 2] {
    let yuan = |amount: i64| Fen::new(amount * 100);
    let record = |effective_from, centralized, family| Record {
        city: benxi_city(),
        effective_from,
        centralized: yuan(centralized),
        family: yuan(family),
        decided_by: BoundedText::parse(
            "本溪市民政局 本溪市财政局（开发环境示意标准，非正式公布数额）",
            allowance::DECIDED_BY_MAX_CHARS,
        )
        .expect("a short constant text"),
        override_reason: None,
        recorded_on: today,
    };
    [
        record(STANDARD_V1_EFFECTIVE, 1_550, 1_150),
        record(STANDARD_V2_EFFECTIVE, 1_650, 1_220),
    ]
}

/// The divisions of Benxi in force on `day`, in code order, once every county has township-
/// and village-level ones; `None` before.
fn benxi_divisions(
    known: &std::collections::HashMap<RegionCode, Known>,
    day: Date,
) -> Option<Vec<RegionCode>> {
    let city = benxi_city();
    let in_force: Vec<RegionCode> = divisions::in_force_on(known, day)
        .into_iter()
        .filter(|code| code.city() == Some(city))
        .collect();
    let has = |county: &str, level: RegionLevel| {
        in_force
            .iter()
            .any(|c| c.level() == level && c.county().is_some_and(|k| k.gb2260() == county))
    };
    COUNTIES
        .iter()
        .all(|county| has(county, RegionLevel::Township) && has(county, RegionLevel::Village))
        .then_some(in_force)
}

/// Waits until the place-names divisions give every county township- and village-level
/// divisions and their number has stopped growing for one poll.
async fn wait_for_divisions(app: &ChildWelfare) -> anyhow::Result<Vec<RegionCode>> {
    let deadline = Instant::now() + DIVISIONS_WAIT;
    let mut seen = None;
    loop {
        let known = app
            .divisions()
            .known()
            .await
            .context("reading the divisions known")?;
        if let Some(divisions) = benxi_divisions(&known, app.today())
            && seen == Some(known.len())
        {
            return Ok(divisions);
        }
        seen = Some(known.len());
        if Instant::now() >= deadline {
            anyhow::bail!(
                "the place-names service gave no township- and village-level divisions for \
                 every Benxi county in {} s; the child-welfare seed gives up",
                DIVISIONS_WAIT.as_secs()
            );
        }
        tokio::time::sleep(DIVISIONS_POLL).await;
    }
}

/// Whether a seed finished before: the standard's version 2, recorded last, is there.
async fn seeded_before(app: &ChildWelfare) -> anyhow::Result<bool> {
    let policy = app
        .policy(benxi_city())
        .await
        .context("reading the allowance standards")?;
    Ok(policy
        .versions()
        .iter()
        .any(|s| s.effective_from == STANDARD_V2_EFFECTIVE))
}

/// Counts the commands that recorded something new (not answered from an earlier run) and
/// those the domain refused.
#[derive(Debug, Default)]
struct Tally {
    recorded: usize,
    refused: usize,
}

impl Tally {
    /// Notes a command's outcome: whether it was accepted; a refusal is logged and counted, any
    /// other failure returned.
    fn note(&mut self, result: Result<Committed, Error>, what: &str) -> anyhow::Result<bool> {
        match result {
            Ok(committed) => {
                if !committed.replayed && !committed.event_ids.is_empty() {
                    self.recorded += 1;
                }
                Ok(true)
            }
            Err(Error::FailedPrecondition { rule, .. }) => {
                tracing::info!(%rule, what, "the child-welfare seed skips a refused command");
                self.refused += 1;
                Ok(false)
            }
            Err(error) => Err(anyhow::Error::new(error).context(format!("seeding {what}"))),
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
pub async fn benxi(app: &ChildWelfare) -> anyhow::Result<()> {
    if seeded_before(app).await? {
        tracing::info!("child-welfare seed already recorded; nothing to seed");
        return Ok(());
    }
    let divisions = wait_for_divisions(app).await?;
    let started = Instant::now();
    let mut tally = Tally::default();
    let plan = plan(&divisions);

    for planned in &plan.posts {
        let appoint = post::Command::Appoint {
            division: planned.division,
            holder: Holder {
                name: text(&planned.holder, post::NAME_MAX_CHARS)?,
                phone: None,
                citizen: None,
            },
            on: planned.appointed_on,
        };
        let result = app
            .post_command(appoint, &keyed(planned.key("appoint")))
            .await;
        let appointed = tally.note(result, "an appointment")?;
        if let (true, Some(on)) = (appointed, planned.trained_on) {
            let (course, hours) = planned.course();
            let training = post::Command::RecordTraining {
                division: planned.division,
                on,
                course: text(course, post::COURSE_MAX_CHARS)?,
                hours,
            };
            let result = app
                .post_command(training, &keyed(planned.key("training")))
                .await;
            tally.note(result, "a training")?;
        }
    }

    // Last: version 2 marks a finished seed.
    for (version, record) in (1..).zip(standards(app.today())) {
        let result = app
            .record_standard(
                record,
                &keyed(format!("{KEY}-allowance-standard-v{version}")),
            )
            .await
            .map(|(_, _, committed)| committed);
        tally.note(result, "an allowance standard")?;
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
        recorded = tally.recorded,
        refused = tally.refused,
        villages = city.directors.required,
        directors = city.directors.staffed,
        directors_trained = city.directors.trained,
        director_coverage_bp = city.directors.staffed_bp(),
        townships = city.supervisors.required,
        supervisors = city.supervisors.staffed,
        supervisors_trained = city.supervisors.trained,
        standard_version = report.in_force.as_ref().map(|s| s.version),
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "Benxi child-welfare baseline seeded"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use super::*;
    use crate::{allowance::AllowancePolicy, post::Post};

    fn code(digits: &str) -> RegionCode {
        RegionCode::parse(digits).expect("valid")
    }

    /// A Benxi-like list: each county with some townships, each township with some villages
    /// (508 villages and 49 townships in all, as the place-names service records), plus the
    /// province, city and counties.
    fn synthetic() -> Vec<RegionCode> {
        let mut divisions = vec![code("210000000000"), benxi_city()];
        let townships = [10, 8, 9, 5, 9, 8];
        let villages_per_township = [7, 9, 11, 13, 12, 11];
        for ((county, t), v) in COUNTIES.iter().zip(townships).zip(villages_per_township) {
            divisions.push(code(&format!("{county}000000")));
            for township in 1..=t {
                divisions.push(code(&format!("{county}{township:03}000")));
                for village in 1..=v {
                    divisions.push(code(&format!("{county}{township:03}{village:03}")));
                }
            }
        }
        // Six more villages in one township: 508 in all.
        for village in 101..=106 {
            divisions.push(code(&format!("210522001{village:03}")));
        }
        divisions
    }

    fn at(level: RegionLevel, divisions: &[RegionCode]) -> BTreeSet<RegionCode> {
        divisions
            .iter()
            .copied()
            .filter(|c| c.level() == level)
            .collect()
    }

    /// The posts the plan fills, as the aggregate records them.
    fn recorded(plan: &Plan) -> Vec<Post> {
        use minzheng_kit::aggregate::Aggregate as _;
        plan.posts
            .iter()
            .map(|p| {
                let mut commands = vec![post::Command::Appoint {
                    division: p.division,
                    holder: Holder {
                        name: BoundedText::parse(&p.holder, post::NAME_MAX_CHARS).expect("short"),
                        phone: None,
                        citizen: None,
                    },
                    on: p.appointed_on,
                }];
                if let Some(on) = p.trained_on {
                    let (course, hours) = p.course();
                    commands.push(post::Command::RecordTraining {
                        division: p.division,
                        on,
                        course: BoundedText::parse(course, post::COURSE_MAX_CHARS).expect("short"),
                        hours,
                    });
                }
                commands.iter().fold(Post::default(), |state, command| {
                    let events = state.handle(command).expect("accepted");
                    events.iter().fold(state, |s, e| s.apply(e))
                })
            })
            .collect()
    }

    #[test]
    fn directors_cover_the_2020_baseline_rounded_up() {
        assert_eq!(directors_required(508), 483);
        assert_eq!(directors_required(100), 95);
        assert_eq!(directors_required(101), 96);
        assert_eq!(directors_required(0), 0);
        for n in 1..=1_000 {
            let d = directors_required(n);
            assert!(d * 10_000 >= n * 9_500, "{d} of {n} is below 95%");
            assert!(
                (d - 1) * 10_000 < n * 9_500,
                "{d} of {n} is more than needed"
            );
        }
    }

    #[test]
    fn the_plan_reaches_the_baseline_and_every_township_gets_a_supervisor() {
        let divisions = synthetic();
        let villages = at(RegionLevel::Village, &divisions);
        let townships = at(RegionLevel::Township, &divisions);
        assert_eq!((villages.len(), townships.len()), (508, 49));

        let plan = plan(&divisions);
        let of = |role| {
            plan.posts
                .iter()
                .filter(|p| p.role == role)
                .map(|p| p.division)
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(of(Role::Supervisor), townships);
        let directors = of(Role::Director);
        assert_eq!(directors.len(), 483);
        assert_eq!(directors.len() + plan.vacant.len(), villages.len());
        assert!(plan.vacant.iter().all(|v| villages.contains(v)));
        assert!(directors.is_disjoint(&plan.vacant.iter().copied().collect()));

        // The indicator as the service computes it, on a day after the seed.
        let day = date!(2025 - 06 - 30);
        let posts = recorded(&plan);
        let covered = coverage::coverage(day, &divisions, posts.iter(), |_| None);
        assert_eq!(covered.total.directors.required, 508);
        assert_eq!(covered.total.directors.staffed, 483);
        assert!(covered.total.directors.staffed_bp() >= Some(coverage::DIRECTOR_BASELINE_2020_BP));
        assert_eq!(covered.total.supervisors.staffed_bp(), Some(WHOLE_BP));
        // As of the baseline's day too.
        let baseline = coverage::coverage(LAST_DAY, &divisions, posts.iter(), |_| None);
        assert_eq!(baseline.total.directors.staffed, 483);
        assert!(baseline.total.supervisors.fully_staffed());

        // Most holders trained, not all.
        let trained = covered.total.directors.trained + covered.total.supervisors.trained;
        let held = plan.posts.len() as u32;
        assert!(
            trained * 100 >= held * 75 && trained * 100 <= held * 85,
            "{trained} of {held}"
        );
    }

    #[test]
    fn the_vacancies_are_spread_over_the_counties() {
        let divisions = synthetic();
        let plan = plan(&divisions);
        let mut by_county: HashMap<RegionCode, usize> = HashMap::new();
        for vacant in &plan.vacant {
            *by_county
                .entry(vacant.county().expect("a village"))
                .or_default() += 1;
        }
        assert!(by_county.len() >= 5, "{by_county:?}");
        assert!(by_county.values().all(|n| *n <= 6), "{by_county:?}");
        assert_eq!(plan, super::plan(&divisions), "the plan is deterministic");
        let mut reversed = divisions.clone();
        reversed.reverse();
        assert_eq!(plan, super::plan(&reversed), "whatever the order given");
    }

    #[test]
    fn holders_are_synthetic_and_dated_in_2019_and_2020() {
        let plan = plan(&synthetic());
        let mut names = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for p in &plan.posts {
            assert!(p.appointed_on >= APPOINTED_FROM && p.appointed_on <= LAST_DAY);
            if let Some(on) = p.trained_on {
                assert!(p.appointed_on <= on && on <= LAST_DAY);
            }
            let prefix = match p.role {
                Role::Director => "儿童主任-",
                Role::Supervisor => "儿童督导员-",
            };
            assert!(p.holder.starts_with(prefix), "{}", p.holder);
            assert!(!minzheng_types::contains_citizen_id(&p.holder));
            assert!(names.insert(p.holder.clone()), "names are unique");
            assert!(keys.insert(p.key("appoint")), "keys are unique");
        }
        let years: BTreeSet<i32> = plan.posts.iter().map(|p| p.appointed_on.year()).collect();
        assert_eq!(years, BTreeSet::from([2019, 2020]));
    }

    #[test]
    fn the_standards_meet_the_growth_target() {
        use minzheng_kit::aggregate::Aggregate as _;
        let [v1, v2] = standards(date!(2025 - 01 - 01));
        assert!(v1.check_shape().is_ok() && v2.check_shape().is_ok());
        let policy = [v1, v2]
            .into_iter()
            .fold(AllowancePolicy::default(), |policy, record| {
                let events = policy
                    .handle(&allowance::Command::Record(record))
                    .expect("accepted without an override");
                events.iter().fold(policy, |p, e| p.apply(e))
            });
        assert_eq!(policy.versions().len(), 2);
        assert!(policy.growth_below_target().is_empty());
        assert_eq!(
            policy.in_force(date!(2020 - 12 - 31)).map(|s| s.version),
            Some(1)
        );
    }

    #[test]
    fn divisions_are_taken_once_every_county_has_townships_and_villages() {
        let known = |valid_to| Known {
            valid_from: date!(2023 - 06 - 30),
            valid_to,
            successor: None,
            created_by_adjustment: false,
        };
        let mut register: HashMap<RegionCode, Known> =
            synthetic().into_iter().map(|c| (c, known(None))).collect();
        register.insert(code("220102001001"), known(None));
        register.insert(code("210502001099"), known(Some(date!(2024 - 01 - 01))));
        let today = date!(2025 - 06 - 30);
        let taken = benxi_divisions(&register, today).expect("every county has both");
        assert!(!taken.contains(&code("220102001001")), "another city's");
        assert!(!taken.contains(&code("210502001099")), "no longer in force");
        assert_eq!(at(RegionLevel::Village, &taken).len(), 508);

        // 南芬区's villages not recorded yet.
        register.retain(|c, _| !(c.gb2260() == "210505" && c.level() == RegionLevel::Village));
        assert!(benxi_divisions(&register, today).is_none());
    }
}
