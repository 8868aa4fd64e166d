//! The place-name sign (地名标志) aggregate: one sign that shows a standard name (标准地名) on the
//! street, stream `sign-<id>`.
//!
//! The plan (ch. 6 §3) asks to push on with sign installation in town and country (城乡地名设标)
//! and to look after the signs' quality (地名标志设置和质量管理). A sign's life in the register:
//!
//! 1. **install** it: which standard name it shows, the text on it, where it stands (e.g.
//!    "平山路与永丰街交叉口东北角") and the day;
//! 2. **inspect** it, as often as needed: good, damaged or missing, with a note;
//! 3. **replace** it (damaged, missing, or a new design), with the reason and, if it moved, the
//!    new location. The new sign is inspected again like any other: the last condition recorded
//!    belongs to the old sign and is cleared;
//! 4. **remove** it (the road is gone, the name retired): the sign is kept in the register with
//!    its history and accepts nothing further.
//!
//! Nothing happens before installation, and dates never go backwards: every date is on or after
//! the day the sign now standing was installed (or replaced) and after its last inspection, so
//! the last condition recorded is the current one. Nothing is deleted.
//!
//! What this aggregate cannot see: whether the place name is published as a standard name when
//! the sign is installed, and whether the text matches it. The application layer checks both
//! against the place-name directory before it sends [`InstallSign`]; likewise, removing the
//! signs of a retired name is the application's decision, not a rule here.

use minzheng_kit::aggregate::{Aggregate, DomainError, RefusalKind};
use minzheng_types::BoundedText;
use time::Date;

use crate::{PlaceNameId, ids::SignId};

/// Longest sign text the request edge should accept, in characters: the name and its pinyin.
pub const TEXT_MAX_CHARS: usize = 100;

/// Longest location the request edge should accept, in characters.
pub const LOCATION_MAX_CHARS: usize = 200;

/// What an inspection found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// 完好: intact and legible.
    Good,
    /// 损坏: damaged, faded or illegible.
    Damaged,
    /// 缺失: not where it was installed.
    Missing,
}

impl Condition {
    pub const ALL: [Condition; 3] = [Condition::Good, Condition::Damaged, Condition::Missing];
}

/// The last inspection of the sign now standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspection {
    pub condition: Condition,
    pub inspected_on: Date,
}

/// The facts about an installed sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub id: SignId,
    pub place_name: PlaceNameId,
    pub text: BoundedText,
    pub location: BoundedText,
    /// The day the first sign was installed.
    pub first_installed_on: Date,
    /// The day the sign now standing was installed: the first installation or the latest
    /// replacement.
    pub installed_on: Date,
    pub replacements: u32,
    /// `None` until the sign now standing is inspected.
    pub last_inspection: Option<Inspection>,
    /// `Some` once the sign is removed.
    pub removed_on: Option<Date>,
}

/// The state of one sign; `Default` is a sign not installed yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sign {
    installed: Option<State>,
}

impl Sign {
    /// The facts, `None` before installation.
    pub fn state(&self) -> Option<&State> {
        self.installed.as_ref()
    }
}

/// What can be asked of a sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    InstallSign(InstallSign),
    InspectSign(InspectSign),
    ReplaceSign(ReplaceSign),
    RemoveSign(RemoveSign),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallSign {
    pub id: SignId,
    /// The standard name the sign shows.
    pub place_name: PlaceNameId,
    /// The text on the sign, e.g. "平山路 Pingshan Lu".
    pub text: BoundedText,
    pub location: BoundedText,
    pub installed_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectSign {
    pub condition: Condition,
    pub note: Option<BoundedText>,
    pub inspected_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplaceSign {
    pub reason: BoundedText,
    /// Where the new sign stands; `None` when it takes the old one's place.
    pub location: Option<BoundedText>,
    pub replaced_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoveSign {
    pub reason: BoundedText,
    pub removed_on: Date,
}

/// What happened to a sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Installed(Installed),
    Inspected(Inspected),
    Replaced(Replaced),
    Removed(Removed),
}

/// A sign was installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub id: SignId,
    pub place_name: PlaceNameId,
    pub text: BoundedText,
    pub location: BoundedText,
    pub installed_on: Date,
}

/// A sign was inspected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    pub id: SignId,
    pub condition: Condition,
    pub note: Option<BoundedText>,
    pub inspected_on: Date,
}

/// A sign was replaced by a new one showing the same text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    pub id: SignId,
    pub reason: BoundedText,
    /// Where the new sign stands (the old location unless it moved).
    pub location: BoundedText,
    pub replaced_on: Date,
}

/// A sign was removed; its record is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub id: SignId,
    pub reason: BoundedText,
    pub removed_on: Date,
}

/// A rule that refused a sign command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the sign has not been installed")]
    NotFound,
    #[error("the sign has already been installed")]
    AlreadyInstalled,
    #[error("the sign was removed and accepts nothing further")]
    Removed,
    #[error("the date is before the sign now standing was installed")]
    BeforeInstallation,
    #[error("the date is before the sign's last inspection")]
    BeforeLastInspection,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NotFound => "sign_not_found",
            Error::AlreadyInstalled => "already_installed",
            Error::Removed => "sign_removed",
            Error::BeforeInstallation => "before_installation",
            Error::BeforeLastInspection => "before_last_inspection",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            Error::NotFound => RefusalKind::NotFound,
            _ => RefusalKind::FailedPrecondition,
        }
    }
}

