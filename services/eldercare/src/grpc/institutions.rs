//! The institution, service-point and indicator RPCs.

use minzheng_host::{
    edge::{self, Call, result},
    fields::Fields as _,
};
use minzheng_kit::Error;
use minzheng_proto::eldercare::v1 as pb;
use minzheng_types::{RegionCode, RegionLevel, Violations};
use time::Date;

use super::{ElderCareApi, county, local_division};
use crate::{
    app::{
        indicators::{Indicators, Report},
        institutions::Leaving,
    },
    codec::{
        institution::{
            bed_type_from_pb, bed_type_to_pb, credit_kind_from_pb, credit_kind_to_pb,
            discharge_reason_from_pb, licence_kind_from_pb, licence_kind_to_pb, ownership_from_pb,
            ownership_to_pb,
        },
        service_point::{kind_from_pb, kind_to_pb},
    },
    ids::{InstitutionId, ServicePointId},
    institution::{
        self, Beds, CreditEntry, DESCRIPTION_MAX_CHARS, DischargeReason, Institution,
        LICENCE_NUMBER_MAX_CHARS, Licence, NAME_MAX_CHARS, NOTE_MAX_CHARS, Profile,
    },
    service_point::{self, ServicePoint},
};

const BED_TYPES: &str = "GENERAL or NURSING";

fn institution_id(field: &str, value: &str, violations: &mut Violations) -> Option<InstitutionId> {
    violations.id(field, value, InstitutionId::parse)
}

fn point_id(value: &str, violations: &mut Violations) -> Option<ServicePointId> {
    violations.id("service_point_id", value, ServicePointId::parse)
}

/// The county and a division within it.
fn placed(
    county_value: &Option<minzheng_proto::common::v1::RegionCode>,
    division_value: &Option<minzheng_proto::common::v1::RegionCode>,
    violations: &mut Violations,
) -> Option<(RegionCode, RegionCode)> {
    let county = county("county", county_value, violations);
    let division = local_division("division", division_value, violations);
    let (county, division) = (county?, division?);
    if !county.contains(division) {
        violations.push("division.code", format!("must lie within county {county}"));
        return None;
    }
    Some((county, division))
}

/// The institution on `day` as its message.
fn institution_message(institution: &Institution, day: Date) -> Option<pb::Institution> {
    let profile = institution.profile()?;
    let beds = institution.beds_on(day);
    let occupied = institution.occupied_on(day);
    let risk = institution.fundraising_risk_on(day);
    Some(pb::Institution {
        institution_id: profile.id.to_string(),
        name: profile.name.as_str().to_owned(),
        ownership: ownership_to_pb(profile.ownership).into(),
        county: Some(profile.county.into()),
        division: Some(profile.division.into()),
        registered_on: Some(profile.registered_on.into()),
        licence_kind: institution
            .licence()
            .map_or(0, |l| licence_kind_to_pb(l.kind).into()),
        licence_number: institution
            .licence()
            .map_or_else(String::new, |l| l.number.as_str().to_owned()),
        general_beds: beds.general,
        nursing_beds: beds.nursing,
        general_occupied: occupied.general,
        nursing_occupied: occupied.nursing,
        grade: u32::from(institution.grade_on(day)),
        social_workers: institution.social_workers_on(day),
        joint_punishment: institution.jointly_punished_on(day),
        fundraising_risk: risk.is_some(),
        fundraising_risk_source: risk.map_or_else(String::new, |e| e.source.as_str().to_owned()),
    })
}

fn point_message(point: &ServicePoint, day: Date) -> Option<pb::ServicePoint> {
    let opened = point.opened()?;
    Some(pb::ServicePoint {
        service_point_id: opened.id.to_string(),
        name: opened.name.as_str().to_owned(),
        kind: kind_to_pb(opened.kind).into(),
        county: Some(opened.county.into()),
        division: Some(opened.division.into()),
        capacity: point.capacity_on(day),
        opened_on: Some(opened.on.into()),
        closed_on: point
            .closed_on()
            .filter(|closed| *closed <= day)
            .map(Into::into),
    })
}

