//! A citizen's signed authorization (授权书) for the service to read their data held by other
//! agencies (stream `authorization-<authorization_id>`): who signed, which classes of data and
//! which agencies, why, until when; withdrawn from a day on (撤回授权). No verification and no
//! profile look-up reads a class of a person's data without one that covers it on the day.

use std::collections::BTreeSet;

use minzheng_kit::aggregate::{Aggregate, DomainError};
use minzheng_types::{BoundedText, CitizenId};
use time::Date;

use crate::records::{Agency, DataClass};

minzheng_types::id_type!(
    /// An authorization's id: "AU-" and a number the service issues, or, for one carried by an
    /// assistance verification request, the request's id, "-A" and the member's position.
    AuthorizationId
);
minzheng_types::stream_key!(AuthorizationId);

/// Longest purpose or reason, in characters.
pub const PURPOSE_MAX_CHARS: usize = 200;

/// What an authorization says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub id: AuthorizationId,
    pub signed_by: CitizenId,
    pub signed_on: Date,
    pub data_classes: BTreeSet<DataClass>,
    /// Empty: every agency holding those classes.
    pub agencies: BTreeSet<Agency>,
    pub purpose: BoundedText,
    pub expires_on: Date,
    /// The assistance case it was signed for, when it came with a verification request.
    pub case_id: Option<String>,
}

impl Authorization {
    /// Whether it lets `agency`'s data of `class` be read on `day`, given when it was withdrawn.
    pub fn covers(
        &self,
        class: DataClass,
        agency: Agency,
        day: Date,
        withdrawn_on: Option<Date>,
    ) -> bool {
        self.signed_on <= day
            && day <= self.expires_on
            && withdrawn_on.is_none_or(|w| day < w)
            && self.data_classes.contains(&class)
            && (self.agencies.is_empty() || self.agencies.contains(&agency))
    }
}

/// An authorization withdrawn from a day on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub id: AuthorizationId,
    pub withdrawn_on: Date,
    pub reason: BoundedText,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Recorded(Authorization),
    Withdrawn(Withdrawal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Record {
        authorization: Authorization,
        /// Today.
        today: Date,
    },
    Withdraw {
        id: AuthorizationId,
        withdrawn_on: Date,
        reason: BoundedText,
        today: Date,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("an authorization cannot be signed in the future")]
    SignedInFuture,
    #[error("an authorization cannot expire before it is signed")]
    ExpiresBeforeSigned,
    #[error("an authorization must open at least one class of data")]
    NoDataClass,
    #[error("this authorization is recorded already, with other terms")]
    AlreadyRecorded,
    #[error("no such authorization")]
    NotRecorded,
    #[error("this authorization was withdrawn already")]
    AlreadyWithdrawn,
    #[error("a withdrawal cannot be dated in the past")]
    WithdrawnInPast,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::SignedInFuture => "signed_in_future",
            Error::ExpiresBeforeSigned => "expires_before_signed",
            Error::NoDataClass => "no_data_class",
            Error::AlreadyRecorded => "already_recorded",
            Error::NotRecorded => "not_recorded",
            Error::AlreadyWithdrawn => "already_withdrawn",
            Error::WithdrawnInPast => "withdrawn_in_past",
        }
    }

    fn kind(&self) -> minzheng_kit::aggregate::RefusalKind {
        match self {
            Error::NotRecorded => minzheng_kit::aggregate::RefusalKind::NotFound,
            _ => minzheng_kit::aggregate::RefusalKind::FailedPrecondition,
        }
    }
}

/// One authorization's state.
#[derive(Debug, Clone, Default)]
pub struct AuthorizationState {
    pub authorization: Option<Authorization>,
    pub withdrawn_on: Option<Date>,
}

impl AuthorizationState {
    /// Whether it may be used on `day`.
    pub fn valid_on(&self, day: Date) -> bool {
        self.authorization.as_ref().is_some_and(|a| {
            a.signed_on <= day && day <= a.expires_on && self.withdrawn_on.is_none_or(|w| day < w)
        })
    }
}

impl Aggregate for AuthorizationState {
    const CATEGORY: &'static str = "authorization";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Record {
                authorization,
                today,
            } => {
                if let Some(recorded) = &self.authorization {
                    // The same terms again (a request consumed twice) record nothing.
                    return if recorded == authorization {
                        Ok(Vec::new())
                    } else {
                        Err(Error::AlreadyRecorded)
                    };
                }
                if authorization.signed_on > *today {
                    return Err(Error::SignedInFuture);
                }
                if authorization.expires_on < authorization.signed_on {
                    return Err(Error::ExpiresBeforeSigned);
                }
                if authorization.data_classes.is_empty() {
                    return Err(Error::NoDataClass);
                }
                Ok(vec![Event::Recorded(authorization.clone())])
            }
            Command::Withdraw {
                id,
                withdrawn_on,
                reason,
                today,
            } => {
                if self.authorization.is_none() {
                    return Err(Error::NotRecorded);
                }
                if self.withdrawn_on.is_some() {
                    return Err(Error::AlreadyWithdrawn);
                }
                if withdrawn_on < today {
                    return Err(Error::WithdrawnInPast);
                }
                Ok(vec![Event::Withdrawn(Withdrawal {
                    id: id.clone(),
                    withdrawn_on: *withdrawn_on,
                    reason: reason.clone(),
                })])
            }
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Recorded(authorization) => self.authorization = Some(authorization.clone()),
            Event::Withdrawn(w) => self.withdrawn_on = Some(w.withdrawn_on),
        }
        self
    }
}

