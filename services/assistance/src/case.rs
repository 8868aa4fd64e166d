//! An assistance case (stream `case-<case_id>`): one application and everything that follows it,
//! from the window that received it to the case's end.
//!
//! The path of the household categories (dibao, single-person coverage, extreme poverty, low
//! income), 《最低生活保障审核确认办法》(民发〔2021〕57号) chapters 2–4:
//!
//! ```text
//! submitted ─► verification requested ─► verification received ─► township review (乡镇审核)
//!   ─► public notice, 7 days (公示; objections recorded and resolved) ─► county decision (审批确认)
//!   ─► approved: active from the next month ─► reviews (复核) / suspended / ended
//!   └► rejected, with its reason
//! ```
//!
//! Temporary assistance (临时救助) is decided where the hardship happened: the township pays at
//! once from its reserve fund up to its limit (先行救助) and reports afterwards, or transfers the
//! application to the county, which decides it without a notice. Heating assistance rests on the
//! household's case in force; the county decides it without verification or notice.
//!
//! The aggregate is pure: the application layer gives it today's date, the amounts computed by
//! [`crate::benefit`] from the standards in force, and the deadlines from the working-day
//! calendar.

use std::borrow::Cow;

use minzheng_kit::aggregate::{Aggregate, DomainError, RefusalKind};
use minzheng_types::{BoundedText, CitizenId, Fen, RegionCode, add_days};
use time::Date;

/// The first day of the month after `day`: when a monthly decision takes effect
/// (民发〔2021〕57号: 从作出确认同意决定之日下月起发放) and when a death or an end stops it.
pub use crate::ids::next_month;
use crate::{
    benefit::Calculation,
    category::{Area, Category},
    household::Household,
    ids::CaseId,
    payments::{BankAccount, Payee},
};

/// Days a public notice runs (公示期为7天, 民发〔2021〕57号 第二十条).
pub const NOTICE_DAYS: i64 = 7;

/// Where a person in extreme poverty is cared for (供养方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CareArrangement {
    AtHome,
    Institution,
}

/// The hardship behind a temporary-assistance application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hardship {
    Accident,
    Illness,
    Disaster,
    Spending,
    Other,
}

/// What an application says beyond the household, by category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Particulars {
    /// Dibao and low income need nothing more.
    None,
    /// Single-person coverage: the member covered alone.
    SinglePerson { covered: CitizenId },
    /// Extreme poverty: the care arrangement and whether an able supporter exists.
    Tekun {
        care: CareArrangement,
        has_able_supporter: bool,
        care_at_home_reason: Option<BoundedText>,
    },
    /// Temporary assistance: the hardship and the amount asked for.
    Temporary { hardship: Hardship, requested: Fen },
    /// Heating assistance: the winter (the year it starts) and the case in force.
    Heating { winter: i32, related_case: CaseId },
}

/// An application as received at a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub case_id: CaseId,
    pub category: Category,
    /// The county deciding the case.
    pub county: RegionCode,
    /// The registered township as filed (possibly an old code).
    pub registered_division: RegionCode,
    /// Its current successor.
    pub resolved_division: RegionCode,
    /// The township window that received it.
    pub window: RegionCode,
    pub area: Area,
    pub household: Household,
    pub payment_account: BankAccount,
    pub submitted_on: Date,
    pub particulars: Particulars,
}

impl Application {
    /// The members the assistance covers once granted.
    ///
    /// Single-person coverage covers the member named; extreme-poverty support the applicant, a
    /// person (《特困人员认定办法》: 特困人员 are individuals, each supported as such); the other
    /// categories the whole household.
    pub fn covered_members(&self) -> Vec<CitizenId> {
        match &self.particulars {
            Particulars::SinglePerson { covered } => vec![covered.clone()],
            Particulars::Tekun { .. } => vec![self.household.applicant.clone()],
            _ => self.household.citizens(),
        }
    }

    /// The application and its verification without `removed` (members who died or left):
    /// their entries in the household and their verified incomes dropped, the verified total
    /// less those incomes (never below zero).
    pub fn without_members(
        &self,
        verification: &Verification,
        removed: &[CitizenId],
    ) -> (Application, Verification) {
        let mut application = self.clone();
        application
            .household
            .members
            .retain(|m| !removed.contains(&m.citizen));
        application
            .household
            .incomes
            .retain(|i| !removed.contains(&i.member));
        let mut verification = verification.clone();
        let removed_income = verification
            .incomes
            .iter()
            .filter(|(m, _)| removed.contains(m))
            .fold(Fen::ZERO, |sum, (_, f)| sum.checked_add(*f).unwrap_or(sum));
        verification.incomes.retain(|(m, _)| !removed.contains(m));
        verification.total_monthly_income =
            Fen::new((verification.total_monthly_income.fen() - removed_income.fen()).max(0));
        (application, verification)
    }
}

/// Why a verification is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    Application,
    Review,
}

/// A verification result as the case keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// The request's ordinal in the case.
    pub request: u32,
    /// PERSONAL DATA.
    pub total_monthly_income: Fen,
    /// PERSONAL DATA. Each member's verified monthly income.
    pub incomes: Vec<(CitizenId, Fen)>,
    /// PERSONAL DATA.
    pub total_assets: Fen,
    /// Codes the data-sharing service flagged.
    pub flags: Vec<String>,
    pub verified_on: Date,
}

/// Why a case is reviewed before its time, or at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewCause {
    Marriage,
    Divorce,
    DivisionSplit,
    Alert,
    Periodic,
    /// A household member the case does not cover died.
    MemberDied,
}

/// What a review concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewOutcome {
    Continued,
    Changed,
    Ended,
}

/// What made a benefit change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecalculationCause {
    StandardChanged,
    MembersChanged,
    Review,
}

/// Why a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndCause {
    NoLongerEligible,
    NoMemberLeft,
    Terminated,
    OneOffPaid,
}

