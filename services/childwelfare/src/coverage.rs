//! The coverage of child directors (儿童主任) and child supervisors (儿童督导员) on a day: the
//! "two full coverages" (两个全覆盖) of Benxi's 2021–2025 plan (ch. 5), staffing every village
//! and community (村（居）) and every township, town and sub-district (乡镇（街道）), and training
//! each new holder (新任职培训); and the indicator of village-level coverage
//! (村（居）儿童主任覆盖率), 95% in 2020 and 100% by 2025 ([`DIRECTOR_BASELINE_2020_BP`],
//! [`DIRECTOR_TARGET_2025_BP`]).
//!
//! [`coverage`] is pure: the caller brings the divisions in force on the day (from the
//! place-names register), the posts ([`Post`]) and the register's successor of a division that
//! left force. The rules:
//!
//! - **What is required.** Each division in force at village level requires a director, each at
//!   township level a supervisor ([`Role::of`]); divisions at other levels are ignored, and a
//!   division listed twice counts once.
//! - **Staffed.** A required division is staffed when its own post has a holder on the day
//!   ([`Post::staffed_on`]). When it has not, a post still registered under an **older code
//!   that is no longer in force** counts for it, when the older code's successor — followed
//!   through successive adjustments (a village merged into another, then recoded), at most
//!   [`MAX_SUCCESSION_STEPS`] — is this division and the older post is of the same role. This
//!   is how the count follows adjustments of divisions before the posts are re-registered: the
//!   holder of a merged village's post serves the merged village. Several older posts, or an own
//!   post and older ones, still make the division count **once**.
//! - **Not counted.** A post under a code no longer in force whose successor is not in force
//!   either, or which has none — the division was abolished, or split in several, so there is no
//!   single division for it to serve — counts for nothing. A post under a code in force counts
//!   for that division only.
//! - **Trained.** A staffed division is trained when the holder counted for it had completed a
//!   training on or after their appointment and on or before the day ([`Post::trained_on`]);
//!   among several older posts, a trained holder is preferred.
//! - **Ratios** are of the required divisions, in basis points (1/100 of a percent), rounded
//!   down so that 100% means every division: 199 of 200 is 9,950, not 10,000. There is none when
//!   nothing is required.
//!
//! Figures are given per county-level division (a division of a city without counties, such as
//! 东莞市's townships, is counted under the city) and in total, which is city-wide when the
//! divisions given are one city's. The vacant divisions and those whose holder is not yet
//! trained are listed, with the day each vacancy began where the division's own post had a
//! holder before. All counts and ratios are integers.

use std::collections::{BTreeMap, BTreeSet};

use minzheng_types::RegionCode;
use time::Date;

use crate::post::{Post, Role};

/// One whole in basis points: 100%.
pub const WHOLE_BP: u32 = 10_000;
/// The village-level coverage of child directors in 2020 (村（居）儿童主任覆盖率): 95%.
pub const DIRECTOR_BASELINE_2020_BP: u32 = 9_500;
/// The village-level coverage of child directors the plan asks for by 2025: 100%.
pub const DIRECTOR_TARGET_2025_BP: u32 = WHOLE_BP;
/// The most successive adjustments followed from a post's code to the division it counts for.
/// Real chains are a step or two; the bound only stops a register's cycle from looping.
pub const MAX_SUCCESSION_STEPS: usize = 32;

/// The counts of one role in one area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Divisions in force that require the post.
    pub required: u32,
    /// Of them, those with a holder on the day.
    pub staffed: u32,
    /// Of the staffed, those whose holder had been trained by the day.
    pub trained: u32,
}

impl Tally {
    /// Staffed divisions per 10,000 required, rounded down; `None` when none is required.
    pub fn staffed_bp(&self) -> Option<u32> {
        basis_points(self.staffed, self.required)
    }

