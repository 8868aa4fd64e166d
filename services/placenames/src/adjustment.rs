//! The adjustment (行政区划调整) aggregate: one proposed change to the divisions, stream
//! `adjustment-<id>`, from proposal to effect.
//!
//! The workflow follows the plan's procedure (ch. 6 §1: 专家论证, 风险评估, 征求社会公众意见):
//!
//! 1. **propose** a kind of change with the divisions involved before and after it and a
//!    justification: a rename (更名), a merger (合并), a split (拆分), a change of type (撤乡设镇,
//!    撤乡镇设街道) or a recode;
//! 2. **record** the expert review, the risk assessment and the public-opinion consultation, each
//!    once;
//! 3. **approve** (only once all three reviews are recorded) or **reject**;
//! 4. **take effect** from a date on or after the approval. The [`TookEffect`] event carries the
//!    full lineage (which codes are superseded, by which successors, from which day; which
//!    divisions are established or renamed), so consumers follow without asking.
//!
//! A rejected or effective adjustment accepts nothing further.
//!
//! What one adjustment stream cannot see: whether the `before` divisions exist and are active,
//! and whether another adjustment touches them at the same time. Those checks belong to the
//! application layer that reads the division projection (a later slice).

use std::collections::{BTreeMap, BTreeSet};

use minzheng_kit::aggregate::{Aggregate, DomainError, RefusalKind};
use minzheng_types::{BoundedText, RegionCode, RegionLevel};
use time::Date;

use crate::AdjustmentId;

/// What an adjustment changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 更名: one division, one new name (its code may stay).
    Rename,
    /// 合并: two or more divisions of one level become one.
    Merge,
    /// 拆分: one division becomes two or more of the same level.
    Split,
    /// A township-level division changes its type: 撤乡设镇, 撤乡设街道 or 撤镇设街道.
    ChangeType {
        from: TownshipType,
        to: TownshipType,
    },
    /// One division gets a new code.
    Recode,
}

/// The type of a township-level division (乡级行政区).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TownshipType {
    /// 乡.
    Township,
    /// 镇.
    Town,
    /// 街道.
    Subdistrict,
}

impl TownshipType {
    /// Whether a change from `self` to `to` is one the plan supports: township to town, and
    /// township or town to subdistrict. The order of the variants is that order of
    /// urbanisation, and a change goes one way only.
    pub fn can_become(self, to: TownshipType) -> bool {
        self < to
    }
}

/// A division as an adjustment names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DivisionRef {
    pub code: RegionCode,
    pub name: BoundedText,
}

/// The three reviews an adjustment needs before approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReviewKind {
    /// 专家论证.
    Expert,
    /// 风险评估.
    Risk,
    /// 征求社会公众意见.
    PublicOpinion,
}

impl ReviewKind {
    pub const ALL: [ReviewKind; 3] = [
        ReviewKind::Expert,
        ReviewKind::Risk,
        ReviewKind::PublicOpinion,
    ];
}

/// One review's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub favourable: bool,
    pub summary: BoundedText,
    pub recorded_on: Date,
}

/// Where an adjustment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Proposed,
    Approved { on: Date },
    Rejected,
    Effective { from: Date },
}

/// The state of one adjustment; `Default` is one not proposed yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Adjustment {
    proposal: Option<Proposed>,
    reviews: BTreeMap<ReviewKind, Review>,
    status: Option<Status>,
}

impl Adjustment {
    /// The proposal, `None` before one is made.
    pub fn proposal(&self) -> Option<&Proposed> {
        self.proposal.as_ref()
    }

    pub fn status(&self) -> Option<Status> {
        self.status
    }

    pub fn review(&self, kind: ReviewKind) -> Option<&Review> {
        self.reviews.get(&kind)
    }
}