/// The events of a case. Each carries the case id (the codec writes it into every message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Submitted(Box<Application>),
    VerificationRequested(VerificationRequested),
    VerificationReceived(VerificationReceived),
    TownshipReviewed(TownshipReviewed),
    NoticePosted(NoticePosted),
    ObjectionRecorded(ObjectionRecorded),
    ObjectionResolved(ObjectionResolved),
    Approved(Approved),
    /// Published for the other services (`AssistanceGranted`).
    Granted(Granted),
    Rejected(Rejected),
    Recalculated(Recalculated),
    MembersChanged(MembersChanged),
    FlaggedForReview(FlaggedForReview),
    ReviewStarted(ReviewStarted),
    ReviewCompleted(ReviewCompleted),
    Suspended(Suspended),
    Resumed(Resumed),
    Ended(Ended),
    Rehomed(Rehomed),
    PaidAtOnce(PaidAtOnce),
    Reported(Reported),
    Transferred(Transferred),
}

/// See [`Event::VerificationRequested`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRequested {
    pub case_id: CaseId,
    pub request: u32,
    pub purpose: Purpose,
    pub members: Vec<CitizenId>,
    pub authorizations: Vec<crate::household::Authorization>,
    pub requested_on: Date,
    pub county: RegionCode,
    /// The household's area, for the standard the verification measures against (`None` in
    /// requests recorded before it was carried).
    pub area: Option<Area>,
}

/// See [`Event::VerificationReceived`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationReceived {
    pub case_id: CaseId,
    pub verification: Verification,
    pub received_on: Date,
}

/// See [`Event::TownshipReviewed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TownshipReviewed {
    pub case_id: CaseId,
    pub recommends_approval: bool,
    pub opinion: BoundedText,
    pub visited_on: Date,
    pub reviewed_on: Date,
}

/// See [`Event::NoticePosted`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticePosted {
    pub case_id: CaseId,
    pub posted_on: Date,
    pub ends_on: Date,
}

/// See [`Event::ObjectionRecorded`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectionRecorded {
    pub case_id: CaseId,
    pub objection: u32,
    pub summary: BoundedText,
    pub recorded_on: Date,
}

/// See [`Event::ObjectionResolved`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectionResolved {
    pub case_id: CaseId,
    pub objection: u32,
    pub upheld: bool,
    pub finding: BoundedText,
    pub resolved_on: Date,
}

/// See [`Event::Approved`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    pub case_id: CaseId,
    pub decided_on: Date,
    pub calculation: Calculation,
    pub starts_on: Date,
}

/// See [`Event::Granted`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub case_id: CaseId,
    pub category: Category,
    pub county: RegionCode,
    pub members: Vec<CitizenId>,
    pub effective_from: Date,
}

/// See [`Event::Rejected`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub case_id: CaseId,
    pub decided_on: Date,
    pub rule: String,
    pub reason: BoundedText,
    pub calculation: Option<Calculation>,
}

/// See [`Event::Recalculated`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recalculated {
    pub case_id: CaseId,
    pub effective_on: Date,
    pub previous_amount: Fen,
    pub calculation: Calculation,
    pub cause: RecalculationCause,
}

/// See [`Event::MembersChanged`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembersChanged {
    pub case_id: CaseId,
    pub members: Vec<CitizenId>,
    pub effective_on: Date,
}

/// See [`Event::FlaggedForReview`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlaggedForReview {
    pub case_id: CaseId,
    pub cause: ReviewCause,
    pub record_id: Option<String>,
    pub flagged_on: Date,
}

/// See [`Event::ReviewStarted`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewStarted {
    pub case_id: CaseId,
    pub review: u32,
    pub cause: ReviewCause,
    pub started_on: Date,
}

/// See [`Event::ReviewCompleted`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewCompleted {
    pub case_id: CaseId,
    pub review: u32,
    pub outcome: ReviewOutcome,
    pub completed_on: Date,
}

/// See [`Event::Suspended`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspended {
    pub case_id: CaseId,
    pub effective_on: Date,
    pub reason: BoundedText,
}

/// See [`Event::Resumed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumed {
    pub case_id: CaseId,
    pub effective_on: Date,
}

/// See [`Event::Ended`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub case_id: CaseId,
    pub effective_on: Date,
    pub reason: String,
    pub cause: EndCause,
}

/// See [`Event::Rehomed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rehomed {
    pub case_id: CaseId,
    pub previous_division: RegionCode,
    pub division: RegionCode,
    pub county: RegionCode,
    pub adjustment_id: String,
    pub effective_on: Date,
}

/// See [`Event::PaidAtOnce`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidAtOnce {
    pub case_id: CaseId,
    pub township: RegionCode,
    pub calculation: Calculation,
    pub paid_on: Date,
    pub report_due_on: Date,
}

/// See [`Event::Reported`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub case_id: CaseId,
    pub reported_on: Date,
}

/// See [`Event::Transferred`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transferred {
    pub case_id: CaseId,
    pub transferred_on: Date,
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Stage {
    /// Nothing recorded.
    #[default]
    New,
    /// Submitted; the verification's result is awaited.
    AwaitingVerification,
    /// Verified; the township's review is awaited.
    AwaitingTownshipReview,
    /// Reviewed by the township; the notice is to be posted.
    AwaitingNotice,
    /// In public notice, or past it and awaiting the county's decision.
    InNotice,
    /// A temporary or heating application awaiting the county's decision.
    AwaitingDecision,
    /// Temporary assistance paid at once; the report is awaited.
    AwaitingReport,
    /// Monthly assistance in force (or low income recognised).
    Active,
    /// Payments suspended.
    Suspended,
    /// A one-off payment approved (temporary after transfer, heating); paid by a payment cycle.
    ApprovedOnce,
    Rejected,
    Ended,
}

/// One objection to the notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objection {
    pub summary: BoundedText,
    pub recorded_on: Date,
    /// `(upheld, resolved_on)` once resolved.
    pub resolution: Option<(bool, Date)>,
}

