//! Money as a whole number of fen (分; 1 元 = 100 fen), with checked arithmetic only.
//!
//! [`Fen`] wraps an `i64`. There is no floating point anywhere: amounts are parsed from yuan
//! strings digit by digit, sums and products are checked (`None` on overflow rather than a wrapped
//! or saturated amount), and every division names its rounding rule ([`Rounding`]).
//!
//! Which constructor to use:
//! - amounts that come from people or other systems (a form, a request, an imported file) go
//!   through [`Fen::non_negative`] or [`Fen::parse_yuan_non_negative`]: a payment, income or
//!   standard is never negative, so a minus sign there is an input error;
//! - [`Fen::new`] and [`Fen::parse_yuan`] accept negatives, for values the system computes itself
//!   (differences, corrections, balances).
//!
//! `Display` prints yuan with two decimals and the unit, `665.00 元`, for messages a caseworker
//! reads; [`Fen::to_yuan_string`] prints `665.00` without the unit, which [`Fen::parse_yuan`]
//! reads back. Serde writes the bare number of fen.
//!
//! An amount tied to a person (an income, a benefit) is personal data: this type cannot know
//! which amounts are, so it does not mask itself; do not log such amounts.

use std::fmt;
use std::str::FromStr;

/// An amount of money in fen; see the [module documentation](self).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Fen(i64);

/// How a division that does not come out even is rounded to whole fen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Towards negative infinity (a payment that must not exceed its share).
    Floor,
    /// Towards positive infinity (a charge that must cover its share).
    Ceiling,
    /// To the nearest fen, halves away from zero (四舍五入, the usual rule in regulations).
    HalfAwayFromZero,
}

/// Why an amount was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Nothing was entered.
    #[error("is empty; enter an amount in yuan such as 665 or 665.50")]
    Empty,
    /// Not a plain decimal number of yuan (exponents, plus signs, separators, spaces, …).
    #[error(
        "must be an amount in yuan written with digits and at most one decimal point, such as 665 or 665.50"
    )]
    Format,
    /// More than two decimals: smaller than one fen.
    #[error("must have at most 2 decimal places (1 fen = 0.01 yuan)")]
    TooManyDecimals,
    /// A minus sign or negative number where only non-negative amounts are allowed.
    #[error("must not be negative")]
    Negative,
    /// Beyond what an `i64` number of fen can hold.
    #[error("is too large")]
    Overflow,
}

impl Fen {
    /// Zero fen.
    pub const ZERO: Fen = Fen(0);

    /// Any amount, negative included: for values the system computes itself.
    pub const fn new(fen: i64) -> Self {
        Self(fen)
    }

    /// An amount from a person or another system, refused when negative.
    pub const fn non_negative(fen: i64) -> Result<Self, MoneyError> {
        if fen < 0 {
            Err(MoneyError::Negative)
        } else {
            Ok(Self(fen))
        }
    }

    /// Whole yuan, checked: `Fen::from_yuan(665)` is 66 500 fen.
    pub const fn from_yuan(yuan: i64) -> Option<Self> {
        match yuan.checked_mul(100) {
            Some(fen) => Some(Self(fen)),
            None => None,
        }
    }

