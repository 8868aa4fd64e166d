//! The applying household (共同生活的家庭成员) as the application declares it: members, incomes,
//! assets, the members' authorizations for the verification, and the account benefits are paid
//! to. Everything here is personal data: it travels in event payloads only, and nothing here
//! prints a number or an amount in `Debug` except through the masked [`CitizenId`].
//!
//! Rule (《最低生活保障审核确认办法》(民发〔2021〕57号) 第四条, 第九条): the household's members
//! who live together apply together and each adult member signs the authorization for the
//! verification of the household's economic status.

use std::collections::BTreeSet;

use minzheng_types::{BoundedText, CitizenId, Fen, age_on};

pub use crate::policy::SelfCare;
use time::Date;

/// A member's relation to the applicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    Applicant,
    Spouse,
    Child,
    Parent,
    Grandparent,
    Grandchild,
    Sibling,
    Other,
}

/// Whether a person can work (劳动能力).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkCapacity {
    Full,
    Partial,
    None,
}

/// One member of the household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub citizen: CitizenId,
    /// PERSONAL DATA.
    pub name: BoundedText,
    pub relation: Relation,
    /// 重病, as certified.
    pub seriously_ill: bool,
    /// 重度残疾 (grade one or two).
    pub severely_disabled: bool,
    pub work_capacity: Option<WorkCapacity>,
    pub self_care: Option<SelfCare>,
}

/// The kind of a declared income.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncomeKind {
    Wages,
    Business,
    Property,
    Transfer,
    Pension,
    Other,
}

/// A declared monthly income.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Income {
    pub member: CitizenId,
    pub kind: IncomeKind,
    pub monthly: Fen,
}

/// The kind of a declared asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetKind {
    Deposits,
    Securities,
    Vehicle,
    RealEstate,
    Business,
    Other,
}

/// A declared asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    pub owner: CitizenId,
    pub kind: AssetKind,
    pub value: Fen,
}

/// A class of data an authorization lets the verification read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataClass {
    Income,
    BankDeposits,
    RealEstate,
    Vehicles,
    BusinessRegistration,
    Tax,
    SocialInsurance,
    HousingFund,
    Securities,
}

impl DataClass {
    /// What a verification for assistance reads (民发〔2021〕57号 chapter 3, 家庭经济状况调查:
    /// income, property and the like): every class.
    pub const ALL: [DataClass; 9] = [
        DataClass::Income,
        DataClass::BankDeposits,
        DataClass::RealEstate,
        DataClass::Vehicles,
        DataClass::BusinessRegistration,
        DataClass::Tax,
        DataClass::SocialInsurance,
        DataClass::HousingFund,
        DataClass::Securities,
    ];
}

/// A member's signed authorization for the verification (授权书).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub signed_by: CitizenId,
    pub signed_on: Date,
    pub data_classes: BTreeSet<DataClass>,
    /// The last day it may be used.
    pub expires_on: Date,
}

impl Authorization {
    /// Whether it lets a verification requested on `on` read every class.
    pub fn covers_on(&self, on: Date) -> bool {
        self.signed_on <= on
            && on <= self.expires_on
            && DataClass::ALL.iter().all(|c| self.data_classes.contains(c))
    }
}

/// The household as declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Household {
    pub applicant: CitizenId,
    pub members: Vec<Member>,
    pub incomes: Vec<Income>,
    pub assets: Vec<Asset>,
    pub authorizations: Vec<Authorization>,
}

/// Age from which a member signs their own authorization (《民法典》第十七条: adults are 18).
pub const AGE_OF_MAJORITY: u32 = 18;

impl Household {
    pub fn citizens(&self) -> Vec<CitizenId> {
        self.members.iter().map(|m| m.citizen.clone()).collect()
    }

    pub fn member(&self, citizen: &CitizenId) -> Option<&Member> {
        self.members.iter().find(|m| &m.citizen == citizen)
    }

    /// The declared monthly income of the whole household; `None` on overflow.
    pub fn declared_income(&self) -> Option<Fen> {
        Fen::checked_sum(self.incomes.iter().map(|i| i.monthly))
    }

    /// The adult members (on `on`) without an authorization that covers a verification
    /// requested that day.
    pub fn unauthorized_adults(&self, on: Date) -> Vec<&CitizenId> {
        self.members
            .iter()
            .filter(|m| age_on(m.citizen.birth_date(), on) >= AGE_OF_MAJORITY)
            .filter(|m| {
                !self
                    .authorizations
                    .iter()
                    .any(|a| a.signed_by == m.citizen && a.covers_on(on))
            })
            .map(|m| &m.citizen)
            .collect()
    }
}
