//! The service's notion of today. Aggregates never read a clock: the application asks its
//! [`Clock`] for today's date and puts it in the command. Tests and the scheduler tests use a
//! [`FixedClock`] they can move forward.

use std::sync::{
    Arc,
    atomic::{AtomicI32, Ordering},
};

use time::{Date, OffsetDateTime, UtcOffset};

/// China Standard Time, UTC+8, in which every civil date of the platform is counted.
pub const CHINA_STANDARD_TIME: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// Today in China Standard Time by the system clock.
pub fn today_in_china() -> Date {
    OffsetDateTime::now_utc()
        .to_offset(CHINA_STANDARD_TIME)
        .date()
}

/// Where a service gets today's date (and, for records such as the read audit, the time) from.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    fn today(&self) -> Date;

    /// The current instant. A clock that only knows days answers midnight of today, China
    /// Standard Time.
    fn now(&self) -> OffsetDateTime {
        self.today().midnight().assume_offset(CHINA_STANDARD_TIME)
    }
}

/// The system clock, in China Standard Time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn today(&self) -> Date {
        today_in_china()
    }

    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that says what it is told; shared between clones.
#[derive(Debug, Clone)]
pub struct FixedClock {
    julian_day: Arc<AtomicI32>,
}

impl FixedClock {
    pub fn new(today: Date) -> Self {
        Self {
            julian_day: Arc::new(AtomicI32::new(today.to_julian_day())),
        }
    }

    /// Moves every clone to `today`.
    pub fn set(&self, today: Date) {
        self.julian_day
            .store(today.to_julian_day(), Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn today(&self) -> Date {
        // Only ever stores a valid date's Julian day.
        Date::from_julian_day(self.julian_day.load(Ordering::SeqCst)).unwrap_or(Date::MIN)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn a_fixed_clock_moves_every_clone() {
        let clock = FixedClock::new(date!(2025 - 07 - 01));
        let clone = clock.clone();
        clock.set(date!(2025 - 08 - 31));
        assert_eq!(clone.today(), date!(2025 - 08 - 31));
        assert_eq!(
            clone.now().to_offset(CHINA_STANDARD_TIME).date(),
            date!(2025 - 08 - 31)
        );
        assert_eq!(CHINA_STANDARD_TIME.whole_hours(), 8);
    }
}
