//! Adoption registration (收养登记): the checks of the Civil Code (《中华人民共和国民法典》, 2020,
//! book 5 chapter 5) the registry makes, recorded as facts on the event so that an auditor sees
//! why a registration was allowed.
//!
//! This module is pure: [`check`] takes a [`Registration`] and returns the [`Registered`] fact
//! (the registration with each computed fact) or the first rule that refuses it. The child's
//! record ([`crate::child`]) runs it when the registry registers an adoption, and the allowance
//! stops after the month of the registration. Ages are in completed years (周岁) from the citizen
//! ids' birth dates ([`minzheng_types::age_on`]), on the registration day; "以上" includes the
//! number itself (art. 1259).
//!
//! # The rules, in the order they are checked (rule ids in brackets)
//!
//! 1. **The child is a minor** (未成年人, art. 1093) on the day [`not_a_minor`]; art. 1093's
//!    three categories ([`ChildCategory`]) are recorded as the registry states them.
//! 2. **One adopter, or two who are spouses adopting jointly** [`adopters_count`]: art. 1101
//!    requires a married person to adopt together with their spouse. Two adopters must be two
//!    people of different sex, both married ([`Adopter::married`], from the marriage
//!    certificate the registry sees; marriage is between a man and a woman, art. 1049)
//!    [`not_a_couple`]; a single married adopter is refused [`joint_adoption_required`]. No
//!    adopter is the child [`adopter_is_child`].
//! 3. **Each adopter is 30 or older** (年满三十周岁, art. 1098(5)) [`adopter_under_30`].
//! 4. **Each adopter meets the conditions of art. 1098(2)–(4)** [`adopter_conditions`], each
//!    attested on the registration: able to raise, educate and protect the child (有抚养、教育和
//!    保护被收养人的能力), no illness that medically precludes adopting (未患有在医学上认为不应当
//!    收养子女的疾病), no record of offences harmful to the child's healthy growth (无不利于被收养人
//!    健康成长的违法犯罪记录).
//! 5. **The number of children** (art. 1098(1), art. 1100 ¶1) [`too_many_children`]: an adopter
//!    with no child may adopt (two in all), one with one child may adopt one, one with two or
//!    more may not. [`Adopter::children`] counts every child at registration, born or adopted,
//!    so the two cases of art. 1100 ¶1 come to one test: at most one child before this
//!    registration (a childless adopter who adopted once has one child and may adopt a second;
//!    a parent of one who adopted once has two and may not). Each spouse of a couple is counted
//!    with their own children. **Exempt** (art. 1100 ¶2, which also lifts art. 1098(1)): the
//!    adoption of an orphan (孤儿), of a disabled minor (残疾未成年人), or of a minor whose
//!    birth parents cannot be found raised by a child-welfare institution (儿童福利机构抚养的
//!    查找不到生父母的未成年人) ([`Exemption`]).
//! 6. **The age gap** (art. 1102) [`age_gap_under_40`]: an adopter without a spouse adopting a
//!    child of the other sex must be at least 40 years older. The Civil Code extended the
//!    Adoption Law's rule (art. 9, a single man adopting a girl) to both sexes, and so does this
//!    service. Sex comes from the citizen ids ([`minzheng_types::CitizenId::sex`]); the gap is
//!    the adopter's age in completed years on the child's birth date.
//! 7. **The child's consent** (art. 1104): a child of 8 or older (八周岁以上) must consent
//!    [`child_consent_required`]; below 8 the answer, if any, is recorded as given.
//! 8. **The registry** is a civil-affairs department at county level or above (县级以上人民政府
//!    民政部门, art. 1105) [`registry_below_county`]; the adoption takes effect on the day of
//!    registration (收养关系自登记之日起成立).
//!
//! # Relatives' children and stepchildren ([`Relationship`])
//!
//! - **A relative's child** (收养三代以内旁系同辈血亲的子女, art. 1099: a sibling's or a cousin's
//!   child — an aunt or uncle taking in an orphaned niece, say): the child need not be in one of
//!   art. 1093's categories (art. 1093(3) is lifted; [`Registration::child_category`] may be
//!   absent), and the age gap of rule 6 does not apply. An overseas Chinese adopter (华侨, ¶2)
//!   is also free of the number of children of rule 5 ([`ChildrenRule::NotApplicable`]); what
//!   art. 1100 ¶1 still limits (a parent adopts one child) is not checked, as the registration
//!   counts an adopter's children without telling the born from the adopted.
//! - **A stepchild** (继子女, art. 1103), adopted by the stepfather or stepmother with the consent
//!   of the child's birth parents [`birth_parents_consent_required`]: art. 1093(3) and the whole
//!   of art. 1098 (rules 3–5: age, conditions, children) and art. 1100 ¶1 are lifted. The
//!   stepparent adopts alone [`stepparent_adopts_alone`], though married to the child's parent
//!   (art. 1101's joint adoption is for a couple adopting a child of neither), and a married
//!   stepparent is not "without a spouse" for rule 6. Rules 1, 7 and 8 hold for every adoption.
//!
//! Not modelled here: the person placing the child (送养人) and their conditions and consent
//! (art. 1094–1097; what art. 1099 and 1103 lift of art. 1094(3) is therefore moot here), and
//! the dissolution of an adoption (art. 1114–1118).
//!
//! [`not_a_minor`]: Refusal::NotAMinor
//! [`adopters_count`]: Refusal::AdoptersCount
//! [`not_a_couple`]: Refusal::NotACouple
//! [`joint_adoption_required`]: Refusal::JointAdoptionRequired
//! [`adopter_is_child`]: Refusal::AdopterIsChild
//! [`adopter_under_30`]: Refusal::AdopterUnder30
//! [`adopter_conditions`]: Refusal::AdopterConditions
//! [`too_many_children`]: Refusal::TooManyChildren
//! [`age_gap_under_40`]: Refusal::AgeGapUnder40
//! [`child_consent_required`]: Refusal::ChildConsentRequired
//! [`registry_below_county`]: Refusal::RegistryBelowCounty
//! [`birth_parents_consent_required`]: Refusal::BirthParentsConsentRequired
//! [`stepparent_adopts_alone`]: Refusal::StepparentAdoptsAlone
//!
//! PERSONAL DATA: a registration carries the child's and the adopters' citizen ids; `Debug`
//! prints neither, and no refusal message names a person (adopters are "adopter 1", "adopter
//! 2").