/// What can be asked of an adjustment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Propose(Propose),
    RecordReview(RecordReview),
    Approve(Approve),
    Reject(Reject),
    TakeEffect(TakeEffect),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Propose {
    pub id: AdjustmentId,
    pub kind: Kind,
    pub before: Vec<DivisionRef>,
    pub after: Vec<DivisionRef>,
    pub justification: BoundedText,
    pub proposed_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordReview {
    pub review: ReviewKind,
    pub favourable: bool,
    pub summary: BoundedText,
    pub recorded_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approve {
    pub approved_on: Date,
    /// The approving document's reference number (批准文号).
    pub reference: BoundedText,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub rejected_on: Date,
    pub reason: BoundedText,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakeEffect {
    pub effective_on: Date,
}

/// What happened to an adjustment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Proposed(Proposed),
    ReviewRecorded(ReviewRecorded),
    Approved(Approved),
    Rejected(Rejected),
    TookEffect(TookEffect),
}

/// An adjustment was proposed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposed {
    pub id: AdjustmentId,
    pub kind: Kind,
    pub before: Vec<DivisionRef>,
    pub after: Vec<DivisionRef>,
    pub justification: BoundedText,
    pub proposed_on: Date,
}

/// One review's result was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRecorded {
    pub id: AdjustmentId,
    pub review: ReviewKind,
    pub favourable: bool,
    pub summary: BoundedText,
    pub recorded_on: Date,
}

/// The adjustment was approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    pub id: AdjustmentId,
    pub approved_on: Date,
    pub reference: BoundedText,
}

/// The adjustment was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub id: AdjustmentId,
    pub rejected_on: Date,
    pub reason: BoundedText,
}

/// The adjustment took effect, with its lineage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TookEffect {
    pub id: AdjustmentId,
    /// The superseded divisions' `valid_to` and the established divisions' `valid_from`.
    pub effective_on: Date,
    pub superseded: Vec<Supersession>,
    pub established: Vec<DivisionRef>,
    pub renamed: Vec<Renaming>,
}

/// A division that ceases to exist and the codes that take its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supersession {
    pub code: RegionCode,
    pub successors: Vec<RegionCode>,
    /// The first day it is no longer valid.
    pub valid_to: Date,
}

/// A division that keeps its code under a new name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renaming {
    pub code: RegionCode,
    pub previous_name: BoundedText,
    pub name: BoundedText,
}

/// A rule that refused an adjustment command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the adjustment has not been proposed")]
    NotFound,
    #[error("the adjustment has already been proposed")]
    AlreadyProposed,
    #[error("the adjustment was rejected or has taken effect and accepts nothing further")]
    Closed,
    #[error("the adjustment has already been approved")]
    AlreadyDecided,
    #[error("an adjustment needs divisions before and after it")]
    DivisionsMissing,
    #[error("a {kind} needs {expected}")]
    WrongNumberOfDivisions {
        kind: &'static str,
        expected: &'static str,
    },
    #[error("division {code} is named twice")]
    DuplicateDivision { code: RegionCode },
    #[error("a division cannot be merged into itself")]
    MergeIntoItself,
    #[error("division {code} is at {level} level; an adjustment involves divisions of one level")]
    LevelsDiffer {
        code: RegionCode,
        level: RegionLevel,
    },
    #[error("a rename needs a new name")]
    NameUnchanged,
    #[error("a recode needs a new code")]
    CodeUnchanged,
    #[error("only township-level divisions change type")]
    NotATownship,
    #[error(
        "a change of type goes from township to town or subdistrict, or from town to subdistrict"
    )]
    TypeChangeNotAllowed,
    #[error("the date is before the adjustment was proposed")]
    BeforeProposal,
    #[error("that review has already been recorded")]
    ReviewAlreadyRecorded,
    #[error("approval needs the expert review, risk assessment and public opinion first")]
    ReviewsIncomplete,
    #[error("the approval date is before a review was recorded")]
    ApprovalBeforeReview,
    #[error("the adjustment has not been approved")]
    NotApproved,
    #[error("the effective date is before the approval date")]
    EffectiveBeforeApproval,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NotFound => "adjustment_not_found",
            Error::AlreadyProposed => "already_proposed",
            Error::Closed => "adjustment_closed",
            Error::AlreadyDecided => "already_decided",
            Error::DivisionsMissing => "divisions_missing",
            Error::WrongNumberOfDivisions { .. } => "wrong_number_of_divisions",
            Error::DuplicateDivision { .. } => "duplicate_division",
            Error::MergeIntoItself => "merge_into_itself",
            Error::LevelsDiffer { .. } => "levels_differ",
            Error::NameUnchanged => "name_unchanged",
            Error::CodeUnchanged => "code_unchanged",
            Error::NotATownship => "not_a_township",
            Error::TypeChangeNotAllowed => "type_change_not_allowed",
            Error::BeforeProposal => "before_proposal",
            Error::ReviewAlreadyRecorded => "review_already_recorded",
            Error::ReviewsIncomplete => "reviews_incomplete",
            Error::ApprovalBeforeReview => "approval_before_review",
            Error::NotApproved => "not_approved",
            Error::EffectiveBeforeApproval => "effective_before_approval",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            Error::NotFound => RefusalKind::NotFound,
            _ => RefusalKind::FailedPrecondition,
        }
    }
}

