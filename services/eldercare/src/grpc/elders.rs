//! The RPCs about elderly persons: assessments, the person's record, subsidy standards and
//! monthly entitlements, visit plans and visits, the overdue list, population figures.

use minzheng_host::{
    edge::{self, Call, result},
    fields::Fields as _,
};
use minzheng_kit::Error;
use minzheng_proto::{convert, eldercare::v1 as pb};
use minzheng_types::{BoundedText, CitizenId, Fen, FieldViolation, RegionLevel, Violations};
use time::Date;

use super::{ElderCareApi, county, local_division, person_region};
use crate::{
    app::elders::{Assessment, PlanRequest},
    assessment,
    codec::{
        elder::{
            adjustments_from_pb, adjustments_to_pb, difficulty_from_pb, difficulty_to_pb,
            level_from_pb, level_to_pb, scores_from_pb, scores_to_pb,
        },
        institution::bed_type_to_pb,
        subsidy::standard_to_pb,
    },
    elder::{self, Elder, FINDINGS_MAX_CHARS, FOLLOW_UP_MAX_CHARS, NOTE_MAX_CHARS, Visit},
    population::{Reported, SOURCE_MAX_CHARS},
    subsidy::{self, AgeBand, Kind, LevelAmount, Record},
};

/// Longest visitor text (a name or staff number).
const VISITOR_MAX_CHARS: usize = 100;
/// Longest assessor text.
const ASSESSOR_MAX_CHARS: usize = 200;

fn difficulties(values: &[i32], violations: &mut Violations) -> Option<Vec<elder::Difficulty>> {
    if values.is_empty() {
        violations.push("difficulties", "must name at least one difficulty");
        return None;
    }
    let mut parsed = Vec::with_capacity(values.len());
    let mut ok = true;
    for (i, value) in values.iter().enumerate() {
        match difficulty_from_pb(*value) {
            Some(d) if !parsed.contains(&d) => parsed.push(d),
            Some(_) => {
                violations.push(format!("difficulties[{i}]"), "is named twice");
                ok = false;
            }
            None => {
                violations.push(
                    format!("difficulties[{i}]"),
                    "must be LIVING_ALONE, LEFT_BEHIND, DISABLED or BEREAVED_OF_ONLY_CHILD",
                );
                ok = false;
            }
        }
    }
    ok.then_some(parsed)
}

fn plan_message(elder: &Elder) -> Option<pb::VisitPlan> {
    let plan = elder.visit_plan()?;
    Some(pb::VisitPlan {
        difficulties: plan
            .difficulties
            .iter()
            .map(|d| difficulty_to_pb(*d).into())
            .collect(),
        interval_days: u32::from(plan.interval_days),
        township: Some(plan.township.into()),
        opened_on: Some(plan.opened_on.into()),
        next_due_on: plan.is_open().then(|| plan.next_due().into()),
        closed_on: plan.closed.as_ref().map(|(on, _)| (*on).into()),
        alert_id: plan.alert_id.clone().unwrap_or_default(),
        visits: plan
            .visits
            .iter()
            .map(|v| pb::Visit {
                visited_on: Some(v.on.into()),
                visitor: v.visitor.as_str().to_owned(),
                findings: v.findings.as_str().to_owned(),
                follow_up: v
                    .follow_up
                    .as_ref()
                    .map_or_else(String::new, |f| f.as_str().to_owned()),
            })
            .collect(),
    })
}

fn kind_to_pb(kind: Kind) -> pb::SubsidyKind {
    match kind {
        Kind::AdvancedAge => pb::SubsidyKind::AdvancedAge,
        Kind::Nursing => pb::SubsidyKind::Nursing,
        Kind::Service => pb::SubsidyKind::Service,
    }
}

/// The advanced-age bands and nursing amounts of a standard request.
fn amounts(
    body: &pb::RecordSubsidyStandardRequest,
    violations: &mut Violations,
) -> Option<(Vec<AgeBand>, Vec<LevelAmount>, Fen)> {
    let mut ok = true;
    let mut bands = Vec::with_capacity(body.advanced_age.len());
    for (i, band) in body.advanced_age.iter().enumerate() {
        let at = format!("advanced_age[{i}]");
        let from_age = u8::try_from(band.from_age).ok();
        if from_age.is_none() {
            violations.push(format!("{at}.from_age"), "must be 60 to 120");
        }
        let monthly = violations.record(convert::money_non_negative(
            &format!("{at}.monthly"),
            &band.monthly,
        ));
        match (from_age, monthly) {
            (Some(from_age), Some(monthly)) => bands.push(AgeBand { from_age, monthly }),
            _ => ok = false,
        }
    }
    let mut nursing = Vec::with_capacity(body.nursing.len());
    for (i, amount) in body.nursing.iter().enumerate() {
        let at = format!("nursing[{i}]");
        let level = violations.known(
            &format!("{at}.level"),
            level_from_pb(amount.level),
            "INTACT, MILD, MODERATE, SEVERE or COMPLETE",
        );
        let monthly = violations.record(convert::money_non_negative(
            &format!("{at}.monthly"),
            &amount.monthly,
        ));
        match (level, monthly) {
            (Some(level), Some(monthly)) => nursing.push(LevelAmount { level, monthly }),
            _ => ok = false,
        }
    }
    let service = violations.record(convert::money_non_negative(
        "service_low_income",
        &body.service_low_income,
    ));
    if ok {
        Some((bands, nursing, service?))
    } else {
        None
    }
}

