//! Planning one month's payments (资金发放) for a county: which cases are paid, how much, to
//! whom. Pure: the application layer gives what is in force ([`Entitlement`]s, computed from
//! the cases and the standards), what earlier cycles already issued ([`PaymentKey`]s) and their
//! failed lines ([`FailedLine`]); [`plan`] returns the lines of the new cycle, which the
//! [`crate::cycle`] aggregate records.
//!
//! The rules:
//!
//! - Benefits are paid monthly through a bank (社会化发放): 《社会救助暂行办法》(State Council
//!   decree 649) art. 12 (dibao "按月发给") and art. 15 (extreme-poverty support), and
//!   《最低生活保障审核确认办法》(民发〔2021〕57号), which has the allowance paid to the household's
//!   bank account each month.
//! - A monthly benefit is paid from the month after the approval (审批之月的次月) unless the
//!   policy says otherwise, and a death or termination (停发) stops it from the next month
//!   (《社会救助暂行办法》art. 13: the county stops or changes the payment when the household
//!   changes). The application layer computes the months an entitlement covers
//!   ([`Months::after_approval`], [`Months::ending_after`]); [`plan`] pays exactly those.
//! - One-off payments (temporary assistance 临时救助 approved by the county, heating assistance
//!   取暖救助) are paid once, in the first cycle of a month they cover.
//! - A line the bank could not pay is issued again in a later cycle ([`LineKind::Reissue`],
//!   naming the original), once.
//! - Back pay (补发): when the amount now in force for a month an earlier cycle listed is more
//!   than everything listed for it — a standard decided after the month's list went out, with
//!   effect from before it (`crate::policy`) — the next cycle pays the difference
//!   ([`Period::BackPay`], [`BackPay`]). It is computed against what was *listed*, paid or not:
//!   a failed line is re-issued at its own amount, so counting it as owed again would pay it
//!   twice. An amount now lower than what was listed is not recovered here (追回 is a
//!   caseworker's decision, not a bank transfer).
//! - Nothing is paid twice: a case's month (or one-off) already issued and not failed is never
//!   planned again (proved by a property test below).
//!
//! Lines are ordered by case id (then by what they pay), so the same inputs always give the
//! same lines, numbered from 1. A line pays a positive amount: an entitlement of zero fen in
//! force for the month gives no line (a bank refuses a transfer of nothing).
//!
//! The payee's citizen id, name and bank account are PERSONAL DATA: [`BankAccount`] and
//! [`minzheng_types::CitizenId`] mask themselves in `Debug`/`Display`, and
//! [`minzheng_types::BoundedText`] shows only its length.

use std::{
    collections::{HashMap, HashSet},
    fmt,
    sync::Arc,
};

use minzheng_types::{BoundedText, CitizenId, Fen, RegionCode};
use time::Date;

use crate::{
    category::Category,
    ids::{CaseId, CycleId, StandardVersion, first_of_month, next_month},
};

/// The fewest digits of a bank account or card reference.
pub const ACCOUNT_MIN_DIGITS: usize = 8;
/// The most digits of a bank account or card reference.
pub const ACCOUNT_MAX_DIGITS: usize = 32;
/// The longest payee name a line carries, in characters (long enough for transliterated names
/// with middle dots, e.g. 买买提·艾力).
pub const PAYEE_NAME_MAX_CHARS: usize = 100;

/// A payee's bank account number or benefit card reference (惠民惠农一卡通): 8 to 32 digits.
/// PERSONAL DATA: `Debug` and `Display` show the last four digits only.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BankAccount(String);

/// Why a text is not a bank account reference. Never quotes the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("must have {ACCOUNT_MIN_DIGITS} to {ACCOUNT_MAX_DIGITS} digits, got {0} characters")]
    Length(usize),
    #[error("must be digits only")]
    NotDigits,
}