    /// The number of fen.
    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Parses a yuan amount: digits, optionally a point and one or two decimals, optionally a
    /// leading minus sign. `"665"`, `"665.5"` and `"665.50"` are all 66 550 fen; `"1e3"`, `"+5"`,
    /// `".5"`, `"5."`, `"1,000"` and `"0.001"` are refused.
    pub fn parse_yuan(input: &str) -> Result<Self, MoneyError> {
        if input.is_empty() {
            return Err(MoneyError::Empty);
        }
        let (negative, unsigned) = match input.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, input),
        };
        let (whole, decimals) = match unsigned.split_once('.') {
            Some((whole, decimals)) if !decimals.is_empty() => (whole, decimals),
            Some(_) => return Err(MoneyError::Format),
            None => (unsigned, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(decimals) {
            return Err(MoneyError::Format);
        }
        if decimals.len() > 2 {
            return Err(MoneyError::TooManyDecimals);
        }
        // Accumulate as a negative number when the sign is negative, so that i64::MIN parses.
        let sign: i64 = if negative { -1 } else { 1 };
        let padded = format!("{decimals:0<2}");
        whole
            .bytes()
            .chain(padded.bytes())
            .try_fold(0i64, |acc, d| {
                acc.checked_mul(10)?.checked_add(sign * i64::from(d - b'0'))
            })
            .map(Self)
            .ok_or(MoneyError::Overflow)
    }

    /// Parses a yuan amount from a person or another system: like [`Fen::parse_yuan`], and
    /// refused when negative.
    pub fn parse_yuan_non_negative(input: &str) -> Result<Self, MoneyError> {
        let amount = Self::parse_yuan(input)?;
        if amount.is_negative() {
            return Err(MoneyError::Negative);
        }
        Ok(amount)
    }

    /// The sum, or `None` on overflow.
    pub const fn checked_add(self, other: Fen) -> Option<Fen> {
        match self.0.checked_add(other.0) {
            Some(fen) => Some(Fen(fen)),
            None => None,
        }
    }

    /// The difference, or `None` on overflow. May be negative.
    pub const fn checked_sub(self, other: Fen) -> Option<Fen> {
        match self.0.checked_sub(other.0) {
            Some(fen) => Some(Fen(fen)),
            None => None,
        }
    }

    /// The amount times a whole factor (a number of months, of members), or `None` on overflow.
    pub const fn checked_mul(self, factor: i64) -> Option<Fen> {
        match self.0.checked_mul(factor) {
            Some(fen) => Some(Fen(fen)),
            None => None,
        }
    }

    /// The amount divided by `divisor`, rounded as asked; `None` when dividing by zero or when
    /// the quotient overflows (only `i64::MIN / -1`).
    pub fn checked_div(self, divisor: i64, rounding: Rounding) -> Option<Fen> {
        self.checked_mul_div(1, divisor, rounding)
    }

    /// The amount times `numerator / denominator`, rounded once at the end as asked: e.g. 80 % of
    /// a standard is `checked_mul_div(80, 100, Rounding::HalfAwayFromZero)`. The product is
    /// computed in 128 bits, so only a result beyond `i64` or a zero denominator give `None`.
    pub fn checked_mul_div(
        self,
        numerator: i64,
        denominator: i64,
        rounding: Rounding,
    ) -> Option<Fen> {
        let product = i128::from(self.0) * i128::from(numerator);
        let quotient = divide(product, i128::from(denominator), rounding)?;
        i64::try_from(quotient).ok().map(Fen)
    }

    /// The sum of many amounts, or `None` on overflow.
    pub fn checked_sum<I: IntoIterator<Item = Fen>>(amounts: I) -> Option<Fen> {
        amounts
            .into_iter()
            .try_fold(Fen::ZERO, |total, amount| total.checked_add(amount))
    }

    /// The amount in yuan with exactly two decimals and no unit (`-665.50`); read back by
    /// [`Fen::parse_yuan`].
    pub fn to_yuan_string(self) -> String {
        self.yuan().to_string()
    }

    /// The amount in yuan as [`Fen::to_yuan_string`] writes it, for writing into a buffer
    /// without a string of its own.
    pub fn yuan(self) -> Yuan {
        Yuan(self)
    }
}

/// An amount shown in yuan with exactly two decimals and no unit (`-665.50`): [`Fen::yuan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Yuan(Fen);

impl fmt::Display for Yuan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0.0 < 0 { "-" } else { "" };
        let magnitude = self.0.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", magnitude / 100, magnitude % 100)
    }
}

/// Divides with the given rounding; `None` for a zero divisor.
fn divide(dividend: i128, divisor: i128, rounding: Rounding) -> Option<i128> {
    if divisor == 0 {
        return None;
    }
    let quotient = dividend.checked_div(divisor)?;
    let remainder = dividend.checked_rem(divisor)?;
    if remainder == 0 {
        return Some(quotient);
    }
    // The exact quotient lies strictly between `quotient` and `quotient + direction`.
    let direction = if (dividend < 0) == (divisor < 0) {
        1
    } else {
        -1
    };
    let away = match rounding {
        Rounding::Floor => direction < 0,
        Rounding::Ceiling => direction > 0,
        Rounding::HalfAwayFromZero => remainder.unsigned_abs() * 2 >= divisor.unsigned_abs(),
    };
    Some(if away { quotient + direction } else { quotient })
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} 元", self.to_yuan_string())
    }
}

impl FromStr for Fen {
    type Err = MoneyError;

