//! The protection-case RPCs: filing a report, the case's steps, reading a case, its reporter
//! (for a need to know, audited) and the lists of a region's cases.
//!
//! Every RPC on an existing case loads it and checks the caller's scope against the case's
//! division before it acts or answers; a report and a list are checked against the division or
//! region the request names. No answer but `GetCaseReporter`'s carries the reporter, and no
//! error message quotes a citizen id, a reporter's name or phone.

use minzheng_host::{
    divisions,
    edge::{self, Call, PURPOSE_HEADER, result},
    fields::Fields as _,
};
use minzheng_kit::Error;
use minzheng_proto::{childwelfare::v1 as pb, common::v1 as common, convert};
use minzheng_types::{FieldViolation, RegionCode, RegionLevel, Violations};

use super::{ChildWelfareApi, cities_of, local_division};
use crate::{
    app::cases::Report,
    codec::protection::{
        intervention_from_pb, intervention_to_pb, reporter_kind_from_pb, reporter_kind_to_pb,
        risk_from_pb, risk_to_pb, step_from_pb, step_to_pb,
    },
    ids::CaseId,
    overview::{CaseFilter, Listed},
    protection::{
        self, CourtReferral, NOTE_MAX_CHARS, ProtectionCase, Reporter, SourceKind, Step,
        StepRecord, TEXT_MAX_CHARS,
    },
};

/// Largest page of a case list (the contract's, below the edge's own limit).
const MAX_CASES_PAGE: u32 = 500;

const RISK_LEVELS: &str = "URGENT, HIGH or NORMAL";
const REPORTER_KINDS: &str = "RESIDENTS_COMMITTEE, EDUCATION, MEDICAL, ACCOMMODATION, \
                              SOCIAL_SERVICES, STATE_ORGAN, OTHER_MANDATORY or PUBLIC";
const INTERVENTION_KINDS: &str =
    "TEMPORARY_GUARDIANSHIP, LONG_TERM_GUARDIANSHIP, COURT_REVOCATION or OTHER";
const STEPS: &str = "REPORTED, EMERGENCY_HANDLED, ASSESSED, PLAN_AGREED or CLOSED";

fn case_id(value: &str, violations: &mut Violations) -> Option<CaseId> {
    violations.id("case_id", value, CaseId::parse)
}

/// The reporter of a report: a name and a role, optionally a phone and an organisation. A
/// violation names the field and the rule, never the value.
fn reporter(value: &Option<pb::Reporter>, violations: &mut Violations) -> Option<Reporter> {
    let Some(value) = value else {
        violations.add(FieldViolation::required("reporter"));
        return None;
    };
    let name = violations.text("reporter.name", &value.name, NOTE_MAX_CHARS);
    let phone = violations.record(convert::optional_text(
        "reporter.phone",
        &value.phone,
        NOTE_MAX_CHARS,
    ));
    let organisation = violations.record(convert::optional_text(
        "reporter.organisation",
        &value.organisation,
        NOTE_MAX_CHARS,
    ));
    let role = violations.text("reporter.role", &value.role, NOTE_MAX_CHARS);
    Some(Reporter {
        name: name?,
        phone: phone?,
        organisation: organisation?,
        role: role?,
    })
}

/// A court referral, when one is given: its reference and court, each non-empty. Whether a
/// revocation has one is the domain's rule (`court_referral_required`).
fn court_referral(
    value: &Option<pb::CourtReferral>,
    violations: &mut Violations,
) -> Option<Option<CourtReferral>> {
    let Some(value) = value else {
        return Some(None);
    };
    let reference = violations.text("court_referral.reference", &value.reference, NOTE_MAX_CHARS);
    let court = violations.text("court_referral.court", &value.court, NOTE_MAX_CHARS);
    Some(Some(CourtReferral {
        reference: reference?,
        court: court?,
    }))
}

fn court_referral_to_pb(referral: &CourtReferral) -> pb::CourtReferral {
    pb::CourtReferral {
        reference: referral.reference.as_str().to_owned(),
        court: referral.court.as_str().to_owned(),
    }
}

/// The optional region of a list: a county or township; the whole city when absent.
fn region_filter(
    value: &Option<common::RegionCode>,
    violations: &mut Violations,
) -> Option<Option<RegionCode>> {
    match value {
        None => Some(None),
        Some(code) if code.code.is_empty() => Some(None),
        Some(_) => violations
            .region_at(
                "region",
                value,
                &[RegionLevel::County, RegionLevel::Township],
                "210502001000",
            )
            .map(Some),
    }
}

/// The step a list asks for: `None` (the open cases) when unspecified.
fn step_filter(value: i32, violations: &mut Violations) -> Option<Option<Step>> {
    if value == i32::from(pb::ProtectionStep::Unspecified) {
        return Some(None);
    }
    violations
        .known("step", step_from_pb(value), STEPS)
        .map(Some)
}

