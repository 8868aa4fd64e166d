//! The lineage resolver (区划沿革): from a code that may no longer exist to the divisions that
//! stand in its place on a given day.
//!
//! Each division keeps its validity period and, once superseded, the codes that took its place
//! ([`DivisionRecord`]). [`Lineage::resolve`] follows those links: a code still valid on `as_of`
//! resolves to itself; a code superseded on or before `as_of` resolves to the resolution of each
//! of its successors, so chains (a township merged, then the merged town recoded) are followed to
//! their end. A rename that keeps the code is not a supersession, so the code resolves to itself.
//! A split resolves to every part: the resolver cannot know which part a record belongs to, and
//! says so by answering more than one code.
//!
//! Validity periods are half-open: a division is valid from `valid_from` (inclusive) to
//! `valid_to` (exclusive), the day its successors become valid.
//!
//! It is a pure function of the records it is given; which records those are (a projection of the
//! division events) is the caller's business.

use std::collections::{BTreeMap, BTreeSet};

use minzheng_types::RegionCode;
use time::Date;

/// What the resolver needs to know about one division.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DivisionRecord {
    pub code: RegionCode,
    /// The first day the division is valid.
    pub valid_from: Date,
    /// The first day it is no longer valid; `None` while active.
    pub valid_to: Option<Date>,
    /// The codes that took its place when it was superseded.
    pub superseded_by: Vec<RegionCode>,
}

/// The division records, indexed by code.
#[derive(Debug, Clone, Default)]
pub struct Lineage {
    records: BTreeMap<RegionCode, DivisionRecord>,
}

impl FromIterator<DivisionRecord> for Lineage {
    fn from_iter<I: IntoIterator<Item = DivisionRecord>>(records: I) -> Self {
        Self {
            records: records.into_iter().map(|r| (r.code, r)).collect(),
        }
    }
}

impl Lineage {
    /// Adds or replaces the record of one division.
    pub fn insert(&mut self, record: DivisionRecord) {
        self.records.insert(record.code, record);
    }

    pub fn get(&self, code: RegionCode) -> Option<&DivisionRecord> {
        self.records.get(&code)
    }

    /// The codes standing in the place of `code` on `as_of`, in the order the adjustments named
    /// them and without duplicates:
    /// - `[code]` when `code` has not been superseded by `as_of` (including days before it became
    ///   valid: a record dated then is still filed under it);
    /// - the successors' resolutions when it was superseded on or before `as_of`;
    /// - empty when `code` is unknown, or was abolished without successors.
    ///
    /// A successor that is not among the records is answered as it is: the lineage named it, so
    /// it is the best answer there is. A cycle in the records (which valid adjustments cannot
    /// produce) is cut rather than followed forever.
    pub fn resolve(&self, code: RegionCode, as_of: Date) -> Vec<RegionCode> {
        if !self.records.contains_key(&code) {
            return Vec::new();
        }
        let mut resolved = Vec::new();
        let mut visited = BTreeSet::new();
        self.follow(code, as_of, &mut visited, &mut resolved);
        resolved
    }

