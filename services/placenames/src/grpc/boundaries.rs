//! The boundary-line RPCs: recording boundaries and their joint inspection rounds, and the public
//! queries.

use std::num::NonZeroU32;

use minzheng_host::edge::Call;
use minzheng_host::fields::Fields as _;
use minzheng_kit::Error;
use minzheng_proto::{common::v1 as common, convert, placenames::v1 as pb};
use minzheng_types::{RegionCode, Violations};

use super::{PlaceNamesApi, TEXT_MAX_CHARS, page, result};
use crate::{
    boundary::{self, Boundary, FindingKind},
    ids::BoundaryId,
};

fn number(field: &str, value: u32, violations: &mut Violations) -> Option<NonZeroU32> {
    let round = NonZeroU32::new(value);
    if round.is_none() {
        violations.push(field, "must be 1 or more");
    }
    round
}

pub(super) fn boundary_message(id: &str, boundary: &Boundary) -> pb::Boundary {
    let recorded = boundary.recorded();
    let open = boundary.open_round();
    let completed = boundary.last_completed_round();
    pb::Boundary {
        boundary_id: id.to_owned(),
        between: recorded
            .map(|r| r.between.iter().map(|&c| c.into()).collect())
            .unwrap_or_default(),
        description: recorded
            .and_then(|r| r.description.as_ref())
            .map_or_else(String::new, |d| d.as_str().to_owned()),
        recorded_on: recorded.map(|r| r.recorded_on.into()),
        open_round: open.map_or(0, |r| r.round.get()),
        open_round_started_on: open.map(|r| r.started_on.into()),
        last_completed_round: completed.map_or(0, |r| r.round.get()),
        last_completed_on: completed.map(|r| r.completed_on.into()),
        open_finding_count: u32::try_from(boundary.open_finding_count()).unwrap_or(u32::MAX),
    }
}

impl PlaceNamesApi {
    /// The common path of the inspection commands: staff scoped to both sides.
    async fn boundary_command<T>(
        &self,
        call: &Call<T>,
        metadata: &Option<common::CommandMetadata>,
        id: &str,
        parse: impl FnOnce(&mut Violations) -> Option<boundary::Command>,
    ) -> Result<common::CommandResult, Error> {
        let mut violations = Violations::new();
        let context = call.command_context(metadata, &mut violations);
        let id = violations.id("boundary_id", id, crate::ids::given(BoundaryId::parse));
        let command = parse(&mut violations);
        let (id, command) = violations.finish((id, command))?;
        call.require_regions(&self.app.boundary_sides(&id).await?)?;
        let committed = self.app.run_boundary(&id, &command, &context).await?;
        Ok(result(&committed))
    }

