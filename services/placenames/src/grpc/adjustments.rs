//! The adjustment RPCs: the workflow from proposal to taking effect, and GetAdjustment.

use minzheng_kit::{
    Error,
    auth::{self, Role},
};
use minzheng_proto::{convert, placenames::v1 as pb};
use minzheng_types::{RegionCode, Violations};
use tonic::{Request, Response};

use super::{
    PlaceNamesApi, REFERENCE_MAX_CHARS, TEXT_MAX_CHARS, command_context, require_approver_scope,
    require_scope, result, text, violations_ok,
};
use crate::{
    AdjustmentId, NAME_MAX_CHARS,
    adjustment::{self, DivisionRef, Kind, ReviewKind, TownshipType},
    directory::AdjustmentEntry,
};

fn adjustment_id(field: &str, id: &str, violations: &mut Violations) -> Option<AdjustmentId> {
    violations.check(field, AdjustmentId::parse(id))
}

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
            let name = violations.record(convert::bounded_text(
                &format!("{field}[{i}].name"),
                &r.name,
                NAME_MAX_CHARS,
            ));
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
        proposal: Some(entry.proposal.clone()),
        status: entry.status().into(),
        reviews: entry.reviews.clone(),
        approval: entry.approval.clone(),
        rejection: entry.rejection.clone(),
        took_effect: entry
            .took_effect
            .as_ref()
            .map(|(_, message)| message.clone()),
    }
}

impl PlaceNamesApi {
    pub(super) async fn do_propose_adjustment(
        &self,
        request: Request<pb::ProposeAdjustmentRequest>,
    ) -> Result<Response<pb::ProposeAdjustmentResponse>, Error> {
        let principal = auth::require_any(&request, &[Role::Caseworker, Role::Approver])?.clone();
        let mut violations = Violations::new();
        let context = command_context(&request, &request.get_ref().metadata, &mut violations);
        let body = request.get_ref();
        let id = adjustment_id("adjustment_id", &body.adjustment_id, &mut violations);
        let kind = kind(body, &mut violations);
        let before = division_refs("before", &body.before, &mut violations);
        let after = division_refs("after", &body.after, &mut violations);
        let justification = text(
            "justification",
            &body.justification,
            TEXT_MAX_CHARS,
            &mut violations,
        );
        let proposed_on = violations.record(convert::date("proposed_on", &body.proposed_on));
        violations_ok(violations)?;
        let (Some(id), Some(kind), Some(justification), Some(proposed_on)) =
            (id, kind, justification, proposed_on)
        else {
            return Err(Error::invalid_field("adjustment_id", "is required"));
        };
        let codes: Vec<RegionCode> = before.iter().chain(&after).map(|d| d.code).collect();
        require_scope(&principal, &codes)?;
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
        Ok(Response::new(pb::ProposeAdjustmentResponse {
            result: Some(result(&committed)),
        }))
    }

    pub(super) async fn do_record_adjustment_review(
        &self,
        request: Request<pb::RecordAdjustmentReviewRequest>,
    ) -> Result<Response<pb::RecordAdjustmentReviewResponse>, Error> {
        let principal = auth::require_any(&request, &[Role::Caseworker, Role::Approver])?.clone();
        let mut violations = Violations::new();
        let context = command_context(&request, &request.get_ref().metadata, &mut violations);
        let body = request.get_ref();
        let id = adjustment_id("adjustment_id", &body.adjustment_id, &mut violations);
        let review = match pb::ReviewKind::try_from(body.review) {
            Ok(pb::ReviewKind::Expert) => Some(ReviewKind::Expert),
            Ok(pb::ReviewKind::Risk) => Some(ReviewKind::Risk),
            Ok(pb::ReviewKind::PublicOpinion) => Some(ReviewKind::PublicOpinion),
            _ => {
                violations.push("review", "must be EXPERT, RISK or PUBLIC_OPINION");
                None
            }
        };
        let summary = text("summary", &body.summary, TEXT_MAX_CHARS, &mut violations);
        let recorded_on = violations.record(convert::date("recorded_on", &body.recorded_on));
        violations_ok(violations)?;
        let (Some(id), Some(review), Some(summary), Some(recorded_on)) =
            (id, review, summary, recorded_on)
        else {
            return Err(Error::invalid_field("adjustment_id", "is required"));
        };
        require_scope(&principal, &self.app.adjustment_divisions(&id).await?)?;
        let command = adjustment::Command::RecordReview(adjustment::RecordReview {
            review,
            favourable: body.favourable,
            summary,
            recorded_on,
        });
        let committed = self
            .app
            .run_adjustment(id.as_str(), &command, &context)
            .await?;
        Ok(Response::new(pb::RecordAdjustmentReviewResponse {
            result: Some(result(&committed)),
        }))
    }

