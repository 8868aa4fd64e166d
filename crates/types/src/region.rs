//! Administrative division codes: the 12-digit statistical division code (统计用区划代码).
//!
//! A code has five segments, `PP CC DD TTT VVV`: province, city (prefecture), county, township
//! and village. The **level** of a code is the level of its lowest non-zero segment, and its
//! **parent** is the code with that segment set to zero. This one rule covers every province,
//! including the irregular places:
//!
//! - a county-level city directly under a province, such as 419001000000 (济源市) under the
//!   placeholder city-level segment `90`: it is a county whose parent is 419000000000, a
//!   city-level code whose parent is the province 410000000000;
//! - a prefecture-level city without counties, such as 东莞市 441900000000, whose townships
//!   (441900003000) skip the county level: their parent is the city, and [`RegionCode::county`]
//!   is `None` for them.
//!
//! Every code with a non-zero province segment is accepted: the module checks the shape of a code
//! and derives the hierarchy from its digits, but it does not know which codes exist (that list
//! changes every year and belongs to a place-names register, not to a value type).
//!
//! The 6-digit GB/T 2260 code (the first six digits of the 12-digit code, also the region prefix
//! of a citizen identity number) is accepted only through [`RegionCode::from_gb2260`], never by
//! [`RegionCode::parse`]: the mapping itself is unambiguous (append six zeros), but a form that
//! asks for a 12-digit code should not silently accept a truncated one.

use std::fmt;
use std::str::FromStr;

/// How many digits a statistical division code has.
pub const LENGTH: usize = 12;

/// How many digits a GB/T 2260 code has.
pub const GB2260_LENGTH: usize = 6;

/// A valid 12-digit statistical division code; see the [module documentation](self).
///
/// Stored as its numeric value, so the type is `Copy` and compares by value; `Display` prints the
/// 12 digits with leading zeros preserved.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(u64);

/// The level of a division, from the top down. Deeper levels compare greater.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RegionLevel {
    /// 省级: `PP0000000000`.
    Province,
    /// 地级: `PPCC00000000`.
    City,
    /// 县级: `PPCCDD000000`.
    County,
    /// 乡级: `PPCCDDTTT000`.
    Township,
    /// 村级: all twelve digits significant.
    Village,
}

impl RegionLevel {
    /// All levels from the top down.
    pub const ALL: [RegionLevel; 5] = [
        RegionLevel::Province,
        RegionLevel::City,
        RegionLevel::County,
        RegionLevel::Township,
        RegionLevel::Village,
    ];

    /// The place value of the lowest digit of this level's segment: a code at this level is a
    /// multiple of it.
    const fn unit(self) -> u64 {
        match self {
            RegionLevel::Province => 10_000_000_000,
            RegionLevel::City => 100_000_000,
            RegionLevel::County => 1_000_000,
            RegionLevel::Township => 1_000,
            RegionLevel::Village => 1,
        }
    }

    /// The place value just above this level's segment (the segment is `code % span / unit`).
    const fn span(self) -> u64 {
        match self {
            RegionLevel::Province => 1_000_000_000_000,
            RegionLevel::City => 10_000_000_000,
            RegionLevel::County => 100_000_000,
            RegionLevel::Township => 1_000_000,
            RegionLevel::Village => 1_000,
        }
    }
}

impl fmt::Display for RegionLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RegionLevel::Province => "province",
            RegionLevel::City => "city",
            RegionLevel::County => "county",
            RegionLevel::Township => "township",
            RegionLevel::Village => "village",
        })
    }
}

/// Why a text is not a region code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegionCodeError {
    /// Nothing was entered.
    #[error("is empty; enter the 12-digit statistical division code")]
    Empty,
    /// The wrong number of characters.
    #[error("must be {expected} digits long, got {actual} characters")]
    Length {
        /// The number of digits required.
        expected: usize,
        /// The number of characters (not bytes) entered.
        actual: usize,
    },
    /// A character is not an ASCII digit.
    #[error("character {position} must be a digit")]
    NonDigit {
        /// 1-based position of the first offending character.
        position: usize,
    },
    /// The province segment is `00`, so the code names no division.
    #[error("the first two digits (the province) must not be 00")]
    NoProvince,
}

impl RegionCode {
    /// Parses a 12-digit statistical division code; see the [module documentation](self).
    pub fn parse(input: &str) -> Result<Self, RegionCodeError> {
        let value = digits(input, LENGTH)?;
        Self::from_u64(value)
    }

    /// Parses a 6-digit GB/T 2260 code (province, city, county) as the 12-digit code of the same
    /// division, e.g. `210502` → `210502000000`.
    pub fn from_gb2260(input: &str) -> Result<Self, RegionCodeError> {
        let value = digits(input, GB2260_LENGTH)?;
        Self::from_u64(value * 1_000_000)
    }

