//! Proactive discovery after a death (主动发现): the households the deceased belonged to — an
//! assistance application's, their registered household (户籍) — looked at with every death
//! known, and each alert [`crate::discovery`] finds raised once, on its own stream
//! `alert-<alert_id>`, for the service that must act.

use std::collections::HashMap;

use minzheng_eventstore::{
    AppendRequest, ExpectedVersion, Metadata, NewEvent, StoreError, StreamId,
};
use minzheng_kit::Error;
use minzheng_types::{CitizenId, RegionCode};
use time::Date;

use super::{DataSharing, store_error};
use crate::{
    app::verify::Question,
    codec::alerts::{alert_event, household_alert_event},
    discovery::{self, Alert, Death, Household, HouseholdSource, IncomeAlert, Relation},
    knowledge,
    projections::{divisions, people},
    records::Details,
    verification::current_records,
};

/// Hex digits of the pseudonym in an alert id.
const ALERT_KEY_CHARS: usize = 40;

impl DataSharing {
    /// Looks at what the death of `citizen` reveals, with the deaths of the batch under way
    /// (`pending`) and those recorded, and raises each alert once.
    pub async fn discover_after_death(
        &self,
        citizen: &CitizenId,
        died_on: Date,
        pending: &HashMap<CitizenId, Death>,
    ) -> Result<(), Error> {
        let db = self.records.db();
        let mut households = people::case_households_of(db, citizen)
            .await
            .map_err(store_error)?;
        households.extend(self.registered_households(citizen).await?);
        // Each household where its division went since it was registered.
        for household in &mut households {
            household.division = self.current_division(household.division).await?;
        }
        let mut deaths: HashMap<CitizenId, Option<Death>> = pending
            .iter()
            .map(|(c, d)| (c.clone(), Some(d.clone())))
            .collect();
        for household in &households {
            for (member, _) in &household.members {
                if !deaths.contains_key(member) {
                    let death = people::death_of(db, member).await.map_err(store_error)?;
                    deaths.insert(member.clone(), death);
                }
            }
        }
        let today = self.today().max(died_on);
        let death_of = |c: &CitizenId| deaths.get(c).cloned().flatten();
        for household in &households {
            for alert in discovery::discover(household, citizen, today, &death_of) {
                self.raise(&alert, today).await?;
            }
        }
        Ok(())
    }

    /// The registered households `citizen` belongs to as known now: the current household
    /// registration records of the households they were registered in.
    async fn registered_households(&self, citizen: &CitizenId) -> Result<Vec<Household>, Error> {
        let known = knowledge::current(self.records.db())
            .await
            .map_err(store_error)?;
        let records = self
            .records
            .registrations_around(citizen, known)
            .await
            .map_err(store_error)?;
        let mut households: Vec<(String, Household)> = Vec::new();
        for kept in current_records(&records, self.today()) {
            let Details::Registration {
                division,
                household_number,
                relation_to_head,
            } = &kept.record.details
            else {
                continue;
            };
            let key = format!("{division}/{household_number}");
            let member = (
                kept.record.citizen.clone(),
                Relation::from_registration(relation_to_head),
            );
            match households.iter_mut().find(|(k, _)| *k == key) {
                Some((_, household)) => household.members.push(member),
                None => households.push((
                    key,
                    Household {
                        source: HouseholdSource::Registration,
                        division: Some(*division),
                        members: vec![member],
                    },
                )),
            }
        }
        // Only the households the citizen is in now.
        Ok(households
            .into_iter()
            .map(|(_, h)| h)
            .filter(|h| h.members.iter().any(|(c, _)| c == citizen))
            .collect())
    }

