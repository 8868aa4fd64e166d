//! A case's events ([`case::Event`]) to their messages in `events.proto` and back.
//!
//! Decoding checks shape: ids, codes, dates, texts, known enum values, amounts that are not
//! negative. What a step decided (the order of its dates, the notice's length, the amounts and
//! the standard behind them) is read as recorded.

use std::collections::BTreeSet;

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::{Decoder, optional_text},
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common};
use minzheng_types::{CitizenId, Fen};

use super::{
    SCHEMA_VERSION, enum_codec,
    policy::{calculation_from_pb, calculation_to_pb},
};
use crate::{
    case::{
        self, Application, CareArrangement, EndCause, Hardship, Particulars, Purpose,
        RecalculationCause, ReviewCause, ReviewOutcome, Verification,
    },
    category::{Area, Category},
    household::{
        Asset, AssetKind, Authorization, DataClass, Household, Income, IncomeKind, Member,
        Relation, SelfCare, WorkCapacity,
    },
    ids::CaseId,
    payments::BankAccount,
};

minzheng_host::event_codec! {
    case::Event, schema_version = SCHEMA_VERSION;
    Submitted(Box<Application>) <=> pb::ApplicationSubmitted,
    VerificationRequested(case::VerificationRequested) <=> pb::VerificationRequested,
    VerificationReceived(case::VerificationReceived) <=> pb::VerificationReceived,
    TownshipReviewed(case::TownshipReviewed) <=> pb::TownshipReviewed,
    NoticePosted(case::NoticePosted) <=> pb::NoticePosted,
    ObjectionRecorded(case::ObjectionRecorded) <=> pb::ObjectionRecorded,
    ObjectionResolved(case::ObjectionResolved) <=> pb::ObjectionResolved,
    Approved(case::Approved) <=> pb::ApplicationApproved,
    Granted(case::Granted) <=> pb::AssistanceGranted,
    Rejected(case::Rejected) <=> pb::ApplicationRejected,
    Recalculated(case::Recalculated) <=> pb::BenefitRecalculated,
    MembersChanged(case::MembersChanged) <=> pb::AssistanceMembersChanged,
    FlaggedForReview(case::FlaggedForReview) <=> pb::CaseFlaggedForReview,
    ReviewStarted(case::ReviewStarted) <=> pb::ReviewStarted,
    ReviewCompleted(case::ReviewCompleted) <=> pb::ReviewCompleted,
    Suspended(case::Suspended) <=> pb::CaseSuspended,
    Resumed(case::Resumed) <=> pb::CaseResumed,
    Ended(case::Ended) <=> pb::AssistanceEnded,
    Rehomed(case::Rehomed) <=> pb::CaseRehomed,
    PaidAtOnce(case::PaidAtOnce) <=> pb::TemporaryAidPaidAtOnce,
    Reported(case::Reported) <=> pb::TemporaryAidReported,
    Transferred(case::Transferred) <=> pb::TemporaryAidTransferred,
}

enum_codec!(category_to_pb, category_from_pb, Category, AssistanceCategory, "assistance category";
    Dibao <=> Dibao, SinglePerson <=> SinglePerson, Tekun <=> Tekun, LowIncome <=> LowIncome,
    Temporary <=> Temporary, Heating <=> Heating);
enum_codec!(area_to_pb, area_from_pb, Area, ResidenceArea, "area"; Urban <=> Urban, Rural <=> Rural);
enum_codec!(relation_to_pb, relation_from_pb, Relation, Relation, "relation";
    Applicant <=> Applicant, Spouse <=> Spouse, Child <=> Child, Parent <=> Parent,
    Grandparent <=> Grandparent, Grandchild <=> Grandchild, Sibling <=> Sibling, Other <=> Other);
enum_codec!(work_to_pb, work_from_pb, WorkCapacity, WorkCapacity, "work capacity";
    Full <=> Full, Partial <=> Partial, None <=> None);
enum_codec!(self_care_to_pb, self_care_from_pb, SelfCare, SelfCareLevel, "self-care level";
    Able <=> Able, PartiallyUnable <=> PartiallyUnable, FullyUnable <=> FullyUnable);
enum_codec!(income_to_pb, income_from_pb, IncomeKind, IncomeKind, "income kind";
    Wages <=> Wages, Business <=> Business, Property <=> Property, Transfer <=> Transfer,
    Pension <=> Pension, Other <=> Other);
