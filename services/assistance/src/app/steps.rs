//! The steps of a case after its submission, each with today's date: the verification's result,
//! the township's review, the notice and its objections, and the county's decision with the
//! amount computed from the verified income and the standards in force.

use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed},
};
use minzheng_types::{BoundedText, CitizenId, Fen};
use time::Date;

use super::Assistance;
use crate::{
    benefit::{self, Calculation, Household as Counted, HouseholdSize, SinglePersonApplicant},
    case::{self, Application, CareArrangement, Case, Particulars, Verification, next_month},
    category::Category,
    household::{SelfCare, WorkCapacity},
    ids::CaseId,
    policy::Policy,
};

/// What the county decides.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Approve with the computed amount; temporary assistance names the amount granted.
    Approve { granted: Option<Fen> },
    /// Reject with the reason the household is told.
    Reject { reason: BoundedText },
}

impl Assistance {
    /// Records the verification's result for request `request` of case `id`.
    pub async fn receive_verification(
        &self,
        id: &CaseId,
        verification: Verification,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let command = case::Command::ReceiveVerification {
            request: verification.request,
            verification,
            on: self.today(),
        };
        self.run_case(id, command, context).await
    }

    /// Records the township's review after the home visit on `visited_on` (not after today).
    pub async fn review_at_township(
        &self,
        id: &CaseId,
        recommends_approval: bool,
        opinion: BoundedText,
        visited_on: Date,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let today = self.today();
        if visited_on > today {
            return Err(Error::invalid_field(
                "visited_on",
                "must not be after today",
            ));
        }
        let command = case::Command::ReviewAtTownship {
            recommends_approval,
            opinion,
            visited_on,
            on: today,
        };
        self.run_case(id, command, context).await
    }

    /// Posts the notice from today.
    pub async fn post_notice(
        &self,
        id: &CaseId,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let on = self.today();
        self.run_case(id, case::Command::PostNotice { on }, context)
            .await
    }

    /// Records an objection today.
    pub async fn record_objection(
        &self,
        id: &CaseId,
        summary: BoundedText,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let on = self.today();
        self.run_case(id, case::Command::RecordObjection { summary, on }, context)
            .await
    }

    /// Resolves objection `objection` today.
    pub async fn resolve_objection(
        &self,
        id: &CaseId,
        objection: u32,
        upheld: bool,
        finding: BoundedText,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let command = case::Command::ResolveObjection {
            objection,
            upheld,
            finding,
            on: self.today(),
        };
        self.run_case(id, command, context).await
    }

    /// The county's decision today: an approval carries the amount computed by
    /// [`Assistance::calculate`]; a refusal of the computation (e.g. an income not below the
    /// standard) refuses the approval with its rule, so the approver rejects instead.
    pub async fn decide(
        &self,
        id: &CaseId,
        decision: Decision,
        context: &CommandContext,
    ) -> Result<(Committed, Option<Calculation>), Error> {
        let today = self.today();
        match decision {
            Decision::Reject { reason } => {
                let command = case::Command::Reject {
                    rule: "rejected".to_owned(),
                    reason,
                    calculation: None,
                    on: today,
                };
                Ok((self.run_case(id, command, context).await?, None))
            }
            Decision::Approve { granted } => {
                let loaded = self.cases.load(id).await?;
                let case = loaded.state;
                if case.application.is_none() {
                    return Err(Error::NotFound(format!("no case {id}")));
                }
                let calculation = self.calculate(&case, today, granted).await?;
                let command = case::Command::Approve {
                    calculation: calculation.clone(),
                    on: today,
                };
                Ok((
                    self.run_case(id, command, context).await?,
                    Some(calculation),
                ))
            }
        }
    }

    /// The amount a decision taken on `decided_on` grants `case`, from its verified income and
    /// the standards in force on the benefit's first day; `granted` is the amount of temporary
    /// assistance the county grants (the amount asked for when absent).
    pub async fn calculate(
        &self,
        case: &Case,
        decided_on: Date,
        granted: Option<Fen>,
    ) -> Result<Calculation, Error> {
        let application = case
            .application
            .as_deref()
            .ok_or_else(|| Error::NotFound("no such case".to_owned()))?;
        let county = case.county.unwrap_or(application.county);
        let view = self.view.read().await;
        let empty = Policy::default();
        let policy = view.policy(county).unwrap_or(&empty);
        let refused = |r: benefit::Refusal| Error::from_refusal(&r);
        match &application.particulars {
            Particulars::Temporary { requested, .. } => {
                benefit::temporary(granted.unwrap_or(*requested), *requested, None).map_err(refused)
            }
            Particulars::Heating {
                winter,
                related_case,
            } => {
                let related = view
                    .case(related_case)
                    .and_then(|(c, _)| c.application.as_ref().map(|a| a.category))
                    .ok_or_else(|| {
                        Error::refused("no_case_in_force", format!("no case {related_case}"))
                    })?;
                benefit::heating(policy.heating(*winter, decided_on).as_ref(), related)
                    .map_err(refused)
            }
            _ => {
                let verification = case
                    .verification
                    .as_ref()
                    .ok_or_else(|| Error::from_refusal(&case::CaseError::NotVerified))?;
                let starts_on = next_month(decided_on);
                let standards = policy
                    .standards(starts_on, application.area)
                    .ok_or_else(|| {
                        Error::refused(
                            "standard_not_in_force",
                            format!("no standards of {county} are in force on {starts_on}"),
                        )
                    })?;
                household_calculation(application, verification, &standards)
            }
        }
    }
}

