//! The death (死亡) aggregate: one citizen's death and their funeral (殡葬), stream
//! `death-<pseudonym>`. The key is the deceased's [`Pseudonym`], which is also the death record's
//! id, so a citizen has at most one death record.
//!
//! The plan (ch. 5 §4) asks to promote eco-burial (节地生态安葬: at sea 海葬, under a tree 树葬,
//! a lawn 草坪葬 or flowers 花坛葬) towards 60 % of burials, and to provide basic funeral services
//! to the deceased of households in difficulty free or at a reduced fee (惠民殡葬: "做好身故困难群众
//! 基本殡葬服务，减免相关费用"). A death's life in the register:
//!
//! 1. **record** the death ([`Record`]): who died, on which day, in which county, and who
//!    notified it (a hospital, public security or the family). Every other service reacts to
//!    [`Recorded`]. A second notification of the same death (the hospital, then the family) is
//!    refused with `already_recorded`: the application treats an identical repeat as done;
//! 2. **record the funeral** ([`RecordFuneral`]), once: the funeral home, cremation, how and when
//!    the remains were laid to rest ([`BurialType`]) and the basic services' fee, with the fee
//!    waiver decided here ([`FeeWaiver`]).
//!
//! The waiver: the application looks up, in the [`crate::assistance::Ledger`], which assistance
//! case covered the deceased on the day of death and passes it in the command
//! ([`AssistanceOnDeath`]), together with the configured [`WaiverPolicy`] (the share of the fee
//! waived per category, which policy changes from year to year). The aggregate waives
//! `basic_fee × percent / 100`, rounded down to the fen, and the family pays the rest. No
//! assistance, or a category waived at 0 %, gives no waiver.
//!
//! Dates: a death is not recorded before it happened nor before the citizen's birth. The funeral
//! is recorded after it happened: cremation and burial are on or after the day of death, burial
//! on or after cremation, and both on or before the day the funeral is recorded, which is itself
//! on or after the day the death was recorded. Remains laid to rest as ashes (every burial type
//! but a traditional grave) need a cremation day.
//!
//! What this aggregate cannot see: whether the citizen is alive in other registers, and whether
//! the assistance lookup is right; the application checks the first and makes the second.

use minzheng_kit::aggregate::{Aggregate, DomainError, RefusalKind};
use minzheng_types::{BoundedText, CitizenId, Fen, RegionCode, RegionLevel, Rounding};
use time::Date;

use crate::{
    assistance::{AssistanceCategory, CaseId},
    ids::Pseudonym,
};

/// Longest name of the deceased the request edge should accept, in characters.
pub const NAME_MAX_CHARS: usize = crate::verification::NAME_MAX_CHARS;

/// Longest notifier's document reference the request edge should accept, in characters.
pub const SOURCE_REFERENCE_MAX_CHARS: usize = 100;

/// Longest funeral home name the request edge should accept, in characters.
pub const FUNERAL_HOME_MAX_CHARS: usize = 100;

/// Who notified the death.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// A hospital's medical certificate of death (医学死亡证明).
    Hospital,
    /// Public security (公安机关), e.g. for a death outside hospital.
    PublicSecurity,
    /// The family, at the funeral home or the registry.
    Family,
}

impl Source {
    pub const ALL: [Source; 3] = [Source::Hospital, Source::PublicSecurity, Source::Family];
}

/// How the remains were laid to rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BurialType {
    /// Ashes scattered at sea (海葬). Eco-burial.
    Sea,
    /// Ashes under a tree (树葬). Eco-burial.
    Tree,
    /// Ashes under a lawn (草坪葬). Eco-burial.
    Lawn,
    /// Ashes under flowers (花坛葬). Eco-burial.
    Flower,
    /// A grave in a cemetery (传统墓葬), of ashes or not.
    TraditionalCemetery,
    /// Ashes kept in a columbarium (骨灰堂存放).
    Columbarium,
}

impl BurialType {
    pub const ALL: [BurialType; 6] = [
        BurialType::Sea,
        BurialType::Tree,
        BurialType::Lawn,
        BurialType::Flower,
        BurialType::TraditionalCemetery,
        BurialType::Columbarium,
    ];

