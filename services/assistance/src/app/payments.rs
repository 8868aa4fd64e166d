//! The monthly payment cycles (资金发放): a county's list for a month generated from the
//! benefits in force that month and the one-off payments approved (temporary assistance the
//! county decided, heating assistance), with the failed lines of the county's earlier cycles
//! re-issued; approved, exported as the bank file, and the bank's results imported.
//!
//! Nothing is paid twice: the plan leaves out every (case, month) and one-off that an earlier
//! cycle of the county listed and the bank did not fail. Temporary assistance paid at once from
//! a township's reserve fund is already paid, and is never listed.

use std::{collections::HashSet, sync::Arc};

use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed},
};
use minzheng_types::{FieldViolation, RegionCode};
use time::Date;

use super::Assistance;
use crate::{
    bank_file::{self, BankFile},
    case::Stage,
    category::Category,
    cycle::{self, CycleTotals, PaymentCycle},
    ids::{CycleId, first_of_month},
    payments::{self, DecisionRef, Entitlement, FailedLine, Months, PaymentKey, Period, Schedule},
    projections::overview::Decided,
};

impl Assistance {
    /// Generates `county`'s cycle for the month containing `month`.
    pub async fn generate_cycle(
        &self,
        county: RegionCode,
        month: Date,
        context: &CommandContext,
    ) -> Result<(Committed, CycleId, CycleTotals), Error> {
        let id = CycleId::new(county, month).ok_or_else(|| {
            Error::invalid_field("county.code", "must be a county-level division")
        })?;
        let month = first_of_month(month);
        // The county's earlier cycles, through their repository: exact (read from the store)
        // and, once loaded, kept (see `CYCLES_CACHED`).
        let earlier_ids: Vec<CycleId> = {
            let view = self.view.read().await;
            view.cycles_of(county)
                .filter(|c| **c != id)
                .copied()
                .collect()
        };
        let mut earlier = Vec::with_capacity(earlier_ids.len());
        for cycle_id in &earlier_ids {
            earlier.push(self.cycles.load(cycle_id).await?.state);
        }
        let failed: Vec<FailedLine> = earlier.iter().flat_map(|c| c.failed_lines()).collect();
        // Only the keys this cycle could list again matter: this month's, one-offs' and those
        // of the failed lines it re-issues (a county's history holds a line per case and
        // month; hashing all of it would slow every cycle down month after month).
        let periods: HashSet<Period> = failed
            .iter()
            .map(|f| f.line.period)
            .chain([Period::Month(month)])
            .collect();
        let issued: HashSet<PaymentKey> = earlier
            .iter()
            .flat_map(|cycle| cycle.issued_keys())
            .filter(|key| {
                matches!(key.period, Period::OneOff { .. }) || periods.contains(&key.period)
            })
            .collect();
        drop(earlier);
        let lines = {
            let view = self.view.read().await;
            let decided: Vec<Decided<'_>> = view.decided_cases_of(county).collect();
            payments::plan(
                month,
                county,
                entitlements(&decided, month),
                &issued,
                failed,
            )
        };
        // The bank file depends only on the lines: written while the database stores them.
        let lines = Arc::new(lines);
        let bank_file = tokio::task::spawn_blocking({
            let lines = lines.clone();
            move || bank_file::export(id, lines.iter())
        });
        let command = cycle::Command::Generate(cycle::Generate {
            cycle: id,
            lines,
            generated_on: self.today(),
        });
        let committed = self.cycles.run(&id, &command, context).await?;
        self.view.nudge();
        let cycle = self.cycles.load(&id).await?.state;
        // A retry answered from the store may have stored other lines than these.
        if !committed.replayed
            && let Ok(Ok(file)) = bank_file.await
        {
            cycle.prime_bank_file(Arc::new(file));
        }
        Ok((committed, id, cycle.totals()))
    }

