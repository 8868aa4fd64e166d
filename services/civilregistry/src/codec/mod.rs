//! The event codec: each domain event to its protobuf message in
//! `proto/minzheng/civilregistry/v1/events.proto` and back, one submodule per area. This is the
//! only part of the domain crate that sees prost types; [`assistance`] decodes the assistance
//! service's events (`proto/minzheng/assistance/v1/events.proto`) that the funeral fee waiver
//! follows.
//!
//! Encoding cannot fail. Decoding parses every value again through
//! [`minzheng_host::decode::Decoder`], so a stored event that does not describe a valid domain
//! value is an error rather than a state no command could have produced.

pub mod appointments;
pub mod assistance;
pub mod deaths;
pub mod divorces;
pub mod registrations;

use minzheng_host::decode::Decoder;
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::civilregistry::v1 as pb;

use crate::verification::{Kind, Outcome, Party, Verification};

/// The schema version every event of this service is written in.
pub const SCHEMA_VERSION: u32 = 1;

/// The protobuf package of the service's events; an event's stored type is
/// `<PACKAGE>.<message name>`.
pub const PACKAGE: &str = "minzheng.civilregistry.v1";

pub(crate) fn verification_to_pb(v: &Verification) -> pb::Verification {
    pb::Verification {
        party: Some(minzheng_proto::common::v1::CitizenRef {
            citizen_id: v.party.expose().to_owned(),
        }),
        kind: match v.kind {
            Kind::IdDocument => pb::VerificationKind::IdDocument,
            Kind::FaceComparison => pb::VerificationKind::FaceComparison,
            Kind::ESignature => pb::VerificationKind::ESignature,
        }
        .into(),
        method: v.method.as_str().to_owned(),
        outcome: match v.outcome {
            Outcome::Passed => pb::VerificationOutcome::Passed,
            Outcome::Failed => pb::VerificationOutcome::Failed,
        }
        .into(),
        score_permille: u32::from(v.score_permille),
    }
}

pub(crate) fn verification_from_pb(
    d: &Decoder<'_>,
    v: &pb::Verification,
) -> Result<Verification, CodecError> {
    let kind = match pb::VerificationKind::try_from(v.kind) {
        Ok(pb::VerificationKind::IdDocument) => Kind::IdDocument,
        Ok(pb::VerificationKind::FaceComparison) => Kind::FaceComparison,
        Ok(pb::VerificationKind::ESignature) => Kind::ESignature,
        Ok(pb::VerificationKind::Unspecified) | Err(_) => {
            return Err(d.invalid("verification kind is not a known kind"));
        }
    };
    let outcome = match pb::VerificationOutcome::try_from(v.outcome) {
        Ok(pb::VerificationOutcome::Passed) => Outcome::Passed,
        Ok(pb::VerificationOutcome::Failed) => Outcome::Failed,
        Ok(pb::VerificationOutcome::Unspecified) | Err(_) => {
            return Err(d.invalid("verification outcome is not a known outcome"));
        }
    };
    let score_permille = u16::try_from(v.score_permille)
        .ok()
        .filter(|s| *s <= 1000)
        .ok_or_else(|| d.invalid("verification score must be 0 to 1000"))?;
    Ok(Verification {
        party: d.citizen("verification.party", &v.party)?,
        kind,
        method: d.text("verification.method", &v.method)?,
        outcome,
        score_permille,
    })
}

pub(crate) fn verifications_from_pb(
    d: &Decoder<'_>,
    verifications: &[pb::Verification],
) -> Result<Vec<Verification>, CodecError> {
    verifications
        .iter()
        .map(|v| verification_from_pb(d, v))
        .collect()
}

pub(crate) fn party_to_pb(p: &Party) -> pb::Party {
    pb::Party {
        citizen: Some(minzheng_proto::common::v1::CitizenRef {
            citizen_id: p.citizen.expose().to_owned(),
        }),
        name: p.name.as_str().to_owned(),
    }
}

/// Exactly two parties.
pub(crate) fn two_parties_from_pb(
    d: &Decoder<'_>,
    parties: &[pb::Party],
) -> Result<[Party; 2], CodecError> {
    let parse = |p: &pb::Party| -> Result<Party, CodecError> {
        Ok(Party {
            citizen: d.citizen("party.citizen", &p.citizen)?,
            name: d.text("party.name", &p.name)?,
        })
    };
    match parties {
        [a, b] => Ok([parse(a)?, parse(b)?]),
        _ => Err(d.invalid(format!("must have 2 parties, has {}", parties.len()))),
    }
}

/// A citizen id as its message.
pub(crate) fn citizen_ref(
    citizen: &minzheng_types::CitizenId,
) -> minzheng_proto::common::v1::CitizenRef {
    minzheng_proto::common::v1::CitizenRef {
        citizen_id: citizen.expose().to_owned(),
    }
}
