//! The decisions that span several streams: a marriage and its two parties' person records, a
//! divorce's effect on the marriage and the parties, a death's effect on the marriage and the
//! surviving spouse.
//!
//! The event store appends to several streams atomically, and the application does that with
//! the plans decided here: pure functions that take the loaded state of every aggregate
//! involved, run each one's rules, and return the events for each stream, or the first rule
//! that refuses (naming which party it concerns, never their id number). So a marriage is
//! registered (结婚登记) only if, besides the marriage record's own conditions (two persons, a
//! man and a woman, of age, checked; [`marriage`]), neither party is currently married
//! according to this registry's records (no bigamy, 重婚) nor deceased ([`person`]); and the
//! marriage and both persons' statuses change together or not at all.
//!
//! Dates follow `MarriageDissolved.dissolved_on`, the first day the parties are no longer
//! married: a divorce dissolves the marriage on its registration day; a death on the day after
//! it, from which the surviving spouse is widowed (丧偶). The deceased's own `Deceased` event is
//! decided by the caller with [`person::Command::Decease`].

use std::fmt;

use minzheng_kit::aggregate::{Aggregate, DomainError, RefusalKind};
use minzheng_types::add_days;
use time::Date;

use crate::{
    ids::{ApplicationId, MarriageId, Pseudonym},
    marriage::{self, Cause, Marriage},
    person::{self, Person},
    verification::Party,
};

/// Whose person record refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The first of the marriage's parties.
    First,
    /// The second of the marriage's parties.
    Second,
    /// The party who died.
    Deceased,
    /// The surviving spouse.
    Spouse,
}

impl Role {
    fn of_party(index: usize) -> Self {
        if index == 0 {
            Role::First
        } else {
            Role::Second
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::First => "the first party",
            Role::Second => "the second party",
            Role::Deceased => "the deceased",
            Role::Spouse => "the surviving spouse",
        })
    }
}

/// The events of a marriage stream and of its two parties' person streams, parties in the
/// order of the marriage's parties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarriagePlan {
    pub marriage: Vec<marriage::Event>,
    pub parties: [Vec<person::Event>; 2],
}

/// The events of a marriage dissolved by a death and of the surviving spouse's person stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeathPlan {
    pub marriage: Vec<marriage::Event>,
    pub spouse: Vec<person::Event>,
}

/// A rule that refused a decision across streams.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Marriage(#[from] marriage::Error),
    #[error("{role}: {error}")]
    Person { role: Role, error: person::Error },
    #[error("the day after the death is outside the supported dates")]
    DateOutOfRange,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::Marriage(error) => error.rule(),
            Error::Person { error, .. } => error.rule(),
            Error::DateOutOfRange => "date_out_of_range",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            Error::Marriage(error) => error.kind(),
            Error::Person { error, .. } => error.kind(),
            Error::DateOutOfRange => RefusalKind::FailedPrecondition,
        }
    }
}

fn person_error(role: Role) -> impl Fn(person::Error) -> Error {
    move |error| Error::Person { role, error }
}

/// Registers a marriage: the marriage's rules, then each party's ([`person::Marry`]). `a` is
/// the person record of `command.parties[0]`, `b` of `command.parties[1]`.
pub fn register_marriage(
    marriage: &Marriage,
    a: &Person,
    b: &Person,
    command: &marriage::Register,
) -> Result<MarriagePlan, Error> {
    let events = marriage.handle(&marriage::Command::Register(command.clone()))?;
    let id = MarriageId::registered(&command.appointment);
    marry_parties(events, &id, &command.parties, command.on, [a, b])
}

/// Enters a marriage from the archive: the marriage's rules, then each party's
/// ([`person::Marry`] as of the registration day). `a` is the person record of
/// `command.parties[0]`, `b` of `command.parties[1]`.
pub fn backfill_marriage(
    marriage: &Marriage,
    a: &Person,
    b: &Person,
    command: &marriage::Backfill,
) -> Result<MarriagePlan, Error> {
    let events = marriage.handle(&marriage::Command::Backfill(command.clone()))?;
    marry_parties(events, &command.id, &command.parties, command.on, [a, b])
}

