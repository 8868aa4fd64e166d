//! An elderly-care institution (养老机构), stream `institution-<id>`: its registration and
//! licence, its beds by type over time, its residents, its service-quality grade (等级评定), its
//! credit record (信用+养老) and its social workers.
//!
//! Rules:
//! - the county is county-level and the division lies within it;
//! - beds and residents change in date order: no change is dated before the last one (so the
//!   state at the last change is the state "now", and any earlier day can be read back);
//! - an admission takes a bed of a type only while a bed of that type is free — two admissions
//!   racing for the last bed are decided one after the other on the stream's version, and the
//!   second is refused `no_free_bed`; a resident lives in one bed at a time (the person's own
//!   stream keeps them to one institution: [`crate::elder`]);
//! - beds never drop below the residents in them (`beds_below_occupancy`);
//! - a grade is 1 to 5 (0 withdraws it); the joint-punishment list and the fund-raising risk
//!   flag are set only when not set, and lifted or cleared only when set.
//!
//! Stored events are history: `apply` never re-checks a rule.

use std::collections::BTreeMap;

use minzheng_kit::aggregate::{Aggregate, DomainError};
use minzheng_types::{BoundedText, CitizenId, RegionCode, RegionLevel};
use time::Date;

use crate::ids::{ElderId, InstitutionId};

/// Longest registered name, in characters.
pub const NAME_MAX_CHARS: usize = 100;
/// Longest licence number.
pub const LICENCE_NUMBER_MAX_CHARS: usize = 64;
/// Longest reason for a change of beds, assessor of a grade, or credit-entry source.
pub const NOTE_MAX_CHARS: usize = 200;
/// Longest credit-entry description.
pub const DESCRIPTION_MAX_CHARS: usize = 500;
/// The highest grade (五级).
pub const MAX_GRADE: u8 = 5;

/// Who owns and runs an institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ownership {
    /// 公办公营.
    Public,
    /// 民办.
    Private,
    /// 公建民营.
    PublicBuiltPrivatelyRun,
}

/// The kind of a bed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BedType {
    General,
    /// 护理型床位.
    Nursing,
}

impl BedType {
    pub fn as_str(self) -> &'static str {
        match self {
            BedType::General => "general",
            BedType::Nursing => "nursing-type",
        }
    }
}

/// Licence (设立许可) or filing (备案).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenceKind {
    Licence,
    Filing,
}

/// Why a resident left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DischargeReason {
    Discharged,
    Transferred,
    Died,
}

/// What a credit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditKind {
    Violation,
    Penalty,
    JointPunishmentListed,
    JointPunishmentLifted,
    FundraisingRiskFlagged,
    FundraisingRiskCleared,
}

/// Beds by type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Beds {
    pub general: u32,
    pub nursing: u32,
}

impl Beds {
    pub fn of(&self, bed_type: BedType) -> u32 {
        match bed_type {
            BedType::General => self.general,
            BedType::Nursing => self.nursing,
        }
    }

    fn of_mut(&mut self, bed_type: BedType) -> &mut u32 {
        match bed_type {
            BedType::General => &mut self.general,
            BedType::Nursing => &mut self.nursing,
        }
    }

    pub fn total(&self) -> u32 {
        self.general.saturating_add(self.nursing)
    }
}

/// What was registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: InstitutionId,
    pub name: BoundedText,
    pub ownership: Ownership,
    pub county: RegionCode,
    pub division: RegionCode,
    pub registered_on: Date,
}

/// A licence or filing record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Licence {
    pub kind: LicenceKind,
    pub number: BoundedText,
    pub issued_on: Date,
}

/// A resident living in the institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Residence {
    pub citizen: CitizenId,
    pub bed_type: BedType,
    /// The day they took their present bed.
    pub since: Date,
    /// The day they were admitted.
    pub admitted_on: Date,
}

/// One entry of the credit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditEntry {
    pub kind: CreditKind,
    pub on: Date,
    pub description: BoundedText,
    pub source: BoundedText,
}

/// A dated value: what held from `from` on, until the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dated<T> {
    pub from: Date,
    pub value: T,
}

/// The latest value dated on or before `day`.
pub fn as_of<T: Copy>(history: &[Dated<T>], day: Date) -> Option<T> {
    history
        .iter()
        .rev()
        .find(|dated| dated.from <= day)
        .map(|dated| dated.value)
}

