//! The division (行政区划) aggregate: one administrative division under its 12-digit statistical
//! code, stream `division-<code>`.
//!
//! A division comes into existence by being **recorded**, either by the import of the
//! statistical division codes or because an adjustment established it. The import runs again
//! and again, so recording the same facts twice is a no-op; a different name for a recorded code
//! is refused, because a new name is a rename adjustment (更名), not an import. After that, only
//! an adjustment changes a division: it is **renamed** (same code, new name) or **superseded**
//! (a merger, split, recode or change of type ends it and names its successors). A superseded
//! division is never deleted: its state keeps `valid_from`, `valid_to` and `superseded_by`, which
//! the [`crate::lineage`] resolver follows.
//!
//! What this aggregate cannot see: other divisions. That a parent exists, or that the successors
//! of a supersession were recorded, is checked by whoever issues the commands (the import and the
//! adjustment process manager, later slices).

use minzheng_kit::aggregate::{Aggregate, DomainError, RefusalKind};
use minzheng_types::{BoundedText, RegionCode, RegionLevel};
use time::Date;

use crate::{AdjustmentId, lineage::DivisionRecord};

/// The state of one division; `Default` is a division not recorded yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Division {
    recorded: Option<State>,
}

/// The facts about a recorded division.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub code: RegionCode,
    /// The current name (or the last one, for a superseded division).
    pub name: BoundedText,
    pub parent: Option<RegionCode>,
    /// The first day the division is valid.
    pub valid_from: Date,
    /// The first day it is no longer valid; `None` while it is active.
    pub valid_to: Option<Date>,
    /// The codes that took its place; empty while it is active.
    pub superseded_by: Vec<RegionCode>,
}

impl State {
    pub fn level(&self) -> RegionLevel {
        self.code.level()
    }

    pub fn is_active(&self) -> bool {
        self.valid_to.is_none()
    }
}

impl Division {
    /// The recorded facts, `None` before the division is recorded.
    pub fn state(&self) -> Option<&State> {
        self.recorded.as_ref()
    }

    /// What the lineage resolver needs to know about this division.
    pub fn lineage_record(&self) -> Option<DivisionRecord> {
        self.recorded.as_ref().map(|s| DivisionRecord {
            code: s.code,
            valid_from: s.valid_from,
            valid_to: s.valid_to,
            superseded_by: s.superseded_by.clone(),
        })
    }
}

/// What can be asked of a division.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Record(Record),
    Rename(Rename),
    Supersede(Supersede),
}

/// Record a division (import, or establishment by an adjustment). The level and parent are
/// stated, not computed, so that an import file whose columns disagree with its codes is caught.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub code: RegionCode,
    pub name: BoundedText,
    pub level: RegionLevel,
    pub parent: Option<RegionCode>,
    pub valid_from: Date,
    /// The adjustment that establishes it; `None` for the import.
    pub adjustment: Option<AdjustmentId>,
}

/// Rename the division from a date, as an adjustment decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub name: BoundedText,
    pub effective_on: Date,
    pub adjustment: AdjustmentId,
}

/// End the division from `valid_to` and name its successors, as an adjustment decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supersede {
    pub successors: Vec<RegionCode>,
    pub valid_to: Date,
    pub adjustment: AdjustmentId,
}

/// What happened to a division.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Recorded(Recorded),
    Renamed(Renamed),
    Superseded(Superseded),
}

/// A division was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub code: RegionCode,
    pub name: BoundedText,
    pub parent: Option<RegionCode>,
    pub valid_from: Date,
    pub adjustment: Option<AdjustmentId>,
}

/// A division got a new name; its code is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    pub code: RegionCode,
    pub previous_name: BoundedText,
    pub name: BoundedText,
    pub effective_on: Date,
    pub adjustment: AdjustmentId,
}

/// A division ceased to exist and was superseded by its successors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superseded {
    pub code: RegionCode,
    pub successors: Vec<RegionCode>,
    pub valid_to: Date,
    pub adjustment: AdjustmentId,
}