enum_codec!(asset_to_pb, asset_from_pb, AssetKind, AssetKind, "asset kind";
    Deposits <=> Deposits, Securities <=> Securities, Vehicle <=> Vehicle,
    RealEstate <=> RealEstate, Business <=> Business, Other <=> Other);
enum_codec!(class_to_pb, class_from_pb, DataClass, DataClass, "data class";
    Income <=> Income, BankDeposits <=> BankDeposits, RealEstate <=> RealEstate,
    Vehicles <=> Vehicles, BusinessRegistration <=> BusinessRegistration, Tax <=> Tax,
    SocialInsurance <=> SocialInsurance, HousingFund <=> HousingFund, Securities <=> Securities);
enum_codec!(care_to_pb, care_from_pb, CareArrangement, CareArrangement, "care arrangement";
    AtHome <=> AtHome, Institution <=> Institution);
enum_codec!(hardship_to_pb, hardship_from_pb, Hardship, Hardship, "hardship";
    Accident <=> Accident, Illness <=> Illness, Disaster <=> Disaster, Spending <=> Spending,
    Other <=> Other);
enum_codec!(purpose_to_pb, purpose_from_pb, Purpose, VerificationPurpose, "verification purpose";
    Application <=> Application, Review <=> Review);
enum_codec!(recalculation_to_pb, recalculation_from_pb, RecalculationCause, RecalculationCause,
    "recalculation cause";
    StandardChanged <=> StandardChanged, MembersChanged <=> MembersChanged, Review <=> Review);
enum_codec!(review_cause_to_pb, review_cause_from_pb, ReviewCause, ReviewCause, "review cause";
    Marriage <=> Marriage, Divorce <=> Divorce, DivisionSplit <=> DivisionSplit, Alert <=> Alert,
    Periodic <=> Periodic, MemberDied <=> MemberDied);
enum_codec!(outcome_to_pb, outcome_from_pb, ReviewOutcome, ReviewOutcome, "review outcome";
    Continued <=> Continued, Changed <=> Changed, Ended <=> Ended);
enum_codec!(end_to_pb, end_from_pb, EndCause, EndCause, "end cause";
    NoLongerEligible <=> NoLongerEligible, NoMemberLeft <=> NoMemberLeft,
    Terminated <=> Terminated, OneOffPaid <=> OneOffPaid);

fn citizen(c: &CitizenId) -> Option<common::CitizenRef> {
    Some(c.into())
}

fn citizens(cs: &[CitizenId]) -> Vec<common::CitizenRef> {
    cs.iter().map(common::CitizenRef::from).collect()
}

fn decode_citizens(
    d: &Decoder<'_>,
    field: &str,
    cs: &[common::CitizenRef],
) -> Result<Vec<CitizenId>, CodecError> {
    cs.iter()
        .map(|c| d.citizen(field, &Some(c.clone())))
        .collect()
}

/// A required calculation.
fn calculation(
    d: &Decoder<'_>,
    m: &Option<pb::BenefitCalculation>,
) -> Result<crate::benefit::Calculation, CodecError> {
    m.as_ref()
        .ok_or_else(|| d.invalid("calculation is missing"))
        .and_then(|c| calculation_from_pb(d, c))
}

fn case_id(d: &Decoder<'_>, value: &str) -> Result<CaseId, CodecError> {
    d.parse("case_id", CaseId::parse(value))
}

/// An enum field that may be unspecified: 0 is `None`.
fn optional<T>(
    value: i32,
    from: impl FnOnce(i32) -> Result<T, CodecError>,
) -> Result<Option<T>, CodecError> {
    if value == 0 {
        Ok(None)
    } else {
        from(value).map(Some)
    }
}

pub(crate) fn authorization_to_pb(a: &Authorization) -> pb::Authorization {
    pb::Authorization {
        signed_by: citizen(&a.signed_by),
        signed_on: Some(a.signed_on.into()),
        data_classes: a.data_classes.iter().map(|c| class_to_pb(*c)).collect(),
        expires_on: Some(a.expires_on.into()),
    }
}

