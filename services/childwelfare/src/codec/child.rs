//! The codec of a child's record ([`child::Event`]) and its messages in
//! `proto/minzheng/childwelfare/v1/child_events.proto`. An adoption's computed facts (ages,
//! the children rule, the exemption) are read back as recorded, never computed again.

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::{Decoder, optional_text},
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::childwelfare::v1 as pb;

use super::{SCHEMA_VERSION, known};
use crate::{
    adoption::{
        self, Adopter, AdopterFacts, ChildCategory, ChildrenRule, Exemption, Registration,
        Relationship,
    },
    allowance::{Basis, Care, ParentSituation},
    child::{
        self, CareArrangement, CessationReason, CoverageCeased, Death, FactSource, FactSourceKind,
        Identified, Parent, ParentFact, ParentFactRevised,
    },
};

minzheng_host::event_codec! {
    child::Event, schema_version = SCHEMA_VERSION;
    Identified(Identified) <=> pb::ChildIdentified,
    CareArranged(CareArrangement) <=> pb::ChildCareArranged,
    ParentFactRevised(ParentFactRevised) <=> pb::ChildParentFactRevised,
    CoverageCeased(CoverageCeased) <=> pb::ChildCoverageCeased,
    Adopted(adoption::Registered) <=> pb::ChildAdopted,
    DeathNoted(Death) <=> pb::ChildDeathNoted,
}

pub(crate) fn situation_to_pb(situation: ParentSituation) -> pb::ParentSituation {
    use ParentSituation as S;
    match situation {
        S::Able => pb::ParentSituation::Able,
        S::Dead => pb::ParentSituation::Dead,
        S::NotFound => pb::ParentSituation::NotFound,
        S::DeclaredMissing => pb::ParentSituation::DeclaredMissing,
        S::SevereDisability => pb::ParentSituation::SevereDisability,
        S::SevereIllness => pb::ParentSituation::SevereIllness,
        S::Imprisoned => pb::ParentSituation::Imprisoned,
        S::CompulsoryDrugRehabilitation => pb::ParentSituation::CompulsoryDrugRehabilitation,
        S::OtherRestrictionOfLiberty => pb::ParentSituation::OtherRestrictionOfLiberty,
        S::OutOfContact => pb::ParentSituation::OutOfContact,
    }
}

pub(crate) fn situation_from_pb(value: i32) -> Option<ParentSituation> {
    use ParentSituation as S;
    Some(match pb::ParentSituation::try_from(value).ok()? {
        pb::ParentSituation::Able => S::Able,
        pb::ParentSituation::Dead => S::Dead,
        pb::ParentSituation::NotFound => S::NotFound,
        pb::ParentSituation::DeclaredMissing => S::DeclaredMissing,
        pb::ParentSituation::SevereDisability => S::SevereDisability,
        pb::ParentSituation::SevereIllness => S::SevereIllness,
        pb::ParentSituation::Imprisoned => S::Imprisoned,
        pb::ParentSituation::CompulsoryDrugRehabilitation => S::CompulsoryDrugRehabilitation,
        pb::ParentSituation::OtherRestrictionOfLiberty => S::OtherRestrictionOfLiberty,
        pb::ParentSituation::OutOfContact => S::OutOfContact,
        pb::ParentSituation::Unspecified => return None,
    })
}

pub(crate) fn source_kind_to_pb(kind: FactSourceKind) -> pb::FactSourceKind {
    use FactSourceKind as K;
    match kind {
        K::CivilRegistrationDeath => pb::FactSourceKind::CivilRegistrationDeath,
        K::CourtRecord => pb::FactSourceKind::CourtRecord,
        K::PoliceRecord => pb::FactSourceKind::PoliceRecord,
        K::DisabilityCertificate => pb::FactSourceKind::DisabilityCertificate,
        K::MedicalRecord => pb::FactSourceKind::MedicalRecord,
        K::DetentionRecord => pb::FactSourceKind::DetentionRecord,
        K::Other => pb::FactSourceKind::Other,
    }
}