impl ElderCareApi {
    /// The person's record, after checking the caller may read it (their division is in the
    /// caller's regions) and auditing the read.
    async fn elder_in_scope<T>(
        &self,
        call: &Call<T>,
        citizen: &CitizenId,
    ) -> Result<(crate::ids::ElderId, Elder), Error> {
        let elder = self.app.elder_id(citizen);
        call.audit("person", elder.as_str());
        let (elder, state) = self.app.elder(citizen).await?;
        match person_region(&state) {
            Some(region) => call.require_region(region)?,
            // Known only from an assistance case: the city-wide scope reads it.
            None => call.require_region(crate::seed::benxi_city())?,
        }
        Ok((elder, state))
    }

    pub(super) async fn record_assessment(
        &self,
        call: Call<pb::RecordAssessmentRequest>,
    ) -> Result<pb::RecordAssessmentResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let person = violations.citizen("person", &body.person);
        let scores = match body.scores.as_ref() {
            None => {
                violations.add(FieldViolation::required("scores"));
                None
            }
            Some(scores) => match scores_from_pb(scores) {
                Ok(scores) => Some(scores),
                Err(field) => {
                    violations.push(field, "must be within the item's range");
                    None
                }
            },
        };
        let adjustments = adjustments_from_pb(body.adjustments.as_ref());
        let scores = scores.and_then(|scores| match assessment::assess(&scores, &adjustments) {
            Ok(_) => Some(scores),
            Err(found) => {
                for v in found {
                    violations.push(v.field_path(), v.rule());
                }
                None
            }
        });
        let assessor = violations.text("assessor", &body.assessor, ASSESSOR_MAX_CHARS);
        let on = violations.past_date("assessed_on", &body.assessed_on, self.app.today());
        let division = local_division("division", &body.division, &mut violations);
        let due = violations.optional_date("reassessment_due_on", &body.reassessment_due_on);
        if let (Some(on), Some(Some(due))) = (on, due)
            && due <= on
        {
            violations.push("reassessment_due_on", "must be after assessed_on");
        }
        let (person, scores, assessor, on, division, due) =
            violations.finish((person, scores, assessor, on, division, due))?;
        call.require_region(division)?;
        let (elder, assessed, committed) = self
            .app
            .record_assessment(
                Assessment {
                    citizen: person,
                    scores,
                    adjustments,
                    assessor,
                    on,
                    reassessment_due_on: due,
                    division,
                },
                &context,
            )
            .await?;
        let outcome =
            assessment::assess(&assessed.scores, &assessed.adjustments).map_err(|_| {
                Error::internal(anyhow::anyhow!("a recorded assessment does not add up"))
            })?;
        Ok(pb::RecordAssessmentResponse {
            elder_id: elder.to_string(),
            level: level_to_pb(assessed.level).into(),
            total_score: u32::from(assessed.total),
            group_scores: outcome.group_scores.iter().map(|s| u32::from(*s)).collect(),
            reassessment_due_on: Some(assessed.reassessment_due_on.into()),
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn get_elder(
        &self,
        call: Call<pb::GetElderRequest>,
    ) -> Result<pb::GetElderResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let person = violations.citizen("person", &body.person);
        let person = violations.finish(person)?;
        let (elder, state) = self.elder_in_scope(&call, &person).await?;
        let today = self.app.today();
        Ok(pb::GetElderResponse {
            elder_id: elder.to_string(),
            assessments: state
                .assessments()
                .iter()
                .map(|a| pb::Assessment {
                    level: level_to_pb(a.level).into(),
                    total_score: u32::from(a.total),
                    assessed_on: Some(a.on.into()),
                    reassessment_due_on: Some(a.reassessment_due_on.into()),
                    assessor: a.assessor.as_str().to_owned(),
                    scores: Some(scores_to_pb(&a.scores)),
                    adjustments: Some(adjustments_to_pb(&a.adjustments)),
                })
                .collect(),
            institution_id: state
                .placement()
                .map_or_else(String::new, |p| p.institution.to_string()),
            bed_type: state
                .placement()
                .map_or(0, |p| bed_type_to_pb(p.bed_type).into()),
            low_income: state.low_income_on(today),
            died_on: state.died_on().map(Into::into),
            visit_plan: plan_message(&state),
        })
    }

    pub(super) async fn record_subsidy_standard(
        &self,
        call: Call<pb::RecordSubsidyStandardRequest>,
    ) -> Result<pb::RecordSubsidyStandardResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let city = violations.region_at("city", &body.city, &[RegionLevel::City], "210500000000");
        let effective_from = violations.date("effective_from", &body.effective_from);
        let amounts = amounts(body, &mut violations);
        let decided_by = violations.text(
            "decided_by",
            &body.decided_by,
            subsidy::DECIDED_BY_MAX_CHARS,
        );
        // The standard's shape is checked on what parsed, with stand-ins for what did not, so
        // that every violation is named at once.
        let (advanced_age, nursing, service_low_income) = amounts.clone().unwrap_or_default();
        let mut record = Record {
            city: city.unwrap_or_else(crate::seed::benxi_city),
            effective_from: effective_from.unwrap_or(Date::MIN),
            advanced_age,
            nursing,
            nursing_requires_low_income: body.nursing_requires_low_income,
            service_low_income,
            decided_by: decided_by
                .clone()
                .unwrap_or_else(|| BoundedText::parse("-", 1).expect("a valid constant text")),
            recorded_on: self.app.today(),
        };
        if let Err(found) = record.check_shape() {
            for (field, rule) in found {
                let parsed = match field.as_str() {
                    "effective_from" => effective_from.is_some(),
                    "decided_by" => decided_by.is_some(),
                    _ => amounts.is_some(),
                };
                if parsed {
                    violations.push(field, rule);
                }
            }
        }
        let (city, effective_from, decided_by) =
            violations.finish((city, effective_from, decided_by))?;
        record.city = city;
        record.effective_from = effective_from;
        record.decided_by = decided_by;
        call.require_region(city)?;
        let (version, committed) = self.app.record_standard(record, &context).await?;
        Ok(pb::RecordSubsidyStandardResponse {
            version,
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn list_subsidy_standards(
        &self,
        call: Call<pb::ListSubsidyStandardsRequest>,
    ) -> Result<pb::ListSubsidyStandardsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let city = violations.region_at("city", &body.city, &[RegionLevel::City], "210500000000");
        let city = violations.finish(city)?;
        self.app
            .view()
            .wait_for(edge::min_position(&body.read), call.deadline())
            .await?;
        let policy = self.app.policy(city).await?;
        Ok(pb::ListSubsidyStandardsResponse {
            versions: policy
                .versions()
                .iter()
                .map(|s| standard_to_pb(city, s))
                .collect(),
        })
    }

    pub(super) async fn get_monthly_subsidy(
        &self,
        call: Call<pb::GetMonthlySubsidyRequest>,
    ) -> Result<pb::GetMonthlySubsidyResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let person = violations.citizen("person", &body.person);
        let month = violations.date("month", &body.month);
        let (person, month) = violations.finish((person, month))?;
        self.elder_in_scope(&call, &person).await?;
        let (elder, monthly) = self.app.monthly_subsidy(&person, month).await?;
        Ok(pb::GetMonthlySubsidyResponse {
            elder_id: elder.to_string(),
            month: Some(monthly.month.into()),
            lines: monthly
                .lines
                .iter()
                .map(|line| pb::SubsidyLine {
                    kind: kind_to_pb(line.kind).into(),
                    amount: Some(line.amount.into()),
                    standard_version: line.standard_version,
                    explanation: line.explanation.clone(),
                })
                .collect(),
            total: Some(monthly.total.into()),
        })
    }

    pub(super) async fn open_visit_plan(
        &self,
        call: Call<pb::OpenVisitPlanRequest>,
    ) -> Result<pb::OpenVisitPlanResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let person = violations.citizen("person", &body.person);
        let difficulties = difficulties(&body.difficulties, &mut violations);
        let interval = u16::try_from(body.interval_days)
            .ok()
            .filter(|d| (1..=elder::MAX_VISIT_INTERVAL_DAYS).contains(d));
        if interval.is_none() {
            violations.push(
                "interval_days",
                format!("must be 1 to {}", elder::MAX_VISIT_INTERVAL_DAYS),
            );
        }
        let township = violations.region_at(
            "township",
            &body.township,
            &[RegionLevel::Township],
            "210502001000",
        );
        let on = violations.past_date("opened_on", &body.opened_on, self.app.today());
        let (person, difficulties, interval_days, township, on) =
            violations.finish((person, difficulties, interval, township, on))?;
        call.require_region(township)?;
        let (elder, committed) = self
            .app
            .open_visit_plan(
                PlanRequest {
                    citizen: person,
                    difficulties,
                    interval_days,
                    township,
                    on,
                    alert_id: None,
                },
                &context,
            )
            .await?;
        let first_due = on
            .checked_add(time::Duration::days(i64::from(interval_days)))
            .unwrap_or(Date::MAX);
        Ok(pb::OpenVisitPlanResponse {
            elder_id: elder.to_string(),
            first_due_on: Some(first_due.into()),
            result: Some(result(&committed)),
        })
    }

