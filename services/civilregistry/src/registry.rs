//! A marriage registry (婚姻登记机关) and its marriage and family counselling room
//! (婚姻家庭辅导室), stream `registry-<12-digit county code>`.
//!
//! The plan (ch. 5 §4) sets the target of counselling rooms in 80% of the marriage registries
//! at county level or above. A registry's room is **opened** on a day and may be **closed**
//! later (the closing day is the first without it), then opened again; the history of these
//! periods is kept so that [`Registry::room_open_on`] answers for any past day, which is what
//! the indicator counts.
//!
//! Rules: the registry is a county-level division; a room is opened only when there is none
//! and closed only when there is one; dates never go back before the last change.

use minzheng_kit::aggregate::{Aggregate, DomainError};
use minzheng_types::{RegionCode, RegionLevel};
use time::Date;

/// One period the room served: from `opened_on` up to (not including) `closed_on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub opened_on: Date,
    /// The first day without the room; `None` while it is open.
    pub closed_on: Option<Date>,
}

impl Period {
    fn covers(&self, day: Date) -> bool {
        self.opened_on <= day && self.closed_on.is_none_or(|closed| day < closed)
    }
}

/// The state of one registry; `Default` is a registry with no recorded room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    registry: Option<RegionCode>,
    periods: Vec<Period>,
}

impl Registry {
    /// The registry, `None` before its first event.
    pub fn registry(&self) -> Option<RegionCode> {
        self.registry
    }

    /// Whether the counselling room served on `day`.
    pub fn room_open_on(&self, day: Date) -> bool {
        self.periods.iter().any(|p| p.covers(day))
    }

    /// Whether the room is open now (its last period is not closed).
    pub fn room_open(&self) -> bool {
        self.periods.last().is_some_and(|p| p.closed_on.is_none())
    }

    /// Every period the room served, oldest first.
    pub fn periods(&self) -> &[Period] {
        &self.periods
    }

    /// The day of the last opening or closing.
    fn last_change(&self) -> Option<Date> {
        self.periods
            .last()
            .map(|p| p.closed_on.unwrap_or(p.opened_on))
    }
}

/// What can be asked of a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    OpenCounsellingRoom(OpenCounsellingRoom),
    CloseCounsellingRoom(CloseCounsellingRoom),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCounsellingRoom {
    /// The registry: a county-level division.
    pub registry: RegionCode,
    /// The first day the room serves.
    pub on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseCounsellingRoom {
    pub registry: RegionCode,
    /// The first day without the room.
    pub on: Date,
}

/// What happened to a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    CounsellingRoomOpened(CounsellingRoomOpened),
    CounsellingRoomClosed(CounsellingRoomClosed),
}

/// A counselling room was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounsellingRoomOpened {
    pub registry: RegionCode,
    pub opened_on: Date,
}

/// The counselling room was closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounsellingRoomClosed {
    pub registry: RegionCode,
    pub closed_on: Date,
}

/// A rule that refused a registry command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("a marriage registry is a county-level division")]
    NotACounty,
    #[error("the command is for another registry than this stream's")]
    WrongRegistry,
    #[error("the registry's counselling room is already open")]
    AlreadyOpen,
    #[error("the registry has no open counselling room")]
    NoCounsellingRoom,
    #[error("the date is before the room's last opening or closing")]
    BeforeLastChange,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NotACounty => "not_a_county",
            Error::WrongRegistry => "wrong_registry",
            Error::AlreadyOpen => "counselling_room_already_open",
            Error::NoCounsellingRoom => "no_counselling_room",
            Error::BeforeLastChange => "before_last_change",
        }
    }
}

