//! One citizen's marital status (婚姻状况) as this registry records it: stream
//! `person-<pseudonym>`, keyed by a keyed hash of the citizen id number that the application
//! computes (the aggregate never sees its own key).
//!
//! A person's stream is a chronological history of status periods, each starting on a day and
//! resting on a record:
//!
//! 1. **marry** (结婚): married in a marriage, to a spouse, since the registration day; the record
//!    is the marriage. Refused while the history's current status is married: the Civil Code
//!    forbids bigamy (重婚, art. 1042), and the registry registers a marriage only when neither
//!    party is currently married according to its records. Refused for a deceased person;
//! 2. **divorce** (离婚): divorced from that marriage since the divorce's registration day; the
//!    record is the divorce application;
//! 3. **widow** (丧偶): widowed from that marriage since the day after the spouse's death (the
//!    first day the marriage no longer exists); the record is the death record;
//! 4. **decease** (死亡): the person died. Their status history is kept as it was, and no marriage
//!    is registered for them afterwards.
//!
//! After a divorce or widowhood the person may marry again. The history is chronological: a
//! change never starts before the current period (back-filled archives are entered oldest
//! first), so [`Person::status_on`] answers "what was the status on that day" by the last period
//! that started on or before it. No period means no record: not proof of being unmarried, since
//! a marriage registered elsewhere is not in these records.
//!
//! The rules that involve the spouse and the marriage record (both parties free to marry, the
//! marriage and both persons changed together) are decided across streams in
//! [`crate::registration`]; this aggregate guards one person's history.

use minzheng_kit::aggregate::{Aggregate, DomainError};
use minzheng_types::CitizenId;
use time::Date;

use crate::ids::{ApplicationId, MarriageId, Pseudonym};

/// A marital status this registry records; "no record" is the absence of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 有配偶: married.
    Married,
    /// 离婚: divorced.
    Divorced,
    /// 丧偶: widowed.
    Widowed,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Married, Status::Divorced, Status::Widowed];
}

/// One period of a person's status, from `since` until the next period starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusPeriod {
    pub status: Status,
    /// The first day of the status.
    pub since: Date,
    /// The marriage concerned.
    pub marriage: MarriageId,
    /// The spouse in that marriage.
    pub spouse: CitizenId,
    /// The record the change rests on: the marriage id, the divorce application id, or the
    /// death record id.
    pub record: String,
}

/// The state of one person; `Default` is a person with no record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    citizen: Option<CitizenId>,
    history: Vec<StatusPeriod>,
    deceased: Option<(Date, Pseudonym)>,
}

impl Person {
    /// The citizen, once any event has named them.
    pub fn citizen(&self) -> Option<&CitizenId> {
        self.citizen.as_ref()
    }

    /// Every status period, oldest first.
    pub fn history(&self) -> &[StatusPeriod] {
        &self.history
    }

    /// The status on `day`: the last period that started on or before it; `None` when this
    /// registry has no record of the person on that day.
    pub fn status_on(&self, day: Date) -> Option<&StatusPeriod> {
        self.history.iter().rev().find(|p| p.since <= day)
    }

    /// The latest period, whatever day it starts.
    pub fn current(&self) -> Option<&StatusPeriod> {
        self.history.last()
    }

    /// The day of death, once recorded.
    pub fn deceased_on(&self) -> Option<Date> {
        self.deceased.as_ref().map(|(day, _)| *day)
    }

    /// The death record, once recorded.
    pub fn death(&self) -> Option<&Pseudonym> {
        self.deceased.as_ref().map(|(_, death)| death)
    }

    /// Whether the latest period is a marriage.
    pub fn is_married_now(&self) -> bool {
        self.current().is_some_and(|p| p.status == Status::Married)
    }

    /// The latest period when it is a marriage in `marriage`.
    fn married_in(&self, marriage: &MarriageId) -> Option<&StatusPeriod> {
        self.current()
            .filter(|p| p.status == Status::Married && &p.marriage == marriage)
    }
}

/// What can be asked of a person's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Marry(Marry),
    Divorce(Divorce),
    Widow(Widow),
    Decease(Decease),
}

/// The person married `spouse` in `marriage` on `on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marry {
    pub citizen: CitizenId,
    pub spouse: CitizenId,
    pub marriage: MarriageId,
    pub on: Date,
}

/// The person's marriage was dissolved by the divorce registered on `application`, on `on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divorce {
    pub marriage: MarriageId,
    pub application: ApplicationId,
    pub on: Date,
}

/// The person's spouse in `marriage` died; widowed from `since` (the day after the death).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Widow {
    pub marriage: MarriageId,
    /// The spouse's death record.
    pub death: Pseudonym,
    pub since: Date,
}

/// The person died.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decease {
    pub citizen: CitizenId,
    pub died_on: Date,
    /// The death record.
    pub death: Pseudonym,
}

