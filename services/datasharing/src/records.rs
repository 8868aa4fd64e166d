//! Other agencies' records about citizens (部门数据): what each agency sends, the data class an
//! authorization must open to read it, and the rules a record must meet to be kept.
//!
//! A record is one fact about one citizen as an agency knew it on a day (`as_of`): wages from
//! an employer, a property, a vehicle, a deposit balance. The agency's own `reference` names the
//! fact: a later record with the same agency and reference supersedes an earlier one (a new
//! balance, a job that ended), and nothing is overwritten — the service keeps every record with
//! the knowledge version that learnt it (see [`crate::knowledge`]), so a question asked "as
//! known" at an earlier time is answered as it was then.

use minzheng_types::{CitizenId, Fen, RegionCode, RegionLevel};
use sha2::{Digest as _, Sha256};
use time::Date;

/// The agency a record comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Agency {
    /// Human resources and social security (人社).
    HumanResources,
    /// Taxation (税务).
    Tax,
    /// Real-estate registration (不动产登记).
    RealEstate,
    /// Vehicle registration (公安交管).
    Vehicles,
    /// Market regulation (市场监管).
    MarketRegulation,
    /// The housing provident fund centre (住房公积金).
    HousingFund,
    /// Banks (银行).
    Banks,
    /// Securities registration (证券登记).
    Securities,
    /// The disabled persons' federation (残联).
    DisabledPersonsFederation,
    /// Public security: household registration (公安户籍).
    PublicSecurity,
}

impl Agency {
    pub const ALL: [Agency; 10] = [
        Agency::HumanResources,
        Agency::Tax,
        Agency::RealEstate,
        Agency::Vehicles,
        Agency::MarketRegulation,
        Agency::HousingFund,
        Agency::Banks,
        Agency::Securities,
        Agency::DisabledPersonsFederation,
        Agency::PublicSecurity,
    ];

    /// The stable code stored and shown (`AGENCY_…` without the prefix, lowercase), also the
    /// agency's name in tokens (`agency` claim) and in the load file's header.
    pub fn code(self) -> &'static str {
        match self {
            Agency::HumanResources => "human_resources",
            Agency::Tax => "tax",
            Agency::RealEstate => "real_estate",
            Agency::Vehicles => "vehicles",
            Agency::MarketRegulation => "market_regulation",
            Agency::HousingFund => "housing_fund",
            Agency::Banks => "banks",
            Agency::Securities => "securities",
            Agency::DisabledPersonsFederation => "disabled_persons_federation",
            Agency::PublicSecurity => "public_security",
        }
    }

    /// The agency's name as caseworkers know it.
    pub fn chinese_name(self) -> &'static str {
        match self {
            Agency::HumanResources => "人社",
            Agency::Tax => "税务",
            Agency::RealEstate => "不动产登记",
            Agency::Vehicles => "公安交管",
            Agency::MarketRegulation => "市场监管",
            Agency::HousingFund => "住房公积金",
            Agency::Banks => "银行",
            Agency::Securities => "证券登记",
            Agency::DisabledPersonsFederation => "残联",
            Agency::PublicSecurity => "公安户籍",
        }
    }

    /// The agency with this [`Agency::code`].
    pub fn from_code(code: &str) -> Option<Agency> {
        Agency::ALL.into_iter().find(|a| a.code() == code)
    }

    /// The stored number (the protobuf enum's).
    pub fn number(self) -> i16 {
        match self {
            Agency::HumanResources => 1,
            Agency::Tax => 2,
            Agency::RealEstate => 3,
            Agency::Vehicles => 4,
            Agency::MarketRegulation => 5,
            Agency::HousingFund => 6,
            Agency::Banks => 7,
            Agency::Securities => 8,
            Agency::DisabledPersonsFederation => 9,
            Agency::PublicSecurity => 10,
        }
    }

    pub fn from_number(number: i64) -> Option<Agency> {
        Agency::ALL
            .into_iter()
            .find(|a| i64::from(a.number()) == number)
    }

    /// The kinds of record the agency keeps.
    pub fn kinds(self) -> impl Iterator<Item = RecordKind> {
        RecordKind::ALL
            .into_iter()
            .filter(move |k| k.agency() == self)
    }
}

/// What a record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    /// Wages from an employer, per month.
    Wages,
    /// A pension, per month.
    Pension,
    /// Income declared for tax, per year.
    TaxedIncome,
    /// A property; the amount is its assessed value.
    RealEstate,
    /// A vehicle; the amount is its value.
    Vehicle,
    /// A registered business; the amount is its registered capital.
    Business,
    /// A housing provident fund account; the amount is the monthly contribution.
    HousingFund,
    /// Bank deposits; the amount is the balance.
    Deposits,
    /// Securities; the amount is their market value.
    Securities,
    /// A disability certificate, with its grade.
    Disability,
    /// Household registration (户籍): division, booklet number, relation to the head.
    HouseholdRegistration,
}