impl Aggregate for Sign {
    const CATEGORY: &'static str = "sign";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let Command::InstallSign(c) = command else {
            return self.maintain(command);
        };
        if self.installed.is_some() {
            return Err(Error::AlreadyInstalled);
        }
        Ok(vec![Event::Installed(Installed {
            id: c.id.clone(),
            place_name: c.place_name.clone(),
            text: c.text.clone(),
            location: c.location.clone(),
            installed_on: c.installed_on,
        })])
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Installed(e) => {
                self.installed = Some(State {
                    id: e.id.clone(),
                    place_name: e.place_name.clone(),
                    text: e.text.clone(),
                    location: e.location.clone(),
                    first_installed_on: e.installed_on,
                    installed_on: e.installed_on,
                    replacements: 0,
                    last_inspection: None,
                    removed_on: None,
                });
            }
            Event::Inspected(e) => {
                if let Some(state) = &mut self.installed {
                    state.last_inspection = Some(Inspection {
                        condition: e.condition,
                        inspected_on: e.inspected_on,
                    });
                }
            }
            Event::Replaced(e) => {
                if let Some(state) = &mut self.installed {
                    state.location = e.location.clone();
                    state.installed_on = e.replaced_on;
                    state.replacements = state.replacements.saturating_add(1);
                    state.last_inspection = None;
                }
            }
            Event::Removed(e) => {
                if let Some(state) = &mut self.installed {
                    state.removed_on = Some(e.removed_on);
                }
            }
        }
        self
    }
}