    /// Whether it is an eco-burial (节地生态安葬), counted towards the plan's 60 %.
    pub fn is_eco(self) -> bool {
        matches!(
            self,
            BurialType::Sea | BurialType::Tree | BurialType::Lawn | BurialType::Flower
        )
    }

    /// Whether the remains are laid to rest as ashes, so were cremated.
    pub fn needs_cremation(self) -> bool {
        self != BurialType::TraditionalCemetery
    }
}

/// The assistance case that covered the deceased on the day of death, as the application found
/// it in the [`crate::assistance::Ledger`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssistanceOnDeath {
    pub category: AssistanceCategory,
    pub case_id: CaseId,
}

/// The share of the basic funeral fee waived for each assistance category, in percent (0–100).
/// Policy, configured and revised yearly; the [`Default`] makes basic services free for 低保 and
/// 特困 and waives nothing for the other categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaiverPolicy {
    pub dibao_percent: u8,
    pub tekun_percent: u8,
    pub low_income_percent: u8,
    pub temporary_percent: u8,
}

impl Default for WaiverPolicy {
    fn default() -> Self {
        Self {
            dibao_percent: 100,
            tekun_percent: 100,
            low_income_percent: 0,
            temporary_percent: 0,
        }
    }
}

impl WaiverPolicy {
    /// The share waived for `category`, in percent.
    pub fn percent(&self, category: AssistanceCategory) -> u8 {
        match category {
            AssistanceCategory::Dibao => self.dibao_percent,
            AssistanceCategory::Tekun => self.tekun_percent,
            AssistanceCategory::LowIncome => self.low_income_percent,
            AssistanceCategory::Temporary => self.temporary_percent,
        }
    }

    /// Whether every share is at most 100 %; check configuration with it at startup, since a
    /// funeral recorded under an invalid policy is refused (`invalid_waiver_policy`).
    pub fn is_valid(&self) -> bool {
        AssistanceCategory::ALL
            .iter()
            .all(|&category| self.percent(category) <= 100)
    }
}

/// Basic funeral fees waived because the household was in assistance on the day of death.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeWaiver {
    pub category: AssistanceCategory,
    pub case_id: CaseId,
    /// The amount waived; at most the basic fee.
    pub waived: Fen,
}

/// The facts about a funeral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Funeral {
    /// The funeral home (殡仪馆), e.g. "本溪市殡仪馆".
    pub funeral_home: BoundedText,
    /// `None` when not cremated.
    pub cremated_on: Option<Date>,
    pub burial: BurialType,
    pub buried_on: Date,
    /// The basic funeral services' fee (基本殡葬服务费: transport, storage, cremation, urn).
    pub basic_fee: Fen,
    pub waiver: Option<FeeWaiver>,
    /// What the family pays for the basic services: the fee less the waiver.
    pub payable: Fen,
    pub recorded_on: Date,
}

/// The facts about a recorded death.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeathRecord {
    /// The death's id: the deceased's pseudonym.
    pub death: Pseudonym,
    pub citizen: CitizenId,
    pub name: BoundedText,
    pub died_on: Date,
    /// The county-level division of their registered residence.
    pub county: RegionCode,
    pub source: Source,
    /// The notifier's document reference, e.g. the medical certificate's number.
    pub source_reference: Option<BoundedText>,
    pub recorded_on: Date,
    /// `None` until the funeral is recorded.
    pub funeral: Option<Funeral>,
}

/// The state of one death record; `Default` is a death not recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Death {
    record: Option<DeathRecord>,
}

impl Death {
    /// The facts, `None` before the death is recorded.
    pub fn record(&self) -> Option<&DeathRecord> {
        self.record.as_ref()
    }
}

