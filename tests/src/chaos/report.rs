//! The report a run prints: what ran, what the load did, which faults were injected, and each
//! invariant with its figure. A run passes when [`Report::violations`] is empty; the program
//! exits non-zero otherwise.

use std::{collections::BTreeMap, fmt, time::Duration};

use super::{
    faults::{FaultKind, FaultLog},
    ledger::{OperationStats, OutageAnswers},
    reconcile::Reconciliation,
};

/// Everything a run found.
#[derive(Debug, Clone)]
pub struct Report {
    pub seed: u64,
    pub planned: Duration,
    pub elapsed: Duration,
    pub environment: String,
    pub operations: BTreeMap<&'static str, OperationStats>,
    pub faults: FaultLog,
    pub outage: OutageAnswers,
    pub bus_messages_scanned: u64,
    pub reconciliation: Reconciliation,
    /// Every invariant broken, one line each, naming the invariant, where and how many.
    pub violations: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

fn yes(ok: bool) -> &'static str {
    if ok { "yes" } else { "NO" }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.reconciliation;
        writeln!(f, "chaos report")?;
        writeln!(f, "  seed {} (rerun with --seed {})", self.seed, self.seed)?;
        writeln!(
            f,
            "  load and faults for {:?}, whole run {:.0?}",
            self.planned, self.elapsed
        )?;
        writeln!(f, "  {}", self.environment)?;
        writeln!(
            f,
            "\noperations (calls, acknowledged, retries, unresolved, errors by code)"
        )?;
        for (name, s) in &self.operations {
            let errors: Vec<String> = s.errors.iter().map(|(c, n)| format!("{c} {n}")).collect();
            writeln!(
                f,
                "  {name:<48} {:>7} {:>7} {:>6} {:>4}  {}",
                s.calls,
                s.acknowledged,
                s.retries,
                s.unresolved,
                errors.join(", ")
            )?;
        }
        writeln!(f, "\nfaults injected")?;
        for kind in FaultKind::ALL {
            let count = self.faults.injected.get(&kind).copied().unwrap_or(0);
            writeln!(f, "  {:<18} {count}", kind.name())?;
        }
        writeln!(
            f,
            "  relay stalls caught between publish and checkpoint: {}",
            self.faults.stalls_caught
        )?;
        let outage: Vec<String> = self
            .outage
            .by_code
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        writeln!(
            f,
            "  answers while PostgreSQL was down: {} (slowest {:.1?})",
            if outage.is_empty() {
                "none".to_owned()
            } else {
                outage.join(", ")
            },
            self.outage.slowest
        )?;
        for note in &self.faults.notes {
            writeln!(f, "  note: {note}")?;
        }
        writeln!(f, "\ninvariants")?;
        writeln!(
            f,
            "  settled after the faults:        {}",
            yes(r.unsettled.is_empty())
        )?;
        writeln!(
            f,
            "  acknowledged commands:           {} ({} lost, {} executed twice, {} answered without their first result)",
            r.acknowledged,
            r.lost_commands.len(),
            r.repeated_commands.len(),
            r.answered_without_result.len()
        )?;
        for c in &r.creations {
            writeln!(
                f,
                "  {:<32} created once per command: {} ({} created, {} acknowledged, {} given up)",
                c.operation,
                yes(c.once()),
                c.stored,
                c.acknowledged,
                c.unresolved
            )?;
        }
        for s in &r.streams {
            writeln!(
                f,
                "  stream {:<24} stored {}, published {}: lost {}, duplicated {}, unknown {}, out of order {}",
                s.stream, s.stored, s.published, s.lost, s.duplicated, s.unknown, s.out_of_order
            )?;
        }
        for p in &r.projections {
            writeln!(
                f,
                "  projection {} equal to a rebuild from zero: {} ({} rows, rebuilt {}, {} differ; inbox {}, rebuilt {}, {} missing, {} extra; {} parked)",
                p.table,
                yes(p.equal()),
                p.rows,
                p.rebuilt_rows,
                p.differing_rows,
                p.inbox,
                p.rebuilt_inbox,
                p.inbox_missing,
                p.inbox_extra,
                p.parked
            )?;
        }
        for i in &r.inboxes {
            writeln!(
                f,
                "  consumer {} applied every event of its producer it handles once: {} ({} produced, {} in the inbox, {} missing, {} unknown; {} parked)",
                i.consumer,
                yes(i.complete()),
                i.produced,
                i.applied,
                i.missing,
                i.unknown,
                i.parked
            )?;
        }
        writeln!(
            f,
            "  consumers' effects (deaths noted): {} expected, {} missing, {} records with one twice",
            r.effects.expected,
            r.effects.missing.len(),
            r.effects.repeated.len()
        )?;
        writeln!(
            f,
            "  bus messages scanned for citizen ids in subjects and headers: {}",
            self.bus_messages_scanned
        )?;
        writeln!(f, "\nviolations: {}", self.violations.len())?;
        for violation in &self.violations {
            writeln!(f, "  - {violation}")?;
        }
        writeln!(
            f,
            "\nresult: {}",
            if self.passed() { "PASS" } else { "FAIL" }
        )
    }
}