/// A monthly amount in force from a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmountFrom {
    pub from: Date,
    pub amount: Fen,
    pub calculation: Calculation,
}

/// The state of one case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Case {
    pub application: Option<Box<Application>>,
    pub stage: Stage,
    pub county: Option<RegionCode>,
    pub division: Option<RegionCode>,
    /// Verification requests made, and the one awaiting its result.
    pub requests: u32,
    pub open_request: Option<(u32, Purpose)>,
    pub verification: Option<Verification>,
    pub verification_received_on: Option<Date>,
    pub township_reviewed_on: Option<Date>,
    pub township_recommends: Option<bool>,
    pub notice: Option<(Date, Date)>,
    pub objections: Vec<Objection>,
    pub decided_on: Option<Date>,
    /// Monthly categories: the amounts in force, in order of effect.
    pub amounts: Vec<AmountFrom>,
    /// One-off categories: the amount approved or paid at once.
    pub one_off: Option<Calculation>,
    pub members: Vec<CitizenId>,
    pub reviews: u32,
    pub open_review: Option<u32>,
    pub last_review_on: Option<Date>,
    pub flags: Vec<(ReviewCause, Date)>,
    /// Suspended periods `[from, to)`; the last may be open.
    pub suspensions: Vec<(Date, Option<Date>)>,
    pub ends_on: Option<Date>,
    pub report_due_on: Option<Date>,
    pub reported_on: Option<Date>,
    pub transferred_on: Option<Date>,
    pub rejection: Option<(String, BoundedText)>,
}

/// The commands a case takes.
#[derive(Debug, Clone)]
pub enum Command {
    Submit(Box<Application>),
    ReceiveVerification {
        request: u32,
        verification: Verification,
        on: Date,
    },
    ReviewAtTownship {
        recommends_approval: bool,
        opinion: BoundedText,
        visited_on: Date,
        on: Date,
    },
    PostNotice {
        on: Date,
    },
    RecordObjection {
        summary: BoundedText,
        on: Date,
    },
    ResolveObjection {
        objection: u32,
        upheld: bool,
        finding: BoundedText,
        on: Date,
    },
    Approve {
        calculation: Calculation,
        on: Date,
    },
    Reject {
        rule: String,
        reason: BoundedText,
        calculation: Option<Calculation>,
        on: Date,
    },
    PayAtOnce {
        township: RegionCode,
        calculation: Calculation,
        report_due_on: Date,
        on: Date,
    },
    Report {
        on: Date,
    },
    Transfer {
        on: Date,
    },
    /// Restates the monthly amounts from the first segment's day on, each segment's calculation
    /// from its day (a standard that took effect before the case's last change, or before
    /// months already listed for payment): one `Recalculated` per segment, in order; the
    /// amounts before the first day are kept. Also on an ended case, for the months it was in
    /// force. Nothing is recorded when the amounts would stay as they are.
    Restate {
        segments: Vec<(Date, Calculation)>,
    },
    /// A member died (or left) on `on`: the case covers the others from the next month, or
    /// ends then when nobody is left. `calculation` is the amount for the remaining members.
    RemoveMember {
        member: CitizenId,
        on: Date,
        calculation: Option<Calculation>,
    },
    Flag {
        cause: ReviewCause,
        record_id: Option<String>,
        on: Date,
    },
    StartReview {
        cause: ReviewCause,
        on: Date,
    },
    /// Completes the open review on its verification's result: `calculation` is the amount
    /// from it, or `None` when the household is no longer eligible (`reason` says why).
    CompleteReview {
        calculation: Option<Calculation>,
        reason: String,
        on: Date,
    },
    Suspend {
        reason: BoundedText,
        on: Date,
    },
    Resume {
        on: Date,
    },
    Terminate {
        reason: String,
        on: Date,
    },
    Rehome {
        division: RegionCode,
        adjustment_id: String,
        effective_on: Date,
    },
}

/// A rule that refuses a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("no case with this id")]
    NotFound,
    #[error("the case already exists")]
    AlreadySubmitted,
    #[error("the case is {0:?}; this step is not open now")]
    WrongStage(Stage),
    #[error("a restatement's amounts must start on or after the first, in increasing order")]
    RestatementOutOfOrder,
    #[error("the household's economic status has not been verified yet")]
    NotVerified,
    #[error("verification request {0} is not the one the case awaits")]
    UnknownRequest(u32),
    #[error("the township has not reviewed the application")]
    NotReviewed,
    #[error("the public notice has not been posted")]
    NoNotice,
    #[error("the public notice runs until {0}; decide from that day")]
    NoticeRunning(Date),
    #[error("objection {0} is not resolved")]
    ObjectionOpen(u32),
    #[error("objection {0} was upheld; the application cannot be approved")]
    ObjectionUpheld(u32),
    #[error("no objection {0} on this case")]
    NoSuchObjection(u32),
    #[error("objection {0} is already resolved")]
    ObjectionResolved(u32),
    #[error("the notice is over; objections are recorded while it runs")]
    NoticeOver,
    #[error("a monthly benefit must be more than zero; reject the application instead")]
    NothingToPay,
    #[error("only temporary assistance is paid at once")]
    NotTemporary,
    #[error("the day is before the case's last step")]
    BeforeLastStep,
    #[error("the member is not covered by the case")]
    NotAMember,
    #[error("a review is already open")]
    ReviewOpen,
    #[error("no review is open")]
    NoReviewOpen,
    #[error("the review's verification result has not arrived")]
    ReviewNotVerified,
    #[error("the case is not suspended")]
    NotSuspended,
    #[error("the case is already in that division")]
    SameDivision,
    #[error(
        "the township recommends rejection: only applications proposed for approval are posted"
    )]
    NotRecommended,
    #[error(
        "the county decides temporary assistance transferred to it; pay at once or transfer it"
    )]
    NotTransferred,
}

