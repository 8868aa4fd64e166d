//! The RPCs of applications and their steps, and a case's answer.

use minzheng_host::{
    codec::ToMessage as _,
    edge::{self, Call},
    fields::Fields as _,
};
use minzheng_kit::Error;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common};
use minzheng_types::{RegionLevel, Violations};

use super::{AssistanceApi, household};
use crate::{
    app::{Pending, dynamic::CaseChange, steps::Decision, submit::Submission},
    case::{self, Case, ReviewCause, Stage},
    codec::policy::calculation_to_pb,
    ids::CaseId,
    payments::BankAccount,
};

pub(super) fn stage_to_pb(stage: Stage) -> pb::CaseStage {
    match stage {
        Stage::New => pb::CaseStage::Unspecified,
        Stage::AwaitingVerification => pb::CaseStage::AwaitingVerification,
        Stage::AwaitingTownshipReview => pb::CaseStage::AwaitingTownshipReview,
        Stage::AwaitingNotice => pb::CaseStage::AwaitingNotice,
        Stage::InNotice => pb::CaseStage::InNotice,
        Stage::AwaitingDecision => pb::CaseStage::AwaitingDecision,
        Stage::AwaitingReport => pb::CaseStage::AwaitingReport,
        Stage::Active => pb::CaseStage::Active,
        Stage::Suspended => pb::CaseStage::Suspended,
        Stage::ApprovedOnce => pb::CaseStage::ApprovedOnce,
        Stage::Rejected => pb::CaseStage::Rejected,
        Stage::Ended => pb::CaseStage::Ended,
    }
}

fn stage_from_pb(violations: &mut Violations, value: i32) -> Option<Option<Stage>> {
    let stage = match pb::CaseStage::try_from(value) {
        Ok(pb::CaseStage::Unspecified) => return Some(None),
        Ok(pb::CaseStage::AwaitingVerification) => Stage::AwaitingVerification,
        Ok(pb::CaseStage::AwaitingTownshipReview) => Stage::AwaitingTownshipReview,
        Ok(pb::CaseStage::AwaitingNotice) => Stage::AwaitingNotice,
        Ok(pb::CaseStage::InNotice) => Stage::InNotice,
        Ok(pb::CaseStage::AwaitingDecision) => Stage::AwaitingDecision,
        Ok(pb::CaseStage::AwaitingReport) => Stage::AwaitingReport,
        Ok(pb::CaseStage::Active) => Stage::Active,
        Ok(pb::CaseStage::Suspended) => Stage::Suspended,
        Ok(pb::CaseStage::ApprovedOnce) => Stage::ApprovedOnce,
        Ok(pb::CaseStage::Rejected) => Stage::Rejected,
        Ok(pb::CaseStage::Ended) => Stage::Ended,
        Err(_) => {
            violations.push("stage", "is not a known case stage");
            return None;
        }
    };
    Some(Some(stage))
}

fn pending_to_pb(pending: Option<Pending>, today: time::Date) -> Option<pb::PendingStep> {
    pending.map(|p| pb::PendingStep {
        step: p.step.to_owned(),
        due_on: Some(p.due_on.into()),
        overdue: p.due_on < today,
    })
}

fn review_cause_to_pb(cause: ReviewCause) -> i32 {
    match cause {
        ReviewCause::Marriage => pb::ReviewCause::Marriage,
        ReviewCause::Divorce => pb::ReviewCause::Divorce,
        ReviewCause::DivisionSplit => pb::ReviewCause::DivisionSplit,
        ReviewCause::Alert => pb::ReviewCause::Alert,
        ReviewCause::Periodic => pb::ReviewCause::Periodic,
        ReviewCause::MemberDied => pb::ReviewCause::MemberDied,
    }
    .into()
}

