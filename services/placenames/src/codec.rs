//! The event codec: each domain event to its protobuf message in
//! `proto/minzheng/placenames/v1/events.proto` and back. This is the only module of the domain
//! crate that sees prost types.
//!
//! Encoding cannot fail. Decoding parses every value again (codes, dates, names, ids), so a
//! stored event that does not describe a valid domain value is reported as
//! [`CodecError::Invalid`] instead of producing a state no command could have produced. Text is
//! decoded with a generous limit ([`STORED_TEXT_MAX_CHARS`]) rather than the limits the request
//! edge applies, so that tightening an edge limit never makes stored history unreadable.

use bytes::Bytes;
use minzheng_kit::aggregate::{CodecError, EventCodec};
use minzheng_proto::{common::v1 as common, convert, placenames::v1 as pb};
use minzheng_types::{BoundedText, RegionCode};
use prost::Message;
use time::Date;

use crate::{
    AdjustmentId, PlaceNameId,
    adjustment::{self, DivisionRef, Kind, Renaming, ReviewKind, Supersession, TownshipType},
    division,
    placename::{self, PlaceKind},
};

/// The longest text a stored event may carry, in characters.
pub const STORED_TEXT_MAX_CHARS: usize = 100_000;

const SCHEMA_VERSION: u32 = 1;

/// Full protobuf names of the event messages, which are the stored event types.
pub mod event_types {
    pub const DIVISION_RECORDED: &str = "minzheng.placenames.v1.DivisionRecorded";
    pub const DIVISION_RENAMED: &str = "minzheng.placenames.v1.DivisionRenamed";
    pub const DIVISION_SUPERSEDED: &str = "minzheng.placenames.v1.DivisionSuperseded";
    pub const ADJUSTMENT_PROPOSED: &str = "minzheng.placenames.v1.AdjustmentProposed";
    pub const ADJUSTMENT_REVIEW_RECORDED: &str = "minzheng.placenames.v1.AdjustmentReviewRecorded";
    pub const ADJUSTMENT_APPROVED: &str = "minzheng.placenames.v1.AdjustmentApproved";
    pub const ADJUSTMENT_REJECTED: &str = "minzheng.placenames.v1.AdjustmentRejected";
    pub const ADJUSTMENT_TOOK_EFFECT: &str = "minzheng.placenames.v1.AdjustmentTookEffect";
    pub const PLACE_NAME_PROPOSED: &str = "minzheng.placenames.v1.PlaceNameProposed";
    pub const PLACE_NAME_EVALUATED: &str = "minzheng.placenames.v1.PlaceNameEvaluated";
    pub const PLACE_NAME_COMMENT_PERIOD_OPENED: &str =
        "minzheng.placenames.v1.PlaceNameCommentPeriodOpened";
    pub const PLACE_NAME_COMMENT_RECORDED: &str = "minzheng.placenames.v1.PlaceNameCommentRecorded";
    pub const PLACE_NAME_COMMENT_PERIOD_CLOSED: &str =
        "minzheng.placenames.v1.PlaceNameCommentPeriodClosed";
    pub const PLACE_NAME_APPROVED: &str = "minzheng.placenames.v1.PlaceNameApproved";
    pub const PLACE_NAME_REJECTED: &str = "minzheng.placenames.v1.PlaceNameRejected";
    pub const PLACE_NAME_PUBLISHED: &str = "minzheng.placenames.v1.PlaceNamePublished";
    pub const PLACE_NAME_RETIRED: &str = "minzheng.placenames.v1.PlaceNameRetired";
    pub const BOUNDARY_RECORDED: &str = "minzheng.placenames.v1.BoundaryRecorded";
    pub const INSPECTION_ROUND_STARTED: &str = "minzheng.placenames.v1.InspectionRoundStarted";
    pub const INSPECTION_FINDING_RECORDED: &str =
        "minzheng.placenames.v1.InspectionFindingRecorded";
    pub const INSPECTION_FINDING_RESOLVED: &str =
        "minzheng.placenames.v1.InspectionFindingResolved";
    pub const INSPECTION_ROUND_COMPLETED: &str = "minzheng.placenames.v1.InspectionRoundCompleted";
    pub const SIGN_INSTALLED: &str = "minzheng.placenames.v1.SignInstalled";
    pub const SIGN_INSPECTED: &str = "minzheng.placenames.v1.SignInspected";
    pub const SIGN_REPLACED: &str = "minzheng.placenames.v1.SignReplaced";
    pub const SIGN_REMOVED: &str = "minzheng.placenames.v1.SignRemoved";
}

use event_types::*;

impl EventCodec for division::Event {
    fn event_type(&self) -> &'static str {
        match self {
            division::Event::Recorded(_) => DIVISION_RECORDED,
            division::Event::Renamed(_) => DIVISION_RENAMED,
            division::Event::Superseded(_) => DIVISION_SUPERSEDED,
        }
    }

    fn encode(&self) -> Bytes {
        let bytes = match self {
            division::Event::Recorded(e) => pb::DivisionRecorded {
                code: Some(e.code.into()),
                name: e.name.as_str().to_owned(),
                level: common::RegionLevel::from(e.code.level()).into(),
                parent: e.parent.map(Into::into),
                valid_from: Some(e.valid_from.into()),
                adjustment_id: e
                    .adjustment
                    .as_ref()
                    .map(|id| id.as_str().to_owned())
                    .unwrap_or_default(),
            }
            .encode_to_vec(),
            division::Event::Renamed(e) => pb::DivisionRenamed {
                code: Some(e.code.into()),
                previous_name: e.previous_name.as_str().to_owned(),
                name: e.name.as_str().to_owned(),
                effective_on: Some(e.effective_on.into()),
                adjustment_id: e.adjustment.as_str().to_owned(),
            }
            .encode_to_vec(),
            division::Event::Superseded(e) => pb::DivisionSuperseded {
                code: Some(e.code.into()),
                successors: e.successors.iter().map(|&c| c.into()).collect(),
                valid_to: Some(e.valid_to.into()),
                adjustment_id: e.adjustment.as_str().to_owned(),
            }
            .encode_to_vec(),
        };
        Bytes::from(bytes)
    }

    fn decode(event_type: &str, schema_version: u32, payload: &[u8]) -> Result<Self, CodecError> {
        let d = Decoder::new(event_type, schema_version)?;
        match event_type {
            DIVISION_RECORDED => {
                let m: pb::DivisionRecorded = d.message(payload)?;
                let code = d.code("code", &m.code)?;
                let level = common::RegionLevel::from(code.level());
                if m.level != i32::from(level) {
                    return Err(d.invalid("level does not match the code"));
                }
                let parent = m
                    .parent
                    .as_ref()
                    .map(|p| d.code("parent", &Some(p.clone())))
                    .transpose()?;
                Ok(division::Event::Recorded(division::Recorded {
                    code,
                    name: d.text("name", &m.name)?,
                    parent,
                    valid_from: d.date("valid_from", &m.valid_from)?,
                    adjustment: (!m.adjustment_id.is_empty())
                        .then(|| d.id(&m.adjustment_id))
                        .transpose()?,
                }))
            }
            DIVISION_RENAMED => {
                let m: pb::DivisionRenamed = d.message(payload)?;
                Ok(division::Event::Renamed(division::Renamed {
                    code: d.code("code", &m.code)?,
                    previous_name: d.text("previous_name", &m.previous_name)?,
                    name: d.text("name", &m.name)?,
                    effective_on: d.date("effective_on", &m.effective_on)?,
                    adjustment: d.id(&m.adjustment_id)?,
                }))
            }
            DIVISION_SUPERSEDED => {
                let m: pb::DivisionSuperseded = d.message(payload)?;
                Ok(division::Event::Superseded(division::Superseded {
                    code: d.code("code", &m.code)?,
                    successors: d.codes("successors", &m.successors)?,
                    valid_to: d.date("valid_to", &m.valid_to)?,
                    adjustment: d.id(&m.adjustment_id)?,
                }))
            }
            other => Err(CodecError::UnknownType(other.to_owned())),
        }
    }
}

