//! The post of a child director (儿童主任) or child supervisor (儿童督导员), stream
//! `child_post-<division code>`: who held it when, and the trainings they completed.
//!
//! Benxi's 2021–2025 plan (ch. 5) asks for "two full coverages" (两个全覆盖): a child supervisor
//! in every township, town and sub-district (乡镇（街道）儿童督导员) and a child director in every
//! village and community (村（居）儿童主任), each trained on taking office (新任职培训). This
//! module records the posts; [`crate::coverage`] counts them against the divisions in force on a
//! day.
//!
//! # Rules
//!
//! - **One post per division**, keyed by its 12-digit code. The role follows from the division's
//!   level ([`Role::of`]): a village-level division (a village 村 or a residents' community 社区)
//!   has a child director, a township-level one (a township 乡, town 镇 or sub-district 街道) a
//!   child supervisor. Any other level is refused (`division_level`). Every command names the
//!   division, and a stream holds one division's events (`wrong_division`).
//! - **Appoint** fills a post nobody holds: a new one, or one vacated (`post_occupied` when
//!   someone holds it: a change of holder is a replacement).
//! - **Replace** puts a new holder in the place of the one in office: the outgoing holder's last
//!   day is the day before `on`, the new holder's first day is `on` (`post_vacant` when nobody
//!   holds it: use Appoint).
//! - **Vacate** records that the holder left with nobody to follow: `on` is the first day
//!   vacant (`post_vacant` when nobody holds it).
//! - **RecordTraining** records a training the holder in office completed on `on`, with its
//!   course and hours, 1 to [`MAX_TRAINING_HOURS`] (`training_hours`; `post_vacant` when nobody
//!   holds the post).
//! - **Dates run forward**: no command is dated before the post's latest event
//!   (`before_latest`); the same day is allowed. So a training is never dated before the
//!   appointment of the holder it is recorded for, and two tenures never overlap. A holder
//!   replaced or vacated on the day of their appointment held the post for no day at all (a
//!   correction): such a tenure is kept, but never answers [`Post::holder_on`].
//!
//! # Personal data
//!
//! A [`Holder`]'s name, telephone number and citizen id are personal data: `Debug` hides them,
//! no refusal message names them, and the stream key is the division's code. The reasons given
//! for a replacement or a vacancy are free text that may name a person; [`BoundedText`] prints
//! only its length.

use std::fmt;

use minzheng_kit::aggregate::{Aggregate, DomainError};
use minzheng_types::{BoundedText, CitizenId, RegionCode, RegionLevel, format_date};
use time::Date;

// Texts come parsed ([`BoundedText`]); the gRPC edge parses them with these limits. Stored
// events are read with the decoder's generous limit instead, so that a lowered limit never
// makes history unreadable.

/// The longest holder name, in characters.
pub const NAME_MAX_CHARS: usize = 50;
/// The longest telephone number, in characters.
pub const PHONE_MAX_CHARS: usize = 30;
/// The longest course title, in characters.
pub const COURSE_MAX_CHARS: usize = 200;
/// The longest reason for a replacement or vacancy, in characters.
pub const REASON_MAX_CHARS: usize = 500;
/// The most hours one recorded training may last.
pub const MAX_TRAINING_HOURS: u16 = 1_000;

/// What a post is, derived from its division's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// A child director (儿童主任) of a village-level division (村, 社区).
    Director,
    /// A child supervisor (儿童督导员) of a township-level division (乡, 镇, 街道).
    Supervisor,
}

impl Role {
    /// The post `division` has: `None` for a division above township level, which has neither.
    pub fn of(division: RegionCode) -> Option<Role> {
        match division.level() {
            RegionLevel::Village => Some(Role::Director),
            RegionLevel::Township => Some(Role::Supervisor),
            RegionLevel::Province | RegionLevel::City | RegionLevel::County => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Director => "child director",
            Role::Supervisor => "child supervisor",
        })
    }
}