use std::fmt;

use minzheng_kit::aggregate::DomainError;
use minzheng_types::{BoundedText, CitizenId, RegionCode, RegionLevel, age_on};
use time::Date;

/// The age from which a person is no longer a minor (art. 17).
pub const ADULT_AGE: u32 = 18;
/// The least age of an adopter (art. 1098(5)).
pub const ADOPTER_MIN_AGE: u32 = 30;
/// The age from which the child's consent is required (art. 1104).
pub const CONSENT_AGE: u32 = 8;
/// The least age gap between a single adopter and a child of the other sex (art. 1102).
pub const MIN_AGE_GAP: u32 = 40;
/// The most adopters of one registration: a married couple (art. 1101).
pub const MAX_ADOPTERS: usize = 2;
/// Longest registration certificate number.
pub const CERTIFICATE_MAX_CHARS: usize = 100;

/// Which minors may be adopted (art. 1093), as the registry records the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChildCategory {
    /// 丧失父母的孤儿.
    Orphan,
    /// 查找不到生父母的未成年人.
    ParentsNotFound,
    /// 生父母有特殊困难无力抚养的子女.
    ParentsInSpecialDifficulty,
}

impl ChildCategory {
    pub const ALL: [ChildCategory; 3] = [
        ChildCategory::Orphan,
        ChildCategory::ParentsNotFound,
        ChildCategory::ParentsInSpecialDifficulty,
    ];
}

/// How the adopter is related to the child, where the Civil Code lifts some of the general rules
/// (see the [module documentation](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relationship {
    /// None that changes the rules: the general rules apply.
    None,
    /// 三代以内旁系同辈血亲的子女 (art. 1099).
    CollateralRelativesChild,
    /// 继子女 (art. 1103).
    Stepchild,
}

impl Relationship {
    pub const ALL: [Relationship; 3] = [
        Relationship::None,
        Relationship::CollateralRelativesChild,
        Relationship::Stepchild,
    ];

    /// Whether the child need not be in one of art. 1093's categories.
    pub fn lifts_child_category(self) -> bool {
        self != Relationship::None
    }
}

/// Why the number-of-children rule does not apply (art. 1100 ¶2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exemption {
    /// 孤儿.
    Orphan,
    /// 残疾未成年人.
    DisabledMinor,
    /// 儿童福利机构抚养的查找不到生父母的未成年人.
    FoundlingInWelfareInstitution,
}

impl Exemption {
    pub const ALL: [Exemption; 3] = [
        Exemption::Orphan,
        Exemption::DisabledMinor,
        Exemption::FoundlingInWelfareInstitution,
    ];
}

/// How an adopter met the number-of-children rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChildrenRule {
    /// No child: may adopt (two in all).
    NoChild,
    /// One child: may adopt one.
    OneChild,
    /// Two or more, allowed by the registration's [`Exemption`].
    Exempted,
    /// Not applied: a stepchild's adoption (art. 1103), or an overseas Chinese adopting a
    /// relative's child (art. 1099 ¶2).
    NotApplicable,
}

impl ChildrenRule {
    pub const ALL: [ChildrenRule; 4] = [
        ChildrenRule::NoChild,
        ChildrenRule::OneChild,
        ChildrenRule::Exempted,
        ChildrenRule::NotApplicable,
    ];
}