/// A case as a caseworker sees it (personal data included: its RPCs are audited).
fn case_to_pb(case: &Case, version: u64, pending: Option<Pending>, today: time::Date) -> pb::Case {
    let application = case.application.as_deref();
    let amount = case
        .one_off
        .as_ref()
        .map(|c| c.monthly_amount)
        .unwrap_or_else(|| case.amount_on(today));
    let calculation = case
        .one_off
        .as_ref()
        .or_else(|| case.calculation_on(today).map(|a| &a.calculation))
        .or_else(|| case.amounts.first().map(|a| &a.calculation));
    pb::Case {
        case_id: application
            .map(|a| a.case_id.to_string())
            .unwrap_or_default(),
        category: application
            .map(|a| crate::codec::case::category_to_pb(a.category))
            .unwrap_or_default(),
        stage: stage_to_pb(case.stage).into(),
        county: case.county.map(Into::into),
        division: case.division.map(Into::into),
        window: application.map(|a| a.window.into()),
        application: case.application.as_ref().map(|a| a.to_message()),
        verification: case.verification.as_ref().and_then(|v| {
            Some(
                case::VerificationReceived {
                    case_id: application?.case_id,
                    verification: v.clone(),
                    received_on: case.verification_received_on.unwrap_or(v.verified_on),
                }
                .to_message(),
            )
        }),
        township_recommends_approval: case.township_recommends.unwrap_or(false),
        notice_posted_on: case.notice.map(|(posted, _)| posted.into()),
        notice_ends_on: case.notice.map(|(_, ends)| ends.into()),
        objections: case
            .objections
            .iter()
            .zip(1..)
            .map(|(o, n)| pb::Objection {
                objection: n,
                summary: o.summary.as_str().to_owned(),
                recorded_on: Some(o.recorded_on.into()),
                resolved: o.resolution.is_some(),
                upheld: o.resolution.is_some_and(|(upheld, _)| upheld),
            })
            .collect(),
        decided_on: case.decided_on.map(Into::into),
        amount: Some(amount.into()),
        calculation: calculation.map(calculation_to_pb),
        rejection_rule: case
            .rejection
            .as_ref()
            .map(|(rule, _)| rule.clone())
            .unwrap_or_default(),
        rejection_reason: case
            .rejection
            .as_ref()
            .map(|(_, reason)| reason.as_str().to_owned())
            .unwrap_or_default(),
        members: case.members.iter().map(common::CitizenRef::from).collect(),
        pending: pending_to_pb(pending, today),
        ends_on: case.ends_on.map(Into::into),
        flags: case
            .flags
            .iter()
            .map(|(c, _)| review_cause_to_pb(*c))
            .collect(),
        version,
    }
}

/// The request's `case_id`, parsed.
pub(super) fn case_id(violations: &mut Violations, value: &str) -> Option<CaseId> {
    violations.id("case_id", value, CaseId::parse)
}

impl AssistanceApi {
    /// A case for a command: its scope checked against the case's township, as stored (the
    /// view may not show a case submitted a moment ago).
    async fn case_in_township<T>(&self, call: &Call<T>, id: &CaseId) -> Result<(), Error> {
        let case = self.app.stored_case(id).await?;
        self.require_case_township(call, &case)
    }

