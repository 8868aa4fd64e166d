//! The place-name (地名) aggregate: the naming of one road, bridge, residential area or natural
//! feature, stream `placename-<id>`, from proposal to standard name (标准地名).
//!
//! The procedure follows the plan (ch. 6 §3: 评估论证, 征求意见, 政务公开):
//!
//! 1. **propose** a name with its pinyin, the division it lies in, and its meaning;
//! 2. record the **evaluation** (评估论证);
//! 3. **open** the public comment period with its announced last day, **record** comments while
//!    it is open, and **close** it, not before the announced day;
//! 4. **approve**, only after the evaluation and once the comment period has been held and closed,
//!    or **reject**;
//! 5. **publish** the approved name as the standard name;
//! 6. **retire** a standard name (the place is gone or renamed): the record is kept, with the
//!    day it stopped being standard.
//!
//! A rejected or retired place name accepts nothing further. Pinyin comes in the command for now;
//! a later slice computes it from the characters. Comments are kept only as summaries without
//! the commenter's identity, because who objected to a name is personal data the event stream
//! does not need.

use minzheng_kit::aggregate::{Aggregate, DomainError, RefusalKind};
use minzheng_types::{BoundedText, RegionCode};
use time::Date;

use crate::PlaceNameId;

/// What kind of place is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    /// 道路、街巷.
    Road,
    /// 桥梁.
    Bridge,
    /// 居民区.
    ResidentialArea,
    /// 自然地理实体.
    NaturalFeature,
}

/// Where the public comment period stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentPeriod {
    NotHeld,
    Open { opened_on: Date, closes_on: Date },
    Closed { closed_on: Date },
}

/// Where a place name stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Proposed,
    Approved { on: Date },
    Rejected,
    Published { on: Date },
    Retired { on: Date },
}

/// The state of one place name; `Default` is one not proposed yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaceName {
    proposal: Option<Proposed>,
    status: Option<Status>,
    evaluated_on: Option<Date>,
    comment_period: Option<CommentPeriod>,
    comments: u32,
}

impl PlaceName {
    pub fn proposal(&self) -> Option<&Proposed> {
        self.proposal.as_ref()
    }

    pub fn status(&self) -> Option<Status> {
        self.status
    }

    pub fn comment_period(&self) -> CommentPeriod {
        self.comment_period.unwrap_or(CommentPeriod::NotHeld)
    }

    /// Comments recorded in the comment period.
    pub fn comment_count(&self) -> u32 {
        self.comments
    }
}

