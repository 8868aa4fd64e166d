//! The RPCs about allowance standards and children: identification, care, revisions of a
//! parent's facts, adoption registration, a child's record and monthly allowance.

use minzheng_host::{
    edge::{self, Call, result},
    fields::Fields as _,
};
use minzheng_kit::Error;
use minzheng_proto::{childwelfare::v1 as pb, common::v1 as common, convert};
use minzheng_types::{BoundedText, CitizenId, Fen, RegionCode, RegionLevel, Violations, add_years};
use time::Date;

use super::{ChildWelfareApi, local_division};
use crate::{
    adoption::{self, CERTIFICATE_MAX_CHARS, Registration},
    allowance::{
        self, AllowancePolicy, Basis, Care, DECIDED_BY_MAX_CHARS, OVERRIDE_REASON_MAX_CHARS,
        Record, Standard,
    },
    child::{
        self, ChildRecord, FactSource, INSTITUTION_MAX_CHARS, ParentFact, REFERENCE_MAX_CHARS,
    },
    codec::child::{
        basis_to_pb, care_from_pb, care_to_pb, category_from_pb, consent_from_pb, fact_to_pb,
        parent_from_pb, relationship_from_pb, situation_from_pb, source_kind_from_pb,
    },
    ids::ChildId,
};

const SITUATIONS: &str = "ABLE, DEAD, NOT_FOUND, DECLARED_MISSING, SEVERE_DISABILITY, \
                          SEVERE_ILLNESS, IMPRISONED, COMPULSORY_DRUG_REHABILITATION, \
                          OTHER_RESTRICTION_OF_LIBERTY or OUT_OF_CONTACT";
const SOURCE_KINDS: &str = "CIVIL_REGISTRATION_DEATH, COURT_RECORD, POLICE_RECORD, \
                            DISABILITY_CERTIFICATE, MEDICAL_RECORD, DETENTION_RECORD or OTHER";
const CARE_SETTINGS: &str = "CENTRALIZED or FAMILY";
/// Basis points in a whole.
const WHOLE_BP: i128 = 10_000;

/// A city-level division.
fn city(
    field: &str,
    value: &Option<common::RegionCode>,
    violations: &mut Violations,
) -> Option<RegionCode> {
    violations.region_at(field, value, &[RegionLevel::City], "210500000000")
}

/// Optional free text: empty is `None`.
fn optional_text(
    field: &str,
    value: &str,
    max: usize,
    violations: &mut Violations,
) -> Option<Option<BoundedText>> {
    violations.record(convert::optional_text(field, value, max))
}

/// One parent's situation and the record it comes from. Whether the record is required and
/// can prove the situation are the domain's rules (`source_required`, `source_mismatch`).
fn parent_fact(
    field: &str,
    value: &Option<pb::ParentFact>,
    violations: &mut Violations,
) -> Option<ParentFact> {
    let Some(fact) = value else {
        violations.push(field, "is required");
        return None;
    };
    let situation = violations.known(
        &format!("{field}.situation"),
        situation_from_pb(fact.situation),
        SITUATIONS,
    );
    let source = match &fact.source {
        None => Some(None),
        Some(source) => {
            let kind = violations.known(
                &format!("{field}.source.kind"),
                source_kind_from_pb(source.kind),
                SOURCE_KINDS,
            );
            let reference = violations.text(
                &format!("{field}.source.reference"),
                &source.reference,
                REFERENCE_MAX_CHARS,
            );
            kind.zip(reference)
                .map(|(kind, reference)| Some(FactSource { kind, reference }))
        }
    };
    Some(ParentFact {
        situation: situation?,
        source: source?,
    })
}

/// An arrangement's institution: given for centralized care, empty for family care (the
/// domain refuses either mismatch with its rule id).
fn institution(value: &str, violations: &mut Violations) -> Option<Option<BoundedText>> {
    optional_text("institution", value, INSTITUTION_MAX_CHARS, violations)
}

fn basis_message(basis: Option<Basis>) -> i32 {
    basis
        .map_or(pb::CoverageBasis::Unspecified, basis_to_pb)
        .into()
}

/// The growth of `amount` over `base` in basis points, rounded down; 0 without a base.
fn growth_bp(amount: Fen, base: Fen) -> i32 {
    if base.fen() <= 0 {
        return 0;
    }
    let growth = (i128::from(amount.fen()) - i128::from(base.fen())) * WHOLE_BP;
    let bp = growth.div_euclid(i128::from(base.fen()));
    i32::try_from(bp).unwrap_or(if bp < 0 { i32::MIN } else { i32::MAX })
}