impl DomainError for CaseError {
    fn rule(&self) -> &str {
        match self {
            CaseError::NotFound => "case_not_found",
            CaseError::AlreadySubmitted => "case_exists",
            CaseError::WrongStage(_) => "wrong_stage",
            CaseError::RestatementOutOfOrder => "restatement_out_of_order",
            CaseError::NotVerified => "not_verified",
            CaseError::UnknownRequest(_) => "unknown_verification_request",
            CaseError::NotReviewed => "township_review_missing",
            CaseError::NoNotice => "notice_missing",
            CaseError::NoticeRunning(_) => "notice_running",
            CaseError::ObjectionOpen(_) => "objection_open",
            CaseError::ObjectionUpheld(_) => "objection_upheld",
            CaseError::NoSuchObjection(_) => "objection_not_found",
            CaseError::ObjectionResolved(_) => "objection_resolved",
            CaseError::NoticeOver => "notice_over",
            CaseError::NothingToPay => "nothing_to_pay",
            CaseError::NotTemporary => "not_temporary",
            CaseError::BeforeLastStep => "before_last_step",
            CaseError::NotAMember => "not_a_member",
            CaseError::ReviewOpen => "review_open",
            CaseError::NoReviewOpen => "no_review_open",
            CaseError::ReviewNotVerified => "review_not_verified",
            CaseError::NotSuspended => "not_suspended",
            CaseError::SameDivision => "same_division",
            CaseError::NotRecommended => "not_recommended",
            CaseError::NotTransferred => "not_transferred",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            CaseError::NotFound => RefusalKind::NotFound,
            _ => RefusalKind::FailedPrecondition,
        }
    }
}

impl Case {
    fn id(&self) -> Result<CaseId, CaseError> {
        self.application
            .as_ref()
            .map(|a| a.case_id)
            .ok_or(CaseError::NotFound)
    }

    fn category(&self) -> Option<Category> {
        self.application.as_ref().map(|a| a.category)
    }

    /// The monthly amount in force on `day` (zero when suspended, ended or not yet started).
    pub fn amount_on(&self, day: Date) -> Fen {
        if self.ends_on.is_some_and(|end| day >= end) || self.suspended_on(day) {
            return Fen::ZERO;
        }
        self.amounts
            .iter()
            .rev()
            .find(|a| a.from <= day)
            .map_or(Fen::ZERO, |a| a.amount)
    }

    /// The household as it is now, for a new calculation: the application and the latest
    /// verification without the covered members who died or left since (those no longer in
    /// `members`). `None` before a verification. Borrowed when nobody left.
    pub fn current_household(&self) -> Option<(Cow<'_, Application>, Cow<'_, Verification>)> {
        let application = self.application.as_deref()?;
        let verification = self.verification.as_ref()?;
        // Before the grant nobody is covered yet, and nobody has left.
        let removed: Vec<CitizenId> = if self.members.is_empty() {
            Vec::new()
        } else {
            application
                .covered_members()
                .into_iter()
                .filter(|m| !self.members.contains(m))
                .collect()
        };
        if removed.is_empty() {
            return Some((Cow::Borrowed(application), Cow::Borrowed(verification)));
        }
        let (application, verification) = application.without_members(verification, &removed);
        Some((Cow::Owned(application), Cow::Owned(verification)))
    }

    /// Whether [`Command::Restate`] with `segments` (ordered, from the first segment's day)
    /// would change the case's calculations on any day it is in force (a segment repeating the
    /// calculation already in force before it changes nothing; nothing counts from its end on).
    pub fn restatement_changes(&self, segments: &[(Date, Calculation)]) -> bool {
        let Some((start, _)) = segments.first() else {
            return false;
        };
        let in_force = |day: &Date| self.ends_on.is_none_or(|end| *day < end);
        let now = self
            .amounts
            .iter()
            .map(|a| (a.from, &a.calculation))
            .filter(|(day, _)| in_force(day));
        let restated = self
            .amounts
            .iter()
            .filter(|a| a.from < *start)
            .map(|a| (a.from, &a.calculation))
            .chain(segments.iter().map(|(day, c)| (*day, c)))
            .filter(|(day, _)| in_force(day));
        !merged(now).eq(merged(restated))
    }

    /// The calculation behind the amount in force on `day`.
    pub fn calculation_on(&self, day: Date) -> Option<&AmountFrom> {
        self.amounts.iter().rev().find(|a| a.from <= day)
    }

    /// Whether payments are suspended on `day`.
    pub fn suspended_on(&self, day: Date) -> bool {
        self.suspensions
            .iter()
            .any(|(from, to)| *from <= day && to.is_none_or(|to| day < to))
    }

    /// Who the case's payments go to: the applicant, at the account the application gave;
    /// `None` before an application (or with an applicant missing from the household).
    pub fn payee(&self) -> Option<Payee> {
        let application = self.application.as_deref()?;
        let household = &application.household;
        let applicant = household.member(&household.applicant)?;
        Some(Payee {
            citizen: household.applicant.clone(),
            name: applicant.name.clone(),
            account: application.payment_account.clone(),
        })
    }

    /// The last amount decided (whatever the day).
    pub fn current_amount(&self) -> Fen {
        self.amounts.last().map_or(Fen::ZERO, |a| a.amount)
    }

    /// Whether the case is in force: benefits (or recognition) run.
    pub fn in_force(&self) -> bool {
        matches!(self.stage, Stage::Active | Stage::Suspended)
    }

    /// The last day a step was taken, which a new step may not precede.
    fn last_step_on(&self) -> Option<Date> {
        [
            self.application.as_ref().map(|a| a.submitted_on),
            self.verification_received_on,
            self.township_reviewed_on,
            self.notice.map(|(posted, _)| posted),
            self.decided_on,
        ]
        .into_iter()
        .flatten()
        .max()
    }