    /// Divisions with a trained holder per 10,000 required, rounded down; `None` when none is
    /// required.
    pub fn trained_bp(&self) -> Option<u32> {
        basis_points(self.trained, self.required)
    }

    /// Whether every required division is staffed (vacuously so when none is required).
    pub fn fully_staffed(&self) -> bool {
        self.staffed == self.required
    }

    fn count(&mut self, status: Status) {
        self.required += 1;
        if status != Status::Vacant {
            self.staffed += 1;
        }
        if status == Status::Trained {
            self.trained += 1;
        }
    }
}

fn basis_points(part: u32, whole: u32) -> Option<u32> {
    if whole == 0 {
        return None;
    }
    let bp = u64::from(part) * u64::from(WHOLE_BP) / u64::from(whole);
    // `part` never exceeds `whole`, so this is at most 10,000.
    Some(u32::try_from(bp).unwrap_or(u32::MAX))
}

/// The counts of both roles in one area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Roles {
    /// Child directors of village-level divisions.
    pub directors: Tally,
    /// Child supervisors of township-level divisions.
    pub supervisors: Tally,
}

impl Roles {
    /// The tally of `role`.
    pub fn of(&self, role: Role) -> &Tally {
        match role {
            Role::Director => &self.directors,
            Role::Supervisor => &self.supervisors,
        }
    }

    fn of_mut(&mut self, role: Role) -> &mut Tally {
        match role {
            Role::Director => &mut self.directors,
            Role::Supervisor => &mut self.supervisors,
        }
    }
}

/// A required division without a holder on the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vacancy {
    pub division: RegionCode,
    pub role: Role,
    /// The first day of the vacancy, when the division's own post had a holder who left;
    /// `None` when it never had one under this code.
    pub since: Option<Date>,
}

/// A division counted as staffed by the post of an older code that adjustments led to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CarriedOver {
    /// The division in force.
    pub division: RegionCode,
    /// The code the counted post is registered under.
    pub post: RegionCode,
}

/// The coverage on one day; see the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub day: Date,
    /// By county-level division (or city, for divisions of a city without counties).
    pub by_county: BTreeMap<RegionCode, Roles>,
    /// Every division given: city-wide when they are one city's.
    pub total: Roles,
    /// The required divisions without a holder, by code.
    pub vacant: Vec<Vacancy>,
    /// The staffed divisions whose holder had not been trained by the day, by code.
    pub untrained: Vec<RegionCode>,
    /// The divisions staffed through an older code's post, by code.
    pub carried_over: Vec<CarriedOver>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Vacant,
    Staffed,
    Trained,
}

fn status(post: &Post, day: Date) -> Status {
    if post.trained_on(day) {
        Status::Trained
    } else if post.staffed_on(day) {
        Status::Staffed
    } else {
        Status::Vacant
    }
}

/// The division in force that the post under `code` (not in force) serves, following
/// `successor` through at most [`MAX_SUCCESSION_STEPS`] adjustments.
fn successor_in_force(
    code: RegionCode,
    in_force: &BTreeSet<RegionCode>,
    successor: &impl Fn(RegionCode) -> Option<RegionCode>,
) -> Option<RegionCode> {
    let mut current = code;
    for _ in 0..MAX_SUCCESSION_STEPS {
        current = successor(current)?;
        if in_force.contains(&current) {
            return Some(current);
        }
    }
    None
}

/// The area a division's figures are given under: its county, or its city when it has none.
fn area(division: RegionCode) -> RegionCode {
    division
        .county()
        .or_else(|| division.city())
        .unwrap_or_else(|| division.province())
}

