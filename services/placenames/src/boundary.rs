//! The boundary-line (行政区域界线) aggregate: one boundary between two divisions and its joint
//! inspection rounds (界线联合检查, 联检), stream `boundary-<id>`.
//!
//! The plan (ch. 6 §2) asks to complete the fourth round of Benxi's boundary inspections and
//! start the fifth, so what is recorded here is the life of a line in the register:
//!
//! 1. **record** the boundary between two divisions of one level (two counties, two townships);
//!    they must differ, and villages have no administrative boundary line. The pair is kept in
//!    ascending code order, so a line reads the same whichever side reported it;
//! 2. **start** an inspection round. Rounds are numbered as the province numbers them and follow
//!    one another: a round starts only when the previous one is completed, with the next number,
//!    not before the previous one's completion day. The first round recorded on a boundary may
//!    carry any number, because the rounds before the register are not in it (a line entered
//!    while the fifth round runs starts at five);
//! 3. **record findings** while the round is open, each numbered within its round: a damaged or
//!    missing boundary marker (界桩), a disputed stretch (界线争议), or anything else;
//! 4. **resolve** a finding (a marker repaired, a dispute settled), during or after its round: a
//!    dispute can outlast the round that found it;
//! 5. **complete** the round with its conclusion, not before it started or before its last
//!    finding. Unresolved findings stay open; the completion event counts them.
//!
//! The state answers the questions the bureau asks of a line: which round is open, which was the
//! last completed, and how many findings are still open.
//!
//! The day a boundary is recorded is the day the register took it on, not the day the line was
//! fixed, so round dates are not compared with it: the round in progress when the register was
//! set up started before. Nothing is deleted. What this aggregate cannot see: whether the two
//! divisions exist and are active, and whether they really are neighbours; the application
//! layer checks that against the division directory. Changes of the line itself (界线变更,
//! 勘定 after an adjustment) are a later slice.

use std::{collections::BTreeMap, num::NonZeroU32};

use minzheng_kit::aggregate::{Aggregate, DomainError, RefusalKind};
use minzheng_types::{BoundedText, RegionCode, RegionLevel};
use time::Date;

use crate::ids::BoundaryId;

/// What an inspection found on the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    /// 界桩损坏: a boundary marker is damaged.
    MarkerDamaged,
    /// 界桩缺失: a boundary marker is missing or was moved.
    MarkerMissing,
    /// 界线争议: the two sides dispute the course of the line.
    Disputed,
    /// Anything else, described in the finding.
    Other,
}

impl FindingKind {
    pub const ALL: [FindingKind; 4] = [
        FindingKind::MarkerDamaged,
        FindingKind::MarkerMissing,
        FindingKind::Disputed,
        FindingKind::Other,
    ];
}

/// The round being inspected now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenRound {
    pub round: NonZeroU32,
    pub started_on: Date,
    /// Findings recorded in this round so far.
    pub finding_count: u32,
    /// The day of the latest finding in this round.
    pub last_finding_on: Option<Date>,
}

/// The last round that was completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletedRound {
    pub round: NonZeroU32,
    pub started_on: Date,
    pub completed_on: Date,
}

/// One finding of an inspection round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    pub recorded_on: Date,
    /// `None` while the finding is open.
    pub resolved_on: Option<Date>,
}

/// The state of one boundary; `Default` is a boundary not recorded yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Boundary {
    recorded: Option<Recorded>,
    open_round: Option<OpenRound>,
    last_completed: Option<CompletedRound>,
    /// Every finding of every round, by (round, number within the round).
    findings: BTreeMap<(NonZeroU32, NonZeroU32), Finding>,
}

impl Boundary {
    /// The recorded facts, `None` before the boundary is recorded.
    pub fn recorded(&self) -> Option<&Recorded> {
        self.recorded.as_ref()
    }

    /// The round being inspected, if any.
    pub fn open_round(&self) -> Option<OpenRound> {
        self.open_round
    }

    /// The last completed round, if any was recorded.
    pub fn last_completed_round(&self) -> Option<CompletedRound> {
        self.last_completed
    }

    /// Findings of any round that are not resolved yet.
    pub fn open_finding_count(&self) -> usize {
        self.findings
            .values()
            .filter(|f| f.resolved_on.is_none())
            .count()
    }

    pub fn finding(&self, round: NonZeroU32, finding: NonZeroU32) -> Option<&Finding> {
        self.findings.get(&(round, finding))
    }
}

