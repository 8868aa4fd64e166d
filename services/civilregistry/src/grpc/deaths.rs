//! The death RPCs: deaths notified by hospitals, public security or families, funerals with
//! their fee waiver (惠民殡葬), and the death record.
//!
//! The codec's enum conversions are private to it, so the messages of a death record are built
//! here from the domain record, field by field as the codec writes its events.

use minzheng_host::edge::{Call, result};
use minzheng_host::fields::Fields as _;
use minzheng_kit::Error;
use minzheng_proto::{civilregistry::v1 as pb, convert};
use minzheng_types::Violations;
use time::Date;

use super::{CivilRegistryApi, registry};
use crate::{
    app::deaths::FuneralFacts,
    codec::{self, assistance::category_to_pb, citizen_ref},
    death::{
        self, BurialType, DeathRecord, FUNERAL_HOME_MAX_CHARS, FeeWaiver, Funeral, NAME_MAX_CHARS,
        SOURCE_REFERENCE_MAX_CHARS, Source,
    },
    ids::Pseudonym,
};

fn source(field: &str, value: i32, violations: &mut Violations) -> Option<Source> {
    let parsed = codec::deaths::source_from_i32(value);
    if parsed.is_none() {
        violations.push(field, "must be HOSPITAL, PUBLIC_SECURITY or FAMILY");
    }
    parsed
}

fn burial(field: &str, value: i32, violations: &mut Violations) -> Option<BurialType> {
    let parsed = codec::deaths::burial_from_i32(value);
    if parsed.is_none() {
        violations.push(
            field,
            "must be SEA, TREE, LAWN, FLOWER, TRADITIONAL_CEMETERY or COLUMBARIUM",
        );
    }
    parsed
}

/// The death a RecordDeath request notifies, recorded `today` (also the latest day of death).
/// Its `death` id is `pseudonym(citizen)`; the application sets it again anyway.
fn death_record(
    body: &pb::RecordDeathRequest,
    today: Date,
    pseudonym: impl FnOnce(&minzheng_types::CitizenId) -> Pseudonym,
    violations: &mut Violations,
) -> Option<death::Record> {
    let deceased = violations.citizen("citizen", &body.citizen);
    let name = violations.text("name", &body.name, NAME_MAX_CHARS);
    let died_on = violations.date("died_on", &body.died_on).and_then(|day| {
        if day <= today {
            Some(day)
        } else {
            violations.push("died_on", "must not be after today");
            None
        }
    });
    let county = registry("county", &body.county, violations);
    let source = source("source", body.source, violations);
    let source_reference = violations.record(convert::optional_text(
        "source_reference",
        &body.source_reference,
        SOURCE_REFERENCE_MAX_CHARS,
    ));
    let deceased = deceased?;
    Some(death::Record {
        death: pseudonym(&deceased),
        citizen: deceased,
        name: name?,
        died_on: died_on?,
        county: county?,
        source: source?,
        source_reference: source_reference?,
        recorded_on: today,
    })
}

/// The facts of a RecordFuneralService request.
fn funeral_facts(
    body: &pb::RecordFuneralServiceRequest,
    violations: &mut Violations,
) -> Option<FuneralFacts> {
    let funeral_home = violations.text("funeral_home", &body.funeral_home, FUNERAL_HOME_MAX_CHARS);
    let cremated_on = violations.optional_date("cremated_on", &body.cremated_on);
    let burial = burial("burial", body.burial, violations);
    let buried_on = violations.date("buried_on", &body.buried_on);
    let basic_fee = violations.record(convert::money_non_negative("basic_fee", &body.basic_fee));
    Some(FuneralFacts {
        funeral_home: funeral_home?,
        cremated_on: cremated_on?,
        burial: burial?,
        buried_on: buried_on?,
        basic_fee: basic_fee?,
    })
}