impl Aggregate for Adjustment {
    const CATEGORY: &'static str = "adjustment";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let Command::Propose(propose) = command else {
            return self.advance(command);
        };
        if self.proposal.is_some() {
            return Err(Error::AlreadyProposed);
        }
        check_divisions(propose.kind, &propose.before, &propose.after)?;
        Ok(vec![Event::Proposed(Proposed {
            id: propose.id.clone(),
            kind: propose.kind,
            before: propose.before.clone(),
            after: propose.after.clone(),
            justification: propose.justification.clone(),
            proposed_on: propose.proposed_on,
        })])
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Proposed(e) => {
                self.proposal = Some(e.clone());
                self.status = Some(Status::Proposed);
            }
            Event::ReviewRecorded(e) => {
                self.reviews.insert(
                    e.review,
                    Review {
                        favourable: e.favourable,
                        summary: e.summary.clone(),
                        recorded_on: e.recorded_on,
                    },
                );
            }
            Event::Approved(e) => self.status = Some(Status::Approved { on: e.approved_on }),
            Event::Rejected(_) => self.status = Some(Status::Rejected),
            Event::TookEffect(e) => {
                self.status = Some(Status::Effective {
                    from: e.effective_on,
                });
            }
        }
        self
    }
}

impl Adjustment {
    /// Every command after the proposal.
    fn advance(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let (Some(proposal), Some(status)) = (&self.proposal, self.status) else {
            return Err(Error::NotFound);
        };
        if matches!(status, Status::Rejected | Status::Effective { .. }) {
            return Err(Error::Closed);
        }
        let id = proposal.id.clone();
        match command {
            Command::Propose(_) => Err(Error::AlreadyProposed),
            Command::RecordReview(review) => {
                if status != Status::Proposed {
                    return Err(Error::AlreadyDecided);
                }
                if self.reviews.contains_key(&review.review) {
                    return Err(Error::ReviewAlreadyRecorded);
                }
                if review.recorded_on < proposal.proposed_on {
                    return Err(Error::BeforeProposal);
                }
                Ok(vec![Event::ReviewRecorded(ReviewRecorded {
                    id,
                    review: review.review,
                    favourable: review.favourable,
                    summary: review.summary.clone(),
                    recorded_on: review.recorded_on,
                })])
            }
            Command::Approve(approve) => {
                if status != Status::Proposed {
                    return Err(Error::AlreadyDecided);
                }
                if ReviewKind::ALL
                    .iter()
                    .any(|kind| !self.reviews.contains_key(kind))
                {
                    return Err(Error::ReviewsIncomplete);
                }
                if self
                    .reviews
                    .values()
                    .any(|r| r.recorded_on > approve.approved_on)
                {
                    return Err(Error::ApprovalBeforeReview);
                }
                Ok(vec![Event::Approved(Approved {
                    id,
                    approved_on: approve.approved_on,
                    reference: approve.reference.clone(),
                })])
            }
            Command::Reject(reject) => {
                if status != Status::Proposed {
                    return Err(Error::AlreadyDecided);
                }
                if reject.rejected_on < proposal.proposed_on {
                    return Err(Error::BeforeProposal);
                }
                Ok(vec![Event::Rejected(Rejected {
                    id,
                    rejected_on: reject.rejected_on,
                    reason: reject.reason.clone(),
                })])
            }
            Command::TakeEffect(take) => {
                let Status::Approved { on: approved_on } = status else {
                    return Err(Error::NotApproved);
                };
                if take.effective_on < approved_on {
                    return Err(Error::EffectiveBeforeApproval);
                }
                Ok(vec![Event::TookEffect(lineage(
                    proposal,
                    take.effective_on,
                ))])
            }
        }
    }
}