/// A version of `policy` as its message: its growth over the version in force a year before
/// its effective day, and whether it is below the growth target.
pub(super) fn standard_message(
    policy: &AllowancePolicy,
    standard: &Standard,
    below_target: &[u32],
) -> pb::AllowanceStandard {
    let baseline = add_years(standard.effective_from, -1).and_then(|year_before| {
        policy
            .versions()
            .iter()
            .rev()
            .filter(|s| s.version != standard.version)
            .find(|s| s.effective_from <= year_before)
    });
    let growth =
        |care: Care| baseline.map_or(0, |b| growth_bp(standard.amount(care), b.amount(care)));
    pb::AllowanceStandard {
        version: standard.version,
        effective_from: Some(standard.effective_from.into()),
        centralized: Some(standard.centralized.into()),
        family: Some(standard.family.into()),
        decided_by: standard.decided_by.as_str().to_owned(),
        override_reason: standard
            .override_reason
            .as_ref()
            .map_or_else(String::new, |r| r.as_str().to_owned()),
        below_growth_target: below_target.contains(&standard.version),
        centralized_growth_bp: growth(Care::Centralized),
        family_growth_bp: growth(Care::Family),
    }
}

/// A month's allowance line; a child never identified is paid nothing.
fn line_message(line: Option<allowance::Line>, month: Date) -> pb::AllowanceLine {
    match line {
        Some(line) => pb::AllowanceLine {
            month: Some(line.month.into()),
            amount: Some(line.amount.into()),
            standard_version: line.standard_version,
            care: line
                .care
                .map_or(pb::ChildCareSetting::Unspecified, care_to_pb)
                .into(),
            explanation: line.explanation,
        },
        None => pb::AllowanceLine {
            month: Some(month.replace_day(1).unwrap_or(month).into()),
            amount: Some(Fen::ZERO.into()),
            standard_version: 0,
            care: pb::ChildCareSetting::Unspecified.into(),
            explanation: format!(
                "basic-living allowance (基本生活费): the child was never identified as an \
                 orphan or a de-facto unsupported child: {} yuan",
                Fen::ZERO.yuan()
            ),
        },
    }
}

/// The region a child's record belongs to: their division, else (a child adopted without
/// being identified here) the adoption's registry.
fn child_region(record: &ChildRecord) -> Option<RegionCode> {
    record
        .division()
        .or_else(|| record.adoption().map(|a| a.registration.registry))
}

impl ChildWelfareApi {
    /// A child's record, after checking the caller may act on it (its region is in the
    /// caller's regions).
    async fn child_in_scope<T>(
        &self,
        call: &Call<T>,
        citizen: &CitizenId,
    ) -> Result<(ChildId, ChildRecord), Error> {
        let (id, record) = self.app.child(citizen).await?;
        let region = child_region(&record)
            .ok_or_else(|| Error::NotFound("the service has no record of this child".to_owned()))?;
        call.require_region(self.app.current_division(region).await?)?;
        Ok((id, record))
    }

    /// [`Self::child_in_scope`] for a read of personal data: the read is audited whatever its
    /// outcome.
    async fn child_read<T>(
        &self,
        call: &Call<T>,
        citizen: &CitizenId,
    ) -> Result<(ChildId, ChildRecord), Error> {
        call.audit("person", self.app.child_id(citizen).as_str());
        self.child_in_scope(call, citizen).await
    }