/// What can be asked of a death record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Record(Record),
    RecordFuneral(RecordFuneral),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The deceased's pseudonym: the stream key and the death's id.
    pub death: Pseudonym,
    pub citizen: CitizenId,
    pub name: BoundedText,
    pub died_on: Date,
    /// County level.
    pub county: RegionCode,
    pub source: Source,
    pub source_reference: Option<BoundedText>,
    pub recorded_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFuneral {
    pub funeral_home: BoundedText,
    pub cremated_on: Option<Date>,
    pub burial: BurialType,
    pub buried_on: Date,
    /// Not negative.
    pub basic_fee: Fen,
    /// The case covering the deceased on the day of death, `None` when none did.
    pub assistance: Option<AssistanceOnDeath>,
    /// The waiver policy in force.
    pub policy: WaiverPolicy,
    pub recorded_on: Date,
}

/// What happened to a death record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Recorded(Recorded),
    FuneralRecorded(FuneralRecorded),
}

/// A death was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub death: Pseudonym,
    pub citizen: CitizenId,
    pub name: BoundedText,
    pub died_on: Date,
    pub county: RegionCode,
    pub source: Source,
    pub source_reference: Option<BoundedText>,
    pub recorded_on: Date,
}

/// The funeral services were recorded, with the fee waiver decided for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuneralRecorded {
    pub death: Pseudonym,
    pub funeral_home: BoundedText,
    pub cremated_on: Option<Date>,
    pub burial: BurialType,
    pub buried_on: Date,
    pub basic_fee: Fen,
    pub waiver: Option<FeeWaiver>,
    /// `basic_fee` less the waiver.
    pub payable: Fen,
    pub recorded_on: Date,
}

/// A rule that refused a death command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the death has not been recorded")]
    NotFound,
    #[error("the death has already been recorded")]
    AlreadyRecorded,
    #[error("the county must be a county-level division")]
    NotACounty,
    #[error("the day of death is after the day it is recorded")]
    DiedInFuture,
    #[error("the day of death is before the citizen's birth")]
    DiedBeforeBirth,
    #[error("the funeral has already been recorded")]
    FuneralAlreadyRecorded,
    #[error("the funeral is recorded before the death was")]
    RecordedBeforeDeathRecord,
    #[error("the cremation is before the death")]
    CrematedBeforeDeath,
    #[error("the burial is before the death")]
    BuriedBeforeDeath,
    #[error("the burial is before the cremation")]
    BuriedBeforeCremation,
    #[error("the cremation or burial is after the day the funeral is recorded")]
    FuneralInFuture,
    #[error("remains laid to rest as ashes need a cremation day")]
    CremationRequired,
    #[error("the basic fee must not be negative")]
    InvalidBasicFee,
    #[error("the waiver policy must waive at most 100 % for every category")]
    InvalidWaiverPolicy,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NotFound => "death_not_found",
            Error::AlreadyRecorded => "already_recorded",
            Error::NotACounty => "not_a_county",
            Error::DiedInFuture => "died_in_future",
            Error::DiedBeforeBirth => "died_before_birth",
            Error::FuneralAlreadyRecorded => "funeral_already_recorded",
            Error::RecordedBeforeDeathRecord => "recorded_before_death_record",
            Error::CrematedBeforeDeath => "cremated_before_death",
            Error::BuriedBeforeDeath => "buried_before_death",
            Error::BuriedBeforeCremation => "buried_before_cremation",
            Error::FuneralInFuture => "funeral_in_future",
            Error::CremationRequired => "cremation_required",
            Error::InvalidBasicFee => "invalid_basic_fee",
            Error::InvalidWaiverPolicy => "invalid_waiver_policy",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            Error::NotFound => RefusalKind::NotFound,
            _ => RefusalKind::FailedPrecondition,
        }
    }
}