fn waiver_to_pb(waiver: &FeeWaiver) -> pb::FeeWaiver {
    pb::FeeWaiver {
        category: category_to_pb(waiver.category).into(),
        case_id: waiver.case_id.as_str().to_owned(),
        waived: Some(waiver.waived.into()),
    }
}

/// The death as its `DeathRecorded` message.
fn death_to_pb(record: &DeathRecord) -> pb::DeathRecorded {
    pb::DeathRecorded {
        death_id: record.death.as_str().to_owned(),
        citizen: Some(citizen_ref(&record.citizen)),
        name: record.name.as_str().to_owned(),
        died_on: Some(record.died_on.into()),
        county: Some(record.county.into()),
        source: codec::deaths::source_to_pb(record.source).into(),
        source_reference: record
            .source_reference
            .as_ref()
            .map_or_else(String::new, |r| r.as_str().to_owned()),
        recorded_on: Some(record.recorded_on.into()),
    }
}

/// The funeral of death `record` as its `FuneralServiceRecorded` message.
fn funeral_to_pb(record: &DeathRecord, funeral: &Funeral) -> pb::FuneralServiceRecorded {
    pb::FuneralServiceRecorded {
        death_id: record.death.as_str().to_owned(),
        funeral_home: funeral.funeral_home.as_str().to_owned(),
        cremated_on: funeral.cremated_on.map(Into::into),
        burial: codec::deaths::burial_to_pb(funeral.burial).into(),
        buried_on: Some(funeral.buried_on.into()),
        basic_fee: Some(funeral.basic_fee.into()),
        waiver: funeral.waiver.as_ref().map(waiver_to_pb),
        payable: Some(funeral.payable.into()),
        recorded_on: Some(funeral.recorded_on.into()),
    }
}