/// What happened to a person's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    StatusChanged(StatusChanged),
    Deceased(Deceased),
}

/// The person's marital status changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChanged {
    pub citizen: CitizenId,
    pub status: Status,
    pub since: Date,
    pub marriage: MarriageId,
    pub spouse: CitizenId,
    /// The marriage id, the divorce application id or the death record id.
    pub record: String,
}

/// The person died.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deceased {
    pub citizen: CitizenId,
    pub died_on: Date,
    pub death: Pseudonym,
}

/// A rule that refused a command on a person's record. Messages never name the person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the person is currently married according to this registry's records")]
    AlreadyMarried,
    #[error("the person is recorded as deceased")]
    PartyDeceased,
    #[error("the date is before the person's current marital status began")]
    OutOfOrder,
    #[error("the record belongs to another citizen")]
    CitizenMismatch,
    #[error("the person is not currently married in that marriage")]
    NotMarriedTo,
    #[error("the person's death is already recorded")]
    AlreadyDeceased,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::AlreadyMarried => "already_married",
            Error::PartyDeceased => "party_deceased",
            Error::OutOfOrder => "out_of_order",
            Error::CitizenMismatch => "citizen_mismatch",
            Error::NotMarriedTo => "not_married_to",
            Error::AlreadyDeceased => "already_deceased",
        }
    }
}

impl Aggregate for Person {
    const CATEGORY: &'static str = "person";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Marry(c) => {
                self.same_citizen(&c.citizen)?;
                if self.deceased.is_some() {
                    return Err(Error::PartyDeceased);
                }
                if self.is_married_now() {
                    return Err(Error::AlreadyMarried);
                }
                self.in_order(c.on)?;
                Ok(vec![Event::StatusChanged(StatusChanged {
                    citizen: c.citizen.clone(),
                    status: Status::Married,
                    since: c.on,
                    marriage: c.marriage.clone(),
                    spouse: c.spouse.clone(),
                    record: c.marriage.as_str().to_owned(),
                })])
            }
            Command::Divorce(c) => {
                let (citizen, period) = self.ending(&c.marriage)?;
                if self.deceased.is_some() {
                    return Err(Error::PartyDeceased);
                }
                self.in_order(c.on)?;
                Ok(vec![Event::StatusChanged(StatusChanged {
                    citizen: citizen.clone(),
                    status: Status::Divorced,
                    since: c.on,
                    marriage: c.marriage.clone(),
                    spouse: period.spouse.clone(),
                    record: c.application.as_str().to_owned(),
                })])
            }
            Command::Widow(c) => {
                let (citizen, period) = self.ending(&c.marriage)?;
                self.in_order(c.since)?;
                Ok(vec![Event::StatusChanged(StatusChanged {
                    citizen: citizen.clone(),
                    status: Status::Widowed,
                    since: c.since,
                    marriage: c.marriage.clone(),
                    spouse: period.spouse.clone(),
                    record: c.death.as_str().to_owned(),
                })])
            }
            Command::Decease(c) => {
                self.same_citizen(&c.citizen)?;
                if self.deceased.is_some() {
                    return Err(Error::AlreadyDeceased);
                }
                Ok(vec![Event::Deceased(Deceased {
                    citizen: c.citizen.clone(),
                    died_on: c.died_on,
                    death: c.death.clone(),
                })])
            }
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::StatusChanged(e) => {
                self.citizen.get_or_insert_with(|| e.citizen.clone());
                self.history.push(StatusPeriod {
                    status: e.status,
                    since: e.since,
                    marriage: e.marriage.clone(),
                    spouse: e.spouse.clone(),
                    record: e.record.clone(),
                });
            }
            Event::Deceased(e) => {
                self.citizen.get_or_insert_with(|| e.citizen.clone());
                self.deceased = Some((e.died_on, e.death.clone()));
            }
        }
        self
    }
}

impl Person {
    /// A stream holds one citizen's record only (a guard against a wrong key).
    fn same_citizen(&self, citizen: &CitizenId) -> Result<(), Error> {
        match &self.citizen {
            Some(known) if known != citizen => Err(Error::CitizenMismatch),
            _ => Ok(()),
        }
    }

    /// A new period never starts before the current one.
    fn in_order(&self, day: Date) -> Result<(), Error> {
        match self.current() {
            Some(current) if day < current.since => Err(Error::OutOfOrder),
            _ => Ok(()),
        }
    }