pub(crate) fn source_kind_from_pb(value: i32) -> Option<FactSourceKind> {
    use FactSourceKind as K;
    Some(match pb::FactSourceKind::try_from(value).ok()? {
        pb::FactSourceKind::CivilRegistrationDeath => K::CivilRegistrationDeath,
        pb::FactSourceKind::CourtRecord => K::CourtRecord,
        pb::FactSourceKind::PoliceRecord => K::PoliceRecord,
        pb::FactSourceKind::DisabilityCertificate => K::DisabilityCertificate,
        pb::FactSourceKind::MedicalRecord => K::MedicalRecord,
        pb::FactSourceKind::DetentionRecord => K::DetentionRecord,
        pb::FactSourceKind::Other => K::Other,
        pb::FactSourceKind::Unspecified => return None,
    })
}

pub(crate) fn basis_to_pb(basis: Basis) -> pb::CoverageBasis {
    match basis {
        Basis::Orphan => pb::CoverageBasis::Orphan,
        Basis::DeFactoUnsupported => pb::CoverageBasis::DeFactoUnsupported,
    }
}

/// A basis, `None` for the unspecified value (and for an unknown one).
pub(crate) fn basis_from_pb(value: i32) -> Option<Basis> {
    match pb::CoverageBasis::try_from(value).ok()? {
        pb::CoverageBasis::Orphan => Some(Basis::Orphan),
        pb::CoverageBasis::DeFactoUnsupported => Some(Basis::DeFactoUnsupported),
        pb::CoverageBasis::Unspecified => None,
    }
}

pub(crate) fn care_to_pb(care: Care) -> pb::ChildCareSetting {
    match care {
        Care::Centralized => pb::ChildCareSetting::Centralized,
        Care::Family => pb::ChildCareSetting::Family,
    }
}

pub(crate) fn care_from_pb(value: i32) -> Option<Care> {
    match pb::ChildCareSetting::try_from(value).ok()? {
        pb::ChildCareSetting::Centralized => Some(Care::Centralized),
        pb::ChildCareSetting::Family => Some(Care::Family),
        pb::ChildCareSetting::Unspecified => None,
    }
}

fn parent_to_pb(parent: Parent) -> pb::ParentRole {
    match parent {
        Parent::Father => pb::ParentRole::Father,
        Parent::Mother => pb::ParentRole::Mother,
    }
}

pub(crate) fn parent_from_pb(value: i32) -> Option<Parent> {
    match pb::ParentRole::try_from(value).ok()? {
        pb::ParentRole::Father => Some(Parent::Father),
        pb::ParentRole::Mother => Some(Parent::Mother),
        pb::ParentRole::Unspecified => None,
    }
}

fn reason_to_pb(reason: CessationReason) -> pb::CessationReason {
    match reason {
        CessationReason::NoBasis => pb::CessationReason::NoBasis,
    }
}

fn reason_from_pb(value: i32) -> Option<CessationReason> {
    match pb::CessationReason::try_from(value).ok()? {
        pb::CessationReason::NoBasis => Some(CessationReason::NoBasis),
        pb::CessationReason::Unspecified => None,
    }
}

fn category_to_pb(category: Option<ChildCategory>) -> pb::AdoptionChildCategory {
    let Some(category) = category else {
        return pb::AdoptionChildCategory::Unspecified;
    };
    match category {
        ChildCategory::Orphan => pb::AdoptionChildCategory::Orphan,
        ChildCategory::ParentsNotFound => pb::AdoptionChildCategory::ParentsNotFound,
        ChildCategory::ParentsInSpecialDifficulty => {
            pb::AdoptionChildCategory::ParentsInSpecialDifficulty
        }
    }
}

pub(crate) fn category_from_pb(value: i32) -> Option<ChildCategory> {
    match pb::AdoptionChildCategory::try_from(value).ok()? {
        pb::AdoptionChildCategory::Orphan => Some(ChildCategory::Orphan),
        pb::AdoptionChildCategory::ParentsNotFound => Some(ChildCategory::ParentsNotFound),
        pb::AdoptionChildCategory::ParentsInSpecialDifficulty => {
            Some(ChildCategory::ParentsInSpecialDifficulty)
        }
        pb::AdoptionChildCategory::Unspecified => None,
    }
}

