//! The adjustment RPCs: the workflow from proposal to taking effect, and GetAdjustment.

use minzheng_host::{codec::ToMessage, edge::Call, fields::Fields as _};
use minzheng_kit::Error;
use minzheng_proto::{convert, placenames::v1 as pb};
use minzheng_types::{RegionCode, Violations};

use super::{PlaceNamesApi, REFERENCE_MAX_CHARS, TEXT_MAX_CHARS, result};
use crate::{
    AdjustmentId, NAME_MAX_CHARS,
    adjustment::{self, DivisionRef, Kind, ReviewKind, TownshipType},
    directory::{AdjustmentEntry, AdjustmentStatus},
};

fn division_refs(
    field: &str,
    refs: &[pb::DivisionRef],
    violations: &mut Violations,
) -> Vec<DivisionRef> {
    refs.iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let code =
                violations.record(convert::region_code(&format!("{field}[{i}].code"), &r.code));
            let name = violations.text(&format!("{field}[{i}].name"), &r.name, NAME_MAX_CHARS);
            Some(DivisionRef {
                code: code?,
                name: name?,
            })
        })
        .collect()
}

fn township_type(field: &str, value: i32, violations: &mut Violations) -> Option<TownshipType> {
    match pb::TownshipType::try_from(value) {
        Ok(pb::TownshipType::Township) => Some(TownshipType::Township),
        Ok(pb::TownshipType::Town) => Some(TownshipType::Town),
        Ok(pb::TownshipType::Subdistrict) => Some(TownshipType::Subdistrict),
        _ => {
            violations.push(
                field,
                "must be TOWNSHIP, TOWN or SUBDISTRICT for a change of type",
            );
            None
        }
    }
}

fn kind(request: &pb::ProposeAdjustmentRequest, violations: &mut Violations) -> Option<Kind> {
    match pb::AdjustmentKind::try_from(request.kind) {
        Ok(pb::AdjustmentKind::Rename) => Some(Kind::Rename),
        Ok(pb::AdjustmentKind::Merge) => Some(Kind::Merge),
        Ok(pb::AdjustmentKind::Split) => Some(Kind::Split),
        Ok(pb::AdjustmentKind::Recode) => Some(Kind::Recode),
        Ok(pb::AdjustmentKind::ChangeType) => {
            let from = township_type("from_type", request.from_type, violations);
            let to = township_type("to_type", request.to_type, violations);
            Some(Kind::ChangeType {
                from: from?,
                to: to?,
            })
        }
        Ok(pb::AdjustmentKind::Unspecified) | Err(_) => {
            violations.push(
                "kind",
                "must be RENAME, MERGE, SPLIT, CHANGE_TYPE or RECODE",
            );
            None
        }
    }
}

fn adjustment_message(entry: &AdjustmentEntry) -> pb::GetAdjustmentResponse {
    pb::GetAdjustmentResponse {
        proposal: Some(entry.proposal.to_message()),
        status: match entry.status() {
            AdjustmentStatus::Proposed => pb::AdjustmentStatus::Proposed,
            AdjustmentStatus::Approved => pb::AdjustmentStatus::Approved,
            AdjustmentStatus::Rejected => pb::AdjustmentStatus::Rejected,
            AdjustmentStatus::InEffect => pb::AdjustmentStatus::InEffect,
        }
        .into(),
        reviews: entry.reviews.iter().map(ToMessage::to_message).collect(),
        approval: entry.approval.as_ref().map(ToMessage::to_message),
        rejection: entry.rejection.as_ref().map(ToMessage::to_message),
        took_effect: entry.took_effect.as_ref().map(ToMessage::to_message),
    }
}