    fn follow(
        &self,
        code: RegionCode,
        as_of: Date,
        visited: &mut BTreeSet<RegionCode>,
        resolved: &mut Vec<RegionCode>,
    ) {
        if !visited.insert(code) {
            return;
        }
        let superseded = self
            .records
            .get(&code)
            .filter(|r| r.valid_to.is_some_and(|to| to <= as_of));
        match superseded {
            None => {
                if !resolved.contains(&code) {
                    resolved.push(code);
                }
            }
            Some(record) => {
                for &successor in &record.superseded_by {
                    self.follow(successor, as_of, visited, resolved);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;
    use crate::division::tests::code;

    const IMPORTED: Date = date!(2020 - 06 - 30);

    fn active(digits: &str, valid_from: Date) -> DivisionRecord {
        DivisionRecord {
            code: code(digits),
            valid_from,
            valid_to: None,
            superseded_by: Vec::new(),
        }
    }

    fn superseded(digits: &str, valid_to: Date, by: &[&str]) -> DivisionRecord {
        DivisionRecord {
            code: code(digits),
            valid_from: IMPORTED,
            valid_to: Some(valid_to),
            superseded_by: by.iter().map(|d| code(d)).collect(),
        }
    }

    fn codes(digits: &[&str]) -> Vec<RegionCode> {
        digits.iter().map(|d| code(d)).collect()
    }

    /// 2025-07-01: 向阳乡 (210522202000) and 雅河朝鲜族乡 (210522201000) merge into a new town
    /// 210522112000; 2026-01-01: a village of 东营坊乡 is renamed and renumbered (210521202203
    /// becomes 210521202210); 2026-03-01: 南地街道 (210502001000) splits into two; 2027-01-01:
    /// the merged town is recoded to 210522113000.
    fn benxi() -> Lineage {
        [
            superseded("210522202000", date!(2025 - 07 - 01), &["210522112000"]),
            superseded("210522201000", date!(2025 - 07 - 01), &["210522112000"]),
            DivisionRecord {
                valid_from: date!(2025 - 07 - 01),
                ..superseded("210522112000", date!(2027 - 01 - 01), &["210522113000"])
            },
            active("210522113000", date!(2027 - 01 - 01)),
            superseded("210521202203", date!(2026 - 01 - 01), &["210521202210"]),
            active("210521202210", date!(2026 - 01 - 01)),
            active("210521202202", IMPORTED),
            superseded(
                "210502001000",
                date!(2026 - 03 - 01),
                &["210502013000", "210502014000"],
            ),
            active("210502013000", date!(2026 - 03 - 01)),
            active("210502014000", date!(2026 - 03 - 01)),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn resolution_table() {
        let lineage = benxi();
        let table: &[(&str, Date, &[&str])] = &[
            // Merger of two townships: before, each is itself; from the effective day, both
            // are the new town.
            ("210522202000", date!(2025 - 06 - 30), &["210522202000"]),
            ("210522201000", date!(2025 - 06 - 30), &["210522201000"]),
            ("210522202000", date!(2025 - 07 - 01), &["210522112000"]),
            ("210522201000", date!(2026 - 05 - 01), &["210522112000"]),
            // ...and after the town is recoded, the chain is followed to its end.
            ("210522202000", date!(2027 - 01 - 01), &["210522113000"]),
            ("210522112000", date!(2027 - 01 - 01), &["210522113000"]),
            // A renamed and renumbered village.
            ("210521202203", date!(2025 - 12 - 31), &["210521202203"]),
            ("210521202203", date!(2026 - 01 - 01), &["210521202210"]),
            // An untouched neighbour resolves to itself at any time.
            ("210521202202", date!(2030 - 01 - 01), &["210521202202"]),
            // A split resolves to every part.
            (
                "210502001000",
                date!(2026 - 03 - 01),
                &["210502013000", "210502014000"],
            ),
            ("210502001000", date!(2026 - 02 - 28), &["210502001000"]),
            // A successor asked about before it existed is still itself.
            ("210522113000", date!(2020 - 01 - 01), &["210522113000"]),
            // An unknown code resolves to nothing.
            ("210599999000", date!(2026 - 01 - 01), &[]),
        ];
        for &(from, as_of, expected) in table {
            assert_eq!(
                lineage.resolve(code(from), as_of),
                codes(expected),
                "{from} as of {as_of}"
            );
        }
    }

    #[test]
    fn successors_reached_twice_are_answered_once() {
        // A split whose two parts merge again later: both paths lead to the same code.
        let lineage: Lineage = [
            superseded(
                "210502001000",
                date!(2025 - 01 - 01),
                &["210502013000", "210502014000"],
            ),
            superseded("210502013000", date!(2026 - 01 - 01), &["210502015000"]),
            superseded("210502014000", date!(2026 - 01 - 01), &["210502015000"]),
            active("210502015000", date!(2026 - 01 - 01)),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            lineage.resolve(code("210502001000"), date!(2026 - 01 - 01)),
            codes(&["210502015000"])
        );
    }

    #[test]
    fn a_cycle_in_bad_records_terminates() {
        let lineage: Lineage = [
            superseded("210502013000", date!(2025 - 01 - 01), &["210502014000"]),
            superseded("210502014000", date!(2025 - 01 - 01), &["210502013000"]),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            lineage.resolve(code("210502013000"), date!(2026 - 01 - 01)),
            Vec::<RegionCode>::new()
        );
    }

    proptest! {
        /// For any chain of successive recodes, a code resolves to itself before its own
        /// supersession and to the last code valid on the day asked about after it.
        #[test]
        fn a_chain_of_recodes_resolves_to_the_code_valid_on_the_day(
            links in 1usize..6,
            asked in 0i64..3_000,
        ) {
            let start = date!(2020 - 01 - 01);
            let day = |n: usize| start + time::Duration::days(365 * n as i64);
            let village = |n: usize| code(&format!("210521202{:03}", 200 + n));
            let mut records: Vec<DivisionRecord> = (0..links)
                .map(|n| DivisionRecord {
                    code: village(n),
                    valid_from: day(n),
                    valid_to: Some(day(n + 1)),
                    superseded_by: vec![village(n + 1)],
                })
                .collect();
            records.push(DivisionRecord {
                code: village(links),
                valid_from: day(links),
                valid_to: None,
                superseded_by: Vec::new(),
            });
            let lineage: Lineage = records.into_iter().collect();
            let as_of = start + time::Duration::days(asked);
            let valid_then = (0..=links)
                .rev()
                .find(|&n| day(n) <= as_of)
                .unwrap_or(0);
            for n in 0..=links {
                let expected = if n >= valid_then { n } else { valid_then };
                prop_assert_eq!(lineage.resolve(village(n), as_of), vec![village(expected)]);
            }
        }
    }
}