/// What can be asked of a boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    RecordBoundary(RecordBoundary),
    StartInspectionRound(StartInspectionRound),
    RecordFinding(RecordFinding),
    ResolveFinding(ResolveFinding),
    CompleteInspectionRound(CompleteInspectionRound),
}

/// Record a boundary line in the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordBoundary {
    pub id: BoundaryId,
    /// The two divisions the line separates, in any order.
    pub between: [RegionCode; 2],
    /// The line's course, length or markers, as the register describes it.
    pub description: Option<BoundedText>,
    pub recorded_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartInspectionRound {
    pub round: NonZeroU32,
    pub started_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFinding {
    /// The open round it belongs to.
    pub round: NonZeroU32,
    pub kind: FindingKind,
    pub description: BoundedText,
    pub recorded_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveFinding {
    pub round: NonZeroU32,
    /// The finding's number within its round.
    pub finding: NonZeroU32,
    pub resolution: BoundedText,
    pub resolved_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteInspectionRound {
    pub round: NonZeroU32,
    pub completed_on: Date,
    pub conclusion: BoundedText,
}

/// What happened to a boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Recorded(Recorded),
    RoundStarted(RoundStarted),
    FindingRecorded(FindingRecorded),
    FindingResolved(FindingResolved),
    RoundCompleted(RoundCompleted),
}

/// A boundary was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub id: BoundaryId,
    /// In ascending code order.
    pub between: [RegionCode; 2],
    pub description: Option<BoundedText>,
    pub recorded_on: Date,
}

/// An inspection round started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundStarted {
    pub id: BoundaryId,
    pub round: NonZeroU32,
    pub started_on: Date,
}

/// A finding was recorded in the open round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRecorded {
    pub id: BoundaryId,
    pub round: NonZeroU32,
    /// Its number within the round, from 1.
    pub finding: NonZeroU32,
    pub kind: FindingKind,
    pub description: BoundedText,
    pub recorded_on: Date,
}

/// A finding was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingResolved {
    pub id: BoundaryId,
    pub round: NonZeroU32,
    pub finding: NonZeroU32,
    pub resolution: BoundedText,
    pub resolved_on: Date,
}

/// An inspection round was completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundCompleted {
    pub id: BoundaryId,
    pub round: NonZeroU32,
    pub completed_on: Date,
    pub conclusion: BoundedText,
    /// Findings recorded in the round.
    pub finding_count: u32,
    /// Of those, how many were unresolved at completion.
    pub open_finding_count: u32,
}

/// A rule that refused a boundary command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the boundary has not been recorded")]
    NotFound,
    #[error("the boundary has already been recorded")]
    AlreadyRecorded,
    #[error("a boundary lies between two different divisions")]
    SameDivision,
    #[error("a boundary lies between divisions of one level, not {first} and {second}")]
    LevelsDiffer {
        first: RegionLevel,
        second: RegionLevel,
    },
    #[error("villages have no administrative boundary line (行政区域界线)")]
    VillageLevel,
    #[error("inspection round {round} is still open; complete it first")]
    RoundOpen { round: NonZeroU32 },
    #[error("round {last} was the last completed, so the next round is {expected}")]
    RoundNotConsecutive { last: NonZeroU32, expected: u64 },
    #[error("a round cannot start before the previous round was completed")]
    StartedBeforePreviousCompleted,
    #[error("inspection round {round} is not open")]
    RoundNotOpen { round: NonZeroU32 },
    #[error("the date is before the inspection round started")]
    BeforeRoundStarted,
    #[error("round {round} has no finding {finding}")]
    FindingNotFound {
        round: NonZeroU32,
        finding: NonZeroU32,
    },
    #[error("the finding has already been resolved")]
    FindingAlreadyResolved,
    #[error("a finding cannot be resolved before it was recorded")]
    ResolvedBeforeFound,
    #[error("a round cannot be completed before it started")]
    CompletedBeforeStarted,
    #[error("a round cannot be completed before its last finding was recorded")]
    CompletedBeforeFinding,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NotFound => "boundary_not_found",
            Error::AlreadyRecorded => "already_recorded",
            Error::SameDivision => "same_division",
            Error::LevelsDiffer { .. } => "levels_differ",
            Error::VillageLevel => "village_level",
            Error::RoundOpen { .. } => "round_open",
            Error::RoundNotConsecutive { .. } => "round_not_consecutive",
            Error::StartedBeforePreviousCompleted => "started_before_previous_completed",
            Error::RoundNotOpen { .. } => "round_not_open",
            Error::BeforeRoundStarted => "before_round_started",
            Error::FindingNotFound { .. } => "finding_not_found",
            Error::FindingAlreadyResolved => "finding_already_resolved",
            Error::ResolvedBeforeFound => "resolved_before_found",
            Error::CompletedBeforeStarted => "completed_before_started",
            Error::CompletedBeforeFinding => "completed_before_finding",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            Error::NotFound | Error::FindingNotFound { .. } => RefusalKind::NotFound,
            _ => RefusalKind::FailedPrecondition,
        }
    }
}