/// The waiver for `basic_fee` under `policy` and what remains payable: `basic_fee × percent /
/// 100` rounded down to the fen, no waiver for no assistance or a 0 % category.
pub fn decide_waiver(
    basic_fee: Fen,
    assistance: Option<&AssistanceOnDeath>,
    policy: &WaiverPolicy,
) -> Result<(Option<FeeWaiver>, Fen), Error> {
    if basic_fee.is_negative() {
        return Err(Error::InvalidBasicFee);
    }
    if !policy.is_valid() {
        return Err(Error::InvalidWaiverPolicy);
    }
    let Some(assistance) = assistance else {
        return Ok((None, basic_fee));
    };
    let percent = policy.percent(assistance.category);
    if percent == 0 {
        return Ok((None, basic_fee));
    }
    // A share of at most 100 % of a non-negative fee always fits; `None` cannot happen.
    let waived = basic_fee
        .checked_mul_div(i64::from(percent), 100, Rounding::Floor)
        .ok_or(Error::InvalidBasicFee)?;
    let payable = basic_fee
        .checked_sub(waived)
        .ok_or(Error::InvalidBasicFee)?;
    Ok((
        Some(FeeWaiver {
            category: assistance.category,
            case_id: assistance.case_id.clone(),
            waived,
        }),
        payable,
    ))
}

impl Aggregate for Death {
    const CATEGORY: &'static str = "death";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Record(c) => self.record_death(c),
            Command::RecordFuneral(c) => self.record_funeral(c),
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Recorded(e) => {
                self.record = Some(DeathRecord {
                    death: e.death.clone(),
                    citizen: e.citizen.clone(),
                    name: e.name.clone(),
                    died_on: e.died_on,
                    county: e.county,
                    source: e.source,
                    source_reference: e.source_reference.clone(),
                    recorded_on: e.recorded_on,
                    funeral: None,
                });
            }
            Event::FuneralRecorded(e) => {
                if let Some(record) = &mut self.record {
                    record.funeral = Some(Funeral {
                        funeral_home: e.funeral_home.clone(),
                        cremated_on: e.cremated_on,
                        burial: e.burial,
                        buried_on: e.buried_on,
                        basic_fee: e.basic_fee,
                        waiver: e.waiver.clone(),
                        payable: e.payable,
                        recorded_on: e.recorded_on,
                    });
                }
            }
        }
        self
    }
}

impl Death {
    fn record_death(&self, c: &Record) -> Result<Vec<Event>, Error> {
        if self.record.is_some() {
            return Err(Error::AlreadyRecorded);
        }
        if c.county.level() != RegionLevel::County {
            return Err(Error::NotACounty);
        }
        if c.died_on > c.recorded_on {
            return Err(Error::DiedInFuture);
        }
        if c.died_on < c.citizen.birth_date() {
            return Err(Error::DiedBeforeBirth);
        }
        Ok(vec![Event::Recorded(Recorded {
            death: c.death.clone(),
            citizen: c.citizen.clone(),
            name: c.name.clone(),
            died_on: c.died_on,
            county: c.county,
            source: c.source,
            source_reference: c.source_reference.clone(),
            recorded_on: c.recorded_on,
        })])
    }