fn indicators_message(region: RegionCode, i: &Indicators) -> pb::RegionIndicators {
    pb::RegionIndicators {
        region: Some(region.into()),
        institutions: i.institutions,
        general_beds: i.general_beds,
        nursing_beds: i.nursing_beds,
        nursing_share_permille: i.nursing_share_permille(),
        nursing_share_target_met: i.nursing_share_target_met(),
        elderly_population: i.elderly_population,
        beds_per_100_elderly_centi: i.beds_per_100_elderly_centi(),
        social_workers: i.social_workers,
        social_workers_per_1000_elderly_centi: i.social_workers_per_1000_elderly_centi(),
        social_workers_per_100_beds_centi: i.social_workers_per_100_beds_centi(),
        visit_plans: i.visit_plans,
        visit_plans_on_time: i.visit_plans_on_time,
        visit_compliance_permille: i.visit_compliance_permille(),
        institutions_by_grade: i.by_grade.to_vec(),
        home_care_beds: i.home_care_beds,
        urban_centres: i.urban_centres,
        rural_centres: i.rural_centres,
        residents: i.residents,
    }
}

/// Whether `region` (or the whole city when none) covers a record in `county` at `division`.
fn within(region: Option<RegionCode>, county: RegionCode, division: RegionCode) -> bool {
    region.is_none_or(|r| r.contains(division) || r == county || r.contains(county))
}

/// An optional region filter: a city-, county- or township-level division.
fn region_filter(
    value: &Option<minzheng_proto::common::v1::RegionCode>,
    violations: &mut Violations,
) -> Option<Option<RegionCode>> {
    match value {
        None => Some(None),
        Some(code) if code.code.is_empty() => Some(None),
        Some(_) => {
            let code = violations.region("region", value)?;
            if matches!(code.level(), RegionLevel::Village) {
                violations.push("region.code", "must be a city, county or township");
                return None;
            }
            Some(Some(code))
        }
    }
}

impl ElderCareApi {
    /// A list's region filter and day, once the read model has what the caller wrote.
    async fn listing<T>(
        &self,
        call: &Call<T>,
        region: &Option<minzheng_proto::common::v1::RegionCode>,
        as_of: &Option<minzheng_proto::common::v1::Date>,
        read: &Option<minzheng_proto::common::v1::ReadOptions>,
    ) -> Result<(Option<RegionCode>, Date), Error> {
        let mut violations = Violations::new();
        let region = region_filter(region, &mut violations);
        let day = violations.date_or("as_of", as_of, self.app.today());
        let parsed = violations.finish((region, day))?;
        self.app
            .view()
            .wait_for(edge::min_position(read), call.deadline())
            .await?;
        Ok(parsed)
    }