/// What can be asked of a place name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Propose(Propose),
    RecordEvaluation(RecordEvaluation),
    OpenCommentPeriod(OpenCommentPeriod),
    RecordComment(RecordComment),
    CloseCommentPeriod(CloseCommentPeriod),
    Approve(Approve),
    Reject(Reject),
    Publish(Publish),
    Retire(Retire),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Propose {
    pub id: PlaceNameId,
    pub kind: PlaceKind,
    pub name: BoundedText,
    pub pinyin: BoundedText,
    pub region: RegionCode,
    pub meaning: BoundedText,
    pub proposed_on: Date,
    /// For a renaming (更名): the standard name this one replaces once published.
    pub replaces: Option<PlaceNameId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordEvaluation {
    pub favourable: bool,
    pub summary: BoundedText,
    pub evaluated_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCommentPeriod {
    pub opened_on: Date,
    /// The announced last day.
    pub closes_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordComment {
    pub summary: BoundedText,
    pub received_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseCommentPeriod {
    pub closed_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approve {
    pub approved_on: Date,
    pub reference: BoundedText,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub rejected_on: Date,
    pub reason: BoundedText,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    pub published_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retire {
    pub retired_on: Date,
    pub reason: BoundedText,
}

/// What happened to a place name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Proposed(Proposed),
    Evaluated(Evaluated),
    CommentPeriodOpened(CommentPeriodOpened),
    CommentRecorded(CommentRecorded),
    CommentPeriodClosed(CommentPeriodClosed),
    Approved(Approved),
    Rejected(Rejected),
    Published(Published),
    Retired(Retired),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposed {
    pub id: PlaceNameId,
    pub kind: PlaceKind,
    pub name: BoundedText,
    pub pinyin: BoundedText,
    pub region: RegionCode,
    pub meaning: BoundedText,
    pub proposed_on: Date,
    /// For a renaming (更名): the standard name this one replaces once published.
    pub replaces: Option<PlaceNameId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluated {
    pub id: PlaceNameId,
    pub favourable: bool,
    pub summary: BoundedText,
    pub evaluated_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentPeriodOpened {
    pub id: PlaceNameId,
    pub opened_on: Date,
    pub closes_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentRecorded {
    pub id: PlaceNameId,
    pub summary: BoundedText,
    pub received_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentPeriodClosed {
    pub id: PlaceNameId,
    pub closed_on: Date,
    pub comment_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    pub id: PlaceNameId,
    pub approved_on: Date,
    pub reference: BoundedText,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub id: PlaceNameId,
    pub rejected_on: Date,
    pub reason: BoundedText,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub id: PlaceNameId,
    pub name: BoundedText,
    pub pinyin: BoundedText,
    pub published_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retired {
    pub id: PlaceNameId,
    pub retired_on: Date,
    pub reason: BoundedText,
}

/// A rule that refused a place-name command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the place name has not been proposed")]
    NotFound,
    #[error("the place name has already been proposed")]
    AlreadyProposed,
    #[error("a renaming cannot replace the name it proposes")]
    ReplacesItself,
    #[error("the place name was rejected or retired and accepts nothing further")]
    Closed,
    #[error("the place name has already been decided")]
    AlreadyDecided,
    #[error("the date is before the place name was proposed")]
    BeforeProposal,
    #[error("the evaluation has already been recorded")]
    AlreadyEvaluated,
    #[error("the place name has not been evaluated")]
    NotEvaluated,
    #[error("the comment period cannot open before the evaluation")]
    BeforeEvaluation,
    #[error("the comment period has already been held")]
    CommentPeriodAlreadyHeld,
    #[error("the comment period must end after it opens")]
    CommentPeriodEmpty,
    #[error("the comment period is not open")]
    CommentPeriodNotOpen,
    #[error("the comment period is open")]
    CommentPeriodOpen,
    #[error("the comment period has not been held")]
    CommentPeriodNotHeld,
    #[error("the comment period cannot close before its announced last day")]
    CommentPeriodNotOver,
    #[error("the date is outside the comment period")]
    OutsideCommentPeriod,
    #[error("the approval date is before the comment period closed")]
    ApprovalBeforeCommentsClosed,
    #[error("the place name has not been approved")]
    NotApproved,
    #[error("the publication date is before the approval date")]
    PublishedBeforeApproval,
    #[error("only a published standard name can be retired")]
    NotPublished,
    #[error("the retirement date is not after the publication date")]
    RetiredBeforePublication,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NotFound => "place_name_not_found",
            Error::AlreadyProposed => "already_proposed",
            Error::ReplacesItself => "replaces_itself",
            Error::Closed => "place_name_closed",
            Error::AlreadyDecided => "already_decided",
            Error::BeforeProposal => "before_proposal",
            Error::AlreadyEvaluated => "already_evaluated",
            Error::NotEvaluated => "not_evaluated",
            Error::BeforeEvaluation => "before_evaluation",
            Error::CommentPeriodAlreadyHeld => "comment_period_already_held",
            Error::CommentPeriodEmpty => "comment_period_empty",
            Error::CommentPeriodNotOpen => "comment_period_not_open",
            Error::CommentPeriodOpen => "comment_period_open",
            Error::CommentPeriodNotHeld => "comment_period_not_held",
            Error::CommentPeriodNotOver => "comment_period_not_over",
            Error::OutsideCommentPeriod => "outside_comment_period",
            Error::ApprovalBeforeCommentsClosed => "approval_before_comments_closed",
            Error::NotApproved => "not_approved",
            Error::PublishedBeforeApproval => "published_before_approval",
            Error::NotPublished => "not_published",
            Error::RetiredBeforePublication => "retired_before_publication",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            Error::NotFound => RefusalKind::NotFound,
            _ => RefusalKind::FailedPrecondition,
        }
    }
}

impl Aggregate for PlaceName {
    const CATEGORY: &'static str = "placename";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let Command::Propose(p) = command else {
            return self.advance(command);
        };
        if self.proposal.is_some() {
            return Err(Error::AlreadyProposed);
        }
        if p.replaces.as_ref() == Some(&p.id) {
            return Err(Error::ReplacesItself);
        }
        Ok(vec![Event::Proposed(Proposed {
            id: p.id.clone(),
            kind: p.kind,
            name: p.name.clone(),
            pinyin: p.pinyin.clone(),
            region: p.region,
            meaning: p.meaning.clone(),
            proposed_on: p.proposed_on,
            replaces: p.replaces.clone(),
        })])
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Proposed(e) => {
                self.proposal = Some(e.clone());
                self.status = Some(Status::Proposed);
            }
            Event::Evaluated(e) => self.evaluated_on = Some(e.evaluated_on),
            Event::CommentPeriodOpened(e) => {
                self.comment_period = Some(CommentPeriod::Open {
                    opened_on: e.opened_on,
                    closes_on: e.closes_on,
                });
            }
            Event::CommentRecorded(_) => self.comments = self.comments.saturating_add(1),
            Event::CommentPeriodClosed(e) => {
                self.comment_period = Some(CommentPeriod::Closed {
                    closed_on: e.closed_on,
                });
            }
            Event::Approved(e) => self.status = Some(Status::Approved { on: e.approved_on }),
            Event::Rejected(_) => self.status = Some(Status::Rejected),
            Event::Published(e) => {
                self.status = Some(Status::Published { on: e.published_on });
            }
            Event::Retired(e) => self.status = Some(Status::Retired { on: e.retired_on }),
        }
        self
    }
}

impl PlaceName {
    /// Every command after the proposal.
    fn advance(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let (Some(proposal), Some(status)) = (&self.proposal, self.status) else {
            return Err(Error::NotFound);
        };
        if matches!(status, Status::Rejected | Status::Retired { .. }) {
            return Err(Error::Closed);
        }
        let id = proposal.id.clone();
        let undecided = || {
            if status == Status::Proposed {
                Ok(())
            } else {
                Err(Error::AlreadyDecided)
            }
        };
        let not_before_proposal = |day: Date| {
            if day < proposal.proposed_on {
                Err(Error::BeforeProposal)
            } else {
                Ok(())
            }
        };
        match command {
            Command::Propose(_) => Err(Error::AlreadyProposed),
            Command::RecordEvaluation(c) => {
                undecided()?;
                if self.evaluated_on.is_some() {
                    return Err(Error::AlreadyEvaluated);
                }
                not_before_proposal(c.evaluated_on)?;
                Ok(vec![Event::Evaluated(Evaluated {
                    id,
                    favourable: c.favourable,
                    summary: c.summary.clone(),
                    evaluated_on: c.evaluated_on,
                })])
            }
            Command::OpenCommentPeriod(c) => {
                undecided()?;
                let Some(evaluated_on) = self.evaluated_on else {
                    return Err(Error::NotEvaluated);
                };
                if self.comment_period() != CommentPeriod::NotHeld {
                    return Err(Error::CommentPeriodAlreadyHeld);
                }
                if c.opened_on < evaluated_on {
                    return Err(Error::BeforeEvaluation);
                }
                if c.closes_on <= c.opened_on {
                    return Err(Error::CommentPeriodEmpty);
                }
                Ok(vec![Event::CommentPeriodOpened(CommentPeriodOpened {
                    id,
                    opened_on: c.opened_on,
                    closes_on: c.closes_on,
                })])
            }
            Command::RecordComment(c) => {
                let CommentPeriod::Open {
                    opened_on,
                    closes_on,
                } = self.comment_period()
                else {
                    return Err(Error::CommentPeriodNotOpen);
                };
                if c.received_on < opened_on || c.received_on > closes_on {
                    return Err(Error::OutsideCommentPeriod);
                }
                Ok(vec![Event::CommentRecorded(CommentRecorded {
                    id,
                    summary: c.summary.clone(),
                    received_on: c.received_on,
                })])
            }
            Command::CloseCommentPeriod(c) => {
                let CommentPeriod::Open { closes_on, .. } = self.comment_period() else {
                    return Err(Error::CommentPeriodNotOpen);
                };
                if c.closed_on < closes_on {
                    return Err(Error::CommentPeriodNotOver);
                }
                Ok(vec![Event::CommentPeriodClosed(CommentPeriodClosed {
                    id,
                    closed_on: c.closed_on,
                    comment_count: self.comments,
                })])
            }
            Command::Approve(c) => {
                undecided()?;
                if self.evaluated_on.is_none() {
                    return Err(Error::NotEvaluated);
                }
                let closed_on = match self.comment_period() {
                    CommentPeriod::NotHeld => return Err(Error::CommentPeriodNotHeld),
                    CommentPeriod::Open { .. } => return Err(Error::CommentPeriodOpen),
                    CommentPeriod::Closed { closed_on } => closed_on,
                };
                if c.approved_on < closed_on {
                    return Err(Error::ApprovalBeforeCommentsClosed);
                }
                Ok(vec![Event::Approved(Approved {
                    id,
                    approved_on: c.approved_on,
                    reference: c.reference.clone(),
                })])
            }
            Command::Reject(c) => {
                undecided()?;
                not_before_proposal(c.rejected_on)?;
                Ok(vec![Event::Rejected(Rejected {
                    id,
                    rejected_on: c.rejected_on,
                    reason: c.reason.clone(),
                })])
            }
            Command::Publish(c) => {
                let Status::Approved { on: approved_on } = status else {
                    return Err(if matches!(status, Status::Published { .. }) {
                        Error::AlreadyDecided
                    } else {
                        Error::NotApproved
                    });
                };
                if c.published_on < approved_on {
                    return Err(Error::PublishedBeforeApproval);
                }
                Ok(vec![Event::Published(Published {
                    id,
                    name: proposal.name.clone(),
                    pinyin: proposal.pinyin.clone(),
                    published_on: c.published_on,
                })])
            }
            Command::Retire(c) => {
                let Status::Published { on: published_on } = status else {
                    return Err(Error::NotPublished);
                };
                if c.retired_on <= published_on {
                    return Err(Error::RetiredBeforePublication);
                }
                Ok(vec![Event::Retired(Retired {
                    id,
                    retired_on: c.retired_on,
                    reason: c.reason.clone(),
                })])
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;
    use crate::division::tests::code;

    pub(crate) fn text(s: &str) -> BoundedText {
        BoundedText::parse(s, 500).expect("test texts are valid")
    }

    fn id() -> PlaceNameId {
        PlaceNameId::parse("BX-DM-2025-014").expect("valid")
    }

    fn propose() -> Propose {
        Propose {
            id: id(),
            kind: PlaceKind::Road,
            name: text("太子河路"),
            pinyin: text("Taizihe Lu"),
            region: code("210502000000"),
            meaning: text("沿太子河而建，以河得名"),
            proposed_on: date!(2025 - 03 - 01),
            replaces: None,
        }
    }

    #[test]
    fn a_renaming_cannot_replace_itself() {
        given::<PlaceName>([])
            .when(Command::Propose(Propose {
                replaces: Some(id()),
                ..propose()
            }))
            .then_refused("replaces_itself");
    }

    pub(crate) fn history() -> Vec<Event> {
        vec![
            Event::Proposed(Proposed {
                id: id(),
                kind: PlaceKind::Road,
                name: text("太子河路"),
                pinyin: text("Taizihe Lu"),
                region: code("210502000000"),
                meaning: text("沿太子河而建，以河得名"),
                proposed_on: date!(2025 - 03 - 01),
                replaces: None,
            }),
            Event::Evaluated(Evaluated {
                id: id(),
                favourable: true,
                summary: text("符合命名规则"),
                evaluated_on: date!(2025 - 03 - 20),
            }),
            Event::CommentPeriodOpened(CommentPeriodOpened {
                id: id(),
                opened_on: date!(2025 - 04 - 01),
                closes_on: date!(2025 - 04 - 30),
            }),
            Event::CommentRecorded(CommentRecorded {
                id: id(),
                summary: text("赞成"),
                received_on: date!(2025 - 04 - 10),
            }),
            Event::CommentPeriodClosed(CommentPeriodClosed {
                id: id(),
                closed_on: date!(2025 - 04 - 30),
                comment_count: 1,
            }),
            Event::Approved(Approved {
                id: id(),
                approved_on: date!(2025 - 05 - 15),
                reference: text("本政地〔2025〕3号"),
            }),
            Event::Published(Published {
                id: id(),
                name: text("太子河路"),
                pinyin: text("Taizihe Lu"),
                published_on: date!(2025 - 06 - 01),
            }),
        ]
    }

    /// The history up to (not including) the event at `index`.
    fn until(index: usize) -> Vec<Event> {
        history().into_iter().take(index).collect()
    }

    fn approve(on: Date) -> Command {
        Command::Approve(Approve {
            approved_on: on,
            reference: text("本政地〔2025〕3号"),
        })
    }

    #[test]
    fn the_whole_procedure_publishes_the_standard_name() {
        let commands = [
            Command::Propose(propose()),
            Command::RecordEvaluation(RecordEvaluation {
                favourable: true,
                summary: text("符合命名规则"),
                evaluated_on: date!(2025 - 03 - 20),
            }),
            Command::OpenCommentPeriod(OpenCommentPeriod {
                opened_on: date!(2025 - 04 - 01),
                closes_on: date!(2025 - 04 - 30),
            }),
            Command::RecordComment(RecordComment {
                summary: text("赞成"),
                received_on: date!(2025 - 04 - 10),
            }),
            Command::CloseCommentPeriod(CloseCommentPeriod {
                closed_on: date!(2025 - 04 - 30),
            }),
            approve(date!(2025 - 05 - 15)),
            Command::Publish(Publish {
                published_on: date!(2025 - 06 - 01),
            }),
        ];
        for (index, command) in commands.into_iter().enumerate() {
            given::<PlaceName>(until(index))
                .when(command)
                .then([history()[index].clone()]);
        }
        let state = given::<PlaceName>(history());
        assert_eq!(
            state.state().status(),
            Some(Status::Published {
                on: date!(2025 - 06 - 01)
            })
        );
    }

    #[test]
    fn cannot_approve_before_evaluation() {
        given::<PlaceName>(until(1))
            .when(approve(date!(2025 - 05 - 15)))
            .then_refused("not_evaluated");
    }

    #[test]
    fn cannot_approve_while_the_comment_period_is_open() {
        given::<PlaceName>(until(4))
            .when(approve(date!(2025 - 05 - 15)))
            .then_refused("comment_period_open");
    }

    #[test]
    fn cannot_approve_without_a_comment_period_or_before_it_closed() {
        given::<PlaceName>(until(2))
            .when(approve(date!(2025 - 05 - 15)))
            .then_refused("comment_period_not_held");
        given::<PlaceName>(until(5))
            .when(approve(date!(2025 - 04 - 29)))
            .then_refused("approval_before_comments_closed");
    }

    #[test]
    fn the_comment_period_follows_the_evaluation_and_runs_its_course() {
        let open = |opened_on, closes_on| {
            Command::OpenCommentPeriod(OpenCommentPeriod {
                opened_on,
                closes_on,
            })
        };
        given::<PlaceName>(until(1))
            .when(open(date!(2025 - 04 - 01), date!(2025 - 04 - 30)))
            .then_refused("not_evaluated");
        given::<PlaceName>(until(2))
            .when(open(date!(2025 - 03 - 19), date!(2025 - 04 - 30)))
            .then_refused("before_evaluation");
        given::<PlaceName>(until(2))
            .when(open(date!(2025 - 04 - 01), date!(2025 - 04 - 01)))
            .then_refused("comment_period_empty");
        given::<PlaceName>(until(5))
            .when(open(date!(2025 - 05 - 01), date!(2025 - 05 - 30)))
            .then_refused("comment_period_already_held");
        given::<PlaceName>(until(4))
            .when(Command::CloseCommentPeriod(CloseCommentPeriod {
                closed_on: date!(2025 - 04 - 29),
            }))
            .then_refused("comment_period_not_over");
    }

    #[test]
    fn comments_are_recorded_only_while_the_period_is_open() {
        let comment = |received_on| {
            Command::RecordComment(RecordComment {
                summary: text("建议改名"),
                received_on,
            })
        };
        given::<PlaceName>(until(2))
            .when(comment(date!(2025 - 04 - 10)))
            .then_refused("comment_period_not_open");
        given::<PlaceName>(until(5))
            .when(comment(date!(2025 - 04 - 10)))
            .then_refused("comment_period_not_open");
        given::<PlaceName>(until(3))
            .when(comment(date!(2025 - 05 - 01)))
            .then_refused("outside_comment_period");
    }

    #[test]
    fn closing_counts_the_comments() {
        let state = given::<PlaceName>(until(4))
            .when(Command::CloseCommentPeriod(CloseCommentPeriod {
                closed_on: date!(2025 - 05 - 02),
            }))
            .then([Event::CommentPeriodClosed(CommentPeriodClosed {
                id: id(),
                closed_on: date!(2025 - 05 - 02),
                comment_count: 1,
            })]);
        assert_eq!(state.comment_count(), 1);
    }

    #[test]
    fn publication_needs_approval_on_or_after_its_date() {
        let publish = |published_on| Command::Publish(Publish { published_on });
        given::<PlaceName>(until(5))
            .when(publish(date!(2025 - 06 - 01)))
            .then_refused("not_approved");
        given::<PlaceName>(until(6))
            .when(publish(date!(2025 - 05 - 14)))
            .then_refused("published_before_approval");
    }

    #[test]
    fn retiring_keeps_the_history_and_closes_the_name() {
        let retire = |retired_on| {
            Command::Retire(Retire {
                retired_on,
                reason: text("道路拆除"),
            })
        };
        given::<PlaceName>(until(6))
            .when(retire(date!(2030 - 01 - 01)))
            .then_refused("not_published");
        given::<PlaceName>(history())
            .when(retire(date!(2025 - 06 - 01)))
            .then_refused("retired_before_publication");
        let retired = Event::Retired(Retired {
            id: id(),
            retired_on: date!(2030 - 01 - 01),
            reason: text("道路拆除"),
        });
        let state = given::<PlaceName>(history())
            .when(retire(date!(2030 - 01 - 01)))
            .then([retired.clone()]);
        assert_eq!(
            state.proposal().map(|p| p.name.clone()),
            Some(text("太子河路"))
        );
        let mut events = history();
        events.push(retired);
        given::<PlaceName>(events)
            .when(retire(date!(2031 - 01 - 01)))
            .then_refused("place_name_closed");
    }

    #[test]
    fn a_rejected_name_accepts_nothing_further() {
        let mut events = until(2);
        events.push(Event::Rejected(Rejected {
            id: id(),
            rejected_on: date!(2025 - 03 - 25),
            reason: text("与现有地名重名"),
        }));
        given::<PlaceName>(events.clone())
            .when(Command::OpenCommentPeriod(OpenCommentPeriod {
                opened_on: date!(2025 - 04 - 01),
                closes_on: date!(2025 - 04 - 30),
            }))
            .then_refused("place_name_closed");
        given::<PlaceName>(events)
            .when(approve(date!(2025 - 05 - 15)))
            .then_refused("place_name_closed");
    }

    #[test]
    fn decided_names_take_no_second_decision_and_unknown_names_are_not_found() {
        given::<PlaceName>(until(6))
            .when(Command::Reject(Reject {
                rejected_on: date!(2025 - 05 - 20),
                reason: text("再议"),
            }))
            .then_refused("already_decided");
        given::<PlaceName>(until(1))
            .when(Command::Propose(propose()))
            .then_refused("already_proposed");
        let refusal = given::<PlaceName>([])
            .when(approve(date!(2025 - 05 - 15)))
            .then_refused("place_name_not_found");
        assert_eq!(refusal.kind(), RefusalKind::NotFound);
    }
}
