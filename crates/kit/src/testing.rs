//! Given/when/then helpers for aggregate rule tables, used by every service's tests:
//!
//! ```text
//! given::<Application>([submitted(), verified()])
//!     .when(Approve { by: approver(), on: date!(2025-03-01) })
//!     .then([approved()]);
//! given::<Application>([submitted()])
//!     .when(Approve { .. })
//!     .then_refused("not_verified");
//! ```
//!
//! The helpers call the pure aggregate directly: no store, no clock. They panic with a message
//! that shows the expected and actual outcome, as test assertions do.
//!
//! This module deliberately knows no domain; it only drives the [`Aggregate`] trait.

use std::fmt::Debug;

use crate::aggregate::{Aggregate, DomainError, EventCodec};

/// Starts a scenario from the events that already happened (none for a new aggregate).
pub fn given<A: Aggregate>(events: impl IntoIterator<Item = A::Event>) -> Given<A> {
    let state = events
        .into_iter()
        .fold(A::default(), |state, event| state.apply(&event));
    Given { state }
}

/// A scenario's starting state.
#[derive(Debug)]
pub struct Given<A> {
    state: A,
}

impl<A: Aggregate> Given<A> {
    /// The command under test.
    pub fn when(self, command: A::Command) -> When<A> {
        let outcome = self.state.handle(&command);
        When {
            state: self.state,
            outcome,
        }
    }

    /// The state the given events produce.
    pub fn state(&self) -> &A {
        &self.state
    }
}

/// A scenario after the command: assert on its outcome.
#[derive(Debug)]
pub struct When<A: Aggregate> {
    state: A,
    outcome: Result<Vec<A::Event>, A::Error>,
}

impl<A: Aggregate> When<A>
where
    A::Event: Debug,
{
    /// Asserts the command produced exactly `expected`, in order; returns the state after them.
    #[track_caller]
    pub fn then(self, expected: impl IntoIterator<Item = A::Event>) -> A
    where
        A::Event: PartialEq,
    {
        let expected: Vec<A::Event> = expected.into_iter().collect();
        match self.outcome {
            Ok(events) => {
                assert_eq!(events, expected, "the command produced other events");
                events
                    .iter()
                    .fold(self.state, |state, event| state.apply(event))
            }
            Err(refusal) => panic!(
                "expected events {expected:?}, but the command was refused by rule {:?}: {refusal}",
                refusal.rule()
            ),
        }
    }

    /// Asserts the command was refused by `rule`.
    #[track_caller]
    pub fn then_refused(self, rule: &str) -> A::Error {
        match self.outcome {
            Ok(events) => {
                panic!("expected refusal by rule {rule:?}, but the command produced {events:?}")
            }
            Err(refusal) => {
                assert_eq!(refusal.rule(), rule, "refused by another rule ({refusal})");
                refusal
            }
        }
    }

    /// The raw outcome, for assertions the helpers above do not cover.
    pub fn outcome(&self) -> &Result<Vec<A::Event>, A::Error> {
        &self.outcome
    }
}

/// Asserts that every event survives `encode` then `decode` unchanged, under its own type and
/// schema version: the codec test each service writes once per event type.
#[track_caller]
pub fn assert_codec_round_trips<E>(events: impl IntoIterator<Item = E>)
where
    E: EventCodec + PartialEq + Debug,
{
    for event in events {
        let bytes = event.encode();
        match E::decode(event.event_type(), event.schema_version(), &bytes) {
            Ok(decoded) => assert_eq!(decoded, event, "event changed in a codec round trip"),
            Err(error) => panic!("{event:?} does not decode after encoding: {error}"),
        }
    }
}
