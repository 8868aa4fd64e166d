//! One child's record, stream `child-<ChildId>` (the pseudonym of the child's citizen id,
//! [`crate::ids::ChildId`]): their identification as an orphan (孤儿) or a de-facto unsupported
//! child (事实无人抚养儿童) with the facts about each parent and where each fact comes from, their
//! care arrangements, revisions of a parent's facts, the adoption registration (收养登记,
//! [`crate::adoption`]) and their death. [`ChildRecord::allowance`] computes a month's
//! basic-living allowance (基本生活费) from the record with [`allowance::monthly`].
//!
//! # Rules (refusals carry the rule id in brackets)
//!
//! - **Identification** (认定) by the county-level civil-affairs bureau, under 国办发〔2010〕54号
//!   (orphans) and 民发〔2019〕62号 (de-facto unsupported children): the child lives in a
//!   township- or village-level division (`division_not_local`) and is under 18 on the day
//!   (`not_a_minor`, age from the citizen id's birth date); the two parents' situations make a
//!   basis ([`allowance::identify`], `not_covered`).
//! - **Each fact has its source**: a parent in any situation but able (`Able`) needs the record
//!   it comes from (`source_required`), of a kind that can prove it (`source_mismatch`,
//!   [`FactSourceKind::proves`]): a death, from a civil-registration death, a court's
//!   declaration of death or a public-security record (户籍注销); a parent not found or out of
//!   contact (失联), from public security (62号: 公安机关出具的查找不到/失联证明); declared missing,
//!   from a court; a severe disability, from a disability certificate (残疾人证, grade 1 or 2); a
//!   severe illness, from a medical record; a sentence, custody or another restriction of
//!   liberty, from a court, the judicial administration (服刑在押 / 戒毒) or public security;
//!   compulsory drug rehabilitation, from public security (which decides it) or the judicial
//!   administration. `Other` (e.g. a village committee's certificate) goes with any situation.
//! - A child is identified once while covered (`already_identified`); never once adopted
//!   (`adopted`) or dead (`deceased`); a child whose coverage **ceased** may be identified again,
//!   on or after the day it ceased (`before_cessation`), which opens a new coverage.
//! - **Care** (集中供养 in a child-welfare institution, named; 社会散居 with family, no
//!   institution: `institution_required`, `institution_for_family_care`) is arranged for a
//!   covered child (`not_identified` when never identified, `coverage_ceased` after it ceased),
//!   from a day not before the identification (`before_identification`) nor the latest
//!   arrangement (`before_last_arrangement`), before the 18th birthday (`not_a_minor`).
//! - **A parent's facts are revised** (e.g. released from prison, or found) under the same
//!   conditions, dated not before the latest revision (`before_last_revision`); a revision to
//!   the facts already recorded records nothing. When the new facts make no basis, coverage
//!   ends that day (`CoverageCeased`, [`CessationReason::NoBasis`]) and the allowance is paid
//!   through that month.
//! - **An adoption** is registered for any minor, identified here or not, under the Civil
//!   Code's checks ([`adoption::check`], whose rule ids it returns); never for a dead child or
//!   one already adopted. From that day the child is not covered; the allowance is paid through
//!   the month of the registration.
//! - **A death** is noted from the civil registry (the service's consumer of its deaths sends
//!   [`Command::NoteDeath`]), also for a minor the service does not know yet: a death recorded
//!   before the identification then refuses it (`deceased`), so no allowance is ever paid after
//!   a death whatever order the two arrive in. A second notice records nothing. The allowance
//!   is paid through the month of death.
//! - The allowance also ends with the month of the 18th birthday; see
//!   [`allowance`](crate::allowance#the-months-allowance-monthly) for every month rule.
//! - A command naming a citizen id is for the stream's own child (`wrong_child`).
//!
//! Stored events are history: `apply` never re-checks a rule.
//!
//! PERSONAL DATA: the child's citizen id is kept in the state and the events that name it;
//! `Debug` never prints it, and no refusal message names the child.

use std::fmt;

use minzheng_kit::aggregate::{Aggregate, DomainError, RefusalKind};
use minzheng_types::{BoundedText, CitizenId, RegionCode, RegionLevel, age_on};
use time::Date;

use crate::{
    adoption,
    allowance::{self, AllowancePolicy, Basis, Care, CareFrom, Line, ParentSituation},
};

/// The age from which a person is no longer a minor.
pub const ADULT_AGE: u32 = allowance::END_AGE;
/// Longest source reference, death registration reference.
pub const REFERENCE_MAX_CHARS: usize = 200;
/// Longest institution name.
pub const INSTITUTION_MAX_CHARS: usize = 200;

/// What kind of record proves a parent's situation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FactSourceKind {
    /// A death registered with the civil registry.
    CivilRegistrationDeath,
    /// A court record: a judgment declaring missing or dead (宣告失踪/死亡), a sentence.
    CourtRecord,
    /// A public-security record (公安): not found (查找不到), out of contact (失联), a decision
    /// of compulsory rehabilitation or detention, a household registration cancelled on death.
    PoliceRecord,
    /// 残疾人证.
    DisabilityCertificate,
    /// A diagnosis of a severe illness (重病).
    MedicalRecord,
    /// The judicial administration's record: serving a sentence, in custody, in rehabilitation
    /// (服刑在押, 戒毒).
    DetentionRecord,
    /// Another record, e.g. a village or residents' committee's certificate.
    Other,
}

impl FactSourceKind {
    pub const ALL: [FactSourceKind; 7] = [
        FactSourceKind::CivilRegistrationDeath,
        FactSourceKind::CourtRecord,
        FactSourceKind::PoliceRecord,
        FactSourceKind::DisabilityCertificate,
        FactSourceKind::MedicalRecord,
        FactSourceKind::DetentionRecord,
        FactSourceKind::Other,
    ];

