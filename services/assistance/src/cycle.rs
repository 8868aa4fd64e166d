//! A county's monthly payment cycle (资金发放), stream `cycle-<cycle id>` (e.g.
//! `cycle-210502-202607`), events published on `minzheng.assistance.cycle.<event>`.
//!
//! A cycle's life, as OpenSPP's and OpenG2P's cycles go:
//!
//! 1. **generate** ([`Generate`]): the lines [`crate::payments::plan`] computed for the month
//!    are recorded as [`Generated`] (count, total, day) followed by [`LinesAdded`] events of at
//!    most [`LINES_PER_EVENT`] lines each, all appended together. A NATS message is at most
//!    1 MB (the server's default `max_payload`); a line is at most about 500 bytes encoded (a
//!    payee name of [`PAYEE_NAME_MAX_CHARS`] characters, an account of 32 digits), so 1,000
//!    lines stay well under it. A cycle with no lines is allowed.
//! 2. **approve** ([`Approve`]): the county's approver (审批) approves the list, once. The
//!    county civil-affairs department decides and pays assistance: 《社会救助暂行办法》(State
//!    Council decree 649) art. 11 and art. 12 (dibao: "县级人民政府民政部门……按月发给").
//! 3. **export** ([`Export`]): the bank file ([`crate::bank_file::export`]) is written from the
//!    lines; the first export records [`Exported`] with the file's SHA-256 and totals. The file
//!    is a pure function of the lines, so exporting again (a bank re-downloading it) gives
//!    byte-identical content and records nothing; should the file ever differ (a changed
//!    format), the export is refused (`bank_file_changed`) rather than send the bank a second,
//!    different file for the same payments.
//! 4. **import results** ([`ImportResults`]): the bank's result file settles lines as paid, or
//!    failed with the bank's reason ([`ResultsImported`], chunked like the lines). Results are
//!    checked against the lines (same line number, case and amount). A line settled the same
//!    way again changes nothing, so re-importing a file records nothing; a line settled
//!    differently is refused (`line_already_settled`): a failed line may already be re-issued
//!    in a later cycle, so it can never turn paid, and a paid line never turns failed. Results
//!    may arrive in several files. When every line is settled, [`Settled`] records the paid and
//!    failed totals and the cycle is closed. A cycle without lines is settled when exported.
//!
//! Failed lines are re-issued by the next cycles ([`PaymentCycle::failed_lines`] feeds
//! [`crate::payments::plan`]); what this cycle issued and was not failed
//! ([`PaymentCycle::issued_keys`]) is never planned again. The aggregate sees one cycle: that no
//! two cycles pay the same key rests on the plan and on the application giving it every
//! cycle's issued keys.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, OnceLock},
};

use minzheng_kit::aggregate::{Aggregate, DomainError, RefusalKind};
use minzheng_types::{BoundedText, Fen};
use time::Date;

use crate::{
    bank_file::{self, BankFile, ExportError, Sha256Digest},
    ids::CycleId,
    payments::{
        FailedLine, LineKind, LineResult, Outcome, PAYEE_NAME_MAX_CHARS, PaymentKey, PaymentLine,
        Period, Totals,
    },
};

/// The most lines (or results) one event carries.
pub const LINES_PER_EVENT: usize = 1_000;

/// Where a cycle stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Generated,
    Approved,
    Exported,
    /// Every line is paid or failed: closed.
    Settled,
}

/// Where a line stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineStatus {
    Pending,
    Paid,
    Failed { reason: BoundedText },
}

/// A line and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineState {
    pub line: PaymentLine,
    pub status: LineStatus,
}

/// A cycle's totals by line status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CycleTotals {
    pub generated: Totals,
    pub paid: Totals,
    pub failed: Totals,
    pub pending: Totals,
}

/// The facts about a generated cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cycle {
    id: CycleId,
    status: Status,
    generated_on: Date,
    /// As recorded when generated.
    generated: Totals,
    /// Shared, so that a copy of the state (the repository's cache hands out copies) costs
    /// nothing however many lines there are; changed copy-on-write.
    lines: Arc<Vec<LineState>>,
    /// Lines neither paid nor failed.
    pending: usize,
    exported: Option<Sha256Digest>,
    /// The bank file of `lines`, written once: export decides on it and then answers it.
    bank_file: BankFileMemo,
}

/// A bank file written at most once for a cycle's lines (which do not change once generated:
/// results change their status, not what the file says), shared by the copies of the state.
/// Equal whatever it holds: it is derived from the lines.
#[derive(Debug, Clone, Default)]
struct BankFileMemo(Arc<OnceLock<Result<Arc<BankFile>, ExportError>>>);

impl BankFileMemo {
    fn get_or_write(&self, id: CycleId, lines: &[LineState]) -> Result<Arc<BankFile>, ExportError> {
        self.0
            .get_or_init(|| bank_file::export(id, lines.iter().map(|s| &s.line)).map(Arc::new))
            .clone()
    }
}

impl PartialEq for BankFileMemo {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for BankFileMemo {}

/// The state of one cycle; `Default` is one not generated yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentCycle {
    cycle: Option<Cycle>,
}

/// What can be asked of a payment cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Generate(Generate),
    Approve(Approve),
    Export(Export),
    ImportResults(ImportResults),
}