/// The state of one institution; `Default` is one not registered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Institution {
    profile: Option<Profile>,
    licence: Option<Licence>,
    beds: Vec<Dated<Beds>>,
    /// Occupied beds by type after each change of occupancy, for reading a past day.
    occupancy: Vec<Dated<Beds>>,
    residents: BTreeMap<ElderId, Residence>,
    grades: Vec<Dated<u8>>,
    credit: Vec<CreditEntry>,
    social_workers: Vec<Dated<u32>>,
    /// The day of the last change of beds or residents.
    last_change: Option<Date>,
}

impl Institution {
    pub fn profile(&self) -> Option<&Profile> {
        self.profile.as_ref()
    }

    pub fn licence(&self) -> Option<&Licence> {
        self.licence.as_ref()
    }

    /// The beds in force on `day` (none before registration).
    pub fn beds_on(&self, day: Date) -> Beds {
        as_of(&self.beds, day).unwrap_or_default()
    }

    /// The beds now (after the last change).
    pub fn beds(&self) -> Beds {
        self.beds.last().map(|b| b.value).unwrap_or_default()
    }

    /// The occupied beds by type on `day`.
    pub fn occupied_on(&self, day: Date) -> Beds {
        as_of(&self.occupancy, day).unwrap_or_default()
    }

    /// The occupied beds by type now.
    pub fn occupied(&self) -> Beds {
        self.occupancy.last().map(|b| b.value).unwrap_or_default()
    }

    /// The residents now, by pseudonym.
    pub fn residents(&self) -> &BTreeMap<ElderId, Residence> {
        &self.residents
    }

    /// The grade on `day`; 0 when ungraded.
    pub fn grade_on(&self, day: Date) -> u8 {
        as_of(&self.grades, day).unwrap_or(0)
    }

    /// The social workers on staff on `day`.
    pub fn social_workers_on(&self, day: Date) -> u32 {
        as_of(&self.social_workers, day).unwrap_or(0)
    }

    /// The day of the last change of beds or residents.
    pub fn last_change(&self) -> Option<Date> {
        self.last_change
    }

    /// Every credit entry, oldest first.
    pub fn credit_record(&self) -> &[CreditEntry] {
        &self.credit
    }

    /// Whether the institution is on the joint-punishment list on `day`.
    pub fn jointly_punished_on(&self, day: Date) -> bool {
        self.flag_on(
            day,
            CreditKind::JointPunishmentListed,
            CreditKind::JointPunishmentLifted,
        )
        .is_some()
    }

    /// The entry that flagged a fund-raising risk still standing on `day`.
    pub fn fundraising_risk_on(&self, day: Date) -> Option<&CreditEntry> {
        self.flag_on(
            day,
            CreditKind::FundraisingRiskFlagged,
            CreditKind::FundraisingRiskCleared,
        )
    }

    fn flag_on(&self, day: Date, set: CreditKind, clear: CreditKind) -> Option<&CreditEntry> {
        self.credit
            .iter()
            .rfind(|e| e.on <= day && (e.kind == set || e.kind == clear))
            .filter(|e| e.kind == set)
    }
}