/// What a member lacks: the classes of `needed` that none of their authorizations covers on
/// `day` for every agency holding the class (`withdrawn_on` per authorization).
pub fn missing_classes<'a>(
    authorizations: impl IntoIterator<Item = (&'a Authorization, Option<Date>)> + Clone,
    needed: &[DataClass],
    day: Date,
) -> Vec<DataClass> {
    needed
        .iter()
        .copied()
        .filter(|&class| {
            !class.agencies().all(|agency| {
                authorizations
                    .clone()
                    .into_iter()
                    .any(|(a, withdrawn)| a.covers(class, agency, day, withdrawn))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;

    fn authorization(classes: &[DataClass], agencies: &[Agency]) -> Authorization {
        Authorization {
            id: AuthorizationId::parse("AU-1").expect("valid"),
            signed_by: CitizenId::parse("210502195803120025").expect("valid"),
            signed_on: date!(2026 - 03 - 01),
            data_classes: classes.iter().copied().collect(),
            agencies: agencies.iter().copied().collect(),
            purpose: BoundedText::parse("低保申请家庭经济状况核对", PURPOSE_MAX_CHARS)
                .expect("valid"),
            expires_on: date!(2026 - 08 - 31),
            case_id: None,
        }
    }

    fn record(a: Authorization, today: Date) -> Command {
        Command::Record {
            authorization: a,
            today,
        }
    }

    #[test]
    fn an_authorization_covers_its_classes_and_agencies_between_signing_and_expiry() {
        let a = authorization(&DataClass::ECONOMIC, &[]);
        let needed = DataClass::ECONOMIC;
        assert!(missing_classes([(&a, None)], &needed, date!(2026 - 03 - 01)).is_empty());
        assert!(missing_classes([(&a, None)], &needed, date!(2026 - 08 - 31)).is_empty());
        assert_eq!(
            missing_classes([(&a, None)], &needed, date!(2026 - 09 - 01)),
            needed.to_vec(),
            "expired"
        );
        assert_eq!(
            missing_classes(
                [(&a, Some(date!(2026 - 05 - 01)))],
                &needed,
                date!(2026 - 05 - 01)
            ),
            needed.to_vec(),
            "withdrawn from that day"
        );
    }

    #[test]
    fn a_class_is_missing_unless_every_agency_holding_it_is_opened() {
        let banks_only = authorization(&[DataClass::BankDeposits], &[Agency::Banks]);
        let vehicles_elsewhere = authorization(&[DataClass::Vehicles], &[Agency::Banks]);
        assert_eq!(
            missing_classes(
                [(&banks_only, None), (&vehicles_elsewhere, None)],
                &[DataClass::BankDeposits, DataClass::Vehicles],
                date!(2026 - 04 - 01)
            ),
            [DataClass::Vehicles]
        );
    }

    #[test]
    fn recording_and_withdrawing_follow_their_rules() {
        let a = authorization(&DataClass::ECONOMIC, &[]);
        given::<AuthorizationState>([])
            .when(record(a.clone(), date!(2026 - 02 - 28)))
            .then_refused("signed_in_future");
        given::<AuthorizationState>([])
            .when(record(authorization(&[], &[]), date!(2026 - 03 - 01)))
            .then_refused("no_data_class");
        // The same terms again are recorded once.
        given::<AuthorizationState>([Event::Recorded(a.clone())])
            .when(record(a.clone(), date!(2026 - 03 - 02)))
            .then([]);
        let withdraw = |on: Date| Command::Withdraw {
            id: a.id.clone(),
            withdrawn_on: on,
            reason: BoundedText::parse("本人撤回", PURPOSE_MAX_CHARS).expect("valid"),
            today: date!(2026 - 04 - 01),
        };
        given::<AuthorizationState>([Event::Recorded(a.clone())])
            .when(withdraw(date!(2026 - 03 - 31)))
            .then_refused("withdrawn_in_past");
        let state = given::<AuthorizationState>([Event::Recorded(a.clone())])
            .when(withdraw(date!(2026 - 04 - 01)))
            .then([Event::Withdrawn(Withdrawal {
                id: a.id.clone(),
                withdrawn_on: date!(2026 - 04 - 01),
                reason: BoundedText::parse("本人撤回", PURPOSE_MAX_CHARS).expect("valid"),
            })]);
        assert!(state.valid_on(date!(2026 - 03 - 31)));
        assert!(!state.valid_on(date!(2026 - 04 - 01)));
        given::<AuthorizationState>([])
            .when(withdraw(date!(2026 - 04 - 01)))
            .then_refused("not_recorded");
    }
}