impl RecordKind {
    pub const ALL: [RecordKind; 11] = [
        RecordKind::Wages,
        RecordKind::Pension,
        RecordKind::TaxedIncome,
        RecordKind::RealEstate,
        RecordKind::Vehicle,
        RecordKind::Business,
        RecordKind::HousingFund,
        RecordKind::Deposits,
        RecordKind::Securities,
        RecordKind::Disability,
        RecordKind::HouseholdRegistration,
    ];

    /// The agency that keeps such records.
    pub fn agency(self) -> Agency {
        match self {
            RecordKind::Wages | RecordKind::Pension => Agency::HumanResources,
            RecordKind::TaxedIncome => Agency::Tax,
            RecordKind::RealEstate => Agency::RealEstate,
            RecordKind::Vehicle => Agency::Vehicles,
            RecordKind::Business => Agency::MarketRegulation,
            RecordKind::HousingFund => Agency::HousingFund,
            RecordKind::Deposits => Agency::Banks,
            RecordKind::Securities => Agency::Securities,
            RecordKind::Disability => Agency::DisabledPersonsFederation,
            RecordKind::HouseholdRegistration => Agency::PublicSecurity,
        }
    }

    /// The class of data an authorization must open to read such a record.
    pub fn data_class(self) -> DataClass {
        match self {
            RecordKind::Wages => DataClass::Income,
            RecordKind::Pension => DataClass::SocialInsurance,
            RecordKind::TaxedIncome => DataClass::Tax,
            RecordKind::RealEstate => DataClass::RealEstate,
            RecordKind::Vehicle => DataClass::Vehicles,
            RecordKind::Business => DataClass::BusinessRegistration,
            RecordKind::HousingFund => DataClass::HousingFund,
            RecordKind::Deposits => DataClass::BankDeposits,
            RecordKind::Securities => DataClass::Securities,
            RecordKind::Disability => DataClass::Disability,
            RecordKind::HouseholdRegistration => DataClass::HouseholdRegistration,
        }
    }

    /// The code shown in reports and files (`RECORD_KIND_…` without the prefix).
    pub fn code(self) -> &'static str {
        match self {
            RecordKind::Wages => "WAGES",
            RecordKind::Pension => "PENSION",
            RecordKind::TaxedIncome => "TAXED_INCOME",
            RecordKind::RealEstate => "REAL_ESTATE",
            RecordKind::Vehicle => "VEHICLE",
            RecordKind::Business => "BUSINESS",
            RecordKind::HousingFund => "HOUSING_FUND",
            RecordKind::Deposits => "DEPOSITS",
            RecordKind::Securities => "SECURITIES",
            RecordKind::Disability => "DISABILITY",
            RecordKind::HouseholdRegistration => "HOUSEHOLD_REGISTRATION",
        }
    }

    pub fn from_code(code: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The stored number (the protobuf enum's).
    pub fn number(self) -> i16 {
        match self {
            RecordKind::Wages => 1,
            RecordKind::Pension => 2,
            RecordKind::TaxedIncome => 3,
            RecordKind::RealEstate => 4,
            RecordKind::Vehicle => 5,
            RecordKind::Business => 6,
            RecordKind::HousingFund => 7,
            RecordKind::Deposits => 8,
            RecordKind::Securities => 9,
            RecordKind::Disability => 10,
            RecordKind::HouseholdRegistration => 11,
        }
    }

    pub fn from_number(number: i64) -> Option<RecordKind> {
        RecordKind::ALL
            .into_iter()
            .find(|k| i64::from(k.number()) == number)
    }
}

/// A class of data an authorization opens (核对授权的数据类别).
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
    Disability,
    HouseholdRegistration,
}

impl DataClass {
    pub const ALL: [DataClass; 11] = [
        DataClass::Income,
        DataClass::BankDeposits,
        DataClass::RealEstate,
        DataClass::Vehicles,
        DataClass::BusinessRegistration,
        DataClass::Tax,
        DataClass::SocialInsurance,
        DataClass::HousingFund,
        DataClass::Securities,
        DataClass::Disability,
        DataClass::HouseholdRegistration,
    ];