pub(crate) fn authorization_from_pb(
    d: &Decoder<'_>,
    a: &pb::Authorization,
) -> Result<Authorization, CodecError> {
    Ok(Authorization {
        signed_by: d.citizen("authorizations.signed_by", &a.signed_by)?,
        signed_on: d.date("authorizations.signed_on", &a.signed_on)?,
        data_classes: a
            .data_classes
            .iter()
            .map(|c| class_from_pb(d, "authorizations.data_classes", *c))
            .collect::<Result<BTreeSet<_>, _>>()?,
        expires_on: d.date("authorizations.expires_on", &a.expires_on)?,
    })
}

pub(crate) fn member_to_pb(m: &Member) -> pb::HouseholdMember {
    pb::HouseholdMember {
        citizen: citizen(&m.citizen),
        name: m.name.as_str().to_owned(),
        relation: relation_to_pb(m.relation),
        seriously_ill: m.seriously_ill,
        severely_disabled: m.severely_disabled,
        work_capacity: m.work_capacity.map_or(0, work_to_pb),
        self_care: m.self_care.map_or(0, self_care_to_pb),
    }
}

pub(crate) fn member_from_pb(
    d: &Decoder<'_>,
    m: &pb::HouseholdMember,
) -> Result<Member, CodecError> {
    Ok(Member {
        citizen: d.citizen("members.citizen", &m.citizen)?,
        name: d.text("members.name", &m.name)?,
        relation: relation_from_pb(d, "members.relation", m.relation)?,
        seriously_ill: m.seriously_ill,
        severely_disabled: m.severely_disabled,
        work_capacity: optional(m.work_capacity, |v| {
            work_from_pb(d, "members.work_capacity", v)
        })?,
        self_care: optional(m.self_care, |v| {
            self_care_from_pb(d, "members.self_care", v)
        })?,
    })
}

pub(crate) fn income_to_message(i: &Income) -> pb::DeclaredIncome {
    pb::DeclaredIncome {
        member: citizen(&i.member),
        kind: income_to_pb(i.kind),
        monthly: Some(i.monthly.into()),
    }
}

pub(crate) fn income_from_message(
    d: &Decoder<'_>,
    i: &pb::DeclaredIncome,
) -> Result<Income, CodecError> {
    Ok(Income {
        member: d.citizen("incomes.member", &i.member)?,
        kind: income_from_pb(d, "incomes.kind", i.kind)?,
        monthly: d.money("incomes.monthly", &i.monthly)?,
    })
}

pub(crate) fn asset_to_message(a: &Asset) -> pb::DeclaredAsset {
    pb::DeclaredAsset {
        owner: citizen(&a.owner),
        kind: asset_to_pb(a.kind),
        value: Some(a.value.into()),
    }
}

pub(crate) fn asset_from_message(
    d: &Decoder<'_>,
    a: &pb::DeclaredAsset,
) -> Result<Asset, CodecError> {
    Ok(Asset {
        owner: d.citizen("assets.owner", &a.owner)?,
        kind: asset_from_pb(d, "assets.kind", a.kind)?,
        value: d.money("assets.value", &a.value)?,
    })
}

impl ToMessage for Box<Application> {
    type Message = pb::ApplicationSubmitted;

    fn to_message(&self) -> pb::ApplicationSubmitted {
        let h = &self.household;
        let mut m = pb::ApplicationSubmitted {
            case_id: self.case_id.to_string(),
            category: category_to_pb(self.category),
            county: Some(self.county.into()),
            registered_division: Some(self.registered_division.into()),
            resolved_division: Some(self.resolved_division.into()),
            window: Some(self.window.into()),
            area: area_to_pb(self.area),
            applicant: citizen(&h.applicant),
            members: h.members.iter().map(member_to_pb).collect(),
            incomes: h.incomes.iter().map(income_to_message).collect(),
            assets: h.assets.iter().map(asset_to_message).collect(),
            authorizations: h.authorizations.iter().map(authorization_to_pb).collect(),
            payment_account: self.payment_account.expose().to_owned(),
            submitted_on: Some(self.submitted_on.into()),
            ..Default::default()
        };
        match &self.particulars {
            Particulars::None => {}
            Particulars::SinglePerson { covered } => m.covered_member = citizen(covered),
            Particulars::Tekun {
                care,
                has_able_supporter,
                care_at_home_reason,
            } => {
                m.care_arrangement = care_to_pb(*care);
                m.has_able_supporter = *has_able_supporter;
                m.care_at_home_reason = optional_text(care_at_home_reason.as_ref());
            }
            Particulars::Temporary {
                hardship,
                requested,
            } => {
                m.hardship = hardship_to_pb(*hardship);
                m.requested_amount = Some((*requested).into());
            }
            Particulars::Heating {
                winter,
                related_case,
            } => {
                m.winter = *winter;
                m.related_case_id = related_case.to_string();
            }
        }
        m
    }
}