/// What can be asked of an institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Register(Register),
    RecordLicence(Licence),
    ChangeBeds(ChangeBeds),
    Admit(Admit),
    Discharge(Discharge),
    Move(Move),
    Grade(Grade),
    RecordCredit(CreditEntry),
    ReportSocialWorkers { count: u32, on: Date },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    pub profile: Profile,
    pub beds: Beds,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeBeds {
    pub on: Date,
    pub beds: Beds,
    pub reason: BoundedText,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admit {
    pub citizen: CitizenId,
    pub elder: ElderId,
    pub bed_type: BedType,
    pub on: Date,
    pub transferred_from: Option<InstitutionId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discharge {
    pub elder: ElderId,
    pub on: Date,
    pub reason: DischargeReason,
    pub transferred_to: Option<InstitutionId>,
    /// The civil registry's death record, when learnt from it.
    pub death_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub elder: ElderId,
    pub bed_type: BedType,
    pub on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grade {
    pub grade: u8,
    pub on: Date,
    pub assessor: BoundedText,
}

/// What happened to an institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Registered(Profile),
    LicenceRecorded(LicenceRecorded),
    BedsChanged(BedsChanged),
    ResidentAdmitted(ResidentAdmitted),
    ResidentDischarged(ResidentDischarged),
    ResidentMoved(ResidentMoved),
    QualityGraded(QualityGraded),
    CreditEntryRecorded(CreditEntryRecorded),
    SocialWorkersReported(SocialWorkersReported),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceRecorded {
    pub institution: InstitutionId,
    pub licence: Licence,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualityGraded {
    pub institution: InstitutionId,
    pub grade: Grade,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditEntryRecorded {
    pub institution: InstitutionId,
    pub entry: CreditEntry,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialWorkersReported {
    pub institution: InstitutionId,
    pub count: u32,
    pub on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedsChanged {
    pub institution: InstitutionId,
    pub on: Date,
    pub beds: Beds,
    pub reason: BoundedText,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentAdmitted {
    pub institution: InstitutionId,
    pub citizen: CitizenId,
    pub elder: ElderId,
    pub bed_type: BedType,
    pub on: Date,
    pub transferred_from: Option<InstitutionId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentDischarged {
    pub institution: InstitutionId,
    pub citizen: CitizenId,
    pub elder: ElderId,
    pub on: Date,
    pub reason: DischargeReason,
    pub transferred_to: Option<InstitutionId>,
    pub death_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentMoved {
    pub institution: InstitutionId,
    pub citizen: CitizenId,
    pub elder: ElderId,
    pub bed_type: BedType,
    pub on: Date,
}

/// A rule that refused an institution command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the institution is already registered")]
    AlreadyRegistered,
    #[error("no institution is registered under this id")]
    NotRegistered,
    #[error("the supervising division must be county-level")]
    NotACounty,
    #[error("the institution's division must lie within its county")]
    DivisionOutsideCounty,
    #[error("the date is before the institution was registered")]
    BeforeRegistration,
    #[error("the date is before the institution's last change of beds or residents")]
    BeforeLastChange,
    #[error("every {0} bed is taken")]
    NoFreeBed(&'static str),
    #[error("fewer {0} beds than residents in them")]
    BedsBelowOccupancy(&'static str),
    #[error("the person already lives in this institution")]
    AlreadyResident,
    #[error("the person does not live in this institution")]
    NotResident,
    #[error("the resident already has a bed of that type")]
    SameBedType,
    #[error("a grade is 1 to 5, or 0 to withdraw it")]
    GradeOutOfRange,
    #[error("the institution is already on the joint-punishment list")]
    AlreadyListed,
    #[error("the institution is not on the joint-punishment list")]
    NotListed,
    #[error("a fund-raising risk is already flagged")]
    AlreadyFlagged,
    #[error("no fund-raising risk is flagged")]
    NotFlagged,
    #[error("the date is before the last entry of the same kind")]
    BeforeLastEntry,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::AlreadyRegistered => "already_registered",
            Error::NotRegistered => "institution_not_registered",
            Error::NotACounty => "not_a_county",
            Error::DivisionOutsideCounty => "division_outside_county",
            Error::BeforeRegistration => "before_registration",
            Error::BeforeLastChange => "before_last_change",
            Error::NoFreeBed(_) => "no_free_bed",
            Error::BedsBelowOccupancy(_) => "beds_below_occupancy",
            Error::AlreadyResident => "already_resident",
            Error::NotResident => "not_resident",
            Error::SameBedType => "same_bed_type",
            Error::GradeOutOfRange => "grade_out_of_range",
            Error::AlreadyListed => "already_listed",
            Error::NotListed => "not_listed",
            Error::AlreadyFlagged => "already_flagged",
            Error::NotFlagged => "not_flagged",
            Error::BeforeLastEntry => "before_last_entry",
        }
    }
}

impl Institution {
    fn registered(&self) -> Result<&Profile, Error> {
        self.profile.as_ref().ok_or(Error::NotRegistered)
    }

    /// A change of beds or residents on `on`: registered by then, not before the last change.
    fn check_change_day(&self, on: Date) -> Result<(), Error> {
        let profile = self.registered()?;
        if on < profile.registered_on {
            return Err(Error::BeforeRegistration);
        }
        if self.last_change.is_some_and(|last| on < last) {
            return Err(Error::BeforeLastChange);
        }
        Ok(())
    }

    fn check_free(&self, bed_type: BedType) -> Result<(), Error> {
        if self.occupied().of(bed_type) >= self.beds().of(bed_type) {
            return Err(Error::NoFreeBed(bed_type.as_str()));
        }
        Ok(())
    }

    fn resident(&self, elder: &ElderId) -> Result<&Residence, Error> {
        self.residents.get(elder).ok_or(Error::NotResident)
    }

    fn check_dated<T>(history: &[Dated<T>], on: Date) -> Result<(), Error> {
        match history.last() {
            Some(last) if on < last.from => Err(Error::BeforeLastEntry),
            _ => Ok(()),
        }
    }

    fn credit(&self, entry: &CreditEntry) -> Result<(), Error> {
        let listed = self.jointly_punished_on(Date::MAX);
        let flagged = self.fundraising_risk_on(Date::MAX).is_some();
        match entry.kind {
            CreditKind::JointPunishmentListed if listed => Err(Error::AlreadyListed),
            CreditKind::JointPunishmentLifted if !listed => Err(Error::NotListed),
            CreditKind::FundraisingRiskFlagged if flagged => Err(Error::AlreadyFlagged),
            CreditKind::FundraisingRiskCleared if !flagged => Err(Error::NotFlagged),
            _ => {
                let last = self
                    .credit
                    .iter()
                    .filter(|e| same_flag(e.kind, entry.kind))
                    .map(|e| e.on)
                    .max();
                if last.is_some_and(|last| entry.on < last) {
                    Err(Error::BeforeLastEntry)
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// Whether two kinds set or clear the same flag (so their order matters).
fn same_flag(a: CreditKind, b: CreditKind) -> bool {
    use CreditKind::*;
    let flag = |k| match k {
        JointPunishmentListed | JointPunishmentLifted => 1,
        FundraisingRiskFlagged | FundraisingRiskCleared => 2,
        Violation | Penalty => 0,
    };
    flag(a) != 0 && flag(a) == flag(b)
}

impl Aggregate for Institution {
    const CATEGORY: &'static str = "institution";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Register(c) => {
                if self.profile.is_some() {
                    return Err(Error::AlreadyRegistered);
                }
                let p = &c.profile;
                if p.county.level() != RegionLevel::County {
                    return Err(Error::NotACounty);
                }
                if p.division == p.county || !p.county.contains(p.division) {
                    return Err(Error::DivisionOutsideCounty);
                }
                Ok(vec![
                    Event::Registered(p.clone()),
                    Event::BedsChanged(BedsChanged {
                        institution: p.id,
                        on: p.registered_on,
                        beds: c.beds,
                        reason: BoundedText::parse("registered", NOTE_MAX_CHARS)
                            .expect("a valid constant text"),
                    }),
                ])
            }
            Command::RecordLicence(licence) => {
                let profile = self.registered()?;
                Ok(vec![Event::LicenceRecorded(LicenceRecorded {
                    institution: profile.id,
                    licence: licence.clone(),
                })])
            }
            Command::ChangeBeds(c) => {
                self.check_change_day(c.on)?;
                let occupied = self.occupied();
                for bed_type in [BedType::General, BedType::Nursing] {
                    if c.beds.of(bed_type) < occupied.of(bed_type) {
                        return Err(Error::BedsBelowOccupancy(bed_type.as_str()));
                    }
                }
                Ok(vec![Event::BedsChanged(BedsChanged {
                    institution: self.registered()?.id,
                    on: c.on,
                    beds: c.beds,
                    reason: c.reason.clone(),
                })])
            }
            Command::Admit(c) => {
                self.check_change_day(c.on)?;
                if self.residents.contains_key(&c.elder) {
                    return Err(Error::AlreadyResident);
                }
                self.check_free(c.bed_type)?;
                Ok(vec![Event::ResidentAdmitted(ResidentAdmitted {
                    institution: self.registered()?.id,
                    citizen: c.citizen.clone(),
                    elder: c.elder.clone(),
                    bed_type: c.bed_type,
                    on: c.on,
                    transferred_from: c.transferred_from,
                })])
            }
            Command::Discharge(c) => {
                self.check_change_day(c.on)?;
                let residence = self.resident(&c.elder)?;
                Ok(vec![Event::ResidentDischarged(ResidentDischarged {
                    institution: self.registered()?.id,
                    citizen: residence.citizen.clone(),
                    elder: c.elder.clone(),
                    on: c.on,
                    reason: c.reason,
                    transferred_to: c.transferred_to,
                    death_id: c.death_id.clone(),
                })])
            }
            Command::Move(c) => {
                self.check_change_day(c.on)?;
                let residence = self.resident(&c.elder)?;
                if residence.bed_type == c.bed_type {
                    return Err(Error::SameBedType);
                }
                self.check_free(c.bed_type)?;
                Ok(vec![Event::ResidentMoved(ResidentMoved {
                    institution: self.registered()?.id,
                    citizen: residence.citizen.clone(),
                    elder: c.elder.clone(),
                    bed_type: c.bed_type,
                    on: c.on,
                })])
            }
            Command::Grade(c) => {
                let profile = self.registered()?;
                if c.grade > MAX_GRADE {
                    return Err(Error::GradeOutOfRange);
                }
                if c.on < profile.registered_on {
                    return Err(Error::BeforeRegistration);
                }
                Self::check_dated(&self.grades, c.on)?;
                Ok(vec![Event::QualityGraded(QualityGraded {
                    institution: profile.id,
                    grade: c.clone(),
                })])
            }
            Command::RecordCredit(entry) => {
                let profile = self.registered()?;
                self.credit(entry)?;
                Ok(vec![Event::CreditEntryRecorded(CreditEntryRecorded {
                    institution: profile.id,
                    entry: entry.clone(),
                })])
            }
            Command::ReportSocialWorkers { count, on } => {
                let profile = self.registered()?;
                if *on < profile.registered_on {
                    return Err(Error::BeforeRegistration);
                }
                Self::check_dated(&self.social_workers, *on)?;
                Ok(vec![Event::SocialWorkersReported(SocialWorkersReported {
                    institution: profile.id,
                    count: *count,
                    on: *on,
                })])
            }
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Registered(profile) => self.profile = Some(profile.clone()),
            Event::LicenceRecorded(e) => self.licence = Some(e.licence.clone()),
            Event::BedsChanged(e) => {
                push_dated(&mut self.beds, e.on, e.beds);
                self.last_change = Some(e.on);
            }
            Event::ResidentAdmitted(e) => {
                self.residents.insert(
                    e.elder.clone(),
                    Residence {
                        citizen: e.citizen.clone(),
                        bed_type: e.bed_type,
                        since: e.on,
                        admitted_on: e.on,
                    },
                );
                self.occupancy_changed(e.on);
            }
            Event::ResidentDischarged(e) => {
                self.residents.remove(&e.elder);
                self.occupancy_changed(e.on);
            }
            Event::ResidentMoved(e) => {
                if let Some(residence) = self.residents.get_mut(&e.elder) {
                    residence.bed_type = e.bed_type;
                    residence.since = e.on;
                }
                self.occupancy_changed(e.on);
            }
            Event::QualityGraded(e) => push_dated(&mut self.grades, e.grade.on, e.grade.grade),
            Event::CreditEntryRecorded(e) => self.credit.push(e.entry.clone()),
            Event::SocialWorkersReported(e) => push_dated(&mut self.social_workers, e.on, e.count),
        }
        self
    }
}

impl Institution {
    fn occupancy_changed(&mut self, on: Date) {
        let mut occupied = Beds::default();
        for residence in self.residents.values() {
            *occupied.of_mut(residence.bed_type) += 1;
        }
        push_dated(&mut self.occupancy, on, occupied);
        self.last_change = Some(self.last_change.map_or(on, |last| last.max(on)));
    }
}

/// Records `value` from `from` on: a second value on the same day replaces the first.
fn push_dated<T>(history: &mut Vec<Dated<T>>, from: Date, value: T) {
    match history.last_mut() {
        Some(last) if last.from == from => last.value = value,
        _ => history.push(Dated { from, value }),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;

    pub(crate) fn id() -> InstitutionId {
        InstitutionId::parse("EC-210502-0001").expect("valid")
    }

    pub(crate) fn text(s: &str) -> BoundedText {
        BoundedText::parse(s, 500).expect("valid")
    }

    pub(crate) fn citizen(n: u32) -> CitizenId {
        CitizenId::from_parts(
            "210502",
            date!(1940 - 05 - 01),
            u16::try_from(n % 1000).expect("small"),
        )
        .expect("a valid citizen id")
    }

    pub(crate) fn elder(n: u32) -> ElderId {
        ElderId::parse(&format!("{n:032x}")).expect("valid")
    }

    fn profile() -> Profile {
        Profile {
            id: id(),
            name: text("平山区社会福利中心"),
            ownership: Ownership::Public,
            county: RegionCode::parse("210502000000").expect("valid"),
            division: RegionCode::parse("210502001000").expect("valid"),
            registered_on: date!(2020 - 01 - 01),
        }
    }

    pub(crate) fn registered(general: u32, nursing: u32) -> Vec<Event> {
        vec![
            Event::Registered(profile()),
            Event::BedsChanged(BedsChanged {
                institution: id(),
                on: date!(2020 - 01 - 01),
                beds: Beds { general, nursing },
                reason: text("registered"),
            }),
        ]
    }

    fn admit(n: u32, bed_type: BedType, on: Date) -> Command {
        Command::Admit(Admit {
            citizen: citizen(n),
            elder: elder(n),
            bed_type,
            on,
            transferred_from: None,
        })
    }

    fn admitted(n: u32, bed_type: BedType, on: Date) -> Event {
        Event::ResidentAdmitted(ResidentAdmitted {
            institution: id(),
            citizen: citizen(n),
            elder: elder(n),
            bed_type,
            on,
            transferred_from: None,
        })
    }

    #[test]
    fn registration_records_the_profile_and_the_first_beds() {
        let state = given::<Institution>([])
            .when(Command::Register(Register {
                profile: profile(),
                beds: Beds {
                    general: 70,
                    nursing: 30,
                },
            }))
            .then(registered(70, 30));
        assert_eq!(state.beds().total(), 100);
        assert_eq!(state.beds_on(date!(2019 - 12 - 31)).total(), 0);
        given::<Institution>(registered(1, 1))
            .when(Command::Register(Register {
                profile: profile(),
                beds: Beds::default(),
            }))
            .then_refused("already_registered");
        let mut outside = profile();
        outside.division = RegionCode::parse("210503001000").expect("valid");
        given::<Institution>([])
            .when(Command::Register(Register {
                profile: outside,
                beds: Beds::default(),
            }))
            .then_refused("division_outside_county");
    }

    #[test]
    fn an_admission_beyond_capacity_is_refused() {
        let mut history = registered(1, 1);
        history.push(admitted(1, BedType::Nursing, date!(2024 - 03 - 01)));
        given::<Institution>(history.clone())
            .when(admit(2, BedType::Nursing, date!(2024 - 03 - 02)))
            .then_refused("no_free_bed");
        let state = given::<Institution>(history.clone())
            .when(admit(2, BedType::General, date!(2024 - 03 - 02)))
            .then([admitted(2, BedType::General, date!(2024 - 03 - 02))]);
        assert_eq!(
            state.occupied(),
            Beds {
                general: 1,
                nursing: 1
            }
        );
        assert_eq!(state.occupied_on(date!(2024 - 03 - 01)).total(), 1);
        given::<Institution>(history)
            .when(admit(1, BedType::General, date!(2024 - 03 - 02)))
            .then_refused("already_resident");
    }

    #[test]
    fn a_discharge_frees_the_bed_and_beds_never_drop_below_their_residents() {
        let mut history = registered(0, 1);
        history.push(admitted(1, BedType::Nursing, date!(2024 - 03 - 01)));
        given::<Institution>(history.clone())
            .when(Command::ChangeBeds(ChangeBeds {
                on: date!(2024 - 04 - 01),
                beds: Beds {
                    general: 10,
                    nursing: 0,
                },
                reason: text("改造"),
            }))
            .then_refused("beds_below_occupancy");
        history.push(Event::ResidentDischarged(ResidentDischarged {
            institution: id(),
            citizen: citizen(1),
            elder: elder(1),
            on: date!(2024 - 04 - 01),
            reason: DischargeReason::Died,
            transferred_to: None,
            death_id: None,
        }));
        given::<Institution>(history.clone())
            .when(admit(2, BedType::Nursing, date!(2024 - 04 - 02)))
            .then([admitted(2, BedType::Nursing, date!(2024 - 04 - 02))]);
        given::<Institution>(history.clone())
            .when(admit(2, BedType::Nursing, date!(2024 - 03 - 31)))
            .then_refused("before_last_change");
        given::<Institution>(history)
            .when(Command::Discharge(Discharge {
                elder: elder(1),
                on: date!(2024 - 04 - 02),
                reason: DischargeReason::Discharged,
                transferred_to: None,
                death_id: None,
            }))
            .then_refused("not_resident");
    }

    #[test]
    fn a_move_takes_a_free_bed_of_the_other_type() {
        let mut history = registered(1, 1);
        history.push(admitted(1, BedType::General, date!(2024 - 03 - 01)));
        let state = given::<Institution>(history.clone())
            .when(Command::Move(Move {
                elder: elder(1),
                bed_type: BedType::Nursing,
                on: date!(2024 - 05 - 01),
            }))
            .then([Event::ResidentMoved(ResidentMoved {
                institution: id(),
                citizen: citizen(1),
                elder: elder(1),
                bed_type: BedType::Nursing,
                on: date!(2024 - 05 - 01),
            })]);
        assert_eq!(state.occupied().nursing, 1);
        assert_eq!(state.occupied().general, 0);
        given::<Institution>(history)
            .when(Command::Move(Move {
                elder: elder(1),
                bed_type: BedType::General,
                on: date!(2024 - 05 - 01),
            }))
            .then_refused("same_bed_type");
    }

    #[test]
    fn flags_are_set_only_when_unset_and_read_back_by_day() {
        let entry = |kind, on| CreditEntry {
            kind,
            on,
            description: text("检查发现消防隐患"),
            source: text("本溪市民政局"),
        };
        let mut history = registered(1, 1);
        history.push(Event::CreditEntryRecorded(CreditEntryRecorded {
            institution: id(),
            entry: entry(CreditKind::FundraisingRiskFlagged, date!(2024 - 01 - 10)),
        }));
        given::<Institution>(history.clone())
            .when(Command::RecordCredit(entry(
                CreditKind::FundraisingRiskFlagged,
                date!(2024 - 02 - 01),
            )))
            .then_refused("already_flagged");
        given::<Institution>(history.clone())
            .when(Command::RecordCredit(entry(
                CreditKind::JointPunishmentLifted,
                date!(2024 - 02 - 01),
            )))
            .then_refused("not_listed");
        history.push(Event::CreditEntryRecorded(CreditEntryRecorded {
            institution: id(),
            entry: entry(CreditKind::FundraisingRiskCleared, date!(2024 - 06 - 01)),
        }));
        let state = given::<Institution>(history);
        let state = state.state();
        assert!(state.fundraising_risk_on(date!(2024 - 01 - 09)).is_none());
        assert!(state.fundraising_risk_on(date!(2024 - 03 - 01)).is_some());
        assert!(state.fundraising_risk_on(date!(2024 - 06 - 01)).is_none());
    }

    #[test]
    fn grades_are_one_to_five_and_read_back_by_day() {
        given::<Institution>(registered(1, 1))
            .when(Command::Grade(Grade {
                grade: 6,
                on: date!(2024 - 01 - 01),
                assessor: text("市评定委员会"),
            }))
            .then_refused("grade_out_of_range");
        let mut history = registered(1, 1);
        history.push(Event::QualityGraded(QualityGraded {
            institution: id(),
            grade: Grade {
                grade: 3,
                on: date!(2023 - 01 - 01),
                assessor: text("市评定委员会"),
            },
        }));
        let given = given::<Institution>(history);
        assert_eq!(given.state().grade_on(date!(2022 - 12 - 31)), 0);
        assert_eq!(given.state().grade_on(date!(2023 - 01 - 01)), 3);
        given
            .when(Command::Grade(Grade {
                grade: 4,
                on: date!(2022 - 06 - 01),
                assessor: text("市评定委员会"),
            }))
            .then_refused("before_last_entry");
    }
}