    /// The code with the given numeric value (at most 12 digits, province segment non-zero).
    pub fn from_u64(value: u64) -> Result<Self, RegionCodeError> {
        if value >= RegionLevel::Province.span() {
            return Err(RegionCodeError::Length {
                expected: LENGTH,
                actual: value.to_string().len(),
            });
        }
        if value < RegionLevel::Province.unit() {
            return Err(RegionCodeError::NoProvince);
        }
        Ok(Self(value))
    }

    /// The numeric value of the code.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// The 6-digit GB/T 2260 prefix (province, city, county digits).
    pub fn gb2260(self) -> String {
        format!("{:06}", self.0 / 1_000_000)
    }

    /// The level of the lowest non-zero segment.
    pub fn level(self) -> RegionLevel {
        RegionLevel::ALL
            .into_iter()
            .rev()
            .find(|level| self.segment(*level) != 0)
            // The province segment is non-zero by construction, so the search always succeeds.
            .unwrap_or(RegionLevel::Province)
    }

    /// The value of one segment, e.g. `21` for the province of 210502001000.
    pub fn segment(self, level: RegionLevel) -> u64 {
        self.0 % level.span() / level.unit()
    }

    /// The enclosing division: this code with its lowest non-zero segment zeroed. `None` for a
    /// province. The parent may skip a level (a township directly under a city has the city as
    /// parent).
    pub fn parent(self) -> Option<Self> {
        let span = self.level().span();
        if span == RegionLevel::Province.span() {
            return None;
        }
        Some(Self(self.0 / span * span))
    }

    /// This code's ancestor-or-self at `level`, or `None` when this code is above that level or
    /// its segment for that level is zero (a skipped level).
    pub fn ancestor_at(self, level: RegionLevel) -> Option<Self> {
        if level > self.level() || self.segment(level) == 0 {
            return None;
        }
        Some(Self(self.0 / level.unit() * level.unit()))
    }

    /// The province this code lies in (itself, for a province).
    pub fn province(self) -> Self {
        Self(self.0 / RegionLevel::Province.unit() * RegionLevel::Province.unit())
    }

    /// The city-level ancestor-or-self, if the code has a city segment.
    pub fn city(self) -> Option<Self> {
        self.ancestor_at(RegionLevel::City)
    }

    /// The county-level ancestor-or-self, if the code has a county segment.
    pub fn county(self) -> Option<Self> {
        self.ancestor_at(RegionLevel::County)
    }

    /// The township-level ancestor-or-self, if the code has a township segment.
    pub fn township(self) -> Option<Self> {
        self.ancestor_at(RegionLevel::Township)
    }

    /// Whether `other` lies within this division. Reflexive: a division contains itself.
    pub fn contains(self, other: Self) -> bool {
        let unit = self.level().unit();
        self.0 / unit == other.0 / unit
    }
}

/// The numeric value of exactly `expected` ASCII digits.
fn digits(input: &str, expected: usize) -> Result<u64, RegionCodeError> {
    let actual = input.chars().count();
    if actual == 0 {
        return Err(RegionCodeError::Empty);
    }
    if let Some(index) = input.chars().position(|c| !c.is_ascii_digit()) {
        // Report a stray letter before a wrong length only when the length is right, so that a
        // pasted 13-character value is described by its length first.
        if actual == expected {
            return Err(RegionCodeError::NonDigit {
                position: index + 1,
            });
        }
    }
    if actual != expected {
        return Err(RegionCodeError::Length { expected, actual });
    }
    Ok(input
        .bytes()
        .fold(0, |acc, d| acc * 10 + u64::from(d - b'0')))
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:012}", self.0)
    }
}

impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionCode({:012})", self.0)
    }
}