impl FromMessage<pb::ApplicationSubmitted> for Box<Application> {
    fn from_message(m: pb::ApplicationSubmitted, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let category = category_from_pb(d, "category", m.category)?;
        let particulars = match category {
            Category::Dibao | Category::LowIncome => Particulars::None,
            Category::SinglePerson => Particulars::SinglePerson {
                covered: d.citizen("covered_member", &m.covered_member)?,
            },
            Category::Tekun => Particulars::Tekun {
                care: care_from_pb(d, "care_arrangement", m.care_arrangement)?,
                has_able_supporter: m.has_able_supporter,
                care_at_home_reason: d
                    .optional_text("care_at_home_reason", &m.care_at_home_reason)?,
            },
            Category::Temporary => Particulars::Temporary {
                hardship: hardship_from_pb(d, "hardship", m.hardship)?,
                requested: d.money("requested_amount", &m.requested_amount)?,
            },
            Category::Heating => Particulars::Heating {
                winter: m.winter,
                related_case: d.parse("related_case_id", CaseId::parse(&m.related_case_id))?,
            },
        };
        Ok(Box::new(Application {
            case_id: case_id(d, &m.case_id)?,
            category,
            county: d.code("county", &m.county)?,
            registered_division: d.code("registered_division", &m.registered_division)?,
            resolved_division: d.code("resolved_division", &m.resolved_division)?,
            window: d.code("window", &m.window)?,
            area: area_from_pb(d, "area", m.area)?,
            household: Household {
                applicant: d.citizen("applicant", &m.applicant)?,
                members: m
                    .members
                    .iter()
                    .map(|x| member_from_pb(d, x))
                    .collect::<Result<_, _>>()?,
                incomes: m
                    .incomes
                    .iter()
                    .map(|x| income_from_message(d, x))
                    .collect::<Result<_, _>>()?,
                assets: m
                    .assets
                    .iter()
                    .map(|x| asset_from_message(d, x))
                    .collect::<Result<_, _>>()?,
                authorizations: m
                    .authorizations
                    .iter()
                    .map(|x| authorization_from_pb(d, x))
                    .collect::<Result<_, _>>()?,
            },
            payment_account: d.parse("payment_account", BankAccount::parse(&m.payment_account))?,
            submitted_on: d.date("submitted_on", &m.submitted_on)?,
            particulars,
        }))
    }
}

/// The ordinal of a request id `<case id>-V<n>`.
pub(crate) fn request_ordinal(case: &CaseId, request_id: &str) -> Option<u32> {
    request_id
        .strip_prefix(&case.to_string())?
        .strip_prefix("-V")?
        .parse()
        .ok()
        .filter(|n| *n > 0)
}

/// The request id of a case's `n`th verification request.
pub fn request_id(case: &CaseId, n: u32) -> String {
    format!("{case}-V{n}")
}

impl ToMessage for case::VerificationRequested {
    type Message = pb::VerificationRequested;

    fn to_message(&self) -> pb::VerificationRequested {
        pb::VerificationRequested {
            request_id: request_id(&self.case_id, self.request),
            case_id: self.case_id.to_string(),
            purpose: purpose_to_pb(self.purpose),
            members: citizens(&self.members),
            authorizations: self
                .authorizations
                .iter()
                .map(authorization_to_pb)
                .collect(),
            requested_on: Some(self.requested_on.into()),
            county: Some(self.county.into()),
            area: self.area.map_or(0, area_to_pb),
        }
    }
}