impl BankAccount {
    /// The account from its digits (surrounding whitespace is not trimmed: the edge trims).
    pub fn parse(input: &str) -> Result<Self, AccountError> {
        let length = input.chars().count();
        if !(ACCOUNT_MIN_DIGITS..=ACCOUNT_MAX_DIGITS).contains(&length) {
            return Err(AccountError::Length(length));
        }
        if !input.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AccountError::NotDigits);
        }
        Ok(Self(input.to_owned()))
    }

    /// The digits. The only way to read them: to store or send them, never to log them.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `****` and the last four digits.
    pub fn masked(&self) -> String {
        format!("****{}", &self.0[self.0.len() - 4..])
    }
}

impl fmt::Debug for BankAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BankAccount").field(&self.masked()).finish()
    }
}

impl fmt::Display for BankAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Who receives a payment. All three are PERSONAL DATA; the bank needs the name and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payee {
    pub citizen: CitizenId,
    pub name: BoundedText,
    pub account: BankAccount,
}

/// The decision a payment comes from: the case stream's version of the decision event and the
/// day it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DecisionRef {
    pub version: u64,
    pub decided_on: Date,
}

/// The months an entitlement covers: from `first` (the first day of the first month paid) up
/// to, not including, `end` (the first day of the first month no longer paid), if it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Months {
    pub first: Date,
    pub end: Option<Date>,
}

impl Months {
    /// From the month after `approved_on` on (审批之月的次月起发放), open-ended: the default
    /// rule; a policy that pays from the month of approval uses [`Months::from_month_of`].
    pub fn after_approval(approved_on: Date) -> Self {
        Self {
            first: next_month(approved_on),
            end: None,
        }
    }

    /// From the month containing `day` on, open-ended.
    pub fn from_month_of(day: Date) -> Self {
        Self {
            first: first_of_month(day),
            end: None,
        }
    }

    /// The same months, stopped by a death or termination on `day`: the month of `day` is
    /// still paid, the next one is not (次月起停发).
    pub fn ending_after(self, day: Date) -> Self {
        Self {
            end: Some(next_month(day)),
            ..self
        }
    }

    /// Whether the month starting on `month` (a first of month) is covered.
    pub fn covers(&self, month: Date) -> bool {
        self.first <= month && self.end.is_none_or(|end| month < end)
    }
}

/// How an entitlement pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Every month it covers (dibao, single-person coverage, extreme-poverty support).
    Monthly,
    /// Once, in the first cycle of a month it covers (temporary and heating assistance).
    OneOff,
}

/// What the application layer gives [`plan`] for a case that may be paid this month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entitlement {
    pub case: CaseId,
    /// What the payment is for: usually the case's category; heating assistance for a dibao
    /// household's case is [`Category::Heating`].
    pub category: Category,
    pub schedule: Schedule,
    /// The monthly amount in force for the planned month, or the one-off amount.
    pub amount: Fen,
    pub decision: DecisionRef,
    /// The standards the amount was computed with; `None` for a one-off set by the decision.
    pub standard: Option<StandardVersion>,
    /// Shared with the case's other lines and cycles.
    pub payee: Arc<Payee>,
    pub months: Months,
}

/// What a line pays for: a case's month, or a case's one-off (named by its decision's version
/// in the case stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    /// The month starting on this day.
    Month(Date),
    /// The one-off decided at this version of the case stream.
    OneOff { decision_version: u64 },
    /// Back pay (补发) for the month starting on `month`, first listed in the cycle of the month
    /// starting on `listed_in` (a county has one cycle a month, so a case's back pay for a
    /// month is listed at most once a cycle; a later restatement gives another key).
    BackPay { month: Date, listed_in: Date },
}

impl Period {
    /// The month a monthly payment or back pay is for; `None` for a one-off.
    pub fn month(&self) -> Option<Date> {
        match self {
            Period::Month(month) | Period::BackPay { month, .. } => Some(*month),
            Period::OneOff { .. } => None,
        }
    }
}