/// One adopter (收养人) as the registration states them.
#[derive(Clone, PartialEq, Eq)]
pub struct Adopter {
    /// PERSONAL DATA.
    pub citizen: CitizenId,
    /// Their children (子女数) at registration, born or adopted.
    pub children: u8,
    /// Has a spouse (有配偶), from the marriage certificate.
    pub married: bool,
    /// 有抚养、教育和保护被收养人的能力 (art. 1098(2)).
    pub can_raise: bool,
    /// 未患有在医学上认为不应当收养子女的疾病 (art. 1098(3)).
    pub no_disqualifying_illness: bool,
    /// 无不利于被收养人健康成长的违法犯罪记录 (art. 1098(4)).
    pub no_criminal_record: bool,
}

impl fmt::Debug for Adopter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Adopter")
            .field("citizen", &"<hidden>")
            .field("children", &self.children)
            .field("married", &self.married)
            .field("can_raise", &self.can_raise)
            .field("no_disqualifying_illness", &self.no_disqualifying_illness)
            .field("no_criminal_record", &self.no_criminal_record)
            .finish()
    }
}

/// An adoption as the registry registers it.
#[derive(Clone, PartialEq, Eq)]
pub struct Registration {
    /// PERSONAL DATA: the child adopted.
    pub child: CitizenId,
    /// The adoption registration certificate's number (收养登记证号).
    pub certificate: BoundedText,
    /// The civil-affairs department that registers it: a county-level division or above.
    pub registry: RegionCode,
    /// One, or two spouses adopting jointly (art. 1101); a stepparent alone (art. 1103).
    pub adopters: Vec<Adopter>,
    /// Art. 1093; `None` only where the [`Relationship`] lifts it.
    pub child_category: Option<ChildCategory>,
    /// The adopter's relationship to the child.
    pub relationship: Relationship,
    /// The adopter of a relative's child is an overseas Chinese (华侨, art. 1099 ¶2).
    pub overseas_chinese: bool,
    /// The child's birth parents consent to a stepchild's adoption (art. 1103).
    pub birth_parents_consent: bool,
    /// 残疾未成年人 (art. 1100 ¶2).
    pub child_disabled: bool,
    /// Raised by a child-welfare institution (儿童福利机构抚养, art. 1100 ¶2).
    pub in_welfare_institution: bool,
    /// The child's answer when asked (required, and yes, from 8: art. 1104).
    pub child_consents: Option<bool>,
    /// The registration day: the adoption takes effect on it (art. 1105).
    pub on: Date,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("child", &"<hidden>")
            .field("certificate", &self.certificate)
            .field("registry", &self.registry)
            .field("adopters", &self.adopters)
            .field("child_category", &self.child_category)
            .field("relationship", &self.relationship)
            .field("overseas_chinese", &self.overseas_chinese)
            .field("birth_parents_consent", &self.birth_parents_consent)
            .field("child_disabled", &self.child_disabled)
            .field("in_welfare_institution", &self.in_welfare_institution)
            .field("child_consents", &self.child_consents)
            .field("on", &self.on)
            .finish()
    }
}

impl Registration {
    /// The exemption from the number-of-children rule the child gives, if any (art. 1100 ¶2).
    pub fn exemption(&self) -> Option<Exemption> {
        if self.child_category == Some(ChildCategory::Orphan) {
            Some(Exemption::Orphan)
        } else if self.child_disabled {
            Some(Exemption::DisabledMinor)
        } else if self.child_category == Some(ChildCategory::ParentsNotFound)
            && self.in_welfare_institution
        {
            Some(Exemption::FoundlingInWelfareInstitution)
        } else {
            None
        }
    }
}

/// What the check computed about one adopter, in the order of [`Registration::adopters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdopterFacts {
    /// Age on the registration day.
    pub age: u32,
    pub children_rule: ChildrenRule,
    /// The age gap to the child when art. 1102 applied (a single adopter without a spouse, a
    /// child of the other sex, not a relative's child).
    pub age_gap: Option<u32>,
}

/// A registered adoption: the registration and the facts that allowed it. Read back from
/// history as recorded, never computed again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub registration: Registration,
    /// The child's age on the registration day.
    pub child_age: u32,
    /// One per adopter, in order.
    pub adopters: Vec<AdopterFacts>,
    /// The exemption of art. 1100 ¶2 the child gives, whether or not an adopter needed it.
    pub exemption: Option<Exemption>,
}

impl Registered {
    /// Whether the child's consent was required (8 or older).
    pub fn consent_required(&self) -> bool {
        self.child_age >= CONSENT_AGE
    }
}

