//! Identity checks (身份核验) recorded as facts, and the parties they concern.
//!
//! The plan (ch. 5 §5) asks registries to use face recognition, e-signatures and information
//! comparison (人脸识别、电子签名、信息比对). The registry's devices make the checks; this service
//! records what was checked, how, and the result, and a registration needs every party to have
//! passed all three kinds of check: [`require_passed`].

use minzheng_types::{BoundedText, CitizenId};

/// Longest description of a check's method, in characters.
pub const METHOD_MAX_CHARS: usize = 100;
/// Longest name of a party, in characters.
pub const NAME_MAX_CHARS: usize = 50;

/// What kind of check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// 身份证件核验: the document was read and checked.
    IdDocument,
    /// 人脸识别比对: the face was compared with the document's photo.
    FaceComparison,
    /// 电子签名: the person signed electronically.
    ESignature,
}

impl Kind {
    /// Every kind, each of which a registration needs from every party.
    pub const ALL: [Kind; 3] = [Kind::IdDocument, Kind::FaceComparison, Kind::ESignature];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::IdDocument => "id_document",
            Kind::FaceComparison => "face_comparison",
            Kind::ESignature => "e_signature",
        }
    }
}

/// The result of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
}

/// One check of one party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub party: CitizenId,
    pub kind: Kind,
    /// The device or service that made it.
    pub method: BoundedText,
    pub outcome: Outcome,
    /// The comparison score in thousandths (0–1000) for a face comparison; 0 otherwise.
    pub score_permille: u16,
}

/// A party to a marriage or a divorce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub citizen: CitizenId,
    pub name: BoundedText,
}

/// A check a registration needs but did not get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("party {party} has no passed {} check", kind.as_str())]
pub struct MissingVerification {
    /// The party's position among the parties (1-based), never their id number.
    pub party: usize,
    pub kind: Kind,
}

/// Every one of `parties` must have passed every kind of check in `verifications` (a failed
/// check followed by a passed one of the same kind is fine: the passed one counts).
pub fn require_passed(
    verifications: &[Verification],
    parties: &[&CitizenId],
) -> Result<(), MissingVerification> {
    for (index, party) in parties.iter().enumerate() {
        for kind in Kind::ALL {
            let passed = verifications
                .iter()
                .any(|v| &v.party == *party && v.kind == kind && v.outcome == Outcome::Passed);
            if !passed {
                return Err(MissingVerification {
                    party: index + 1,
                    kind,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn citizen(number: &str) -> CitizenId {
        CitizenId::parse(number).expect("test ids are valid")
    }

    pub(crate) fn text(s: &str) -> BoundedText {
        BoundedText::parse(s, 500).expect("test texts are valid")
    }

    /// The three passed checks of one party.
    pub(crate) fn passed(party: &CitizenId) -> Vec<Verification> {
        Kind::ALL
            .into_iter()
            .map(|kind| Verification {
                party: party.clone(),
                kind,
                method: text("本溪市婚姻登记系统"),
                outcome: Outcome::Passed,
                score_permille: if kind == Kind::FaceComparison { 962 } else { 0 },
            })
            .collect()
    }

    #[test]
    fn every_party_needs_every_kind_passed() {
        let a = citizen("11010519491231002X");
        let b = citizen("110105195001010012");
        let mut checks = passed(&a);
        checks.extend(passed(&b));
        assert_eq!(require_passed(&checks, &[&a, &b]), Ok(()));

        let without_face: Vec<_> = checks
            .iter()
            .filter(|v| !(v.party == b && v.kind == Kind::FaceComparison))
            .cloned()
            .collect();
        assert_eq!(
            require_passed(&without_face, &[&a, &b]),
            Err(MissingVerification {
                party: 2,
                kind: Kind::FaceComparison
            })
        );

        let mut failed = without_face.clone();
        failed.push(Verification {
            outcome: Outcome::Failed,
            ..checks[4].clone()
        });
        assert!(require_passed(&failed, &[&a, &b]).is_err());
        failed.push(checks[4].clone());
        assert_eq!(require_passed(&failed, &[&a, &b]), Ok(()));
    }
}