/// The two divisions of a boundary in ascending code order, if a boundary may lie between them:
/// different divisions of one level above the village. The codec applies the same rule to
/// stored events.
pub fn between(a: RegionCode, b: RegionCode) -> Result<[RegionCode; 2], Error> {
    if a == b {
        return Err(Error::SameDivision);
    }
    if a.level() != b.level() {
        return Err(Error::LevelsDiffer {
            first: a.level(),
            second: b.level(),
        });
    }
    if a.level() == RegionLevel::Village {
        return Err(Error::VillageLevel);
    }
    Ok(if a < b { [a, b] } else { [b, a] })
}

impl Aggregate for Boundary {
    const CATEGORY: &'static str = "boundary";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let Command::RecordBoundary(c) = command else {
            return self.inspect(command);
        };
        if self.recorded.is_some() {
            return Err(Error::AlreadyRecorded);
        }
        let [a, b] = c.between;
        Ok(vec![Event::Recorded(Recorded {
            id: c.id.clone(),
            between: between(a, b)?,
            description: c.description.clone(),
            recorded_on: c.recorded_on,
        })])
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Recorded(e) => self.recorded = Some(e.clone()),
            Event::RoundStarted(e) => {
                self.open_round = Some(OpenRound {
                    round: e.round,
                    started_on: e.started_on,
                    finding_count: 0,
                    last_finding_on: None,
                });
            }
            Event::FindingRecorded(e) => {
                self.findings.insert(
                    (e.round, e.finding),
                    Finding {
                        kind: e.kind,
                        recorded_on: e.recorded_on,
                        resolved_on: None,
                    },
                );
                if let Some(open) = &mut self.open_round {
                    open.finding_count = open.finding_count.saturating_add(1);
                    open.last_finding_on = Some(e.recorded_on);
                }
            }
            Event::FindingResolved(e) => {
                if let Some(finding) = self.findings.get_mut(&(e.round, e.finding)) {
                    finding.resolved_on = Some(e.resolved_on);
                }
            }
            Event::RoundCompleted(e) => {
                if let Some(open) = self.open_round.take() {
                    self.last_completed = Some(CompletedRound {
                        round: e.round,
                        started_on: open.started_on,
                        completed_on: e.completed_on,
                    });
                }
            }
        }
        self
    }
}

