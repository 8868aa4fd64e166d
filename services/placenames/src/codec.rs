//! The event codec: each domain event to its protobuf message in
//! `proto/minzheng/placenames/v1/events.proto` and back. This is the only module of the domain
//! crate that sees prost types.
//!
//! The dispatch of every aggregate's events is generated ([`minzheng_host::event_codec!`]): one
//! line per event, its variant, domain type and message, whose full protobuf name is the stored
//! event type. Below are the conversions of each event ([`ToMessage`], [`FromMessage`]).
//!
//! Encoding cannot fail. Decoding checks shape only: every value present and parseable into its
//! type (codes, dates, names, ids, known enum values), through the host's
//! [`Decoder`](minzheng_host::decode::Decoder). The rules commands check (how divisions relate
//! on a boundary, how many findings a round may leave open) are not checked again, so a changed
//! rule never makes stored history unreadable.
//!
//! [`OwnStore`] is the contract the [`crate::directory`] reads the service's own store through.

use std::num::NonZeroU32;

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::{Decoder, optional_text},
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::{common::v1 as common, placenames::v1 as pb};
use minzheng_types::RegionCode;

use crate::{
    AdjustmentId, PlaceNameId,
    adjustment::{self, DivisionRef, Kind, Renaming, ReviewKind, Supersession, TownshipType},
    boundary::{self, FindingKind},
    division,
    ids::{BoundaryId, SignId},
    placename::{self, PlaceKind},
    sign::{self, Condition},
};

/// The schema version every event of this service is written in.
const SCHEMA_VERSION: u32 = 1;

minzheng_host::event_codec! {
    division::Event, schema_version = SCHEMA_VERSION;
    Recorded(division::Recorded) <=> pb::DivisionRecorded,
    Renamed(division::Renamed) <=> pb::DivisionRenamed,
    Superseded(division::Superseded) <=> pb::DivisionSuperseded,
}

minzheng_host::event_codec! {
    adjustment::Event, schema_version = SCHEMA_VERSION;
    Proposed(adjustment::Proposed) <=> pb::AdjustmentProposed,
    ReviewRecorded(adjustment::ReviewRecorded) <=> pb::AdjustmentReviewRecorded,
    Approved(adjustment::Approved) <=> pb::AdjustmentApproved,
    Rejected(adjustment::Rejected) <=> pb::AdjustmentRejected,
    TookEffect(adjustment::TookEffect) <=> pb::AdjustmentTookEffect,
}

minzheng_host::event_codec! {
    placename::Event, schema_version = SCHEMA_VERSION;
    Proposed(placename::Proposed) <=> pb::PlaceNameProposed,
    Evaluated(placename::Evaluated) <=> pb::PlaceNameEvaluated,
    CommentPeriodOpened(placename::CommentPeriodOpened) <=> pb::PlaceNameCommentPeriodOpened,
    CommentRecorded(placename::CommentRecorded) <=> pb::PlaceNameCommentRecorded,
    CommentPeriodClosed(placename::CommentPeriodClosed) <=> pb::PlaceNameCommentPeriodClosed,
    Approved(placename::Approved) <=> pb::PlaceNameApproved,
    Rejected(placename::Rejected) <=> pb::PlaceNameRejected,
    Published(placename::Published) <=> pb::PlaceNamePublished,
    Retired(placename::Retired) <=> pb::PlaceNameRetired,
}

minzheng_host::event_codec! {
    boundary::Event, schema_version = SCHEMA_VERSION;
    Recorded(boundary::Recorded) <=> pb::BoundaryRecorded,
    RoundStarted(boundary::RoundStarted) <=> pb::InspectionRoundStarted,
    FindingRecorded(boundary::FindingRecorded) <=> pb::InspectionFindingRecorded,
    FindingResolved(boundary::FindingResolved) <=> pb::InspectionFindingResolved,
    RoundCompleted(boundary::RoundCompleted) <=> pb::InspectionRoundCompleted,
}

minzheng_host::event_codec! {
    sign::Event, schema_version = SCHEMA_VERSION;
    Installed(sign::Installed) <=> pb::SignInstalled,
    Inspected(sign::Inspected) <=> pb::SignInspected,
    Replaced(sign::Replaced) <=> pb::SignReplaced,
    Removed(sign::Removed) <=> pb::SignRemoved,
}

minzheng_host::own_store! {
    /// An event of the service's own store, decoded by its stream's aggregate; streams of other
    /// categories (the read audit) are not listed.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Recorded for OwnStore {
        Division(division::Division),
        Adjustment(adjustment::Adjustment),
        PlaceName(placename::PlaceName),
        Boundary(boundary::Boundary),
        Sign(sign::Sign),
    }
}

// ---------------------------------------------------------------------------------------------
// Divisions.

impl ToMessage for division::Recorded {
    type Message = pb::DivisionRecorded;

    fn to_message(&self) -> pb::DivisionRecorded {
        pb::DivisionRecorded {
            code: Some(self.code.into()),
            name: self.name.as_str().to_owned(),
            level: common::RegionLevel::from(self.code.level()).into(),
            parent: self.parent.map(Into::into),
            valid_from: Some(self.valid_from.into()),
            adjustment_id: self
                .adjustment
                .as_ref()
                .map(|id| id.as_str().to_owned())
                .unwrap_or_default(),
        }
    }
}

