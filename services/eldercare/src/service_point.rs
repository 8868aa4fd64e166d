//! A service point, stream `service_point-<id>`: an urban community elderly-care centre
//! (城市社区养老服务中心), a rural one (农村养老服务中心), or a home-care-bed programme
//! (家庭养老床位) — beds set up in elderly persons' homes and served from one provider — each with
//! its own capacity over time.
//!
//! Rules: the county is county-level and the division within it; the capacity is 1 to
//! [`MAX_CAPACITY`]; changes are dated in order, not before the opening, and nothing changes once
//! closed.

use minzheng_kit::aggregate::{Aggregate, DomainError};
use minzheng_types::{BoundedText, RegionCode, RegionLevel};
use time::Date;

use crate::{
    ids::ServicePointId,
    institution::{Dated, as_of},
};

/// The largest capacity of one service point.
pub const MAX_CAPACITY: u32 = 10_000;
/// Longest name, in characters.
pub const NAME_MAX_CHARS: usize = 100;

/// What a service point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    UrbanCentre,
    RuralCentre,
    HomeCareBeds,
}

/// What was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub id: ServicePointId,
    pub name: BoundedText,
    pub kind: Kind,
    pub county: RegionCode,
    pub division: RegionCode,
    pub capacity: u32,
    pub on: Date,
}

/// The state of a service point; `Default` is one not opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServicePoint {
    opened: Option<Opened>,
    capacity: Vec<Dated<u32>>,
    closed_on: Option<Date>,
}

impl ServicePoint {
    pub fn opened(&self) -> Option<&Opened> {
        self.opened.as_ref()
    }

    pub fn closed_on(&self) -> Option<Date> {
        self.closed_on
    }

    /// Whether it serves on `day`.
    pub fn serves_on(&self, day: Date) -> bool {
        self.opened.as_ref().is_some_and(|o| o.on <= day)
            && self.closed_on.is_none_or(|closed| day < closed)
    }

    /// Its capacity on `day`; 0 when not serving.
    pub fn capacity_on(&self, day: Date) -> u32 {
        if self.serves_on(day) {
            as_of(&self.capacity, day).unwrap_or(0)
        } else {
            0
        }
    }
}

/// What can be asked of a service point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Open(Opened),
    ChangeCapacity { capacity: u32, on: Date },
    Close { on: Date },
}

/// What happened to a service point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Opened(Opened),
    CapacityChanged(CapacityChanged),
    Closed(Closed),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapacityChanged {
    pub id: ServicePointId,
    pub capacity: u32,
    pub on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub id: ServicePointId,
    pub on: Date,
}

/// A rule that refused a service-point command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the service point is already open")]
    AlreadyOpen,
    #[error("no service point is open under this id")]
    NotOpen,
    #[error("the service point is closed")]
    Closed,
    #[error("the supervising division must be county-level")]
    NotACounty,
    #[error("the service point's division must lie within its county")]
    DivisionOutsideCounty,
    #[error("a capacity is 1 to {MAX_CAPACITY}")]
    CapacityOutOfRange,
    #[error("the date is before the service point's last change")]
    BeforeLastChange,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::AlreadyOpen => "already_open",
            Error::NotOpen => "service_point_not_open",
            Error::Closed => "service_point_closed",
            Error::NotACounty => "not_a_county",
            Error::DivisionOutsideCounty => "division_outside_county",
            Error::CapacityOutOfRange => "capacity_out_of_range",
            Error::BeforeLastChange => "before_last_change",
        }
    }
}

impl ServicePoint {
    fn open_one(&self, on: Date) -> Result<&Opened, Error> {
        let opened = self.opened.as_ref().ok_or(Error::NotOpen)?;
        if self.closed_on.is_some() {
            return Err(Error::Closed);
        }
        if self.capacity.last().is_some_and(|last| on < last.from) {
            return Err(Error::BeforeLastChange);
        }
        Ok(opened)
    }
}

fn check_capacity(capacity: u32) -> Result<(), Error> {
    if (1..=MAX_CAPACITY).contains(&capacity) {
        Ok(())
    } else {
        Err(Error::CapacityOutOfRange)
    }
}

impl Aggregate for ServicePoint {
    const CATEGORY: &'static str = "service_point";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Open(o) => {
                if self.opened.is_some() {
                    return Err(Error::AlreadyOpen);
                }
                if o.county.level() != RegionLevel::County {
                    return Err(Error::NotACounty);
                }
                if o.division == o.county || !o.county.contains(o.division) {
                    return Err(Error::DivisionOutsideCounty);
                }
                check_capacity(o.capacity)?;
                Ok(vec![Event::Opened(o.clone())])
            }
            Command::ChangeCapacity { capacity, on } => {
                let opened = self.open_one(*on)?;
                check_capacity(*capacity)?;
                Ok(vec![Event::CapacityChanged(CapacityChanged {
                    id: opened.id,
                    capacity: *capacity,
                    on: *on,
                })])
            }
            Command::Close { on } => {
                let opened = self.open_one(*on)?;
                Ok(vec![Event::Closed(Closed {
                    id: opened.id,
                    on: *on,
                })])
            }
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Opened(o) => {
                self.capacity.push(Dated {
                    from: o.on,
                    value: o.capacity,
                });
                self.opened = Some(o.clone());
            }
            Event::CapacityChanged(c) => self.capacity.push(Dated {
                from: c.on,
                value: c.capacity,
            }),
            Event::Closed(c) => self.closed_on = Some(c.on),
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;

    fn opened() -> Opened {
        Opened {
            id: ServicePointId::parse("SP-210521-0001").expect("valid"),
            name: BoundedText::parse("小市镇农村养老服务中心", 100).expect("valid"),
            kind: Kind::RuralCentre,
            county: RegionCode::parse("210521000000").expect("valid"),
            division: RegionCode::parse("210521100000").expect("valid"),
            capacity: 40,
            on: date!(2021 - 06 - 01),
        }
    }

    #[test]
    fn a_service_point_serves_with_its_capacity_between_opening_and_closing() {
        let id = opened().id;
        let history = [
            Event::Opened(opened()),
            Event::CapacityChanged(CapacityChanged {
                id,
                capacity: 60,
                on: date!(2023 - 01 - 01),
            }),
            Event::Closed(Closed {
                id,
                on: date!(2025 - 01 - 01),
            }),
        ];
        let given = given::<ServicePoint>(history);
        let point = given.state();
        assert_eq!(point.capacity_on(date!(2021 - 05 - 31)), 0);
        assert_eq!(point.capacity_on(date!(2021 - 06 - 01)), 40);
        assert_eq!(point.capacity_on(date!(2023 - 01 - 01)), 60);
        assert_eq!(point.capacity_on(date!(2025 - 01 - 01)), 0);
        given
            .when(Command::ChangeCapacity {
                capacity: 10,
                on: date!(2025 - 02 - 01),
            })
            .then_refused("service_point_closed");
    }

    #[test]
    fn capacities_and_places_are_checked() {
        let mut zero = opened();
        zero.capacity = 0;
        given::<ServicePoint>([])
            .when(Command::Open(zero))
            .then_refused("capacity_out_of_range");
        let mut elsewhere = opened();
        elsewhere.division = RegionCode::parse("210502001000").expect("valid");
        given::<ServicePoint>([])
            .when(Command::Open(elsewhere))
            .then_refused("division_outside_county");
        given::<ServicePoint>([Event::Opened(opened())])
            .when(Command::ChangeCapacity {
                capacity: 10,
                on: date!(2021 - 05 - 01),
            })
            .then_refused("before_last_change");
    }
}