/// What is never paid twice: a case's month or one-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PaymentKey {
    pub case: CaseId,
    pub period: Period,
}

/// Whether a line is the first payment of its key or the re-issue of a failed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineKind {
    Regular,
    /// Re-issues line `line_no` of cycle `cycle`, which the bank could not pay.
    Reissue {
        cycle: CycleId,
        line_no: u32,
    },
}

/// One payment of a cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLine {
    /// From 1, in the cycle's order.
    pub line_no: u32,
    pub case: CaseId,
    pub category: Category,
    pub period: Period,
    /// Positive.
    pub amount: Fen,
    pub decision: DecisionRef,
    pub standard: Option<StandardVersion>,
    /// Shared (a cycle's lines are cloned into its events and states).
    pub payee: Arc<Payee>,
    pub kind: LineKind,
}

impl PaymentLine {
    /// What the line pays for.
    pub fn key(&self) -> PaymentKey {
        PaymentKey {
            case: self.case,
            period: self.period,
        }
    }
}

/// A line of an earlier cycle that the bank could not pay, to be issued again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedLine {
    pub cycle: CycleId,
    pub line: PaymentLine,
}

/// A number of lines and their sum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub count: u32,
    pub amount: Fen,
}

impl Totals {
    /// One more line of `amount`; `None` on overflow.
    pub fn with_line(self, amount: Fen) -> Option<Totals> {
        Some(Totals {
            count: self.count.checked_add(1)?,
            amount: self.amount.checked_add(amount)?,
        })
    }

    /// The count and sum of `amounts`; `None` on overflow.
    pub fn of(amounts: impl IntoIterator<Item = Fen>) -> Option<Totals> {
        amounts
            .into_iter()
            .try_fold(Totals::default(), |totals, amount| totals.with_line(amount))
    }
}

/// The longest reason a bank may give for a failed payment, in characters.
pub const RESULT_REASON_MAX_CHARS: usize = 200;

/// What the bank reports for one line of a cycle (its result file names the line's case and
/// amount too, so a result applied to the wrong cycle is caught).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineResult {
    pub line_no: u32,
    pub case: CaseId,
    pub amount: Fen,
    pub outcome: Outcome,
}

/// Whether the bank paid a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Paid,
    /// Not paid, with the bank's reason (e.g. "账户已销户"; no personal data expected, but it
    /// is the bank's text: not logged).
    Failed {
        reason: BoundedText,
    },
}

impl Outcome {
    /// Whether two outcomes are the same settlement: both paid, or both failed whatever the
    /// reason's wording.
    pub fn same_settlement(&self, other: &Outcome) -> bool {
        matches!(
            (self, other),
            (Outcome::Paid, Outcome::Paid) | (Outcome::Failed { .. }, Outcome::Failed { .. })
        )
    }
}

/// What [`plan_with_back_pay`] may owe a case for a month an earlier cycle listed: the
/// case's entitlement for that month (its amount is what is in force for it now, computed the
/// way a regular line's is) and the sum of the regular and back-pay lines earlier cycles listed
/// for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackPay {
    pub month: Date,
    pub entitlement: Entitlement,
    pub listed: Fen,
}

impl BackPay {
    /// The difference owed, when positive.
    pub fn owed(&self) -> Option<Fen> {
        let owed = self.entitlement.amount.checked_sub(self.listed)?;
        (owed > Fen::ZERO && self.entitlement.schedule == Schedule::Monthly).then_some(owed)
    }
}

/// The totals of `lines`; `None` on overflow.
pub fn totals<'a>(lines: impl IntoIterator<Item = &'a PaymentLine>) -> Option<Totals> {
    Totals::of(lines.into_iter().map(|l| l.amount))
}