/// Record the month's lines, from [`crate::payments::plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generate {
    pub cycle: CycleId,
    /// Shared, so that the bank file can be written from them while they are stored.
    pub lines: Arc<Vec<PaymentLine>>,
    pub generated_on: Date,
}

/// The county approves the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approve {
    pub approved_on: Date,
}

/// Write the bank file (again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub exported_on: Date,
}

/// Apply the bank's result file, parsed by [`crate::bank_file::parse_results`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportResults {
    pub results: Vec<LineResult>,
    pub file_sha256: Sha256Digest,
    pub imported_on: Date,
}

/// What happened to a payment cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Generated(Generated),
    LinesAdded(LinesAdded),
    Approved(Approved),
    Exported(Exported),
    ResultsImported(ResultsImported),
    Settled(Settled),
}

/// The cycle was generated; its lines follow in [`LinesAdded`] events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub cycle: CycleId,
    pub totals: Totals,
    pub generated_on: Date,
}

/// Some of the cycle's lines, in order (at most [`LINES_PER_EVENT`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinesAdded {
    pub cycle: CycleId,
    pub lines: Vec<PaymentLine>,
}

/// The county approved the cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    pub cycle: CycleId,
    pub approved_on: Date,
}

/// The bank file was first exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub cycle: CycleId,
    pub file_sha256: Sha256Digest,
    pub totals: Totals,
    pub exported_on: Date,
}

/// Lines were settled by the bank's result file (at most [`LINES_PER_EVENT`] results).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultsImported {
    pub cycle: CycleId,
    pub file_sha256: Sha256Digest,
    pub imported_on: Date,
    pub results: Vec<LineResult>,
}

/// Every line is settled: the cycle is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub cycle: CycleId,
    pub paid: Totals,
    pub failed: Totals,
    pub settled_on: Date,
}

/// A rule that refused a payment-cycle command. Messages name line numbers, never a payee.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the payment cycle has not been generated")]
    NotGenerated,
    #[error("the payment cycle has already been generated")]
    AlreadyGenerated,
    #[error("the lines must be numbered from 1 in order; line {line_no} is out of place")]
    LinesNotNumbered { line_no: u32 },
    #[error("line {line_no} pays a case of another county")]
    LineOutsideCounty { line_no: u32 },
    #[error("line {line_no} pays nothing: an amount must be positive")]
    AmountNotPositive { line_no: u32 },
    #[error("line {line_no} pays another month than the cycle's")]
    LineForAnotherMonth { line_no: u32 },
    #[error("line {line_no} re-issues a line of a cycle that is not an earlier one of the county")]
    ReissueNotOfAnEarlierCycle { line_no: u32 },
    #[error("line {line_no} pays a case's month or one-off that another line pays")]
    PaidTwice { line_no: u32 },
    #[error("line {line_no} has a payee name longer than {PAYEE_NAME_MAX_CHARS} characters")]
    PayeeNameTooLong { line_no: u32 },
    #[error("the cycle's total overflows")]
    TotalOverflows,
    #[error("the payment cycle has already been approved")]
    AlreadyApproved,
    #[error("the payment cycle has not been approved")]
    NotApproved,
    #[error("the bank file would differ from the one exported before")]
    BankFileChanged,
    #[error("the bank file has not been exported")]
    NotExported,
    #[error("line {line_no} has already been settled otherwise")]
    LineAlreadySettled { line_no: u32 },
    #[error(
        "the result for line {line_no} does not match a line of the cycle (number, case, amount)"
    )]
    ResultDoesNotMatchLine { line_no: u32 },
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NotGenerated => "cycle_not_generated",
            Error::AlreadyGenerated => "cycle_already_generated",
            Error::LinesNotNumbered { .. } => "lines_not_numbered",
            Error::LineOutsideCounty { .. } => "line_outside_county",
            Error::AmountNotPositive { .. } => "amount_not_positive",
            Error::LineForAnotherMonth { .. } => "line_for_another_month",
            Error::ReissueNotOfAnEarlierCycle { .. } => "reissue_not_of_an_earlier_cycle",
            Error::PaidTwice { .. } => "paid_twice",
            Error::PayeeNameTooLong { .. } => "payee_name_too_long",
            Error::TotalOverflows => "total_overflows",
            Error::AlreadyApproved => "cycle_already_approved",
            Error::NotApproved => "cycle_not_approved",
            Error::BankFileChanged => "bank_file_changed",
            Error::NotExported => "cycle_not_exported",
            Error::LineAlreadySettled { .. } => "line_already_settled",
            Error::ResultDoesNotMatchLine { .. } => "result_does_not_match_line",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            Error::NotGenerated => RefusalKind::NotFound,
            _ => RefusalKind::FailedPrecondition,
        }
    }
}

impl PaymentCycle {
    /// The cycle's id, once generated.
    pub fn id(&self) -> Option<CycleId> {
        self.cycle.as_ref().map(|c| c.id)
    }

    /// Where it stands, once generated.
    pub fn status(&self) -> Option<Status> {
        self.cycle.as_ref().map(|c| c.status)
    }

    /// The day it was generated.
    pub fn generated_on(&self) -> Option<Date> {
        self.cycle.as_ref().map(|c| c.generated_on)
    }

