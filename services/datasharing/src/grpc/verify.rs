//! `VerifyHousehold`, and the thresholds it applies (`RecordThresholds`, `ListThresholds`).

use std::collections::HashSet;

use minzheng_host::{
    edge::{self, Call},
    fields::Fields as _,
};
use minzheng_kit::{Error, auth::Role};
use minzheng_proto::{assistance::v1 as assistance, convert, datasharing::v1 as pb};
use minzheng_types::{CitizenId, Fen, RegionLevel, Violations};
use time::OffsetDateTime;

use super::{DataSharingApi, words};
use crate::{
    app::{authorizations::refusal, verify::Question},
    codec::{report::report_to_pb, thresholds as codec},
    records::DataClass,
    thresholds::{RecordThresholds, Thresholds},
    verification::Area,
};

/// Most members a household verification reads.
pub const MAX_MEMBERS: usize = 30;

fn members(
    violations: &mut Violations,
    given: &[minzheng_proto::common::v1::CitizenRef],
) -> Vec<CitizenId> {
    if given.is_empty() || given.len() > MAX_MEMBERS {
        violations.push("members", format!("must list 1 to {MAX_MEMBERS} members"));
    }
    let mut seen = HashSet::new();
    let mut members = Vec::new();
    for (n, member) in given.iter().enumerate() {
        let field = format!("members[{n}]");
        if let Some(citizen) = violations.citizen(&field, &Some(member.clone())) {
            if seen.insert(citizen.clone()) {
                members.push(citizen);
            } else {
                violations.push(field, "lists a member twice");
            }
        }
    }
    members
}

fn timestamp(value: &prost_types::Timestamp) -> Option<OffsetDateTime> {
    let nanos = i128::from(value.seconds) * 1_000_000_000 + i128::from(value.nanos);
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

impl DataSharingApi {
    pub(super) async fn verify_household(
        &self,
        call: Call<pb::VerifyHouseholdRequest>,
    ) -> Result<pb::VerifyHouseholdResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let members = members(&mut violations, &body.members);
        let township = violations.region("township", &body.township);
        if township.is_some_and(|t| t.level() != RegionLevel::Township) {
            violations.push(
                "township.code",
                "must be a township-level division (乡镇、街道)",
            );
        }
        let area = match assistance::ResidenceArea::try_from(body.area) {
            Ok(assistance::ResidenceArea::Urban) => Some(Area::Urban),
            Ok(assistance::ResidenceArea::Rural) => Some(Area::Rural),
            _ => {
                violations.push(
                    "area",
                    "must be RESIDENCE_AREA_URBAN or RESIDENCE_AREA_RURAL",
                );
                None
            }
        };
        let today = self.app.today();
        let verify_on = violations.date_or("verify_on", &body.verify_on, today);
        let as_known_at = match &body.as_known_on {
            None => Some(None),
            Some(value) => match timestamp(value) {
                Some(at) => Some(Some(at)),
                None => {
                    violations.push("as_known_on", "must be a valid time");
                    None
                }
            },
        };
        let (township, area, verify_on, as_known_at) =
            violations.finish((township, area, verify_on, as_known_at))?;
        call.require_region(township)?;
        for member in &members {
            call.audit("person", self.app.pseudonym(member));
        }
        // An auditor reproducing a report needs the authorizations of the day it was made; a
        // caseworker also today's, so that a withdrawal stops every new look-up.
        let auditing = call
            .principal()
            .is_some_and(|p| p.has_role(Role::Auditor) && !p.has_role(Role::Caseworker));
        let mut days = vec![verify_on];
        if !auditing && verify_on != today {
            days.push(today);
        }
        let missing = self
            .app
            .missing_authorizations(&members, &DataClass::ECONOMIC, &days, &[])
            .await?;
        if !missing.is_empty() {
            return Err(refusal(&members, &missing));
        }
        let county = township
            .ancestor_at(RegionLevel::County)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("a township without a county")))?;
        let report = self
            .app
            .verify(&Question {
                members,
                county,
                area: Some(area),
                verify_on,
                as_known_at,
            })
            .await?;
        Ok(pb::VerifyHouseholdResponse {
            report: Some(report_to_pb(&report)),
        })
    }

    pub(super) async fn record_thresholds(
        &self,
        call: Call<pb::RecordThresholdsRequest>,
    ) -> Result<pb::RecordThresholdsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let county = violations.region("county", &body.county);
        if county.is_some_and(|c| c.level() != RegionLevel::County) {
            violations.push("county.code", "must be a county-level division");
        }
        let effective_from = violations.date("effective_from", &body.effective_from);
        let decided_by = words(&mut violations, "decided_by", &body.decided_by, 100);
        let vehicle = violations.record(convert::money_non_negative(
            "vehicle_value_limit",
            &body.vehicle_value_limit,
        ));
        let business = match &body.business_capital_limit {
            None => Some(Fen::ZERO),
            Some(_) => violations.record(convert::money_non_negative(
                "business_capital_limit",
                &body.business_capital_limit,
            )),
        };
        if !(1..=crate::thresholds::MAX_SOURCE_AGE_DAYS).contains(&body.max_source_age_days) {
            violations.push("max_source_age_days", "must be 1 to 3650");
        }
        if !(1..=crate::thresholds::MAX_FINANCIAL_MONTHS)
            .contains(&body.financial_assets_limit_months)
        {
            violations.push("financial_assets_limit_months", "must be 1 to 600");
        }
        if body.max_properties > crate::thresholds::MAX_PROPERTIES {
            violations.push("max_properties", "must be at most 100");
        }
        let (county, effective_from, decided_by, vehicle, business) =
            violations.finish((county, effective_from, decided_by, vehicle, business))?;
        call.require_region(county)?;
        let command = RecordThresholds {
            county,
            thresholds: Thresholds {
                max_properties: body.max_properties,
                vehicle_value_limit: vehicle,
                financial_assets_limit_months: body.financial_assets_limit_months,
                business_capital_limit: business,
                max_source_age_days: body.max_source_age_days,
            },
            effective_from,
            decided_by,
            recorded_on: self.app.today(),
        };
        let (number, committed) = self.app.record_thresholds(command, &context).await?;
        Ok(pb::RecordThresholdsResponse {
            result: Some(edge::result(&committed)),
            version: Some(pb::ThresholdsVersion {
                county: Some(county.into()),
                number,
            }),
        })
    }

    pub(super) async fn list_thresholds(
        &self,
        call: Call<pb::ListThresholdsRequest>,
    ) -> Result<pb::ListThresholdsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let county = violations.region("county", &body.county);
        if county.is_some_and(|c| c.level() != RegionLevel::County) {
            violations.push("county.code", "must be a county-level division");
        }
        let county = violations.finish(county)?;
        let versions = self.app.thresholds_of(county).await?;
        Ok(pb::ListThresholdsResponse {
            versions: versions.iter().map(codec::recorded_to_pb).collect(),
        })
    }
}
