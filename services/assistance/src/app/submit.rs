//! Receiving an application at any township window (一门受理、协同办理, plan ch. 2): the household's
//! rules, the county that decides it, the case id.
//!
//! - The county is that of the household's registered township (户籍地), followed through the
//!   place-names adjustments: an application filed under a merged township's old code lands at
//!   its successor's county. Temporary assistance is decided where the hardship happened
//!   (国发〔2014〕47号: 向所在地乡镇人民政府（街道办事处）提出; the plan: 探索由急难发生地实施临时救助),
//!   the window's county.
//! - Heating assistance rests on the household's case in force (dibao, single-person coverage,
//!   extreme poverty or low income), whose county decides it.
//! - Case ids are issued per county, category and year in order. This process remembers the last
//!   ordinal it issued (the view may lag behind its own appends); should another process have
//!   taken the same id first, the case exists and the next ordinal is tried.

use minzheng_eventstore::StoreError;
use minzheng_kit::{
    Error,
    aggregate::{Aggregate, CommandContext, Committed, RunError},
};
use minzheng_types::{RegionCode, RegionLevel};
use time::Date;

use super::Assistance;
use crate::{
    case::{self, Application, CaseError, Particulars},
    category::{Area, Category},
    household::Household,
    ids::{CaseId, MAX_CASE_ORDINAL},
    payments::BankAccount,
    projections::divisions::Resolution,
};

/// County, category and year: what a case ordinal counts within.
pub type OrdinalKey = (RegionCode, Category, u16);

/// Ids tried before giving up when other processes keep taking them.
const ID_ATTEMPTS: u32 = 8;

/// An application as the window took it, before routing.
#[derive(Debug, Clone)]
pub struct Submission {
    pub category: Category,
    pub registered_division: RegionCode,
    pub window: RegionCode,
    pub area: Area,
    pub household: Household,
    pub payment_account: BankAccount,
    pub particulars: Particulars,
}

/// What a submission recorded.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub committed: Committed,
    pub case_id: CaseId,
    pub county: RegionCode,
    /// The verification requested, when one was.
    pub verification_request: Option<String>,
}