    /// The lines, in order, with where each stands.
    pub fn lines(&self) -> &[LineState] {
        self.cycle.as_ref().map_or(&[], |c| &c.lines)
    }

    /// The digest of the exported bank file, once exported.
    pub fn exported_sha256(&self) -> Option<Sha256Digest> {
        self.cycle.as_ref().and_then(|c| c.exported)
    }

    /// The totals by status (the generated ones as recorded when generated).
    pub fn totals(&self) -> CycleTotals {
        let mut totals = CycleTotals {
            generated: self.cycle.as_ref().map(|c| c.generated).unwrap_or_default(),
            ..CycleTotals::default()
        };
        for state in self.lines() {
            let bucket = match state.status {
                LineStatus::Pending => &mut totals.pending,
                LineStatus::Paid => &mut totals.paid,
                LineStatus::Failed { .. } => &mut totals.failed,
            };
            // The generated total did not overflow, so no part of it does.
            *bucket = bucket.with_line(state.line.amount).unwrap_or(*bucket);
        }
        totals
    }

    /// The lines the bank could not pay, for the next cycles to re-issue.
    pub fn failed_lines(&self) -> impl Iterator<Item = FailedLine> + '_ {
        let id = self.id();
        self.lines()
            .iter()
            .filter(|s| matches!(s.status, LineStatus::Failed { .. }))
            .filter_map(move |s| {
                Some(FailedLine {
                    cycle: id?,
                    line: s.line.clone(),
                })
            })
    }

    /// What this cycle issued and the bank did not refuse (paid or pending): never planned
    /// again.
    pub fn issued_keys(&self) -> impl Iterator<Item = PaymentKey> + '_ {
        self.lines()
            .iter()
            .filter(|s| !matches!(s.status, LineStatus::Failed { .. }))
            .map(|s| s.line.key())
    }

    /// Hands the state the bank file of its lines written beforehand (while the generation was
    /// being stored, from the same lines), so that export does not write it again. Kept only
    /// when none is written yet and it lists as many lines for as much as the cycle.
    pub fn prime_bank_file(&self, file: Arc<BankFile>) {
        if let Some(cycle) = &self.cycle
            && file.totals == cycle.generated
            && file.totals.count as usize == cycle.lines.len()
        {
            let _ = cycle.bank_file.0.set(Ok(file));
        }
    }

    /// The bank file, once approved: the bytes a bank (re-)downloads.
    pub fn bank_file(&self) -> Result<Arc<BankFile>, Error> {
        let cycle = self.cycle.as_ref().ok_or(Error::NotGenerated)?;
        if cycle.status == Status::Generated {
            return Err(Error::NotApproved);
        }
        cycle
            .bank_file
            .get_or_write(cycle.id, &cycle.lines)
            .map_err(|_| Error::TotalOverflows)
    }
}

impl Aggregate for PaymentCycle {
    const CATEGORY: &'static str = "cycle";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        if let Command::Generate(generate) = command {
            if self.cycle.is_some() {
                return Err(Error::AlreadyGenerated);
            }
            return generated(generate);
        }
        let cycle = self.cycle.as_ref().ok_or(Error::NotGenerated)?;
        match command {
            Command::Generate(_) => unreachable!("handled above"),
            Command::Approve(approve) => approved(cycle, approve),
            Command::Export(export) => exported(self, cycle, export),
            Command::ImportResults(import) => imported(cycle, import),
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        if let Event::Generated(e) = event {
            self.cycle = Some(Cycle {
                id: e.cycle,
                status: Status::Generated,
                generated_on: e.generated_on,
                generated: e.totals,
                lines: Arc::new(Vec::with_capacity(e.totals.count as usize)),
                pending: 0,
                exported: None,
                bank_file: BankFileMemo::default(),
            });
            return self;
        }
        let Some(cycle) = self.cycle.as_mut() else {
            return self;
        };
        match event {
            Event::Generated(_) => {}
            Event::LinesAdded(e) => {
                cycle.pending += e.lines.len();
                cycle.bank_file = BankFileMemo::default();
                Arc::make_mut(&mut cycle.lines).extend(e.lines.iter().map(|line| LineState {
                    line: line.clone(),
                    status: LineStatus::Pending,
                }));
            }
            Event::Approved(_) => cycle.status = Status::Approved,
            Event::Exported(e) => {
                cycle.status = Status::Exported;
                cycle.exported = Some(e.file_sha256);
            }
            Event::ResultsImported(e) => {
                let lines = Arc::make_mut(&mut cycle.lines);
                for result in &e.results {
                    let index = (result.line_no as usize).checked_sub(1);
                    if let Some(state) = index.and_then(|i| lines.get_mut(i)) {
                        state.status = status_of(&result.outcome);
                        cycle.pending = cycle.pending.saturating_sub(1);
                    }
                }
            }
            Event::Settled(_) => cycle.status = Status::Settled,
        }
        self
    }
}

fn status_of(outcome: &Outcome) -> LineStatus {
    match outcome {
        Outcome::Paid => LineStatus::Paid,
        Outcome::Failed { reason } => LineStatus::Failed {
            reason: reason.clone(),
        },
    }
}