impl FromMessage<pb::VerificationRequested> for case::VerificationRequested {
    fn from_message(m: pb::VerificationRequested, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let case_id = case_id(d, &m.case_id)?;
        Ok(Self {
            request: request_ordinal(&case_id, &m.request_id)
                .ok_or_else(|| d.invalid("request_id is not <case id>-V<n>"))?,
            case_id,
            purpose: purpose_from_pb(d, "purpose", m.purpose)?,
            members: decode_citizens(d, "members", &m.members)?,
            authorizations: m
                .authorizations
                .iter()
                .map(|a| authorization_from_pb(d, a))
                .collect::<Result<_, _>>()?,
            requested_on: d.date("requested_on", &m.requested_on)?,
            county: d.code("county", &m.county)?,
            // Absent in requests recorded before the field existed.
            area: match m.area {
                0 => None,
                area => Some(area_from_pb(d, "area", area)?),
            },
        })
    }
}

impl ToMessage for case::VerificationReceived {
    type Message = pb::VerificationReceived;

    fn to_message(&self) -> pb::VerificationReceived {
        let v = &self.verification;
        pb::VerificationReceived {
            request_id: request_id(&self.case_id, v.request),
            case_id: self.case_id.to_string(),
            total_monthly_income: Some(v.total_monthly_income.into()),
            incomes: v
                .incomes
                .iter()
                .map(|(member, monthly)| pb::VerifiedIncome {
                    member: citizen(member),
                    monthly: Some((*monthly).into()),
                })
                .collect(),
            total_assets: Some(v.total_assets.into()),
            flags: v.flags.clone(),
            verified_on: Some(v.verified_on.into()),
            received_on: Some(self.received_on.into()),
        }
    }
}

impl FromMessage<pb::VerificationReceived> for case::VerificationReceived {
    fn from_message(m: pb::VerificationReceived, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let case_id = case_id(d, &m.case_id)?;
        let incomes = m
            .incomes
            .iter()
            .map(|i| -> Result<(CitizenId, Fen), CodecError> {
                Ok((
                    d.citizen("incomes.member", &i.member)?,
                    d.money("incomes.monthly", &i.monthly)?,
                ))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            verification: Verification {
                request: request_ordinal(&case_id, &m.request_id)
                    .ok_or_else(|| d.invalid("request_id is not <case id>-V<n>"))?,
                total_monthly_income: d.money("total_monthly_income", &m.total_monthly_income)?,
                incomes,
                total_assets: d.money("total_assets", &m.total_assets)?,
                flags: m.flags,
                verified_on: d.date("verified_on", &m.verified_on)?,
            },
            case_id,
            received_on: d.date("received_on", &m.received_on)?,
        })
    }
}

impl ToMessage for case::TownshipReviewed {
    type Message = pb::TownshipReviewed;

    fn to_message(&self) -> pb::TownshipReviewed {
        pb::TownshipReviewed {
            case_id: self.case_id.to_string(),
            recommends_approval: self.recommends_approval,
            opinion: self.opinion.as_str().to_owned(),
            visited_on: Some(self.visited_on.into()),
            reviewed_on: Some(self.reviewed_on.into()),
        }
    }
}

impl FromMessage<pb::TownshipReviewed> for case::TownshipReviewed {
    fn from_message(m: pb::TownshipReviewed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            recommends_approval: m.recommends_approval,
            opinion: d.text("opinion", &m.opinion)?,
            visited_on: d.date("visited_on", &m.visited_on)?,
            reviewed_on: d.date("reviewed_on", &m.reviewed_on)?,
        })
    }
}

impl ToMessage for case::NoticePosted {
    type Message = pb::NoticePosted;

    fn to_message(&self) -> pb::NoticePosted {
        pb::NoticePosted {
            case_id: self.case_id.to_string(),
            posted_on: Some(self.posted_on.into()),
            ends_on: Some(self.ends_on.into()),
        }
    }
}

impl FromMessage<pb::NoticePosted> for case::NoticePosted {
    fn from_message(m: pb::NoticePosted, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            posted_on: d.date("posted_on", &m.posted_on)?,
            ends_on: d.date("ends_on", &m.ends_on)?,
        })
    }
}

impl ToMessage for case::ObjectionRecorded {
    type Message = pb::ObjectionRecorded;

    fn to_message(&self) -> pb::ObjectionRecorded {
        pb::ObjectionRecorded {
            case_id: self.case_id.to_string(),
            objection: self.objection,
            summary: self.summary.as_str().to_owned(),
            recorded_on: Some(self.recorded_on.into()),
        }
    }
}