impl EventCodec for adjustment::Event {
    fn event_type(&self) -> &'static str {
        match self {
            adjustment::Event::Proposed(_) => ADJUSTMENT_PROPOSED,
            adjustment::Event::ReviewRecorded(_) => ADJUSTMENT_REVIEW_RECORDED,
            adjustment::Event::Approved(_) => ADJUSTMENT_APPROVED,
            adjustment::Event::Rejected(_) => ADJUSTMENT_REJECTED,
            adjustment::Event::TookEffect(_) => ADJUSTMENT_TOOK_EFFECT,
        }
    }

    fn encode(&self) -> Bytes {
        let bytes = match self {
            adjustment::Event::Proposed(e) => {
                let (kind, from_type, to_type) = match e.kind {
                    Kind::Rename => (pb::AdjustmentKind::Rename, None, None),
                    Kind::Merge => (pb::AdjustmentKind::Merge, None, None),
                    Kind::Split => (pb::AdjustmentKind::Split, None, None),
                    Kind::Recode => (pb::AdjustmentKind::Recode, None, None),
                    Kind::ChangeType { from, to } => {
                        (pb::AdjustmentKind::ChangeType, Some(from), Some(to))
                    }
                };
                let township_type = |t: Option<TownshipType>| -> i32 {
                    match t {
                        None => pb::TownshipType::Unspecified,
                        Some(TownshipType::Township) => pb::TownshipType::Township,
                        Some(TownshipType::Town) => pb::TownshipType::Town,
                        Some(TownshipType::Subdistrict) => pb::TownshipType::Subdistrict,
                    }
                    .into()
                };
                pb::AdjustmentProposed {
                    adjustment_id: e.id.as_str().to_owned(),
                    kind: kind.into(),
                    before: e.before.iter().map(division_ref).collect(),
                    after: e.after.iter().map(division_ref).collect(),
                    justification: e.justification.as_str().to_owned(),
                    proposed_on: Some(e.proposed_on.into()),
                    from_type: township_type(from_type),
                    to_type: township_type(to_type),
                }
                .encode_to_vec()
            }
            adjustment::Event::ReviewRecorded(e) => pb::AdjustmentReviewRecorded {
                adjustment_id: e.id.as_str().to_owned(),
                review: match e.review {
                    ReviewKind::Expert => pb::ReviewKind::Expert,
                    ReviewKind::Risk => pb::ReviewKind::Risk,
                    ReviewKind::PublicOpinion => pb::ReviewKind::PublicOpinion,
                }
                .into(),
                favourable: e.favourable,
                summary: e.summary.as_str().to_owned(),
                recorded_on: Some(e.recorded_on.into()),
            }
            .encode_to_vec(),
            adjustment::Event::Approved(e) => pb::AdjustmentApproved {
                adjustment_id: e.id.as_str().to_owned(),
                approved_on: Some(e.approved_on.into()),
                approval_reference: e.reference.as_str().to_owned(),
            }
            .encode_to_vec(),
            adjustment::Event::Rejected(e) => pb::AdjustmentRejected {
                adjustment_id: e.id.as_str().to_owned(),
                rejected_on: Some(e.rejected_on.into()),
                reason: e.reason.as_str().to_owned(),
            }
            .encode_to_vec(),
            adjustment::Event::TookEffect(e) => pb::AdjustmentTookEffect {
                adjustment_id: e.id.as_str().to_owned(),
                effective_on: Some(e.effective_on.into()),
                superseded: e
                    .superseded
                    .iter()
                    .map(|s| pb::Supersession {
                        code: Some(s.code.into()),
                        successors: s.successors.iter().map(|&c| c.into()).collect(),
                        valid_to: Some(s.valid_to.into()),
                    })
                    .collect(),
                established: e.established.iter().map(division_ref).collect(),
                renamed: e
                    .renamed
                    .iter()
                    .map(|r| pb::Renaming {
                        code: Some(r.code.into()),
                        previous_name: r.previous_name.as_str().to_owned(),
                        name: r.name.as_str().to_owned(),
                    })
                    .collect(),
            }
            .encode_to_vec(),
        };
        Bytes::from(bytes)
    }

    fn decode(event_type: &str, schema_version: u32, payload: &[u8]) -> Result<Self, CodecError> {
        let d = Decoder::new(event_type, schema_version)?;
        match event_type {
            ADJUSTMENT_PROPOSED => {
                let m: pb::AdjustmentProposed = d.message(payload)?;
                let kind = match pb::AdjustmentKind::try_from(m.kind) {
                    Ok(pb::AdjustmentKind::Rename) => Kind::Rename,
                    Ok(pb::AdjustmentKind::Merge) => Kind::Merge,
                    Ok(pb::AdjustmentKind::Split) => Kind::Split,
                    Ok(pb::AdjustmentKind::Recode) => Kind::Recode,
                    Ok(pb::AdjustmentKind::ChangeType) => Kind::ChangeType {
                        from: d.township_type("from_type", m.from_type)?,
                        to: d.township_type("to_type", m.to_type)?,
                    },
                    Ok(pb::AdjustmentKind::Unspecified) | Err(_) => {
                        return Err(d.invalid("kind is not a known adjustment kind"));
                    }
                };
                Ok(adjustment::Event::Proposed(adjustment::Proposed {
                    id: d.id(&m.adjustment_id)?,
                    kind,
                    before: d.division_refs("before", &m.before)?,
                    after: d.division_refs("after", &m.after)?,
                    justification: d.text("justification", &m.justification)?,
                    proposed_on: d.date("proposed_on", &m.proposed_on)?,
                }))
            }
            ADJUSTMENT_REVIEW_RECORDED => {
                let m: pb::AdjustmentReviewRecorded = d.message(payload)?;
                let review = match pb::ReviewKind::try_from(m.review) {
                    Ok(pb::ReviewKind::Expert) => ReviewKind::Expert,
                    Ok(pb::ReviewKind::Risk) => ReviewKind::Risk,
                    Ok(pb::ReviewKind::PublicOpinion) => ReviewKind::PublicOpinion,
                    Ok(pb::ReviewKind::Unspecified) | Err(_) => {
                        return Err(d.invalid("review is not a known review kind"));
                    }
                };
                Ok(adjustment::Event::ReviewRecorded(
                    adjustment::ReviewRecorded {
                        id: d.id(&m.adjustment_id)?,
                        review,
                        favourable: m.favourable,
                        summary: d.text("summary", &m.summary)?,
                        recorded_on: d.date("recorded_on", &m.recorded_on)?,
                    },
                ))
            }
            ADJUSTMENT_APPROVED => {
                let m: pb::AdjustmentApproved = d.message(payload)?;
                Ok(adjustment::Event::Approved(adjustment::Approved {
                    id: d.id(&m.adjustment_id)?,
                    approved_on: d.date("approved_on", &m.approved_on)?,
                    reference: d.text("approval_reference", &m.approval_reference)?,
                }))
            }
            ADJUSTMENT_REJECTED => {
                let m: pb::AdjustmentRejected = d.message(payload)?;
                Ok(adjustment::Event::Rejected(adjustment::Rejected {
                    id: d.id(&m.adjustment_id)?,
                    rejected_on: d.date("rejected_on", &m.rejected_on)?,
                    reason: d.text("reason", &m.reason)?,
                }))
            }
            ADJUSTMENT_TOOK_EFFECT => {
                let m: pb::AdjustmentTookEffect = d.message(payload)?;
                let superseded = m
                    .superseded
                    .iter()
                    .map(|s| {
                        Ok(Supersession {
                            code: d.code("superseded.code", &s.code)?,
                            successors: d.codes("superseded.successors", &s.successors)?,
                            valid_to: d.date("superseded.valid_to", &s.valid_to)?,
                        })
                    })
                    .collect::<Result<_, CodecError>>()?;
                let renamed = m
                    .renamed
                    .iter()
                    .map(|r| {
                        Ok(Renaming {
                            code: d.code("renamed.code", &r.code)?,
                            previous_name: d.text("renamed.previous_name", &r.previous_name)?,
                            name: d.text("renamed.name", &r.name)?,
                        })
                    })
                    .collect::<Result<_, CodecError>>()?;
                Ok(adjustment::Event::TookEffect(adjustment::TookEffect {
                    id: d.id(&m.adjustment_id)?,
                    effective_on: d.date("effective_on", &m.effective_on)?,
                    superseded,
                    established: d.division_refs("established", &m.established)?,
                    renamed,
                }))
            }
            other => Err(CodecError::UnknownType(other.to_owned())),
        }
    }
}