/// [`Generated`] and the lines in chunks, after checking each line.
fn generated(c: &Generate) -> Result<Vec<Event>, Error> {
    check_lines(c.cycle, &c.lines)?;
    let totals = crate::payments::totals(c.lines.iter()).ok_or(Error::TotalOverflows)?;
    let mut events = Vec::with_capacity(1 + c.lines.len().div_ceil(LINES_PER_EVENT));
    events.push(Event::Generated(Generated {
        cycle: c.cycle,
        totals,
        generated_on: c.generated_on,
    }));
    events.extend(c.lines.chunks(LINES_PER_EVENT).map(|chunk| {
        Event::LinesAdded(LinesAdded {
            cycle: c.cycle,
            lines: chunk.to_vec(),
        })
    }));
    Ok(events)
}

/// The plan's guarantees, checked again where they are recorded: numbered from 1, the cycle's
/// county, positive amounts, a regular monthly line pays the cycle's month and a re-issue
/// names an earlier cycle of the county, no key twice, names the bank and the 1 MB message
/// limit allow.
fn check_lines(cycle: CycleId, lines: &[PaymentLine]) -> Result<(), Error> {
    let mut keys = HashSet::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let line_no = line.line_no;
        if usize::try_from(line_no).ok() != Some(index + 1) {
            return Err(Error::LinesNotNumbered { line_no });
        }
        if line.case.county() != cycle.county() {
            return Err(Error::LineOutsideCounty { line_no });
        }
        if line.amount <= Fen::ZERO {
            return Err(Error::AmountNotPositive { line_no });
        }
        match (line.kind, line.period) {
            (LineKind::Regular, Period::Month(month)) if month != cycle.month() => {
                return Err(Error::LineForAnotherMonth { line_no });
            }
            (LineKind::Regular, Period::BackPay { month, listed_in })
                if listed_in != cycle.month() || month >= cycle.month() =>
            {
                return Err(Error::LineForAnotherMonth { line_no });
            }
            (
                LineKind::Reissue {
                    cycle: original, ..
                },
                _,
            ) if original.county() != cycle.county() || original.month() >= cycle.month() => {
                return Err(Error::ReissueNotOfAnEarlierCycle { line_no });
            }
            _ => {}
        }
        if line.payee.name.char_count() > PAYEE_NAME_MAX_CHARS {
            return Err(Error::PayeeNameTooLong { line_no });
        }
        if !keys.insert(line.key()) {
            return Err(Error::PaidTwice { line_no });
        }
    }
    Ok(())
}

fn approved(cycle: &Cycle, c: &Approve) -> Result<Vec<Event>, Error> {
    if cycle.status != Status::Generated {
        return Err(Error::AlreadyApproved);
    }
    Ok(vec![Event::Approved(Approved {
        cycle: cycle.id,
        approved_on: c.approved_on,
    })])
}

/// The first export records the file's digest; a later one with the same file records nothing.
fn exported(state: &PaymentCycle, cycle: &Cycle, c: &Export) -> Result<Vec<Event>, Error> {
    let file = state.bank_file()?;
    match cycle.exported {
        Some(digest) if digest == file.sha256 => return Ok(vec![]),
        Some(_) => return Err(Error::BankFileChanged),
        None => {}
    }
    let mut events = vec![Event::Exported(Exported {
        cycle: cycle.id,
        file_sha256: file.sha256,
        totals: file.totals,
        exported_on: c.exported_on,
    })];
    if cycle.lines.is_empty() {
        events.push(Event::Settled(Settled {
            cycle: cycle.id,
            paid: Totals::default(),
            failed: Totals::default(),
            settled_on: c.exported_on,
        }));
    }
    Ok(events)
}

/// The results that settle pending lines, in chunks, and [`Settled`] when none is left pending.
fn imported(cycle: &Cycle, c: &ImportResults) -> Result<Vec<Event>, Error> {
    if matches!(cycle.status, Status::Generated | Status::Approved) {
        return Err(Error::NotExported);
    }
    let mut settling: HashMap<u32, &Outcome> = HashMap::new();
    let mut new = Vec::new();
    for result in &c.results {
        let line_no = result.line_no;
        let state = usize::try_from(line_no)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|index| cycle.lines.get(index))
            .filter(|s| s.line.case == result.case && s.line.amount == result.amount)
            .ok_or(Error::ResultDoesNotMatchLine { line_no })?;
        let earlier = match &state.status {
            LineStatus::Pending => settling.get(&line_no).copied().cloned(),
            LineStatus::Paid => Some(Outcome::Paid),
            LineStatus::Failed { reason } => Some(Outcome::Failed {
                reason: reason.clone(),
            }),
        };
        match earlier {
            Some(earlier) if earlier.same_settlement(&result.outcome) => {}
            Some(_) => return Err(Error::LineAlreadySettled { line_no }),
            None => {
                settling.insert(line_no, &result.outcome);
                new.push(result.clone());
            }
        }
    }
    if new.is_empty() {
        return Ok(vec![]);
    }
    let mut events: Vec<Event> = new
        .chunks(LINES_PER_EVENT)
        .map(|chunk| {
            Event::ResultsImported(ResultsImported {
                cycle: cycle.id,
                file_sha256: c.file_sha256,
                imported_on: c.imported_on,
                results: chunk.to_vec(),
            })
        })
        .collect();
    if new.len() == cycle.pending {
        events.push(settled(cycle, &settling, c.imported_on)?);
    }
    Ok(events)
}

