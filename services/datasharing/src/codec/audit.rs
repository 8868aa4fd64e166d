//! Every service's read audit (`proto/minzheng/audit/v1/events.proto`) as this service collects
//! it: the [`AuditEvents`] contract, into [`Access`]. Other event types are `None`.

use minzheng_host::{codec::FromMessage, decode::Decoder};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::audit::v1 as pb;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy)]
pub struct AuditEvents;

/// How a read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Refused,
    Failed,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }

    pub fn from_code(code: &str) -> Outcome {
        match code {
            "allowed" => Outcome::Allowed,
            "refused" => Outcome::Refused,
            _ => Outcome::Failed,
        }
    }

    pub fn to_pb(self) -> i32 {
        match self {
            Outcome::Allowed => pb::AccessOutcome::Allowed,
            Outcome::Refused => pb::AccessOutcome::Refused,
            Outcome::Failed => pb::AccessOutcome::Failed,
        }
        .into()
    }
}

/// One recorded read: who, how, and the persons read (by pseudonym).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub method: String,
    pub actor: String,
    pub roles: Vec<String>,
    pub agency: String,
    pub purpose: String,
    /// The persons' pseudonyms.
    pub persons: Vec<String>,
    pub outcome: Outcome,
    pub accessed_at_micros: i64,
    pub trace_id: String,
}

minzheng_host::contract! {
    AuditEvents => Access, schema_version = SCHEMA_VERSION;
    pb::PersonalDataAccessed,
}

impl FromMessage<pb::PersonalDataAccessed> for Access {
    fn from_message(m: pb::PersonalDataAccessed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let outcome = match pb::AccessOutcome::try_from(m.outcome) {
            Ok(pb::AccessOutcome::Allowed) => Outcome::Allowed,
            Ok(pb::AccessOutcome::Refused) => Outcome::Refused,
            Ok(pb::AccessOutcome::Failed) => Outcome::Failed,
            _ => return Err(d.invalid("outcome is not a known outcome")),
        };
        let accessed_at = m
            .accessed_at
            .as_ref()
            .ok_or_else(|| d.invalid("accessed_at: must be given"))?;
        Ok(Access {
            method: m.method,
            actor: m.actor,
            roles: m.roles,
            agency: m.agency,
            purpose: m.purpose,
            persons: m
                .records
                .into_iter()
                .filter(|r| r.kind == "person")
                .map(|r| r.id)
                .collect(),
            outcome,
            accessed_at_micros: super::micros(accessed_at),
            trace_id: m.trace_id,
        })
    }
}