impl PlaceNamesApi {
    pub(super) async fn propose_adjustment(
        &self,
        call: Call<pb::ProposeAdjustmentRequest>,
    ) -> Result<pb::ProposeAdjustmentResponse, Error> {
        let mut violations = Violations::new();
        let context = call.command_context(&call.body().metadata, &mut violations);
        let body = call.body();
        let id = violations.id(
            "adjustment_id",
            &body.adjustment_id,
            crate::ids::given(AdjustmentId::parse),
        );
        let kind = kind(body, &mut violations);
        let before = division_refs("before", &body.before, &mut violations);
        let after = division_refs("after", &body.after, &mut violations);
        let justification = violations.text("justification", &body.justification, TEXT_MAX_CHARS);
        let proposed_on = violations.date("proposed_on", &body.proposed_on);
        let (id, kind, justification, proposed_on) =
            violations.finish((id, kind, justification, proposed_on))?;
        let codes: Vec<RegionCode> = before.iter().chain(&after).map(|d| d.code).collect();
        call.require_regions(&codes)?;
        let committed = self
            .app
            .propose(
                adjustment::Propose {
                    id,
                    kind,
                    before,
                    after,
                    justification,
                    proposed_on,
                },
                &context,
            )
            .await?;
        Ok(pb::ProposeAdjustmentResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn record_adjustment_review(
        &self,
        call: Call<pb::RecordAdjustmentReviewRequest>,
    ) -> Result<pb::RecordAdjustmentReviewResponse, Error> {
        let mut violations = Violations::new();
        let context = call.command_context(&call.body().metadata, &mut violations);
        let body = call.body();
        let id = violations.id(
            "adjustment_id",
            &body.adjustment_id,
            crate::ids::given(AdjustmentId::parse),
        );
        let review = match pb::ReviewKind::try_from(body.review) {
            Ok(pb::ReviewKind::Expert) => Some(ReviewKind::Expert),
            Ok(pb::ReviewKind::Risk) => Some(ReviewKind::Risk),
            Ok(pb::ReviewKind::PublicOpinion) => Some(ReviewKind::PublicOpinion),
            _ => {
                violations.push("review", "must be EXPERT, RISK or PUBLIC_OPINION");
                None
            }
        };
        let summary = violations.text("summary", &body.summary, TEXT_MAX_CHARS);
        let recorded_on = violations.date("recorded_on", &body.recorded_on);
        let (id, review, summary, recorded_on) =
            violations.finish((id, review, summary, recorded_on))?;
        call.require_regions(&self.app.adjustment_divisions(&id).await?)?;
        let command = adjustment::Command::RecordReview(adjustment::RecordReview {
            review,
            favourable: body.favourable,
            summary,
            recorded_on,
        });
        let committed = self.app.run_adjustment(&id, &command, &context).await?;
        Ok(pb::RecordAdjustmentReviewResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn approve_adjustment(
        &self,
        call: Call<pb::ApproveAdjustmentRequest>,
    ) -> Result<pb::ApproveAdjustmentResponse, Error> {
        let mut violations = Violations::new();
        let context = call.command_context(&call.body().metadata, &mut violations);
        let body = call.body();
        let id = violations.id(
            "adjustment_id",
            &body.adjustment_id,
            crate::ids::given(AdjustmentId::parse),
        );
        let approved_on = violations.date("approved_on", &body.approved_on);
        let reference = violations.text(
            "approval_reference",
            &body.approval_reference,
            REFERENCE_MAX_CHARS,
        );
        let (id, approved_on, reference) = violations.finish((id, approved_on, reference))?;
        call.require_regions(&self.app.adjustment_divisions(&id).await?)?;
        let command = adjustment::Command::Approve(adjustment::Approve {
            approved_on,
            reference,
        });
        let committed = self.app.run_adjustment(&id, &command, &context).await?;
        Ok(pb::ApproveAdjustmentResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn reject_adjustment(
        &self,
        call: Call<pb::RejectAdjustmentRequest>,
    ) -> Result<pb::RejectAdjustmentResponse, Error> {
        let mut violations = Violations::new();
        let context = call.command_context(&call.body().metadata, &mut violations);
        let body = call.body();
        let id = violations.id(
            "adjustment_id",
            &body.adjustment_id,
            crate::ids::given(AdjustmentId::parse),
        );
        let rejected_on = violations.date("rejected_on", &body.rejected_on);
        let reason = violations.text("reason", &body.reason, TEXT_MAX_CHARS);
        let (id, rejected_on, reason) = violations.finish((id, rejected_on, reason))?;
        call.require_regions(&self.app.adjustment_divisions(&id).await?)?;
        let command = adjustment::Command::Reject(adjustment::Reject {
            rejected_on,
            reason,
        });
        let committed = self.app.run_adjustment(&id, &command, &context).await?;
        Ok(pb::RejectAdjustmentResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn put_adjustment_into_effect(
        &self,
        call: Call<pb::PutAdjustmentIntoEffectRequest>,
    ) -> Result<pb::PutAdjustmentIntoEffectResponse, Error> {
        let mut violations = Violations::new();
        let context = call.command_context(&call.body().metadata, &mut violations);
        let body = call.body();
        let id = violations.id(
            "adjustment_id",
            &body.adjustment_id,
            crate::ids::given(AdjustmentId::parse),
        );
        let effective_on = violations.date("effective_on", &body.effective_on);
        let (id, effective_on) = violations.finish((id, effective_on))?;
        call.require_regions(&self.app.adjustment_divisions(&id).await?)?;
        let (committed, took_effect) = self
            .app
            .put_into_effect(&id, effective_on, &context)
            .await?;
        Ok(pb::PutAdjustmentIntoEffectResponse {
            result: Some(result(&committed)),
            took_effect: Some(took_effect.to_message()),
        })
    }

    pub(super) async fn get_adjustment(
        &self,
        call: Call<pb::GetAdjustmentRequest>,
    ) -> Result<pb::GetAdjustmentResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let id = violations.id(
            "adjustment_id",
            &body.adjustment_id,
            crate::ids::given(AdjustmentId::parse),
        );
        let id = violations.finish(id)?;
        call.authenticated()?;
        self.wait(&call, &body.read).await?;
        let directory = self.app.view().read().await;
        let entry = directory
            .adjustment(id.as_str())
            .ok_or_else(|| Error::NotFound(format!("adjustment {id}")))?;
        Ok(adjustment_message(entry))
    }
}