fn relationship_to_pb(relationship: Relationship) -> pb::AdoptionRelationship {
    match relationship {
        Relationship::None => pb::AdoptionRelationship::Unspecified,
        Relationship::CollateralRelativesChild => {
            pb::AdoptionRelationship::CollateralRelativesChild
        }
        Relationship::Stepchild => pb::AdoptionRelationship::Stepchild,
    }
}

pub(crate) fn relationship_from_pb(value: i32) -> Option<Relationship> {
    Some(match pb::AdoptionRelationship::try_from(value).ok()? {
        pb::AdoptionRelationship::Unspecified => Relationship::None,
        pb::AdoptionRelationship::CollateralRelativesChild => {
            Relationship::CollateralRelativesChild
        }
        pb::AdoptionRelationship::Stepchild => Relationship::Stepchild,
    })
}

fn exemption_to_pb(exemption: Option<Exemption>) -> pb::AdoptionExemption {
    match exemption {
        None => pb::AdoptionExemption::Unspecified,
        Some(Exemption::Orphan) => pb::AdoptionExemption::Orphan,
        Some(Exemption::DisabledMinor) => pb::AdoptionExemption::DisabledMinor,
        Some(Exemption::FoundlingInWelfareInstitution) => {
            pb::AdoptionExemption::FoundlingInWelfareInstitution
        }
    }
}

/// `Some(None)` for the unspecified value (no exemption), `None` for an unknown one.
fn exemption_from_pb(value: i32) -> Option<Option<Exemption>> {
    Some(match pb::AdoptionExemption::try_from(value).ok()? {
        pb::AdoptionExemption::Unspecified => None,
        pb::AdoptionExemption::Orphan => Some(Exemption::Orphan),
        pb::AdoptionExemption::DisabledMinor => Some(Exemption::DisabledMinor),
        pb::AdoptionExemption::FoundlingInWelfareInstitution => {
            Some(Exemption::FoundlingInWelfareInstitution)
        }
    })
}

fn children_rule_to_pb(rule: ChildrenRule) -> pb::AdopterChildrenRule {
    match rule {
        ChildrenRule::NoChild => pb::AdopterChildrenRule::NoChild,
        ChildrenRule::OneChild => pb::AdopterChildrenRule::OneChild,
        ChildrenRule::Exempted => pb::AdopterChildrenRule::Exempted,
        ChildrenRule::NotApplicable => pb::AdopterChildrenRule::NotApplicable,
    }
}

fn children_rule_from_pb(value: i32) -> Option<ChildrenRule> {
    match pb::AdopterChildrenRule::try_from(value).ok()? {
        pb::AdopterChildrenRule::NoChild => Some(ChildrenRule::NoChild),
        pb::AdopterChildrenRule::OneChild => Some(ChildrenRule::OneChild),
        pb::AdopterChildrenRule::Exempted => Some(ChildrenRule::Exempted),
        pb::AdopterChildrenRule::NotApplicable => Some(ChildrenRule::NotApplicable),
        pb::AdopterChildrenRule::Unspecified => None,
    }
}

fn consent_to_pb(consents: Option<bool>) -> pb::AdoptionChildConsent {
    match consents {
        None => pb::AdoptionChildConsent::Unspecified,
        Some(true) => pb::AdoptionChildConsent::Given,
        Some(false) => pb::AdoptionChildConsent::Refused,
    }
}

/// `Some(None)` for the unspecified value (not asked), `None` for an unknown one.
pub(crate) fn consent_from_pb(value: i32) -> Option<Option<bool>> {
    Some(match pb::AdoptionChildConsent::try_from(value).ok()? {
        pb::AdoptionChildConsent::Unspecified => None,
        pb::AdoptionChildConsent::Given => Some(true),
        pb::AdoptionChildConsent::Refused => Some(false),
    })
}