    fn not_before_last_step(&self, on: Date) -> Result<(), CaseError> {
        match self.last_step_on() {
            Some(last) if on < last => Err(CaseError::BeforeLastStep),
            _ => Ok(()),
        }
    }

    fn expect_stage(&self, stages: &[Stage]) -> Result<CaseId, CaseError> {
        let id = self.id()?;
        if stages.contains(&self.stage) {
            Ok(id)
        } else {
            Err(CaseError::WrongStage(self.stage))
        }
    }

    fn submit(&self, application: &Application) -> Result<Vec<Event>, CaseError> {
        if self.application.is_some() {
            return Err(CaseError::AlreadySubmitted);
        }
        let mut events = vec![Event::Submitted(Box::new(application.clone()))];
        if application.category.needs_verification() {
            events.push(Event::VerificationRequested(VerificationRequested {
                case_id: application.case_id,
                request: 1,
                purpose: Purpose::Application,
                members: application.household.citizens(),
                authorizations: application.household.authorizations.clone(),
                requested_on: application.submitted_on,
                county: application.county,
                area: Some(application.area),
            }));
        }
        Ok(events)
    }

    fn receive_verification(
        &self,
        request: u32,
        verification: &Verification,
        on: Date,
    ) -> Result<Vec<Event>, CaseError> {
        let id = self.id()?;
        match self.open_request {
            Some((open, _)) if open == request => {}
            _ if self
                .verification
                .as_ref()
                .is_some_and(|v| v.request == request) =>
            {
                // The same result again: already recorded.
                return Ok(vec![]);
            }
            _ => return Err(CaseError::UnknownRequest(request)),
        }
        Ok(vec![Event::VerificationReceived(VerificationReceived {
            case_id: id,
            verification: verification.clone(),
            received_on: on,
        })])
    }

    fn approve(&self, calculation: &Calculation, on: Date) -> Result<Vec<Event>, CaseError> {
        let application = self.application.as_ref().ok_or(CaseError::NotFound)?;
        let category = application.category;
        let id = match category {
            Category::Temporary | Category::Heating => {
                let id = self.expect_stage(&[Stage::AwaitingDecision])?;
                if category == Category::Temporary && self.transferred_on.is_none() {
                    return Err(CaseError::NotTransferred);
                }
                id
            }
            _ => {
                let id = self.expect_stage(&[Stage::InNotice])?;
                let (_, ends_on) = self.notice.ok_or(CaseError::NoNotice)?;
                if on < ends_on {
                    return Err(CaseError::NoticeRunning(ends_on));
                }
                // Objections to this notice: an upheld one sent the case back to the township
                // (re-investigated and posted again), so earlier notices' objections are done.
                let posted_on = self.notice.map_or(ends_on, |(posted, _)| posted);
                for (number, objection) in (1..)
                    .zip(&self.objections)
                    .filter(|(_, o)| o.recorded_on >= posted_on)
                {
                    match objection.resolution {
                        None => return Err(CaseError::ObjectionOpen(number)),
                        Some((true, _)) => return Err(CaseError::ObjectionUpheld(number)),
                        Some((false, _)) => {}
                    }
                }
                id
            }
        };
        self.not_before_last_step(on)?;
        let pays = category != Category::LowIncome;
        if pays && calculation.monthly_amount <= Fen::ZERO {
            return Err(CaseError::NothingToPay);
        }
        let starts_on = if category.is_monthly() || category == Category::LowIncome {
            next_month(on)
        } else {
            on
        };
        let mut events = vec![Event::Approved(Approved {
            case_id: id,
            decided_on: on,
            calculation: calculation.clone(),
            starts_on,
        })];
        if category != Category::Heating {
            events.push(Event::Granted(Granted {
                case_id: id,
                category,
                county: self.county.unwrap_or(application.county),
                members: application.covered_members(),
                effective_from: starts_on,
            }));
        }
        if category == Category::Temporary {
            events.push(one_off_ended(id, on));
        }
        Ok(events)
    }

    fn pay_at_once(
        &self,
        township: RegionCode,
        calculation: &Calculation,
        report_due_on: Date,
        on: Date,
    ) -> Result<Vec<Event>, CaseError> {
        let application = self.application.as_ref().ok_or(CaseError::NotFound)?;
        if application.category != Category::Temporary {
            return Err(CaseError::NotTemporary);
        }
        let id = self.expect_stage(&[Stage::AwaitingDecision])?;
        if self.transferred_on.is_some() {
            return Err(CaseError::WrongStage(self.stage));
        }
        self.not_before_last_step(on)?;
        if calculation.monthly_amount <= Fen::ZERO {
            return Err(CaseError::NothingToPay);
        }
        Ok(vec![
            Event::PaidAtOnce(PaidAtOnce {
                case_id: id,
                township,
                calculation: calculation.clone(),
                paid_on: on,
                report_due_on,
            }),
            Event::Granted(Granted {
                case_id: id,
                category: Category::Temporary,
                county: self.county.unwrap_or(application.county),
                members: application.covered_members(),
                effective_from: on,
            }),
            one_off_ended(id, on),
        ])
    }

    fn remove_member(
        &self,
        member: &CitizenId,
        on: Date,
        calculation: Option<&Calculation>,
    ) -> Result<Vec<Event>, CaseError> {
        let id = self.expect_stage(&[Stage::Active, Stage::Suspended])?;
        if !self.members.contains(member) {
            return Err(CaseError::NotAMember);
        }
        let effective_on = next_month(on);
        let remaining: Vec<CitizenId> = self
            .members
            .iter()
            .filter(|m| *m != member)
            .cloned()
            .collect();
        if remaining.is_empty() {
            return Ok(vec![Event::Ended(Ended {
                case_id: id,
                effective_on,
                reason: "无在世的保障对象".to_owned(),
                cause: EndCause::NoMemberLeft,
            })]);
        }
        let mut events = vec![Event::MembersChanged(MembersChanged {
            case_id: id,
            members: remaining,
            effective_on,
        })];
        match calculation {
            Some(c) if c.monthly_amount <= Fen::ZERO && self.pays_monthly() => {
                events.push(Event::Ended(Ended {
                    case_id: id,
                    effective_on,
                    reason: "家庭人均收入不低于保障标准".to_owned(),
                    cause: EndCause::NoLongerEligible,
                }))
            }
            Some(c) => {
                events.push(Event::Recalculated(Recalculated {
                    case_id: id,
                    effective_on,
                    previous_amount: self.amount_on(effective_on),
                    calculation: c.clone(),
                    cause: RecalculationCause::MembersChanged,
                }));
            }
            None => {}
        }
        Ok(events)
    }