/// A Civil Code rule that refuses a registration. Messages name no person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("only a minor may be adopted (Civil Code art. 1093)")]
    NotAMinor,
    #[error(
        "the child's category under Civil Code art. 1093 is required, unless the child is a \
         relative's child or a stepchild (art. 1099, 1103)"
    )]
    ChildCategoryRequired,
    #[error(
        "a stepchild is adopted with the consent of the child's birth parents (Civil Code art. \
         1103)"
    )]
    BirthParentsConsentRequired,
    #[error(
        "a stepchild is adopted by the stepfather or the stepmother alone (Civil Code art. 1103)"
    )]
    StepparentAdoptsAlone,
    #[error("an adoption has one adopter or two spouses adopting jointly (Civil Code art. 1101)")]
    AdoptersCount,
    #[error("two adopters must be a married couple adopting jointly (Civil Code art. 1101, 1049)")]
    NotACouple,
    #[error(
        "a married person adopts jointly with their spouse (Civil Code art. 1101); register \
         both as adopters"
    )]
    JointAdoptionRequired,
    #[error("adopter {adopter} is the child")]
    AdopterIsChild { adopter: usize },
    #[error(
        "adopter {adopter} is {age}, under {ADOPTER_MIN_AGE}, on the registration day (Civil \
         Code art. 1098(5))"
    )]
    AdopterUnder30 { adopter: usize, age: u32 },
    #[error(
        "adopter {adopter} does not meet the conditions of Civil Code art. 1098(2)-(4): {missing}"
    )]
    AdopterConditions {
        adopter: usize,
        /// The conditions not attested, in English.
        missing: String,
    },
    #[error(
        "adopter {adopter} has {children} children and may not adopt another (Civil Code art. \
         1098(1), 1100): only an orphan, a disabled minor or a minor whose parents cannot be \
         found raised by a child-welfare institution is exempt"
    )]
    TooManyChildren { adopter: usize, children: u8 },
    #[error(
        "a single adopter of a child of the other sex must be at least {MIN_AGE_GAP} years \
         older; the gap is {gap} (Civil Code art. 1102)"
    )]
    AgeGapUnder40 { gap: u32 },
    #[error(
        "the child is {CONSENT_AGE} or older and must consent to the adoption (Civil Code art. \
         1104)"
    )]
    ChildConsentRequired,
    #[error(
        "an adoption is registered by a civil-affairs department at county level or above \
         (Civil Code art. 1105)"
    )]
    RegistryBelowCounty,
}

impl DomainError for Refusal {
    fn rule(&self) -> &str {
        match self {
            Refusal::NotAMinor => "not_a_minor",
            Refusal::ChildCategoryRequired => "child_category_required",
            Refusal::BirthParentsConsentRequired => "birth_parents_consent_required",
            Refusal::StepparentAdoptsAlone => "stepparent_adopts_alone",
            Refusal::AdoptersCount => "adopters_count",
            Refusal::NotACouple => "not_a_couple",
            Refusal::JointAdoptionRequired => "joint_adoption_required",
            Refusal::AdopterIsChild { .. } => "adopter_is_child",
            Refusal::AdopterUnder30 { .. } => "adopter_under_30",
            Refusal::AdopterConditions { .. } => "adopter_conditions",
            Refusal::TooManyChildren { .. } => "too_many_children",
            Refusal::AgeGapUnder40 { .. } => "age_gap_under_40",
            Refusal::ChildConsentRequired => "child_consent_required",
            Refusal::RegistryBelowCounty => "registry_below_county",
        }
    }
}