    pub(super) async fn record_boundary(
        &self,
        call: Call<pb::RecordBoundaryRequest>,
    ) -> Result<pb::RecordBoundaryResponse, Error> {
        let mut violations = Violations::new();
        let context = call.command_context(&call.body().metadata, &mut violations);
        let body = call.body();
        let id = violations.id(
            "boundary_id",
            &body.boundary_id,
            crate::ids::given(BoundaryId::parse),
        );
        let sides: Vec<Option<RegionCode>> = body
            .between
            .iter()
            .enumerate()
            .map(|(i, c)| {
                violations.record(convert::region_code(
                    &format!("between[{i}]"),
                    &Some(c.clone()),
                ))
            })
            .collect();
        let between = match sides.as_slice() {
            [Some(a), Some(b)] => violations.check("between", boundary::between(*a, *b)),
            [_, _] => None,
            _ => {
                violations.push("between", "must name exactly two divisions");
                None
            }
        };
        let description = violations.record(convert::optional_text(
            "description",
            &body.description,
            TEXT_MAX_CHARS,
        ));
        let recorded_on = violations.date("recorded_on", &body.recorded_on);
        let (id, between, description, recorded_on) =
            violations.finish((id, between, description, recorded_on))?;
        call.require_regions(&between)?;
        let committed = self
            .app
            .record_boundary(
                boundary::RecordBoundary {
                    id,
                    between,
                    description,
                    recorded_on,
                },
                &context,
            )
            .await?;
        Ok(pb::RecordBoundaryResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn start_inspection_round(
        &self,
        call: Call<pb::StartInspectionRoundRequest>,
    ) -> Result<pb::StartInspectionRoundResponse, Error> {
        let body = call.body();
        let result = self
            .boundary_command(&call, &body.metadata, &body.boundary_id, |v| {
                let round = number("round", body.round, v);
                let started_on = v.date("started_on", &body.started_on);
                Some(boundary::Command::StartInspectionRound(
                    boundary::StartInspectionRound {
                        round: round?,
                        started_on: started_on?,
                    },
                ))
            })
            .await?;
        Ok(pb::StartInspectionRoundResponse {
            result: Some(result),
        })
    }

    pub(super) async fn record_inspection_finding(
        &self,
        call: Call<pb::RecordInspectionFindingRequest>,
    ) -> Result<pb::RecordInspectionFindingResponse, Error> {
        let body = call.body();
        let result = self
            .boundary_command(&call, &body.metadata, &body.boundary_id, |v| {
                let round = number("round", body.round, v);
                let kind = match pb::InspectionFindingKind::try_from(body.kind) {
                    Ok(pb::InspectionFindingKind::MarkerDamaged) => {
                        Some(FindingKind::MarkerDamaged)
                    }
                    Ok(pb::InspectionFindingKind::MarkerMissing) => {
                        Some(FindingKind::MarkerMissing)
                    }
                    Ok(pb::InspectionFindingKind::Disputed) => Some(FindingKind::Disputed),
                    Ok(pb::InspectionFindingKind::Other) => Some(FindingKind::Other),
                    _ => {
                        v.push(
                            "kind",
                            "must be MARKER_DAMAGED, MARKER_MISSING, DISPUTED or OTHER",
                        );
                        None
                    }
                };
                let description = v.text("description", &body.description, TEXT_MAX_CHARS);
                let recorded_on = v.date("recorded_on", &body.recorded_on);
                Some(boundary::Command::RecordFinding(boundary::RecordFinding {
                    round: round?,
                    kind: kind?,
                    description: description?,
                    recorded_on: recorded_on?,
                }))
            })
            .await?;
        Ok(pb::RecordInspectionFindingResponse {
            result: Some(result),
        })
    }

    pub(super) async fn resolve_inspection_finding(
        &self,
        call: Call<pb::ResolveInspectionFindingRequest>,
    ) -> Result<pb::ResolveInspectionFindingResponse, Error> {
        let body = call.body();
        let result = self
            .boundary_command(&call, &body.metadata, &body.boundary_id, |v| {
                let round = number("round", body.round, v);
                let finding = number("finding", body.finding, v);
                let resolution = v.text("resolution", &body.resolution, TEXT_MAX_CHARS);
                let resolved_on = v.date("resolved_on", &body.resolved_on);
                Some(boundary::Command::ResolveFinding(
                    boundary::ResolveFinding {
                        round: round?,
                        finding: finding?,
                        resolution: resolution?,
                        resolved_on: resolved_on?,
                    },
                ))
            })
            .await?;
        Ok(pb::ResolveInspectionFindingResponse {
            result: Some(result),
        })
    }

    pub(super) async fn complete_inspection_round(
        &self,
        call: Call<pb::CompleteInspectionRoundRequest>,
    ) -> Result<pb::CompleteInspectionRoundResponse, Error> {
        let body = call.body();
        let result = self
            .boundary_command(&call, &body.metadata, &body.boundary_id, |v| {
                let round = number("round", body.round, v);
                let completed_on = v.date("completed_on", &body.completed_on);
                let conclusion = v.text("conclusion", &body.conclusion, TEXT_MAX_CHARS);
                Some(boundary::Command::CompleteInspectionRound(
                    boundary::CompleteInspectionRound {
                        round: round?,
                        completed_on: completed_on?,
                        conclusion: conclusion?,
                    },
                ))
            })
            .await?;
        Ok(pb::CompleteInspectionRoundResponse {
            result: Some(result),
        })
    }

    pub(super) async fn get_boundary(
        &self,
        call: Call<pb::GetBoundaryRequest>,
    ) -> Result<pb::GetBoundaryResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let id = violations.id(
            "boundary_id",
            &body.boundary_id,
            crate::ids::given(BoundaryId::parse),
        );
        let id = violations.finish(id)?;
        self.wait(&call, &body.read).await?;
        let directory = self.app.view().read().await;
        let boundary = directory
            .boundary(id.as_str())
            .ok_or_else(|| Error::NotFound(format!("boundary {id}")))?;
        Ok(pb::GetBoundaryResponse {
            boundary: Some(boundary_message(id.as_str(), boundary)),
        })
    }

    pub(super) async fn list_boundaries(
        &self,
        call: Call<pb::ListBoundariesRequest>,
    ) -> Result<pb::ListBoundariesResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let within = violations.region("within", &body.within);
        let within = violations.finish(within)?;
        self.wait(&call, &body.read).await?;
        let directory = self.app.view().read().await;
        let found = directory
            .boundaries_within(within)
            .map(|(id, b)| boundary_message(id, b));
        let (boundaries, page) = page(found, &body.page)?;
        Ok(pb::ListBoundariesResponse {
            boundaries,
            page: Some(page),
        })
    }
}
