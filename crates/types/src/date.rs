//! Calendar dates: strict `YYYY-MM-DD` parsing, age in completed years (周岁) and the day, month
//! and year arithmetic that legal periods need.
//!
//! Dates are [`time::Date`]; this module only adds the rules the civil-affairs work depends on:
//!
//! - **Age** ([`age_on`]) counts completed years. A person born on 29 February has their birthday
//!   on 1 March in common years, so they do not reach an age threshold a day early (the
//!   conservative reading: the entitlement starts when the full number of years has certainly
//!   elapsed).
//! - **Periods** follow the Civil Code (articles 200–203): the start day is not counted, so a
//!   period of *n* days starting (event) on day D ends at the end of [`add_days`]`(D, n)`; a period
//!   of months or years ends on the corresponding day of the final month, or on that month's last
//!   day when it has no such day ([`add_months`], [`add_years`]: 31 January + 1 month = 28 or 29
//!   February).
//!
//! What it does not know: public holidays (a period whose last day is a holiday extends to the
//! next working day, which needs the State Council's yearly calendar), time zones and times of day
//! (everything is a civil date in China Standard Time, decided by the caller) and "today" (no
//! clock here).

use time::{Date, Month};

/// Why a text is not a date.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not of the shape `YYYY-MM-DD` with ASCII digits.
    #[error("must be a date written YYYY-MM-DD, such as 2024-03-01")]
    Format,
    /// The right shape, but no such day (month 13, 30 February, …).
    #[error("is not a real calendar date")]
    NotACalendarDate,
}

/// Parses exactly `YYYY-MM-DD` (four-digit year, two-digit month and day, ASCII digits).
pub fn parse_date(input: &str) -> Result<Date, DateError> {
    let bytes = input.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shape_ok {
        return Err(DateError::Format);
    }
    let number = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'))
    };
    let year = i32::from(number(0..4));
    let month = u8::try_from(number(5..7)).map_err(|_| DateError::NotACalendarDate)?;
    let day = u8::try_from(number(8..10)).map_err(|_| DateError::NotACalendarDate)?;
    let month = Month::try_from(month).map_err(|_| DateError::NotACalendarDate)?;
    Date::from_calendar_date(year, month, day).map_err(|_| DateError::NotACalendarDate)
}

/// Formats a date as `YYYY-MM-DD`, the form [`parse_date`] reads (for years 0 to 9999).
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Age in completed years (周岁) on the date `on`; 0 if `on` is before the birth. A 29 February
/// birthday falls on 1 March in common years (see the [module documentation](self)).
pub fn age_on(birth: Date, on: Date) -> u32 {
    if on <= birth {
        return 0;
    }
    let years = on.year() - birth.year();
    let birthday_this_year = birthday_in(birth, on.year());
    let completed = if (on.month(), on.day()) >= birthday_this_year {
        years
    } else {
        years - 1
    };
    u32::try_from(completed).unwrap_or(0)
}

/// The (month, day) on which someone born on `birth` has their birthday in `year`.
fn birthday_in(birth: Date, year: i32) -> (Month, u8) {
    if birth.month() == Month::February && birth.day() == 29 && Month::February.length(year) == 28 {
        (Month::March, 1)
    } else {
        (birth.month(), birth.day())
    }
}

/// The date `days` days after `date` (before, if negative); `None` outside the supported range
/// (years -9999 to 9999).
pub fn add_days(date: Date, days: i64) -> Option<Date> {
    let julian = i64::from(date.to_julian_day()).checked_add(days)?;
    Date::from_julian_day(i32::try_from(julian).ok()?).ok()
}

/// The number of days from `from` to `to` (negative if `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    i64::from(to.to_julian_day()) - i64::from(from.to_julian_day())
}

/// The corresponding day `months` months later (earlier, if negative), or the last day of that
/// month when it is shorter; `None` outside the supported range.
pub fn add_months(date: Date, months: i32) -> Option<Date> {
    let zero_based = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1;
    let target = zero_based.checked_add(i64::from(months))?;
    let year = i32::try_from(target.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(target.rem_euclid(12) + 1).ok()?).ok()?;
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).ok()
}