impl EventCodec for placename::Event {
    fn event_type(&self) -> &'static str {
        use placename::Event as E;
        match self {
            E::Proposed(_) => PLACE_NAME_PROPOSED,
            E::Evaluated(_) => PLACE_NAME_EVALUATED,
            E::CommentPeriodOpened(_) => PLACE_NAME_COMMENT_PERIOD_OPENED,
            E::CommentRecorded(_) => PLACE_NAME_COMMENT_RECORDED,
            E::CommentPeriodClosed(_) => PLACE_NAME_COMMENT_PERIOD_CLOSED,
            E::Approved(_) => PLACE_NAME_APPROVED,
            E::Rejected(_) => PLACE_NAME_REJECTED,
            E::Published(_) => PLACE_NAME_PUBLISHED,
            E::Retired(_) => PLACE_NAME_RETIRED,
        }
    }

    fn encode(&self) -> Bytes {
        use placename::Event as E;
        let id = |id: &PlaceNameId| id.as_str().to_owned();
        let bytes = match self {
            E::Proposed(e) => pb::PlaceNameProposed {
                place_name_id: id(&e.id),
                kind: match e.kind {
                    PlaceKind::Road => pb::PlaceKind::Road,
                    PlaceKind::Bridge => pb::PlaceKind::Bridge,
                    PlaceKind::ResidentialArea => pb::PlaceKind::ResidentialArea,
                    PlaceKind::NaturalFeature => pb::PlaceKind::NaturalFeature,
                }
                .into(),
                name: e.name.as_str().to_owned(),
                pinyin: e.pinyin.as_str().to_owned(),
                region: Some(e.region.into()),
                meaning: e.meaning.as_str().to_owned(),
                proposed_on: Some(e.proposed_on.into()),
                replaces: e.replaces.as_ref().map_or_else(String::new, id),
            }
            .encode_to_vec(),
            E::Evaluated(e) => pb::PlaceNameEvaluated {
                place_name_id: id(&e.id),
                favourable: e.favourable,
                summary: e.summary.as_str().to_owned(),
                evaluated_on: Some(e.evaluated_on.into()),
            }
            .encode_to_vec(),
            E::CommentPeriodOpened(e) => pb::PlaceNameCommentPeriodOpened {
                place_name_id: id(&e.id),
                opened_on: Some(e.opened_on.into()),
                closes_on: Some(e.closes_on.into()),
            }
            .encode_to_vec(),
            E::CommentRecorded(e) => pb::PlaceNameCommentRecorded {
                place_name_id: id(&e.id),
                summary: e.summary.as_str().to_owned(),
                received_on: Some(e.received_on.into()),
            }
            .encode_to_vec(),
            E::CommentPeriodClosed(e) => pb::PlaceNameCommentPeriodClosed {
                place_name_id: id(&e.id),
                closed_on: Some(e.closed_on.into()),
                comment_count: e.comment_count,
            }
            .encode_to_vec(),
            E::Approved(e) => pb::PlaceNameApproved {
                place_name_id: id(&e.id),
                approved_on: Some(e.approved_on.into()),
                approval_reference: e.reference.as_str().to_owned(),
            }
            .encode_to_vec(),
            E::Rejected(e) => pb::PlaceNameRejected {
                place_name_id: id(&e.id),
                rejected_on: Some(e.rejected_on.into()),
                reason: e.reason.as_str().to_owned(),
            }
            .encode_to_vec(),
            E::Published(e) => pb::PlaceNamePublished {
                place_name_id: id(&e.id),
                name: e.name.as_str().to_owned(),
                pinyin: e.pinyin.as_str().to_owned(),
                published_on: Some(e.published_on.into()),
            }
            .encode_to_vec(),
            E::Retired(e) => pb::PlaceNameRetired {
                place_name_id: id(&e.id),
                retired_on: Some(e.retired_on.into()),
                reason: e.reason.as_str().to_owned(),
            }
            .encode_to_vec(),
        };
        Bytes::from(bytes)
    }

    fn decode(event_type: &str, schema_version: u32, payload: &[u8]) -> Result<Self, CodecError> {
        use placename::Event as E;
        let d = Decoder::new(event_type, schema_version)?;
        match event_type {
            PLACE_NAME_PROPOSED => {
                let m: pb::PlaceNameProposed = d.message(payload)?;
                let kind = match pb::PlaceKind::try_from(m.kind) {
                    Ok(pb::PlaceKind::Road) => PlaceKind::Road,
                    Ok(pb::PlaceKind::Bridge) => PlaceKind::Bridge,
                    Ok(pb::PlaceKind::ResidentialArea) => PlaceKind::ResidentialArea,
                    Ok(pb::PlaceKind::NaturalFeature) => PlaceKind::NaturalFeature,
                    Ok(pb::PlaceKind::Unspecified) | Err(_) => {
                        return Err(d.invalid("kind is not a known place kind"));
                    }
                };
                Ok(E::Proposed(placename::Proposed {
                    id: d.place_name_id(&m.place_name_id)?,
                    kind,
                    name: d.text("name", &m.name)?,
                    pinyin: d.text("pinyin", &m.pinyin)?,
                    region: d.code("region", &m.region)?,
                    meaning: d.text("meaning", &m.meaning)?,
                    proposed_on: d.date("proposed_on", &m.proposed_on)?,
                    replaces: if m.replaces.is_empty() {
                        None
                    } else {
                        Some(d.place_name_id(&m.replaces)?)
                    },
                }))
            }
            PLACE_NAME_EVALUATED => {
                let m: pb::PlaceNameEvaluated = d.message(payload)?;
                Ok(E::Evaluated(placename::Evaluated {
                    id: d.place_name_id(&m.place_name_id)?,
                    favourable: m.favourable,
                    summary: d.text("summary", &m.summary)?,
                    evaluated_on: d.date("evaluated_on", &m.evaluated_on)?,
                }))
            }
            PLACE_NAME_COMMENT_PERIOD_OPENED => {
                let m: pb::PlaceNameCommentPeriodOpened = d.message(payload)?;
                Ok(E::CommentPeriodOpened(placename::CommentPeriodOpened {
                    id: d.place_name_id(&m.place_name_id)?,
                    opened_on: d.date("opened_on", &m.opened_on)?,
                    closes_on: d.date("closes_on", &m.closes_on)?,
                }))
            }
            PLACE_NAME_COMMENT_RECORDED => {
                let m: pb::PlaceNameCommentRecorded = d.message(payload)?;
                Ok(E::CommentRecorded(placename::CommentRecorded {
                    id: d.place_name_id(&m.place_name_id)?,
                    summary: d.text("summary", &m.summary)?,
                    received_on: d.date("received_on", &m.received_on)?,
                }))
            }
            PLACE_NAME_COMMENT_PERIOD_CLOSED => {
                let m: pb::PlaceNameCommentPeriodClosed = d.message(payload)?;
                Ok(E::CommentPeriodClosed(placename::CommentPeriodClosed {
                    id: d.place_name_id(&m.place_name_id)?,
                    closed_on: d.date("closed_on", &m.closed_on)?,
                    comment_count: m.comment_count,
                }))
            }
            PLACE_NAME_APPROVED => {
                let m: pb::PlaceNameApproved = d.message(payload)?;
                Ok(E::Approved(placename::Approved {
                    id: d.place_name_id(&m.place_name_id)?,
                    approved_on: d.date("approved_on", &m.approved_on)?,
                    reference: d.text("approval_reference", &m.approval_reference)?,
                }))
            }
            PLACE_NAME_REJECTED => {
                let m: pb::PlaceNameRejected = d.message(payload)?;
                Ok(E::Rejected(placename::Rejected {
                    id: d.place_name_id(&m.place_name_id)?,
                    rejected_on: d.date("rejected_on", &m.rejected_on)?,
                    reason: d.text("reason", &m.reason)?,
                }))
            }
            PLACE_NAME_PUBLISHED => {
                let m: pb::PlaceNamePublished = d.message(payload)?;
                Ok(E::Published(placename::Published {
                    id: d.place_name_id(&m.place_name_id)?,
                    name: d.text("name", &m.name)?,
                    pinyin: d.text("pinyin", &m.pinyin)?,
                    published_on: d.date("published_on", &m.published_on)?,
                }))
            }
            PLACE_NAME_RETIRED => {
                let m: pb::PlaceNameRetired = d.message(payload)?;
                Ok(E::Retired(placename::Retired {
                    id: d.place_name_id(&m.place_name_id)?,
                    retired_on: d.date("retired_on", &m.retired_on)?,
                    reason: d.text("reason", &m.reason)?,
                }))
            }
            other => Err(CodecError::UnknownType(other.to_owned())),
        }
    }
}