fn marry_parties(
    events: Vec<marriage::Event>,
    id: &MarriageId,
    parties: &[Party; 2],
    on: Date,
    persons: [&Person; 2],
) -> Result<MarriagePlan, Error> {
    let marry = |index: usize| {
        persons[index]
            .handle(&person::Command::Marry(person::Marry {
                citizen: parties[index].citizen.clone(),
                spouse: parties[1 - index].citizen.clone(),
                marriage: id.clone(),
                on,
            }))
            .map_err(person_error(Role::of_party(index)))
    };
    Ok(MarriagePlan {
        marriage: events,
        parties: [marry(0)?, marry(1)?],
    })
}

/// Dissolves a marriage by the divorce registered on `application` on `on`: the marriage's
/// rules ([`marriage::Dissolve`]), then each party's ([`person::Divorce`]). `a` and `b` are the
/// person records of the marriage's first and second party.
pub fn dissolve_by_divorce(
    marriage: &Marriage,
    a: &Person,
    b: &Person,
    application: &ApplicationId,
    on: Date,
) -> Result<MarriagePlan, Error> {
    let events = marriage.handle(&marriage::Command::Dissolve(marriage::Dissolve {
        on,
        cause: Cause::Divorce,
        record: application.as_str().to_owned(),
    }))?;
    let record = marriage.record().ok_or(marriage::Error::NotFound)?;
    let divorce = |index: usize, person: &Person| {
        let role = Role::of_party(index);
        if person
            .citizen()
            .is_some_and(|c| c != &record.parties[index].citizen)
        {
            return Err(person_error(role)(person::Error::CitizenMismatch));
        }
        person
            .handle(&person::Command::Divorce(person::Divorce {
                marriage: record.id.clone(),
                application: application.clone(),
                on,
            }))
            .map_err(person_error(role))
    };
    Ok(MarriagePlan {
        marriage: events,
        parties: [divorce(0, a)?, divorce(1, b)?],
    })
}

