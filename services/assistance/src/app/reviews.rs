//! Periodic reviews (定期复核), scheduled per category: a case in force whose last decision or
//! review is `interval` months old gets a review started, with a new verification of the
//! household's economic status (民发〔2021〕57号: 对……家庭……每年核查一次, 收入来源不固定的……
//! 每半年核查一次 — the intervals are the county's to set, here by category).
//!
//! The scheduler runs at start, before the service serves, and then periodically; each review it starts carries an
//! idempotency key naming the case and the day it fell due, so running it again (on another
//! replica, after a crash) starts nothing twice.

use minzheng_kit::{Error, aggregate::CommandContext};
use minzheng_types::add_months;
use serde::Deserialize;

use super::Assistance;
use crate::{
    case::{self, ReviewCause},
    category::Category,
    ids::CaseId,
};

/// Months between periodic reviews per category (`[assistance.reviews]`); 0 schedules none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ReviewIntervals {
    pub dibao: u32,
    pub single_person: u32,
    pub tekun: u32,
    pub low_income: u32,
}

impl Default for ReviewIntervals {
    fn default() -> Self {
        Self {
            dibao: 12,
            single_person: 12,
            tekun: 12,
            low_income: 12,
        }
    }
}

impl ReviewIntervals {
    /// The interval of `category`, when it is reviewed.
    pub fn of(&self, category: Category) -> Option<u32> {
        let months = match category {
            Category::Dibao => self.dibao,
            Category::SinglePerson => self.single_person,
            Category::Tekun => self.tekun,
            Category::LowIncome => self.low_income,
            Category::Temporary | Category::Heating => 0,
        };
        (months > 0).then_some(months)
    }
}

impl Assistance {
    /// Starts the periodic reviews due today; answers how many started.
    pub async fn start_due_reviews(&self, intervals: &ReviewIntervals) -> Result<u32, Error> {
        let today = self.today();
        let due: Vec<(CaseId, time::Date)> = {
            let view = self.view.read().await;
            view.all()
                .filter_map(|(id, case)| {
                    let category = case.application.as_ref()?.category;
                    let months = intervals.of(category)?;
                    if !case.in_force() || case.open_review.is_some() {
                        return None;
                    }
                    let due_on = add_months(case.last_review_on?, i32::try_from(months).ok()?)?;
                    (due_on <= today).then_some((*id, due_on))
                })
                .collect()
        };
        let mut started = 0;
        for (id, due_on) in due {
            let context = CommandContext::new()
                .with_idempotency_key(format!("periodic-review-{id}-{due_on}"));
            let command = case::Command::StartReview {
                cause: ReviewCause::Periodic,
                on: today,
            };
            match self.cases.execute(&id, &command, &context).await? {
                Ok(committed) if !committed.replayed && committed.position > 0 => started += 1,
                Ok(_) => {}
                Err(refusal) => tracing::info!(
                    case = %id,
                    rule = minzheng_kit::aggregate::DomainError::rule(&refusal),
                    "periodic review not started"
                ),
            }
        }
        self.view.nudge();
        Ok(started)
    }
}
