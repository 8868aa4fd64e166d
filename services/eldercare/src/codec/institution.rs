//! The codec of the institution events ([`institution::Event`]).

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::Decoder,
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::eldercare::v1 as pb;

use super::{SCHEMA_VERSION, elder_id, institution_id, known, optional_institution};
use crate::institution::{
    self, BedType, Beds, CreditKind, DischargeReason, LicenceKind, Ownership, Profile,
};

minzheng_host::event_codec! {
    institution::Event, schema_version = SCHEMA_VERSION;
    Registered(Profile) <=> pb::InstitutionRegistered,
    LicenceRecorded(institution::LicenceRecorded) <=> pb::LicenceRecorded,
    BedsChanged(institution::BedsChanged) <=> pb::BedsChanged,
    ResidentAdmitted(institution::ResidentAdmitted) <=> pb::ResidentAdmitted,
    ResidentDischarged(institution::ResidentDischarged) <=> pb::ResidentDischarged,
    ResidentMoved(institution::ResidentMoved) <=> pb::ResidentMoved,
    QualityGraded(institution::QualityGraded) <=> pb::QualityGraded,
    CreditEntryRecorded(institution::CreditEntryRecorded) <=> pb::CreditEntryRecorded,
    SocialWorkersReported(institution::SocialWorkersReported) <=> pb::SocialWorkersReported,
}

pub(crate) fn ownership_to_pb(o: Ownership) -> pb::Ownership {
    match o {
        Ownership::Public => pb::Ownership::Public,
        Ownership::Private => pb::Ownership::Private,
        Ownership::PublicBuiltPrivatelyRun => pb::Ownership::PublicBuiltPrivatelyRun,
    }
}

pub(crate) fn ownership_from_pb(value: i32) -> Option<Ownership> {
    match pb::Ownership::try_from(value).ok()? {
        pb::Ownership::Public => Some(Ownership::Public),
        pb::Ownership::Private => Some(Ownership::Private),
        pb::Ownership::PublicBuiltPrivatelyRun => Some(Ownership::PublicBuiltPrivatelyRun),
        pb::Ownership::Unspecified => None,
    }
}

pub(crate) fn bed_type_to_pb(b: BedType) -> pb::BedType {
    match b {
        BedType::General => pb::BedType::General,
        BedType::Nursing => pb::BedType::Nursing,
    }
}

pub(crate) fn bed_type_from_pb(value: i32) -> Option<BedType> {
    match pb::BedType::try_from(value).ok()? {
        pb::BedType::General => Some(BedType::General),
        pb::BedType::Nursing => Some(BedType::Nursing),
        pb::BedType::Unspecified => None,
    }
}

pub(crate) fn licence_kind_to_pb(k: LicenceKind) -> pb::LicenceKind {
    match k {
        LicenceKind::Licence => pb::LicenceKind::Licence,
        LicenceKind::Filing => pb::LicenceKind::Filing,
    }
}

pub(crate) fn licence_kind_from_pb(value: i32) -> Option<LicenceKind> {
    match pb::LicenceKind::try_from(value).ok()? {
        pb::LicenceKind::Licence => Some(LicenceKind::Licence),
        pb::LicenceKind::Filing => Some(LicenceKind::Filing),
        pb::LicenceKind::Unspecified => None,
    }
}

pub(crate) fn discharge_reason_to_pb(r: DischargeReason) -> pb::DischargeReason {
    match r {
        DischargeReason::Discharged => pb::DischargeReason::Discharged,
        DischargeReason::Transferred => pb::DischargeReason::Transferred,
        DischargeReason::Died => pb::DischargeReason::Died,
    }
}

pub(crate) fn discharge_reason_from_pb(value: i32) -> Option<DischargeReason> {
    match pb::DischargeReason::try_from(value).ok()? {
        pb::DischargeReason::Discharged => Some(DischargeReason::Discharged),
        pb::DischargeReason::Transferred => Some(DischargeReason::Transferred),
        pb::DischargeReason::Died => Some(DischargeReason::Died),
        pb::DischargeReason::Unspecified => None,
    }
}

pub(crate) fn credit_kind_to_pb(k: CreditKind) -> pb::CreditEntryKind {
    match k {
        CreditKind::Violation => pb::CreditEntryKind::Violation,
        CreditKind::Penalty => pb::CreditEntryKind::Penalty,
        CreditKind::JointPunishmentListed => pb::CreditEntryKind::JointPunishmentListed,
        CreditKind::JointPunishmentLifted => pb::CreditEntryKind::JointPunishmentLifted,
        CreditKind::FundraisingRiskFlagged => pb::CreditEntryKind::FundraisingRiskFlagged,
        CreditKind::FundraisingRiskCleared => pb::CreditEntryKind::FundraisingRiskCleared,
    }
}