/// The lineage of a proposal taking effect on `effective_on`: every `before` division whose code
/// is not among the `after` codes is superseded by all the `after` codes; every `after` code not
/// among the `before` codes is established; a code on both sides under another name is renamed.
/// One rule serves every kind: a merger into an existing division keeps that division and
/// supersedes the others, a split that keeps the old code only establishes the new parts.
fn lineage(proposal: &Proposed, effective_on: Date) -> TookEffect {
    let before_codes: BTreeSet<RegionCode> = proposal.before.iter().map(|d| d.code).collect();
    let after_codes: Vec<RegionCode> = proposal.after.iter().map(|d| d.code).collect();
    let superseded = proposal
        .before
        .iter()
        .filter(|d| !after_codes.contains(&d.code))
        .map(|d| Supersession {
            code: d.code,
            successors: after_codes.clone(),
            valid_to: effective_on,
        })
        .collect();
    let established = proposal
        .after
        .iter()
        .filter(|d| !before_codes.contains(&d.code))
        .cloned()
        .collect();
    let renamed = proposal
        .after
        .iter()
        .filter_map(|after| {
            let before = proposal.before.iter().find(|b| b.code == after.code)?;
            (before.name != after.name).then(|| Renaming {
                code: after.code,
                previous_name: before.name.clone(),
                name: after.name.clone(),
            })
        })
        .collect();
    TookEffect {
        id: proposal.id.clone(),
        effective_on,
        superseded,
        established,
        renamed,
    }
}

/// The proposal rules on the divisions involved.
fn check_divisions(kind: Kind, before: &[DivisionRef], after: &[DivisionRef]) -> Result<(), Error> {
    if before.is_empty() || after.is_empty() {
        return Err(Error::DivisionsMissing);
    }
    let wrong = |kind, expected| Err(Error::WrongNumberOfDivisions { kind, expected });
    match kind {
        Kind::Merge => {
            // Naming one division twice, or merging one division into itself, is the same
            // mistake: nothing would be merged.
            let merged_into_itself = first_duplicate(before).is_some()
                || (before.len() == 1 && before[0].code == after[0].code);
            if merged_into_itself {
                return Err(Error::MergeIntoItself);
            }
            if before.len() < 2 || after.len() != 1 {
                return wrong("merger", "two or more divisions before and one after");
            }
        }
        Kind::Split => {
            if before.len() != 1 || after.len() < 2 {
                return wrong("split", "one division before and two or more after");
            }
        }
        Kind::Rename | Kind::Recode | Kind::ChangeType { .. } => {
            if before.len() != 1 || after.len() != 1 {
                return wrong("one-to-one adjustment", "one division before and one after");
            }
        }
    }
    if let Some(code) = first_duplicate(before).or_else(|| first_duplicate(after)) {
        return Err(Error::DuplicateDivision { code });
    }
    let level = before[0].code.level();
    if let Some(d) = before.iter().chain(after).find(|d| d.code.level() != level) {
        return Err(Error::LevelsDiffer {
            code: d.code,
            level: d.code.level(),
        });
    }
    match kind {
        Kind::Rename if before[0].name == after[0].name => Err(Error::NameUnchanged),
        Kind::Recode if before[0].code == after[0].code => Err(Error::CodeUnchanged),
        Kind::ChangeType { .. } if level != RegionLevel::Township => Err(Error::NotATownship),
        Kind::ChangeType { from, to } if !from.can_become(to) => Err(Error::TypeChangeNotAllowed),
        _ => Ok(()),
    }
}