    /// Whether a record of this kind can prove `situation`; see the [module
    /// documentation](self#rules-refusals-carry-the-rule-id-in-brackets).
    pub fn proves(self, situation: ParentSituation) -> bool {
        use FactSourceKind as K;
        use ParentSituation as S;
        if self == K::Other {
            return true;
        }
        match situation {
            S::Able => true,
            S::Dead => matches!(
                self,
                K::CivilRegistrationDeath | K::CourtRecord | K::PoliceRecord
            ),
            S::NotFound | S::OutOfContact => self == K::PoliceRecord,
            S::DeclaredMissing => self == K::CourtRecord,
            S::SevereDisability => self == K::DisabilityCertificate,
            S::SevereIllness => self == K::MedicalRecord,
            S::Imprisoned | S::OtherRestrictionOfLiberty => {
                matches!(self, K::CourtRecord | K::DetentionRecord | K::PoliceRecord)
            }
            S::CompulsoryDrugRehabilitation => {
                matches!(self, K::PoliceRecord | K::DetentionRecord)
            }
        }
    }
}

/// The record a parent's situation comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactSource {
    pub kind: FactSourceKind,
    /// The record's number, issuer and date, as written on it.
    pub reference: BoundedText,
}

/// One parent's situation and its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentFact {
    pub situation: ParentSituation,
    /// Required unless the parent is able.
    pub source: Option<FactSource>,
}

/// Which parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parent {
    Father,
    Mother,
}

impl fmt::Display for Parent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Parent::Father => "father",
            Parent::Mother => "mother",
        })
    }
}

/// Why coverage ended before 18, adoption or death.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CessationReason {
    /// The parents' revised situations no longer make a basis.
    NoBasis,
}

/// A care arrangement from a day on, until the next one (the `CareArranged` event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareArrangement {
    pub care: Care,
    pub from: Date,
    /// The child-welfare institution's name, for centralized care.
    pub institution: Option<BoundedText>,
}

/// One period of coverage, from an identification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The basis the parents' current facts make (the last one that made one, once ceased).
    pub basis: Basis,
    pub identified_on: Date,
    pub father: ParentFact,
    pub mother: ParentFact,
    /// In the order recorded.
    pub care: Vec<CareArrangement>,
    /// The day of the latest revision of a parent's facts.
    pub last_revision: Option<Date>,
    /// The day coverage ceased, and why.
    pub ceased: Option<(Date, CessationReason)>,
}

impl Coverage {
    pub fn ceased_on(&self) -> Option<Date> {
        self.ceased.map(|(on, _)| on)
    }

    fn fact_mut(&mut self, parent: Parent) -> &mut ParentFact {
        match parent {
            Parent::Father => &mut self.father,
            Parent::Mother => &mut self.mother,
        }
    }

    fn fact(&self, parent: Parent) -> &ParentFact {
        match parent {
            Parent::Father => &self.father,
            Parent::Mother => &self.mother,
        }
    }
}

/// The child's death as the civil registry registered it (the `DeathNoted` event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Death {
    pub on: Date,
    /// The civil registry's death registration reference.
    pub registration: BoundedText,
}

/// Identify a child as covered.
#[derive(Clone, PartialEq, Eq)]
pub struct Identify {
    /// PERSONAL DATA.
    pub child: CitizenId,
    /// The child's township- or village-level division.
    pub division: RegionCode,
    pub father: ParentFact,
    pub mother: ParentFact,
    pub on: Date,
}

impl fmt::Debug for Identify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identify")
            .field("child", &"<hidden>")
            .field("division", &self.division)
            .field("father", &self.father)
            .field("mother", &self.mother)
            .field("on", &self.on)
            .finish()
    }
}

/// What can be asked of a child's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Identify(Identify),
    ArrangeCare {
        care: Care,
        from: Date,
        institution: Option<BoundedText>,
    },
    ReviseParent {
        parent: Parent,
        fact: ParentFact,
        on: Date,
    },
    RegisterAdoption(adoption::Registration),
    /// Sent by the service's consumer of civil-registry deaths.
    NoteDeath {
        on: Date,
        registration: BoundedText,
    },
}

/// The child was identified (`ChildIdentified`).
#[derive(Clone, PartialEq, Eq)]
pub struct Identified {
    /// PERSONAL DATA.
    pub child: CitizenId,
    pub division: RegionCode,
    pub basis: Basis,
    pub father: ParentFact,
    pub mother: ParentFact,
    pub on: Date,
}

impl fmt::Debug for Identified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identified")
            .field("child", &"<hidden>")
            .field("division", &self.division)
            .field("basis", &self.basis)
            .field("father", &self.father)
            .field("mother", &self.mother)
            .field("on", &self.on)
            .finish()
    }
}

/// A parent's facts were revised (`ChildParentFactRevised`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentFactRevised {
    pub parent: Parent,
    pub fact: ParentFact,
    /// The basis the facts make now; `None` when none (a `CoverageCeased` follows).
    pub basis: Option<Basis>,
    pub on: Date,
}

/// Coverage ended (`ChildCoverageCeased`): the allowance is paid through this month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoverageCeased {
    pub on: Date,
    pub reason: CessationReason,
}

/// What happened to a child's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Identified(Identified),
    CareArranged(CareArrangement),
    ParentFactRevised(ParentFactRevised),
    CoverageCeased(CoverageCeased),
    Adopted(adoption::Registered),
    DeathNoted(Death),
}

