//! The ids of the elderly-care service. None carries personal data; each keys a stream.
//!
//! | what | form | example | stream |
//! |---|---|---|---|
//! | institution (养老机构) | `EC-<county 6 digits>-<nnnn>` | `EC-210502-0007` | `institution-…` |
//! | service point (community centre, home care beds) | `SP-<county 6 digits>-<nnnn>` | `SP-210521-0031` | `service_point-…` |
//! | elderly person | pseudonym: 32 lowercase hex digits | `5f0c…` | `elder-…` |
//!
//! Subsidy standards are stream `subsidy_policy-<city code>` and a county's elderly population
//! `population-<county code>`: region codes key them. Institution and service-point ordinals are
//! issued per county in order (the read model knows the last one); a person's pseudonym is a
//! keyed hash of their citizen id number that only the service can compute
//! ([`minzheng_kit::pseudonym`]).

use std::fmt;

use minzheng_types::{RegionCode, RegionLevel};

/// The most institutions or service points one county can register (four-digit ordinals).
pub const MAX_ORDINAL: u16 = 9999;

/// The pseudonym domain of elderly persons' streams: the platform's person pseudonym, the one
/// every service's read audit names persons by, so the citizens' audit trail finds this
/// service's reads of them.
pub const PERSON_DOMAIN: &str = "person";

/// Length of an [`ElderId`] in hex digits (128 bits).
pub const ELDER_ID_LEN: usize = 32;

/// Why a text is not one of the ids.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("must have the form {prefix}-<county 6 digits>-<4 digits>, e.g. {prefix}-210502-0007")]
    Issued { prefix: &'static str },
    #[error("must be {ELDER_ID_LEN} lowercase hexadecimal digits")]
    Elder,
}

/// An id issued per county: a prefix, the county and an ordinal from 1 to [`MAX_ORDINAL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct CountyOrdinal {
    county: RegionCode,
    ordinal: u16,
}

impl CountyOrdinal {
    fn new(county: RegionCode, ordinal: u16) -> Option<Self> {
        (county.level() == RegionLevel::County && (1..=MAX_ORDINAL).contains(&ordinal))
            .then_some(Self { county, ordinal })
    }

    fn parse(prefix: &'static str, input: &str) -> Result<Self, FormError> {
        let error = FormError::Issued { prefix };
        let rest = input
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('-'))
            .ok_or_else(|| error.clone())?;
        let (county, ordinal) = rest.split_once('-').ok_or_else(|| error.clone())?;
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !(digits(county, 6) && digits(ordinal, 4)) {
            return Err(error);
        }
        let county = RegionCode::parse(&format!("{county}000000")).map_err(|_| error.clone())?;
        let ordinal = ordinal.parse().map_err(|_| error.clone())?;
        Self::new(county, ordinal).ok_or(error)
    }

    fn write(&self, prefix: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{prefix}-{}-{:04}", self.county.gb2260(), self.ordinal)
    }
}

macro_rules! county_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(CountyOrdinal);

        impl $name {
            /// The prefix of its text form.
            pub const PREFIX: &'static str = $prefix;

            /// `None` when the county is not county-level or the ordinal is outside
            /// 1..=[`MAX_ORDINAL`].
            pub fn new(county: RegionCode, ordinal: u16) -> Option<Self> {
                CountyOrdinal::new(county, ordinal).map(Self)
            }

            pub fn parse(input: &str) -> Result<Self, FormError> {
                CountyOrdinal::parse($prefix, input).map(Self)
            }

            /// The county that registered it.
            pub fn county(&self) -> RegionCode {
                self.0.county
            }

            pub fn ordinal(&self) -> u16 {
                self.0.ordinal
            }

            pub fn as_string(&self) -> String {
                self.to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write($prefix, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl minzheng_types::StreamKey for $name {
            fn stream_key(&self) -> String {
                self.to_string()
            }
        }
    };
}

county_id!(
    /// An institution (养老机构), `EC-<county 6 digits>-<nnnn>`.
    InstitutionId,
    "EC"
);
county_id!(
    /// A service point (community centre or home-care-bed programme), `SP-<county>-<nnnn>`.
    ServicePointId,
    "SP"
);

/// An elderly person: the pseudonym of their citizen id number, 32 lowercase hex digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ElderId(String);

impl ElderId {
    pub fn parse(input: &str) -> Result<Self, FormError> {
        if input.len() == ELDER_ID_LEN
            && input
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(input.to_owned()))
        } else {
            Err(FormError::Elder)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ElderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ElderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ElderId({})", self.0)
    }
}

minzheng_types::stream_key!(ElderId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_ids_round_trip_and_name_their_county() {
        let id = InstitutionId::parse("EC-210502-0007").expect("valid");
        assert_eq!(id.to_string(), "EC-210502-0007");
        assert_eq!(id.county().to_string(), "210502000000");
        assert_eq!(id.ordinal(), 7);
        let point = ServicePointId::new(RegionCode::parse("210521000000").expect("valid"), 31)
            .expect("valid");
        assert_eq!(point.to_string(), "SP-210521-0031");
        assert_eq!(ServicePointId::parse("SP-210521-0031"), Ok(point));
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "",
            "EC-210502-7",
            "EC-210502-0000",
            "SP-210502-0001",
            "EC-210500-0001",
            "EC-210502001-0001",
            "EC-2105a2-0001",
            "EC-210502-0001-1",
        ] {
            assert!(InstitutionId::parse(bad).is_err(), "{bad}");
        }
        assert!(ElderId::parse(&"0a".repeat(16)).is_ok());
        assert!(ElderId::parse(&"0A".repeat(16)).is_err());
        assert!(ElderId::parse(&"0a".repeat(15)).is_err());
    }
}