/// The person holding a post. Personal data: `Debug` shows only which fields are present.
#[derive(Clone, PartialEq, Eq)]
pub struct Holder {
    pub name: BoundedText,
    pub phone: Option<BoundedText>,
    pub citizen: Option<CitizenId>,
}

impl fmt::Debug for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let given = |present: bool| if present { "<given>" } else { "<none>" };
        f.debug_struct("Holder")
            .field("name", &format_args!("<hidden>"))
            .field("phone", &format_args!("{}", given(self.phone.is_some())))
            .field(
                "citizen",
                &format_args!("{}", given(self.citizen.is_some())),
            )
            .finish()
    }
}

/// A training a holder completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Training {
    /// The day it was completed.
    pub on: Date,
    pub course: BoundedText,
    pub hours: u16,
}

/// One holder's time in a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenure {
    pub holder: Holder,
    /// The first day in office.
    pub from: Date,
    /// The first day no longer in office; `None` while in office.
    pub to: Option<Date>,
    /// Why they left, once they have.
    pub left_because: Option<BoundedText>,
    /// The trainings recorded for them, in order.
    pub trainings: Vec<Training>,
}

impl Tenure {
    /// Whether they held the post on `day`.
    pub fn in_office_on(&self, day: Date) -> bool {
        self.from <= day && self.to.is_none_or(|to| day < to)
    }

    /// Whether they completed a training on or after their appointment and on or before `day`
    /// (the training of the newly appointed, 新任职培训).
    pub fn trained_by(&self, day: Date) -> bool {
        self.trainings
            .iter()
            .any(|t| self.from <= t.on && t.on <= day)
    }
}

/// What can be asked of a post. Each command names the division, the stream's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Fill the vacant post from `on`.
    Appoint {
        division: RegionCode,
        holder: Holder,
        on: Date,
    },
    /// Put `holder` in the place of the holder in office from `on`.
    Replace {
        division: RegionCode,
        holder: Holder,
        on: Date,
        reason: BoundedText,
    },
    /// The holder in office left; `on` is the first day vacant.
    Vacate {
        division: RegionCode,
        on: Date,
        reason: BoundedText,
    },
    /// The holder in office completed a training on `on`.
    RecordTraining {
        division: RegionCode,
        on: Date,
        course: BoundedText,
        hours: u16,
    },
}

impl Command {
    /// The division the command addresses.
    pub fn division(&self) -> RegionCode {
        match self {
            Command::Appoint { division, .. }
            | Command::Replace { division, .. }
            | Command::Vacate { division, .. }
            | Command::RecordTraining { division, .. } => *division,
        }
    }

    /// The day the command is dated.
    pub fn on(&self) -> Date {
        match self {
            Command::Appoint { on, .. }
            | Command::Replace { on, .. }
            | Command::Vacate { on, .. }
            | Command::RecordTraining { on, .. } => *on,
        }
    }
}

/// What happened to a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Appointed(Appointed),
    Replaced(Replaced),
    Vacated(Vacated),
    Trained(Trained),
}

/// Someone was appointed to the vacant post (`ChildPostHolderAppointed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointed {
    pub division: RegionCode,
    pub role: Role,
    pub holder: Holder,
    /// The first day in office.
    pub on: Date,
}

/// The holder was replaced (`ChildPostHolderReplaced`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    pub division: RegionCode,
    pub role: Role,
    /// The new holder.
    pub holder: Holder,
    /// The new holder's first day, and the first day the outgoing one is no longer in office.
    pub on: Date,
    pub reason: BoundedText,
}

/// The holder left and the post is vacant (`ChildPostVacated`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vacated {
    pub division: RegionCode,
    pub role: Role,
    /// The first day vacant.
    pub on: Date,
    pub reason: BoundedText,
}

/// The holder in office completed a training (`ChildPostHolderTrained`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trained {
    pub division: RegionCode,
    pub role: Role,
    pub on: Date,
    pub course: BoundedText,
    pub hours: u16,
}

