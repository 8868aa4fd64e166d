//! The monthly payment cycles (资金发放): a county's list for a month generated from the
//! benefits in force that month and the one-off payments approved (temporary assistance the
//! county decided, heating assistance), with the failed lines of the county's earlier cycles
//! re-issued; approved, exported as the bank file, and the bank's results imported.
//!
//! Nothing is paid twice: the plan leaves out every (case, month) and one-off that an earlier
//! cycle of the county listed and the bank did not fail. Temporary assistance paid at once from
//! a township's reserve fund is already paid, and is never listed. That holds for cycles
//! generated at the same moment too: generation is serialised per county through its payment
//! ledger ([`crate::ledger`]).
//!
//! Back pay (补发): each earlier cycle's regular lines are compared with the amount now in force
//! for their month; where it is more than everything listed for that month (the regular line
//! and earlier back pay), the new cycle pays the difference. Amounts change for a listed month
//! when a standard is decided after the month's list went out with effect from before it.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::Arc,
};

use minzheng_eventstore::{StoreError, StreamId};
use minzheng_kit::{
    Error,
    aggregate::{Aggregate as _, CommandContext, Committed, commit_together, event_id_from_key},
};
use minzheng_types::{Fen, FieldViolation, RegionCode};
use time::Date;

use super::Assistance;
use crate::{
    bank_file::{self, BankFile},
    case::Stage,
    category::Category,
    cycle::{self, CycleTotals, PaymentCycle},
    ids::CaseId,
    ids::{CycleId, LedgerId, first_of_month},
    ledger,
    payments::{
        self, BackPay, DecisionRef, Entitlement, FailedLine, LineKind, Months, PaymentKey,
        PaymentLine, Period, Schedule,
    },
    projections::overview::Decided,
};

/// How many times a generation plans and tries to commit before a concurrent generation of the
/// county that keeps committing first makes it give up (each new plan sees those cycles).
const GENERATE_ATTEMPTS: u32 = 5;

/// The scope a generation's idempotency key derives its ledger entry's event id from (see
/// [`minzheng_kit::aggregate::Decided::with_event_ids_from_key_in`]): the same for every county
/// and month, so a key that generated one cycle cannot generate another — the store refuses the
/// second ledger entry's id. (A multi-stream append stores no key the store could check.) Keys
/// are the caller's, and global as every command's: two counties' approvers must not share one.
/// Entries listed before this rule carry random ids, so their keys are not recognised here.
fn generation_keys() -> StreamId {
    StreamId::new("ledger", "generations").expect("a valid stream id")
}

