//! A data-sharing agreement (数据共享协议, stream `agreement-<agreement_id>`): which of the
//! platform's events an agency may receive, which of their fields, why, until when, and whether
//! with citizens' real id numbers or the agency's own pseudonyms of them. Ended early from a day
//! on; never edited.

use std::collections::BTreeMap;

use minzheng_kit::aggregate::{Aggregate, DomainError};
use minzheng_types::BoundedText;
use time::Date;

minzheng_types::id_type!(
    /// An agreement's id, issued by the service ("AG-" and 32 hex digits).
    AgreementId
);
minzheng_types::stream_key!(AgreementId);

/// Longest agency code, in characters.
pub const AGENCY_MAX_CHARS: usize = 32;

/// An agency as agreements, tokens and subjects name it: 1–32 lowercase ASCII letters, digits or
/// `_`, so that it is one NATS subject token.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgencyCode(String);

impl AgencyCode {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        if input.is_empty() || input.len() > AGENCY_MAX_CHARS {
            return Err("must be 1 to 32 characters");
        }
        if !input
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err("must be lowercase ASCII letters, digits or _");
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an agreement grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    pub id: AgreementId,
    pub agency: AgencyCode,
    /// Per event type (its full message name), the top-level fields shared.
    pub events: BTreeMap<String, Vec<String>>,
    pub purpose: BoundedText,
    pub expires_on: Date,
    pub real_id_granted: bool,
    pub recorded_on: Date,
}

/// An agreement ended early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    pub id: AgreementId,
    pub ended_on: Date,
    pub reason: BoundedText,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Recorded(Agreement),
    Ended(Ending),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Record(Agreement),
    End {
        id: AgreementId,
        reason: BoundedText,
        today: Date,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("an agreement must share at least one event type, each with at least one field")]
    NothingShared,
    #[error("an agreement cannot expire before it is recorded")]
    ExpiresBeforeRecorded,
    #[error("this agreement is recorded already")]
    AlreadyRecorded,
    #[error("no such agreement")]
    NotRecorded,
    #[error("this agreement has ended already")]
    AlreadyEnded,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NothingShared => "nothing_shared",
            Error::ExpiresBeforeRecorded => "expires_before_recorded",
            Error::AlreadyRecorded => "already_recorded",
            Error::NotRecorded => "not_recorded",
            Error::AlreadyEnded => "already_ended",
        }
    }

    fn kind(&self) -> minzheng_kit::aggregate::RefusalKind {
        match self {
            Error::NotRecorded => minzheng_kit::aggregate::RefusalKind::NotFound,
            _ => minzheng_kit::aggregate::RefusalKind::FailedPrecondition,
        }
    }
}

/// One agreement's state.
#[derive(Debug, Clone, Default)]
pub struct AgreementState {
    pub agreement: Option<Agreement>,
    pub ended_on: Option<Date>,
}

impl AgreementState {
    /// Whether it shares anything on `day`.
    pub fn in_force_on(&self, day: Date) -> bool {
        self.agreement.as_ref().is_some_and(|a| {
            a.recorded_on <= day && day <= a.expires_on && self.ended_on.is_none_or(|e| day < e)
        })
    }

    /// The fields of `event_type` it shares on `day`; `None` when it shares none.
    pub fn fields_shared(&self, event_type: &str, day: Date) -> Option<&[String]> {
        if !self.in_force_on(day) {
            return None;
        }
        self.agreement
            .as_ref()?
            .events
            .get(event_type)
            .map(Vec::as_slice)
    }
}

impl Aggregate for AgreementState {
    const CATEGORY: &'static str = "agreement";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Record(agreement) => {
                if self.agreement.is_some() {
                    return Err(Error::AlreadyRecorded);
                }
                if agreement.events.is_empty() || agreement.events.values().any(Vec::is_empty) {
                    return Err(Error::NothingShared);
                }
                if agreement.expires_on < agreement.recorded_on {
                    return Err(Error::ExpiresBeforeRecorded);
                }
                Ok(vec![Event::Recorded(agreement.clone())])
            }
            Command::End { id, reason, today } => {
                if self.agreement.is_none() {
                    return Err(Error::NotRecorded);
                }
                if self.ended_on.is_some() {
                    return Err(Error::AlreadyEnded);
                }
                Ok(vec![Event::Ended(Ending {
                    id: id.clone(),
                    ended_on: *today,
                    reason: reason.clone(),
                })])
            }
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Recorded(agreement) => self.agreement = Some(agreement.clone()),
            Event::Ended(ending) => self.ended_on = Some(ending.ended_on),
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;

    fn agreement() -> Agreement {
        Agreement {
            id: AgreementId::parse("AG-1").expect("valid"),
            agency: AgencyCode::parse("province_civil_affairs").expect("valid"),
            events: [(
                "minzheng.assistance.v1.AssistanceGranted".to_owned(),
                vec!["members".to_owned(), "effective_from".to_owned()],
            )]
            .into(),
            purpose: BoundedText::parse("省级救助统计", 200).expect("valid"),
            expires_on: date!(2026 - 12 - 31),
            real_id_granted: false,
            recorded_on: date!(2026 - 04 - 10),
        }
    }

    #[test]
    fn an_agreement_shares_its_fields_while_in_force() {
        let ended = Event::Ended(Ending {
            id: agreement().id,
            ended_on: date!(2026 - 06 - 01),
            reason: BoundedText::parse("协议终止", 200).expect("valid"),
        });
        let state = given::<AgreementState>([Event::Recorded(agreement()), ended])
            .state()
            .clone();
        let granted = "minzheng.assistance.v1.AssistanceGranted";
        assert_eq!(
            state
                .fields_shared(granted, date!(2026 - 05 - 31))
                .map(<[String]>::len),
            Some(2)
        );
        assert!(
            state
                .fields_shared(granted, date!(2026 - 06 - 01))
                .is_none(),
            "ended"
        );
        assert!(
            state
                .fields_shared(granted, date!(2026 - 04 - 09))
                .is_none(),
            "not yet"
        );
        assert!(
            state
                .fields_shared(
                    "minzheng.assistance.v1.AssistanceEnded",
                    date!(2026 - 05 - 01)
                )
                .is_none(),
            "not granted"
        );
    }

    #[test]
    fn an_agreement_must_share_something_and_ends_once() {
        let mut empty = agreement();
        empty.events.clear();
        given::<AgreementState>([])
            .when(Command::Record(empty))
            .then_refused("nothing_shared");
        let end = || Command::End {
            id: agreement().id,
            reason: BoundedText::parse("协议终止", 200).expect("valid"),
            today: date!(2026 - 05 - 01),
        };
        given::<AgreementState>([])
            .when(end())
            .then_refused("not_recorded");
        let state = given::<AgreementState>([Event::Recorded(agreement())])
            .when(end())
            .then([Event::Ended(Ending {
                id: agreement().id,
                ended_on: date!(2026 - 05 - 01),
                reason: BoundedText::parse("协议终止", 200).expect("valid"),
            })]);
        assert!(!state.in_force_on(date!(2026 - 05 - 01)));
        assert!(AgencyCode::parse("Banks").is_err());
        assert!(AgencyCode::parse("share.x").is_err(), "one subject token");
    }
}