/// A rule that refused a post command. No message names a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error(
        "a {level}-level division has no child director or supervisor: directors serve \
         villages and communities, supervisors townships, towns and sub-districts"
    )]
    DivisionLevel { level: RegionLevel },
    #[error("this post stream belongs to another division")]
    WrongDivision,
    #[error("the post is held: replace its holder instead")]
    PostOccupied,
    #[error("nobody holds the post")]
    PostVacant,
    #[error("the date is before the post's latest event, on {}", format_date(*latest))]
    BeforeLatest { latest: Date },
    #[error("a training lasts 1 to {MAX_TRAINING_HOURS} hours")]
    TrainingHours,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::DivisionLevel { .. } => "division_level",
            Error::WrongDivision => "wrong_division",
            Error::PostOccupied => "post_occupied",
            Error::PostVacant => "post_vacant",
            Error::BeforeLatest { .. } => "before_latest",
            Error::TrainingHours => "training_hours",
        }
    }
}

/// The state of a post: every holder in order. `Default` is a post never filled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Post {
    division: Option<RegionCode>,
    tenures: Vec<Tenure>,
    latest: Option<Date>,
}

impl Post {
    /// The division, once anything was recorded.
    pub fn division(&self) -> Option<RegionCode> {
        self.division
    }

    /// The post's role, once anything was recorded.
    pub fn role(&self) -> Option<Role> {
        self.division.and_then(Role::of)
    }

    /// Every holder, oldest first.
    pub fn tenures(&self) -> &[Tenure] {
        &self.tenures
    }

    /// The day of the latest event.
    pub fn latest(&self) -> Option<Date> {
        self.latest
    }

    /// The holder in office after the latest event, if any.
    pub fn current(&self) -> Option<&Tenure> {
        self.tenures.last().filter(|t| t.to.is_none())
    }

    /// Who held the post on `day`.
    pub fn holder_on(&self, day: Date) -> Option<&Tenure> {
        self.tenures.iter().rev().find(|t| t.in_office_on(day))
    }

    /// Whether someone held the post on `day`.
    pub fn staffed_on(&self, day: Date) -> bool {
        self.holder_on(day).is_some()
    }

    /// Whether the holder on `day` had completed a training on or after their appointment and
    /// on or before `day`.
    pub fn trained_on(&self, day: Date) -> bool {
        self.holder_on(day).is_some_and(|t| t.trained_by(day))
    }

    /// When the post is vacant on `day`, the first day of that vacancy: the day the last holder
    /// before it left. `None` when it is held on `day`, and when nobody had left it by then
    /// (never filled before `day`).
    pub fn vacant_since(&self, day: Date) -> Option<Date> {
        if self.staffed_on(day) {
            return None;
        }
        self.tenures
            .iter()
            .filter_map(|t| t.to)
            .filter(|to| *to <= day)
            .max()
    }
}

