//! Sealing the identity of a person who made a mandatory report (强制报告的报告人): the 2020
//! opinion on mandatory reporting requires it kept confidential, so it is encrypted before the
//! opening event is written, and only this service, holding the reporter key, can open it.
//! Events on the bus, the data-sharing service's copies and backups carry only the sealed bytes.
//!
//! The key is derived with HKDF-SHA256 from the `reporter_key` setting
//! (`MZ_CHILDWELFARE__REPORTER_KEY`, at least 32 bytes). The identity is encoded as
//! `minzheng.childwelfare.v1.ReporterIdentity` ([`crate::codec::protection`]) and sealed with AES-256-GCM under a random
//! 96-bit nonce, with the case id as associated data, so a sealed identity copied into another
//! case does not open. Layout: one format byte (1), the nonce, the ciphertext and its tag.

use ring::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    hkdf,
    rand::{SecureRandom as _, SystemRandom},
};
use secrecy::{ExposeSecret as _, SecretString};

use crate::{
    codec::protection::{reporter_from_bytes, reporter_to_bytes},
    ids::CaseId,
    protection::{Reporter, SealedReporter},
};

/// The shortest reporter key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// The format byte of the sealed layout.
const FORMAT: u8 = 1;

/// The HKDF info that separates this key from any other use of the same secret.
const KEY_INFO: &[u8] = b"minzheng childwelfare reporter identity v1";

/// Why a sealer could not be made or a sealed identity not opened. No message carries personal
/// data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the reporter key must be at least {MIN_KEY_BYTES} bytes long")]
    ShortKey,
    #[error("the sealed reporter does not open with this service's key for this case")]
    DoesNotOpen,
    #[error("the opened reporter identity is malformed")]
    Malformed,
    #[error("the system's random source failed")]
    Random,
}

/// Seals and opens reporters' identities; cheap to clone.
#[derive(Clone)]
pub struct ReporterSealer {
    key: std::sync::Arc<LessSafeKey>,
    random: SystemRandom,
}

impl std::fmt::Debug for ReporterSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReporterSealer(<key>)")
    }
}

struct KeyLength;

impl hkdf::KeyType for KeyLength {
    fn len(&self) -> usize {
        AES_256_GCM.key_len()
    }
}

impl ReporterSealer {
    pub fn new(secret: &SecretString) -> Result<Self, SealError> {
        let secret = secret.expose_secret().as_bytes();
        if secret.len() < MIN_KEY_BYTES {
            return Err(SealError::ShortKey);
        }
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &[]).extract(secret);
        let mut bytes = [0u8; 32];
        prk.expand(&[KEY_INFO], KeyLength)
            .and_then(|okm| okm.fill(&mut bytes))
            .map_err(|_| SealError::ShortKey)?;
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| SealError::ShortKey)?;
        Ok(Self {
            key: std::sync::Arc::new(LessSafeKey::new(key)),
            random: SystemRandom::new(),
        })
    }

    /// `reporter`, sealed for `case`.
    pub fn seal(&self, case: &CaseId, reporter: &Reporter) -> Result<SealedReporter, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| SealError::Random)?;
        let mut in_out = reporter_to_bytes(reporter);
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(case.as_str().as_bytes()),
                &mut in_out,
            )
            .map_err(|_| SealError::Random)?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        sealed.push(FORMAT);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&in_out);
        Ok(SealedReporter::from_bytes(sealed))
    }

    /// The identity sealed in `sealed` for `case`.
    pub fn open(&self, case: &CaseId, sealed: &SealedReporter) -> Result<Reporter, SealError> {
        let bytes = sealed.as_bytes();
        let (&format, rest) = bytes.split_first().ok_or(SealError::DoesNotOpen)?;
        if format != FORMAT || rest.len() < NONCE_LEN {
            return Err(SealError::DoesNotOpen);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::DoesNotOpen)?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(case.as_str().as_bytes()), &mut in_out)
            .map_err(|_| SealError::DoesNotOpen)?;
        reporter_from_bytes(plain).ok_or(SealError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use minzheng_types::BoundedText;

    use super::*;
    use crate::protection::NOTE_MAX_CHARS;

    fn sealer(key: &str) -> ReporterSealer {
        ReporterSealer::new(&SecretString::from(key.to_owned())).expect("long enough")
    }

    fn reporter() -> Reporter {
        let text = |s: &str| BoundedText::parse(s, NOTE_MAX_CHARS).expect("valid");
        Reporter {
            name: text("王报告人"),
            phone: Some(text("13900001111")),
            organisation: None,
            role: text("班主任"),
        }
    }

    fn case(c: char) -> CaseId {
        CaseId::parse(&c.to_string().repeat(32)).expect("valid")
    }

    #[test]
    fn a_sealed_reporter_opens_only_with_the_key_and_for_its_case() {
        let key = "k".repeat(32);
        let sealed = sealer(&key).seal(&case('a'), &reporter()).expect("sealed");
        let plain = "王报告人".as_bytes();
        assert!(
            !sealed.as_bytes().windows(plain.len()).any(|w| w == plain),
            "the name is not in the sealed bytes"
        );
        assert_eq!(sealer(&key).open(&case('a'), &sealed), Ok(reporter()));
        assert_eq!(
            sealer(&key).open(&case('b'), &sealed),
            Err(SealError::DoesNotOpen)
        );
        assert_eq!(
            sealer(&"x".repeat(32)).open(&case('a'), &sealed),
            Err(SealError::DoesNotOpen)
        );
        let mut tampered = sealed.as_bytes().to_vec();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(
            sealer(&key).open(&case('a'), &SealedReporter::from_bytes(tampered)),
            Err(SealError::DoesNotOpen)
        );
    }

    #[test]
    fn two_seals_of_one_reporter_differ_and_short_keys_are_refused() {
        let s = sealer(&"k".repeat(32));
        let one = s.seal(&case('a'), &reporter()).expect("sealed");
        let two = s.seal(&case('a'), &reporter()).expect("sealed");
        assert_ne!(one, two, "a fresh nonce each time");
        assert_eq!(
            ReporterSealer::new(&SecretString::from("k".repeat(31))).err(),
            Some(SealError::ShortKey)
        );
    }
}