pub(crate) fn fact_to_pb(fact: &ParentFact) -> pb::ParentFact {
    pb::ParentFact {
        situation: situation_to_pb(fact.situation).into(),
        source: fact.source.as_ref().map(|source| pb::FactSource {
            kind: source_kind_to_pb(source.kind).into(),
            reference: source.reference.as_str().to_owned(),
        }),
    }
}

/// A parent's fact; `field` names it in errors.
pub(crate) fn fact_from_pb(
    d: &Decoder<'_>,
    field: &str,
    fact: Option<&pb::ParentFact>,
) -> Result<ParentFact, CodecError> {
    let fact = fact.ok_or_else(|| d.invalid(format!("{field} missing")))?;
    Ok(ParentFact {
        situation: known(
            d,
            &format!("{field}.situation"),
            situation_from_pb(fact.situation),
        )?,
        source: fact
            .source
            .as_ref()
            .map(|source| {
                Ok::<_, CodecError>(FactSource {
                    kind: known(
                        d,
                        &format!("{field}.source.kind"),
                        source_kind_from_pb(source.kind),
                    )?,
                    reference: d.text(&format!("{field}.source.reference"), &source.reference)?,
                })
            })
            .transpose()?,
    })
}

impl ToMessage for Identified {
    type Message = pb::ChildIdentified;

    fn to_message(&self) -> pb::ChildIdentified {
        pb::ChildIdentified {
            child: Some((&self.child).into()),
            division: Some(self.division.into()),
            basis: basis_to_pb(self.basis).into(),
            father: Some(fact_to_pb(&self.father)),
            mother: Some(fact_to_pb(&self.mother)),
            identified_on: Some(self.on.into()),
        }
    }
}

impl FromMessage<pb::ChildIdentified> for Identified {
    fn from_message(m: pb::ChildIdentified, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            child: d.citizen("child", &m.child)?,
            division: d.code("division", &m.division)?,
            basis: known(d, "basis", basis_from_pb(m.basis))?,
            father: fact_from_pb(d, "father", m.father.as_ref())?,
            mother: fact_from_pb(d, "mother", m.mother.as_ref())?,
            on: d.date("identified_on", &m.identified_on)?,
        })
    }
}

impl ToMessage for CareArrangement {
    type Message = pb::ChildCareArranged;

    fn to_message(&self) -> pb::ChildCareArranged {
        pb::ChildCareArranged {
            care: care_to_pb(self.care).into(),
            effective_from: Some(self.from.into()),
            institution: optional_text(self.institution.as_ref()),
        }
    }
}

impl FromMessage<pb::ChildCareArranged> for CareArrangement {
    fn from_message(m: pb::ChildCareArranged, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            care: known(d, "care", care_from_pb(m.care))?,
            from: d.date("effective_from", &m.effective_from)?,
            institution: d.optional_text("institution", &m.institution)?,
        })
    }
}

impl ToMessage for ParentFactRevised {
    type Message = pb::ChildParentFactRevised;

    fn to_message(&self) -> pb::ChildParentFactRevised {
        pb::ChildParentFactRevised {
            parent: parent_to_pb(self.parent).into(),
            fact: Some(fact_to_pb(&self.fact)),
            basis: self
                .basis
                .map_or(pb::CoverageBasis::Unspecified, basis_to_pb)
                .into(),
            revised_on: Some(self.on.into()),
        }
    }
}

impl FromMessage<pb::ChildParentFactRevised> for ParentFactRevised {
    fn from_message(m: pb::ChildParentFactRevised, d: &Decoder<'_>) -> Result<Self, CodecError> {
        // Unspecified means no basis; an unknown value is still refused.
        let basis = match pb::CoverageBasis::try_from(m.basis) {
            Ok(pb::CoverageBasis::Unspecified) => None,
            _ => Some(known(d, "basis", basis_from_pb(m.basis))?),
        };
        Ok(Self {
            parent: known(d, "parent", parent_from_pb(m.parent))?,
            fact: fact_from_pb(d, "fact", m.fact.as_ref())?,
            basis,
            on: d.date("revised_on", &m.revised_on)?,
        })
    }
}