/// A rule that refused a command about a child. Messages carry no personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the command is for another child than this record's")]
    WrongChild,
    #[error("a child's division is a township or a village")]
    DivisionNotLocal,
    #[error("the child is not a minor on that day (or not yet born)")]
    NotAMinor,
    #[error("the {0}'s situation needs the record it comes from")]
    SourceRequired(Parent),
    #[error("the record given for the {parent}'s situation cannot prove it")]
    SourceMismatch { parent: Parent },
    #[error(
        "the parents' situations make the child neither an orphan nor a de-facto unsupported \
         child"
    )]
    NotCovered,
    #[error("the child is already identified and covered")]
    AlreadyIdentified,
    #[error("the child has been adopted")]
    Adopted,
    #[error("the child has died")]
    Deceased,
    #[error("the identification is dated before the previous coverage ceased")]
    BeforeCessation,
    #[error("the child has not been identified")]
    NotIdentified,
    #[error("the child's coverage has ceased")]
    CoverageCeased,
    #[error("the date is before the child's identification")]
    BeforeIdentification,
    #[error("the arrangement starts before the latest arrangement")]
    BeforeLastArrangement,
    #[error("the revision is dated before the latest revision")]
    BeforeLastRevision,
    #[error("centralized care names the child-welfare institution")]
    InstitutionRequired,
    #[error("family care names no institution")]
    InstitutionForFamilyCare,
    #[error(transparent)]
    Adoption(#[from] adoption::Refusal),
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::WrongChild => "wrong_child",
            Error::DivisionNotLocal => "division_not_local",
            Error::NotAMinor => "not_a_minor",
            Error::SourceRequired(_) => "source_required",
            Error::SourceMismatch { .. } => "source_mismatch",
            Error::NotCovered => "not_covered",
            Error::AlreadyIdentified => "already_identified",
            Error::Adopted => "adopted",
            Error::Deceased => "deceased",
            Error::BeforeCessation => "before_cessation",
            Error::NotIdentified => "not_identified",
            Error::CoverageCeased => "coverage_ceased",
            Error::BeforeIdentification => "before_identification",
            Error::BeforeLastArrangement => "before_last_arrangement",
            Error::BeforeLastRevision => "before_last_revision",
            Error::InstitutionRequired => "institution_required",
            Error::InstitutionForFamilyCare => "institution_for_family_care",
            Error::Adoption(refusal) => refusal.rule(),
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            Error::NotIdentified => RefusalKind::NotFound,
            _ => RefusalKind::FailedPrecondition,
        }
    }
}

/// A child's record; `Default` is one the service knows nothing of.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ChildRecord {
    child: Option<CitizenId>,
    division: Option<RegionCode>,
    coverages: Vec<Coverage>,
    adoption: Option<adoption::Registered>,
    death: Option<Death>,
}

impl fmt::Debug for ChildRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildRecord")
            .field("child", &self.child.as_ref().map(|_| "<hidden>"))
            .field("division", &self.division)
            .field("coverages", &self.coverages)
            .field("adoption", &self.adoption)
            .field("death", &self.death)
            .finish()
    }
}

/// The last day of `month`'s month.
fn last_of_month(month: Date) -> Date {
    month
        .replace_day(month.month().length(month.year()))
        .unwrap_or(month)
}

impl ChildRecord {
    /// PERSONAL DATA: the child, once identified or adopted.
    pub fn child(&self) -> Option<&CitizenId> {
        self.child.as_ref()
    }

    /// The township or village given at the latest identification.
    pub fn division(&self) -> Option<RegionCode> {
        self.division
    }

    /// The division's county.
    pub fn county(&self) -> Option<RegionCode> {
        self.division.and_then(RegionCode::county)
    }

    /// Every coverage, oldest first.
    pub fn coverages(&self) -> &[Coverage] {
        &self.coverages
    }

    /// The latest coverage, ceased or not.
    pub fn coverage(&self) -> Option<&Coverage> {
        self.coverages.last()
    }

    /// The latest coverage's basis.
    pub fn basis(&self) -> Option<Basis> {
        self.coverage().map(|c| c.basis)
    }

    /// The latest identification's day.
    pub fn identified_on(&self) -> Option<Date> {
        self.coverage().map(|c| c.identified_on)
    }

    /// The day the latest coverage ceased.
    pub fn ceased_on(&self) -> Option<Date> {
        self.coverage().and_then(Coverage::ceased_on)
    }

    /// The latest coverage's care arrangements, in the order recorded.
    pub fn care(&self) -> &[CareArrangement] {
        self.coverage().map_or(&[], |c| &c.care)
    }

    /// The arrangement in force on `day` (of two from one day, the later recorded).
    pub fn care_on(&self, day: Date) -> Option<&CareArrangement> {
        self.care().iter().rev().find(|a| a.from <= day)
    }

    pub fn adoption(&self) -> Option<&adoption::Registered> {
        self.adoption.as_ref()
    }

    pub fn adopted_on(&self) -> Option<Date> {
        self.adoption.as_ref().map(|a| a.registration.on)
    }

    pub fn death(&self) -> Option<&Death> {
        self.death.as_ref()
    }

    pub fn died_on(&self) -> Option<Date> {
        self.death.as_ref().map(|d| d.on)
    }

    /// Whether the child is covered on `day`: identified on or before it, and neither ceased,
    /// adopted, dead nor 18 on or before it.
    pub fn covered_on(&self, day: Date) -> bool {
        let Some(child) = &self.child else {
            return false;
        };
        let ended = |end: Option<Date>| end.is_some_and(|end| end <= day);
        age_on(child.birth_date(), day) < ADULT_AGE
            && !ended(self.adopted_on())
            && !ended(self.died_on())
            && self
                .coverages
                .iter()
                .any(|c| c.identified_on <= day && !ended(c.ceased_on()))
    }

    /// The child's allowance for the month of `month` under `policy`, by
    /// [`allowance::monthly`] over the coverage of that month (the latest identified by its
    /// last day, else the first); `None` for a child never identified.
    pub fn allowance(&self, policy: &AllowancePolicy, month: Date) -> Option<Line> {
        let child = self.child.as_ref()?;
        let last = last_of_month(month);
        let coverage = self
            .coverages
            .iter()
            .rev()
            .find(|c| c.identified_on <= last)
            .or_else(|| self.coverages.first())?;
        let care: Vec<CareFrom> = coverage
            .care
            .iter()
            .map(|a| CareFrom {
                from: a.from,
                care: a.care,
            })
            .collect();
        Some(allowance::monthly(
            &allowance::Child {
                birth_date: child.birth_date(),
                basis: coverage.basis,
                identified_on: coverage.identified_on,
                care: &care,
                adopted_on: self.adopted_on(),
                died_on: self.died_on(),
                ceased_on: coverage.ceased_on(),
            },
            policy,
            month,
        ))
    }