/// The `level` field repeats what the code says and is not read.
impl FromMessage<pb::DivisionRecorded> for division::Recorded {
    fn from_message(m: pb::DivisionRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            code: d.code("code", &m.code)?,
            name: d.text("name", &m.name)?,
            parent: m.parent.map(|p| d.code("parent", &Some(p))).transpose()?,
            valid_from: d.date("valid_from", &m.valid_from)?,
            adjustment: (!m.adjustment_id.is_empty())
                .then(|| adjustment_id(d, &m.adjustment_id))
                .transpose()?,
        })
    }
}

impl ToMessage for division::Renamed {
    type Message = pb::DivisionRenamed;

    fn to_message(&self) -> pb::DivisionRenamed {
        pb::DivisionRenamed {
            code: Some(self.code.into()),
            previous_name: self.previous_name.as_str().to_owned(),
            name: self.name.as_str().to_owned(),
            effective_on: Some(self.effective_on.into()),
            adjustment_id: self.adjustment.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::DivisionRenamed> for division::Renamed {
    fn from_message(m: pb::DivisionRenamed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            code: d.code("code", &m.code)?,
            previous_name: d.text("previous_name", &m.previous_name)?,
            name: d.text("name", &m.name)?,
            effective_on: d.date("effective_on", &m.effective_on)?,
            adjustment: adjustment_id(d, &m.adjustment_id)?,
        })
    }
}

impl ToMessage for division::Superseded {
    type Message = pb::DivisionSuperseded;