/// The day the step after one recorded on `on` is due, `days` later.
fn step_to_message(step: Step, record: &StepRecord) -> pb::CaseStep {
    pb::CaseStep {
        step: step_to_pb(step).into(),
        on: Some(record.on.into()),
        caseworker: record.caseworker.as_str().to_owned(),
        text: record.text.as_str().to_owned(),
        needs: record
            .needs
            .as_ref()
            .map_or_else(String::new, |n| n.as_str().to_owned()),
    }
}

/// The division of an opened case (every opened case has one).
fn division_of(case: &ProtectionCase) -> Result<RegionCode, Error> {
    case.division()
        .ok_or_else(|| Error::internal(anyhow::anyhow!("an opened case has no division")))
}

fn summary(listed: Listed<'_>) -> pb::CaseSummary {
    let case = listed.case;
    pb::CaseSummary {
        case_id: listed.id.to_string(),
        division: Some(listed.division.into()),
        risk: case.risk().map_or(0, |r| risk_to_pb(r).into()),
        step: case.step().map_or(0, |s| step_to_pb(s).into()),
        reported_on: case.reported_on().map(Into::into),
        due_step: listed.due.map_or(0, |(step, _)| step_to_pb(step).into()),
        due_on: listed.due.map(|(_, on)| on.into()),
        days_overdue: listed.days_overdue,
        escalated: listed.escalated,
        caseworker: case
            .caseworker()
            .map_or_else(String::new, |c| c.as_str().to_owned()),
    }
}

impl ChildWelfareApi {
    /// Runs `command` on the case a request names, once the case is loaded (NOT_FOUND when
    /// there is none) and the caller's scope checked against its division.
    async fn run_on_case<T>(
        &self,
        call: &Call<T>,
        id: &CaseId,
        command: protection::Command,
        context: &minzheng_kit::aggregate::CommandContext,
    ) -> Result<common::CommandResult, Error> {
        let case = self.app.case(id).await?;
        call.require_region(self.app.current_division(division_of(&case)?).await?)?;
        let committed = self.app.case_command(id, command, context).await?;
        Ok(result(&committed))
    }

    pub(super) async fn file_report(
        &self,
        call: Call<pb::FileReportRequest>,
    ) -> Result<pb::FileReportResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let child = violations.citizen("child", &body.child);
        let division = local_division("division", &body.division, &mut violations);
        let risk = violations.known("risk", risk_from_pb(body.risk), RISK_LEVELS);
        let reporter_kind = violations.known(
            "reporter_kind",
            reporter_kind_from_pb(body.reporter_kind),
            REPORTER_KINDS,
        );
        let reporter = reporter(&body.reporter, &mut violations);
        let concern = violations.text("concern", &body.concern, TEXT_MAX_CHARS);
        let reported_on = violations.past_date("reported_on", &body.reported_on, self.app.today());
        let (child, division, risk, reporter_kind, reporter, concern, reported_on) = violations
            .finish((
                child,
                division,
                risk,
                reporter_kind,
                reporter,
                concern,
                reported_on,
            ))?;
        call.require_region(division)?;
        let (case, due, committed) = self
            .app
            .file_report(
                Report {
                    child,
                    division,
                    risk,
                    reporter_kind,
                    reporter,
                    concern,
                    reported_on,
                },
                &context,
            )
            .await?;
        Ok(pb::FileReportResponse {
            case_id: case.to_string(),
            emergency_due_on: Some(due.into()),
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn assign_caseworker(
        &self,
        call: Call<pb::AssignCaseworkerRequest>,
    ) -> Result<pb::AssignCaseworkerResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&body.case_id, &mut violations);
        let caseworker = violations.text("caseworker", &body.caseworker, NOTE_MAX_CHARS);
        let on = violations.past_date("assigned_on", &body.assigned_on, self.app.today());
        let (id, caseworker, on) = violations.finish((id, caseworker, on))?;
        let result = self
            .run_on_case(
                &call,
                &id,
                protection::Command::AssignCaseworker { caseworker, on },
                &context,
            )
            .await?;
        Ok(pb::AssignCaseworkerResponse {
            result: Some(result),
        })
    }