    pub(super) async fn record_allowance_standard(
        &self,
        call: Call<pb::RecordAllowanceStandardRequest>,
    ) -> Result<pb::RecordAllowanceStandardResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let city = city("city", &body.city, &mut violations);
        let effective_from = violations.date("effective_from", &body.effective_from);
        let centralized = violations.record(convert::money("centralized", &body.centralized));
        let family = violations.record(convert::money("family", &body.family));
        let decided_by = violations.text("decided_by", &body.decided_by, DECIDED_BY_MAX_CHARS);
        let override_reason = optional_text(
            "override_reason",
            &body.override_reason,
            OVERRIDE_REASON_MAX_CHARS,
            &mut violations,
        );
        // The standard's shape is checked on what parsed, with stand-ins for what did not, so
        // that every violation is named at once.
        let mut record = Record {
            city: city.unwrap_or_else(|| RegionCode::parse("210500000000").expect("a valid code")),
            effective_from: effective_from.unwrap_or(Date::MIN),
            centralized: centralized.unwrap_or(Fen::ZERO),
            family: family.unwrap_or(Fen::ZERO),
            decided_by: decided_by
                .clone()
                .unwrap_or_else(|| BoundedText::parse("-", 1).expect("a valid constant text")),
            override_reason: override_reason.clone().flatten(),
            recorded_on: self.app.today(),
        };
        if let Err(found) = record.check_shape() {
            for (field, rule) in found {
                let parsed = match field.as_str() {
                    "effective_from" => effective_from.is_some(),
                    "centralized" => centralized.is_some(),
                    "family" => family.is_some(),
                    "decided_by" => decided_by.is_some(),
                    "override_reason" => override_reason.is_some(),
                    _ => true,
                };
                if parsed {
                    violations.push(field, rule);
                }
            }
        }
        let (city, effective_from, centralized, family, decided_by, override_reason) = violations
            .finish((
            city,
            effective_from,
            centralized,
            family,
            decided_by,
            override_reason,
        ))?;
        record.city = city;
        record.effective_from = effective_from;
        record.centralized = centralized;
        record.family = family;
        record.decided_by = decided_by;
        record.override_reason = override_reason;
        call.require_region(city)?;
        let (version, below_growth_target, committed) =
            self.app.record_standard(record, &context).await?;
        Ok(pb::RecordAllowanceStandardResponse {
            version,
            below_growth_target,
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn list_allowance_standards(
        &self,
        call: Call<pb::ListAllowanceStandardsRequest>,
    ) -> Result<pb::ListAllowanceStandardsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let city = city("city", &body.city, &mut violations);
        let city = violations.finish(city)?;
        self.app
            .view()
            .wait_for(edge::min_position(&body.read), call.deadline())
            .await?;
        let policy = self.app.policy(city).await?;
        let below = policy.growth_below_target();
        Ok(pb::ListAllowanceStandardsResponse {
            standards: policy
                .versions()
                .iter()
                .map(|s| standard_message(&policy, s, &below))
                .collect(),
        })
    }

    pub(super) async fn identify_child(
        &self,
        call: Call<pb::IdentifyChildRequest>,
    ) -> Result<pb::IdentifyChildResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let child = violations.citizen("child", &body.child);
        let division = local_division("division", &body.division, &mut violations);
        let father = parent_fact("father", &body.father, &mut violations);
        let mother = parent_fact("mother", &body.mother, &mut violations);
        let on = violations.past_date("identified_on", &body.identified_on, self.app.today());
        let institution = institution(&body.institution, &mut violations);
        // Unspecified care: no arrangement yet.
        let care = match body.care {
            0 => {
                if institution.as_ref().is_some_and(Option::is_some) {
                    violations.push("institution", "must be empty when no care is given");
                }
                Some(None)
            }
            value => violations
                .known("care", care_from_pb(value), CARE_SETTINGS)
                .map(Some),
        };
        // The arrangement is run after the identification: a mismatch the domain would refuse
        // then (`institution_required`, `institution_for_family_care`) is refused here first,
        // so that a request never identifies the child and then fails.
        match (care, &institution) {
            (Some(Some(Care::Centralized)), Some(None)) => {
                violations.push("institution", "is required for centralized care");
            }
            (Some(Some(Care::Family)), Some(Some(_))) => {
                violations.push("institution", "must be empty for family care");
            }
            _ => {}
        }
        let (child, division, father, mother, on, institution, care) =
            violations.finish((child, division, father, mother, on, institution, care))?;
        call.require_region(division)?;
        let (id, basis, committed) = self
            .app
            .identify(
                child::Identify {
                    child,
                    division,
                    father,
                    mother,
                    on,
                },
                care.map(|care| (care, institution)),
                &context,
            )
            .await?;
        Ok(pb::IdentifyChildResponse {
            child_id: id.to_string(),
            basis: basis_message(basis),
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn arrange_care(
        &self,
        call: Call<pb::ArrangeCareRequest>,
    ) -> Result<pb::ArrangeCareResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let child = violations.citizen("child", &body.child);
        let care = violations.known("care", care_from_pb(body.care), CARE_SETTINGS);
        let from = violations.past_date("from", &body.from, self.app.today());
        let institution = institution(&body.institution, &mut violations);
        let (child, care, from, institution) =
            violations.finish((child, care, from, institution))?;
        self.child_in_scope(&call, &child).await?;
        let (_, committed) = self
            .app
            .child_command(
                &child,
                child::Command::ArrangeCare {
                    care,
                    from,
                    institution,
                },
                &context,
            )
            .await?;
        Ok(pb::ArrangeCareResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn revise_parent_fact(
        &self,
        call: Call<pb::ReviseParentFactRequest>,
    ) -> Result<pb::ReviseParentFactResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let child = violations.citizen("child", &body.child);
        let parent = violations.known("parent", parent_from_pb(body.parent), "FATHER or MOTHER");
        let fact = parent_fact("fact", &body.fact, &mut violations);
        let on = violations.past_date("revised_on", &body.revised_on, self.app.today());
        let (child, parent, fact, on) = violations.finish((child, parent, fact, on))?;
        self.child_in_scope(&call, &child).await?;
        let (_, committed) = self
            .app
            .child_command(
                &child,
                child::Command::ReviseParent { parent, fact, on },
                &context,
            )
            .await?;
        let (_, record) = self.app.child(&child).await?;
        // A coverage that ceased has no basis any more.
        let basis = record
            .coverage()
            .filter(|c| c.ceased.is_none())
            .map(|c| c.basis);
        Ok(pb::ReviseParentFactResponse {
            basis: basis_message(basis),
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn register_adoption(
        &self,
        call: Call<pb::RegisterAdoptionRequest>,
    ) -> Result<pb::RegisterAdoptionResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let child = violations.citizen("child", &body.child);
        let certificate = violations.text("certificate", &body.certificate, CERTIFICATE_MAX_CHARS);
        // The registry's level is the Civil Code's rule (`registry_below_county`).
        let registry = violations.region("registry", &body.registry);
        // How many adopters (one, or two spouses) is the Civil Code's rule (`adopters_count`).
        let mut adopters = Some(Vec::with_capacity(body.adopters.len()));
        for (i, adopter) in body.adopters.iter().enumerate() {
            let citizen = violations.citizen(&format!("adopters[{i}].adopter"), &adopter.adopter);
            let children = match u8::try_from(adopter.children) {
                Ok(children) => Some(children),
                Err(_) => {
                    violations.push(format!("adopters[{i}].children"), "must be at most 255");
                    None
                }
            };
            match (citizen, children, adopters.as_mut()) {
                (Some(citizen), Some(children), Some(list)) => list.push(adoption::Adopter {
                    citizen,
                    children,
                    married: adopter.married,
                    can_raise: adopter.can_raise,
                    no_disqualifying_illness: adopter.no_disqualifying_illness,
                    no_criminal_record: adopter.no_criminal_record,
                }),
                _ => adopters = None,
            }
        }
        let relationship = violations.known(
            "relationship",
            relationship_from_pb(body.relationship),
            "COLLATERAL_RELATIVES_CHILD, STEPCHILD or unspecified (neither)",
        );
        // The category may be left out only where the relationship lifts art. 1093(3).
        let category = match relationship {
            Some(relationship)
                if relationship.lifts_child_category()
                    && body.child_category == pb::AdoptionChildCategory::Unspecified as i32 =>
            {
                Some(None)
            }
            _ => violations
                .known(
                    "child_category",
                    category_from_pb(body.child_category),
                    "ORPHAN, PARENTS_NOT_FOUND or PARENTS_IN_SPECIAL_DIFFICULTY (unspecified only \
                     for a relative's child or a stepchild)",
                )
                .map(Some),
        };
        if body.overseas_chinese
            && relationship.is_some_and(|r| r != adoption::Relationship::CollateralRelativesChild)
        {
            violations.push(
                "overseas_chinese",
                "applies only to the adoption of a relative's child (Civil Code art. 1099 ¶2)",
            );
        }
        let consent = violations.known(
            "child_consent",
            consent_from_pb(body.child_consent),
            "GIVEN, REFUSED or unspecified (not asked, under 8)",
        );
        let on = violations.past_date("registered_on", &body.registered_on, self.app.today());
        let (child, certificate, registry, adopters, relationship, category, consent, on) =
            violations.finish((
                child,
                certificate,
                registry,
                adopters,
                relationship,
                category,
                consent,
                on,
            ))?;
        call.require_region(registry)?;
        let (id, committed) = self
            .app
            .child_command(
                &child,
                child::Command::RegisterAdoption(Registration {
                    child: child.clone(),
                    certificate,
                    registry,
                    adopters,
                    child_category: category,
                    relationship,
                    overseas_chinese: body.overseas_chinese,
                    birth_parents_consent: body.birth_parents_consent,
                    child_disabled: body.child_disabled,
                    in_welfare_institution: body.in_welfare_institution,
                    child_consents: consent,
                    on,
                }),
                &context,
            )
            .await?;
        Ok(pb::RegisterAdoptionResponse {
            child_id: id.to_string(),
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn get_child(
        &self,
        call: Call<pb::GetChildRequest>,
    ) -> Result<pb::GetChildResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let child = violations.citizen("child", &body.child);
        let child = violations.finish(child)?;
        self.app
            .view()
            .wait_for(edge::min_position(&body.read), call.deadline())
            .await?;
        let (id, record) = self.child_read(&call, &child).await?;
        let today = self.app.today();
        let this_month = self.app.monthly_allowance(&record, today).await?;
        let coverage = record.coverage();
        Ok(pb::GetChildResponse {
            child_id: id.to_string(),
            division: record.division().map(Into::into),
            basis: basis_message(
                coverage
                    .filter(|_| record.covered_on(today))
                    .map(|c| c.basis),
            ),
            identified_on: record.identified_on().map(Into::into),
            father: coverage.map(|c| fact_to_pb(&c.father)),
            mother: coverage.map(|c| fact_to_pb(&c.mother)),
            care: record
                .care()
                .iter()
                .map(|a| pb::CareArrangement {
                    care: care_to_pb(a.care).into(),
                    from: Some(a.from.into()),
                    institution: a
                        .institution
                        .as_ref()
                        .map_or_else(String::new, |i| i.as_str().to_owned()),
                })
                .collect(),
            covered: record.covered_on(today),
            ceased_on: record.ceased_on().map(Into::into),
            adopted_on: record.adopted_on().map(Into::into),
            adoption_certificate: record.adoption().map_or_else(String::new, |a| {
                a.registration.certificate.as_str().to_owned()
            }),
            died_on: record.died_on().map(Into::into),
            this_month: Some(line_message(this_month, today)),
        })
    }

    pub(super) async fn get_monthly_allowance(
        &self,
        call: Call<pb::GetMonthlyAllowanceRequest>,
    ) -> Result<pb::GetMonthlyAllowanceResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let child = violations.citizen("child", &body.child);
        let month = violations.date("month", &body.month);
        let (child, month) = violations.finish((child, month))?;
        self.app
            .view()
            .wait_for(edge::min_position(&body.read), call.deadline())
            .await?;
        let (_, record) = self.child_read(&call, &child).await?;
        let line = self.app.monthly_allowance(&record, month).await?;
        Ok(pb::GetMonthlyAllowanceResponse {
            line: Some(line_message(line, month)),
        })
    }
}

#[cfg(test)]
mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;
    use crate::allowance::{Event, StandardRecorded};

    fn recorded(version: u32, from: Date, centralized: i64, family: i64) -> Event {
        Event::StandardRecorded(StandardRecorded {
            city: RegionCode::parse("210500000000").expect("a valid code"),
            standard: Standard {
                version,
                effective_from: from,
                centralized: Fen::new(centralized * 100),
                family: Fen::new(family * 100),
                decided_by: BoundedText::parse("市民政局 2022-1", 200).expect("valid"),
                override_reason: None,
                recorded_on: from,
            },
        })
    }

    #[test]
    fn growth_is_in_basis_points_rounded_down_and_zero_without_a_base() {
        assert_eq!(growth_bp(Fen::new(106_000), Fen::new(100_000)), 600);
        assert_eq!(growth_bp(Fen::new(105_999), Fen::new(100_000)), 599);
        assert_eq!(growth_bp(Fen::new(99_999), Fen::new(100_000)), -1);
        assert_eq!(growth_bp(Fen::new(100_000), Fen::ZERO), 0);
    }

    #[test]
    fn each_version_grows_over_the_version_in_force_a_year_before() {
        let policy = given::<AllowancePolicy>([
            recorded(1, date!(2022 - 01 - 01), 1000, 800),
            recorded(2, date!(2022 - 07 - 01), 1050, 850),
            recorded(3, date!(2023 - 01 - 01), 1113, 840),
        ])
        .state()
        .clone();
        let below = policy.growth_below_target();
        let listed: Vec<(u32, i32, i32, bool)> = policy
            .versions()
            .iter()
            .map(|s| standard_message(&policy, s, &below))
            .map(|m| {
                (
                    m.version,
                    m.centralized_growth_bp,
                    m.family_growth_bp,
                    m.below_growth_target,
                )
            })
            .collect();
        assert_eq!(
            listed,
            [(1, 0, 0, false), (2, 0, 0, false), (3, 1130, 500, true)]
        );
    }
}