    fn restate(&self, segments: &[(Date, Calculation)]) -> Result<Vec<Event>, CaseError> {
        let id = self.id()?;
        let (Some(first_amount), Some((start, _))) = (self.amounts.first(), segments.first())
        else {
            return Err(CaseError::WrongStage(self.stage));
        };
        let in_force_then = match self.stage {
            Stage::Active | Stage::Suspended => true,
            Stage::Ended => self.ends_on.is_some_and(|end| *start < end),
            _ => false,
        };
        if !in_force_then {
            return Err(CaseError::WrongStage(self.stage));
        }
        if *start < first_amount.from || segments.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(CaseError::RestatementOutOfOrder);
        }
        if !self.restatement_changes(segments) {
            return Ok(Vec::new());
        }
        Ok(segments
            .iter()
            .map(|(day, calculation)| {
                Event::Recalculated(Recalculated {
                    case_id: id,
                    effective_on: *day,
                    previous_amount: self.calculation_on(*day).map_or(Fen::ZERO, |a| a.amount),
                    calculation: calculation.clone(),
                    cause: RecalculationCause::StandardChanged,
                })
            })
            .collect())
    }

    fn pays_monthly(&self) -> bool {
        self.category().is_some_and(Category::is_monthly)
    }

    fn complete_review(
        &self,
        calculation: Option<&Calculation>,
        reason: &str,
        on: Date,
    ) -> Result<Vec<Event>, CaseError> {
        let id = self.expect_stage(&[Stage::Active, Stage::Suspended])?;
        let review = self.open_review.ok_or(CaseError::NoReviewOpen)?;
        if self.open_request.is_some() {
            return Err(CaseError::ReviewNotVerified);
        }
        let effective_on = next_month(on);
        let ended = |events: &mut Vec<Event>| {
            events.push(Event::Ended(Ended {
                case_id: id,
                effective_on,
                reason: reason.to_owned(),
                cause: EndCause::NoLongerEligible,
            }))
        };
        let mut events = Vec::new();
        let outcome = match calculation {
            None => {
                ended(&mut events);
                ReviewOutcome::Ended
            }
            Some(c) if self.pays_monthly() && c.monthly_amount <= Fen::ZERO => {
                ended(&mut events);
                ReviewOutcome::Ended
            }
            Some(c) if c.monthly_amount != self.current_amount() => {
                events.push(Event::Recalculated(Recalculated {
                    case_id: id,
                    effective_on,
                    previous_amount: self.amount_on(effective_on),
                    calculation: c.clone(),
                    cause: RecalculationCause::Review,
                }));
                ReviewOutcome::Changed
            }
            Some(_) => ReviewOutcome::Continued,
        };
        events.insert(
            0,
            Event::ReviewCompleted(ReviewCompleted {
                case_id: id,
                review,
                outcome,
                completed_on: on,
            }),
        );
        Ok(events)
    }
}

fn one_off_ended(case_id: CaseId, on: Date) -> Event {
    Event::Ended(Ended {
        case_id,
        effective_on: add_days(on, 1).expect("dates stay within range"),
        reason: "临时救助一次性发放".to_owned(),
        cause: EndCause::OneOffPaid,
    })
}

/// A timeline of calculations from their days, with each one equal to the one before it
/// dropped (it changes nothing).
fn merged<'a>(
    timeline: impl Iterator<Item = (Date, &'a Calculation)>,
) -> impl Iterator<Item = (Date, &'a Calculation)> {
    let mut previous: Option<&Calculation> = None;
    timeline.filter(move |(_, c)| {
        let repeats = previous == Some(*c);
        previous = Some(*c);
        !repeats
    })
}