/// A rule that refused a division command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("division {code} is at {actual} level, not {stated}")]
    LevelMismatch {
        code: RegionCode,
        stated: RegionLevel,
        actual: RegionLevel,
    },
    #[error(
        "the parent of division {code} must be a division above it whose code is a prefix of \
         its code (a province has none), not {}",
        show(*.stated)
    )]
    ParentMismatch {
        code: RegionCode,
        stated: Option<RegionCode>,
    },
    #[error("division {code} is recorded under another name; a new name needs a rename adjustment")]
    RenameRequiresAdjustment { code: RegionCode },
    #[error("division {code} is recorded as valid from another date")]
    ValidFromDiffers { code: RegionCode },
    #[error("division {code} was superseded and cannot change")]
    Retired { code: RegionCode },
    #[error("division is not recorded")]
    NotFound,
    #[error("division {code} already has that name")]
    NameUnchanged { code: RegionCode },
    #[error("the date is before division {code} became valid")]
    BeforeValidFrom { code: RegionCode },
    #[error("a superseded division needs at least one successor")]
    NoSuccessors,
    #[error("division {code} cannot succeed itself")]
    SupersededByItself { code: RegionCode },
    #[error("successor {successor} is not at the {level} level of the division it succeeds")]
    SuccessorLevelDiffers {
        successor: RegionCode,
        level: RegionLevel,
    },
}

fn show(code: Option<RegionCode>) -> String {
    code.map_or_else(|| "none".to_owned(), |c| c.to_string())
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::LevelMismatch { .. } => "level_mismatch",
            Error::ParentMismatch { .. } => "parent_mismatch",
            Error::RenameRequiresAdjustment { .. } => "rename_requires_adjustment",
            Error::ValidFromDiffers { .. } => "valid_from_differs",
            Error::Retired { .. } => "division_retired",
            Error::NotFound => "division_not_found",
            Error::NameUnchanged { .. } => "name_unchanged",
            Error::BeforeValidFrom { .. } => "before_valid_from",
            Error::NoSuccessors => "no_successors",
            Error::SupersededByItself { .. } => "superseded_by_itself",
            Error::SuccessorLevelDiffers { .. } => "successor_level_differs",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            Error::NotFound => RefusalKind::NotFound,
            _ => RefusalKind::FailedPrecondition,
        }
    }
}

impl Aggregate for Division {
    const CATEGORY: &'static str = "division";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Record(record) => self.record(record),
            Command::Rename(rename) => {
                let state = self.active()?;
                if rename.name == state.name {
                    return Err(Error::NameUnchanged { code: state.code });
                }
                if rename.effective_on < state.valid_from {
                    return Err(Error::BeforeValidFrom { code: state.code });
                }
                Ok(vec![Event::Renamed(Renamed {
                    code: state.code,
                    previous_name: state.name.clone(),
                    name: rename.name.clone(),
                    effective_on: rename.effective_on,
                    adjustment: rename.adjustment.clone(),
                })])
            }
            Command::Supersede(supersede) => {
                let state = self.active()?;
                if supersede.successors.is_empty() {
                    return Err(Error::NoSuccessors);
                }
                if supersede.successors.contains(&state.code) {
                    return Err(Error::SupersededByItself { code: state.code });
                }
                if let Some(&successor) = supersede
                    .successors
                    .iter()
                    .find(|s| s.level() != state.level())
                {
                    return Err(Error::SuccessorLevelDiffers {
                        successor,
                        level: state.level(),
                    });
                }
                // The last valid day must be on or after the first: `valid_to` is exclusive.
                if supersede.valid_to <= state.valid_from {
                    return Err(Error::BeforeValidFrom { code: state.code });
                }
                Ok(vec![Event::Superseded(Superseded {
                    code: state.code,
                    successors: supersede.successors.clone(),
                    valid_to: supersede.valid_to,
                    adjustment: supersede.adjustment.clone(),
                })])
            }
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Recorded(e) => {
                self.recorded = Some(State {
                    code: e.code,
                    name: e.name.clone(),
                    parent: e.parent,
                    valid_from: e.valid_from,
                    valid_to: None,
                    superseded_by: Vec::new(),
                });
            }
            Event::Renamed(e) => {
                if let Some(state) = &mut self.recorded {
                    state.name = e.name.clone();
                }
            }
            Event::Superseded(e) => {
                if let Some(state) = &mut self.recorded {
                    state.valid_to = Some(e.valid_to);
                    state.superseded_by = e.successors.clone();
                }
            }
        }
        self
    }
}

impl Division {
    fn record(&self, record: &Record) -> Result<Vec<Event>, Error> {
        let code = record.code;
        if record.level != code.level() {
            return Err(Error::LevelMismatch {
                code,
                stated: record.level,
                actual: code.level(),
            });
        }
        if !encloses(record.parent, code) {
            return Err(Error::ParentMismatch {
                code,
                stated: record.parent,
            });
        }
        match &self.recorded {
            None => Ok(vec![Event::Recorded(Recorded {
                code,
                name: record.name.clone(),
                parent: record.parent,
                valid_from: record.valid_from,
                adjustment: record.adjustment.clone(),
            })]),
            Some(state) if !state.is_active() => Err(Error::Retired { code }),
            Some(state) if state.name != record.name => {
                Err(Error::RenameRequiresAdjustment { code })
            }
            Some(state) if state.valid_from != record.valid_from => {
                Err(Error::ValidFromDiffers { code })
            }
            // The same facts again: the import is idempotent.
            Some(_) => Ok(Vec::new()),
        }
    }