    /// Looks at the incomes of `cases` (in assistance) as the records now stand, and raises a
    /// household alert for each whose income crossed its line (at most one per case, kind and
    /// month).
    pub async fn review_incomes(
        &self,
        cases: &std::collections::BTreeSet<String>,
    ) -> Result<(), Error> {
        let today = self.today();
        for case_id in cases {
            let Some(case) = people::active_case(self.records.db(), case_id)
                .await
                .map_err(store_error)?
            else {
                continue;
            };
            let division = self.current_division(case.division).await?;
            let Some(county) =
                division.and_then(|d| d.ancestor_at(minzheng_types::RegionLevel::County))
            else {
                continue;
            };
            let report = self
                .verify(&Question {
                    members: case.members.clone(),
                    county,
                    area: case.area,
                    verify_on: today,
                    as_known_at: None,
                })
                .await?;
            let Some(alert) = discovery::income_alert(&case.category, report.position) else {
                continue;
            };
            let kind = match alert {
                IncomeAlert::AboveLine => "above",
                IncomeAlert::BelowLine => "below",
            };
            let pseudonym = self.pseudonyms.of_text(
                "alert-income",
                &format!(
                    "{case_id}|{kind}|{}-{:02}",
                    today.year(),
                    today.month() as u8
                ),
            );
            let alert_id = format!(
                "AL-{}",
                pseudonym.get(..ALERT_KEY_CHARS).unwrap_or(&pseudonym)
            );
            let (event_type, payload) =
                household_alert_event(&alert_id, alert, division, &report, today);
            self.append_alert(&alert_id, event_type, payload).await?;
        }
        Ok(())
    }

    /// The division `code` stands for today, through the division lineage.
    async fn current_division(
        &self,
        code: Option<RegionCode>,
    ) -> Result<Option<RegionCode>, Error> {
        let Some(code) = code else {
            return Ok(None);
        };
        divisions::current_division(self.records.db(), code, self.today())
            .await
            .map(Some)
            .map_err(store_error)
    }

    /// Raises `alert` once: its id is a keyed pseudonym of whom it concerns and the deaths it
    /// rests on, so a second discovery of the same finds its stream.
    async fn raise(&self, alert: &Alert, on: Date) -> Result<(), Error> {
        let (prefix, domain, subject, deaths): (_, _, _, Vec<&Death>) = match alert {
            Alert::GuardiansDeceased { child, deaths, .. } => (
                "CW",
                "alert-guardians-deceased",
                child,
                deaths.iter().collect(),
            ),
            Alert::ElderlyLeftAlone {
                person,
                spouse_death,
                ..
            } => ("EA", "alert-elderly-left-alone", person, vec![spouse_death]),
        };
        let mut identity = subject.expose().to_owned();
        for death in deaths {
            identity.push('|');
            identity.push_str(&death.death_id);
        }
        let pseudonym = self.pseudonyms.of_text(domain, &identity);
        let alert_id = format!(
            "{prefix}-{}",
            pseudonym.get(..ALERT_KEY_CHARS).unwrap_or(&pseudonym)
        );
        let (event_type, payload) = alert_event(&alert_id, alert, on);
        self.append_alert(&alert_id, event_type, payload).await
    }

    /// Appends an alert on its own stream, once (a second raise finds it there).
    async fn append_alert(
        &self,
        alert_id: &str,
        event_type: String,
        payload: Vec<u8>,
    ) -> Result<(), Error> {
        let stream = StreamId::new("alert", alert_id).map_err(store_error)?;
        let appended = self
            .store
            .append(AppendRequest {
                stream,
                expected: ExpectedVersion::NoStream,
                events: vec![NewEvent::new(event_type, 1, payload)],
                metadata: Metadata {
                    actor: Some("datasharing".to_owned()),
                    ..Metadata::default()
                },
            })
            .await;
        match appended {
            Ok(_) => {
                tracing::info!(alert = %alert_id, "alert raised");
                Ok(())
            }
            // Raised before (a redelivered death, another death of the same household).
            Err(StoreError::Conflict { .. }) => Ok(()),
            Err(error) => Err(store_error(error)),
        }
    }
}