pub(crate) fn credit_kind_from_pb(value: i32) -> Option<CreditKind> {
    match pb::CreditEntryKind::try_from(value).ok()? {
        pb::CreditEntryKind::Violation => Some(CreditKind::Violation),
        pb::CreditEntryKind::Penalty => Some(CreditKind::Penalty),
        pb::CreditEntryKind::JointPunishmentListed => Some(CreditKind::JointPunishmentListed),
        pb::CreditEntryKind::JointPunishmentLifted => Some(CreditKind::JointPunishmentLifted),
        pb::CreditEntryKind::FundraisingRiskFlagged => Some(CreditKind::FundraisingRiskFlagged),
        pb::CreditEntryKind::FundraisingRiskCleared => Some(CreditKind::FundraisingRiskCleared),
        pb::CreditEntryKind::Unspecified => None,
    }
}

impl ToMessage for Profile {
    type Message = pb::InstitutionRegistered;

    fn to_message(&self) -> pb::InstitutionRegistered {
        pb::InstitutionRegistered {
            institution_id: self.id.to_string(),
            name: self.name.as_str().to_owned(),
            ownership: ownership_to_pb(self.ownership).into(),
            county: Some(self.county.into()),
            division: Some(self.division.into()),
            registered_on: Some(self.registered_on.into()),
        }
    }
}

impl FromMessage<pb::InstitutionRegistered> for Profile {
    fn from_message(m: pb::InstitutionRegistered, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: institution_id(d, "institution_id", &m.institution_id)?,
            name: d.text("name", &m.name)?,
            ownership: known(d, "ownership", ownership_from_pb(m.ownership))?,
            county: d.code("county", &m.county)?,
            division: d.code("division", &m.division)?,
            registered_on: d.date("registered_on", &m.registered_on)?,
        })
    }
}

impl ToMessage for institution::LicenceRecorded {
    type Message = pb::LicenceRecorded;

    fn to_message(&self) -> pb::LicenceRecorded {
        pb::LicenceRecorded {
            institution_id: self.institution.to_string(),
            kind: licence_kind_to_pb(self.licence.kind).into(),
            number: self.licence.number.as_str().to_owned(),
            issued_on: Some(self.licence.issued_on.into()),
        }
    }
}

impl FromMessage<pb::LicenceRecorded> for institution::LicenceRecorded {
    fn from_message(m: pb::LicenceRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            institution: institution_id(d, "institution_id", &m.institution_id)?,
            licence: institution::Licence {
                kind: known(d, "kind", licence_kind_from_pb(m.kind))?,
                number: d.text("number", &m.number)?,
                issued_on: d.date("issued_on", &m.issued_on)?,
            },
        })
    }
}

impl ToMessage for institution::BedsChanged {
    type Message = pb::BedsChanged;

    fn to_message(&self) -> pb::BedsChanged {
        pb::BedsChanged {
            institution_id: self.institution.to_string(),
            effective_on: Some(self.on.into()),
            general: self.beds.general,
            nursing: self.beds.nursing,
            reason: self.reason.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::BedsChanged> for institution::BedsChanged {
    fn from_message(m: pb::BedsChanged, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            institution: institution_id(d, "institution_id", &m.institution_id)?,
            on: d.date("effective_on", &m.effective_on)?,
            beds: Beds {
                general: m.general,
                nursing: m.nursing,
            },
            reason: d.text("reason", &m.reason)?,
        })
    }
}

impl ToMessage for institution::ResidentAdmitted {
    type Message = pb::ResidentAdmitted;

    fn to_message(&self) -> pb::ResidentAdmitted {
        pb::ResidentAdmitted {
            institution_id: self.institution.to_string(),
            resident: Some((&self.citizen).into()),
            elder_id: self.elder.to_string(),
            bed_type: bed_type_to_pb(self.bed_type).into(),
            admitted_on: Some(self.on.into()),
            transferred_from: self
                .transferred_from
                .map_or_else(String::new, |i| i.to_string()),
        }
    }
}

impl FromMessage<pb::ResidentAdmitted> for institution::ResidentAdmitted {
    fn from_message(m: pb::ResidentAdmitted, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            institution: institution_id(d, "institution_id", &m.institution_id)?,
            citizen: d.citizen("resident", &m.resident)?,
            elder: elder_id(d, "elder_id", &m.elder_id)?,
            bed_type: known(d, "bed_type", bed_type_from_pb(m.bed_type))?,
            on: d.date("admitted_on", &m.admitted_on)?,
            transferred_from: optional_institution(d, "transferred_from", &m.transferred_from)?,
        })
    }
}

