//! The RPCs about child directors' and child supervisors' posts, and the plan's indicators.

use minzheng_host::{
    divisions,
    edge::{self, Call, result},
    fields::Fields as _,
};
use minzheng_kit::{Error, aggregate::RunError};
use minzheng_proto::{childwelfare::v1 as pb, common::v1 as common, convert};
use minzheng_types::{RegionCode, RegionLevel, Violations};

use super::{ChildWelfareApi, children::standard_message, cities_of};
use crate::{
    app::indicators::{Indicators, Report, permille},
    codec::post::role_to_pb,
    coverage,
    post::{self, COURSE_MAX_CHARS, Holder, MAX_TRAINING_HOURS, NAME_MAX_CHARS, PHONE_MAX_CHARS},
};

/// A post's division: a village-level one (a child director's) or a township-level one (a
/// child supervisor's).
fn post_division(
    value: &Option<common::RegionCode>,
    violations: &mut Violations,
) -> Option<RegionCode> {
    violations.region_at(
        "division",
        value,
        &[RegionLevel::Township, RegionLevel::Village],
        "210502001001",
    )
}

/// A post's holder. PERSONAL DATA: no violation quotes what was given.
fn holder(value: &Option<pb::ChildPostHolder>, violations: &mut Violations) -> Option<Holder> {
    let Some(holder) = value else {
        violations.push("holder", "is required");
        return None;
    };
    let name = violations.text("holder.name", &holder.name, NAME_MAX_CHARS);
    let phone = violations.record(convert::optional_text(
        "holder.phone",
        &holder.phone,
        PHONE_MAX_CHARS,
    ));
    let citizen = match &holder.citizen {
        Some(citizen) if !citizen.citizen_id.is_empty() => violations
            .citizen("holder.citizen", &holder.citizen)
            .map(Some),
        _ => Some(None),
    };
    Some(Holder {
        name: name?,
        phone: phone?,
        citizen: citizen?,
    })
}

/// Why a holder left, a post fell vacant.
fn reason(value: &str, violations: &mut Violations) -> Option<minzheng_types::BoundedText> {
    violations.text("reason", value, post::REASON_MAX_CHARS)
}

/// An optional region filter: a county- or township-level division; `None` for the whole city.
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
                "210502000000",
            )
            .map(Some),
    }
}

fn indicators_message(region: Option<RegionCode>, i: &Indicators) -> pb::RegionIndicators {
    pb::RegionIndicators {
        region: region.map(Into::into),
        villages: i.directors.required,
        villages_with_director: i.directors.staffed,
        director_coverage_permille: permille(i.directors.staffed_bp()),
        directors_trained: i.directors.trained,
        townships: i.supervisors.required,
        townships_with_supervisor: i.supervisors.staffed,
        supervisor_coverage_permille: permille(i.supervisors.staffed_bp()),
        supervisors_trained: i.supervisors.trained,
        children_covered: i.children_covered,
        children_paid: i.children_paid,
        allowance_coverage_permille: i.allowance_coverage_permille(),
        open_cases: i.open_cases,
        overdue_steps: i.overdue_steps,
        overdue_escalated: i.overdue_escalated,
    }
}