impl ToMessage for CoverageCeased {
    type Message = pb::ChildCoverageCeased;

    fn to_message(&self) -> pb::ChildCoverageCeased {
        pb::ChildCoverageCeased {
            ceased_on: Some(self.on.into()),
            reason: reason_to_pb(self.reason).into(),
        }
    }
}

impl FromMessage<pb::ChildCoverageCeased> for CoverageCeased {
    fn from_message(m: pb::ChildCoverageCeased, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            on: d.date("ceased_on", &m.ceased_on)?,
            reason: known(d, "reason", reason_from_pb(m.reason))?,
        })
    }
}

impl ToMessage for adoption::Registered {
    type Message = pb::ChildAdopted;

    fn to_message(&self) -> pb::ChildAdopted {
        let r = &self.registration;
        pb::ChildAdopted {
            child: Some((&r.child).into()),
            certificate: r.certificate.as_str().to_owned(),
            registry: Some(r.registry.into()),
            adopters: r
                .adopters
                .iter()
                .zip(&self.adopters)
                .map(|(adopter, facts)| pb::AdopterRecord {
                    adopter: Some((&adopter.citizen).into()),
                    children: u32::from(adopter.children),
                    married: adopter.married,
                    can_raise: adopter.can_raise,
                    no_disqualifying_illness: adopter.no_disqualifying_illness,
                    no_criminal_record: adopter.no_criminal_record,
                    age: facts.age,
                    children_rule: children_rule_to_pb(facts.children_rule).into(),
                    age_gap: facts.age_gap.unwrap_or(0),
                })
                .collect(),
            child_category: category_to_pb(r.child_category).into(),
            child_disabled: r.child_disabled,
            in_welfare_institution: r.in_welfare_institution,
            child_consent: consent_to_pb(r.child_consents).into(),
            registered_on: Some(r.on.into()),
            child_age: self.child_age,
            exemption: exemption_to_pb(self.exemption).into(),
            relationship: relationship_to_pb(r.relationship).into(),
            overseas_chinese: r.overseas_chinese,
            birth_parents_consent: r.birth_parents_consent,
        }
    }
}

impl FromMessage<pb::ChildAdopted> for adoption::Registered {
    fn from_message(m: pb::ChildAdopted, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let mut adopters = Vec::with_capacity(m.adopters.len());
        let mut facts = Vec::with_capacity(m.adopters.len());
        for a in &m.adopters {
            adopters.push(Adopter {
                citizen: d.citizen("adopters.adopter", &a.adopter)?,
                children: u8::try_from(a.children)
                    .map_err(|_| d.invalid("adopters.children is above 255"))?,
                married: a.married,
                can_raise: a.can_raise,
                no_disqualifying_illness: a.no_disqualifying_illness,
                no_criminal_record: a.no_criminal_record,
            });
            facts.push(AdopterFacts {
                age: a.age,
                children_rule: known(
                    d,
                    "adopters.children_rule",
                    children_rule_from_pb(a.children_rule),
                )?,
                age_gap: (a.age_gap != 0).then_some(a.age_gap),
            });
        }
        Ok(Self {
            registration: Registration {
                child: d.citizen("child", &m.child)?,
                certificate: d.text("certificate", &m.certificate)?,
                registry: d.code("registry", &m.registry)?,
                adopters,
                // Unspecified is history too (a relative's child, a stepchild); the rule that
                // required it was checked when deciding.
                child_category: known(
                    d,
                    "child_category",
                    pb::AdoptionChildCategory::try_from(m.child_category)
                        .ok()
                        .map(|_| category_from_pb(m.child_category)),
                )?,
                relationship: known(d, "relationship", relationship_from_pb(m.relationship))?,
                overseas_chinese: m.overseas_chinese,
                birth_parents_consent: m.birth_parents_consent,
                child_disabled: m.child_disabled,
                in_welfare_institution: m.in_welfare_institution,
                child_consents: known(d, "child_consent", consent_from_pb(m.child_consent))?,
                on: d.date("registered_on", &m.registered_on)?,
            },
            child_age: m.child_age,
            adopters: facts,
            exemption: known(d, "exemption", exemption_from_pb(m.exemption))?,
        })
    }
}