impl Assistance {
    /// Generates `county`'s cycle for the month containing `month`.
    ///
    /// The plan depends on every other cycle of the county, so generations of one county are
    /// serialised through its payment ledger ([`crate::ledger`]): the ledger's version is read
    /// before anything else, and the new cycle is appended together with its ledger entry
    /// expecting that version. A generation that lost to a concurrent one plans again.
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
        let ledger_id = LedgerId::of(id);
        let mut attempt = 1;
        loop {
            if let Some((replayed, cycle)) = self.generated_before(&id, context).await? {
                return Ok((replayed, id, cycle.totals()));
            }
            // Read before the other cycles are: a generation committed after this read moves
            // the ledger, and the append below then conflicts.
            let ledger = self.ledgers.load(&ledger_id).await?;
            let loaded = self.cycles.load(&id).await?;
            if loaded.version > 0 {
                // Generated already, by another command: refused before anything is planned.
                return Err(Error::from_refusal(&cycle::Error::AlreadyGenerated));
            }
            let lines = Arc::new(self.plan_cycle(id, month, ledger.state.cycles()).await?);
            // The bank file depends only on the lines: written while the database stores them.
            let bank_file = tokio::task::spawn_blocking({
                let lines = lines.clone();
                move || bank_file::export(id, lines.iter())
            });
            let generated_on = self.today();
            let command = cycle::Command::Generate(cycle::Generate {
                cycle: id,
                lines,
                generated_on,
            });
            let events = loaded
                .state
                .handle(&command)
                .map_err(|refusal| Error::from_refusal(&refusal))?;
            let listed = ledger
                .state
                .handle(&ledger::Command::List(ledger::CycleListed {
                    cycle: id,
                    generated_on,
                }))
                .map_err(|refusal| Error::from_refusal(&refusal))?;
            let decided = vec![
                self.cycles
                    .decided(&id, loaded.version, &events)?
                    .with_event_ids_from_key(context),
                self.ledgers
                    .decided(&ledger_id, ledger.version, &listed)?
                    .with_event_ids_from_key_in(context, &generation_keys()),
            ];
            let committed = match commit_together(&self.store, decided, context).await {
                Ok(mut committed) if !committed.is_empty() => committed.swap_remove(0),
                Ok(_) => return Err(Error::internal(anyhow::anyhow!("nothing was generated"))),
                Err(StoreError::Conflict { .. }) if attempt < GENERATE_ATTEMPTS => {
                    attempt += 1;
                    continue;
                }
                // The last attempt lost too: perhaps to this very command's retry.
                Err(error @ StoreError::Conflict { .. }) => {
                    return self.generated_before_or(&id, context, error).await;
                }
                // An id the key derives is stored: this very generation, committed by a
                // concurrent attempt, or another generation (another month or county) under
                // the same key.
                Err(StoreError::DuplicateEventId { .. }) => {
                    let reused = StoreError::IdempotencyKeyReused {
                        used_for: generation_keys(),
                        requested: self.cycles.stream_id(&id)?,
                    };
                    return self.generated_before_or(&id, context, reused).await;
                }
                Err(error) => return Err(error.into()),
            };
            self.view.nudge();
            self.cycles
                .committed_together(&id, loaded, &events, &committed)
                .await?;
            let cycle = self.cycles.load(&id).await?.state;
            if let Ok(Ok(file)) = bank_file.await {
                cycle.prime_bank_file(Arc::new(file));
            }
            return Ok((committed, id, cycle.totals()));
        }
    }

    /// This command's first outcome when an attempt of it committed (a concurrent retry won),
    /// else `otherwise`.
    async fn generated_before_or(
        &self,
        id: &CycleId,
        context: &CommandContext,
        otherwise: StoreError,
    ) -> Result<(Committed, CycleId, CycleTotals), Error> {
        match self.generated_before(id, context).await? {
            Some((replayed, cycle)) => Ok((replayed, *id, cycle.totals())),
            None => Err(otherwise.into()),
        }
    }

    /// What this command's first attempt committed, when the cycle's first event carries the id
    /// its idempotency key derives (a multi-stream append stores no key; see
    /// [`minzheng_kit::aggregate::Decided::with_event_ids_from_key`]). A key the store recorded
    /// (a cycle generated before the ledger existed, or another keyed command) answers as for
    /// any command: its outcome on this stream, or refused when it was used for another.
    async fn generated_before(
        &self,
        id: &CycleId,
        context: &CommandContext,
    ) -> Result<Option<(Committed, PaymentCycle)>, Error> {
        let Some(key) = context.idempotency_key.as_deref() else {
            return Ok(None);
        };
        if let Some(replayed) = self.cycles.replayed(id, context).await? {
            return Ok(Some((replayed, self.cycles.load(id).await?.state)));
        }
        let stream = self.cycles.stream_id(id)?;
        let first = self.store.read_stream(&stream, 1, 1).await?;
        if first
            .first()
            .is_none_or(|e| e.id != event_id_from_key(key, &stream, 0))
        {
            return Ok(None);
        }
        // The generation's events: the cycle's first event and a chunk per 1,000 lines.
        let generated = self.cycles.load(id).await?.state;
        let events =
            1 + (generated.totals().generated.count as usize).div_ceil(cycle::LINES_PER_EVENT);
        let replayed = self.cycles.recorded(id, events as u64).await?;
        Ok(Some((replayed, generated)))
    }

    /// The lines of cycle `id` (for `month`): the benefits in force, the one-offs not listed,
    /// the failed lines of the county's earlier cycles and the back pay owed.
    ///
    /// The county's other cycles are those of its ledger as read (`listed`: exact, whatever the
    /// read model has reached — its horizon waits for any long transaction of the database,
    /// another county's cycle being copied in, say) and those the read model knows (the cycles
    /// generated before the ledger existed, and any listed since, which the commit's expected
    /// ledger version makes this plan conflict with anyway). Each is loaded through its
    /// repository: exact, and once loaded kept (see `CYCLES_CACHED`).
    async fn plan_cycle(
        &self,
        id: CycleId,
        month: Date,
        listed: &[CycleId],
    ) -> Result<Vec<PaymentLine>, Error> {
        let county = id.county();
        self.view.catch_up().await?;
        let earlier_ids: BTreeSet<CycleId> = {
            let view = self.view.read().await;
            view.cycles_of(county)
                .chain(listed)
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
        let view = self.view.read().await;
        let decided: Vec<Decided<'_>> = view.decided_cases_of(county).collect();
        let back_pay = back_pay(&decided, &earlier, month);
        Ok(payments::plan_with_back_pay(
            month,
            county,
            entitlements(&decided, month),
            back_pay,
            &issued,
            failed,
        ))
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

/// What `decided` cases may be owed for months before `month` that the county's `other` cycles
/// listed: for each regular line of an earlier month, the case's entitlement for that month
/// now, beside everything listed for it (that line and the back pay any other cycle listed for
/// the month — a later month's too, should an earlier month's cycle be generated late —, paid,
/// pending or failed: a failed line is re-issued at its own amount). Only where the amount in
/// force now is more than that; cases no longer decided in this county (re-homed elsewhere)
/// are left to their county.
fn back_pay(decided: &[Decided<'_>], others: &[PaymentCycle], month: Date) -> Vec<BackPay> {
    let earlier: Vec<&PaymentCycle> = others
        .iter()
        .filter(|cycle| cycle.id().is_some_and(|id| id.month() < month))
        .collect();
    if earlier.is_empty() {
        return Vec::new();
    }
    let mut back_paid: HashMap<(CaseId, Date), Fen> = HashMap::new();
    for line in others.iter().flat_map(|cycle| cycle.lines()) {
        if let (LineKind::Regular, Period::BackPay { month, .. }) =
            (line.line.kind, line.line.period)
        {
            let sum = back_paid
                .entry((line.line.case, month))
                .or_insert(Fen::ZERO);
            *sum = sum.checked_add(line.line.amount).unwrap_or(*sum);
        }
    }
    let by_id: HashMap<&CaseId, &Decided<'_>> = decided.iter().map(|d| (d.id, d)).collect();
    let mut owed = Vec::new();
    for line in earlier.iter().flat_map(|cycle| cycle.lines()) {
        let line = &line.line;
        let (LineKind::Regular, Period::Month(listed_month)) = (line.kind, line.period) else {
            continue;
        };
        let Some(decided) = by_id.get(&line.case) else {
            continue;
        };
        let listed = back_paid
            .get(&(line.case, listed_month))
            .map_or(Some(line.amount), |more| line.amount.checked_add(*more));
        let Some(listed) = listed else { continue };
        // Cheap test first: most months owe nothing.
        if decided.case.amount_on(listed_month) <= listed {
            continue;
        }
        if let Some(entitlement) = entitlement(**decided, listed_month) {
            owed.push(BackPay {
                month: listed_month,
                entitlement,
                listed,
            });
        }
    }
    owed
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