/// The corresponding day `years` years later (earlier, if negative); 29 February becomes
/// 28 February in a common year. `None` outside the supported range.
pub fn add_years(date: Date, years: i32) -> Option<Date> {
    add_months(date, years.checked_mul(12)?)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    #[test]
    fn parses_strict_iso_dates() {
        assert_eq!(parse_date("2024-02-29"), Ok(date!(2024 - 02 - 29)));
        assert_eq!(parse_date("1900-01-01"), Ok(date!(1900 - 01 - 01)));
        assert_eq!(parse_date("2023-02-29"), Err(DateError::NotACalendarDate));
        assert_eq!(parse_date("2024-13-01"), Err(DateError::NotACalendarDate));
        assert_eq!(parse_date("2024-00-10"), Err(DateError::NotACalendarDate));
        for bad in [
            "2024-2-29",
            "20240229",
            "2024/02/29",
            " 2024-02-29",
            "2024-02-29T00:00",
            "",
            "２０２４-02-29",
            "+024-02-29",
        ] {
            assert_eq!(parse_date(bad), Err(DateError::Format), "{bad:?}");
        }
    }

    #[test]
    fn age_counts_completed_years() {
        let birth = date!(2000 - 06 - 15);
        assert_eq!(age_on(birth, date!(2018 - 06 - 14)), 17);
        assert_eq!(age_on(birth, date!(2018 - 06 - 15)), 18);
        assert_eq!(age_on(birth, date!(2000 - 06 - 15)), 0);
        assert_eq!(age_on(birth, date!(1999 - 01 - 01)), 0);
    }

    #[test]
    fn a_leap_day_birthday_falls_on_1_march_in_common_years() {
        let birth = date!(2004 - 02 - 29);
        assert_eq!(age_on(birth, date!(2022 - 02 - 28)), 17);
        assert_eq!(age_on(birth, date!(2022 - 03 - 01)), 18);
        assert_eq!(age_on(birth, date!(2024 - 02 - 28)), 19);
        assert_eq!(age_on(birth, date!(2024 - 02 - 29)), 20);
    }

    #[test]
    fn periods_follow_the_civil_code() {
        assert_eq!(
            add_days(date!(2024 - 01 - 31), 30),
            Some(date!(2024 - 03 - 01))
        );
        assert_eq!(
            add_days(date!(2024 - 03 - 01), -1),
            Some(date!(2024 - 02 - 29))
        );
        assert_eq!(add_days(date!(2024 - 03 - 01), i64::MAX), None);
        assert_eq!(
            add_months(date!(2024 - 01 - 31), 1),
            Some(date!(2024 - 02 - 29))
        );
        assert_eq!(
            add_months(date!(2023 - 01 - 31), 1),
            Some(date!(2023 - 02 - 28))
        );
        assert_eq!(
            add_months(date!(2023 - 11 - 15), 3),
            Some(date!(2024 - 02 - 15))
        );
        assert_eq!(
            add_months(date!(2024 - 03 - 31), -1),
            Some(date!(2024 - 02 - 29))
        );
        assert_eq!(
            add_years(date!(2024 - 02 - 29), 1),
            Some(date!(2025 - 02 - 28))
        );
        assert_eq!(
            add_years(date!(2024 - 02 - 29), 4),
            Some(date!(2028 - 02 - 29))
        );
        assert_eq!(add_years(date!(2024 - 02 - 29), i32::MAX), None);
        assert_eq!(
            days_between(date!(2024 - 01 - 01), date!(2025 - 01 - 01)),
            366
        );
    }

    fn dates() -> impl Strategy<Value = Date> {
        let first = date!(1900 - 01 - 01).to_julian_day();
        let last = date!(2200 - 12 - 31).to_julian_day();
        (first..=last).prop_map(|day| Date::from_julian_day(day).expect("in range"))
    }

    /// Completed years by brute force: count the birthdays (as the module defines them) that have
    /// passed.
    fn age_by_counting(birth: Date, on: Date) -> u32 {
        let mut age = 0;
        let mut year = birth.year() + 1;
        loop {
            let (month, day) = birthday_in(birth, year);
            let Ok(birthday) = Date::from_calendar_date(year, month, day) else {
                return age;
            };
            if birthday > on {
                return age;
            }
            age += 1;
            year += 1;
        }
    }

    proptest! {
        #[test]
        fn text_round_trips(d in dates()) {
            prop_assert_eq!(parse_date(&format_date(d)), Ok(d));
        }

        #[test]
        fn age_matches_counting_birthdays(birth in dates(), on in dates()) {
            prop_assert_eq!(age_on(birth, on), age_by_counting(birth, on));
        }

        #[test]
        fn age_never_decreases_and_grows_by_at_most_one_a_day(birth in dates(), on in dates()) {
            if let Some(next) = on.next_day() {
                let (today, tomorrow) = (age_on(birth, on), age_on(birth, next));
                prop_assert!(tomorrow == today || tomorrow == today + 1);
            }
        }

        #[test]
        fn age_is_reached_exactly_on_the_anniversary(birth in dates(), years in 1i32..120) {
            let anniversary = add_years(birth, years).expect("in range");
            let anniversary = if birth.month() == Month::February && birth.day() == 29 && anniversary.day() == 28 {
                anniversary.next_day().expect("in range")
            } else {
                anniversary
            };
            let years = u32::try_from(years).expect("positive");
            prop_assert_eq!(age_on(birth, anniversary), years);
            prop_assert_eq!(age_on(birth, anniversary.previous_day().expect("in range")), years - 1);
        }

        #[test]
        fn add_days_inverts_and_measures(d in dates(), n in -100_000i64..100_000) {
            let later = add_days(d, n).expect("in range");
            prop_assert_eq!(days_between(d, later), n);
            prop_assert_eq!(add_days(later, -n), Some(d));
        }

        #[test]
        fn add_months_keeps_or_clamps_the_day(d in dates(), n in -2_400i32..2_400) {
            let moved = add_months(d, n).expect("in range");
            let months = |x: Date| i64::from(x.year()) * 12 + i64::from(u8::from(x.month()));
            prop_assert_eq!(months(moved) - months(d), i64::from(n));
            prop_assert!(moved.day() == d.day() || moved.day() == moved.month().length(moved.year()));
            prop_assert!(moved.day() <= d.day());
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,12}") {
            let _ = parse_date(&text);
        }
    }
}