impl FromStr for RegionCode {
    type Err = RegionCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for RegionCode {
    type Error = RegionCodeError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RegionCode> for String {
    fn from(code: RegionCode) -> Self {
        code.to_string()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn code(text: &str) -> RegionCode {
        RegionCode::parse(text).expect("valid test code")
    }

    #[test]
    fn levels_follow_the_lowest_non_zero_segment() {
        assert_eq!(code("210000000000").level(), RegionLevel::Province);
        assert_eq!(code("210500000000").level(), RegionLevel::City);
        assert_eq!(code("210502000000").level(), RegionLevel::County);
        assert_eq!(code("210502001000").level(), RegionLevel::Township);
        assert_eq!(code("210502001001").level(), RegionLevel::Village);
    }

    #[test]
    fn parents_walk_up_one_level_at_a_time() {
        let chain: Vec<String> = std::iter::successors(Some(code("210502001001")), |c| c.parent())
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            chain,
            [
                "210502001001",
                "210502001000",
                "210502000000",
                "210500000000",
                "210000000000"
            ]
        );
    }

    #[test]
    fn a_county_level_city_under_a_province_has_the_placeholder_city_as_parent() {
        let jiyuan = code("419001000000");
        assert_eq!(jiyuan.level(), RegionLevel::County);
        assert_eq!(jiyuan.parent(), Some(code("419000000000")));
        assert_eq!(code("419000000000").level(), RegionLevel::City);
        assert_eq!(code("419000000000").parent(), Some(code("410000000000")));
        assert!(code("410000000000").contains(jiyuan));
    }

    #[test]
    fn a_township_directly_under_a_city_skips_the_county_level() {
        let town = code("441900003000");
        assert_eq!(town.level(), RegionLevel::Township);
        assert_eq!(town.parent(), Some(code("441900000000")));
        assert_eq!(town.county(), None);
        assert_eq!(town.city(), Some(code("441900000000")));
        assert_eq!(town.township(), Some(town));
    }

    #[test]
    fn ancestors_and_containment() {
        let village = code("210502001001");
        assert_eq!(village.county(), Some(code("210502000000")));
        assert_eq!(village.township(), Some(code("210502001000")));
        assert_eq!(village.province(), code("210000000000"));
        assert_eq!(code("210502000000").township(), None);
        assert!(code("210502000000").contains(village));
        assert!(village.contains(village));
        assert!(!village.contains(code("210502000000")));
        assert!(!code("210502000000").contains(code("210503001000")));
        assert!(!code("210000000000").contains(code("220000000000")));
    }

    #[test]
    fn gb2260_codes_are_accepted_only_explicitly() {
        assert_eq!(RegionCode::from_gb2260("210502"), Ok(code("210502000000")));
        assert_eq!(code("210502001001").gb2260(), "210502");
        assert_eq!(
            RegionCode::parse("210502"),
            Err(RegionCodeError::Length {
                expected: 12,
                actual: 6
            })
        );
    }

    #[test]
    fn malformed_codes_are_rejected_with_reasons() {
        assert_eq!(RegionCode::parse(""), Err(RegionCodeError::Empty));
        assert_eq!(
            RegionCode::parse("2105020010001"),
            Err(RegionCodeError::Length {
                expected: 12,
                actual: 13
            })
        );
        assert_eq!(
            RegionCode::parse("21050200100A"),
            Err(RegionCodeError::NonDigit { position: 12 })
        );
        assert_eq!(
            RegionCode::parse("２１０５０２００１０００"),
            Err(RegionCodeError::NonDigit { position: 1 })
        );
        assert_eq!(
            RegionCode::parse("000502001000"),
            Err(RegionCodeError::NoProvince)
        );
        assert!(RegionCode::from_u64(1_000_000_000_000).is_err());
    }

    #[test]
    fn leading_zeros_survive_display_and_serde() {
        // Province segment 01 is not a real province, but the shape rule accepts it and the
        // leading zero must not be lost.
        let odd = code("010100000000");
        assert_eq!(odd.to_string(), "010100000000");
        let json = serde_json::to_string(&odd).expect("serializes");
        assert_eq!(json, "\"010100000000\"");
        let back: RegionCode = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, odd);
        assert!(serde_json::from_str::<RegionCode>("\"000000000000\"").is_err());
    }

    fn codes() -> impl Strategy<Value = RegionCode> {
        // Zero segments are common in real codes, so generate them often.
        let segment = |max: u64| prop_oneof![Just(0u64), 1..=max];
        (
            1u64..=99,
            segment(99),
            segment(99),
            segment(999),
            segment(999),
        )
            .prop_map(|(p, c, d, t, v)| {
                RegionCode::from_u64(
                    p * 10_000_000_000 + c * 100_000_000 + d * 1_000_000 + t * 1_000 + v,
                )
                .expect("generated code is valid")
            })
    }

    proptest! {
        #[test]
        fn text_round_trips(c in codes()) {
            prop_assert_eq!(RegionCode::parse(&c.to_string()), Ok(c));
        }

        #[test]
        fn the_parent_is_shallower_and_contains_the_child(c in codes()) {
            match c.parent() {
                None => prop_assert_eq!(c.level(), RegionLevel::Province),
                Some(parent) => {
                    prop_assert!(parent.level() < c.level());
                    prop_assert!(parent.contains(c));
                    prop_assert!(!c.contains(parent));
                }
            }
        }

        #[test]
        fn every_ancestor_contains_the_code(c in codes()) {
            for ancestor in std::iter::successors(c.parent(), |a| a.parent()) {
                prop_assert!(ancestor.contains(c));
            }
            for level in RegionLevel::ALL {
                if let Some(ancestor) = c.ancestor_at(level) {
                    prop_assert_eq!(ancestor.level(), level);
                    prop_assert!(ancestor.contains(c));
                }
            }
        }

        #[test]
        fn containment_matches_the_ancestor_chain(a in codes(), b in codes()) {
            let chain_has_a = std::iter::successors(Some(b), |x| x.parent()).any(|x| x == a);
            prop_assert_eq!(a.contains(b), chain_has_a);
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,16}") {
            let _ = RegionCode::parse(&text);
            let _ = RegionCode::from_gb2260(&text);
        }
    }
}