impl EventCodec for crate::boundary::Event {
    fn event_type(&self) -> &'static str {
        use crate::boundary::Event as E;
        match self {
            E::Recorded(_) => BOUNDARY_RECORDED,
            E::RoundStarted(_) => INSPECTION_ROUND_STARTED,
            E::FindingRecorded(_) => INSPECTION_FINDING_RECORDED,
            E::FindingResolved(_) => INSPECTION_FINDING_RESOLVED,
            E::RoundCompleted(_) => INSPECTION_ROUND_COMPLETED,
        }
    }

    fn encode(&self) -> Bytes {
        use crate::boundary::{Event as E, FindingKind};
        let id = |id: &crate::ids::BoundaryId| id.as_str().to_owned();
        let bytes = match self {
            E::Recorded(e) => pb::BoundaryRecorded {
                boundary_id: id(&e.id),
                divisions: e.between.iter().map(|&c| c.into()).collect(),
                description: optional_text(e.description.as_ref()),
                recorded_on: Some(e.recorded_on.into()),
            }
            .encode_to_vec(),
            E::RoundStarted(e) => pb::InspectionRoundStarted {
                boundary_id: id(&e.id),
                round: e.round.get(),
                started_on: Some(e.started_on.into()),
            }
            .encode_to_vec(),
            E::FindingRecorded(e) => pb::InspectionFindingRecorded {
                boundary_id: id(&e.id),
                round: e.round.get(),
                finding: e.finding.get(),
                kind: match e.kind {
                    FindingKind::MarkerDamaged => pb::InspectionFindingKind::MarkerDamaged,
                    FindingKind::MarkerMissing => pb::InspectionFindingKind::MarkerMissing,
                    FindingKind::Disputed => pb::InspectionFindingKind::Disputed,
                    FindingKind::Other => pb::InspectionFindingKind::Other,
                }
                .into(),
                description: e.description.as_str().to_owned(),
                recorded_on: Some(e.recorded_on.into()),
            }
            .encode_to_vec(),
            E::FindingResolved(e) => pb::InspectionFindingResolved {
                boundary_id: id(&e.id),
                round: e.round.get(),
                finding: e.finding.get(),
                resolution: e.resolution.as_str().to_owned(),
                resolved_on: Some(e.resolved_on.into()),
            }
            .encode_to_vec(),
            E::RoundCompleted(e) => pb::InspectionRoundCompleted {
                boundary_id: id(&e.id),
                round: e.round.get(),
                completed_on: Some(e.completed_on.into()),
                conclusion: e.conclusion.as_str().to_owned(),
                finding_count: e.finding_count,
                open_finding_count: e.open_finding_count,
            }
            .encode_to_vec(),
        };
        Bytes::from(bytes)
    }

    fn decode(event_type: &str, schema_version: u32, payload: &[u8]) -> Result<Self, CodecError> {
        use crate::boundary::{self as b, Event as E, FindingKind};
        let d = Decoder::new(event_type, schema_version)?;
        match event_type {
            BOUNDARY_RECORDED => {
                let m: pb::BoundaryRecorded = d.message(payload)?;
                let Ok([first, second]) =
                    <[RegionCode; 2]>::try_from(d.codes("divisions", &m.divisions)?)
                else {
                    return Err(d.invalid("divisions: must be exactly two"));
                };
                let between =
                    b::between(first, second).map_err(|e| d.invalid(format!("divisions: {e}")))?;
                if between != [first, second] {
                    return Err(d.invalid("divisions: not in ascending code order"));
                }
                Ok(E::Recorded(b::Recorded {
                    id: d.boundary_id(&m.boundary_id)?,
                    between,
                    description: d.optional_text("description", &m.description)?,
                    recorded_on: d.date("recorded_on", &m.recorded_on)?,
                }))
            }
            INSPECTION_ROUND_STARTED => {
                let m: pb::InspectionRoundStarted = d.message(payload)?;
                Ok(E::RoundStarted(b::RoundStarted {
                    id: d.boundary_id(&m.boundary_id)?,
                    round: d.number("round", m.round)?,
                    started_on: d.date("started_on", &m.started_on)?,
                }))
            }
            INSPECTION_FINDING_RECORDED => {
                let m: pb::InspectionFindingRecorded = d.message(payload)?;
                let kind = match pb::InspectionFindingKind::try_from(m.kind) {
                    Ok(pb::InspectionFindingKind::MarkerDamaged) => FindingKind::MarkerDamaged,
                    Ok(pb::InspectionFindingKind::MarkerMissing) => FindingKind::MarkerMissing,
                    Ok(pb::InspectionFindingKind::Disputed) => FindingKind::Disputed,
                    Ok(pb::InspectionFindingKind::Other) => FindingKind::Other,
                    Ok(pb::InspectionFindingKind::Unspecified) | Err(_) => {
                        return Err(d.invalid("kind is not a known finding kind"));
                    }
                };
                Ok(E::FindingRecorded(b::FindingRecorded {
                    id: d.boundary_id(&m.boundary_id)?,
                    round: d.number("round", m.round)?,
                    finding: d.number("finding", m.finding)?,
                    kind,
                    description: d.text("description", &m.description)?,
                    recorded_on: d.date("recorded_on", &m.recorded_on)?,
                }))
            }
            INSPECTION_FINDING_RESOLVED => {
                let m: pb::InspectionFindingResolved = d.message(payload)?;
                Ok(E::FindingResolved(b::FindingResolved {
                    id: d.boundary_id(&m.boundary_id)?,
                    round: d.number("round", m.round)?,
                    finding: d.number("finding", m.finding)?,
                    resolution: d.text("resolution", &m.resolution)?,
                    resolved_on: d.date("resolved_on", &m.resolved_on)?,
                }))
            }
            INSPECTION_ROUND_COMPLETED => {
                let m: pb::InspectionRoundCompleted = d.message(payload)?;
                if m.open_finding_count > m.finding_count {
                    return Err(d.invalid("open_finding_count exceeds finding_count"));
                }
                Ok(E::RoundCompleted(b::RoundCompleted {
                    id: d.boundary_id(&m.boundary_id)?,
                    round: d.number("round", m.round)?,
                    completed_on: d.date("completed_on", &m.completed_on)?,
                    conclusion: d.text("conclusion", &m.conclusion)?,
                    finding_count: m.finding_count,
                    open_finding_count: m.open_finding_count,
                }))
            }
            other => Err(CodecError::UnknownType(other.to_owned())),
        }
    }
}