/// Checks `registration` against the Civil Code; the fact to record, with what was computed, or
/// the first rule that refuses it. See the [module documentation](self) for the rules.
pub fn check(registration: &Registration) -> Result<Registered, Refusal> {
    let on = registration.on;
    let child = &registration.child;
    let child_age = age_on(child.birth_date(), on);
    if child_age >= ADULT_AGE || on < child.birth_date() {
        return Err(Refusal::NotAMinor);
    }
    let relationship = registration.relationship;
    if registration.child_category.is_none() && !relationship.lifts_child_category() {
        return Err(Refusal::ChildCategoryRequired);
    }
    let adopters = &registration.adopters;
    if adopters.is_empty() || adopters.len() > MAX_ADOPTERS {
        return Err(Refusal::AdoptersCount);
    }
    if let Some(index) = adopters.iter().position(|a| &a.citizen == child) {
        return Err(Refusal::AdopterIsChild { adopter: index + 1 });
    }
    let stepchild = relationship == Relationship::Stepchild;
    if stepchild {
        if adopters.len() != 1 {
            return Err(Refusal::StepparentAdoptsAlone);
        }
        if !registration.birth_parents_consent {
            return Err(Refusal::BirthParentsConsentRequired);
        }
    }
    match adopters.as_slice() {
        [one, other]
            if one.citizen == other.citizen
                || one.citizen.sex() == other.citizen.sex()
                || !(one.married && other.married) =>
        {
            return Err(Refusal::NotACouple);
        }
        [single] if single.married && !stepchild => {
            return Err(Refusal::JointAdoptionRequired);
        }
        _ => {}
    }
    if stepchild {
        // Art. 1103 lifts the whole of art. 1098 and art. 1100 ¶1: no age, conditions or
        // children to check.
        return finish(registration, child_age, not_applicable(registration));
    }
    for (index, adopter) in adopters.iter().enumerate() {
        let age = age_on(adopter.citizen.birth_date(), on);
        if age < ADOPTER_MIN_AGE {
            return Err(Refusal::AdopterUnder30 {
                adopter: index + 1,
                age,
            });
        }
    }
    for (index, adopter) in adopters.iter().enumerate() {
        let missing: Vec<&str> = [
            (
                adopter.can_raise,
                "able to raise, educate and protect the child",
            ),
            (
                adopter.no_disqualifying_illness,
                "no illness that medically precludes adopting",
            ),
            (
                adopter.no_criminal_record,
                "no record of offences harmful to the child's healthy growth",
            ),
        ]
        .into_iter()
        .filter(|(attested, _)| !attested)
        .map(|(_, condition)| condition)
        .collect();
        if !missing.is_empty() {
            return Err(Refusal::AdopterConditions {
                adopter: index + 1,
                missing: missing.join("; "),
            });
        }
    }
    let exemption = registration.exemption();
    let children_lifted =
        relationship == Relationship::CollateralRelativesChild && registration.overseas_chinese;
    if children_lifted {
        return finish(registration, child_age, not_applicable(registration));
    }
    let mut facts = Vec::with_capacity(adopters.len());
    for (index, adopter) in adopters.iter().enumerate() {
        let children_rule = match adopter.children {
            0 => ChildrenRule::NoChild,
            1 => ChildrenRule::OneChild,
            children if exemption.is_none() => {
                return Err(Refusal::TooManyChildren {
                    adopter: index + 1,
                    children,
                });
            }
            _ => ChildrenRule::Exempted,
        };
        facts.push(AdopterFacts {
            age: age_on(adopter.citizen.birth_date(), on),
            children_rule,
            age_gap: None,
        });
    }
    finish(registration, child_age, facts)
}

/// Each adopter's facts where the number-of-children rule does not apply.
fn not_applicable(registration: &Registration) -> Vec<AdopterFacts> {
    registration
        .adopters
        .iter()
        .map(|adopter| AdopterFacts {
            age: age_on(adopter.citizen.birth_date(), registration.on),
            children_rule: ChildrenRule::NotApplicable,
            age_gap: None,
        })
        .collect()
}