impl ChildWelfareApi {
    pub(super) async fn appoint_post_holder(
        &self,
        call: Call<pb::AppointPostHolderRequest>,
    ) -> Result<pb::AppointPostHolderResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let division = post_division(&body.division, &mut violations);
        let holder = holder(&body.holder, &mut violations);
        let on = violations.past_date("appointed_on", &body.appointed_on, self.app.today());
        let (division, holder, on) = violations.finish((division, holder, on))?;
        call.require_region(division)?;
        let committed = self
            .app
            .post_command(
                post::Command::Appoint {
                    division,
                    holder,
                    on,
                },
                &context,
            )
            .await?;
        Ok(pb::AppointPostHolderResponse {
            role: post::Role::of(division).map_or(0, role_to_pb),
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn replace_post_holder(
        &self,
        call: Call<pb::ReplacePostHolderRequest>,
    ) -> Result<pb::ReplacePostHolderResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let division = post_division(&body.division, &mut violations);
        let holder = holder(&body.holder, &mut violations);
        let on = violations.past_date("replaced_on", &body.replaced_on, self.app.today());
        let reason = reason(&body.reason, &mut violations);
        let (division, holder, on, reason) = violations.finish((division, holder, on, reason))?;
        call.require_region(division)?;
        let committed = self
            .app
            .post_command(
                post::Command::Replace {
                    division,
                    holder,
                    on,
                    reason,
                },
                &context,
            )
            .await?;
        Ok(pb::ReplacePostHolderResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn vacate_post(
        &self,
        call: Call<pb::VacatePostRequest>,
    ) -> Result<pb::VacatePostResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let division = post_division(&body.division, &mut violations);
        let on = violations.past_date("vacated_on", &body.vacated_on, self.app.today());
        let reason = reason(&body.reason, &mut violations);
        let (division, on, reason) = violations.finish((division, on, reason))?;
        call.require_region(division)?;
        let committed = self
            .app
            .post_command(
                post::Command::Vacate {
                    division,
                    on,
                    reason,
                },
                &context,
            )
            .await?;
        Ok(pb::VacatePostResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn record_post_training(
        &self,
        call: Call<pb::RecordPostTrainingRequest>,
    ) -> Result<pb::RecordPostTrainingResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let division = post_division(&body.division, &mut violations);
        let course = violations.text("course", &body.course, COURSE_MAX_CHARS);
        let hours = match u16::try_from(body.hours) {
            Ok(hours) if (1..=MAX_TRAINING_HOURS).contains(&hours) => Some(hours),
            _ => {
                violations.push("hours", format!("must be from 1 to {MAX_TRAINING_HOURS}"));
                None
            }
        };
        let on = violations.past_date("trained_on", &body.trained_on, self.app.today());
        let (division, course, hours, on) = violations.finish((division, course, hours, on))?;
        call.require_region(division)?;
        let committed = self
            .app
            .post_command(
                post::Command::RecordTraining {
                    division,
                    on,
                    course,
                    hours,
                },
                &context,
            )
            .await?;
        Ok(pb::RecordPostTrainingResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn list_posts(
        &self,
        call: Call<pb::ListPostsRequest>,
    ) -> Result<pb::ListPostsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let region = region_filter(&body.region, &mut violations);
        let day = violations.date_or("as_of", &body.as_of, self.app.today());
        let (region, day) = violations.finish((region, day))?;
        let known = self.app.divisions().known().await.map_err(RunError::from)?;
        let in_force = divisions::in_force_on(&known, day);
        match region {
            Some(region) => call.require_region(region)?,
            // The whole city: every city a post in force on the day lies in, so that a
            // caller scoped to less never reads a holder outside their regions.
            None => call.require_regions(&cities_of(in_force.iter().copied()))?,
        }
        self.app
            .view()
            .wait_for(edge::min_position(&body.read), call.deadline())
            .await?;
        let view = self.app.view().read().await;
        let posts = view.posts();
        // Which post counts for a division: its own, or, while that is vacant, one held under
        // a code the division had before an adjustment.
        let covered = coverage::coverage(day, &in_force, posts.values(), |code| {
            known.get(&code).and_then(|k| k.successor)
        });
        let listed = in_force.iter().filter_map(|&division| {
            let role = post::Role::of(division)?;
            if region.is_some_and(|region| !region.contains(division)) {
                return None;
            }
            let held_under = covered
                .carried_over
                .iter()
                .find(|c| c.division == division)
                .map(|c| c.post);
            let post = posts.get(&held_under.unwrap_or(division));
            let tenure = post.and_then(|p| p.holder_on(day));
            if body.vacant_only && tenure.is_some() {
                return None;
            }
            Some(pb::Post {
                division: Some(division.into()),
                role: role_to_pb(role),
                holder_name: tenure.map_or_else(String::new, |t| t.holder.name.as_str().to_owned()),
                holder_since: tenure.map(|t| t.from.into()),
                trained: post.is_some_and(|p| p.trained_on(day)),
                held_under: held_under.map(Into::into),
            })
        });
        let (posts, page) = edge::page(listed, &body.page)?;
        for listed in &posts {
            if !listed.holder_name.is_empty()
                && let Some(division) = &listed.division
            {
                call.audit("child_post", division.code.clone());
            }
        }
        Ok(pb::ListPostsResponse {
            posts,
            page: Some(page),
        })
    }

    pub(super) async fn get_indicators(
        &self,
        call: Call<pb::GetIndicatorsRequest>,
    ) -> Result<pb::GetIndicatorsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let day = violations.date_or("as_of", &body.as_of, self.app.today());
        let day = violations.finish(day)?;
        self.app
            .view()
            .wait_for(edge::min_position(&body.read), call.deadline())
            .await?;
        let Report {
            day,
            city,
            counties,
            policy,
            in_force,
            below_target,
        } = self.app.indicators(day).await?;
        let city_code = policy
            .as_ref()
            .and_then(|p| p.city())
            .or_else(|| counties.keys().find_map(|county| county.city()));
        let below = policy
            .as_ref()
            .map(|p| p.growth_below_target())
            .unwrap_or_default();
        let standard = |s| {
            policy
                .as_ref()
                .map(|policy| standard_message(policy, s, &below))
        };
        Ok(pb::GetIndicatorsResponse {
            as_of: Some(day.into()),
            city: Some(indicators_message(city_code, &city)),
            counties: counties
                .iter()
                .map(|(county, i)| indicators_message(Some(*county), i))
                .collect(),
            standard_in_force: in_force.as_ref().and_then(standard),
            below_growth_target: below_target.iter().filter_map(standard).collect(),
        })
    }
}