impl FromMessage<pb::ObjectionRecorded> for case::ObjectionRecorded {
    fn from_message(m: pb::ObjectionRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            objection: m.objection,
            summary: d.text("summary", &m.summary)?,
            recorded_on: d.date("recorded_on", &m.recorded_on)?,
        })
    }
}

impl ToMessage for case::ObjectionResolved {
    type Message = pb::ObjectionResolved;

    fn to_message(&self) -> pb::ObjectionResolved {
        pb::ObjectionResolved {
            case_id: self.case_id.to_string(),
            objection: self.objection,
            upheld: self.upheld,
            finding: self.finding.as_str().to_owned(),
            resolved_on: Some(self.resolved_on.into()),
        }
    }
}

impl FromMessage<pb::ObjectionResolved> for case::ObjectionResolved {
    fn from_message(m: pb::ObjectionResolved, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            objection: m.objection,
            upheld: m.upheld,
            finding: d.text("finding", &m.finding)?,
            resolved_on: d.date("resolved_on", &m.resolved_on)?,
        })
    }
}

impl ToMessage for case::Approved {
    type Message = pb::ApplicationApproved;

    fn to_message(&self) -> pb::ApplicationApproved {
        pb::ApplicationApproved {
            case_id: self.case_id.to_string(),
            decided_on: Some(self.decided_on.into()),
            calculation: Some(calculation_to_pb(&self.calculation)),
            starts_on: Some(self.starts_on.into()),
        }
    }
}

impl FromMessage<pb::ApplicationApproved> for case::Approved {
    fn from_message(m: pb::ApplicationApproved, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            decided_on: d.date("decided_on", &m.decided_on)?,
            calculation: calculation(d, &m.calculation)?,
            starts_on: d.date("starts_on", &m.starts_on)?,
        })
    }
}

/// The category as the published `AssistanceGranted` names it: single-person coverage is the
/// dibao (with `single_person` set).
fn granted_category(category: Category) -> (pb::AssistanceCategory, bool) {
    match category {
        Category::Dibao => (pb::AssistanceCategory::Dibao, false),
        Category::SinglePerson => (pb::AssistanceCategory::Dibao, true),
        Category::Tekun => (pb::AssistanceCategory::Tekun, false),
        Category::LowIncome => (pb::AssistanceCategory::LowIncome, false),
        Category::Temporary => (pb::AssistanceCategory::Temporary, false),
        Category::Heating => (pb::AssistanceCategory::Heating, false),
    }
}

impl ToMessage for case::Granted {
    type Message = pb::AssistanceGranted;

    fn to_message(&self) -> pb::AssistanceGranted {
        let (category, single_person) = granted_category(self.category);
        pb::AssistanceGranted {
            case_id: self.case_id.to_string(),
            category: category.into(),
            county: Some(self.county.into()),
            members: citizens(&self.members),
            effective_from: Some(self.effective_from.into()),
            single_person,
        }
    }
}

impl FromMessage<pb::AssistanceGranted> for case::Granted {
    fn from_message(m: pb::AssistanceGranted, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let category = match category_from_pb(d, "category", m.category)? {
            Category::Dibao if m.single_person => Category::SinglePerson,
            // A one-off payment to a household already in assistance is never a grant.
            Category::Heating => {
                return Err(d.invalid("category: heating assistance is never granted"));
            }
            other => other,
        };
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            category,
            county: d.code("county", &m.county)?,
            members: decode_citizens(d, "members", &m.members)?,
            effective_from: d.date("effective_from", &m.effective_from)?,
        })
    }
}

impl ToMessage for case::Rejected {
    type Message = pb::ApplicationRejected;

    fn to_message(&self) -> pb::ApplicationRejected {
        pb::ApplicationRejected {
            case_id: self.case_id.to_string(),
            decided_on: Some(self.decided_on.into()),
            rule: self.rule.clone(),
            reason: self.reason.as_str().to_owned(),
            calculation: self.calculation.as_ref().map(calculation_to_pb),
        }
    }
}

impl FromMessage<pb::ApplicationRejected> for case::Rejected {
    fn from_message(m: pb::ApplicationRejected, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            decided_on: d.date("decided_on", &m.decided_on)?,
            rule: m.rule,
            reason: d.text("reason", &m.reason)?,
            calculation: m
                .calculation
                .is_some()
                .then(|| calculation(d, &m.calculation))
                .transpose()?,
        })
    }
}