/// The rules every adoption meets after the adopters' own (art. 1102, 1104, 1105), and the
/// fact to record.
fn finish(
    registration: &Registration,
    child_age: u32,
    mut facts: Vec<AdopterFacts>,
) -> Result<Registered, Refusal> {
    let child = &registration.child;
    // Art. 1102 binds an adopter without a spouse (无配偶者); art. 1099 lifts it for a relative's
    // child.
    if let ([single], [fact]) = (registration.adopters.as_slice(), facts.as_mut_slice())
        && !single.married
        && registration.relationship != Relationship::CollateralRelativesChild
        && single.citizen.sex() != child.sex()
    {
        let gap = age_on(single.citizen.birth_date(), child.birth_date());
        if gap < MIN_AGE_GAP {
            return Err(Refusal::AgeGapUnder40 { gap });
        }
        fact.age_gap = Some(gap);
    }
    if child_age >= CONSENT_AGE && registration.child_consents != Some(true) {
        return Err(Refusal::ChildConsentRequired);
    }
    if registration.registry.level() > RegionLevel::County {
        return Err(Refusal::RegistryBelowCounty);
    }
    Ok(Registered {
        registration: registration.clone(),
        child_age,
        adopters: facts,
        exemption: registration.exemption(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use time::macros::date;

    use super::*;

    pub(crate) const DAY: Date = date!(2025 - 06 - 16);

    /// A girl born on 2015-06-01 (10 on [`DAY`]).
    pub(crate) fn girl() -> CitizenId {
        CitizenId::from_parts("210502", date!(2015 - 06 - 01), 12).expect("valid")
    }

    /// A boy born on 2021-03-01 (4 on [`DAY`]).
    fn boy() -> CitizenId {
        CitizenId::from_parts("210502", date!(2021 - 03 - 01), 11).expect("valid")
    }

    fn man(birth: Date) -> CitizenId {
        CitizenId::from_parts("210502", birth, 31).expect("valid")
    }

    fn woman(birth: Date) -> CitizenId {
        CitizenId::from_parts("210503", birth, 42).expect("valid")
    }

    pub(crate) fn adopter(citizen: CitizenId, married: bool) -> Adopter {
        Adopter {
            citizen,
            children: 0,
            married,
            can_raise: true,
            no_disqualifying_illness: true,
            no_criminal_record: true,
        }
    }

    pub(crate) fn couple() -> Vec<Adopter> {
        vec![
            adopter(man(date!(1985 - 01 - 20)), true),
            adopter(woman(date!(1987 - 09 - 02)), true),
        ]
    }

    /// A married couple adopting a 10-year-old girl whose parents are in special difficulty,
    /// with her consent.
    pub(crate) fn registration(child: CitizenId, on: Date) -> Registration {
        Registration {
            child,
            certificate: BoundedText::parse("(2025)本收字第0012号", CERTIFICATE_MAX_CHARS)
                .expect("valid"),
            registry: RegionCode::parse("210502000000").expect("valid"),
            adopters: couple(),
            child_category: Some(ChildCategory::ParentsInSpecialDifficulty),
            relationship: Relationship::None,
            overseas_chinese: false,
            birth_parents_consent: false,
            child_disabled: false,
            in_welfare_institution: false,
            child_consents: Some(true),
            on,
        }
    }

    fn base() -> Registration {
        registration(girl(), DAY)
    }

    #[track_caller]
    fn refused(registration: Registration, rule: &str) {
        match check(&registration) {
            Ok(registered) => panic!("expected refusal {rule:?}, got {registered:?}"),
            Err(refusal) => {
                assert_eq!(refusal.rule(), rule, "refused by another rule ({refusal})");
                let message = refusal.to_string();
                for adopter in &registration.adopters {
                    assert!(!message.contains(adopter.citizen.expose()), "{message}");
                }
                assert!(!minzheng_types::contains_citizen_id(&message), "{message}");
            }
        }
    }

    #[test]
    fn a_couple_meeting_every_condition_is_registered_with_the_facts() {
        let registered = check(&base()).expect("allowed");
        assert_eq!(registered.child_age, 10);
        assert_eq!(
            registered.adopters,
            vec![
                AdopterFacts {
                    age: 40,
                    children_rule: ChildrenRule::NoChild,
                    age_gap: None,
                },
                AdopterFacts {
                    age: 37,
                    children_rule: ChildrenRule::NoChild,
                    age_gap: None,
                },
            ]
        );
        assert_eq!(registered.exemption, None);
        assert!(registered.consent_required());
        assert_eq!(registered.registration, base());
    }

    #[test]
    fn only_a_minor_may_be_adopted() {
        let adult = CitizenId::from_parts("210502", date!(2007 - 06 - 16), 12).expect("valid");
        refused(registration(adult, DAY), "not_a_minor");
        let almost = CitizenId::from_parts("210502", date!(2007 - 06 - 17), 12).expect("valid");
        assert!(check(&registration(almost, DAY)).is_ok());
    }

    #[test]
    fn one_adopter_or_a_married_couple() {
        refused(
            Registration {
                adopters: vec![],
                ..base()
            },
            "adopters_count",
        );
        let mut three = couple();
        three.push(adopter(man(date!(1980 - 01 - 01)), true));
        refused(
            Registration {
                adopters: three,
                ..base()
            },
            "adopters_count",
        );
        let mut unmarried = couple();
        unmarried[1].married = false;
        refused(
            Registration {
                adopters: unmarried,
                ..base()
            },
            "not_a_couple",
        );
        let same_sex = vec![
            adopter(man(date!(1985 - 01 - 20)), true),
            adopter(man(date!(1986 - 01 - 20)), true),
        ];
        refused(
            Registration {
                adopters: same_sex,
                ..base()
            },
            "not_a_couple",
        );
        let twice = vec![couple()[0].clone(), couple()[0].clone()];
        refused(
            Registration {
                adopters: twice,
                ..base()
            },
            "not_a_couple",
        );
        refused(
            Registration {
                adopters: vec![adopter(woman(date!(1980 - 01 - 01)), true)],
                ..base()
            },
            "joint_adoption_required",
        );
        refused(
            Registration {
                adopters: vec![adopter(girl(), false)],
                ..base()
            },
            "adopter_is_child",
        );
    }

    #[test]
    fn each_adopter_is_30_or_older_on_the_day() {
        let mut young = couple();
        young[1] = adopter(woman(date!(1995 - 06 - 17)), true);
        refused(
            Registration {
                adopters: young.clone(),
                ..base()
            },
            "adopter_under_30",
        );
        young[1] = adopter(woman(date!(1995 - 06 - 16)), true);
        let registered = check(&Registration {
            adopters: young,
            ..base()
        })
        .expect("30 on the day");
        assert_eq!(registered.adopters[1].age, 30);
    }

    #[test]
    fn each_adopter_meets_the_conditions_of_article_1098() {
        for spoil in [
            |a: &mut Adopter| a.can_raise = false,
            |a: &mut Adopter| a.no_disqualifying_illness = false,
            |a: &mut Adopter| a.no_criminal_record = false,
        ] {
            let mut adopters = couple();
            spoil(&mut adopters[0]);
            refused(Registration { adopters, ..base() }, "adopter_conditions");
        }
        let mut adopters = couple();
        adopters[1].can_raise = false;
        adopters[1].no_criminal_record = false;
        let refusal = check(&Registration { adopters, ..base() }).expect_err("refused");
        assert_eq!(
            refusal.to_string(),
            "adopter 2 does not meet the conditions of Civil Code art. 1098(2)-(4): able to \
             raise, educate and protect the child; no record of offences harmful to the child's \
             healthy growth"
        );
    }

    #[test]
    fn the_number_of_children_and_its_exemptions() {
        let with_children = |children: [u8; 2]| {
            let mut adopters = couple();
            adopters[0].children = children[0];
            adopters[1].children = children[1];
            adopters
        };
        let registered = check(&Registration {
            adopters: with_children([1, 0]),
            ..base()
        })
        .expect("one child may adopt one");
        assert_eq!(registered.adopters[0].children_rule, ChildrenRule::OneChild);
        refused(
            Registration {
                adopters: with_children([0, 2]),
                ..base()
            },
            "too_many_children",
        );
        // Art. 1100 ¶2: an orphan, a disabled minor, or a foundling in an institution.
        for (category, disabled, institution, exemption) in [
            (ChildCategory::Orphan, false, false, Some(Exemption::Orphan)),
            (
                ChildCategory::ParentsInSpecialDifficulty,
                true,
                false,
                Some(Exemption::DisabledMinor),
            ),
            (
                ChildCategory::ParentsNotFound,
                false,
                true,
                Some(Exemption::FoundlingInWelfareInstitution),
            ),
            (ChildCategory::ParentsNotFound, false, false, None),
            (ChildCategory::ParentsInSpecialDifficulty, false, true, None),
        ] {
            let registration = Registration {
                adopters: with_children([3, 2]),
                child_category: Some(category),
                child_disabled: disabled,
                in_welfare_institution: institution,
                ..base()
            };
            match exemption {
                Some(exemption) => {
                    let registered = check(&registration).expect("exempt");
                    assert_eq!(registered.exemption, Some(exemption));
                    assert!(
                        registered
                            .adopters
                            .iter()
                            .all(|a| a.children_rule == ChildrenRule::Exempted)
                    );
                }
                None => refused(registration, "too_many_children"),
            }
        }
        // The exemption is recorded even when no adopter needed it.
        let registered = check(&Registration {
            child_category: Some(ChildCategory::Orphan),
            ..base()
        })
        .expect("allowed");
        assert_eq!(registered.exemption, Some(Exemption::Orphan));
        assert_eq!(registered.adopters[0].children_rule, ChildrenRule::NoChild);
    }

    #[test]
    fn a_single_adopter_of_a_child_of_the_other_sex_is_40_years_older() {
        // The girl was born on 2015-06-01.
        let single = |citizen| Registration {
            adopters: vec![adopter(citizen, false)],
            ..base()
        };
        refused(single(man(date!(1975 - 06 - 02))), "age_gap_under_40");
        let registered = check(&single(man(date!(1975 - 06 - 01)))).expect("40 years");
        assert_eq!(registered.adopters[0].age_gap, Some(40));
        // Since 2021 the rule holds for a single woman adopting a boy too.
        let for_boy = |citizen| Registration {
            child: boy(),
            child_consents: None,
            ..single(citizen)
        };
        refused(for_boy(woman(date!(1981 - 03 - 02))), "age_gap_under_40");
        assert!(check(&for_boy(woman(date!(1981 - 03 - 01)))).is_ok());
        // The same sex: no gap is required, and none is recorded.
        let registered = check(&single(woman(date!(1990 - 01 - 01)))).expect("allowed");
        assert_eq!(registered.adopters[0].age_gap, None);
        // A couple: the rule does not apply.
        let young_couple = vec![
            adopter(man(date!(1990 - 01 - 01)), true),
            adopter(woman(date!(1990 - 01 - 01)), true),
        ];
        assert!(
            check(&Registration {
                adopters: young_couple,
                ..base()
            })
            .is_ok()
        );
    }

    #[test]
    fn a_child_of_8_or_older_must_consent() {
        for consents in [None, Some(false)] {
            refused(
                Registration {
                    child_consents: consents,
                    ..base()
                },
                "child_consent_required",
            );
        }
        let eight = CitizenId::from_parts("210502", date!(2017 - 06 - 16), 12).expect("valid");
        refused(
            Registration {
                child_consents: None,
                ..registration(eight.clone(), DAY)
            },
            "child_consent_required",
        );
        let seven = CitizenId::from_parts("210502", date!(2017 - 06 - 17), 12).expect("valid");
        let registered = check(&Registration {
            child_consents: None,
            ..registration(seven, DAY)
        })
        .expect("under 8: not asked");
        assert!(!registered.consent_required());
    }

    #[test]
    fn the_registry_is_at_county_level_or_above() {
        refused(
            Registration {
                registry: RegionCode::parse("210502001000").expect("valid"),
                ..base()
            },
            "registry_below_county",
        );
        assert!(
            check(&Registration {
                registry: RegionCode::parse("210500000000").expect("valid"),
                ..base()
            })
            .is_ok()
        );
    }

    /// Given an unmarried uncle of 35 and his orphaned niece of 10, when he adopts her: the
    /// general rules refuse the age gap of 25, but as a relative's child (art. 1099) she is
    /// registered without it, and without a category of art. 1093; an overseas Chinese uncle
    /// with three children is free of the number of children, one at home is not.
    #[test]
    fn a_relatives_child_is_free_of_the_age_gap_and_the_category() {
        let uncle = adopter(man(date!(1990 - 02 - 01)), false);
        let general = Registration {
            adopters: vec![uncle.clone()],
            ..base()
        };
        refused(general.clone(), "age_gap_under_40");

        let relative = Registration {
            relationship: Relationship::CollateralRelativesChild,
            child_category: None,
            ..general.clone()
        };
        let registered = check(&relative).expect("a relative's child");
        assert_eq!(registered.adopters[0].age, 35);
        assert_eq!(registered.adopters[0].age_gap, None);
        assert_eq!(registered.adopters[0].children_rule, ChildrenRule::NoChild);
        refused(
            Registration {
                relationship: Relationship::None,
                ..relative.clone()
            },
            "child_category_required",
        );

        let with_three = Registration {
            adopters: vec![Adopter {
                children: 3,
                ..uncle
            }],
            child_category: Some(ChildCategory::ParentsInSpecialDifficulty),
            ..relative.clone()
        };
        refused(with_three.clone(), "too_many_children");
        let overseas = check(&Registration {
            overseas_chinese: true,
            ..with_three
        })
        .expect("an overseas Chinese adopting a relative's child");
        assert_eq!(
            overseas.adopters[0].children_rule,
            ChildrenRule::NotApplicable
        );
        // The rest of art. 1098 still binds a relative: the age of 30.
        refused(
            Registration {
                adopters: vec![adopter(man(date!(2000 - 01 - 01)), false)],
                ..relative
            },
            "adopter_under_30",
        );
    }

    /// Given a stepfather of 25, married to the girl's mother, with two children of his own and
    /// no attestations of art. 1098: with the birth parents' consent he adopts her alone (art.
    /// 1103 lifts art. 1098 and 1100 ¶1, and he is not a spouse adopting without the other);
    /// without it, or with a second adopter, or without the girl's consent at 10, he does not.
    #[test]
    fn a_stepchild_is_adopted_by_the_stepparent_alone_with_the_birth_parents_consent() {
        let stepfather = Adopter {
            children: 2,
            can_raise: false,
            no_disqualifying_illness: false,
            no_criminal_record: false,
            ..adopter(man(date!(2000 - 01 - 01)), true)
        };
        let stepchild = Registration {
            adopters: vec![stepfather.clone()],
            relationship: Relationship::Stepchild,
            birth_parents_consent: true,
            child_category: None,
            ..base()
        };
        let registered = check(&stepchild).expect("a stepchild");
        assert_eq!(registered.adopters[0].age, 25);
        assert_eq!(
            registered.adopters[0].children_rule,
            ChildrenRule::NotApplicable
        );
        assert_eq!(registered.adopters[0].age_gap, None);
        assert_eq!(
            registered.registration.relationship,
            Relationship::Stepchild
        );

        refused(
            Registration {
                relationship: Relationship::None,
                child_category: Some(ChildCategory::ParentsInSpecialDifficulty),
                ..stepchild.clone()
            },
            "joint_adoption_required",
        );
        refused(
            Registration {
                birth_parents_consent: false,
                ..stepchild.clone()
            },
            "birth_parents_consent_required",
        );
        refused(
            Registration {
                adopters: vec![stepfather, adopter(woman(date!(1987 - 09 - 02)), true)],
                ..stepchild.clone()
            },
            "stepparent_adopts_alone",
        );
        refused(
            Registration {
                child_consents: None,
                ..stepchild.clone()
            },
            "child_consent_required",
        );
        refused(
            Registration {
                registry: RegionCode::parse("210502001000").expect("valid"),
                ..stepchild
            },
            "registry_below_county",
        );
    }

    #[test]
    fn debug_shows_no_citizen_id() {
        let registered = check(&base()).expect("allowed");
        let debug = format!("{registered:?}");
        assert!(!debug.contains(girl().expose()), "{debug}");
        assert!(!debug.contains(&girl().masked()), "{debug}");
        for adopter in couple() {
            assert!(!debug.contains(&adopter.citizen.masked()), "{debug}");
        }
        assert!(!debug.contains("2015"), "{debug}");
    }
}