/// The paid and failed totals once every line is settled by its status or by `settling`.
fn settled(
    cycle: &Cycle,
    settling: &HashMap<u32, &Outcome>,
    settled_on: Date,
) -> Result<Event, Error> {
    let (mut paid, mut failed) = (Totals::default(), Totals::default());
    for state in cycle.lines.iter() {
        let is_paid = match settling.get(&state.line.line_no) {
            Some(outcome) => matches!(outcome, Outcome::Paid),
            None => state.status == LineStatus::Paid,
        };
        let bucket = if is_paid { &mut paid } else { &mut failed };
        *bucket = bucket
            .with_line(state.line.amount)
            .ok_or(Error::TotalOverflows)?;
    }
    Ok(Event::Settled(Settled {
        cycle: cycle.id,
        paid,
        failed,
        settled_on,
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashSet;

    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;
    use crate::{
        bank_file::parse_results,
        ids::CaseId,
        payments::{
            Entitlement, Months, plan,
            tests::{county, monthly, one_off_from},
        },
    };

    pub(crate) const JUNE: Date = date!(2026 - 06 - 01);
    pub(crate) const JULY: Date = date!(2026 - 07 - 01);

    pub(crate) fn june() -> CycleId {
        CycleId::new(county(), JUNE).expect("county")
    }

    fn july() -> CycleId {
        CycleId::new(county(), JULY).expect("county")
    }

    /// The entitlements of the scenario: three dibao cases of 665.00, 450.50 and 0.01 yuan.
    fn entitlements() -> Vec<Entitlement> {
        vec![monthly(1, 66_500), monthly(2, 45_050), monthly(3, 1)]
    }

    pub(crate) fn june_lines() -> Vec<PaymentLine> {
        plan(JUNE, county(), entitlements(), &HashSet::new(), [])
    }

    pub(crate) fn generate(cycle: CycleId, lines: Vec<PaymentLine>) -> Command {
        Command::Generate(Generate {
            cycle,
            lines: Arc::new(lines),
            generated_on: date!(2026 - 06 - 03),
        })
    }

    fn handled(state: PaymentCycle, command: Command) -> PaymentCycle {
        let events = state.handle(&command).expect("accepted");
        events.iter().fold(state, |s, e| s.apply(e))
    }

    pub(crate) fn generated_events(lines: Vec<PaymentLine>) -> Vec<Event> {
        PaymentCycle::default()
            .handle(&generate(june(), lines))
            .expect("generated")
    }

    pub(crate) fn approved_event() -> Event {
        Event::Approved(Approved {
            cycle: june(),
            approved_on: date!(2026 - 06 - 05),
        })
    }

    fn approved_june() -> Vec<Event> {
        let mut events = generated_events(june_lines());
        events.push(approved_event());
        events
    }

    fn export() -> Command {
        Command::Export(Export {
            exported_on: date!(2026 - 06 - 06),
        })
    }

    fn exported_june() -> PaymentCycle {
        handled(
            given::<PaymentCycle>(approved_june()).state().clone(),
            export(),
        )
    }

    #[test]
    fn a_bank_file_written_beforehand_is_used_only_if_it_is_the_cycles() {
        let state = given::<PaymentCycle>(approved_june()).state().clone();
        let own = Arc::new(bank_file::export(june(), &june_lines()).expect("written"));
        state.prime_bank_file(own.clone());
        assert!(Arc::ptr_eq(&state.bank_file().expect("approved"), &own));

        // A file of other lines (one line fewer) is not taken: the cycle writes its own.
        let state = given::<PaymentCycle>(approved_june()).state().clone();
        let other = Arc::new(bank_file::export(june(), &june_lines()[..2]).expect("written"));
        state.prime_bank_file(other.clone());
        let written = state.bank_file().expect("approved");
        assert!(!Arc::ptr_eq(&written, &other));
        assert_eq!(written.bytes, own.bytes);
    }

    /// The bank's result file for June: line 2 failed.
    const JUNE_RESULTS: &str = "line_no,case_id,amount_yuan,status,reason\r\n\
        1,210502-DB-2026-000001,665.00,PAID,\r\n\
        2,210502-DB-2026-000002,450.50,FAILED,账户已销户\r\n\
        3,210502-DB-2026-000003,0.01,PAID,\r\n";

    fn import(text: &str) -> Command {
        let file = parse_results(text.as_bytes()).expect("a valid result file");
        Command::ImportResults(ImportResults {
            results: file.results,
            file_sha256: file.sha256,
            imported_on: date!(2026 - 06 - 12),
        })
    }

    fn reason(text: &str) -> BoundedText {
        BoundedText::parse(text, 200).expect("valid")
    }

    fn total(count: u32, fen: i64) -> Totals {
        Totals {
            count,
            amount: Fen::new(fen),
        }
    }

    #[test]
    fn a_payment_cycle_end_to_end_with_a_failed_line_reissued_next_month() {
        // Generate June from the entitlements in force: the totals are theirs to the fen.
        let lines = june_lines();
        let events = PaymentCycle::default()
            .handle(&generate(june(), lines.clone()))
            .expect("generated");
        assert_eq!(
            events,
            [
                Event::Generated(Generated {
                    cycle: june(),
                    totals: total(3, 111_551),
                    generated_on: date!(2026 - 06 - 03),
                }),
                Event::LinesAdded(LinesAdded {
                    cycle: june(),
                    lines: lines.clone(),
                }),
            ]
        );
        let entitled = Fen::checked_sum(entitlements().iter().map(|e| e.amount));
        assert_eq!(Some(total(3, 111_551).amount), entitled);

        // Approve, export.
        let state = events
            .iter()
            .fold(PaymentCycle::default(), |s, e| s.apply(e));
        let state = handled(
            state,
            Command::Approve(Approve {
                approved_on: date!(2026 - 06 - 05),
            }),
        );
        let file = state.bank_file().expect("approved");
        let exported = state.handle(&export()).expect("exported");
        assert_eq!(
            exported,
            [Event::Exported(Exported {
                cycle: june(),
                file_sha256: file.sha256,
                totals: total(3, 111_551),
                exported_on: date!(2026 - 06 - 06),
            })]
        );
        let state = exported.iter().fold(state, |s, e| s.apply(e));
        assert_eq!(state.status(), Some(Status::Exported));

        // The bank pays lines 1 and 3 and fails line 2: the cycle is settled.
        let settled_events = state.handle(&import(JUNE_RESULTS)).expect("imported");
        assert_eq!(settled_events.len(), 2);
        assert_eq!(
            settled_events[1],
            Event::Settled(Settled {
                cycle: june(),
                paid: total(2, 66_501),
                failed: total(1, 45_050),
                settled_on: date!(2026 - 06 - 12),
            })
        );
        let state = settled_events.iter().fold(state, |s, e| s.apply(e));
        assert_eq!(state.status(), Some(Status::Settled));
        assert_eq!(
            state.totals(),
            CycleTotals {
                generated: total(3, 111_551),
                paid: total(2, 66_501),
                failed: total(1, 45_050),
                pending: Totals::default(),
            }
        );
        // Re-importing the same file records nothing.
        assert_eq!(state.handle(&import(JUNE_RESULTS)).expect("accepted"), []);

        // July: the failed line is re-issued once, beside July's own lines; nothing paid twice.
        let issued: HashSet<_> = state.issued_keys().collect();
        let failed: Vec<_> = state.failed_lines().collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].line.line_no, 2);
        let july_lines = plan(JULY, county(), entitlements(), &issued, failed);
        let summary: Vec<_> = july_lines
            .iter()
            .map(|l| (l.line_no, l.case.ordinal(), l.period, l.kind))
            .collect();
        assert_eq!(
            summary,
            [
                (1, 1, Period::Month(JULY), LineKind::Regular),
                (
                    2,
                    2,
                    Period::Month(JUNE),
                    LineKind::Reissue {
                        cycle: june(),
                        line_no: 2
                    }
                ),
                (3, 2, Period::Month(JULY), LineKind::Regular),
                (4, 3, Period::Month(JULY), LineKind::Regular),
            ]
        );
        let july_state = handled(PaymentCycle::default(), generate(july(), july_lines));
        // June's paid lines and July's lines together pay each (case, month) once.
        let all: Vec<_> = state
            .issued_keys()
            .chain(july_state.issued_keys())
            .collect();
        let distinct: HashSet<_> = all.iter().copied().collect();
        assert_eq!(all.len(), distinct.len());
        assert_eq!(all.len(), 2 + 4);
        // What July pays is June's failed amount plus every entitlement for July.
        assert_eq!(july_state.totals().generated, total(4, 45_050 + 111_551));
    }

    #[test]
    fn a_benefit_paid_from_the_month_after_approval_and_stopped_after_death() {
        let died_in_june = Entitlement {
            months: Months::after_approval(date!(2026 - 05 - 20))
                .ending_after(date!(2026 - 06 - 30)),
            ..monthly(2, 45_050)
        };
        let approved_in_june = Entitlement {
            months: Months::after_approval(date!(2026 - 06 - 10)),
            ..monthly(4, 30_000)
        };
        let cases = |month| {
            plan(
                month,
                county(),
                [died_in_june.clone(), approved_in_june.clone()],
                &HashSet::new(),
                [],
            )
            .iter()
            .map(|l| l.case.ordinal())
            .collect::<Vec<_>>()
        };
        assert_eq!(cases(JUNE), [2]);
        assert_eq!(cases(JULY), [4]);
    }

    #[test]
    fn lines_are_added_1000_to_an_event() {
        let entitlements: Vec<_> = (1..=2_500)
            .map(|n| monthly(n, 10_000 + i64::from(n)))
            .collect();
        let lines = plan(JUNE, county(), entitlements.clone(), &HashSet::new(), []);
        let events = generated_events(lines);
        let chunks: Vec<usize> = events
            .iter()
            .filter_map(|e| match e {
                Event::LinesAdded(e) => Some(e.lines.len()),
                _ => None,
            })
            .collect();
        assert_eq!(chunks, [1_000, 1_000, 500]);
        let state = events
            .iter()
            .fold(PaymentCycle::default(), |s, e| s.apply(e));
        assert_eq!(state.lines().len(), 2_500);
        assert_eq!(state.lines()[2_499].line.line_no, 2_500);
        let sum = Fen::checked_sum(entitlements.iter().map(|e| e.amount)).expect("sum");
        assert_eq!(
            state.totals().generated,
            Totals {
                count: 2_500,
                amount: sum
            }
        );
        assert_eq!(state.totals().pending, state.totals().generated);
    }

    #[test]
    fn results_are_imported_1000_to_an_event() {
        let lines = plan(
            JUNE,
            county(),
            (1..=1_500).map(|n| monthly(n, 100)),
            &HashSet::new(),
            [],
        );
        let mut events = generated_events(lines.clone());
        events.push(approved_event());
        let state = handled(given::<PaymentCycle>(events).state().clone(), export());
        let results = lines
            .iter()
            .map(|l| LineResult {
                line_no: l.line_no,
                case: l.case,
                amount: l.amount,
                outcome: Outcome::Paid,
            })
            .collect();
        let imported = state
            .handle(&Command::ImportResults(ImportResults {
                results,
                file_sha256: Sha256Digest::of(b"results"),
                imported_on: date!(2026 - 06 - 12),
            }))
            .expect("imported");
        let sizes: Vec<_> = imported
            .iter()
            .map(|e| match e {
                Event::ResultsImported(e) => e.results.len(),
                Event::Settled(_) => 0,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(sizes, [1_000, 500, 0]);
    }

    #[test]
    fn an_empty_cycle_is_generated_exported_and_settled() {
        let state = given::<PaymentCycle>([])
            .when(generate(june(), vec![]))
            .then([Event::Generated(Generated {
                cycle: june(),
                totals: Totals::default(),
                generated_on: date!(2026 - 06 - 03),
            })]);
        let state = handled(
            state,
            Command::Approve(Approve {
                approved_on: date!(2026 - 06 - 05),
            }),
        );
        let events = state.handle(&export()).expect("exported");
        assert!(matches!(
            events.as_slice(),
            [Event::Exported(_), Event::Settled(_)]
        ));
    }

    #[test]
    fn exporting_again_gives_the_same_file_and_records_nothing() {
        let state = exported_june();
        let first = state.exported_sha256().expect("exported");
        assert_eq!(state.handle(&export()).expect("accepted"), []);
        assert_eq!(state.bank_file().expect("approved").sha256, first);
        // After the results too.
        let state = handled(state, import(JUNE_RESULTS));
        assert_eq!(state.handle(&export()).expect("accepted"), []);
        assert_eq!(state.bank_file().expect("approved").sha256, first);
    }

    #[test]
    fn a_different_file_than_the_one_exported_is_refused() {
        let mut events = approved_june();
        events.push(Event::Exported(Exported {
            cycle: june(),
            file_sha256: Sha256Digest::of(b"another format"),
            totals: total(3, 111_551),
            exported_on: date!(2026 - 06 - 06),
        }));
        given::<PaymentCycle>(events)
            .when(export())
            .then_refused("bank_file_changed");
    }

    #[test]
    fn a_partial_result_file_leaves_the_rest_pending_and_a_later_one_settles() {
        let state = exported_june();
        let first = "line_no,case_id,amount_yuan,status,reason\r\n\
            2,210502-DB-2026-000002,450.50,FAILED,账户已销户\r\n";
        let events = state.handle(&import(first)).expect("imported");
        assert_eq!(events.len(), 1, "not settled yet");
        let state = events.iter().fold(state, |s, e| s.apply(e));
        assert_eq!(state.totals().pending, total(2, 66_501));
        assert_eq!(state.status(), Some(Status::Exported));
        // The full file later: line 2 already failed (another wording counts the same).
        let full = JUNE_RESULTS.replace("账户已销户", "户名不符");
        let events = state.handle(&import(&full)).expect("imported");
        assert_eq!(events.len(), 2);
        assert!(matches!(&events[0], Event::ResultsImported(e) if e.results.len() == 2));
        assert!(matches!(events[1], Event::Settled(_)));
        let state = events.iter().fold(state, |s, e| s.apply(e));
        assert_eq!(
            state.lines()[1].status,
            LineStatus::Failed {
                reason: reason("账户已销户")
            }
        );
    }

    #[test]
    fn a_line_settled_otherwise_is_refused_naming_it() {
        let state = handled(exported_june(), import(JUNE_RESULTS));
        let turned_paid = JUNE_RESULTS.replace("FAILED,账户已销户", "PAID,");
        let error = state.handle(&import(&turned_paid)).expect_err("refused");
        assert_eq!(error.rule(), "line_already_settled");
        assert_eq!(error, Error::LineAlreadySettled { line_no: 2 });
        // Within one file too.
        let state = exported_june();
        let twice = Command::ImportResults(ImportResults {
            results: vec![
                result(1, Outcome::Paid),
                result(
                    1,
                    Outcome::Failed {
                        reason: reason("退回"),
                    },
                ),
            ],
            file_sha256: Sha256Digest::of(b"x"),
            imported_on: date!(2026 - 06 - 12),
        });
        assert_eq!(
            state.handle(&twice),
            Err(Error::LineAlreadySettled { line_no: 1 })
        );
    }

    fn result(line_no: u32, outcome: Outcome) -> LineResult {
        let line = &june_lines()[line_no as usize - 1];
        LineResult {
            line_no,
            case: line.case,
            amount: line.amount,
            outcome,
        }
    }

    fn import_one(result: LineResult) -> Command {
        Command::ImportResults(ImportResults {
            results: vec![result],
            file_sha256: Sha256Digest::of(b"x"),
            imported_on: date!(2026 - 06 - 12),
        })
    }

    #[test]
    fn a_result_that_does_not_match_its_line_is_refused() {
        let state = exported_june();
        let other_case = LineResult {
            case: CaseId::parse("210502-DB-2026-000009").expect("valid"),
            ..result(1, Outcome::Paid)
        };
        let other_amount = LineResult {
            amount: Fen::new(66_400),
            ..result(1, Outcome::Paid)
        };
        let unknown = LineResult {
            line_no: 4,
            ..result(3, Outcome::Paid)
        };
        let zero = LineResult {
            line_no: 0,
            ..result(1, Outcome::Paid)
        };
        for (bad, line_no) in [(other_case, 1), (other_amount, 1), (unknown, 4), (zero, 0)] {
            assert_eq!(
                state.handle(&import_one(bad)),
                Err(Error::ResultDoesNotMatchLine { line_no })
            );
        }
    }

    #[test]
    fn each_step_needs_the_one_before_and_happens_once() {
        given::<PaymentCycle>(generated_events(june_lines()))
            .when(generate(june(), june_lines()))
            .then_refused("cycle_already_generated");
        given::<PaymentCycle>([])
            .when(Command::Approve(Approve { approved_on: JUNE }))
            .then_refused("cycle_not_generated");
        given::<PaymentCycle>([])
            .when(export())
            .then_refused("cycle_not_generated");
        given::<PaymentCycle>([])
            .when(import(JUNE_RESULTS))
            .then_refused("cycle_not_generated");
        given::<PaymentCycle>(approved_june())
            .when(Command::Approve(Approve { approved_on: JUNE }))
            .then_refused("cycle_already_approved");
        given::<PaymentCycle>(generated_events(june_lines()))
            .when(export())
            .then_refused("cycle_not_approved");
        given::<PaymentCycle>(generated_events(june_lines()))
            .when(import(JUNE_RESULTS))
            .then_refused("cycle_not_exported");
        given::<PaymentCycle>(approved_june())
            .when(import(JUNE_RESULTS))
            .then_refused("cycle_not_exported");
        assert_eq!(Error::NotGenerated.kind(), RefusalKind::NotFound);
        assert_eq!(
            given::<PaymentCycle>(generated_events(june_lines()))
                .state()
                .bank_file(),
            Err(Error::NotApproved)
        );
    }

    #[test]
    fn lines_that_break_the_plans_guarantees_are_refused() {
        let refused = |lines: Vec<PaymentLine>, rule: &str| {
            given::<PaymentCycle>([])
                .when(generate(june(), lines))
                .then_refused(rule);
        };
        let mut lines = june_lines();
        lines[1].line_no = 5;
        refused(lines, "lines_not_numbered");

        let mut lines = june_lines();
        lines[0].case = CaseId::parse("210503-DB-2026-000001").expect("valid");
        refused(lines, "line_outside_county");

        let mut lines = june_lines();
        lines[2].amount = Fen::ZERO;
        refused(lines, "amount_not_positive");

        let mut lines = june_lines();
        lines[0].period = Period::Month(JULY);
        refused(lines, "line_for_another_month");

        // Back pay is for an earlier month, listed in this cycle's.
        for (month, listed_in) in [(JUNE, JUNE), (date!(2026 - 05 - 01), JULY)] {
            let mut lines = june_lines();
            lines[0].period = Period::BackPay { month, listed_in };
            refused(lines, "line_for_another_month");
        }

        let mut lines = june_lines();
        lines[0].kind = LineKind::Reissue {
            cycle: june(),
            line_no: 1,
        };
        refused(lines, "reissue_not_of_an_earlier_cycle");

        let mut lines = june_lines();
        lines[1].case = lines[0].case;
        refused(lines, "paid_twice");

        let mut lines = june_lines();
        Arc::make_mut(&mut lines[0].payee).name =
            BoundedText::parse(&"名".repeat(101), 1_000).expect("valid");
        refused(lines, "payee_name_too_long");

        let mut lines = june_lines();
        lines[0].amount = Fen::new(i64::MAX);
        refused(lines, "total_overflows");

        // A one-off and a re-issue of May are no month of June's, and are accepted.
        let mut lines = plan(
            JUNE,
            county(),
            [one_off_from(1, 120_000, JUNE)],
            &HashSet::new(),
            [],
        );
        let mut may = june_lines()[1].clone();
        may.period = Period::Month(date!(2026 - 05 - 01));
        may.line_no = 2;
        may.kind = LineKind::Reissue {
            cycle: CycleId::new(county(), date!(2026 - 05 - 01)).expect("county"),
            line_no: 7,
        };
        lines.push(may);
        assert!(
            PaymentCycle::default()
                .handle(&generate(june(), lines))
                .is_ok()
        );
    }

    #[test]
    fn refusals_name_lines_and_never_payees() {
        let state = exported_june();
        let error = state
            .handle(&import_one(LineResult {
                amount: Fen::new(1),
                ..result(2, Outcome::Paid)
            }))
            .expect_err("refused");
        let message = error.to_string();
        assert!(message.contains("line 2"), "{message}");
        assert!(!message.contains("张"), "{message}");
        assert!(!message.contains("6222"), "{message}");
    }
}