impl ToMessage for institution::ResidentDischarged {
    type Message = pb::ResidentDischarged;

    fn to_message(&self) -> pb::ResidentDischarged {
        pb::ResidentDischarged {
            institution_id: self.institution.to_string(),
            resident: Some((&self.citizen).into()),
            elder_id: self.elder.to_string(),
            discharged_on: Some(self.on.into()),
            reason: discharge_reason_to_pb(self.reason).into(),
            transferred_to: self
                .transferred_to
                .map_or_else(String::new, |i| i.to_string()),
            death_id: self.death_id.clone().unwrap_or_default(),
        }
    }
}

impl FromMessage<pb::ResidentDischarged> for institution::ResidentDischarged {
    fn from_message(m: pb::ResidentDischarged, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            institution: institution_id(d, "institution_id", &m.institution_id)?,
            citizen: d.citizen("resident", &m.resident)?,
            elder: elder_id(d, "elder_id", &m.elder_id)?,
            on: d.date("discharged_on", &m.discharged_on)?,
            reason: known(d, "reason", discharge_reason_from_pb(m.reason))?,
            transferred_to: optional_institution(d, "transferred_to", &m.transferred_to)?,
            death_id: (!m.death_id.is_empty()).then_some(m.death_id),
        })
    }
}

impl ToMessage for institution::ResidentMoved {
    type Message = pb::ResidentMoved;

    fn to_message(&self) -> pb::ResidentMoved {
        pb::ResidentMoved {
            institution_id: self.institution.to_string(),
            resident: Some((&self.citizen).into()),
            elder_id: self.elder.to_string(),
            bed_type: bed_type_to_pb(self.bed_type).into(),
            moved_on: Some(self.on.into()),
        }
    }
}

impl FromMessage<pb::ResidentMoved> for institution::ResidentMoved {
    fn from_message(m: pb::ResidentMoved, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            institution: institution_id(d, "institution_id", &m.institution_id)?,
            citizen: d.citizen("resident", &m.resident)?,
            elder: elder_id(d, "elder_id", &m.elder_id)?,
            bed_type: known(d, "bed_type", bed_type_from_pb(m.bed_type))?,
            on: d.date("moved_on", &m.moved_on)?,
        })
    }
}

impl ToMessage for institution::QualityGraded {
    type Message = pb::QualityGraded;

    fn to_message(&self) -> pb::QualityGraded {
        pb::QualityGraded {
            institution_id: self.institution.to_string(),
            grade: u32::from(self.grade.grade),
            graded_on: Some(self.grade.on.into()),
            assessor: self.grade.assessor.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::QualityGraded> for institution::QualityGraded {
    fn from_message(m: pb::QualityGraded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            institution: institution_id(d, "institution_id", &m.institution_id)?,
            grade: institution::Grade {
                grade: u8::try_from(m.grade).map_err(|_| d.invalid("grade is above 255"))?,
                on: d.date("graded_on", &m.graded_on)?,
                assessor: d.text("assessor", &m.assessor)?,
            },
        })
    }
}

impl ToMessage for institution::CreditEntryRecorded {
    type Message = pb::CreditEntryRecorded;

    fn to_message(&self) -> pb::CreditEntryRecorded {
        pb::CreditEntryRecorded {
            institution_id: self.institution.to_string(),
            kind: credit_kind_to_pb(self.entry.kind).into(),
            recorded_on: Some(self.entry.on.into()),
            description: self.entry.description.as_str().to_owned(),
            source: self.entry.source.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::CreditEntryRecorded> for institution::CreditEntryRecorded {
    fn from_message(m: pb::CreditEntryRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            institution: institution_id(d, "institution_id", &m.institution_id)?,
            entry: institution::CreditEntry {
                kind: known(d, "kind", credit_kind_from_pb(m.kind))?,
                on: d.date("recorded_on", &m.recorded_on)?,
                description: d.text("description", &m.description)?,
                source: d.text("source", &m.source)?,
            },
        })
    }
}

impl ToMessage for institution::SocialWorkersReported {
    type Message = pb::SocialWorkersReported;

    fn to_message(&self) -> pb::SocialWorkersReported {
        pb::SocialWorkersReported {
            institution_id: self.institution.to_string(),
            social_workers: self.count,
            effective_on: Some(self.on.into()),
        }
    }
}

impl FromMessage<pb::SocialWorkersReported> for institution::SocialWorkersReported {
    fn from_message(m: pb::SocialWorkersReported, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            institution: institution_id(d, "institution_id", &m.institution_id)?,
            count: m.social_workers,
            on: d.date("effective_on", &m.effective_on)?,
        })
    }
}