    fn record_funeral(&self, c: &RecordFuneral) -> Result<Vec<Event>, Error> {
        let Some(record) = &self.record else {
            return Err(Error::NotFound);
        };
        if record.funeral.is_some() {
            return Err(Error::FuneralAlreadyRecorded);
        }
        if c.recorded_on < record.recorded_on {
            return Err(Error::RecordedBeforeDeathRecord);
        }
        if c.cremated_on.is_some_and(|day| day < record.died_on) {
            return Err(Error::CrematedBeforeDeath);
        }
        if c.buried_on < record.died_on {
            return Err(Error::BuriedBeforeDeath);
        }
        if c.cremated_on.is_some_and(|day| c.buried_on < day) {
            return Err(Error::BuriedBeforeCremation);
        }
        if c.buried_on > c.recorded_on || c.cremated_on.is_some_and(|day| day > c.recorded_on) {
            return Err(Error::FuneralInFuture);
        }
        if c.burial.needs_cremation() && c.cremated_on.is_none() {
            return Err(Error::CremationRequired);
        }
        let (waiver, payable) = decide_waiver(c.basic_fee, c.assistance.as_ref(), &c.policy)?;
        Ok(vec![Event::FuneralRecorded(FuneralRecorded {
            death: record.death.clone(),
            funeral_home: c.funeral_home.clone(),
            cremated_on: c.cremated_on,
            burial: c.burial,
            buried_on: c.buried_on,
            basic_fee: c.basic_fee,
            waiver,
            payable,
            recorded_on: c.recorded_on,
        })])
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;
    use crate::assistance::tests::{case, county, grandmother};

    pub(crate) fn text(s: &str) -> BoundedText {
        BoundedText::parse(s, 500).expect("test texts are valid")
    }

    pub(crate) fn pseudonym() -> Pseudonym {
        Pseudonym::parse("5f0c1d2e3f405162738495a6b7c8d9e0").expect("valid")
    }

    const CASE: &str = "210502-DB-2025-000123";

    fn record_command() -> Record {
        Record {
            death: pseudonym(),
            citizen: grandmother(),
            name: text("王秀兰"),
            died_on: date!(2025 - 07 - 01),
            county: county(),
            source: Source::Hospital,
            source_reference: Some(text("210502-2025-004711")),
            recorded_on: date!(2025 - 07 - 02),
        }
    }

    pub(crate) fn recorded() -> Event {
        Event::Recorded(Recorded {
            death: pseudonym(),
            citizen: grandmother(),
            name: text("王秀兰"),
            died_on: date!(2025 - 07 - 01),
            county: county(),
            source: Source::Hospital,
            source_reference: Some(text("210502-2025-004711")),
            recorded_on: date!(2025 - 07 - 02),
        })
    }

    fn record(change: impl FnOnce(&mut Record)) -> Command {
        let mut command = record_command();
        change(&mut command);
        Command::Record(command)
    }

    fn funeral_command() -> RecordFuneral {
        RecordFuneral {
            funeral_home: text("本溪市殡仪馆"),
            cremated_on: Some(date!(2025 - 07 - 03)),
            burial: BurialType::Tree,
            buried_on: date!(2025 - 07 - 05),
            basic_fee: Fen::new(150_000),
            assistance: Some(AssistanceOnDeath {
                category: AssistanceCategory::Dibao,
                case_id: case(CASE),
            }),
            policy: WaiverPolicy::default(),
            recorded_on: date!(2025 - 07 - 05),
        }
    }

    fn funeral(change: impl FnOnce(&mut RecordFuneral)) -> Command {
        let mut command = funeral_command();
        change(&mut command);
        Command::RecordFuneral(command)
    }

    /// The funeral of `funeral_command()` with the given waiver and payable amount.
    fn funeral_recorded(waiver: Option<FeeWaiver>, payable: Fen) -> FuneralRecorded {
        FuneralRecorded {
            death: pseudonym(),
            funeral_home: text("本溪市殡仪馆"),
            cremated_on: Some(date!(2025 - 07 - 03)),
            burial: BurialType::Tree,
            buried_on: date!(2025 - 07 - 05),
            basic_fee: Fen::new(150_000),
            waiver,
            payable,
            recorded_on: date!(2025 - 07 - 05),
        }
    }

    pub(crate) fn history() -> Vec<Event> {
        vec![
            recorded(),
            Event::FuneralRecorded(funeral_recorded(
                Some(FeeWaiver {
                    category: AssistanceCategory::Dibao,
                    case_id: case(CASE),
                    waived: Fen::new(150_000),
                }),
                Fen::ZERO,
            )),
        ]
    }

    #[test]
    fn a_death_is_recorded_then_its_funeral_with_the_waiver() {
        given::<Death>([]).when(record(|_| {})).then([recorded()]);
        let death = given::<Death>([recorded()])
            .when(funeral(|_| {}))
            .then([history()[1].clone()]);
        let record = death.record().expect("recorded");
        assert_eq!(record.death, pseudonym());
        assert_eq!(record.died_on, date!(2025 - 07 - 01));
        assert_eq!(record.source, Source::Hospital);
        let funeral = record.funeral.as_ref().expect("funeral recorded");
        assert!(funeral.burial.is_eco());
        assert_eq!(funeral.payable, Fen::ZERO);
        assert_eq!(
            funeral.waiver.as_ref().map(|w| w.waived),
            Some(Fen::new(150_000))
        );
    }

    #[test]
    fn a_death_is_recorded_once() {
        given::<Death>([recorded()])
            .when(record(|_| {}))
            .then_refused("already_recorded");
        // A second notifier is refused just the same.
        given::<Death>([recorded()])
            .when(record(|c| c.source = Source::Family))
            .then_refused("already_recorded");
    }

    #[test]
    fn a_death_is_counted_in_a_county() {
        given::<Death>([])
            .when(record(|c| {
                c.county = RegionCode::parse("210500000000").expect("valid city")
            }))
            .then_refused("not_a_county");
        given::<Death>([])
            .when(record(|c| {
                c.county = RegionCode::parse("210502001000").expect("valid township")
            }))
            .then_refused("not_a_county");
    }

    #[test]
    fn a_death_is_not_recorded_before_it_happened() {
        given::<Death>([])
            .when(record(|c| c.died_on = date!(2025 - 07 - 03)))
            .then_refused("died_in_future");
        // The same day is fine.
        given::<Death>([])
            .when(record(|c| c.recorded_on = date!(2025 - 07 - 01)))
            .then([Event::Recorded(Recorded {
                recorded_on: date!(2025 - 07 - 01),
                ..match recorded() {
                    Event::Recorded(e) => e,
                    Event::FuneralRecorded(_) => unreachable!(),
                }
            })]);
    }

    #[test]
    fn a_death_is_not_before_birth() {
        // Born 1949-12-31.
        given::<Death>([])
            .when(record(|c| c.died_on = date!(1949 - 12 - 30)))
            .then_refused("died_before_birth");
        let on_birth_day = given::<Death>([])
            .when(record(|c| c.died_on = date!(1949 - 12 - 31)))
            .outcome()
            .is_ok();
        assert!(on_birth_day);
    }

    #[test]
    fn a_funeral_needs_a_recorded_death() {
        let refusal = given::<Death>([])
            .when(funeral(|_| {}))
            .then_refused("death_not_found");
        assert_eq!(refusal.kind(), RefusalKind::NotFound);
        assert_eq!(
            Error::AlreadyRecorded.kind(),
            RefusalKind::FailedPrecondition
        );
    }

    #[test]
    fn a_funeral_is_recorded_once() {
        given::<Death>(history())
            .when(funeral(|_| {}))
            .then_refused("funeral_already_recorded");
    }

    #[test]
    fn funeral_dates_follow_the_death() {
        given::<Death>([recorded()])
            .when(funeral(|c| c.cremated_on = Some(date!(2025 - 06 - 30))))
            .then_refused("cremated_before_death");
        given::<Death>([recorded()])
            .when(funeral(|c| {
                c.burial = BurialType::TraditionalCemetery;
                c.cremated_on = None;
                c.buried_on = date!(2025 - 06 - 30);
            }))
            .then_refused("buried_before_death");
        given::<Death>([recorded()])
            .when(funeral(|c| c.buried_on = date!(2025 - 07 - 02)))
            .then_refused("buried_before_cremation");
        given::<Death>([recorded()])
            .when(funeral(|c| c.recorded_on = date!(2025 - 07 - 01)))
            .then_refused("recorded_before_death_record");
    }

    #[test]
    fn a_funeral_is_recorded_after_it_happened() {
        given::<Death>([recorded()])
            .when(funeral(|c| c.buried_on = date!(2025 - 07 - 06)))
            .then_refused("funeral_in_future");
        // Cremated and buried the day after the funeral is recorded.
        given::<Death>([recorded()])
            .when(funeral(|c| {
                c.recorded_on = date!(2025 - 07 - 02);
                c.cremated_on = Some(date!(2025 - 07 - 03));
                c.buried_on = date!(2025 - 07 - 03);
            }))
            .then_refused("funeral_in_future");
    }

    #[test]
    fn ashes_need_a_cremation_but_a_grave_does_not() {
        for burial in BurialType::ALL {
            let outcome = given::<Death>([recorded()])
                .when(funeral(|c| {
                    c.burial = burial;
                    c.cremated_on = None;
                }))
                .outcome()
                .clone();
            if burial == BurialType::TraditionalCemetery {
                assert!(outcome.is_ok(), "{burial:?}");
            } else {
                assert_eq!(
                    outcome.map_err(|e| e.rule().to_owned()),
                    Err("cremation_required".to_owned()),
                    "{burial:?}"
                );
            }
        }
    }

    #[test]
    fn eco_burials_are_the_four_kinds_of_the_plan() {
        let eco: Vec<BurialType> = BurialType::ALL.into_iter().filter(|b| b.is_eco()).collect();
        assert_eq!(
            eco,
            [
                BurialType::Sea,
                BurialType::Tree,
                BurialType::Lawn,
                BurialType::Flower
            ]
        );
    }

    #[test]
    fn the_fee_is_not_negative() {
        given::<Death>([recorded()])
            .when(funeral(|c| c.basic_fee = Fen::new(-1)))
            .then_refused("invalid_basic_fee");
    }

    #[test]
    fn an_invalid_policy_is_refused() {
        given::<Death>([recorded()])
            .when(funeral(|c| c.policy.low_income_percent = 101))
            .then_refused("invalid_waiver_policy");
        assert!(WaiverPolicy::default().is_valid());
    }

    #[test]
    fn without_assistance_the_family_pays_the_fee() {
        given::<Death>([recorded()])
            .when(funeral(|c| c.assistance = None))
            .then([Event::FuneralRecorded(funeral_recorded(
                None,
                Fen::new(150_000),
            ))]);
    }

    #[test]
    fn the_default_policy_frees_dibao_and_tekun_only() {
        for category in AssistanceCategory::ALL {
            let free = matches!(
                category,
                AssistanceCategory::Dibao | AssistanceCategory::Tekun
            );
            let expected = if free {
                funeral_recorded(
                    Some(FeeWaiver {
                        category,
                        case_id: case(CASE),
                        waived: Fen::new(150_000),
                    }),
                    Fen::ZERO,
                )
            } else {
                // A 0 % category gives no waiver at all.
                funeral_recorded(None, Fen::new(150_000))
            };
            given::<Death>([recorded()])
                .when(funeral(|c| {
                    c.assistance = Some(AssistanceOnDeath {
                        category,
                        case_id: case(CASE),
                    })
                }))
                .then([Event::FuneralRecorded(expected)]);
        }
    }

    #[test]
    fn a_partial_waiver_rounds_down_to_the_fen() {
        let policy = WaiverPolicy {
            low_income_percent: 33,
            ..WaiverPolicy::default()
        };
        // 33 % of 1 500.01 yuan is 495.0033 yuan: 49 500 fen waived, 100 501 fen payable.
        given::<Death>([recorded()])
            .when(funeral(|c| {
                c.basic_fee = Fen::new(150_001);
                c.policy = policy;
                c.assistance = Some(AssistanceOnDeath {
                    category: AssistanceCategory::LowIncome,
                    case_id: case(CASE),
                });
            }))
            .then([Event::FuneralRecorded(FuneralRecorded {
                basic_fee: Fen::new(150_001),
                waiver: Some(FeeWaiver {
                    category: AssistanceCategory::LowIncome,
                    case_id: case(CASE),
                    waived: Fen::new(49_500),
                }),
                payable: Fen::new(100_501),
                ..funeral_recorded(None, Fen::ZERO)
            })]);
        // 50 % of 3 fen: 1 fen waived, 2 payable.
        assert_eq!(
            decide_waiver(
                Fen::new(3),
                Some(&AssistanceOnDeath {
                    category: AssistanceCategory::Temporary,
                    case_id: case(CASE),
                }),
                &WaiverPolicy {
                    temporary_percent: 50,
                    ..WaiverPolicy::default()
                },
            )
            .map(|(w, payable)| (w.map(|w| w.waived), payable)),
            Ok((Some(Fen::new(1)), Fen::new(2)))
        );
    }
}