fn first_duplicate(divisions: &[DivisionRef]) -> Option<RegionCode> {
    let mut seen = BTreeSet::new();
    divisions
        .iter()
        .map(|d| d.code)
        .find(|&code| !seen.insert(code))
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;
    use crate::division::tests::{adjustment_id, code, name};

    fn text(s: &str) -> BoundedText {
        BoundedText::parse(s, 500).expect("test texts are valid")
    }

    pub(crate) fn division(digits: &str, division_name: &str) -> DivisionRef {
        DivisionRef {
            code: code(digits),
            name: name(division_name),
        }
    }

    fn id() -> AdjustmentId {
        adjustment_id("BX-2025-001")
    }

    /// 向阳乡 and 雅河朝鲜族乡 merge into a new town.
    pub(crate) fn merge_proposal() -> Propose {
        Propose {
            id: id(),
            kind: Kind::Merge,
            before: vec![
                division("210522202000", "向阳乡"),
                division("210522201000", "雅河朝鲜族乡"),
            ],
            after: vec![division("210522112000", "雅河镇")],
            justification: text("两乡面积小、人口少，合并后便于统筹发展"),
            proposed_on: date!(2025 - 01 - 10),
        }
    }

    pub(crate) fn proposed() -> Event {
        let p = merge_proposal();
        Event::Proposed(Proposed {
            id: p.id,
            kind: p.kind,
            before: p.before,
            after: p.after,
            justification: p.justification,
            proposed_on: p.proposed_on,
        })
    }

    pub(crate) fn reviewed(review: ReviewKind) -> Event {
        Event::ReviewRecorded(ReviewRecorded {
            id: id(),
            review,
            favourable: true,
            summary: text("同意"),
            recorded_on: date!(2025 - 03 - 01),
        })
    }

    fn all_reviewed() -> Vec<Event> {
        let mut events = vec![proposed()];
        events.extend(ReviewKind::ALL.map(reviewed));
        events
    }

    pub(crate) fn approved() -> Event {
        Event::Approved(Approved {
            id: id(),
            approved_on: date!(2025 - 05 - 20),
            reference: text("辽政〔2025〕12号"),
        })
    }

    fn approve(on: Date) -> Command {
        Command::Approve(Approve {
            approved_on: on,
            reference: text("辽政〔2025〕12号"),
        })
    }

    fn take_effect(on: Date) -> Command {
        Command::TakeEffect(TakeEffect { effective_on: on })
    }

    fn record_review(review: ReviewKind, on: Date) -> Command {
        Command::RecordReview(RecordReview {
            review,
            favourable: true,
            summary: text("同意"),
            recorded_on: on,
        })
    }

    fn propose(kind: Kind, before: Vec<DivisionRef>, after: Vec<DivisionRef>) -> Command {
        Command::Propose(Propose {
            kind,
            before,
            after,
            ..merge_proposal()
        })
    }

    #[test]
    fn the_whole_workflow_ends_with_the_lineage() {
        let state = given::<Adjustment>([])
            .when(Command::Propose(merge_proposal()))
            .then([proposed()]);
        assert_eq!(state.status(), Some(Status::Proposed));
        let mut events = vec![proposed()];
        for review in ReviewKind::ALL {
            given::<Adjustment>(events.clone())
                .when(record_review(review, date!(2025 - 03 - 01)))
                .then([reviewed(review)]);
            events.push(reviewed(review));
        }
        given::<Adjustment>(events.clone())
            .when(approve(date!(2025 - 05 - 20)))
            .then([approved()]);
        events.push(approved());
        let state = given::<Adjustment>(events)
            .when(take_effect(date!(2025 - 07 - 01)))
            .then([Event::TookEffect(TookEffect {
                id: id(),
                effective_on: date!(2025 - 07 - 01),
                superseded: vec![
                    Supersession {
                        code: code("210522202000"),
                        successors: vec![code("210522112000")],
                        valid_to: date!(2025 - 07 - 01),
                    },
                    Supersession {
                        code: code("210522201000"),
                        successors: vec![code("210522112000")],
                        valid_to: date!(2025 - 07 - 01),
                    },
                ],
                established: vec![division("210522112000", "雅河镇")],
                renamed: vec![],
            })]);
        assert_eq!(
            state.status(),
            Some(Status::Effective {
                from: date!(2025 - 07 - 01)
            })
        );
    }

    #[test]
    fn cannot_approve_before_all_three_reviews_are_recorded() {
        for missing in ReviewKind::ALL {
            let mut events = vec![proposed()];
            events.extend(
                ReviewKind::ALL
                    .into_iter()
                    .filter(|&r| r != missing)
                    .map(reviewed),
            );
            given::<Adjustment>(events)
                .when(approve(date!(2025 - 05 - 20)))
                .then_refused("reviews_incomplete");
        }
    }

    #[test]
    fn cannot_approve_on_a_day_before_a_review() {
        given::<Adjustment>(all_reviewed())
            .when(approve(date!(2025 - 02 - 28)))
            .then_refused("approval_before_review");
    }

    #[test]
    fn a_review_is_recorded_once_and_not_before_the_proposal() {
        given::<Adjustment>([proposed(), reviewed(ReviewKind::Risk)])
            .when(record_review(ReviewKind::Risk, date!(2025 - 04 - 01)))
            .then_refused("review_already_recorded");
        given::<Adjustment>([proposed()])
            .when(record_review(ReviewKind::Expert, date!(2025 - 01 - 09)))
            .then_refused("before_proposal");
    }

    #[test]
    fn cannot_take_effect_before_approval() {
        given::<Adjustment>(all_reviewed())
            .when(take_effect(date!(2025 - 07 - 01)))
            .then_refused("not_approved");
    }

    #[test]
    fn the_effective_date_is_not_before_the_approval_date() {
        let mut events = all_reviewed();
        events.push(approved());
        given::<Adjustment>(events.clone())
            .when(take_effect(date!(2025 - 05 - 19)))
            .then_refused("effective_before_approval");
        // The approval day itself is allowed.
        let outcome = given::<Adjustment>(events)
            .when(take_effect(date!(2025 - 05 - 20)))
            .outcome()
            .clone();
        assert!(outcome.is_ok(), "{outcome:?}");
    }

    #[test]
    fn an_approved_adjustment_takes_no_more_reviews_or_decisions() {
        let mut events = all_reviewed();
        events.push(approved());
        given::<Adjustment>(events.clone())
            .when(approve(date!(2025 - 06 - 01)))
            .then_refused("already_decided");
        given::<Adjustment>(events)
            .when(Command::Reject(Reject {
                rejected_on: date!(2025 - 06 - 01),
                reason: text("撤回"),
            }))
            .then_refused("already_decided");
    }

    #[test]
    fn rejected_or_effective_adjustments_accept_nothing_further() {
        let rejected = Event::Rejected(Rejected {
            id: id(),
            rejected_on: date!(2025 - 02 - 01),
            reason: text("风险评估未通过"),
        });
        let mut effective = all_reviewed();
        effective.push(approved());
        effective.push(Event::TookEffect(lineage(
            &Proposed {
                id: id(),
                kind: Kind::Merge,
                before: merge_proposal().before,
                after: merge_proposal().after,
                justification: merge_proposal().justification,
                proposed_on: merge_proposal().proposed_on,
            },
            date!(2025 - 07 - 01),
        )));
        let commands = [
            Command::Propose(merge_proposal()),
            record_review(ReviewKind::Expert, date!(2025 - 08 - 01)),
            approve(date!(2025 - 08 - 01)),
            Command::Reject(Reject {
                rejected_on: date!(2025 - 08 - 01),
                reason: text("再议"),
            }),
            take_effect(date!(2025 - 08 - 01)),
        ];
        for history in [vec![proposed(), rejected], effective] {
            for command in commands.clone() {
                let rule = if matches!(command, Command::Propose(_)) {
                    "already_proposed"
                } else {
                    "adjustment_closed"
                };
                given::<Adjustment>(history.clone())
                    .when(command)
                    .then_refused(rule);
            }
        }
    }

    #[test]
    fn commands_before_a_proposal_find_nothing() {
        let refusal = given::<Adjustment>([])
            .when(approve(date!(2025 - 05 - 20)))
            .then_refused("adjustment_not_found");
        assert_eq!(refusal.kind(), RefusalKind::NotFound);
    }

    #[test]
    fn merging_a_division_into_itself_is_refused() {
        let xiangyang = division("210522202000", "向阳乡");
        given::<Adjustment>([])
            .when(propose(
                Kind::Merge,
                vec![xiangyang.clone()],
                vec![xiangyang.clone()],
            ))
            .then_refused("merge_into_itself");
        given::<Adjustment>([])
            .when(propose(
                Kind::Merge,
                vec![xiangyang.clone(), xiangyang.clone()],
                vec![xiangyang],
            ))
            .then_refused("merge_into_itself");
    }

    #[test]
    fn merging_divisions_of_different_levels_is_refused() {
        given::<Adjustment>([])
            .when(propose(
                Kind::Merge,
                vec![
                    division("210522202000", "向阳乡"),
                    division("210522202201", "向阳村委会"),
                ],
                vec![division("210522112000", "雅河镇")],
            ))
            .then_refused("levels_differ");
        given::<Adjustment>([])
            .when(propose(
                Kind::Merge,
                merge_proposal().before,
                vec![division("210522000000", "桓仁满族自治县")],
            ))
            .then_refused("levels_differ");
    }

    #[test]
    fn a_merger_into_an_existing_division_keeps_it_and_supersedes_the_other() {
        let proposal = Proposed {
            id: id(),
            kind: Kind::Merge,
            before: vec![
                division("210522201000", "雅河朝鲜族乡"),
                division("210522202000", "向阳乡"),
            ],
            after: vec![division("210522201000", "雅河朝鲜族乡")],
            justification: text("向阳乡并入雅河朝鲜族乡"),
            proposed_on: date!(2025 - 01 - 10),
        };
        assert_eq!(
            lineage(&proposal, date!(2025 - 07 - 01)),
            TookEffect {
                id: id(),
                effective_on: date!(2025 - 07 - 01),
                superseded: vec![Supersession {
                    code: code("210522202000"),
                    successors: vec![code("210522201000")],
                    valid_to: date!(2025 - 07 - 01),
                }],
                established: vec![],
                renamed: vec![],
            }
        );
    }

    #[test]
    fn a_split_supersedes_the_old_division_by_every_part() {
        let proposal = Proposed {
            kind: Kind::Split,
            before: vec![division("210502001000", "南地街道")],
            after: vec![
                division("210502013000", "南地东街道"),
                division("210502014000", "南地西街道"),
            ],
            ..match proposed() {
                Event::Proposed(p) => p,
                _ => unreachable!("proposed() is a proposal"),
            }
        };
        let effect = lineage(&proposal, date!(2026 - 03 - 01));
        assert_eq!(
            effect.superseded,
            vec![Supersession {
                code: code("210502001000"),
                successors: vec![code("210502013000"), code("210502014000")],
                valid_to: date!(2026 - 03 - 01),
            }]
        );
        assert_eq!(effect.established, proposal.after);
    }

    #[test]
    fn a_rename_under_the_same_code_is_a_renaming_not_a_supersession() {
        let proposal = Proposed {
            kind: Kind::Rename,
            before: vec![division("210521202203", "荒沟村委会")],
            after: vec![division("210521202203", "金沟村委会")],
            ..match proposed() {
                Event::Proposed(p) => p,
                _ => unreachable!("proposed() is a proposal"),
            }
        };
        let effect = lineage(&proposal, date!(2026 - 01 - 01));
        assert!(effect.superseded.is_empty() && effect.established.is_empty());
        assert_eq!(
            effect.renamed,
            vec![Renaming {
                code: code("210521202203"),
                previous_name: name("荒沟村委会"),
                name: name("金沟村委会"),
            }]
        );
    }

    #[test]
    fn proposal_shape_rules() {
        let dongyingfang = division("210521202000", "东营坊乡");
        let cases: Vec<(Command, &str)> = vec![
            (propose(Kind::Rename, vec![], vec![]), "divisions_missing"),
            (
                propose(
                    Kind::Rename,
                    vec![dongyingfang.clone()],
                    vec![dongyingfang.clone()],
                ),
                "name_unchanged",
            ),
            (
                propose(
                    Kind::Recode,
                    vec![dongyingfang.clone()],
                    vec![dongyingfang.clone()],
                ),
                "code_unchanged",
            ),
            (
                propose(
                    Kind::Split,
                    vec![dongyingfang.clone()],
                    vec![division("210521113000", "东营坊镇")],
                ),
                "wrong_number_of_divisions",
            ),
            (
                propose(
                    Kind::Split,
                    vec![dongyingfang.clone()],
                    vec![
                        division("210521113000", "东营坊镇"),
                        division("210521113000", "东营坊镇"),
                    ],
                ),
                "duplicate_division",
            ),
            (
                propose(
                    Kind::Merge,
                    vec![dongyingfang.clone()],
                    vec![division("210521113000", "东营坊镇")],
                ),
                "wrong_number_of_divisions",
            ),
            (
                propose(
                    Kind::ChangeType {
                        from: TownshipType::Town,
                        to: TownshipType::Township,
                    },
                    vec![dongyingfang.clone()],
                    vec![division("210521113000", "东营坊镇")],
                ),
                "type_change_not_allowed",
            ),
            (
                propose(
                    Kind::ChangeType {
                        from: TownshipType::Township,
                        to: TownshipType::Town,
                    },
                    vec![division("210521202203", "荒沟村委会")],
                    vec![division("210521202210", "荒沟社区")],
                ),
                "not_a_township",
            ),
        ];
        for (command, rule) in cases {
            given::<Adjustment>([]).when(command).then_refused(rule);
        }
    }

    #[test]
    fn supported_changes_of_type_are_accepted() {
        for (from, to) in [
            (TownshipType::Township, TownshipType::Town),
            (TownshipType::Township, TownshipType::Subdistrict),
            (TownshipType::Town, TownshipType::Subdistrict),
        ] {
            let outcome = given::<Adjustment>([])
                .when(propose(
                    Kind::ChangeType { from, to },
                    vec![division("210521202000", "东营坊乡")],
                    vec![division("210521113000", "东营坊镇")],
                ))
                .outcome()
                .clone();
            assert!(outcome.is_ok(), "{from:?} to {to:?}: {outcome:?}");
        }
    }

    #[test]
    fn a_second_proposal_is_refused() {
        given::<Adjustment>([proposed()])
            .when(Command::Propose(merge_proposal()))
            .then_refused("already_proposed");
    }
}