    /// The same as [`Fen::parse_yuan`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_yuan(s)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_yuan_exactly() {
        assert_eq!(Fen::parse_yuan("665"), Ok(Fen::new(66_500)));
        assert_eq!(Fen::parse_yuan("665.5"), Ok(Fen::new(66_550)));
        assert_eq!(Fen::parse_yuan("665.50"), Ok(Fen::new(66_550)));
        assert_eq!(Fen::parse_yuan("665.00"), Ok(Fen::new(66_500)));
        assert_eq!(Fen::parse_yuan("0.01"), Ok(Fen::new(1)));
        assert_eq!(Fen::parse_yuan("007"), Ok(Fen::new(700)));
        assert_eq!(Fen::parse_yuan("-1.5"), Ok(Fen::new(-150)));
        assert_eq!(Fen::parse_yuan("-0"), Ok(Fen::ZERO));
    }

    #[test]
    fn refuses_what_is_not_a_plain_yuan_amount() {
        for input in [
            "1e3",
            "+5",
            ".5",
            "5.",
            "1,000",
            " 5",
            "5 ",
            "5..0",
            "1.2.3",
            "-",
            "--1",
            "NaN",
            "６６５",
        ] {
            assert_eq!(Fen::parse_yuan(input), Err(MoneyError::Format), "{input:?}");
        }
        assert_eq!(Fen::parse_yuan(""), Err(MoneyError::Empty));
        assert_eq!(Fen::parse_yuan("665.123"), Err(MoneyError::TooManyDecimals));
        assert_eq!(Fen::parse_yuan("0.001"), Err(MoneyError::TooManyDecimals));
        assert_eq!(
            Fen::parse_yuan("92233720368547758.08"),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Fen::parse_yuan("92233720368547758.07"),
            Ok(Fen::new(i64::MAX))
        );
        assert_eq!(
            Fen::parse_yuan("-92233720368547758.08"),
            Ok(Fen::new(i64::MIN))
        );
    }

    #[test]
    fn user_amounts_must_not_be_negative() {
        assert_eq!(Fen::non_negative(-1), Err(MoneyError::Negative));
        assert_eq!(Fen::non_negative(0), Ok(Fen::ZERO));
        assert_eq!(
            Fen::parse_yuan_non_negative("-0.01"),
            Err(MoneyError::Negative)
        );
        assert_eq!(Fen::parse_yuan_non_negative("665"), Ok(Fen::new(66_500)));
    }

    #[test]
    fn displays_yuan_with_two_decimals() {
        assert_eq!(Fen::new(66_500).to_string(), "665.00 元");
        assert_eq!(Fen::new(-5).to_string(), "-0.05 元");
        assert_eq!(Fen::new(66_550).to_yuan_string(), "665.50");
        assert_eq!(Fen::new(i64::MIN).to_yuan_string(), "-92233720368547758.08");
    }

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(Fen::new(1).checked_add(Fen::new(2)), Some(Fen::new(3)));
        assert_eq!(Fen::new(i64::MAX).checked_add(Fen::new(1)), None);
        assert_eq!(Fen::new(1).checked_sub(Fen::new(2)), Some(Fen::new(-1)));
        assert_eq!(Fen::new(i64::MIN).checked_sub(Fen::new(1)), None);
        assert_eq!(Fen::new(66_500).checked_mul(12), Some(Fen::new(798_000)));
        assert_eq!(Fen::new(i64::MAX).checked_mul(2), None);
        assert_eq!(Fen::from_yuan(665), Some(Fen::new(66_500)));
        assert_eq!(Fen::from_yuan(i64::MAX), None);
        assert_eq!(
            Fen::checked_sum([Fen::new(1), Fen::new(2), Fen::new(3)]),
            Some(Fen::new(6))
        );
        assert_eq!(Fen::checked_sum([Fen::new(i64::MAX), Fen::new(1)]), None);
    }

    #[test]
    fn division_names_its_rounding() {
        let ten = Fen::new(10);
        assert_eq!(ten.checked_div(3, Rounding::Floor), Some(Fen::new(3)));
        assert_eq!(ten.checked_div(3, Rounding::Ceiling), Some(Fen::new(4)));
        assert_eq!(
            ten.checked_div(3, Rounding::HalfAwayFromZero),
            Some(Fen::new(3))
        );
        assert_eq!(
            ten.checked_div(4, Rounding::HalfAwayFromZero),
            Some(Fen::new(3))
        );
        assert_eq!(
            Fen::new(-10).checked_div(4, Rounding::HalfAwayFromZero),
            Some(Fen::new(-3))
        );
        assert_eq!(
            Fen::new(-10).checked_div(3, Rounding::Floor),
            Some(Fen::new(-4))
        );
        assert_eq!(
            Fen::new(-10).checked_div(3, Rounding::Ceiling),
            Some(Fen::new(-3))
        );
        assert_eq!(ten.checked_div(0, Rounding::Floor), None);
        assert_eq!(Fen::new(i64::MIN).checked_div(-1, Rounding::Floor), None);
        // 80 % of 665.00 yuan, and one third of 1 000.00 yuan.
        assert_eq!(
            Fen::new(66_500).checked_mul_div(80, 100, Rounding::HalfAwayFromZero),
            Some(Fen::new(53_200))
        );
        assert_eq!(
            Fen::new(100_000).checked_mul_div(1, 3, Rounding::HalfAwayFromZero),
            Some(Fen::new(33_333))
        );
        // The intermediate product may exceed i64 as long as the result fits.
        assert_eq!(
            Fen::new(i64::MAX).checked_mul_div(3, 3, Rounding::Floor),
            Some(Fen::new(i64::MAX))
        );
    }

    #[test]
    fn serde_writes_fen() {
        assert_eq!(
            serde_json::to_string(&Fen::new(66_550)).expect("serializes"),
            "66550"
        );
        assert_eq!(
            serde_json::from_str::<Fen>("-1").expect("deserializes"),
            Fen::new(-1)
        );
    }

    fn nonzero() -> impl Strategy<Value = i64> {
        any::<i64>().prop_filter("non-zero", |d| *d != 0)
    }

    proptest! {
        #[test]
        fn yuan_strings_round_trip(fen in any::<i64>()) {
            let amount = Fen::new(fen);
            prop_assert_eq!(Fen::parse_yuan(&amount.to_yuan_string()), Ok(amount));
        }

        #[test]
        fn one_decimal_means_tens_of_fen(whole in 0i64..1_000_000, tenth in 0i64..10) {
            prop_assert_eq!(Fen::parse_yuan(&format!("{whole}.{tenth}")), Ok(Fen::new(whole * 100 + tenth * 10)));
        }

        #[test]
        fn checked_add_agrees_with_wide_arithmetic(a in any::<i64>(), b in any::<i64>()) {
            let wide = i128::from(a) + i128::from(b);
            let expected = i64::try_from(wide).ok().map(Fen::new);
            prop_assert_eq!(Fen::new(a).checked_add(Fen::new(b)), expected);
        }

        #[test]
        fn floor_and_ceiling_bracket_the_exact_quotient(n in any::<i64>(), d in nonzero()) {
            let (n, d128) = (i128::from(n), i128::from(d));
            // `q <= n/d` is `q*d <= n` for a positive divisor and `q*d >= n` for a negative one.
            let at_most = |q: i128| if d128 > 0 { q * d128 <= n } else { q * d128 >= n };
            let below = |q: i128| if d128 > 0 { q * d128 < n } else { q * d128 > n };
            let amount = Fen::new(i64::try_from(n).expect("from an i64"));
            if let Some(floor) = amount.checked_div(d, Rounding::Floor) {
                let f = i128::from(floor.fen());
                prop_assert!(at_most(f) && !at_most(f + 1));
            }
            if let Some(ceiling) = amount.checked_div(d, Rounding::Ceiling) {
                let c = i128::from(ceiling.fen());
                prop_assert!(below(c - 1) && !below(c));
            }
        }

        #[test]
        fn half_away_from_zero_is_within_half_a_fen(n in any::<i64>(), d in nonzero()) {
            if let Some(rounded) = Fen::new(n).checked_div(d, Rounding::HalfAwayFromZero) {
                // |rounded - n/d| <= 1/2, i.e. |rounded*d - n| * 2 <= |d|.
                let error = (i128::from(rounded.fen()) * i128::from(d) - i128::from(n)).abs();
                prop_assert!(error * 2 <= i128::from(d).abs());
                // A tie goes away from zero.
                if error * 2 == i128::from(d).abs() {
                    prop_assert!(i128::from(rounded.fen()).abs() * i128::from(d).abs() > i128::from(n).abs());
                }
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,24}") {
            let _ = Fen::parse_yuan(&text);
        }
    }
}