/// The coverage on `day` of the divisions `in_force` that day, by the `posts` (any number, in
/// any order; posts never recorded are ignored, and one post per division is expected: when a
/// division has several, the last is its own), with `successor` giving the division a code that
/// left force was merged or recoded into (`None` when there is none, or several). See the
/// [module documentation](self) for the rules.
pub fn coverage<'a>(
    day: Date,
    in_force: &[RegionCode],
    posts: impl IntoIterator<Item = &'a Post>,
    successor: impl Fn(RegionCode) -> Option<RegionCode>,
) -> Coverage {
    let required: BTreeMap<RegionCode, Role> = in_force
        .iter()
        .filter_map(|&code| Role::of(code).map(|role| (code, role)))
        .collect();
    let codes: BTreeSet<RegionCode> = required.keys().copied().collect();

    let mut own: BTreeMap<RegionCode, &Post> = BTreeMap::new();
    let mut older: BTreeMap<RegionCode, Vec<(RegionCode, &Post)>> = BTreeMap::new();
    for post in posts {
        let Some(code) = post.division() else {
            continue;
        };
        if codes.contains(&code) {
            own.insert(code, post);
        } else if let Some(target) = successor_in_force(code, &codes, &successor)
            && Role::of(target) == Role::of(code)
        {
            older.entry(target).or_default().push((code, post));
        }
    }

    let mut result = Coverage {
        day,
        by_county: BTreeMap::new(),
        total: Roles::default(),
        vacant: Vec::new(),
        untrained: Vec::new(),
        carried_over: Vec::new(),
    };
    for (&division, &role) in &required {
        let own_post = own.get(&division).copied();
        let own_status = own_post.map_or(Status::Vacant, |post| status(post, day));
        let status = if own_status == Status::Vacant {
            // The best of the older posts: trained before merely staffed, then the lowest code.
            let carried = older
                .get(&division)
                .into_iter()
                .flatten()
                .map(|&(code, post)| (status(post, day), code))
                .filter(|(status, _)| *status != Status::Vacant)
                .min_by_key(|&(status, code)| (status != Status::Trained, code));
            match carried {
                Some((status, post)) => {
                    result.carried_over.push(CarriedOver { division, post });
                    status
                }
                None => Status::Vacant,
            }
        } else {
            own_status
        };
        match status {
            Status::Vacant => result.vacant.push(Vacancy {
                division,
                role,
                since: own_post.and_then(|post| post.vacant_since(day)),
            }),
            Status::Staffed => result.untrained.push(division),
            Status::Trained => {}
        }
        result.total.of_mut(role).count(status);
        result
            .by_county
            .entry(area(division))
            .or_default()
            .of_mut(role)
            .count(status);
    }
    result
}