impl EventCodec for crate::sign::Event {
    fn event_type(&self) -> &'static str {
        use crate::sign::Event as E;
        match self {
            E::Installed(_) => SIGN_INSTALLED,
            E::Inspected(_) => SIGN_INSPECTED,
            E::Replaced(_) => SIGN_REPLACED,
            E::Removed(_) => SIGN_REMOVED,
        }
    }

    fn encode(&self) -> Bytes {
        use crate::sign::{Condition, Event as E};
        let id = |id: &crate::ids::SignId| id.as_str().to_owned();
        let bytes = match self {
            E::Installed(e) => pb::SignInstalled {
                sign_id: id(&e.id),
                place_name_id: e.place_name.as_str().to_owned(),
                text: e.text.as_str().to_owned(),
                location: e.location.as_str().to_owned(),
                installed_on: Some(e.installed_on.into()),
            }
            .encode_to_vec(),
            E::Inspected(e) => pb::SignInspected {
                sign_id: id(&e.id),
                condition: match e.condition {
                    Condition::Good => pb::SignCondition::Good,
                    Condition::Damaged => pb::SignCondition::Damaged,
                    Condition::Missing => pb::SignCondition::Missing,
                }
                .into(),
                note: optional_text(e.note.as_ref()),
                inspected_on: Some(e.inspected_on.into()),
            }
            .encode_to_vec(),
            E::Replaced(e) => pb::SignReplaced {
                sign_id: id(&e.id),
                reason: e.reason.as_str().to_owned(),
                location: e.location.as_str().to_owned(),
                replaced_on: Some(e.replaced_on.into()),
            }
            .encode_to_vec(),
            E::Removed(e) => pb::SignRemoved {
                sign_id: id(&e.id),
                reason: e.reason.as_str().to_owned(),
                removed_on: Some(e.removed_on.into()),
            }
            .encode_to_vec(),
        };
        Bytes::from(bytes)
    }

    fn decode(event_type: &str, schema_version: u32, payload: &[u8]) -> Result<Self, CodecError> {
        use crate::sign::{self as s, Condition, Event as E};
        let d = Decoder::new(event_type, schema_version)?;
        match event_type {
            SIGN_INSTALLED => {
                let m: pb::SignInstalled = d.message(payload)?;
                Ok(E::Installed(s::Installed {
                    id: d.sign_id(&m.sign_id)?,
                    place_name: d.place_name_id(&m.place_name_id)?,
                    text: d.text("text", &m.text)?,
                    location: d.text("location", &m.location)?,
                    installed_on: d.date("installed_on", &m.installed_on)?,
                }))
            }
            SIGN_INSPECTED => {
                let m: pb::SignInspected = d.message(payload)?;
                let condition = match pb::SignCondition::try_from(m.condition) {
                    Ok(pb::SignCondition::Good) => Condition::Good,
                    Ok(pb::SignCondition::Damaged) => Condition::Damaged,
                    Ok(pb::SignCondition::Missing) => Condition::Missing,
                    Ok(pb::SignCondition::Unspecified) | Err(_) => {
                        return Err(d.invalid("condition is not a known sign condition"));
                    }
                };
                Ok(E::Inspected(s::Inspected {
                    id: d.sign_id(&m.sign_id)?,
                    condition,
                    note: d.optional_text("note", &m.note)?,
                    inspected_on: d.date("inspected_on", &m.inspected_on)?,
                }))
            }
            SIGN_REPLACED => {
                let m: pb::SignReplaced = d.message(payload)?;
                Ok(E::Replaced(s::Replaced {
                    id: d.sign_id(&m.sign_id)?,
                    reason: d.text("reason", &m.reason)?,
                    location: d.text("location", &m.location)?,
                    replaced_on: d.date("replaced_on", &m.replaced_on)?,
                }))
            }
            SIGN_REMOVED => {
                let m: pb::SignRemoved = d.message(payload)?;
                Ok(E::Removed(s::Removed {
                    id: d.sign_id(&m.sign_id)?,
                    reason: d.text("reason", &m.reason)?,
                    removed_on: d.date("removed_on", &m.removed_on)?,
                }))
            }
            other => Err(CodecError::UnknownType(other.to_owned())),
        }
    }
}