impl Sign {
    /// Every command after installation.
    fn maintain(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let Some(state) = &self.installed else {
            return Err(Error::NotFound);
        };
        if state.removed_on.is_some() {
            return Err(Error::Removed);
        }
        let id = state.id.clone();
        let in_order = |day: Date| {
            if day < state.installed_on {
                Err(Error::BeforeInstallation)
            } else if state
                .last_inspection
                .is_some_and(|last| day < last.inspected_on)
            {
                Err(Error::BeforeLastInspection)
            } else {
                Ok(())
            }
        };
        match command {
            Command::InstallSign(_) => Err(Error::AlreadyInstalled),
            Command::InspectSign(c) => {
                in_order(c.inspected_on)?;
                Ok(vec![Event::Inspected(Inspected {
                    id,
                    condition: c.condition,
                    note: c.note.clone(),
                    inspected_on: c.inspected_on,
                })])
            }
            Command::ReplaceSign(c) => {
                in_order(c.replaced_on)?;
                Ok(vec![Event::Replaced(Replaced {
                    id,
                    reason: c.reason.clone(),
                    location: c.location.clone().unwrap_or_else(|| state.location.clone()),
                    replaced_on: c.replaced_on,
                })])
            }
            Command::RemoveSign(c) => {
                in_order(c.removed_on)?;
                Ok(vec![Event::Removed(Removed {
                    id,
                    reason: c.reason.clone(),
                    removed_on: c.removed_on,
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

    pub(crate) fn text(s: &str) -> BoundedText {
        BoundedText::parse(s, 500).expect("test texts are valid")
    }

    fn id() -> SignId {
        SignId::parse("BX-PS-0107").expect("valid")
    }

    fn place_name() -> PlaceNameId {
        PlaceNameId::parse("BX-DM-2025-014").expect("valid")
    }

    const CORNER: &str = "平山路与永丰街交叉口东北角";
    const ACROSS: &str = "平山路与永丰街交叉口西南角";

    fn install() -> Command {
        Command::InstallSign(InstallSign {
            id: id(),
            place_name: place_name(),
            text: text("平山路 Pingshan Lu"),
            location: text(CORNER),
            installed_on: date!(2025 - 07 - 01),
        })
    }

    fn inspect(condition: Condition, inspected_on: Date) -> Command {
        Command::InspectSign(InspectSign {
            condition,
            note: Some(text("牌面褪色")),
            inspected_on,
        })
    }

    fn replace(location: Option<&str>, replaced_on: Date) -> Command {
        Command::ReplaceSign(ReplaceSign {
            reason: text("牌面损坏"),
            location: location.map(text),
            replaced_on,
        })
    }

    fn remove(removed_on: Date) -> Command {
        Command::RemoveSign(RemoveSign {
            reason: text("道路拆除"),
            removed_on,
        })
    }

    /// Installed, found damaged, replaced across the street, found good, removed.
    pub(crate) fn history() -> Vec<Event> {
        vec![
            Event::Installed(Installed {
                id: id(),
                place_name: place_name(),
                text: text("平山路 Pingshan Lu"),
                location: text(CORNER),
                installed_on: date!(2025 - 07 - 01),
            }),
            Event::Inspected(Inspected {
                id: id(),
                condition: Condition::Damaged,
                note: Some(text("牌面褪色")),
                inspected_on: date!(2026 - 03 - 15),
            }),
            Event::Replaced(Replaced {
                id: id(),
                reason: text("牌面损坏"),
                location: text(ACROSS),
                replaced_on: date!(2026 - 04 - 01),
            }),
            Event::Inspected(Inspected {
                id: id(),
                condition: Condition::Good,
                note: Some(text("牌面褪色")),
                inspected_on: date!(2026 - 04 - 01),
            }),
            Event::Removed(Removed {
                id: id(),
                reason: text("道路拆除"),
                removed_on: date!(2030 - 01 - 01),
            }),
        ]
    }

    /// The history up to (not including) the event at `index`.
    fn until(index: usize) -> Vec<Event> {
        history().into_iter().take(index).collect()
    }

    #[test]
    fn a_sign_is_installed_inspected_replaced_and_removed() {
        let commands = [
            install(),
            inspect(Condition::Damaged, date!(2026 - 03 - 15)),
            replace(Some(ACROSS), date!(2026 - 04 - 01)),
            inspect(Condition::Good, date!(2026 - 04 - 01)),
            remove(date!(2030 - 01 - 01)),
        ];
        for (index, command) in commands.into_iter().enumerate() {
            given::<Sign>(until(index))
                .when(command)
                .then([history()[index].clone()]);
        }
        let state = given::<Sign>(history());
        let sign = state.state().state().expect("kept after removal");
        assert_eq!(sign.first_installed_on, date!(2025 - 07 - 01));
        assert_eq!(sign.installed_on, date!(2026 - 04 - 01));
        assert_eq!(sign.location, text(ACROSS));
        assert_eq!(sign.replacements, 1);
        assert_eq!(
            sign.last_inspection.map(|i| i.condition),
            Some(Condition::Good)
        );
        assert_eq!(sign.removed_on, Some(date!(2030 - 01 - 01)));
    }

    #[test]
    fn nothing_happens_before_installation() {
        let refusal = given::<Sign>([])
            .when(inspect(Condition::Good, date!(2025 - 08 - 01)))
            .then_refused("sign_not_found");
        assert_eq!(refusal.kind(), RefusalKind::NotFound);
        given::<Sign>([])
            .when(replace(None, date!(2025 - 08 - 01)))
            .then_refused("sign_not_found");
        given::<Sign>([])
            .when(remove(date!(2025 - 08 - 01)))
            .then_refused("sign_not_found");
        given::<Sign>(until(1))
            .when(install())
            .then_refused("already_installed");
    }

    #[test]
    fn dates_never_go_before_the_installation_of_the_sign_now_standing() {
        given::<Sign>(until(1))
            .when(inspect(Condition::Good, date!(2025 - 06 - 30)))
            .then_refused("before_installation");
        given::<Sign>(until(1))
            .when(replace(None, date!(2025 - 06 - 30)))
            .then_refused("before_installation");
        given::<Sign>(until(1))
            .when(remove(date!(2025 - 06 - 30)))
            .then_refused("before_installation");
        // After a replacement, the replacement day counts.
        given::<Sign>(until(3))
            .when(inspect(Condition::Good, date!(2026 - 03 - 31)))
            .then_refused("before_installation");
    }

    #[test]
    fn dates_never_go_before_the_last_inspection() {
        given::<Sign>(until(2))
            .when(inspect(Condition::Good, date!(2026 - 03 - 14)))
            .then_refused("before_last_inspection");
        given::<Sign>(until(2))
            .when(replace(None, date!(2026 - 03 - 14)))
            .then_refused("before_last_inspection");
        given::<Sign>(until(2))
            .when(remove(date!(2026 - 03 - 14)))
            .then_refused("before_last_inspection");
        // Two inspections on one day are fine.
        given::<Sign>(until(2))
            .when(inspect(Condition::Missing, date!(2026 - 03 - 15)))
            .then([Event::Inspected(Inspected {
                id: id(),
                condition: Condition::Missing,
                note: Some(text("牌面褪色")),
                inspected_on: date!(2026 - 03 - 15),
            })]);
    }

    #[test]
    fn a_replacement_keeps_the_location_unless_moved_and_clears_the_old_condition() {
        let state = given::<Sign>(until(2))
            .when(replace(None, date!(2026 - 04 - 01)))
            .then([Event::Replaced(Replaced {
                id: id(),
                reason: text("牌面损坏"),
                location: text(CORNER),
                replaced_on: date!(2026 - 04 - 01),
            })]);
        let sign = state.state().expect("installed");
        assert_eq!(sign.last_inspection, None);
        assert_eq!(sign.text, text("平山路 Pingshan Lu"));
        assert_eq!(sign.place_name, place_name());
    }

    #[test]
    fn a_removed_sign_is_kept_and_accepts_nothing_further() {
        for command in [
            inspect(Condition::Good, date!(2030 - 02 - 01)),
            replace(None, date!(2030 - 02 - 01)),
            remove(date!(2030 - 02 - 01)),
        ] {
            given::<Sign>(history())
                .when(command)
                .then_refused("sign_removed");
        }
        given::<Sign>(history())
            .when(install())
            .then_refused("already_installed");
    }
}