/// The lines of `county`'s cycle for `month` (any day of it): one per entitlement of the
/// county that covers the month and whose key is not in `issued` (the keys of earlier cycles'
/// lines, paid or pending: every line not failed), then one per failed line of the county whose
/// key is neither issued nor already planned. A one-off's key is its decision, so it is paid
/// once whatever month it is planned in.
///
/// A re-issued line pays the original's amount for the original's period, to the payee the
/// case's entitlement names now when it is given (a failure is often a closed account, which
/// the household then corrects), else to the original payee.
pub fn plan(
    month: Date,
    county: RegionCode,
    entitlements: impl IntoIterator<Item = Entitlement>,
    issued: &HashSet<PaymentKey>,
    failed: impl IntoIterator<Item = FailedLine>,
) -> Vec<PaymentLine> {
    plan_with_back_pay(month, county, entitlements, [], issued, failed)
}

/// [`plan`], with a back-pay line for each of `back_pay` that owes a positive difference for
/// a month before `month` (keyed [`Period::BackPay`] with this month, so issued once).
pub fn plan_with_back_pay(
    month: Date,
    county: RegionCode,
    entitlements: impl IntoIterator<Item = Entitlement>,
    back_pay: impl IntoIterator<Item = BackPay>,
    issued: &HashSet<PaymentKey>,
    failed: impl IntoIterator<Item = FailedLine>,
) -> Vec<PaymentLine> {
    let month = first_of_month(month);
    let failed: Vec<FailedLine> = failed
        .into_iter()
        .filter(|f| f.line.case.county() == county)
        .collect();
    let reissued_cases: HashSet<CaseId> = failed.iter().map(|f| f.line.case).collect();
    let mut current_payees: HashMap<CaseId, Arc<Payee>> = HashMap::new();
    let entitlements = entitlements.into_iter();
    let mut lines: Vec<PaymentLine> = Vec::with_capacity(entitlements.size_hint().0);
    for entitlement in entitlements {
        if entitlement.case.county() != county {
            continue;
        }
        if reissued_cases.contains(&entitlement.case) {
            current_payees
                .entry(entitlement.case)
                .or_insert_with(|| entitlement.payee.clone());
        }
        if !entitlement.months.covers(month) || entitlement.amount <= Fen::ZERO {
            continue;
        }
        let line = regular_line(entitlement, month);
        if !issued.contains(&line.key()) {
            lines.push(line);
        }
    }
    for owed in back_pay {
        let owed_month = first_of_month(owed.month);
        let Some(amount) = owed.owed() else { continue };
        if owed.entitlement.case.county() != county || owed_month >= month {
            continue;
        }
        let line = PaymentLine {
            period: Period::BackPay {
                month: owed_month,
                listed_in: month,
            },
            amount,
            ..regular_line(owed.entitlement, owed_month)
        };
        if !issued.contains(&line.key()) {
            lines.push(line);
        }
    }
    for FailedLine { cycle, line } in failed {
        if issued.contains(&line.key()) {
            continue;
        }
        let payee = current_payees
            .get(&line.case)
            .cloned()
            .unwrap_or(line.payee);
        lines.push(PaymentLine {
            kind: LineKind::Reissue {
                cycle,
                line_no: line.line_no,
            },
            payee,
            ..line
        });
    }
    number(lines)
}

/// The line an entitlement in force gives for `month`, not numbered yet.
fn regular_line(entitlement: Entitlement, month: Date) -> PaymentLine {
    let period = match entitlement.schedule {
        Schedule::Monthly => Period::Month(month),
        Schedule::OneOff => Period::OneOff {
            decision_version: entitlement.decision.version,
        },
    };
    PaymentLine {
        line_no: 0,
        case: entitlement.case,
        category: entitlement.category,
        period,
        amount: entitlement.amount,
        decision: entitlement.decision,
        standard: entitlement.standard,
        payee: entitlement.payee,
        kind: LineKind::Regular,
    }
}

