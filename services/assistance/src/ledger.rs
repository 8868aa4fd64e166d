//! A county's payment ledger (stream `ledger-<county 6 digits>`): the order in which the
//! county's payment cycles were generated, one [`CycleListed`] each.
//!
//! It exists to serialise generation. A cycle's plan depends on every other cycle of the county
//! (what they listed, which of their lines failed, the back pay they paid), so two cycles
//! generated at the same moment — different months, on two replicas — must not both plan
//! without the other: each would re-issue the same failed line, list the same one-off, or pay
//! the same back pay (补发). Every generation therefore appends to the ledger, expecting the
//! version it read before it looked at the other cycles, in the same transaction as the new
//! cycle. Of two concurrent generations one conflicts and plans again, now seeing the other's
//! cycle — the plan reads the cycles the ledger lists, exactly, whatever the read model has
//! reached. Nothing here depends on a timeout or a lease.
//!
//! An entry's event id derives from the generation's idempotency key, the same for every county
//! and month: a key that generated one cycle and is sent again for another month or county finds
//! its id stored and is refused (INVALID_ARGUMENT on `idempotency_key`), generating nothing.
//! (Entries listed before this rule carry random ids: keys used then are not recognised.)
//!
//! The ledger starts with the first cycle generated after it was introduced; cycles generated
//! before are still found through the read model. During a rolling upgrade, replicas of the
//! earlier version generate without the ledger: generate no cycle until the upgrade is done.

use minzheng_kit::aggregate::{Aggregate, DomainError};
use time::Date;

use crate::ids::CycleId;

/// A county's ledger: the cycles listed, in the order they were generated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentLedger {
    cycles: Vec<CycleId>,
}

impl PaymentLedger {
    /// The cycles listed, in the order they were generated.
    pub fn cycles(&self) -> &[CycleId] {
        &self.cycles
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Lists a cycle generated now.
    List(CycleListed),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Listed(CycleListed),
}

/// A cycle of the county was generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleListed {
    pub cycle: CycleId,
    pub generated_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("cycle {cycle} is already in the ledger")]
    AlreadyListed { cycle: CycleId },
    #[error("cycle {cycle} belongs to another county's ledger")]
    OtherCounty { cycle: CycleId },
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::AlreadyListed { .. } => "cycle_already_generated",
            Error::OtherCounty { .. } => "other_county",
        }
    }
}

impl Aggregate for PaymentLedger {
    const CATEGORY: &'static str = "ledger";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let Command::List(listed) = command;
        if let Some(first) = self.cycles.first()
            && first.county() != listed.cycle.county()
        {
            return Err(Error::OtherCounty {
                cycle: listed.cycle,
            });
        }
        if self.cycles.contains(&listed.cycle) {
            return Err(Error::AlreadyListed {
                cycle: listed.cycle,
            });
        }
        Ok(vec![Event::Listed(listed.clone())])
    }

    fn apply(mut self, event: &Event) -> Self {
        let Event::Listed(listed) = event;
        self.cycles.push(listed.cycle);
        self
    }
}

#[cfg(test)]
mod tests {
    use minzheng_types::RegionCode;
    use time::macros::date;

    use super::*;

    fn cycle(county: &str, month: Date) -> CycleId {
        CycleId::new(RegionCode::parse(county).expect("code"), month).expect("county-level")
    }

    fn listed(cycle: CycleId) -> Command {
        Command::List(CycleListed {
            cycle,
            generated_on: date!(2025 - 11 - 24),
        })
    }

    fn after(events: Vec<Event>) -> PaymentLedger {
        events
            .iter()
            .fold(PaymentLedger::default(), |ledger, e| ledger.apply(e))
    }

    #[test]
    fn cycles_are_listed_in_the_order_generated_once_each() {
        let december = cycle("210502000000", date!(2025 - 12 - 01));
        let november = cycle("210502000000", date!(2025 - 11 - 01));
        let first = PaymentLedger::default()
            .handle(&listed(december))
            .expect("listed");
        let ledger = after(first);
        let second = ledger.handle(&listed(november)).expect("a late month too");
        let ledger = second.iter().fold(ledger, |l, e| l.apply(e));
        assert_eq!(ledger.cycles(), [december, november]);
        let again = ledger.handle(&listed(november)).expect_err("listed once");
        assert_eq!(again.rule(), "cycle_already_generated");
    }

    #[test]
    fn a_ledger_lists_only_its_own_county() {
        let pingshan = cycle("210502000000", date!(2025 - 12 - 01));
        let ledger = after(
            PaymentLedger::default()
                .handle(&listed(pingshan))
                .expect("ok"),
        );
        let other = ledger
            .handle(&listed(cycle("210503000000", date!(2025 - 12 - 01))))
            .expect_err("another county");
        assert_eq!(other.rule(), "other_county");
    }
}