    pub(super) async fn submit_application(
        &self,
        call: Call<pb::SubmitApplicationRequest>,
    ) -> Result<pb::SubmitApplicationResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let category = household::category(&mut violations, body.category);
        let registered = violations.region("registered_division", &body.registered_division);
        let window = violations.region("window", &body.window);
        for (field, code) in [("registered_division", registered), ("window", window)] {
            if code.is_some_and(|c| c.level() != RegionLevel::Township) {
                violations.push(
                    minzheng_types::field_path(field, "code"),
                    "must be a township-level division (乡镇、街道), e.g. 210502001000",
                );
            }
        }
        let area = household::area(&mut violations, body.area);
        let household = household::household(&mut violations, body);
        let particulars =
            household::particulars(&mut violations, category, body, household.as_ref());
        let account =
            violations.check("payment_account", BankAccount::parse(&body.payment_account));
        let (category, registered, window, area, household, particulars, account) = violations
            .finish((
                category,
                registered,
                window,
                area,
                household,
                particulars,
                account,
            ))?;
        call.require_region(window)?;
        let submitted = self
            .app
            .submit(
                Submission {
                    category,
                    registered_division: registered,
                    window,
                    area,
                    household,
                    payment_account: account,
                    particulars,
                },
                &context,
            )
            .await?;
        Ok(pb::SubmitApplicationResponse {
            result: Some(edge::result(&submitted.committed)),
            case_id: submitted.case_id.to_string(),
            county: Some(submitted.county.into()),
            verification_request_id: submitted.verification_request.unwrap_or_default(),
        })
    }

    pub(super) async fn get_case(
        &self,
        call: Call<pb::GetCaseRequest>,
    ) -> Result<pb::GetCaseResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let id = case_id(&mut violations, &body.case_id);
        let id = violations.finish(id)?;
        call.audit("case", id.to_string());
        self.app
            .caught_up(edge::min_position(&body.read), call.deadline())
            .await?;
        let (case, version) = self.app.case(&id).await?;
        self.require_case_scope(&call, &case)?;
        self.audit_case(&call, &case);
        let pending = self.app.pending(&case).await;
        Ok(pb::GetCaseResponse {
            case: Some(case_to_pb(&case, version, pending, self.app.today())),
        })
    }

    pub(super) async fn list_cases(
        &self,
        call: Call<pb::ListCasesRequest>,
    ) -> Result<pb::ListCasesResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let county = violations.region("county", &body.county);
        if county.is_some_and(|c| c.level() != RegionLevel::County) {
            violations.push("county.code", "must be a county-level division");
        }
        let township = match &body.township {
            Some(t) if !t.code.is_empty() => {
                violations.region("township", &body.township).map(Some)
            }
            _ => Some(None),
        };
        if let (Some(county), Some(Some(township))) = (county, township)
            && !county.contains(township)
        {
            violations.push("township.code", "must be a township of the county");
        }
        let stage = stage_from_pb(&mut violations, body.stage);
        let (county, township, stage) = violations.finish((county, township, stage))?;
        call.require_region(township.unwrap_or(county))?;
        self.app
            .caught_up(edge::min_position(&body.read), call.deadline())
            .await?;
        let today = self.app.today();
        let cases = self.app.list(county, township, stage).await;
        let (cases, page) = edge::page(cases.into_iter(), &body.page)?;
        Ok(pb::ListCasesResponse {
            cases: cases
                .into_iter()
                .map(|(id, case, pending)| pb::CaseSummary {
                    case_id: id.to_string(),
                    category: crate::codec::case::category_to_pb(id.category()),
                    stage: stage_to_pb(case.stage).into(),
                    division: case.division.map(Into::into),
                    submitted_on: case.application.as_ref().map(|a| a.submitted_on.into()),
                    pending: pending_to_pb(pending, today),
                })
                .collect(),
            page: Some(page),
        })
    }

    pub(super) async fn record_township_review(
        &self,
        call: Call<pb::RecordTownshipReviewRequest>,
    ) -> Result<pb::RecordTownshipReviewResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&mut violations, &body.case_id);
        let opinion = violations.text("opinion", &body.opinion, household::TEXT_MAX_CHARS);
        let visited_on = violations.date("visited_on", &body.visited_on);
        let (id, opinion, visited_on) = violations.finish((id, opinion, visited_on))?;
        self.case_in_township(&call, &id).await?;
        let committed = self
            .app
            .review_at_township(&id, body.recommends_approval, opinion, visited_on, &context)
            .await?;
        Ok(pb::RecordTownshipReviewResponse {
            result: Some(edge::result(&committed)),
        })
    }

    pub(super) async fn post_notice(
        &self,
        call: Call<pb::PostNoticeRequest>,
    ) -> Result<pb::PostNoticeResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&mut violations, &body.case_id);
        let id = violations.finish(id)?;
        self.case_in_township(&call, &id).await?;
        let committed = self.app.post_notice(&id, &context).await?;
        let ends_on = self.app.notice_ends(&id).await.map(Into::into);
        Ok(pb::PostNoticeResponse {
            result: Some(edge::result(&committed)),
            ends_on,
        })
    }

    pub(super) async fn record_objection(
        &self,
        call: Call<pb::RecordObjectionRequest>,
    ) -> Result<pb::RecordObjectionResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&mut violations, &body.case_id);
        let summary = violations.text("summary", &body.summary, household::TEXT_MAX_CHARS);
        let (id, summary) = violations.finish((id, summary))?;
        self.case_in_township(&call, &id).await?;
        let committed = self.app.record_objection(&id, summary, &context).await?;
        Ok(pb::RecordObjectionResponse {
            result: Some(edge::result(&committed)),
            objection: self.app.objections(&id).await,
        })
    }

    pub(super) async fn resolve_objection(
        &self,
        call: Call<pb::ResolveObjectionRequest>,
    ) -> Result<pb::ResolveObjectionResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&mut violations, &body.case_id);
        let finding = violations.text("finding", &body.finding, household::TEXT_MAX_CHARS);
        if body.objection == 0 {
            violations.push("objection", "must be an objection's ordinal, from 1");
        }
        let (id, finding) = violations.finish((id, finding))?;
        self.case_in_township(&call, &id).await?;
        let committed = self
            .app
            .resolve_objection(&id, body.objection, body.upheld, finding, &context)
            .await?;
        Ok(pb::ResolveObjectionResponse {
            result: Some(edge::result(&committed)),
        })
    }

    pub(super) async fn decide_application(
        &self,
        call: Call<pb::DecideApplicationRequest>,
    ) -> Result<pb::DecideApplicationResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&mut violations, &body.case_id);
        let decision = match pb::Decision::try_from(body.decision) {
            Ok(pb::Decision::Approve) => {
                let granted = match &body.amount {
                    Some(_) => household::money(&mut violations, "amount", &body.amount).map(Some),
                    None => Some(None),
                };
                granted.map(|granted| Decision::Approve { granted })
            }
            Ok(pb::Decision::Reject) => violations
                .text("reason", &body.reason, household::TEXT_MAX_CHARS)
                .map(|reason| Decision::Reject { reason }),
            _ => {
                violations.push("decision", "must be APPROVE or REJECT");
                None
            }
        };
        let (id, decision) = violations.finish((id, decision))?;
        self.case_in_township(&call, &id).await?;
        let (committed, calculation) = self.app.decide(&id, decision, &context).await?;
        Ok(pb::DecideApplicationResponse {
            result: Some(edge::result(&committed)),
            calculation: calculation.as_ref().map(calculation_to_pb),
        })
    }

    pub(super) async fn explain_benefit(
        &self,
        call: Call<pb::ExplainBenefitRequest>,
    ) -> Result<pb::ExplainBenefitResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let id = case_id(&mut violations, &body.case_id);
        let month = violations.date("month", &body.month);
        let (id, month) = violations.finish((id, month))?;
        call.audit("case", id.to_string());
        self.app
            .caught_up(edge::min_position(&body.read), call.deadline())
            .await?;
        let (case, _) = self.app.case(&id).await?;
        self.require_case_scope(&call, &case)?;
        self.audit_case(&call, &case);
        let explanation = crate::app::Assistance::explain(&case, month);
        Ok(pb::ExplainBenefitResponse {
            amount: Some(explanation.amount.into()),
            calculation: explanation.calculation.as_ref().map(calculation_to_pb),
            status: explanation.status,
        })
    }

    pub(super) async fn list_overdue_steps(
        &self,
        call: Call<pb::ListOverdueStepsRequest>,
    ) -> Result<pb::ListOverdueStepsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let county = violations.region("county", &body.county);
        if county.is_some_and(|c| c.level() != RegionLevel::County) {
            violations.push("county.code", "must be a county-level division");
        }
        let county = violations.finish(county)?;
        call.require_region(county)?;
        self.app
            .caught_up(edge::min_position(&body.read), call.deadline())
            .await?;
        let today = self.app.today();
        let (overdue, complete) = self.app.overdue(county).await;
        Ok(pb::ListOverdueStepsResponse {
            steps: overdue
                .into_iter()
                .map(|o| pb::OverdueStep {
                    case_id: o.case_id.to_string(),
                    category: crate::codec::case::category_to_pb(o.case_id.category()),
                    division: o.case.division.map(Into::into),
                    step: pending_to_pb(Some(o.pending), today),
                    working_days_overdue: o.working_days,
                })
                .collect(),
            calendar_complete: complete,
        })
    }
}