impl CivilRegistryApi {
    pub(super) async fn record_death(
        &self,
        call: Call<pb::RecordDeathRequest>,
    ) -> Result<pb::RecordDeathResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let command = death_record(
            body,
            self.app.today(),
            |citizen| self.app.pseudonym(citizen),
            &mut violations,
        );
        let command = violations.finish(command)?;
        call.require_region(command.county)?;
        let (death, committed) = self.app.record_death(command, &context).await?;
        Ok(pb::RecordDeathResponse {
            death_id: death.as_str().to_owned(),
            // Absent when the same death was already recorded (a repeated notification).
            result: committed.as_ref().map(result),
        })
    }

    pub(super) async fn record_funeral_service(
        &self,
        call: Call<pb::RecordFuneralServiceRequest>,
    ) -> Result<pb::RecordFuneralServiceResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let death = violations.id("death_id", &body.death_id, Pseudonym::parse);
        let facts = funeral_facts(body, &mut violations);
        let (death, facts) = violations.finish((death, facts))?;
        let county = self.app.death(&death).await?.county;
        call.require_region(county)?;
        let (record, committed) = self.app.record_funeral(&death, facts, &context).await?;
        let funeral = record.funeral.as_ref().ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "death {} has no funeral after recording it",
                record.death
            ))
        })?;
        Ok(pb::RecordFuneralServiceResponse {
            waiver: funeral.waiver.as_ref().map(waiver_to_pb),
            payable: Some(funeral.payable.into()),
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn get_death(
        &self,
        call: Call<pb::GetDeathRequest>,
    ) -> Result<pb::GetDeathResponse, Error> {
        let mut violations = Violations::new();
        let id = violations.id("death_id", &call.body().death_id, Pseudonym::parse);
        let id = violations.finish(id)?;
        // A death's id is the deceased's pseudonym.
        call.audit("person", id.as_str());
        let record = self.app.death(&id).await?;
        call.require_region(record.county)?;
        Ok(pb::GetDeathResponse {
            death: Some(death_to_pb(&record)),
            funeral: record.funeral.as_ref().map(|f| funeral_to_pb(&record, f)),
        })
    }
}

#[cfg(test)]
mod tests {
    use minzheng_proto::common::v1 as common;
    use time::macros::date;

    use super::*;

    const TODAY: Date = date!(2025 - 07 - 01);

    fn fields(violations: &Violations) -> Vec<&str> {
        violations.iter().map(|v| v.field.as_str()).collect()
    }

    fn pseudonym(_: &minzheng_types::CitizenId) -> Pseudonym {
        Pseudonym::parse(&"0a".repeat(16)).expect("valid")
    }

    fn death_request() -> pb::RecordDeathRequest {
        pb::RecordDeathRequest {
            metadata: None,
            citizen: Some(common::CitizenRef {
                citizen_id: "11010519491231002X".into(),
            }),
            name: "王芳".into(),
            died_on: Some(date!(2025 - 06 - 30).into()),
            county: Some(common::RegionCode {
                code: "210502000000".into(),
            }),
            source: pb::DeathSource::Hospital.into(),
            source_reference: String::new(),
        }
    }

    #[test]
    fn a_death_parses_with_an_empty_reference_as_none() {
        let mut violations = Violations::new();
        let record = death_record(&death_request(), TODAY, pseudonym, &mut violations);
        assert!(violations.is_empty(), "{violations}");
        let record = record.expect("valid");
        assert_eq!(record.source, Source::Hospital);
        assert_eq!(record.source_reference, None);
        assert_eq!(record.recorded_on, TODAY);
    }

    #[test]
    fn every_bad_death_field_is_named() {
        let mut violations = Violations::new();
        let request = pb::RecordDeathRequest {
            citizen: None,
            name: " ".into(),
            died_on: Some(date!(2025 - 07 - 02).into()),
            county: Some(common::RegionCode {
                code: "210500000000".into(),
            }),
            source: 9,
            source_reference: "x".repeat(SOURCE_REFERENCE_MAX_CHARS + 1),
            ..death_request()
        };
        assert!(death_record(&request, TODAY, pseudonym, &mut violations).is_none());
        assert_eq!(
            fields(&violations),
            [
                "citizen.citizen_id",
                "name",
                "died_on",
                "county.code",
                "source",
                "source_reference"
            ]
        );
    }

    fn funeral_request() -> pb::RecordFuneralServiceRequest {
        pb::RecordFuneralServiceRequest {
            metadata: None,
            death_id: "0a".repeat(16),
            funeral_home: "本溪市殡仪馆".into(),
            cremated_on: None,
            burial: pb::BurialType::TraditionalCemetery.into(),
            buried_on: Some(date!(2025 - 07 - 03).into()),
            basic_fee: Some(common::Money { fen: 150_000 }),
        }
    }

    #[test]
    fn funeral_facts_parse_with_an_optional_cremation() {
        let mut violations = Violations::new();
        let facts = funeral_facts(&funeral_request(), &mut violations).expect("valid");
        assert_eq!(facts.cremated_on, None);
        assert_eq!(facts.burial, BurialType::TraditionalCemetery);
        let request = pb::RecordFuneralServiceRequest {
            cremated_on: Some(date!(2025 - 07 - 02).into()),
            ..funeral_request()
        };
        let facts = funeral_facts(&request, &mut violations).expect("valid");
        assert_eq!(facts.cremated_on, Some(date!(2025 - 07 - 02)));
        assert!(violations.is_empty());
    }

    #[test]
    fn every_bad_funeral_field_is_named() {
        let mut violations = Violations::new();
        let request = pb::RecordFuneralServiceRequest {
            funeral_home: String::new(),
            cremated_on: Some(common::Date {
                year: 2025,
                month: 2,
                day: 30,
            }),
            burial: pb::BurialType::Unspecified.into(),
            buried_on: None,
            basic_fee: Some(common::Money { fen: -1 }),
            ..funeral_request()
        };
        assert!(funeral_facts(&request, &mut violations).is_none());
        assert_eq!(
            fields(&violations),
            [
                "funeral_home",
                "cremated_on",
                "burial",
                "buried_on",
                "basic_fee.fen"
            ]
        );
    }
}