/// An optional text as its message field: empty when absent.
fn optional_text(text: Option<&BoundedText>) -> String {
    text.map_or_else(String::new, |t| t.as_str().to_owned())
}

/// Decoding of the values the boundary and sign events add.
impl Decoder<'_> {
    fn optional_text(&self, field: &str, text: &str) -> Result<Option<BoundedText>, CodecError> {
        BoundedText::parse_optional(text, STORED_TEXT_MAX_CHARS)
            .map_err(|e| self.invalid(format!("{field}: {e}")))
    }

    fn number(&self, field: &str, value: u32) -> Result<std::num::NonZeroU32, CodecError> {
        std::num::NonZeroU32::new(value)
            .ok_or_else(|| self.invalid(format!("{field}: must be at least 1")))
    }

    fn boundary_id(&self, id: &str) -> Result<crate::ids::BoundaryId, CodecError> {
        crate::ids::BoundaryId::parse(id).map_err(|e| self.invalid(format!("boundary_id: {e}")))
    }

    fn sign_id(&self, id: &str) -> Result<crate::ids::SignId, CodecError> {
        crate::ids::SignId::parse(id).map_err(|e| self.invalid(format!("sign_id: {e}")))
    }
}

fn division_ref(d: &DivisionRef) -> pb::DivisionRef {
    pb::DivisionRef {
        code: Some(d.code.into()),
        name: d.name.as_str().to_owned(),
    }
}

/// Parses the values of one stored event, reporting failures against its type.
struct Decoder<'a> {
    event_type: &'a str,
}

impl<'a> Decoder<'a> {
    fn new(event_type: &'a str, schema_version: u32) -> Result<Self, CodecError> {
        if schema_version != SCHEMA_VERSION {
            return Err(CodecError::UnsupportedVersion {
                event_type: event_type.to_owned(),
                schema_version,
            });
        }
        Ok(Self { event_type })
    }

    fn invalid(&self, reason: impl Into<String>) -> CodecError {
        CodecError::Invalid {
            event_type: self.event_type.to_owned(),
            reason: reason.into(),
        }
    }

    fn message<M: Message + Default>(&self, payload: &[u8]) -> Result<M, CodecError> {
        M::decode(payload).map_err(|e| self.invalid(e.to_string()))
    }

    fn code(
        &self,
        field: &str,
        code: &Option<common::RegionCode>,
    ) -> Result<RegionCode, CodecError> {
        convert::region_code(field, code).map_err(|v| self.invalid(v.to_string()))
    }

    fn codes(
        &self,
        field: &str,
        codes: &[common::RegionCode],
    ) -> Result<Vec<RegionCode>, CodecError> {
        codes
            .iter()
            .map(|c| self.code(field, &Some(c.clone())))
            .collect()
    }

    fn date(&self, field: &str, date: &Option<common::Date>) -> Result<Date, CodecError> {
        convert::date(field, date).map_err(|v| self.invalid(v.to_string()))
    }

    fn text(&self, field: &str, text: &str) -> Result<BoundedText, CodecError> {
        BoundedText::parse(text, STORED_TEXT_MAX_CHARS)
            .map_err(|e| self.invalid(format!("{field}: {e}")))
    }

    fn id(&self, id: &str) -> Result<AdjustmentId, CodecError> {
        AdjustmentId::parse(id).map_err(|e| self.invalid(format!("adjustment_id: {e}")))
    }

    fn place_name_id(&self, id: &str) -> Result<PlaceNameId, CodecError> {
        PlaceNameId::parse(id).map_err(|e| self.invalid(format!("place_name_id: {e}")))
    }

    fn division_refs(
        &self,
        field: &str,
        refs: &[pb::DivisionRef],
    ) -> Result<Vec<DivisionRef>, CodecError> {
        refs.iter()
            .map(|r| {
                Ok(DivisionRef {
                    code: self.code(field, &r.code)?,
                    name: self.text(field, &r.name)?,
                })
            })
            .collect()
    }