    pub(super) async fn record_emergency_handling(
        &self,
        call: Call<pb::RecordEmergencyHandlingRequest>,
    ) -> Result<pb::RecordEmergencyHandlingResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&body.case_id, &mut violations);
        let measures = violations.text("measures", &body.measures, TEXT_MAX_CHARS);
        let on = violations.past_date("handled_on", &body.handled_on, self.app.today());
        let (id, measures, on) = violations.finish((id, measures, on))?;
        let result = self
            .run_on_case(
                &call,
                &id,
                protection::Command::RecordEmergencyHandling { measures, on },
                &context,
            )
            .await?;
        Ok(pb::RecordEmergencyHandlingResponse {
            next_due_on: Some(
                protection::due_after(on, self.app.deadlines().assessment_days).into(),
            ),
            result: Some(result),
        })
    }

    pub(super) async fn record_case_assessment(
        &self,
        call: Call<pb::RecordCaseAssessmentRequest>,
    ) -> Result<pb::RecordCaseAssessmentResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&body.case_id, &mut violations);
        let findings = violations.text("findings", &body.findings, TEXT_MAX_CHARS);
        let needs = violations.text("needs", &body.needs, TEXT_MAX_CHARS);
        let on = violations.past_date("assessed_on", &body.assessed_on, self.app.today());
        let (id, findings, needs, on) = violations.finish((id, findings, needs, on))?;
        let result = self
            .run_on_case(
                &call,
                &id,
                protection::Command::RecordAssessment {
                    findings,
                    needs,
                    on,
                },
                &context,
            )
            .await?;
        Ok(pb::RecordCaseAssessmentResponse {
            next_due_on: Some(protection::due_after(on, self.app.deadlines().plan_days).into()),
            result: Some(result),
        })
    }

    pub(super) async fn agree_assistance_plan(
        &self,
        call: Call<pb::AgreeAssistancePlanRequest>,
    ) -> Result<pb::AgreeAssistancePlanResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&body.case_id, &mut violations);
        let measures = violations.text("measures", &body.measures, TEXT_MAX_CHARS);
        let on = violations.past_date("agreed_on", &body.agreed_on, self.app.today());
        let (id, measures, on) = violations.finish((id, measures, on))?;
        let result = self
            .run_on_case(
                &call,
                &id,
                protection::Command::AgreePlan { measures, on },
                &context,
            )
            .await?;
        Ok(pb::AgreeAssistancePlanResponse {
            result: Some(result),
        })
    }

    pub(super) async fn record_guardianship_intervention(
        &self,
        call: Call<pb::RecordGuardianshipInterventionRequest>,
    ) -> Result<pb::RecordGuardianshipInterventionResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&body.case_id, &mut violations);
        let kind = violations.known("kind", intervention_from_pb(body.kind), INTERVENTION_KINDS);
        let court_referral = court_referral(&body.court_referral, &mut violations);
        let on = violations.past_date("intervened_on", &body.intervened_on, self.app.today());
        let (id, kind, court_referral, on) = violations.finish((id, kind, court_referral, on))?;
        let result = self
            .run_on_case(
                &call,
                &id,
                protection::Command::RecordGuardianshipIntervention {
                    kind,
                    court_referral,
                    on,
                },
                &context,
            )
            .await?;
        Ok(pb::RecordGuardianshipInterventionResponse {
            result: Some(result),
        })
    }

    pub(super) async fn close_case(
        &self,
        call: Call<pb::CloseCaseRequest>,
    ) -> Result<pb::CloseCaseResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&body.case_id, &mut violations);
        let reason = violations.text("reason", &body.reason, NOTE_MAX_CHARS);
        let on = violations.past_date("closed_on", &body.closed_on, self.app.today());
        let (id, reason, on) = violations.finish((id, reason, on))?;
        let result = self
            .run_on_case(
                &call,
                &id,
                protection::Command::Close { reason, on },
                &context,
            )
            .await?;
        Ok(pb::CloseCaseResponse {
            result: Some(result),
        })
    }

    /// The case a read names, after noting its child in the audit (by pseudonym) and checking
    /// the caller's scope against its division. The caller has noted the case itself.
    async fn case_read<T>(&self, call: &Call<T>, id: &CaseId) -> Result<ProtectionCase, Error> {
        let case = self.app.case(id).await?;
        if let Some(child) = case.child() {
            call.audit("person", self.app.child_id(child).as_str());
        }
        call.require_region(self.app.current_division(division_of(&case)?).await?)?;
        Ok(case)
    }

    pub(super) async fn get_case(
        &self,
        call: Call<pb::GetCaseRequest>,
    ) -> Result<pb::GetCaseResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let id = case_id(&body.case_id, &mut violations);
        let id = violations.finish(id)?;
        call.audit("protection_case", id.as_str());
        // The case is read from its own stream, which holds every write committed before this
        // call: `read.min_position` is met without waiting for the read model.
        let case = self.case_read(&call, &id).await?;
        let deadlines = self.app.deadlines();
        let today = self.app.today();
        let (reporter_kind, alert_id) = match case.source_kind() {
            Some(SourceKind::Report(kind)) => (reporter_kind_to_pb(kind).into(), String::new()),
            Some(SourceKind::Alert(alert)) => (0, alert),
            None => (0, String::new()),
        };
        let steps = [
            (Step::EmergencyHandled, case.emergency_handling()),
            (Step::Assessed, case.assessment()),
            (Step::PlanAgreed, case.plan()),
        ]
        .into_iter()
        .filter_map(|(step, record)| record.map(|r| step_to_message(step, r)))
        .collect();
        let due = case.due(deadlines);
        Ok(pb::GetCaseResponse {
            case_id: id.to_string(),
            child: case.child().map(Into::into),
            division: case.division().map(Into::into),
            risk: case.risk().map_or(0, |r| risk_to_pb(r).into()),
            reporter_kind,
            alert_id,
            concern: case
                .concern()
                .map_or_else(String::new, |c| c.as_str().to_owned()),
            reported_on: case.reported_on().map(Into::into),
            caseworker: case
                .caseworker()
                .map_or_else(String::new, |c| c.as_str().to_owned()),
            step: case.step().map_or(0, |s| step_to_pb(s).into()),
            steps,
            interventions: case
                .interventions()
                .iter()
                .map(|i| pb::CaseIntervention {
                    kind: intervention_to_pb(i.kind).into(),
                    court_referral: i.court_referral.as_ref().map(court_referral_to_pb),
                    on: Some(i.on.into()),
                    caseworker: i.caseworker.as_str().to_owned(),
                })
                .collect(),
            due_step: due.map_or(0, |(step, _)| step_to_pb(step).into()),
            due_on: due.map(|(_, on)| on.into()),
            days_overdue: case
                .overdue_on(deadlines, today)
                .map_or(0, |(_, _, days)| days),
            escalated_due_on: case
                .escalated()
                .iter()
                .map(|(_, due_on)| (*due_on).into())
                .collect(),
            closed_reason: case
                .closed()
                .map_or_else(String::new, |(_, reason)| reason.as_str().to_owned()),
            closed_on: case.closed().map(|(on, _)| (*on).into()),
        })
    }

    pub(super) async fn get_case_reporter(
        &self,
        call: Call<pb::GetCaseReporterRequest>,
    ) -> Result<pb::GetCaseReporterResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let id = case_id(&body.case_id, &mut violations);
        // Even a refused call's audit names the case it asked for.
        if let Some(id) = &id {
            call.audit("protection_case", id.as_str());
        }
        // The edge records the purpose in the audit; without one nothing is read.
        let purpose = call
            .request()
            .metadata()
            .get(PURPOSE_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| !p.trim().is_empty());
        if !purpose {
            violations.push(
                PURPOSE_HEADER,
                "must say why the reporter's identity is needed",
            );
        }
        let id = violations.finish(id)?;
        self.case_read(&call, &id).await?;
        let (reporter, kind) = self.app.reporter(&id).await?;
        let text = |t: Option<minzheng_types::BoundedText>| {
            t.map_or_else(String::new, |t| t.as_str().to_owned())
        };
        Ok(pb::GetCaseReporterResponse {
            reporter: Some(pb::Reporter {
                name: reporter.name.as_str().to_owned(),
                phone: text(reporter.phone),
                organisation: text(reporter.organisation),
                role: reporter.role.as_str().to_owned(),
            }),
            reporter_kind: reporter_kind_to_pb(kind).into(),
        })
    }

    pub(super) async fn list_cases(
        &self,
        call: Call<pb::ListCasesRequest>,
    ) -> Result<pb::ListCasesResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let region = region_filter(&body.region, &mut violations);
        let step = step_filter(body.step, &mut violations);
        let day = violations.date_or("as_of", &body.as_of, self.app.today());
        let (region, step, day) = violations.finish((region, step, day))?;
        let known = self
            .app
            .divisions()
            .known()
            .await
            .map_err(minzheng_kit::aggregate::RunError::from)?;
        match region {
            Some(region) => call.require_region(region)?,
            // Every city the service knows divisions of: only a caller scoped to all of them
            // may list every case.
            None => call.require_regions(&cities_of(known.keys().copied()))?,
        }
        // The edge allows larger pages than this contract does.
        let page = body.page.clone().map(|mut page| {
            page.page_size = page.page_size.min(MAX_CASES_PAGE);
            page
        });
        self.app
            .view()
            .wait_for(edge::min_position(&body.read), call.deadline())
            .await?;
        let view = self.app.view().read().await;
        let listed = view.list_cases(
            CaseFilter {
                region,
                step,
                overdue_only: body.overdue_only,
                day,
            },
            self.app.deadlines(),
            |code| divisions::current(&known, code, day),
        );
        let (cases, page) = edge::page(listed.map(summary), &page)?;
        Ok(pb::ListCasesResponse {
            cases,
            page: Some(page),
        })
    }
}
