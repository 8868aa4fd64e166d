//! The assistance service's events as this service reads them (its view of that public
//! contract): the standards that set the lines a household's income is measured against, and
//! the verification requests it answers.

use std::collections::BTreeSet;

use minzheng_types::{CitizenId, Fen, RegionCode};
use time::Date;

use crate::{discovery::Relation, records::DataClass, verification::Area};

minzheng_types::id_type!(
    /// A verification request's id, issued by the assistance service: the case id, "-V" and the
    /// request's ordinal in the case.
    RequestId
);
minzheng_types::stream_key!(RequestId);

/// A standard the verification uses, as the assistance service recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standard {
    pub county: RegionCode,
    /// Its version's ordinal in the county's policy stream.
    pub number: u32,
    pub kind: StandardKind,
    pub effective_from: Date,
}

/// Which standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandardKind {
    /// The dibao standard of an area, per person per month (a yearly one ÷ 12, halves up).
    Dibao { area: Area, monthly: Fen },
    /// The low-income multiplier k, in permille.
    LowIncomeMultiplier { permille: u32 },
    /// Another standard, of no use to a verification.
    Other,
}

/// A member's authorization as the application carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedAuthorization {
    pub signed_by: CitizenId,
    pub signed_on: Date,
    pub data_classes: BTreeSet<DataClass>,
    pub expires_on: Date,
}

/// A household's economic status is to be verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRequest {
    pub request_id: RequestId,
    pub case_id: String,
    pub members: Vec<CitizenId>,
    pub authorizations: Vec<SignedAuthorization>,
    pub requested_on: Date,
    pub county: RegionCode,
    /// Absent in requests recorded before the assistance service carried it.
    pub area: Option<Area>,
}

/// A household as an application declared it: its members and their relation to the applicant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseHousehold {
    pub case_id: String,
    /// The category's code, e.g. `DIBAO`.
    pub category: String,
    /// The household's township, followed through adjustments at submission.
    pub division: RegionCode,
    /// Urban or rural, for the standard.
    pub area: Option<Area>,
    pub members: Vec<(CitizenId, Relation)>,
}

/// What this service reads of the assistance service's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    StandardRecorded(Standard),
    VerificationRequested(VerificationRequest),
    ApplicationSubmitted(CaseHousehold),
    /// A case's members receive assistance from a day.
    Granted {
        case_id: String,
        category: String,
        members: Vec<CitizenId>,
        effective_from: Date,
    },
    /// A case covers these members from a day on.
    MembersChanged {
        case_id: String,
        members: Vec<CitizenId>,
        effective_on: Date,
    },
    /// A case ended on a day.
    Ended {
        case_id: String,
        effective_on: Date,
    },
}