    /// The citizen and their current marriage in `marriage`, which a divorce or a death ends.
    fn ending(&self, marriage: &MarriageId) -> Result<(&CitizenId, &StatusPeriod), Error> {
        match (&self.citizen, self.married_in(marriage)) {
            (Some(citizen), Some(period)) => Ok((citizen, period)),
            _ => Err(Error::NotMarriedTo),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;
    use crate::verification::tests::citizen;

    /// A man born 1995-03-15.
    pub(crate) const GROOM: &str = "21050219950315001X";
    /// A woman born 1997-08-20.
    pub(crate) const BRIDE: &str = "210502199708200025";
    /// Another woman, born 1996-05-05.
    pub(crate) const OTHER_WOMAN: &str = "210502199605050028";

    pub(crate) fn marriage_id(id: &str) -> MarriageId {
        MarriageId::parse(id).expect("valid")
    }

    pub(crate) fn pseudonym(hex: &str) -> Pseudonym {
        Pseudonym::parse(&hex.repeat(32 / hex.len())).expect("valid")
    }

    fn application() -> ApplicationId {
        ApplicationId::parse("D210502-20280301-002").expect("valid")
    }

    const FIRST: &str = "J210502-20250701-003";
    const SECOND: &str = "J210502-20300115-001";

    fn marry(spouse: &str, marriage: &str, on: Date) -> Command {
        Command::Marry(Marry {
            citizen: citizen(GROOM),
            spouse: citizen(spouse),
            marriage: marriage_id(marriage),
            on,
        })
    }

    fn married(spouse: &str, marriage: &str, on: Date) -> Event {
        Event::StatusChanged(StatusChanged {
            citizen: citizen(GROOM),
            status: Status::Married,
            since: on,
            marriage: marriage_id(marriage),
            spouse: citizen(spouse),
            record: marriage.to_owned(),
        })
    }

    fn divorce(marriage: &str, on: Date) -> Command {
        Command::Divorce(Divorce {
            marriage: marriage_id(marriage),
            application: application(),
            on,
        })
    }

    fn widow(marriage: &str, since: Date) -> Command {
        Command::Widow(Widow {
            marriage: marriage_id(marriage),
            death: pseudonym("ab"),
            since,
        })
    }

    fn decease(died_on: Date) -> Command {
        Command::Decease(Decease {
            citizen: citizen(GROOM),
            died_on,
            death: pseudonym("cd"),
        })
    }

    /// Married, divorced, married again, widowed, then died.
    pub(crate) fn history() -> Vec<Event> {
        vec![
            married(BRIDE, FIRST, date!(2025 - 07 - 01)),
            Event::StatusChanged(StatusChanged {
                citizen: citizen(GROOM),
                status: Status::Divorced,
                since: date!(2028 - 05 - 02),
                marriage: marriage_id(FIRST),
                spouse: citizen(BRIDE),
                record: application().as_str().to_owned(),
            }),
            married(OTHER_WOMAN, SECOND, date!(2030 - 01 - 15)),
            Event::StatusChanged(StatusChanged {
                citizen: citizen(GROOM),
                status: Status::Widowed,
                since: date!(2041 - 09 - 11),
                marriage: marriage_id(SECOND),
                spouse: citizen(OTHER_WOMAN),
                record: pseudonym("ab").as_str().to_owned(),
            }),
            Event::Deceased(Deceased {
                citizen: citizen(GROOM),
                died_on: date!(2050 - 02 - 01),
                death: pseudonym("cd"),
            }),
        ]
    }

    fn until(index: usize) -> Vec<Event> {
        history().into_iter().take(index).collect()
    }

    #[test]
    fn a_person_marries_divorces_remarries_is_widowed_and_dies() {
        let commands = [
            marry(BRIDE, FIRST, date!(2025 - 07 - 01)),
            divorce(FIRST, date!(2028 - 05 - 02)),
            marry(OTHER_WOMAN, SECOND, date!(2030 - 01 - 15)),
            widow(SECOND, date!(2041 - 09 - 11)),
            decease(date!(2050 - 02 - 01)),
        ];
        for (index, command) in commands.into_iter().enumerate() {
            given::<Person>(until(index))
                .when(command)
                .then([history()[index].clone()]);
        }
    }

    #[test]
    fn the_status_on_a_day_is_the_last_period_started_by_then() {
        let state = given::<Person>(history());
        let person = state.state();
        let status = |day| {
            person
                .status_on(day)
                .map(|p| (p.status, p.marriage.as_str()))
        };
        assert_eq!(status(date!(2025 - 06 - 30)), None);
        assert_eq!(
            status(date!(2025 - 07 - 01)),
            Some((Status::Married, FIRST))
        );
        assert_eq!(
            status(date!(2028 - 05 - 01)),
            Some((Status::Married, FIRST))
        );
        assert_eq!(
            status(date!(2028 - 05 - 02)),
            Some((Status::Divorced, FIRST))
        );
        assert_eq!(
            status(date!(2035 - 01 - 01)),
            Some((Status::Married, SECOND))
        );
        assert_eq!(
            status(date!(2041 - 09 - 11)),
            Some((Status::Widowed, SECOND))
        );
        assert_eq!(person.current().map(|p| p.status), Some(Status::Widowed));
        assert_eq!(person.deceased_on(), Some(date!(2050 - 02 - 01)));
        assert_eq!(person.death(), Some(&pseudonym("cd")));
        assert_eq!(person.citizen(), Some(&citizen(GROOM)));
        assert_eq!(person.history().len(), 4);
        assert!(!person.is_married_now());

        let married = given::<Person>(until(1));
        assert!(married.state().is_married_now());
        assert_eq!(married.state().deceased_on(), None);
        assert_eq!(Person::default().current(), None);
    }

    #[test]
    fn a_married_person_cannot_marry_again() {
        given::<Person>(until(1))
            .when(marry(OTHER_WOMAN, SECOND, date!(2026 - 01 - 01)))
            .then_refused("already_married");
        given::<Person>(until(3))
            .when(marry(BRIDE, "J210502-20350101-001", date!(2035 - 01 - 01)))
            .then_refused("already_married");
    }

    #[test]
    fn divorced_and_widowed_persons_may_marry_again_even_on_the_same_day() {
        given::<Person>(until(2))
            .when(marry(BRIDE, SECOND, date!(2028 - 05 - 02)))
            .then([married(BRIDE, SECOND, date!(2028 - 05 - 02))]);
        let widowed = given::<Person>(until(4))
            .when(marry(BRIDE, "J210502-20420101-001", date!(2042 - 01 - 01)))
            .then([married(
                BRIDE,
                "J210502-20420101-001",
                date!(2042 - 01 - 01),
            )]);
        assert!(widowed.is_married_now());
    }

    #[test]
    fn a_deceased_person_cannot_marry_or_divorce_or_die_again() {
        given::<Person>(history())
            .when(marry(BRIDE, "J210502-20500301-001", date!(2050 - 03 - 01)))
            .then_refused("party_deceased");
        let died_married = [until(1), vec![history()[4].clone()]].concat();
        given::<Person>(died_married.clone())
            .when(divorce(FIRST, date!(2050 - 03 - 01)))
            .then_refused("party_deceased");
        given::<Person>(died_married)
            .when(decease(date!(2050 - 02 - 01)))
            .then_refused("already_deceased");
        // A death with no marital record is recorded too.
        given::<Person>([])
            .when(decease(date!(2050 - 02 - 01)))
            .then([history()[4].clone()]);
    }

    #[test]
    fn history_never_goes_back_before_the_current_period() {
        given::<Person>(until(2))
            .when(marry(BRIDE, SECOND, date!(2028 - 05 - 01)))
            .then_refused("out_of_order");
        given::<Person>(until(1))
            .when(divorce(FIRST, date!(2025 - 06 - 30)))
            .then_refused("out_of_order");
        given::<Person>(until(3))
            .when(widow(SECOND, date!(2030 - 01 - 14)))
            .then_refused("out_of_order");
    }

    #[test]
    fn only_a_current_marriage_ends_in_divorce_or_widowhood() {
        given::<Person>([])
            .when(divorce(FIRST, date!(2028 - 05 - 02)))
            .then_refused("not_married_to");
        given::<Person>(until(1))
            .when(divorce(SECOND, date!(2028 - 05 - 02)))
            .then_refused("not_married_to");
        given::<Person>(until(2))
            .when(divorce(FIRST, date!(2028 - 06 - 02)))
            .then_refused("not_married_to");
        given::<Person>(until(3))
            .when(widow(FIRST, date!(2041 - 09 - 11)))
            .then_refused("not_married_to");
        given::<Person>(until(4))
            .when(widow(SECOND, date!(2041 - 09 - 12)))
            .then_refused("not_married_to");
    }

    #[test]
    fn a_stream_holds_one_citizen_only() {
        let other = |command: Command| match command {
            Command::Marry(c) => Command::Marry(Marry {
                citizen: citizen(OTHER_WOMAN),
                ..c
            }),
            Command::Decease(c) => Command::Decease(Decease {
                citizen: citizen(OTHER_WOMAN),
                ..c
            }),
            other => other,
        };
        given::<Person>(until(2))
            .when(other(marry(GROOM, SECOND, date!(2030 - 01 - 15))))
            .then_refused("citizen_mismatch");
        given::<Person>(until(1))
            .when(other(decease(date!(2050 - 02 - 01))))
            .then_refused("citizen_mismatch");
    }

    #[test]
    fn refusals_never_name_the_person() {
        let refusal = given::<Person>(until(1))
            .when(marry(OTHER_WOMAN, SECOND, date!(2026 - 01 - 01)))
            .then_refused("already_married");
        assert!(!refusal.to_string().contains(GROOM));
    }
}