    pub(super) async fn do_approve_adjustment(
        &self,
        request: Request<pb::ApproveAdjustmentRequest>,
    ) -> Result<Response<pb::ApproveAdjustmentResponse>, Error> {
        let principal = auth::require(&request, Role::Approver)?.clone();
        let mut violations = Violations::new();
        let context = command_context(&request, &request.get_ref().metadata, &mut violations);
        let body = request.get_ref();
        let id = adjustment_id("adjustment_id", &body.adjustment_id, &mut violations);
        let approved_on = violations.record(convert::date("approved_on", &body.approved_on));
        let reference = text(
            "approval_reference",
            &body.approval_reference,
            REFERENCE_MAX_CHARS,
            &mut violations,
        );
        violations_ok(violations)?;
        let (Some(id), Some(approved_on), Some(reference)) = (id, approved_on, reference) else {
            return Err(Error::invalid_field("adjustment_id", "is required"));
        };
        require_approver_scope(&principal, &self.app.adjustment_divisions(&id).await?)?;
        let command = adjustment::Command::Approve(adjustment::Approve {
            approved_on,
            reference,
        });
        let committed = self
            .app
            .run_adjustment(id.as_str(), &command, &context)
            .await?;
        Ok(Response::new(pb::ApproveAdjustmentResponse {
            result: Some(result(&committed)),
        }))
    }

    pub(super) async fn do_reject_adjustment(
        &self,
        request: Request<pb::RejectAdjustmentRequest>,
    ) -> Result<Response<pb::RejectAdjustmentResponse>, Error> {
        let principal = auth::require(&request, Role::Approver)?.clone();
        let mut violations = Violations::new();
        let context = command_context(&request, &request.get_ref().metadata, &mut violations);
        let body = request.get_ref();
        let id = adjustment_id("adjustment_id", &body.adjustment_id, &mut violations);
        let rejected_on = violations.record(convert::date("rejected_on", &body.rejected_on));
        let reason = text("reason", &body.reason, TEXT_MAX_CHARS, &mut violations);
        violations_ok(violations)?;
        let (Some(id), Some(rejected_on), Some(reason)) = (id, rejected_on, reason) else {
            return Err(Error::invalid_field("adjustment_id", "is required"));
        };
        require_approver_scope(&principal, &self.app.adjustment_divisions(&id).await?)?;
        let command = adjustment::Command::Reject(adjustment::Reject {
            rejected_on,
            reason,
        });
        let committed = self
            .app
            .run_adjustment(id.as_str(), &command, &context)
            .await?;
        Ok(Response::new(pb::RejectAdjustmentResponse {
            result: Some(result(&committed)),
        }))
    }

    pub(super) async fn do_put_adjustment_into_effect(
        &self,
        request: Request<pb::PutAdjustmentIntoEffectRequest>,
    ) -> Result<Response<pb::PutAdjustmentIntoEffectResponse>, Error> {
        let principal = auth::require(&request, Role::Approver)?.clone();
        let mut violations = Violations::new();
        let context = command_context(&request, &request.get_ref().metadata, &mut violations);
        let body = request.get_ref();
        let id = adjustment_id("adjustment_id", &body.adjustment_id, &mut violations);
        let effective_on = violations.record(convert::date("effective_on", &body.effective_on));
        violations_ok(violations)?;
        let (Some(id), Some(effective_on)) = (id, effective_on) else {
            return Err(Error::invalid_field("adjustment_id", "is required"));
        };
        require_approver_scope(&principal, &self.app.adjustment_divisions(&id).await?)?;
        let (committed, took_effect) = self
            .app
            .put_into_effect(&id, effective_on, &context)
            .await?;
        let message = {
            use minzheng_kit::aggregate::EventCodec as _;
            use prost::Message as _;
            let encoded = adjustment::Event::TookEffect(took_effect).encode();
            pb::AdjustmentTookEffect::decode(encoded).map_err(Error::internal)?
        };
        Ok(Response::new(pb::PutAdjustmentIntoEffectResponse {
            result: Some(result(&committed)),
            took_effect: Some(message),
        }))
    }

    pub(super) async fn do_get_adjustment(
        &self,
        request: Request<pb::GetAdjustmentRequest>,
    ) -> Result<Response<pb::GetAdjustmentResponse>, Error> {
        let body = request.get_ref();
        let mut violations = Violations::new();
        let id = adjustment_id("adjustment_id", &body.adjustment_id, &mut violations);
        violations_ok(violations)?;
        let Some(id) = id else {
            return Err(Error::invalid_field("adjustment_id", "is required"));
        };
        auth::authenticated(&request)?;
        self.wait(&request, &body.read).await?;
        let directory = self.app.view().read().await;
        let entry = directory
            .adjustment(id.as_str())
            .ok_or_else(|| Error::NotFound(format!("adjustment {id}")))?;
        Ok(Response::new(adjustment_message(entry)))
    }
}