    /// What a household economic-status verification reads (民发〔2021〕57号 第十一条: income
    /// and property): the nine classes the assistance service's applicants sign for.
    pub const ECONOMIC: [DataClass; 9] = [
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

    /// The code shown (`DATA_CLASS_…` without the prefix).
    pub fn code(self) -> &'static str {
        match self {
            DataClass::Income => "INCOME",
            DataClass::BankDeposits => "BANK_DEPOSITS",
            DataClass::RealEstate => "REAL_ESTATE",
            DataClass::Vehicles => "VEHICLES",
            DataClass::BusinessRegistration => "BUSINESS_REGISTRATION",
            DataClass::Tax => "TAX",
            DataClass::SocialInsurance => "SOCIAL_INSURANCE",
            DataClass::HousingFund => "HOUSING_FUND",
            DataClass::Securities => "SECURITIES",
            DataClass::Disability => "DISABILITY",
            DataClass::HouseholdRegistration => "HOUSEHOLD_REGISTRATION",
        }
    }

    /// The agencies holding data of this class.
    pub fn agencies(self) -> impl Iterator<Item = Agency> {
        let mut agencies: Vec<Agency> = RecordKind::ALL
            .into_iter()
            .filter(move |k| k.data_class() == self)
            .map(RecordKind::agency)
            .collect();
        agencies.dedup();
        agencies.into_iter()
    }
}

/// Longest agency reference, in characters.
pub const REFERENCE_MAX_CHARS: usize = 64;

/// The agency's reference for a fact: 1–64 ASCII letters, digits or `-_./:`, not a citizen id
/// number. Never a stream key or a subject: it is the agency's, and only kept in rows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference(String);

impl Reference {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        if input.is_empty() || input.len() > REFERENCE_MAX_CHARS {
            return Err("must be 1 to 64 characters");
        }
        if !input
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c))
        {
            return Err("must be ASCII letters, digits or -_./:");
        }
        if minzheng_types::contains_citizen_id(input) {
            return Err("must not contain a citizen id number");
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What only some kinds of record carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Details {
    /// Nothing beyond the amount.
    None,
    /// A property's floor area in square metres (0: not known).
    RealEstate { area_m2: u32 },
    /// A disability certificate's grade, 1 (most severe) to 4.
    Disability { grade: u8 },
    /// Household registration.
    Registration {
        /// The township-level division of the registered residence.
        division: RegionCode,
        /// The household booklet's number (户号).
        household_number: String,
        /// The relation to the head of the registered household, as the agency writes it.
        relation_to_head: String,
    },
}

/// One agency record, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyRecord {
    pub reference: Reference,
    pub kind: RecordKind,
    pub citizen: CitizenId,
    pub as_of: Date,
    /// Monthly, yearly, a value or a balance, as [`RecordKind`] says; never negative.
    pub amount: Fen,
    /// The fact stopped being true on `as_of`.
    pub ended: bool,
    pub details: Details,
}

/// The parts of a record as received, before its rules are checked (a row of a file, a
/// protobuf message): what [`check_record`] turns into an [`AgencyRecord`].
#[derive(Debug, Clone, Default)]
pub struct RawRecord {
    pub reference: String,
    pub kind: Option<RecordKind>,
    pub citizen: String,
    pub as_of: Option<Date>,
    pub amount_fen: i64,
    pub ended: bool,
    pub area_m2: u32,
    pub disability_grade: u32,
    pub division: String,
    pub household_number: String,
    pub relation_to_head: String,
}