impl ToMessage for case::Recalculated {
    type Message = pb::BenefitRecalculated;

    fn to_message(&self) -> pb::BenefitRecalculated {
        pb::BenefitRecalculated {
            case_id: self.case_id.to_string(),
            effective_on: Some(self.effective_on.into()),
            previous_amount: Some(self.previous_amount.into()),
            calculation: Some(calculation_to_pb(&self.calculation)),
            cause: recalculation_to_pb(self.cause),
        }
    }
}

impl FromMessage<pb::BenefitRecalculated> for case::Recalculated {
    fn from_message(m: pb::BenefitRecalculated, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            effective_on: d.date("effective_on", &m.effective_on)?,
            previous_amount: d.money("previous_amount", &m.previous_amount)?,
            calculation: calculation(d, &m.calculation)?,
            cause: recalculation_from_pb(d, "cause", m.cause)?,
        })
    }
}

impl ToMessage for case::MembersChanged {
    type Message = pb::AssistanceMembersChanged;

    fn to_message(&self) -> pb::AssistanceMembersChanged {
        pb::AssistanceMembersChanged {
            case_id: self.case_id.to_string(),
            members: citizens(&self.members),
            effective_on: Some(self.effective_on.into()),
        }
    }
}

impl FromMessage<pb::AssistanceMembersChanged> for case::MembersChanged {
    fn from_message(m: pb::AssistanceMembersChanged, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            members: decode_citizens(d, "members", &m.members)?,
            effective_on: d.date("effective_on", &m.effective_on)?,
        })
    }
}

impl ToMessage for case::FlaggedForReview {
    type Message = pb::CaseFlaggedForReview;

    fn to_message(&self) -> pb::CaseFlaggedForReview {
        pb::CaseFlaggedForReview {
            case_id: self.case_id.to_string(),
            cause: review_cause_to_pb(self.cause),
            record_id: self.record_id.clone().unwrap_or_default(),
            flagged_on: Some(self.flagged_on.into()),
        }
    }
}

impl FromMessage<pb::CaseFlaggedForReview> for case::FlaggedForReview {
    fn from_message(m: pb::CaseFlaggedForReview, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            cause: review_cause_from_pb(d, "cause", m.cause)?,
            record_id: (!m.record_id.is_empty()).then_some(m.record_id),
            flagged_on: d.date("flagged_on", &m.flagged_on)?,
        })
    }
}

impl ToMessage for case::ReviewStarted {
    type Message = pb::ReviewStarted;

    fn to_message(&self) -> pb::ReviewStarted {
        pb::ReviewStarted {
            case_id: self.case_id.to_string(),
            review: self.review,
            cause: review_cause_to_pb(self.cause),
            started_on: Some(self.started_on.into()),
        }
    }
}

impl FromMessage<pb::ReviewStarted> for case::ReviewStarted {
    fn from_message(m: pb::ReviewStarted, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            review: m.review,
            cause: review_cause_from_pb(d, "cause", m.cause)?,
            started_on: d.date("started_on", &m.started_on)?,
        })
    }
}

impl ToMessage for case::ReviewCompleted {
    type Message = pb::ReviewCompleted;

    fn to_message(&self) -> pb::ReviewCompleted {
        pb::ReviewCompleted {
            case_id: self.case_id.to_string(),
            review: self.review,
            outcome: outcome_to_pb(self.outcome),
            completed_on: Some(self.completed_on.into()),
        }
    }
}

impl FromMessage<pb::ReviewCompleted> for case::ReviewCompleted {
    fn from_message(m: pb::ReviewCompleted, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            review: m.review,
            outcome: outcome_from_pb(d, "outcome", m.outcome)?,
            completed_on: d.date("completed_on", &m.completed_on)?,
        })
    }
}

impl ToMessage for case::Suspended {
    type Message = pb::CaseSuspended;

    fn to_message(&self) -> pb::CaseSuspended {
        pb::CaseSuspended {
            case_id: self.case_id.to_string(),
            effective_on: Some(self.effective_on.into()),
            reason: self.reason.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::CaseSuspended> for case::Suspended {
    fn from_message(m: pb::CaseSuspended, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            effective_on: d.date("effective_on", &m.effective_on)?,
            reason: d.text("reason", &m.reason)?,
        })
    }
}

impl ToMessage for case::Resumed {
    type Message = pb::CaseResumed;