    /// The stream's own child, when it knows one.
    fn same_child(&self, child: &CitizenId) -> Result<(), Error> {
        match &self.child {
            Some(known) if known != child => Err(Error::WrongChild),
            _ => Ok(()),
        }
    }

    /// Neither dead nor adopted.
    fn alive_not_adopted(&self) -> Result<(), Error> {
        if self.death.is_some() {
            return Err(Error::Deceased);
        }
        if self.adoption.is_some() {
            return Err(Error::Adopted);
        }
        Ok(())
    }

    /// The coverage in force (not ceased) of a living child not adopted.
    fn open_coverage(&self) -> Result<&Coverage, Error> {
        self.alive_not_adopted()?;
        let coverage = self.coverages.last().ok_or(Error::NotIdentified)?;
        if coverage.ceased.is_some() {
            return Err(Error::CoverageCeased);
        }
        Ok(coverage)
    }

    fn identify(&self, c: &Identify) -> Result<Vec<Event>, Error> {
        self.same_child(&c.child)?;
        self.alive_not_adopted()?;
        if let Some(coverage) = self.coverages.last() {
            match coverage.ceased_on() {
                None => return Err(Error::AlreadyIdentified),
                Some(ceased) if c.on < ceased => return Err(Error::BeforeCessation),
                Some(_) => {}
            }
        }
        if !matches!(
            c.division.level(),
            RegionLevel::Township | RegionLevel::Village
        ) {
            return Err(Error::DivisionNotLocal);
        }
        if c.on < c.child.birth_date() || age_on(c.child.birth_date(), c.on) >= ADULT_AGE {
            return Err(Error::NotAMinor);
        }
        check_fact(Parent::Father, &c.father)?;
        check_fact(Parent::Mother, &c.mother)?;
        let basis =
            allowance::identify(c.father.situation, c.mother.situation).ok_or(Error::NotCovered)?;
        Ok(vec![Event::Identified(Identified {
            child: c.child.clone(),
            division: c.division,
            basis,
            father: c.father.clone(),
            mother: c.mother.clone(),
            on: c.on,
        })])
    }

    fn arrange_care(
        &self,
        care: Care,
        from: Date,
        institution: Option<&BoundedText>,
    ) -> Result<Vec<Event>, Error> {
        let coverage = self.open_coverage()?;
        if from < coverage.identified_on {
            return Err(Error::BeforeIdentification);
        }
        if coverage.care.last().is_some_and(|last| from < last.from) {
            return Err(Error::BeforeLastArrangement);
        }
        if self
            .child
            .as_ref()
            .is_some_and(|child| age_on(child.birth_date(), from) >= ADULT_AGE)
        {
            return Err(Error::NotAMinor);
        }
        match (care, institution) {
            (Care::Centralized, None) => return Err(Error::InstitutionRequired),
            (Care::Family, Some(_)) => return Err(Error::InstitutionForFamilyCare),
            _ => {}
        }
        Ok(vec![Event::CareArranged(CareArrangement {
            care,
            from,
            institution: institution.cloned(),
        })])
    }

    fn revise_parent(
        &self,
        parent: Parent,
        fact: &ParentFact,
        on: Date,
    ) -> Result<Vec<Event>, Error> {
        let coverage = self.open_coverage()?;
        if on < coverage.identified_on {
            return Err(Error::BeforeIdentification);
        }
        if coverage.last_revision.is_some_and(|last| on < last) {
            return Err(Error::BeforeLastRevision);
        }
        check_fact(parent, fact)?;
        if coverage.fact(parent) == fact {
            return Ok(vec![]);
        }
        let (father, mother) = match parent {
            Parent::Father => (fact, &coverage.mother),
            Parent::Mother => (&coverage.father, fact),
        };
        let basis = allowance::identify(father.situation, mother.situation);
        let mut events = vec![Event::ParentFactRevised(ParentFactRevised {
            parent,
            fact: fact.clone(),
            basis,
            on,
        })];
        if basis.is_none() {
            events.push(Event::CoverageCeased(CoverageCeased {
                on,
                reason: CessationReason::NoBasis,
            }));
        }
        Ok(events)
    }

    fn register_adoption(
        &self,
        registration: &adoption::Registration,
    ) -> Result<Vec<Event>, Error> {
        self.same_child(&registration.child)?;
        self.alive_not_adopted()?;
        Ok(vec![Event::Adopted(adoption::check(registration)?)])
    }

    fn note_death(&self, on: Date, registration: &BoundedText) -> Result<Vec<Event>, Error> {
        if self.death.is_some() {
            return Ok(vec![]);
        }
        Ok(vec![Event::DeathNoted(Death {
            on,
            registration: registration.clone(),
        })])
    }
}

/// A situation other than able has a source, of a kind that can prove it.
fn check_fact(parent: Parent, fact: &ParentFact) -> Result<(), Error> {
    match &fact.source {
        None if fact.situation != ParentSituation::Able => Err(Error::SourceRequired(parent)),
        Some(source) if !source.kind.proves(fact.situation) => {
            Err(Error::SourceMismatch { parent })
        }
        _ => Ok(()),
    }
}