impl Boundary {
    /// Every command after the boundary is recorded.
    fn inspect(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let Some(recorded) = &self.recorded else {
            return Err(Error::NotFound);
        };
        let id = recorded.id.clone();
        // The open round, if it is the one the command names.
        let open = |round: NonZeroU32| match self.open_round {
            Some(open) if open.round == round => Ok(open),
            _ => Err(Error::RoundNotOpen { round }),
        };
        match command {
            Command::RecordBoundary(_) => Err(Error::AlreadyRecorded),
            Command::StartInspectionRound(c) => {
                if let Some(open) = self.open_round {
                    return Err(Error::RoundOpen { round: open.round });
                }
                if let Some(last) = self.last_completed {
                    let expected = u64::from(last.round.get()) + 1;
                    if u64::from(c.round.get()) != expected {
                        return Err(Error::RoundNotConsecutive {
                            last: last.round,
                            expected,
                        });
                    }
                    if c.started_on < last.completed_on {
                        return Err(Error::StartedBeforePreviousCompleted);
                    }
                }
                Ok(vec![Event::RoundStarted(RoundStarted {
                    id,
                    round: c.round,
                    started_on: c.started_on,
                })])
            }
            Command::RecordFinding(c) => {
                let open = open(c.round)?;
                if c.recorded_on < open.started_on {
                    return Err(Error::BeforeRoundStarted);
                }
                Ok(vec![Event::FindingRecorded(FindingRecorded {
                    id,
                    round: c.round,
                    finding: NonZeroU32::MIN.saturating_add(open.finding_count),
                    kind: c.kind,
                    description: c.description.clone(),
                    recorded_on: c.recorded_on,
                })])
            }
            Command::ResolveFinding(c) => {
                let Some(finding) = self.finding(c.round, c.finding) else {
                    return Err(Error::FindingNotFound {
                        round: c.round,
                        finding: c.finding,
                    });
                };
                if finding.resolved_on.is_some() {
                    return Err(Error::FindingAlreadyResolved);
                }
                if c.resolved_on < finding.recorded_on {
                    return Err(Error::ResolvedBeforeFound);
                }
                Ok(vec![Event::FindingResolved(FindingResolved {
                    id,
                    round: c.round,
                    finding: c.finding,
                    resolution: c.resolution.clone(),
                    resolved_on: c.resolved_on,
                })])
            }
            Command::CompleteInspectionRound(c) => {
                let open = open(c.round)?;
                if c.completed_on < open.started_on {
                    return Err(Error::CompletedBeforeStarted);
                }
                if open
                    .last_finding_on
                    .is_some_and(|last| c.completed_on < last)
                {
                    return Err(Error::CompletedBeforeFinding);
                }
                let open_finding_count = self
                    .findings
                    .range((c.round, NonZeroU32::MIN)..=(c.round, NonZeroU32::MAX))
                    .filter(|(_, f)| f.resolved_on.is_none())
                    .count();
                Ok(vec![Event::RoundCompleted(RoundCompleted {
                    id,
                    round: c.round,
                    completed_on: c.completed_on,
                    conclusion: c.conclusion.clone(),
                    finding_count: open.finding_count,
                    open_finding_count: u32::try_from(open_finding_count).unwrap_or(u32::MAX),
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

    pub(crate) fn n(value: u32) -> NonZeroU32 {
        NonZeroU32::new(value).expect("test numbers are not zero")
    }

    fn id() -> BoundaryId {
        BoundaryId::parse("210502-210503").expect("valid")
    }

    /// 平山区 and 溪湖区, two districts of Benxi.
    const PINGSHAN: &str = "210502000000";
    const XIHU: &str = "210503000000";

    fn record(a: &str, b: &str) -> Command {
        Command::RecordBoundary(RecordBoundary {
            id: id(),
            between: [code(a), code(b)],
            description: Some(text("自太子河北岸至平顶山南麓，界桩12颗")),
            recorded_on: date!(2025 - 01 - 10),
        })
    }

    fn start(round: u32, started_on: Date) -> Command {
        Command::StartInspectionRound(StartInspectionRound {
            round: n(round),
            started_on,
        })
    }

    /// What an inspector might write for each kind of finding.
    pub(crate) fn description(kind: FindingKind) -> BoundedText {
        text(match kind {
            FindingKind::MarkerDamaged => "3号界桩倾斜，碑面字迹模糊",
            FindingKind::MarkerMissing => "7号界桩缺失",
            FindingKind::Disputed => "3号至4号界桩间一段走向双方认定不一",
            FindingKind::Other => "界线附近新建道路，需更新界线详图",
        })
    }

    fn find(round: u32, kind: FindingKind, recorded_on: Date) -> Command {
        Command::RecordFinding(RecordFinding {
            round: n(round),
            kind,
            description: description(kind),
            recorded_on,
        })
    }

    fn resolve(round: u32, finding: u32, resolved_on: Date) -> Command {
        Command::ResolveFinding(ResolveFinding {
            round: n(round),
            finding: n(finding),
            resolution: text("已扶正并重新描字"),
            resolved_on,
        })
    }

    fn complete(round: u32, completed_on: Date) -> Command {
        Command::CompleteInspectionRound(CompleteInspectionRound {
            round: n(round),
            completed_on,
            conclusion: text("界线清晰，界桩完好"),
        })
    }

    /// The register takes on the line while the fourth round runs; it finds two things, resolves
    /// one, completes, and the fifth round starts.
    pub(crate) fn history() -> Vec<Event> {
        vec![
            Event::Recorded(Recorded {
                id: id(),
                between: [code(PINGSHAN), code(XIHU)],
                description: Some(text("自太子河北岸至平顶山南麓，界桩12颗")),
                recorded_on: date!(2025 - 01 - 10),
            }),
            Event::RoundStarted(RoundStarted {
                id: id(),
                round: n(4),
                started_on: date!(2024 - 05 - 01),
            }),
            Event::FindingRecorded(FindingRecorded {
                id: id(),
                round: n(4),
                finding: n(1),
                kind: FindingKind::MarkerDamaged,
                description: description(FindingKind::MarkerDamaged),
                recorded_on: date!(2025 - 04 - 12),
            }),
            Event::FindingRecorded(FindingRecorded {
                id: id(),
                round: n(4),
                finding: n(2),
                kind: FindingKind::Disputed,
                description: description(FindingKind::Disputed),
                recorded_on: date!(2025 - 04 - 20),
            }),
            Event::FindingResolved(FindingResolved {
                id: id(),
                round: n(4),
                finding: n(1),
                resolution: text("已扶正并重新描字"),
                resolved_on: date!(2025 - 05 - 08),
            }),
            Event::RoundCompleted(RoundCompleted {
                id: id(),
                round: n(4),
                completed_on: date!(2025 - 06 - 30),
                conclusion: text("界线清晰，界桩完好"),
                finding_count: 2,
                open_finding_count: 1,
            }),
            Event::RoundStarted(RoundStarted {
                id: id(),
                round: n(5),
                started_on: date!(2025 - 09 - 01),
            }),
        ]
    }

    /// The history up to (not including) the event at `index`.
    fn until(index: usize) -> Vec<Event> {
        history().into_iter().take(index).collect()
    }

    #[test]
    fn the_fourth_round_is_completed_and_the_fifth_started() {
        let commands = [
            record(XIHU, PINGSHAN),
            start(4, date!(2024 - 05 - 01)),
            find(4, FindingKind::MarkerDamaged, date!(2025 - 04 - 12)),
            find(4, FindingKind::Disputed, date!(2025 - 04 - 20)),
            resolve(4, 1, date!(2025 - 05 - 08)),
            complete(4, date!(2025 - 06 - 30)),
            start(5, date!(2025 - 09 - 01)),
        ];
        for (index, command) in commands.into_iter().enumerate() {
            given::<Boundary>(until(index))
                .when(command)
                .then([history()[index].clone()]);
        }
        let state = given::<Boundary>(history());
        let boundary = state.state();
        assert_eq!(boundary.open_round().map(|r| r.round), Some(n(5)));
        assert_eq!(
            boundary.last_completed_round(),
            Some(CompletedRound {
                round: n(4),
                started_on: date!(2024 - 05 - 01),
                completed_on: date!(2025 - 06 - 30),
            })
        );
        assert_eq!(boundary.open_finding_count(), 1);
    }

    #[test]
    fn a_boundary_lies_between_two_different_divisions_of_one_level_above_the_village() {
        given::<Boundary>([])
            .when(record(PINGSHAN, PINGSHAN))
            .then_refused("same_division");
        given::<Boundary>([])
            .when(record(PINGSHAN, "210503001000"))
            .then_refused("levels_differ");
        given::<Boundary>([])
            .when(record("210502001001", "210502001002"))
            .then_refused("village_level");
        given::<Boundary>(until(1))
            .when(record(PINGSHAN, XIHU))
            .then_refused("already_recorded");
    }

    #[test]
    fn the_first_recorded_round_may_have_any_number() {
        for round in [1, 4, 12] {
            given::<Boundary>(until(1))
                .when(start(round, date!(2025 - 01 - 01)))
                .then([Event::RoundStarted(RoundStarted {
                    id: id(),
                    round: n(round),
                    started_on: date!(2025 - 01 - 01),
                })]);
        }
    }

    #[test]
    fn rounds_follow_one_another_consecutively() {
        given::<Boundary>(until(2))
            .when(start(5, date!(2025 - 09 - 01)))
            .then_refused("round_open");
        given::<Boundary>(history())
            .when(start(6, date!(2026 - 01 - 01)))
            .then_refused("round_open");
        for round in [3, 4, 6] {
            given::<Boundary>(until(6))
                .when(start(round, date!(2025 - 09 - 01)))
                .then_refused("round_not_consecutive");
        }
        given::<Boundary>(until(6))
            .when(start(5, date!(2025 - 06 - 29)))
            .then_refused("started_before_previous_completed");
        // The next round may start the day the previous one completed.
        given::<Boundary>(until(6))
            .when(start(5, date!(2025 - 06 - 30)))
            .then([Event::RoundStarted(RoundStarted {
                id: id(),
                round: n(5),
                started_on: date!(2025 - 06 - 30),
            })]);
    }

    #[test]
    fn findings_are_recorded_only_in_the_open_round_and_numbered_within_it() {
        given::<Boundary>(until(1))
            .when(find(1, FindingKind::Other, date!(2025 - 04 - 12)))
            .then_refused("round_not_open");
        given::<Boundary>(until(2))
            .when(find(5, FindingKind::Other, date!(2025 - 04 - 12)))
            .then_refused("round_not_open");
        given::<Boundary>(until(6))
            .when(find(4, FindingKind::Other, date!(2025 - 07 - 01)))
            .then_refused("round_not_open");
        given::<Boundary>(until(2))
            .when(find(4, FindingKind::Other, date!(2024 - 04 - 30)))
            .then_refused("before_round_started");
        // Numbering starts again in the next round.
        given::<Boundary>(history())
            .when(find(5, FindingKind::MarkerMissing, date!(2025 - 09 - 02)))
            .then([Event::FindingRecorded(FindingRecorded {
                id: id(),
                round: n(5),
                finding: n(1),
                kind: FindingKind::MarkerMissing,
                description: description(FindingKind::MarkerMissing),
                recorded_on: date!(2025 - 09 - 02),
            })]);
    }

    #[test]
    fn a_finding_is_resolved_once_not_before_it_was_found_even_after_its_round() {
        given::<Boundary>(until(4))
            .when(resolve(4, 3, date!(2025 - 05 - 08)))
            .then_refused("finding_not_found");
        let refusal = given::<Boundary>(until(4))
            .when(resolve(5, 1, date!(2025 - 05 - 08)))
            .then_refused("finding_not_found");
        assert_eq!(refusal.kind(), RefusalKind::NotFound);
        given::<Boundary>(until(5))
            .when(resolve(4, 1, date!(2025 - 05 - 09)))
            .then_refused("finding_already_resolved");
        given::<Boundary>(until(4))
            .when(resolve(4, 2, date!(2025 - 04 - 19)))
            .then_refused("resolved_before_found");
        // The dispute outlasts the fourth round and is settled during the fifth.
        let state = given::<Boundary>(history())
            .when(resolve(4, 2, date!(2025 - 10 - 15)))
            .then([Event::FindingResolved(FindingResolved {
                id: id(),
                round: n(4),
                finding: n(2),
                resolution: text("已扶正并重新描字"),
                resolved_on: date!(2025 - 10 - 15),
            })]);
        assert_eq!(state.open_finding_count(), 0);
        assert_eq!(
            state.finding(n(4), n(2)).map(|f| f.resolved_on),
            Some(Some(date!(2025 - 10 - 15)))
        );
    }

    #[test]
    fn a_round_is_completed_while_open_not_before_it_started_or_its_last_finding() {
        given::<Boundary>(until(1))
            .when(complete(4, date!(2025 - 06 - 30)))
            .then_refused("round_not_open");
        given::<Boundary>(until(2))
            .when(complete(3, date!(2025 - 06 - 30)))
            .then_refused("round_not_open");
        given::<Boundary>(until(6))
            .when(complete(4, date!(2025 - 07 - 30)))
            .then_refused("round_not_open");
        given::<Boundary>(until(2))
            .when(complete(4, date!(2024 - 04 - 30)))
            .then_refused("completed_before_started");
        given::<Boundary>(until(4))
            .when(complete(4, date!(2025 - 04 - 19)))
            .then_refused("completed_before_finding");
        // A round without findings completes on the day it started.
        given::<Boundary>(until(2))
            .when(complete(4, date!(2024 - 05 - 01)))
            .then([Event::RoundCompleted(RoundCompleted {
                id: id(),
                round: n(4),
                completed_on: date!(2024 - 05 - 01),
                conclusion: text("界线清晰，界桩完好"),
                finding_count: 0,
                open_finding_count: 0,
            })]);
    }

    #[test]
    fn nothing_happens_to_a_boundary_not_recorded() {
        let refusal = given::<Boundary>([])
            .when(start(5, date!(2025 - 09 - 01)))
            .then_refused("boundary_not_found");
        assert_eq!(refusal.kind(), RefusalKind::NotFound);
        given::<Boundary>([])
            .when(resolve(4, 1, date!(2025 - 05 - 08)))
            .then_refused("boundary_not_found");
    }

    #[test]
    fn the_pair_is_kept_in_ascending_order() {
        assert_eq!(
            between(code(XIHU), code(PINGSHAN)),
            Ok([code(PINGSHAN), code(XIHU)])
        );
    }
}