impl Aggregate for Post {
    const CATEGORY: &'static str = "child_post";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let division = command.division();
        let role = Role::of(division).ok_or(Error::DivisionLevel {
            level: division.level(),
        })?;
        if self.division.is_some_and(|d| d != division) {
            return Err(Error::WrongDivision);
        }
        // Occupancy is judged before the date, so that a command of the wrong kind is told
        // which one to use rather than that its date is early.
        let held = self.current().is_some();
        match command {
            Command::Appoint { .. } if held => return Err(Error::PostOccupied),
            Command::Replace { .. } | Command::Vacate { .. } | Command::RecordTraining { .. }
                if !held =>
            {
                return Err(Error::PostVacant);
            }
            _ => {}
        }
        if let Some(latest) = self.latest
            && command.on() < latest
        {
            return Err(Error::BeforeLatest { latest });
        }
        let event = match command {
            Command::Appoint {
                division,
                holder,
                on,
            } => Event::Appointed(Appointed {
                division: *division,
                role,
                holder: holder.clone(),
                on: *on,
            }),
            Command::Replace {
                division,
                holder,
                on,
                reason,
            } => Event::Replaced(Replaced {
                division: *division,
                role,
                holder: holder.clone(),
                on: *on,
                reason: reason.clone(),
            }),
            Command::Vacate {
                division,
                on,
                reason,
            } => Event::Vacated(Vacated {
                division: *division,
                role,
                on: *on,
                reason: reason.clone(),
            }),
            Command::RecordTraining {
                division,
                on,
                course,
                hours,
            } => {
                if !(1..=MAX_TRAINING_HOURS).contains(hours) {
                    return Err(Error::TrainingHours);
                }
                Event::Trained(Trained {
                    division: *division,
                    role,
                    on: *on,
                    course: course.clone(),
                    hours: *hours,
                })
            }
        };
        Ok(vec![event])
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Appointed(a) => {
                self.division.get_or_insert(a.division);
                self.tenures.push(Tenure {
                    holder: a.holder.clone(),
                    from: a.on,
                    to: None,
                    left_because: None,
                    trainings: Vec::new(),
                });
                self.latest = Some(a.on);
            }
            Event::Replaced(r) => {
                self.division.get_or_insert(r.division);
                if let Some(outgoing) = self.tenures.last_mut() {
                    outgoing.to = Some(r.on);
                    outgoing.left_because = Some(r.reason.clone());
                }
                self.tenures.push(Tenure {
                    holder: r.holder.clone(),
                    from: r.on,
                    to: None,
                    left_because: None,
                    trainings: Vec::new(),
                });
                self.latest = Some(r.on);
            }
            Event::Vacated(v) => {
                self.division.get_or_insert(v.division);
                if let Some(outgoing) = self.tenures.last_mut() {
                    outgoing.to = Some(v.on);
                    outgoing.left_because = Some(v.reason.clone());
                }
                self.latest = Some(v.on);
            }
            Event::Trained(t) => {
                self.division.get_or_insert(t.division);
                if let Some(holder) = self.tenures.last_mut() {
                    holder.trainings.push(Training {
                        on: t.on,
                        course: t.course.clone(),
                        hours: t.hours,
                    });
                }
                self.latest = Some(t.on);
            }
        }
        self
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;

    /// 小市社区居委会, a community of 本溪满族自治县.
    pub(crate) fn village() -> RegionCode {
        RegionCode::parse("210521001001").expect("valid")
    }

    /// 观音阁街道, the sub-district the community lies in.
    pub(crate) fn township() -> RegionCode {
        RegionCode::parse("210521001000").expect("valid")
    }

    fn text(s: &str) -> BoundedText {
        BoundedText::parse(s, 500).expect("valid")
    }

    pub(crate) fn holder(name: &str) -> Holder {
        Holder {
            name: text(name),
            phone: Some(text("13800000000")),
            citizen: Some(CitizenId::parse("210502198001010012").expect("valid")),
        }
    }

    pub(crate) fn appointed(division: RegionCode, name: &str, on: Date) -> Event {
        Event::Appointed(Appointed {
            division,
            role: Role::of(division).expect("a post's division"),
            holder: holder(name),
            on,
        })
    }

    pub(crate) fn trained(division: RegionCode, on: Date) -> Event {
        Event::Trained(Trained {
            division,
            role: Role::of(division).expect("a post's division"),
            on,
            course: text("新任职儿童主任培训"),
            hours: 16,
        })
    }

    pub(crate) fn vacated(division: RegionCode, on: Date) -> Event {
        Event::Vacated(Vacated {
            division,
            role: Role::of(division).expect("a post's division"),
            on,
            reason: text("辞职"),
        })
    }

    fn replace(on: Date) -> Command {
        Command::Replace {
            division: village(),
            holder: holder("李四"),
            on,
            reason: text("调任"),
        }
    }

    fn vacate(on: Date) -> Command {
        Command::Vacate {
            division: village(),
            on,
            reason: text("辞职"),
        }
    }

    fn train(on: Date, hours: u16) -> Command {
        Command::RecordTraining {
            division: village(),
            on,
            course: text("新任职儿童主任培训"),
            hours,
        }
    }

    #[test]
    fn the_role_follows_the_divisions_level() {
        assert_eq!(Role::of(village()), Some(Role::Director));
        assert_eq!(Role::of(township()), Some(Role::Supervisor));
        assert_eq!(
            Role::of(RegionCode::parse("210521000000").expect("valid")),
            None
        );
    }

    #[test]
    fn a_vacant_post_is_filled_by_appointment() {
        let on = date!(2021 - 03 - 01);
        let post = given::<Post>([])
            .when(Command::Appoint {
                division: village(),
                holder: holder("张三"),
                on,
            })
            .then([appointed(village(), "张三", on)]);
        assert_eq!(post.division(), Some(village()));
        assert_eq!(post.role(), Some(Role::Director));
        assert!(post.staffed_on(on));
        assert!(!post.staffed_on(date!(2021 - 02 - 28)));
        let supervisor = given::<Post>([])
            .when(Command::Appoint {
                division: township(),
                holder: holder("王五"),
                on,
            })
            .then([appointed(township(), "王五", on)]);
        assert_eq!(supervisor.role(), Some(Role::Supervisor));
    }

    #[test]
    fn appointing_needs_a_vacant_post_of_a_village_or_township() {
        let on = date!(2021 - 03 - 01);
        given::<Post>([appointed(village(), "张三", on)])
            .when(Command::Appoint {
                division: village(),
                holder: holder("李四"),
                on: date!(2021 - 04 - 01),
            })
            .then_refused("post_occupied");
        given::<Post>([])
            .when(Command::Appoint {
                division: RegionCode::parse("210521000000").expect("valid"),
                holder: holder("张三"),
                on,
            })
            .then_refused("division_level");
        given::<Post>([appointed(village(), "张三", on), vacated(village(), on)])
            .when(Command::Appoint {
                division: township(),
                holder: holder("李四"),
                on,
            })
            .then_refused("wrong_division");
        given::<Post>([
            appointed(village(), "张三", on),
            vacated(village(), date!(2022 - 01 - 01)),
        ])
        .when(Command::Appoint {
            division: village(),
            holder: holder("李四"),
            on: date!(2021 - 12 - 31),
        })
        .then_refused("before_latest");
    }

    #[test]
    fn a_replacement_ends_one_tenure_and_starts_the_next_on_the_same_day() {
        let on = date!(2021 - 03 - 01);
        let change = date!(2023 - 07 - 01);
        let post = given::<Post>([appointed(village(), "张三", on)])
            .when(replace(change))
            .then([Event::Replaced(Replaced {
                division: village(),
                role: Role::Director,
                holder: holder("李四"),
                on: change,
                reason: text("调任"),
            })]);
        let before = post.holder_on(date!(2023 - 06 - 30)).expect("held");
        assert_eq!(before.holder.name.as_str(), "张三");
        assert_eq!(before.to, Some(change));
        let after = post.holder_on(change).expect("held");
        assert_eq!(after.holder.name.as_str(), "李四");
        assert_eq!(post.vacant_since(change), None);
        assert_eq!(post.tenures().len(), 2);
        given::<Post>([])
            .when(replace(change))
            .then_refused("post_vacant");
        given::<Post>([appointed(village(), "张三", on)])
            .when(replace(date!(2021 - 02 - 28)))
            .then_refused("before_latest");
    }

    #[test]
    fn a_vacancy_lasts_from_the_holders_leaving_to_the_next_appointment() {
        let on = date!(2021 - 03 - 01);
        let left = date!(2022 - 05 - 10);
        let post = given::<Post>([appointed(village(), "张三", on)])
            .when(vacate(left))
            .then([vacated(village(), left)]);
        assert!(post.staffed_on(date!(2022 - 05 - 09)));
        assert!(!post.staffed_on(left));
        assert_eq!(post.vacant_since(date!(2022 - 05 - 09)), None);
        assert_eq!(post.vacant_since(date!(2023 - 01 - 01)), Some(left));
        assert_eq!(post.current(), None);
        assert_eq!(Post::default().vacant_since(left), None);
        given::<Post>([appointed(village(), "张三", on), vacated(village(), left)])
            .when(vacate(date!(2023 - 01 - 01)))
            .then_refused("post_vacant");
        given::<Post>([appointed(village(), "张三", on)])
            .when(vacate(date!(2021 - 01 - 01)))
            .then_refused("before_latest");
        let refilled = given::<Post>([appointed(village(), "张三", on), vacated(village(), left)])
            .when(Command::Appoint {
                division: village(),
                holder: holder("李四"),
                on: date!(2022 - 09 - 01),
            })
            .then([appointed(village(), "李四", date!(2022 - 09 - 01))]);
        assert_eq!(refilled.vacant_since(date!(2022 - 08 - 31)), Some(left));
        assert_eq!(refilled.vacant_since(date!(2022 - 09 - 01)), None);
    }

    #[test]
    fn a_training_counts_for_the_holder_in_office_from_its_day() {
        let on = date!(2021 - 03 - 01);
        let course = date!(2021 - 04 - 15);
        let post = given::<Post>([appointed(village(), "张三", on)])
            .when(train(course, 16))
            .then([trained(village(), course)]);
        assert!(!post.trained_on(date!(2021 - 04 - 14)));
        assert!(post.trained_on(course));
        assert!(post.trained_on(date!(2024 - 01 - 01)));
        // The successor has not been trained yet: the predecessor's training does not count.
        let replaced = given::<Post>([
            appointed(village(), "张三", on),
            trained(village(), course),
            Event::Replaced(Replaced {
                division: village(),
                role: Role::Director,
                holder: holder("李四"),
                on: date!(2023 - 01 - 01),
                reason: text("调任"),
            }),
        ]);
        assert!(replaced.state().trained_on(date!(2022 - 12 - 31)));
        assert!(!replaced.state().trained_on(date!(2023 - 01 - 01)));
        assert_eq!(replaced.state().tenures()[0].trainings.len(), 1);
        assert!(replaced.state().tenures()[1].trainings.is_empty());
    }

    #[test]
    fn a_training_needs_a_holder_hours_and_a_day_not_before_the_appointment() {
        let on = date!(2021 - 03 - 01);
        given::<Post>([])
            .when(train(on, 16))
            .then_refused("post_vacant");
        given::<Post>([appointed(village(), "张三", on), vacated(village(), on)])
            .when(train(on, 16))
            .then_refused("post_vacant");
        given::<Post>([appointed(village(), "张三", on)])
            .when(train(date!(2021 - 02 - 01), 16))
            .then_refused("before_latest");
        given::<Post>([appointed(village(), "张三", on)])
            .when(train(on, 0))
            .then_refused("training_hours");
        given::<Post>([appointed(village(), "张三", on)])
            .when(train(on, MAX_TRAINING_HOURS + 1))
            .then_refused("training_hours");
    }

    #[test]
    fn a_tenure_ended_on_its_first_day_never_held_the_post() {
        let on = date!(2021 - 03 - 01);
        let post = given::<Post>([appointed(village(), "张三", on)])
            .when(vacate(on))
            .then([vacated(village(), on)]);
        assert!(!post.staffed_on(on));
        assert_eq!(post.vacant_since(on), Some(on));
    }

    #[test]
    fn debug_output_hides_the_holders_personal_data() {
        let post = given::<Post>([appointed(village(), "张三", date!(2021 - 03 - 01))]);
        let shown = format!("{:?} {:?}", post.state(), holder("张三"));
        for secret in ["张三", "13800000000", "210502198001010012"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let refusal = given::<Post>([])
            .when(replace(date!(2021 - 03 - 01)))
            .then_refused("post_vacant");
        assert!(!refusal.to_string().contains("李四"));
    }
}