    fn active(&self) -> Result<&State, Error> {
        match &self.recorded {
            None => Err(Error::NotFound),
            Some(state) if !state.is_active() => Err(Error::Retired { code: state.code }),
            Some(state) => Ok(state),
        }
    }
}

/// Whether `parent` may be the parent of `code`: none for a province; otherwise a division at a
/// higher level whose code is a prefix of `code`. The parent is usually the code with its lowest
/// segment zeroed ([`RegionCode::parent`]), but may skip a level: a county administered directly
/// by its province (省直辖县级行政区, e.g. 429004 under 420000) has the province as parent.
pub fn encloses(parent: Option<RegionCode>, code: RegionCode) -> bool {
    match parent {
        None => code.parent().is_none(),
        Some(parent) => parent.level() < code.level() && parent.contains(code),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;

    pub(crate) fn code(digits: &str) -> RegionCode {
        RegionCode::parse(digits).expect("test codes are valid")
    }

    pub(crate) fn name(text: &str) -> BoundedText {
        BoundedText::parse(text, crate::NAME_MAX_CHARS).expect("test names are valid")
    }

    pub(crate) fn adjustment_id(id: &str) -> AdjustmentId {
        AdjustmentId::parse(id).expect("test ids are valid")
    }

    const DONGYINGFANG: &str = "210521202000";
    const BENXI_COUNTY: &str = "210521000000";

    fn import_dongyingfang() -> Record {
        Record {
            code: code(DONGYINGFANG),
            name: name("东营坊乡"),
            level: RegionLevel::Township,
            parent: Some(code(BENXI_COUNTY)),
            valid_from: date!(2020 - 06 - 30),
            adjustment: None,
        }
    }

    fn dongyingfang_recorded() -> Event {
        Event::Recorded(Recorded {
            code: code(DONGYINGFANG),
            name: name("东营坊乡"),
            parent: Some(code(BENXI_COUNTY)),
            valid_from: date!(2020 - 06 - 30),
            adjustment: None,
        })
    }

    fn superseded_by_town() -> Event {
        Event::Superseded(Superseded {
            code: code(DONGYINGFANG),
            successors: vec![code("210521113000")],
            valid_to: date!(2025 - 07 - 01),
            adjustment: adjustment_id("BX-2025-001"),
        })
    }

    #[test]
    fn importing_a_new_division_records_it() {
        let state = given::<Division>([])
            .when(Command::Record(import_dongyingfang()))
            .then([dongyingfang_recorded()]);
        let recorded = state.state().expect("recorded");
        assert_eq!(recorded.level(), RegionLevel::Township);
        assert!(recorded.is_active());
    }

    #[test]
    fn importing_the_same_facts_again_is_a_no_op() {
        given::<Division>([dongyingfang_recorded()])
            .when(Command::Record(import_dongyingfang()))
            .then([]);
    }

    #[test]
    fn a_level_that_does_not_match_the_code_is_refused() {
        given::<Division>([])
            .when(Command::Record(Record {
                level: RegionLevel::Village,
                ..import_dongyingfang()
            }))
            .then_refused("level_mismatch");
    }

    #[test]
    fn a_parent_that_is_not_the_code_prefix_is_refused() {
        given::<Division>([])
            .when(Command::Record(Record {
                parent: Some(code("210522000000")),
                ..import_dongyingfang()
            }))
            .then_refused("parent_mismatch");
        given::<Division>([])
            .when(Command::Record(Record {
                parent: None,
                ..import_dongyingfang()
            }))
            .then_refused("parent_mismatch");
    }

    #[test]
    fn a_county_administered_by_its_province_may_skip_the_city() {
        let xiantao = Record {
            code: code("429004000000"),
            name: name("仙桃市"),
            level: RegionLevel::County,
            parent: Some(code("420000000000")),
            valid_from: date!(2024 - 01 - 01),
            adjustment: None,
        };
        let recorded = given::<Division>([])
            .when(Command::Record(xiantao.clone()))
            .outcome()
            .clone()
            .expect("a province may be the parent of a county");
        assert_eq!(recorded.len(), 1);
        given::<Division>([])
            .when(Command::Record(Record {
                parent: Some(code("430000000000")),
                ..xiantao
            }))
            .then_refused("parent_mismatch");
    }

    #[test]
    fn a_province_has_no_parent() {
        given::<Division>([])
            .when(Command::Record(Record {
                code: code("210000000000"),
                name: name("辽宁省"),
                level: RegionLevel::Province,
                parent: None,
                valid_from: date!(2020 - 06 - 30),
                adjustment: None,
            }))
            .then([Event::Recorded(Recorded {
                code: code("210000000000"),
                name: name("辽宁省"),
                parent: None,
                valid_from: date!(2020 - 06 - 30),
                adjustment: None,
            })]);
    }

    #[test]
    fn importing_another_name_for_an_active_code_is_refused() {
        given::<Division>([dongyingfang_recorded()])
            .when(Command::Record(Record {
                name: name("东营坊镇"),
                ..import_dongyingfang()
            }))
            .then_refused("rename_requires_adjustment");
    }

    #[test]
    fn importing_another_valid_from_is_refused() {
        given::<Division>([dongyingfang_recorded()])
            .when(Command::Record(Record {
                valid_from: date!(2021 - 01 - 01),
                ..import_dongyingfang()
            }))
            .then_refused("valid_from_differs");
    }

    #[test]
    fn a_superseded_division_is_kept_with_its_lineage_and_accepts_no_change() {
        let retired = given::<Division>([dongyingfang_recorded(), superseded_by_town()]);
        let state = retired.state().state().expect("kept after supersession");
        assert_eq!(state.valid_to, Some(date!(2025 - 07 - 01)));
        assert_eq!(state.superseded_by, vec![code("210521113000")]);
        assert_eq!(state.name, name("东营坊乡"));
        retired
            .when(Command::Record(import_dongyingfang()))
            .then_refused("division_retired");
        given::<Division>([dongyingfang_recorded(), superseded_by_town()])
            .when(Command::Rename(Rename {
                name: name("东营坊镇"),
                effective_on: date!(2025 - 08 - 01),
                adjustment: adjustment_id("BX-2025-002"),
            }))
            .then_refused("division_retired");
    }

    #[test]
    fn a_rename_keeps_the_code_and_records_the_previous_name() {
        let state = given::<Division>([dongyingfang_recorded()])
            .when(Command::Rename(Rename {
                name: name("东营坊满族乡"),
                effective_on: date!(2025 - 07 - 01),
                adjustment: adjustment_id("BX-2025-003"),
            }))
            .then([Event::Renamed(Renamed {
                code: code(DONGYINGFANG),
                previous_name: name("东营坊乡"),
                name: name("东营坊满族乡"),
                effective_on: date!(2025 - 07 - 01),
                adjustment: adjustment_id("BX-2025-003"),
            })]);
        assert_eq!(
            state.state().map(|s| s.name.clone()),
            Some(name("东营坊满族乡"))
        );
    }

    #[test]
    fn renaming_to_the_same_name_or_an_unrecorded_division_is_refused() {
        let rename = Rename {
            name: name("东营坊乡"),
            effective_on: date!(2025 - 07 - 01),
            adjustment: adjustment_id("BX-2025-003"),
        };
        given::<Division>([dongyingfang_recorded()])
            .when(Command::Rename(rename.clone()))
            .then_refused("name_unchanged");
        let refusal = given::<Division>([])
            .when(Command::Rename(rename))
            .then_refused("division_not_found");
        assert_eq!(refusal.kind(), RefusalKind::NotFound);
    }

    #[test]
    fn supersession_rules() {
        let supersede = |successors: Vec<RegionCode>, valid_to| {
            Command::Supersede(Supersede {
                successors,
                valid_to,
                adjustment: adjustment_id("BX-2025-001"),
            })
        };
        given::<Division>([dongyingfang_recorded()])
            .when(supersede(vec![code("210521113000")], date!(2025 - 07 - 01)))
            .then([superseded_by_town()]);
        given::<Division>([dongyingfang_recorded()])
            .when(supersede(vec![], date!(2025 - 07 - 01)))
            .then_refused("no_successors");
        given::<Division>([dongyingfang_recorded()])
            .when(supersede(vec![code(DONGYINGFANG)], date!(2025 - 07 - 01)))
            .then_refused("superseded_by_itself");
        given::<Division>([dongyingfang_recorded()])
            .when(supersede(vec![code(BENXI_COUNTY)], date!(2025 - 07 - 01)))
            .then_refused("successor_level_differs");
        given::<Division>([dongyingfang_recorded()])
            .when(supersede(vec![code("210521113000")], date!(2020 - 06 - 30)))
            .then_refused("before_valid_from");
    }
}