    /// The open plan of the person a visit request names, after checking the caller acts in
    /// its township.
    async fn plan_in_scope<T>(&self, call: &Call<T>, person: &CitizenId) -> Result<(), Error> {
        let (_, state) = self.app.elder(person).await?;
        let plan = state
            .open_plan()
            .ok_or_else(|| Error::refused("no_visit_plan", "the person has no open visit plan"))?;
        call.require_region(plan.township)
    }

    pub(super) async fn record_visit(
        &self,
        call: Call<pb::RecordVisitRequest>,
    ) -> Result<pb::RecordVisitResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let person = violations.citizen("person", &body.person);
        let on = violations.past_date("visited_on", &body.visited_on, self.app.today());
        let visitor = violations.text("visitor", &body.visitor, VISITOR_MAX_CHARS);
        let findings = violations.text("findings", &body.findings, FINDINGS_MAX_CHARS);
        let follow_up = violations.record(convert::optional_text(
            "follow_up",
            &body.follow_up,
            FOLLOW_UP_MAX_CHARS,
        ));
        let (person, on, visitor, findings, follow_up) =
            violations.finish((person, on, visitor, findings, follow_up))?;
        self.plan_in_scope(&call, &person).await?;
        let (next, committed) = self
            .app
            .record_visit(
                &person,
                Visit {
                    on,
                    visitor,
                    findings,
                    follow_up,
                },
                &context,
            )
            .await?;
        Ok(pb::RecordVisitResponse {
            next_due_on: Some(next.into()),
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn close_visit_plan(
        &self,
        call: Call<pb::CloseVisitPlanRequest>,
    ) -> Result<pb::CloseVisitPlanResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let person = violations.citizen("person", &body.person);
        let on = violations.past_date("closed_on", &body.closed_on, self.app.today());
        let reason = violations.text("reason", &body.reason, NOTE_MAX_CHARS);
        let (person, on, reason) = violations.finish((person, on, reason))?;
        self.plan_in_scope(&call, &person).await?;
        let (_, committed) = self
            .app
            .elder_command(
                &person,
                elder::Command::CloseVisitPlan { on, reason },
                &context,
            )
            .await?;
        Ok(pb::CloseVisitPlanResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn list_overdue_visits(
        &self,
        call: Call<pb::ListOverdueVisitsRequest>,
    ) -> Result<pb::ListOverdueVisitsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let region = violations.region_at(
            "region",
            &body.region,
            &[RegionLevel::County, RegionLevel::Township],
            "210502001000",
        );
        let day = violations.date_or("as_of", &body.as_of, self.app.today());
        let (region, day) = violations.finish((region, day))?;
        call.require_region(region)?;
        self.app
            .view()
            .wait_for(edge::min_position(&body.read), call.deadline())
            .await?;
        let overdue =
            self.app
                .view()
                .read()
                .await
                .overdue(region, day, self.app.escalate_after_days());
        let (visits, page) = edge::page(
            overdue.into_iter().map(|o| {
                call.audit("person", o.elder.as_str());
                pb::OverdueVisit {
                    elder_id: o.elder.to_string(),
                    township: Some(o.township.into()),
                    due_on: Some(o.due_on.into()),
                    days_overdue: o.days,
                    escalated: o.escalated,
                }
            }),
            &body.page,
        )?;
        Ok(pb::ListOverdueVisitsResponse {
            visits,
            page: Some(page),
        })
    }

    pub(super) async fn record_elderly_population(
        &self,
        call: Call<pb::RecordElderlyPopulationRequest>,
    ) -> Result<pb::RecordElderlyPopulationResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let county = county("county", &body.county, &mut violations);
        let as_of = violations.past_date("as_of", &body.as_of, self.app.today());
        let source = violations.text("source", &body.source, SOURCE_MAX_CHARS);
        let (county, as_of, source) = violations.finish((county, as_of, source))?;
        call.require_region(county)?;
        let committed = self
            .app
            .record_population(
                Reported {
                    county,
                    persons: body.persons,
                    as_of,
                    source,
                },
                &context,
            )
            .await?;
        Ok(pb::RecordElderlyPopulationResponse {
            result: Some(result(&committed)),
        })
    }
}