    pub(super) async fn register_institution(
        &self,
        call: Call<pb::RegisterInstitutionRequest>,
    ) -> Result<pb::RegisterInstitutionResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let name = violations.text("name", &body.name, NAME_MAX_CHARS);
        let ownership = violations.known(
            "ownership",
            ownership_from_pb(body.ownership),
            "PUBLIC, PRIVATE or PUBLIC_BUILT_PRIVATELY_RUN",
        );
        let place = placed(&body.county, &body.division, &mut violations);
        let registered_on =
            violations.past_date("registered_on", &body.registered_on, self.app.today());
        let (name, ownership, (county, division), registered_on) =
            violations.finish((name, ownership, place, registered_on))?;
        call.require_region(county)?;
        let profile = Profile {
            // Issued by the application.
            id: InstitutionId::new(county, 1).ok_or_else(|| {
                Error::invalid_field("county.code", "must be a county-level division")
            })?,
            name,
            ownership,
            county,
            division,
            registered_on,
        };
        let beds = Beds {
            general: body.general_beds,
            nursing: body.nursing_beds,
        };
        let (id, committed) = self
            .app
            .register_institution(profile, beds, &context)
            .await?;
        Ok(pb::RegisterInstitutionResponse {
            institution_id: id.to_string(),
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn record_licence(
        &self,
        call: Call<pb::RecordLicenceRequest>,
    ) -> Result<pb::RecordLicenceResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = institution_id("institution_id", &body.institution_id, &mut violations);
        let kind = violations.known("kind", licence_kind_from_pb(body.kind), "LICENCE or FILING");
        let number = violations.text("number", &body.number, LICENCE_NUMBER_MAX_CHARS);
        let issued_on = violations.past_date("issued_on", &body.issued_on, self.app.today());
        let (id, kind, number, issued_on) = violations.finish((id, kind, number, issued_on))?;
        self.institution_in_scope(&call, &id).await?;
        let committed = self
            .app
            .institution_command(
                &id,
                institution::Command::RecordLicence(Licence {
                    kind,
                    number,
                    issued_on,
                }),
                &context,
            )
            .await?;
        Ok(pb::RecordLicenceResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn change_beds(
        &self,
        call: Call<pb::ChangeBedsRequest>,
    ) -> Result<pb::ChangeBedsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = institution_id("institution_id", &body.institution_id, &mut violations);
        let on = violations.past_date("effective_on", &body.effective_on, self.app.today());
        let reason = violations.text("reason", &body.reason, NOTE_MAX_CHARS);
        let (id, on, reason) = violations.finish((id, on, reason))?;
        self.institution_in_scope(&call, &id).await?;
        let committed = self
            .app
            .institution_command(
                &id,
                institution::Command::ChangeBeds(institution::ChangeBeds {
                    on,
                    beds: Beds {
                        general: body.general,
                        nursing: body.nursing,
                    },
                    reason,
                }),
                &context,
            )
            .await?;
        Ok(pb::ChangeBedsResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn admit_resident(
        &self,
        call: Call<pb::AdmitResidentRequest>,
    ) -> Result<pb::AdmitResidentResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = institution_id("institution_id", &body.institution_id, &mut violations);
        let resident = violations.citizen("resident", &body.resident);
        let bed_type = violations.known("bed_type", bed_type_from_pb(body.bed_type), BED_TYPES);
        let on = violations.past_date("admitted_on", &body.admitted_on, self.app.today());
        let (id, resident, bed_type, on) = violations.finish((id, resident, bed_type, on))?;
        self.institution_in_scope(&call, &id).await?;
        let (elder, committed) = self
            .app
            .admit(id, &resident, bed_type, on, &context)
            .await?;
        Ok(pb::AdmitResidentResponse {
            elder_id: elder.to_string(),
            result: committed.as_ref().map(result),
        })
    }

    pub(super) async fn discharge_resident(
        &self,
        call: Call<pb::DischargeResidentRequest>,
    ) -> Result<pb::DischargeResidentResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = institution_id("institution_id", &body.institution_id, &mut violations);
        let resident = violations.citizen("resident", &body.resident);
        let on = violations.past_date("discharged_on", &body.discharged_on, self.app.today());
        let leaving = if body.to_institution_id.is_empty() {
            match discharge_reason_from_pb(body.reason) {
                Some(DischargeReason::Discharged) => Some(Leaving::Discharged),
                Some(DischargeReason::Died) => Some(Leaving::Died { death_id: None }),
                _ => {
                    violations.push(
                        "reason",
                        "must be DISCHARGED or DIED (a transfer names to_institution_id)",
                    );
                    None
                }
            }
        } else {
            let to = institution_id(
                "to_institution_id",
                &body.to_institution_id,
                &mut violations,
            );
            let bed_type =
                violations.known("to_bed_type", bed_type_from_pb(body.to_bed_type), BED_TYPES);
            if !matches!(
                discharge_reason_from_pb(body.reason),
                None | Some(DischargeReason::Transferred)
            ) {
                violations.push("reason", "must be TRANSFERRED or unset for a transfer");
            }
            to.zip(bed_type)
                .map(|(to, bed_type)| Leaving::TransferredTo(to, bed_type))
        };
        let (id, resident, on, leaving) = violations.finish((id, resident, on, leaving))?;
        self.institution_in_scope(&call, &id).await?;
        if let Leaving::TransferredTo(to, _) = &leaving {
            self.institution_in_scope(&call, to).await?;
        }
        let committed = self
            .app
            .discharge(id, &resident, on, leaving, &context)
            .await?;
        Ok(pb::DischargeResidentResponse {
            result: committed.as_ref().map(result),
        })
    }

    pub(super) async fn move_resident(
        &self,
        call: Call<pb::MoveResidentRequest>,
    ) -> Result<pb::MoveResidentResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = institution_id("institution_id", &body.institution_id, &mut violations);
        let resident = violations.citizen("resident", &body.resident);
        let bed_type = violations.known("bed_type", bed_type_from_pb(body.bed_type), BED_TYPES);
        let on = violations.past_date("moved_on", &body.moved_on, self.app.today());
        let (id, resident, bed_type, on) = violations.finish((id, resident, bed_type, on))?;
        self.institution_in_scope(&call, &id).await?;
        let committed = self
            .app
            .move_resident(id, &resident, bed_type, on, &context)
            .await?;
        Ok(pb::MoveResidentResponse {
            result: committed.as_ref().map(result),
        })
    }

    pub(super) async fn record_quality_grade(
        &self,
        call: Call<pb::RecordQualityGradeRequest>,
    ) -> Result<pb::RecordQualityGradeResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = institution_id("institution_id", &body.institution_id, &mut violations);
        let grade = u8::try_from(body.grade)
            .ok()
            .filter(|g| *g <= institution::MAX_GRADE);
        if grade.is_none() {
            violations.push("grade", "must be 1 to 5, or 0 to withdraw the grade");
        }
        let on = violations.past_date("graded_on", &body.graded_on, self.app.today());
        let assessor = violations.text("assessor", &body.assessor, NOTE_MAX_CHARS);
        let (id, grade, on, assessor) = violations.finish((id, grade, on, assessor))?;
        self.institution_in_scope(&call, &id).await?;
        let committed = self
            .app
            .institution_command(
                &id,
                institution::Command::Grade(institution::Grade {
                    grade,
                    on,
                    assessor,
                }),
                &context,
            )
            .await?;
        Ok(pb::RecordQualityGradeResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn record_credit_entry(
        &self,
        call: Call<pb::RecordCreditEntryRequest>,
    ) -> Result<pb::RecordCreditEntryResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = institution_id("institution_id", &body.institution_id, &mut violations);
        let kind = violations.known(
            "kind",
            credit_kind_from_pb(body.kind),
            "VIOLATION, PENALTY, JOINT_PUNISHMENT_LISTED, JOINT_PUNISHMENT_LIFTED, \
             FUNDRAISING_RISK_FLAGGED or FUNDRAISING_RISK_CLEARED",
        );
        let on = violations.past_date("recorded_on", &body.recorded_on, self.app.today());
        let description = violations.text("description", &body.description, DESCRIPTION_MAX_CHARS);
        let source = violations.text("source", &body.source, NOTE_MAX_CHARS);
        let (id, kind, on, description, source) =
            violations.finish((id, kind, on, description, source))?;
        self.institution_in_scope(&call, &id).await?;
        let committed = self
            .app
            .institution_command(
                &id,
                institution::Command::RecordCredit(CreditEntry {
                    kind,
                    on,
                    description,
                    source,
                }),
                &context,
            )
            .await?;
        Ok(pb::RecordCreditEntryResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn report_social_workers(
        &self,
        call: Call<pb::ReportSocialWorkersRequest>,
    ) -> Result<pb::ReportSocialWorkersResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = institution_id("institution_id", &body.institution_id, &mut violations);
        let on = violations.past_date("effective_on", &body.effective_on, self.app.today());
        let (id, on) = violations.finish((id, on))?;
        self.institution_in_scope(&call, &id).await?;
        let committed = self
            .app
            .institution_command(
                &id,
                institution::Command::ReportSocialWorkers {
                    count: body.social_workers,
                    on,
                },
                &context,
            )
            .await?;
        Ok(pb::ReportSocialWorkersResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn get_institution(
        &self,
        call: Call<pb::GetInstitutionRequest>,
    ) -> Result<pb::GetInstitutionResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let id = institution_id("institution_id", &body.institution_id, &mut violations);
        let day = violations.date_or("as_of", &body.as_of, self.app.today());
        let (id, day) = violations.finish((id, day))?;
        self.app
            .view()
            .wait_for(edge::min_position(&body.read), call.deadline())
            .await?;
        let institution = self.institution_in_scope(&call, &id).await?;
        // The residents on `day` are those now when the day is the last change or later; an
        // earlier day's residents are not kept one by one, so only their counts are answered.
        let residents: Vec<pb::Resident> = if institution.last_change().is_none_or(|l| day >= l) {
            institution
                .residents()
                .iter()
                .filter(|(_, r)| r.admitted_on <= day)
                .map(|(elder, r)| {
                    call.audit("person", elder.as_str());
                    pb::Resident {
                        elder_id: elder.to_string(),
                        bed_type: bed_type_to_pb(r.bed_type).into(),
                        admitted_on: Some(r.admitted_on.into()),
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(pb::GetInstitutionResponse {
            institution: institution_message(&institution, day),
            credit_record: institution
                .credit_record()
                .iter()
                .filter(|e| e.on <= day)
                .map(|e| pb::CreditEntry {
                    kind: credit_kind_to_pb(e.kind).into(),
                    recorded_on: Some(e.on.into()),
                    description: e.description.as_str().to_owned(),
                    source: e.source.as_str().to_owned(),
                })
                .collect(),
            residents,
        })
    }

    pub(super) async fn list_institutions(
        &self,
        call: Call<pb::ListInstitutionsRequest>,
    ) -> Result<pb::ListInstitutionsResponse, Error> {
        let body = call.body();
        let (region, day) = self
            .listing(&call, &body.region, &body.as_of, &body.read)
            .await?;
        let view = self.app.view().read().await;
        let (institutions, page) = edge::page(
            view.institutions().values().filter_map(|i| {
                let profile = i.profile()?;
                (profile.registered_on <= day && within(region, profile.county, profile.division))
                    .then(|| institution_message(i, day))
                    .flatten()
            }),
            &body.page,
        )?;
        Ok(pb::ListInstitutionsResponse {
            institutions,
            page: Some(page),
        })
    }

    pub(super) async fn open_service_point(
        &self,
        call: Call<pb::OpenServicePointRequest>,
    ) -> Result<pb::OpenServicePointResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let name = violations.text("name", &body.name, service_point::NAME_MAX_CHARS);
        let kind = violations.known(
            "kind",
            kind_from_pb(body.kind),
            "URBAN_CENTRE, RURAL_CENTRE or HOME_CARE_BEDS",
        );
        let place = placed(&body.county, &body.division, &mut violations);
        if !(1..=service_point::MAX_CAPACITY).contains(&body.capacity) {
            violations.push(
                "capacity",
                format!("must be 1 to {}", service_point::MAX_CAPACITY),
            );
        }
        let on = violations.past_date("opened_on", &body.opened_on, self.app.today());
        let (name, kind, (county, division), on) = violations.finish((name, kind, place, on))?;
        call.require_region(county)?;
        let opened = service_point::Opened {
            id: ServicePointId::new(county, 1).ok_or_else(|| {
                Error::invalid_field("county.code", "must be a county-level division")
            })?,
            name,
            kind,
            county,
            division,
            capacity: body.capacity,
            on,
        };
        let (id, committed) = self.app.open_service_point(opened, &context).await?;
        Ok(pb::OpenServicePointResponse {
            service_point_id: id.to_string(),
            result: Some(result(&committed)),
        })
    }

    async fn point_command<T>(
        &self,
        call: &Call<T>,
        id: ServicePointId,
        command: service_point::Command,
        context: &minzheng_kit::aggregate::CommandContext,
    ) -> Result<pb::ChangeServicePointCapacityResponse, Error> {
        call.require_region(id.county())?;
        let committed = self
            .app
            .service_point_command(&id, command, context)
            .await?;
        Ok(pb::ChangeServicePointCapacityResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn change_service_point_capacity(
        &self,
        call: Call<pb::ChangeServicePointCapacityRequest>,
    ) -> Result<pb::ChangeServicePointCapacityResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = point_id(&body.service_point_id, &mut violations);
        if !(1..=service_point::MAX_CAPACITY).contains(&body.capacity) {
            violations.push(
                "capacity",
                format!("must be 1 to {}", service_point::MAX_CAPACITY),
            );
        }
        let on = violations.past_date("effective_on", &body.effective_on, self.app.today());
        let (id, on) = violations.finish((id, on))?;
        self.point_command(
            &call,
            id,
            service_point::Command::ChangeCapacity {
                capacity: body.capacity,
                on,
            },
            &context,
        )
        .await
    }

    pub(super) async fn close_service_point(
        &self,
        call: Call<pb::CloseServicePointRequest>,
    ) -> Result<pb::CloseServicePointResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = point_id(&body.service_point_id, &mut violations);
        let on = violations.past_date("closed_on", &body.closed_on, self.app.today());
        let (id, on) = violations.finish((id, on))?;
        let answer = self
            .point_command(&call, id, service_point::Command::Close { on }, &context)
            .await?;
        Ok(pb::CloseServicePointResponse {
            result: answer.result,
        })
    }

    pub(super) async fn list_service_points(
        &self,
        call: Call<pb::ListServicePointsRequest>,
    ) -> Result<pb::ListServicePointsResponse, Error> {
        let body = call.body();
        let (region, day) = self
            .listing(&call, &body.region, &body.as_of, &body.read)
            .await?;
        let view = self.app.view().read().await;
        let (service_points, page) = edge::page(
            view.service_points().values().filter_map(|p| {
                let opened = p.opened()?;
                (opened.on <= day && within(region, opened.county, opened.division))
                    .then(|| point_message(p, day))
                    .flatten()
            }),
            &body.page,
        )?;
        Ok(pb::ListServicePointsResponse {
            service_points,
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
        } = self.app.indicators(day).await?;
        let city_code = counties
            .keys()
            .next()
            .and_then(|county| county.city())
            .unwrap_or(crate::seed::benxi_city());
        Ok(pb::GetIndicatorsResponse {
            as_of: Some(day.into()),
            city: Some(indicators_message(city_code, &city)),
            counties: counties
                .iter()
                .map(|(county, i)| indicators_message(*county, i))
                .collect(),
        })
    }
}