#[cfg(test)]
mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;
    use crate::post::{
        Event,
        tests::{appointed, trained, vacated},
    };

    fn code(text: &str) -> RegionCode {
        RegionCode::parse(text).expect("valid")
    }

    /// 本溪满族自治县.
    const COUNTY: &str = "210521000000";
    /// 观音阁街道, a sub-district of it.
    const TOWNSHIP: &str = "210521001000";
    /// Communities of 观音阁街道.
    const A: &str = "210521001001";
    const B: &str = "210521001002";
    const C: &str = "210521001003";
    const D: &str = "210521001004";
    /// 桓仁镇 of 桓仁满族自治县, another county.
    const OTHER_TOWNSHIP: &str = "210522100000";

    const DAY: Date = date!(2024 - 06 - 30);

    fn post(events: impl IntoIterator<Item = Event>) -> Post {
        given::<Post>(events).state().clone()
    }

    /// A post held since 2021 and trained.
    fn trained_post(division: &str) -> Post {
        let division = code(division);
        post([
            appointed(division, "张三", date!(2021 - 03 - 01)),
            trained(division, date!(2021 - 04 - 15)),
        ])
    }

    /// A post held since 2021, never trained.
    fn untrained_post(division: &str) -> Post {
        post([appointed(code(division), "李四", date!(2021 - 03 - 01))])
    }

    /// A post held from 2021 to 2023 and vacant since.
    fn vacated_post(division: &str) -> Post {
        let division = code(division);
        post([
            appointed(division, "王五", date!(2021 - 03 - 01)),
            trained(division, date!(2021 - 04 - 15)),
            vacated(division, date!(2023 - 09 - 01)),
        ])
    }

    fn no_successor(_: RegionCode) -> Option<RegionCode> {
        None
    }

    fn codes(texts: &[&str]) -> Vec<RegionCode> {
        texts.iter().map(|t| code(t)).collect()
    }

    #[test]
    fn staffing_and_training_are_counted_per_role_with_the_vacancies_listed() {
        let posts = [
            trained_post(TOWNSHIP),
            trained_post(A),
            untrained_post(B),
            vacated_post(C),
        ];
        // A county listed among the divisions requires no post; D has never had one.
        let in_force = codes(&[COUNTY, TOWNSHIP, A, B, C, D]);
        let result = coverage(DAY, &in_force, &posts, no_successor);
        let directors = result.total.directors;
        assert_eq!(
            directors,
            Tally {
                required: 4,
                staffed: 2,
                trained: 1
            }
        );
        assert_eq!(directors.staffed_bp(), Some(5_000));
        assert_eq!(directors.trained_bp(), Some(2_500));
        assert!(!directors.fully_staffed());
        assert_eq!(
            result.total.supervisors,
            Tally {
                required: 1,
                staffed: 1,
                trained: 1
            }
        );
        assert_eq!(result.total.supervisors.staffed_bp(), Some(WHOLE_BP));
        assert_eq!(
            result.vacant,
            [
                Vacancy {
                    division: code(C),
                    role: Role::Director,
                    since: Some(date!(2023 - 09 - 01)),
                },
                Vacancy {
                    division: code(D),
                    role: Role::Director,
                    since: None,
                },
            ]
        );
        assert_eq!(result.untrained, [code(B)]);
        assert_eq!(result.by_county.len(), 1);
        assert_eq!(result.by_county[&code(COUNTY)], result.total);

        // Before C's holder left, C was staffed and trained.
        let earlier = coverage(date!(2023 - 08 - 31), &in_force, &posts, no_successor);
        assert_eq!(earlier.total.directors.trained, 2);
    }

    #[test]
    fn each_county_has_its_figures_and_a_division_listed_twice_counts_once() {
        let posts = [trained_post(TOWNSHIP), untrained_post(OTHER_TOWNSHIP)];
        let in_force = codes(&[TOWNSHIP, OTHER_TOWNSHIP, TOWNSHIP]);
        let result = coverage(DAY, &in_force, &posts, no_successor);
        assert_eq!(result.total.supervisors.required, 2);
        assert_eq!(result.total.supervisors.trained_bp(), Some(5_000));
        assert_eq!(
            result.by_county[&code(COUNTY)].supervisors,
            Tally {
                required: 1,
                staffed: 1,
                trained: 1
            }
        );
        assert_eq!(
            result.by_county[&code("210522000000")].supervisors,
            Tally {
                required: 1,
                staffed: 1,
                trained: 0
            }
        );
        assert_eq!(result.by_county[&code(COUNTY)].directors.staffed_bp(), None);
    }

    #[test]
    fn a_merged_divisions_post_counts_for_its_successor_once() {
        // B was merged into A: only A is in force.
        let merged = |c: RegionCode| (c == code(B)).then(|| code(A));
        let in_force = codes(&[A]);

        let only_old = [trained_post(B)];
        let result = coverage(DAY, &in_force, &only_old, merged);
        assert_eq!(
            result.total.directors,
            Tally {
                required: 1,
                staffed: 1,
                trained: 1
            }
        );
        assert_eq!(
            result.carried_over,
            [CarriedOver {
                division: code(A),
                post: code(B),
            }]
        );

        // A's own post is vacant: B's holder still serves the merged community.
        let own_vacant = [vacated_post(A), untrained_post(B)];
        let result = coverage(DAY, &in_force, &own_vacant, merged);
        assert_eq!(result.total.directors.staffed, 1);
        assert_eq!(result.untrained, [code(A)]);
        assert!(result.vacant.is_empty());

        // Both held: A counts once, by its own post.
        let both = [untrained_post(A), trained_post(B)];
        let result = coverage(DAY, &in_force, &both, merged);
        assert_eq!(
            result.total.directors,
            Tally {
                required: 1,
                staffed: 1,
                trained: 0
            }
        );
        assert!(result.carried_over.is_empty());

        // B and C both merged into A, neither re-registered: A counts once, trained.
        let two = |c: RegionCode| [code(B), code(C)].contains(&c).then(|| code(A));
        let result = coverage(DAY, &in_force, &[untrained_post(B), trained_post(C)], two);
        assert_eq!(
            result.total.directors,
            Tally {
                required: 1,
                staffed: 1,
                trained: 1
            }
        );
        assert_eq!(result.carried_over[0].post, code(C));
    }

    #[test]
    fn successive_adjustments_are_followed_but_a_cycle_ends() {
        // C was recoded as B, which was later merged into A.
        let chain = |c: RegionCode| {
            if c == code(C) {
                Some(code(B))
            } else if c == code(B) {
                Some(code(A))
            } else {
                None
            }
        };
        let result = coverage(DAY, &codes(&[A]), &[trained_post(C)], chain);
        assert_eq!(result.total.directors.staffed, 1);

        // A register that names B and C each other's successor leads nowhere.
        let cycle = |c: RegionCode| {
            if c == code(C) {
                Some(code(B))
            } else if c == code(B) {
                Some(code(C))
            } else {
                None
            }
        };
        let result = coverage(DAY, &codes(&[A]), &[trained_post(C)], cycle);
        assert_eq!(result.total.directors.staffed, 0);
    }

    #[test]
    fn a_split_or_ended_divisions_post_counts_for_nothing() {
        // D was split into A and B (no single successor); C was abolished.
        let in_force = codes(&[A, B]);
        let posts = [trained_post(D), trained_post(C)];
        let result = coverage(DAY, &in_force, &posts, no_successor);
        assert_eq!(
            result.total.directors,
            Tally {
                required: 2,
                staffed: 0,
                trained: 0
            }
        );
        assert_eq!(result.vacant.len(), 2);
        assert!(result.carried_over.is_empty());

        // A successor that is itself no longer in force is no successor.
        let gone = |c: RegionCode| (c == code(C)).then(|| code(D));
        let result = coverage(DAY, &in_force, &posts, gone);
        assert_eq!(result.total.directors.staffed, 0);
    }

    #[test]
    fn a_post_never_counts_for_a_division_of_another_role() {
        // A township recoded as a village-level code (a register error) does not make a
        // supervisor a director.
        let odd = |c: RegionCode| (c == code(OTHER_TOWNSHIP)).then(|| code(A));
        let result = coverage(DAY, &codes(&[A]), &[trained_post(OTHER_TOWNSHIP)], odd);
        assert_eq!(result.total.directors.staffed, 0);
    }

    #[test]
    fn ratios_round_down_so_that_only_full_coverage_is_100_percent() {
        let tally = |required, staffed| Tally {
            required,
            staffed,
            trained: 0,
        };
        assert_eq!(tally(200, 199).staffed_bp(), Some(9_950));
        assert_eq!(tally(20_001, 20_000).staffed_bp(), Some(9_999));
        assert_eq!(tally(3, 2).staffed_bp(), Some(6_666));
        assert_eq!(tally(20, 19).staffed_bp(), Some(DIRECTOR_BASELINE_2020_BP));
        assert_eq!(tally(508, 508).staffed_bp(), Some(DIRECTOR_TARGET_2025_BP));
        assert_eq!(tally(0, 0).staffed_bp(), None);
        assert_eq!(tally(u32::MAX, u32::MAX).staffed_bp(), Some(WHOLE_BP));
    }
}
