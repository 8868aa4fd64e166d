//! The ids of the child-welfare service. None carries personal data; each keys a stream.
//!
//! | what | form | example | stream |
//! |---|---|---|---|
//! | a child | pseudonym of the citizen id: 32 lowercase hex digits | `5f0c…` | `child-…` |
//! | a protection case | 32 lowercase hex digits the service draws (or derives from the alert that opened it) | `9b1e…` | `protection_case-…` |
//!
//! Allowance standards are stream `allowance_policy-<city code>` and a child director's or
//! supervisor's post `child_post-<division code>`: region codes key them. A child's pseudonym is
//! a keyed hash of their citizen id number that only the service can compute
//! ([`minzheng_kit::pseudonym`]), in the platform's "person" domain, so the citizens' audit
//! trail finds this service's reads of them.

use std::fmt;

/// The pseudonym domain of children's streams (the platform's person pseudonym).
pub const PERSON_DOMAIN: &str = "person";

/// The pseudonym domain that turns a data-sharing alert's id into the id of the case it opens,
/// so an alert delivered twice opens one case.
pub const ALERT_CASE_DOMAIN: &str = "childwelfare-alert-case";

/// Length of the ids in hex digits (128 bits).
pub const HEX_ID_LEN: usize = 32;

/// Why a text is not one of the ids.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be {HEX_ID_LEN} lowercase hexadecimal digits")]
pub struct FormError;

macro_rules! hex_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn parse(input: &str) -> Result<Self, FormError> {
                let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
                if input.len() == HEX_ID_LEN && input.bytes().all(hex) {
                    Ok(Self(input.to_owned()))
                } else {
                    Err(FormError)
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        minzheng_types::stream_key!($name);
    };
}

hex_id!(
    /// A child: the pseudonym of their citizen id number.
    ChildId
);
hex_id!(
    /// A protection case.
    CaseId
);

impl CaseId {
    /// A new case id, drawn at random.
    pub fn draw() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_lowercase_hex_digits() {
        assert!(ChildId::parse(&"0a".repeat(16)).is_ok());
        assert!(ChildId::parse(&"0A".repeat(16)).is_err());
        assert!(CaseId::parse(&"0a".repeat(15)).is_err());
        assert!(CaseId::parse(CaseId::draw().as_str()).is_ok());
    }
}