/// A record's broken rule: the field (as named in the protobuf `AgencyRecord`) and the rule.
pub type Violation = (&'static str, String);

/// Checks a record `agency` sent; every broken rule, or the record.
pub fn check_record(agency: Agency, raw: &RawRecord) -> Result<AgencyRecord, Vec<Violation>> {
    let mut violations: Vec<Violation> = Vec::new();
    let reference = Reference::parse(&raw.reference)
        .map_err(|rule| violations.push(("reference", rule.to_owned())))
        .ok();
    let kind = match raw.kind {
        None => {
            violations.push(("kind", "must be given".to_owned()));
            None
        }
        Some(kind) if kind.agency() != agency => {
            violations.push((
                "kind",
                format!(
                    "{} records come from {} ({}), not {}",
                    kind.code(),
                    kind.agency().code(),
                    kind.agency().chinese_name(),
                    agency.code()
                ),
            ));
            None
        }
        Some(kind) => Some(kind),
    };
    let citizen = CitizenId::parse(&raw.citizen)
        .map_err(|e| violations.push(("citizen.citizen_id", e.to_string())))
        .ok();
    if raw.as_of.is_none() {
        violations.push(("as_of", "must be given".to_owned()));
    }
    let amount = Fen::non_negative(raw.amount_fen)
        .map_err(|_| violations.push(("amount.fen", "must not be negative".to_owned())))
        .ok();
    let details = kind.and_then(|kind| details(kind, raw, &mut violations));
    match (reference, kind, citizen, raw.as_of, amount, details) {
        (Some(reference), Some(kind), Some(citizen), Some(as_of), Some(amount), Some(details))
            if violations.is_empty() =>
        {
            Ok(AgencyRecord {
                reference,
                kind,
                citizen,
                as_of,
                amount,
                ended: raw.ended,
                details,
            })
        }
        _ => Err(violations),
    }
}

/// The kind's own fields, and none of another kind's.
fn details(kind: RecordKind, raw: &RawRecord, violations: &mut Vec<Violation>) -> Option<Details> {
    let registration_given = !raw.division.is_empty()
        || !raw.household_number.is_empty()
        || !raw.relation_to_head.is_empty();
    let before = violations.len();
    if kind != RecordKind::RealEstate && raw.area_m2 != 0 {
        violations.push((
            "area_m2",
            "only real-estate records have an area".to_owned(),
        ));
    }
    if kind != RecordKind::Disability && raw.disability_grade != 0 {
        violations.push((
            "disability_grade",
            "only disability records have a grade".to_owned(),
        ));
    }
    if kind != RecordKind::HouseholdRegistration && registration_given {
        violations.push((
            "division",
            "only household-registration records have a division, household number or relation"
                .to_owned(),
        ));
    }
    let details = match kind {
        RecordKind::RealEstate => Details::RealEstate {
            area_m2: raw.area_m2,
        },
        RecordKind::Disability => match u8::try_from(raw.disability_grade) {
            Ok(grade @ 1..=4) => Details::Disability { grade },
            _ => {
                violations.push(("disability_grade", "must be 1 to 4".to_owned()));
                return None;
            }
        },
        RecordKind::HouseholdRegistration => {
            let division = RegionCode::parse(&raw.division)
                .map_err(|e| violations.push(("division.code", e.to_string())))
                .ok()
                .filter(|d| {
                    let township = d.level() == RegionLevel::Township;
                    if !township {
                        violations.push((
                            "division.code",
                            "must be a township-level division (乡镇、街道)".to_owned(),
                        ));
                    }
                    township
                });
            let number = &raw.household_number;
            if number.is_empty()
                || number.len() > 32
                || !number.chars().all(|c| c.is_ascii_alphanumeric())
            {
                violations.push((
                    "household_number",
                    "must be 1 to 32 letters or digits".to_owned(),
                ));
            }
            let relation = raw.relation_to_head.trim();
            if relation.is_empty() || relation.chars().count() > 16 {
                violations.push(("relation_to_head", "must be 1 to 16 characters".to_owned()));
            } else if minzheng_types::contains_citizen_id(relation) {
                violations.push((
                    "relation_to_head",
                    "must not contain a citizen id number".to_owned(),
                ));
            }
            Details::Registration {
                division: division?,
                household_number: number.clone(),
                relation_to_head: relation.to_owned(),
            }
        }
        _ => Details::None,
    };
    (violations.len() == before).then_some(details)
}

/// A record's identity for "already known": a digest of everything the agency said, so the same
/// record loaded again is recognised and a corrected one is new knowledge.
pub fn digest(agency: Agency, record: &AgencyRecord) -> [u8; 16] {
    let mut hash = Sha256::new();
    let details = encode_details(&record.details);
    for part in [
        agency.code(),
        record.reference.as_str(),
        record.kind.code(),
        record.citizen.expose(),
        &record.as_of.to_string(),
        &record.amount.fen().to_string(),
        if record.ended { "1" } else { "0" },
        &details,
    ] {
        hash.update(part.as_bytes());
        hash.update([0x1f]);
    }
    let full = hash.finalize();
    let mut digest = [0u8; 16];
    digest.copy_from_slice(&full[..16]);
    digest
}

/// The details as stored in one text column: empty, `area`, `grade`, or
/// `division␟number␟relation` (unit separator between them).
pub fn encode_details(details: &Details) -> String {
    match details {
        Details::None => String::new(),
        Details::RealEstate { area_m2 } => area_m2.to_string(),
        Details::Disability { grade } => grade.to_string(),
        Details::Registration {
            division,
            household_number,
            relation_to_head,
        } => format!("{division}\u{1f}{household_number}\u{1f}{relation_to_head}"),
    }
}

/// Reads the stored details of a record of `kind`; `None` when they do not have that shape.
pub fn decode_details(kind: RecordKind, stored: &str) -> Option<Details> {
    match kind {
        RecordKind::RealEstate => Some(Details::RealEstate {
            area_m2: if stored.is_empty() {
                0
            } else {
                stored.parse().ok()?
            },
        }),
        RecordKind::Disability => Some(Details::Disability {
            grade: stored.parse().ok()?,
        }),
        RecordKind::HouseholdRegistration => {
            let mut parts = stored.split('\u{1f}');
            let division = RegionCode::parse(parts.next()?).ok()?;
            let household_number = parts.next()?.to_owned();
            let relation_to_head = parts.next()?.to_owned();
            Some(Details::Registration {
                division,
                household_number,
                relation_to_head,
            })
        }
        _ => stored.is_empty().then_some(Details::None),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn wages() -> RawRecord {
        RawRecord {
            reference: "HR-2026-0001".into(),
            kind: Some(RecordKind::Wages),
            citizen: "210502198001011234".into(),
            as_of: Some(date!(2026 - 03 - 31)),
            amount_fen: 180_000,
            ..RawRecord::default()
        }
    }

    #[test]
    fn every_kind_belongs_to_one_agency_and_one_class() {
        for kind in RecordKind::ALL {
            assert!(kind.agency().kinds().any(|k| k == kind));
            assert!(kind.data_class().agencies().any(|a| a == kind.agency()));
            assert_eq!(RecordKind::from_code(kind.code()), Some(kind));
            assert_eq!(RecordKind::from_number(kind.number().into()), Some(kind));
        }
        for agency in Agency::ALL {
            assert_eq!(Agency::from_code(agency.code()), Some(agency));
            assert_eq!(Agency::from_number(agency.number().into()), Some(agency));
        }
    }

    #[test]
    fn a_well_formed_record_is_kept() {
        let record = check_record(Agency::HumanResources, &wages()).expect("valid");
        assert_eq!(record.amount, Fen::new(180_000));
        assert_eq!(record.details, Details::None);
    }

    #[test]
    fn a_record_from_the_wrong_agency_is_refused() {
        let refused = check_record(Agency::Banks, &wages()).expect_err("wages are HR's");
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].0, "kind");
        assert!(refused[0].1.contains("human_resources"), "{refused:?}");
    }

    #[test]
    fn every_broken_rule_is_named() {
        let raw = RawRecord {
            reference: String::new(),
            kind: Some(RecordKind::Wages),
            citizen: "210502198001011230".into(),
            as_of: None,
            amount_fen: -1,
            area_m2: 80,
            ..RawRecord::default()
        };
        let refused = check_record(Agency::HumanResources, &raw).expect_err("broken");
        let fields: Vec<&str> = refused.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            [
                "reference",
                "citizen.citizen_id",
                "as_of",
                "amount.fen",
                "area_m2"
            ]
        );
    }

    #[test]
    fn a_reference_never_carries_a_citizen_id() {
        assert!(Reference::parse("P-210502198001011234").is_err());
        assert!(Reference::parse("不动产-1").is_err());
        assert!(Reference::parse("RE/2026:0001").is_ok());
    }

    #[test]
    fn household_registration_needs_a_township_a_number_and_a_relation() {
        let raw = RawRecord {
            reference: "HJ-1".into(),
            kind: Some(RecordKind::HouseholdRegistration),
            citizen: "210502198001011234".into(),
            as_of: Some(date!(2026 - 01 - 01)),
            division: "210502000000".into(),
            ..RawRecord::default()
        };
        let refused = check_record(Agency::PublicSecurity, &raw).expect_err("incomplete");
        let fields: Vec<&str> = refused.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            ["division.code", "household_number", "relation_to_head"]
        );
        let kept = check_record(
            Agency::PublicSecurity,
            &RawRecord {
                division: "210502001000".into(),
                household_number: "H0001".into(),
                relation_to_head: "户主".into(),
                ..raw
            },
        )
        .expect("complete");
        let stored = encode_details(&kept.details);
        assert_eq!(
            decode_details(RecordKind::HouseholdRegistration, &stored),
            Some(kept.details)
        );
    }

    #[test]
    fn the_same_record_has_the_same_digest_and_a_corrected_one_another() {
        let record = check_record(Agency::HumanResources, &wages()).expect("valid");
        let again = check_record(Agency::HumanResources, &wages()).expect("valid");
        assert_eq!(
            digest(Agency::HumanResources, &record),
            digest(Agency::HumanResources, &again)
        );
        let corrected = AgencyRecord {
            amount: Fen::new(180_001),
            ..record.clone()
        };
        assert_ne!(
            digest(Agency::HumanResources, &record),
            digest(Agency::HumanResources, &corrected)
        );
    }
}