impl Aggregate for Case {
    const CATEGORY: &'static str = "case";
    type Command = Command;
    type Event = Event;
    type Error = CaseError;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, CaseError> {
        match command {
            Command::Submit(application) => self.submit(application),
            Command::ReceiveVerification {
                request,
                verification,
                on,
            } => self.receive_verification(*request, verification, *on),
            Command::ReviewAtTownship {
                recommends_approval,
                opinion,
                visited_on,
                on,
            } => {
                let id = self.expect_stage(&[Stage::AwaitingTownshipReview])?;
                self.not_before_last_step(*on)?;
                Ok(vec![Event::TownshipReviewed(TownshipReviewed {
                    case_id: id,
                    recommends_approval: *recommends_approval,
                    opinion: opinion.clone(),
                    visited_on: *visited_on,
                    reviewed_on: *on,
                })])
            }
            Command::PostNotice { on } => {
                let id = self.expect_stage(&[Stage::AwaitingNotice])?;
                self.not_before_last_step(*on)?;
                // The township posts its review (民发〔2021〕57号 第二十条: 提出初审意见，并……进行
                // 公示); as local rules have it, only an application it proposes to approve
                // (拟确认) is posted, one it proposes to refuse goes to the county to reject.
                if self.township_recommends != Some(true) {
                    return Err(CaseError::NotRecommended);
                }
                Ok(vec![Event::NoticePosted(NoticePosted {
                    case_id: id,
                    posted_on: *on,
                    ends_on: add_days(*on, NOTICE_DAYS).expect("dates stay within range"),
                })])
            }
            Command::RecordObjection { summary, on } => {
                let id = self.expect_stage(&[Stage::InNotice])?;
                let (posted_on, ends_on) = self.notice.ok_or(CaseError::NoNotice)?;
                if *on < posted_on {
                    return Err(CaseError::BeforeLastStep);
                }
                if *on >= ends_on {
                    return Err(CaseError::NoticeOver);
                }
                Ok(vec![Event::ObjectionRecorded(ObjectionRecorded {
                    case_id: id,
                    objection: u32::try_from(self.objections.len()).unwrap_or(u32::MAX) + 1,
                    summary: summary.clone(),
                    recorded_on: *on,
                })])
            }
            Command::ResolveObjection {
                objection,
                upheld,
                finding,
                on,
            } => {
                let id = self.expect_stage(&[Stage::InNotice])?;
                let index = usize::try_from(*objection)
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .filter(|i| *i < self.objections.len())
                    .ok_or(CaseError::NoSuchObjection(*objection))?;
                let recorded = &self.objections[index];
                if recorded.resolution.is_some() {
                    return Err(CaseError::ObjectionResolved(*objection));
                }
                if *on < recorded.recorded_on {
                    return Err(CaseError::BeforeLastStep);
                }
                Ok(vec![Event::ObjectionResolved(ObjectionResolved {
                    case_id: id,
                    objection: *objection,
                    upheld: *upheld,
                    finding: finding.clone(),
                    resolved_on: *on,
                })])
            }
            Command::Approve { calculation, on } => self.approve(calculation, *on),
            Command::Reject {
                rule,
                reason,
                calculation,
                on,
            } => {
                let id = self.expect_stage(&[
                    Stage::AwaitingVerification,
                    Stage::AwaitingTownshipReview,
                    Stage::AwaitingNotice,
                    Stage::InNotice,
                    Stage::AwaitingDecision,
                ])?;
                self.not_before_last_step(*on)?;
                Ok(vec![Event::Rejected(Rejected {
                    case_id: id,
                    decided_on: *on,
                    rule: rule.clone(),
                    reason: reason.clone(),
                    calculation: calculation.clone(),
                })])
            }
            Command::PayAtOnce {
                township,
                calculation,
                report_due_on,
                on,
            } => self.pay_at_once(*township, calculation, *report_due_on, *on),
            Command::Report { on } => {
                let id = self.expect_stage(&[Stage::AwaitingReport])?;
                Ok(vec![Event::Reported(Reported {
                    case_id: id,
                    reported_on: *on,
                })])
            }
            Command::Transfer { on } => {
                let application = self.application.as_ref().ok_or(CaseError::NotFound)?;
                if application.category != Category::Temporary {
                    return Err(CaseError::NotTemporary);
                }
                let id = self.expect_stage(&[Stage::AwaitingDecision])?;
                if self.transferred_on.is_some() {
                    return Ok(vec![]);
                }
                Ok(vec![Event::Transferred(Transferred {
                    case_id: id,
                    transferred_on: *on,
                })])
            }
            Command::Restate { segments } => self.restate(segments),
            Command::RemoveMember {
                member,
                on,
                calculation,
            } => self.remove_member(member, *on, calculation.as_ref()),
            Command::Flag {
                cause,
                record_id,
                on,
            } => {
                let id = self.expect_stage(&[Stage::Active, Stage::Suspended])?;
                Ok(vec![Event::FlaggedForReview(FlaggedForReview {
                    case_id: id,
                    cause: *cause,
                    record_id: record_id.clone(),
                    flagged_on: *on,
                })])
            }
            Command::StartReview { cause, on } => {
                let id = self.expect_stage(&[Stage::Active, Stage::Suspended])?;
                if self.open_review.is_some() {
                    return Err(CaseError::ReviewOpen);
                }
                let application = self.application.as_ref().ok_or(CaseError::NotFound)?;
                Ok(vec![
                    Event::ReviewStarted(ReviewStarted {
                        case_id: id,
                        review: self.reviews + 1,
                        cause: *cause,
                        started_on: *on,
                    }),
                    Event::VerificationRequested(VerificationRequested {
                        case_id: id,
                        request: self.requests + 1,
                        purpose: Purpose::Review,
                        members: self.members.clone(),
                        authorizations: application.household.authorizations.clone(),
                        requested_on: *on,
                        county: self.county.unwrap_or(application.county),
                        area: Some(application.area),
                    }),
                ])
            }
            Command::CompleteReview {
                calculation,
                reason,
                on,
            } => self.complete_review(calculation.as_ref(), reason, *on),
            Command::Suspend { reason, on } => {
                let id = self.expect_stage(&[Stage::Active])?;
                Ok(vec![Event::Suspended(Suspended {
                    case_id: id,
                    effective_on: next_month(*on),
                    reason: reason.clone(),
                })])
            }
            Command::Resume { on } => {
                let id = self.id()?;
                if self.stage != Stage::Suspended {
                    return Err(CaseError::NotSuspended);
                }
                Ok(vec![Event::Resumed(Resumed {
                    case_id: id,
                    effective_on: next_month(*on),
                })])
            }
            Command::Terminate { reason, on } => {
                let id = self.expect_stage(&[Stage::Active, Stage::Suspended])?;
                Ok(vec![Event::Ended(Ended {
                    case_id: id,
                    effective_on: next_month(*on),
                    reason: reason.clone(),
                    cause: EndCause::Terminated,
                })])
            }
            Command::Rehome {
                division,
                adjustment_id,
                effective_on,
            } => {
                let id = self.id()?;
                if matches!(self.stage, Stage::Ended | Stage::Rejected) {
                    return Err(CaseError::WrongStage(self.stage));
                }
                let previous = self.division.ok_or(CaseError::NotFound)?;
                if previous == *division {
                    return Err(CaseError::SameDivision);
                }
                Ok(vec![Event::Rehomed(Rehomed {
                    case_id: id,
                    previous_division: previous,
                    division: *division,
                    county: division.county().unwrap_or(*division),
                    adjustment_id: adjustment_id.clone(),
                    effective_on: *effective_on,
                })])
            }
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Submitted(application) => {
                self.county = Some(application.county);
                self.division = Some(application.resolved_division);
                self.stage = match application.category {
                    Category::Temporary | Category::Heating => Stage::AwaitingDecision,
                    _ => Stage::AwaitingVerification,
                };
                self.application = Some(application.clone());
            }
            Event::VerificationRequested(VerificationRequested {
                request, purpose, ..
            }) => {
                self.requests = *request;
                self.open_request = Some((*request, *purpose));
            }
            Event::VerificationReceived(VerificationReceived {
                verification,
                received_on,
                ..
            }) => {
                let purpose = self.open_request.map(|(_, p)| p);
                self.open_request = None;
                self.verification = Some(verification.clone());
                if purpose == Some(Purpose::Application) {
                    self.verification_received_on = Some(*received_on);
                    if self.stage == Stage::AwaitingVerification {
                        self.stage = Stage::AwaitingTownshipReview;
                    }
                }
            }
            Event::TownshipReviewed(TownshipReviewed {
                recommends_approval,
                reviewed_on,
                ..
            }) => {
                self.township_reviewed_on = Some(*reviewed_on);
                self.township_recommends = Some(*recommends_approval);
                self.stage = Stage::AwaitingNotice;
            }
            Event::NoticePosted(NoticePosted {
                posted_on, ends_on, ..
            }) => {
                self.notice = Some((*posted_on, *ends_on));
                self.stage = Stage::InNotice;
            }
            Event::ObjectionRecorded(ObjectionRecorded {
                summary,
                recorded_on,
                ..
            }) => self.objections.push(Objection {
                summary: summary.clone(),
                recorded_on: *recorded_on,
                resolution: None,
            }),
            Event::ObjectionResolved(ObjectionResolved {
                objection,
                upheld,
                resolved_on,
                ..
            }) => {
                let index = usize::try_from(*objection).unwrap_or(usize::MAX);
                if let Some(o) = index
                    .checked_sub(1)
                    .and_then(|i| self.objections.get_mut(i))
                {
                    o.resolution = Some((*upheld, *resolved_on));
                }
                // An upheld objection sends the case back to the township: investigated again,
                // reviewed again and posted again (民发〔2021〕57号: 对公示有异议的……重新组织调查
                // 核实……重新公示).
                if *upheld {
                    self.stage = Stage::AwaitingTownshipReview;
                    self.township_recommends = None;
                }
            }
            Event::Approved(Approved {
                decided_on,
                calculation,
                starts_on,
                ..
            }) => {
                self.decided_on = Some(*decided_on);
                let category = self.category();
                if category.is_some_and(Category::is_monthly)
                    || category == Some(Category::LowIncome)
                {
                    self.amounts.push(AmountFrom {
                        from: *starts_on,
                        amount: calculation.monthly_amount,
                        calculation: calculation.clone(),
                    });
                    self.stage = Stage::Active;
                    self.last_review_on = Some(*decided_on);
                } else {
                    self.one_off = Some(calculation.clone());
                    self.stage = Stage::ApprovedOnce;
                }
            }
            Event::Granted(Granted { members, .. }) => self.members = members.clone(),
            Event::Rejected(Rejected {
                decided_on,
                rule,
                reason,
                ..
            }) => {
                self.decided_on = Some(*decided_on);
                self.rejection = Some((rule.clone(), reason.clone()));
                self.stage = Stage::Rejected;
            }
            Event::Recalculated(Recalculated {
                effective_on,
                calculation,
                ..
            }) => {
                self.amounts.retain(|a| a.from < *effective_on);
                self.amounts.push(AmountFrom {
                    from: *effective_on,
                    amount: calculation.monthly_amount,
                    calculation: calculation.clone(),
                });
            }
            Event::MembersChanged(MembersChanged { members, .. }) => self.members = members.clone(),
            Event::FlaggedForReview(FlaggedForReview {
                cause, flagged_on, ..
            }) => self.flags.push((*cause, *flagged_on)),
            Event::ReviewStarted(ReviewStarted { review, .. }) => {
                self.reviews = *review;
                self.open_review = Some(*review);
            }
            Event::ReviewCompleted(ReviewCompleted { completed_on, .. }) => {
                self.open_review = None;
                self.flags.clear();
                self.last_review_on = Some(*completed_on);
            }
            Event::Suspended(Suspended { effective_on, .. }) => {
                self.suspensions.push((*effective_on, None));
                self.stage = Stage::Suspended;
            }
            Event::Resumed(Resumed { effective_on, .. }) => {
                if let Some(last) = self.suspensions.last_mut() {
                    last.1 = Some(*effective_on);
                }
                self.stage = Stage::Active;
            }
            Event::Ended(Ended {
                effective_on,
                cause,
                ..
            }) => {
                self.ends_on = Some(*effective_on);
                if *cause != EndCause::OneOffPaid {
                    self.stage = Stage::Ended;
                }
            }
            Event::Rehomed(Rehomed {
                division, county, ..
            }) => {
                self.division = Some(*division);
                self.county = Some(*county);
            }
            Event::PaidAtOnce(PaidAtOnce {
                calculation,
                paid_on,
                report_due_on,
                ..
            }) => {
                self.one_off = Some(calculation.clone());
                self.decided_on = Some(*paid_on);
                self.report_due_on = Some(*report_due_on);
                self.stage = Stage::AwaitingReport;
            }
            Event::Reported(Reported { reported_on, .. }) => {
                self.reported_on = Some(*reported_on);
                self.stage = Stage::Ended;
            }
            Event::Transferred(Transferred { transferred_on, .. }) => {
                self.transferred_on = Some(*transferred_on);
            }
        }
        self
    }
}

#[cfg(test)]
#[path = "case_tests.rs"]
mod tests;