/// Dissolves the marriage of `deceased`, who died on `died_on` (death record `death`): the
/// marriage is dissolved, and `spouse` widowed, from the day after the death.
pub fn dissolve_by_death(
    deceased: &Person,
    marriage: &Marriage,
    spouse: &Person,
    death: Pseudonym,
    died_on: Date,
) -> Result<DeathPlan, Error> {
    let on = add_days(died_on, 1).ok_or(Error::DateOutOfRange)?;
    let events = marriage.handle(&marriage::Command::Dissolve(marriage::Dissolve {
        on,
        cause: Cause::Death,
        record: death.as_str().to_owned(),
    }))?;
    let record = marriage.record().ok_or(marriage::Error::NotFound)?;
    let deceased_citizen = deceased
        .citizen()
        .filter(|_| {
            deceased
                .current()
                .is_some_and(|p| p.status == person::Status::Married && p.marriage == record.id)
        })
        .ok_or(person_error(Role::Deceased)(person::Error::NotMarriedTo))?;
    let expected_spouse =
        marriage
            .spouse_of(deceased_citizen)
            .ok_or(person_error(Role::Deceased)(person::Error::CitizenMismatch))?;
    if spouse.citizen().is_some_and(|c| c != expected_spouse) {
        return Err(person_error(Role::Spouse)(person::Error::CitizenMismatch));
    }
    let widowed = spouse
        .handle(&person::Command::Widow(person::Widow {
            marriage: record.id.clone(),
            death,
            since: on,
        }))
        .map_err(person_error(Role::Spouse))?;
    Ok(DeathPlan {
        marriage: events,
        spouse: widowed,
    })
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::{
        marriage::tests::{
            DAY, MAN_22_TOMORROW, OLD_MAN, OLD_WOMAN, OTHER_MAN, appointment, backfill, backfilled,
            checks, couple, register, register_couple, registered,
        },
        person::{
            Status, StatusChanged,
            tests::{BRIDE, GROOM, OTHER_WOMAN, marriage_id, pseudonym},
        },
        verification::tests::citizen,
    };

    fn person(events: impl IntoIterator<Item = person::Event>) -> Person {
        events
            .into_iter()
            .fold(Person::default(), |state, event| state.apply(&event))
    }

    fn marriage_of(events: impl IntoIterator<Item = marriage::Event>) -> Marriage {
        events
            .into_iter()
            .fold(Marriage::default(), |state, event| state.apply(&event))
    }

    fn change(
        who: &str,
        status: Status,
        since: Date,
        marriage: &str,
        spouse: &str,
        record: &str,
    ) -> person::Event {
        person::Event::StatusChanged(StatusChanged {
            citizen: citizen(who),
            status,
            since,
            marriage: marriage_id(marriage),
            spouse: citizen(spouse),
            record: record.to_owned(),
        })
    }

    const THIS: &str = "J210502-20250701-003";
    const EARLIER: &str = "J210502-20200505-001";
    const DIVORCE: &str = "D210502-20240101-001";

    /// `who` married `spouse` in an earlier marriage.
    fn married_before(who: &str, spouse: &str) -> person::Event {
        change(
            who,
            Status::Married,
            date!(2020 - 05 - 05),
            EARLIER,
            spouse,
            EARLIER,
        )
    }

    fn deceased(who: &str) -> person::Event {
        person::Event::Deceased(person::Deceased {
            citizen: citizen(who),
            died_on: date!(2025 - 06 - 01),
            death: pseudonym("ee"),
        })
    }

    fn refusal(outcome: Result<MarriagePlan, Error>) -> Error {
        outcome.expect_err("expected a refusal")
    }

    #[test]
    fn a_registration_returns_the_events_of_the_marriage_and_both_parties() {
        let plan = register_marriage(
            &Marriage::default(),
            &Person::default(),
            &Person::default(),
            &register(),
        )
        .expect("registered");
        assert_eq!(
            plan,
            MarriagePlan {
                marriage: vec![registered()],
                parties: [
                    vec![change(GROOM, Status::Married, DAY, THIS, BRIDE, THIS)],
                    vec![change(BRIDE, Status::Married, DAY, THIS, GROOM, THIS)],
                ],
            }
        );
    }

    #[test]
    fn a_party_married_in_another_marriage_is_refused() {
        let married = person([married_before(GROOM, OTHER_WOMAN)]);
        let error = refusal(register_marriage(
            &Marriage::default(),
            &married,
            &Person::default(),
            &register(),
        ));
        assert_eq!(error.rule(), "already_married");
        assert_eq!(
            error,
            Error::Person {
                role: Role::First,
                error: person::Error::AlreadyMarried
            }
        );
        assert!(error.to_string().starts_with("the first party"));
        assert!(!error.to_string().contains(GROOM));

        let married = person([married_before(BRIDE, OTHER_MAN)]);
        let error = refusal(register_marriage(
            &Marriage::default(),
            &Person::default(),
            &married,
            &register(),
        ));
        assert_eq!(
            error,
            Error::Person {
                role: Role::Second,
                error: person::Error::AlreadyMarried
            }
        );
    }

    #[test]
    fn a_deceased_party_is_refused() {
        let error = refusal(register_marriage(
            &Marriage::default(),
            &Person::default(),
            &person([deceased(BRIDE)]),
            &register(),
        ));
        assert_eq!(error.rule(), "party_deceased");
        assert_eq!(
            error,
            Error::Person {
                role: Role::Second,
                error: person::Error::PartyDeceased
            }
        );
    }

    #[test]
    fn the_marriage_rules_apply_first() {
        let fresh = || (Marriage::default(), Person::default(), Person::default());
        let (m, a, b) = fresh();
        let error = refusal(register_marriage(
            &m,
            &a,
            &b,
            &register_couple(MAN_22_TOMORROW, BRIDE),
        ));
        assert_eq!(error.rule(), "man_under_22");
        assert_eq!(error, Error::Marriage(marriage::Error::ManUnder22));
        let error = refusal(register_marriage(
            &m,
            &a,
            &b,
            &register_couple(GROOM, GROOM),
        ));
        assert_eq!(error.rule(), "same_person");
        let error = refusal(register_marriage(
            &m,
            &a,
            &b,
            &register_couple(GROOM, OTHER_MAN),
        ));
        assert_eq!(error.rule(), "not_a_man_and_a_woman");
        let error = refusal(register_marriage(
            &marriage_of([registered()]),
            &a,
            &b,
            &register(),
        ));
        assert_eq!(error.rule(), "already_registered");
    }

    #[test]
    fn a_divorced_party_may_marry_again() {
        let parties = couple(GROOM, OTHER_WOMAN);
        let earlier = marriage_of([marriage::Event::Registered(marriage::Registered {
            id: marriage_id(EARLIER),
            certificate_number: EARLIER.to_owned(),
            registry: appointment("210502-20200505-001").registry(),
            registered_on: date!(2020 - 05 - 05),
            verifications: checks(&parties),
            parties,
            appointment: appointment("210502-20200505-001"),
        })]);
        let groom = vec![married_before(GROOM, OTHER_WOMAN)];
        let other = person([married_before(OTHER_WOMAN, GROOM)]);
        let application = ApplicationId::parse(DIVORCE).expect("valid");
        let divorce = dissolve_by_divorce(
            &earlier,
            &person(groom.clone()),
            &other,
            &application,
            date!(2024 - 01 - 31),
        )
        .expect("divorced");

        let groom = person(groom.into_iter().chain(divorce.parties[0].clone()));
        let plan = register_marriage(
            &Marriage::default(),
            &groom,
            &Person::default(),
            &register(),
        )
        .expect("may marry again");
        assert_eq!(
            plan.parties[0],
            vec![change(GROOM, Status::Married, DAY, THIS, BRIDE, THIS)]
        );
    }

    #[test]
    fn a_divorce_dissolves_the_marriage_and_both_parties_statuses() {
        let marriage = marriage_of([registered()]);
        let groom = person([change(GROOM, Status::Married, DAY, THIS, BRIDE, THIS)]);
        let bride = person([change(BRIDE, Status::Married, DAY, THIS, GROOM, THIS)]);
        let application = ApplicationId::parse("D210502-20280301-002").expect("valid");
        let on = date!(2028 - 05 - 02);
        let plan =
            dissolve_by_divorce(&marriage, &groom, &bride, &application, on).expect("dissolved");
        let record = application.as_str();
        assert_eq!(
            plan,
            MarriagePlan {
                marriage: vec![marriage::Event::Dissolved(marriage::Dissolved {
                    id: marriage_id(THIS),
                    dissolved_on: on,
                    cause: Cause::Divorce,
                    record: record.to_owned(),
                })],
                parties: [
                    vec![change(GROOM, Status::Divorced, on, THIS, BRIDE, record)],
                    vec![change(BRIDE, Status::Divorced, on, THIS, GROOM, record)],
                ],
            }
        );
        let error = refusal(dissolve_by_divorce(
            &Marriage::default(),
            &groom,
            &bride,
            &application,
            on,
        ));
        assert_eq!(error.rule(), "marriage_not_found");
        assert_eq!(error.kind(), RefusalKind::NotFound);
        let error = refusal(dissolve_by_divorce(
            &marriage,
            &groom,
            &Person::default(),
            &application,
            on,
        ));
        assert_eq!(
            error,
            Error::Person {
                role: Role::Second,
                error: person::Error::NotMarriedTo
            }
        );
        // The records in the wrong order.
        let error = refusal(dissolve_by_divorce(
            &marriage,
            &bride,
            &groom,
            &application,
            on,
        ));
        assert_eq!(
            error,
            Error::Person {
                role: Role::First,
                error: person::Error::CitizenMismatch
            }
        );
    }

    #[test]
    fn a_death_dissolves_the_marriage_and_widows_the_spouse_from_the_next_day() {
        let marriage = marriage_of([registered()]);
        let groom = person([
            change(GROOM, Status::Married, DAY, THIS, BRIDE, THIS),
            deceased(GROOM),
        ]);
        let bride = person([change(BRIDE, Status::Married, DAY, THIS, GROOM, THIS)]);
        let death = pseudonym("ee");
        let died_on = date!(2040 - 02 - 29);
        let plan = dissolve_by_death(&groom, &marriage, &bride, death.clone(), died_on)
            .expect("dissolved");
        let next_day = date!(2040 - 03 - 01);
        assert_eq!(
            plan,
            DeathPlan {
                marriage: vec![marriage::Event::Dissolved(marriage::Dissolved {
                    id: marriage_id(THIS),
                    dissolved_on: next_day,
                    cause: Cause::Death,
                    record: death.as_str().to_owned(),
                })],
                spouse: vec![change(
                    BRIDE,
                    Status::Widowed,
                    next_day,
                    THIS,
                    GROOM,
                    death.as_str()
                )],
            }
        );

        // The widowed spouse may marry again.
        let widowed = person(
            [change(BRIDE, Status::Married, DAY, THIS, GROOM, THIS)]
                .into_iter()
                .chain(plan.spouse),
        );
        let remarriage = marriage::Register {
            on: date!(2041 - 05 - 20),
            appointment: appointment("210502-20410520-001"),
            ..register_couple(OTHER_MAN, BRIDE)
        };
        let plan = register_marriage(
            &Marriage::default(),
            &Person::default(),
            &widowed,
            &remarriage,
        )
        .expect("may marry again");
        assert_eq!(plan.parties[1].len(), 1);
    }

    #[test]
    fn a_death_dissolves_only_the_deceaseds_current_marriage() {
        let marriage = marriage_of([registered()]);
        let groom = person([change(GROOM, Status::Married, DAY, THIS, BRIDE, THIS)]);
        let bride = person([change(BRIDE, Status::Married, DAY, THIS, GROOM, THIS)]);
        let died_on = date!(2040 - 01 - 01);
        let death = || pseudonym("ee");

        let error = dissolve_by_death(&groom, &Marriage::default(), &bride, death(), died_on)
            .expect_err("no marriage");
        assert_eq!(error.rule(), "marriage_not_found");

        let dissolved = marriage_of(marriage::tests::history());
        let error =
            dissolve_by_death(&groom, &dissolved, &bride, death(), died_on).expect_err("dissolved");
        assert_eq!(error.rule(), "marriage_dissolved");

        let error = dissolve_by_death(&Person::default(), &marriage, &bride, death(), died_on)
            .expect_err("not married");
        assert_eq!(
            error,
            Error::Person {
                role: Role::Deceased,
                error: person::Error::NotMarriedTo
            }
        );

        // The deceased's own record passed as the spouse's.
        let error = dissolve_by_death(&groom, &marriage, &groom, death(), died_on)
            .expect_err("wrong spouse");
        assert_eq!(
            error,
            Error::Person {
                role: Role::Spouse,
                error: person::Error::CitizenMismatch
            }
        );

        let error = dissolve_by_death(&groom, &marriage, &Person::default(), death(), died_on)
            .expect_err("spouse not married");
        assert_eq!(error.rule(), "not_married_to");

        let error = dissolve_by_death(&groom, &marriage, &bride, death(), date!(2025 - 06 - 29))
            .expect_err("before registration");
        assert_eq!(error.rule(), "before_registration");
    }

    #[test]
    fn a_backfilled_marriage_changes_both_parties_as_of_its_day() {
        let plan = backfill_marriage(
            &Marriage::default(),
            &Person::default(),
            &Person::default(),
            &backfill(),
        )
        .expect("back-filled");
        let id = "A-9c1e5f0c9c1e5f0c9c1e5f0c9c1e5f0c";
        let on = backfill().on;
        assert_eq!(
            plan,
            MarriagePlan {
                marriage: vec![backfilled()],
                parties: [
                    vec![change(OLD_MAN, Status::Married, on, id, OLD_WOMAN, id)],
                    vec![change(OLD_WOMAN, Status::Married, on, id, OLD_MAN, id)],
                ],
            }
        );
        // Archives are entered oldest first: a later status already recorded refuses it.
        let later = person([change(
            OLD_MAN,
            Status::Divorced,
            date!(1980 - 01 - 01),
            EARLIER,
            OTHER_WOMAN,
            DIVORCE,
        )]);
        let error = refusal(backfill_marriage(
            &Marriage::default(),
            &later,
            &Person::default(),
            &backfill(),
        ));
        assert_eq!(
            error,
            Error::Person {
                role: Role::First,
                error: person::Error::OutOfOrder
            }
        );
    }
}