impl Aggregate for ChildRecord {
    const CATEGORY: &'static str = "child";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Identify(c) => self.identify(c),
            Command::ArrangeCare {
                care,
                from,
                institution,
            } => self.arrange_care(*care, *from, institution.as_ref()),
            Command::ReviseParent { parent, fact, on } => self.revise_parent(*parent, fact, *on),
            Command::RegisterAdoption(registration) => self.register_adoption(registration),
            Command::NoteDeath { on, registration } => self.note_death(*on, registration),
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Identified(e) => {
                self.child = Some(e.child.clone());
                self.division = Some(e.division);
                self.coverages.push(Coverage {
                    basis: e.basis,
                    identified_on: e.on,
                    father: e.father.clone(),
                    mother: e.mother.clone(),
                    care: Vec::new(),
                    last_revision: None,
                    ceased: None,
                });
            }
            Event::CareArranged(arrangement) => {
                if let Some(coverage) = self.coverages.last_mut() {
                    coverage.care.push(arrangement.clone());
                }
            }
            Event::ParentFactRevised(e) => {
                if let Some(coverage) = self.coverages.last_mut() {
                    *coverage.fact_mut(e.parent) = e.fact.clone();
                    if let Some(basis) = e.basis {
                        coverage.basis = basis;
                    }
                    coverage.last_revision = Some(e.on);
                }
            }
            Event::CoverageCeased(e) => {
                if let Some(coverage) = self.coverages.last_mut() {
                    coverage.ceased = Some((e.on, e.reason));
                }
            }
            Event::Adopted(registered) => {
                self.child
                    .get_or_insert_with(|| registered.registration.child.clone());
                self.adoption = Some(registered.clone());
            }
            Event::DeathNoted(death) => self.death = Some(death.clone()),
        }
        self
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use minzheng_types::Fen;
    use time::macros::date;

    use super::*;
    use crate::{
        adoption::tests::{adopter, couple, girl, registration},
        allowance::{Standard, StandardRecorded},
    };

    pub(crate) const ON: Date = date!(2025 - 03 - 10);

    pub(crate) fn text(s: &str) -> BoundedText {
        BoundedText::parse(s, REFERENCE_MAX_CHARS).expect("valid")
    }

    pub(crate) fn village() -> RegionCode {
        RegionCode::parse("210502001001").expect("valid")
    }

    pub(crate) fn fact(situation: ParentSituation, kind: FactSourceKind) -> ParentFact {
        ParentFact {
            situation,
            source: Some(FactSource {
                kind,
                reference: text("本溪市公安局平山分局 2024-11-02 第17号"),
            }),
        }
    }

    pub(crate) fn able() -> ParentFact {
        ParentFact {
            situation: ParentSituation::Able,
            source: None,
        }
    }

    fn dead() -> ParentFact {
        fact(
            ParentSituation::Dead,
            FactSourceKind::CivilRegistrationDeath,
        )
    }

    fn imprisoned() -> ParentFact {
        fact(ParentSituation::Imprisoned, FactSourceKind::DetentionRecord)
    }

    /// The girl of [`crate::adoption::tests`] (born 2015-06-01): father dead, mother imprisoned.
    pub(crate) fn identify(on: Date) -> Identify {
        Identify {
            child: girl(),
            division: village(),
            father: dead(),
            mother: imprisoned(),
            on,
        }
    }

    pub(crate) fn identified(on: Date) -> Event {
        let c = identify(on);
        Event::Identified(Identified {
            child: c.child,
            division: c.division,
            basis: Basis::DeFactoUnsupported,
            father: c.father,
            mother: c.mother,
            on,
        })
    }

    pub(crate) fn family_from(from: Date) -> Event {
        Event::CareArranged(CareArrangement {
            care: Care::Family,
            from,
            institution: None,
        })
    }

    pub(crate) fn released(on: Date) -> Vec<Event> {
        vec![
            Event::ParentFactRevised(ParentFactRevised {
                parent: Parent::Mother,
                fact: fact(ParentSituation::Able, FactSourceKind::DetentionRecord),
                basis: None,
                on,
            }),
            Event::CoverageCeased(CoverageCeased {
                on,
                reason: CessationReason::NoBasis,
            }),
        ]
    }

    fn release(on: Date) -> Command {
        Command::ReviseParent {
            parent: Parent::Mother,
            fact: fact(ParentSituation::Able, FactSourceKind::DetentionRecord),
            on,
        }
    }

    fn arrange(care: Care, from: Date, institution: Option<&str>) -> Command {
        Command::ArrangeCare {
            care,
            from,
            institution: institution.map(text),
        }
    }

    pub(crate) fn death(on: Date) -> Death {
        Death {
            on,
            registration: text("本溪市平山区 死亡登记 2025-0031"),
        }
    }

    fn note_death(on: Date) -> Command {
        let d = death(on);
        Command::NoteDeath {
            on: d.on,
            registration: d.registration,
        }
    }

    fn adopted(on: Date) -> Event {
        Event::Adopted(adoption::check(&registration(girl(), on)).expect("allowed"))
    }

    fn policy() -> AllowancePolicy {
        AllowancePolicy::default().apply(&allowance::Event::StandardRecorded(StandardRecorded {
            city: RegionCode::parse("210500000000").expect("valid"),
            standard: Standard {
                version: 1,
                effective_from: date!(2025 - 01 - 01),
                centralized: Fen::new(150_000),
                family: Fen::new(120_000),
                decided_by: text("本溪市民政局 本溪市财政局"),
                override_reason: None,
                recorded_on: date!(2024 - 12 - 15),
            },
        }))
    }

    fn paid(record: &ChildRecord, month: Date) -> i64 {
        record
            .allowance(&policy(), month)
            .expect("identified")
            .amount
            .fen()
            / 100
    }

    // Identification.

    #[test]
    fn a_child_is_identified_with_the_facts_and_their_sources() {
        let record = given::<ChildRecord>([])
            .when(Command::Identify(identify(ON)))
            .then([identified(ON)]);
        assert_eq!(record.child(), Some(&girl()));
        assert_eq!(record.division(), Some(village()));
        assert_eq!(
            record.county(),
            Some(RegionCode::parse("210502000000").expect("valid"))
        );
        assert_eq!(record.basis(), Some(Basis::DeFactoUnsupported));
        assert_eq!(record.identified_on(), Some(ON));
        assert!(record.covered_on(ON));
        assert!(!record.covered_on(date!(2025 - 03 - 09)));
        let coverage = record.coverage().expect("covered");
        assert_eq!(coverage.mother, imprisoned());

        // Both parents gone: an orphan.
        let orphan = Identify {
            mother: fact(ParentSituation::NotFound, FactSourceKind::PoliceRecord),
            ..identify(ON)
        };
        let record = given::<ChildRecord>([])
            .when(Command::Identify(orphan))
            .then_state();
        assert_eq!(record.basis(), Some(Basis::Orphan));
    }

    #[test]
    fn identification_refusals() {
        for (command, rule) in [
            (
                Identify {
                    division: RegionCode::parse("210502000000").expect("valid"),
                    ..identify(ON)
                },
                "division_not_local",
            ),
            (
                Identify {
                    child: CitizenId::from_parts("210502", date!(2007 - 03 - 10), 12)
                        .expect("valid"),
                    ..identify(ON)
                },
                "not_a_minor",
            ),
            (
                Identify {
                    mother: ParentFact {
                        situation: ParentSituation::Imprisoned,
                        source: None,
                    },
                    ..identify(ON)
                },
                "source_required",
            ),
            (
                Identify {
                    father: fact(ParentSituation::Dead, FactSourceKind::MedicalRecord),
                    ..identify(ON)
                },
                "source_mismatch",
            ),
            (
                Identify {
                    mother: fact(
                        ParentSituation::SevereDisability,
                        FactSourceKind::CivilRegistrationDeath,
                    ),
                    ..identify(ON)
                },
                "source_mismatch",
            ),
            (
                Identify {
                    father: able(),
                    ..identify(ON)
                },
                "not_covered",
            ),
        ] {
            given::<ChildRecord>([])
                .when(Command::Identify(command))
                .then_refused(rule);
        }
        // 17 on the day: still a minor.
        let seventeen = Identify {
            child: CitizenId::from_parts("210502", date!(2007 - 03 - 11), 12).expect("valid"),
            ..identify(ON)
        };
        given::<ChildRecord>([])
            .when(Command::Identify(seventeen))
            .then_state();
        // Any situation goes with `Other`; an able parent may carry a source.
        let other = Identify {
            father: fact(ParentSituation::SevereIllness, FactSourceKind::Other),
            mother: fact(ParentSituation::OutOfContact, FactSourceKind::PoliceRecord),
            ..identify(ON)
        };
        given::<ChildRecord>([])
            .when(Command::Identify(other))
            .then_state();
    }

    #[test]
    fn a_covered_adopted_or_dead_child_is_not_identified_again() {
        given::<ChildRecord>([identified(ON)])
            .when(Command::Identify(identify(ON)))
            .then_refused("already_identified");
        given::<ChildRecord>([adopted(ON)])
            .when(Command::Identify(identify(ON)))
            .then_refused("adopted");
        given::<ChildRecord>([identified(ON), Event::DeathNoted(death(ON))])
            .when(Command::Identify(identify(ON)))
            .then_refused("deceased");
        let other = Identify {
            child: CitizenId::from_parts("210502", date!(2016 - 01 - 01), 11).expect("valid"),
            ..identify(ON)
        };
        given::<ChildRecord>([identified(ON)])
            .when(Command::Identify(other))
            .then_refused("wrong_child");
    }

    #[test]
    fn sources_prove_their_situations() {
        use FactSourceKind as K;
        use ParentSituation as S;
        for (situation, kinds) in [
            (
                S::Dead,
                &[K::CivilRegistrationDeath, K::CourtRecord, K::PoliceRecord][..],
            ),
            (S::NotFound, &[K::PoliceRecord][..]),
            (S::OutOfContact, &[K::PoliceRecord][..]),
            (S::DeclaredMissing, &[K::CourtRecord][..]),
            (S::SevereDisability, &[K::DisabilityCertificate][..]),
            (S::SevereIllness, &[K::MedicalRecord][..]),
            (
                S::Imprisoned,
                &[K::CourtRecord, K::DetentionRecord, K::PoliceRecord][..],
            ),
            (
                S::OtherRestrictionOfLiberty,
                &[K::CourtRecord, K::DetentionRecord, K::PoliceRecord][..],
            ),
            (
                S::CompulsoryDrugRehabilitation,
                &[K::PoliceRecord, K::DetentionRecord][..],
            ),
            (S::Able, &K::ALL[..]),
        ] {
            for kind in K::ALL {
                assert_eq!(
                    kind.proves(situation),
                    kind == K::Other || kinds.contains(&kind),
                    "{kind:?} {situation:?}"
                );
            }
        }
    }

    // Care.

    #[test]
    fn care_is_arranged_for_a_covered_child() {
        let refusal = given::<ChildRecord>([])
            .when(arrange(Care::Family, ON, None))
            .then_refused("not_identified");
        assert_eq!(refusal.kind(), RefusalKind::NotFound);
        given::<ChildRecord>([identified(ON)])
            .when(arrange(Care::Family, ON, None))
            .then([family_from(ON)]);
        let record = given::<ChildRecord>([identified(ON), family_from(ON)])
            .when(arrange(
                Care::Centralized,
                date!(2025 - 05 - 02),
                Some("本溪市儿童福利院"),
            ))
            .then([Event::CareArranged(CareArrangement {
                care: Care::Centralized,
                from: date!(2025 - 05 - 02),
                institution: Some(text("本溪市儿童福利院")),
            })]);
        assert_eq!(record.care().len(), 2);
        assert_eq!(
            record.care_on(date!(2025 - 05 - 01)).map(|a| a.care),
            Some(Care::Family)
        );
        assert_eq!(
            record.care_on(date!(2025 - 05 - 02)).map(|a| a.care),
            Some(Care::Centralized)
        );
        assert_eq!(record.care_on(date!(2025 - 03 - 09)), None);
    }

    #[test]
    fn care_refusals() {
        for (history, command, rule) in [
            (
                vec![identified(ON)],
                arrange(Care::Family, date!(2025 - 03 - 09), None),
                "before_identification",
            ),
            (
                vec![identified(ON), family_from(date!(2025 - 04 - 01))],
                arrange(Care::Family, date!(2025 - 03 - 31), None),
                "before_last_arrangement",
            ),
            (
                vec![identified(ON)],
                arrange(Care::Centralized, ON, None),
                "institution_required",
            ),
            (
                vec![identified(ON)],
                arrange(Care::Family, ON, Some("本溪市儿童福利院")),
                "institution_for_family_care",
            ),
            (
                vec![identified(ON)],
                arrange(Care::Family, date!(2033 - 06 - 01), None),
                "not_a_minor",
            ),
            (
                [vec![identified(ON)], released(date!(2025 - 05 - 01))].concat(),
                arrange(Care::Family, date!(2025 - 05 - 02), None),
                "coverage_ceased",
            ),
            (
                vec![identified(ON), adopted(date!(2025 - 05 - 01))],
                arrange(Care::Family, date!(2025 - 05 - 02), None),
                "adopted",
            ),
            (
                vec![
                    identified(ON),
                    Event::DeathNoted(death(date!(2025 - 05 - 01))),
                ],
                arrange(Care::Family, date!(2025 - 04 - 02), None),
                "deceased",
            ),
        ] {
            given::<ChildRecord>(history)
                .when(command)
                .then_refused(rule);
        }
    }

    // Revision.

    #[test]
    fn a_revision_that_leaves_no_basis_ends_coverage() {
        let day = date!(2025 - 06 - 20);
        let record = given::<ChildRecord>([identified(ON), family_from(ON)])
            .when(release(day))
            .then(released(day));
        assert_eq!(record.ceased_on(), Some(day));
        assert!(record.covered_on(date!(2025 - 06 - 19)));
        assert!(!record.covered_on(day));
        // The revised facts are kept; the basis is the last one that made one.
        let coverage = record.coverage().expect("recorded");
        assert_eq!(coverage.mother.situation, ParentSituation::Able);
        assert_eq!(coverage.basis, Basis::DeFactoUnsupported);
        given::<ChildRecord>([
            identified(ON),
            released(day)[0].clone(),
            released(day)[1].clone(),
        ])
        .when(release(date!(2025 - 07 - 01)))
        .then_refused("coverage_ceased");
    }

    #[test]
    fn a_revision_may_change_the_basis_and_a_repeated_one_records_nothing() {
        let dead_mother = fact(
            ParentSituation::Dead,
            FactSourceKind::CivilRegistrationDeath,
        );
        let revise = Command::ReviseParent {
            parent: Parent::Mother,
            fact: dead_mother.clone(),
            on: date!(2025 - 04 - 01),
        };
        let revised = Event::ParentFactRevised(ParentFactRevised {
            parent: Parent::Mother,
            fact: dead_mother.clone(),
            basis: Some(Basis::Orphan),
            on: date!(2025 - 04 - 01),
        });
        let record = given::<ChildRecord>([identified(ON)])
            .when(revise.clone())
            .then([revised.clone()]);
        assert_eq!(record.basis(), Some(Basis::Orphan));
        given::<ChildRecord>([identified(ON), revised.clone()])
            .when(revise)
            .then([]);
        for (command, rule) in [
            (
                Command::ReviseParent {
                    parent: Parent::Father,
                    fact: imprisoned(),
                    on: date!(2025 - 03 - 31),
                },
                "before_last_revision",
            ),
            (
                Command::ReviseParent {
                    parent: Parent::Father,
                    fact: ParentFact {
                        situation: ParentSituation::Imprisoned,
                        source: None,
                    },
                    on: date!(2025 - 04 - 02),
                },
                "source_required",
            ),
        ] {
            given::<ChildRecord>([identified(ON), revised.clone()])
                .when(command)
                .then_refused(rule);
        }
        given::<ChildRecord>([identified(ON)])
            .when(release(date!(2025 - 03 - 09)))
            .then_refused("before_identification");
        given::<ChildRecord>([])
            .when(release(ON))
            .then_refused("not_identified");
    }

    #[test]
    fn a_ceased_child_may_be_identified_again() {
        let ceased = date!(2025 - 06 - 20);
        let history = [vec![identified(ON), family_from(ON)], released(ceased)].concat();
        given::<ChildRecord>(history.clone())
            .when(Command::Identify(identify(date!(2025 - 06 - 19))))
            .then_refused("before_cessation");
        let again = date!(2025 - 09 - 05);
        let record = given::<ChildRecord>(history)
            .when(Command::Identify(identify(again)))
            .then([identified(again)]);
        assert_eq!(record.coverages().len(), 2);
        assert_eq!(record.identified_on(), Some(again));
        assert!(record.care().is_empty());
        assert!(!record.covered_on(date!(2025 - 07 - 01)));
        assert!(record.covered_on(again));
        // July is not paid; June is paid by the first coverage.
        let record = record.apply(&family_from(again));
        assert_eq!(paid(&record, date!(2025 - 06 - 01)), 1200);
        assert_eq!(paid(&record, date!(2025 - 07 - 01)), 0);
        assert_eq!(paid(&record, date!(2025 - 09 - 01)), 1200);
    }

    // Adoption.

    #[test]
    fn any_minor_may_be_adopted_and_is_then_not_covered() {
        // Never identified here.
        let record = given::<ChildRecord>([])
            .when(Command::RegisterAdoption(registration(girl(), ON)))
            .then([adopted(ON)]);
        assert_eq!(record.child(), Some(&girl()));
        assert_eq!(record.adopted_on(), Some(ON));
        assert_eq!(record.allowance(&policy(), ON), None);
        // Covered: no longer from the day.
        let day = date!(2025 - 06 - 16);
        let record = given::<ChildRecord>([identified(ON)])
            .when(Command::RegisterAdoption(registration(girl(), day)))
            .then([adopted(day)]);
        assert!(record.covered_on(date!(2025 - 06 - 15)));
        assert!(!record.covered_on(day));
        given::<ChildRecord>([identified(ON), adopted(day)])
            .when(Command::RegisterAdoption(registration(girl(), day)))
            .then_refused("adopted");
        given::<ChildRecord>([identified(ON), Event::DeathNoted(death(day))])
            .when(Command::RegisterAdoption(registration(girl(), day)))
            .then_refused("deceased");
        let other = CitizenId::from_parts("210502", date!(2016 - 01 - 01), 11).expect("valid");
        given::<ChildRecord>([identified(ON)])
            .when(Command::RegisterAdoption(registration(other, day)))
            .then_refused("wrong_child");
    }

    #[test]
    fn the_civil_code_rules_refuse_an_adoption_with_their_ids() {
        let single_man = adoption::Registration {
            adopters: vec![adopter(
                CitizenId::from_parts("210502", date!(1980 - 01 - 01), 31).expect("valid"),
                false,
            )],
            ..registration(girl(), ON)
        };
        given::<ChildRecord>([identified(ON)])
            .when(Command::RegisterAdoption(single_man))
            .then_refused("age_gap_under_40");
        let mut young = couple();
        young[0] = adopter(
            CitizenId::from_parts("210502", date!(2000 - 01 - 01), 31).expect("valid"),
            true,
        );
        given::<ChildRecord>([identified(ON)])
            .when(Command::RegisterAdoption(adoption::Registration {
                adopters: young,
                ..registration(girl(), ON)
            }))
            .then_refused("adopter_under_30");
    }

    // Death.

    #[test]
    fn a_death_is_noted_once() {
        let day = date!(2025 - 06 - 10);
        let record = given::<ChildRecord>([identified(ON)])
            .when(note_death(day))
            .then([Event::DeathNoted(death(day))]);
        assert_eq!(record.died_on(), Some(day));
        assert!(!record.covered_on(day));
        given::<ChildRecord>([identified(ON), Event::DeathNoted(death(day))])
            .when(note_death(date!(2025 - 06 - 11)))
            .then([]);
        // A death before the identification is kept, and refuses it.
        given::<ChildRecord>([])
            .when(note_death(day))
            .then([Event::DeathNoted(death(day))]);
        given::<ChildRecord>([Event::DeathNoted(death(day))])
            .when(Command::Identify(identify(date!(2025 - 06 - 11))))
            .then_refused("deceased");
        // An adopted child the service knows.
        given::<ChildRecord>([adopted(ON)])
            .when(note_death(day))
            .then([Event::DeathNoted(death(day))]);
    }

    // The allowance.

    #[test]
    fn the_allowance_stops_after_the_month_of_each_ending() {
        let base = [identified(ON), family_from(ON)];
        let with = |events: Vec<Event>| {
            base.iter()
                .chain(&events)
                .fold(ChildRecord::default(), |record, e| record.apply(e))
        };
        let june = date!(2025 - 06 - 01);
        let july = date!(2025 - 07 - 01);
        for (ending, says) in [
            (
                vec![adopted(date!(2025 - 06 - 16))],
                "was adopted on 2025-06-16",
            ),
            (
                vec![Event::DeathNoted(death(date!(2025 - 06 - 30)))],
                "died on 2025-06-30",
            ),
            (
                released(date!(2025 - 06 - 01)),
                "was no longer covered on 2025-06-01",
            ),
        ] {
            let record = with(ending);
            assert_eq!(paid(&record, date!(2025 - 03 - 01)), 1200);
            let last = record.allowance(&policy(), june).expect("identified");
            assert_eq!(last.amount, Fen::new(120_000), "{}", last.explanation);
            assert!(
                last.explanation
                    .contains(&format!("{says}, so this is the last month paid")),
                "{}",
                last.explanation
            );
            let after = record.allowance(&policy(), july).expect("identified");
            assert_eq!(after.amount, Fen::ZERO, "{}", after.explanation);
            assert!(after.explanation.contains(says), "{}", after.explanation);
        }
        // The 18th birthday, from the citizen id.
        let born = date!(2007 - 08 - 20);
        let near_adult = Identify {
            child: CitizenId::from_parts("210502", born, 12).expect("valid"),
            ..identify(ON)
        };
        let record = given::<ChildRecord>([])
            .when(Command::Identify(near_adult))
            .then_state()
            .apply(&family_from(ON));
        assert_eq!(paid(&record, date!(2025 - 08 - 01)), 1200);
        assert_eq!(paid(&record, date!(2025 - 09 - 01)), 0);
        assert!(record.covered_on(date!(2025 - 08 - 19)));
        assert!(!record.covered_on(date!(2025 - 08 - 20)));
        assert_eq!(ChildRecord::default().allowance(&policy(), july), None);
    }

    #[test]
    fn nothing_personal_in_debug_or_refusals() {
        let record = [identified(ON), adopted(date!(2025 - 06 - 16))]
            .iter()
            .fold(ChildRecord::default(), |record, e| record.apply(e));
        let shown = format!("{record:?} {:?} {:?}", identify(ON), identified(ON));
        assert!(!shown.contains(&girl().masked()), "{shown}");
        assert!(!shown.contains("2015"), "{shown}");
        for adopter in couple() {
            assert!(!shown.contains(&adopter.citizen.masked()), "{shown}");
        }
        assert!(!shown.contains("公安"), "{shown}");
    }

    trait ThenState {
        fn then_state(self) -> ChildRecord;
    }

    impl ThenState for minzheng_kit::testing::When<ChildRecord> {
        /// The state after the command's events, whatever they are (it must not be refused).
        #[track_caller]
        fn then_state(self) -> ChildRecord {
            let events = match self.outcome() {
                Ok(events) => events.clone(),
                Err(e) => panic!("refused by {:?}: {e}", e.rule()),
            };
            self.then(events)
        }
    }
}