/// The calculation of a household category from the verified figures.
pub(crate) fn household_calculation(
    application: &Application,
    verification: &Verification,
    standards: &crate::policy::Standards,
) -> Result<Calculation, Error> {
    let refused = |r: benefit::Refusal| Error::from_refusal(&r);
    let members = application.covered_members();
    let size = HouseholdSize::new(u32::try_from(application.household.members.len()).unwrap_or(0))
        .ok_or_else(|| Error::refused("no_persons", "the household has no members"))?;
    let counted = Counted {
        size,
        total_monthly_income: verification.total_monthly_income,
    };
    match &application.particulars {
        Particulars::SinglePerson { covered } => {
            let member = application.household.member(covered);
            let applicant = SinglePersonApplicant {
                household: counted,
                member_monthly_income: member_income(verification, covered),
                seriously_ill_or_severely_disabled: member
                    .is_some_and(|m| m.seriously_ill || m.severely_disabled),
            };
            benefit::single_person(standards, &applicant).map_err(refused)
        }
        Particulars::Tekun {
            care,
            has_able_supporter,
            care_at_home_reason,
        } => {
            check_tekun(
                application,
                *has_able_supporter,
                *care,
                care_at_home_reason.is_some(),
            )?;
            // 《特困人员认定办法》第六条: income below the local dibao standard (its property
            // condition, as every category's, the county judges from the verification's assets
            // and flags when it decides: the service computes, it does not refuse on them).
            let dibao = standards.dibao.as_ref().ok_or_else(|| {
                Error::refused("standard_not_in_force", "no dibao standard in force")
            })?;
            let persons = u32::try_from(members.len()).unwrap_or(u32::MAX);
            let limit = dibao
                .value
                .fen()
                .checked_mul(i64::from(persons))
                .map(Fen::new);
            if limit.is_none_or(|limit| verification.total_monthly_income >= limit) {
                return Err(Error::refused(
                    "income_not_below_standard",
                    "extreme-poverty support needs an income below the dibao standard",
                ));
            }
            let levels: Vec<SelfCare> = members
                .iter()
                .map(|c| {
                    application
                        .household
                        .member(c)
                        .and_then(|m| m.self_care)
                        .unwrap_or(SelfCare::Able)
                })
                .collect();
            benefit::tekun(standards, &levels).map_err(refused)
        }
        Particulars::None if application.category == Category::LowIncome => {
            benefit::low_income(standards, &counted).map_err(refused)
        }
        _ => benefit::dibao(standards, &counted).map_err(refused),
    }
}

fn member_income(verification: &Verification, member: &CitizenId) -> Fen {
    verification
        .incomes
        .iter()
        .filter(|(m, _)| m == member)
        .map(|(_, f)| *f)
        .fold(Fen::ZERO, |sum, f| {
            Fen::checked_sum([sum, f]).unwrap_or(sum)
        })
}

/// The criteria of extreme poverty beyond income (《特困人员认定办法》(民发〔2021〕43号) 第四条:
/// 无劳动能力、无生活来源、无法定赡养抚养扶养义务人或者其法定义务人无履行义务能力), and the
/// preference for institutional care of those who cannot look after themselves (国发〔2016〕14号:
/// 对生活不能自理的，要优先提供集中供养服务).
fn check_tekun(
    application: &Application,
    has_able_supporter: bool,
    care: CareArrangement,
    care_at_home_explained: bool,
) -> Result<(), Error> {
    if has_able_supporter {
        return Err(Error::refused(
            "able_supporter",
            "a person legally bound to support the applicant is able to",
        ));
    }
    let members = application.covered_members();
    let able_to_work = members.iter().any(|c| {
        application
            .household
            .member(c)
            .is_some_and(|m| m.work_capacity != Some(WorkCapacity::None))
    });
    if able_to_work {
        return Err(Error::refused(
            "able_to_work",
            "extreme-poverty support is for persons unable to work (work_capacity NONE)",
        ));
    }
    let cannot_care_for_self = members.iter().any(|c| {
        application
            .household
            .member(c)
            .is_some_and(|m| m.self_care == Some(SelfCare::FullyUnable))
    });
    if cannot_care_for_self && care == CareArrangement::AtHome && !care_at_home_explained {
        return Err(Error::refused(
            "institutional_care_preferred",
            "a person fully unable to look after themselves is cared for in an institution \
             unless care_at_home_reason says why not",
        ));
    }
    Ok(())
}