    fn to_message(&self) -> pb::CaseResumed {
        pb::CaseResumed {
            case_id: self.case_id.to_string(),
            effective_on: Some(self.effective_on.into()),
        }
    }
}

impl FromMessage<pb::CaseResumed> for case::Resumed {
    fn from_message(m: pb::CaseResumed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            effective_on: d.date("effective_on", &m.effective_on)?,
        })
    }
}

impl ToMessage for case::Ended {
    type Message = pb::AssistanceEnded;

    fn to_message(&self) -> pb::AssistanceEnded {
        pb::AssistanceEnded {
            case_id: self.case_id.to_string(),
            effective_on: Some(self.effective_on.into()),
            reason: self.reason.clone(),
            cause: end_to_pb(self.cause),
        }
    }
}

impl FromMessage<pb::AssistanceEnded> for case::Ended {
    fn from_message(m: pb::AssistanceEnded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            effective_on: d.date("effective_on", &m.effective_on)?,
            reason: m.reason,
            // Events written before the cause existed read as a termination.
            cause: optional(m.cause, |v| end_from_pb(d, "cause", v))?
                .unwrap_or(EndCause::Terminated),
        })
    }
}

impl ToMessage for case::Rehomed {
    type Message = pb::CaseRehomed;

    fn to_message(&self) -> pb::CaseRehomed {
        pb::CaseRehomed {
            case_id: self.case_id.to_string(),
            previous_division: Some(self.previous_division.into()),
            division: Some(self.division.into()),
            county: Some(self.county.into()),
            adjustment_id: self.adjustment_id.clone(),
            effective_on: Some(self.effective_on.into()),
        }
    }
}

impl FromMessage<pb::CaseRehomed> for case::Rehomed {
    fn from_message(m: pb::CaseRehomed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            previous_division: d.code("previous_division", &m.previous_division)?,
            division: d.code("division", &m.division)?,
            county: d.code("county", &m.county)?,
            adjustment_id: m.adjustment_id,
            effective_on: d.date("effective_on", &m.effective_on)?,
        })
    }
}

impl ToMessage for case::PaidAtOnce {
    type Message = pb::TemporaryAidPaidAtOnce;

    fn to_message(&self) -> pb::TemporaryAidPaidAtOnce {
        pb::TemporaryAidPaidAtOnce {
            case_id: self.case_id.to_string(),
            township: Some(self.township.into()),
            calculation: Some(calculation_to_pb(&self.calculation)),
            paid_on: Some(self.paid_on.into()),
            report_due_on: Some(self.report_due_on.into()),
        }
    }
}

impl FromMessage<pb::TemporaryAidPaidAtOnce> for case::PaidAtOnce {
    fn from_message(m: pb::TemporaryAidPaidAtOnce, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            township: d.code("township", &m.township)?,
            calculation: calculation(d, &m.calculation)?,
            paid_on: d.date("paid_on", &m.paid_on)?,
            report_due_on: d.date("report_due_on", &m.report_due_on)?,
        })
    }
}

impl ToMessage for case::Reported {
    type Message = pb::TemporaryAidReported;

    fn to_message(&self) -> pb::TemporaryAidReported {
        pb::TemporaryAidReported {
            case_id: self.case_id.to_string(),
            reported_on: Some(self.reported_on.into()),
        }
    }
}

impl FromMessage<pb::TemporaryAidReported> for case::Reported {
    fn from_message(m: pb::TemporaryAidReported, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            reported_on: d.date("reported_on", &m.reported_on)?,
        })
    }
}

impl ToMessage for case::Transferred {
    type Message = pb::TemporaryAidTransferred;

    fn to_message(&self) -> pb::TemporaryAidTransferred {
        pb::TemporaryAidTransferred {
            case_id: self.case_id.to_string(),
            transferred_on: Some(self.transferred_on.into()),
        }
    }
}

impl FromMessage<pb::TemporaryAidTransferred> for case::Transferred {
    fn from_message(m: pb::TemporaryAidTransferred, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            case_id: case_id(d, &m.case_id)?,
            transferred_on: d.date("transferred_on", &m.transferred_on)?,
        })
    }
}