impl Assistance {
    /// Receives an application; see the [module documentation](self).
    pub async fn submit(
        &self,
        submission: Submission,
        context: &CommandContext,
    ) -> Result<Submitted, Error> {
        let today = self.today();
        let routed = match check_household(&submission.household, today) {
            Ok(()) => self.route(&submission, today).await,
            Err(refusal) => Err(refusal),
        };
        let (county, resolved) = match routed {
            Ok(routed) => routed,
            // A retry is answered with its first outcome, even if the rules refuse it now (an
            // authorization expired since, a township superseded).
            Err(refusal) => return self.earlier_submission(context).await?.ok_or(refusal),
        };
        let year = u16::try_from(today.year())
            .map_err(|_| Error::internal(anyhow::anyhow!("year out of range")))?;
        for _ in 0..ID_ATTEMPTS {
            let case_id = self.next_case_id(county, submission.category, year).await?;
            let application = Application {
                case_id,
                category: submission.category,
                county,
                registered_division: submission.registered_division,
                resolved_division: resolved,
                window: submission.window,
                area: submission.area,
                household: submission.household.clone(),
                payment_account: submission.payment_account.clone(),
                submitted_on: today,
                particulars: submission.particulars.clone(),
            };
            let command = case::Command::Submit(Box::new(application));
            match self.cases.execute_new(&case_id, &command, context).await {
                Ok(Ok(committed)) => {
                    self.view.nudge();
                    return Ok(Submitted {
                        committed,
                        case_id,
                        county,
                        verification_request: first_request(&case_id),
                    });
                }
                // Another process issued this id first: take the next one.
                Ok(Err(CaseError::AlreadySubmitted)) => continue,
                Ok(Err(refusal)) => return Err(Error::from_refusal(&refusal)),
                // The idempotency key opened a case already: this is a retry of that
                // submission, answered with its case.
                Err(RunError::Store(StoreError::IdempotencyKeyReused { .. })) => {
                    self.give_back(county, submission.category, year, case_id)
                        .await;
                    return self
                        .earlier_submission(context)
                        .await?
                        .ok_or_else(key_reused);
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(Error::Unavailable(
            "could not issue a case id; try again".to_owned(),
        ))
    }

    /// The answer to a repeated submission (the same idempotency key): the case it created;
    /// `None` when the key was never used. A key used for anything but a case's creation is
    /// refused.
    async fn earlier_submission(
        &self,
        context: &CommandContext,
    ) -> Result<Option<Submitted>, Error> {
        let Some(key) = context.idempotency_key.as_deref() else {
            return Ok(None);
        };
        let Some(outcome) = self
            .store
            .find_idempotent(key)
            .await
            .map_err(RunError::from)?
        else {
            return Ok(None);
        };
        // A case's creation: the key's append began a case's stream.
        if outcome.stream.category() != <case::Case as Aggregate>::CATEGORY
            || outcome.stream_version != outcome.event_ids.len() as u64
        {
            return Err(key_reused());
        }
        let case_id = CaseId::parse(outcome.stream.key()).map_err(|_| key_reused())?;
        let county = case_id.county();
        let committed = Committed {
            replayed: true,
            ..outcome.into()
        };
        Ok(Some(Submitted {
            verification_request: first_request(&case_id),
            committed,
            case_id,
            county,
        }))
    }

    /// The county deciding the application and the household's current township.
    async fn route(
        &self,
        submission: &Submission,
        today: Date,
    ) -> Result<(RegionCode, RegionCode), Error> {
        match &submission.particulars {
            Particulars::Heating { related_case, .. } => {
                let view = self.view.read().await;
                let in_force = view.case(related_case).filter(|(case, _)| {
                    case.in_force()
                        && case.members.contains(&submission.household.applicant)
                        && case
                            .application
                            .as_ref()
                            .is_some_and(|a| a.category != Category::Temporary)
                });
                let Some((case, _)) = in_force else {
                    return Err(Error::refused(
                        "no_case_in_force",
                        format!(
                            "heating assistance needs the household's dibao, extreme-poverty or \
                             low-income case in force; {related_case} is not one the applicant \
                             is covered by"
                        ),
                    ));
                };
                let county = case.county.unwrap_or(related_case.county());
                Ok((
                    county,
                    case.division.unwrap_or(submission.registered_division),
                ))
            }
            Particulars::Temporary { .. } => {
                // Decided where the hardship happened: the window's county.
                let window = self
                    .current_township("window", submission.window, today)
                    .await?;
                let county = county_of(window)?;
                Ok((
                    county,
                    self.current_township(
                        "registered_division",
                        submission.registered_division,
                        today,
                    )
                    .await
                    .unwrap_or(submission.registered_division),
                ))
            }
            _ => {
                let township = self
                    .current_township("registered_division", submission.registered_division, today)
                    .await?;
                Ok((county_of(township)?, township))
            }
        }
    }

    /// The township `code` leads to today, or the refusal naming `field`.
    async fn current_township(
        &self,
        field: &str,
        code: RegionCode,
        today: Date,
    ) -> Result<RegionCode, Error> {
        match self.divisions.resolve(code, today).await? {
            Resolution::Current(current) => Ok(current),
            Resolution::Split(successors) => Err(Error::refused(
                "division_split",
                format!(
                    "{field} {code} was split into {}; give the household's current township",
                    successors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            Resolution::Unknown => Err(Error::refused(
                "unknown_division",
                format!("{field} {code} is not a township the place-names service records"),
            )),
        }
    }

    /// The next case id for `county`, `category` and `year`.
    async fn next_case_id(
        &self,
        county: RegionCode,
        category: Category,
        year: u16,
    ) -> Result<CaseId, Error> {
        let seen = self.view.read().await.last_ordinal(county, category, year);
        let mut issued = self.ordinals.lock().await;
        let last = issued.entry((county, category, year)).or_default();
        let next = (*last).max(seen) + 1;
        if next > MAX_CASE_ORDINAL {
            return Err(Error::refused(
                "case_numbers_exhausted",
                format!("{county} has used every case number of {year} for {category}"),
            ));
        }
        *last = next;
        CaseId::new(county, category, year, next)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("{county} is not county-level")))
    }

    /// Returns the ordinal of `unused`, which recorded nothing, unless a later one was issued
    /// meanwhile (then the number stays unused, a gap nobody relies on).
    async fn give_back(&self, county: RegionCode, category: Category, year: u16, unused: CaseId) {
        let mut issued = self.ordinals.lock().await;
        if let Some(last) = issued.get_mut(&(county, category, year))
            && *last == unused.ordinal()
        {
            *last -= 1;
        }
    }
}

/// The refusal of an idempotency key used for another command.
fn key_reused() -> Error {
    Error::refused(
        "idempotency_key_reused",
        "this idempotency key was used for another command",
    )
}

/// The verification request a submission of case `id` makes, when its category makes one.
fn first_request(id: &CaseId) -> Option<String> {
    id.category()
        .needs_verification()
        .then(|| crate::codec::case::request_id(id, 1))
}

fn county_of(township: RegionCode) -> Result<RegionCode, Error> {
    township
        .ancestor_at(RegionLevel::County)
        .filter(|_| township.level() == RegionLevel::Township)
        .ok_or_else(|| {
            Error::refused(
                "not_a_township",
                format!("{township} is not a township-level division"),
            )
        })
}

/// The household rules that need no other data (民发〔2021〕57号 第四条、第九条): every adult
/// member has signed an authorization for the verification that covers every data class and is
/// current today.
fn check_household(household: &Household, today: Date) -> Result<(), Error> {
    let missing = household.unauthorized_adults(today);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::refused(
            "authorization_missing",
            format!(
                "{} adult member(s) have no current authorization covering every data class \
                 (members {})",
                missing.len(),
                household
                    .members
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| missing.contains(&&m.citizen))
                    .map(|(i, _)| format!("#{}", i + 1))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }
}
