//! Pseudonyms: stable keys for a person's streams that carry no personal data.
//!
//! Stream keys end up in logs, traces and CloudEvents headers, so they must never be a citizen
//! id number (see `minzheng_eventstore::StreamId`). A [`Pseudonymizer`] turns a number into
//! `HMAC-SHA256(key, number)`, truncated to 128 bits and written as 32 lowercase hex digits. The
//! same number always gives the same pseudonym under one key, so a service finds a person's
//! stream again; without the key nobody can compute it, and a plain hash would not do — the
//! numbers are few enough (region, birth date, sequence) to hash them all.
//!
//! The key is a secret of the deployment (for the civil registry `MZ_CIVILREGISTRY__PSEUDONYM_KEY`; `minzheng dev` keeps one under
//! its data directory). Changing it makes every existing person stream unreachable: it is set
//! once, like a database password that can never be rotated without a migration.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use minzheng_types::CitizenId;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// Shortest accepted key, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// Why a key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the pseudonym key must be at least {MIN_KEY_BYTES} bytes long")]
    TooShort,
}

/// Computes pseudonyms under one secret key; cheap to clone.
#[derive(Clone)]
pub struct Pseudonymizer {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pseudonymizer(<key redacted>)")
    }
}

impl Pseudonymizer {
    pub fn new(key: &SecretString) -> Result<Self, KeyError> {
        let bytes = key.expose_secret().as_bytes();
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort);
        }
        let mac = Hmac::<Sha256>::new_from_slice(bytes).map_err(|_| KeyError::TooShort)?;
        Ok(Self { mac })
    }

    /// The pseudonym of `citizen` in `domain` (e.g. `"person"`): 32 lowercase hex digits. The
    /// domain separates uses, so two kinds of stream keyed by the same person do not share a
    /// key by accident.
    pub fn of(&self, domain: &str, citizen: &CitizenId) -> String {
        self.of_text(domain, citizen.expose())
    }

    /// The pseudonym of any `text` that may carry personal data and must still key a stream,
    /// e.g. an archive reference a clerk typed: the same text gives the same pseudonym (so the
    /// record is found again and a repeat is detected), and nothing of the text shows. The
    /// caller normalises the text first, so spellings of one reference meet.
    pub fn of_text(&self, domain: &str, text: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(domain.as_bytes());
        mac.update(b"\0");
        mac.update(text.as_bytes());
        let digest = mac.finalize().into_bytes();
        digest[..16]
            .iter()
            .fold(String::with_capacity(32), |mut hex, byte| {
                use fmt::Write as _;
                let _ = write!(hex, "{byte:02x}");
                hex
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    #[test]
    fn pseudonyms_are_stable_keyed_and_reveal_nothing() {
        let citizen = CitizenId::parse("11010519491231002X").expect("valid");
        let other = CitizenId::parse("110105195001010012").expect("valid");
        let a = Pseudonymizer::new(&key(&"k".repeat(32))).expect("long enough");
        let b = Pseudonymizer::new(&key(&"j".repeat(32))).expect("long enough");
        let p = a.of("person", &citizen);
        assert_eq!(p.len(), 32);
        assert!(
            p.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        assert_eq!(p, a.of("person", &citizen));
        assert_ne!(p, a.of("person", &other));
        assert_ne!(p, b.of("person", &citizen));
        assert_ne!(p, a.of("death", &citizen));
        assert_eq!(p, a.of_text("person", "11010519491231002X"));
        assert_ne!(a.of_text("archive", "BX-1"), a.of_text("person", "BX-1"));
        assert!(!p.contains("1949"));
        assert!(!format!("{a:?}").contains("kkkk"));
        assert_eq!(
            Pseudonymizer::new(&key("short")).map(|_| ()),
            Err(KeyError::TooShort)
        );
    }
}