    /// The county approves cycle `id` today.
    pub async fn approve_cycle(
        &self,
        id: &CycleId,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let command = cycle::Command::Approve(cycle::Approve {
            approved_on: self.today(),
        });
        let committed = self.cycles.run(id, &command, context).await?;
        self.view.nudge();
        Ok(committed)
    }

    /// Exports cycle `id` as the bank file (the same bytes every time).
    pub async fn export_cycle(
        &self,
        id: &CycleId,
        context: &CommandContext,
    ) -> Result<(Committed, Arc<BankFile>), Error> {
        let command = cycle::Command::Export(cycle::Export {
            exported_on: self.today(),
        });
        let committed = self.cycles.run(id, &command, context).await?;
        self.view.nudge();
        let file = self
            .cycles
            .load(id)
            .await?
            .state
            .bank_file()
            .map_err(|refusal| Error::from_refusal(&refusal))?;
        Ok((committed, file))
    }

    /// Imports the bank's result file for cycle `id`: the whole file is checked first, every bad
    /// row named (INVALID_ARGUMENT on `file`), before anything is recorded.
    pub async fn import_results(
        &self,
        id: &CycleId,
        file: &[u8],
        context: &CommandContext,
    ) -> Result<(Committed, CycleTotals), Error> {
        let parsed = bank_file::parse_results(file).map_err(|error| {
            Error::InvalidArgument(
                error
                    .problems
                    .iter()
                    .map(|p| FieldViolation::new("file", p.to_string()))
                    .collect(),
            )
        })?;
        let command = cycle::Command::ImportResults(cycle::ImportResults {
            results: parsed.results,
            file_sha256: parsed.sha256,
            imported_on: self.today(),
        });
        let committed = self.cycles.run(id, &command, context).await?;
        self.view.nudge();
        let totals = self.cycles.load(id).await?.state.totals();
        Ok((committed, totals))
    }

    /// Cycle `id` as stored.
    pub async fn cycle(&self, id: &CycleId) -> Result<PaymentCycle, Error> {
        let cycle = self.cycles.load(id).await?.state;
        if cycle.status().is_none() {
            return Err(Error::NotFound(format!("no payment cycle {id}")));
        }
        Ok(cycle)
    }
}

/// Fewest decided cases worth sharing out between threads.
const PARALLEL_MIN_CASES: usize = 4096;

/// The entitlements of `decided` for the month starting `month`, in the same order; a county's
/// caseload is shared out between the cores.
fn entitlements(decided: &[Decided<'_>], month: Date) -> Vec<Entitlement> {
    minzheng_kit::parallel::filter_map_in_order(decided, PARALLEL_MIN_CASES, |d| {
        entitlement(*d, month)
    })
}

/// What a decided case may be paid in the month starting `month`: its monthly amount in force
/// (none when suspended, ended or zero), or its approved one-off payment; `None` when nothing.
fn entitlement(decided: Decided<'_>, month: Date) -> Option<Entitlement> {
    let Decided {
        id,
        case,
        decision_version,
        payee,
    } = decided;
    let application = case.application.as_deref()?;
    let payee = payee.clone();
    let decision = DecisionRef {
        version: decision_version,
        decided_on: case.decided_on?,
    };
    if case.stage == Stage::ApprovedOnce {
        let one_off = case.one_off.as_ref()?;
        return Some(Entitlement {
            case: *id,
            category: application.category,
            schedule: Schedule::OneOff,
            amount: one_off.monthly_amount,
            decision,
            standard: one_off.versions.first().copied(),
            payee,
            months: Months::from_month_of(decision.decided_on),
        });
    }
    if !application.category.is_monthly() || application.category == Category::LowIncome {
        return None;
    }
    let in_force = case.calculation_on(month)?;
    let amount = case.amount_on(month);
    if amount.fen() <= 0 {
        return None;
    }
    let first = case.amounts.first()?.from;
    Some(Entitlement {
        case: *id,
        category: application.category,
        schedule: Schedule::Monthly,
        amount,
        decision,
        standard: in_force.calculation.versions.first().copied(),
        payee,
        months: Months {
            first,
            end: case.ends_on,
        },
    })
}