    fn township_type(&self, field: &str, value: i32) -> Result<TownshipType, CodecError> {
        match pb::TownshipType::try_from(value) {
            Ok(pb::TownshipType::Township) => Ok(TownshipType::Township),
            Ok(pb::TownshipType::Town) => Ok(TownshipType::Town),
            Ok(pb::TownshipType::Subdistrict) => Ok(TownshipType::Subdistrict),
            Ok(pb::TownshipType::Unspecified) | Err(_) => {
                Err(self.invalid(format!("{field}: not a known township type")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use minzheng_kit::testing::assert_codec_round_trips;
    use prost::Message;
    use time::macros::date;

    use super::*;
    use crate::adjustment::tests::{approved, division, proposed, reviewed};
    use crate::division::tests::{adjustment_id, code, name};

    fn division_events() -> Vec<division::Event> {
        vec![
            division::Event::Recorded(division::Recorded {
                code: code("210521202000"),
                name: name("东营坊乡"),
                parent: Some(code("210521000000")),
                valid_from: date!(2020 - 06 - 30),
                adjustment: None,
            }),
            division::Event::Recorded(division::Recorded {
                code: code("210000000000"),
                name: name("辽宁省"),
                parent: None,
                valid_from: date!(2020 - 06 - 30),
                adjustment: Some(adjustment_id("BX-1")),
            }),
            division::Event::Renamed(division::Renamed {
                code: code("210521202203"),
                previous_name: name("荒沟村委会"),
                name: name("金沟村委会"),
                effective_on: date!(2026 - 01 - 01),
                adjustment: adjustment_id("BX-2"),
            }),
            division::Event::Superseded(division::Superseded {
                code: code("210502001000"),
                successors: vec![code("210502013000"), code("210502014000")],
                valid_to: date!(2026 - 03 - 01),
                adjustment: adjustment_id("BX-3"),
            }),
        ]
    }

    fn adjustment_events() -> Vec<adjustment::Event> {
        let mut events = vec![proposed(), approved()];
        events.extend(ReviewKind::ALL.map(reviewed));
        for kind in [
            Kind::Rename,
            Kind::Split,
            Kind::Recode,
            Kind::ChangeType {
                from: TownshipType::Township,
                to: TownshipType::Subdistrict,
            },
        ] {
            let adjustment::Event::Proposed(p) = proposed() else {
                unreachable!("proposed() is a proposal")
            };
            events.push(adjustment::Event::Proposed(adjustment::Proposed {
                kind,
                ..p
            }));
        }
        events.push(adjustment::Event::Rejected(adjustment::Rejected {
            id: adjustment_id("BX-2025-001"),
            rejected_on: date!(2025 - 02 - 01),
            reason: BoundedText::parse("风险评估未通过", 100).expect("valid"),
        }));
        events.push(adjustment::Event::TookEffect(adjustment::TookEffect {
            id: adjustment_id("BX-2025-001"),
            effective_on: date!(2025 - 07 - 01),
            superseded: vec![Supersession {
                code: code("210522202000"),
                successors: vec![code("210522201000")],
                valid_to: date!(2025 - 07 - 01),
            }],
            established: vec![division("210522112000", "雅河镇")],
            renamed: vec![Renaming {
                code: code("210522201000"),
                previous_name: name("雅河朝鲜族乡"),
                name: name("雅河镇"),
            }],
        }));
        events
    }

    /// Every place-name event, with each place kind.
    fn placename_events() -> Vec<placename::Event> {
        let mut events = crate::placename::tests::history();
        events.push(placename::Event::Rejected(placename::Rejected {
            id: PlaceNameId::parse("BX-DM-1").expect("valid"),
            rejected_on: date!(2025 - 03 - 25),
            reason: crate::placename::tests::text("重名"),
        }));
        events.push(placename::Event::Retired(placename::Retired {
            id: PlaceNameId::parse("BX-DM-1").expect("valid"),
            retired_on: date!(2030 - 01 - 01),
            reason: crate::placename::tests::text("道路拆除"),
        }));
        let placename::Event::Proposed(p) = events[0].clone() else {
            unreachable!("the history starts with a proposal")
        };
        for kind in [
            PlaceKind::Bridge,
            PlaceKind::ResidentialArea,
            PlaceKind::NaturalFeature,
        ] {
            events.push(placename::Event::Proposed(placename::Proposed {
                kind,
                ..p.clone()
            }));
        }
        events
    }

    /// Full names of the messages `events.proto` and its siblings declare.
    pub(super) fn declared_messages() -> Vec<String> {
        let set = prost_types::FileDescriptorSet::decode(minzheng_proto::FILE_DESCRIPTOR_SET)
            .expect("the descriptor set decodes");
        set.file
            .iter()
            .filter(|f| f.package() == "minzheng.placenames.v1")
            .flat_map(|f| {
                f.message_type
                    .iter()
                    .map(|m| format!("minzheng.placenames.v1.{}", m.name()))
            })
            .collect()
    }

    #[test]
    fn every_event_round_trips() {
        assert_codec_round_trips(division_events());
        assert_codec_round_trips(adjustment_events());
        assert_codec_round_trips(placename_events());
    }

    #[test]
    fn event_types_are_the_full_names_of_messages_in_the_contract() {
        let declared = declared_messages();
        let used = division_events()
            .iter()
            .map(EventCodec::event_type)
            .chain(adjustment_events().iter().map(EventCodec::event_type))
            .chain(placename_events().iter().map(EventCodec::event_type))
            .collect::<Vec<_>>();
        for event_type in used {
            assert!(
                declared.iter().any(|d| d == event_type),
                "{event_type} is not declared"
            );
        }
    }

    #[test]
    fn unknown_types_and_versions_are_reported() {
        assert!(matches!(
            division::Event::decode(ADJUSTMENT_APPROVED, 1, &[]),
            Err(CodecError::UnknownType(t)) if t == ADJUSTMENT_APPROVED
        ));
        assert!(matches!(
            adjustment::Event::decode(ADJUSTMENT_APPROVED, 2, &[]),
            Err(CodecError::UnsupportedVersion {
                schema_version: 2,
                ..
            })
        ));
    }

    #[test]
    fn stored_values_that_break_the_domain_rules_are_invalid() {
        let recorded = pb::DivisionRecorded {
            code: Some(code("210521202000").into()),
            name: "东营坊乡".into(),
            level: common::RegionLevel::Village.into(),
            parent: Some(code("210521000000").into()),
            valid_from: Some(date!(2020 - 06 - 30).into()),
            adjustment_id: String::new(),
        };
        let decode = |m: &pb::DivisionRecorded| {
            division::Event::decode(DIVISION_RECORDED, 1, &m.encode_to_vec())
        };
        assert!(matches!(decode(&recorded), Err(CodecError::Invalid { .. })));
        let bad_code = pb::DivisionRecorded {
            level: common::RegionLevel::Township.into(),
            code: Some(common::RegionCode {
                code: "2105".into(),
            }),
            ..recorded.clone()
        };
        assert!(matches!(decode(&bad_code), Err(CodecError::Invalid { .. })));
        let no_name = pb::DivisionRecorded {
            level: common::RegionLevel::Township.into(),
            name: " ".into(),
            ..recorded
        };
        assert!(matches!(decode(&no_name), Err(CodecError::Invalid { .. })));

        let unspecified_kind = pb::AdjustmentProposed {
            adjustment_id: "BX-1".into(),
            proposed_on: Some(date!(2025 - 01 - 10).into()),
            justification: "理由".into(),
            ..Default::default()
        };
        assert!(matches!(
            adjustment::Event::decode(ADJUSTMENT_PROPOSED, 1, &unspecified_kind.encode_to_vec()),
            Err(CodecError::Invalid { .. })
        ));
        assert!(matches!(
            adjustment::Event::decode(ADJUSTMENT_PROPOSED, 1, &[0xff, 0xff]),
            Err(CodecError::Invalid { .. })
        ));
    }
}

/// Codec tests for the boundary and sign events, kept apart from the tests above so the two
/// slices can grow without touching each other.
#[cfg(test)]
mod boundary_and_sign_tests {
    use minzheng_kit::testing::assert_codec_round_trips;
    use prost::Message;
    use time::macros::date;

    use super::{tests::declared_messages, *};
    use crate::{
        boundary::{self, FindingKind},
        sign::{self, Condition},
    };

    /// Every boundary event, with each finding kind and without a description.
    fn boundary_events() -> Vec<boundary::Event> {
        let mut events = boundary::tests::history();
        let boundary::Event::Recorded(recorded) = events[0].clone() else {
            unreachable!("the history starts with the record")
        };
        events.push(boundary::Event::Recorded(boundary::Recorded {
            description: None,
            ..recorded
        }));
        let boundary::Event::FindingRecorded(found) = events[2].clone() else {
            unreachable!("the third event is a finding")
        };
        for kind in FindingKind::ALL {
            events.push(boundary::Event::FindingRecorded(
                boundary::FindingRecorded {
                    kind,
                    description: boundary::tests::description(kind),
                    ..found.clone()
                },
            ));
        }
        events
    }

    /// Every sign event, with each condition and without a note.
    fn sign_events() -> Vec<sign::Event> {
        let mut events = sign::tests::history();
        let sign::Event::Inspected(inspected) = events[1].clone() else {
            unreachable!("the second event is an inspection")
        };
        for condition in Condition::ALL {
            events.push(sign::Event::Inspected(sign::Inspected {
                condition,
                note: None,
                ..inspected.clone()
            }));
        }
        events
    }

    #[test]
    fn every_boundary_and_sign_event_round_trips() {
        assert_codec_round_trips(boundary_events());
        assert_codec_round_trips(sign_events());
    }

    #[test]
    fn their_event_types_are_messages_in_the_contract() {
        let declared = declared_messages();
        let used = boundary_events()
            .iter()
            .map(EventCodec::event_type)
            .chain(sign_events().iter().map(EventCodec::event_type))
            .collect::<Vec<_>>();
        for event_type in used {
            assert!(
                declared.iter().any(|d| d == event_type),
                "{event_type} is not declared"
            );
        }
    }

    fn invalid<E: EventCodec + std::fmt::Debug>(event_type: &str, message: &impl Message) {
        let decoded = E::decode(event_type, 1, &message.encode_to_vec());
        assert!(
            matches!(decoded, Err(CodecError::Invalid { .. })),
            "{event_type} decoded to {decoded:?}"
        );
    }

    #[test]
    fn stored_boundaries_that_break_the_rules_are_invalid() {
        let code = |digits: &str| {
            Some(common::RegionCode {
                code: digits.to_owned(),
            })
        };
        let recorded = pb::BoundaryRecorded {
            boundary_id: "210502-210503".into(),
            divisions: vec![],
            description: String::new(),
            recorded_on: Some(date!(2025 - 01 - 10).into()),
        };
        for divisions in [
            vec!["210502000000"],
            vec!["210502000000", "210502000000"],
            vec!["210503000000", "210502000000"],
            vec!["210502000000", "210503001000"],
            vec!["210502000000", "210503000000", "210504000000"],
        ] {
            invalid::<boundary::Event>(
                BOUNDARY_RECORDED,
                &pb::BoundaryRecorded {
                    divisions: divisions.into_iter().filter_map(code).collect(),
                    ..recorded.clone()
                },
            );
        }
        invalid::<boundary::Event>(
            INSPECTION_ROUND_STARTED,
            &pb::InspectionRoundStarted {
                boundary_id: "210502-210503".into(),
                round: 0,
                started_on: Some(date!(2025 - 09 - 01).into()),
            },
        );
        invalid::<boundary::Event>(
            INSPECTION_FINDING_RECORDED,
            &pb::InspectionFindingRecorded {
                boundary_id: "210502-210503".into(),
                round: 5,
                finding: 1,
                kind: pb::InspectionFindingKind::Unspecified.into(),
                description: "界桩缺失".into(),
                recorded_on: Some(date!(2025 - 09 - 02).into()),
            },
        );
        invalid::<boundary::Event>(
            INSPECTION_ROUND_COMPLETED,
            &pb::InspectionRoundCompleted {
                boundary_id: "210502-210503".into(),
                round: 5,
                completed_on: Some(date!(2026 - 06 - 30).into()),
                conclusion: "界线清晰".into(),
                finding_count: 1,
                open_finding_count: 2,
            },
        );
    }

    #[test]
    fn stored_signs_that_break_the_rules_are_invalid() {
        let inspected = pb::SignInspected {
            sign_id: "BX-PS-0107".into(),
            condition: pb::SignCondition::Unspecified.into(),
            note: String::new(),
            inspected_on: Some(date!(2026 - 03 - 15).into()),
        };
        invalid::<sign::Event>(SIGN_INSPECTED, &inspected);
        invalid::<sign::Event>(
            SIGN_INSPECTED,
            &pb::SignInspected {
                sign_id: String::new(),
                condition: pb::SignCondition::Good.into(),
                ..inspected
            },
        );
        invalid::<sign::Event>(
            SIGN_INSTALLED,
            &pb::SignInstalled {
                sign_id: "BX-PS-0107".into(),
                place_name_id: "BX-DM-2025-014".into(),
                text: "平山路".into(),
                location: " ".into(),
                installed_on: Some(date!(2025 - 07 - 01).into()),
            },
        );
        assert!(matches!(
            sign::Event::decode(BOUNDARY_RECORDED, 1, &[]),
            Err(CodecError::UnknownType(_))
        ));
    }
}