/// Orders the lines by case, then period, keeps the first of lines paying the same key (a
/// regular line before a re-issue: they were pushed in that order and the sort is stable), and
/// numbers them from 1.
fn number(mut lines: Vec<PaymentLine>) -> Vec<PaymentLine> {
    lines.sort_by_key(PaymentLine::key);
    lines.dedup_by_key(|line| line.key());
    for (index, line) in lines.iter_mut().enumerate() {
        line.line_no = u32::try_from(index + 1).expect("fewer than 4 billion lines");
    }
    lines
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    pub(crate) fn county() -> RegionCode {
        RegionCode::parse("210502000000").expect("valid")
    }

    pub(crate) fn case(ordinal: u32) -> CaseId {
        CaseId::new(county(), Category::Dibao, 2026, ordinal).expect("valid")
    }

    pub(crate) fn payee(n: u32) -> Payee {
        Payee {
            citizen: CitizenId::from_parts("210502", date!(1960 - 03 - 15), (n % 999) as u16 + 1)
                .expect("valid"),
            name: BoundedText::parse(&format!("张{n}"), PAYEE_NAME_MAX_CHARS).expect("valid"),
            account: BankAccount::parse(&format!("62220202{n:08}")).expect("valid"),
        }
    }

    pub(crate) fn standard() -> StandardVersion {
        StandardVersion {
            county: county(),
            number: 3,
        }
    }

    /// Case `ordinal`'s dibao of `amount` fen a month, approved on 2026-05-20: paid from June.
    pub(crate) fn monthly(ordinal: u32, amount: i64) -> Entitlement {
        let decided_on = date!(2026 - 05 - 20);
        Entitlement {
            case: case(ordinal),
            category: Category::Dibao,
            schedule: Schedule::Monthly,
            amount: Fen::new(amount),
            decision: DecisionRef {
                version: 4,
                decided_on,
            },
            standard: Some(standard()),
            payee: Arc::new(payee(ordinal)),
            months: Months::after_approval(decided_on),
        }
    }

    /// Case `ordinal`'s heating assistance of `amount` fen, decided at version 9 in October.
    pub(crate) fn heating(ordinal: u32, amount: i64) -> Entitlement {
        let decided_on = date!(2026 - 10 - 10);
        Entitlement {
            category: Category::Heating,
            schedule: Schedule::OneOff,
            amount: Fen::new(amount),
            decision: DecisionRef {
                version: 9,
                decided_on,
            },
            standard: None,
            months: Months::after_approval(decided_on),
            ..monthly(ordinal, amount)
        }
    }

    /// Case `ordinal`'s one-off of `amount` fen, payable from the month of `day`.
    pub(crate) fn one_off_from(ordinal: u32, amount: i64, day: Date) -> Entitlement {
        Entitlement {
            months: Months::from_month_of(day),
            ..heating(ordinal, amount)
        }
    }

    const JUNE: Date = date!(2026 - 06 - 01);
    const JULY: Date = date!(2026 - 07 - 01);

    fn none() -> HashSet<PaymentKey> {
        HashSet::new()
    }

    fn june_cycle() -> CycleId {
        CycleId::new(county(), JUNE).expect("county")
    }

    #[test]
    fn accounts_are_8_to_32_digits_and_print_masked() {
        let account = BankAccount::parse("6222020200112233445").expect("valid");
        assert_eq!(account.expose(), "6222020200112233445");
        assert_eq!(format!("{account}"), "****3445");
        assert_eq!(format!("{account:?}"), "BankAccount(\"****3445\")");
        assert_eq!(BankAccount::parse("1234567"), Err(AccountError::Length(7)));
        assert_eq!(
            BankAccount::parse(&"1".repeat(33)),
            Err(AccountError::Length(33))
        );
        assert!(BankAccount::parse(&"1".repeat(32)).is_ok());
        assert_eq!(
            BankAccount::parse("6222 0202 001"),
            Err(AccountError::NotDigits)
        );
        assert_eq!(
            BankAccount::parse("62220202001一"),
            Err(AccountError::NotDigits)
        );
        let error = BankAccount::parse("62220202x0112233").expect_err("a letter");
        assert!(!error.to_string().contains("6222"));
    }

    #[test]
    fn a_benefit_starts_the_month_after_approval_and_stops_the_month_after_it_ends() {
        let months = Months::after_approval(date!(2026 - 05 - 20));
        assert_eq!(months.first, JUNE);
        assert!(!months.covers(date!(2026 - 05 - 01)));
        assert!(months.covers(JUNE));
        // Died (or terminated) on 31 July: July is paid, August is not.
        let ended = months.ending_after(date!(2026 - 07 - 31));
        assert!(ended.covers(JULY));
        assert!(!ended.covers(date!(2026 - 08 - 01)));
        assert_eq!(
            Months::after_approval(date!(2026 - 12 - 01)).first,
            date!(2027 - 01 - 01)
        );
        assert_eq!(
            Months::from_month_of(date!(2026 - 05 - 20)).first,
            date!(2026 - 05 - 01)
        );
    }

    #[test]
    fn the_plan_pays_exactly_the_months_an_entitlement_covers() {
        let approved_in_may = monthly(1, 66_500);
        let died_in_june = Entitlement {
            months: Months::after_approval(date!(2026 - 04 - 02))
                .ending_after(date!(2026 - 06 - 15)),
            ..monthly(2, 45_000)
        };
        let paid_from_the_month_of_approval_by_policy = Entitlement {
            months: Months::from_month_of(date!(2026 - 07 - 03)),
            ..monthly(3, 30_000)
        };
        let all = || {
            vec![
                approved_in_may.clone(),
                died_in_june.clone(),
                paid_from_the_month_of_approval_by_policy.clone(),
            ]
        };
        let cases = |month| {
            plan(month, county(), all(), &none(), [])
                .iter()
                .map(|l| l.case.ordinal())
                .collect::<Vec<_>>()
        };
        assert_eq!(cases(date!(2026 - 05 - 01)), [2]);
        assert_eq!(cases(JUNE), [1, 2]);
        assert_eq!(cases(JULY), [1, 3]);
    }

    #[test]
    fn lines_name_the_case_amount_decision_standard_and_payee_in_case_order() {
        let lines = plan(
            date!(2026 - 06 - 18),
            county(),
            [monthly(7, 66_500), monthly(2, 45_000)],
            &none(),
            [],
        );
        assert_eq!(lines.len(), 2);
        let first = &lines[0];
        assert_eq!(first.line_no, 1);
        assert_eq!(first.case, case(2));
        assert_eq!(first.amount, Fen::new(45_000));
        assert_eq!(first.period, Period::Month(JUNE));
        assert_eq!(first.decision.version, 4);
        assert_eq!(first.standard, Some(standard()));
        assert_eq!(*first.payee, payee(2));
        assert_eq!(first.kind, LineKind::Regular);
        assert_eq!((lines[1].line_no, lines[1].case), (2, case(7)));
    }

    #[test]
    fn other_counties_and_zero_amounts_give_no_line() {
        let elsewhere = Entitlement {
            case: CaseId::new(
                RegionCode::parse("210503000000").expect("valid"),
                Category::Dibao,
                2026,
                1,
            )
            .expect("valid"),
            ..monthly(1, 66_500)
        };
        let lines = plan(JUNE, county(), [elsewhere, monthly(2, 0)], &none(), []);
        assert!(lines.is_empty());
    }

    #[test]
    fn a_month_already_issued_is_not_planned_again() {
        let issued = HashSet::from([PaymentKey {
            case: case(1),
            period: Period::Month(JUNE),
        }]);
        let lines = plan(
            JUNE,
            county(),
            [monthly(1, 66_500), monthly(2, 100)],
            &issued,
            [],
        );
        assert_eq!(lines.iter().map(|l| l.case).collect::<Vec<_>>(), [case(2)]);
    }

    #[test]
    fn a_one_off_is_paid_once_whatever_the_month() {
        let november = date!(2026 - 11 - 01);
        let first = plan(november, county(), [heating(1, 120_000)], &none(), []);
        assert_eq!(first.len(), 1);
        assert_eq!(
            first[0].period,
            Period::OneOff {
                decision_version: 9
            }
        );
        let issued: HashSet<_> = first.iter().map(PaymentLine::key).collect();
        let december = date!(2026 - 12 - 01);
        assert!(plan(december, county(), [heating(1, 120_000)], &issued, []).is_empty());
        // Not yet decided for October's cycle.
        assert!(
            plan(
                date!(2026 - 10 - 01),
                county(),
                [heating(1, 120_000)],
                &none(),
                []
            )
            .is_empty()
        );
    }

    // 补发: a standard decided in July with effect from June raised case 1's June amount from
    // 665.00 to 700.00 after June's list went out at 665.00: July's cycle pays July at 700.00
    // and the 35.00 June still owes, keyed by the month and the cycle that lists it.
    #[test]
    fn back_pay_lists_the_difference_a_month_still_owes_once() {
        let june_owed = |listed: i64| BackPay {
            month: JUNE,
            entitlement: monthly(1, 70_000),
            listed: Fen::new(listed),
        };
        let july = plan_with_back_pay(
            JULY,
            county(),
            [monthly(1, 70_000)],
            [june_owed(66_500)],
            &none(),
            [],
        );
        let periods: Vec<_> = july.iter().map(|l| (l.period, l.amount)).collect();
        assert_eq!(
            periods,
            [
                (Period::Month(JULY), Fen::new(70_000)),
                (
                    Period::BackPay {
                        month: JUNE,
                        listed_in: JULY
                    },
                    Fen::new(3_500)
                ),
            ]
        );
        assert_eq!(july[1].kind, LineKind::Regular);
        assert_eq!(july[1].standard, Some(standard()));
        // Once listed, June owes nothing more: what earlier cycles listed for it now covers it.
        let august = plan_with_back_pay(
            date!(2026 - 08 - 01),
            county(),
            [],
            [june_owed(70_000), june_owed(80_000)],
            &none(),
            [],
        );
        assert!(august.is_empty(), "{august:?}");
        // Not for this month or a later one, nor in another county, nor when already issued.
        let issued = HashSet::from([july[1].key()]);
        assert!(
            plan_with_back_pay(JULY, county(), [], [june_owed(66_500)], &issued, []).is_empty()
        );
        let mut this_month = june_owed(66_500);
        this_month.month = JULY;
        let mut elsewhere = june_owed(66_500);
        elsewhere.entitlement.case = CaseId::new(
            RegionCode::parse("210503000000").expect("valid"),
            Category::Dibao,
            2026,
            1,
        )
        .expect("valid");
        assert!(
            plan_with_back_pay(JULY, county(), [], [this_month, elsewhere], &none(), []).is_empty()
        );
    }

    #[test]
    fn a_failed_line_is_reissued_once_naming_the_original() {
        let june = plan(
            JUNE,
            county(),
            [monthly(1, 66_500), monthly(2, 45_000)],
            &none(),
            [],
        );
        let failed = FailedLine {
            cycle: june_cycle(),
            line: june[1].clone(),
        };
        // June's lines: line 1 paid, line 2 failed; so only line 1 counts as issued.
        let issued = HashSet::from([june[0].key()]);
        // The household gave a new account since.
        let mut moved = monthly(2, 45_000);
        Arc::make_mut(&mut moved.payee).account =
            BankAccount::parse("6217000011112222").expect("valid");
        let july = plan(
            JULY,
            county(),
            [monthly(1, 66_500), moved.clone()],
            &issued,
            [failed.clone(), failed.clone()],
        );
        let reissues: Vec<_> = july
            .iter()
            .filter(|l| matches!(l.kind, LineKind::Reissue { .. }))
            .collect();
        assert_eq!(reissues.len(), 1, "reissued once though given twice");
        let reissue = reissues[0];
        assert_eq!(
            reissue.kind,
            LineKind::Reissue {
                cycle: june_cycle(),
                line_no: 2
            }
        );
        assert_eq!(reissue.period, Period::Month(JUNE));
        assert_eq!(reissue.amount, Fen::new(45_000));
        assert_eq!(reissue.payee.account, moved.payee.account);
        // Case 2 gets July and June's re-issue; case 1 July only.
        assert_eq!(
            july.iter()
                .map(|l| (l.line_no, l.case.ordinal(), l.period))
                .collect::<Vec<_>>(),
            [
                (1, 1, Period::Month(JULY)),
                (2, 2, Period::Month(JUNE)),
                (3, 2, Period::Month(JULY)),
            ]
        );
        // Once the re-issue is issued, it is not planned again.
        let issued: HashSet<_> = issued
            .into_iter()
            .chain(july.iter().map(PaymentLine::key))
            .collect();
        let august = plan(date!(2026 - 08 - 01), county(), [], &issued, [failed]);
        assert!(august.is_empty());
    }

    #[test]
    fn totals_are_the_sum_of_the_entitlements_to_the_fen() {
        let entitlements = [monthly(1, 66_501), monthly(2, 45_099), monthly(3, 1)];
        let lines = plan(JUNE, county(), entitlements.clone(), &none(), []);
        assert_eq!(
            totals(&lines),
            Some(Totals {
                count: 3,
                amount: Fen::new(111_601)
            })
        );
        assert_eq!(Totals::of([Fen::new(i64::MAX), Fen::new(1)]), None);
    }

    fn arbitrary_entitlement() -> impl Strategy<Value = Entitlement> {
        (
            1u32..40,
            0i64..100_000,
            prop::bool::ANY,
            0u8..12,
            prop::option::of(0u8..12),
        )
            .prop_map(|(ordinal, amount, one_off, start, length)| {
                let start_month = next_month_n(date!(2026 - 01 - 01), start);
                let months = Months {
                    first: start_month,
                    end: length.map(|l| next_month_n(start_month, l)),
                };
                let base = if one_off {
                    heating(ordinal, amount)
                } else {
                    monthly(ordinal, amount)
                };
                Entitlement { months, ..base }
            })
    }

    fn next_month_n(from: Date, n: u8) -> Date {
        (0..n).fold(from, |m, _| next_month(m))
    }

    proptest! {
        /// Planning twelve months in a row, with any entitlements and any lines failing,
        /// never issues a key that is issued and not failed, and issues each key at most once
        /// per cycle.
        #[test]
        fn nothing_is_paid_twice(
            entitlements in prop::collection::vec(arbitrary_entitlement(), 0..30),
            failures in prop::collection::vec(prop::bool::weighted(0.2), 400),
        ) {
            let mut issued: HashSet<PaymentKey> = HashSet::new();
            let mut failed: Vec<FailedLine> = Vec::new();
            let mut failures = failures.into_iter().cycle();
            let mut month = date!(2026 - 01 - 01);
            for _ in 0..12 {
                let lines = plan(month, county(), entitlements.clone(), &issued, failed.clone());
                let keys: HashSet<_> = lines.iter().map(PaymentLine::key).collect();
                prop_assert_eq!(keys.len(), lines.len(), "a key twice in one cycle");
                for line in &lines {
                    prop_assert!(!issued.contains(&line.key()), "paid twice: {:?}", line.key());
                    prop_assert!(line.amount > Fen::ZERO);
                }
                let cycle = CycleId::new(county(), month).expect("county");
                failed.retain(|f| !keys.contains(&f.line.key()));
                for line in lines {
                    if failures.next().unwrap_or(false) {
                        failed.push(FailedLine { cycle, line });
                    } else {
                        issued.insert(line.key());
                    }
                }
                month = next_month(month);
            }
        }
    }
}