    fn to_message(&self) -> pb::DivisionSuperseded {
        pb::DivisionSuperseded {
            code: Some(self.code.into()),
            successors: self.successors.iter().map(|&c| c.into()).collect(),
            valid_to: Some(self.valid_to.into()),
            adjustment_id: self.adjustment.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::DivisionSuperseded> for division::Superseded {
    fn from_message(m: pb::DivisionSuperseded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            code: d.code("code", &m.code)?,
            successors: d.codes("successors", &m.successors)?,
            valid_to: d.date("valid_to", &m.valid_to)?,
            adjustment: adjustment_id(d, &m.adjustment_id)?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Adjustments.

impl ToMessage for adjustment::Proposed {
    type Message = pb::AdjustmentProposed;

    fn to_message(&self) -> pb::AdjustmentProposed {
        let (kind, from_type, to_type) = match self.kind {
            Kind::Rename => (pb::AdjustmentKind::Rename, None, None),
            Kind::Merge => (pb::AdjustmentKind::Merge, None, None),
            Kind::Split => (pb::AdjustmentKind::Split, None, None),
            Kind::Recode => (pb::AdjustmentKind::Recode, None, None),
            Kind::ChangeType { from, to } => (pb::AdjustmentKind::ChangeType, Some(from), Some(to)),
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
            adjustment_id: self.id.as_str().to_owned(),
            kind: kind.into(),
            before: self.before.iter().map(division_ref).collect(),
            after: self.after.iter().map(division_ref).collect(),
            justification: self.justification.as_str().to_owned(),
            proposed_on: Some(self.proposed_on.into()),
            from_type: township_type(from_type),
            to_type: township_type(to_type),
        }
    }
}

impl FromMessage<pb::AdjustmentProposed> for adjustment::Proposed {
    fn from_message(m: pb::AdjustmentProposed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let kind = match pb::AdjustmentKind::try_from(m.kind) {
            Ok(pb::AdjustmentKind::Rename) => Kind::Rename,
            Ok(pb::AdjustmentKind::Merge) => Kind::Merge,
            Ok(pb::AdjustmentKind::Split) => Kind::Split,
            Ok(pb::AdjustmentKind::Recode) => Kind::Recode,
            Ok(pb::AdjustmentKind::ChangeType) => Kind::ChangeType {
                from: township_type(d, "from_type", m.from_type)?,
                to: township_type(d, "to_type", m.to_type)?,
            },
            Ok(pb::AdjustmentKind::Unspecified) | Err(_) => {
                return Err(d.invalid("kind is not a known adjustment kind"));
            }
        };
        Ok(Self {
            id: adjustment_id(d, &m.adjustment_id)?,
            kind,
            before: division_refs(d, "before", &m.before)?,
            after: division_refs(d, "after", &m.after)?,
            justification: d.text("justification", &m.justification)?,
            proposed_on: d.date("proposed_on", &m.proposed_on)?,
        })
    }
}

impl ToMessage for adjustment::ReviewRecorded {
    type Message = pb::AdjustmentReviewRecorded;

    fn to_message(&self) -> pb::AdjustmentReviewRecorded {
        pb::AdjustmentReviewRecorded {
            adjustment_id: self.id.as_str().to_owned(),
            review: match self.review {
                ReviewKind::Expert => pb::ReviewKind::Expert,
                ReviewKind::Risk => pb::ReviewKind::Risk,
                ReviewKind::PublicOpinion => pb::ReviewKind::PublicOpinion,
            }
            .into(),
            favourable: self.favourable,
            summary: self.summary.as_str().to_owned(),
            recorded_on: Some(self.recorded_on.into()),
        }
    }
}

impl FromMessage<pb::AdjustmentReviewRecorded> for adjustment::ReviewRecorded {
    fn from_message(m: pb::AdjustmentReviewRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let review = match pb::ReviewKind::try_from(m.review) {
            Ok(pb::ReviewKind::Expert) => ReviewKind::Expert,
            Ok(pb::ReviewKind::Risk) => ReviewKind::Risk,
            Ok(pb::ReviewKind::PublicOpinion) => ReviewKind::PublicOpinion,
            Ok(pb::ReviewKind::Unspecified) | Err(_) => {
                return Err(d.invalid("review is not a known review kind"));
            }
        };
        Ok(Self {
            id: adjustment_id(d, &m.adjustment_id)?,
            review,
            favourable: m.favourable,
            summary: d.text("summary", &m.summary)?,
            recorded_on: d.date("recorded_on", &m.recorded_on)?,
        })
    }
}

impl ToMessage for adjustment::Approved {
    type Message = pb::AdjustmentApproved;

    fn to_message(&self) -> pb::AdjustmentApproved {
        pb::AdjustmentApproved {
            adjustment_id: self.id.as_str().to_owned(),
            approved_on: Some(self.approved_on.into()),
            approval_reference: self.reference.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::AdjustmentApproved> for adjustment::Approved {
    fn from_message(m: pb::AdjustmentApproved, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: adjustment_id(d, &m.adjustment_id)?,
            approved_on: d.date("approved_on", &m.approved_on)?,
            reference: d.text("approval_reference", &m.approval_reference)?,
        })
    }
}

impl ToMessage for adjustment::Rejected {
    type Message = pb::AdjustmentRejected;

    fn to_message(&self) -> pb::AdjustmentRejected {
        pb::AdjustmentRejected {
            adjustment_id: self.id.as_str().to_owned(),
            rejected_on: Some(self.rejected_on.into()),
            reason: self.reason.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::AdjustmentRejected> for adjustment::Rejected {
    fn from_message(m: pb::AdjustmentRejected, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: adjustment_id(d, &m.adjustment_id)?,
            rejected_on: d.date("rejected_on", &m.rejected_on)?,
            reason: d.text("reason", &m.reason)?,
        })
    }
}

impl ToMessage for adjustment::TookEffect {
    type Message = pb::AdjustmentTookEffect;

    fn to_message(&self) -> pb::AdjustmentTookEffect {
        pb::AdjustmentTookEffect {
            adjustment_id: self.id.as_str().to_owned(),
            effective_on: Some(self.effective_on.into()),
            superseded: self
                .superseded
                .iter()
                .map(|s| pb::Supersession {
                    code: Some(s.code.into()),
                    successors: s.successors.iter().map(|&c| c.into()).collect(),
                    valid_to: Some(s.valid_to.into()),
                })
                .collect(),
            established: self.established.iter().map(division_ref).collect(),
            renamed: self
                .renamed
                .iter()
                .map(|r| pb::Renaming {
                    code: Some(r.code.into()),
                    previous_name: r.previous_name.as_str().to_owned(),
                    name: r.name.as_str().to_owned(),
                })
                .collect(),
        }
    }
}

impl FromMessage<pb::AdjustmentTookEffect> for adjustment::TookEffect {
    fn from_message(m: pb::AdjustmentTookEffect, d: &Decoder<'_>) -> Result<Self, CodecError> {
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
        Ok(Self {
            id: adjustment_id(d, &m.adjustment_id)?,
            effective_on: d.date("effective_on", &m.effective_on)?,
            superseded,
            established: division_refs(d, "established", &m.established)?,
            renamed,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Place names.

impl ToMessage for placename::Proposed {
    type Message = pb::PlaceNameProposed;

    fn to_message(&self) -> pb::PlaceNameProposed {
        pb::PlaceNameProposed {
            place_name_id: self.id.as_str().to_owned(),
            kind: match self.kind {
                PlaceKind::Road => pb::PlaceKind::Road,
                PlaceKind::Bridge => pb::PlaceKind::Bridge,
                PlaceKind::ResidentialArea => pb::PlaceKind::ResidentialArea,
                PlaceKind::NaturalFeature => pb::PlaceKind::NaturalFeature,
            }
            .into(),
            name: self.name.as_str().to_owned(),
            pinyin: self.pinyin.as_str().to_owned(),
            region: Some(self.region.into()),
            meaning: self.meaning.as_str().to_owned(),
            proposed_on: Some(self.proposed_on.into()),
            replaces: self
                .replaces
                .as_ref()
                .map_or_else(String::new, |id| id.as_str().to_owned()),
        }
    }
}

impl FromMessage<pb::PlaceNameProposed> for placename::Proposed {
    fn from_message(m: pb::PlaceNameProposed, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let kind = match pb::PlaceKind::try_from(m.kind) {
            Ok(pb::PlaceKind::Road) => PlaceKind::Road,
            Ok(pb::PlaceKind::Bridge) => PlaceKind::Bridge,
            Ok(pb::PlaceKind::ResidentialArea) => PlaceKind::ResidentialArea,
            Ok(pb::PlaceKind::NaturalFeature) => PlaceKind::NaturalFeature,
            Ok(pb::PlaceKind::Unspecified) | Err(_) => {
                return Err(d.invalid("kind is not a known place kind"));
            }
        };
        Ok(Self {
            id: place_name_id(d, &m.place_name_id)?,
            kind,
            name: d.text("name", &m.name)?,
            pinyin: d.text("pinyin", &m.pinyin)?,
            region: d.code("region", &m.region)?,
            meaning: d.text("meaning", &m.meaning)?,
            proposed_on: d.date("proposed_on", &m.proposed_on)?,
            replaces: (!m.replaces.is_empty())
                .then(|| place_name_id(d, &m.replaces))
                .transpose()?,
        })
    }
}

impl ToMessage for placename::Evaluated {
    type Message = pb::PlaceNameEvaluated;

    fn to_message(&self) -> pb::PlaceNameEvaluated {
        pb::PlaceNameEvaluated {
            place_name_id: self.id.as_str().to_owned(),
            favourable: self.favourable,
            summary: self.summary.as_str().to_owned(),
            evaluated_on: Some(self.evaluated_on.into()),
        }
    }
}

impl FromMessage<pb::PlaceNameEvaluated> for placename::Evaluated {
    fn from_message(m: pb::PlaceNameEvaluated, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: place_name_id(d, &m.place_name_id)?,
            favourable: m.favourable,
            summary: d.text("summary", &m.summary)?,
            evaluated_on: d.date("evaluated_on", &m.evaluated_on)?,
        })
    }
}

impl ToMessage for placename::CommentPeriodOpened {
    type Message = pb::PlaceNameCommentPeriodOpened;

    fn to_message(&self) -> pb::PlaceNameCommentPeriodOpened {
        pb::PlaceNameCommentPeriodOpened {
            place_name_id: self.id.as_str().to_owned(),
            opened_on: Some(self.opened_on.into()),
            closes_on: Some(self.closes_on.into()),
        }
    }
}

impl FromMessage<pb::PlaceNameCommentPeriodOpened> for placename::CommentPeriodOpened {
    fn from_message(
        m: pb::PlaceNameCommentPeriodOpened,
        d: &Decoder<'_>,
    ) -> Result<Self, CodecError> {
        Ok(Self {
            id: place_name_id(d, &m.place_name_id)?,
            opened_on: d.date("opened_on", &m.opened_on)?,
            closes_on: d.date("closes_on", &m.closes_on)?,
        })
    }
}

impl ToMessage for placename::CommentRecorded {
    type Message = pb::PlaceNameCommentRecorded;

    fn to_message(&self) -> pb::PlaceNameCommentRecorded {
        pb::PlaceNameCommentRecorded {
            place_name_id: self.id.as_str().to_owned(),
            summary: self.summary.as_str().to_owned(),
            received_on: Some(self.received_on.into()),
        }
    }
}

impl FromMessage<pb::PlaceNameCommentRecorded> for placename::CommentRecorded {
    fn from_message(m: pb::PlaceNameCommentRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: place_name_id(d, &m.place_name_id)?,
            summary: d.text("summary", &m.summary)?,
            received_on: d.date("received_on", &m.received_on)?,
        })
    }
}

impl ToMessage for placename::CommentPeriodClosed {
    type Message = pb::PlaceNameCommentPeriodClosed;

    fn to_message(&self) -> pb::PlaceNameCommentPeriodClosed {
        pb::PlaceNameCommentPeriodClosed {
            place_name_id: self.id.as_str().to_owned(),
            closed_on: Some(self.closed_on.into()),
            comment_count: self.comment_count,
        }
    }
}

impl FromMessage<pb::PlaceNameCommentPeriodClosed> for placename::CommentPeriodClosed {
    fn from_message(
        m: pb::PlaceNameCommentPeriodClosed,
        d: &Decoder<'_>,
    ) -> Result<Self, CodecError> {
        Ok(Self {
            id: place_name_id(d, &m.place_name_id)?,
            closed_on: d.date("closed_on", &m.closed_on)?,
            comment_count: m.comment_count,
        })
    }
}

impl ToMessage for placename::Approved {
    type Message = pb::PlaceNameApproved;

    fn to_message(&self) -> pb::PlaceNameApproved {
        pb::PlaceNameApproved {
            place_name_id: self.id.as_str().to_owned(),
            approved_on: Some(self.approved_on.into()),
            approval_reference: self.reference.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::PlaceNameApproved> for placename::Approved {
    fn from_message(m: pb::PlaceNameApproved, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: place_name_id(d, &m.place_name_id)?,
            approved_on: d.date("approved_on", &m.approved_on)?,
            reference: d.text("approval_reference", &m.approval_reference)?,
        })
    }
}

impl ToMessage for placename::Rejected {
    type Message = pb::PlaceNameRejected;

    fn to_message(&self) -> pb::PlaceNameRejected {
        pb::PlaceNameRejected {
            place_name_id: self.id.as_str().to_owned(),
            rejected_on: Some(self.rejected_on.into()),
            reason: self.reason.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::PlaceNameRejected> for placename::Rejected {
    fn from_message(m: pb::PlaceNameRejected, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: place_name_id(d, &m.place_name_id)?,
            rejected_on: d.date("rejected_on", &m.rejected_on)?,
            reason: d.text("reason", &m.reason)?,
        })
    }
}

impl ToMessage for placename::Published {
    type Message = pb::PlaceNamePublished;

    fn to_message(&self) -> pb::PlaceNamePublished {
        pb::PlaceNamePublished {
            place_name_id: self.id.as_str().to_owned(),
            name: self.name.as_str().to_owned(),
            pinyin: self.pinyin.as_str().to_owned(),
            published_on: Some(self.published_on.into()),
        }
    }
}

impl FromMessage<pb::PlaceNamePublished> for placename::Published {
    fn from_message(m: pb::PlaceNamePublished, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: place_name_id(d, &m.place_name_id)?,
            name: d.text("name", &m.name)?,
            pinyin: d.text("pinyin", &m.pinyin)?,
            published_on: d.date("published_on", &m.published_on)?,
        })
    }
}

impl ToMessage for placename::Retired {
    type Message = pb::PlaceNameRetired;

    fn to_message(&self) -> pb::PlaceNameRetired {
        pb::PlaceNameRetired {
            place_name_id: self.id.as_str().to_owned(),
            retired_on: Some(self.retired_on.into()),
            reason: self.reason.as_str().to_owned(),
        }
    }
}

impl FromMessage<pb::PlaceNameRetired> for placename::Retired {
    fn from_message(m: pb::PlaceNameRetired, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: place_name_id(d, &m.place_name_id)?,
            retired_on: d.date("retired_on", &m.retired_on)?,
            reason: d.text("reason", &m.reason)?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Boundaries.

impl ToMessage for boundary::Recorded {
    type Message = pb::BoundaryRecorded;

    fn to_message(&self) -> pb::BoundaryRecorded {
        pb::BoundaryRecorded {
            boundary_id: self.id.as_str().to_owned(),
            divisions: self.between.iter().map(|&c| c.into()).collect(),
            description: optional_text(self.description.as_ref()),
            recorded_on: Some(self.recorded_on.into()),
        }
    }
}

/// Exactly two divisions (the domain value is a pair), kept in ascending code order.
impl FromMessage<pb::BoundaryRecorded> for boundary::Recorded {
    fn from_message(m: pb::BoundaryRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let Ok(mut between) = <[RegionCode; 2]>::try_from(d.codes("divisions", &m.divisions)?)
        else {
            return Err(d.invalid("divisions: must be exactly two"));
        };
        between.sort();
        Ok(Self {
            id: boundary_id(d, &m.boundary_id)?,
            between,
            description: d.optional_text("description", &m.description)?,
            recorded_on: d.date("recorded_on", &m.recorded_on)?,
        })
    }
}

impl ToMessage for boundary::RoundStarted {
    type Message = pb::InspectionRoundStarted;

    fn to_message(&self) -> pb::InspectionRoundStarted {
        pb::InspectionRoundStarted {
            boundary_id: self.id.as_str().to_owned(),
            round: self.round.get(),
            started_on: Some(self.started_on.into()),
        }
    }
}

impl FromMessage<pb::InspectionRoundStarted> for boundary::RoundStarted {
    fn from_message(m: pb::InspectionRoundStarted, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: boundary_id(d, &m.boundary_id)?,
            round: number(d, "round", m.round)?,
            started_on: d.date("started_on", &m.started_on)?,
        })
    }
}

impl ToMessage for boundary::FindingRecorded {
    type Message = pb::InspectionFindingRecorded;

    fn to_message(&self) -> pb::InspectionFindingRecorded {
        pb::InspectionFindingRecorded {
            boundary_id: self.id.as_str().to_owned(),
            round: self.round.get(),
            finding: self.finding.get(),
            kind: match self.kind {
                FindingKind::MarkerDamaged => pb::InspectionFindingKind::MarkerDamaged,
                FindingKind::MarkerMissing => pb::InspectionFindingKind::MarkerMissing,
                FindingKind::Disputed => pb::InspectionFindingKind::Disputed,
                FindingKind::Other => pb::InspectionFindingKind::Other,
            }
            .into(),
            description: self.description.as_str().to_owned(),
            recorded_on: Some(self.recorded_on.into()),
        }
    }
}

impl FromMessage<pb::InspectionFindingRecorded> for boundary::FindingRecorded {
    fn from_message(m: pb::InspectionFindingRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let kind = match pb::InspectionFindingKind::try_from(m.kind) {
            Ok(pb::InspectionFindingKind::MarkerDamaged) => FindingKind::MarkerDamaged,
            Ok(pb::InspectionFindingKind::MarkerMissing) => FindingKind::MarkerMissing,
            Ok(pb::InspectionFindingKind::Disputed) => FindingKind::Disputed,
            Ok(pb::InspectionFindingKind::Other) => FindingKind::Other,
            Ok(pb::InspectionFindingKind::Unspecified) | Err(_) => {
                return Err(d.invalid("kind is not a known finding kind"));
            }
        };
        Ok(Self {
            id: boundary_id(d, &m.boundary_id)?,
            round: number(d, "round", m.round)?,
            finding: number(d, "finding", m.finding)?,
            kind,
            description: d.text("description", &m.description)?,
            recorded_on: d.date("recorded_on", &m.recorded_on)?,
        })
    }
}

impl ToMessage for boundary::FindingResolved {
    type Message = pb::InspectionFindingResolved;

    fn to_message(&self) -> pb::InspectionFindingResolved {
        pb::InspectionFindingResolved {
            boundary_id: self.id.as_str().to_owned(),
            round: self.round.get(),
            finding: self.finding.get(),
            resolution: self.resolution.as_str().to_owned(),
            resolved_on: Some(self.resolved_on.into()),
        }
    }
}

impl FromMessage<pb::InspectionFindingResolved> for boundary::FindingResolved {
    fn from_message(m: pb::InspectionFindingResolved, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: boundary_id(d, &m.boundary_id)?,
            round: number(d, "round", m.round)?,
            finding: number(d, "finding", m.finding)?,
            resolution: d.text("resolution", &m.resolution)?,
            resolved_on: d.date("resolved_on", &m.resolved_on)?,
        })
    }
}

impl ToMessage for boundary::RoundCompleted {
    type Message = pb::InspectionRoundCompleted;

    fn to_message(&self) -> pb::InspectionRoundCompleted {
        pb::InspectionRoundCompleted {
            boundary_id: self.id.as_str().to_owned(),
            round: self.round.get(),
            completed_on: Some(self.completed_on.into()),
            conclusion: self.conclusion.as_str().to_owned(),
            finding_count: self.finding_count,
            open_finding_count: self.open_finding_count,
        }
    }
}

impl FromMessage<pb::InspectionRoundCompleted> for boundary::RoundCompleted {
    fn from_message(m: pb::InspectionRoundCompleted, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: boundary_id(d, &m.boundary_id)?,
            round: number(d, "round", m.round)?,
            completed_on: d.date("completed_on", &m.completed_on)?,
            conclusion: d.text("conclusion", &m.conclusion)?,
            finding_count: m.finding_count,
            open_finding_count: m.open_finding_count,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Signs.

impl ToMessage for sign::Installed {
    type Message = pb::SignInstalled;

    fn to_message(&self) -> pb::SignInstalled {
        pb::SignInstalled {
            sign_id: self.id.as_str().to_owned(),
            place_name_id: self.place_name.as_str().to_owned(),
            text: self.text.as_str().to_owned(),
            location: self.location.as_str().to_owned(),
            installed_on: Some(self.installed_on.into()),
        }
    }
}

impl FromMessage<pb::SignInstalled> for sign::Installed {
    fn from_message(m: pb::SignInstalled, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: sign_id(d, &m.sign_id)?,
            place_name: place_name_id(d, &m.place_name_id)?,
            text: d.text("text", &m.text)?,
            location: d.text("location", &m.location)?,
            installed_on: d.date("installed_on", &m.installed_on)?,
        })
    }
}

impl ToMessage for sign::Inspected {
    type Message = pb::SignInspected;

    fn to_message(&self) -> pb::SignInspected {
        pb::SignInspected {
            sign_id: self.id.as_str().to_owned(),
            condition: match self.condition {
                Condition::Good => pb::SignCondition::Good,
                Condition::Damaged => pb::SignCondition::Damaged,
                Condition::Missing => pb::SignCondition::Missing,
            }
            .into(),
            note: optional_text(self.note.as_ref()),
            inspected_on: Some(self.inspected_on.into()),
        }
    }
}

impl FromMessage<pb::SignInspected> for sign::Inspected {
    fn from_message(m: pb::SignInspected, d: &Decoder<'_>) -> Result<Self, CodecError> {
        let condition = match pb::SignCondition::try_from(m.condition) {
            Ok(pb::SignCondition::Good) => Condition::Good,
            Ok(pb::SignCondition::Damaged) => Condition::Damaged,
            Ok(pb::SignCondition::Missing) => Condition::Missing,
            Ok(pb::SignCondition::Unspecified) | Err(_) => {
                return Err(d.invalid("condition is not a known sign condition"));
            }
        };
        Ok(Self {
            id: sign_id(d, &m.sign_id)?,
            condition,
            note: d.optional_text("note", &m.note)?,
            inspected_on: d.date("inspected_on", &m.inspected_on)?,
        })
    }
}

impl ToMessage for sign::Replaced {
    type Message = pb::SignReplaced;

    fn to_message(&self) -> pb::SignReplaced {
        pb::SignReplaced {
            sign_id: self.id.as_str().to_owned(),
            reason: self.reason.as_str().to_owned(),
            location: self.location.as_str().to_owned(),
            replaced_on: Some(self.replaced_on.into()),
        }
    }
}

impl FromMessage<pb::SignReplaced> for sign::Replaced {
    fn from_message(m: pb::SignReplaced, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: sign_id(d, &m.sign_id)?,
            reason: d.text("reason", &m.reason)?,
            location: d.text("location", &m.location)?,
            replaced_on: d.date("replaced_on", &m.replaced_on)?,
        })
    }
}

impl ToMessage for sign::Removed {
    type Message = pb::SignRemoved;

    fn to_message(&self) -> pb::SignRemoved {
        pb::SignRemoved {
            sign_id: self.id.as_str().to_owned(),
            reason: self.reason.as_str().to_owned(),
            removed_on: Some(self.removed_on.into()),
        }
    }
}

impl FromMessage<pb::SignRemoved> for sign::Removed {
    fn from_message(m: pb::SignRemoved, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: sign_id(d, &m.sign_id)?,
            reason: d.text("reason", &m.reason)?,
            removed_on: d.date("removed_on", &m.removed_on)?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Values the events share.

fn division_ref(d: &DivisionRef) -> pb::DivisionRef {
    pb::DivisionRef {
        code: Some(d.code.into()),
        name: d.name.as_str().to_owned(),
    }
}

fn division_refs(
    d: &Decoder<'_>,
    field: &str,
    refs: &[pb::DivisionRef],
) -> Result<Vec<DivisionRef>, CodecError> {
    refs.iter()
        .map(|r| {
            Ok(DivisionRef {
                code: d.code(field, &r.code)?,
                name: d.text(field, &r.name)?,
            })
        })
        .collect()
}

fn township_type(d: &Decoder<'_>, field: &str, value: i32) -> Result<TownshipType, CodecError> {
    match pb::TownshipType::try_from(value) {
        Ok(pb::TownshipType::Township) => Ok(TownshipType::Township),
        Ok(pb::TownshipType::Town) => Ok(TownshipType::Town),
        Ok(pb::TownshipType::Subdistrict) => Ok(TownshipType::Subdistrict),
        Ok(pb::TownshipType::Unspecified) | Err(_) => {
            Err(d.invalid(format!("{field}: not a known township type")))
        }
    }
}

fn adjustment_id(d: &Decoder<'_>, id: &str) -> Result<AdjustmentId, CodecError> {
    d.parse("adjustment_id", AdjustmentId::parse(id))
}

fn place_name_id(d: &Decoder<'_>, id: &str) -> Result<PlaceNameId, CodecError> {
    d.parse("place_name_id", PlaceNameId::parse(id))
}

fn boundary_id(d: &Decoder<'_>, id: &str) -> Result<BoundaryId, CodecError> {
    d.parse("boundary_id", BoundaryId::parse(id))
}

fn sign_id(d: &Decoder<'_>, id: &str) -> Result<SignId, CodecError> {
    d.parse("sign_id", SignId::parse(id))
}

/// A round or finding number: 1 or more.
fn number(d: &Decoder<'_>, field: &str, value: u32) -> Result<NonZeroU32, CodecError> {
    NonZeroU32::new(value).ok_or_else(|| d.invalid(format!("{field}: must be at least 1")))
}

#[cfg(test)]
mod tests {
    use minzheng_eventstore::RecordedEvent;
    use minzheng_kit::{
        aggregate::{Contract, EventCodec},
        testing::assert_codec_round_trips,
    };
    use minzheng_types::BoundedText;
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

    /// The stored type of `M`'s events.
    pub(super) fn stored<M: prost::Name>() -> String {
        M::full_name()
    }

    #[test]
    fn every_event_round_trips() {
        assert_codec_round_trips(division_events());
        assert_codec_round_trips(adjustment_events());
        assert_codec_round_trips(placename_events());
    }

    /// The stored types are the public contract and the history already stored: they must stay
    /// byte for byte what they are.
    #[test]
    fn stored_event_types_never_change() {
        let used = division_events()
            .iter()
            .map(EventCodec::event_type)
            .chain(adjustment_events().iter().map(EventCodec::event_type))
            .chain(placename_events().iter().map(EventCodec::event_type))
            .chain(
                super::boundary_and_sign_tests::boundary_events()
                    .iter()
                    .map(EventCodec::event_type),
            )
            .chain(
                super::boundary_and_sign_tests::sign_events()
                    .iter()
                    .map(EventCodec::event_type),
            )
            .collect::<std::collections::BTreeSet<_>>();
        let expected = [
            "DivisionRecorded",
            "DivisionRenamed",
            "DivisionSuperseded",
            "AdjustmentProposed",
            "AdjustmentReviewRecorded",
            "AdjustmentApproved",
            "AdjustmentRejected",
            "AdjustmentTookEffect",
            "PlaceNameProposed",
            "PlaceNameEvaluated",
            "PlaceNameCommentPeriodOpened",
            "PlaceNameCommentRecorded",
            "PlaceNameCommentPeriodClosed",
            "PlaceNameApproved",
            "PlaceNameRejected",
            "PlaceNamePublished",
            "PlaceNameRetired",
            "BoundaryRecorded",
            "InspectionRoundStarted",
            "InspectionFindingRecorded",
            "InspectionFindingResolved",
            "InspectionRoundCompleted",
            "SignInstalled",
            "SignInspected",
            "SignReplaced",
            "SignRemoved",
        ]
        .map(|name| format!("minzheng.placenames.v1.{name}"));
        assert_eq!(
            used,
            expected.iter().map(String::as_str).collect(),
            "every event type, exactly as stored"
        );
    }

    #[test]
    fn unknown_types_and_versions_are_reported() {
        let approved = stored::<pb::AdjustmentApproved>();
        assert!(matches!(
            division::Event::decode(&approved, 1, &[]),
            Err(CodecError::UnknownType(t)) if t == approved
        ));
        assert!(matches!(
            adjustment::Event::decode(&approved, 2, &[]),
            Err(CodecError::UnsupportedVersion {
                schema_version: 2,
                ..
            })
        ));
    }

    #[test]
    fn stored_divisions_are_read_for_their_shape() {
        let recorded = pb::DivisionRecorded {
            code: Some(code("210521202000").into()),
            name: "东营坊乡".into(),
            level: common::RegionLevel::Township.into(),
            parent: Some(code("210521000000").into()),
            valid_from: Some(date!(2020 - 06 - 30).into()),
            adjustment_id: String::new(),
        };
        let decode = |m: &pb::DivisionRecorded| {
            division::Event::decode(&stored::<pb::DivisionRecorded>(), 1, &m.encode_to_vec())
        };
        // The level repeats what the code says: a stored level that disagrees is not read, the
        // code is the fact.
        let other_level = pb::DivisionRecorded {
            level: common::RegionLevel::Village.into(),
            ..recorded.clone()
        };
        assert_eq!(
            decode(&other_level).expect("decodes"),
            decode(&recorded).expect("decodes")
        );
        let bad_code = pb::DivisionRecorded {
            code: Some(common::RegionCode {
                code: "2105".into(),
            }),
            ..recorded.clone()
        };
        assert!(matches!(decode(&bad_code), Err(CodecError::Invalid { .. })));
        let no_name = pb::DivisionRecorded {
            name: " ".into(),
            ..recorded
        };
        assert!(matches!(decode(&no_name), Err(CodecError::Invalid { .. })));

        let proposed = stored::<pb::AdjustmentProposed>();
        let unspecified_kind = pb::AdjustmentProposed {
            adjustment_id: "BX-1".into(),
            proposed_on: Some(date!(2025 - 01 - 10).into()),
            justification: "理由".into(),
            ..Default::default()
        };
        assert!(matches!(
            adjustment::Event::decode(&proposed, 1, &unspecified_kind.encode_to_vec()),
            Err(CodecError::Invalid { .. })
        ));
        assert!(matches!(
            adjustment::Event::decode(&proposed, 1, &[0xff, 0xff]),
            Err(CodecError::Invalid { .. })
        ));
    }

    #[test]
    fn the_own_store_contract_decodes_by_stream_category() {
        use bytes::Bytes;
        use minzheng_eventstore::{Cursor, Metadata, StreamId};
        let recorded = |category: &str, event: &dyn Fn() -> (String, Bytes)| {
            let (event_type, payload) = event();
            RecordedEvent {
                id: uuid::Uuid::now_v7(),
                stream: StreamId::new(category, "k").expect("valid"),
                stream_version: 1,
                position: 1,
                cursor: Cursor { tx: 0, position: 1 },
                event_type,
                schema_version: 1,
                payload,
                metadata: Metadata::default(),
                recorded_at: time::OffsetDateTime::UNIX_EPOCH,
            }
        };
        let renamed = division_events().remove(2);
        let as_stored = || (renamed.event_type().to_owned(), renamed.encode());
        assert_eq!(
            OwnStore::decode(&recorded("division", &as_stored)).expect("decodes"),
            Some(Recorded::Division(renamed.clone()))
        );
        // The read audit's streams are not the directory's business.
        assert_eq!(
            OwnStore::decode(&recorded("audit", &as_stored)).expect("not listed"),
            None
        );
        // A division event in an adjustment stream is a bug, reported.
        assert!(matches!(
            OwnStore::decode(&recorded("adjustment", &as_stored)),
            Err(CodecError::UnknownType(_))
        ));
    }
}

/// Codec tests for the boundary and sign events, kept apart from the tests above so the two
/// slices can grow without touching each other.
#[cfg(test)]
mod boundary_and_sign_tests {
    use minzheng_kit::{aggregate::EventCodec, testing::assert_codec_round_trips};
    use prost::Message;
    use time::macros::date;

    use super::{tests::stored, *};
    use crate::{
        boundary::{self, FindingKind},
        sign::{self, Condition},
    };

    /// Every boundary event, with each finding kind and without a description.
    pub(super) fn boundary_events() -> Vec<boundary::Event> {
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
    pub(super) fn sign_events() -> Vec<sign::Event> {
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

    fn invalid<E: EventCodec + std::fmt::Debug>(event_type: &str, message: &impl Message) {
        let decoded = E::decode(event_type, 1, &message.encode_to_vec());
        assert!(
            matches!(decoded, Err(CodecError::Invalid { .. })),
            "{event_type} decoded to {decoded:?}"
        );
    }

    fn decodes<E: EventCodec + std::fmt::Debug>(event_type: &str, message: &impl Message) -> E {
        E::decode(event_type, 1, &message.encode_to_vec())
            .unwrap_or_else(|e| panic!("{event_type} does not decode: {e}"))
    }

    #[test]
    fn stored_boundaries_are_read_for_their_shape_not_the_rules() {
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
        let with = |divisions: &[&str]| pb::BoundaryRecorded {
            divisions: divisions.iter().copied().filter_map(code).collect(),
            ..recorded.clone()
        };
        let boundary_recorded = stored::<pb::BoundaryRecorded>();
        // A boundary is between two divisions: one or three is not a boundary.
        for divisions in [
            &["210502000000"][..],
            &["210502000000", "210503000000", "210504000000"],
            &["210502000000", "2105"],
        ] {
            invalid::<boundary::Event>(&boundary_recorded, &with(divisions));
        }
        // Which divisions may share a boundary is a rule of recording one, not of reading it.
        let boundary::Event::Recorded(mixed) = decodes::<boundary::Event>(
            &boundary_recorded,
            &with(&["210503001000", "210502000000"]),
        ) else {
            unreachable!("a boundary record")
        };
        assert_eq!(
            mixed.between.map(|c| c.to_string()),
            ["210502000000", "210503001000"],
            "kept in ascending code order"
        );
        invalid::<boundary::Event>(
            &stored::<pb::InspectionRoundStarted>(),
            &pb::InspectionRoundStarted {
                boundary_id: "210502-210503".into(),
                round: 0,
                started_on: Some(date!(2025 - 09 - 01).into()),
            },
        );
        invalid::<boundary::Event>(
            &stored::<pb::InspectionFindingRecorded>(),
            &pb::InspectionFindingRecorded {
                boundary_id: "210502-210503".into(),
                round: 5,
                finding: 1,
                kind: pb::InspectionFindingKind::Unspecified.into(),
                description: "界桩缺失".into(),
                recorded_on: Some(date!(2025 - 09 - 02).into()),
            },
        );
        let completed = pb::InspectionRoundCompleted {
            boundary_id: "210502-210503".into(),
            round: 5,
            completed_on: Some(date!(2026 - 06 - 30).into()),
            conclusion: "界线清晰".into(),
            finding_count: 1,
            open_finding_count: 2,
        };
        let boundary::Event::RoundCompleted(counted) =
            decodes::<boundary::Event>(&stored::<pb::InspectionRoundCompleted>(), &completed)
        else {
            unreachable!("a completed round")
        };
        assert_eq!((counted.finding_count, counted.open_finding_count), (1, 2));
    }

    #[test]
    fn stored_signs_that_are_malformed_are_invalid() {
        let inspected = pb::SignInspected {
            sign_id: "BX-PS-0107".into(),
            condition: pb::SignCondition::Unspecified.into(),
            note: String::new(),
            inspected_on: Some(date!(2026 - 03 - 15).into()),
        };
        let sign_inspected = stored::<pb::SignInspected>();
        invalid::<sign::Event>(&sign_inspected, &inspected);
        invalid::<sign::Event>(
            &sign_inspected,
            &pb::SignInspected {
                sign_id: String::new(),
                condition: pb::SignCondition::Good.into(),
                ..inspected
            },
        );
        invalid::<sign::Event>(
            &stored::<pb::SignInstalled>(),
            &pb::SignInstalled {
                sign_id: "BX-PS-0107".into(),
                place_name_id: "BX-DM-2025-014".into(),
                text: "平山路".into(),
                location: " ".into(),
                installed_on: Some(date!(2025 - 07 - 01).into()),
            },
        );
        assert!(matches!(
            sign::Event::decode(&stored::<pb::BoundaryRecorded>(), 1, &[]),
            Err(CodecError::UnknownType(_))
        ));
    }
}