impl Aggregate for Registry {
    const CATEGORY: &'static str = "registry";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let (registry, on, open) = match command {
            Command::OpenCounsellingRoom(c) => (c.registry, c.on, true),
            Command::CloseCounsellingRoom(c) => (c.registry, c.on, false),
        };
        if registry.level() != RegionLevel::County {
            return Err(Error::NotACounty);
        }
        if self.registry.is_some_and(|r| r != registry) {
            return Err(Error::WrongRegistry);
        }
        match (open, self.room_open()) {
            (true, true) => return Err(Error::AlreadyOpen),
            (false, false) => return Err(Error::NoCounsellingRoom),
            _ => {}
        }
        if self.last_change().is_some_and(|last| on < last) {
            return Err(Error::BeforeLastChange);
        }
        Ok(vec![if open {
            Event::CounsellingRoomOpened(CounsellingRoomOpened {
                registry,
                opened_on: on,
            })
        } else {
            Event::CounsellingRoomClosed(CounsellingRoomClosed {
                registry,
                closed_on: on,
            })
        }])
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::CounsellingRoomOpened(e) => {
                self.registry.get_or_insert(e.registry);
                self.periods.push(Period {
                    opened_on: e.opened_on,
                    closed_on: None,
                });
            }
            Event::CounsellingRoomClosed(e) => {
                self.registry.get_or_insert(e.registry);
                if let Some(period) = self.periods.last_mut() {
                    period.closed_on = Some(e.closed_on);
                }
            }
        }
        self
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;

    pub(crate) fn registry() -> RegionCode {
        RegionCode::parse("210502000000").expect("valid")
    }

    fn open(on: Date) -> Command {
        Command::OpenCounsellingRoom(OpenCounsellingRoom {
            registry: registry(),
            on,
        })
    }

    fn close(on: Date) -> Command {
        Command::CloseCounsellingRoom(CloseCounsellingRoom {
            registry: registry(),
            on,
        })
    }

    pub(crate) fn opened(on: Date) -> Event {
        Event::CounsellingRoomOpened(CounsellingRoomOpened {
            registry: registry(),
            opened_on: on,
        })
    }

    pub(crate) fn closed(on: Date) -> Event {
        Event::CounsellingRoomClosed(CounsellingRoomClosed {
            registry: registry(),
            closed_on: on,
        })
    }

    #[test]
    fn a_room_is_opened_closed_and_reopened_and_its_periods_are_kept() {
        let state = given::<Registry>([])
            .when(open(date!(2022 - 03 - 01)))
            .then([opened(date!(2022 - 03 - 01))]);
        assert_eq!(state.registry(), Some(registry()));
        assert!(state.room_open());
        let state = given::<Registry>([opened(date!(2022 - 03 - 01))])
            .when(close(date!(2023 - 01 - 01)))
            .then([closed(date!(2023 - 01 - 01))]);
        assert!(!state.room_open());
        let state =
            given::<Registry>([opened(date!(2022 - 03 - 01)), closed(date!(2023 - 01 - 01))])
                .when(open(date!(2023 - 01 - 01)))
                .then([opened(date!(2023 - 01 - 01))]);
        assert_eq!(state.periods().len(), 2);

        let history = given::<Registry>([
            opened(date!(2022 - 03 - 01)),
            closed(date!(2023 - 01 - 01)),
            opened(date!(2024 - 06 - 01)),
        ]);
        let state = history.state();
        for (day, open) in [
            (date!(2022 - 02 - 28), false),
            (date!(2022 - 03 - 01), true),
            (date!(2022 - 12 - 31), true),
            (date!(2023 - 01 - 01), false),
            (date!(2024 - 05 - 31), false),
            (date!(2024 - 06 - 01), true),
            (date!(2030 - 01 - 01), true),
        ] {
            assert_eq!(state.room_open_on(day), open, "{day}");
        }
        assert!(!Registry::default().room_open_on(date!(2025 - 01 - 01)));
    }

    #[test]
    fn a_room_is_opened_only_when_there_is_none_and_closed_only_when_there_is_one() {
        given::<Registry>([opened(date!(2022 - 03 - 01))])
            .when(open(date!(2022 - 04 - 01)))
            .then_refused("counselling_room_already_open");
        given::<Registry>([])
            .when(close(date!(2022 - 04 - 01)))
            .then_refused("no_counselling_room");
        given::<Registry>([opened(date!(2022 - 03 - 01)), closed(date!(2023 - 01 - 01))])
            .when(close(date!(2023 - 02 - 01)))
            .then_refused("no_counselling_room");
    }

    #[test]
    fn dates_never_go_back_before_the_last_change() {
        given::<Registry>([opened(date!(2022 - 03 - 01))])
            .when(close(date!(2022 - 02 - 28)))
            .then_refused("before_last_change");
        given::<Registry>([opened(date!(2022 - 03 - 01)), closed(date!(2023 - 01 - 01))])
            .when(open(date!(2022 - 12 - 31)))
            .then_refused("before_last_change");
    }

    #[test]
    fn the_registry_is_a_county_and_the_streams_own() {
        given::<Registry>([])
            .when(Command::OpenCounsellingRoom(OpenCounsellingRoom {
                registry: RegionCode::parse("210500000000").expect("valid"),
                on: date!(2022 - 03 - 01),
            }))
            .then_refused("not_a_county");
        given::<Registry>([])
            .when(Command::OpenCounsellingRoom(OpenCounsellingRoom {
                registry: RegionCode::parse("210502001000").expect("valid"),
                on: date!(2022 - 03 - 01),
            }))
            .then_refused("not_a_county");
        given::<Registry>([opened(date!(2022 - 03 - 01))])
            .when(Command::CloseCounsellingRoom(CloseCounsellingRoom {
                registry: RegionCode::parse("210503000000").expect("valid"),
                on: date!(2023 - 01 - 01),
            }))
            .then_refused("wrong_registry");
    }
}