impl ToMessage for Death {
    type Message = pb::ChildDeathNoted;

    fn to_message(&self) -> pb::ChildDeathNoted {
        pb::ChildDeathNoted {
            died_on: Some(self.on.into()),
            registration: self.registration.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::ChildDeathNoted> for Death {
    fn from_message(m: pb::ChildDeathNoted, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            on: d.date("died_on", &m.died_on)?,
            registration: d.text("registration", &m.registration)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use minzheng_kit::{aggregate::EventCodec, testing::assert_codec_round_trips};
    use minzheng_types::CitizenId;
    use prost::Message;
    use time::macros::date;

    use super::*;
    use crate::{
        adoption::tests::{adopter, girl, registration},
        child::{
            Event,
            tests::{ON, able, death, fact, family_from, identified, released, text},
        },
        codec::PACKAGE,
    };

    const SITUATIONS: [ParentSituation; 10] = [
        ParentSituation::Able,
        ParentSituation::Dead,
        ParentSituation::NotFound,
        ParentSituation::DeclaredMissing,
        ParentSituation::SevereDisability,
        ParentSituation::SevereIllness,
        ParentSituation::Imprisoned,
        ParentSituation::CompulsoryDrugRehabilitation,
        ParentSituation::OtherRestrictionOfLiberty,
        ParentSituation::OutOfContact,
    ];

    fn adopted() -> adoption::Registered {
        adoption::check(&registration(girl(), ON)).expect("allowed")
    }

    fn history() -> Vec<Event> {
        [
            vec![identified(ON), family_from(ON)],
            released(date!(2025 - 06 - 20)),
            vec![Event::Adopted(adopted()), Event::DeathNoted(death(ON))],
        ]
        .concat()
    }

    #[test]
    fn every_event_round_trips() {
        let mut events = history();
        let Event::Identified(base) = identified(ON) else {
            unreachable!("identified() is an Identified")
        };
        for situation in SITUATIONS {
            for kind in FactSourceKind::ALL {
                events.push(Event::Identified(Identified {
                    father: fact(situation, kind),
                    mother: able(),
                    basis: Basis::Orphan,
                    ..base.clone()
                }));
            }
        }
        for care in Care::ALL {
            events.push(Event::CareArranged(CareArrangement {
                care,
                from: ON,
                institution: (care == Care::Centralized).then(|| text("本溪市儿童福利院")),
            }));
        }
        for (parent, basis) in [
            (Parent::Father, Some(Basis::Orphan)),
            (Parent::Mother, Some(Basis::DeFactoUnsupported)),
            (Parent::Mother, None),
        ] {
            events.push(Event::ParentFactRevised(ParentFactRevised {
                parent,
                fact: able(),
                basis,
                on: ON,
            }));
        }
        for category in ChildCategory::ALL.map(Some).into_iter().chain([None]) {
            for consents in [None, Some(true), Some(false)] {
                let mut registered = adopted();
                registered.registration.child_category = category;
                registered.registration.child_consents = consents;
                events.push(Event::Adopted(registered));
            }
        }
        for relationship in Relationship::ALL {
            for (overseas_chinese, birth_parents_consent) in [(false, false), (true, true)] {
                let mut registered = adopted();
                registered.registration.relationship = relationship;
                registered.registration.overseas_chinese = overseas_chinese;
                registered.registration.birth_parents_consent = birth_parents_consent;
                events.push(Event::Adopted(registered));
            }
        }
        for exemption in Exemption::ALL.map(Some).into_iter().chain([None]) {
            for rule in ChildrenRule::ALL {
                let mut registered = adopted();
                registered.exemption = exemption;
                registered.adopters[0].children_rule = rule;
                registered.registration.child_disabled = true;
                registered.registration.in_welfare_institution = true;
                events.push(Event::Adopted(registered));
            }
        }
        let mut single = adopted();
        single.registration.adopters = vec![adopter(
            CitizenId::from_parts("210502", date!(1970 - 01 - 01), 31).expect("valid"),
            false,
        )];
        single.adopters = vec![AdopterFacts {
            age: 55,
            children_rule: ChildrenRule::NoChild,
            age_gap: Some(45),
        }];
        events.push(Event::Adopted(single));
        assert_codec_round_trips(events);
    }

    #[test]
    fn event_types_are_the_message_names() {
        assert_eq!(
            history()
                .iter()
                .map(EventCodec::event_type)
                .collect::<Vec<_>>(),
            [
                "ChildIdentified",
                "ChildCareArranged",
                "ChildParentFactRevised",
                "ChildCoverageCeased",
                "ChildAdopted",
                "ChildDeathNoted",
            ]
            .map(|name| format!("{PACKAGE}.{name}"))
        );
        assert_eq!(child::Event::EVENT_TYPES.len(), 6);
    }

    #[track_caller]
    fn invalid(event_type: &str, payload: Vec<u8>) {
        match child::Event::decode(event_type, SCHEMA_VERSION, &payload) {
            Err(CodecError::Invalid { reason, .. }) => {
                assert!(!minzheng_types::contains_citizen_id(&reason), "{reason}");
            }
            other => panic!("{event_type}: expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn decoding_checks_shape_only() {
        let identified_type = minzheng_host::message_name!(pb::ChildIdentified);
        let message = pb::ChildIdentified::decode(identified(ON).encode()).expect("decodes");
        invalid(
            identified_type,
            pb::ChildIdentified {
                father: None,
                ..message.clone()
            }
            .encode_to_vec(),
        );
        invalid(
            identified_type,
            pb::ChildIdentified {
                basis: 0,
                ..message.clone()
            }
            .encode_to_vec(),
        );
        invalid(
            identified_type,
            pb::ChildIdentified {
                father: Some(pb::ParentFact {
                    situation: 99,
                    source: None,
                }),
                ..message.clone()
            }
            .encode_to_vec(),
        );
        // History is not re-checked: an adult, a county division and a fact without source
        // decode as recorded.
        let decoded = child::Event::decode(
            identified_type,
            SCHEMA_VERSION,
            &pb::ChildIdentified {
                child: Some(
                    (&CitizenId::from_parts("210502", date!(1990 - 01 - 01), 12).expect("valid"))
                        .into(),
                ),
                division: Some(
                    minzheng_types::RegionCode::parse("210502000000")
                        .expect("valid")
                        .into(),
                ),
                father: Some(pb::ParentFact {
                    situation: pb::ParentSituation::Imprisoned.into(),
                    source: None,
                }),
                ..message
            }
            .encode_to_vec(),
        );
        assert!(decoded.is_ok(), "{decoded:?}");

        let adopted_type = minzheng_host::message_name!(pb::ChildAdopted);
        let message = pb::ChildAdopted::decode(Event::Adopted(adopted()).encode()).expect("ok");
        let mut bad = message.clone();
        bad.adopters[0].children = 300;
        invalid(adopted_type, bad.encode_to_vec());
        invalid(
            adopted_type,
            pb::ChildAdopted {
                child_consent: 7,
                ..message.clone()
            }
            .encode_to_vec(),
        );
        invalid(
            adopted_type,
            pb::ChildAdopted {
                certificate: String::new(),
                ..message
            }
            .encode_to_vec(),
        );
        invalid(
            minzheng_host::message_name!(pb::ChildParentFactRevised),
            pb::ChildParentFactRevised {
                parent: pb::ParentRole::Father.into(),
                fact: Some(fact_to_pb(&able())),
                basis: 9,
                revised_on: Some(ON.into()),
            }
            .encode_to_vec(),
        );
    }
}