fn review_cause_from_pb(violations: &mut Violations, value: i32) -> Option<ReviewCause> {
    let cause = match pb::ReviewCause::try_from(value) {
        Ok(pb::ReviewCause::Marriage) => ReviewCause::Marriage,
        Ok(pb::ReviewCause::Divorce) => ReviewCause::Divorce,
        Ok(pb::ReviewCause::DivisionSplit) => ReviewCause::DivisionSplit,
        Ok(pb::ReviewCause::Alert) => ReviewCause::Alert,
        Ok(pb::ReviewCause::Periodic) => ReviewCause::Periodic,
        // Raised by the service when the civil registry records the death.
        Ok(pb::ReviewCause::Unspecified | pb::ReviewCause::MemberDied) | Err(_) => {
            violations.push(
                "cause",
                "must be PERIODIC, MARRIAGE, DIVORCE, DIVISION_SPLIT or ALERT",
            );
            return None;
        }
    };
    Some(cause)
}

impl AssistanceApi {
    pub(super) async fn start_review(
        &self,
        call: Call<pb::StartReviewRequest>,
    ) -> Result<pb::StartReviewResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&mut violations, &body.case_id);
        let cause = review_cause_from_pb(&mut violations, body.cause);
        let (id, cause) = violations.finish((id, cause))?;
        self.case_in_township(&call, &id).await?;
        let committed = self.app.start_review(&id, cause, &context).await?;
        Ok(pb::StartReviewResponse {
            result: Some(edge::result(&committed)),
        })
    }

    pub(super) async fn complete_review(
        &self,
        call: Call<pb::CompleteReviewRequest>,
    ) -> Result<pb::CompleteReviewResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&mut violations, &body.case_id);
        let id = violations.finish(id)?;
        self.case_in_township(&call, &id).await?;
        let (committed, calculation) = self.app.complete_review(&id, &context).await?;
        let case = self.app.stored_case(&id).await?;
        let outcome = match (&calculation, case.stage) {
            (None, _) | (_, Stage::Ended) => pb::ReviewOutcome::Ended,
            (Some(c), _) if c.monthly_amount != case.current_amount() => pb::ReviewOutcome::Changed,
            _ => pb::ReviewOutcome::Continued,
        };
        Ok(pb::CompleteReviewResponse {
            result: Some(edge::result(&committed)),
            outcome: outcome.into(),
            calculation: calculation.as_ref().map(calculation_to_pb),
        })
    }

    pub(super) async fn suspend_case(
        &self,
        call: Call<pb::SuspendCaseRequest>,
    ) -> Result<pb::SuspendCaseResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&mut violations, &body.case_id);
        let reason = violations.text("reason", &body.reason, household::TEXT_MAX_CHARS);
        let (id, reason) = violations.finish((id, reason))?;
        self.case_in_township(&call, &id).await?;
        let committed = self
            .app
            .change_case(&id, CaseChange::Suspend(reason), &context)
            .await?;
        Ok(pb::SuspendCaseResponse {
            result: Some(edge::result(&committed)),
        })
    }

    pub(super) async fn resume_case(
        &self,
        call: Call<pb::ResumeCaseRequest>,
    ) -> Result<pb::ResumeCaseResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&mut violations, &body.case_id);
        let id = violations.finish(id)?;
        self.case_in_township(&call, &id).await?;
        let committed = self
            .app
            .change_case(&id, CaseChange::Resume, &context)
            .await?;
        Ok(pb::ResumeCaseResponse {
            result: Some(edge::result(&committed)),
        })
    }

    pub(super) async fn terminate_case(
        &self,
        call: Call<pb::TerminateCaseRequest>,
    ) -> Result<pb::TerminateCaseResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&mut violations, &body.case_id);
        let reason = violations.text("reason", &body.reason, household::TEXT_MAX_CHARS);
        let (id, reason) = violations.finish((id, reason))?;
        self.case_in_township(&call, &id).await?;
        let committed = self
            .app
            .change_case(&id, CaseChange::Terminate(reason), &context)
            .await?;
        Ok(pb::TerminateCaseResponse {
            result: Some(edge::result(&committed)),
        })
    }
}
